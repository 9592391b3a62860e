//! PMTiles basemaps: archives written here with the `pmtiles` crate's writer are opened through
//! `tiles::open_path`; coverage, zoom range, attribution and format come from the header and
//! metadata; tiles come back decompressed (PNG bytes, raw MVT protobuf); damaged, foreign and
//! unsupported files give an error naming the file, never a panic.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers may panic

mod common;

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use common::solid_png;
use pmtiles::{Compression, Compressor, PmTilesWriter, PmtResult, TileCoord, TileId, TileType};
use teplokarta::tiles::{
    SourceKind, TileError, TileFormat, TileKey, open_path, pmtiles::PmTilesSource,
};

const RED: [u8; 3] = [220, 30, 30];
const GREEN: [u8; 3] = [30, 200, 60];
const BLUE: [u8; 3] = [20, 40, 230];

/// Colour of pixel (x, y) of an RGB or RGBA PNG.
fn png_pixel(bytes: &[u8], x: usize, y: usize) -> [u8; 3] {
    let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    let mut reader = decoder.read_info().unwrap();
    let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
    let frame = reader.next_frame(&mut pixels).unwrap();
    let channels = frame.color_type.samples();
    let at = (y * frame.width as usize + x) * channels;
    [pixels[at], pixels[at + 1], pixels[at + 2]]
}

fn coord(z: u8, x: u32, y: u32) -> TileCoord {
    TileCoord::new(z, x, y).unwrap()
}

/// A raster archive over Tyumen oblast: z=3 tile (5,2) red; z=4 tiles (10,4) green and (11,5) blue.
fn write_raster(path: &Path, metadata: &str) {
    let mut writer = PmTilesWriter::new(TileType::Png)
        .min_zoom(3)
        .max_zoom(4)
        .bounds(62.5, 55.0, 75.25, 61.5)
        .center(65.5, 57.15)
        .metadata(metadata)
        .create(File::create(path).unwrap())
        .unwrap();
    writer.add_tile(coord(3, 5, 2), &solid_png(RED)).unwrap();
    writer.add_tile(coord(4, 10, 4), &solid_png(GREEN)).unwrap();
    writer.add_tile(coord(4, 11, 5), &solid_png(BLUE)).unwrap();
    writer.finalize().unwrap();
}

const RASTER_METADATA: &str =
    r#"{"name":"Тюменская область","attribution":"© OpenStreetMap contributors","format":"png"}"#;

fn raster_archive() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tyumen.pmtiles");
    write_raster(&path, RASTER_METADATA);
    (dir, path)
}

#[test]
fn raster_archive_states_coverage_zooms_attribution_and_format() {
    let (_dir, path) = raster_archive();
    let source = open_path(&path, false).unwrap();
    let info = source.info();
    assert_eq!(info.kind, SourceKind::PmTiles);
    assert_eq!(info.name, "Тюменская область");
    assert_eq!((info.min_zoom, info.max_zoom), (3, 4));
    let bounds = info.bounds.expect("the header states bounds");
    // The header stores degrees × 10⁷ as integers.
    for (got, want) in [
        (bounds.west_lon, 62.5),
        (bounds.south_lat, 55.0),
        (bounds.east_lon, 75.25),
        (bounds.north_lat, 61.5),
    ] {
        assert!((got - want).abs() < 1e-6, "{got} != {want}");
    }
    assert_eq!(info.attribution, "© OpenStreetMap contributors");
    assert_eq!(info.format, TileFormat::Png);
    assert_eq!(info.tile_size_px, 256);
    assert!(source.online());
}

#[test]
fn raster_tiles_are_the_pngs_stored_at_their_keys() {
    let (_dir, path) = raster_archive();
    let source = open_path(&path, false).unwrap();
    for (key, colour) in [
        (TileKey::new(3, 5, 2), RED),
        (TileKey::new(4, 10, 4), GREEN),
        (TileKey::new(4, 11, 5), BLUE),
    ] {
        let bytes = source.tile(key).unwrap().expect("stored tile");
        assert_eq!(TileFormat::sniff(&bytes), TileFormat::Png, "{key:?}");
        assert_eq!(png_pixel(&bytes, 0, 0), colour, "{key:?}");
        assert_eq!(png_pixel(&bytes, 200, 131), colour, "{key:?}");
    }
    // Absent: a neighbour, the same x/y at another zoom, a zoom outside the range, off the grid.
    for key in [
        TileKey::new(3, 5, 3),
        TileKey::new(4, 5, 2),
        TileKey::new(0, 0, 0),
        TileKey::new(3, 9, 2),
        TileKey::new(40, 0, 0),
    ] {
        assert!(source.tile(key).unwrap().is_none(), "{key:?}");
    }
}

#[test]
fn name_falls_back_to_the_file_stem() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("Подложка-2024.pmtiles");
    write_raster(&path, "{}");
    let source = open_path(&path, false).unwrap();
    assert_eq!(source.info().name, "Подложка-2024");
    assert_eq!(source.info().attribution, "");
    assert_eq!(source.info().format, TileFormat::Png);
}

#[test]
fn stated_tile_size_is_taken() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("retina.pmtiles");
    write_raster(&path, r#"{"tileSize":512}"#);
    assert_eq!(open_path(&path, false).unwrap().info().tile_size_px, 512);
}

#[test]
fn source_is_shared_by_worker_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<PmTilesSource>();

    let (_dir, path) = raster_archive();
    let source = open_path(&path, false).unwrap();
    let keys = [
        (TileKey::new(3, 5, 2), RED),
        (TileKey::new(4, 10, 4), GREEN),
        (TileKey::new(4, 11, 5), BLUE),
    ];
    std::thread::scope(|scope| {
        for worker in 0..4 {
            let source = &source;
            scope.spawn(move || {
                for round in 0..50 {
                    let (key, colour) = keys[(worker + round) % keys.len()];
                    let bytes = source.tile(key).unwrap().unwrap();
                    assert_eq!(png_pixel(&bytes, 7, 7), colour);
                    assert!(source.tile(TileKey::new(4, 0, 0)).unwrap().is_none());
                }
            });
        }
    });
}

// --- Vector tiles -------------------------------------------------------------------------------

fn varint(mut value: u64, out: &mut Vec<u8>) {
    while value >= 0x80 {
        out.push((value as u8 & 0x7F) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

fn field_varint(field: u64, value: u64, out: &mut Vec<u8>) {
    varint(field << 3, out);
    varint(value, out);
}

fn field_bytes(field: u64, bytes: &[u8], out: &mut Vec<u8>) {
    varint((field << 3) | 2, out);
    varint(bytes.len() as u64, out);
    out.extend_from_slice(bytes);
}

fn zigzag(value: i64) -> u64 {
    ((value << 1) ^ (value >> 63)) as u64
}

/// A Mapbox vector tile: layer "water" (version 2, extent 4096) holding one square polygon
/// from (512, 512) to (3584, 3584), its ring clockwise on screen as the spec wants.
fn water_mvt() -> Vec<u8> {
    let move_to_1 = 1 | (1 << 3);
    let line_to_3 = 2 | (3 << 3);
    let close_path = 7 | (1 << 3);
    let mut geometry = Vec::new();
    for value in [
        move_to_1,
        zigzag(512),
        zigzag(512),
        line_to_3,
        zigzag(3072),
        zigzag(0),
        zigzag(0),
        zigzag(3072),
        zigzag(-3072),
        zigzag(0),
        close_path,
    ] {
        varint(value, &mut geometry);
    }
    let mut feature = Vec::new();
    field_varint(1, 1, &mut feature); // id
    field_varint(3, 3, &mut feature); // type POLYGON
    field_bytes(4, &geometry, &mut feature); // packed geometry

    let mut layer = Vec::new();
    field_varint(15, 2, &mut layer); // version
    field_bytes(1, b"water", &mut layer); // name
    field_bytes(2, &feature, &mut layer); // features
    field_varint(5, 4096, &mut layer); // extent

    let mut tile = Vec::new();
    field_bytes(3, &layer, &mut tile); // layers
    tile
}

fn vector_archive() -> (tempfile::TempDir, PathBuf, Vec<u8>) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("water.pmtiles");
    let mvt = water_mvt();
    let mut writer = PmTilesWriter::new(TileType::Mvt)
        .tile_compression(Compression::Gzip)
        .min_zoom(5)
        .max_zoom(5)
        .bounds(64.6, 56.9, 65.9, 57.4)
        .metadata(
            r#"{"attribution":"Protomaps © OSM","vector_layers":[{"id":"water","fields":{}}]}"#,
        )
        .create(File::create(&path).unwrap())
        .unwrap();
    writer.add_tile(coord(5, 21, 9), &mvt).unwrap();
    writer.finalize().unwrap();
    (dir, path, mvt)
}

#[test]
fn vector_tile_comes_back_as_the_raw_protobuf() {
    let (_dir, path, mvt) = vector_archive();
    // The archive really stores the tile gzip-compressed.
    let stored = std::fs::read(&path).unwrap();
    assert_eq!(
        stored[98],
        Compression::Gzip as u8,
        "header's tile compression"
    );

    let source = open_path(&path, false).unwrap();
    let info = source.info();
    assert_eq!(info.format, TileFormat::Mvt);
    assert_eq!(info.tile_size_px, 512);
    assert_eq!(info.name, "water");
    assert_eq!(info.attribution, "Protomaps © OSM");
    assert_eq!((info.min_zoom, info.max_zoom), (5, 5));

    let bytes = source.tile(TileKey::new(5, 21, 9)).unwrap().unwrap();
    assert_eq!(bytes[0], 0x1A);
    assert_eq!(bytes, mvt);
    assert!(source.tile(TileKey::new(5, 21, 10)).unwrap().is_none());
}

#[test]
fn vector_tile_decodes_in_walkers() {
    let (_dir, path, _) = vector_archive();
    let source = open_path(&path, false).unwrap();
    let bytes = source.tile(TileKey::new(5, 21, 9)).unwrap().unwrap();

    let style: walkers::Style = serde_json::from_str(
        r##"{"layers":[{"type":"fill","source-layer":"water","paint":{"fill-color":"#3050e0"}}]}"##,
    )
    .unwrap();
    let tile = walkers::Tile::new(&bytes, &style, 5, 512, &egui::Context::default()).unwrap();
    let walkers::Tile::Vector { drawables, .. } = tile else {
        panic!("decoded as a raster image");
    };
    let filled = drawables
        .iter()
        .filter(|drawable| matches!(drawable, walkers::Drawable::Fill(mesh) if !mesh.is_empty()))
        .count();
    assert_eq!(filled, 1, "the water polygon is one filled mesh");

    // The bundled light basemap style takes the same tile without error.
    let light = walkers::Style::protomaps_basemap_light();
    assert!(walkers::Tile::new(&bytes, &light, 5, 512, &egui::Context::default()).is_ok());
}

// --- Damaged, foreign and unsupported files -----------------------------------------------------

fn assert_error_names_file(error: &TileError, path: &Path) {
    let message = error.to_string();
    assert!(
        message.contains(&path.display().to_string()),
        "error does not name the file: {message}"
    );
}

#[test]
fn truncated_archive_is_an_error_naming_the_file() {
    let (dir, path) = raster_archive();
    let whole = std::fs::read(&path).unwrap();
    // Cut inside the header, inside the reserved header+root area, and inside the tile data.
    for len in [60, 126, 127, 300, whole.len() / 2, whole.len() - 1] {
        let cut = dir.path().join(format!("cut-{len}.pmtiles"));
        std::fs::write(&cut, &whole[..len]).unwrap();
        let error = open_path(&cut, false)
            .err()
            .expect("truncated archive opened");
        assert!(matches!(error, TileError::Corrupt { .. }), "{len}: {error}");
        assert_error_names_file(&error, &cut);
    }
    let empty = dir.path().join("empty.pmtiles");
    std::fs::write(&empty, b"").unwrap();
    let error = open_path(&empty, false).err().unwrap();
    assert_error_names_file(&error, &empty);
}

#[test]
fn text_file_named_pmtiles_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.pmtiles");
    let mut file = File::create(&path).unwrap();
    writeln!(
        file,
        "This is not a tile archive, just some notes.\n{}",
        "x".repeat(20_000)
    )
    .unwrap();
    drop(file);
    let error = open_path(&path, false).err().expect("text file opened");
    assert!(matches!(error, TileError::Corrupt { .. }), "{error}");
    assert_error_names_file(&error, &path);

    let missing = dir.path().join("missing.pmtiles");
    let error = open_path(&missing, false).err().unwrap();
    assert!(matches!(error, TileError::Io { .. }), "{error}");
    assert_error_names_file(&error, &missing);
}

/// Stores tiles as they are while the header claims another compression.
struct Claims(Compression);

impl Compressor for Claims {
    fn compression(&self) -> Compression {
        self.0
    }

    fn compress(
        &self,
        f: &mut dyn FnMut(&mut dyn Write) -> std::io::Result<()>,
        writer: &mut dyn Write,
    ) -> PmtResult<()> {
        f(writer)?;
        Ok(())
    }
}

#[test]
fn brotli_or_zstd_tiles_are_unsupported() {
    let dir = tempfile::tempdir().unwrap();
    for compression in [Compression::Brotli, Compression::Zstd] {
        let path = dir.path().join(format!("{compression:?}.pmtiles"));
        let mut writer = PmTilesWriter::new(TileType::Png)
            .tile_codec(Claims(compression))
            .create(File::create(&path).unwrap())
            .unwrap();
        writer.add_tile(coord(0, 0, 0), &solid_png(RED)).unwrap();
        writer.finalize().unwrap();
        let error = open_path(&path, false).err().expect("opened");
        assert!(matches!(error, TileError::Unsupported { .. }), "{error}");
        assert_error_names_file(&error, &path);
    }
}

#[test]
fn unstated_tile_type_is_sniffed_and_unknown_compression_passed_through() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("unknown.pmtiles");
    let mut writer = PmTilesWriter::new(TileType::Unknown)
        .tile_codec(Claims(Compression::Unknown))
        .min_zoom(2)
        .max_zoom(2)
        .center(65.5, 57.15)
        .create(File::create(&path).unwrap())
        .unwrap();
    // The tile at z=2 that holds the centre (65.5 E, 57.15 N).
    writer.add_tile(coord(2, 2, 1), &solid_png(GREEN)).unwrap();
    writer.finalize().unwrap();
    let source = open_path(&path, false).unwrap();
    assert_eq!(source.info().format, TileFormat::Png);
    let bytes = source.tile(TileKey::new(2, 2, 1)).unwrap().unwrap();
    assert_eq!(png_pixel(&bytes, 3, 3), GREEN);
}

#[test]
fn every_damaged_header_or_root_byte_gives_a_value_or_an_error() {
    let (dir, path) = raster_archive();
    let whole = std::fs::read(&path).unwrap();
    let root_end = {
        let field = |at: usize| u64::from_le_bytes(whole[at..at + 8].try_into().unwrap()) as usize;
        field(8) + field(16)
    };
    let damaged = dir.path().join("damaged.pmtiles");
    for at in 0..root_end {
        let mut bytes = whole.clone();
        bytes[at] ^= 0xFF;
        std::fs::write(&damaged, &bytes).unwrap();
        // Either outcome is fine; a panic (or abort) fails the test.
        if let Ok(source) = open_path(&damaged, false) {
            for key in [
                TileKey::new(3, 5, 2),
                TileKey::new(4, 11, 5),
                TileKey::new(0, 0, 0),
            ] {
                if let Err(error) = source.tile(key) {
                    assert_error_names_file(&error, &damaged);
                }
            }
        }
    }
}

fn key_of_id(id: u64) -> TileKey {
    let coord = TileCoord::from(TileId::new(id).unwrap());
    TileKey::new(coord.z(), coord.x(), coord.y())
}

/// 5000 distinct tiles with uncompressed directories: too many entries for the root, so the
/// writer puts them in two leaf directories.
fn leaf_archive(path: &Path) {
    let mut writer = PmTilesWriter::new(TileType::Png)
        .internal_compression(Compression::None)
        .create(File::create(path).unwrap())
        .unwrap();
    for id in 0..5000u64 {
        let coord = TileCoord::from(TileId::new(id).unwrap());
        writer
            .add_tile(coord, format!("tile {id}").as_bytes())
            .unwrap();
    }
    writer.finalize().unwrap();
}

fn header_u64(bytes: &[u8], at: usize) -> usize {
    u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap()) as usize
}

#[test]
fn leaf_directories_are_followed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("leaves.pmtiles");
    leaf_archive(&path);
    let whole = std::fs::read(&path).unwrap();
    assert!(
        header_u64(&whole, 48) > 0,
        "the fixture has leaf directories"
    );

    let source = open_path(&path, false).unwrap();
    for id in [0u64, 1, 4095, 4096, 4999] {
        let bytes = source.tile(key_of_id(id)).unwrap().unwrap();
        assert_eq!(bytes, format!("tile {id}").as_bytes());
    }
    assert!(source.tile(key_of_id(5000)).unwrap().is_none());
}

#[test]
fn directory_claiming_too_many_entries_is_an_error_not_an_abort() {
    // The crate allocates a directory's entries before reading them: a damaged count in an
    // uncompressed directory would otherwise ask for ~100 GB and abort the process.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("leaves.pmtiles");
    leaf_archive(&path);
    let whole = std::fs::read(&path).unwrap();
    let huge_count = [0xFF, 0xFF, 0xFF, 0xFF, 0x0F];

    let damaged = dir.path().join("damaged-root.pmtiles");
    let mut bytes = whole.clone();
    let root_offset = header_u64(&whole, 8);
    bytes[root_offset..root_offset + huge_count.len()].copy_from_slice(&huge_count);
    std::fs::write(&damaged, &bytes).unwrap();
    let error = open_path(&damaged, false)
        .err()
        .expect("damaged root opened");
    assert!(matches!(error, TileError::Corrupt { .. }), "{error}");
    assert_error_names_file(&error, &damaged);

    let damaged = dir.path().join("damaged-leaf.pmtiles");
    let mut bytes = whole;
    let leaf_offset = header_u64(&bytes, 40);
    bytes[leaf_offset..leaf_offset + huge_count.len()].copy_from_slice(&huge_count);
    std::fs::write(&damaged, &bytes).unwrap();
    // The root is intact; the first leaf (tiles 0..4096) is not, the second still reads.
    let source = open_path(&damaged, false).unwrap();
    let error = source.tile(key_of_id(10)).unwrap_err();
    assert!(matches!(error, TileError::Corrupt { .. }), "{error}");
    assert_error_names_file(&error, &damaged);
    assert_eq!(source.tile(key_of_id(4500)).unwrap().unwrap(), b"tile 4500");
}
