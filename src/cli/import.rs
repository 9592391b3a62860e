//! `teplokarta import`: appeals exports (CSV, Excel, GeoJSON) into a database that follows the
//! contract, with a progress line (rows/s, ETA) on stderr, the mapping used, and a summary of
//! what was imported, updated, left unchanged and rejected (and why).

use std::io::Write as _;
use std::path::PathBuf;

use anyhow::Context as _;
use clap::Args;

use crate::data::Source;
use crate::data::import::parse::{Field, Mapping};
use crate::data::import::read::ReadOptions;
use crate::data::import::write::{ImportOptions, Progress, import_into};

/// Arguments of `import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Input files: .csv/.txt/.tsv, .xlsx/.xls/.ods, .geojson/.json.
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,
    /// Target: a SQLite file, or a PostgreSQL server (`postgres://user@host/db`, or a libpq
    /// `key=value` string); the database or the table is created with the contract's schema
    /// when absent.
    #[arg(long, value_name = "DB.sqlite|postgres://…")]
    pub into: String,
    /// The PostgreSQL table (`name` or `schema.name`; default `appeals`). Ignored for SQLite.
    #[arg(long)]
    pub table: Option<String>,
    /// Encoding of CSV inputs (default: detected among UTF-8, Windows-1251, KOI8-R).
    #[arg(long)]
    pub encoding: Option<String>,
    /// Delimiter of CSV inputs (default: detected among ; , tab |); `tab` for a tab.
    #[arg(long)]
    pub delimiter: Option<String>,
    /// Excel sheet (default: the first).
    #[arg(long)]
    pub sheet: Option<String>,
    /// Column for a field, e.g. `--map received_at="Дата поступления"` (repeat).
    #[arg(long = "map", value_name = "FIELD=COLUMN")]
    pub map: Vec<String>,
    /// A saved mapping (TOML `[map]` table) instead of the automatic one.
    #[arg(long, value_name = "FILE.toml")]
    pub mapping: Option<PathBuf>,
    /// Write the mapping used for the first input to this file.
    #[arg(long, value_name = "FILE.toml")]
    pub save_mapping: Option<PathBuf>,
    /// `source` of rows without one (default: import).
    #[arg(long)]
    pub source: Option<String>,
    /// Directory for the reports of rejected rows (default: next to a SQLite target; the
    /// current directory for PostgreSQL).
    #[arg(long, value_name = "DIR")]
    pub report_dir: Option<PathBuf>,
}

/// Runs `import`.
pub fn import(args: &ImportArgs, out: &mut dyn std::io::Write) -> anyhow::Result<()> {
    let delimiter = match args.delimiter.as_deref() {
        None => None,
        Some("tab" | "\\t" | "\t") => Some(b'\t'),
        Some(d) if d.len() == 1 => d.bytes().next(),
        Some(d) => anyhow::bail!("--delimiter {d:?}: one character, or `tab`"),
    };
    let mapping = args
        .mapping
        .as_ref()
        .map(|p| {
            let text = std::fs::read_to_string(p)
                .with_context(|| format!("reading the mapping {}", p.display()))?;
            Mapping::from_toml(&text).with_context(|| format!("in {}", p.display()))
        })
        .transpose()?;
    let options = ImportOptions {
        read: ReadOptions {
            encoding: args.encoding.clone(),
            delimiter,
            sheet: args.sheet.clone(),
        },
        mapping,
        overrides: args.map.clone(),
        default_source: args.source.clone(),
        report_dir: args.report_dir.clone(),
    };
    let mut stderr = std::io::stderr();
    let mut last_print = std::time::Instant::now();
    let mut show = |p: &Progress| {
        if last_print.elapsed().as_millis() < 200 && p.done < p.total {
            return;
        }
        last_print = std::time::Instant::now();
        let share = if p.total > 0 {
            p.done as f64 * 100.0 / p.total as f64
        } else {
            0.0
        };
        let eta = p
            .eta_s()
            .map_or(String::new(), |s| format!(" · ETA {s:.0} s"));
        write!(
            stderr,
            "\rfile {}/{} · {} rows · {:.0} rows/s · {share:.0} %{eta}   ",
            p.file + 1,
            p.files,
            p.rows,
            p.rows_per_s()
        )
        .ok();
    };
    let target = Source::parse(&args.into, args.table.as_deref());
    let summary = import_into(&args.inputs, &target, &options, &mut show)
        .with_context(|| format!("importing into {target}"))?;
    writeln!(stderr).ok();
    for f in &summary.files {
        writeln!(out, "{}: {:?}", f.path.display(), f.kind)?;
        let mapped: Vec<String> = Field::ALL
            .iter()
            .filter_map(|field| {
                f.mapping
                    .columns
                    .get(field)
                    .map(|c| format!("{}={c:?}", field.key()))
            })
            .collect();
        writeln!(out, "  mapping: {}", mapped.join(", "))?;
        writeln!(
            out,
            "  rows {} · imported {} · updated {} · unchanged {} · rejected {} · without coordinates {}{}",
            f.rows,
            f.imported,
            f.updated,
            f.unchanged,
            f.rejected,
            f.without_coordinates,
            if f.resolved_unparsable > 0 {
                format!(" · resolved_at unreadable {}", f.resolved_unparsable)
            } else {
                String::new()
            }
        )?;
        for (reason, n) in &f.rejected_by_reason {
            writeln!(out, "  rejected {n}: {reason}")?;
        }
        if let Some(report) = &f.report {
            writeln!(out, "  rejected rows: {}", report.display())?;
        }
    }
    writeln!(
        out,
        "{} {} in {:.2} s",
        if summary.created {
            "created"
        } else {
            "updated"
        },
        summary.target.display(),
        summary.elapsed.as_secs_f64()
    )?;
    if let (Some(path), Some(first)) = (&args.save_mapping, summary.files.first()) {
        std::fs::write(path, first.mapping.to_toml())
            .with_context(|| format!("writing {}", path.display()))?;
        writeln!(out, "mapping saved to {}", path.display())?;
    }
    Ok(())
}
