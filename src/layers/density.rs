//! The kernel-density layer: the last computed surface as a texture stretched over its grid's
//! Web-Mercator box. Drawn at the box's projected corners every frame, it follows dragging and
//! zooming at no cost (re-projected, slightly blurred until the next surface arrives).

use egui::{Rect, Response, TextureHandle, Ui, pos2};
use walkers::{MapMemory, Plugin, Projector};

use super::ScreenTransform;
use crate::analysis::Grid;
use crate::spatial::projection::EARTH_RADIUS_M;
use crate::ui::theme;

/// Unit-square position (0..1, y down) of Web-Mercator metres.
pub fn unit_of_mercator_m(x_m: f64, y_m: f64) -> [f64; 2] {
    let world_m = 2.0 * std::f64::consts::PI * EARTH_RADIUS_M;
    [x_m / world_m + 0.5, 0.5 - y_m / world_m]
}

/// Web-Mercator metres of a unit-square position.
pub fn mercator_m_of_unit(unit: [f64; 2]) -> (f64, f64) {
    let world_m = 2.0 * std::f64::consts::PI * EARTH_RADIUS_M;
    ((unit[0] - 0.5) * world_m, (0.5 - unit[1]) * world_m)
}

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
        let north_west = t.to_screen(unit_of_mercator_m(g.x_min_m, g.y_max_m));
        let south_east = t.to_screen(unit_of_mercator_m(
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
