//! `teplokarta export … --out FILE.png|.pdf|.gif`: the map as the window draws it (the real
//! app rendered offscreen in presentation mode by [`crate::app::render`]), with a provenance
//! line; the PDF briefing (per saved view: the map, the top municipalities and problem zones
//! after k-anonymity, the weekly chart, the provenance) and the GIF playback (one frame per
//! week or day, class breaks locked across frames). Aggregates only: no appeal's text,
//! address or point reaches these files.

use anyhow::{Context as _, bail};
use jiff::ToSpan as _;
use jiff::civil::Date;

use super::check_names;
use super::export::{
    ExportArgs, LayerArg, StepArg, WindowArg, boundaries_name, choropleth_of_view, zones_table,
};
use super::export_pdf::BriefingPage;
use crate::analysis::export::{DataStamp, ExportSettings, ExportTable, Provenance};
use crate::analysis::playback::frame_filter;
use crate::analysis::{Classification, Filter, Metric};
use crate::app::Startup;
use crate::app::render::{MapState, RenderOptions, Renderer, Scene, encode_png};
use crate::app::views::{SavedView, load_views};
use crate::tiles::choice::BasemapChoice;
use crate::ui::i18n::Lang;
use crate::ui::panels::{LockedScale, MapSettings};
use crate::ui::problem_panel::ProblemPrefs;

/// Most frames a GIF may have.
const MAX_FRAMES: usize = 400;

/// One page (or image) to render: what the map shows and under which name.
struct Page {
    /// The saved view's index in the views file (its extent too), or `None`: the map fitted
    /// to the data.
    view: Option<usize>,
    /// The saved view's name.
    name: Option<String>,
    state: MapState,
}

impl Page {
    fn scene(&self) -> Scene {
        match self.view {
            Some(i) => Scene::View(i),
            None => Scene::Settings(Box::new(self.state.clone())),
        }
    }
}

/// Runs a rendered export (`ext` is `png`, `pdf` or `gif`).
pub fn export_rendered(
    args: &ExportArgs,
    ext: &str,
    out: &mut dyn std::io::Write,
) -> anyhow::Result<()> {
    let (width_pt, height_pt) = parse_size(&args.size)?;
    let options = RenderOptions {
        width_pt,
        height_pt,
        scale: f32::from(args.scale),
    };
    let lang = args.lang();
    let pages = pages(args, ext)?;
    let source = args.db.source()?;
    // The window reports a source it cannot read over the map; say it here in one line.
    source.open().with_context(|| format!("opening {source}"))?;
    let strategy = super::export::load_strategy(args, &source, &args.filter.to_filter()?)?;
    let startup = Startup {
        database: Some(source.clone()),
        strategy,
        boundaries: args.boundaries.boundaries.clone(),
        name_property: args.boundaries.name_property.clone(),
        lang: Some(lang),
        fresh: true,
        profiles_file: args.profiles.clone(),
        basemap: Some(BasemapChoice::BuiltIn),
        // No saved views unless given: never the user's working list.
        views_file: Some(
            args.views
                .clone()
                .unwrap_or_else(|| std::env::temp_dir().join("teplokarta-export-none.json")),
        ),
        ..Startup::default()
    };
    let mut renderer =
        Renderer::new(startup, options).with_context(|| format!("rendering {source}"))?;
    if args.k > 1 {
        let note = if lang == Lang::En {
            format!(
                "Municipalities and zones with 1–{} appeals are not shown (k = {})",
                args.k - 1,
                args.k
            )
        } else {
            format!(
                "Муниципалитеты и зоны с 1–{} обращениями не показаны (k = {})",
                args.k - 1,
                args.k
            )
        };
        renderer.set_k(args.k, Some(note));
    }
    let resolved = renderer
        .app()
        .and_then(|a| a.resolved())
        .context("no data loaded")?;
    for page in &pages {
        check_names(
            &page.state.filter,
            &resolved.dataset.appeals,
            &resolved.resolution,
            &source,
        )?;
    }
    // Every page and frame shows the same data: its hash reads every row, so once.
    // A table grouped in the database is read once more, in batches, for the hash a full load
    // gives.
    let data_hash = crate::app::data_stamp_of(&resolved.dataset)
        .map_err(|e| anyhow::anyhow!("{e}"))
        .with_context(|| format!("reading {source} for the data hash"))?;
    let bytes = match ext {
        "png" => {
            let page = pages.first().context("no view to render")?;
            let shown = show_page(&mut renderer, page, args, lang, &data_hash)?;
            let image = renderer.render()?;
            writeln!(out, "{}", shown.provenance_line)?;
            encode_png(&image)?
        }
        "pdf" => {
            let mut rendered = Vec::new();
            for page in &pages {
                let shown = show_page(&mut renderer, page, args, lang, &data_hash)?;
                let image = renderer.render()?;
                writeln!(out, "{}", shown.provenance_line)?;
                let resolved = renderer.app().and_then(|a| a.resolved());
                // A comparison's chart spans both periods.
                let filter = match &shown.compare {
                    Some(c) => Filter {
                        from: Some(c.a.0.min(c.b.0)),
                        to: Some(c.a.1.max(c.b.1)),
                        ..page.state.filter.clone()
                    },
                    None => page.state.filter.clone(),
                };
                let weekly = weekly_counts(resolved.context("no data loaded")?, &filter);
                rendered.push(BriefingPage {
                    shown,
                    weekly,
                    image,
                });
            }
            super::export_pdf::briefing(&rendered, lang)?
        }
        _ => {
            let page = pages.first().context("no view to render")?;
            gif(&mut renderer, page, args, lang, &data_hash, out)?
        }
    };
    std::fs::write(&args.out, bytes).with_context(|| format!("writing {}", args.out.display()))?;
    writeln!(out, "wrote {}", args.out.display())?;
    Ok(())
}

/// `WIDTHxHEIGHT` in points.
fn parse_size(text: &str) -> anyhow::Result<(u32, u32)> {
    let parsed = text
        .split_once(['x', 'X', '×'])
        .and_then(|(w, h)| Some((w.trim().parse::<u32>().ok()?, h.trim().parse::<u32>().ok()?)));
    match parsed {
        Some((w, h)) if (200..=8000).contains(&w) && (150..=8000).contains(&h) => Ok((w, h)),
        _ => bail!("--size {text}: expected WIDTHxHEIGHT in points, e.g. 1600x1000 (200–8000)"),
    }
}

/// The pages the arguments name: the saved views of `--views` (one with `--view`, all for a
/// PDF), or the filter flags with `--layer`.
fn pages(args: &ExportArgs, ext: &str) -> anyhow::Result<Vec<Page>> {
    let Some(path) = &args.views else {
        return Ok(vec![flags_page(args)?]);
    };
    let views = load_views(path).with_context(|| format!("reading {}", path.display()))?;
    if views.is_empty() {
        bail!("{}: no saved views", path.display());
    }
    let page = |(i, v): (usize, &SavedView)| Page {
        view: Some(i),
        name: Some(v.name.clone()),
        state: MapState {
            filter: v.filter.clone(),
            map: v.map.clone(),
            problems: v.problems.clone(),
        },
    };
    match &args.view {
        Some(name) => {
            let found = views.iter().enumerate().find(|(_, v)| v.name == *name);
            match found {
                Some(found) => Ok(vec![page(found)]),
                None => bail!(
                    "{}: no view named {name:?}; the views are: {}",
                    path.display(),
                    views
                        .iter()
                        .map(|v| format!("{:?}", v.name))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            }
        }
        None if ext == "pdf" => Ok(views.iter().enumerate().map(page).collect()),
        None => bail!("--views without --view: a .{ext} shows one view; name it with --view"),
    }
}

/// The page the filter flags and `--layer` describe.
fn flags_page(args: &ExportArgs) -> anyhow::Result<Page> {
    let filter = args.filter.to_filter()?;
    if Metric::from(args.metric) == Metric::Change && (filter.from.is_none() || filter.to.is_none())
    {
        bail!("--metric change compares with the previous period: give --from and --to");
    }
    if args.layer == LayerArg::Problems && args.profile.is_none() {
        bail!("--layer problems needs --profile");
    }
    Ok(Page {
        view: None,
        name: None,
        state: flags_state(args, filter, args.compare_settings()?),
    })
}

/// The layers and their settings the flags name, shown with `filter`.
pub(super) fn flags_state(
    args: &ExportArgs,
    filter: Filter,
    compare: crate::analysis::compare::CompareSettings,
) -> MapState {
    let mut map = MapSettings {
        metric: args.metric.into(),
        classification: args.classification.into(),
        classes: usize::from(args.classes),
        compare,
        ..MapSettings::default()
    };
    map.density.enabled = args.layer == LayerArg::Density;
    let mut problems = ProblemPrefs {
        active: args.layer == LayerArg::Problems,
        cell_km: args.cell_km,
        zones: args.zone_kind(),
        ..ProblemPrefs::default()
    };
    if let Some(id) = &args.profile {
        problems.profile_id.clone_from(id);
    }
    MapState {
        filter,
        map,
        problems,
    }
}

/// What a shown page says besides its image.
pub(super) struct Shown {
    pub title: String,
    /// The filter in words (the title bar's subtitle).
    pub words: String,
    pub provenance: Provenance,
    pub provenance_line: String,
    pub municipalities: ExportTable,
    pub metric: Metric,
    pub breaks: Vec<f64>,
    pub zones: Option<ExportTable>,
    pub k: u64,
    /// The comparison of two periods on the page, when there is one.
    pub compare: Option<ShownComparison>,
}

/// What a page comparing two periods says besides period B's figures.
pub(super) struct ShownComparison {
    /// Periods A and B, first and last day.
    pub a: (Date, Date),
    pub b: (Date, Date),
    pub difference_metric: Metric,
    pub difference_breaks: Vec<f64>,
}

/// Shows `page` and works out its title, tables and provenance (drawn along the bottom).
fn show_page(
    renderer: &mut Renderer,
    page: &Page,
    args: &ExportArgs,
    lang: Lang,
    data_hash: &DataStamp,
) -> anyhow::Result<Shown> {
    let title = args.title.clone().or_else(|| page.name.clone());
    renderer.show(&page.scene(), title.clone())?;
    let app = renderer.app().context("the app did not start")?;
    let (_, words) = app.title();
    let resolved = app.resolved().context("no data loaded")?;
    let view = app.view().context("the map's figures were not computed")?;
    let metric = page.state.map.metric;
    // A comparison on screen: the tables carry period A and the difference too.
    let comparison = app.comparison().filter(|_| app.comparing());
    let municipalities = choropleth_of_view(resolved, view, metric, args.k, lang, comparison);
    let compare = comparison.map(|c| ShownComparison {
        a: c.a.period(),
        b: c.b.period(),
        difference_metric: c.difference_metric,
        difference_breaks: c.difference_breaks.clone(),
    });
    let zones = match app.problems().filter(|_| page.state.problems.active) {
        Some(p) => Some(zones_table(
            &p.map,
            &p.base.zones,
            &p.base.resolved.boundaries.boundaries,
            lang,
            args.k,
        )?),
        // The problem map failed (too many rows for a grouped table, …): say why rather than
        // export the page without it.
        None if page.state.problems.active => bail!(
            "the problem map was not computed: {}",
            app.errors()
                .last()
                .map_or("no reason given", String::as_str)
        ),
        None => None,
    };
    let settings = page_settings(
        &page.state,
        args.k,
        boundaries_name(&resolved.boundaries.boundaries),
    );
    let table = zones.as_ref().unwrap_or(&municipalities);
    let provenance = Provenance::with_data_stamp(words.clone(), data_hash.clone(), settings, table);
    let line = provenance_line(&provenance, lang);
    let breaks = view.breaks.clone();
    renderer.set_overlay(title.clone(), Some(line.clone()))?;
    Ok(Shown {
        title: title.unwrap_or_else(|| words.clone()),
        words,
        provenance,
        provenance_line: line,
        municipalities,
        metric,
        breaks,
        zones,
        k: args.k,
        compare,
    })
}

/// The settings behind a page, as the CSV/GeoJSON export records them (the same view
/// exported as CSV and as PNG has the same settings hash, apart from the density layer).
pub(super) fn page_settings(page: &MapState, k: u64, boundaries: String) -> ExportSettings {
    let problems = page.problems.active;
    ExportSettings {
        filter: page.filter.clone(),
        layer: if problems {
            "problems"
        } else if page.map.density.enabled {
            "density"
        } else {
            "choropleth"
        }
        .to_owned(),
        metric: (!problems).then(|| page.map.metric.cli_name().to_owned()),
        // As `--classification` names it (the CSV export writes the flag's name).
        classification: (!problems).then(|| {
            match page.map.classification {
                Classification::Quantiles => "quantiles",
                Classification::EqualIntervals => "equal",
                Classification::NaturalBreaks => "jenks",
            }
            .to_owned()
        }),
        classes: (!problems).then_some(page.map.classes),
        profile: problems.then(|| page.problems.profile_id.clone()),
        zones: problems.then(|| page.problems.zones.cli_name().to_owned()),
        cell_km: if problems {
            page.problems.cell_km
        } else {
            None
        },
        k,
        boundaries,
        compare: page_compare(page),
    }
}

/// What the settings hash records of a comparison: its mode and period A as set (`previous`:
/// the period before B, which the filter's dates decide).
fn page_compare(page: &MapState) -> Option<String> {
    let c = &page.map.compare;
    if page.problems.active || c.mode == crate::analysis::compare::CompareMode::Off {
        return None;
    }
    let a = match (c.a_from, c.a_to) {
        (Some(from), Some(to)) => format!("{from}..{to}"),
        _ => "previous".to_owned(),
    };
    Some(format!("{:?} A {a}", c.mode).to_lowercase())
}

/// The short provenance line drawn under a rendered map: filter in words · data as of DATE ·
/// data #hash · settings #hash · Teplokarta vX · k.
pub fn provenance_line(p: &Provenance, lang: Lang) -> String {
    let (as_of, data, settings) = if lang == Lang::En {
        ("data as of", "data", "settings")
    } else {
        ("данные на", "данные", "настройки")
    };
    format!(
        "{} · {as_of} {} · {data} #{} · {settings} #{} · Teplokarta v{} · k = {}",
        p.filter,
        p.data_as_of.as_deref().unwrap_or("—"),
        p.data_hash,
        p.settings_hash,
        p.version,
        p.suppression.k
    )
}

/// Appeals of `filter` per week (from Monday), every week of the range, empty weeks included.
fn weekly_counts(resolved: &crate::app::Resolved, filter: &Filter) -> Vec<(Date, u64)> {
    let appeals = &resolved.dataset.appeals;
    let rows = filter.apply(appeals, &resolved.resolution);
    let monday = |d: Date| {
        d.checked_sub(i64::from(d.weekday().to_monday_zero_offset()).days())
            .unwrap_or(d)
    };
    let mut weeks: std::collections::BTreeMap<Date, u64> = std::collections::BTreeMap::new();
    for &i in &rows {
        if let Some(Some(t)) = appeals.received.get(i as usize) {
            *weeks.entry(monday(t.date())).or_default() += 1;
        }
    }
    let (Some((&first, _)), Some((&last, _))) = (weeks.first_key_value(), weeks.last_key_value())
    else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut week = first;
    while week <= last {
        out.push((week, weeks.get(&week).copied().unwrap_or(0)));
        match week.checked_add(7.days()) {
            Ok(next) => week = next,
            Err(_) => break,
        }
    }
    out
}

/// The GIF playback of `page`: one frame per week or day, class breaks (and the density's
/// top) of the whole period locked for every frame.
fn gif(
    renderer: &mut Renderer,
    page: &Page,
    args: &ExportArgs,
    lang: Lang,
    data_hash: &DataStamp,
    out: &mut dyn std::io::Write,
) -> anyhow::Result<Vec<u8>> {
    // The whole period first: its density surface is the cumulative frames' top.
    show_page(renderer, page, args, lang, data_hash)?;
    let app = renderer.app().context("the app did not start")?;
    let (from, to) = match (page.state.filter.from, page.state.filter.to) {
        (Some(from), Some(to)) => (from, to),
        (from, to) => {
            let range = app
                .dataset()
                .and_then(|d| d.appeals.received_range())
                .context("the data has no receipt dates")?;
            (from.unwrap_or(range.0.date()), to.unwrap_or(range.1.date()))
        }
    };
    // The frames of the window's time playback, each frame's dates as it shows them.
    use crate::analysis::playback;
    let step = match args.step {
        StepArg::Week => playback::Step::Week,
        StepArg::Day => playback::Step::Day,
    };
    let window = match args.window {
        WindowArg::Cumulative => playback::Window::Cumulative,
        WindowArg::Moving => playback::Window::Moving,
    };
    let frames = playback::frames(from, to, step);
    if frames.len() > MAX_FRAMES {
        bail!(
            "{from} – {to} by {} is more than {MAX_FRAMES} frames: narrow --from/--to or use --step week",
            if step == playback::Step::Week {
                "week"
            } else {
                "day"
            }
        );
    }
    let ranges: Vec<(Date, Date)> = (0..frames.len())
        .filter_map(|i| playback::frame_range(&frames, i, window))
        .collect();
    // One class scale pooled over all frames, as the playback locks it.
    let mut map = page.state.map.clone();
    let resolved = app.resolved().context("the data is not resolved")?;
    let base = crate::app::ViewRequest {
        filter: page.state.filter.clone(),
        metric: map.metric,
        classification: map.classification,
        classes: map.classes.clamp(3, 9),
        locked_breaks: None,
        selected: None,
    };
    let breaks = map.locked_breaks().unwrap_or_else(|| {
        crate::app::pooled_breaks(
            resolved,
            &base,
            ranges
                .iter()
                .map(|&r| playback::frame_filter(&page.state.filter, r))
                .collect(),
        )
    });
    map.locked = Some(LockedScale {
        metric: map.metric,
        breaks,
    });
    // Cumulative frames grow to the whole period: its density top keeps them comparable.
    if window == playback::Window::Cumulative
        && map.density.enabled
        && map.density.locked_max.is_none()
    {
        map.density.locked_max = app.density().map(|d| d.auto_max);
    }
    let mut size = None;
    let mut encoder: Option<gif::Encoder<Vec<u8>>> = None;
    for (n, &(frame_from, frame_end)) in ranges.iter().enumerate() {
        let frame_page = Page {
            view: None,
            name: page.name.clone(),
            state: MapState {
                filter: frame_filter(&page.state.filter, (frame_from, frame_end)),
                map: map.clone(),
                problems: page.state.problems.clone(),
            },
        };
        let shown = show_page(renderer, &frame_page, args, lang, data_hash)?;
        let image = renderer.render()?;
        let (w, h) = (image.width(), image.height());
        let (w16, h16) = (
            u16::try_from(w).context("a GIF is at most 65535 pixels wide")?,
            u16::try_from(h).context("a GIF is at most 65535 pixels high")?,
        );
        if encoder.is_none() {
            let mut e = gif::Encoder::new(Vec::new(), w16, h16, &[])?;
            e.set_repeat(gif::Repeat::Infinite)?;
            encoder = Some(e);
            size = Some((w, h));
        }
        if size != Some((w, h)) {
            bail!("frame {n} has another size");
        }
        let mut rgba = image.into_raw();
        let mut frame = gif::Frame::from_rgba_speed(w16, h16, &mut rgba, 10);
        frame.delay = 100;
        if let Some(e) = encoder.as_mut() {
            e.write_frame(&frame)?;
        }
        writeln!(
            out,
            "frame {}/{}: {frame_from} – {frame_end} · {}",
            n + 1,
            ranges.len(),
            shown.provenance.data_hash
        )?;
    }
    let encoder = encoder.context("no frames")?;
    Ok(encoder.into_inner()?)
}
