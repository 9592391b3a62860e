//! Background jobs: loading a database, generating the demo, loading boundaries (and re-resolving
//! the municipalities of the loaded appeals against them), recomputing the view for a filter,
//! and the native file dialogs. Each runs on its own thread and reports through a channel that
//! `App::logic` drains; a frame never waits for SQLite or a recomputation. Results of a
//! superseded request (an older generation) are dropped.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, Sender, channel};

use crate::analysis::{
    Aggregates, Classification, Columns, Details, Filter, Masks, Metric, MunicipalityResolution,
    PivotTable, Summary, Surface, aggregate, breaks, details, metric_values, pivot_table, ranks,
    summary_of,
};
use crate::data::{
    Appeals, ChangeProbe, ChangeSet, ChangeToken, DataError, DemoConfig, Fingerprint, LoadStrategy,
    Loaded, Placement, Source, Store, default_demo_path, generate_demo,
};
use crate::layers::BoundaryGeometry;
use crate::spatial::{
    Boundaries, GeoBounds, MunicipalityLocator, SpatialError,
    projection::mercator_unit_from_lon_lat,
};
use crate::tiles::choice::{BasemapChoice, OpenedBasemap, TileCacheSettings};

/// A loaded database.
pub struct Dataset {
    /// Where it was read from (may hold a password in memory: show it with `Display`,
    /// remember it with [`Source::without_password`]).
    pub source: Source,
    pub is_demo: bool,
    /// Loaded again because another process changed the file (keep the map and selection).
    pub live_reload: bool,
    pub appeals: Appeals,
    /// The table's block sums when these rows were read, for loading only what changes later.
    pub fingerprint: Option<Fingerprint>,
    /// PostgreSQL: the change check's figures in the load's snapshot, where the watcher starts.
    pub change_token: Option<ChangeToken>,
    /// Web-Mercator unit coordinates of every row (NaN where not placed).
    pub point_unit: Vec<[f64; 2]>,
    /// Bounds of the bulk of the placed appeals (0.5–99.5 percentiles, so a stray point far
    /// away does not shrink the map).
    pub bounds: Option<GeoBounds>,
    /// The pushdown strategy's grouped rows: row `i` of `appeals` stands for `weights[i]`
    /// appeals (empty: every row is one appeal). See [`Dataset::pushdown`].
    pub weights: Vec<u64>,
    /// Per grouped row, its appeals' coordinate sums in 10⁻⁷ degrees
    /// ([`crate::data::pushdown::Grouped::coordinate_sums_e7`]; empty when not grouped).
    pub coordinate_sums_e7: Vec<[i64; 2]>,
    /// When the table was read grouped (the pushdown strategy): the connection the density
    /// surfaces are binned on in SQL. Grouped rows carry no points of appeals with a
    /// municipality text, no answer dates and no addresses.
    pub pushdown: Option<Arc<crate::data::PgStore>>,
}

impl Dataset {
    /// A table read grouped on `store`, with the change check's `figures` of the grouping's
    /// snapshot.
    fn of_groups(
        source: Source,
        groups: crate::data::pushdown::Grouped,
        figures: crate::data::postgres::ChangeFigures,
        store: Arc<crate::data::PgStore>,
    ) -> Self {
        let appeals = groups.appeals;
        Self {
            source,
            is_demo: false,
            live_reload: false,
            point_unit: points_unit(&appeals),
            appeals,
            fingerprint: None,
            change_token: Some(ChangeToken::of_figures(figures)),
            // Grouped rows carry no points of rows with a text: the map frames the boundaries
            // (a reload keeps the map where it is).
            bounds: None,
            weights: groups.weights,
            coordinate_sums_e7: groups.coordinate_sums_e7,
            pushdown: Some(store),
        }
    }

    /// Whether the rows are grouped (the pushdown strategy).
    pub fn is_grouped(&self) -> bool {
        self.pushdown.is_some()
    }

    /// Appeals the rows stand for.
    pub fn appeal_count(&self) -> u64 {
        if self.weights.is_empty() {
            self.appeals.len() as u64
        } else {
            self.weights.iter().sum()
        }
    }
}

/// Boundaries with their drawing geometry and point-in-polygon index.
pub struct BoundarySet {
    pub boundaries: Boundaries,
    pub geometry: BoundaryGeometry,
    pub locator: MunicipalityLocator,
}

impl BoundarySet {
    /// Prepares `boundaries` for drawing and lookup.
    pub fn new(boundaries: Boundaries) -> Self {
        let geometry = BoundaryGeometry::new(&boundaries);
        let locator = MunicipalityLocator::new(&boundaries);
        Self {
            boundaries,
            geometry,
            locator,
        }
    }
}

/// A database resolved against a set of boundaries: what every view is computed from.
pub struct Resolved {
    pub dataset: Arc<Dataset>,
    pub boundaries: Arc<BoundarySet>,
    pub resolution: MunicipalityResolution,
    pub columns: Columns,
    /// Label code of each boundary unit (what the choropleth colours).
    pub unit_labels: Vec<u32>,
}

/// What the view is asked to show.
#[derive(Clone, Debug, PartialEq)]
pub struct ViewRequest {
    pub filter: Filter,
    pub metric: Metric,
    pub classification: Classification,
    pub classes: usize,
    /// Class bounds frozen by "lock scale".
    pub locked_breaks: Option<Vec<f64>>,
    /// Label of the selected municipality.
    pub selected: Option<u32>,
}

/// Everything the window shows for a filter. It keeps the [`Resolved`] it was computed from,
/// so labels and values always belong together even while a newer resolution is on its way.
pub struct View {
    pub request: ViewRequest,
    pub resolved: Arc<Resolved>,
    pub aggregates: Aggregates,
    /// Metric value per label; `None` is "no data", and every label a municipality filter
    /// leaves out.
    pub values: Vec<Option<f64>>,
    /// Labels the municipality filter keeps (all when there is none).
    pub in_filter: Vec<bool>,
    /// Rank per label among the labels on the map and in the filter (1 = highest).
    pub ranks: Vec<Option<usize>>,
    /// Municipality × category table.
    pub pivot: PivotTable,
    /// The side panel's figures.
    pub summary: Summary,
    pub breaks: Vec<f64>,
    /// Placed appeals of the filter, Web-Mercator unit coordinates.
    pub points_unit: Arc<Vec<[f64; 2]>>,
    pub details: Option<Details>,
    /// How long the computation took.
    pub elapsed: std::time::Duration,
}

/// What a density surface is computed for.
#[derive(Clone, Debug, PartialEq)]
pub struct DensityRequest {
    pub grid: crate::analysis::Grid,
    pub radius_m: f64,
    pub kernel: crate::analysis::Kernel,
    pub mode: crate::analysis::Mode,
    /// k-anonymity of a rendered export: cells fewer than k appeals reach are hidden.
    pub k: Option<u64>,
}

impl DensityRequest {
    /// The density of `points_unit` (unit-square positions) on this request's grid, in `mode`.
    fn surface_of(&self, points_unit: &[[f64; 2]], mode: crate::analysis::Mode) -> Surface {
        let mercator = crate::analysis::mercator_points_from_unit(points_unit);
        let density = |kernel| {
            crate::analysis::density_mercator(
                &mercator,
                None,
                &self.grid,
                kernel,
                self.radius_m,
                mode,
            )
        };
        let mut surface = density(self.kernel);
        if let Some(k) = self.k.filter(|&k| k > 1) {
            let reach = density(crate::analysis::Kernel::Uniform);
            crate::analysis::export::hide_cells_under_k(
                &mut surface.values,
                &reach.values,
                self.radius_m,
                k,
            );
        }
        surface
    }
}

/// A computed density surface.
pub struct DensityResult {
    pub request: DensityRequest,
    pub surface: Surface,
    /// 99th percentile of the non-zero cells: the automatic top of the colour scale.
    pub auto_max: f32,
    /// The filtered appeals it was computed from (identifies the view).
    pub points: Arc<Vec<[f64; 2]>>,
    pub elapsed: std::time::Duration,
}

impl DensityResult {
    /// `surface` computed for `request` from `points` since `started`, with its automatic top
    /// of scale.
    fn new(
        request: DensityRequest,
        surface: Surface,
        points: Arc<Vec<[f64; 2]>>,
        started: std::time::Instant,
    ) -> Self {
        let auto_max = surface.nonzero_quantile(0.99).unwrap_or(0.0);
        Self {
            request,
            surface,
            auto_max,
            points,
            elapsed: started.elapsed(),
        }
    }
}

/// The points of period A and of period B (Web-Mercator unit coordinates).
pub type PointPair = (Arc<Vec<[f64; 2]>>, Arc<Vec<[f64; 2]>>);

/// What a comparison of two periods is computed for.
#[derive(Clone, Debug, PartialEq)]
pub struct CompareRequest {
    /// Period B: the view's request, its filter with B's first and last day.
    pub b: ViewRequest,
    /// Period A's first and last day (the rest of the filter is B's).
    pub a: (jiff::civil::Date, jiff::civil::Date),
}

/// One period of a comparison.
pub struct CompareSide {
    pub filter: Filter,
    /// Metric value per label (`None`: no data, or outside the municipality filter).
    pub values: Vec<Option<f64>>,
    /// Appeals per label.
    pub counts: Vec<u64>,
    /// Appeals of the period.
    pub total: u64,
    /// Placed appeals of the period, Web-Mercator unit coordinates (for its density).
    pub points_unit: Arc<Vec<[f64; 2]>>,
}

impl CompareSide {
    /// The period's first and last day.
    pub fn period(&self) -> (jiff::civil::Date, jiff::civil::Date) {
        (
            self.filter.from.unwrap_or_default(),
            self.filter.to.unwrap_or_default(),
        )
    }
}

/// Two periods on one scale, and their difference.
pub struct Comparison {
    pub request: CompareRequest,
    pub resolved: Arc<Resolved>,
    pub a: CompareSide,
    pub b: CompareSide,
    /// Labels the municipality filter keeps.
    pub in_filter: Vec<bool>,
    /// Class bounds shared by both maps of the split view: the locked scale, else pooled over
    /// the values of both periods.
    pub breaks: Vec<f64>,
    /// What the difference is taken of ([`crate::analysis::compare::difference_metric`]).
    pub difference_metric: Metric,
    /// B − A per label.
    pub difference: Vec<Option<f64>>,
    /// Class bounds of the difference, symmetric about zero.
    pub difference_breaks: Vec<f64>,
    pub elapsed: std::time::Duration,
}

/// The density surfaces of both periods of a comparison on one grid.
pub struct CompareDensity {
    pub request: DensityRequest,
    /// The points they were computed from (identify the comparison).
    pub points: PointPair,
    pub a: Surface,
    pub b: Surface,
    /// The top of the shared scale of both (99th percentile of the non-zero cells of either).
    pub auto_max: f32,
    /// B − A per cell, and the top of its symmetric scale.
    pub difference: Vec<f32>,
    pub difference_max: f32,
}

/// Why a load job failed: the library's error, kept whole so the window can say it in the
/// user's language.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error(transparent)]
    Data(#[from] DataError),
    #[error(transparent)]
    Spatial(#[from] SpatialError),
    #[error("no user data directory to keep the demo database in")]
    NoDataDirectory,
    #[error(
        "hexagon zones need every appeal's point, and this table's coordinates are not \
         numbers: choose settlements or municipalities"
    )]
    HexagonsOfGroups,
}

/// What a job reports.
pub enum JobResult {
    /// The load of the given dataset generation groups the table in the database (of this
    /// many rows, when counted).
    Grouping {
        generation: u64,
        rows: Option<u64>,
    },
    /// A long job of the given dataset generation has started a visible step.
    Progress {
        generation: u64,
        what: String,
    },
    /// A job panicked (a bug): reported instead of leaving the app busy forever.
    Failed {
        job: String,
        message: String,
    },
    Dataset {
        generation: u64,
        result: Result<Arc<Dataset>, JobError>,
    },
    Boundaries {
        generation: u64,
        result: Result<Arc<BoundarySet>, JobError>,
    },
    Resolved {
        generation: u64,
        resolved: Arc<Resolved>,
    },
    View {
        generation: u64,
        view: Box<View>,
    },
    Picked(FilePurpose, Option<PathBuf>),
    Density {
        generation: u64,
        result: Box<DensityResult>,
    },
    /// A density surface binned in the database could not be computed.
    DensityFailed {
        generation: u64,
        request: DensityRequest,
        error: JobError,
    },
    /// The same for a comparison's surfaces.
    CompareDensityFailed {
        generation: u64,
        request: DensityRequest,
        error: JobError,
    },
    Saved(Result<PathBuf, String>),
    Problems {
        generation: u64,
        result: Box<super::problems::ProblemResult>,
    },
    /// The rows a problem map of a grouped table needs could not be loaded.
    ProblemsFailed {
        generation: u64,
        error: JobError,
    },
    /// The first rows of an input file and its automatic mapping, for the import dialog.
    ImportPreview(Result<Box<crate::data::import::Preview>, String>),
    /// An import running: where it is.
    ImportProgress(crate::data::import::write::Progress),
    /// An import finished (committed), or failed (rolled back).
    Imported(Result<Box<crate::data::import::write::ImportSummary>, String>),
    /// The watched database was changed by another process.
    DatabaseChanged {
        watch: u64,
        source: Source,
    },
    /// The watched source stopped answering (`reachable: false`) or answers again; `last_ok`
    /// is the local time of the last successful check.
    SourceHealth {
        watch: u64,
        source: Source,
        reachable: bool,
        last_ok: Option<jiff::civil::Time>,
    },
    /// A basemap was opened (`Ok(None)`: the built-in map). `user_opened`: from the menu or a
    /// dropped file, not restored at start.
    Basemap {
        generation: u64,
        choice: BasemapChoice,
        user_opened: bool,
        result: Result<Option<OpenedBasemap>, String>,
    },
    /// The tile cache was emptied: bytes freed.
    TileCacheCleared(Result<u64, String>),
    /// File → Export map… finished: what `teplokarta export` printed, or its error.
    Exported(Result<String, String>),
    /// Two periods compared.
    Comparison {
        generation: u64,
        result: Box<Comparison>,
    },
    /// The density surfaces of a comparison.
    CompareDensity {
        generation: u64,
        result: Box<CompareDensity>,
    },
    /// Class bounds pooled over every frame of a time playback (`frames` of them).
    PlaybackScale {
        generation: u64,
        metric: crate::analysis::Metric,
        breaks: Vec<f64>,
    },
}

/// What a file dialog is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FilePurpose {
    OpenDatabase,
    OpenBoundaries,
    SavePivotCsv,
    SaveHeat,
    SaveProblems,
    ImportInputs,
    ImportTarget,
    /// An MBTiles or PMTiles file for the basemap.
    OpenTileFile,
    /// A folder of tiles for the basemap (`true`: TMS rows).
    OpenTileFolder(bool),
    /// Where to write the saved views for sharing.
    ExportViews,
    /// A views file to merge into the saved views.
    ImportViews,
    /// Where File → Export map… writes (with the format's extension).
    ExportMap(&'static str),
}

/// How often a watched database is polled for changes by other processes (a change is noticed
/// within this, and loaded right after).
pub const WATCH_INTERVAL: std::time::Duration = std::time::Duration::from_millis(500);

/// How often a PostgreSQL source is checked (one prepared statement on the watcher's own
/// read-only connection): new rows appear within two seconds.
pub const PG_WATCH_INTERVAL: std::time::Duration = std::time::Duration::from_millis(1_000);

/// The job runner: a channel and the generation counters.
pub struct Jobs {
    sender: Sender<JobResult>,
    receiver: Receiver<JobResult>,
    ctx: egui::Context,
    pub dataset_generation: u64,
    pub boundaries_generation: u64,
    pub resolved_generation: u64,
    pub view_generation: u64,
    pub density_generation: u64,
    pub problems_generation: u64,
    pub basemap_generation: u64,
    pub playback_generation: u64,
    pub compare_generation: u64,
    pub compare_density_generation: u64,
    /// The dataset generation of the last demo load (a failed demo is generated anew once).
    pub demo_generation: u64,
    /// The database being watched for changes by other processes; a new watch ends the old.
    pub watch_generation: Arc<std::sync::atomic::AtomicU64>,
    /// Jobs started and not yet reported.
    pub pending: usize,
    /// How a PostgreSQL table is read (grouped in the database above a size).
    pub strategy: LoadStrategy,
    /// The hexagon grid of the grouped table, between problem maps.
    hex_grids: Arc<HexGridCache>,
}

impl Jobs {
    /// A runner that wakes `ctx` when a job reports.
    pub fn new(ctx: egui::Context) -> Self {
        let (sender, receiver) = channel();
        Self {
            sender,
            receiver,
            ctx,
            dataset_generation: 0,
            boundaries_generation: 0,
            resolved_generation: 0,
            view_generation: 0,
            density_generation: 0,
            problems_generation: 0,
            basemap_generation: 0,
            playback_generation: 0,
            compare_generation: 0,
            compare_density_generation: 0,
            demo_generation: 0,
            watch_generation: Arc::new(std::sync::atomic::AtomicU64::new(0)),
            pending: 0,
            strategy: LoadStrategy::default(),
            hex_grids: Arc::default(),
        }
    }

    fn spawn(
        &mut self,
        name: &str,
        job: impl FnOnce(&Sender<JobResult>) -> JobResult + Send + 'static,
    ) {
        let sender = self.sender.clone();
        let ctx = self.ctx.clone();
        self.pending += 1;
        let job_name = name.to_owned();
        let spawned = std::thread::Builder::new()
            .name(name.to_owned())
            .spawn(move || {
                let result =
                    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(&sender)))
                        .unwrap_or_else(|_| JobResult::Failed {
                            message: format!("internal error in the {job_name} job"),
                            job: job_name,
                        });
                sender.send(result).ok();
                ctx.request_repaint();
            });
        if let Err(err) = spawned {
            self.pending -= 1;
            log::error!("cannot start the {name} thread: {err}");
        }
    }

    /// Loads a database (a SQLite file or a PostgreSQL table).
    pub fn load_database(&mut self, source: impl Into<Source>) {
        let source = source.into();
        self.dataset_generation += 1;
        let generation = self.dataset_generation;
        let strategy = self.strategy;
        let ctx = self.ctx.clone();
        self.spawn("load-database", move |sender| {
            // Grouping a large table takes a while: the status bar says what is going on.
            let grouping = |rows: Option<u64>| {
                sender.send(JobResult::Grouping { generation, rows }).ok();
                ctx.request_repaint();
            };
            JobResult::Dataset {
                generation,
                result: load_dataset_reporting(source, false, strategy, &grouping)
                    .map(Arc::new)
                    .map_err(JobError::from),
            }
        });
    }

    /// Reads what another process changed in `previous`'s database (see [`reload_dataset`]);
    /// the result is marked `live_reload`. Unchanged data is answered with `previous` itself.
    pub fn reload_database(&mut self, previous: Arc<Dataset>) {
        self.dataset_generation += 1;
        let generation = self.dataset_generation;
        self.spawn("reload-database", move |_| JobResult::Dataset {
            generation,
            result: reload_dataset(&previous)
                .map(|d| match d {
                    Some(mut d) => {
                        d.live_reload = true;
                        Arc::new(d)
                    }
                    None => previous,
                })
                .map_err(JobError::from),
        });
    }

    /// Watches `source` for commits by other processes with a [`ChangeProbe`] (SQLite:
    /// `PRAGMA data_version`; PostgreSQL: a prepared `max(id), count(*)` and the optional
    /// trigger's notifications) on a read-only connection of its own, polled every
    /// [`WATCH_INTERVAL`] (PostgreSQL: [`PG_WATCH_INTERVAL`]) off the UI thread (an idle reader
    /// never blocks a writer). Reports [`JobResult::DatabaseChanged`], and
    /// [`JobResult::SourceHealth`] when the source stops answering or answers again (the probe
    /// reconnects by itself; a change missed meanwhile is reported when it is back). Ends when
    /// another watch starts. Not counted as a pending job: it runs for the whole session.
    pub fn watch_database(&mut self, source: Source, loaded: Option<ChangeToken>) {
        use std::sync::atomic::Ordering;
        let watch = self.watch_generation.fetch_add(1, Ordering::SeqCst) + 1;
        let current = self.watch_generation.clone();
        let sender = self.sender.clone();
        let ctx = self.ctx.clone();
        let interval = if source.is_postgres() {
            PG_WATCH_INTERVAL
        } else {
            WATCH_INTERVAL
        };
        let spawned = std::thread::Builder::new()
            .name("watch-database".to_owned())
            .spawn(move || {
                let mut probe = ChangeProbe::new(source.clone());
                let mut last = loaded;
                let mut reachable = true;
                let mut last_ok: Option<jiff::civil::Time> = None;
                let send = |result: JobResult| {
                    let sent = sender.send(result).is_ok();
                    ctx.request_repaint();
                    sent
                };
                while current.load(Ordering::SeqCst) == watch {
                    let checked = probe.check();
                    if current.load(Ordering::SeqCst) != watch {
                        return;
                    }
                    if checked.is_ok() {
                        last_ok = Some(jiff::Zoned::now().time());
                    }
                    // The window hears when the source stops or starts answering again.
                    if checked.is_ok() != reachable {
                        reachable = checked.is_ok();
                        if let Err(err) = &checked {
                            log::warn!("the open source stopped answering: {err}");
                        }
                        let health = JobResult::SourceHealth {
                            watch,
                            source: source.clone(),
                            reachable,
                            last_ok,
                        };
                        if !send(health) {
                            return;
                        }
                    }
                    // After an error `last` stays: a source that comes back changed is
                    // reloaded (a new SQLite connection's data_version differs, and a reload
                    // that finds every block unchanged costs little).
                    if let Ok(token) = checked {
                        if last.as_ref().is_some_and(|l| *l != token) {
                            let changed = JobResult::DatabaseChanged {
                                watch,
                                source: source.clone(),
                            };
                            if !send(changed) {
                                return;
                            }
                        }
                        last = Some(token);
                    }
                    std::thread::sleep(interval);
                }
            });
        if let Err(err) = spawned {
            log::error!("cannot start the database watcher: {err}");
        }
    }

    /// Generates the demo database if it is not there yet, then loads it.
    pub fn load_demo(&mut self, config: DemoConfig) {
        self.dataset_generation += 1;
        let generation = self.dataset_generation;
        self.demo_generation = generation;
        let ctx = self.ctx.clone();
        self.spawn("demo", move |sender| {
            let result = (|| {
                let path = default_demo_path(&config).ok_or(JobError::NoDataDirectory)?;
                if !path.is_file() {
                    sender
                        .send(JobResult::Progress {
                            generation,
                            what: path.display().to_string(),
                        })
                        .ok();
                    ctx.request_repaint();
                    generate_demo(&config, &path)?;
                }
                Ok(load_dataset(Source::Sqlite(path), true)?)
            })();
            JobResult::Dataset {
                generation,
                result: result.map(Arc::new),
            }
        });
    }

    /// Loads boundaries (`None`: the schematic partition).
    pub fn load_boundaries(&mut self, path: Option<PathBuf>, name_property: Option<String>) {
        self.boundaries_generation += 1;
        let generation = self.boundaries_generation;
        self.spawn("load-boundaries", move |_| {
            let result = match path {
                None => Ok(Boundaries::schematic()),
                Some(path) => Boundaries::from_geojson_file(&path, name_property.as_deref())
                    .map_err(JobError::from),
            };
            JobResult::Boundaries {
                generation,
                result: result.map(|b| Arc::new(BoundarySet::new(b))),
            }
        });
    }

    /// Resolves the municipalities of `dataset` against `boundaries` and builds the columns.
    pub fn resolve(&mut self, dataset: Arc<Dataset>, boundaries: Arc<BoundarySet>) {
        self.resolved_generation += 1;
        let generation = self.resolved_generation;
        self.spawn("resolve", move |_| JobResult::Resolved {
            generation,
            resolved: Arc::new(resolve(dataset, boundaries)),
        });
    }

    /// Recomputes the view for `request`.
    pub fn compute_view(&mut self, resolved: Arc<Resolved>, request: ViewRequest) {
        self.view_generation += 1;
        let generation = self.view_generation;
        self.spawn("view", move |_| JobResult::View {
            generation,
            view: Box::new(compute_view(resolved, request)),
        });
    }

    /// Computes a density surface of `points` (the view's filtered appeals) for `request`.
    pub fn compute_density(&mut self, points: Arc<Vec<[f64; 2]>>, request: DensityRequest) {
        self.density_generation += 1;
        let generation = self.density_generation;
        self.spawn("density", move |_| {
            let started = std::time::Instant::now();
            let surface = request.surface_of(&points, request.mode);
            JobResult::Density {
                generation,
                result: Box::new(DensityResult::new(request, surface, points, started)),
            }
        });
    }

    /// Computes the density surface of a grouped dataset's `filter` for `request`, binned in
    /// the database ([`density_pushdown`]); `points` identifies the view it belongs to.
    pub fn compute_density_pushdown(
        &mut self,
        resolved: Arc<Resolved>,
        filter: Filter,
        points: Arc<Vec<[f64; 2]>>,
        request: DensityRequest,
    ) {
        self.density_generation += 1;
        let generation = self.density_generation;
        self.spawn("density-pushdown", move |_| {
            let started = std::time::Instant::now();
            match density_pushdown(&resolved, &filter, &request) {
                Ok(surface) => JobResult::Density {
                    generation,
                    result: Box::new(DensityResult::new(request, surface, points, started)),
                },
                Err(error) => JobResult::DensityFailed {
                    generation,
                    request,
                    error,
                },
            }
        });
    }

    /// Computes the problem map for `request` (reusing `base` when it serves the request).
    pub fn compute_problems(
        &mut self,
        resolved: Arc<Resolved>,
        request: super::problems::ProblemRequest,
        base: Option<Arc<super::problems::ProblemBase>>,
    ) {
        self.problems_generation += 1;
        let generation = self.problems_generation;
        let hex_grids = self.hex_grids.clone();
        self.spawn("problems", move |_| {
            let (resolved, base) = if resolved.dataset.is_grouped() {
                match problem_rows_and_base_of_grouped(
                    &resolved,
                    &request,
                    PROBLEM_ROWS_MAX,
                    &hex_grids,
                ) {
                    Ok(rows_and_base) => rows_and_base,
                    Err(error) => return JobResult::ProblemsFailed { generation, error },
                }
            } else {
                (resolved, base)
            };
            JobResult::Problems {
                generation,
                result: Box::new(super::problems::compute_problems(resolved, request, base)),
            }
        });
    }

    /// Writes the problem zones of `result` to `path`: GeoJSON, or CSV with a `.csv` name.
    pub fn export_problems(
        &mut self,
        result: Arc<super::problems::ProblemResult>,
        near: &'static str,
        path: PathBuf,
    ) {
        self.spawn("export-problems", move |_| {
            let csv = path
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
            let bytes = if csv {
                crate::analysis::problem_export::problems_csv(&result.map, &result.base.zones, near)
                    .map_err(|e| e.to_string())
            } else {
                Ok(crate::analysis::problem_export::problems_geojson(
                    &result.map,
                    &result.base.zones,
                    &result.base.resolved.boundaries.boundaries,
                    near,
                )
                .into_bytes())
            };
            JobResult::Saved(bytes.and_then(|b| {
                std::fs::write(&path, b)
                    .map(|()| path.clone())
                    .map_err(|e| format!("{e}: {}", path.display()))
            }))
        });
    }

    /// Opens the native file picker.
    pub fn pick_file(
        &mut self,
        purpose: FilePurpose,
        title: String,
        filter_name: &'static str,
        extensions: &'static [&'static str],
    ) {
        self.spawn("file-dialog", move |_| {
            let dialog = rfd::FileDialog::new()
                .set_title(title)
                .add_filter(filter_name, extensions);
            let picked = match purpose {
                FilePurpose::SavePivotCsv => {
                    dialog.set_file_name("teplokarta-pivot.csv").save_file()
                }
                FilePurpose::SaveHeat => dialog.set_file_name("teplokarta-heat.tif").save_file(),
                FilePurpose::SaveProblems => dialog
                    .set_file_name("teplokarta-problems.geojson")
                    .save_file(),
                FilePurpose::ImportTarget => dialog.set_file_name("appeals.sqlite").save_file(),
                FilePurpose::ExportViews => dialog
                    .set_file_name("views.teplokarta-views.json")
                    .save_file(),
                FilePurpose::OpenTileFolder(_) => dialog.pick_folder(),
                FilePurpose::ExportMap(ext) => dialog
                    .set_file_name(format!("teplokarta.{ext}"))
                    .save_file(),
                _ => dialog.pick_file(),
            };
            JobResult::Picked(purpose, picked)
        });
    }

    /// Runs `teplokarta export` with `args` through `runner` (File → Export map…), then removes
    /// `views_file`
    /// (the temporary views file the args may name).
    pub fn export_map(
        &mut self,
        runner: super::export::ExportRunner,
        args: Vec<std::ffi::OsString>,
        views_file: PathBuf,
    ) {
        self.spawn("export-map", move |_| {
            let result = runner(args).map_err(|e| format!("{e:#}"));
            std::fs::remove_file(&views_file).ok();
            JobResult::Exported(result)
        });
    }

    /// Compares two periods (the split view and the difference layer).
    pub fn compute_comparison(&mut self, resolved: Arc<Resolved>, request: CompareRequest) {
        self.compare_generation += 1;
        let generation = self.compare_generation;
        self.spawn("compare", move |_| JobResult::Comparison {
            generation,
            result: Box::new(compute_comparison(resolved, request)),
        });
    }

    /// Computes the density surfaces of both periods of a comparison on one grid.
    pub fn compute_compare_density(&mut self, points: PointPair, request: DensityRequest) {
        self.compare_density_generation += 1;
        let generation = self.compare_density_generation;
        self.spawn("compare-density", move |_| JobResult::CompareDensity {
            generation,
            result: Box::new(compute_compare_density(points, request)),
        });
    }

    /// [`Jobs::compute_compare_density`] of a grouped table (binned in the database).
    pub fn compute_compare_density_pushdown(
        &mut self,
        comparison: Arc<Comparison>,
        request: DensityRequest,
    ) {
        self.compare_density_generation += 1;
        let generation = self.compare_density_generation;
        self.spawn(
            "compare-density-pushdown",
            move |_| match compute_compare_density_pushdown(&comparison, request.clone()) {
                Ok(result) => JobResult::CompareDensity {
                    generation,
                    result: Box::new(result),
                },
                Err(error) => JobResult::CompareDensityFailed {
                    generation,
                    request,
                    error,
                },
            },
        );
    }

    /// Class bounds for a time playback: the metric of every frame (`filters`, one per frame)
    /// pooled, so one locked scale keeps the colours of all frames comparable.
    pub fn playback_scale(
        &mut self,
        resolved: Arc<Resolved>,
        base: ViewRequest,
        filters: Vec<crate::analysis::Filter>,
    ) {
        self.playback_generation += 1;
        let generation = self.playback_generation;
        self.spawn("playback-scale", move |_| JobResult::PlaybackScale {
            generation,
            metric: base.metric,
            breaks: pooled_breaks(&resolved, &base, filters),
        });
    }

    /// The egui context the jobs wake.
    pub fn ctx(&self) -> egui::Context {
        self.ctx.clone()
    }

    /// Opens a basemap source (reads a file's header, scans a folder, or sets up the HTTP
    /// cache) off the UI thread.
    pub fn open_basemap(
        &mut self,
        choice: BasemapChoice,
        cache: TileCacheSettings,
        user_opened: bool,
    ) {
        self.basemap_generation += 1;
        let generation = self.basemap_generation;
        self.spawn("basemap", move |_| {
            let result = choice.open(&cache).map_err(|e| e.to_string());
            JobResult::Basemap {
                generation,
                choice,
                user_opened,
                result,
            }
        });
    }

    /// Empties the tile cache of `source`.
    pub fn clear_tile_cache(&mut self, source: Arc<crate::tiles::http::HttpSource>) {
        self.spawn("clear-tile-cache", move |_| {
            JobResult::TileCacheCleared(source.clear_cache().map_err(|e| e.to_string()))
        });
    }

    /// Reads the first rows of `path` and proposes a mapping (the import dialog's preview).
    pub fn preview_import(&mut self, path: PathBuf, read: crate::data::import::read::ReadOptions) {
        self.spawn("import-preview", move |_| {
            JobResult::ImportPreview(
                crate::data::import::preview(&path, &read)
                    .map(Box::new)
                    .map_err(|e| e.to_string()),
            )
        });
    }

    /// Imports `inputs` into `target` (one transaction), reporting progress on the way.
    pub fn import(
        &mut self,
        inputs: Vec<PathBuf>,
        target: PathBuf,
        options: crate::data::import::write::ImportOptions,
    ) {
        let ctx = self.ctx.clone();
        self.spawn("import", move |sender| {
            let mut last = std::time::Instant::now();
            let mut report = |p: &crate::data::import::write::Progress| {
                if last.elapsed() >= std::time::Duration::from_millis(100) {
                    last = std::time::Instant::now();
                    sender.send(JobResult::ImportProgress(*p)).ok();
                    ctx.request_repaint();
                }
            };
            // The target field takes a SQLite path or a PostgreSQL URL (`appeals` table); the
            // reports of a PostgreSQL import go next to the first input.
            let source = crate::data::Source::parse(&target.to_string_lossy(), None);
            let mut options = options;
            if source.is_postgres() && options.report_dir.is_none() {
                options.report_dir = inputs
                    .first()
                    .and_then(|p| p.parent())
                    .map(std::path::Path::to_path_buf);
            }
            let result =
                crate::data::import::write::import_into(&inputs, &source, &options, &mut report)
                    .map(Box::new)
                    .map_err(|e| {
                        let mut text = e.to_string();
                        let mut source = std::error::Error::source(&e);
                        while let Some(s) = source {
                            text.push_str(&format!(": {s}"));
                            source = s.source();
                        }
                        text
                    });
            JobResult::Imported(result)
        });
    }

    /// Computes the density of `points` for `request` in exact mode and writes it to `path`:
    /// a Float32 GeoTIFF, or with a `.png` name a coloured PNG (with `.pgw` and `.prj`)
    /// coloured as `colour` says (top of the scale, threshold, opacity, ramp).
    pub fn export_heat(
        &mut self,
        points: Arc<Vec<[f64; 2]>>,
        request: DensityRequest,
        colour: (f32, f32, f32, crate::ui::theme::DensityRamp),
        path: PathBuf,
    ) {
        self.spawn("export-heat", move |_| {
            let surface = request.surface_of(&points, crate::analysis::Mode::Exact);
            let png = path
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("png"));
            let result = if png {
                let (max, threshold, opacity, ramp) = colour;
                let g = &request.grid;
                let image = crate::ui::theme::density_image(
                    &surface.values,
                    g.width,
                    g.height,
                    max,
                    threshold,
                    opacity,
                    ramp,
                );
                let rgba: Vec<u8> = image
                    .pixels
                    .iter()
                    .flat_map(|c| c.to_srgba_unmultiplied())
                    .collect();
                crate::raster::write_png(&surface, &rgba, &path)
            } else {
                crate::raster::write_geotiff(&surface, &path)
            };
            JobResult::Saved(result.map(|()| path.clone()).map_err(|e| e.to_string()))
        });
    }

    /// Writes `contents` to `path` off the UI thread.
    pub fn save_file(&mut self, path: PathBuf, contents: Vec<u8>) {
        self.spawn("save", move |_| {
            JobResult::Saved(
                std::fs::write(&path, contents)
                    .map(|()| path.clone())
                    .map_err(|e| format!("{e}: {}", path.display())),
            )
        });
    }

    /// Results reported since the last call.
    pub fn drain(&mut self) -> Vec<JobResult> {
        let results: Vec<JobResult> = self.receiver.try_iter().collect();
        let finished = results
            .iter()
            .filter(|r| {
                !matches!(
                    r,
                    JobResult::Progress { .. }
                        | JobResult::Grouping { .. }
                        | JobResult::DatabaseChanged { .. }
                        | JobResult::SourceHealth { .. }
                        | JobResult::ImportProgress(_)
                )
            })
            .count();
        self.pending = self.pending.saturating_sub(finished);
        results
    }
}

/// Opens and loads a database, a SQLite file (a path) or any [`Source`] (runs on a job thread;
/// also used by the command line, tests and benchmarks).
///
/// # Errors
/// The database's error.
pub fn load_dataset(source: impl Into<Source>, is_demo: bool) -> Result<Dataset, DataError> {
    load_dataset_with(source, is_demo, LoadStrategy::Local)
}

/// [`load_dataset`] as the window reads it: a PostgreSQL table the `strategy` pushes down is
/// grouped in the database ([`crate::data::pushdown::grouped_with_check`]) instead of loaded,
/// and keeps its connection for the density surfaces.
///
/// # Errors
/// As [`load_dataset`].
pub fn load_dataset_with(
    source: impl Into<Source>,
    is_demo: bool,
    strategy: LoadStrategy,
) -> Result<Dataset, DataError> {
    load_dataset_reporting(source, is_demo, strategy, &|_| {})
}

/// [`load_dataset_with`], calling `grouping` with the table's row count (when counted) before
/// a table is grouped in the database (which takes a while on a large table).
///
/// # Errors
/// As [`load_dataset`].
pub fn load_dataset_reporting(
    source: impl Into<Source>,
    is_demo: bool,
    strategy: LoadStrategy,
    grouping: &dyn Fn(Option<u64>),
) -> Result<Dataset, DataError> {
    let source = source.into();
    let store = source.open()?;
    if let Store::Postgres(pg) = store {
        if let Some(rows) = strategy.grouping(&pg)? {
            grouping(rows);
            return grouped_dataset(source, *pg);
        }
        return rows_dataset(source, is_demo, Store::Postgres(pg).load_for_watch()?);
    }
    rows_dataset(source, is_demo, store.load_for_watch()?)
}

/// What the views of a grouped table group by.
const WINDOW_GROUPS: crate::data::pushdown::GroupBy = crate::data::pushdown::GroupBy {
    settlement: true,
    month: true,
    names_only: false,
    placement: true,
};

/// A grouped table after rows were only added: the rows above the newest id seen grouped and
/// appended to the groups (an index range on `id`, not a pass over the table). `None` when
/// more changed than that (no new rows — an update the trigger announced —, the count does
/// not grow by the rows appended: deletes, or rows added below the newest id, or the server's
/// statistics count rows updated or deleted since the token) or the change token is missing:
/// then it is grouped again whole. (The statistics lag a writer that stays connected: an
/// update committed with inserts may be taken for an append first, and is grouped again when
/// the counter moves at a later check.)
fn appended(previous: &Dataset) -> Result<Option<Dataset>, DataError> {
    let (Some(store), Some(token)) = (&previous.pushdown, &previous.change_token) else {
        return Ok(None);
    };
    if store.is_closed() {
        // The server went away meanwhile: grouped again on a new connection.
        return Ok(None);
    }
    let (Some(after_id), count, writes) = token.figures() else {
        return Ok(None);
    };
    let into = crate::data::pushdown::Grouped {
        appeals: previous.appeals.clone(),
        weights: previous.weights.clone(),
        coordinate_sums_e7: previous.coordinate_sums_e7.clone(),
    };
    let Some((groups, figures, added)) =
        crate::data::pushdown::grouped_after(store, WINDOW_GROUPS, after_id, into)?
    else {
        return Ok(None);
    };
    // Something changed (the watcher said so): without new rows it was an update or a
    // delete with as many inserts below the newest id, and rows updated or deleted by the
    // statistics (once the writer has published them) tell of an update that came with
    // inserts — not an append.
    if added == 0 || u64::try_from(figures.1 - count).ok() != Some(added) || figures.2 != writes {
        return Ok(None);
    }
    Ok(Some(Dataset::of_groups(
        previous.source.clone(),
        groups,
        figures,
        store.clone(),
    )))
}

/// The whole table grouped by everything the views look at, with its change token.
fn grouped_dataset(source: Source, store: crate::data::PgStore) -> Result<Dataset, DataError> {
    let (groups, figures) = crate::data::pushdown::grouped_with_check(&store, WINDOW_GROUPS)?;
    Ok(Dataset::of_groups(source, groups, figures, Arc::new(store)))
}

fn rows_dataset(source: Source, is_demo: bool, loaded: Loaded) -> Result<Dataset, DataError> {
    let Loaded {
        appeals,
        fingerprint,
        token,
    } = loaded;
    let point_unit = points_unit(&appeals);
    let placed: Vec<(f64, f64)> = (0..appeals.len())
        .filter(|&i| appeals.placement.get(i) == Some(&Placement::Placed))
        .filter_map(|i| Some((*appeals.lon.get(i)?, *appeals.lat.get(i)?)))
        .collect();
    let bounds = robust_bounds(&placed);
    Ok(Dataset {
        source,
        is_demo,
        live_reload: false,
        appeals,
        fingerprint,
        change_token: token,
        point_unit,
        bounds,
        weights: Vec::new(),
        coordinate_sums_e7: Vec::new(),
        pushdown: None,
    })
}

/// `previous`'s database as it is now, reading only the blocks of rows another process
/// inserted, updated or deleted since (see [`crate::data::AppealStore::load_changes`]; a
/// PostgreSQL table is read again whole); `None` when nothing changed. The map's bounds are
/// kept (the view does not jump while following).
///
/// # Errors
/// [`DataError`] of the database, as for [`load_dataset`].
pub fn reload_dataset(previous: &Dataset) -> Result<Option<Dataset>, DataError> {
    if previous.is_grouped() {
        let mut again = match appended(previous)? {
            Some(appended) => appended,
            // Grouped again whole (one pass in the database).
            None => load_dataset_with(previous.source.clone(), false, LoadStrategy::Pushdown)?,
        };
        // The map keeps its place.
        again.live_reload = true;
        again.bounds = previous.bounds;
        return Ok(Some(again));
    }
    let store = previous.source.open()?;
    let change = store.load_changes(previous.fingerprint.as_ref())?;
    let (appeals, fingerprint, change_token) = match change {
        ChangeSet::Unchanged => return Ok(None),
        ChangeSet::Changes {
            ranges,
            rows,
            fingerprint,
        } => (
            previous.appeals.with_ranges_replaced(&ranges, *rows),
            Some(fingerprint),
            None,
        ),
        ChangeSet::NeedsFullLoad => {
            let loaded = store.load_for_watch()?;
            (loaded.appeals, loaded.fingerprint, loaded.token)
        }
    };
    Ok(Some(Dataset {
        source: previous.source.clone(),
        is_demo: previous.is_demo,
        live_reload: true,
        point_unit: points_unit(&appeals),
        appeals,
        fingerprint,
        change_token,
        bounds: previous.bounds,
        weights: Vec::new(),
        coordinate_sums_e7: Vec::new(),
        pushdown: None,
    }))
}

/// The density surface of a grouped dataset's `filter` (the fast mode, whatever `request`
/// says): the placed appeals binned in the database by [`crate::data::pushdown::binned_fixed`]
/// on `request`'s grid, the kernel's stencils applied here (`density_fast_binned`), as the
/// command line's `heat --strategy pushdown` does. With a municipality filter the server keeps
/// the rows whose text belongs to the kept municipalities, and the grouped rows without a text
/// (placed by point-in-polygon here; they hold their points) are binned here.
///
/// # Errors
/// The server's error; [`DataError::PushdownDensity`] when the kernel spans too many bins of
/// the fast mode at this zoom or the table's columns cannot be filtered exactly in SQL.
pub fn density_pushdown(
    resolved: &Resolved,
    filter: &Filter,
    request: &DensityRequest,
) -> Result<Surface, JobError> {
    use crate::analysis::{FastBinning, Kernel, density_fast_binned};
    use crate::data::DensityLimit;
    use crate::data::pushdown::{BinParams, binned_fixed};
    let dataset = &resolved.dataset;
    let store = live_store(dataset)?;
    let appeals = &dataset.appeals;
    let mut exact = filter.exact_filter();
    let mut local: Vec<(f64, f64)> = Vec::new();
    if !filter.municipalities.is_empty() {
        let masks = Masks::new(filter, appeals, &resolved.resolution, &resolved.columns);
        let kept = |label: u32| {
            masks
                .label
                .as_ref()
                .is_none_or(|keep| keep.get(label as usize).copied().unwrap_or(false))
        };
        let mut texts = std::collections::BTreeSet::new();
        for (i, code) in appeals.municipality.iter().enumerate() {
            if let (Some(code), Some(&label)) = (code, resolved.resolution.row_label.get(i))
                && kept(label)
            {
                texts.insert(appeals.municipalities.name(*code).to_owned());
            }
        }
        exact.municipality_texts = Some(texts.into_iter().collect());
        for i in masks.rows(&resolved.columns) {
            let i = i as usize;
            let untexted = appeals.municipality.get(i) == Some(&None);
            if untexted
                && appeals.placement.get(i) == Some(&Placement::Placed)
                && let (Some(&lon), Some(&lat)) = (appeals.lon.get(i), appeals.lat.get(i))
            {
                let weight = dataset.weights.get(i).copied().unwrap_or(1) as usize;
                local.extend(std::iter::repeat_n((lon, lat), weight));
            }
        }
    }
    let fast = FastBinning::new(&request.grid, request.radius_m)
        .ok_or(DataError::PushdownDensity(DensityLimit::RadiusTooWide))?;
    let params = BinParams::from(fast);
    let in_range = |text: &str| filter.receives_in_range(text);
    let mut binned = binned_fixed(&store, &exact, &in_range, params)
        .map_err(DataError::from)?
        .ok_or(DataError::PushdownDensity(DensityLimit::InexactColumns))?;
    binned.points.extend(local);
    let surface_of = |kernel: Kernel| {
        density_fast_binned(
            &binned.bins,
            &binned.points,
            &request.grid,
            kernel,
            request.radius_m,
        )
        .ok_or(DataError::PushdownDensity(DensityLimit::BinningChanged))
    };
    let mut surface = surface_of(request.kernel)?;
    if let Some(k) = request.k.filter(|&k| k > 1) {
        let reach = surface_of(Kernel::Uniform)?;
        crate::analysis::export::hide_cells_under_k(
            &mut surface.values,
            &reach.values,
            request.radius_m,
            k,
        );
    }
    Ok(surface)
}

/// The grouped table's connection, or a new one when the server went away since (the table
/// is then grouped again at the next change; until then each job connects anew).
///
/// # Errors
/// [`DensityLimit::NotGrouped`](crate::data::DensityLimit), or the connection's error.
fn live_store(dataset: &Dataset) -> Result<Arc<crate::data::PgStore>, DataError> {
    let Some(store) = dataset.pushdown.as_ref() else {
        return Err(DataError::PushdownDensity(
            crate::data::DensityLimit::NotGrouped,
        ));
    };
    if !store.is_closed() {
        return Ok(store.clone());
    }
    match dataset.source.open()? {
        crate::data::Store::Postgres(store) => Ok(Arc::new(*store)),
        crate::data::Store::Sqlite(_) => Err(DataError::PushdownDensity(
            crate::data::DensityLimit::NotGrouped,
        )),
    }
}

/// Rows of a grouped table loaded for the problem map, at most this many.
pub const PROBLEM_ROWS_MAX: u64 = crate::data::DEFAULT_PUSHDOWN_ABOVE;

/// The problem map of a grouped table needs rows (points, answer times, settlements): the rows
/// its filter and profile can keep (their prefilters, applied in SQL) are loaded and resolved
/// against the same boundaries — refused above `max_rows` (the window's is [`PROBLEM_ROWS_MAX`])
/// — with the grouped table's
/// dictionaries, so they have the same municipality labels and so the same municipality zones.
/// For that zoning, every row of a municipality text that names no unit is loaded too: such a
/// zone is placed at the mean of all its appeals, as in a full load. Settlement and hexagon
/// zones are built from the loaded rows (a settlement's marker is the centroid of the loaded
/// appeals, hexagons without a spacing take it from their extent).
///
/// # Errors
/// The server's error, or [`DataError::TooManyRows`].
pub fn problem_rows_of_grouped(
    resolved: &Resolved,
    request: &super::problems::ProblemRequest,
    max_rows: u64,
) -> Result<Resolved, JobError> {
    use crate::data::pushdown::{count, load_prefiltered};
    let dataset = &resolved.dataset;
    let store = live_store(dataset)?;
    let store = &store;
    let seed = Appeals::with_dictionaries_of(&dataset.appeals);
    // Texts that name no unit: their zones stand at the mean of all their appeals.
    let mut unplaced_labels: Vec<String> = Vec::new();
    if request.zones == crate::analysis::problems::ZoneKind::Municipalities {
        let resolution = &resolved.resolution;
        let mut seen = std::collections::HashSet::new();
        for (i, code) in dataset.appeals.municipality.iter().enumerate() {
            if let (Some(code), Some(&label)) = (code, resolution.row_label.get(i))
                && resolution.unit_of_label.get(label as usize) == Some(&None)
                && label != resolution.unknown_label
                && seen.insert(*code)
            {
                unplaced_labels.push(dataset.appeals.municipalities.name(*code).to_owned());
            }
        }
    }
    let prefilter = problem_prefilter(request);
    if let Some(prefilter) = &prefilter {
        let rows = count(store, prefilter).map_err(DataError::from)?;
        if rows > max_rows {
            return Err(DataError::TooManyRows {
                rows,
                max: max_rows,
            }
            .into());
        }
    }
    let appeals = load_prefiltered(store, prefilter.as_ref(), &unplaced_labels, seed)
        .map_err(DataError::from)?;
    let subset = Dataset {
        source: dataset.source.clone(),
        is_demo: false,
        live_reload: dataset.live_reload,
        point_unit: points_unit(&appeals),
        appeals,
        fingerprint: None,
        change_token: None,
        bounds: dataset.bounds,
        weights: Vec::new(),
        coordinate_sums_e7: Vec::new(),
        pushdown: None,
    };
    let mut rows = resolve(Arc::new(subset), resolved.boundaries.clone());
    // The data's first and last day are the table's (an open period ends there, and "overdue"
    // is judged at its last day), not the loaded rows'.
    rows.columns.day_range = resolved.columns.day_range;
    Ok(rows)
}

/// The data stamp of an export (its data hash and newest receipt,
/// [`crate::analysis::export::DataStamp`]) of `dataset`'s rows: of the loaded rows, or, for a
/// table grouped in the database, of one pass over its rows in batches
/// ([`crate::data::PgStore::for_each_batch`]) — the hash a full load gives, in the memory of
/// one batch (read in a snapshot of its own, after the grouping's).
///
/// # Errors
/// The server's error.
pub fn data_stamp_of(dataset: &Dataset) -> Result<crate::analysis::export::DataStamp, JobError> {
    use crate::analysis::export::{DataHasher, data_stamp};
    match &dataset.pushdown {
        None => Ok(data_stamp(&dataset.appeals)),
        Some(store) => {
            let mut hasher = DataHasher::default();
            store
                .for_each_batch(&mut |batch| hasher.add(batch))
                .map_err(DataError::from)?;
            Ok(hasher.finish())
        }
    }
}

/// The rows the problem map of `request` needs from a grouped table ([`problem_rows_of_grouped`],
/// at most `max_rows`) and, for settlement and hexagon zones, the whole table's zones with those
/// rows put in them: every settlement at the centroid of all its appeals, from the groups
/// ([`settlement_zones_of_grouped`]), every hexagon cell from one pass over the table's points
/// (kept in `hex_grids` for the next request), as a full load has them — so Gi* compares the
/// same zones. Municipality zones are built from the rows as usual (`None`).
///
/// # Errors
/// As [`problem_rows_of_grouped`]; the server's error; [`JobError::HexagonsOfGroups`].
pub fn problem_rows_and_zones_of_grouped(
    resolved: &Arc<Resolved>,
    request: &super::problems::ProblemRequest,
    max_rows: u64,
    hex_grids: &HexGridCache,
) -> Result<(Arc<Resolved>, Option<crate::analysis::problems::Zones>), JobError> {
    use crate::analysis::problems::{ZoneKind, hexagon_zones_of_groups};
    let rows = Arc::new(problem_rows_of_grouped(resolved, request, max_rows)?);
    let zones = match request.zones {
        ZoneKind::Municipalities => None,
        ZoneKind::Settlements => Some(settlement_zones_of_grouped(resolved, &rows)),
        ZoneKind::Hexagons => {
            let grid = hex_grids.grid(resolved, request.cell_km)?;
            let (dataset, set) = (&resolved.dataset, &resolved.boundaries);
            Some(hexagon_zones_of_groups(
                &grid,
                &dataset.appeals,
                &resolved.resolution,
                &dataset.weights,
                &dataset.coordinate_sums_e7,
                &set.boundaries,
                &set.locator,
                &rows.dataset.appeals,
                &rows.resolution,
            ))
        }
    };
    Ok((rows, zones))
}

/// [`problem_rows_and_zones_of_grouped`] with the zones as the problem map's base.
///
/// # Errors
/// As [`problem_rows_and_zones_of_grouped`].
pub fn problem_rows_and_base_of_grouped(
    resolved: &Arc<Resolved>,
    request: &super::problems::ProblemRequest,
    max_rows: u64,
    hex_grids: &HexGridCache,
) -> Result<(Arc<Resolved>, Option<Arc<super::problems::ProblemBase>>), JobError> {
    let (rows, zones) = problem_rows_and_zones_of_grouped(resolved, request, max_rows, hex_grids)?;
    let base = zones.map(|zones| {
        Arc::new(super::problems::ProblemBase::with_zones(
            rows.clone(),
            request,
            zones,
        ))
    });
    Ok((rows, base))
}

/// A grouped table's hexagon grid (spacing and cells), kept for the next problem map of the
/// same table and spacing: a filter change reads the table's points again only when the table
/// (a reload) or the spacing changed.
#[derive(Default)]
pub struct HexGridCache(std::sync::Mutex<Option<CachedHexGrid>>);

struct CachedHexGrid {
    table: std::sync::Weak<Resolved>,
    cell_km: Option<f64>,
    grid: Arc<(f64, crate::analysis::problems::HexCells)>,
}

impl HexGridCache {
    /// The grid of `grouped` for `cell_km` (the default spacing when `None`), from this cache
    /// or one pass over the table's placed points.
    fn grid(
        &self,
        grouped: &Arc<Resolved>,
        cell_km: Option<f64>,
    ) -> Result<Arc<(f64, crate::analysis::problems::HexCells)>, JobError> {
        // Held through the pass: a second request for the same grid waits for it.
        let mut slot = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let wanted = std::sync::Arc::downgrade(grouped);
        if let Some(cached) = slot.as_ref()
            && cached.table.ptr_eq(&wanted)
            && cached.cell_km.map(f64::to_bits) == cell_km.map(f64::to_bits)
        {
            return Ok(cached.grid.clone());
        }
        let grid = Arc::new(hexagon_grid_of_grouped(grouped, cell_km)?);
        *slot = Some(CachedHexGrid {
            table: wanted,
            cell_km,
            grid: grid.clone(),
        });
        Ok(grid)
    }
}

/// The hexagon grid of the grouped table `grouped` (spacing `cell_km`, or the default from all
/// its placed appeals): one pass over the table's placed points in the load's order
/// ([`crate::data::pushdown::placed_points`]) gives the cells a full load gives, numbered
/// alike, without holding the points.
///
/// # Errors
/// The server's error; [`JobError::HexagonsOfGroups`] when the coordinates are not numbers.
fn hexagon_grid_of_grouped(
    grouped: &Resolved,
    cell_km: Option<f64>,
) -> Result<(f64, crate::analysis::problems::HexCells), JobError> {
    use crate::analysis::problems::{HexGridBuilder, PlacedExtent};
    use crate::data::pushdown::{PlacedEvent, placed_points};
    let store = live_store(&grouped.dataset)?;
    let mut grid: Option<HexGridBuilder> = None;
    let numeric = placed_points(&store, &mut |event| match event {
        PlacedEvent::Figures((n, lon_min, lat_min, lon_max, lat_max, lat_e7_sum)) => {
            let extent = PlacedExtent {
                n,
                lon_min,
                lat_min,
                lon_max,
                lat_max,
                lat_e7_sum,
            };
            grid = Some(HexGridBuilder::new(extent, cell_km));
        }
        PlacedEvent::Point(lon, lat) => {
            if let Some(grid) = grid.as_mut() {
                grid.add(lon, lat);
            }
        }
    })
    .map_err(DataError::from)?;
    match (numeric, grid) {
        (true, Some(grid)) => Ok(grid.finish()),
        _ => Err(JobError::HexagonsOfGroups),
    }
}

/// The settlement zones of the grouped table `grouped` (all its settlements, at the centroids
/// of all their appeals, from the groups' coordinate sums) with `rows`, loaded from it for the
/// problem map, put in them.
pub fn settlement_zones_of_grouped(
    grouped: &Resolved,
    rows: &Resolved,
) -> crate::analysis::problems::Zones {
    let dataset = &grouped.dataset;
    crate::analysis::problems::settlement_zones_of_groups(
        &dataset.appeals,
        &grouped.resolution,
        &dataset.weights,
        &dataset.coordinate_sums_e7,
        &rows.dataset.appeals,
        &rows.resolution,
    )
}

/// The rows the problem map of `request` can keep, as a prefilter SQL applies: its filter's and
/// its profile's; `None` when they have nothing in common (no row passes).
pub fn problem_prefilter(
    request: &super::problems::ProblemRequest,
) -> Option<crate::data::pushdown::Prefilter> {
    let profile = crate::analysis::problems::profile_filter(&request.settings.profile);
    request.filter.prefilter().and(&profile.prefilter())
}

/// Web-Mercator unit coordinates of every row (NaN where not placed).
fn points_unit(appeals: &Appeals) -> Vec<[f64; 2]> {
    (0..appeals.len())
        .map(|i| {
            match (
                appeals.placement.get(i),
                appeals.lon.get(i),
                appeals.lat.get(i),
            ) {
                (Some(Placement::Placed), Some(&lon), Some(&lat)) => {
                    let (x, y) = mercator_unit_from_lon_lat(lon, lat);
                    [x, y]
                }
                _ => [f64::NAN, f64::NAN],
            }
        })
        .collect()
}

/// Resolves municipalities and builds the columns (job thread; also used by tests).
pub fn resolve(dataset: Arc<Dataset>, boundaries: Arc<BoundarySet>) -> Resolved {
    let resolution = MunicipalityResolution::with_boundaries_weighted(
        &dataset.appeals,
        Some((&boundaries.boundaries, &boundaries.locator)),
        &dataset.weights,
    );
    let mut columns = Columns::new(&dataset.appeals, &resolution);
    columns.weight.clone_from(&dataset.weights);
    let unit_labels = boundaries
        .boundaries
        .units
        .iter()
        .map(|u| match u.municipality {
            Some(m) => m as u32,
            None => resolution
                .labels
                .iter()
                .position(|l| *l == u.name)
                .map_or(resolution.unknown_label, |i| i as u32),
        })
        .collect();
    Resolved {
        dataset,
        boundaries,
        resolution,
        columns,
        unit_labels,
    }
}

/// Computes the view for a request (job thread; also used by tests and benchmarks).
/// The metric per label for `request`'s filter, as the map colours it.
struct LabelValues {
    masks: Masks,
    aggregates: Aggregates,
    /// Metric value per label; `None` is "no data" and every label the filter leaves out.
    values: Vec<Option<f64>>,
    in_filter: Vec<bool>,
    /// Labels on the map (each once: a municipality of several polygons counts once) and in the
    /// filter.
    on_map: Vec<bool>,
}

impl LabelValues {
    fn new(resolved: &Resolved, request: &ViewRequest) -> Self {
        let masks = Masks::new(
            &request.filter,
            &resolved.dataset.appeals,
            &resolved.resolution,
            &resolved.columns,
        );
        let aggregates = aggregate(&resolved.columns, &masks);
        let mut values = metric_values(request.metric, &aggregates, &resolved.resolution);
        let in_filter: Vec<bool> = match &masks.label {
            Some(keep) => keep.clone(),
            None => vec![true; values.len()],
        };
        for (value, keep) in values.iter_mut().zip(&in_filter) {
            if !keep {
                *value = None;
            }
        }
        let mut on_map = vec![false; values.len()];
        for &l in &resolved.unit_labels {
            if let Some(x) = on_map.get_mut(l as usize) {
                *x = in_filter.get(l as usize).copied().unwrap_or(false);
            }
        }
        Self {
            masks,
            aggregates,
            values,
            in_filter,
            on_map,
        }
    }

    /// The values of the labels on the map: what class breaks are taken over.
    fn on_map_values(&self) -> impl Iterator<Item = f64> + '_ {
        self.on_map
            .iter()
            .enumerate()
            .filter(|(_, on)| **on)
            .filter_map(|(l, _)| self.values.get(l).copied().flatten())
    }
}

pub fn compute_view(resolved: Arc<Resolved>, request: ViewRequest) -> View {
    let started = std::time::Instant::now();
    let appeals = &resolved.dataset.appeals;
    let label_values = LabelValues::new(&resolved, &request);
    let ranks = ranks(&label_values.values, &label_values.on_map);
    let breaks = request.locked_breaks.clone().unwrap_or_else(|| {
        let map_values: Vec<f64> = label_values.on_map_values().collect();
        breaks(request.classification, &map_values, request.classes)
    });
    let LabelValues {
        masks,
        aggregates,
        values,
        in_filter,
        ..
    } = label_values;
    let points_unit = Arc::new(points_of(&resolved, &masks));
    let details = request
        .selected
        .map(|label| details(appeals, &resolved.columns, &masks, label));
    let pivot = pivot_table(
        &aggregates,
        &resolved.resolution,
        appeals,
        PIVOT_CATEGORIES,
        masks.label.as_deref(),
    );
    let summary = summary_of(&aggregates, appeals, &resolved.resolution);
    View {
        request,
        resolved: resolved.clone(),
        aggregates,
        values,
        in_filter,
        ranks,
        pivot,
        summary,
        breaks,
        points_unit,
        details,
        elapsed: started.elapsed(),
    }
}

/// The points of the rows `masks` keeps, Web-Mercator unit coordinates (unplaced rows left
/// out).
fn points_of(resolved: &Resolved, masks: &Masks) -> Vec<[f64; 2]> {
    masks
        .rows(&resolved.columns)
        .into_iter()
        .filter_map(|i| resolved.dataset.point_unit.get(i as usize).copied())
        .filter(|p| p[0].is_finite())
        .collect()
}

/// Class bounds of `base`'s metric over every filter of `filters` pooled (one scale for all
/// frames of a playback, on screen or in a GIF).
pub fn pooled_breaks(resolved: &Resolved, base: &ViewRequest, filters: Vec<Filter>) -> Vec<f64> {
    let mut pooled = Vec::new();
    for filter in filters {
        let request = ViewRequest {
            filter,
            ..base.clone()
        };
        pooled.extend(LabelValues::new(resolved, &request).on_map_values());
    }
    crate::analysis::breaks(base.classification, &pooled, base.classes)
}

/// Compares period A with period B (job thread; also used by tests).
pub fn compute_comparison(resolved: Arc<Resolved>, request: CompareRequest) -> Comparison {
    use crate::analysis::compare;
    let started = std::time::Instant::now();
    let b_request = &request.b;
    let a_request = ViewRequest {
        filter: compare::filter_a(&b_request.filter, request.a),
        ..b_request.clone()
    };
    let a = LabelValues::new(&resolved, &a_request);
    let b = LabelValues::new(&resolved, b_request);
    let breaks = b_request.locked_breaks.clone().unwrap_or_else(|| {
        let pooled: Vec<f64> = a.on_map_values().chain(b.on_map_values()).collect();
        breaks(b_request.classification, &pooled, b_request.classes)
    });
    let difference_metric = compare::difference_metric(b_request.metric);
    let difference = if difference_metric == b_request.metric {
        compare::difference(&a.values, &b.values)
    } else {
        let of = |r: &ViewRequest| {
            LabelValues::new(
                &resolved,
                &ViewRequest {
                    metric: difference_metric,
                    ..r.clone()
                },
            )
            .values
        };
        compare::difference(&of(&a_request), &of(b_request))
    };
    let on_map_differences: Vec<f64> = b
        .on_map
        .iter()
        .enumerate()
        .filter(|(_, on)| **on)
        .filter_map(|(l, _)| difference.get(l).copied().flatten())
        .collect();
    let difference_breaks = compare::diverging_breaks(
        b_request.classification,
        &on_map_differences,
        b_request.classes,
    );
    let side = |values: LabelValues, filter: Filter| CompareSide {
        points_unit: Arc::new(points_of(&resolved, &values.masks)),
        counts: values.aggregates.by_label.clone(),
        total: values.aggregates.total,
        values: values.values,
        filter,
    };
    let in_filter = b.in_filter.clone();
    let a = side(a, a_request.filter.clone());
    let b = side(b, b_request.filter.clone());
    Comparison {
        request,
        resolved: resolved.clone(),
        a,
        b,
        in_filter,
        breaks,
        difference_metric,
        difference,
        difference_breaks,
        elapsed: started.elapsed(),
    }
}

/// The density surfaces of both periods on `request`'s grid, their shared scale and their
/// difference (job thread; also used by tests).
pub fn compute_compare_density(points: PointPair, request: DensityRequest) -> CompareDensity {
    let a = request.surface_of(&points.0, request.mode);
    let b = request.surface_of(&points.1, request.mode);
    compare_surfaces(points, request, a, b)
}

/// [`compute_compare_density`] of a grouped table: each period binned in the database by
/// [`density_pushdown`].
///
/// # Errors
/// As [`density_pushdown`].
pub fn compute_compare_density_pushdown(
    comparison: &Comparison,
    request: DensityRequest,
) -> Result<CompareDensity, JobError> {
    let resolved = &comparison.resolved;
    let a = density_pushdown(resolved, &comparison.a.filter, &request)?;
    let b = density_pushdown(resolved, &comparison.b.filter, &request)?;
    let points = (
        comparison.a.points_unit.clone(),
        comparison.b.points_unit.clone(),
    );
    Ok(compare_surfaces(points, request, a, b))
}

/// The comparison of two periods' surfaces: their shared scale and their difference.
fn compare_surfaces(
    points: PointPair,
    request: DensityRequest,
    a: Surface,
    b: Surface,
) -> CompareDensity {
    let auto_max = a
        .nonzero_quantile(0.99)
        .unwrap_or(0.0)
        .max(b.nonzero_quantile(0.99).unwrap_or(0.0));
    let difference = crate::analysis::compare::surface_difference(&a.values, &b.values);
    let difference_max = crate::analysis::compare::difference_scale(&difference).unwrap_or(0.0);
    CompareDensity {
        request,
        points,
        a,
        b,
        auto_max,
        difference,
        difference_max,
    }
}

/// Number of category columns of the pivot table.
pub const PIVOT_CATEGORIES: usize = 8;

fn robust_bounds(points: &[(f64, f64)]) -> Option<GeoBounds> {
    if points.is_empty() {
        return None;
    }
    let mut lons: Vec<f64> = points.iter().map(|p| p.0).collect();
    let mut lats: Vec<f64> = points.iter().map(|p| p.1).collect();
    lons.sort_by(f64::total_cmp);
    lats.sort_by(f64::total_cmp);
    let at = |v: &[f64], q: f64| {
        v.get(((v.len() - 1) as f64 * q).round() as usize)
            .copied()
            .unwrap_or(0.0)
    };
    Some(GeoBounds {
        lon_min: at(&lons, 0.005),
        lat_min: at(&lats, 0.005),
        lon_max: at(&lons, 0.995),
        lat_max: at(&lats, 0.995),
    })
}
