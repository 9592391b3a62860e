//! The data layer: the appeals database contract (see `docs/data-format.md`), read-only SQLite
//! (and PostgreSQL/PostGIS, `postgres`) loading into in-memory columns behind one interface
//! (`Source`, `source.rs`), the pushdown strategy's grouped queries (`pushdown`), validation into data-quality figures, and the deterministic demo
//! generator. No UI here.

mod demo;
mod error;
pub mod import;
mod model;
pub mod postgres;
pub mod pushdown;
mod schema;
mod source;
mod store;
mod time;

pub use demo::{DemoConfig, DemoSummary, SNT, Snt, SntTrend, default_demo_path, generate_demo};
pub use error::{DataError, DensityLimit};
pub use model::{Appeals, Dict, Placement, Quality, QualitySample, StatusKind};
pub use postgres::{NOTIFY_CHANNEL, PgError, PgOptions, PgStore};
pub use schema::{CREATE_APPEALS_SQL, OPTIONAL_COLUMNS, REQUIRED_COLUMNS};
pub use source::{
    ChangeProbe, ChangeToken, DEFAULT_PUSHDOWN_ABOVE, FIGURES_EVERY, LoadStrategy, Loaded, Source,
    Store, strip_password,
};
pub use store::{AppealStore, BLOCK_SHIFT, BlockSum, ChangeSet, Fingerprint, LoadOptions};
pub use time::{parse_local_date, parse_timestamp};
