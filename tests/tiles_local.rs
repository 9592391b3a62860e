//! Local basemap readers (`tiles::mbtiles`, `tiles::dir`): the same small set of solid-colour
//! PNG tiles written as an MBTiles file, an XYZ folder, a TMS folder and SAS.Planet caches, then
//! read back through `open_path` — right kind, right tile for each XYZ key (TMS rows flipped),
//! missing tiles, coverage and metadata — plus damaged inputs that must give errors, not panics.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers may panic

mod common;

use std::f64::consts::PI;
use std::io::Cursor;
use std::path::{Path, PathBuf};

use common::{solid_png, write_mbtiles};
use rusqlite::Connection;
use teplokarta::tiles::{SourceKind, TileError, TileFormat, TileKey, TileSource, open_path};

/// The tiles every fixture holds: three at zoom 3, five at zoom 4 (XYZ rows).
const KEYS: [(u8, u32, u32); 8] = [
    (3, 4, 2),
    (3, 5, 2),
    (3, 4, 3),
    (4, 8, 4),
    (4, 9, 4),
    (4, 8, 5),
    (4, 9, 5),
    (4, 10, 6),
];

fn keys() -> impl Iterator<Item = TileKey> {
    KEYS.iter().map(|&(z, x, y)| TileKey::new(z, x, y))
}

/// A colour no other tile of the set has.
fn colour_of(key: TileKey) -> [u8; 3] {
    [
        40 * key.z,
        u8::try_from(20 * key.x).unwrap_or(255),
        u8::try_from(30 * key.y).unwrap_or(255),
    ]
}

/// The colour of a solid tile, checked at two corners and the centre.
fn decode_colour(bytes: &[u8]) -> [u8; 3] {
    let decoder = png::Decoder::new(Cursor::new(bytes));
    let mut reader = decoder.read_info().expect("a PNG tile");
    let mut buf = vec![0; reader.output_buffer_size().expect("size")];
    let frame = reader.next_frame(&mut buf).expect("decodes");
    assert_eq!((frame.width, frame.height), (256, 256));
    assert_eq!(frame.color_type, png::ColorType::Rgb);
    let pixel = |x: usize, y: usize| {
        let at = (y * 256 + x) * 3;
        [buf[at], buf[at + 1], buf[at + 2]]
    };
    let first = pixel(0, 0);
    assert_eq!(pixel(128, 128), first);
    assert_eq!(pixel(255, 255), first);
    first
}

/// Asserts every tile of the set comes back in its colour, and tiles outside it are `None`.
fn assert_reads_the_set(source: &dyn TileSource) {
    for key in keys() {
        let bytes = source
            .tile(key)
            .unwrap_or_else(|e| panic!("{key:?}: {e}"))
            .unwrap_or_else(|| panic!("{key:?} missing"));
        assert_eq!(TileFormat::sniff(&bytes), TileFormat::Png);
        assert_eq!(decode_colour(&bytes), colour_of(key), "{key:?}");
    }
    for missing in [
        TileKey::new(3, 0, 0),
        TileKey::new(4, 10, 4),
        TileKey::new(5, 16, 8),
        TileKey::new(2, 1, 1),
        // Out of the grid: no tile, no error.
        TileKey::new(3, 8, 0),
    ] {
        assert_eq!(source.tile(missing).expect("no error"), None, "{missing:?}");
    }
}

/// Latitude of the top edge of tile row `y` at zoom `z` (XYZ rows).
fn lat_of_row(z: u8, y: u32) -> f64 {
    let n = f64::from(1u32 << z);
    (PI * (1.0 - 2.0 * f64::from(y) / n))
        .sinh()
        .atan()
        .to_degrees()
}

fn lon_of_column(z: u8, x: u32) -> f64 {
    f64::from(x) / f64::from(1u32 << z) * 360.0 - 180.0
}

/// Asserts bounds equal the tile ranges of the deepest zoom: x 8..=10, y 4..=6 at zoom 4.
fn assert_bounds_of_deepest_zoom(source: &dyn TileSource) {
    let b = source.info().bounds.expect("bounds from the tiles");
    let close = |a: f64, b: f64| (a - b).abs() < 1e-9;
    assert!(close(b.west_lon, lon_of_column(4, 8)), "{b:?}");
    assert!(close(b.east_lon, lon_of_column(4, 11)), "{b:?}");
    assert!(close(b.north_lat, lat_of_row(4, 4)), "{b:?}");
    assert!(close(b.south_lat, lat_of_row(4, 7)), "{b:?}");
    assert!(b.west_lon == 0.0 && b.east_lon == 67.5, "{b:?}");
    assert!(b.north_lat > b.south_lat && b.south_lat > 0.0, "{b:?}");
}

fn the_set() -> Vec<(TileKey, Vec<u8>)> {
    keys().map(|k| (k, solid_png(colour_of(k)))).collect()
}

const METADATA: [(&str, &str); 7] = [
    ("name", "Test basemap"),
    ("format", "png"),
    ("bounds", "30.5,50.25,40,60"),
    ("minzoom", "3"),
    ("maxzoom", "4"),
    ("attribution", "© Test contributors"),
    ("type", "baselayer"),
];

#[test]
fn mbtiles_reads_tiles_in_tms_rows_and_its_metadata_without_changing_the_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("base.mbtiles");
    write_mbtiles(&path, &METADATA, &the_set());
    let before = std::fs::read(&path).expect("read file");

    let source = open_path(&path, false).expect("opens");
    let info = source.info();
    assert_eq!(info.kind, SourceKind::MbTiles);
    assert_eq!(info.name, "Test basemap");
    assert_eq!((info.min_zoom, info.max_zoom), (3, 4));
    assert_eq!(info.attribution, "© Test contributors");
    assert_eq!(info.format, TileFormat::Png);
    assert_eq!(info.tile_size_px, 256);
    let b = info.bounds.expect("stated bounds");
    assert_eq!(
        (b.west_lon, b.south_lat, b.east_lon, b.north_lat),
        (30.5, 50.25, 40.0, 60.0)
    );
    assert_eq!(source.max_parallel(), 2);
    assert!(source.online());

    assert_reads_the_set(source.as_ref());
    // The row stored for XYZ (4, 8, 4) is TMS row 11; read as an XYZ row it is another tile.
    assert_eq!(TileKey::new(4, 8, 4).tms_y(), 11);
    assert_eq!(source.tile(TileKey::new(4, 8, 11)).expect("no error"), None);

    // Two workers at once (the source is Send + Sync with a pool of connections).
    std::thread::scope(|scope| {
        for _ in 0..2 {
            scope.spawn(|| {
                for _ in 0..20 {
                    assert_reads_the_set(source.as_ref());
                }
            });
        }
    });
    drop(source);

    assert!(
        std::fs::read(&path).expect("read file") == before,
        "reading changed the MBTiles file"
    );
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .expect("list")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(names, ["base.mbtiles"], "no journal or side file left");
}

#[test]
fn mbtiles_without_zoom_or_format_metadata_takes_them_from_the_tiles() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("Plain Name.MBTILES");
    write_mbtiles(&path, &[], &the_set());

    let source = open_path(&path, false).expect("opens");
    let info = source.info();
    assert_eq!(info.kind, SourceKind::MbTiles);
    assert_eq!(
        info.name, "Plain Name",
        "the file's name when metadata has none"
    );
    assert_eq!((info.min_zoom, info.max_zoom), (3, 4));
    assert_eq!(info.format, TileFormat::Png, "sniffed from a tile");
    assert_eq!(info.bounds, None);
    assert_eq!(info.attribution, "");
    assert_reads_the_set(source.as_ref());
}

#[test]
fn mbtiles_tiles_view_over_deduplicated_images_is_read() {
    // The layout mb-util and tippecanoe write: `tiles` is a view over `map` + `images`.
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("view.mbtiles");
    {
        let conn = Connection::open(&path).expect("create");
        conn.execute_batch(
            "CREATE TABLE metadata (name TEXT, value TEXT);
             CREATE TABLE map (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER,
                               tile_id TEXT);
             CREATE TABLE images (tile_data BLOB, tile_id TEXT);
             CREATE VIEW tiles AS SELECT map.zoom_level AS zoom_level,
                 map.tile_column AS tile_column, map.tile_row AS tile_row,
                 images.tile_data AS tile_data
                 FROM map JOIN images ON images.tile_id = map.tile_id;
             INSERT INTO metadata VALUES ('minzoom', '4'), ('maxzoom', '4');",
        )
        .expect("schema");
        let key = TileKey::new(4, 9, 5);
        conn.execute(
            "INSERT INTO images VALUES (?1, 'a')",
            [solid_png(colour_of(key))],
        )
        .expect("image");
        conn.execute("INSERT INTO map VALUES (4, 9, ?1, 'a')", [key.tms_y()])
            .expect("map row");
    }
    let source = open_path(&path, false).expect("opens");
    let bytes = source
        .tile(TileKey::new(4, 9, 5))
        .expect("no error")
        .expect("the tile");
    assert_eq!(decode_colour(&bytes), colour_of(TileKey::new(4, 9, 5)));
    assert_eq!(source.tile(TileKey::new(4, 9, 4)).expect("no error"), None);
}

#[test]
fn damaged_or_foreign_mbtiles_files_are_errors_not_panics() {
    let dir = tempfile::tempdir().expect("tempdir");
    let good = dir.path().join("good.mbtiles");
    write_mbtiles(&good, &METADATA, &the_set());
    let bytes = std::fs::read(&good).expect("read");
    assert!(bytes.len() > 4096, "the fixture spans several pages");

    let truncated = dir.path().join("truncated.mbtiles");
    std::fs::write(&truncated, &bytes[..100]).expect("write");
    let error = open_path(&truncated, false)
        .err()
        .expect("truncated file refused");
    assert!(
        matches!(
            error,
            TileError::Corrupt { .. } | TileError::Unsupported { .. } | TileError::Sqlite { .. }
        ),
        "{error:?}"
    );
    assert!(error.to_string().contains("truncated.mbtiles"), "{error}");

    let text = dir.path().join("notes.mbtiles");
    std::fs::write(&text, "these are not tiles, just a text file\n".repeat(50)).expect("write");
    let error = open_path(&text, false).err().expect("text file refused");
    assert!(matches!(error, TileError::Corrupt { .. }), "{error:?}");
    assert!(error.to_string().contains("notes.mbtiles"), "{error}");

    let empty = dir.path().join("empty.mbtiles");
    std::fs::write(&empty, b"").expect("write");
    let error = open_path(&empty, false).err().expect("empty file refused");
    assert!(error.to_string().contains("empty.mbtiles"), "{error}");

    let other = dir.path().join("other.mbtiles");
    Connection::open(&other)
        .and_then(|c| c.execute_batch("CREATE TABLE appeals (id INTEGER);"))
        .expect("other db");
    let error = open_path(&other, false).err().expect("no tiles table");
    assert!(matches!(error, TileError::Unsupported { .. }), "{error:?}");
    assert!(error.to_string().contains("other.mbtiles"), "{error}");
    assert!(
        error.to_string().contains("appeals"),
        "names what is there: {error}"
    );

    let wrong_columns = dir.path().join("columns.mbtiles");
    Connection::open(&wrong_columns)
        .and_then(|c| c.execute_batch("CREATE TABLE tiles (z INTEGER, x INTEGER, y INTEGER);"))
        .expect("db");
    let error = open_path(&wrong_columns, false)
        .err()
        .expect("wrong columns");
    assert!(matches!(error, TileError::Unsupported { .. }), "{error:?}");
    assert!(error.to_string().contains("tile_data"), "{error}");

    let missing = dir.path().join("absent.mbtiles");
    let error = open_path(&missing, false).err().expect("missing file");
    assert!(matches!(error, TileError::Io { .. }), "{error:?}");
    assert!(
        !missing.exists(),
        "opening read-only never creates the file"
    );
}

#[test]
fn mbtiles_tile_of_garbage_bytes_is_returned_as_stored() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("garbage.mbtiles");
    let garbage = b"\x00\x01not an image at all".to_vec();
    write_mbtiles(
        &path,
        &[("name", "g"), ("minzoom", "2"), ("maxzoom", "2")],
        &[(TileKey::new(2, 1, 1), garbage.clone())],
    );
    let source = open_path(&path, false).expect("opens: the tile is only read on request");
    assert_eq!(
        source.info().format,
        TileFormat::Unknown,
        "sniffed, not stated"
    );
    let bytes = source
        .tile(TileKey::new(2, 1, 1))
        .expect("no error")
        .expect("the stored bytes");
    assert_eq!(bytes, garbage);
    assert_eq!(TileFormat::sniff(&bytes), TileFormat::Unknown);
}

/// Writes the set as `{z}/{x}/{row}.png`, rows in TMS order when `tms`.
fn write_xyz_dir(root: &Path, tms: bool) {
    for (key, bytes) in the_set() {
        let row = if tms { key.tms_y() } else { key.y };
        let folder = root.join(key.z.to_string()).join(key.x.to_string());
        std::fs::create_dir_all(&folder).expect("mkdir");
        std::fs::write(folder.join(format!("{row}.png")), bytes).expect("write tile");
    }
}

#[test]
fn xyz_directory_is_scanned_for_zooms_bounds_and_format() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("city_xyz");
    write_xyz_dir(&root, false);
    // Files that are not tiles are ignored.
    std::fs::write(root.join("4").join("8").join("notes.txt"), "x").expect("write");
    std::fs::write(root.join("4").join("8").join("7.png.part"), "x").expect("write");

    let source = open_path(&root, false).expect("opens");
    let info = source.info();
    assert_eq!(info.kind, SourceKind::XyzDir);
    assert_eq!(info.name, "city_xyz");
    assert_eq!((info.min_zoom, info.max_zoom), (3, 4));
    assert_eq!(info.format, TileFormat::Png);
    assert_eq!(info.tile_size_px, 256);
    assert_eq!(info.attribution, "");
    assert_bounds_of_deepest_zoom(source.as_ref());
    assert_reads_the_set(source.as_ref());
}

#[test]
fn xyz_directory_takes_name_and_attribution_from_metadata_json() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("tiles");
    write_xyz_dir(&root, false);
    std::fs::write(
        root.join("metadata.json"),
        r#"{"name": "Oblast", "attribution": "© OSM", "format": "png"}"#,
    )
    .expect("write");
    let source = open_path(&root, false).expect("opens");
    assert_eq!(source.info().name, "Oblast");
    assert_eq!(source.info().attribution, "© OSM");
}

#[test]
fn tms_directory_flips_rows() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("tms");
    write_xyz_dir(&root, true);

    let source = open_path(&root, true).expect("opens");
    assert_eq!(source.info().kind, SourceKind::TmsDir);
    assert_eq!((source.info().min_zoom, source.info().max_zoom), (3, 4));
    assert_bounds_of_deepest_zoom(source.as_ref());
    assert_reads_the_set(source.as_ref());
    // The file 4/8/11.png holds XYZ row 4.
    assert!(root.join("4/8/11.png").is_file());

    // Read as XYZ, the same folder has its rows upside down.
    let wrong = open_path(&root, false).expect("opens");
    assert_eq!(wrong.info().kind, SourceKind::XyzDir);
    assert_eq!(wrong.tile(TileKey::new(4, 8, 4)).expect("no error"), None);
    let flipped = wrong
        .tile(TileKey::new(4, 8, 11))
        .expect("no error")
        .expect("file 4/8/11.png");
    assert_eq!(decode_colour(&flipped), colour_of(TileKey::new(4, 8, 4)));
}

/// Writes one tile in SAS.Planet's default layout:
/// `z{z+1}/{x div 1024}/x{x}/{y div 1024}/y{y}.png`.
fn write_sas_tile(map: &Path, key: TileKey, bytes: &[u8]) -> PathBuf {
    let folder = map
        .join(format!("z{}", key.z + 1))
        .join((key.x / 1024).to_string())
        .join(format!("x{}", key.x))
        .join((key.y / 1024).to_string());
    std::fs::create_dir_all(&folder).expect("mkdir");
    let file = folder.join(format!("y{}.png", key.y));
    std::fs::write(&file, bytes).expect("write tile");
    file
}

fn write_sas_map(map: &Path) {
    for (key, bytes) in the_set() {
        write_sas_tile(map, key, &bytes);
    }
}

#[test]
fn sas_planet_cache_of_one_map() {
    let dir = tempfile::tempdir().expect("tempdir");
    let map = dir.path().join("cache").join("osmmapMapnik");
    write_sas_map(&map);
    // A "tile not exists" marker for zoom 5 (SAS.Planet's z6): no tile, and no zoom level.
    let tne = map.join("z6/0/x16/0/y8.tne");
    std::fs::create_dir_all(tne.parent().expect("parent")).expect("mkdir");
    std::fs::write(&tne, b"").expect("write");

    let source = open_path(&map, false).expect("opens the map folder");
    let info = source.info();
    assert_eq!(info.kind, SourceKind::SasPlanet);
    assert_eq!(info.name, "osmmapMapnik");
    assert_eq!(
        (info.min_zoom, info.max_zoom),
        (3, 4),
        "SAS.Planet's z4 and z5 are zooms 3 and 4; z6 holds only a .tne marker"
    );
    assert_eq!(info.format, TileFormat::Png);
    assert_bounds_of_deepest_zoom(source.as_ref());
    assert_reads_the_set(source.as_ref());
    assert_eq!(source.tile(TileKey::new(5, 16, 8)).expect("no error"), None);

    // SAS.Planet's `cache` folder holding that one map opens the map.
    let from_cache = open_path(&dir.path().join("cache"), false).expect("opens the single map");
    assert_eq!(from_cache.info().kind, SourceKind::SasPlanet);
    assert_eq!(from_cache.info().name, "osmmapMapnik");
    assert_reads_the_set(from_cache.as_ref());

    // With two maps the choice is the user's: the error lists them.
    write_sas_tile(
        &dir.path().join("cache").join("sat"),
        TileKey::new(1, 0, 0),
        &solid_png([1, 2, 3]),
    );
    let error = open_path(&dir.path().join("cache"), false)
        .err()
        .expect("two maps refused");
    assert!(matches!(error, TileError::Unsupported { .. }), "{error:?}");
    let text = error.to_string();
    assert!(
        text.contains("osmmapMapnik") && text.contains("sat"),
        "{text}"
    );
}

#[test]
fn sas_planet_blocks_of_1024_tiles_at_deep_zooms() {
    let dir = tempfile::tempdir().expect("tempdir");
    let map = dir.path().join("sat");
    let key = TileKey::new(11, 100, 2040);
    let file = write_sas_tile(&map, key, &solid_png([9, 99, 199]));
    assert!(
        file.ends_with("z12/0/x100/1/y2040.png"),
        "{}",
        file.display()
    );
    write_sas_tile(&map, TileKey::new(11, 101, 2040), &solid_png([1, 1, 1]));

    let source = open_path(&map, false).expect("opens");
    assert_eq!((source.info().min_zoom, source.info().max_zoom), (11, 11));
    let bytes = source.tile(key).expect("no error").expect("the tile");
    // x and y swapped would name another file.
    assert_eq!(
        source.tile(TileKey::new(11, 2040, 100)).expect("no error"),
        None
    );
    assert_eq!(decode_colour(&bytes), [9, 99, 199]);
    let b = source.info().bounds.expect("bounds");
    assert!((b.west_lon - lon_of_column(11, 100)).abs() < 1e-9, "{b:?}");
    assert!((b.east_lon - lon_of_column(11, 102)).abs() < 1e-9, "{b:?}");
    assert!((b.north_lat - lat_of_row(11, 2040)).abs() < 1e-9, "{b:?}");
    assert!((b.south_lat - lat_of_row(11, 2041)).abs() < 1e-9, "{b:?}");
}

#[test]
fn sas_planet_google_mv_layout_is_read() {
    // The old GoogleMV cache: `{zoom+1:02}/t{quadkey}.png` with letters q r t s.
    let dir = tempfile::tempdir().expect("tempdir");
    let map = dir.path().join("cache_old_map");
    for (key, bytes) in the_set() {
        let mut name = String::from("t");
        for level in (0..key.z).rev() {
            let east = (key.x >> level) & 1;
            let south = (key.y >> level) & 1;
            name.push(['q', 'r', 't', 's'][usize::try_from(east + 2 * south).expect("index")]);
        }
        let folder = map.join(format!("{:02}", key.z + 1));
        std::fs::create_dir_all(&folder).expect("mkdir");
        std::fs::write(folder.join(format!("{name}.png")), bytes).expect("write");
    }
    // (4, 8, 4): x = 1000b, y = 0100b → r, t, q, q.
    assert!(map.join("05/trtqq.png").is_file());

    let source = open_path(&map, false).expect("opens");
    assert_eq!(source.info().kind, SourceKind::SasPlanet);
    assert_eq!((source.info().min_zoom, source.info().max_zoom), (3, 4));
    assert_bounds_of_deepest_zoom(source.as_ref());
    assert_reads_the_set(source.as_ref());
}

#[test]
fn unreadable_tile_is_an_io_error_naming_the_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("xyz");
    write_xyz_dir(&root, false);
    // A folder where a tile file should be cannot be read as one.
    let bad = root.join("4/9/6.png");
    std::fs::create_dir_all(&bad).expect("mkdir");

    let source = open_path(&root, false).expect("opens");
    let error = source.tile(TileKey::new(4, 9, 6)).expect_err("io error");
    match &error {
        TileError::Io { path, .. } => assert_eq!(path, &bad),
        other => panic!("expected Io, got {other:?}"),
    }
    assert!(error.to_string().contains("6.png"), "{error}");
    // The other tiles still read.
    assert_reads_the_set(source.as_ref());
}

#[test]
fn folders_without_tiles_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let empty = dir.path().join("empty");
    std::fs::create_dir_all(empty.join("docs")).expect("mkdir");
    let error = open_path(&empty, false).err().expect("no tiles");
    assert!(matches!(error, TileError::Unsupported { .. }), "{error:?}");
    assert!(error.to_string().contains("empty"), "{error}");

    // Zoom folders that hold no tile file.
    let hollow = dir.path().join("hollow");
    std::fs::create_dir_all(hollow.join("3/4")).expect("mkdir");
    std::fs::write(hollow.join("3/4/readme.txt"), "x").expect("write");
    let error = open_path(&hollow, false).err().expect("no tiles");
    assert!(matches!(error, TileError::Unsupported { .. }), "{error:?}");

    let sas_hollow = dir.path().join("sas_hollow");
    std::fs::create_dir_all(sas_hollow.join("z3/0/x1/0")).expect("mkdir");
    std::fs::write(sas_hollow.join("z3/0/x1/0/y1.tne"), "").expect("write");
    let error = open_path(&sas_hollow, false).err().expect("only markers");
    assert!(matches!(error, TileError::Unsupported { .. }), "{error:?}");

    let plain_file = dir.path().join("tile.png");
    std::fs::write(&plain_file, solid_png([0, 0, 0])).expect("write");
    assert!(matches!(
        open_path(&plain_file, false),
        Err(TileError::Unsupported { .. })
    ));
}
