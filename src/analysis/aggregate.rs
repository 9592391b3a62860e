//! Grouped counts (`stats --by …`, the side panel's lists): the in-memory equivalent of
//! `SELECT dims…, COUNT(*) … GROUP BY dims…`, sorted by count (descending) then by label.

use std::collections::HashMap;
use std::str::FromStr;

use jiff::civil::DateTime;

use super::engine::Aggregates;
use super::resolve::MunicipalityResolution;
use crate::data::{Appeals, Quality};

/// A dimension to group by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Dim {
    /// Canonical municipality (unmatched texts as written; empty when not given).
    Municipality,
    Category,
    Subcategory,
    Source,
    Status,
    Settlement,
    /// `YYYY-MM` of the local receipt date.
    Month,
}

impl Dim {
    /// All dimensions, in the order `--by` lists them.
    pub const ALL: [Dim; 7] = [
        Dim::Municipality,
        Dim::Category,
        Dim::Subcategory,
        Dim::Source,
        Dim::Status,
        Dim::Settlement,
        Dim::Month,
    ];

    /// Name on the command line and in CSV headers.
    pub fn name(self) -> &'static str {
        match self {
            Dim::Municipality => "municipality",
            Dim::Category => "category",
            Dim::Subcategory => "subcategory",
            Dim::Source => "source",
            Dim::Status => "status",
            Dim::Settlement => "settlement",
            Dim::Month => "month",
        }
    }
}

impl FromStr for Dim {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        Dim::ALL
            .into_iter()
            .find(|d| d.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                let names: Vec<_> = Dim::ALL.iter().map(|d| d.name()).collect();
                format!(
                    "unknown dimension {s:?}; expected one of {}",
                    names.join(", ")
                )
            })
    }
}

/// One group: its labels (one per dimension, empty for NULL) and its row count.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupCount {
    pub keys: Vec<String>,
    pub count: u64,
}

const NONE: u32 = u32::MAX;

/// Counts `rows` of `appeals` grouped by `dims`.
pub fn group_counts(
    appeals: &Appeals,
    municipalities: &MunicipalityResolution,
    rows: &[u32],
    dims: &[Dim],
) -> Vec<GroupCount> {
    group_counts_weighted(appeals, municipalities, rows, dims, None)
}

/// [`group_counts`] where row `i` stands for `weights[i]` appeals (the pushdown strategy's
/// grouped rows, `data::pushdown::Grouped`); `None` counts each row once.
pub fn group_counts_weighted(
    appeals: &Appeals,
    municipalities: &MunicipalityResolution,
    rows: &[u32],
    dims: &[Dim],
    weights: Option<&[u64]>,
) -> Vec<GroupCount> {
    let month_of = |t: Option<DateTime>| {
        t.and_then(|t| u32::try_from(i32::from(t.year()) * 12 + i32::from(t.month()) - 1).ok())
            .unwrap_or(NONE)
    };
    let code = |dim: Dim, i: usize| -> u32 {
        match dim {
            Dim::Municipality => municipalities
                .row_label
                .get(i)
                .copied()
                .filter(|&l| l != municipalities.unknown_label)
                .unwrap_or(NONE),
            Dim::Category => appeals.category.get(i).copied().unwrap_or(NONE),
            Dim::Subcategory => appeals
                .subcategory
                .get(i)
                .copied()
                .flatten()
                .unwrap_or(NONE),
            Dim::Source => appeals.source.get(i).copied().unwrap_or(NONE),
            Dim::Status => appeals.status.get(i).copied().unwrap_or(NONE),
            Dim::Settlement => appeals.settlement.get(i).copied().flatten().unwrap_or(NONE),
            Dim::Month => month_of(appeals.received.get(i).copied().flatten()),
        }
    };
    let label = |dim: Dim, code: u32| -> String {
        if code == NONE {
            return String::new();
        }
        match dim {
            Dim::Municipality => municipalities
                .labels
                .get(code as usize)
                .cloned()
                .unwrap_or_default(),
            Dim::Category => appeals.categories.name(code).to_owned(),
            Dim::Subcategory => appeals.subcategories.name(code).to_owned(),
            Dim::Source => appeals.sources.name(code).to_owned(),
            Dim::Status => appeals.statuses.name(code).to_owned(),
            Dim::Settlement => appeals.settlements.name(code).to_owned(),
            Dim::Month => format!("{:04}-{:02}", code / 12, code % 12 + 1),
        }
    };
    // A fixed-size key: no allocation per row.
    let mut counts: HashMap<[u32; Dim::ALL.len()], u64> = HashMap::new();
    for &row in rows {
        let mut key = [NONE; Dim::ALL.len()];
        for (slot, &d) in key.iter_mut().zip(dims) {
            *slot = code(d, row as usize);
        }
        let weight = weights.map_or(1, |w| w.get(row as usize).copied().unwrap_or(0));
        *counts.entry(key).or_default() += weight;
    }
    let mut groups: Vec<GroupCount> = counts
        .into_iter()
        .map(|(key, count)| GroupCount {
            keys: dims.iter().zip(&key).map(|(&d, &c)| label(d, c)).collect(),
            count,
        })
        .collect();
    groups.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.keys.cmp(&b.keys)));
    groups
}

/// What the side panel and `check` show for a set of rows.
#[derive(Clone, Debug, Default)]
pub struct Summary {
    /// Rows counted.
    pub total: u64,
    /// Of them, rows with coordinates on the map.
    pub placed: u64,
    /// Earliest and latest local receipt time.
    pub received_range: Option<(DateTime, DateTime)>,
    /// First and last local receipt day.
    pub days: Option<(jiff::civil::Date, jiff::civil::Date)>,
    pub by_category: Vec<(String, u64)>,
    pub by_municipality: Vec<(String, u64)>,
    pub by_source: Vec<(String, u64)>,
    pub by_status: Vec<(String, u64)>,
    /// Data-quality figures of the whole database.
    pub quality: Quality,
    /// Municipality texts that matched no unit, with row counts.
    pub unmatched_municipalities: Vec<(String, u64)>,
    /// Rows with no municipality text.
    pub no_municipality: u64,
    /// Of them, placed into a polygon by their coordinates.
    pub assigned_by_point: u64,
    /// Rows in the "outside boundaries / unknown" bucket.
    pub unknown_municipality: u64,
    /// Rows whose text and point name different municipalities (the text wins).
    pub municipality_disagreements: u64,
}

/// The [`Summary`] of one pass of the engine ([`Aggregates`]) — the side panel for the current
/// filter, `check` for the whole database. `received_range` is left to the caller
/// ([`Appeals::received_range`]): the engine counts days, not times.
pub fn summary_of(
    a: &Aggregates,
    appeals: &Appeals,
    municipalities: &MunicipalityResolution,
) -> Summary {
    let list = |counts: &[u64], name: &dyn Fn(u32) -> String| -> Vec<(String, u64)> {
        let mut items: Vec<(String, u64)> = counts
            .iter()
            .enumerate()
            .filter(|(_, n)| **n > 0)
            .map(|(code, n)| (name(code as u32), *n))
            .collect();
        items.sort_by(|x, y| y.1.cmp(&x.1).then_with(|| x.0.cmp(&y.0)));
        items
    };
    Summary {
        total: a.total,
        placed: a.placed,
        received_range: None,
        days: a
            .day_range
            .map(|(f, l)| (super::engine::date_of_day(f), super::engine::date_of_day(l))),
        by_category: list(&a.by_category, &|c| appeals.categories.name(c).to_owned()),
        by_municipality: list(&a.by_label, &|l| municipalities.label(l).to_owned()),
        by_source: list(&a.by_source, &|s| appeals.sources.name(s).to_owned()),
        by_status: list(&a.by_status, &|s| appeals.statuses.name(s).to_owned()),
        quality: appeals.quality.clone(),
        unmatched_municipalities: municipalities.unmatched.clone(),
        no_municipality: municipalities.missing,
        assigned_by_point: municipalities.assigned_by_point,
        unknown_municipality: municipalities.unknown,
        municipality_disagreements: municipalities.disagreements,
    }
}

/// `check`'s figures of a database (or of one batch of its rows, to [`Summary::merge`]): the
/// whole of it resolved against `boundaries`, unfiltered, with its receipt times' range.
pub fn database_summary(
    appeals: &Appeals,
    boundaries: &crate::spatial::Boundaries,
    locator: &crate::spatial::MunicipalityLocator,
) -> Summary {
    let resolution = MunicipalityResolution::with_boundaries(appeals, Some((boundaries, locator)));
    let columns = super::engine::Columns::new(appeals, &resolution);
    let masks =
        super::engine::Masks::new(&super::Filter::default(), appeals, &resolution, &columns);
    let mut summary = summary_of(
        &super::engine::aggregate(&columns, &masks),
        appeals,
        &resolution,
    );
    summary.received_range = appeals.received_range();
    summary
}

impl Summary {
    /// The summary of this part's rows followed by `later`'s (a later batch of the same
    /// table, in load order): counts added by name, ranges widened, the first examples per
    /// reason kept — the summary of both parts read at once, since every figure of it is
    /// judged row by row. `check` reads a PostgreSQL table this way, a batch at a time.
    pub fn merge(mut self, later: Summary) -> Summary {
        let add = |into: &mut Vec<(String, u64)>, from: Vec<(String, u64)>| {
            let mut by_name: HashMap<String, u64> = into.drain(..).collect();
            for (name, n) in from {
                *by_name.entry(name).or_default() += n;
            }
            into.extend(by_name);
            // As `summary_of` and the resolution order their lists.
            into.sort_by(|x, y| y.1.cmp(&x.1).then_with(|| x.0.cmp(&y.0)));
        };
        let widen = |a: Option<(DateTime, DateTime)>, b: Option<(DateTime, DateTime)>| match (a, b)
        {
            (Some(a), Some(b)) => Some((a.0.min(b.0), a.1.max(b.1))),
            (a, b) => a.or(b),
        };
        self.total += later.total;
        self.placed += later.placed;
        self.received_range = widen(self.received_range, later.received_range);
        self.days = match (self.days, later.days) {
            (Some(a), Some(b)) => Some((a.0.min(b.0), a.1.max(b.1))),
            (a, b) => a.or(b),
        };
        add(&mut self.by_category, later.by_category);
        add(&mut self.by_municipality, later.by_municipality);
        add(&mut self.by_source, later.by_source);
        add(&mut self.by_status, later.by_status);
        add(
            &mut self.unmatched_municipalities,
            later.unmatched_municipalities,
        );
        self.quality.append(later.quality);
        self.no_municipality += later.no_municipality;
        self.assigned_by_point += later.assigned_by_point;
        self.unknown_municipality += later.unknown_municipality;
        self.municipality_disagreements += later.municipality_disagreements;
        self
    }
}
