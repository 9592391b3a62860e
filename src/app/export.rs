//! File → Export map… in the window: the dialog's state, and the `teplokarta export` run that
//! makes the file in a background job. The window exports exactly what the headless command
//! would for the same view: PNG, PDF and GIF render the map on screen (its extent, layers and
//! filter, written to a temporary views file and named with `--view`), CSV and GeoJSON the
//! aggregates behind it (the filter and layer as flags). So the file carries the same title,
//! k-anonymity and provenance line as one made on the command line.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use super::views::SavedView;
use crate::analysis::compare::CompareMode;
use crate::analysis::problems::ZoneKind;
use crate::analysis::{Classification, Filter};
use crate::spatial::BoundaryKind;
use crate::ui::Lang;
use crate::ui::export_dialog::{ExportDialog, ExportFormat};

/// Runs `teplokarta export` with the words after `export` and returns what it printed: the
/// binary passes `cli::export_with_args` in [`super::Startup::export_runner`] (the app does
/// not depend on the command line's module).
pub type ExportRunner = fn(Vec<OsString>) -> anyhow::Result<String>;

/// What the window is showing, for an export of it.
pub struct ExportSource<'a> {
    /// The open source (a PostgreSQL URL is passed on whole, in memory only: the export runs
    /// in this process and names the source without its password).
    pub db: &'a crate::data::Source,
    pub boundaries: &'a BoundaryKind,
    pub lang: Lang,
    /// The view on screen: extent, layers and their settings, filter (its name is the title).
    pub view: SavedView,
    /// The user's problem profiles file, when there is one.
    pub profiles_file: Option<&'a Path>,
    /// How the window reads the table (the export reads it the same way).
    pub strategy: crate::data::LoadStrategy,
}

/// The words after `teplokarta export` that make `dialog`'s file from `source`, and the views
/// file they name (written here; the caller removes it after the run).
///
/// # Errors
/// The temporary views file cannot be written.
pub fn export_args(
    dialog: &ExportDialog,
    source: &ExportSource<'_>,
    views_file: &Path,
) -> Result<Vec<OsString>, super::views::ViewsError> {
    let mut args: Vec<OsString> = match source.db {
        crate::data::Source::Sqlite(path) => vec![path.into()],
        crate::data::Source::Postgres { url, table } => {
            let mut args: Vec<OsString> = vec![url.into()];
            if let Some(table) = table {
                args.push("--table".into());
                args.push(table.into());
            }
            args
        }
    };
    let mut flag = |name: &str, value: String| {
        args.push(format!("--{name}").into());
        args.push(value.into());
    };
    flag(
        "lang",
        match source.lang {
            Lang::Ru => "ru",
            Lang::En => "en",
        }
        .into(),
    );
    flag("k", dialog.k.max(1).to_string());
    if matches!(source.db, crate::data::Source::Postgres { .. }) {
        let (strategy, above) = match source.strategy {
            crate::data::LoadStrategy::Auto { above_rows } => ("auto", Some(above_rows)),
            crate::data::LoadStrategy::Local => ("local", None),
            crate::data::LoadStrategy::Pushdown => ("pushdown", None),
        };
        flag("strategy", strategy.to_owned());
        if let Some(above) = above {
            flag("pushdown-above", above.to_string());
        }
    }
    if !dialog.title.trim().is_empty() {
        flag("title", dialog.title.trim().to_owned());
    }
    if let BoundaryKind::File {
        path,
        name_property,
    } = source.boundaries
    {
        flag("boundaries", path.display().to_string());
        flag("name-property", name_property.clone());
    }
    if let Some(p) = source.profiles_file.filter(|p| p.exists()) {
        flag("profiles", p.display().to_string());
    }
    let view = &source.view;
    if dialog.format.is_rendered() {
        super::views::save_views(views_file, std::slice::from_ref(view))?;
        flag("views", views_file.display().to_string());
        flag("view", view.name.clone());
        flag("size", format!("{}x{}", dialog.width_pt, dialog.height_pt));
        flag("scale", dialog.scale.to_string());
        if dialog.format == ExportFormat::Gif {
            flag("step", if dialog.daily { "day" } else { "week" }.into());
            flag(
                "window",
                if dialog.moving {
                    "moving"
                } else {
                    "cumulative"
                }
                .into(),
            );
        }
    } else {
        filter_flags(&view.filter, &mut flag);
        flag("metric", view.map.metric.cli_name().into());
        flag(
            "classification",
            match view.map.classification {
                Classification::Quantiles => "quantiles",
                Classification::EqualIntervals => "equal",
                Classification::NaturalBreaks => "jenks",
            }
            .into(),
        );
        flag("classes", view.map.classes.clamp(3, 9).to_string());
        let compare = &view.map.compare;
        if !view.problems.active && compare.mode != CompareMode::Off {
            flag(
                "compare",
                match compare.mode {
                    CompareMode::Difference => "difference",
                    _ => "split",
                }
                .into(),
            );
            if let (Some(from), Some(to)) = (compare.a_from, compare.a_to) {
                flag("compare-from", from.to_string());
                flag("compare-to", to.to_string());
            }
        }
        if view.problems.active {
            flag("layer", "problems".into());
            flag("profile", view.problems.profile_id.clone());
            flag(
                "zones",
                match view.problems.zones {
                    ZoneKind::Settlements => "settlements",
                    ZoneKind::Hexagons => "hex",
                    ZoneKind::Municipalities => "municipalities",
                }
                .into(),
            );
            if let Some(c) = view.problems.cell_km {
                flag("cell-km", c.to_string());
            }
        }
    }
    let out = PathBuf::from(dialog.path.trim()).with_extension(dialog.format.extension());
    flag("out", out.display().to_string());
    Ok(args)
}

/// The filter as `export`'s flags.
fn filter_flags(filter: &Filter, flag: &mut impl FnMut(&str, String)) {
    if let Some(d) = filter.from {
        flag("from", d.to_string());
    }
    if let Some(d) = filter.to {
        flag("to", d.to_string());
    }
    for c in &filter.categories {
        flag("category", c.clone());
    }
    for (c, s) in &filter.subcategories {
        flag("subcategory", format!("{c}/{s}"));
    }
    for s in &filter.sources {
        flag("source", s.clone());
    }
    for s in &filter.statuses {
        flag("status", s.clone());
    }
    for m in &filter.municipalities {
        flag("municipality", m.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(filter: Filter) -> SavedView {
        SavedView {
            name: "Сентябрь".into(),
            center_lon: 68.0,
            center_lat: 57.0,
            zoom: 7.0,
            map: Default::default(),
            problems: Default::default(),
            filter,
        }
    }

    fn words(args: &[OsString]) -> Vec<String> {
        args.iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn a_table_export_names_the_filter_as_flags_and_a_render_names_the_view() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let views = dir.path().join("v.json");
        let filter = Filter {
            from: "2021-09-01".parse().ok(),
            to: "2021-09-30".parse().ok(),
            categories: ["ЖКХ".to_owned()].into(),
            subcategories: [("Дороги".to_owned(), "Ямы".to_owned())].into(),
            municipalities: ["Тюмень".to_owned()].into(),
            ..Filter::default()
        };
        let source = ExportSource {
            db: &crate::data::Source::Sqlite("/data/a.sqlite".into()),
            boundaries: &BoundaryKind::Schematic,
            lang: Lang::Ru,
            view: view(filter),
            profiles_file: None,
            strategy: crate::data::LoadStrategy::default(),
        };
        let mut dialog = ExportDialog::new(dir.path(), "2026-11-29".parse().unwrap_or_default());
        dialog.set_format(ExportFormat::Csv);
        assert!(
            dialog.path.ends_with("teplokarta-2026-11-29.csv"),
            "{}",
            dialog.path
        );
        let args = words(&export_args(&dialog, &source, &views).unwrap_or_default());
        let joined = args.join(" ");
        for part in [
            "/data/a.sqlite",
            "--from 2021-09-01",
            "--to 2021-09-30",
            "--category ЖКХ",
            "--subcategory Дороги/Ямы",
            "--municipality Тюмень",
            "--metric count",
            "--k 3",
            "--lang ru",
        ] {
            assert!(joined.contains(part), "{part} in {joined}");
        }
        assert!(!joined.contains("--views"));
        assert!(!joined.contains("--strategy"), "a SQLite file is loaded");
        assert!(!views.exists());

        dialog.set_format(ExportFormat::Pdf);
        dialog.scale = 2;
        let args = words(&export_args(&dialog, &source, &views).unwrap_or_default());
        let joined = args.join(" ");
        assert!(joined.contains("--view Сентябрь"), "{joined}");
        assert!(joined.contains("--scale 2"));
        assert!(joined.ends_with(".pdf"));
        assert!(!joined.contains("--from"), "the view carries the filter");
        let saved = super::super::views::load_views(&views).unwrap_or_default();
        assert_eq!(saved.len(), 1);
        assert_eq!(saved[0].filter, source.view.filter);
    }

    #[test]
    fn an_export_of_a_postgres_view_reads_the_same_table() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let db = crate::data::Source::parse("postgres://viewer@db/situation", Some("r72.appeals"));
        let source = ExportSource {
            db: &db,
            boundaries: &BoundaryKind::Schematic,
            lang: Lang::En,
            view: view(Filter::default()),
            profiles_file: None,
            strategy: crate::data::LoadStrategy::Auto { above_rows: 5_000 },
        };
        let mut dialog = ExportDialog::new(dir.path(), "2026-11-29".parse().unwrap_or_default());
        dialog.set_format(ExportFormat::Csv);
        let args =
            words(&export_args(&dialog, &source, &dir.path().join("v.json")).unwrap_or_default());
        assert_eq!(
            args.get(..3),
            Some(
                &[
                    "postgres://viewer@db/situation".to_owned(),
                    "--table".to_owned(),
                    "r72.appeals".to_owned()
                ][..]
            )
        );
        // Read the way the window reads it.
        let joined = args.join(" ");
        assert!(
            joined.contains("--strategy auto --pushdown-above 5000"),
            "{joined}"
        );
    }
}
