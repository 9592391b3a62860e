//! Comparison of two periods in the window, driven through egui_kittest by labels: the split
//! view labels each map with its period and SQL's count for it, colours both on one scale
//! pooled over both periods, and moves both maps together (a drag on the right map moves the
//! left one); the difference layer is B − A per municipality on classes symmetric about zero,
//! and B − A per density cell; period A can be set in the bar above the map.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers may panic

mod common;

use std::path::Path;

use common::ui::{State, harness, wait_idle};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable as _;
use teplokarta::analysis::Metric;
use teplokarta::analysis::compare::CompareMode;
use teplokarta::ui::Lang;

/// Appeals received between two days (inclusive), as SQL counts them.
fn count_between(db: &Path, from: &str, to: &str) -> u64 {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.query_row(
        "SELECT count(*) FROM appeals WHERE substr(received_at, 1, 10) BETWEEN ?1 AND ?2",
        [from, to],
        |r| r.get::<_, i64>(0),
    )
    .unwrap() as u64
}

/// The app on `db` with the filter's period set to September 2021.
fn september(db: &Path) -> Harness<'static, State> {
    let mut harness = harness(db, Lang::En);
    wait_idle(&mut harness);
    {
        let app = harness.state_mut().as_mut().unwrap();
        let filter = app.filter_mut();
        filter.from = "2021-09-01".parse().ok();
        filter.to = "2021-09-30".parse().ok();
    }
    wait_idle(&mut harness);
    harness
}

fn choose_compare(harness: &mut Harness<'static, State>, item: &str) {
    harness.get_by_label("View").click();
    harness.run_steps(2);
    harness.get_by_label("Compare periods").click();
    harness.run_steps(2);
    harness.get_by_label(item).click();
    harness.run_steps(2);
    wait_idle(harness);
}

fn drag(harness: &mut Harness<'static, State>, from: egui::Pos2, to: egui::Pos2) {
    let events = [
        egui::Event::PointerMoved(from),
        egui::Event::PointerButton {
            pos: from,
            button: egui::PointerButton::Primary,
            pressed: true,
            modifiers: egui::Modifiers::NONE,
        },
    ];
    for e in events {
        harness.input_mut().events.push(e);
        harness.step();
    }
    for i in 1..=10 {
        let p = from + (to - from) * (i as f32 / 10.0);
        harness
            .input_mut()
            .events
            .push(egui::Event::PointerMoved(p));
        harness.step();
    }
    harness.input_mut().events.push(egui::Event::PointerButton {
        pos: to,
        button: egui::PointerButton::Primary,
        pressed: false,
        modifiers: egui::Modifiers::NONE,
    });
    harness.step();
    harness.input_mut().events.push(egui::Event::PointerGone);
    wait_idle(harness);
}

#[test]
fn split_view_labels_both_periods_with_sql_counts_on_one_scale_and_moves_together() {
    let (_d, db) = common::demo_db(20_000, 5);
    let mut harness = september(&db);
    choose_compare(&mut harness, "Side by side (A | B)");

    let app = harness.state().as_ref().unwrap();
    assert!(app.comparing());
    let c = app.comparison().expect("computed");
    // B is the filter's period, A by default the 30 days before it.
    assert_eq!(
        c.b.period(),
        ("2021-09-01".parse().unwrap(), "2021-09-30".parse().unwrap())
    );
    assert_eq!(
        c.a.period(),
        ("2021-08-02".parse().unwrap(), "2021-08-31".parse().unwrap())
    );
    let n_a = count_between(&db, "2021-08-02", "2021-08-31");
    let n_b = count_between(&db, "2021-09-01", "2021-09-30");
    assert!(n_a > 0 && n_b > 0 && n_a != n_b, "{n_a} {n_b}");
    assert_eq!(c.a.total, n_a);
    assert_eq!(c.b.total, n_b);
    assert_eq!(
        c.a.counts.iter().sum::<u64>(),
        n_a,
        "every appeal in one municipality"
    );
    assert_eq!(c.b.counts.iter().sum::<u64>(), n_b);
    // Each map is labelled with its period and SQL's count.
    harness.get_by_label(&format!(
        "A · 2–31 August 2021 · {} appeals",
        Lang::En.number(n_a)
    ));
    harness.get_by_label(&format!(
        "B · 1–30 September 2021 · {} appeals",
        Lang::En.number(n_b)
    ));
    harness.get_by_label("One scale for both maps");

    // One scale, pooled: it spans the values of both periods, so each period's largest
    // municipality falls in a class (neither is off the scale), and the maximum of the two is
    // the scale's top.
    let app = harness.state().as_ref().unwrap();
    let c = app.comparison().unwrap();
    let max_of = |v: &[Option<f64>]| v.iter().flatten().copied().fold(f64::MIN, f64::max);
    let top = *c.breaks.last().unwrap();
    assert_eq!(top, max_of(&c.a.values).max(max_of(&c.b.values)));
    assert!(c.breaks.len() >= 3);
    // The main view (the side panel, the pivot) shows B, with its own scale.
    assert_eq!(app.view().unwrap().aggregates.total, n_b);

    // A drag on the right map moves both (they share one extent).
    let (lon_before, _) = app.map_center_lon_lat().unwrap();
    drag(
        &mut harness,
        egui::pos2(1100.0, 420.0),
        egui::pos2(900.0, 420.0),
    );
    let (lon_after, _) = harness
        .state()
        .as_ref()
        .unwrap()
        .map_center_lon_lat()
        .unwrap();
    assert!(
        lon_after > lon_before + 0.01,
        "dragged west → the centre moves east: {lon_before} → {lon_after}"
    );

    // Period A set in the bar: the same month a year earlier is not in the demo (2021 only),
    // so set it to July instead, through the settings the bar edits.
    {
        let app = harness.state_mut().as_mut().unwrap();
        let settings = &mut app.persisted_mut().map.compare;
        settings.a_from = "2021-07-01".parse().ok();
        settings.a_to = "2021-07-31".parse().ok();
    }
    wait_idle(&mut harness);
    let n_july = count_between(&db, "2021-07-01", "2021-07-31");
    harness.get_by_label(&format!(
        "A · 1–31 July 2021 · {} appeals",
        Lang::En.number(n_july)
    ));
    // "the previous one of the same length" puts the default back.
    harness
        .get_by_label("the previous one of the same length")
        .click();
    wait_idle(&mut harness);
    assert_eq!(
        harness
            .state()
            .as_ref()
            .unwrap()
            .comparison()
            .unwrap()
            .a
            .total,
        n_a
    );

    // Off: one map again.
    harness.get_by_label("No comparison").click();
    wait_idle(&mut harness);
    assert!(!harness.state().as_ref().unwrap().comparing());
    assert!(harness.query_by_label("One scale for both maps").is_none());
}

#[test]
fn difference_layer_is_b_minus_a_on_classes_symmetric_about_zero() {
    let (_d, db) = common::demo_db(20_000, 7);
    let mut harness = september(&db);
    choose_compare(&mut harness, "Difference (B − A)");
    harness.get_by_label("Difference B − A: Appeals");
    let app = harness.state().as_ref().unwrap();
    let c = app.comparison().unwrap();
    assert_eq!(app.persisted().map.compare.mode, CompareMode::Difference);
    assert_eq!(c.difference_metric, Metric::Count);
    let mut nonzero = 0;
    for (label, d) in c.difference.iter().enumerate() {
        let want = c.b.counts[label] as f64 - c.a.counts[label] as f64;
        assert_eq!(*d, Some(want), "label {label}");
        nonzero += usize::from(want != 0.0);
    }
    assert!(nonzero > 0);
    let b = &c.difference_breaks;
    assert_eq!(b.first().map(|x| -x), b.last().copied(), "symmetric: {b:?}");
    let max_abs = c
        .difference
        .iter()
        .flatten()
        .fold(0.0_f64, |m, d| m.max(d.abs()));
    assert!(*b.last().unwrap() >= max_abs);
    // Zero falls in the neutral middle class (five classes by default).
    assert_eq!(teplokarta::analysis::class_of(0.0, b), Some(2));

    // The density difference: B − A per cell of the two surfaces on one grid.
    {
        let app = harness.state_mut().as_mut().unwrap();
        app.persisted_mut().map.density.enabled = true;
    }
    wait_idle(&mut harness);
    harness.run_steps(5);
    wait_idle(&mut harness);
    harness.get_by_label("Density B − A");
    let app = harness.state().as_ref().unwrap();
    let d = app.compare_density().expect("surfaces computed");
    assert_eq!(d.a.grid, d.b.grid);
    assert_eq!(d.difference.len(), d.a.values.len());
    let mut differs = 0;
    for ((a, b), diff) in d.a.values.iter().zip(&d.b.values).zip(&d.difference) {
        assert!((b - a - diff).abs() <= 1e-3 * a.abs().max(b.abs()).max(1.0));
        differs += usize::from(*diff != 0.0);
    }
    assert!(differs > 0);
    assert!(d.difference_max > 0.0);

    // A change metric cannot be differenced: the appeal count stands in, and the legend says so.
    {
        let app = harness.state_mut().as_mut().unwrap();
        app.persisted_mut().map.metric = Metric::Change;
    }
    wait_idle(&mut harness);
    harness.get_by_label("the change vs the previous period is replaced by the appeal count");
}

#[test]
fn comparing_leaves_the_problem_map_and_a_playback() {
    let (_d, db) = common::demo_db(3_000, 9);
    let mut harness = september(&db);
    harness.get_by_label("View").click();
    harness.run_steps(2);
    harness.get_by_label("Time playback").click();
    wait_idle(&mut harness);
    assert!(harness.state().as_ref().unwrap().playback().is_some());
    choose_compare(&mut harness, "Side by side (A | B)");
    let app = harness.state().as_ref().unwrap();
    assert!(app.playback().is_none());
    assert!(app.comparing());
}
