//! Teplokarta: a desktop GIS viewer for the citizen appeals (обращения граждан) of a regional
//! situation room — the heat map and the problem map of one oblast.
//!
//! # Module map
//!
//! The crate is layered one way; a module only uses the ones listed before it.
//!
//! | module | owns | may use |
//! |---|---|---|
//! | [`spatial`] | the bundled region facts, municipality names and their matching, boundaries (schematic or GeoJSON), Web-Mercator maths | geo, geojson |
//! | [`data`] | the appeals database contract: read-only SQLite loading, validation, data-quality figures, the demo generator | rusqlite, [`spatial`] |
//! | [`analysis`] | the shared filter, municipality resolution, the one-pass engine, metrics, class breaks, pivot and details, the density surface, the problem map (profiles, zones, Gi* hot spots, trends) — the numbers every view and command shows | [`data`], [`spatial`] |
//! | [`layers`] | walkers plugins that draw what `analysis` produced | egui, walkers, `ui::theme` |
//! | [`ui`] | panels, widgets, theme (colours, ramps, fonts) and translations; never runs SQL | egui |
//! | [`app`] | the eframe application: background jobs, commands, persisted state | everything above |
//! | [`raster`] | GeoTIFF and PNG + world-file export of density surfaces | [`analysis`] |
//! | [`cli`] | the headless command line (`check`, `stats`, `demo`, `bench`, `heat`, `problems`) over the same library code | `spatial`, `data`, `analysis`, `app`'s view computation |
//!
//! `spatial`, `data` and `analysis` never import egui, eframe or walkers, so every number can be
//! checked headless.
//!
//! # Failure handling
//!
//! - Bad input (a file that is not SQLite, a missing table or column, an unreadable GeoJSON) is a
//!   [`data::DataError`] or [`spatial::SpatialError`] naming the file and the field; the GUI shows
//!   it and keeps whatever was loaded before, the CLI prints it and exits non-zero.
//! - Rows that are readable but cannot be used fully (coordinates out of range, an unparsable
//!   date, an unknown municipality name) are not errors: they are counted per reason in
//!   [`data::Quality`] and shown in the data-quality line, and they still count in every total
//!   that does not need the unusable field.
//! - Bugs are `debug_assert!`s; there is no `unwrap`/`expect` outside tests.

pub mod analysis;
pub mod app;
pub mod cli;
pub mod data;
pub mod layers;
pub mod raster;
pub mod spatial;
pub mod tiles;
pub mod ui;

/// Version and build stamp shown in the About box and by `teplokarta --version`.
pub mod build_info {
    /// Crate version from Cargo.toml.
    pub const VERSION: &str = env!("CARGO_PKG_VERSION");
    /// Short git hash of the build (or `unknown` outside a git checkout), `-dirty` when modified.
    pub const GIT_HASH: &str = env!("TEPLOKARTA_GIT_HASH");
    /// Build date (UTC, `YYYY-MM-DD`).
    pub const BUILD_DATE: &str = env!("TEPLOKARTA_BUILD_DATE");

    /// One line: `teplokarta 0.1.0 (abc1234, 2026-11-29)`.
    pub fn long_version() -> String {
        format!("teplokarta {VERSION} ({GIT_HASH}, {BUILD_DATE})")
    }
}
