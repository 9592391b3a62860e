//! The window's panels: the top bar with menus, the side panel (total, lists, data quality), the
//! map overlays (legend, boundary note, errors) and the small dialogs. Each `*_ui` function draws
//! from read-only inputs and pushes [`Command`]s.

use egui::{Align, Layout, RichText, Ui};

use super::command::Command;
use super::i18n::{Lang, Texts};
use super::theme;
use crate::analysis::{Classification, Metric, Summary};
use crate::layers::PointsLegend;
use crate::tiles::choice::BasemapChoice;

/// What the basemap menu shows.
pub struct BasemapMenu<'a> {
    pub choice: &'a BasemapChoice,
    /// The XYZ template being typed.
    pub url_draft: &'a mut String,
    /// Size limit of the tile cache, MB.
    pub cache_limit_mb: u64,
    /// Bytes in the cache of the HTTP basemap in use (`None`: not an HTTP basemap).
    pub cache_bytes: Option<u64>,
}

/// What the views menu and the presentation items show.
pub struct ViewsMenu<'a> {
    /// Names of the saved views, in their order.
    pub names: Vec<&'a str>,
    /// The view on screen, if one is.
    pub active: Option<usize>,
    /// Presentation mode's text scale.
    pub presentation_scale: f32,
}

/// The menu bar.
#[expect(
    clippy::too_many_arguments,
    reason = "the menu bar shows most of the app's state"
)]
pub fn top_bar_ui(
    ui: &mut Ui,
    lang: Lang,
    status: &str,
    busy: bool,
    show_pivot: bool,
    problem_mode: bool,
    compare: crate::analysis::compare::CompareMode,
    basemap: BasemapMenu<'_>,
    views: ViewsMenu<'_>,
    commands: &mut Vec<Command>,
) {
    let t = lang.texts();
    let pt = lang.problem_texts();
    egui::MenuBar::new().ui(ui, |ui| {
        ui.menu_button(t.menu_file, |ui| {
            if ui.button(t.open_database).clicked() {
                commands.push(Command::ShowOpenDatabase);
            }
            if ui.button(t.connect_menu).clicked() {
                commands.push(Command::ShowConnect);
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
            if ui.button(t.import_menu).clicked() {
                commands.push(Command::ShowImport);
            }
            ui.separator();
            if ui.button(t.export_map_menu).clicked() {
                commands.push(Command::ShowExport);
            }
            if ui.button(t.export_heat).clicked() {
                commands.push(Command::ExportHeat);
            }
            if ui.button(pt.export_problems).clicked() {
                commands.push(Command::ExportProblems);
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
            let mut pivot = show_pivot;
            if ui.checkbox(&mut pivot, t.show_table).changed() {
                commands.push(Command::ShowPivot(pivot));
            }
            if ui.button(t.playback_menu).clicked() {
                commands.push(Command::Playback(super::command::PlaybackCommand::Open));
            }
            ui.menu_button(t.compare_menu, |ui| {
                for mode in crate::analysis::compare::CompareMode::ALL {
                    if ui
                        .radio(compare == mode, super::compare::mode_label(lang, mode))
                        .clicked()
                    {
                        commands.push(Command::SetCompare(mode));
                    }
                }
            });
            ui.separator();
            if ui.button(t.presentation).clicked() {
                commands.push(Command::SetPresentation(true));
            }
            ui.menu_button(t.presentation_scale, |ui| {
                for scale in theme::PRESENTATION_SCALES {
                    let label = format!(
                        "{}×",
                        lang.decimal(f64::from(scale), 2)
                            .trim_end_matches('0')
                            .trim_end_matches([',', '.'])
                    );
                    if ui
                        .radio((views.presentation_scale - scale).abs() < 0.01, label)
                        .clicked()
                    {
                        commands.push(Command::SetPresentationScale(scale));
                    }
                }
            });
        });
        ui.menu_button(t.menu_views, |ui| views_menu_ui(ui, t, &views, commands));
        ui.menu_button(t.basemap_menu, |ui| {
            basemap_menu_ui(ui, t, basemap, commands)
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
        ui.separator();
        if ui.selectable_label(!problem_mode, pt.heat_map).clicked() && problem_mode {
            commands.push(Command::SetProblemMode(false));
        }
        if ui.selectable_label(problem_mode, pt.problem_map).clicked() && !problem_mode {
            commands.push(Command::SetProblemMode(true));
        }
        ui.separator();
        if ui.button(t.presentation).clicked() {
            commands.push(Command::SetPresentation(true));
        }
        ui.with_layout(Layout::right_to_left(Align::Center), |ui| {
            if busy {
                ui.spinner();
            }
            ui.add(egui::Label::new(RichText::new(status).weak()).truncate());
        });
    });
}

/// The views menu: save the current view, the saved ones (go to, delete), export and import.
fn views_menu_ui(ui: &mut Ui, t: &Texts, views: &ViewsMenu<'_>, commands: &mut Vec<Command>) {
    if ui.button(t.save_view).clicked() {
        commands.push(Command::ShowSaveView);
    }
    ui.separator();
    if views.names.is_empty() {
        ui.label(RichText::new(t.no_views).weak());
    }
    egui::Grid::new("views_menu_list")
        .num_columns(2)
        .show(ui, |ui| {
            for (i, name) in views.names.iter().enumerate() {
                if ui
                    .selectable_label(views.active == Some(i), format!("{}. {name}", i + 1))
                    .clicked()
                {
                    commands.push(Command::GoToView(i));
                }
                if ui.small_button(t.view_delete).clicked() {
                    commands.push(Command::DeleteView(i));
                }
                ui.end_row();
            }
        });
    ui.separator();
    if ui
        .add_enabled(!views.names.is_empty(), egui::Button::new(t.export_views))
        .clicked()
    {
        commands.push(Command::ExportViews);
    }
    if ui.button(t.import_views).clicked() {
        commands.push(Command::ImportViews);
    }
}

/// The basemap menu: the sources, a URL template, the tile cache.
fn basemap_menu_ui(ui: &mut Ui, t: &Texts, basemap: BasemapMenu<'_>, commands: &mut Vec<Command>) {
    let current = basemap.choice;
    if ui
        .radio(*current == BasemapChoice::BuiltIn, t.basemap_builtin)
        .clicked()
    {
        commands.push(Command::SetBasemap(BasemapChoice::BuiltIn));
    }
    if ui
        .radio(*current == BasemapChoice::OpenStreetMap, t.basemap_osm)
        .clicked()
    {
        commands.push(Command::SetBasemap(BasemapChoice::OpenStreetMap));
    }
    if let BasemapChoice::File { path, .. } = current {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let _ = ui.radio(true, name);
    }
    if let BasemapChoice::Url { template } = current {
        let _ = ui.radio(true, template.as_str());
    }
    ui.separator();
    if ui.button(t.basemap_open_file).clicked() {
        commands.push(Command::PickTileFile);
    }
    if ui.button(t.basemap_open_folder).clicked() {
        commands.push(Command::PickTileFolder(false));
    }
    if ui.button(t.basemap_open_folder_tms).clicked() {
        commands.push(Command::PickTileFolder(true));
    }
    ui.separator();
    let label = ui.label(t.basemap_url);
    ui.horizontal(|ui| {
        ui.add(
            egui::TextEdit::singleline(basemap.url_draft)
                .hint_text("https://tiles.example/{z}/{x}/{y}.png")
                .desired_width(280.0),
        )
        .labelled_by(label.id);
        let template = basemap.url_draft.trim();
        if ui
            .add_enabled(!template.is_empty(), egui::Button::new(t.basemap_url_apply))
            .clicked()
        {
            commands.push(Command::SetBasemap(BasemapChoice::Url {
                template: template.to_owned(),
            }));
        }
    });
    ui.separator();
    ui.label(RichText::new(t.tile_cache).strong());
    ui.horizontal(|ui| {
        let label = ui.label(t.tile_cache_limit_mb);
        let mut limit = basemap.cache_limit_mb;
        if ui
            .add(
                egui::DragValue::new(&mut limit)
                    .range(10..=100_000)
                    .speed(10),
            )
            .labelled_by(label.id)
            .changed()
        {
            commands.push(Command::SetTileCacheLimitMb(limit));
        }
        if let Some(bytes) = basemap.cache_bytes {
            ui.label(format!("{:.1} MB", bytes as f64 / (1024.0 * 1024.0)));
        }
    });
    if ui
        .add_enabled(
            basemap.cache_bytes.is_some(),
            egui::Button::new(t.tile_cache_clear),
        )
        .clicked()
    {
        commands.push(Command::ClearTileCache);
    }
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

/// The side panel for a loaded database. `groups`: the table is read grouped in the database,
/// in that many groups (said under the boundaries line, so that it is seen whatever the width
/// of the status bar).
pub fn side_panel_ui(
    ui: &mut Ui,
    lang: Lang,
    summary: &Summary,
    boundaries: &crate::spatial::Boundaries,
    groups: Option<u64>,
) {
    let t = lang.texts();
    ui.add_space(6.0);
    ui.label(RichText::new(t.total_appeals).strong());
    ui.label(
        RichText::new(lang.number(summary.total))
            .size(theme::TOTAL_SIZE)
            .strong(),
    );
    if let Some((lo, hi)) = summary.days {
        ui.label(format!(
            "{}: {} – {}",
            t.period,
            lang.date(lo),
            lang.date(hi)
        ));
    }
    ui.label(format!(
        "{}: {} ({})",
        t.on_map,
        lang.number(summary.placed),
        lang.percent(summary.placed, summary.total)
    ));
    ui.add_space(4.0);
    quality_ui(ui, lang, summary, boundaries.is_schematic());
    boundaries_line_ui(ui, lang, boundaries);
    if let Some(groups) = groups {
        ui.label(
            RichText::new(format!(
                "{}: {} {}",
                t.grouped_in_database,
                lang.number(groups),
                t.groups
            ))
            .small(),
        )
        .on_hover_text(t.grouped_hint);
    }
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
                                t.unknown_municipality.to_owned()
                            } else {
                                s.to_owned()
                            }
                        },
                    );
                });
        });
}

/// The data-quality line: what could not be placed or read, never silently dropped.
pub fn quality_ui(ui: &mut Ui, lang: Lang, summary: &Summary, schematic: bool) {
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
    push(q.partial_coordinates, t.partial_coordinates);
    push(q.coordinates_not_numeric, t.bad_coordinates);
    push(q.received_unparsable, t.unparsable_received);
    push(q.resolved_unparsable, t.unparsable_resolved);
    push(q.required_null, t.required_null);
    push(unmatched, t.unmatched_municipalities);
    push(summary.no_municipality, t.no_municipality);
    push(
        summary.assigned_by_point,
        if schematic {
            t.placed_by_point_approx
        } else {
            t.placed_by_point
        },
    );
    push(summary.unknown_municipality, t.unknown_municipality);
    push(summary.municipality_disagreements, t.disagreements);
    let problems = q.bad_coordinates()
        + q.received_unparsable
        + q.resolved_unparsable
        + q.required_null
        + unmatched
        + summary.municipality_disagreements
        > 0;
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

/// How the choropleth is drawn (remembered between runs).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct MapSettings {
    pub metric: Metric,
    pub classification: Classification,
    /// Number of classes, 3–9.
    pub classes: usize,
    /// Class bounds frozen by "lock scale" (compare two periods on one scale), with the metric
    /// they belong to; remembered between runs.
    pub locked: Option<LockedScale>,
    /// Draw the individual appeals over the choropleth.
    pub show_points: bool,
    /// The kernel-density layer.
    pub density: DensitySettings,
    /// Comparison of two periods (split view, difference layer).
    pub compare: crate::analysis::compare::CompareSettings,
}

/// How the density layer is computed and drawn (remembered between runs).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct DensitySettings {
    pub enabled: bool,
    /// Kernel radius on the ground, metres.
    pub radius_m: f64,
    /// Take the radius in screen pixels instead (it then follows the zoom).
    pub radius_in_pixels: bool,
    pub radius_px: f64,
    pub kernel: crate::analysis::Kernel,
    /// Exact mode (every appeal at its position) instead of the fast binned one.
    pub exact: bool,
    /// Top of the colour scale fixed by the user (appeals/km²); `None` = the 99th percentile.
    pub locked_max: Option<f32>,
    /// Below this fraction of the top the surface is transparent.
    pub threshold: f32,
    pub opacity: f32,
    pub ramp: theme::DensityRamp,
}

impl Default for DensitySettings {
    fn default() -> Self {
        Self {
            enabled: false,
            radius_m: 2_000.0,
            radius_in_pixels: false,
            radius_px: 30.0,
            kernel: crate::analysis::Kernel::Quartic,
            exact: false,
            locked_max: None,
            threshold: 0.02,
            opacity: 0.75,
            ramp: theme::DensityRamp::Heat,
        }
    }
}

/// What the density part of the legend shows.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct DensityLegend {
    /// The top of the colour scale in use, appeals/km².
    pub max: f32,
    /// Being recomputed.
    pub busy: bool,
}

impl Default for MapSettings {
    fn default() -> Self {
        Self {
            metric: Metric::Count,
            classification: Classification::Quantiles,
            classes: 5,
            locked: None,
            show_points: true,
            density: DensitySettings::default(),
            compare: crate::analysis::compare::CompareSettings::default(),
        }
    }
}

/// Frozen class bounds of one metric.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LockedScale {
    pub metric: Metric,
    pub breaks: Vec<f64>,
}

impl MapSettings {
    /// The frozen bounds, if they belong to the current metric.
    pub fn locked_breaks(&self) -> Option<Vec<f64>> {
        self.locked
            .as_ref()
            .filter(|l| l.metric == self.metric && l.breaks.len() >= 2)
            .map(|l| l.breaks.clone())
    }
}

/// What the legend shows.
pub struct LegendInput<'a> {
    pub breaks: &'a [f64],
    pub colors: &'a [egui::Color32],
    /// Municipalities on the map in each class.
    pub class_counts: &'a [usize],
    /// Municipalities on the map without a value.
    pub no_data: usize,
    pub points: PointsLegend,
    pub boundary_note: &'a str,
    /// The change metric needs a date range.
    pub change_needs_range: bool,
    /// The previous period of the range starts before the data.
    pub change_outside_data: bool,
    pub density: Option<DensityLegend>,
    /// The table is read grouped (the pushdown strategy): no points to draw.
    pub grouped: bool,
}

/// The choropleth legend (metric, units, class bounds, municipalities per class, no data) with
/// its settings, over the map's bottom-left corner.
pub fn map_legend_ui(ui: &mut Ui, lang: Lang, input: &LegendInput<'_>, settings: &mut MapSettings) {
    let t = lang.texts();
    egui::Frame::new()
        .fill(theme::OVERLAY_FILL)
        .corner_radius(4.0)
        .inner_margin(8.0)
        .show(ui, |ui| {
            ui.set_max_width(330.0);
            let metric_before = settings.metric;
            egui::ComboBox::new("legend_metric", t.metric_label)
                .selected_text(RichText::new(t.metric(settings.metric)).strong())
                .show_ui(ui, |ui| {
                    for m in Metric::ALL {
                        ui.selectable_value(&mut settings.metric, m, t.metric(m));
                    }
                });
            ui.label(
                RichText::new(t.metric_unit(settings.metric))
                    .small()
                    .color(theme::OVERLAY_TEXT),
            );
            if input.change_needs_range {
                ui.label(RichText::new(t.change_needs_range).color(theme::WARNING_TEXT));
            }
            if input.change_outside_data {
                ui.label(RichText::new(t.change_outside_data).color(theme::WARNING_TEXT));
            }
            class_rows_ui(
                ui,
                lang,
                settings.metric,
                &ClassRows {
                    breaks: input.breaks,
                    colors: input.colors,
                    class_counts: input.class_counts,
                    no_data: input.no_data,
                },
                egui::vec2(22.0, 12.0),
            );
            egui::CollapsingHeader::new(t.class_settings)
                .id_salt("legend_class_settings")
                .default_open(false)
                .show(ui, |ui| {
                    let locked = settings.locked.is_some();
                    ui.add_enabled_ui(!locked, |ui| {
                        ui.horizontal(|ui| {
                            egui::ComboBox::new("legend_classification", t.method_label)
                                .selected_text(t.classification(settings.classification))
                                .show_ui(ui, |ui| {
                                    for c in Classification::ALL {
                                        ui.selectable_value(
                                            &mut settings.classification,
                                            c,
                                            t.classification(c),
                                        );
                                    }
                                });
                            let label = ui.label(t.classes);
                            ui.add(egui::DragValue::new(&mut settings.classes).range(3..=9))
                                .labelled_by(label.id);
                        });
                    });
                    ui.horizontal(|ui| {
                        // Locking needs bounds to freeze; the lock holds for the metric it was set on.
                        let mut lock = locked;
                        let can_lock = input.breaks.len() >= 2;
                        let response = ui
                            .add_enabled(
                                can_lock || locked,
                                egui::Checkbox::new(&mut lock, t.lock_scale),
                            )
                            .on_hover_text(t.lock_scale_hint);
                        if response.changed() {
                            settings.locked = lock.then(|| LockedScale {
                                metric: settings.metric,
                                breaks: input.breaks.to_vec(),
                            });
                        }
                        if input.grouped {
                            let mut off = false;
                            ui.add_enabled(false, egui::Checkbox::new(&mut off, t.show_points))
                                .on_disabled_hover_text(t.points_need_rows);
                        } else {
                            ui.checkbox(&mut settings.show_points, t.show_points);
                        }
                    });
                });
            if settings.metric != metric_before {
                // Another metric has another scale: a lock does not carry over.
                settings.locked = None;
            }
            match input.points {
                PointsLegend::Cells { max_per_cell } if settings.show_points => {
                    ui.horizontal(|ui| {
                        for i in 0..theme::POINTS_RAMP.len() {
                            let (rect, _) =
                                ui.allocate_exact_size(egui::vec2(10.0, 8.0), egui::Sense::hover());
                            let share = (i as f32 + 0.5) / theme::POINTS_RAMP.len() as f32;
                            ui.painter().rect_filled(
                                rect,
                                0.0,
                                theme::ramp(&theme::POINTS_RAMP, share, 200),
                            );
                        }
                        ui.label(
                            RichText::new(format!(
                                "1 … {} {}",
                                lang.number(u64::from(max_per_cell)),
                                t.legend_bins
                            ))
                            .small()
                            .color(theme::OVERLAY_TEXT),
                        );
                    });
                }
                PointsLegend::Points { visible } if settings.show_points => {
                    ui.label(
                        RichText::new(format!(
                            "• {} {}",
                            lang.number(u64::from(visible)),
                            t.legend_points
                        ))
                        .small()
                        .color(theme::OVERLAY_TEXT),
                    );
                }
                _ => {}
            }
            ui.separator();
            density_legend_ui(ui, lang, input.density, &mut settings.density);
            ui.label(
                RichText::new(input.boundary_note)
                    .small()
                    .color(theme::OVERLAY_TEXT),
            );
        });
}

/// The choropleth's classes as the legend lists them.
pub(super) struct ClassRows<'a> {
    pub breaks: &'a [f64],
    pub colors: &'a [egui::Color32],
    /// Municipalities in each class.
    pub class_counts: &'a [usize],
    /// Municipalities without a value.
    pub no_data: usize,
}

/// One row per class (swatch of `swatch_size` points, bounds in `metric`'s units,
/// municipalities) and, when some have none, the hatched "no data" row; shared by the
/// workstation legend and presentation mode's.
pub(super) fn class_rows_ui(
    ui: &mut Ui,
    lang: Lang,
    metric: Metric,
    rows: &ClassRows<'_>,
    swatch_size: egui::Vec2,
) {
    let t = lang.texts();
    for (i, w) in rows.breaks.windows(2).enumerate() {
        ui.horizontal(|ui| {
            class_swatch_ui(ui, swatch_size, rows.colors.get(i).copied());
            let (lo, hi) = (
                lang.metric_value(metric, w[0]),
                lang.metric_value(metric, w[1]),
            );
            let n = rows.class_counts.get(i).copied().unwrap_or(0);
            ui.label(RichText::new(format!("{lo} – {hi}")).color(theme::OVERLAY_TEXT));
            ui.label(
                RichText::new(format!("({n} {})", t.mo_short))
                    .small()
                    .color(theme::OVERLAY_TEXT),
            );
        });
    }
    if rows.no_data > 0 {
        ui.horizontal(|ui| {
            let (rect, _) = ui.allocate_exact_size(swatch_size, egui::Sense::hover());
            ui.painter().rect_filled(rect, 1.0, theme::HATCH_BACKGROUND);
            for k in 0..4 {
                let x = rect.min.x + 6.0 * k as f32;
                ui.painter().line_segment(
                    [egui::pos2(x, rect.max.y), egui::pos2(x + 8.0, rect.min.y)],
                    egui::Stroke::new(1.5, theme::HATCH_STRIPE),
                );
            }
            ui.label(
                RichText::new(format!(
                    "{} ({} {})",
                    t.no_data_value, rows.no_data, t.mo_short
                ))
                .color(theme::OVERLAY_TEXT),
            );
        });
    }
}

/// The density scale in the current row: eight swatches of `swatch_size` points along `ramp`
/// and "0 … `max_per_km2` /km²"; shared by the workstation legend and presentation mode's.
pub(super) fn density_scale_ui(
    ui: &mut Ui,
    lang: Lang,
    ramp: theme::DensityRamp,
    max_per_km2: f32,
    swatch_size: egui::Vec2,
) {
    for i in 0..8 {
        let (rect, _) = ui.allocate_exact_size(swatch_size, egui::Sense::hover());
        ui.painter().rect_filled(
            rect,
            0.0,
            theme::ramp_lerp(ramp.stops(), (i as f32 + 0.5) / 8.0),
        );
    }
    ui.label(
        RichText::new(format!(
            "0 … {} {}",
            lang.decimal(f64::from(max_per_km2), 1),
            lang.texts().per_km2
        ))
        .color(theme::OVERLAY_TEXT),
    );
}

/// The density part of the legend: on/off, unit and scale, radius, kernel, mode, ramp, top of
/// the scale (automatic or locked), threshold and opacity.
fn density_legend_ui(
    ui: &mut Ui,
    lang: Lang,
    legend: Option<DensityLegend>,
    s: &mut DensitySettings,
) {
    let t = lang.texts();
    ui.checkbox(&mut s.enabled, t.density_layer);
    if !s.enabled {
        return;
    }
    if let Some(l) = legend {
        ui.horizontal(|ui| {
            density_scale_ui(ui, lang, s.ramp, l.max, egui::vec2(12.0, 10.0));
            if l.busy {
                ui.spinner();
            }
        });
        let mode = if s.exact {
            t.density_exact
        } else {
            t.density_fast
        };
        ui.label(RichText::new(mode).small().color(theme::OVERLAY_TEXT));
        let mut locked = s.locked_max.is_some();
        if ui
            .checkbox(&mut locked, t.lock_max)
            .on_hover_text(t.lock_max_hint)
            .changed()
        {
            s.locked_max = locked.then_some(l.max);
        }
    }
    egui::CollapsingHeader::new(t.density_settings)
        .id_salt("legend_density_settings")
        .default_open(false)
        .show(ui, |ui| {
            if let Some(max) = s.locked_max.as_mut() {
                ui.horizontal(|ui| {
                    let label = ui.label(t.max_label);
                    ui.add(egui::DragValue::new(max).range(0.001..=1.0e7).speed(0.1))
                        .labelled_by(label.id);
                });
            }
            ui.horizontal(|ui| {
                let label = ui.label(t.radius_m);
                if s.radius_in_pixels {
                    ui.add(
                        egui::DragValue::new(&mut s.radius_px)
                            .range(2.0..=300.0)
                            .speed(1.0)
                            .suffix(" px"),
                    )
                    .labelled_by(label.id);
                } else {
                    ui.add(
                        egui::DragValue::new(&mut s.radius_m)
                            .range(100.0..=50_000.0)
                            .speed(50.0)
                            .suffix(" m"),
                    )
                    .labelled_by(label.id);
                }
                ui.checkbox(&mut s.radius_in_pixels, t.in_pixels);
                egui::ComboBox::new("density_kernel", t.kernel_label)
                    .selected_text(format!("{:?}", s.kernel))
                    .show_ui(ui, |ui| {
                        for k in crate::analysis::Kernel::ALL {
                            ui.selectable_value(&mut s.kernel, k, format!("{k:?}"));
                        }
                    });
            });
            ui.horizontal(|ui| {
                ui.checkbox(&mut s.exact, t.exact_label);
                egui::ComboBox::new("density_ramp", t.ramp_label)
                    .selected_text(format!("{:?}", s.ramp))
                    .show_ui(ui, |ui| {
                        for r in theme::DensityRamp::ALL {
                            ui.selectable_value(&mut s.ramp, r, format!("{r:?}"));
                        }
                    });
            });
            ui.add(egui::Slider::new(&mut s.opacity, 0.1..=1.0).text(t.opacity));
            ui.add(egui::Slider::new(&mut s.threshold, 0.0..=0.5).text(t.threshold));
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
    name_property: Option<&mut String>,
    commands: &mut Vec<Command>,
    open: impl Fn(std::path::PathBuf, Option<String>) -> Command,
) {
    let t = lang.texts();
    let modal = egui::Modal::new(egui::Id::unique("open_dialog")).show(ctx, |ui| {
        ui.set_width(520.0);
        ui.heading(title);
        let mut entered = false;
        ui.horizontal(|ui| {
            let label = ui.label(t.path);
            let edit = ui
                .add(egui::TextEdit::singleline(path).desired_width(360.0))
                .labelled_by(label.id);
            entered = edit.lost_focus()
                && ui.input(|i| i.key_pressed(egui::Key::Enter))
                && !path.trim().is_empty();
            if ui.button(t.browse).clicked() {
                commands.push(Command::BrowseForFile);
            }
        });
        let property = name_property.map(|p| {
            ui.horizontal(|ui| {
                let label = ui.label(t.name_property);
                ui.add(
                    egui::TextEdit::singleline(p)
                        .hint_text(t.name_property_hint)
                        .desired_width(200.0),
                )
                .labelled_by(label.id);
            });
            Some(p.trim().to_owned()).filter(|p| !p.is_empty())
        });
        let property = property.flatten();
        if entered {
            commands.push(open(path.trim().into(), property.clone()));
        }
        ui.label(RichText::new(t.drop_hint).weak());
        ui.horizontal(|ui| {
            if ui
                .add_enabled(!path.trim().is_empty(), egui::Button::new(t.open))
                .clicked()
            {
                commands.push(open(path.trim().into(), property.clone()));
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

/// File → Connect…: a PostgreSQL connection string (URL or libpq `key=value`) and a table.
/// Only what was typed leaves this dialog (as [`Command::Connect`]); the password is never
/// asked for here (it comes from `PGPASSWORD` or `~/.pgpass`).
pub fn connect_dialog_ui(
    ctx: &egui::Context,
    lang: Lang,
    url: &mut String,
    table: &mut String,
    commands: &mut Vec<Command>,
) {
    let t = lang.texts();
    let connect = |url: &str, table: &str| Command::Connect {
        url: url.trim().to_owned(),
        table: Some(table.trim().to_owned()).filter(|t| !t.is_empty()),
    };
    let modal = egui::Modal::new(egui::Id::unique("connect_dialog")).show(ctx, |ui| {
        ui.set_width(560.0);
        ui.heading(t.connect_title);
        let mut entered = false;
        egui::Grid::new("connect_grid")
            .num_columns(2)
            .show(ui, |ui| {
                let label = ui.label(t.connect_url);
                let edit = ui
                    .add(
                        egui::TextEdit::singleline(url)
                            .hint_text("postgres://viewer@db.example/situation?sslmode=verify-full")
                            .desired_width(380.0),
                    )
                    .labelled_by(label.id);
                entered |= edit.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
                ui.end_row();
                let label = ui.label(t.connect_table);
                let edit = ui
                    .add(
                        egui::TextEdit::singleline(table)
                            .hint_text("appeals")
                            .desired_width(200.0),
                    )
                    .labelled_by(label.id);
                entered |= edit.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
                ui.end_row();
            });
        ui.label(RichText::new(t.connect_hint).weak());
        ui.horizontal(|ui| {
            let ready = !url.trim().is_empty();
            if (ui
                .add_enabled(ready, egui::Button::new(t.connect_button))
                .clicked()
                || entered)
                && ready
            {
                commands.push(connect(url, table));
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

/// A legend class's colour swatch (the municipality fill when the class has no colour).
pub fn class_swatch_ui(ui: &mut Ui, size: egui::Vec2, color: Option<egui::Color32>) {
    let (rect, _) = ui.allocate_exact_size(size, egui::Sense::hover());
    ui.painter()
        .rect_filled(rect, 1.0, color.unwrap_or(theme::MUNICIPALITY_FILL));
    ui.painter().rect_stroke(
        rect,
        1.0,
        theme::MUNICIPALITY_STROKE,
        egui::StrokeKind::Inside,
    );
}
