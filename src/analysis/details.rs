//! The details of one municipality for the current filter: counts by category, appeals per
//! week, status shares, days to resolution (median and 90th percentile), the top settlements and
//! addresses.

use super::classify::quantile_sorted;
use super::engine::{Columns, Masks, NO_DAY};
use crate::data::Appeals;

/// Details of one label (municipality) under a filter.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Details {
    pub label: u32,
    pub total: u64,
    /// (category code, count), most first.
    pub by_category: Vec<(u32, u64)>,
    /// (day number of the Monday starting the week, count), in time order, empty weeks included.
    pub weekly: Vec<(i32, u64)>,
    /// (status code, count), most first.
    pub by_status: Vec<(u32, u64)>,
    /// Appeals with an answer time.
    pub answered: u64,
    pub resolution_median_days: Option<f64>,
    pub resolution_p90_days: Option<f64>,
    /// (settlement code, count), top ten.
    pub top_settlements: Vec<(u32, u64)>,
    /// (address code, count), top ten.
    pub top_addresses: Vec<(u32, u64)>,
}

/// Monday on or before a day number (1970-01-01 was a Thursday).
pub fn week_start(day: i32) -> i32 {
    day - (day + 3).rem_euclid(7)
}

fn top(counts: Vec<u64>, n: usize) -> Vec<(u32, u64)> {
    let mut items: Vec<(u32, u64)> = counts
        .into_iter()
        .enumerate()
        .filter(|(_, c)| *c > 0)
        .map(|(i, c)| (i as u32, c))
        .collect();
    items.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    items.truncate(n);
    items
}

/// Details of municipality `label` among the rows `masks` keeps.
pub fn details(appeals: &Appeals, c: &Columns, masks: &Masks, label: u32) -> Details {
    let rows: Vec<usize> = masks
        .rows(c)
        .into_iter()
        .map(|i| i as usize)
        .filter(|&i| c.label.get(i) == Some(&label))
        .collect();
    let mut by_category = vec![0_u64; c.n_categories];
    let mut by_status = vec![0_u64; c.n_statuses];
    let mut settlements = vec![0_u64; appeals.settlements.len()];
    let mut addresses = vec![0_u64; appeals.addresses.len()];
    let mut weeks = std::collections::BTreeMap::<i32, u64>::new();
    let mut days_to_answer = Vec::new();
    let mut total = 0_u64;
    for &i in &rows {
        // A grouped row (the pushdown strategy) stands for its weight in appeals.
        let w = c.weight.get(i).copied().unwrap_or(1);
        total += w;
        let leaf = c.leaf.get(i).copied().unwrap_or(0) as usize;
        if let Some(x) = c
            .leaf_category
            .get(leaf)
            .and_then(|&k| by_category.get_mut(k as usize))
        {
            *x += w;
        }
        if let Some(x) = c.status.get(i).and_then(|&s| by_status.get_mut(s as usize)) {
            *x += w;
        }
        if let Some(x) = appeals
            .settlement
            .get(i)
            .copied()
            .flatten()
            .and_then(|s| settlements.get_mut(s as usize))
        {
            *x += w;
        }
        if let Some(x) = appeals
            .address
            .get(i)
            .copied()
            .flatten()
            .and_then(|a| addresses.get_mut(a as usize))
        {
            *x += w;
        }
        let day = c.day.get(i).copied().unwrap_or(NO_DAY);
        if day != NO_DAY {
            *weeks.entry(week_start(day)).or_default() += w;
        }
        if let Some(&d) = c.resolution_days.get(i)
            && d.is_finite()
        {
            days_to_answer.extend(std::iter::repeat_n(f64::from(d), w as usize));
        }
    }
    // Fill empty weeks so the line does not jump over them.
    let mut weekly = Vec::new();
    let span = masks
        .days
        .filter(|(a, b)| *a > i32::MIN + 1 && *b < i32::MAX);
    let first = span
        .map(|(a, _)| week_start(a))
        .or_else(|| weeks.keys().next().copied());
    let last = span
        .map(|(_, b)| week_start(b))
        .or_else(|| weeks.keys().next_back().copied());
    if let (Some(first), Some(last)) = (first, last) {
        let mut w = first;
        while w <= last {
            weekly.push((w, weeks.get(&w).copied().unwrap_or(0)));
            w += 7;
        }
    }
    days_to_answer.sort_by(f64::total_cmp);
    let quantile =
        |q: f64| (!days_to_answer.is_empty()).then(|| quantile_sorted(&days_to_answer, q));
    Details {
        label,
        total,
        by_category: top(by_category, usize::MAX),
        weekly,
        by_status: top(by_status, usize::MAX),
        answered: days_to_answer.len() as u64,
        resolution_median_days: quantile(0.5),
        resolution_p90_days: quantile(0.9),
        top_settlements: top(settlements, 10),
        top_addresses: top(addresses, 10),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weeks_start_on_monday() {
        // 2021-11-01 was a Monday, 2021-11-07 a Sunday.
        let monday = crate::analysis::day_number(jiff::civil::date(2021, 11, 1));
        assert_eq!(week_start(monday), monday);
        assert_eq!(week_start(monday + 6), monday);
        assert_eq!(week_start(monday + 7), monday + 7);
        assert_eq!(week_start(monday - 1), monday - 7);
    }
}
