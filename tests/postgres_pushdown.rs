//! The pushdown strategy against a real server (`TEPLOKARTA_PG_URL`): `stats` computed by
//! `GROUP BY` in PostgreSQL prints exactly what the local strategy (rows loaded into memory)
//! prints, for several filters and dimensions, on generated appeals plus rows whose municipality
//! text matches nothing, rows placed only by their coordinates, unparsable dates and NULL or
//! blank subcategories; and `--strategy auto` picks pushdown above `--pushdown-above`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::pg::{Schema, pg_url};

/// Rows the generator does not make: texts that match nothing, rows only their point places,
/// unparsable and odd-shaped dates, NULL and blank subcategories.
const EXTRA_ROWS: &[&str] = &[
    "(900001, '2021-05-01T10:00:00+05:00', 'pos', 'ЖКХ', NULL, 'Нигдевск', 'new', NULL, 57.15, 65.53)",
    "(900002, '2021-05-01T10:00:00+05:00', 'pos', 'ЖКХ', NULL, 'Нигдевск', 'resolved', NULL, NULL, NULL)",
    "(900003, '2021-05-02 11:30', 'social', 'Дороги', 'Ямы', NULL, 'resolved', '2021-05-03T09:00:00+05:00', 57.15, 65.53)",
    "(900004, '2021-05-03', 'pos', 'ЖКХ', '  ', '   ', 'archived', NULL, 58.2, 68.25)",
    "(900005, '2021-05-04T08:00:00.250+05:00', 'pos', 'ЖКХ', 'Отопление', NULL, 'in_progress', NULL, 56.1, 69.5)",
    "(900006, '2021-05-04T23:59:59Z', 'pos', 'ЖКХ', NULL, NULL, 'new', NULL, NULL, NULL)",
    "(900007, ' 2021-05-05T10:00:00 ', 'pos', 'ЖКХ', NULL, NULL, 'new', NULL, 0.0, 0.0)",
    "(900008, '2021-06-31T10:00:00', 'pos', 'ЖКХ', NULL, 'Ишим', 'new', NULL, NULL, NULL)",
    "(900010, 'вчера', 'pos', 'ЖКХ', NULL, 'Тобольск', 'new', 'soon', 57.3, 65.6)",
    "(900011, '2021-13-45', 'pos', 'ЖКХ', NULL, NULL, 'new', '  ', 57.4, 65.7)",
    "(900012, '2021-05-05T10:00:00', 'social', 'ЖКХ', NULL, 'г. Тюмень', 'new', NULL, 57.1, 65.5)",
    "(900013, '2021-05-06T07:00:00+0500', 'pos', 'Дороги', NULL, 'Нигдевск', 'new', NULL, 57.0, 200.0)",
    "(900014, '2021-05-07T07:00', 'pos', 'Дороги', NULL, NULL, 'new', NULL, 57.2, NULL)",
    "(900015, '2021-02-30T10:00:00', 'pos', 'ЖКХ', NULL, NULL, 'new', NULL, 57.12, 65.61)",
    "(900016, '2021-05-10T10:00', 'pos', 'ЖКХ', NULL, NULL, 'new', NULL, 57.13, 65.62)",
];

/// The generated appeals plus [`EXTRA_ROWS`] in SQLite, and the same rows in `schema.appeals`.
fn fixture(schema: &mut Schema, rows: usize) -> (tempfile::TempDir, std::path::PathBuf, String) {
    let (dir, path) = common::demo_db(rows, 20_261_129);
    let conn = rusqlite::Connection::open(&path).unwrap();
    for row in EXTRA_ROWS {
        conn.execute_batch(&format!(
            "INSERT INTO appeals (id, received_at, source, category, subcategory, municipality, \
             status, resolved_at, lat, lon) VALUES {row}"
        ))
        .unwrap();
    }
    let table = format!("{}.appeals", schema.name);
    schema
        .client
        .batch_execute(&format!(
            "CREATE TABLE {table} (id bigint PRIMARY KEY, external_id text, received_at text, \
             source text, category text, subcategory text, municipality text, settlement text, \
             address text, lat double precision, lon double precision, status text, \
             resolved_at text, text text)"
        ))
        .unwrap();
    let mut stmt = conn
        .prepare(
            "SELECT id, external_id, received_at, source, category, subcategory, municipality, \
             settlement, address, lat, lon, status, resolved_at, text FROM appeals ORDER BY id",
        )
        .unwrap();
    let mut rows = stmt.query([]).unwrap();
    let mut tx = schema.client.transaction().unwrap();
    let insert = tx
        .prepare(&format!(
            "INSERT INTO {table} (id, external_id, received_at, source, category, subcategory, \
             municipality, settlement, address, lat, lon, status, resolved_at, text) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
        ))
        .unwrap();
    while let Some(row) = rows.next().unwrap() {
        let id: i64 = row.get(0).unwrap();
        let text = |i: usize| -> Option<String> {
            match row.get_ref(i).unwrap() {
                rusqlite::types::ValueRef::Null => None,
                rusqlite::types::ValueRef::Text(t) => Some(String::from_utf8(t.to_vec()).unwrap()),
                rusqlite::types::ValueRef::Integer(n) => Some(n.to_string()),
                rusqlite::types::ValueRef::Real(r) => Some(r.to_string()),
                rusqlite::types::ValueRef::Blob(_) => panic!("no BLOBs in the fixture"),
            }
        };
        let texts: Vec<Option<String>> = (1..=8).map(text).collect();
        let lat: Option<f64> = row.get(9).unwrap();
        let lon: Option<f64> = row.get(10).unwrap();
        let tail: Vec<Option<String>> = (11..=13).map(text).collect();
        let mut params: Vec<&(dyn postgres::types::ToSql + Sync)> = vec![&id];
        params.extend(
            texts
                .iter()
                .map(|t| t as &(dyn postgres::types::ToSql + Sync)),
        );
        params.push(&lat);
        params.push(&lon);
        params.extend(
            tail.iter()
                .map(|t| t as &(dyn postgres::types::ToSql + Sync)),
        );
        tx.execute(&insert, &params).unwrap();
    }
    tx.commit().unwrap();
    (dir, path, table)
}

fn stats(url: &str, table: &str, strategy: &str, extra: &[&str]) -> String {
    let mut args = vec![
        "stats",
        url,
        "--table",
        table,
        "--strategy",
        strategy,
        "--format",
        "csv",
    ];
    args.extend_from_slice(extra);
    common::run_cli(&args).unwrap()
}

#[test]
#[ignore = "needs PostgreSQL (TEPLOKARTA_PG_URL)"]
fn stats_pushed_down_equal_local_for_every_dimension_and_filter() {
    let mut schema = Schema::new("tk_push");
    let (_dir, sqlite, table) = fixture(&mut schema, 5_000);
    let url = pg_url();
    let filters: Vec<Vec<&str>> = vec![
        vec![],
        vec!["--from", "2021-05-01", "--to", "2021-05-31"],
        vec!["--from", "2021-05-04"],
        vec!["--to", "2021-03-15", "--category", "ЖКХ"],
        vec!["--subcategory", "ЖКХ/", "--subcategory", "Дороги/Ямы"],
        vec!["--source", "pos", "--status", "new", "--status", "resolved"],
        vec!["--municipality", "Нигдевск", "--municipality", "г. Тюмень"],
        vec!["--municipality", "", "--from", "2021-01-01"],
    ];
    for filter in &filters {
        for by in [
            "municipality",
            "category",
            "source",
            "status",
            "municipality,category",
            "subcategory,month",
            "settlement",
        ] {
            let mut extra = vec!["--by", by];
            extra.extend_from_slice(filter);
            let local = stats(&url, &table, "local", &extra);
            let pushed = stats(&url, &table, "pushdown", &extra);
            assert_eq!(pushed, local, "--by {by} {filter:?}");
            // And the local strategy is the SQLite file's own answer.
            let mut sqlite_args = vec!["stats", sqlite.to_str().unwrap(), "--format", "csv"];
            sqlite_args.extend_from_slice(&extra);
            assert_eq!(
                common::run_cli(&sqlite_args).unwrap(),
                local,
                "--by {by} {filter:?}"
            );
        }
    }
    // The fixture's special rows really are counted: the unmatched text, and the rows without
    // a text that only their point places.
    let by_municipality = stats(&url, &table, "pushdown", &["--by", "municipality"]);
    assert!(by_municipality.contains("Нигдевск,3"), "{by_municipality}");
    let total_line = stats(&url, &table, "pushdown", &["--by", "status"]);
    assert!(total_line.lines().count() > 3, "{total_line}");
    // A name that matches nothing is the same error both ways.
    for strategy in ["local", "pushdown"] {
        let err = common::run_cli(&[
            "stats",
            &url,
            "--table",
            &table,
            "--strategy",
            strategy,
            "--by",
            "status",
            "--category",
            "Нет такой",
        ])
        .unwrap_err()
        .to_string();
        assert!(err.contains("matches nothing"), "{strategy}: {err}");
    }
    drop(schema);
}

#[test]
#[ignore = "needs PostgreSQL (TEPLOKARTA_PG_URL)"]
fn metric_stats_pushed_down_equal_local() {
    let mut schema = Schema::new("tk_push");
    let (_dir, _sqlite, table) = fixture(&mut schema, 5_000);
    let url = pg_url();
    for metric in ["count", "per10k", "unresolved"] {
        for filter in [
            vec![],
            vec!["--from", "2021-04-01", "--to", "2021-06-30"],
            vec!["--category", "ЖКХ", "--status", "new"],
            vec!["--subcategory", "ЖКХ/", "--municipality", "Нигдевск"],
        ] {
            for classification in ["quantiles", "jenks"] {
                let mut extra = vec![
                    "--by",
                    "municipality",
                    "--metric",
                    metric,
                    "--classification",
                    classification,
                ];
                extra.extend_from_slice(&filter);
                let local = stats(&url, &table, "local", &extra);
                let pushed = stats(&url, &table, "pushdown", &extra);
                assert_eq!(
                    pushed, local,
                    "--metric {metric} {filter:?} {classification}"
                );
                assert!(local.lines().count() > 1, "{local}");
            }
        }
    }
    // The change metric needs the whole table's first day: local only, said so.
    let err = common::run_cli(&[
        "stats",
        &url,
        "--table",
        &table,
        "--strategy",
        "pushdown",
        "--by",
        "municipality",
        "--metric",
        "change",
        "--from",
        "2021-05-01",
        "--to",
        "2021-05-31",
    ])
    .unwrap_err()
    .to_string();
    assert!(err.contains("locally only"), "{err}");
    drop(schema);
}

/// `heat --mode fast` of `table` with `args`, local then pushed down, into files in `dir`
/// named after `tag`: for each, the summary line's size, cells, appeals and peak (without the
/// file's name and the time) and the GeoTIFF's bytes.
fn heat_both(
    url: &str,
    table: &str,
    args: &[&str],
    dir: &std::path::Path,
    tag: &str,
) -> Vec<(String, Vec<u8>)> {
    ["local", "pushdown"]
        .iter()
        .map(|strategy| {
            let file = dir.join(format!("{tag}-{strategy}.tif"));
            let mut all = vec![
                "heat",
                url,
                "--table",
                table,
                "--mode",
                "fast",
                "--strategy",
                strategy,
            ];
            all.extend_from_slice(args);
            all.extend_from_slice(&["--out", file.to_str().unwrap()]);
            let said = common::run_cli(&all).unwrap();
            let said = said.split_once(") in ").unwrap().0;
            let said = said.split_once(" (").unwrap().1.to_owned();
            (said, std::fs::read(&file).unwrap())
        })
        .collect()
}

#[test]
#[ignore = "needs PostgreSQL (TEPLOKARTA_PG_URL)"]
fn heat_binned_in_sql_equals_local_fast_mode() {
    let mut schema = Schema::new("tk_push");
    let (_dir, _sqlite, table) = fixture(&mut schema, 5_000);
    let url = pg_url();
    let out = tempfile::tempdir().unwrap();
    let cases: Vec<Vec<&str>> = vec![
        vec![],
        vec!["--from", "2021-05-01", "--to", "2021-05-31"],
        vec![
            "--from",
            "2021-02-01",
            "--to",
            "2021-05-31",
            "--kernel",
            "uniform",
        ],
        // No row of this filter has another date shape: the query leaves out the anti-join.
        vec![
            "--from",
            "2021-02-01",
            "--to",
            "2021-05-31",
            "--category",
            "ЖКХ",
            "--source",
            "social",
        ],
        vec!["--to", "2021-03-15", "--category", "ЖКХ", "--source", "pos"],
        vec![
            "--subcategory",
            "ЖКХ/",
            "--subcategory",
            "Дороги/Ямы",
            "--status",
            "new",
        ],
        vec![
            "--size",
            "300x200",
            "--radius-m",
            "5000",
            "--kernel",
            "gaussian",
        ],
        vec![
            "--bbox",
            "65.0,56.8,66.0,57.4",
            "--size",
            "128x128",
            "--radius-m",
            "800",
        ],
        // Up to the Mercator limit: the fast mode projects each point there (no row edges),
        // and so does the server, leaving the points near a bin's edge to the client.
        vec![
            "--bbox",
            "0,50,120,85.05",
            "--size",
            "128x128",
            "--radius-m",
            "5000",
        ],
    ];
    for (n, case) in cases.iter().enumerate() {
        let mut args: Vec<&str> = Vec::new();
        if !case.contains(&"--size") {
            args.extend_from_slice(&["--size", "256x256"]);
        }
        args.extend_from_slice(case);
        let outputs = heat_both(&url, &table, &args, out.path(), &n.to_string());
        assert_eq!(outputs[0].0, outputs[1].0, "{case:?}");
        assert!(outputs[0].1.len() > 100, "{case:?}");
        assert!(outputs[0].1 == outputs[1].1, "GeoTIFF differs for {case:?}");
    }
    // The period's shortcuts, with the indexes `docs/postgres.md` recommends. A plain-shaped
    // text that is no date (`2021-04-31`) in a filter with no other shape: the valid-days check
    // must stay (the text range alone would keep it). Then a table whose texts all lie in the
    // period: the range is left out, but not the row without a date.
    schema
        .client
        .batch_execute(&format!(
            "INSERT INTO {table} (id, received_at, source, category, status, lat, lon) VALUES \
               (900101, '2021-04-31T09:00:00', 'pos', 'Газ', 'new', 57.14, 65.55), \
               (900102, '2021-04-12T09:00:00', 'pos', 'Газ', 'new', 57.16, 65.57), \
               (900103, '2021-05-12', 'pos', 'Газ', 'new', 57.18, 65.59), \
               (900104, '9999-12-32T00:00:00', 'pos', 'Газ', 'new', 57.15, 65.56), \
               (900105, '9999-12-15', 'pos', 'Газ', 'new', 57.17, 65.58); \
             CREATE INDEX ON {table} (received_at COLLATE \"C\"); \
             CREATE INDEX ON {table} (id) WHERE received_at !~ \
               '^[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}([T ]([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\\.[0-9]{{1,9}})?(Z|[+-][0-9]{{2}}(:?[0-9]{{2}})?)?)?$'; \
             CREATE TABLE {table}_clean AS SELECT * FROM {table} WHERE id < 900000; \
             INSERT INTO {table}_clean (id, received_at, source, category, status, lat, lon) \
               VALUES (900201, NULL, 'pos', 'ЖКХ', 'new', 57.14, 65.55); \
             CREATE INDEX ON {table}_clean (received_at COLLATE \"C\"); ANALYZE {table}; \
             ANALYZE {table}_clean"
        ))
        .unwrap();
    let clean = format!("{table}_clean");
    let shortcuts: [(&str, Vec<&str>); 6] = [
        (
            &table,
            vec![
                "--from",
                "2021-02-01",
                "--to",
                "2021-05-31",
                "--category",
                "Газ",
            ],
        ),
        (
            &table,
            vec![
                "--from",
                "2021-04-01",
                "--to",
                "2021-04-30",
                "--category",
                "Газ",
            ],
        ),
        (&clean, vec!["--from", "2000-01-01", "--to", "2030-12-31"]),
        (&clean, vec!["--from", "2021-03-01", "--to", "2030-12-31"]),
        (&clean, vec!["--from", "2000-01-01", "--to", "2021-10-31"]),
        // No day after the last: no gaps were asked for, so the valid-days check stays.
        (
            &table,
            vec![
                "--from",
                "9999-12-01",
                "--to",
                "9999-12-31",
                "--category",
                "Газ",
            ],
        ),
    ];
    for (n, (on, case)) in shortcuts.iter().enumerate() {
        let mut args = vec!["--size", "256x256", "--bbox", "64.0,55.5,71.0,59.5"];
        args.extend_from_slice(case);
        let outputs = heat_both(&url, on, &args, out.path(), &format!("s{n}"));
        assert_eq!(outputs[0].0, outputs[1].0, "{on} {case:?}");
        assert!(
            outputs[0].1 == outputs[1].1,
            "GeoTIFF differs for {on} {case:?}"
        );
    }
    // Exact mode and other weights are local only.
    let file = out.path().join("x.tif");
    let err = common::run_cli(&[
        "heat",
        &url,
        "--table",
        &table,
        "--strategy",
        "pushdown",
        "--out",
        file.to_str().unwrap(),
    ])
    .unwrap_err()
    .to_string();
    assert!(err.contains("--mode fast"), "{err}");
    drop(schema);
}

/// `export` of a table read grouped (`--strategy pushdown`) writes the bytes a full load
/// writes: the choropleth's and the problem map's CSV and GeoJSON, their provenance included —
/// the data hash from a pass over the rows in batches, and the newest receipt — and a rendered
/// PNG says the same provenance; hexagon zones are a full load's too.
#[test]
#[ignore = "needs PostgreSQL (TEPLOKARTA_PG_URL)"]
fn export_pushed_down_equals_local() {
    let mut schema = Schema::new("tk_export");
    let (_dir, _sqlite, table) = fixture(&mut schema, 5_000);
    let url = pg_url();
    let out = tempfile::tempdir().unwrap();
    let cases: Vec<Vec<&str>> = vec![
        vec!["--layer", "choropleth", "--metric", "per10k"],
        vec![
            "--layer",
            "choropleth",
            "--from",
            "2021-03-01",
            "--to",
            "2021-05-31",
            "--category",
            "ЖКХ",
        ],
        vec![
            "--layer",
            "problems",
            "--profile",
            "heating",
            "--zones",
            "settlements",
        ],
        vec![
            "--layer",
            "problems",
            "--profile",
            "power-outages",
            "--zones",
            "municipalities",
            "--k",
            "1",
        ],
    ];
    let export = |strategy: &str, case: &[&str], file: &std::path::Path| {
        let mut args = vec!["export", &url, "--table", &table, "--strategy", strategy];
        args.extend_from_slice(case);
        let file = file.to_str().unwrap().to_owned();
        args.extend_from_slice(&["--out", &file]);
        common::run_cli(&args).map(|said| said.replace(&file, "FILE"))
    };
    for (n, case) in cases.iter().enumerate() {
        for ext in ["csv", "geojson"] {
            let files: Vec<_> = ["local", "pushdown"]
                .iter()
                .map(|strategy| {
                    let file = out.path().join(format!("{n}-{strategy}.{ext}"));
                    let said = export(strategy, case, &file).unwrap();
                    (said, std::fs::read(&file).unwrap())
                })
                .collect();
            assert_eq!(files[0].0, files[1].0, "{case:?} {ext}");
            assert!(files[0].1.len() > 200, "{case:?} {ext}");
            assert!(
                files[0].1 == files[1].1,
                "the {ext} files differ for {case:?}"
            );
        }
    }
    // A rendered export: the same provenance line (data hash and newest receipt).
    let png = |strategy: &str| {
        let file = out.path().join(format!("map-{strategy}.png"));
        let said = export(
            strategy,
            &["--layer", "choropleth", "--size", "400x300"],
            &file,
        )
        .unwrap();
        assert!(std::fs::metadata(&file).unwrap().len() > 1_000);
        said
    };
    let (local, pushed) = (png("local"), png("pushdown"));
    assert!(local.contains("данные на 2021-"), "{local}");
    assert_eq!(local, pushed);
    // Hexagon zones too (the cells from one pass over the points).
    let hex = &[
        "--layer",
        "problems",
        "--profile",
        "heating",
        "--zones",
        "hex",
    ][..];
    let file = out.path().join("hex.csv");
    let pushed = export("pushdown", hex, &file).unwrap();
    let pushed_bytes = std::fs::read(&file).unwrap();
    assert_eq!(pushed, export("local", hex, &file).unwrap());
    assert!(pushed_bytes == std::fs::read(&file).unwrap());
    drop(schema);
}

/// Points on the fast mode's bin edges and a double either side of them: the server bins
/// them by the binning's edges and must put each in the bin the local fast mode does (a point
/// a bin too far moves the kernel, so the GeoTIFFs would differ).
#[test]
#[ignore = "needs PostgreSQL (TEPLOKARTA_PG_URL)"]
fn heat_binned_in_sql_equals_local_fast_mode_on_the_bins_edges() {
    use teplokarta::analysis::{FastBinning, Grid};
    let mut schema = Schema::new("tk_edges");
    let (_dir, _sqlite, table) = fixture(&mut schema, 300);
    let (bbox, size, radius_m) = ((65.0, 56.8, 66.0, 57.4), (160, 120), 800.0);
    let grid = Grid::over_lon_lat(bbox.0, bbox.1, bbox.2, bbox.3, size.0, size.1);
    let binning = FastBinning::new(&grid, radius_m).unwrap();
    let lat_edges = binning.lat_row_edges.clone().unwrap();
    let around = |e: f64| [e.next_down(), e, e.next_up()];
    let mid_lat = 57.1;
    let mid_lon = 65.5;
    let mut points: Vec<(f64, f64)> = Vec::new();
    for &lon in binning.lon_column_edges.iter().filter(|e| e.is_finite()) {
        points.extend(around(lon).map(|lon| (lon, mid_lat)));
    }
    for &lat in &lat_edges {
        points.extend(around(lat).map(|lat| (mid_lon, lat)));
    }
    // A few corners: both coordinates on edges.
    for k in (0..binning.bins_across.min(binning.bins_down)).step_by(37) {
        points.push((binning.lon_column_edges[k], lat_edges[k]));
    }
    assert!(points.len() > 1_000, "{}", points.len());
    let mut tx = schema.client.transaction().unwrap();
    let insert = tx
        .prepare(&format!(
            "INSERT INTO {table} (id, received_at, source, category, status, lon, lat) \
             VALUES ($1, '2021-05-01T10:00:00', 'pos', 'ЖКХ', 'new', $2, $3)"
        ))
        .unwrap();
    for (i, (lon, lat)) in points.iter().enumerate() {
        tx.execute(&insert, &[&(800_000 + i as i64), lon, lat])
            .unwrap();
    }
    tx.commit().unwrap();
    let url = pg_url();
    let out = tempfile::tempdir().unwrap();
    let bbox = format!("{},{},{},{}", bbox.0, bbox.1, bbox.2, bbox.3);
    let size = format!("{}x{}", size.0, size.1);
    let radius = radius_m.to_string();
    let outputs = heat_both(
        &url,
        &table,
        &[
            "--bbox",
            &bbox,
            "--size",
            &size,
            "--radius-m",
            &radius,
            "--kernel",
            "uniform",
        ],
        out.path(),
        "edges",
    );
    assert_eq!(outputs[0].0, outputs[1].0);
    assert!(outputs[0].1 == outputs[1].1, "the GeoTIFFs differ");
    drop(schema);
}

/// `problems --zones municipalities` read as the window reads a large table (grouped, then the
/// rows the filter and profile can keep) writes the same CSV, GeoJSON and ranked table as from
/// all rows loaded; other zones are refused with `pushdown` and loaded with `auto`.
#[test]
#[ignore = "needs PostgreSQL (TEPLOKARTA_PG_URL)"]
fn problems_pushed_down_equal_local_for_every_zoning() {
    let mut schema = Schema::new("tk_problems");
    let (_dir, _sqlite, table) = fixture(&mut schema, 5_000);
    let url = pg_url();
    let out = tempfile::tempdir().unwrap();
    let cases: Vec<Vec<&str>> = vec![
        vec!["--profile", "heating"],
        vec![
            "--profile",
            "power-outages",
            "--snt",
            "--weights",
            "knn",
            "--k",
            "3",
        ],
        vec![
            "--profile",
            "roads",
            "--from",
            "2021-03-01",
            "--to",
            "2021-08-31",
            "--slice",
            "week",
            "--intervention",
            "2021-06-01",
        ],
        // The filter and the profile share no category: no row to load but the unplaced texts'.
        vec!["--profile", "heating", "--category", "Дороги"],
        vec![
            "--profile",
            "water",
            "--municipality",
            "Тюмень",
            "--source",
            "pos",
        ],
    ];
    // Settlement zones: all the table's settlements at the centroids of all their appeals
    // (from the groups' coordinate sums); hexagons: all the table's cells, from one pass over
    // its points — so the Gi* classes are a full load's too.
    let zoned = cases
        .iter()
        .flat_map(|case| ["municipalities", "settlements", "hex"].map(|zones| (zones, case)));
    for (n, (zones, case)) in zoned.enumerate() {
        let mut outputs = Vec::new();
        for strategy in ["local", "pushdown"] {
            let mut said = Vec::new();
            for ext in ["csv", "geojson", ""] {
                let file = out.path().join(format!("{n}-{strategy}.{ext}"));
                let mut args = vec![
                    "problems",
                    &url,
                    "--table",
                    &table,
                    "--zones",
                    zones,
                    "--strategy",
                    strategy,
                ];
                args.extend_from_slice(case);
                let file_arg = file.to_str().unwrap().to_owned();
                if !ext.is_empty() {
                    args.extend_from_slice(&["--out", &file_arg]);
                }
                let printed = common::run_cli(&args).unwrap();
                let written = if ext.is_empty() {
                    Vec::new()
                } else {
                    std::fs::read(&file).unwrap()
                };
                // The printed table, without the file's name.
                said.push((printed.replace(&file_arg, "FILE"), written));
            }
            outputs.push(said);
        }
        assert!(outputs[0][0].1.len() > 100, "{zones} {case:?}");
        assert!(outputs[0][2].0.contains("rank"), "{zones} {case:?}");
        for (local, pushed) in outputs[0].iter().zip(&outputs[1]) {
            assert_eq!(local.0, pushed.0, "{zones} {case:?}");
            assert!(local.1 == pushed.1, "the files differ for {zones} {case:?}");
        }
    }
    // A given spacing, pushed down, as loaded.
    let hex = |strategy: &str| {
        common::run_cli(&[
            "problems",
            &url,
            "--table",
            &table,
            "--profile",
            "heating",
            "--zones",
            "hex",
            "--cell-km",
            "3",
            "--strategy",
            strategy,
        ])
        .unwrap()
    };
    assert_eq!(hex("pushdown"), hex("local"));
    // More rows for the profile than `--pushdown-above`: `auto` loads the table, `pushdown`
    // says how many rows it would need.
    let limited = |strategy: &str| {
        common::run_cli(&[
            "problems",
            &url,
            "--table",
            &table,
            "--profile",
            "heating",
            "--zones",
            "municipalities",
            "--strategy",
            strategy,
            "--pushdown-above",
            "10",
        ])
    };
    let err = format!("{:#}", limited("pushdown").unwrap_err());
    assert!(err.contains("at most 10 are loaded"), "{err}");
    let auto = limited("auto").unwrap();
    assert_eq!(auto, limited("local").unwrap());
    assert!(auto.contains("rank"), "{auto}");
    drop(schema);
}

#[test]
#[ignore = "needs PostgreSQL (TEPLOKARTA_PG_URL)"]
fn auto_pushes_down_above_the_threshold_only() {
    let mut schema = Schema::new("tk_push");
    let (_dir, _sqlite, table) = fixture(&mut schema, 2_000);
    let url = pg_url();
    let by = ["--by", "municipality,category"];
    let local = stats(&url, &table, "local", &by);
    // Either way the same output.
    for above in ["0", "100000"] {
        let auto = stats(
            &url,
            &table,
            "auto",
            &[&by[..], &["--pushdown-above", above]].concat(),
        );
        assert_eq!(auto, local, "--pushdown-above {above}");
    }
    // Which strategy ran: a column the local loader rejects (bytea in `address`, which the
    // grouped queries never read) fails the local strategy only.
    schema
        .client
        .batch_execute(&format!(
            "ALTER TABLE {table} ALTER COLUMN address TYPE bytea USING convert_to(coalesce(address, 'x'), 'UTF8')"
        ))
        .unwrap();
    let run = |strategy: &str, above: &str| {
        common::run_cli(&[
            "stats",
            &url,
            "--table",
            &table,
            "--strategy",
            strategy,
            "--pushdown-above",
            above,
            "--by",
            "municipality,category",
            "--format",
            "csv",
        ])
    };
    assert!(
        run("local", "0").is_err(),
        "the loader refuses binary addresses"
    );
    assert_eq!(
        run("auto", "0").unwrap(),
        local,
        "above the threshold: pushdown"
    );
    assert!(run("auto", "100000").is_err(), "below the threshold: local");
    drop(schema);
}

/// The window's pushdown strategy: the table grouped in the database once, every view computed
/// from the weighted groups, the density binned in SQL, the problem map on the filter's rows.
mod window {
    use super::{Schema, fixture, pg_url};
    use std::sync::Arc;
    use teplokarta::analysis::problems::{ProblemSettings, ZoneKind};
    use teplokarta::analysis::{
        Classification, Filter, Grid, Kernel, Metric, Mode, density_mercator,
        mercator_points_from_unit,
    };
    use teplokarta::app::problems::{ProblemRequest, compute_problems};
    use teplokarta::app::{
        BoundarySet, DensityRequest, HexGridCache, Resolved, View, ViewRequest, compute_view,
        density_pushdown, load_dataset_with, problem_rows_and_base_of_grouped, resolve,
    };
    use teplokarta::data::{LoadStrategy, Source};
    use teplokarta::spatial::Boundaries;

    /// The same table resolved twice: rows loaded, and grouped in the database.
    fn both(url: &str, table: &str) -> (Arc<Resolved>, Arc<Resolved>) {
        let source = Source::parse(url, Some(table));
        let boundaries = Arc::new(BoundarySet::new(Boundaries::schematic()));
        let local = load_dataset_with(source.clone(), false, LoadStrategy::Local).unwrap();
        let grouped = load_dataset_with(source, false, LoadStrategy::Pushdown).unwrap();
        assert!(!local.is_grouped() && grouped.is_grouped());
        assert_eq!(grouped.appeal_count(), local.appeals.len() as u64);
        // Few rows share a day, category, status, settlement…: grouping pays with volume.
        assert!(
            grouped.appeals.len() < local.appeals.len(),
            "{} groups for {} rows",
            grouped.appeals.len(),
            local.appeals.len()
        );
        (
            Arc::new(resolve(Arc::new(local), boundaries.clone())),
            Arc::new(resolve(Arc::new(grouped), boundaries)),
        )
    }

    fn filters() -> Vec<Filter> {
        let date = |s: &str| Some(s.parse().unwrap());
        let set = |items: &[&str]| items.iter().map(|s| (*s).to_owned()).collect();
        vec![
            Filter::default(),
            Filter {
                from: date("2021-05-01"),
                to: date("2021-05-31"),
                ..Filter::default()
            },
            Filter {
                to: date("2021-03-15"),
                categories: set(&["ЖКХ"]),
                sources: set(&["pos"]),
                ..Filter::default()
            },
            Filter {
                subcategories: [
                    ("ЖКХ".to_owned(), String::new()),
                    ("Дороги".to_owned(), "Ямы".to_owned()),
                ]
                .into_iter()
                .collect(),
                statuses: set(&["new", "in_progress"]),
                ..Filter::default()
            },
            // Municipalities: by text (a variant), the unknown bucket, and a text that
            // matches nothing.
            Filter {
                from: date("2021-04-01"),
                to: date("2021-09-30"),
                municipalities: set(&["г. Тюмень", "Ишим", "", "Нигдевск"]),
                ..Filter::default()
            },
        ]
    }

    fn view(resolved: &Arc<Resolved>, filter: &Filter, metric: Metric, selected: u32) -> View {
        compute_view(
            resolved.clone(),
            ViewRequest {
                filter: filter.clone(),
                metric,
                classification: Classification::Quantiles,
                classes: 5,
                locked_breaks: None,
                selected: Some(selected),
            },
        )
    }

    #[test]
    #[ignore = "needs PostgreSQL (TEPLOKARTA_PG_URL)"]
    fn views_of_the_grouped_table_equal_the_loaded_rows() {
        let mut schema = Schema::new("tk_pushw");
        let (_dir, _sqlite, table) = fixture(&mut schema, 5_000);
        let (local, grouped) = both(&pg_url(), &table);
        // The same labels (the groups are resolved by the same matcher and point-in-polygon).
        assert_eq!(local.resolution.labels, grouped.resolution.labels);
        let tyumen = local.resolution.label_code("Тюмень").unwrap();
        for filter in filters() {
            for metric in [
                Metric::Count,
                Metric::Per10k,
                Metric::Unresolved,
                Metric::Change,
            ] {
                if metric == Metric::Change && (filter.from.is_none() || filter.to.is_none()) {
                    continue;
                }
                let a = view(&local, &filter, metric, tyumen);
                let b = view(&grouped, &filter, metric, tyumen);
                let case = format!("{filter:?} {metric:?}");
                assert_eq!(a.values, b.values, "{case}");
                assert_eq!(a.breaks, b.breaks, "{case}");
                assert_eq!(a.ranks, b.ranks, "{case}");
                assert_eq!(a.in_filter, b.in_filter, "{case}");
                assert_eq!(a.aggregates.by_label, b.aggregates.by_label, "{case}");
                // Category codes follow the order names first arrive in (rows or groups), so
                // the pivot is compared by name.
                assert_eq!(a.pivot.category_names, b.pivot.category_names, "{case}");
                assert_eq!(a.pivot.rows, b.pivot.rows, "{case}");
                assert_eq!(a.pivot.totals, b.pivot.totals, "{case}");
                assert_eq!(a.pivot.total_other, b.pivot.total_other, "{case}");
                assert_eq!(a.pivot.total, b.pivot.total, "{case}");
                // The side panel: totals, placed, lists, quality and municipality figures.
                let (s, t) = (&a.summary, &b.summary);
                assert_eq!(s.total, t.total, "{case}");
                assert_eq!(s.placed, t.placed, "{case}");
                assert_eq!(s.days, t.days, "{case}");
                assert_eq!(s.by_category, t.by_category, "{case}");
                assert_eq!(s.by_municipality, t.by_municipality, "{case}");
                assert_eq!(s.by_source, t.by_source, "{case}");
                assert_eq!(s.by_status, t.by_status, "{case}");
                assert_eq!(s.unmatched_municipalities, t.unmatched_municipalities);
                assert_eq!(s.no_municipality, t.no_municipality);
                assert_eq!(s.assigned_by_point, t.assigned_by_point);
                assert_eq!(s.unknown_municipality, t.unknown_municipality);
                let mut q = s.quality.clone();
                q.samples.clear();
                assert_eq!(q, t.quality, "{case}");
                // The details of a municipality: its time series (weeks), categories,
                // statuses and settlements.
                let (d, e) = (a.details.unwrap(), b.details.unwrap());
                assert_eq!(d.total, e.total, "{case}");
                assert_eq!(d.weekly, e.weekly, "{case}");
                assert_eq!(d.by_category, e.by_category, "{case}");
                assert_eq!(d.by_status, e.by_status, "{case}");
                assert_eq!(d.top_settlements, e.top_settlements, "{case}");
            }
        }
        // The fixture's odd rows are in: coordinates 0,0, out of range, partial.
        assert!(grouped.dataset.appeals.quality.coordinates_zero_zero > 0);
        assert!(grouped.dataset.appeals.quality.coordinates_out_of_range > 0);
        assert!(grouped.dataset.appeals.quality.partial_coordinates > 0);
        drop(schema);
    }

    #[test]
    #[ignore = "needs PostgreSQL (TEPLOKARTA_PG_URL)"]
    fn density_binned_in_sql_equals_the_loaded_rows_fast_mode() {
        let mut schema = Schema::new("tk_pushw");
        let (_dir, _sqlite, table) = fixture(&mut schema, 5_000);
        let (local, grouped) = both(&pg_url(), &table);
        let grids = [
            (
                Grid::over_lon_lat(64.0, 55.5, 72.0, 59.5, 320, 200),
                4_000.0,
            ),
            (Grid::over_lon_lat(65.0, 56.8, 66.0, 57.4, 256, 160), 600.0),
        ];
        let mut cells_seen = 0;
        for filter in filters() {
            for (grid, radius_m) in &grids {
                for (kernel, k) in [(Kernel::Quartic, None), (Kernel::Gaussian, Some(3))] {
                    let request = DensityRequest {
                        grid: *grid,
                        radius_m: *radius_m,
                        kernel,
                        mode: Mode::Fast,
                        k,
                    };
                    let points = view(&local, &filter, Metric::Count, 0).points_unit;
                    let mercator = mercator_points_from_unit(&points);
                    let mut expected =
                        density_mercator(&mercator, None, grid, kernel, *radius_m, Mode::Fast);
                    if let Some(k) = k {
                        let reach = density_mercator(
                            &mercator,
                            None,
                            grid,
                            Kernel::Uniform,
                            *radius_m,
                            Mode::Fast,
                        );
                        teplokarta::analysis::export::hide_cells_under_k(
                            &mut expected.values,
                            &reach.values,
                            *radius_m,
                            k,
                        );
                    }
                    let got = density_pushdown(&grouped, &filter, &request).unwrap();
                    let case = format!("{filter:?} {radius_m} {kernel:?}");
                    assert_eq!(got.values.len(), expected.values.len(), "{case}");
                    assert!(got.values == expected.values, "surface differs: {case}");
                    cells_seen += got.values.iter().filter(|v| **v > 0.0).count();
                }
            }
        }
        assert!(cells_seen > 1_000, "{cells_seen} non-empty cells");
        drop(schema);
    }

    #[test]
    #[ignore = "needs PostgreSQL (TEPLOKARTA_PG_URL)"]
    fn problem_map_of_the_grouped_table_equals_the_loaded_rows() {
        let mut schema = Schema::new("tk_pushw");
        let (_dir, _sqlite, table) = fixture(&mut schema, 5_000);
        let (local, grouped) = both(&pg_url(), &table);
        let mut zones_compared = 0;
        let mut classes_seen = [0usize; 3];
        for filter in filters() {
            for zones in [
                ZoneKind::Municipalities,
                ZoneKind::Settlements,
                ZoneKind::Hexagons,
            ] {
                let request = ProblemRequest {
                    filter: filter.clone(),
                    settings: ProblemSettings::default(),
                    zones,
                    cell_km: None,
                };
                let a = compute_problems(local.clone(), request.clone(), None);
                let (rows, base) = problem_rows_and_base_of_grouped(
                    &grouped,
                    &request,
                    u64::MAX,
                    &HexGridCache::default(),
                )
                .unwrap();
                let b = compute_problems(rows, request, base);
                let case = format!("{filter:?} {zones:?}");
                assert_eq!(a.map.appeals, b.map.appeals, "{case}");
                assert_eq!(a.map.unzoned, b.map.unzoned, "{case}");
                assert_eq!(a.map.slices, b.map.slices, "{case}");
                let by_name = |r: &teplokarta::app::problems::ProblemResult| {
                    let mut zones: Vec<_> = r
                        .map
                        .zones
                        .iter()
                        .filter(|z| z.appeals > 0)
                        .map(|z| {
                            let zone = &r.base.zones.zones[z.zone as usize];
                            let mut z = z.clone();
                            z.zone = 0;
                            (zone.name.clone(), zone.municipality.clone(), z)
                        })
                        .collect();
                    zones.sort_by(|x, y| (&x.0, &x.1).cmp(&(&y.0, &y.1)));
                    zones
                };
                let (za, zb) = (by_name(&a), by_name(&b));
                zones_compared += za.len();
                // The same zones — for municipalities all the table's labels, a text naming no
                // unit placed at the mean of all its appeals; for settlements all the table's
                // settlements at the centroids of all their appeals, from the groups' sums; for
                // hexagons all the table's cells, from one pass over its points —: everything
                // equal, Gi* and classes included.
                assert_eq!(a.base.zones.zones, b.base.zones.zones, "{case}");
                assert_eq!(a.map.distance_km, b.map.distance_km, "{case}");
                assert_eq!(a.map.tested_zones, b.map.tested_zones, "{case}");
                assert_eq!(za, zb, "{case}");
                let significant = za.iter().filter(|z| z.2.class.gi_bin() != 0).count();
                classes_seen[zones as usize] += significant;
                // Every zone's counts, time series, trend and service level are the same.
                let counts =
                    |z: &[(String, String, teplokarta::analysis::problems::ZoneStats)]| {
                        z.iter()
                            .map(|(n, m, s)| {
                                (
                                    n.clone(),
                                    m.clone(),
                                    (s.appeals, s.incidents, s.open, s.overdue),
                                    s.series.clone(),
                                    s.trend,
                                    s.median_days_to_answer,
                                    s.last_day,
                                )
                            })
                            .collect::<Vec<_>>()
                    };
                assert_eq!(counts(&za), counts(&zb), "{case}");
            }
        }
        assert!(zones_compared > 20, "{zones_compared} zones compared");
        // Hot or cold zones were compared, for both zonings.
        assert!(classes_seen.iter().all(|&n| n > 0), "{classes_seen:?}");
        // Hexagons of a given spacing.
        let request = ProblemRequest {
            filter: Filter::default(),
            settings: ProblemSettings::default(),
            zones: ZoneKind::Hexagons,
            cell_km: Some(4.0),
        };
        let a = compute_problems(local.clone(), request.clone(), None);
        let (rows, base) = problem_rows_and_base_of_grouped(
            &grouped,
            &request,
            u64::MAX,
            &HexGridCache::default(),
        )
        .unwrap();
        let b = compute_problems(rows, request, base);
        assert_eq!(a.base.zones.zones, b.base.zones.zones);
        assert_eq!(a.base.zones.cell_km, Some(4.0));
        drop(schema);
    }

    /// Integer coordinate columns (read as doubles, as the loader reads them): the hexagon grid
    /// of the grouped table is the loaded rows' grid.
    #[test]
    #[ignore = "needs PostgreSQL (TEPLOKARTA_PG_URL)"]
    fn hexagons_of_a_grouped_table_with_integer_coordinates_equal_the_loaded_rows() {
        let mut schema = Schema::new("tk_pushi");
        let (_dir, _sqlite, table) = fixture(&mut schema, 3_000);
        let ints = format!("{table}_ints");
        schema
            .client
            .batch_execute(&format!(
                "CREATE TABLE {ints} AS SELECT id, received_at, source, category, subcategory, \
                 municipality, settlement, address, round(lat * 2)::int8 - 57 AS lat, \
                 round(lon * 2)::int8 - 65 AS lon, status, resolved_at, text FROM {table}"
            ))
            .unwrap();
        let (local, grouped) = both(&pg_url(), &ints);
        let request = ProblemRequest {
            filter: Filter::default(),
            settings: ProblemSettings::default(),
            zones: ZoneKind::Hexagons,
            cell_km: None,
        };
        let a = compute_problems(local, request.clone(), None);
        let hex_grids = HexGridCache::default();
        let (rows, base) =
            problem_rows_and_base_of_grouped(&grouped, &request, u64::MAX, &hex_grids).unwrap();
        let b = compute_problems(rows, request.clone(), base);
        assert!(a.base.zones.zones.len() > 1);
        assert_eq!(a.base.zones.zones, b.base.zones.zones);
        assert_eq!(a.base.zones.cell_km, b.base.zones.cell_km);
        // The grid is kept for the same table and spacing (a filter change does not read the
        // points again): with the points moved, the kept grid is the one above, a new pass not.
        schema
            .client
            .batch_execute(&format!("UPDATE {ints} SET lon = lon + 3"))
            .unwrap();
        let cells = |hex_grids: &HexGridCache| {
            let (_, base) =
                problem_rows_and_base_of_grouped(&grouped, &request, u64::MAX, hex_grids).unwrap();
            base.unwrap().zones.zones.clone()
        };
        assert_eq!(cells(&hex_grids), b.base.zones.zones);
        assert_ne!(cells(&HexGridCache::default()), b.base.zones.zones);
        drop(schema);
    }
}
