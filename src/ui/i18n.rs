//! Russian and English texts of the interface. One struct per language, so a missing
//! translation is a compile error, not an untranslated label at run time.

use serde::{Deserialize, Serialize};

/// Interface language.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Lang {
    #[default]
    Ru,
    En,
}

impl Lang {
    /// The language of the system locale (`ru*` → Russian, anything else → English).
    pub fn from_system() -> Self {
        match sys_locale::get_locale() {
            Some(locale) if locale.to_lowercase().starts_with("ru") => Self::Ru,
            Some(_) => Self::En,
            None => Self::Ru,
        }
    }

    /// The texts of this language.
    pub fn texts(self) -> &'static Texts {
        match self {
            Self::Ru => &RU,
            Self::En => &EN,
        }
    }

    /// Formats a whole number with the language's thousands separator (`132 000` / `132,000`).
    pub fn number(self, n: u64) -> String {
        let digits = n.to_string();
        let sep = match self {
            Self::Ru => '\u{a0}',
            Self::En => ',',
        };
        let mut out = String::with_capacity(digits.len() + digits.len() / 3);
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                out.push(sep);
            }
            out.push(c);
        }
        out
    }

    /// Formats a percentage with one decimal (`97,5 %` / `97.5%`).
    pub fn percent(self, part: u64, total: u64) -> String {
        let p = if total == 0 {
            0.0
        } else {
            part as f64 * 100.0 / total as f64
        };
        match self {
            Self::Ru => format!("{}\u{a0}%", format!("{p:.1}").replace('.', ",")),
            Self::En => format!("{p:.1}%"),
        }
    }
}

/// Every text of the interface.
#[derive(Debug)]
pub struct Texts {
    pub app_title: &'static str,
    pub menu_file: &'static str,
    pub open_database: &'static str,
    pub open_boundaries: &'static str,
    pub schematic_boundaries_menu: &'static str,
    pub open_demo: &'static str,
    pub quit: &'static str,
    pub menu_view: &'static str,
    pub fit_to_data: &'static str,
    pub menu_language: &'static str,
    pub menu_help: &'static str,
    pub about: &'static str,
    pub about_text: &'static str,
    pub total_appeals: &'static str,
    pub period: &'static str,
    pub on_map: &'static str,
    pub by_source: &'static str,
    pub by_status: &'static str,
    pub by_category: &'static str,
    pub by_municipality: &'static str,
    pub data_quality: &'static str,
    pub no_coordinates: &'static str,
    pub bad_coordinates: &'static str,
    pub zero_coordinates: &'static str,
    pub out_of_range: &'static str,
    pub unparsable_dates: &'static str,
    pub unmatched_municipalities: &'static str,
    pub no_municipality: &'static str,
    pub quality_ok: &'static str,
    pub loading: &'static str,
    pub generating_demo: &'static str,
    pub no_data: &'static str,
    pub schematic_boundaries: &'static str,
    pub boundaries_from: &'static str,
    pub error: &'static str,
    pub dismiss: &'static str,
    pub path: &'static str,
    pub open: &'static str,
    pub browse: &'static str,
    pub cancel: &'static str,
    pub drop_hint: &'static str,
    pub not_given: &'static str,
    pub appeals_short: &'static str,
    pub status_new: &'static str,
    pub status_in_progress: &'static str,
    pub status_resolved: &'static str,
    pub status_rejected: &'static str,
    pub source_pos: &'static str,
    pub source_social: &'static str,
    pub legend_points: &'static str,
    pub legend_bins: &'static str,
    pub demo_badge: &'static str,
    pub boundaries_schematic_line: &'static str,
    pub polygons: &'static str,
    pub matched: &'static str,
    pub unmatched_features: &'static str,
    pub without_polygon: &'static str,
}

/// Russian.
pub static RU: Texts = Texts {
    app_title: "Теплокарта",
    menu_file: "Файл",
    open_database: "Открыть базу…",
    open_boundaries: "Открыть границы…",
    schematic_boundaries_menu: "Схематичные границы",
    open_demo: "Демонстрационные данные",
    quit: "Выход",
    menu_view: "Вид",
    fit_to_data: "Показать все данные",
    menu_language: "Язык",
    menu_help: "Справка",
    about: "О программе",
    about_text: "Тепловая и проблемная карты обращений граждан для центра управления регионом.",
    total_appeals: "Всего обращений",
    period: "Период",
    on_map: "На карте",
    by_source: "По источникам",
    by_status: "По статусам",
    by_category: "По категориям",
    by_municipality: "По муниципалитетам",
    data_quality: "Качество данных",
    no_coordinates: "без координат",
    bad_coordinates: "ошибочные координаты",
    zero_coordinates: "координаты 0,0",
    out_of_range: "вне диапазона",
    unparsable_dates: "нераспознанные даты",
    unmatched_municipalities: "нераспознанные МО",
    no_municipality: "без МО",
    quality_ok: "ошибок нет",
    loading: "Загрузка…",
    generating_demo: "Создание демонстрационной базы…",
    no_data: "Нет данных",
    schematic_boundaries: "Схематичные границы (по центрам МО)",
    boundaries_from: "Границы",
    error: "Ошибка",
    dismiss: "Закрыть",
    path: "Путь",
    open: "Открыть",
    browse: "Обзор…",
    cancel: "Отмена",
    drop_hint: "Перетащите файл .sqlite или .geojson в окно",
    not_given: "(не указан)",
    appeals_short: "обр.",
    status_new: "Новое",
    status_in_progress: "В работе",
    status_resolved: "Решено",
    status_rejected: "Отклонено",
    source_pos: "Платформа обратной связи",
    source_social: "Социальные сети",
    legend_points: "обращения",
    legend_bins: "обращений в ячейке (лог. шкала)",
    demo_badge: "Демо",
    boundaries_schematic_line: "схематичные, 26 МО",
    polygons: "полигонов",
    matched: "сопоставлено",
    unmatched_features: "не сопоставлены",
    without_polygon: "МО без полигона",
};

/// English.
pub static EN: Texts = Texts {
    app_title: "Teplokarta",
    menu_file: "File",
    open_database: "Open database…",
    open_boundaries: "Open boundaries…",
    schematic_boundaries_menu: "Schematic boundaries",
    open_demo: "Demo data",
    quit: "Quit",
    menu_view: "View",
    fit_to_data: "Fit to data",
    menu_language: "Language",
    menu_help: "Help",
    about: "About",
    about_text: "Heat map and problem map of citizen appeals for a regional situation room.",
    total_appeals: "Total appeals",
    period: "Period",
    on_map: "On the map",
    by_source: "By source",
    by_status: "By status",
    by_category: "By category",
    by_municipality: "By municipality",
    data_quality: "Data quality",
    no_coordinates: "no coordinates",
    bad_coordinates: "bad coordinates",
    zero_coordinates: "coordinates 0,0",
    out_of_range: "out of range",
    unparsable_dates: "unparsable dates",
    unmatched_municipalities: "unknown municipalities",
    no_municipality: "no municipality",
    quality_ok: "no problems",
    loading: "Loading…",
    generating_demo: "Generating the demo database…",
    no_data: "No data",
    schematic_boundaries: "Schematic boundaries (from municipal centres)",
    boundaries_from: "Boundaries",
    error: "Error",
    dismiss: "Dismiss",
    path: "Path",
    open: "Open",
    browse: "Browse…",
    cancel: "Cancel",
    drop_hint: "Drop a .sqlite or .geojson file onto the window",
    not_given: "(not given)",
    appeals_short: "appeals",
    status_new: "New",
    status_in_progress: "In progress",
    status_resolved: "Resolved",
    status_rejected: "Rejected",
    source_pos: "Feedback platform",
    source_social: "Social networks",
    legend_points: "appeals",
    legend_bins: "appeals per cell (log scale)",
    demo_badge: "Demo",
    boundaries_schematic_line: "schematic, 26 municipalities",
    polygons: "polygons",
    matched: "matched",
    unmatched_features: "not matched",
    without_polygon: "municipalities without a polygon",
};

impl Texts {
    /// Display name of a status text of the contract; other texts as they are.
    pub fn status<'a>(&self, status: &'a str) -> &'a str
    where
        'static: 'a,
    {
        match status {
            "new" => self.status_new,
            "in_progress" => self.status_in_progress,
            "resolved" => self.status_resolved,
            "rejected" => self.status_rejected,
            other => other,
        }
    }

    /// Display name of a source text of the contract; other texts as they are.
    pub fn source<'a>(&self, source: &'a str) -> &'a str
    where
        'static: 'a,
    {
        match source {
            "pos" => self.source_pos,
            "social" => self.source_social,
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_use_the_language_separator() {
        assert_eq!(Lang::Ru.number(132_000), "132\u{a0}000");
        assert_eq!(Lang::En.number(1_234_567), "1,234,567");
        assert_eq!(Lang::En.number(999), "999");
        assert_eq!(Lang::Ru.percent(1, 3), "33,3\u{a0}%");
    }
}
