//! The filter panel and the chips above the map: date presets and pickers, the category tree
//! (category → subcategory, multi-select, all/none, search), sources, statuses and
//! municipalities. Widgets edit the app's [`Filter`] in place; the app notices the change and
//! recomputes off the UI thread.

use std::collections::BTreeSet;

use egui::{RichText, Ui};
use jiff::civil::Date;

use super::i18n::Lang;
use crate::analysis::{DatePreset, Filter};

/// A category selection that matches nothing (the user unticked everything): no real category
/// contains a NUL character.
pub const NOTHING: (&str, &str) = ("\u{0}", "\u{0}");

/// What can be chosen, from the loaded data.
#[derive(Clone, Debug, Default)]
pub struct FilterOptions {
    /// Categories with their subcategories (`""` = appeals without one), sorted.
    pub tree: Vec<(String, Vec<String>)>,
    pub sources: Vec<String>,
    pub statuses: Vec<String>,
    /// Municipality labels (`""` = outside boundaries / unknown).
    pub municipalities: Vec<String>,
    /// First and last day with appeals.
    pub first_day: Option<Date>,
    pub last_day: Option<Date>,
}

impl FilterOptions {
    /// The day presets end at: today, or the last day of the data when it ends earlier
    /// (historic data), so "7 days" is never empty for an archive.
    pub fn anchor(&self, today: Date) -> Date {
        match self.last_day {
            Some(last) if last < today => last,
            _ => today,
        }
    }

    fn all_leaves(&self) -> impl Iterator<Item = (String, String)> + '_ {
        self.tree
            .iter()
            .flat_map(|(c, subs)| subs.iter().map(move |s| (c.clone(), s.clone())))
    }
}

/// Search texts of the panel (kept between frames by the app).
#[derive(Clone, Debug, Default)]
pub struct FilterSearch {
    pub categories: String,
    pub municipalities: String,
}

/// Whether a leaf passes the category part of `filter`.
pub fn leaf_selected(filter: &Filter, category: &str, subcategory: &str) -> bool {
    (filter.categories.is_empty() && filter.subcategories.is_empty())
        || filter.categories.contains(category)
        || filter
            .subcategories
            .contains(&(category.to_owned(), subcategory.to_owned()))
}

/// Sets the category part of `filter` to exactly the `selected` leaves, in its compact form:
/// everything → no restriction; whole categories → `categories`; the rest → `subcategories`;
/// nothing → [`NOTHING`].
pub fn set_leaves(
    filter: &mut Filter,
    options: &FilterOptions,
    selected: &BTreeSet<(String, String)>,
) {
    filter.categories.clear();
    filter.subcategories.clear();
    let all: Vec<(String, String)> = options.all_leaves().collect();
    if all.iter().all(|leaf| selected.contains(leaf)) {
        return;
    }
    if selected.is_empty() {
        filter
            .subcategories
            .insert((NOTHING.0.to_owned(), NOTHING.1.to_owned()));
        return;
    }
    for (category, subs) in &options.tree {
        let chosen: Vec<&String> = subs
            .iter()
            .filter(|s| selected.contains(&(category.clone(), (*s).clone())))
            .collect();
        if !subs.is_empty() && chosen.len() == subs.len() {
            filter.categories.insert(category.clone());
        } else {
            for s in chosen {
                filter.subcategories.insert((category.clone(), s.clone()));
            }
        }
    }
}

fn selected_leaves(filter: &Filter, options: &FilterOptions) -> BTreeSet<(String, String)> {
    options
        .all_leaves()
        .filter(|(c, s)| leaf_selected(filter, c, s))
        .collect()
}

/// The value set of a filter part that matches nothing (everything unticked): no real source,
/// status or municipality name contains a NUL character.
pub const NOTHING_VALUE: &str = "\u{0}";

/// Whether `item` passes a value set (empty = all, [`NOTHING_VALUE`] = none).
pub fn value_selected(set: &BTreeSet<String>, item: &str) -> bool {
    set.is_empty() || set.contains(item)
}

/// Ticks or unticks `item` of a value set, keeping the convention: all ticked → empty set (no
/// restriction), none ticked → [`NOTHING_VALUE`].
pub fn toggle_set(set: &mut BTreeSet<String>, all: &[String], item: &str, on: bool) {
    let mut selected: BTreeSet<String> = all
        .iter()
        .filter(|x| value_selected(set, x))
        .cloned()
        .collect();
    if on {
        selected.insert(item.to_owned());
    } else {
        selected.remove(item);
    }
    set.clear();
    if selected.is_empty() {
        set.insert(NOTHING_VALUE.to_owned());
    } else if !all.iter().all(|x| selected.contains(x)) {
        *set = selected;
    }
}

/// Describes a selection for a chip: the names, or "all except …" when that is shorter.
fn describe(selected: &[String], all: &[String], t: &super::Texts) -> String {
    if selected.is_empty() {
        return t.nothing_selected.to_owned();
    }
    let excluded: Vec<&String> = all.iter().filter(|x| !selected.contains(x)).collect();
    let list = |names: &[&String]| {
        let shown: Vec<&str> = names.iter().take(3).map(|s| s.as_str()).collect();
        let more = names.len().saturating_sub(3);
        if more > 0 {
            format!("{} +{more}", shown.join(", "))
        } else {
            shown.join(", ")
        }
    };
    if !excluded.is_empty() && excluded.len() < selected.len() {
        format!("{} {}", t.all_except, list(&excluded))
    } else {
        list(&selected.iter().collect::<Vec<_>>())
    }
}

fn matches_search(text: &str, search: &str) -> bool {
    let search = search.trim().to_lowercase();
    search.is_empty() || text.to_lowercase().contains(&search)
}

/// Date presets and pickers.
pub fn dates_ui(
    ui: &mut Ui,
    lang: Lang,
    filter: &mut Filter,
    preset: &mut Option<DatePreset>,
    options: &FilterOptions,
    today: Date,
) {
    let t = lang.texts();
    let anchor = options.anchor(today);
    ui.horizontal_wrapped(|ui| {
        let chosen = &mut *preset;
        for p in DatePreset::ALL {
            let range = p.range(anchor);
            let active = range.map(|(a, b)| (Some(a), Some(b))) == Some((filter.from, filter.to))
                || (p == DatePreset::All && filter.from.is_none() && filter.to.is_none());
            if ui.selectable_label(active, t.preset(p)).clicked() {
                *chosen = Some(p);
                match range {
                    Some((from, to)) => {
                        filter.from = Some(from);
                        filter.to = Some(to);
                    }
                    None => {
                        filter.from = None;
                        filter.to = None;
                    }
                }
            }
        }
    });
    if anchor < today {
        ui.label(
            RichText::new(format!("{} {}", t.presets_anchor, lang.date(anchor)))
                .weak()
                .small(),
        );
    }
    let first = options.first_day.unwrap_or(anchor);
    ui.horizontal(|ui| {
        let mut from = filter.from.unwrap_or(first);
        let label = ui.label(t.from);
        let response = ui
            .add(
                egui_extras::DatePickerButton::new(&mut from)
                    .id_salt("filter_from")
                    .calendar_week(true)
                    .show_icon(false),
            )
            .labelled_by(label.id);
        if response.changed() {
            filter.from = Some(from);
            if filter.to.is_some_and(|to| to < from) {
                filter.to = Some(from);
            }
        }
        let mut to = filter.to.unwrap_or(anchor);
        let label = ui.label(t.to);
        let response = ui
            .add(
                egui_extras::DatePickerButton::new(&mut to)
                    .id_salt("filter_to")
                    .calendar_week(true)
                    .show_icon(false),
            )
            .labelled_by(label.id);
        if response.changed() {
            filter.to = Some(to);
            if filter.from.is_some_and(|from| from > to) {
                filter.from = Some(to);
            }
        }
    });
}

/// The category tree with search and all/none.
pub fn categories_ui(
    ui: &mut Ui,
    lang: Lang,
    filter: &mut Filter,
    options: &FilterOptions,
    search: &mut String,
) {
    let t = lang.texts();
    ui.horizontal(|ui| {
        let label = ui.label(t.search_label);
        ui.add(
            egui::TextEdit::singleline(search)
                .hint_text(t.search)
                .desired_width(150.0),
        )
        .labelled_by(label.id);
        if ui.small_button(t.all).clicked() {
            filter.categories.clear();
            filter.subcategories.clear();
        }
        if ui.small_button(t.none).clicked() {
            set_leaves(filter, options, &BTreeSet::new());
        }
    });
    let mut selected = selected_leaves(filter, options);
    let mut changed = false;
    for (category, subs) in &options.tree {
        let visible_subs: Vec<&String> = subs
            .iter()
            .filter(|s| matches_search(category, search) || matches_search(s, search))
            .collect();
        if visible_subs.is_empty() {
            continue;
        }
        let n_selected = subs
            .iter()
            .filter(|s| selected.contains(&(category.clone(), (*s).clone())))
            .count();
        let mut all_on = n_selected == subs.len();
        let id = ui.make_persistent_id(("category", category));
        egui::collapsing_header::CollapsingState::load_with_default_open(
            ui.ctx(),
            id,
            !search.trim().is_empty(),
        )
        .show_header(ui, |ui| {
            let checkbox = egui::Checkbox::new(&mut all_on, category.as_str())
                .indeterminate(n_selected > 0 && n_selected < subs.len());
            if ui.add(checkbox).changed() {
                for s in subs {
                    let leaf = (category.clone(), s.clone());
                    if all_on {
                        selected.insert(leaf)
                    } else {
                        selected.remove(&leaf)
                    };
                }
                changed = true;
            }
        })
        .body(|ui| {
            for s in visible_subs {
                let leaf = (category.clone(), s.clone());
                let mut on = selected.contains(&leaf);
                let text = if s.is_empty() {
                    t.no_subcategory
                } else {
                    s.as_str()
                };
                if ui.checkbox(&mut on, text).changed() {
                    if on {
                        selected.insert(leaf)
                    } else {
                        selected.remove(&leaf)
                    };
                    changed = true;
                }
            }
        });
    }
    if changed {
        set_leaves(filter, options, &selected);
    }
}

/// Checkboxes over a set of names (empty set = all).
pub fn set_ui(
    ui: &mut Ui,
    lang: Lang,
    set: &mut BTreeSet<String>,
    all: &[String],
    visible: &[String],
    display: impl Fn(&str) -> String,
) {
    let t = lang.texts();
    ui.horizontal(|ui| {
        if ui.small_button(t.all).clicked() {
            set.clear();
        }
        if ui.small_button(t.none).clicked() {
            set.clear();
            set.insert(NOTHING_VALUE.to_owned());
        }
    });
    for item in visible {
        let mut on = value_selected(set, item);
        if ui.checkbox(&mut on, display(item)).changed() {
            toggle_set(set, all, item, on);
        }
    }
}

/// The whole filter panel.
pub fn filter_panel_ui(
    ui: &mut Ui,
    lang: Lang,
    filter: &mut Filter,
    preset: &mut Option<DatePreset>,
    options: &FilterOptions,
    search: &mut FilterSearch,
    today: Date,
) {
    let t = lang.texts();
    egui::CollapsingHeader::new(t.period)
        .default_open(true)
        .show(ui, |ui| {
            dates_ui(ui, lang, filter, preset, options, today);
        });
    egui::CollapsingHeader::new(t.categories)
        .default_open(false)
        .show(ui, |ui| {
            categories_ui(ui, lang, filter, options, &mut search.categories);
        });
    egui::CollapsingHeader::new(t.sources)
        .default_open(false)
        .show(ui, |ui| {
            set_ui(
                ui,
                lang,
                &mut filter.sources,
                &options.sources,
                &options.sources,
                |s| t.source(s).to_owned(),
            );
        });
    egui::CollapsingHeader::new(t.statuses)
        .default_open(false)
        .show(ui, |ui| {
            set_ui(
                ui,
                lang,
                &mut filter.statuses,
                &options.statuses,
                &options.statuses,
                |s| t.status(s).to_owned(),
            );
        });
    egui::CollapsingHeader::new(t.municipalities)
        .default_open(false)
        .show(ui, |ui| {
            let label = ui.label(t.search_label);
            ui.add(
                egui::TextEdit::singleline(&mut search.municipalities)
                    .hint_text(t.search)
                    .desired_width(180.0),
            )
            .labelled_by(label.id);
            let visible: Vec<String> = options
                .municipalities
                .iter()
                .filter(|m| matches_search(m, &search.municipalities))
                .cloned()
                .collect();
            set_ui(
                ui,
                lang,
                &mut filter.municipalities,
                &options.municipalities,
                &visible,
                |m| {
                    if m.is_empty() {
                        t.unknown_municipality.to_owned()
                    } else {
                        m.to_owned()
                    }
                },
            );
        });
}

/// A value set of the filter with its name, its choices and how to show them.
type ValuePart<'a> = (
    &'a str,
    &'a mut BTreeSet<String>,
    &'a [String],
    &'a dyn Fn(&str) -> String,
);

/// One removable chip.
fn chip(ui: &mut Ui, text: String, hint: &str) -> bool {
    ui.add(
        egui::Button::new(format!("{text}  ×"))
            .corner_radius(10.0)
            .small(),
    )
    .on_hover_text(hint)
    .clicked()
}

/// The active filter as removable chips, with a reset button. Returns true when something was
/// removed.
pub fn chips_ui(ui: &mut Ui, lang: Lang, filter: &mut Filter, options: &FilterOptions) {
    let t = lang.texts();
    let chip_ = |ui: &mut Ui, text: String| chip(ui, text, t.remove);
    let selected_of =
        |set: &BTreeSet<String>, all: &[String], display: &dyn Fn(&str) -> String| -> Vec<String> {
            all.iter()
                .filter(|x| value_selected(set, x))
                .map(|x| display(x))
                .collect()
        };
    ui.horizontal_wrapped(|ui| {
        if filter.from.is_some() || filter.to.is_some() {
            let text = format!(
                "{}: {} – {}",
                t.period,
                filter.from.map_or("…".to_owned(), |d| lang.date(d)),
                filter.to.map_or("…".to_owned(), |d| lang.date(d))
            );
            if chip_(ui, text) {
                filter.from = None;
                filter.to = None;
            }
        }
        if !filter.categories.is_empty() || !filter.subcategories.is_empty() {
            // Whole categories by name, partly selected ones as "category / subcategory".
            let mut names: Vec<String> = Vec::new();
            let all_names: Vec<String> = options.tree.iter().map(|(c, _)| c.clone()).collect();
            for (category, subs) in &options.tree {
                let on: Vec<&String> = subs
                    .iter()
                    .filter(|s| leaf_selected(filter, category, s))
                    .collect();
                if !subs.is_empty() && on.len() == subs.len() {
                    names.push(category.clone());
                } else {
                    names.extend(on.iter().map(|s| {
                        if s.is_empty() {
                            format!("{category} / {}", t.no_subcategory)
                        } else {
                            format!("{category} / {s}")
                        }
                    }));
                }
            }
            let text = format!("{}: {}", t.categories, describe(&names, &all_names, t));
            if chip_(ui, text) {
                filter.categories.clear();
                filter.subcategories.clear();
            }
        }
        let parts: [ValuePart<'_>; 3] = [
            (
                t.sources,
                &mut filter.sources,
                &options.sources,
                &|s: &str| t.source(s).to_owned(),
            ),
            (
                t.statuses,
                &mut filter.statuses,
                &options.statuses,
                &|s: &str| t.status(s).to_owned(),
            ),
            (
                t.municipalities,
                &mut filter.municipalities,
                &options.municipalities,
                &|m: &str| {
                    if m.is_empty() {
                        t.unknown_municipality.to_owned()
                    } else {
                        m.to_owned()
                    }
                },
            ),
        ];
        for (name, set, all, display) in parts {
            if set.is_empty() {
                continue;
            }
            let selected = selected_of(set, all, display);
            let all_shown: Vec<String> = all.iter().map(|x| display(x)).collect();
            if chip_(
                ui,
                format!("{name}: {}", describe(&selected, &all_shown, t)),
            ) {
                set.clear();
            }
        }
        if !filter.is_empty() && ui.button(t.reset).clicked() {
            *filter = Filter::default();
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options() -> FilterOptions {
        FilterOptions {
            tree: vec![
                (
                    "ЖКХ".into(),
                    vec!["Водоснабжение".into(), "Отопление".into()],
                ),
                ("Дороги".into(), vec!["".into()]),
            ],
            ..FilterOptions::default()
        }
    }

    #[test]
    fn leaves_are_stored_compactly() {
        let o = options();
        let mut f = Filter::default();
        let mut sel: BTreeSet<(String, String)> = o.all_leaves().collect();
        set_leaves(&mut f, &o, &sel);
        assert!(f.is_empty(), "everything selected is no restriction");
        sel.remove(&("ЖКХ".into(), "Отопление".into()));
        set_leaves(&mut f, &o, &sel);
        assert_eq!(f.categories, BTreeSet::from(["Дороги".to_owned()]));
        assert_eq!(
            f.subcategories,
            BTreeSet::from([("ЖКХ".to_owned(), "Водоснабжение".to_owned())])
        );
        assert!(leaf_selected(&f, "ЖКХ", "Водоснабжение"));
        assert!(!leaf_selected(&f, "ЖКХ", "Отопление"));
        set_leaves(&mut f, &o, &BTreeSet::new());
        assert!(
            !leaf_selected(&f, "Дороги", ""),
            "nothing selected matches nothing"
        );
    }

    #[test]
    fn unticking_one_of_all_makes_the_set_explicit() {
        let all = vec!["pos".to_owned(), "social".to_owned(), "other".to_owned()];
        let mut set = BTreeSet::new();
        toggle_set(&mut set, &all, "social", false);
        assert_eq!(set, BTreeSet::from(["pos".to_owned(), "other".to_owned()]));
        toggle_set(&mut set, &all, "social", true);
        assert!(set.is_empty(), "all ticked again is no restriction");
        for item in &all {
            toggle_set(&mut set, &all, item, false);
        }
        assert_eq!(
            set,
            BTreeSet::from([NOTHING_VALUE.to_owned()]),
            "none ticked matches nothing"
        );
        assert!(!all.iter().any(|x| value_selected(&set, x)));
        toggle_set(&mut set, &all, "pos", true);
        assert_eq!(set, BTreeSet::from(["pos".to_owned()]));
    }

    #[test]
    fn chips_describe_the_shorter_way() {
        let t = Lang::En.texts();
        let all: Vec<String> = ["a", "b", "c", "d", "e"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(describe(&all[..1], &all, t), "a");
        assert_eq!(describe(&all[..4], &all, t), "all except e");
        assert_eq!(describe(&[], &all, t), "nothing selected");
    }
}
