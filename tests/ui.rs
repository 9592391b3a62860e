//! The window, driven through egui_kittest by labels: it loads a database off the UI thread and
//! shows its total and municipalities; language switching, drag-and-drop of another database,
//! and a bad file that leaves the loaded data in place.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers may panic

mod common;

use common::ui::{drop_file, harness, harness_with, wait_idle};

use std::path::Path;

use egui_kittest::kittest::{NodeT as _, Queryable as _};
use teplokarta::app::Startup;
use teplokarta::ui::Lang;

fn total_of(path: &Path) -> u64 {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.query_row("SELECT COUNT(*) FROM appeals", [], |r| r.get::<_, i64>(0))
        .unwrap() as u64
}

#[test]
fn shows_the_total_and_municipalities_of_a_generated_database() {
    let (_dir, path) = common::demo_db(1_500, 21);
    let mut harness = harness(&path, Lang::En);
    wait_idle(&mut harness);
    harness.get_by_label("Total appeals");
    harness.get_by_label(&Lang::En.number(total_of(&path)));
    harness.get_by_label("Тюмень");
    harness.get_by_label("Тобольский район");
    // The data-quality line is there and counts what SQL counts.
    let no_coords = count_where(&path, "lat IS NULL AND lon IS NULL");
    assert!(no_coords > 0);
    harness.get_by_label_contains(&format!(
        "Data quality: no coordinates: {} ·",
        Lang::En.number(no_coords)
    ));
}

#[test]
fn the_language_switches_from_the_menu() {
    let (_dir, path) = common::demo_db(300, 22);
    let mut harness = harness(&path, Lang::En);
    wait_idle(&mut harness);
    harness.get_by_label("Language").click();
    harness.run();
    harness.get_by_label("Русский").click();
    harness.run();
    harness.get_by_label("Всего обращений");
    assert_eq!(harness.state().as_ref().unwrap().lang(), Lang::Ru);
    assert_eq!(
        harness.state().as_ref().unwrap().persisted().lang,
        Some(Lang::Ru),
        "the choice is remembered"
    );
}

#[test]
fn dropping_a_database_opens_it_and_a_bad_one_keeps_the_data() {
    let (_a, first) = common::demo_db(800, 23);
    let (_b, second) = common::demo_db(1_200, 24);
    let mut harness = harness(&first, Lang::En);
    wait_idle(&mut harness);
    harness.get_by_label(&Lang::En.number(800));

    drop_file(&mut harness, &second);
    harness.get_by_label(&Lang::En.number(1_200));
    assert_eq!(
        harness.state().as_ref().unwrap().dataset().unwrap().source,
        second.clone().into()
    );
    assert_eq!(
        harness
            .state()
            .as_ref()
            .unwrap()
            .persisted()
            .last_database
            .as_deref(),
        Some(second.as_path())
    );

    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("broken.sqlite");
    std::fs::write(&bad, "not a database at all, just text").unwrap();
    drop_file(&mut harness, &bad);
    harness.get_by_label_contains("not a SQLite database");
    harness.get_by_label(&Lang::En.number(1_200));
    assert_eq!(
        harness.state().as_ref().unwrap().dataset().unwrap().source,
        second.clone().into(),
        "the loaded data stays"
    );

    harness.get_by_label("Dismiss").click();
    harness.run();
    assert!(harness.state().as_ref().unwrap().errors().is_empty());
}

#[test]
fn the_open_dialog_takes_a_typed_path() {
    let (_a, first) = common::demo_db(400, 25);
    let (_b, second) = common::demo_db(700, 26);
    let mut harness = harness(&first, Lang::En);
    wait_idle(&mut harness);
    harness.get_by_label("File").click();
    harness.run();
    harness.get_by_label("Open database…").click();
    harness.run();
    let field = harness.get_by_role_and_label(egui::accesskit::Role::TextInput, "Path");
    field.focus();
    harness.run();
    harness
        .get_by_role_and_label(egui::accesskit::Role::TextInput, "Path")
        .type_text(second.to_str().unwrap());
    harness.run();
    harness.get_by_label("Open").click();
    harness.step();
    wait_idle(&mut harness);
    harness.get_by_label(&Lang::En.number(700));
}

#[test]
fn geojson_boundaries_can_be_dropped_too() {
    let (_a, db) = common::demo_db(300, 27);
    let dir = tempfile::tempdir().unwrap();
    let geojson = dir.path().join("two.geojson");
    std::fs::write(
        &geojson,
        r#"{"type":"FeatureCollection","features":[
            {"type":"Feature","properties":{"name":"г. Ишим"},"geometry":{"type":"Polygon","coordinates":[[[69.4,56.05],[69.6,56.05],[69.6,56.2],[69.4,56.2],[69.4,56.05]]]}},
            {"type":"Feature","properties":{"name":"Ишимский район"},"geometry":{"type":"Polygon","coordinates":[[[69.0,55.8],[70.2,55.8],[70.2,56.6],[69.0,56.6],[69.0,55.8]]]}}]}"#,
    )
    .unwrap();
    let mut harness = harness(&db, Lang::En);
    wait_idle(&mut harness);
    drop_file(&mut harness, &geojson);
    let app = harness.state().as_ref().unwrap();
    assert_eq!(app.boundaries().unwrap().boundaries.units.len(), 2);
    assert!(!app.boundaries().unwrap().boundaries.is_schematic());
    harness.get_by_label("Boundaries: two.geojson");
    harness.get_by_label_contains(
        "two.geojson — 2 polygons, matched 2; municipalities without a polygon: Абатский район",
    );
}

fn count_where(path: &Path, condition: &str) -> u64 {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.query_row(
        &format!("SELECT COUNT(*) FROM appeals WHERE {condition}"),
        [],
        |r| r.get::<_, i64>(0),
    )
    .unwrap() as u64
}

#[test]
fn unticking_a_category_changes_the_total() {
    let (_dir, path) = common::demo_db(2_000, 41);
    let mut harness = harness(&path, Lang::En);
    wait_idle(&mut harness);
    harness.get_by_label(&Lang::En.number(2_000));
    harness.get_by_label("Categories").click();
    harness.run();
    harness
        .get_by_role_and_label(egui::accesskit::Role::CheckBox, "ЖКХ")
        .click();
    harness.step();
    wait_idle(&mut harness);
    let expected = count_where(&path, "category <> 'ЖКХ'");
    assert!(expected < 2_000);
    harness.get_by_label(&Lang::En.number(expected));
    // One chip for the part, saying what is left out; × removes the restriction.
    harness
        .get_by_label("Categories: all except ЖКХ  ×")
        .click();
    harness.step();
    wait_idle(&mut harness);
    harness.get_by_label(&Lang::En.number(2_000));
}

#[test]
fn selecting_one_category_shows_its_total_and_none_shows_nothing() {
    let (_dir, path) = common::demo_db(2_000, 43);
    let mut harness = harness(&path, Lang::En);
    wait_idle(&mut harness);
    harness.get_by_label("Categories").click();
    harness.run();
    // "none" in the category tree (the first of the small "none" buttons), then tick one.
    harness.get_all_by_label("none").next().unwrap().click();
    harness.step();
    wait_idle(&mut harness);
    harness.get_by_label("Categories: nothing selected  ×");
    harness.get_by_label(&Lang::En.number(0));
    harness
        .get_by_role_and_label(egui::accesskit::Role::CheckBox, "Дороги")
        .click();
    harness.step();
    wait_idle(&mut harness);
    let roads = count_where(&path, "category = 'Дороги'");
    // The total (and the category's own line, which now holds everything) shows it.
    assert!(harness.get_all_by_label(&Lang::En.number(roads)).count() >= 1);
    assert_eq!(
        harness
            .state()
            .as_ref()
            .unwrap()
            .view()
            .unwrap()
            .aggregates
            .total,
        roads
    );
    harness.get_by_label("Categories: Дороги  ×");
    harness.get_by_label("Reset filter").click();
    harness.step();
    wait_idle(&mut harness);
    harness.get_by_label(&Lang::En.number(2_000));
}

#[test]
fn clicking_a_table_row_selects_the_municipality_and_shows_its_details() {
    let (_dir, path) = common::demo_db(3_000, 42);
    let mut harness = harness(&path, Lang::En);
    wait_idle(&mut harness);
    harness.get_by_label("View").click();
    harness.run();
    harness
        .get_by_label("Municipality × category table")
        .click();
    harness.run();
    harness.key_press(egui::Key::Escape);
    harness.run();
    assert!(harness.state().as_ref().unwrap().persisted().show_pivot);
    // "Тобольск" is both in the side panel's list and in the table (right of the side panel).
    let row = harness
        .get_all_by_label("Тобольск")
        .max_by(|a, b| a.rect().center().x.total_cmp(&b.rect().center().x))
        .unwrap();
    row.click();
    harness.step();
    wait_idle(&mut harness);
    let tobolsk = teplokarta::spatial::municipalities()
        .iter()
        .position(|m| m.name == "Тобольск")
        .unwrap() as u32;
    assert_eq!(harness.state().as_ref().unwrap().selected(), Some(tobolsk));
    harness.get_by_label("Zoom to");
    let total = count_where(&path, "municipality = 'Тобольск'");
    harness.get_by_label(&format!(
        "Appeals in the filter: {}",
        Lang::En.number(total)
    ));
    harness.get_by_label("Appeals per week");
}

#[test]
fn errors_are_shown_in_the_interface_language() {
    let (_a, db) = common::demo_db(300, 44);
    let mut harness = harness(&db, Lang::Ru);
    wait_idle(&mut harness);
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("сломанная.sqlite");
    std::fs::write(&bad, "это текст, а не база").unwrap();
    drop_file(&mut harness, &bad);
    harness.get_by_label_contains("это не база SQLite");
    harness.get_by_label("Всего обращений");
}

#[test]
fn the_density_layer_follows_its_radius() {
    let (_dir, path) = common::demo_db(3_000, 45);
    let mut harness = harness(&path, Lang::En);
    wait_idle(&mut harness);
    harness.get_by_label("Appeal density").click();
    harness.step();
    wait_idle(&mut harness);
    let first = harness
        .state()
        .as_ref()
        .unwrap()
        .density()
        .expect("a surface")
        .auto_max;
    assert!(first > 0.0);
    // The legend states the scale in appeals per km².
    harness.get_by_label_contains(&format!(
        "{} appeals/km²",
        Lang::En.decimal(f64::from(first), 1)
    ));
    // A ten times larger radius spreads the same appeals: a lower top of the scale.
    harness.get_by_label("Density settings").click();
    harness.run();
    harness
        .get_by_role_and_label(egui::accesskit::Role::SpinButton, "radius")
        .set_value_accesskit(20_000.0);
    harness.step();
    wait_idle(&mut harness);
    let app = harness.state().as_ref().unwrap();
    let d = app.density().expect("a surface");
    assert_eq!(d.request.radius_m, 20_000.0);
    assert!(d.auto_max < first, "{} vs {first}", d.auto_max);
    harness.get_by_label_contains(&format!(
        "{} appeals/km²",
        Lang::En.decimal(f64::from(d.auto_max), 1)
    ));
}

#[test]
fn choosing_a_problem_and_clicking_the_first_row_of_the_list_selects_that_zone() {
    use teplokarta::analysis::problems::{RankBy, ranked};
    let (_dir, path) = common::demo_db(20_000, 46);
    let mut harness = harness(&path, Lang::En);
    wait_idle(&mut harness);
    harness.get_by_label("Problem map").click();
    harness.step();
    wait_idle(&mut harness);
    assert_eq!(
        harness
            .state()
            .as_ref()
            .unwrap()
            .problems()
            .unwrap()
            .request
            .settings
            .profile
            .id,
        "power-outages"
    );
    // The profile menu shows the current profile; choose another one.
    harness
        .get(
            egui_kittest::kittest::By::new()
                .role(egui::accesskit::Role::ComboBox)
                .value("Power outages"),
        )
        .click();
    harness.run();
    harness.get_by_label("Roads").click();
    harness.step();
    wait_idle(&mut harness);
    let (first, name) = {
        let app = harness.state().as_ref().unwrap();
        let p = app.problems().expect("a problem map");
        assert_eq!(p.request.settings.profile.id, "roads");
        let roads = count_where(&path, "category = 'Дороги'");
        assert_eq!(p.map.appeals, roads, "the list counts what SQL counts");
        let first = *ranked(&p.map, RankBy::ZScore).first().expect("zones");
        (first, p.base.zones.zones[first].display_name("near"))
    };
    assert_eq!(harness.state().as_ref().unwrap().selected_zone(), None);
    // The first row of the list is the topmost label with the zone's name.
    let row = harness
        .get_all_by_label(&name)
        .min_by(|a, b| a.rect().center().y.total_cmp(&b.rect().center().y))
        .unwrap();
    row.click();
    harness.step();
    wait_idle(&mut harness);
    let app = harness.state().as_ref().unwrap();
    assert_eq!(app.selected_zone(), Some(first as u32));
    // The zone's card lists its appeals.
    let n = app.problems().unwrap().map.zones[first].appeals;
    harness.get_by_label(&format!("Appeals of the zone ({})", Lang::En.number(n)));
    harness.get_by_label("Zoom to zone");
}

/// Another process writes 1,000 appeals over 5 s into the open database (WAL mode) while the
/// window follows it: at the end the window's totals equal SQL's, the writer never got
/// `SQLITE_BUSY` from the viewer, and the top bar says how many are new.
#[test]
fn the_window_follows_a_database_another_process_writes_to() {
    let (_dir, path) = common::demo_db(2_000, 50);
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        let mode: String = conn
            .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
    }
    let mut harness = harness(&path, Lang::En);
    wait_idle(&mut harness);
    let before = total_of(&path);
    assert_eq!(
        harness
            .state()
            .as_ref()
            .unwrap()
            .view()
            .unwrap()
            .summary
            .total,
        before
    );

    let writer_path = path.clone();
    let writer = std::thread::spawn(move || {
        let mut conn = rusqlite::Connection::open(&writer_path).unwrap();
        // No waiting: any lock the viewer held would surface as SQLITE_BUSY at once.
        conn.busy_timeout(std::time::Duration::ZERO).unwrap();
        let mut busy = 0;
        let mut written = 0;
        for batch in 0..100 {
            let result = (|| -> rusqlite::Result<()> {
                let tx = conn.transaction()?;
                for k in 0..10 {
                    tx.execute(
                        "INSERT INTO appeals (received_at, source, category, municipality, lat, lon, status)
                         VALUES (?1, 'pos', 'Электроэнергетика', 'Тюменский район', 57.2, 65.7, 'new')",
                        [format!("2021-12-31T12:{:02}:{:02}", batch % 60, k)],
                    )?;
                }
                tx.commit()
            })();
            match result {
                Ok(()) => written += 10,
                Err(rusqlite::Error::SqliteFailure(e, _))
                    if e.code == rusqlite::ErrorCode::DatabaseBusy =>
                {
                    busy += 1;
                }
                Err(e) => panic!("{e}"),
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        (written, busy)
    });
    let started = std::time::Instant::now();
    while !writer.is_finished() {
        harness.step();
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let (written, busy) = writer.join().unwrap();
    assert_eq!(busy, 0, "the writer saw SQLITE_BUSY");
    assert_eq!(written, 1_000);
    let after = total_of(&path);
    assert_eq!(after, before + 1_000);
    // The window catches up within a few seconds of the last commit.
    let caught_up = std::time::Instant::now();
    loop {
        harness.step();
        let app = harness.state().as_ref().unwrap();
        if app.is_idle() && app.view().is_some_and(|v| v.summary.total == after) {
            break;
        }
        assert!(
            caught_up.elapsed() < std::time::Duration::from_secs(10),
            "the window did not follow the writer ({:?} since it started)",
            started.elapsed()
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    harness.run_steps(2);
    harness.get_by_label(&Lang::En.number(after));
    harness.get_by_label_contains(&format!("+{} new", Lang::En.number(1_000)));
}

/// File → Import…: a Windows-1251 export with Russian headers is previewed with its mapping,
/// a field's column is changed by hand, the import runs with its summary, and the new database
/// opens with SQL's total.
#[test]
fn the_import_dialog_previews_maps_imports_and_opens_the_result() {
    let (_dir, db) = common::demo_db(300, 51);
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("выгрузка.csv");
    let text = "Номер;Дата поступления;Рубрика;Тема обращения;Статус\r\n\
                1;01.03.2021 09:30;ЖКХ;Отопление;Решено\r\n\
                2;02.03.2021 14:05;Дороги;Ямы;В работе\r\n\
                3;31.02.2021 10:00;ЖКХ;Вода;Открыто\r\n";
    let (bytes, _, _) = encoding_rs::WINDOWS_1251.encode(text);
    std::fs::write(&input, &bytes).unwrap();
    let target = dir.path().join("imported.sqlite");

    let mut harness = harness(&db, Lang::En);
    wait_idle(&mut harness);
    harness.get_by_label("File").click();
    harness.run();
    harness.get_by_label("Import…").click();
    harness.run();
    for (role, label, text) in [
        (
            egui::accesskit::Role::MultilineTextInput,
            "Files",
            input.display().to_string(),
        ),
        (
            egui::accesskit::Role::TextInput,
            "Into database",
            target.display().to_string(),
        ),
    ] {
        harness.get_by_role_and_label(role, label).focus();
        harness.run();
        harness.get_by_role_and_label(role, label).type_text(&text);
        harness.run();
    }
    harness.get_by_label("Preview").click();
    harness.step();
    wait_idle(&mut harness);
    {
        let d = harness.state().as_ref().unwrap().import_dialog().unwrap();
        assert_eq!(d.input_paths(), vec![input.clone()]);
        assert_eq!(d.preview_error, None);
        assert!(d.preview.is_some(), "no preview");
    }
    // The proposed mapping, shown per field; «Тема обращения» was not recognised as the
    // subcategory: choose it by hand.
    harness
        .get(
            egui_kittest::kittest::By::new()
                .role(egui::accesskit::Role::ComboBox)
                .value("Дата поступления"),
        )
        .hover();
    harness
        .get(
            egui_kittest::kittest::By::new()
                .role(egui::accesskit::Role::ComboBox)
                .value("Рубрика"),
        )
        .hover();
    let subcategory_was = harness
        .state()
        .as_ref()
        .unwrap()
        .import_dialog()
        .unwrap()
        .mapping
        .columns
        .get(&teplokarta::data::import::parse::Field::Subcategory)
        .cloned();
    if subcategory_was.is_none() {
        harness
            .get_by_role_and_label(egui::accesskit::Role::ComboBox, "subcategory")
            .click();
        harness.run();
        // The menu's entry (the header row of the preview has the same text).
        harness
            .get_all_by_label("Тема обращения")
            .find(|n| n.accesskit_node().role() != egui::accesskit::Role::Label)
            .unwrap()
            .click();
        harness.run();
    }
    harness.get_by_label("Import").click();
    harness.step();
    wait_idle(&mut harness);
    harness.get_by_label_contains("imported 2");
    harness.get_by_label_contains("rejected 1");
    harness.get_by_label("Open the database").click();
    harness.step();
    wait_idle(&mut harness);
    let app = harness.state().as_ref().unwrap();
    assert_eq!(app.dataset().unwrap().source, target.clone().into());
    assert_eq!(total_of(&target), 2);
    assert_eq!(app.view().unwrap().summary.total, 2);
    let conn = rusqlite::Connection::open(&target).unwrap();
    let sub: String = conn
        .query_row(
            "SELECT subcategory FROM appeals WHERE external_id = '1'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(sub, "Отопление");
}

/// The problem profile editor: a copy of a built-in profile, renamed and narrowed to garden
/// communities, is saved as a new profile into the profiles file, becomes the current profile,
/// and its problem map counts only the garden communities' appeals.
#[test]
fn a_problem_profile_edited_in_the_window_is_saved_and_used() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("problem-profiles.toml");
    let (_db_dir, db) = common::demo_db(6_000, 52);
    let mut harness = harness_with(Startup {
        database: Some(db.clone().into()),
        lang: Some(Lang::En),
        fresh: true,
        profiles_file: Some(file.clone()),
        ..Startup::default()
    });
    wait_idle(&mut harness);
    harness.get_by_label("Problem map").click();
    harness.step();
    wait_idle(&mut harness);
    harness.get_by_label("Edit problem…").click();
    harness.run();
    let name = harness.get_by_role_and_label(egui::accesskit::Role::TextInput, "Name (English)");
    name.focus();
    harness.run();
    harness
        .get_by_role_and_label(egui::accesskit::Role::TextInput, "Name (English)")
        .type_text(" in SNT");
    harness.run();
    // The editor's own checkbox (the panel has one with the same text above it).
    let boxes: Vec<_> = harness
        .get_all_by_label("garden communities only (СНТ, ДНТ, СОТ)")
        .collect();
    assert_eq!(boxes.len(), 2);
    boxes
        .into_iter()
        .max_by(|a, b| a.rect().center().y.total_cmp(&b.rect().center().y))
        .unwrap()
        .click();
    harness.run();
    harness.get_by_label("Save as new").click();
    harness.step();
    wait_idle(&mut harness);
    let text = std::fs::read_to_string(&file).unwrap();
    let saved = teplokarta::analysis::profiles::profiles_from_toml(&text).unwrap();
    assert_eq!(saved.len(), 1, "{text}");
    assert_eq!(saved[0].name_en, "Power outages in SNT");
    assert!(saved[0].snt);
    let app = harness.state().as_ref().unwrap();
    let p = app.problems().unwrap();
    assert_eq!(p.request.settings.profile.id, saved[0].id);
    let snt = count_where(
        &db,
        "category = 'Электроэнергетика' AND (settlement LIKE '%СНТ%' OR settlement LIKE '%ДНТ%' \
         OR settlement LIKE '%СОТ%')",
    );
    assert_eq!(p.map.appeals, snt);
}
