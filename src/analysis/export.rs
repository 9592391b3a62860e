//! Exports of aggregates for meetings and reports (`teplokarta export`): the table behind a view
//! (one row per municipality or problem zone), k-anonymity over it, and the provenance that lets
//! a figure be checked later (filter, data timestamp, short hashes of the data snapshot and of
//! the settings, version). Writers for CSV and GeoJSON. Only aggregates ever reach these
//! tables: no appeal text, address, author or individual point.

use std::fmt::Write as _;

use serde::Serialize;
use serde_json::{Map, Value};
use sha2::{Digest as _, Sha256};

use crate::data::Appeals;

/// The k of k-anonymity when none is given: units with 1 or 2 appeals are not shown.
pub const DEFAULT_K: u64 = 3;

/// Hex digits of a short hash (48 bits: enough to tell snapshots apart, short enough to read
/// out in a meeting).
pub const SHORT_HASH_LEN: usize = 12;

/// Decimal places of a zone's point position in an export (0.01° ≈ 1 km): a point zone's
/// position is the mean of its appeals' points, which must not reveal one of them.
pub const POINT_DECIMALS: i32 = 2;

/// One unit of an export (a municipality or a problem zone) with its figures.
#[derive(Clone, Debug, PartialEq)]
pub struct ExportRow {
    pub name: String,
    /// Appeals in the unit for the filter.
    pub count: u64,
    /// The figures of [`ExportTable::columns`], in order (`Null` is "no data").
    pub fields: Vec<Value>,
    /// WGS84 geometry for GeoJSON (`None`: a unit with no place, such as "unknown").
    pub geometry: Option<geojson::Geometry>,
}

/// What k-anonymity did to a table.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Suppression {
    pub k: u64,
    /// Units with 1..k-1 appeals merged into the "other" row (its count is at least k).
    pub merged_units: usize,
    /// Appeals of the merged units (the "other" row), when there is one.
    pub merged_count: Option<u64>,
    /// Units with 1..k-1 appeals left out entirely (together fewer than k, so even their sum
    /// would disclose too much).
    pub hidden_units: usize,
}

/// The aggregates behind a view, after k-anonymity.
#[derive(Clone, Debug, PartialEq)]
pub struct ExportTable {
    /// `choropleth` or `problems`.
    pub layer: &'static str,
    /// Names of the figures after `name` and `count`.
    pub columns: Vec<String>,
    pub rows: Vec<ExportRow>,
    pub suppression: Suppression,
}

/// Applies k-anonymity: a unit with 1..k-1 appeals is not shown with its count or any of its
/// figures; such units are merged into one "other" bucket whose count is their sum when that
/// sum is at least k, else left out entirely. Units with 0 or at least k appeals stay as they
/// are, in order. `k` of 0 or 1 suppresses nothing.
pub fn apply_k(rows: Vec<ExportRow>, k: u64) -> (Vec<ExportRow>, Suppression) {
    let mut kept = Vec::with_capacity(rows.len());
    let mut small_units = 0usize;
    let mut small_sum = 0u64;
    for row in rows {
        if row.count > 0 && row.count < k {
            small_units += 1;
            small_sum += row.count;
        } else {
            kept.push(row);
        }
    }
    let merged = small_units > 0 && small_sum >= k;
    let suppression = Suppression {
        k,
        merged_units: if merged { small_units } else { 0 },
        merged_count: merged.then_some(small_sum),
        hidden_units: if merged { 0 } else { small_units },
    };
    (kept, suppression)
}

/// Whether a figure derived from `count` appeals (a per-capita rate, a share, a change against
/// a previous count) must be withheld: it would disclose a count of 1..k-1.
pub fn discloses(count: u64, k: u64) -> bool {
    count > 0 && count < k
}

/// Hides the cells of a density surface (appeals/km²) that fewer than `k` appeals reach: a
/// surface of a sparse filter would otherwise show where its few appeals are. `reach_per_km2`
/// is the surface of the same points with the uniform kernel of the same radius, so that
/// `reach × π r²` is the number of appeals within the radius of the cell. Returns the number
/// of cells hidden.
pub fn hide_cells_under_k(
    values: &mut [f32],
    reach_per_km2: &[f32],
    radius_m: f64,
    k: u64,
) -> usize {
    let disc_km2 = std::f64::consts::PI * (radius_m / 1000.0).powi(2);
    let mut hidden = 0;
    for (v, reach) in values.iter_mut().zip(reach_per_km2) {
        let appeals = f64::from(*reach) * disc_km2;
        // Half an appeal of slack for the rounding of the binned (fast) surface.
        if *v > 0.0 && appeals < k as f64 - 0.5 {
            *v = 0.0;
            hidden += 1;
        }
    }
    hidden
}

/// A municipality as the choropleth shows it, before k-anonymity.
#[derive(Clone, Debug, PartialEq)]
pub struct ChoroplethUnit {
    pub name: String,
    pub count: u64,
    /// Appeals in the previous period (only for the change metric).
    pub previous_count: Option<u64>,
    /// The metric's value (`None`: "no data").
    pub value: Option<f64>,
    /// Residents, where known.
    pub population: Option<u32>,
    pub geometry: Option<geojson::Geometry>,
    /// Period A of a comparison (the unit's own figures are period B's).
    pub compare: Option<UnitComparison>,
}

/// A municipality's figures in period A of a comparison, and the difference B − A.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct UnitComparison {
    pub count_a: u64,
    /// The metric's value in period A.
    pub value_a: Option<f64>,
    /// B − A of the difference's metric ([`super::compare::difference_metric`]).
    pub difference: Option<f64>,
}

/// The metric's column name in an export (`None` for the count, already a column).
pub fn metric_column(metric: super::Metric) -> Option<&'static str> {
    match metric {
        super::Metric::Count => None,
        super::Metric::Per10k => Some("per10k"),
        super::Metric::Unresolved => Some("unresolved_pct"),
        super::Metric::Change => Some("change_pct"),
    }
}

fn number(x: f64) -> Value {
    if x.is_finite() && x.fract() == 0.0 && x.abs() < 9.0e15 {
        Value::from(x as i64)
    } else {
        serde_json::Number::from_f64(x).map_or(Value::Null, Value::Number)
    }
}

/// Rounds to `digits` decimals (for values shown as the legend shows them).
fn rounded(x: f64, digits: i32) -> f64 {
    let scale = 10f64.powi(digits);
    (x * scale).round() / scale
}

/// The choropleth's table: one row per municipality (most appeals first, then by name) with
/// the metric's value, its legend class (1-based) and the class bounds, and the population;
/// then k-anonymity. A change against a previous count of 1..k-1 is withheld too. In a
/// comparison (units with [`ChoroplethUnit::compare`]) the columns `count_a`, the metric's
/// value in A (`…_a`) and `difference` (B − A) follow; A's figures and the difference are
/// withheld when A's count is 1..k-1.
pub fn choropleth_table(
    units: Vec<ChoroplethUnit>,
    metric: super::Metric,
    breaks: &[f64],
    k: u64,
) -> ExportTable {
    let mut columns: Vec<String> = Vec::new();
    columns.extend(metric_column(metric).map(str::to_owned));
    columns.extend(["class", "class_from", "class_to", "population"].map(str::to_owned));
    let comparing = units.iter().any(|u| u.compare.is_some());
    if comparing {
        columns.push("count_a".to_owned());
        columns.extend(metric_column(metric).map(|m| format!("{m}_a")));
        columns.push("difference".to_owned());
    }
    let mut units = units;
    units.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.name.cmp(&b.name)));
    let rows = units
        .into_iter()
        .map(|u| {
            let withheld = metric == super::Metric::Change
                && u.previous_count.is_some_and(|p| discloses(p, k));
            let value = u.value.filter(|_| !withheld);
            let class = value.and_then(|v| super::class_of(v, breaks));
            let bound = |c: usize| {
                breaks
                    .get(c)
                    .map_or(Value::Null, |b| number(rounded(*b, 2)))
            };
            let mut fields = Vec::new();
            if metric_column(metric).is_some() {
                fields.push(value.map_or(Value::Null, |v| number(rounded(v, 2))));
            }
            fields.push(class.map_or(Value::Null, |c| Value::from(c + 1)));
            fields.push(class.map_or(Value::Null, bound));
            fields.push(class.map_or(Value::Null, |c| bound(c + 1)));
            fields.push(u.population.map_or(Value::Null, Value::from));
            if comparing {
                let a = u.compare.filter(|a| !discloses(a.count_a, k));
                fields.push(a.map_or(Value::Null, |a| Value::from(a.count_a)));
                if metric_column(metric).is_some() {
                    fields.push(
                        a.and_then(|a| a.value_a)
                            .map_or(Value::Null, |v| number(rounded(v, 2))),
                    );
                }
                fields.push(
                    a.and_then(|a| a.difference)
                        .map_or(Value::Null, |v| number(rounded(v, 2))),
                );
            }
            ExportRow {
                name: u.name,
                count: u.count,
                fields,
                geometry: u.geometry,
            }
        })
        .collect();
    let (rows, suppression) = apply_k(rows, k);
    ExportTable {
        layer: "choropleth",
        columns,
        rows,
        suppression,
    }
}

/// Fields of the problem map's export ([`super::problem_export::FIELDS`]) left out here: the
/// date of a zone's last appeal is one appeal's date.
pub const PROBLEM_FIELDS_LEFT_OUT: &[&str] = &["last_appeal"];

/// Errors of reading the problem map's own GeoJSON back.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("the problem map's GeoJSON cannot be read back: {0}")]
    ProblemGeoJson(String),
    #[error("writing the CSV: {0}")]
    Csv(#[from] csv::Error),
}

fn round_point(geometry: &mut geojson::Geometry) {
    if let geojson::GeometryValue::Point { coordinates } = &mut geometry.value {
        for c in coordinates.as_slice_mut() {
            *c = rounded(*c, POINT_DECIMALS);
        }
    }
}

/// A zone's counts per time slice (`4;1;0;7`) with every count of 1..k-1 written `<k`: a
/// zone × slice cell is a unit of its own.
pub fn masked_series(series: &str, k: u64) -> String {
    series
        .split(';')
        .map(|item| match item.trim().parse::<u64>() {
            Ok(n) if discloses(n, k) => format!("<{k}"),
            _ => item.to_owned(),
        })
        .collect::<Vec<_>>()
        .join(";")
}

/// The problem map's table from its own GeoJSON ([`super::problem_export::problems_geojson`]):
/// one row per zone with the problem list's figures (the count is `appeals`), point positions
/// rounded to [`POINT_DECIMALS`], [`PROBLEM_FIELDS_LEFT_OUT`] dropped, the per-slice series
/// masked by [`masked_series`]; then k-anonymity.
///
/// # Errors
/// The text is not the problem map's GeoJSON.
pub fn problems_table(problems_geojson: &str, k: u64) -> Result<ExportTable, ExportError> {
    use super::problem_export::FIELDS;
    let collection: geojson::FeatureCollection = problems_geojson
        .parse::<geojson::GeoJson>()
        .map_err(|e| ExportError::ProblemGeoJson(e.to_string()))?
        .try_into()
        .map_err(|e: geojson::Error| ExportError::ProblemGeoJson(e.to_string()))?;
    let columns: Vec<String> = FIELDS
        .iter()
        .filter(|f| !matches!(**f, "name" | "appeals") && !PROBLEM_FIELDS_LEFT_OUT.contains(f))
        .map(|f| (*f).to_owned())
        .collect();
    let mut rows = Vec::with_capacity(collection.features.len());
    for feature in collection.features {
        let properties = feature.properties.unwrap_or_default();
        let count = properties
            .get("appeals")
            .and_then(Value::as_u64)
            .ok_or_else(|| ExportError::ProblemGeoJson("a zone without `appeals`".into()))?;
        let mut geometry = feature.geometry;
        let is_point = geometry
            .as_ref()
            .is_some_and(|g| matches!(g.value, geojson::GeometryValue::Point { .. }));
        if let Some(g) = geometry.as_mut() {
            round_point(g);
        }
        let fields = columns
            .iter()
            .map(|c| {
                let v = properties.get(c).cloned().unwrap_or(Value::Null);
                match (c.as_str(), v.as_f64()) {
                    ("lon" | "lat", Some(x)) if is_point || geometry.is_none() => {
                        number(rounded(x, POINT_DECIMALS))
                    }
                    ("series", _) => v
                        .as_str()
                        .map_or(v.clone(), |text| Value::String(masked_series(text, k))),
                    _ => v,
                }
            })
            .collect();
        rows.push(ExportRow {
            name: properties
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            count,
            fields,
            geometry,
        });
    }
    let (rows, suppression) = apply_k(rows, k);
    Ok(ExportTable {
        layer: "problems",
        columns,
        rows,
        suppression,
    })
}

/// The first [`SHORT_HASH_LEN`] hex digits of the SHA-256 of `bytes`.
pub fn short_hash(bytes: &[u8]) -> String {
    short_hex(&Sha256::digest(bytes))
}

/// The first [`SHORT_HASH_LEN`] hex digits of a digest.
fn short_hex(digest: &[u8]) -> String {
    let mut hex = String::with_capacity(64);
    for b in digest {
        let _ = write!(hex, "{b:02x}");
    }
    hex.truncate(SHORT_HASH_LEN);
    hex
}

/// Short hash of a data snapshot: every loaded field of every row (id, times, source,
/// category, subcategory, municipality, settlement, address, status, coordinates and their
/// placement), rows in id order, as text with separators. It does not depend on the file's
/// bytes (a `VACUUM` keeps it) but changes when any row is added, removed or edited.
pub fn data_hash(appeals: &Appeals) -> String {
    data_stamp(appeals).hash
}

/// The [`data_hash`] of `appeals` and their newest receipt.
pub fn data_stamp(appeals: &Appeals) -> DataStamp {
    let mut hasher = DataHasher::default();
    hasher.add(appeals);
    hasher.finish()
}

/// What identifies the data of an export: its [`data_hash`] and the newest receipt among its
/// rows (`YYYY-MM-DD HH:MM:SS`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DataStamp {
    pub hash: String,
    pub as_of: Option<String>,
}

/// A [`data_hash`] computed batch by batch: batches added in `id` order (each sorted here)
/// give the hash of all their rows at once, so a table larger than memory is hashed one batch
/// at a time.
#[derive(Default)]
pub struct DataHasher {
    hasher: Sha256,
    line: String,
    newest: Option<jiff::civil::DateTime>,
}

impl DataHasher {
    /// Adds the rows of `appeals` (ids not below the previous batches').
    pub fn add(&mut self, appeals: &Appeals) {
        let mut order: Vec<usize> = (0..appeals.len()).collect();
        order.sort_by_key(|&i| (appeals.id.get(i).copied().unwrap_or(0), i));
        if let Some((_, last)) = appeals.received_range() {
            self.newest = Some(self.newest.map_or(last, |n| n.max(last)));
        }
        let line = &mut self.line;
        for i in order {
            line.clear();
            let name = |dict: &crate::data::Dict, code: Option<u32>| {
                code.map_or(String::from("\u{0}"), |c| dict.name(c).to_owned())
            };
            let time = |t: Option<&Option<jiff::civil::DateTime>>| {
                t.copied()
                    .flatten()
                    .map_or(String::from("\u{0}"), |t| t.to_string())
            };
            let placement = appeals.placement.get(i);
            let coordinate = |v: Option<&f64>| match (placement, v) {
                (Some(crate::data::Placement::Placed), Some(x)) => format!("{:016x}", x.to_bits()),
                _ => String::new(),
            };
            let fields = [
                appeals.id.get(i).map_or(String::new(), i64::to_string),
                time(appeals.received.get(i)),
                time(appeals.resolved.get(i)),
                name(&appeals.sources, appeals.source.get(i).copied()),
                name(&appeals.categories, appeals.category.get(i).copied()),
                name(
                    &appeals.subcategories,
                    appeals.subcategory.get(i).copied().flatten(),
                ),
                name(
                    &appeals.municipalities,
                    appeals.municipality.get(i).copied().flatten(),
                ),
                name(
                    &appeals.settlements,
                    appeals.settlement.get(i).copied().flatten(),
                ),
                name(
                    &appeals.addresses,
                    appeals.address.get(i).copied().flatten(),
                ),
                name(&appeals.statuses, appeals.status.get(i).copied()),
                coordinate(appeals.lon.get(i)),
                coordinate(appeals.lat.get(i)),
                placement.map_or(String::new(), |p| format!("{p:?}")),
                appeals
                    .row_flags
                    .get(i)
                    .map_or(String::new(), u8::to_string),
            ];
            for f in &fields {
                line.push_str(f);
                line.push('\u{1f}');
            }
            line.push('\u{1e}');
            self.hasher.update(line.as_bytes());
        }
    }

    /// The hash of every row added, and the newest receipt.
    pub fn finish(self) -> DataStamp {
        DataStamp {
            hash: short_hex(&self.hasher.finalize()),
            as_of: self
                .newest
                .map(|t| t.strftime("%Y-%m-%d %H:%M:%S").to_string()),
        }
    }
}

/// Everything that decides an export's figures besides the data. Its canonical JSON (fields in
/// this order, sets sorted) is what [`ExportSettings::hash`] hashes.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ExportSettings {
    pub filter: super::Filter,
    /// `choropleth` or `problems`.
    pub layer: String,
    /// Metric of the choropleth (`count`, `per10k`, `unresolved`, `change`).
    pub metric: Option<String>,
    /// Class breaks method and number of classes of the choropleth.
    pub classification: Option<String>,
    pub classes: Option<usize>,
    /// Problem profile id, zoning and hexagon size of the problem map.
    pub profile: Option<String>,
    pub zones: Option<String>,
    pub cell_km: Option<f64>,
    pub k: u64,
    /// `schematic` or the boundaries file's name.
    pub boundaries: String,
    /// A comparison of two periods on the map: the mode and period A (`None`: none; left out
    /// of the hash then, so exports without one keep their hashes).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compare: Option<String>,
}

impl ExportSettings {
    /// Short hash of the settings.
    pub fn hash(&self) -> String {
        short_hash(serde_json::to_string(self).unwrap_or_default().as_bytes())
    }
}

/// Where an export's figures come from, written into every file.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Provenance {
    /// The filter in words (as the title bar says it).
    pub filter: String,
    /// The latest `received_at` in the data (local time), `YYYY-MM-DD HH:MM:SS`.
    pub data_as_of: Option<String>,
    /// [`data_hash`] of the loaded rows.
    pub data_hash: String,
    /// [`ExportSettings::hash`].
    pub settings_hash: String,
    /// The settings themselves, so the figure can be reproduced.
    pub settings: ExportSettings,
    /// Teplokarta's version.
    pub version: String,
    /// What k-anonymity did.
    pub suppression: Suppression,
}

impl Provenance {
    /// The provenance of `table` exported from `appeals` with `settings`.
    pub fn new(
        filter_in_words: String,
        appeals: &Appeals,
        settings: ExportSettings,
        table: &ExportTable,
    ) -> Self {
        Self::with_data_stamp(filter_in_words, data_stamp(appeals), settings, table)
    }

    /// As [`Self::new`] with the data's [`DataStamp`] already computed (it reads every row, so
    /// exports of several pages or frames of the same data compute it once; a table grouped
    /// in the database has it from a pass over its rows).
    pub fn with_data_stamp(
        filter_in_words: String,
        stamp: DataStamp,
        settings: ExportSettings,
        table: &ExportTable,
    ) -> Self {
        Self {
            filter: filter_in_words,
            data_as_of: stamp.as_of,
            data_hash: stamp.hash,
            settings_hash: settings.hash(),
            settings,
            version: env!("CARGO_PKG_VERSION").to_owned(),
            suppression: table.suppression.clone(),
        }
    }

    /// One line for a caption: filter · data as of · hashes · version · k.
    pub fn line(&self, english: bool) -> String {
        let (as_of, data, settings, k) = if english {
            ("data as of", "data", "settings", "k-anonymity")
        } else {
            ("данные на", "данные", "настройки", "k-анонимность")
        };
        format!(
            "{} · {as_of} {} · {data} {} · {settings} {} · Teplokarta {} · {k}: k = {}",
            self.filter,
            self.data_as_of.as_deref().unwrap_or("—"),
            self.data_hash,
            self.settings_hash,
            self.version,
            self.suppression.k
        )
    }
}

/// Name of the merged bucket: "other (fewer than 3 each)".
pub fn other_name(k: u64, english: bool) -> String {
    if english {
        format!("other (fewer than {k} each)")
    } else {
        format!("прочие (меньше {k} в каждой)")
    }
}

/// Provenance columns of the CSV, repeated on every row (so a row copied elsewhere keeps them).
pub const PROVENANCE_COLUMNS: &[&str] = &[
    "title",
    "provenance",
    "filter",
    "data_as_of",
    "data_hash",
    "settings_hash",
    "teplokarta_version",
    "k",
    "merged_units",
    "hidden_units",
];

fn csv_cell(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The table as CSV for Excel and GIS: UTF-8 with a byte-order mark (so Excel reads Cyrillic),
/// comma-separated, a header row `name, count, <columns>, <provenance columns>`, one row per
/// unit, then the "other" row when units were merged. The provenance columns hold the same
/// values on every row.
///
/// # Errors
/// The CSV writer fails (it writes to memory, so only on a bug).
pub fn to_csv(
    table: &ExportTable,
    provenance: &Provenance,
    title: &str,
    english: bool,
) -> Result<Vec<u8>, ExportError> {
    let mut w = csv::Writer::from_writer(b"\xEF\xBB\xBF".to_vec());
    let mut header = vec!["name".to_owned(), "count".to_owned()];
    header.extend(table.columns.iter().cloned());
    header.extend(PROVENANCE_COLUMNS.iter().map(|c| (*c).to_owned()));
    w.write_record(&header)?;
    let s = &provenance.suppression;
    let tail = [
        title.to_owned(),
        provenance.line(english),
        provenance.filter.clone(),
        provenance.data_as_of.clone().unwrap_or_default(),
        provenance.data_hash.clone(),
        provenance.settings_hash.clone(),
        provenance.version.clone(),
        s.k.to_string(),
        s.merged_units.to_string(),
        s.hidden_units.to_string(),
    ];
    for row in &table.rows {
        let mut record = vec![row.name.clone(), row.count.to_string()];
        record.extend(row.fields.iter().map(csv_cell));
        record.extend(tail.iter().cloned());
        w.write_record(&record)?;
    }
    if let Some(count) = s.merged_count {
        let mut record = vec![other_name(s.k, english), count.to_string()];
        record.extend(table.columns.iter().map(|_| String::new()));
        record.extend(tail.iter().cloned());
        w.write_record(&record)?;
    }
    w.into_inner()
        .map_err(|e| ExportError::Csv(csv::Error::from(e.into_error())))
}

/// The table as a GeoJSON FeatureCollection (WGS84): one feature per unit with `name`, `count`
/// and the columns as properties; the top-level members `title`, `provenance` (the
/// [`Provenance`] with its one-line form) and `other` (the merged bucket: name, count, units;
/// `null` when nothing was merged).
pub fn to_geojson(
    table: &ExportTable,
    provenance: &Provenance,
    title: &str,
    english: bool,
) -> String {
    let features = table
        .rows
        .iter()
        .map(|row| {
            let mut properties = Map::new();
            properties.insert("name".into(), Value::String(row.name.clone()));
            properties.insert("count".into(), Value::from(row.count));
            for (c, v) in table.columns.iter().zip(&row.fields) {
                properties.insert(c.clone(), v.clone());
            }
            geojson::Feature {
                bbox: None,
                geometry: row.geometry.clone(),
                id: None,
                properties: Some(properties),
                foreign_members: None,
            }
        })
        .collect();
    let mut members = Map::new();
    members.insert("title".into(), Value::String(title.to_owned()));
    let mut p = serde_json::to_value(provenance).unwrap_or(Value::Null);
    if let Value::Object(map) = &mut p {
        map.insert("line".into(), Value::String(provenance.line(english)));
    }
    members.insert("provenance".into(), p);
    let s = &provenance.suppression;
    members.insert(
        "other".into(),
        s.merged_count.map_or(Value::Null, |count| {
            serde_json::json!({
                "name": other_name(s.k, english),
                "count": count,
                "units": s.merged_units,
            })
        }),
    );
    geojson::FeatureCollection {
        bbox: None,
        features,
        foreign_members: Some(members),
    }
    .to_string()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::analysis::Metric;

    fn row(name: &str, count: u64) -> ExportRow {
        ExportRow {
            name: name.into(),
            count,
            fields: vec![Value::from(count * 10)],
            geometry: None,
        }
    }

    #[test]
    fn small_units_merge_when_their_sum_reaches_k() {
        let rows = vec![
            row("a", 10),
            row("b", 1),
            row("c", 0),
            row("d", 2),
            row("e", 3),
        ];
        let (kept, s) = apply_k(rows, 3);
        let names: Vec<&str> = kept.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["a", "c", "e"], "zero and ≥ k stay, in order");
        assert_eq!(s.merged_units, 2);
        assert_eq!(s.merged_count, Some(3));
        assert_eq!(s.hidden_units, 0);
    }

    #[test]
    fn small_units_are_hidden_when_their_sum_is_under_k() {
        let (kept, s) = apply_k(vec![row("a", 5), row("b", 1), row("c", 1)], 3);
        assert_eq!(kept.len(), 1);
        assert_eq!(s.merged_count, None);
        assert_eq!((s.merged_units, s.hidden_units), (0, 2));
        // k = 1 suppresses nothing.
        let (kept, s) = apply_k(vec![row("a", 1), row("b", 2)], 1);
        assert_eq!(kept.len(), 2);
        assert_eq!(
            s,
            Suppression {
                k: 1,
                ..Suppression::default()
            }
        );
    }

    #[test]
    fn choropleth_rows_carry_the_legend_class_and_withhold_a_small_previous_count() {
        let unit = |name: &str, count, previous, value| ChoroplethUnit {
            name: name.into(),
            count,
            previous_count: Some(previous),
            value: Some(value),
            population: Some(1000),
            geometry: None,
            compare: None,
        };
        let units = vec![
            unit("big", 20, 10, 100.0),
            unit("grew from one", 9, 1, 800.0),
            unit("tiny", 2, 4, -50.0),
        ];
        let breaks = [-50.0, 0.0, 200.0, 800.0];
        let t = choropleth_table(units, Metric::Change, &breaks, 3);
        assert_eq!(
            t.columns,
            [
                "change_pct",
                "class",
                "class_from",
                "class_to",
                "population"
            ]
        );
        assert_eq!(t.rows.len(), 2, "the unit with 2 appeals is hidden");
        assert_eq!(t.suppression.hidden_units, 1);
        let big = &t.rows[0];
        assert_eq!(big.name, "big");
        assert_eq!(
            big.fields,
            vec![
                Value::from(100),
                Value::from(2),
                Value::from(0),
                Value::from(200),
                Value::from(1000)
            ]
        );
        let grew = &t.rows[1];
        assert_eq!(grew.count, 9);
        assert_eq!(
            grew.fields[0],
            Value::Null,
            "change against 1 appeal withheld"
        );
        assert_eq!(grew.fields[1], Value::Null, "and so is its class");
        // The count metric has no column of its own.
        let t = choropleth_table(Vec::new(), Metric::Count, &[], 3);
        assert_eq!(t.columns[0], "class");
    }

    #[test]
    fn a_comparison_adds_period_a_and_the_difference_and_withholds_a_small_a() {
        let unit = |name: &str, count, count_a, value_a: f64| ChoroplethUnit {
            name: name.into(),
            count,
            previous_count: None,
            value: Some(count as f64 / 2.0),
            population: Some(20_000),
            geometry: None,
            compare: Some(UnitComparison {
                count_a,
                value_a: Some(value_a),
                difference: Some(count as f64 / 2.0 - value_a),
            }),
        };
        let units = vec![unit("grew", 40, 10, 5.0), unit("was tiny", 30, 2, 1.0)];
        let t = choropleth_table(units, Metric::Per10k, &[0.0, 10.0, 20.0], 3);
        assert_eq!(
            t.columns[5..],
            ["count_a", "per10k_a", "difference"].map(str::to_owned)
        );
        assert_eq!(
            t.rows[0].fields[5..],
            [Value::from(10), Value::from(5), Value::from(15)]
        );
        // Two appeals in A: A's figures and the difference are withheld, B's stay.
        assert_eq!(
            t.rows[1].fields[5..],
            [Value::Null, Value::Null, Value::Null]
        );
        assert_eq!(t.rows[1].count, 30);
        assert_eq!(t.rows[1].fields[0], Value::from(15));
    }

    #[test]
    fn small_cells_of_a_series_are_masked() {
        assert_eq!(masked_series("4;1;0;2;3;10", 3), "4;<3;0;<3;3;10");
        assert_eq!(masked_series("1;2", 1), "1;2");
        assert_eq!(masked_series("", 3), "");
    }

    #[test]
    fn density_cells_reached_by_fewer_than_k_appeals_are_hidden() {
        use crate::analysis::{Grid, Kernel, Mode, density};
        // Two appeals alone in the west, thirty together in the east.
        let mut points = vec![(65.20, 57.0), (65.21, 57.0)];
        points.extend((0..30).map(|i| (65.8 + f64::from(i) * 0.001, 57.0)));
        let grid = Grid::over_lon_lat(65.0, 56.8, 66.0, 57.2, 100, 40);
        let radius_m = 3_000.0;
        let mut surface = density(&points, None, &grid, Kernel::Quartic, radius_m, Mode::Exact);
        let reach = density(&points, None, &grid, Kernel::Uniform, radius_m, Mode::Exact);
        // The largest value in the column of `lon`.
        let at = |lon: f64, s: &[f32]| {
            let (x, _) = crate::spatial::projection::mercator_m_from_lon_lat(lon, 57.0);
            let col = ((x - grid.x_min_m) / grid.cell_m) as usize;
            (0..grid.height)
                .map(|row| s[row * grid.width + col])
                .fold(0.0_f32, f32::max)
        };
        assert!(at(65.205, &surface.values) > 0.0);
        assert!(at(65.815, &surface.values) > 0.0);
        let hidden = hide_cells_under_k(&mut surface.values, &reach.values, radius_m, 3);
        assert!(hidden > 0);
        assert_eq!(at(65.205, &surface.values), 0.0, "two appeals: hidden");
        assert!(at(65.815, &surface.values) > 0.0, "thirty: shown");
        // k = 1 hides nothing.
        let mut again = density(&points, None, &grid, Kernel::Quartic, radius_m, Mode::Exact);
        assert_eq!(
            hide_cells_under_k(&mut again.values, &reach.values, radius_m, 1),
            0
        );
    }

    #[test]
    fn hashes_are_short_stable_and_sensitive() {
        let a = short_hash(b"abc");
        assert_eq!(a, "ba7816bf8f01", "the SHA-256 of abc");
        let settings = ExportSettings {
            filter: crate::analysis::Filter::default(),
            layer: "choropleth".into(),
            metric: Some("count".into()),
            classification: Some("quantiles".into()),
            classes: Some(5),
            profile: None,
            zones: None,
            cell_km: None,
            k: 3,
            boundaries: "schematic".into(),
            compare: None,
        };
        assert_eq!(settings.hash(), settings.clone().hash());
        let mut other = settings.clone();
        other.k = 4;
        assert_ne!(settings.hash(), other.hash());
        let mut other = settings.clone();
        other.filter.categories.insert("ЖКХ".into());
        assert_ne!(settings.hash(), other.hash());
        let mut other = settings.clone();
        other.compare = Some("split a previous".into());
        assert_ne!(settings.hash(), other.hash());
    }

    #[test]
    fn files_state_the_merged_bucket_and_the_provenance() {
        let (rows, suppression) = apply_k(vec![row("a", 7), row("b", 1), row("c", 2)], 3);
        let table = ExportTable {
            layer: "choropleth",
            columns: vec!["x".into()],
            rows,
            suppression,
        };
        let provenance = Provenance {
            filter: "Все обращения · за всё время".into(),
            data_as_of: Some("2021-12-31 23:00:00".into()),
            data_hash: "0123456789ab".into(),
            settings_hash: "ba9876543210".into(),
            settings: ExportSettings {
                filter: crate::analysis::Filter::default(),
                layer: "choropleth".into(),
                metric: None,
                classification: None,
                classes: None,
                profile: None,
                zones: None,
                cell_km: None,
                k: 3,
                boundaries: "schematic".into(),
                compare: None,
            },
            version: "0.1.0".into(),
            suppression: table.suppression.clone(),
        };
        let csv = to_csv(&table, &provenance, "Заголовок", false).unwrap();
        assert!(csv.starts_with(b"\xEF\xBB\xBF"));
        let mut reader = csv::Reader::from_reader(&csv[3..]);
        let header = reader.headers().unwrap().clone();
        assert_eq!(&header[0], "name");
        let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        assert_eq!(records.len(), 2);
        assert_eq!(&records[1][0], "прочие (меньше 3 в каждой)");
        assert_eq!(&records[1][1], "3");
        let hash_column = header.iter().position(|h| h == "data_hash").unwrap();
        assert!(records.iter().all(|r| &r[hash_column] == "0123456789ab"));
        let json: Value =
            serde_json::from_str(&to_geojson(&table, &provenance, "T", true)).unwrap();
        assert_eq!(json["title"], "T");
        assert_eq!(json["other"]["count"], 3);
        assert_eq!(json["other"]["units"], 2);
        assert_eq!(json["provenance"]["settings_hash"], "ba9876543210");
        assert!(
            json["provenance"]["line"]
                .as_str()
                .unwrap()
                .contains("data 0123456789ab")
        );
        assert_eq!(json["features"].as_array().unwrap().len(), 1);
    }
}
