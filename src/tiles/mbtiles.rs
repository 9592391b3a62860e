//! MBTiles reader: an SQLite file with a `tiles` table or view (`zoom_level, tile_column,
//! tile_row, tile_data`, rows in TMS order) and a `metadata` table of name/value pairs, as laid
//! down by the MBTiles 1.3 specification
//! (<https://github.com/mapbox/mbtiles-spec/blob/master/1.3/spec.md>).
//!
//! The file is opened strictly read-only (`SQLITE_OPEN_READ_ONLY`) and never modified. Also owns
//! [`tile_edge_px`], the pixel edge of a raster tile read from its header, and
//! [`format_from_name`], the format a name or extension states, which the directory and HTTP
//! readers share.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};

use rusqlite::types::ValueRef;
use rusqlite::{Connection, ErrorCode, OpenFlags, OptionalExtension};

use super::{BoundsLonLat, SourceInfo, SourceKind, TileError, TileFormat, TileKey, TileSource};

/// Connections kept open on one file: as many as the source asks requests of at once.
const POOL_SIZE: usize = 2;

/// Columns the `tiles` table or view must have.
const TILE_COLUMNS: [&str; 4] = ["zoom_level", "tile_column", "tile_row", "tile_data"];

/// An open MBTiles file.
pub struct MbTiles {
    path: PathBuf,
    info: SourceInfo,
    /// Read-only connections; a request takes whichever is free.
    pool: Vec<Mutex<Connection>>,
    /// Which connection a request waits for when all are busy.
    next: AtomicUsize,
}

impl std::fmt::Debug for MbTiles {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MbTiles")
            .field("path", &self.path)
            .field("info", &self.info)
            .finish_non_exhaustive()
    }
}

impl MbTiles {
    /// Opens `path` read-only, checks its `tiles` table and reads its metadata. Missing
    /// `minzoom`/`maxzoom` are taken from the tiles themselves, a missing `format` from the
    /// first tile's bytes.
    ///
    /// # Errors
    /// [`TileError`] naming the file: [`TileError::Io`] when it is not there,
    /// [`TileError::Corrupt`] when it is not an SQLite database (or a damaged one) or holds no
    /// tiles, [`TileError::Unsupported`] when it has no `tiles` table with the MBTiles columns.
    pub fn open(path: &Path) -> Result<Self, TileError> {
        // Tell a missing file from a damaged one before SQLite reports both as "cannot open".
        let meta = std::fs::metadata(path).map_err(|source| TileError::Io {
            path: path.to_owned(),
            source,
        })?;
        if !meta.is_file() {
            return Err(TileError::Unsupported {
                path: path.to_owned(),
                detail: "not a file".into(),
            });
        }
        let conn = open_connection(path)?;
        check_tiles_table(&conn, path)?;
        let info = read_info(&conn, path)?;
        let mut pool = vec![Mutex::new(conn)];
        for _ in 1..POOL_SIZE {
            pool.push(Mutex::new(open_connection(path)?));
        }
        Ok(Self {
            path: path.to_owned(),
            info,
            pool,
            next: AtomicUsize::new(0),
        })
    }

    /// The file this source reads.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A free connection, or the next one in turn when all are busy.
    fn connection(&self) -> MutexGuard<'_, Connection> {
        for slot in &self.pool {
            if let Ok(guard) = slot.try_lock() {
                return guard;
            }
        }
        let index = self.next.fetch_add(1, Ordering::Relaxed) % self.pool.len();
        // A panic in another reader cannot leave a connection half-changed: it only reads.
        self.pool[index]
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl TileSource for MbTiles {
    fn info(&self) -> &SourceInfo {
        &self.info
    }

    fn tile(&self, key: TileKey) -> Result<Option<Vec<u8>>, TileError> {
        if !key.is_valid() {
            return Ok(None);
        }
        let conn = self.connection();
        let mut stmt = conn
            .prepare_cached(
                "SELECT tile_data FROM tiles \
                 WHERE zoom_level = ?1 AND tile_column = ?2 AND tile_row = ?3 LIMIT 1",
            )
            .map_err(|e| sqlite_error(&self.path, e))?;
        stmt.query_row((key.z, key.x, key.tms_y()), |row| {
            Ok(blob_or_text(row.get_ref(0)?))
        })
        .optional()
        .map(Option::flatten)
        .map_err(|e| sqlite_error(&self.path, e))
    }

    fn max_parallel(&self) -> usize {
        POOL_SIZE
    }
}

fn open_connection(path: &Path) -> Result<Connection, TileError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    Connection::open_with_flags(path, flags).map_err(|e| sqlite_error(path, e))
}

/// An SQLite failure as a [`TileError`]: "not a database" and "malformed" are [`Corrupt`]
/// (the file is damaged or is something else), the rest stays [`TileError::Sqlite`].
///
/// [`Corrupt`]: TileError::Corrupt
fn sqlite_error(path: &Path, error: rusqlite::Error) -> TileError {
    match error.sqlite_error_code() {
        Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt) => TileError::Corrupt {
            path: path.to_owned(),
            detail: format!("not a readable MBTiles (SQLite) file: {error}"),
        },
        _ => TileError::Sqlite {
            path: path.to_owned(),
            source: error,
        },
    }
}

/// The stored bytes of a `tile_data` cell (`None` for NULL or a number).
fn blob_or_text(value: ValueRef<'_>) -> Option<Vec<u8>> {
    match value {
        ValueRef::Blob(bytes) | ValueRef::Text(bytes) => Some(bytes.to_vec()),
        ValueRef::Null | ValueRef::Integer(_) | ValueRef::Real(_) => None,
    }
}

/// Text of a metadata value, whatever type SQLite stored it as.
fn value_text(value: ValueRef<'_>) -> Option<String> {
    match value {
        ValueRef::Text(bytes) | ValueRef::Blob(bytes) => {
            Some(String::from_utf8_lossy(bytes).trim().to_owned())
        }
        ValueRef::Integer(i) => Some(i.to_string()),
        ValueRef::Real(r) => Some(r.to_string()),
        ValueRef::Null => None,
    }
}

/// Checks that a `tiles` table or view exists with the four MBTiles columns.
fn check_tiles_table(conn: &Connection, path: &Path) -> Result<(), TileError> {
    let objects: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type IN ('table', 'view') ORDER BY name")
        .and_then(|mut stmt| {
            stmt.query_map([], |row| row.get::<_, String>(0))?
                .collect::<Result<Vec<_>, _>>()
        })
        .map_err(|e| sqlite_error(path, e))?;
    if !objects.iter().any(|name| name == "tiles") {
        return Err(TileError::Unsupported {
            path: path.to_owned(),
            detail: format!(
                "no `tiles` table or view, so not an MBTiles file (tables: {})",
                if objects.is_empty() {
                    "none".to_owned()
                } else {
                    objects.join(", ")
                }
            ),
        });
    }
    let columns: Vec<String> = conn
        .prepare("SELECT name FROM pragma_table_info('tiles')")
        .and_then(|mut stmt| {
            stmt.query_map([], |row| row.get::<_, String>(0))?
                .collect::<Result<Vec<_>, _>>()
        })
        .map_err(|e| sqlite_error(path, e))?;
    let missing: Vec<&str> = TILE_COLUMNS
        .iter()
        .copied()
        .filter(|wanted| !columns.iter().any(|c| c.eq_ignore_ascii_case(wanted)))
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(TileError::Unsupported {
            path: path.to_owned(),
            detail: format!(
                "the `tiles` table lacks the MBTiles column(s) {}",
                missing.join(", ")
            ),
        })
    }
}

/// The `metadata` table as name/value pairs (empty when the file has none).
fn read_metadata(conn: &Connection, path: &Path) -> Result<Vec<(String, String)>, TileError> {
    let has_metadata: bool = conn
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE type IN ('table', 'view') AND name = 'metadata'",
            [],
            |row| row.get::<_, i64>(0),
        )
        .map(|n| n > 0)
        .map_err(|e| sqlite_error(path, e))?;
    if !has_metadata {
        return Ok(Vec::new());
    }
    conn.prepare("SELECT name, value FROM metadata")
        .and_then(|mut stmt| {
            stmt.query_map([], |row| {
                Ok((
                    value_text(row.get_ref(0)?).unwrap_or_default(),
                    value_text(row.get_ref(1)?),
                ))
            })?
            .filter_map(|r| match r {
                Ok((name, Some(value))) => Some(Ok((name.to_ascii_lowercase(), value))),
                Ok((_, None)) => None,
                Err(e) => Some(Err(e)),
            })
            .collect::<Result<Vec<_>, _>>()
        })
        .map_err(|e| sqlite_error(path, e))
}

fn read_info(conn: &Connection, path: &Path) -> Result<SourceInfo, TileError> {
    let metadata = read_metadata(conn, path)?;
    let get = |name: &str| {
        metadata
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    };
    let zoom = |name: &str| {
        get(name)
            .and_then(|v| v.parse::<u8>().ok())
            .filter(|z| *z < 32)
    };

    let (min_zoom, max_zoom) = match (zoom("minzoom"), zoom("maxzoom")) {
        (Some(min), Some(max)) if min <= max => (min, max),
        (stated_min, stated_max) => {
            let (tiles_min, tiles_max) = zoom_range_of_tiles(conn, path)?;
            let min = stated_min.unwrap_or(tiles_min);
            let max = stated_max.unwrap_or(tiles_max);
            if min <= max {
                (min, max)
            } else {
                (tiles_min, tiles_max)
            }
        }
    };

    // One tile tells the format when the metadata does not, and the tile edge in any case.
    let first_tile: Option<Vec<u8>> = conn
        .query_row("SELECT tile_data FROM tiles LIMIT 1", [], |row| {
            Ok(blob_or_text(row.get_ref(0)?))
        })
        .optional()
        .map(Option::flatten)
        .map_err(|e| sqlite_error(path, e))?;
    let format = get("format")
        .and_then(format_from_name)
        .or_else(|| first_tile.as_deref().map(TileFormat::sniff))
        .unwrap_or(TileFormat::Unknown);
    let tile_size_px = first_tile.as_deref().and_then(tile_edge_px).unwrap_or(256);

    let name = get("name").map(str::to_owned).unwrap_or_else(|| {
        path.file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default()
    });
    Ok(SourceInfo {
        name,
        kind: SourceKind::MbTiles,
        min_zoom,
        max_zoom,
        bounds: get("bounds").and_then(parse_bounds),
        attribution: get("attribution").unwrap_or_default().to_owned(),
        format,
        tile_size_px,
    })
}

/// The shallowest and deepest zoom levels present in `tiles`.
fn zoom_range_of_tiles(conn: &Connection, path: &Path) -> Result<(u8, u8), TileError> {
    let (min, max): (Option<i64>, Option<i64>) = conn
        .query_row(
            "SELECT min(zoom_level), max(zoom_level) FROM tiles",
            [],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .map_err(|e| sqlite_error(path, e))?;
    let as_zoom = |z: i64| u8::try_from(z).ok().filter(|z| *z < 32);
    match (min.and_then(as_zoom), max.and_then(as_zoom)) {
        (Some(min), Some(max)) => Ok((min, max)),
        _ if min.is_none() => Err(TileError::Corrupt {
            path: path.to_owned(),
            detail: "the `tiles` table is empty and the metadata states no zoom range".into(),
        }),
        _ => Err(TileError::Corrupt {
            path: path.to_owned(),
            detail: format!(
                "zoom levels {}..{} are outside 0..31",
                min.unwrap_or_default(),
                max.unwrap_or_default()
            ),
        }),
    }
}

/// The tile format named by the metadata's `format` or a file's extension (`png`, `jpg`,
/// `webp`, `pbf`, `mvt`, or a MIME type).
pub(crate) fn format_from_name(name: &str) -> Option<TileFormat> {
    match name.trim().to_ascii_lowercase().as_str() {
        "png" | "image/png" => Some(TileFormat::Png),
        "jpg" | "jpeg" | "image/jpeg" => Some(TileFormat::Jpeg),
        "webp" | "image/webp" => Some(TileFormat::Webp),
        "pbf" | "mvt" | "application/x-protobuf" | "application/vnd.mapbox-vector-tile" => {
            Some(TileFormat::Mvt)
        }
        _ => None,
    }
}

/// `"west,south,east,north"` in degrees; `None` when it is not four numbers inside the world.
pub(crate) fn parse_bounds(text: &str) -> Option<BoundsLonLat> {
    let numbers: Vec<f64> = text
        .split(',')
        .map(|part| part.trim().parse::<f64>())
        .collect::<Result<_, _>>()
        .ok()?;
    let [west_lon, south_lat, east_lon, north_lat] = numbers[..] else {
        return None;
    };
    let lon_ok = |lon: f64| (-180.0..=180.0).contains(&lon);
    let lat_ok = |lat: f64| (-90.0..=90.0).contains(&lat);
    if !(lon_ok(west_lon) && lon_ok(east_lon) && lat_ok(south_lat) && lat_ok(north_lat))
        || south_lat > north_lat
    {
        return None;
    }
    Some(BoundsLonLat {
        west_lon,
        south_lat,
        east_lon,
        north_lat,
    })
}

/// Edge in pixels of a square raster tile, read from its PNG, JPEG or WebP header; `None` for
/// other bytes, a header too short to tell, or a tile that is not square with a power-of-two
/// edge between 64 and 1024 px.
pub fn tile_edge_px(bytes: &[u8]) -> Option<u32> {
    let (width_px, height_px) = match TileFormat::sniff(bytes) {
        TileFormat::Png => png_size_px(bytes)?,
        TileFormat::Jpeg => jpeg_size_px(bytes)?,
        TileFormat::Webp => webp_size_px(bytes)?,
        TileFormat::Mvt | TileFormat::Unknown => return None,
    };
    (width_px == height_px && width_px.is_power_of_two() && (64..=1024).contains(&width_px))
        .then_some(width_px)
}

fn be_u16(bytes: &[u8], at: usize) -> Option<u32> {
    let b = bytes.get(at..at + 2)?;
    Some(u32::from(u16::from_be_bytes([b[0], b[1]])))
}

fn le_u24(bytes: &[u8], at: usize) -> Option<u32> {
    let b = bytes.get(at..at + 3)?;
    Some(u32::from_le_bytes([b[0], b[1], b[2], 0]))
}

/// Width and height from the IHDR chunk, which must come first.
fn png_size_px(bytes: &[u8]) -> Option<(u32, u32)> {
    if bytes.get(12..16)? != b"IHDR" {
        return None;
    }
    let word = |at: usize| -> Option<u32> {
        let b = bytes.get(at..at + 4)?;
        Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    };
    Some((word(16)?, word(20)?))
}

/// Width and height from the first start-of-frame segment.
fn jpeg_size_px(bytes: &[u8]) -> Option<(u32, u32)> {
    let mut at = 2;
    loop {
        // Markers may be preceded by fill bytes 0xFF.
        while *bytes.get(at)? == 0xFF && *bytes.get(at + 1)? == 0xFF {
            at += 1;
        }
        if *bytes.get(at)? != 0xFF {
            return None;
        }
        let marker = *bytes.get(at + 1)?;
        match marker {
            // Stand-alone markers carry no length.
            0x01 | 0xD0..=0xD8 => at += 2,
            0xD9 | 0xDA => return None,
            0xC0..=0xCF if !matches!(marker, 0xC4 | 0xC8 | 0xCC) => {
                let height_px = be_u16(bytes, at + 5)?;
                let width_px = be_u16(bytes, at + 7)?;
                return Some((width_px, height_px));
            }
            _ => at += 2 + usize::try_from(be_u16(bytes, at + 2)?).ok()?,
        }
    }
}

/// Width and height from the first chunk of a WebP (lossy `VP8 `, lossless `VP8L`, or the
/// extended `VP8X` canvas).
fn webp_size_px(bytes: &[u8]) -> Option<(u32, u32)> {
    let chunk = bytes.get(12..16)?;
    let data = 20;
    match chunk {
        b"VP8 " => {
            if bytes.get(data + 3..data + 6)? != [0x9D, 0x01, 0x2A] {
                return None;
            }
            let dim = |at: usize| -> Option<u32> {
                let b = bytes.get(at..at + 2)?;
                Some(u32::from(u16::from_le_bytes([b[0], b[1]]) & 0x3FFF))
            };
            Some((dim(data + 6)?, dim(data + 8)?))
        }
        b"VP8L" => {
            if *bytes.get(data)? != 0x2F {
                return None;
            }
            let b = bytes.get(data + 1..data + 5)?;
            let bits = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
            Some(((bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1))
        }
        b"VP8X" => Some((le_u24(bytes, data + 4)? + 1, le_u24(bytes, data + 7)? + 1)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_parse_four_numbers_in_the_world_only() {
        let b = parse_bounds(" 30.5, 55.1,40,60.25 ").expect("valid bounds");
        assert_eq!(
            (b.west_lon, b.south_lat, b.east_lon, b.north_lat),
            (30.5, 55.1, 40.0, 60.25)
        );
        assert!(parse_bounds("30,55,40").is_none());
        assert!(parse_bounds("30,55,40,x").is_none());
        assert!(parse_bounds("30,60,40,55").is_none(), "south above north");
        assert!(parse_bounds("-200,55,40,60").is_none());
    }

    #[test]
    fn format_names_of_the_spec_and_mime_types() {
        assert_eq!(format_from_name("PNG"), Some(TileFormat::Png));
        assert_eq!(format_from_name("jpg"), Some(TileFormat::Jpeg));
        assert_eq!(format_from_name("webp"), Some(TileFormat::Webp));
        assert_eq!(format_from_name("pbf"), Some(TileFormat::Mvt));
        assert_eq!(format_from_name("tiff"), None);
    }

    #[test]
    fn tile_edge_from_jpeg_and_webp_headers() {
        // SOI, an APP0 segment of length 4, then SOF0 with height 512, width 512.
        let jpeg = [
            0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x04, 0x00, 0x00, 0xFF, 0xC0, 0x00, 0x11, 0x08, 0x02,
            0x00, 0x02, 0x00, 0x03,
        ];
        assert_eq!(tile_edge_px(&jpeg), Some(512));
        let mut webp = b"RIFF\0\0\0\0WEBPVP8X\x0a\0\0\0\0\0\0\0".to_vec();
        webp.extend_from_slice(&[0xFF, 0x00, 0x00, 0xFF, 0x00, 0x00]);
        assert_eq!(tile_edge_px(&webp), Some(256));
        assert_eq!(tile_edge_px(&[0xFF, 0xD8, 0xFF]), None, "truncated header");
        assert_eq!(tile_edge_px(b"garbage"), None);
    }
}
