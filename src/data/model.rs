//! In-memory appeals as columns (one `Vec` per field, strings interned in [`Dict`]s), and the
//! data-quality figures gathered while loading them.

use std::collections::HashMap;

/// A fast, non-cryptographic hasher for the dictionaries (interning a million texts with
/// SipHash is a fifth of the loading time).
type FastMap<K, V> = HashMap<K, V, ahash::RandomState>;

use jiff::civil::DateTime;

/// Interned strings: each distinct text gets a dense `u32` code, in first-seen order.
#[derive(Clone, Debug, Default)]
pub struct Dict {
    names: Vec<String>,
    codes: FastMap<Box<[u8]>, u32>,
}

impl Dict {
    /// Code of `text`, adding it when new.
    pub fn intern(&mut self, text: &str) -> u32 {
        self.intern_bytes(text.as_bytes())
    }

    /// Code of a text given as bytes (as SQLite stores it), adding it when new. Only a new text
    /// is checked for UTF-8; invalid bytes become U+FFFD in its name.
    pub fn intern_bytes(&mut self, bytes: &[u8]) -> u32 {
        if let Some(&code) = self.codes.get(bytes) {
            return code;
        }
        let code = u32::try_from(self.names.len()).unwrap_or(u32::MAX);
        self.names.push(String::from_utf8_lossy(bytes).into_owned());
        self.codes.insert(bytes.into(), code);
        code
    }

    /// Text of a code (empty for an unknown code).
    pub fn name(&self, code: u32) -> &str {
        self.names.get(code as usize).map_or("", String::as_str)
    }

    /// Code of a text already interned.
    pub fn code(&self, text: &str) -> Option<u32> {
        self.codes.get(text.as_bytes()).copied()
    }

    /// Number of distinct texts.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// True when no text was interned.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// All texts, in code order.
    pub fn names(&self) -> &[String] {
        &self.names
    }
}

/// Whether and why an appeal can or cannot be put on the map.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Placement {
    /// Valid WGS84 coordinates.
    Placed,
    /// Both `lat` and `lon` are NULL or absent: only the municipality is known (not an error).
    Missing,
    /// Only one of `lat`/`lon` is given.
    Partial,
    /// NaN, infinite, or text that is not a number.
    NotNumeric,
    /// Latitude outside ±90° or longitude outside ±180°.
    OutOfRange,
    /// Exactly (0, 0): a geocoder's "not found".
    ZeroZero,
}

/// The contract's statuses; other texts are kept and shown as they are.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StatusKind {
    New,
    InProgress,
    Resolved,
    Rejected,
    Other,
}

impl StatusKind {
    /// Classifies a status text of the contract (`new`, `in_progress`, `resolved`, `rejected`).
    pub fn of(text: &str) -> Self {
        match text {
            "new" => Self::New,
            "in_progress" => Self::InProgress,
            "resolved" => Self::Resolved,
            "rejected" => Self::Rejected,
            _ => Self::Other,
        }
    }
}

/// One example of a data-quality problem, to help find it in the source.
#[derive(Clone, Debug, PartialEq)]
pub struct QualitySample {
    pub reason: &'static str,
    /// The row's `id`.
    pub row_id: i64,
    /// The offending value as text.
    pub value: String,
}

/// Counts of rows by data-quality problem. Problem rows are still counted in every total that
/// does not need the field in question.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Quality {
    pub rows: u64,
    pub placed: u64,
    pub no_coordinates: u64,
    pub partial_coordinates: u64,
    pub coordinates_not_numeric: u64,
    pub coordinates_out_of_range: u64,
    pub coordinates_zero_zero: u64,
    /// `received_at` present but not an ISO-8601 timestamp.
    pub received_unparsable: u64,
    /// `resolved_at` present but not an ISO-8601 timestamp.
    pub resolved_unparsable: u64,
    /// NULL in a required column (`received_at`, `source`, `category`, `status`).
    pub required_null: u64,
    /// Up to three examples per reason.
    pub samples: Vec<QualitySample>,
}

impl Quality {
    /// Rows with coordinates that were given but cannot be placed (partial, NaN, out of range,
    /// 0,0) — the ones a user should look at.
    pub fn bad_coordinates(&self) -> u64 {
        self.partial_coordinates
            + self.coordinates_not_numeric
            + self.coordinates_out_of_range
            + self.coordinates_zero_zero
    }

    /// The counters, in field order (for weighting a grouped row's counts).
    fn counters_mut(&mut self) -> [&mut u64; 10] {
        [
            &mut self.rows,
            &mut self.placed,
            &mut self.no_coordinates,
            &mut self.partial_coordinates,
            &mut self.coordinates_not_numeric,
            &mut self.coordinates_out_of_range,
            &mut self.coordinates_zero_zero,
            &mut self.received_unparsable,
            &mut self.resolved_unparsable,
            &mut self.required_null,
        ]
    }

    /// The counters as numbers, in field order.
    pub(crate) fn counters(&self) -> [u64; 10] {
        [
            self.rows,
            self.placed,
            self.no_coordinates,
            self.partial_coordinates,
            self.coordinates_not_numeric,
            self.coordinates_out_of_range,
            self.coordinates_zero_zero,
            self.received_unparsable,
            self.resolved_unparsable,
            self.required_null,
        ]
    }

    /// Counts what was counted since `before` (the counters before one row) `extra` more
    /// times: a grouped row standing for `extra + 1` appeals.
    pub(crate) fn repeat_since(&mut self, before: &[u64; 10], extra: u64) {
        for (counter, was) in self.counters_mut().into_iter().zip(before) {
            *counter += counter.saturating_sub(*was) * extra;
        }
    }

    pub(crate) fn count_placement(&mut self, placement: Placement) {
        match placement {
            Placement::Placed => self.placed += 1,
            Placement::Missing => self.no_coordinates += 1,
            Placement::Partial => self.partial_coordinates += 1,
            Placement::NotNumeric => self.coordinates_not_numeric += 1,
            Placement::OutOfRange => self.coordinates_out_of_range += 1,
            Placement::ZeroZero => self.coordinates_zero_zero += 1,
        }
    }

    /// The counts (not the samples) of `appeals`, from their placements and row flags.
    pub fn recount(appeals: &Appeals) -> Self {
        let mut quality = Quality {
            rows: appeals.len() as u64,
            ..Quality::default()
        };
        for &placement in &appeals.placement {
            quality.count_placement(placement);
        }
        for &flags in &appeals.row_flags {
            quality.required_null += u64::from(flags & Appeals::FLAG_REQUIRED_NULL != 0);
            quality.received_unparsable +=
                u64::from(flags & Appeals::FLAG_RECEIVED_UNPARSABLE != 0);
            quality.resolved_unparsable +=
                u64::from(flags & Appeals::FLAG_RESOLVED_UNPARSABLE != 0);
        }
        quality
    }

    /// Adds the counts of rows read after these, and their examples while a reason has fewer
    /// than three: the figures of both sets of rows read at once.
    pub fn append(&mut self, later: Quality) {
        for (counter, more) in self.counters_mut().into_iter().zip(later.counters()) {
            *counter += more;
        }
        for sample in later.samples {
            self.sample(sample.reason, sample.row_id, sample.value);
        }
    }

    pub(crate) fn sample(&mut self, reason: &'static str, row_id: i64, value: impl Into<String>) {
        if self.samples.iter().filter(|s| s.reason == reason).count() < 3 {
            self.samples.push(QualitySample {
                reason,
                row_id,
                value: value.into(),
            });
        }
    }
}

/// All appeals of a database, as columns. Row `i` of every column is the same appeal; rows are
/// in `id` order.
#[derive(Clone, Debug, Default)]
pub struct Appeals {
    pub id: Vec<i64>,
    /// Local wall-clock time of receipt; `None` when unparsable or NULL.
    pub received: Vec<Option<DateTime>>,
    pub resolved: Vec<Option<DateTime>>,
    pub source: Vec<u32>,
    pub category: Vec<u32>,
    pub subcategory: Vec<Option<u32>>,
    pub municipality: Vec<Option<u32>>,
    pub settlement: Vec<Option<u32>>,
    /// Street address (interned: the same address recurs in a recurring problem).
    pub address: Vec<Option<u32>>,
    pub status: Vec<u32>,
    /// WGS84 longitude, NaN unless `placement` is [`Placement::Placed`].
    pub lon: Vec<f64>,
    /// WGS84 latitude, NaN unless `placement` is [`Placement::Placed`].
    pub lat: Vec<f64>,
    pub placement: Vec<Placement>,
    /// Data-quality flags of each row ([`Appeals::FLAG_REQUIRED_NULL`] and the others), so that
    /// [`Quality`] can be recounted when rows are replaced.
    pub row_flags: Vec<u8>,
    pub sources: Dict,
    pub categories: Dict,
    pub subcategories: Dict,
    pub municipalities: Dict,
    pub settlements: Dict,
    pub addresses: Dict,
    pub statuses: Dict,
    pub quality: Quality,
}

impl Appeals {
    /// A required column (`received_at`, `source`, `category`, `status`) is NULL.
    pub const FLAG_REQUIRED_NULL: u8 = 1;
    /// `received_at` is present but not a timestamp.
    pub const FLAG_RECEIVED_UNPARSABLE: u8 = 2;
    /// `resolved_at` is present but not a timestamp.
    pub const FLAG_RESOLVED_UNPARSABLE: u8 = 4;

    /// No rows, and `other`'s dictionaries: rows read into it get `other`'s codes for the names
    /// it knows (new names are added after them).
    pub fn with_dictionaries_of(other: &Appeals) -> Appeals {
        Appeals {
            sources: other.sources.clone(),
            categories: other.categories.clone(),
            subcategories: other.subcategories.clone(),
            municipalities: other.municipalities.clone(),
            settlements: other.settlements.clone(),
            addresses: other.addresses.clone(),
            statuses: other.statuses.clone(),
            ..Appeals::default()
        }
    }

    /// Number of appeals.
    pub fn len(&self) -> usize {
        self.id.len()
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.id.is_empty()
    }

    /// Appends the rows of `other` (read after these), remapping its dictionary codes.
    pub(crate) fn append(&mut self, mut other: Appeals) {
        other.recode_into(self);
        self.extend_from(&other, 0..other.len());
        self.quality.append(other.quality);
    }

    /// These appeals with the rows whose `id` lies in one of `ranges` (half-open `[lo, hi)`,
    /// sorted, not overlapping) replaced by `rows` (sorted by `id`, all inside the ranges): what a
    /// live reload builds from the rows it read again. Dictionary codes of `self` stay valid; the
    /// quality counts are recounted from the row flags, and the samples of replaced rows dropped.
    pub fn with_ranges_replaced(&self, ranges: &[(i64, i64)], mut rows: Appeals) -> Appeals {
        let in_ranges = |id: i64| {
            let at = ranges.partition_point(|&(_, hi)| hi <= id);
            ranges.get(at).is_some_and(|&(lo, _)| lo <= id)
        };
        let mut out = Appeals {
            sources: self.sources.clone(),
            categories: self.categories.clone(),
            subcategories: self.subcategories.clone(),
            municipalities: self.municipalities.clone(),
            settlements: self.settlements.clone(),
            addresses: self.addresses.clone(),
            statuses: self.statuses.clone(),
            ..Appeals::default()
        };
        out.reserve(self.len() + rows.len());
        let mut samples: Vec<QualitySample> = self
            .quality
            .samples
            .iter()
            .filter(|s| !in_ranges(s.row_id))
            .cloned()
            .collect();
        samples.extend(rows.quality.samples.iter().cloned());
        // The new rows' codes in `out`'s dictionaries (they are few: intern them one by one).
        rows.recode_into(&mut out);
        // Old rows outside the ranges are copied in runs; each range's new rows go in its place.
        let mut old_at = 0;
        let mut new_at = 0;
        for &(lo, hi) in ranges {
            let after = |ids: &[i64], at: usize, bound: i64| {
                at + ids
                    .get(at..)
                    .unwrap_or_default()
                    .partition_point(|&id| id < bound)
            };
            let before = after(&self.id, old_at, lo);
            out.extend_from(self, old_at..before);
            old_at = after(&self.id, before, hi);
            let new_end = after(&rows.id, new_at, hi);
            out.extend_from(&rows, new_at..new_end);
            new_at = new_end;
        }
        out.extend_from(self, old_at..self.len());
        out.quality = Quality::recount(&out);
        for sample in samples {
            out.quality
                .sample(sample.reason, sample.row_id, sample.value);
        }
        out
    }

    fn reserve(&mut self, n: usize) {
        self.id.reserve(n);
        self.received.reserve(n);
        self.resolved.reserve(n);
        self.source.reserve(n);
        self.category.reserve(n);
        self.subcategory.reserve(n);
        self.municipality.reserve(n);
        self.settlement.reserve(n);
        self.address.reserve(n);
        self.status.reserve(n);
        self.lon.reserve(n);
        self.lat.reserve(n);
        self.placement.reserve(n);
        self.row_flags.reserve(n);
    }

    /// Appends rows `range` of `from`, whose dictionary codes must be valid in `self`.
    fn extend_from(&mut self, from: &Appeals, range: std::ops::Range<usize>) {
        let r = || range.clone();
        let (Some(id), Some(placement)) = (from.id.get(r()), from.placement.get(r())) else {
            return;
        };
        self.id.extend_from_slice(id);
        self.received
            .extend_from_slice(from.received.get(r()).unwrap_or_default());
        self.resolved
            .extend_from_slice(from.resolved.get(r()).unwrap_or_default());
        self.source
            .extend_from_slice(from.source.get(r()).unwrap_or_default());
        self.category
            .extend_from_slice(from.category.get(r()).unwrap_or_default());
        self.subcategory
            .extend_from_slice(from.subcategory.get(r()).unwrap_or_default());
        self.municipality
            .extend_from_slice(from.municipality.get(r()).unwrap_or_default());
        self.settlement
            .extend_from_slice(from.settlement.get(r()).unwrap_or_default());
        self.address
            .extend_from_slice(from.address.get(r()).unwrap_or_default());
        self.status
            .extend_from_slice(from.status.get(r()).unwrap_or_default());
        self.lon
            .extend_from_slice(from.lon.get(r()).unwrap_or_default());
        self.lat
            .extend_from_slice(from.lat.get(r()).unwrap_or_default());
        self.placement.extend_from_slice(placement);
        match from.row_flags.get(r()) {
            Some(flags) => self.row_flags.extend_from_slice(flags),
            None => self.row_flags.resize(self.id.len(), 0),
        }
    }

    /// Re-codes these rows' dictionary columns into `target`'s dictionaries (adding texts new
    /// to them), so the rows can be copied into `target`.
    fn recode_into(&mut self, target: &mut Appeals) {
        fn remap(from: &Dict, to: &mut Dict) -> Vec<u32> {
            from.names().iter().map(|n| to.intern(n)).collect()
        }
        fn recode(codes: &mut [u32], map: &[u32]) {
            for c in codes {
                *c = map.get(*c as usize).copied().unwrap_or(*c);
            }
        }
        fn recode_opt(codes: &mut [Option<u32>], map: &[u32]) {
            for c in codes.iter_mut().flatten() {
                *c = map.get(*c as usize).copied().unwrap_or(*c);
            }
        }
        recode(&mut self.source, &remap(&self.sources, &mut target.sources));
        recode(
            &mut self.category,
            &remap(&self.categories, &mut target.categories),
        );
        recode(
            &mut self.status,
            &remap(&self.statuses, &mut target.statuses),
        );
        recode_opt(
            &mut self.subcategory,
            &remap(&self.subcategories, &mut target.subcategories),
        );
        recode_opt(
            &mut self.municipality,
            &remap(&self.municipalities, &mut target.municipalities),
        );
        recode_opt(
            &mut self.settlement,
            &remap(&self.settlements, &mut target.settlements),
        );
        recode_opt(
            &mut self.address,
            &remap(&self.addresses, &mut target.addresses),
        );
    }

    /// Earliest and latest local receipt time among parsable ones.
    pub fn received_range(&self) -> Option<(DateTime, DateTime)> {
        let mut it = self.received.iter().flatten();
        let first = *it.next()?;
        Some(it.fold((first, first), |(lo, hi), &t| (lo.min(t), hi.max(t))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_grouped_row_counts_its_problems_once_per_appeal() {
        let mut quality = Quality {
            rows: 10,
            placed: 9,
            no_coordinates: 1,
            ..Quality::default()
        };
        // One group of 4 appeals with 0,0 coordinates and an unreadable answer time.
        let before = quality.counters();
        quality.rows += 1;
        quality.count_placement(Placement::ZeroZero);
        quality.resolved_unparsable += 1;
        quality.repeat_since(&before, 3);
        assert_eq!(quality.rows, 14);
        assert_eq!(quality.coordinates_zero_zero, 4);
        assert_eq!(quality.resolved_unparsable, 4);
        // What the group did not touch is unchanged.
        assert_eq!((quality.placed, quality.no_coordinates), (9, 1));
    }
}
