//! The problem map (`analysis::problems`) and `teplokarta problems`: the demo's garden-community
//! power-outage stories come out as their trend classes and intervention verdicts, every count
//! equals SQL for the same filter, incidents and service levels follow their definitions on
//! hand-made databases, uniformly random points give no hot spots, and the headless command
//! writes the documented files.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers may panic

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use clap::Parser as _;
use common::{contract_db, sql_group_counts};
use jiff::civil::{Date, date};
use teplokarta::analysis::hotspot::{Change, HotClass};
use teplokarta::analysis::problem_export::FIELDS;
use teplokarta::analysis::problems::{
    Emerging, ProblemMap, ProblemRows, ProblemSettings, RankBy, WeightsKind, ZoneKind, Zones,
    compute, ranked,
};
use teplokarta::analysis::profiles::{Profile, builtin_profiles};
use teplokarta::analysis::{Columns, Filter, MunicipalityResolution};
use teplokarta::cli::{Cli, run};
use teplokarta::data::{
    AppealStore, Appeals, CREATE_APPEALS_SQL, DemoConfig, LoadOptions, SNT, SntTrend, generate_demo,
};
use teplokarta::spatial::{Boundaries, MunicipalityLocator};

const POWER: &str = "Электроэнергетика";
const TYUMEN_DISTRICT: &str = "Тюменский район";

/// A database loaded and resolved as the window and the command do it (schematic boundaries).
struct Db {
    path: PathBuf,
    appeals: Appeals,
    boundaries: Boundaries,
    locator: MunicipalityLocator,
    resolution: MunicipalityResolution,
    columns: Columns,
    extra: ProblemRows,
}

impl Db {
    fn open(path: &Path) -> Self {
        let appeals = AppealStore::open(path, &LoadOptions::default())
            .unwrap()
            .load()
            .unwrap();
        let boundaries = Boundaries::schematic();
        let locator = MunicipalityLocator::new(&boundaries);
        let resolution =
            MunicipalityResolution::with_boundaries(&appeals, Some((&boundaries, &locator)));
        let columns = Columns::new(&appeals, &resolution);
        let extra = ProblemRows::new(&appeals);
        Self {
            path: path.to_owned(),
            appeals,
            boundaries,
            locator,
            resolution,
            columns,
            extra,
        }
    }

    fn zones(&self, kind: ZoneKind, cell_km: Option<f64>) -> Zones {
        Zones::build(
            kind,
            cell_km,
            &self.appeals,
            &self.resolution,
            &self.boundaries,
            &self.locator,
        )
    }

    fn map(&self, zones: &Zones, filter: &Filter, settings: &ProblemSettings) -> ProblemMap {
        compute(
            &self.appeals,
            &self.resolution,
            &self.columns,
            &self.extra,
            zones,
            filter,
            settings,
        )
    }

    fn db(&self) -> &str {
        self.path.to_str().unwrap()
    }
}

/// A demo database generated once per test binary into Cargo's scratch directory for
/// integration tests (regenerated on every run; the write is atomic, so concurrent runs are
/// safe).
fn generated_demo(rows: usize, seed: u64) -> Db {
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("problems-demo-{rows}-{seed}.sqlite"));
    generate_demo(
        &DemoConfig {
            rows,
            seed,
            ..DemoConfig::default()
        },
        &path,
    )
    .unwrap();
    Db::open(&path)
}

/// The default demo: 132,000 rows, seed 2021.
fn demo() -> &'static Db {
    static DEMO: OnceLock<Db> = OnceLock::new();
    DEMO.get_or_init(|| generated_demo(132_000, 2021))
}

/// A small demo for the command-line tests (each run reloads the file).
fn small_demo() -> &'static Db {
    static SMALL: OnceLock<Db> = OnceLock::new();
    SMALL.get_or_init(|| generated_demo(20_000, 7))
}

fn profile(id: &str) -> Profile {
    builtin_profiles()
        .into_iter()
        .find(|p| p.id == id)
        .unwrap_or_else(|| panic!("no built-in profile {id}"))
}

fn power_settings() -> ProblemSettings {
    ProblemSettings {
        profile: profile("power-outages"),
        ..ProblemSettings::default()
    }
}

/// The settlement zone of a name within a municipality.
fn settlement_zone(zones: &Zones, municipality: &str, name: &str) -> usize {
    let found: Vec<usize> = zones
        .zones
        .iter()
        .enumerate()
        .filter(|(_, z)| z.name == name && z.municipality == municipality)
        .map(|(k, _)| k)
        .collect();
    assert_eq!(found.len(), 1, "zones named {name} in {municipality}");
    found[0]
}

fn snt_in(municipality: &str) -> impl Iterator<Item = &'static teplokarta::data::Snt> {
    SNT.iter().filter(move |s| s.municipality == municipality)
}

/// Runs a command line (without the program name) and returns its output or error.
fn run_cli(args: &[&str]) -> anyhow::Result<String> {
    let cli = Cli::try_parse_from(std::iter::once("teplokarta").chain(args.iter().copied()))?;
    let mut out = Vec::new();
    run(cli.command.as_ref().expect("a subcommand"), &mut out)?;
    Ok(String::from_utf8(out)?)
}

fn sql_count(path: &Path, sql: &str, params: &[&str]) -> u64 {
    let conn =
        rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .unwrap();
    conn.query_row(sql, rusqlite::params_from_iter(params.iter()), |r| {
        r.get::<_, i64>(0)
    })
    .unwrap() as u64
}

// -------------------------------------------------------------------------------------------
// 1–3. The demo's stories
// -------------------------------------------------------------------------------------------

#[test]
fn demo_garden_communities_get_the_trend_class_of_their_story() {
    let db = demo();
    let zones = db.zones(ZoneKind::Settlements, None);
    let map = db.map(&zones, &Filter::default(), &power_settings());
    assert_eq!(map.slices.len(), 12, "a year of months");
    let mut checked = 0;
    for s in SNT {
        let z = &map.zones[settlement_zone(&zones, s.municipality, s.name)];
        // The power-outage appeals of an СНТ are exactly the demo's count for it.
        assert_eq!(z.appeals, u64::from(s.appeals_2021), "{}", s.name);
        assert_eq!(
            z.series.iter().map(|c| u64::from(*c)).sum::<u64>(),
            z.appeals,
            "{}: the monthly series adds up",
            s.name
        );
        match s.trend {
            SntTrend::Fixed { until_month } => {
                let after = &z.series[until_month as usize..];
                assert!(
                    after.iter().all(|c| *c == 0),
                    "{}: appeals after month {until_month}: {:?}",
                    s.name,
                    z.series
                );
                assert!(
                    matches!(z.emerging, Emerging::Historical | Emerging::Diminishing),
                    "{} (fixed in month {until_month}) is {:?}; series {:?}, hot {:?}",
                    s.name,
                    z.emerging,
                    z.series,
                    z.hot_slices
                );
                checked += 1;
            }
            SntTrend::Intensifying => {
                assert_eq!(
                    z.emerging,
                    Emerging::Intensifying,
                    "{}: series {:?}, hot {:?}, trend {:?}",
                    s.name,
                    z.series,
                    z.hot_slices,
                    z.trend
                );
                assert!(z.trend.z > 0.0 && z.trend.p < 0.05, "{}", s.name);
                checked += 1;
            }
            SntTrend::New => {
                assert!(z.series[..9].iter().all(|c| *c == 0), "{}", s.name);
                assert_eq!(
                    z.emerging,
                    Emerging::New,
                    "{}: series {:?}, hot {:?}",
                    s.name,
                    z.series,
                    z.hot_slices
                );
                checked += 1;
            }
            SntTrend::Persistent => {
                // Not asserted by name: still a hot spot in the last month.
                assert_eq!(
                    z.hot_slices.last(),
                    Some(&true),
                    "{} (persistent) is not hot in December: {:?}",
                    s.name,
                    z.emerging
                );
            }
        }
    }
    assert_eq!(checked, 8, "3 fixed, 3 intensifying, 2 new");
}

#[test]
fn intervention_dates_tell_fixed_lines_from_worsening_ones() {
    let db = demo();
    let zones = db.zones(ZoneKind::Settlements, None);
    let year_start = date(2021, 1, 1);
    let mut fixed = 0;
    for s in SNT {
        let SntTrend::Fixed { until_month } = s.trend else {
            continue;
        };
        let repaired = date(2021, until_month + 1, 1);
        let settings = ProblemSettings {
            intervention: Some(repaired),
            ..power_settings()
        };
        let map = db.map(&zones, &Filter::default(), &settings);
        assert_eq!(map.period, Some((year_start, date(2021, 12, 31))));
        let z = &map.zones[settlement_zone(&zones, s.municipality, s.name)];
        let rr = z.intervention.expect("a rate ratio");
        assert_eq!(rr.after, 0, "{}", s.name);
        assert_eq!(rr.before, z.appeals, "{}", s.name);
        let before_days = (repaired - year_start).get_days() as f64;
        assert_eq!(rr.before_days, before_days, "{}", s.name);
        assert_eq!(rr.before_days + rr.after_days, 365.0, "{}", s.name);
        assert_eq!(rr.ratio, Some(0.0), "{}", s.name);
        assert_eq!(z.change, Some(Change::Improved), "{}: {rr:?}", s.name);
        fixed += 1;
    }
    assert_eq!(fixed, 3);

    let settings = ProblemSettings {
        intervention: Some(date(2021, 8, 1)),
        ..power_settings()
    };
    let map = db.map(&zones, &Filter::default(), &settings);
    let mut intensifying = 0;
    for s in SNT.iter().filter(|s| s.trend == SntTrend::Intensifying) {
        let z = &map.zones[settlement_zone(&zones, s.municipality, s.name)];
        let rr = z.intervention.expect("a rate ratio");
        assert_eq!(rr.before + rr.after, z.appeals);
        assert!(rr.low > 1.0, "{}: {rr:?}", s.name);
        assert_eq!(z.change, Some(Change::Worse), "{}: {rr:?}", s.name);
        intensifying += 1;
    }
    assert_eq!(intensifying, 3);

    // Without a date, or with one outside the period, there is nothing to compare.
    for intervention in [None, Some(date(2022, 3, 1))] {
        let settings = ProblemSettings {
            intervention,
            ..power_settings()
        };
        let map = db.map(&zones, &Filter::default(), &settings);
        assert!(
            map.zones
                .iter()
                .all(|z| z.intervention.is_none() && z.change.is_none()),
            "{intervention:?}"
        );
    }
}

#[test]
fn power_outage_hot_spots_are_the_garden_communities_near_tyumen() {
    let db = demo();
    let tyumen_snt: BTreeSet<&str> = snt_in(TYUMEN_DISTRICT).map(|s| s.name).collect();
    assert_eq!(tyumen_snt.len(), 8);

    // Hexagons (the default zoning, about 100 cells across the data).
    let hex = db.zones(ZoneKind::Hexagons, None);
    let cell = hex.cell_km.unwrap();
    assert!((1.0..=5.0).contains(&cell), "cell {cell} km");
    let map = db.map(&hex, &Filter::default(), &power_settings());
    let top: Vec<usize> = ranked(&map, RankBy::ZScore).into_iter().take(5).collect();
    assert_eq!(top.len(), 5);
    for &k in &top {
        let zone = &hex.zones[k];
        let stats = &map.zones[k];
        assert_eq!(zone.municipality, TYUMEN_DISTRICT, "{zone:?}");
        assert!(
            tyumen_snt.contains(zone.nearest_settlement.as_str()),
            "top cell near {:?}",
            zone.nearest_settlement
        );
        assert_eq!(stats.class, HotClass::Hot99, "{zone:?}: {:?}", stats.gi);
    }

    // In garden communities, by settlement: only the twelve СНТ remain, with their demo counts.
    let settlements = db.zones(ZoneKind::Settlements, None);
    let snt_settings = ProblemSettings {
        profile: profile("power-outages").in_garden_communities(),
        ..ProblemSettings::default()
    };
    let map = db.map(&settlements, &Filter::default(), &snt_settings);
    let by_appeals = ranked(&map, RankBy::Appeals);
    let names: BTreeSet<&str> = by_appeals
        .iter()
        .map(|&k| settlements.zones[k].name.as_str())
        .collect();
    assert_eq!(names, SNT.iter().map(|s| s.name).collect());
    let counts: Vec<u64> = by_appeals.iter().map(|&k| map.zones[k].appeals).collect();
    let mut expected: Vec<u64> = SNT.iter().map(|s| u64::from(s.appeals_2021)).collect();
    expected.sort_unstable_by(|a, b| b.cmp(a));
    assert_eq!(counts, expected);

    // Within Тюменский район the top eight are its eight СНТ, in the order of their counts.
    // (Over the whole oblast they are not: «Иртыш» and «Нефтехимик» near Тобольск have 90
    // appeals, more than four of the Тюмень ones.)
    let filter = Filter {
        municipalities: [TYUMEN_DISTRICT.to_owned()].into(),
        ..Filter::default()
    };
    let map = db.map(&settlements, &filter, &snt_settings);
    let top8: Vec<&str> = ranked(&map, RankBy::Appeals)
        .into_iter()
        .take(8)
        .map(|k| settlements.zones[k].name.as_str())
        .collect();
    let mut expected: Vec<&teplokarta::data::Snt> = snt_in(TYUMEN_DISTRICT).collect();
    expected.sort_by_key(|s| std::cmp::Reverse(s.appeals_2021));
    assert_eq!(top8, expected.iter().map(|s| s.name).collect::<Vec<_>>());
}

// -------------------------------------------------------------------------------------------
// 4. Numbers equal SQL
// -------------------------------------------------------------------------------------------

/// Counts per key of the zones with appeals.
fn zone_counts(
    map: &ProblemMap,
    zones: &Zones,
    key: impl Fn(&teplokarta::analysis::problems::Zone) -> Vec<String>,
) -> Vec<(Vec<String>, u64)> {
    let mut out: BTreeMap<Vec<String>, u64> = BTreeMap::new();
    for (z, s) in zones.zones.iter().zip(&map.zones) {
        if s.appeals > 0 {
            *out.entry(key(z)).or_default() += s.appeals;
        }
    }
    out.into_iter().collect()
}

#[test]
fn problem_counts_equal_sql_for_the_same_filter() {
    let db = demo();
    let filter = Filter {
        from: Some(date(2021, 4, 1)),
        to: Some(date(2021, 9, 30)),
        sources: ["social".to_owned()].into(),
        ..Filter::default()
    };
    let settings = power_settings();
    let cond = "category = ? AND source = 'social' \
                AND substr(received_at, 1, 10) BETWEEN '2021-04-01' AND '2021-09-30'";
    let total = sql_count(
        &db.path,
        &format!("SELECT COUNT(*) FROM appeals WHERE {cond}"),
        &[POWER],
    );
    assert!(total > 300, "{total}");

    // Settlements: one zone per (municipality, settlement); the demo writes canonical
    // municipality names, so the resolved label is the text.
    let zones = db.zones(ZoneKind::Settlements, None);
    let map = db.map(&zones, &filter, &settings);
    assert_eq!(map.appeals, total);
    assert_eq!(map.rows.len() as u64, total);
    let sql = sql_group_counts(
        &db.path,
        &format!(
            "SELECT municipality, settlement, COUNT(*) FROM appeals \
             WHERE {cond} AND settlement IS NOT NULL GROUP BY 1, 2"
        ),
        &[POWER],
    );
    assert_eq!(
        zone_counts(&map, &zones, |z| vec![
            z.municipality.clone(),
            z.name.clone()
        ]),
        sql
    );
    let no_settlement = sql_count(
        &db.path,
        &format!("SELECT COUNT(*) FROM appeals WHERE {cond} AND settlement IS NULL"),
        &[POWER],
    );
    assert_eq!(map.unzoned, no_settlement);
    assert_eq!(
        map.appeals - map.unzoned,
        map.zones.iter().map(|z| z.appeals).sum::<u64>()
    );
    // The series add up to the zone counts (the filter's period is sliced by month).
    assert_eq!(map.slices.len(), 6);
    for z in &map.zones {
        assert_eq!(
            z.series.iter().map(|c| u64::from(*c)).sum::<u64>(),
            z.appeals
        );
    }
    // Open: not yet answered.
    let open = sql_group_counts(
        &db.path,
        &format!(
            "SELECT municipality, settlement, COUNT(*) FROM appeals \
             WHERE {cond} AND settlement IS NOT NULL AND status IN ('new', 'in_progress') \
             GROUP BY 1, 2"
        ),
        &[POWER],
    );
    let mut open_zones: BTreeMap<Vec<String>, u64> = BTreeMap::new();
    for (z, s) in zones.zones.iter().zip(&map.zones) {
        if s.open > 0 {
            *open_zones
                .entry(vec![z.municipality.clone(), z.name.clone()])
                .or_default() += s.open;
        }
    }
    assert_eq!(open_zones.into_iter().collect::<Vec<_>>(), open);

    // Hexagons: every placed row is in a cell; the rest are unzoned.
    let hex = db.zones(ZoneKind::Hexagons, None);
    let map = db.map(&hex, &filter, &settings);
    assert_eq!(map.appeals, total);
    let unplaced = sql_count(
        &db.path,
        &format!(
            "SELECT COUNT(*) FROM appeals WHERE {cond} AND NOT (lat IS NOT NULL \
             AND lon IS NOT NULL AND lat BETWEEN -90 AND 90 AND lon BETWEEN -180 AND 180 \
             AND NOT (lat = 0 AND lon = 0))"
        ),
        &[POWER],
    );
    assert!(unplaced > 0);
    assert_eq!(map.unzoned, unplaced);
    assert_eq!(
        map.appeals - map.unzoned,
        map.zones.iter().map(|z| z.appeals).sum::<u64>()
    );

    // Municipalities.
    let municipalities = db.zones(ZoneKind::Municipalities, None);
    let map = db.map(&municipalities, &filter, &settings);
    assert_eq!(map.appeals, total);
    assert_eq!(map.unzoned, 0, "the demo names every municipality");
    let sql = sql_group_counts(
        &db.path,
        &format!("SELECT municipality, COUNT(*) FROM appeals WHERE {cond} GROUP BY 1"),
        &[POWER],
    );
    assert_eq!(
        zone_counts(&map, &municipalities, |z| vec![z.name.clone()]),
        sql
    );
}

#[test]
fn garden_community_narrowing_equals_sql_on_the_names() {
    let db = demo();
    let zones = db.zones(ZoneKind::Settlements, None);
    let settings = ProblemSettings {
        profile: profile("power-outages").in_garden_communities(),
        ..ProblemSettings::default()
    };
    let map = db.map(&zones, &Filter::default(), &settings);
    // The demo's garden communities are written «СНТ …», «ДНТ …», «СОТ …».
    let garden = "(settlement GLOB '*СНТ*' OR settlement GLOB '*ДНТ*' OR settlement GLOB '*СОТ*' \
                  OR address GLOB '*СНТ*' OR address GLOB '*ДНТ*' OR address GLOB '*СОТ*')";
    let total = sql_count(
        &db.path,
        &format!("SELECT COUNT(*) FROM appeals WHERE category = ? AND {garden}"),
        &[POWER],
    );
    assert_eq!(
        total,
        SNT.iter().map(|s| u64::from(s.appeals_2021)).sum::<u64>()
    );
    assert_eq!(map.appeals, total);
    let sql = sql_group_counts(
        &db.path,
        &format!(
            "SELECT settlement, COUNT(*) FROM appeals WHERE category = ? AND {garden} \
             GROUP BY 1"
        ),
        &[POWER],
    );
    assert_eq!(zone_counts(&map, &zones, |z| vec![z.name.clone()]), sql);
    // The same with a filter on top: the narrowing and the filter combine.
    let filter = Filter {
        from: Some(date(2021, 10, 1)),
        sources: ["pos".to_owned()].into(),
        ..Filter::default()
    };
    let map = db.map(&zones, &filter, &settings);
    let n = sql_count(
        &db.path,
        &format!(
            "SELECT COUNT(*) FROM appeals WHERE category = ? AND {garden} AND source = 'pos' \
             AND substr(received_at, 1, 10) >= '2021-10-01'"
        ),
        &[POWER],
    );
    assert_eq!(map.appeals, n);
}

/// One `INSERT` of an appeal in Тюменский район (id assigned by SQLite).
fn insert(
    received: &str,
    source: &str,
    category: &str,
    settlement: &str,
    status: &str,
    resolved: Option<&str>,
) -> String {
    let resolved = resolved.map_or("NULL".to_owned(), |r| format!("'{r}'"));
    format!(
        "INSERT INTO appeals (received_at, source, category, municipality, settlement, \
         lat, lon, status, resolved_at) VALUES ('{received}', '{source}', '{category}', \
         'Тюменский район', '{settlement}', 57.1, 65.3, '{status}', {resolved});\n"
    )
}

#[test]
fn open_overdue_and_median_days_on_a_hand_made_database() {
    let (a, b, c) = ("с. Каменка", "с. Липовка", "с. Луговое");
    // (settlement, received, status, answered) of power-outage appeals in March 2021, times
    // as "DD HH:MM"; "" is not answered.
    let rows: &[(&str, &str, &str, &str)] = &[
        // Answered in 1, 3, 10 and 20 days (rejected counts as answered); one answer dated
        // before its receipt (a data error) is left out of the durations.
        (a, "01 10:00", "resolved", "02 10:00"),
        (a, "01 12:00", "rejected", "04 12:00"),
        (a, "05 09:00", "resolved", "15 09:00"),
        (a, "06 09:00", "resolved", "26 09:00"),
        (a, "07 09:00", "resolved", "06 09:00"),
        // Open, at the data's last day 2021-03-25: 15, 11, 10 and 5 days old (deadline 10).
        (a, "10 08:00", "new", ""),
        (a, "14 08:00", "in_progress", ""),
        (a, "15 08:00", "in_progress", ""),
        (a, "20 23:59", "new", ""),
        // A settlement with nothing answered.
        (b, "02 08:00", "new", ""),
        // A status outside the contract's four.
        (c, "02 08:00", "на рассмотрении", ""),
    ];
    let march = |t: &str| format!("2021-03-{}:00", t.replace(' ', "T"));
    let mut sql: String = rows
        .iter()
        .map(|(place, received, status, answered)| {
            let answered = (!answered.is_empty()).then(|| march(answered));
            insert(
                &march(received),
                "pos",
                POWER,
                place,
                status,
                answered.as_deref(),
            )
        })
        .collect();
    // Another category sets the data's last day and is not counted.
    sql += &insert("2021-03-25T18:00:00", "pos", "Дороги", a, "new", None);
    let (_dir, path) = contract_db(&sql);
    let db = Db::open(&path);
    let zones = db.zones(ZoneKind::Settlements, None);
    let map = db.map(&zones, &Filter::default(), &power_settings());
    assert_eq!(map.appeals, 11);

    let za = &map.zones[settlement_zone(&zones, TYUMEN_DISTRICT, a)];
    assert_eq!(za.appeals, 9);
    assert_eq!(za.open, 4, "new and in_progress");
    assert_eq!(
        za.overdue, 2,
        "15 and 11 days old; 10 days is not over the deadline"
    );
    assert_eq!(
        za.median_days_to_answer,
        Some(6.5),
        "median of 1, 3, 10, 20"
    );
    assert_eq!(za.last_day, Some(date(2021, 3, 20)));
    // Open equals SQL's status IN ('new', 'in_progress').
    let open = sql_count(
        &path,
        "SELECT COUNT(*) FROM appeals WHERE category = ? AND settlement = ? \
         AND status IN ('new', 'in_progress')",
        &[POWER, a],
    );
    assert_eq!(za.open, open);

    let zb = &map.zones[settlement_zone(&zones, TYUMEN_DISTRICT, b)];
    assert_eq!((zb.open, zb.overdue), (1, 1), "23 days old");
    assert_eq!(zb.median_days_to_answer, None);

    // A status the contract does not name is shown as is and counted as not yet answered
    // (Columns::status_unresolved), although SQL's `status IN ('new', 'in_progress')` is 0.
    let zc = &map.zones[settlement_zone(&zones, TYUMEN_DISTRICT, c)];
    assert_eq!((zc.open, zc.overdue), (1, 1));

    // A longer deadline: nothing overdue in the first settlement but the 23-day-old appeal.
    let settings = ProblemSettings {
        deadline_days: 20.0,
        ..power_settings()
    };
    let map = db.map(&zones, &Filter::default(), &settings);
    assert_eq!(
        map.zones[settlement_zone(&zones, TYUMEN_DISTRICT, a)].overdue,
        0
    );
    assert_eq!(
        map.zones[settlement_zone(&zones, TYUMEN_DISTRICT, b)].overdue,
        1
    );
}

// -------------------------------------------------------------------------------------------
// 5. Incidents and voices
// -------------------------------------------------------------------------------------------

/// Local time `minutes` after 2021-05-10 10:00, as the contract writes it.
fn at(minutes: i64, seconds: i64) -> String {
    let t = date(2021, 5, 10)
        .at(10, 0, 0, 0)
        .checked_add(jiff::Span::new().minutes(minutes).seconds(seconds))
        .unwrap();
    format!("{}+05:00", t.strftime("%Y-%m-%dT%H:%M:%S"))
}

#[test]
fn incidents_count_appeals_within_the_window_of_the_first_once() {
    let sources = ["pos", "social", "phone"];
    let mut sql = String::new();
    let mut n = 0;
    let mut add = |sql: &mut String, t: String, settlement: &str, category: &str| {
        n += 1;
        *sql += &insert(&t, sources[n % 3], category, settlement, "resolved", None);
    };
    // 40 appeals in under three hours through three sources; two of them in the same minute.
    let one = "с. Каскара";
    for k in 0..39 {
        add(&mut sql, at(4 * k, 0), one, POWER);
    }
    add(&mut sql, at(0, 30), one, POWER);
    // Other categories in the same place and time are no voices of the problem.
    add(&mut sql, at(5, 0), one, "Дороги");
    // The same 40, and one more 50 hours after the first.
    let two = "с. Богандинский";
    for k in 0..39 {
        add(&mut sql, at(4 * k, 0), two, POWER);
    }
    add(&mut sql, at(0, 30), two, POWER);
    add(&mut sql, at(50 * 60, 0), two, POWER);
    // The window runs from an incident's first appeal, not from the latest one: 0, 47 h, 50 h
    // are two incidents.
    let three = "с. Винзили";
    for m in [0, 47 * 60, 50 * 60] {
        add(&mut sql, at(m, 0), three, POWER);
    }
    // Exactly 48 h later is still the same incident; a minute more is a new one.
    let four = "с. Ембаево";
    for m in [0, 48 * 60] {
        add(&mut sql, at(m, 0), four, POWER);
    }
    let five = "с. Онохино";
    for m in [0, 48 * 60 + 1] {
        add(&mut sql, at(m, 0), five, POWER);
    }
    let (_dir, path) = contract_db(&sql);
    let db = Db::open(&path);
    let zones = db.zones(ZoneKind::Settlements, None);
    let stats = |map: &ProblemMap, name: &str| {
        let z = &map.zones[settlement_zone(&zones, TYUMEN_DISTRICT, name)];
        (z.appeals, z.incidents)
    };

    let map = db.map(&zones, &Filter::default(), &power_settings());
    assert_eq!(ProblemSettings::default().incident_window_h, 48.0);
    assert_eq!(stats(&map, one), (40, 1));
    assert_eq!(stats(&map, two), (41, 2));
    assert_eq!(stats(&map, three), (3, 2));
    assert_eq!(stats(&map, four), (2, 1));
    assert_eq!(stats(&map, five), (2, 2));
    // One source of the three: fewer voices, still one incident.
    let social = Filter {
        sources: ["social".to_owned()].into(),
        ..Filter::default()
    };
    let map = db.map(&zones, &social, &power_settings());
    let (voices, incidents) = stats(&map, one);
    assert!((10..=16).contains(&voices), "{voices}");
    assert_eq!(incidents, 1);

    // Window 0: every appeal is an incident of its own, except appeals within the same minute
    // (times are kept to the minute).
    let settings = ProblemSettings {
        incident_window_h: 0.0,
        ..power_settings()
    };
    let map = db.map(&zones, &Filter::default(), &settings);
    assert_eq!(stats(&map, one), (40, 39));
    assert_eq!(stats(&map, two), (41, 40));
    assert_eq!(stats(&map, three), (3, 3));
    assert_eq!(stats(&map, four), (2, 2));
}

// -------------------------------------------------------------------------------------------
// 6. The null hypothesis
// -------------------------------------------------------------------------------------------

/// `n` appeals of the power-outage profile at uniformly random points of a 61 × 67 km box
/// (66–67° E, 56.6–57.2° N, in the south of the oblast) and uniformly random times of 2021.
fn uniform_db(seed: u64, n: usize, dir: &Path) -> PathBuf {
    use rand::{RngExt as _, SeedableRng as _};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let path = dir.join(format!("uniform-{seed}.sqlite"));
    let mut conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch(CREATE_APPEALS_SQL).unwrap();
    let tx = conn.transaction().unwrap();
    {
        let mut insert = tx
            .prepare(
                "INSERT INTO appeals (id, received_at, source, category, lat, lon, status) \
                 VALUES (?1, ?2, 'pos', ?3, ?4, ?5, 'resolved')",
            )
            .unwrap();
        let day0 = date(2021, 1, 1);
        for i in 0..n {
            let day: Date = day0
                .checked_add(jiff::Span::new().days(rng.random_range(0..365)))
                .unwrap();
            let received = format!(
                "{day}T{:02}:{:02}:00+05:00",
                rng.random_range(0..24),
                rng.random_range(0..60)
            );
            let lat: f64 = rng.random_range(56.6..57.2);
            let lon: f64 = rng.random_range(66.0..67.0);
            insert
                .execute(rusqlite::params![i as i64 + 1, received, POWER, lat, lon])
                .unwrap();
        }
    }
    tx.commit().unwrap();
    path
}

/// Of 100 seeds of 3,000 uniform points with hexagon zones and FDR: how many have no zone
/// classed Hot95 or Hot99, and the largest z-score seen.
fn null_runs(cell_km: Option<f64>) -> (usize, f64) {
    let dir = tempfile::tempdir().unwrap();
    let settings = ProblemSettings {
        fdr: true,
        ..power_settings()
    };
    let (mut clean, mut max_z) = (0, f64::MIN);
    for seed in 0..100 {
        let path = uniform_db(seed, 3_000, dir.path());
        let db = Db::open(&path);
        let zones = db.zones(ZoneKind::Hexagons, cell_km);
        assert_eq!(zones.kind, Some(ZoneKind::Hexagons));
        let map = db.map(&zones, &Filter::default(), &settings);
        assert_eq!(map.appeals, 3_000);
        assert_eq!(map.unzoned, 0);
        if !map
            .zones
            .iter()
            .any(|z| matches!(z.class, HotClass::Hot95 | HotClass::Hot99))
        {
            clean += 1;
        }
        for z in &map.zones {
            if let Some(g) = z.gi {
                max_z = max_z.max(g.z);
            }
        }
        std::fs::remove_file(&path).ok();
    }
    (clean, max_z)
}

/// The acceptance test, at the default cell size (which is made coarse enough for
/// ~10 appeals per populated cell, `MIN_APPEALS_PER_CELL`).
#[test]
fn uniform_points_give_no_hot_spots_at_the_default_cell_size() {
    let (clean, max_z) = null_runs(None);
    assert!(
        clean >= 95,
        "only {clean} of 100 uniform seeds have no Hot95/Hot99 zone (largest z {max_z:.2})"
    );
}

#[test]
fn uniform_points_give_no_hot_spots_with_five_km_cells() {
    // 5 km cells: about 220 populated cells of ~14 appeals each.
    let (clean, max_z) = null_runs(Some(5.0));
    assert!(
        clean >= 95,
        "only {clean} of 100 uniform seeds have no Hot95/Hot99 zone (largest z {max_z:.2})"
    );
}

// -------------------------------------------------------------------------------------------
// 7–8. The headless command
// -------------------------------------------------------------------------------------------

fn read_geojson(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn features(v: &serde_json::Value) -> &Vec<serde_json::Value> {
    assert_eq!(v["type"], "FeatureCollection");
    v["features"].as_array().unwrap()
}

#[test]
fn problems_command_writes_geojson_with_the_zone_shapes() {
    let db = small_demo();
    let dir = tempfile::tempdir().unwrap();
    let fields: BTreeSet<&str> = FIELDS.iter().copied().collect();
    for (zones_arg, kind, shapes) in [
        ("hex", ZoneKind::Hexagons, &["Polygon"][..]),
        ("settlements", ZoneKind::Settlements, &["Point"][..]),
        (
            "municipalities",
            ZoneKind::Municipalities,
            &["Polygon", "MultiPolygon"][..],
        ),
    ] {
        let out = dir.path().join(format!("{zones_arg}.geojson"));
        let printed = run_cli(&[
            "problems",
            db.db(),
            "--profile",
            "power-outages",
            "--zones",
            zones_arg,
            "--out",
            out.to_str().unwrap(),
        ])
        .unwrap();
        assert!(printed.contains("wrote"), "{printed}");
        let v = read_geojson(&out);
        let features = features(&v);
        // The same map computed in-process.
        let zones = db.zones(kind, None);
        let map = db.map(&zones, &Filter::default(), &power_settings());
        let with_appeals = map.zones.iter().filter(|z| z.appeals > 0).count();
        assert!(features.len() >= with_appeals, "{zones_arg}");
        assert!(
            printed.starts_with(&format!(
                "{} appeals of profile \"power-outages\"",
                map.appeals
            )),
            "{printed}"
        );
        let mut appeals = 0.0;
        for f in features {
            let props = f["properties"].as_object().unwrap();
            let keys: BTreeSet<&str> = props.keys().map(String::as_str).collect();
            assert_eq!(keys, fields, "{zones_arg}");
            appeals += props["appeals"].as_f64().unwrap();
            let shape = f["geometry"]["type"].as_str().unwrap_or("null");
            assert!(shapes.contains(&shape), "{zones_arg}: {shape} in {f}");
            if shape == "Polygon" && kind == ZoneKind::Hexagons {
                let ring = f["geometry"]["coordinates"][0].as_array().unwrap();
                assert_eq!(ring.len(), 7, "a closed hexagon");
                assert_eq!(ring[0], ring[6]);
            }
        }
        assert_eq!(appeals as u64, map.appeals - map.unzoned, "{zones_arg}");
        // Ranks 1..n in file order.
        for (k, f) in features.iter().enumerate() {
            // (Written as JSON numbers with a fraction: `1.0`, not `1`.)
            assert_eq!(f["properties"]["rank"].as_f64(), Some(k as f64 + 1.0));
        }
        assert_eq!(v["slices"].as_array().map(Vec::len), Some(12));
    }
}

#[test]
fn problems_command_writes_csv_with_the_fields_as_header() {
    let db = small_demo();
    let dir = tempfile::tempdir().unwrap();
    let csv_path = dir.path().join("problems.csv");
    let json_path = dir.path().join("problems.geojson");
    for path in [&csv_path, &json_path] {
        run_cli(&[
            "problems",
            db.db(),
            "--profile",
            "power-outages",
            "--zones",
            "settlements",
            "--from",
            "2021-06-01",
            "--out",
            path.to_str().unwrap(),
        ])
        .unwrap();
    }
    let mut reader = csv::Reader::from_path(&csv_path).unwrap();
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(header, FIELDS);
    let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let v = read_geojson(&json_path);
    assert_eq!(records.len(), features(&v).len(), "one row per feature");
    let column = |name: &str| FIELDS.iter().position(|f| *f == name).unwrap();
    let appeals: u64 = records
        .iter()
        .map(|r| r[column("appeals")].parse::<u64>().unwrap())
        .sum();
    let sql = sql_count(
        &db.path,
        "SELECT COUNT(*) FROM appeals WHERE category = ? AND settlement IS NOT NULL \
         AND substr(received_at, 1, 10) >= '2021-06-01'",
        &[POWER],
    );
    assert_eq!(appeals, sql);
    // The same zones in the same order in both files.
    for (r, f) in records.iter().zip(features(&v)) {
        assert_eq!(
            &r[column("name")],
            f["properties"]["name"].as_str().unwrap()
        );
        assert_eq!(
            r[column("appeals")].parse::<f64>().unwrap(),
            f["properties"]["appeals"].as_f64().unwrap()
        );
    }
    // June to December: seven monthly slices in every series.
    for r in &records {
        assert_eq!(r[column("series")].split(';').count(), 7);
    }
}

#[test]
fn problems_command_reports_bad_arguments_by_name() {
    let db = small_demo();
    let dir = tempfile::tempdir().unwrap();
    let txt = dir.path().join("problems.txt");
    let err = run_cli(&[
        "problems",
        db.db(),
        "--profile",
        "power-outages",
        "--out",
        txt.to_str().unwrap(),
    ])
    .unwrap_err();
    let message = format!("{err:#}");
    assert!(
        message.contains("--out") && message.contains(".geojson") && message.contains(".csv"),
        "{message}"
    );
    assert!(!txt.exists());

    let err = run_cli(&["problems", db.db(), "--profile", "no-such-problem"]).unwrap_err();
    let message = format!("{err:#}");
    assert!(
        message.contains("no-such-problem") && message.contains("power-outages"),
        "{message}"
    );

    let err = run_cli(&[
        "problems",
        db.db(),
        "--profile",
        "power-outages",
        "--cell-km",
        "0",
    ])
    .unwrap_err();
    assert!(format!("{err:#}").contains("--cell-km"), "{err:#}");

    let err = run_cli(&[
        "problems",
        db.db(),
        "--profile",
        "power-outages",
        "--intervention",
        "1 August",
    ])
    .unwrap_err();
    assert!(format!("{err:#}").contains("--intervention"), "{err:#}");
}

#[test]
fn problems_command_finds_a_user_profile_in_a_toml_file() {
    let db = small_demo();
    let dir = tempfile::tempdir().unwrap();
    let profiles = dir.path().join("my-profiles.toml");
    std::fs::write(
        &profiles,
        "[[profile]]\nid = \"schools\"\nname = \"Школы\"\n\
         subcategories = [[\"Образование\", \"Школы\"]]\n",
    )
    .unwrap();
    let out = dir.path().join("schools.csv");
    let printed = run_cli(&[
        "problems",
        db.db(),
        "--profile",
        "schools",
        "--profiles",
        profiles.to_str().unwrap(),
        "--zones",
        "settlements",
        "--out",
        out.to_str().unwrap(),
    ])
    .unwrap();
    let sql = sql_count(
        &db.path,
        "SELECT COUNT(*) FROM appeals WHERE category = 'Образование' AND subcategory = 'Школы'",
        &[],
    );
    assert!(sql > 0);
    assert!(
        printed.starts_with(&format!("{sql} appeals of profile \"schools\"")),
        "{printed}"
    );
    let mut reader = csv::Reader::from_path(&out).unwrap();
    let column = FIELDS.iter().position(|f| *f == "appeals").unwrap();
    let appeals: u64 = reader
        .records()
        .map(|r| r.unwrap()[column].parse::<u64>().unwrap())
        .sum();
    assert_eq!(appeals, sql, "the demo gives every appeal a settlement");

    // Without the file the id is unknown (unless this machine's own profiles file has it).
    if teplokarta::analysis::profiles::profiles_path().is_none_or(|p| !p.exists()) {
        let err = run_cli(&["problems", db.db(), "--profile", "schools"]).unwrap_err();
        assert!(
            format!("{err:#}").contains("\"schools\" is not a known profile"),
            "{err:#}"
        );
    }
    // With it, an unknown id is reported with the file's ids among the known ones.
    let err = run_cli(&[
        "problems",
        db.db(),
        "--profile",
        "nurseries",
        "--profiles",
        profiles.to_str().unwrap(),
    ])
    .unwrap_err();
    let message = format!("{err:#}");
    assert!(
        message.contains("nurseries") && message.contains("schools"),
        "{message}"
    );
}

#[test]
fn weights_are_reported_back() {
    let db = small_demo();
    let settlements = db.zones(ZoneKind::Settlements, None);
    let hex = db.zones(ZoneKind::Hexagons, None);
    let with = |weights| ProblemSettings {
        weights,
        ..power_settings()
    };
    let all = Filter::default();

    let knn4 = db.map(&settlements, &all, &with(WeightsKind::Nearest { k: 4 }));
    assert_eq!((knn4.k, knn4.distance_km), (Some(4), None));
    let knn8 = db.map(&settlements, &all, &with(WeightsKind::Nearest { k: 8 }));
    assert_eq!(knn8.k, Some(8));
    assert!(
        knn4.zones
            .iter()
            .zip(&knn8.zones)
            .any(|(a, b)| a.gi != b.gi),
        "k changes the z-scores"
    );
    let fixed = db.map(
        &settlements,
        &all,
        &with(WeightsKind::Distance { km: Some(7.5) }),
    );
    assert_eq!((fixed.k, fixed.distance_km), (None, Some(7.5)));
    // The zoning's defaults: 5 km between settlements, adjacent cells for hexagons.
    let default = db.map(
        &settlements,
        &all,
        &with(WeightsKind::Distance { km: None }),
    );
    assert_eq!(default.distance_km, Some(5.0));
    let default = db.map(&hex, &all, &with(WeightsKind::Distance { km: None }));
    let cell = hex.cell_km.unwrap();
    assert!((default.distance_km.unwrap() - cell * 1.05).abs() < 1e-9);

    // The command says which neighbours it used.
    let printed = run_cli(&[
        "problems",
        db.db(),
        "--profile",
        "power-outages",
        "--weights",
        "knn",
        "--k",
        "4",
    ])
    .unwrap();
    let summary = printed.lines().next().unwrap();
    assert!(summary.ends_with("4 nearest neighbours"), "{summary}");
    let printed = run_cli(&[
        "problems",
        db.db(),
        "--profile",
        "power-outages",
        "--zones",
        "settlements",
        "--distance-km",
        "7.5",
    ])
    .unwrap();
    let summary = printed.lines().next().unwrap();
    assert!(summary.ends_with("neighbours within 7.50 km"), "{summary}");
}

// -------------------------------------------------------------------------------------------
// 9. The window's export (File → Export problem zones…): the job writes what is on screen
// -------------------------------------------------------------------------------------------

#[test]
fn the_window_export_job_writes_the_zones_on_screen() {
    use std::sync::Arc;
    use teplokarta::app::problems::{ProblemRequest, compute_problems};
    use teplokarta::app::{BoundarySet, JobResult, Jobs, load_dataset, resolve};

    let (dir, path) = common::demo_db(6_000, 5);
    let dataset = Arc::new(load_dataset(path.clone(), false).unwrap());
    let resolved = Arc::new(resolve(
        dataset,
        Arc::new(BoundarySet::new(Boundaries::schematic())),
    ));
    let request = ProblemRequest {
        filter: Filter::default(),
        settings: power_settings(),
        zones: ZoneKind::Settlements,
        cell_km: None,
    };
    let result = Arc::new(compute_problems(resolved, request, None));
    let expected = teplokarta::analysis::problem_export::exported_zones(&result.map);
    assert!(!expected.is_empty());
    let mut jobs = Jobs::new(egui::Context::default());
    for name in ["zones.csv", "zones.geojson"] {
        let out = dir.path().join(name);
        jobs.export_problems(result.clone(), "near", out.clone());
        let saved = (0..1_000)
            .find_map(|_| {
                std::thread::sleep(std::time::Duration::from_millis(10));
                jobs.drain().into_iter().find_map(|r| match r {
                    JobResult::Saved(saved) => Some(saved),
                    _ => None,
                })
            })
            .expect("the export job reports");
        assert_eq!(saved.unwrap(), out);
        if name.ends_with(".csv") {
            let mut reader = csv::Reader::from_path(&out).unwrap();
            let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
            assert_eq!(rows.len(), expected.len());
            let total: u64 = rows.iter().map(|r| r[7].parse::<u64>().unwrap()).sum();
            assert_eq!(total, result.map.appeals - result.map.unzoned);
            assert_eq!(
                total,
                sql_count(
                    &path,
                    "SELECT COUNT(*) FROM appeals WHERE category = ?1",
                    &[POWER]
                )
            );
        } else {
            let v = read_geojson(&out);
            assert_eq!(features(&v).len(), expected.len());
            for f in features(&v) {
                assert_eq!(f["geometry"]["type"], "Point");
                assert!(f["properties"]["appeals"].is_u64(), "counts are integers");
            }
        }
    }
}

/// A settlement's marker is the mean of its appeals' coordinates added as integers of 10⁻⁷°, so
/// it does not depend on the order of the rows (a table grouped in the database adds them per
/// group, in another order): the same database with its rows in reverse order gives every
/// settlement the same position, bit for bit, within 10⁻⁷° of the plain mean.
#[test]
fn settlement_centroids_do_not_depend_on_the_order_of_rows() {
    let db = small_demo();
    let dir = tempfile::tempdir().unwrap();
    let reversed = dir.path().join("reversed.sqlite");
    let conn = rusqlite::Connection::open(&reversed).unwrap();
    conn.execute_batch(CREATE_APPEALS_SQL).unwrap();
    conn.execute("ATTACH DATABASE ?1 AS src", [db.path.to_str().unwrap()])
        .unwrap();
    let columns: Vec<String> = conn
        .prepare("SELECT name FROM pragma_table_info('appeals', 'src') WHERE name <> 'id'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let list = columns.join(", ");
    conn.execute_batch(&format!(
        "INSERT INTO main.appeals (id, {list}) SELECT 10000000 - id, {list} FROM src.appeals \
         ORDER BY id DESC; DETACH DATABASE src"
    ))
    .unwrap();
    drop(conn);
    let other = Db::open(&reversed);
    let positions = |db: &Db| -> BTreeMap<(String, String), (u64, u64)> {
        db.zones(ZoneKind::Settlements, None)
            .zones
            .iter()
            .filter_map(|z| {
                let (lon, lat) = z.lon_lat?;
                Some((
                    (z.municipality.clone(), z.name.clone()),
                    (lon.to_bits(), lat.to_bits()),
                ))
            })
            .collect()
    };
    let (a, b) = (positions(db), positions(&other));
    assert!(a.len() > 50, "{} settlements", a.len());
    assert_eq!(a, b);
    // Within 10⁻⁷° of the mean of the doubles — which, added in row order, does depend on it.
    let plain_means = |db: &Db| -> BTreeMap<(String, String), (f64, f64)> {
        let zones = db.zones(ZoneKind::Settlements, None);
        let mut sums: BTreeMap<u32, (f64, f64, f64)> = BTreeMap::new();
        for (i, &z) in zones.zone_of_row.iter().enumerate() {
            if let (Some(&lon), Some(&lat), Some(teplokarta::data::Placement::Placed)) = (
                db.appeals.lon.get(i),
                db.appeals.lat.get(i),
                db.appeals.placement.get(i),
            ) {
                let s = sums.entry(z).or_default();
                *s = (s.0 + lon, s.1 + lat, s.2 + 1.0);
            }
        }
        sums.into_iter()
            .map(|(z, (lon, lat, n))| {
                let zone = &zones.zones[z as usize];
                (
                    (zone.municipality.clone(), zone.name.clone()),
                    (lon / n, lat / n),
                )
            })
            .collect()
    };
    let (plain_a, plain_b) = (plain_means(db), plain_means(&other));
    for (key, (lon, lat)) in &plain_a {
        let (x, y) = a[key];
        let (x, y) = (f64::from_bits(x), f64::from_bits(y));
        assert!((x - lon).abs() < 1e-7 && (y - lat).abs() < 1e-7, "{key:?}");
    }
    assert_ne!(
        plain_a, plain_b,
        "the plain means would differ between the orders"
    );
}
