//! The appeals layer of the foundation: at low zoom the placed appeals are counted in screen
//! cells and drawn as a coloured grid (a quick aggregate; the kernel-density layer is its own
//! issue), zoomed in they are individual points.

use egui::{Rect, Response, Ui, pos2, vec2};
use walkers::{MapMemory, Plugin, Projector};

use super::ScreenTransform;
use crate::ui::theme;

/// Zoom from which individual points are drawn.
pub const POINTS_FROM_ZOOM: f64 = 12.0;
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

/// Draws appeals given as Web-Mercator unit coordinates.
pub struct PointsLayer<'a> {
    pub points_unit: &'a [[f64; 2]],
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
        if projector.zoom() >= POINTS_FROM_ZOOM {
            let mut visible = 0;
            let radius_px = 3.0;
            for &p in self.points_unit {
                let pos = t.to_screen(p);
                if rect.expand(radius_px).contains(pos) {
                    painter.circle(pos, radius_px, theme::POINT_FILL, theme::POINT_STROKE);
                    visible += 1;
                }
            }
            self.legend = PointsLegend::Points { visible };
            return;
        }
        let cols = (rect.width() / CELL_PX).ceil() as i64 + 1;
        let rows = (rect.height() / CELL_PX).ceil() as i64 + 1;
        let mut counts = vec![0_u32; (cols * rows).max(0) as usize];
        for &p in self.points_unit {
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
            self.legend = PointsLegend::Nothing;
            return;
        }
        let log_max = (max as f32).ln_1p();
        for (k, &n) in counts.iter().enumerate() {
            if n == 0 {
                continue;
            }
            let cx = (k as i64 % cols) as f32;
            let cy = (k as i64 / cols) as f32;
            let min = pos2(rect.min.x + cx * CELL_PX, rect.min.y + cy * CELL_PX);
            let share = (n as f32).ln_1p() / log_max;
            painter.rect_filled(
                Rect::from_min_size(min, vec2(CELL_PX, CELL_PX)),
                0.0,
                theme::ramp(&theme::POINTS_RAMP, share, 200),
            );
        }
        self.legend = PointsLegend::Cells { max_per_cell: max };
    }
}
