//! The one `Filter` shared by every layer, table, chart and command: a date range (calendar days
//! in the appeal's local time, both ends inclusive), a selection in the category tree, and sets
//! of sources, statuses and municipalities (an empty set means no restriction). It is compiled to
//! lookup tables by [`super::Masks`]; its meaning in SQL is [`Filter::to_sql_where`].

use std::collections::BTreeSet;

use jiff::ToSpan as _;
use jiff::civil::Date;

use super::engine::{Columns, Masks};
use super::resolve::MunicipalityResolution;
use crate::data::Appeals;

/// Which appeals to count.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Filter {
    /// First day included (local date of `received_at`).
    pub from: Option<Date>,
    /// Last day included.
    pub to: Option<Date>,
    /// Whole categories selected.
    pub categories: BTreeSet<String>,
    /// Single (category, subcategory) leaves selected; `""` is "no subcategory".
    pub subcategories: BTreeSet<(String, String)>,
    pub sources: BTreeSet<String>,
    pub statuses: BTreeSet<String>,
    /// Municipality names as the user wrote them (any variant of a canonical name; `""` is the
    /// "outside boundaries / unknown" bucket).
    pub municipalities: BTreeSet<String>,
}

/// A filter that cannot be applied.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum FilterError {
    #[error("date range is empty: from {from} is after to {to}")]
    EmptyRange { from: Date, to: Date },
    #[error("invalid date {0:?}: expected YYYY-MM-DD")]
    BadDate(String),
    #[error("invalid subcategory {0:?}: expected CATEGORY/SUBCATEGORY")]
    BadSubcategory(String),
}

/// Quick date ranges, anchored at a day (today, or the last day of historic data).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum DatePreset {
    Today,
    Last7Days,
    Last30Days,
    /// The calendar quarter of the anchor day, up to it.
    Quarter,
    /// The calendar year of the anchor day, up to it.
    Year,
    All,
}

impl DatePreset {
    /// Every preset, in menu order.
    pub const ALL: [DatePreset; 6] = [
        DatePreset::Today,
        DatePreset::Last7Days,
        DatePreset::Last30Days,
        DatePreset::Quarter,
        DatePreset::Year,
        DatePreset::All,
    ];

    /// The (from, to) range of the preset ending at `anchor`; `None` for all time.
    pub fn range(self, anchor: Date) -> Option<(Date, Date)> {
        let back = |days: i64| anchor.checked_sub(days.days()).unwrap_or(anchor);
        match self {
            DatePreset::Today => Some((anchor, anchor)),
            DatePreset::Last7Days => Some((back(6), anchor)),
            DatePreset::Last30Days => Some((back(29), anchor)),
            DatePreset::Quarter => {
                let first_month = (anchor.month() - 1) / 3 * 3 + 1;
                Some((
                    Date::new(anchor.year(), first_month, 1).unwrap_or(anchor),
                    anchor,
                ))
            }
            DatePreset::Year => Some((Date::new(anchor.year(), 1, 1).unwrap_or(anchor), anchor)),
            DatePreset::All => None,
        }
    }
}

impl Filter {
    /// True when nothing is restricted.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// Parses a `YYYY-MM-DD` date for `--from`/`--to`.
    ///
    /// # Errors
    /// [`FilterError::BadDate`].
    pub fn parse_date(text: &str) -> Result<Date, FilterError> {
        if text.trim().len() != 10 {
            return Err(FilterError::BadDate(text.to_owned()));
        }
        crate::data::parse_local_date(text).ok_or_else(|| FilterError::BadDate(text.to_owned()))
    }

    /// Parses `CATEGORY/SUBCATEGORY` for `--subcategory` (split at the last `/`).
    ///
    /// # Errors
    /// [`FilterError::BadSubcategory`] without a `/`.
    pub fn parse_subcategory(text: &str) -> Result<(String, String), FilterError> {
        let (category, subcategory) = text
            .rsplit_once('/')
            .ok_or_else(|| FilterError::BadSubcategory(text.to_owned()))?;
        Ok((category.trim().to_owned(), subcategory.trim().to_owned()))
    }

    /// Checks the filter's consistency.
    ///
    /// # Errors
    /// [`FilterError::EmptyRange`] when `from` is after `to`.
    pub fn validate(&self) -> Result<(), FilterError> {
        match (self.from, self.to) {
            (Some(from), Some(to)) if from > to => Err(FilterError::EmptyRange { from, to }),
            _ => Ok(()),
        }
    }

    /// Indices of the rows the filter keeps, in row order. A row whose `received_at` cannot be
    /// parsed is kept only when no date bound is set (it still counts in all-time totals).
    pub fn apply(&self, appeals: &Appeals, municipalities: &MunicipalityResolution) -> Vec<u32> {
        let columns = Columns::new(appeals, municipalities);
        Masks::new(self, appeals, municipalities, &columns).rows(&columns)
    }

    /// What PostgreSQL can apply of this filter for the pushdown strategy: a superset of its
    /// rows (the dates, the categories of the selected tree, sources, statuses); the exact
    /// filter (leaves, municipalities) is applied locally to the grouped rows.
    pub fn prefilter(&self) -> crate::data::pushdown::Prefilter {
        let mut categories: BTreeSet<String> = self.categories.clone();
        categories.extend(self.subcategories.iter().map(|(c, _)| c.clone()));
        crate::data::pushdown::Prefilter {
            from: self.from,
            to: self.to,
            categories: categories.into_iter().collect(),
            sources: self.sources.iter().cloned().collect(),
            statuses: self.statuses.iter().cloned().collect(),
        }
    }

    /// The filter as the server applies it exactly for the density's bins (the municipality,
    /// which needs the client's resolution, left to the caller).
    pub fn exact_filter(&self) -> crate::data::pushdown::ExactFilter {
        crate::data::pushdown::ExactFilter {
            from: self.from,
            to: self.to,
            categories: self.categories.iter().cloned().collect(),
            leaves: self.subcategories.iter().cloned().collect(),
            sources: self.sources.iter().cloned().collect(),
            statuses: self.statuses.iter().cloned().collect(),
            municipality_texts: None,
        }
    }

    /// Whether a `received_at` text lies in the filter's days, as the loader dates it.
    pub fn receives_in_range(&self, received_at: &str) -> bool {
        crate::data::parse_local_date(received_at)
            .is_some_and(|d| self.from.is_none_or(|f| d >= f) && self.to.is_none_or(|t| d <= t))
    }

    /// The same filter as an SQL `WHERE` clause over the `appeals` table, with its parameters,
    /// for checking the in-memory results (valid when the `municipality` texts are canonical
    /// names and `received_at` is well-formed).
    pub fn to_sql_where(&self) -> (String, Vec<String>) {
        let mut clauses = Vec::new();
        let mut params = Vec::new();
        if let Some(from) = self.from {
            clauses.push("substr(received_at, 1, 10) >= ?".to_owned());
            params.push(from.to_string());
        }
        if let Some(to) = self.to {
            clauses.push("substr(received_at, 1, 10) <= ?".to_owned());
            params.push(to.to_string());
        }
        let mut tree = Vec::new();
        if !self.categories.is_empty() {
            tree.push(format!(
                "category IN ({})",
                vec!["?"; self.categories.len()].join(", ")
            ));
            params.extend(self.categories.iter().cloned());
        }
        for (category, subcategory) in &self.subcategories {
            tree.push("(category = ? AND coalesce(subcategory, '') = ?)".to_owned());
            params.push(category.clone());
            params.push(subcategory.clone());
        }
        if !tree.is_empty() {
            clauses.push(format!("({})", tree.join(" OR ")));
        }
        for (column, set) in [
            ("source", &self.sources),
            ("status", &self.statuses),
            ("coalesce(municipality, '')", &self.municipalities),
        ] {
            if !set.is_empty() {
                clauses.push(format!("{column} IN ({})", vec!["?"; set.len()].join(", ")));
                params.extend(set.iter().cloned());
            }
        }
        let sql = if clauses.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", clauses.join(" AND "))
        };
        (sql, params)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn presets_end_at_the_anchor() {
        let anchor = date(2021, 11, 15);
        assert_eq!(DatePreset::Today.range(anchor), Some((anchor, anchor)));
        assert_eq!(
            DatePreset::Last7Days.range(anchor),
            Some((date(2021, 11, 9), anchor))
        );
        assert_eq!(
            DatePreset::Last30Days.range(anchor),
            Some((date(2021, 10, 17), anchor))
        );
        assert_eq!(
            DatePreset::Quarter.range(anchor),
            Some((date(2021, 10, 1), anchor))
        );
        assert_eq!(
            DatePreset::Year.range(anchor),
            Some((date(2021, 1, 1), anchor))
        );
        assert_eq!(DatePreset::All.range(anchor), None);
    }

    #[test]
    fn subcategory_syntax() {
        assert_eq!(
            Filter::parse_subcategory("ЖКХ/Отопление"),
            Ok(("ЖКХ".to_owned(), "Отопление".to_owned()))
        );
        assert!(Filter::parse_subcategory("ЖКХ").is_err());
    }
}
