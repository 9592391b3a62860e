//! Spatial and temporal statistics of the problem map: hot-spot analysis (Getis-Ord Gi*) with
//! its spatial weights ([`neighbours_within`], [`neighbours_knn`], [`default_distance_m`]), the
//! ArcGIS-style confidence classes with the optional false-discovery-rate correction
//! ([`classify`]), the Mann-Kendall trend test ([`mann_kendall`]) and the exact before/after
//! comparison of two appeal rates ([`rate_ratio`], [`change`]).
//!
//! Everything here is a pure, total function of plain slices: degenerate input (no zones, one
//! zone, all values equal, zero days) gives a documented neutral answer instead of an error or a
//! NaN. Weights are built once per zone layout and reused for every time slice; [`gi_star`] is
//! one pass over the neighbour entries.
//!
//! Numerics: the normal tail is `statrs`' `erfc` (good to about 1e-10 relative, plenty for a
//! p-value), the regularized incomplete beta function is
//! `statrs`' `beta_reg`. The Beta quantile (for the Clopper-Pearson interval) is a bracketed,
//! iteration-capped Newton solve on `beta_reg` written here, because `statrs`' own
//! `inv_beta_reg` (0.19) has no iteration limit, is documented to hang or panic in its lower
//! tail (statrs issue #435) and stops at about 1e-6 relative accuracy for large counts.
//!
//! Checked against PySAL's `esda`, `pymannkendall`, `scipy` and published worked examples in
//! `tests/hotspot_stats.rs` (fixtures and the scripts that make them: `tests/fixtures/hotspot/`).

use rstar::RTree;
use rstar::primitives::GeomWithData;

/// Spatial weights: for each zone, its neighbours as (zone index, weight), the zone itself
/// included (Gi*). Rows built here are sorted by zone index.
pub type Neighbours = Vec<Vec<(u32, f64)>>;

/// A zone's point in the R-tree, carrying its index.
type Indexed = GeomWithData<[f64; 2], u32>;

fn is_finite_point(xy_m: &[f64; 2]) -> bool {
    xy_m[0].is_finite() && xy_m[1].is_finite()
}

/// Euclidean distance on the plane, computed the same way everywhere in this module so that
/// [`default_distance_m`] and [`neighbours_within`] agree to the last bit.
fn euclid_m(a: [f64; 2], b: [f64; 2]) -> f64 {
    let dx = a[0] - b[0];
    let dy = a[1] - b[1];
    (dx * dx + dy * dy).sqrt()
}

/// An R-tree of the zones with finite coordinates (others are left out of every search).
fn zone_tree(xy_m: &[[f64; 2]]) -> RTree<Indexed> {
    let items = xy_m
        .iter()
        .enumerate()
        .filter(|(_, xy)| is_finite_point(xy))
        .filter_map(|(i, xy)| u32::try_from(i).ok().map(|i| GeomWithData::new(*xy, i)))
        .collect();
    RTree::bulk_load(items)
}

/// Binary fixed-distance weights: every zone within `distance_m` (Euclidean on the given plane
/// coordinates, inclusive), self included with weight 1.
///
/// A negative or NaN distance, or a zone with non-finite coordinates, gives that zone only
/// itself. Rows are sorted by zone index.
pub fn neighbours_within(xy_m: &[[f64; 2]], distance_m: f64) -> Neighbours {
    let tree = zone_tree(xy_m);
    let valid = distance_m >= 0.0;
    // The tree is asked with a slightly larger radius (it compares squared distances); the exact
    // inclusive test is then made on `euclid_m`, the same distance `default_distance_m` uses.
    let search_d2_m2 = distance_m * distance_m * (1.0 + 1e-9);
    xy_m.iter()
        .enumerate()
        .map(|(i, &xy)| {
            let Ok(me) = u32::try_from(i) else {
                return Vec::new();
            };
            if !valid || !is_finite_point(&xy) {
                return vec![(me, 1.0)];
            }
            let mut row: Vec<(u32, f64)> = tree
                .locate_within_distance(xy, search_d2_m2)
                .filter(|other| other.data == me || euclid_m(xy, *other.geom()) <= distance_m)
                .map(|other| (other.data, 1.0))
                .collect();
            row.sort_unstable_by_key(|&(j, _)| j);
            row
        })
        .collect()
}

/// Binary k-nearest-neighbour weights: self plus the k nearest other zones (ties broken by lower
/// index), weight 1.
///
/// With `k` at least the number of other zones every zone gets all of them. A zone with
/// non-finite coordinates gets only itself and is nobody's neighbour. Rows are sorted by zone
/// index.
pub fn neighbours_knn(xy_m: &[[f64; 2]], k: usize) -> Neighbours {
    let tree = zone_tree(xy_m);
    xy_m.iter()
        .enumerate()
        .map(|(i, xy)| {
            let Ok(me) = u32::try_from(i) else {
                return Vec::new();
            };
            let mut row = vec![(me, 1.0)];
            if k == 0 || !is_finite_point(xy) {
                return row;
            }
            // The iterator yields non-decreasing squared distances: take k, then every zone tied
            // with the k-th, and let the sort by (distance, index) pick the lower indices.
            let mut found: Vec<(f64, u32)> = Vec::with_capacity(k + 1);
            for (other, d2_m2) in tree.nearest_neighbor_iter_with_distance_2(xy) {
                if other.data == me {
                    continue;
                }
                if found.len() >= k && found.get(k - 1).is_some_and(|&(kth, _)| d2_m2 > kth) {
                    break;
                }
                found.push((d2_m2, other.data));
            }
            found.sort_unstable_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            found.truncate(k);
            row.extend(found.into_iter().map(|(_, j)| (j, 1.0)));
            row.sort_unstable_by_key(|&(j, _)| j);
            row
        })
        .collect()
}

/// ArcGIS's default distance band: the largest nearest-neighbour distance, so every zone has at
/// least one neighbour. 0 for fewer than 2 zones.
///
/// Zones with non-finite coordinates are ignored. Feeding the result to [`neighbours_within`]
/// gives every zone at least one neighbour besides itself (the two use the same distance).
pub fn default_distance_m(xy_m: &[[f64; 2]]) -> f64 {
    let tree = zone_tree(xy_m);
    if tree.size() < 2 {
        return 0.0;
    }
    let mut largest_m = 0.0_f64;
    for (i, &xy) in xy_m.iter().enumerate() {
        let Ok(me) = u32::try_from(i) else {
            continue;
        };
        if !is_finite_point(&xy) {
            continue;
        }
        if let Some(nearest) = tree
            .nearest_neighbor_iter(&xy)
            .find(|other| other.data != me)
        {
            largest_m = largest_m.max(euclid_m(xy, *nearest.geom()));
        }
    }
    largest_m
}

/// One zone's Gi* result.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GiStar {
    /// The Gi* z-score (positive: high values cluster here).
    pub z: f64,
    /// two-sided p-value from the standard normal
    pub p: f64,
}

impl GiStar {
    /// The result for a zone that cannot be tested: z = 0, p = 1.
    pub const NULL: GiStar = GiStar { z: 0.0, p: 1.0 };
}

/// Getis-Ord Gi* (Getis & Ord 1992/Ord & Getis 1995, as ArcGIS "Hot Spot Analysis" documents it)
/// of `values` under weights `w` (which include self). Zero variance (all values equal) or n < 2
/// gives z = 0, p = 1 for every zone.
///
/// For zone i, with n zones, mean X̄ and S = sqrt(Σx²/n − X̄²) (the population standard
/// deviation, computed in two passes):
///
/// ```text
/// Gi* = (Σj wij xj − X̄ Σj wij) / (S · sqrt((n Σj wij² − (Σj wij)²) / (n − 1)))
/// ```
///
/// and p = 2·(1 − Φ(|z|)). This is ArcGIS's formula; PySAL's `esda.G_Local(star=True)` writes its
/// variance with Wi(n − Wi) where ArcGIS has n·Σwij² − Wi², so the two agree exactly for binary
/// weights (what [`neighbours_within`] and [`neighbours_knn`] build) and differ for any other
/// weights: with esda's row-standardized `transform='R'` its z becomes (local mean − X̄)/S, ours
/// times sqrt((n − k)/(k(n − 1))) for a zone of k neighbours, while this formula does not change
/// when a zone's row of weights is scaled. esda's `p_norm` is one-sided: `p` here is twice it.
///
/// The result has one entry per value; a missing weight row, a row whose neighbourhood is every
/// zone with equal weights (zero variance of the local sum), or neighbour indices out of range
/// are handled as "no information" (out-of-range entries are skipped; a zone whose local sum has
/// no variance gets z = 0, p = 1). Non-finite values give z = 0, p = 1 everywhere.
///
/// Cost: O(n + total neighbour entries); the per-zone weight sums are recomputed in the same pass,
/// so the same `w` can be reused for every time slice.
pub fn gi_star(values: &[f64], w: &Neighbours) -> Vec<GiStar> {
    let n = values.len();
    if n < 2 {
        return vec![GiStar::NULL; n];
    }
    let n_f = n as f64;
    let mean = values.iter().sum::<f64>() / n_f;
    let variance = values.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n_f;
    let s = variance.sqrt();
    let first = values.first().copied().unwrap_or_default();
    let all_equal = values.iter().all(|&x| x == first);
    if all_equal || !mean.is_finite() || !s.is_finite() || s <= 0.0 {
        return vec![GiStar::NULL; n];
    }
    (0..n)
        .map(|i| {
            let row = w.get(i).map_or(&[][..], Vec::as_slice);
            let (mut sum_wx, mut sum_w, mut sum_w2) = (0.0, 0.0, 0.0);
            for &(j, wij) in row {
                let Some(&xj) = values.get(j as usize) else {
                    continue;
                };
                sum_wx += wij * xj;
                sum_w += wij;
                sum_w2 += wij * wij;
            }
            let spread = n_f * sum_w2 - sum_w * sum_w;
            // Zero (up to rounding) when the neighbourhood is every zone with equal weights.
            if spread <= 1e-12 * n_f * sum_w2 || !spread.is_finite() {
                return GiStar::NULL;
            }
            let z = (sum_wx - mean * sum_w) / (s * (spread / (n_f - 1.0)).sqrt());
            GiStar {
                z,
                p: normal_two_sided_p(z),
            }
        })
        .collect()
}

/// ArcGIS's Gi_Bin confidence classes.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub enum HotClass {
    /// Cold spot, 99 % confidence (Gi_Bin −3).
    Cold99,
    /// Cold spot, 95 % confidence (Gi_Bin −2).
    Cold95,
    /// Cold spot, 90 % confidence (Gi_Bin −1).
    Cold90,
    /// Not statistically significant (Gi_Bin 0).
    NotSignificant,
    /// Hot spot, 90 % confidence (Gi_Bin 1).
    Hot90,
    /// Hot spot, 95 % confidence (Gi_Bin 2).
    Hot95,
    /// Hot spot, 99 % confidence (Gi_Bin 3).
    Hot99,
}

impl HotClass {
    /// Every class from the coldest to the hottest (the order of `Ord`).
    pub const ALL: [HotClass; 7] = [
        HotClass::Cold99,
        HotClass::Cold95,
        HotClass::Cold90,
        HotClass::NotSignificant,
        HotClass::Hot90,
        HotClass::Hot95,
        HotClass::Hot99,
    ];

    /// ArcGIS's Gi_Bin: −3 (cold, 99 %) ..= 3 (hot, 99 %), 0 not significant.
    pub fn gi_bin(self) -> i8 {
        match self {
            HotClass::Cold99 => -3,
            HotClass::Cold95 => -2,
            HotClass::Cold90 => -1,
            HotClass::NotSignificant => 0,
            HotClass::Hot90 => 1,
            HotClass::Hot95 => 2,
            HotClass::Hot99 => 3,
        }
    }

    /// A hot spot at any confidence level.
    pub fn is_hot(self) -> bool {
        self.gi_bin() > 0
    }

    /// A cold spot at any confidence level.
    pub fn is_cold(self) -> bool {
        self.gi_bin() < 0
    }

    /// The class of a confidence level (0 none, 1 = 90 %, 2 = 95 %, 3 = 99 %) and the sign of z.
    fn from_level(level: u8, z: f64) -> HotClass {
        match (level, z > 0.0, z < 0.0) {
            (3, true, _) => HotClass::Hot99,
            (2, true, _) => HotClass::Hot95,
            (1, true, _) => HotClass::Hot90,
            (3, _, true) => HotClass::Cold99,
            (2, _, true) => HotClass::Cold95,
            (1, _, true) => HotClass::Cold90,
            _ => HotClass::NotSignificant,
        }
    }
}

/// The significance levels of the three confidence levels 90, 95 and 99 %.
const ALPHAS: [f64; 3] = [0.10, 0.05, 0.01];

/// Benjamini–Hochberg step-up threshold at level `alpha` for `m` tests whose p-values at or below
/// 0.10 are `small_sorted` (ascending; larger p-values cannot pass at alpha ≤ 0.10 and only
/// count in `m`): the largest p(k) with p(k) ≤ (k/m)·alpha, or `None` when no test passes.
fn bh_threshold(small_sorted: &[f64], m: usize, alpha: f64) -> Option<f64> {
    let m_f = m as f64;
    small_sorted
        .iter()
        .enumerate()
        .rev()
        .find(|&(i, &p)| p <= ((i + 1) as f64 / m_f) * alpha)
        .map(|(_, &p)| p)
}

/// Classes from z and p; with `fdr` the Benjamini–Hochberg false-discovery-rate correction
/// applied per confidence level (90/95/99) exactly as ArcGIS's "Apply False Discovery Rate (FDR)
/// Correction" documents it.
///
/// Without `fdr` (ArcGIS's default): a zone is significant at a level when its two-sided p is at
/// most 0.10, 0.05 or 0.01; the class is the highest such level, hot for z > 0 and cold for
/// z < 0 (|z| ≥ 1.65, 1.96, 2.58 in ArcGIS's table).
///
/// With `fdr`, what was followed:
/// - ArcGIS Pro's tool reference for Hot Spot Analysis (Getis-Ord Gi*), "Usage": the Gi_Bin
///   field reflects the FDR correction when it is applied, the z-score and p-value fields never
///   do; bins ±3/±2/±1 mean 99/95/90 % confidence, 0 not significant. The correction lowers the
///   critical p-value of each confidence level to account for multiple testing and spatial
///   dependence ("What is a z-score? What is a p-value?": p-values ranked from smallest to
///   largest, the procedure of Benjamini & Hochberg 1995 as used by Caldas de Castro & Singer
///   2006 for local statistics).
/// - ArcGIS's own script (`Stats.py`, `fdrTransform`, ArcGIS 10.1) for the exact cut-offs: it
///   orders all n p-values and hands its internal binning the cut-offs (rank/n)·α for
///   α = 0.10, 0.05, 0.01, i.e. the BH step-up rule once per confidence level.
///
/// So, for each α separately: sort all n two-sided p-values (hot and cold together; a NaN counts
/// as 1), find the largest rank k with p(k) ≤ (k/n)·α, and call every zone with p ≤ p(k)
/// significant at that level (none when no k qualifies). The class is the highest level at which
/// the zone is significant, with the sign of z. The BH thresholds grow with α, so a zone
/// significant at 99 % is significant at 95 % and 90 % too.
///
/// Cost: O(n) plus sorting the p-values ≤ 0.10.
pub fn classify(results: &[GiStar], fdr: bool) -> Vec<HotClass> {
    let p_of = |r: &GiStar| if r.p.is_nan() { 1.0 } else { r.p };
    // Critical p-value per level (90, 95, 99 %); negative means nothing is significant.
    let cutoffs: [f64; 3] = if fdr {
        let mut small: Vec<f64> = results
            .iter()
            .map(p_of)
            .filter(|&p| p <= ALPHAS[0])
            .collect();
        small.sort_unstable_by(f64::total_cmp);
        ALPHAS.map(|alpha| bh_threshold(&small, results.len(), alpha).unwrap_or(-1.0))
    } else {
        ALPHAS
    };
    results
        .iter()
        .map(|r| {
            let p = p_of(r);
            let level = if p <= cutoffs[2] {
                3
            } else if p <= cutoffs[1] {
                2
            } else if p <= cutoffs[0] {
                1
            } else {
                0
            };
            HotClass::from_level(level, r.z)
        })
        .collect()
}

/// Result of [`mann_kendall`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MannKendall {
    /// Mann-Kendall S: concordant minus discordant pairs (later − earlier).
    pub s: i64,
    /// Variance of S under no trend, with the tie correction.
    pub var_s: f64,
    /// Standard normal z with continuity correction.
    pub z: f64,
    /// two-sided
    pub p: f64,
    /// Kendall's tau-a: S / (n(n − 1)/2).
    pub tau: f64,
}

impl MannKendall {
    /// The result for a series too short to test.
    const NULL: MannKendall = MannKendall {
        s: 0,
        var_s: 0.0,
        z: 0.0,
        p: 1.0,
        tau: 0.0,
    };
}

/// The Mann-Kendall trend test: S, variance with the tie correction, z with continuity correction,
/// two-sided normal p, Kendall's tau (tau-a as pymannkendall's original_test reports it). Fewer
/// than 3 values (after dropping NaN): s = 0, var_s = 0, z = 0, p = 1, tau = 0.
///
/// Follows Gilbert (1987, ch. 16) like `pymannkendall.original_test`:
/// S = Σ_{i<j} sign(x_j − x_i); Var(S) = [n(n−1)(2n+5) − Σ t(t−1)(2t+5)] / 18 over groups of t
/// equal values; z = (S − 1)/√Var(S) for S > 0, (S + 1)/√Var(S) for S < 0, 0 for S = 0. NaN
/// values are skipped first (pymannkendall's `skip`), so `n` counts the rest. (-0.0 and 0.0
/// are one value.)
///
/// Cost: O(n²) comparisons, fine for the tens of time slices it is meant for.
pub fn mann_kendall(series: &[f64]) -> MannKendall {
    // `+ 0.0` turns -0.0 into 0.0 so the tie groups below agree with the comparisons.
    let x: Vec<f64> = series
        .iter()
        .filter(|v| !v.is_nan())
        .map(|v| v + 0.0)
        .collect();
    let n = x.len();
    if n < 3 {
        return MannKendall::NULL;
    }
    let mut s: i64 = 0;
    for (i, &xi) in x.iter().enumerate() {
        for &xj in &x[i + 1..] {
            if xj > xi {
                s += 1;
            } else if xj < xi {
                s -= 1;
            }
        }
    }
    let mut sorted = x;
    sorted.sort_unstable_by(f64::total_cmp);
    let tie_term: f64 = sorted
        .chunk_by(|a, b| a == b)
        .map(|group| {
            let t = group.len() as f64;
            t * (t - 1.0) * (2.0 * t + 5.0)
        })
        .sum();
    let n_f = n as f64;
    let var_s = (n_f * (n_f - 1.0) * (2.0 * n_f + 5.0) - tie_term) / 18.0;
    let z = if var_s <= 0.0 {
        0.0
    } else if s > 0 {
        (s - 1) as f64 / var_s.sqrt()
    } else if s < 0 {
        (s + 1) as f64 / var_s.sqrt()
    } else {
        0.0
    };
    MannKendall {
        s,
        var_s,
        z,
        p: normal_two_sided_p(z),
        tau: s as f64 / (0.5 * n_f * (n_f - 1.0)),
    }
}

/// Before/after comparison of two appeal counts over their periods: [`rate_ratio`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RateRatio {
    /// Appeals in the before period.
    pub before: u64,
    /// Length of the before period, days.
    pub before_days: f64,
    /// Appeals in the after period.
    pub after: u64,
    /// Length of the after period, days.
    pub after_days: f64,
    /// after rate / before rate; None when the before count is 0
    /// (or when either period has no positive, finite length)
    pub ratio: Option<f64>,
    /// lower and upper bound of the confidence interval (exact, conditional on the total:
    /// Clopper-Pearson on after/(before+after), converted to a rate ratio); upper may be
    /// f64::INFINITY
    pub low: f64,
    /// Upper bound of the interval (see `low`); `f64::INFINITY` when the before count is 0.
    pub high: f64,
}

/// The exact rate ratio of `after` appeals in `after_days` to `before` appeals in `before_days`,
/// with its `confidence` (e.g. 0.95) interval.
///
/// Conditional on the total n = before + after, `after` is Binomial(n, π) with
/// π = R·T_a / (R·T_a + T_b) for the rate ratio R; the Clopper-Pearson bounds of π
/// (Beta(α/2; a, b+1) and Beta(1−α/2; a+1, b) quantiles, 0 and 1 at a = 0 and b = 0) become
/// R = π/(1 − π) · T_b/T_a. This is R's `poisson.test(c(after, before), c(after_days,
/// before_days))` and `rateratio.test`'s interval.
///
/// Degenerate input: both counts 0, or a period that is not a positive finite number of days,
/// gives the uninformative interval [0, ∞) (and [`change`] says `NoData`); before = 0 gives
/// `high = ∞`, after = 0 gives `low = 0`. `confidence` is clamped to [0, 1] (NaN counts as 1,
/// the widest interval).
pub fn rate_ratio(
    before: u64,
    before_days: f64,
    after: u64,
    after_days: f64,
    confidence: f64,
) -> RateRatio {
    let days_ok =
        before_days.is_finite() && after_days.is_finite() && before_days > 0.0 && after_days > 0.0;
    let ratio = (days_ok && before > 0)
        .then(|| (after as f64 / after_days) / (before as f64 / before_days));
    let (low, high) = if !days_ok || (before == 0 && after == 0) {
        (0.0, f64::INFINITY)
    } else {
        let confidence = if confidence.is_nan() {
            1.0
        } else {
            confidence.clamp(0.0, 1.0)
        };
        let tail = (1.0 - confidence) / 2.0;
        let (a, b) = (after as f64, before as f64);
        let scale = before_days / after_days;
        // Each bound as (π, 1 − π), both accurate, so the odds π/(1 − π) are too.
        let low = if after == 0 {
            0.0
        } else {
            let (pi, one_minus) = beta_quantile(tail, a, b + 1.0);
            odds(pi, one_minus) * scale
        };
        let high = if before == 0 {
            f64::INFINITY
        } else {
            let (pi, one_minus) = beta_quantile(1.0 - tail, a + 1.0, b);
            odds(pi, one_minus) * scale
        };
        (low, high)
    };
    RateRatio {
        before,
        before_days,
        after,
        after_days,
        ratio,
        low,
        high,
    }
}

fn odds(pi: f64, one_minus_pi: f64) -> f64 {
    if one_minus_pi <= 0.0 {
        f64::INFINITY
    } else {
        pi / one_minus_pi
    }
}

/// Verdict of a [`RateRatio`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Change {
    /// The after rate is lower: the interval lies below 1.
    Improved,
    /// The interval contains 1.
    NoChange,
    /// The after rate is higher: the interval lies above 1.
    Worse,
    /// no appeals on either side, or a side with zero days
    NoData,
}

/// Improved when the interval's upper bound is below 1, worse when its lower bound is above 1.
/// `NoData` when both counts are 0 or a period is not a positive finite number of days.
pub fn change(r: &RateRatio) -> Change {
    let days_ok = r.before_days.is_finite()
        && r.after_days.is_finite()
        && r.before_days > 0.0
        && r.after_days > 0.0;
    if !days_ok || (r.before == 0 && r.after == 0) {
        Change::NoData
    } else if r.high < 1.0 {
        Change::Improved
    } else if r.low > 1.0 {
        Change::Worse
    } else {
        Change::NoChange
    }
}

/// Two-sided p of a standard normal z: 2·(1 − Φ(|z|)) = erfc(|z|/√2), accurate in the far tail.
/// NaN gives 1 (nothing can be concluded).
pub fn normal_two_sided_p(z: f64) -> f64 {
    if z.is_nan() {
        return 1.0;
    }
    statrs::function::erf::erfc(z.abs() / std::f64::consts::SQRT_2).clamp(0.0, 1.0)
}

/// The standard normal quantile Φ⁻¹(q) for 0 < q < 1.
fn normal_quantile(q: f64) -> f64 {
    -std::f64::consts::SQRT_2 * statrs::function::erf::erfc_inv(2.0 * q)
}

/// The `q` quantile of Beta(a, b) (a, b > 0) as the pair (x, 1 − x), each accurate on its own:
/// the root is solved on the side of the smaller mean, so 1 − x does not lose digits when x is
/// close to 1.
fn beta_quantile(q: f64, a: f64, b: f64) -> (f64, f64) {
    if q <= 0.0 {
        return (0.0, 1.0);
    }
    if q >= 1.0 {
        return (1.0, 0.0);
    }
    if a > b {
        // I_x(a, b) = q  ⇔  I_{1−x}(b, a) = 1 − q.
        let (y, one_minus_y) = beta_quantile_solve(1.0 - q, b, a);
        (one_minus_y, y)
    } else {
        beta_quantile_solve(q, a, b)
    }
}

/// Solves I_x(a, b) = q (0 < q < 1, a, b > 0) for x: a starting point from Abramowitz & Stegun
/// 26.5.22 (the start AS 109 uses), then Newton steps kept inside a bracket that every
/// evaluation narrows, falling back to bisection (geometric while the bracket spans orders of
/// magnitude). At most `MAX_STEPS` evaluations of `beta_reg`, so it always returns.
fn beta_quantile_solve(q: f64, a: f64, b: f64) -> (f64, f64) {
    const MAX_STEPS: usize = 200;
    let cdf = |x: f64| statrs::function::beta::checked_beta_reg(a, b, x).unwrap_or(f64::NAN);
    let ln_beta = statrs::function::beta::ln_beta(a, b);
    let density = |x: f64| ((a - 1.0) * x.ln() + (b - 1.0) * (-x).ln_1p() - ln_beta).exp();

    let (mut lo, mut hi) = (0.0_f64, 1.0_f64);
    let mut x = beta_quantile_start(q, a, b, ln_beta);
    if !(x > 0.0 && x < 1.0) {
        x = a / (a + b);
    }
    for _ in 0..MAX_STEPS {
        let f = cdf(x);
        if f.is_nan() {
            break;
        }
        let r = f - q;
        if r == 0.0 {
            break;
        }
        if r < 0.0 {
            lo = x;
        } else {
            hi = x;
        }
        let d = density(x);
        let newton = x - r / d;
        let next = if d.is_finite() && d > 0.0 && newton > lo && newton < hi {
            newton
        } else if lo > 0.0 && hi / lo > 4.0 {
            (lo * hi).sqrt()
        } else if lo == 0.0 {
            hi / 16.0
        } else {
            0.5 * (lo + hi)
        };
        let converged = (next - x).abs() <= 4.0 * f64::EPSILON * next;
        x = next;
        if converged || hi - lo <= 2.0 * f64::EPSILON * hi {
            break;
        }
    }
    (x, 1.0 - x)
}

/// Starting point for [`beta_quantile_solve`]: Abramowitz & Stegun 26.5.22 for a, b > 1, else
/// the Wilson-Hilferty / tail approximations of AS 109.
fn beta_quantile_start(q: f64, a: f64, b: f64, ln_beta: f64) -> f64 {
    // Upper normal point: positive when q < 1/2 (small root).
    let y = -normal_quantile(q);
    if a > 1.0 && b > 1.0 {
        let r = (y * y - 3.0) / 6.0;
        let s = 1.0 / (2.0 * a - 1.0);
        let t = 1.0 / (2.0 * b - 1.0);
        let h = 2.0 / (s + t);
        let w = y * (h + r).sqrt() / h - (t - s) * (r + 5.0 / 6.0 - 2.0 / (3.0 * h));
        a / (a + b * (2.0 * w).exp())
    } else {
        let t = 1.0 / (9.0 * b);
        let chi2 = 2.0 * b * (1.0 - t + y * t.sqrt()).powi(3);
        if chi2 <= 0.0 {
            1.0 - ((((1.0 - q) * b).ln() + ln_beta) / b).exp()
        } else {
            let t = (4.0 * a + 2.0 * b - 2.0) / chi2;
            if t <= 1.0 {
                (((q * a).ln() + ln_beta) / a).exp()
            } else {
                1.0 - 2.0 / (t + 1.0)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol * b.abs().max(1e-300)
    }

    #[test]
    fn bh_threshold_by_hand() {
        // m = 10 tests; the p-values ≤ 0.10, sorted, are the first seven below.
        // k/m·α at α = 0.05: 0.005 0.010 0.015 0.020 0.025 0.030 0.035
        let small = [0.001, 0.008, 0.012, 0.030, 0.031, 0.040, 0.090];
        // p(3) = 0.012 ≤ 0.015; p(4..7) are all above their cut-offs: threshold 0.012.
        assert_eq!(bh_threshold(&small, 10, 0.05), Some(0.012));
        // α = 0.10: cut-offs 0.01 0.02 0.03 0.04 0.05 0.06 0.07: p(6) = 0.040 ≤ 0.06 is the
        // largest passing rank even though p(4) = 0.030 ≤ 0.04 as well (step-up).
        assert_eq!(bh_threshold(&small, 10, 0.10), Some(0.040));
        // α = 0.01: cut-offs 0.001 0.002 ...: only p(1) = 0.001 ≤ 0.001.
        assert_eq!(bh_threshold(&small, 10, 0.01), Some(0.001));
        // Nothing passes.
        assert_eq!(bh_threshold(&[0.02, 0.5], 2, 0.01), None);
        assert_eq!(bh_threshold(&[], 0, 0.05), None);
        // Step-up rescues an early failure: p(1) = 0.03 > 0.0125 but p(4) = 0.04 ≤ 0.05.
        assert_eq!(
            bh_threshold(&[0.03, 0.035, 0.038, 0.04], 4, 0.05),
            Some(0.04)
        );
    }

    #[test]
    fn normal_p_values() {
        assert_eq!(normal_two_sided_p(0.0), 1.0);
        // statrs' erfc is good to about 1e-10 relative (statrs PR #412 fixes a constant), far
        // more than a p-value needs.
        assert!(close(normal_two_sided_p(1.959_963_984_540_054), 0.05, 1e-9));
        assert!(close(
            normal_two_sided_p(-2.575_829_303_548_901),
            0.01,
            1e-9
        ));
        assert!(close(
            normal_two_sided_p(1.644_853_626_951_472_2),
            0.10,
            1e-9
        ));
        // The far tail stays relative-accurate (scipy: 2*norm.sf(10) = 1.523970604832094e-23).
        assert!(close(
            normal_two_sided_p(10.0),
            1.523_970_604_832_094e-23,
            1e-9
        ));
        assert_eq!(normal_two_sided_p(f64::INFINITY), 0.0);
        assert_eq!(normal_two_sided_p(f64::NAN), 1.0);
        assert!(close(normal_quantile(0.975), 1.959_963_984_540_054, 1e-9));
    }

    #[test]
    fn beta_quantile_inverts_beta_reg() {
        for &(a, b) in &[
            (1.0, 1.0),
            (1.0, 300_001.0),
            (2.0, 3.0),
            (0.5, 0.5),
            (30.0, 12.0),
            (1e6, 4.0),
            (1e6, 1e6),
            (12_345.0, 67_890.0),
        ] {
            for &q in &[0.000_5, 0.005, 0.025, 0.5, 0.975, 0.995] {
                let (x, one_minus) = beta_quantile(q, a, b);
                assert!(x > 0.0 && x < 1.0, "a={a} b={b} q={q}: {x}");
                assert!(close(x + one_minus, 1.0, 1e-15));
                let back = statrs::function::beta::beta_reg(a, b, x);
                assert!(close(back, q, 1e-8), "a={a} b={b} q={q}: I_x = {back}");
            }
        }
        assert_eq!(beta_quantile(0.0, 2.0, 3.0), (0.0, 1.0));
        assert_eq!(beta_quantile(1.0, 2.0, 3.0), (1.0, 0.0));
    }

    #[test]
    fn classes_without_fdr() {
        let r = |z: f64| GiStar {
            z,
            p: normal_two_sided_p(z),
        };
        let classes = classify(
            &[r(3.0), r(2.0), r(1.7), r(1.0), r(-1.7), r(-2.0), r(-3.0)],
            false,
        );
        assert_eq!(
            classes,
            vec![
                HotClass::Hot99,
                HotClass::Hot95,
                HotClass::Hot90,
                HotClass::NotSignificant,
                HotClass::Cold90,
                HotClass::Cold95,
                HotClass::Cold99,
            ]
        );
        // z = 0 is never a class, whatever p says; NaN p is not significant.
        assert_eq!(
            classify(&[GiStar { z: 0.0, p: 0.0 }], false),
            vec![HotClass::NotSignificant]
        );
        assert_eq!(
            classify(
                &[GiStar {
                    z: 5.0,
                    p: f64::NAN
                }],
                true
            ),
            vec![HotClass::NotSignificant]
        );
        assert!(classify(&[], true).is_empty());
    }

    #[test]
    fn gi_bins_and_order() {
        let bins: Vec<i8> = HotClass::ALL.iter().map(|c| c.gi_bin()).collect();
        assert_eq!(bins, vec![-3, -2, -1, 0, 1, 2, 3]);
        assert!(HotClass::ALL.windows(2).all(|w| w[0] < w[1]));
        assert!(HotClass::Hot90.is_hot() && !HotClass::Hot90.is_cold());
        assert!(HotClass::Cold99.is_cold() && !HotClass::NotSignificant.is_hot());
    }

    #[test]
    fn gi_star_degenerate() {
        let w = neighbours_knn(&[[0.0, 0.0], [1.0, 0.0], [2.0, 0.0]], 1);
        assert!(gi_star(&[], &w).is_empty());
        assert_eq!(gi_star(&[4.0], &w), vec![GiStar::NULL]);
        assert_eq!(gi_star(&[2.0, 2.0, 2.0], &w), vec![GiStar::NULL; 3]);
        assert_eq!(gi_star(&[0.1, 0.1, 0.1], &w), vec![GiStar::NULL; 3]);
        assert_eq!(gi_star(&[1.0, f64::NAN, 3.0], &w), vec![GiStar::NULL; 3]);
        // A neighbourhood of every zone has no variance: z = 0.
        let all = neighbours_within(&[[0.0, 0.0], [1.0, 0.0], [2.0, 0.0]], 10.0);
        assert_eq!(gi_star(&[1.0, 5.0, 9.0], &all), vec![GiStar::NULL; 3]);
        // Missing rows and out-of-range indices do not panic.
        let short: Neighbours = vec![vec![(0, 1.0), (7, 1.0)]];
        let out = gi_star(&[1.0, 5.0, 9.0], &short);
        assert_eq!(out.len(), 3);
        assert_eq!(out[1], GiStar::NULL);
    }

    #[test]
    fn gi_star_by_hand() {
        // Five zones on a line, k = 1 weights: zone 0 is {0, 1}. x = 1 2 3 4 10:
        // n = 5, X̄ = 4, S² = (9 + 4 + 1 + 0 + 36)/5 = 10.
        // Zone 4 {3, 4}: (14 − 8) / (√10 · √((5·2 − 4)/4)) = 6 / (√10 · √1.5) = 1.549193338...
        let xy: Vec<[f64; 2]> = (0..5).map(|i| [f64::from(i), 0.0]).collect();
        let w = neighbours_knn(&xy, 1);
        assert_eq!(w[4], vec![(3, 1.0), (4, 1.0)]);
        let g = gi_star(&[1.0, 2.0, 3.0, 4.0, 10.0], &w);
        assert!(close(
            g[4].z,
            6.0 / (10.0_f64.sqrt() * 1.5_f64.sqrt()),
            1e-12
        ));
        // Zone 0 {0, 1} (tie with nothing: zone 1 is nearest): (3 − 8)/(√10·√1.5).
        assert!(close(
            g[0].z,
            -5.0 / (10.0_f64.sqrt() * 1.5_f64.sqrt()),
            1e-12
        ));
        assert!(close(g[4].p, normal_two_sided_p(g[4].z), 0.0));
        // Scaling a row of weights changes nothing (row standardization is harmless here).
        let scaled: Neighbours = w
            .iter()
            .map(|row| {
                row.iter()
                    .map(|&(j, wij)| (j, wij / row.len() as f64))
                    .collect()
            })
            .collect();
        let g2 = gi_star(&[1.0, 2.0, 3.0, 4.0, 10.0], &scaled);
        for (a, b) in g.iter().zip(&g2) {
            assert!(close(a.z, b.z, 1e-12));
        }
    }

    #[test]
    fn mann_kendall_short_and_flat() {
        let null = MannKendall {
            s: 0,
            var_s: 0.0,
            z: 0.0,
            p: 1.0,
            tau: 0.0,
        };
        assert_eq!(mann_kendall(&[]), null);
        assert_eq!(mann_kendall(&[1.0, 2.0]), null);
        assert_eq!(mann_kendall(&[1.0, f64::NAN, 2.0]), null);
        let flat = mann_kendall(&[3.0, 3.0, 3.0, 3.0]);
        assert_eq!((flat.s, flat.var_s, flat.z, flat.p), (0, 0.0, 0.0, 1.0));
        // 1 2 3: S = 3, Var = 3·2·11/18 = 11/3, z = 2/√(11/3), tau = 1.
        let up = mann_kendall(&[1.0, 2.0, 3.0]);
        assert_eq!(up.s, 3);
        assert!(close(up.var_s, 11.0 / 3.0, 1e-15));
        assert!(close(up.z, 2.0 / (11.0_f64 / 3.0).sqrt(), 1e-15));
        assert_eq!(up.tau, 1.0);
        // -0.0 and 0.0 tie.
        assert_eq!(mann_kendall(&[0.0, -0.0, 1.0]).s, 2);
        assert!(close(
            mann_kendall(&[0.0, -0.0, 1.0]).var_s,
            (66.0 - 18.0) / 18.0,
            1e-15
        ));
    }

    #[test]
    fn rate_ratio_edges() {
        let both_zero = rate_ratio(0, 30.0, 0, 30.0, 0.95);
        assert_eq!(
            (both_zero.ratio, both_zero.low, both_zero.high),
            (None, 0.0, f64::INFINITY)
        );
        assert_eq!(change(&both_zero), Change::NoData);
        let no_days = rate_ratio(5, 0.0, 7, 30.0, 0.95);
        assert_eq!(
            (no_days.ratio, no_days.low, no_days.high),
            (None, 0.0, f64::INFINITY)
        );
        assert_eq!(change(&no_days), Change::NoData);
        assert_eq!(
            change(&rate_ratio(5, 30.0, 7, f64::NAN, 0.95)),
            Change::NoData
        );
        let widest = rate_ratio(5, 30.0, 7, 30.0, 1.0);
        assert_eq!((widest.low, widest.high), (0.0, f64::INFINITY));
        let nan_conf = rate_ratio(5, 30.0, 7, 30.0, f64::NAN);
        assert_eq!((nan_conf.low, nan_conf.high), (0.0, f64::INFINITY));
    }
}
