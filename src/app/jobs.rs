//! Background jobs: loading a database (with its summary and map points), generating the demo,
//! loading boundaries, and the native file picker. Each runs on its own thread and reports
//! through a channel that `App::logic` drains; a frame never waits for SQLite. Results of a
//! superseded request (an older generation) are dropped.

use std::path::PathBuf;
use std::sync::mpsc::{Receiver, Sender, channel};

use crate::analysis::{MunicipalityResolution, Summary, summarize};
use crate::data::{
    AppealStore, Appeals, DemoConfig, LoadOptions, Placement, default_demo_path, generate_demo,
};
use crate::layers::BoundaryGeometry;
use crate::spatial::{Boundaries, GeoBounds, projection::mercator_unit_from_lon_lat};

/// A loaded database with everything the window shows of it.
pub struct Dataset {
    pub path: PathBuf,
    pub is_demo: bool,
    pub appeals: Appeals,
    pub resolution: MunicipalityResolution,
    pub summary: Summary,
    /// Placed appeals in Web-Mercator unit coordinates.
    pub points_unit: Vec<[f64; 2]>,
    /// Bounds of the bulk of the placed appeals (0.5–99.5 percentiles, so a stray point far
    /// away does not shrink the map).
    pub bounds: Option<GeoBounds>,
    /// Count of appeals per municipality unit (index of `spatial::municipalities`).
    pub count_by_unit: Vec<u64>,
}

/// Boundaries with their drawing geometry.
pub struct BoundarySet {
    pub boundaries: Boundaries,
    pub geometry: BoundaryGeometry,
}

impl BoundarySet {
    /// Prepares `boundaries` for drawing.
    pub fn new(boundaries: Boundaries) -> Self {
        let geometry = BoundaryGeometry::new(&boundaries);
        Self {
            boundaries,
            geometry,
        }
    }
}

/// What a job reports.
pub enum JobResult {
    Progress(String),
    Dataset {
        generation: u64,
        result: Result<Box<Dataset>, String>,
    },
    Boundaries {
        generation: u64,
        result: Result<Box<BoundarySet>, String>,
    },
    Picked(Option<PathBuf>),
}

/// The job runner: a channel and the generation counters.
pub struct Jobs {
    sender: Sender<JobResult>,
    receiver: Receiver<JobResult>,
    ctx: egui::Context,
    pub dataset_generation: u64,
    pub boundaries_generation: u64,
    /// Jobs started and not yet reported.
    pub pending: usize,
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
            pending: 0,
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
        let spawned = std::thread::Builder::new()
            .name(name.to_owned())
            .spawn(move || {
                let result = job(&sender);
                sender.send(result).ok();
                ctx.request_repaint();
            });
        if let Err(err) = spawned {
            self.pending -= 1;
            log::error!("cannot start the {name} thread: {err}");
        }
    }

    /// Loads a database.
    pub fn load_database(&mut self, path: PathBuf) {
        self.dataset_generation += 1;
        let generation = self.dataset_generation;
        self.spawn("load-database", move |_| JobResult::Dataset {
            generation,
            result: load_dataset(path, false).map(Box::new),
        });
    }

    /// Generates the demo database if it is not there yet, then loads it.
    pub fn load_demo(&mut self, config: DemoConfig) {
        self.dataset_generation += 1;
        let generation = self.dataset_generation;
        let ctx = self.ctx.clone();
        self.spawn("demo", move |sender| {
            let result = (|| {
                let path = default_demo_path(&config).ok_or_else(|| {
                    "no user data directory to keep the demo database in".to_owned()
                })?;
                if !path.is_file() {
                    sender
                        .send(JobResult::Progress(path.display().to_string()))
                        .ok();
                    ctx.request_repaint();
                    generate_demo(&config, &path).map_err(|e| format!("{e:#}"))?;
                }
                load_dataset(path, true)
            })();
            JobResult::Dataset {
                generation,
                result: result.map(Box::new),
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
                    .map_err(|e| e.to_string()),
            };
            JobResult::Boundaries {
                generation,
                result: result.map(|b| Box::new(BoundarySet::new(b))),
            }
        });
    }

    /// Opens the native file picker.
    pub fn pick_file(
        &mut self,
        title: String,
        filter_name: &'static str,
        extensions: &'static [&'static str],
    ) {
        self.spawn("file-dialog", move |_| {
            let picked = rfd::FileDialog::new()
                .set_title(title)
                .add_filter(filter_name, extensions)
                .pick_file();
            JobResult::Picked(picked)
        });
    }

    /// Results reported since the last call.
    pub fn drain(&mut self) -> Vec<JobResult> {
        let results: Vec<JobResult> = self.receiver.try_iter().collect();
        let finished = results
            .iter()
            .filter(|r| !matches!(r, JobResult::Progress(_)))
            .count();
        self.pending = self.pending.saturating_sub(finished);
        results
    }
}

/// Opens, loads and summarises a database (runs on a job thread; also used by tests).
///
/// # Errors
/// The database's error, as text.
pub fn load_dataset(path: PathBuf, is_demo: bool) -> Result<Dataset, String> {
    let store = AppealStore::open(&path, &LoadOptions::default()).map_err(|e| e.to_string())?;
    let appeals = store.load().map_err(|e| e.to_string())?;
    let resolution = MunicipalityResolution::new(&appeals);
    let all: Vec<u32> = (0..appeals.len() as u32).collect();
    let summary = summarize(&appeals, &resolution, &all);
    let placed: Vec<(f64, f64)> = appeals
        .placement
        .iter()
        .zip(appeals.lon.iter().zip(&appeals.lat))
        .filter(|(p, _)| **p == Placement::Placed)
        .map(|(_, (&lon, &lat))| (lon, lat))
        .collect();
    let points_unit = placed
        .iter()
        .map(|&(lon, lat)| {
            let (x, y) = mercator_unit_from_lon_lat(lon, lat);
            [x, y]
        })
        .collect();
    let bounds = robust_bounds(&placed);
    let mut count_by_unit = vec![0_u64; crate::spatial::municipalities().len()];
    for label in resolution.row_label.iter().flatten() {
        if let Some(unit) = resolution
            .unit_of_label
            .get(*label as usize)
            .copied()
            .flatten()
            && let Some(c) = count_by_unit.get_mut(unit)
        {
            *c += 1;
        }
    }
    Ok(Dataset {
        path,
        is_demo,
        appeals,
        resolution,
        summary,
        points_unit,
        bounds,
        count_by_unit,
    })
}

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
