//! The pushdown strategy's server side: a [`Prefilter`] compiled to a parameterised SQL `WHERE`
//! over a [`PgStore`]'s table, and `GROUP BY` queries in one read-only snapshot that return
//! **grouped appeals** ([`Grouped`]): one row per distinct combination of the values the
//! in-memory engine looks at, with its row count, instead of the rows themselves.
//!
//! Exactness rests on two rules:
//! - The `WHERE` is only a *prefilter*: it may keep rows the shared filter drops (a clause it
//!   cannot express exactly is left out), never the reverse. The exact filter is then applied
//!   locally, by the same code as for loaded rows, to the grouped rows.
//! - The grouped values go through the loader's own per-row validation (`store::push_row`), so
//!   dictionaries, parsed dates and placements are what a load gives. `received_at` is grouped
//!   by its first 10 characters when it has the plain ISO shape (whose local day the loader
//!   takes from those characters), else by its whole text (parsed locally like a loaded row);
//!   `lat`/`lon` only for rows without a municipality text (the only rows the resolution places
//!   by point-in-polygon), so those arrive one group per distinct point.

use jiff::civil::Date;
use rusqlite::types::ValueRef;

use super::model::{Appeals, Quality};
use super::postgres::{CellKind, PgError, PgStore};
use super::store::push_row;

/// The parts of the shared filter the server can apply (a superset of the filter's rows).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Prefilter {
    /// First local day included.
    pub from: Option<Date>,
    /// Last local day included.
    pub to: Option<Date>,
    /// Categories any selected row can have (whole categories and those of selected leaves);
    /// empty = any.
    pub categories: Vec<String>,
    /// Sources; empty = any.
    pub sources: Vec<String>,
    /// Statuses; empty = any.
    pub statuses: Vec<String>,
}

/// Appeals grouped server-side: `appeals` holds one row per group, `weights` its row count.
#[derive(Clone, Debug, Default)]
pub struct Grouped {
    pub appeals: Appeals,
    pub weights: Vec<u64>,
}

impl Grouped {
    /// Rows counted in all groups.
    pub fn rows(&self) -> u64 {
        self.weights.iter().sum()
    }
}

/// The plain ISO shape whose local day is its first 10 characters whenever the loader can parse
/// it (`YYYY-MM-DD`, optionally `T`/space `HH:MM:SS[.f…]` and `Z` or an offset): exactly what
/// `data::time::parse_timestamp` accepts for these shapes, the date part being checked locally.
const PLAIN_ISO: &str = "^[0-9]{4}-[0-9]{2}-[0-9]{2}([T ]([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\\.[0-9]{1,9})?(Z|[+-][0-9]{2}(:?[0-9]{2})?)?)?$";

/// Blank as the loader's `non_blank` sees it (NULL, or only ASCII whitespace).
fn blank_sql(expr: &str, kind: CellKind) -> String {
    match kind {
        CellKind::Text => format!("({expr} IS NULL OR {expr} !~ '[^ \\t\\n\\f\\r]')"),
        CellKind::Null => "true".to_owned(),
        _ => format!("({expr} IS NULL)"),
    }
}

/// The `WHERE` of `prefilter` over the store's expressions, with its text parameters.
fn where_sql(store: &PgStore, prefilter: &Prefilter) -> (String, Vec<Param>) {
    let (exprs, kinds, _) = store.cells();
    let expr = |i: usize| exprs.get(i).map_or("NULL", String::as_str);
    let text = |i: usize| kinds.get(i) == Some(&CellKind::Text);
    let mut clauses = Vec::new();
    let mut params: Vec<Param> = Vec::new();
    if text(1) && (prefilter.from.is_some() || prefilter.to.is_some()) {
        let received = expr(1);
        let mut bounds = Vec::new();
        if let Some(from) = prefilter.from {
            params.push(Param::Text(from.to_string()));
            bounds.push(format!("left({received}, 10) >= ${}", params.len()));
        }
        if let Some(to) = prefilter.to {
            params.push(Param::Text(to.to_string()));
            bounds.push(format!("left({received}, 10) <= ${}", params.len()));
        }
        // Rows of another shape are kept and judged locally.
        clauses.push(format!(
            "(CASE WHEN {received} ~ '{PLAIN_ISO}' THEN {} ELSE true END)",
            bounds.join(" AND ")
        ));
    }
    for (index, set) in [
        (3, &prefilter.categories),
        (2, &prefilter.sources),
        (4, &prefilter.statuses),
    ] {
        if text(index) && !set.is_empty() {
            params.push(Param::List(set.clone()));
            clauses.push(format!(
                "coalesce({}, '') = ANY(${})",
                expr(index),
                params.len()
            ));
        }
    }
    let sql = if clauses.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", clauses.join(" AND "))
    };
    (sql, params)
}

/// A bound parameter.
#[derive(Clone, Debug)]
enum Param {
    Text(String),
    List(Vec<String>),
}

fn bind(params: &[Param]) -> Vec<&(dyn postgres::types::ToSql + Sync)> {
    params
        .iter()
        .map(|p| match p {
            Param::Text(t) => t as &(dyn postgres::types::ToSql + Sync),
            Param::List(l) => l as &(dyn postgres::types::ToSql + Sync),
        })
        .collect()
}

/// Rows of the table the prefilter keeps: one `count(*)` (for the `auto` strategy's choice).
///
/// # Errors
/// [`PgError::Server`].
pub fn count(store: &PgStore, prefilter: &Prefilter) -> Result<u64, PgError> {
    let (_, _, table) = store.cells();
    let (where_sql, params) = where_sql(store, prefilter);
    let sql = format!("SELECT count(*)::int8 FROM {table}{where_sql}");
    store.with_snapshot(|tx| {
        let row = tx.query_one(sql.as_str(), &bind(&params))?;
        Ok(u64::try_from(row.try_get::<_, i64>(0)?).unwrap_or(0))
    })
}

/// What [`grouped`] groups by besides the filter's own columns.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GroupBy {
    /// Also the settlement (for `stats --by settlement`).
    pub settlement: bool,
}

/// The prefilter's rows grouped by every value the engine looks at (local day, source,
/// category, status, subcategory, municipality text, and the point of rows without a text),
/// in one snapshot.
///
/// # Errors
/// [`PgError::Server`]; [`PgError::WrongType`] for a value a load would refuse too.
pub fn grouped(
    store: &PgStore,
    prefilter: Option<&Prefilter>,
    by: GroupBy,
) -> Result<Grouped, PgError> {
    let (exprs, kinds, table) = store.cells();
    let expr = |i: usize| exprs.get(i).cloned().unwrap_or_else(|| "NULL".to_owned());
    let kind = |i: usize| kinds.get(i).copied().unwrap_or(CellKind::Null);
    let received = if kind(1) == CellKind::Text {
        let e = expr(1);
        format!("CASE WHEN {e} ~ '{PLAIN_ISO}' THEN left({e}, 10) ELSE {e} END")
    } else {
        expr(1)
    };
    let no_text = blank_sql(&expr(6), kind(6));
    let mut select = vec![
        received,
        expr(2),
        expr(3),
        expr(4),
        expr(5),
        expr(6),
        if by.settlement {
            expr(7)
        } else {
            "NULL".to_owned()
        },
        format!("CASE WHEN {no_text} THEN {} END", expr(8)),
        format!("CASE WHEN {no_text} THEN {} END", expr(9)),
    ];
    let group: Vec<String> = (1..=select.len()).map(|i| i.to_string()).collect();
    select.push("count(*)::int8".to_owned());
    let (where_sql, params) = match prefilter {
        Some(p) => where_sql(store, p),
        None => (String::new(), Vec::new()),
    };
    let sql = format!(
        "SELECT {} FROM {table}{where_sql} GROUP BY {}",
        select.join(", "),
        group.join(", ")
    );
    // Result column → the loader's column (LOADED_COLUMNS order) and its kind.
    let columns: [(usize, CellKind); 9] = [
        (1, kind(1)),
        (2, kind(2)),
        (3, kind(3)),
        (4, kind(4)),
        (5, kind(5)),
        (6, kind(6)),
        (
            7,
            if by.settlement {
                kind(7)
            } else {
                CellKind::Null
            },
        ),
        (8, kind(8)),
        (9, kind(9)),
    ];
    let result = store.with_snapshot(|tx| {
        let rows = tx.query(sql.as_str(), &bind(&params))?;
        let mut out = Grouped::default();
        let mut quality = Quality::default();
        for (n, row) in rows.iter().enumerate() {
            let mut values = [ValueRef::Null; 12];
            for (i, (column, kind)) in columns.iter().enumerate() {
                let Some(slot) = values.get_mut(*column) else {
                    continue;
                };
                *slot = match kind {
                    CellKind::Null => ValueRef::Null,
                    CellKind::Int => row
                        .try_get::<_, Option<i64>>(i)?
                        .map_or(ValueRef::Null, ValueRef::Integer),
                    CellKind::Float => row
                        .try_get::<_, Option<f64>>(i)?
                        .map_or(ValueRef::Null, ValueRef::Real),
                    CellKind::Text => row
                        .try_get::<_, Option<&str>>(i)?
                        .map_or(ValueRef::Null, |s| ValueRef::Text(s.as_bytes())),
                    CellKind::Bytes => row
                        .try_get::<_, Option<&[u8]>>(i)?
                        .map_or(ValueRef::Null, ValueRef::Blob),
                };
            }
            let weight = row.try_get::<_, i64>(columns.len())?;
            if let Err(bad) = push_row(&mut out.appeals, &mut quality, n as i64, &values) {
                return Ok(Err(bad));
            }
            out.weights.push(u64::try_from(weight).unwrap_or(0));
        }
        out.appeals.quality = quality;
        Ok(Ok(out))
    })?;
    result.map_err(|bad| PgError::WrongType {
        place: format!("{}, table {}", store.target(), store.table()),
        row_id: bad.row_id,
        column: bad.column,
        expected: bad.expected,
        found: bad.found,
    })
}
