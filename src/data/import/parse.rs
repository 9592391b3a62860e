//! Column mapping and value parsing for imports. This module owns:
//!
//! - [`Field`], the contract fields an input column can fill (plus [`Field::LatLon`], one column
//!   holding both coordinates);
//! - [`Mapping`], which input column fills each field: found automatically from the headers
//!   (Russian and English names, [`Mapping::auto`]; checked against the first rows with
//!   [`Mapping::auto_with_samples`]), changed by `--map field=COLUMN` overrides, saved to and read
//!   from a TOML mapping file, and resolved to column indexes;
//! - the value parsers that turn what people type into the contract's forms:
//!   [`parse_timestamp_text`], [`parse_degrees`], [`parse_lat_lon`] and [`normalize_status`].
//!
//! Everything here is a total function over text: no file access, no panics, and every rejected
//! value comes back as a [`ValueError`] with a short reason for the rejected-rows report.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use jiff::civil::{Date, Time};

// ---------------------------------------------------------------------------------------------
// Fields
// ---------------------------------------------------------------------------------------------

/// A field of the contract an input column can fill.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    ExternalId,
    ReceivedAt,
    Source,
    Category,
    Subcategory,
    Municipality,
    Settlement,
    Address,
    Lat,
    Lon,
    /// One column holding both: "lat, lon" or "POINT(lon lat)" (see [`parse_lat_lon`]).
    LatLon,
    Status,
    ResolvedAt,
    Text,
}

impl Field {
    /// Every field, in the contract's column order (`lat_lon` after `lon`).
    pub const ALL: [Field; 14] = [
        Field::ExternalId,
        Field::ReceivedAt,
        Field::Source,
        Field::Category,
        Field::Subcategory,
        Field::Municipality,
        Field::Settlement,
        Field::Address,
        Field::Lat,
        Field::Lon,
        Field::LatLon,
        Field::Status,
        Field::ResolvedAt,
        Field::Text,
    ];

    /// The field's key: the contract's column name, or `lat_lon`.
    pub fn key(self) -> &'static str {
        match self {
            Field::ExternalId => "external_id",
            Field::ReceivedAt => "received_at",
            Field::Source => "source",
            Field::Category => "category",
            Field::Subcategory => "subcategory",
            Field::Municipality => "municipality",
            Field::Settlement => "settlement",
            Field::Address => "address",
            Field::Lat => "lat",
            Field::Lon => "lon",
            Field::LatLon => "lat_lon",
            Field::Status => "status",
            Field::ResolvedAt => "resolved_at",
            Field::Text => "text",
        }
    }

    /// The field with this key; case-insensitive, surrounding spaces ignored, `-` or a space
    /// read as `_` (`Received-At` is `received_at`).
    pub fn from_key(key: &str) -> Option<Field> {
        let key: String = key
            .trim()
            .chars()
            .map(|c| match c {
                '-' | ' ' => '_',
                c => c.to_ascii_lowercase(),
            })
            .collect();
        Field::ALL.into_iter().find(|f| f.key() == key)
    }

    /// The keys of all fields, comma-separated, for error messages.
    fn all_keys() -> String {
        Field::ALL.map(Field::key).join(", ")
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

/// A mapping that cannot be built or used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MappingError {
    /// An override that is not `field=COLUMN`.
    #[error("`{item}`: expected field=COLUMN, e.g. received_at=Дата поступления")]
    BadItem { item: String },
    /// An override or mapping-file key that names no field.
    #[error("`{item}`: unknown field `{key}` (fields: {fields})")]
    UnknownField {
        item: String,
        key: String,
        fields: String,
    },
    /// An override naming a column the file does not have.
    #[error("`{item}`: no column `{column}` in the file (columns: {headers})")]
    NoSuchColumn {
        item: String,
        column: String,
        headers: String,
    },
    /// An override naming a column that matches several headers only after folding case and
    /// spaces.
    #[error("`{item}`: column `{column}` matches several columns: {matches} (columns: {headers})")]
    AmbiguousColumn {
        item: String,
        column: String,
        matches: String,
        headers: String,
    },
    /// A mapping file that is not valid TOML or has no `[map]` table of strings.
    #[error("mapping file: {detail}")]
    Toml { detail: String },
    /// Mapped columns that the file does not have, all of them listed as field = `column`.
    #[error("mapped columns missing from the file: {missing} (columns: {headers})")]
    MissingColumns { missing: String, headers: String },
}

/// A value that cannot be read as the field needs; `reason` is short text for the rejected-rows
/// report, `value` the offending text (shortened to 40 characters).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{reason}: `{value}`")]
pub struct ValueError {
    pub reason: String,
    pub value: String,
}

impl ValueError {
    fn new(reason: impl Into<String>, value: &str) -> ValueError {
        let value = value.trim();
        let value = if value.chars().count() > 40 {
            let mut v: String = value.chars().take(39).collect();
            v.push('…');
            v
        } else {
            value.to_string()
        };
        ValueError {
            reason: reason.into(),
            value,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Header folding
// ---------------------------------------------------------------------------------------------

/// A header split into folded words: lower case, `ё` → `е`, split at anything that is not a
/// letter or digit and at camelCase boundaries (`OnTime_Status` → `on time status`); `№` is the
/// word `номер`.
fn header_words(header: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut prev_lower = false;
    for c in header.chars() {
        if c == '№' {
            if !current.is_empty() {
                words.push(std::mem::take(&mut current));
            }
            words.push("номер".to_string());
            prev_lower = false;
            continue;
        }
        if !c.is_alphanumeric() {
            if !current.is_empty() {
                words.push(std::mem::take(&mut current));
            }
            prev_lower = false;
            continue;
        }
        if c.is_uppercase() && prev_lower && !current.is_empty() {
            words.push(std::mem::take(&mut current));
        }
        prev_lower = c.is_lowercase();
        for l in c.to_lowercase() {
            current.push(if l == 'ё' { 'е' } else { l });
        }
    }
    if !current.is_empty() {
        words.push(current);
    }
    words
}

/// A header folded to one string: its words joined (`Дата  поступления` → `датапоступления`).
fn fold_header(header: &str) -> String {
    header_words(header).concat()
}

// ---------------------------------------------------------------------------------------------
// Synonyms
// ---------------------------------------------------------------------------------------------

/// Weight of an exact synonym that is specific (`created_date`).
const EXACT: u16 = 300;
/// Weight of an exact synonym that is generic (`date`, `id`): a specific one wins over it.
const GENERIC: u16 = 280;
/// Base weight of a word match; always below every exact synonym.
const WORDS_BASE: u16 = 100;

/// Exact synonyms: (field, header, weight), compared after [`fold_header`]. A header listed for
/// two fields (`TYPE`, `Location`) goes to the heavier one unless that field is taken by a
/// better column (or, with samples, its values contradict it).
const EXACT_SYNONYMS: &[(Field, &str, u16)] = &[
    // external_id
    (Field::ExternalId, "external_id", EXACT),
    (Field::ExternalId, "case_enquiry_id", EXACT),
    (Field::ExternalId, "unique_key", EXACT),
    (Field::ExternalId, "case_id", EXACT),
    (Field::ExternalId, "service_request_id", EXACT),
    (Field::ExternalId, "request_id", EXACT),
    (Field::ExternalId, "sr_number", EXACT),
    (Field::ExternalId, "ticket_id", EXACT),
    (Field::ExternalId, "Номер обращения", EXACT),
    (Field::ExternalId, "Номер заявки", EXACT),
    (Field::ExternalId, "Регистрационный номер", EXACT),
    (Field::ExternalId, "Идентификатор", EXACT),
    (Field::ExternalId, "Номер", GENERIC),
    (Field::ExternalId, "ID", GENERIC),
    // received_at
    (Field::ReceivedAt, "received_at", EXACT),
    (Field::ReceivedAt, "created_date", EXACT),
    (Field::ReceivedAt, "OPEN_DT", EXACT),
    (Field::ReceivedAt, "created_at", EXACT),
    (Field::ReceivedAt, "opened", EXACT),
    (Field::ReceivedAt, "opened_at", EXACT),
    (Field::ReceivedAt, "open_date", EXACT),
    (Field::ReceivedAt, "requested_datetime", EXACT),
    (Field::ReceivedAt, "date_received", EXACT),
    (Field::ReceivedAt, "received_date", EXACT),
    (Field::ReceivedAt, "submitted_at", EXACT),
    (Field::ReceivedAt, "Дата поступления", EXACT),
    (Field::ReceivedAt, "Дата создания", EXACT),
    (Field::ReceivedAt, "Дата регистрации", EXACT),
    (Field::ReceivedAt, "Дата обращения", EXACT),
    (Field::ReceivedAt, "Дата и время поступления", EXACT),
    (Field::ReceivedAt, "Дата подачи", EXACT),
    (Field::ReceivedAt, "date", GENERIC),
    (Field::ReceivedAt, "created", GENERIC),
    (Field::ReceivedAt, "datetime", GENERIC),
    (Field::ReceivedAt, "Дата", GENERIC),
    (Field::ReceivedAt, "Дата и время", GENERIC),
    // source
    (Field::Source, "source", EXACT),
    (Field::Source, "channel", EXACT),
    (Field::Source, "open_data_channel_type", EXACT),
    (Field::Source, "source_type", EXACT),
    (Field::Source, "channel_type", EXACT),
    (Field::Source, "Источник", EXACT),
    (Field::Source, "Канал", EXACT),
    (Field::Source, "Канал поступления", EXACT),
    (Field::Source, "Источник поступления", EXACT),
    (Field::Source, "Источник обращения", EXACT),
    (Field::Source, "Способ поступления", EXACT),
    (Field::Source, "Способ подачи", EXACT),
    // category: `category` beats Boston's `REASON`, which beats `TYPE` (then a subcategory).
    (Field::Category, "category", 320),
    (Field::Category, "Категория", 320),
    (Field::Category, "complaint_type", 310),
    (Field::Category, "Категория обращения", 310),
    (Field::Category, "Рубрика", 310),
    (Field::Category, "service_name", EXACT),
    (Field::Category, "problem_type", EXACT),
    (Field::Category, "REASON", EXACT),
    (Field::Category, "Тема", EXACT),
    (Field::Category, "Тематика", EXACT),
    (Field::Category, "Тема обращения", EXACT),
    (Field::Category, "TYPE", 290),
    (Field::Category, "request_type", 290),
    (Field::Category, "sr_type", 290),
    // subcategory
    (Field::Subcategory, "subcategory", EXACT),
    (Field::Subcategory, "sub_category", EXACT),
    (Field::Subcategory, "descriptor", EXACT),
    (Field::Subcategory, "subtype", EXACT),
    (Field::Subcategory, "sub_type", EXACT),
    (Field::Subcategory, "Подкатегория", EXACT),
    (Field::Subcategory, "Подрубрика", EXACT),
    (Field::Subcategory, "Подтема", EXACT),
    (Field::Subcategory, "TYPE", 210),
    (Field::Subcategory, "request_type", 210),
    (Field::Subcategory, "sr_type", 210),
    // municipality (`district` only exactly: not `city_council_district`, `police_district`)
    (Field::Municipality, "municipality", EXACT),
    (Field::Municipality, "borough", EXACT),
    (Field::Municipality, "district", EXACT),
    (Field::Municipality, "Муниципальное образование", EXACT),
    (Field::Municipality, "Муниципалитет", EXACT),
    (Field::Municipality, "Район", EXACT),
    (Field::Municipality, "МО", EXACT),
    (Field::Municipality, "Городской округ", EXACT),
    (Field::Municipality, "Муниципальный район", EXACT),
    (Field::Municipality, "Муниципальный округ", EXACT),
    // settlement
    (Field::Settlement, "settlement", EXACT),
    (Field::Settlement, "neighborhood", EXACT),
    (Field::Settlement, "neighbourhood", EXACT),
    (Field::Settlement, "locality", EXACT),
    (Field::Settlement, "city", EXACT),
    (Field::Settlement, "town", EXACT),
    (Field::Settlement, "Населённый пункт", EXACT),
    (Field::Settlement, "НП", EXACT),
    (Field::Settlement, "Поселение", EXACT),
    (Field::Settlement, "Город", EXACT),
    // address (`location` is also a lat_lon synonym; with samples the values decide)
    (Field::Address, "address", EXACT),
    (Field::Address, "incident_address", EXACT),
    (Field::Address, "street_address", EXACT),
    (Field::Address, "full_address", EXACT),
    (Field::Address, "Адрес", EXACT),
    (Field::Address, "Адрес проблемы", EXACT),
    (Field::Address, "Адрес объекта", EXACT),
    (Field::Address, "Место", EXACT),
    (Field::Address, "Место проблемы", EXACT),
    (Field::Address, "location", 220),
    // lat / lon
    (Field::Lat, "latitude", EXACT),
    (Field::Lat, "lat", EXACT),
    (Field::Lat, "Широта", EXACT),
    (Field::Lat, "point_y", 290),
    (Field::Lat, "y", 270),
    (Field::Lon, "longitude", EXACT),
    (Field::Lon, "lon", EXACT),
    (Field::Lon, "lng", EXACT),
    (Field::Lon, "long", EXACT),
    (Field::Lon, "Долгота", EXACT),
    (Field::Lon, "point_x", 290),
    (Field::Lon, "x", 270),
    // lat_lon
    (Field::LatLon, "coordinates", EXACT),
    (Field::LatLon, "geocoded_location", EXACT),
    (Field::LatLon, "geometry", EXACT),
    (Field::LatLon, "geom", EXACT),
    (Field::LatLon, "the_geom", EXACT),
    (Field::LatLon, "wkt", EXACT),
    (Field::LatLon, "point", EXACT),
    (Field::LatLon, "lat_lon", EXACT),
    (Field::LatLon, "lat_lng", EXACT),
    (Field::LatLon, "Координаты", EXACT),
    (Field::LatLon, "location", 215),
    // status (`state` is generic: Chicago's `STATE` is the US state)
    (Field::Status, "status", EXACT),
    (Field::Status, "case_status", EXACT),
    (Field::Status, "Статус", EXACT),
    (Field::Status, "Статус обращения", EXACT),
    (Field::Status, "Состояние", EXACT),
    (Field::Status, "state", 260),
    // resolved_at
    (Field::ResolvedAt, "resolved_at", EXACT),
    (Field::ResolvedAt, "closed_date", EXACT),
    (Field::ResolvedAt, "CLOSED_DT", EXACT),
    (Field::ResolvedAt, "resolution_date", EXACT),
    (Field::ResolvedAt, "closed_at", EXACT),
    (Field::ResolvedAt, "date_closed", EXACT),
    (Field::ResolvedAt, "resolved_date", EXACT),
    (Field::ResolvedAt, "closed", EXACT),
    (Field::ResolvedAt, "Дата ответа", EXACT),
    (Field::ResolvedAt, "Дата решения", EXACT),
    (Field::ResolvedAt, "Дата закрытия", EXACT),
    (Field::ResolvedAt, "Дата исполнения", EXACT),
    (Field::ResolvedAt, "Дата выполнения", EXACT),
    // text
    (Field::Text, "text", EXACT),
    (Field::Text, "description", EXACT),
    (Field::Text, "CASE_TITLE", EXACT),
    (Field::Text, "message", EXACT),
    (Field::Text, "details", EXACT),
    (Field::Text, "Текст", EXACT),
    (Field::Text, "Текст обращения", EXACT),
    (Field::Text, "Описание", EXACT),
    (Field::Text, "Содержание", EXACT),
    (Field::Text, "Содержание обращения", EXACT),
    (Field::Text, "Суть обращения", EXACT),
    (Field::Text, "Сообщение", EXACT),
];

/// Word matches ("contains"): every part must begin a word of the header (a part of up to three
/// letters must be a whole word), so `тема` finds `Тема письма` but not `Подтема` or `Система`.
/// Weight [`WORDS_BASE`] plus the parts' length: more specific patterns win.
const WORD_SYNONYMS: &[(Field, &[&str])] = &[
    (Field::ExternalId, &["номер", "обращ"]),
    (Field::ExternalId, &["номер", "заявк"]),
    (Field::ExternalId, &["идентификатор"]),
    (Field::ExternalId, &["enquiry"]),
    (Field::ReceivedAt, &["дата", "поступ"]),
    (Field::ReceivedAt, &["дата", "созда"]),
    (Field::ReceivedAt, &["дата", "регистр"]),
    (Field::ReceivedAt, &["дата", "обращ"]),
    (Field::ReceivedAt, &["дата", "подач"]),
    (Field::ReceivedAt, &["created", "date"]),
    (Field::ReceivedAt, &["created", "at"]),
    (Field::ReceivedAt, &["open", "date"]),
    (Field::ReceivedAt, &["open", "dt"]),
    (Field::ReceivedAt, &["received"]),
    (Field::Source, &["источник"]),
    (Field::Source, &["канал"]),
    (Field::Source, &["channel"]),
    (Field::Source, &["способ", "поступ"]),
    (Field::Source, &["способ", "подач"]),
    (Field::Category, &["категори"]),
    (Field::Category, &["рубрик"]),
    (Field::Category, &["тема"]),
    (Field::Category, &["category"]),
    (Field::Category, &["complaint", "type"]),
    (Field::Subcategory, &["подкатегор"]),
    (Field::Subcategory, &["подрубрик"]),
    (Field::Subcategory, &["подтем"]),
    (Field::Subcategory, &["subcategor"]),
    (Field::Municipality, &["муниципал"]),
    (Field::Municipality, &["район"]),
    (Field::Municipality, &["городской", "округ"]),
    (Field::Municipality, &["мо"]),
    (Field::Settlement, &["населен", "пункт"]),
    (Field::Settlement, &["нп"]),
    (Field::Settlement, &["neighbo"]),
    (Field::Address, &["адрес"]),
    (Field::Address, &["address"]),
    (Field::Lat, &["широт"]),
    (Field::Lat, &["latitude"]),
    (Field::Lon, &["долгот"]),
    (Field::Lon, &["longitude"]),
    (Field::LatLon, &["координат"]),
    (Field::LatLon, &["coordinat"]),
    (Field::LatLon, &["geocoded"]),
    (Field::LatLon, &["wkt"]),
    (Field::LatLon, &["широт", "долгот"]),
    (Field::LatLon, &["latitude", "longitude"]),
    (Field::LatLon, &["lat", "lon"]),
    (Field::LatLon, &["lat", "lng"]),
    (Field::Status, &["статус"]),
    (Field::Status, &["status"]),
    (Field::Status, &["состояни"]),
    (Field::ResolvedAt, &["дата", "ответ"]),
    (Field::ResolvedAt, &["дата", "решени"]),
    (Field::ResolvedAt, &["дата", "закрыт"]),
    (Field::ResolvedAt, &["дата", "исполнен"]),
    (Field::ResolvedAt, &["дата", "выполнен"]),
    (Field::ResolvedAt, &["closed", "date"]),
    (Field::ResolvedAt, &["closed", "dt"]),
    (Field::ResolvedAt, &["closed", "at"]),
    (Field::ResolvedAt, &["resolved"]),
    (Field::Text, &["текст"]),
    (Field::Text, &["описани"]),
    (Field::Text, &["содержани"]),
    (Field::Text, &["суть"]),
    (Field::Text, &["description"]),
];

/// Texts that stop a word match of the field when the folded header contains them:
/// `OnTime_Status` is not a status, `Текст ответа` not the appeal's text, `Плановая дата
/// ответа` not the answer's date.
const BLOCKERS: &[(Field, &[&str])] = &[
    (Field::ExternalId, &["телефон", "phone"]),
    (
        Field::ReceivedAt,
        &[
            "ответ",
            "решени",
            "закрыт",
            "исполн",
            "выполн",
            "closed",
            "resolv",
            "план",
            "срок",
            "target",
            "due",
            "update",
            "modified",
            "изменен",
        ],
    ),
    (Field::Source, &["финанс"]),
    (Field::Settlement, &["district"]),
    (Field::Address, &["email", "mail", "почт", "электрон"]),
    (Field::LatLon, &["plane", "xcoord", "ycoord"]),
    (
        Field::Status,
        &["ontime", "overdue", "просроч", "срок", "sla"],
    ),
    (
        Field::ResolvedAt,
        &[
            "план",
            "срок",
            "target",
            "due",
            "update",
            "modified",
            "photo",
            "фото",
            "reason",
            "причин",
            "контрол",
        ],
    ),
    (Field::Text, &["ответ", "resolution", "решени"]),
];

/// Whether every part begins a word of `words` (a part of up to three letters must be a word).
fn words_match(words: &[String], parts: &[&str]) -> bool {
    parts.iter().all(|part| {
        let short = part.chars().count() <= 3;
        words.iter().any(|w| {
            if short {
                w == part
            } else {
                w.starts_with(part)
            }
        })
    })
}

fn blocked(field: Field, folded: &str) -> bool {
    BLOCKERS
        .iter()
        .filter(|(f, _)| *f == field)
        .any(|(_, texts)| texts.iter().any(|t| folded.contains(t)))
}

/// The best weight of each field for one header, by name only.
fn header_candidates(header: &str) -> BTreeMap<Field, u16> {
    let words = header_words(header);
    let folded = words.concat();
    let mut out: BTreeMap<Field, u16> = BTreeMap::new();
    if folded.is_empty() {
        return out;
    }
    let mut offer = |field: Field, weight: u16| {
        let w = out.entry(field).or_insert(0);
        *w = (*w).max(weight);
    };
    for &(field, synonym, weight) in EXACT_SYNONYMS {
        if fold_header(synonym) == folded {
            offer(field, weight);
        }
    }
    for &(field, parts) in WORD_SYNONYMS {
        if words_match(&words, parts) && !blocked(field, &folded) {
            let len: usize = parts.iter().map(|p| p.chars().count()).sum();
            let extra = u16::try_from(len).unwrap_or(u16::MAX).min(99);
            offer(field, WORDS_BASE + extra);
        }
    }
    out
}

/// Whether the sample values of a column agree with a field: dates parse, degrees are in range,
/// coordinates parse, an address is not coordinates. With no non-empty samples, yes.
fn samples_fit(field: Field, column: usize, samples: &[Vec<String>]) -> bool {
    let values: Vec<&str> = samples
        .iter()
        .filter_map(|row| row.get(column))
        .map(|v| v.trim())
        .filter(|v| !v.is_empty())
        .collect();
    if values.is_empty() {
        return true;
    }
    let most =
        |ok: &dyn Fn(&str) -> bool| values.iter().filter(|v| ok(v)).count() * 2 > values.len();
    match field {
        Field::ReceivedAt | Field::ResolvedAt => most(&|v| parse_timestamp_text(v).is_ok()),
        Field::Lat => most(&|v| parse_degrees(v).is_ok_and(|d| d.abs() <= 90.0)),
        Field::Lon => most(&|v| parse_degrees(v).is_ok_and(|d| d.abs() <= 180.0)),
        Field::LatLon => most(&|v| parse_lat_lon(v).is_ok()),
        Field::Address => !most(&|v| parse_lat_lon(v).is_ok()),
        _ => true,
    }
}

// ---------------------------------------------------------------------------------------------
// Mapping
// ---------------------------------------------------------------------------------------------

/// Which input column fills each field.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Mapping {
    /// Field → header text, exactly as in the input file.
    pub columns: BTreeMap<Field, String>,
}

impl Mapping {
    /// The automatic mapping of these headers (Russian and English names, case-, space-,
    /// underscore-, ё/е-insensitive), each header used at most once, each field at most once:
    /// the best match wins, an exact synonym beats a word match. `lat_lon` is dropped when both
    /// `lat` and `lon` were found, and a `lat` or `lon` without the other is dropped.
    pub fn auto(headers: &[String]) -> Mapping {
        Mapping::auto_with_samples(headers, &[])
    }

    /// [`Mapping::auto`], checking each candidate against the first rows: a date field whose
    /// values mostly do not parse as dates, `lat`/`lon` whose values are not degrees in range,
    /// `lat_lon` whose values are not coordinates, or an address whose values are coordinates,
    /// is not mapped to that column (the column may then fill its next-best field: NYC's
    /// `Location` holding "(40.7, -73.9)" becomes `lat_lon`, Boston's street `Location` an
    /// address). Rows shorter than the headers and empty values are fine.
    pub fn auto_with_samples(headers: &[String], sample_rows: &[Vec<String>]) -> Mapping {
        let mut candidates: Vec<(u16, usize, Field)> = Vec::new();
        for (index, header) in headers.iter().enumerate() {
            for (field, weight) in header_candidates(header) {
                if samples_fit(field, index, sample_rows) {
                    candidates.push((weight, index, field));
                }
            }
        }
        // Best weight first; ties go to the earlier column, then the earlier field.
        candidates.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
        let mut used_headers = BTreeSet::new();
        let mut columns = BTreeMap::new();
        for (_, index, field) in candidates {
            if columns.contains_key(&field) || used_headers.contains(&index) {
                continue;
            }
            if let Some(header) = headers.get(index) {
                used_headers.insert(index);
                columns.insert(field, header.clone());
            }
        }
        let has_lat = columns.contains_key(&Field::Lat);
        let has_lon = columns.contains_key(&Field::Lon);
        if has_lat && has_lon {
            columns.remove(&Field::LatLon);
        } else {
            columns.remove(&Field::Lat);
            columns.remove(&Field::Lon);
        }
        Mapping { columns }
    }

    /// The column mapped to a field, if any.
    pub fn get(&self, field: Field) -> Option<&str> {
        self.columns.get(&field).map(String::as_str)
    }

    /// Applies `--map field=COLUMN` overrides, in order (a later one for the same field wins).
    /// The column is matched exactly, else ignoring surrounding spaces, else ignoring case,
    /// spaces, underscores and ё/е when that finds one header only. `field=` (empty) unmaps the
    /// field. A column claimed by an override is taken away from the automatic mapping of any
    /// other field (two overrides may still name the same column). Errors name the bad item:
    /// not `field=COLUMN`, an unknown field, or no such column (listing the headers).
    pub fn with_overrides(
        mut self,
        items: &[String],
        headers: &[String],
    ) -> Result<Mapping, MappingError> {
        let mut overrides: BTreeMap<Field, Option<String>> = BTreeMap::new();
        for item in items {
            let Some((key, column)) = item.split_once('=') else {
                return Err(MappingError::BadItem { item: item.clone() });
            };
            let field = Field::from_key(key).ok_or_else(|| MappingError::UnknownField {
                item: item.clone(),
                key: key.trim().to_string(),
                fields: Field::all_keys(),
            })?;
            if column.trim().is_empty() {
                overrides.insert(field, None);
                continue;
            }
            match find_header(headers, column) {
                Lookup::Found(index) => {
                    let header = headers.get(index).cloned().unwrap_or_default();
                    overrides.insert(field, Some(header));
                }
                Lookup::Missing => {
                    return Err(MappingError::NoSuchColumn {
                        item: item.clone(),
                        column: column.trim().to_string(),
                        headers: list_headers(headers),
                    });
                }
                Lookup::Ambiguous(indexes) => {
                    return Err(MappingError::AmbiguousColumn {
                        item: item.clone(),
                        column: column.trim().to_string(),
                        matches: list_indexed(headers, &indexes),
                        headers: list_headers(headers),
                    });
                }
            }
        }
        let claimed: BTreeSet<String> = overrides.values().flatten().cloned().collect();
        self.columns
            .retain(|field, column| overrides.contains_key(field) || !claimed.contains(column));
        for (field, column) in overrides {
            match column {
                Some(column) => self.columns.insert(field, column),
                None => self.columns.remove(&field),
            };
        }
        Ok(self)
    }

    /// A saved mapping file: TOML with a `[map]` table of `field = "column"`. Other top-level
    /// keys are ignored; an empty column leaves the field unmapped. Errors: not TOML, no `[map]`
    /// table, a value that is not a string, an unknown field.
    pub fn from_toml(text: &str) -> Result<Mapping, MappingError> {
        let table: toml::Table = toml::from_str(text).map_err(|e| MappingError::Toml {
            detail: e.to_string().trim().to_string(),
        })?;
        let Some(map) = table.get("map") else {
            return Err(MappingError::Toml {
                detail:
                    "no [map] table (expected lines like `received_at = \"Дата\"` under `[map]`)"
                        .to_string(),
            });
        };
        let Some(map) = map.as_table() else {
            return Err(MappingError::Toml {
                detail: "`map` is not a table".to_string(),
            });
        };
        let mut columns = BTreeMap::new();
        for (key, value) in map {
            let field = Field::from_key(key).ok_or_else(|| MappingError::UnknownField {
                item: format!("[map] {key}"),
                key: key.clone(),
                fields: Field::all_keys(),
            })?;
            let Some(column) = value.as_str() else {
                return Err(MappingError::Toml {
                    detail: format!("[map] {key}: expected a column name in quotes"),
                });
            };
            if !column.trim().is_empty() {
                columns.insert(field, column.to_string());
            }
        }
        Ok(Mapping { columns })
    }

    /// The mapping as a file [`Mapping::from_toml`] reads back: a `[map]` table in field order,
    /// unmapped fields as comment lines to fill in.
    pub fn to_toml(&self) -> String {
        let mut out = String::from(
            "# teplokarta import mapping: field = \"column header in the input file\".\n\
             # Commented-out fields are not mapped.\n[map]\n",
        );
        for field in Field::ALL {
            match self.columns.get(&field).filter(|c| !c.trim().is_empty()) {
                Some(column) => {
                    out.push_str(&format!("{} = {}\n", field.key(), toml_string(column)));
                }
                None => out.push_str(&format!("# {} = \"\"\n", field.key())),
            }
        }
        out
    }

    /// The column index of each mapped field in `headers` (matched like the overrides). Fields
    /// whose column is missing, or matches several headers only loosely, are an error listing
    /// all of them and the headers.
    pub fn resolve(&self, headers: &[String]) -> Result<BTreeMap<Field, usize>, MappingError> {
        let mut out = BTreeMap::new();
        let mut missing = Vec::new();
        for (&field, column) in &self.columns {
            match find_header(headers, column) {
                Lookup::Found(index) => {
                    out.insert(field, index);
                }
                Lookup::Missing => missing.push(format!("{field} = `{column}`")),
                Lookup::Ambiguous(indexes) => missing.push(format!(
                    "{field} = `{column}` (matches {})",
                    list_indexed(headers, &indexes)
                )),
            }
        }
        if missing.is_empty() {
            Ok(out)
        } else {
            Err(MappingError::MissingColumns {
                missing: missing.join(", "),
                headers: list_headers(headers),
            })
        }
    }
}

enum Lookup {
    Found(usize),
    Missing,
    Ambiguous(Vec<usize>),
}

/// Finds a header: exactly, then trimmed, then folded (case, spaces, underscores, ё/е) when
/// that is unique.
fn find_header(headers: &[String], wanted: &str) -> Lookup {
    if let Some(i) = headers.iter().position(|h| h == wanted) {
        return Lookup::Found(i);
    }
    let trimmed = wanted.trim();
    if let Some(i) = headers.iter().position(|h| h.trim() == trimmed) {
        return Lookup::Found(i);
    }
    let folded = fold_header(trimmed);
    if folded.is_empty() {
        return Lookup::Missing;
    }
    let hits: Vec<usize> = headers
        .iter()
        .enumerate()
        .filter(|(_, h)| fold_header(h) == folded)
        .map(|(i, _)| i)
        .collect();
    match hits.as_slice() {
        [] => Lookup::Missing,
        [one] => Lookup::Found(*one),
        _ => Lookup::Ambiguous(hits),
    }
}

/// The headers for an error message, each in backticks, at most 60.
fn list_headers(headers: &[String]) -> String {
    if headers.is_empty() {
        return "none".to_string();
    }
    let mut list: Vec<String> = headers.iter().take(60).map(|h| format!("`{h}`")).collect();
    if headers.len() > 60 {
        list.push(format!("… {} more", headers.len() - 60));
    }
    list.join(", ")
}

fn list_indexed(headers: &[String], indexes: &[usize]) -> String {
    indexes
        .iter()
        .filter_map(|&i| headers.get(i))
        .map(|h| format!("`{h}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A TOML basic string with every character that needs it escaped.
fn toml_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

// ---------------------------------------------------------------------------------------------
// Timestamps
// ---------------------------------------------------------------------------------------------

/// The largest Excel serial date: 9999-12-31.
const EXCEL_MAX_SERIAL: u32 = 2_958_465;

/// A timestamp in the contract's form — `YYYY-MM-DDTHH:MM:SS`, followed by the offset (`Z` or
/// `±HH:MM`) if the input had one, or `YYYY-MM-DD` for a date only — from:
///
/// - ISO/contract forms (`T` or spaces between date and time, `HH:MM[:SS[.fff]]`, `Z`, `±HH`,
///   `±HHMM`, `±HH:MM`); `YYYY/MM/DD` and `YYYY.MM.DD` likewise; compact `YYYYMMDD`;
/// - `dd.mm.yyyy`, `dd.mm.yyyy HH:MM`, `dd.mm.yyyy HH:MM:SS` (also `d.m.yyyy`, a comma or `г.`
///   after the date; two-digit years are 20yy);
/// - `MM/DD/YYYY hh:mm:ss AM/PM` (12 AM is midnight, 12 PM noon) and `MM/DD/YYYY HH:MM[:SS]`;
/// - an Excel serial date: a plain number from 1 to 2958465 (decimal point or comma), the
///   fractional part the time of day rounded to the second; serial 60 is Excel's nonexistent
///   1900-02-29 and is rejected, 61 is 1900-03-01. A whole number gives a date only.
///
/// Fractions of a second are dropped (not rounded, so the day never changes). Impossible dates
/// (`31.02.2021`, `02/29/2021`) and times (`25:00`) are errors.
pub fn parse_timestamp_text(text: &str) -> Result<String, ValueError> {
    let t = text.trim();
    if t.is_empty() {
        return Err(ValueError::new("empty date", text));
    }
    if t.chars().count() > 64 {
        return Err(ValueError::new("too long for a date", text));
    }
    let out = parse_timestamp_inner(t).map_err(|reason| ValueError::new(reason, text))?;
    // Belt and braces: whatever we produce must be what the contract's reader accepts.
    if crate::data::parse_timestamp(&out).is_none() {
        return Err(ValueError::new("not a date", text));
    }
    Ok(out)
}

fn parse_timestamp_inner(t: &str) -> Result<String, String> {
    if is_plain_number(t) {
        let digits_only = t.chars().all(|c| c.is_ascii_digit());
        if digits_only && t.len() == 8 {
            return compact_date(t);
        }
        return excel_serial(t);
    }
    // The date is the leading run of digits and separators.
    let date_end = t
        .char_indices()
        .find(|(_, c)| !(c.is_ascii_digit() || matches!(c, '.' | '/' | '-')))
        .map_or(t.len(), |(i, _)| i);
    let date_text = t.get(..date_end).unwrap_or("");
    let rest = t.get(date_end..).unwrap_or("");
    let (date, sep) = parse_date_part(date_text)?;
    let rest = if let Some(after_t) = rest.strip_prefix(['T', 't']) {
        if after_t.trim().is_empty() {
            return Err("no time after `T`".to_string());
        }
        after_t
    } else {
        let mut rest = rest.trim_start();
        if sep == '.' {
            // `01.03.2021 г.`, `01.03.2021г, 10:00`
            rest = rest
                .strip_prefix("г.")
                .or_else(|| rest.strip_prefix('г'))
                .unwrap_or(rest)
                .trim_start();
        }
        let rest = rest.strip_prefix(',').unwrap_or(rest).trim_start();
        rest.strip_prefix("в ").unwrap_or(rest)
    };
    let rest = rest.trim();
    if rest.is_empty() {
        return Ok(contract_date(date));
    }
    let (time, offset) = parse_time_part(rest)?;
    Ok(format!(
        "{}T{:02}:{:02}:{:02}{offset}",
        contract_date(date),
        time.hour(),
        time.minute(),
        time.second()
    ))
}

/// A date in the contract's form, `YYYY-MM-DD`.
fn contract_date(date: Date) -> String {
    format!("{:04}-{:02}-{:02}", date.year(), date.month(), date.day())
}

/// Digits with at most one `.` or `,` between digits.
fn is_plain_number(t: &str) -> bool {
    let seps = t.chars().filter(|c| matches!(c, '.' | ',')).count();
    seps <= 1
        && t.chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | ','))
        && t.starts_with(|c: char| c.is_ascii_digit())
        && t.ends_with(|c: char| c.is_ascii_digit())
}

fn compact_date(t: &str) -> Result<String, String> {
    let num = |r: std::ops::Range<usize>| t.get(r).and_then(|s| s.parse::<i16>().ok());
    let (Some(y), Some(m), Some(d)) = (num(0..4), num(4..6), num(6..8)) else {
        return Err("not a date".to_string());
    };
    let date = make_date(y, m, d)?;
    Ok(contract_date(date))
}

fn excel_serial(t: &str) -> Result<String, String> {
    let (whole, frac) = match t.split_once(['.', ',']) {
        Some((w, f)) => (w, Some(f)),
        None => (t, None),
    };
    let out_of_range = || format!("Excel date serial out of range (1 to {EXCEL_MAX_SERIAL})");
    let whole: u32 = whole.parse().map_err(|_| out_of_range())?;
    if whole == 0 || whole > EXCEL_MAX_SERIAL {
        return Err(out_of_range());
    }
    if whole == 60 {
        return Err("Excel date serial 60 is 29 February 1900, which does not exist".to_string());
    }
    // Excel counts 1900-01-01 as 1 and wrongly includes 1900-02-29 as 60.
    let base = if whole < 60 {
        make_date(1899, 12, 31)?
    } else {
        make_date(1899, 12, 30)?
    };
    let mut date = add_days(base, i64::from(whole))?;
    let Some(frac) = frac else {
        return Ok(contract_date(date));
    };
    let fraction: f64 = format!("0.{frac}")
        .parse()
        .map_err(|_| "not a number".to_string())?;
    let mut seconds = (fraction * 86_400.0).round() as i64;
    if seconds >= 86_400 {
        seconds -= 86_400;
        date = add_days(date, 1)?;
    }
    let seconds = seconds.clamp(0, 86_399);
    let (h, m, s) = (seconds / 3600, seconds / 60 % 60, seconds % 60);
    Ok(format!("{}T{h:02}:{m:02}:{s:02}", contract_date(date)))
}

fn add_days(date: Date, days: i64) -> Result<Date, String> {
    let span = jiff::Span::new()
        .try_days(days)
        .map_err(|_| "date out of range".to_string())?;
    date.checked_add(span)
        .map_err(|_| "date out of range".to_string())
}

fn make_date(year: i16, month: i16, day: i16) -> Result<Date, String> {
    if !(1..=12).contains(&month) {
        return Err(format!("no month {month}"));
    }
    let (Ok(m), Ok(d)) = (i8::try_from(month), i8::try_from(day)) else {
        return Err("no such date".to_string());
    };
    // The reason names the kind of problem only; the error carries the value itself.
    Date::new(year, m, d).map_err(|_| "no such date".to_string())
}

/// A date of three numbers with one kind of separator: `Y-M-D`, `Y/M/D`, `Y.M.D` (a four-digit
/// first number), `D.M.Y`, `M/D/Y` (years of four or two digits).
fn parse_date_part(text: &str) -> Result<(Date, char), String> {
    let Some(sep) = text.chars().find(|c| !c.is_ascii_digit()) else {
        return Err("not a date".to_string());
    };
    let parts: Vec<&str> = text.split(sep).collect();
    let [a, b, c] = parts.as_slice() else {
        return Err("not a date".to_string());
    };
    if [a, b, c]
        .iter()
        .any(|p| p.is_empty() || !p.chars().all(|ch| ch.is_ascii_digit()) || p.len() > 4)
    {
        return Err("not a date".to_string());
    }
    let num = |p: &str| p.parse::<i16>().map_err(|_| "not a date".to_string());
    let year_of = |p: &str| -> Result<i16, String> {
        match p.len() {
            4 => num(p),
            2 => Ok(2000 + num(p)?),
            _ => Err("not a date (the year needs 4 or 2 digits)".to_string()),
        }
    };
    let small = |p: &str| p.len() <= 2;
    let date = if a.len() == 4 {
        if !(small(b) && small(c)) {
            return Err("not a date".to_string());
        }
        make_date(num(a)?, num(b)?, num(c)?)?
    } else {
        if !(small(a) && small(b)) {
            return Err("not a date".to_string());
        }
        match sep {
            '.' => make_date(year_of(c)?, num(b)?, num(a)?)?,
            '/' => make_date(year_of(c)?, num(a)?, num(b)?)?,
            _ => return Err("unknown date order (use YYYY-MM-DD)".to_string()),
        }
    };
    Ok((date, sep))
}

/// `H:MM[:SS[.fff]]`, optional `AM`/`PM`, optional offset (`Z`, `UTC`, `GMT`, `±HH`, `±HHMM`,
/// `±HH:MM`). The offset comes back in the contract's form (`Z`, `+05:00`) or empty.
fn parse_time_part(text: &str) -> Result<(Time, String), String> {
    let bad = || "not a time of day".to_string();
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    let digits = |i: &mut usize, max: usize| -> Option<i64> {
        let start = *i;
        let mut value: i64 = 0;
        while *i - start < max {
            match chars.get(*i).and_then(|c| c.to_digit(10)) {
                Some(d) => {
                    value = value * 10 + i64::from(d);
                    *i += 1;
                }
                None => break,
            }
        }
        (*i > start).then_some(value)
    };
    let hour = digits(&mut i, 2).ok_or_else(bad)?;
    if chars.get(i) != Some(&':') {
        return Err(bad());
    }
    i += 1;
    let start = i;
    let minute = digits(&mut i, 2).ok_or_else(bad)?;
    if i - start != 2 {
        return Err(bad());
    }
    let mut second = 0;
    if chars.get(i) == Some(&':') {
        i += 1;
        let start = i;
        second = digits(&mut i, 2).ok_or_else(bad)?;
        if i - start != 2 {
            return Err(bad());
        }
        if matches!(chars.get(i), Some('.' | ','))
            && chars.get(i + 1).is_some_and(|c| c.is_ascii_digit())
        {
            i += 1;
            while chars.get(i).is_some_and(|c| c.is_ascii_digit()) {
                i += 1;
            }
        }
    }
    let rest: String = chars.get(i..).unwrap_or(&[]).iter().collect();
    let mut rest = rest.trim_start().to_string();
    // AM / PM
    let lower = rest.to_lowercase();
    let mut meridiem = None;
    for (word, pm) in [("a.m.", false), ("p.m.", true), ("am", false), ("pm", true)] {
        if let Some(after) = lower.strip_prefix(word)
            && !after.starts_with(|c: char| c.is_alphabetic())
        {
            meridiem = Some(pm);
            rest = after.trim_start().to_string();
            break;
        }
    }
    let hour = match meridiem {
        Some(pm) => {
            if !(1..=12).contains(&hour) {
                return Err(format!("no hour {hour} on a 12-hour clock"));
            }
            hour % 12 + if pm { 12 } else { 0 }
        }
        None => hour,
    };
    let offset = parse_offset(rest.trim())?;
    let (Ok(h), Ok(m), Ok(s)) = (
        i8::try_from(hour),
        i8::try_from(minute),
        i8::try_from(second),
    ) else {
        return Err(bad());
    };
    let time = Time::new(h, m, s, 0).map_err(|_| "no such time".to_string())?;
    Ok((time, offset))
}

fn parse_offset(text: &str) -> Result<String, String> {
    let bad = || format!("not a UTC offset: {text}");
    if text.is_empty() {
        return Ok(String::new());
    }
    let upper = text.to_ascii_uppercase();
    if matches!(upper.as_str(), "Z" | "UTC" | "GMT") {
        return Ok("Z".to_string());
    }
    let (sign, body) = match text.chars().next() {
        Some('+') => ('+', text.get(1..).unwrap_or("")),
        Some('-') => ('-', text.get(1..).unwrap_or("")),
        Some('−') => ('-', text.get('−'.len_utf8()..).unwrap_or("")),
        _ => return Err(bad()),
    };
    let digits: String = body.chars().filter(|c| *c != ':').collect();
    if !digits.chars().all(|c| c.is_ascii_digit()) || body.matches(':').count() > 1 {
        return Err(bad());
    }
    let (h, m) = match digits.len() {
        2 => (digits.parse::<u8>().map_err(|_| bad())?, 0),
        4 => (
            digits
                .get(..2)
                .and_then(|s| s.parse::<u8>().ok())
                .ok_or_else(bad)?,
            digits
                .get(2..)
                .and_then(|s| s.parse::<u8>().ok())
                .ok_or_else(bad)?,
        ),
        _ => return Err(bad()),
    };
    if h > 18 || m > 59 {
        return Err(bad());
    }
    Ok(format!("{sign}{h:02}:{m:02}"))
}

// ---------------------------------------------------------------------------------------------
// Coordinates
// ---------------------------------------------------------------------------------------------

/// Which coordinate a hemisphere letter says a number is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Axis {
    Lat,
    Lon,
}

/// A coordinate in degrees, accepting a decimal comma, surrounding spaces, a trailing `°`, a
/// leading `+`/`-`/`−` or a trailing hemisphere letter (`N`, `S`, `E`, `W`; `S` and `W` are
/// negative). Errors for text, exponents, NaN, infinite. The range is not checked here (the
/// caller knows whether it is a latitude).
pub fn parse_degrees(text: &str) -> Result<f64, ValueError> {
    parse_degrees_axis(text).map(|(v, _)| v)
}

fn parse_degrees_axis(text: &str) -> Result<(f64, Option<Axis>), ValueError> {
    let mut s = text.trim();
    if s.is_empty() {
        return Err(ValueError::new("empty coordinate", text));
    }
    let mut axis = None;
    let mut negative = false;
    if let Some(last) = s.chars().last() {
        let hemisphere = match last {
            'N' | 'n' => Some((Axis::Lat, false)),
            'S' | 's' => Some((Axis::Lat, true)),
            'E' | 'e' => Some((Axis::Lon, false)),
            'W' | 'w' => Some((Axis::Lon, true)),
            _ => None,
        };
        if let Some((a, neg)) = hemisphere {
            axis = Some(a);
            negative = neg;
            s = s.get(..s.len() - last.len_utf8()).unwrap_or("").trim_end();
        }
    }
    s = s.strip_suffix('°').unwrap_or(s).trim_end();
    let (sign_negative, body) = if let Some(b) = s.strip_prefix(['-', '−']) {
        (true, b)
    } else if let Some(b) = s.strip_prefix('+') {
        (false, b)
    } else {
        (false, s)
    };
    if sign_negative && axis.is_some() {
        return Err(ValueError::new("both a sign and a hemisphere letter", text));
    }
    let seps = body.chars().filter(|c| matches!(c, '.' | ',')).count();
    let valid = seps <= 1
        && body.starts_with(|c: char| c.is_ascii_digit())
        && body
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | ','));
    if !valid {
        return Err(ValueError::new("not a number", text));
    }
    let value: f64 = body
        .replace(',', ".")
        .parse()
        .map_err(|_| ValueError::new("not a number", text))?;
    if !value.is_finite() {
        return Err(ValueError::new("not a finite number", text));
    }
    let value = if sign_negative || negative {
        -value
    } else {
        value
    };
    Ok((value, axis))
}

/// (lon, lat) from one column:
///
/// - latitude first, as people write it: `57.15, 65.53`, `57,15; 65,53`, `57,15, 65,53`,
///   `57,15 65,53`, `57.15 65.53`, `57.15,65.53`, in parentheses `(57.15, 65.53)` (NYC), or with
///   hemisphere letters in either order (`65.53E 57.15N`);
/// - longitude first: WKT `POINT(65.53 57.15)`, `POINT (lon lat)`, `POINT Z (…)`,
///   `SRID=4326;POINT(…)`; a GeoJSON-ish array `[65.53, 57.15]`; a GeoJSON Point object.
///
/// Errors: ambiguous (`57,15` may be one number with a decimal comma; four numbers split by
/// commas), not two numbers, latitude beyond ±90 or longitude beyond ±180.
pub fn parse_lat_lon(text: &str) -> Result<(f64, f64), ValueError> {
    let t = text.trim();
    if t.is_empty() {
        return Err(ValueError::new("empty coordinates", text));
    }
    let mut body = t;
    if body
        .get(..5)
        .is_some_and(|p| p.eq_ignore_ascii_case("SRID="))
    {
        body = body
            .split_once(';')
            .map(|(_, b)| b.trim())
            .ok_or_else(|| ValueError::new("not coordinates", text))?;
    }
    let (lon, lat) = if body
        .get(..5)
        .is_some_and(|p| p.eq_ignore_ascii_case("POINT"))
    {
        wkt_point(body.get(5..).unwrap_or(""), text)?
    } else if body.starts_with('[') {
        let inner = body
            .strip_prefix('[')
            .and_then(|b| b.strip_suffix(']'))
            .ok_or_else(|| ValueError::new("not coordinates", text))?;
        lon_lat_list(inner, text)?
    } else if body.starts_with('{') {
        geojson_point(body, text)?
    } else {
        lat_first(body, text)?
    };
    check_range(lon, lat, text)
}

fn check_range(lon: f64, lat: f64, text: &str) -> Result<(f64, f64), ValueError> {
    if lat.abs() > 90.0 {
        return Err(ValueError::new(
            format!("latitude {lat} out of range (±90)"),
            text,
        ));
    }
    if lon.abs() > 180.0 {
        return Err(ValueError::new(
            format!("longitude {lon} out of range (±180)"),
            text,
        ));
    }
    Ok((lon, lat))
}

/// After `POINT`: optional `Z`/`M`/`ZM`, then `(lon lat [z [m]])`.
fn wkt_point(after: &str, text: &str) -> Result<(f64, f64), ValueError> {
    let bad = || ValueError::new("not a WKT point", text);
    let mut rest = after.trim_start();
    for dim in ["ZM", "Z", "M"] {
        if rest
            .get(..dim.len())
            .is_some_and(|p| p.eq_ignore_ascii_case(dim))
        {
            rest = rest.get(dim.len()..).unwrap_or("").trim_start();
            break;
        }
    }
    if rest
        .get(..5)
        .is_some_and(|p| p.eq_ignore_ascii_case("EMPTY"))
    {
        return Err(ValueError::new("empty point", text));
    }
    let inner = rest
        .strip_prefix('(')
        .and_then(|r| r.trim_end().strip_suffix(')'))
        .ok_or_else(bad)?;
    let numbers: Vec<&str> = inner.split_whitespace().collect();
    if !(2..=4).contains(&numbers.len()) {
        return Err(bad());
    }
    let lon = parse_degrees(numbers.first().copied().unwrap_or("")).map_err(|_| bad())?;
    let lat = parse_degrees(numbers.get(1).copied().unwrap_or("")).map_err(|_| bad())?;
    Ok((lon, lat))
}

/// `lon, lat[, z]` with decimal points (the commas separate).
fn lon_lat_list(inner: &str, text: &str) -> Result<(f64, f64), ValueError> {
    let numbers: Vec<&str> = inner.split(',').map(str::trim).collect();
    match numbers.as_slice() {
        [lon, lat] | [lon, lat, _] => {
            let lon = parse_degrees(lon)?;
            let lat = parse_degrees(lat)?;
            Ok((lon, lat))
        }
        _ => Err(ValueError::new(
            "ambiguous: expected [lon, lat] with decimal points",
            text,
        )),
    }
}

fn geojson_point(body: &str, text: &str) -> Result<(f64, f64), ValueError> {
    let bad = || ValueError::new("not a GeoJSON point", text);
    let value: serde_json::Value = serde_json::from_str(body).map_err(|_| bad())?;
    let geometry = value.get("geometry").unwrap_or(&value);
    if let Some(kind) = geometry.get("type").and_then(|t| t.as_str())
        && kind != "Point"
    {
        return Err(ValueError::new(
            format!("a GeoJSON {kind}, not a Point"),
            text,
        ));
    }
    let coordinates = geometry
        .get("coordinates")
        .and_then(|c| c.as_array())
        .ok_or_else(bad)?;
    match coordinates.as_slice() {
        [lon, lat] | [lon, lat, _] => {
            let lon = lon.as_f64().filter(|v| v.is_finite()).ok_or_else(bad)?;
            let lat = lat.as_f64().filter(|v| v.is_finite()).ok_or_else(bad)?;
            Ok((lon, lat))
        }
        _ => Err(bad()),
    }
}

/// Latitude first (unless hemisphere letters say otherwise), in optional parentheses.
fn lat_first(body: &str, text: &str) -> Result<(f64, f64), ValueError> {
    let body = body
        .strip_prefix('(')
        .and_then(|b| b.strip_suffix(')'))
        .unwrap_or(body)
        .trim();
    let (first, second) = split_pair(body).map_err(|reason| ValueError::new(reason, text))?;
    let (a, axis_a) = parse_degrees_axis(first)?;
    let (b, axis_b) = parse_degrees_axis(second)?;
    match (axis_a, axis_b) {
        (Some(Axis::Lon), Some(Axis::Lon)) | (Some(Axis::Lat), Some(Axis::Lat)) => Err(
            ValueError::new("both numbers are the same coordinate", text),
        ),
        (Some(Axis::Lon), _) | (_, Some(Axis::Lat)) => Ok((a, b)),
        _ => Ok((b, a)),
    }
}

/// Splits "lat, lon" in any of the usual ways; an error when it cannot be told where one number
/// ends.
fn split_pair(body: &str) -> Result<(&str, &str), &'static str> {
    fn two(parts: Vec<&str>) -> Result<(&str, &str), &'static str> {
        match parts.as_slice() {
            [a, b] if !a.trim().is_empty() && !b.trim().is_empty() => Ok((a.trim(), b.trim())),
            _ => Err("not two coordinates"),
        }
    }
    if body.contains(';') {
        return two(body.split(';').collect());
    }
    // A comma followed by white space separates: "57.15, 65.53", "57,15, 65,53".
    let comma_space: Vec<usize> = body
        .char_indices()
        .filter(|&(i, c)| {
            c == ','
                && body
                    .get(i + 1..)
                    .is_some_and(|r| r.starts_with(char::is_whitespace))
        })
        .map(|(i, _)| i)
        .collect();
    match comma_space.as_slice() {
        [i] => {
            return two(vec![
                body.get(..*i).unwrap_or(""),
                body.get(i + 1..).unwrap_or(""),
            ]);
        }
        [] => {}
        _ => return Err("not two coordinates"),
    }
    if body.contains(char::is_whitespace) {
        return two(body.split_whitespace().collect());
    }
    let commas = body.matches(',').count();
    if commas == 1 && body.contains('.') {
        return two(body.split(',').collect());
    }
    if commas >= 1 {
        return Err("ambiguous: commas may be decimal commas or separators");
    }
    Err("not two coordinates")
}

// ---------------------------------------------------------------------------------------------
// Statuses
// ---------------------------------------------------------------------------------------------

/// Status words (folded: lower case, ё → е, `_`/`-` as spaces, single spaces) and their contract
/// values.
const STATUS_WORDS: &[(&str, &[&str])] = &[
    (
        "new",
        &[
            "new",
            "open",
            "opened",
            "открыто",
            "открыт",
            "открыта",
            "новое",
            "новый",
            "новая",
            "зарегистрировано",
            "зарегистрирован",
            "зарегистрирована",
            "принято",
            "принят",
            "принята",
        ],
    ),
    (
        "in_progress",
        &[
            "in progress",
            "inprogress",
            "assigned",
            "pending",
            "в работе",
            "на рассмотрении",
            "рассматривается",
            "в процессе",
            "на исполнении",
        ],
    ),
    (
        "resolved",
        &[
            "resolved",
            "closed",
            "done",
            "completed",
            "решено",
            "решен",
            "решена",
            "закрыто",
            "закрыт",
            "закрыта",
            "выполнено",
            "исполнено",
            "дан ответ",
            "ответ дан",
        ],
    ),
    (
        "rejected",
        &[
            "rejected",
            "declined",
            "invalid",
            "duplicate",
            "отклонено",
            "отклонен",
            "отклонена",
            "отказано",
            "отказ",
            "не подлежит рассмотрению",
        ],
    ),
];

/// The contract status for a status word: открыто/открыт/новое/новый/зарегистрировано/принято,
/// Open/New/Opened → `new`; в работе/на рассмотрении/рассматривается/в процессе/на исполнении,
/// In Progress/Assigned/Pending → `in_progress`; решено/решен/закрыто/закрыт/выполнено/
/// исполнено/дан ответ/ответ дан, Closed/Resolved/Done/Completed → `resolved`; отклонено/
/// отказано/отказ/не подлежит рассмотрению, Rejected/Declined/Invalid/Duplicate → `rejected`
/// (also the feminine/masculine forms and the contract values themselves). Case-, ё- and
/// space-insensitive, `_`/`-` read as spaces, a trailing full stop ignored. Anything else comes
/// back as is (trimmed): unknown words are kept as text.
pub fn normalize_status(text: &str) -> String {
    let trimmed = text.trim();
    let lowered: String = trimmed
        .chars()
        .flat_map(char::to_lowercase)
        .map(|c| match c {
            'ё' => 'е',
            '_' | '-' => ' ',
            c => c,
        })
        .collect();
    let key = lowered
        .trim_end_matches(['.', '!'])
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    STATUS_WORDS
        .iter()
        .find(|(_, words)| words.contains(&key.as_str()))
        .map_or_else(|| trimmed.to_string(), |(value, _)| (*value).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    fn auto(headers: &[&str]) -> Mapping {
        Mapping::auto(&strings(headers))
    }

    fn mapped(m: &Mapping) -> Vec<(&'static str, &str)> {
        m.columns
            .iter()
            .map(|(f, c)| (f.key(), c.as_str()))
            .collect()
    }

    /// Each header alone maps to the field.
    fn assert_alone(field: Field, headers: &[&str]) {
        for h in headers {
            let m = auto(&[h]);
            assert_eq!(m.get(field), Some(*h), "{h} → {field}: {:?}", mapped(&m));
            assert_eq!(m.columns.len(), 1, "{h}: {:?}", mapped(&m));
        }
    }

    #[test]
    fn field_keys_round_trip() {
        for f in Field::ALL {
            assert_eq!(Field::from_key(f.key()), Some(f));
            assert_eq!(f.to_string(), f.key());
            let json = serde_json::to_string(&f).unwrap();
            assert_eq!(json, format!("\"{}\"", f.key()));
        }
        assert_eq!(Field::from_key(" Received-At "), Some(Field::ReceivedAt));
        assert_eq!(Field::from_key("lat lon"), Some(Field::LatLon));
        assert_eq!(Field::from_key("широта"), None);
        assert_eq!(Field::from_key(""), None);
    }

    #[test]
    fn synonyms_received_at() {
        assert_alone(
            Field::ReceivedAt,
            &[
                "Дата поступления",
                "Дата создания",
                "Дата регистрации",
                "Дата обращения",
                "дата  ПОСТУПЛЕНИЯ",
                "Дата_поступления",
                "Дата и время поступления обращения",
                "created_date",
                "Created Date",
                "OPEN_DT",
                "date",
                "received_at",
                "created_at",
                "createdAt",
                "opened",
                "requested_datetime",
            ],
        );
    }

    #[test]
    fn synonyms_category_and_subcategory() {
        assert_alone(
            Field::Category,
            &[
                "Категория",
                "Рубрика",
                "Тема",
                "Тема обращения",
                "complaint_type",
                "Complaint Type",
                "TYPE",
                "category",
                "REASON",
            ],
        );
        assert_alone(
            Field::Subcategory,
            &["Подкатегория", "Подрубрика", "Подтема", "descriptor"],
        );
        // REASON + TYPE: the coarse one is the category, the fine one the subcategory.
        let m = auto(&["TYPE", "REASON"]);
        assert_eq!(m.get(Field::Category), Some("REASON"));
        assert_eq!(m.get(Field::Subcategory), Some("TYPE"));
        // `Система` contains `тема` but is not a theme.
        assert!(auto(&["Система"]).columns.is_empty());
        let m = auto(&["Категория", "Подкатегория"]);
        assert_eq!(m.get(Field::Category), Some("Категория"));
        assert_eq!(m.get(Field::Subcategory), Some("Подкатегория"));
    }

    #[test]
    fn synonyms_places() {
        assert_alone(
            Field::Municipality,
            &[
                "Муниципальное образование",
                "Муниципалитет",
                "Район",
                "МО",
                "Городской округ",
                "borough",
                "municipality",
                "district",
                "DISTRICT",
                "Наименование МО",
            ],
        );
        for h in [
            "city_council_district",
            "police_district",
            "fire_district",
            "pwd_district",
        ] {
            assert!(auto(&[h]).columns.is_empty(), "{h}");
        }
        assert_alone(
            Field::Settlement,
            &["Населённый пункт", "Населенный пункт", "НП", "neighborhood"],
        );
        assert!(auto(&["neighborhood_services_district"]).columns.is_empty());
        assert_alone(
            Field::Address,
            &[
                "Адрес",
                "address",
                "incident_address",
                "Incident Address",
                "Location",
            ],
        );
        assert!(auto(&["Адрес электронной почты"]).columns.is_empty());
    }

    #[test]
    fn synonyms_coordinates() {
        for (lat, lon) in [
            ("Широта", "Долгота"),
            ("latitude", "longitude"),
            ("LATITUDE", "LONGITUDE"),
            ("lat", "lon"),
            ("lat", "lng"),
            ("Lat", "Long"),
            ("y", "x"),
        ] {
            let m = auto(&[lon, lat]);
            assert_eq!(m.get(Field::Lat), Some(lat), "{lat}");
            assert_eq!(m.get(Field::Lon), Some(lon), "{lon}");
        }
        // A lone latitude or longitude is useless and dropped.
        assert!(auto(&["Широта"]).columns.is_empty());
        assert!(auto(&["x"]).columns.is_empty());
        assert_alone(
            Field::LatLon,
            &[
                "Координаты",
                "location_wkt",
                "Geocoded_Location",
                "geometry",
                "wkt",
                "coordinates",
                "Широта, долгота",
                "lat_lon",
            ],
        );
        // With lat and lon columns, a combined column is redundant.
        let m = auto(&["Latitude", "Longitude", "Координаты"]);
        assert_eq!(m.get(Field::LatLon), None);
        assert!(
            auto(&["X Coordinate (State Plane)"]).columns.is_empty(),
            "NYC's projected X"
        );
    }

    #[test]
    fn synonyms_status_source_dates_text_ids() {
        assert_alone(
            Field::Status,
            &[
                "Статус",
                "status",
                "CASE_STATUS",
                "state",
                "Статус обращения",
            ],
        );
        assert!(auto(&["OnTime_Status"]).columns.is_empty());
        assert!(auto(&["Статус просрочки"]).columns.is_empty());
        assert_alone(
            Field::Source,
            &[
                "Источник",
                "Канал",
                "open_data_channel_type",
                "Open Data Channel Type",
                "Source",
                "channel",
                "Канал поступления",
            ],
        );
        assert_alone(
            Field::ResolvedAt,
            &[
                "Дата ответа",
                "Дата решения",
                "Дата закрытия",
                "closed_date",
                "CLOSED_DT",
                "resolution_date",
                "resolved_at",
                "Фактическая дата ответа",
            ],
        );
        assert!(auto(&["Плановая дата ответа"]).columns.is_empty());
        assert_alone(
            Field::Text,
            &[
                "Текст",
                "Текст обращения",
                "Описание",
                "text",
                "description",
                "CASE_TITLE",
            ],
        );
        assert!(auto(&["Текст ответа"]).columns.is_empty());
        assert!(auto(&["Resolution Description"]).columns.is_empty());
        assert_alone(
            Field::ExternalId,
            &[
                "Номер",
                "Номер обращения",
                "ID",
                "Идентификатор",
                "№",
                "№ обращения",
                "case_enquiry_id",
                "unique_key",
                "Unique Key",
                "external_id",
                "id",
                "case_id",
                "CaseID",
            ],
        );
        assert!(auto(&["№ п/п"]).columns.is_empty());
        assert!(auto(&["Номер телефона"]).columns.is_empty());
        // Generic loses to specific.
        let m = auto(&["id", "Номер обращения", "Дата", "Дата поступления"]);
        assert_eq!(m.get(Field::ExternalId), Some("Номер обращения"));
        assert_eq!(m.get(Field::ReceivedAt), Some("Дата поступления"));
    }

    const BOSTON: &str = "CASE_ENQUIRY_ID,OPEN_DT,CLOSED_DT,OnTime_Status,CASE_STATUS,REASON,TYPE,neighborhood,city_council_district,ward,LOCATION_ZIPCODE,LATITUDE,LONGITUDE,Source";

    fn boston_expected() -> Vec<(&'static str, &'static str)> {
        vec![
            ("external_id", "CASE_ENQUIRY_ID"),
            ("received_at", "OPEN_DT"),
            ("source", "Source"),
            ("category", "REASON"),
            ("subcategory", "TYPE"),
            ("settlement", "neighborhood"),
            ("lat", "LATITUDE"),
            ("lon", "LONGITUDE"),
            ("status", "CASE_STATUS"),
            ("resolved_at", "CLOSED_DT"),
        ]
    }

    #[test]
    fn boston_header_line() {
        let headers: Vec<String> = BOSTON.split(',').map(String::from).collect();
        let m = Mapping::auto(&headers);
        assert_eq!(mapped(&m), boston_expected());
        for unmapped in [
            "OnTime_Status",
            "city_council_district",
            "ward",
            "LOCATION_ZIPCODE",
        ] {
            assert!(!m.columns.values().any(|c| c == unmapped), "{unmapped}");
        }
        // The real rows agree.
        let rows: Vec<Vec<String>> = [
            "101001240734,01/01/2015 12:20:09 AM,01/02/2015 09:08:42 AM,ONTIME,Closed,Notification,Notification,Downtown / Financial District,8.0,Ward 5,2108.0,42.3574,-71.0648,Constituent Call",
            "101001240740,01/01/2015 01:45:37 AM,,ONTIME,Open,Animal Issues,Animal Found,West Roxbury,6.0,Ward 20,2132.0,42.2711,-71.1464,Constituent Call",
        ]
        .iter()
        .map(|l| l.split(',').map(String::from).collect())
        .collect();
        assert_eq!(
            mapped(&Mapping::auto_with_samples(&headers, &rows)),
            boston_expected()
        );
        let index = m.resolve(&headers).unwrap();
        assert_eq!(index[&Field::ExternalId], 0);
        assert_eq!(index[&Field::Source], 13);
        let row = &rows[0];
        assert_eq!(
            parse_timestamp_text(&row[index[&Field::ReceivedAt]]).unwrap(),
            "2015-01-01T00:20:09"
        );
        assert_eq!(normalize_status(&row[index[&Field::Status]]), "resolved");
    }

    #[test]
    fn russian_header_line() {
        let headers = strings(&[
            "№ п/п",
            "Номер обращения",
            "Дата поступления",
            "Источник",
            "Категория",
            "Подкатегория",
            "Муниципальное образование",
            "Населённый пункт",
            "Адрес",
            "Широта",
            "Долгота",
            "Статус",
            "Дата ответа",
            "Текст обращения",
            "Заявитель",
            "Телефон",
        ]);
        let m = Mapping::auto(&headers);
        assert_eq!(
            mapped(&m),
            vec![
                ("external_id", "Номер обращения"),
                ("received_at", "Дата поступления"),
                ("source", "Источник"),
                ("category", "Категория"),
                ("subcategory", "Подкатегория"),
                ("municipality", "Муниципальное образование"),
                ("settlement", "Населённый пункт"),
                ("address", "Адрес"),
                ("lat", "Широта"),
                ("lon", "Долгота"),
                ("status", "Статус"),
                ("resolved_at", "Дата ответа"),
                ("text", "Текст обращения"),
            ]
        );
        // A second style: one coordinates column, other names.
        let m = auto(&[
            "Дата регистрации",
            "Рубрика",
            "Подрубрика",
            "Район",
            "НП",
            "Координаты",
            "Канал",
            "Описание",
            "Идентификатор",
        ]);
        assert_eq!(
            mapped(&m),
            vec![
                ("external_id", "Идентификатор"),
                ("received_at", "Дата регистрации"),
                ("source", "Канал"),
                ("category", "Рубрика"),
                ("subcategory", "Подрубрика"),
                ("municipality", "Район"),
                ("settlement", "НП"),
                ("lat_lon", "Координаты"),
                ("text", "Описание"),
            ]
        );
    }

    #[test]
    fn nyc_header_line() {
        let headers: Vec<String> = "Unique Key,Created Date,Closed Date,Agency,Agency Name,Complaint Type,Descriptor,Location Type,Incident Zip,Incident Address,Street Name,Address Type,City,Status,Due Date,Resolution Description,Resolution Action Updated Date,Borough,X Coordinate (State Plane),Y Coordinate (State Plane),Open Data Channel Type,Park Borough,Latitude,Longitude,Location"
            .split(',')
            .map(String::from)
            .collect();
        let m = Mapping::auto(&headers);
        assert_eq!(
            mapped(&m),
            vec![
                ("external_id", "Unique Key"),
                ("received_at", "Created Date"),
                ("source", "Open Data Channel Type"),
                ("category", "Complaint Type"),
                ("subcategory", "Descriptor"),
                ("municipality", "Borough"),
                ("settlement", "City"),
                ("address", "Incident Address"),
                ("lat", "Latitude"),
                ("lon", "Longitude"),
                ("status", "Status"),
                ("resolved_at", "Closed Date"),
            ]
        );
    }

    #[test]
    fn samples_decide_location_and_reject_dates() {
        let headers = strings(&["Location", "date"]);
        // NYC: Location is "(lat, lon)".
        let rows = vec![
            strings(&["(40.71, -73.99)", "01/05/2021 10:00:00 AM"]),
            strings(&["", "01/06/2021 11:00:00 PM"]),
        ];
        let m = Mapping::auto_with_samples(&headers, &rows);
        assert_eq!(m.get(Field::LatLon), Some("Location"));
        assert_eq!(m.get(Field::Address), None);
        assert_eq!(m.get(Field::ReceivedAt), Some("date"));
        // Boston: Location is a street address; `date` holds no dates.
        let rows = vec![
            strings(&["INTERSECTION of Gibson St & Dorchester Ave", "Monday"]),
            strings(&["27 Wales St  Dorchester  MA  02124", "Tuesday"]),
        ];
        let m = Mapping::auto_with_samples(&headers, &rows);
        assert_eq!(m.get(Field::Address), Some("Location"));
        assert_eq!(m.get(Field::LatLon), None);
        assert_eq!(m.get(Field::ReceivedAt), None);
        // Headers only: an address (the safe guess).
        assert_eq!(
            Mapping::auto(&headers).get(Field::Address),
            Some("Location")
        );
        // Projected x/y are not degrees.
        let headers = strings(&["x", "y"]);
        let rows = vec![strings(&["1005432", "204321"])];
        assert!(
            Mapping::auto_with_samples(&headers, &rows)
                .columns
                .is_empty()
        );
        let rows = vec![strings(&["65,53", "57,15"])];
        assert_eq!(Mapping::auto_with_samples(&headers, &rows).columns.len(), 2);
        // Short rows and no rows are fine.
        let m = Mapping::auto_with_samples(&strings(&["Дата", "Адрес"]), &[vec![]]);
        assert_eq!(m.columns.len(), 2);
    }

    #[test]
    fn each_header_and_field_once() {
        let m = auto(&["Статус", "status", "Статус обращения", "OnTime_Status"]);
        assert_eq!(m.columns.len(), 1);
        assert_eq!(m.get(Field::Status), Some("Статус"));
        let headers: Vec<String> = BOSTON.split(',').map(String::from).collect();
        let m = Mapping::auto(&headers);
        let used: BTreeSet<&String> = m.columns.values().collect();
        assert_eq!(used.len(), m.columns.len());
    }

    #[test]
    fn overrides() {
        let headers: Vec<String> = BOSTON.split(',').map(String::from).collect();
        let m = Mapping::auto(&headers)
            .with_overrides(
                &strings(&[
                    "category=TYPE",
                    "municipality = neighborhood",
                    "subcategory=",
                    "status=ontime status",
                ]),
                &headers,
            )
            .unwrap();
        assert_eq!(m.get(Field::Category), Some("TYPE"));
        assert_eq!(m.get(Field::Subcategory), None);
        assert_eq!(m.get(Field::Municipality), Some("neighborhood"));
        // the override took `neighborhood` away from settlement
        assert_eq!(m.get(Field::Settlement), None);
        assert_eq!(m.get(Field::Status), Some("OnTime_Status"));
        assert_eq!(m.resolve(&headers).unwrap()[&Field::Status], 3);

        let err = |items: &[&str]| {
            Mapping::default()
                .with_overrides(&strings(items), &headers)
                .unwrap_err()
        };
        let e = err(&["colour=TYPE"]);
        assert!(matches!(e, MappingError::UnknownField { ref key, .. } if key == "colour"));
        assert!(e.to_string().contains("colour=TYPE"), "{e}");
        assert!(e.to_string().contains("received_at"), "{e}");
        let e = err(&["category=Тип"]);
        assert!(matches!(e, MappingError::NoSuchColumn { ref column, .. } if column == "Тип"));
        assert!(e.to_string().contains("`CASE_ENQUIRY_ID`"), "{e}");
        assert!(matches!(err(&["category"]), MappingError::BadItem { .. }));
        let e = Mapping::default()
            .with_overrides(&strings(&["text=a b"]), &strings(&["A_B", "a  b"]))
            .unwrap_err();
        assert!(matches!(e, MappingError::AmbiguousColumn { .. }), "{e}");
    }

    #[test]
    fn toml_round_trip() {
        let headers: Vec<String> = BOSTON.split(',').map(String::from).collect();
        let mut m = Mapping::auto(&headers);
        m.columns
            .insert(Field::Text, "Текст \"с кавычками\" \\ и\tтаб".to_string());
        let text = m.to_toml();
        assert!(text.contains("[map]"));
        assert!(text.contains("received_at = \"OPEN_DT\""));
        assert!(text.contains("# municipality = \"\""));
        assert_eq!(Mapping::from_toml(&text).unwrap(), m);
        assert_eq!(
            Mapping::from_toml(&Mapping::default().to_toml()).unwrap(),
            Mapping::default()
        );
        let m = Mapping::from_toml(
            "[map]\nreceived_at = 'Дата поступления'\nlat-lon = \"Координаты\"\n",
        )
        .unwrap();
        assert_eq!(m.get(Field::ReceivedAt), Some("Дата поступления"));
        assert_eq!(m.get(Field::LatLon), Some("Координаты"));
        // JSON works too (the app state is serde).
        let json = serde_json::to_string(&m).unwrap();
        assert_eq!(serde_json::from_str::<Mapping>(&json).unwrap(), m);

        for (bad, expect) in [
            ("[map\n", "mapping file"),
            ("received_at = \"x\"", "no [map]"),
            ("map = 5", "not a table"),
            ("[map]\nreceived_at = 5", "in quotes"),
            ("[map]\nwhen = \"x\"", "unknown field `when`"),
        ] {
            let e = Mapping::from_toml(bad).unwrap_err().to_string();
            assert!(e.contains(expect), "{bad}: {e}");
        }
    }

    #[test]
    fn resolve_columns() {
        let headers = strings(&["Номер", " Дата поступления ", "STATUS"]);
        let mut m = Mapping::default();
        m.columns
            .insert(Field::ReceivedAt, "Дата поступления".into());
        m.columns.insert(Field::Status, "status".into());
        let r = m.resolve(&headers).unwrap();
        assert_eq!(r[&Field::ReceivedAt], 1);
        assert_eq!(r[&Field::Status], 2);
        m.columns.insert(Field::Text, "Текст".into());
        m.columns.insert(Field::Lat, "Широта".into());
        let e = m.resolve(&headers).unwrap_err();
        let s = e.to_string();
        assert!(
            s.contains("lat = `Широта`") && s.contains("text = `Текст`"),
            "{s}"
        );
        assert!(s.contains("`Номер`"), "{s}");
        assert!(Mapping::default().resolve(&[]).unwrap().is_empty());
    }

    fn ts(s: &str) -> String {
        parse_timestamp_text(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn dates_iso() {
        assert_eq!(ts("2021-03-01"), "2021-03-01");
        assert_eq!(ts(" 2021-03-01T10:05 "), "2021-03-01T10:05:00");
        assert_eq!(ts("2021-03-01 10:05:07"), "2021-03-01T10:05:07");
        assert_eq!(ts("2021-03-01T10:05:07.999"), "2021-03-01T10:05:07");
        assert_eq!(ts("2021-03-01T23:30:00+05:00"), "2021-03-01T23:30:00+05:00");
        assert_eq!(ts("2021-03-01T23:30:00+0500"), "2021-03-01T23:30:00+05:00");
        assert_eq!(ts("2021-03-01T23:30:00-03"), "2021-03-01T23:30:00-03:00");
        assert_eq!(ts("2021-03-01T23:30:00Z"), "2021-03-01T23:30:00Z");
        assert_eq!(ts("2021-03-01 23:30 UTC"), "2021-03-01T23:30:00Z");
        assert_eq!(ts("2021/03/01"), "2021-03-01");
        assert_eq!(ts("2021/3/1 7:05"), "2021-03-01T07:05:00");
        assert_eq!(ts("2021.03.01"), "2021-03-01");
        assert_eq!(ts("20210301"), "2021-03-01");
    }

    #[test]
    fn dates_russian() {
        assert_eq!(ts("05.10.2021"), "2021-10-05");
        assert_eq!(ts("5.1.2021"), "2021-01-05");
        assert_eq!(ts("05.10.21"), "2021-10-05");
        assert_eq!(ts("05.10.2021 9:07"), "2021-10-05T09:07:00");
        assert_eq!(ts("05.10.2021 23:59:59"), "2021-10-05T23:59:59");
        assert_eq!(ts("05.10.2021, 10:00"), "2021-10-05T10:00:00");
        assert_eq!(ts("05.10.2021 г."), "2021-10-05");
        assert_eq!(ts("05.10.2021г. 10:00"), "2021-10-05T10:00:00");
        assert_eq!(ts("29.02.2024"), "2024-02-29");
    }

    #[test]
    fn dates_us() {
        assert_eq!(ts("01/01/2015 12:20:09 AM"), "2015-01-01T00:20:09");
        assert_eq!(ts("01/01/2015 12:20:09 PM"), "2015-01-01T12:20:09");
        assert_eq!(ts("01/01/2015 01:45:37 PM"), "2015-01-01T13:45:37");
        assert_eq!(ts("01/01/2015 11:59:59 pm"), "2015-01-01T23:59:59");
        assert_eq!(ts("12/31/2015 12:00 AM"), "2015-12-31T00:00:00");
        assert_eq!(ts("1/2/2015 9:05AM"), "2015-01-02T09:05:00");
        assert_eq!(ts("01/02/2015 21:05"), "2015-01-02T21:05:00");
        assert_eq!(ts("01/02/2015 21:05:06"), "2015-01-02T21:05:06");
        assert_eq!(ts("02/29/2024"), "2024-02-29");
        assert_eq!(ts("12/25/15"), "2015-12-25");
    }

    #[test]
    fn dates_excel() {
        assert_eq!(ts("1"), "1900-01-01");
        assert_eq!(ts("59"), "1900-02-28");
        assert_eq!(ts("61"), "1900-03-01");
        assert_eq!(ts("44197"), "2021-01-01");
        assert_eq!(ts("44197.5"), "2021-01-01T12:00:00");
        assert_eq!(ts("44197,75"), "2021-01-01T18:00:00");
        assert_eq!(ts("44197.99998843"), "2021-01-01T23:59:59");
        assert_eq!(ts("44197.9999999"), "2021-01-02T00:00:00");
        assert_eq!(ts("2958465"), "9999-12-31");
        for bad in [
            "60",
            "60.5",
            "0",
            "0.5",
            "2958466",
            "2958465.9999999",
            "-5",
            "1e5",
        ] {
            assert!(parse_timestamp_text(bad).is_err(), "{bad}");
        }
        assert!(
            parse_timestamp_text("60")
                .unwrap_err()
                .reason
                .contains("29 February 1900")
        );
    }

    #[test]
    fn dates_rejected() {
        for bad in [
            "",
            "   ",
            "31.02.2021",
            "02/29/2021",
            "2021-02-29",
            "2021-13-01",
            "13/01/2021",
            "00.01.2021",
            "05.10.2021 24:00",
            "05.10.2021 10:60",
            "05.10.2021 10:5",
            "01/01/2015 13:00:00 PM",
            "01/01/2015 00:30 AM",
            "2021-03-01T10:00+25:00",
            "2021-03-01T10:00 Moscow",
            "01-03-2021",
            "5.10.202",
            "вчера",
            "10:00",
            "2021-03-01T",
            "2021--03-01",
        ] {
            let r = parse_timestamp_text(bad);
            assert!(r.is_err(), "{bad}: {r:?}");
        }
        // Plain numbers are Excel serials, whatever they meant: a year alone is a 1905 date.
        assert_eq!(ts("2021"), "1905-07-13");
        assert_eq!(ts("12.05"), "1900-01-12T01:12:00");
        let e = parse_timestamp_text("31.02.2021").unwrap_err();
        assert!(e.reason.contains("no such date"), "{e}");
        assert_eq!(e.value, "31.02.2021");
        // Every result is what the contract's reader accepts.
        for s in ["05.10.2021 23:30", "2021-03-01T23:30:00+0500", "44197.5"] {
            assert!(crate::data::parse_timestamp(&ts(s)).is_some(), "{s}");
        }
    }

    #[test]
    fn degrees() {
        assert_eq!(parse_degrees("57.15").unwrap(), 57.15);
        assert_eq!(parse_degrees(" 57,15 ").unwrap(), 57.15);
        assert_eq!(parse_degrees("57.15°").unwrap(), 57.15);
        assert_eq!(parse_degrees("-71.0648").unwrap(), -71.0648);
        assert_eq!(parse_degrees("−71,5").unwrap(), -71.5);
        assert_eq!(parse_degrees("+65").unwrap(), 65.0);
        assert_eq!(parse_degrees("71.5 W").unwrap(), -71.5);
        assert_eq!(parse_degrees("33.9°S").unwrap(), -33.9);
        for bad in [
            "", "abc", "NaN", "nan", "inf", "-inf", "Infinity", "1e5", "57.1.5", "57,1.5", ".5",
            "-", "°", "N", "-5 S", "5 5",
        ] {
            assert!(parse_degrees(bad).is_err(), "{bad}");
        }
        let huge = "9".repeat(400);
        assert!(parse_degrees(&huge).is_err());
    }

    #[test]
    fn lat_lon_forms() {
        let p = |s: &str| parse_lat_lon(s).unwrap_or_else(|e| panic!("{s}: {e}"));
        let tyumen = (65.53, 57.15);
        for s in [
            "57.15, 65.53",
            "57.15,65.53",
            "57.15 65.53",
            "57,15; 65,53",
            "57,15;65,53",
            "57,15 65,53",
            "57,15, 65,53",
            "(57.15, 65.53)",
            " ( 57.15 , 65.53 ) ",
            "POINT(65.53 57.15)",
            "POINT (65.53 57.15)",
            "point(65.53 57.15)",
            "POINT Z (65.53 57.15 120)",
            "SRID=4326;POINT(65.53 57.15)",
            "[65.53, 57.15]",
            "[65.53,57.15,100]",
            "{\"type\":\"Point\",\"coordinates\":[65.53,57.15]}",
            "57.15N 65.53E",
            "65.53E, 57.15N",
            "57.15°, 65.53°",
        ] {
            assert_eq!(p(s), tyumen, "{s}");
        }
        assert_eq!(p("(42.3574, -71.0648)"), (-71.0648, 42.3574));
        assert_eq!(p("57, 65"), (65.0, 57.0));
        for bad in [
            "",
            "57,15",
            "57,65",
            "57,15,65,53",
            "57.15",
            "57.15, 65.53, 3",
            "95.0, 65.53",
            "57.15, 190",
            "POINT(190 57)",
            "POINT(65.53)",
            "POINT EMPTY",
            "POINT(65.53 57.15",
            "[65,53, 57,15]",
            "{\"type\":\"LineString\",\"coordinates\":[[1,2],[3,4]]}",
            "{not json",
            "NaN, NaN",
            "57.15N 65.53N",
            "Тюмень, ул. Мира, 12",
            "SRID=4326",
        ] {
            assert!(
                parse_lat_lon(bad).is_err(),
                "{bad}: {:?}",
                parse_lat_lon(bad)
            );
        }
        assert!(
            parse_lat_lon("57,15")
                .unwrap_err()
                .reason
                .contains("ambiguous")
        );
    }

    #[test]
    fn statuses() {
        for (word, expected) in [
            ("открыто", "new"),
            ("Открыт", "new"),
            ("новое", "new"),
            ("Новый", "new"),
            ("зарегистрировано", "new"),
            ("Принято", "new"),
            ("Open", "new"),
            ("NEW", "new"),
            ("Opened", "new"),
            ("new", "new"),
            ("В работе", "in_progress"),
            ("на  рассмотрении", "in_progress"),
            ("рассматривается", "in_progress"),
            ("в процессе", "in_progress"),
            ("На исполнении", "in_progress"),
            ("In Progress", "in_progress"),
            ("in_progress", "in_progress"),
            ("Assigned", "in_progress"),
            ("pending", "in_progress"),
            ("Решено", "resolved"),
            ("решён", "resolved"),
            ("решен", "resolved"),
            ("Закрыто", "resolved"),
            ("закрыт.", "resolved"),
            ("выполнено", "resolved"),
            ("Исполнено", "resolved"),
            ("Дан ответ", "resolved"),
            ("ответ дан", "resolved"),
            ("Closed", "resolved"),
            ("RESOLVED", "resolved"),
            ("Done", "resolved"),
            ("Completed", "resolved"),
            ("Отклонено", "rejected"),
            ("отказано", "rejected"),
            ("Отказ", "rejected"),
            ("Не подлежит рассмотрению", "rejected"),
            ("Rejected", "rejected"),
            ("Declined", "rejected"),
            ("invalid", "rejected"),
            ("Duplicate", "rejected"),
        ] {
            assert_eq!(normalize_status(word), expected, "{word}");
            assert_eq!(normalize_status(&format!("  {word} ")), expected, "{word}");
        }
        assert_eq!(normalize_status("  На контроле "), "На контроле");
        assert_eq!(normalize_status("ONTIME"), "ONTIME");
        assert_eq!(normalize_status(""), "");
        assert_eq!(normalize_status("   "), "");
    }

    #[test]
    fn no_panics_on_odd_input() {
        let odd = [
            "",
            " ",
            "\u{feff}",
            "\0",
            "ё",
            "№",
            "°",
            "−",
            "г.",
            "T",
            ",",
            ";",
            "(",
            ")",
            "()",
            "[]",
            "{}",
            "[",
            "POINT",
            "POINT(",
            "POINT()",
            "POINT ZM",
            "SRID=;",
            "SRID=4326;",
            "null",
            "{\"coordinates\":null}",
            "{\"geometry\":{\"coordinates\":[1e400,2]}}",
            "99999999999999999999",
            "1.",
            ".1",
            "1,",
            "00000000",
            "99999999",
            "1/1/1",
            "1.1.1",
            "////",
            "....",
            "----",
            "2021-03-01T99:99:99+99:99",
            "01/01/2015 12:00 AMPM",
            "01/01/2015 12:00 a.m.",
            "05.10.2021 в 10:00",
            "5.10.2021г",
            "2958465.5",
            "59.9999999",
            "𝟙𝟚.𝟘𝟛.𝟚𝟘𝟚𝟙",
            "١٢٫٣",
            "ǅ",
            "İstanbul",
            "ß",
            "a\u{301}",
            "🙂, 🙂",
            "57.15\u{a0}65.53",
            "57,15\u{2009},65,53",
        ];
        let long = "9".repeat(10_000);
        let long_date = format!("01.01.2021 {}", "1".repeat(1000));
        let mut inputs: Vec<&str> = odd.to_vec();
        inputs.push(&long);
        inputs.push(&long_date);
        for s in &inputs {
            let _ = parse_timestamp_text(s);
            let _ = parse_degrees(s);
            let _ = parse_lat_lon(s);
            let _ = normalize_status(s);
            let _ = Field::from_key(s);
            let headers = vec![s.to_string(), format!("{s}_{s}"), "Дата".to_string()];
            let rows = vec![vec![s.to_string()], vec![], headers.clone()];
            let m = Mapping::auto_with_samples(&headers, &rows);
            let _ = m.resolve(&headers);
            let _ = Mapping::from_toml(s);
            let _ = Mapping::from_toml(&m.to_toml());
            let _ = Mapping::default().with_overrides(&[s.to_string()], &headers);
            let _ = Mapping::default().with_overrides(&[format!("text={s}")], &headers);
        }
        // Results that come back are always in the contract's form.
        for s in &inputs {
            if let Ok(out) = parse_timestamp_text(s) {
                assert!(crate::data::parse_timestamp(&out).is_some(), "{s} → {out}");
            }
            if let Ok((lon, lat)) = parse_lat_lon(s) {
                assert!(
                    lon.is_finite() && lat.is_finite() && lat.abs() <= 90.0 && lon.abs() <= 180.0
                );
            }
        }
    }
}
