//! The problem map: zones where the appeals of one [`Profile`] keep coming back, and whether
//! they are being fixed.
//!
//! - [`Zones`] (built once per database, boundaries and zoning): named settlements placed at
//!   the centroid of their appeals, a hexagonal grid in Web-Mercator metres, or municipalities.
//! - [`problem_map`] (one call per profile or filter change): per zone the appeals and the
//!   incidents (appeals within a window counted once), Getis-Ord Gi* over the zone counts with
//!   the ArcGIS confidence classes, counts per time slice with a Mann-Kendall trend and an
//!   emerging-hot-spot category, the rates before and after an intervention date, and the
//!   service level (open, overdue, median days to an answer).
//!
//! Every count is a count of rows passing the shared [`super::Filter`] *and* the profile, so it
//! equals what SQL gives for the same conditions.

use std::collections::HashMap;

use jiff::civil::Date;

use super::engine::{Columns, Masks, NO_DAY, date_of_day, day_number};
use super::filter::Filter;
use super::hotspot::{
    Change, GiStar, HotClass, MannKendall, Neighbours, RateRatio, change, classify,
    default_distance_m, gi_star, mann_kendall, neighbours_knn, neighbours_within, rate_ratio,
};
use super::profiles::Profile;
use super::resolve::MunicipalityResolution;
use crate::data::{Appeals, Placement};
use crate::spatial::projection::{
    ground_scale_at_mercator_y_m, lon_lat_from_mercator_m, mercator_m_from_lon_lat,
};
use crate::spatial::{Boundaries, MunicipalityLocator};

/// Zone of a row that belongs to none (no settlement, no coordinates, …).
pub const NO_ZONE: u32 = u32::MAX;

/// How appeals are grouped into zones.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum ZoneKind {
    /// Named settlements (the `settlement` field, within its municipality).
    Settlements,
    /// A hexagonal grid.
    Hexagons,
    /// Municipalities (as the choropleth resolves them).
    Municipalities,
}

impl ZoneKind {
    /// All kinds, in menu order.
    pub const ALL: [ZoneKind; 3] = [
        ZoneKind::Settlements,
        ZoneKind::Hexagons,
        ZoneKind::Municipalities,
    ];

    /// Command-line name.
    pub fn cli_name(self) -> &'static str {
        match self {
            ZoneKind::Settlements => "settlements",
            ZoneKind::Hexagons => "hex",
            ZoneKind::Municipalities => "municipalities",
        }
    }
}

/// The outline of a zone, for drawing and export.
#[derive(Clone, Debug, PartialEq)]
pub enum ZoneShape {
    /// A settlement: a point.
    Point,
    /// A pointy-top hexagon: centre and centre-to-corner distance in Web-Mercator metres.
    Hexagon { centre_m: [f64; 2], corner_m: f64 },
    /// A municipality: index into the boundaries' units.
    Unit(usize),
}

/// One zone.
#[derive(Clone, Debug, PartialEq)]
pub struct Zone {
    /// Settlement name, municipality name, or empty for a grid cell.
    pub name: String,
    /// Municipality the zone lies in (label of the resolution; empty when unknown).
    pub municipality: String,
    /// Nearest named settlement (grid cells; for others the zone's own name).
    pub nearest_settlement: String,
    /// Position (centroid of a settlement's appeals, cell centre, label point), when known.
    pub lon_lat: Option<(f64, f64)>,
    pub shape: ZoneShape,
}

impl Zone {
    /// Name for lists: the settlement or municipality, or "near settlement · municipality"
    /// for a grid cell (`near` is the word in the interface language).
    pub fn display_name(&self, near: &str) -> String {
        if !self.name.is_empty() {
            return self.name.clone();
        }
        match (
            self.nearest_settlement.is_empty(),
            self.municipality.is_empty(),
        ) {
            (false, false) => format!("{near} {} · {}", self.nearest_settlement, self.municipality),
            (false, true) => format!("{near} {}", self.nearest_settlement),
            (true, false) => self.municipality.clone(),
            (true, true) => String::from("—"),
        }
    }

    /// The six corners of a hexagonal zone in Web-Mercator metres (pointy-top, counter-clockwise
    /// from 30°); `None` for other shapes.
    pub fn hexagon_corners_m(&self) -> Option<[[f64; 2]; 6]> {
        let ZoneShape::Hexagon { centre_m, corner_m } = self.shape else {
            return None;
        };
        Some(std::array::from_fn(|k| {
            let angle = (60.0 * k as f64 + 30.0).to_radians();
            [
                centre_m[0] + corner_m * angle.cos(),
                centre_m[1] + corner_m * angle.sin(),
            ]
        }))
    }

    /// Corners of a hexagonal zone (lon, lat), closed ring; `None` for other shapes.
    pub fn hexagon_lon_lat(&self) -> Option<Vec<(f64, f64)>> {
        let corners = self.hexagon_corners_m()?;
        Some(
            corners
                .iter()
                .chain(corners.first())
                .map(|c| lon_lat_from_mercator_m(c[0], c[1]))
                .collect(),
        )
    }
}

/// Zones of one database and the zone of each row.
#[derive(Clone, Debug, Default)]
pub struct Zones {
    pub kind: Option<ZoneKind>,
    /// Hexagon spacing (centre to neighbouring centre) on the ground at the data's centre, km.
    pub cell_km: Option<f64>,
    pub zones: Vec<Zone>,
    /// Zone of each row, [`NO_ZONE`] when it has none.
    pub zone_of_row: Vec<u32>,
}

/// Per-row facts the problem map needs beyond [`Columns`], built once per database.
#[derive(Clone, Debug, Default)]
pub struct ProblemRows {
    /// Minutes since 1970-01-01 of the receipt (local civil time); `i64::MIN` when unknown.
    pub minute: Vec<i64>,
    /// Whether the settlement or address names a garden community.
    pub garden: Vec<bool>,
}

impl ProblemRows {
    pub fn new(appeals: &Appeals) -> Self {
        let minute = appeals
            .received
            .iter()
            .map(|t| {
                t.map_or(i64::MIN, |t| {
                    i64::from(day_number(t.date())) * 1440
                        + i64::from(t.hour()) * 60
                        + i64::from(t.minute())
                })
            })
            .collect();
        Self {
            minute,
            garden: super::profiles::garden_community_rows(appeals),
        }
    }
}

/// Mean appeals per populated cell the default grid asks for: sparser grids, with almost every
/// cell holding one appeal, leave Gi*'s normal approximation far off (on uniform random points a
/// cell with three appeals among ones reads as a 99 % hot spot).
pub const MIN_APPEALS_PER_CELL: f64 = 10.0;

/// The default grid spacing: a "nice" size (1, 2 or 5 × 10ⁿ km) giving about 100 cells across
/// the larger side of the extent of the placed appeals, made coarser step by step until the
/// populated cells hold at least [`MIN_APPEALS_PER_CELL`] appeals on average; `None` without
/// placed appeals.
pub fn default_cell_km(appeals: &Appeals) -> Option<f64> {
    default_cell_km_of(&placed_points_m(appeals), &PlacedExtent::of(appeals))
}

/// The placed appeals as (row, Mercator x, Mercator y), projected once for both the default
/// cell size and the grid.
fn placed_points_m(appeals: &Appeals) -> Vec<(usize, f64, f64)> {
    (0..appeals.len())
        .filter_map(|i| {
            let (lon, lat) = placed_lon_lat(appeals, i)?;
            let (x, y) = mercator_m_from_lon_lat(lon, lat);
            Some((i, x, y))
        })
        .collect()
}

/// [`default_cell_km`] of already projected points with their extent.
fn default_cell_km_of(points: &[(usize, f64, f64)], extent: &PlacedExtent) -> Option<f64> {
    let candidates = extent.candidate_cells_km()?;
    let mut chosen = None;
    for &cell_km in &candidates {
        if cell_km >= 50.0 {
            break;
        }
        let spacing_m = extent.spacing_m(cell_km);
        let occupied: std::collections::HashSet<(i32, i32)> = points
            .iter()
            .map(|&(_, x, y)| hex_of(x, y, spacing_m))
            .collect();
        if extent.n as f64 >= MIN_APPEALS_PER_CELL * occupied.len() as f64 {
            chosen = Some(cell_km);
            break;
        }
    }
    chosen.or_else(|| candidates.last().copied())
}

/// The placed appeals' box and mean latitude, which set the hexagon grid (its default spacing,
/// and the ground scale at its centre): exact figures — minima, maxima and integer sums
/// ([`coordinate_e7`]) — so a table grouped in the database gives them from SQL in any order,
/// as a full load does.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct PlacedExtent {
    pub n: u64,
    pub lon_min: f64,
    pub lat_min: f64,
    pub lon_max: f64,
    pub lat_max: f64,
    /// Sum of the latitudes' [`coordinate_e7`].
    pub lat_e7_sum: i64,
}

impl PlacedExtent {
    /// The extent of the placed appeals of `appeals`.
    pub fn of(appeals: &Appeals) -> Self {
        let mut extent = Self::default();
        for i in 0..appeals.len() {
            if let Some((lon, lat)) = placed_lon_lat(appeals, i) {
                extent.add(lon, lat);
            }
        }
        extent
    }

    fn add(&mut self, lon: f64, lat: f64) {
        if self.n == 0 {
            (self.lon_min, self.lat_min, self.lon_max, self.lat_max) = (lon, lat, lon, lat);
        } else {
            self.lon_min = self.lon_min.min(lon);
            self.lat_min = self.lat_min.min(lat);
            self.lon_max = self.lon_max.max(lon);
            self.lat_max = self.lat_max.max(lat);
        }
        self.n += 1;
        self.lat_e7_sum = self.lat_e7_sum.saturating_add(coordinate_e7(lat));
    }

    /// Web-Mercator y of the mean latitude, m: where the grid's spacing is measured.
    fn centre_y_m(&self) -> f64 {
        if self.n == 0 {
            return 0.0;
        }
        mercator_m_from_lon_lat(0.0, mean_of_e7(self.lat_e7_sum, self.n)).1
    }

    /// The centre spacing in Web-Mercator metres of cells `cell_km` across on the ground.
    pub fn spacing_m(&self, cell_km: f64) -> f64 {
        cell_km.max(0.01) * 1000.0 / ground_scale_at_mercator_y_m(self.centre_y_m())
    }

    /// The default spacings to try, finest first: a nice size of about 100 cells across the
    /// box, then coarser (× 2.6, nice) while under 50 km, and the first one of 50 km or more;
    /// `None` without placed appeals.
    pub fn candidate_cells_km(&self) -> Option<Vec<f64>> {
        if self.n == 0 {
            return None;
        }
        let (x0, y0) = mercator_m_from_lon_lat(self.lon_min, self.lat_min);
        let (x1, y1) = mercator_m_from_lon_lat(self.lon_max, self.lat_max);
        let scale = ground_scale_at_mercator_y_m(self.centre_y_m());
        let side_km = (x1 - x0).max(y1 - y0) * scale / 1000.0;
        let mut cell_km = nice_floor((side_km / 100.0).clamp(0.1, 50.0));
        let mut all = vec![cell_km];
        while cell_km < 50.0 {
            cell_km = nice_floor(cell_km * 2.6);
            all.push(cell_km);
        }
        Some(all)
    }
}

/// The cells of a hexagon grid that hold a point, numbered in the order of their first point.
pub struct HexCells {
    spacing_m: f64,
    index: HashMap<(i32, i32), u32>,
    cells: Vec<(i32, i32)>,
}

impl HexCells {
    pub fn new(spacing_m: f64) -> Self {
        Self {
            spacing_m,
            index: HashMap::new(),
            cells: Vec::new(),
        }
    }

    /// The cell (its number) of a point in Web-Mercator metres, added when new.
    pub fn add(&mut self, x_m: f64, y_m: f64) -> u32 {
        let cell = hex_of(x_m, y_m, self.spacing_m);
        let cells = &mut self.cells;
        *self.index.entry(cell).or_insert_with(|| {
            cells.push(cell);
            (cells.len() - 1) as u32
        })
    }

    /// The number of a point's cell, when it holds a point already added.
    pub fn find(&self, x_m: f64, y_m: f64) -> Option<u32> {
        self.index.get(&hex_of(x_m, y_m, self.spacing_m)).copied()
    }

    pub fn len(&self) -> usize {
        self.cells.len()
    }

    pub fn is_empty(&self) -> bool {
        self.cells.is_empty()
    }
}

/// The hexagon grid of a table read in one pass over its placed points (in row order), for a
/// table grouped in the database: the cells of every candidate spacing ([`PlacedExtent`]'s, or
/// the given one) are collected at once, and [`Self::finish`] keeps the one
/// [`default_cell_km`] chooses — the cells and numbers a full load gives.
pub struct HexGridBuilder {
    extent: PlacedExtent,
    candidates: Vec<(f64, HexCells)>,
    given: bool,
}

impl HexGridBuilder {
    /// For points whose extent is `extent`, with the spacing `cell_km` or (`None`) the default.
    pub fn new(extent: PlacedExtent, cell_km: Option<f64>) -> Self {
        let given = cell_km.filter(|c| c.is_finite() && *c > 0.0);
        let kms = match given {
            Some(c) => vec![c],
            None => extent.candidate_cells_km().unwrap_or_else(|| vec![5.0]),
        };
        let candidates = kms
            .into_iter()
            .map(|c| (c, HexCells::new(extent.spacing_m(c))))
            .collect();
        Self {
            extent,
            candidates,
            given: given.is_some(),
        }
    }

    /// Adds a placed point (the next in row order).
    pub fn add(&mut self, lon: f64, lat: f64) {
        let (x, y) = mercator_m_from_lon_lat(lon, lat);
        for (_, cells) in &mut self.candidates {
            cells.add(x, y);
        }
    }

    /// The spacing, km, and its cells.
    pub fn finish(self) -> (f64, HexCells) {
        let n = self.extent.n as f64;
        let given = self.given;
        let mut candidates = self.candidates;
        let pick = if given {
            0
        } else {
            candidates
                .iter()
                .position(|(c, cells)| *c < 50.0 && n >= MIN_APPEALS_PER_CELL * cells.len() as f64)
                .unwrap_or(candidates.len().saturating_sub(1))
        };
        if pick < candidates.len() {
            candidates.swap_remove(pick)
        } else {
            (5.0, HexCells::new(self.extent.spacing_m(5.0)))
        }
    }
}

fn nice_floor(x: f64) -> f64 {
    let exp = x.log10().floor();
    let base = 10f64.powf(exp);
    let m = x / base;
    let step = if m >= 5.0 {
        5.0
    } else if m >= 2.0 {
        2.0
    } else {
        1.0
    };
    step * base
}

fn placed_lon_lat(appeals: &Appeals, i: usize) -> Option<(f64, f64)> {
    (appeals.placement.get(i) == Some(&Placement::Placed))
        .then(|| Some((*appeals.lon.get(i)?, *appeals.lat.get(i)?)))
        .flatten()
}

/// A coordinate in units of 10⁻⁷ degree (about 1 cm), rounded to the nearest (ties to even,
/// as PostgreSQL's `round(float8)`). A settlement's centroid is the mean of these, added as
/// integers: exact in any order, so a table grouped in the database (each group's sum from
/// SQL, [`crate::data::pushdown::Grouped::coordinate_sums_e7`]) gives the centroid a full load
/// gives, bit for bit — a sum of doubles would depend on the order of the rows.
pub fn coordinate_e7(deg: f64) -> i64 {
    (deg * 1e7).round_ties_even() as i64
}

/// The mean of `n` coordinates whose [`coordinate_e7`] sum to `sum_e7`, in degrees.
fn mean_of_e7(sum_e7: i64, n: u64) -> f64 {
    sum_e7 as f64 / n as f64 / 1e7
}

/// Settlement zones: one per (municipality label, settlement text), at the mean position of
/// the placed appeals that name it (by [`coordinate_e7`]), numbered in the order of their first
/// rows.
fn settlement_zones(appeals: &Appeals, resolution: &MunicipalityResolution) -> Zones {
    let (builder, zone_of_row) = settlement_builder(appeals, resolution);
    builder.zones(zone_of_row)
}

/// The settlement zones of `appeals` being built, and each row's zone.
fn settlement_builder(
    appeals: &Appeals,
    resolution: &MunicipalityResolution,
) -> (SettlementZones, Vec<u32>) {
    let mut builder = SettlementZones::default();
    let mut zone_of_row = vec![NO_ZONE; appeals.len()];
    for (i, slot) in zone_of_row.iter_mut().enumerate() {
        let Some(settlement) = appeals.settlement.get(i).copied().flatten() else {
            continue;
        };
        let label = resolution.row_label.get(i).copied().unwrap_or(0);
        let placed = placed_lon_lat(appeals, i)
            .map(|(lon, lat)| (1, [coordinate_e7(lon), coordinate_e7(lat)]));
        *slot = builder.add((label, settlement), 1, placed, || {
            (
                resolution.label(label).to_owned(),
                appeals.settlements.name(settlement).to_owned(),
            )
        });
    }
    (builder, zone_of_row)
}

/// Settlement zones of a table read grouped in the database, for the rows `rows` loaded from
/// it (with their own resolution): the zones are the whole table's, built from its groups
/// (`groups`, in the order of their first rows, each standing for `weights[g]` appeals whose
/// [`coordinate_e7`] sum to `sums_e7[g]` when placed) — every settlement of the table, at the
/// centroid of all its placed appeals, numbered as a full load numbers them — and each of
/// `rows` is put in its settlement's zone. Gi* then compares the zones a full load compares.
pub fn settlement_zones_of_groups(
    groups: &Appeals,
    group_resolution: &MunicipalityResolution,
    weights: &[u64],
    sums_e7: &[[i64; 2]],
    rows: &Appeals,
    rows_resolution: &MunicipalityResolution,
) -> Zones {
    let builder = settlement_builder_of_groups(groups, group_resolution, weights, sums_e7);
    let by_name: HashMap<(&str, &str), u32> = builder
        .zones
        .iter()
        .enumerate()
        .map(|(z, zone)| ((zone.municipality.as_str(), zone.name.as_str()), z as u32))
        .collect();
    let zone_of_row = (0..rows.len())
        .map(|i| {
            let Some(settlement) = rows.settlement.get(i).copied().flatten() else {
                return NO_ZONE;
            };
            let label = rows_resolution.row_label.get(i).copied().unwrap_or(0);
            by_name
                .get(&(
                    rows_resolution.label(label),
                    rows.settlements.name(settlement),
                ))
                .copied()
                .unwrap_or(NO_ZONE)
        })
        .collect();
    builder.zones(zone_of_row)
}

/// The settlement zones of a grouped table's groups being built (see
/// [`settlement_zones_of_groups`]).
fn settlement_builder_of_groups(
    groups: &Appeals,
    group_resolution: &MunicipalityResolution,
    weights: &[u64],
    sums_e7: &[[i64; 2]],
) -> SettlementZones {
    let mut builder = SettlementZones::default();
    for g in 0..groups.len() {
        let Some(settlement) = groups.settlement.get(g).copied().flatten() else {
            continue;
        };
        let label = group_resolution.row_label.get(g).copied().unwrap_or(0);
        let weight = weights.get(g).copied().unwrap_or(1);
        let placed = (groups.placement.get(g) == Some(&Placement::Placed))
            .then(|| Some((weight, *sums_e7.get(g)?)))
            .flatten();
        builder.add((label, settlement), weight, placed, || {
            (
                group_resolution.label(label).to_owned(),
                groups.settlements.name(settlement).to_owned(),
            )
        });
    }
    builder
}

/// Settlement zones being built: a zone per (municipality label, settlement) code pair as
/// first met, and the integer sums of their placed appeals' coordinates.
#[derive(Default)]
struct SettlementZones {
    index: HashMap<(u32, u32), u32>,
    zones: Vec<Zone>,
    /// Per zone: its placed appeals, their [`coordinate_e7`] sums, and all its appeals.
    sums: Vec<(u64, [i64; 2], u64)>,
}

impl SettlementZones {
    /// Adds appeals of the (label, settlement) `codes`, `placed` of them with these
    /// [`coordinate_e7`] sums, and returns their zone; `names` gives a new zone's municipality
    /// and settlement.
    fn add(
        &mut self,
        codes: (u32, u32),
        appeals: u64,
        placed: Option<(u64, [i64; 2])>,
        names: impl FnOnce() -> (String, String),
    ) -> u32 {
        let z = match self.index.get(&codes) {
            Some(&z) => z,
            None => {
                let (municipality, settlement) = names();
                self.zones.push(Zone {
                    nearest_settlement: settlement.clone(),
                    name: settlement,
                    municipality,
                    lon_lat: None,
                    shape: ZoneShape::Point,
                });
                self.sums.push((0, [0, 0], 0));
                let z = (self.zones.len() - 1) as u32;
                self.index.insert(codes, z);
                z
            }
        };
        if let Some(s) = self.sums.get_mut(z as usize) {
            s.2 += appeals;
        }
        if let (Some((n, [lon, lat])), Some(s)) = (placed, self.sums.get_mut(z as usize)) {
            s.0 += n;
            s.1[0] = s.1[0].saturating_add(lon);
            s.1[1] = s.1[1].saturating_add(lat);
        }
        z
    }

    fn zones(mut self, zone_of_row: Vec<u32>) -> Zones {
        for (zone, (n, [lon, lat], _)) in self.zones.iter_mut().zip(&self.sums) {
            if *n > 0 {
                zone.lon_lat = Some((mean_of_e7(*lon, *n), mean_of_e7(*lat, *n)));
            }
        }
        Zones {
            kind: Some(ZoneKind::Settlements),
            cell_km: None,
            zones: self.zones,
            zone_of_row,
        }
    }
}

/// Axial coordinates of the pointy-top hexagon (centre spacing `spacing_m`) holding a point.
fn hex_of(x_m: f64, y_m: f64, spacing_m: f64) -> (i32, i32) {
    let size = spacing_m / 3f64.sqrt();
    let q = (3f64.sqrt() / 3.0 * x_m - y_m / 3.0) / size;
    let r = (2.0 / 3.0 * y_m) / size;
    // Cube rounding.
    let (x, z) = (q, r);
    let y = -x - z;
    let (mut rx, ry, mut rz) = (x.round(), y.round(), z.round());
    let (dx, dy, dz) = ((rx - x).abs(), (ry - y).abs(), (rz - z).abs());
    if dx > dy && dx > dz {
        rx = -ry - rz;
    } else if dy <= dz {
        rz = -rx - ry;
    }
    (rx as i32, rz as i32)
}

fn hex_centre_m(q: i32, r: i32, spacing_m: f64) -> [f64; 2] {
    let size = spacing_m / 3f64.sqrt();
    [
        size * (3f64.sqrt() * f64::from(q) + 3f64.sqrt() / 2.0 * f64::from(r)),
        size * 1.5 * f64::from(r),
    ]
}

/// Hexagon zones: every cell holding at least one placed appeal of the database (of any
/// category and date) — the populated area where appeals can come from. Empty forest and
/// swamp are left out: structural zeros would inflate every z-score. The spacing is `cell_km`
/// on the ground at the centre of the data (Web-Mercator stretches it by 1/cos(lat)
/// elsewhere). A cell is named by the municipality under its centre and the nearest named
/// settlement of the database (an СНТ included).
fn hexagon_zones(
    appeals: &Appeals,
    boundaries: &Boundaries,
    locator: &MunicipalityLocator,
    resolution: &MunicipalityResolution,
    points: &[(usize, f64, f64)],
    extent: &PlacedExtent,
    cell_km: f64,
) -> Zones {
    let mut cells = HexCells::new(extent.spacing_m(cell_km));
    let mut zone_of_row = vec![NO_ZONE; appeals.len()];
    for &(i, x, y) in points {
        let z = cells.add(x, y);
        if let Some(slot) = zone_of_row.get_mut(i) {
            *slot = z;
        }
    }
    let named = named_settlements(&settlement_builder(appeals, resolution).0);
    hexagon_zone_list(
        &cells,
        cell_km,
        named,
        boundaries,
        locator,
        resolution,
        zone_of_row,
    )
}

/// Hexagon zones of a table grouped in the database, for the rows `rows` loaded from it: the
/// cells are the whole table's ([`HexGridBuilder`], over all its placed points), named from all
/// its settlements (the groups': [`settlement_zones_of_groups`]'s inputs), and each of `rows`
/// is put in its cell — the zones a full load has, in its order.
#[allow(clippy::too_many_arguments)]
pub fn hexagon_zones_of_groups(
    grid: &(f64, HexCells),
    groups: &Appeals,
    group_resolution: &MunicipalityResolution,
    weights: &[u64],
    sums_e7: &[[i64; 2]],
    boundaries: &Boundaries,
    locator: &MunicipalityLocator,
    rows: &Appeals,
    rows_resolution: &MunicipalityResolution,
) -> Zones {
    let (cell_km, cells) = (grid.0, &grid.1);
    let builder = settlement_builder_of_groups(groups, group_resolution, weights, sums_e7);
    let zone_of_row = (0..rows.len())
        .map(|i| {
            placed_lon_lat(rows, i)
                .and_then(|(lon, lat)| {
                    let (x, y) = mercator_m_from_lon_lat(lon, lat);
                    cells.find(x, y)
                })
                .unwrap_or(NO_ZONE)
        })
        .collect();
    hexagon_zone_list(
        cells,
        cell_km,
        named_settlements(&builder),
        boundaries,
        locator,
        rows_resolution,
        zone_of_row,
    )
}

/// The settlements that name hexagon cells: those of the database with a few appeals (so a
/// one-off typo does not name a cell), at their centroids, in Web-Mercator metres; empty
/// without any.
fn named_settlements(settlements: &SettlementZones) -> Vec<(String, f64, f64)> {
    settlements
        .zones
        .iter()
        .zip(&settlements.sums)
        .filter(|(_, (_, _, appeals))| *appeals >= 5)
        .filter_map(|(z, (n, [lon, lat], _))| {
            if *n == 0 {
                return None;
            }
            let (x, y) = mercator_m_from_lon_lat(mean_of_e7(*lon, *n), mean_of_e7(*lat, *n));
            Some((z.name.clone(), x, y))
        })
        .collect()
}

/// The zones of hexagon `cells` (`cell_km` across), named by the municipality under each
/// centre and the nearest of `named` (else of the region's facts).
fn hexagon_zone_list(
    cells: &HexCells,
    cell_km: f64,
    named: Vec<(String, f64, f64)>,
    boundaries: &Boundaries,
    locator: &MunicipalityLocator,
    resolution: &MunicipalityResolution,
    zone_of_row: Vec<u32>,
) -> Zones {
    let spacing_m = cells.spacing_m;
    let mut named = named;
    if named.is_empty() {
        named = crate::spatial::settlements()
            .iter()
            .map(|s| {
                let (x, y) = mercator_m_from_lon_lat(s.lon, s.lat);
                (s.name.to_owned(), x, y)
            })
            .collect();
    }
    let nearest_tree = rstar::RTree::bulk_load(
        named
            .iter()
            .enumerate()
            .map(|(k, (_, x, y))| rstar::primitives::GeomWithData::new([*x, *y], k))
            .collect(),
    );
    // The label of each boundary unit, once (matching names is not free).
    let unit_names: Vec<String> = boundaries
        .units
        .iter()
        .map(|u| {
            resolution
                .label_code(&u.name)
                .map_or(u.name.clone(), |c| resolution.label(c).to_owned())
        })
        .collect();
    let zones = cells
        .cells
        .iter()
        .map(|&(q, r)| {
            let centre_m = hex_centre_m(q, r, spacing_m);
            let (lon, lat) = lon_lat_from_mercator_m(centre_m[0], centre_m[1]);
            let municipality = locator
                .locate(lon, lat)
                .and_then(|u| unit_names.get(u))
                .cloned()
                .unwrap_or_default();
            let nearest_settlement = nearest_tree
                .nearest_neighbor(&centre_m)
                .and_then(|g| named.get(g.data))
                .map(|(name, _, _)| name.clone())
                .unwrap_or_default();
            Zone {
                name: String::new(),
                municipality,
                nearest_settlement,
                lon_lat: Some((lon, lat)),
                shape: ZoneShape::Hexagon {
                    centre_m,
                    corner_m: spacing_m / 3f64.sqrt(),
                },
            }
        })
        .collect();
    Zones {
        kind: Some(ZoneKind::Hexagons),
        cell_km: Some(cell_km),
        zones,
        zone_of_row,
    }
}

/// Municipality zones: the resolution's labels (not the unknown bucket), at the label point
/// of their polygon, else at the mean of their placed appeals.
fn municipality_zones(
    appeals: &Appeals,
    boundaries: &Boundaries,
    resolution: &MunicipalityResolution,
) -> Zones {
    let n = resolution.labels.len();
    let mut sums = vec![(0.0, 0.0, 0u64); n];
    let mut zone_of_row = vec![NO_ZONE; appeals.len()];
    for (i, slot) in zone_of_row.iter_mut().enumerate() {
        let label = resolution
            .row_label
            .get(i)
            .copied()
            .unwrap_or(resolution.unknown_label);
        if label == resolution.unknown_label {
            continue;
        }
        *slot = label;
        if let (Some((lon, lat)), Some(s)) =
            (placed_lon_lat(appeals, i), sums.get_mut(label as usize))
        {
            s.0 += lon;
            s.1 += lat;
            s.2 += 1;
        }
    }
    let unit_labels: Vec<Option<u32>> = boundaries
        .units
        .iter()
        .map(|u| resolution.label_code(&u.name))
        .collect();
    let zones = resolution
        .labels
        .iter()
        .enumerate()
        .map(|(code, label)| {
            let unit = unit_labels.iter().position(|l| *l == Some(code as u32));
            let mean = sums
                .get(code)
                .filter(|s| s.2 > 0)
                .map(|s| (s.0 / s.2 as f64, s.1 / s.2 as f64));
            let lon_lat = unit
                .and_then(|u| boundaries.units.get(u))
                .map(|u| u.label_lon_lat)
                .or(mean);
            Zone {
                name: label.clone(),
                municipality: label.clone(),
                nearest_settlement: String::new(),
                lon_lat: if code as u32 == resolution.unknown_label {
                    None
                } else {
                    lon_lat
                },
                shape: unit.map_or(ZoneShape::Point, ZoneShape::Unit),
            }
        })
        .collect();
    Zones {
        kind: Some(ZoneKind::Municipalities),
        cell_km: None,
        zones,
        zone_of_row,
    }
}

impl Zones {
    /// Builds the zones of `kind` for a database; `cell_km` is the hexagon spacing (default
    /// [`default_cell_km`]).
    pub fn build(
        kind: ZoneKind,
        cell_km: Option<f64>,
        appeals: &Appeals,
        resolution: &MunicipalityResolution,
        boundaries: &Boundaries,
        locator: &MunicipalityLocator,
    ) -> Self {
        match kind {
            ZoneKind::Settlements => settlement_zones(appeals, resolution),
            ZoneKind::Hexagons => {
                let points = placed_points_m(appeals);
                let extent = PlacedExtent::of(appeals);
                let cell_km = cell_km
                    .filter(|c| c.is_finite() && *c > 0.0)
                    .or_else(|| default_cell_km_of(&points, &extent))
                    .unwrap_or(5.0);
                hexagon_zones(
                    appeals, boundaries, locator, resolution, &points, &extent, cell_km,
                )
            }
            ZoneKind::Municipalities => municipality_zones(appeals, boundaries, resolution),
        }
    }

    /// Number of zones.
    pub fn len(&self) -> usize {
        self.zones.len()
    }

    /// True when there are no zones.
    pub fn is_empty(&self) -> bool {
        self.zones.is_empty()
    }
}

/// Time slices of the trend.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum SliceKind {
    /// Weeks from Monday.
    Week,
    /// Calendar months.
    Month,
}

/// Spatial weights of Gi*.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum WeightsKind {
    /// Every zone within a distance (km on the ground at the zone; `None` = the zoning's
    /// default: 5 km for settlements, the adjacent cells of a grid, ArcGIS's default — the
    /// largest nearest-neighbour distance — for municipalities).
    Distance { km: Option<f64> },
    /// The k nearest zones.
    Nearest { k: usize },
}

/// The emerging-hot-spot category of a zone (ArcGIS's names; rules in [`emerging`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub enum Emerging {
    New,
    Intensifying,
    Persistent,
    Diminishing,
    Sporadic,
    Historical,
    NoPattern,
}

impl Emerging {
    pub const ALL: [Emerging; 7] = [
        Emerging::New,
        Emerging::Intensifying,
        Emerging::Persistent,
        Emerging::Diminishing,
        Emerging::Sporadic,
        Emerging::Historical,
        Emerging::NoPattern,
    ];

    /// Machine name (CSV, GeoJSON, command line).
    pub fn key(self) -> &'static str {
        match self {
            Emerging::New => "new",
            Emerging::Intensifying => "intensifying",
            Emerging::Persistent => "persistent",
            Emerging::Diminishing => "diminishing",
            Emerging::Sporadic => "sporadic",
            Emerging::Historical => "historical",
            Emerging::NoPattern => "no_pattern",
        }
    }
}

/// Everything that shapes the problem map besides the filter.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct ProblemSettings {
    pub profile: Profile,
    pub weights: WeightsKind,
    /// Benjamini–Hochberg false-discovery-rate correction of the confidence classes.
    pub fdr: bool,
    pub slice: SliceKind,
    /// Appeals of a zone within this many hours of an incident's first appeal are one incident.
    pub incident_window_h: f64,
    /// An open appeal older than this (at the data's last day) is overdue.
    pub deadline_days: f64,
    /// Intervention date: rates before (period start .. the day before) and after (the day ..
    /// period end) are compared.
    pub intervention: Option<Date>,
    /// Share of time slices a zone must be hot in to be persistent (ArcGIS: 90 %).
    pub persistent_share: f64,
    /// Significance of the Mann-Kendall trend.
    pub trend_alpha: f64,
}

impl Default for ProblemSettings {
    fn default() -> Self {
        Self {
            profile: super::profiles::builtin_profiles()
                .into_iter()
                .next()
                .unwrap_or_default(),
            weights: WeightsKind::Distance { km: None },
            fdr: false,
            slice: SliceKind::Month,
            incident_window_h: 48.0,
            deadline_days: 10.0,
            intervention: None,
            persistent_share: 0.9,
            trend_alpha: 0.05,
        }
    }
}

/// The figures of one zone.
#[derive(Clone, Debug, PartialEq)]
pub struct ZoneStats {
    pub zone: u32,
    /// Appeals ("voices") in the period.
    pub appeals: u64,
    /// Incidents: appeals within the window of an incident's first appeal count once.
    pub incidents: u64,
    /// Gi* of the period's counts (`None` for a zone without a position).
    pub gi: Option<GiStar>,
    pub class: HotClass,
    /// Appeals per time slice.
    pub series: Vec<u32>,
    /// Whether the zone is a hot spot (≥ 90 %) in each slice.
    pub hot_slices: Vec<bool>,
    /// Mann-Kendall test of the appeals per day in each slice.
    pub trend: MannKendall,
    pub emerging: Emerging,
    /// Not yet answered.
    pub open: u64,
    /// Not yet answered and older than the deadline at the data's last day.
    pub overdue: u64,
    pub median_days_to_answer: Option<f64>,
    pub last_day: Option<Date>,
    /// Before/after the intervention date.
    pub intervention: Option<RateRatio>,
    pub change: Option<Change>,
}

/// The problem map for one profile and filter.
#[derive(Clone, Debug, Default)]
pub struct ProblemMap {
    /// One entry per zone of the zoning, in zone order.
    pub zones: Vec<ZoneStats>,
    /// Inclusive day ranges of the time slices.
    pub slices: Vec<(Date, Date)>,
    /// Rows passing the filter and the profile.
    pub appeals: u64,
    /// Those rows (indices into the appeals).
    pub rows: Vec<u32>,
    /// Of those, rows in no zone (no settlement, no coordinates, unknown municipality).
    pub unzoned: u64,
    /// The period (first and last day) the slices cover.
    pub period: Option<(Date, Date)>,
    /// The distance band used (km), when fixed-distance weights were used.
    pub distance_km: Option<f64>,
    /// The number of neighbours used, when k-nearest weights were used.
    pub k: Option<usize>,
    /// Zones that took part in Gi* (had a position).
    pub tested_zones: usize,
}

/// The profile as a filter (categories, subcategories, municipalities; the СНТ flag is
/// applied per row).
pub fn profile_filter(profile: &Profile) -> Filter {
    Filter {
        categories: profile.categories.clone(),
        subcategories: profile.subcategories.clone(),
        municipalities: profile.municipalities.clone(),
        ..Filter::default()
    }
}

/// Rows passing `filter` and the profile (`profile_masks` from [`profile_filter`]).
pub fn problem_rows(
    columns: &Columns,
    rows: &ProblemRows,
    filter_masks: &Masks,
    profile_masks: &Masks,
    profile: &Profile,
) -> Vec<u32> {
    let mut out = Vec::new();
    for i in filter_masks.rows(columns) {
        if profile.snt && !rows.garden.get(i as usize).copied().unwrap_or(false) {
            continue;
        }
        if profile_masks.passes(columns, i as usize) {
            out.push(i);
        }
    }
    out
}

fn slices_of(first: i32, last: i32, kind: SliceKind) -> Vec<(i32, i32)> {
    let mut out = Vec::new();
    let mut start = first;
    while start <= last {
        let end = match kind {
            // 1970-01-01 was a Thursday: Monday-based weeks end on day ≡ 3 (mod 7).
            SliceKind::Week => start + (3 - start).rem_euclid(7),
            SliceKind::Month => {
                let d = date_of_day(start);
                let next = if d.month() == 12 {
                    Date::new(d.year() + 1, 1, 1)
                } else {
                    Date::new(d.year(), d.month() + 1, 1)
                };
                next.map_or(last, |n| day_number(n) - 1)
            }
        };
        out.push((start, end.min(last)));
        start = end.min(last) + 1;
    }
    out
}

/// Share of the slices up to its last hot one a zone must have been hot in to be historical.
pub const HISTORICAL_SHARE: f64 = 0.5;

/// The emerging-hot-spot category of a zone from its hot flags per slice, its appeals per
/// slice and the Mann-Kendall test of its appeals per day.
///
/// ArcGIS's categories, adapted to a live operator's view (docs/problem-map.md):
/// - **new** — hot in the final slice, in an uninterrupted run of hot slices that began after
///   the first slice, with no appeals at all before the run (ArcGIS's "new" and
///   "consecutive"; a zone that had appeals and crossed the line is *intensifying*);
/// - **intensifying** / **diminishing** — hot in the final slice, with a significant upward /
///   downward trend;
/// - **persistent** — hot in the final slice and in at least `persistent_share` of the slices,
///   no significant trend;
/// - **sporadic** — hot in the final slice, otherwise on and off;
/// - **historical** — not hot in the final slice, hot in at least two earlier slices, and
///   either hot in [`HISTORICAL_SHARE`] of the slices up to its last hot one or significantly
///   decreasing (was hot, is no longer; ArcGIS asks 90 % of all slices, which on a year of
///   months calls a zone repaired in August after seven hot months of eight "no pattern");
/// - **no pattern** — everything else, including zones never hot.
pub fn emerging(
    hot: &[bool],
    series: &[u32],
    trend: &MannKendall,
    persistent_share: f64,
    alpha: f64,
) -> Emerging {
    let hot_count = hot.iter().filter(|h| **h).count();
    if hot_count == 0 {
        return Emerging::NoPattern;
    }
    let up = trend.p < alpha && trend.z > 0.0;
    let down = trend.p < alpha && trend.z < 0.0;
    if hot.last().copied().unwrap_or(false) {
        let run_start = hot.iter().rposition(|h| !*h).map_or(0, |k| k + 1);
        let quiet_before = series.iter().take(run_start).all(|c| *c == 0);
        if run_start > 0 && quiet_before {
            return Emerging::New;
        }
        if up {
            return Emerging::Intensifying;
        }
        if down {
            return Emerging::Diminishing;
        }
        if hot_count as f64 >= persistent_share * hot.len() as f64 {
            return Emerging::Persistent;
        }
        return Emerging::Sporadic;
    }
    let last_hot = hot.iter().rposition(|h| *h).unwrap_or(0);
    if hot_count >= 2 && (hot_count as f64 >= HISTORICAL_SHARE * (last_hot + 1) as f64 || down) {
        return Emerging::Historical;
    }
    Emerging::NoPattern
}

fn median(values: &mut [f32]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable_by(f32::total_cmp);
    let n = values.len();
    let mid = n / 2;
    let m = if n % 2 == 1 {
        f64::from(*values.get(mid)?)
    } else {
        (f64::from(*values.get(mid - 1)?) + f64::from(*values.get(mid)?)) / 2.0
    };
    Some(m)
}

/// The weights of the positioned zones (`index` maps positions back to zone numbers).
fn weights(zones: &Zones, kind: WeightsKind) -> (Vec<u32>, Neighbours, Option<f64>, Option<usize>) {
    let mut index = Vec::new();
    let mut xy_m = Vec::new();
    // Ground metres: Mercator metres scaled at the data's mean northing.
    let placed: Vec<(u32, (f64, f64))> = zones
        .zones
        .iter()
        .enumerate()
        .filter_map(|(k, z)| {
            z.lon_lat
                .map(|p| (k as u32, mercator_m_from_lon_lat(p.0, p.1)))
        })
        .collect();
    let mean_y = placed.iter().map(|(_, p)| p.1).sum::<f64>() / placed.len().max(1) as f64;
    let scale = ground_scale_at_mercator_y_m(mean_y);
    for (k, (x, y)) in placed {
        index.push(k);
        xy_m.push([x * scale, y * scale]);
    }
    match kind {
        WeightsKind::Nearest { k } => {
            let k = k.max(1);
            (index, neighbours_knn(&xy_m, k), None, Some(k))
        }
        WeightsKind::Distance { km } => {
            let distance_m = km.filter(|d| *d > 0.0).map_or_else(
                || match zones.kind {
                    Some(ZoneKind::Settlements) => 5_000.0,
                    // Adjacent cells (spacing on the ground), with a little slack.
                    Some(ZoneKind::Hexagons) => zones.cell_km.unwrap_or(5.0) * 1000.0 * 1.05,
                    _ => default_distance_m(&xy_m),
                },
                |d| d * 1000.0,
            );
            (
                index,
                neighbours_within(&xy_m, distance_m),
                Some(distance_m / 1000.0),
                None,
            )
        }
    }
}

/// Computes the problem map: `rows` are the rows passing the filter and the profile
/// ([`problem_rows`]); `period` is the filter's date range (else the data's).
pub fn problem_map(
    columns: &Columns,
    extra: &ProblemRows,
    zones: &Zones,
    rows: &[u32],
    period: Option<(Date, Date)>,
    settings: &ProblemSettings,
) -> ProblemMap {
    let n_zones = zones.len();
    let period_days = period
        .map(|(a, b)| (day_number(a), day_number(b)))
        .or(columns.day_range);
    let slices = period_days.map_or_else(Vec::new, |(a, b)| slices_of(a, b, settings.slice));
    let n_slices = slices.len();
    let slice_of = |day: i32| -> Option<usize> {
        let (first, _) = *slices.first()?;
        if day == NO_DAY || day < first {
            return None;
        }
        // Slices are contiguous: binary search on the start day.
        let k = slices.partition_point(|s| s.0 <= day);
        k.checked_sub(1)
            .filter(|&k| slices.get(k).is_some_and(|s| day <= s.1))
    };
    let data_last_day = columns.day_range.map(|r| r.1);
    let intervention_day = settings.intervention.map(day_number);

    let mut appeals = vec![0u64; n_zones];
    let mut series = vec![0u32; n_zones * n_slices.max(1)];
    let mut open = vec![0u64; n_zones];
    let mut overdue = vec![0u64; n_zones];
    let mut before = vec![0u64; n_zones];
    let mut after = vec![0u64; n_zones];
    let mut last_day = vec![NO_DAY; n_zones];
    let mut durations: Vec<Vec<f32>> = vec![Vec::new(); n_zones];
    let mut times: Vec<(u32, i64)> = Vec::with_capacity(rows.len());
    let mut unzoned = 0u64;
    for &i in rows {
        let i = i as usize;
        let z = zones.zone_of_row.get(i).copied().unwrap_or(NO_ZONE);
        if z == NO_ZONE || z as usize >= n_zones {
            unzoned += 1;
            continue;
        }
        let zi = z as usize;
        let day = columns.day.get(i).copied().unwrap_or(NO_DAY);
        if let Some(x) = appeals.get_mut(zi) {
            *x += 1;
        }
        if let Some(s) = slice_of(day)
            && let Some(x) = series.get_mut(zi * n_slices + s)
        {
            *x += 1;
        }
        let status = columns.status.get(i).copied().unwrap_or(0) as usize;
        if columns
            .status_unresolved
            .get(status)
            .copied()
            .unwrap_or(false)
        {
            if let Some(x) = open.get_mut(zi) {
                *x += 1;
            }
            if let (Some(last), true) = (data_last_day, day != NO_DAY)
                && f64::from(last - day) > settings.deadline_days
                && let Some(x) = overdue.get_mut(zi)
            {
                *x += 1;
            }
        }
        if let Some(d) = columns.resolution_days.get(i).filter(|d| d.is_finite())
            && let Some(v) = durations.get_mut(zi)
        {
            v.push(*d);
        }
        if day != NO_DAY {
            if let Some(x) = last_day.get_mut(zi) {
                *x = (*x).max(day);
            }
            if let Some(d0) = intervention_day {
                let side = if day < d0 { &mut before } else { &mut after };
                if let Some(x) = side.get_mut(zi) {
                    *x += 1;
                }
            }
        }
        times.push((z, extra.minute.get(i).copied().unwrap_or(i64::MIN)));
    }

    // Incidents: per zone, an appeal more than the window after the current incident's first
    // appeal starts a new one. Appeals without a time are an incident each.
    let mut incidents = vec![0u64; n_zones];
    times.sort_unstable();
    let window_min = (settings.incident_window_h.max(0.0) * 60.0).round() as i64;
    let mut current: Option<(u32, i64)> = None;
    for &(z, t) in &times {
        let new = match current {
            Some((cz, start)) => cz != z || t == i64::MIN || t - start > window_min,
            None => true,
        };
        if new {
            if let Some(x) = incidents.get_mut(z as usize) {
                *x += 1;
            }
            current = Some((z, t));
        }
    }

    // Gi* on the period's counts and on each slice's counts, over the positioned zones.
    let (index, w, distance_km, k) = weights(zones, settings.weights);
    let values: Vec<f64> = index
        .iter()
        .map(|&z| appeals.get(z as usize).copied().unwrap_or(0) as f64)
        .collect();
    let gi = gi_star(&values, &w);
    let classes = classify(&gi, settings.fdr);
    let mut zone_gi: Vec<Option<(GiStar, HotClass)>> = vec![None; n_zones];
    for ((&z, g), c) in index.iter().zip(&gi).zip(&classes) {
        if let Some(slot) = zone_gi.get_mut(z as usize) {
            *slot = Some((*g, *c));
        }
    }
    // The space-time cube, as ArcGIS's Emerging Hot Spot Analysis builds it: one bin per
    // zone and slice, valued by its appeals per day (a partial first or last week is not
    // "quieter"); a bin's neighbours are the zone's spatial neighbours in the same slice and
    // in the one before (neighbourhood time step 1); the mean and spread are those of the
    // whole cube, so a zone that is steadily busy stays hot while others flare up.
    let slice_days: Vec<f64> = slices.iter().map(|(a, b)| f64::from(b - a + 1)).collect();
    let n_tested = index.len();
    let mut hot = vec![false; n_zones * n_slices.max(1)];
    if n_slices > 0 && n_tested > 0 {
        let cube: Vec<f64> = (0..n_slices)
            .flat_map(|t| {
                let days = slice_days.get(t).copied().unwrap_or(1.0).max(1.0);
                index.iter().map(move |&z| (z, days, t))
            })
            .map(|(z, days, t)| {
                f64::from(series.get(z as usize * n_slices + t).copied().unwrap_or(0)) / days
            })
            .collect();
        let cube_w: Neighbours = (0..n_slices)
            .flat_map(|t| {
                w.iter().map(move |list| {
                    let mut bins: Vec<(u32, f64)> = list
                        .iter()
                        .map(|&(j, wt)| ((t * n_tested) as u32 + j, wt))
                        .collect();
                    if t > 0 {
                        bins.extend(
                            list.iter()
                                .map(|&(j, wt)| (((t - 1) * n_tested) as u32 + j, wt)),
                        );
                    }
                    bins
                })
            })
            .collect();
        let classes = classify(&gi_star(&cube, &cube_w), settings.fdr);
        for t in 0..n_slices {
            for (k, &z) in index.iter().enumerate() {
                if let (Some(h), Some(c)) = (
                    hot.get_mut(z as usize * n_slices + t),
                    classes.get(t * n_tested + k),
                ) {
                    *h = c.is_hot();
                }
            }
        }
    }

    let (days_before, days_after) = match (period_days, intervention_day) {
        (Some((a, b)), Some(d)) if d > a && d <= b => (f64::from(d - a), f64::from(b - d + 1)),
        _ => (0.0, 0.0),
    };
    let stats = (0..n_zones)
        .map(|zi| {
            let zone_series: Vec<u32> = series
                .get(zi * n_slices..(zi + 1) * n_slices)
                .map(<[u32]>::to_vec)
                .unwrap_or_default();
            let rates: Vec<f64> = zone_series
                .iter()
                .zip(&slice_days)
                .map(|(c, d)| f64::from(*c) / d.max(1.0))
                .collect();
            let hot_slices: Vec<bool> = hot
                .get(zi * n_slices..(zi + 1) * n_slices)
                .map(<[bool]>::to_vec)
                .unwrap_or_default();
            let trend = mann_kendall(&rates);
            let emerging = emerging(
                &hot_slices,
                &zone_series,
                &trend,
                settings.persistent_share,
                settings.trend_alpha,
            );
            let intervention = (days_before > 0.0 && days_after > 0.0).then(|| {
                rate_ratio(
                    before.get(zi).copied().unwrap_or(0),
                    days_before,
                    after.get(zi).copied().unwrap_or(0),
                    days_after,
                    0.95,
                )
            });
            let gi = zone_gi.get(zi).copied().flatten();
            ZoneStats {
                zone: zi as u32,
                appeals: appeals.get(zi).copied().unwrap_or(0),
                incidents: incidents.get(zi).copied().unwrap_or(0),
                gi: gi.map(|g| g.0),
                class: gi.map_or(HotClass::NotSignificant, |g| g.1),
                series: zone_series,
                hot_slices,
                trend,
                emerging,
                open: open.get(zi).copied().unwrap_or(0),
                overdue: overdue.get(zi).copied().unwrap_or(0),
                median_days_to_answer: durations.get_mut(zi).and_then(|v| median(v)),
                last_day: last_day
                    .get(zi)
                    .copied()
                    .filter(|d| *d != NO_DAY)
                    .map(date_of_day),
                change: intervention.as_ref().map(change),
                intervention,
            }
        })
        .collect();
    ProblemMap {
        zones: stats,
        slices: slices
            .iter()
            .map(|(a, b)| (date_of_day(*a), date_of_day(*b)))
            .collect(),
        appeals: rows.len() as u64,
        rows: rows.to_vec(),
        unzoned,
        period: period_days.map(|(a, b)| (date_of_day(a), date_of_day(b))),
        distance_km,
        k,
        tested_zones: index.len(),
    }
}

/// The whole problem map for a filter and settings: the filter and the profile compiled,
/// their rows selected, the figures computed (what the window's job and `teplokarta problems`
/// both call).
pub fn compute(
    appeals: &Appeals,
    resolution: &MunicipalityResolution,
    columns: &Columns,
    extra: &ProblemRows,
    zones: &Zones,
    filter: &Filter,
    settings: &ProblemSettings,
) -> ProblemMap {
    let filter_masks = Masks::new(filter, appeals, resolution, columns);
    let profile_masks = Masks::new(
        &profile_filter(&settings.profile),
        appeals,
        resolution,
        columns,
    );
    let rows = problem_rows(
        columns,
        extra,
        &filter_masks,
        &profile_masks,
        &settings.profile,
    );
    let period = match (filter.from, filter.to) {
        (None, None) => None,
        (from, to) => {
            let data = columns
                .day_range
                .map(|(a, b)| (date_of_day(a), date_of_day(b)));
            match (from.or(data.map(|d| d.0)), to.or(data.map(|d| d.1))) {
                (Some(a), Some(b)) => Some((a, b)),
                _ => None,
            }
        }
    };
    problem_map(columns, extra, zones, &rows, period, settings)
}

/// Orders of the problem list.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum RankBy {
    /// Gi* z-score, highest first.
    ZScore,
    /// Appeals, most first.
    Appeals,
    /// Growth: the Mann-Kendall z of the appeals per day, most increasing first.
    Growth,
    /// Open appeals, most first.
    Open,
}

impl RankBy {
    pub const ALL: [RankBy; 4] = [
        RankBy::ZScore,
        RankBy::Appeals,
        RankBy::Growth,
        RankBy::Open,
    ];
}

/// The zones with at least one appeal, best first by `by` (ties: more appeals, then zone
/// number).
pub fn ranked(map: &ProblemMap, by: RankBy) -> Vec<usize> {
    let mut out: Vec<usize> = (0..map.zones.len())
        .filter(|&k| map.zones.get(k).is_some_and(|z| z.appeals > 0))
        .collect();
    let key = |k: usize| -> f64 {
        let Some(z) = map.zones.get(k) else {
            return f64::NEG_INFINITY;
        };
        match by {
            RankBy::ZScore => z.gi.map_or(f64::NEG_INFINITY, |g| g.z),
            RankBy::Appeals => z.appeals as f64,
            RankBy::Growth => z.trend.z,
            RankBy::Open => z.open as f64,
        }
    };
    out.sort_by(|&a, &b| {
        key(b)
            .total_cmp(&key(a))
            .then_with(|| {
                let n = |k: usize| map.zones.get(k).map_or(0, |z| z.appeals);
                n(b).cmp(&n(a))
            })
            .then(a.cmp(&b))
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mk(z: f64, p: f64) -> MannKendall {
        MannKendall {
            s: 0,
            var_s: 0.0,
            z,
            p,
            tau: 0.0,
        }
    }

    const FLAT: (f64, f64) = (0.0, 1.0);

    fn class(hot: &str, series: &[u32], trend: (f64, f64)) -> Emerging {
        let hot: Vec<bool> = hot.chars().map(|c| c == 'H').collect();
        emerging(&hot, series, &mk(trend.0, trend.1), 0.9, 0.05)
    }

    #[test]
    fn emerging_categories_from_synthetic_series() {
        // New: quiet, then hot at the end.
        assert_eq!(
            class(
                ".........HHH",
                &[0, 0, 0, 0, 0, 0, 0, 0, 0, 9, 12, 15],
                (3.0, 0.002)
            ),
            Emerging::New
        );
        // A zone with appeals all along that became hot late and grows is intensifying.
        assert_eq!(
            class(
                "......HHHHHH",
                &[1, 2, 1, 2, 2, 3, 6, 8, 9, 12, 14, 20],
                (3.5, 0.0004)
            ),
            Emerging::Intensifying
        );
        assert_eq!(
            class(
                "HHHHHHHHHHHH",
                &[20, 18, 15, 14, 12, 10, 9, 8, 7, 6, 6, 5],
                (-3.5, 0.0004)
            ),
            Emerging::Diminishing
        );
        assert_eq!(class("H.HHHHHHHHHH", &[5; 12], FLAT), Emerging::Persistent);
        assert_eq!(
            class("H..H...H...H", &[5, 0, 0, 5, 0, 0, 0, 5, 0, 0, 0, 5], FLAT),
            Emerging::Sporadic
        );
        // Hot in 11 of 12 slices but not the last one: it was persistent, it is historical.
        assert_eq!(class("HHHHHHHHHHH.", &[5; 12], FLAT), Emerging::Historical);
        // Fixed part-way: hot until June, nothing after.
        assert_eq!(
            class(
                "HHHHHH......",
                &[7, 5, 14, 25, 17, 22, 0, 0, 0, 0, 0, 0],
                (-2.0, 0.04)
            ),
            Emerging::Historical
        );
        // Hot once, long ago, no trend: no pattern. Never hot: no pattern.
        assert_eq!(
            class("..H.........", &[0, 0, 6, 0, 0, 0, 0, 0, 0, 0, 0, 0], FLAT),
            Emerging::NoPattern
        );
        assert_eq!(class("............", &[1; 12], FLAT), Emerging::NoPattern);
    }

    #[test]
    fn slices_cover_the_period_without_gaps() {
        let first = day_number(Date::constant(2021, 1, 1));
        let last = day_number(Date::constant(2021, 12, 31));
        let months = slices_of(first, last, SliceKind::Month);
        assert_eq!(months.len(), 12);
        assert_eq!(
            months.get(1).copied(),
            Some((
                day_number(Date::constant(2021, 2, 1)),
                day_number(Date::constant(2021, 2, 28))
            ))
        );
        let weeks = slices_of(first, last, SliceKind::Week);
        // 2021-01-01 is a Friday: a 3-day first week, 51 full weeks, a 5-day last one.
        assert_eq!(weeks.len(), 53);
        assert_eq!(weeks.first().map(|w| w.1 - w.0 + 1), Some(3));
        for pair in weeks.windows(2) {
            assert_eq!(pair[0].1 + 1, pair[1].0);
        }
        assert_eq!(weeks.last().map(|w| w.1), Some(last));
    }

    #[test]
    fn hexagon_rounding_finds_the_nearest_centre() {
        let spacing = 1000.0;
        for q in -3..3 {
            for r in -3..3 {
                let [x, y] = hex_centre_m(q, r, spacing);
                assert_eq!(hex_of(x, y, spacing), (q, r));
                assert_eq!(hex_of(x + 280.0, y - 150.0, spacing), (q, r));
            }
        }
        // Neighbouring centres are `spacing` apart.
        let a = hex_centre_m(0, 0, spacing);
        for (q, r) in [(1, 0), (0, 1), (-1, 1), (-1, 0), (0, -1), (1, -1)] {
            let b = hex_centre_m(q, r, spacing);
            assert!(((b[0] - a[0]).hypot(b[1] - a[1]) - spacing).abs() < 1e-9);
        }
    }

    #[test]
    fn nice_cell_sizes() {
        // The steps the default grid coarsens by: 1 → 2 → 5 → 10.
        assert_eq!(nice_floor(1.0 * 2.6), 2.0);
        assert_eq!(nice_floor(2.0 * 2.6), 5.0);
        assert_eq!(nice_floor(5.0 * 2.6), 10.0);
        assert_eq!(nice_floor(0.5 * 2.6), 1.0);
        assert_eq!(nice_floor(6.3), 5.0);
        assert_eq!(nice_floor(0.23), 0.2);
        assert_eq!(nice_floor(3.0), 2.0);
        assert_eq!(nice_floor(1.0), 1.0);
    }
}
