//! The worked example of `docs/data-format.md`, run as written: the claims the document makes
//! about it are checked here, so the document cannot drift from the code.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers may panic

mod common;

use clap::Parser as _;
use teplokarta::cli::{Cli, run};

fn example_sql() -> String {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/data-format.md"))
        .unwrap();
    let start = doc.find("```sql").unwrap() + "```sql".len();
    let end = start + doc[start..].find("```").unwrap();
    doc[start..end].to_owned()
}

fn cli_output(args: &[&str]) -> String {
    let cli =
        Cli::try_parse_from(std::iter::once("teplokarta").chain(args.iter().copied())).unwrap();
    let mut out = Vec::new();
    run(cli.command.as_ref().unwrap(), &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

#[test]
fn the_worked_example_behaves_as_documented() {
    let (_dir, path) = common::db_from_sql(&example_sql());
    let db = path.to_str().unwrap();
    let check = cli_output(&["check", db]);
    for line in [
        "rows: 4",
        "placed on the map: 2 (50.0 %)",
        "no coordinates (municipality only): 1",
        "coordinates exactly 0,0: 1",
        "received_at unparsable: 1",
        "municipality names matching no unit: 1 in 1 rows (Тюменская обл. 1)",
    ] {
        assert!(check.contains(line), "missing {line:?} in\n{check}");
    }
    let stats = cli_output(&["stats", db, "--by", "municipality", "--format", "csv"]);
    let mut lines: Vec<&str> = stats.lines().skip(1).collect();
    lines.sort_unstable();
    assert_eq!(
        lines,
        vec![
            "Ишимский район,1",
            "Тюменская обл.,1",
            "Тюменский район,1",
            "Тюмень,1"
        ]
    );
    let day = cli_output(&[
        "stats",
        db,
        "--by",
        "source",
        "--from",
        "2021-10-04",
        "--to",
        "2021-10-04",
        "--format",
        "csv",
    ]);
    let mut lines: Vec<&str> = day.lines().skip(1).collect();
    lines.sort_unstable();
    assert_eq!(lines, vec!["pos,1", "social,1"]);
}
