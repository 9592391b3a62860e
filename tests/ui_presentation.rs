//! Presentation mode and saved views in the window, driven through egui_kittest by labels: F5
//! hides the operator's panels and titles the map with the period in words, Esc brings them
//! back; no individual appeal is drawn while presenting; views saved from the menu land in the
//! views file, and the arrow keys step through them (their filter becomes active, the map moves
//! to their extent); the views file round-trips and merges by name.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers may panic

mod common;

use std::path::Path;

use common::ui::{State, harness_with, wait_idle};
use egui::Key;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable as _;
use teplokarta::analysis::Filter;
use teplokarta::app::Startup;
use teplokarta::app::views::{self, SavedView};
use teplokarta::ui::Lang;
use teplokarta::ui::panels::MapSettings;
use teplokarta::ui::problem_panel::ProblemPrefs;

fn app_on(db: &Path, views_file: &Path) -> Harness<'static, State> {
    harness_with(Startup {
        database: Some(db.to_owned().into()),
        lang: Some(Lang::En),
        fresh: true,
        views_file: Some(views_file.to_owned()),
        ..Startup::default()
    })
}

fn date(s: &str) -> Option<jiff::civil::Date> {
    Some(s.parse().unwrap())
}

fn period(from: &str, to: &str) -> Filter {
    Filter {
        from: date(from),
        to: date(to),
        ..Filter::default()
    }
}

fn press(harness: &mut Harness<'static, State>, key: Key) {
    harness.key_press(key);
    harness.run_steps(2);
    wait_idle(harness);
}

fn presenting(harness: &Harness<'static, State>) -> bool {
    harness.state().as_ref().unwrap().presenting()
}

#[test]
fn f5_hides_the_panels_and_titles_the_map_and_esc_brings_them_back() {
    let (_d, db) = common::demo_db(1_500, 31);
    let dir = tempfile::tempdir().unwrap();
    let mut harness = app_on(&db, &dir.path().join("v.teplokarta-views.json"));
    wait_idle(&mut harness);
    *harness.state_mut().as_mut().unwrap().filter_mut() = period("2021-09-01", "2021-11-30");
    harness.step();
    wait_idle(&mut harness);
    harness.get_by_label("Total appeals");
    harness.get_by_label("File");
    assert!(
        harness
            .query_by_label_contains("All appeals · 1 September – 30 November 2021")
            .is_none(),
        "no title in the workstation view"
    );

    press(&mut harness, Key::F5);
    assert!(presenting(&harness));
    assert!(
        harness.query_by_label("Total appeals").is_none(),
        "the side panel is hidden"
    );
    assert!(
        harness.query_by_label("File").is_none(),
        "the menu is hidden"
    );
    harness.get_by_label("All appeals · 1 September – 30 November 2021");
    // The legend with units, the data timestamp and the sources stay.
    harness.get_by_label("Appeals");
    harness.get_by_label_contains("Data as of ");
    harness.get_by_label("Basemap: built-in map");
    harness.get_by_label_contains("© OpenStreetMap contributors");
    // The map still zooms from the keyboard.
    let zoom_before = harness.state().as_ref().unwrap().map_zoom();
    press(&mut harness, Key::Plus);
    let zoom_after = harness.state().as_ref().unwrap().map_zoom();
    assert!(
        (zoom_after - zoom_before - 0.5).abs() < 1e-9,
        "{zoom_before} → {zoom_after}"
    );

    press(&mut harness, Key::Escape);
    assert!(!presenting(&harness));
    harness.get_by_label("Total appeals");
    harness.get_by_label("File");
    // The text scale is put back with the zoom: leaving restores the operator's map.
    let zoom_back = harness.state().as_ref().unwrap().map_zoom();
    assert!(
        (zoom_back - zoom_after - 1.5_f64.log2()).abs() < 1e-9,
        "{zoom_after} → {zoom_back}"
    );

    // The button in the top bar enters too.
    harness.get_by_label("Presentation (F5)").click();
    harness.run_steps(2);
    assert!(presenting(&harness));
    assert!(harness.query_by_label("Total appeals").is_none());
}

#[test]
fn presentation_mode_draws_no_individual_appeals() {
    let (_d, db) = common::demo_db(1_500, 32);
    let dir = tempfile::tempdir().unwrap();
    let mut harness = app_on(&db, &dir.path().join("v.teplokarta-views.json"));
    wait_idle(&mut harness);
    let app = harness.state().as_ref().unwrap();
    assert!(app.persisted().map.show_points);
    assert!(app.points_on_map() > 1_000, "{}", app.points_on_map());

    press(&mut harness, Key::F5);
    let app = harness.state().as_ref().unwrap();
    assert!(app.presenting());
    assert_eq!(app.points_on_map(), 0, "the points layer is off");
    assert!(
        app.persisted().map.show_points,
        "the operator's setting is kept"
    );

    press(&mut harness, Key::Escape);
    let app = harness.state().as_ref().unwrap();
    assert!(app.points_on_map() > 1_000, "back in the workstation view");
}

/// Saves the current view from the Views menu under `name`.
fn save_view(harness: &mut Harness<'static, State>, name: &str) {
    harness.get_by_label("Views").click();
    harness.run_steps(2);
    harness.get_by_label("Save current view…").click();
    harness.run_steps(4);
    let field = harness.get_by_role_and_label(egui::accesskit::Role::TextInput, "View name");
    field.focus();
    harness.run_steps(2);
    harness
        .get_by_role_and_label(egui::accesskit::Role::TextInput, "View name")
        .type_text(name);
    harness.run_steps(2);
    harness.get_by_label("Save").click();
    harness.run_steps(2);
    wait_idle(harness);
}

#[test]
fn views_saved_from_the_menu_are_stepped_through_with_the_arrow_keys() {
    let (_d, db) = common::demo_db(1_500, 33);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("v.teplokarta-views.json");
    let mut harness = app_on(&db, &file);
    wait_idle(&mut harness);

    let autumn = period("2021-09-01", "2021-11-30");
    let mut spring = period("2021-03-01", "2021-05-31");
    spring.municipalities.insert("Тюмень".into());
    *harness.state_mut().as_mut().unwrap().filter_mut() = autumn.clone();
    harness.step();
    wait_idle(&mut harness);
    save_view(&mut harness, "Autumn");
    *harness.state_mut().as_mut().unwrap().filter_mut() = spring.clone();
    harness.step();
    wait_idle(&mut harness);
    save_view(&mut harness, "Spring in Tyumen");

    let saved = views::load_views(&file).unwrap();
    let names: Vec<&str> = saved.iter().map(|v| v.name.as_str()).collect();
    assert_eq!(names, ["Autumn", "Spring in Tyumen"]);
    assert_eq!(saved[0].filter, autumn);
    assert_eq!(saved[1].filter, spring);

    // Something else on screen, then present and step.
    *harness.state_mut().as_mut().unwrap().filter_mut() = Filter::default();
    harness.step();
    wait_idle(&mut harness);
    press(&mut harness, Key::F5);
    harness.get_by_label("All appeals · all time");

    press(&mut harness, Key::ArrowRight);
    assert_eq!(harness.state().as_ref().unwrap().persisted().filter, autumn);
    harness.get_by_label("Autumn");
    harness.get_by_label("All appeals · 1 September – 30 November 2021");
    harness.get_by_label("1 / 2");

    press(&mut harness, Key::ArrowRight);
    assert_eq!(harness.state().as_ref().unwrap().persisted().filter, spring);
    harness.get_by_label("Spring in Tyumen");
    harness.get_by_label("All appeals · 1 March – 31 May 2021 · Тюмень");
    harness.get_by_label("2 / 2");

    // The last view stays on the last; Page Up goes back.
    press(&mut harness, Key::ArrowRight);
    assert_eq!(harness.state().as_ref().unwrap().persisted().filter, spring);
    press(&mut harness, Key::PageUp);
    assert_eq!(harness.state().as_ref().unwrap().persisted().filter, autumn);
    harness.get_by_label("1 / 2");
    assert!(presenting(&harness), "stepping stays in presentation mode");

    press(&mut harness, Key::Escape);
    harness.get_by_label("Total appeals");
}

#[test]
fn going_to_a_view_moves_the_map_to_its_extent_and_applies_its_layers() {
    let (_d, db) = common::demo_db(800, 34);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("shared.teplokarta-views.json");
    let mut map = MapSettings::default();
    map.density.enabled = true;
    map.metric = teplokarta::analysis::Metric::Per10k;
    let tobolsk = SavedView {
        name: "Тобольск".into(),
        center_lon: 68.25,
        center_lat: 58.2,
        zoom: 10.0,
        map,
        problems: ProblemPrefs::default(),
        filter: period("2021-01-01", "2021-12-31"),
    };
    views::save_views(&file, std::slice::from_ref(&tobolsk)).unwrap();
    let mut harness = app_on(&db, &file);
    wait_idle(&mut harness);
    assert_eq!(harness.state().as_ref().unwrap().saved_views().len(), 1);

    press(&mut harness, Key::F5);
    press(&mut harness, Key::PageDown);
    // The move takes ~0.6 s of the window's clock (a quarter of a second per test step).
    harness.run_steps(4);
    wait_idle(&mut harness);
    let app = harness.state().as_ref().unwrap();
    assert_eq!(
        app.persisted().map.metric,
        teplokarta::analysis::Metric::Per10k
    );
    assert!(app.persisted().map.density.enabled);
    let (lon, lat) = app.map_center_lon_lat().unwrap();
    assert!(
        (lon - 68.25).abs() < 1e-6 && (lat - 58.2).abs() < 1e-6,
        "{lon}, {lat}"
    );
    // The stored zoom is at 1× type; presenting at 1.5× shows the same ground.
    assert!((app.map_zoom() - (10.0 - 1.5_f64.log2())).abs() < 1e-9);
    harness.get_by_label("Тобольск");
}

#[test]
fn the_views_file_round_trips_and_an_import_merges_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let view = |name: &str, lon: f64, from: &str| SavedView {
        name: name.into(),
        center_lon: lon,
        center_lat: 57.0,
        zoom: 8.0,
        map: MapSettings::default(),
        problems: ProblemPrefs::default(),
        filter: period(from, "2021-12-31"),
    };
    let ours = vec![view("A", 65.0, "2021-01-01"), view("B", 66.0, "2021-02-01")];
    let path = dir.path().join("ours.teplokarta-views.json");
    views::save_views(&path, &ours).unwrap();
    let mut loaded = views::load_views(&path).unwrap();
    assert_eq!(loaded, ours);

    let theirs = vec![view("B", 70.0, "2021-06-01"), view("C", 67.0, "2021-03-01")];
    let shared = dir.path().join("theirs.teplokarta-views.json");
    views::save_views(&shared, &theirs).unwrap();
    let n = views::merge_views(&mut loaded, views::load_views(&shared).unwrap());
    assert_eq!(n, 2);
    let names: Vec<&str> = loaded.iter().map(|v| v.name.as_str()).collect();
    assert_eq!(names, ["A", "B", "C"], "same name replaced in place");
    assert_eq!(loaded[1], theirs[0]);
    views::save_views(&path, &loaded).unwrap();
    assert_eq!(views::load_views(&path).unwrap(), loaded);
}
