//! The PostgreSQL/PostGIS source against a real server (`TEPLOKARTA_PG_URL`, started by
//! `.ci/run`): the same generated appeals loaded from SQLite and from PostgreSQL give identical
//! `Appeals` (text, numeric, timestamptz and PostGIS variants), connection and schema failures
//! give clear errors, and the store's connection cannot write.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::pg::{Schema, admin, pg_url};
use std::sync::atomic::Ordering;

use teplokarta::data::{AppealStore, Appeals, LoadOptions, PgError, PgOptions, PgStore};

/// `url` with `extra` (`key=value`) added to its query.
fn with_param(url: &str, extra: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}{extra}")
}

/// How the Postgres table stores what SQLite stores as TEXT and REAL.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Variant {
    /// `lat numeric`, `lon double precision`, timestamps as text.
    Numeric,
    /// `lat`/`lon` as text (as a CSV import might leave them).
    TextCoordinates,
    /// `received_at`/`resolved_at` as `timestamptz`.
    Timestamptz,
    /// A PostGIS `geom geometry(Point, 4326)` instead of `lat`/`lon`.
    Geometry,
}

/// Rows with data-quality problems, added to the generated ones; which of them a variant can
/// hold.
fn extra_rows(variant: Variant) -> Vec<&'static str> {
    let mut rows = vec![
        // Exactly 0,0; out of range; white space municipality; a number in a text column; a
        // status outside the contract.
        "(900001, '2021-05-01T10:00:00+05:00', 'pos', 'ЖКХ', NULL, 'Тюмень', 'new', NULL, 0.0, 0.0)",
        "(900002, '2021-05-02 11:30', 'social', 'Дороги', 'Ямы', 'Ишим', 'resolved', '2021-05-03T09:00:00+05:00', 57.1, 200.0)",
        "(900003, '2021-05-03', 'pos', 'ЖКХ', 5, '   ', 'archived', NULL, 57.2, 65.5)",
        "(900004, '2021-05-04T08:00:00.250+05:00', 'pos', 'ЖКХ', 'Отопление', NULL, 'in_progress', NULL, NULL, NULL)",
    ];
    if variant != Variant::Timestamptz {
        // Unparsable dates.
        rows.push("(900010, 'вчера', 'pos', 'ЖКХ', NULL, 'Тобольск', 'new', 'soon', 57.3, 65.6)");
        rows.push("(900011, '2021-13-45', 'pos', 'ЖКХ', NULL, NULL, 'new', '  ', 57.4, 65.7)");
    }
    if variant != Variant::Geometry {
        // Only one coordinate.
        rows.push("(900020, '2021-05-05', 'pos', 'ЖКХ', NULL, NULL, 'new', NULL, 57.0, NULL)");
    }
    if variant == Variant::TextCoordinates {
        // A decimal comma (placed) and text that is not a number.
        rows.push(
            "(900030, '2021-05-06', 'pos', 'ЖКХ', NULL, NULL, 'new', NULL, '57,15', '65,53')",
        );
        rows.push("(900031, '2021-05-07', 'pos', 'ЖКХ', NULL, NULL, 'new', NULL, 'abc', '65.5')");
    }
    rows
}

/// A generated SQLite database with the variant's extra rows.
fn sqlite_fixture(variant: Variant, rows: usize) -> (tempfile::TempDir, std::path::PathBuf) {
    let (dir, path) = common::demo_db(rows, 20_260_901);
    let conn = rusqlite::Connection::open(&path).unwrap();
    for row in extra_rows(variant) {
        conn.execute_batch(&format!(
            "INSERT INTO appeals (id, received_at, source, category, subcategory, municipality, \
             status, resolved_at, lat, lon) VALUES {row}"
        ))
        .unwrap();
    }
    (dir, path)
}

/// Creates `table` in the variant's types and copies every row of the SQLite file into it.
fn copy_to_postgres(
    client: &mut postgres::Client,
    sqlite: &std::path::Path,
    table: &str,
    variant: Variant,
) {
    let (ts, coords) = match variant {
        Variant::Numeric => ("text", "lat numeric, lon double precision"),
        Variant::TextCoordinates => ("text", "lat text, lon text"),
        Variant::Timestamptz => ("timestamptz", "lat double precision, lon double precision"),
        Variant::Geometry => ("text", "geom geometry(Point, 4326)"),
    };
    if variant == Variant::Timestamptz {
        // Times without an offset are the appeals' local (+05:00) wall clock, as in SQLite.
        client.batch_execute("SET TimeZone = 'Etc/GMT-5'").unwrap();
    }
    client
        .batch_execute(&format!(
            "CREATE TABLE {table} (id bigint PRIMARY KEY, external_id text, received_at {ts}, \
             source text, category text, subcategory text, municipality text, settlement text, \
             address text, {coords}, status text, resolved_at {ts}, text text)"
        ))
        .unwrap();
    let coords_sql = match variant {
        Variant::Geometry => {
            "geom, status, resolved_at, text) VALUES ($1, $2, CAST($3::text AS text), $4, $5, $6, $7, $8, $9, \
             CASE WHEN $10::float8 IS NOT NULL AND $11::float8 IS NOT NULL \
             THEN ST_SetSRID(ST_MakePoint($11, $10), 4326) END, $12, CAST($13::text AS text), $14)"
        }
        Variant::TextCoordinates => {
            "lat, lon, status, resolved_at, text) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::text, $11::text, $12, \
             $13, $14)"
        }
        _ => {
            "lat, lon, status, resolved_at, text) VALUES ($1, $2, CAST($3::text AS {ts}), $4, $5, $6, $7, $8, $9, \
             CAST($10::float8 AS numeric), $11::float8, $12, CAST($13::text AS {ts}), $14)"
        }
    };
    let insert = format!(
        "INSERT INTO {table} (id, external_id, received_at, source, category, subcategory, \
         municipality, settlement, address, {}",
        coords_sql.replace("{ts}", ts)
    );
    let conn = rusqlite::Connection::open(sqlite).unwrap();
    let mut stmt = conn
        .prepare(
            "SELECT id, external_id, received_at, source, category, subcategory, municipality, \
             settlement, address, lat, lon, status, resolved_at, text FROM appeals ORDER BY id",
        )
        .unwrap();
    let mut rows = stmt.query([]).unwrap();
    let mut tx = client.transaction().unwrap();
    let statement = tx.prepare(&insert).unwrap();
    use rusqlite::types::ValueRef as V;
    let text = |v: V<'_>| -> Option<String> {
        match v {
            V::Null => None,
            V::Text(t) => Some(String::from_utf8(t.to_vec()).unwrap()),
            V::Integer(i) => Some(i.to_string()),
            V::Real(r) => Some(r.to_string()),
            V::Blob(_) => panic!("no BLOBs in the fixture"),
        }
    };
    let number = |v: V<'_>| -> Option<f64> {
        match v {
            V::Null => None,
            V::Real(r) => Some(r),
            V::Integer(i) => Some(i as f64),
            other => panic!("a {variant:?} table cannot hold coordinate {other:?}"),
        }
    };
    while let Some(row) = rows.next().unwrap() {
        let id: i64 = row.get(0).unwrap();
        let cells: Vec<Option<String>> = (1..14).map(|i| text(row.get_ref(i).unwrap())).collect();
        let (lat, lon) = (row.get_ref(9).unwrap(), row.get_ref(10).unwrap());
        let params: Vec<Box<dyn postgres::types::ToSql + Sync>> = (1..14)
            .map(|i| -> Box<dyn postgres::types::ToSql + Sync> {
                match (i, variant) {
                    (9, Variant::TextCoordinates) => Box::new(text(lat)),
                    (10, Variant::TextCoordinates) => Box::new(text(lon)),
                    (9, _) => Box::new(number(lat)),
                    (10, _) => Box::new(number(lon)),
                    _ => Box::new(cells[i - 1].clone()),
                }
            })
            .collect();
        let mut refs: Vec<&(dyn postgres::types::ToSql + Sync)> = vec![&id];
        refs.extend(params.iter().map(|p| p.as_ref()));
        tx.execute(&statement, &refs).unwrap();
    }
    tx.commit().unwrap();
}

/// A dictionary column's text in row `i`.
type FieldName = fn(&Appeals, usize) -> Option<String>;

/// Asserts that two loads are the same appeals: row by row through the dictionaries' names,
/// the parsed times, the coordinates to the bit, placements, row flags and the quality figures
/// with their samples; and the same dictionaries in the same order.
fn assert_same_appeals(sqlite: &Appeals, pg: &Appeals) {
    assert_eq!(sqlite.len(), pg.len(), "row counts");
    assert_eq!(sqlite.id, pg.id, "ids");
    for i in 0..sqlite.len() {
        let id = sqlite.id[i];
        assert_eq!(sqlite.received[i], pg.received[i], "received_at of id {id}");
        assert_eq!(sqlite.resolved[i], pg.resolved[i], "resolved_at of id {id}");
        let fields: [(&str, FieldName); 7] = [
            ("source", |a, i| {
                Some(a.sources.name(a.source[i]).to_owned())
            }),
            ("category", |a, i| {
                Some(a.categories.name(a.category[i]).to_owned())
            }),
            ("status", |a, i| {
                Some(a.statuses.name(a.status[i]).to_owned())
            }),
            ("subcategory", |a, i| {
                a.subcategory[i].map(|c| a.subcategories.name(c).to_owned())
            }),
            ("municipality", |a, i| {
                a.municipality[i].map(|c| a.municipalities.name(c).to_owned())
            }),
            ("settlement", |a, i| {
                a.settlement[i].map(|c| a.settlements.name(c).to_owned())
            }),
            ("address", |a, i| {
                a.address[i].map(|c| a.addresses.name(c).to_owned())
            }),
        ];
        for (field, pick) in fields {
            assert_eq!(pick(sqlite, i), pick(pg, i), "{field} of id {id}");
        }
        assert_eq!(
            sqlite.lon[i].to_bits(),
            pg.lon[i].to_bits(),
            "lon of id {id}"
        );
        assert_eq!(
            sqlite.lat[i].to_bits(),
            pg.lat[i].to_bits(),
            "lat of id {id}"
        );
        assert_eq!(sqlite.placement[i], pg.placement[i], "placement of id {id}");
        assert_eq!(sqlite.row_flags[i], pg.row_flags[i], "row flags of id {id}");
    }
    assert_eq!(sqlite.sources.names(), pg.sources.names());
    assert_eq!(sqlite.categories.names(), pg.categories.names());
    assert_eq!(sqlite.subcategories.names(), pg.subcategories.names());
    assert_eq!(sqlite.municipalities.names(), pg.municipalities.names());
    assert_eq!(sqlite.settlements.names(), pg.settlements.names());
    assert_eq!(sqlite.addresses.names(), pg.addresses.names());
    assert_eq!(sqlite.statuses.names(), pg.statuses.names());
    assert_eq!(sqlite.quality, pg.quality, "quality figures and samples");
}

/// Loads the variant's fixture from SQLite and from PostgreSQL and compares them.
fn same_as_sqlite(variant: Variant, url: &str, options: PgOptions) -> (Appeals, PgStore) {
    let mut schema = Schema::new("tk_test");
    let (_dir, sqlite_path) = sqlite_fixture(variant, 3_000);
    let table = schema.table("appeals");
    copy_to_postgres(&mut schema.client, &sqlite_path, &table, variant);
    let sqlite = AppealStore::open(&sqlite_path, &LoadOptions::default())
        .unwrap()
        .load()
        .unwrap();
    let store = PgStore::connect_with(
        url,
        &PgOptions {
            table: Some(table.clone()),
            ..options
        },
    )
    .unwrap();
    let pg = store.load().unwrap();
    assert_same_appeals(&sqlite, &pg);
    // The fixture has every kind of problem the variant can hold.
    let q = &pg.quality;
    assert_eq!(q.rows as usize, 3_000 + extra_rows(variant).len());
    assert!(
        q.coordinates_zero_zero >= 1 && q.coordinates_out_of_range >= 1,
        "{q:?}"
    );
    if variant != Variant::Timestamptz {
        assert!(
            q.received_unparsable >= 2 && q.resolved_unparsable >= 1,
            "{q:?}"
        );
    }
    if variant == Variant::TextCoordinates {
        assert!(
            q.coordinates_not_numeric >= 1 && q.partial_coordinates >= 1,
            "{q:?}"
        );
    }
    drop(schema);
    (pg, store)
}

#[test]
#[ignore = "needs PostgreSQL: TEPLOKARTA_PG_URL"]
fn numeric_table_loads_the_same_appeals_as_sqlite_through_a_small_cursor() {
    let (pg, store) = same_as_sqlite(
        Variant::Numeric,
        &pg_url(),
        PgOptions {
            batch_rows: 777,
            ..PgOptions::default()
        },
    );
    assert!(pg.len() > 777 * 3, "several cursor batches");
    assert_eq!(store.geometry_column(), None);
    assert!(store.present_optional_columns().contains(&"lat"));
    assert!(!store.target().contains(&password_of(&pg_url())));
}

#[test]
#[ignore = "needs PostgreSQL: TEPLOKARTA_PG_URL"]
fn text_coordinates_load_the_same_appeals_as_sqlite() {
    same_as_sqlite(Variant::TextCoordinates, &pg_url(), PgOptions::default());
}

#[test]
#[ignore = "needs PostgreSQL: TEPLOKARTA_PG_URL"]
fn timestamptz_columns_load_the_same_local_times_as_sqlite_text() {
    // The generated times are at +05:00: a session in that zone sees the same wall clock.
    let url = with_param(&pg_url(), "options=-c%20TimeZone%3DEtc/GMT-5");
    let (pg, _) = same_as_sqlite(Variant::Timestamptz, &url, PgOptions::default());
    assert!(pg.received.iter().filter(|t| t.is_some()).count() > 3_000);
}

/// Whether the server has PostGIS (made available in the database); without it a PostGIS test
/// is skipped, unless `TEPLOKARTA_PG_REQUIRE_POSTGIS` says it must run (as in `.ci/run`).
fn postgis_available() -> bool {
    match admin().batch_execute("CREATE EXTENSION IF NOT EXISTS postgis") {
        Ok(()) => true,
        Err(e) => {
            assert!(
                std::env::var_os("TEPLOKARTA_PG_REQUIRE_POSTGIS").is_none(),
                "PostGIS is required (TEPLOKARTA_PG_REQUIRE_POSTGIS) but unavailable: {e}"
            );
            eprintln!("PostGIS is not available on this server: skipped ({e})");
            false
        }
    }
}

#[test]
#[ignore = "needs PostgreSQL: TEPLOKARTA_PG_URL"]
fn postgis_point_column_loads_the_same_appeals_as_sqlite() {
    if !postgis_available() {
        return;
    }
    let (pg, store) = same_as_sqlite(Variant::Geometry, &pg_url(), PgOptions::default());
    assert_eq!(store.geometry_column(), Some("geom"));
    assert!(pg.quality.placed > 2_000, "{:?}", pg.quality);
}

/// A point column in another SRID (Web Mercator here) is read as longitude and latitude: the
/// same appeals as the 4326 column, within a nanodegree (the round trip through metres).
#[test]
#[ignore = "needs PostgreSQL: TEPLOKARTA_PG_URL"]
fn postgis_point_column_in_another_srid_is_transformed_to_lon_lat() {
    if !postgis_available() {
        return;
    }
    let mut schema = Schema::new("tk_srid");
    let (_dir, sqlite_path) = sqlite_fixture(Variant::Geometry, 1_000);
    let wgs84 = schema.table("wgs84");
    copy_to_postgres(&mut schema.client, &sqlite_path, &wgs84, Variant::Geometry);
    let mercator = schema.table("mercator");
    // Points Web Mercator can hold; NULL and non-point geometries as they are.
    schema
        .client
        .batch_execute(&format!(
            "CREATE TABLE {mercator} AS SELECT id, external_id, received_at, source, category, \
             subcategory, municipality, settlement, address, status, resolved_at, text, \
             CASE WHEN geom IS NULL THEN NULL::geometry(Point, 3857) \
             ELSE ST_Transform(geom, 3857)::geometry(Point, 3857) END AS geom \
             FROM {wgs84} WHERE geom IS NULL OR (ST_Y(geom) BETWEEN -85 AND 85 \
             AND ST_X(geom) BETWEEN -180 AND 180)"
        ))
        .unwrap();
    let load = |table: &str| {
        PgStore::connect_with(
            &pg_url(),
            &PgOptions {
                table: Some(table.to_owned()),
                ..PgOptions::default()
            },
        )
        .unwrap()
        .load()
        .unwrap()
    };
    let (a, b) = (load(&wgs84), load(&mercator));
    assert!(b.len() > 900, "{}", b.len());
    let row_of: std::collections::HashMap<i64, usize> =
        a.id.iter().enumerate().map(|(i, &id)| (id, i)).collect();
    let mut placed = 0;
    for j in 0..b.len() {
        let i = row_of[&b.id[j]];
        assert_eq!(
            a.placement[i], b.placement[j],
            "placement of id {}",
            b.id[j]
        );
        if a.placement[i] == teplokarta::data::Placement::Placed {
            placed += 1;
            assert!((a.lon[i] - b.lon[j]).abs() < 1e-9, "lon of id {}", b.id[j]);
            assert!((a.lat[i] - b.lat[j]).abs() < 1e-9, "lat of id {}", b.id[j]);
        }
    }
    assert!(placed > 800, "{placed}");
    drop(schema);
}

fn password_of(url: &str) -> String {
    let config: postgres::Config = url.parse().unwrap();
    String::from_utf8(config.get_password().unwrap_or_default().to_vec()).unwrap()
}

/// `postgres://user:password@host:port/db` of the test server with another password.
fn url_with_password(password: &str) -> (String, String) {
    let config: postgres::Config = pg_url().parse().unwrap();
    let host = match &config.get_hosts()[0] {
        postgres::config::Host::Tcp(h) => h.clone(),
        #[allow(unreachable_patterns)]
        _ => panic!("TEPLOKARTA_PG_URL must name a TCP host"),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let user = config.get_user().unwrap().to_owned();
    let db = config.get_dbname().unwrap_or(&user).to_owned();
    (
        format!("postgres://{user}:{password}@{host}:{port}/{db}?sslmode=disable"),
        user,
    )
}

#[test]
#[ignore = "needs PostgreSQL: TEPLOKARTA_PG_URL"]
fn wrong_password_is_a_clear_error_without_the_password() {
    let (url, user) = url_with_password("definitely-not-the-password");
    let err = PgStore::connect(&url, None).unwrap_err();
    let message = err.to_string();
    assert!(matches!(err, PgError::Auth { .. }), "{err:?}");
    assert!(
        message.contains(&format!("refused user `{user}`")),
        "{message}"
    );
    assert!(
        message.contains("the password was taken from the connection string"),
        "{message}"
    );
    assert!(message.contains("28P01"), "{message}");
    assert!(
        !message.contains("definitely-not-the-password"),
        "{message}"
    );
}

#[test]
#[ignore = "needs PostgreSQL: TEPLOKARTA_PG_URL"]
fn missing_table_lists_the_tables_present() {
    let mut schema = Schema::new("tk_test");
    let other = schema.table("other_table");
    schema
        .client
        .batch_execute(&format!("CREATE TABLE {other} (x int)"))
        .unwrap();
    let wanted = schema.table("appeals");
    let err = PgStore::connect(&pg_url(), Some(&wanted)).unwrap_err();
    let message = err.to_string();
    assert!(matches!(err, PgError::MissingTable { .. }), "{err:?}");
    assert!(
        message.contains(&format!("no table `{wanted}`")),
        "{message}"
    );
    assert!(
        message.contains(&format!("tables present: {other}")),
        "{message}"
    );
    assert!(message.contains("postgres://"), "{message}");
    assert!(!message.contains(&password_of(&pg_url())), "{message}");
}

#[test]
#[ignore = "needs PostgreSQL: TEPLOKARTA_PG_URL"]
fn missing_column_lists_the_columns_present() {
    let mut schema = Schema::new("tk_test");
    let table = schema.table("Appeals_Without_Status");
    schema
        .client
        .batch_execute(&format!(
            "CREATE TABLE {} (id bigint, received_at text, source text, category text)",
            table.to_lowercase()
        ))
        .unwrap();
    // Table names are matched case-insensitively, as in SQLite.
    let err = PgStore::connect(&pg_url(), Some(&table)).unwrap_err();
    let message = err.to_string();
    assert!(
        matches!(
            err,
            PgError::MissingColumn {
                column: "status",
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        message.contains("columns present: id, received_at, source, category"),
        "{message}"
    );
}

#[test]
#[ignore = "needs PostgreSQL: TEPLOKARTA_PG_URL"]
fn non_integer_id_is_a_wrong_type_error_naming_the_column() {
    let mut schema = Schema::new("tk_test");
    let table = schema.table("appeals");
    schema
        .client
        .batch_execute(&format!(
            "CREATE TABLE {table} (id text, received_at text, source text, category text, \
             status text); INSERT INTO {table} VALUES ('7', '2021-01-01', 'pos', 'ЖКХ', 'new'), \
             ('x1', '2021-01-01', 'pos', 'ЖКХ', 'new')"
        ))
        .unwrap();
    let err = PgStore::connect(&pg_url(), Some(&table))
        .unwrap()
        .load()
        .unwrap_err();
    assert!(
        matches!(&err, PgError::WrongType { column: "id", found, .. } if found.contains("x1")),
        "{err:?}"
    );
}

#[test]
#[ignore = "needs PostgreSQL: TEPLOKARTA_PG_URL"]
fn server_down_is_a_clear_error() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let url = format!("postgres://viewer:secret@127.0.0.1:{port}/appeals?connect_timeout=5");
    let err = PgStore::connect(&url, None).unwrap_err();
    let message = err.to_string();
    assert!(matches!(err, PgError::Unreachable { .. }), "{err:?}");
    assert!(
        message.ends_with(&format!(": postgres://viewer@127.0.0.1:{port}/appeals")),
        "{message}"
    );
    assert!(message.contains("refused"), "{message}");
    assert!(!message.contains("secret"), "{message}");
}

#[test]
#[ignore = "needs PostgreSQL: TEPLOKARTA_PG_URL"]
fn the_store_connection_cannot_write() {
    let mut schema = Schema::new("tk_test");
    let table = schema.table("appeals");
    schema
        .client
        .batch_execute(&format!(
            "CREATE TABLE {table} (id bigint PRIMARY KEY, received_at text, source text, \
             category text, status text); \
             INSERT INTO {table} VALUES (1, '2021-01-01', 'pos', 'ЖКХ', 'new')"
        ))
        .unwrap();
    let store = PgStore::connect(&pg_url(), Some(&table)).unwrap();
    assert_eq!(store.load().unwrap().len(), 1);
    for write in [
        format!("INSERT INTO {table} VALUES (2, '2021-01-02', 'pos', 'ЖКХ', 'new')"),
        format!("DELETE FROM {table}"),
        format!("CREATE TABLE {}.sneaky (x int)", schema.name),
    ] {
        let err = store
            .with_snapshot(|tx| tx.execute(&write, &[]))
            .unwrap_err();
        assert!(
            err.to_string().contains("25006") && err.to_string().contains("read-only"),
            "{write}: {err}"
        );
    }
    // Even a transaction the caller opens itself is read-only (the session's default).
    let err = store
        .with_snapshot(|tx| {
            tx.batch_execute("COMMIT; BEGIN")?;
            tx.execute(&format!("DELETE FROM {table}"), &[])
        })
        .unwrap_err();
    assert!(err.to_string().contains("25006"), "{err}");
    let rows: i64 = schema
        .client
        .query_one(&format!("SELECT count(*) FROM {table}"), &[])
        .unwrap()
        .get(0);
    assert_eq!(rows, 1, "nothing was written");
    // The load is one snapshot: it sees its own data, consistent within the transaction.
    let (a, b): (i64, i64) = store
        .with_snapshot(|tx| {
            let a: i64 = tx
                .query_one(&format!("SELECT count(*) FROM {table}"), &[])?
                .get(0);
            let mut other = admin();
            other
                .execute(
                    &format!("INSERT INTO {table} VALUES (3, '2021-01-03', 'pos', 'ЖКХ', 'new')"),
                    &[],
                )
                .unwrap();
            let b: i64 = tx
                .query_one(&format!("SELECT count(*) FROM {table}"), &[])?
                .get(0);
            Ok((a, b))
        })
        .unwrap();
    assert_eq!(
        (a, b),
        (1, 1),
        "a row committed meanwhile is not seen in the snapshot"
    );
    assert_eq!(store.load().unwrap().len(), 2, "the next load sees it");
}

/// A role the server admits only with a client certificate (`pg_hba.conf`: `hostssl … cert`,
/// set up by `.ci/run`) logs in with `sslcert`/`sslkey` and reads the same appeals as the
/// table's owner; without them the server refuses it.
#[test]
#[ignore = "needs PostgreSQL: TEPLOKARTA_PG_URL"]
fn a_client_certificate_logs_in_where_the_server_asks_for_one() {
    let var = |name: &str| std::env::var(name).ok();
    let (Some(cert), Some(key), Some(user), Some(root)) = (
        var("TEPLOKARTA_PG_CLIENT_CERT"),
        var("TEPLOKARTA_PG_CLIENT_KEY"),
        var("TEPLOKARTA_PG_CERT_USER"),
        var("TEPLOKARTA_PG_ROOT_CERT"),
    ) else {
        assert!(
            var("TEPLOKARTA_PG_REQUIRE_CLIENT_CERT").is_none(),
            "TEPLOKARTA_PG_REQUIRE_CLIENT_CERT is set but the client certificate is not"
        );
        eprintln!("no client certificate set up (TEPLOKARTA_PG_CLIENT_CERT): skipped");
        return;
    };
    let mut schema = Schema::new("tk_cert");
    let (_dir, sqlite_path) = sqlite_fixture(Variant::Numeric, 200);
    let table = schema.table("appeals");
    copy_to_postgres(&mut schema.client, &sqlite_path, &table, Variant::Numeric);
    schema
        .client
        .batch_execute(&format!(
            "GRANT USAGE ON SCHEMA {} TO {user}; GRANT SELECT ON {table} TO {user}",
            schema.name
        ))
        .unwrap();
    let owner = PgStore::connect(&pg_url(), Some(&table))
        .unwrap()
        .load()
        .unwrap();
    let config: postgres::Config = pg_url().parse().unwrap();
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let db = config.get_dbname().unwrap();
    let enc = |path: &str| path.replace('/', "%2F");
    let base = format!(
        "postgres://{user}@127.0.0.1:{port}/{db}?sslmode=verify-full&sslrootcert={}",
        enc(&root)
    );
    let with_cert = format!("{base}&sslcert={}&sslkey={}", enc(&cert), enc(&key));
    let store = PgStore::connect(&with_cert, Some(&table)).unwrap_or_else(|e| panic!("{e}"));
    let appeals = store.load().unwrap();
    assert_eq!(appeals.id, owner.id);
    assert_eq!(appeals.quality, owner.quality);
    // Without a certificate (and no password: the role has none) the server refuses.
    let err = PgStore::connect(&base, Some(&table))
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("certificate"), "{err}");
    // A file that holds no private key is named as the `sslkey` it was given as.
    let err = PgStore::connect(
        &format!("{base}&sslcert={}&sslkey={}", enc(&cert), enc(&root)),
        Some(&table),
    )
    .err()
    .unwrap()
    .to_string();
    assert!(err.contains("sslkey"), "{err}");
    drop(schema);
}

#[test]
#[ignore = "needs PostgreSQL: TEPLOKARTA_PG_URL"]
fn tls_modes_encrypt_and_verify_the_server() {
    let Some(root) = std::env::var_os("TEPLOKARTA_PG_ROOT_CERT") else {
        eprintln!("TEPLOKARTA_PG_ROOT_CERT is not set: the TLS test is skipped");
        return;
    };
    let root = root.to_str().unwrap().replace('/', "%2F");
    let ssl_in_use = |store: &PgStore| -> bool {
        store
            .with_snapshot(|tx| {
                Ok(tx
                    .query_one(
                        "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
                        &[],
                    )?
                    .get(0))
            })
            .unwrap()
    };
    let mut schema = Schema::new("tk_test");
    let table = schema.table("appeals");
    schema
        .client
        .batch_execute(&format!(
            "CREATE TABLE {table} (id bigint, received_at text, source text, category text, \
             status text)"
        ))
        .unwrap();
    for mode in [
        "sslmode=require".to_owned(),
        format!("sslmode=verify-ca&sslrootcert={root}"),
        format!("sslmode=verify-full&sslrootcert={root}"),
    ] {
        let store = PgStore::connect(&with_param(&pg_url(), &mode), Some(&table))
            .unwrap_or_else(|e| panic!("{mode}: {e}"));
        assert!(ssl_in_use(&store), "{mode}: the session is encrypted");
    }
    let plain = PgStore::connect(&with_param(&pg_url(), "sslmode=disable"), Some(&table)).unwrap();
    assert!(!ssl_in_use(&plain));
    // The test CA is in no public or system store: verify-full without it must refuse.
    let err =
        PgStore::connect(&with_param(&pg_url(), "sslmode=verify-full"), Some(&table)).unwrap_err();
    assert!(matches!(err, PgError::Tls { .. }), "{err:?}");
    assert!(err.to_string().contains("TLS"), "{err}");
}

// ---------------------------------------------------------------------------------------------
// The PostgreSQL source through the command line and the window (`data::Source`).

/// The numeric fixture (3,000 generated appeals and the quality rows) in SQLite and in a fresh
/// schema's table; the schema is dropped with the returned guard.
fn fixture_in_both() -> (Schema, String, tempfile::TempDir, std::path::PathBuf) {
    let mut schema = Schema::new("tk_test");
    let (dir, sqlite_path) = sqlite_fixture(Variant::Numeric, 3_000);
    let table = schema.table("appeals");
    copy_to_postgres(&mut schema.client, &sqlite_path, &table, Variant::Numeric);
    (schema, table, dir, sqlite_path)
}

fn count_rows(client: &mut postgres::Client, table: &str) -> usize {
    let n: i64 = client
        .query_one(&format!("SELECT count(*) FROM {table}"), &[])
        .unwrap()
        .get(0);
    n as usize
}

#[test]
#[ignore = "needs PostgreSQL: TEPLOKARTA_PG_URL"]
fn cli_stats_and_check_on_postgres_equal_sqlite() {
    let (schema, table, _dir, sqlite) = fixture_in_both();
    let url = pg_url();
    let sqlite = sqlite.to_str().unwrap();
    for by in [
        "municipality,category",
        "source,status",
        "month",
        "settlement",
    ] {
        let from_pg = common::run_cli(&[
            "stats", &url, "--table", &table, "--by", by, "--format", "csv",
        ])
        .unwrap();
        let from_sqlite =
            common::run_cli(&["stats", sqlite, "--by", by, "--format", "csv"]).unwrap();
        assert_eq!(from_pg, from_sqlite, "stats --by {by}");
        assert!(from_pg.lines().count() > 3, "{from_pg}");
    }
    // The choropleth's values, ranks and classes, as the legend shows them.
    let args = |db: &str| {
        vec![
            "stats".to_owned(),
            db.to_owned(),
            "--by".into(),
            "municipality".into(),
            "--metric".into(),
            "per10k".into(),
            "--category".into(),
            "ЖКХ".into(),
        ]
    };
    let mut pg_args = args(&url);
    pg_args.extend(["--table".to_owned(), table.clone()]);
    let pg_args: Vec<&str> = pg_args.iter().map(String::as_str).collect();
    let sqlite_args = args(sqlite);
    let sqlite_args: Vec<&str> = sqlite_args.iter().map(String::as_str).collect();
    assert_eq!(
        common::run_cli(&pg_args).unwrap(),
        common::run_cli(&sqlite_args).unwrap()
    );

    // The problem map's zones and the density raster.
    let out = tempfile::tempdir().unwrap();
    for (command, file, extra) in [
        (
            "problems",
            "zones.csv",
            vec!["--profile", "heating", "--out"],
        ),
        ("heat", "heat.tif", vec!["--size", "256x256", "--out"]),
    ] {
        let from_pg = out.path().join(format!("pg-{file}"));
        let from_sqlite = out.path().join(format!("sqlite-{file}"));
        let mut pg_args = vec![command, url.as_str(), "--table", table.as_str()];
        pg_args.extend_from_slice(&extra);
        pg_args.push(from_pg.to_str().unwrap());
        common::run_cli(&pg_args).unwrap();
        let mut sqlite_args = vec![command, sqlite];
        sqlite_args.extend_from_slice(&extra);
        sqlite_args.push(from_sqlite.to_str().unwrap());
        common::run_cli(&sqlite_args).unwrap();
        let bytes = std::fs::read(&from_pg).unwrap();
        assert!(bytes.len() > 100, "{command}");
        assert_eq!(bytes, std::fs::read(&from_sqlite).unwrap(), "{command}");
    }

    let check_pg = common::run_cli(&["check", &url, "--table", &table]).unwrap();
    let check_sqlite = common::run_cli(&["check", sqlite]).unwrap();
    let (pg_first, pg_rest) = check_pg.split_once('\n').unwrap();
    let (sqlite_first, sqlite_rest) = check_sqlite.split_once('\n').unwrap();
    assert_eq!(pg_rest, sqlite_rest, "check's figures");
    assert!(sqlite_first.starts_with("file: "), "{sqlite_first}");
    assert!(pg_first.starts_with("source: postgres://"), "{pg_first}");
    assert!(pg_first.ends_with(&format!("table {table}")), "{pg_first}");
    let password = password_of(&url);
    assert!(
        !password.is_empty() && !check_pg.contains(&password),
        "{pg_first}"
    );
    assert!(check_pg.contains("rows: 3007"), "{check_pg}");
    // Read in batches (one pass, `Summary::merge`): the same figures and examples whatever the
    // batch size, down to one row per batch.
    assert!(check_pg.contains("  e.g. "), "{check_pg}");
    for batch in ["1", "7", "500"] {
        let batched =
            common::run_cli(&["check", &url, "--table", &table, "--batch-rows", batch]).unwrap();
        assert_eq!(batched, check_pg, "--batch-rows {batch}");
    }
    drop(schema);
}

/// An export's data hash read in batches (`PgStore::for_each_batch`, how a grouped table's
/// export hashes its rows) equals the hash of the whole table loaded, for integer and for text
/// ids — whose text order (`"10" < "9"`) is not the numbers' the hash sorts by — with batches
/// of 7 rows.
#[test]
#[ignore = "needs PostgreSQL: TEPLOKARTA_PG_URL"]
fn the_data_hash_read_in_batches_equals_the_loaded_tables() {
    use teplokarta::analysis::export::{DataHasher, data_stamp};
    let mut schema = Schema::new("tk_hash");
    for (name, id_type) in [("ints", "bigint"), ("texts", "text")] {
        let table = format!("{}.{name}", schema.name);
        schema
            .client
            .batch_execute(&format!(
                "CREATE TABLE {table} (id {id_type}, received_at text, source text, \
                 category text, status text, lat double precision, lon double precision); \
                 INSERT INTO {table} SELECT (k * 7 % 31)::text::{id_type}, \
                   '2021-03-' || lpad((1 + k % 28)::text, 2, '0'), 'pos', 'ЖКХ', 'new', \
                   57 + k / 100.0, 65 + k / 50.0 FROM generate_series(1, 30) k; \
                 INSERT INTO {table} VALUES ('1000'::{id_type}, '2021-04-01', 'pos', 'ЖКХ', \
                   'new', NULL, NULL)"
            ))
            .unwrap();
        let url = pg_url();
        let whole = PgStore::connect(&url, Some(&table))
            .unwrap()
            .load()
            .unwrap();
        let store = PgStore::connect_with(
            &url,
            &PgOptions {
                table: Some(table.clone()),
                batch_rows: 7,
                ..PgOptions::default()
            },
        )
        .unwrap();
        let mut hasher = DataHasher::default();
        let mut batches = 0;
        store
            .for_each_batch(&mut |batch| {
                batches += 1;
                hasher.add(batch);
            })
            .unwrap();
        assert!(batches >= 5, "{batches}");
        assert_eq!(hasher.finish(), data_stamp(&whole), "{name}");
    }
    drop(schema);
}

/// `teplokarta ARGS` as a process: its exit status and standard error.
fn run_binary(args: &[&str]) -> (std::process::ExitStatus, String) {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_teplokarta"))
        .args(args)
        .env_remove("PGPASSWORD")
        .env("PGPASSFILE", "/nonexistent/teplokarta-test-pgpass")
        .output()
        .unwrap();
    (
        output.status,
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
#[ignore = "needs PostgreSQL: TEPLOKARTA_PG_URL"]
fn cli_connection_failures_are_one_line_errors_naming_the_server() {
    let (schema, table, _dir, _sqlite) = fixture_in_both();
    let url = pg_url();
    let config: postgres::Config = url.parse().unwrap();
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let (wrong, user) = url_with_password("not-the-password-42");
    let down_port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let down = format!("postgres://{user}:hunter2secret@127.0.0.1:{down_port}/x?connect_timeout=5");
    let password = password_of(&url);
    let cases: Vec<(Vec<String>, String, &str)> = vec![
        (
            vec![
                "stats".into(),
                wrong.clone(),
                "--table".into(),
                table.clone(),
                "--by".into(),
                "source".into(),
            ],
            format!("127.0.0.1:{port}"),
            "refused user",
        ),
        (
            vec![
                "check".into(),
                url.clone(),
                "--table".into(),
                format!("{}.nope", schema.name),
            ],
            format!("127.0.0.1:{port}"),
            "no table",
        ),
        (
            vec!["check".into(), down.clone()],
            format!("127.0.0.1:{down_port}"),
            "cannot reach the PostgreSQL server",
        ),
        (
            vec![
                "heat".into(),
                down,
                "--out".into(),
                "/tmp/never-written.tif".into(),
            ],
            format!("127.0.0.1:{down_port}"),
            "cannot reach the PostgreSQL server",
        ),
    ];
    for (args, server, what) in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (status, stderr) = run_binary(&args);
        assert!(!status.success(), "{args:?}: {stderr}");
        assert_eq!(status.code(), Some(1), "an error, not a panic: {stderr}");
        assert_eq!(stderr.trim().lines().count(), 1, "one line: {stderr}");
        assert!(stderr.starts_with("error: "), "{stderr}");
        assert!(stderr.contains(what), "{args:?}: {stderr}");
        assert!(stderr.contains(&server), "{args:?}: {stderr}");
        for secret in [password.as_str(), "not-the-password-42", "hunter2secret"] {
            assert!(!stderr.contains(secret), "{args:?}: {stderr}");
        }
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
    // A missing column.
    let mut admin = admin();
    let bad = schema.table("no_status");
    admin
        .batch_execute(&format!(
            "CREATE TABLE {bad} (id bigint, received_at text, source text, category text)"
        ))
        .unwrap();
    let (status, stderr) = run_binary(&["stats", &url, "--table", &bad, "--by", "source"]);
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("no required column `status`"), "{stderr}");
    assert!(!stderr.contains(&password), "{stderr}");
    // Without a password in the URL it comes from PGPASSWORD.
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_teplokarta"))
        .args([
            "check",
            &teplokarta::data::strip_password(&url),
            "--table",
            &table,
        ])
        .env("PGPASSWORD", &password)
        .env("PGPASSFILE", "/nonexistent/teplokarta-test-pgpass")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("rows: 3007"), "{stdout}");
    assert!(!stdout.contains(&password), "{stdout}");
    // --table is for PostgreSQL only.
    let err = common::run_cli(&["check", "/tmp/x.sqlite", "--table", "t"]).unwrap_err();
    assert!(format!("{err:#}").contains("--table applies to a PostgreSQL source only"));
    drop(schema);
}

#[test]
#[ignore = "needs PostgreSQL: TEPLOKARTA_PG_URL"]
fn polling_reads_the_newest_id_each_check_and_counts_the_table_only_every_thirtieth() {
    use teplokarta::data::{ChangeProbe, FIGURES_EVERY, Source};
    let (mut schema, table, _dir, _sqlite) = fixture_in_both();
    let mut probe = ChangeProbe::new(Source::parse(&pg_url(), Some(&table)));
    // The first check reads both figures.
    let first = probe.check().unwrap();
    // A new row is seen at the next check (the newest id).
    schema
        .client
        .batch_execute(&format!(
            "INSERT INTO {table} (id, received_at, source, category, status) \
             VALUES (990001, '2021-06-01', 'pos', 'ЖКХ', 'new')"
        ))
        .unwrap();
    let with_row = probe.check().unwrap();
    assert_ne!(with_row, first);
    // Deletes below the newest id change only the count: not seen until the count is read
    // again, which is within FIGURES_EVERY checks. (Two rows: the count last read was before
    // the insert.)
    schema
        .client
        .batch_execute(&format!(
            "DELETE FROM {table} WHERE id IN (SELECT id FROM {table} ORDER BY id LIMIT 2)"
        ))
        .unwrap();
    let mut checks = 0;
    loop {
        checks += 1;
        if probe.check().unwrap() != with_row {
            break;
        }
        assert!(checks <= FIGURES_EVERY, "the delete was never seen");
    }
    assert!(
        checks > FIGURES_EVERY / 2,
        "the count was read after {checks} checks: every check counts the table"
    );
    drop(schema);
}

/// Without the notify trigger an `UPDATE` changes neither the newest id nor the count; the
/// server's statistics (rows updated or deleted) show it, once the writing session has
/// flushed them — at once when it disconnects, as here.
#[test]
#[ignore = "needs PostgreSQL: TEPLOKARTA_PG_URL"]
fn polling_sees_an_update_by_the_servers_statistics() {
    use teplokarta::data::{ChangeProbe, Source};
    let (schema, table, _dir, _sqlite) = fixture_in_both();
    let mut probe = ChangeProbe::new(Source::parse(&pg_url(), Some(&table)));
    let first = probe.check().unwrap();
    assert_eq!(probe.check().unwrap(), first, "nothing changed yet");
    let mut writer = common::pg::admin();
    writer
        .batch_execute(&format!(
            "UPDATE {table} SET status = 'closed_by_stats_test' WHERE id = 900004"
        ))
        .unwrap();
    drop(writer);
    let started = std::time::Instant::now();
    let changed = loop {
        let token = probe.check().unwrap();
        if token != first {
            break token;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(5),
            "the update was never seen"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    let (before, after) = (first.figures(), changed.figures());
    assert_eq!(
        (before.0, before.1),
        (after.0, after.1),
        "id and count unchanged"
    );
    assert_eq!(after.2, before.2 + 1, "one row updated");
    drop(schema);
}

mod window {
    use super::*;
    use common::ui::{State, harness_with, wait_idle};
    use egui_kittest::Harness;
    use egui_kittest::kittest::Queryable as _;
    use std::io::{Read as _, Write as _};
    use std::net::{TcpListener, TcpStream};
    use std::sync::Arc;
    use std::sync::atomic::AtomicBool;
    use teplokarta::analysis::problems::ZoneKind;
    use teplokarta::app::Startup;
    use teplokarta::data::Source;
    use teplokarta::ui::Lang;

    fn open(source: Source) -> Harness<'static, State> {
        open_with(source, teplokarta::data::LoadStrategy::default())
    }

    fn open_with(
        source: Source,
        strategy: teplokarta::data::LoadStrategy,
    ) -> Harness<'static, State> {
        let mut harness = harness_with(Startup {
            database: Some(source),
            lang: Some(Lang::En),
            fresh: true,
            strategy,
            ..Startup::default()
        });
        wait_idle(&mut harness);
        harness
    }

    /// Appeals the window's data stands for (grouped rows count their appeals).
    fn rows_in_app(harness: &Harness<'static, State>) -> usize {
        harness
            .state()
            .as_ref()
            .unwrap()
            .dataset()
            .map_or(0, |d| d.appeal_count() as usize)
    }

    #[test]
    #[ignore = "needs PostgreSQL: TEPLOKARTA_PG_URL"]
    fn window_on_a_grouped_table_shows_the_sql_count_and_new_rows_within_two_seconds() {
        let (mut schema, table, _dir, _sqlite) = fixture_in_both();
        let url = pg_url();
        let source = Source::parse(&url, Some(&table));
        // Above the threshold (here 1,000 rows) the table is grouped in the database.
        let mut harness = open_with(
            source,
            teplokarta::data::LoadStrategy::Auto { above_rows: 1_000 },
        );
        let total = count_rows(&mut schema.client, &table);
        let groups = {
            let app = harness.state().as_ref().unwrap();
            let dataset = app.dataset().unwrap();
            assert!(dataset.is_grouped());
            assert!(dataset.appeals.len() < total);
            assert_eq!(app.view().unwrap().summary.total as usize, total);
            dataset.appeals.len()
        };
        // In the status bar and in the side panel (the status bar may be cut off).
        assert_eq!(
            harness
                .query_all_by_label_contains(&format!(
                    "grouped in the DB: {} groups",
                    Lang::En.number(groups as u64)
                ))
                .count(),
            2
        );
        // The points layer is off, and says why (in the legend's class settings).
        harness.get_by_label("Classes").click();
        harness.run_steps(2);
        let points = harness.get_by_label("Points");
        assert!(egui_kittest::kittest::NodeT::accesskit_node(&points).is_disabled());
        // A municipality's details (their figures from the groups equal the loaded rows':
        // tests/postgres_pushdown.rs); answer times and addresses say that they need the rows.
        let tyumen = teplokarta::spatial::municipalities()
            .iter()
            .position(|m| m.name == "Тюмень")
            .unwrap() as u32;
        apply(&mut harness, teplokarta::ui::Command::Select(Some(tyumen)));
        wait_idle(&mut harness);
        let in_tyumen = {
            let app = harness.state().as_ref().unwrap();
            let details = app.view().unwrap().details.clone().unwrap();
            assert_eq!(details.label, tyumen);
            details.total
        };
        assert!(in_tyumen > 100);
        harness.get_by_label(&format!(
            "Appeals in the filter: {}",
            Lang::En.number(in_tyumen)
        ));
        assert_eq!(
            harness
                .query_all_by_label_contains("not available — the table is grouped in the DB")
                .count(),
            2
        );
        // File → Export map… says that an export reads the rows, and how many.
        apply(&mut harness, teplokarta::ui::Command::ShowExport);
        harness.run_steps(2);
        harness.get_by_label_contains(&format!(
            "reads its rows once more, in batches, for the data hash (hexagon zones load the \
             whole table) ({})",
            Lang::En.number(total as u64)
        ));
        apply(&mut harness, teplokarta::ui::Command::CloseExport);
        harness.run_steps(2);
        // The problem map on its default hexagonal grid: the whole table's cells (from one pass
        // over its points; equal to a full load's: tests/postgres_pushdown.rs).
        apply(&mut harness, teplokarta::ui::Command::SetProblemMode(true));
        wait_idle(&mut harness);
        {
            let app = harness.state().as_ref().unwrap();
            let result = app.problems().expect("no problem map");
            assert_eq!(result.request.zones, ZoneKind::Hexagons);
            assert_eq!(result.base.zones.kind, Some(ZoneKind::Hexagons));
            assert!(result.base.zones.zones.len() > 10);
        }
        apply(&mut harness, teplokarta::ui::Command::SetProblemMode(false));
        wait_idle(&mut harness);

        // New rows are grouped and appended (not the whole table again) within 2 s.
        inserted_rows_arrive_within_two_seconds(
            &mut harness,
            &mut schema.client,
            &table,
            (950_000, 25),
            total + 25,
        );
        wait_idle(&mut harness);
        {
            let app = harness.state().as_ref().unwrap();
            assert_eq!(app.view().unwrap().summary.total as usize, total + 25);
            // The 25 identical rows are one more group (appended, the rest kept).
            assert_eq!(app.dataset().unwrap().appeals.len(), groups + 1);
        }
        harness.get_by_label_contains("+25 new");
        // A delete with an insert is more than an append (the count grows by less than the rows
        // above the newest id): the table is grouped again whole.
        schema
            .client
            .batch_execute(&format!("DELETE FROM {table} WHERE id >= 950010"))
            .unwrap();
        insert_rows(&mut schema.client, &table, 960_000, 1);
        step_until(&mut harness, std::time::Duration::from_secs(5), |h| {
            rows_in_app(h) == total + 11
        })
        .expect("the delete never arrived");
        wait_idle(&mut harness);
        let app = harness.state().as_ref().unwrap();
        assert_eq!(app.view().unwrap().summary.total as usize, total + 11);
        assert_eq!(app.dataset().unwrap().appeals.len(), groups + 1);
        drop(harness);
        drop(schema);
    }

    /// Steps the window until `done` or `limit` passes; how long it took.
    fn step_until(
        harness: &mut Harness<'static, State>,
        limit: std::time::Duration,
        done: impl Fn(&Harness<'static, State>) -> bool,
    ) -> Option<std::time::Duration> {
        let started = std::time::Instant::now();
        while started.elapsed() < limit {
            harness.step();
            if done(harness) {
                return Some(started.elapsed());
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        None
    }

    /// Inserts `n` rows from `first_id` on another connection and steps the window until it
    /// holds `expected` appeals, which must take at most 2 s.
    fn inserted_rows_arrive_within_two_seconds(
        harness: &mut Harness<'static, State>,
        client: &mut postgres::Client,
        table: &str,
        (first_id, n): (i64, i64),
        expected: usize,
    ) {
        insert_rows(client, table, first_id, n);
        let took = step_until(harness, std::time::Duration::from_secs(5), |h| {
            rows_in_app(h) == expected
        })
        .expect("the new rows never arrived");
        assert!(took <= std::time::Duration::from_secs(2), "took {took:?}");
    }

    /// Runs `command` in the window as a click would.
    fn apply(harness: &mut Harness<'static, State>, command: teplokarta::ui::Command) {
        let ctx = harness.ctx.clone();
        harness.state_mut().as_mut().unwrap().apply(&ctx, command);
    }

    fn insert_rows(client: &mut postgres::Client, table: &str, first_id: i64, n: i64) {
        client
            .batch_execute(&format!(
                "INSERT INTO {table} (id, received_at, source, category, municipality, status, lat, lon) \
                 SELECT g, '2021-06-01T10:00:00', 'pos', 'ЖКХ', 'Тюмень', 'new', 57.15, 65.53 \
                 FROM generate_series({first_id}, {}) g",
                first_id + n - 1
            ))
            .unwrap();
    }

    #[test]
    #[ignore = "needs PostgreSQL: TEPLOKARTA_PG_URL"]
    fn window_on_postgres_shows_the_sql_count_and_new_rows_within_two_seconds() {
        let (mut schema, table, _dir, _sqlite) = fixture_in_both();
        let url = pg_url();
        let source = Source::parse(&url, Some(&table));
        let mut harness = open(source.clone());
        let total = count_rows(&mut schema.client, &table);
        {
            let app = harness.state().as_ref().unwrap();
            assert_eq!(app.dataset().unwrap().source, source);
            assert_eq!(app.view().unwrap().summary.total as usize, total);
            // Remembered without the password.
            let remembered = app.persisted().last_source.clone().unwrap();
            assert_eq!(remembered, source.without_password());
            let password = password_of(&url);
            assert!(!format!("{remembered:?}").contains(&password));
            assert!(app.live().stale.is_none());
        }
        // The status bar names the source, without the password.
        let shown = source.short_name();
        assert!(shown.contains(&table) && !shown.contains(&password_of(&url)));
        harness.get_by_label_contains(&shown);

        // Rows another connection commits reach the model within 2 s.
        inserted_rows_arrive_within_two_seconds(
            &mut harness,
            &mut schema.client,
            &table,
            (950_000, 25),
            total + 25,
        );
        wait_idle(&mut harness);
        let app = harness.state().as_ref().unwrap();
        assert_eq!(app.view().unwrap().summary.total as usize, total + 25);
        harness.get_by_label_contains("+25 new");
        drop(harness);
        drop(schema);
    }

    /// A TCP proxy to the test server that can be cut (every connection closed, new ones
    /// refused) and restored.
    struct Proxy {
        port: u16,
        up: Arc<AtomicBool>,
        open: Arc<std::sync::Mutex<Vec<TcpStream>>>,
    }

    impl Proxy {
        fn start(upstream: u16) -> Self {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            let port = listener.local_addr().unwrap().port();
            let up = Arc::new(AtomicBool::new(true));
            let open: Arc<std::sync::Mutex<Vec<TcpStream>>> = Arc::default();
            let (up2, open2) = (up.clone(), open.clone());
            std::thread::spawn(move || {
                for client in listener.incoming() {
                    let Ok(client) = client else { continue };
                    if !up2.load(Ordering::SeqCst) {
                        drop(client);
                        continue;
                    }
                    let Ok(server) = TcpStream::connect(("127.0.0.1", upstream)) else {
                        continue;
                    };
                    let mut open = open2.lock().unwrap();
                    open.push(client.try_clone().unwrap());
                    open.push(server.try_clone().unwrap());
                    for (mut from, mut to) in [
                        (client.try_clone().unwrap(), server.try_clone().unwrap()),
                        (server, client),
                    ] {
                        std::thread::spawn(move || {
                            let mut buf = [0u8; 16 * 1024];
                            loop {
                                match from.read(&mut buf) {
                                    Ok(0) | Err(_) => break,
                                    Ok(n) => {
                                        if to.write_all(&buf[..n]).is_err() {
                                            break;
                                        }
                                    }
                                }
                            }
                            let _ = to.shutdown(std::net::Shutdown::Both);
                        });
                    }
                }
            });
            Self { port, up, open }
        }

        fn cut(&self) {
            self.up.store(false, Ordering::SeqCst);
            for stream in self.open.lock().unwrap().drain(..) {
                let _ = stream.shutdown(std::net::Shutdown::Both);
            }
        }

        fn restore(&self) {
            self.up.store(true, Ordering::SeqCst);
        }
    }

    #[test]
    #[ignore = "needs PostgreSQL: TEPLOKARTA_PG_URL"]
    fn loading_a_table_to_group_says_so_before_the_grouping() {
        use teplokarta::app::{JobResult, Jobs};
        let (mut schema, table, _dir, _sqlite) = fixture_in_both();
        let total = count_rows(&mut schema.client, &table) as u64;
        let mut jobs = Jobs::new(egui::Context::default());
        jobs.strategy = teplokarta::data::LoadStrategy::Auto { above_rows: 1_000 };
        jobs.load_database(Source::parse(&pg_url(), Some(&table)));
        let mut seen = Vec::new();
        let started = std::time::Instant::now();
        while started.elapsed() < std::time::Duration::from_secs(30) {
            for result in jobs.drain() {
                match result {
                    JobResult::Grouping { rows, .. } => {
                        // Still loading: the grouping is a step, not the end of the job.
                        assert_eq!(jobs.pending, 1);
                        seen.push(format!("grouping {rows:?}"));
                    }
                    JobResult::Dataset { result, .. } => {
                        seen.push(format!("grouped {}", result.unwrap().is_grouped()));
                    }
                    _ => {}
                }
            }
            if seen.len() == 2 {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        assert_eq!(
            seen,
            [format!("grouping Some({total})"), "grouped true".to_owned()]
        );
        assert_eq!(jobs.pending, 0);
        drop(schema);
    }

    #[test]
    #[ignore = "needs PostgreSQL: TEPLOKARTA_PG_URL"]
    fn a_grouped_table_bins_on_a_new_connection_after_the_server_went_away() {
        use teplokarta::analysis::{Filter, Grid, Kernel, Mode};
        use teplokarta::app::{BoundarySet, DensityRequest, density_pushdown, load_dataset_with};
        let (schema, table, _dir, _sqlite) = fixture_in_both();
        let url = pg_url();
        let config: postgres::Config = url.parse().unwrap();
        let port = config.get_ports().first().copied().unwrap_or(5432);
        let proxy = Proxy::start(port);
        let via_proxy = url.replacen(&format!(":{port}/"), &format!(":{}/", proxy.port), 1);
        let dataset = load_dataset_with(
            Source::parse(&via_proxy, Some(&table)),
            false,
            teplokarta::data::LoadStrategy::Pushdown,
        )
        .unwrap();
        let resolved = teplokarta::app::resolve(
            Arc::new(dataset),
            Arc::new(BoundarySet::new(
                teplokarta::spatial::Boundaries::schematic(),
            )),
        );
        let request = DensityRequest {
            grid: Grid::over_lon_lat(64.0, 55.5, 72.0, 59.5, 200, 120),
            radius_m: 4_000.0,
            kernel: Kernel::Quartic,
            mode: Mode::Fast,
            k: None,
        };
        let filter = Filter::default();
        let before = density_pushdown(&resolved, &filter, &request).unwrap();
        assert!(before.values.iter().any(|v| *v > 0.0));
        // The connection is cut: an error naming the server, not a panic.
        proxy.cut();
        let error = density_pushdown(&resolved, &filter, &request).unwrap_err();
        assert!(error.to_string().contains("postgres://"), "{error}");
        // The server is back: the next surface is binned on a new connection, the same.
        proxy.restore();
        let after = density_pushdown(&resolved, &filter, &request).unwrap();
        assert!(after.values == before.values);
        drop(schema);
    }

    #[test]
    #[ignore = "needs PostgreSQL: TEPLOKARTA_PG_URL"]
    fn a_server_that_goes_away_leaves_the_data_marked_stale_and_is_reconnected() {
        let (mut schema, table, _dir, _sqlite) = fixture_in_both();
        let url = pg_url();
        let config: postgres::Config = url.parse().unwrap();
        let port = config.get_ports().first().copied().unwrap_or(5432);
        let proxy = Proxy::start(port);
        let via_proxy = url.replacen(&format!(":{port}/"), &format!(":{}/", proxy.port), 1);
        assert_ne!(via_proxy, url);
        let mut harness = open(Source::parse(&via_proxy, Some(&table)));
        let total = count_rows(&mut schema.client, &table);
        assert_eq!(rows_in_app(&harness), total);
        assert!(harness.state().as_ref().unwrap().live().stale.is_none());
        // Let the watcher make its first check through the proxy (it checks every second).
        std::thread::sleep(std::time::Duration::from_millis(1_500));
        harness.run_steps(2);
        assert!(harness.state().as_ref().unwrap().live().stale.is_none());

        proxy.cut();
        step_until(&mut harness, std::time::Duration::from_secs(15), |h| {
            h.state().as_ref().unwrap().live().stale.is_some()
        })
        .expect("never marked stale");
        harness.run_steps(2);
        // The last data stays on screen, with a visible badge and the last good check's time.
        let app = harness.state().as_ref().unwrap();
        assert_eq!(rows_in_app(&harness), total);
        assert_eq!(app.view().unwrap().summary.total as usize, total);
        let last_ok = app.live().stale.unwrap().expect("a check succeeded before");
        // A badge over the map.
        let badge = format!(
            "source unreachable — data is stale (last successful check {})",
            last_ok.strftime("%H:%M:%S")
        );
        harness.get_by_label_contains(&badge);

        // Rows written while it was away arrive once it is back, and the badge goes.
        insert_rows(&mut schema.client, &table, 960_000, 7);
        proxy.restore();
        step_until(&mut harness, std::time::Duration::from_secs(15), |h| {
            h.state().as_ref().unwrap().live().stale.is_none() && rows_in_app(h) == total + 7
        })
        .expect("never reconnected");
        wait_idle(&mut harness);
        assert_eq!(
            harness
                .query_all_by_label_contains("source unreachable")
                .count(),
            0
        );
        drop(harness);
        drop(schema);
    }

    #[test]
    #[ignore = "needs PostgreSQL: TEPLOKARTA_PG_URL"]
    fn with_the_notify_trigger_an_update_is_followed_within_two_seconds() {
        update_followed_by_notification(teplokarta::data::LoadStrategy::Local);
    }

    #[test]
    #[ignore = "needs PostgreSQL: TEPLOKARTA_PG_URL"]
    fn with_the_notify_trigger_an_update_of_a_grouped_table_is_followed_within_two_seconds() {
        // No rows added: not an append, so the table is grouped again.
        update_followed_by_notification(teplokarta::data::LoadStrategy::Pushdown);
    }

    fn update_followed_by_notification(strategy: teplokarta::data::LoadStrategy) {
        let (mut schema, table, _dir, _sqlite) = fixture_in_both();
        // The trigger of docs/postgres.md, in the test's schema.
        let function = schema.table("teplokarta_notify_appeals");
        schema
            .client
            .batch_execute(&format!(
                "CREATE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$ \
                 BEGIN PERFORM pg_notify('teplokarta_appeals', TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME); \
                 RETURN NULL; END $$; \
                 CREATE TRIGGER teplokarta_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE \
                 ON {table} FOR EACH STATEMENT EXECUTE FUNCTION {function}();"
            ))
            .unwrap();
        // The watcher sees the trigger (so it counts the table only now and then); a table
        // without one is counted at every check.
        let store = PgStore::connect(&pg_url(), Some(&table)).unwrap();
        assert!(store.listen_for_changes().unwrap());
        let plain = schema.table("plain");
        schema
            .client
            .batch_execute(&format!("CREATE TABLE {plain} (LIKE {table})"))
            .unwrap();
        let store = PgStore::connect(&pg_url(), Some(&plain)).unwrap();
        assert!(!store.listen_for_changes().unwrap());
        let mut harness = open_with(Source::parse(&pg_url(), Some(&table)), strategy);
        assert_eq!(
            harness
                .state()
                .as_ref()
                .unwrap()
                .dataset()
                .unwrap()
                .is_grouped(),
            strategy == teplokarta::data::LoadStrategy::Pushdown
        );
        let has_status = |h: &Harness<'static, State>| {
            h.state()
                .as_ref()
                .unwrap()
                .dataset()
                .is_some_and(|d| d.appeals.statuses.code("closed_by_trigger_test").is_some())
        };
        assert!(!has_status(&harness));
        // Neither the newest id nor the count changes: only the notification tells.
        schema
            .client
            .batch_execute(&format!(
                "UPDATE {table} SET status = 'closed_by_trigger_test' WHERE id = 900004"
            ))
            .unwrap();
        let took = step_until(&mut harness, std::time::Duration::from_secs(5), has_status)
            .expect("the update never arrived");
        assert!(took <= std::time::Duration::from_secs(2), "took {took:?}");
        // Inserts too come by notification (the figures are read only every 30 checks).
        let before = rows_in_app(&harness);
        inserted_rows_arrive_within_two_seconds(
            &mut harness,
            &mut schema.client,
            &table,
            (970_000, 3),
            before + 3,
        );
        drop(harness);
        drop(schema);
    }

    /// Without the trigger, an `UPDATE` committed together with an `INSERT` looks like an
    /// append by the newest id and the count; the statistics' rows updated tell it is not, so
    /// the grouped table is grouped again and shows the new status.
    #[test]
    #[ignore = "needs PostgreSQL: TEPLOKARTA_PG_URL"]
    fn without_the_trigger_an_update_with_an_insert_regroups_a_grouped_table() {
        let (mut schema, table, _dir, _sqlite) = fixture_in_both();
        let mut harness = open_with(
            Source::parse(&pg_url(), Some(&table)),
            teplokarta::data::LoadStrategy::Pushdown,
        );
        let before = rows_in_app(&harness);
        let has_status = |h: &Harness<'static, State>| {
            h.state()
                .as_ref()
                .unwrap()
                .dataset()
                .is_some_and(|d| d.appeals.statuses.code("closed_by_stats_test").is_some())
        };
        assert!(!has_status(&harness));
        let mut writer = common::pg::admin();
        writer
            .batch_execute(&format!(
                "BEGIN; \
                 UPDATE {table} SET status = 'closed_by_stats_test' WHERE id = 900004; \
                 INSERT INTO {table} (id, received_at, source, category, status) \
                 VALUES (990100, '2021-06-01', 'pos', 'ЖКХ', 'new'); \
                 COMMIT"
            ))
            .unwrap();
        drop(writer);
        let took = step_until(&mut harness, std::time::Duration::from_secs(5), |h| {
            has_status(h) && rows_in_app(h) == before + 1
        })
        .expect("the update never arrived");
        assert!(took <= std::time::Duration::from_secs(2), "took {took:?}");
        drop(harness);
        schema.client.batch_execute("SELECT 1").unwrap();
        drop(schema);
    }

    #[test]
    #[ignore = "needs PostgreSQL: TEPLOKARTA_PG_URL"]
    fn file_connect_opens_a_table_and_remembers_it_without_the_password() {
        let (mut schema, table, _dir, _sqlite) = fixture_in_both();
        let (_d, sqlite) = common::demo_db(300, 31);
        // A URL pasted with its password in it (the binary test below takes it from
        // PGPASSWORD): used for this session, never remembered or shown.
        let typed = pg_url();
        let password = password_of(&typed);
        let mut harness = common::ui::harness(&sqlite, Lang::En);
        wait_idle(&mut harness);
        harness.get_by_label("File").click();
        harness.run();
        harness.get_by_label("Connect to PostgreSQL…").click();
        harness.run();
        for (label, text) in [
            ("Address (postgres://… or host=… dbname=…)", typed.as_str()),
            ("Table", table.as_str()),
        ] {
            harness
                .get_by_role_and_label(egui::accesskit::Role::TextInput, label)
                .focus();
            harness.run();
            harness
                .get_by_role_and_label(egui::accesskit::Role::TextInput, label)
                .type_text(text);
            harness.run();
        }
        harness.get_by_label("Connect").click();
        harness.step();
        wait_idle(&mut harness);
        let total = count_rows(&mut schema.client, &table);
        let app = harness.state().as_ref().unwrap();
        let source = Source::parse(&typed, Some(&table));
        assert_eq!(app.dataset().unwrap().source, source);
        assert_eq!(app.view().unwrap().summary.total as usize, total);
        let remembered = app.persisted().last_source.clone().unwrap();
        assert_eq!(remembered, source.without_password());
        let Source::Postgres { url, .. } = &remembered else {
            panic!("{remembered:?}")
        };
        assert!(!url.contains(&password), "remembered {url}");
        assert!(harness.query_by_label_contains(&password).is_none());
        // File → Connect… again offers the remembered source, still without the password.
        harness.get_by_label("File").click();
        harness.run();
        harness.get_by_label("Connect to PostgreSQL…").click();
        harness.run();
        let offered = teplokarta::data::strip_password(&typed);
        assert!(harness.query_all_by_value(&offered).next().is_some());
        assert!(
            harness
                .query_all(egui_kittest::kittest::By::new().predicate(|n| {
                    n.value().is_some_and(|v| v.contains(&password))
                        || n.label().is_some_and(|l| l.contains(&password))
                }))
                .next()
                .is_none()
        );
        drop(harness);
        drop(schema);
    }

    #[test]
    #[ignore = "needs PostgreSQL: TEPLOKARTA_PG_URL"]
    fn a_refused_login_in_the_window_is_an_error_over_the_map_without_the_password() {
        let (url, user) = url_with_password("wrong-window-password-7");
        let mut harness = harness_with(Startup {
            database: Some(Source::parse(&url, None)),
            lang: Some(Lang::Ru),
            fresh: true,
            ..Startup::default()
        });
        wait_idle(&mut harness);
        assert!(harness.state().as_ref().unwrap().dataset().is_none());
        let wanted = format!("сервер PostgreSQL отказал пользователю `{user}`");
        harness.get_by_label_contains(&wanted);
        let naming_the_server = egui_kittest::kittest::By::new().predicate(|n| {
            [n.label(), n.value()].into_iter().flatten().any(|text| {
                text.contains(&wanted) && text.contains(": postgres://") && text.contains(&user)
            })
        });
        assert!(harness.query_all(naming_the_server).next().is_some());
        let with_password = egui_kittest::kittest::By::new().predicate(|n| {
            n.label()
                .is_some_and(|l| l.contains("wrong-window-password-7"))
                || n.value()
                    .is_some_and(|v| v.contains("wrong-window-password-7"))
        });
        assert!(harness.query_all(with_password).next().is_none());
    }
}
