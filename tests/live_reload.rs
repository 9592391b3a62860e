//! Following a database another process writes to: `reload_dataset` reads only the blocks of
//! rows that were inserted, updated or deleted, and ends with exactly what a fresh load gives.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use rusqlite::{Connection, params};
use teplokarta::app::{Dataset, load_dataset, reload_dataset};
use teplokarta::data::{
    AppealStore, Appeals, BLOCK_SHIFT, CREATE_APPEALS_SQL, ChangeSet, LoadOptions,
};

/// Writes `rows` appeals with ids 1..=rows, some with data-quality problems.
fn write_db(path: &Path, schema: &str, rows: i64) {
    let mut conn = Connection::open(path).unwrap();
    conn.execute_batch(schema).unwrap();
    let tx = conn.transaction().unwrap();
    {
        let mut insert = tx
            .prepare(
                "INSERT INTO appeals (id, received_at, source, category, subcategory, municipality, \
                 settlement, address, lat, lon, status, resolved_at, text) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
            )
            .unwrap();
        for id in 1..=rows {
            let received = if id % 997 == 0 {
                "not a date".to_owned()
            } else {
                format!(
                    "2021-{:02}-{:02}T10:{:02}:00",
                    1 + id % 12,
                    1 + id % 28,
                    id % 60
                )
            };
            let (lat, lon): (Option<f64>, Option<f64>) = match id % 50 {
                0 => (None, None),
                1 => (Some(0.0), Some(0.0)),
                _ => (
                    Some(56.0 + (id % 100) as f64 * 0.01),
                    Some(65.0 + (id % 77) as f64 * 0.02),
                ),
            };
            insert
                .execute(params![
                    id,
                    received,
                    if id % 3 == 0 { "social" } else { "pos" },
                    ["ЖКХ", "Дороги", "Энергетика"][(id % 3) as usize],
                    if id % 5 == 0 {
                        None
                    } else {
                        Some("Отопление")
                    },
                    format!("Район {}", id % 7),
                    "Тюмень",
                    format!("ул. Ленина, {}", id % 40),
                    lat,
                    lon,
                    "new",
                    None::<String>,
                    "text",
                ])
                .unwrap();
        }
    }
    tx.commit().unwrap();
}

/// Every row as text, so two loads compare whatever their dictionary codes.
fn rows_of(a: &Appeals) -> Vec<String> {
    (0..a.len())
        .map(|i| {
            format!(
                "{}|{:?}|{:?}|{}|{}|{:?}|{:?}|{:?}|{:?}|{}|{:?}|{:?}|{:?}|{}",
                a.id[i],
                a.received[i],
                a.resolved[i],
                a.sources.name(a.source[i]),
                a.categories.name(a.category[i]),
                a.subcategory[i].map(|c| a.subcategories.name(c)),
                a.municipality[i].map(|c| a.municipalities.name(c)),
                a.settlement[i].map(|c| a.settlements.name(c)),
                a.address[i].map(|c| a.addresses.name(c)),
                a.statuses.name(a.status[i]),
                a.lon[i].to_bits(),
                a.lat[i].to_bits(),
                a.placement[i],
                a.row_flags[i],
            )
        })
        .collect()
}

/// What the store reads of `path` since `before` was loaded.
fn changes_since(path: &Path, before: &Dataset) -> ChangeSet {
    AppealStore::open(path, &LoadOptions::default())
        .unwrap()
        .load_changes(before.fingerprint.as_ref().unwrap())
        .unwrap()
}

/// Runs one statement on `path` through a connection of its own, as another process would.
fn write(path: &Path, sql: &str) {
    Connection::open(path).unwrap().execute(sql, []).unwrap();
}

fn assert_same_as_fresh(reloaded: &Dataset, path: &Path) {
    let fresh = load_dataset(path.to_owned(), false).unwrap();
    assert_eq!(rows_of(&reloaded.appeals), rows_of(&fresh.appeals));
    let (mut a, mut b) = (
        reloaded.appeals.quality.clone(),
        fresh.appeals.quality.clone(),
    );
    a.samples.clear();
    b.samples.clear();
    assert_eq!(a, b, "quality counts");
    assert_eq!(reloaded.fingerprint, fresh.fingerprint);
    assert_eq!(reloaded.point_unit.len(), fresh.point_unit.len());
    for (p, q) in reloaded.point_unit.iter().zip(&fresh.point_unit) {
        assert!(p == q || (p[0].is_nan() && q[0].is_nan()));
    }
}

#[test]
fn inserts_updates_and_deletes_are_read_block_by_block() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("live.sqlite");
    write_db(&path, CREATE_APPEALS_SQL, 20_000);
    let before = load_dataset(path.clone(), false).unwrap();
    assert_eq!(before.appeals.len(), 20_000);

    let writer = Connection::open(&path).unwrap();
    // New appeals at the end, a status change in the middle, a deletion near the start, and a
    // row turning bad (its coordinates lost) — four blocks touched.
    writer
        .execute_batch(
            "INSERT INTO appeals (id, received_at, source, category, municipality, lat, lon, status)
               VALUES (20001, '2021-12-01T09:00:00', 'pos', 'Новая категория', 'Район 9', 57.1, 65.5, 'new'),
                      (20002, '2021-12-01T09:05:00', 'social', 'ЖКХ', NULL, NULL, NULL, 'new');
             UPDATE appeals SET status = 'resolved', resolved_at = '2021-12-02T10:00:00' WHERE id = 10500;
             UPDATE appeals SET lat = 91.0 WHERE id = 15002;
             DELETE FROM appeals WHERE id IN (3000, 3001);",
        )
        .unwrap();

    match changes_since(&path, &before) {
        ChangeSet::Changes { ranges, rows, .. } => {
            let block = |id: i64| id >> BLOCK_SHIFT;
            let blocks: Vec<i64> = ranges
                .iter()
                .flat_map(|&(lo, hi)| (lo >> BLOCK_SHIFT)..(hi >> BLOCK_SHIFT))
                .collect();
            let mut expected = vec![block(3000), block(10500), block(15002), block(20001)];
            expected.dedup();
            assert_eq!(blocks, expected, "only the touched blocks are read");
            assert!(rows.len() <= 4 << BLOCK_SHIFT, "{} rows read", rows.len());
        }
        other => panic!("expected changes, got {other:?}"),
    }

    let after = reload_dataset(&before).unwrap().expect("a change");
    assert!(after.live_reload);
    assert_eq!(after.appeals.len(), 20_000);
    assert_same_as_fresh(&after, &path);
    let status = |d: &Dataset, id: i64| {
        let i = d.appeals.id.iter().position(|&x| x == id).unwrap();
        d.appeals.statuses.name(d.appeals.status[i]).to_owned()
    };
    assert_eq!(status(&after, 10500), "resolved");
    assert!(!after.appeals.id.contains(&3000));
    assert_eq!(after.appeals.quality.coordinates_out_of_range, 1);

    // A second round builds on the first one's fingerprint.
    writer
        .execute("UPDATE appeals SET category = 'Дороги' WHERE id = 9", [])
        .unwrap();
    let again = reload_dataset(&after).unwrap().expect("a change");
    assert_same_as_fresh(&again, &path);
}

#[test]
fn a_commit_that_changes_no_appeal_reads_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("live.sqlite");
    write_db(&path, CREATE_APPEALS_SQL, 3_000);
    let before = load_dataset(path.clone(), false).unwrap();
    let writer = Connection::open(&path).unwrap();
    writer
        .execute_batch(
            "CREATE TABLE notes (x TEXT); INSERT INTO notes VALUES ('other data');
             UPDATE appeals SET status = status WHERE id = 5;",
        )
        .unwrap();
    assert!(reload_dataset(&before).unwrap().is_none());
    // The same text written anew is no change either; a different one is.
    writer
        .execute("UPDATE appeals SET status = 'in_progress' WHERE id = 5", [])
        .unwrap();
    assert!(reload_dataset(&before).unwrap().is_some());
}

#[test]
fn a_table_without_a_rowid_key_or_a_sweeping_change_is_loaded_whole() {
    let dir = tempfile::tempdir().unwrap();
    // `id` as a plain column: ranges of it are not cheap, so the whole table is read again.
    let path = dir.path().join("plain.sqlite");
    let schema = CREATE_APPEALS_SQL.replace("id           INTEGER PRIMARY KEY", "id INTEGER");
    write_db(&path, &schema, 2_000);
    let before = load_dataset(path.clone(), false).unwrap();
    assert!(matches!(
        changes_since(&path, &before),
        ChangeSet::NeedsFullLoad
    ));
    write(
        &path,
        "UPDATE appeals SET status = 'resolved' WHERE id = 10",
    );
    assert_same_as_fresh(&reload_dataset(&before).unwrap().unwrap(), &path);

    // Most of the table rewritten: one full load is cheaper than many block reads.
    let path = dir.path().join("sweep.sqlite");
    write_db(&path, CREATE_APPEALS_SQL, 5_000);
    let before = load_dataset(path.clone(), false).unwrap();
    write(
        &path,
        "UPDATE appeals SET status = 'resolved' WHERE id % 2 = 0",
    );
    assert!(matches!(
        changes_since(&path, &before),
        ChangeSet::NeedsFullLoad
    ));
    assert_same_as_fresh(&reload_dataset(&before).unwrap().unwrap(), &path);
}

#[test]
fn the_parallel_load_and_a_table_emptied_agree_with_the_block_sums() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.sqlite");
    // Above the two-thread threshold: the halves' block sums are merged (a block straddles the
    // middle).
    write_db(&path, CREATE_APPEALS_SQL, 120_001);
    let before = load_dataset(path.clone(), false).unwrap();
    assert!(matches!(
        changes_since(&path, &before),
        ChangeSet::Unchanged
    ));
    write(&path, "DELETE FROM appeals WHERE id > 119000");
    let after = reload_dataset(&before).unwrap().unwrap();
    assert_eq!(after.appeals.len(), 119_000);
    assert_same_as_fresh(&after, &path);
}
