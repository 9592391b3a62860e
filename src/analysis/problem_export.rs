//! The problem map as files for GIS users: one record per zone with every figure the problem
//! list shows — GeoJSON (WGS84; points for settlements, polygons for grid cells and
//! municipalities) and CSV (UTF-8, with the position as `lon`, `lat`).

use geo::MultiPolygon;

use super::hotspot::Change;
use super::problems::{ProblemMap, RankBy, ZoneShape, ZoneStats, Zones, ranked};
use crate::spatial::Boundaries;

/// Columns of the CSV and properties of the GeoJSON, in order.
pub const FIELDS: &[&str] = &[
    "rank",
    "zone_id",
    "name",
    "municipality",
    "nearest_settlement",
    "lon",
    "lat",
    "appeals",
    "incidents",
    "gi_z",
    "gi_p",
    "gi_bin",
    "trend",
    "mk_s",
    "mk_z",
    "mk_p",
    "mk_tau",
    "series",
    "hot_slices",
    "open",
    "overdue",
    "median_days_to_answer",
    "last_appeal",
    "before",
    "after",
    "before_per_day",
    "after_per_day",
    "rate_ratio",
    "rate_ratio_low",
    "rate_ratio_high",
    "change",
];

/// The zones written: every zone with appeals (in problem-list order, by z-score), then zones
/// without appeals that are nonetheless significant (a quiet zone among hot neighbours).
pub fn exported_zones(map: &ProblemMap) -> Vec<usize> {
    let mut out = ranked(map, RankBy::ZScore);
    out.extend(
        map.zones
            .iter()
            .enumerate()
            .filter(|(_, z)| z.appeals == 0 && z.class.gi_bin() != 0)
            .map(|(k, _)| k),
    );
    out
}

fn num(x: f64, digits: usize) -> String {
    if x.is_finite() {
        format!("{x:.digits$}")
    } else if x == f64::INFINITY {
        "inf".to_owned()
    } else {
        String::new()
    }
}

fn change_key(c: Change) -> &'static str {
    match c {
        Change::Improved => "improved",
        Change::NoChange => "no_change",
        Change::Worse => "worse",
        Change::NoData => "no_data",
    }
}

/// The values of [`FIELDS`] for one zone, as text.
fn record(rank: usize, zones: &Zones, s: &ZoneStats, near: &str) -> Vec<String> {
    let zone = zones.zones.get(s.zone as usize);
    let (lon, lat) = zone
        .and_then(|z| z.lon_lat)
        .map_or((String::new(), String::new()), |(lon, lat)| {
            (num(lon, 6), num(lat, 6))
        });
    let join = |v: &mut dyn Iterator<Item = String>| v.collect::<Vec<_>>().join(";");
    let rr = s.intervention.as_ref();
    vec![
        rank.to_string(),
        s.zone.to_string(),
        zone.map(|z| z.display_name(near)).unwrap_or_default(),
        zone.map(|z| z.municipality.clone()).unwrap_or_default(),
        zone.map(|z| z.nearest_settlement.clone())
            .unwrap_or_default(),
        lon,
        lat,
        s.appeals.to_string(),
        s.incidents.to_string(),
        s.gi.map(|g| num(g.z, 6)).unwrap_or_default(),
        s.gi.map(|g| num(g.p, 6)).unwrap_or_default(),
        s.class.gi_bin().to_string(),
        s.emerging.key().to_owned(),
        s.trend.s.to_string(),
        num(s.trend.z, 4),
        num(s.trend.p, 6),
        num(s.trend.tau, 4),
        join(&mut s.series.iter().map(u32::to_string)),
        join(&mut s.hot_slices.iter().map(|h| u8::from(*h).to_string())),
        s.open.to_string(),
        s.overdue.to_string(),
        s.median_days_to_answer
            .map(|d| num(d, 2))
            .unwrap_or_default(),
        s.last_day.map(|d| d.to_string()).unwrap_or_default(),
        rr.map(|r| r.before.to_string()).unwrap_or_default(),
        rr.map(|r| r.after.to_string()).unwrap_or_default(),
        rr.map(|r| num(r.before as f64 / r.before_days, 4))
            .unwrap_or_default(),
        rr.map(|r| num(r.after as f64 / r.after_days, 4))
            .unwrap_or_default(),
        rr.and_then(|r| r.ratio)
            .map(|x| num(x, 4))
            .unwrap_or_default(),
        rr.map(|r| num(r.low, 4)).unwrap_or_default(),
        rr.map(|r| num(r.high, 4)).unwrap_or_default(),
        s.change.map(change_key).unwrap_or_default().to_owned(),
    ]
}

/// The problem map as CSV (header [`FIELDS`]); `near` is the word joining a cell's
/// municipality and nearest settlement ("у", "near").
pub fn problems_csv(map: &ProblemMap, zones: &Zones, near: &str) -> Result<Vec<u8>, csv::Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(FIELDS)?;
    for (rank, k) in exported_zones(map).into_iter().enumerate() {
        if let Some(s) = map.zones.get(k) {
            w.write_record(record(rank + 1, zones, s, near))?;
        }
    }
    w.into_inner().map_err(|e| csv::Error::from(e.into_error()))
}

fn property(field: &str, text: String) -> serde_json::Value {
    const NUMERIC: &[&str] = &[
        "rank",
        "zone_id",
        "lon",
        "lat",
        "appeals",
        "incidents",
        "gi_z",
        "gi_p",
        "gi_bin",
        "mk_s",
        "mk_z",
        "mk_p",
        "mk_tau",
        "open",
        "overdue",
        "median_days_to_answer",
        "before",
        "after",
        "before_per_day",
        "after_per_day",
        "rate_ratio",
        "rate_ratio_low",
        "rate_ratio_high",
    ];
    if NUMERIC.contains(&field) {
        // Whole numbers stay integers (GIS tools then read counts as integer fields).
        if let Ok(n) = text.parse::<i64>() {
            return serde_json::Value::Number(n.into());
        }
        match text.parse::<f64>() {
            Ok(x) if x.is_finite() => serde_json::Number::from_f64(x)
                .map_or(serde_json::Value::Null, serde_json::Value::Number),
            // An unbounded upper limit stays a string: JSON has no infinity.
            _ if text == "inf" => serde_json::Value::String(text),
            _ => serde_json::Value::Null,
        }
    } else if text.is_empty() {
        serde_json::Value::Null
    } else {
        serde_json::Value::String(text)
    }
}

fn geometry_of(zones: &Zones, s: &ZoneStats, boundaries: &Boundaries) -> Option<geojson::Geometry> {
    let zone = zones.zones.get(s.zone as usize)?;
    match zone.shape {
        ZoneShape::Point => {
            let (lon, lat) = zone.lon_lat?;
            Some(geojson::Geometry::new_point(vec![lon, lat]))
        }
        ZoneShape::Hexagon { .. } => {
            let ring: Vec<Vec<f64>> = zone
                .hexagon_lon_lat()?
                .into_iter()
                .map(|(lon, lat)| vec![lon, lat])
                .collect();
            Some(geojson::Geometry::new(geojson::GeometryValue::new_polygon(
                [ring],
            )))
        }
        ZoneShape::Unit(u) => {
            let polygon: &MultiPolygon<f64> = &boundaries.units.get(u)?.polygon_lon_lat;
            Some(geojson::Geometry::new(geojson::GeometryValue::from(
                polygon,
            )))
        }
    }
}

/// The problem map as a GeoJSON FeatureCollection (WGS84), one feature per exported zone with
/// the [`FIELDS`] as properties (numbers as numbers, `series` and `hot_slices` as
/// `;`-separated text, as in the CSV). `slices` names the time slices (first days) in the
/// collection's `slices` member.
pub fn problems_geojson(
    map: &ProblemMap,
    zones: &Zones,
    boundaries: &Boundaries,
    near: &str,
) -> String {
    let features = exported_zones(map)
        .into_iter()
        .enumerate()
        .filter_map(|(rank, k)| {
            let s = map.zones.get(k)?;
            let values = record(rank + 1, zones, s, near);
            let properties: serde_json::Map<String, serde_json::Value> = FIELDS
                .iter()
                .zip(values)
                .map(|(f, v)| ((*f).to_owned(), property(f, v)))
                .collect();
            Some(geojson::Feature {
                bbox: None,
                geometry: geometry_of(zones, s, boundaries),
                id: None,
                properties: Some(properties),
                foreign_members: None,
            })
        })
        .collect();
    let mut members = serde_json::Map::new();
    members.insert(
        "slices".to_owned(),
        serde_json::Value::Array(
            map.slices
                .iter()
                .map(|(a, b)| serde_json::Value::String(format!("{a}/{b}")))
                .collect(),
        ),
    );
    geojson::FeatureCollection {
        bbox: None,
        features,
        foreign_members: Some(members),
    }
    .to_string()
}
