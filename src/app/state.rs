//! `Persisted`: what the window remembers between runs (eframe storage): the language, the last
//! opened database and boundaries, the map settings and basemap, the filter, the open panels and presentation mode's text scale. Window size and position are remembered by eframe itself.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::analysis::Filter;
use crate::ui::Lang;
use crate::ui::panels::MapSettings;

/// Key of the persisted state in eframe's storage.
pub const STORAGE_KEY: &str = "teplokarta-state";

/// State remembered between runs.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Persisted {
    /// Interface language; `None` until chosen (then the system locale decides).
    pub lang: Option<Lang>,
    /// The last database the user opened (not the demo).
    pub last_database: Option<PathBuf>,
    /// The last PostgreSQL source the user opened, always without a password (it wins over
    /// `last_database` when set).
    pub last_source: Option<crate::data::Source>,
    /// The last boundaries file, with its name property.
    pub boundaries: Option<PathBuf>,
    pub name_property: Option<String>,
    /// How the choropleth is drawn.
    pub map: MapSettings,
    /// The last filter.
    pub filter: Filter,
    /// The date preset the period was chosen with: "7 days" is seven days up to today again at
    /// the next start, not the same dates.
    pub date_preset: Option<crate::analysis::DatePreset>,
    /// Whether the municipality × category table is open.
    pub show_pivot: bool,
    /// The problem map's mode and settings.
    pub problems: crate::ui::problem_panel::ProblemPrefs,
    /// The basemap (the built-in map unless chosen otherwise).
    pub basemap: crate::tiles::choice::BasemapChoice,
    /// Size limit of the downloaded-tile cache in MB (`None`: 500).
    pub tile_cache_limit_mb: Option<u64>,
    /// Text scale of presentation mode (`None`: [`crate::ui::theme::PRESENTATION_DEFAULT_SCALE`]).
    pub presentation_scale: Option<f32>,
}

impl Persisted {
    /// The tile cache's size limit in bytes.
    pub fn tile_cache_limit_bytes(&self) -> u64 {
        self.tile_cache_limit_mb
            .map_or(crate::tiles::http::DEFAULT_CACHE_LIMIT_BYTES, |mb| {
                mb.max(1) * 1024 * 1024
            })
    }

    /// The text scale of presentation mode, 1–3.
    pub fn presentation_scale(&self) -> f32 {
        self.presentation_scale
            .filter(|s| s.is_finite())
            .unwrap_or(crate::ui::theme::PRESENTATION_DEFAULT_SCALE)
            .clamp(1.0, 3.0)
    }
}
