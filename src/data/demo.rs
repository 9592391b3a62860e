//! The built-in demo: a deterministic generator (ChaCha8, seeded) of a realistic year of appeals
//! for Tyumen oblast, shaped after the situation room's 2021 figures. The model is documented in
//! `docs/demo-data.md`; the shares here are that document's table.
//!
//! Everything is invented: texts and addresses name no real person; the СНТ names are made up
//! and placed near Тюмень and Тобольск. Settlements and populations are the bundled facts.

use std::path::{Path, PathBuf};
use std::time::Instant;

use jiff::civil::{Date, DateTime, Time};
use jiff::{SignedDuration, ToSpan as _};
use rand::{RngExt as _, SeedableRng as _};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution as _, LogNormal, Normal};

use super::error::DataError;
use super::schema::CREATE_APPEALS_SQL;
use crate::spatial::{Boundaries, MunicipalityKind, municipalities, settlements};

/// Version of the generator's model; part of the cached demo file's name, so a new model
/// regenerates the file instead of reusing an old one.
pub const GENERATOR_VERSION: u32 = 2;

/// Parameters of [`generate_demo`].
#[derive(Clone, Debug, PartialEq)]
pub struct DemoConfig {
    /// Number of appeals (the 2021 volume is 132,000).
    pub rows: usize,
    pub seed: u64,
    /// Calendar year the appeals fall in.
    pub year: i16,
}

impl Default for DemoConfig {
    fn default() -> Self {
        Self {
            rows: 132_000,
            seed: 2021,
            year: 2021,
        }
    }
}

/// What [`generate_demo`] wrote.
#[derive(Clone, Debug)]
pub struct DemoSummary {
    pub path: PathBuf,
    pub rows: usize,
    pub elapsed: std::time::Duration,
}

/// Where the GUI keeps the demo database for a configuration: the user's data directory, never
/// next to the binary. `None` when the platform has no home directory.
pub fn default_demo_path(config: &DemoConfig) -> Option<PathBuf> {
    let dirs = directories::ProjectDirs::from("", "", "teplokarta")?;
    Some(dirs.data_dir().join(format!(
        "demo-v{GENERATOR_VERSION}-{}-seed{}-rows{}.sqlite",
        config.year, config.seed, config.rows
    )))
}

// ---------------------------------------------------------------------------------------------
// The model: counts per (source, category, subcategory) at the 2021 volume of 132,000.
// ---------------------------------------------------------------------------------------------

/// Seasonal profile of a kind of appeal: relative weights of the twelve months.
#[derive(Clone, Copy, Debug)]
enum Season {
    /// The overall 2021 shape: 40 % in January–June, 60 % in July–December.
    General,
    /// Vaccination: spring start, summer peak (mandatory vaccination of June–July 2021).
    Vaccination,
    /// QR codes and certificates: the October–November 2021 wave.
    QrCodes,
    /// COVID tests and treatment: winter waves.
    Testing,
    /// Restrictions: the autumn wave.
    Restrictions,
    /// Heating: the heating season (October–April).
    Heating,
    /// Snow and ice: November–March.
    Snow,
}

impl Season {
    fn month_weights(self) -> [f64; 12] {
        match self {
            Self::General => [
                6.0, 6.0, 6.5, 6.5, 7.0, 8.0, 9.0, 9.0, 9.5, 10.5, 11.5, 10.5,
            ],
            Self::Vaccination => [6.0, 7.0, 8.0, 8.0, 9.0, 12.0, 14.0, 9.0, 7.0, 7.0, 7.0, 6.0],
            Self::QrCodes => [
                4.0, 4.0, 4.0, 5.0, 5.0, 8.0, 10.0, 8.0, 8.0, 14.0, 17.0, 13.0,
            ],
            Self::Testing => [
                10.0, 8.0, 6.0, 5.0, 5.0, 5.0, 8.0, 9.0, 9.0, 11.0, 12.0, 12.0,
            ],
            Self::Restrictions => [
                5.0, 5.0, 5.0, 5.0, 5.0, 5.0, 6.0, 6.0, 8.0, 16.0, 20.0, 14.0,
            ],
            Self::Heating => [
                14.0, 12.0, 10.0, 6.0, 2.0, 1.0, 1.0, 1.0, 4.0, 14.0, 17.0, 18.0,
            ],
            Self::Snow => [
                20.0, 16.0, 10.0, 3.0, 0.0, 0.0, 0.0, 0.0, 0.0, 5.0, 20.0, 26.0,
            ],
        }
    }
}

/// One line of the model: how many appeals of this kind at 132,000 a year.
struct Kind {
    source: &'static str,
    category: &'static str,
    subcategory: &'static str,
    count_2021: u32,
    season: Season,
    /// Median days to a reply.
    median_days: f64,
}

const COVID: &str = "Коронавирус (COVID-19)";
const YARDS: &str = "Дворы и общественные территории";
const ROADS: &str = "Дороги";
const CHILD_PAYMENTS: &str = "Выплаты на детей от 3 до 7 лет";
const IMPROVEMENT: &str = "Благоустройство";
const HOUSING: &str = "ЖКХ";
/// The category of the problem map's power-outage profile.
pub const POWER: &str = "Электроэнергетика";
/// The subcategory of power outages.
pub const POWER_OUTAGE: &str = "Отключение электроэнергии";
const HEALTH: &str = "Здравоохранение";
const WASTE: &str = "Обращение с ТКО";
const TRANSPORT: &str = "Общественный транспорт";
const EDUCATION: &str = "Образование";
const SOCIAL_SERVICES: &str = "Социальное обслуживание";

macro_rules! kind {
    ($source:expr, $cat:expr, $sub:expr, $n:expr, $season:ident, $days:expr) => {
        Kind {
            source: $source,
            category: $cat,
            subcategory: $sub,
            count_2021: $n,
            season: Season::$season,
            median_days: $days,
        }
    };
}

/// The 2021 model. Feedback platform (`pos`): 105,000, of which 93,000 COVID; social networks
/// (`social`): 27,000 led by ЖКХ and improvement. Power outages in СНТ are drawn separately
/// (see [`SNT`]) out of the `Электроэнергетика / Отключение электроэнергии` lines.
const KINDS: &[Kind] = &[
    // Feedback platform «Госуслуги. Решаем вместе»: 105,000.
    kind!("pos", COVID, "Вакцинация", 38_000, Vaccination, 3.0),
    kind!("pos", COVID, "QR-коды и сертификаты", 41_000, QrCodes, 2.0),
    kind!("pos", COVID, "Тестирование и лечение", 8_000, Testing, 3.0),
    kind!(
        "pos",
        COVID,
        "Ограничительные меры",
        6_000,
        Restrictions,
        3.0
    ),
    kind!("pos", YARDS, "Благоустройство двора", 1_200, General, 8.0),
    kind!(
        "pos",
        YARDS,
        "Детские и спортивные площадки",
        600,
        General,
        10.0
    ),
    kind!("pos", YARDS, "Парковки во дворах", 500, General, 8.0),
    kind!("pos", YARDS, "Освещение дворов", 400, General, 6.0),
    kind!("pos", ROADS, "Ямы и ремонт покрытия", 1_200, General, 12.0),
    kind!("pos", ROADS, "Уборка снега и наледи", 550, Snow, 3.0),
    kind!("pos", ROADS, "Светофоры и знаки", 250, General, 6.0),
    kind!(
        "pos",
        CHILD_PAYMENTS,
        "Назначение выплаты",
        900,
        General,
        5.0
    ),
    kind!("pos", CHILD_PAYMENTS, "Задержка выплаты", 600, General, 4.0),
    kind!("pos", IMPROVEMENT, "Озеленение", 300, General, 9.0),
    kind!("pos", IMPROVEMENT, "Уборка территорий", 400, General, 5.0),
    kind!("pos", IMPROVEMENT, "Освещение улиц", 200, General, 7.0),
    kind!("pos", HOUSING, "Отопление", 350, Heating, 3.0),
    kind!("pos", HOUSING, "Водоснабжение", 300, General, 3.0),
    kind!("pos", HOUSING, "Управляющие компании", 200, General, 7.0),
    kind!("pos", POWER, POWER_OUTAGE, 700, General, 1.0),
    kind!("pos", POWER, "Перепады напряжения", 150, General, 4.0),
    kind!("pos", HEALTH, "Запись к врачу", 450, General, 3.0),
    kind!(
        "pos",
        HEALTH,
        "Лекарственное обеспечение",
        350,
        General,
        5.0
    ),
    kind!("pos", WASTE, "Вывоз мусора", 500, General, 3.0),
    kind!("pos", WASTE, "Контейнерные площадки", 200, General, 7.0),
    kind!("pos", TRANSPORT, "Расписание и маршруты", 400, General, 6.0),
    kind!("pos", TRANSPORT, "Состояние транспорта", 200, General, 8.0),
    kind!("pos", EDUCATION, "Детские сады", 350, General, 6.0),
    kind!("pos", EDUCATION, "Школы", 200, General, 6.0),
    kind!(
        "pos",
        SOCIAL_SERVICES,
        "Социальные выплаты",
        350,
        General,
        6.0
    ),
    kind!("pos", SOCIAL_SERVICES, "Помощь пожилым", 200, General, 5.0),
    // Social networks (Инцидент-менеджмент): 27,000.
    kind!("social", HOUSING, "Отопление", 1_800, Heating, 1.5),
    kind!("social", HOUSING, "Водоснабжение", 1_400, General, 1.5),
    kind!(
        "social",
        HOUSING,
        "Управляющие компании",
        1_000,
        General,
        2.0
    ),
    kind!("social", HOUSING, "Капитальный ремонт", 800, General, 4.0),
    kind!(
        "social",
        IMPROVEMENT,
        "Уборка территорий",
        1_600,
        General,
        2.0
    ),
    kind!("social", IMPROVEMENT, "Озеленение", 800, General, 3.0),
    kind!("social", IMPROVEMENT, "Освещение улиц", 900, General, 2.0),
    kind!(
        "social",
        IMPROVEMENT,
        "Благоустройство общественных пространств",
        700,
        General,
        4.0
    ),
    kind!(
        "social",
        ROADS,
        "Ямы и ремонт покрытия",
        2_000,
        General,
        5.0
    ),
    kind!("social", ROADS, "Уборка снега и наледи", 1_500, Snow, 1.5),
    kind!(
        "social",
        SOCIAL_SERVICES,
        "Социальные выплаты",
        1_800,
        General,
        2.0
    ),
    kind!(
        "social",
        SOCIAL_SERVICES,
        "Помощь пожилым",
        1_200,
        General,
        2.0
    ),
    kind!("social", HEALTH, "Запись к врачу", 1_600, General, 1.5),
    kind!("social", HEALTH, "Работа поликлиник", 1_200, General, 2.0),
    kind!("social", COVID, "Вакцинация", 1_200, Vaccination, 1.0),
    kind!(
        "social",
        COVID,
        "QR-коды и сертификаты",
        1_300,
        QrCodes,
        1.0
    ),
    kind!(
        "social",
        TRANSPORT,
        "Расписание и маршруты",
        1_100,
        General,
        2.0
    ),
    kind!(
        "social",
        TRANSPORT,
        "Состояние транспорта",
        700,
        General,
        3.0
    ),
    kind!("social", WASTE, "Вывоз мусора", 1_600, General, 1.5),
    kind!("social", EDUCATION, "Детские сады", 700, General, 2.0),
    kind!("social", EDUCATION, "Школы", 500, General, 2.0),
    kind!("social", POWER, POWER_OUTAGE, 850, General, 0.5),
    kind!("social", POWER, "Перепады напряжения", 150, General, 2.0),
    kind!("social", YARDS, "Благоустройство двора", 600, General, 3.0),
];

/// How an СНТ's power-outage appeals evolve over the year.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SntTrend {
    /// Recurring all year, more in the dacha season.
    Persistent,
    /// Recurring until the line was repaired; none after `until_month`.
    Fixed { until_month: i8 },
    /// Rare until August, then more every month (heaters on old lines in the autumn).
    Intensifying,
    /// First appeals in October.
    New,
}

/// A garden community of the demo (invented name) and its power-outage story.
pub struct Snt {
    pub name: &'static str,
    pub municipality: &'static str,
    /// Offset of its centre from the municipality's administrative centre, in km (east, north).
    pub offset_km: (f64, f64),
    /// Power-outage appeals in the year at the 132,000 volume.
    pub appeals_2021: u32,
    pub trend: SntTrend,
}

/// The twelve СНТ of the demo: eight near Тюмень, four near Тобольск.
pub const SNT: &[Snt] = &[
    Snt {
        name: "СНТ «Ягодное»",
        municipality: "Тюменский район",
        offset_km: (19.1, 11.0),
        appeals_2021: 140,
        trend: SntTrend::Persistent,
    },
    Snt {
        name: "СНТ «Рябинушка»",
        municipality: "Тюменский район",
        offset_km: (-19.1, 11.0),
        appeals_2021: 110,
        trend: SntTrend::Persistent,
    },
    Snt {
        name: "СНТ «Строитель-2»",
        municipality: "Тюменский район",
        offset_km: (11.0, -19.1),
        appeals_2021: 90,
        trend: SntTrend::Fixed { until_month: 6 },
    },
    Snt {
        name: "СНТ «Лесная поляна»",
        municipality: "Тюменский район",
        offset_km: (-17.3, -10.0),
        appeals_2021: 80,
        trend: SntTrend::Fixed { until_month: 8 },
    },
    Snt {
        name: "СНТ «Медик»",
        municipality: "Тюменский район",
        offset_km: (20.0, 0.0),
        appeals_2021: 120,
        trend: SntTrend::Intensifying,
    },
    Snt {
        name: "СНТ «Вишнёвый сад»",
        municipality: "Тюменский район",
        offset_km: (-22.0, 0.0),
        appeals_2021: 100,
        trend: SntTrend::Intensifying,
    },
    Snt {
        name: "ДНТ «Тарманы»",
        municipality: "Тюменский район",
        offset_km: (-12.0, -20.8),
        appeals_2021: 60,
        trend: SntTrend::New,
    },
    Snt {
        name: "СОТ «Железнодорожник»",
        municipality: "Тюменский район",
        offset_km: (20.8, -12.0),
        appeals_2021: 70,
        trend: SntTrend::Persistent,
    },
    Snt {
        name: "СНТ «Иртыш»",
        municipality: "Тобольский район",
        offset_km: (-15.6, -9.0),
        appeals_2021: 90,
        trend: SntTrend::Persistent,
    },
    Snt {
        name: "СНТ «Сибиряк»",
        municipality: "Тобольский район",
        offset_km: (9.0, -15.6),
        appeals_2021: 70,
        trend: SntTrend::Fixed { until_month: 7 },
    },
    Snt {
        name: "СНТ «Нефтехимик»",
        municipality: "Тобольский район",
        offset_km: (17.3, 10.0),
        appeals_2021: 90,
        trend: SntTrend::Intensifying,
    },
    Snt {
        name: "СНТ «Подгорное»",
        municipality: "Тобольский район",
        offset_km: (-9.0, 15.6),
        appeals_2021: 50,
        trend: SntTrend::New,
    },
];

impl Snt {
    /// Centre of the community (lon, lat): its offset from the municipality's administrative
    /// centre.
    pub fn centre_lon_lat(&self) -> (f64, f64) {
        let centre = municipalities()
            .iter()
            .find(|m| m.name == self.municipality)
            .map_or((65.53, 57.15), |m| (m.centre_lon, m.centre_lat));
        offset_km(centre.0, centre.1, self.offset_km.0, self.offset_km.1)
    }
}

impl SntTrend {
    fn month_weights(self) -> [f64; 12] {
        match self {
            Self::Persistent => [
                4.0, 4.0, 5.0, 8.0, 11.0, 12.0, 12.0, 11.0, 10.0, 9.0, 7.0, 7.0,
            ],
            Self::Fixed { until_month } => {
                let mut w = [
                    4.0, 4.0, 6.0, 9.0, 12.0, 12.0, 12.0, 12.0, 10.0, 8.0, 6.0, 5.0,
                ];
                for (m, weight) in w.iter_mut().enumerate() {
                    if m as i8 + 1 > until_month {
                        *weight = 0.0;
                    }
                }
                w
            }
            Self::Intensifying => [
                3.0, 3.0, 3.0, 3.0, 4.0, 4.0, 4.0, 5.0, 10.0, 16.0, 21.0, 24.0,
            ],
            Self::New => [
                0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 25.0, 35.0, 40.0,
            ],
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Generation
// ---------------------------------------------------------------------------------------------

struct Row {
    received: DateTime,
    source: &'static str,
    category: &'static str,
    subcategory: &'static str,
    municipality: &'static str,
    settlement: Option<String>,
    address: Option<String>,
    lon_lat: Option<(f64, f64)>,
    status: &'static str,
    resolved: Option<DateTime>,
    text: &'static str,
}

/// Where appeals of a municipality come from: its settlements with weights.
struct Place {
    municipality: &'static str,
    settlement: &'static str,
    lon: f64,
    lat: f64,
    /// Spread of points around the settlement, km.
    sigma_km: f64,
    weight: f64,
    urban: bool,
}

/// Writes a demo database of `config.rows` appeals to `out` (replacing it) in one transaction,
/// via a temporary file renamed into place, so a half-written demo is never left behind.
///
/// # Errors
/// [`DataError::Write`] / [`DataError::Sqlite`] when the file cannot be written.
pub fn generate_demo(config: &DemoConfig, out: &Path) -> Result<DemoSummary, DataError> {
    let started = Instant::now();
    let rows = generate_rows(config);
    if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|source| DataError::Write {
            what: "the demo directory",
            path: dir.to_owned(),
            source,
        })?;
    }
    let tmp = out.with_extension(format!("tmp-{}", std::process::id()));
    let result = write_rows(&rows, &tmp).and_then(|()| {
        std::fs::rename(&tmp, out).map_err(|source| DataError::Write {
            what: "the demo database",
            path: out.to_owned(),
            source,
        })
    });
    if result.is_err() {
        std::fs::remove_file(&tmp).ok();
    }
    result?;
    Ok(DemoSummary {
        path: out.to_owned(),
        rows: rows.len(),
        elapsed: started.elapsed(),
    })
}

fn write_rows(rows: &[Row], path: &Path) -> Result<(), DataError> {
    let sql_err = |source| DataError::Sqlite {
        path: path.to_owned(),
        source,
    };
    std::fs::remove_file(path).ok();
    let mut conn = rusqlite::Connection::open(path).map_err(sql_err)?;
    conn.execute_batch("PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;")
        .map_err(sql_err)?;
    let tx = conn.transaction().map_err(sql_err)?;
    tx.execute_batch(CREATE_APPEALS_SQL).map_err(sql_err)?;
    {
        let mut insert = tx
            .prepare(
                "INSERT INTO appeals (id, external_id, received_at, source, category, subcategory, municipality, settlement, address, lat, lon, status, resolved_at, text)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
            )
            .map_err(sql_err)?;
        let mut per_source = std::collections::HashMap::<&str, u32>::new();
        for (i, row) in rows.iter().enumerate() {
            let n = per_source.entry(row.source).or_default();
            *n += 1;
            let prefix = if row.source == "pos" { "POS" } else { "SOC" };
            let external_id = format!("{prefix}-{}-{:06}", row.received.year(), n);
            let (lat, lon) = match row.lon_lat {
                Some((lon, lat)) => (Some(lat), Some(lon)),
                None => (None, None),
            };
            insert
                .execute(rusqlite::params![
                    i as i64 + 1,
                    external_id,
                    format!("{}+05:00", row.received.strftime("%Y-%m-%dT%H:%M:%S")),
                    row.source,
                    row.category,
                    row.subcategory,
                    row.municipality,
                    row.settlement,
                    row.address,
                    lat,
                    lon,
                    row.status,
                    row.resolved
                        .map(|t| format!("{}+05:00", t.strftime("%Y-%m-%dT%H:%M:%S"))),
                    row.text,
                ])
                .map_err(sql_err)?;
        }
    }
    tx.commit().map_err(sql_err)?;
    Ok(())
}

/// Splits `total` into parts proportional to `weights`, exactly (largest remainders).
fn apportion(total: usize, weights: &[f64]) -> Vec<usize> {
    let sum: f64 = weights.iter().sum();
    if sum <= 0.0 || weights.is_empty() {
        return vec![0; weights.len()];
    }
    let exact: Vec<f64> = weights.iter().map(|w| w / sum * total as f64).collect();
    let mut counts: Vec<usize> = exact.iter().map(|x| x.floor() as usize).collect();
    let mut left = total.saturating_sub(counts.iter().sum());
    let mut order: Vec<usize> = (0..weights.len()).collect();
    order.sort_by(|&a, &b| {
        let ra = exact[a] - exact[a].floor();
        let rb = exact[b] - exact[b].floor();
        rb.total_cmp(&ra).then(a.cmp(&b))
    });
    for &i in order.iter().cycle() {
        if left == 0 {
            break;
        }
        if let Some(c) = counts.get_mut(i) {
            *c += 1;
            left -= 1;
        }
    }
    counts
}

/// Picks an index with probability proportional to `cumulative` increments.
fn pick(rng: &mut ChaCha8Rng, cumulative: &[f64]) -> usize {
    let total = cumulative.last().copied().unwrap_or(0.0);
    let x = rng.random::<f64>() * total;
    cumulative
        .partition_point(|&c| c <= x)
        .min(cumulative.len().saturating_sub(1))
}

fn cumulative(weights: impl IntoIterator<Item = f64>) -> Vec<f64> {
    weights
        .into_iter()
        .scan(0.0, |acc, w| {
            *acc += w.max(0.0);
            Some(*acc)
        })
        .collect()
}

fn places(
    rng: &mut ChaCha8Rng,
    normal: Option<&Normal<f64>>,
    boundaries: &Boundaries,
) -> Vec<Place> {
    let mut out = Vec::new();
    for m in municipalities() {
        let population = f64::from(m.population.unwrap_or(20_000));
        let own: Vec<_> = settlements()
            .iter()
            .filter(|s| s.municipality == m.name)
            .collect();
        let urban_okrug = m.kind == MunicipalityKind::UrbanOkrug;
        // Appeals per resident are higher in the cities (more online, more services).
        let activity = if urban_okrug { 1.15 } else { 0.85 };
        let budget = population * activity;
        let known: f64 = own
            .iter()
            .map(|s| f64::from(s.population.unwrap_or(0)))
            .sum();
        let mut listed = 0.0;
        for s in &own {
            let pop = f64::from(s.population.unwrap_or(0)).max(1_500.0);
            let share = if known > 0.0 {
                (pop / known.max(population)).min(1.0)
            } else {
                0.0
            };
            let weight = budget * share.max(0.05);
            listed += weight;
            out.push(Place {
                municipality: m.name,
                settlement: s.name,
                lon: s.lon,
                lat: s.lat,
                sigma_km: (pop.sqrt() / 150.0).clamp(0.5, 4.5),
                weight,
                urban: urban_okrug || pop >= 10_000.0,
            });
        }
        // The rest of a district's population lives in villages: invented villages placed
        // inside the district (schematic boundaries), each with a log-normal share.
        let rural = (budget - listed).max(budget * 0.15);
        if !urban_okrug || m.area_km2 > 1_000.0 {
            let villages = (m.area_km2 / 150.0).clamp(8.0, 40.0) as usize;
            let spread_km = (m.area_km2.sqrt() / 2.5).clamp(5.0, 60.0);
            let sizes = LogNormal::new(0.0, 0.9).ok();
            let mut pending = Vec::with_capacity(villages);
            for v in 0..villages {
                let mut spot = (m.centroid_lon, m.centroid_lat);
                for _ in 0..20 {
                    let (dx, dy) = gaussian_pair(rng, normal, spread_km);
                    let candidate = offset_km(m.centroid_lon, m.centroid_lat, dx, dy);
                    let inside = boundaries
                        .locate(candidate.0, candidate.1)
                        .and_then(|u| boundaries.units.get(u))
                        .is_some_and(|u| u.name == m.name);
                    if inside {
                        spot = candidate;
                        break;
                    }
                }
                let size = sizes.as_ref().map_or(1.0, |d| d.sample(rng));
                let name = VILLAGES
                    .get((v * 7 + out.len()) % VILLAGES.len())
                    .copied()
                    .unwrap_or("");
                pending.push((spot, size, name));
            }
            let total_size: f64 = pending.iter().map(|p| p.1).sum();
            for ((lon, lat), size, name) in pending {
                out.push(Place {
                    municipality: m.name,
                    settlement: name,
                    lon,
                    lat,
                    sigma_km: 0.8,
                    weight: rural * size / total_size.max(1e-9),
                    urban: false,
                });
            }
        }
    }
    out
}

const STREETS: &[&str] = &[
    "ул. Ленина",
    "ул. Мира",
    "ул. Советская",
    "ул. Республики",
    "ул. Молодёжная",
    "ул. Школьная",
    "ул. Садовая",
    "ул. Новая",
    "ул. Центральная",
    "ул. Гагарина",
    "ул. Пушкина",
    "ул. Лесная",
    "ул. Строителей",
    "ул. Первомайская",
    "ул. Октябрьская",
    "ул. Набережная",
    "ул. Комсомольская",
    "ул. Победы",
    "ул. Заречная",
    "ул. Полевая",
    "ул. Мельникайте",
    "ул. Широтная",
    "ул. Пермякова",
    "ул. Монтажников",
    "ул. Холодильная",
    "ул. 50 лет Октября",
    "ул. Федюнинского",
    "ул. Харьковская",
];

const VILLAGES: &[&str] = &[
    "с. Покровское",
    "с. Никольское",
    "д. Берёзовка",
    "с. Петрово",
    "д. Новая Деревня",
    "с. Красный Яр",
    "д. Липовка",
    "с. Луговое",
    "д. Каменка",
    "с. Дубровное",
    "д. Сосновка",
    "с. Троицкое",
];

fn text_for(subcategory: &str, pick: usize) -> &'static str {
    let options: &[&str] = match subcategory {
        "Вакцинация" => &[
            "Не могу записаться на вакцинацию, нет свободного времени в поликлинике.",
            "Когда поступит вакцина в наш пункт вакцинации?",
            "Просим организовать выездную вакцинацию в посёлке.",
        ],
        "QR-коды и сертификаты" => &[
            "Не приходит QR-код после второй прививки.",
            "В сертификате ошибка в дате рождения, прошу исправить.",
            "Не отображается сертификат о перенесённом заболевании.",
        ],
        "Тестирование и лечение" => &[
            "Результат ПЦР-теста не пришёл уже пятый день.",
            "Не приходит врач на дом при температуре.",
        ],
        "Ограничительные меры" => &[
            "Разъясните, нужен ли QR-код для посещения магазина.",
            "В торговом центре не соблюдается масочный режим.",
        ],
        POWER_OUTAGE => &[
            "Снова нет света, отключение уже третий раз за неделю.",
            "Пропало электричество с утра, просим восстановить электроснабжение.",
            "Постоянные отключения электроэнергии, сгорела техника.",
        ],
        "Перепады напряжения" => {
            &["Вечером сильно падает напряжение, не работает насос."]
        }
        "Отопление" => &[
            "В квартире холодно, батареи еле тёплые.",
            "Нет отопления в подъезде, просим принять меры.",
        ],
        "Водоснабжение" => &[
            "Нет холодной воды со вчерашнего дня.",
            "Ржавая вода из крана.",
        ],
        "Ямы и ремонт покрытия" => &[
            "Большая яма на проезжей части, опасно для машин.",
            "Разбита дорога, просим включить в план ремонта.",
        ],
        "Уборка снега и наледи" => &[
            "Не чистят снег во дворе и на тротуаре.",
            "Гололёд на остановке.",
        ],
        "Вывоз мусора" => &["Не вывозят мусор уже неделю.", "Контейнеры переполнены."],
        _ => &[
            "Прошу разобраться и принять меры.",
            "Обращаюсь повторно, проблема не решена.",
            "Просим сообщить сроки решения вопроса.",
        ],
    };
    options
        .get(pick % options.len().max(1))
        .copied()
        .unwrap_or("")
}

fn offset_km(lon: f64, lat: f64, east_km: f64, north_km: f64) -> (f64, f64) {
    let lat_out = lat + north_km / 111.32;
    let lon_out = lon + east_km / (111.32 * lat.to_radians().cos());
    (lon_out, lat_out)
}

fn date_in_month(rng: &mut ChaCha8Rng, year: i16, month: i8) -> Date {
    let first = Date::new(year, month, 1).unwrap_or_default();
    let days = i64::from(first.days_in_month());
    let day = rng.random_range(0..days);
    first.checked_add(day.days()).unwrap_or(first)
}

fn time_of_day(rng: &mut ChaCha8Rng) -> Time {
    // Most appeals arrive in the working day, a tail in the evening, few at night.
    let hour_weights = [
        0.3, 0.2, 0.1, 0.1, 0.1, 0.3, 0.8, 2.0, 4.5, 6.5, 7.0, 7.0, 6.5, 6.5, 7.0, 7.0, 6.5, 6.0,
        5.5, 5.0, 4.5, 3.5, 2.0, 1.0,
    ];
    let hour = pick(rng, &cumulative(hour_weights)) as i8;
    let minute = rng.random_range(0..60) as i8;
    let second = rng.random_range(0..60) as i8;
    Time::new(hour, minute, second, 0).unwrap_or_default()
}

fn generate_rows(config: &DemoConfig) -> Vec<Row> {
    let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
    let boundaries = Boundaries::schematic();
    let normal = Normal::new(0.0, 1.0).ok();
    let places = places(&mut rng, normal.as_ref(), &boundaries);
    let place_weights = cumulative(places.iter().map(|p| p.weight));
    let year_end = Date::new(config.year, 12, 31)
        .unwrap_or_default()
        .to_datetime(Time::new(23, 59, 59, 0).unwrap_or_default());

    // Exact counts per kind, and per СНТ out of the power-outage lines.
    let snt_total_2021: u32 = SNT.iter().map(|s| s.appeals_2021).sum();
    let mut weights: Vec<f64> = KINDS.iter().map(|k| f64::from(k.count_2021)).collect();
    let outage_total: f64 = KINDS
        .iter()
        .filter(|k| k.subcategory == POWER_OUTAGE)
        .map(|k| f64::from(k.count_2021))
        .sum();
    // Take the СНТ appeals out of the outage lines in proportion, and add them as lines of their own.
    for (w, k) in weights.iter_mut().zip(KINDS) {
        if k.subcategory == POWER_OUTAGE {
            *w -= f64::from(snt_total_2021) * f64::from(k.count_2021) / outage_total;
        }
    }
    weights.extend(SNT.iter().map(|s| f64::from(s.appeals_2021)));
    let counts = apportion(config.rows, &weights);

    let mut rows = Vec::with_capacity(config.rows);
    for (line, &count) in counts.iter().enumerate() {
        let (line_kind, snt) = match (KINDS.get(line), SNT.get(line.saturating_sub(KINDS.len()))) {
            (Some(k), _) => (Some(k), None),
            (None, Some(s)) => (None, Some(s)),
            _ => continue,
        };
        // СНТ appeals are split between the sources like the outage lines they come from.
        let outage_kinds: Vec<&Kind> = KINDS
            .iter()
            .filter(|k| k.subcategory == POWER_OUTAGE)
            .collect();
        let outage_weights = cumulative(outage_kinds.iter().map(|k| f64::from(k.count_2021)));
        let months = cumulative(match snt {
            Some(s) => s.trend.month_weights(),
            None => line_kind
                .map_or(Season::General, |k| k.season)
                .month_weights(),
        });
        for _ in 0..count {
            let kind = match line_kind {
                Some(k) => k,
                None => match outage_kinds.get(pick(&mut rng, &outage_weights)) {
                    Some(k) => *k,
                    None => continue,
                },
            };
            let month = pick(&mut rng, &months) as i8 + 1;
            let received =
                date_in_month(&mut rng, config.year, month).to_datetime(time_of_day(&mut rng));
            let (municipality, settlement, address, lon_lat) = if let Some(s) = snt {
                let (lon0, lat0) = s.centre_lon_lat();
                let (dx, dy) = gaussian_pair(&mut rng, normal.as_ref(), 0.35);
                let plot = rng.random_range(1..400);
                let street = rng.random_range(1..16);
                (
                    s.municipality,
                    Some(s.name.to_owned()),
                    Some(format!(
                        "{}, {}, ул. {street}-я Садовая, уч. {plot}",
                        s.municipality, s.name
                    )),
                    Some(offset_km(lon0, lat0, dx, dy)),
                )
            } else {
                let Some(place) = places.get(pick(&mut rng, &place_weights)) else {
                    continue;
                };
                let mut point = None;
                for _ in 0..8 {
                    let (dx, dy) = gaussian_pair(&mut rng, normal.as_ref(), place.sigma_km);
                    let candidate = offset_km(place.lon, place.lat, dx, dy);
                    let inside = boundaries
                        .locate(candidate.0, candidate.1)
                        .and_then(|u| boundaries.units.get(u))
                        .is_some_and(|u| u.name == place.municipality);
                    if inside {
                        point = Some(candidate);
                        break;
                    }
                }
                let point = point.unwrap_or((place.lon, place.lat));
                let (settlement, address) = if !place.urban && VILLAGES.contains(&place.settlement)
                {
                    let village = place.settlement;
                    let street = STREETS
                        .get(rng.random_range(0..STREETS.len()))
                        .copied()
                        .unwrap_or("");
                    let house = rng.random_range(1..60);
                    (
                        village.to_owned(),
                        format!("{}, {village}, {street}, д. {house}", place.municipality),
                    )
                } else {
                    let street = STREETS
                        .get(rng.random_range(0..STREETS.len()))
                        .copied()
                        .unwrap_or("");
                    let house = rng.random_range(1..if place.urban { 180 } else { 60 });
                    let prefix = if place.urban { "г." } else { "с." };
                    (
                        place.settlement.to_owned(),
                        format!("{prefix} {}, {street}, д. {house}", place.settlement),
                    )
                };
                (
                    place.municipality,
                    Some(settlement),
                    Some(address),
                    Some(point),
                )
            };
            // Geocoding artefacts of real exports: no coordinates (2.5 %), a geocoder's 0,0
            // (0.05 %), a decimal point slipped in the latitude (0.01 %).
            let roll = rng.random::<f64>();
            let lon_lat = if roll < 0.025 {
                None
            } else if roll < 0.0255 {
                Some((0.0, 0.0))
            } else if roll < 0.0256 {
                lon_lat.map(|(lon, lat)| (lon, lat * 10.0))
            } else {
                lon_lat
            };
            let address = if lon_lat.is_none() && rng.random_bool(0.5) {
                None
            } else {
                address
            };

            // Reply time: log-normal around the kind's median; 4 % rejected.
            let days = LogNormal::new(kind.median_days.ln(), 0.8)
                .map(|d| d.sample(&mut rng))
                .unwrap_or(kind.median_days);
            let answered = received
                .checked_add(SignedDuration::from_secs((days * 86_400.0) as i64))
                .unwrap_or(received);
            let (status, resolved) = if answered > year_end {
                let age_days = year_end.duration_since(received).as_secs() / 86_400;
                (if age_days < 2 { "new" } else { "in_progress" }, None)
            } else if rng.random_bool(0.04) {
                ("rejected", Some(answered))
            } else {
                ("resolved", Some(answered))
            };
            let text = text_for(kind.subcategory, rng.random_range(0..3));
            rows.push(Row {
                received,
                source: kind.source,
                category: kind.category,
                subcategory: kind.subcategory,
                municipality,
                settlement,
                address,
                lon_lat: lon_lat.map(|(lon, lat)| (round6(lon), round6(lat))),
                status,
                resolved,
                text,
            });
        }
    }
    rows.sort_by_key(|r| r.received);
    rows
}

fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

fn gaussian_pair(rng: &mut ChaCha8Rng, normal: Option<&Normal<f64>>, sigma_km: f64) -> (f64, f64) {
    match normal {
        Some(n) => (n.sample(rng) * sigma_km, n.sample(rng) * sigma_km),
        None => (0.0, 0.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_adds_up_to_the_2021_figures() {
        let total: u32 = KINDS.iter().map(|k| k.count_2021).sum();
        assert_eq!(total, 132_000);
        let pos: u32 = KINDS
            .iter()
            .filter(|k| k.source == "pos")
            .map(|k| k.count_2021)
            .sum();
        assert_eq!(pos, 105_000);
        let covid: u32 = KINDS
            .iter()
            .filter(|k| k.source == "pos" && k.category == COVID)
            .map(|k| k.count_2021)
            .sum();
        assert_eq!(covid, 93_000);
        // The СНТ lines were taken from the outage lines, which must be large enough.
        let snt: u32 = SNT.iter().map(|s| s.appeals_2021).sum();
        let outages: u32 = KINDS
            .iter()
            .filter(|k| k.subcategory == POWER_OUTAGE)
            .map(|k| k.count_2021)
            .sum();
        assert!(snt < outages, "{snt} СНТ appeals out of {outages} outages");
        assert_eq!(SNT.len(), 12);
    }

    #[test]
    fn apportion_is_exact() {
        assert_eq!(apportion(10, &[1.0, 1.0, 1.0]), vec![4, 3, 3]);
        assert_eq!(apportion(7, &[0.0, 2.0]), vec![0, 7]);
        assert_eq!(apportion(1000, &[3.0, 1.0]).iter().sum::<usize>(), 1000);
    }
}
