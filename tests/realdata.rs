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

/// Brute force: the first unit whose polygon contains the point, else the first whose closed
/// polygon (border included) touches it.
fn brute_force(b: &Boundaries, lon: f64, lat: f64) -> (Vec<usize>, Option<usize>) {
    use geo::{Contains as _, Intersects as _, Point};
    let p = Point::new(lon, lat);
    let inside: Vec<usize> = (0..b.units.len())
        .filter(|&i| b.units[i].polygon_lon_lat.contains(&p))
        .collect();
    let answer = inside
        .first()
        .copied()
        .or_else(|| (0..b.units.len()).find(|&i| b.units[i].polygon_lon_lat.intersects(&p)));
    (inside, answer)
}

#[test]
#[ignore = "needs ../shared/realdata"]
fn point_in_polygon_agrees_with_brute_force_on_osm_boundaries() {
    use rand::{RngExt as _, SeedableRng as _};
    let b = Boundaries::from_geojson_file(&realdata(OSM), None).unwrap();
    let locator = teplokarta::spatial::MunicipalityLocator::new(&b);
    let bounds = b.bounds().unwrap();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(100);
    let mut points: Vec<(f64, f64)> = (0..100_000)
        .map(|_| {
            (
                rng.random_range(bounds.lon_min..bounds.lon_max),
                rng.random_range(bounds.lat_min..bounds.lat_max),
            )
        })
        .collect();
    // Points on borders: vertices (exactly on the border) and edge midpoints (on it up to
    // rounding, so they may fall just outside the oblast's outer border).
    let mut vertices = Vec::new();
    for u in &b.units {
        for polygon in &u.polygon_lon_lat {
            for line in polygon.exterior().lines().step_by(7) {
                vertices.push((line.start.x, line.start.y));
                points.push((
                    (line.start.x + line.end.x) / 2.0,
                    (line.start.y + line.end.y) / 2.0,
                ));
            }
        }
    }
    let border_count = vertices.len();
    points.extend(vertices);
    let mut located = 0;
    for (k, &(lon, lat)) in points.iter().enumerate() {
        let (inside, expected) = brute_force(&b, lon, lat);
        assert!(
            inside.len() <= 1,
            "point {k} lies inside {} polygons",
            inside.len()
        );
        assert_eq!(
            locator.locate(lon, lat),
            expected,
            "point {k} ({lon}, {lat})"
        );
        if expected.is_some() {
            located += 1;
        }
    }
    // Every vertex of a border lands in exactly one municipality.
    let border_start = points.len() - border_count;
    for &(lon, lat) in &points[border_start..] {
        assert!(
            locator.locate(lon, lat).is_some(),
            "vertex ({lon}, {lat}) in no unit"
        );
    }
    assert!(
        located > 50_000,
        "{located} of {} points located",
        points.len()
    );
}

#[test]
#[ignore = "needs ../shared/realdata"]
fn demo_garden_communities_lie_in_their_osm_municipality() {
    let b = Boundaries::from_geojson_file(&realdata(OSM), None).unwrap();
    for snt in teplokarta::data::SNT {
        let (lon, lat) = snt.centre_lon_lat();
        let unit = b.locate(lon, lat).and_then(|u| b.units[u].municipality);
        assert_eq!(
            unit.map(|i| municipalities()[i].name),
            Some(snt.municipality),
            "{}",
            snt.name
        );
    }
}

/// The acceptance test for imports: the 121,145 real Boston 311 cases import with the
/// automatic mapping, nothing rejected, and with the BRA neighbourhood polygons the count per
/// neighbourhood equals a brute-force point-in-polygon count over the CSV's own coordinates
/// (read here with the csv crate, not the importer).
#[test]
#[ignore = "needs ../shared/realdata"]
fn boston_311_imports_and_its_neighbourhood_counts_equal_point_in_polygon() {
    use std::collections::BTreeMap;
    use teplokarta::analysis::{Columns, Filter, Masks, MunicipalityResolution, aggregate};
    use teplokarta::data::import::write::{ImportOptions, import_files};
    use teplokarta::data::{AppealStore, LoadOptions};
    use teplokarta::spatial::MunicipalityLocator;

    let csv_path = realdata("boston311_2015/boston311_2015_cases.csv");
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("boston.sqlite");
    let summary = import_files(
        std::slice::from_ref(&csv_path),
        &db,
        &ImportOptions::default(),
        &mut |_| {},
    )
    .unwrap();
    let file = &summary.files[0];
    assert_eq!(file.rows, 121_145);
    assert_eq!(file.imported, 121_145);
    assert_eq!(file.rejected, 0, "{:?}", file.rejected_by_reason);

    let appeals = AppealStore::open(&db, &LoadOptions::default())
        .unwrap()
        .load()
        .unwrap();
    assert_eq!(appeals.len(), 121_145);
    let boundaries = Boundaries::from_geojson_file(
        &realdata("boston311_2015/boston_neighborhoods_bra.geojson"),
        None,
    )
    .unwrap();
    let locator = MunicipalityLocator::new(&boundaries);
    let resolution =
        MunicipalityResolution::with_boundaries(&appeals, Some((&boundaries, &locator)));
    let columns = Columns::new(&appeals, &resolution);
    let a = aggregate(
        &columns,
        &Masks::new(&Filter::default(), &appeals, &resolution, &columns),
    );
    let ours: BTreeMap<String, u64> = a
        .by_label
        .iter()
        .enumerate()
        .filter(|(_, n)| **n > 0)
        .map(|(label, n)| (resolution.label(label as u32).to_owned(), *n))
        .collect();

    let mut reference: BTreeMap<String, u64> = BTreeMap::new();
    let mut reader = csv::Reader::from_path(&csv_path).unwrap();
    let headers = reader.headers().unwrap().clone();
    let lat_i = headers.iter().position(|h| h == "LATITUDE").unwrap();
    let lon_i = headers.iter().position(|h| h == "LONGITUDE").unwrap();
    for record in reader.records() {
        let record = record.unwrap();
        let lat: f64 = record[lat_i].parse().unwrap();
        let lon: f64 = record[lon_i].parse().unwrap();
        let name = brute_force(&boundaries, lon, lat)
            .1
            .map(|u| boundaries.units[u].name.clone())
            .unwrap_or_default();
        *reference.entry(name).or_insert(0) += 1;
    }
    assert_eq!(ours, reference);
    assert!(reference.len() > 20, "{} neighbourhoods", reference.len());
}
