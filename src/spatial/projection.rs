//! Web-Mercator (EPSG:3857) maths, the plane every grid and partition is computed in, so that it
//! stays axis-aligned on the slippy map. Formulas: <https://epsg.io/3857>.

use std::f64::consts::PI;

/// Semi-major axis of WGS84, the sphere radius of Web-Mercator.
pub const EARTH_RADIUS_M: f64 = 6_378_137.0;
/// Latitude limit of Web-Mercator.
pub const MAX_LAT: f64 = 85.051_128_779_806_59;
/// Side of the whole-world Mercator square, metres (the equator's length).
pub const WORLD_M: f64 = 2.0 * PI * EARTH_RADIUS_M;

/// Web-Mercator metres of a WGS84 point.
pub fn mercator_m_from_lon_lat(lon: f64, lat: f64) -> (f64, f64) {
    let lat = lat.clamp(-MAX_LAT, MAX_LAT);
    let x_m = EARTH_RADIUS_M * lon.to_radians();
    let y_m = EARTH_RADIUS_M * (PI / 4.0 + lat.to_radians() / 2.0).tan().ln();
    (x_m, y_m)
}

/// WGS84 point of Web-Mercator metres.
pub fn lon_lat_from_mercator_m(x_m: f64, y_m: f64) -> (f64, f64) {
    let lon = (x_m / EARTH_RADIUS_M).to_degrees();
    let lat = (2.0 * (y_m / EARTH_RADIUS_M).exp().atan() - PI / 2.0).to_degrees();
    (lon, lat)
}

/// Position on the whole-world Mercator square normalised to 0..1, x east, **y down** (south),
/// the layout of slippy-map tiles: screen pixels are this times `256 · 2^zoom`.
pub fn mercator_unit_from_lon_lat(lon: f64, lat: f64) -> (f64, f64) {
    let lat = lat.clamp(-MAX_LAT, MAX_LAT);
    let x = (lon + 180.0) / 360.0;
    let y = (1.0 - lat.to_radians().tan().asinh() / PI) / 2.0;
    (x, y)
}

/// Inverse of [`mercator_unit_from_lon_lat`].
pub fn lon_lat_from_mercator_unit(x: f64, y: f64) -> (f64, f64) {
    let lon = x * 360.0 - 180.0;
    let lat = (PI * (1.0 - 2.0 * y)).sinh().atan().to_degrees();
    (lon, lat)
}

/// Web-Mercator metres of a unit-square position (0..1, y down).
pub fn mercator_m_from_unit(unit: [f64; 2]) -> (f64, f64) {
    ((unit[0] - 0.5) * WORLD_M, (0.5 - unit[1]) * WORLD_M)
}

/// Unit-square position (0..1, y down) of Web-Mercator metres.
pub fn unit_from_mercator_m(x_m: f64, y_m: f64) -> [f64; 2] {
    [x_m / WORLD_M + 0.5, 0.5 - y_m / WORLD_M]
}

/// Ground metres per Mercator metre at Mercator northing `y_m`: cos(lat) = 1 / cosh(y / R).
pub fn ground_scale_at_mercator_y_m(y_m: f64) -> f64 {
    1.0 / (y_m / EARTH_RADIUS_M).cosh()
}

/// Whether a WGS84 coordinate pair can be placed on the map at all.
pub fn is_valid_lon_lat(lon: f64, lat: f64) -> bool {
    lon.is_finite()
        && lat.is_finite()
        && (-180.0..=180.0).contains(&lon)
        && (-90.0..=90.0).contains(&lat)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tyumen_round_trips_in_metres_and_unit_square() {
        let (lon, lat) = (65.5343, 57.1522);
        let (x, y) = mercator_m_from_lon_lat(lon, lat);
        // EPSG:3857 of Tyumen (computed independently with Python's math module).
        assert!((x - 7_295_244.9).abs() < 0.5, "x = {x}");
        assert!((y - 7_791_290.9).abs() < 0.5, "y = {y}");
        let (lon2, lat2) = lon_lat_from_mercator_m(x, y);
        assert!((lon - lon2).abs() < 1e-9 && (lat - lat2).abs() < 1e-9);
        let (ux, uy) = mercator_unit_from_lon_lat(lon, lat);
        let (lon3, lat3) = lon_lat_from_mercator_unit(ux, uy);
        assert!((lon - lon3).abs() < 1e-9 && (lat - lat3).abs() < 1e-9);
        assert!(uy < 0.5, "north of the equator is the upper half");
    }

    #[test]
    fn unit_square_and_metres_agree_and_scale_is_cos_lat() {
        let (lon, lat) = (65.5343, 57.1522);
        let (ux, uy) = mercator_unit_from_lon_lat(lon, lat);
        let (x, y) = mercator_m_from_unit([ux, uy]);
        let (x2, y2) = mercator_m_from_lon_lat(lon, lat);
        assert!(
            (x - x2).abs() < 1e-3 && (y - y2).abs() < 1e-3,
            "{x},{y} vs {x2},{y2}"
        );
        let back = unit_from_mercator_m(x, y);
        assert!((back[0] - ux).abs() < 1e-12 && (back[1] - uy).abs() < 1e-12);
        let scale = ground_scale_at_mercator_y_m(y);
        assert!(
            (scale - lat.to_radians().cos()).abs() < 1e-12,
            "scale = {scale}"
        );
        assert_eq!(ground_scale_at_mercator_y_m(0.0), 1.0);
    }

    #[test]
    fn validity() {
        assert!(is_valid_lon_lat(65.0, 57.0));
        assert!(!is_valid_lon_lat(f64::NAN, 57.0));
        assert!(!is_valid_lon_lat(200.0, 57.0));
        assert!(!is_valid_lon_lat(65.0, -91.0));
    }
}
