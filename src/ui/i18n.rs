//! Russian and English texts of the interface. One struct per language, so a missing
//! translation is a compile error, not an untranslated label at run time.

use serde::{Deserialize, Serialize};

use crate::analysis::{Classification, DatePreset, Metric};

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

    /// The problem map's texts of this language.
    pub fn problem_texts(self) -> &'static super::problem_texts::ProblemTexts {
        match self {
            Self::Ru => &super::problem_texts::RU,
            Self::En => &super::problem_texts::EN,
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

    /// Formats a date (`29.11.2021` / `2021-11-29`).
    pub fn date(self, date: jiff::civil::Date) -> String {
        match self {
            Self::Ru => date.strftime("%d.%m.%Y").to_string(),
            Self::En => date.strftime("%Y-%m-%d").to_string(),
        }
    }

    /// Formats a number with `digits` decimals and the language's decimal mark.
    pub fn decimal(self, value: f64, digits: usize) -> String {
        let text = format!("{value:.digits$}");
        match self {
            Self::Ru => text.replace('.', ","),
            Self::En => text,
        }
    }

    /// Formats a metric value exactly as `stats --metric` prints it, with the language's marks.
    pub fn metric_value(self, metric: Metric, value: f64) -> String {
        match metric {
            Metric::Count if value.fract() == 0.0 => self.number(value.max(0.0) as u64),
            _ => {
                let text = metric.format(value);
                match self {
                    Self::Ru => text.replace('.', ","),
                    Self::En => text,
                }
            }
        }
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
    pub import_menu: &'static str,
    pub import_title: &'static str,
    pub import_files: &'static str,
    pub import_files_hint: &'static str,
    pub import_target: &'static str,
    pub import_encoding: &'static str,
    pub import_auto: &'static str,
    pub import_sheet: &'static str,
    pub import_preview: &'static str,
    pub import_mapping: &'static str,
    pub import_first_rows: &'static str,
    pub import_needs: &'static str,
    pub import_start: &'static str,
    pub import_rows: &'static str,
    pub import_rows_per_s: &'static str,
    pub import_imported: &'static str,
    pub import_updated: &'static str,
    pub import_unchanged: &'static str,
    pub import_rejected: &'static str,
    pub import_report: &'static str,
    pub import_open_target: &'static str,
    /// "updated" (the open database was reloaded after another process changed it).
    pub live_updated: &'static str,
    /// "new" (appeals added since the session opened the database).
    pub live_new: &'static str,
    /// The status bar when a table is read grouped (the pushdown strategy).
    pub grouped_in_database: &'static str,
    pub groups: &'static str,
    /// What "grouped in the database" means, on hover.
    pub grouped_hint: &'static str,
    /// The status bar while a large table is grouped in the database.
    pub grouping_in_database: &'static str,
    /// Why the points layer is empty for a grouped table.
    pub points_need_rows: &'static str,
    /// What a grouped table cannot show (answer times, addresses).
    pub needs_rows: &'static str,
    /// The export dialog on a grouped table.
    pub export_loads_rows: &'static str,
    pub menu_file: &'static str,
    pub open_database: &'static str,
    pub open_boundaries: &'static str,
    pub schematic_boundaries_menu: &'static str,
    pub open_demo: &'static str,
    /// File → Connect… (a PostgreSQL source).
    pub connect_menu: &'static str,
    pub connect_title: &'static str,
    pub connect_url: &'static str,
    pub connect_table: &'static str,
    pub connect_hint: &'static str,
    pub connect_button: &'static str,
    /// The source stopped answering: the data on screen is as of the last successful check.
    pub stale_badge: &'static str,
    pub stale_since: &'static str,
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
    pub presets_anchor: &'static str,
    pub from: &'static str,
    pub to: &'static str,
    pub search: &'static str,
    pub all: &'static str,
    pub none: &'static str,
    pub no_subcategory: &'static str,
    pub categories: &'static str,
    pub sources: &'static str,
    pub statuses: &'static str,
    pub municipalities: &'static str,
    pub unknown_municipality: &'static str,
    pub nothing_selected: &'static str,
    pub reset: &'static str,
    pub close: &'static str,
    pub zoom_to: &'static str,
    pub appeals_in_filter: &'static str,
    pub median_days: &'static str,
    pub p90_days: &'static str,
    pub answered: &'static str,
    pub per_week: &'static str,
    pub top_settlements: &'static str,
    pub top_addresses: &'static str,
    pub municipality: &'static str,
    pub other: &'static str,
    pub total: &'static str,
    pub no_data_short: &'static str,
    pub pivot_title: &'static str,
    pub per_capita: &'static str,
    pub export_csv: &'static str,
    pub copy: &'static str,
    pub change_needs_range: &'static str,
    pub mo_short: &'static str,
    pub no_data_value: &'static str,
    pub classes: &'static str,
    pub lock_scale: &'static str,
    pub lock_scale_hint: &'static str,
    pub show_points: &'static str,
    pub required_null: &'static str,
    pub disagreements: &'static str,
    pub show_table: &'static str,
    pub rank: &'static str,
    pub of: &'static str,
    pub top_categories: &'static str,
    pub copied: &'static str,
    pub saved: &'static str,
    pub unsupported_file: &'static str,
    pub playback_menu: &'static str,
    pub play: &'static str,
    pub pause: &'static str,
    pub frame_back: &'static str,
    pub frame_forward: &'static str,
    pub playback_frame: &'static str,
    pub step_week: &'static str,
    pub step_day: &'static str,
    pub window_moving: &'static str,
    pub window_cumulative: &'static str,
    pub playback_no_period: &'static str,
    pub basemap_menu: &'static str,
    pub basemap_builtin: &'static str,
    pub basemap_osm: &'static str,
    pub basemap_open_file: &'static str,
    pub basemap_open_folder: &'static str,
    pub basemap_open_folder_tms: &'static str,
    pub basemap_url: &'static str,
    pub basemap_url_apply: &'static str,
    pub tile_cache: &'static str,
    pub tile_cache_limit_mb: &'static str,
    pub tile_cache_clear: &'static str,
    pub tile_cache_cleared: &'static str,
    pub offline: &'static str,
    pub scale_m: &'static str,
    pub scale_km: &'static str,
    pub builtin_attribution: &'static str,
    pub basemap_opening: &'static str,
    pub search_label: &'static str,
    pub in_pixels: &'static str,
    pub export_heat: &'static str,
    pub export_heat_needs_layer: &'static str,
    pub class_settings: &'static str,
    pub density_settings: &'static str,
    pub density_layer: &'static str,
    pub per_km2: &'static str,
    pub density_exact: &'static str,
    pub density_fast: &'static str,
    pub lock_max: &'static str,
    pub lock_max_hint: &'static str,
    pub max_label: &'static str,
    pub radius_m: &'static str,
    pub kernel_label: &'static str,
    pub exact_label: &'static str,
    pub ramp_label: &'static str,
    pub opacity: &'static str,
    pub threshold: &'static str,
    pub density_at_cursor: &'static str,
    pub within_radius: &'static str,
    pub name_property: &'static str,
    pub name_property_hint: &'static str,
    pub partial_coordinates: &'static str,
    pub unparsable_received: &'static str,
    pub unparsable_resolved: &'static str,
    pub no_data_directory: &'static str,
    pub change_outside_data: &'static str,
    pub placed_by_point: &'static str,
    pub placed_by_point_approx: &'static str,
    pub all_except: &'static str,
    pub metric_label: &'static str,
    pub method_label: &'static str,
    pub remove: &'static str,
    pub presentation: &'static str,
    pub presentation_scale: &'static str,
    pub presentation_hint: &'static str,
    pub menu_views: &'static str,
    pub save_view: &'static str,
    pub view_name: &'static str,
    pub view_save: &'static str,
    pub view_delete: &'static str,
    pub no_views: &'static str,
    pub export_views: &'static str,
    pub import_views: &'static str,
    pub views_imported: &'static str,
    pub view_replaces: &'static str,
    pub data_as_of: &'static str,
    pub basemap_source: &'static str,
    pub basemap_builtin_short: &'static str,
    pub appeals_unit: &'static str,
    pub compare_menu: &'static str,
    pub compare_off: &'static str,
    pub compare_split: &'static str,
    pub compare_difference: &'static str,
    pub period_a: &'static str,
    pub period_b: &'static str,
    pub period_b_is_filter: &'static str,
    pub compare_previous: &'static str,
    pub compare_shared_scale: &'static str,
    pub compare_difference_title: &'static str,
    pub compare_percentage_points: &'static str,
    pub compare_more_in_b: &'static str,
    pub compare_more_in_a: &'static str,
    pub compare_change_as_count: &'static str,
    pub compare_heat_only: &'static str,
    pub compare_density_difference: &'static str,
    pub compare_letter_a: &'static str,
    pub compare_letter_b: &'static str,
    pub compare_computing: &'static str,
    pub export_map_menu: &'static str,
    pub export_dialog_title: &'static str,
    pub export_privacy_note: &'static str,
    pub export_format: &'static str,
    pub export_png: &'static str,
    pub export_pdf: &'static str,
    pub export_gif: &'static str,
    pub export_format_csv: &'static str,
    pub export_geojson: &'static str,
    pub export_title_label: &'static str,
    pub export_title_hint: &'static str,
    pub export_size: &'static str,
    pub export_points: &'static str,
    pub export_scale: &'static str,
    pub export_frames: &'static str,
    pub export_daily: &'static str,
    pub export_moving: &'static str,
    pub export_k: &'static str,
    pub export_k_hint: &'static str,
    pub export_run: &'static str,
    pub export_running: &'static str,
    pub export_done: &'static str,
    pub export_unavailable: &'static str,
}

/// Russian.
pub static RU: Texts = Texts {
    app_title: "Теплокарта",
    import_menu: "Импорт…",
    import_title: "Импорт обращений",
    import_files: "Файлы",
    import_files_hint: "CSV, Excel или GeoJSON; по одному пути в строке",
    import_target: "В базу",
    import_encoding: "Кодировка",
    import_auto: "определить",
    import_sheet: "Лист Excel",
    import_preview: "Просмотр",
    import_mapping: "Соответствие столбцов",
    import_first_rows: "Первые строки",
    import_needs: "Нужны база и столбцы для received_at и category",
    import_start: "Импортировать",
    import_rows: "строк",
    import_rows_per_s: "строк/с",
    import_imported: "добавлено",
    import_updated: "обновлено",
    import_unchanged: "без изменений",
    import_rejected: "отклонено",
    import_report: "отклонённые строки:",
    import_open_target: "Открыть базу",
    live_updated: "обновлено",
    live_new: "новых",
    grouped_in_database: "сгруппировано в БД",
    groups: "групп",
    grouping_in_database: "Группировка в БД",
    grouped_hint: "Таблица большая: строки не загружаются, база отдаёт их группами с числом обращений (GROUP BY). Все числа совпадают с загруженными строками; плотность считается в базе; точек, сроков ответа и адресов нет.",
    points_need_rows: "точки не показываются: таблица сгруппирована в базе (плотность считается в базе)",
    needs_rows: "нет — таблица сгруппирована в БД, нужны строки",
    export_loads_rows: "Таблица сгруппирована в БД: экспорт сгруппирует её так же и ещё раз прочтёт строки порциями для хеша данных (шестиугольные зоны загружают таблицу целиком)",
    menu_file: "Файл",
    open_database: "Открыть базу…",
    open_boundaries: "Открыть границы…",
    schematic_boundaries_menu: "Схематичные границы",
    open_demo: "Демонстрационные данные",
    connect_menu: "Подключиться к PostgreSQL…",
    connect_title: "Подключение к PostgreSQL",
    connect_url: "Адрес (postgres://… или host=… dbname=…)",
    connect_table: "Таблица",
    connect_hint: "Пароль берётся из PGPASSWORD или ~/.pgpass; Теплокарта его не сохраняет.",
    connect_button: "Подключиться",
    stale_badge: "⚠ нет связи с источником — данные устарели",
    stale_since: "последняя успешная проверка",
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
    bad_coordinates: "координаты не числа",
    zero_coordinates: "координаты 0,0",
    out_of_range: "вне диапазона",
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
    presets_anchor: "по состоянию на",
    from: "с",
    to: "по",
    search: "поиск",
    all: "все",
    none: "ни одной",
    no_subcategory: "(без подкатегории)",
    categories: "Категории",
    sources: "Источники",
    statuses: "Статусы",
    municipalities: "Муниципалитеты",
    unknown_municipality: "(вне границ / неизвестно)",
    nothing_selected: "ничего не выбрано",
    reset: "Сбросить фильтр",
    close: "Закрыть",
    zoom_to: "Показать на карте",
    appeals_in_filter: "Обращений по фильтру",
    median_days: "медиана, дней до ответа",
    p90_days: "90-й процентиль",
    answered: "с ответом",
    per_week: "Обращения по неделям",
    top_settlements: "Населённые пункты",
    top_addresses: "Адреса",
    municipality: "Муниципалитет",
    other: "Другие",
    total: "Итого",
    no_data_short: "нет данных",
    pivot_title: "Муниципалитеты × категории",
    per_capita: "на 10 000 жителей",
    export_csv: "Экспорт CSV…",
    copy: "Копировать",
    change_needs_range: "Изменение считается для выбранного периода: задайте даты.",
    mo_short: "МО",
    no_data_value: "нет данных",
    classes: "классов",
    lock_scale: "Зафиксировать шкалу",
    lock_scale_hint: "Границы классов не меняются при смене фильтра — два периода сравниваются честно",
    show_points: "Точки",
    required_null: "пустые обязательные поля",
    disagreements: "МО и координаты расходятся",
    show_table: "Таблица МО × категории",
    rank: "место",
    of: "из",
    top_categories: "Главные категории",
    copied: "Таблица скопирована в буфер обмена",
    saved: "Сохранено",
    search_label: "Поиск:",
    in_pixels: "в пикселях",
    export_heat: "Экспорт слоя плотности…",
    export_heat_needs_layer: "Сначала включите слой плотности в легенде: экспортируется то, что на экране (точным расчётом).",
    class_settings: "Классы",
    density_settings: "Параметры плотности",
    density_layer: "Плотность обращений",
    per_km2: "обращений/км²",
    density_exact: "точный расчёт: каждое обращение на своём месте",
    density_fast: "быстрый расчёт: обращения сгруппированы в 4 раза мельче ячейки",
    lock_max: "Зафиксировать максимум",
    lock_max_hint: "Шкала не меняется при смене фильтра и масштаба: периоды и совещания сравнимы",
    max_label: "максимум",
    radius_m: "радиус",
    kernel_label: "ядро",
    exact_label: "точно",
    ramp_label: "палитра",
    opacity: "непрозрачность",
    threshold: "порог",
    density_at_cursor: "Плотность",
    within_radius: "обращений в радиусе",
    name_property: "Свойство с названием",
    name_property_hint: "определить само",
    partial_coordinates: "только одна координата",
    unparsable_received: "нераспознанная дата поступления",
    unparsable_resolved: "нераспознанная дата ответа",
    no_data_directory: "нет пользовательского каталога данных для демонстрационной базы",
    change_outside_data: "Предыдущий период той же длины начинается раньше данных — сравнивать не с чем.",
    placed_by_point: "МО по координатам",
    placed_by_point_approx: "МО по координатам (схематичные границы, приблизительно)",
    all_except: "все, кроме",
    metric_label: "показатель",
    method_label: "метод",
    remove: "Убрать из фильтра",
    unsupported_file: "неподдерживаемый тип файла (нужен .sqlite, .db, .geojson, .mbtiles, .pmtiles или папка тайлов)",
    playback_menu: "Воспроизведение по времени",
    play: "▶ Пуск",
    pause: "⏸ Пауза",
    frame_back: "◀",
    frame_forward: "▶",
    playback_frame: "Кадр",
    step_week: "по неделям",
    step_day: "по дням",
    window_moving: "за неделю/день",
    window_cumulative: "накопительно",
    playback_no_period: "для воспроизведения нужен период: в данных нет дат",
    basemap_menu: "Подложка",
    basemap_builtin: "Встроенная карта (без сети)",
    basemap_osm: "OpenStreetMap (через интернет)",
    basemap_open_file: "Файл тайлов (MBTiles, PMTiles)…",
    basemap_open_folder: "Папка тайлов (XYZ, SAS.Planet)…",
    basemap_open_folder_tms: "Папка тайлов в порядке TMS…",
    basemap_url: "Свой сервер тайлов (шаблон XYZ):",
    basemap_url_apply: "Подключить",
    tile_cache: "Кэш тайлов",
    tile_cache_limit_mb: "Предел, МБ",
    tile_cache_clear: "Очистить кэш",
    tile_cache_cleared: "Кэш тайлов очищен, освобождено",
    offline: "нет сети: подложка из кэша",
    scale_m: "м",
    scale_km: "км",
    builtin_attribution: "Границы, контур: © участники OpenStreetMap (ODbL) · населённые пункты: GeoNames (CC BY 4.0)",
    basemap_opening: "открывается подложка…",
    presentation: "Презентация (F5)",
    presentation_scale: "Размер текста в презентации",
    presentation_hint: "Esc — выход · ← → PgUp PgDn — виды · + − и Shift+стрелки — карта",
    menu_views: "Виды",
    save_view: "Сохранить текущий вид…",
    view_name: "Название вида",
    view_save: "Сохранить",
    view_delete: "Удалить",
    no_views: "Нет сохранённых видов",
    export_views: "Экспорт видов…",
    import_views: "Импорт видов…",
    views_imported: "Импортировано видов",
    view_replaces: "Вид с таким названием будет заменён",
    data_as_of: "Данные на",
    basemap_source: "Подложка",
    basemap_builtin_short: "встроенная карта",
    appeals_unit: "обращений",
    compare_menu: "Сравнение периодов",
    compare_off: "Без сравнения",
    compare_split: "Две карты рядом (А | Б)",
    compare_difference: "Разность (Б − А)",
    period_a: "Период А",
    period_b: "Период Б",
    period_b_is_filter: "период фильтра",
    compare_previous: "предыдущий той же длины",
    compare_shared_scale: "Одна шкала для обеих карт",
    compare_difference_title: "Разность Б − А",
    compare_percentage_points: "процентных пунктов",
    compare_more_in_b: "больше в Б",
    compare_more_in_a: "больше в А",
    compare_change_as_count: "изменение к прошлому периоду заменено числом обращений",
    compare_heat_only: "Сравнение периодов — только для тепловой карты",
    compare_density_difference: "Плотность Б − А",
    compare_letter_a: "А",
    compare_letter_b: "Б",
    compare_computing: "Сравнение считается…",
    export_map_menu: "Экспорт карты…",
    export_dialog_title: "Экспорт для совещания",
    export_privacy_note: "Экспортируется вид на экране: охват карты, слои и фильтр. Только агрегаты — ни текста обращений, ни адресов, ни точек.",
    export_format: "Формат",
    export_png: "PNG — карта",
    export_pdf: "PDF — справка: карта, таблицы, недельный график",
    export_gif: "GIF — воспроизведение по времени",
    export_format_csv: "CSV — агрегаты (таблица)",
    export_geojson: "GeoJSON — агрегаты с границами",
    export_title_label: "Заголовок",
    export_title_hint: "название вида или фильтр словами",
    export_size: "Размер",
    export_points: "точек",
    export_scale: "Масштаб для печати",
    export_frames: "Кадры",
    export_daily: "по дням (иначе по неделям)",
    export_moving: "каждый кадр — только своя неделя/день (иначе нарастающим итогом)",
    export_k: "k-анонимность",
    export_k_hint: "МО и зоны, где обращений от 1 до k−1, объединяются в «прочие» или скрываются.",
    export_run: "Экспортировать",
    export_running: "Экспорт…",
    export_done: "Готово",
    export_unavailable: "Экспорт выполняет программа teplokarta; в этой сборке он недоступен",
};

/// English.
pub static EN: Texts = Texts {
    app_title: "Teplokarta",
    import_menu: "Import…",
    import_title: "Import appeals",
    import_files: "Files",
    import_files_hint: "CSV, Excel or GeoJSON; one path per line",
    import_target: "Into database",
    import_encoding: "Encoding",
    import_auto: "detect",
    import_sheet: "Excel sheet",
    import_preview: "Preview",
    import_mapping: "Column mapping",
    import_first_rows: "First rows",
    import_needs: "A database and columns for received_at and category are needed",
    import_start: "Import",
    import_rows: "rows",
    import_rows_per_s: "rows/s",
    import_imported: "imported",
    import_updated: "updated",
    import_unchanged: "unchanged",
    import_rejected: "rejected",
    import_report: "rejected rows:",
    import_open_target: "Open the database",
    live_updated: "updated",
    live_new: "new",
    grouped_in_database: "grouped in the DB",
    groups: "groups",
    grouping_in_database: "Grouping in the DB",
    grouped_hint: "The table is large: its rows are not loaded, the database returns them grouped with their counts (GROUP BY). Every number equals the loaded rows'; the density is binned in the database; there are no points, answer times or addresses.",
    points_need_rows: "points are not drawn: the table is grouped in the database (the density is binned there)",
    needs_rows: "not available — the table is grouped in the DB, this needs its rows",
    export_loads_rows: "The table is grouped in the DB: the export groups it too and reads its rows once more, in batches, for the data hash (hexagon zones load the whole table)",
    menu_file: "File",
    open_database: "Open database…",
    open_boundaries: "Open boundaries…",
    schematic_boundaries_menu: "Schematic boundaries",
    open_demo: "Demo data",
    connect_menu: "Connect to PostgreSQL…",
    connect_title: "Connect to PostgreSQL",
    connect_url: "Address (postgres://… or host=… dbname=…)",
    connect_table: "Table",
    connect_hint: "The password comes from PGPASSWORD or ~/.pgpass; Teplokarta never stores it.",
    connect_button: "Connect",
    stale_badge: "⚠ source unreachable — data is stale",
    stale_since: "last successful check",
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
    bad_coordinates: "coordinates not numeric",
    zero_coordinates: "coordinates 0,0",
    out_of_range: "out of range",
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
    presets_anchor: "as of",
    from: "from",
    to: "to",
    search: "search",
    all: "all",
    none: "none",
    no_subcategory: "(no subcategory)",
    categories: "Categories",
    sources: "Sources",
    statuses: "Statuses",
    municipalities: "Municipalities",
    unknown_municipality: "(outside boundaries / unknown)",
    nothing_selected: "nothing selected",
    reset: "Reset filter",
    close: "Close",
    zoom_to: "Zoom to",
    appeals_in_filter: "Appeals in the filter",
    median_days: "median days to answer",
    p90_days: "90th percentile",
    answered: "answered",
    per_week: "Appeals per week",
    top_settlements: "Top settlements",
    top_addresses: "Top addresses",
    municipality: "Municipality",
    other: "Other",
    total: "Total",
    no_data_short: "no data",
    pivot_title: "Municipalities × categories",
    per_capita: "per 10,000 residents",
    export_csv: "Export CSV…",
    copy: "Copy",
    change_needs_range: "Change needs a date range: choose the dates.",
    mo_short: "mun.",
    no_data_value: "no data",
    classes: "classes",
    lock_scale: "Lock scale",
    lock_scale_hint: "Class bounds stay when the filter changes, so two periods compare honestly",
    show_points: "Points",
    required_null: "empty required fields",
    disagreements: "municipality and point disagree",
    show_table: "Municipality × category table",
    rank: "rank",
    of: "of",
    top_categories: "Top categories",
    copied: "Table copied to the clipboard",
    saved: "Saved",
    search_label: "Search:",
    in_pixels: "in pixels",
    export_heat: "Export heat layer…",
    export_heat_needs_layer: "Turn the density layer on in the legend first: the export is what is on screen (computed exactly).",
    class_settings: "Classes",
    density_settings: "Density settings",
    density_layer: "Appeal density",
    per_km2: "appeals/km²",
    density_exact: "exact: every appeal at its position",
    density_fast: "fast: appeals binned 4× finer than a cell",
    lock_max: "Lock maximum",
    lock_max_hint: "The scale stays when the filter or zoom changes, so periods and meetings compare",
    max_label: "maximum",
    radius_m: "radius",
    kernel_label: "kernel",
    exact_label: "exact",
    ramp_label: "ramp",
    opacity: "opacity",
    threshold: "threshold",
    density_at_cursor: "Density",
    within_radius: "appeals within the radius",
    name_property: "Name property",
    name_property_hint: "detect",
    partial_coordinates: "only one of lat/lon",
    unparsable_received: "unparsable received date",
    unparsable_resolved: "unparsable answer date",
    no_data_directory: "no user data directory to keep the demo database in",
    change_outside_data: "The previous period of the same length starts before the data: nothing to compare with.",
    placed_by_point: "municipality from the point",
    placed_by_point_approx: "municipality from the point (schematic boundaries, approximate)",
    all_except: "all except",
    metric_label: "metric",
    method_label: "method",
    remove: "Remove from the filter",
    unsupported_file: "unsupported file type (expected .sqlite, .db, .geojson, .mbtiles, .pmtiles or a tile folder)",
    playback_menu: "Time playback",
    play: "▶ Play",
    pause: "⏸ Pause",
    frame_back: "◀",
    frame_forward: "▶",
    playback_frame: "Frame",
    step_week: "weekly",
    step_day: "daily",
    window_moving: "that week/day only",
    window_cumulative: "cumulative",
    playback_no_period: "playback needs a period: the data has no dates",
    basemap_menu: "Basemap",
    basemap_builtin: "Built-in map (offline)",
    basemap_osm: "OpenStreetMap (online)",
    basemap_open_file: "Tile file (MBTiles, PMTiles)…",
    basemap_open_folder: "Tile folder (XYZ, SAS.Planet)…",
    basemap_open_folder_tms: "Tile folder in TMS order…",
    basemap_url: "Own tile server (XYZ template):",
    basemap_url_apply: "Connect",
    tile_cache: "Tile cache",
    tile_cache_limit_mb: "Limit, MB",
    tile_cache_clear: "Clear cache",
    tile_cache_cleared: "Tile cache cleared, freed",
    offline: "offline: basemap from cache",
    scale_m: "m",
    scale_km: "km",
    builtin_attribution: "Boundaries, outline: © OpenStreetMap contributors (ODbL) · settlements: GeoNames (CC BY 4.0)",
    basemap_opening: "opening the basemap…",
    presentation: "Presentation (F5)",
    presentation_scale: "Text size in presentation",
    presentation_hint: "Esc — exit · ← → PgUp PgDn — views · + − and Shift+arrows — map",
    menu_views: "Views",
    save_view: "Save current view…",
    view_name: "View name",
    view_save: "Save",
    view_delete: "Delete",
    no_views: "No saved views",
    export_views: "Export views…",
    import_views: "Import views…",
    views_imported: "Views imported",
    view_replaces: "A view of this name will be replaced",
    data_as_of: "Data as of",
    basemap_source: "Basemap",
    basemap_builtin_short: "built-in map",
    appeals_unit: "appeals",
    compare_menu: "Compare periods",
    compare_off: "No comparison",
    compare_split: "Side by side (A | B)",
    compare_difference: "Difference (B − A)",
    period_a: "Period A",
    period_b: "Period B",
    period_b_is_filter: "the filter's period",
    compare_previous: "the previous one of the same length",
    compare_shared_scale: "One scale for both maps",
    compare_difference_title: "Difference B − A",
    compare_percentage_points: "percentage points",
    compare_more_in_b: "more in B",
    compare_more_in_a: "more in A",
    compare_change_as_count: "the change vs the previous period is replaced by the appeal count",
    compare_heat_only: "Period comparison is for the heat map only",
    compare_density_difference: "Density B − A",
    compare_letter_a: "A",
    compare_letter_b: "B",
    compare_computing: "Computing the comparison…",
    export_map_menu: "Export map…",
    export_dialog_title: "Export for a meeting",
    export_privacy_note: "The view on screen is exported: the map's extent, layers and filter. Aggregates only — no appeal text, address or point.",
    export_format: "Format",
    export_png: "PNG — the map",
    export_pdf: "PDF — a briefing: map, tables, weekly chart",
    export_gif: "GIF — the time playback",
    export_format_csv: "CSV — the aggregates (a table)",
    export_geojson: "GeoJSON — the aggregates with boundaries",
    export_title_label: "Title",
    export_title_hint: "the view's name or the filter in words",
    export_size: "Size",
    export_points: "points",
    export_scale: "Print scale",
    export_frames: "Frames",
    export_daily: "daily (else weekly)",
    export_moving: "each frame its own week/day only (else cumulative)",
    export_k: "k-anonymity",
    export_k_hint: "Municipalities and zones with 1 to k−1 appeals are merged into “other” or hidden.",
    export_run: "Export",
    export_running: "Exporting…",
    export_done: "Done",
    export_unavailable: "Exports run through the teplokarta program; not available in this build",
};

impl Texts {
    /// A database error in the interface language (the file named last, as in the English text).
    pub fn data_error(&self, e: &crate::data::DataError) -> String {
        use crate::data::DataError as D;
        if !std::ptr::eq(self, &RU) {
            return e.to_string();
        }
        match e {
            D::NotFound { path } => format!("файл не найден: {}", path.display()),
            D::Open { path, source } => {
                format!("не удаётся открыть базу ({source}): {}", path.display())
            }
            D::NotSqlite { path } => format!("это не база SQLite: {}", path.display()),
            D::Corrupt { path, detail } => format!(
                "база повреждена или обрезана ({detail}): {}",
                path.display()
            ),
            D::Locked { path, waited_ms } => format!(
                "база заблокирована другим процессом, который в неё пишет (ждали {waited_ms} мс); повторите, когда запись закончится: {}",
                path.display()
            ),
            D::MissingTable { path, present } => {
                format!(
                    "в базе нет таблицы `appeals` (есть: {present}): {}",
                    path.display()
                )
            }
            D::MissingColumn {
                path,
                column,
                present,
            } => format!(
                "в таблице `appeals` нет обязательного столбца `{column}` (есть: {present}): {}",
                path.display()
            ),
            D::WrongType {
                path,
                row_id,
                column,
                expected,
                found,
            } => format!(
                "таблица `appeals`, строка id {row_id}, столбец `{column}`: ожидалось {expected}, найдено {found}: {}",
                path.display()
            ),
            D::Sqlite { path, source } => {
                format!("ошибка SQLite ({source}): {}", path.display())
            }
            D::Write { what, path, source } => {
                format!("не удаётся записать {what} ({source}): {}", path.display())
            }
            D::Postgres(e) => pg_error_ru(e),
            D::TooManyRows { rows, max } => format!(
                "проблемной карте нужны строки её фильтра и профиля, а их {rows} (загружается не больше {max}): сузьте период или категории"
            ),
            D::PushdownDensity(limit) => {
                use crate::data::DensityLimit as L;
                let why = match limit {
                    L::NotGrouped => "строки не сгруппированы",
                    L::RadiusTooWide => {
                        "радиус слишком велик для этого масштаба (приблизьте карту или уменьшите радиус)"
                    }
                    L::InexactColumns => {
                        "типы столбцов таблицы не позволяют точно отфильтровать в SQL"
                    }
                    L::BinningChanged => "изменилась разбивка быстрого режима",
                };
                format!("плотность не может быть посчитана в базе: {why}")
            }
        }
    }

    /// A boundaries error in the interface language.
    pub fn spatial_error(&self, e: &crate::spatial::SpatialError) -> String {
        use crate::spatial::SpatialError as S;
        if !std::ptr::eq(self, &RU) {
            return e.to_string();
        }
        match e {
            S::Io { path, source } => format!(
                "не удаётся прочитать границы ({source}): {}",
                path.display()
            ),
            S::NotGeoJson { path, detail } => {
                format!("файл границ — не GeoJSON ({detail}): {}", path.display())
            }
            S::NoPolygons {
                path,
                features,
                types,
            } => format!(
                "в файле границ нет полигонов ({features} объектов, типы геометрии: {types}): {}",
                path.display()
            ),
            S::NoNameProperty {
                path,
                wanted,
                present,
            } => format!(
                "в файле границ нет свойства с названием {wanted}; есть: {present} (укажите --name-property): {}",
                path.display()
            ),
            S::NotWgs84 {
                path,
                feature,
                lon,
                lat,
            } => format!(
                "объект {feature}: координаты вне градусов WGS84 ({lon}, {lat}) — файл в проекции, сохраните его в EPSG:4326: {}",
                path.display()
            ),
        }
    }

    /// Name of a date preset.
    pub fn preset(&self, preset: DatePreset) -> &'static str {
        let ru = std::ptr::eq(self, &RU);
        match (preset, ru) {
            (DatePreset::Today, true) => "Сегодня",
            (DatePreset::Last7Days, true) => "7 дней",
            (DatePreset::Last30Days, true) => "30 дней",
            (DatePreset::Quarter, true) => "Квартал",
            (DatePreset::Year, true) => "Год",
            (DatePreset::All, true) => "Всё время",
            (DatePreset::Today, false) => "Today",
            (DatePreset::Last7Days, false) => "7 days",
            (DatePreset::Last30Days, false) => "30 days",
            (DatePreset::Quarter, false) => "Quarter",
            (DatePreset::Year, false) => "Year",
            (DatePreset::All, false) => "All time",
        }
    }

    /// Name of a choropleth metric.
    pub fn metric(&self, metric: Metric) -> &'static str {
        let ru = std::ptr::eq(self, &RU);
        match (metric, ru) {
            (Metric::Count, true) => "Число обращений",
            (Metric::Per10k, true) => "Обращений на 10 000 жителей",
            (Metric::Unresolved, true) => "Доля без ответа",
            (Metric::Change, true) => "Изменение к прошлому периоду",
            (Metric::Count, false) => "Appeals",
            (Metric::Per10k, false) => "Appeals per 10,000 residents",
            (Metric::Unresolved, false) => "Share not yet answered",
            (Metric::Change, false) => "Change vs the previous period",
        }
    }

    /// Unit of a choropleth metric.
    pub fn metric_unit(&self, metric: Metric) -> &'static str {
        let ru = std::ptr::eq(self, &RU);
        match (metric, ru) {
            (Metric::Count, true) => "обращений за период",
            (Metric::Per10k, true) => {
                "обращений на 10 000 жителей (население — data/municipalities.csv)"
            }
            (Metric::Unresolved, true) => "% обращений в статусе «новое», «в работе» и др.",
            (Metric::Change, true) => "% к предыдущему периоду той же длины",
            (Metric::Count, false) => "appeals in the period",
            (Metric::Per10k, false) => {
                "appeals per 10,000 residents (population: data/municipalities.csv)"
            }
            (Metric::Unresolved, false) => "% of appeals new, in progress or other",
            (Metric::Change, false) => "% against the previous period of the same length",
        }
    }

    /// Name of a classification method.
    pub fn classification(&self, c: Classification) -> &'static str {
        let ru = std::ptr::eq(self, &RU);
        match (c, ru) {
            (Classification::Quantiles, true) => "Квантили",
            (Classification::EqualIntervals, true) => "Равные интервалы",
            (Classification::NaturalBreaks, true) => "Естественные границы (Дженкс)",
            (Classification::Quantiles, false) => "Quantiles",
            (Classification::EqualIntervals, false) => "Equal intervals",
            (Classification::NaturalBreaks, false) => "Natural breaks (Jenks)",
        }
    }

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

/// A PostgreSQL error in Russian (the server named last, never a password).
fn pg_error_ru(e: &crate::data::PgError) -> String {
    use crate::data::PgError as P;
    match e {
        P::Url { detail } => format!("это не строка подключения PostgreSQL ({detail})"),
        P::Unreachable { target, detail } => format!(
            "сервер PostgreSQL недоступен ({detail}); запущен ли он и принимает ли TCP-подключения?: {target}"
        ),
        P::Auth {
            target,
            user,
            password_from,
            detail,
        } => format!(
            "сервер PostgreSQL отказал пользователю `{user}` ({detail}); пароль взят из: {password_from}: {target}"
        ),
        P::Tls { target, detail } => {
            format!("не удалось установить TLS с сервером PostgreSQL ({detail}): {target}")
        }
        P::MissingTable {
            target,
            table,
            present,
        } => format!("в базе нет таблицы `{table}` (есть: {present}): {target}"),
        P::MissingColumn {
            target,
            table,
            column,
            present,
        } => format!(
            "в таблице `{table}` нет обязательного столбца `{column}` (есть: {present}): {target}"
        ),
        P::WrongType {
            place,
            row_id,
            column,
            expected,
            found,
        } => format!(
            "строка id {row_id}, столбец `{column}`: ожидалось {expected}, найдено {found}: {place}"
        ),
        P::Server {
            target,
            doing,
            detail,
        } => format!("ошибка PostgreSQL ({doing}: {detail}): {target}"),
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

    #[test]
    fn postgres_errors_are_translated_and_name_the_server_last() {
        let e = crate::data::DataError::from(crate::data::PgError::Unreachable {
            target: "postgres://viewer@db:5432/situation".into(),
            detail: "connection refused".into(),
        });
        let ru = Lang::Ru.texts().data_error(&e);
        assert!(ru.starts_with("сервер PostgreSQL недоступен"), "{ru}");
        assert!(
            ru.ends_with(": postgres://viewer@db:5432/situation"),
            "{ru}"
        );
        let en = Lang::En.texts().data_error(&e);
        assert!(en.starts_with("cannot reach the PostgreSQL server"), "{en}");
        assert!(
            en.ends_with(": postgres://viewer@db:5432/situation"),
            "{en}"
        );
    }
}
