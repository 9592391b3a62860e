//! Pure computations over loaded [`crate::data::Appeals`]: the shared [`Filter`], the
//! resolution of municipalities (text, else point-in-polygon, else the unknown bucket), the
//! one-pass engine ([`Columns`], [`Masks`], [`aggregate`]), metrics, class breaks, the pivot
//! table and municipality details. Every number the GUI and the CLI show comes from here, so the
//! two always agree — and each count equals what SQL `GROUP BY` gives for the same filter
//! (`tests/stats.rs`, `tests/heatmap.rs`).

mod aggregate;
mod classify;
pub mod compare;
mod density;
mod details;
mod engine;
pub mod export;
mod filter;
pub mod hotspot;
mod metrics;
mod pivot;
pub mod playback;
pub mod problem_export;
pub mod problems;
pub mod profiles;
mod resolve;

pub use aggregate::{
    Dim, GroupCount, Summary, database_summary, group_counts, group_counts_weighted, summary_of,
};
pub use classify::{Classification, breaks, class_of, quantile_sorted};
pub use density::{
    FAST_SUBDIVISION, FastBinning, Grid, Kernel, Mode, Surface, density, density_fast_binned,
    density_mercator, mercator_points_from_unit,
};
pub use details::{Details, details, week_start};
pub use engine::{Aggregates, Columns, Leaf, Masks, NO_DAY, aggregate, date_of_day, day_number};
pub use filter::{DatePreset, Filter, FilterError};
pub use metrics::{Metric, metric_values, ranks};
pub use pivot::{PivotNames, PivotRow, PivotTable, pivot_table, pivot_value};
pub use resolve::MunicipalityResolution;
