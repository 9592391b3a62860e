//! Reading input files as tables of text: owns format detection by extension, CSV encoding and
//! delimiter detection and parsing, Excel cell formatting (numbers, dates, booleans as text) and
//! GeoJSON feature flattening (properties in order of first appearance plus point coordinates),
//! progress in bytes or rows, and [`ReadError`], which names the file and, where it applies, the
//! line and field.
//!
//! Every format comes out the same way: a [`Table`] with [`Table::headers`] and records read one
//! at a time by [`Table::next_row`], each a [`SourceRow`] holding one text per header, the line
//! where the record starts and the record as it appeared (for the rejected-rows report). Nothing
//! is interpreted here: dates, coordinates and statuses are parsed by [`super::parse`].
//!
//! Records with no text at all (a blank line, a CSV line of delimiters only, an empty sheet row)
//! are skipped. Input files are only ever opened for reading.

use std::collections::HashMap;
use std::io::Cursor;
use std::path::{Path, PathBuf};

use calamine::{Data, Range};
use encoding_rs::{DecoderResult, Encoding, KOI8_R, UTF_8, WINDOWS_1251};
use serde::Deserialize;

/// The extensions [`Table::open`] knows, for the error that names them.
const SUPPORTED: &str = ".csv, .txt, .tsv, .xlsx, .xlsm, .xlsb, .xls, .ods, .geojson, .json";

/// Delimiters tried by detection, in order of preference on a tie.
const DELIMITERS: [u8; 4] = [b';', b',', b'\t', b'|'];

/// Lines (outside quotes) looked at to detect the delimiter.
const DELIMITER_SAMPLE_LINES: usize = 30;

/// Bytes looked at to choose between the single-byte Cyrillic encodings.
const ENCODING_SAMPLE_BYTES: usize = 1 << 20;

/// What kind of file a table came from, with what was detected.
#[derive(Clone, Debug, PartialEq)]
pub enum SourceKind {
    Csv {
        /// The `encoding_rs` name of the encoding: "UTF-8", "windows-1251", "KOI8-R",
        /// "UTF-16LE", "UTF-16BE".
        encoding: &'static str,
        /// Whether the file started with a byte order mark (never part of the first header).
        bom: bool,
        delimiter: u8,
    },
    Excel {
        sheet: String,
    },
    GeoJson,
}

/// How to read a file; the default detects everything.
#[derive(Clone, Debug, Default)]
pub struct ReadOptions {
    /// Force an encoding (a label encoding_rs knows: "utf-8", "cp1251", "windows-1251",
    /// "koi8-r"); None = detect.
    pub encoding: Option<String>,
    /// Force a delimiter; None = detect among ';' ',' '\t' '|'.
    pub delimiter: Option<u8>,
    /// Excel sheet by name; None = the first sheet.
    pub sheet: Option<String>,
}

/// One record of the input.
#[derive(Clone, Debug, PartialEq)]
pub struct SourceRow {
    /// 1-based line in the file where the record starts (CSV: physical line, so a quoted field
    /// with newlines advances it; Excel: the sheet's row number; GeoJSON: the feature's 1-based
    /// index).
    pub line: u64,
    /// One text per header, in header order (missing trailing fields are "", extra fields are
    /// dropped and reported by `extra_fields`).
    pub fields: Vec<String>,
    /// Fields beyond the header's count (0 normally).
    pub extra_fields: usize,
    /// The record as it appeared (CSV: the decoded raw text of the record; Excel/GeoJSON: the
    /// fields joined with ';'), for the rejected-rows report.
    pub raw: String,
}

/// Every way an input file cannot be read as a table. Each names the file (last) and, where it
/// applies, the line and field.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("file not found: {path}")]
    NotFound { path: PathBuf },
    #[error("cannot read the file ({source}): {path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("not a file: {path}")]
    NotAFile { path: PathBuf },
    #[error("unsupported file type `{extension}` (supported: {SUPPORTED}): {path}")]
    UnsupportedExtension { path: PathBuf, extension: String },
    #[error(
        "unknown encoding `{label}` (try utf-8, windows-1251, koi8-r, utf-16le or utf-16be): {path}"
    )]
    UnknownEncoding { path: PathBuf, label: String },
    #[error("line {line} (byte {byte}): not valid {encoding} text: {path}")]
    Encoding {
        path: PathBuf,
        encoding: &'static str,
        line: u64,
        byte: u64,
    },
    #[error("line {line}, field {field} ({header}): {detail}: {path}")]
    CsvSyntax {
        path: PathBuf,
        line: u64,
        /// 1-based field number.
        field: usize,
        /// The header of that field, or "beyond the header" for an extra field.
        header: String,
        detail: String,
    },
    #[error("no header row: the file (or the sheet) holds no text: {path}")]
    Empty { path: PathBuf },
    #[error("cannot read the spreadsheet ({detail}): {path}")]
    Excel { path: PathBuf, detail: String },
    #[error("no sheet `{sheet}` in the workbook (sheets present: {present}): {path}")]
    SheetNotFound {
        path: PathBuf,
        sheet: String,
        present: String,
    },
    #[error("not a GeoJSON FeatureCollection (found {found}): {path}")]
    NotFeatureCollection { path: PathBuf, found: String },
    #[error("line {line}, column {column}: invalid GeoJSON ({detail}): {path}")]
    GeoJson {
        path: PathBuf,
        line: u64,
        column: u64,
        detail: String,
    },
}

/// The formats [`Table::open`] tells apart by extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    Csv,
    Xlsx,
    Xlsb,
    Xls,
    Ods,
    GeoJson,
}

impl Format {
    fn of(path: &Path) -> Result<Self, ReadError> {
        let extension = path
            .extension()
            .map(|e| e.to_string_lossy().to_lowercase())
            .unwrap_or_default();
        Ok(match extension.as_str() {
            "csv" | "txt" | "tsv" => Self::Csv,
            "xlsx" | "xlsm" => Self::Xlsx,
            "xlsb" => Self::Xlsb,
            "xls" => Self::Xls,
            "ods" => Self::Ods,
            "geojson" | "json" => Self::GeoJson,
            _ => {
                return Err(ReadError::UnsupportedExtension {
                    path: path.to_owned(),
                    extension: if extension.is_empty() {
                        "(none)".to_owned()
                    } else {
                        format!(".{extension}")
                    },
                });
            }
        })
    }
}

/// An input file read as a table of text: headers, then records one at a time.
pub struct Table {
    path: PathBuf,
    kind: SourceKind,
    headers: Vec<String>,
    source: Source,
    done: bool,
}

enum Source {
    Csv(Box<CsvSource>),
    Excel(ExcelSource),
    GeoJson(GeoJsonSource),
}

impl std::fmt::Debug for Table {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Table")
            .field("path", &self.path)
            .field("kind", &self.kind)
            .field("headers", &self.headers)
            .field("progress", &self.progress())
            .finish_non_exhaustive()
    }
}

impl Table {
    /// Opens `path` by its extension and reads its header. Never modifies the file.
    pub fn open(path: &Path, options: &ReadOptions) -> Result<Table, ReadError> {
        let format = Format::of(path)?;
        match std::fs::metadata(path) {
            Ok(meta) if meta.is_dir() => {
                return Err(ReadError::NotAFile {
                    path: path.to_owned(),
                });
            }
            Ok(_) => {}
            Err(e) => return Err(io_error(path, e)),
        }
        match format {
            Format::Csv => open_csv(path, options),
            Format::GeoJson => open_geojson(path),
            Format::Xlsx | Format::Xlsb | Format::Xls | Format::Ods => {
                open_excel(path, format, options)
            }
        }
    }

    /// The kind of file, with what was detected.
    pub fn kind(&self) -> &SourceKind {
        &self.kind
    }

    /// The column names: trimmed, never with a BOM, an empty one as "column N" (1-based).
    pub fn headers(&self) -> &[String] {
        &self.headers
    }

    /// The next record; None at the end. An error ends the table (a CSV that turns invalid at
    /// row N: the error names the line).
    pub fn next_row(&mut self) -> Option<Result<SourceRow, ReadError>> {
        if self.done {
            return None;
        }
        let width = self.headers.len();
        let next = match &mut self.source {
            Source::Csv(csv) => csv.next_row(&self.path, &self.headers),
            Source::Excel(excel) => excel.next_row(width).map(Ok),
            Source::GeoJson(geo) => geo.next_row(width).map(Ok),
        };
        if !matches!(next, Some(Ok(_))) {
            self.done = true;
        }
        next
    }

    /// The next `n` records (fewer at the end); the first error instead, which ends the table.
    pub fn next_rows(&mut self, n: usize) -> Result<Vec<SourceRow>, ReadError> {
        let mut rows = Vec::new();
        while rows.len() < n {
            match self.next_row() {
                Some(row) => rows.push(row?),
                None => break,
            }
        }
        Ok(rows)
    }

    /// Bytes of the input consumed so far and in all (for a progress bar with ETA); for
    /// Excel/GeoJSON rows read / total rows. At the end, (total, total).
    pub fn progress(&self) -> (u64, u64) {
        let (read, total) = match &self.source {
            Source::Csv(csv) => csv.progress(),
            Source::Excel(excel) => excel.progress(),
            Source::GeoJson(geo) => (geo.next as u64, geo.features.len() as u64),
        };
        if self.done {
            (total, total)
        } else {
            (read.min(total), total)
        }
    }
}

fn io_error(path: &Path, source: std::io::Error) -> ReadError {
    if source.kind() == std::io::ErrorKind::NotFound {
        ReadError::NotFound {
            path: path.to_owned(),
        }
    } else {
        ReadError::Io {
            path: path.to_owned(),
            source,
        }
    }
}

/// Trims a header, drops any BOM from it and names an empty one "column N".
fn clean_headers(raw: impl IntoIterator<Item = String>) -> Vec<String> {
    raw.into_iter()
        .enumerate()
        .map(|(i, h)| {
            let h = h.trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}');
            if h.is_empty() {
                format!("column {}", i + 1)
            } else {
                h.to_owned()
            }
        })
        .collect()
}

/// Fits `cells` to `width` headers: the fields (padded with "") and the count of extra ones.
fn fit(mut cells: Vec<String>, width: usize) -> (Vec<String>, usize) {
    let extra = cells.len().saturating_sub(width);
    cells.truncate(width);
    cells.resize(width, String::new());
    (cells, extra)
}

// ---------------------------------------------------------------------------------------------
// CSV

struct CsvSource {
    reader: csv::Reader<Cursor<Vec<u8>>>,
    record: csv::StringRecord,
    /// Length of the decoded text and of the file, to turn text offsets into file bytes.
    text_len: u64,
    file_len: u64,
    lines: LineCount,
    delimiter: u8,
}

fn open_csv(path: &Path, options: &ReadOptions) -> Result<Table, ReadError> {
    let bytes = std::fs::read(path).map_err(|e| io_error(path, e))?;
    let file_len = bytes.len() as u64;
    let (text, encoding, bom) = decode(path, bytes, options.encoding.as_deref())?;
    let delimiter = match options.delimiter {
        Some(d) => d,
        None => detect_delimiter(&text, path),
    };
    let text_len = text.len() as u64;
    let reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .quoting(true)
        .double_quote(true)
        .from_reader(Cursor::new(text.into_bytes()));
    let mut csv = CsvSource {
        reader,
        record: csv::StringRecord::new(),
        text_len,
        file_len,
        lines: LineCount::default(),
        delimiter,
    };
    let header = match csv.next_record(path, &[])? {
        Some((_, cells, _)) => cells,
        None => {
            return Err(ReadError::Empty {
                path: path.to_owned(),
            });
        }
    };
    Ok(Table {
        path: path.to_owned(),
        kind: SourceKind::Csv {
            encoding: encoding.name(),
            bom,
            delimiter,
        },
        headers: clean_headers(header),
        source: Source::Csv(Box::new(csv)),
        done: false,
    })
}

impl CsvSource {
    fn next_row(
        &mut self,
        path: &Path,
        headers: &[String],
    ) -> Option<Result<SourceRow, ReadError>> {
        match self.next_record(path, headers) {
            Ok(Some((line, cells, raw))) => {
                let (fields, extra_fields) = fit(cells, headers.len());
                Some(Ok(SourceRow {
                    line,
                    fields,
                    extra_fields,
                    raw,
                }))
            }
            Ok(None) => None,
            Err(e) => Some(Err(e)),
        }
    }

    /// The next record with some text: its line, cells and raw text; None at the end.
    fn next_record(
        &mut self,
        path: &Path,
        headers: &[String],
    ) -> Result<Option<(u64, Vec<String>, String)>, ReadError> {
        loop {
            let start = self.reader.position().byte();
            let read = self.reader.read_record(&mut self.record);
            let end = self.reader.position().byte();
            let text = self.reader.get_ref().get_ref().as_slice();
            let (line, raw) = locate(&mut self.lines, text, start, end);
            match read {
                Ok(true) => {}
                Ok(false) => return Ok(None),
                Err(e) => {
                    return Err(ReadError::CsvSyntax {
                        path: path.to_owned(),
                        line,
                        field: 1,
                        header: header_name(headers, 0),
                        detail: e.to_string(),
                    });
                }
            }
            if end >= self.text_len
                && let Some(field) = unclosed_quote(&raw, self.delimiter)
            {
                return Err(ReadError::CsvSyntax {
                    path: path.to_owned(),
                    line,
                    field: field + 1,
                    header: header_name(headers, field),
                    detail: "a quoted field is never closed (a missing `\"`)".to_owned(),
                });
            }
            if self.record.iter().all(|f| f.trim().is_empty()) {
                continue;
            }
            let cells = self.record.iter().map(str::to_owned).collect();
            return Ok(Some((line, cells, raw)));
        }
    }

    fn progress(&self) -> (u64, u64) {
        let at = self.reader.position().byte();
        if self.text_len == 0 {
            return (self.file_len, self.file_len);
        }
        let read = u128::from(at.min(self.text_len)) * u128::from(self.file_len)
            / u128::from(self.text_len);
        (u64::try_from(read).unwrap_or(self.file_len), self.file_len)
    }
}

/// Newlines counted so far in a CSV text.
#[derive(Default)]
struct LineCount {
    /// Byte offset in the text up to which newlines are counted.
    counted_to: usize,
    newlines: u64,
}

/// The line where the record in `text[start..end]` starts (past the blank lines the csv reader
/// skipped before it) and its text without line terminators.
fn locate(lines: &mut LineCount, text: &[u8], start: u64, end: u64) -> (u64, String) {
    let len = text.len();
    let start = usize::try_from(start).unwrap_or(len).min(len);
    let end = usize::try_from(end).unwrap_or(len).clamp(start, len);
    let skipped = text[start..end]
        .iter()
        .take_while(|&&b| b == b'\n' || b == b'\r')
        .count();
    let first = start + skipped;
    if first >= lines.counted_to {
        lines.newlines += count_newlines(&text[lines.counted_to..first]);
        lines.counted_to = first;
    }
    let raw = String::from_utf8_lossy(&text[first..end]);
    let raw = raw.trim_end_matches(['\r', '\n']).to_owned();
    (lines.newlines + 1, raw)
}

fn count_newlines(bytes: &[u8]) -> u64 {
    bytes.iter().filter(|&&b| b == b'\n').count() as u64
}

fn header_name(headers: &[String], field: usize) -> String {
    match headers.get(field) {
        Some(h) => format!("`{h}`"),
        None if headers.is_empty() => "the header".to_owned(),
        None => "beyond the header".to_owned(),
    }
}

/// If `raw` (one record, as the csv crate reads it) ends inside a quoted field, the 0-based
/// index of that field.
fn unclosed_quote(raw: &str, delimiter: u8) -> Option<usize> {
    #[derive(PartialEq)]
    enum State {
        Start,
        Unquoted,
        Quoted,
        QuoteInQuoted,
    }
    let mut state = State::Start;
    let mut field = 0;
    for b in raw.bytes() {
        state = match state {
            State::Start | State::Unquoted | State::QuoteInQuoted if b == delimiter => {
                field += 1;
                State::Start
            }
            State::Start if b == b'"' => State::Quoted,
            State::Start | State::Unquoted => State::Unquoted,
            State::Quoted if b == b'"' => State::QuoteInQuoted,
            State::Quoted => State::Quoted,
            State::QuoteInQuoted if b == b'"' => State::Quoted,
            State::QuoteInQuoted => State::Unquoted,
        };
        if b == b'\n' && state != State::Quoted {
            // A record never spans a newline outside quotes.
            state = State::Start;
        }
    }
    (state == State::Quoted).then_some(field)
}

/// Decodes the file: a forced encoding strictly, else by BOM, UTF-8 validity, or the most
/// plausible Russian among UTF-8, windows-1251 and KOI8-R. Returns the text, the encoding and
/// whether a BOM was removed.
fn decode(
    path: &Path,
    mut bytes: Vec<u8>,
    forced: Option<&str>,
) -> Result<(String, &'static Encoding, bool), ReadError> {
    let bom = Encoding::for_bom(&bytes);
    if let Some(label) = forced {
        let encoding =
            Encoding::for_label_no_replacement(label.trim().as_bytes()).ok_or_else(|| {
                ReadError::UnknownEncoding {
                    path: path.to_owned(),
                    label: label.to_owned(),
                }
            })?;
        let had_bom = match bom {
            Some((b, len)) if b == encoding => {
                bytes.drain(..len);
                true
            }
            _ => false,
        };
        return match decode_strict(encoding, &bytes) {
            Ok(text) => Ok((text, encoding, had_bom)),
            Err((line, at)) => Err(ReadError::Encoding {
                path: path.to_owned(),
                encoding: encoding.name(),
                line,
                byte: at as u64 + if had_bom { bom_len(bom) } else { 0 },
            }),
        };
    }
    if let Some((encoding, len)) = bom {
        bytes.drain(..len);
        let text = encoding.decode_without_bom_handling(&bytes).0.into_owned();
        return Ok((text, encoding, true));
    }
    let bytes = match String::from_utf8(bytes) {
        Ok(text) => return Ok((text, UTF_8, false)),
        Err(e) => e.into_bytes(),
    };
    let encoding = guess_cyrillic(&bytes);
    let text = encoding.decode_without_bom_handling(&bytes).0.into_owned();
    Ok((text, encoding, false))
}

fn bom_len(bom: Option<(&'static Encoding, usize)>) -> u64 {
    bom.map_or(0, |(_, len)| len as u64)
}

/// Decodes without replacement; on malformed input, the 1-based line and the byte offset where
/// it is.
fn decode_strict(encoding: &'static Encoding, bytes: &[u8]) -> Result<String, (u64, usize)> {
    let mut decoder = encoding.new_decoder_without_bom_handling();
    let capacity = decoder
        .max_utf8_buffer_length_without_replacement(bytes.len())
        .unwrap_or(bytes.len());
    let mut text = String::with_capacity(capacity);
    let mut at = 0;
    loop {
        let (result, read) =
            decoder.decode_to_string_without_replacement(&bytes[at..], &mut text, true);
        at += read;
        match result {
            DecoderResult::InputEmpty => return Ok(text),
            DecoderResult::OutputFull => text.reserve(bytes.len().saturating_sub(at) * 3 + 16),
            DecoderResult::Malformed(bad, after) => {
                let start = at.saturating_sub(usize::from(bad) + usize::from(after));
                let line = text.bytes().filter(|&b| b == b'\n').count() as u64 + 1;
                return Err((line, start));
            }
        }
    }
}

/// Chooses, for bytes that are not valid UTF-8, the decoding that reads most like Russian:
/// windows-1251, KOI8-R, or UTF-8 with a few damaged bytes.
fn guess_cyrillic(bytes: &[u8]) -> &'static Encoding {
    let mut sample = &bytes[..bytes.len().min(ENCODING_SAMPLE_BYTES)];
    if sample.len() < bytes.len()
        && let Some(cut) = sample.iter().rposition(|&b| b == b'\n')
    {
        sample = &sample[..=cut];
    }
    let mut best = (WINDOWS_1251, f64::NEG_INFINITY);
    for encoding in [WINDOWS_1251, KOI8_R, UTF_8] {
        let text = encoding.decode_without_bom_handling(sample).0;
        let score = russian_score(&text);
        if score > best.1 {
            best = (encoding, score);
        }
    }
    best.0
}

/// How much `text` reads like Russian: the log-likelihood of its Cyrillic letters under Russian
/// letter frequencies, less penalties for what a wrong decoding produces — an uppercase letter
/// right after a lowercase one (the two encodings swap the cases, so "Привет" in KOI8-R read as
/// windows-1251 is "рТЙЧЕФ"), box drawing, non-Russian Cyrillic letters, replacement characters.
/// A plain share of lowercase letters would misjudge text written in capitals.
fn russian_score(text: &str) -> f64 {
    const PENALTY: f64 = -8.0;
    let mut score = 0.0;
    let mut previous_lower = false;
    for c in text.chars() {
        let lower = is_russian_lower(c);
        let upper = is_russian_upper(c);
        if lower || upper {
            let folded = if upper { to_russian_lower(c) } else { c };
            score += letter_frequency(folded).ln();
            if upper && previous_lower {
                score -= 4.0;
            }
        } else if c == '\u{fffd}'
            || ('\u{2500}'..='\u{259f}').contains(&c)
            || ('\u{0400}'..='\u{040f}').contains(&c) && c != 'Ё'
            || ('\u{0450}'..='\u{045f}').contains(&c) && c != 'ё'
            || c == '\u{0490}'
            || c == '\u{0491}'
        {
            score += PENALTY;
        }
        previous_lower = lower;
    }
    score
}

fn is_russian_lower(c: char) -> bool {
    ('а'..='я').contains(&c) || c == 'ё'
}

fn is_russian_upper(c: char) -> bool {
    ('А'..='Я').contains(&c) || c == 'Ё'
}

fn to_russian_lower(c: char) -> char {
    if c == 'Ё' {
        'ё'
    } else {
        char::from_u32(u32::from(c) + 0x20).unwrap_or(c)
    }
}

/// Share of a lowercase Russian letter in ordinary text.
fn letter_frequency(c: char) -> f64 {
    let percent = match c {
        'о' => 10.97,
        'е' => 8.45,
        'а' => 8.01,
        'и' => 7.35,
        'н' => 6.70,
        'т' => 6.26,
        'с' => 5.47,
        'р' => 4.73,
        'в' => 4.54,
        'л' => 4.40,
        'к' => 3.49,
        'м' => 3.21,
        'д' => 2.98,
        'п' => 2.81,
        'у' => 2.62,
        'я' => 2.01,
        'ы' => 1.90,
        'ь' => 1.74,
        'г' => 1.70,
        'з' => 1.65,
        'б' => 1.59,
        'ч' => 1.44,
        'й' => 1.21,
        'х' => 0.97,
        'ж' => 0.94,
        'ш' => 0.73,
        'ю' => 0.64,
        'ц' => 0.48,
        'щ' => 0.36,
        'э' => 0.32,
        'ф' => 0.26,
        'ё' => 0.04,
        'ъ' => 0.04,
        _ => 0.01,
    };
    percent / 100.0
}

/// The delimiter that splits the first lines (outside quotes) into the same number of fields
/// most often; on a tie the earlier of ';' ',' '\t' '|'. With none of them in the text: tab
/// for a `.tsv` file, else ';'.
fn detect_delimiter(text: &str, path: &Path) -> u8 {
    let mut counts: Vec<[usize; DELIMITERS.len()]> = Vec::new();
    let mut line = [0usize; DELIMITERS.len()];
    let mut line_has_text = false;
    let mut in_quotes = false;
    // As the csv reader does, a quote opens a quoted field only at the start of a field (here:
    // of a line or after any candidate delimiter), and `""` inside one is a quote.
    let mut field_start = true;
    let mut bytes = text.bytes().peekable();
    while let Some(b) = bytes.next() {
        let at_field_start = std::mem::replace(&mut field_start, false);
        if in_quotes {
            if b == b'"' {
                if bytes.peek() == Some(&b'"') {
                    bytes.next();
                } else {
                    in_quotes = false;
                }
            }
        } else if b == b'"' && at_field_start {
            in_quotes = true;
        } else if b == b'\n' {
            field_start = true;
            if line_has_text {
                counts.push(line);
                if counts.len() >= DELIMITER_SAMPLE_LINES {
                    break;
                }
            }
            line = [0; DELIMITERS.len()];
            line_has_text = false;
            continue;
        } else if let Some(i) = DELIMITERS.iter().position(|&d| d == b) {
            line[i] += 1;
            field_start = true;
        }
        if b != b'\r' {
            line_has_text = true;
        }
    }
    if line_has_text && counts.len() < DELIMITER_SAMPLE_LINES {
        counts.push(line);
    }
    let mut best: Option<(u8, usize)> = None;
    for (i, &delimiter) in DELIMITERS.iter().enumerate() {
        // Lines agreeing on the most common non-zero count of this delimiter.
        let mut tally: Vec<(usize, usize)> = Vec::new();
        for n in counts.iter().map(|c| c[i]).filter(|&n| n > 0) {
            match tally.iter_mut().find(|(count, _)| *count == n) {
                Some((_, lines)) => *lines += 1,
                None => tally.push((n, 1)),
            }
        }
        let agreeing = tally.iter().map(|&(_, lines)| lines).max().unwrap_or(0);
        if agreeing > 0 && best.is_none_or(|(_, b)| agreeing > b) {
            best = Some((delimiter, agreeing));
        }
    }
    match best {
        Some((delimiter, _)) => delimiter,
        None => {
            let tsv = path
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("tsv"));
            if tsv { b'\t' } else { b';' }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Excel

struct ExcelSource {
    range: Range<Data>,
    /// 0-based sheet row of the range's first row.
    range_start: u64,
    /// Range rows before `next` have been read (the header's included).
    next: usize,
    /// Range row of the header.
    header_row: usize,
}

impl ExcelSource {
    /// Sheet rows after the header read so far, and in all.
    fn progress(&self) -> (u64, u64) {
        let after_header = |row: usize| row.saturating_sub(self.header_row + 1) as u64;
        (after_header(self.next), after_header(self.range.height()))
    }

    fn next_row(&mut self, width: usize) -> Option<SourceRow> {
        let height = self.range.height();
        while self.next < height {
            let index = self.next;
            self.next += 1;
            let Some(cells) = self.range.rows().nth(index) else {
                break;
            };
            let Some(used) = cells.iter().rposition(|c| !cell_text(c).trim().is_empty()) else {
                continue;
            };
            let texts: Vec<String> = cells[..=used].iter().map(cell_text).collect();
            let raw = {
                let mut all = texts.clone();
                if all.len() < width {
                    all.resize(width, String::new());
                }
                all.join(";")
            };
            let (fields, extra_fields) = fit(texts, width);
            return Some(SourceRow {
                line: self.range_start + index as u64 + 1,
                fields,
                extra_fields,
                raw,
            });
        }
        self.next = self.next.max(height);
        None
    }
}

fn open_excel(path: &Path, format: Format, options: &ReadOptions) -> Result<Table, ReadError> {
    let excel_error = |detail: String| ReadError::Excel {
        path: path.to_owned(),
        detail,
    };
    // A damaged workbook must not take the program down, whatever the reader does with it.
    let opened = std::panic::catch_unwind(|| read_sheet(path, format, options.sheet.as_deref()))
        .map_err(|_| excel_error("the spreadsheet reader failed on this file".to_owned()))?;
    let (sheet, range) = match opened {
        Ok(found) => found,
        Err(SheetError::Read(detail)) => return Err(excel_error(detail)),
        Err(SheetError::Missing { sheet, present }) => {
            return Err(ReadError::SheetNotFound {
                path: path.to_owned(),
                sheet,
                present,
            });
        }
    };
    let range_start = range.start().map_or(0, |(row, _)| u64::from(row));
    let header = range.rows().enumerate().find_map(|(i, cells)| {
        let used = cells
            .iter()
            .rposition(|c| !cell_text(c).trim().is_empty())?;
        Some((i, cells[..=used].iter().map(cell_text).collect::<Vec<_>>()))
    });
    let Some((header_row, header)) = header else {
        return Err(ReadError::Empty {
            path: path.to_owned(),
        });
    };
    Ok(Table {
        path: path.to_owned(),
        kind: SourceKind::Excel { sheet },
        headers: clean_headers(header),
        source: Source::Excel(ExcelSource {
            range,
            range_start,
            next: header_row + 1,
            header_row,
        }),
        done: false,
    })
}

enum SheetError {
    Read(String),
    Missing { sheet: String, present: String },
}

/// Opens the workbook and reads the wanted sheet (the first when none is named).
fn read_sheet(
    path: &Path,
    format: Format,
    wanted: Option<&str>,
) -> Result<(String, Range<Data>), SheetError> {
    type File = std::io::BufReader<std::fs::File>;
    fn read<W: calamine::Reader<File>>(
        path: &Path,
        wanted: Option<&str>,
    ) -> Result<(String, Range<Data>), SheetError>
    where
        W::Error: std::fmt::Display,
    {
        let mut workbook: W =
            calamine::open_workbook(path).map_err(|e: W::Error| SheetError::Read(e.to_string()))?;
        let names = workbook.sheet_names();
        let sheet = match wanted {
            Some(name) => names
                .iter()
                .find(|n| n.as_str() == name)
                .or_else(|| {
                    names
                        .iter()
                        .find(|n| n.trim().eq_ignore_ascii_case(name.trim()))
                })
                .cloned(),
            None => names.first().cloned(),
        };
        let Some(sheet) = sheet else {
            return Err(match wanted {
                Some(name) => SheetError::Missing {
                    sheet: name.to_owned(),
                    present: if names.is_empty() {
                        "none".to_owned()
                    } else {
                        names.join(", ")
                    },
                },
                None => SheetError::Read("the workbook has no sheets".to_owned()),
            });
        };
        let range = workbook
            .worksheet_range(&sheet)
            .map_err(|e| SheetError::Read(format!("sheet `{sheet}`: {e}")))?;
        Ok((sheet, range))
    }
    match format {
        Format::Xls => read::<calamine::Xls<File>>(path, wanted),
        Format::Xlsb => read::<calamine::Xlsb<File>>(path, wanted),
        Format::Ods => read::<calamine::Ods<File>>(path, wanted),
        _ => read::<calamine::Xlsx<File>>(path, wanted),
    }
}

/// A cell as text: strings as is, whole numbers without ".0", other numbers in full precision,
/// dates and times as ISO `YYYY-MM-DDTHH:MM:SS` (a time of day alone as `HH:MM:SS`, a duration
/// as hours `H:MM:SS`; milliseconds added only when there are any), booleans as "true"/"false",
/// errors as Excel shows them, empty as "".
fn cell_text(cell: &Data) -> String {
    match cell {
        Data::Empty => String::new(),
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) => number_text(*f),
        Data::Bool(b) => b.to_string(),
        Data::Error(e) => e.to_string(),
        Data::DateTime(dt) => {
            let serial = dt.as_f64();
            if !serial.is_finite() {
                return number_text(serial);
            }
            if dt.is_duration() {
                return duration_text(serial);
            }
            let (year, month, day, hour, minute, second, milli) = dt.to_ymd_hms_milli();
            let time = time_text(hour, minute, second, milli);
            if (0.0..1.0).contains(&serial) {
                time
            } else {
                format!("{year:04}-{month:02}-{day:02}T{time}")
            }
        }
    }
}

fn time_text(hour: u8, minute: u8, second: u8, milli: u16) -> String {
    if milli == 0 {
        format!("{hour:02}:{minute:02}:{second:02}")
    } else {
        format!("{hour:02}:{minute:02}:{second:02}.{milli:03}")
    }
}

/// A duration given in days as hours, minutes and seconds (`-` first when negative).
fn duration_text(days: f64) -> String {
    let millis = (days.abs() * 86_400_000.0).round();
    // Saturates for absurd values; durations in a sheet are far below.
    let millis = millis as u64;
    let sign = if days < 0.0 && millis > 0 { "-" } else { "" };
    let (seconds, milli) = (millis / 1000, millis % 1000);
    let text = format!(
        "{}:{:02}:{:02}",
        seconds / 3600,
        seconds / 60 % 60,
        seconds % 60
    );
    if milli == 0 {
        format!("{sign}{text}")
    } else {
        format!("{sign}{text}.{milli:03}")
    }
}

/// A number as text: whole ones without ".0", others in the shortest form that reads back
/// to the same value.
fn number_text(f: f64) -> String {
    if f.is_finite() && f.fract() == 0.0 && f.abs() < 1e15 {
        // Exact: a whole number below 2^53.
        format!("{}", f as i64)
    } else {
        f.to_string()
    }
}

// ---------------------------------------------------------------------------------------------
// GeoJSON

struct GeoJsonSource {
    features: Vec<RawFeature>,
    /// Property keys in header order (the two coordinate columns follow them).
    keys: Vec<String>,
    /// Each key's column.
    columns: HashMap<String, usize>,
    next: usize,
}

#[derive(Deserialize)]
struct RawCollection {
    #[serde(rename = "type")]
    kind: Option<String>,
    features: Option<Vec<RawFeature>>,
}

#[derive(Deserialize)]
struct RawFeature {
    #[serde(default)]
    geometry: Option<geojson::Geometry>,
    #[serde(default)]
    properties: Option<Properties>,
}

/// A JSON object's members in the order of the file (serde_json's own map sorts them).
#[derive(Default)]
struct Properties(Vec<(String, serde_json::Value)>);

impl<'de> Deserialize<'de> for Properties {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Properties;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an object of feature properties")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Properties, A::Error> {
                let mut members: Vec<(String, serde_json::Value)> = Vec::new();
                while let Some((key, value)) = map.next_entry::<String, serde_json::Value>()? {
                    match members.iter_mut().find(|(k, _)| *k == key) {
                        Some(member) => member.1 = value,
                        None => members.push((key, value)),
                    }
                }
                Ok(Properties(members))
            }
        }
        deserializer.deserialize_map(Visitor)
    }
}

fn open_geojson(path: &Path) -> Result<Table, ReadError> {
    let bytes = std::fs::read(path).map_err(|e| io_error(path, e))?;
    let json = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    let first = json.iter().find(|b| !b.is_ascii_whitespace());
    if first != Some(&b'{') {
        return Err(ReadError::NotFeatureCollection {
            path: path.to_owned(),
            found: match first {
                None => "an empty file",
                Some(b'[') => "a JSON array",
                Some(_) => "no JSON object",
            }
            .to_owned(),
        });
    }
    let collection: RawCollection =
        serde_json::from_slice(json).map_err(|e| ReadError::GeoJson {
            path: path.to_owned(),
            line: e.line() as u64,
            column: e.column() as u64,
            detail: e.to_string(),
        })?;
    let features = match (collection.kind.as_deref(), collection.features) {
        (Some("FeatureCollection"), Some(features)) => features,
        (Some("FeatureCollection"), None) => {
            return Err(ReadError::NotFeatureCollection {
                path: path.to_owned(),
                found: "a FeatureCollection without `features`".to_owned(),
            });
        }
        (Some(other), _) => {
            return Err(ReadError::NotFeatureCollection {
                path: path.to_owned(),
                found: format!("type `{other}`"),
            });
        }
        (None, _) => {
            return Err(ReadError::NotFeatureCollection {
                path: path.to_owned(),
                found: "an object without `type`".to_owned(),
            });
        }
    };
    let mut keys: Vec<String> = Vec::new();
    let mut columns: HashMap<String, usize> = HashMap::new();
    for feature in &features {
        for (key, _) in feature.properties.iter().flat_map(|p| &p.0) {
            if !columns.contains_key(key) {
                columns.insert(key.clone(), keys.len());
                keys.push(key.clone());
            }
        }
    }
    let (lon, lat) = coordinate_headers(&keys);
    let mut headers = clean_headers(keys.iter().cloned());
    headers.push(lon);
    headers.push(lat);
    Ok(Table {
        path: path.to_owned(),
        kind: SourceKind::GeoJson,
        headers,
        source: Source::GeoJson(GeoJsonSource {
            features,
            keys,
            columns,
            next: 0,
        }),
        done: false,
    })
}

/// Names for the point coordinate columns that no property already uses.
fn coordinate_headers(keys: &[String]) -> (String, String) {
    let taken = |name: &str| keys.iter().any(|k| k.trim() == name);
    let mut candidates = vec![
        ("longitude".to_owned(), "latitude".to_owned()),
        ("geometry_lon".to_owned(), "geometry_lat".to_owned()),
    ];
    candidates.extend(
        (2..)
            .take(keys.len() + 1)
            .map(|n| (format!("geometry_lon_{n}"), format!("geometry_lat_{n}"))),
    );
    candidates
        .into_iter()
        .find(|(lon, lat)| !taken(lon) && !taken(lat))
        .unwrap_or_else(|| ("geometry_lon".to_owned(), "geometry_lat".to_owned()))
}

impl GeoJsonSource {
    fn next_row(&mut self, width: usize) -> Option<SourceRow> {
        let index = self.next;
        let feature = self.features.get(index)?;
        self.next += 1;
        let mut fields = vec![String::new(); self.keys.len()];
        for (key, value) in feature.properties.iter().flat_map(|p| &p.0) {
            if let Some(&column) = self.columns.get(key.as_str()) {
                fields[column] = json_text(value);
            }
        }
        let (lon, lat) = match feature.geometry.as_ref().map(|g| &g.value) {
            Some(geojson::GeometryValue::Point { coordinates }) => match coordinates.as_slice() {
                [lon, lat, ..] => (lon.to_string(), lat.to_string()),
                _ => (String::new(), String::new()),
            },
            _ => (String::new(), String::new()),
        };
        fields.push(lon);
        fields.push(lat);
        let (fields, extra_fields) = fit(fields, width);
        let raw = fields.join(";");
        Some(SourceRow {
            line: index as u64 + 1,
            fields,
            extra_fields,
            raw,
        })
    }
}

/// A property value as text: strings as is, null as "", anything else as compact JSON.
fn json_text(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::Null => String::new(),
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn russian_text_scores_higher_decoded_right() {
        let sentences = [
            "Во дворе дома не убирают снег уже неделю, жители жалуются",
            "ОТКЛЮЧЕНИЕ ГОРЯЧЕЙ ВОДЫ НА УЛИЦЕ ЛЕНИНА",
            "Ямы на дороге",
        ];
        for sentence in sentences {
            for encoding in [WINDOWS_1251, KOI8_R] {
                let (bytes, _, unmappable) = encoding.encode(sentence);
                assert!(!unmappable);
                assert_eq!(
                    guess_cyrillic(&bytes),
                    encoding,
                    "{sentence} in {encoding:?}"
                );
            }
        }
    }

    #[test]
    fn utf8_with_a_stray_byte_stays_utf8() {
        let mut bytes = "Адрес;Текст\nул. Мира;Нет света".as_bytes().to_vec();
        bytes.push(0xFF);
        bytes.extend_from_slice("\nул. Ленина;Яма на дороге\n".as_bytes());
        assert_eq!(guess_cyrillic(&bytes), UTF_8);
    }

    #[test]
    fn unclosed_quote_names_the_field() {
        assert_eq!(unclosed_quote("a;\"b;c", b';'), Some(1));
        assert_eq!(unclosed_quote("a;\"b\"\";c\";d", b';'), None);
        assert_eq!(unclosed_quote("a;b\"c;d", b';'), None);
        assert_eq!(unclosed_quote("\"a\nb", b','), Some(0));
    }

    #[test]
    fn delimiter_detection_prefers_consistent_counts() {
        let p = Path::new("x.csv");
        assert_eq!(detect_delimiter("a;b;c\n1;2,5;3\n4;5,5;6\n", p), b';');
        assert_eq!(detect_delimiter("a,b\n\"x;y\",2\n3,4\n", p), b',');
        assert_eq!(detect_delimiter("a\tb\n1\t2\n", p), b'\t');
        assert_eq!(detect_delimiter("a|b\n1|2\n", p), b'|');
        assert_eq!(detect_delimiter("single\nvalue\n", p), b';');
        assert_eq!(detect_delimiter("single\n", Path::new("x.TSV")), b'\t');
        // A quote inside a field (inches) quotes nothing; `""` inside quotes is a quote.
        assert_eq!(
            detect_delimiter("a,b,c\nTV 32\",x,y\nz,w,v\nq,r,s\n", p),
            b','
        );
        assert_eq!(
            detect_delimiter("a|b\n\"say \"\"x|y\"\"\"|1\n2|3\n", p),
            b'|'
        );
    }

    #[test]
    fn numbers_and_dates_as_text() {
        use calamine::{ExcelDateTime, ExcelDateTimeType};
        assert_eq!(number_text(42.0), "42");
        assert_eq!(number_text(-3.0), "-3");
        assert_eq!(number_text(0.1), "0.1");
        assert_eq!(number_text(55.755_831_234_5), "55.7558312345");
        let date = |v: f64, is_1904: bool| {
            cell_text(&Data::DateTime(ExcelDateTime::new(
                v,
                ExcelDateTimeType::DateTime,
                is_1904,
            )))
        };
        assert_eq!(date(45943.5, false), "2025-10-13T12:00:00");
        assert_eq!(date(60.0, false), "1900-02-29T00:00:00");
        assert_eq!(date(61.0, false), "1900-03-01T00:00:00");
        assert_eq!(date(1.0, true), "1904-01-02T00:00:00");
        assert_eq!(date(0.75, false), "18:00:00");
        let duration = Data::DateTime(ExcelDateTime::new(1.5, ExcelDateTimeType::TimeDelta, false));
        assert_eq!(cell_text(&duration), "36:00:00");
        assert_eq!(cell_text(&Data::Bool(true)), "true");
        assert_eq!(cell_text(&Data::Empty), "");
    }

    #[test]
    fn coordinate_columns_avoid_property_names() {
        let keys = |k: &[&str]| k.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(
            coordinate_headers(&keys(&["a"])),
            ("longitude".to_owned(), "latitude".to_owned())
        );
        assert_eq!(
            coordinate_headers(&keys(&["latitude"])),
            ("geometry_lon".to_owned(), "geometry_lat".to_owned())
        );
    }
}
