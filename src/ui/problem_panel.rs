//! The problem-map panel: the problem profile (with its editor), the zoning and the statistics
//! settings, the ranked problem list (trend, counts, incidents, last appeal, open and overdue,
//! a sparkline, the before/after flag) and the card of the selected zone with its appeals.
//! It edits [`ProblemPrefs`] in place and pushes [`Command`]s; it never computes.

use std::collections::BTreeSet;

use egui::{RichText, Ui};
use egui_extras::{Column, TableBuilder};

use super::command::Command;
use super::i18n::Lang;
use super::problem_texts::ProblemTexts;
use super::theme;
use crate::analysis::hotspot::{Change, HotClass};
use crate::analysis::problems::{
    Emerging, ProblemMap, RankBy, SliceKind, WeightsKind, ZoneKind, ZoneStats, Zones, ranked,
};
use crate::analysis::profiles::Profile;
use crate::data::Appeals;

/// What the problem map remembers between runs.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct ProblemPrefs {
    /// The problem map is the map's mode (else the heat map).
    pub active: bool,
    pub profile_id: String,
    /// Narrow the profile to garden communities.
    pub snt: bool,
    pub zones: ZoneKind,
    /// Hexagon spacing, km (`None`: from the data's extent).
    pub cell_km: Option<f64>,
    pub weights: WeightsKind,
    pub fdr: bool,
    pub slice: SliceKind,
    pub intervention: Option<jiff::civil::Date>,
    pub incident_window_h: f64,
    pub deadline_days: f64,
    pub rank: RankBy,
}

impl Default for ProblemPrefs {
    fn default() -> Self {
        Self {
            active: false,
            profile_id: "power-outages".into(),
            snt: false,
            zones: ZoneKind::Hexagons,
            cell_km: None,
            weights: WeightsKind::Distance { km: None },
            fdr: false,
            slice: SliceKind::Month,
            intervention: None,
            incident_window_h: 48.0,
            deadline_days: 10.0,
            rank: RankBy::ZScore,
        }
    }
}

/// Panel state that is not remembered: the profile being edited, the date being typed.
#[derive(Clone, Debug, Default)]
pub struct ProblemPanelState {
    pub draft: Option<Profile>,
}

/// What the panel shows.
pub struct ProblemPanelInput<'a> {
    pub profiles: &'a [Profile],
    /// Ids of the user's own profiles (deletable; a built-in id here is an override).
    pub user_ids: &'a BTreeSet<String>,
    /// The computed map with its zones, when there is one.
    pub map: Option<(&'a ProblemMap, &'a Zones, &'a [Vec<u32>])>,
    pub appeals: Option<&'a Appeals>,
    pub busy: bool,
    /// Categories with their subcategories, for the profile editor.
    pub tree: &'a [(String, Vec<String>)],
    /// Municipality labels, for the profile editor's place filter.
    pub municipalities: &'a [String],
    pub selected_zone: Option<u32>,
}

fn trend_text_color(e: Emerging) -> egui::Color32 {
    theme::trend_color(
        matches!(e, Emerging::New | Emerging::Intensifying),
        matches!(e, Emerging::Diminishing | Emerging::Historical),
    )
}

/// A small line of the zone's appeals per slice; slices where it was a hot spot are dots.
pub fn sparkline(ui: &mut Ui, series: &[u32], hot: &[bool]) -> egui::Response {
    let (rect, response) = ui.allocate_exact_size(theme::SPARKLINE_SIZE, egui::Sense::hover());
    let max = series.iter().copied().max().unwrap_or(0).max(1) as f32;
    let n = series.len().max(2) - 1;
    let point = |k: usize, v: u32| {
        egui::pos2(
            rect.left() + rect.width() * k as f32 / n as f32,
            rect.bottom() - 1.0 - (rect.height() - 2.0) * v as f32 / max,
        )
    };
    let points: Vec<egui::Pos2> = series
        .iter()
        .enumerate()
        .map(|(k, v)| point(k, *v))
        .collect();
    let painter = ui.painter_at(rect.expand(2.0));
    painter.add(egui::Shape::line(
        points.clone(),
        egui::Stroke::new(1.2, theme::SPARKLINE),
    ));
    for (p, h) in points.iter().zip(hot) {
        if *h {
            painter.circle_filled(*p, 1.8, theme::SPARKLINE_HOT);
        }
    }
    response
}

fn settings_ui(
    ui: &mut Ui,
    pt: &ProblemTexts,
    lang: Lang,
    prefs: &mut ProblemPrefs,
    state: &mut ProblemPanelState,
    input: &ProblemPanelInput<'_>,
    commands: &mut Vec<Command>,
) {
    let english = lang == Lang::En;
    let current = input
        .profiles
        .iter()
        .find(|p| p.id == prefs.profile_id)
        .map_or(prefs.profile_id.clone(), |p| {
            p.display_name(english).to_owned()
        });
    egui::Grid::new("problem_settings")
        .num_columns(2)
        .spacing([8.0, 4.0])
        .show(ui, |ui| {
            let label = ui.label(pt.profile);
            egui::ComboBox::from_id_salt("problem_profile")
                .selected_text(current)
                .width(220.0)
                .show_ui(ui, |ui| {
                    for p in input.profiles {
                        ui.selectable_value(
                            &mut prefs.profile_id,
                            p.id.clone(),
                            p.display_name(english),
                        );
                    }
                })
                .response
                .labelled_by(label.id);
            ui.end_row();
            ui.label("");
            ui.checkbox(&mut prefs.snt, pt.in_garden_communities);
            ui.end_row();
            let label = ui.label(pt.zones);
            ui.horizontal(|ui| {
                egui::ComboBox::from_id_salt("problem_zones")
                    .selected_text(pt.zone_kind(prefs.zones))
                    .show_ui(ui, |ui| {
                        for k in ZoneKind::ALL {
                            ui.selectable_value(&mut prefs.zones, k, pt.zone_kind(k));
                        }
                    })
                    .response
                    .labelled_by(label.id);
                if prefs.zones == ZoneKind::Hexagons {
                    let mut auto = prefs.cell_km.is_none();
                    if ui.checkbox(&mut auto, pt.auto).changed() {
                        prefs.cell_km = if auto { None } else { Some(2.0) };
                    }
                    if let Some(km) = prefs.cell_km.as_mut() {
                        ui.add(
                            egui::DragValue::new(km)
                                .range(0.1..=50.0)
                                .speed(0.1)
                                .suffix(" km"),
                        )
                        .on_hover_text(pt.cell_km);
                    }
                }
            });
            ui.end_row();
            ui.label(pt.neighbours);
            ui.horizontal(|ui| {
                let nearest = matches!(prefs.weights, WeightsKind::Nearest { .. });
                if ui.radio(!nearest, pt.within_km).clicked() && nearest {
                    prefs.weights = WeightsKind::Distance { km: None };
                }
                if ui.radio(nearest, pt.nearest).clicked() && !nearest {
                    prefs.weights = WeightsKind::Nearest { k: 8 };
                }
                match &mut prefs.weights {
                    WeightsKind::Distance { km } => {
                        let mut auto = km.is_none();
                        if ui.checkbox(&mut auto, pt.auto).changed() {
                            *km = if auto { None } else { Some(5.0) };
                        }
                        if let Some(d) = km.as_mut() {
                            ui.add(egui::DragValue::new(d).range(0.1..=500.0).speed(0.1));
                        }
                    }
                    WeightsKind::Nearest { k } => {
                        ui.add(egui::DragValue::new(k).range(1..=64));
                    }
                }
            });
            ui.end_row();
            ui.label(pt.slices);
            ui.horizontal(|ui| {
                for s in [SliceKind::Week, SliceKind::Month] {
                    ui.radio_value(&mut prefs.slice, s, pt.slice(s));
                }
            });
            ui.end_row();
            let label = ui.label(pt.intervention);
            ui.horizontal(|ui| {
                let mut on = prefs.intervention.is_some();
                if ui
                    .checkbox(&mut on, "")
                    .on_hover_text(pt.intervention_hint)
                    .labelled_by(label.id)
                    .changed()
                {
                    // Start in the middle of the period on screen.
                    let middle = input
                        .map
                        .and_then(|(m, _, _)| m.period)
                        .map(|(a, b)| {
                            let days = a.until(b).map_or(0, |s| s.get_days()) / 2;
                            a.checked_add(jiff::Span::new().days(days)).unwrap_or(a)
                        })
                        .unwrap_or_else(|| jiff::Zoned::now().date());
                    prefs.intervention = on.then_some(middle);
                }
                if let Some(date) = prefs.intervention.as_mut() {
                    ui.add(
                        egui_extras::DatePickerButton::new(date)
                            .id_salt("problem_intervention")
                            .calendar_week(true)
                            .show_icon(false),
                    )
                    .labelled_by(label.id);
                }
            });
            ui.end_row();
        });
    egui::CollapsingHeader::new(RichText::new("⚙").small())
        .id_salt("problem_more")
        .show(ui, |ui| {
            ui.checkbox(&mut prefs.fdr, pt.fdr);
            ui.horizontal(|ui| {
                ui.add(
                    egui::DragValue::new(&mut prefs.incident_window_h)
                        .range(0.0..=720.0)
                        .speed(1.0),
                );
                ui.label(pt.window_h);
                ui.add(
                    egui::DragValue::new(&mut prefs.deadline_days)
                        .range(0.0..=365.0)
                        .speed(1.0),
                );
                ui.label(pt.deadline_days);
            });
        });
    profile_editor_ui(ui, pt, lang, prefs, state, input, commands);
}

fn profile_editor_ui(
    ui: &mut Ui,
    pt: &ProblemTexts,
    lang: Lang,
    prefs: &ProblemPrefs,
    state: &mut ProblemPanelState,
    input: &ProblemPanelInput<'_>,
    commands: &mut Vec<Command>,
) {
    let open = state.draft.is_some();
    let mut toggled = false;
    ui.horizontal(|ui| {
        if ui.selectable_label(open, pt.edit_profile).clicked() {
            toggled = true;
        }
    });
    if toggled {
        state.draft = if open {
            None
        } else {
            input
                .profiles
                .iter()
                .find(|p| p.id == prefs.profile_id)
                .cloned()
        };
    }
    let Some(draft) = state.draft.as_mut() else {
        return;
    };
    egui::Frame::group(ui.style()).show(ui, |ui| {
        egui::Grid::new("profile_editor")
            .num_columns(2)
            .show(ui, |ui| {
                ui.label("id");
                ui.label(RichText::new(&draft.id).monospace());
                ui.end_row();
                let label = ui.label(pt.profile_name);
                ui.text_edit_singleline(&mut draft.name)
                    .labelled_by(label.id);
                ui.end_row();
                let label = ui.label(pt.profile_name_en);
                ui.text_edit_singleline(&mut draft.name_en)
                    .labelled_by(label.id);
                ui.end_row();
            });
        ui.checkbox(&mut draft.snt, pt.in_garden_communities);
        ui.label(RichText::new(pt.profile_categories).strong());
        egui::ScrollArea::vertical()
            .id_salt("profile_categories")
            .max_height(180.0)
            .show(ui, |ui| {
                for (category, subs) in input.tree {
                    let mut whole = draft.categories.contains(category);
                    ui.horizontal(|ui| {
                        if ui.checkbox(&mut whole, category).changed() {
                            if whole {
                                draft.categories.insert(category.clone());
                            } else {
                                draft.categories.remove(category);
                            }
                        }
                    });
                    if !whole {
                        for sub in subs.iter().filter(|s| !s.is_empty()) {
                            let key = (category.clone(), sub.clone());
                            let mut on = draft.subcategories.contains(&key);
                            ui.horizontal(|ui| {
                                ui.add_space(20.0);
                                if ui.checkbox(&mut on, sub).changed() {
                                    if on {
                                        draft.subcategories.insert(key);
                                    } else {
                                        draft.subcategories.remove(&key);
                                    }
                                }
                            });
                        }
                    }
                }
            });
        egui::CollapsingHeader::new(format!(
            "{} ({})",
            pt.profile_places,
            if draft.municipalities.is_empty() {
                pt.everywhere.to_owned()
            } else {
                draft.municipalities.len().to_string()
            }
        ))
        .id_salt("profile_places")
        .show(ui, |ui| {
            egui::ScrollArea::vertical()
                .id_salt("profile_places_scroll")
                .max_height(140.0)
                .show(ui, |ui| {
                    for m in input.municipalities.iter().filter(|m| !m.is_empty()) {
                        let mut on = draft.municipalities.contains(m);
                        if ui.checkbox(&mut on, m).changed() {
                            if on {
                                draft.municipalities.insert(m.clone());
                            } else {
                                draft.municipalities.remove(m);
                            }
                        }
                    }
                });
        });
        ui.horizontal(|ui| {
            if ui.button(pt.save_profile).clicked() {
                commands.push(Command::SaveProfile(draft.clone(), false));
            }
            if ui.button(pt.save_as_new).clicked() {
                commands.push(Command::SaveProfile(draft.clone(), true));
            }
            if input.user_ids.contains(&draft.id) && ui.button(pt.delete_profile).clicked() {
                commands.push(Command::DeleteProfile(draft.id.clone()));
            }
        });
        let _ = lang;
    });
}

fn zone_name(zones: &Zones, zone: u32, near: &str) -> String {
    zones
        .zones
        .get(zone as usize)
        .map(|z| z.display_name(near))
        .unwrap_or_default()
}

fn change_text(pt: &ProblemTexts, s: &ZoneStats) -> (String, egui::Color32) {
    match s.change {
        Some(c) => (
            pt.change(c).to_owned(),
            theme::trend_color(c == Change::Worse, c == Change::Improved),
        ),
        None => (String::new(), theme::trend_color(false, false)),
    }
}

/// The tooltip of a zone: every figure, in words.
pub fn zone_tooltip(lang: Lang, map: &ProblemMap, zones: &Zones, zone: u32) -> String {
    let pt = lang.problem_texts();
    let t = lang.texts();
    let Some(s) = map.zones.get(zone as usize) else {
        return String::new();
    };
    let mut lines = vec![zone_name(zones, zone, pt.near)];
    lines.push(format!(
        "{}: {} · {}: {}",
        pt.col_appeals,
        lang.number(s.appeals),
        pt.col_incidents,
        lang.number(s.incidents)
    ));
    if let Some(g) = s.gi {
        lines.push(format!(
            "Gi* z = {} · {} = {} · {}",
            lang.decimal(g.z, 2),
            pt.p_value,
            lang.decimal(g.p, 4),
            pt.class(s.class)
        ));
    }
    lines.push(format!(
        "{}: {} ({} z = {}, {} = {}) · {} {}/{}",
        pt.col_trend,
        pt.emerging(s.emerging),
        pt.trend_test,
        lang.decimal(s.trend.z, 2),
        pt.p_value,
        lang.decimal(s.trend.p, 3),
        pt.hot_in_slices,
        s.hot_slices.iter().filter(|h| **h).count(),
        s.hot_slices.len()
    ));
    lines.push(format!(
        "{}: {} · {}: {}{}",
        pt.col_open,
        lang.number(s.open),
        pt.col_overdue,
        lang.number(s.overdue),
        s.median_days_to_answer
            .map(|d| format!(" · {}: {}", pt.median_days, lang.decimal(d, 1)))
            .unwrap_or_default()
    ));
    if let Some(d) = s.last_day {
        lines.push(format!("{}: {}", pt.col_last, lang.date(d)));
    }
    if let Some(r) = &s.intervention {
        lines.push(format!(
            "{}: {} / {} ({} {} → {}) · {} {} [{}; {}] · {}",
            pt.before_after,
            lang.number(r.before),
            lang.number(r.after),
            pt.per_day,
            lang.decimal(r.before as f64 / r.before_days.max(1.0), 2),
            lang.decimal(r.after as f64 / r.after_days.max(1.0), 2),
            pt.rate_ratio,
            r.ratio.map_or("—".to_owned(), |x| lang.decimal(x, 2)),
            lang.decimal(r.low, 2),
            if r.high.is_finite() {
                lang.decimal(r.high, 2)
            } else {
                "∞".to_owned()
            },
            s.change.map_or("", |c| pt.change(c))
        ));
    }
    let _ = t;
    lines.join("\n")
}

/// Draws the panel.
pub fn problem_panel_ui(
    ui: &mut Ui,
    lang: Lang,
    prefs: &mut ProblemPrefs,
    state: &mut ProblemPanelState,
    input: &ProblemPanelInput<'_>,
    commands: &mut Vec<Command>,
) {
    let pt = lang.problem_texts();
    ui.heading(pt.title);
    settings_ui(ui, pt, lang, prefs, state, input, commands);
    ui.separator();
    let Some((map, zones, zone_rows)) = input.map else {
        if input.busy {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label(pt.computing);
            });
        }
        return;
    };
    ui.horizontal(|ui| {
        ui.label(
            RichText::new(format!(
                "{} {} · {} {}",
                lang.number(map.appeals - map.unzoned),
                pt.summary,
                lang.number(map.unzoned),
                pt.not_in_zone
            ))
            .small(),
        );
        if input.busy {
            ui.spinner();
        }
    });
    if map.appeals == 0 {
        ui.label(pt.nothing);
        return;
    }
    ui.horizontal(|ui| {
        let label = ui.label(pt.rank_by);
        egui::ComboBox::from_id_salt("problem_rank")
            .selected_text(pt.rank(prefs.rank))
            .show_ui(ui, |ui| {
                for r in RankBy::ALL {
                    ui.selectable_value(&mut prefs.rank, r, pt.rank(r));
                }
            })
            .response
            .labelled_by(label.id);
    });
    if let Some(zone) = input.selected_zone {
        zone_card_ui(
            ui,
            lang,
            map,
            zones,
            zone_rows,
            input.appeals,
            zone,
            commands,
        );
        ui.separator();
    }
    let order = ranked(map, prefs.rank);
    let row_height = theme::SPARKLINE_SIZE.y + 4.0;
    let with_change = map.zones.iter().any(|z| z.intervention.is_some());
    let mut titles = vec![
        pt.col_zone,
        pt.col_trend,
        pt.col_appeals_incidents,
        pt.col_z,
        pt.col_last,
        pt.col_open_overdue,
        pt.col_series,
    ];
    if with_change {
        titles.push(pt.col_change);
    }
    let mut table = TableBuilder::new(ui)
        .id_salt("problem_list")
        .striped(true)
        .resizable(true)
        .cell_layout(egui::Layout::left_to_right(egui::Align::Center))
        .column(Column::initial(170.0).at_least(100.0).clip(true))
        .column(Column::auto())
        .column(Column::auto())
        .column(Column::auto())
        .column(Column::auto())
        .column(Column::auto())
        .column(Column::exact(theme::SPARKLINE_SIZE.x + 4.0));
    if with_change {
        table = table.column(Column::auto());
    }
    table
        .header(20.0, |mut header| {
            for title in &titles {
                header.col(|ui| {
                    ui.strong(*title);
                });
            }
        })
        .body(|body| {
            body.rows(row_height, order.len(), |mut row| {
                let Some(s) = order.get(row.index()).and_then(|&k| map.zones.get(k)) else {
                    return;
                };
                let selected = input.selected_zone == Some(s.zone);
                row.col(|ui| {
                    let name = zone_name(zones, s.zone, pt.near);
                    let r = ui
                        .add(egui::Button::selectable(selected, name).truncate())
                        .on_hover_ui(|ui| {
                            ui.label(zone_tooltip(lang, map, zones, s.zone));
                        });
                    if r.clicked() {
                        if selected {
                            commands.push(Command::SelectZone(None));
                        } else {
                            commands.push(Command::SelectZone(Some(s.zone)));
                            commands.push(Command::ZoomToZone(s.zone));
                        }
                    }
                });
                row.col(|ui| {
                    ui.label(
                        RichText::new(pt.emerging(s.emerging)).color(trend_text_color(s.emerging)),
                    );
                });
                row.col(|ui| {
                    ui.label(format!(
                        "{} / {}",
                        lang.number(s.appeals),
                        lang.number(s.incidents)
                    ));
                });
                row.col(|ui| {
                    let text = s.gi.map_or("—".to_owned(), |g| lang.decimal(g.z, 2));
                    let (rect, _) =
                        ui.allocate_exact_size(egui::vec2(10.0, 10.0), egui::Sense::hover());
                    ui.painter().rect_filled(
                        rect,
                        2.0,
                        theme::hot_spot_color(s.class.gi_bin(), 0xFF),
                    );
                    ui.label(text).on_hover_text(pt.class(s.class));
                });
                row.col(|ui| {
                    ui.label(s.last_day.map(|d| lang.date(d)).unwrap_or_default());
                });
                row.col(|ui| {
                    ui.label(format!(
                        "{} / {}",
                        lang.number(s.open),
                        lang.number(s.overdue)
                    ));
                });
                row.col(|ui| {
                    sparkline(ui, &s.series, &s.hot_slices);
                });
                if with_change {
                    row.col(|ui| {
                        let (text, color) = change_text(pt, s);
                        ui.label(RichText::new(text).color(color));
                    });
                }
            });
        });
}

#[allow(clippy::too_many_arguments)]
fn zone_card_ui(
    ui: &mut Ui,
    lang: Lang,
    map: &ProblemMap,
    zones: &Zones,
    zone_rows: &[Vec<u32>],
    appeals: Option<&Appeals>,
    zone: u32,
    commands: &mut Vec<Command>,
) {
    let pt = lang.problem_texts();
    let t = lang.texts();
    ui.horizontal(|ui| {
        ui.strong(zone_name(zones, zone, pt.near));
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            if ui.button(pt.close).clicked() {
                commands.push(Command::SelectZone(None));
            }
            if ui.button(pt.zoom_to_zone).clicked() {
                commands.push(Command::ZoomToZone(zone));
            }
        });
    });
    for line in zone_tooltip(lang, map, zones, zone).lines().skip(1) {
        ui.add(egui::Label::new(RichText::new(line).small()).truncate());
    }
    let Some(rows) = zone_rows.get(zone as usize) else {
        return;
    };
    let Some(appeals) = appeals else {
        return;
    };
    ui.label(
        RichText::new(format!(
            "{} ({})",
            pt.zone_appeals,
            lang.number(rows.len() as u64)
        ))
        .strong(),
    );
    const SHOWN: usize = 50;
    egui::ScrollArea::vertical()
        .id_salt("zone_appeals")
        .max_height(200.0)
        .show(ui, |ui| {
            for &i in rows.iter().take(SHOWN) {
                let i = i as usize;
                let when = appeals
                    .received
                    .get(i)
                    .copied()
                    .flatten()
                    .map(|d| d.strftime("%Y-%m-%d %H:%M").to_string())
                    .unwrap_or_default();
                let status = appeals
                    .status
                    .get(i)
                    .map(|&s| t.status(appeals.statuses.name(s)).to_owned())
                    .unwrap_or_default();
                let place = appeals
                    .address
                    .get(i)
                    .copied()
                    .flatten()
                    .map(|a| appeals.addresses.name(a).to_owned())
                    .or_else(|| {
                        appeals
                            .settlement
                            .get(i)
                            .copied()
                            .flatten()
                            .map(|s| appeals.settlements.name(s).to_owned())
                    })
                    .unwrap_or_else(|| t.not_given.to_owned());
                let source = appeals
                    .source
                    .get(i)
                    .map(|&s| t.source(appeals.sources.name(s)).to_owned())
                    .unwrap_or_default();
                ui.add(
                    egui::Label::new(
                        RichText::new(format!("{when} · {source} · {status} · {place}")).small(),
                    )
                    .truncate(),
                );
            }
            if rows.len() > SHOWN {
                ui.label(
                    RichText::new(format!(
                        "… {} {}",
                        pt.more_appeals,
                        lang.number((rows.len() - SHOWN) as u64)
                    ))
                    .weak(),
                );
            }
        });
}

/// The legend of the problem layer: the seven Gi* classes with their zone counts.
pub fn problem_legend_ui(ui: &mut Ui, lang: Lang, map: &ProblemMap) {
    let pt = lang.problem_texts();
    ui.label(RichText::new(pt.legend_title).strong());
    for class in HotClass::ALL.iter().rev() {
        let n = map
            .zones
            .iter()
            .filter(|z| z.class == *class && (z.appeals > 0 || class.gi_bin() != 0))
            .count();
        ui.horizontal(|ui| {
            let (rect, _) = ui.allocate_exact_size(egui::vec2(14.0, 14.0), egui::Sense::hover());
            ui.painter()
                .rect_filled(rect, 2.0, theme::hot_spot_color(class.gi_bin(), 0xFF));
            ui.label(format!("{} ({})", pt.class(*class), lang.number(n as u64)));
        });
    }
    let weights = match (map.distance_km, map.k) {
        (Some(d), _) => format!("{} {}", pt.within_km, lang.decimal(d, 1)),
        (_, Some(k)) => format!("{} {k}", pt.nearest),
        _ => String::new(),
    };
    ui.label(
        RichText::new(format!("{}: {weights}", pt.neighbours))
            .small()
            .weak(),
    );
}
