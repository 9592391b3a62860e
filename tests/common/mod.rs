//! Fixtures shared by the integration tests: generated demo databases and hand-made ones.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub mod pg;
pub mod ui;

use std::path::{Path, PathBuf};

use teplokarta::data::{CREATE_APPEALS_SQL, DemoConfig, generate_demo};

/// A demo database of `rows` appeals in a fresh temporary directory.
pub fn demo_db(rows: usize, seed: u64) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("demo.sqlite");
    generate_demo(
        &DemoConfig {
            rows,
            seed,
            ..DemoConfig::default()
        },
        &path,
    )
    .unwrap();
    (dir, path)
}

/// A database made by running `sql` on a new file.
pub fn db_from_sql(sql: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("test.sqlite");
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch(sql).unwrap();
    (dir, path)
}

/// A database with the contract's table and the given `INSERT` statements.
pub fn contract_db(inserts: &str) -> (tempfile::TempDir, PathBuf) {
    db_from_sql(&format!("{CREATE_APPEALS_SQL}\n{inserts}"))
}

/// Bytes of a file, to prove it was not modified.
pub fn file_bytes(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap()
}

/// `GROUP BY` counts from SQL as sorted (keys, count) rows; NULL keys become "".
pub fn sql_group_counts(path: &Path, sql: &str, params: &[&str]) -> Vec<(Vec<String>, u64)> {
    let conn =
        rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .unwrap();
    let mut stmt = conn.prepare(sql).unwrap();
    let columns = stmt.column_count();
    let mut rows: Vec<(Vec<String>, u64)> = stmt
        .query_map(rusqlite::params_from_iter(params.iter()), |row| {
            let keys = (0..columns - 1)
                .map(|i| {
                    row.get::<_, Option<String>>(i)
                        .map(|v| v.unwrap_or_default())
                })
                .collect::<Result<Vec<_>, _>>()?;
            Ok((keys, row.get::<_, i64>(columns - 1)? as u64))
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    rows.sort();
    rows
}

/// A 256×256 RGB PNG of one colour, as a solid basemap tile.
pub fn solid_png(rgb: [u8; 3]) -> Vec<u8> {
    let mut bytes = Vec::new();
    let mut encoder = png::Encoder::new(&mut bytes, 256, 256);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().unwrap();
    let pixels: Vec<u8> = std::iter::repeat_n(rgb, 256 * 256).flatten().collect();
    writer.write_image_data(&pixels).unwrap();
    writer.finish().unwrap();
    bytes
}

/// Runs a `teplokarta` command line (without the program name) and returns its output or error.
pub fn run_cli(args: &[&str]) -> anyhow::Result<String> {
    use clap::Parser as _;
    let cli = teplokarta::cli::Cli::try_parse_from(
        std::iter::once("teplokarta").chain(args.iter().copied()),
    )?;
    let mut out = Vec::new();
    teplokarta::cli::run(cli.command.as_ref().expect("a subcommand"), &mut out)?;
    Ok(String::from_utf8(out)?)
}

/// Runs `teplokarta export db --out out` with extra arguments.
pub fn run_export(db: &Path, out: &Path, extra: &[&str]) -> anyhow::Result<String> {
    let mut args = vec![
        "export",
        db.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    run_cli(&args)
}

/// Writes an MBTiles file: metadata rows as given, then the tiles with TMS rows.
pub fn write_mbtiles(
    path: &Path,
    metadata: &[(&str, &str)],
    tiles: &[(teplokarta::tiles::TileKey, Vec<u8>)],
) {
    let conn = rusqlite::Connection::open(path).expect("create mbtiles");
    conn.execute_batch(
        "CREATE TABLE metadata (name TEXT, value TEXT);
         CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER,
                             tile_data BLOB);
         CREATE UNIQUE INDEX tile_index ON tiles (zoom_level, tile_column, tile_row);",
    )
    .expect("schema");
    for (name, value) in metadata {
        conn.execute("INSERT INTO metadata VALUES (?1, ?2)", (name, value))
            .expect("metadata row");
    }
    for (key, bytes) in tiles {
        conn.execute(
            "INSERT INTO tiles VALUES (?1, ?2, ?3, ?4)",
            (key.z, key.x, key.tms_y(), bytes),
        )
        .expect("tile row");
    }
}

/// Writes `bytes` to the file `name` in `dir` and returns its path.
pub fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// `text` in `encoding`, failing when a character has no code there.
pub fn encode(text: &str, encoding: &'static encoding_rs::Encoding) -> Vec<u8> {
    let (bytes, _, unmappable) = encoding.encode(text);
    assert!(!unmappable, "{text:?} not encodable in {}", encoding.name());
    bytes.into_owned()
}

/// The detected encoding, BOM and delimiter of a CSV input, failing for any other kind.
pub fn csv_kind(kind: &teplokarta::data::import::read::SourceKind) -> (&'static str, bool, u8) {
    match kind {
        teplokarta::data::import::read::SourceKind::Csv {
            encoding,
            bom,
            delimiter,
        } => (*encoding, *bom, *delimiter),
        other => panic!("not CSV: {other:?}"),
    }
}
