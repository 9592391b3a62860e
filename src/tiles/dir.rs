//! Tile folders on disk: a plain `{z}/{x}/{y}.ext` directory in XYZ or TMS row order
//! ([`XyzDir`]) and a SAS.Planet cache folder ([`SasPlanetCache`]); [`open_dir`] tells which a
//! folder is. The folder is scanned once on opening (zoom range, tile extension, bounds of the
//! deepest level); tiles are then read file by file, never written.

use std::ffi::OsStr;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use super::mbtiles::{format_from_name, parse_bounds, tile_edge_px};
use super::{BoundsLonLat, SourceInfo, SourceKind, TileError, TileFormat, TileKey, TileSource};
use crate::spatial::projection::lon_lat_from_mercator_unit;

/// Tile file extensions recognised, lower case.
const TILE_EXTENSIONS: [&str; 6] = ["png", "jpg", "jpeg", "webp", "pbf", "mvt"];

/// Deepest zoom level a folder may hold (x and y must fit the grid of `TileKey`).
const MAX_ZOOM: u8 = 30;

/// Opens a folder of tiles, telling its layout from its subfolders:
/// - `z1`, `z2`, … (or two-digit `01`, `02`, … holding `t…` files): a SAS.Planet cache of one
///   map ([`SasPlanetCache`]);
/// - numeric `0`, `1`, … holding `{x}/{y}.ext`: a plain tile directory ([`XyzDir`]; `tms`: rows
///   numbered from the south);
/// - otherwise, a folder whose subfolders are SAS.Planet caches (SAS.Planet's own `cache`
///   folder): the one map in it is opened; with several, the error lists them.
///
/// # Errors
/// [`TileError::Io`] when the folder cannot be listed, [`TileError::Unsupported`] naming it when
/// it holds no tiles in a known layout or several maps.
pub fn open_dir(path: &Path, tms: bool) -> Result<Box<dyn TileSource>, TileError> {
    let entries = list_dir(path)?;
    if let Some(layout) = detect_sas_layout(path, &entries)? {
        return Ok(Box::new(SasPlanetCache::open_layout(path, layout)?));
    }
    if entries
        .iter()
        .any(|e| e.is_dir && parse_number(&e.name).is_some())
    {
        return Ok(Box::new(XyzDir::open(path, tms)?));
    }
    // SAS.Planet's cache folder: one subfolder per map.
    let mut maps = Vec::new();
    for entry in entries.iter().filter(|e| e.is_dir) {
        let sub = path.join(&entry.name);
        let Ok(sub_entries) = list_dir(&sub) else {
            continue;
        };
        if let Some(layout) = detect_sas_layout(&sub, &sub_entries)? {
            maps.push((entry.name.clone(), sub, layout));
        }
    }
    match maps.len() {
        0 => Err(TileError::Unsupported {
            path: path.to_owned(),
            detail: "no tiles found: expected {z}/{x}/{y}.png|jpg|webp|pbf folders or a \
                     SAS.Planet cache (z1, z2, … folders)"
                .into(),
        }),
        1 => {
            let (_, sub, layout) = maps.remove(0);
            Ok(Box::new(SasPlanetCache::open_layout(&sub, layout)?))
        }
        _ => Err(TileError::Unsupported {
            path: path.to_owned(),
            detail: format!(
                "holds the caches of several maps ({}); open one of these folders",
                maps.iter()
                    .map(|(name, _, _)| name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }),
    }
}

/// A `{z}/{x}/{y}.ext` directory (as written by gdal2tiles, mb-util, MOBAC, …). Rows in XYZ order
/// (`y` from the north) or, with `tms`, in TMS order (from the south).
#[derive(Debug)]
pub struct XyzDir {
    root: PathBuf,
    tms: bool,
    info: SourceInfo,
    /// Extensions found, the most common first; a tile is looked for under each in turn.
    extensions: Vec<String>,
}

impl XyzDir {
    /// Opens `path` and scans its zoom folders once. An mb-util style `metadata.json` beside
    /// them, when present, gives the name and attribution.
    ///
    /// # Errors
    /// [`TileError::Io`] when the folder cannot be listed, [`TileError::Unsupported`] when it
    /// holds no `{z}/{x}/{y}.ext` tile.
    pub fn open(path: &Path, tms: bool) -> Result<Self, TileError> {
        let layout = Layout::Xyz { tms };
        let scan = scan_folder(path, layout)?;
        let metadata = read_metadata_json(path);
        let kind = if tms {
            SourceKind::TmsDir
        } else {
            SourceKind::XyzDir
        };
        let mut info = scan.info(path, kind);
        if let Some(meta) = metadata {
            if let Some(name) = meta.name {
                info.name = name;
            }
            info.attribution = meta.attribution.unwrap_or_default();
            if let Some(bounds) = meta.bounds {
                info.bounds = Some(bounds);
            }
        }
        Ok(Self {
            root: path.to_owned(),
            tms,
            info,
            extensions: scan.extensions,
        })
    }

    /// The folder this source reads.
    pub fn root(&self) -> &Path {
        &self.root
    }
}

impl TileSource for XyzDir {
    fn info(&self) -> &SourceInfo {
        &self.info
    }

    fn tile(&self, key: TileKey) -> Result<Option<Vec<u8>>, TileError> {
        if !key.is_valid() {
            return Ok(None);
        }
        let layout = Layout::Xyz { tms: self.tms };
        read_first_found(&layout.tile_path(&self.root, key), &self.extensions)
    }
}

/// How a SAS.Planet file cache names its tiles (SAS.Planet numbers zoom levels from 1, so its
/// level `N` is the usual zoom `N − 1`). From SAS.Planet's sources,
/// <https://github.com/sasgis/sas.planet.src>, `Src/TileStorage/FileSystem/u_TileFileNameSAS.pas`
/// and `u_TileFileNameGMV.pas`; cache type codes in `Src/TileStorage/c_CacheTypeCodes.pas`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SasLayout {
    /// The default "SAS.Planet" cache (type 2, folder `cache`):
    /// `z{zoom+1}/{x div 1024}/x{x}/{y div 1024}/y{y}.{ext}`, `y` from the north.
    SasPlanet,
    /// The old "GoogleMV" cache (type 1, folder `cache_old`): `{zoom+1, two digits}/t{quadkey}.
    /// {ext}`, the quadkey one letter per level, `q` `r` `t` `s` for the north-west, north-east,
    /// south-west and south-east quarter.
    GoogleMv,
}

/// One map's folder of a SAS.Planet file cache, in the default "SAS.Planet" layout or the old
/// "GoogleMV" one ([`SasLayout`]). Empty `.tne` ("tile not exists") markers count as missing
/// tiles. The EarthSlicer, GlobalMapper and database caches are not read.
#[derive(Debug)]
pub struct SasPlanetCache {
    root: PathBuf,
    layout: SasLayout,
    info: SourceInfo,
    extensions: Vec<String>,
}

impl SasPlanetCache {
    /// Opens one map's cache folder (the one holding `z1`, `z2`, … or `01`, `02`, …).
    ///
    /// # Errors
    /// [`TileError::Io`] when the folder cannot be listed, [`TileError::Unsupported`] when it is
    /// not a SAS.Planet cache or holds no tile.
    pub fn open(path: &Path) -> Result<Self, TileError> {
        let entries = list_dir(path)?;
        match detect_sas_layout(path, &entries)? {
            Some(layout) => Self::open_layout(path, layout),
            None => Err(TileError::Unsupported {
                path: path.to_owned(),
                detail: "not a SAS.Planet cache folder (no z1, z2, … folders)".into(),
            }),
        }
    }

    fn open_layout(path: &Path, layout: SasLayout) -> Result<Self, TileError> {
        let scan = scan_folder(path, Layout::Sas(layout))?;
        Ok(Self {
            root: path.to_owned(),
            layout,
            info: scan.info(path, SourceKind::SasPlanet),
            extensions: scan.extensions,
        })
    }

    /// The map's cache folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// How the cache names its files.
    pub fn layout(&self) -> SasLayout {
        self.layout
    }
}

impl TileSource for SasPlanetCache {
    fn info(&self) -> &SourceInfo {
        &self.info
    }

    fn tile(&self, key: TileKey) -> Result<Option<Vec<u8>>, TileError> {
        if !key.is_valid() {
            return Ok(None);
        }
        let layout = Layout::Sas(self.layout);
        read_first_found(&layout.tile_path(&self.root, key), &self.extensions)
    }
}

/// Every layout read here.
#[derive(Clone, Copy, Debug)]
enum Layout {
    Xyz { tms: bool },
    Sas(SasLayout),
}

impl Layout {
    /// Name of a zoom level's folder.
    fn zoom_folder(self, z: u8) -> String {
        match self {
            Self::Xyz { .. } => z.to_string(),
            Self::Sas(SasLayout::SasPlanet) => format!("z{}", u32::from(z) + 1),
            Self::Sas(SasLayout::GoogleMv) => format!("{:02}", u32::from(z) + 1),
        }
    }

    /// Zoom level of a folder name.
    fn zoom_of_folder(self, name: &str) -> Option<u8> {
        let zoom = match self {
            Self::Xyz { .. } => parse_number(name)?,
            Self::Sas(SasLayout::SasPlanet) => {
                let digits = name.strip_prefix(['z', 'Z'])?;
                parse_number(digits)?.checked_sub(1)?
            }
            Self::Sas(SasLayout::GoogleMv) => {
                if name.len() != 2 {
                    return None;
                }
                parse_number(name)?.checked_sub(1)?
            }
        };
        u8::try_from(zoom).ok().filter(|z| *z <= MAX_ZOOM)
    }

    /// Path of a tile without its extension.
    fn tile_path(self, root: &Path, key: TileKey) -> PathBuf {
        let mut path = root.join(self.zoom_folder(key.z));
        match self {
            Self::Xyz { tms } => {
                let row = if tms { key.tms_y() } else { key.y };
                path.push(key.x.to_string());
                path.push(row.to_string());
            }
            Self::Sas(SasLayout::SasPlanet) => {
                path.push((key.x >> 10).to_string());
                path.push(format!("x{}", key.x));
                path.push((key.y >> 10).to_string());
                path.push(format!("y{}", key.y));
            }
            Self::Sas(SasLayout::GoogleMv) => path.push(quadkey(key)),
        }
        path
    }
}

/// The GoogleMV file name of a tile: `t`, then per level from the top the quarter it lies in.
fn quadkey(key: TileKey) -> String {
    let mut name = String::with_capacity(usize::from(key.z) + 1);
    name.push('t');
    for level in (0..key.z).rev() {
        let east = (key.x >> level) & 1 == 1;
        let south = (key.y >> level) & 1 == 1;
        name.push(match (east, south) {
            (false, false) => 'q',
            (true, false) => 'r',
            (false, true) => 't',
            (true, true) => 's',
        });
    }
    name
}

/// Zoom and tile of a GoogleMV file stem (`t` followed by `q`, `r`, `s`, `t` letters).
fn key_of_quadkey(stem: &str) -> Option<TileKey> {
    let letters = stem.strip_prefix(['t', 'T'])?;
    let z = u8::try_from(letters.len())
        .ok()
        .filter(|z| *z <= MAX_ZOOM)?;
    let (mut x, mut y) = (0u32, 0u32);
    for letter in letters.chars() {
        let (east, south) = match letter.to_ascii_lowercase() {
            'q' => (0, 0),
            'r' => (1, 0),
            't' => (0, 1),
            's' => (1, 1),
            _ => return None,
        };
        x = (x << 1) | east;
        y = (y << 1) | south;
    }
    Some(TileKey::new(z, x, y))
}

/// Reads `stem.ext` for the first extension under which the file exists. `Ok(None)` when none
/// does or the file is empty.
fn read_first_found(stem: &Path, extensions: &[String]) -> Result<Option<Vec<u8>>, TileError> {
    for ext in extensions {
        let path = stem.with_extension(ext);
        match std::fs::read(&path) {
            Ok(bytes) if bytes.is_empty() => return Ok(None),
            Ok(bytes) => return Ok(Some(bytes)),
            Err(e) if matches!(e.kind(), ErrorKind::NotFound | ErrorKind::NotADirectory) => {}
            Err(source) => return Err(TileError::Io { path, source }),
        }
    }
    Ok(None)
}

/// One entry of a folder.
struct Entry {
    name: String,
    is_dir: bool,
}

/// The entries of a folder whose names are valid UTF-8 (tile names always are).
fn list_dir(path: &Path) -> Result<Vec<Entry>, TileError> {
    let io_error = |source| TileError::Io {
        path: path.to_owned(),
        source,
    };
    let mut entries = Vec::new();
    for entry in std::fs::read_dir(path).map_err(io_error)? {
        let entry = entry.map_err(io_error)?;
        let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
            continue;
        };
        // Follows symbolic links, so a linked zoom folder counts.
        let is_dir = entry.path().is_dir();
        entries.push(Entry { name, is_dir });
    }
    entries.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(entries)
}

/// A decimal number made of ASCII digits only (no sign, no spaces).
fn parse_number(text: &str) -> Option<u32> {
    if text.is_empty() || text.len() > 10 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// The known tile extension of a file name, and its stem.
fn split_tile_name(name: &str) -> Option<(&str, &str)> {
    let path = Path::new(name);
    let ext = path.extension().and_then(OsStr::to_str)?;
    let stem = path.file_stem().and_then(OsStr::to_str)?;
    TILE_EXTENSIONS
        .iter()
        .any(|known| ext.eq_ignore_ascii_case(known))
        .then_some((stem, ext))
}

/// Which SAS.Planet layout a folder's entries show, if any: `z1`, `z2`, … folders for the
/// default one; two-digit folders holding `t…` tile files for GoogleMV.
fn detect_sas_layout(path: &Path, entries: &[Entry]) -> Result<Option<SasLayout>, TileError> {
    let sas = Layout::Sas(SasLayout::SasPlanet);
    if entries
        .iter()
        .any(|e| e.is_dir && sas.zoom_of_folder(&e.name).is_some())
    {
        return Ok(Some(SasLayout::SasPlanet));
    }
    let gmv = Layout::Sas(SasLayout::GoogleMv);
    for entry in entries
        .iter()
        .filter(|e| e.is_dir && gmv.zoom_of_folder(&e.name).is_some())
    {
        let files = list_dir(&path.join(&entry.name))?;
        let has_quadkey_tile = files.iter().any(|f| {
            !f.is_dir
                && split_tile_name(&f.name)
                    .and_then(|(stem, _)| key_of_quadkey(stem))
                    .is_some()
        });
        if has_quadkey_tile {
            return Ok(Some(SasLayout::GoogleMv));
        }
    }
    Ok(None)
}

/// What one pass over a folder found.
struct Scan {
    min_zoom: u8,
    max_zoom: u8,
    /// Tile ranges at `max_zoom`, XYZ rows: `[x_min, x_max, y_min, y_max]`.
    range: [u32; 4],
    /// Known extensions found at `max_zoom`, the most common first.
    extensions: Vec<String>,
    /// The first tile's bytes (tells the format and tile edge).
    sample: Vec<u8>,
    sample_ext: String,
}

impl Scan {
    fn info(&self, path: &Path, kind: SourceKind) -> SourceInfo {
        let n = f64::from(1u32 << self.max_zoom);
        let [x_min, x_max, y_min, y_max] = self.range.map(f64::from);
        let (west_lon, north_lat) = lon_lat_from_mercator_unit(x_min / n, y_min / n);
        let (east_lon, south_lat) =
            lon_lat_from_mercator_unit((x_max + 1.0) / n, (y_max + 1.0) / n);
        let format = match TileFormat::sniff(&self.sample) {
            TileFormat::Unknown => {
                format_from_name(&self.sample_ext).unwrap_or(TileFormat::Unknown)
            }
            sniffed => sniffed,
        };
        SourceInfo {
            name: path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| path.display().to_string()),
            kind,
            min_zoom: self.min_zoom,
            max_zoom: self.max_zoom,
            bounds: Some(BoundsLonLat {
                west_lon,
                south_lat,
                east_lon,
                north_lat,
            }),
            attribution: String::new(),
            format,
            tile_size_px: tile_edge_px(&self.sample).unwrap_or(256),
        }
    }
}

/// A tile file met while walking a zoom folder: its XYZ key, extension and path.
struct Found<'a> {
    key: TileKey,
    ext: &'a str,
    path: PathBuf,
}

/// Walks the tiles of zoom `z` in `zoom_dir`, calling `visit` for each until it returns false.
fn walk_zoom(
    layout: Layout,
    zoom_dir: &Path,
    z: u8,
    visit: &mut dyn FnMut(Found<'_>) -> bool,
) -> Result<(), TileError> {
    let grid = 1u64 << z;
    let in_grid = |v: u32| u64::from(v) < grid;
    match layout {
        Layout::Xyz { tms } => {
            for x_dir in list_dir(zoom_dir)?.into_iter().filter(|e| e.is_dir) {
                let Some(x) = parse_number(&x_dir.name).filter(|x| in_grid(*x)) else {
                    continue;
                };
                let x_path = zoom_dir.join(&x_dir.name);
                for file in list_dir(&x_path)?.iter().filter(|e| !e.is_dir) {
                    let Some((stem, ext)) = split_tile_name(&file.name) else {
                        continue;
                    };
                    let Some(row) = parse_number(stem).filter(|y| in_grid(*y)) else {
                        continue;
                    };
                    let key = TileKey::new(z, x, row);
                    let key = if tms {
                        TileKey::new(z, x, key.tms_y())
                    } else {
                        key
                    };
                    let path = x_path.join(&file.name);
                    if !visit(Found { key, ext, path }) {
                        return Ok(());
                    }
                }
            }
        }
        Layout::Sas(SasLayout::SasPlanet) => {
            for x_block in list_dir(zoom_dir)?.into_iter().filter(|e| e.is_dir) {
                if parse_number(&x_block.name).is_none() {
                    continue;
                }
                let x_block_path = zoom_dir.join(&x_block.name);
                for x_dir in list_dir(&x_block_path)?.into_iter().filter(|e| e.is_dir) {
                    let Some(x) = x_dir
                        .name
                        .strip_prefix(['x', 'X'])
                        .and_then(parse_number)
                        .filter(|x| in_grid(*x))
                    else {
                        continue;
                    };
                    let x_path = x_block_path.join(&x_dir.name);
                    for y_block in list_dir(&x_path)?.into_iter().filter(|e| e.is_dir) {
                        if parse_number(&y_block.name).is_none() {
                            continue;
                        }
                        let y_block_path = x_path.join(&y_block.name);
                        for file in list_dir(&y_block_path)?.iter().filter(|e| !e.is_dir) {
                            let Some((stem, ext)) = split_tile_name(&file.name) else {
                                continue;
                            };
                            let Some(y) = stem
                                .strip_prefix(['y', 'Y'])
                                .and_then(parse_number)
                                .filter(|y| in_grid(*y))
                            else {
                                continue;
                            };
                            let path = y_block_path.join(&file.name);
                            let key = TileKey::new(z, x, y);
                            if !visit(Found { key, ext, path }) {
                                return Ok(());
                            }
                        }
                    }
                }
            }
        }
        Layout::Sas(SasLayout::GoogleMv) => {
            for file in list_dir(zoom_dir)?.iter().filter(|e| !e.is_dir) {
                let Some((stem, ext)) = split_tile_name(&file.name) else {
                    continue;
                };
                let Some(key) = key_of_quadkey(stem).filter(|k| k.z == z) else {
                    continue;
                };
                let path = zoom_dir.join(&file.name);
                if !visit(Found { key, ext, path }) {
                    return Ok(());
                }
            }
        }
    }
    Ok(())
}

/// Scans a folder once: the deepest zoom with tiles fully (ranges, extensions), the shallower
/// ones only up to their first tile (to find the shallowest).
fn scan_folder(root: &Path, layout: Layout) -> Result<Scan, TileError> {
    let mut zooms: Vec<(u8, PathBuf)> = list_dir(root)?
        .into_iter()
        .filter(|e| e.is_dir)
        .filter_map(|e| {
            let z = layout.zoom_of_folder(&e.name)?;
            Some((z, root.join(&e.name)))
        })
        .collect();
    zooms.sort_by_key(|(z, _)| *z);
    zooms.dedup_by_key(|(z, _)| *z);

    let mut deepest = None;
    while let Some((z, zoom_dir)) = zooms.pop() {
        let mut range = [u32::MAX, 0, u32::MAX, 0];
        let mut counts: Vec<(String, usize)> = Vec::new();
        let mut sample_path = None;
        walk_zoom(layout, &zoom_dir, z, &mut |found| {
            range[0] = range[0].min(found.key.x);
            range[1] = range[1].max(found.key.x);
            range[2] = range[2].min(found.key.y);
            range[3] = range[3].max(found.key.y);
            match counts.iter_mut().find(|(ext, _)| ext == found.ext) {
                Some((_, n)) => *n += 1,
                None => counts.push((found.ext.to_owned(), 1)),
            }
            if sample_path.is_none() {
                sample_path = Some(found.path);
            }
            true
        })?;
        if let Some(sample_path) = sample_path {
            deepest = Some((z, range, counts, sample_path));
            break;
        }
    }
    let Some((max_zoom, range, mut counts, sample_path)) = deepest else {
        return Err(TileError::Unsupported {
            path: root.to_owned(),
            detail: "no tiles found in the zoom folders".into(),
        });
    };

    let mut min_zoom = max_zoom;
    for (z, zoom_dir) in &zooms {
        let mut any = false;
        walk_zoom(layout, zoom_dir, *z, &mut |_| {
            any = true;
            false
        })?;
        if any {
            min_zoom = *z;
            break;
        }
    }

    counts.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let sample = std::fs::read(&sample_path).map_err(|source| TileError::Io {
        path: sample_path.clone(),
        source,
    })?;
    Ok(Scan {
        min_zoom,
        max_zoom,
        range,
        sample_ext: sample_path
            .extension()
            .map(|e| e.to_string_lossy().into_owned())
            .unwrap_or_default(),
        extensions: counts.into_iter().map(|(ext, _)| ext).collect(),
        sample,
    })
}

/// What an mb-util style `metadata.json` says.
struct DirMetadata {
    name: Option<String>,
    attribution: Option<String>,
    bounds: Option<BoundsLonLat>,
}

/// Reads `metadata.json` beside the zoom folders; `None` when absent or unreadable (it is
/// optional, so a broken one is ignored).
fn read_metadata_json(root: &Path) -> Option<DirMetadata> {
    let text = std::fs::read_to_string(root.join("metadata.json")).ok()?;
    let value: serde_json::Value = serde_json::from_str(&text).ok()?;
    let text_of = |key: &str| {
        value
            .get(key)
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned)
            .filter(|s| !s.is_empty())
    };
    Some(DirMetadata {
        name: text_of("name"),
        attribution: text_of("attribution"),
        bounds: text_of("bounds").as_deref().and_then(parse_bounds),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quadkey_round_trips_and_matches_sas_planet() {
        // SAS.Planet's GMV generator: zoom 0 is "t"; at zoom 1 the south-east tile is "ts".
        assert_eq!(quadkey(TileKey::new(0, 0, 0)), "t");
        assert_eq!(quadkey(TileKey::new(1, 1, 1)), "ts");
        assert_eq!(quadkey(TileKey::new(2, 2, 1)), "trt");
        for key in [TileKey::new(3, 5, 2), TileKey::new(7, 100, 17)] {
            assert_eq!(key_of_quadkey(&quadkey(key)), Some(key));
        }
        assert_eq!(key_of_quadkey("tqx"), None);
    }

    #[test]
    fn sas_planet_paths_number_zoom_from_one_and_block_by_1024() {
        let path = Layout::Sas(SasLayout::SasPlanet)
            .tile_path(Path::new("m"), TileKey::new(12, 2500, 1300));
        assert_eq!(path, Path::new("m/z13/2/x2500/1/y1300"));
        assert_eq!(
            Layout::Sas(SasLayout::SasPlanet).zoom_of_folder("z1"),
            Some(0)
        );
        assert_eq!(Layout::Sas(SasLayout::SasPlanet).zoom_of_folder("z0"), None);
        assert_eq!(
            Layout::Sas(SasLayout::GoogleMv).zoom_of_folder("09"),
            Some(8)
        );
        assert_eq!(Layout::Sas(SasLayout::GoogleMv).zoom_of_folder("9"), None);
    }
}
