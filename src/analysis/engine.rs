//! The in-memory engine behind every view: the appeals as compact per-row codes
//! ([`Columns`], built once per database and boundaries), a [`Filter`] compiled to lookup tables
//! ([`Masks`]), and one pass over the rows that produces everything the choropleth, the pivot
//! table and the side panel show ([`Aggregates`]). No SQL per filter change.

use jiff::civil::Date;

use super::filter::Filter;
use super::resolve::MunicipalityResolution;
use crate::data::{Appeals, Placement, StatusKind};

/// Day number of a date: days since 1970-01-01 (proleptic Gregorian).
pub fn day_number(date: Date) -> i32 {
    // Howard Hinnant's days_from_civil.
    let (y, m, d) = (
        i64::from(date.year()),
        i64::from(date.month()),
        i64::from(date.day()),
    );
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    (era * 146_097 + doe - 719_468) as i32
}

/// Date of a day number (inverse of [`day_number`]).
pub fn date_of_day(day: i32) -> Date {
    let z = i64::from(day) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    Date::new(y as i16, m as i8, d as i8).unwrap_or_default()
}

/// Day number of rows whose date cannot be read.
pub const NO_DAY: i32 = i32::MIN;

/// A category with one of its subcategories (or none): the leaves of the category tree.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Leaf {
    pub category: u32,
    pub subcategory: Option<u32>,
}

/// The appeals as compact codes, one `Vec` per field, row `i` everywhere the same appeal.
#[derive(Clone, Debug, Default)]
pub struct Columns {
    /// Local receipt day ([`day_number`]), [`NO_DAY`] when unparsable.
    pub day: Vec<i32>,
    /// Index into [`Self::leaves`].
    pub leaf: Vec<u32>,
    pub leaves: Vec<Leaf>,
    /// Category code of each leaf.
    pub leaf_category: Vec<u32>,
    pub source: Vec<u32>,
    pub status: Vec<u32>,
    /// Municipality label code ([`MunicipalityResolution::row_label`]).
    pub label: Vec<u32>,
    pub placed: Vec<bool>,
    /// Days from receipt to answer; NaN when not answered or a date is unreadable.
    pub resolution_days: Vec<f32>,
    /// For each status code: not yet answered (`new`, `in_progress`, or another text).
    pub status_unresolved: Vec<bool>,
    pub n_labels: usize,
    pub n_categories: usize,
    pub n_sources: usize,
    pub n_statuses: usize,
    /// First and last receipt day.
    pub day_range: Option<(i32, i32)>,
    /// Appeals each row stands for (the pushdown strategy's grouped rows,
    /// `data::pushdown::Grouped`); empty when every row is one appeal.
    pub weight: Vec<u64>,
}

impl Columns {
    /// Builds the codes for `appeals` with their municipality `resolution`.
    pub fn new(appeals: &Appeals, resolution: &MunicipalityResolution) -> Self {
        let n = appeals.len();
        let n_sub = appeals.subcategories.len() + 1;
        let mut leaf_of_pair: std::collections::HashMap<(u32, u32), u32> =
            std::collections::HashMap::new();
        let mut leaves = Vec::new();
        let mut leaf = Vec::with_capacity(n);
        for i in 0..n {
            let category = appeals.category.get(i).copied().unwrap_or(0);
            let subcategory = appeals.subcategory.get(i).copied().flatten();
            let key = (category, subcategory.map_or(0, |s| s + 1));
            let code = *leaf_of_pair.entry(key).or_insert_with(|| {
                leaves.push(Leaf {
                    category,
                    subcategory,
                });
                (leaves.len() - 1) as u32
            });
            leaf.push(code);
        }
        debug_assert!(leaves.len() <= appeals.categories.len() * n_sub);
        let day: Vec<i32> = appeals
            .received
            .iter()
            .map(|t| t.map_or(NO_DAY, |t| day_number(t.date())))
            .collect();
        let resolution_days = appeals
            .received
            .iter()
            .zip(&appeals.resolved)
            .map(|(r, s)| match (r, s) {
                // An answer before the receipt is a data error: left out of the durations.
                (Some(r), Some(s)) if s >= r => {
                    (s.duration_since(*r).as_secs_f64() / 86_400.0) as f32
                }
                _ => f32::NAN,
            })
            .collect();
        let status_unresolved = appeals
            .statuses
            .names()
            .iter()
            .map(|s| {
                !matches!(
                    StatusKind::of(s),
                    StatusKind::Resolved | StatusKind::Rejected
                )
            })
            .collect();
        let valid_days = day.iter().copied().filter(|&d| d != NO_DAY);
        let day_range = valid_days.clone().min().zip(valid_days.max());
        Self {
            leaf_category: leaves.iter().map(|l| l.category).collect(),
            leaves,
            leaf,
            day,
            source: appeals.source.clone(),
            status: appeals.status.clone(),
            label: resolution.row_label.clone(),
            placed: appeals
                .placement
                .iter()
                .map(|p| *p == Placement::Placed)
                .collect(),
            resolution_days,
            status_unresolved,
            n_labels: resolution.labels.len(),
            n_categories: appeals.categories.len(),
            n_sources: appeals.sources.len(),
            n_statuses: appeals.statuses.len(),
            day_range,
            weight: Vec::new(),
        }
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.leaf.len()
    }

    /// True when there are no rows.
    pub fn is_empty(&self) -> bool {
        self.leaf.is_empty()
    }
}

/// A [`Filter`] compiled to lookup tables over the codes of one database.
#[derive(Clone, Debug, Default)]
pub struct Masks {
    /// Inclusive day range of the period; `None` = all time.
    pub days: Option<(i32, i32)>,
    /// The previous period of the same length, for the change metric.
    pub previous: Option<(i32, i32)>,
    pub leaf: Option<Vec<bool>>,
    pub source: Option<Vec<bool>>,
    pub status: Option<Vec<bool>>,
    pub label: Option<Vec<bool>>,
}

impl Masks {
    /// Compiles `filter` for the database `appeals` (whose codes `columns` holds).
    pub fn new(
        filter: &Filter,
        appeals: &Appeals,
        resolution: &MunicipalityResolution,
        columns: &Columns,
    ) -> Self {
        let names = |wanted: &std::collections::BTreeSet<String>,
                     dict: &crate::data::Dict|
         -> Option<Vec<bool>> {
            (!wanted.is_empty()).then(|| dict.names().iter().map(|n| wanted.contains(n)).collect())
        };
        let leaf = (!filter.categories.is_empty() || !filter.subcategories.is_empty()).then(|| {
            columns
                .leaves
                .iter()
                .map(|l| {
                    let category = appeals.categories.name(l.category);
                    let subcategory = l.subcategory.map_or("", |s| appeals.subcategories.name(s));
                    filter.categories.contains(category)
                        || filter
                            .subcategories
                            .contains(&(category.to_owned(), subcategory.to_owned()))
                })
                .collect()
        });
        let label = (!filter.municipalities.is_empty()).then(|| {
            let mut keep = vec![false; resolution.labels.len()];
            for name in &filter.municipalities {
                let code = if name.is_empty() {
                    Some(resolution.unknown_label)
                } else {
                    resolution.label_code(name)
                };
                if let Some(k) = code.and_then(|c| keep.get_mut(c as usize)) {
                    *k = true;
                }
            }
            keep
        });
        let days = match (filter.from, filter.to) {
            (None, None) => None,
            (from, to) => Some((
                from.map_or(i32::MIN + 1, day_number),
                to.map_or(i32::MAX, day_number),
            )),
        };
        let previous = match (filter.from, filter.to) {
            (Some(from), Some(to)) => {
                let (a, b) = (day_number(from), day_number(to));
                let len = b - a + 1;
                Some((a - len, a - 1))
            }
            _ => None,
        };
        Self {
            days,
            previous,
            leaf,
            source: names(&filter.sources, &appeals.sources),
            status: names(&filter.statuses, &appeals.statuses),
            label,
        }
    }

    #[inline]
    fn allowed(table: &Option<Vec<bool>>, code: u32) -> bool {
        match table {
            None => true,
            Some(t) => t.get(code as usize).copied().unwrap_or(false),
        }
    }

    /// Whether row `i` passes everything but the dates.
    #[inline]
    fn passes_codes(&self, c: &Columns, i: usize) -> bool {
        let (Some(&leaf), Some(&source), Some(&status), Some(&label)) = (
            c.leaf.get(i),
            c.source.get(i),
            c.status.get(i),
            c.label.get(i),
        ) else {
            return false;
        };
        Self::allowed(&self.leaf, leaf)
            && Self::allowed(&self.source, source)
            && Self::allowed(&self.status, status)
            && Self::allowed(&self.label, label)
    }

    /// Whether row `i` passes the filter, dates included.
    #[inline]
    pub fn passes(&self, c: &Columns, i: usize) -> bool {
        self.passes_codes(c, i) && in_range(self.days, c.day.get(i).copied().unwrap_or(NO_DAY))
    }

    /// Indices of the rows in the period that pass the filter.
    pub fn rows(&self, c: &Columns) -> Vec<u32> {
        (0..c.len())
            .filter(|&i| {
                self.passes_codes(c, i)
                    && in_range(self.days, c.day.get(i).copied().unwrap_or(NO_DAY))
            })
            .map(|i| i as u32)
            .collect()
    }
}

#[inline]
fn in_range(range: Option<(i32, i32)>, day: i32) -> bool {
    match range {
        None => true,
        Some((from, to)) => day != NO_DAY && day >= from && day <= to,
    }
}

/// Everything one pass over the filtered rows gives.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Aggregates {
    pub total: u64,
    pub placed: u64,
    /// Label × category counts, row-major (`label * n_categories + category`).
    pub pivot: Vec<u64>,
    pub n_categories: usize,
    pub by_label: Vec<u64>,
    pub by_category: Vec<u64>,
    pub by_source: Vec<u64>,
    pub by_status: Vec<u64>,
    pub unresolved_by_label: Vec<u64>,
    /// Counts of the previous period of the same length, when the period is a date range.
    pub previous_by_label: Option<Vec<u64>>,
    /// The previous period lies entirely within the data (else a change against it would
    /// compare with days that have no appeals loaded).
    pub previous_complete: bool,
    /// First and last receipt day among the counted rows.
    pub day_range: Option<(i32, i32)>,
}

impl Aggregates {
    /// Count of one pivot cell.
    pub fn cell(&self, label: u32, category: u32) -> u64 {
        self.pivot
            .get(label as usize * self.n_categories + category as usize)
            .copied()
            .unwrap_or(0)
    }
}

/// One pass over `columns` with `masks`: the choropleth, pivot and side-panel numbers.
pub fn aggregate(c: &Columns, masks: &Masks) -> Aggregates {
    let n_cat = c.n_categories;
    let mut a = Aggregates {
        pivot: vec![0; c.n_labels * n_cat],
        n_categories: n_cat,
        by_label: vec![0; c.n_labels],
        by_category: vec![0; n_cat],
        by_source: vec![0; c.n_sources],
        by_status: vec![0; c.n_statuses],
        unresolved_by_label: vec![0; c.n_labels],
        previous_by_label: masks.previous.map(|_| vec![0; c.n_labels]),
        ..Aggregates::default()
    };
    let (mut first, mut last) = (i32::MAX, i32::MIN);
    for i in 0..c.len() {
        if !masks.passes_codes(c, i) {
            continue;
        }
        let day = c.day.get(i).copied().unwrap_or(NO_DAY);
        let label = c.label.get(i).copied().unwrap_or(0) as usize;
        let w = c.weight.get(i).copied().unwrap_or(1);
        if in_range(masks.days, day) {
            let leaf = c.leaf.get(i).copied().unwrap_or(0) as usize;
            let category = c.leaf_category.get(leaf).copied().unwrap_or(0) as usize;
            let status = c.status.get(i).copied().unwrap_or(0) as usize;
            a.total += w;
            if c.placed.get(i).copied().unwrap_or(false) {
                a.placed += w;
            }
            if let Some(x) = a.pivot.get_mut(label * n_cat + category) {
                *x += w;
            }
            if let Some(x) = a.by_label.get_mut(label) {
                *x += w;
            }
            if let Some(x) = a.by_category.get_mut(category) {
                *x += w;
            }
            if let Some(x) = c
                .source
                .get(i)
                .and_then(|&s| a.by_source.get_mut(s as usize))
            {
                *x += w;
            }
            if let Some(x) = a.by_status.get_mut(status) {
                *x += w;
            }
            if c.status_unresolved.get(status).copied().unwrap_or(false)
                && let Some(x) = a.unresolved_by_label.get_mut(label)
            {
                *x += w;
            }
            if day != NO_DAY {
                first = first.min(day);
                last = last.max(day);
            }
        } else if in_range(masks.previous, day)
            && let Some(x) = a.previous_by_label.as_mut().and_then(|p| p.get_mut(label))
        {
            *x += w;
        }
    }
    a.day_range = (first <= last).then_some((first, last));
    a.previous_complete = match (masks.previous, c.day_range) {
        (Some((from, _)), Some((data_first, _))) => from >= data_first,
        _ => false,
    };
    a
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn day_numbers_round_trip() {
        assert_eq!(day_number(date(1970, 1, 1)), 0);
        assert_eq!(day_number(date(2021, 1, 1)), 18_628);
        for d in [
            date(2020, 2, 29),
            date(2021, 12, 31),
            date(1969, 12, 31),
            date(2000, 3, 1),
        ] {
            assert_eq!(date_of_day(day_number(d)), d);
        }
    }
}
