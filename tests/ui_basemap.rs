//! The basemap in the window, driven through egui_kittest: the built-in map by default, a tile
//! file from the command line or dropped onto the window (zoomed to when the data lies outside
//! it), the menu, a damaged file that leaves the basemap in place, and an unreachable tile
//! server that shows "offline" without a storm of requests.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers may panic

mod common;

use std::path::{Path, PathBuf};

use common::ui::{State, drop_file, harness_with, wait_idle};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable as _;
use teplokarta::app::Startup;
use teplokarta::tiles::choice::BasemapChoice;
use teplokarta::tiles::{SourceKind, TileKey};
use teplokarta::ui::Lang;

const BUILT_IN_CREDITS: &str =
    "Boundaries, outline: © OpenStreetMap contributors (ODbL) · settlements: GeoNames (CC BY 4.0)";

/// An MBTiles file covering `bounds` (w, s, e, n) with one tile at zoom 2 and 3.
fn mbtiles(dir: &Path, name: &str, bounds: [f64; 4], attribution: &str) -> PathBuf {
    let path = dir.join(name);
    let bounds = format!("{},{},{},{}", bounds[0], bounds[1], bounds[2], bounds[3]);
    let metadata = [
        ("name", "test tiles"),
        ("format", "png"),
        ("bounds", bounds.as_str()),
        ("minzoom", "2"),
        ("maxzoom", "3"),
        ("attribution", attribution),
    ];
    let tiles = [TileKey::new(2, 2, 1), TileKey::new(3, 5, 2)]
        .map(|key| (key, common::solid_png([200, 220, 180])));
    common::write_mbtiles(&path, &metadata, &tiles);
    path
}

fn app_on(db: &Path, basemap: Option<BasemapChoice>, cache: &Path) -> Harness<'static, State> {
    harness_with(Startup {
        database: Some(db.to_owned().into()),
        lang: Some(Lang::En),
        fresh: true,
        basemap,
        tile_cache_dir: Some(cache.to_owned()),
        ..Startup::default()
    })
}

#[test]
fn the_built_in_map_is_the_default_and_a_tile_file_from_the_command_line_is_used() {
    let (_d, db) = common::demo_db(500, 3);
    let dir = tempfile::tempdir().unwrap();
    let mut harness = app_on(&db, None, dir.path());
    wait_idle(&mut harness);
    let app = harness.state().as_ref().unwrap();
    assert!(app.basemap_info().is_none(), "no tiles: the built-in map");
    assert_eq!(app.basemap_choice(), &BasemapChoice::BuiltIn);
    harness.get_by_label(BUILT_IN_CREDITS);

    let file = mbtiles(
        dir.path(),
        "region.mbtiles",
        [64.0, 55.0, 73.0, 60.5],
        "© Test Tiles",
    );
    let choice = BasemapChoice::File {
        path: file,
        tms: false,
    };
    let mut harness = app_on(&db, Some(choice.clone()), dir.path());
    wait_idle(&mut harness);
    let app = harness.state().as_ref().unwrap();
    let info = app.basemap_info().expect("the file is the basemap");
    assert_eq!(info.kind, SourceKind::MbTiles);
    assert_eq!(info.max_zoom, 3);
    assert_eq!(
        app.persisted().basemap,
        choice,
        "remembered for the next start"
    );
    // Its credits next to the built-in map's.
    harness.get_by_label("© Test Tiles");
    harness.get_by_label(BUILT_IN_CREDITS);

    // Back to the built-in map from the menu.
    harness.get_by_label("Basemap").click();
    harness.run_steps(2);
    harness.get_by_label("Built-in map (offline)").click();
    wait_idle(&mut harness);
    let app = harness.state().as_ref().unwrap();
    assert!(app.basemap_info().is_none());
    assert_eq!(app.persisted().basemap, BasemapChoice::BuiltIn);
    assert!(harness.query_by_label("© Test Tiles").is_none());
}

#[test]
fn a_dropped_tile_file_outside_the_data_is_zoomed_to_and_a_damaged_one_changes_nothing() {
    let (_d, db) = common::demo_db(500, 4);
    let dir = tempfile::tempdir().unwrap();
    let mut harness = app_on(&db, None, dir.path());
    wait_idle(&mut harness);

    // Boston, far from the Tyumen data.
    let boston = [-71.19, 42.23, -70.99, 42.40];
    let file = mbtiles(dir.path(), "boston.mbtiles", boston, "© Boston test");
    drop_file(&mut harness, &file);
    harness.run_steps(3);
    let app = harness.state().as_ref().unwrap();
    assert_eq!(
        app.basemap_info().map(|i| i.kind),
        Some(SourceKind::MbTiles)
    );
    let (lon, lat) = app.map_center_lon_lat().expect("the map was moved");
    assert!(
        (boston[0]..=boston[2]).contains(&lon) && (boston[1]..=boston[3]).contains(&lat),
        "centred on the tiles: {lon}, {lat}"
    );

    // A text file named like a tile file: an error naming it; the basemap stays.
    let bad = dir.path().join("broken.mbtiles");
    std::fs::write(&bad, "not a database").unwrap();
    drop_file(&mut harness, &bad);
    let app = harness.state().as_ref().unwrap();
    assert_eq!(
        app.basemap_info().map(|i| i.attribution.as_str()),
        Some("© Boston test")
    );
    assert_eq!(
        app.persisted().basemap,
        BasemapChoice::File {
            path: file,
            tms: false
        },
        "the menu shows the basemap in use"
    );
    let errors = app.errors().to_vec();
    assert!(
        errors.iter().any(|e| e.contains("broken.mbtiles")),
        "the error names the file: {errors:?}"
    );
    harness.get_by_label_contains("broken.mbtiles");
}

#[test]
fn an_unreachable_tile_server_shows_offline_without_a_storm_of_requests() {
    let (_d, db) = common::demo_db(500, 5);
    let dir = tempfile::tempdir().unwrap();
    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let template = format!("http://127.0.0.1:{port}/{{z}}/{{x}}/{{y}}.png");
    let mut harness = app_on(&db, Some(BasemapChoice::Url { template }), dir.path());
    wait_idle(&mut harness);
    let started = std::time::Instant::now();
    let mut offline_seen = false;
    while started.elapsed() < std::time::Duration::from_secs(3) {
        harness.step();
        offline_seen |= harness
            .query_by_label("offline: basemap from cache")
            .is_some();
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(offline_seen, "the offline badge is shown");
    let app = harness.state().as_ref().unwrap();
    let attempts = app.tile_downloads_attempted().unwrap();
    // Dozens of tiles wanted, a few attempts: the back-off holds the rest.
    assert!(
        (1..=4).contains(&attempts),
        "{attempts} download attempts in 3 s"
    );
    // The data is still on the map.
    harness.get_by_label("Total appeals");
}
