//! The window's panels: the top bar with menus, the side panel (total, lists, data quality), the
//! map overlays (legend, boundary note, errors) and the small dialogs. Each `*_ui` function draws
//! from read-only inputs and pushes [`Command`]s.

use egui::{Align, Layout, RichText, Ui};

use super::command::Command;
use super::i18n::{Lang, Texts};
use super::theme;
use crate::analysis::Summary;
use crate::layers::PointsLegend;

/// The menu bar.
pub fn top_bar_ui(ui: &mut Ui, lang: Lang, status: &str, busy: bool, commands: &mut Vec<Command>) {
    let t = lang.texts();
    egui::MenuBar::new().ui(ui, |ui| {
        ui.menu_button(t.menu_file, |ui| {
            if ui.button(t.open_database).clicked() {
                commands.push(Command::ShowOpenDatabase);
            }
            if ui.button(t.open_boundaries).clicked() {
                commands.push(Command::ShowOpenBoundaries);
            }
            if ui.button(t.schematic_boundaries_menu).clicked() {
                commands.push(Command::UseSchematicBoundaries);
            }
            if ui.button(t.open_demo).clicked() {
                commands.push(Command::OpenDemo);
            }
            ui.separator();
            if ui.button(t.quit).clicked() {
                commands.push(Command::Quit);
            }
        });
        ui.menu_button(t.menu_view, |ui| {
            if ui.button(t.fit_to_data).clicked() {
                commands.push(Command::FitToData);
            }
        });
        ui.menu_button(t.menu_language, |ui| {
            for (l, name) in [(Lang::Ru, "Русский"), (Lang::En, "English")] {
                if ui.radio(lang == l, name).clicked() {
                    commands.push(Command::SetLang(l));
                }
            }
        });
        ui.menu_button(t.menu_help, |ui| {
            if ui.button(t.about).clicked() {
                commands.push(Command::ShowAbout(true));
            }
        });
        ui.with_layout(Layout::right_to_left(Align::Center), |ui| {
            if busy {
                ui.spinner();
            }
            ui.label(RichText::new(status).weak());
        });
    });
}

fn count_list_ui(
    ui: &mut Ui,
    lang: Lang,
    id: &str,
    items: &[(String, u64)],
    total: u64,
    label: impl Fn(&str) -> String,
) {
    egui::Grid::new(id)
        .num_columns(2)
        .striped(true)
        .show(ui, |ui| {
            for (name, n) in items {
                let share = if total == 0 {
                    0.0
                } else {
                    *n as f32 / total as f32
                };
                let (rect, _) =
                    ui.allocate_exact_size(egui::vec2(40.0, 10.0), egui::Sense::hover());
                let bar =
                    egui::Rect::from_min_size(rect.min, egui::vec2(40.0 * share.max(0.02), 10.0));
                ui.painter().rect_filled(bar, 2.0, theme::BAR_FILL);
                ui.label(label(name));
                ui.with_layout(Layout::right_to_left(Align::Center), |ui| {
                    ui.label(lang.number(*n));
                });
                ui.end_row();
            }
        });
}

/// The side panel for a loaded database.
pub fn side_panel_ui(
    ui: &mut Ui,
    lang: Lang,
    summary: &Summary,
    boundaries: &crate::spatial::Boundaries,
) {
    let t = lang.texts();
    ui.add_space(6.0);
    ui.label(RichText::new(t.total_appeals).strong());
    ui.label(
        RichText::new(lang.number(summary.total))
            .size(theme::TOTAL_SIZE)
            .strong(),
    );
    if let Some((lo, hi)) = summary.received_range {
        ui.label(format!(
            "{}: {} – {}",
            t.period,
            lo.strftime("%d.%m.%Y"),
            hi.strftime("%d.%m.%Y")
        ));
    }
    ui.label(format!(
        "{}: {} ({})",
        t.on_map,
        lang.number(summary.placed),
        lang.percent(summary.placed, summary.total)
    ));
    ui.add_space(4.0);
    quality_ui(ui, lang, summary);
    boundaries_line_ui(ui, lang, boundaries);
    ui.separator();
    egui::ScrollArea::vertical()
        .auto_shrink([false, false])
        .show(ui, |ui| {
            egui::CollapsingHeader::new(t.by_source)
                .default_open(true)
                .show(ui, |ui| {
                    count_list_ui(
                        ui,
                        lang,
                        "by_source",
                        &summary.by_source,
                        summary.total,
                        |s| t.source(s).to_owned(),
                    );
                });
            egui::CollapsingHeader::new(t.by_status)
                .default_open(true)
                .show(ui, |ui| {
                    count_list_ui(
                        ui,
                        lang,
                        "by_status",
                        &summary.by_status,
                        summary.total,
                        |s| t.status(s).to_owned(),
                    );
                });
            egui::CollapsingHeader::new(t.by_category)
                .default_open(true)
                .show(ui, |ui| {
                    count_list_ui(
                        ui,
                        lang,
                        "by_category",
                        &summary.by_category,
                        summary.total,
                        |s| {
                            if s.is_empty() {
                                t.not_given.to_owned()
                            } else {
                                s.to_owned()
                            }
                        },
                    );
                });
            egui::CollapsingHeader::new(t.by_municipality)
                .default_open(true)
                .show(ui, |ui| {
                    count_list_ui(
                        ui,
                        lang,
                        "by_municipality",
                        &summary.by_municipality,
                        summary.total,
                        |s| {
                            if s.is_empty() {
                                t.not_given.to_owned()
                            } else {
                                s.to_owned()
                            }
                        },
                    );
                });
        });
}

/// The data-quality line: what could not be placed or read, never silently dropped.
pub fn quality_ui(ui: &mut Ui, lang: Lang, summary: &Summary) {
    let t: &Texts = lang.texts();
    let q = &summary.quality;
    let unmatched: u64 = summary
        .unmatched_municipalities
        .iter()
        .map(|(_, n)| n)
        .sum();
    let mut parts = Vec::new();
    let mut push = |n: u64, what: &str| {
        if n > 0 {
            parts.push(format!("{what}: {}", lang.number(n)));
        }
    };
    push(q.no_coordinates, t.no_coordinates);
    push(q.coordinates_zero_zero, t.zero_coordinates);
    push(q.coordinates_out_of_range, t.out_of_range);
    push(
        q.partial_coordinates + q.coordinates_not_numeric,
        t.bad_coordinates,
    );
    push(
        q.received_unparsable + q.resolved_unparsable,
        t.unparsable_dates,
    );
    push(unmatched, t.unmatched_municipalities);
    push(summary.no_municipality, t.no_municipality);
    let problems =
        q.bad_coordinates() + q.received_unparsable + q.resolved_unparsable + unmatched > 0;
    let text = if parts.is_empty() {
        format!("{}: {}", t.data_quality, t.quality_ok)
    } else {
        format!("{}: {}", t.data_quality, parts.join(" · "))
    };
    let color = if problems {
        theme::WARNING_TEXT
    } else {
        ui.visuals().text_color()
    };
    let response = ui.add(egui::Label::new(RichText::new(text).color(color)).wrap());
    if !q.samples.is_empty() || !summary.unmatched_municipalities.is_empty() {
        response.on_hover_ui(|ui| {
            for s in &q.samples {
                ui.label(format!("{} — id {}: {}", s.reason, s.row_id, s.value));
            }
            for (name, n) in summary.unmatched_municipalities.iter().take(10) {
                ui.label(format!("«{name}»: {}", lang.number(*n)));
            }
        });
    }
}

/// One line on the loaded boundaries: their source and how their names matched the
/// municipality table (names that match nothing are listed, not guessed).
pub fn boundaries_line_ui(ui: &mut Ui, lang: Lang, boundaries: &crate::spatial::Boundaries) {
    let t = lang.texts();
    match &boundaries.kind {
        crate::spatial::BoundaryKind::Schematic => {
            ui.label(format!(
                "{}: {}",
                t.boundaries_from, t.boundaries_schematic_line
            ));
        }
        crate::spatial::BoundaryKind::File { path, .. } => {
            let unmatched = boundaries.unmatched_names();
            let missing = boundaries.missing_municipalities();
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let mut text = format!(
                "{}: {name} — {} {}, {} {}",
                t.boundaries_from,
                boundaries.units.len(),
                t.polygons,
                t.matched,
                boundaries.units.len() - unmatched.len()
            );
            if !unmatched.is_empty() {
                text.push_str(&format!(
                    "; {}: {}",
                    t.unmatched_features,
                    unmatched.join(", ")
                ));
            }
            if !missing.is_empty() {
                text.push_str(&format!("; {}: {}", t.without_polygon, missing.join(", ")));
            }
            let color = if unmatched.is_empty() && missing.is_empty() {
                ui.visuals().text_color()
            } else {
                theme::WARNING_TEXT
            };
            ui.add(egui::Label::new(RichText::new(text).color(color)).wrap());
        }
    }
}

/// Legend and notes over the map's bottom-left corner.
pub fn map_legend_ui(ui: &mut Ui, lang: Lang, legend: PointsLegend, boundary_note: &str) {
    let t = lang.texts();
    egui::Frame::new()
        .fill(theme::OVERLAY_FILL)
        .corner_radius(4.0)
        .inner_margin(6.0)
        .show(ui, |ui| {
            match legend {
                PointsLegend::Cells { max_per_cell } => {
                    ui.horizontal(|ui| {
                        for i in 0..theme::YL_OR_RD.len() {
                            let (rect, _) = ui
                                .allocate_exact_size(egui::vec2(14.0, 10.0), egui::Sense::hover());
                            ui.painter().rect_filled(
                                rect,
                                0.0,
                                theme::ramp(
                                    &theme::YL_OR_RD,
                                    (i as f32 + 0.5) / theme::YL_OR_RD.len() as f32,
                                    230,
                                ),
                            );
                        }
                        ui.label(
                            RichText::new(format!(
                                "1 … {} {}",
                                lang.number(u64::from(max_per_cell)),
                                t.legend_bins
                            ))
                            .color(theme::OVERLAY_TEXT),
                        );
                    });
                }
                PointsLegend::Points { visible } => {
                    ui.horizontal(|ui| {
                        let (rect, _) =
                            ui.allocate_exact_size(egui::vec2(10.0, 10.0), egui::Sense::hover());
                        ui.painter().circle(
                            rect.center(),
                            3.0,
                            theme::POINT_FILL,
                            theme::POINT_STROKE,
                        );
                        ui.label(
                            RichText::new(format!(
                                "{} {}",
                                lang.number(u64::from(visible)),
                                t.legend_points
                            ))
                            .color(theme::OVERLAY_TEXT),
                        );
                    });
                }
                PointsLegend::Nothing => {}
            }
            ui.label(
                RichText::new(boundary_note)
                    .small()
                    .color(theme::OVERLAY_TEXT),
            );
        });
}

/// Errors over the top of the map, each dismissable.
pub fn errors_ui(ui: &mut Ui, lang: Lang, errors: &[String], commands: &mut Vec<Command>) {
    let t = lang.texts();
    for (i, message) in errors.iter().enumerate() {
        egui::Frame::new()
            .fill(theme::ERROR_FILL)
            .corner_radius(4.0)
            .inner_margin(6.0)
            .show(ui, |ui| {
                ui.horizontal_wrapped(|ui| {
                    ui.label(
                        RichText::new(format!("{}: {message}", t.error)).color(theme::ERROR_TEXT),
                    );
                    if ui.button(t.dismiss).clicked() {
                        commands.push(Command::DismissError(i));
                    }
                });
            });
    }
}

/// The "open a file" dialog: a path field (paste or type), a native file picker, Open.
pub fn open_dialog_ui(
    ctx: &egui::Context,
    lang: Lang,
    title: &str,
    path: &mut String,
    commands: &mut Vec<Command>,
    open: impl Fn(std::path::PathBuf) -> Command,
) {
    let t = lang.texts();
    let modal = egui::Modal::new(egui::Id::unique("open_dialog")).show(ctx, |ui| {
        ui.set_width(520.0);
        ui.heading(title);
        ui.horizontal(|ui| {
            let label = ui.label(t.path);
            let edit = ui
                .add(egui::TextEdit::singleline(path).desired_width(360.0))
                .labelled_by(label.id);
            if edit.lost_focus()
                && ui.input(|i| i.key_pressed(egui::Key::Enter))
                && !path.trim().is_empty()
            {
                commands.push(open(path.trim().into()));
            }
            if ui.button(t.browse).clicked() {
                commands.push(Command::BrowseForFile);
            }
        });
        ui.label(RichText::new(t.drop_hint).weak());
        ui.horizontal(|ui| {
            if ui
                .add_enabled(!path.trim().is_empty(), egui::Button::new(t.open))
                .clicked()
            {
                commands.push(open(path.trim().into()));
            }
            if ui.button(t.cancel).clicked() {
                commands.push(Command::CloseDialog);
            }
        });
    });
    if modal.should_close() {
        commands.push(Command::CloseDialog);
    }
}

/// The About box.
pub fn about_ui(ctx: &egui::Context, lang: Lang, commands: &mut Vec<Command>) {
    let t = lang.texts();
    let modal = egui::Modal::new(egui::Id::unique("about")).show(ctx, |ui| {
        ui.heading(t.app_title);
        ui.label(t.about_text);
        ui.label(crate::build_info::long_version());
        ui.label("© OpenStreetMap contributors (boundaries derived data), GeoNames (CC BY 4.0)");
        if ui.button(t.dismiss).clicked() {
            commands.push(Command::ShowAbout(false));
        }
    });
    if modal.should_close() {
        commands.push(Command::ShowAbout(false));
    }
}
