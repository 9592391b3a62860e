//! The eframe application: owns the loaded data, the boundaries, the current view and the map
//! memory, and the background jobs. `logic()` drains finished jobs and starts the next ones
//! (a view is recomputed whenever the filter or the map settings change); `ui()` draws the panels
//! and the map and collects [`Command`]s, applied at the end of the frame. Presentation mode
//! (F5) hides the operator's panels and shows the map with a title, a legend and the sources
//! for a meeting; saved views ([`views`]) are stepped through with the arrow keys.

mod compare;
pub mod export;
mod jobs;
pub mod problems;
pub mod render;
mod state;
pub mod views;

pub use jobs::{
    BoundarySet, CompareRequest, CompareSide, Comparison, Dataset, DensityRequest, DensityResult,
    FilePurpose, HexGridCache, JobError, JobResult, Jobs, Resolved, View, ViewRequest,
    compute_comparison, compute_view, data_stamp_of, density_pushdown, load_dataset,
    load_dataset_with, pooled_breaks, problem_prefilter, problem_rows_and_base_of_grouped,
    problem_rows_and_zones_of_grouped, problem_rows_of_grouped, reload_dataset, resolve,
    settlement_zones_of_grouped,
};
pub use state::{Persisted, STORAGE_KEY};

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context as _;
use walkers::{MapMemory, lon_lat};

use crate::analysis::problems::{ProblemSettings, ZoneKind, ZoneShape};
use crate::analysis::profiles::{
    Profile, merged_profiles, profiles_from_toml, profiles_path, profiles_to_toml,
};
use crate::analysis::{Metric, PivotTable};
use crate::data::DemoConfig;
use crate::layers::{
    BoundaryLayer, DensityLayer, LabelLayer, PointsCache, PointsLayer, PointsLegend,
    ScreenTransform,
};
use crate::layers::{
    ProblemLayer, ScaleBar, ScaleUnits, SettlementLayer, SourceTiles, ZoneDraw, land_shapes,
};
use crate::spatial::{Boundaries, BoundaryKind, GeoBounds, projection};
use crate::tiles::choice::{BasemapChoice, TileCacheSettings};
use crate::ui::filter_panel::{FilterOptions, FilterSearch};
use crate::ui::import_dialog::{ImportDialog, import_dialog_ui};
use crate::ui::panels::{DensityLegend, LegendInput, MapSettings};
use crate::ui::pivot_panel::{PivotState, pivot_names};
use crate::ui::problem_panel::{
    ProblemPanelInput, ProblemPanelState, problem_panel_ui, zone_tooltip,
};
use crate::ui::{
    Command, Lang, details_panel, filter_panel, panels, pivot_panel, problem_panel, theme,
};
use problems::{ProblemRequest, ProblemResult};

/// What to open at start-up.
#[derive(Clone, Debug, Default)]
pub struct Startup {
    /// Database from the command line: a SQLite file or a PostgreSQL table.
    pub database: Option<crate::data::Source>,
    /// Boundaries from the command line.
    pub boundaries: Option<PathBuf>,
    pub name_property: Option<String>,
    /// Language from the command line.
    pub lang: Option<Lang>,
    /// Demo configuration used when no database is given.
    pub demo: DemoConfig,
    /// Ignore what was remembered (tests, screenshots).
    pub fresh: bool,
    /// The problem-profiles file (default: [`profiles_path`]).
    pub profiles_file: Option<PathBuf>,
    /// Basemap from the command line (remembered like a choice in the menu).
    pub basemap: Option<crate::tiles::choice::BasemapChoice>,
    /// Where downloaded tiles are cached (default: the user's cache directory).
    pub tile_cache_dir: Option<PathBuf>,
    /// The saved-views file (default: [`views::views_path`]).
    pub views_file: Option<PathBuf>,
    /// What runs File → Export map… (`None`: the dialog says exports need the binary).
    pub export_runner: Option<export::ExportRunner>,
    /// How a PostgreSQL table is read (grouped in the database above a size).
    pub strategy: crate::data::LoadStrategy,
}

/// Which file dialog is open.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Dialog {
    Database,
    Boundaries,
    /// File → Connect… (PostgreSQL): the URL in `dialog_path`, the table in `dialog_table`.
    Connect,
}

/// The application.
pub struct App {
    persisted: Persisted,
    lang: Lang,
    jobs: Jobs,
    dataset: Option<Arc<Dataset>>,
    boundaries: Option<Arc<BoundarySet>>,
    resolved: Option<Arc<Resolved>>,
    view: Option<View>,
    /// The request the last view job was started for.
    requested: Option<ViewRequest>,
    selected: Option<u32>,
    options: FilterOptions,
    search: FilterSearch,
    pivot_state: PivotState,
    map_memory: MapMemory,
    fit_pending: bool,
    zoom_to: Option<u32>,
    hovered_unit: Option<usize>,
    legend: PointsLegend,
    points_cache: PointsCache,
    view_running: bool,
    view_failed: bool,
    /// The last density surface and its texture (with what the texture was drawn for).
    density: Option<DensityResult>,
    density_texture: Option<(egui::TextureHandle, [u32; 4], u64)>,
    /// The surface the map wants, since when (seconds): started once it stays wanted a moment.
    density_wanted: Option<(DensityRequest, f64)>,
    density_running: bool,
    /// A surface binned in the database that failed (for the view's points): not asked again
    /// until the view or the request changes.
    density_failed: Option<(Arc<Vec<[f64; 2]>>, DensityRequest)>,
    density_generation_drawn: u64,
    errors: Vec<String>,
    notice: Option<String>,
    progress: Option<(u64, String)>,
    /// The load of this dataset generation groups the table in the database (of so many rows).
    grouping: Option<(u64, Option<u64>)>,
    dialog: Option<Dialog>,
    dialog_path: String,
    dialog_name_property: String,
    dialog_table: String,
    show_about: bool,
    label_order: Vec<usize>,
    window_title: String,
    hatch: Option<egui::TextureHandle>,
    demo_config: DemoConfig,
    demo_retried: bool,
    /// The problem map on screen, its request, and whether a newer one is computing.
    problems: Option<Arc<ProblemResult>>,
    problems_requested: Option<ProblemRequest>,
    problems_running: bool,
    problem_panel: ProblemPanelState,
    /// Built-in and user profiles, and the user's own (as in the profiles file).
    profiles: Vec<Profile>,
    user_profiles: Vec<Profile>,
    selected_zone: Option<u32>,
    zoom_to_zone: Option<u32>,
    hovered_zone: Option<u32>,
    /// File → Import…, while open.
    import_dialog: Option<ImportDialog>,
    /// Where the user's problem profiles are kept.
    profiles_file: Option<PathBuf>,
    /// Following the open database: rows when it was opened, the last reload (local time),
    /// and whether a change arrived while a reload was running.
    live: LiveState,
    /// The basemap's tiles (`None`: the built-in map only).
    basemap: Option<SourceTiles>,
    /// The choice the basemap on screen was opened from.
    basemap_in_use: BasemapChoice,
    /// The same source when it is an HTTP one, for its cache.
    basemap_http: Option<Arc<crate::tiles::http::HttpSource>>,
    /// The XYZ template typed in the basemap menu.
    basemap_url_draft: String,
    /// Where downloaded tiles are cached.
    tile_cache_dir: Option<PathBuf>,
    /// Time playback under the map (`None`: off).
    playback: Option<Playback>,
    /// Bounds to zoom the map to on the next frame (a newly opened tile file).
    fit_to: Option<GeoBounds>,
    /// Presentation mode, while on.
    presentation: Option<Presenting>,
    /// The saved views, their file, the one on screen, and the map moving to one.
    views: Vec<views::SavedView>,
    views_file: Option<PathBuf>,
    active_view: Option<usize>,
    transition: Option<views::Transition>,
    /// The name typed in the "save current view" dialog, while it is open.
    save_view_name: Option<String>,
    /// The latest receipt time in the data, with the dataset it was found in (by address).
    latest_received: Option<(usize, Option<jiff::civil::DateTime>)>,
    /// Appeals handed to the points layer on the last frame.
    points_on_map: usize,
    /// A rendered export's title (instead of the saved view's name) and provenance line
    /// (drawn along the bottom in presentation mode); see [`render`].
    export_title: Option<String>,
    export_provenance: Option<String>,
    /// A rendered export's k: problem zones with fewer appeals are not drawn, municipalities
    /// with fewer are hatched as without data; and the legend's line saying so.
    export_k: Option<u64>,
    export_k_note: Option<String>,
    /// The comparison of two periods (split view, difference layer).
    compare: compare::CompareState,
    /// File → Export map…, while open.
    export_dialog: Option<crate::ui::export_dialog::ExportDialog>,
    /// Exports started (numbers their temporary views files).
    exports_started: u64,
    export_runner: Option<export::ExportRunner>,
}

/// What presentation mode changed, to put back when it ends.
#[derive(Clone, Copy, Debug)]
struct Presenting {
    /// The window's zoom factor before.
    zoom_factor_before: f32,
    /// The text scale in use (the map's zoom was lowered by its log2 to show the same ground).
    scale: f32,
    /// The window was full screen already (it stays so on leaving).
    was_fullscreen: bool,
}

/// Time playback: the filtered period in frames, the one on screen, and whether it plays.
#[derive(Clone, Debug)]
pub struct Playback {
    /// First and last day of each frame.
    pub frames: Vec<(jiff::civil::Date, jiff::civil::Date)>,
    pub frame: usize,
    pub playing: bool,
    pub step: crate::analysis::playback::Step,
    pub window: crate::analysis::playback::Window,
    /// When the frame on screen was reached (egui time, seconds).
    shown_at: f64,
    /// The scale the playback locked (pooled over its frames); `None` while it is computed.
    scale: Option<crate::ui::panels::LockedScale>,
}

/// The stale badge: the source does not answer, the data is as of the last good check.
fn stale_text(t: &crate::ui::i18n::Texts, last_ok: Option<jiff::civil::Time>) -> String {
    match last_ok {
        Some(at) => format!(
            "{} ({} {})",
            t.stale_badge,
            t.stale_since,
            at.strftime("%H:%M:%S")
        ),
        None => t.stale_badge.to_owned(),
    }
}

/// Seconds each frame of a playing playback stays on screen (at least until its view arrived).
const PLAYBACK_FRAME_S: f64 = 1.0;

/// What the window shows of a database another process is writing to.
#[derive(Clone, Debug, Default)]
pub struct LiveState {
    /// The source and its row count when the session opened it.
    pub opened: Option<(crate::data::Source, u64)>,
    /// When the data on screen was last reloaded after a change.
    pub updated_at: Option<jiff::civil::Time>,
    /// The source stopped answering: the data on screen is stale; the local time of the last
    /// successful check, if there was one. `None` while it answers.
    pub stale: Option<Option<jiff::civil::Time>>,
    /// A reload is running; another change waits for it.
    reloading: bool,
    changed_meanwhile: bool,
}

impl App {
    /// Creates the app and starts loading what `startup` names (or the last database, or the
    /// demo). `storage` is eframe's, when persistence is available.
    pub fn new(
        ctx: &egui::Context,
        storage: Option<&dyn eframe::Storage>,
        startup: Startup,
    ) -> Self {
        ctx.set_visuals(theme::visuals());
        let persisted: Persisted = if startup.fresh {
            Persisted::default()
        } else {
            storage
                .and_then(|s| eframe::get_value(s, STORAGE_KEY))
                .unwrap_or_default()
        };
        let lang = startup
            .lang
            .or(persisted.lang)
            .unwrap_or_else(Lang::from_system);
        let mut jobs = Jobs::new(ctx.clone());
        jobs.strategy = startup.strategy;
        let mut persisted = persisted;
        if let Some(choice) = &startup.basemap {
            persisted.basemap = choice.clone();
        }
        let persisted_basemap = persisted.basemap.clone();
        let tile_cache_dir = startup
            .tile_cache_dir
            .clone()
            .or_else(crate::tiles::http::default_cache_dir);
        if persisted_basemap != BasemapChoice::BuiltIn {
            jobs.open_basemap(
                persisted_basemap.clone(),
                TileCacheSettings {
                    dir: tile_cache_dir.clone(),
                    limit_bytes: persisted.tile_cache_limit_bytes(),
                },
                startup.basemap.is_some(),
            );
        }

        let (boundaries_path, name_property) = match &startup.boundaries {
            Some(path) => (Some(path.clone()), startup.name_property.clone()),
            None => (
                persisted.boundaries.clone().filter(|p| p.is_file()),
                persisted.name_property.clone(),
            ),
        };
        jobs.load_boundaries(boundaries_path, name_property);
        let database = startup.database.clone().or_else(|| {
            persisted.last_source.clone().or_else(|| {
                persisted
                    .last_database
                    .clone()
                    .filter(|p| p.is_file())
                    .map(crate::data::Source::Sqlite)
            })
        });
        match database {
            Some(source) => jobs.load_database(source),
            None => jobs.load_demo(startup.demo.clone()),
        }
        // The user's problem profiles: a small TOML file read once at start.
        let mut errors = Vec::new();
        let profiles_file = startup.profiles_file.clone().or_else(profiles_path);
        let user_profiles = match profiles_file.clone().filter(|p| p.is_file()) {
            Some(path) => match std::fs::read_to_string(&path)
                .map_err(|e| e.to_string())
                .and_then(|text| profiles_from_toml(&text).map_err(|e| e.to_string()))
            {
                Ok(profiles) => profiles,
                Err(err) => {
                    errors.push(format!("{}: {err}", path.display()));
                    Vec::new()
                }
            },
            None => Vec::new(),
        };
        let profiles = merged_profiles(&user_profiles);
        // The saved views: a small JSON file read once at start.
        let views_file = startup.views_file.clone().or_else(views::views_path);
        let saved_views = match &views_file {
            Some(path) => views::load_views(path).unwrap_or_else(|err| {
                errors.push(format!("{}: {err}", path.display()));
                Vec::new()
            }),
            None => Vec::new(),
        };
        let hatch = Some(ctx.load_texture(
            "no-data-hatch",
            theme::hatch_image(),
            egui::TextureOptions {
                wrap_mode: egui::TextureWrapMode::Repeat,
                ..egui::TextureOptions::LINEAR
            },
        ));
        Self {
            persisted,
            lang,
            jobs,
            dataset: None,
            boundaries: None,
            resolved: None,
            view: None,
            requested: None,
            selected: None,
            options: FilterOptions::default(),
            search: FilterSearch::default(),
            pivot_state: PivotState::default(),
            map_memory: MapMemory::default(),
            fit_pending: true,
            zoom_to: None,
            hovered_unit: None,
            legend: PointsLegend::Nothing,
            points_cache: PointsCache::default(),
            view_running: false,
            view_failed: false,
            density: None,
            density_texture: None,
            density_wanted: None,
            density_running: false,
            density_failed: None,
            density_generation_drawn: 0,
            errors,
            notice: None,
            progress: None,
            grouping: None,
            dialog: None,
            dialog_path: String::new(),
            dialog_table: String::new(),
            dialog_name_property: String::new(),
            show_about: false,
            label_order: Vec::new(),
            window_title: String::new(),
            hatch,
            demo_config: startup.demo,
            demo_retried: false,
            problems: None,
            problems_requested: None,
            problems_running: false,
            problem_panel: ProblemPanelState::default(),
            profiles,
            user_profiles,
            selected_zone: None,
            zoom_to_zone: None,
            hovered_zone: None,
            live: LiveState::default(),
            basemap: None,
            basemap_in_use: BasemapChoice::BuiltIn,
            basemap_http: None,
            basemap_url_draft: match &persisted_basemap {
                BasemapChoice::Url { template } => template.clone(),
                _ => String::new(),
            },
            tile_cache_dir,
            fit_to: None,
            playback: None,
            import_dialog: None,
            profiles_file,
            presentation: None,
            views: saved_views,
            views_file,
            active_view: None,
            transition: None,
            save_view_name: None,
            latest_received: None,
            points_on_map: 0,
            export_title: None,
            export_provenance: None,
            export_k: None,
            export_k_note: None,
            compare: compare::CompareState::default(),
            export_dialog: None,
            exports_started: 0,
            export_runner: startup.export_runner,
        }
    }

    /// The map's zoom (walkers' tile zoom).
    pub fn map_zoom(&self) -> f64 {
        self.map_memory.zoom()
    }

    /// Whether presentation mode is on.
    pub fn presenting(&self) -> bool {
        self.presentation.is_some()
    }

    /// The saved views, in their order.
    pub fn saved_views(&self) -> &[views::SavedView] {
        &self.views
    }

    /// The saved view on screen: the one gone to last, while the filter and the layers are
    /// still its own (moving the map keeps it).
    pub fn active_view(&self) -> Option<usize> {
        self.active_view.filter(|&i| {
            self.views.get(i).is_some_and(|v| {
                v.filter == self.persisted.filter
                    && v.map == self.persisted.map
                    && v.problems == self.persisted.problems
            })
        })
    }

    /// Appeals handed to the points layer on the last frame (none in presentation mode).
    pub fn points_on_map(&self) -> usize {
        self.points_on_map
    }

    /// The title of the map for a meeting: the saved view's name (if one is on screen) and the
    /// filter in words (in problem mode named after the problem profile).
    pub fn title(&self) -> (Option<String>, String) {
        let lang = self.lang;
        let what = if self.persisted.problems.active {
            self.profiles
                .iter()
                .find(|p| p.id == self.persisted.problems.profile_id)
                .or_else(|| self.profiles.first())
                .map(|p| p.display_name(lang == Lang::En).to_owned())
        } else {
            None
        };
        let words =
            crate::ui::describe::filter_in_words(&self.shown_filter(), what.as_deref(), lang);
        let name = self.export_title.clone().or_else(|| {
            self.active_view()
                .and_then(|i| self.views.get(i))
                .map(|v| v.name.clone())
        });
        (name, words)
    }

    /// A rendered export's title (`None`: the saved view's name) and provenance line (`None`:
    /// none drawn), shown in presentation mode.
    pub fn set_export_overlay(&mut self, title: Option<String>, provenance: Option<String>) {
        self.export_title = title;
        self.export_provenance = provenance;
    }

    /// A rendered export's k-anonymity: problem zones with 1..k-1 appeals are not drawn and
    /// such municipalities are hatched as without data (`None`: all shown, as in the window);
    /// `legend_note` is added under the legend.
    pub fn set_export_k(&mut self, k: Option<u64>, legend_note: Option<String>) {
        self.export_k = k;
        self.export_k_note = legend_note;
    }

    /// Shows `filter`, the layers of `map` and the problem map's `problems` (a rendered
    /// export's settings; the extent stays, or is fitted to the data on loading).
    pub fn set_map_state(
        &mut self,
        filter: crate::analysis::Filter,
        map: MapSettings,
        problems: crate::ui::problem_panel::ProblemPrefs,
    ) {
        self.persisted.filter = filter;
        self.persisted.date_preset = None;
        self.persisted.map = map;
        self.persisted.problems = problems;
        self.selected = None;
        self.selected_zone = None;
    }

    /// Whether the map is still moving to a saved view.
    pub fn in_transition(&self) -> bool {
        self.transition.is_some()
    }

    /// The latest receipt time in the loaded data (cached per dataset).
    fn latest_received(&mut self) -> Option<jiff::civil::DateTime> {
        let d = self.dataset.as_ref()?;
        let key = Arc::as_ptr(d) as usize;
        match self.latest_received {
            Some((k, at)) if k == key => at,
            _ => {
                let at = d.appeals.received_range().map(|(_, hi)| hi);
                self.latest_received = Some((key, at));
                at
            }
        }
    }

    /// The map's centre and zoom now (zoom at 1× type).
    fn current_extent(&self) -> views::Extent {
        let center = self.map_memory.detached().unwrap_or(lon_lat(68.5, 57.5));
        views::Extent {
            lon: center.x(),
            lat: center.y(),
            zoom: self.map_memory.zoom(),
        }
    }

    /// How much presentation mode lowers the map's zoom (its text scale's log2).
    fn zoom_offset(&self) -> f64 {
        self.presentation.map_or(0.0, |p| f64::from(p.scale).log2())
    }

    /// Enters or leaves presentation mode.
    fn set_presentation(&mut self, ctx: &egui::Context, on: bool) {
        match (on, self.presentation) {
            (true, None) => {
                let scale = self.persisted.presentation_scale();
                let before = ctx.zoom_factor();
                let was_fullscreen = ctx.input(|i| i.viewport().fullscreen.unwrap_or(false));
                self.presentation = Some(Presenting {
                    zoom_factor_before: before,
                    scale,
                    was_fullscreen,
                });
                ctx.set_zoom_factor(before * scale);
                ctx.send_viewport_cmd(egui::ViewportCommand::Fullscreen(true));
                self.shift_zoom(-f64::from(scale).log2());
            }
            (false, Some(p)) => {
                self.presentation = None;
                ctx.set_zoom_factor(p.zoom_factor_before);
                if !p.was_fullscreen {
                    ctx.send_viewport_cmd(egui::ViewportCommand::Fullscreen(false));
                }
                self.shift_zoom(f64::from(p.scale).log2());
            }
            _ => {}
        }
    }

    /// Changes the map's zoom by `delta` (also the end of a move under way).
    fn shift_zoom(&mut self, delta: f64) {
        if let Some(tr) = &mut self.transition {
            tr.to.zoom += delta;
            tr.from.zoom += delta;
        }
        let zoom = (self.map_memory.zoom() + delta).clamp(0.0, 20.0);
        self.map_memory.set_zoom(zoom).ok();
    }

    /// Goes to saved view `i`: its filter and layers at once, the map moving there smoothly.
    fn go_to_view(&mut self, ctx: &egui::Context, i: usize) {
        let Some(v) = self.views.get(i).cloned() else {
            return;
        };
        self.persisted.filter = v.filter;
        self.persisted.date_preset = None;
        self.persisted.map = v.map;
        self.persisted.problems = v.problems;
        self.selected = None;
        self.selected_zone = None;
        self.fit_pending = false;
        self.fit_to = None;
        self.zoom_to = None;
        self.zoom_to_zone = None;
        let to = views::Extent {
            lon: v.center_lon,
            lat: v.center_lat,
            zoom: (v.zoom - self.zoom_offset()).clamp(0.0, 20.0),
        };
        self.transition = Some(views::Transition {
            from: self.current_extent(),
            to,
            started_s: ctx.input(|input| input.time),
        });
        self.active_view = Some(i);
        ctx.request_repaint();
    }

    /// Writes the saved views to their file.
    fn store_views(&mut self) {
        let Some(path) = &self.views_file else {
            self.errors.push(self.lang.texts().not_given.to_owned());
            return;
        };
        if let Err(err) = views::save_views(path, &self.views) {
            self.errors.push(err.to_string());
        }
    }

    /// The keys of presentation mode: F5 enters; Esc leaves; arrows and Page Up/Down step
    /// through the saved views; + and − zoom; Shift+arrows pan.
    fn presentation_keys(&mut self, ctx: &egui::Context, commands: &mut Vec<Command>) {
        use egui::{Key, Modifiers};
        let dialog_open = self.save_view_name.is_some()
            || self.dialog.is_some()
            || self.import_dialog.is_some()
            || self.show_about;
        if dialog_open {
            return;
        }
        if ctx.input_mut(|i| i.consume_key(Modifiers::NONE, Key::F5)) {
            commands.push(Command::SetPresentation(!self.presenting()));
        }
        if !self.presenting() {
            return;
        }
        let mut pan = [0.0_f64; 2];
        let mut zoom = 0.0_f64;
        ctx.input_mut(|i| {
            for (key, d) in [
                (Key::ArrowLeft, [-1.0, 0.0]),
                (Key::ArrowRight, [1.0, 0.0]),
                (Key::ArrowUp, [0.0, -1.0]),
                (Key::ArrowDown, [0.0, 1.0]),
            ] {
                if i.consume_key(Modifiers::SHIFT, key) {
                    pan = [pan[0] + d[0], pan[1] + d[1]];
                }
            }
            if i.consume_key(Modifiers::NONE, Key::Escape) {
                commands.push(Command::SetPresentation(false));
            }
            for key in [Key::ArrowRight, Key::PageDown] {
                if i.consume_key(Modifiers::NONE, key) {
                    commands.push(Command::StepView(true));
                }
            }
            for key in [Key::ArrowLeft, Key::PageUp] {
                if i.consume_key(Modifiers::NONE, key) {
                    commands.push(Command::StepView(false));
                }
            }
            for key in [Key::Plus, Key::Equals] {
                if i.consume_key(Modifiers::NONE, key) {
                    zoom += 0.5;
                }
            }
            if i.consume_key(Modifiers::NONE, Key::Minus) {
                zoom -= 0.5;
            }
        });
        if zoom != 0.0 {
            self.transition = None;
            self.shift_zoom(zoom);
        }
        if pan != [0.0, 0.0] {
            // A quarter of the window per press.
            self.transition = None;
            let e = self.current_extent();
            let size = ctx.content_rect().size();
            let world_pts = 256.0 * 2_f64.powf(e.zoom);
            let (x, y) = projection::mercator_unit_from_lon_lat(e.lon, e.lat);
            let (lon, lat) = projection::lon_lat_from_mercator_unit(
                x + pan[0] * f64::from(size.x) * 0.25 / world_pts,
                (y + pan[1] * f64::from(size.y) * 0.25 / world_pts).clamp(0.0, 1.0),
            );
            self.map_memory.center_at(lon_lat(lon, lat));
        }
    }

    /// True when no background job is running and the view is up to date.
    pub fn is_idle(&self) -> bool {
        self.jobs.pending == 0
            && self.density_wanted.is_none()
            && self.resolved.is_some() == self.dataset.is_some()
            && self.view_is_current()
            && self.problems_are_current()
            && self.comparison_is_current()
    }

    fn problems_are_current(&self) -> bool {
        match self.problem_request() {
            None => true,
            Some(request) => {
                !self.problems_running && self.problems_requested.as_ref() == Some(&request)
            }
        }
    }

    /// The problem-map request the current settings describe (`None` in heat-map mode or
    /// before a database is resolved).
    fn problem_request(&self) -> Option<ProblemRequest> {
        let prefs = &self.persisted.problems;
        if !prefs.active || self.resolved.is_none() {
            return None;
        }
        let profile = self
            .profiles
            .iter()
            .find(|p| p.id == prefs.profile_id)
            .or_else(|| self.profiles.first())?
            .clone();
        let profile = if prefs.snt {
            profile.in_garden_communities()
        } else {
            profile
        };
        Some(ProblemRequest {
            filter: self.shown_filter(),
            settings: ProblemSettings {
                profile,
                weights: prefs.weights,
                fdr: prefs.fdr,
                slice: prefs.slice,
                incident_window_h: prefs.incident_window_h,
                deadline_days: prefs.deadline_days,
                intervention: prefs.intervention,
                ..ProblemSettings::default()
            },
            zones: prefs.zones,
            cell_km: prefs.cell_km,
        })
    }

    /// The import dialog, while open.
    pub fn import_dialog(&self) -> Option<&ImportDialog> {
        self.import_dialog.as_ref()
    }

    /// The basemap in use: its source's description (`None`: the built-in map).
    pub fn basemap_info(&self) -> Option<&crate::tiles::SourceInfo> {
        self.basemap.as_ref().map(SourceTiles::info)
    }

    /// Downloads the HTTP basemap has attempted so far (`None`: not an HTTP basemap).
    pub fn tile_downloads_attempted(&self) -> Option<u64> {
        self.basemap_http.as_ref().map(|h| h.attempts())
    }

    /// Where the map is centred when the user has moved it or it was fitted (lon, lat).
    pub fn map_center_lon_lat(&self) -> Option<(f64, f64)> {
        self.map_memory.detached().map(|p| (p.x(), p.y()))
    }

    /// The basemap choice remembered for the next start.
    pub fn basemap_choice(&self) -> &BasemapChoice {
        &self.persisted.basemap
    }

    /// Starts opening `choice` as the basemap (the built-in map at once).
    fn open_basemap(&mut self, choice: BasemapChoice, user_opened: bool) {
        self.persisted.basemap = choice.clone();
        let cache = TileCacheSettings {
            dir: self.tile_cache_dir.clone(),
            limit_bytes: self.persisted.tile_cache_limit_bytes(),
        };
        if choice == BasemapChoice::BuiltIn {
            self.jobs.basemap_generation += 1;
            self.use_basemap(choice, None, user_opened);
        } else {
            self.jobs.open_basemap(choice, cache, user_opened);
        }
    }

    /// Puts an opened basemap on the map. A tile file opened by the user whose coverage misses
    /// the data is zoomed to.
    fn use_basemap(
        &mut self,
        choice: BasemapChoice,
        opened: Option<crate::tiles::choice::OpenedBasemap>,
        user_opened: bool,
    ) {
        self.persisted.basemap = choice.clone();
        self.basemap_in_use = choice;
        let Some(opened) = opened else {
            self.basemap = None;
            self.basemap_http = None;
            return;
        };
        let info = opened.source.info().clone();
        let style = if info.format == crate::tiles::TileFormat::Mvt {
            walkers::Style::protomaps_basemap_light()
        } else {
            walkers::Style::default()
        };
        self.basemap = Some(SourceTiles::new(opened.source, self.jobs.ctx(), style));
        self.basemap_http = opened.http;
        if user_opened
            && let Some(b) = info.bounds
            && b != crate::tiles::BoundsLonLat::WORLD
        {
            let tiles = GeoBounds {
                lon_min: b.west_lon,
                lat_min: b.south_lat,
                lon_max: b.east_lon,
                lat_max: b.north_lat,
            };
            let data = self
                .dataset
                .as_ref()
                .and_then(|d| d.bounds)
                .or_else(|| self.boundaries.as_ref().and_then(|b| b.boundaries.bounds()));
            let overlaps = data.is_some_and(|d| {
                d.lon_min <= tiles.lon_max
                    && d.lon_max >= tiles.lon_min
                    && d.lat_min <= tiles.lat_max
                    && d.lat_max >= tiles.lat_min
            });
            if !overlaps {
                self.fit_to = Some(tiles);
            }
        }
    }

    /// What the window knows of changes to the open database by other processes.
    pub fn live(&self) -> &LiveState {
        &self.live
    }

    /// The problem map on screen, if computed.
    pub fn problems(&self) -> Option<&ProblemResult> {
        self.problems.as_deref()
    }

    /// The selected problem zone.
    pub fn selected_zone(&self) -> Option<u32> {
        self.selected_zone
    }

    /// The problem profiles offered (built-in and the user's).
    pub fn profiles(&self) -> &[Profile] {
        &self.profiles
    }

    fn view_is_current(&self) -> bool {
        self.resolved.is_none()
            || (self.view_failed && self.requested.as_ref() == Some(&self.request()))
            || self
                .view
                .as_ref()
                .is_some_and(|v| Some(&v.request) == Some(&self.request()))
    }

    /// The loaded database, if any.
    pub fn dataset(&self) -> Option<&Dataset> {
        self.dataset.as_deref()
    }

    /// The current view (numbers of the filter), if computed.
    pub fn view(&self) -> Option<&View> {
        self.view.as_ref()
    }

    /// The database resolved against the boundaries.
    pub fn resolved(&self) -> Option<&Resolved> {
        self.resolved.as_deref()
    }

    /// Errors shown to the user.
    pub fn errors(&self) -> &[String] {
        &self.errors
    }

    /// The current language.
    pub fn lang(&self) -> Lang {
        self.lang
    }

    /// The loaded boundaries.
    pub fn boundaries(&self) -> Option<&BoundarySet> {
        self.boundaries.as_deref()
    }

    /// The selected municipality label.
    pub fn selected(&self) -> Option<u32> {
        self.selected
    }

    /// The filter being edited (the view follows it).
    pub fn filter_mut(&mut self) -> &mut crate::analysis::Filter {
        &mut self.persisted.filter
    }

    /// The filter the map shows: the user's, or during time playback the same with the
    /// frame's dates.
    pub fn shown_filter(&self) -> crate::analysis::Filter {
        match &self.playback {
            Some(p) => crate::analysis::playback::frame_range(&p.frames, p.frame, p.window)
                .map_or_else(
                    || self.persisted.filter.clone(),
                    |range| crate::analysis::playback::frame_filter(&self.persisted.filter, range),
                ),
            None => self.persisted.filter.clone(),
        }
    }

    /// The time playback, when its bar is open.
    pub fn playback(&self) -> Option<&Playback> {
        self.playback.as_ref()
    }

    /// True once the playback's scale, pooled over all its frames, is computed.
    pub fn playback_scale_ready(&self) -> bool {
        self.playback.as_ref().is_some_and(|p| p.scale.is_some())
    }

    /// The view request the current settings describe.
    fn request(&self) -> ViewRequest {
        let settings = &self.persisted.map;
        ViewRequest {
            filter: self.shown_filter(),
            metric: settings.metric,
            classification: settings.classification,
            classes: settings.classes.clamp(3, 9),
            // A playback keeps one scale, pooled over all its frames.
            locked_breaks: self
                .playback
                .as_ref()
                .and_then(|p| p.scale.as_ref())
                .filter(|l| l.metric == settings.metric && l.breaks.len() >= 2)
                .map(|l| l.breaks.clone())
                .or_else(|| settings.locked_breaks()),
            selected: self.selected,
        }
    }

    /// The period a playback runs over: the filter's dates, else the data's first and last day.
    fn playback_period(&self) -> Option<(jiff::civil::Date, jiff::civil::Date)> {
        let data = self
            .dataset
            .as_ref()
            .and_then(|d| d.appeals.received_range())
            .map(|(a, b)| (a.date(), b.date()));
        let filter = &self.persisted.filter;
        let first = filter.from.or(data.map(|d| d.0))?;
        let last = filter.to.or(data.map(|d| d.1))?;
        (first <= last).then_some((first, last))
    }

    /// Starts (again) a playback of the current period with `step` and `window` at frame 0,
    /// and the job that pools its scale.
    fn start_playback(
        &mut self,
        step: crate::analysis::playback::Step,
        window: crate::analysis::playback::Window,
    ) {
        use crate::analysis::playback::{frame_filter, frame_range, frames};
        let Some((first, last)) = self.playback_period() else {
            self.errors
                .push(self.lang.texts().playback_no_period.to_owned());
            return;
        };
        let frames = frames(first, last, step);
        if let Some(resolved) = self.resolved.clone() {
            let filters = (0..frames.len())
                .filter_map(|i| frame_range(&frames, i, window))
                .map(|range| frame_filter(&self.persisted.filter, range))
                .collect();
            let base = self.request();
            self.jobs.playback_scale(resolved, base, filters);
        }
        self.playback = Some(Playback {
            frames,
            frame: 0,
            playing: false,
            step,
            window,
            shown_at: 0.0,
            scale: None,
        });
    }

    fn apply_playback(&mut self, command: crate::ui::PlaybackCommand) {
        use crate::ui::PlaybackCommand as P;
        match command {
            P::Open => {
                let (step, window) = self
                    .playback
                    .as_ref()
                    .map_or((Default::default(), Default::default()), |p| {
                        (p.step, p.window)
                    });
                self.start_playback(step, window);
            }
            P::Close => self.playback = None,
            P::Play(play) => {
                if let Some(p) = &mut self.playback {
                    // Playing from the last frame starts over.
                    if play && p.frame + 1 >= p.frames.len() {
                        p.frame = 0;
                    }
                    p.playing = play;
                    p.shown_at = 0.0;
                }
            }
            P::Seek(frame) => {
                if let Some(p) = &mut self.playback {
                    p.frame = frame.min(p.frames.len().saturating_sub(1));
                    p.shown_at = 0.0;
                }
            }
            P::Step(step) => {
                let window = self.playback.as_ref().map(|p| p.window).unwrap_or_default();
                self.start_playback(step, window);
            }
            P::Window(window) => {
                let step = self.playback.as_ref().map(|p| p.step).unwrap_or_default();
                self.start_playback(step, window);
            }
        }
    }

    /// Moves a playing playback on once its frame has been on screen long enough and its view
    /// has arrived (a slow computation slows the playback instead of skipping frames).
    fn advance_playback(&mut self, ctx: &egui::Context) {
        let now = ctx.input(|i| i.time);
        let request = self.request();
        let view_ready =
            !self.view_running && self.view.as_ref().is_some_and(|v| v.request == request);
        let Some(p) = &mut self.playback else {
            return;
        };
        if !p.playing || p.scale.is_none() {
            return;
        }
        if view_ready && p.shown_at == 0.0 {
            p.shown_at = now;
        }
        if view_ready && now - p.shown_at >= PLAYBACK_FRAME_S {
            if p.frame + 1 < p.frames.len() {
                p.frame += 1;
                p.shown_at = 0.0;
            } else {
                p.playing = false;
            }
        }
        ctx.request_repaint_after(std::time::Duration::from_millis(100));
    }

    /// Applies finished background jobs and starts the next ones (the `logic` half of a frame).
    pub fn logic_step(&mut self, ctx: &egui::Context) {
        for result in self.jobs.drain() {
            self.apply_result(result);
        }
        self.advance_playback(ctx);
        // Files dropped onto the window.
        let dropped: Vec<PathBuf> = ctx.input(|i| {
            i.raw
                .dropped_files
                .iter()
                .map(|f| f.path().to_path_buf())
                .filter(|p| !p.as_os_str().is_empty())
                .collect()
        });
        for path in dropped {
            let ext = path
                .extension()
                .and_then(|e| e.to_str())
                .unwrap_or("")
                .to_lowercase();
            let command = match ext.as_str() {
                "mbtiles" | "pmtiles" => {
                    Command::SetBasemap(BasemapChoice::File { path, tms: false })
                }
                _ if path.is_dir() => Command::SetBasemap(BasemapChoice::File { path, tms: false }),
                "sqlite" | "sqlite3" | "db" | "db3" => Command::OpenDatabase(path),
                "geojson" | "json" => Command::OpenBoundaries(path, None),
                _ => {
                    self.errors.push(format!(
                        "{}: {}",
                        self.lang.texts().unsupported_file,
                        path.display()
                    ));
                    continue;
                }
            };
            self.apply(ctx, command);
        }
        // A preset stays only while the dates are still the preset's.
        if let Some(preset) = self.persisted.date_preset {
            let today = jiff::Zoned::now().date();
            let range = preset.range(self.options.anchor(today));
            if range
                .map(|r| (Some(r.0), Some(r.1)))
                .unwrap_or((None, None))
                != (self.persisted.filter.from, self.persisted.filter.to)
                && self.resolved.is_some()
            {
                self.persisted.date_preset = None;
            }
        }
        // Start the density surface the map has wanted for a moment (debounced: dragging and
        // zooming keep changing it, so it is computed once the map stands still).
        if let Some((request, since)) = self.density_wanted.clone() {
            let now = ctx.input(|i| i.time);
            if self.density_running {
                // Wait for the running one; a newer request follows.
            } else if now - since >= DENSITY_DEBOUNCE_S {
                if let Some(view) = &self.view {
                    if view.resolved.dataset.is_grouped() {
                        // Grouped rows: binned in the database.
                        self.jobs.compute_density_pushdown(
                            view.resolved.clone(),
                            view.request.filter.clone(),
                            view.points_unit.clone(),
                            request,
                        );
                    } else {
                        self.jobs.compute_density(view.points_unit.clone(), request);
                    }
                    self.density_running = true;
                }
                self.density_wanted = None;
            } else {
                ctx.request_repaint_after(std::time::Duration::from_secs_f64(DENSITY_DEBOUNCE_S));
            }
        }
        // Recompute the problem map when its settings or the filter changed (one job at a
        // time; the latest request follows when it reports).
        if let (Some(resolved), Some(request)) = (&self.resolved, self.problem_request())
            && self.problems_requested.as_ref() != Some(&request)
            && !self.problems_running
        {
            let base = self.problems.as_ref().map(|p| p.base.clone());
            self.jobs
                .compute_problems(resolved.clone(), request.clone(), base);
            self.problems_requested = Some(request);
            self.problems_running = true;
        }
        self.compare_logic(ctx);
        // Recompute the view when the filter or settings changed.
        if let Some(resolved) = &self.resolved {
            let request = self.request();
            // One view job at a time: while one runs, changes only update the request, and the
            // latest one is computed when it reports (no pile of stale jobs while dragging).
            if self.requested.as_ref() != Some(&request) && !self.view_running {
                self.jobs.compute_view(resolved.clone(), request.clone());
                self.requested = Some(request);
                self.view_running = true;
                self.view_failed = false;
            }
        }
    }

    fn apply_result(&mut self, result: JobResult) {
        match result {
            JobResult::Progress { generation, what } => self.progress = Some((generation, what)),
            JobResult::Grouping { generation, rows } => self.grouping = Some((generation, rows)),
            JobResult::Failed { job, message } => {
                if job == "view" {
                    self.view_running = false;
                    self.view_failed = true;
                }
                if job == "problems" {
                    self.problems_running = false;
                }
                self.errors.push(message);
            }
            JobResult::Dataset { generation, result } => {
                if generation != self.jobs.dataset_generation {
                    return;
                }
                self.progress = None;
                self.grouping = None;
                self.live.reloading = false;
                match result {
                    Ok(dataset)
                        if dataset.live_reload
                            || self
                                .dataset
                                .as_ref()
                                .is_some_and(|d| Arc::ptr_eq(d, &dataset)) =>
                    {
                        // The same database with what another process wrote: keep the map,
                        // the selection and the table's order. (The very same `Arc`: the
                        // commit changed nothing the viewer reads.)
                        self.live.updated_at = Some(jiff::Zoned::now().time());
                        let unchanged = self
                            .dataset
                            .as_ref()
                            .is_some_and(|d| Arc::ptr_eq(d, &dataset));
                        self.dataset = Some(dataset.clone());
                        if let Some(b) = &self.boundaries
                            && !unchanged
                        {
                            self.jobs.resolve(dataset, b.clone());
                        }
                        if std::mem::take(&mut self.live.changed_meanwhile)
                            && let Some(d) = &self.dataset
                        {
                            self.live.reloading = true;
                            self.jobs.reload_database(d.clone());
                        }
                    }
                    Ok(dataset) => {
                        if !dataset.is_demo {
                            // Never a password in what is remembered.
                            match &dataset.source {
                                crate::data::Source::Sqlite(path) => {
                                    self.persisted.last_database = Some(path.clone());
                                    self.persisted.last_source = None;
                                }
                                source => {
                                    self.persisted.last_source = Some(source.without_password());
                                }
                            }
                        }
                        self.live = LiveState {
                            opened: Some((dataset.source.clone(), dataset.appeal_count())),
                            ..LiveState::default()
                        };
                        self.jobs
                            .watch_database(dataset.source.clone(), dataset.change_token.clone());
                        self.dataset = Some(dataset.clone());
                        self.selected = None;
                        // Category codes belong to a database: sort the new one by total.
                        self.pivot_state.sort = crate::ui::pivot_panel::SortKey::Total;
                        self.fit_pending = true;
                        if let Some(b) = &self.boundaries {
                            self.jobs.resolve(dataset, b.clone());
                        }
                    }
                    Err(err) => {
                        // A damaged cached demo is written anew once.
                        let demo_failed = generation == self.jobs.demo_generation
                            && self.dataset.is_none()
                            && !self.demo_retried;
                        if demo_failed
                            && let Some(path) = crate::data::default_demo_path(&self.demo_config)
                            && path.is_file()
                            && std::fs::remove_file(&path).is_ok()
                        {
                            self.demo_retried = true;
                            self.jobs.load_demo(self.demo_config.clone());
                            return;
                        }
                        self.errors.push(job_error_text(self.lang, &err));
                    }
                }
            }
            JobResult::Boundaries { generation, result } => {
                if generation != self.jobs.boundaries_generation {
                    return;
                }
                match result {
                    Ok(set) => {
                        (self.persisted.boundaries, self.persisted.name_property) =
                            match &set.boundaries.kind {
                                BoundaryKind::Schematic => (None, None),
                                BoundaryKind::File {
                                    path,
                                    name_property,
                                } => (Some(path.clone()), Some(name_property.clone())),
                            };
                        self.label_order = (0..set.geometry.units.len()).collect();
                        sort_labels_by_population(&set, &mut self.label_order);
                        self.boundaries = Some(set.clone());
                        if let Some(d) = &self.dataset {
                            self.jobs.resolve(d.clone(), set);
                        } else {
                            self.fit_pending = true;
                        }
                    }
                    Err(err) => {
                        self.errors.push(job_error_text(self.lang, &err));
                        if self.boundaries.is_none() {
                            // Remembered boundaries that no longer load: fall back to the schematic.
                            self.jobs.load_boundaries(None, None);
                        }
                    }
                }
            }
            JobResult::Resolved {
                generation,
                resolved,
            } => {
                if generation != self.jobs.resolved_generation {
                    return;
                }
                self.options = filter_options(&resolved);
                // Keep the selection by name: label codes change with the boundaries.
                let selected_name = self
                    .selected
                    .zip(self.resolved.as_ref())
                    .map(|(l, r)| r.resolution.label(l).to_owned());
                self.selected = selected_name.and_then(|name| {
                    resolved
                        .resolution
                        .labels
                        .iter()
                        .position(|l| *l == name)
                        .map(|i| i as u32)
                });
                // A remembered preset is re-anchored to today (or the data's last day).
                if let Some(preset) = self.persisted.date_preset {
                    let today = jiff::Zoned::now().date();
                    let range = preset.range(self.options.anchor(today));
                    self.persisted.filter.from = range.map(|r| r.0);
                    self.persisted.filter.to = range.map(|r| r.1);
                }
                self.resolved = Some(resolved);
                self.requested = None;
            }
            JobResult::Density { generation, result } => {
                self.density_running = false;
                if generation == self.jobs.density_generation {
                    self.density = Some(*result);
                    self.density_generation_drawn = generation;
                }
            }
            JobResult::DensityFailed {
                generation,
                request,
                error,
            } => {
                self.density_running = false;
                if generation == self.jobs.density_generation
                    && let Some(view) = &self.view
                {
                    self.density_failed = Some((view.points_unit.clone(), request));
                    self.errors.push(job_error_text(self.lang, &error));
                }
            }
            JobResult::Comparison { generation, result } => {
                self.apply_comparison(generation, result);
            }
            JobResult::CompareDensity { generation, result } => {
                self.apply_compare_density(generation, result);
            }
            JobResult::CompareDensityFailed {
                generation,
                request,
                error,
            } => {
                self.apply_compare_density_failed(generation, request, &error);
            }
            JobResult::View { generation, view } => {
                self.view_running = false;
                if generation == self.jobs.view_generation {
                    self.view = Some(*view);
                }
            }
            JobResult::ImportPreview(result) => {
                if let Some(d) = &mut self.import_dialog {
                    match result {
                        Ok(preview) => {
                            d.mapping = preview.mapping.clone();
                            d.preview = Some(*preview);
                            d.preview_error = None;
                        }
                        Err(err) => {
                            d.preview = None;
                            d.preview_error = Some(err);
                        }
                    }
                }
            }
            JobResult::ImportProgress(p) => {
                if let Some(d) = &mut self.import_dialog {
                    d.progress = Some(p);
                }
            }
            JobResult::Imported(result) => {
                if let Some(d) = &mut self.import_dialog {
                    d.running = false;
                    d.result = Some(result.map(|s| *s));
                }
            }
            JobResult::SourceHealth {
                watch,
                source,
                reachable,
                last_ok,
            } => {
                let current = self
                    .jobs
                    .watch_generation
                    .load(std::sync::atomic::Ordering::SeqCst);
                if watch == current && self.dataset.as_ref().is_some_and(|d| d.source == source) {
                    self.live.stale = (!reachable).then_some(last_ok);
                }
            }
            JobResult::DatabaseChanged { watch, source } => {
                let current = self
                    .jobs
                    .watch_generation
                    .load(std::sync::atomic::Ordering::SeqCst);
                let open = self.dataset.clone().filter(|d| d.source == source);
                if watch == current
                    && let Some(open) = open
                {
                    if self.live.reloading {
                        self.live.changed_meanwhile = true;
                    } else {
                        self.live.reloading = true;
                        self.jobs.reload_database(open);
                    }
                }
            }
            JobResult::Problems { generation, result } => {
                self.problems_running = false;
                if generation == self.jobs.problems_generation {
                    // Zone numbers belong to a zoning: a new zoning clears the selection.
                    let same_zoning = self
                        .problems
                        .as_ref()
                        .is_some_and(|p| Arc::ptr_eq(&p.base, &result.base));
                    if !same_zoning {
                        self.selected_zone = None;
                    }
                    self.problems = Some(Arc::new(*result));
                }
            }
            JobResult::ProblemsFailed { generation, error } => {
                self.problems_running = false;
                if generation == self.jobs.problems_generation {
                    self.problems = None;
                    self.errors.push(job_error_text(self.lang, &error));
                }
            }
            JobResult::Basemap {
                generation,
                choice,
                user_opened,
                result,
            } => {
                if generation != self.jobs.basemap_generation {
                    return;
                }
                match result {
                    Ok(opened) => self.use_basemap(choice, opened, user_opened),
                    // The basemap in use stays; the menu shows it again.
                    Err(err) => {
                        self.errors.push(err);
                        self.persisted.basemap = self.basemap_in_use.clone();
                    }
                }
            }
            JobResult::PlaybackScale {
                generation,
                metric,
                breaks,
            } => {
                if generation == self.jobs.playback_generation
                    && let Some(p) = &mut self.playback
                {
                    p.scale = Some(crate::ui::panels::LockedScale { metric, breaks });
                }
            }
            JobResult::TileCacheCleared(result) => match result {
                Ok(bytes) => {
                    self.notice = Some(format!(
                        "{} {:.1} MB",
                        self.lang.texts().tile_cache_cleared,
                        bytes as f64 / (1024.0 * 1024.0)
                    ));
                }
                Err(err) => self.errors.push(err),
            },
            JobResult::Picked(purpose, Some(path)) => match purpose {
                FilePurpose::ExportMap(_) => {
                    if let Some(d) = &mut self.export_dialog {
                        d.path = path.display().to_string();
                    }
                }
                FilePurpose::OpenTileFile => {
                    self.open_basemap(BasemapChoice::File { path, tms: false }, true);
                }
                FilePurpose::OpenTileFolder(tms) => {
                    self.open_basemap(BasemapChoice::File { path, tms }, true);
                }
                FilePurpose::ImportInputs => {
                    if let Some(d) = &mut self.import_dialog {
                        if !d.inputs.trim().is_empty() {
                            d.inputs.push('\n');
                        }
                        d.inputs.push_str(&path.display().to_string());
                    }
                }
                FilePurpose::ImportTarget => {
                    if let Some(d) = &mut self.import_dialog {
                        d.target = path.display().to_string();
                    }
                }
                FilePurpose::SaveProblems => {
                    if let Some(result) = &self.problems {
                        self.jobs.export_problems(
                            result.clone(),
                            self.lang.problem_texts().near,
                            path,
                        );
                    }
                }
                FilePurpose::SavePivotCsv => {
                    if let Some(pivot) = self.view.as_ref().map(|v| &v.pivot) {
                        let bytes =
                            pivot.to_csv(self.pivot_state.per_capita, &pivot_names(self.lang));
                        self.jobs.save_file(path, bytes);
                    }
                }
                FilePurpose::ExportViews => match views::views_to_json(&self.views) {
                    Ok(text) => self.jobs.save_file(path, text.into_bytes()),
                    Err(err) => self.errors.push(err.to_string()),
                },
                FilePurpose::ImportViews => match views::load_views(&path) {
                    Ok(incoming) => {
                        let n = views::merge_views(&mut self.views, incoming);
                        self.store_views();
                        self.notice = Some(format!("{}: {n}", self.lang.texts().views_imported));
                    }
                    Err(err) => self.errors.push(format!("{}: {err}", path.display())),
                },
                FilePurpose::SaveHeat => {
                    // The appeals the surface on screen was computed from (the view may
                    // already be newer while its surface is still computing).
                    if let Some(d) = &self.density {
                        let s = &self.persisted.map.density;
                        let colour = (self.density_max(), s.threshold, s.opacity, s.ramp);
                        self.jobs
                            .export_heat(d.points.clone(), d.request.clone(), colour, path);
                    }
                }
                _ => self.dialog_path = path.display().to_string(),
            },
            JobResult::Picked(_, None) => {}
            JobResult::Saved(Ok(path)) => {
                self.notice = Some(format!("{}: {}", self.lang.texts().saved, path.display()));
            }
            JobResult::Saved(Err(err)) => self.errors.push(err),
            JobResult::Exported(result) => match &mut self.export_dialog {
                Some(d) => {
                    d.running = false;
                    d.result = Some(result);
                }
                None => match result {
                    Ok(text) => self.notice = Some(text),
                    Err(err) => self.errors.push(err),
                },
            },
        }
    }

    /// Draws the window (the `ui` half of a frame) and applies the commands it collected.
    pub fn ui_root(&mut self, ui: &mut egui::Ui) {
        let lang = self.lang;
        let t = lang.texts();
        let mut commands = Vec::new();
        self.presentation_keys(&ui.ctx().clone(), &mut commands);
        let presenting = self.presenting();
        let busy = !self.is_idle();
        let status = match (&self.progress, &self.dataset) {
            (Some((generation, _)), _) if *generation == self.jobs.dataset_generation && busy => {
                t.generating_demo.to_owned()
            }
            _ if busy
                && let Some((generation, rows)) = self.grouping
                && generation == self.jobs.dataset_generation =>
            {
                match rows {
                    Some(rows) => format!(
                        "{} ({} {})…",
                        t.grouping_in_database,
                        lang.number(rows),
                        t.appeals_unit
                    ),
                    None => format!("{}…", t.grouping_in_database),
                }
            }
            (_, _) if busy && self.dataset.is_none() => t.loading.to_owned(),
            (_, Some(d)) => {
                let name = d.source.short_name();
                let mut live = match (&self.live.opened, self.live.updated_at) {
                    (Some((source, rows)), Some(at)) if *source == d.source => format!(
                        " · {} {} · +{} {}",
                        t.live_updated,
                        at.strftime("%H:%M:%S"),
                        lang.number(d.appeal_count().saturating_sub(*rows)),
                        t.live_new
                    ),
                    _ => String::new(),
                };
                if self.live.stale.is_some() {
                    // The badge over the map says what and since when.
                    live.push_str(" · ⚠");
                }
                if d.is_grouped() {
                    // Say that the numbers come from the database's GROUP BY, not loaded rows.
                    live.push_str(&format!(
                        " · {}: {} {}",
                        t.grouped_in_database,
                        lang.number(d.appeals.len() as u64),
                        t.groups
                    ));
                }
                if d.is_demo {
                    format!("{} · {name}{live}", t.demo_badge)
                } else {
                    format!("{name}{live}")
                }
            }
            (_, None) => t.no_data.to_owned(),
        };
        let views_menu = panels::ViewsMenu {
            names: self.views.iter().map(|v| v.name.as_str()).collect(),
            active: self.active_view(),
            presentation_scale: self.persisted.presentation_scale(),
        };
        if !presenting {
            egui::Panel::top("top_bar").show(ui, |ui| {
                panels::top_bar_ui(
                    ui,
                    lang,
                    &status,
                    busy,
                    self.persisted.show_pivot,
                    self.persisted.problems.active,
                    self.persisted.map.compare.mode,
                    panels::BasemapMenu {
                        choice: &self.persisted.basemap,
                        url_draft: &mut self.basemap_url_draft,
                        cache_limit_mb: self.persisted.tile_cache_limit_bytes() / (1024 * 1024),
                        cache_bytes: self.basemap_http.as_ref().map(|h| h.cache_size_bytes()),
                    },
                    views_menu,
                    &mut commands,
                );
            });
        }

        let today = jiff::Zoned::now().date();
        if !presenting {
            egui::Panel::left("side_panel")
                .resizable(true)
                .default_size(340.0)
                .show(ui, |ui| {
                    egui::ScrollArea::vertical()
                        .id_salt("side_scroll")
                        .auto_shrink([false, false])
                        .show(ui, |ui| {
                            if self.resolved.is_some() {
                                filter_panel::filter_panel_ui(
                                    ui,
                                    lang,
                                    &mut self.persisted.filter,
                                    &mut self.persisted.date_preset,
                                    &self.options,
                                    &mut self.search,
                                    today,
                                );
                                ui.separator();
                            }
                            match &self.view {
                                Some(view) => {
                                    let dataset = &view.resolved.dataset;
                                    panels::side_panel_ui(
                                        ui,
                                        lang,
                                        &view.summary,
                                        &view.resolved.boundaries.boundaries,
                                        dataset
                                            .is_grouped()
                                            .then_some(dataset.appeals.len() as u64),
                                    );
                                }
                                _ => {
                                    ui.add_space(12.0);
                                    if busy {
                                        ui.spinner();
                                        ui.label(if self.progress.is_some() {
                                            t.generating_demo
                                        } else {
                                            t.loading
                                        });
                                    } else {
                                        ui.label(t.no_data);
                                    }
                                }
                            }
                        });
                });
        }

        if !presenting && self.persisted.problems.active {
            let user_ids: std::collections::BTreeSet<String> =
                self.user_profiles.iter().map(|p| p.id.clone()).collect();
            let result = self.problems.clone();
            let input = ProblemPanelInput {
                profiles: &self.profiles,
                user_ids: &user_ids,
                map: result
                    .as_deref()
                    .map(|r| (&r.map, &r.base.zones, r.zone_rows.as_slice())),
                appeals: result.as_deref().map(|r| &r.base.resolved.dataset.appeals),
                busy: self.problems_running,
                tree: &self.options.tree,
                municipalities: &self.options.municipalities,
                selected_zone: self.selected_zone,
            };
            egui::Panel::right("problem_panel")
                .resizable(true)
                .default_size(560.0)
                .show(ui, |ui| {
                    problem_panel_ui(
                        ui,
                        lang,
                        &mut self.persisted.problems,
                        &mut self.problem_panel,
                        &input,
                        &mut commands,
                    );
                });
        } else if !presenting
            && let (Some(label), Some(view)) = (self.selected, &self.view)
            && let resolved = &view.resolved
            && let Some(details) = view.details.as_ref().filter(|d| d.label == label)
        {
            egui::Panel::right("details_panel")
                .resizable(true)
                .default_size(380.0)
                .show(ui, |ui| {
                    details_panel::details_panel_ui(
                        ui,
                        lang,
                        resolved.resolution.label(label),
                        details,
                        &resolved.dataset.appeals,
                        resolved.dataset.is_grouped(),
                        &mut commands,
                    );
                });
        }

        if let Some(p) = &self.playback {
            let dates = crate::analysis::playback::frame_range(&p.frames, p.frame, p.window)
                .map(|(a, b)| crate::ui::describe::period_in_words(Some(a), Some(b), lang))
                .unwrap_or_default();
            let bar = crate::ui::playback_bar::PlaybackBar {
                frames: p.frames.len(),
                frame: p.frame,
                playing: p.playing,
                step: p.step,
                window: p.window,
                dates,
                scale_pending: p.scale.is_none(),
            };
            egui::Panel::bottom("playback_bar").show(ui, |ui| {
                crate::ui::playback_bar::playback_bar_ui(ui, lang, &bar, &mut commands);
            });
        }
        if !presenting
            && self.persisted.show_pivot
            && let Some(pivot) = self.view.as_ref().map(|v| &v.pivot)
        {
            egui::Panel::bottom("pivot_panel")
                .resizable(true)
                .default_size(260.0)
                .show(ui, |ui| {
                    pivot_panel::pivot_panel_ui(
                        ui,
                        lang,
                        pivot,
                        &mut self.pivot_state,
                        self.selected,
                        &mut commands,
                    );
                });
        }

        if presenting && let Some(line) = &self.export_provenance {
            egui::Panel::bottom("export_provenance")
                .frame(
                    egui::Frame::new()
                        .fill(theme::PRESENTATION_BAR_FILL)
                        .inner_margin(egui::Margin::symmetric(12, 4)),
                )
                .show(ui, |ui| {
                    ui.add(
                        egui::Label::new(
                            egui::RichText::new(line)
                                .size(theme::PRESENTATION_NOTE_SIZE)
                                .color(theme::PRESENTATION_NOTE_TEXT),
                        )
                        .wrap(),
                    );
                });
        }
        egui::CentralPanel::no_frame().show(ui, |ui| {
            if !presenting && !self.persisted.filter.is_empty() {
                egui::Frame::new()
                    .inner_margin(4.0)
                    .fill(theme::OVERLAY_FILL)
                    .show(ui, |ui| {
                        ui.set_min_width(ui.available_width());
                        filter_panel::chips_ui(ui, lang, &mut self.persisted.filter, &self.options);
                    });
            }
            let comparing = self.comparing();
            if !presenting
                && !self.persisted.problems.active
                && self.playback.is_none()
                && self.persisted.map.compare.mode != crate::analysis::compare::CompareMode::Off
            {
                let periods = self.compare_request().map(|r| {
                    (
                        r.a,
                        (
                            r.b.filter.from.unwrap_or_default(),
                            r.b.filter.to.unwrap_or_default(),
                        ),
                    )
                });
                let busy = comparing && !self.comparison_is_current();
                egui::Frame::new()
                    .inner_margin(4.0)
                    .fill(theme::OVERLAY_FILL)
                    .show(ui, |ui| {
                        ui.set_min_width(ui.available_width());
                        crate::ui::compare::compare_bar_ui(
                            ui,
                            lang,
                            &mut self.persisted.map.compare,
                            periods,
                            busy,
                            &mut commands,
                        );
                    });
            }
            if comparing {
                self.compare_ui(ui, &mut commands);
            } else {
                self.map_ui(ui, &mut commands);
            }
        });

        let ctx = ui.ctx().clone();
        if presenting {
            let (name, words) = self.title();
            let position = self.active_view().map(|i| (i + 1, self.views.len()));
            crate::ui::presentation::title_bar_ui(
                &ctx,
                ctx.content_rect(),
                lang,
                &crate::ui::presentation::TitleBar {
                    name: name.as_deref(),
                    words: &words,
                    position,
                    closable: self.export_provenance.is_none(),
                },
                &mut commands,
            );
        }
        if self.save_view_name.is_some() {
            let (_, words) = self.title();
            let existing: Vec<&str> = self.views.iter().map(|v| v.name.as_str()).collect();
            let name = self.save_view_name.get_or_insert_default();
            crate::ui::presentation::save_view_dialog_ui(
                &ctx,
                lang,
                name,
                &words,
                &existing,
                &mut commands,
            );
        }
        match self.dialog {
            Some(Dialog::Database) => {
                panels::open_dialog_ui(
                    &ctx,
                    lang,
                    t.open_database,
                    &mut self.dialog_path,
                    None,
                    &mut commands,
                    |path, _| Command::OpenDatabase(path),
                );
            }
            Some(Dialog::Connect) => {
                panels::connect_dialog_ui(
                    &ctx,
                    lang,
                    &mut self.dialog_path,
                    &mut self.dialog_table,
                    &mut commands,
                );
            }
            Some(Dialog::Boundaries) => {
                panels::open_dialog_ui(
                    &ctx,
                    lang,
                    t.open_boundaries,
                    &mut self.dialog_path,
                    Some(&mut self.dialog_name_property),
                    &mut commands,
                    Command::OpenBoundaries,
                );
            }
            None => {}
        }
        if self.show_about {
            panels::about_ui(&ctx, lang, &mut commands);
        }
        if let Some(dialog) = &mut self.import_dialog {
            import_dialog_ui(&ctx, lang, dialog, &mut commands);
        }
        if let Some(dialog) = &mut self.export_dialog {
            crate::ui::export_dialog::export_dialog_ui(&ctx, lang, dialog, &mut commands);
        }
        for command in commands {
            self.apply(&ctx, command);
        }
    }

    /// Fill colour of each boundary unit, the class counts and the "no data" count.
    fn choropleth(
        &self,
    ) -> (
        Vec<Option<egui::Color32>>,
        Vec<egui::Color32>,
        Vec<usize>,
        usize,
    ) {
        let Some(view) = &self.view else {
            return (Vec::new(), Vec::new(), Vec::new(), 0);
        };
        let colors = theme::class_colors(&view.breaks, view.request.metric.is_diverging());
        let (fills, counts, no_data) = compare::class_fills(
            &view.resolved.unit_labels,
            &view.values,
            &view.in_filter,
            &view.breaks,
            &colors,
            |label| {
                self.export_k.is_some_and(|k| {
                    let n = view.aggregates.by_label.get(label as usize).copied();
                    crate::analysis::export::discloses(n.unwrap_or(0), k)
                })
            },
        );
        (fills, colors, counts, no_data)
    }

    /// Moves the map to what was asked for since the last frame (a zone, a municipality, new
    /// bounds, the data at start), and along a transition to a saved view.
    fn move_map_to_targets(
        &mut self,
        ctx: &egui::Context,
        rect: egui::Rect,
        boundary_set: &BoundarySet,
    ) {
        if rect.width() > 50.0 {
            let target = if let Some(zone) = self.zoom_to_zone.take() {
                self.problems.as_deref().and_then(|p| zone_bounds(p, zone))
            } else if let Some(label) = self.zoom_to.take() {
                unit_bounds(
                    &boundary_set.boundaries,
                    self.view.as_ref().map(|v| &*v.resolved),
                    label,
                )
            } else if let Some(bounds) = self.fit_to.take() {
                Some(bounds)
            } else if self.fit_pending {
                self.fit_pending = false;
                fit_bounds(self.dataset.as_deref(), &boundary_set.boundaries)
            } else {
                None
            };
            if let Some(b) = target {
                let zoom = b.zoom_to_fit(f64::from(rect.width()), f64::from(rect.height()), 24.0);
                let (lon, lat) = b.center();
                self.map_memory.center_at(lon_lat(lon, lat));
                self.map_memory.set_zoom(zoom).ok();
            }
        }
        // The map moving to a saved view.
        if let Some(tr) = self.transition {
            let (e, done) = tr.at(ctx.input(|i| i.time));
            self.map_memory.center_at(lon_lat(e.lon, e.lat));
            self.map_memory.set_zoom(e.zoom).ok();
            if done {
                self.transition = None;
            } else {
                ctx.request_repaint();
            }
        }
    }

    fn map_ui(&mut self, ui: &mut egui::Ui, commands: &mut Vec<Command>) {
        let rect = ui.available_rect_before_wrap();
        // Draw the boundaries the view was computed for, so fills and polygons match.
        let boundary_set = match (&self.view, &self.boundaries) {
            (Some(view), _) => view.resolved.boundaries.clone(),
            (None, Some(b)) => b.clone(),
            (None, None) => {
                ui.centered_and_justified(|ui| ui.spinner());
                return;
            }
        };
        let view_resolved = self.view.as_ref().map(|v| v.resolved.clone());
        self.move_map_to_targets(ui.ctx(), rect, &boundary_set);
        // Presentation mode shows aggregates only: no individual appeals, no selection.
        let presenting = self.presentation.is_some();
        let problem_mode = self.persisted.problems.active;
        let (fills, colors, class_counts, no_data) = self.choropleth();
        let fills = if problem_mode {
            problem_fills(
                self.problems.as_deref(),
                view_resolved.as_deref(),
                fills.len(),
            )
        } else {
            fills
        };
        let selected_units: Vec<usize> = match (self.selected, &view_resolved) {
            (Some(label), Some(r)) => r
                .unit_labels
                .iter()
                .enumerate()
                .filter(|(_, l)| **l == label)
                .map(|(i, _)| i)
                .collect(),
            _ => Vec::new(),
        };
        let center = self.map_memory.detached().unwrap_or(lon_lat(68.5, 57.5));
        let empty: [[f64; 2]; 0] = [];
        let show_points = self.persisted.map.show_points && !problem_mode && !presenting;
        let mut points = PointsLayer {
            points_unit: match &self.view {
                // Grouped rows hold no points of appeals with a municipality text.
                Some(v) if show_points && !v.resolved.dataset.is_grouped() => &v.points_unit,
                _ => &empty[..],
            },
            cache: &mut self.points_cache,
            legend: PointsLegend::Nothing,
        };
        self.points_on_map = points.points_unit.len();
        let geometry = &boundary_set.geometry;
        let mut hovered = None;
        let mut clicked = false;
        let density_settings_enabled = self.persisted.map.density.enabled && !problem_mode;
        // The built-in map's land goes under the tiles: it shows where a tile is missing.
        // An unreachable server with nothing cached draws as the built-in map, fully.
        let over_tiles = self
            .basemap
            .as_ref()
            .is_some_and(|b| b.online() || b.loaded() > 0);
        let land_slot = over_tiles.then(|| ui.painter().add(egui::Shape::Noop));
        // The built-in map's settlements (a tile basemap has its own place names). Towns that
        // are municipalities of their own already have the municipality's label.
        let settlements: Vec<crate::spatial::SettlementFact> = crate::spatial::settlements()
            .iter()
            .filter(|s| !over_tiles && !geometry.units.iter().any(|u| u.name == s.name))
            .copied()
            .collect();
        let tiles = self.basemap.as_mut().map(|b| b as &mut dyn walkers::Tiles);
        let map = walkers::Map::new(tiles, &mut self.map_memory, center)
            .zoom_with_ctrl(false)
            .with_plugin(BoundaryLayer {
                geometry,
                fills: &fills,
                hatch: self.hatch.as_ref().map(egui::TextureHandle::id),
                hovered: self.hovered_unit,
                selected: &selected_units,
                fill_opacity: if density_settings_enabled {
                    theme::FILL_UNDER_DENSITY
                } else {
                    1.0
                },
                over_tiles,
            })
            .with_plugin(SettlementLayer {
                settlements: &settlements,
            })
            .with_plugin(&mut points);
        let mut density_settings = self.persisted.map.density.clone();
        density_settings.enabled &= !problem_mode;
        let map = match (&self.density, &self.density_texture) {
            (Some(d), Some((texture, _, _))) if density_settings.enabled => {
                map.with_plugin(DensityLayer {
                    texture,
                    grid: d.request.grid,
                })
            }
            _ => map,
        };
        let problems = self.problems.clone();
        let no_draws: [ZoneDraw; 0] = [];
        // A rendered export leaves out the zones under k (as its tables do).
        let draws_over_k: Option<Vec<ZoneDraw>> = match (&problems, self.export_k) {
            (Some(p), Some(k)) if problem_mode => Some(
                p.draws
                    .iter()
                    .filter(|d| {
                        let n = p.zone_rows.get(d.zone() as usize).map_or(0, Vec::len);
                        !crate::analysis::export::discloses(n as u64, k)
                    })
                    .cloned()
                    .collect(),
            ),
            _ => None,
        };
        let mut problem_layer = ProblemLayer {
            zones: match (&problems, &draws_over_k) {
                (_, Some(kept)) => &kept[..],
                (Some(p), None) if problem_mode => &p.draws,
                _ => &no_draws[..],
            },
            selected: self.selected_zone,
            hovered: None,
        };
        let map = map.with_plugin(LabelLayer {
            geometry,
            label_order: &self.label_order,
        });
        let map = map.with_plugin(&mut problem_layer);
        let lang = self.lang;
        let t = lang.texts();
        let map = map.with_plugin(ScaleBar {
            units: ScaleUnits {
                metres: t.scale_m,
                kilometres: t.scale_km,
            },
            corner: egui::Align2::RIGHT_BOTTOM,
        });
        let view = self.view.as_ref();
        let resolved = view_resolved.as_deref();
        let density = self.density.as_ref();
        let mut wanted_grid = None;
        let mut map_response = None;
        map.show(ui, |ui, response, projector, _memory| {
            map_response = Some(response.clone());
            if let Some(slot) = land_slot {
                ui.painter()
                    .set(slot, egui::Shape::Vec(land_shapes(geometry, projector)));
            }
            let transform = ScreenTransform::new(projector);
            if density_settings.enabled {
                // Ground metres per screen point at the centre, for a radius in pixels.
                let center = projector.clip_rect().center();
                let (_, y) = projection::mercator_m_from_unit(transform.to_unit(center));
                let ground_m_per_px = projection::WORLD_M
                    * projection::ground_scale_at_mercator_y_m(y)
                    / transform.px_per_unit();
                wanted_grid = Some((
                    density_grid(&transform, projector.clip_rect()),
                    ground_m_per_px,
                ));
            }
            if let Some(pos) = response.hover_pos() {
                hovered = geometry.unit_at(transform.to_unit(pos));
                if let Some(unit) = hovered
                    .filter(|_| !problem_mode)
                    .and_then(|i| geometry.units.get(i))
                {
                    let text = match (
                        view,
                        resolved,
                        hovered.and_then(|i| resolved?.unit_labels.get(i)),
                    ) {
                        (Some(v), Some(r), Some(&label)) => {
                            tooltip_text(lang, v, r, label, &unit.name)
                        }
                        _ => unit.name.clone(),
                    };
                    let text = match (density_settings.enabled, density, view) {
                        (true, Some(d), Some(v)) => {
                            format!(
                                "{text}\n{}",
                                density_hover_text(
                                    lang,
                                    d,
                                    &v.points_unit,
                                    transform.to_unit(pos),
                                    d.request.radius_m
                                )
                            )
                        }
                        _ => text,
                    };
                    response.clone().on_hover_text_at_pointer(text);
                }
            }
            clicked = response.clicked() && !presenting;
        });
        self.hovered_unit = hovered;
        self.legend = points.legend;
        if problem_mode {
            // The zone under the pointer: the layer's, or the municipality's own zone.
            let zone = match &problems {
                Some(p) if p.request.zones == ZoneKind::Municipalities => {
                    hovered.and_then(|i| view_resolved.as_ref()?.unit_labels.get(i).copied())
                }
                Some(_) => problem_layer.hovered,
                None => None,
            };
            self.hovered_zone = zone;
            if let (Some(zone), Some(p), Some(response)) = (zone, &problems, &map_response) {
                response.clone().on_hover_text_at_pointer(zone_tooltip(
                    lang,
                    &p.map,
                    &p.base.zones,
                    zone,
                ));
            }
            if clicked {
                commands.push(Command::SelectZone(if zone == self.selected_zone {
                    None
                } else {
                    zone
                }));
            }
            clicked = false;
        }
        if let Some((grid, ground_m_per_px)) = wanted_grid {
            self.want_density(grid, ground_m_per_px, ui.ctx().input(|i| i.time));
        }
        self.update_density_texture(ui.ctx());
        if clicked {
            let label = hovered.and_then(|i| view_resolved.as_ref()?.unit_labels.get(i).copied());
            commands.push(Command::Select(if label == self.selected {
                None
            } else {
                label
            }));
        }

        let note = boundary_note(lang, &boundary_set.boundaries);
        let breaks = self
            .view
            .as_ref()
            .map(|v| v.breaks.clone())
            .unwrap_or_default();
        let density_max = self.density_max();
        let input = LegendInput {
            breaks: &breaks,
            colors: &colors,
            class_counts: &class_counts,
            no_data,
            points: self.legend,
            boundary_note: &note,
            change_needs_range: self.persisted.map.metric == Metric::Change
                && (self.persisted.filter.from.is_none() || self.persisted.filter.to.is_none()),
            density: self.persisted.map.density.enabled.then(|| DensityLegend {
                max: self.density_max(),
                busy: self.density_running || self.density_wanted.is_some(),
            }),
            change_outside_data: self.persisted.map.metric == Metric::Change
                && self.persisted.filter.from.is_some()
                && self.persisted.filter.to.is_some()
                && self
                    .view
                    .as_ref()
                    .is_some_and(|v| !v.aggregates.previous_complete),
            grouped: self.grouped(),
        };
        let mut notes = if presenting {
            self.presentation_notes(&note)
        } else {
            Vec::new()
        };
        notes.extend(self.export_k_note.clone().filter(|_| presenting));
        let mut settings: MapSettings = self.persisted.map.clone();
        egui::Area::new(egui::Id::unique("map_legend"))
            .anchor(egui::Align2::LEFT_BOTTOM, egui::vec2(8.0, -8.0))
            .order(egui::Order::Foreground)
            .constrain_to(rect)
            .show(ui.ctx(), |ui| match &problems {
                _ if presenting => crate::ui::presentation::legend_ui(
                    ui,
                    lang,
                    &crate::ui::presentation::Legend {
                        metric: settings.metric,
                        breaks: &breaks,
                        colors: &colors,
                        class_counts: &class_counts,
                        no_data,
                        density: density_settings
                            .enabled
                            .then_some((density_max, density_settings.ramp)),
                        problems: problems.as_deref().filter(|_| problem_mode).map(|p| &p.map),
                        notes: &notes,
                    },
                ),
                Some(p) if problem_mode => {
                    egui::Frame::new()
                        .fill(theme::OVERLAY_FILL)
                        .inner_margin(8.0)
                        .corner_radius(4.0)
                        .show(ui, |ui| {
                            problem_panel::problem_legend_ui(ui, lang, &p.map);
                            ui.label(egui::RichText::new(&note).small().weak());
                        });
                }
                _ => panels::map_legend_ui(ui, lang, &input, &mut settings),
            });
        self.persisted.map = settings;
        self.map_overlays_ui(ui, rect, false, commands);
    }

    /// The credits of the basemap (when it has any) and of the built-in map's facts.
    fn credits(&self) -> Vec<String> {
        let mut credits: Vec<String> = self
            .basemap
            .as_ref()
            .map(|b| b.info().attribution.clone())
            .filter(|a| !a.trim().is_empty())
            .into_iter()
            .collect();
        credits.push(self.lang.texts().builtin_attribution.to_owned());
        credits
    }

    /// What lies over every map: the credits of the basemap and the built-in map (unless the
    /// legend carries them: `credits_in_legend`), the offline badge, and the errors and notices.
    fn map_overlays_ui(
        &mut self,
        ui: &mut egui::Ui,
        rect: egui::Rect,
        credits_in_legend: bool,
        commands: &mut Vec<Command>,
    ) {
        let lang = self.lang;
        let t = lang.texts();
        let presenting = self.presentation.is_some();
        let basemap_attribution = self
            .basemap
            .as_ref()
            .map(|b| b.info().attribution.clone())
            .filter(|a| !a.trim().is_empty());
        let basemap_online = self.basemap.as_ref().is_none_or(SourceTiles::online);
        // Credits of the basemap and of the built-in map's facts, above the scale bar.
        if !credits_in_legend {
            egui::Area::new(egui::Id::unique("map_attribution"))
                .anchor(egui::Align2::RIGHT_BOTTOM, egui::vec2(-8.0, -44.0))
                .order(egui::Order::Foreground)
                .constrain_to(rect)
                .show(ui.ctx(), |ui| {
                    egui::Frame::new()
                        .fill(theme::OVERLAY_FILL)
                        .inner_margin(egui::Margin::symmetric(4, 1))
                        .corner_radius(2.0)
                        .show(ui, |ui| {
                            ui.set_max_width(rect.width() * 0.6);
                            ui.with_layout(
                                egui::Layout::right_to_left(egui::Align::Center),
                                |ui| {
                                    if let Some(a) = &basemap_attribution {
                                        ui.label(egui::RichText::new(a).small());
                                        ui.label(egui::RichText::new("·").small().weak());
                                    }
                                    ui.label(
                                        egui::RichText::new(t.builtin_attribution).small().weak(),
                                    );
                                },
                            );
                        });
                });
        }
        if !basemap_online {
            // In presentation mode the title bar is at the top: the badge goes above the credits.
            let (corner, offset) = if presenting {
                (egui::Align2::RIGHT_BOTTOM, egui::vec2(-8.0, -72.0))
            } else {
                (egui::Align2::RIGHT_TOP, egui::vec2(-8.0, 8.0))
            };
            badge_ui(
                ui.ctx(),
                "map_offline",
                rect,
                (corner, offset),
                egui::RichText::new(t.offline),
            );
        }
        if let Some(last_ok) = self.live.stale {
            // The source stopped answering: what is on the map is as of the last good check.
            let (corner, offset) = if presenting {
                (egui::Align2::CENTER_BOTTOM, egui::vec2(0.0, -40.0))
            } else {
                (egui::Align2::CENTER_TOP, egui::vec2(0.0, 8.0))
            };
            badge_ui(
                ui.ctx(),
                "source_stale",
                rect,
                (corner, offset),
                egui::RichText::new(stale_text(t, last_ok)).strong(),
            );
        }
        if !self.errors.is_empty() || self.notice.is_some() {
            let area =
                egui::Area::new(egui::Id::unique("map_errors")).order(egui::Order::Foreground);
            // In presentation mode the title bar is at the top: errors go to the bottom.
            let area = if presenting {
                area.anchor(egui::Align2::CENTER_BOTTOM, egui::vec2(0.0, -8.0))
            } else {
                area.fixed_pos(rect.min + egui::vec2(8.0, 8.0))
            };
            area.show(ui.ctx(), |ui| {
                ui.set_max_width(rect.width() - 16.0);
                panels::errors_ui(ui, lang, &self.errors, commands);
                if let Some(notice) = &self.notice {
                    ui.horizontal(|ui| {
                        ui.label(notice);
                        if ui.small_button(t.dismiss).clicked() {
                            commands.push(Command::DismissNotice);
                        }
                    });
                }
            });
        }
    }

    /// The lines under the legend in presentation mode: the data's timestamp (and the last live
    /// update), the boundaries' and the basemap's source.
    fn presentation_notes(&mut self, boundary_note: &str) -> Vec<String> {
        let lang = self.lang;
        let t = lang.texts();
        let mut notes = Vec::new();
        if let Some(at) = self.latest_received() {
            let mut line = format!(
                "{} {} {}",
                t.data_as_of,
                lang.date(at.date()),
                at.strftime("%H:%M")
            );
            if let Some(updated) = self.live.updated_at {
                line.push_str(&format!(
                    " · {} {}",
                    t.live_updated,
                    updated.strftime("%H:%M:%S")
                ));
            }
            notes.push(line);
        }
        notes.push(boundary_note.to_owned());
        let basemap = self
            .basemap
            .as_ref()
            .map_or(t.basemap_builtin_short.to_owned(), |b| {
                b.info().name.clone()
            });
        notes.push(format!("{}: {basemap}", t.basemap_source));
        notes
    }

    /// Writes the user's profiles (off the UI thread) and refreshes the merged list.
    fn save_profiles(&mut self) {
        self.profiles = merged_profiles(&self.user_profiles);
        if !self
            .profiles
            .iter()
            .any(|p| p.id == self.persisted.problems.profile_id)
            && let Some(first) = self.profiles.first()
        {
            self.persisted.problems.profile_id = first.id.clone();
        }
        match (
            self.profiles_file.clone(),
            profiles_to_toml(&self.user_profiles),
        ) {
            (Some(path), Ok(text)) => {
                if let Some(dir) = path.parent() {
                    std::fs::create_dir_all(dir).ok();
                }
                self.jobs.save_file(path, text.into_bytes());
            }
            (None, _) => self.errors.push(self.lang.texts().not_given.to_owned()),
            (_, Err(err)) => self.errors.push(err.to_string()),
        }
    }

    /// Applies one command.
    pub fn apply(&mut self, ctx: &egui::Context, command: Command) {
        let t = self.lang.texts();
        match command {
            Command::ShowOpenDatabase => {
                self.dialog = Some(Dialog::Database);
                self.dialog_path.clear();
            }
            Command::ShowConnect => {
                self.dialog = Some(Dialog::Connect);
                // The last PostgreSQL source (without its password) as a starting point.
                match &self.persisted.last_source {
                    Some(crate::data::Source::Postgres { url, table }) => {
                        self.dialog_path = url.clone();
                        self.dialog_table = table.clone().unwrap_or_default();
                    }
                    _ => {
                        self.dialog_path.clear();
                        self.dialog_table.clear();
                    }
                }
            }
            Command::Connect { url, table } => {
                self.dialog = None;
                self.jobs
                    .load_database(crate::data::Source::parse(&url, table.as_deref()));
            }
            Command::ShowOpenBoundaries => {
                self.dialog = Some(Dialog::Boundaries);
                self.dialog_path.clear();
            }
            Command::BrowseForFile => match self.dialog {
                Some(Dialog::Database) => self.jobs.pick_file(
                    FilePurpose::OpenDatabase,
                    t.open_database.to_owned(),
                    "SQLite",
                    &["sqlite", "sqlite3", "db", "db3"],
                ),
                Some(Dialog::Connect) => {}
                Some(Dialog::Boundaries) => self.jobs.pick_file(
                    FilePurpose::OpenBoundaries,
                    t.open_boundaries.to_owned(),
                    "GeoJSON",
                    &["geojson", "json"],
                ),
                None => {}
            },
            Command::OpenDatabase(path) => {
                self.dialog = None;
                self.jobs.load_database(path);
            }
            Command::OpenBoundaries(path, name_property) => {
                self.dialog = None;
                self.jobs.load_boundaries(Some(path), name_property);
            }
            Command::UseSchematicBoundaries => self.jobs.load_boundaries(None, None),
            Command::OpenDemo => {
                self.persisted.last_database = None;
                self.persisted.last_source = None;
                self.jobs.load_demo(self.demo_config.clone());
            }
            Command::FitToData => self.fit_pending = true,
            Command::Select(label) => self.selected = label,
            Command::ZoomTo(label) => self.zoom_to = Some(label),
            Command::ShowPivot(show) => self.persisted.show_pivot = show,
            Command::Playback(command) => self.apply_playback(command),
            Command::SetCompare(mode) => {
                if self.persisted.map.compare.mode != mode {
                    // Two half-width maps, or one whole one: the data fitted to them again.
                    self.fit_pending = true;
                }
                self.persisted.map.compare.mode = mode;
                if mode != crate::analysis::compare::CompareMode::Off {
                    // A comparison is of the heat map, with the filter's period as B.
                    self.playback = None;
                    if self.persisted.problems.active {
                        self.apply(ctx, Command::SetProblemMode(false));
                    }
                }
            }
            Command::ExportHeat => {
                if self.density.is_some() {
                    self.jobs.pick_file(
                        FilePurpose::SaveHeat,
                        t.export_heat.to_owned(),
                        "GeoTIFF / PNG",
                        &["tif", "tiff", "png"],
                    );
                } else {
                    self.notice = Some(t.export_heat_needs_layer.to_owned());
                }
            }
            Command::ExportPivotCsv => self.jobs.pick_file(
                FilePurpose::SavePivotCsv,
                t.export_csv.to_owned(),
                "CSV",
                &["csv"],
            ),
            Command::CopyPivot => {
                if let Some(pivot) = self.view.as_ref().map(|v| &v.pivot) {
                    ctx.copy_text(
                        pivot.to_tsv(self.pivot_state.per_capita, &pivot_names(self.lang)),
                    );
                    self.notice = Some(t.copied.to_owned());
                }
            }
            Command::SetBasemap(choice) => self.open_basemap(choice, true),
            Command::PickTileFile => self.jobs.pick_file(
                FilePurpose::OpenTileFile,
                t.basemap_open_file.to_owned(),
                "MBTiles, PMTiles",
                &["mbtiles", "pmtiles"],
            ),
            Command::PickTileFolder(tms) => self.jobs.pick_file(
                FilePurpose::OpenTileFolder(tms),
                t.basemap_open_folder.to_owned(),
                "",
                &[],
            ),
            Command::SetTileCacheLimitMb(mb) => {
                // Applies to the HTTP basemap opened next (the cache in use keeps its limit
                // until then).
                self.persisted.tile_cache_limit_mb = Some(mb.max(1));
            }
            Command::ClearTileCache => {
                if let Some(http) = &self.basemap_http {
                    self.jobs.clear_tile_cache(http.clone());
                }
            }
            Command::SetLang(lang) => {
                self.lang = lang;
                self.persisted.lang = Some(lang);
            }
            Command::ShowAbout(show) => self.show_about = show,
            Command::SetPresentation(on) => self.set_presentation(ctx, on),
            Command::SetPresentationScale(scale) => {
                let was = self.presenting();
                self.set_presentation(ctx, false);
                self.persisted.presentation_scale = Some(scale);
                self.set_presentation(ctx, was);
            }
            Command::ShowSaveView => self.save_view_name = Some(String::new()),
            Command::CloseSaveView => self.save_view_name = None,
            Command::SaveView(name) => {
                self.save_view_name = None;
                let extent = self.current_extent();
                let view = views::SavedView {
                    name,
                    center_lon: extent.lon,
                    center_lat: extent.lat,
                    zoom: extent.zoom + self.zoom_offset(),
                    map: self.persisted.map.clone(),
                    problems: self.persisted.problems.clone(),
                    filter: self.persisted.filter.clone(),
                };
                self.active_view = Some(views::upsert_view(&mut self.views, view));
                self.store_views();
            }
            Command::GoToView(i) => self.go_to_view(ctx, i),
            Command::StepView(forward) => {
                let len = self.views.len();
                let current = self.active_view();
                let next = if forward {
                    views::next_index(current, len)
                } else {
                    views::prev_index(current, len)
                };
                if let Some(i) = next.filter(|&i| Some(i) != current) {
                    self.go_to_view(ctx, i);
                }
            }
            Command::DeleteView(i) => {
                if i < self.views.len() {
                    self.views.remove(i);
                    self.active_view = match self.active_view {
                        Some(a) if a == i => None,
                        Some(a) if a > i => Some(a - 1),
                        other => other,
                    };
                    self.store_views();
                }
            }
            Command::ExportViews => self.jobs.pick_file(
                FilePurpose::ExportViews,
                t.export_views.to_owned(),
                "Teplokarta views (JSON)",
                &["json"],
            ),
            Command::ImportViews => self.jobs.pick_file(
                FilePurpose::ImportViews,
                t.import_views.to_owned(),
                "Teplokarta views (JSON)",
                &["json"],
            ),
            Command::DismissError(i) => {
                if i < self.errors.len() {
                    self.errors.remove(i);
                }
            }
            Command::DismissNotice => self.notice = None,
            Command::CloseDialog => self.dialog = None,
            Command::Quit => ctx.send_viewport_cmd(egui::ViewportCommand::Close),
            Command::SetProblemMode(on) => {
                self.persisted.problems.active = on;
                if on {
                    self.selected = None;
                }
            }
            Command::SelectZone(zone) => self.selected_zone = zone,
            Command::ShowExport => {
                if self.export_dialog.is_none() {
                    let dir = directories::UserDirs::new()
                        .and_then(|d| d.document_dir().map(std::path::Path::to_path_buf))
                        .or_else(|| std::env::current_dir().ok())
                        .unwrap_or_default();
                    let mut dialog = crate::ui::export_dialog::ExportDialog::new(
                        &dir,
                        jiff::Zoned::now().date(),
                    );
                    dialog.loads_rows = self
                        .dataset
                        .as_ref()
                        .filter(|d| d.is_grouped())
                        .map(|d| d.appeal_count());
                    self.export_dialog = Some(dialog);
                }
            }
            Command::CloseExport => self.export_dialog = None,
            Command::BrowseExport => {
                if let Some(d) = &self.export_dialog {
                    use crate::ui::export_dialog::ExportFormat as F;
                    let ext: &'static [&'static str] = match d.format {
                        F::Png => &["png"],
                        F::Pdf => &["pdf"],
                        F::Gif => &["gif"],
                        F::Csv => &["csv"],
                        F::GeoJson => &["geojson"],
                    };
                    self.jobs.pick_file(
                        FilePurpose::ExportMap(d.format.extension()),
                        self.lang.texts().export_map_menu.to_owned(),
                        d.format.extension(),
                        ext,
                    );
                }
            }
            Command::StartExport => self.start_export(),
            Command::ShowImport => {
                if self.import_dialog.is_none() {
                    self.import_dialog = Some(ImportDialog::default());
                }
            }
            Command::CloseImport => {
                if !self.import_dialog.as_ref().is_some_and(|d| d.running) {
                    self.import_dialog = None;
                }
            }
            Command::ImportBrowse(target) => {
                if target {
                    self.jobs.pick_file(
                        FilePurpose::ImportTarget,
                        t.import_target.to_owned(),
                        "SQLite",
                        &["sqlite", "sqlite3", "db", "db3"],
                    );
                } else {
                    self.jobs.pick_file(
                        FilePurpose::ImportInputs,
                        t.import_files.to_owned(),
                        "CSV / Excel / GeoJSON",
                        &[
                            "csv", "txt", "tsv", "xlsx", "xlsm", "xls", "ods", "geojson", "json",
                        ],
                    );
                }
            }
            Command::ImportPreview => {
                if let Some(d) = &mut self.import_dialog
                    && let Some(first) = d.input_paths().into_iter().next()
                {
                    d.preview_error = None;
                    d.result = None;
                    self.jobs.preview_import(first, import_read_options(d));
                }
            }
            Command::StartImport => {
                if let Some(d) = &mut self.import_dialog
                    && !d.running
                {
                    d.running = true;
                    d.result = None;
                    d.progress = None;
                    let options = crate::data::import::write::ImportOptions {
                        read: import_read_options(d),
                        mapping: Some(d.mapping.clone()),
                        ..Default::default()
                    };
                    self.jobs
                        .import(d.input_paths(), PathBuf::from(d.target.trim()), options);
                }
            }
            Command::ZoomToZone(zone) => self.zoom_to_zone = Some(zone),
            Command::ExportProblems => {
                if self.problems.is_some() {
                    self.jobs.pick_file(
                        FilePurpose::SaveProblems,
                        self.lang.problem_texts().export_problems.to_owned(),
                        "GeoJSON / CSV",
                        &["geojson", "json", "csv"],
                    );
                } else {
                    self.notice = Some(self.lang.problem_texts().nothing.to_owned());
                }
            }
            Command::SaveProfile(profile, as_new) => {
                let mut profile = profile;
                if as_new || profile.id.trim().is_empty() {
                    profile.id = new_profile_id(&profile, &self.profiles);
                }
                match self.user_profiles.iter_mut().find(|p| p.id == profile.id) {
                    Some(p) => *p = profile.clone(),
                    None => self.user_profiles.push(profile.clone()),
                }
                self.persisted.problems.profile_id = profile.id.clone();
                self.problem_panel.draft = Some(profile);
                self.save_profiles();
            }
            Command::DeleteProfile(id) => {
                self.user_profiles.retain(|p| p.id != id);
                self.problem_panel.draft = None;
                self.save_profiles();
            }
        }
    }

    /// The top of the density colour scale: locked, or the surface's 99th percentile.
    fn density_max(&self) -> f32 {
        self.persisted
            .map
            .density
            .locked_max
            .or_else(|| self.density.as_ref().map(|d| d.auto_max))
            .unwrap_or(0.0)
    }

    /// Whether the open table is read grouped (the pushdown strategy).
    pub fn grouped(&self) -> bool {
        self.resolved
            .as_ref()
            .is_some_and(|r| r.dataset.is_grouped())
    }

    /// The density surface computed last (for tests and exports).
    pub fn density(&self) -> Option<&DensityResult> {
        self.density.as_ref()
    }

    /// The density request for `grid` with the layer's settings (a radius in pixels turned
    /// into ground metres with `ground_m_per_px`).
    fn density_request(&self, grid: crate::analysis::Grid, ground_m_per_px: f64) -> DensityRequest {
        let s = &self.persisted.map.density;
        // Rounded, so that sub-pixel jitter does not recompute.
        let radius_m = if s.radius_in_pixels {
            (s.radius_px * ground_m_per_px).round().max(1.0)
        } else {
            s.radius_m
        };
        DensityRequest {
            grid,
            radius_m,
            kernel: s.kernel,
            // Grouped rows are binned in the database: the fast mode only.
            mode: if s.exact && !self.grouped() {
                crate::analysis::Mode::Exact
            } else {
                crate::analysis::Mode::Fast
            },
            // A rendered export's k; presentation mode hides sparse cells with the default k
            // too (a meeting sees aggregates only).
            k: self.export_k.or_else(|| {
                self.presentation
                    .is_some()
                    .then_some(crate::analysis::export::DEFAULT_K)
            }),
        }
    }

    /// Notes the surface the map needs for `grid`, unless the current one serves (same points
    /// and settings, a similar resolution, and covering the view).
    fn want_density(&mut self, grid: crate::analysis::Grid, ground_m_per_px: f64, now: f64) {
        let Some(view) = &self.view else { return };
        let request = self.density_request(grid, ground_m_per_px);
        let serves = |d: &DensityResult| {
            Arc::ptr_eq(&d.points, &view.points_unit) && density_serves(&d.request, &request)
        };
        let failed = self
            .density_failed
            .as_ref()
            .is_some_and(|(points, r)| Arc::ptr_eq(points, &view.points_unit) && *r == request);
        if failed || self.density.as_ref().is_some_and(serves) {
            self.density_wanted = None;
            return;
        }
        match &self.density_wanted {
            Some((pending, _)) if *pending == request => {}
            _ => self.density_wanted = Some((request, now)),
        }
    }

    /// Redraws the density texture when the surface or its colouring changed.
    fn update_density_texture(&mut self, ctx: &egui::Context) {
        let Some(d) = &self.density else { return };
        let s = &self.persisted.map.density;
        let max = self.density_max();
        let key = [
            max.to_bits(),
            s.threshold.to_bits(),
            s.opacity.to_bits(),
            s.ramp as u32,
        ];
        if self
            .density_texture
            .as_ref()
            .is_some_and(|(_, k, g)| *k == key && *g == self.density_generation_drawn)
        {
            return;
        }
        let g = &d.request.grid;
        let image = theme::density_image(
            &d.surface.values,
            g.width,
            g.height,
            max,
            s.threshold,
            s.opacity,
            s.ramp,
        );
        let texture = ctx.load_texture("density", image, egui::TextureOptions::LINEAR);
        self.density_texture = Some((texture, key, self.density_generation_drawn));
    }

    /// State to remember between runs.
    pub fn persisted(&self) -> &Persisted {
        &self.persisted
    }

    /// Starts File → Export map… of the view on screen with the dialog's settings.
    fn start_export(&mut self) {
        let Some(dialog) = &self.export_dialog else {
            return;
        };
        let (Some(dataset), Some(boundaries)) = (&self.dataset, &self.boundaries) else {
            return;
        };
        let (name, words) = self.title();
        let extent = self.current_extent();
        let view = views::SavedView {
            name: name.unwrap_or(words),
            center_lon: extent.lon,
            center_lat: extent.lat,
            zoom: extent.zoom + self.zoom_offset(),
            map: self.persisted.map.clone(),
            problems: self.persisted.problems.clone(),
            filter: self.persisted.filter.clone(),
        };
        self.exports_started += 1;
        let views_file = std::env::temp_dir().join(format!(
            "teplokarta-export-{}-{}.teplokarta-views.json",
            std::process::id(),
            self.exports_started
        ));
        let source = export::ExportSource {
            db: &dataset.source,
            boundaries: &boundaries.boundaries.kind,
            lang: self.lang,
            view,
            profiles_file: self.profiles_file.as_deref(),
            strategy: self.jobs.strategy,
        };
        let args = export::export_args(dialog, &source, &views_file);
        let Some(dialog) = &mut self.export_dialog else {
            return;
        };
        match (args, self.export_runner) {
            (Ok(args), Some(runner)) => {
                dialog.running = true;
                dialog.result = None;
                self.jobs.export_map(runner, args, views_file);
            }
            (Ok(_), None) => {
                dialog.result = Some(Err(self.lang.texts().export_unavailable.to_owned()));
            }
            (Err(err), _) => dialog.result = Some(Err(err.to_string())),
        }
    }

    /// State to remember between runs, to change (for tests: what a widget would set).
    pub fn persisted_mut(&mut self) -> &mut Persisted {
        &mut self.persisted
    }

    /// The pivot table of the current view.
    pub fn pivot(&self) -> Option<&PivotTable> {
        self.view.as_ref().map(|v| &v.pivot)
    }
}

/// A red badge over the map `rect` at `anchor` (corner and offset): the offline basemap, the
/// stale source.
fn badge_ui(
    ctx: &egui::Context,
    id: &str,
    rect: egui::Rect,
    anchor: (egui::Align2, egui::Vec2),
    text: egui::RichText,
) {
    egui::Area::new(egui::Id::unique(id))
        .anchor(anchor.0, anchor.1)
        .order(egui::Order::Foreground)
        .constrain_to(rect)
        .show(ctx, |ui| {
            egui::Frame::new()
                .fill(theme::OFFLINE_BADGE_FILL)
                .inner_margin(egui::Margin::symmetric(6, 2))
                .corner_radius(3.0)
                .show(ui, |ui| {
                    ui.label(text.color(theme::OFFLINE_BADGE_TEXT));
                });
        });
}

/// Whether a surface computed for `have` serves a map that wants `want`: the same settings, a
/// similar resolution, and the visible part of the wanted grid (its middle two thirds) covered.
fn density_serves(have: &DensityRequest, want: &DensityRequest) -> bool {
    let (h, w) = (&have.grid, &want.grid);
    let (have_right, have_bottom) = (
        h.x_min_m + h.cell_m * h.width as f64,
        h.y_max_m - h.cell_m * h.height as f64,
    );
    let (view_left, view_right) = (
        w.x_min_m + w.cell_m * w.width as f64 / 6.0,
        w.x_min_m + w.cell_m * w.width as f64 * 5.0 / 6.0,
    );
    let (view_top, view_bottom) = (
        w.y_max_m - w.cell_m * w.height as f64 / 6.0,
        w.y_max_m - w.cell_m * w.height as f64 * 5.0 / 6.0,
    );
    have.radius_m == want.radius_m
        && have.k == want.k
        && have.kernel == want.kernel
        && have.mode == want.mode
        && (0.75..=1.34).contains(&(w.cell_m / h.cell_m))
        && view_left >= h.x_min_m
        && view_right <= have_right
        && view_top <= h.y_max_m
        && view_bottom >= have_bottom
}

/// The legend's line naming the boundaries: schematic, or the file they came from.
fn boundary_note(lang: Lang, boundaries: &Boundaries) -> String {
    let t = lang.texts();
    if boundaries.is_schematic() {
        t.schematic_boundaries.to_owned()
    } else {
        let name = match &boundaries.kind {
            BoundaryKind::File { path, .. } => path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            BoundaryKind::Schematic => String::new(),
        };
        format!("{}: {name}", t.boundaries_from)
    }
}

/// Seconds the map must stand still before a new density surface is computed.
const DENSITY_DEBOUNCE_S: f64 = 0.15;
/// Side of a density cell, screen points.
const DENSITY_CELL_PX: f64 = 3.0;

/// The density grid for the visible map plus a quarter of it on every side, with cells of
/// about [`DENSITY_CELL_PX`].
fn density_grid(t: &ScreenTransform, rect: egui::Rect) -> crate::analysis::Grid {
    let (x0, y0) = projection::mercator_m_from_unit(t.to_unit(rect.left_top()));
    let (x1, y1) = projection::mercator_m_from_unit(t.to_unit(rect.right_bottom()));
    let cell_m = DENSITY_CELL_PX / t.px_per_unit() * projection::WORLD_M;
    let (w_m, h_m) = ((x1 - x0).abs() * 1.5, (y0 - y1).abs() * 1.5);
    let width = ((w_m / cell_m).ceil() as usize).clamp(1, 1_024);
    let height = ((h_m / cell_m).ceil() as usize).clamp(1, 1_024);
    let cell_m = (w_m / width as f64).max(h_m / height as f64);
    let (cx, cy) = ((x0 + x1) / 2.0, (y0 + y1) / 2.0);
    crate::analysis::Grid {
        x_min_m: cx - cell_m * width as f64 / 2.0,
        y_max_m: cy + cell_m * height as f64 / 2.0,
        cell_m,
        width,
        height,
    }
}

/// The density under the pointer and the appeals within the radius of it.
fn density_hover_text(
    lang: Lang,
    d: &DensityResult,
    points_unit: &[[f64; 2]],
    at_unit: [f64; 2],
    radius_m: f64,
) -> String {
    let t = lang.texts();
    let (x, y) = projection::mercator_m_from_unit(at_unit);
    let value = d.surface.value_at_m(x, y).unwrap_or(0.0);
    // Ground distance: unit-square distance × the world's length × cos(lat) at the pointer.
    let r_unit = radius_m / (projection::WORLD_M * projection::ground_scale_at_mercator_y_m(y));
    let r2 = r_unit * r_unit;
    let within = points_unit
        .iter()
        .filter(|p| {
            let (dx, dy) = (p[0] - at_unit[0], p[1] - at_unit[1]);
            dx * dx + dy * dy <= r2
        })
        .count();
    format!(
        "{}: {} {} · {} {}",
        t.density_at_cursor,
        lang.decimal(f64::from(value), 2),
        t.per_km2,
        lang.number(within as u64),
        t.within_radius
    )
}

/// A failed load in the interface language.
fn job_error_text(lang: Lang, error: &JobError) -> String {
    let t = lang.texts();
    match error {
        JobError::Data(e) => t.data_error(e),
        JobError::Spatial(e) => t.spatial_error(e),
        JobError::NoDataDirectory => t.no_data_directory.to_owned(),
        JobError::HexagonsOfGroups => lang.problem_texts().hexagons_grouped.to_owned(),
    }
}

/// Tooltip of a municipality: name, value, rank, top three categories.
fn tooltip_text(lang: Lang, view: &View, resolved: &Resolved, label: u32, name: &str) -> String {
    let t = lang.texts();
    let metric = view.request.metric;
    let value = view.values.get(label as usize).copied().flatten();
    let mut text = format!(
        "{name}\n{}: {}",
        t.metric(metric),
        value.map_or_else(
            || t.no_data_value.to_owned(),
            |v| lang.metric_value(metric, v)
        )
    );
    if let Some(rank) = view.ranks.get(label as usize).copied().flatten() {
        let ranked = view.ranks.iter().filter(|r| r.is_some()).count();
        text.push_str(&format!("\n{} {rank} {} {ranked}", t.rank, t.of));
    }
    let a = &view.aggregates;
    let mut categories: Vec<(u32, u64)> = (0..a.n_categories as u32)
        .map(|c| (c, a.cell(label, c)))
        .filter(|(_, n)| *n > 0)
        .collect();
    categories.sort_by(|x, y| y.1.cmp(&x.1).then(x.0.cmp(&y.0)));
    if !categories.is_empty() {
        text.push_str(&format!("\n{}:", t.top_categories));
        for (c, n) in categories.into_iter().take(3) {
            text.push_str(&format!(
                "\n  {} — {}",
                resolved.dataset.appeals.categories.name(c),
                lang.number(n)
            ));
        }
    }
    text
}

/// The choices of the filter panel for a resolved database.
fn filter_options(resolved: &Resolved) -> FilterOptions {
    let appeals = &resolved.dataset.appeals;
    let mut tree: std::collections::BTreeMap<String, std::collections::BTreeSet<String>> =
        Default::default();
    for leaf in &resolved.columns.leaves {
        tree.entry(appeals.categories.name(leaf.category).to_owned())
            .or_default()
            .insert(
                leaf.subcategory
                    .map_or(String::new(), |s| appeals.subcategories.name(s).to_owned()),
            );
    }
    let sorted = |names: &[String]| {
        let mut v = names.to_vec();
        v.sort();
        v
    };
    let mut municipalities: Vec<String> = resolved.resolution.labels.clone();
    municipalities.sort();
    municipalities.dedup();
    FilterOptions {
        tree: tree
            .into_iter()
            .map(|(c, subs)| (c, subs.into_iter().collect()))
            .collect(),
        sources: sorted(appeals.sources.names()),
        statuses: sorted(appeals.statuses.names()),
        municipalities,
        first_day: resolved
            .columns
            .day_range
            .map(|(a, _)| crate::analysis::date_of_day(a)),
        last_day: resolved
            .columns
            .day_range
            .map(|(_, b)| crate::analysis::date_of_day(b)),
    }
}

/// Bounds of the polygons of a label.
fn unit_bounds(
    boundaries: &Boundaries,
    resolved: Option<&Resolved>,
    label: u32,
) -> Option<GeoBounds> {
    let resolved = resolved?;
    boundaries
        .units
        .iter()
        .zip(&resolved.unit_labels)
        .filter(|(_, l)| **l == label)
        .map(|(u, _)| u.bounds())
        .reduce(GeoBounds::union)
}

/// What "fit to data" shows: the bulk of the appeals, together with the boundaries when most
/// appeals lie within them (a database of another region is shown on its own).
fn fit_bounds(dataset: Option<&Dataset>, boundaries: &Boundaries) -> Option<GeoBounds> {
    let region = boundaries.bounds();
    let Some(points) = dataset.and_then(|d| d.bounds) else {
        return region;
    };
    let Some(region) = region else {
        return Some(points);
    };
    let (mut inside, mut placed) = (0_usize, 0_usize);
    if let Some(d) = dataset {
        for (lon, lat) in d.appeals.lon.iter().zip(&d.appeals.lat) {
            if lon.is_finite() {
                placed += 1;
                if (region.lon_min..=region.lon_max).contains(lon)
                    && (region.lat_min..=region.lat_max).contains(lat)
                {
                    inside += 1;
                }
            }
        }
    }
    if inside * 2 >= placed {
        Some(points.union(region))
    } else {
        Some(points)
    }
}

fn sort_labels_by_population(set: &BoundarySet, order: &mut [usize]) {
    let facts = crate::spatial::municipalities();
    let population = |i: &usize| {
        set.geometry
            .units
            .get(*i)
            .and_then(|u| u.municipality)
            .and_then(|m| facts.get(m))
            .and_then(|m| m.population)
            .unwrap_or(0)
    };
    order.sort_by_key(|i| std::cmp::Reverse(population(i)));
}

impl eframe::App for App {
    fn logic(&mut self, ctx: &egui::Context, _frame: &mut eframe::Frame) {
        self.logic_step(ctx);
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        let title = match &self.dataset {
            Some(d) => format!("Teplokarta — {}", d.source.short_name()),
            None => "Teplokarta".to_owned(),
        };
        if title != self.window_title {
            ui.ctx()
                .send_viewport_cmd(egui::ViewportCommand::Title(title.clone()));
            self.window_title = title;
        }
        self.ui_root(ui);
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        eframe::set_value(storage, STORAGE_KEY, &self.persisted);
    }
}

/// Opens the window.
///
/// # Errors
/// The window cannot be created (no display, no GPU/software renderer).
pub fn run_gui(startup: Startup) -> anyhow::Result<()> {
    let mut viewport = egui::ViewportBuilder::default()
        .with_title("Teplokarta")
        .with_app_id("teplokarta")
        .with_inner_size([1400.0, 900.0])
        .with_min_inner_size([800.0, 500.0])
        .with_drag_and_drop(true);
    match eframe::icon_data::from_png_bytes(include_bytes!("../../assets/icon-256.png")) {
        Ok(icon) => viewport = viewport.with_icon(icon),
        Err(err) => log::warn!("window icon not used: {err}"),
    }
    let options = eframe::NativeOptions {
        viewport,
        ..Default::default()
    };
    eframe::run_native(
        "teplokarta",
        options,
        Box::new(move |cc| {
            // Vector tiles (PMTiles, MBTiles of MVT) are drawn by walkers' wgpu renderer.
            if cc.wgpu_render_state.is_some() {
                walkers::install_renderer(cc.wgpu_render_state.as_ref());
            }
            Ok(Box::new(App::new(&cc.egui_ctx, cc.storage, startup)))
        }),
    )
    .map_err(|e| anyhow::anyhow!("{e}"))
    .context("opening the window")
}

/// The reading options the import dialog sets.
fn import_read_options(d: &ImportDialog) -> crate::data::import::read::ReadOptions {
    crate::data::import::read::ReadOptions {
        encoding: Some(d.encoding.trim().to_owned()).filter(|e| !e.is_empty()),
        delimiter: None,
        sheet: Some(d.sheet.trim().to_owned()).filter(|s| !s.is_empty()),
    }
}

/// An id for a new profile: its name in Latin letters and digits, made unique.
fn new_profile_id(profile: &Profile, existing: &[Profile]) -> String {
    let base: String = profile
        .name_en
        .chars()
        .chain(std::iter::once('-'))
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == ' ')
        .map(|c| {
            if c == ' ' {
                '-'
            } else {
                c.to_ascii_lowercase()
            }
        })
        .collect::<String>()
        .trim_matches('-')
        .to_owned();
    let base = if base.is_empty() {
        "profile".to_owned()
    } else {
        base
    };
    (1..)
        .map(|n| {
            if n == 1 {
                base.clone()
            } else {
                format!("{base}-{n}")
            }
        })
        .find(|id| !existing.iter().any(|p| &p.id == id))
        .unwrap_or(base)
}

/// Fills of the boundary units in problem mode: the Gi* class of each municipality when the
/// zones are municipalities, else the plain land colour.
fn problem_fills(
    problems: Option<&ProblemResult>,
    resolved: Option<&Resolved>,
    units: usize,
) -> Vec<Option<egui::Color32>> {
    match (problems, resolved) {
        (Some(p), Some(r)) if p.request.zones == ZoneKind::Municipalities => r
            .unit_labels
            .iter()
            .map(|&label| {
                Some(match p.map.zones.get(label as usize) {
                    Some(z) if z.appeals > 0 || z.class.gi_bin() != 0 => {
                        theme::hot_spot_color(z.class.gi_bin(), theme::ZONE_FILL_ALPHA)
                    }
                    _ => theme::MUNICIPALITY_FILL,
                })
            })
            .collect(),
        _ => vec![Some(theme::MUNICIPALITY_FILL); units],
    }
}

/// Bounds of a problem zone: the hexagon, the municipality, or a few km around a settlement.
fn zone_bounds(p: &ProblemResult, zone: u32) -> Option<GeoBounds> {
    let z = p.base.zones.zones.get(zone as usize)?;
    let around = |lon: f64, lat: f64, km: f64| {
        let dlat = km / 111.0;
        let dlon = km / (111.0 * lat.to_radians().cos().max(0.05));
        GeoBounds {
            lon_min: lon - dlon,
            lat_min: lat - dlat,
            lon_max: lon + dlon,
            lat_max: lat + dlat,
        }
    };
    match &z.shape {
        ZoneShape::Unit(u) => p
            .base
            .resolved
            .boundaries
            .boundaries
            .units
            .get(*u)
            .map(|u| u.bounds()),
        ZoneShape::Hexagon { .. } => {
            let (lon, lat) = z.lon_lat?;
            Some(around(lon, lat, 3.0 * p.base.zones.cell_km.unwrap_or(1.0)))
        }
        ZoneShape::Point => {
            let (lon, lat) = z.lon_lat?;
            Some(around(lon, lat, 4.0))
        }
    }
}
