//! File → Export map… in the window, driven through egui_kittest by labels: the CSV and
//! GeoJSON of the aggregates behind the view on screen are what `teplokarta export` writes for
//! the same filter (same figures, same settings hash, same k-anonymity), sum to SQL's total,
//! and hold no appeal text or address; a bad path is reported in the dialog, not a panic.
//! The rendered formats (PNG, PDF, GIF) from the window are in `tests/export_render.rs`
//! (they need a wgpu adapter).
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers may panic

mod common;

use std::path::Path;

use common::ui::{State, harness_with, wait_idle};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable as _;
use serde_json::Value;
use teplokarta::app::Startup;
use teplokarta::ui::Lang;

/// The window on `db` with exports run as the binary runs them.
fn harness(db: &Path, lang: Lang) -> Harness<'static, State> {
    harness_with(Startup {
        database: Some(db.to_owned().into()),
        lang: Some(lang),
        fresh: true,
        export_runner: Some(teplokarta::cli::export_with_args),
        ..Startup::default()
    })
}

const POWER: &str = "Электроэнергетика";

fn sql_count(db: &Path, sql: &str) -> u64 {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.query_row(sql, [], |r| r.get::<_, i64>(0)).unwrap() as u64
}

/// Opens File → Export map… (unless open), chooses `format`, types `out` and exports; waits for the file.
fn export_from_window(harness: &mut Harness<'static, State>, format: &str, out: &Path) {
    // The dialog stays open after an export, for the next one.
    if harness.query_by_label("Export").is_none() {
        harness.get_by_label("File").click();
        harness.run();
        harness.get_by_label("Export map…").click();
        harness.run();
    }
    // The dialog re-centres when its content changes: let it settle before clicking.
    harness.run();
    harness.get_by_label(format).click();
    harness.run();
    let role = egui::accesskit::Role::TextInput;
    harness.get_by_role_and_label(role, "Path").focus();
    harness.run_steps(2);
    // Replace the proposed path: select all, then type.
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    harness.run_steps(1);
    harness
        .get_by_role_and_label(role, "Path")
        .type_text(out.to_str().unwrap());
    harness.run_steps(2);
    harness.get_by_label("Export").click();
    harness.step();
    wait_idle(harness);
}

#[test]
fn csv_and_geojson_from_the_window_are_the_command_line_export_of_the_view() {
    let (dir, db) = common::demo_db(3_000, 7);
    let mut harness = harness(&db, Lang::En);
    wait_idle(&mut harness);
    {
        let app = harness.state_mut().as_mut().unwrap();
        let filter = app.filter_mut();
        filter.categories.insert(POWER.to_owned());
        filter.from = "2021-03-01".parse().ok();
        filter.to = "2021-11-30".parse().ok();
    }
    wait_idle(&mut harness);
    let total = sql_count(
        &db,
        &format!(
            "SELECT COUNT(*) FROM appeals WHERE category = '{POWER}' \
             AND substr(received_at, 1, 10) BETWEEN '2021-03-01' AND '2021-11-30'"
        ),
    );
    assert!(total > 20, "{total}");

    let out = dir.path().join("window.geojson");
    export_from_window(
        &mut harness,
        "GeoJSON — the aggregates with boundaries",
        &out,
    );
    harness.get_by_label("Done");
    let text = std::fs::read_to_string(&out).expect("the window wrote the file");
    let window: Value = serde_json::from_str(&text).unwrap();
    let features = window["features"].as_array().unwrap();
    let shown: u64 = features
        .iter()
        .map(|f| f["properties"]["count"].as_u64().unwrap())
        .sum::<u64>()
        + window["other"]["count"].as_u64().unwrap_or(0);
    let hidden = window["provenance"]["suppression"]["hidden_appeals"]
        .as_u64()
        .unwrap_or(0);
    assert_eq!(shown + hidden, total, "sums to SQL's count of the filter");
    // No municipality with 1..k-1 appeals is written with its count (k = 3 by default).
    assert!(
        features
            .iter()
            .all(|f| !(1..3).contains(&f["properties"]["count"].as_u64().unwrap()))
    );

    // The same export from the command line: the same figures and settings hash.
    let cli_out = dir.path().join("cli.geojson");
    common::run_export(
        &db,
        &cli_out,
        &[
            "--category",
            POWER,
            "--from",
            "2021-03-01",
            "--to",
            "2021-11-30",
            "--lang",
            "en",
        ],
    )
    .unwrap();
    let cli: Value = serde_json::from_str(&std::fs::read_to_string(&cli_out).unwrap()).unwrap();
    assert_eq!(window["features"], cli["features"]);
    assert_eq!(window["other"], cli["other"]);
    for key in ["settings_hash", "data_hash", "filter"] {
        assert_eq!(
            window["provenance"][key], cli["provenance"][key],
            "provenance {key}"
        );
    }

    // CSV of the same view: the same figures; no appeal text or address in either file.
    let csv_out = dir.path().join("window.csv");
    export_from_window(&mut harness, "CSV — the aggregates (a table)", &csv_out);
    let csv = std::fs::read_to_string(&csv_out).unwrap();
    for f in features {
        let name = f["properties"]["name"].as_str().unwrap();
        assert!(csv.contains(name), "{name} in the CSV");
    }
    let conn = rusqlite::Connection::open(&db).unwrap();
    let mut stmt = conn
        .prepare("SELECT DISTINCT text FROM appeals UNION SELECT DISTINCT address FROM appeals")
        .unwrap();
    let private: Vec<String> = stmt
        .query_map([], |r| r.get::<_, Option<String>>(0))
        .unwrap()
        .filter_map(|r| r.unwrap())
        .filter(|s| s.trim().len() > 3)
        .collect();
    assert!(private.len() > 100);
    for p in &private {
        assert!(!csv.contains(p.as_str()), "{p:?} in the CSV");
        assert!(!text.contains(p.as_str()), "{p:?} in the GeoJSON");
    }
}

#[test]
fn a_path_that_cannot_be_written_is_reported_in_the_dialog() {
    let (dir, db) = common::demo_db(500, 3);
    let mut harness = harness(&db, Lang::En);
    wait_idle(&mut harness);
    let out = dir.path().join("no such folder").join("x.csv");
    export_from_window(&mut harness, "CSV — the aggregates (a table)", &out);
    // The error names the file; the window goes on.
    let shown = harness.query_by_label_contains("no such folder");
    assert!(shown.is_some(), "the error names the path");
    assert!(!out.exists());
    harness.get_by_label("Close").click();
    harness.run_steps(2);
    assert!(harness.query_by_label("Export").is_none());
    harness.get_by_label(&Lang::En.number(500));
}

#[test]
fn without_the_binary_s_runner_the_dialog_says_so() {
    let (dir, db) = common::demo_db(300, 4);
    let mut harness = common::ui::harness(&db, Lang::En);
    wait_idle(&mut harness);
    let out = dir.path().join("x.csv");
    export_from_window(&mut harness, "CSV — the aggregates (a table)", &out);
    harness.get_by_label("Exports run through the teplokarta program; not available in this build");
    assert!(!out.exists());
}
