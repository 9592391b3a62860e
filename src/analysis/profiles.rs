//! Problem profiles of the problem map: a named set of categories and (category, subcategory)
//! leaves, optionally narrowed to municipalities and to garden communities (СНТ, ДНТ, СОТ, …).
//! Owns the built-in profiles, the garden-community name matcher and the TOML form in which
//! users keep their own profiles (`problem-profiles.toml` next to the settings; the app reads and
//! writes the file, this module only parses and prints it).

use std::collections::BTreeSet;

use crate::data::Appeals;

/// One problem: which appeals belong to it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Profile {
    /// Command-line id (`power-outages`); unique among the profiles.
    pub id: String,
    /// Name in Russian.
    pub name: String,
    /// Name in English (falls back to the Russian one when empty).
    pub name_en: String,
    /// Whole categories.
    pub categories: BTreeSet<String>,
    /// Single (category, subcategory) leaves.
    pub subcategories: BTreeSet<(String, String)>,
    /// Municipalities (any spelling the filter accepts); empty = everywhere.
    pub municipalities: BTreeSet<String>,
    /// Only appeals whose settlement or address names a garden community.
    pub snt: bool,
}

impl Profile {
    /// The name in the interface language.
    pub fn display_name(&self, english: bool) -> &str {
        if english && !self.name_en.is_empty() {
            &self.name_en
        } else {
            &self.name
        }
    }

    /// The profile narrowed to garden communities (the `--snt` flag, the "in СНТ" toggle).
    pub fn in_garden_communities(&self) -> Self {
        Self {
            snt: true,
            ..self.clone()
        }
    }

    /// True when the profile selects nothing by category (it then takes every category).
    pub fn takes_all_categories(&self) -> bool {
        self.categories.is_empty() && self.subcategories.is_empty()
    }
}

fn set<const N: usize>(items: [&str; N]) -> BTreeSet<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

fn pairs<const N: usize>(items: [(&str, &str); N]) -> BTreeSet<(String, String)> {
    items
        .iter()
        .map(|(c, s)| ((*c).to_owned(), (*s).to_owned()))
        .collect()
}

/// The five built-in profiles, in menu order. Their categories are those of the «Госуслуги.
/// Решаем вместе» rubricator as the demo uses them; a database with other names needs a profile
/// of its own (edit one in the window, or in the TOML file).
pub fn builtin_profiles() -> Vec<Profile> {
    vec![
        Profile {
            id: "power-outages".into(),
            name: "Отключения электроэнергии".into(),
            name_en: "Power outages".into(),
            categories: set(["Электроэнергетика"]),
            ..Profile::default()
        },
        Profile {
            id: "heating".into(),
            name: "Отопление".into(),
            name_en: "Heating".into(),
            subcategories: pairs([("ЖКХ", "Отопление")]),
            categories: set(["Теплоснабжение"]),
            ..Profile::default()
        },
        Profile {
            id: "water".into(),
            name: "Водоснабжение".into(),
            name_en: "Water supply".into(),
            subcategories: pairs([("ЖКХ", "Водоснабжение")]),
            categories: set(["Водоснабжение и водоотведение"]),
            ..Profile::default()
        },
        Profile {
            id: "roads".into(),
            name: "Дороги".into(),
            name_en: "Roads".into(),
            categories: set(["Дороги"]),
            ..Profile::default()
        },
        Profile {
            id: "waste".into(),
            name: "Вывоз мусора".into(),
            name_en: "Waste collection".into(),
            categories: set(["Обращение с ТКО"]),
            subcategories: pairs([("Благоустройство", "Уборка территорий")]),
            ..Profile::default()
        },
    ]
}

/// The user's profiles file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    #[error("problem profiles: {0}")]
    Toml(#[from] toml::de::Error),
    #[error("problem profiles: profile {index} has no id")]
    MissingId { index: usize },
    #[error("problem profiles: the id {0:?} is used twice")]
    DuplicateId(String),
    #[error("problem profiles: {0}")]
    Print(#[from] toml::ser::Error),
}

/// Where the user's profiles live: `problem-profiles.toml` in Teplokarta's data directory (next
/// to the window's saved settings), or the file `TEPLOKARTA_PROFILES` names (a shared file on a
/// network drive; tests). `None` when the platform has no home directory.
pub fn profiles_path() -> Option<std::path::PathBuf> {
    if let Some(path) = std::env::var_os("TEPLOKARTA_PROFILES").filter(|p| !p.is_empty()) {
        return Some(path.into());
    }
    let dirs = directories::ProjectDirs::from("", "", "teplokarta")?;
    Some(dirs.data_dir().join("problem-profiles.toml"))
}

#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
struct ProfilesFile {
    #[serde(default, rename = "profile")]
    profiles: Vec<Profile>,
}

/// Parses the user's profiles (`[[profile]]` tables). Ids must be present and unique.
pub fn profiles_from_toml(text: &str) -> Result<Vec<Profile>, ProfileError> {
    let file: ProfilesFile = toml::from_str(text)?;
    let mut seen = BTreeSet::new();
    for (index, p) in file.profiles.iter().enumerate() {
        if p.id.trim().is_empty() {
            return Err(ProfileError::MissingId { index: index + 1 });
        }
        if !seen.insert(p.id.clone()) {
            return Err(ProfileError::DuplicateId(p.id.clone()));
        }
    }
    Ok(file.profiles)
}

/// Prints profiles in the form [`profiles_from_toml`] reads.
pub fn profiles_to_toml(profiles: &[Profile]) -> Result<String, ProfileError> {
    Ok(toml::to_string_pretty(&ProfilesFile {
        profiles: profiles.to_vec(),
    })?)
}

/// The built-in profiles with the user's ones applied: a user profile with a built-in id
/// replaces it, others are appended in file order.
pub fn merged_profiles(user: &[Profile]) -> Vec<Profile> {
    let mut out = builtin_profiles();
    for p in user {
        match out.iter_mut().find(|b| b.id == p.id) {
            Some(b) => *b = p.clone(),
            None => out.push(p.clone()),
        }
    }
    out
}

/// Whether a settlement or address names a garden community: СНТ, ДНТ, СОТ, СНТСН, СОНТ, ДНП,
/// садоводческое/садовое/дачное (некоммерческое) товарищество, садоводческий/дачный кооператив,
/// садовое общество (case-insensitive; ё = е; whole abbreviations only).
pub fn names_garden_community(text: &str) -> bool {
    let lower = text.to_lowercase().replace('ё', "е");
    // Not ТСН or ТСЖ (also homeowners' associations of blocks of flats), not СПК (also farm
    // cooperatives).
    const WORDS: [&str; 6] = ["снт", "днт", "сот", "снтсн", "сонт", "днп"];
    let tokens = lower.split(|c: char| !c.is_alphanumeric());
    for token in tokens {
        if WORDS.contains(&token) {
            return true;
        }
    }
    // Not «садовод» alone: «ул. Садоводов» is a street.
    const PHRASES: [&str; 6] = [
        "садоводческ",
        "садовое товарищество",
        "дачное товарищество",
        "дачное некоммерческое",
        "дачный кооператив",
        "садовое общество",
    ];
    PHRASES.iter().any(|p| lower.contains(p))
}

/// For every settlement and every address of `appeals`, whether it names a garden community;
/// a row is in a garden community when either of its two texts is.
pub fn garden_community_rows(appeals: &Appeals) -> Vec<bool> {
    let settlements: Vec<bool> = appeals
        .settlements
        .names()
        .iter()
        .map(|s| names_garden_community(s))
        .collect();
    let addresses: Vec<bool> = appeals
        .addresses
        .names()
        .iter()
        .map(|s| names_garden_community(s))
        .collect();
    let flag = |table: &[bool], code: Option<u32>| {
        code.and_then(|c| table.get(c as usize).copied())
            .unwrap_or(false)
    };
    (0..appeals.len())
        .map(|i| {
            flag(&settlements, appeals.settlement.get(i).copied().flatten())
                || flag(&addresses, appeals.address.get(i).copied().flatten())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garden_community_names() {
        for yes in [
            "СНТ «Ягодное»",
            "снт Рябинушка",
            "Тюменский район, ДНТ «Тарманы», уч. 5",
            "СОТ «Железнодорожник»",
            "СНТСН «Березка»",
            "садоводческое некоммерческое товарищество «Мичуринец»",
            "Садоводческое товарищество Рассвет",
            "дачное некоммерческое партнерство Сосновый бор",
            "Дачный кооператив «Озёрный»",
        ] {
            assert!(names_garden_community(yes), "{yes}");
        }
        for no in [
            "г. Тюмень, ул. Республики, д. 5",
            "Сотниково",
            "с. Каскара",
            "Тобольск, ул. Снежная",
            "г. Ишим, ул. Садоводов, д. 3",
            "ТСН «Дом на Республики»",
            "",
        ] {
            assert!(!names_garden_community(no), "{no}");
        }
    }

    #[test]
    fn toml_round_trip_and_merge() {
        let mut mine = builtin_profiles()
            .into_iter()
            .next()
            .unwrap_or_default()
            .in_garden_communities();
        mine.municipalities.insert("Тюменский район".into());
        let extra = Profile {
            id: "schools".into(),
            name: "Школы".into(),
            subcategories: pairs([("Образование", "Школы")]),
            ..Profile::default()
        };
        let text = profiles_to_toml(&[mine.clone(), extra.clone()]).unwrap_or_default();
        let back = profiles_from_toml(&text).unwrap_or_default();
        assert_eq!(back, vec![mine.clone(), extra.clone()]);
        let merged = merged_profiles(&back);
        assert_eq!(merged.len(), builtin_profiles().len() + 1);
        assert_eq!(merged.first(), Some(&mine));
        assert_eq!(merged.last(), Some(&extra));
    }

    #[test]
    fn bad_profiles_files_are_rejected() {
        assert!(matches!(
            profiles_from_toml("[[profile]]\nname = \"x\"\n"),
            Err(ProfileError::MissingId { index: 1 })
        ));
        assert!(matches!(
            profiles_from_toml("[[profile]]\nid = \"a\"\n[[profile]]\nid = \"a\"\n"),
            Err(ProfileError::DuplicateId(_))
        ));
        assert!(matches!(
            profiles_from_toml("[[profile]\n"),
            Err(ProfileError::Toml(_))
        ));
    }
}
