//! `MunicipalityResolution`: the `municipality` texts of a database mapped to the region's
//! canonical units (`г. Тюмень` → `Тюмень`); texts that match nothing keep their own label and
//! are listed as unmatched in the data-quality figures, never guessed.

use crate::data::Appeals;
use crate::spatial::{MunicipalityMatcher, municipalities};

/// Municipality of every row as a label code, and the labels.
#[derive(Clone, Debug, Default)]
pub struct MunicipalityResolution {
    /// Label of each code: the canonical name for matched texts, the text itself otherwise.
    pub labels: Vec<String>,
    /// For each label code, the unit index in [`municipalities`] when matched.
    pub unit_of_label: Vec<Option<usize>>,
    /// Label code of each row; `None` where the row has no municipality.
    pub row_label: Vec<Option<u32>>,
    /// Distinct texts that matched no unit, with their row counts, most frequent first.
    pub unmatched: Vec<(String, u64)>,
    /// Rows with no municipality text at all.
    pub missing: u64,
}

impl MunicipalityResolution {
    /// Resolves every row of `appeals`.
    pub fn new(appeals: &Appeals) -> Self {
        let units = municipalities();
        let matcher = MunicipalityMatcher::new(units);
        let mut labels: Vec<String> = units.iter().map(|m| m.name.to_owned()).collect();
        let mut unit_of_label: Vec<Option<usize>> = (0..units.len()).map(Some).collect();
        // Label code of each raw text code.
        let raw_to_label: Vec<u32> = appeals
            .municipalities
            .names()
            .iter()
            .map(|text| match matcher.find(text) {
                Some(unit) => unit as u32,
                None => {
                    labels.push(text.clone());
                    unit_of_label.push(None);
                    (labels.len() - 1) as u32
                }
            })
            .collect();
        let row_label: Vec<Option<u32>> = appeals
            .municipality
            .iter()
            .map(|raw| raw.and_then(|r| raw_to_label.get(r as usize).copied()))
            .collect();
        let mut counts = vec![0_u64; labels.len()];
        let mut missing = 0;
        for label in &row_label {
            match label.and_then(|l| counts.get_mut(l as usize)) {
                Some(c) => *c += 1,
                None => missing += 1,
            }
        }
        let mut unmatched: Vec<(String, u64)> = labels
            .iter()
            .zip(&unit_of_label)
            .zip(&counts)
            .filter(|((_, unit), _)| unit.is_none())
            .map(|((label, _), &n)| (label.clone(), n))
            .collect();
        unmatched.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        Self {
            labels,
            unit_of_label,
            row_label,
            unmatched,
            missing,
        }
    }

    /// Label code for a user-given name (canonical name, any variant of it, or an unmatched text).
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
}
