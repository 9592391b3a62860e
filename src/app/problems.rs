//! The problem map in the window: what a problem-map job is asked for ([`ProblemRequest`]),
//! the per-database base it reuses (zones and per-row facts, rebuilt only when the zoning or the
//! database changes), and what it returns for drawing and listing ([`ProblemResult`]).

use std::sync::Arc;

use crate::analysis::Filter;
use crate::analysis::problems::{
    ProblemMap, ProblemRows, ProblemSettings, ZoneKind, ZoneShape, Zones, compute,
};
use crate::layers::ZoneDraw;
use crate::spatial::projection::{mercator_unit_from_lon_lat, unit_from_mercator_m};
use crate::ui::theme;

use super::jobs::Resolved;

/// What the problem map is asked to show.
#[derive(Clone, Debug, PartialEq)]
pub struct ProblemRequest {
    pub filter: Filter,
    pub settings: ProblemSettings,
    pub zones: ZoneKind,
    /// Hexagon spacing, km (`None`: from the data's extent).
    pub cell_km: Option<f64>,
}

/// Zones and per-row facts of one resolved database for one zoning.
pub struct ProblemBase {
    /// The resolved database it was built for (compared by pointer).
    pub resolved: Arc<Resolved>,
    pub kind: ZoneKind,
    pub cell_km: Option<f64>,
    pub zones: Zones,
    pub rows: ProblemRows,
}

impl ProblemBase {
    /// Whether this base serves `request` on `resolved`.
    pub fn serves(&self, resolved: &Arc<Resolved>, request: &ProblemRequest) -> bool {
        Arc::ptr_eq(&self.resolved, resolved)
            && self.kind == request.zones
            && (self.kind != ZoneKind::Hexagons || self.cell_km == request.cell_km)
    }

    /// Builds the zones of `request` for `resolved`.
    pub fn build(resolved: Arc<Resolved>, request: &ProblemRequest) -> Self {
        let zones = Zones::build(
            request.zones,
            request.cell_km,
            &resolved.dataset.appeals,
            &resolved.resolution,
            &resolved.boundaries.boundaries,
            &resolved.boundaries.locator,
        );
        Self::with_zones(resolved, request, zones)
    }

    /// The base of `request` for `resolved` with zones built elsewhere (a grouped table's
    /// settlements, from all its groups).
    pub fn with_zones(resolved: Arc<Resolved>, request: &ProblemRequest, zones: Zones) -> Self {
        let rows = ProblemRows::new(&resolved.dataset.appeals);
        Self {
            kind: request.zones,
            cell_km: request.cell_km,
            zones,
            rows,
            resolved,
        }
    }
}

/// A computed problem map with what the window draws and lists.
pub struct ProblemResult {
    pub request: ProblemRequest,
    pub base: Arc<ProblemBase>,
    pub map: ProblemMap,
    /// Shapes of the zones with appeals or a significant class (municipality zones are filled
    /// by the boundary layer instead), largest markers first.
    pub draws: Vec<ZoneDraw>,
    /// Rows of each zone in the map (newest first); empty for zones without appeals.
    pub zone_rows: Vec<Vec<u32>>,
    pub elapsed: std::time::Duration,
}

/// Computes the problem map of `request` (a job; `base` is reused when it serves the request).
pub fn compute_problems(
    resolved: Arc<Resolved>,
    request: ProblemRequest,
    base: Option<Arc<ProblemBase>>,
) -> ProblemResult {
    let started = std::time::Instant::now();
    let base = match base {
        Some(b) if b.serves(&resolved, &request) => b,
        _ => Arc::new(ProblemBase::build(resolved.clone(), &request)),
    };
    let appeals = &resolved.dataset.appeals;
    let map = compute(
        appeals,
        &resolved.resolution,
        &resolved.columns,
        &base.rows,
        &base.zones,
        &request.filter,
        &request.settings,
    );
    let max_appeals = map
        .zones
        .iter()
        .map(|z| z.appeals)
        .max()
        .unwrap_or(1)
        .max(1);
    let mut draws: Vec<(u64, ZoneDraw)> = Vec::new();
    for stats in &map.zones {
        if stats.appeals == 0 && stats.class.gi_bin() == 0 {
            continue;
        }
        let Some(zone) = base.zones.zones.get(stats.zone as usize) else {
            continue;
        };
        let gi_bin = stats.class.gi_bin();
        match &zone.shape {
            ZoneShape::Point => {
                let Some((lon, lat)) = zone.lon_lat else {
                    continue;
                };
                let (x, y) = mercator_unit_from_lon_lat(lon, lat);
                let share = (stats.appeals as f32 / max_appeals as f32).sqrt();
                let radius_px = theme::ZONE_MARKER_MIN_PX
                    + (theme::ZONE_MARKER_MAX_PX - theme::ZONE_MARKER_MIN_PX) * share;
                draws.push((
                    stats.appeals,
                    ZoneDraw::Marker {
                        zone: stats.zone,
                        centre_unit: [x, y],
                        radius_px,
                        gi_bin,
                    },
                ));
            }
            ZoneShape::Hexagon { .. } => {
                let Some(corners_m) = zone.hexagon_corners_m() else {
                    continue;
                };
                let corners_unit = corners_m
                    .iter()
                    .map(|c| unit_from_mercator_m(c[0], c[1]))
                    .collect();
                // Polygons under markers: sort key above every marker's.
                draws.push((
                    u64::MAX,
                    ZoneDraw::Polygon {
                        zone: stats.zone,
                        corners_unit,
                        gi_bin,
                    },
                ));
            }
            ZoneShape::Unit(_) => {}
        }
    }
    draws.sort_by_key(|d| std::cmp::Reverse(d.0));
    let mut zone_rows: Vec<Vec<u32>> = vec![Vec::new(); map.zones.len()];
    for &i in &map.rows {
        let z = base.zones.zone_of_row.get(i as usize).copied();
        if let Some(list) = z.and_then(|z| zone_rows.get_mut(z as usize)) {
            list.push(i);
        }
    }
    for list in &mut zone_rows {
        list.sort_by_key(|&i| {
            std::cmp::Reverse(
                base.rows
                    .minute
                    .get(i as usize)
                    .copied()
                    .unwrap_or(i64::MIN),
            )
        });
    }
    ProblemResult {
        request,
        base,
        map,
        draws: draws.into_iter().map(|(_, d)| d).collect(),
        zone_rows,
        elapsed: started.elapsed(),
    }
}
