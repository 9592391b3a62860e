//! The database contract: loading, optional columns, data-quality counting, read-only access,
//! and every kind of bad database giving an error value rather than a panic.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers may panic

mod common;

use common::{contract_db, db_from_sql, demo_db, file_bytes};
use teplokarta::data::{AppealStore, DataError, LoadOptions, Placement};

fn open(path: &std::path::Path) -> Result<teplokarta::data::Appeals, DataError> {
    AppealStore::open(path, &LoadOptions::default())?.load()
}

#[test]
fn round_trip_of_every_field() {
    let (_dir, path) = contract_db(
        "INSERT INTO appeals VALUES
            (1, 'POS-1', '2021-03-01T23:30:00+05:00', 'pos', 'Дороги', 'Ямы', 'г. Тюмень', 'Тюмень', 'ул. Мира, 1', 57.15, 65.53, 'resolved', '2021-03-04T10:00:00+05:00', 'Яма'),
            (2, NULL, '2021-03-02 08:00', 'social', 'ЖКХ', NULL, NULL, NULL, NULL, NULL, NULL, 'new', NULL, NULL),
            (3, NULL, '2021-03-03', 'pos', 'ЖКХ', '', 'Тобольский район', NULL, NULL, 0, 0, 'in_progress', NULL, NULL),
            (4, NULL, 'вчера', 'pos', 'ЖКХ', NULL, NULL, NULL, NULL, 571.5, 65.1, 'archived', 'потом', NULL),
            (5, NULL, '2021-03-05T10:00:00Z', 'pos', 'ЖКХ', NULL, NULL, NULL, NULL, 'abc', 65.1, 'rejected', NULL, NULL),
            (6, NULL, '2021-03-06T10:00:00', 'pos', 'ЖКХ', NULL, NULL, NULL, NULL, 57.1, NULL, 'resolved', NULL, NULL),
            (7, NULL, '2021-03-07T10:00:00', 'pos', 'ЖКХ', NULL, NULL, NULL, NULL, '57,2', '65,6', 'resolved', NULL, NULL);",
    );
    let appeals = open(&path).unwrap();
    assert_eq!(appeals.len(), 7);
    assert_eq!(appeals.id, vec![1, 2, 3, 4, 5, 6, 7]);
    assert_eq!(
        appeals.received[0].unwrap().to_string(),
        "2021-03-01T23:30:00"
    );
    assert_eq!(
        appeals.received[1].unwrap().to_string(),
        "2021-03-02T08:00:00"
    );
    assert_eq!(appeals.received[3], None);
    assert_eq!(
        appeals.resolved[0].unwrap().to_string(),
        "2021-03-04T10:00:00"
    );
    assert_eq!(appeals.sources.name(appeals.source[1]), "social");
    assert_eq!(appeals.categories.name(appeals.category[0]), "Дороги");
    assert_eq!(
        appeals.subcategory[0].map(|c| appeals.subcategories.name(c)),
        Some("Ямы")
    );
    assert_eq!(appeals.subcategory[2], None, "an empty subcategory is NULL");
    assert_eq!(
        appeals.municipality[0].map(|c| appeals.municipalities.name(c)),
        Some("г. Тюмень")
    );
    assert_eq!(
        appeals.statuses.name(appeals.status[3]),
        "archived",
        "other statuses are kept as text"
    );
    assert_eq!((appeals.lon[0], appeals.lat[0]), (65.53, 57.15));
    assert_eq!(
        (appeals.lon[6], appeals.lat[6]),
        (65.6, 57.2),
        "a decimal comma is accepted"
    );
    assert_eq!(
        appeals.placement,
        vec![
            Placement::Placed,
            Placement::Missing,
            Placement::ZeroZero,
            Placement::OutOfRange,
            Placement::NotNumeric,
            Placement::Partial,
            Placement::Placed,
        ]
    );
    let q = &appeals.quality;
    assert_eq!(q.rows, 7);
    assert_eq!(q.placed, 2);
    assert_eq!(q.no_coordinates, 1);
    assert_eq!(q.coordinates_zero_zero, 1);
    assert_eq!(q.coordinates_out_of_range, 1);
    assert_eq!(q.coordinates_not_numeric, 1);
    assert_eq!(q.partial_coordinates, 1);
    assert_eq!(q.received_unparsable, 1);
    assert_eq!(q.resolved_unparsable, 1);
    assert!(
        q.samples
            .iter()
            .any(|s| s.row_id == 4 && s.value == "вчера")
    );
}

#[test]
fn optional_columns_may_be_absent_and_extra_columns_are_ignored() {
    let (_dir, path) = db_from_sql(
        "CREATE TABLE appeals (id INTEGER PRIMARY KEY, received_at TEXT, source TEXT, category TEXT, status TEXT, colour TEXT);
         INSERT INTO appeals VALUES (10, '2021-01-01', 'pos', 'Дороги', 'new', 'red');",
    );
    let store = AppealStore::open(&path, &LoadOptions::default()).unwrap();
    assert!(store.present_optional_columns().is_empty());
    let appeals = store.load().unwrap();
    assert_eq!(appeals.len(), 1);
    assert_eq!(appeals.placement, vec![Placement::Missing]);
    assert_eq!(appeals.municipality, vec![None]);
}

#[test]
fn demo_database_round_trips() {
    let (_dir, path) = demo_db(3_000, 7);
    let appeals = open(&path).unwrap();
    assert_eq!(appeals.len(), 3_000);
    let conn = rusqlite::Connection::open(&path).unwrap();
    let placed: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM appeals WHERE lat BETWEEN -90 AND 90 AND lon BETWEEN -180 AND 180 AND NOT (lat = 0 AND lon = 0)",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(appeals.quality.placed, placed as u64);
    let last: String = conn
        .query_row("SELECT received_at FROM appeals WHERE id = 3000", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(
        appeals.received[2_999].unwrap().to_string(),
        last.trim_end_matches("+05:00")
    );
}

#[test]
fn the_file_is_never_modified() {
    let (dir, path) = demo_db(500, 1);
    let before = file_bytes(&path);
    let store = AppealStore::open(&path, &LoadOptions::default()).unwrap();
    store.load().unwrap();
    drop(store);
    assert_eq!(file_bytes(&path), before);
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        names.len(),
        1,
        "no journal or other file left beside it: {names:?}"
    );
}

#[test]
fn a_missing_file_is_not_created() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nope.sqlite");
    let err = open(&path).unwrap_err();
    assert!(matches!(err, DataError::NotFound { .. }), "{err}");
    assert!(!path.exists());
}

#[test]
fn not_sqlite_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.sqlite");
    std::fs::write(&path, "id;received_at\n1;2021-01-01\n".repeat(200)).unwrap();
    let err = open(&path).unwrap_err();
    assert!(matches!(err, DataError::NotSqlite { .. }), "{err:?}");
    assert!(err.to_string().contains("notes.sqlite"));
}

#[test]
fn a_truncated_database_is_an_error() {
    let (_dir, path) = demo_db(3_000, 3);
    let bytes = file_bytes(&path);
    std::fs::write(&path, &bytes[..bytes.len() / 3]).unwrap();
    let err = open(&path).unwrap_err();
    assert!(matches!(err, DataError::Corrupt { .. }), "{err:?}");
    // The header alone (100 bytes) is not a database either.
    std::fs::write(&path, &bytes[..60]).unwrap();
    assert!(open(&path).is_err());
}

#[test]
fn a_missing_table_is_named() {
    let (_dir, path) = db_from_sql("CREATE TABLE complaints (id INTEGER PRIMARY KEY);");
    let err = open(&path).unwrap_err();
    assert!(matches!(err, DataError::MissingTable { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(
        msg.contains("`appeals`") && msg.contains("complaints"),
        "{msg}"
    );
}

#[test]
fn a_missing_column_is_named() {
    let (_dir, path) = db_from_sql(
        "CREATE TABLE appeals (id INTEGER PRIMARY KEY, received_at TEXT, source TEXT, status TEXT);",
    );
    let err = open(&path).unwrap_err();
    assert!(
        matches!(
            err,
            DataError::MissingColumn {
                column: "category",
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("`category`"));
}

#[test]
fn wrong_types_are_errors_naming_row_and_column() {
    let (_dir, path) = db_from_sql(
        "CREATE TABLE appeals (id TEXT, received_at TEXT, source TEXT, category TEXT, status TEXT);
         INSERT INTO appeals VALUES ('A-17', '2021-01-01', 'pos', 'Дороги', 'new');",
    );
    let err = open(&path).unwrap_err();
    assert!(
        matches!(err, DataError::WrongType { column: "id", .. }),
        "{err:?}"
    );

    let (_dir, path) = db_from_sql(
        "CREATE TABLE appeals (id INTEGER PRIMARY KEY, received_at TEXT, source TEXT, category TEXT, status TEXT);
         INSERT INTO appeals VALUES (5, '2021-01-01', 'pos', x'00ff', 'new');",
    );
    let err = open(&path).unwrap_err();
    assert!(
        matches!(
            err,
            DataError::WrongType {
                column: "category",
                ..
            }
        ),
        "{err:?}"
    );
    let msg = err.to_string();
    assert!(msg.contains("row id 5") && msg.contains("BLOB"), "{msg}");
}

#[test]
fn a_writer_holding_the_lock_gives_a_locked_error() {
    let (_dir, path) = demo_db(200, 2);
    let writer = rusqlite::Connection::open(&path).unwrap();
    writer
        .execute_batch(
            "PRAGMA journal_mode = DELETE; BEGIN EXCLUSIVE; DELETE FROM appeals WHERE id < 10;",
        )
        .unwrap();
    let options = LoadOptions {
        busy_timeout_ms: 100,
        ..LoadOptions::default()
    };
    let err = AppealStore::open(&path, &options)
        .and_then(|s| s.load())
        .unwrap_err();
    assert!(
        matches!(err, DataError::Locked { waited_ms: 100, .. }),
        "{err:?}"
    );
    writer.execute_batch("ROLLBACK;").unwrap();
    assert_eq!(
        AppealStore::open(&path, &options)
            .unwrap()
            .load()
            .unwrap()
            .len(),
        200
    );
}

#[test]
fn reads_a_consistent_snapshot_while_a_wal_writer_works() {
    let (_dir, path) = demo_db(300, 4);
    let writer = rusqlite::Connection::open(&path).unwrap();
    writer.execute_batch("PRAGMA journal_mode = WAL;").unwrap();
    writer
        .execute_batch(
            "BEGIN; INSERT INTO appeals (received_at, source, category, status) VALUES ('2021-12-31', 'pos', 'Дороги', 'new');",
        )
        .unwrap();
    let store = AppealStore::open(&path, &LoadOptions::default()).unwrap();
    assert_eq!(
        store.load().unwrap().len(),
        300,
        "uncommitted rows are not seen"
    );
    writer.execute_batch("COMMIT;").unwrap();
    assert_eq!(
        store.load().unwrap().len(),
        301,
        "committed rows are seen on the next load"
    );
}

#[test]
fn reading_in_two_halves_gives_the_same_appeals_as_one_pass() {
    let (_dir, path) = demo_db(120_000, 5);
    let load = |parallel| {
        AppealStore::open(
            &path,
            &LoadOptions {
                parallel,
                ..LoadOptions::default()
            },
        )
        .unwrap()
        .load()
        .unwrap()
    };
    let (one, two) = (load(false), load(true));
    assert_eq!(one.id, two.id);
    assert_eq!(one.received, two.received);
    assert_eq!(one.category, two.category);
    assert_eq!(one.categories.names(), two.categories.names());
    assert_eq!(one.subcategory, two.subcategory);
    assert_eq!(one.municipality, two.municipality);
    assert_eq!(one.addresses.names(), two.addresses.names());
    assert_eq!(one.address, two.address);
    assert_eq!(one.placement, two.placement);
    assert_eq!(one.quality, two.quality);
}
