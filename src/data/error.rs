//! `DataError`: every way a database can be unusable, each naming the file (last, as rerun's
//! style asks) and, where there is one, the table, column and row.

use std::path::PathBuf;

/// A database that cannot be read as an appeals database.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    #[error("file not found: {path}")]
    NotFound { path: PathBuf },
    #[error("cannot open the database ({source}): {path}")]
    Open {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error("not a SQLite database: {path}")]
    NotSqlite { path: PathBuf },
    #[error("the database is damaged or truncated ({detail}): {path}")]
    Corrupt { path: PathBuf, detail: String },
    #[error(
        "the database is locked by another process that is writing to it (waited {waited_ms} ms); try again when it has finished: {path}"
    )]
    Locked { path: PathBuf, waited_ms: u64 },
    #[error("no table `appeals` in the database (tables present: {present}): {path}")]
    MissingTable { path: PathBuf, present: String },
    #[error(
        "table `appeals` has no required column `{column}` (columns present: {present}): {path}"
    )]
    MissingColumn {
        path: PathBuf,
        column: &'static str,
        present: String,
    },
    #[error(
        "table `appeals`, row id {row_id}, column `{column}`: expected {expected}, found {found}: {path}"
    )]
    WrongType {
        path: PathBuf,
        row_id: String,
        column: &'static str,
        expected: &'static str,
        found: String,
    },
    #[error("SQLite error ({source}): {path}")]
    Sqlite {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    /// A PostgreSQL source that cannot be read (naming the server, never the password).
    #[error(transparent)]
    Postgres(#[from] super::postgres::PgError),
    /// A density surface the pushdown strategy cannot bin in the database.
    #[error("the density cannot be binned in the database: {0}")]
    PushdownDensity(DensityLimit),
    /// The problem map of a table read grouped loads the rows of its filter and profile, and
    /// there are too many of them.
    #[error(
        "the problem map needs the rows of its filter and profile, and there are {rows} of them (at most {max} are loaded): narrow the period or the categories"
    )]
    TooManyRows { rows: u64, max: u64 },
    #[error("cannot write {what} ({source}): {path}")]
    Write {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl DataError {
    /// Classifies a rusqlite error met while reading `path`.
    pub(crate) fn from_sqlite(
        path: &std::path::Path,
        source: rusqlite::Error,
        busy_timeout_ms: u64,
    ) -> Self {
        use rusqlite::ErrorCode as C;
        let path = path.to_owned();
        match source.sqlite_error_code() {
            Some(C::NotADatabase) => Self::NotSqlite { path },
            Some(C::DatabaseCorrupt) => Self::Corrupt {
                path,
                detail: source.to_string(),
            },
            Some(C::DatabaseBusy | C::DatabaseLocked) => Self::Locked {
                path,
                waited_ms: busy_timeout_ms,
            },
            _ => Self::Sqlite { path, source },
        }
    }
}

/// Why a density surface cannot be binned in the database ([`DataError::PushdownDensity`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DensityLimit {
    #[error("the rows are not grouped")]
    NotGrouped,
    /// The fast mode's stencils would be too large: zoom in or take a smaller radius.
    #[error("the radius spans too many bins at this zoom (zoom in or take a smaller radius)")]
    RadiusTooWide,
    /// Text coordinates or non-text filter columns.
    #[error("the table's column types cannot be filtered exactly in SQL")]
    InexactColumns,
    #[error("the fast mode's binning changed")]
    BinningChanged,
}
