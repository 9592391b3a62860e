//! The comparison of two periods in the window: the split view (period A on the left, period B
//! on the right, two maps that pan and zoom together, one class scale and one density scale
//! for both, each labelled with its period and total) and the difference layer (one map of
//! B − A per municipality on a diverging ramp, and the density difference). Owns the
//! comparison's jobs (started from `logic`, one at a time, the latest request following), its
//! textures and its drawing. Period B is the filter's period; A is set in the bar above the
//! map (by default the period of the same length just before B).

use std::sync::Arc;

use walkers::{MapMemory, lon_lat};

use super::jobs::{CompareDensity, CompareRequest, Comparison, DensityRequest};
use super::{App, DENSITY_DEBOUNCE_S, density_grid};
use crate::analysis::class_of;
use crate::analysis::compare::CompareMode;
use crate::layers::{
    BoundaryGeometry, BoundaryLayer, DensityLayer, LabelLayer, ScaleBar, ScaleUnits,
    ScreenTransform, SettlementLayer, land_shapes,
};
use crate::spatial::projection;
use crate::ui::compare::{
    CompareLegend, compare_legend_ui, difference_label, period_label_ui, side_label,
};
use crate::ui::{Command, Lang, theme};

/// The comparison's results and jobs.
#[derive(Default)]
pub(super) struct CompareState {
    /// The comparison on screen.
    pub result: Option<Arc<Comparison>>,
    /// The request the last comparison job was started for, and whether one is running.
    requested: Option<CompareRequest>,
    running: bool,
    /// The density surfaces on screen, the one wanted (since when), and whether one runs.
    density: Option<CompareDensity>,
    density_wanted: Option<(DensityRequest, f64)>,
    density_running: bool,
    density_generation: u64,
    /// A surface binned in the database that failed (for the comparison's points): not asked
    /// again until the comparison or the request changes.
    density_failed: Option<(Arc<Vec<[f64; 2]>>, DensityRequest)>,
    /// Textures of A, B and B − A, and what they were drawn for.
    textures: Option<CompareTextures>,
}

struct CompareTextures {
    a: egui::TextureHandle,
    b: egui::TextureHandle,
    difference: egui::TextureHandle,
    key: (u64, [u32; 4]),
}

/// Fill colour of each boundary unit for `values` (per label) on `breaks`, with the number of
/// municipalities in each class and of those without a value. Labels outside the filter get
/// the outside fill; with `under_k`, labels it names are drawn as without data.
pub(super) fn class_fills(
    unit_labels: &[u32],
    values: &[Option<f64>],
    in_filter: &[bool],
    breaks: &[f64],
    colors: &[egui::Color32],
    under_k: impl Fn(u32) -> bool,
) -> (Vec<Option<egui::Color32>>, Vec<usize>, usize) {
    let mut counts = vec![0; colors.len()];
    let mut no_data = 0;
    // The legend counts municipalities, not polygons: a unit of several features once.
    let mut counted = std::collections::HashSet::new();
    let fills = unit_labels
        .iter()
        .map(|&label| {
            if !in_filter.get(label as usize).copied().unwrap_or(true) {
                return Some(theme::OUTSIDE_FILTER_FILL);
            }
            let first = counted.insert(label);
            let value = values
                .get(label as usize)
                .copied()
                .flatten()
                .filter(|_| !under_k(label));
            match value.and_then(|v| class_of(v, breaks)) {
                Some(c) => {
                    if first && let Some(n) = counts.get_mut(c) {
                        *n += 1;
                    }
                    colors.get(c).copied()
                }
                None => {
                    if first {
                        no_data += 1;
                    }
                    None
                }
            }
        })
        .collect();
    (fills, counts, no_data)
}

/// What one map of the comparison draws.
struct MapDraw<'a> {
    geometry: &'a BoundaryGeometry,
    fills: &'a [Option<egui::Color32>],
    density: Option<(&'a egui::TextureHandle, crate::analysis::Grid)>,
    hovered: Option<usize>,
}

/// What the pointer did on one map.
struct MapOutcome {
    hovered: Option<usize>,
    /// The density grid this map wants, with ground metres per screen point at its centre.
    wanted_grid: Option<(crate::analysis::Grid, f64)>,
    response: egui::Response,
}

impl App {
    /// The comparison the window asks for: `None` when comparing is off, in the problem map,
    /// during a playback, or before the data is there.
    pub(super) fn compare_request(&self) -> Option<CompareRequest> {
        let settings = &self.persisted.map.compare;
        if settings.mode == CompareMode::Off
            || self.persisted.problems.active
            || self.playback.is_some()
        {
            return None;
        }
        let b = self.playback_period()?;
        let a = settings.period_a(b);
        let mut request = self.request();
        request.filter.from = Some(b.0);
        request.filter.to = Some(b.1);
        request.selected = None;
        Some(CompareRequest { b: request, a })
    }

    /// Whether the map shows a comparison.
    pub fn comparing(&self) -> bool {
        self.compare_request().is_some()
    }

    /// The comparison on screen (for tests and exports).
    pub fn comparison(&self) -> Option<&Comparison> {
        self.compare.result.as_deref()
    }

    /// The density surfaces of the comparison on screen (for tests).
    pub fn compare_density(&self) -> Option<&CompareDensity> {
        self.compare.density.as_ref()
    }

    /// Whether the comparison on screen is the one asked for.
    pub(super) fn comparison_is_current(&self) -> bool {
        match self.compare_request() {
            None => true,
            Some(request) => {
                !self.compare.running
                    && self
                        .compare
                        .result
                        .as_ref()
                        .is_some_and(|r| r.request == request)
                    && (!self.persisted.map.density.enabled
                        || (self.compare.density_wanted.is_none() && !self.compare.density_running))
            }
        }
    }

    /// Starts the comparison and its density when they are wanted (from `logic`).
    pub(super) fn compare_logic(&mut self, ctx: &egui::Context) {
        let Some(request) = self.compare_request() else {
            return;
        };
        if let Some(resolved) = &self.resolved
            && self.compare.requested.as_ref() != Some(&request)
            && !self.compare.running
        {
            self.jobs
                .compute_comparison(resolved.clone(), request.clone());
            self.compare.requested = Some(request);
            self.compare.running = true;
        }
        if let Some((request, since)) = self.compare.density_wanted.clone() {
            let now = ctx.input(|i| i.time);
            if self.compare.density_running {
                // Wait for the running one; a newer request follows.
            } else if now - since >= DENSITY_DEBOUNCE_S {
                if let Some(c) = &self.compare.result {
                    if c.resolved.dataset.is_grouped() {
                        self.jobs
                            .compute_compare_density_pushdown(c.clone(), request);
                    } else {
                        self.jobs.compute_compare_density(
                            (c.a.points_unit.clone(), c.b.points_unit.clone()),
                            request,
                        );
                    }
                    self.compare.density_running = true;
                }
                self.compare.density_wanted = None;
            } else {
                ctx.request_repaint_after(std::time::Duration::from_secs_f64(DENSITY_DEBOUNCE_S));
            }
        }
    }

    /// A finished comparison job.
    pub(super) fn apply_comparison(&mut self, generation: u64, result: Box<Comparison>) {
        self.compare.running = false;
        if generation == self.jobs.compare_generation {
            self.compare.result = Some(Arc::from(result));
        }
    }

    /// A finished comparison density job.
    pub(super) fn apply_compare_density(&mut self, generation: u64, result: Box<CompareDensity>) {
        self.compare.density_running = false;
        if generation == self.jobs.compare_density_generation {
            self.compare.density = Some(*result);
            self.compare.density_generation = generation;
        }
    }

    /// A comparison density job binned in the database that failed.
    pub(super) fn apply_compare_density_failed(
        &mut self,
        generation: u64,
        request: DensityRequest,
        error: &super::JobError,
    ) {
        self.compare.density_running = false;
        if generation == self.jobs.compare_density_generation
            && let Some(c) = &self.compare.result
        {
            self.compare.density_failed = Some((c.b.points_unit.clone(), request));
            self.errors.push(super::job_error_text(self.lang, error));
        }
    }

    /// Notes the density grid the comparison's maps need, unless the surfaces there serve.
    fn want_compare_density(
        &mut self,
        grid: crate::analysis::Grid,
        ground_m_per_px: f64,
        now: f64,
    ) {
        let Some(c) = &self.compare.result else {
            return;
        };
        let request = self.density_request(grid, ground_m_per_px);
        let serves = self.compare.density.as_ref().is_some_and(|d| {
            Arc::ptr_eq(&d.points.0, &c.a.points_unit)
                && Arc::ptr_eq(&d.points.1, &c.b.points_unit)
                && super::density_serves(&d.request, &request)
        });
        let failed = self
            .compare
            .density_failed
            .as_ref()
            .is_some_and(|(points, r)| Arc::ptr_eq(points, &c.b.points_unit) && *r == request);
        if serves || failed {
            self.compare.density_wanted = None;
            return;
        }
        match &self.compare.density_wanted {
            Some((pending, _)) if *pending == request => {}
            _ => self.compare.density_wanted = Some((request, now)),
        }
    }

    /// The top of the split view's density scale: the locked one, else the larger 99th
    /// percentile of the two periods.
    fn compare_density_max(&self) -> f32 {
        self.persisted
            .map
            .density
            .locked_max
            .or_else(|| self.compare.density.as_ref().map(|d| d.auto_max))
            .unwrap_or(0.0)
    }

    /// Redraws the comparison's density textures when the surfaces or their colouring changed.
    fn update_compare_textures(&mut self, ctx: &egui::Context) {
        let Some(d) = &self.compare.density else {
            return;
        };
        let s = &self.persisted.map.density;
        let max = self.compare_density_max();
        let key = (
            self.compare.density_generation,
            [
                max.to_bits(),
                s.threshold.to_bits(),
                s.opacity.to_bits(),
                s.ramp as u32,
            ],
        );
        if self.compare.textures.as_ref().is_some_and(|t| t.key == key) {
            return;
        }
        let g = &d.request.grid;
        let image = |values: &[f32]| {
            theme::density_image(
                values,
                g.width,
                g.height,
                max,
                s.threshold,
                s.opacity,
                s.ramp,
            )
        };
        let options = egui::TextureOptions::LINEAR;
        let difference = theme::density_difference_image(
            &d.difference,
            g.width,
            g.height,
            d.difference_max,
            s.threshold,
            s.opacity,
        );
        self.compare.textures = Some(CompareTextures {
            a: ctx.load_texture("compare-density-a", image(&d.a.values), options),
            b: ctx.load_texture("compare-density-b", image(&d.b.values), options),
            difference: ctx.load_texture("compare-density-difference", difference, options),
            key,
        });
    }

    /// Draws the comparison in `ui`'s remaining space: two maps side by side, or the
    /// difference map; then the period labels and the legend.
    pub(super) fn compare_ui(&mut self, ui: &mut egui::Ui, commands: &mut Vec<Command>) {
        let rect = ui.available_rect_before_wrap();
        let Some(comparison) = self.compare.result.clone() else {
            let t = self.lang.texts();
            ui.vertical_centered(|ui| {
                ui.add_space(rect.height() / 3.0);
                ui.spinner();
                ui.label(t.compare_computing);
            });
            return;
        };
        let mode = self.persisted.map.compare.mode;
        let boundary_set = comparison.resolved.boundaries.clone();
        let half = (rect.width() - theme::SPLIT_GAP_PX) / 2.0;
        let left = egui::Rect::from_min_size(rect.min, egui::vec2(half, rect.height()));
        let right = egui::Rect::from_min_size(
            rect.min + egui::vec2(half + theme::SPLIT_GAP_PX, 0.0),
            egui::vec2(half, rect.height()),
        );
        // The data is fitted to the map it is seen in: the left half in the split view.
        let fit_rect = if mode == CompareMode::Split {
            left
        } else {
            rect
        };
        self.move_map_to_targets(ui.ctx(), fit_rect, &boundary_set);
        let lang = self.lang;
        let t = lang.texts();
        let geometry = &boundary_set.geometry;
        let unit_labels = &comparison.resolved.unit_labels;
        let export_k = self.export_k;
        let under_k = |counts: &[u64], label: u32| {
            export_k.is_some_and(|k| {
                crate::analysis::export::discloses(
                    counts.get(label as usize).copied().unwrap_or(0),
                    k,
                )
            })
        };
        let density_on = self.persisted.map.density.enabled;
        self.update_compare_textures(ui.ctx());
        let grid = self.compare.density.as_ref().map(|d| d.request.grid);
        let textures = self
            .compare
            .textures
            .as_ref()
            .map(|t| [t.a.clone(), t.b.clone(), t.difference.clone()]);
        let density_of = |i: usize| match (&textures, grid) {
            (Some(t), Some(g)) if density_on => t.get(i).map(|t| (t, g)),
            _ => None,
        };
        let now = ui.ctx().input(|i| i.time);
        // In presentation mode the labels go under the title bar (its size from the last frame).
        let labels_top = if self.presentation.is_some() {
            ui.ctx()
                .memory(|m| m.area_rect(egui::Id::unique("presentation_title")))
                .map_or(rect.top() + 80.0, |r| r.bottom())
                .max(rect.top())
        } else {
            rect.top()
        };
        let hovered_before = self.hovered_unit;
        let wanted_grid;
        let hovered;
        let legend_breaks;
        let legend_colors;
        let legend_counts: (Vec<usize>, Vec<usize>);
        let legend_no_data;
        let hovered_response: Option<egui::Response>;
        let memory_before = self.map_memory.clone();
        match mode {
            CompareMode::Split => {
                let colors = theme::class_colors(
                    &comparison.breaks,
                    comparison.request.b.metric.is_diverging(),
                );
                let (fills_a, counts_a, no_data_a) = class_fills(
                    unit_labels,
                    &comparison.a.values,
                    &comparison.in_filter,
                    &comparison.breaks,
                    &colors,
                    |l| under_k(&comparison.a.counts, l),
                );
                let (fills_b, counts_b, no_data_b) = class_fills(
                    unit_labels,
                    &comparison.b.values,
                    &comparison.in_filter,
                    &comparison.breaks,
                    &colors,
                    |l| under_k(&comparison.b.counts, l),
                );
                ui.painter().rect_filled(
                    egui::Rect::from_min_max(left.right_top(), right.left_bottom()),
                    0.0,
                    theme::SPLIT_GAP_FILL,
                );
                let a = self.compare_map_ui(
                    ui,
                    left,
                    "compare_map_a",
                    None,
                    &MapDraw {
                        geometry,
                        fills: &fills_a,
                        density: density_of(0),
                        hovered: hovered_before,
                    },
                );
                // The right map works on a copy of the map's memory, taken back only when the
                // user moves it (the left one already advanced any glide this frame).
                let mut memory_b = self.map_memory.clone();
                let b = self.compare_map_ui(
                    ui,
                    right,
                    "compare_map_b",
                    Some(&mut memory_b),
                    &MapDraw {
                        geometry,
                        fills: &fills_b,
                        density: density_of(1),
                        hovered: hovered_before,
                    },
                );
                let moved_b = b.response.dragged()
                    || b.response.drag_stopped()
                    || b.response.double_clicked()
                    || (b.response.contains_pointer()
                        && ui.input(|i| {
                            i.zoom_delta() != 1.0 || i.smooth_scroll_delta != egui::Vec2::ZERO
                        }));
                if moved_b {
                    self.map_memory = memory_b;
                    ui.ctx().request_repaint();
                }
                if a.response.dragged() {
                    ui.ctx().request_repaint();
                }
                wanted_grid = a.wanted_grid;
                hovered = a.hovered.or(b.hovered);
                for (side_rect, id, letter, side) in [
                    (left, "a", t.compare_letter_a, &comparison.a),
                    (right, "b", t.compare_letter_b, &comparison.b),
                ] {
                    period_label_ui(
                        ui.ctx(),
                        side_rect.with_min_y(labels_top),
                        id,
                        &side_label(lang, letter, side.period(), side.total),
                    );
                }
                hovered_response = if a.hovered.is_some() {
                    Some(a.response)
                } else {
                    Some(b.response)
                };
                legend_breaks = comparison.breaks.clone();
                legend_colors = colors;
                legend_counts = (counts_a, counts_b);
                legend_no_data = no_data_a.max(no_data_b);
            }
            CompareMode::Difference | CompareMode::Off => {
                let colors = theme::difference_class_colors(
                    comparison.difference_breaks.len().saturating_sub(1),
                );
                let (fills, counts, no_data) = class_fills(
                    unit_labels,
                    &comparison.difference,
                    &comparison.in_filter,
                    &comparison.difference_breaks,
                    &colors,
                    |l| under_k(&comparison.a.counts, l) || under_k(&comparison.b.counts, l),
                );
                let outcome = self.compare_map_ui(
                    ui,
                    rect,
                    "compare_map_difference",
                    None,
                    &MapDraw {
                        geometry,
                        fills: &fills,
                        density: density_of(2),
                        hovered: hovered_before,
                    },
                );
                wanted_grid = outcome.wanted_grid;
                hovered = outcome.hovered;
                period_label_ui(
                    ui.ctx(),
                    rect.with_min_y(labels_top),
                    "difference",
                    &difference_label(
                        lang,
                        (comparison.a.period(), comparison.a.total),
                        (comparison.b.period(), comparison.b.total),
                    ),
                );
                hovered_response = Some(outcome.response);
                legend_breaks = comparison.difference_breaks.clone();
                legend_colors = colors;
                legend_counts = (counts, Vec::new());
                legend_no_data = no_data;
            }
        }
        if self.map_memory.detached() != memory_before.detached()
            || self.map_memory.zoom() != memory_before.zoom()
        {
            // The user moved the map: a saved view's extent is no longer what is shown.
            self.transition = None;
        }
        self.hovered_unit = hovered;
        if let (Some(unit), Some(response)) = (hovered, hovered_response) {
            response.on_hover_text_at_pointer(compare_tooltip(lang, &comparison, geometry, unit));
        }
        if let Some((grid, ground_m_per_px)) = wanted_grid
            && density_on
        {
            self.want_compare_density(grid, ground_m_per_px, now);
        }
        let presenting = self.presentation.is_some();
        let boundary_note = super::boundary_note(lang, &boundary_set.boundaries);
        let mut notes = if presenting {
            self.presentation_notes(&boundary_note)
        } else {
            vec![boundary_note]
        };
        notes.extend(self.export_k_note.clone().filter(|_| presenting));
        // The credits go into the legend: over two maps a corner of their own would cover one.
        notes.push(self.credits().join(" · "));
        let metric = match mode {
            CompareMode::Split => comparison.request.b.metric,
            _ => comparison.difference_metric,
        };
        let density = density_on.then(|| {
            let max = match mode {
                CompareMode::Split => self.compare_density_max(),
                _ => self
                    .compare
                    .density
                    .as_ref()
                    .map_or(0.0, |d| d.difference_max),
            };
            (max, self.persisted.map.density.ramp)
        });
        egui::Area::new(egui::Id::unique("compare_legend"))
            .anchor(egui::Align2::LEFT_BOTTOM, egui::vec2(8.0, -8.0))
            .order(egui::Order::Foreground)
            .constrain_to(rect)
            .show(ui.ctx(), |ui| {
                compare_legend_ui(
                    ui,
                    lang,
                    &CompareLegend {
                        mode,
                        metric,
                        change_as_count: mode == CompareMode::Difference
                            && comparison.difference_metric != comparison.request.b.metric,
                        breaks: &legend_breaks,
                        colors: &legend_colors,
                        class_counts: (&legend_counts.0, &legend_counts.1),
                        no_data: legend_no_data,
                        density,
                        notes: &notes,
                    },
                    // The strip leaves the right map's scale bar and credits free.
                    rect.width() * 0.72,
                );
            });
        self.map_overlays_ui(ui, rect, true, commands);
    }

    /// One map of the comparison in `rect` (`memory`: a copy of the map's memory to move, else
    /// the map's own).
    fn compare_map_ui(
        &mut self,
        ui: &mut egui::Ui,
        rect: egui::Rect,
        id: &str,
        memory: Option<&mut MapMemory>,
        draw: &MapDraw<'_>,
    ) -> MapOutcome {
        let t = self.lang.texts();
        let over_tiles = self
            .basemap
            .as_ref()
            .is_some_and(|b| b.online() || b.loaded() > 0);
        let settlements: Vec<crate::spatial::SettlementFact> = crate::spatial::settlements()
            .iter()
            .filter(|s| !over_tiles && !draw.geometry.units.iter().any(|u| u.name == s.name))
            .copied()
            .collect();
        let center = self.map_memory.detached().unwrap_or(lon_lat(68.5, 57.5));
        let memory = match memory {
            Some(m) => m,
            None => &mut self.map_memory,
        };
        let tiles = self.basemap.as_mut().map(|b| b as &mut dyn walkers::Tiles);
        let mut child = ui.new_child(egui::UiBuilder::new().max_rect(rect).id_salt(id));
        child.set_clip_rect(rect);
        let land_slot = over_tiles.then(|| child.painter().add(egui::Shape::Noop));
        let map = walkers::Map::new(tiles, memory, center)
            .zoom_with_ctrl(false)
            .with_plugin(BoundaryLayer {
                geometry: draw.geometry,
                fills: draw.fills,
                hatch: self.hatch.as_ref().map(egui::TextureHandle::id),
                hovered: draw.hovered,
                selected: &[],
                fill_opacity: if draw.density.is_some() {
                    theme::FILL_UNDER_DENSITY
                } else {
                    1.0
                },
                over_tiles,
            })
            .with_plugin(SettlementLayer {
                settlements: &settlements,
            });
        let map = match draw.density {
            Some((texture, grid)) => map.with_plugin(DensityLayer { texture, grid }),
            None => map,
        };
        let map = map
            .with_plugin(LabelLayer {
                geometry: draw.geometry,
                label_order: &self.label_order,
            })
            .with_plugin(ScaleBar {
                units: ScaleUnits {
                    metres: t.scale_m,
                    kilometres: t.scale_km,
                },
                corner: egui::Align2::RIGHT_BOTTOM,
            });
        let geometry = draw.geometry;
        let inner = map.show(&mut child, |ui, response, projector, _memory| {
            if let Some(slot) = land_slot {
                ui.painter()
                    .set(slot, egui::Shape::Vec(land_shapes(geometry, projector)));
            }
            let transform = ScreenTransform::new(projector);
            let center = projector.clip_rect().center();
            let (_, y) = projection::mercator_m_from_unit(transform.to_unit(center));
            let ground_m_per_px = projection::WORLD_M * projection::ground_scale_at_mercator_y_m(y)
                / transform.px_per_unit();
            let wanted = (
                density_grid(&transform, projector.clip_rect()),
                ground_m_per_px,
            );
            let hovered = response
                .hover_pos()
                .and_then(|pos| geometry.unit_at(transform.to_unit(pos)));
            (wanted, hovered)
        });
        let ((wanted, hovered), response) = (inner.inner, inner.response);
        MapOutcome {
            hovered,
            wanted_grid: Some(wanted),
            response,
        }
    }
}

/// The tooltip of a municipality in a comparison: A's and B's value and count, and B − A.
fn compare_tooltip(lang: Lang, c: &Comparison, geometry: &BoundaryGeometry, unit: usize) -> String {
    let t = lang.texts();
    let name = geometry
        .units
        .get(unit)
        .map(|u| u.name.clone())
        .unwrap_or_default();
    let Some(&label) = c.resolved.unit_labels.get(unit) else {
        return name;
    };
    let metric = c.request.b.metric;
    let value = |v: &[Option<f64>]| {
        v.get(label as usize).copied().flatten().map_or_else(
            || t.no_data_value.to_owned(),
            |x| lang.metric_value(metric, x),
        )
    };
    let count = |n: &[u64]| lang.number(n.get(label as usize).copied().unwrap_or(0));
    let mut lines = vec![name];
    for (letter, side) in [(t.compare_letter_a, &c.a), (t.compare_letter_b, &c.b)] {
        let line = if metric == crate::analysis::Metric::Count {
            format!("{letter}: {} {}", count(&side.counts), t.appeals_unit)
        } else {
            format!(
                "{letter}: {} ({} {})",
                value(&side.values),
                count(&side.counts),
                t.appeals_unit
            )
        };
        lines.push(line);
    }
    let difference = c
        .difference
        .get(label as usize)
        .copied()
        .flatten()
        .map_or_else(
            || t.no_data_value.to_owned(),
            |d| crate::ui::compare::signed_value(lang, c.difference_metric, d),
        );
    lines.push(format!(
        "{} − {}: {difference}",
        t.compare_letter_b, t.compare_letter_a
    ));
    lines.join("\n")
}
