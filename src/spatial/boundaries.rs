//! Municipality boundaries: the built-in schematic partition (so the app works with nothing
//! installed) or real polygons from any GeoJSON FeatureCollection, with feature names matched to
//! the municipality table.
//!
//! # The schematic partition
//!
//! Real boundaries are not bundled. Instead, the oblast outline (`data/`) is split into Voronoi
//! cells around the centroids of the real district polygons, in Web-Mercator metres; the small
//! city okrugs (Тюмень, Тобольск, Ишим, Ялуторовск) are discs of their real area around their
//! centres, cut out of the surrounding cells. It is labelled "schematic boundaries" in the UI.

use std::path::{Path, PathBuf};

use geo::{
    BooleanOps as _, BoundingRect as _, Contains as _, Coord, InteriorPoint as _, LineString,
    MultiPolygon, Point, Polygon,
};

use super::names::MunicipalityMatcher;
use super::projection::{lon_lat_from_mercator_m, mercator_m_from_lon_lat};
use super::region::{MunicipalityKind, municipalities, oblast_outline};
use super::{GeoBounds, SpatialError};

/// Property names tried, in order, when the name property of a GeoJSON is not given.
pub const NAME_PROPERTY_CANDIDATES: &[&str] = &[
    "name",
    "NAME",
    "Name",
    "district",
    "DISTRICT",
    "name_ru",
    "NAME_RU",
    "name:ru",
    "municipality",
    "MUNICIPALITY",
    "municipal",
    "mo",
    "MO",
    "shapeName",
    "NAME_2",
    "NAME_1",
    "NL_NAME_2",
];

/// Where the boundaries came from.
#[derive(Clone, Debug, PartialEq)]
pub enum BoundaryKind {
    /// The built-in schematic partition.
    Schematic,
    /// Polygons read from a GeoJSON file, names taken from `name_property`.
    File {
        path: PathBuf,
        name_property: String,
    },
}

/// One polygon feature.
#[derive(Clone, Debug)]
pub struct BoundaryUnit {
    /// The name as written in the source.
    pub name: String,
    /// Index into [`super::municipalities`] when the name matched.
    pub municipality: Option<usize>,
    /// The polygons, lon/lat.
    pub polygon_lon_lat: MultiPolygon<f64>,
    /// Where to put the label: a point inside the polygon (lon, lat).
    pub label_lon_lat: (f64, f64),
    bounds: GeoBounds,
}

impl BoundaryUnit {
    fn new(
        name: String,
        municipality: Option<usize>,
        polygon_lon_lat: MultiPolygon<f64>,
    ) -> Option<Self> {
        let rect = polygon_lon_lat.bounding_rect()?;
        let label = polygon_lon_lat
            .interior_point()
            .map_or(rect.center(), |p| p.0);
        Some(Self {
            name,
            municipality,
            label_lon_lat: (label.x, label.y),
            bounds: GeoBounds {
                lon_min: rect.min().x,
                lat_min: rect.min().y,
                lon_max: rect.max().x,
                lat_max: rect.max().y,
            },
            polygon_lon_lat,
        })
    }

    /// Bounding box of the unit.
    pub fn bounds(&self) -> GeoBounds {
        self.bounds
    }
}

/// A set of municipality polygons.
#[derive(Clone, Debug)]
pub struct Boundaries {
    pub kind: BoundaryKind,
    pub units: Vec<BoundaryUnit>,
    /// Features skipped because their geometry is not a polygon.
    pub skipped_features: usize,
}

impl Boundaries {
    /// The built-in schematic partition of Tyumen oblast (see the module docs).
    pub fn schematic() -> Self {
        let facts = municipalities();
        let outline = mercator_polygon(oblast_outline());
        let is_disc = |i: usize| {
            facts
                .get(i)
                .is_some_and(|m| m.kind == MunicipalityKind::UrbanOkrug && m.area_km2 < 1_000.0)
        };
        let discs: Vec<(usize, Polygon<f64>)> = (0..facts.len())
            .filter(|&i| is_disc(i))
            .filter_map(|i| {
                let m = facts.get(i)?;
                let radius_ground_m = (m.area_km2 * 1e6 / std::f64::consts::PI).sqrt();
                // Mercator stretches ground distances by 1/cos(lat).
                let radius_m = radius_ground_m / m.centre_lat.to_radians().cos();
                Some((
                    i,
                    disc(
                        mercator_m_from_lon_lat(m.centre_lon, m.centre_lat),
                        radius_m,
                        48,
                    ),
                ))
            })
            .collect();
        let all_discs = MultiPolygon::new(discs.iter().map(|(_, p)| p.clone()).collect());
        let generators: Vec<(usize, (f64, f64))> = facts
            .iter()
            .enumerate()
            .filter(|&(i, _)| !is_disc(i))
            .map(|(i, m)| (i, mercator_m_from_lon_lat(m.centroid_lon, m.centroid_lat)))
            .collect();

        let frame = outline.bounding_rect().map(|r| {
            let pad = 200_000.0;
            vec![
                (r.min().x - pad, r.min().y - pad),
                (r.max().x + pad, r.min().y - pad),
                (r.max().x + pad, r.max().y + pad),
                (r.min().x - pad, r.max().y + pad),
            ]
        });
        let mut units = Vec::with_capacity(facts.len());
        if let Some(frame) = frame {
            for &(i, g) in &generators {
                let mut cell = frame.clone();
                for &(j, h) in &generators {
                    if i != j {
                        cell = clip_to_closer_half(&cell, g, h);
                    }
                }
                let cell = Polygon::new(LineString::from(close(cell)), vec![]);
                let shape = cell.intersection(&outline).difference(&all_discs);
                let Some(m) = facts.get(i) else { continue };
                let label = lon_lat_of(g);
                if let Some(mut unit) =
                    BoundaryUnit::new(m.name.to_owned(), Some(i), to_lon_lat(&shape))
                {
                    unit.label_lon_lat = label;
                    units.push(unit);
                }
            }
        }
        for (i, d) in discs {
            let Some(m) = facts.get(i) else { continue };
            if let Some(mut unit) = BoundaryUnit::new(
                m.name.to_owned(),
                Some(i),
                to_lon_lat(&MultiPolygon::new(vec![d])),
            ) {
                unit.label_lon_lat = (m.centre_lon, m.centre_lat);
                units.push(unit);
            }
        }
        units.sort_by_key(|u| u.municipality);
        Self {
            kind: BoundaryKind::Schematic,
            units,
            skipped_features: 0,
        }
    }

    /// Reads polygons from a GeoJSON file; see [`Self::from_geojson_str`].
    ///
    /// # Errors
    /// The file cannot be read, is not GeoJSON, has no polygons, no name property, or is not in
    /// WGS84 degrees.
    pub fn from_geojson_file(
        path: &Path,
        name_property: Option<&str>,
    ) -> Result<Self, SpatialError> {
        let text = std::fs::read_to_string(path).map_err(|source| SpatialError::Io {
            path: path.to_owned(),
            source,
        })?;
        Self::from_geojson_str(&text, path, name_property)
    }

    /// Reads polygons from GeoJSON text (a FeatureCollection or a single Feature of Polygon,
    /// MultiPolygon or GeometryCollection geometries). The name comes from `name_property`, or
    /// the first of [`NAME_PROPERTY_CANDIDATES`] that most polygon features carry as text.
    /// Names are matched to the municipality table; see [`Self::unmatched_names`].
    ///
    /// # Errors
    /// As [`Self::from_geojson_file`]; `path` only names the source in messages.
    pub fn from_geojson_str(
        text: &str,
        path: &Path,
        name_property: Option<&str>,
    ) -> Result<Self, SpatialError> {
        let geojson: geojson::GeoJson =
            text.parse()
                .map_err(|e: geojson::Error| SpatialError::NotGeoJson {
                    path: path.to_owned(),
                    detail: e.to_string(),
                })?;
        let features = match geojson {
            geojson::GeoJson::FeatureCollection(fc) => fc.features,
            geojson::GeoJson::Feature(f) => vec![f],
            geojson::GeoJson::Geometry(_) => {
                return Err(SpatialError::NotGeoJson {
                    path: path.to_owned(),
                    detail: "a bare geometry has no name; expected a FeatureCollection".into(),
                });
            }
        };
        let total = features.len();
        let mut types = std::collections::BTreeMap::<String, usize>::new();
        let mut polygons = Vec::new();
        for (index, feature) in features.iter().enumerate() {
            let Some(geometry) = &feature.geometry else {
                *types.entry("null".into()).or_default() += 1;
                continue;
            };
            *types
                .entry(geometry_type_name(&geometry.value).into())
                .or_default() += 1;
            let Ok(g) = geo::Geometry::<f64>::try_from(&geometry.value) else {
                continue;
            };
            let polys = polygons_of(g);
            if polys.is_empty() {
                continue;
            }
            if let Some((lon, lat)) = first_non_wgs84(&polys) {
                return Err(SpatialError::NotWgs84 {
                    path: path.to_owned(),
                    feature: index,
                    lon,
                    lat,
                });
            }
            polygons.push((index, MultiPolygon::new(polys)));
        }
        if polygons.is_empty() {
            let types = types
                .iter()
                .map(|(t, n)| format!("{t} ×{n}"))
                .collect::<Vec<_>>()
                .join(", ");
            return Err(SpatialError::NoPolygons {
                path: path.to_owned(),
                features: total,
                types: if types.is_empty() {
                    "none".into()
                } else {
                    types
                },
            });
        }
        let property_of = |index: usize, key: &str| -> Option<String> {
            let value = features.get(index)?.properties.as_ref()?.get(key)?;
            match value {
                serde_json::Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
                serde_json::Value::Number(n) => Some(n.to_string()),
                _ => None,
            }
        };
        let name_property = match name_property {
            Some(p) => {
                if !polygons.iter().any(|(i, _)| property_of(*i, p).is_some()) {
                    return Err(no_name_property(path, &features, &format!("`{p}`")));
                }
                p.to_owned()
            }
            None => NAME_PROPERTY_CANDIDATES
                .iter()
                .find(|key| {
                    let named = polygons
                        .iter()
                        .filter(|(i, _)| property_of(*i, key).is_some())
                        .count();
                    named * 2 > polygons.len()
                })
                .map(|k| (*k).to_owned())
                .ok_or_else(|| {
                    no_name_property(path, &features, "(none of name, district, NAME, …)")
                })?,
        };
        let matcher = MunicipalityMatcher::new(municipalities());
        let kept = polygons.len();
        let units = polygons
            .into_iter()
            .filter_map(|(index, mp)| {
                let name = property_of(index, &name_property)
                    .unwrap_or_else(|| format!("(feature {index})"));
                let municipality = matcher.find(&name);
                BoundaryUnit::new(name, municipality, mp)
            })
            .collect();
        Ok(Self {
            kind: BoundaryKind::File {
                path: path.to_owned(),
                name_property,
            },
            units,
            skipped_features: total - kept,
        })
    }

    /// True for the built-in partition.
    pub fn is_schematic(&self) -> bool {
        self.kind == BoundaryKind::Schematic
    }

    /// Names in the source that match no municipality of the table.
    pub fn unmatched_names(&self) -> Vec<&str> {
        self.units
            .iter()
            .filter(|u| u.municipality.is_none())
            .map(|u| u.name.as_str())
            .collect()
    }

    /// Canonical names of the table's municipalities that no polygon matched.
    pub fn missing_municipalities(&self) -> Vec<&'static str> {
        municipalities()
            .iter()
            .enumerate()
            .filter(|(i, _)| !self.units.iter().any(|u| u.municipality == Some(*i)))
            .map(|(_, m)| m.name)
            .collect()
    }

    /// Bounds of all polygons.
    pub fn bounds(&self) -> Option<GeoBounds> {
        self.units
            .iter()
            .map(BoundaryUnit::bounds)
            .reduce(GeoBounds::union)
    }

    /// Index of the unit containing the point, if any.
    pub fn locate(&self, lon: f64, lat: f64) -> Option<usize> {
        let point = Point::new(lon, lat);
        self.units.iter().position(|u| {
            let b = u.bounds;
            (b.lon_min..=b.lon_max).contains(&lon)
                && (b.lat_min..=b.lat_max).contains(&lat)
                && u.polygon_lon_lat.contains(&point)
        })
    }
}

fn no_name_property(path: &Path, features: &[geojson::Feature], wanted: &str) -> SpatialError {
    let mut present: Vec<String> = features
        .iter()
        .filter_map(|f| f.properties.as_ref())
        .flat_map(|p| p.keys().cloned())
        .collect();
    present.sort();
    present.dedup();
    SpatialError::NoNameProperty {
        path: path.to_owned(),
        wanted: wanted.to_owned(),
        present: if present.is_empty() {
            "none".into()
        } else {
            present.join(", ")
        },
    }
}

fn geometry_type_name(value: &geojson::GeometryValue) -> &'static str {
    use geojson::GeometryValue as V;
    match value {
        V::Point { .. } => "Point",
        V::MultiPoint { .. } => "MultiPoint",
        V::LineString { .. } => "LineString",
        V::MultiLineString { .. } => "MultiLineString",
        V::Polygon { .. } => "Polygon",
        V::MultiPolygon { .. } => "MultiPolygon",
        V::GeometryCollection { .. } => "GeometryCollection",
    }
}

fn polygons_of(geometry: geo::Geometry<f64>) -> Vec<Polygon<f64>> {
    match geometry {
        geo::Geometry::Polygon(p) => vec![p],
        geo::Geometry::MultiPolygon(mp) => mp.0,
        geo::Geometry::GeometryCollection(gc) => gc.0.into_iter().flat_map(polygons_of).collect(),
        _ => Vec::new(),
    }
}

fn first_non_wgs84(polygons: &[Polygon<f64>]) -> Option<(f64, f64)> {
    polygons
        .iter()
        .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
        .flat_map(|ring| ring.coords())
        .find(|c| !super::projection::is_valid_lon_lat(c.x, c.y))
        .map(|c| (c.x, c.y))
}

fn mercator_polygon(lon_lat: &[(f64, f64)]) -> Polygon<f64> {
    let ring: Vec<Coord<f64>> = lon_lat
        .iter()
        .map(|&(lon, lat)| {
            let (x, y) = mercator_m_from_lon_lat(lon, lat);
            Coord { x, y }
        })
        .collect();
    Polygon::new(LineString::new(ring), vec![])
}

fn lon_lat_of((x_m, y_m): (f64, f64)) -> (f64, f64) {
    lon_lat_from_mercator_m(x_m, y_m)
}

fn to_lon_lat(mp: &MultiPolygon<f64>) -> MultiPolygon<f64> {
    use geo::MapCoords as _;
    mp.map_coords(|c| {
        let (x, y) = lon_lat_from_mercator_m(c.x, c.y);
        Coord { x, y }
    })
}

fn disc(center_m: (f64, f64), radius_m: f64, segments: usize) -> Polygon<f64> {
    let ring: Vec<Coord<f64>> = (0..segments)
        .map(|k| {
            let a = std::f64::consts::TAU * k as f64 / segments as f64;
            Coord {
                x: center_m.0 + radius_m * a.cos(),
                y: center_m.1 + radius_m * a.sin(),
            }
        })
        .collect();
    Polygon::new(
        LineString::new(close(ring.into_iter().map(|c| (c.x, c.y)).collect())),
        vec![],
    )
}

fn close(mut ring: Vec<(f64, f64)>) -> Vec<Coord<f64>> {
    if let (Some(&first), Some(&last)) = (ring.first(), ring.last())
        && first != last
    {
        ring.push(first);
    }
    ring.into_iter().map(|(x, y)| Coord { x, y }).collect()
}

/// Sutherland–Hodgman clip of a convex polygon to the half-plane of points at least as close to
/// `own` as to `other` (one Voronoi bisector).
fn clip_to_closer_half(cell: &[(f64, f64)], own: (f64, f64), other: (f64, f64)) -> Vec<(f64, f64)> {
    let normal = (other.0 - own.0, other.1 - own.1);
    let mid = ((own.0 + other.0) / 2.0, (own.1 + other.1) / 2.0);
    let side = |p: (f64, f64)| (p.0 - mid.0) * normal.0 + (p.1 - mid.1) * normal.1;
    let mut out = Vec::with_capacity(cell.len() + 1);
    for k in 0..cell.len() {
        let (Some(&a), Some(&b)) = (cell.get(k), cell.get((k + 1) % cell.len())) else {
            continue;
        };
        let (sa, sb) = (side(a), side(b));
        if sa <= 0.0 {
            out.push(a);
        }
        if (sa <= 0.0) != (sb <= 0.0) {
            let t = sa / (sa - sb);
            out.push((a.0 + t * (b.0 - a.0), a.1 + t * (b.1 - a.1)));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::Area as _;

    #[test]
    fn schematic_partition_covers_every_unit_without_overlap() {
        let b = Boundaries::schematic();
        assert!(b.is_schematic());
        assert_eq!(b.units.len(), 26);
        assert!(b.missing_municipalities().is_empty());
        assert!(b.unmatched_names().is_empty());
        // Every administrative centre lies in its own unit, except district centres that are
        // cities (Тюмень for Тюменский район): those lie in the city disc.
        for (i, m) in municipalities().iter().enumerate() {
            let unit = b
                .locate(m.centroid_lon, m.centroid_lat)
                .and_then(|u| b.units[u].municipality);
            if m.kind == MunicipalityKind::District {
                assert_eq!(unit, Some(i), "centroid of {} falls elsewhere", m.name);
            }
        }
        let city = b.locate(65.5343, 57.1522).map(|u| b.units[u].name.as_str());
        assert_eq!(city, Some("Тюмень"));
        // Areas add up to the outline (no overlaps, no gaps), in the unsigned lon/lat plane.
        let total: f64 = b
            .units
            .iter()
            .map(|u| u.polygon_lon_lat.unsigned_area())
            .sum();
        let outline =
            Polygon::new(LineString::from(oblast_outline().to_vec()), vec![]).unsigned_area();
        assert!(
            (total - outline).abs() / outline < 0.01,
            "{total} vs {outline}"
        );
    }

    #[test]
    fn geojson_without_polygons_is_a_clear_error() {
        let text = r#"{"type":"FeatureCollection","features":[
            {"type":"Feature","properties":{"name":"a"},"geometry":{"type":"Point","coordinates":[65,57]}}]}"#;
        let err =
            Boundaries::from_geojson_str(text, Path::new("points.geojson"), None).unwrap_err();
        let msg = err.to_string();
        assert!(
            matches!(err, SpatialError::NoPolygons { features: 1, .. }),
            "{msg}"
        );
        assert!(
            msg.contains("Point ×1") && msg.contains("points.geojson"),
            "{msg}"
        );
    }

    #[test]
    fn geojson_in_metres_is_rejected() {
        let text = r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"name":"Тюмень"},
            "geometry":{"type":"Polygon","coordinates":[[[7295000,7798000],[7296000,7798000],[7296000,7799000],[7295000,7798000]]]}}]}"#;
        let err = Boundaries::from_geojson_str(text, Path::new("m.geojson"), None).unwrap_err();
        assert!(matches!(err, SpatialError::NotWgs84 { .. }), "{err}");
    }

    #[test]
    fn name_property_is_detected_or_reported() {
        let text = r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"NAME":"г. Ишим","id":7},
            "geometry":{"type":"Polygon","coordinates":[[[69.4,56.1],[69.5,56.1],[69.5,56.2],[69.4,56.1]]]}},
            {"type":"Feature","properties":{"NAME":"Нигде"},
            "geometry":{"type":"Polygon","coordinates":[[[69.4,56.1],[69.5,56.1],[69.5,56.2],[69.4,56.1]]]}}]}"#;
        let b = Boundaries::from_geojson_str(text, Path::new("x.geojson"), None).unwrap();
        assert_eq!(
            b.units[0].municipality.map(|i| municipalities()[i].name),
            Some("Ишим")
        );
        assert_eq!(b.unmatched_names(), vec!["Нигде"]);
        let err =
            Boundaries::from_geojson_str(text, Path::new("x.geojson"), Some("title")).unwrap_err();
        assert!(err.to_string().contains("NAME, id"), "{err}");
    }

    #[test]
    fn not_json_is_an_error() {
        let err = Boundaries::from_geojson_str("SQLite format 3", Path::new("a.geojson"), None)
            .unwrap_err();
        assert!(matches!(err, SpatialError::NotGeoJson { .. }));
    }
}
