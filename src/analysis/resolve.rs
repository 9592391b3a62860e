//! `MunicipalityResolution`: the municipality of every appeal, as a label code.
//!
//! - A `municipality` text is matched to the region's canonical units (`г. Тюмень` → `Тюмень`);
//!   a text that matches nothing keeps its own label and is listed as unmatched, never guessed.
//! - An appeal without a text but with coordinates is assigned by point-in-polygon against the
//!   loaded boundaries (a polygon whose name matches no unit gives its own label).
//! - What is left (no text, and no point or a point outside every polygon) goes to an explicit
//!   "outside boundaries / unknown" bucket, counted in every total.
//! - When the text and the point's polygon name different units, the text wins and the
//!   disagreement is counted (with real boundaries only: the schematic cells are a sketch).

use crate::data::{Appeals, Placement};
use crate::spatial::{Boundaries, MunicipalityLocator, MunicipalityMatcher, municipalities};

/// Municipality of every row as a label code, and the labels.
#[derive(Clone, Debug, Default)]
pub struct MunicipalityResolution {
    /// Label of each code: the canonical name for matched texts, the text itself otherwise, a
    /// polygon's own name, and last the unknown bucket (an empty label).
    pub labels: Vec<String>,
    /// For each label code, the unit index in [`municipalities`] when it is one.
    pub unit_of_label: Vec<Option<usize>>,
    /// Label code of each row.
    pub row_label: Vec<u32>,
    /// Code of the "outside boundaries / unknown" bucket.
    pub unknown_label: u32,
    /// Distinct texts that matched no unit, with their row counts, most frequent first.
    pub unmatched: Vec<(String, u64)>,
    /// Rows with no municipality text.
    pub missing: u64,
    /// Rows without a text placed into a polygon by their coordinates.
    pub assigned_by_point: u64,
    /// Rows in the unknown bucket (no text, and no usable point or outside every polygon).
    pub unknown: u64,
    /// Rows whose text names one unit and whose point lies in another (the text wins).
    pub disagreements: u64,
}

impl MunicipalityResolution {
    /// Resolves every row of `appeals` by its text only (no boundaries: rows without a text go
    /// to the unknown bucket).
    pub fn new(appeals: &Appeals) -> Self {
        Self::with_boundaries(appeals, None)
    }

    /// Resolves every row, placing rows without a text by point-in-polygon against `boundaries`.
    pub fn with_boundaries(
        appeals: &Appeals,
        boundaries: Option<(&Boundaries, &MunicipalityLocator)>,
    ) -> Self {
        Self::with_boundaries_weighted(appeals, boundaries, &[])
    }

    /// [`Self::with_boundaries`] where row `i` stands for `weights[i]` appeals (grouped rows of
    /// the pushdown strategy; empty = one each): the counts are of appeals, not rows.
    pub fn with_boundaries_weighted(
        appeals: &Appeals,
        boundaries: Option<(&Boundaries, &MunicipalityLocator)>,
        weights: &[u64],
    ) -> Self {
        let weight = |i: usize| weights.get(i).copied().unwrap_or(1);
        let units = municipalities();
        let matcher = MunicipalityMatcher::new(units);
        let mut labels: Vec<String> = units.iter().map(|m| m.name.to_owned()).collect();
        let mut unit_of_label: Vec<Option<usize>> = (0..units.len()).map(Some).collect();
        let raw_to_label: Vec<u32> = appeals
            .municipalities
            .names()
            .iter()
            .map(|text| match matcher.find(text) {
                Some(unit) => unit as u32,
                None => push_label(&mut labels, &mut unit_of_label, text, None),
            })
            .collect();
        // Label of each boundary unit: its municipality, or its own name.
        let polygon_label: Vec<u32> = boundaries.map_or_else(Vec::new, |(b, _)| {
            b.units
                .iter()
                .map(|u| match u.municipality {
                    Some(m) => m as u32,
                    None => match labels.iter().position(|l| *l == u.name) {
                        Some(i) => i as u32,
                        None => push_label(&mut labels, &mut unit_of_label, &u.name, None),
                    },
                })
                .collect()
        });
        let unknown_label = push_label(&mut labels, &mut unit_of_label, "", None);

        let n = appeals.len();
        let located = boundaries.map(|(_, locator)| locate_all(appeals, locator));
        let real_boundaries = boundaries.is_some_and(|(b, _)| !b.is_schematic());
        let mut row_label = Vec::with_capacity(n);
        let (mut missing, mut assigned_by_point, mut unknown, mut disagreements) = (0, 0, 0, 0);
        for i in 0..n {
            let w = weight(i);
            let text_label = appeals
                .municipality
                .get(i)
                .copied()
                .flatten()
                .and_then(|raw| raw_to_label.get(raw as usize).copied());
            let point_label = located
                .as_ref()
                .and_then(|l| l.get(i).copied().flatten())
                .and_then(|unit| polygon_label.get(unit).copied());
            let label = match (text_label, point_label) {
                (Some(text), Some(point)) => {
                    // Only real boundaries can contradict a text; schematic cells are a sketch.
                    let both_units = real_boundaries
                        && unit_of_label
                            .get(text as usize)
                            .copied()
                            .flatten()
                            .is_some()
                        && unit_of_label
                            .get(point as usize)
                            .copied()
                            .flatten()
                            .is_some();
                    if both_units && text != point {
                        disagreements += w;
                    }
                    text
                }
                (Some(text), None) => text,
                (None, Some(point)) => {
                    missing += w;
                    assigned_by_point += w;
                    point
                }
                (None, None) => {
                    missing += w;
                    unknown += w;
                    unknown_label
                }
            };
            row_label.push(label);
        }
        let mut counts = vec![0_u64; labels.len()];
        for (i, &label) in row_label.iter().enumerate() {
            if let Some(c) = counts.get_mut(label as usize) {
                *c += weight(i);
            }
        }
        let text_labels: std::collections::HashSet<u32> = raw_to_label.iter().copied().collect();
        let mut unmatched: Vec<(String, u64)> = labels
            .iter()
            .enumerate()
            .filter(|(code, _)| {
                unit_of_label.get(*code).copied().flatten().is_none()
                    && text_labels.contains(&(*code as u32))
            })
            .map(|(code, label)| (label.clone(), counts.get(code).copied().unwrap_or(0)))
            .collect();
        unmatched.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        Self {
            labels,
            unit_of_label,
            row_label,
            unknown_label,
            unmatched,
            missing,
            assigned_by_point,
            unknown,
            disagreements,
        }
    }

    /// Label code for a user-given name (canonical name, any variant of it, or another label).
    pub fn label_code(&self, text: &str) -> Option<u32> {
        if let Some(unit) = MunicipalityMatcher::new(municipalities()).find(text) {
            return Some(unit as u32);
        }
        self.labels.iter().position(|l| l == text).map(|i| i as u32)
    }

    /// Rows whose municipality text matched no unit.
    pub fn unmatched_rows(&self) -> u64 {
        self.unmatched.iter().map(|(_, n)| n).sum()
    }

    /// The label of a code (empty for the unknown bucket).
    pub fn label(&self, code: u32) -> &str {
        self.labels.get(code as usize).map_or("", String::as_str)
    }
}

fn push_label(
    labels: &mut Vec<String>,
    units: &mut Vec<Option<usize>>,
    text: &str,
    unit: Option<usize>,
) -> u32 {
    labels.push(text.to_owned());
    units.push(unit);
    (labels.len() - 1) as u32
}

/// The boundary unit of every placed row, on two threads.
fn locate_all(appeals: &Appeals, locator: &MunicipalityLocator) -> Vec<Option<usize>> {
    let n = appeals.len();
    let locate = |range: std::ops::Range<usize>| -> Vec<Option<usize>> {
        range
            .map(|i| {
                let placed = appeals.placement.get(i) == Some(&Placement::Placed);
                let (Some(&lon), Some(&lat)) = (appeals.lon.get(i), appeals.lat.get(i)) else {
                    return None;
                };
                if placed {
                    locator.locate(lon, lat)
                } else {
                    None
                }
            })
            .collect()
    };
    let half = n / 2;
    std::thread::scope(|scope| {
        let second = scope.spawn(|| locate(half..n));
        let mut first = locate(0..half);
        match second.join() {
            Ok(rest) => first.extend(rest),
            Err(_) => first.extend(locate(half..n)),
        }
        first
    })
}
