//! `teplokarta export`: the aggregates behind a view (the choropleth's municipalities or the
//! problem map's zones) as CSV or GeoJSON for reports and meetings, with k-anonymity and a
//! provenance (filter in words, data timestamp, hashes of the data and the settings, version).
//! The logic lives in [`crate::analysis::export`]; this only loads, computes and writes.
//! Rendered exports (PNG, PDF briefing, GIF playback) are in [`super::export_render`].

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context as _, bail};
use clap::{Args, ValueEnum};

use super::export_render::{flags_state, page_settings};
use super::problems::{ZonesArg, find_profile};
use super::{BoundaryArgs, ClassificationArg, FilterArgs, LangArg, MetricArg, check_names};
use crate::analysis::export::{
    ChoroplethUnit, DEFAULT_K, ExportTable, Provenance, choropleth_table, problems_table, to_csv,
    to_geojson,
};
use crate::analysis::problem_export::problems_geojson;
use crate::analysis::problems::{ProblemMap, ZoneKind, Zones};
use crate::analysis::{Columns, Filter, Metric};
use crate::spatial::{Boundaries, BoundaryKind};
use crate::ui::describe::filter_in_words;
use crate::ui::i18n::Lang;

/// Arguments of `export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    #[command(flatten)]
    pub db: super::DbArgs,
    #[command(flatten)]
    pub filter: FilterArgs,
    /// What to export: the municipalities of the choropleth, or the zones of a problem profile.
    #[arg(long, value_enum, default_value_t = LayerArg::Choropleth)]
    pub layer: LayerArg,
    /// Choropleth metric.
    #[arg(long, value_enum, default_value_t = MetricArg::Count)]
    pub metric: MetricArg,
    /// Class breaks of the choropleth (as the legend's method).
    #[arg(long, value_enum, default_value_t = ClassificationArg::Quantiles)]
    pub classification: ClassificationArg,
    /// Number of classes of the choropleth (3–9).
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u8).range(3..=9))]
    pub classes: u8,
    /// Problem profile id (with --layer problems).
    #[arg(long, value_name = "ID")]
    pub profile: Option<String>,
    /// How the problem map groups appeals into zones.
    #[arg(long, value_enum, default_value_t = ZonesArg::Hex)]
    pub zones: ZonesArg,
    /// Hexagon spacing in km for the problem map (default: about 100 cells across the data).
    #[arg(long, value_name = "K")]
    pub cell_km: Option<f64>,
    /// How a PostgreSQL table is read: `pushdown` reads it as the window reads a large table
    /// (grouped in the database; the density binned there; for the problem map only the rows
    /// the filter and profile can keep, at most `--pushdown-above`) and then once more in
    /// batches for the data hash, so the figures and the hashes are a full load's without
    /// holding the rows; `local` loads its rows; `auto` pushes down above `--pushdown-above`
    /// rows in the table, unless the problem map needs more rows than that.
    #[arg(long, value_enum, default_value_t = super::Strategy::Auto)]
    pub strategy: super::Strategy,
    /// Rows in the table above which `--strategy auto` pushes down.
    #[arg(long, value_name = "ROWS", default_value_t = crate::data::DEFAULT_PUSHDOWN_ABOVE)]
    pub pushdown_above: u64,
    /// The user's problem profiles (TOML).
    #[arg(long, value_name = "FILE.toml")]
    pub profiles: Option<PathBuf>,
    /// k-anonymity: a municipality or zone with 1 to k-1 appeals is merged into "other" (or
    /// hidden when all such together are fewer than k). 1 turns it off.
    #[arg(long, default_value_t = DEFAULT_K, value_parser = clap::value_parser!(u64).range(1..))]
    pub k: u64,
    /// Title written into the file (default: the filter in words).
    #[arg(long)]
    pub title: Option<String>,
    /// Language of the filter in words and the "other" row.
    #[arg(long, value_enum, default_value_t = LangArg::Ru)]
    pub lang: LangArg,
    /// Output file, the format taken from the extension: `.csv`, `.geojson`/`.json` (the
    /// aggregates), `.png` (the map), `.pdf` (a briefing: map, tables, weekly chart) or `.gif`
    /// (the weekly playback).
    #[arg(long)]
    pub out: PathBuf,
    /// Saved views file (`.teplokarta-views.json`) for PNG, PDF and GIF: `--view` picks one;
    /// without it a PDF has one page per view.
    #[arg(long, value_name = "FILE")]
    pub views: Option<PathBuf>,
    /// Name of the saved view to render (its extent, layers and filter replace the flags).
    #[arg(long, value_name = "NAME", requires = "views")]
    pub view: Option<String>,
    /// Size of the rendered map in points, WIDTHxHEIGHT (PNG, PDF, GIF).
    #[arg(long, default_value = "1600x1000")]
    pub size: String,
    /// Pixels per point of the rendered map: 1, 2 or 4 (for print).
    #[arg(long, default_value_t = 1, value_parser = parse_scale)]
    pub scale: u8,
    /// GIF: one frame per week or per day of the period.
    #[arg(long, value_enum, default_value_t = StepArg::Week)]
    pub step: StepArg,
    /// GIF: each frame shows everything from the period's start (cumulative) or only its own
    /// week or day (moving), as the window's time playback does.
    #[arg(long, value_enum, default_value_t = WindowArg::Cumulative)]
    pub window: WindowArg,
    /// Compare the filter's period (B) with period A: two maps side by side or one map of
    /// B − A (PNG, PDF, GIF); the tables get A's count and value and the difference.
    #[arg(long, value_enum)]
    pub compare: Option<CompareArg>,
    /// First day of period A (default: the period of B's length just before B).
    #[arg(long, value_name = "DATE", requires = "compare")]
    pub compare_from: Option<String>,
    /// Last day of period A.
    #[arg(long, value_name = "DATE", requires = "compare")]
    pub compare_to: Option<String>,
    #[command(flatten)]
    pub boundaries: BoundaryArgs,
}

/// `--compare`.
#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum CompareArg {
    Split,
    Difference,
}

impl ExportArgs {
    /// The comparison the flags ask for (period A's dates as given; `None` ones default to the
    /// period before B).
    ///
    /// # Errors
    /// A date is not `YYYY-MM-DD`, or period A is reversed.
    pub(super) fn compare_settings(
        &self,
    ) -> anyhow::Result<crate::analysis::compare::CompareSettings> {
        use crate::analysis::compare::{CompareMode, CompareSettings};
        let date = |s: &Option<String>, flag: &str| -> anyhow::Result<_> {
            s.as_deref()
                .map(|s| Filter::parse_date(s).with_context(|| format!("--{flag}")))
                .transpose()
        };
        let settings = CompareSettings {
            mode: match self.compare {
                None => CompareMode::Off,
                Some(CompareArg::Split) => CompareMode::Split,
                Some(CompareArg::Difference) => CompareMode::Difference,
            },
            a_from: date(&self.compare_from, "compare-from")?,
            a_to: date(&self.compare_to, "compare-to")?,
        };
        if let (Some(from), Some(to)) = (settings.a_from, settings.a_to)
            && from > to
        {
            bail!("--compare-from {from} is after --compare-to {to}");
        }
        if settings.a_from.is_some() != settings.a_to.is_some() {
            bail!("period A needs both --compare-from and --compare-to (or neither)");
        }
        Ok(settings)
    }

    /// `--lang`.
    pub(super) fn lang(&self) -> Lang {
        match self.lang {
            LangArg::Ru => Lang::Ru,
            LangArg::En => Lang::En,
        }
    }

    /// `--zones`.
    pub(super) fn zone_kind(&self) -> ZoneKind {
        match self.zones {
            ZonesArg::Settlements => ZoneKind::Settlements,
            ZonesArg::Hex => ZoneKind::Hexagons,
            ZonesArg::Municipalities => ZoneKind::Municipalities,
        }
    }
}

/// Layers `export` writes (the density surface only as an image).
#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum LayerArg {
    Choropleth,
    Density,
    Problems,
}

/// `--scale`: 1, 2 or 4.
fn parse_scale(text: &str) -> Result<u8, String> {
    match text.trim() {
        "1" => Ok(1),
        "2" => Ok(2),
        "4" => Ok(4),
        _ => Err(format!("{text}: the scale is 1, 2 or 4")),
    }
}

/// Frames of a GIF playback.
#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum StepArg {
    Week,
    Day,
}

/// What each frame of a GIF playback counts.
#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum WindowArg {
    Cumulative,
    Moving,
}

/// Runs `export`.
pub fn export(args: &ExportArgs, out: &mut dyn std::io::Write) -> anyhow::Result<()> {
    let ext = args
        .out
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_lowercase();
    match ext.as_str() {
        "csv" | "geojson" | "json" => {}
        "png" | "pdf" | "gif" => return super::export_render::export_rendered(args, &ext, out),
        "webm" | "mp4" => bail!(
            "--out {}: .{ext} is not supported; for the weekly playback use .gif",
            args.out.display()
        ),
        _ => bail!(
            "--out {}: the format is taken from the extension: .csv, .geojson, .png, .pdf or .gif",
            args.out.display()
        ),
    }
    if args.layer == LayerArg::Density {
        bail!("--layer density has no table of aggregates: export it as .png, .pdf or .gif");
    }
    if args.views.is_some() {
        bail!("--views is for .png, .pdf and .gif; .csv and .geojson follow the filter flags");
    }
    let filter: Filter = args.filter.to_filter()?;
    let metric: Metric = args.metric.into();
    if args.layer == LayerArg::Choropleth
        && metric == Metric::Change
        && (filter.from.is_none() || filter.to.is_none())
    {
        bail!("--metric change compares with the previous period: give --from and --to");
    }
    if args.layer == LayerArg::Problems && args.profile.is_none() {
        bail!("--layer problems needs --profile");
    }
    if args.compare.is_some() && args.layer == LayerArg::Problems {
        bail!("--compare is for the heat map (--layer choropleth or density)");
    }
    let compare = args.compare_settings()?;
    if let Some(c) = args.cell_km
        && !(c > 0.0 && c.is_finite())
    {
        bail!("--cell-km must be a positive number of kilometres");
    }
    let lang = args.lang();
    let english = lang == Lang::En;
    let source = args.db.source()?;
    let strategy = load_strategy(args, &source, &filter)?;
    let dataset = Arc::new(
        crate::app::load_dataset_with(source.clone(), false, strategy)
            .with_context(|| format!("reading {source}"))?,
    );
    let boundaries = Arc::new(crate::app::BoundarySet::new(args.boundaries.load()?));
    let resolved = Arc::new(crate::app::resolve(dataset.clone(), boundaries.clone()));
    check_names(
        &filter,
        &resolved.dataset.appeals,
        &resolved.resolution,
        &source,
    )?;
    // As the rendered export records the same flags (the same settings hash).
    let settings = page_settings(
        &flags_state(args, filter.clone(), compare.clone()),
        args.k,
        boundaries_name(&boundaries.boundaries),
    );
    let (table, what) = match args.layer {
        LayerArg::Choropleth | LayerArg::Density => {
            (choropleth(&resolved, &filter, &compare, args, lang), None)
        }
        LayerArg::Problems => {
            let id = args.profile.clone().unwrap_or_default();
            let profile = find_profile(&id, args.profiles.as_ref())?;
            let table = problems(&resolved, &filter, args, profile.clone())?;
            (table, Some(profile.display_name(english).to_owned()))
        }
    };
    let words = filter_in_words(&filter, what.as_deref(), lang);
    let stamp = crate::app::data_stamp_of(&dataset)
        .map_err(|e| anyhow::anyhow!("{e}"))
        .with_context(|| format!("reading {source} for the data hash"))?;
    let provenance = Provenance::with_data_stamp(words.clone(), stamp, settings, &table);
    let title = args.title.clone().unwrap_or(words);
    let bytes = if ext == "csv" {
        to_csv(&table, &provenance, &title, english)?
    } else {
        to_geojson(&table, &provenance, &title, english).into_bytes()
    };
    std::fs::write(&args.out, bytes).with_context(|| format!("writing {}", args.out.display()))?;
    let s = &table.suppression;
    writeln!(
        out,
        "wrote {} ({} {}; k = {}: {} merged into \"other\", {} hidden)\n{}",
        args.out.display(),
        table.rows.len(),
        if table.layer == "problems" {
            "zones"
        } else {
            "municipalities"
        },
        s.k,
        s.merged_units,
        s.hidden_units,
        provenance.line(english)
    )?;
    Ok(())
}

/// The choropleth's municipalities, with the values, classes and breaks of the window's view.
fn choropleth(
    resolved: &Arc<crate::app::Resolved>,
    filter: &Filter,
    compare: &crate::analysis::compare::CompareSettings,
    args: &ExportArgs,
    lang: Lang,
) -> ExportTable {
    let metric: Metric = args.metric.into();
    let request = crate::app::ViewRequest {
        filter: filter.clone(),
        metric,
        classification: args.classification.into(),
        classes: usize::from(args.classes),
        locked_breaks: None,
        selected: None,
    };
    let view = crate::app::compute_view(resolved.clone(), request.clone());
    // Period B is the filter's (the data's first or last day where it has none), as in the
    // window.
    let comparison = (compare.mode != crate::analysis::compare::CompareMode::Off)
        .then(|| {
            let range = resolved.dataset.appeals.received_range()?;
            let b = (
                filter.from.unwrap_or(range.0.date()),
                filter.to.unwrap_or(range.1.date()),
            );
            let mut b_request = request.clone();
            b_request.filter.from = Some(b.0);
            b_request.filter.to = Some(b.1);
            Some(crate::app::compute_comparison(
                resolved.clone(),
                crate::app::CompareRequest {
                    b: b_request,
                    a: compare.period_a(b),
                },
            ))
        })
        .flatten();
    choropleth_of_view(resolved, &view, metric, args.k, lang, comparison.as_ref())
}

/// The municipalities of a computed view (the window's or one computed here) after k-anonymity.
pub(super) fn choropleth_of_view(
    resolved: &crate::app::Resolved,
    view: &crate::app::View,
    metric: Metric,
    k: u64,
    lang: Lang,
    comparison: Option<&crate::app::Comparison>,
) -> ExportTable {
    let resolution = &resolved.resolution;
    let facts = crate::spatial::municipalities();
    let boundaries = &resolved.boundaries.boundaries;
    let schematic = boundaries.is_schematic();
    let count = |l: usize| view.aggregates.by_label.get(l).copied().unwrap_or(0);
    let units = (0..resolution.labels.len())
        .filter(|&l| view.in_filter.get(l).copied().unwrap_or(false))
        .filter(|&l| l < facts.len() || count(l) > 0)
        .map(|l| {
            let fact = resolution
                .unit_of_label
                .get(l)
                .copied()
                .flatten()
                .and_then(|u| facts.get(u));
            // Polygons of the boundaries file; the schematic partition is only a sketch, so a
            // point at the municipality's centroid stands for it.
            let polygons: Vec<geo::Polygon<f64>> = if schematic {
                Vec::new()
            } else {
                boundaries
                    .units
                    .iter()
                    .zip(&resolved.unit_labels)
                    .filter(|(_, label)| **label as usize == l)
                    .flat_map(|(u, _)| u.polygon_lon_lat.0.iter().cloned())
                    .collect()
            };
            let geometry = if polygons.is_empty() {
                fact.map(|f| geojson::Geometry::new_point([f.centroid_lon, f.centroid_lat]))
            } else {
                Some(geojson::Geometry::new(geojson::GeometryValue::from(
                    &geo::MultiPolygon(polygons),
                )))
            };
            let label = resolution.label(l as u32);
            ChoroplethUnit {
                name: if label.is_empty() {
                    lang.texts().unknown_municipality.to_owned()
                } else {
                    label.to_owned()
                },
                count: count(l),
                previous_count: view
                    .aggregates
                    .previous_by_label
                    .as_ref()
                    .and_then(|p| p.get(l).copied()),
                value: view.values.get(l).copied().flatten(),
                population: fact.and_then(|f| f.population),
                geometry,
                compare: comparison.map(|c| crate::analysis::export::UnitComparison {
                    count_a: c.a.counts.get(l).copied().unwrap_or(0),
                    value_a: c.a.values.get(l).copied().flatten(),
                    difference: c.difference.get(l).copied().flatten(),
                }),
            }
        })
        .collect();
    choropleth_table(units, metric, &view.breaks, k)
}

/// How `export` reads `source` (`--strategy`, as `problems` decides it): a PostgreSQL table
/// above `--pushdown-above` rows is grouped in the database, unless the problem layer needs
/// more rows than that (then `auto` loads it).
pub(super) fn load_strategy(
    args: &ExportArgs,
    source: &crate::data::Source,
    filter: &Filter,
) -> anyhow::Result<crate::data::LoadStrategy> {
    use super::Strategy;
    let is_postgres = matches!(source, crate::data::Source::Postgres { .. });
    let problems = args.layer == LayerArg::Problems;
    let too_many = || -> anyhow::Result<bool> {
        if !problems || !is_postgres {
            return Ok(false);
        }
        let id = args.profile.clone().unwrap_or_default();
        let request = crate::app::problems::ProblemRequest {
            filter: filter.clone(),
            settings: crate::analysis::problems::ProblemSettings {
                profile: find_profile(&id, args.profiles.as_ref())?,
                ..crate::analysis::problems::ProblemSettings::default()
            },
            zones: args.zone_kind(),
            cell_km: args.cell_km,
        };
        super::problems::too_many_rows(source, &request, args.pushdown_above)
    };
    let strategy = match args.strategy {
        Strategy::Pushdown if !is_postgres => {
            bail!("--strategy pushdown needs a PostgreSQL source: {source}")
        }
        Strategy::Auto if too_many()? => Strategy::Local,
        other => other,
    };
    Ok(strategy.for_window(args.pushdown_above))
}

/// The problem map's zones of the profile: on the loaded rows, or on a grouped table's rows for
/// the profile (as the window computes it).
fn problems(
    resolved: &Arc<crate::app::Resolved>,
    filter: &Filter,
    args: &ExportArgs,
    profile: crate::analysis::profiles::Profile,
) -> anyhow::Result<ExportTable> {
    use crate::analysis::problems::{ProblemRows, ProblemSettings, compute};
    let settings = ProblemSettings {
        profile,
        ..ProblemSettings::default()
    };
    let grouped_rows;
    let (resolved, zones) = if resolved.dataset.is_grouped() {
        let request = crate::app::problems::ProblemRequest {
            filter: filter.clone(),
            settings: settings.clone(),
            zones: args.zone_kind(),
            cell_km: args.cell_km,
        };
        let (rows, zones) = crate::app::problem_rows_and_zones_of_grouped(
            resolved,
            &request,
            args.pushdown_above,
            &crate::app::HexGridCache::default(),
        )
        .map_err(|e| anyhow::anyhow!("{e}"))
        .context("reading the problem map's rows")?;
        grouped_rows = rows;
        (&grouped_rows, zones)
    } else {
        (resolved, None)
    };
    let appeals = &resolved.dataset.appeals;
    let set = &resolved.boundaries;
    let zones = zones.unwrap_or_else(|| {
        Zones::build(
            args.zone_kind(),
            args.cell_km,
            appeals,
            &resolved.resolution,
            &set.boundaries,
            &set.locator,
        )
    });
    let columns: &Columns = &resolved.columns;
    let map = compute(
        appeals,
        &resolved.resolution,
        columns,
        &ProblemRows::new(appeals),
        &zones,
        filter,
        &settings,
    );
    zones_table(&map, &zones, &set.boundaries, args.lang(), args.k)
}

/// The zones of a computed problem map after k-anonymity, through the problem map's own
/// GeoJSON export.
pub(super) fn zones_table(
    map: &ProblemMap,
    zones: &Zones,
    boundaries: &Boundaries,
    lang: Lang,
    k: u64,
) -> anyhow::Result<ExportTable> {
    let near = if lang == Lang::En { "near" } else { "у" };
    let text = problems_geojson(map, zones, boundaries, near);
    Ok(problems_table(&text, k)?)
}

/// `schematic` or the boundaries file's name, as the provenance records them.
pub(super) fn boundaries_name(boundaries: &Boundaries) -> String {
    match &boundaries.kind {
        BoundaryKind::Schematic => "schematic".to_owned(),
        BoundaryKind::File { path, .. } => path.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().into(),
        ),
    }
}
