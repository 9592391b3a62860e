//! `PgStore`: the PostgreSQL/PostGIS source of appeals (the data layer of issue 9). It connects
//! with the blocking `postgres` client (TLS by rustls with ring: `sslmode=disable|prefer|require|
//! verify-ca|verify-full`; the password from the URL, `PGPASSWORD` or `~/.pgpass`, never stored),
//! keeps the session read-only, checks the contract's table and columns in `information_schema`,
//! and loads every row into the same [`Appeals`] as [`AppealStore`](super::AppealStore) does from
//! SQLite: the cells go through the same per-row validation ([`push_row`]). A load is one READ
//! ONLY REPEATABLE READ snapshot, read through a server-side cursor (a portal) in batches, so a
//! large table is never held twice in memory.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::{Arc, Mutex};

use postgres::config::{Host, SslMode};
use postgres::{Client, Config, IsolationLevel, NoTls, Transaction};
use rusqlite::types::ValueRef;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};

use super::model::Appeals;
use super::schema::{OPTIONAL_COLUMNS, REQUIRED_COLUMNS};
use super::store::{BadValue, LOADED_COLUMNS, push_row, quote_ident, row_id_of};

/// The change check's figures: the newest id (as text), the row count, and the rows updated or
/// deleted in the table so far by the server's statistics (`pg_stat_get_tuples_updated` +
/// `_deleted`) — what shows an `UPDATE` without the notify trigger. The counters are
/// cumulative and outside any snapshot; a writing session publishes them at once when it
/// disconnects, at a commit at most once a second, else within about 10 s while idle; aborted
/// transactions count too (a needless reload); they stay 0 with `track_counts` off and for a
/// view or a partitioned table's parent.
pub type ChangeFigures = (Option<String>, i64, i64);

/// The channel the optional change trigger of `docs/postgres.md` notifies.
pub const NOTIFY_CHANNEL: &str = "teplokarta_appeals";

/// A PostgreSQL source that cannot be read, each naming the server as
/// `postgres://user@host:port/db` (never with a password; last, as in [`DataError`]'s messages)
/// and, where there is one, the table, column and row. Reaches the app as
/// [`DataError::Postgres`].
///
/// [`DataError::Postgres`]: super::DataError::Postgres
#[derive(Debug, thiserror::Error)]
pub enum PgError {
    #[error("not a PostgreSQL connection string ({detail})")]
    Url { detail: String },
    #[error(
        "cannot reach the PostgreSQL server ({detail}); is it running and accepting TCP connections there?: {target}"
    )]
    Unreachable { target: String, detail: String },
    #[error(
        "the PostgreSQL server refused user `{user}` ({detail}); the password was taken from {password_from}: {target}"
    )]
    Auth {
        target: String,
        user: String,
        password_from: &'static str,
        detail: String,
    },
    #[error("TLS with the PostgreSQL server failed ({detail}): {target}")]
    Tls { target: String, detail: String },
    #[error("no table `{table}` in the database (tables present: {present}): {target}")]
    MissingTable {
        target: String,
        table: String,
        present: String,
    },
    #[error(
        "table `{table}` has no required column `{column}` (columns present: {present}): {target}"
    )]
    MissingColumn {
        target: String,
        table: String,
        column: &'static str,
        present: String,
    },
    /// `place` is the server and the table: `postgres://user@host:port/db, table appeals`.
    #[error("row id {row_id}, column `{column}`: expected {expected}, found {found}: {place}")]
    WrongType {
        place: String,
        row_id: String,
        column: &'static str,
        expected: &'static str,
        found: String,
    },
    #[error("PostgreSQL error while {doing} ({detail}): {target}")]
    Server {
        target: String,
        doing: &'static str,
        detail: String,
    },
}

/// What to read besides the connection string.
#[derive(Clone, Debug)]
pub struct PgOptions {
    /// The table (or view): `name` searched in the `search_path`, or `schema.name`; matched
    /// case-insensitively. `appeals` when `None`.
    pub table: Option<String>,
    /// A PostGIS `geometry(Point, 4326)` column to read the coordinates from instead of
    /// `lat`/`lon`. When `None`, `lat`/`lon` are read if present, else a geometry column `geom`.
    pub geometry_column: Option<String>,
    /// Rows fetched from the cursor per round trip.
    pub batch_rows: i32,
}

impl Default for PgOptions {
    fn default() -> Self {
        Self {
            table: None,
            geometry_column: None,
            batch_rows: 20_000,
        }
    }
}

/// How much [`PgStore::change_check`] reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChangeCheck {
    /// The newest id and the row count.
    Figures,
    /// The newest id only.
    NewestId,
    /// Only a round trip (the notifications are drained either way).
    Alive,
}

/// What [`PgStore::change_check`] found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CheckFound {
    /// The newest id as text (`Some(None)`: the table is empty), when read.
    pub newest: Option<Option<String>>,
    /// The row count, when read.
    pub count: Option<i64>,
    /// The rows updated or deleted by the statistics (see [`ChangeFigures`]), when read.
    pub writes: Option<i64>,
    /// Notifications for this table since the last check.
    pub notified: u64,
}

/// A read-only connection to an appeals table on a PostgreSQL server whose columns have been
/// checked.
pub struct PgStore {
    client: Mutex<Client>,
    target: String,
    table: String,
    select_sql: String,
    /// The quoted `id` column `select_sql` orders by.
    id_order: String,
    /// The change check of live updates (`max(id)`, `count(*)`), prepared at its first use.
    probe_sql: String,
    probe: Mutex<Option<postgres::Statement>>,
    /// The newest id alone (an index lookup), prepared at its first use.
    newest_sql: String,
    newest: Mutex<Option<postgres::Statement>>,
    /// The statistics' rows updated or deleted alone (see [`PgStore::writes_before`]).
    writes_sql: String,
    /// `schema.name`: the payload of the change trigger's notifications for this table.
    notify_payload: String,
    /// `"schema"."name"`, quoted for SQL.
    table_sql: String,
    kinds: [CellKind; 12],
    /// The loaded expression of each of [`LOADED_COLUMNS`] (what `select_sql` selects), for the
    /// pushdown strategy's `GROUP BY` queries (`data::pushdown`).
    exprs: Vec<String>,
    present_optional: Vec<&'static str>,
    geometry_column: Option<String>,
    batch_rows: i32,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore")
            .field("target", &self.target)
            .field("table", &self.table)
            .finish_non_exhaustive()
    }
}

/// How a loaded expression's value arrives from the server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CellKind {
    Int,
    Float,
    Text,
    Bytes,
    Null,
}

impl CellKind {
    /// The value of column `i` of `row`, as SQLite would hold it.
    pub(crate) fn value_ref<'r>(
        self,
        row: &'r postgres::Row,
        i: usize,
    ) -> Result<ValueRef<'r>, postgres::Error> {
        Ok(match self {
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
        })
    }
}

impl PgStore {
    /// A server error of this store while `doing` something.
    fn server_error(&self, doing: &'static str) -> impl Fn(postgres::Error) -> PgError + Copy + '_ {
        move |e| PgError::Server {
            target: self.target.clone(),
            doing,
            detail: describe(&e),
        }
    }

    /// The store's connection. A panic in another reader leaves no half-read state behind:
    /// its transaction was rolled back when it was dropped.
    fn client(&self) -> std::sync::MutexGuard<'_, Client> {
        self.client
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Connects to `url` (`postgres://user@host:port/db?sslmode=…`, or `host=… user=…`) and checks
    /// the table (`appeals` when `table` is `None`) like [`PgStore::connect_with`].
    ///
    /// # Errors
    /// As [`PgStore::connect_with`].
    pub fn connect(url: &str, table: Option<&str>) -> Result<Self, PgError> {
        Self::connect_with(
            url,
            &PgOptions {
                table: table.map(str::to_owned),
                ..PgOptions::default()
            },
        )
    }

    /// Connects to `url`, makes the session read-only, and checks that the table has the
    /// contract's required columns.
    ///
    /// # Errors
    /// [`PgError::Url`] for a malformed connection string, [`PgError::Unreachable`],
    /// [`PgError::Auth`], [`PgError::Tls`], [`PgError::MissingTable`] and
    /// [`PgError::MissingColumn`], each naming the server (never the password).
    pub fn connect_with(url: &str, options: &PgOptions) -> Result<Self, PgError> {
        let (mut client, target) = connect_client(url)?;
        let pg_err = |doing| {
            let target = target.clone();
            move |e: postgres::Error| PgError::Server {
                target,
                doing,
                detail: describe(&e),
            }
        };
        // Every transaction of this session, not only the loads, is read-only.
        client
            .batch_execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
            .map_err(pg_err("making the session read-only"))?;

        let wanted = options.table.as_deref().unwrap_or("appeals");
        let (schema_wanted, name_wanted) = match wanted.split_once('.') {
            Some((schema, name)) => (Some(schema), name),
            None => (None, wanted),
        };
        let found = client
            .query_opt(
                "SELECT table_schema::text, table_name::text FROM information_schema.tables \
                 WHERE lower(table_name::text) = lower($2) AND CASE WHEN $1::text IS NULL \
                 THEN table_schema::name = ANY(current_schemas(false)) \
                 ELSE lower(table_schema::text) = lower($1) END \
                 ORDER BY array_position(current_schemas(false), table_schema::name), 1, 2 \
                 LIMIT 1",
                &[&schema_wanted, &name_wanted],
            )
            .map_err(pg_err("looking for the table"))?;
        let Some(found) = found else {
            let present: Vec<String> = client
                .query(
                    "SELECT table_schema::text, table_name::text FROM information_schema.tables \
                     WHERE table_schema NOT IN ('pg_catalog', 'information_schema') \
                     AND CASE WHEN $1::text IS NULL \
                     THEN table_schema::name = ANY(current_schemas(false)) \
                     ELSE lower(table_schema::text) = lower($1) END ORDER BY 1, 2",
                    &[&schema_wanted],
                )
                .map_err(pg_err("listing the tables"))?
                .iter()
                .map(|row| qualified(row.get(0), row.get(1)))
                .collect();
            return Err(PgError::MissingTable {
                target,
                table: wanted.to_owned(),
                present: list_or_none(&present),
            });
        };
        let (schema, name): (String, String) = (found.get(0), found.get(1));
        let table = qualified(schema.clone(), name.clone());
        let columns: Vec<(String, String, String)> = client
            .query(
                "SELECT column_name::text, data_type::text, udt_name::text \
                 FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 \
                 ORDER BY ordinal_position",
                &[&schema, &name],
            )
            .map_err(pg_err("reading the table's columns"))?
            .iter()
            .map(|row| (row.get(0), row.get(1), row.get(2)))
            .collect();
        let column = |wanted: &str| {
            columns
                .iter()
                .find(|(name, _, _)| name.eq_ignore_ascii_case(wanted))
        };
        let present_columns =
            || list_or_none(&columns.iter().map(|c| c.0.clone()).collect::<Vec<_>>());
        if let Some(missing) = REQUIRED_COLUMNS.iter().find(|c| column(c).is_none()) {
            return Err(PgError::MissingColumn {
                target,
                table,
                column: missing,
                present: present_columns(),
            });
        }
        let geometry = match &options.geometry_column {
            Some(wanted) => match column(wanted) {
                Some(found) => Some(found),
                None => {
                    return Err(PgError::MissingColumn {
                        target,
                        table,
                        column: "geometry",
                        present: present_columns(),
                    });
                }
            },
            None if column("lat").is_some() || column("lon").is_some() => None,
            None => column("geom").filter(|(_, _, udt)| udt == "geometry"),
        };

        let mut exprs = Vec::with_capacity(LOADED_COLUMNS.len());
        let mut kinds = [CellKind::Null; 12];
        for (kind, &wanted) in kinds.iter_mut().zip(LOADED_COLUMNS.iter()) {
            let (expr, k) = match (geometry, wanted) {
                (Some((geom, _, _)), "lat" | "lon") => {
                    let g = quote_ident(geom);
                    let axis = if wanted == "lat" { "ST_Y" } else { "ST_X" };
                    // Another SRID (a `geometry(Point, 3857)`, a national grid) is transformed
                    // to longitude and latitude; 0 (none given) is taken for 4326.
                    (
                        format!(
                            "CASE WHEN GeometryType({g}) = 'POINT' THEN {axis}(CASE WHEN \
                             ST_SRID({g}) IN (0, 4326) THEN {g} ELSE ST_Transform({g}, 4326) END)::float8 END"
                        ),
                        CellKind::Float,
                    )
                }
                _ => match column(wanted) {
                    Some((name, data_type, _)) => cell_expr(&quote_ident(name), data_type),
                    None => ("NULL".to_owned(), CellKind::Null),
                },
            };
            exprs.push(expr);
            *kind = k;
        }
        let present_optional = OPTIONAL_COLUMNS
            .iter()
            .copied()
            .filter(|c| column(c).is_some())
            .collect();
        let id_column = column("id").map_or("id", |c| c.0.as_str());
        let select_sql = format!(
            "SELECT {} FROM {}.{} ORDER BY {}",
            exprs.join(", "),
            quote_ident(&schema),
            quote_ident(&name),
            quote_ident(id_column),
        );
        let table_sql = format!("{}.{}", quote_ident(&schema), quote_ident(&name));
        let relation = format!("'{}'::regclass", table_sql.replace('\'', "''"));
        let writes = format!(
            "(pg_stat_get_tuples_updated({relation}) + pg_stat_get_tuples_deleted({relation}))::int8"
        );
        let probe_sql = format!(
            "SELECT max({id})::text, count(*)::int8, {writes} FROM {table_sql}",
            id = quote_ident(id_column),
        );
        let newest_sql = format!(
            "SELECT max({id})::text, {writes} FROM {table_sql}",
            id = quote_ident(id_column),
        );
        let writes_sql = format!("SELECT {writes}");
        Ok(Self {
            client: Mutex::new(client),
            target,
            table,
            select_sql,
            probe_sql,
            probe: Mutex::new(None),
            newest_sql,
            newest: Mutex::new(None),
            writes_sql,
            notify_payload: format!("{schema}.{name}"),
            table_sql,
            kinds,
            exprs,
            present_optional,
            geometry_column: geometry.map(|g| g.0.clone()),
            batch_rows: options.batch_rows.max(1),
            id_order: quote_ident(id_column),
        })
    }

    /// The quoted `id` column a load orders the rows by.
    pub(crate) fn id_order(&self) -> &str {
        &self.id_order
    }

    /// The loaded expressions, their kinds and the quoted table, for `data::pushdown`.
    pub(crate) fn cells(&self) -> (&[String], &[CellKind; 12], &str) {
        (&self.exprs, &self.kinds, &self.table_sql)
    }

    /// The server and database, as `postgres://user@host:port/db` (no password).
    pub fn target(&self) -> &str {
        &self.target
    }

    /// The table read (`schema.name`, or `name` in `public`).
    pub fn table(&self) -> &str {
        &self.table
    }

    /// Optional columns the table has.
    pub fn present_optional_columns(&self) -> &[&'static str] {
        &self.present_optional
    }

    /// The PostGIS column the coordinates come from, when they do not come from `lat`/`lon`.
    pub fn geometry_column(&self) -> Option<&str> {
        self.geometry_column.as_deref()
    }

    /// Runs `f` in a READ ONLY transaction at REPEATABLE READ on the store's connection: what
    /// every load does, open for queries of the same snapshot (aggregates pushed down later).
    ///
    /// # Errors
    /// [`PgError::Server`] with the server's message when `f` or the transaction fails.
    pub fn with_snapshot<T>(
        &self,
        f: impl FnOnce(&mut Transaction<'_>) -> Result<T, postgres::Error>,
    ) -> Result<T, PgError> {
        let pg_err = self.server_error("reading");
        let mut client = self.client();
        let mut tx = client
            .build_transaction()
            .isolation_level(IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .map_err(pg_err)?;
        let value = f(&mut tx).map_err(pg_err)?;
        tx.commit().map_err(pg_err)?;
        Ok(value)
    }

    /// Subscribes this connection to [`NOTIFY_CHANNEL`], where the optional trigger of
    /// `docs/postgres.md` announces every change to the table (also updates and deletes that
    /// [`PgStore::change_check`]'s figures would miss), and says whether the table has such a
    /// trigger (an enabled one whose function notifies that channel).
    ///
    /// # Errors
    /// [`PgError::Server`] when the server refuses.
    pub fn listen_for_changes(&self) -> Result<bool, PgError> {
        let pg_err = self.server_error("subscribing to change notifications");
        let mut client = self.client();
        client
            .batch_execute(&format!("LISTEN {NOTIFY_CHANNEL}"))
            .map_err(pg_err)?;
        let row = client
            .query_one(
                "SELECT EXISTS (SELECT 1 FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid \
                 WHERE t.tgrelid = $1::text::regclass AND NOT t.tgisinternal \
                 AND t.tgenabled <> 'D' AND p.prosrc LIKE '%' || $2 || '%')",
                &[&self.table_sql, &NOTIFY_CHANNEL],
            )
            .map_err(pg_err)?;
        row.try_get(0).map_err(pg_err)
    }

    /// Whether the connection is gone (the server restarted, the network was cut): the store
    /// cannot be used again; open a new one.
    pub fn is_closed(&self) -> bool {
        self.client().is_closed()
    }

    /// The change check's query (newest id as text, row count, and the statistics' rows
    /// updated or deleted — which a snapshot reader replaces by [`PgStore::writes_before`]'s).
    pub(crate) fn probe_sql(&self) -> &str {
        &self.probe_sql
    }

    /// The statistics' rows updated or deleted (see [`ChangeFigures`]), read on its own, before
    /// a snapshot is taken: the counters are not part of any snapshot, so one read inside it
    /// could already count an update committed after the snapshot (missing from the data) and
    /// the watcher would never report it. Read before, it can only make a needless reload.
    ///
    /// # Errors
    /// [`PgError::Server`].
    pub(crate) fn writes_before(&self) -> Result<i64, PgError> {
        let pg_err = self.server_error("reading");
        let row = self
            .client()
            .query_one(self.writes_sql.as_str(), &[])
            .map_err(pg_err)?;
        let writes: Option<i64> = row.try_get(0).map_err(self.server_error("reading"))?;
        Ok(writes.unwrap_or(0))
    }

    /// The cheap check of live updates, as much of it as `what` asks: the newest id and the row
    /// count (an index lookup and an index-only count of the whole table), the newest id alone
    /// (an index lookup), or only a round trip that proves the connection alive — each a
    /// prepared statement — and how many notifications for this table arrived since the last
    /// check (see [`PgStore::listen_for_changes`]). The figure checks read the rows updated or
    /// deleted by the statistics too (see [`ChangeFigures`]). Returns the newest id when read,
    /// the count when read, the rows updated or deleted when read, and the notifications.
    ///
    /// # Errors
    /// [`PgError::Server`] when the query fails or the connection is gone.
    pub fn change_check(&self, what: ChangeCheck) -> Result<CheckFound, PgError> {
        let pg_err = self.server_error("checking for changes");
        let mut client = self.client();
        let mut prepared = |cache: &Mutex<Option<postgres::Statement>>, sql: &str| {
            let mut cache = cache
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            match cache.as_ref() {
                Some(statement) => Ok(statement.clone()),
                None => {
                    let statement = client.prepare(sql)?;
                    *cache = Some(statement.clone());
                    Ok::<_, postgres::Error>(statement)
                }
            }
        };
        let statement = match what {
            ChangeCheck::Figures => Some(prepared(&self.probe, &self.probe_sql).map_err(pg_err)?),
            ChangeCheck::NewestId => {
                Some(prepared(&self.newest, &self.newest_sql).map_err(pg_err)?)
            }
            ChangeCheck::Alive => None,
        };
        let mut found = CheckFound::default();
        match statement {
            Some(statement) => {
                let row = client.query_one(&statement, &[]).map_err(pg_err)?;
                // The newest id as text: compared, never parsed (any id type works here; a
                // non-integer id is the load's error, with its row).
                found.newest = Some(row.try_get(0).map_err(pg_err)?);
                let writes_at = if what == ChangeCheck::Figures {
                    let count: Option<i64> = row.try_get(1).map_err(pg_err)?;
                    found.count = Some(count.unwrap_or(0));
                    2
                } else {
                    1
                };
                let writes: Option<i64> = row.try_get(writes_at).map_err(pg_err)?;
                found.writes = Some(writes.unwrap_or(0));
            }
            None => {
                client.simple_query("SELECT 1").map_err(pg_err)?;
            }
        }
        // Notifications for this table (an empty payload counts for every table).
        let mut notified = 0;
        let mut notifications = client.notifications();
        let mut pending = notifications.iter();
        while let Some(n) =
            postgres::fallible_iterator::FallibleIterator::next(&mut pending).map_err(pg_err)?
        {
            if n.payload().is_empty() || n.payload() == self.notify_payload {
                notified += 1;
            }
        }
        found.notified = notified;
        Ok(found)
    }

    /// Loads every appeal, validating each row exactly as a SQLite load does.
    ///
    /// # Errors
    /// [`PgError::WrongType`] for a value no appeal can have (a non-integer `id`, binary
    /// data in a text column), [`PgError::Server`] when the server fails.
    pub fn load(&self) -> Result<Appeals, PgError> {
        Ok(self.load_with_check()?.0)
    }

    /// Loads every appeal like [`PgStore::load`], with the newest id and the row count of the
    /// same snapshot ([`PgStore::change_check`]'s figures): a watcher that starts from them
    /// misses no commit that landed between the load and its first check.
    ///
    /// # Errors
    /// As [`PgStore::load`].
    pub fn load_with_check(&self) -> Result<(Appeals, ChangeFigures), PgError> {
        let writes = self.writes_before()?;
        let loaded = self.with_snapshot(|tx| {
            let check = tx.query_one(self.probe_sql.as_str(), &[])?;
            let check: ChangeFigures = (
                check.try_get::<_, Option<String>>(0)?,
                check.try_get::<_, Option<i64>>(1)?.unwrap_or(0),
                writes,
            );
            Ok(self
                .read_appeals(tx, self.select_sql.as_str(), &[], Appeals::default())?
                .map(|out| (out, check)))
        })?;
        loaded.map_err(|bad| self.wrong_type(bad))
    }

    /// Loads the rows `sql` selects (the load's columns, in `id` order, with `params`) into
    /// `into` (whose dictionaries they continue) in one snapshot, validating each row exactly as
    /// [`PgStore::load`] does.
    ///
    /// # Errors
    /// As [`PgStore::load`].
    pub(crate) fn load_select(
        &self,
        sql: &str,
        params: &[&(dyn postgres::types::ToSql + Sync)],
        into: Appeals,
    ) -> Result<Appeals, PgError> {
        self.with_snapshot(|tx| self.read_appeals(tx, sql, params, into))?
            .map_err(|bad| self.wrong_type(bad))
    }

    /// The rows of `sql` read in batches through a portal and validated by the loader's
    /// `push_row`; the first invalid value stops it.
    fn read_appeals(
        &self,
        tx: &mut Transaction<'_>,
        sql: &str,
        params: &[&(dyn postgres::types::ToSql + Sync)],
        mut out: Appeals,
    ) -> Result<Result<Appeals, BadValue>, postgres::Error> {
        let portal = tx.bind(sql, params)?;
        let mut quality = std::mem::take(&mut out.quality);
        loop {
            let rows = tx.query_portal(&portal, self.batch_rows)?;
            if let Err(bad) = self.push_rows(&rows, &mut out, &mut quality)? {
                return Ok(Err(bad));
            }
            if rows.len() < self.batch_rows as usize {
                break;
            }
        }
        out.quality = quality;
        Ok(Ok(out))
    }

    /// Validates `rows` (of [`Self::select_sql`]'s columns) by the loader's `push_row` into
    /// `out`; the first invalid value stops it.
    fn push_rows(
        &self,
        rows: &[postgres::Row],
        out: &mut Appeals,
        quality: &mut super::model::Quality,
    ) -> Result<Result<(), BadValue>, postgres::Error> {
        for row in rows {
            let mut values = [ValueRef::Null; 12];
            for (i, (value, kind)) in values.iter_mut().zip(self.kinds).enumerate() {
                *value = kind.value_ref(row, i)?;
            }
            let pushed = row_id_of(values[0]).and_then(|id| push_row(out, quality, id, &values));
            if let Err(bad) = pushed {
                return Ok(Err(bad));
            }
        }
        Ok(Ok(()))
    }

    /// Every appeal of the table, as [`PgStore::load`] reads them (in `id` order, one
    /// snapshot), handed to `each` a batch at a time (a fresh [`Appeals`] per batch of
    /// `batch_rows`): a pass over a table larger than memory, such as an export's data hash.
    ///
    /// # Errors
    /// [`PgError::Server`]; [`PgError::WrongType`] for a value a load would refuse too.
    pub fn for_each_batch(&self, each: &mut dyn FnMut(&Appeals)) -> Result<(), PgError> {
        // A text `id` is ordered as text by the load, but read as a number: the batches come
        // in the numbers' order (ties as the load has them), as one whole load sorted by id.
        let sql = match (self.kinds[0], self.select_sql.rsplit_once(" ORDER BY ")) {
            (CellKind::Text, Some((head, id))) => format!(
                "{head} ORDER BY CAST(btrim({id}::text, E' \\t\\n\\r\\f\\x0b') AS numeric), {id}"
            ),
            _ => self.select_sql.clone(),
        };
        let result = self.with_snapshot(|tx| {
            let portal = tx.bind(sql.as_str(), &[])?;
            loop {
                let rows = tx.query_portal(&portal, self.batch_rows)?;
                let mut batch = Appeals::default();
                let mut quality = std::mem::take(&mut batch.quality);
                if let Err(bad) = self.push_rows(&rows, &mut batch, &mut quality)? {
                    return Ok(Err(bad));
                }
                batch.quality = quality;
                each(&batch);
                if rows.len() < self.batch_rows as usize {
                    break;
                }
            }
            Ok(Ok(()))
        })?;
        result.map_err(|bad| self.wrong_type(bad))
    }

    /// The error of a value no appeal can have, naming the table and row.
    pub(crate) fn wrong_type(&self, bad: BadValue) -> PgError {
        PgError::WrongType {
            place: format!("{}, table {}", self.target, self.table),
            row_id: bad.row_id,
            column: bad.column,
            expected: bad.expected,
            found: bad.found,
        }
    }
}

/// Opens a connection to `url` (`postgres://user@host:port/db?sslmode=…`, or `host=… user=…`):
/// user, host and connect timeout defaults, the password from the URL, `PGPASSWORD` or the
/// password file, TLS as `sslmode` says. Returns the client (in its default, writable session
/// mode: [`PgStore`] makes it read-only, only `import` writes) and the server's name
/// `postgres://user@host:port/db` (no password) for messages.
///
/// # Errors
/// [`PgError::Url`], [`PgError::Unreachable`], [`PgError::Auth`], [`PgError::Tls`] or
/// [`PgError::Server`], each naming the server (never the password).
pub(crate) fn connect_client(url: &str) -> Result<(Client, String), PgError> {
    let (mut config, tls) = parse_url(url)?;
    if config.get_user().is_none() {
        let user = env_var("PGUSER")
            .or_else(|| env_var("USER"))
            .unwrap_or_else(|| "postgres".into());
        config.user(&user);
    }
    if config.get_hosts().is_empty() {
        config.host(&env_var("PGHOST").unwrap_or_else(|| "localhost".into()));
    }
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(std::time::Duration::from_secs(10));
    }
    config.application_name("teplokarta");
    let target = target_of(&config);
    let password_from = supply_password(&mut config);

    let connected = match &tls {
        TlsMode::Disable => config.connect(NoTls),
        TlsMode::Encrypt {
            mode,
            verify,
            root_cert,
            client_cert,
        } => {
            let client_config = tls_config(*verify, root_cert.as_deref(), client_cert.as_ref())
                .map_err(|detail| PgError::Tls {
                    target: target.clone(),
                    detail,
                })?;
            config.ssl_mode(*mode);
            config.connect(tokio_postgres_rustls::MakeRustlsConnect::new(client_config))
        }
    };
    let client = connected.map_err(|e| connect_error(&e, &target, &config, password_from))?;
    Ok((client, target))
}

/// The `SELECT` expression reading a column of SQL type `data_type` so that its cell arrives as
/// SQLite would hold the same value: integers as integers, floating and `numeric` values as
/// doubles, timestamps as the contract's local ISO text (`timestamptz` in the session's
/// `TimeZone`), binary as bytes, anything else as its text.
fn cell_expr(column: &str, data_type: &str) -> (String, CellKind) {
    match data_type {
        "smallint" | "integer" | "bigint" => (format!("{column}::int8"), CellKind::Int),
        "real" | "double precision" | "numeric" => (format!("{column}::float8"), CellKind::Float),
        "timestamp without time zone" | "timestamp with time zone" => (
            format!("to_char({column}, 'YYYY-MM-DD\"T\"HH24:MI:SS.US')"),
            CellKind::Text,
        ),
        "date" => (format!("to_char({column}, 'YYYY-MM-DD')"), CellKind::Text),
        "bytea" => (column.to_owned(), CellKind::Bytes),
        _ => (format!("{column}::text"), CellKind::Text),
    }
}

/// How the connection is encrypted.
#[derive(Debug, PartialEq)]
enum TlsMode {
    Disable,
    Encrypt {
        /// `Prefer` falls back to plain text when the server has no TLS.
        mode: SslMode,
        verify: Verify,
        root_cert: Option<PathBuf>,
        /// The client's certificate and key (`sslcert`/`sslkey`, or libpq's
        /// `~/.postgresql/postgresql.crt`/`.key` when both are there), for a server whose
        /// `pg_hba.conf` asks for `cert`.
        client_cert: Option<ClientCert>,
    },
}

/// PEM files of a client certificate (with its chain) and its private key.
#[derive(Clone, Debug, PartialEq, Eq)]
struct ClientCert {
    cert: PathBuf,
    key: PathBuf,
}

/// How much of the server's certificate is checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Verify {
    /// Encrypt only (libpq's `prefer` and `require` without a root certificate).
    Nothing,
    /// The chain up to a trusted root (`verify-ca`).
    Chain,
    /// The chain and the host name (`verify-full`).
    Full,
}

/// Parses a connection string, taking out `sslmode` (whose `verify-ca`/`verify-full` the
/// `postgres` crate does not know), `sslrootcert`, `sslcert` and `sslkey`.
fn parse_url(url: &str) -> Result<(Config, TlsMode), PgError> {
    let mut ssl_mode: Option<String> = None;
    let mut root_cert: Option<String> = None;
    let mut cert: Option<String> = None;
    let mut key_file: Option<String> = None;
    let mut take = |key: &str, value: &str| {
        let slot = match key {
            "sslmode" => &mut ssl_mode,
            "sslrootcert" => &mut root_cert,
            "sslcert" => &mut cert,
            "sslkey" => &mut key_file,
            _ => return false,
        };
        *slot = Some(value.to_owned());
        true
    };
    let rest = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        match url.split_once('?') {
            Some((base, query)) => {
                let kept: Vec<&str> = query
                    .split('&')
                    .filter(|pair| {
                        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
                        !take(key, &percent_decode(value))
                    })
                    .collect();
                if kept.is_empty() {
                    base.to_owned()
                } else {
                    format!("{base}?{}", kept.join("&"))
                }
            }
            None => url.to_owned(),
        }
    } else {
        url.split_whitespace()
            .filter(|pair| {
                let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
                !take(key.trim(), value.trim_matches('\''))
            })
            .collect::<Vec<_>>()
            .join(" ")
    };
    let config = Config::from_str(&rest).map_err(|e| PgError::Url {
        detail: match std::error::Error::source(&e) {
            Some(source) => format!("{e}: {source}"),
            None => e.to_string(),
        },
    })?;
    let root_cert = root_cert
        .filter(|p| !p.is_empty() && p != "system")
        .map(PathBuf::from)
        .or_else(|| {
            directories::BaseDirs::new()
                .map(|d| d.home_dir().join(".postgresql").join("root.crt"))
                .filter(|p| p.is_file())
        });
    let home_file = |name: &str| {
        directories::BaseDirs::new()
            .map(|d| d.home_dir().join(".postgresql").join(name))
            .filter(|p| p.is_file())
    };
    let client_cert = match (
        cert.filter(|c| !c.is_empty()),
        key_file.filter(|k| !k.is_empty()),
    ) {
        (Some(cert), Some(key)) => Some(ClientCert {
            cert: PathBuf::from(cert),
            key: PathBuf::from(key),
        }),
        (Some(_), None) | (None, Some(_)) => {
            return Err(PgError::Url {
                detail: "sslcert and sslkey go together: give both files".to_owned(),
            });
        }
        (None, None) => home_file("postgresql.crt")
            .zip(home_file("postgresql.key"))
            .map(|(cert, key)| ClientCert { cert, key }),
    };
    let encrypt = |mode, verify| TlsMode::Encrypt {
        mode,
        verify,
        root_cert: root_cert.clone(),
        client_cert: client_cert.clone(),
    };
    let tls = match ssl_mode.as_deref().unwrap_or("prefer") {
        "disable" => TlsMode::Disable,
        "allow" | "prefer" => encrypt(SslMode::Prefer, Verify::Nothing),
        "require" => encrypt(SslMode::Require, Verify::Nothing),
        "verify-ca" => encrypt(SslMode::Require, Verify::Chain),
        "verify-full" => encrypt(SslMode::Require, Verify::Full),
        other => {
            return Err(PgError::Url {
                detail: format!(
                    "sslmode `{other}` is not one of disable, prefer, require, verify-ca, verify-full"
                ),
            });
        }
    };
    Ok((config, tls))
}

/// Decodes `%XX` escapes (for a path in `sslrootcert`).
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (b, hex) {
            (b'%', Some(decoded)) => {
                out.push(decoded);
                i += 3;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `postgres://user@host:port/db` of a configuration: the server named in every error.
fn target_of(config: &Config) -> String {
    let host = match config.get_hosts().first() {
        Some(Host::Tcp(host)) if host.contains(':') => format!("[{host}]"),
        Some(Host::Tcp(host)) => host.clone(),
        #[cfg(unix)]
        Some(Host::Unix(path)) => path.display().to_string(),
        None => "localhost".into(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let user = config.get_user().unwrap_or("");
    let db = config.get_dbname().unwrap_or(user);
    format!("postgres://{user}@{host}:{port}/{db}")
}

/// Sets the password from `PGPASSWORD` or the password file when the URL has none; says where
/// it came from (for the error of a refused login).
fn supply_password(config: &mut Config) -> &'static str {
    if config.get_password().is_some() {
        return "the connection string";
    }
    if let Some(password) = env_var("PGPASSWORD") {
        config.password(password);
        return "PGPASSWORD";
    }
    let Some(file) = env_var("PGPASSFILE")
        .map(PathBuf::from)
        .or_else(|| directories::BaseDirs::new().map(|d| d.home_dir().join(".pgpass")))
    else {
        return "nowhere (no password given)";
    };
    let host = match config.get_hosts().first() {
        Some(Host::Tcp(host)) => host.clone(),
        #[cfg(unix)]
        Some(Host::Unix(_)) => "localhost".into(),
        None => "localhost".into(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let user = config.get_user().unwrap_or("").to_owned();
    let db = config.get_dbname().unwrap_or(&user).to_owned();
    match read_pgpass(&file) {
        Some(contents) => match pgpass_lookup(&contents, &host, port, &db, &user) {
            Some(password) => {
                config.password(password);
                "the password file (PGPASSFILE or ~/.pgpass)"
            }
            None => "nowhere (no matching line in the password file)",
        },
        None => "nowhere (no password given)",
    }
}

/// The password file's text, unless it is missing or readable by others (then libpq ignores
/// it too, and so do we, with a warning).
fn read_pgpass(path: &Path) -> Option<String> {
    let meta = std::fs::metadata(path).ok()?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if meta.permissions().mode() & 0o077 != 0 {
            log::warn!(
                "password file {} has group or world access; ignored (chmod 0600 it)",
                path.display()
            );
            return None;
        }
    }
    #[cfg(not(unix))]
    let _ = meta;
    std::fs::read_to_string(path).ok()
}

/// The password of the first line of a `.pgpass` text (`host:port:database:user:password`, `*`
/// matching anything, `\:` and `\\` escaped) that matches the connection.
fn pgpass_lookup(contents: &str, host: &str, port: u16, db: &str, user: &str) -> Option<String> {
    let port = port.to_string();
    contents.lines().find_map(|line| {
        if line.trim_start().starts_with('#') || line.trim().is_empty() {
            return None;
        }
        let mut fields: Vec<String> = vec![String::new()];
        let mut chars = line.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => {
                    if let (Some(next), Some(field)) = (chars.next(), fields.last_mut()) {
                        field.push(next);
                    }
                }
                ':' if fields.len() < 5 => fields.push(String::new()),
                c => {
                    if let Some(field) = fields.last_mut() {
                        field.push(c);
                    }
                }
            }
        }
        let [h, p, d, u, password] = <[String; 5]>::try_from(fields).ok()?;
        let matches = |pattern: &str, value: &str| pattern == "*" || pattern == value;
        (matches(&h, host) && matches(&p, &port) && matches(&d, db) && matches(&u, user))
            .then_some(password)
    })
}

/// The rustls configuration for a verification level, presenting `client_cert` when given.
fn tls_config(
    verify: Verify,
    root_cert: Option<&Path>,
    client_cert: Option<&ClientCert>,
) -> Result<ClientConfig, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?;
    let client = match client_cert {
        Some(files) => {
            let chain = CertificateDer::pem_file_iter(&files.cert)
                .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
                .map_err(|e| format!("cannot read sslcert {}: {e}", files.cert.display()))?;
            if chain.is_empty() {
                return Err(format!(
                    "no certificate in sslcert {}",
                    files.cert.display()
                ));
            }
            let key = PrivateKeyDer::from_pem_file(&files.key)
                .map_err(|e| format!("cannot read sslkey {}: {e}", files.key.display()))?;
            Some((chain, key))
        }
        None => None,
    };
    let finish = |wants: rustls::ConfigBuilder<ClientConfig, rustls::client::WantsClientCert>| {
        match client {
            Some((chain, key)) => wants
                .with_client_auth_cert(chain, key)
                .map_err(|e| format!("the client certificate and key do not fit: {e}")),
            None => Ok(wants.with_no_client_auth()),
        }
    };
    if verify == Verify::Nothing {
        return finish(
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(EncryptOnly(provider))),
        );
    }
    let mut roots = RootCertStore::empty();
    match root_cert {
        Some(path) => {
            let certs = CertificateDer::pem_file_iter(path)
                .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
                .map_err(|e| format!("cannot read sslrootcert {}: {e}", path.display()))?;
            let (added, _) = roots.add_parsable_certificates(certs);
            if added == 0 {
                return Err(format!("no certificate in sslrootcert {}", path.display()));
            }
        }
        None => {
            roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
            roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
        }
    }
    let webpki = rustls::client::WebPkiServerVerifier::builder_with_provider(
        Arc::new(roots),
        provider.clone(),
    )
    .build()
    .map_err(|e| e.to_string())?;
    if verify == Verify::Full {
        finish(builder.with_webpki_verifier(webpki))
    } else {
        finish(
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(ChainOnly(webpki))),
        )
    }
}

/// `sslmode=prefer|require`: the channel is encrypted and the server's signature checked, but
/// its certificate is not (as libpq does without a root certificate).
#[derive(Debug)]
struct EncryptOnly(Arc<CryptoProvider>);

impl ServerCertVerifier for EncryptOnly {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// `sslmode=verify-ca`: the chain must lead to a trusted root; the host name is not checked.
#[derive(Debug)]
struct ChainOnly(Arc<rustls::client::WebPkiServerVerifier>);

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
        {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

/// Classifies a failed connection.
fn connect_error(
    e: &postgres::Error,
    target: &str,
    config: &Config,
    password_from: &'static str,
) -> PgError {
    let target = target.to_owned();
    let detail = describe(e);
    let refused_login = e
        .as_db_error()
        .is_some_and(|db| matches!(db.code().code(), "28P01" | "28000"))
        || detail.contains("password missing");
    let kind = e.to_string();
    if refused_login {
        PgError::Auth {
            target,
            user: config.get_user().unwrap_or("").to_owned(),
            password_from,
            detail,
        }
    } else if kind.starts_with("error performing TLS handshake") {
        PgError::Tls { target, detail }
    } else if kind.starts_with("error connecting to server")
        || kind.starts_with("timeout waiting for server")
    {
        PgError::Unreachable { target, detail }
    } else {
        PgError::Server {
            target,
            doing: "connecting",
            detail,
        }
    }
}

/// An error as one line: the server's severity, code and message, or the client's error and
/// its cause.
pub(crate) fn describe(e: &postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        return format!("{} {}: {}", db.severity(), db.code().code(), db.message());
    }
    match std::error::Error::source(e) {
        Some(source) => format!("{e}: {source}"),
        None => e.to_string(),
    }
}

/// `schema.name`, or `name` alone in `public`.
pub(crate) fn qualified(schema: String, name: String) -> String {
    if schema == "public" {
        name
    } else {
        format!("{schema}.{name}")
    }
}

pub(crate) fn list_or_none(items: &[String]) -> String {
    if items.is_empty() {
        "none".into()
    } else {
        items.join(", ")
    }
}

fn env_var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pgpass_first_matching_line_wins_with_wildcards_and_escapes() {
        let text = "# comment\n\
                    db.example:5432:appeals:viewer:first\n\
                    127.0.0.1:*:*:viewer:pa\\:ss\\\\word\n\
                    *:*:*:*:fallback\n";
        assert_eq!(
            pgpass_lookup(text, "db.example", 5432, "appeals", "viewer").as_deref(),
            Some("first")
        );
        assert_eq!(
            pgpass_lookup(text, "127.0.0.1", 6543, "other", "viewer").as_deref(),
            Some("pa:ss\\word")
        );
        assert_eq!(
            pgpass_lookup(text, "db.example", 5433, "appeals", "viewer").as_deref(),
            Some("fallback")
        );
        assert_eq!(pgpass_lookup("h:1:d:u:p\n", "h", 2, "d", "u"), None);
        assert_eq!(
            pgpass_lookup("too:few:fields\n", "too", 1, "few", "x"),
            None
        );
    }

    #[test]
    fn sslcert_and_sslkey_are_taken_out_of_the_url_together() {
        let (config, tls) = parse_url(
            "postgres://viewer@db.example/appeals?sslmode=require&sslcert=%2Ftmp%2Fc.pem&sslkey=%2Ftmp%2Fk.pem",
        )
        .unwrap();
        assert_eq!(
            tls,
            TlsMode::Encrypt {
                mode: SslMode::Require,
                verify: Verify::Nothing,
                root_cert: None,
                client_cert: Some(ClientCert {
                    cert: PathBuf::from("/tmp/c.pem"),
                    key: PathBuf::from("/tmp/k.pem"),
                }),
            }
        );
        assert_eq!(config.get_user(), Some("viewer"));
        let (_, tls) =
            parse_url("host=h user=u sslmode=verify-ca sslcert=/c.pem sslkey='/k.pem'").unwrap();
        assert!(matches!(
            tls,
            TlsMode::Encrypt { client_cert: Some(ClientCert { ref key, .. }), .. }
                if key == Path::new("/k.pem")
        ));
        let err = parse_url("postgres://u@h/db?sslcert=%2Fc.pem").unwrap_err();
        assert!(err.to_string().contains("sslcert and sslkey"), "{err}");
    }

    #[test]
    fn sslmode_and_rootcert_are_taken_out_of_the_url() {
        let (config, tls) =
            parse_url("postgres://viewer:secret@db.example:6543/appeals?sslmode=verify-full&sslrootcert=%2Ftmp%2Fca.pem&connect_timeout=3")
                .unwrap();
        assert_eq!(
            tls,
            TlsMode::Encrypt {
                mode: SslMode::Require,
                verify: Verify::Full,
                root_cert: Some(PathBuf::from("/tmp/ca.pem")),
                client_cert: None,
            }
        );
        assert_eq!(
            config.get_connect_timeout(),
            Some(&std::time::Duration::from_secs(3))
        );
        let target = target_of(&config);
        assert_eq!(target, "postgres://viewer@db.example:6543/appeals");
        assert!(!target.contains("secret"));
        let (_, tls) = parse_url("host=h user=u sslmode=disable").unwrap();
        assert_eq!(tls, TlsMode::Disable);
        let err = parse_url("postgres://u:secret@h/db?sslmode=sometimes").unwrap_err();
        assert!(err.to_string().contains("sometimes"), "{err}");
        assert!(!err.to_string().contains("secret"), "{err}");
    }

    #[test]
    fn cells_arrive_as_sqlite_would_hold_them() {
        assert_eq!(cell_expr("\"id\"", "bigint").1, CellKind::Int);
        assert_eq!(cell_expr("\"lat\"", "numeric").1, CellKind::Float);
        assert_eq!(cell_expr("\"lat\"", "text").1, CellKind::Text);
        assert!(
            cell_expr("\"r\"", "timestamp with time zone")
                .0
                .starts_with("to_char(")
        );
    }
}
