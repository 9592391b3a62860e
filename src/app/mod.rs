//! The eframe application: owns the loaded data, the map memory and the background jobs.
//! `logic()` drains finished jobs and applies them; `ui()` draws the panels and the map and
//! collects [`Command`]s, applied at the end of the frame.

mod jobs;
mod state;

pub use jobs::{BoundarySet, Dataset, JobResult, Jobs, load_dataset};
pub use state::{Persisted, STORAGE_KEY};

use std::path::PathBuf;

use anyhow::Context as _;
use walkers::{MapMemory, lon_lat};

use crate::cli::{Cli, LangArg};
use crate::data::DemoConfig;
use crate::layers::{BoundaryLayer, LabelLayer, PointsLayer, PointsLegend, ScreenTransform};
use crate::ui::{Command, Lang, panels, theme};

/// What to open at start-up.
#[derive(Clone, Debug, Default)]
pub struct Startup {
    /// Database from the command line.
    pub database: Option<PathBuf>,
    /// Boundaries from the command line.
    pub boundaries: Option<PathBuf>,
    pub name_property: Option<String>,
    /// Language from the command line.
    pub lang: Option<Lang>,
    /// Demo configuration used when no database is given.
    pub demo: DemoConfig,
}

/// Which file dialog is open.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Dialog {
    Database,
    Boundaries,
}

/// The application.
pub struct App {
    persisted: Persisted,
    lang: Lang,
    jobs: Jobs,
    dataset: Option<Dataset>,
    boundaries: BoundarySet,
    map_memory: MapMemory,
    fit_pending: bool,
    hovered_unit: Option<usize>,
    legend: PointsLegend,
    errors: Vec<String>,
    progress: Option<String>,
    dialog: Option<Dialog>,
    dialog_path: String,
    show_about: bool,
    label_order: Vec<usize>,
    window_title: String,
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
        let persisted: Persisted = storage
            .and_then(|s| eframe::get_value(s, STORAGE_KEY))
            .unwrap_or_default();
        let lang = startup
            .lang
            .or(persisted.lang)
            .unwrap_or_else(Lang::from_system);
        let mut jobs = Jobs::new(ctx.clone());

        let boundaries_path = startup
            .boundaries
            .clone()
            .or_else(|| persisted.boundaries.clone());
        let name_property = if startup.boundaries.is_some() {
            startup.name_property.clone()
        } else {
            persisted.name_property.clone()
        };
        let boundaries = BoundarySet::new(crate::spatial::Boundaries::schematic());
        if let Some(path) = boundaries_path {
            jobs.load_boundaries(Some(path), name_property);
        }
        let database = startup
            .database
            .clone()
            .or_else(|| persisted.last_database.clone().filter(|p| p.is_file()));
        match database {
            Some(path) => jobs.load_database(path),
            None => jobs.load_demo(startup.demo.clone()),
        }
        let mut label_order: Vec<usize> = (0..boundaries.geometry.units.len()).collect();
        sort_labels_by_population(&boundaries, &mut label_order);
        Self {
            persisted,
            lang,
            jobs,
            dataset: None,
            boundaries,
            map_memory: MapMemory::default(),
            fit_pending: true,
            hovered_unit: None,
            legend: PointsLegend::Nothing,
            errors: Vec::new(),
            progress: None,
            dialog: None,
            dialog_path: String::new(),
            show_about: false,
            label_order,
            window_title: String::new(),
        }
    }

    /// True when no background job is running.
    pub fn is_idle(&self) -> bool {
        self.jobs.pending == 0
    }

    /// The loaded database, if any.
    pub fn dataset(&self) -> Option<&Dataset> {
        self.dataset.as_ref()
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
    pub fn boundaries(&self) -> &BoundarySet {
        &self.boundaries
    }

    /// Applies finished background jobs (the `logic` half of a frame).
    pub fn logic_step(&mut self, ctx: &egui::Context) {
        for result in self.jobs.drain() {
            match result {
                JobResult::Progress(what) => self.progress = Some(what),
                JobResult::Dataset { generation, result } => {
                    if generation != self.jobs.dataset_generation {
                        continue;
                    }
                    self.progress = None;
                    match result {
                        Ok(dataset) => {
                            if !dataset.is_demo {
                                self.persisted.last_database = Some(dataset.path.clone());
                            }
                            self.dataset = Some(*dataset);
                            self.fit_pending = true;
                        }
                        Err(err) => self.errors.push(err),
                    }
                }
                JobResult::Boundaries { generation, result } => {
                    if generation != self.jobs.boundaries_generation {
                        continue;
                    }
                    match result {
                        Ok(set) => {
                            self.persisted.boundaries = match &set.boundaries.kind {
                                crate::spatial::BoundaryKind::Schematic => None,
                                crate::spatial::BoundaryKind::File { path, .. } => {
                                    Some(path.clone())
                                }
                            };
                            self.boundaries = *set;
                            self.label_order = (0..self.boundaries.geometry.units.len()).collect();
                            sort_labels_by_population(&self.boundaries, &mut self.label_order);
                            if self.dataset.is_none() {
                                self.fit_pending = true;
                            }
                        }
                        Err(err) => self.errors.push(err),
                    }
                }
                JobResult::Picked(Some(path)) => self.dialog_path = path.display().to_string(),
                JobResult::Picked(None) => {}
            }
        }
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
                "sqlite" | "sqlite3" | "db" | "db3" => Command::OpenDatabase(path),
                "geojson" | "json" => Command::OpenBoundaries(path),
                _ => {
                    self.errors.push(format!(
                        "unsupported file type (expected .sqlite, .db or .geojson): {}",
                        path.display()
                    ));
                    continue;
                }
            };
            self.apply(ctx, command);
        }
    }

    /// Draws the window (the `ui` half of a frame) and applies the commands it collected.
    pub fn ui_root(&mut self, ui: &mut egui::Ui) {
        let lang = self.lang;
        let t = lang.texts();
        let mut commands = Vec::new();
        let busy = !self.is_idle();
        let status = match (&self.progress, &self.dataset) {
            (Some(_), _) => t.generating_demo.to_owned(),
            (None, _) if busy => t.loading.to_owned(),
            (None, Some(d)) => {
                let name = d
                    .path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                if d.is_demo {
                    format!("{} · {name}", t.demo_badge)
                } else {
                    name
                }
            }
            (None, None) => t.no_data.to_owned(),
        };
        egui::Panel::top("top_bar").show(ui, |ui| {
            panels::top_bar_ui(ui, lang, &status, busy, &mut commands);
        });
        egui::Panel::left("side_panel")
            .resizable(true)
            .default_size(330.0)
            .show(ui, |ui| match &self.dataset {
                Some(d) => panels::side_panel_ui(ui, lang, &d.summary, &self.boundaries.boundaries),
                None => {
                    ui.add_space(12.0);
                    if busy {
                        ui.spinner();
                        ui.label(
                            self.progress
                                .as_ref()
                                .map_or(t.loading, |_| t.generating_demo),
                        );
                    } else {
                        ui.label(t.no_data);
                    }
                }
            });
        egui::CentralPanel::no_frame().show(ui, |ui| self.map_ui(ui, &mut commands));

        let ctx = ui.ctx().clone();
        match self.dialog {
            Some(Dialog::Database) => panels::open_dialog_ui(
                &ctx,
                lang,
                t.open_database,
                &mut self.dialog_path,
                &mut commands,
                Command::OpenDatabase,
            ),
            Some(Dialog::Boundaries) => panels::open_dialog_ui(
                &ctx,
                lang,
                t.open_boundaries,
                &mut self.dialog_path,
                &mut commands,
                Command::OpenBoundaries,
            ),
            None => {}
        }
        if self.show_about {
            panels::about_ui(&ctx, lang, &mut commands);
        }
        for command in commands {
            self.apply(&ctx, command);
        }
    }

    fn map_ui(&mut self, ui: &mut egui::Ui, commands: &mut Vec<Command>) {
        let rect = ui.available_rect_before_wrap();
        if self.fit_pending && rect.width() > 50.0 {
            let bounds = fit_bounds(self.dataset.as_ref(), &self.boundaries.boundaries);
            if let Some(b) = bounds {
                let zoom = b.zoom_to_fit(f64::from(rect.width()), f64::from(rect.height()), 24.0);
                let (lon, lat) = b.center();
                self.map_memory.center_at(lon_lat(lon, lat));
                self.map_memory.set_zoom(zoom).ok();
                self.fit_pending = false;
            }
        }
        let center = self.map_memory.detached().unwrap_or(lon_lat(68.5, 57.5));
        let empty: [[f64; 2]; 0] = [];
        let mut points = PointsLayer {
            points_unit: self.dataset.as_ref().map_or(&empty[..], |d| &d.points_unit),
            legend: PointsLegend::Nothing,
        };
        let geometry = &self.boundaries.geometry;
        let mut hovered = None;
        let map = walkers::Map::new(None, &mut self.map_memory, center)
            .zoom_with_ctrl(false)
            .with_plugin(BoundaryLayer {
                geometry,
                hovered: self.hovered_unit,
            })
            .with_plugin(&mut points)
            .with_plugin(LabelLayer {
                geometry,
                label_order: &self.label_order,
            });
        let lang = self.lang;
        let t = lang.texts();
        let dataset = self.dataset.as_ref();
        map.show(ui, |ui, response, projector, _memory| {
            if let Some(pos) = response.hover_pos() {
                let transform = ScreenTransform::new(projector);
                hovered = geometry.unit_at(transform.to_unit(pos));
                if let Some(unit) = hovered.and_then(|i| geometry.units.get(i)) {
                    let count = unit
                        .municipality
                        .and_then(|m| dataset.and_then(|d| d.count_by_unit.get(m)).copied());
                    let text = match count {
                        Some(n) => format!("{}\n{} {}", unit.name, lang.number(n), t.appeals_short),
                        None => unit.name.clone(),
                    };
                    response.clone().on_hover_text_at_pointer(text);
                }
            }
            let _ = ui;
        });
        self.hovered_unit = hovered;
        self.legend = points.legend;

        let note = if self.boundaries.boundaries.is_schematic() {
            t.schematic_boundaries.to_owned()
        } else {
            let name = match &self.boundaries.boundaries.kind {
                crate::spatial::BoundaryKind::File { path, .. } => path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                crate::spatial::BoundaryKind::Schematic => String::new(),
            };
            format!("{}: {name}", t.boundaries_from)
        };
        let legend = self.legend;
        egui::Area::new(egui::Id::unique("map_legend"))
            .anchor(egui::Align2::LEFT_BOTTOM, egui::vec2(8.0, -8.0))
            .order(egui::Order::Foreground)
            .constrain_to(rect)
            .show(ui.ctx(), |ui| {
                panels::map_legend_ui(ui, lang, legend, &note)
            });
        if !self.errors.is_empty() {
            egui::Area::new(egui::Id::unique("map_errors"))
                .fixed_pos(rect.min + egui::vec2(8.0, 8.0))
                .order(egui::Order::Foreground)
                .show(ui.ctx(), |ui| {
                    ui.set_max_width(rect.width() - 16.0);
                    panels::errors_ui(ui, lang, &self.errors, commands);
                });
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
            Command::ShowOpenBoundaries => {
                self.dialog = Some(Dialog::Boundaries);
                self.dialog_path.clear();
            }
            Command::BrowseForFile => match self.dialog {
                Some(Dialog::Database) => self.jobs.pick_file(
                    t.open_database.to_owned(),
                    "SQLite",
                    &["sqlite", "sqlite3", "db", "db3"],
                ),
                Some(Dialog::Boundaries) => self.jobs.pick_file(
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
            Command::OpenBoundaries(path) => {
                self.dialog = None;
                self.persisted.name_property = None;
                self.jobs.load_boundaries(Some(path), None);
            }
            Command::UseSchematicBoundaries => {
                self.persisted.name_property = None;
                self.jobs.load_boundaries(None, None);
            }
            Command::OpenDemo => {
                self.persisted.last_database = None;
                self.jobs.load_demo(DemoConfig::default());
            }
            Command::FitToData => self.fit_pending = true,
            Command::SetLang(lang) => {
                self.lang = lang;
                self.persisted.lang = Some(lang);
            }
            Command::ShowAbout(show) => self.show_about = show,
            Command::DismissError(i) => {
                if i < self.errors.len() {
                    self.errors.remove(i);
                }
            }
            Command::CloseDialog => self.dialog = None,
            Command::Quit => ctx.send_viewport_cmd(egui::ViewportCommand::Close),
        }
    }

    /// State to remember between runs.
    pub fn persisted(&self) -> &Persisted {
        &self.persisted
    }
}

/// What "fit to data" shows: the bulk of the appeals, together with the boundaries when most
/// appeals lie within them (a database of another region is shown on its own).
fn fit_bounds(
    dataset: Option<&Dataset>,
    boundaries: &crate::spatial::Boundaries,
) -> Option<crate::spatial::GeoBounds> {
    let region = boundaries.bounds();
    let Some(points) = dataset.and_then(|d| d.bounds) else {
        return region;
    };
    let Some(region) = region else {
        return Some(points);
    };
    let inside = dataset.map_or(0, |d| {
        d.appeals
            .lon
            .iter()
            .zip(&d.appeals.lat)
            .filter(|(lon, lat)| {
                (region.lon_min..=region.lon_max).contains(*lon)
                    && (region.lat_min..=region.lat_max).contains(*lat)
            })
            .count()
    });
    let placed = dataset.map_or(0, |d| d.points_unit.len());
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
            Some(d) => format!(
                "Teplokarta — {}",
                d.path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default()
            ),
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

/// Opens the window for the command line's arguments.
///
/// # Errors
/// The window cannot be created (no display, no GPU/software renderer).
pub fn run_gui(cli: &Cli) -> anyhow::Result<()> {
    let startup = Startup {
        database: cli.db.clone(),
        boundaries: cli.boundaries.boundaries.clone(),
        name_property: cli.boundaries.name_property.clone(),
        lang: cli.lang.map(|l| match l {
            LangArg::Ru => Lang::Ru,
            LangArg::En => Lang::En,
        }),
        demo: DemoConfig::default(),
    };
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("Teplokarta")
            .with_app_id("teplokarta")
            .with_inner_size([1400.0, 900.0])
            .with_min_inner_size([800.0, 500.0])
            .with_drag_and_drop(true),
        ..Default::default()
    };
    eframe::run_native(
        "teplokarta",
        options,
        Box::new(move |cc| Ok(Box::new(App::new(&cc.egui_ctx, cc.storage, startup)))),
    )
    .map_err(|e| anyhow::anyhow!("{e}"))
    .context("opening the window")
}
