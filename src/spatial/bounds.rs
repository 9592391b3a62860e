//! `GeoBounds`: a lon/lat bounding box and the slippy-map zoom that fits it on a screen.

use super::projection::mercator_unit_from_lon_lat;

/// A WGS84 bounding box, lon before lat.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GeoBounds {
    pub lon_min: f64,
    pub lat_min: f64,
    pub lon_max: f64,
    pub lat_max: f64,
}

impl GeoBounds {
    /// Bounds of the given points; `None` when there are none.
    pub fn from_points(points: impl IntoIterator<Item = (f64, f64)>) -> Option<Self> {
        let mut bounds: Option<Self> = None;
        for (lon, lat) in points {
            bounds = Some(match bounds {
                None => Self {
                    lon_min: lon,
                    lat_min: lat,
                    lon_max: lon,
                    lat_max: lat,
                },
                Some(b) => b.extended(lon, lat),
            });
        }
        bounds
    }

    /// These bounds grown to include a point.
    pub fn extended(self, lon: f64, lat: f64) -> Self {
        Self {
            lon_min: self.lon_min.min(lon),
            lat_min: self.lat_min.min(lat),
            lon_max: self.lon_max.max(lon),
            lat_max: self.lat_max.max(lat),
        }
    }

    /// Union of two bounds.
    pub fn union(self, other: Self) -> Self {
        self.extended(other.lon_min, other.lat_min)
            .extended(other.lon_max, other.lat_max)
    }

    /// Centre in Web-Mercator (so that the box looks centred on the map), as (lon, lat).
    pub fn center(&self) -> (f64, f64) {
        let (x0, y0) = mercator_unit_from_lon_lat(self.lon_min, self.lat_max);
        let (x1, y1) = mercator_unit_from_lon_lat(self.lon_max, self.lat_min);
        super::projection::lon_lat_from_mercator_unit((x0 + x1) / 2.0, (y0 + y1) / 2.0)
    }

    /// The largest zoom (256-px tiles) at which the box fits into `width_px × height_px` with
    /// `margin_px` free on every side, clamped to 1..=18.
    pub fn zoom_to_fit(&self, width_px: f64, height_px: f64, margin_px: f64) -> f64 {
        let (x0, y0) = mercator_unit_from_lon_lat(self.lon_min, self.lat_max);
        let (x1, y1) = mercator_unit_from_lon_lat(self.lon_max, self.lat_min);
        let span_x = (x1 - x0).abs().max(1e-9);
        let span_y = (y1 - y0).abs().max(1e-9);
        let usable_w = (width_px - 2.0 * margin_px).max(16.0);
        let usable_h = (height_px - 2.0 * margin_px).max(16.0);
        let zoom_x = (usable_w / (256.0 * span_x)).log2();
        let zoom_y = (usable_h / (256.0 * span_y)).log2();
        zoom_x.min(zoom_y).clamp(1.0, 18.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fits_oblast_on_a_laptop_screen() {
        let b = GeoBounds::from_points([(64.8, 55.1), (75.2, 60.0)]).unwrap();
        let z = b.zoom_to_fit(1200.0, 800.0, 20.0);
        // 10.4° of longitude across ~1160 px: zoom ≈ 6.8.
        assert!((6.0..7.5).contains(&z), "zoom {z}");
        let (lon, lat) = b.center();
        assert!((lon - 70.0).abs() < 1e-9);
        assert!(
            lat > 57.55 && lat < 57.75,
            "mercator centre is north of the mid latitude: {lat}"
        );
    }

    #[test]
    fn empty_has_no_bounds() {
        assert!(GeoBounds::from_points(std::iter::empty()).is_none());
    }
}
