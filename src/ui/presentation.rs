//! Presentation mode's overlays over the map: the title bar (the view's name, the filter in
//! words, which view of how many, the keys, a button to leave) and the read-only legend (metric
//! and units, classes, the density scale or the problem classes, the data timestamp and the
//! boundaries' source), and the small dialog that names a view being saved. Aggregates only:
//! nothing here is given an appeal.

use egui::{Align, Layout, RichText, Ui};

use super::command::Command;
use super::i18n::Lang;
use super::panels::{ClassRows, class_rows_ui, density_scale_ui};
use super::theme;
use crate::analysis::Metric;
use crate::analysis::problems::ProblemMap;

/// What the title bar says.
pub struct TitleBar<'a> {
    /// The saved view's name, when one is on screen.
    pub name: Option<&'a str>,
    /// The filter in words.
    pub words: &'a str,
    /// The view's number (from 1) and how many there are.
    pub position: Option<(usize, usize)>,
    /// Draw the button that leaves presentation mode (not in a rendered export).
    pub closable: bool,
}

/// The title bar across the top of the map `rect`.
pub fn title_bar_ui(
    ctx: &egui::Context,
    rect: egui::Rect,
    lang: Lang,
    bar: &TitleBar<'_>,
    commands: &mut Vec<Command>,
) {
    let t = lang.texts();
    egui::Area::new(egui::Id::unique("presentation_title"))
        .fixed_pos(rect.min)
        .order(egui::Order::Foreground)
        .show(ctx, |ui| {
            egui::Frame::new()
                .fill(theme::PRESENTATION_BAR_FILL)
                .inner_margin(egui::Margin::symmetric(16, 10))
                .show(ui, |ui| {
                    ui.set_width(rect.width() - 32.0);
                    ui.with_layout(Layout::right_to_left(Align::Min), |ui| {
                        if bar.closable
                            && ui
                                .button(RichText::new("×").size(theme::PRESENTATION_SUBTITLE_SIZE))
                                .on_hover_text(t.presentation_hint)
                                .clicked()
                        {
                            commands.push(Command::SetPresentation(false));
                        }
                        if let Some((i, n)) = bar.position {
                            ui.label(
                                RichText::new(format!("{i} / {n}"))
                                    .size(theme::PRESENTATION_SUBTITLE_SIZE)
                                    .color(theme::PRESENTATION_NOTE_TEXT),
                            );
                        }
                        ui.with_layout(Layout::top_down(Align::Min), |ui| {
                            let (words_size, words_color) = match bar.name {
                                Some(name) => {
                                    ui.add(
                                        egui::Label::new(
                                            RichText::new(name)
                                                .size(theme::PRESENTATION_TITLE_SIZE)
                                                .strong()
                                                .color(theme::PRESENTATION_TITLE_TEXT),
                                        )
                                        .wrap(),
                                    );
                                    (
                                        theme::PRESENTATION_SUBTITLE_SIZE,
                                        theme::PRESENTATION_SUBTITLE_TEXT,
                                    )
                                }
                                None => (
                                    theme::PRESENTATION_TITLE_SIZE,
                                    theme::PRESENTATION_TITLE_TEXT,
                                ),
                            };
                            ui.add(
                                egui::Label::new(
                                    RichText::new(bar.words).size(words_size).color(words_color),
                                )
                                .wrap(),
                            );
                        });
                    });
                });
        });
}

/// What the legend shows.
pub struct Legend<'a> {
    pub metric: Metric,
    pub breaks: &'a [f64],
    pub colors: &'a [egui::Color32],
    /// Municipalities in each class.
    pub class_counts: &'a [usize],
    pub no_data: usize,
    /// The density layer's top (appeals/km²) and ramp, when it is on.
    pub density: Option<(f32, theme::DensityRamp)>,
    /// The problem map's classes (instead of the choropleth), in problem mode.
    pub problems: Option<&'a ProblemMap>,
    /// Lines under the legend: the data timestamp, the boundaries' source.
    pub notes: &'a [String],
}

/// The legend, read-only (its settings are the operator's, in the workstation view).
pub fn legend_ui(ui: &mut Ui, lang: Lang, legend: &Legend<'_>) {
    let t = lang.texts();
    egui::Frame::new()
        .fill(theme::OVERLAY_FILL)
        .corner_radius(4.0)
        .inner_margin(10.0)
        .show(ui, |ui| {
            ui.set_max_width(300.0);
            match legend.problems {
                Some(map) => super::problem_panel::problem_legend_ui(ui, lang, map),
                None => choropleth_legend_ui(ui, lang, legend),
            }
            if let Some((max, ramp)) = legend.density {
                ui.separator();
                ui.label(RichText::new(t.density_layer).color(theme::OVERLAY_TEXT));
                ui.horizontal(|ui| {
                    density_scale_ui(ui, lang, ramp, max, egui::vec2(14.0, 12.0));
                });
            }
            if !legend.notes.is_empty() {
                ui.separator();
                for note in legend.notes {
                    ui.add(
                        egui::Label::new(
                            RichText::new(note)
                                .size(theme::PRESENTATION_NOTE_SIZE)
                                .color(theme::PRESENTATION_NOTE_TEXT),
                        )
                        .wrap(),
                    );
                }
            }
        });
}

/// The choropleth's metric, units and classes.
fn choropleth_legend_ui(ui: &mut Ui, lang: Lang, legend: &Legend<'_>) {
    let t = lang.texts();
    ui.label(
        RichText::new(t.metric(legend.metric))
            .strong()
            .color(theme::OVERLAY_TEXT),
    );
    ui.label(
        RichText::new(t.metric_unit(legend.metric))
            .small()
            .color(theme::OVERLAY_TEXT),
    );
    class_rows_ui(
        ui,
        lang,
        legend.metric,
        &ClassRows {
            breaks: legend.breaks,
            colors: legend.colors,
            class_counts: legend.class_counts,
            no_data: legend.no_data,
        },
        egui::vec2(24.0, 14.0),
    );
}

/// The "save current view" dialog: a name (left empty: `default_name`, the filter in words); a
/// view of the same name is replaced.
pub fn save_view_dialog_ui(
    ctx: &egui::Context,
    lang: Lang,
    name: &mut String,
    default_name: &str,
    existing: &[&str],
    commands: &mut Vec<Command>,
) {
    let t = lang.texts();
    let modal = egui::Modal::new(egui::Id::unique("save_view_dialog")).show(ctx, |ui| {
        ui.set_width(420.0);
        ui.heading(t.save_view.trim_end_matches('…'));
        let label = ui.label(t.view_name);
        let edit = ui
            .add(
                egui::TextEdit::singleline(name)
                    .hint_text(default_name)
                    .desired_width(400.0),
            )
            .labelled_by(label.id);
        if ui.memory(|m| m.focused().is_none()) && !edit.lost_focus() {
            edit.request_focus();
        }
        let trimmed = Some(name.trim())
            .filter(|n| !n.is_empty())
            .unwrap_or(default_name.trim());
        if existing.contains(&trimmed) {
            ui.label(RichText::new(t.view_replaces).color(theme::WARNING_TEXT));
        }
        let entered = edit.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
        ui.horizontal(|ui| {
            let save = ui
                .add_enabled(!trimmed.is_empty(), egui::Button::new(t.view_save))
                .clicked();
            if (save || entered) && !trimmed.is_empty() {
                commands.push(Command::SaveView(trimmed.to_owned()));
            }
            if ui.button(t.cancel).clicked() {
                commands.push(Command::CloseSaveView);
            }
        });
    });
    if modal.should_close() {
        commands.push(Command::CloseSaveView);
    }
}
