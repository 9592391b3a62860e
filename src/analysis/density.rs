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
//! output and adds the kernel once per non-empty bin, weighted by its count.

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

/// Points as Web-Mercator metres with the ground scale (cos lat) of each.
fn prepare(points_lon_lat: &[(f64, f64)]) -> Vec<(f64, f64, f64)> {
    points_lon_lat
        .iter()
        .filter(|(lon, lat)| lon.is_finite() && lat.is_finite())
        .map(|&(lon, lat)| {
            let (x, y) = mercator_m_from_lon_lat(lon, lat);
            (x, y, lat.to_radians().cos())
        })
        .collect()
}

/// Output rows sharing one set of stencils (the ground scale cos(lat) is taken at the band's
/// middle; over 8 rows of a regional grid it changes by well under 0.1 %).
const STENCIL_BAND_ROWS: usize = 8;

/// Fast mode with precomputed kernels: appeals are summed into 4 × 4 sub-cells of each output
/// cell, and every non-empty sub-cell adds a stencil — the kernel at the fixed offsets from that
/// sub-cell's centre to the surrounding cell centres, computed once per sub-position and band of
/// rows. `None` when the kernel spans too many cells for stencils to pay off.
fn fast_with_stencils(
    points: &[(f64, f64, f64)],
    weights: Option<&[f64]>,
    grid: &Grid,
    kernel: Kernel,
    radius_ground_m: f64,
) -> Option<Surface> {
    let t0 = std::time::Instant::now();
    let sub = FAST_SUBDIVISION;
    let (w, h) = (grid.width, grid.height);
    let f = grid.cell_m / sub as f64;
    // The widest the kernel gets in Mercator metres: at the grid's edge farthest from the
    // equator (with a row of slack for points just outside).
    let lat_of_y = |y: f64| lon_lat_from_mercator_m(0.0, y).1;
    let y_bottom = grid.y_max_m - grid.cell_m * h as f64;
    let lat_extreme = lat_of_y(grid.y_max_m)
        .abs()
        .max(lat_of_y(y_bottom).abs())
        .min(85.0);
    let reach = (radius_ground_m / lat_extreme.to_radians().cos() / grid.cell_m).ceil() as i64 + 1;
    let side = (2 * reach + 1) as usize;
    if side > 121 {
        return None;
    }
    // Sub-cell sums per occupied output cell (cells outside the grid within reach included):
    // a dense index over the grid and its margin points into the list of occupied cells.
    let (mw, mh) = (w + 2 * reach as usize, h + 2 * reach as usize);
    let mut index = vec![u32::MAX; mw * mh];
    let mut occupied: Vec<((i64, i64), [f32; 16])> = Vec::new();
    for (i, &(x, y, _)) in points.iter().enumerate() {
        let fc = ((x - grid.x_min_m) / f).floor();
        let fr = ((grid.y_max_m - y) / f).floor();
        let (col, row) = (
            (fc / sub as f64).floor() as i64,
            (fr / sub as f64).floor() as i64,
        );
        if col < -reach || row < -reach || col >= w as i64 + reach || row >= h as i64 + reach {
            continue;
        }
        let a = (fc as i64 - col * sub as i64) as usize;
        let b = (fr as i64 - row * sub as i64) as usize;
        let weight = weights.and_then(|ws| ws.get(i)).copied().unwrap_or(1.0) as f32;
        let cell = (row + reach) as usize * mw + (col + reach) as usize;
        let Some(slot) = index.get_mut(cell) else {
            continue;
        };
        if *slot == u32::MAX {
            *slot = occupied.len() as u32;
            occupied.push(((col, row), [0.0; 16]));
        }
        if let Some(v) = occupied
            .get_mut(*slot as usize)
            .and_then(|(_, sums)| sums.get_mut(b * sub + a))
        {
            *v += weight;
        }
    }
    drop(index);
    let t_bin = t0.elapsed();
    let nnz: usize = occupied.iter().map(|(_, c)| c.iter().filter(|v| **v != 0.0).count()).sum();
    // Stencils per band: [band][sub-position][di][dj], kernel per m² of ground.
    let prepared = PreparedKernel::new(kernel, radius_ground_m);
    let bands =
        h.div_ceil(STENCIL_BAND_ROWS) + 2 * (reach as usize).div_ceil(STENCIL_BAND_ROWS) + 2;
    let band_of_row = |row: i64| -> usize {
        let shifted = row + reach + STENCIL_BAND_ROWS as i64;
        (shifted.max(0) as usize / STENCIL_BAND_ROWS).min(bands - 1)
    };
    let stencils: Vec<Vec<f32>> = (0..bands)
        .map(|band| {
            let row_mid = (band * STENCIL_BAND_ROWS) as f64
                - (reach + STENCIL_BAND_ROWS as i64) as f64
                + STENCIL_BAND_ROWS as f64 / 2.0;
            let cos_lat = lat_of_y(grid.y_max_m - row_mid * grid.cell_m)
                .to_radians()
                .cos();
            let mut st = vec![0.0_f32; 16 * side * side];
            for b in 0..sub {
                for a in 0..sub {
                    for di in 0..side {
                        for dj in 0..side {
                            // Offsets from the sub-cell's centre to the neighbour cell's centre.
                            let dx =
                                ((4 * dj as i64 - 4 * reach) as f64 + 1.5 - a as f64) * f * cos_lat;
                            let dy =
                                ((4 * di as i64 - 4 * reach) as f64 + 1.5 - b as f64) * f * cos_lat;
                            if let Some(v) = st.get_mut(((b * sub + a) * side + di) * side + dj) {
                                *v = prepared.at_d2(dx * dx + dy * dy) as f32;
                            }
                        }
                    }
                }
            }
            st
        })
        .collect();
    let t_st = t0.elapsed();
    // Apply, on two threads, each owning half of the occupied cells.
    let entries = occupied;
    let run = |chunk: &[((i64, i64), [f32; 16])]| {
        let mut acc = vec![0.0_f32; w * h];
        for &((col, row), counts) in chunk {
            let Some(stencil) = stencils.get(band_of_row(row)) else {
                continue;
            };
            let j0 = (col - reach).max(0);
            let j1 = (col + reach).min(w as i64 - 1);
            if j0 > j1 {
                continue;
            }
            for (k, &c) in counts.iter().enumerate().filter(|(_, c)| **c != 0.0) {
                let base = k * side * side;
                for di in 0..side {
                    let r = row - reach + di as i64;
                    if r < 0 || r >= h as i64 {
                        continue;
                    }
                    let out_start = r as usize * w + j0 as usize;
                    let st_start = base + di * side + (j0 - (col - reach)) as usize;
                    let len = (j1 - j0 + 1) as usize;
                    let (Some(out), Some(st)) = (
                        acc.get_mut(out_start..out_start + len),
                        stencil.get(st_start..st_start + len),
                    ) else {
                        continue;
                    };
                    for (o, &s) in out.iter_mut().zip(st) {
                        *o += c * s;
                    }
                }
            }
        }
        acc
    };
    let (first_half, second_half) = entries.split_at(entries.len() / 2);
    let mut t_apply = t0.elapsed();
    let acc = std::thread::scope(|scope| {
        let second = scope.spawn(|| run(second_half));
        let mut first = run(first_half);
        let second = second.join().unwrap_or_else(|_| run(second_half));
        t_apply = t0.elapsed();
        for (x, y) in first.iter_mut().zip(second) {
            *x += y;
        }
        first
    });
    let t_merge = t0.elapsed();
    let out = Some(Surface {
        grid: *grid,
        values: acc.into_iter().map(|v| v * 1e6).collect(),
    });
    if std::env::var_os("TK_PROF").is_some() {
        eprintln!("pts {} cells {} nnz {} reach {reach} | bin {:?} stencils {:?} apply {:?} merge {:?} total {:?}",
            points.len(), entries.len(), nnz, t_bin, t_st - t_bin, t_apply - t_st, t_merge - t_apply, t0.elapsed());
    }
    out
}

/// Adds `weight` × kernel of a point at Mercator (x, y) (ground scale `cos_lat`) to `acc`
/// (per m² of ground). `dx2` is scratch space.
fn splat(
    acc: &mut [f64],
    grid: &Grid,
    kernel: &PreparedKernel,
    radius_ground_m: f64,
    (x, y, cos_lat): (f64, f64, f64),
    weight: f64,
    dx2: &mut Vec<f64>,
) {
    let radius_merc = radius_ground_m / cos_lat.max(1e-9);
    let col0 = ((x - radius_merc - grid.x_min_m) / grid.cell_m - 0.5)
        .ceil()
        .max(0.0) as usize;
    let col1 = ((x + radius_merc - grid.x_min_m) / grid.cell_m - 0.5).floor();
    let row0 = ((grid.y_max_m - (y + radius_merc)) / grid.cell_m - 0.5)
        .ceil()
        .max(0.0) as usize;
    let row1 = ((grid.y_max_m - (y - radius_merc)) / grid.cell_m - 0.5).floor();
    if col1 < 0.0 || row1 < 0.0 {
        return;
    }
    let col1 = (col1 as usize).min(grid.width.saturating_sub(1));
    let row1 = (row1 as usize).min(grid.height.saturating_sub(1));
    if col0 > col1 || row0 > row1 {
        return;
    }
    // Ground distances: squared east offsets once per column.
    dx2.clear();
    dx2.extend((col0..=col1).map(|col| {
        let dx = (grid.x_min_m + (col as f64 + 0.5) * grid.cell_m - x) * cos_lat;
        dx * dx
    }));
    for row in row0..=row1 {
        let dy = (grid.y_max_m - (row as f64 + 0.5) * grid.cell_m - y) * cos_lat;
        let dy2 = dy * dy;
        let start = row * grid.width + col0;
        let Some(line) = acc.get_mut(start..start + dx2.len()) else {
            continue;
        };
        for (a, &d2x) in line.iter_mut().zip(dx2.iter()) {
            *a += weight * kernel.at_d2(d2x + dy2);
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
    let t0 = std::time::Instant::now();
    let p = prepare(points_lon_lat);
    if std::env::var_os("TK_PROF").is_some() { eprintln!("prepare {:?}", t0.elapsed()); }
    density_mercator(
        &p,
        weights,
        grid,
        kernel,
        radius_ground_m,
        mode,
    )
}

/// Points given as Web-Mercator unit coordinates (0..1, y down, as the map layers keep them)
/// in the form [`density_mercator`] takes: Mercator metres and the ground scale cos(lat).
pub fn mercator_points_from_unit(points_unit: &[[f64; 2]]) -> Vec<(f64, f64, f64)> {
    use crate::spatial::projection::{ground_scale_at_mercator_y_m, mercator_m_from_unit};
    points_unit
        .iter()
        .filter(|p| p[0].is_finite() && p[1].is_finite())
        .map(|&p| {
            let (x, y) = mercator_m_from_unit(p);
            (x, y, ground_scale_at_mercator_y_m(y))
        })
        .collect()
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
        && let Some(surface) = fast_with_stencils(points, weights, grid, kernel, radius_ground_m)
    {
        return surface;
    }
    let weight_of = |i: usize| weights.and_then(|w| w.get(i)).copied().unwrap_or(1.0);
    // Work items: (point, weight).
    let items: Vec<((f64, f64, f64), f64)> = match mode {
        Mode::Exact => points
            .iter()
            .enumerate()
            .map(|(i, &p)| (p, weight_of(i)))
            .collect(),
        Mode::Fast => {
            let sub = FAST_SUBDIVISION;
            let fine = Grid {
                cell_m: grid.cell_m / sub as f64,
                width: grid.width * sub,
                height: grid.height * sub,
                ..*grid
            };
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
            bins.into_iter()
                .map(|((col, row), (w, cos_lat))| {
                    let x = fine.x_min_m + (col as f64 + 0.5) * fine.cell_m;
                    let y = fine.y_max_m - (row as f64 + 0.5) * fine.cell_m;
                    ((x, y, cos_lat), w)
                })
                .collect()
        }
    };
    let cells = grid.width * grid.height;
    let prepared = PreparedKernel::new(kernel, radius_ground_m);
    let run = |chunk: &[((f64, f64, f64), f64)]| {
        let mut acc = vec![0.0_f64; cells];
        let mut dx2 = Vec::new();
        for &(p, w) in chunk {
            splat(&mut acc, grid, &prepared, radius_ground_m, p, w, &mut dx2);
        }
        acc
    };
    let half = items.len() / 2;
    let (a, b) = items.split_at(half);
    let mut acc = std::thread::scope(|scope| {
        let second = scope.spawn(|| run(b));
        let mut first = run(a);
        let second = second.join().unwrap_or_else(|_| run(b));
        for (x, y) in first.iter_mut().zip(second) {
            *x += y;
        }
        first
    });
    // Per m² of ground → per km².
    for v in &mut acc {
        *v *= 1e6;
    }
    Surface {
        grid: *grid,
        values: acc.into_iter().map(|v| v as f32).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
