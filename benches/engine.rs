//! Benchmarks of the engine at 132,000 and 1,000,000 appeals from `teplokarta demo`: loading a
//! database into memory, a filter change → choropleth values + pivot table, the density
//! surface, and the problem map (a profile or filter change with the zones reused, and a
//! change of zoning).
//! Run with `cargo bench --bench engine`; the demo databases are generated once into
//! `target/bench-data/`. Resident memory after loading is printed before the timings.

use std::path::PathBuf;
use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use teplokarta::analysis::problems::{ProblemSettings, ZoneKind};
use teplokarta::analysis::{
    Filter, Grid, Kernel, Masks, Metric, Mode, aggregate, breaks, density, metric_values,
    pivot_table,
};
use teplokarta::app::problems::{ProblemRequest, compute_problems};
use teplokarta::app::{BoundarySet, ViewRequest, compute_view, load_dataset, resolve};
use teplokarta::data::{DemoConfig, generate_demo};
use teplokarta::spatial::Boundaries;

fn demo(rows: usize) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench-data");
    let path = dir.join(format!("demo-{rows}.sqlite"));
    if !path.is_file() {
        let config = DemoConfig {
            rows,
            ..DemoConfig::default()
        };
        if let Err(err) = generate_demo(&config, &path) {
            panic!(
                "cannot write the benchmark database {}: {err}",
                path.display()
            );
        }
    }
    path
}

fn resident_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
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
        // The density surface of the whole oblast: 1024 × 1024 cells, a 5 km quartic kernel.
        let points: Vec<(f64, f64)> = (0..resolved.dataset.appeals.len())
            .filter(|&i| {
                resolved.dataset.appeals.placement[i] == teplokarta::data::Placement::Placed
            })
            .map(|i| {
                (
                    resolved.dataset.appeals.lon[i],
                    resolved.dataset.appeals.lat[i],
                )
            })
            .collect();
        let grid = Grid::over_lon_lat(64.8, 55.1, 75.2, 60.0, 1024, 1024);
        group.sample_size(10);
        for mode in [Mode::Fast, Mode::Exact] {
            group.bench_function(format!("density 1024² 5 km quartic, {mode:?}"), |b| {
                b.iter(|| density(&points, None, &grid, Kernel::Quartic, 5_000.0, mode).peak())
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
}

criterion_group!(benches, engine);
criterion_main!(benches);
