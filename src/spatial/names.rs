//! Municipality-name matching: the same unit is written `г. Тюмень`, `город Тюмень`,
//! `городской округ город Тюмень` or just `Тюмень`; `Тюменский район`, `Тюменский муниципальный
//! район` or `Тюменский МР`. Names are reduced to a [`NameKey`] (base words + kind) and matched on
//! the base, with the kind checked only when the text states one. Names that match nothing are
//! reported, never guessed.

use super::region::{MunicipalityFact, MunicipalityKind};

/// A municipality name reduced for matching.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct NameKey {
    /// Lower-case words without the kind words, `ё` folded to `е`, e.g. `тюменский`.
    pub base: String,
    /// Kind stated in the text, if any.
    pub kind: Option<MunicipalityKind>,
}

/// Words that say "district" (муниципальный район / округ, МР, р-н).
const DISTRICT_WORDS: &[&str] = &["район", "мр", "р-н", "рн"];
/// Words that say "urban okrug / city".
const OKRUG_WORDS: &[&str] = &["го", "городской", "город", "г", "гор"];
/// Words dropped without saying a kind.
const NEUTRAL_WORDS: &[&str] = &[
    "мо",
    "округ",
    "округа",
    "образование",
    "тюменской",
    "области",
    "обл",
];

/// Reduces a municipality name to its [`NameKey`].
pub fn normalize_name(text: &str) -> NameKey {
    let lowered: String = text
        .chars()
        .flat_map(char::to_lowercase)
        .map(|c| if c == 'ё' { 'е' } else { c })
        .map(|c| {
            if c.is_alphanumeric() || c == '-' {
                c
            } else {
                ' '
            }
        })
        .collect();
    let mut base_words = Vec::new();
    let mut says_district = false;
    let mut says_okrug = false;
    let mut says_municipal = false;
    for word in lowered.split_whitespace() {
        let word = word.trim_matches('-');
        if word.is_empty() {
            continue;
        }
        if word.starts_with("муниципальн") || word == "мун" {
            says_municipal = true;
        } else if DISTRICT_WORDS.contains(&word) {
            says_district = true;
        } else if OKRUG_WORDS.contains(&word) {
            says_okrug = true;
        } else if NEUTRAL_WORDS.contains(&word) {
        } else {
            base_words.push(word);
        }
    }
    // "муниципальный округ" is what the districts became in 2025; "городской округ" is an okrug.
    let kind = if says_district || (says_municipal && !says_okrug) {
        Some(MunicipalityKind::District)
    } else if says_okrug {
        Some(MunicipalityKind::UrbanOkrug)
    } else {
        None
    };
    NameKey {
        base: base_words.join(" "),
        kind,
    }
}

/// Matches free-text municipality names to a table of units.
#[derive(Clone, Debug)]
pub struct MunicipalityMatcher {
    /// (key, index into the table) for every unit.
    keys: Vec<(NameKey, usize)>,
    /// Units known under both kinds (a district turned urban okrug).
    either_kind: Vec<usize>,
}

/// Units that changed kind and are written either way: Голышмановский район became the
/// Голышмановский городской округ in 2019 (the OSM boundaries still say район).
const EITHER_KIND: &[&str] = &["Голышмановский район"];

impl MunicipalityMatcher {
    /// A matcher over the given units (usually [`super::municipalities`]).
    pub fn new(units: &[MunicipalityFact]) -> Self {
        let keys = units
            .iter()
            .enumerate()
            .map(|(i, m)| {
                let mut key = normalize_name(m.name);
                key.kind = Some(m.kind);
                (key, i)
            })
            .collect();
        let either_kind = units
            .iter()
            .enumerate()
            .filter(|(_, m)| EITHER_KIND.contains(&m.name))
            .map(|(i, _)| i)
            .collect();
        Self { keys, either_kind }
    }

    /// Index of the unit the text names, or `None` if it names none (or is ambiguous).
    pub fn find(&self, text: &str) -> Option<usize> {
        let key = normalize_name(text);
        if key.base.is_empty() {
            return None;
        }
        let mut found = self.keys.iter().filter(|(k, i)| {
            k.base == key.base
                && (key.kind.is_none() || key.kind == k.kind || self.either_kind.contains(i))
        });
        let first = found.next()?;
        found.next().is_none().then_some(first.1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spatial::municipalities;

    fn name_of(text: &str) -> Option<&'static str> {
        let units = municipalities();
        MunicipalityMatcher::new(units)
            .find(text)
            .map(|i| units[i].name)
    }

    #[test]
    fn usual_variants_match() {
        for text in [
            "г. Тюмень",
            "город Тюмень",
            "муниципальное образование городской округ город Тюмень",
            "Тюмень",
            "городской округ город Тюмень",
            "г.Тюмень",
            "  ТЮМЕНЬ ",
        ] {
            assert_eq!(name_of(text), Some("Тюмень"), "{text}");
        }
        for text in [
            "Тюменский район",
            "Тюменский муниципальный район",
            "Тюменский МР",
            "Тюменский р-н",
            "Тюменский муниципальный округ",
            "тюменский",
        ] {
            assert_eq!(name_of(text), Some("Тюменский район"), "{text}");
        }
        for text in [
            "Заводоуковский городской округ",
            "Заводоуковский ГО",
            "Заводоуковский",
        ] {
            assert_eq!(
                name_of(text),
                Some("Заводоуковский городской округ"),
                "{text}"
            );
        }
        assert_eq!(name_of("Ялуторовский район"), Some("Ялуторовский район"));
        assert_eq!(name_of("г. Ялуторовск"), Some("Ялуторовск"));
        assert_eq!(name_of("Викуловский район"), Some("Викуловский район"));
        assert_eq!(name_of("Викуловский  Район"), Some("Викуловский район"));
        assert_eq!(name_of("МО г. Тюмень"), Some("Тюмень"));
        assert_eq!(
            name_of("Голышмановский городской округ"),
            Some("Голышмановский район")
        );
        assert_eq!(name_of("Голышмановский ГО"), Some("Голышмановский район"));
    }

    #[test]
    fn yo_and_ye_are_the_same_letter() {
        assert_eq!(
            normalize_name("Ёлкинский").base,
            normalize_name("Елкинский").base
        );
    }

    #[test]
    fn unknown_and_contradicting_names_do_not_match() {
        assert_eq!(name_of("Тюменская область"), None);
        assert_eq!(name_of("Москва"), None);
        assert_eq!(name_of(""), None);
        // A district name stated as a city okrug is not silently accepted.
        assert_eq!(name_of("городской округ Абатский"), None);
    }
}
