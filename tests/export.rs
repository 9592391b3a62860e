//! `teplokarta export`: the GeoJSON and CSV of aggregates open, sum to the filtered total SQL
//! gives, never show a unit with 1..k-1 appeals with its count, carry a provenance whose hashes
//! change with the data or the settings and with nothing else, and contain no appeal text or
//! address. Video and unknown formats are refused clearly.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers may panic

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::{demo_db, run_export};
use serde_json::Value;

const POWER: &str = "Электроэнергетика";

/// Exports `db` to `out` with extra arguments and returns the file's text.
fn export(db: &Path, out: &Path, extra: &[&str]) -> String {
    run_export(db, out, extra).unwrap();
    std::fs::read_to_string(out).unwrap()
}

/// The error of an export that must fail, as text.
fn export_error(db: &Path, out: &Path, extra: &[&str]) -> String {
    run_export(db, out, extra).unwrap_err().to_string()
}

fn geojson(db: &Path, dir: &Path, extra: &[&str]) -> Value {
    let text = export(db, &dir.join("export.geojson"), extra);
    // A valid GeoJSON FeatureCollection for the geojson crate, and plain JSON for the checks.
    let parsed: geojson::GeoJson = text.parse().unwrap();
    assert!(matches!(parsed, geojson::GeoJson::FeatureCollection(_)));
    serde_json::from_str(&text).unwrap()
}

fn sql_count(db: &Path, sql: &str) -> u64 {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.query_row(sql, [], |r| r.get::<_, i64>(0)).unwrap() as u64
}

/// (name → count) of the features, and the merged bucket's count.
fn counts(json: &Value) -> (BTreeMap<String, u64>, Option<u64>) {
    let features = json["features"].as_array().unwrap();
    let mut by_name = BTreeMap::new();
    for f in features {
        let name = f["properties"]["name"].as_str().unwrap().to_owned();
        let count = f["properties"]["count"].as_u64().unwrap();
        assert!(
            by_name.insert(name, count).is_none(),
            "one feature per unit"
        );
    }
    (by_name, json["other"]["count"].as_u64())
}

#[test]
fn choropleth_geojson_sums_to_the_sql_total_and_hides_small_units() {
    let (dir, db) = demo_db(3_000, 7);
    let total = sql_count(
        &db,
        &format!("SELECT COUNT(*) FROM appeals WHERE category = '{POWER}'"),
    );
    assert!(total > 20, "the demo has power appeals: {total}");
    let filter = ["--category", POWER];

    // Without k-anonymity every municipality is there and the counts sum to SQL's total.
    let all = geojson(&db, dir.path(), &[&filter[..], &["--k", "1"]].concat());
    let (all_counts, other) = counts(&all);
    assert_eq!(other, None);
    assert_eq!(all_counts.values().sum::<u64>(), total);
    let small: Vec<&String> = all_counts
        .iter()
        .filter(|(_, n)| (1..3).contains(*n))
        .map(|(name, _)| name)
        .collect();
    let small_sum: u64 = all_counts.values().filter(|n| (1..3).contains(*n)).sum();
    assert!(
        small.len() >= 2,
        "the filter leaves small municipalities: {all_counts:?}"
    );

    // With the default k = 3 they are merged into "other" (their sum is at least 3 here).
    let json = geojson(&db, dir.path(), &filter);
    let (shown, other) = counts(&json);
    assert!(small_sum >= 3);
    assert_eq!(other, Some(small_sum));
    assert_eq!(json["other"]["units"].as_u64(), Some(small.len() as u64));
    assert_eq!(
        json["provenance"]["suppression"]["merged_units"].as_u64(),
        Some(small.len() as u64)
    );
    assert_eq!(shown.values().sum::<u64>() + small_sum, total);
    for name in &small {
        assert!(
            !shown.contains_key(*name),
            "{name} has fewer than 3 appeals"
        );
    }
    assert!(shown.values().all(|&n| n == 0 || n >= 3), "{shown:?}");
    assert_eq!(shown.len() + small.len(), all_counts.len());
    // Every feature has a place (a centroid on the schematic boundaries) and the legend's
    // columns.
    for f in json["features"].as_array().unwrap() {
        let p = &f["properties"];
        assert!(
            p.get("class").is_some() && p.get("population").is_some(),
            "{p}"
        );
        if p["name"] != "(вне границ / неизвестно)" {
            assert_eq!(f["geometry"]["type"], "Point", "{f}");
        }
    }

    // A k larger than every unit hides them all, and the merged bucket still sums up.
    let json = geojson(&db, dir.path(), &[&filter[..], &["--k", "1000"]].concat());
    let (shown, other) = counts(&json);
    assert!(shown.values().all(|&n| n == 0), "{shown:?}");
    assert_eq!(other, None, "{total} < 1000: even the sum is hidden");
    assert_eq!(
        json["provenance"]["suppression"]["hidden_units"].as_u64(),
        Some(all_counts.values().filter(|&&n| n > 0).count() as u64)
    );
}

#[test]
fn per_capita_values_of_suppressed_units_are_not_written() {
    let (dir, db) = demo_db(3_000, 7);
    let json = geojson(
        &db,
        dir.path(),
        &["--category", POWER, "--metric", "per10k", "--lang", "en"],
    );
    let features = json["features"].as_array().unwrap();
    assert!(features.iter().any(|f| f["properties"]["per10k"].is_f64()));
    for f in features {
        let n = f["properties"]["count"].as_u64().unwrap();
        assert!(n == 0 || n >= 3);
    }
    assert_eq!(json["other"]["name"], "other (fewer than 3 each)");
    assert!(json["other"].get("per10k").is_none());
}

#[test]
fn csv_has_the_same_figures_and_the_provenance_on_every_row() {
    let (dir, db) = demo_db(3_000, 7);
    let json = geojson(&db, dir.path(), &["--category", POWER]);
    let text = export(&db, &dir.path().join("export.csv"), &["--category", POWER]);
    let bytes = text.as_bytes();
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "a BOM for Excel");
    let mut reader = csv::Reader::from_reader(&bytes[3..]);
    let header = reader.headers().unwrap().clone();
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let features = json["features"].as_array().unwrap();
    assert_eq!(rows.len(), features.len() + 1, "units plus the other row");
    let last = rows.last().unwrap();
    assert_eq!(&last[0], "прочие (меньше 3 в каждой)");
    assert_eq!(
        last[1].parse::<u64>().unwrap(),
        json["other"]["count"].as_u64().unwrap()
    );
    let csv_total: u64 = rows.iter().map(|r| r[1].parse::<u64>().unwrap()).sum();
    let sql = sql_count(
        &db,
        &format!("SELECT COUNT(*) FROM appeals WHERE category = '{POWER}'"),
    );
    assert_eq!(csv_total, sql);
    let p = &json["provenance"];
    for r in &rows {
        assert_eq!(&r[col("data_hash")], p["data_hash"].as_str().unwrap());
        assert_eq!(
            &r[col("settings_hash")],
            p["settings_hash"].as_str().unwrap()
        );
        assert_eq!(&r[col("teplokarta_version")], env!("CARGO_PKG_VERSION"));
        assert_eq!(&r[col("k")], "3");
        assert!(r[col("filter")].starts_with(POWER), "{}", &r[col("filter")]);
    }
}

#[test]
fn provenance_hashes_change_with_the_data_or_the_filter_only() {
    let (dir, db) = demo_db(2_000, 11);
    let out = dir.path().join("p.geojson");
    let provenance = |db: &Path, extra: &[&str]| -> Value {
        let text = export(db, &out, extra);
        serde_json::from_str::<Value>(&text).unwrap()["provenance"].clone()
    };
    let first = provenance(&db, &[]);
    let hash = |p: &Value, key: &str| p[key].as_str().unwrap().to_owned();
    assert_eq!(hash(&first, "data_hash").len(), 12);
    assert_eq!(first["version"], env!("CARGO_PKG_VERSION"));
    let latest: String = {
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.query_row("SELECT MAX(received_at) FROM appeals", [], |r| r.get(0))
            .unwrap()
    };
    // The data timestamp is the latest received_at, local time.
    assert_eq!(
        first["data_as_of"].as_str().unwrap(),
        latest.get(..19).unwrap().replace('T', " ")
    );

    // The same export twice, or with another title: the same hashes.
    let again = provenance(&db, &["--title", "Другой заголовок"]);
    assert_eq!(hash(&first, "data_hash"), hash(&again, "data_hash"));
    assert_eq!(hash(&first, "settings_hash"), hash(&again, "settings_hash"));

    // Another filter: the settings hash changes, the data hash does not.
    let filtered = provenance(&db, &["--category", "ЖКХ"]);
    assert_eq!(hash(&first, "data_hash"), hash(&filtered, "data_hash"));
    assert_ne!(
        hash(&first, "settings_hash"),
        hash(&filtered, "settings_hash")
    );
    let other_k = provenance(&db, &["--k", "5"]);
    assert_ne!(
        hash(&first, "settings_hash"),
        hash(&other_k, "settings_hash")
    );

    // A copy rewritten byte for byte differently (VACUUM) holds the same data: same hash.
    let copy = dir.path().join("copy.sqlite");
    std::fs::copy(&db, &copy).unwrap();
    let conn = rusqlite::Connection::open(&copy).unwrap();
    conn.execute_batch("DELETE FROM appeals WHERE id = -1; VACUUM;")
        .unwrap();
    assert_eq!(
        hash(&first, "data_hash"),
        hash(&provenance(&copy, &[]), "data_hash")
    );

    // One more row: the data hash changes, the settings hash does not.
    conn.execute(
        "INSERT INTO appeals (id, received_at, source, category, municipality, status)
         VALUES (999999, '2021-06-01T12:00:00+05:00', 'pos', 'ЖКХ', 'Тюмень', 'new')",
        [],
    )
    .unwrap();
    drop(conn);
    let changed = provenance(&copy, &[]);
    assert_ne!(hash(&first, "data_hash"), hash(&changed, "data_hash"));
    assert_eq!(
        hash(&first, "settings_hash"),
        hash(&changed, "settings_hash")
    );
    // Editing one field of one row changes it too.
    let conn = rusqlite::Connection::open(&copy).unwrap();
    conn.execute(
        "UPDATE appeals SET status = 'resolved' WHERE id = 999999",
        [],
    )
    .unwrap();
    drop(conn);
    assert_ne!(
        hash(&changed, "data_hash"),
        hash(&provenance(&copy, &[]), "data_hash")
    );
}

#[test]
fn no_appeal_text_or_address_reaches_any_export() {
    let (dir, db) = demo_db(2_000, 5);
    let conn = rusqlite::Connection::open(&db).unwrap();
    let mut stmt = conn
        .prepare("SELECT DISTINCT text FROM appeals UNION SELECT DISTINCT address FROM appeals")
        .unwrap();
    let private: Vec<String> = stmt
        .query_map([], |r| r.get::<_, Option<String>>(0))
        .unwrap()
        .filter_map(|r| r.unwrap())
        .filter(|s| !s.trim().is_empty())
        .collect();
    assert!(private.len() > 100, "the demo has texts and addresses");
    let mut outputs = Vec::new();
    for (name, extra) in [
        ("c.geojson", vec![]),
        ("c.csv", vec!["--metric", "unresolved", "--lang", "en"]),
        (
            "s.geojson",
            vec![
                "--layer",
                "problems",
                "--profile",
                "heating",
                "--zones",
                "settlements",
            ],
        ),
        (
            "s.csv",
            vec![
                "--layer",
                "problems",
                "--profile",
                "heating",
                "--zones",
                "settlements",
            ],
        ),
        (
            "h.geojson",
            vec![
                "--layer",
                "problems",
                "--profile",
                "power-outages",
                "--k",
                "1",
            ],
        ),
        (
            "m.csv",
            vec![
                "--layer",
                "problems",
                "--profile",
                "roads",
                "--zones",
                "municipalities",
            ],
        ),
    ] {
        outputs.push((name, export(&db, &dir.path().join(name), &extra)));
    }
    for (name, text) in &outputs {
        assert!(text.len() > 200, "{name} is not empty");
        for s in &private {
            assert!(!text.contains(s.as_str()), "{name} contains {s:?}");
        }
        // Nor any individual record's date from the problem map.
        assert!(!text.contains("last_appeal"), "{name}");
    }
}

#[test]
fn problem_zones_under_k_are_merged_or_hidden() {
    let (dir, db) = demo_db(3_000, 7);
    let all = geojson(
        &db,
        dir.path(),
        &[
            "--layer",
            "problems",
            "--profile",
            "heating",
            "--zones",
            "settlements",
            "--k",
            "1",
        ],
    );
    let json = geojson(
        &db,
        dir.path(),
        &[
            "--layer",
            "problems",
            "--profile",
            "heating",
            "--zones",
            "settlements",
        ],
    );
    let zone_counts = |json: &Value| -> Vec<(String, u64)> {
        json["features"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                (
                    f["properties"]["zone_id"].to_string(),
                    f["properties"]["count"].as_u64().unwrap(),
                )
            })
            .collect()
    };
    let before = zone_counts(&all);
    let after = zone_counts(&json);
    let small: Vec<&(String, u64)> = before.iter().filter(|(_, n)| (1..3).contains(n)).collect();
    assert!(
        !small.is_empty(),
        "settlements with 1–2 heating appeals exist"
    );
    assert!(after.iter().all(|(_, n)| *n == 0 || *n >= 3));
    for (zone, _) in &small {
        assert!(
            !after.iter().any(|(z, _)| z == zone),
            "zone {zone} is suppressed"
        );
    }
    let small_sum: u64 = small.iter().map(|(_, n)| n).sum();
    let s = &json["provenance"]["suppression"];
    if small_sum >= 3 {
        assert_eq!(json["other"]["count"].as_u64(), Some(small_sum));
        assert_eq!(s["merged_units"].as_u64(), Some(small.len() as u64));
    } else {
        assert!(json["other"].is_null());
        assert_eq!(s["hidden_units"].as_u64(), Some(small.len() as u64));
    }
    let sum = |v: &[(String, u64)]| v.iter().map(|(_, n)| n).sum::<u64>();
    assert_eq!(
        sum(&after) + json["other"]["count"].as_u64().unwrap_or(0),
        sum(&before) - if small_sum >= 3 { 0 } else { small_sum }
    );
    // Point positions are rounded to 0.01°, so a zone does not pin one appeal's place.
    for f in json["features"].as_array().unwrap() {
        if let Some(c) = f["geometry"]["coordinates"].as_array() {
            for x in c {
                let x = x.as_f64().unwrap();
                assert!(((x * 100.0).round() - x * 100.0).abs() < 1e-6, "{x}");
            }
        }
    }
    // Zone × slice cells under k are masked too, so the series says "<3", never 1 or 2.
    let series: Vec<String> = json["features"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["properties"]["series"].as_str().map(str::to_owned))
        .collect();
    assert!(series.iter().any(|s| s.contains("<3")), "{series:?}");
    for s in &series {
        assert!(s.split(';').all(|x| x != "1" && x != "2"), "{s}");
    }
    assert_eq!(json["provenance"]["settings"]["profile"], "heating");
    assert!(
        json["title"].as_str().unwrap().starts_with("Отоп"),
        "the profile names the view: {}",
        json["title"]
    );
}

#[test]
fn video_and_unknown_formats_are_refused_clearly() {
    // PNG, PDF and GIF are rendered (tests/export_render.rs); video is not written.
    let (dir, db) = demo_db(200, 1);
    for ext in ["webm", "mp4"] {
        let out = dir.path().join(format!("map.{ext}"));
        let err = export_error(&db, &out, &[]);
        assert!(
            err.contains("not supported") && err.contains(".gif"),
            "{err}"
        );
        assert!(!out.exists());
    }
    let err = export_error(&db, Path::new("x.txt"), &[]);
    assert!(err.contains(".csv, .geojson, .png, .pdf or .gif"), "{err}");
    let err = export_error(&db, &dir.path().join("d.csv"), &["--layer", "density"]);
    assert!(err.contains("no table"), "{err}");
    let err = export_error(&db, &dir.path().join("p.csv"), &["--layer", "problems"]);
    assert!(err.contains("--profile"), "{err}");
}

#[test]
fn boundaries_file_gives_polygons() {
    let (dir, db) = demo_db(2_000, 3);
    let boundaries = dir.path().join("b.geojson");
    std::fs::write(
        &boundaries,
        r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"name":"Тюмень"},
        "geometry":{"type":"Polygon","coordinates":[[[65.3,57.0],[65.8,57.0],[65.8,57.3],[65.3,57.3],[65.3,57.0]]]}}]}"#,
    )
    .unwrap();
    let json = geojson(
        &db,
        dir.path(),
        &["--boundaries", boundaries.to_str().unwrap()],
    );
    let tyumen = json["features"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["properties"]["name"] == "Тюмень")
        .unwrap();
    assert_eq!(tyumen["geometry"]["type"], "MultiPolygon");
    assert_eq!(json["provenance"]["settings"]["boundaries"], "b.geojson");
}

#[test]
fn a_comparison_adds_period_a_and_b_minus_a_that_reconcile_with_sql() {
    let (dir, db) = demo_db(4_000, 21);
    let count = |from: &str, to: &str| {
        sql_count(
            &db,
            &format!(
                "SELECT COUNT(*) FROM appeals WHERE substr(received_at, 1, 10) BETWEEN '{from}' AND '{to}'"
            ),
        )
    };
    let json = geojson(
        &db,
        dir.path(),
        &[
            "--from",
            "2021-09-01",
            "--to",
            "2021-09-30",
            "--compare",
            "split",
            "--k",
            "1",
        ],
    );
    // Period A defaults to the 30 days before September.
    let (b_total, a_total) = (
        count("2021-09-01", "2021-09-30"),
        count("2021-08-02", "2021-08-31"),
    );
    let features = json["features"].as_array().unwrap();
    let mut sum_a = 0;
    for f in features {
        let p = &f["properties"];
        let (b, a) = (p["count"].as_u64().unwrap(), p["count_a"].as_u64().unwrap());
        assert_eq!(
            p["difference"].as_f64().unwrap(),
            b as f64 - a as f64,
            "{p}"
        );
        sum_a += a;
    }
    assert_eq!(
        features
            .iter()
            .map(|f| f["properties"]["count"].as_u64().unwrap())
            .sum::<u64>(),
        b_total
    );
    assert_eq!(sum_a, a_total, "A's counts sum to SQL's count of August");
    // A period A of its own, and a settings hash of its own.
    let july = geojson(
        &db,
        dir.path(),
        &[
            "--from",
            "2021-09-01",
            "--to",
            "2021-09-30",
            "--compare",
            "split",
            "--k",
            "1",
            "--compare-from",
            "2021-07-01",
            "--compare-to",
            "2021-07-31",
        ],
    );
    let sum_july: u64 = july["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["properties"]["count_a"].as_u64().unwrap())
        .sum();
    assert_eq!(sum_july, count("2021-07-01", "2021-07-31"));
    assert_ne!(
        json["provenance"]["settings_hash"],
        july["provenance"]["settings_hash"]
    );
    // With k = 3 a municipality with 1–2 appeals in A has no A figures and no difference.
    let k3 = geojson(
        &db,
        dir.path(),
        &[
            "--from",
            "2021-09-01",
            "--to",
            "2021-09-30",
            "--compare",
            "difference",
        ],
    );
    for f in k3["features"].as_array().unwrap() {
        let p = &f["properties"];
        if let Some(a) = p["count_a"].as_u64() {
            assert!(a == 0 || a >= 3, "{p}");
        } else {
            assert!(p["difference"].is_null(), "{p}");
        }
    }
    // Period A reversed is refused clearly.
    let err = export_error(
        &db,
        &dir.path().join("x.csv"),
        &[
            "--compare",
            "split",
            "--compare-from",
            "2021-07-31",
            "--compare-to",
            "2021-07-01",
        ],
    );
    assert!(err.contains("after --compare-to"), "{err}");
}
