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
//!
//! Also here: the window's grouped table ([`grouped_with_check`], [`grouped_after`] for live
//! appends; [`GroupBy::placement`] keeps the load's placement classes and quality counts), the
//! density's bins on a given grid ([`binned_fixed`]), and the rows of a prefilter loaded as a
//! load reads them ([`load_prefiltered`], for the problem map of a grouped table).

use jiff::civil::Date;
use rusqlite::types::ValueRef;

use super::model::{Appeals, Placement};
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

impl Prefilter {
    /// Rows both prefilters keep (a superset of both filters' common rows); `None` when they
    /// have no category, source or status in common, so no row passes both.
    #[must_use]
    pub fn and(&self, other: &Prefilter) -> Option<Prefilter> {
        let both = |a: &Vec<String>, b: &Vec<String>| -> Option<Vec<String>> {
            if a.is_empty() || b.is_empty() {
                return Some(if a.is_empty() { b.clone() } else { a.clone() });
            }
            let common: Vec<String> = a.iter().filter(|x| b.contains(x)).cloned().collect();
            (!common.is_empty()).then_some(common)
        };
        let from = match (self.from, other.from) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        let to = match (self.to, other.to) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        Some(Prefilter {
            from,
            to,
            categories: both(&self.categories, &other.categories)?,
            sources: both(&self.sources, &other.sources)?,
            statuses: both(&self.statuses, &other.statuses)?,
        })
    }
}

/// The rows `prefilter` keeps (none without one), and every row whose municipality text is one
/// of `municipalities`, loaded as [`PgStore::load`] loads rows (in `id` order, each validated by
/// the loader) into `into` (whose dictionaries they continue), in one snapshot.
///
/// # Errors
/// As [`PgStore::load`].
pub fn load_prefiltered(
    store: &PgStore,
    prefilter: Option<&Prefilter>,
    municipalities: &[String],
    into: Appeals,
) -> Result<Appeals, PgError> {
    let (exprs, kinds, table) = store.cells();
    let columns = exprs.join(", ");
    // The prefilter's two disjoint parts, each its own query so that each uses its index.
    // (Without a prefilter, no part: only the named municipalities' rows.)
    let mut w = Where::of(store, prefilter);
    let parts: Vec<String> = match prefilter {
        Some(_) => std::iter::once(w.main.clone())
            .chain(w.residual.clone())
            .collect(),
        None => Vec::new(),
    };
    let mut queries: Vec<String> = parts
        .iter()
        .map(|part| format!("SELECT {columns} FROM {table} WHERE {part}"))
        .collect();
    // The named municipalities' rows that the prefilter does not already bring (no row twice).
    if !municipalities.is_empty() && kinds.get(6) == Some(&CellKind::Text) {
        let list = push_param(&mut w.params, Param::List(municipalities.to_vec()));
        let mut named = format!(
            "{} = ANY({list})",
            exprs.get(6).map_or("NULL", String::as_str)
        );
        for part in &parts {
            named.push_str(&format!(" AND NOT coalesce({part}, false)"));
        }
        queries.push(format!("SELECT {columns} FROM {table} WHERE {named}"));
    }
    if queries.is_empty() {
        return Ok(into);
    }
    let sql = format!(
        "SELECT * FROM ({}) AS loaded ORDER BY 1",
        queries.join(" UNION ALL ")
    );
    store.load_select(&sql, &bind(&w.params), into)
}

/// Appeals grouped server-side: `appeals` holds one row per group, `weights` its row count.
#[derive(Clone, Debug, Default)]
pub struct Grouped {
    pub appeals: Appeals,
    pub weights: Vec<u64>,
    /// With [`GroupBy::placement`], per group the sums of its rows' longitudes and latitudes in
    /// 10⁻⁷ degrees (`round(lon * 1e7)`, as `analysis::problems::coordinate_e7` rounds), over
    /// the rows with coordinates in range — all of them in a group the loader places (its
    /// class is one of the group's values): the settlements' centroids, exactly. Empty
    /// otherwise.
    pub coordinate_sums_e7: Vec<[i64; 2]>,
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
        // Trimming is cheaper than a regular expression on every row (2 s of a 10 M grouping).
        CellKind::Text => format!("({expr} IS NULL OR btrim({expr}, E' \\t\\n\\f\\r') = '')"),
        CellKind::Null => "true".to_owned(),
        _ => format!("({expr} IS NULL)"),
    }
}

/// The conditions of a prefilter (what follows `WHERE`, `true` when nothing is asked): with
/// date bounds, two of them — `main` for the plain ISO shape (exact, served by an index on
/// `received_at COLLATE "C"`) and `residual` for the other shapes (judged locally; a partial
/// index on exactly `received_at !~ '…'` serves it) — whose rows are disjoint. `residual` uses
/// only the first `base_params` parameters.
struct Where {
    main: String,
    residual: Option<String>,
    params: Vec<Param>,
    base_params: usize,
}

impl Where {
    /// Every row (no prefilter).
    fn everything() -> Self {
        Self {
            main: "true".to_owned(),
            residual: None,
            params: Vec::new(),
            base_params: 0,
        }
    }

    /// The conditions of `prefilter`, or every row without one.
    fn of(store: &PgStore, prefilter: Option<&Prefilter>) -> Self {
        prefilter.map_or_else(Self::everything, |p| where_sql(store, p))
    }
}

/// The `WHERE`s of `prefilter` over the store's expressions, with their parameters.
fn where_sql(store: &PgStore, prefilter: &Prefilter) -> Where {
    let (exprs, kinds, _) = store.cells();
    let expr = |i: usize| exprs.get(i).map_or("NULL", String::as_str);
    let text = |i: usize| kinds.get(i) == Some(&CellKind::Text);
    let mut clauses = Vec::new();
    let mut params: Vec<Param> = Vec::new();
    for (index, set) in [
        (3, &prefilter.categories),
        (2, &prefilter.sources),
        (4, &prefilter.statuses),
    ] {
        if text(index) && !set.is_empty() {
            let list = push_param(&mut params, Param::List(set.clone()));
            clauses.push(format!("coalesce({}, '') = ANY({list})", expr(index)));
        }
    }
    let base_params = params.len();
    let join = |clauses: &[String]| {
        if clauses.is_empty() {
            "true".to_owned()
        } else {
            format!("({})", clauses.join(" AND "))
        }
    };
    if !(text(1) && (prefilter.from.is_some() || prefilter.to.is_some())) {
        return Where {
            main: join(&clauses),
            residual: None,
            params,
            base_params,
        };
    }
    let received = expr(1);
    let (_, _, table) = store.cells();
    let mut main = clauses.clone();
    main.push(period_sql(
        received,
        table,
        prefilter.from,
        prefilter.to,
        &mut params,
    ));
    let mut residual = clauses;
    residual.push(format!("{received} !~ '{PLAIN_ISO}'"));
    Where {
        main: join(&main),
        residual: Some(join(&residual)),
        params,
        base_params,
    }
}

/// True for the rows whose `received` has the plain ISO shape and whose day lies in the
/// period (either bound may be absent; `true` without both): a text range the index on
/// `received_at COLLATE "C"` serves, then, for a bounded period, the valid days as text ranges
/// per month (`width_bucket`, see [`valid_day_bounds`]) and the rows of other shapes left out
/// by an anti-join on their texts — comparisons, where checking each row's shape by regular
/// expression and its date by arithmetic took 10 s for a year of 10 M rows (now 2 s). An
/// unbounded side falls back to those per-row checks ([`plain_date_sql`]). The rows of other
/// shapes are the residual query's, judged locally.
fn period_sql(
    received: &str,
    table: &str,
    from: Option<Date>,
    to: Option<Date>,
    params: &mut Vec<Param>,
) -> String {
    let period = Period::new(received, table, from, to, params);
    period.sql(true, true, params)
}

/// [`period_sql`] in parts a query may leave out when it has seen, in the same snapshot, that
/// no row it filters needs them: the anti-join on rows of other shapes (none has another
/// shape), and the valid-days check (no plain-shaped row lies in a [gap](Self::gaps_sql)).
struct Period {
    /// The text range, or the per-row checks of a period bounded on one side only.
    conditions: Vec<String>,
    /// The months' valid days as text bounds (`width_bucket`), for a period bounded on both
    /// sides; its placeholder is added when the SQL is.
    valid_days: Option<Vec<String>>,
    others_out: Option<String>,
    /// The text ranges inside the period's range that hold no valid day of it: between one
    /// month's last valid day and the next month's first (`2021-02-29` up to `2021-03-01`), and
    /// after the last one up to the range's end. Dates only (digits and `-`), so literals.
    gaps: Vec<(String, String)>,
    /// The `received_at` expression.
    received: String,
    /// The text range `[from, day after to)` of a period bounded on both sides whose two
    /// parameters follow the base's (and nothing else of the period's is a parameter).
    range: Option<(String, String)>,
}

impl Period {
    fn new(
        received: &str,
        table: &str,
        from: Option<Date>,
        to: Option<Date>,
        params: &mut Vec<Param>,
    ) -> Self {
        let mut period = Self {
            conditions: Vec::new(),
            valid_days: None,
            others_out: None,
            gaps: Vec::new(),
            received: received.to_owned(),
            range: None,
        };
        if from.is_none() && to.is_none() {
            return period;
        }
        let after = to.and_then(|d| d.tomorrow().ok());
        let bounds = from
            .zip(to)
            .and_then(|(from, to)| valid_day_bounds(from, to));
        let from_day = from;
        let from = from.map(|d| push_param(params, Param::Text(d.to_string())));
        let range = &mut period.conditions;
        if let Some(from) = &from {
            range.push(format!("{received} COLLATE \"C\" >= {from}"));
        }
        // Pushed before `to` (which only the per-row checks use): every placeholder is used.
        if let Some(after) = after {
            let after_param = push_param(params, Param::Text(after.to_string()));
            range.push(format!("{received} COLLATE \"C\" < {after_param}"));
            if let Some(bounds) = &bounds {
                // Each month's end up to the next month's start, and the last one's up to
                // the range's end.
                let starts = bounds.iter().skip(2).step_by(2).cloned();
                let ends = bounds.iter().skip(1).step_by(2);
                period.gaps = ends
                    .zip(starts.chain(std::iter::once(after.to_string())))
                    .filter(|(end, next)| end < &next)
                    .map(|(end, next)| (end.clone(), next))
                    .collect();
            }
        }
        match bounds {
            Some(bounds) => {
                period.range = from_day
                    .zip(after)
                    .map(|(f, a)| (f.to_string(), a.to_string()));
                period.valid_days = Some(bounds);
                // `tk_odd_text` is the derived table's only column, so the outer `received`
                // resolves to the scanned table; PostgreSQL plans it as an anti-join (hashed, or
                // merged along an index range), served by the index on the other shapes when
                // there is one.
                period.others_out = Some(format!(
                    "NOT EXISTS (SELECT 1 FROM (SELECT {received} COLLATE \"C\" AS tk_odd_text \
                     FROM {table} WHERE {received} !~ '{PLAIN_ISO}') AS tk_odd \
                     WHERE tk_odd.tk_odd_text = {received} COLLATE \"C\")"
                ));
            }
            None => {
                let to = to.map(|d| push_param(params, Param::Text(d.to_string())));
                range.push(plain_date_sql(received, from.as_deref(), to.as_deref()));
            }
        }
        period
    }

    /// The SQL (`true` without bounds): with the anti-join on other shapes or
    /// (`with_others_out` false) without, with the valid-days check or (`check_days` false)
    /// only the text range; adds the check's placeholder to `params`.
    fn sql(&self, with_others_out: bool, check_days: bool, params: &mut Vec<Param>) -> String {
        let mut all: Vec<String> = self.conditions.clone();
        if check_days && let Some(bounds) = &self.valid_days {
            let bounds = push_param(params, Param::List(bounds.clone()));
            let received = &self.received;
            all.push(format!(
                "width_bucket({received} COLLATE \"C\", {bounds}::text[]) % 2 <> 0"
            ));
        }
        if with_others_out && let Some(out) = &self.others_out {
            all.push(out.clone());
        }
        if all.is_empty() {
            "true".to_owned()
        } else {
            format!("({})", all.join(" AND "))
        }
    }

    /// True for the rows of a plain shape in a gap of the period (`None` without gaps): with
    /// none of them (and none of another shape), the text range alone keeps exactly the
    /// period's valid days.
    fn gaps_sql(&self, received: &str) -> Option<String> {
        if self.gaps.is_empty() {
            return None;
        }
        let ranges: Vec<String> = self
            .gaps
            .iter()
            .map(|(lo, hi)| {
                format!(
                    "({received} COLLATE \"C\" >= '{lo}' AND {received} COLLATE \"C\" < '{hi}')"
                )
            })
            .collect();
        Some(format!("({})", ranges.join(" OR ")))
    }
}

/// True when `received` has the plain ISO shape, is a calendar date (as `jiff` reads it) and
/// lies between the `from` and `to` placeholders' days (either may be absent).
fn plain_date_sql(received: &str, from: Option<&str>, to: Option<&str>) -> String {
    let r = received;
    let int = |start: usize, len: usize| format!("substr({r}, {start}, {len})::int");
    let (year, month, day) = (int(1, 4), int(6, 2), int(9, 2));
    let mut checks = vec![format!(
        "{month} BETWEEN 1 AND 12 AND {day} BETWEEN 1 AND (CASE {month} WHEN 2 THEN 28 + \
         (CASE WHEN ({year} % 4 = 0 AND {year} % 100 <> 0) OR {year} % 400 = 0 THEN 1 ELSE 0 END) \
         WHEN 4 THEN 30 WHEN 6 THEN 30 WHEN 9 THEN 30 WHEN 11 THEN 30 ELSE 31 END)"
    )];
    if let Some(from) = from {
        checks.push(format!("left({r}, 10) >= {from}"));
    }
    if let Some(to) = to {
        checks.push(format!("left({r}, 10) <= {to}"));
    }
    format!(
        "(CASE WHEN {r} ~ '{PLAIN_ISO}' THEN {} ELSE false END)",
        checks.join(" AND ")
    )
}

/// A bound parameter.
#[derive(Clone, Debug)]
enum Param {
    Text(String),
    List(Vec<String>),
    Float(f64),
    Floats(Vec<f64>),
}

fn bind(params: &[Param]) -> Vec<&(dyn postgres::types::ToSql + Sync)> {
    params
        .iter()
        .map(|p| match p {
            Param::Text(t) => t as &(dyn postgres::types::ToSql + Sync),
            Param::List(l) => l as &(dyn postgres::types::ToSql + Sync),
            Param::Float(f) => f as &(dyn postgres::types::ToSql + Sync),
            Param::Floats(f) => f as &(dyn postgres::types::ToSql + Sync),
        })
        .collect()
}

/// Rows of the table the prefilter keeps: one `count(*)` (for the `auto` strategy's choice).
///
/// # Errors
/// [`PgError::Server`].
pub fn count(store: &PgStore, prefilter: &Prefilter) -> Result<u64, PgError> {
    let (_, _, table) = store.cells();
    let w = where_sql(store, prefilter);
    store.with_snapshot(|tx| {
        let bound = bind(&w.params);
        let mut total = 0;
        let queries = [
            Some((w.main.as_str(), bound.as_slice())),
            w.residual
                .as_deref()
                .map(|r| (r, bound.get(..w.base_params).unwrap_or(&[]))),
        ];
        for (where_sql, params) in queries.into_iter().flatten() {
            let sql = format!("SELECT count(*)::int8 FROM {table} WHERE {where_sql}");
            let row = tx.query_one(sql.as_str(), params)?;
            total += u64::try_from(row.try_get::<_, i64>(0)?).unwrap_or(0);
        }
        Ok(total)
    })
}

/// The placed appeals' box and latitude sum, as `analysis::problems::PlacedExtent` takes them:
/// (count, lon min, lat min, lon max, lat max, sum of `round(lat · 10⁷)`).
pub type PlacedFigures = (u64, f64, f64, f64, f64, i64);

/// What [`placed_points`] hands on: first the figures, then every point.
pub enum PlacedEvent {
    Figures(PlacedFigures),
    Point(f64, f64),
}

/// The rows the loader places ([`placement_sql`] code 0), in one snapshot: first their exact
/// figures ([`PlacedFigures`]: minima, maxima, an integer sum), then every point (lon, lat) in
/// the load's order (`id`), a batch at a time — a pass over a table's points without holding
/// them. False (and nothing handed on) when the coordinate columns are not numbers (the
/// loader's placement is not SQL's then).
///
/// # Errors
/// [`PgError::Server`].
pub fn placed_points(store: &PgStore, each: &mut dyn FnMut(PlacedEvent)) -> Result<bool, PgError> {
    const BATCH: i32 = 50_000;
    if !placement_in_sql(store) {
        return Ok(false);
    }
    let (exprs, _, table) = store.cells();
    let expr = |i: usize| exprs.get(i).cloned().unwrap_or_else(|| "NULL".to_owned());
    let (lon, lat) = (expr(9), expr(8));
    let placed = format!("{} = 0", placement_sql(&lon, &lat));
    // Integer columns read as doubles, as the loader reads them.
    let (lon, lat) = (format!("({lon})::float8"), format!("({lat})::float8"));
    let figures_sql = format!(
        "SELECT count(*)::int8, min({lon}), min({lat}), max({lon}), max({lat}), \
         coalesce(sum(round({lat} * 10000000::float8)::int8), 0)::int8 \
         FROM {table} WHERE {placed}"
    );
    let points_sql = format!(
        "SELECT {lon}, {lat} FROM {table} WHERE {placed} ORDER BY {}",
        store.id_order()
    );
    store.with_snapshot(|tx| {
        let row = tx.query_one(figures_sql.as_str(), &[])?;
        each(PlacedEvent::Figures((
            u64::try_from(row.try_get::<_, i64>(0)?).unwrap_or(0),
            row.try_get::<_, Option<f64>>(1)?.unwrap_or(0.0),
            row.try_get::<_, Option<f64>>(2)?.unwrap_or(0.0),
            row.try_get::<_, Option<f64>>(3)?.unwrap_or(0.0),
            row.try_get::<_, Option<f64>>(4)?.unwrap_or(0.0),
            row.try_get::<_, i64>(5)?,
        )));
        let portal = tx.bind(points_sql.as_str(), &[])?;
        loop {
            let rows = tx.query_portal(&portal, BATCH)?;
            for row in &rows {
                if let (Some(lon), Some(lat)) = (
                    row.try_get::<_, Option<f64>>(0)?,
                    row.try_get::<_, Option<f64>>(1)?,
                ) {
                    each(PlacedEvent::Point(lon, lat));
                }
            }
            if rows.len() < BATCH as usize {
                break;
            }
        }
        Ok(true)
    })
}

/// What [`grouped`] groups by besides the filter's own columns.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GroupBy {
    /// Also the settlement (for `stats --by settlement`).
    pub settlement: bool,
    /// Keep each plain-shaped row's own day (for `stats --by month`); otherwise, when the
    /// prefilter bounds the dates (exactly, for that shape), such rows all carry one day of the
    /// range and only rows of other shapes keep their text.
    pub month: bool,
    /// Only the names present matter (checking a filter's names): no dates, no points.
    pub names_only: bool,
    /// Also where the loader would place rows *with* a municipality text (their points are
    /// not grouped: a placement class is): the window's cube, whose totals of placed appeals
    /// and coordinate problems must be the load's. Needs numeric coordinate columns.
    pub placement: bool,
}

/// The loader's [`Placement`] of numeric coordinates as SQL (`placement_of` in `store`: NaN
/// and infinities are "not numeric", then the ranges, then 0,0), coded as [`placement_code`].
fn placement_sql(lon: &str, lat: &str) -> String {
    let odd = |e: &str| {
        format!("{e}::float8 IN ('NaN'::float8, 'Infinity'::float8, '-Infinity'::float8)")
    };
    format!(
        "CASE WHEN {lat} IS NULL AND {lon} IS NULL THEN 1 \
         WHEN {lat} IS NULL OR {lon} IS NULL THEN 2 \
         WHEN {} OR {} THEN 3 \
         WHEN NOT ({lat} BETWEEN -90 AND 90 AND {lon} BETWEEN -180 AND 180) THEN 4 \
         WHEN {lat} = 0 AND {lon} = 0 THEN 5 ELSE 0 END",
        odd(lat),
        odd(lon)
    )
}

/// The [`Placement`] of a code of [`placement_sql`].
fn placement_code(code: i32) -> Placement {
    match code {
        1 => Placement::Missing,
        2 => Placement::Partial,
        3 => Placement::NotNumeric,
        4 => Placement::OutOfRange,
        5 => Placement::ZeroZero,
        _ => Placement::Placed,
    }
}

/// Whether [`GroupBy::placement`] can be judged in SQL for the store's coordinate columns.
pub fn placement_in_sql(store: &PgStore) -> bool {
    let (_, kinds, _) = store.cells();
    [8, 9].iter().all(|&i| {
        matches!(
            kinds.get(i),
            Some(CellKind::Int | CellKind::Float | CellKind::Null)
        )
    })
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
    Ok(grouped_impl(store, prefilter, by, false, None)?.0)
}

/// The whole table grouped as [`grouped`] does, with the change check's figures
/// ([`PgStore::change_check`]) of the same snapshot: a watcher starting from them misses no
/// commit.
///
/// # Errors
/// As [`grouped`].
pub fn grouped_with_check(
    store: &PgStore,
    by: GroupBy,
) -> Result<(Grouped, super::postgres::ChangeFigures), PgError> {
    let (groups, figures) = grouped_impl(store, None, by, true, None)?;
    Ok((groups, figures.unwrap_or((None, 0, 0))))
}

/// The rows whose `id` is above `after_id` (the newest id of an earlier change check) grouped
/// as [`grouped_with_check`] groups, appended to `into` (whose dictionaries they continue, so
/// codes are what a load of the whole table gives), with the change check's figures of the
/// same snapshot and the number of rows appended. `None` when the `id` column is neither an
/// integer nor text.
///
/// # Errors
/// As [`grouped`].
pub fn grouped_after(
    store: &PgStore,
    by: GroupBy,
    after_id: &str,
    into: Grouped,
) -> Result<Option<(Grouped, super::postgres::ChangeFigures, u64)>, PgError> {
    let before = into.rows();
    let (groups, figures) =
        match grouped_impl(store, None, by, true, Some((after_id.to_owned(), into)))? {
            (groups, Some(figures)) => (groups, figures),
            (_, None) => return Ok(None),
        };
    let added = groups.rows().saturating_sub(before);
    Ok(Some((groups, figures, added)))
}

fn grouped_impl(
    store: &PgStore,
    prefilter: Option<&Prefilter>,
    by: GroupBy,
    check: bool,
    append: Option<(String, Grouped)>,
) -> Result<(Grouped, Option<super::postgres::ChangeFigures>), PgError> {
    let (exprs, kinds, table) = store.cells();
    let expr = |i: usize| exprs.get(i).cloned().unwrap_or_else(|| "NULL".to_owned());
    let kind = |i: usize| kinds.get(i).copied().unwrap_or(CellKind::Null);
    let mut w = Where::of(store, prefilter);
    let mut out = match append {
        Some((after_id, into)) => {
            let cast = match kind(0) {
                CellKind::Int => "bigint",
                CellKind::Text => "text",
                _ => return Ok((into, None)),
            };
            let p = push_param(&mut w.params, Param::Text(after_id));
            w.main = format!("{} > CAST({p}::text AS {cast})", expr(0));
            into
        }
        None => Grouped::default(),
    };
    let e = expr(1);
    // The day key of the main query's rows: with a residual query they all have the plain
    // shape and lie in the range (exactly), so one day of it stands for them unless months
    // are wanted.
    let main_key = match (kind(1), prefilter.and_then(|p| p.from.or(p.to))) {
        _ if by.names_only => "NULL".to_owned(),
        (CellKind::Text, _) if w.residual.is_some() && by.month => format!("left({e}, 10)"),
        (CellKind::Text, Some(day)) if w.residual.is_some() => {
            push_param(&mut w.params, Param::Text(day.to_string()))
        }
        // Without a date bound and a month, no row's day matters.
        _ if !by.month => "NULL".to_owned(),
        (CellKind::Text, _) => {
            format!("CASE WHEN {e} ~ '{PLAIN_ISO}' THEN left({e}, 10) ELSE {e} END")
        }
        _ => e.clone(),
    };
    let no_text = if by.names_only {
        "false".to_owned()
    } else {
        blank_sql(&expr(6), kind(6))
    };
    let select_sql = |key: &str, where_sql: &str| {
        let mut select = vec![
            key.to_owned(),
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
        if by.placement {
            select.push(format!(
                "CASE WHEN {no_text} THEN NULL ELSE {} END",
                placement_sql(&expr(9), &expr(8))
            ));
            // `resolved_at` only as far as the loader's count of unparsable ones needs: a
            // plain ISO text with a real calendar date parses (one stand-in for all), any
            // other text is judged locally.
            let r = expr(10);
            select.push(if kind(10) == CellKind::Text {
                format!(
                    "CASE WHEN {r} IS NULL THEN NULL WHEN {} THEN '2000-01-01' ELSE {r} END",
                    plain_date_sql(&r, None, None)
                )
            } else {
                r
            });
        }
        let group: Vec<String> = (1..=select.len()).map(|i| i.to_string()).collect();
        select.push("count(*)::int8".to_owned());
        // Each group's first row: in that order the groups meet each name where a load meets
        // it first (a group's first row is the first row with any value it has that no
        // earlier group has), so every dictionary gets the load's codes.
        select.push(format!("min({})", expr(0)));
        if by.placement {
            // After the first row's id, which orders the groups (`columns_out`). Numbers out of
            // range (NaN, infinities, metres) would not fit `int8`; the loader does not place
            // them, and their group's sums are not read.
            let (lon, lat) = (expr(9), expr(8));
            for e in [&lon, &lat] {
                select.push(format!(
                    "sum(CASE WHEN abs({lon}) <= 180 AND abs({lat}) <= 90 \
                     THEN round({e} * 10000000::float8)::int8 END)::int8"
                ));
            }
        }
        format!(
            "SELECT {} FROM {table} WHERE {where_sql} GROUP BY {}",
            select.join(", "),
            group.join(", ")
        )
    };
    let columns_out = 11 + 2 * usize::from(by.placement);
    let grouped_sql = match w.residual.as_deref() {
        None => format!("{} ORDER BY {columns_out}", select_sql(&main_key, &w.main)),
        Some(r) => format!(
            "SELECT * FROM ({} UNION ALL {}) AS groups ORDER BY {columns_out}",
            select_sql(&main_key, &w.main),
            select_sql(&e, r)
        ),
    };
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
    // Before the snapshot (see `PgStore::writes_before`).
    let writes = if check { store.writes_before()? } else { 0 };
    let result = store.with_snapshot(|tx| {
        let figures = if check {
            let row = tx.query_one(store.probe_sql(), &[])?;
            Some((
                row.try_get::<_, Option<String>>(0)?,
                row.try_get::<_, Option<i64>>(1)?.unwrap_or(0),
                writes,
            ))
        } else {
            None
        };
        // Streamed as the server sends them (not a cursor, which would forbid a parallel
        // plan; not collected first, which would hold every group twice).
        let params = bind(&w.params);
        let mut rows = tx.query_raw(grouped_sql.as_str(), params.iter().copied())?;
        let mut quality = std::mem::take(&mut out.appeals.quality);
        let mut n = out.appeals.len();
        while let Some(row) = postgres::fallible_iterator::FallibleIterator::next(&mut rows)? {
            let row = &row;
            n += 1;
            let mut values = [ValueRef::Null; 12];
            for (i, (column, kind)) in columns.iter().enumerate() {
                let Some(slot) = values.get_mut(*column) else {
                    continue;
                };
                *slot = kind.value_ref(row, i)?;
            }
            let extra = 2 * usize::from(by.placement);
            let placement = if by.placement {
                if let Some(slot) = values.get_mut(10) {
                    *slot = kind(10).value_ref(row, columns.len() + 1)?;
                }
                row.try_get::<_, Option<i32>>(columns.len())?
                    .map(placement_code)
            } else {
                None
            };
            let weight = u64::try_from(row.try_get::<_, i64>(columns.len() + extra)?).unwrap_or(0);
            let before = quality.counters();
            if let Err(bad) = push_row(&mut out.appeals, &mut quality, n as i64, &values) {
                return Ok(Err(bad));
            }
            if let Some(placement) = placement {
                // The point was not read (the text places the row): the class stands for it.
                quality.no_coordinates = quality.no_coordinates.saturating_sub(1);
                quality.count_placement(placement);
                if let Some(last) = out.appeals.placement.last_mut() {
                    *last = placement;
                }
            }
            if by.placement {
                // The answer time was only read to be judged (its stand-in is no answer time).
                if let Some(last) = out.appeals.resolved.last_mut() {
                    *last = None;
                }
            }
            quality.repeat_since(&before, weight.saturating_sub(1));
            out.weights.push(weight);
            if by.placement {
                let first = columns.len() + extra + 2;
                out.coordinate_sums_e7.push([
                    row.try_get::<_, Option<i64>>(first)?.unwrap_or(0),
                    row.try_get::<_, Option<i64>>(first + 1)?.unwrap_or(0),
                ]);
            }
        }
        // Examples would name groups, not rows (`teplokarta check` lists real ones).
        quality.samples.clear();
        out.appeals.quality = quality;
        Ok(Ok((out, figures)))
    })?;
    result.map_err(|bad| store.wrong_type(bad))
}

/// A filter the server applies exactly (no municipality: that needs the local resolution): the
/// rows it keeps are the rows the shared filter keeps.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ExactFilter {
    pub from: Option<Date>,
    pub to: Option<Date>,
    /// Whole categories.
    pub categories: Vec<String>,
    /// (category, subcategory) leaves; `""` is "no subcategory".
    pub leaves: Vec<(String, String)>,
    pub sources: Vec<String>,
    pub statuses: Vec<String>,
    /// Municipality texts exactly as stored (`None` = any row, with a text or not). With a
    /// list, rows without a text are left out: they are placed by point-in-polygon, which only
    /// the client can do (the window's grouped rows hold their points).
    pub municipality_texts: Option<Vec<String>>,
}

/// Where the fast density mode bins a point (see `analysis::FastBinning`, whose numbers these
/// are). With row edges the server counts, for each point, the column edges at or below its
/// longitude and the row edges at or north of its latitude (`width_bucket`: comparisons only,
/// so exactly the fast mode's bins); without them it projects each point as the fast mode does
/// and leaves the points within a millionth of a bin's edge to the client.
#[derive(Clone, Debug, PartialEq)]
pub struct BinParams {
    pub x_west_m: f64,
    pub y_north_m: f64,
    pub inv_bin_m: f64,
    pub bins_across: usize,
    pub bins_down: usize,
    /// `bins_across + 1` ascending longitudes: the least of each column (`±∞` allowed).
    pub lon_column_edges: Vec<f64>,
    /// `bins_down + 1` descending latitudes: row `k` holds `(edges[k + 1], edges[k]]`.
    pub lat_row_edges: Option<Vec<f64>>,
}

/// `(lon_min, lat_min, lon_max, lat_max)`, degrees.
pub type LonLatBox = (f64, f64, f64, f64);

/// Placed appeals binned server-side: counts per bin, and the points the server could not bin
/// with certainty (within a millionth of a bin of an edge, or of an unusual date shape) to bin
/// locally.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Binned {
    pub bins: Vec<(u32, u32, u64)>,
    pub points: Vec<(f64, f64)>,
    /// Placed appeals in the filter, inside the bins' grid or not.
    pub placed: u64,
}

/// Within this fraction of a bin of an edge a point is binned locally (the server's `ln`/`tan`
/// may differ from Rust's by a few ulps; a bin is tens of metres, this is micrometres).
const EDGE: f64 = 1e-6;

/// The exact `WHERE` over text columns and float coordinates, or `None` when the table's
/// column types make it inexact (then the caller computes locally). The date condition covers
/// the plain ISO shape only; `residual_sql` selects the other rows, whose dates are parsed
/// locally.
struct ExactSql {
    /// Everything but the date.
    base: String,
    /// The date condition on plain-shaped texts (`true` without bounds).
    dates: Period,

    /// Rows whose `received_at` is not of the plain shape (and not NULL).
    residual: String,
    params: Vec<Param>,
    /// How many of `params` `base` uses (the dates' come after).
    base_params: usize,
    received: String,
    lon: String,
    lat: String,
}

fn exact_sql(store: &PgStore, filter: &ExactFilter) -> Option<ExactSql> {
    let (exprs, kinds, _) = store.cells();
    let expr = |i: usize| exprs.get(i).cloned().unwrap_or_else(|| "NULL".to_owned());
    let kind = |i: usize| kinds.get(i).copied().unwrap_or(CellKind::Null);
    if (1..=5).any(|i| kind(i) != CellKind::Text)
        || (filter.municipality_texts.is_some() && kind(6) != CellKind::Text)
        || kind(8) != CellKind::Float
        || kind(9) != CellKind::Float
    {
        return None;
    }
    let (received, source, category, status, subcategory) =
        (expr(1), expr(2), expr(3), expr(4), expr(5));
    let (lat, lon) = (expr(8), expr(9));
    let mut params: Vec<Param> = Vec::new();
    // Placed, as the loader's `placement_of` decides for numbers (NaN fails every comparison).
    let mut base = vec![format!(
        "{lat} BETWEEN -90 AND 90 AND {lon} BETWEEN -180 AND 180 AND NOT ({lat} = 0 AND {lon} = 0)"
    )];
    let mut tree = Vec::new();
    if !filter.categories.is_empty() {
        tree.push(format!(
            "coalesce({category}, '') = ANY({})",
            push_param(&mut params, Param::List(filter.categories.clone()))
        ));
    }
    for (c, s) in &filter.leaves {
        let c_param = push_param(&mut params, Param::Text(c.clone()));
        let sub = if s.is_empty() {
            blank_sql(&subcategory, CellKind::Text)
        } else if s.bytes().all(|b| b.is_ascii_whitespace()) {
            "false".to_owned()
        } else {
            format!(
                "{subcategory} = {}",
                push_param(&mut params, Param::Text(s.clone()))
            )
        };
        tree.push(format!("(coalesce({category}, '') = {c_param} AND {sub})"));
    }
    if !tree.is_empty() {
        base.push(format!("({})", tree.join(" OR ")));
    }
    for (column, set) in [(&source, &filter.sources), (&status, &filter.statuses)] {
        if !set.is_empty() {
            base.push(format!(
                "coalesce({column}, '') = ANY({})",
                push_param(&mut params, Param::List(set.clone()))
            ));
        }
    }
    if let Some(texts) = &filter.municipality_texts {
        base.push(format!(
            "{} = ANY({})",
            expr(6),
            push_param(&mut params, Param::List(texts.clone()))
        ));
    }
    let base_params = params.len();
    let (_, _, table) = store.cells();
    let dates = Period::new(&received, table, filter.from, filter.to, &mut params);
    let residual = format!("({received} !~ '{PLAIN_ISO}')");
    Some(ExactSql {
        base: base.join(" AND "),
        dates,
        residual,
        params,
        base_params,
        received,
        lon,
        lat,
    })
}

/// The valid days from `from` to `to` as text bounds `[lo₁, hi₁, lo₂, hi₂, …]`, one pair per
/// month: a plain-shaped `received_at` is a valid day of the period exactly when it sorts
/// (bytewise) into an odd bucket of them — `width_bucket` — because its first ten characters
/// decide, and a day past a month's end (`2021-02-29`, `…-32`), a day `00` or a month `00` or
/// `13`… sorts into a gap between two months. `None` for an empty period, years outside
/// 0000–9999 or more than a century of months (the caller then checks each text's date).
fn valid_day_bounds(from: Date, to: Date) -> Option<Vec<String>> {
    if from > to || from.year() < 0 || to.year() > 9999 {
        return None;
    }
    let months = (i32::from(to.year()) - i32::from(from.year())) * 12 + i32::from(to.month())
        - i32::from(from.month());
    if months > 1200 {
        return None;
    }
    let mut bounds = Vec::with_capacity(2 * (months as usize + 1));
    let (mut year, mut month) = (from.year(), from.month());
    loop {
        let first = Date::new(year, month, 1).ok()?;
        let start = if (year, month) == (from.year(), from.month()) {
            from.day()
        } else {
            1
        };
        let last_of_month = (year, month) == (to.year(), to.month());
        let end = if last_of_month {
            to.day()
        } else {
            first.days_in_month()
        };
        bounds.push(format!("{year:04}-{month:02}-{start:02}"));
        bounds.push(format!("{year:04}-{month:02}-{:02}", end + 1));
        if last_of_month {
            return Some(bounds);
        }
        (year, month) = if month == 12 {
            (year + 1, 1)
        } else {
            (year, month + 1)
        };
    }
}

/// Adds a parameter and returns its placeholder.
fn push_param(params: &mut Vec<Param>, p: Param) -> String {
    params.push(p);
    format!("${}", params.len())
}

/// The placed appeals of `filter` binned as the fast density mode bins them, in one snapshot:
/// `bounds` is called with the lon/lat box of those appeals (`None` without any) and returns
/// the binning to use (`None` stops with no bins). `in_range` judges the dates of rows whose
/// `received_at` has another shape than the plain ISO one (parsed locally, as the loader does).
/// `None` when the table's column types make SQL inexact (text coordinates, non-text columns).
///
/// # Errors
/// [`PgError::Server`].
pub fn binned(
    store: &PgStore,
    filter: &ExactFilter,
    in_range: &dyn Fn(&str) -> bool,
    bounds: &mut dyn FnMut(Option<LonLatBox>) -> Option<BinParams>,
) -> Result<Option<Binned>, PgError> {
    binned_impl(store, filter, in_range, Binning::FromExtent(bounds))
}

/// [`binned`] on bins already chosen (the window's view): no extent query, so
/// [`Binned::placed`] counts only the appeals binned or returned as points.
///
/// # Errors
/// [`PgError::Server`].
pub fn binned_fixed(
    store: &PgStore,
    filter: &ExactFilter,
    in_range: &dyn Fn(&str) -> bool,
    params: BinParams,
) -> Result<Option<Binned>, PgError> {
    binned_impl(store, filter, in_range, Binning::Fixed(params))
}

/// How [`binned_impl`] gets its bins.
enum Binning<'a> {
    FromExtent(&'a mut dyn FnMut(Option<LonLatBox>) -> Option<BinParams>),
    Fixed(BinParams),
}

fn binned_impl(
    store: &PgStore,
    filter: &ExactFilter,
    in_range: &dyn Fn(&str) -> bool,
    mut binning: Binning<'_>,
) -> Result<Option<Binned>, PgError> {
    let Some(sql) = exact_sql(store, filter) else {
        return Ok(None);
    };
    let (_, _, table) = store.cells();
    let ExactSql {
        base,
        dates,
        residual,
        params,
        base_params,
        received,
        lon,
        lat,
    } = sql;
    let dated = filter.from.is_some() || filter.to.is_some();
    store
        .with_snapshot(|tx| {
            let mut params = params.clone();
            // Rows of another date shape: their dates are judged here.
            let mut odd: Vec<(f64, f64)> = Vec::new();
            // Whether any row of the filter has another shape or a plain one in a gap between
            // the period's months (an invalid day: `2021-02-30`): without one (this snapshot's
            // residual query found none), the anti-join that leaves the other shapes out and
            // the valid-days check are not needed — the text range alone keeps the period's
            // rows, a third less work on a year of 10 M rows. The gaps are a few index ranges.
            let mut others = false;
            if dated {
                let residual = match dates.gaps_sql(&received) {
                    Some(gaps) => format!("({residual} OR {gaps})"),
                    None => residual.clone(),
                };
                let rows = tx.query(
                    format!(
                        "SELECT {received}, {lon}, {lat}, count(*)::int8 FROM {table} \
                         WHERE {base} AND {residual} GROUP BY 1, 2, 3"
                    )
                    .as_str(),
                    bind(&params).get(..base_params).unwrap_or(&[]),
                )?;
                others = !rows.is_empty();
                for row in &rows {
                    let text: Option<&str> = row.try_get(0)?;
                    let (Some(lon), Some(lat)) = (
                        row.try_get::<_, Option<f64>>(1)?,
                        row.try_get::<_, Option<f64>>(2)?,
                    ) else {
                        continue;
                    };
                    if text.is_some_and(in_range) {
                        let n = row.try_get::<_, i64>(3)?;
                        odd.extend(std::iter::repeat_n((lon, lat), n.max(0) as usize));
                    }
                }
            }
            let dates = if dated && !others && period_holds_the_table(tx, table, &dates)? {
                // Every text of the table lies in the range: only the range's parameters
                // follow the base's (the valid days' are added with their SQL).
                params.truncate(base_params);
                format!("({received} IS NOT NULL)")
            } else {
                // The valid-days check goes only where the first query looked in the gaps
                // (a period ending on 9999-12-31 has no day after it, so no gaps were asked).
                let check_days = others || dates.range.is_none();
                dates.sql(others, check_days, &mut params)
            };
            let bound = bind(&params);
            let (p, placed) = match &mut binning {
                Binning::Fixed(p) => (p.clone(), None),
                Binning::FromExtent(bounds) => {
                    let box_row = tx.query_one(
                        format!(
                            "SELECT min({lon}), min({lat}), max({lon}), max({lat}), count(*)::int8 FROM {table} \
                             WHERE {base} AND {dates}"
                        )
                        .as_str(),
                        &bound,
                    )?;
                    let mut extent: Option<LonLatBox> = match (
                        box_row.try_get::<_, Option<f64>>(0)?,
                        box_row.try_get::<_, Option<f64>>(1)?,
                        box_row.try_get::<_, Option<f64>>(2)?,
                        box_row.try_get::<_, Option<f64>>(3)?,
                    ) {
                        (Some(a), Some(b), Some(c), Some(d)) => Some((a, b, c, d)),
                        _ => None,
                    };
                    let placed = u64::try_from(box_row.try_get::<_, i64>(4)?).unwrap_or(0) + odd.len() as u64;
                    for &(x, y) in &odd {
                        extent = Some(match extent {
                            None => (x, y, x, y),
                            Some((a, b, c, d)) => (a.min(x), b.min(y), c.max(x), d.max(y)),
                        });
                    }
                    let Some(p) = bounds(extent) else {
                        return Ok(None);
                    };
                    (p, Some(placed))
                }
            };
            // Hundreds of thousands of bins hash in memory, and a query this short gains
            // nothing from JIT compilation (seconds on the projection's expression). The
            // planner, which cannot know the grid, takes the bins for as many as the distinct
            // points (a million where there are thousands), so it finds counting them in each
            // parallel worker too dear; a cheaper tuple transfer keeps the parallel plan. On 5 M
            // of 10 M rows (a year of a two-year table) that is 1.4 s instead of 3.1 s, the
            // index's bitmap scan in one process; the whole table and a month plan as before.
            tx.batch_execute(
                "SET LOCAL work_mem = '64MB'; SET LOCAL jit = off; \
                 SET LOCAL parallel_tuple_cost = 0.02",
            )?;
            if let Some(lat_edges) = &p.lat_row_edges {
                let query = EdgeQuery {
                    table,
                    base: &base,
                    dates: &dates,
                    lon: &lon,
                    lat: &lat,
                };
                let mut out = bins_by_edges(tx, &query, &params, &p, lat_edges)?;
                out.points.extend(odd);
                out.placed = placed.unwrap_or_else(|| {
                    out.bins.iter().map(|b| b.2).sum::<u64>() + out.points.len() as u64
                });
                return Ok(Some(out));
            }
            let across = p.bins_across as f64;
            let down = p.bins_down as f64;
            let mut params = params.clone();
            let mut next = |v: f64| {
                params.push(Param::Float(v));
                format!("${}::float8", params.len())
            };
            let (r_m, rad, quarter_pi, max_lat) = (
                next(crate::spatial::projection::EARTH_RADIUS_M),
                next(std::f64::consts::PI / 180.0),
                next(std::f64::consts::PI / 4.0),
                next(crate::spatial::projection::MAX_LAT),
            );
            let (x_west, y_north, inv, across_p, down_p, edge) = (
                next(p.x_west_m),
                next(p.y_north_m),
                next(p.inv_bin_m),
                next(across),
                next(down),
                next(EDGE),
            );
            // Each row's projection, bins and nearness are computed once: both subqueries are
            // fenced (`OFFSET 0`) so the planner cannot inline `vc`/`vr`/`near` into every
            // place that uses them (which took twice as long on 10 M rows, more than a
            // parallel scan saves on two cores).
            let bins_sql = format!(
                "SELECT CASE WHEN near THEN NULL ELSE fc::int8 END, \
                        CASE WHEN near THEN NULL ELSE fr::int8 END, \
                        CASE WHEN near THEN lon END, CASE WHEN near THEN lat END, count(*)::int8 \
                 FROM (SELECT lon, lat, floor(vc) AS fc, floor(vr) AS fr, \
                   (vc - floor(vc) < {edge} OR vc - floor(vc) > 1 - {edge} \
                    OR vr - floor(vr) < {edge} OR vr - floor(vr) > 1 - {edge}) AS near \
                   FROM (SELECT {lon} AS lon, {lat} AS lat, \
                     ({r_m} * ({lon} * {rad}) - {x_west}) * {inv} AS vc, \
                     ({y_north} - {r_m} * ln(tan({quarter_pi} + (greatest(least({lat}, {max_lat}), -{max_lat}) * {rad}) / 2))) * {inv} AS vr \
                   FROM {table} WHERE {base} AND {dates} OFFSET 0) AS projected OFFSET 0) AS e \
                 WHERE near OR (fc >= 0 AND fc < {across_p} AND fr >= 0 AND fr < {down_p}) \
                 GROUP BY 1, 2, 3, 4"
            );
            let rows = tx.query(bins_sql.as_str(), &bind(&params))?;
            let mut out = Binned {
                bins: Vec::with_capacity(rows.len()),
                points: odd,
                placed: placed.unwrap_or(0),
            };
            for row in &rows {
                let n = row.try_get::<_, i64>(4)?.max(0);
                match (
                    row.try_get::<_, Option<i64>>(0)?,
                    row.try_get::<_, Option<i64>>(1)?,
                    row.try_get::<_, Option<f64>>(2)?,
                    row.try_get::<_, Option<f64>>(3)?,
                ) {
                    (Some(c), Some(r), _, _) => {
                        if let (Ok(c), Ok(r)) = (u32::try_from(c), u32::try_from(r)) {
                            out.bins.push((c, r, n as u64));
                        }
                    }
                    (_, _, Some(lon), Some(lat)) => {
                        out.points
                            .extend(std::iter::repeat_n((lon, lat), n as usize));
                    }
                    _ => {}
                }
            }
            if placed.is_none() {
                out.placed =
                    out.bins.iter().map(|b| b.2).sum::<u64>() + out.points.len() as u64;
            }
            Ok(Some(out))
        })
}

/// Whether every `received_at` text of the table lies in the period's text range (so, when
/// none is of another shape or in a gap, every row with a text is in the period): the first
/// and last text by the index on `received_at COLLATE "C"`. False without that index (the
/// plan would scan the table) or without a range bounded on both sides.
fn period_holds_the_table(
    tx: &mut postgres::Transaction<'_>,
    table: &str,
    period: &Period,
) -> Result<bool, postgres::Error> {
    let Some((from, end)) = &period.range else {
        return Ok(false);
    };
    let received = &period.received;
    let sql =
        format!("SELECT min({received} COLLATE \"C\"), max({received} COLLATE \"C\") FROM {table}");
    for line in tx.query(format!("EXPLAIN {sql}").as_str(), &[])? {
        if line.try_get::<_, String>(0)?.contains("Seq Scan") {
            return Ok(false);
        }
    }
    let row = tx.query_one(sql.as_str(), &[])?;
    let (min, max) = (
        row.try_get::<_, Option<String>>(0)?,
        row.try_get::<_, Option<String>>(1)?,
    );
    // Rust orders strings by their bytes, as the "C" collation does.
    Ok(match (min, max) {
        (Some(min), Some(max)) => &min >= from && &max < end,
        _ => false,
    })
}

/// The table, its filter and its coordinates' expressions, for [`bins_by_edges`].
struct EdgeQuery<'a> {
    table: &'a str,
    base: &'a str,
    dates: &'a str,
    lon: &'a str,
    lat: &'a str,
}

/// The bins of the rows `base AND dates` keeps, by the binning's edges: one `width_bucket` per
/// coordinate and one hashed key per row, no projection, so PostgreSQL scans in parallel.
/// Every point lands in its bin or in the margin around the grid (dropped here), so nothing
/// is left to bin locally.
fn bins_by_edges(
    tx: &mut postgres::Transaction<'_>,
    query: &EdgeQuery<'_>,
    params: &[Param],
    p: &BinParams,
    lat_edges: &[f64],
) -> Result<Binned, postgres::Error> {
    let EdgeQuery {
        table,
        base,
        dates,
        lon,
        lat,
    } = query;
    let mut params = params.to_vec();
    let columns = push_param(&mut params, Param::Floats(p.lon_column_edges.clone()));
    // Ascending for `width_bucket`: the negated latitudes, so "at or below −lat" is "at or
    // north of lat", the rows' closed north edges.
    let rows = push_param(
        &mut params,
        Param::Floats(lat_edges.iter().map(|e| -e).collect()),
    );
    // Buckets run 0..=bins + 1 (0 and the last are outside the grid).
    let stride = p.bins_down as i64 + 2;
    let sql = format!(
        "SELECT width_bucket({lon}, {columns}::float8[])::int8 * {stride} \
                + width_bucket(-({lat}), {rows}::float8[]), count(*)::int8 \
         FROM {table} WHERE {base} AND {dates} GROUP BY 1"
    );
    let found = tx.query(sql.as_str(), &bind(&params))?;
    let mut out = Binned {
        bins: Vec::with_capacity(found.len()),
        ..Binned::default()
    };
    for row in &found {
        let key = row.try_get::<_, i64>(0)?;
        let n = row.try_get::<_, i64>(1)?.max(0) as u64;
        let (column, down) = (key / stride, key % stride);
        if (1..=p.bins_across as i64).contains(&column)
            && (1..=p.bins_down as i64).contains(&down)
            && let (Ok(c), Ok(r)) = (u32::try_from(column - 1), u32::try_from(down - 1))
        {
            out.bins.push((c, r, n));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> Option<Date> {
        Some(s.parse().unwrap())
    }

    fn list(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn prefilters_meet_on_common_values_and_the_narrower_dates() {
        let filter = Prefilter {
            from: day("2021-03-01"),
            to: day("2021-03-31"),
            categories: list(&["ЖКХ", "Дороги"]),
            sources: Vec::new(),
            statuses: list(&["new"]),
        };
        let profile = Prefilter {
            from: day("2021-03-10"),
            to: None,
            categories: list(&["ЖКХ"]),
            sources: list(&["pos"]),
            statuses: Vec::new(),
        };
        let both = filter.and(&profile).unwrap();
        assert_eq!(both.from, day("2021-03-10"));
        assert_eq!(both.to, day("2021-03-31"));
        assert_eq!(both.categories, list(&["ЖКХ"]));
        // An empty list is "any": the other side's list stands.
        assert_eq!(both.sources, list(&["pos"]));
        assert_eq!(both.statuses, list(&["new"]));
        assert_eq!(both, profile.and(&filter).unwrap());
        // Nothing in common: no row passes both.
        let roads = Prefilter {
            categories: list(&["Транспорт"]),
            ..Prefilter::default()
        };
        assert_eq!(filter.and(&roads), None);
        assert_eq!(Prefilter::default().and(&roads), Some(roads));
    }

    /// Every plain-shaped text of two years (months 00–13, days 00–39, with and without a
    /// time) lands in an odd bucket of the bounds exactly when it is a valid day of the period.
    #[test]
    fn valid_day_bounds_keep_exactly_the_periods_valid_days() {
        let periods = [
            ("2021-01-01", "2021-12-31"),
            ("2020-02-10", "2020-03-05"),
            ("2021-02-28", "2021-02-28"),
            ("2019-12-31", "2021-01-01"),
            ("2020-02-29", "2020-02-29"),
        ];
        for (from, to) in periods {
            let (from, to) = (day(from).unwrap(), day(to).unwrap());
            let bounds = valid_day_bounds(from, to).unwrap();
            assert!(bounds.windows(2).all(|w| w[0] < w[1]), "{bounds:?}");
            for year in 2019..=2022 {
                for month in 0..=13 {
                    for d in 0..=39 {
                        let date = format!("{year:04}-{month:02}-{d:02}");
                        let valid = date
                            .parse::<Date>()
                            .is_ok_and(|date| date >= from && date <= to);
                        for text in [date.clone(), format!("{date}T23:59:59+05:00")] {
                            let below = bounds.iter().filter(|b| b.as_str() <= text.as_str());
                            assert_eq!(below.count() % 2 == 1, valid, "{text} in {from}..{to}");
                        }
                    }
                }
            }
        }
        let (a, b) = (day("2021-05-02").unwrap(), day("2021-05-01").unwrap());
        assert_eq!(valid_day_bounds(a, b), None);
    }

    #[test]
    fn placement_codes_name_the_loaders_classes() {
        let sql = placement_sql("lon", "lat");
        for code in 0..=5 {
            assert!(code == 0 || sql.contains(&format!("THEN {code}")), "{sql}");
        }
        assert_eq!(placement_code(0), Placement::Placed);
        assert_eq!(placement_code(1), Placement::Missing);
        assert_eq!(placement_code(2), Placement::Partial);
        assert_eq!(placement_code(3), Placement::NotNumeric);
        assert_eq!(placement_code(4), Placement::OutOfRange);
        assert_eq!(placement_code(5), Placement::ZeroZero);
    }
}
