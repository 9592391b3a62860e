//! `teplokarta export` to PNG, PDF and GIF: the window rendered offscreen (wgpu) in
//! presentation mode. The PNG has the requested pixel size and real map content (the
//! choropleth's class colours); the PDF briefing parses, has one page per saved view and its
//! title in Cyrillic, and no appeal text or address; the GIF has one frame per week; the data
//! hash shown is the CSV export's. Ignored by default: rendering needs a wgpu adapter (a
//! software Vulkan such as llvmpipe from mesa-vulkan-drivers). Run with
//! `cargo test --test export_render -- --ignored`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers may panic

mod common;

use std::collections::{HashMap, HashSet};
use std::path::Path;

use common::{demo_db, run_export};
use teplokarta::app::views::{SavedView, save_views};
use teplokarta::ui::panels::MapSettings;
use teplokarta::ui::problem_panel::ProblemPrefs;

fn export(db: &Path, out: &Path, extra: &[&str]) -> String {
    run_export(db, out, extra).expect("the export runs")
}

fn decode_png(path: &Path) -> (u32, u32, Vec<u8>) {
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(path).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!(info.color_type, png::ColorType::Rgba);
    buf.truncate(info.buffer_size());
    (info.width, info.height, buf)
}

/// The class breaks of the choropleth export of the same flags (its class bounds).
fn breaks_of_csv_export(db: &Path, dir: &Path, extra: &[&str]) -> Vec<f64> {
    let out = dir.join("same.geojson");
    export(db, &out, extra);
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let mut bounds: Vec<f64> = json["features"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|f| {
            [
                f["properties"]["class_from"].as_f64(),
                f["properties"]["class_to"].as_f64(),
            ]
        })
        .flatten()
        .collect();
    bounds.sort_by(f64::total_cmp);
    bounds.dedup();
    bounds
}

#[test]
#[ignore = "needs a wgpu adapter (mesa-vulkan-drivers)"]
fn png_has_the_requested_size_and_the_map_in_the_legend_colours() {
    let (dir, db) = demo_db(6_000, 7);
    for (scale, (w, h)) in [("1", (1200, 800)), ("2", (2400, 1600))] {
        let out = dir.path().join(format!("map{scale}.png"));
        let printed = export(&db, &out, &["--size", "1200x800", "--scale", scale]);
        assert!(printed.contains("Teplokarta v"), "{printed}");
        let (pw, ph, rgba) = decode_png(&out);
        assert_eq!((pw, ph), (w, h), "--scale {scale}");
        // The map area (the middle of the image) is a map, not a blank window.
        let mut colours = HashSet::new();
        for y in (ph / 5)..(ph * 4 / 5) {
            for x in (pw / 5)..(pw * 4 / 5) {
                let i = ((y * pw + x) * 4) as usize;
                colours.insert([rgba[i], rgba[i + 1], rgba[i + 2]]);
            }
        }
        assert!(
            colours.len() > 100,
            "only {} colours in the map",
            colours.len()
        );
        // Every class colour of the legend fills some of the map.
        let breaks = breaks_of_csv_export(&db, dir.path(), &[]);
        let classes = teplokarta::ui::theme::class_colors(&breaks, false);
        assert!(classes.len() >= 3, "{breaks:?}");
        for c in &classes {
            let near = rgba.chunks_exact(4).filter(|p| {
                (i32::from(p[0]) - i32::from(c.r())).abs() <= 3
                    && (i32::from(p[1]) - i32::from(c.g())).abs() <= 3
                    && (i32::from(p[2]) - i32::from(c.b())).abs() <= 3
            });
            assert!(
                near.count() > (pw * ph / 2000) as usize,
                "class colour {c:?} is not on the map (scale {scale})"
            );
        }
    }
}

fn views_file(dir: &Path) -> std::path::PathBuf {
    let path = dir.join("meeting.teplokarta-views.json");
    let heating = teplokarta::analysis::Filter {
        from: Some(jiff::civil::date(2021, 1, 1)),
        to: Some(jiff::civil::date(2021, 3, 31)),
        ..teplokarta::analysis::Filter::default()
    };
    let views = vec![
        SavedView {
            name: "Отопление зимой".into(),
            center_lon: 67.0,
            center_lat: 57.3,
            zoom: 6.5,
            map: MapSettings::default(),
            problems: ProblemPrefs::default(),
            filter: heating,
        },
        SavedView {
            name: "Отключения электроэнергии".into(),
            center_lon: 68.5,
            center_lat: 57.5,
            zoom: 6.0,
            map: MapSettings::default(),
            problems: ProblemPrefs {
                active: true,
                ..ProblemPrefs::default()
            },
            filter: teplokarta::analysis::Filter::default(),
        },
    ];
    save_views(&path, &views).unwrap();
    path
}

/// Every appeal's text and address, as SQL reads them from the database.
fn appeal_strings(db: &Path) -> Vec<String> {
    let conn = rusqlite::Connection::open(db).unwrap();
    let mut strings = Vec::new();
    for column in ["text", "address"] {
        let mut stmt = conn
            .prepare(&format!(
                "SELECT DISTINCT {column} FROM appeals WHERE {column} IS NOT NULL"
            ))
            .unwrap();
        let rows = stmt.query_map([], |r| r.get::<_, String>(0)).unwrap();
        strings.extend(rows.map(Result::unwrap));
    }
    strings
}

/// A font's ToUnicode map: 2-byte glyph code → text (the `bfchar` and `bfrange` entries).
fn to_unicode(doc: &lopdf::Document, font: &lopdf::Dictionary) -> HashMap<u16, String> {
    let mut map = HashMap::new();
    let Ok(reference) = font.get(b"ToUnicode").and_then(lopdf::Object::as_reference) else {
        return map;
    };
    let stream = doc.get_object(reference).unwrap().as_stream().unwrap();
    let text = String::from_utf8_lossy(&stream.decompressed_content().unwrap()).into_owned();
    let hex = |h: &str| u32::from_str_radix(h.trim_matches(['<', '>']), 16).unwrap();
    let utf16 = |h: &str| {
        let h = h.trim_matches(['<', '>']);
        let units: Vec<u16> = (0..h.len() / 4)
            .map(|i| u16::from_str_radix(&h[i * 4..i * 4 + 4], 16).unwrap())
            .collect();
        String::from_utf16_lossy(&units)
    };
    let mut mode = "";
    for line in text.lines() {
        let line = line.trim();
        if line.ends_with("beginbfchar") || line.ends_with("beginbfrange") {
            mode = if line.ends_with("beginbfchar") {
                "char"
            } else {
                "range"
            };
            continue;
        }
        if line.starts_with("end") {
            mode = "";
            continue;
        }
        let parts: Vec<&str> = line.split_whitespace().collect();
        match (mode, parts.as_slice()) {
            ("char", [code, unicode]) => {
                map.insert(hex(code) as u16, utf16(unicode));
            }
            ("range", [lo, hi, start]) => {
                let start = hex(start);
                for (i, code) in (hex(lo)..=hex(hi)).enumerate() {
                    let c = char::from_u32(start + i as u32).unwrap_or('?');
                    map.insert(code as u16, c.to_string());
                }
            }
            _ => {}
        }
    }
    map
}

/// The PDF's pages and the text its pages show, decoded through each font's ToUnicode map
/// (what a reader copies out of the file).
fn pdf_text(path: &Path) -> (usize, String) {
    let doc = lopdf::Document::load(path).unwrap();
    let pages = doc.get_pages();
    let mut out = String::new();
    for &page in pages.values() {
        let fonts: HashMap<Vec<u8>, HashMap<u16, String>> = doc
            .get_page_fonts(page)
            .unwrap()
            .into_iter()
            .map(|(name, font)| (name, to_unicode(&doc, font)))
            .collect();
        let content =
            lopdf::content::Content::decode(&doc.get_page_content(page).unwrap()).unwrap();
        let mut current: Option<&HashMap<u16, String>> = None;
        let show = |bytes: &[u8], current: Option<&HashMap<u16, String>>, out: &mut String| {
            let Some(map) = current else { return };
            for pair in bytes.chunks_exact(2) {
                let code = u16::from_be_bytes([pair[0], pair[1]]);
                out.push_str(map.get(&code).map_or("\u{fffd}", String::as_str));
            }
        };
        for op in &content.operations {
            match op.operator.as_str() {
                "Tf" => {
                    current = op
                        .operands
                        .first()
                        .and_then(|n| n.as_name().ok())
                        .and_then(|n| fonts.get(n));
                }
                "Tj" | "'" | "\"" => {
                    if let Some(lopdf::Object::String(bytes, _)) = op.operands.last() {
                        show(bytes, current, &mut out);
                    }
                }
                "TJ" => {
                    if let Some(lopdf::Object::Array(items)) = op.operands.first() {
                        for item in items {
                            if let lopdf::Object::String(bytes, _) = item {
                                show(bytes, current, &mut out);
                            }
                        }
                    }
                }
                "ET" => out.push('\n'),
                _ => {}
            }
        }
    }
    (pages.len(), out)
}

#[test]
#[ignore = "needs a wgpu adapter (mesa-vulkan-drivers)"]
fn pdf_briefing_has_a_page_per_view_cyrillic_titles_and_no_appeal_text() {
    let (dir, db) = demo_db(6_000, 11);
    let views = views_file(dir.path());
    let out = dir.path().join("brief.pdf");
    export(
        &db,
        &out,
        &["--views", views.to_str().unwrap(), "--size", "1200x800"],
    );
    let (pages, text) = pdf_text(&out);
    assert_eq!(pages, 2, "one page per saved view");
    // The titles, in Cyrillic, through the embedded font's Unicode mapping.
    assert!(text.contains("Отопление зимой"), "{text}");
    assert!(text.contains("Отключения электроэнергии"), "{text}");
    // The problem view has its zones table; both have the municipalities and the chart.
    assert!(text.contains("Главные проблемные зоны"), "{text}");
    assert!(text.contains("Обращения по неделям"), "{text}");
    // No appeal's text or address.
    let strings = appeal_strings(&db);
    assert!(strings.len() > 100);
    for s in strings.iter().filter(|s| s.chars().count() >= 6) {
        assert!(!text.contains(s.as_str()), "appeal string {s:?} in the PDF");
    }

    // One page with --view, and the --title given.
    let one = dir.path().join("one.pdf");
    export(
        &db,
        &one,
        &[
            "--views",
            views.to_str().unwrap(),
            "--view",
            "Отопление зимой",
            "--title",
            "Теплоснабжение: сводка для штаба",
            "--size",
            "1000x700",
        ],
    );
    let (pages, text) = pdf_text(&one);
    assert_eq!(pages, 1);
    assert!(text.contains("Теплоснабжение: сводка для штаба"), "{text}");
}

#[test]
#[ignore = "needs a wgpu adapter (mesa-vulkan-drivers)"]
fn provenance_hashes_are_the_aggregate_exports() {
    let (dir, db) = demo_db(3_000, 5);
    let dataset = teplokarta::app::load_dataset(db.clone(), false).unwrap();
    let hash = teplokarta::analysis::export::data_hash(&dataset.appeals);
    let printed = export(
        &db,
        &dir.path().join("p.png"),
        &["--size", "600x400", "--lang", "en"],
    );
    assert!(printed.contains(&format!("data #{hash}")), "{printed}");
    let csv = std::fs::read_to_string({
        let out = dir.path().join("p.csv");
        export(&db, &out, &["--lang", "en"]);
        out
    })
    .unwrap();
    assert!(
        csv.contains(&hash),
        "the CSV's provenance has the same hash"
    );
    // The PDF's provenance line carries it too.
    let pdf = dir.path().join("p.pdf");
    export(&db, &pdf, &["--size", "800x500", "--lang", "en"]);
    let (_, text) = pdf_text(&pdf);
    assert!(text.contains(&hash), "{text}");
}

#[test]
#[ignore = "needs a wgpu adapter (mesa-vulkan-drivers)"]
fn gif_has_one_frame_per_week() {
    let (dir, db) = demo_db(4_000, 3);
    let out = dir.path().join("playback.gif");
    let printed = export(
        &db,
        &out,
        &[
            "--from",
            "2021-03-01",
            "--to",
            "2021-03-28",
            "--size",
            "400x300",
        ],
    );
    assert_eq!(printed.matches("frame ").count(), 4, "{printed}");
    // The frames are the window's playback frames: cumulative from the period's start.
    assert!(
        printed.contains("frame 2/4: 2021-03-01 – 2021-03-14"),
        "{printed}"
    );
    let moving = export(
        &db,
        &dir.path().join("moving.gif"),
        &[
            "--from",
            "2021-03-01",
            "--to",
            "2021-03-24",
            "--window",
            "moving",
            "--size",
            "400x300",
        ],
    );
    // Moving: each week on its own, the last one short (as the playback's slider shows it).
    assert!(
        moving.contains("frame 2/4: 2021-03-08 – 2021-03-14"),
        "{moving}"
    );
    assert!(
        moving.contains("frame 4/4: 2021-03-22 – 2021-03-24"),
        "{moving}"
    );
    let mut options = gif::DecodeOptions::new();
    options.set_color_output(gif::ColorOutput::RGBA);
    let mut decoder = options
        .read_info(std::fs::File::open(&out).unwrap())
        .unwrap();
    assert_eq!((decoder.width(), decoder.height()), (400, 300));
    let mut frames = 0;
    while let Some(frame) = decoder.read_next_frame().unwrap() {
        assert_eq!((frame.width, frame.height), (400, 300));
        assert_eq!(frame.delay, 100, "1 s per frame");
        frames += 1;
    }
    assert_eq!(frames, 4);

    // By day, each day on its own: 7 frames for a week.
    let daily = dir.path().join("daily.gif");
    export(
        &db,
        &daily,
        &[
            "--from",
            "2021-03-01",
            "--to",
            "2021-03-07",
            "--step",
            "day",
            "--window",
            "moving",
            "--size",
            "300x200",
        ],
    );
    let mut decoder = gif::DecodeOptions::new()
        .read_info(std::fs::File::open(&daily).unwrap())
        .unwrap();
    let mut frames = 0;
    while decoder.read_next_frame().unwrap().is_some() {
        frames += 1;
    }
    assert_eq!(frames, 7);
}

#[test]
#[ignore = "needs a wgpu adapter (mesa-vulkan-drivers)"]
fn units_under_k_are_not_shown_on_the_map() {
    let (dir, db) = demo_db(6_000, 13);
    let render = |k: &str| {
        let out = dir.path().join(format!("zones-k{k}.png"));
        export(
            &db,
            &out,
            &[
                "--layer",
                "problems",
                "--profile",
                "power-outages",
                "--k",
                k,
                "--size",
                "900x600",
            ],
        );
        decode_png(&out)
    };
    let (w, h, all) = render("1");
    let (_, _, none) = render("1000000");
    // The map's middle (away from the legend and the provenance line): the zones drawn with
    // k = 1 are gone when every zone is under k.
    let mut differing = 0;
    for y in (h / 6)..(h * 3 / 4) {
        for x in (w / 3)..(w * 5 / 6) {
            let i = ((y * w + x) * 4) as usize;
            if all[i..i + 3] != none[i..i + 3] {
                differing += 1;
            }
        }
    }
    assert!(differing > 200, "only {differing} pixels differ");
    // With the default k some zones stay.
    let (_, _, some) = render("3");
    assert_ne!(some, none);

    // A sparse choropleth: the municipalities with 1..k-1 appeals are hatched as without
    // data, so the k = 3 map differs from the k = 1 map, and only where they are.
    let sparse = |k: &str| {
        let out = dir.path().join(format!("sparse-k{k}.png"));
        export(
            &db,
            &out,
            &[
                "--category",
                "ЖКХ",
                "--from",
                "2021-02-01",
                "--to",
                "2021-02-28",
                "--k",
                k,
                "--size",
                "900x600",
            ],
        );
        decode_png(&out)
    };
    let (_, _, shown) = sparse("1");
    let (_, _, hatched) = sparse("3");
    let mut differing = 0;
    for y in (h / 6)..(h * 3 / 4) {
        for x in (w / 3)..(w * 5 / 6) {
            let i = ((y * w + x) * 4) as usize;
            if shown[i..i + 3] != hatched[i..i + 3] {
                differing += 1;
            }
        }
    }
    assert!(differing > 500, "only {differing} pixels differ");
}

/// File → Export map… in the window, for a rendered format: the file has the dialog's size and
/// the split view's two maps (a comparison exports as it is on screen).
#[test]
#[ignore = "needs a wgpu adapter (mesa-vulkan-drivers)"]
fn the_window_exports_the_view_on_screen_as_png_and_pdf() {
    use common::ui::{harness_with, wait_idle};
    use egui_kittest::kittest::Queryable as _;
    let (dir, db) = demo_db(6_000, 13);
    let mut harness = harness_with(teplokarta::app::Startup {
        database: Some(db.clone().into()),
        lang: Some(teplokarta::ui::Lang::En),
        fresh: true,
        export_runner: Some(teplokarta::cli::export_with_args),
        ..teplokarta::app::Startup::default()
    });
    wait_idle(&mut harness);
    {
        let app = harness.state_mut().as_mut().unwrap();
        let filter = app.filter_mut();
        filter.from = "2021-09-01".parse().ok();
        filter.to = "2021-09-30".parse().ok();
        app.persisted_mut().map.compare.mode = teplokarta::analysis::compare::CompareMode::Split;
    }
    wait_idle(&mut harness);
    assert!(harness.state().as_ref().unwrap().comparing());
    for (format, name) in [
        ("PNG — the map", "window.png"),
        ("PDF — a briefing: map, tables, weekly chart", "window.pdf"),
    ] {
        if harness.query_by_label("Export").is_none() {
            harness.get_by_label("File").click();
            harness.run();
            harness.get_by_label("Export map…").click();
            harness.run();
        }
        // The dialog re-centres when its content changes: let it settle before clicking.
        harness.run();
        harness.get_by_label(format).click();
        harness.run();
        let role = egui::accesskit::Role::TextInput;
        harness.get_by_role_and_label(role, "Path").focus();
        harness.run();
        harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
        harness.run_steps(1);
        let out = dir.path().join(name);
        harness
            .get_by_role_and_label(role, "Path")
            .type_text(out.to_str().unwrap());
        harness.run();
        harness.get_by_label("Export").click();
        harness.run_steps(2);
        harness.get_by_label("Exporting…");
        // Rendering on a software Vulkan takes a while: up to five minutes.
        for _ in 0..30_000 {
            harness.step();
            if harness.query_by_label("Done").is_some() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        harness.get_by_label("Done");
        let printed = harness
            .query_by_label_contains("wrote")
            .map(|n| format!("{n:?}"))
            .unwrap_or_default();
        assert!(out.exists(), "{name} written: {printed}");
    }
    let (w, h, rgba) = decode_png(&dir.path().join("window.png"));
    assert_eq!((w, h), (1600, 1000), "the dialog's default size");
    // Both maps of the split view: the gap between them runs down the middle of the map.
    let gap = teplokarta::ui::theme::SPLIT_GAP_FILL;
    let gap_rows = (h / 4..h * 3 / 4)
        .filter(|y| {
            (w / 3..w * 2 / 3).any(|x| {
                let i = ((y * w + x) * 4) as usize;
                rgba[i..i + 3] == [gap.r(), gap.g(), gap.b()]
            })
        })
        .count();
    assert!(
        gap_rows as u32 > h / 3,
        "the split view's gap: {gap_rows} rows"
    );
    let pdf = lopdf::Document::load(dir.path().join("window.pdf")).unwrap();
    assert_eq!(pdf.get_pages().len(), 1);
    // The briefing of a comparison lists the largest changes, A and B.
    let (_, text) = pdf_text(&dir.path().join("window.pdf"));
    assert!(text.contains("Largest changes, B − A"), "{text}");
    assert!(text.contains("A: 2–31 August 2021"), "{text}");
}

/// The rendered PNG and the CSV behind it are the same from a PostgreSQL copy of the database
/// as from the SQLite file. Needs a server too: runs when `TEPLOKARTA_PG_URL` is set (`.ci/run`
/// keeps its server up for this file), and says it skipped otherwise.
#[test]
#[ignore = "needs a wgpu adapter (mesa-vulkan-drivers)"]
fn png_and_csv_from_postgres_equal_those_from_sqlite() {
    let Ok(url) = std::env::var("TEPLOKARTA_PG_URL") else {
        eprintln!("skipped: TEPLOKARTA_PG_URL is not set");
        return;
    };
    let (dir, db) = demo_db(3_000, 11);
    let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    let schema = format!("tk_render_{}", std::process::id());
    client
        .batch_execute(&format!(
            "CREATE SCHEMA {schema}; CREATE TABLE {schema}.appeals (id bigint PRIMARY KEY, \
             external_id text, received_at text, source text, category text, subcategory text, \
             municipality text, settlement text, address text, lat double precision, \
             lon double precision, status text, resolved_at text, text text)"
        ))
        .unwrap();
    let conn = rusqlite::Connection::open(&db).unwrap();
    let mut stmt = conn
        .prepare(
            "SELECT id, external_id, received_at, source, category, subcategory, municipality, \
             settlement, address, lat, lon, status, resolved_at, text FROM appeals",
        )
        .unwrap();
    let mut rows = stmt.query([]).unwrap();
    let mut tx = client.transaction().unwrap();
    let insert = tx
        .prepare(&format!(
            "INSERT INTO {schema}.appeals VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, \
             $12, $13, $14)"
        ))
        .unwrap();
    use rusqlite::types::ValueRef as V;
    while let Some(row) = rows.next().unwrap() {
        let id: i64 = row.get(0).unwrap();
        let text = |i: usize| match row.get_ref(i).unwrap() {
            V::Null => None,
            V::Text(t) => Some(String::from_utf8(t.to_vec()).unwrap()),
            V::Integer(n) => Some(n.to_string()),
            other => panic!("column {i}: {other:?}"),
        };
        let number = |i: usize| match row.get_ref(i).unwrap() {
            V::Null => None,
            V::Real(r) => Some(r),
            V::Integer(n) => Some(n as f64),
            other => panic!("column {i}: {other:?}"),
        };
        let cells: Vec<Option<String>> = (1..14)
            .map(|i| if i == 9 || i == 10 { None } else { text(i) })
            .collect();
        let (lat, lon) = (number(9), number(10));
        let mut params: Vec<&(dyn postgres::types::ToSql + Sync)> = vec![&id];
        for (i, cell) in cells.iter().enumerate() {
            match i + 1 {
                9 => params.push(&lat),
                10 => params.push(&lon),
                _ => params.push(cell),
            }
        }
        tx.execute(&insert, &params).unwrap();
    }
    tx.commit().unwrap();
    let table = format!("{schema}.appeals");
    for (name, extra) in [
        ("map.png", vec!["--size", "640x400", "--k", "1"]),
        ("table.csv", vec!["--k", "1"]),
    ] {
        let from_sqlite = dir.path().join(format!("sqlite-{name}"));
        let from_pg = dir.path().join(format!("pg-{name}"));
        export(&db, &from_sqlite, &extra);
        let mut args = vec![
            "export",
            url.as_str(),
            "--table",
            table.as_str(),
            "--out",
            from_pg.to_str().unwrap(),
        ];
        args.extend_from_slice(&extra);
        common::run_cli(&args).unwrap();
        if name.ends_with(".png") {
            let (w, h, pixels) = decode_png(&from_pg);
            assert_eq!((w, h, pixels), decode_png(&from_sqlite), "{name}");
        } else {
            assert_eq!(
                std::fs::read_to_string(&from_pg).unwrap(),
                std::fs::read_to_string(&from_sqlite).unwrap(),
                "{name}"
            );
        }
    }
    client
        .batch_execute(&format!("DROP SCHEMA {schema} CASCADE"))
        .unwrap();
}
