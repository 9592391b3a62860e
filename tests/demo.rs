//! The demo generator: deterministic for a seed, shaped like the 2021 figures in
//! `docs/demo-data.md`, and carrying the СНТ power-outage stories the problem map needs.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers may panic

mod common;

use std::collections::BTreeMap;

use common::{demo_db, sql_group_counts};

fn dump(path: &std::path::Path) -> Vec<String> {
    let conn = rusqlite::Connection::open(path).unwrap();
    let mut stmt = conn
        .prepare("SELECT id, external_id, received_at, source, category, subcategory, municipality, settlement, address, lat, lon, status, resolved_at, text FROM appeals ORDER BY id")
        .unwrap();
    stmt.query_map([], |row| {
        let cells = (0..14)
            .map(|i| row.get_ref(i).map(|v| format!("{v:?}")))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(cells.join("|"))
    })
    .unwrap()
    .collect::<Result<_, _>>()
    .unwrap()
}

#[test]
fn same_seed_same_database_other_seed_other_database() {
    let (_a, first) = demo_db(5_000, 11);
    let (_b, second) = demo_db(5_000, 11);
    let (_c, other) = demo_db(5_000, 12);
    let first = dump(&first);
    assert_eq!(first.len(), 5_000);
    assert_eq!(first, dump(&second));
    assert_ne!(first, dump(&other));
}

/// Share in percentage points.
fn share(n: u64, total: u64) -> f64 {
    n as f64 * 100.0 / total as f64
}

#[test]
fn shares_follow_the_2021_figures() {
    let (_dir, path) = demo_db(132_000, 2021);
    let total = 132_000_u64;
    let by = |sql: &str| -> BTreeMap<String, u64> {
        sql_group_counts(&path, sql, &[])
            .into_iter()
            .map(|(k, n)| (k.join("/"), n))
            .collect()
    };
    // Sources: ~105k feedback platform, ~27k social networks.
    let sources = by("SELECT source, COUNT(*) FROM appeals GROUP BY source");
    assert!(
        (share(sources["pos"], total) - share(105_000, 132_000)).abs() < 2.0,
        "{sources:?}"
    );
    assert!(
        (share(sources["social"], total) - share(27_000, 132_000)).abs() < 2.0,
        "{sources:?}"
    );

    // Categories of each source (the table of docs/demo-data.md).
    let spec: &[(&str, &str, u64)] = &[
        ("pos", "Коронавирус (COVID-19)", 93_000),
        ("pos", "Дворы и общественные территории", 2_700),
        ("pos", "Дороги", 2_000),
        ("pos", "Выплаты на детей от 3 до 7 лет", 1_500),
        ("pos", "Благоустройство", 900),
        ("social", "ЖКХ", 5_000),
        ("social", "Благоустройство", 4_000),
        ("social", "Дороги", 3_500),
        ("social", "Социальное обслуживание", 3_000),
        ("social", "Здравоохранение", 2_800),
    ];
    let categories = by("SELECT source, category, COUNT(*) FROM appeals GROUP BY source, category");
    for (source, category, expected) in spec {
        let got = categories
            .get(&format!("{source}/{category}"))
            .copied()
            .unwrap_or(0);
        assert!(
            (share(got, total) - share(*expected, 132_000)).abs() < 2.0,
            "{source}/{category}: {got} vs {expected}"
        );
    }
    // The allocation is exact (largest remainders): the lines without СНТ appeals are the
    // model's counts to the appeal, so even a small category cannot drift unnoticed.
    for (source, category, expected) in spec {
        assert_eq!(
            categories[&format!("{source}/{category}")],
            *expected,
            "{source}/{category}"
        );
    }
    assert_eq!(categories["pos/Благоустройство"], 900);
    assert_eq!(categories["social/Образование"], 1_200);
    // Order within each source as the 2021 report gives it.
    let pos_order: Vec<u64> = spec
        .iter()
        .take(5)
        .map(|(s, c, _)| categories[&format!("{s}/{c}")])
        .collect();
    assert!(pos_order.windows(2).all(|w| w[0] > w[1]), "{pos_order:?}");
    let pos_others_max = categories
        .iter()
        .filter(|(k, _)| {
            k.starts_with("pos/")
                && !spec
                    .iter()
                    .take(5)
                    .any(|(s, c, _)| **k == format!("{s}/{c}"))
        })
        .map(|(_, n)| *n)
        .max()
        .unwrap();
    assert!(
        pos_others_max < categories["pos/Благоустройство"],
        "improvement is the 5th feedback-platform category"
    );

    // About 60 % in the second half of the year.
    let halves = by(
        "SELECT CASE WHEN substr(received_at, 6, 2) > '06' THEN 'second' ELSE 'first' END, COUNT(*) FROM appeals GROUP BY 1",
    );
    let second = halves.get("second").copied().unwrap_or(0);
    assert!(
        (share(second, total) - 60.0).abs() < 2.0,
        "second half: {}",
        share(second, total)
    );
}

#[test]
fn snt_power_outages_tell_their_stories() {
    let (_dir, path) = demo_db(132_000, 2021);
    let rows = sql_group_counts(
        &path,
        "SELECT settlement, substr(received_at, 6, 2), COUNT(*) FROM appeals
         WHERE category = 'Электроэнергетика' AND subcategory = 'Отключение электроэнергии'
           AND (settlement LIKE 'СНТ%' OR settlement LIKE 'ДНТ%' OR settlement LIKE 'СОТ%')
         GROUP BY 1, 2",
        &[],
    );
    let mut by_snt: BTreeMap<String, [u64; 12]> = BTreeMap::new();
    for (keys, n) in rows {
        let month: usize = keys[1].parse().unwrap();
        by_snt.entry(keys[0].clone()).or_default()[month - 1] += n;
    }
    assert_eq!(by_snt.len(), 12, "{:?}", by_snt.keys());
    let q = |m: &[u64; 12], from: usize, to: usize| m[from - 1..to].iter().sum::<u64>();
    // Fixed part-way: nothing after the repair.
    assert_eq!(q(&by_snt["СНТ «Строитель-2»"], 7, 12), 0);
    assert!(q(&by_snt["СНТ «Строитель-2»"], 1, 6) > 0);
    assert_eq!(q(&by_snt["СНТ «Сибиряк»"], 8, 12), 0);
    // Getting worse in the autumn.
    for name in ["СНТ «Медик»", "СНТ «Вишнёвый сад»", "СНТ «Нефтехимик»"]
    {
        let m = &by_snt[name];
        assert!(q(m, 10, 12) > 2 * q(m, 4, 6), "{name}: {m:?}");
    }
    // New in October.
    assert_eq!(q(&by_snt["ДНТ «Тарманы»"], 1, 9), 0);
    assert!(q(&by_snt["ДНТ «Тарманы»"], 10, 12) > 0);
    // Near Тюмень and Тобольск.
    let places = sql_group_counts(
        &path,
        "SELECT municipality, COUNT(DISTINCT settlement) FROM appeals WHERE settlement LIKE '%Т «%' GROUP BY 1",
        &[],
    );
    assert_eq!(
        places,
        vec![
            (vec!["Тобольский район".to_owned()], 4),
            (vec!["Тюменский район".to_owned()], 8)
        ]
    );
}

#[test]
fn points_lie_in_the_oblast_and_texts_are_russian() {
    let (_dir, path) = demo_db(10_000, 5);
    let appeals = teplokarta::data::AppealStore::open(&path, &Default::default())
        .unwrap()
        .load()
        .unwrap();
    let boundaries = teplokarta::spatial::Boundaries::schematic();
    let placed: Vec<usize> = (0..appeals.len())
        .filter(|&i| appeals.placement[i] == teplokarta::data::Placement::Placed)
        .collect();
    let inside = placed
        .iter()
        .filter(|&&i| boundaries.locate(appeals.lon[i], appeals.lat[i]).is_some())
        .count();
    assert!(
        inside as f64 / placed.len() as f64 > 0.97,
        "{inside} of {}",
        placed.len()
    );
    let conn = rusqlite::Connection::open(&path).unwrap();
    let cyrillic: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM appeals WHERE text GLOB '*[а-я]*'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(cyrillic, 10_000);
}
