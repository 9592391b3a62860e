//! Pure computations over loaded [`crate::data::Appeals`]: the shared [`Filter`], the
//! resolution of free-text municipality names to the region's units, and grouped counts. Every
//! number the GUI and the CLI show comes from here, so the two always agree — and each count
//! equals what SQL `GROUP BY` gives for the same filter (see `tests/stats_vs_sql.rs`).

mod aggregate;
mod filter;
mod resolve;

pub use aggregate::{Dim, GroupCount, Summary, group_counts, summarize};
pub use filter::{Filter, FilterError};
pub use resolve::MunicipalityResolution;
