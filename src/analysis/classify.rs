//! Class breaks for the choropleth: quantiles, equal intervals and natural breaks (Jenks), over
//! the values of the municipalities that have one ("no data" is never a value).
//!
//! Natural breaks are the Fisher–Jenks optimal partition (minimum total within-class squared
//! deviation), computed exactly by dynamic programming (Jenks 1977; Fisher 1958) — the same
//! result as QGIS's "Natural Breaks (Jenks)" and the `jenkspy` package.

use serde::{Deserialize, Serialize};

/// How class bounds are chosen.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Classification {
    /// Each class holds about the same number of municipalities.
    #[default]
    Quantiles,
    /// Classes of equal width between the minimum and the maximum.
    EqualIntervals,
    /// Fisher–Jenks natural breaks.
    NaturalBreaks,
}

impl Classification {
    /// Every method, in menu order.
    pub const ALL: [Classification; 3] = [
        Classification::Quantiles,
        Classification::EqualIntervals,
        Classification::NaturalBreaks,
    ];
}

/// Class bounds: `classes + 1` ascending values from the minimum to the maximum (fewer when
/// there are fewer distinct values). Empty when `values` is.
pub fn breaks(method: Classification, values: &[f64], classes: usize) -> Vec<f64> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() || classes == 0 {
        return Vec::new();
    }
    v.sort_by(f64::total_cmp);
    let (Some(&min), Some(&max)) = (v.first(), v.last()) else {
        return Vec::new();
    };
    if min == max {
        return vec![min, max];
    }
    let mut b = match method {
        Classification::EqualIntervals => (0..=classes)
            .map(|k| min + (max - min) * k as f64 / classes as f64)
            .collect(),
        Classification::Quantiles => (0..=classes)
            .map(|k| quantile_sorted(&v, k as f64 / classes as f64))
            .collect(),
        Classification::NaturalBreaks => jenks_sorted(&v, classes),
    };
    b.dedup_by(|a, b| a == b);
    b
}

/// Quantile of sorted data, linear interpolation between order statistics (R's type 7, NumPy's
/// default).
pub fn quantile_sorted(sorted: &[f64], q: f64) -> f64 {
    let n = sorted.len();
    if n == 0 {
        return f64::NAN;
    }
    let h = (n - 1) as f64 * q.clamp(0.0, 1.0);
    let lo = h.floor() as usize;
    let hi = h.ceil() as usize;
    let (Some(&a), Some(&b)) = (sorted.get(lo), sorted.get(hi)) else {
        return f64::NAN;
    };
    a + (h - lo as f64) * (b - a)
}

/// Fisher–Jenks breaks of sorted data: the minimum, the upper value of each class but the
/// last, and the maximum.
fn jenks_sorted(v: &[f64], classes: usize) -> Vec<f64> {
    let n = v.len();
    let k = classes.min(n);
    // Prefix sums for O(1) within-class sums of squared deviations.
    let mut s1 = vec![0.0; n + 1];
    let mut s2 = vec![0.0; n + 1];
    for (i, &x) in v.iter().enumerate() {
        s1[i + 1] = s1[i] + x;
        s2[i + 1] = s2[i] + x * x;
    }
    // Sum of squared deviations of v[i..j].
    let ssd = |i: usize, j: usize| {
        let m = (j - i) as f64;
        let s = s1[j] - s1[i];
        (s2[j] - s2[i]) - s * s / m
    };
    // cost[c][j]: best cost of splitting v[..j] into c classes; split[c][j]: start of the last.
    let mut cost = vec![vec![f64::INFINITY; n + 1]; k + 1];
    let mut split = vec![vec![0_usize; n + 1]; k + 1];
    cost[0][0] = 0.0;
    for c in 1..=k {
        for j in c..=n {
            for i in (c - 1)..j {
                let candidate = cost[c - 1][i] + ssd(i, j);
                if candidate < cost[c][j] {
                    cost[c][j] = candidate;
                    split[c][j] = i;
                }
            }
        }
    }
    let mut starts = Vec::with_capacity(k);
    let mut j = n;
    for c in (1..=k).rev() {
        let i = split[c][j];
        starts.push(i);
        j = i;
    }
    starts.reverse();
    let mut out = vec![v[0]];
    for &start in starts.iter().skip(1) {
        out.push(v[start - 1]);
    }
    out.push(v[n - 1]);
    out
}

/// Class index (0-based) of `value` for `breaks`; values on a bound belong to the lower class,
/// as in QGIS. `None` for a non-finite value or empty breaks.
pub fn class_of(value: f64, breaks: &[f64]) -> Option<usize> {
    if !value.is_finite() || breaks.len() < 2 {
        return None;
    }
    let classes = breaks.len() - 1;
    let upper = breaks.iter().skip(1).position(|&b| value <= b);
    Some(upper.unwrap_or(classes - 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jenks_matches_the_jenkspy_reference_example() {
        // The example of the jenkspy README (github.com/mthh/jenkspy):
        // jenks_breaks([1.3, 7.1, 7.3, 2.3, 3.9, 4.1, 7.8, 1.2, 4.3, 7.3, 5.0, 4.3], n_classes=3)
        // returns [1.2, 2.3, 5.0, 7.8].
        let data = [1.3, 7.1, 7.3, 2.3, 3.9, 4.1, 7.8, 1.2, 4.3, 7.3, 5.0, 4.3];
        assert_eq!(
            breaks(Classification::NaturalBreaks, &data, 3),
            vec![1.2, 2.3, 5.0, 7.8]
        );
        // The example of the `jenks` npm package README (github.com/42arch/Jenks):
        // new Jenks([1, 2, 5, 15, 45, 89.3, 112, 31, 120, 0.5], 3).naturalBreak() → [0.5, 15, 45, 120]
        let data = [1.0, 2.0, 5.0, 15.0, 45.0, 89.3, 112.0, 31.0, 120.0, 0.5];
        assert_eq!(
            breaks(Classification::NaturalBreaks, &data, 3),
            vec![0.5, 15.0, 45.0, 120.0]
        );
    }

    #[test]
    fn quantiles_match_r_type_7() {
        // R: quantile(c(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), probs = seq(0, 1, 0.25))
        //    0%  25%  50%  75% 100%  →  1.00 3.25 5.50 7.75 10.00
        let data: Vec<f64> = (1..=10).map(f64::from).collect();
        assert_eq!(
            breaks(Classification::Quantiles, &data, 4),
            vec![1.0, 3.25, 5.5, 7.75, 10.0]
        );
    }

    #[test]
    fn equal_intervals_and_classes() {
        let b = breaks(Classification::EqualIntervals, &[0.0, 10.0, 3.0], 5);
        assert_eq!(b, vec![0.0, 2.0, 4.0, 6.0, 8.0, 10.0]);
        assert_eq!(class_of(0.0, &b), Some(0));
        assert_eq!(
            class_of(2.0, &b),
            Some(0),
            "a bound belongs to the lower class"
        );
        assert_eq!(class_of(2.1, &b), Some(1));
        assert_eq!(class_of(10.0, &b), Some(4));
        assert_eq!(class_of(f64::NAN, &b), None);
        assert_eq!(
            breaks(Classification::Quantiles, &[5.0, 5.0], 5),
            vec![5.0, 5.0]
        );
        assert!(breaks(Classification::Quantiles, &[], 5).is_empty());
    }
}
