//! Kernel density estimation on a grid in Web-Mercator metres, in honest units (appeals per km²
//! of ground): the surface integrates to the number of appeals (up to clipping at the grid edge).
//!
//! Kernels have the shapes of QGIS's "Heatmap (Kernel Density Estimation)" (quartic, triangular,
//! uniform, triweight, Epanechnikov) plus a Gaussian truncated at 3σ; unlike QGIS's "scaled"
//! output, each is normalised to integrate to exactly 1 over the disc of the radius, so the
//! values are densities. Distances are measured on the ground: a radius of `r` metres is
//! `r / cos(lat)` Web-Mercator metres at the point's latitude.
//!
//! Two modes: [`Mode::Exact`] adds the kernel of every point at its true position (what QGIS
//! computes); [`Mode::Fast`] first bins the points on a grid `FAST_SUBDIVISION`× finer than the
//! output and adds the kernel once per non-empty bin, weighted by its count, from precomputed
//! stencils. Both work on two threads, each owning half of the output rows (no grids to merge);
//! `docs/density.md` tells how and what it costs.

use serde::{Deserialize, Serialize};

use crate::spatial::projection::{lon_lat_from_mercator_m, mercator_m_from_lon_lat};

/// Kernel shapes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Kernel {
    #[default]
    Quartic,
    Triangular,
    Uniform,
    Triweight,
    Epanechnikov,
    /// Gaussian with σ = radius / 3, truncated at the radius.
    Gaussian,
}

impl Kernel {
    /// Every kernel, in menu order.
    pub const ALL: [Kernel; 6] = [
        Kernel::Quartic,
        Kernel::Triangular,
        Kernel::Uniform,
        Kernel::Triweight,
        Kernel::Epanechnikov,
        Kernel::Gaussian,
    ];

    /// The kernel at distance `d` from the point for radius `r` (same unit), normalised so that
    /// its integral over the disc of radius `r` is 1 (so its value is per unit², e.g. per m²).
    pub fn value(self, d: f64, r: f64) -> f64 {
        if d.is_nan() || d > r || r <= 0.0 {
            return 0.0;
        }
        let u = d / r;
        let area = std::f64::consts::PI * r * r;
        match self {
            // ∫ over the unit disc: π/3 for (1−u²)², π/3 for (1−u), π for 1, π/4 for (1−u²)³,
            // π/2 for (1−u²).
            Kernel::Quartic => 3.0 / area * (1.0 - u * u).powi(2),
            Kernel::Triangular => 3.0 / area * (1.0 - u),
            Kernel::Uniform => 1.0 / area,
            Kernel::Triweight => 4.0 / area * (1.0 - u * u).powi(3),
            Kernel::Epanechnikov => 2.0 / area * (1.0 - u * u),
            Kernel::Gaussian => {
                // σ = r/3: ∫ over the disc of exp(−d²/2σ²) = 2πσ²(1 − e^(−r²/2σ²)).
                let sigma = r / 3.0;
                let norm = 2.0 * std::f64::consts::PI * sigma * sigma * (1.0 - (-4.5_f64).exp());
                (-(d * d) / (2.0 * sigma * sigma)).exp() / norm
            }
        }
    }
}

/// The kernel as a function of the squared distance, with its constants prepared once per
/// radius (no square root for the polynomial kernels).
#[derive(Clone, Copy, Debug)]
struct PreparedKernel {
    kernel: Kernel,
    r: f64,
    r2: f64,
    inv_r2: f64,
    inv_r: f64,
    scale: f64,
    inv_two_sigma2: f64,
}

impl PreparedKernel {
    fn new(kernel: Kernel, r: f64) -> Self {
        let area = std::f64::consts::PI * r * r;
        let sigma = r / 3.0;
        let scale = match kernel {
            Kernel::Quartic | Kernel::Triangular => 3.0 / area,
            Kernel::Uniform => 1.0 / area,
            Kernel::Triweight => 4.0 / area,
            Kernel::Epanechnikov => 2.0 / area,
            Kernel::Gaussian => {
                1.0 / (2.0 * std::f64::consts::PI * sigma * sigma * (1.0 - (-4.5_f64).exp()))
            }
        };
        Self {
            kernel,
            r,
            r2: r * r,
            inv_r2: 1.0 / (r * r),
            inv_r: 1.0 / r,
            scale,
            inv_two_sigma2: 1.0 / (2.0 * sigma * sigma),
        }
    }

    #[inline]
    fn at_d2(&self, d2: f64) -> f64 {
        if d2 > self.r2 {
            return 0.0;
        }
        let t = 1.0 - d2 * self.inv_r2;
        self.scale
            * match self.kernel {
                Kernel::Quartic => t * t,
                Kernel::Triangular => 1.0 - d2.sqrt() * self.inv_r,
                Kernel::Uniform => 1.0,
                Kernel::Triweight => t * t * t,
                Kernel::Epanechnikov => t,
                Kernel::Gaussian => (-d2 * self.inv_two_sigma2).exp(),
            }
    }
}

/// How the surface is computed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Mode {
    /// Every point at its true position.
    #[default]
    Exact,
    /// Points binned on a finer grid first.
    Fast,
}

/// The fast mode's bins are this many times finer than the output cells (each way).
pub const FAST_SUBDIVISION: usize = 4;

/// A grid in Web-Mercator metres: `width × height` cells of `cell_m`, row 0 at the north.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Grid {
    /// West edge, Mercator metres.
    pub x_min_m: f64,
    /// North edge, Mercator metres.
    pub y_max_m: f64,
    pub cell_m: f64,
    pub width: usize,
    pub height: usize,
}

impl Grid {
    /// A grid over a lon/lat box with `width × height` cells (square cells: the box is grown in
    /// one direction to keep them square).
    pub fn over_lon_lat(
        lon_min: f64,
        lat_min: f64,
        lon_max: f64,
        lat_max: f64,
        width: usize,
        height: usize,
    ) -> Self {
        let (x0, y0) = mercator_m_from_lon_lat(lon_min, lat_min);
        let (x1, y1) = mercator_m_from_lon_lat(lon_max, lat_max);
        let (w, h) = (width.max(1), height.max(1));
        let cell_m = ((x1 - x0).abs() / w as f64)
            .max((y1 - y0).abs() / h as f64)
            .max(1e-6);
        let (cx, cy) = ((x0 + x1) / 2.0, (y0 + y1) / 2.0);
        Self {
            x_min_m: cx - cell_m * w as f64 / 2.0,
            y_max_m: cy + cell_m * h as f64 / 2.0,
            cell_m,
            width: w,
            height: h,
        }
    }

    /// Centre of cell (column, row), Mercator metres.
    pub fn cell_center_m(&self, col: usize, row: usize) -> (f64, f64) {
        (
            self.x_min_m + (col as f64 + 0.5) * self.cell_m,
            self.y_max_m - (row as f64 + 0.5) * self.cell_m,
        )
    }

    /// Ground area of cell row `row`, km² (Mercator cells shrink by cos²(lat) on the ground).
    pub fn cell_area_km2(&self, row: usize) -> f64 {
        let (x, y) = self.cell_center_m(0, row);
        let (_, lat) = lon_lat_from_mercator_m(x, y);
        let side_km = self.cell_m * lat.to_radians().cos() / 1_000.0;
        side_km * side_km
    }
}

/// A density surface: appeals per km² at each cell centre, row-major from the north-west.
#[derive(Clone, Debug, PartialEq)]
pub struct Surface {
    pub grid: Grid,
    pub values: Vec<f32>,
}

impl Surface {
    /// The integral of the surface: Σ density × cell ground area (≈ the number of points).
    pub fn integral(&self) -> f64 {
        self.values
            .chunks(self.grid.width.max(1))
            .enumerate()
            .map(|(row, line)| {
                line.iter().map(|&v| f64::from(v)).sum::<f64>() * self.grid.cell_area_km2(row)
            })
            .sum()
    }

    /// Value at a Mercator position (the cell it falls in), `None` outside the grid.
    pub fn value_at_m(&self, x_m: f64, y_m: f64) -> Option<f32> {
        let g = &self.grid;
        let col = ((x_m - g.x_min_m) / g.cell_m).floor();
        let row = ((g.y_max_m - y_m) / g.cell_m).floor();
        if col < 0.0 || row < 0.0 || col >= g.width as f64 || row >= g.height as f64 {
            return None;
        }
        self.values
            .get(row as usize * g.width + col as usize)
            .copied()
    }

    /// Largest value.
    pub fn peak(&self) -> f32 {
        self.values.iter().copied().fold(0.0, f32::max)
    }

    /// The `q` quantile (0..=1) of the non-zero values (the automatic maximum of the colour
    /// scale is the 99th percentile, so one hot cell does not wash out the rest).
    pub fn nonzero_quantile(&self, q: f64) -> Option<f32> {
        let mut v: Vec<f64> = self
            .values
            .iter()
            .filter(|&&x| x > 0.0)
            .map(|&x| f64::from(x))
            .collect();
        if v.is_empty() {
            return None;
        }
        v.sort_by(f64::total_cmp);
        Some(super::classify::quantile_sorted(&v, q) as f32)
    }
}

/// Points as Web-Mercator metres with the ground scale (cos lat) of each; points with a
/// non-finite coordinate are left out.
fn prepare(points_lon_lat: &[(f64, f64)]) -> Vec<(f64, f64, f64)> {
    convert_kept(points_lon_lat, lon_lat_finite, |&(lon, lat)| {
        let (x, y) = mercator_m_from_lon_lat(lon, lat);
        (x, y, lat.to_radians().cos())
    })
}

fn lon_lat_finite(&(lon, lat): &(f64, f64)) -> bool {
    lon.is_finite() && lat.is_finite()
}

/// The weights of the points [`prepare`] keeps, when it left some out (`None`: the weights
/// given still apply).
fn kept_weights(points_lon_lat: &[(f64, f64)], weights: Option<&[f64]>) -> Option<Vec<f64>> {
    let ws = weights?;
    if points_lon_lat.iter().all(lon_lat_finite) {
        return None;
    }
    Some(
        points_lon_lat
            .iter()
            .enumerate()
            .filter(|(_, p)| lon_lat_finite(p))
            .map(|(i, _)| ws.get(i).copied().unwrap_or(1.0))
            .collect(),
    )
}

/// `convert` of the items passing `keep`, in order; on two threads, each filling half of the
/// result, when every item passes (as good as always).
fn convert_kept<T: Sync, U: Copy + Default + Send>(
    items: &[T],
    keep: impl Fn(&T) -> bool,
    convert: impl Fn(&T) -> U + Sync,
) -> Vec<U> {
    if !items.iter().all(&keep) {
        return items.iter().filter(|t| keep(t)).map(convert).collect();
    }
    let mut out = vec![U::default(); items.len()];
    let half = items.len() / 2;
    let (north, south) = out.split_at_mut(half);
    let (first, second) = items.split_at(half);
    let fill = |out: &mut [U], items: &[T]| {
        for (o, t) in out.iter_mut().zip(items) {
            *o = convert(t);
        }
    };
    both(|| fill(north, first), || fill(south, second));
    out
}

/// Runs `a` here and `b` on a second thread, and returns both results.
fn both<A, B: Send>(a: impl FnOnce() -> A, b: impl FnOnce() -> B + Send) -> (A, B) {
    std::thread::scope(|scope| {
        let second = scope.spawn(b);
        let first = a();
        match second.join() {
            Ok(second) => (first, second),
            Err(panic) => std::panic::resume_unwind(panic),
        }
    })
}

/// Output rows sharing one set of stencils (the ground scale cos(lat) is taken at the band's
/// middle; over 8 rows of a regional grid it changes by well under 0.1 %).
const STENCIL_BAND_ROWS: usize = 8;

/// Sub-cells per output cell in the fast mode.
const SUB_CELLS: usize = FAST_SUBDIVISION * FAST_SUBDIVISION;

/// Stencil values the fast mode adds at a time, kept in registers.
const LANES: usize = 16;

/// Where the fast mode's bins lie: `FAST_SUBDIVISION`² sub-cells per output cell over the grid
/// and a margin of `reach` cells on every side (points there still reach the grid).
#[derive(Clone, Copy, Debug)]
struct FastLayout {
    /// How many cells away from its own a kernel reaches at most (with a cell of slack).
    reach: usize,
    /// `2 · reach + 1`: the stencils' cells across and down.
    side: usize,
    width: usize,
    height: usize,
    /// Cells across and down the grid with its margins.
    margin_width: usize,
    margin_height: usize,
    /// Mercator metres of the margins' west and north edges, and the side of a bin.
    x_west_m: f64,
    y_north_m: f64,
    bin_m: f64,
}

impl FastLayout {
    /// `None` when the kernel spans too many cells for stencils to pay off.
    fn new(grid: &Grid, radius_ground_m: f64) -> Option<Self> {
        if !(radius_ground_m > 0.0 && radius_ground_m.is_finite()) {
            return None;
        }
        // The widest the kernel gets in Mercator metres: at the grid's edge farthest from the
        // equator (with a cell of slack for points just outside).
        let lat_of_y = |y: f64| lon_lat_from_mercator_m(0.0, y).1;
        let y_bottom = grid.y_max_m - grid.cell_m * grid.height as f64;
        let lat_extreme = lat_of_y(grid.y_max_m)
            .abs()
            .max(lat_of_y(y_bottom).abs())
            .min(85.0);
        let reach = (radius_ground_m / lat_extreme.to_radians().cos() / grid.cell_m).ceil() + 1.0;
        if !(1.0..=60.0).contains(&reach) {
            return None;
        }
        let reach = reach as usize;
        Some(Self {
            reach,
            side: 2 * reach + 1,
            width: grid.width,
            height: grid.height,
            margin_width: grid.width + 2 * reach,
            margin_height: grid.height + 2 * reach,
            x_west_m: grid.x_min_m - reach as f64 * grid.cell_m,
            y_north_m: grid.y_max_m + reach as f64 * grid.cell_m,
            bin_m: grid.cell_m / FAST_SUBDIVISION as f64,
        })
    }

    fn bins_across(&self) -> usize {
        self.margin_width * FAST_SUBDIVISION
    }

    fn bins_down(&self) -> usize {
        self.margin_height * FAST_SUBDIVISION
    }

    /// How many bands of rows have stencils of their own, and the band of margin row `m`.
    fn bands(&self) -> usize {
        self.height.div_ceil(STENCIL_BAND_ROWS) + 2 * self.reach.div_ceil(STENCIL_BAND_ROWS) + 2
    }

    fn band_of(&self, m: usize) -> usize {
        (m / STENCIL_BAND_ROWS + 1).min(self.bands() - 1)
    }
}

/// Where the points fall among the fast mode's bins.
trait Bins: Sync {
    fn len(&self) -> usize;
    /// Bin column and row of point `i`, counted from the margins' north-west corner; `None`
    /// outside the margins (or for a point without a position).
    fn bin_of(&self, i: usize) -> Option<(usize, usize)>;
}

/// Points in Mercator metres.
struct MercatorBins<'a> {
    points: &'a [(f64, f64, f64)],
    layout: FastLayout,
    inv_bin_m: f64,
}

impl Bins for MercatorBins<'_> {
    fn len(&self) -> usize {
        self.points.len()
    }

    #[inline]
    fn bin_of(&self, i: usize) -> Option<(usize, usize)> {
        let &(x, y, _) = self.points.get(i)?;
        let l = &self.layout;
        let col = index_below((x - l.x_west_m) * self.inv_bin_m, l.bins_across() as f64)?;
        let row = index_below((l.y_north_m - y) * self.inv_bin_m, l.bins_down() as f64)?;
        Some((col, row))
    }
}

/// `floor(v)` as an index when `0 ≤ v < end`, else `None` (truncation is the floor there, and
/// needs no call to libm's `floor` on a baseline x86-64 build).
#[inline]
fn index_below(v: f64, end: f64) -> Option<usize> {
    (v >= 0.0 && v < end).then_some(v as usize)
}

/// Points in longitude and latitude: the bin row comes from [`LatRows`] when it can be built
/// (no logarithm per point), else from the projection.
struct LonLatBins<'a> {
    points: &'a [(f64, f64)],
    layout: FastLayout,
    inv_bin_m: f64,
    rows: Option<LatRows>,
}

impl Bins for LonLatBins<'_> {
    fn len(&self) -> usize {
        self.points.len()
    }

    #[inline]
    fn bin_of(&self, i: usize) -> Option<(usize, usize)> {
        let &(lon, lat) = self.points.get(i)?;
        let l = &self.layout;
        let col = index_below(
            column_of_lon(lon, l.x_west_m, self.inv_bin_m),
            l.bins_across() as f64,
        )?;
        let row = match &self.rows {
            Some(rows) => rows.row_of(lat)?,
            None if lat.is_finite() => {
                let (_, y) = mercator_m_from_lon_lat(lon, lat);
                index_below((l.y_north_m - y) / l.bin_m, l.bins_down() as f64)?
            }
            None => return None,
        };
        Some((col, row))
    }
}

/// The fractional bin column of `lon` (its floor is the column): the arithmetic every caller
/// must share bit for bit, the server's too (see [`FastBinning::lon_column_edges`]).
#[inline]
fn column_of_lon(lon: f64, x_west_m: f64, inv_bin_m: f64) -> f64 {
    use crate::spatial::projection::EARTH_RADIUS_M;
    (EARTH_RADIUS_M * lon.to_radians() - x_west_m) * inv_bin_m
}

/// Latitude → bin row without a logarithm per point: a table over a uniform latitude step,
/// half the thinnest row, so at most one row edge falls within a step; each step holds the row
/// at its south end. Row `k` holds exactly the latitudes in `(edges[k + 1], edges[k]]` (the
/// step only says where to look; the edges decide), so the server can bin by the same edges.
struct LatRows {
    lat_south: f64,
    lat_north: f64,
    inv_step: f64,
    /// Per step: the row at its south end.
    steps: Vec<usize>,
    /// North edge of each row, then the south edge of the last one (descending).
    edges: Vec<f64>,
}

/// The rows' edges [`LatRows`] bins by, with its step and step count; `None` where it is not
/// built (near the poles, or rows too thin for a table of fewer than 2²⁴ steps).
fn lat_row_edges(layout: &FastLayout) -> Option<(Vec<f64>, f64, f64)> {
    use crate::spatial::projection::MAX_LAT;
    let rows = layout.bins_down();
    let edges: Vec<f64> = (0..=rows)
        .map(|k| lon_lat_from_mercator_m(0.0, layout.y_north_m - k as f64 * layout.bin_m).1)
        .collect();
    let (&lat_north, &lat_south) = (edges.first()?, edges.last()?);
    if !(lat_north < MAX_LAT && lat_south > -MAX_LAT && rows > 0) {
        return None;
    }
    let thinnest = edges
        .windows(2)
        .map(|pair| pair[0] - pair[1])
        .fold(f64::INFINITY, f64::min);
    if thinnest.is_nan() || thinnest <= 0.0 {
        return None;
    }
    let step = thinnest / 2.0;
    let count = ((lat_north - lat_south) / step).ceil() + 1.0;
    if count.is_nan() || count >= (1 << 24) as f64 {
        return None;
    }
    Some((edges, step, count))
}

impl LatRows {
    fn new(layout: &FastLayout) -> Option<Self> {
        let (edges, step, count) = lat_row_edges(layout)?;
        let (&lat_north, &lat_south) = (edges.first()?, edges.last()?);
        let rows = layout.bins_down();
        let mut steps = Vec::with_capacity(count as usize);
        let mut row = rows - 1;
        for s in 0..count as usize {
            let lat = lat_south + s as f64 * step;
            while row > 0 && edges.get(row).is_some_and(|&north| lat > north) {
                row -= 1;
            }
            steps.push(row);
        }
        Some(Self {
            lat_south,
            lat_north,
            inv_step: 1.0 / step,
            steps,
            edges,
        })
    }

    #[inline]
    fn row_of(&self, lat: f64) -> Option<usize> {
        if !(lat > self.lat_south && lat <= self.lat_north) {
            return None;
        }
        let step = ((lat - self.lat_south) * self.inv_step) as usize;
        let &row = self.steps.get(step).or_else(|| self.steps.last())?;
        // The step is within one step of the truth (rounding), so at most one edge lies
        // between `lat` and the step's south end: north of the row, or (rounded up a step)
        // south of it.
        if self.edges.get(row).is_some_and(|&north| lat > north) {
            row.checked_sub(1)
        } else if self.edges.get(row + 1).is_some_and(|&south| lat <= south) {
            Some(row + 1)
        } else {
            Some(row)
        }
    }
}

/// One thread's share of the points, sorted by the margin row of their cell.
struct Bucketed {
    /// Per point: its cell's margin column · 16 + its sub-cell (sub-row · 4 + sub-column).
    keys: Vec<u32>,
    /// The points' weights, empty when every weight is 1.
    weights: Vec<f32>,
    /// Where each margin row's points start, and the end.
    starts: Vec<usize>,
}

impl Bucketed {
    fn count(&self, m: usize) -> usize {
        match (self.starts.get(m), self.starts.get(m + 1)) {
            (Some(a), Some(b)) => b - a,
            _ => 0,
        }
    }
}

/// Sorts points `range` by cell row (a counting sort: count, then place).
fn bucket<B: Bins>(
    bins: &B,
    range: std::ops::Range<usize>,
    weights: Option<&[f64]>,
    layout: &FastLayout,
) -> Bucketed {
    let sub = FAST_SUBDIVISION;
    let mut starts = vec![0_usize; layout.margin_height + 1];
    let mut found: Vec<u64> = Vec::with_capacity(range.len());
    let mut found_weights: Vec<f32> = Vec::new();
    for i in range {
        let Some((col, row)) = bins.bin_of(i) else {
            continue;
        };
        let key = (col / sub * SUB_CELLS + (row % sub) * sub + col % sub) as u64;
        found.push((((row / sub) as u64) << 32) | key);
        if let Some(ws) = weights {
            found_weights.push(ws.get(i).copied().unwrap_or(1.0) as f32);
        }
        if let Some(n) = starts.get_mut(row / sub + 1) {
            *n += 1;
        }
    }
    let mut total = 0;
    for s in &mut starts {
        total += *s;
        *s = total;
    }
    let mut next = starts.clone();
    let mut keys = vec![0_u32; total];
    let mut kept_weights = vec![0.0_f32; found_weights.len()];
    for (j, &f) in found.iter().enumerate() {
        let Some(slot) = next.get_mut((f >> 32) as usize) else {
            continue;
        };
        let at = *slot;
        *slot += 1;
        if let Some(key) = keys.get_mut(at) {
            *key = f as u32;
        }
        if let (Some(w), Some(&fw)) = (kept_weights.get_mut(at), found_weights.get(j)) {
            *w = fw;
        }
    }
    Bucketed {
        keys,
        weights: kept_weights,
        starts,
    }
}

/// An output cell (or one in the margins) with points: its sub-cell sums.
#[derive(Clone, Copy, Debug)]
struct Cell {
    /// Margin column.
    col: u32,
    /// Bit `k` set when sub-cell `k` is not empty.
    nonzero: u32,
    sums: [f32; SUB_CELLS],
}

/// The non-empty cells of a run of margin rows, row by row, west to east.
struct CellRows {
    first_row: usize,
    starts: Vec<usize>,
    cells: Vec<Cell>,
}

impl CellRows {
    fn row(&self, m: usize) -> &[Cell] {
        let k = m.wrapping_sub(self.first_row);
        match (self.starts.get(k), self.starts.get(k + 1)) {
            (Some(&a), Some(&b)) => self.cells.get(a..b).unwrap_or(&[]),
            _ => &[],
        }
    }
}

/// The sub-cell sums of one margin row being gathered.
struct RowSums {
    sums: Vec<f32>,
    touched: Vec<bool>,
    cols: Vec<usize>,
}

impl RowSums {
    #[inline]
    fn add(&mut self, key: u32, w: f32) {
        let key = key as usize;
        if let Some(s) = self.sums.get_mut(key) {
            *s += w;
        }
        let col = key / SUB_CELLS;
        if let Some(t) = self.touched.get_mut(col)
            && !*t
        {
            *t = true;
            self.cols.push(col);
        }
    }

    /// Moves the row's non-empty cells, west to east, to `cells`, and clears the row.
    fn drain_into(&mut self, cells: &mut Vec<Cell>) {
        self.cols.sort_unstable();
        for &col in &self.cols {
            if let Some(t) = self.touched.get_mut(col) {
                *t = false;
            }
            let Some(row_sums) = self.sums.get_mut(col * SUB_CELLS..(col + 1) * SUB_CELLS) else {
                continue;
            };
            let mut cell = Cell {
                col: col as u32,
                nonzero: 0,
                sums: [0.0; SUB_CELLS],
            };
            cell.sums.copy_from_slice(row_sums);
            row_sums.fill(0.0);
            for (k, &s) in cell.sums.iter().enumerate() {
                if s != 0.0 {
                    cell.nonzero |= 1 << k;
                }
            }
            if cell.nonzero != 0 {
                cells.push(cell);
            }
        }
        self.cols.clear();
    }
}

/// Sums the points of margin rows `rows` (from every part) into their cells' sub-cells.
fn gather(parts: &[Bucketed], rows: std::ops::Range<usize>, layout: &FastLayout) -> CellRows {
    let mut row = RowSums {
        sums: vec![0.0; layout.margin_width * SUB_CELLS],
        touched: vec![false; layout.margin_width],
        cols: Vec::new(),
    };
    let mut starts = vec![0];
    let mut cells = Vec::new();
    for m in rows.clone() {
        for part in parts {
            let (Some(&a), Some(&b)) = (part.starts.get(m), part.starts.get(m + 1)) else {
                continue;
            };
            let keys = part.keys.get(a..b).unwrap_or(&[]);
            match part.weights.get(a..b) {
                Some(ws) if !part.weights.is_empty() => {
                    for (&key, &w) in keys.iter().zip(ws) {
                        row.add(key, w);
                    }
                }
                _ => {
                    for &key in keys {
                        row.add(key, 1.0);
                    }
                }
            }
        }
        row.drain_into(&mut cells);
        starts.push(cells.len());
    }
    CellRows {
        first_row: rows.start,
        starts,
        cells,
    }
}

/// The stencils of one band of rows: for each sub-cell position `k`, the kernel (per km² of
/// ground) at the centres of the `side × side` cells around its cell, in rows of `stride`
/// values padded with zeros; and per stencil row, the first column where any of them is non-zero
/// and how many `LANES` wide chunks from there cover every non-zero value.
struct BandStencils {
    values: Vec<f32>,
    stride: usize,
    extents: Vec<(usize, usize)>,
}

impl BandStencils {
    fn new(kernel: &PreparedKernel, layout: &FastLayout, grid: &Grid, band: usize) -> Self {
        let (sub, side, reach) = (FAST_SUBDIVISION, layout.side, layout.reach);
        // Ground scale at the band's middle row.
        let row_mid = (band * STENCIL_BAND_ROWS) as f64 - (reach + STENCIL_BAND_ROWS) as f64
            + STENCIL_BAND_ROWS as f64 / 2.0;
        let cos_lat = lon_lat_from_mercator_m(0.0, grid.y_max_m - row_mid * grid.cell_m)
            .1
            .to_radians()
            .cos();
        // Squared ground offsets from sub-cell `p`'s centre to the centre of stencil cell `q`,
        // along one axis ([p][q]).
        let offsets2: Vec<f64> = (0..sub)
            .flat_map(|p| {
                (0..side).map(move |q| {
                    let bins = (sub * q) as f64 - (sub * reach) as f64 + sub as f64 / 2.0
                        - (p as f64 + 0.5);
                    let d = bins * layout.bin_m * cos_lat;
                    d * d
                })
            })
            .collect();
        let stride = side + LANES - 1;
        let mut values = vec![0.0_f32; SUB_CELLS * side * stride];
        let mut extents = vec![(side, 0_usize); side];
        for (k, block) in values.chunks_exact_mut(side * stride).enumerate() {
            let (b, a) = (k / sub, k % sub);
            for (di, line) in block.chunks_exact_mut(stride).enumerate() {
                let dy2 = offsets2
                    .get(b * side + di)
                    .copied()
                    .unwrap_or(f64::INFINITY);
                let dx2 = offsets2.get(a * side..(a + 1) * side).unwrap_or(&[]);
                for (v, &dx2) in line.iter_mut().zip(dx2) {
                    *v = (kernel.at_d2(dx2 + dy2) * 1e6) as f32;
                }
                if let (Some(first), Some(last)) = (
                    line.iter().position(|&v| v != 0.0),
                    line.iter().rposition(|&v| v != 0.0),
                ) && let Some(e) = extents.get_mut(di)
                {
                    // Stored as (first, last) for now.
                    *e = (e.0.min(first), e.1.max(last + 1));
                }
            }
        }
        for e in &mut extents {
            *e = if e.1 > e.0 {
                (e.0, (e.1 - e.0).div_ceil(LANES))
            } else {
                (0, 0)
            };
        }
        Self {
            values,
            stride,
            extents,
        }
    }
}

/// Adds the stencils of the cells in `cells_of` (margin row → its cells) to `out`, the output
/// rows from `first_row` on.
fn add_stencils<'c>(
    out: &mut [f32],
    first_row: usize,
    cells_of: impl Fn(usize) -> &'c [Cell],
    layout: &FastLayout,
    grid: &Grid,
    kernel: &PreparedKernel,
) {
    let (w, reach, side) = (layout.width, layout.reach, layout.side);
    if w == 0 {
        return;
    }
    let end_row = first_row + out.len() / w;
    let mut bands: Vec<Option<BandStencils>> = (0..layout.bands()).map(|_| None).collect();
    // A cell in margin row `m` reaches output rows m − 2·reach ..= m.
    for m in first_row..(end_row + 2 * reach).min(layout.margin_height) {
        let cells = cells_of(m);
        if cells.is_empty() {
            continue;
        }
        let Some(slot) = bands.get_mut(layout.band_of(m)) else {
            continue;
        };
        let st =
            slot.get_or_insert_with(|| BandStencils::new(kernel, layout, grid, layout.band_of(m)));
        // Stencil row `di` falls on output row m + di − 2·reach.
        let di_start = (first_row + 2 * reach).saturating_sub(m);
        let di_end = (end_row + 2 * reach - m).min(side);
        let stride = st.stride;
        for cell in cells {
            // Stencil column `dj` falls on output column col + dj − 2·reach.
            let Some(left) = (cell.col as usize)
                .checked_sub(2 * reach)
                .filter(|&l| l + stride <= w)
            else {
                add_clipped(out, first_row, m, cell, st, layout);
                continue;
            };
            for di in di_start..di_end {
                let Some(&(lo, chunks)) = st.extents.get(di) else {
                    continue;
                };
                let at = (m + di - 2 * reach - first_row) * w + left + lo;
                let Some(line) = out.get_mut(at..at + chunks * LANES) else {
                    continue;
                };
                for (c, o) in line.chunks_exact_mut(LANES).enumerate() {
                    let mut acc = [0.0_f32; LANES];
                    acc.copy_from_slice(o);
                    let mut nonzero = cell.nonzero;
                    while nonzero != 0 {
                        let k = nonzero.trailing_zeros() as usize;
                        nonzero &= nonzero - 1;
                        let from = (k * side + di) * stride + lo + c * LANES;
                        let (Some(s), Some(&n)) = (
                            st.values
                                .get(from..from + LANES)
                                .and_then(|s| <&[f32; LANES]>::try_from(s).ok()),
                            cell.sums.get(k),
                        ) else {
                            continue;
                        };
                        for l in 0..LANES {
                            acc[l] += n * s[l];
                        }
                    }
                    o.copy_from_slice(&acc);
                }
            }
        }
    }
}

/// [`add_stencils`] for a cell whose stencil crosses the west or east edge of the grid: the
/// stencil columns falling on the grid only.
fn add_clipped(
    out: &mut [f32],
    first_row: usize,
    m: usize,
    cell: &Cell,
    st: &BandStencils,
    layout: &FastLayout,
) {
    let (w, reach, side) = (layout.width, layout.reach, layout.side);
    let end_row = first_row + out.len() / w.max(1);
    // Stencil column `dj` falls on output column col + dj − 2·reach.
    let col = cell.col as usize;
    let dj_start = (2 * reach).saturating_sub(col);
    let dj_end = (w + 2 * reach).saturating_sub(col).min(side);
    for di in 0..side {
        let Some(row) = (m + di)
            .checked_sub(2 * reach)
            .filter(|r| (first_row..end_row).contains(r))
        else {
            continue;
        };
        let Some(&(lo, chunks)) = st.extents.get(di) else {
            continue;
        };
        let (from, to) = (dj_start.max(lo), dj_end.min(lo + chunks * LANES));
        if from >= to {
            continue;
        }
        let at = (row - first_row) * w + col + from - 2 * reach;
        let Some(line) = out.get_mut(at..at + (to - from)) else {
            continue;
        };
        let mut nonzero = cell.nonzero;
        while nonzero != 0 {
            let k = nonzero.trailing_zeros() as usize;
            nonzero &= nonzero - 1;
            let start = (k * side + di) * st.stride + from;
            let (Some(values), Some(&n)) =
                (st.values.get(start..start + (to - from)), cell.sums.get(k))
            else {
                continue;
            };
            for (o, &v) in line.iter_mut().zip(values) {
                *o += n * v;
            }
        }
    }
}

/// The first index splitting `loads` into two parts of about equal sum.
fn balanced_split(loads: impl Iterator<Item = u64> + Clone) -> usize {
    let total: u64 = loads.clone().sum();
    let mut sum = 0;
    let mut split = 0;
    for load in loads {
        if 2 * sum >= total {
            break;
        }
        sum += load;
        split += 1;
    }
    split
}

/// Fast mode with precomputed kernels: appeals are summed into 4 × 4 sub-cells of each output
/// cell, and every non-empty sub-cell adds a stencil — the kernel at the fixed offsets from that
/// sub-cell's centre to the surrounding cell centres, computed once per sub-position and band of
/// rows. On two threads: each sorts half the points by cell row; each sums the sub-cells of half
/// the rows; each adds the stencils falling on half the output rows (no grid to merge).
fn fast_with_stencils<B: Bins>(
    bins: &B,
    weights: Option<&[f64]>,
    grid: &Grid,
    kernel: Kernel,
    radius_ground_m: f64,
    layout: &FastLayout,
) -> Surface {
    let n = bins.len();
    let (a, b) = both(
        || bucket(bins, 0..n / 2, weights, layout),
        || bucket(bins, n / 2..n, weights, layout),
    );
    let parts = [a, b];
    let rows = layout.margin_height;
    let split = balanced_split((0..rows).map(|m| parts.iter().map(|p| p.count(m) as u64).sum()));
    let (north, south) = both(
        || gather(&parts, 0..split, layout),
        || gather(&parts, split..rows, layout),
    );
    drop(parts);
    let cells_of = |m: usize| {
        if m < split {
            north.row(m)
        } else {
            south.row(m)
        }
    };
    // Work per output row: the sub-cells of every margin row reaching it (m − 2·reach ..= m).
    let cost: Vec<u64> = (0..rows)
        .map(|m| {
            cells_of(m)
                .iter()
                .map(|c| u64::from(c.nonzero.count_ones()) + 1)
                .sum()
        })
        .collect();
    let (w, h, reach) = (layout.width, layout.height, layout.reach);
    let mut window: u64 = cost.iter().take(2 * reach).sum();
    let loads: Vec<u64> = (0..h)
        .map(|r| {
            window += cost.get(r + 2 * reach).copied().unwrap_or(0);
            let load = window;
            window -= cost.get(r).copied().unwrap_or(0);
            load
        })
        .collect();
    let split_out = balanced_split(loads.iter().copied());
    let prepared = PreparedKernel::new(kernel, radius_ground_m);
    let mut values = vec![0.0_f32; w * h];
    let (top, bottom) = values.split_at_mut(split_out * w);
    both(
        || add_stencils(top, 0, cells_of, layout, grid, &prepared),
        || add_stencils(bottom, split_out, cells_of, layout, grid, &prepared),
    );
    Surface {
        grid: *grid,
        values,
    }
}

/// `floor(v)` of a finite `v` as an integer (no call to libm's `floor`, which a baseline x86-64
/// build makes).
#[inline]
fn floor_i64(v: f64) -> i64 {
    let t = v as i64;
    t - i64::from(t as f64 > v)
}

/// `ceil(v)` of a finite `v` as an integer.
#[inline]
fn ceil_i64(v: f64) -> i64 {
    let t = v as i64;
    t + i64::from((t as f64) < v)
}

/// Exact mode: every point's kernel at every cell centre within its radius, summed in f64, on two
/// threads. The points are first sorted by row (each thread half of them), then each thread adds
/// the kernels falling on half the output rows (balanced by where the points are), row by row so
/// that the rows it adds to stay in the cache.
fn exact(
    points: &[(f64, f64, f64)],
    weights: Option<&[f64]>,
    grid: &Grid,
    kernel: Kernel,
    radius_ground_m: f64,
) -> Surface {
    let (w, h) = (grid.width, grid.height);
    let half = points.len() / 2;
    let (north, south) = points.split_at(half);
    let parts = both(
        || RowSorted::new(north, 0, weights, grid),
        || RowSorted::new(south, half, weights, grid),
    );
    let parts = [parts.0, parts.1];
    // Rows a kernel reaches at most (a cell of slack; all rows when that is not known).
    let reach = FastLayout::new(grid, radius_ground_m).map_or(h, |l| l.reach + 1);
    let counts: Vec<u64> = (0..h)
        .map(|r| parts.iter().map(|p| p.row(r).len() as u64).sum())
        .collect();
    let mut window: u64 = counts.iter().take(reach).sum();
    let loads: Vec<u64> = (0..h)
        .map(|r| {
            window += counts.get(r + reach).copied().unwrap_or(0);
            let load = window;
            window -= r
                .checked_sub(reach)
                .and_then(|k| counts.get(k))
                .copied()
                .unwrap_or(0);
            load
        })
        .collect();
    let split = balanced_split(loads.into_iter());
    let prepared = PreparedKernel::new(kernel, radius_ground_m);
    let mut values = vec![0.0_f32; w * h];
    let (top, bottom) = values.split_at_mut(split * w);
    let rows = |out: &mut [f32], first_row: usize| {
        exact_rows(out, first_row, &parts, reach, grid, &prepared);
    };
    both(|| rows(top, 0), || rows(bottom, split));
    Surface {
        grid: *grid,
        values,
    }
}

/// Points (Mercator x, y, ground scale, weight) sorted by the grid row they fall in (clamped
/// to the grid: a point beyond it may still reach it).
struct RowSorted {
    points: Vec<(f64, f64, f64, f64)>,
    starts: Vec<usize>,
}

impl RowSorted {
    /// `points` are the points from `first` on of those `weights` are given for.
    fn new(points: &[(f64, f64, f64)], first: usize, weights: Option<&[f64]>, grid: &Grid) -> Self {
        let h = grid.height;
        let row_of = |y: f64| {
            ((grid.y_max_m - y) / grid.cell_m).clamp(0.0, h.saturating_sub(1) as f64) as usize
        };
        let mut starts = vec![0_usize; h + 1];
        for &(_, y, _) in points {
            if let Some(n) = starts.get_mut(row_of(y) + 1) {
                *n += 1;
            }
        }
        let mut total = 0;
        for s in &mut starts {
            total += *s;
            *s = total;
        }
        let mut next = starts.clone();
        let mut sorted = vec![(0.0, 0.0, 0.0, 0.0); total];
        for (i, &(x, y, cos_lat)) in points.iter().enumerate() {
            let weight = weights
                .and_then(|ws| ws.get(first + i))
                .copied()
                .unwrap_or(1.0);
            if let Some(slot) = next.get_mut(row_of(y))
                && let Some(p) = sorted.get_mut(*slot)
            {
                *p = (x, y, cos_lat, weight);
                *slot += 1;
            }
        }
        Self {
            points: sorted,
            starts,
        }
    }

    fn row(&self, r: usize) -> &[(f64, f64, f64, f64)] {
        match (self.starts.get(r), self.starts.get(r + 1)) {
            (Some(&a), Some(&b)) => self.points.get(a..b).unwrap_or(&[]),
            _ => &[],
        }
    }
}

/// [`exact`] for the output rows from `first_row` on (`out`): the points of the rows within
/// `reach` of them, from every part.
fn exact_rows(
    out: &mut [f32],
    first_row: usize,
    parts: &[RowSorted],
    reach: usize,
    grid: &Grid,
    k: &PreparedKernel,
) {
    let mut acc = vec![0.0_f64; out.len()];
    let rows = first_row..first_row + out.len() / grid.width.max(1);
    let from = rows.start.saturating_sub(reach);
    let to = (rows.end + reach).min(grid.height);
    let mut scratch = (Vec::new(), Vec::new());
    // One loop per kernel, so that the kernel's formula is inlined into it.
    macro_rules! add_all {
        ($column:expr, $row:expr, $combine:expr) => {
            let split = Separated {
                column: $column,
                row: $row,
                combine: $combine,
            };
            for r in from..to {
                for part in parts {
                    for &(x, y, cos_lat, w) in part.row(r) {
                        splat(
                            &mut acc,
                            &rows,
                            grid,
                            k,
                            (x, y, cos_lat),
                            w,
                            &mut scratch,
                            &split,
                        );
                    }
                }
            }
        };
    }
    // The polynomial kernels in t = 1 − d²/r² = (1 − dy²/r²) − dx²/r².
    let across = |dx2: f64| dx2 * k.inv_r2;
    let down = |dy2: f64| 1.0 - dy2 * k.inv_r2;
    match k.kernel {
        Kernel::Quartic => {
            add_all!(across, down, |a: f64, u: f64| (a - u) * (a - u));
        }
        Kernel::Triweight => {
            add_all!(across, down, |a: f64, u: f64| (a - u) * (a - u) * (a - u));
        }
        Kernel::Epanechnikov => {
            add_all!(across, down, |a: f64, u: f64| a - u);
        }
        Kernel::Uniform => {
            add_all!(|_: f64| 0.0, |_: f64| 0.0, |_: f64, _: f64| 1.0);
        }
        Kernel::Triangular => {
            add_all!(|dx2: f64| dx2, |dy2: f64| dy2, |dy2: f64, dx2: f64| 1.0
                - (dx2 + dy2).sqrt() * k.inv_r);
        }
        // exp(−d²/2σ²) = exp(−dx²/2σ²) · exp(−dy²/2σ²).
        Kernel::Gaussian => {
            let factor = |d2: f64| (-d2 * k.inv_two_sigma2).exp();
            add_all!(factor, factor, |a: f64, b: f64| a * b);
        }
    }
    // Per m² of ground → per km².
    for (o, &a) in out.iter_mut().zip(&acc) {
        *o = (a * 1e6) as f32;
    }
}

/// A kernel (without its constant factor) inside its radius as `combine(row(dy²), column(dx²))`
/// of the squared ground offsets: the column and row parts are computed once per column and
/// row of the cells around a point, leaving little per cell.
struct Separated<C, R, V> {
    column: C,
    row: R,
    combine: V,
}

/// Adds `weight` × kernel of a point at Mercator (x, y) (ground scale `cos_lat`) to `acc`, the
/// output rows `rows` (per m² of ground). `scratch` holds the squared east offsets and column
/// parts of the kernel.
#[allow(clippy::too_many_arguments)]
#[inline]
fn splat<C: Fn(f64) -> f64, R: Fn(f64) -> f64, V: Fn(f64, f64) -> f64>(
    acc: &mut [f64],
    rows: &std::ops::Range<usize>,
    grid: &Grid,
    kernel: &PreparedKernel,
    (x, y, cos_lat): (f64, f64, f64),
    weight: f64,
    (dx2, columns): &mut (Vec<f64>, Vec<f64>),
    split: &Separated<C, R, V>,
) {
    if rows.is_empty() || !(x.is_finite() && y.is_finite()) {
        return;
    }
    let radius_merc = kernel.r / cos_lat.max(1e-9);
    let col0 = ceil_i64((x - radius_merc - grid.x_min_m) / grid.cell_m - 0.5).max(0) as usize;
    let col1 = floor_i64((x + radius_merc - grid.x_min_m) / grid.cell_m - 0.5);
    let row0 = ceil_i64((grid.y_max_m - (y + radius_merc)) / grid.cell_m - 0.5)
        .max(rows.start as i64) as usize;
    let row1 = floor_i64((grid.y_max_m - (y - radius_merc)) / grid.cell_m - 0.5);
    if col1 < 0 || row1 < 0 {
        return;
    }
    let col1 = (col1 as usize).min(grid.width.saturating_sub(1));
    let row1 = (row1 as usize).min(rows.end - 1);
    if col0 > col1 || row0 > row1 {
        return;
    }
    // Ground distances: squared east offsets once per column.
    dx2.clear();
    dx2.extend((col0..=col1).map(|col| {
        let dx = (grid.x_min_m + (col as f64 + 0.5) * grid.cell_m - x) * cos_lat;
        dx * dx
    }));
    columns.clear();
    columns.extend(dx2.iter().map(|&d| (split.column)(d)));
    let (r2, scaled) = (kernel.r2, weight * kernel.scale);
    for row in row0..=row1 {
        let dy = (grid.y_max_m - (row as f64 + 0.5) * grid.cell_m - y) * cos_lat;
        let dy2 = dy * dy;
        // Only the cells within the radius (the kernel is 0 beyond it). The squared offsets
        // grow monotonically away from the point's column, so those cells are one run.
        let Some(first) = dx2.iter().position(|&d2x| d2x + dy2 <= r2) else {
            continue;
        };
        let last = dx2
            .iter()
            .rposition(|&d2x| d2x + dy2 <= r2)
            .unwrap_or(first);
        let start = (row - rows.start) * grid.width + col0;
        let (Some(line), Some(parts)) = (
            acc.get_mut(start + first..=start + last),
            columns.get(first..=last),
        ) else {
            continue;
        };
        let row_part = (split.row)(dy2);
        for (a, &column_part) in line.iter_mut().zip(parts) {
            *a += scaled * (split.combine)(row_part, column_part);
        }
    }
}

/// The density of `points_lon_lat` (with optional per-point `weights`) on `grid`, appeals per
/// km², on two threads.
pub fn density(
    points_lon_lat: &[(f64, f64)],
    weights: Option<&[f64]>,
    grid: &Grid,
    kernel: Kernel,
    radius_ground_m: f64,
    mode: Mode,
) -> Surface {
    if mode == Mode::Fast
        && let Some(layout) = FastLayout::new(grid, radius_ground_m)
    {
        let bins = LonLatBins {
            points: points_lon_lat,
            layout,
            inv_bin_m: 1.0 / layout.bin_m,
            rows: LatRows::new(&layout),
        };
        return fast_with_stencils(&bins, weights, grid, kernel, radius_ground_m, &layout);
    }
    density_mercator(
        &prepare(points_lon_lat),
        kept_weights(points_lon_lat, weights).as_deref().or(weights),
        grid,
        kernel,
        radius_ground_m,
        mode,
    )
}

/// Where [`Mode::Fast`] bins a point on a grid, for computing the bins elsewhere (the pushdown
/// strategy does it in SQL): bin column `floor((EARTH_RADIUS_M · (lon · π/180) − x_west_m) ·
/// inv_bin_m)`, or equally by [`FastBinning::lon_column_edges`]; bin row by
/// [`FastBinning::lat_row_edges`] when there are any, else `floor((y_north_m − y) ·
/// inv_bin_m)` for Mercator `y`; kept when `0 ≤ col < bins_across` and `0 ≤ row < bins_down`.
#[derive(Clone, Debug, PartialEq)]
pub struct FastBinning {
    pub x_west_m: f64,
    pub y_north_m: f64,
    pub inv_bin_m: f64,
    pub bins_across: usize,
    pub bins_down: usize,
    /// `lon_column_edges[k]`: the least longitude whose column is at least `k`, for `k` in
    /// `0..=bins_across` (`±∞` where no longitude in ±180° or every one is): the column of a
    /// longitude within ±180° is one less than the number of edges at or below it, exactly.
    pub lon_column_edges: Vec<f64>,
    /// The latitudes of the rows' north edges and of the last row's south edge, descending:
    /// row `k` holds `(edges[k + 1], edges[k]]`, exactly as the fast mode bins a latitude.
    /// `None` where the fast mode projects each point instead (near the poles, or rows too
    /// thin for its table).
    pub lat_row_edges: Option<Vec<f64>>,
}

impl FastBinning {
    /// The binning [`density`] uses in [`Mode::Fast`] for `grid` and the radius; `None` when
    /// the fast mode would not use stencils there (then binned counts cannot be used).
    pub fn new(grid: &Grid, radius_ground_m: f64) -> Option<Self> {
        let layout = FastLayout::new(grid, radius_ground_m)?;
        let inv_bin_m = 1.0 / layout.bin_m;
        Some(Self {
            x_west_m: layout.x_west_m,
            y_north_m: layout.y_north_m,
            inv_bin_m,
            bins_across: layout.bins_across(),
            bins_down: layout.bins_down(),
            lon_column_edges: (0..=layout.bins_across())
                .map(|k| least_lon_of_column(k as f64, layout.x_west_m, inv_bin_m))
                .collect(),
            lat_row_edges: lat_row_edges(&layout).map(|(edges, _, _)| edges),
        })
    }
}

impl From<FastBinning> for crate::data::pushdown::BinParams {
    fn from(b: FastBinning) -> Self {
        Self {
            x_west_m: b.x_west_m,
            y_north_m: b.y_north_m,
            inv_bin_m: b.inv_bin_m,
            bins_across: b.bins_across,
            bins_down: b.bins_down,
            lon_column_edges: b.lon_column_edges,
            lat_row_edges: b.lat_row_edges,
        }
    }
}

/// The least longitude in ±180° whose [`column_of_lon`] is at least `column`, by bisection
/// over the doubles in order (the column never decreases with the longitude: each operation
/// rounds monotonically and the factors are positive); `-∞` when every longitude is, `+∞` when
/// none is.
fn least_lon_of_column(column: f64, x_west_m: f64, inv_bin_m: f64) -> f64 {
    let reaches = |lon: f64| column_of_lon(lon, x_west_m, inv_bin_m) >= column;
    if reaches(-180.0) {
        return f64::NEG_INFINITY;
    }
    if !reaches(180.0) {
        return f64::INFINITY;
    }
    // Doubles in numeric order as integers (for finite values).
    let key = |x: f64| {
        let bits = x.to_bits() as i64;
        if bits < 0 { i64::MIN - bits } else { bits }
    };
    let value = |k: i64| f64::from_bits((if k < 0 { i64::MIN - k } else { k }) as u64);
    // `lo` does not reach, `hi` does.
    let (mut lo, mut hi) = (key(-180.0), key(180.0));
    while i128::from(hi) - i128::from(lo) > 1 {
        let mid = ((i128::from(lo) + i128::from(hi)) / 2) as i64;
        if reaches(value(mid)) {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    value(hi)
}

/// [`density`] in [`Mode::Fast`] from points already binned (`(col, row, count)`, as
/// [`FastBinning`] places them) plus points to bin here: the same surface as [`density`] of all
/// those points with weight 1 (the sub-cell sums are whole numbers, exact in `f32` below 2²⁴
/// appeals per sub-cell, whatever the order). `None` when [`FastBinning::new`] is `None`.
pub fn density_fast_binned(
    binned: &[(u32, u32, u64)],
    points_lon_lat: &[(f64, f64)],
    grid: &Grid,
    kernel: Kernel,
    radius_ground_m: f64,
) -> Option<Surface> {
    let layout = FastLayout::new(grid, radius_ground_m)?;
    let point_bins = LonLatBins {
        points: points_lon_lat,
        layout,
        inv_bin_m: 1.0 / layout.bin_m,
        rows: LatRows::new(&layout),
    };
    let mut bins: Vec<(usize, usize)> = Vec::with_capacity(binned.len() + points_lon_lat.len());
    let mut weights: Vec<f64> = Vec::with_capacity(bins.capacity());
    for &(col, row, count) in binned {
        bins.push((col as usize, row as usize));
        weights.push(count as f64);
    }
    for i in 0..points_lon_lat.len() {
        if let Some(bin) = point_bins.bin_of(i) {
            bins.push(bin);
            weights.push(1.0);
        }
    }
    let listed = ListedBins {
        bins: &bins,
        across: layout.bins_across(),
        down: layout.bins_down(),
    };
    Some(fast_with_stencils(
        &listed,
        Some(&weights),
        grid,
        kernel,
        radius_ground_m,
        &layout,
    ))
}

/// Bins given as a list.
struct ListedBins<'a> {
    bins: &'a [(usize, usize)],
    across: usize,
    down: usize,
}

impl Bins for ListedBins<'_> {
    fn len(&self) -> usize {
        self.bins.len()
    }

    fn bin_of(&self, i: usize) -> Option<(usize, usize)> {
        self.bins
            .get(i)
            .copied()
            .filter(|&(c, r)| c < self.across && r < self.down)
    }
}

/// Points given as Web-Mercator unit coordinates (0..1, y down, as the map layers keep them)
/// in the form [`density_mercator`] takes: Mercator metres and the ground scale cos(lat).
pub fn mercator_points_from_unit(points_unit: &[[f64; 2]]) -> Vec<(f64, f64, f64)> {
    use crate::spatial::projection::{ground_scale_at_mercator_y_m, mercator_m_from_unit};
    convert_kept(
        points_unit,
        |p| p[0].is_finite() && p[1].is_finite(),
        |&p| {
            let (x, y) = mercator_m_from_unit(p);
            (x, y, ground_scale_at_mercator_y_m(y))
        },
    )
}

/// [`density`] of points already in Mercator metres with their ground scale.
pub fn density_mercator(
    points: &[(f64, f64, f64)],
    weights: Option<&[f64]>,
    grid: &Grid,
    kernel: Kernel,
    radius_ground_m: f64,
    mode: Mode,
) -> Surface {
    if mode == Mode::Fast
        && let Some(layout) = FastLayout::new(grid, radius_ground_m)
    {
        let bins = MercatorBins {
            points,
            layout,
            inv_bin_m: 1.0 / layout.bin_m,
        };
        return fast_with_stencils(&bins, weights, grid, kernel, radius_ground_m, &layout);
    }
    match mode {
        Mode::Exact => exact(points, weights, grid, kernel, radius_ground_m),
        Mode::Fast => {
            // A kernel too wide for stencils: each non-empty bin as one point at its centre.
            let sub = FAST_SUBDIVISION;
            let fine = Grid {
                cell_m: grid.cell_m / sub as f64,
                width: grid.width * sub,
                height: grid.height * sub,
                ..*grid
            };
            let weight_of = |i: usize| weights.and_then(|w| w.get(i)).copied().unwrap_or(1.0);
            // Bins outside the grid keep their place (their kernel may still reach it).
            let margin = (radius_ground_m / fine.cell_m).ceil() as i64 * 4 + 4;
            let mut bins: std::collections::HashMap<(i64, i64), (f64, f64)> =
                std::collections::HashMap::new();
            for (i, &(x, y, cos_lat)) in points.iter().enumerate() {
                let col = ((x - fine.x_min_m) / fine.cell_m).floor() as i64;
                let row = ((fine.y_max_m - y) / fine.cell_m).floor() as i64;
                if col < -margin
                    || row < -margin
                    || col > fine.width as i64 + margin
                    || row > fine.height as i64 + margin
                {
                    continue;
                }
                let e = bins.entry((col, row)).or_insert((0.0, cos_lat));
                e.0 += weight_of(i);
            }
            let (centres, sums): (Vec<(f64, f64, f64)>, Vec<f64>) = bins
                .into_iter()
                .map(|((col, row), (w, cos_lat))| {
                    let x = fine.x_min_m + (col as f64 + 0.5) * fine.cell_m;
                    let y = fine.y_max_m - (row as f64 + 0.5) * fine.cell_m;
                    ((x, y, cos_lat), w)
                })
                .unzip();
            exact(&centres, Some(&sums), grid, kernel, radius_ground_m)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the pushdown strategy does in SQL, done here with the same formula: points counted
    /// per fast-mode bin (those within 1e-6 of an edge passed as points) give the very surface
    /// of the points themselves.
    #[test]
    fn binned_counts_give_the_fast_surface_bit_for_bit() {
        use crate::spatial::projection::{EARTH_RADIUS_M, MAX_LAT};
        let mut state = 12_345_u64;
        let mut next = || {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (state >> 11) as f64 / (1_u64 << 53) as f64
        };
        // Clustered points, many sharing a position, some outside the grid.
        let mut points = Vec::new();
        for _ in 0..20_000 {
            let (cx, cy) = if next() < 0.5 {
                (65.5, 57.15)
            } else {
                (68.25, 58.2)
            };
            let lon = cx + (next() - 0.5) * 0.8;
            let lat = cy + (next() - 0.5) * 0.5;
            let copies = 1 + (next() * 3.0) as usize;
            points.extend(std::iter::repeat_n((lon, lat), copies));
        }
        let grid = Grid::over_lon_lat(65.2, 56.9, 68.0, 58.3, 300, 200);
        for (kernel, radius) in [(Kernel::Quartic, 2_000.0), (Kernel::Gaussian, 5_000.0)] {
            let binning = FastBinning::new(&grid, radius).unwrap();
            // Points on bin edges, which go the local way.
            let mut points = points.clone();
            for k in [100, 333, 517, 800] {
                let x = binning.x_west_m + f64::from(k) / binning.inv_bin_m;
                points.push(((x / EARTH_RADIUS_M).to_degrees(), 57.3));
            }
            let mut counts: std::collections::BTreeMap<(u32, u32), u64> = Default::default();
            let mut near = Vec::new();
            for &(lon, lat) in &points {
                let vc = (EARTH_RADIUS_M * (lon * (std::f64::consts::PI / 180.0))
                    - binning.x_west_m)
                    * binning.inv_bin_m;
                let lat_c = lat.clamp(-MAX_LAT, MAX_LAT);
                let y = EARTH_RADIUS_M
                    * (std::f64::consts::PI / 4.0 + (lat_c * (std::f64::consts::PI / 180.0)) / 2.0)
                        .tan()
                        .ln();
                let vr = (binning.y_north_m - y) * binning.inv_bin_m;
                let edge = |v: f64| v - v.floor() < 1e-6 || v - v.floor() > 1.0 - 1e-6;
                if edge(vc) || edge(vr) {
                    near.push((lon, lat));
                } else if vc >= 0.0
                    && vc < binning.bins_across as f64
                    && vr >= 0.0
                    && vr < binning.bins_down as f64
                {
                    *counts
                        .entry((vc.floor() as u32, vr.floor() as u32))
                        .or_default() += 1;
                }
            }
            let binned: Vec<(u32, u32, u64)> =
                counts.into_iter().map(|((c, r), n)| (c, r, n)).collect();
            let from_bins = density_fast_binned(&binned, &near, &grid, kernel, radius).unwrap();
            let direct = density(&points, None, &grid, kernel, radius, Mode::Fast);
            assert!(direct.values.iter().any(|&v| v > 0.0));
            assert!(near.len() >= 4, "the edge points are binned locally");
            let same = from_bins
                .values
                .iter()
                .zip(&direct.values)
                .all(|(a, b)| a.to_bits() == b.to_bits());
            assert!(same, "{kernel:?}: the binned surface differs");
        }
    }

    #[test]
    fn every_kernel_integrates_to_one() {
        for kernel in Kernel::ALL {
            let r = 1_000.0;
            let n = 2_000;
            let step = 2.0 * r / n as f64;
            let mut sum = 0.0;
            for i in 0..n {
                for j in 0..n {
                    let x = -r + (i as f64 + 0.5) * step;
                    let y = -r + (j as f64 + 0.5) * step;
                    sum += kernel.value((x * x + y * y).sqrt(), r) * step * step;
                }
            }
            assert!((sum - 1.0).abs() < 2e-3, "{kernel:?}: {sum}");
        }
    }

    #[test]
    fn the_peak_of_one_point_is_the_kernels_value_at_zero() {
        let (lon, lat) = (65.5, 57.15);
        let (x, y) = mercator_m_from_lon_lat(lon, lat);
        // A cell centred exactly on the point.
        let cell_m = 100.0;
        let grid = Grid {
            x_min_m: x - 10.5 * cell_m,
            y_max_m: y + 10.5 * cell_m,
            cell_m,
            width: 21,
            height: 21,
        };
        for kernel in Kernel::ALL {
            let s = density(&[(lon, lat)], None, &grid, kernel, 1_000.0, Mode::Exact);
            let expected = kernel.value(0.0, 1_000.0) * 1e6;
            assert!(
                (f64::from(s.peak()) - expected).abs() / expected < 1e-5,
                "{kernel:?}: {} vs {expected}",
                s.peak()
            );
        }
    }

    /// Deterministic pseudo-random numbers in [0, 1).
    fn uniform(seed: u64) -> impl FnMut() -> f64 {
        let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1_u64 << 53) as f64
        }
    }

    fn largest_gap(a: &Surface, b: &Surface) -> f64 {
        a.values
            .iter()
            .zip(&b.values)
            .map(|(&x, &y)| (f64::from(x) - f64::from(y)).abs())
            .fold(0.0, f64::max)
    }

    /// Grids for the latitude table's tests: the oblast, a town, the equator, the south.
    fn table_grids() -> [Grid; 4] {
        [
            Grid::over_lon_lat(64.8, 55.1, 75.2, 60.0, 1024, 1024),
            Grid::over_lon_lat(65.4, 57.05, 65.7, 57.25, 300, 200),
            Grid::over_lon_lat(-20.0, -10.0, 20.0, 10.0, 64, 64),
            Grid::over_lon_lat(140.0, -45.0, 150.0, -30.0, 500, 700),
        ]
    }

    #[test]
    fn the_latitude_table_gives_the_projections_bin_row() {
        let mut next = uniform(7);
        for grid in table_grids() {
            let layout = FastLayout::new(&grid, 5_000.0).expect("a layout");
            let rows = LatRows::new(&layout).expect("a table");
            let (lat_north, lat_south) = (rows.lat_north, rows.lat_south);
            let edges = &rows.edges;
            // Random latitudes, a little beyond the bins too, and each row edge and its
            // neighbours.
            let span = lat_north - lat_south;
            let lats = (0..20_000)
                .map(|_| lat_south - 0.01 * span + 1.02 * span * next())
                .chain(edges.iter().flat_map(|&e| [e.next_down(), e, e.next_up()]));
            for lat in lats {
                let (_, y) = mercator_m_from_lon_lat(0.0, lat);
                let v = (layout.y_north_m - y) / layout.bin_m;
                let direct =
                    (v >= 0.0 && v < layout.bins_down() as f64).then(|| v.floor() as usize);
                let table = rows.row_of(lat);
                // They may differ only on an edge itself (within rounding of the projection).
                let on_edge = (v - v.round()).abs() < 1e-6;
                assert!(
                    table == direct || on_edge,
                    "{lat}: {table:?} vs {direct:?} ({v})"
                );
            }
        }
    }

    /// The bins the server computes from the edges (`width_bucket`: how many edges lie at or
    /// below the value) are the fast mode's, on the edges themselves and a double away too.
    #[test]
    fn the_binnings_edges_give_the_fast_modes_bins_exactly() {
        let mut next = uniform(11);
        let around = |e: f64| [e.next_down(), e, e.next_up()];
        for grid in table_grids() {
            let binning = FastBinning::new(&grid, 5_000.0).expect("a binning");
            let layout = FastLayout::new(&grid, 5_000.0).expect("a layout");
            let rows = LatRows::new(&layout).expect("a table");
            let edges_lat = binning.lat_row_edges.clone().expect("row edges");
            let edges_lon = &binning.lon_column_edges;
            assert_eq!(edges_lon.len(), binning.bins_across + 1);
            assert_eq!(edges_lat.len(), binning.bins_down + 1);
            assert!(edges_lon.windows(2).all(|w| w[0] < w[1]));
            assert!(edges_lat.windows(2).all(|w| w[0] > w[1]));
            // Columns: one less than the edges at or below, when that is a column.
            let (west, east) = (edges_lon[0], edges_lon[binning.bins_across]);
            let lons = (0..20_000)
                .map(|_| west - 0.01 + (east - west + 0.02) * next())
                .chain(edges_lon.iter().flat_map(|&e| around(e)));
            for lon in lons {
                let fast = index_below(
                    column_of_lon(lon, binning.x_west_m, binning.inv_bin_m),
                    binning.bins_across as f64,
                );
                let below = edges_lon.iter().filter(|&&e| e <= lon).count();
                let bucket = (1..=binning.bins_across)
                    .contains(&below)
                    .then(|| below - 1);
                assert_eq!(fast, bucket, "{lon}");
            }
            // Rows: one less than the edges at or north of the latitude, when a row; checked
            // at the table's step boundaries too, where rounding picks the neighbouring step.
            let (north, south) = (edges_lat[0], edges_lat[binning.bins_down]);
            let steps = (0..rows.steps.len())
                .map(|s| rows.lat_south + s as f64 / rows.inv_step)
                .flat_map(around);
            let lats = (0..20_000)
                .map(|_| south - 0.01 + (north - south + 0.02) * next())
                .chain(edges_lat.iter().flat_map(|&e| around(e)))
                .chain(steps);
            for lat in lats {
                let at_or_north = edges_lat.iter().filter(|&&e| e >= lat).count();
                let bucket = (1..=binning.bins_down)
                    .contains(&at_or_north)
                    .then(|| at_or_north - 1);
                assert_eq!(rows.row_of(lat), bucket, "{lat}");
            }
        }
        // Near the pole the fast mode projects each point: no edges to bin by.
        let polar = Grid::over_lon_lat(0.0, 80.0, 10.0, 85.05, 64, 64);
        assert_eq!(
            FastBinning::new(&polar, 5_000.0).map(|b| b.lat_row_edges),
            Some(None)
        );
    }

    #[test]
    fn fast_mode_is_the_same_from_lon_lat_and_from_mercator() {
        let mut next = uniform(3);
        let points: Vec<(f64, f64)> = (0..20_000)
            .map(|_| (65.2 + 0.7 * next(), 56.9 + 0.5 * next()))
            .collect();
        let grid = Grid::over_lon_lat(65.0, 56.8, 66.1, 57.5, 120, 110);
        let mercator = prepare(&points);
        for kernel in Kernel::ALL {
            let a = density(&points, None, &grid, kernel, 4_000.0, Mode::Fast);
            let b = density_mercator(&mercator, None, &grid, kernel, 4_000.0, Mode::Fast);
            let peak = f64::from(a.peak());
            assert!(peak > 0.0);
            assert!(largest_gap(&a, &b) <= 1e-5 * peak, "{kernel:?}");
        }
    }

    #[test]
    fn fast_mode_stays_within_one_percent_at_the_grids_edges() {
        // Points over the grid and beyond each edge, so kernels are clipped on every side.
        let mut next = uniform(11);
        let mut points: Vec<(f64, f64)> = Vec::new();
        for (n, lon, lon_span, lat, lat_span) in [
            (30_000, 64.9, 1.4, 56.75, 0.8),
            (3_000, 65.05, 0.02, 57.0, 0.3),
            (3_000, 66.15, 0.1, 56.8, 0.7),
        ] {
            points.extend((0..n).map(|_| (lon + lon_span * next(), lat + lat_span * next())));
        }
        let grid = Grid::over_lon_lat(65.0, 56.8, 66.2, 57.5, 130, 110);
        for kernel in Kernel::ALL {
            for radius_m in [5_000.0, 8_000.0] {
                let exact = density(&points, None, &grid, kernel, radius_m, Mode::Exact);
                let fast = density(&points, None, &grid, kernel, radius_m, Mode::Fast);
                let peak = f64::from(exact.peak());
                let gap = largest_gap(&exact, &fast);
                // The uniform kernel's edge is a step: binning moves some points across the
                // step of some cells, up to ~1.2 % of the peak on these nearly uniform points
                // (the same before the stencils were reorganised).
                if kernel != Kernel::Uniform {
                    assert!(
                        gap <= 0.01 * peak,
                        "{kernel:?} r={radius_m}: {gap} of {peak}"
                    );
                }
                let (a, b) = (exact.integral(), fast.integral());
                assert!(
                    (a - b).abs() <= 0.01 * a,
                    "{kernel:?} r={radius_m}: {a} vs {b}"
                );
            }
        }
    }

    #[test]
    fn weights_stay_with_their_points_when_some_points_have_no_position() {
        let points = [
            (65.5, 57.15),
            (f64::NAN, 57.2),
            (65.6, 57.1),
            (65.55, f64::NAN),
        ];
        let weights = [1.0, 100.0, 3.0, 100.0];
        let kept = [(65.5, 57.15), (65.6, 57.1)];
        let kept_weights = [1.0, 3.0];
        let grid = Grid::over_lon_lat(65.3, 57.0, 65.8, 57.3, 60, 40);
        for mode in [Mode::Exact, Mode::Fast] {
            let a = density(
                &points,
                Some(&weights),
                &grid,
                Kernel::Quartic,
                3_000.0,
                mode,
            );
            let b = density(
                &kept,
                Some(&kept_weights),
                &grid,
                Kernel::Quartic,
                3_000.0,
                mode,
            );
            assert!(a.values.iter().all(|v| v.is_finite()));
            assert!(
                largest_gap(&a, &b) <= 1e-6 * f64::from(b.peak()),
                "{mode:?}"
            );
        }
    }

    #[test]
    fn tiny_inputs_and_grids_give_a_surface() {
        let grids = [
            Grid::over_lon_lat(65.3, 57.0, 65.8, 57.3, 1, 1),
            Grid::over_lon_lat(65.3, 57.0, 65.8, 57.3, 3, 1),
            Grid::over_lon_lat(65.3, 57.0, 65.8, 57.3, 1, 5),
            Grid::over_lon_lat(65.3, 57.0, 65.8, 57.3, 40, 30),
        ];
        for grid in grids {
            for mode in [Mode::Exact, Mode::Fast] {
                let none = density(&[], None, &grid, Kernel::Quartic, 3_000.0, mode);
                assert_eq!(none.values.len(), grid.width * grid.height);
                assert!(none.values.iter().all(|&v| v == 0.0));
                let one = density(
                    &[(65.55, 57.15)],
                    None,
                    &grid,
                    Kernel::Quartic,
                    3_000.0,
                    mode,
                );
                assert_eq!(one.values.len(), grid.width * grid.height);
                assert!(one.values.iter().all(|v| v.is_finite()));
            }
        }
    }
}
