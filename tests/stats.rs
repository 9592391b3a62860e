//! `teplokarta stats` equals SQL `GROUP BY` on the same database and filter, and `check`
//! reports a bad file clearly with a non-zero exit.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers may panic

mod common;

use std::collections::BTreeMap;
use std::process::Command;

use clap::Parser as _;
use common::{contract_db, demo_db, sql_group_counts};
use teplokarta::cli::{Cli, run};

/// Runs a command line (without the program name) and returns its output or error.
fn run_cli(args: &[&str]) -> anyhow::Result<String> {
    let cli = Cli::try_parse_from(std::iter::once("teplokarta").chain(args.iter().copied()))?;
    let mut out = Vec::new();
    run(cli.command.as_ref().expect("a subcommand"), &mut out)?;
    Ok(String::from_utf8(out)?)
}

fn stats_csv(args: &[&str]) -> Vec<(Vec<String>, u64)> {
    let cli =
        Cli::try_parse_from(std::iter::once("teplokarta").chain(args.iter().copied())).unwrap();
    let mut out = Vec::new();
    run(cli.command.as_ref().unwrap(), &mut out).unwrap();
    let mut reader = csv::Reader::from_reader(out.as_slice());
    let mut rows: Vec<(Vec<String>, u64)> = reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            let n = r.len();
            let keys = r.iter().take(n - 1).map(str::to_owned).collect();
            (keys, r[n - 1].parse().unwrap())
        })
        .collect();
    rows.sort();
    rows
}

#[test]
fn stats_equal_sql_group_by_for_the_same_filter() {
    let (_dir, path) = demo_db(20_000, 99);
    let db = path.to_str().unwrap();
    let cases: &[(&[&str], &str, &[&str])] = &[
        (
            &["--by", "municipality,category"],
            "SELECT municipality, category, COUNT(*) FROM appeals GROUP BY 1, 2",
            &[],
        ),
        (
            &[
                "--by",
                "category",
                "--from",
                "2021-03-01",
                "--to",
                "2021-03-31",
            ],
            "SELECT category, COUNT(*) FROM appeals WHERE substr(received_at, 1, 10) BETWEEN ? AND ? GROUP BY 1",
            &["2021-03-01", "2021-03-31"],
        ),
        (
            &[
                "--by",
                "municipality,status",
                "--source",
                "social",
                "--category",
                "ЖКХ",
                "--category",
                "Дороги",
            ],
            "SELECT municipality, status, COUNT(*) FROM appeals WHERE source = 'social' AND category IN ('ЖКХ', 'Дороги') GROUP BY 1, 2",
            &[],
        ),
        (
            &[
                "--by",
                "subcategory,source",
                "--municipality",
                "Тюмень",
                "--municipality",
                "Тобольский район",
                "--status",
                "resolved",
            ],
            "SELECT subcategory, source, COUNT(*) FROM appeals WHERE municipality IN ('Тюмень', 'Тобольский район') AND status = 'resolved' GROUP BY 1, 2",
            &[],
        ),
        (
            &["--by", "month", "--from", "2021-06-15"],
            "SELECT substr(received_at, 1, 7), COUNT(*) FROM appeals WHERE substr(received_at, 1, 10) >= ? GROUP BY 1",
            &["2021-06-15"],
        ),
        (
            &["--by", "settlement", "--category", "Электроэнергетика"],
            "SELECT settlement, COUNT(*) FROM appeals WHERE category = 'Электроэнергетика' GROUP BY 1",
            &[],
        ),
    ];
    for (args, sql, params) in cases {
        let mut full = vec!["stats", db, "--format", "csv"];
        full.extend_from_slice(args);
        let ours = stats_csv(&full);
        let theirs = sql_group_counts(&path, sql, params);
        assert!(!theirs.is_empty(), "{sql}");
        assert_eq!(ours, theirs, "stats {args:?} differs from {sql}");
    }
}

#[test]
fn municipality_variants_are_counted_together_and_filters_accept_any_variant() {
    let (_dir, path) = contract_db(
        "INSERT INTO appeals (received_at, source, category, status, municipality) VALUES
            ('2021-01-01', 'pos', 'Дороги', 'new', 'г. Тюмень'),
            ('2021-01-02', 'pos', 'Дороги', 'new', 'городской округ город Тюмень'),
            ('2021-01-03', 'pos', 'Дороги', 'new', 'Тюмень'),
            ('2021-01-04', 'pos', 'Дороги', 'new', 'Тюменский МР'),
            ('2021-01-05', 'pos', 'Дороги', 'new', 'Тюменская обл.'),
            ('2021-01-06', 'pos', 'Дороги', 'new', NULL);",
    );
    let db = path.to_str().unwrap();
    let rows: BTreeMap<String, u64> =
        stats_csv(&["stats", db, "--by", "municipality", "--format", "csv"])
            .into_iter()
            .map(|(k, n)| (k[0].clone(), n))
            .collect();
    assert_eq!(rows["Тюмень"], 3);
    assert_eq!(rows["Тюменский район"], 1);
    assert_eq!(
        rows["Тюменская обл."], 1,
        "an unmatched text stays as written"
    );
    assert_eq!(rows[""], 1);
    let filtered = stats_csv(&[
        "stats",
        db,
        "--by",
        "category",
        "--municipality",
        "город Тюмень",
        "--format",
        "csv",
    ]);
    assert_eq!(filtered, vec![(vec!["Дороги".to_owned()], 3)]);
}

#[test]
fn table_output_has_a_total() {
    let (_dir, path) = demo_db(1_000, 3);
    let text = run_cli(&["stats", path.to_str().unwrap(), "--by", "source"]).unwrap();
    let total_line = text.lines().last().unwrap();
    assert!(
        total_line.starts_with("total") && total_line.ends_with("1000"),
        "{text}"
    );
}

#[test]
fn a_reversed_date_range_is_refused() {
    let (_dir, path) = demo_db(100, 3);
    let db = path.to_str().unwrap();
    let err = run_cli(&[
        "stats",
        db,
        "--by",
        "source",
        "--from",
        "2021-05-01",
        "--to",
        "2021-04-01",
    ])
    .unwrap_err();
    assert!(format!("{err:#}").contains("after"), "{err:#}");
}

#[test]
fn check_prints_the_figures() {
    let (_dir, path) = demo_db(2_000, 8);
    let output = Command::new(env!("CARGO_BIN_EXE_teplokarta"))
        .args(["check", path.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(output.status.success());
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(text.contains("rows: 2000"), "{text}");
    assert!(text.contains("received: 2021-01-01"), "{text}");
    assert!(text.contains("statuses: resolved"), "{text}");
    assert!(text.contains("coordinates exactly 0,0:"), "{text}");
    assert!(text.contains("boundaries: schematic (26 units)"), "{text}");
}

#[test]
fn check_fails_clearly_on_a_bad_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("export.csv");
    std::fs::write(&path, "a;b;c\n".repeat(100)).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_teplokarta"))
        .args(["check", path.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let err = String::from_utf8(output.stderr).unwrap();
    assert!(
        err.contains("not a SQLite database") && err.contains("export.csv"),
        "{err}"
    );

    let output = Command::new(env!("CARGO_BIN_EXE_teplokarta"))
        .args(["check", dir.path().join("missing.sqlite").to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(
        String::from_utf8(output.stderr)
            .unwrap()
            .contains("file not found")
    );
}

#[test]
fn a_mistyped_filter_value_is_refused_with_what_there_is() {
    let (_dir, path) = demo_db(300, 9);
    let db = path.to_str().unwrap();
    let err = run_cli(&["stats", db, "--by", "source", "--category", "ЖКК"]).unwrap_err();
    let msg = format!("{err:#}");
    assert!(
        msg.contains("--category \"ЖКК\" matches nothing") && msg.contains("ЖКХ"),
        "{msg}"
    );
    assert!(run_cli(&["stats", db, "--by", "source", "--municipality", "Тюменск"]).is_err());
}

/// `Summary::merge` (how `check` reads a PostgreSQL table, a batch at a time): the summaries
/// of a database's rows in three parts by id, merged in order, are the summary of all of them —
/// counts, lists, ranges, the municipality figures and the first examples per reason.
#[test]
fn summaries_of_parts_merge_into_the_whole() {
    use teplokarta::analysis::{Summary, database_summary};
    use teplokarta::data::{AppealStore, Appeals, LoadOptions};
    use teplokarta::spatial::{Boundaries, MunicipalityLocator};
    let (dir, path) = demo_db(3_000, 31);
    // Rows the loader flags (examples of several reasons), spread over the parts.
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch(
        "UPDATE appeals SET lat = 0, lon = 0 WHERE id % 97 = 0; \
         UPDATE appeals SET received_at = 'вчера' WHERE id % 211 = 0; \
         UPDATE appeals SET lat = NULL WHERE id % 301 = 0; \
         UPDATE appeals SET municipality = 'Нигдевск' WHERE id % 89 = 0; \
         UPDATE appeals SET municipality = NULL WHERE id % 53 = 0; \
         UPDATE appeals SET municipality = 'Тобольск' WHERE id % 67 = 0; \
         UPDATE appeals SET municipality = NULL, lat = NULL, lon = NULL WHERE id % 71 = 0;",
    )
    .unwrap();
    let boundaries = Boundaries::schematic();
    let locator = MunicipalityLocator::new(&boundaries);
    let summary = |appeals: &Appeals| database_summary(appeals, &boundaries, &locator);
    let load = |p: &std::path::Path| {
        AppealStore::open(p, &LoadOptions::default())
            .unwrap()
            .load()
            .unwrap()
    };
    let whole = summary(&load(&path));
    let mut merged: Option<Summary> = None;
    for (k, (lo, hi)) in [(0, 900), (900, 2_100), (2_100, i64::MAX)]
        .iter()
        .enumerate()
    {
        let part = dir.path().join(format!("part{k}.sqlite"));
        std::fs::copy(&path, &part).unwrap();
        rusqlite::Connection::open(&part)
            .unwrap()
            .execute("DELETE FROM appeals WHERE id <= ?1 OR id > ?2", [lo, hi])
            .unwrap();
        let s = summary(&load(&part));
        merged = Some(match merged {
            Some(m) => m.merge(s),
            None => s,
        });
    }
    let merged = merged.unwrap();
    assert_eq!(merged.total, 3_000);
    assert!(
        whole.quality.samples.len() >= 6,
        "{:?}",
        whole.quality.samples
    );
    // (Texts and points disagree only on real boundaries: tests/realdata.rs.)
    assert!(whole.unknown_municipality > 0);
    assert!(whole.no_municipality > 0 && whole.assigned_by_point > 0);
    assert!(!whole.unmatched_municipalities.is_empty());
    assert_eq!(format!("{merged:?}"), format!("{whole:?}"));
}
