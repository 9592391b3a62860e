//! The widgets of a comparison of two periods: the bar above the map (mode, period A, what
//! period B is), the label over each map of the split view (its letter, period in words and
//! total), and the legend (the shared scale of both maps, or the difference on a diverging
//! ramp with zero in the middle). Aggregates only.

use egui::{RichText, Ui};
use jiff::civil::Date;

use super::command::Command;
use super::i18n::Lang;
use super::theme;
use crate::analysis::Metric;
use crate::analysis::compare::{CompareMode, CompareSettings};

/// The bar above the map in a comparison: the mode (a command), period A (edited in
/// `settings`) and period B (the filter's).
pub fn compare_bar_ui(
    ui: &mut Ui,
    lang: Lang,
    settings: &mut CompareSettings,
    periods: Option<((Date, Date), (Date, Date))>,
    busy: bool,
    commands: &mut Vec<Command>,
) {
    let t = lang.texts();
    ui.horizontal_wrapped(|ui| {
        ui.label(RichText::new(t.compare_menu).strong());
        for mode in CompareMode::ALL {
            let label = mode_label(lang, mode);
            if ui.selectable_label(settings.mode == mode, label).clicked() {
                commands.push(Command::SetCompare(mode));
            }
        }
        let Some((a, b)) = periods else { return };
        ui.separator();
        let mut from = a.0;
        let mut to = a.1;
        let label = ui.label(RichText::new(t.period_a).strong());
        let from_response = ui
            .add(
                egui_extras::DatePickerButton::new(&mut from)
                    .id_salt("compare_a_from")
                    .calendar_week(true)
                    .show_icon(false),
            )
            .labelled_by(label.id);
        ui.label("–");
        let to_response = ui
            .add(
                egui_extras::DatePickerButton::new(&mut to)
                    .id_salt("compare_a_to")
                    .calendar_week(true)
                    .show_icon(false),
            )
            .labelled_by(label.id);
        if from_response.changed() || to_response.changed() {
            if from_response.changed() && to < from {
                to = from;
            }
            if to_response.changed() && from > to {
                from = to;
            }
            settings.a_from = Some(from);
            settings.a_to = Some(to);
        }
        let is_default = settings.a_from.is_none() || settings.a_to.is_none();
        if ui
            .selectable_label(is_default, t.compare_previous)
            .clicked()
        {
            settings.a_from = None;
            settings.a_to = None;
        }
        ui.separator();
        ui.label(RichText::new(t.period_b).strong());
        ui.label(format!(
            "{} ({})",
            super::describe::period_in_words(Some(b.0), Some(b.1), lang),
            t.period_b_is_filter
        ));
        if busy {
            ui.spinner();
        }
    });
}

/// The menu name of a mode.
pub fn mode_label(lang: Lang, mode: CompareMode) -> &'static str {
    let t = lang.texts();
    match mode {
        CompareMode::Off => t.compare_off,
        CompareMode::Split => t.compare_split,
        CompareMode::Difference => t.compare_difference,
    }
}

/// A label over the top of one map of a comparison (`rect` being that map): its period in
/// words and total, or what the difference map shows.
pub fn period_label_ui(ctx: &egui::Context, rect: egui::Rect, id: &str, text: &str) {
    egui::Area::new(egui::Id::unique(("compare_period", id)))
        .fixed_pos(rect.center_top() + egui::vec2(0.0, 8.0))
        .pivot(egui::Align2::CENTER_TOP)
        .order(egui::Order::Foreground)
        .constrain_to(rect)
        .show(ctx, |ui| {
            egui::Frame::new()
                .fill(theme::PRESENTATION_BAR_FILL)
                .inner_margin(egui::Margin::symmetric(10, 4))
                .corner_radius(4.0)
                .show(ui, |ui| {
                    ui.set_max_width(rect.width() - 40.0);
                    ui.add(
                        egui::Label::new(
                            RichText::new(text)
                                .size(theme::PRESENTATION_SUBTITLE_SIZE)
                                .strong()
                                .color(theme::PRESENTATION_TITLE_TEXT),
                        )
                        .halign(egui::Align::Center)
                        .wrap(),
                    );
                });
        });
}

/// What the label over one map of the split view says: «А · 1 сентября – 30 ноября 2021 ·
/// 1 234 обращений».
pub fn side_label(lang: Lang, letter: &str, period: (Date, Date), total: u64) -> String {
    format!(
        "{letter} · {} · {} {}",
        super::describe::period_in_words(Some(period.0), Some(period.1), lang),
        lang.number(total),
        lang.texts().appeals_unit
    )
}

/// What the label over the difference map says: the difference and both periods with their
/// totals.
pub fn difference_label(lang: Lang, a: ((Date, Date), u64), b: ((Date, Date), u64)) -> String {
    let t = lang.texts();
    let side = |letter: &str, ((from, to), n): ((Date, Date), u64)| {
        format!(
            "{letter}: {} ({} {})",
            super::describe::period_in_words(Some(from), Some(to), lang),
            lang.number(n),
            t.appeals_unit
        )
    };
    format!(
        "{} · {} · {}",
        t.compare_difference_title,
        side(t.compare_letter_b, b),
        side(t.compare_letter_a, a)
    )
}

/// What the comparison's legend shows.
pub struct CompareLegend<'a> {
    pub mode: CompareMode,
    /// The metric of the classes (the difference's metric in difference mode).
    pub metric: Metric,
    /// The map's metric was a change, replaced by counts for the difference.
    pub change_as_count: bool,
    pub breaks: &'a [f64],
    pub colors: &'a [egui::Color32],
    /// Municipalities per class: A's and B's in the split view, the difference's in
    /// difference mode (second slice empty).
    pub class_counts: (&'a [usize], &'a [usize]),
    pub no_data: usize,
    /// The density scale: its top (appeals/km²; the symmetric top in difference mode) and ramp.
    pub density: Option<(f32, theme::DensityRamp)>,
    /// Lines under the legend (data timestamp, sources).
    pub notes: &'a [String],
}

/// A difference value with its sign (`+12`, `−3,5`, `0`).
pub fn signed_value(lang: Lang, metric: Metric, value: f64) -> String {
    let magnitude = lang.metric_value(metric, value.abs());
    if value > 0.0 {
        format!("+{magnitude}")
    } else if value < 0.0 {
        format!("\u{2212}{magnitude}")
    } else {
        magnitude
    }
}

/// The comparison's legend, read-only: a strip at most `max_width` wide (classes side by
/// side) so that it covers as little of the maps as it can.
pub fn compare_legend_ui(ui: &mut Ui, lang: Lang, legend: &CompareLegend<'_>, max_width: f32) {
    let t = lang.texts();
    let difference = legend.mode == CompareMode::Difference;
    egui::Frame::new()
        .fill(theme::OVERLAY_FILL)
        .corner_radius(4.0)
        .inner_margin(10.0)
        .show(ui, |ui| {
            ui.set_max_width(max_width);
            let title = if difference {
                format!(
                    "{}: {}",
                    t.compare_difference_title,
                    t.metric(legend.metric)
                )
            } else {
                t.metric(legend.metric).to_owned()
            };
            let unit = if difference && legend.metric == Metric::Unresolved {
                t.compare_percentage_points
            } else {
                t.metric_unit(legend.metric)
            };
            let header = |ui: &mut Ui| {
                ui.label(RichText::new(&title).strong().color(theme::OVERLAY_TEXT));
                ui.label(RichText::new(unit).small().color(theme::OVERLAY_TEXT));
                if legend.change_as_count {
                    ui.label(
                        RichText::new(t.compare_change_as_count)
                            .small()
                            .color(theme::WARNING_TEXT),
                    );
                }
                if !difference {
                    ui.label(
                        RichText::new(t.compare_shared_scale)
                            .small()
                            .color(theme::OVERLAY_TEXT),
                    );
                }
            };
            ui.horizontal_wrapped(header);
            let class = |ui: &mut Ui, i: usize, w: &[f64]| {
                super::panels::class_swatch_ui(
                    ui,
                    egui::vec2(24.0, 14.0),
                    legend.colors.get(i).copied(),
                );
                let (lo, hi) = (w.first().copied(), w.get(1).copied());
                let bounds = match (lo, hi) {
                    (Some(lo), Some(hi)) if difference => format!(
                        "{} – {}",
                        signed_value(lang, legend.metric, lo),
                        signed_value(lang, legend.metric, hi)
                    ),
                    (Some(lo), Some(hi)) => format!(
                        "{} – {}",
                        lang.metric_value(legend.metric, lo),
                        lang.metric_value(legend.metric, hi)
                    ),
                    _ => String::new(),
                };
                ui.add(egui::Label::new(RichText::new(bounds).color(theme::OVERLAY_TEXT)).extend());
                let n = |counts: &[usize]| counts.get(i).copied().unwrap_or(0);
                let counts = if difference {
                    format!("({} {})", n(legend.class_counts.0), t.mo_short)
                } else {
                    format!(
                        "({}: {} · {}: {} {})",
                        t.compare_letter_a,
                        n(legend.class_counts.0),
                        t.compare_letter_b,
                        n(legend.class_counts.1),
                        t.mo_short
                    )
                };
                ui.add(
                    egui::Label::new(RichText::new(counts).small().color(theme::OVERLAY_TEXT))
                        .extend(),
                );
            };
            // Three classes a row: a class never breaks across rows.
            let classes: Vec<&[f64]> = legend.breaks.windows(2).collect();
            for (row, chunk) in classes.chunks(CLASSES_PER_ROW).enumerate() {
                ui.horizontal(|ui| {
                    for (j, w) in chunk.iter().enumerate() {
                        class(ui, row * CLASSES_PER_ROW + j, w);
                        ui.add_space(10.0);
                    }
                });
            }
            if legend.no_data > 0 {
                ui.label(
                    RichText::new(format!(
                        "{} ({} {})",
                        t.no_data_value, legend.no_data, t.mo_short
                    ))
                    .small()
                    .color(theme::OVERLAY_TEXT),
                );
            }
            if let Some((max, ramp)) = legend.density {
                ui.horizontal_wrapped(|ui| {
                    if difference {
                        ui.label(
                            RichText::new(t.compare_density_difference).color(theme::OVERLAY_TEXT),
                        );
                        diverging_scale_ui(ui, lang, max);
                    } else {
                        ui.label(RichText::new(t.density_layer).color(theme::OVERLAY_TEXT));
                        super::panels::density_scale_ui(
                            ui,
                            lang,
                            ramp,
                            max,
                            egui::vec2(14.0, 12.0),
                        );
                    }
                });
            }
            if difference {
                ui.horizontal(|ui| {
                    swatch(ui, theme::ramp_lerp(&theme::RD_BU_REVERSED, 0.0));
                    ui.label(
                        RichText::new(t.compare_more_in_a)
                            .small()
                            .color(theme::OVERLAY_TEXT),
                    );
                    swatch(ui, theme::ramp_lerp(&theme::RD_BU_REVERSED, 1.0));
                    ui.label(
                        RichText::new(t.compare_more_in_b)
                            .small()
                            .color(theme::OVERLAY_TEXT),
                    );
                });
            }
            if !legend.notes.is_empty() {
                ui.separator();
                ui.add(
                    egui::Label::new(
                        RichText::new(legend.notes.join(" · "))
                            .size(theme::PRESENTATION_NOTE_SIZE)
                            .color(theme::PRESENTATION_NOTE_TEXT),
                    )
                    .wrap(),
                );
            }
        });
}

/// Classes on one row of the comparison's legend.
const CLASSES_PER_ROW: usize = 3;

fn swatch(ui: &mut Ui, color: egui::Color32) {
    let (rect, _) = ui.allocate_exact_size(egui::vec2(12.0, 10.0), egui::Sense::hover());
    ui.painter().rect_filled(rect, 0.0, color);
}

/// The diverging density scale: nine swatches from −`max` (blue) through 0 to +`max` (red).
fn diverging_scale_ui(ui: &mut Ui, lang: Lang, max_per_km2: f32) {
    for i in 0..9 {
        swatch(ui, theme::ramp_lerp(&theme::RD_BU_REVERSED, i as f32 / 8.0));
    }
    let max = lang.decimal(f64::from(max_per_km2), 1);
    ui.label(
        RichText::new(format!(
            "\u{2212}{max} … 0 … +{max} {}",
            lang.texts().per_km2
        ))
        .color(theme::OVERLAY_TEXT),
    );
}
