//! The kernel-density layer: the last computed surface as a texture stretched over its grid's
//! Web-Mercator box. Drawn at the box's projected corners every frame, it follows dragging and
//! zooming at no cost (re-projected, slightly blurred until the next surface arrives).

use egui::{Rect, Response, TextureHandle, Ui, pos2};
use walkers::{MapMemory, Plugin, Projector};

use super::ScreenTransform;
use crate::analysis::Grid;
use crate::spatial::projection::unit_from_mercator_m;
use crate::ui::theme;

/// Draws a density texture over its grid.
pub struct DensityLayer<'a> {
    pub texture: &'a TextureHandle,
    pub grid: Grid,
}

impl Plugin for DensityLayer<'_> {
    fn run(
        self: Box<Self>,
        ui: &mut Ui,
        _response: &Response,
        projector: &Projector,
        _memory: &MapMemory,
    ) {
        let clip = projector.clip_rect();
        let t = ScreenTransform::new(projector);
        let g = &self.grid;
        let north_west = t.to_screen(unit_from_mercator_m(g.x_min_m, g.y_max_m));
        let south_east = t.to_screen(unit_from_mercator_m(
            g.x_min_m + g.cell_m * g.width as f64,
            g.y_max_m - g.cell_m * g.height as f64,
        ));
        ui.painter().with_clip_rect(clip).image(
            self.texture.id(),
            Rect::from_two_pos(north_west, south_east),
            Rect::from_min_max(pos2(0.0, 0.0), pos2(1.0, 1.0)),
            theme::TEXTURE_TINT,
        );
    }
}
