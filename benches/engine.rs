//! Benchmarks of the heat-map engine at 132,000 and 1,000,000 appeals from `teplokarta demo`:
//! loading a database into memory, and a filter change → choropleth values + pivot table.
//! Run with `cargo bench --bench engine`; the demo databases are generated once into
//! `target/bench-data/`. Resident memory after loading is printed before the timings.

use std::path::PathBuf;
use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use teplokarta::analysis::{
    Filter, Grid, Kernel, Masks, Metric, Mode, aggregate, breaks, density, metric_values,
    pivot_table,
};
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
        group.finish();
    }
}

criterion_group!(benches, engine);
criterion_main!(benches);
