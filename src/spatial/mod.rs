//! Geometry and geography of the region, with no UI: the bundled facts about Tyumen oblast
//! (municipalities, settlements, outline), municipality-name matching, boundaries (the built-in
//! schematic partition or real polygons from GeoJSON) and Web-Mercator maths.
//!
//! Coordinates are WGS84 degrees, always **lon before lat** (as `geo::Point` x/y and walkers'
//! `Position`). Planar work happens in Web-Mercator metres (`*_m` names).
//!
//! Named `spatial`, not `geo`, so that `use geo::…` keeps meaning the georust crate.

mod boundaries;
mod bounds;
mod locate;
mod names;
pub mod projection;
mod region;

pub use boundaries::{Boundaries, BoundaryKind, BoundaryUnit, NAME_PROPERTY_CANDIDATES};
pub use bounds::GeoBounds;
pub use locate::MunicipalityLocator;
pub use names::{MunicipalityMatcher, NameKey, normalize_name};
pub use region::{
    MunicipalityFact, MunicipalityKind, SettlementFact, municipalities, oblast_outline, settlements,
};

use std::path::PathBuf;

/// Errors of the spatial layer: boundary files that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SpatialError {
    #[error("cannot read boundaries: {source}: {path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("boundaries are not valid GeoJSON ({detail}): {path}")]
    NotGeoJson { path: PathBuf, detail: String },
    #[error(
        "boundaries contain no Polygon or MultiPolygon features ({features} features, geometry types: {types}): {path}"
    )]
    NoPolygons {
        path: PathBuf,
        features: usize,
        types: String,
    },
    #[error(
        "boundaries have no name property {wanted}; properties present: {present} (use --name-property): {path}"
    )]
    NoNameProperty {
        path: PathBuf,
        wanted: String,
        present: String,
    },
    #[error(
        "feature {feature} has coordinates outside WGS84 degrees ({lon}, {lat}); the file looks projected — export it as EPSG:4326: {path}"
    )]
    NotWgs84 {
        path: PathBuf,
        feature: usize,
        lon: f64,
        lat: f64,
    },
}
