//! The heat map's numbers: for random filters, the choropleth counts add up to the filtered
//! total (the unknown bucket included) and every pivot cell equals SQL `COUNT(*) … GROUP BY
//! municipality, category` with the same filter; the metrics equal `stats --metric`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers may panic

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;

use clap::Parser as _;
use rand::{RngExt as _, SeedableRng as _};
use teplokarta::analysis::{Classification, Filter, Masks, Metric, aggregate, pivot_table};
use teplokarta::app::{BoundarySet, Resolved, ViewRequest, compute_view, load_dataset, resolve};
use teplokarta::cli::{Cli, run};
use teplokarta::spatial::Boundaries;

fn resolved(path: &std::path::Path) -> Arc<Resolved> {
    let dataset = Arc::new(load_dataset(path.to_owned(), false).unwrap());
    Arc::new(resolve(
        dataset,
        Arc::new(BoundarySet::new(Boundaries::schematic())),
    ))
}

/// A random filter over what the database holds.
fn random_filter(rng: &mut rand_chacha::ChaCha8Rng, r: &Resolved) -> Filter {
    let appeals = &r.dataset.appeals;
    let pick = |rng: &mut rand_chacha::ChaCha8Rng,
                names: &[String],
                p: f64|
     -> std::collections::BTreeSet<String> {
        if rng.random_bool(0.5) {
            return Default::default();
        }
        names
            .iter()
            .filter(|_| rng.random_bool(p))
            .cloned()
            .collect()
    };
    let mut f = Filter::default();
    let day0 = teplokarta::analysis::day_number(jiff::civil::date(2021, 1, 1));
    if rng.random_bool(0.6) {
        let start = rng.random_range(0..300);
        let len = rng.random_range(0..120);
        // Both ends, or only one of them.
        match rng.random_range(0..4) {
            0 => f.from = Some(teplokarta::analysis::date_of_day(day0 + start)),
            1 => f.to = Some(teplokarta::analysis::date_of_day(day0 + start)),
            _ => {
                f.from = Some(teplokarta::analysis::date_of_day(day0 + start));
                f.to = Some(teplokarta::analysis::date_of_day(day0 + start + len));
            }
        }
    }
    f.categories = pick(rng, appeals.categories.names(), 0.3);
    if rng.random_bool(0.3) {
        for leaf in &r.columns.leaves {
            if rng.random_bool(0.1) {
                let c = appeals.categories.name(leaf.category).to_owned();
                let s = leaf
                    .subcategory
                    .map_or(String::new(), |s| appeals.subcategories.name(s).to_owned());
                f.subcategories.insert((c, s));
            }
        }
    }
    f.sources = pick(rng, appeals.sources.names(), 0.5);
    f.statuses = pick(rng, appeals.statuses.names(), 0.5);
    // The unknown bucket ("") is a municipality like the others.
    let mut names: Vec<String> = teplokarta::spatial::municipalities()
        .iter()
        .map(|m| m.name.to_owned())
        .collect();
    names.push(String::new());
    f.municipalities = pick(rng, &names, 0.3);
    // Sometimes a part is unticked entirely (matches nothing).
    if rng.random_bool(0.05) {
        f.sources = [teplokarta::ui::filter_panel::NOTHING_VALUE.to_owned()].into();
    }
    f
}

#[test]
fn random_filters_reconcile_with_sql() {
    let (_dir, path) = common::demo_db(20_000, 31);
    // Appeals with neither a municipality nor a point land in the unknown bucket, which SQL
    // sees as the empty municipality.
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch(
        "UPDATE appeals SET municipality = NULL, lat = NULL, lon = NULL WHERE id % 13 = 0;",
    )
    .unwrap();
    drop(conn);
    let r = resolved(&path);
    let appeals = &r.dataset.appeals;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    for round in 0..60 {
        let filter = random_filter(&mut rng, &r);
        let masks = Masks::new(&filter, appeals, &r.resolution, &r.columns);
        let a = aggregate(&r.columns, &masks);
        // SQL's count for the same filter is the total.
        let (where_count, count_params) = filter.to_sql_where();
        let count_params: Vec<&str> = count_params.iter().map(String::as_str).collect();
        let sql_total = common::sql_group_counts(
            &path,
            &format!("SELECT 'all', COUNT(*) FROM appeals {where_count}"),
            &count_params,
        )[0]
        .1;
        assert_eq!(a.total, sql_total, "round {round}: {filter:?}");
        // The sum over municipalities, the unknown bucket included, is the filtered total.
        assert_eq!(
            a.by_label.iter().sum::<u64>(),
            a.total,
            "round {round}: {filter:?}"
        );
        assert_eq!(masks.rows(&r.columns).len() as u64, a.total);
        assert_eq!(a.pivot.iter().sum::<u64>(), a.total);
        // Every pivot cell equals SQL on the same filter.
        let (where_sql, params) = filter.to_sql_where();
        let sql = format!(
            "SELECT coalesce(municipality, ''), category, COUNT(*) FROM appeals {where_sql} GROUP BY 1, 2"
        );
        let params: Vec<&str> = params.iter().map(String::as_str).collect();
        let expected: BTreeMap<(String, String), u64> =
            common::sql_group_counts(&path, &sql, &params)
                .into_iter()
                .map(|(k, n)| ((k[0].clone(), k[1].clone()), n))
                .collect();
        let mut ours = BTreeMap::new();
        for label in 0..r.resolution.labels.len() as u32 {
            for category in 0..a.n_categories as u32 {
                let n = a.cell(label, category);
                if n > 0 {
                    ours.insert(
                        (
                            r.resolution.label(label).to_owned(),
                            appeals.categories.name(category).to_owned(),
                        ),
                        n,
                    );
                }
            }
        }
        assert_eq!(ours, expected, "round {round}: {filter:?}");
        // The pivot table's rows and totals are the same numbers.
        let pivot = pivot_table(&a, &r.resolution, appeals, 8, masks.label.as_deref());
        assert_eq!(pivot.total, a.total);
        for row in &pivot.rows {
            assert_eq!(row.cells.iter().sum::<u64>() + row.other, row.total);
        }
    }
}

#[test]
fn appeals_without_municipality_are_placed_by_point_or_counted_as_unknown() {
    let (_dir, path) = common::demo_db(8_000, 32);
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch(
        "UPDATE appeals SET municipality = NULL WHERE id % 7 = 0;
         UPDATE appeals SET lat = NULL, lon = NULL WHERE id % 21 = 0;",
    )
    .unwrap();
    drop(conn);
    let r = resolved(&path);
    let appeals = &r.dataset.appeals;
    let boundaries = &r.boundaries;
    let without_text: Vec<usize> = (0..appeals.len())
        .filter(|&i| appeals.municipality[i].is_none())
        .collect();
    let mut expected_unknown = 0;
    for &i in &without_text {
        let placed = appeals.placement[i] == teplokarta::data::Placement::Placed;
        let unit = if placed {
            boundaries.locator.locate(appeals.lon[i], appeals.lat[i])
        } else {
            None
        };
        match unit.and_then(|u| boundaries.boundaries.units[u].municipality) {
            Some(m) => assert_eq!(
                r.resolution.row_label[i], m as u32,
                "row {i} goes to its polygon"
            ),
            None => {
                assert_eq!(r.resolution.row_label[i], r.resolution.unknown_label);
                expected_unknown += 1;
            }
        }
    }
    assert!(expected_unknown > 0);
    assert_eq!(r.resolution.unknown, expected_unknown);
    assert_eq!(r.resolution.missing, without_text.len() as u64);
    let a = aggregate(
        &r.columns,
        &Masks::new(&Filter::default(), appeals, &r.resolution, &r.columns),
    );
    assert_eq!(
        a.by_label[r.resolution.unknown_label as usize],
        expected_unknown
    );
    assert_eq!(
        a.by_label.iter().sum::<u64>(),
        appeals.len() as u64,
        "never silently dropped"
    );
    // The pivot lists the unknown bucket.
    let pivot = pivot_table(&a, &r.resolution, appeals, 5, None);
    assert!(
        pivot
            .rows
            .iter()
            .any(|row| row.name.is_empty() && row.total == expected_unknown)
    );
}

fn metric_rows(args: &[&str]) -> BTreeMap<String, Vec<String>> {
    let cli =
        Cli::try_parse_from(std::iter::once("teplokarta").chain(args.iter().copied())).unwrap();
    let mut out = Vec::new();
    run(cli.command.as_ref().unwrap(), &mut out).unwrap();
    let mut reader = csv::Reader::from_reader(out.as_slice());
    assert_eq!(
        reader.headers().unwrap().iter().collect::<Vec<_>>()[3..],
        ["rank", "class", "class_from", "class_to"]
    );
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            (
                r[0].to_owned(),
                vec![
                    r[1].to_owned(),
                    r[2].to_owned(),
                    r[3].to_owned(),
                    r[4].to_owned(),
                ],
            )
        })
        .collect()
}

#[test]
fn stats_metric_prints_the_values_the_map_shows() {
    let (_dir, path) = common::demo_db(20_000, 33);
    let r = resolved(&path);
    let db = path.to_str().unwrap();
    let date = |s| Filter::parse_date(s).ok();
    let cases: [(&[&str], Filter); 2] = [
        (&[], Filter::default()),
        (
            &[
                "--municipality",
                "Тюмень",
                "--municipality",
                "Ишимский МР",
                "--municipality",
                "г. Тобольск",
            ],
            Filter {
                municipalities: [
                    "Тюмень".to_owned(),
                    "Ишимский МР".to_owned(),
                    "г. Тобольск".to_owned(),
                ]
                .into(),
                ..Filter::default()
            },
        ),
    ];
    for (extra, base) in cases {
        for (metric, name) in [
            (Metric::Count, "count"),
            (Metric::Per10k, "per10k"),
            (Metric::Unresolved, "unresolved"),
            (Metric::Change, "change"),
        ] {
            let mut args = vec![
                "stats",
                db,
                "--by",
                "municipality",
                "--metric",
                name,
                "--from",
                "2021-10-01",
                "--to",
                "2021-12-31",
                "--classification",
                "jenks",
                "--format",
                "csv",
            ];
            args.extend_from_slice(extra);
            let cli = metric_rows(&args);
            let filter = Filter {
                from: date("2021-10-01"),
                to: date("2021-12-31"),
                ..base.clone()
            };
            let view = compute_view(
                r.clone(),
                ViewRequest {
                    filter,
                    metric,
                    classification: Classification::NaturalBreaks,
                    classes: 5,
                    locked_breaks: None,
                    selected: None,
                },
            );
            let mut expected = BTreeMap::new();
            for (unit, m) in teplokarta::spatial::municipalities().iter().enumerate() {
                if !view.in_filter[unit] {
                    continue;
                }
                let value = view.values[unit];
                let class = value.and_then(|v| teplokarta::analysis::class_of(v, &view.breaks));
                expected.insert(
                    m.name.to_owned(),
                    vec![
                        view.aggregates.by_label[unit].to_string(),
                        value.map_or_else(|| "no data".to_owned(), |v| metric.format(v)),
                        view.ranks[unit].map_or(String::new(), |r| r.to_string()),
                        class.map_or(String::new(), |c| (c + 1).to_string()),
                    ],
                );
            }
            assert_eq!(cli, expected, "{name} {extra:?}");
            if !extra.is_empty() {
                assert_eq!(cli.len(), 3, "only the filtered municipalities are listed");
            }
        }
    }
}

#[test]
fn locked_breaks_stay_when_the_period_changes() {
    let (_dir, path) = common::demo_db(10_000, 34);
    let r = resolved(&path);
    let date = |s| Filter::parse_date(s).ok();
    let request = |from, to, locked: Option<Vec<f64>>| ViewRequest {
        filter: Filter {
            from: date(from),
            to: date(to),
            ..Filter::default()
        },
        metric: Metric::Count,
        classification: Classification::NaturalBreaks,
        classes: 5,
        locked_breaks: locked,
        selected: None,
    };
    let summer = compute_view(r.clone(), request("2021-06-01", "2021-08-31", None));
    let autumn_free = compute_view(r.clone(), request("2021-09-01", "2021-11-30", None));
    let autumn_locked = compute_view(
        r.clone(),
        request("2021-09-01", "2021-11-30", Some(summer.breaks.clone())),
    );
    assert_eq!(summer.breaks.len(), 6);
    assert_ne!(summer.breaks, autumn_free.breaks);
    assert_eq!(autumn_locked.breaks, summer.breaks);
}

#[test]
fn a_text_contradicting_the_point_is_counted_and_the_text_wins() {
    // Two square "municipalities" and three appeals: one agrees, one contradicts, one has only
    // its point.
    let dir = tempfile::tempdir().unwrap();
    let geojson = dir.path().join("two.geojson");
    std::fs::write(
        &geojson,
        r#"{"type":"FeatureCollection","features":[
            {"type":"Feature","properties":{"name":"Тюмень"},"geometry":{"type":"Polygon","coordinates":[[[65.0,57.0],[66.0,57.0],[66.0,58.0],[65.0,58.0],[65.0,57.0]]]}},
            {"type":"Feature","properties":{"name":"Тобольск"},"geometry":{"type":"Polygon","coordinates":[[[68.0,58.0],[69.0,58.0],[69.0,59.0],[68.0,59.0],[68.0,58.0]]]}}]}"#,
    )
    .unwrap();
    let (_db_dir, db) = common::contract_db(
        "INSERT INTO appeals (received_at, source, category, status, municipality, lat, lon) VALUES
            ('2021-01-01', 'pos', 'Дороги', 'new', 'Тюмень', 57.5, 65.5),
            ('2021-01-02', 'pos', 'Дороги', 'new', 'Тюмень', 58.5, 68.5),
            ('2021-01-03', 'pos', 'Дороги', 'new', NULL, 58.5, 68.5);",
    );
    let dataset = Arc::new(load_dataset(db.clone(), false).unwrap());
    let boundaries = Boundaries::from_geojson_file(&geojson, None).unwrap();
    let real = resolve(dataset.clone(), Arc::new(BoundarySet::new(boundaries)));
    let unit = |name: &str| {
        teplokarta::spatial::municipalities()
            .iter()
            .position(|m| m.name == name)
            .unwrap() as u32
    };
    assert_eq!(real.resolution.disagreements, 1);
    assert_eq!(
        real.resolution.row_label,
        vec![unit("Тюмень"), unit("Тюмень"), unit("Тобольск")],
        "the text wins; no text → the point"
    );
    assert_eq!(real.resolution.assigned_by_point, 1);
    // The schematic cells are a sketch: no disagreement is claimed against them.
    let schematic = resolve(dataset, Arc::new(BoundarySet::new(Boundaries::schematic())));
    assert_eq!(schematic.resolution.disagreements, 0);
}
