//! Russian and English texts of the problem map (panel, legend, tooltip, list). One struct per
//! language, as in [`super::i18n`], so a missing translation does not compile.

use crate::analysis::hotspot::{Change, HotClass};
use crate::analysis::problems::{Emerging, RankBy, SliceKind, ZoneKind};

/// Every text of the problem map.
#[derive(Debug)]
pub struct ProblemTexts {
    pub heat_map: &'static str,
    pub problem_map: &'static str,
    pub title: &'static str,
    pub profile: &'static str,
    pub in_garden_communities: &'static str,
    pub zones: &'static str,
    pub settlements: &'static str,
    pub hexagons: &'static str,
    /// Why a table grouped in the database has no hexagonal grid (text coordinates).
    pub hexagons_grouped: &'static str,
    pub municipalities: &'static str,
    pub cell_km: &'static str,
    pub neighbours: &'static str,
    pub within_km: &'static str,
    pub nearest: &'static str,
    pub auto: &'static str,
    pub fdr: &'static str,
    pub slices: &'static str,
    pub weeks: &'static str,
    pub months: &'static str,
    pub intervention: &'static str,
    pub intervention_hint: &'static str,
    pub clear: &'static str,
    pub window_h: &'static str,
    pub deadline_days: &'static str,
    pub rank_by: &'static str,
    pub rank_z: &'static str,
    pub rank_appeals: &'static str,
    pub rank_growth: &'static str,
    pub rank_open: &'static str,
    pub col_zone: &'static str,
    pub col_trend: &'static str,
    pub col_appeals: &'static str,
    pub col_appeals_incidents: &'static str,
    pub col_open_overdue: &'static str,
    pub col_incidents: &'static str,
    pub col_z: &'static str,
    pub col_last: &'static str,
    pub col_open: &'static str,
    pub col_overdue: &'static str,
    pub col_series: &'static str,
    pub col_change: &'static str,
    pub near: &'static str,
    pub summary: &'static str,
    pub not_in_zone: &'static str,
    pub nothing: &'static str,
    pub computing: &'static str,
    pub zone_appeals: &'static str,
    pub more_appeals: &'static str,
    pub median_days: &'static str,
    pub before_after: &'static str,
    pub rate_ratio: &'static str,
    pub per_day: &'static str,
    pub p_value: &'static str,
    pub legend_title: &'static str,
    pub trend_test: &'static str,
    pub hot_in_slices: &'static str,
    pub edit_profile: &'static str,
    pub profile_name: &'static str,
    pub profile_name_en: &'static str,
    pub profile_categories: &'static str,
    pub profile_places: &'static str,
    pub everywhere: &'static str,
    pub save_profile: &'static str,
    pub save_as_new: &'static str,
    pub delete_profile: &'static str,
    pub profiles_file: &'static str,
    pub export_problems: &'static str,
    pub zoom_to_zone: &'static str,
    pub close: &'static str,
    pub class_names: [&'static str; 7],
    pub emerging_names: [&'static str; 7],
    pub change_names: [&'static str; 4],
}

impl ProblemTexts {
    /// Name of a Gi* class.
    pub fn class(&self, c: HotClass) -> &'static str {
        self.class_names
            .get((i32::from(c.gi_bin()) + 3).clamp(0, 6) as usize)
            .copied()
            .unwrap_or("")
    }

    /// Name of an emerging-hot-spot category.
    pub fn emerging(&self, e: Emerging) -> &'static str {
        let k = Emerging::ALL.iter().position(|x| *x == e).unwrap_or(6);
        self.emerging_names.get(k).copied().unwrap_or("")
    }

    /// Name of an intervention outcome.
    pub fn change(&self, c: Change) -> &'static str {
        let k = match c {
            Change::Improved => 0,
            Change::NoChange => 1,
            Change::Worse => 2,
            Change::NoData => 3,
        };
        self.change_names.get(k).copied().unwrap_or("")
    }

    /// Name of a zoning.
    pub fn zone_kind(&self, k: ZoneKind) -> &'static str {
        match k {
            ZoneKind::Settlements => self.settlements,
            ZoneKind::Hexagons => self.hexagons,
            ZoneKind::Municipalities => self.municipalities,
        }
    }

    /// Name of a list order.
    pub fn rank(&self, r: RankBy) -> &'static str {
        match r {
            RankBy::ZScore => self.rank_z,
            RankBy::Appeals => self.rank_appeals,
            RankBy::Growth => self.rank_growth,
            RankBy::Open => self.rank_open,
        }
    }

    /// Name of a slice length.
    pub fn slice(&self, s: SliceKind) -> &'static str {
        match s {
            SliceKind::Week => self.weeks,
            SliceKind::Month => self.months,
        }
    }
}

/// Russian.
pub static RU: ProblemTexts = ProblemTexts {
    heat_map: "Тепловая карта",
    problem_map: "Проблемная карта",
    title: "Проблемные зоны",
    profile: "Проблема",
    in_garden_communities: "только СНТ, ДНТ, СОТ",
    zones: "Зоны",
    settlements: "населённые пункты",
    hexagons: "шестиугольная сетка",
    hexagons_grouped: "Шестиугольной сетке нужна точка каждого обращения, а координаты \
        таблицы — не числа: выберите населённые пункты или муниципалитеты.",
    municipalities: "муниципалитеты",
    cell_km: "ячейка, км",
    neighbours: "Соседи",
    within_km: "в радиусе, км",
    nearest: "ближайшие",
    auto: "авто",
    fdr: "поправка FDR (ложные открытия)",
    slices: "Шаг времени",
    weeks: "недели",
    months: "месяцы",
    intervention: "Начало работ",
    intervention_hint: "сравнить частоту обращений до и после этой даты",
    clear: "очистить",
    window_h: "один случай, ч",
    deadline_days: "срок ответа, дней",
    rank_by: "Порядок",
    rank_z: "по z-оценке",
    rank_appeals: "по числу обращений",
    rank_growth: "по росту",
    rank_open: "по открытым",
    col_zone: "Зона",
    col_trend: "Динамика",
    col_appeals: "Обращ.",
    col_appeals_incidents: "Обращ. / случаев",
    col_open_overdue: "Откр. / просроч.",
    col_incidents: "Случаев",
    col_z: "z",
    col_last: "Последнее",
    col_open: "Откр.",
    col_overdue: "Просроч.",
    col_series: "По времени",
    col_change: "До/после",
    near: "у",
    summary: "обращений в зонах",
    not_in_zone: "вне зон",
    nothing: "Нет обращений этой проблемы в фильтре",
    computing: "Расчёт…",
    zone_appeals: "Обращения зоны",
    more_appeals: "ещё",
    median_days: "медиана дней до ответа",
    before_after: "до / после",
    rate_ratio: "отношение частот",
    per_day: "в день",
    p_value: "p",
    legend_title: "Горячие и холодные точки (Gi*)",
    trend_test: "тренд Манна — Кендалла",
    hot_in_slices: "горячая в",
    edit_profile: "Изменить проблему…",
    profile_name: "Название",
    profile_name_en: "Название (англ.)",
    profile_categories: "Категории",
    profile_places: "Муниципалитеты",
    everywhere: "везде",
    save_profile: "Сохранить",
    save_as_new: "Сохранить как новую",
    delete_profile: "Удалить свою",
    profiles_file: "Файл проблем",
    export_problems: "Экспорт проблемных зон…",
    zoom_to_zone: "Показать на карте",
    close: "Закрыть",
    class_names: [
        "холодная 99 %",
        "холодная 95 %",
        "холодная 90 %",
        "не значима",
        "горячая 90 %",
        "горячая 95 %",
        "горячая 99 %",
    ],
    emerging_names: [
        "новая",
        "усиливается",
        "устойчивая",
        "ослабевает",
        "эпизодическая",
        "в прошлом",
        "без закономерности",
    ],
    change_names: ["лучше", "без изменений", "хуже", "нет данных"],
};

/// English.
pub static EN: ProblemTexts = ProblemTexts {
    heat_map: "Heat map",
    problem_map: "Problem map",
    title: "Problem zones",
    profile: "Problem",
    in_garden_communities: "garden communities only (СНТ, ДНТ, СОТ)",
    zones: "Zones",
    settlements: "settlements",
    hexagons: "hexagonal grid",
    hexagons_grouped: "The hexagonal grid needs every appeal's point, and the table's \
        coordinates are not numbers: choose settlements or municipalities.",
    municipalities: "municipalities",
    cell_km: "cell, km",
    neighbours: "Neighbours",
    within_km: "within, km",
    nearest: "nearest",
    auto: "auto",
    fdr: "false discovery rate correction",
    slices: "Time slices",
    weeks: "weeks",
    months: "months",
    intervention: "Work started",
    intervention_hint: "compare the rate of appeals before and after this date",
    clear: "clear",
    window_h: "one incident, h",
    deadline_days: "answer deadline, days",
    rank_by: "Order",
    rank_z: "by z-score",
    rank_appeals: "by appeals",
    rank_growth: "by growth",
    rank_open: "by open appeals",
    col_zone: "Zone",
    col_trend: "Trend",
    col_appeals: "Appeals",
    col_appeals_incidents: "Appeals / incidents",
    col_open_overdue: "Open / overdue",
    col_incidents: "Incidents",
    col_z: "z",
    col_last: "Last",
    col_open: "Open",
    col_overdue: "Overdue",
    col_series: "Over time",
    col_change: "Before/after",
    near: "near",
    summary: "appeals in zones",
    not_in_zone: "in no zone",
    nothing: "No appeals of this problem in the filter",
    computing: "Computing…",
    zone_appeals: "Appeals of the zone",
    more_appeals: "more",
    median_days: "median days to answer",
    before_after: "before / after",
    rate_ratio: "rate ratio",
    per_day: "per day",
    p_value: "p",
    legend_title: "Hot and cold spots (Gi*)",
    trend_test: "Mann-Kendall trend",
    hot_in_slices: "hot in",
    edit_profile: "Edit problem…",
    profile_name: "Name",
    profile_name_en: "Name (English)",
    profile_categories: "Categories",
    profile_places: "Municipalities",
    everywhere: "everywhere",
    save_profile: "Save",
    save_as_new: "Save as new",
    delete_profile: "Delete mine",
    profiles_file: "Problems file",
    export_problems: "Export problem zones…",
    zoom_to_zone: "Zoom to zone",
    close: "Close",
    class_names: [
        "cold spot 99%",
        "cold spot 95%",
        "cold spot 90%",
        "not significant",
        "hot spot 90%",
        "hot spot 95%",
        "hot spot 99%",
    ],
    emerging_names: [
        "new",
        "intensifying",
        "persistent",
        "diminishing",
        "sporadic",
        "historical",
        "no pattern",
    ],
    change_names: ["improved", "no change", "worse", "no data"],
};
