//! PMTiles archives (version 3) as a basemap source: opening and checking the file, what it
//! covers (header and metadata JSON), and the bytes of one tile, decompressed of the archive's
//! tile compression so that a raster tile is a plain PNG/JPEG/WebP and a vector tile a raw MVT
//! protobuf.
//!
//! The `pmtiles` crate's reader is asynchronous; this source drives it with `block_on` on a small
//! current-thread tokio runtime of its own, so worker threads can call it with blocking calls.
//! The file is read with positional reads (not memory-mapped): a file truncated or replaced
//! while open gives a read error instead of a `SIGBUS`.

use std::fs::File;
use std::future::Future;
use std::io;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use pmtiles::{
    AsyncBackend, AsyncPmTilesReader, BackendResponse, Compression, PmtError, PmtResult, TileCoord,
    TileType,
};

use super::{BoundsLonLat, SourceInfo, SourceKind, TileError, TileFormat, TileKey, TileSource};
use crate::spatial::projection::mercator_unit_from_lon_lat;

/// Length of a PMTiles v3 header in bytes.
const HEADER_LEN_BYTES: u64 = 127;
/// The header and root directory must lie within the first 16 KiB (PMTiles v3 spec).
const MAX_INITIAL_BYTES: u64 = 16_384;
const MAGIC: &[u8] = b"PMTiles";

/// A PMTiles v3 archive on disk.
pub struct PmTilesSource {
    path: PathBuf,
    info: SourceInfo,
    /// Tile compression as stated by the header (`None`, `Gzip` or `Unknown`: passed through).
    tile_compression: Compression,
    reader: AsyncPmTilesReader<FileBackend>,
    runtime: tokio::runtime::Runtime,
}

impl PmTilesSource {
    /// Opens an archive, checks its header against the file's length and reads its metadata.
    ///
    /// # Errors
    /// [`TileError`] naming the file: [`TileError::Io`] when it cannot be read,
    /// [`TileError::Corrupt`] when it is not a PMTiles archive or is truncated,
    /// [`TileError::Unsupported`] for PMTiles v2, brotli/zstd compression, or AVIF/MLT tiles.
    pub fn open(path: &Path) -> Result<Self, TileError> {
        let io_error = |source: io::Error| TileError::Io {
            path: path.to_owned(),
            source,
        };
        let file = File::open(path).map_err(io_error)?;
        let file_len_bytes = file.metadata().map_err(io_error)?.len();
        let mut backend = FileBackend {
            file,
            file_len_bytes,
            raw_directories: None,
        };
        backend.raw_directories = check_layout(path, &backend)?;

        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .map_err(io_error)?;
        let reader = run_guarded(path, &runtime, AsyncPmTilesReader::try_from_source(backend))?;
        let header = reader.get_header();
        let tile_compression = header.tile_compression;
        if matches!(tile_compression, Compression::Brotli | Compression::Zstd) {
            return Err(TileError::Unsupported {
                path: path.to_owned(),
                detail: format!(
                    "tiles are {tile_compression:?}-compressed; only gzip or uncompressed tiles \
                     can be read"
                ),
            });
        }
        if header.min_zoom > header.max_zoom {
            return Err(TileError::Corrupt {
                path: path.to_owned(),
                detail: format!(
                    "the header's zoom range {}..{} is inverted",
                    header.min_zoom, header.max_zoom
                ),
            });
        }
        let stated_format = match header.tile_type {
            TileType::Png => Some(TileFormat::Png),
            TileType::Jpeg => Some(TileFormat::Jpeg),
            TileType::Webp => Some(TileFormat::Webp),
            TileType::Mvt => Some(TileFormat::Mvt),
            TileType::Unknown => None,
            other @ (TileType::Avif | TileType::Mlt) => {
                return Err(TileError::Unsupported {
                    path: path.to_owned(),
                    detail: format!("{} tiles cannot be drawn", other.content_type()),
                });
            }
        };
        let bounds = bounds_of(
            header.min_longitude,
            header.min_latitude,
            header.max_longitude,
            header.max_latitude,
        );
        let (min_zoom, max_zoom) = (header.min_zoom, header.max_zoom);
        let center_lon_lat = (header.center_longitude, header.center_latitude);

        let metadata = match run_guarded(path, &runtime, reader.get_metadata()) {
            Ok(text) => parse_metadata(path, &text),
            // Metadata that is not UTF-8 is only a lack of a name and attribution.
            Err(TileError::Corrupt { detail, .. }) => {
                log::warn!("{}: metadata unreadable: {detail}", path.display());
                serde_json::Map::new()
            }
            Err(other) => return Err(other),
        };
        let text_field = |key: &str| {
            metadata
                .get(key)
                .and_then(serde_json::Value::as_str)
                .map(str::trim)
                .filter(|text| !text.is_empty())
                .map(str::to_owned)
        };
        let name = text_field("name").unwrap_or_else(|| {
            path.file_stem()
                .map(|stem| stem.to_string_lossy().into_owned())
                .unwrap_or_default()
        });
        let attribution = text_field("attribution").unwrap_or_default();

        let mut source = Self {
            path: path.to_owned(),
            info: SourceInfo {
                name,
                kind: SourceKind::PmTiles,
                min_zoom,
                max_zoom,
                bounds,
                attribution,
                format: stated_format.unwrap_or(TileFormat::Unknown),
                tile_size_px: 256,
            },
            tile_compression,
            reader,
            runtime,
        };
        if stated_format.is_none() {
            source.info.format = source.sniff_format(center_lon_lat);
        }
        source.info.tile_size_px =
            stated_tile_size_px(&metadata).unwrap_or(if source.info.format == TileFormat::Mvt {
                512
            } else {
                256
            });
        Ok(source)
    }

    /// Format of the tile at the lowest zoom that holds the header's centre (`Unknown` if absent).
    fn sniff_format(&self, (center_lon, center_lat): (f64, f64)) -> TileFormat {
        let key = tile_key_at(center_lon, center_lat, self.info.min_zoom);
        match self.tile(key) {
            Ok(Some(bytes)) => TileFormat::sniff(&bytes),
            Ok(None) => TileFormat::Unknown,
            Err(error) => {
                log::warn!("{error}");
                TileFormat::Unknown
            }
        }
    }
}

impl TileSource for PmTilesSource {
    fn info(&self) -> &SourceInfo {
        &self.info
    }

    fn tile(&self, key: TileKey) -> Result<Option<Vec<u8>>, TileError> {
        let Ok(coord) = TileCoord::new(key.z, key.x, key.y) else {
            return Ok(None);
        };
        let bytes = if matches!(self.tile_compression, Compression::Unknown) {
            // Compression not stated: the bytes are passed on as stored.
            run_guarded(&self.path, &self.runtime, self.reader.get_tile(coord))?
        } else {
            run_guarded(
                &self.path,
                &self.runtime,
                self.reader.get_tile_decompressed(coord),
            )?
        };
        Ok(bytes.map(|bytes| bytes.to_vec()))
    }
}

/// Runs one future of the reader to completion. A panic inside the crate on a damaged
/// directory (its parser does unchecked arithmetic and slicing) becomes [`TileError::Corrupt`].
fn run_guarded<T>(
    path: &Path,
    runtime: &tokio::runtime::Runtime,
    future: impl Future<Output = PmtResult<T>>,
) -> Result<T, TileError> {
    match catch_unwind(AssertUnwindSafe(|| runtime.block_on(future))) {
        Ok(result) => result.map_err(|error| pmt_error(path, error)),
        Err(_) => Err(TileError::Corrupt {
            path: path.to_owned(),
            detail: "damaged PMTiles directory".into(),
        }),
    }
}

fn pmt_error(path: &Path, error: PmtError) -> TileError {
    let path = path.to_owned();
    match error {
        PmtError::UnsupportedCompression(compression) => TileError::Unsupported {
            path,
            detail: format!(
                "{compression:?} compression cannot be read; only gzip or none are supported"
            ),
        },
        PmtError::UnsupportedPmTilesVersion => TileError::Unsupported {
            path,
            detail: "an old PMTiles archive (version 2); only version 3 can be read".into(),
        },
        PmtError::Reading(source)
            if !matches!(
                source.kind(),
                io::ErrorKind::InvalidData | io::ErrorKind::UnexpectedEof
            ) =>
        {
            TileError::Io { path, source }
        }
        PmtError::Reading(source) => TileError::Corrupt {
            path,
            detail: format!("damaged PMTiles data: {source}"),
        },
        PmtError::UnexpectedNumberOfBytesReturned(expected, got) => TileError::Corrupt {
            path,
            detail: format!(
                "truncated PMTiles archive: wanted {expected} bytes, the file has {got}"
            ),
        },
        other => TileError::Corrupt {
            path,
            detail: format!("damaged PMTiles archive: {other}"),
        },
    }
}

/// Checks the magic, the version and that every section the header names lies inside the file,
/// before the crate's reader (which slices without checking) sees it. Returns where the
/// directories lie when they are stored uncompressed (see [`RawDirectories`]).
fn check_layout(path: &Path, backend: &FileBackend) -> Result<Option<RawDirectories>, TileError> {
    let corrupt = |detail: String| TileError::Corrupt {
        path: path.to_owned(),
        detail,
    };
    let head = backend
        .read_at_most(0, HEADER_LEN_BYTES as usize)
        .map_err(|source| TileError::Io {
            path: path.to_owned(),
            source,
        })?;
    if !head.starts_with(MAGIC) {
        return Err(corrupt(
            "not a PMTiles archive (no \"PMTiles\" magic)".into(),
        ));
    }
    if head.len() < HEADER_LEN_BYTES as usize {
        return Err(corrupt(format!(
            "truncated: {} bytes, shorter than the {HEADER_LEN_BYTES}-byte PMTiles header",
            head.len()
        )));
    }
    if head[7] != 3 {
        return Err(TileError::Unsupported {
            path: path.to_owned(),
            detail: format!("PMTiles version {}; only version 3 can be read", head[7]),
        });
    }
    let field = |at: usize| {
        let mut le = [0u8; 8];
        le.copy_from_slice(&head[at..at + 8]);
        u64::from_le_bytes(le)
    };
    let file_len = backend.file_len_bytes;
    let sections = [
        (
            "root directory",
            field(8),
            field(16),
            file_len.min(MAX_INITIAL_BYTES),
        ),
        ("metadata", field(24), field(32), file_len),
        ("leaf directories", field(40), field(48), file_len),
        ("tile data", field(56), field(64), file_len),
    ];
    for (name, offset, length, limit) in sections {
        if length == 0 {
            continue;
        }
        let end = offset.checked_add(length);
        if offset < HEADER_LEN_BYTES || end.is_none_or(|end| end > limit) {
            return Err(corrupt(format!(
                "truncated or damaged: the {name} ({length} bytes at byte {offset}) lies outside \
                 the file's {file_len} bytes"
            )));
        }
    }
    if field(16) == 0 {
        return Err(corrupt("the header names no root directory".into()));
    }
    // Byte 97: internal compression, 1 = none.
    Ok((head[97] == 1).then(|| RawDirectories {
        root_offset: field(8),
        root_len_bytes: field(16),
        leaf_offset: field(40),
        leaf_len_bytes: field(48),
    }))
}

/// The header's bounds, or `None` when they are unset, inverted or not finite.
fn bounds_of(west_lon: f64, south_lat: f64, east_lon: f64, north_lat: f64) -> Option<BoundsLonLat> {
    let all_finite = [west_lon, south_lat, east_lon, north_lat]
        .iter()
        .all(|value| value.is_finite());
    (all_finite && west_lon < east_lon && south_lat < north_lat).then_some(BoundsLonLat {
        west_lon,
        south_lat,
        east_lon,
        north_lat,
    })
}

/// The metadata JSON object (empty when absent or not an object).
fn parse_metadata(path: &Path, text: &str) -> serde_json::Map<String, serde_json::Value> {
    if text.trim().is_empty() {
        return serde_json::Map::new();
    }
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(serde_json::Value::Object(map)) => map,
        Ok(_) => {
            log::warn!("{}: metadata is not a JSON object", path.display());
            serde_json::Map::new()
        }
        Err(error) => {
            log::warn!("{}: metadata is not JSON: {error}", path.display());
            serde_json::Map::new()
        }
    }
}

/// A tile size the metadata states (`tileSize` or `tile_size`, 256 or 512 pixels).
fn stated_tile_size_px(metadata: &serde_json::Map<String, serde_json::Value>) -> Option<u32> {
    ["tileSize", "tile_size"]
        .iter()
        .filter_map(|key| metadata.get(*key))
        .find_map(|value| {
            value
                .as_u64()
                .or_else(|| value.as_str().and_then(|text| text.trim().parse().ok()))
        })
        .and_then(|size_px| match size_px {
            256 => Some(256),
            512 => Some(512),
            _ => None,
        })
}

/// The Web-Mercator tile of zoom `z` holding a point.
fn tile_key_at(lon: f64, lat: f64, z: u8) -> TileKey {
    let z = z.min(31);
    let tiles_per_side = f64::from(1u32 << z);
    let (x_frac, y_frac) = mercator_unit_from_lon_lat(lon, lat);
    let last = (1u32 << z) - 1;
    // Float-to-int `as` saturates (west and north of the grid give 0); the `min` keeps the east
    // and south edges inside the grid.
    let x = ((x_frac * tiles_per_side) as u32).min(last);
    let y = ((y_frac * tiles_per_side) as u32).min(last);
    TileKey::new(z, x, y)
}

/// Reads the archive with positional reads, never past the file's length as opened.
struct FileBackend {
    file: File,
    file_len_bytes: u64,
    /// Set when the directories are stored uncompressed: their entry counts are checked.
    raw_directories: Option<RawDirectories>,
}

/// Where uncompressed directories lie. The crate allocates a directory's entries from the count
/// at its start before reading them: a damaged count would abort the process on allocation, so
/// reads of a directory whose count cannot fit in its bytes fail instead. (Gzip-compressed
/// directories, the usual case, are only seen compressed here; damage fails their CRC.)
struct RawDirectories {
    root_offset: u64,
    root_len_bytes: u64,
    leaf_offset: u64,
    leaf_len_bytes: u64,
}

impl RawDirectories {
    /// Errors when a directory starting in `bytes` (read from `offset`) claims more entries
    /// than it has bytes.
    fn check_counts(&self, offset: u64, bytes: &[u8]) -> io::Result<()> {
        let read_end = offset + bytes.len() as u64;
        let mut directories = Vec::with_capacity(2);
        if (offset..read_end).contains(&self.root_offset) {
            let start = (self.root_offset - offset) as usize;
            let end = start
                .saturating_add(self.root_len_bytes as usize)
                .min(bytes.len());
            directories.push(&bytes[start..end]);
        }
        // A read starting inside the leaf section is one leaf directory.
        if (self.leaf_offset..self.leaf_offset.saturating_add(self.leaf_len_bytes))
            .contains(&offset)
        {
            directories.push(bytes);
        }
        for directory in directories {
            let count = leading_varint(directory);
            // Each entry takes at least four bytes (tile id, run length, length, offset).
            if count.is_none_or(|count| count > directory.len() as u64 / 4) {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!(
                        "a directory of {} bytes claims {} entries",
                        directory.len(),
                        count.map_or_else(|| "unreadably many".into(), |c| c.to_string())
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// The protobuf-style varint at the start of `bytes` (`None` if cut or longer than 64 bits).
fn leading_varint(bytes: &[u8]) -> Option<u64> {
    let mut value = 0u64;
    for (index, byte) in bytes.iter().take(10).enumerate() {
        value |= u64::from(byte & 0x7F).checked_shl(7 * index as u32)?;
        if byte & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}

impl FileBackend {
    /// Up to `length` bytes from `offset`: fewer at the end of the file.
    fn read_at_most(&self, offset: u64, length: usize) -> io::Result<Vec<u8>> {
        if offset > self.file_len_bytes {
            return Err(io::Error::from(io::ErrorKind::UnexpectedEof));
        }
        let available = self.file_len_bytes - offset;
        // The length comes from the archive's directories: never allocate past the file's end.
        let wanted = usize::try_from(available).map_or(length, |available| length.min(available));
        let mut buffer = vec![0u8; wanted];
        let mut filled = 0;
        while filled < wanted {
            match read_at(&self.file, &mut buffer[filled..], offset + filled as u64) {
                Ok(0) => break,
                Ok(count) => filled += count,
                Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                Err(error) => return Err(error),
            }
        }
        buffer.truncate(filled);
        Ok(buffer)
    }
}

impl AsyncBackend for FileBackend {
    fn read(
        &self,
        offset: usize,
        length: usize,
    ) -> impl Future<Output = PmtResult<BackendResponse>> + Send {
        let result = self
            .read_at_most(offset as u64, length)
            .and_then(|bytes| {
                if let Some(directories) = &self.raw_directories {
                    directories.check_counts(offset as u64, &bytes)?;
                }
                Ok(BackendResponse::new(bytes.into()))
            })
            .map_err(PmtError::Reading);
        std::future::ready(result)
    }
}

#[cfg(unix)]
fn read_at(file: &File, buffer: &mut [u8], offset: u64) -> io::Result<usize> {
    std::os::unix::fs::FileExt::read_at(file, buffer, offset)
}

#[cfg(windows)]
fn read_at(file: &File, buffer: &mut [u8], offset: u64) -> io::Result<usize> {
    std::os::windows::fs::FileExt::seek_read(file, buffer, offset)
}

#[cfg(not(any(unix, windows)))]
fn read_at(_file: &File, _buffer: &mut [u8], _offset: u64) -> io::Result<usize> {
    Err(io::Error::from(io::ErrorKind::Unsupported))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tile_key_at_finds_the_grid_cell() {
        assert_eq!(tile_key_at(0.0, 0.0, 0), TileKey::new(0, 0, 0));
        assert_eq!(tile_key_at(-179.0, 84.0, 2), TileKey::new(2, 0, 0));
        assert_eq!(tile_key_at(180.0, -85.06, 2), TileKey::new(2, 3, 3));
        // Moscow at z=4: x = 9, y = 5.
        assert_eq!(tile_key_at(37.62, 55.75, 4), TileKey::new(4, 9, 5));
    }

    #[test]
    fn bounds_of_rejects_unset_and_inverted() {
        assert!(bounds_of(0.0, 0.0, 0.0, 0.0).is_none());
        assert!(bounds_of(10.0, 50.0, 5.0, 60.0).is_none());
        assert!(bounds_of(f64::NAN, 50.0, 5.0, 60.0).is_none());
        assert!(bounds_of(30.0, 50.0, 40.0, 60.0).is_some_and(|b| b.contains(35.0, 55.0)));
    }

    #[test]
    fn stated_tile_size_reads_number_or_text() {
        let metadata = |json: &str| parse_metadata(Path::new("m"), json);
        assert_eq!(
            stated_tile_size_px(&metadata(r#"{"tileSize":512}"#)),
            Some(512)
        );
        assert_eq!(
            stated_tile_size_px(&metadata(r#"{"tile_size":"256"}"#)),
            Some(256)
        );
        assert_eq!(stated_tile_size_px(&metadata(r#"{"tileSize":300}"#)), None);
        assert_eq!(stated_tile_size_px(&metadata("not json")), None);
    }
}
