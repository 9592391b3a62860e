//! Benchmarks of the engine at 132,000 and 1,000,000 appeals from `teplokarta demo`: loading a
//! database into memory, a filter change → choropleth values + pivot table, the density
//! surface (also of the points after a filter change), and the problem map (a profile or filter
//! change with the zones reused, and a change of zoning); and the fast density surface at
//! 5,000,000 appeals; and following a database being written to (the check for changes, the
//! reload of what changed, the municipalities resolved again).
//! Run with `cargo bench --bench engine`; the demo databases are generated once into
//! `target/bench-data/`. Resident memory after loading is printed before the timings.

mod common;

use common::demo;

use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use teplokarta::analysis::problems::{ProblemSettings, ZoneKind};
use teplokarta::analysis::{
    Filter, Grid, Kernel, Masks, Metric, Mode, aggregate, breaks, density, density_mercator,
    mercator_points_from_unit, metric_values, pivot_table,
};
use teplokarta::app::problems::{ProblemRequest, compute_problems};
use teplokarta::app::{
    BoundarySet, ViewRequest, compute_view, load_dataset, reload_dataset, resolve,
};
use teplokarta::data::{AppealStore, ChangeSet, LoadOptions};
use teplokarta::spatial::Boundaries;

fn resident_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// Following a database being written to: on a copy of the demo database, the check that finds
/// nothing changed (the block sums computed again in SQL), and the reload after a commit of 10
/// new appeals and one status change, alone and with the municipalities resolved again.
fn live_reload(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    path: &std::path::Path,
    boundaries: &Arc<BoundarySet>,
) {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let copy = dir.path().join("live.sqlite");
    std::fs::copy(path, &copy).unwrap_or_else(|e| panic!("{e}"));
    let before = load_dataset(copy.clone(), false).unwrap_or_else(|e| panic!("{e}"));
    let store = AppealStore::open(&copy, &LoadOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    let fingerprint = before.fingerprint.clone().unwrap_or_default();
    group.bench_function("live: check a commit that changed no appeal", |b| {
        b.iter(|| {
            store
                .load_changes(&fingerprint)
                .map(|c| matches!(c, ChangeSet::Unchanged))
        })
    });
    let writer = rusqlite::Connection::open(&copy).unwrap_or_else(|e| panic!("{e}"));
    writer
        .execute_batch(
            "INSERT INTO appeals (received_at, source, category, municipality, lat, lon, status)
               SELECT received_at, source, category, municipality, lat, lon, 'new'
               FROM appeals ORDER BY id LIMIT 10;
             UPDATE appeals SET status = 'resolved' WHERE id = (SELECT max(id) / 2 FROM appeals);",
        )
        .unwrap_or_else(|e| panic!("{e}"));
    group.bench_function("live: reload after 10 new appeals + 1 update", |b| {
        b.iter(|| reload_dataset(&before).map(|d| d.map(|d| d.appeals.len())))
    });
    let Ok(Some(after)) = reload_dataset(&before) else {
        panic!("the commit was not seen")
    };
    writer_waits(&copy, &before, None);
    writer_waits(&copy, &before, Some(false));
    writer_waits(&copy, &before, Some(true));
    let after = Arc::new(after);
    group.bench_function("live: resolve the municipalities again", |b| {
        b.iter(|| resolve(after.clone(), boundaries.clone()).columns.len())
    });
}

/// How long a writer using a rollback journal waits while the viewer checks for changes and
/// reloads: a writer thread commits one new appeal every 20 ms (busy timeout 5 s) while the
/// reload (or, for comparison, a full load) runs again and again for 5 s; its slowest commits
/// are printed.
/// `reader`: `None` for the writer alone (the disk's own commit time), `Some(false)` live
/// reloads, `Some(true)` full loads.
fn writer_waits(path: &std::path::Path, before: &teplokarta::app::Dataset, reader: Option<bool>) {
    let setup = rusqlite::Connection::open(path).unwrap_or_else(|e| panic!("{e}"));
    let mode: String = setup
        .query_row("PRAGMA journal_mode=DELETE", [], |r| r.get(0))
        .unwrap_or_else(|e| panic!("{e}"));
    drop(setup);
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let (path, stop) = (path.to_owned(), stop.clone());
        std::thread::spawn(move || {
            let conn = rusqlite::Connection::open(&path).unwrap_or_else(|e| panic!("{e}"));
            conn.busy_timeout(std::time::Duration::from_secs(5))
                .unwrap_or_else(|e| panic!("{e}"));
            let mut waits = Vec::new();
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let t = std::time::Instant::now();
                conn.execute(
                    "INSERT INTO appeals (received_at, source, category, status)
                     VALUES ('2021-12-31T12:00:00', 'pos', 'ЖКХ', 'new')",
                    [],
                )
                .unwrap_or_else(|e| panic!("{e}"));
                waits.push(t.elapsed().as_secs_f64() * 1000.0);
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            waits
        })
    };
    let started = std::time::Instant::now();
    let mut reloads = 0;
    while started.elapsed() < std::time::Duration::from_secs(5) {
        let done = match reader {
            None => {
                std::thread::sleep(std::time::Duration::from_millis(50));
                false
            }
            Some(true) => load_dataset(path.to_owned(), false).is_ok(),
            Some(false) => reload_dataset(before).is_ok(),
        };
        if done {
            reloads += 1;
        }
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut waits = writer.join().unwrap_or_default();
    waits.sort_by(f64::total_cmp);
    let at = |q: f64| {
        waits
            .get(((waits.len() as f64 - 1.0) * q) as usize)
            .copied()
    };
    println!(
        "journal_mode={mode}, {}: {} commits during {reloads} of them; commit time median {:.1} ms, 99th percentile {:.1} ms, max {:.1} ms",
        match reader {
            None => "no reader",
            Some(false) => "live reloads",
            Some(true) => "full loads",
        },
        waits.len(),
        at(0.5).unwrap_or(f64::NAN),
        at(0.99).unwrap_or(f64::NAN),
        at(1.0).unwrap_or(f64::NAN),
    );
}

fn filters() -> Vec<Filter> {
    let date = |s: &str| Filter::parse_date(s).ok();
    vec![
        Filter::default(),
        Filter {
            from: date("2021-09-01"),
            to: date("2021-11-30"),
            ..Filter::default()
        },
        Filter {
            categories: ["ЖКХ".to_owned(), "Дороги".to_owned()].into(),
            sources: ["social".to_owned()].into(),
            ..Filter::default()
        },
    ]
}

fn engine(c: &mut Criterion) {
    let boundaries = Arc::new(BoundarySet::new(Boundaries::schematic()));
    for rows in [132_000_usize, 1_000_000] {
        let path = demo(rows);
        let before = resident_mb();
        let dataset = Arc::new(load_dataset(path.clone(), false).unwrap_or_else(|e| panic!("{e}")));
        let resolved = Arc::new(resolve(dataset, boundaries.clone()));
        let after = resident_mb();
        println!(
            "{rows} appeals: resident memory {after:.0} MB after loading and resolving ({:.0} MB for the data)",
            after - before
        );
        let mut group = c.benchmark_group(format!("{rows}"));
        group.sample_size(10);
        group.bench_function("load from SQLite into memory", |b| {
            b.iter(|| load_dataset(path.clone(), false).map(|d| d.appeals.len()))
        });
        live_reload(&mut group, &path, &boundaries);
        let filters = filters();
        let mut k = 0;
        group.sample_size(30);
        group.bench_function("filter change → choropleth values + pivot", |b| {
            b.iter(|| {
                k = (k + 1) % filters.len();
                let filter = &filters[k];
                let appeals = &resolved.dataset.appeals;
                let masks = Masks::new(filter, appeals, &resolved.resolution, &resolved.columns);
                let a = aggregate(&resolved.columns, &masks);
                let values = metric_values(Metric::Per10k, &a, &resolved.resolution);
                let map: Vec<f64> = resolved
                    .unit_labels
                    .iter()
                    .filter_map(|&l| values[l as usize])
                    .collect();
                let b = breaks(teplokarta::analysis::Classification::NaturalBreaks, &map, 5);
                let pivot =
                    pivot_table(&a, &resolved.resolution, appeals, 8, masks.label.as_deref());
                (b.len(), pivot.total)
            })
        });
        group.bench_function("whole view incl. the filtered points", |b| {
            b.iter(|| {
                k = (k + 1) % filters.len();
                let view = compute_view(
                    resolved.clone(),
                    ViewRequest {
                        filter: filters[k].clone(),
                        metric: Metric::Count,
                        classification: teplokarta::analysis::Classification::Quantiles,
                        classes: 5,
                        locked_breaks: None,
                        selected: Some(0),
                    },
                );
                view.points_unit.len()
            })
        });
        // A comparison of two quarters (the split view and the difference layer), the
        // filter's other settings changing between iterations.
        group.bench_function("compare two quarters (A, B, B − A, one scale)", |b| {
            b.iter(|| {
                k = (k + 1) % filters.len();
                let mut filter = filters[k].clone();
                filter.from = "2021-10-01".parse().ok();
                filter.to = "2021-12-31".parse().ok();
                let c = teplokarta::app::compute_comparison(
                    resolved.clone(),
                    teplokarta::app::CompareRequest {
                        b: ViewRequest {
                            filter,
                            metric: Metric::Per10k,
                            classification: teplokarta::analysis::Classification::Quantiles,
                            classes: 5,
                            locked_breaks: None,
                            selected: None,
                        },
                        a: (
                            jiff::civil::date(2021, 7, 1),
                            jiff::civil::date(2021, 9, 30),
                        ),
                    },
                );
                (c.a.total, c.b.total, c.difference_breaks.len())
            })
        });
        // The density surface of the whole oblast: 1024 × 1024 cells, a 5 km quartic kernel.
        let points = placed_lon_lat(&resolved.dataset.appeals);
        let grid = oblast_grid();
        group.sample_size(10);
        for mode in [Mode::Fast, Mode::Exact] {
            group.bench_function(format!("density 1024² 5 km quartic, {mode:?}"), |b| {
                b.iter(|| density(&points, None, &grid, Kernel::Quartic, 5_000.0, mode).peak())
            });
        }
        // After a filter change the window recomputes the layer from the view's filtered points
        // (unit-square positions) as `DensityRequest::surface_of` does: to Mercator metres, then
        // the fast surface on the same grid with the same kernel. Two filters: the social
        // ЖКХ + Дороги one above (6 % of the appeals) and one category holding most of them
        // (COVID-19, 72 %).
        let covid = Filter {
            categories: ["Коронавирус (COVID-19)".to_owned()].into(),
            ..Filter::default()
        };
        for (name, filter) in [
            ("ЖКХ+Дороги, social", filters[2].clone()),
            ("COVID-19", covid),
        ] {
            let view = compute_view(
                resolved.clone(),
                ViewRequest {
                    filter,
                    metric: Metric::Count,
                    classification: teplokarta::analysis::Classification::Quantiles,
                    classes: 5,
                    locked_breaks: None,
                    selected: None,
                },
            );
            let points_unit = view.points_unit.clone();
            println!(
                "{rows} appeals, filter {name}: {} points",
                points_unit.len()
            );
            group.bench_function(format!("density, Fast, filter change ({name})"), |b| {
                b.iter(|| {
                    let points = mercator_points_from_unit(&points_unit);
                    density_mercator(&points, None, &grid, Kernel::Quartic, 5_000.0, Mode::Fast)
                        .peak()
                })
            });
        }
        // The problem map: a profile or filter change (zones reused), and a zoning change.
        let profiles = teplokarta::analysis::profiles::builtin_profiles();
        let requests: Vec<ProblemRequest> = [
            ("power-outages", false, 0),
            ("roads", false, 1),
            ("power-outages", true, 0),
            ("heating", false, 2),
            ("waste", false, 0),
        ]
        .iter()
        .map(|(id, snt, f)| {
            let profile = profiles
                .iter()
                .find(|p| p.id == *id)
                .cloned()
                .unwrap_or_default();
            ProblemRequest {
                filter: filters[*f].clone(),
                settings: ProblemSettings {
                    profile: if *snt {
                        profile.in_garden_communities()
                    } else {
                        profile
                    },
                    ..ProblemSettings::default()
                },
                zones: ZoneKind::Hexagons,
                cell_km: None,
            }
        })
        .collect();
        for zones in [ZoneKind::Hexagons, ZoneKind::Settlements] {
            let first = ProblemRequest {
                zones,
                ..requests[0].clone()
            };
            let base = compute_problems(resolved.clone(), first.clone(), None).base;
            println!("{rows} appeals, {zones:?}: {} zones", base.zones.len());
            group.sample_size(20);
            group.bench_function(
                format!("problem map, profile or filter change ({zones:?})"),
                |b| {
                    b.iter(|| {
                        k = (k + 1) % requests.len();
                        let request = ProblemRequest {
                            zones,
                            ..requests[k].clone()
                        };
                        compute_problems(resolved.clone(), request, Some(base.clone()))
                            .map
                            .appeals
                    })
                },
            );
            // The worst case: a profile holding most appeals (COVID-19, 72 % of the demo).
            let wide = ProblemRequest {
                zones,
                settings: ProblemSettings {
                    profile: teplokarta::analysis::profiles::Profile {
                        id: "covid".into(),
                        categories: ["Коронавирус (COVID-19)".to_owned()].into(),
                        ..Default::default()
                    },
                    ..ProblemSettings::default()
                },
                ..requests[0].clone()
            };
            group.bench_function(
                format!("problem map, a profile of 72 % of the appeals ({zones:?})"),
                |b| {
                    b.iter(|| {
                        compute_problems(resolved.clone(), wide.clone(), Some(base.clone()))
                            .map
                            .appeals
                    })
                },
            );
            group.sample_size(10);
            group.bench_function(format!("problem map, zoning change ({zones:?})"), |b| {
                b.iter(|| {
                    compute_problems(resolved.clone(), first.clone(), None)
                        .map
                        .appeals
                })
            });
        }
        group.finish();
    }
    // 5,000,000 appeals: the fast density surface only (the demo database is about 2.6 GB; it
    // is generated once, in under a minute).
    let rows = 5_000_000;
    let dataset = load_dataset(demo(rows), false).unwrap_or_else(|e| panic!("{e}"));
    let points = placed_lon_lat(&dataset.appeals);
    drop(dataset);
    let grid = oblast_grid();
    let mut group = c.benchmark_group(format!("{rows}"));
    group.sample_size(10);
    group.bench_function("density 1024² 5 km quartic, Fast", |b| {
        b.iter(|| density(&points, None, &grid, Kernel::Quartic, 5_000.0, Mode::Fast).peak())
    });
    group.finish();
}

/// The whole oblast in 1024 × 1024 cells.
fn oblast_grid() -> Grid {
    Grid::over_lon_lat(64.8, 55.1, 75.2, 60.0, 1024, 1024)
}

/// Longitude and latitude of the appeals placed on the map.
fn placed_lon_lat(appeals: &teplokarta::data::Appeals) -> Vec<(f64, f64)> {
    (0..appeals.len())
        .filter(|&i| appeals.placement[i] == teplokarta::data::Placement::Placed)
        .map(|i| (appeals.lon[i], appeals.lat[i]))
        .collect()
}

criterion_group!(benches, engine);
criterion_main!(benches);
