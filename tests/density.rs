//! The density surface: exact mode equals a brute-force sum of the kernel over every point at
//! every cell centre; the surface integrates to the number of points; fast mode stays within 1 %
//! of the exact surface's peak.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers may panic

use rand::{RngExt as _, SeedableRng as _};
use rand_distr::{Distribution as _, Normal};
use teplokarta::analysis::{Grid, Kernel, Mode, density};
use teplokarta::spatial::projection::mercator_m_from_lon_lat;

/// Points around a few centres near Тюмень (lon, lat).
fn clustered(n: usize, seed: u64) -> Vec<(f64, f64)> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let centres = [(65.53, 57.15), (65.75, 57.25), (65.3, 57.0), (66.0, 57.1)];
    let spread = Normal::new(0.0, 0.05).unwrap();
    (0..n)
        .map(|_| {
            let (lon, lat) = centres[rng.random_range(0..centres.len())];
            (
                lon + spread.sample(&mut rng) * 1.8,
                lat + spread.sample(&mut rng),
            )
        })
        .collect()
}

fn brute_force(points: &[(f64, f64)], grid: &Grid, kernel: Kernel, radius_m: f64) -> Vec<f64> {
    let mut out = vec![0.0; grid.width * grid.height];
    for row in 0..grid.height {
        for col in 0..grid.width {
            let (cx, cy) = grid.cell_center_m(col, row);
            let mut sum = 0.0;
            for &(lon, lat) in points {
                let (x, y) = mercator_m_from_lon_lat(lon, lat);
                let scale = lat.to_radians().cos();
                let d = (((cx - x) * scale).powi(2) + ((cy - y) * scale).powi(2)).sqrt();
                sum += kernel.value(d, radius_m);
            }
            out[row * grid.width + col] = sum * 1e6;
        }
    }
    out
}

#[test]
fn exact_mode_equals_brute_force_for_every_kernel() {
    let points = clustered(400, 1);
    let grid = Grid::over_lon_lat(65.1, 56.85, 66.3, 57.45, 48, 40);
    for kernel in Kernel::ALL {
        for radius_m in [1_500.0, 6_000.0] {
            let s = density(&points, None, &grid, kernel, radius_m, Mode::Exact);
            let reference = brute_force(&points, &grid, kernel, radius_m);
            let peak = reference.iter().copied().fold(0.0, f64::max);
            for (k, (&ours, &theirs)) in s.values.iter().zip(&reference).enumerate() {
                let err = (f64::from(ours) - theirs).abs() / peak;
                assert!(
                    err <= 1e-6,
                    "{kernel:?} r={radius_m}: cell {k}: {ours} vs {theirs}"
                );
            }
        }
    }
}

#[test]
fn the_surface_integrates_to_the_number_of_points() {
    let points = clustered(2_000, 2);
    // A grid well beyond the points, so no kernel is clipped at its edge.
    let grid = Grid::over_lon_lat(64.5, 56.5, 67.0, 57.8, 300, 260);
    for kernel in Kernel::ALL {
        for radius_m in [2_000.0, 5_000.0, 10_000.0] {
            let s = density(&points, None, &grid, kernel, radius_m, Mode::Exact);
            let integral = s.integral();
            assert!(
                (integral - 2_000.0).abs() / 2_000.0 < 0.01,
                "{kernel:?} r={radius_m}: {integral}"
            );
        }
    }
}

#[test]
fn weights_scale_the_surface() {
    let points = clustered(300, 3);
    let grid = Grid::over_lon_lat(64.5, 56.5, 67.0, 57.8, 120, 100);
    let ones = density(&points, None, &grid, Kernel::Quartic, 5_000.0, Mode::Exact);
    let twos = density(
        &points,
        Some(&vec![2.0; points.len()]),
        &grid,
        Kernel::Quartic,
        5_000.0,
        Mode::Exact,
    );
    assert!((twos.integral() - 2.0 * ones.integral()).abs() < 1e-3 * ones.integral());
}

#[test]
fn fast_mode_stays_within_one_percent_of_the_exact_peak() {
    let points = clustered(50_000, 4);
    // About 650 m cells and a 5 km radius, as the oblast at 1024 px with the default export.
    let grid = Grid::over_lon_lat(65.0, 56.8, 66.4, 57.5, 130, 110);
    for kernel in Kernel::ALL {
        let exact = density(&points, None, &grid, kernel, 5_000.0, Mode::Exact);
        let fast = density(&points, None, &grid, kernel, 5_000.0, Mode::Fast);
        let peak = f64::from(exact.peak());
        let worst = exact
            .values
            .iter()
            .zip(&fast.values)
            .map(|(&a, &b)| (f64::from(a) - f64::from(b)).abs())
            .fold(0.0, f64::max);
        assert!(
            worst <= 0.01 * peak,
            "{kernel:?}: worst {worst} of peak {peak}"
        );
    }
}

#[test]
fn the_geotiff_puts_a_point_in_its_pixel_in_epsg_3857() {
    use teplokarta::analysis::Surface;
    use tiff::decoder::{Decoder, DecodingResult};
    use tiff::tags::Tag;
    // One appeal at Тюмень's centre, a 4 km quartic kernel, 200 m cells.
    let (lon, lat) = (65.52722, 57.15222);
    let grid = Grid::over_lon_lat(65.3, 57.0, 65.8, 57.3, 160, 120);
    let surface: Surface = density(
        &[(lon, lat)],
        None,
        &grid,
        Kernel::Quartic,
        4_000.0,
        Mode::Exact,
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("heat.tif");
    teplokarta::raster::write_geotiff(&surface, &path).unwrap();

    let mut decoder =
        Decoder::new(std::io::BufReader::new(std::fs::File::open(&path).unwrap())).unwrap();
    assert_eq!(decoder.dimensions().unwrap(), (160, 120));
    let scale = decoder.get_tag_f64_vec(Tag::Unknown(33550)).unwrap();
    let tie = decoder.get_tag_f64_vec(Tag::Unknown(33922)).unwrap();
    let keys = decoder.get_tag_u16_vec(Tag::Unknown(34735)).unwrap();
    assert!(
        keys.windows(4).any(|k| k == [3072, 0, 1, 3857]),
        "projected CRS 3857: {keys:?}"
    );
    let DecodingResult::F32(values) = decoder.read_image().unwrap() else {
        panic!("not Float32");
    };
    // Where the geotransform puts the point…
    let (x, y) = mercator_m_from_lon_lat(lon, lat);
    let col = ((x - tie[3]) / scale[0]).floor() as usize;
    let row = ((tie[4] - y) / scale[1]).floor() as usize;
    // …is the hottest pixel of the raster.
    let hottest = values
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .map(|(k, _)| (k % 160, k / 160))
        .unwrap();
    assert_eq!(hottest, (col, row));
    assert_eq!(values.len(), surface.values.len());
}

#[test]
fn the_png_has_a_world_file_and_a_projection() {
    let grid = Grid::over_lon_lat(65.3, 57.0, 65.8, 57.3, 40, 30);
    let surface = density(
        &[(65.5, 57.15)],
        None,
        &grid,
        Kernel::Quartic,
        4_000.0,
        Mode::Exact,
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("heat.png");
    teplokarta::raster::write_png(&surface, &vec![255; 40 * 30 * 4], &path).unwrap();
    let pgw = std::fs::read_to_string(path.with_extension("pgw")).unwrap();
    let lines: Vec<f64> = pgw.lines().map(|l| l.parse().unwrap()).collect();
    assert!((lines[0] - grid.cell_m).abs() < 1e-3 && (lines[3] + grid.cell_m).abs() < 1e-3);
    assert!((lines[4] - (grid.x_min_m + grid.cell_m / 2.0)).abs() < 1e-3);
    assert!((lines[5] - (grid.y_max_m - grid.cell_m / 2.0)).abs() < 1e-3);
    let prj = std::fs::read_to_string(path.with_extension("prj")).unwrap();
    assert!(prj.contains("Mercator_Auxiliary_Sphere"));
}

#[test]
fn the_heat_command_writes_both_formats_and_refuses_bad_arguments() {
    use clap::Parser as _;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.sqlite");
    teplokarta::data::generate_demo(
        &teplokarta::data::DemoConfig {
            rows: 2_000,
            ..Default::default()
        },
        &db,
    )
    .unwrap();
    let run = |args: &[&str]| -> anyhow::Result<String> {
        let cli = teplokarta::cli::Cli::try_parse_from(
            std::iter::once("teplokarta").chain(args.iter().copied()),
        )?;
        let mut out = Vec::new();
        teplokarta::cli::run(cli.command.as_ref().unwrap(), &mut out)?;
        Ok(String::from_utf8(out)?)
    };
    let db = db.to_str().unwrap();
    let tif = dir.path().join("h.tif");
    let png = dir.path().join("h.png");
    let text = run(&[
        "heat",
        db,
        "--size",
        "64x48",
        "--radius-m",
        "5000",
        "--out",
        tif.to_str().unwrap(),
    ])
    .unwrap();
    assert!(text.contains("64×48") && tif.is_file(), "{text}");
    run(&[
        "heat",
        db,
        "--category",
        "Электроэнергетика",
        "--size",
        "64x48",
        "--kernel",
        "gaussian",
        "--mode",
        "fast",
        "--out",
        png.to_str().unwrap(),
    ])
    .unwrap();
    assert!(
        png.is_file() && png.with_extension("pgw").is_file() && png.with_extension("prj").is_file()
    );
    assert!(run(&["heat", db, "--size", "64", "--out", tif.to_str().unwrap()]).is_err());
    assert!(
        run(&[
            "heat",
            db,
            "--bbox",
            "70,60,65,55",
            "--out",
            tif.to_str().unwrap()
        ])
        .is_err()
    );
    assert!(
        run(&[
            "heat",
            db,
            "--out",
            dir.path().join("h.jpg").to_str().unwrap()
        ])
        .is_err()
    );
}

/// File → Export heat layer… in the window: the export job writes, in exact mode, the surface of
/// the appeals the layer on screen was computed from — a GeoTIFF equal to the library's, and a
/// PNG with its world file and projection.
#[test]
fn the_window_export_job_writes_the_exact_surface_of_the_layer() {
    use std::sync::Arc;
    use teplokarta::app::{DensityRequest, JobResult, Jobs};
    use teplokarta::spatial::projection::mercator_unit_from_lon_lat;
    use tiff::decoder::{Decoder, DecodingResult};

    let points = clustered(4_000, 9);
    let points_unit: Vec<[f64; 2]> = points
        .iter()
        .map(|&(lon, lat)| {
            let (x, y) = mercator_unit_from_lon_lat(lon, lat);
            [x, y]
        })
        .collect();
    let grid = Grid::over_lon_lat(65.2, 56.9, 65.9, 57.4, 140, 100);
    let request = DensityRequest {
        grid,
        radius_m: 3_000.0,
        kernel: Kernel::Quartic,
        // The layer may be in fast mode: the export is exact all the same.
        mode: Mode::Fast,
        k: None,
    };
    let expected = density(&points, None, &grid, Kernel::Quartic, 3_000.0, Mode::Exact);
    let dir = tempfile::tempdir().unwrap();
    let mut jobs = Jobs::new(egui::Context::default());
    let colour = (
        expected.peak(),
        0.0,
        0.8,
        teplokarta::ui::theme::DensityRamp::Heat,
    );
    for name in ["layer.tif", "layer.png"] {
        let out = dir.path().join(name);
        jobs.export_heat(
            Arc::new(points_unit.clone()),
            request.clone(),
            colour,
            out.clone(),
        );
        let saved = (0..2_000)
            .find_map(|_| {
                std::thread::sleep(std::time::Duration::from_millis(5));
                jobs.drain().into_iter().find_map(|r| match r {
                    JobResult::Saved(saved) => Some(saved),
                    _ => None,
                })
            })
            .expect("the export job reports");
        assert_eq!(saved.unwrap(), out);
        if name.ends_with(".tif") {
            let mut decoder =
                Decoder::new(std::io::BufReader::new(std::fs::File::open(&out).unwrap())).unwrap();
            assert_eq!(decoder.dimensions().unwrap(), (140, 100));
            let DecodingResult::F32(values) = decoder.read_image().unwrap() else {
                panic!("not Float32");
            };
            let worst = values
                .iter()
                .zip(&expected.values)
                .map(|(a, b)| (a - b).abs() / expected.peak())
                .fold(0.0f32, f32::max);
            assert!(
                worst < 1e-4,
                "export differs from the exact surface by {worst}"
            );
        } else {
            let decoder =
                png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&out).unwrap()));
            let reader = decoder.read_info().unwrap();
            assert_eq!((reader.info().width, reader.info().height), (140, 100));
            assert!(out.with_extension("pgw").is_file());
            assert!(out.with_extension("prj").is_file());
        }
    }
}
