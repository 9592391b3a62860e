//! Walkers plugins that draw what the lower layers prepared: municipality boundaries (with the
//! plain land background, since the built-in map needs no tiles) and the appeals (binned at low
//! zoom, individual points when zoomed in). Plugins are cheap borrowed views, rebuilt each frame;
//! geometry is prepared once, in Web-Mercator unit coordinates, and only scaled per frame.

mod boundaries;
mod density;
mod points;
mod problems;
mod reference;
mod tiles;

pub use boundaries::{BoundaryGeometry, BoundaryLayer, LabelLayer, UnitGeometry, land_shapes};
pub use density::DensityLayer;
pub use points::{PointsCache, PointsLayer, PointsLegend};
pub use problems::{ProblemLayer, ZoneDraw};
pub use reference::{
    PlacedSettlement, ScaleBar, ScaleUnits, SettlementLayer, dot_radius_px, ground_m_per_px,
    label_font_size, min_zoom_for_population, place_settlements, scale_bar_label,
    scale_bar_length_m,
};
pub use tiles::{CACHE_TILES, MAX_QUEUED, MAX_WORKERS, SourceTiles, SourceTilesStats, ancestor_uv};

use egui::Pos2;
use walkers::Projector;

use crate::spatial::projection::{lon_lat_from_mercator_unit, mercator_unit_from_lon_lat};

/// Maps Web-Mercator unit coordinates (0..1, y down) to screen points for one frame.
#[derive(Clone, Copy, Debug)]
pub struct ScreenTransform {
    center_px: Pos2,
    center_unit: [f64; 2],
    /// Screen pixels per unit: `256 · 2^zoom`.
    px_per_unit: f64,
}

impl ScreenTransform {
    /// The transform of the map the projector draws.
    pub fn new(projector: &Projector) -> Self {
        let center_px = projector.clip_rect().center();
        let center = projector.unproject(center_px.to_vec2());
        let (x, y) = mercator_unit_from_lon_lat(center.x(), center.y());
        Self {
            center_px,
            center_unit: [x, y],
            px_per_unit: 256.0 * 2f64.powf(projector.zoom()),
        }
    }

    /// Screen position of a unit-square point.
    pub fn to_screen(&self, unit: [f64; 2]) -> Pos2 {
        Pos2::new(
            (f64::from(self.center_px.x) + (unit[0] - self.center_unit[0]) * self.px_per_unit)
                as f32,
            (f64::from(self.center_px.y) + (unit[1] - self.center_unit[1]) * self.px_per_unit)
                as f32,
        )
    }

    /// Unit-square point under a screen position.
    pub fn to_unit(&self, pos: Pos2) -> [f64; 2] {
        [
            self.center_unit[0] + f64::from(pos.x - self.center_px.x) / self.px_per_unit,
            self.center_unit[1] + f64::from(pos.y - self.center_px.y) / self.px_per_unit,
        ]
    }

    /// (lon, lat) under a screen position.
    pub fn lon_lat_at(&self, pos: Pos2) -> (f64, f64) {
        let [x, y] = self.to_unit(pos);
        lon_lat_from_mercator_unit(x, y)
    }

    /// Screen pixels per unit.
    pub fn px_per_unit(&self) -> f64 {
        self.px_per_unit
    }
}
