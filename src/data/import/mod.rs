//! Importing the exports people actually have into a database that follows the contract:
//! reading CSV (any of the usual encodings and delimiters), Excel and GeoJSON files as tables
//! ([`read`]), mapping their columns to the contract's fields and parsing dates, coordinates and
//! statuses ([`parse`]), and writing them in one transaction, without duplicates, with a report
//! of every rejected row ([`write`]) — into a SQLite file, or a PostgreSQL table by `COPY`
//! (`pg`, behind the same `write::Target` interface).

pub mod parse;
mod pg;
pub mod read;
pub mod write;

use std::path::{Path, PathBuf};

/// Rows a preview holds.
pub const PREVIEW_ROWS: usize = 10;

/// The first rows of an input and the automatic mapping for it: what the import dialog shows
/// before importing.
#[derive(Clone, Debug, PartialEq)]
pub struct Preview {
    pub path: PathBuf,
    pub kind: read::SourceKind,
    pub headers: Vec<String>,
    /// At most [`PREVIEW_ROWS`] rows.
    pub rows: Vec<Vec<String>>,
    pub mapping: parse::Mapping,
}

/// Reads the first rows of `path` and proposes a mapping.
pub fn preview(path: &Path, options: &read::ReadOptions) -> Result<Preview, read::ReadError> {
    let mut table = read::Table::open(path, options)?;
    let headers = table.headers().to_vec();
    let rows: Vec<Vec<String>> = table
        .next_rows(PREVIEW_ROWS)?
        .into_iter()
        .map(|row| row.fields)
        .collect();
    let mapping = parse::Mapping::auto_with_samples(&headers, &rows);
    Ok(Preview {
        path: path.to_owned(),
        kind: table.kind().clone(),
        headers,
        rows,
        mapping,
    })
}
