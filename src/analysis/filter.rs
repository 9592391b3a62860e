//! The one `Filter` shared by every layer, table, chart and command: a date range (calendar days
//! in the appeal's local time, both ends inclusive), and sets of categories, sources, statuses and
//! municipalities (empty set = no restriction). Its meaning in SQL is
//! [`Filter::to_sql_where`], which the tests compare against.

use std::collections::BTreeSet;

use jiff::civil::Date;

use super::resolve::MunicipalityResolution;
use crate::data::Appeals;

/// Which appeals to count.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Filter {
    /// First day included (local date of `received_at`).
    pub from: Option<Date>,
    /// Last day included.
    pub to: Option<Date>,
    pub categories: BTreeSet<String>,
    pub sources: BTreeSet<String>,
    pub statuses: BTreeSet<String>,
    /// Municipality names as the user wrote them (any variant of a canonical name).
    pub municipalities: BTreeSet<String>,
}

/// A filter that cannot be applied.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum FilterError {
    #[error("date range is empty: from {from} is after to {to}")]
    EmptyRange { from: Date, to: Date },
    #[error("invalid date {0:?}: expected YYYY-MM-DD")]
    BadDate(String),
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
        let date = crate::data::parse_local_date(text)
            .ok_or_else(|| FilterError::BadDate(text.to_owned()))?;
        if text.trim().len() != 10 {
            return Err(FilterError::BadDate(text.to_owned()));
        }
        Ok(date)
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

    /// Indices of the rows the filter keeps, in row order.
    ///
    /// A row whose `received_at` cannot be parsed is kept only when no date bound is set (it
    /// still counts in the all-time totals). Municipality names are matched like the data's
    /// (`г. Тюмень` selects `Тюмень`).
    pub fn apply(&self, appeals: &Appeals, municipalities: &MunicipalityResolution) -> Vec<u32> {
        let codes = |wanted: &BTreeSet<String>, dict: &crate::data::Dict| -> Option<Vec<bool>> {
            (!wanted.is_empty()).then(|| dict.names().iter().map(|n| wanted.contains(n)).collect())
        };
        let categories = codes(&self.categories, &appeals.categories);
        let sources = codes(&self.sources, &appeals.sources);
        let statuses = codes(&self.statuses, &appeals.statuses);
        let labels: Option<Vec<bool>> = (!self.municipalities.is_empty()).then(|| {
            let mut keep = vec![false; municipalities.labels.len()];
            for name in &self.municipalities {
                if let Some(k) = municipalities
                    .label_code(name)
                    .and_then(|c| keep.get_mut(c as usize))
                {
                    *k = true;
                }
            }
            keep
        });
        let allowed = |table: &Option<Vec<bool>>, code: u32| {
            table
                .as_ref()
                .is_none_or(|t| t.get(code as usize).copied().unwrap_or(false))
        };
        let dated = self.from.is_some() || self.to.is_some();
        (0..appeals.len())
            .filter(|&i| {
                let (Some(&category), Some(&source), Some(&status)) = (
                    appeals.category.get(i),
                    appeals.source.get(i),
                    appeals.status.get(i),
                ) else {
                    return false;
                };
                if !(allowed(&categories, category)
                    && allowed(&sources, source)
                    && allowed(&statuses, status))
                {
                    return false;
                }
                if labels.is_some() {
                    let label = municipalities.row_label.get(i).copied().flatten();
                    if !label.is_some_and(|l| allowed(&labels, l)) {
                        return false;
                    }
                }
                if dated {
                    let Some(day) = appeals.received.get(i).copied().flatten().map(|t| t.date())
                    else {
                        return false;
                    };
                    if self.from.is_some_and(|from| day < from)
                        || self.to.is_some_and(|to| day > to)
                    {
                        return false;
                    }
                }
                true
            })
            .map(|i| i as u32)
            .collect()
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
        for (column, set) in [
            ("category", &self.categories),
            ("source", &self.sources),
            ("status", &self.statuses),
            ("municipality", &self.municipalities),
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
