//! Comparison of two periods: what the split view and the difference layer show. Period B is
//! the filter's own period, period A the one it is compared with (by default the period of the
//! same length just before B). Owns the comparison's settings, the default period A, the
//! metric of a difference, the difference per municipality and per density cell, and the class
//! bounds of a difference (symmetric about zero, so zero is the neutral middle of a diverging
//! ramp).

use jiff::ToSpan;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use super::{Classification, Filter, Metric};

/// How the map compares two periods.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum CompareMode {
    /// One map, one period (the filter's).
    #[default]
    Off,
    /// Two maps side by side, A on the left and B on the right, moving together, one scale.
    Split,
    /// One map of B minus A.
    Difference,
}

impl CompareMode {
    /// Every mode, in menu order.
    pub const ALL: [CompareMode; 3] = [
        CompareMode::Off,
        CompareMode::Split,
        CompareMode::Difference,
    ];
}

/// The comparison's settings (saved with the map's other settings and with saved views).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CompareSettings {
    pub mode: CompareMode,
    /// Period A, first and last day; `None`: the period of B's length just before B.
    pub a_from: Option<Date>,
    pub a_to: Option<Date>,
}

impl CompareSettings {
    /// Period A for a period B of `b`: the one set, else the period of the same length that
    /// ends the day before B starts.
    pub fn period_a(&self, b: (Date, Date)) -> (Date, Date) {
        match (self.a_from, self.a_to) {
            (Some(from), Some(to)) if from <= to => (from, to),
            _ => previous_period(b.0, b.1),
        }
    }
}

/// The period of the same number of days as `from..=to` that ends the day before `from`.
pub fn previous_period(from: Date, to: Date) -> (Date, Date) {
    let days = (to - from).get_days().max(0);
    let end = from.checked_sub(1.day()).unwrap_or(from);
    let start = end.checked_sub(i64::from(days).days()).unwrap_or(end);
    (start, end)
}

/// The filter of period A: `b`'s filter with A's dates.
pub fn filter_a(b: &Filter, a: (Date, Date)) -> Filter {
    Filter {
        from: Some(a.0),
        to: Some(a.1),
        ..b.clone()
    }
}

/// The metric a difference is taken of: a change against the previous period has no meaning
/// as a difference of two periods, so the appeal count stands in for it.
pub fn difference_metric(metric: Metric) -> Metric {
    match metric {
        Metric::Change => Metric::Count,
        m => m,
    }
}

/// B − A per label; `None` where either period has no value.
pub fn difference(a: &[Option<f64>], b: &[Option<f64>]) -> Vec<Option<f64>> {
    (0..a.len().max(b.len()))
        .map(|i| {
            let va = a.get(i).copied().flatten()?;
            let vb = b.get(i).copied().flatten()?;
            Some(vb - va)
        })
        .collect()
}

/// Class bounds of a difference, symmetric about zero so that zero sits in the neutral middle
/// of a diverging ramp: `classes` classes from −m to +m, m being the largest absolute
/// difference rounded up to 1, 2, 2.5 or 5 × 10ⁿ. With [`Classification::EqualIntervals`] the
/// classes are of equal width; otherwise the inner bounds are quantiles of the absolute
/// differences (rounded to two significant digits), so that one outlier — the regional capital —
/// does not push every other municipality into the middle class. With an odd number of classes
/// the middle one holds zero and the smallest changes; with an even number zero is a bound.
/// Empty without values; a single class around zero when every difference is zero.
pub fn diverging_breaks(method: Classification, values: &[f64], classes: usize) -> Vec<f64> {
    let mut magnitudes: Vec<f64> = values
        .iter()
        .filter(|v| v.is_finite())
        .map(|v| v.abs())
        .collect();
    if magnitudes.is_empty() || classes == 0 {
        return Vec::new();
    }
    magnitudes.sort_by(f64::total_cmp);
    let max_abs = magnitudes.last().copied().unwrap_or(0.0);
    if max_abs == 0.0 {
        return vec![-1.0, 1.0];
    }
    let m = nice_ceiling(max_abs);
    if method == Classification::EqualIntervals {
        return (0..=classes)
            .map(|k| -m + 2.0 * m * k as f64 / classes as f64)
            .collect();
    }
    // Inner bounds on one side: for 2s+1 classes s of them (the middle class straddles zero),
    // for 2s classes s−1 of them and zero.
    let side = classes / 2;
    let even = classes.is_multiple_of(2);
    let inner: usize = if even { side.saturating_sub(1) } else { side };
    let steps = if even { side } else { side + 1 };
    let mut positive: Vec<f64> = (1..=inner)
        .map(|j| round_2_significant(super::quantile_sorted(&magnitudes, j as f64 / steps as f64)))
        .filter(|t| *t > 0.0 && *t < m)
        .collect();
    positive.dedup();
    positive.push(m);
    let mut breaks: Vec<f64> = positive.iter().rev().map(|t| -t).collect();
    if even {
        breaks.push(0.0);
    }
    breaks.extend(positive);
    breaks
}

/// The smallest of 1, 2, 2.5, 5 × 10ⁿ at or above `x` (> 0).
fn nice_ceiling(x: f64) -> f64 {
    let p = 10f64.powf(x.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0]
        .into_iter()
        .map(|f| f * p)
        .find(|&v| v >= x * (1.0 - 1e-12))
        .unwrap_or(10.0 * p)
}

/// `x` rounded to two significant digits.
fn round_2_significant(x: f64) -> f64 {
    if x <= 0.0 || !x.is_finite() {
        return x;
    }
    let p = 10f64.powf(x.log10().floor() - 1.0);
    (x / p).round() * p
}

/// B − A per cell of two surfaces on the same grid (appeals/km²).
pub fn surface_difference(a: &[f32], b: &[f32]) -> Vec<f32> {
    (0..a.len().max(b.len()))
        .map(|i| b.get(i).copied().unwrap_or(0.0) - a.get(i).copied().unwrap_or(0.0))
        .collect()
}

/// The top of a density difference's colour scale: the 99th percentile of the absolute
/// non-zero differences (so one extreme cell does not wash out the rest), `None` when all are
/// zero.
pub fn difference_scale(diff: &[f32]) -> Option<f32> {
    let mut v: Vec<f64> = diff
        .iter()
        .map(|d| f64::from(d.abs()))
        .filter(|d| *d > 0.0 && d.is_finite())
        .collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    Some(super::quantile_sorted(&v, 0.99) as f32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn previous_period_has_the_same_length_and_ends_the_day_before() {
        assert_eq!(
            previous_period(date(2021, 9, 1), date(2021, 11, 30)),
            (date(2021, 6, 2), date(2021, 8, 31)),
            "91 days each"
        );
        assert_eq!(
            previous_period(date(2021, 3, 1), date(2021, 3, 1)),
            (date(2021, 2, 28), date(2021, 2, 28))
        );
        let settings = CompareSettings {
            mode: CompareMode::Split,
            a_from: Some(date(2020, 9, 1)),
            a_to: Some(date(2020, 11, 30)),
        };
        assert_eq!(
            settings.period_a((date(2021, 9, 1), date(2021, 11, 30))),
            (date(2020, 9, 1), date(2020, 11, 30))
        );
        // A reversed period A is not used.
        let reversed = CompareSettings {
            a_from: Some(date(2020, 12, 1)),
            a_to: Some(date(2020, 11, 1)),
            ..settings
        };
        assert_eq!(
            reversed.period_a((date(2021, 1, 1), date(2021, 1, 10))),
            (date(2020, 12, 22), date(2020, 12, 31))
        );
    }

    #[test]
    fn difference_is_b_minus_a_and_none_without_both() {
        let a = [Some(10.0), Some(5.0), None, Some(1.0)];
        let b = [Some(7.0), Some(9.0), Some(3.0), None];
        assert_eq!(difference(&a, &b), vec![Some(-3.0), Some(4.0), None, None]);
    }

    #[test]
    fn diverging_breaks_are_symmetric_with_zero_in_the_middle_class() {
        let equal = Classification::EqualIntervals;
        let b = diverging_breaks(equal, &[-3.0, 4.0, 17.0, 0.0], 5);
        assert_eq!(b, vec![-20.0, -12.0, -4.0, 4.0, 12.0, 20.0]);
        // Zero falls in the middle class.
        assert_eq!(super::super::class_of(0.0, &b), Some(2));
        assert_eq!(super::super::class_of(17.0, &b), Some(4));
        assert_eq!(super::super::class_of(-3.0, &b), Some(2));
        // An even number of classes has zero as a bound.
        let even = diverging_breaks(equal, &[-0.3, 0.7], 4);
        assert_eq!(even, vec![-1.0, -0.5, 0.0, 0.5, 1.0]);
        assert!(diverging_breaks(equal, &[], 5).is_empty());
        assert_eq!(diverging_breaks(equal, &[0.0, 0.0], 5), vec![-1.0, 1.0]);
        assert_eq!(nice_ceiling(1234.0), 2000.0);
        assert_eq!(nice_ceiling(2.0), 2.0);
        assert_eq!(nice_ceiling(0.021), 0.025);
    }

    #[test]
    fn quantile_diverging_breaks_keep_an_outlier_from_flattening_the_rest() {
        // Twenty municipalities changing by tens, the capital by thousands.
        let mut values: Vec<f64> = (1..=20).map(|i| f64::from(i) * 7.0 - 60.0).collect();
        values.push(4_300.0);
        let b = diverging_breaks(Classification::Quantiles, &values, 5);
        assert_eq!(b.len(), 6, "{b:?}");
        assert_eq!(b.first().map(|x| -x), b.last().copied(), "symmetric: {b:?}");
        assert_eq!(b.last().copied(), Some(5_000.0));
        assert!(b.windows(2).all(|w| w[0] < w[1]), "{b:?}");
        // The small changes spread over several classes instead of all in the middle.
        let classes: std::collections::BTreeSet<usize> = values[..20]
            .iter()
            .filter_map(|v| super::super::class_of(*v, &b))
            .collect();
        assert!(classes.len() >= 3, "{b:?} {classes:?}");
        assert_eq!(super::super::class_of(0.0, &b), Some(2));
        // Even: zero is the middle bound.
        let even = diverging_breaks(Classification::NaturalBreaks, &values, 4);
        assert_eq!(even.get(2).copied(), Some(0.0), "{even:?}");
        assert_eq!(round_2_significant(1234.0), 1200.0);
        assert!((round_2_significant(0.0456) - 0.046).abs() < 1e-12);
    }

    #[test]
    fn surface_difference_and_its_scale() {
        let d = surface_difference(&[1.0, 2.0, 0.0], &[3.0, 1.0, 0.0]);
        assert_eq!(d, vec![2.0, -1.0, 0.0]);
        let scale = difference_scale(&d).unwrap_or_default();
        assert!((scale - 1.99).abs() < 1e-4, "{scale}");
        assert_eq!(difference_scale(&[0.0, 0.0]), None);
    }

    #[test]
    fn difference_of_a_change_is_taken_of_counts() {
        assert_eq!(difference_metric(Metric::Change), Metric::Count);
        assert_eq!(difference_metric(Metric::Per10k), Metric::Per10k);
    }
}
