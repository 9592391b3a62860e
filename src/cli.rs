//! The headless command line: `demo`, `check` and `stats`, over the same library code as the GUI
//! (this is how every number on screen can be checked). The app boundary: errors are `anyhow`
//! with context, printed with their whole chain.

use std::path::PathBuf;

use anyhow::{Context as _, bail};
use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::analysis::{Columns, Dim, Filter, Masks, Metric, MunicipalityResolution, group_counts};
use crate::data::{DemoConfig, Source, generate_demo};
use crate::spatial::{Boundaries, MunicipalityLocator};

mod export;
mod export_pdf;
mod export_render;
mod import;
mod problems;

/// Runs `teplokarta export` with `args` (the words after `export`), as File → Export map…
/// in the window does; returns what it printed.
///
/// # Errors
/// The arguments do not parse, or the export fails.
pub fn export_with_args(args: Vec<std::ffi::OsString>) -> anyhow::Result<String> {
    let argv = ["teplokarta".into(), "export".into()]
        .into_iter()
        .chain(args);
    let cli = Cli::try_parse_from(argv).context("the export's settings")?;
    let Some(Command::Export(args)) = &cli.command else {
        bail!("not an export");
    };
    let mut out = Vec::new();
    export::export(args, &mut out)?;
    Ok(String::from_utf8_lossy(&out).trim().to_owned())
}

/// The largest demo `teplokarta demo` writes (about 5 GB of SQLite).
pub const MAX_DEMO_ROWS: usize = 50_000_000;

/// Teplokarta: heat map and problem map of citizen appeals.
#[derive(Debug, Parser)]
#[command(name = "teplokarta", version = crate::build_info::VERSION, long_version = LONG_VERSION, args_conflicts_with_subcommands = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Appeals database to open in the window: a SQLite file, or a PostgreSQL table given as a
    /// `postgres://user@host/db` URL or a libpq `key=value` string (password from PGPASSWORD or
    /// ~/.pgpass); without it the built-in demo opens.
    pub db: Option<Source>,
    /// The PostgreSQL table (`name` or `schema.name`; default `appeals`).
    #[arg(long, value_name = "TABLE")]
    pub table: Option<String>,
    #[command(flatten)]
    pub boundaries: BoundaryArgs,
    /// Interface language (default: the last choice, else the system locale).
    #[arg(long, value_enum)]
    pub lang: Option<LangArg>,
    /// Start afresh: ignore the remembered database, boundaries, filter and settings.
    #[arg(long)]
    pub fresh: bool,
    /// Basemap: `builtin` (offline, the default), `osm` (OpenStreetMap, cached), an MBTiles or
    /// PMTiles file, a folder of tiles (XYZ or SAS.Planet), or an XYZ URL template such as
    /// `https://tiles.example/{z}/{x}/{y}.png`. Remembered for the next start.
    #[arg(long, value_name = "SOURCE")]
    pub basemap: Option<String>,
    /// The `--basemap` folder stores rows in TMS order (y from the south).
    #[arg(long)]
    pub tms: bool,
    /// How the window reads a PostgreSQL table: `local` loads its rows, `pushdown` groups them
    /// in the database (only aggregates travel), `auto` pushes down above `--pushdown-above`
    /// rows.
    #[arg(long, value_enum, default_value = "auto")]
    pub strategy: Strategy,
    /// Rows in the table above which `--strategy auto` groups it in the database.
    #[arg(long, value_name = "ROWS", default_value_t = DEFAULT_PUSHDOWN_ABOVE)]
    pub pushdown_above: u64,
}

impl Cli {
    /// The window's [`crate::data::LoadStrategy`].
    pub fn load_strategy(&self) -> crate::data::LoadStrategy {
        self.strategy.for_window(self.pushdown_above)
    }
}

impl Strategy {
    /// The window's [`crate::data::LoadStrategy`] for this choice and threshold.
    pub fn for_window(self, above_rows: u64) -> crate::data::LoadStrategy {
        match self {
            Strategy::Auto => crate::data::LoadStrategy::Auto { above_rows },
            Strategy::Local => crate::data::LoadStrategy::Local,
            Strategy::Pushdown => crate::data::LoadStrategy::Pushdown,
        }
    }
}

const LONG_VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (",
    env!("TEPLOKARTA_GIT_HASH"),
    ", built ",
    env!("TEPLOKARTA_BUILD_DATE"),
    ")"
);

/// Interface language on the command line.
#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum LangArg {
    Ru,
    En,
}

/// The database a command reads: a SQLite file or a PostgreSQL table.
#[derive(Debug, Clone, Args)]
pub struct DbArgs {
    /// Appeals database: a SQLite file, or a PostgreSQL `postgres://user@host/db` URL or libpq
    /// `key=value` string (password from PGPASSWORD or ~/.pgpass).
    #[arg(value_name = "DB")]
    pub db: Source,
    /// The PostgreSQL table (`name` or `schema.name`; default `appeals`).
    #[arg(long, value_name = "TABLE")]
    pub table: Option<String>,
}

impl DbArgs {
    /// The source these arguments name.
    ///
    /// # Errors
    /// `--table` given with a SQLite file (whose table is always `appeals`).
    pub fn source(&self) -> anyhow::Result<Source> {
        with_table(&self.db, self.table.as_deref())
    }
}

/// `source` with the `--table` of the command line.
///
/// # Errors
/// `--table` given with a SQLite file.
pub fn with_table(source: &Source, table: Option<&str>) -> anyhow::Result<Source> {
    match (source, table) {
        (Source::Postgres { url, .. }, Some(table)) => Ok(Source::parse(url, Some(table))),
        (Source::Sqlite(path), Some(_)) => bail!(
            "--table applies to a PostgreSQL source only (a SQLite database's table is `appeals`): {}",
            path.display()
        ),
        (source, None) => Ok(source.clone()),
    }
}

/// Where municipality polygons come from.
#[derive(Debug, Clone, Default, Args)]
pub struct BoundaryArgs {
    /// Municipality polygons (GeoJSON FeatureCollection, WGS84) instead of the schematic ones.
    #[arg(long, value_name = "FILE.geojson")]
    pub boundaries: Option<PathBuf>,
    /// Property holding the municipality name (default: detected: name, district, NAME, …).
    #[arg(long, value_name = "PROPERTY", requires = "boundaries")]
    pub name_property: Option<String>,
}

impl BoundaryArgs {
    /// The boundaries these arguments name.
    ///
    /// # Errors
    /// The GeoJSON file cannot be used.
    pub fn load(&self) -> anyhow::Result<Boundaries> {
        match &self.boundaries {
            None => Ok(Boundaries::schematic()),
            Some(path) => Ok(Boundaries::from_geojson_file(
                path,
                self.name_property.as_deref(),
            )?),
        }
    }
}

/// The shared filter as command-line flags.
#[derive(Debug, Clone, Default, Args)]
pub struct FilterArgs {
    /// First day (YYYY-MM-DD, the appeal's local date), inclusive.
    #[arg(long, value_name = "DATE")]
    pub from: Option<String>,
    /// Last day (YYYY-MM-DD), inclusive.
    #[arg(long, value_name = "DATE")]
    pub to: Option<String>,
    /// Category, all its subcategories (repeat for several).
    #[arg(long, value_name = "C")]
    pub category: Vec<String>,
    /// One subcategory as CATEGORY/SUBCATEGORY (repeat for several; `ЖКХ/` is "no subcategory").
    #[arg(long, value_name = "C/S")]
    pub subcategory: Vec<String>,
    /// Source: pos, social, … (repeat for several).
    #[arg(long, value_name = "S")]
    pub source: Vec<String>,
    /// Status: new, in_progress, resolved, rejected, … (repeat for several).
    #[arg(long, value_name = "S")]
    pub status: Vec<String>,
    /// Municipality, any usual spelling (repeat for several).
    #[arg(long, value_name = "M")]
    pub municipality: Vec<String>,
}

impl FilterArgs {
    /// The [`Filter`] these flags describe.
    ///
    /// # Errors
    /// A date is not `YYYY-MM-DD`, or `--from` is after `--to`.
    pub fn to_filter(&self) -> anyhow::Result<Filter> {
        let date = |s: &Option<String>, flag: &str| -> anyhow::Result<_> {
            s.as_deref()
                .map(|s| Filter::parse_date(s).with_context(|| format!("--{flag}")))
                .transpose()
        };
        let filter = Filter {
            from: date(&self.from, "from")?,
            to: date(&self.to, "to")?,
            categories: self.category.iter().cloned().collect(),
            subcategories: self
                .subcategory
                .iter()
                .map(|s| Filter::parse_subcategory(s))
                .collect::<Result<_, _>>()?,
            sources: self.source.iter().cloned().collect(),
            statuses: self.status.iter().cloned().collect(),
            municipalities: self.municipality.iter().cloned().collect(),
        };
        filter.validate()?;
        Ok(filter)
    }
}

/// Rows in the filter above which `--strategy auto` computes in PostgreSQL.
pub const DEFAULT_PUSHDOWN_ABOVE: u64 = crate::data::DEFAULT_PUSHDOWN_ABOVE;

/// Where the aggregation of a PostgreSQL source runs.
#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum Strategy {
    /// `pushdown` above `--pushdown-above` rows in the filter, else `local`.
    Auto,
    /// Load the rows into memory (the only strategy for SQLite).
    Local,
    /// `GROUP BY` in PostgreSQL; only aggregates travel.
    Pushdown,
}

/// Output format of `stats`.
#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum Format {
    Table,
    Csv,
}

/// Headless commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write the deterministic demo database (a year of appeals for Tyumen oblast).
    Demo {
        /// Number of appeals.
        #[arg(long, default_value_t = 132_000)]
        rows: usize,
        /// Random seed: the same seed always gives the same database.
        #[arg(long, default_value_t = 2021)]
        seed: u64,
        /// Output SQLite file.
        #[arg(long, value_name = "FILE.sqlite")]
        out: PathBuf,
        /// Replace the output file if it exists.
        #[arg(long)]
        force: bool,
    },
    /// Check a database: rows, date range, statuses and the data-quality figures.
    Check {
        #[command(flatten)]
        db: DbArgs,
        #[command(flatten)]
        boundaries: BoundaryArgs,
        /// Rows per batch when reading a PostgreSQL table: `check` reads it in one pass, a
        /// batch at a time, so its memory does not grow with the table.
        #[arg(long, value_name = "ROWS", default_value_t = 20_000,
              value_parser = clap::value_parser!(i32).range(1..))]
        batch_rows: i32,
    },
    /// Print grouped counts for a filter (equal to SQL GROUP BY on the same filter).
    Stats {
        #[command(flatten)]
        db: DbArgs,
        /// Dimensions, comma separated: municipality, category, subcategory, source, status, settlement, month.
        #[arg(long, value_delimiter = ',', required = true)]
        by: Vec<Dim>,
        #[command(flatten)]
        filter: FilterArgs,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
        /// With `--by municipality`: every municipality with the choropleth's value, rank and
        /// class (exactly what the legend and tooltips show).
        #[arg(long, value_enum)]
        metric: Option<MetricArg>,
        /// Class breaks for `--metric` (as the legend's method).
        #[arg(long, value_enum, default_value_t = ClassificationArg::Quantiles)]
        classification: ClassificationArg,
        /// Number of classes for `--metric` (3–9).
        #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u8).range(3..=9))]
        classes: u8,
        #[command(flatten)]
        boundaries: BoundaryArgs,
        /// Where a PostgreSQL source's counts are computed: `local` loads the rows into memory,
        /// `pushdown` groups them in SQL and only aggregates travel, `auto` pushes down when the
        /// filter keeps more than `--pushdown-above` rows (one `count(*)` decides).
        #[arg(long, value_enum, default_value_t = Strategy::Auto)]
        strategy: Strategy,
        /// The `auto` strategy's threshold, in rows kept by the filter.
        #[arg(long, value_name = "N", default_value_t = DEFAULT_PUSHDOWN_ABOVE)]
        pushdown_above: u64,
    },
    /// Time the window's data path on a database (load, resolve, recompute per filter change)
    /// and report the peak resident memory.
    Bench(BenchArgs),
    /// Write the kernel-density surface of the filtered appeals as a georeferenced raster:
    /// Float32 GeoTIFF (EPSG:3857) for `.tif`, coloured PNG with `.pgw` and `.prj` for `.png`.
    Heat(HeatArgs),
    /// The problem map: zones where the appeals of a problem profile recur (Gi* hot spots,
    /// trend, intervention, service level), as GeoJSON/CSV or a ranked table.
    Problems(problems::ProblemArgs),
    /// Import appeals exports (CSV in UTF-8/Windows-1251/KOI8-R, Excel, GeoJSON) into a
    /// database that follows the contract, in one transaction, without duplicates.
    Import(import::ImportArgs),
    /// Export the aggregates behind a view (the choropleth's municipalities or a problem
    /// profile's zones) as CSV or GeoJSON, with k-anonymity and a provenance (filter in words,
    /// data timestamp, hashes of the data and the settings, version).
    Export(export::ExportArgs),
}

/// Measures the window's data path headless: load → resolve → views, with the peak memory.
#[derive(Debug, Args)]
pub struct BenchArgs {
    #[command(flatten)]
    pub db: DbArgs,
    #[command(flatten)]
    pub boundaries: BoundaryArgs,
    /// Filter changes to time.
    #[arg(long, default_value_t = 20)]
    pub rounds: usize,
    /// How a PostgreSQL table is read, as the window reads it: rows loaded (`local`), or
    /// grouped in the database with the density binned there (`pushdown`); `auto` groups
    /// above `--pushdown-above` rows.
    #[arg(long, value_enum, default_value = "auto")]
    pub strategy: Strategy,
    /// Rows in the table above which `--strategy auto` groups it in the database.
    #[arg(long, value_name = "ROWS", default_value_t = DEFAULT_PUSHDOWN_ABOVE)]
    pub pushdown_above: u64,
}

/// Arguments of `heat`.
#[derive(Debug, Args)]
pub struct HeatArgs {
    #[command(flatten)]
    pub db: DbArgs,
    #[command(flatten)]
    pub filter: FilterArgs,
    /// Area to cover: LON_MIN,LAT_MIN,LON_MAX,LAT_MAX (default: the bulk of the appeals).
    #[arg(long, value_name = "LON_MIN,LAT_MIN,LON_MAX,LAT_MAX")]
    pub bbox: Option<String>,
    /// Raster size in pixels, WIDTHxHEIGHT (cells are square; the box grows to fit).
    #[arg(long, default_value = "1024x1024")]
    pub size: String,
    /// Kernel radius on the ground, metres.
    #[arg(long, default_value_t = 2_000.0)]
    pub radius_m: f64,
    #[arg(long, value_enum, default_value_t = KernelArg::Quartic)]
    pub kernel: KernelArg,
    /// exact: every appeal at its position; fast: binned 4× finer first.
    #[arg(long, value_enum, default_value_t = ModeArg::Exact)]
    pub mode: ModeArg,
    /// What each appeal weighs.
    #[arg(long, value_enum, default_value_t = WeightArg::One)]
    pub weight: WeightArg,
    /// PNG only: the density at the top of the colour ramp (default: the 99th percentile of
    /// the non-zero cells).
    #[arg(long)]
    pub max: Option<f64>,
    /// PNG only: densities at or below this are transparent.
    #[arg(long, default_value_t = 0.0)]
    pub min: f64,
    /// Output file: `.tif`/`.tiff` or `.png`.
    #[arg(long)]
    pub out: PathBuf,
    #[command(flatten)]
    pub boundaries: BoundaryArgs,
    /// A PostgreSQL source's binning: `pushdown` counts the appeals per fast-mode bin in SQL
    /// (`--mode fast`, `--weight one`, no `--municipality`); `auto` does when the filter keeps
    /// more than `--pushdown-above` rows and those conditions hold.
    #[arg(long, value_enum, default_value_t = Strategy::Auto)]
    pub strategy: Strategy,
    /// The `auto` strategy's threshold, in rows kept by the filter.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_PUSHDOWN_ABOVE)]
    pub pushdown_above: u64,
}

/// Kernel shapes on the command line.
#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum KernelArg {
    Quartic,
    Triangular,
    Uniform,
    Triweight,
    Epanechnikov,
    Gaussian,
}

/// Density modes on the command line.
#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum ModeArg {
    Exact,
    Fast,
}

/// Weights on the command line.
#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum WeightArg {
    /// Every appeal counts 1.
    One,
    /// Only appeals not yet answered count (1), the others 0.
    Unresolved,
    /// Each appeal counts its days open (to its answer, or to the last day of the data).
    DaysOpen,
}

/// A classification method on the command line.
#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum ClassificationArg {
    Quantiles,
    Equal,
    Jenks,
}

impl From<ClassificationArg> for crate::analysis::Classification {
    fn from(c: ClassificationArg) -> Self {
        match c {
            ClassificationArg::Quantiles => Self::Quantiles,
            ClassificationArg::Equal => Self::EqualIntervals,
            ClassificationArg::Jenks => Self::NaturalBreaks,
        }
    }
}

/// A choropleth metric on the command line.
#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum MetricArg {
    /// Appeals in the period.
    Count,
    /// Appeals per 10,000 residents.
    Per10k,
    /// Share not yet answered, %.
    Unresolved,
    /// Change against the previous period of the same length, % (needs --from and --to).
    Change,
}

impl From<MetricArg> for Metric {
    fn from(m: MetricArg) -> Self {
        match m {
            MetricArg::Count => Metric::Count,
            MetricArg::Per10k => Metric::Per10k,
            MetricArg::Unresolved => Metric::Unresolved,
            MetricArg::Change => Metric::Change,
        }
    }
}

/// Runs a headless command, writing to `out`.
///
/// # Errors
/// Any failure, with context naming the file.
pub fn run(command: &Command, out: &mut dyn std::io::Write) -> anyhow::Result<()> {
    match command {
        Command::Demo {
            rows,
            seed,
            out: path,
            force,
        } => {
            if *rows > MAX_DEMO_ROWS {
                bail!("--rows {rows} is more than the demo generator writes ({MAX_DEMO_ROWS})");
            }
            if path.exists() && !force {
                bail!("{} exists; use --force to replace it", path.display());
            }
            let config = DemoConfig {
                rows: *rows,
                seed: *seed,
                ..DemoConfig::default()
            };
            let summary = generate_demo(&config, path)
                .with_context(|| format!("generating the demo into {}", path.display()))?;
            writeln!(
                out,
                "wrote {} appeals to {} in {:.2} s",
                summary.rows,
                summary.path.display(),
                summary.elapsed.as_secs_f64()
            )?;
        }
        Command::Check {
            db,
            boundaries,
            batch_rows,
        } => check(&db.source()?, boundaries, *batch_rows, out)?,
        Command::Bench(args) => bench(args, out)?,
        Command::Heat(args) => heat(args, out)?,
        Command::Problems(args) => problems::problems(args, out)?,
        Command::Import(args) => import::import(args, out)?,
        Command::Export(args) => export::export(args, out)?,
        Command::Stats {
            db,
            by,
            filter,
            format,
            metric,
            classification,
            classes,
            boundaries,
            strategy,
            pushdown_above,
        } => match metric {
            Some(MetricArg::Change) if *strategy == Strategy::Pushdown => bail!(
                "--metric change is computed locally only (not yet pushed down): use --strategy local or auto"
            ),
            Some(metric) => {
                let source = db.source()?;
                let store = if matches!(metric, MetricArg::Change) {
                    None
                } else {
                    pushdown_store(&source, *strategy, *pushdown_above, filter)?
                };
                metric_stats(
                    (&source, store.as_ref()),
                    by,
                    filter,
                    (
                        (*metric).into(),
                        (*classification).into(),
                        usize::from(*classes),
                    ),
                    boundaries,
                    *format,
                    out,
                )?;
            }
            None => {
                let source = db.source()?;
                match pushdown_store(&source, *strategy, *pushdown_above, filter)? {
                    Some(store) => {
                        stats_pushdown(&store, &source, by, filter, *format, boundaries, out)?;
                    }
                    None => stats(&source, by, filter, *format, boundaries, out)?,
                }
            }
        },
    }
    Ok(())
}

/// Municipalities of every row, with rows without a text placed by point-in-polygon against
/// the boundaries (the schematic ones by default), as in the window.
fn resolve(
    appeals: &crate::data::Appeals,
    boundary_args: &BoundaryArgs,
) -> anyhow::Result<MunicipalityResolution> {
    let boundaries = boundary_args.load()?;
    let locator = MunicipalityLocator::new(&boundaries);
    Ok(MunicipalityResolution::with_boundaries(
        appeals,
        Some((&boundaries, &locator)),
    ))
}

/// `stats --by municipality --metric M`: every municipality with its count and metric value,
/// exactly as the legend and tooltips show them ("no data" where there is no value).
fn metric_stats(
    (db, pushdown): (&Source, Option<&crate::data::PgStore>),
    by: &[Dim],
    filter_args: &FilterArgs,
    settings: (Metric, crate::analysis::Classification, usize),
    boundary_args: &BoundaryArgs,
    format: Format,
    out: &mut dyn std::io::Write,
) -> anyhow::Result<()> {
    use crate::app::{BoundarySet, ViewRequest, compute_view, load_dataset, resolve};
    use std::sync::Arc;
    let (metric, classification, classes) = settings;
    if by != [Dim::Municipality] {
        bail!("--metric needs --by municipality (and nothing else)");
    }
    let filter = filter_args.to_filter()?;
    if metric == Metric::Change && (filter.from.is_none() || filter.to.is_none()) {
        bail!("--metric change compares with the previous period: give --from and --to");
    }
    // The window's own view job: the same values, ranks and breaks as the legend and tooltips.
    let boundaries = Arc::new(BoundarySet::new(boundary_args.load()?));
    let resolved = match pushdown {
        None => {
            let dataset =
                Arc::new(load_dataset(db.clone(), false).with_context(|| format!("reading {db}"))?);
            let resolved = resolve(dataset, boundaries);
            check_names(&filter, &resolved.dataset.appeals, &resolved.resolution, db)?;
            resolved
        }
        Some(store) => {
            // The groups stand in for the rows, each weighted by its count.
            check_names_in_sql(store, &filter, &boundaries.boundaries, db)?;
            let groups = crate::data::pushdown::grouped(
                store,
                Some(&filter.prefilter()),
                crate::data::pushdown::GroupBy::default(),
            )
            .with_context(|| format!("reading {db}"))?;
            let dataset = crate::app::Dataset {
                source: db.clone(),
                is_demo: false,
                live_reload: false,
                appeals: groups.appeals,
                fingerprint: None,
                change_token: None,
                point_unit: Vec::new(),
                bounds: None,
                weights: groups.weights,
                coordinate_sums_e7: groups.coordinate_sums_e7,
                pushdown: None,
            };
            resolve(Arc::new(dataset), boundaries)
        }
    };
    let resolved = Arc::new(resolved);
    let view = compute_view(
        resolved.clone(),
        ViewRequest {
            filter,
            metric,
            classification,
            classes,
            locked_breaks: None,
            selected: None,
        },
    );
    let resolution = &resolved.resolution;
    let units = crate::spatial::municipalities().len();
    let mut labels: Vec<usize> = (0..resolution.labels.len())
        .filter(|&l| view.in_filter.get(l).copied().unwrap_or(false))
        .filter(|&l| l < units || view.aggregates.by_label.get(l).copied().unwrap_or(0) > 0)
        .collect();
    let count = |l: usize| view.aggregates.by_label.get(l).copied().unwrap_or(0);
    labels.sort_by(|&a, &b| {
        count(b)
            .cmp(&count(a))
            .then_with(|| resolution.label(a as u32).cmp(resolution.label(b as u32)))
    });
    let header: Vec<String> = [
        "municipality",
        "count",
        metric.cli_name(),
        "rank",
        "class",
        "class_from",
        "class_to",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    let lines: Vec<Vec<String>> = labels
        .into_iter()
        .map(|l| {
            let value = view.values.get(l).copied().flatten();
            let class = value.and_then(|v| crate::analysis::class_of(v, &view.breaks));
            let bound = |k: usize| {
                view.breaks
                    .get(k)
                    .map_or(String::new(), |b| metric.format(*b))
            };
            vec![
                resolution.label(l as u32).to_owned(),
                count(l).to_string(),
                value.map_or_else(|| "no data".to_owned(), |v| metric.format(v)),
                view.ranks
                    .get(l)
                    .copied()
                    .flatten()
                    .map_or(String::new(), |r| r.to_string()),
                class.map_or(String::new(), |c| (c + 1).to_string()),
                class.map_or(String::new(), bound),
                class.map_or(String::new(), |c| bound(c + 1)),
            ]
        })
        .collect();
    print_rows(out, format, &header, &lines, None)
}

/// Prints rows as CSV (empty cells for NULL) or as an aligned table ("—" for NULL, numbers
/// right-aligned, an optional total line).
fn print_rows(
    out: &mut dyn std::io::Write,
    format: Format,
    header: &[String],
    lines: &[Vec<String>],
    total: Option<&str>,
) -> anyhow::Result<()> {
    if format == Format::Csv {
        let mut writer = csv::Writer::from_writer(out);
        writer.write_record(header)?;
        for line in lines {
            writer.write_record(line)?;
        }
        writer.flush()?;
        return Ok(());
    }
    let numeric = |c: usize| {
        lines.iter().all(|l| {
            l.get(c)
                .is_none_or(|s| s.parse::<f64>().is_ok() || s == "no data")
        })
    };
    let mut table: Vec<Vec<String>> = vec![header.to_vec()];
    table.extend(lines.iter().map(|l| {
        l.iter()
            .map(|k| {
                if k.is_empty() {
                    "—".to_owned()
                } else {
                    k.clone()
                }
            })
            .collect()
    }));
    if let Some(total) = total {
        let mut line = vec![String::new(); header.len()];
        if let Some(first) = line.first_mut() {
            *first = "total".into();
        }
        if let Some(last) = line.last_mut() {
            *last = total.to_owned();
        }
        table.push(line);
    }
    let widths: Vec<usize> = (0..header.len())
        .map(|c| {
            table
                .iter()
                .map(|l| l.get(c).map_or(0, |s| s.chars().count()))
                .max()
                .unwrap_or(0)
        })
        .collect();
    let rule = widths
        .iter()
        .map(|w| "─".repeat(*w))
        .collect::<Vec<_>>()
        .join("  ");
    for (n, line) in table.iter().enumerate() {
        let cells: Vec<String> = line
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(c, (s, &w))| {
                let pad = " ".repeat(w.saturating_sub(s.chars().count()));
                if n > 0 && numeric(c) {
                    format!("{pad}{s}")
                } else {
                    format!("{s}{pad}")
                }
            })
            .collect();
        writeln!(out, "{}", cells.join("  ").trim_end())?;
        if n == 0 || (total.is_some() && n + 2 == table.len()) {
            writeln!(out, "{rule}")?;
        }
    }
    Ok(())
}

/// A filter value that names nothing in the database is a typo, not a question with the answer
/// zero: refuse it and say what there is.
fn check_names(
    filter: &Filter,
    appeals: &crate::data::Appeals,
    resolution: &MunicipalityResolution,
    db: &dyn std::fmt::Display,
) -> anyhow::Result<()> {
    let unknown = |flag: &str,
                   wanted: &std::collections::BTreeSet<String>,
                   known: &dyn Fn(&str) -> bool,
                   present: Vec<String>| {
        match wanted.iter().find(|w| !known(w)) {
            Some(w) => {
                let mut present = present;
                present.sort();
                present.truncate(30);
                Err(anyhow::anyhow!(
                    "--{flag} {w:?} matches nothing in {} (present: {})",
                    db,
                    present.join(", ")
                ))
            }
            None => Ok(()),
        }
    };
    unknown(
        "category",
        &filter.categories,
        &|c| appeals.categories.code(c).is_some(),
        appeals.categories.names().to_vec(),
    )?;
    unknown(
        "source",
        &filter.sources,
        &|c| appeals.sources.code(c).is_some(),
        appeals.sources.names().to_vec(),
    )?;
    unknown(
        "status",
        &filter.statuses,
        &|c| appeals.statuses.code(c).is_some(),
        appeals.statuses.names().to_vec(),
    )?;
    unknown(
        "municipality",
        &filter.municipalities,
        &|m| m.is_empty() || resolution.label_code(m).is_some(),
        resolution
            .labels
            .iter()
            .filter(|l| !l.is_empty())
            .cloned()
            .collect(),
    )?;
    for (category, subcategory) in &filter.subcategories {
        let known = appeals.categories.code(category).is_some()
            && (subcategory.is_empty() || appeals.subcategories.code(subcategory).is_some());
        if !known {
            anyhow::bail!(
                "--subcategory {category:?}/{subcategory:?} matches nothing in {}",
                db
            );
        }
    }
    Ok(())
}

fn heat(args: &HeatArgs, out: &mut dyn std::io::Write) -> anyhow::Result<()> {
    use crate::analysis::{Grid, Kernel, Mode, density};
    let started = std::time::Instant::now();
    let filter = args.filter.to_filter()?;
    let (width, height) = args
        .size
        .split_once(['x', 'X', '×'])
        .and_then(|(w, h)| {
            Some((
                w.trim().parse::<usize>().ok()?,
                h.trim().parse::<usize>().ok()?,
            ))
        })
        .filter(|&(w, h)| (1..=16_384).contains(&w) && (1..=16_384).contains(&h))
        .ok_or_else(|| {
            anyhow::anyhow!(
                "--size {:?}: expected WIDTHxHEIGHT, 1 to 16384 each",
                args.size
            )
        })?;
    if !(args.radius_m > 0.0 && args.radius_m.is_finite()) {
        bail!("--radius-m must be a positive number of metres");
    }
    let ext = args
        .out
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_lowercase();
    if !matches!(ext.as_str(), "tif" | "tiff" | "png") {
        bail!(
            "--out {}: the format is taken from the extension: .tif, .tiff or .png",
            args.out.display()
        );
    }
    let kernel = match args.kernel {
        KernelArg::Quartic => Kernel::Quartic,
        KernelArg::Triangular => Kernel::Triangular,
        KernelArg::Uniform => Kernel::Uniform,
        KernelArg::Triweight => Kernel::Triweight,
        KernelArg::Epanechnikov => Kernel::Epanechnikov,
        KernelArg::Gaussian => Kernel::Gaussian,
    };
    let mode = match args.mode {
        ModeArg::Exact => Mode::Exact,
        ModeArg::Fast => Mode::Fast,
    };
    let source = args.db.source()?;
    let pushed = if mode == Mode::Fast && args.weight == WeightArg::One {
        heat_pushdown(args, &source, &filter, (width, height), kernel)?
    } else if args.strategy == Strategy::Pushdown {
        bail!("--strategy pushdown bins in SQL for --mode fast --weight one only");
    } else {
        None
    };
    let (surface, grid, placed) = match pushed {
        Some(done) => done,
        None => {
            let appeals = load(&source)?;
            // Municipalities by point-in-polygon are only needed to filter by them.
            let resolution = if filter.municipalities.is_empty() {
                MunicipalityResolution::new(&appeals)
            } else {
                resolve(&appeals, &args.boundaries)?
            };
            check_names(&filter, &appeals, &resolution, &source)?;
            let columns = Columns::new(&appeals, &resolution);
            let masks = Masks::new(&filter, &appeals, &resolution, &columns);
            let rows = masks.rows(&columns);
            let last_day = columns.day_range.map(|(_, last)| last);
            let mut points = Vec::with_capacity(rows.len());
            let mut weights = Vec::with_capacity(rows.len());
            for &i in &rows {
                let i = i as usize;
                if appeals.placement.get(i) != Some(&crate::data::Placement::Placed) {
                    continue;
                }
                let (Some(&lon), Some(&lat)) = (appeals.lon.get(i), appeals.lat.get(i)) else {
                    continue;
                };
                let unresolved = columns
                    .status
                    .get(i)
                    .and_then(|&s| columns.status_unresolved.get(s as usize))
                    .copied()
                    .unwrap_or(false);
                let weight = match args.weight {
                    WeightArg::One => 1.0,
                    WeightArg::Unresolved => f64::from(u8::from(unresolved)),
                    WeightArg::DaysOpen => {
                        let answered = columns
                            .resolution_days
                            .get(i)
                            .copied()
                            .filter(|d| d.is_finite());
                        match (answered, columns.day.get(i), last_day) {
                            (Some(days), _, _) => f64::from(days),
                            (None, Some(&day), Some(last)) if day != crate::analysis::NO_DAY => {
                                f64::from(last - day)
                            }
                            _ => 0.0,
                        }
                    }
                };
                points.push((lon, lat));
                weights.push(weight);
            }
            let extent = crate::spatial::GeoBounds::from_points(points.iter().copied())
                .map(|b| (b.lon_min, b.lat_min, b.lon_max, b.lat_max));
            let (lon_min, lat_min, lon_max, lat_max) = heat_bbox(args, extent)?;
            let grid = Grid::over_lon_lat(lon_min, lat_min, lon_max, lat_max, width, height);
            let weights = (args.weight != WeightArg::One).then_some(weights.as_slice());
            let surface = density(&points, weights, &grid, kernel, args.radius_m, mode);
            (surface, grid, points.len())
        }
    };
    if ext == "png" {
        let max = args
            .max
            .or_else(|| surface.nonzero_quantile(0.99).map(f64::from))
            .unwrap_or(1.0)
            .max(1e-12);
        let mut rgba = Vec::with_capacity(surface.values.len() * 4);
        for &v in &surface.values {
            let v = f64::from(v);
            if v <= args.min || v <= 0.0 {
                rgba.extend_from_slice(&[0, 0, 0, 0]);
            } else {
                let c = crate::ui::theme::ramp_lerp(
                    &crate::ui::theme::YL_OR_RD,
                    (v / max).min(1.0) as f32,
                );
                rgba.extend_from_slice(&[c.r(), c.g(), c.b(), 230]);
            }
        }
        crate::raster::write_png(&surface, &rgba, &args.out)?;
    } else {
        crate::raster::write_geotiff(&surface, &args.out)?;
    }
    writeln!(
        out,
        "wrote {} ({width}×{height}, cells of {:.0} m, {:?} {:?} kernel of {:.0} m, {} appeals, peak {:.2} appeals/km²) in {:.2} s",
        args.out.display(),
        grid.cell_m,
        mode,
        kernel,
        args.radius_m,
        placed,
        surface.peak(),
        started.elapsed().as_secs_f64()
    )?;
    Ok(())
}

/// The box `heat` covers: `--bbox`, else `extent` (the filtered appeals' lon/lat box).
fn heat_bbox(
    args: &HeatArgs,
    extent: Option<(f64, f64, f64, f64)>,
) -> anyhow::Result<(f64, f64, f64, f64)> {
    match &args.bbox {
        Some(text) => {
            let v: Vec<f64> = text
                .split(',')
                .filter_map(|x| x.trim().parse().ok())
                .collect();
            match v.as_slice() {
                [a, b, c, d]
                    if a < c
                        && b < d
                        && crate::spatial::projection::is_valid_lon_lat(*a, *b)
                        && crate::spatial::projection::is_valid_lon_lat(*c, *d) =>
                {
                    Ok((*a, *b, *c, *d))
                }
                _ => bail!("--bbox {text:?}: expected LON_MIN,LAT_MIN,LON_MAX,LAT_MAX in degrees"),
            }
        }
        None => extent.ok_or_else(|| {
            anyhow::anyhow!("no appeal with coordinates in the filter: give --bbox")
        }),
    }
}

/// `heat --mode fast --weight one` with the binning in PostgreSQL (`data::pushdown::binned`):
/// the surface, grid and appeal count, or `None` to compute locally (a SQLite source, the
/// strategy, a `--municipality` filter, or column types SQL cannot judge exactly).
fn heat_pushdown(
    args: &HeatArgs,
    source: &Source,
    filter: &Filter,
    (width, height): (usize, usize),
    kernel: crate::analysis::Kernel,
) -> anyhow::Result<Option<(crate::analysis::Surface, crate::analysis::Grid, usize)>> {
    use crate::analysis::{FastBinning, Grid, density_fast_binned};
    use crate::data::pushdown::{BinParams, binned};
    let forced = args.strategy == Strategy::Pushdown;
    if !filter.municipalities.is_empty() {
        if forced {
            bail!("--strategy pushdown cannot filter by --municipality in SQL (yet)");
        }
        return Ok(None);
    }
    let filter_args = &args.filter;
    let Some(store) = pushdown_store(source, args.strategy, args.pushdown_above, filter_args)?
    else {
        return Ok(None);
    };
    let boundaries = Boundaries::schematic();
    check_names_in_sql(&store, filter, &boundaries, source)?;
    let exact = filter.exact_filter();
    let in_range = |text: &str| filter.receives_in_range(text);
    let mut chosen: Option<anyhow::Result<Grid>> = None;
    let mut choose = |extent: Option<(f64, f64, f64, f64)>| {
        let grid = heat_bbox(args, extent)
            .map(|(a, b, c, d)| Grid::over_lon_lat(a, b, c, d, width, height));
        let params = grid
            .as_ref()
            .ok()
            .and_then(|g| FastBinning::new(g, args.radius_m));
        chosen = Some(grid);
        params.map(BinParams::from)
    };
    let result = binned(&store, &exact, &in_range, &mut choose)
        .with_context(|| format!("reading {source}"))?;
    let grid = match chosen {
        Some(grid) => grid?,
        None => {
            if forced {
                bail!(
                    "--strategy pushdown: the table's column types cannot be filtered exactly in SQL (text coordinates or non-text columns)"
                );
            }
            return Ok(None);
        }
    };
    let Some(result) = result else {
        // The kernel spans too many cells for the fast mode's stencils: computed locally.
        if forced {
            bail!(
                "--strategy pushdown: the kernel is too wide for the fast mode's bins at this size"
            );
        }
        return Ok(None);
    };
    let placed = usize::try_from(result.placed).unwrap_or(usize::MAX);
    let surface = density_fast_binned(&result.bins, &result.points, &grid, kernel, args.radius_m)
        .ok_or_else(|| anyhow::anyhow!("the fast mode's binning changed"))?;
    Ok(Some((surface, grid, placed)))
}

/// Peak and current resident memory of this process, MB (Linux; `None` elsewhere).
fn memory_mb() -> Option<(f64, f64)> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<f64>().ok())
            .map(|kb| kb / 1024.0)
    };
    Some((field("VmHWM:")?, field("VmRSS:")?))
}

fn bench(args: &BenchArgs, out: &mut dyn std::io::Write) -> anyhow::Result<()> {
    use crate::app::{BoundarySet, ViewRequest, compute_view, load_dataset_with, resolve};
    use std::sync::Arc;
    use std::time::Instant;
    let started = Instant::now();
    let source = args.db.source()?;
    let strategy = args.strategy.for_window(args.pushdown_above);
    let dataset = Arc::new(
        load_dataset_with(source.clone(), false, strategy)
            .with_context(|| format!("reading {source}"))?,
    );
    let loaded = started.elapsed();
    let boundaries = Arc::new(BoundarySet::new(args.boundaries.load()?));
    let region = boundaries.boundaries.bounds();
    let started = Instant::now();
    let resolved = Arc::new(resolve(dataset.clone(), boundaries));
    let resolved_in = started.elapsed();
    if dataset.is_grouped() {
        writeln!(
            out,
            "appeals: {} (grouped in the database: {} groups)",
            dataset.appeal_count(),
            dataset.appeals.len()
        )?;
    } else {
        writeln!(out, "appeals: {}", dataset.appeals.len())?;
    }
    writeln!(
        out,
        "{} from {}: {:.0} ms",
        if dataset.is_grouped() {
            "GROUP BY"
        } else {
            "load"
        },
        if source.is_postgres() {
            "PostgreSQL"
        } else {
            "SQLite"
        },
        loaded.as_secs_f64() * 1e3
    )?;
    writeln!(
        out,
        "resolve municipalities + columns: {:.0} ms",
        resolved_in.as_secs_f64() * 1e3
    )?;
    let days = resolved.columns.day_range;
    let rounds = args.rounds.clamp(1, 10_000);
    let mut times = Vec::with_capacity(rounds);
    for round in 0..rounds {
        // Alternate between all time and sliding 30-day windows, like an operator would.
        let filter = match (round % 2, days) {
            (1, Some((first, last))) => {
                let span = i64::from(last) - i64::from(first) + 1;
                let from = first + ((round as i64 * 7) % span.max(1)) as i32;
                Filter {
                    from: Some(crate::analysis::date_of_day(from)),
                    to: Some(crate::analysis::date_of_day(from + 29)),
                    ..Filter::default()
                }
            }
            _ => Filter::default(),
        };
        let request = ViewRequest {
            filter,
            metric: Metric::Per10k,
            classification: crate::analysis::Classification::NaturalBreaks,
            classes: 5,
            locked_breaks: None,
            selected: Some(0),
        };
        let started = Instant::now();
        let view = compute_view(resolved.clone(), request);
        times.push(started.elapsed().as_secs_f64() * 1e3);
        drop(view);
    }
    times.sort_by(f64::total_cmp);
    let median = times.get(times.len() / 2).copied().unwrap_or(f64::NAN);
    let max = times.last().copied().unwrap_or(f64::NAN);
    writeln!(
        out,
        "view per filter change (choropleth, pivot, details, points; {} rounds): median {median:.1} ms, max {max:.1} ms",
        times.len()
    )?;
    // The density surface of all the appeals' box: 1024 × 1024, a 5 km quartic kernel.
    let all = compute_view(
        resolved.clone(),
        ViewRequest {
            filter: Filter::default(),
            metric: Metric::Count,
            classification: crate::analysis::Classification::Quantiles,
            classes: 5,
            locked_breaks: None,
            selected: None,
        },
    );
    if dataset.is_grouped() {
        bench_density_pushdown(&resolved, region, out)?;
    }
    let points = crate::analysis::mercator_points_from_unit(&all.points_unit);
    if let Some(bounds) = dataset.bounds.filter(|_| !dataset.is_grouped()) {
        let grid = bench_grid(bounds);
        for mode in [crate::analysis::Mode::Fast, crate::analysis::Mode::Exact] {
            let median = median_ms(5, || {
                crate::analysis::density_mercator(
                    &points,
                    None,
                    &grid,
                    crate::analysis::Kernel::Quartic,
                    5_000.0,
                    mode,
                );
                Ok(())
            })?;
            writeln!(
                out,
                "density 1024×1024, 5 km quartic, {mode:?}, {} appeals: median {median:.1} ms",
                points.len(),
            )?;
        }
    }
    if let Some((peak, now)) = memory_mb() {
        writeln!(out, "resident memory: peak {peak:.0} MB, now {now:.0} MB")?;
    }
    Ok(())
}

/// The grid `bench` times densities on: 1024 × 1024 cells over `bounds`.
fn bench_grid(bounds: crate::spatial::GeoBounds) -> crate::analysis::Grid {
    crate::analysis::Grid::over_lon_lat(
        bounds.lon_min,
        bounds.lat_min,
        bounds.lon_max,
        bounds.lat_max,
        1024,
        1024,
    )
}

/// `bench` of a grouped table: the density binned in the database (as the window's density
/// job does) for the whole table, its last 365, 30 and 7 days, on 1024 × 1024 cells
/// over `region`.
fn bench_density_pushdown(
    resolved: &crate::app::Resolved,
    region: Option<crate::spatial::GeoBounds>,
    out: &mut dyn std::io::Write,
) -> anyhow::Result<()> {
    use crate::analysis::{Kernel, Mode, date_of_day};
    let (Some(bounds), Some((_, last))) = (region, resolved.columns.day_range) else {
        return Ok(());
    };
    let grid = bench_grid(bounds);
    let request = crate::app::DensityRequest {
        grid,
        radius_m: 5_000.0,
        kernel: Kernel::Quartic,
        mode: Mode::Fast,
        k: None,
    };
    for (name, days) in [
        ("all", None),
        ("last 365 days", Some(365)),
        ("last 30 days", Some(30)),
        ("last 7 days", Some(7)),
    ] {
        let filter = Filter {
            from: days.map(|d| date_of_day(last - d + 1)),
            to: days.map(|_| date_of_day(last)),
            ..Filter::default()
        };
        let median = median_ms(3, || {
            crate::app::density_pushdown(resolved, &filter, &request)
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            Ok(())
        })?;
        writeln!(
            out,
            "density binned in the database, 1024×1024, 5 km quartic, {name}: median {median:.0} ms"
        )?;
    }
    Ok(())
}

/// The median wall time of `runs` calls of `run`, milliseconds.
fn median_ms(runs: usize, mut run: impl FnMut() -> anyhow::Result<()>) -> anyhow::Result<f64> {
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let started = std::time::Instant::now();
        run()?;
        times.push(started.elapsed().as_secs_f64() * 1e3);
    }
    times.sort_by(f64::total_cmp);
    Ok(times.get(times.len() / 2).copied().unwrap_or(f64::NAN))
}

fn load(db: &Source) -> anyhow::Result<crate::data::Appeals> {
    let store = db.open().with_context(|| format!("opening {db}"))?;
    store.load().with_context(|| format!("reading {db}"))
}

fn pct(part: u64, total: u64) -> String {
    if total == 0 {
        "0.0 %".into()
    } else {
        format!("{:.1} %", part as f64 * 100.0 / total as f64)
    }
}

fn check(
    db: &Source,
    boundary_args: &BoundaryArgs,
    batch_rows: i32,
    out: &mut dyn std::io::Write,
) -> anyhow::Result<()> {
    let boundaries = boundary_args.load()?;
    let locator = MunicipalityLocator::new(&boundaries);
    let summary_of_rows = |appeals: &crate::data::Appeals| {
        crate::analysis::database_summary(appeals, &boundaries, &locator)
    };
    // A boundary unit that names no municipality takes the label of a text of its name only
    // when that text is among the rows resolved together: then the figures are the whole
    // table's only when it is read at once.
    let by_row = boundaries.units.iter().all(|u| u.municipality.is_some());
    let summary = match db {
        // One pass in batches (every figure is judged row by row: `Summary::merge`), so a
        // table of tens of millions of rows is checked in the memory of one batch.
        Source::Postgres { url, table } if by_row => {
            let store = crate::data::PgStore::connect_with(
                url,
                &crate::data::PgOptions {
                    table: table.clone(),
                    batch_rows,
                    ..crate::data::PgOptions::default()
                },
            )
            .with_context(|| format!("opening {db}"))?;
            let mut all: Option<crate::analysis::Summary> = None;
            store
                .for_each_batch(&mut |batch| {
                    let part = summary_of_rows(batch);
                    all = Some(match all.take() {
                        Some(all) => all.merge(part),
                        None => part,
                    });
                })
                .with_context(|| format!("reading {db}"))?;
            all.unwrap_or_else(|| summary_of_rows(&crate::data::Appeals::default()))
        }
        _ => summary_of_rows(&load(db)?),
    };
    let q = &summary.quality;
    match db {
        Source::Sqlite(path) => writeln!(out, "file: {}", path.display())?,
        Source::Postgres { .. } => writeln!(out, "source: {db}")?,
    }
    writeln!(out, "rows: {}", summary.total)?;
    match summary.received_range {
        Some((lo, hi)) => writeln!(
            out,
            "received: {} … {}",
            lo.strftime("%Y-%m-%d %H:%M"),
            hi.strftime("%Y-%m-%d %H:%M")
        )?,
        None => writeln!(out, "received: no parsable dates")?,
    }
    let list = |items: &[(String, u64)]| {
        items
            .iter()
            .map(|(k, n)| format!("{} {n}", if k.is_empty() { "(empty)" } else { k }))
            .collect::<Vec<_>>()
            .join(", ")
    };
    writeln!(out, "sources: {}", list(&summary.by_source))?;
    writeln!(out, "statuses: {}", list(&summary.by_status))?;
    writeln!(out, "categories: {}", summary.by_category.len())?;
    writeln!(out, "data quality:")?;
    writeln!(
        out,
        "  placed on the map: {} ({})",
        q.placed,
        pct(q.placed, q.rows)
    )?;
    writeln!(
        out,
        "  no coordinates (municipality only): {}",
        q.no_coordinates
    )?;
    writeln!(out, "  only one of lat/lon: {}", q.partial_coordinates)?;
    writeln!(
        out,
        "  coordinates not numeric (NaN, text): {}",
        q.coordinates_not_numeric
    )?;
    writeln!(
        out,
        "  coordinates out of range: {}",
        q.coordinates_out_of_range
    )?;
    writeln!(
        out,
        "  coordinates exactly 0,0: {}",
        q.coordinates_zero_zero
    )?;
    writeln!(out, "  received_at unparsable: {}", q.received_unparsable)?;
    writeln!(out, "  resolved_at unparsable: {}", q.resolved_unparsable)?;
    writeln!(out, "  required value NULL: {}", q.required_null)?;
    writeln!(
        out,
        "  no municipality text: {} (placed by coordinates{}: {}, outside boundaries / unknown: {})",
        summary.no_municipality,
        if boundaries.is_schematic() {
            " into the schematic boundaries, approximate"
        } else {
            ""
        },
        summary.assigned_by_point,
        summary.unknown_municipality
    )?;
    writeln!(
        out,
        "  municipality text and point disagree (text wins): {}",
        summary.municipality_disagreements
    )?;
    let unmatched_rows: u64 = summary
        .unmatched_municipalities
        .iter()
        .map(|(_, n)| n)
        .sum();
    writeln!(
        out,
        "  municipality names matching no unit: {} in {} rows{}",
        summary.unmatched_municipalities.len(),
        unmatched_rows,
        if summary.unmatched_municipalities.is_empty() {
            String::new()
        } else {
            format!(" ({})", list(&summary.unmatched_municipalities))
        }
    )?;
    for s in &q.samples {
        writeln!(out, "  e.g. {} — id {}: {}", s.reason, s.row_id, s.value)?;
    }
    match &boundaries.kind {
        crate::spatial::BoundaryKind::Schematic => {
            writeln!(
                out,
                "boundaries: schematic ({} units)",
                boundaries.units.len()
            )?;
        }
        crate::spatial::BoundaryKind::File {
            path,
            name_property,
        } => {
            let unmatched = boundaries.unmatched_names();
            let matched = boundaries.units.len() - unmatched.len();
            writeln!(
                out,
                "boundaries: {} ({} polygon features, name property `{name_property}`, {matched} matched, {} skipped non-polygon features)",
                path.display(),
                boundaries.units.len(),
                boundaries.skipped_features
            )?;
            if !unmatched.is_empty() {
                writeln!(
                    out,
                    "  feature names matching no municipality: {}",
                    unmatched.join(", ")
                )?;
            }
            let missing = boundaries.missing_municipalities();
            if !missing.is_empty() {
                writeln!(
                    out,
                    "  municipalities without a polygon: {}",
                    missing.join(", ")
                )?;
            }
        }
    }
    Ok(())
}

/// The store to push `stats` down to, when the strategy (and for `auto` the filter's row count)
/// says so; `None` computes locally.
fn pushdown_store(
    source: &Source,
    strategy: Strategy,
    above: u64,
    filter_args: &FilterArgs,
) -> anyhow::Result<Option<crate::data::PgStore>> {
    let Source::Postgres { url, table } = source else {
        if strategy == Strategy::Pushdown {
            bail!("--strategy pushdown needs a PostgreSQL source: {source}");
        }
        return Ok(None);
    };
    if strategy == Strategy::Local {
        return Ok(None);
    }
    let store = crate::data::PgStore::connect(url, table.as_deref())
        .with_context(|| format!("opening {source}"))?;
    if strategy == Strategy::Auto {
        let prefilter = filter_args.to_filter()?.prefilter();
        let rows = crate::data::pushdown::count(&store, &prefilter)
            .with_context(|| format!("counting the filter's rows in {source}"))?;
        if rows <= above {
            return Ok(None);
        }
    }
    Ok(Some(store))
}

/// [`check_names`] for a pushed-down filter: against the whole table's names, as a load would
/// check them (read only when the filter names something).
fn check_names_in_sql(
    store: &crate::data::PgStore,
    filter: &Filter,
    boundaries: &Boundaries,
    db: &Source,
) -> anyhow::Result<()> {
    use crate::data::pushdown::{GroupBy, grouped};
    let names_asked = !(filter.categories.is_empty()
        && filter.subcategories.is_empty()
        && filter.sources.is_empty()
        && filter.statuses.is_empty()
        && filter.municipalities.is_empty());
    if names_asked {
        let names = GroupBy {
            names_only: true,
            ..GroupBy::default()
        };
        let all = grouped(store, None, names).with_context(|| format!("reading {db}"))?;
        let locator = MunicipalityLocator::new(boundaries);
        let resolution =
            MunicipalityResolution::with_boundaries(&all.appeals, Some((boundaries, &locator)));
        check_names(filter, &all.appeals, &resolution, db)?;
    }
    Ok(())
}

/// `stats` computed in PostgreSQL: the filter's rows grouped server-side (`data::pushdown`),
/// then resolved, filtered exactly and counted by the same code as loaded rows, weighted by the
/// groups' counts — so the output is identical to [`stats`].
fn stats_pushdown(
    store: &crate::data::PgStore,
    db: &Source,
    by: &[Dim],
    filter_args: &FilterArgs,
    format: Format,
    boundary_args: &BoundaryArgs,
    out: &mut dyn std::io::Write,
) -> anyhow::Result<()> {
    use crate::data::pushdown::{GroupBy, grouped};
    let filter = filter_args.to_filter()?;
    let group_by = GroupBy {
        settlement: by.contains(&Dim::Settlement),
        month: by.contains(&Dim::Month),
        ..GroupBy::default()
    };
    let boundaries = boundary_args.load()?;
    let locator = MunicipalityLocator::new(&boundaries);
    check_names_in_sql(store, &filter, &boundaries, db)?;
    let groups = grouped(store, Some(&filter.prefilter()), group_by)
        .with_context(|| format!("reading {db}"))?;
    let resolution = MunicipalityResolution::with_boundaries_weighted(
        &groups.appeals,
        Some((&boundaries, &locator)),
        &groups.weights,
    );
    let rows = filter.apply(&groups.appeals, &resolution);
    let counts = crate::analysis::group_counts_weighted(
        &groups.appeals,
        &resolution,
        &rows,
        by,
        Some(&groups.weights),
    );
    let total: u64 = rows
        .iter()
        .map(|&r| groups.weights.get(r as usize).copied().unwrap_or(0))
        .sum();
    print_groups(out, format, by, &counts, total)
}

/// The grouped counts as `stats` prints them: one row per group with its count, then the total.
fn print_groups(
    out: &mut dyn std::io::Write,
    format: Format,
    by: &[Dim],
    groups: &[crate::analysis::GroupCount],
    total: u64,
) -> anyhow::Result<()> {
    let mut header: Vec<String> = by.iter().map(|d| d.name().to_owned()).collect();
    header.push("count".into());
    let lines: Vec<Vec<String>> = groups
        .iter()
        .map(|g| {
            g.keys
                .iter()
                .cloned()
                .chain([g.count.to_string()])
                .collect()
        })
        .collect();
    print_rows(out, format, &header, &lines, Some(&total.to_string()))?;
    Ok(())
}

fn stats(
    db: &Source,
    by: &[Dim],
    filter_args: &FilterArgs,
    format: Format,
    boundary_args: &BoundaryArgs,
    out: &mut dyn std::io::Write,
) -> anyhow::Result<()> {
    let filter = filter_args.to_filter()?;
    let appeals = load(db)?;
    let resolution = resolve(&appeals, boundary_args)?;
    check_names(&filter, &appeals, &resolution, db)?;
    let rows = filter.apply(&appeals, &resolution);
    let groups = group_counts(&appeals, &resolution, &rows, by);
    print_groups(out, format, by, &groups, rows.len() as u64)
}
