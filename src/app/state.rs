//! `Persisted`: what the window remembers between runs (eframe storage): the language, the last
//! opened database and boundaries, the map settings, the filter and the open panels. Window size and position are remembered by eframe itself.

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
}
