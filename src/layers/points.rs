//! The appeals layer of the foundation: at low zoom the placed appeals are counted in screen
//! cells and drawn as a coloured grid (a quick aggregate; the kernel-density layer is its own
//! issue), zoomed in they are individual points. The shapes are cached: a frame that only
//! repaints (hover, a tooltip) with the same points and the same view of the map reuses them
//! instead of going over every appeal again.

use egui::{Rect, Response, Shape, Ui, pos2, vec2};
use walkers::{MapMemory, Plugin, Projector};

use super::ScreenTransform;
use crate::ui::theme;

/// Zoom from which individual points are drawn.
pub const POINTS_FROM_ZOOM: f64 = 12.0;
/// At most this many individual points are drawn; beyond, cells.
pub const MAX_POINTS: usize = 20_000;
/// Side of an aggregation cell, in screen points.
pub const CELL_PX: f32 = 10.0;

/// What the layer drew, for the legend.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub enum PointsLegend {
    #[default]
    Nothing,
    /// Cells coloured by count, from 1 to `max_per_cell`.
    Cells { max_per_cell: u32 },
    /// Individual points.
    Points { visible: u32 },
}

/// Shapes of the last frame, with what they were computed for.
#[derive(Default)]
pub struct PointsCache {
    key: Option<CacheKey>,
    shapes: Vec<Shape>,
    legend: PointsLegend,
}

#[derive(Clone, Copy, PartialEq)]
struct CacheKey {
    points: (usize, usize),
    rect: Rect,
    center_px: [u32; 2],
    center_unit: [u64; 2],
    px_per_unit: u64,
}

/// Draws appeals given as Web-Mercator unit coordinates.
pub struct PointsLayer<'a> {
    pub points_unit: &'a [[f64; 2]],
    pub cache: &'a mut PointsCache,
    /// Filled in by [`Plugin::run`].
    pub legend: PointsLegend,
}

impl Plugin for &mut PointsLayer<'_> {
    fn run(
        self: Box<Self>,
        ui: &mut Ui,
        _response: &Response,
        projector: &Projector,
        _memory: &MapMemory,
    ) {
        let rect = projector.clip_rect();
        let painter = ui.painter().with_clip_rect(rect);
        let t = ScreenTransform::new(projector);
        let center_px = rect.center();
        let center_unit = t.to_unit(center_px);
        let key = CacheKey {
            points: (self.points_unit.as_ptr() as usize, self.points_unit.len()),
            rect,
            center_px: [center_px.x.to_bits(), center_px.y.to_bits()],
            center_unit: [center_unit[0].to_bits(), center_unit[1].to_bits()],
            px_per_unit: t.px_per_unit().to_bits(),
        };
        if self.cache.key != Some(key) {
            let (shapes, legend) = build(self.points_unit, rect, &t, projector.zoom());
            self.cache.shapes = shapes;
            self.cache.legend = legend;
            self.cache.key = Some(key);
        }
        painter.extend(self.cache.shapes.iter().cloned());
        self.legend = self.cache.legend;
    }
}

fn build(
    points_unit: &[[f64; 2]],
    rect: Rect,
    t: &ScreenTransform,
    zoom: f64,
) -> (Vec<Shape>, PointsLegend) {
    if zoom >= POINTS_FROM_ZOOM {
        // Individual points as one mesh of small squares; too many to read one by one (a
        // whole city at zoom 12) stay cells.
        let half_px = 2.5;
        let visible: Vec<egui::Pos2> = points_unit
            .iter()
            .map(|&p| t.to_screen(p))
            .filter(|pos| rect.expand(half_px).contains(*pos))
            .take(MAX_POINTS + 1)
            .collect();
        if visible.len() <= MAX_POINTS {
            let mut mesh = egui::Mesh::default();
            for pos in &visible {
                mesh.add_colored_rect(
                    Rect::from_center_size(*pos, vec2(2.0 * half_px, 2.0 * half_px)),
                    theme::POINT_FILL,
                );
            }
            let count = visible.len() as u32;
            return (
                vec![Shape::mesh(mesh)],
                PointsLegend::Points { visible: count },
            );
        }
    }
    let cols = (rect.width() / CELL_PX).ceil() as i64 + 1;
    let rows = (rect.height() / CELL_PX).ceil() as i64 + 1;
    let mut counts = vec![0_u32; (cols * rows).max(0) as usize];
    for &p in points_unit {
        let pos = t.to_screen(p);
        let cx = ((pos.x - rect.min.x) / CELL_PX).floor() as i64;
        let cy = ((pos.y - rect.min.y) / CELL_PX).floor() as i64;
        if (0..cols).contains(&cx)
            && (0..rows).contains(&cy)
            && let Some(c) = counts.get_mut((cy * cols + cx) as usize)
        {
            *c += 1;
        }
    }
    let max = counts.iter().copied().max().unwrap_or(0);
    if max == 0 {
        return (Vec::new(), PointsLegend::Nothing);
    }
    let log_max = (max as f32).ln_1p();
    let mut mesh = egui::Mesh::default();
    for (k, &n) in counts.iter().enumerate().filter(|(_, n)| **n > 0) {
        let cx = (k as i64 % cols) as f32;
        let cy = (k as i64 / cols) as f32;
        let min = pos2(rect.min.x + cx * CELL_PX, rect.min.y + cy * CELL_PX);
        let share = (n as f32).ln_1p() / log_max;
        mesh.add_colored_rect(
            Rect::from_min_size(min, vec2(CELL_PX, CELL_PX)),
            theme::ramp(&theme::POINTS_RAMP, share, 200),
        );
    }
    let shapes = vec![Shape::mesh(mesh)];
    (shapes, PointsLegend::Cells { max_per_cell: max })
}
