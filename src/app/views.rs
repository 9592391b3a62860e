//! Saved views ("slides") for meetings: a name, the map's extent (centre lon/lat and zoom), the
//! layers and their settings, the filter, the metric and the locked scale. Owns the views file
//! (`*.teplokarta-views.json`: a version and an ordered `views` array), where the working list
//! lives, merging an imported list by name, stepping to the next or previous view, and the
//! eased move of the map from one extent to another. No egui here: the window applies what this
//! module computes.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::analysis::Filter;
use crate::spatial::projection;
use crate::ui::panels::MapSettings;
use crate::ui::problem_panel::ProblemPrefs;

/// The version this build writes and reads.
pub const VIEWS_FILE_VERSION: u32 = 1;

/// The name every views file ends with.
pub const VIEWS_FILE_SUFFIX: &str = ".teplokarta-views.json";

/// Name of the working list in the user's config directory.
pub const WORKING_FILE_NAME: &str = "saved.teplokarta-views.json";

/// How long the map takes to move to a view, seconds.
pub const TRANSITION_S: f64 = 0.6;

/// One saved view.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SavedView {
    pub name: String,
    /// Centre of the map, degrees (WGS 84).
    pub center_lon: f64,
    pub center_lat: f64,
    /// Map zoom (walkers' tile zoom) at 1× type; presentation mode's larger type shows the
    /// same ground by zooming out accordingly.
    pub zoom: f64,
    /// The layers and how they are drawn: metric, classes, locked scale, points, density.
    #[serde(default)]
    pub map: MapSettings,
    /// The problem map's mode and settings.
    #[serde(default)]
    pub problems: ProblemPrefs,
    #[serde(default)]
    pub filter: Filter,
}

/// The file: a version and the views in their order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ViewsFile {
    pub version: u32,
    pub views: Vec<SavedView>,
}

/// A views file that cannot be read or written.
#[derive(Debug, thiserror::Error)]
pub enum ViewsError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("not a Teplokarta views file: {0}")]
    Parse(#[from] serde_json::Error),
    #[error(
        "views file version {found} is newer than this Teplokarta reads ({VIEWS_FILE_VERSION})"
    )]
    Version { found: u32 },
}

/// Where the working list lives: [`WORKING_FILE_NAME`] in Teplokarta's config directory, or
/// the file `TEPLOKARTA_VIEWS` names. `None` when the platform has no home directory.
pub fn views_path() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("TEPLOKARTA_VIEWS").filter(|p| !p.is_empty()) {
        return Some(path.into());
    }
    let dirs = directories::ProjectDirs::from("", "", "teplokarta")?;
    Some(dirs.config_dir().join(WORKING_FILE_NAME))
}

/// The views as the file's JSON text (pretty, for a diff between workstations).
pub fn views_to_json(views: &[SavedView]) -> Result<String, ViewsError> {
    let file = ViewsFile {
        version: VIEWS_FILE_VERSION,
        views: views.to_vec(),
    };
    Ok(serde_json::to_string_pretty(&file)?)
}

/// Parses a views file's text.
pub fn views_from_json(text: &str) -> Result<Vec<SavedView>, ViewsError> {
    let file: ViewsFile = serde_json::from_str(text)?;
    if file.version > VIEWS_FILE_VERSION {
        return Err(ViewsError::Version {
            found: file.version,
        });
    }
    Ok(file.views)
}

/// Reads a views file; a file that does not exist is an empty list.
pub fn load_views(path: &Path) -> Result<Vec<SavedView>, ViewsError> {
    match std::fs::read_to_string(path) {
        Ok(text) => views_from_json(&text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(source) => Err(ViewsError::Io {
            path: path.to_owned(),
            source,
        }),
    }
}

/// Writes a views file (its folder created; written beside and renamed, so a reader never sees
/// half a file).
pub fn save_views(path: &Path, views: &[SavedView]) -> Result<(), ViewsError> {
    let text = views_to_json(views)?;
    let io = |source| ViewsError::Io {
        path: path.to_owned(),
        source,
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    std::fs::write(&tmp, text).map_err(io)?;
    std::fs::rename(&tmp, path).map_err(io)
}

/// Puts `view` in the list: in place of a view of the same name, else at the end. Returns its
/// index.
pub fn upsert_view(views: &mut Vec<SavedView>, view: SavedView) -> usize {
    match views.iter().position(|v| v.name == view.name) {
        Some(i) => {
            if let Some(slot) = views.get_mut(i) {
                *slot = view;
            }
            i
        }
        None => {
            views.push(view);
            views.len() - 1
        }
    }
}

/// Merges an imported list: same-named views are replaced where they stand, new ones appended
/// in the imported order. Returns how many views were imported.
pub fn merge_views(views: &mut Vec<SavedView>, incoming: Vec<SavedView>) -> usize {
    let n = incoming.len();
    for view in incoming {
        upsert_view(views, view);
    }
    n
}

/// The view after `current` (the first when none is current); stays on the last.
pub fn next_index(current: Option<usize>, len: usize) -> Option<usize> {
    if len == 0 {
        return None;
    }
    Some(current.map_or(0, |i| (i + 1).min(len - 1)))
}

/// The view before `current` (the last when none is current); stays on the first.
pub fn prev_index(current: Option<usize>, len: usize) -> Option<usize> {
    if len == 0 {
        return None;
    }
    Some(current.map_or(len - 1, |i| i.min(len - 1).saturating_sub(1)))
}

/// Cubic ease-in-out of `t` in 0..=1.
pub fn ease(t: f64) -> f64 {
    let t = t.clamp(0.0, 1.0);
    if t < 0.5 {
        4.0 * t * t * t
    } else {
        1.0 - (-2.0 * t + 2.0).powi(3) / 2.0
    }
}

/// A map extent: centre and zoom.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Extent {
    pub lon: f64,
    pub lat: f64,
    pub zoom: f64,
}

/// The map moving from one extent to another over [`TRANSITION_S`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Transition {
    pub from: Extent,
    pub to: Extent,
    /// When it started, seconds on the window's clock.
    pub started_s: f64,
}

impl Transition {
    /// The extent at `now_s`, and whether the move is over. The centre moves in Web Mercator
    /// (straight on the screen), the zoom linearly.
    pub fn at(&self, now_s: f64) -> (Extent, bool) {
        let elapsed_s = now_s - self.started_s;
        if elapsed_s >= TRANSITION_S - 1e-9 {
            return (self.to, true);
        }
        let t = (elapsed_s / TRANSITION_S).clamp(0.0, 1.0);
        let k = ease(t);
        let a = projection::mercator_unit_from_lon_lat(self.from.lon, self.from.lat);
        let b = projection::mercator_unit_from_lon_lat(self.to.lon, self.to.lat);
        let (lon, lat) =
            projection::lon_lat_from_mercator_unit(a.0 + (b.0 - a.0) * k, a.1 + (b.1 - a.1) * k);
        let zoom = self.from.zoom + (self.to.zoom - self.from.zoom) * k;
        (Extent { lon, lat, zoom }, false)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    fn view(name: &str, lon: f64) -> SavedView {
        let mut filter = Filter::default();
        filter.categories.insert(format!("cat-{name}"));
        SavedView {
            name: name.to_owned(),
            center_lon: lon,
            center_lat: 57.1,
            zoom: 8.5,
            map: MapSettings::default(),
            problems: ProblemPrefs::default(),
            filter,
        }
    }

    #[test]
    fn a_file_round_trips_and_keeps_the_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub").join("a.teplokarta-views.json");
        assert!(load_views(&path).unwrap().is_empty(), "no file: no views");
        let mut views = vec![view("Б", 65.5), view("А", 66.0)];
        views[1].filter.from = "2021-09-01".parse().ok();
        views[1].map.show_points = false;
        views[1].problems.active = true;
        save_views(&path, &views).unwrap();
        assert_eq!(load_views(&path).unwrap(), views);
        let text = std::fs::read_to_string(&path).unwrap();
        let json: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(json["version"], 1);
        assert_eq!(json["views"][0]["name"], "Б");
        assert_eq!(json["views"][1]["filter"]["from"], "2021-09-01");
    }

    #[test]
    fn merging_replaces_same_named_views_in_place_and_appends_new_ones() {
        let mut views = vec![view("a", 1.0), view("b", 2.0), view("c", 3.0)];
        let n = merge_views(&mut views, vec![view("b", 20.0), view("d", 4.0)]);
        assert_eq!(n, 2);
        let names: Vec<&str> = views.iter().map(|v| v.name.as_str()).collect();
        assert_eq!(names, ["a", "b", "c", "d"]);
        assert_eq!(views[1].center_lon, 20.0);
        assert_eq!(upsert_view(&mut views, view("a", 9.0)), 0);
        assert_eq!(views[0].center_lon, 9.0);
        assert_eq!(upsert_view(&mut views, view("e", 5.0)), 4);
    }

    #[test]
    fn damaged_and_newer_files_are_refused() {
        assert!(matches!(
            views_from_json("{\"views\": 3}"),
            Err(ViewsError::Parse(_))
        ));
        assert!(matches!(
            views_from_json("{\"version\": 99, \"views\": []}"),
            Err(ViewsError::Version { found: 99 })
        ));
        // Fields added later default when missing.
        let old = r#"{"version":1,"views":[{"name":"x","center_lon":65.0,"center_lat":57.0,"zoom":7.0}]}"#;
        let views = views_from_json(old).unwrap();
        assert_eq!(views[0].map, MapSettings::default());
        assert_eq!(views[0].filter, Filter::default());
    }

    #[test]
    fn the_documented_example_reads() {
        let doc = include_str!("../../docs/meetings.md");
        let json = doc
            .split("```json\n")
            .nth(1)
            .and_then(|rest| rest.split("```").next())
            .expect("a JSON example in docs/meetings.md");
        let views = views_from_json(json).unwrap();
        assert_eq!(views.len(), 1);
        let v = &views[0];
        assert_eq!(v.name, "Тюмень и Тюменский район");
        assert!(v.map.density.enabled);
        assert_eq!(
            v.map.density.radius_m,
            MapSettings::default().density.radius_m
        );
        assert_eq!(v.filter.from, "2021-06-01".parse().ok());
        assert!(v.filter.municipalities.contains("Тюмень"));
    }

    #[test]
    fn stepping_stops_at_the_ends() {
        assert_eq!(next_index(None, 0), None);
        assert_eq!(prev_index(None, 0), None);
        assert_eq!(next_index(None, 3), Some(0));
        assert_eq!(next_index(Some(0), 3), Some(1));
        assert_eq!(next_index(Some(2), 3), Some(2));
        assert_eq!(prev_index(None, 3), Some(2));
        assert_eq!(prev_index(Some(2), 3), Some(1));
        assert_eq!(prev_index(Some(0), 3), Some(0));
        // An index left over from a longer list.
        assert_eq!(next_index(Some(7), 3), Some(2));
        assert_eq!(prev_index(Some(7), 3), Some(1));
    }

    #[test]
    fn a_transition_eases_from_one_extent_to_the_other() {
        let from = Extent {
            lon: 60.0,
            lat: 55.0,
            zoom: 6.0,
        };
        let to = Extent {
            lon: 70.0,
            lat: 58.0,
            zoom: 9.0,
        };
        let tr = Transition {
            from,
            to,
            started_s: 10.0,
        };
        let (start, done) = tr.at(10.0);
        assert!(!done);
        assert!((start.lon - 60.0).abs() < 1e-9 && (start.lat - 55.0).abs() < 1e-9);
        let (mid, done) = tr.at(10.0 + TRANSITION_S / 2.0);
        assert!(!done);
        assert!((mid.zoom - 7.5).abs() < 1e-9, "{mid:?}");
        assert!((mid.lon - 65.0).abs() < 1e-6, "{mid:?}");
        assert!(mid.lat > 55.0 && mid.lat < 58.0);
        // Slow at the start: a tenth of the time covers less than a tenth of the way.
        let (early, _) = tr.at(10.0 + TRANSITION_S / 10.0);
        assert!(early.zoom - 6.0 < 0.1 * 3.0, "{early:?}");
        assert_eq!(tr.at(10.0 + TRANSITION_S), (to, true));
        assert_eq!(tr.at(99.0), (to, true));
        assert_eq!(ease(0.0), 0.0);
        assert_eq!(ease(1.0), 1.0);
        assert!((ease(0.5) - 0.5).abs() < 1e-12);
    }
}
