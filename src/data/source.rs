//! `Source`: where the appeals come from — a SQLite file or a table on a PostgreSQL server —
//! as the user typed it, and the one interface the command line and the window use over both
//! stores: parsing what was typed, naming it without a password, opening and loading it into
//! the same [`Appeals`], and the cheap change check that drives live updates
//! ([`ChangeProbe`]). What differs between the stores stays in `store.rs` and `postgres.rs`.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::error::DataError;
use super::model::Appeals;
use super::postgres::{ChangeCheck, PgStore};
use super::store::{AppealStore, ChangeSet, Fingerprint, LoadOptions};

/// Where appeals are read from. `Debug` and `Display` never show a password.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Source {
    /// A SQLite file following the contract (table `appeals`).
    Sqlite(PathBuf),
    /// A table on a PostgreSQL server: `url` is a `postgres://` URL or a libpq `key=value`
    /// string (it may hold a password in memory; [`Source::without_password`] before keeping
    /// it anywhere), `table` the table (`appeals` when `None`).
    Postgres { url: String, table: Option<String> },
}

/// The libpq connection keywords that make a `key=value` string a PostgreSQL source.
const LIBPQ_KEYS: &[&str] = &[
    "host",
    "hostaddr",
    "port",
    "dbname",
    "user",
    "password",
    "passfile",
    "sslmode",
    "sslrootcert",
    "connect_timeout",
    "application_name",
    "options",
    "target_session_attrs",
    "service",
];

impl Source {
    /// What the user typed: `postgres://…`, `postgresql://…` or a libpq `key=value` string is a
    /// PostgreSQL source (with `table`); anything else is a SQLite path (`table` is ignored:
    /// a SQLite database has its table `appeals`).
    pub fn parse(text: &str, table: Option<&str>) -> Self {
        let trimmed = text.trim();
        if is_postgres(trimmed) {
            Self::Postgres {
                url: trimmed.to_owned(),
                table: table
                    .map(str::trim)
                    .filter(|t| !t.is_empty())
                    .map(str::to_owned),
            }
        } else {
            Self::Sqlite(PathBuf::from(text))
        }
    }

    /// Whether this is a PostgreSQL source.
    pub fn is_postgres(&self) -> bool {
        matches!(self, Self::Postgres { .. })
    }

    /// The SQLite file, when it is one.
    pub fn sqlite_path(&self) -> Option<&Path> {
        match self {
            Self::Sqlite(path) => Some(path),
            Self::Postgres { .. } => None,
        }
    }

    /// The same source without any password (the URL's `user:password@`, a `password`
    /// parameter or `password=` pair): what may be remembered, logged or shown. The password
    /// then comes from `PGPASSWORD` or the password file.
    pub fn without_password(&self) -> Self {
        match self {
            Self::Sqlite(_) => self.clone(),
            Self::Postgres { url, table } => Self::Postgres {
                url: strip_password(url),
                table: table.clone(),
            },
        }
    }

    /// A short name for the window's title and status bar: the file name, or
    /// `host:port/db · table` (no user, no password, no parameters).
    pub fn short_name(&self) -> String {
        match self {
            Self::Sqlite(path) => path.file_name().map_or_else(
                || path.display().to_string(),
                |n| n.to_string_lossy().into_owned(),
            ),
            Self::Postgres { url, table } => {
                let table = table.as_deref().unwrap_or("appeals");
                format!("{} · {table}", server_of(url))
            }
        }
    }

    /// Opens the store (read-only) and checks its table and columns.
    ///
    /// # Errors
    /// [`DataError`] naming the file or the server (never a password).
    pub fn open(&self) -> Result<Store, DataError> {
        Ok(match self {
            Self::Sqlite(path) => Store::Sqlite(AppealStore::open(path, &LoadOptions::default())?),
            Self::Postgres { url, table } => {
                Store::Postgres(Box::new(PgStore::connect(url, table.as_deref())?))
            }
        })
    }

    /// Opens the store and loads every appeal.
    ///
    /// # Errors
    /// As [`Source::open`] and the store's load.
    pub fn load(&self) -> Result<Appeals, DataError> {
        self.open()?.load()
    }
}

impl From<PathBuf> for Source {
    fn from(path: PathBuf) -> Self {
        Self::Sqlite(path)
    }
}

impl From<&Path> for Source {
    fn from(path: &Path) -> Self {
        Self::Sqlite(path.to_owned())
    }
}

impl std::str::FromStr for Source {
    type Err = std::convert::Infallible;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Ok(Self::parse(text, None))
    }
}

/// The file's path, or the connection string without its password and the table
/// (`postgres://viewer@db/situation · table appeals`).
impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Sqlite(path) => write!(f, "{}", path.display()),
            Self::Postgres { url, table } => {
                write!(f, "{}", strip_password(url))?;
                match table {
                    Some(table) => write!(f, " · table {table}"),
                    None => Ok(()),
                }
            }
        }
    }
}

impl fmt::Debug for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Sqlite(path) => f.debug_tuple("Sqlite").field(path).finish(),
            Self::Postgres { url, table } => f
                .debug_struct("Postgres")
                .field("url", &strip_password(url))
                .field("table", table)
                .finish(),
        }
    }
}

/// An open store of either kind.
#[derive(Debug)]
pub enum Store {
    Sqlite(AppealStore),
    Postgres(Box<PgStore>),
}

impl Store {
    /// Loads every appeal.
    ///
    /// # Errors
    /// The store's [`DataError`].
    pub fn load(&self) -> Result<Appeals, DataError> {
        match self {
            Self::Sqlite(store) => store.load(),
            Self::Postgres(store) => Ok(store.load()?),
        }
    }

    /// Loads every appeal with what following the source needs: for SQLite the table's block
    /// sums for [`Store::load_changes`] later; for PostgreSQL the [`ChangeToken`] of the same
    /// snapshot, to start the [`ChangeProbe`] from.
    ///
    /// # Errors
    /// The store's [`DataError`].
    pub fn load_for_watch(&self) -> Result<Loaded, DataError> {
        match self {
            Self::Sqlite(store) => store.load_with_fingerprint().map(|(appeals, f)| Loaded {
                appeals,
                fingerprint: Some(f),
                token: None,
            }),
            Self::Postgres(store) => {
                let (appeals, figures) = store.load_with_check()?;
                Ok(Loaded {
                    appeals,
                    fingerprint: None,
                    token: Some(ChangeToken::of_figures(figures)),
                })
            }
        }
    }

    /// What changed since `old` was taken: SQLite reads only the blocks of rows that differ;
    /// PostgreSQL (and a missing fingerprint) answers [`ChangeSet::NeedsFullLoad`].
    ///
    /// # Errors
    /// The store's [`DataError`].
    pub fn load_changes(&self, old: Option<&Fingerprint>) -> Result<ChangeSet, DataError> {
        match (self, old) {
            (Self::Sqlite(store), Some(old)) => store.load_changes(old),
            _ => Ok(ChangeSet::NeedsFullLoad),
        }
    }
}

/// Rows in a PostgreSQL table above which the window's automatic strategy groups it in the
/// database instead of loading it (and the command line's `--pushdown-above` default).
pub const DEFAULT_PUSHDOWN_ABOVE: u64 = 2_000_000;

/// How the window reads a PostgreSQL table (SQLite is always loaded).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoadStrategy {
    /// Group in the database when the table has more than `above_rows` rows, else load.
    Auto { above_rows: u64 },
    /// Load every row into memory.
    Local,
    /// Group in the database: only the grouped rows travel.
    Pushdown,
}

impl Default for LoadStrategy {
    fn default() -> Self {
        Self::Auto {
            above_rows: DEFAULT_PUSHDOWN_ABOVE,
        }
    }
}

impl LoadStrategy {
    /// Whether `store` is read grouped under this strategy: `None` to load it, else the
    /// table's row count when it was counted (`Auto` counts the table). Tables whose
    /// coordinates are text are always loaded: where their rows lie cannot be judged in SQL
    /// exactly as the loader judges it.
    ///
    /// # Errors
    /// [`DataError::Postgres`] when counting fails.
    pub fn grouping(self, store: &PgStore) -> Result<Option<Option<u64>>, DataError> {
        if !super::pushdown::placement_in_sql(store) {
            return Ok(None);
        }
        Ok(match self {
            Self::Local => None,
            Self::Pushdown => Some(None),
            Self::Auto { above_rows } => {
                let rows = super::pushdown::count(store, &super::pushdown::Prefilter::default())?;
                (rows > above_rows).then_some(Some(rows))
            }
        })
    }
}

/// What [`Store::load_for_watch`] read.
#[derive(Debug)]
pub struct Loaded {
    pub appeals: Appeals,
    /// SQLite: the table's block sums (see [`AppealStore::load_changes`]).
    pub fingerprint: Option<Fingerprint>,
    /// PostgreSQL: the change check's figures in the load's snapshot.
    pub token: Option<ChangeToken>,
}

/// A value that changes whenever another client commits a change the viewer should reload
/// for (SQLite: `PRAGMA data_version`; PostgreSQL: the newest id, the row count and the rows
/// updated or deleted by the server's statistics, plus the notifications of the optional
/// trigger).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChangeToken(Option<String>, i64, u64, i64);

impl ChangeToken {
    /// The token of a PostgreSQL change check's figures (newest id, row count, rows updated or
    /// deleted) read in a load's snapshot.
    pub fn of_figures((max_id, count, writes): super::postgres::ChangeFigures) -> Self {
        Self(max_id, count, 0, writes)
    }

    /// The newest id (as text), the row count and the rows updated or deleted this token was
    /// taken at.
    pub fn figures(&self) -> (Option<&str>, i64, i64) {
        (self.0.as_deref(), self.1, self.3)
    }
}

/// How many checks pass between two readings of the row count (the others read the newest id,
/// or with the notify trigger installed only drain the notifications and prove the connection
/// alive).
pub const FIGURES_EVERY: u32 = 30;

/// The change check of live updates: one read-only connection of its own, kept open between
/// checks and opened again after a failure (so a server that comes back is reconnected).
#[derive(Debug)]
pub struct ChangeProbe {
    source: Source,
    conn: Option<ProbeConn>,
}

#[derive(Debug)]
enum ProbeConn {
    Sqlite(rusqlite::Connection),
    Postgres {
        store: Box<PgStore>,
        /// Notifications counted on this connection.
        notified: u64,
        /// The table has the notify trigger: between readings of the count, a check is only a
        /// round trip (without it, the newest id).
        trigger: bool,
        /// The last figures read (newest id, count, rows updated or deleted) and the checks
        /// since the count was.
        figures: super::postgres::ChangeFigures,
        since_figures: u32,
    },
}

impl ChangeProbe {
    /// A probe of `source`; nothing is opened until the first [`ChangeProbe::check`].
    pub fn new(source: Source) -> Self {
        Self { source, conn: None }
    }

    /// The source it checks.
    pub fn source(&self) -> &Source {
        &self.source
    }

    /// The current [`ChangeToken`]: one cheap statement (a prepared `max(id), count(*)` on
    /// PostgreSQL, a pragma on SQLite).
    ///
    /// # Errors
    /// [`DataError`] when the source cannot be reached; the connection is dropped and opened
    /// again at the next check.
    pub fn check(&mut self) -> Result<ChangeToken, DataError> {
        let token = self.check_once();
        if token.is_err() {
            self.conn = None;
        }
        token
    }

    fn check_once(&mut self) -> Result<ChangeToken, DataError> {
        if self.conn.is_none() {
            self.conn = Some(match &self.source {
                Source::Sqlite(path) => ProbeConn::Sqlite(
                    rusqlite::Connection::open_with_flags(
                        path,
                        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY
                            | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
                    )
                    .map_err(|e| DataError::from_sqlite(path, e, 0))?,
                ),
                Source::Postgres { url, table } => {
                    let store = PgStore::connect(url, table.as_deref())?;
                    let trigger = store.listen_for_changes()?;
                    ProbeConn::Postgres {
                        store: Box::new(store),
                        notified: 0,
                        trigger,
                        figures: (None, 0, 0),
                        // The first check reads the figures.
                        since_figures: FIGURES_EVERY,
                    }
                }
            });
        }
        match &mut self.conn {
            Some(ProbeConn::Sqlite(conn)) => {
                let version = conn
                    .query_row("PRAGMA data_version", [], |r| r.get::<_, i64>(0))
                    .map_err(|e| match &self.source {
                        Source::Sqlite(path) => DataError::from_sqlite(path, e, 0),
                        Source::Postgres { .. } => DataError::Sqlite {
                            path: PathBuf::new(),
                            source: e,
                        },
                    })?;
                Ok(ChangeToken(None, version, 0, 0))
            }
            Some(ProbeConn::Postgres {
                store,
                notified,
                trigger,
                figures,
                since_figures,
            }) => {
                // The table is not counted every second by every window: with the trigger a
                // notification tells of every change, without it the newest id (an index
                // lookup) shows new rows; the count — deletes, rows committed below the newest
                // id, a trigger disabled meanwhile — is read every FIGURES_EVERY checks.
                let what = match (*since_figures >= FIGURES_EVERY, *trigger) {
                    (true, _) => ChangeCheck::Figures,
                    (false, true) => ChangeCheck::Alive,
                    (false, false) => ChangeCheck::NewestId,
                };
                let found = store.change_check(what)?;
                if let Some(newest) = found.newest {
                    figures.0 = newest;
                }
                if let Some(count) = found.count {
                    figures.1 = count;
                    *since_figures = 0;
                }
                if let Some(writes) = found.writes {
                    figures.2 = writes;
                }
                *since_figures += 1;
                *notified += found.notified;
                Ok(ChangeToken(
                    figures.0.clone(),
                    figures.1,
                    *notified,
                    figures.2,
                ))
            }
            None => Err(DataError::NotFound {
                path: PathBuf::from(self.source.to_string()),
            }),
        }
    }
}

/// `host:port/db` of a connection string (what it names, as typed; no user or password).
fn server_of(url: &str) -> String {
    let lower = url.to_ascii_lowercase();
    for scheme in ["postgres://", "postgresql://"] {
        if lower.starts_with(scheme) {
            let rest = url.get(scheme.len()..).unwrap_or_default();
            let rest = rest.split_once('?').map_or(rest, |(base, _)| base);
            let rest = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
            return rest.to_owned();
        }
    }
    let pairs = strip_password(url);
    let value = |key: &str| {
        pairs.split_whitespace().find_map(|pair| {
            let (k, v) = pair.split_once('=')?;
            (k == key).then(|| v.trim_matches('\'').to_owned())
        })
    };
    let host = value("host").unwrap_or_else(|| "localhost".into());
    let port = value("port").map(|p| format!(":{p}")).unwrap_or_default();
    let db = value("dbname").unwrap_or_default();
    format!("{host}{port}/{db}")
}

fn is_postgres(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    if lower.starts_with("postgres://") || lower.starts_with("postgresql://") {
        return true;
    }
    // A libpq key=value string: every word before an `=` of the first pair is a known key.
    match text.split_once('=') {
        Some((key, _)) => {
            let key = key.trim();
            !key.contains(char::is_whitespace) && LIBPQ_KEYS.contains(&key)
        }
        None => false,
    }
}

/// The connection string without a password: the URL's `user:password@` becomes `user@`, and
/// a `password` query parameter or `password=` pair (quoted or not) is dropped.
pub fn strip_password(url: &str) -> String {
    let lower = url.to_ascii_lowercase();
    if let Some(scheme_end) = lower
        .starts_with("postgres://")
        .then_some("postgres://".len())
        .or_else(|| {
            lower
                .starts_with("postgresql://")
                .then_some("postgresql://".len())
        })
    {
        let (scheme, rest) = url.split_at(scheme_end);
        let (base, query) = match rest.split_once('?') {
            Some((b, q)) => (b, Some(q)),
            None => (rest, None),
        };
        let base = match base.rfind('@') {
            Some(at) => {
                let (userinfo, host) = base.split_at(at);
                let user = userinfo.split_once(':').map_or(userinfo, |(u, _)| u);
                format!("{user}{host}")
            }
            None => base.to_owned(),
        };
        let query = query.map(|q| {
            q.split('&')
                .filter(|pair| {
                    let key = pair.split_once('=').map_or(*pair, |(k, _)| k);
                    !key.eq_ignore_ascii_case("password")
                })
                .collect::<Vec<_>>()
                .join("&")
        });
        return match query {
            Some(q) if !q.is_empty() => format!("{scheme}{base}?{q}"),
            _ => format!("{scheme}{base}"),
        };
    }
    // key=value: walk the pairs, honouring single quotes and backslash escapes in values.
    let mut kept: Vec<String> = Vec::new();
    let mut chars = url.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        if chars.peek().is_none() {
            break;
        }
        let mut pair = String::new();
        let mut key = String::new();
        let mut in_key = true;
        let mut quoted = false;
        while let Some(&c) = chars.peek() {
            if in_key {
                if c == '=' {
                    in_key = false;
                    pair.push(c);
                    chars.next();
                    while chars.peek().is_some_and(|c| c.is_whitespace()) {
                        chars.next();
                    }
                    if chars.peek() == Some(&'\'') {
                        quoted = true;
                        pair.push('\'');
                        chars.next();
                    }
                    continue;
                }
                if c.is_whitespace() {
                    // `key = value`: spaces around the `=`.
                    let mut ahead = chars.clone();
                    while ahead.peek().is_some_and(|c| c.is_whitespace()) {
                        ahead.next();
                    }
                    if ahead.peek() == Some(&'=') {
                        chars = ahead;
                        continue;
                    }
                    break;
                }
                key.push(c);
                pair.push(c);
                chars.next();
            } else if c == '\\' {
                pair.push(c);
                chars.next();
                if let Some(next) = chars.next() {
                    pair.push(next);
                }
            } else if quoted {
                pair.push(c);
                chars.next();
                if c == '\'' {
                    break;
                }
            } else if c.is_whitespace() {
                break;
            } else {
                pair.push(c);
                chars.next();
            }
        }
        if !key.trim().eq_ignore_ascii_case("password") {
            kept.push(pair);
        }
    }
    kept.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_was_typed_picks_the_store() {
        assert_eq!(
            Source::parse("postgres://viewer@db/situation", Some("appeals72")),
            Source::Postgres {
                url: "postgres://viewer@db/situation".into(),
                table: Some("appeals72".into()),
            }
        );
        assert!(Source::parse("PostgreSQL://db/x", None).is_postgres());
        assert!(Source::parse("host=db user=viewer dbname=situation", None).is_postgres());
        assert!(Source::parse("dbname = situation", None).is_postgres());
        assert_eq!(
            Source::parse("/data/appeals.sqlite", Some("ignored")),
            Source::Sqlite("/data/appeals.sqlite".into())
        );
        // A file name with an `=` in it is still a file.
        assert!(!Source::parse("/tmp/a=b.sqlite", None).is_postgres());
        assert!(!Source::parse("appeals 2024.db", None).is_postgres());
        assert!(!Source::parse("C:\\data\\postgres.db", None).is_postgres());
        assert_eq!(
            Source::parse("postgres://h/db", Some("  ")),
            Source::Postgres {
                url: "postgres://h/db".into(),
                table: None
            }
        );
    }

    #[test]
    fn passwords_are_stripped_from_urls_and_key_value_strings() {
        assert_eq!(
            strip_password("postgres://viewer:s3cr%40t@db.example:6543/situation?sslmode=require"),
            "postgres://viewer@db.example:6543/situation?sslmode=require"
        );
        assert_eq!(
            strip_password("postgresql://viewer@db/x?password=hunter2&sslmode=verify-full"),
            "postgresql://viewer@db/x?sslmode=verify-full"
        );
        assert_eq!(
            strip_password("postgres://db/x?password=hunter2"),
            "postgres://db/x"
        );
        assert_eq!(strip_password("postgres://:only@db/x"), "postgres://@db/x");
        assert_eq!(
            strip_password("host=db password=hunter2 user=viewer"),
            "host=db user=viewer"
        );
        assert_eq!(
            strip_password("host=db password = 'with space \\' quote' dbname=x"),
            "host=db dbname=x"
        );
        assert_eq!(strip_password("password='a b' host=db"), "host=db");
        let source = Source::parse("postgres://viewer:hunter2@db/situation", Some("appeals"));
        let shown = source.to_string();
        assert_eq!(shown, "postgres://viewer@db/situation · table appeals");
        assert!(!format!("{:?}", source.without_password()).contains("hunter2"));
        assert!(!format!("{source:?}").contains("hunter2"));
        assert_eq!(
            source.without_password(),
            Source::parse("postgres://viewer@db/situation", Some("appeals"))
        );
        assert!(!source.short_name().contains("hunter2"));
        assert_eq!(
            Source::parse("/x/y/appeals.sqlite", None).short_name(),
            "appeals.sqlite"
        );
        assert_eq!(source.short_name(), "db/situation · appeals");
        assert_eq!(
            Source::parse(
                "postgresql://v:pw@db.example:6543/sit?sslmode=require",
                None
            )
            .short_name(),
            "db.example:6543/sit · appeals"
        );
        assert_eq!(
            Source::parse(
                "host=db port=6543 password=pw dbname=sit user=v",
                Some("r.a")
            )
            .short_name(),
            "db:6543/sit · r.a"
        );
    }

    #[test]
    fn a_missing_sqlite_file_fails_the_check_and_recovers() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.sqlite");
        let mut probe = ChangeProbe::new(Source::Sqlite(path.clone()));
        assert!(probe.check().is_err());
        rusqlite::Connection::open(&path)
            .unwrap()
            .execute_batch("CREATE TABLE t(x); INSERT INTO t VALUES (1);")
            .unwrap();
        let first = probe.check().unwrap();
        assert_eq!(probe.check().unwrap(), first);
        rusqlite::Connection::open(&path)
            .unwrap()
            .execute_batch("INSERT INTO t VALUES (2);")
            .unwrap();
        assert_ne!(probe.check().unwrap(), first);
    }
}
