//! Choropleth metrics per municipality label, computed from [`Aggregates`]: the values the map,
//! the legend, the tooltips, the pivot's per-capita view and `stats --metric` all show.

use serde::{Deserialize, Serialize};

use super::engine::Aggregates;
use super::resolve::MunicipalityResolution;
use crate::spatial::municipalities;

/// What the choropleth shows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Metric {
    /// Appeals in the period.
    #[default]
    Count,
    /// Appeals per 10,000 residents (population from the municipality table).
    Per10k,
    /// Share of the period's appeals not yet answered (`new`, `in_progress`, other), %.
    Unresolved,
    /// Change against the previous period of the same length, %.
    Change,
}

impl Metric {
    /// Every metric, in menu order.
    pub const ALL: [Metric; 4] = [
        Metric::Count,
        Metric::Per10k,
        Metric::Unresolved,
        Metric::Change,
    ];

    /// Name on the command line.
    pub fn cli_name(self) -> &'static str {
        match self {
            Metric::Count => "count",
            Metric::Per10k => "per10k",
            Metric::Unresolved => "unresolved",
            Metric::Change => "change",
        }
    }

    /// Whether the metric diverges around zero (drawn on a diverging ramp).
    pub fn is_diverging(self) -> bool {
        self == Metric::Change
    }

    /// Formats a value as the map, legend, tooltip and `stats` show it.
    pub fn format(self, value: f64) -> String {
        match self {
            // Counts are whole; class bounds of counts may fall between two (quantiles).
            Metric::Count if value.fract() == 0.0 => format!("{value:.0}"),
            Metric::Count => format!("{value:.1}"),
            Metric::Per10k => format!("{value:.1}"),
            Metric::Unresolved => format!("{value:.1}"),
            Metric::Change => format!("{value:+.1}"),
        }
    }
}

/// Value of `metric` for every label code; `None` is "no data" (no population, no appeals to
/// take a share of, no previous period, or nothing in the previous period).
pub fn metric_values(
    metric: Metric,
    a: &Aggregates,
    resolution: &MunicipalityResolution,
) -> Vec<Option<f64>> {
    let units = municipalities();
    (0..a.by_label.len())
        .map(|label| {
            let count = a.by_label.get(label).copied().unwrap_or(0) as f64;
            match metric {
                Metric::Count => Some(count),
                Metric::Per10k => resolution
                    .unit_of_label
                    .get(label)
                    .copied()
                    .flatten()
                    .and_then(|u| units.get(u))
                    .and_then(|m| m.population)
                    .filter(|&p| p > 0)
                    .map(|p| count * 10_000.0 / f64::from(p)),
                Metric::Unresolved => (count > 0.0).then(|| {
                    a.unresolved_by_label.get(label).copied().unwrap_or(0) as f64 * 100.0 / count
                }),
                Metric::Change => {
                    if !a.previous_complete {
                        return None;
                    }
                    let previous = a
                        .previous_by_label
                        .as_ref()?
                        .get(label)
                        .copied()
                        .unwrap_or(0) as f64;
                    (previous > 0.0).then(|| (count - previous) * 100.0 / previous)
                }
            }
        })
        .collect()
}

/// Rank (1 = highest value) of each label among the labels with a value in `among`; equal
/// values share a rank (competition ranking: 1, 1, 3).
pub fn ranks(values: &[Option<f64>], among: &[bool]) -> Vec<Option<usize>> {
    let mut order: Vec<(usize, f64)> = values
        .iter()
        .enumerate()
        .filter(|(i, _)| among.get(*i).copied().unwrap_or(false))
        .filter_map(|(i, v)| v.map(|v| (i, v)))
        .collect();
    order.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    let mut out = vec![None; values.len()];
    let mut rank = 0;
    let mut previous: Option<f64> = None;
    for (position, (i, v)) in order.iter().enumerate() {
        if previous != Some(*v) {
            rank = position + 1;
            previous = Some(*v);
        }
        if let Some(slot) = out.get_mut(*i) {
            *slot = Some(rank);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ties_share_a_rank() {
        let values = [Some(5.0), Some(9.0), Some(5.0), None, Some(1.0)];
        let ranks = ranks(&values, &[true; 5]);
        assert_eq!(ranks, vec![Some(2), Some(1), Some(2), None, Some(4)]);
        let only_some = super::ranks(&values, &[true, false, true, true, true]);
        assert_eq!(only_some, vec![Some(1), None, Some(1), None, Some(3)]);
    }

    #[test]
    fn per_capita_without_a_population_is_no_data_never_zero() {
        // Label 0 is the first municipality (which has a population); label 1 is a polygon of
        // another name (no unit, so no population); label 2 is the unknown bucket.
        let resolution = MunicipalityResolution {
            labels: vec![
                municipalities()[0].name.to_owned(),
                "Нигде".into(),
                String::new(),
            ],
            unit_of_label: vec![Some(0), None, None],
            ..MunicipalityResolution::default()
        };
        let a = Aggregates {
            by_label: vec![10, 0, 3],
            unresolved_by_label: vec![5, 0, 0],
            ..Aggregates::default()
        };
        let per10k = metric_values(Metric::Per10k, &a, &resolution);
        let population = f64::from(municipalities()[0].population.unwrap());
        assert_eq!(per10k[0], Some(10.0 * 10_000.0 / population));
        assert_eq!(per10k[1], None, "no population: no data, not 0");
        assert_eq!(per10k[2], None);
        let unresolved = metric_values(Metric::Unresolved, &a, &resolution);
        assert_eq!(unresolved, vec![Some(50.0), None, Some(0.0)]);
        let change = metric_values(Metric::Change, &a, &resolution);
        assert_eq!(
            change,
            vec![None, None, None],
            "no previous period: no data"
        );
    }

    #[test]
    fn formats() {
        assert_eq!(Metric::Count.format(41.0), "41");
        assert_eq!(Metric::Count.format(40.5), "40.5");
        assert_eq!(Metric::Change.format(12.34), "+12.3");
        assert_eq!(Metric::Per10k.format(3.05), "3.0");
    }
}
