//! `teplokarta problems`: the problem map headless — the zones of one problem profile with every
//! figure the problem list shows, as GeoJSON or CSV for GIS users, or as a ranked table.

use std::path::PathBuf;

use anyhow::{Context as _, bail};
use clap::{Args, ValueEnum};

use super::{BoundaryArgs, FilterArgs, Strategy, check_names};
use crate::analysis::Filter;
use crate::analysis::problem_export::{problems_csv, problems_geojson};
use crate::analysis::problems::{
    Emerging, ProblemRows, ProblemSettings, RankBy, SliceKind, WeightsKind, ZoneKind, Zones,
    compute, ranked,
};
use crate::analysis::profiles::{Profile, merged_profiles, profiles_from_toml, profiles_path};
use crate::app::{BoundarySet, Resolved};
use crate::data::Source;

/// Arguments of `problems`.
#[derive(Debug, Args)]
pub struct ProblemArgs {
    #[command(flatten)]
    pub db: super::DbArgs,
    /// Problem profile id: power-outages, heating, water, roads, waste, or one of the user's
    /// profiles file.
    #[arg(long, value_name = "ID")]
    pub profile: String,
    /// Only appeals whose settlement or address names a garden community (СНТ, ДНТ, СОТ, …).
    #[arg(long)]
    pub snt: bool,
    #[command(flatten)]
    pub filter: FilterArgs,
    /// How appeals are grouped into zones.
    #[arg(long, value_enum, default_value_t = ZonesArg::Hex)]
    pub zones: ZonesArg,
    /// Hexagon spacing in km (default: about 100 cells across the data).
    #[arg(long, value_name = "K")]
    pub cell_km: Option<f64>,
    /// Gi* neighbours: every zone within --distance-km, or the --k nearest.
    #[arg(long, value_enum, default_value_t = WeightsArg::Distance)]
    pub weights: WeightsArg,
    /// Distance band in km (default: 5 km for settlements, adjacent cells for hexagons, the
    /// largest nearest-neighbour distance for municipalities).
    #[arg(long, value_name = "KM")]
    pub distance_km: Option<f64>,
    /// Neighbours for --weights knn.
    #[arg(long, default_value_t = 8)]
    pub k: usize,
    /// Apply the false-discovery-rate correction to the confidence classes.
    #[arg(long)]
    pub fdr: bool,
    /// Time slices of the trend.
    #[arg(long, value_enum, default_value_t = SliceArg::Month)]
    pub slice: SliceArg,
    /// Intervention date (YYYY-MM-DD): rates before and after it, with the 95 % interval of
    /// their ratio.
    #[arg(long, value_name = "DATE")]
    pub intervention: Option<String>,
    /// Appeals of a zone within this many hours of an incident's first appeal are one incident.
    #[arg(long, default_value_t = 48.0)]
    pub window_h: f64,
    /// Open appeals older than this many days are overdue.
    #[arg(long, default_value_t = 10.0)]
    pub deadline_days: f64,
    /// Share of slices a zone must be hot in to be persistent (ArcGIS: 0.9).
    #[arg(long, default_value_t = 0.9)]
    pub persistent_share: f64,
    /// Order of the table (the files are always ordered by z-score).
    #[arg(long, value_enum, default_value_t = RankArg::Z)]
    pub rank: RankArg,
    /// Rows of the table.
    #[arg(long, default_value_t = 20)]
    pub top: usize,
    /// The user's profiles (TOML; default: problem-profiles.toml in the settings directory,
    /// when it exists).
    #[arg(long, value_name = "FILE.toml")]
    pub profiles: Option<PathBuf>,
    /// Output file, `.geojson`/`.json` or `.csv`; without it a ranked table is printed.
    #[arg(long)]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub boundaries: BoundaryArgs,
    /// How a PostgreSQL table is read: `local` loads its rows; `pushdown` reads it as the
    /// window reads a large table (grouped in the database, then only the rows the filter and
    /// the profile can keep, at most `--pushdown-above`, plus those of municipality texts that
    /// name no unit; settlements' centroids from the groups, hexagons' cells from one pass over
    /// the points), whose figures are then exactly a full load's; `auto` does so above
    /// `--pushdown-above` rows in the table, and loads the table when the filter and profile
    /// keep more rows than that.
    #[arg(long, value_enum, default_value_t = Strategy::Auto)]
    pub strategy: Strategy,
    /// Rows in the table above which `--strategy auto` pushes down.
    #[arg(long, value_name = "ROWS", default_value_t = crate::data::DEFAULT_PUSHDOWN_ABOVE)]
    pub pushdown_above: u64,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum ZonesArg {
    Settlements,
    Hex,
    Municipalities,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum WeightsArg {
    Distance,
    Knn,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum SliceArg {
    Week,
    Month,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum RankArg {
    Z,
    Appeals,
    Growth,
    Open,
}

/// The merged profiles (built-in and the user's file) and the one `id` names.
pub fn find_profile(id: &str, file: Option<&PathBuf>) -> anyhow::Result<Profile> {
    let path = file
        .cloned()
        .or_else(|| profiles_path().filter(|p| p.exists()));
    let user = match &path {
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .with_context(|| format!("reading the profiles file {}", p.display()))?;
            profiles_from_toml(&text).with_context(|| format!("in {}", p.display()))?
        }
        None => Vec::new(),
    };
    let all = merged_profiles(&user);
    all.iter().find(|p| p.id == id).cloned().ok_or_else(|| {
        anyhow::anyhow!(
            "--profile {id:?} is not a known profile (known: {})",
            all.iter()
                .map(|p| p.id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )
    })
}

/// Runs `problems`.
pub fn problems(args: &ProblemArgs, out: &mut dyn std::io::Write) -> anyhow::Result<()> {
    let filter: Filter = args.filter.to_filter()?;
    let mut profile = find_profile(&args.profile, args.profiles.as_ref())?;
    if args.snt {
        profile = profile.in_garden_communities();
    }
    let intervention = args
        .intervention
        .as_deref()
        .map(|s| Filter::parse_date(s).context("--intervention"))
        .transpose()?;
    if let Some(c) = args.cell_km
        && !(c > 0.0 && c.is_finite())
    {
        bail!("--cell-km must be a positive number of kilometres");
    }
    let ext = args
        .out
        .as_ref()
        .map(|p| {
            p.extension()
                .and_then(|e| e.to_str())
                .unwrap_or("")
                .to_lowercase()
        })
        .unwrap_or_default();
    if args.out.is_some() && !matches!(ext.as_str(), "geojson" | "json" | "csv") {
        bail!("--out: the format is taken from the extension: .geojson, .json or .csv");
    }
    let source = args.db.source()?;
    let kind = match args.zones {
        ZonesArg::Settlements => ZoneKind::Settlements,
        ZonesArg::Hex => ZoneKind::Hexagons,
        ZonesArg::Municipalities => ZoneKind::Municipalities,
    };
    let settings = ProblemSettings {
        profile,
        weights: match args.weights {
            WeightsArg::Distance => WeightsKind::Distance {
                km: args.distance_km,
            },
            WeightsArg::Knn => WeightsKind::Nearest { k: args.k },
        },
        fdr: args.fdr,
        slice: match args.slice {
            SliceArg::Week => SliceKind::Week,
            SliceArg::Month => SliceKind::Month,
        },
        incident_window_h: args.window_h,
        deadline_days: args.deadline_days,
        intervention,
        persistent_share: args.persistent_share,
        ..ProblemSettings::default()
    };
    let boundaries = std::sync::Arc::new(BoundarySet::new(args.boundaries.load()?));
    let request = crate::app::problems::ProblemRequest {
        filter: filter.clone(),
        settings: settings.clone(),
        zones: kind,
        cell_km: args.cell_km,
    };
    let (rows, zones) = problem_rows(args, &source, boundaries.clone(), &request)?;
    let (appeals, resolution, columns) = (&rows.dataset.appeals, &rows.resolution, &rows.columns);
    let extra = ProblemRows::new(appeals);
    let zones = zones.unwrap_or_else(|| {
        Zones::build(
            kind,
            args.cell_km,
            appeals,
            resolution,
            &boundaries.boundaries,
            &boundaries.locator,
        )
    });
    let map = compute(
        appeals, resolution, columns, &extra, &zones, &filter, &settings,
    );
    let summary = format!(
        "{} appeals of profile {:?}{} in {} zones ({}; {} not in any zone); Gi* over {} zones, {}",
        map.appeals,
        settings.profile.id,
        if settings.profile.snt {
            " in garden communities"
        } else {
            ""
        },
        map.zones.iter().filter(|z| z.appeals > 0).count(),
        kind.cli_name(),
        map.unzoned,
        map.tested_zones,
        match (map.distance_km, map.k) {
            (Some(d), _) => format!("neighbours within {d:.2} km"),
            (_, Some(k)) => format!("{k} nearest neighbours"),
            _ => String::new(),
        }
    );
    if let Some(path) = &args.out {
        let bytes = if ext == "csv" {
            problems_csv(&map, &zones, "near").context("writing the CSV")?
        } else {
            problems_geojson(&map, &zones, &boundaries.boundaries, "near").into_bytes()
        };
        std::fs::write(path, bytes).with_context(|| format!("writing {}", path.display()))?;
        writeln!(out, "{summary}\nwrote {}", path.display())?;
        return Ok(());
    }
    writeln!(out, "{summary}")?;
    let by = match args.rank {
        RankArg::Z => RankBy::ZScore,
        RankArg::Appeals => RankBy::Appeals,
        RankArg::Growth => RankBy::Growth,
        RankArg::Open => RankBy::Open,
    };
    writeln!(
        out,
        "{:>4}  {:<40} {:>7} {:>9} {:>7} {:>5}  {:<13} {:>5} {:>7}  change",
        "rank", "zone", "appeals", "incidents", "z", "bin", "trend", "open", "overdue"
    )?;
    for (rank, k) in ranked(&map, by).into_iter().take(args.top).enumerate() {
        let Some(s) = map.zones.get(k) else { continue };
        let name = zones
            .zones
            .get(k)
            .map(|z| z.display_name("near"))
            .unwrap_or_default();
        writeln!(
            out,
            "{:>4}  {:<40} {:>7} {:>9} {:>7} {:>5}  {:<13} {:>5} {:>7}  {}",
            rank + 1,
            name.chars().take(40).collect::<String>(),
            s.appeals,
            s.incidents,
            s.gi.map_or("—".to_owned(), |g| format!("{:.2}", g.z)),
            s.class.gi_bin(),
            s.emerging.key(),
            s.open,
            s.overdue,
            s.intervention
                .map(|r| format!(
                    "{} → {} (RR {} [{:.2}, {:.2}]) {:?}",
                    r.before,
                    r.after,
                    r.ratio.map_or("—".to_owned(), |x| format!("{x:.2}")),
                    r.low,
                    r.high,
                    s.change.unwrap_or(crate::analysis::hotspot::Change::NoData)
                ))
                .unwrap_or_default()
        )?;
    }
    let counts: Vec<String> = Emerging::ALL
        .iter()
        .map(|e| {
            format!(
                "{} {}",
                e.key(),
                map.zones
                    .iter()
                    .filter(|z| z.appeals > 0 && z.emerging == *e)
                    .count()
            )
        })
        .collect();
    writeln!(
        out,
        "trend classes of zones with appeals: {}",
        counts.join(", ")
    )?;
    Ok(())
}

/// The resolved rows the problem map is computed on: the whole table (`local`, SQLite), or, for
/// a PostgreSQL table read as the window reads a large one, the grouped table's
/// [`crate::app::problem_rows_and_zones_of_grouped`]: its rows for the profile, and for
/// settlement and hexagon zones the zones of the whole table.
fn problem_rows(
    args: &ProblemArgs,
    source: &Source,
    boundaries: std::sync::Arc<BoundarySet>,
    request: &crate::app::problems::ProblemRequest,
) -> anyhow::Result<(std::sync::Arc<Resolved>, Option<Zones>)> {
    let is_postgres = matches!(source, Source::Postgres { .. });
    let strategy = match args.strategy {
        Strategy::Pushdown if !is_postgres => {
            bail!("--strategy pushdown needs a PostgreSQL source: {source}")
        }
        // More rows for the profile than `--pushdown-above` (one count, before any grouping):
        // the whole table is loaded, as `local` does.
        Strategy::Auto if is_postgres && too_many_rows(source, request, args.pushdown_above)? => {
            Strategy::Local
        }
        other => other,
    };
    let dataset = crate::app::load_dataset_with(
        source.clone(),
        false,
        strategy.for_window(args.pushdown_above),
    )
    .with_context(|| format!("reading {source}"))?;
    if strategy == Strategy::Pushdown && !dataset.is_grouped() {
        bail!(
            "{source} cannot be grouped in the database (its coordinate columns are not \
             numbers): use --strategy local"
        );
    }
    let resolved = crate::app::resolve(std::sync::Arc::new(dataset), boundaries);
    check_names(
        &request.filter,
        &resolved.dataset.appeals,
        &resolved.resolution,
        source,
    )?;
    let resolved = std::sync::Arc::new(resolved);
    if !resolved.dataset.is_grouped() {
        return Ok((resolved, None));
    }
    // At most `--pushdown-above` rows for the profile; more are an error with `pushdown`.
    let (rows, zones) = crate::app::problem_rows_and_zones_of_grouped(
        &resolved,
        request,
        args.pushdown_above,
        &crate::app::HexGridCache::default(),
    )
    .map_err(|e| anyhow::anyhow!("{e}"))
    .with_context(|| format!("reading the problem map's rows from {source}"))?;
    Ok((rows, zones))
}

/// Whether the problem map of `request` needs more than `max_rows` rows of the PostgreSQL
/// table `source` (its filter's and profile's prefilter, counted in SQL).
pub(super) fn too_many_rows(
    source: &Source,
    request: &crate::app::problems::ProblemRequest,
    max_rows: u64,
) -> anyhow::Result<bool> {
    let Source::Postgres { url, table } = source else {
        return Ok(false);
    };
    let Some(prefilter) = crate::app::problem_prefilter(request) else {
        return Ok(false);
    };
    let store = crate::data::PgStore::connect(url, table.as_deref())
        .with_context(|| format!("opening {source}"))?;
    let rows = crate::data::pushdown::count(&store, &prefilter)
        .with_context(|| format!("counting the problem map's rows in {source}"))?;
    Ok(rows > max_rows)
}
