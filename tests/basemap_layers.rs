//! The basemap's drawing side: `SourceTiles` (loading off the UI thread, deduplication,
//! over-scaling beyond the source's deepest zoom, corrupt and offline tiles) over an in-memory
//! tile source, and the built-in map's reference extras (scale bar lengths and labels,
//! settlement label placement).

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers may panic

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use egui::{Rect, Vec2, pos2, vec2};
use teplokarta::layers::{
    MAX_QUEUED, ScaleUnits, ScreenTransform, SourceTiles, ground_m_per_px, min_zoom_for_population,
    place_settlements, scale_bar_label, scale_bar_length_m,
};
use teplokarta::spatial::{SettlementFact, settlements};
use teplokarta::tiles::{
    BoundsLonLat, SourceInfo, SourceKind, TileError, TileFormat, TileKey, TileSource,
};
use walkers::{MapMemory, MercatorProjection, Projector, TileId, Tiles, lon_lat};

// --- a log that tests can read ---------------------------------------------------------------

struct Captured(Mutex<Vec<(log::Level, String)>>);

impl log::Log for Captured {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.level() <= log::Level::Warn
    }
    fn log(&self, record: &log::Record<'_>) {
        if self.enabled(record.metadata()) {
            self.0
                .lock()
                .unwrap()
                .push((record.level(), record.args().to_string()));
        }
    }
    fn flush(&self) {}
}

fn captured() -> &'static Captured {
    static LOG: OnceLock<&'static Captured> = OnceLock::new();
    LOG.get_or_init(|| {
        let log: &'static Captured = Box::leak(Box::new(Captured(Mutex::new(Vec::new()))));
        log::set_logger(log).unwrap();
        log::set_max_level(log::LevelFilter::Warn);
        log
    })
}

fn warnings_mentioning(name: &str) -> usize {
    captured()
        .0
        .lock()
        .unwrap()
        .iter()
        .filter(|(level, text)| *level == log::Level::Warn && text.contains(name))
        .count()
}

// --- an in-memory tile source -----------------------------------------------------------------

struct FakeSource {
    info: SourceInfo,
    tiles: HashMap<TileKey, Vec<u8>>,
    calls: Mutex<Vec<TileKey>>,
    /// While false, every tile is `TileError::Offline`.
    online: AtomicBool,
    /// While true, `tile` waits (a slow disk or server).
    hold: AtomicBool,
}

impl FakeSource {
    fn new(name: &str, tiles: HashMap<TileKey, Vec<u8>>) -> Self {
        Self {
            info: SourceInfo {
                name: name.to_owned(),
                kind: SourceKind::XyzDir,
                min_zoom: 0,
                max_zoom: 4,
                bounds: None,
                attribution: "© test".to_owned(),
                format: TileFormat::Png,
                tile_size_px: 256,
            },
            tiles,
            calls: Mutex::new(Vec::new()),
            online: AtomicBool::new(true),
            hold: AtomicBool::new(false),
        }
    }

    fn calls_for(&self, key: TileKey) -> usize {
        self.calls
            .lock()
            .unwrap()
            .iter()
            .filter(|k| **k == key)
            .count()
    }

    fn calls(&self) -> Vec<TileKey> {
        self.calls.lock().unwrap().clone()
    }
}

impl TileSource for FakeSource {
    fn info(&self) -> &SourceInfo {
        &self.info
    }

    fn tile(&self, key: TileKey) -> Result<Option<Vec<u8>>, TileError> {
        self.calls.lock().unwrap().push(key);
        while self.hold.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(2));
        }
        if !self.online.load(Ordering::SeqCst) {
            return Err(TileError::Offline {
                url: "http://127.0.0.1:9/{z}/{x}/{y}.png".into(),
                retry_in_s: 30,
            });
        }
        Ok(self.tiles.get(&key).cloned())
    }

    fn max_parallel(&self) -> usize {
        2
    }

    fn online(&self) -> bool {
        self.online.load(Ordering::SeqCst)
    }
}

fn png_bytes() -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut out, 4, 4);
        encoder.set_color(png::ColorType::Rgba);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().unwrap();
        writer.write_image_data(&[0xC8; 4 * 4 * 4]).unwrap();
    }
    assert_eq!(TileFormat::sniff(&out), TileFormat::Png);
    out
}

fn id(zoom: u8, x: u32, y: u32) -> TileId {
    TileId { x, y, zoom }
}

fn source_tiles(source: &Arc<FakeSource>) -> SourceTiles {
    let dyn_source: Arc<dyn TileSource> = source.clone();
    SourceTiles::new(
        dyn_source,
        egui::Context::default(),
        walkers::Style::default(),
    )
}

/// Polls `check` every 10 ms until it holds; fails after 10 s.
fn wait_until(what: &str, mut check: impl FnMut() -> bool) {
    let start = Instant::now();
    while !check() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "timed out: {what}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn full_uv() -> Rect {
    Rect::from_min_max(pos2(0.0, 0.0), pos2(1.0, 1.0))
}

// --- SourceTiles ---------------------------------------------------------------------------------

#[test]
fn a_tile_loads_in_the_background_once_however_often_it_is_asked_for() {
    let key = TileKey::new(3, 5, 2);
    let source = Arc::new(FakeSource::new("once", HashMap::from([(key, png_bytes())])));
    let mut tiles = source_tiles(&source);

    assert!(tiles.at(id(3, 5, 2)).is_none(), "nothing is loaded yet");
    for _ in 0..99 {
        let _ = tiles.at(id(3, 5, 2));
    }
    let mut piece = None;
    wait_until("the tile arrives", || {
        piece = tiles.at(id(3, 5, 2));
        piece.is_some()
    });
    assert_eq!(piece.unwrap().uv, full_uv());
    for _ in 0..100 {
        assert!(tiles.at(id(3, 5, 2)).is_some());
    }
    assert_eq!(source.calls_for(key), 1, "calls: {:?}", source.calls());
    let stats = tiles.stats();
    assert_eq!((stats.loaded, stats.pending), (1, 0));
    assert!(stats.online);
    assert_eq!(tiles.info().attribution, "© test");
    assert_eq!(tiles.tile_size(), 256);
}

#[test]
fn while_a_tile_loads_its_loaded_ancestor_is_drawn() {
    let parent = TileKey::new(2, 2, 1);
    let child = TileKey::new(3, 5, 2);
    let source = Arc::new(FakeSource::new(
        "ancestor",
        HashMap::from([(parent, png_bytes()), (child, png_bytes())]),
    ));
    let mut tiles = source_tiles(&source);
    wait_until("the parent arrives", || tiles.at(id(2, 2, 1)).is_some());

    // The child cannot be loaded at this call (arrivals are taken before it is requested), so
    // the parent's quarter covering it stands in: x odd → right half, y even → top half.
    let piece = tiles
        .at(id(3, 5, 2))
        .expect("the parent's quarter stands in");
    assert_eq!(piece.uv, Rect::from_min_max(pos2(0.5, 0.0), pos2(1.0, 0.5)));
    wait_until("the child arrives", || {
        tiles.at(id(3, 5, 2)).is_some_and(|p| p.uv == full_uv())
    });
    assert_eq!(source.calls_for(child), 1);
}

#[test]
fn deeper_than_the_source_goes_its_deepest_tile_is_over_scaled() {
    // Zoom-6 tile (41, 18) lies in zoom-4 tile (10, 4): x 41 = 4·10 + 1, y 18 = 4·4 + 2.
    let deepest = TileKey::new(4, 10, 4);
    let source = Arc::new(FakeSource::new(
        "overscale",
        HashMap::from([(deepest, png_bytes())]),
    ));
    let mut tiles = source_tiles(&source);

    let mut piece = None;
    wait_until("the zoom-4 tile stands in", || {
        piece = tiles.at(id(6, 41, 18));
        piece.is_some()
    });
    // A quarter of a quarter: side 1/4, column 1, row 2.
    let uv = piece.unwrap().uv;
    assert_eq!(uv, Rect::from_min_max(pos2(0.25, 0.5), pos2(0.5, 0.75)));
    let other = tiles.at(id(6, 43, 19)).expect("same zoom-4 tile").uv;
    assert_eq!(other, Rect::from_min_max(pos2(0.75, 0.75), pos2(1.0, 1.0)));
    let calls = source.calls();
    assert!(
        calls.iter().all(|k| k.z <= 4),
        "asked beyond max zoom: {calls:?}"
    );
    assert_eq!(calls, vec![deepest]);
}

#[test]
fn below_the_minimum_zoom_or_outside_the_bounds_nothing_is_asked() {
    let mut fake = FakeSource::new("bounded", HashMap::new());
    fake.info.min_zoom = 2;
    fake.info.bounds = Some(BoundsLonLat {
        west_lon: 65.0,
        south_lat: 56.0,
        east_lon: 70.0,
        north_lat: 59.0,
    });
    let source = Arc::new(fake);
    let mut tiles = source_tiles(&source);
    assert!(tiles.at(id(1, 1, 0)).is_none(), "below min zoom");
    assert!(tiles.at(id(4, 12, 4)).is_none(), "east of the bounds");
    assert!(tiles.at(id(4, 10, 9)).is_none(), "southern hemisphere");
    std::thread::sleep(Duration::from_millis(100));
    assert!(source.calls().is_empty(), "calls: {:?}", source.calls());

    // Inside: asked for (and missing).
    assert!(tiles.at(id(4, 10, 4)).is_none());
    wait_until("the missing tile is known", || {
        let _ = tiles.at(id(4, 10, 4));
        tiles.stats().missing == 1
    });
    let _ = tiles.at(id(4, 10, 4));
    assert_eq!(source.calls(), vec![TileKey::new(4, 10, 4)]);
}

#[test]
fn corrupt_tiles_are_counted_warned_about_once_and_not_asked_again() {
    let name = "corrupt-source-7d1";
    let garbage = b"this is not a tile at all".to_vec();
    let (a, b) = (TileKey::new(2, 0, 0), TileKey::new(2, 1, 0));
    let source = Arc::new(FakeSource::new(
        name,
        HashMap::from([(a, garbage.clone()), (b, garbage)]),
    ));
    let _ = captured();
    let mut tiles = source_tiles(&source);

    wait_until("both corrupt tiles are counted", || {
        let _ = tiles.at(id(2, 0, 0));
        let _ = tiles.at(id(2, 1, 0));
        tiles.stats().failed_corrupt == 2
    });
    for _ in 0..50 {
        assert!(tiles.at(id(2, 0, 0)).is_none());
        assert!(tiles.at(id(2, 1, 0)).is_none());
    }
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!((source.calls_for(a), source.calls_for(b)), (1, 1));
    assert_eq!(warnings_mentioning(name), 1, "one warning per source");
    let stats = tiles.stats();
    assert_eq!((stats.loaded, stats.pending), (0, 0));
}

#[test]
fn an_offline_tile_is_asked_again_once_the_source_is_back_online() {
    let key = TileKey::new(1, 1, 1);
    let source = Arc::new(FakeSource::new(
        "offline",
        HashMap::from([(key, png_bytes())]),
    ));
    source.online.store(false, Ordering::SeqCst);
    let mut tiles = source_tiles(&source);

    wait_until("the offline failure is known", || {
        let _ = tiles.at(id(1, 1, 1));
        tiles.stats().waiting_offline == 1
    });
    for _ in 0..20 {
        assert!(tiles.at(id(1, 1, 1)).is_none());
    }
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(source.calls_for(key), 1, "no retry while offline");
    assert!(!tiles.online());

    source.online.store(true, Ordering::SeqCst);
    wait_until("the tile arrives once online", || {
        tiles.at(id(1, 1, 1)).is_some()
    });
    assert_eq!(source.calls_for(key), 2);
    assert_eq!(tiles.stats().waiting_offline, 0);
}

#[test]
fn requests_the_view_no_longer_needs_do_not_pile_up() {
    let source = Arc::new(FakeSource::new("slow", HashMap::new()));
    source.hold.store(true, Ordering::SeqCst);
    let mut tiles = source_tiles(&source);
    // 200 different zoom-4 tiles, requested in this order.
    let nth = |i: u32| id(4, i % 16, i / 16);
    let key = |i: u32| TileKey::new(4, i % 16, i / 16);
    let _ = tiles.at(nth(0));
    let _ = tiles.at(nth(1));
    wait_until("both workers are busy", || source.calls().len() == 2);
    for x in 2..200 {
        assert!(tiles.at(nth(x)).is_none());
    }
    let workers = 2;
    assert!(
        tiles.stats().pending <= MAX_QUEUED + workers,
        "{:?}",
        tiles.stats()
    );

    source.hold.store(false, Ordering::SeqCst);
    wait_until("the queue drains", || {
        let _ = tiles.at(nth(199));
        tiles.stats().pending == 0
    });
    let calls = source.calls();
    assert_eq!(
        calls.len(),
        MAX_QUEUED + workers,
        "the oldest requests were dropped"
    );
    assert!(
        calls[2..4].contains(&key(199)),
        "the newest request goes first: {:?}",
        &calls[..4]
    );
    assert!(!calls.contains(&key(2)), "dropped, never read");
    assert_eq!(tiles.stats().missing, MAX_QUEUED + workers);
}

// --- scale bar -----------------------------------------------------------------------------------

fn projector_at(memory: &mut MapMemory, lon: f64, lat: f64, zoom: f64) -> Projector<'static> {
    memory.set_zoom(zoom).unwrap();
    memory.center_at(lon_lat(lon, lat));
    Projector::new(
        Rect::from_min_size(pos2(0.0, 0.0), vec2(800.0, 600.0)),
        &MercatorProjection,
        memory,
        lon_lat(lon, lat),
    )
}

#[test]
fn ground_resolution_at_the_centre_is_the_web_mercator_one() {
    for (lat, zoom) in [(0.0, 0.0), (57.15, 10.0), (66.5, 14.0)] {
        let mut memory = MapMemory::default();
        let projector = projector_at(&mut memory, 65.5, lat, zoom);
        let t = ScreenTransform::new(&projector);
        let got = ground_m_per_px(&t, projector.clip_rect().center());
        let expected = 156_543.033_92 * f64::cos(f64::to_radians(lat)) / 2f64.powf(zoom);
        assert!(
            (got - expected).abs() / expected < 1e-6,
            "lat {lat} zoom {zoom}: {got} vs {expected}"
        );
    }
}

#[test]
fn scale_bar_lengths_are_round_and_about_the_target_length() {
    let target_px = 100.0;
    for lat in [0.0_f64, 45.0, 57.15, 70.0] {
        for zoom in 0..=20 {
            let m_per_px = 156_543.033_92 * lat.to_radians().cos() / 2f64.powi(zoom);
            let (length_m, length_px) = scale_bar_length_m(m_per_px, target_px);
            let exponent = length_m.log10().floor();
            let mantissa = length_m / 10f64.powf(exponent);
            assert!(
                [1.0, 2.0, 5.0].iter().any(|m| (mantissa - m).abs() < 1e-9),
                "{length_m} m at zoom {zoom}, lat {lat} is not round"
            );
            assert!(
                length_px > 0.6 * target_px && length_px <= 1.5 * target_px,
                "{length_px} px at zoom {zoom}, lat {lat}"
            );
            assert!((f64::from(length_px) - length_m / m_per_px).abs() < 1e-3);
        }
    }
    // Zoom 10 over Tyumen: 82.9 m/px → 10 km, 120.6 px.
    let m_per_px = 156_543.033_92 * 57.15_f64.to_radians().cos() / 1024.0;
    let (length_m, length_px) = scale_bar_length_m(m_per_px, target_px);
    assert_eq!(length_m, 10_000.0);
    assert!((length_px - 120.6).abs() < 0.1, "{length_px}");
    // Zoom 15: 2.59 m/px → 200 m (the next round length, 500 m, would be 193 px).
    let (length_m, _) = scale_bar_length_m(m_per_px / 32.0, target_px);
    assert_eq!(length_m, 200.0);
    // Nonsense resolutions draw no bar.
    assert_eq!(scale_bar_length_m(0.0, target_px).1, 0.0);
    assert_eq!(scale_bar_length_m(f64::NAN, target_px).1, 0.0);
}

#[test]
fn scale_bar_labels_in_both_languages() {
    let ru = ScaleUnits {
        metres: "м",
        kilometres: "км",
    };
    let en = ScaleUnits {
        metres: "m",
        kilometres: "km",
    };
    assert_eq!(scale_bar_label(500.0, ru), "500 м");
    assert_eq!(scale_bar_label(2000.0, ru), "2 км");
    assert_eq!(scale_bar_label(1000.0, ru), "1 км");
    assert_eq!(scale_bar_label(5.0, ru), "5 м");
    assert_eq!(scale_bar_label(500.0, en), "500 m");
    assert_eq!(scale_bar_label(2000.0, en), "2 km");
    assert_eq!(scale_bar_label(200_000.0, en), "200 km");
}

// --- settlements ---------------------------------------------------------------------------------

/// A label's size without fonts: 0.6 em per character, 1.2 em high.
fn measure(text: &str, size: f32) -> Vec2 {
    vec2(text.chars().count() as f32 * size * 0.6, size * 1.2)
}

#[test]
fn settlement_labels_biggest_first_without_overlaps() {
    let all = settlements();
    let mut memory = MapMemory::default();
    let mut counts = Vec::new();
    // The whole region, then closer and closer around Tyumen.
    for (lon, lat, zoom) in [
        (67.5, 57.0, 5.0),
        (67.5, 57.0, 6.0),
        (66.5, 57.0, 7.0),
        (65.8, 57.0, 9.0),
    ] {
        let projector = projector_at(&mut memory, lon, lat, zoom);
        let clip = projector.clip_rect();
        let t = ScreenTransform::new(&projector);
        let placed = place_settlements(all, &t, zoom, clip, measure);
        assert_eq!(
            all[placed[0].index].name, "Тюмень",
            "the capital first at zoom {zoom}"
        );
        let populations: Vec<u32> = placed
            .iter()
            .map(|p| all[p.index].population.unwrap_or(0))
            .collect();
        assert!(
            populations.windows(2).all(|w| w[0] >= w[1]),
            "population order at zoom {zoom}: {populations:?}"
        );
        for (i, p) in placed.iter().enumerate() {
            assert!(clip.contains(p.dot_px));
            assert!(zoom >= min_zoom_for_population(all[p.index].population));
            for q in &placed[i + 1..] {
                assert!(
                    !p.label_rect_px.intersects(q.label_rect_px),
                    "{} and {} overlap at zoom {zoom}",
                    all[p.index].name,
                    all[q.index].name
                );
            }
        }
        counts.push(placed.len());
    }
    // Zoom 5: only the towns over 50 000 (Тюмень, Тобольск, Ишим).
    assert_eq!(counts[0], 3, "{counts:?}");
    // Zoom 6 adds the towns over 10 000; zoom 9 around Tyumen shows its suburbs and villages.
    assert!(counts[1] > counts[0], "{counts:?}");
    assert!(counts[3] > counts[1], "{counts:?}");
}

#[test]
fn a_colliding_smaller_settlement_is_left_out() {
    let town = |name: &'static str, lon: f64, population: u32| SettlementFact {
        name,
        municipality: "Тюмень",
        lon,
        lat: 57.15,
        population: Some(population),
    };
    // The village sits right on the town; a second village far enough east fits.
    let list = [
        town("Малое", 65.53, 2_000),
        town("Большое", 65.53, 90_000),
        town("Дальнее", 65.9, 2_000),
    ];
    let mut memory = MapMemory::default();
    let projector = projector_at(&mut memory, 65.6, 57.15, 10.0);
    let t = ScreenTransform::new(&projector);
    let placed = place_settlements(&list, &t, 10.0, projector.clip_rect(), measure);
    let names: Vec<&str> = placed.iter().map(|p| list[p.index].name).collect();
    assert_eq!(names, vec!["Большое", "Дальнее"]);
    assert!(placed[0].font_size > placed[1].font_size);
    assert!(placed[0].dot_radius_px > placed[1].dot_radius_px);
    // Below its zoom a village is not shown even when there is room.
    let placed = place_settlements(&list, &t, 7.5, projector.clip_rect(), measure);
    assert_eq!(placed.len(), 1);
}
