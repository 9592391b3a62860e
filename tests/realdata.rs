//! Tests on the real public data in `../shared/realdata` (see its SOURCES.md). Ignored by plain
//! `cargo test`; `.ci/run` runs them with `-- --ignored`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers may panic

use std::path::PathBuf;
use std::process::Command;

use teplokarta::spatial::{Boundaries, BoundaryKind, municipalities};

fn realdata(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/realdata")
        .join(rel)
}

const OSM: &str = "tyumen_oblast_municipal_osm/tyumen_oblast_municipal_units_osm.geojson";

#[test]
#[ignore = "needs ../shared/realdata"]
fn osm_municipal_boundaries_load_and_all_names_match() {
    let b = Boundaries::from_geojson_file(&realdata(OSM), None).unwrap();
    assert_eq!(b.units.len(), 26);
    assert!(
        matches!(&b.kind, BoundaryKind::File { name_property, .. } if name_property == "district")
    );
    assert!(b.unmatched_names().is_empty(), "{:?}", b.unmatched_names());
    assert!(
        b.missing_municipalities().is_empty(),
        "{:?}",
        b.missing_municipalities()
    );
    // Each unit matched a different municipality.
    let mut matched: Vec<usize> = b.units.iter().filter_map(|u| u.municipality).collect();
    matched.sort_unstable();
    matched.dedup();
    assert_eq!(matched.len(), 26);
    // The administrative centre of every city okrug lies in its own polygon.
    for (i, m) in municipalities().iter().enumerate() {
        if m.kind == teplokarta::spatial::MunicipalityKind::UrbanOkrug {
            let unit = b
                .locate(m.centre_lon, m.centre_lat)
                .and_then(|u| b.units[u].municipality);
            assert_eq!(unit, Some(i), "{}", m.name);
        }
    }
}

#[test]
#[ignore = "needs ../shared/realdata"]
fn the_bundled_settlements_fall_in_their_osm_municipality() {
    let b = Boundaries::from_geojson_file(&realdata(OSM), None).unwrap();
    for s in teplokarta::spatial::settlements() {
        let unit = b.locate(s.lon, s.lat).and_then(|u| b.units[u].municipality);
        assert_eq!(
            unit.map(|i| municipalities()[i].name),
            Some(s.municipality),
            "{}",
            s.name
        );
    }
}

#[test]
#[ignore = "needs ../shared/realdata"]
fn check_reports_the_osm_boundaries() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.sqlite");
    teplokarta::data::generate_demo(
        &teplokarta::data::DemoConfig {
            rows: 500,
            ..Default::default()
        },
        &db,
    )
    .unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_teplokarta"))
        .args([
            "check",
            db.to_str().unwrap(),
            "--boundaries",
            realdata(OSM).to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(
        text.contains("26 polygon features, name property `district`, 26 matched"),
        "{text}"
    );
}

#[test]
#[ignore = "needs ../shared/realdata"]
fn region_files_are_polygons_but_not_tyumen_municipalities() {
    // 83 federal subjects: they load, and none matches a Tyumen municipality by name.
    let b = Boundaries::from_geojson_file(
        &realdata("russia_regions_osm_gislab/russia_federal_subjects_gislab_osm.geojson"),
        None,
    )
    .unwrap();
    assert_eq!(b.units.len(), 83);
    assert!(b.units.iter().all(|u| u.municipality.is_none()));
    // The Boston neighbourhoods load with their `name` property.
    let boston = Boundaries::from_geojson_file(
        &realdata("boston311_2015/boston_neighborhoods_bra.geojson"),
        None,
    )
    .unwrap();
    assert_eq!(boston.units.len(), 26);
    assert_eq!(boston.unmatched_names().len(), 26);
}
