//! Writing imported rows into the target database: the contract's schema created when absent,
//! every input of one import in **one transaction** (it commits fully or leaves the target as it
//! was; a target the import created is removed again), re-imports without duplicates (keyed by
//! `external_id` when present — a changed row is updated — else by a hash of the row's content),
//! and every rejected row in a report (`NAME.rejected.csv` next to the target: file, line,
//! column, reason, the raw row).
//!
//! Reading, mapping, per-row validation, the reports and the transaction's order live here for
//! every target; what differs between the databases (preparing the table, finding the row a
//! re-import matches, writing, committing) sits behind [`Target`]: SQLite here, PostgreSQL in
//! [`super::pg`].

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rusqlite::{Connection, OptionalExtension as _};

use super::parse::{
    Field, Mapping, MappingError, normalize_status, parse_degrees, parse_lat_lon,
    parse_timestamp_text,
};
use super::read::{ReadError, ReadOptions, SourceKind, SourceRow, Table};
use crate::data::{CREATE_APPEALS_SQL, OPTIONAL_COLUMNS, PgError, REQUIRED_COLUMNS, Source};

/// How to import.
#[derive(Clone, Debug, Default)]
pub struct ImportOptions {
    pub read: ReadOptions,
    /// A saved mapping (applied before the overrides); `None`: the automatic mapping.
    pub mapping: Option<Mapping>,
    /// `field=COLUMN` overrides.
    pub overrides: Vec<String>,
    /// `source` of rows whose source column is empty or unmapped (default `import`).
    pub default_source: Option<String>,
    /// Where the reports of rejected rows go; `None`: next to a SQLite target, the current
    /// directory for a PostgreSQL one.
    pub report_dir: Option<PathBuf>,
}

/// What one input gave.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FileSummary {
    pub path: PathBuf,
    pub kind: Option<SourceKind>,
    pub headers: Vec<String>,
    /// The mapping used (field → column).
    pub mapping: Mapping,
    pub rows: u64,
    /// New appeals written.
    pub imported: u64,
    /// Appeals already there (same `external_id`) whose content changed: rewritten.
    pub updated: u64,
    /// Appeals already there unchanged (a re-import), or repeated within the input.
    pub unchanged: u64,
    pub rejected: u64,
    /// Rejected rows per reason.
    pub rejected_by_reason: BTreeMap<String, u64>,
    /// Imported without a usable position (no coordinates, unreadable, out of range, 0,0).
    pub without_coordinates: u64,
    /// Imported with an unreadable `resolved_at` (left empty).
    pub resolved_unparsable: u64,
    /// Where the rejected rows were written, when there were any.
    pub report: Option<PathBuf>,
}

/// Everything an import did.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ImportSummary {
    /// The SQLite file; for PostgreSQL the server and table as shown (`postgres://user@host:port/db
    /// · table appeals`, never a password).
    pub target: PathBuf,
    /// The target (the SQLite file, or the PostgreSQL table) did not exist and was created.
    pub created: bool,
    pub files: Vec<FileSummary>,
    pub elapsed: Duration,
}

/// Where an import is, for a progress bar.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Progress {
    /// 0-based index of the input being read, and how many there are.
    pub file: usize,
    pub files: usize,
    /// Rows read so far in all inputs.
    pub rows: u64,
    /// Of the current input: units done and in all (bytes for CSV, rows otherwise).
    pub done: u64,
    pub total: u64,
    pub elapsed: Duration,
}

impl Progress {
    /// Rows per second so far.
    pub fn rows_per_s(&self) -> f64 {
        self.rows as f64 / self.elapsed.as_secs_f64().max(1e-3)
    }

    /// Seconds left for the current input, from its share done so far.
    pub fn eta_s(&self) -> Option<f64> {
        (self.done > 0 && self.total >= self.done).then(|| {
            let share = self.done as f64 / self.total as f64;
            self.elapsed.as_secs_f64() * (1.0 - share) / share
        })
    }
}

/// Why an import stopped (and was rolled back).
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error(transparent)]
    Read(#[from] ReadError),
    #[error("{path}: {source}")]
    Mapping {
        path: PathBuf,
        #[source]
        source: MappingError,
    },
    #[error(
        "{path}: no column for {field} (map one with --map {field}=COLUMN; columns: {headers})"
    )]
    Unmapped {
        path: PathBuf,
        field: &'static str,
        headers: String,
    },
    #[error("target database {path}: {source}")]
    Target {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error(
        "target database {path}: table `appeals` lacks the contract's column `{column}`; import into a new file or a database made by teplokarta"
    )]
    NotContract { path: PathBuf, column: String },
    #[error("writing the report {path}: {source}")]
    Report {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("no input files")]
    NoInputs,
    /// Connecting to, preparing or writing the PostgreSQL table (names the server, never the
    /// password).
    #[error(transparent)]
    Postgres(#[from] PgError),
    #[error(
        "target table `{table}` lacks the contract's column `{column}` (columns present: {present}); import into a new table or one made by teplokarta: {target}"
    )]
    PgNotContract {
        target: String,
        table: String,
        column: String,
        present: String,
    },
    #[error(
        "{path}, line {line}: column {column} holds a NUL character, which PostgreSQL cannot store"
    )]
    PgNul {
        path: PathBuf,
        line: u64,
        column: &'static str,
    },
}

/// What differs between the databases an import writes to: everything else (reading, mapping,
/// validation, the summary, the reports) is shared. A target holds one open transaction from
/// its creation; dropping it without [`Target::commit`] rolls everything back.
pub(crate) trait Target {
    /// Writes one valid appeal with its content hash: a new row (`Imported`), nothing (`Unchanged`:
    /// a row with the same `external_id`, or without one the same hash, and the same content),
    /// or the matched row rewritten (`Updated`).
    fn store(&mut self, appeal: &Appeal, hash: &str) -> Result<Outcome, ImportError>;
    /// Writes whatever is buffered and commits.
    fn commit(self: Box<Self>) -> Result<(), ImportError>;
}

/// Why a row is rejected: the column, the kind of problem (the key of the summary's counts),
/// and the full reason with the offending value (for the report).
struct Rejection {
    column: String,
    kind: String,
    reason: String,
}

/// One rejected row of an input.
struct Rejected {
    line: u64,
    column: String,
    reason: String,
    raw: String,
}

/// A row ready for the table.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Appeal {
    pub(crate) external_id: Option<String>,
    pub(crate) received_at: String,
    pub(crate) source: String,
    pub(crate) category: String,
    pub(crate) subcategory: Option<String>,
    pub(crate) municipality: Option<String>,
    pub(crate) settlement: Option<String>,
    pub(crate) address: Option<String>,
    pub(crate) lon_lat: Option<(f64, f64)>,
    pub(crate) status: String,
    pub(crate) resolved_at: Option<String>,
    pub(crate) text: Option<String>,
}

impl Appeal {
    /// A stable hash of the content (every field), hex.
    fn hash(&self) -> String {
        use sha2::Digest as _;
        let mut h = sha2::Sha256::new();
        let lon_lat = self
            .lon_lat
            .map(|(lon, lat)| format!("{lon:.7},{lat:.7}"))
            .unwrap_or_default();
        for part in [
            self.external_id.as_deref().unwrap_or_default(),
            &self.received_at,
            &self.source,
            &self.category,
            self.subcategory.as_deref().unwrap_or_default(),
            self.municipality.as_deref().unwrap_or_default(),
            self.settlement.as_deref().unwrap_or_default(),
            self.address.as_deref().unwrap_or_default(),
            &lon_lat,
            &self.status,
            self.resolved_at.as_deref().unwrap_or_default(),
            self.text.as_deref().unwrap_or_default(),
        ] {
            h.update(part.as_bytes());
            h.update([0x1f]);
        }
        h.finalize()
            .iter()
            .take(16)
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

fn text_of(row: &SourceRow, columns: &BTreeMap<Field, usize>, field: Field) -> Option<String> {
    let i = *columns.get(&field)?;
    let t = row.fields.get(i)?.trim();
    (!t.is_empty()).then(|| t.to_owned())
}

/// Counts that do not reject a row.
#[derive(Default)]
struct Soft {
    without_coordinates: bool,
    resolved_unparsable: bool,
}

/// The appeal of one input row, or why it is rejected (column, reason).
fn appeal_of(
    row: &SourceRow,
    columns: &BTreeMap<Field, usize>,
    mapping: &Mapping,
    default_source: &str,
) -> Result<(Appeal, Soft), Rejection> {
    let column_name = |f: Field| {
        mapping
            .columns
            .get(&f)
            .cloned()
            .unwrap_or_else(|| f.key().to_owned())
    };
    let mut soft = Soft::default();
    let received_at = match text_of(row, columns, Field::ReceivedAt) {
        None => {
            return Err(Rejection {
                column: column_name(Field::ReceivedAt),
                kind: "empty date".to_owned(),
                reason: "empty date".to_owned(),
            });
        }
        Some(t) => parse_timestamp_text(&t).map_err(|e| Rejection {
            column: column_name(Field::ReceivedAt),
            kind: e.reason.clone(),
            reason: e.to_string(),
        })?,
    };
    let Some(category) = text_of(row, columns, Field::Category) else {
        return Err(Rejection {
            column: column_name(Field::Category),
            kind: "empty category".to_owned(),
            reason: "empty category".to_owned(),
        });
    };
    let resolved_at = text_of(row, columns, Field::ResolvedAt).and_then(|t| {
        let parsed = parse_timestamp_text(&t).ok();
        soft.resolved_unparsable = parsed.is_none();
        parsed
    });
    let lon_lat = match (
        text_of(row, columns, Field::Lon),
        text_of(row, columns, Field::Lat),
        text_of(row, columns, Field::LatLon),
    ) {
        (Some(lon), Some(lat), _) => parse_degrees(&lon)
            .ok()
            .zip(parse_degrees(&lat).ok())
            .filter(|(lon, lat)| lon.abs() <= 180.0 && lat.abs() <= 90.0),
        (_, _, Some(both)) => parse_lat_lon(&both).ok(),
        _ => None,
    }
    .filter(|&(lon, lat)| !(lon == 0.0 && lat == 0.0));
    soft.without_coordinates = lon_lat.is_none();
    let appeal = Appeal {
        external_id: text_of(row, columns, Field::ExternalId),
        received_at,
        source: text_of(row, columns, Field::Source).unwrap_or_else(|| default_source.to_owned()),
        category,
        subcategory: text_of(row, columns, Field::Subcategory),
        municipality: text_of(row, columns, Field::Municipality),
        settlement: text_of(row, columns, Field::Settlement),
        address: text_of(row, columns, Field::Address),
        lon_lat,
        status: text_of(row, columns, Field::Status)
            .map_or_else(|| "unknown".to_owned(), |s| normalize_status(&s)),
        resolved_at,
        text: text_of(row, columns, Field::Text),
    };
    Ok((appeal, soft))
}

/// Creates the contract's table if absent and the columns and indexes re-imports need; refuses
/// a table that lacks contract columns.
fn prepare_target(tx: &Connection, path: &Path) -> Result<(), ImportError> {
    let sql_err = |source| ImportError::Target {
        path: path.to_owned(),
        source,
    };
    let exists: bool = tx
        .query_row(
            "SELECT COUNT(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = 'appeals'",
            [],
            |r| r.get(0),
        )
        .map_err(sql_err)?;
    if !exists {
        tx.execute_batch(CREATE_APPEALS_SQL).map_err(sql_err)?;
    }
    let mut present: Vec<String> = Vec::new();
    {
        let mut stmt = tx
            .prepare("SELECT name FROM pragma_table_info('appeals')")
            .map_err(sql_err)?;
        let rows = stmt
            .query_map([], |r| r.get::<_, String>(0))
            .map_err(sql_err)?;
        for name in rows {
            present.push(name.map_err(sql_err)?.to_lowercase());
        }
    }
    if let Some(column) = REQUIRED_COLUMNS
        .iter()
        .chain(OPTIONAL_COLUMNS)
        .find(|column| !present.iter().any(|p| p == *column))
    {
        return Err(ImportError::NotContract {
            path: path.to_owned(),
            column: (*column).to_owned(),
        });
    }
    if !present.iter().any(|p| p == "import_hash") {
        tx.execute_batch("ALTER TABLE appeals ADD COLUMN import_hash TEXT")
            .map_err(sql_err)?;
    }
    tx.execute_batch(
        "CREATE INDEX IF NOT EXISTS appeals_external_id ON appeals(external_id);
         CREATE INDEX IF NOT EXISTS appeals_import_hash ON appeals(import_hash);",
    )
    .map_err(sql_err)?;
    Ok(())
}

/// What happened to one appeal.
pub(crate) enum Outcome {
    Imported,
    Updated,
    Unchanged,
}

/// The SQLite target: a connection with a transaction open (`BEGIN`; closing the connection
/// without `COMMIT` rolls it back), the statements prepared once and cached.
struct SqliteTarget {
    conn: Connection,
    path: PathBuf,
}

const BY_EXTERNAL_ID_SQL: &str =
    "SELECT id, import_hash FROM appeals WHERE external_id = ?1 LIMIT 1";
const BY_HASH_SQL: &str = "SELECT id, import_hash FROM appeals WHERE import_hash = ?1 LIMIT 1";
const INSERT_SQL: &str = "INSERT INTO appeals (external_id, received_at, source, category,
     subcategory, municipality, settlement, address, lat, lon, status, resolved_at, text,
     import_hash)
 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)";
const UPDATE_SQL: &str = "UPDATE appeals SET external_id = ?1, received_at = ?2, source = ?3,
     category = ?4, subcategory = ?5, municipality = ?6, settlement = ?7,
     address = ?8, lat = ?9, lon = ?10, status = ?11, resolved_at = ?12,
     text = ?13, import_hash = ?14
 WHERE id = ?15";

impl SqliteTarget {
    /// Opens `path` (created when absent), begins the transaction and prepares the table.
    fn open(path: &Path) -> Result<Self, ImportError> {
        let sql_err = |source| ImportError::Target {
            path: path.to_owned(),
            source,
        };
        let conn = Connection::open(path).map_err(sql_err)?;
        conn.busy_timeout(Duration::from_secs(5)).map_err(sql_err)?;
        conn.execute_batch("BEGIN").map_err(sql_err)?;
        prepare_target(&conn, path)?;
        for sql in [BY_EXTERNAL_ID_SQL, BY_HASH_SQL, INSERT_SQL, UPDATE_SQL] {
            conn.prepare_cached(sql).map_err(sql_err)?;
        }
        Ok(Self {
            conn,
            path: path.to_owned(),
        })
    }

    fn store_sql(&mut self, a: &Appeal, hash: &str) -> Result<Outcome, rusqlite::Error> {
        let (lon, lat) = a
            .lon_lat
            .map_or((None, None), |(lon, lat)| (Some(lon), Some(lat)));
        let existing: Option<(i64, Option<String>)> = match &a.external_id {
            Some(ext) => self
                .conn
                .prepare_cached(BY_EXTERNAL_ID_SQL)?
                .query_row([ext], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?,
            None => self
                .conn
                .prepare_cached(BY_HASH_SQL)?
                .query_row([hash], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?,
        };
        // The 14 column values, in the order both statements number them (?1..?14).
        let values: [&dyn rusqlite::ToSql; 14] = [
            &a.external_id,
            &a.received_at,
            &a.source,
            &a.category,
            &a.subcategory,
            &a.municipality,
            &a.settlement,
            &a.address,
            &lat,
            &lon,
            &a.status,
            &a.resolved_at,
            &a.text,
            &hash,
        ];
        match existing {
            None => {
                self.conn.prepare_cached(INSERT_SQL)?.execute(&values[..])?;
                Ok(Outcome::Imported)
            }
            Some((_, Some(h))) if h == hash => Ok(Outcome::Unchanged),
            Some((id, _)) => {
                let mut with_id = values.to_vec();
                with_id.push(&id);
                self.conn
                    .prepare_cached(UPDATE_SQL)?
                    .execute(&with_id[..])?;
                Ok(Outcome::Updated)
            }
        }
    }
}

impl Target for SqliteTarget {
    fn store(&mut self, appeal: &Appeal, hash: &str) -> Result<Outcome, ImportError> {
        self.store_sql(appeal, hash)
            .map_err(|source| ImportError::Target {
                path: self.path.clone(),
                source,
            })
    }

    fn commit(self: Box<Self>) -> Result<(), ImportError> {
        self.conn
            .execute_batch("COMMIT")
            .map_err(|source| ImportError::Target {
                path: self.path.clone(),
                source,
            })
    }
}

/// The mapping an input gets: the saved one or the automatic one (with the first rows as
/// samples), then the overrides.
pub fn mapping_for(
    path: &Path,
    headers: &[String],
    samples: &[Vec<String>],
    options: &ImportOptions,
) -> Result<Mapping, ImportError> {
    let base = options
        .mapping
        .clone()
        .unwrap_or_else(|| Mapping::auto_with_samples(headers, samples));
    base.with_overrides(&options.overrides, headers)
        .map_err(|source| ImportError::Mapping {
            path: path.to_owned(),
            source,
        })
}

/// The report file of an input: `NAME.rejected.csv` in the target's directory.
pub fn report_path(target: &Path, input: &Path) -> PathBuf {
    target
        .parent()
        .unwrap_or_else(|| Path::new("."))
        .join(report_name(input))
}

/// `NAME.rejected.csv` for the input `NAME`.
fn report_name(input: &Path) -> String {
    let name = input
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "input".to_owned());
    format!("{name}.rejected.csv")
}

/// Imports `inputs` into `target` — a SQLite file or a PostgreSQL table, as
/// [`Source::parse`] tells them apart — in one transaction (see the module docs and
/// [`super::pg`]). The reports of rejected rows go next to a SQLite target, and into the current
/// directory for PostgreSQL (unless [`ImportOptions::report_dir`] says otherwise). `progress` is called every few thousand rows.
///
/// # Errors
/// [`ImportError`]; the target is then as it was before.
pub fn import_into(
    inputs: &[PathBuf],
    target: &Source,
    options: &ImportOptions,
    progress: &mut dyn FnMut(&Progress),
) -> Result<ImportSummary, ImportError> {
    match target {
        Source::Sqlite(path) => import_files(inputs, path, options, progress),
        Source::Postgres { url, table } => {
            if inputs.is_empty() {
                return Err(ImportError::NoInputs);
            }
            let started = Instant::now();
            let pg = super::pg::PgTarget::open(url, table.as_deref())?;
            let created = pg.created();
            let files = import_with(
                inputs,
                Box::new(pg),
                options
                    .report_dir
                    .as_deref()
                    .unwrap_or_else(|| Path::new(".")),
                options,
                progress,
                started,
            )?;
            Ok(ImportSummary {
                target: PathBuf::from(target.without_password().to_string()),
                created,
                files,
                elapsed: started.elapsed(),
            })
        }
    }
}

/// Imports `inputs` into the SQLite file `target` in one transaction (see the module docs).
/// `progress` is called every few thousand rows.
pub fn import_files(
    inputs: &[PathBuf],
    target: &Path,
    options: &ImportOptions,
    progress: &mut dyn FnMut(&Progress),
) -> Result<ImportSummary, ImportError> {
    if inputs.is_empty() {
        return Err(ImportError::NoInputs);
    }
    let started = Instant::now();
    let created = !target.exists();
    let result = SqliteTarget::open(target).and_then(|sqlite| {
        let report_dir = options
            .report_dir
            .as_deref()
            .or_else(|| target.parent())
            .unwrap_or_else(|| Path::new("."));
        import_with(
            inputs,
            Box::new(sqlite),
            report_dir,
            options,
            progress,
            started,
        )
    });
    if result.is_err() && created {
        // Leave no half-made database behind.
        for suffix in ["", "-journal", "-wal", "-shm"] {
            let mut p = target.as_os_str().to_owned();
            p.push(suffix);
            std::fs::remove_file(PathBuf::from(p)).ok();
        }
    }
    result.map(|files| ImportSummary {
        target: target.to_owned(),
        created,
        files,
        elapsed: started.elapsed(),
    })
}

/// The shared import: every input read, mapped and validated, each valid row stored through
/// `target`, the reports written (into `report_dir`), then `target` committed. On any error
/// `target` is dropped uncommitted (rolled back).
fn import_with(
    inputs: &[PathBuf],
    mut target: Box<dyn Target>,
    report_dir: &Path,
    options: &ImportOptions,
    progress: &mut dyn FnMut(&Progress),
    started: Instant,
) -> Result<Vec<FileSummary>, ImportError> {
    let default_source = options.default_source.as_deref().unwrap_or("import");
    let mut summary_files: Vec<FileSummary> = Vec::new();
    let mut reports: Vec<(PathBuf, PathBuf, Vec<Rejected>)> = Vec::new();
    let mut rows_total = 0u64;
    for (file, path) in inputs.iter().enumerate() {
        let mut table = Table::open(path, &options.read)?;
        let headers = table.headers().to_vec();
        // The first rows serve as samples for the automatic mapping, then are imported.
        let buffered = table.next_rows(20)?;
        let samples: Vec<Vec<String>> = buffered.iter().map(|r| r.fields.clone()).collect();
        let mapping = mapping_for(path, &headers, &samples, options)?;
        let columns = mapping
            .resolve(&headers)
            .map_err(|source| ImportError::Mapping {
                path: path.clone(),
                source,
            })?;
        for field in [Field::ReceivedAt, Field::Category] {
            if !columns.contains_key(&field) {
                return Err(ImportError::Unmapped {
                    path: path.clone(),
                    field: field.key(),
                    headers: headers.join(", "),
                });
            }
        }
        let mut fs = FileSummary {
            path: path.clone(),
            kind: Some(table.kind().clone()),
            headers: headers.clone(),
            mapping: mapping.clone(),
            ..FileSummary::default()
        };
        let mut report_progress = |table: &Table, rows: u64| {
            let (done, total) = table.progress();
            progress(&Progress {
                file,
                files: inputs.len(),
                rows,
                done,
                total,
                elapsed: started.elapsed(),
            });
        };
        let mut rejected: Vec<Rejected> = Vec::new();
        let mut pending = buffered.into_iter();
        loop {
            let row = match pending.next() {
                Some(row) => row,
                None => match table.next_row() {
                    Some(row) => row?,
                    None => break,
                },
            };
            fs.rows += 1;
            rows_total += 1;
            match appeal_of(&row, &columns, &mapping, default_source) {
                Ok((appeal, soft)) => {
                    let hash = appeal.hash();
                    match target.store(&appeal, &hash).map_err(|e| match e {
                        ImportError::PgNul { column, .. } => ImportError::PgNul {
                            path: path.clone(),
                            line: row.line,
                            column,
                        },
                        e => e,
                    })? {
                        Outcome::Imported => fs.imported += 1,
                        Outcome::Updated => fs.updated += 1,
                        Outcome::Unchanged => fs.unchanged += 1,
                    }
                    fs.without_coordinates += u64::from(soft.without_coordinates);
                    fs.resolved_unparsable += u64::from(soft.resolved_unparsable);
                }
                Err(r) => {
                    fs.rejected += 1;
                    *fs.rejected_by_reason
                        .entry(format!("{}: {}", r.column, r.kind))
                        .or_insert(0) += 1;
                    rejected.push(Rejected {
                        line: row.line,
                        column: r.column,
                        reason: r.reason,
                        raw: row.raw.clone(),
                    });
                }
            }
            if rows_total.is_multiple_of(5_000) {
                report_progress(&table, rows_total);
            }
        }
        report_progress(&table, rows_total);
        // Two inputs of the same name get reports of their own.
        let mut report = report_dir.join(report_name(path));
        let mut n = 2;
        while reports.iter().any(|(r, _, _)| *r == report) {
            report = report.with_file_name(format!(
                "{}.{n}.rejected.csv",
                path.file_name()
                    .map(|f| f.to_string_lossy().into_owned())
                    .unwrap_or_default()
            ));
            n += 1;
        }
        if !rejected.is_empty() {
            fs.report = Some(report.clone());
        }
        reports.push((report, path.clone(), rejected));
        summary_files.push(fs);
    }
    // The reports are written before the commit: a report that cannot be written fails the
    // import (rolled back), so every rejected row is always on disk when the rows are in. A
    // report left by an earlier import of an input that now has no rejections is removed.
    let written: Vec<&PathBuf> = reports
        .iter()
        .filter(|(_, _, rejected)| !rejected.is_empty())
        .map(|(report, _, _)| report)
        .collect();
    let remove_written = || {
        for report in &written {
            std::fs::remove_file(report).ok();
        }
    };
    for (report, input, rejected) in &reports {
        if rejected.is_empty() {
            continue;
        }
        if let Err(source) = write_report(report, input, rejected) {
            remove_written();
            return Err(ImportError::Report {
                path: report.clone(),
                source,
            });
        }
    }
    if let Err(e) = target.commit() {
        remove_written();
        return Err(e);
    }
    for (report, _, rejected) in &reports {
        if rejected.is_empty() && report.is_file() {
            std::fs::remove_file(report).ok();
        }
    }
    Ok(summary_files)
}

fn write_report(report: &Path, input: &Path, rejected: &[Rejected]) -> std::io::Result<()> {
    let mut w = csv::Writer::from_path(report)?;
    w.write_record(["file", "line", "column", "reason", "raw"])?;
    let file = input.display().to_string();
    for r in rejected {
        w.write_record([
            file.as_str(),
            &r.line.to_string(),
            &r.column,
            &r.reason,
            &r.raw,
        ])?;
    }
    w.flush()
}
