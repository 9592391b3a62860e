//! Basemap tile sources, without any UI: where the bytes of a map tile come from (an MBTiles or
//! PMTiles file, a directory of `{z}/{x}/{y}` images, a SAS.Planet cache folder, an HTTP server
//! with a disk cache), what a source covers (bounds, zoom range, attribution), and what format a
//! tile is in. Drawing the tiles on the map is `layers::tiles`' business.
//!
//! Tiles are addressed the way walkers and every slippy map address them: XYZ, `y` counted from
//! the north. Sources stored in TMS row order (MBTiles, TMS directories) flip `y` themselves.

pub mod choice;
pub mod dir;
pub mod http;
pub mod mbtiles;
pub mod pmtiles;

use std::path::{Path, PathBuf};

/// One tile of the XYZ grid (`y` from the north, as in walkers' `TileId`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TileKey {
    pub z: u8,
    pub x: u32,
    pub y: u32,
}

impl TileKey {
    pub fn new(z: u8, x: u32, y: u32) -> Self {
        Self { z, x, y }
    }

    /// Row number in TMS order (counted from the south).
    pub fn tms_y(self) -> u32 {
        (1u32 << self.z).saturating_sub(1).saturating_sub(self.y)
    }

    /// True when `x` and `y` lie inside the grid of zoom `z`.
    pub fn is_valid(self) -> bool {
        self.z < 32 && self.x < (1u32 << self.z) && self.y < (1u32 << self.z)
    }
}

/// What the bytes of a tile are, told by their first bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TileFormat {
    Png,
    Jpeg,
    Webp,
    /// Mapbox vector tile (protobuf), possibly gzip-compressed.
    Mvt,
    Unknown,
}

impl TileFormat {
    /// Format of a tile from its magic bytes. Anything that is not a known image and looks like
    /// a protobuf or gzip stream is taken for a vector tile.
    pub fn sniff(bytes: &[u8]) -> Self {
        match bytes {
            [0x89, b'P', b'N', b'G', ..] => Self::Png,
            [0xFF, 0xD8, 0xFF, ..] => Self::Jpeg,
            [
                b'R',
                b'I',
                b'F',
                b'F',
                _,
                _,
                _,
                _,
                b'W',
                b'E',
                b'B',
                b'P',
                ..,
            ] => Self::Webp,
            [0x1F, 0x8B, ..] => Self::Mvt,
            // A vector tile starts with field 3 (layers), wire type 2: 0x1A.
            [0x1A, ..] => Self::Mvt,
            _ => Self::Unknown,
        }
    }

    /// True for raster images walkers can decode.
    pub fn is_raster(self) -> bool {
        matches!(self, Self::Png | Self::Jpeg | Self::Webp)
    }
}

/// What kind of source a basemap is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SourceKind {
    MbTiles,
    PmTiles,
    /// A directory `{z}/{x}/{y}.png|jpg|webp`, XYZ row order.
    XyzDir,
    /// The same layout in TMS row order.
    TmsDir,
    /// A SAS.Planet cache folder.
    SasPlanet,
    /// An HTTP(S) URL template with a disk cache (OpenStreetMap or a user's server).
    Http,
}

/// Bounds in WGS84 degrees, lon before lat.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BoundsLonLat {
    pub west_lon: f64,
    pub south_lat: f64,
    pub east_lon: f64,
    pub north_lat: f64,
}

impl BoundsLonLat {
    /// The whole Web-Mercator world.
    pub const WORLD: Self = Self {
        west_lon: -180.0,
        south_lat: -85.051_128_78,
        east_lon: 180.0,
        north_lat: 85.051_128_78,
    };

    /// True when the point lies inside (edges included).
    pub fn contains(&self, lon: f64, lat: f64) -> bool {
        lon >= self.west_lon
            && lon <= self.east_lon
            && lat >= self.south_lat
            && lat <= self.north_lat
    }
}

/// What a source covers and how to credit it.
#[derive(Clone, Debug, PartialEq)]
pub struct SourceInfo {
    /// A name to show (the file's or the server's).
    pub name: String,
    pub kind: SourceKind,
    pub min_zoom: u8,
    /// The deepest level stored; deeper views over-scale it.
    pub max_zoom: u8,
    /// Where the source has tiles (`None`: not stated).
    pub bounds: Option<BoundsLonLat>,
    /// Attribution text as the source states it (may be empty).
    pub attribution: String,
    /// Format of the tiles, as stated or sniffed from one tile (`Unknown` if neither).
    pub format: TileFormat,
    /// Edge of a tile in pixels (256 or 512).
    pub tile_size_px: u32,
}

/// Why a tile or a source could not be read.
#[derive(Debug, thiserror::Error)]
pub enum TileError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {source}")]
    Sqlite {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    /// The file is there but is not what it claims to be (truncated, damaged, wrong format).
    #[error("{path}: {detail}")]
    Corrupt { path: PathBuf, detail: String },
    /// Not a tile source Teplokarta knows.
    #[error("{path}: {detail}")]
    Unsupported { path: PathBuf, detail: String },
    /// The server answered with an error or could not be reached.
    #[error("{url}: {detail}")]
    Http { url: String, detail: String },
    /// The server is known to be unreachable; not asked again until the back-off ends.
    #[error("offline: {url} not reachable, next attempt in {retry_in_s} s")]
    Offline { url: String, retry_in_s: u64 },
}

/// A place tiles come from. `tile` is blocking (disk or network) and is called from worker
/// threads, never from the UI thread.
pub trait TileSource: Send + Sync {
    /// Coverage, zoom range and attribution.
    fn info(&self) -> &SourceInfo;

    /// The bytes of one tile: PNG, JPEG, WebP, or a vector tile (gzip-compressed as MBTiles and
    /// tile servers store it, or already decompressed, as PMTiles returns it). `Ok(None)`: the
    /// source has no such tile.
    ///
    /// # Errors
    /// [`TileError`] naming the file or URL when the tile cannot be read.
    fn tile(&self, key: TileKey) -> Result<Option<Vec<u8>>, TileError>;

    /// How many requests the source should be given at once.
    fn max_parallel(&self) -> usize {
        2
    }

    /// `false` while the source is known to be unreachable (HTTP only).
    fn online(&self) -> bool {
        true
    }
}

/// Opens a tile file or folder, telling its kind from the extension or the folder's layout:
/// `.mbtiles`, `.pmtiles`, a SAS.Planet cache folder, or a `{z}/{x}/{y}` directory (`tms`: rows
/// in TMS order).
///
/// # Errors
/// [`TileError`] naming the path when it is not a tile source or cannot be read.
pub fn open_path(path: &Path, tms: bool) -> Result<Box<dyn TileSource>, TileError> {
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match extension.as_deref() {
        Some("mbtiles") => Ok(Box::new(mbtiles::MbTiles::open(path)?)),
        Some("pmtiles") => Ok(Box::new(pmtiles::PmTilesSource::open(path)?)),
        _ if path.is_dir() => dir::open_dir(path, tms),
        _ => Err(TileError::Unsupported {
            path: path.to_owned(),
            detail: "not an .mbtiles or .pmtiles file, nor a folder of tiles".into(),
        }),
    }
}
