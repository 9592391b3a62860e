//! `AppealStore`: opens an appeals database strictly read-only (`SQLITE_OPEN_READ_ONLY`), checks
//! the contract's table and columns, and loads every row into [`Appeals`] from one consistent
//! read snapshot, so a concurrent writer in WAL or rollback-journal mode is fine; a writer holding
//! an exclusive lock longer than the busy timeout gives [`DataError::Locked`]. Large tables keyed
//! by rowid are read as two halves on two connections; if a commit lands meanwhile
//! (`PRAGMA data_version` changed) the halves are discarded and the table is read in one go.

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags};

use super::error::DataError;
use super::model::{Appeals, Placement, Quality};
use super::schema::{OPTIONAL_COLUMNS, REQUIRED_COLUMNS};
use super::time::parse_timestamp;

/// How to open a database.
#[derive(Clone, Debug)]
pub struct LoadOptions {
    /// How long to wait for a writer's lock before giving up.
    pub busy_timeout_ms: u64,
    /// Read large tables on two connections at once (see [`AppealStore::load`]).
    pub parallel: bool,
}

impl Default for LoadOptions {
    fn default() -> Self {
        Self {
            busy_timeout_ms: 5_000,
            parallel: true,
        }
    }
}

/// A read-only connection to an appeals database whose schema has been checked.
pub struct AppealStore {
    conn: Connection,
    path: PathBuf,
    table: String,
    present_optional: Vec<&'static str>,
    busy_timeout_ms: u64,
    rowid_key: bool,
}

impl std::fmt::Debug for AppealStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppealStore")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl AppealStore {
    /// Opens `path` read-only and checks that it has the table `appeals` with the required
    /// columns.
    ///
    /// # Errors
    /// [`DataError`] naming the file and, where it applies, the missing table or column.
    pub fn open(path: &Path, options: &LoadOptions) -> Result<Self, DataError> {
        if !path.is_file() {
            return Err(DataError::NotFound {
                path: path.to_owned(),
            });
        }
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags).map_err(|source| DataError::Open {
            path: path.to_owned(),
            source,
        })?;
        let sql_err = |e| DataError::from_sqlite(path, e, options.busy_timeout_ms);
        conn.busy_timeout(std::time::Duration::from_millis(options.busy_timeout_ms))
            .map_err(sql_err)?;

        let tables: Vec<String> = conn
            .prepare("SELECT name FROM sqlite_master WHERE type IN ('table', 'view') ORDER BY name")
            .and_then(|mut stmt| {
                stmt.query_map([], |row| row.get::<_, String>(0))?
                    .collect::<Result<Vec<_>, _>>()
            })
            .map_err(sql_err)?;
        let Some(table) = tables
            .iter()
            .find(|t| t.eq_ignore_ascii_case("appeals"))
            .cloned()
        else {
            return Err(DataError::MissingTable {
                path: path.to_owned(),
                present: if tables.is_empty() {
                    "none".into()
                } else {
                    tables.join(", ")
                },
            });
        };
        let info: Vec<(String, String, i64)> = conn
            .prepare(&format!("PRAGMA table_info({})", quote_ident(&table)))
            .and_then(|mut stmt| {
                stmt.query_map([], |row| {
                    Ok((
                        row.get::<_, String>(1)?,
                        row.get::<_, String>(2)?,
                        row.get::<_, i64>(5)?,
                    ))
                })?
                .collect::<Result<Vec<_>, _>>()
            })
            .map_err(sql_err)?;
        let columns: Vec<String> = info.iter().map(|(name, _, _)| name.clone()).collect();
        // `id INTEGER PRIMARY KEY` is the rowid: ranges of it can be read in parallel.
        let rowid_key = info.iter().any(|(name, kind, pk)| {
            name.eq_ignore_ascii_case("id") && kind.eq_ignore_ascii_case("INTEGER") && *pk == 1
        });
        let has = |name: &str| columns.iter().any(|c| c.eq_ignore_ascii_case(name));
        if let Some(column) = REQUIRED_COLUMNS.iter().find(|c| !has(c)) {
            return Err(DataError::MissingColumn {
                path: path.to_owned(),
                column,
                present: columns.join(", "),
            });
        }
        let present_optional = OPTIONAL_COLUMNS
            .iter()
            .copied()
            .filter(|c| has(c))
            .collect();
        Ok(Self {
            conn,
            path: path.to_owned(),
            table,
            present_optional,
            busy_timeout_ms: options.busy_timeout_ms,
            rowid_key: rowid_key && options.parallel,
        })
    }

    /// The file this store reads.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Optional columns the table has.
    pub fn present_optional_columns(&self) -> &[&'static str] {
        &self.present_optional
    }

    /// Loads every appeal, validating as it goes.
    ///
    /// # Errors
    /// [`DataError::WrongType`] for a value no appeal can have (a non-integer `id`, a BLOB in a
    /// text column), [`DataError::Locked`] when a writer holds the database too long, and the
    /// errors of a damaged file.
    pub fn load(&self) -> Result<Appeals, DataError> {
        Ok(self.load_with_fingerprint()?.0)
    }

    /// The loaded columns' expressions, in the order [`read_rows`] reads them (`NULL` for an
    /// absent optional column).
    fn column_exprs(&self) -> Vec<String> {
        LOADED_COLUMNS
            .iter()
            .map(|&name| {
                if REQUIRED_COLUMNS.contains(&name) || self.present_optional.contains(&name) {
                    quote_ident(name)
                } else {
                    "NULL".to_owned()
                }
            })
            .collect()
    }

    /// `SELECT` of the loaded columns, with `filter` (a `WHERE` clause or nothing) before the
    /// `ORDER BY id`.
    fn load_sql(&self, filter: &str) -> String {
        format!(
            "SELECT {} FROM {} {filter} ORDER BY id",
            self.column_exprs().join(", "),
            quote_ident(&self.table),
        )
    }

    /// Loads every appeal like [`AppealStore::load`], and the table's [`Fingerprint`] computed
    /// from the same rows, for [`AppealStore::load_changes`] later.
    ///
    /// # Errors
    /// As [`AppealStore::load`].
    pub fn load_with_fingerprint(&self) -> Result<(Appeals, Fingerprint), DataError> {
        let sql = self.load_sql("");
        let path = self.path.as_path();
        let busy = self.busy_timeout_ms;
        let sql_err = |e| DataError::from_sqlite(path, e, busy);
        // Large tables keyed by rowid are read as two halves on two connections, then merged
        // (dictionaries remapped, row order kept). If another process commits meanwhile, the
        // halves could come from different snapshots: then the table is read again in one go.
        if self.rowid_key {
            let range: (Option<i64>, Option<i64>) = self
                .conn
                .query_row(
                    &format!("SELECT min(id), max(id) FROM {}", quote_ident(&self.table)),
                    [],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .map_err(sql_err)?;
            if let (Some(lo), Some(hi)) = range
                && hi.saturating_sub(lo) >= PARALLEL_FROM_ROWS
            {
                let version = |conn: &Connection| -> Result<i64, DataError> {
                    conn.query_row("PRAGMA data_version", [], |r| r.get(0))
                        .map_err(sql_err)
                };
                let before = version(&self.conn)?;
                let mid = lo / 2 + hi / 2 + (lo % 2 + hi % 2) / 2;
                let second_sql = self.load_sql("WHERE id > ?1");
                let first_sql = self.load_sql("WHERE id <= ?1");
                let ((mut first, mut first_print), (second, second_print)) = self
                    .on_two_connections(
                        |conn| read_rows(conn, path, &first_sql, &[mid], busy),
                        |conn, path| read_rows(conn, path, &second_sql, &[mid], busy),
                    )?;
                if version(&self.conn)? == before {
                    first.append(second);
                    first_print.add(&second_print);
                    return Ok((first, first_print));
                }
            }
        }
        read_rows(&self.conn, path, &sql, &[], busy)
    }

    /// Runs `first` on this store's connection and, at the same time, `second` on a second
    /// read-only connection to the same file (on a scoped thread): how large tables are read
    /// and checked in two halves.
    fn on_two_connections<A, B>(
        &self,
        first: impl FnOnce(&Connection) -> Result<A, DataError>,
        second: impl FnOnce(&Connection, &Path) -> Result<B, DataError> + Send,
    ) -> Result<(A, B), DataError>
    where
        B: Send,
    {
        let (path, busy) = (self.path.as_path(), self.busy_timeout_ms);
        let (first, second) = std::thread::scope(|scope| {
            let second = scope.spawn(move || {
                let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
                let conn = Connection::open_with_flags(path, flags)
                    .map_err(|e| DataError::from_sqlite(path, e, busy))?;
                conn.busy_timeout(std::time::Duration::from_millis(busy))
                    .map_err(|e| DataError::from_sqlite(path, e, busy))?;
                second(&conn, path)
            });
            (first(&self.conn), second.join())
        });
        let second = second.unwrap_or_else(|_| {
            Err(DataError::Corrupt {
                path: path.to_owned(),
                detail: "the second reading thread failed".into(),
            })
        });
        Ok((first?, second?))
    }

    /// What changed in the table since `old` was taken: the table's block sums are computed
    /// again in SQL, a few blocks per statement (so a writer using a rollback journal waits for
    /// one short statement at most), and only the blocks whose sums differ are read again.
    ///
    /// Needs `id INTEGER PRIMARY KEY` (ranges of the rowid are cheap to read); other tables
    /// answer [`ChangeSet::NeedsFullLoad`], as does a change touching most of the table.
    ///
    /// # Errors
    /// As [`AppealStore::load`].
    pub fn load_changes(&self, old: &Fingerprint) -> Result<ChangeSet, DataError> {
        if !self.rowid_key {
            return Ok(ChangeSet::NeedsFullLoad);
        }
        let path = self.path.as_path();
        let busy = self.busy_timeout_ms;
        let sql_err = |e| DataError::from_sqlite(path, e, busy);
        let table = quote_ident(&self.table);
        let block_sql = format!(
            "SELECT id >> {BLOCK_SHIFT}, count(*), sum({ROW_HASH_FUNCTION}({})) FROM {table} \
             WHERE id >= ?1 AND id < ?2 GROUP BY 1",
            self.column_exprs().join(", "),
        );
        let next_sql = format!("SELECT min(id) FROM {table} WHERE id >= ?1");
        let range: (Option<i64>, Option<i64>) = self
            .conn
            .query_row(&format!("SELECT min(id), max(id) FROM {table}"), [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .map_err(sql_err)?;
        let sums = |conn: &Connection, lo: i64, hi: i64| {
            block_sums(conn, path, busy, &block_sql, &next_sql, lo, hi)
        };
        let now = match range {
            (Some(lo), Some(hi)) if hi.saturating_sub(lo) >= PARALLEL_FROM_ROWS => {
                // Two halves on two connections, split at a block boundary.
                let mid = ((lo / 2 + hi / 2) >> BLOCK_SHIFT) << BLOCK_SHIFT;
                let (mut now, second) = self.on_two_connections(
                    |conn| sums(conn, lo, mid),
                    |conn, _| sums(conn, mid, i64::MAX),
                )?;
                now.add(&second);
                now
            }
            (Some(lo), Some(_)) => sums(&self.conn, lo, i64::MAX)?,
            _ => Fingerprint::default(),
        };
        let mut changed: Vec<i64> = now
            .blocks
            .iter()
            .filter(|(block, sum)| old.blocks.get(block) != Some(sum))
            .map(|(&block, _)| block)
            .chain(
                old.blocks
                    .keys()
                    .filter(|block| !now.blocks.contains_key(block))
                    .copied(),
            )
            .collect();
        if changed.is_empty() {
            return Ok(ChangeSet::Unchanged);
        }
        changed.sort_unstable();
        changed.dedup();
        if changed.len() * 2 > now.blocks.len().max(old.blocks.len()) {
            return Ok(ChangeSet::NeedsFullLoad);
        }
        // Consecutive changed blocks become one range of ids.
        let mut ranges: Vec<(i64, i64)> = Vec::new();
        for &block in &changed {
            let lo = block << BLOCK_SHIFT;
            let hi = lo.saturating_add(1 << BLOCK_SHIFT);
            match ranges.last_mut() {
                Some(last) if last.1 == lo => last.1 = hi,
                _ => ranges.push((lo, hi)),
            }
        }
        let range_sql = self.load_sql("WHERE id >= ?1 AND id < ?2");
        let mut rows = Appeals::default();
        let mut fingerprint = old.clone();
        for &block in &changed {
            fingerprint.blocks.remove(&block);
        }
        for &(lo, hi) in &ranges {
            // The sums kept are those of the rows actually read, so the model and its
            // fingerprint agree even if another commit landed since the scan above.
            let (part, print) = read_rows(&self.conn, path, &range_sql, &[lo, hi], busy)?;
            rows.append(part);
            fingerprint.add(&print);
        }
        Ok(ChangeSet::Changes {
            ranges,
            rows: Box::new(rows),
            fingerprint,
        })
    }
}

/// Block sums of the rows with `lo <= id < hi`, [`CHUNK_BLOCKS`] blocks per statement, skipping
/// gaps in the ids. Registers [`ROW_HASH_FUNCTION`] on `conn` first.
fn block_sums(
    conn: &Connection,
    path: &Path,
    busy: u64,
    block_sql: &str,
    next_sql: &str,
    lo: i64,
    hi: i64,
) -> Result<Fingerprint, DataError> {
    let sql_err = |e| DataError::from_sqlite(path, e, busy);
    conn.create_scalar_function(
        ROW_HASH_FUNCTION,
        12,
        rusqlite::functions::FunctionFlags::SQLITE_UTF8
            | rusqlite::functions::FunctionFlags::SQLITE_DETERMINISTIC,
        {
            let hasher = std::cell::RefCell::new(RowHasher::new());
            move |ctx| {
                let mut hasher = hasher.borrow_mut();
                hasher.clear();
                for i in 0..ctx.len() {
                    hasher.value(ctx.get_raw(i));
                }
                Ok(hasher.finish())
            }
        },
    )
    .map_err(sql_err)?;
    let mut sums = Fingerprint::default();
    let chunk_ids = CHUNK_BLOCKS << BLOCK_SHIFT;
    let mut start = Some(lo);
    while let Some(from) = start.filter(|&from| from < hi) {
        let chunk_lo = (from >> BLOCK_SHIFT) << BLOCK_SHIFT;
        let chunk_hi = chunk_lo.saturating_add(chunk_ids).min(hi);
        {
            let mut stmt = conn.prepare_cached(block_sql).map_err(sql_err)?;
            let mut rows = stmt.query([chunk_lo.max(lo), chunk_hi]).map_err(sql_err)?;
            while let Some(row) = rows.next().map_err(sql_err)? {
                let block: i64 = row.get(0).map_err(sql_err)?;
                let count: i64 = row.get(1).map_err(sql_err)?;
                let sum: i64 = row.get(2).map_err(sql_err)?;
                sums.blocks.insert(
                    block,
                    BlockSum {
                        rows: count.unsigned_abs(),
                        hash_sum: sum.unsigned_abs(),
                    },
                );
            }
        }
        if chunk_hi >= hi {
            break;
        }
        let mut stmt = conn.prepare_cached(next_sql).map_err(sql_err)?;
        start = stmt.query_row([chunk_hi], |r| r.get(0)).map_err(sql_err)?;
    }
    Ok(sums)
}

/// The SQL function, registered on the viewer's own read-only connection, that hashes a row
/// the way [`RowHasher`] does while loading.
const ROW_HASH_FUNCTION: &str = "teplokarta_row_hash";

/// Ids per fingerprint block: `2^BLOCK_SHIFT`.
pub const BLOCK_SHIFT: u32 = 10;

/// Blocks summed per statement by [`AppealStore::load_changes`].
const CHUNK_BLOCKS: i64 = 8;

/// Rows and the sum of their 32-bit row hashes in one block of ids.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BlockSum {
    pub rows: u64,
    pub hash_sum: u64,
}

/// Per block of [`BLOCK_SHIFT`] ids, the number of rows and the sum of their hashes: what
/// [`AppealStore::load_changes`] compares to find the rows another process inserted, updated
/// or deleted. Kept in memory only (the hash is seeded per process).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Fingerprint {
    pub blocks: std::collections::BTreeMap<i64, BlockSum>,
}

impl Fingerprint {
    fn add(&mut self, other: &Fingerprint) {
        for (&block, &sum) in &other.blocks {
            self.add_block(block, sum);
        }
    }

    /// Adds the sums of one block.
    fn add_block(&mut self, block: i64, sum: BlockSum) {
        let entry = self.blocks.entry(block).or_default();
        entry.rows += sum.rows;
        entry.hash_sum = entry.hash_sum.wrapping_add(sum.hash_sum);
    }
}

/// Sums rows read in `id` order block by block, touching the map once per block.
#[derive(Default)]
struct BlockAccumulator {
    current: Option<(i64, BlockSum)>,
}

impl BlockAccumulator {
    fn add_row(&mut self, into: &mut Fingerprint, id: i64, hash: i64) {
        let block = id >> BLOCK_SHIFT;
        match &mut self.current {
            Some((b, sum)) if *b == block => {
                sum.rows += 1;
                sum.hash_sum = sum.hash_sum.wrapping_add(hash.unsigned_abs());
            }
            _ => {
                self.flush(into);
                self.current = Some((
                    block,
                    BlockSum {
                        rows: 1,
                        hash_sum: hash.unsigned_abs(),
                    },
                ));
            }
        }
    }

    fn flush(&mut self, into: &mut Fingerprint) {
        if let Some((block, sum)) = self.current.take() {
            into.add_block(block, sum);
        }
    }
}

/// What [`AppealStore::load_changes`] found.
#[derive(Debug)]
pub enum ChangeSet {
    /// Every block has the sums it had.
    Unchanged,
    /// The rows of `ranges` (half-open id ranges) as they are now; `fingerprint` is the table's.
    Changes {
        ranges: Vec<(i64, i64)>,
        rows: Box<Appeals>,
        fingerprint: Fingerprint,
    },
    /// Load the whole table instead (no rowid key, or most blocks changed).
    NeedsFullLoad,
}

/// Hashes the loaded columns of one row to 32 bits (so 2^31 rows' sums fit an SQLite integer).
/// The values are gathered into one buffer (reused from row to row) and hashed in one call:
/// much cheaper than feeding the hasher a dozen small writes per row.
struct RowHasher {
    buf: Vec<u8>,
    state: ahash::RandomState,
}

impl RowHasher {
    fn new() -> Self {
        Self {
            buf: Vec::with_capacity(256),
            state: ahash::RandomState::with_seeds(0x7e91, 0x0c4a, 0x51d3, 0x2bb8),
        }
    }

    /// Starts a new row.
    fn clear(&mut self) {
        self.buf.clear();
    }

    fn value(&mut self, value: ValueRef<'_>) {
        let buf = &mut self.buf;
        match value {
            ValueRef::Null => buf.push(0),
            ValueRef::Integer(i) => {
                buf.push(1);
                buf.extend_from_slice(&i.to_le_bytes());
            }
            ValueRef::Real(r) => {
                buf.push(2);
                buf.extend_from_slice(&r.to_bits().to_le_bytes());
            }
            ValueRef::Text(t) => {
                buf.push(3);
                buf.extend_from_slice(&(t.len() as u64).to_le_bytes());
                buf.extend_from_slice(t);
            }
            ValueRef::Blob(b) => {
                buf.push(4);
                buf.extend_from_slice(&(b.len() as u64).to_le_bytes());
                buf.extend_from_slice(b);
            }
        }
    }

    fn finish(&self) -> i64 {
        let h = self.state.hash_one(self.buf.as_slice());
        ((h ^ (h >> 32)) & 0xFFFF_FFFF) as i64
    }
}

/// Tables with at least this many rowids are read on two threads.
const PARALLEL_FROM_ROWS: i64 = 100_000;

/// The columns a load reads, in the order [`push_row`] takes their cells.
pub(crate) const LOADED_COLUMNS: [&str; 12] = [
    "id",
    "received_at",
    "source",
    "category",
    "status",
    "subcategory",
    "municipality",
    "settlement",
    "lat",
    "lon",
    "resolved_at",
    "address",
];

/// A value no appeal can have, met while validating a row; each source adds where it was
/// (file or server, table) to make its [`DataError`].
#[derive(Debug)]
pub(crate) struct BadValue {
    pub row_id: String,
    pub column: &'static str,
    pub expected: &'static str,
    pub found: String,
}

/// The `id` cell as an integer (a text that is a whole number is accepted).
pub(crate) fn row_id_of(value: ValueRef<'_>) -> Result<i64, BadValue> {
    let bad = |value: &ValueRef<'_>| BadValue {
        row_id: "?".into(),
        column: "id",
        expected: "an integer",
        found: value_kind(value),
    };
    match value {
        ValueRef::Integer(i) => Ok(i),
        ValueRef::Text(t) => std::str::from_utf8(t)
            .ok()
            .and_then(|s| s.trim().parse::<i64>().ok())
            .ok_or_else(|| bad(&value)),
        other => Err(bad(&other)),
    }
}

/// Validates one row, given as its cells in [`LOADED_COLUMNS`] order with its `id` already
/// read by [`row_id_of`], and appends it to `out`, counting its problems in `quality`. The one
/// place where a row becomes an appeal, whichever database it came from.
pub(crate) fn push_row(
    out: &mut Appeals,
    quality: &mut Quality,
    id: i64,
    values: &[ValueRef<'_>; 12],
) -> Result<(), BadValue> {
    quality.rows += 1;
    let mut flags = 0;
    let bad = |name: &'static str, found: String| BadValue {
        row_id: id.to_string(),
        column: name,
        expected: "text",
        found,
    };
    // Texts are borrowed from the row buffer: no allocation per cell unless the text is new to
    // its dictionary.
    let text = |index: usize, name: &'static str| -> Result<Option<Cow<'_, str>>, BadValue> {
        text_of(values[index]).map_err(|found| bad(name, found))
    };
    // Dictionary columns are interned from the row's bytes: no UTF-8 check or allocation per
    // cell unless the text is new to its dictionary.
    let bytes = |index: usize, name: &'static str| -> Result<Option<Cow<'_, [u8]>>, BadValue> {
        bytes_of(values[index]).map_err(|found| bad(name, found))
    };
    let received_text = text(1, "received_at")?;
    let source = bytes(2, "source")?;
    let category = bytes(3, "category")?;
    let status = bytes(4, "status")?;
    let subcategory = non_blank(bytes(5, "subcategory")?);
    let municipality = non_blank(bytes(6, "municipality")?);
    let settlement = non_blank(bytes(7, "settlement")?);
    let resolved_text = text(10, "resolved_at")?;
    let address = non_blank(bytes(11, "address")?);

    if received_text.is_none() || source.is_none() || category.is_none() || status.is_none() {
        quality.required_null += 1;
        flags |= Appeals::FLAG_REQUIRED_NULL;
        quality.sample("required value is NULL", id, "NULL");
    }
    let received = received_text.as_deref().and_then(parse_timestamp);
    if let (Some(text), None) = (&received_text, received) {
        quality.received_unparsable += 1;
        flags |= Appeals::FLAG_RECEIVED_UNPARSABLE;
        quality.sample("received_at unparsable", id, text.as_ref());
    }
    let resolved = resolved_text.as_deref().and_then(parse_timestamp);
    if let (Some(text), None) = (&resolved_text, resolved)
        && !text.trim().is_empty()
    {
        quality.resolved_unparsable += 1;
        flags |= Appeals::FLAG_RESOLVED_UNPARSABLE;
        quality.sample("resolved_at unparsable", id, text.as_ref());
    }

    let (placement, lon, lat) = placement_of(values[9], values[8]);
    quality.count_placement(placement);
    if !matches!(placement, Placement::Placed | Placement::Missing) {
        let raw = format!(
            "lat={}, lon={}",
            value_text(values[8]),
            value_text(values[9])
        );
        quality.sample(placement_reason(placement), id, raw);
    }

    out.id.push(id);
    out.received.push(received);
    out.resolved.push(resolved);
    out.source.push(
        out.sources
            .intern_bytes(source.as_deref().unwrap_or_default()),
    );
    out.category.push(
        out.categories
            .intern_bytes(category.as_deref().unwrap_or_default()),
    );
    out.status.push(
        out.statuses
            .intern_bytes(status.as_deref().unwrap_or_default()),
    );
    out.subcategory
        .push(subcategory.map(|s| out.subcategories.intern_bytes(&s)));
    out.municipality
        .push(municipality.map(|s| out.municipalities.intern_bytes(&s)));
    out.settlement
        .push(settlement.map(|s| out.settlements.intern_bytes(&s)));
    out.address
        .push(address.map(|s| out.addresses.intern_bytes(&s)));
    out.lon.push(lon);
    out.lat.push(lat);
    out.placement.push(placement);
    out.row_flags.push(flags);
    Ok(())
}

/// Runs the load query `sql` (with `?1`, `?2`… bound to `params`), validates every row, and
/// sums the rows' hashes per block.
fn read_rows(
    conn: &Connection,
    path: &Path,
    sql: &str,
    params: &[i64],
    busy_timeout_ms: u64,
) -> Result<(Appeals, Fingerprint), DataError> {
    let sql_err = |e| DataError::from_sqlite(path, e, busy_timeout_ms);
    let wrong_type = |bad: BadValue| DataError::WrongType {
        path: path.to_owned(),
        row_id: bad.row_id,
        column: bad.column,
        expected: bad.expected,
        found: bad.found,
    };
    let mut stmt = conn.prepare(sql).map_err(sql_err)?;
    let mut rows = stmt
        .query(rusqlite::params_from_iter(params.iter()))
        .map_err(sql_err)?;
    let mut out = Appeals::default();
    let mut fingerprint = Fingerprint::default();
    let mut hasher = RowHasher::new();
    let mut blocks = BlockAccumulator::default();
    let mut quality = Quality::default();
    while let Some(row) = rows.next().map_err(sql_err)? {
        // Each cell is fetched from SQLite once: for the row's hash and for its value.
        let mut values = [ValueRef::Null; 12];
        for (i, value) in values.iter_mut().enumerate() {
            *value = row.get_ref(i).map_err(sql_err)?;
        }
        let id = row_id_of(values[0]).map_err(wrong_type)?;
        hasher.clear();
        for &value in &values {
            hasher.value(value);
        }
        blocks.add_row(&mut fingerprint, id, hasher.finish());
        push_row(&mut out, &mut quality, id, &values).map_err(wrong_type)?;
    }
    blocks.flush(&mut fingerprint);
    out.quality = quality;
    Ok((out, fingerprint))
}

/// Placement label used in quality samples and the CLI.
pub(crate) fn placement_reason(placement: Placement) -> &'static str {
    match placement {
        Placement::Placed => "placed",
        Placement::Missing => "no coordinates",
        Placement::Partial => "only one of lat/lon",
        Placement::NotNumeric => "coordinates not numeric",
        Placement::OutOfRange => "coordinates out of range",
        Placement::ZeroZero => "coordinates exactly 0,0",
    }
}

/// `None` for a text of white space only (treated as NULL).
fn non_blank(bytes: Option<Cow<'_, [u8]>>) -> Option<Cow<'_, [u8]>> {
    bytes.filter(|b| !b.iter().all(u8::is_ascii_whitespace))
}

/// A dictionary cell as bytes: text as stored, numbers as SQLite would print them, NULL as
/// `None`; a BLOB is an error carrying its description.
fn bytes_of(value: ValueRef<'_>) -> Result<Option<Cow<'_, [u8]>>, String> {
    match value {
        ValueRef::Null => Ok(None),
        ValueRef::Text(t) => Ok(Some(Cow::Borrowed(t))),
        ValueRef::Integer(i) => Ok(Some(Cow::Owned(i.to_string().into_bytes()))),
        ValueRef::Real(r) => Ok(Some(Cow::Owned(r.to_string().into_bytes()))),
        ValueRef::Blob(_) => Err(value_kind(&value)),
    }
}

pub(crate) fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// A text cell: text as is, numbers as SQLite would print them, NULL as `None`; a BLOB is an
/// error carrying its description.
fn text_of(value: ValueRef<'_>) -> Result<Option<Cow<'_, str>>, String> {
    match value {
        ValueRef::Null => Ok(None),
        ValueRef::Text(t) => Ok(Some(match std::str::from_utf8(t) {
            Ok(s) => Cow::Borrowed(s),
            Err(_) => String::from_utf8_lossy(t),
        })),
        ValueRef::Integer(i) => Ok(Some(Cow::Owned(i.to_string()))),
        ValueRef::Real(r) => Ok(Some(Cow::Owned(r.to_string()))),
        ValueRef::Blob(_) => Err(value_kind(&value)),
    }
}

fn value_kind(value: &ValueRef<'_>) -> String {
    match value {
        ValueRef::Null => "NULL".into(),
        ValueRef::Integer(i) => format!("integer {i}"),
        ValueRef::Real(r) => format!("real {r}"),
        ValueRef::Text(t) => format!("text {:?}", String::from_utf8_lossy(t)),
        ValueRef::Blob(b) => format!("a BLOB of {} bytes", b.len()),
    }
}

fn value_text(value: ValueRef<'_>) -> String {
    match value {
        ValueRef::Null => "NULL".into(),
        ValueRef::Integer(i) => i.to_string(),
        ValueRef::Real(r) => r.to_string(),
        ValueRef::Text(t) => String::from_utf8_lossy(t).into_owned(),
        ValueRef::Blob(b) => format!("<{} bytes>", b.len()),
    }
}

/// A coordinate cell as a number: REAL or INTEGER as is, text parsed (a decimal comma accepted),
/// `Err(())` for anything that is not a number.
fn number_of(value: ValueRef<'_>) -> Option<Result<f64, ()>> {
    match value {
        ValueRef::Null => None,
        ValueRef::Integer(i) => Some(Ok(i as f64)),
        ValueRef::Real(r) => Some(Ok(r)),
        ValueRef::Text(t) => {
            let s = String::from_utf8_lossy(t);
            let s = s.trim();
            if s.is_empty() {
                return None;
            }
            Some(s.replace(',', ".").parse::<f64>().map_err(|_| ()))
        }
        ValueRef::Blob(_) => Some(Err(())),
    }
}

fn placement_of(lon: ValueRef<'_>, lat: ValueRef<'_>) -> (Placement, f64, f64) {
    let unplaced = |p| (p, f64::NAN, f64::NAN);
    match (number_of(lon), number_of(lat)) {
        (None, None) => unplaced(Placement::Missing),
        (None, Some(_)) | (Some(_), None) => unplaced(Placement::Partial),
        (Some(Ok(lon)), Some(Ok(lat))) => {
            if !lat.is_finite() || !lon.is_finite() {
                unplaced(Placement::NotNumeric)
            } else if !crate::spatial::projection::is_valid_lon_lat(lon, lat) {
                unplaced(Placement::OutOfRange)
            } else if lat == 0.0 && lon == 0.0 {
                unplaced(Placement::ZeroZero)
            } else {
                (Placement::Placed, lon, lat)
            }
        }
        _ => unplaced(Placement::NotNumeric),
    }
}
