//! Basemap tiles on the walkers map: [`SourceTiles`] puts any [`TileSource`] (MBTiles, PMTiles,
//! a tile folder, an HTTP server) behind walkers' [`Tiles`] trait. It owns the loading side of a
//! basemap — a small pool of worker threads that read and decode tiles off the UI thread, a
//! least-recently-used cache of decoded tiles, what is known to be missing or broken — and the
//! fallback that keeps the map from going blank: while a tile loads, or beyond the source's
//! deepest zoom, the nearest loaded ancestor is drawn, over-scaled.
//!
//! Walkers' [`Attribution`] wants `&'static str`; the source's text is not static, so walkers is
//! given an empty one and the app draws [`SourceInfo::attribution`] itself (see
//! [`SourceTiles::info`]).

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::mpsc::{Receiver, Sender, TryRecvError};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};

use egui::{Context, Rect, pos2};
use walkers::sources::Attribution;
use walkers::{Style, Tile, TileId, TilePiece, Tiles};

use crate::spatial::projection::lon_lat_from_mercator_unit;
use crate::tiles::{SourceInfo, TileError, TileFormat, TileKey, TileSource};

/// Decoded tiles kept in memory (a 256-px raster tile is 256 KiB of texture).
pub const CACHE_TILES: usize = 512;
/// Requests waiting for a worker beyond this many are dropped, oldest first: the view has
/// moved on and they are asked for again if still needed.
pub const MAX_QUEUED: usize = 64;
/// Most worker threads per source.
pub const MAX_WORKERS: usize = 4;
/// Results taken from the workers per [`Tiles::at`] call, so one call never does much.
const ARRIVALS_PER_CALL: usize = 32;
/// Tiles remembered as missing or broken before that memory is forgotten (and they may be
/// asked for again).
const MAX_REMEMBERED: usize = 100_000;

/// Figures of a [`SourceTiles`], for the status line.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SourceTilesStats {
    /// Decoded tiles in the cache.
    pub loaded: usize,
    /// Tiles the source has no data for.
    pub missing: usize,
    /// Tiles whose bytes are damaged or in no known format (skipped, not asked again).
    pub failed_corrupt: usize,
    /// Tiles that could not be read (I/O, SQLite or HTTP error; not asked again).
    pub failed_other: usize,
    /// Tiles that failed because the server was offline; asked again once it is back.
    pub waiting_offline: usize,
    /// Tiles requested and not yet arrived.
    pub pending: usize,
    /// What the source says about its reachability.
    pub online: bool,
}

/// What became of a tile that is not in the cache.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Known {
    Missing,
    Corrupt,
    Failed,
    Offline,
}

/// What a worker sends back for one tile.
enum Outcome {
    Loaded(Tile),
    Missing,
    Corrupt(String),
    Failed(String),
    Offline,
}

struct Arrival {
    key: TileKey,
    outcome: Outcome,
}

/// The request queue shared with the workers.
#[derive(Default)]
struct Queue {
    /// Newest last; workers take the newest first.
    keys: VecDeque<TileKey>,
    shutdown: bool,
}

#[derive(Default)]
struct Shared {
    queue: Mutex<Queue>,
    ready: Condvar,
}

impl Shared {
    /// The queue, even if a worker panicked while holding it (the queue stays consistent:
    /// workers only pop from it).
    fn lock(&self) -> MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A least-recently-used map of decoded tiles.
struct Lru {
    capacity: usize,
    tick: u64,
    tiles: HashMap<TileKey, (Tile, u64)>,
    by_use: BTreeMap<u64, TileKey>,
}

impl Lru {
    fn new(capacity: usize) -> Self {
        Self {
            capacity: capacity.max(1),
            tick: 0,
            tiles: HashMap::new(),
            by_use: BTreeMap::new(),
        }
    }

    fn len(&self) -> usize {
        self.tiles.len()
    }

    fn contains(&self, key: TileKey) -> bool {
        self.tiles.contains_key(&key)
    }

    /// The tile, marked as just used.
    fn get(&mut self, key: TileKey) -> Option<Tile> {
        let (tile, used) = self.tiles.get_mut(&key)?;
        self.tick += 1;
        self.by_use.remove(used);
        *used = self.tick;
        self.by_use.insert(self.tick, key);
        Some(tile.clone())
    }

    fn insert(&mut self, key: TileKey, tile: Tile) {
        self.tick += 1;
        if let Some((_, used)) = self.tiles.insert(key, (tile, self.tick)) {
            self.by_use.remove(&used);
        }
        self.by_use.insert(self.tick, key);
        while self.tiles.len() > self.capacity {
            let Some((_, oldest)) = self.by_use.pop_first() else {
                break;
            };
            self.tiles.remove(&oldest);
        }
    }
}

/// The tile of zoom `zoom` covering `key` (`zoom <= key.z`), and the part of it that covers
/// `key`, in the 0..1 texture coordinates walkers draws with.
pub fn ancestor_uv(key: TileKey, zoom: u8) -> (TileKey, Rect) {
    let zoom = zoom.min(key.z);
    let levels = u32::from(key.z - zoom);
    let (x, y, side) = if levels >= 32 {
        (0, 0, 1.0 / 2f32.powi(levels as i32))
    } else {
        let n = 1u32 << levels;
        (key.x % n, key.y % n, 1.0 / n as f32)
    };
    let ancestor = TileKey::new(
        zoom,
        key.x.checked_shr(levels).unwrap_or(0),
        key.y.checked_shr(levels).unwrap_or(0),
    );
    let min = pos2(x as f32 * side, y as f32 * side);
    (
        ancestor,
        Rect::from_min_max(min, pos2(min.x + side, min.y + side)),
    )
}

/// True when the tile's ground overlaps the source's bounds (or the source states none).
fn covers(info: &SourceInfo, key: TileKey) -> bool {
    let Some(bounds) = info.bounds else {
        return true;
    };
    let n = f64::from(key.z).exp2();
    let (west_lon, north_lat) =
        lon_lat_from_mercator_unit(f64::from(key.x) / n, f64::from(key.y) / n);
    let (east_lon, south_lat) =
        lon_lat_from_mercator_unit(f64::from(key.x + 1) / n, f64::from(key.y + 1) / n);
    west_lon <= bounds.east_lon
        && east_lon >= bounds.west_lon
        && south_lat <= bounds.north_lat
        && north_lat >= bounds.south_lat
}

/// Reads and decodes one tile (on a worker thread).
fn load(source: &dyn TileSource, style: &Style, ctx: &Context, key: TileKey) -> Outcome {
    let bytes = match source.tile(key) {
        Ok(Some(bytes)) => bytes,
        Ok(None) => return Outcome::Missing,
        Err(TileError::Offline { .. }) => return Outcome::Offline,
        Err(e @ TileError::Corrupt { .. }) => return Outcome::Corrupt(e.to_string()),
        Err(e) => return Outcome::Failed(e.to_string()),
    };
    match TileFormat::sniff(&bytes) {
        TileFormat::Unknown => {
            Outcome::Corrupt("not a PNG, JPEG or WebP image, nor a vector tile".to_owned())
        }
        _ => {
            // MBTiles and tile servers store vector tiles gzip-compressed; walkers wants the
            // protobuf itself.
            let bytes = if bytes.starts_with(&[0x1F, 0x8B]) {
                let mut raw = Vec::new();
                let mut decoder = flate2::read::GzDecoder::new(bytes.as_slice());
                if let Err(e) = std::io::Read::read_to_end(&mut decoder, &mut raw) {
                    return Outcome::Corrupt(format!("damaged gzip stream: {e}"));
                }
                raw
            } else {
                bytes
            };
            let tile_size_px = source.info().tile_size_px.max(1);
            match Tile::new(&bytes, style, key.z, tile_size_px, ctx) {
                Ok(tile) => Outcome::Loaded(tile),
                Err(e) => Outcome::Corrupt(e.to_string()),
            }
        }
    }
}

/// One worker: takes the newest request, reads and decodes it without holding any lock, sends
/// the result back and asks egui for a repaint.
fn work(
    shared: &Shared,
    source: &dyn TileSource,
    style: &Style,
    ctx: &Context,
    arrivals: &Sender<Arrival>,
) {
    loop {
        let key = {
            let mut queue = shared.lock();
            loop {
                if queue.shutdown {
                    return;
                }
                if let Some(key) = queue.keys.pop_back() {
                    break key;
                }
                queue = shared
                    .ready
                    .wait(queue)
                    .unwrap_or_else(PoisonError::into_inner);
            }
        };
        let outcome = load(source, style, ctx, key);
        if arrivals.send(Arrival { key, outcome }).is_err() {
            return;
        }
        ctx.request_repaint();
    }
}

/// A basemap source drawn by walkers: `Map::new(Some(&mut source_tiles), ..)`.
pub struct SourceTiles {
    source: Arc<dyn TileSource>,
    shared: Arc<Shared>,
    arrivals: Receiver<Arrival>,
    cache: Lru,
    pending: HashSet<TileKey>,
    known: HashMap<TileKey, Known>,
    workers: usize,
    warned: HashSet<&'static str>,
}

impl SourceTiles {
    /// Starts `source.max_parallel()` workers (1 to [`MAX_WORKERS`]) that read tiles from
    /// `source` and decode them with `style` (vector tiles) into textures of `ctx`.
    pub fn new(source: Arc<dyn TileSource>, ctx: Context, style: Style) -> Self {
        let shared = Arc::new(Shared::default());
        let (sender, arrivals) = std::sync::mpsc::channel();
        let style = Arc::new(style);
        let wanted = source.max_parallel().clamp(1, MAX_WORKERS);
        let mut workers = 0;
        for i in 0..wanted {
            let (shared, worker_source, style, ctx, sender) = (
                Arc::clone(&shared),
                Arc::clone(&source),
                Arc::clone(&style),
                ctx.clone(),
                sender.clone(),
            );
            let spawned = std::thread::Builder::new()
                .name(format!("basemap-tiles-{i}"))
                .spawn(move || work(&shared, worker_source.as_ref(), &style, &ctx, &sender));
            match spawned {
                Ok(_) => workers += 1,
                Err(e) => log::warn!(
                    "basemap {}: cannot start a tile worker: {e}",
                    source.info().name
                ),
            }
        }
        Self {
            source,
            shared,
            arrivals,
            cache: Lru::new(CACHE_TILES),
            pending: HashSet::new(),
            known: HashMap::new(),
            workers,
            warned: HashSet::new(),
        }
    }

    /// Name, coverage, zoom range and attribution of the source (the app draws the
    /// attribution: walkers only takes static text).
    pub fn info(&self) -> &SourceInfo {
        self.source.info()
    }

    /// What the source says about its reachability (always true for files).
    pub fn online(&self) -> bool {
        self.source.online()
    }

    /// Decoded tiles in the cache, without counting the failed ones as [`Self::stats`] does
    /// (cheap enough to ask every frame).
    pub fn loaded(&self) -> usize {
        self.cache.len()
    }

    /// Loaded, pending and failed tiles (counts every remembered failure: for the status line,
    /// not for every frame).
    pub fn stats(&self) -> SourceTilesStats {
        let count = |what: Known| self.known.values().filter(|k| **k == what).count();
        SourceTilesStats {
            loaded: self.loaded(),
            missing: count(Known::Missing),
            failed_corrupt: count(Known::Corrupt),
            failed_other: count(Known::Failed),
            waiting_offline: count(Known::Offline),
            pending: self.pending.len(),
            online: self.source.online(),
        }
    }

    /// Takes what the workers finished (a bounded number per call).
    fn take_arrivals(&mut self) {
        for _ in 0..ARRIVALS_PER_CALL {
            let arrival = match self.arrivals.try_recv() {
                Ok(arrival) => arrival,
                Err(TryRecvError::Empty | TryRecvError::Disconnected) => return,
            };
            self.pending.remove(&arrival.key);
            let known = match arrival.outcome {
                Outcome::Loaded(tile) => {
                    self.cache.insert(arrival.key, tile);
                    continue;
                }
                Outcome::Missing => Known::Missing,
                Outcome::Offline => Known::Offline,
                Outcome::Corrupt(detail) => {
                    self.warn_once("corrupt", arrival.key, &detail);
                    Known::Corrupt
                }
                Outcome::Failed(detail) => {
                    self.warn_once("failed", arrival.key, &detail);
                    Known::Failed
                }
            };
            if self.known.len() >= MAX_REMEMBERED {
                self.known.clear();
            }
            self.known.insert(arrival.key, known);
        }
    }

    /// Logs the first failure of a kind for this source; later ones are only counted.
    fn warn_once(&mut self, kind: &'static str, key: TileKey, detail: &str) {
        let name = &self.source.info().name;
        if self.warned.insert(kind) {
            log::warn!(
                "basemap {name}: tile {}/{}/{} skipped ({kind}): {detail}; further {kind} tiles of this source are only counted",
                key.z,
                key.x,
                key.y
            );
        } else {
            log::debug!(
                "basemap {name}: tile {}/{}/{} skipped ({kind}): {detail}",
                key.z,
                key.x,
                key.y
            );
        }
    }

    /// Queues `key` for the workers unless it is cached, on its way, or known to be missing or
    /// broken (offline tiles are asked again once the source is back online).
    fn request(&mut self, key: TileKey) {
        if self.cache.contains(key) || self.pending.contains(&key) {
            return;
        }
        match self.known.get(&key) {
            None => {}
            Some(Known::Offline) if self.source.online() => {
                self.known.remove(&key);
            }
            Some(_) => return,
        }
        if self.workers == 0 {
            return;
        }
        let dropped: Vec<TileKey> = {
            let mut queue = self.shared.lock();
            queue.keys.push_back(key);
            let excess = queue.keys.len().saturating_sub(MAX_QUEUED);
            queue.keys.drain(..excess).collect()
        };
        self.shared.ready.notify_one();
        self.pending.insert(key);
        for old in dropped {
            self.pending.remove(&old);
        }
    }

    /// The tile itself if cached, otherwise the part of the deepest cached ancestor covering
    /// the same ground.
    fn best_available(&mut self, key: TileKey) -> Option<TilePiece> {
        let info = self.source.info();
        let (min_zoom, top) = (info.min_zoom, key.z.min(info.max_zoom));
        for zoom in (min_zoom..=top).rev() {
            let (ancestor, uv) = ancestor_uv(key, zoom);
            if let Some(tile) = self.cache.get(ancestor) {
                return Some(TilePiece::new(tile, uv));
            }
        }
        None
    }
}

impl Tiles for SourceTiles {
    fn at(&mut self, tile_id: TileId) -> Option<TilePiece> {
        self.take_arrivals();
        let key = TileKey::new(tile_id.zoom, tile_id.x, tile_id.y);
        let info = self.source.info();
        if !key.is_valid() || key.z < info.min_zoom || !covers(info, key) {
            return None;
        }
        // Deeper than the source goes: its deepest tile, over-scaled.
        let wanted = ancestor_uv(key, info.max_zoom).0;
        self.request(wanted);
        self.best_available(key)
    }

    fn attribution(&self) -> Attribution {
        Attribution {
            text: "",
            url: "",
            logo_light: None,
            logo_dark: None,
        }
    }

    fn tile_size(&self) -> u32 {
        match self.source.info().tile_size_px {
            0 => 256,
            size => size,
        }
    }

    fn stats(&self) -> walkers::Stats {
        walkers::Stats {
            in_progress: self.pending.len(),
        }
    }
}

impl Drop for SourceTiles {
    /// Tells the workers to stop (a worker inside a slow read stops when it returns; nothing
    /// waits for it).
    fn drop(&mut self) {
        self.shared.lock().shutdown = true;
        self.shared.ready.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ancestor_of_a_tile_and_its_quarter() {
        let (a, uv) = ancestor_uv(TileKey::new(3, 5, 6), 2);
        assert_eq!(a, TileKey::new(2, 2, 3));
        assert_eq!(uv, Rect::from_min_max(pos2(0.5, 0.0), pos2(1.0, 0.5)));
        let (same, uv) = ancestor_uv(TileKey::new(3, 5, 6), 3);
        assert_eq!(same, TileKey::new(3, 5, 6));
        assert_eq!(uv, Rect::from_min_max(pos2(0.0, 0.0), pos2(1.0, 1.0)));
    }

    #[test]
    fn bounds_rule_out_tiles_elsewhere() {
        let info = SourceInfo {
            name: "t".into(),
            kind: crate::tiles::SourceKind::XyzDir,
            min_zoom: 0,
            max_zoom: 10,
            bounds: Some(crate::tiles::BoundsLonLat {
                west_lon: 65.0,
                south_lat: 56.0,
                east_lon: 70.0,
                north_lat: 59.0,
            }),
            attribution: String::new(),
            format: TileFormat::Png,
            tile_size_px: 256,
        };
        assert!(covers(&info, TileKey::new(0, 0, 0)));
        // Zoom 4: x 12 spans 90..112.5° E; the region lies in x 10 (45..67.5) and 11.
        assert!(covers(&info, TileKey::new(4, 10, 4)));
        assert!(!covers(&info, TileKey::new(4, 12, 4)));
        assert!(
            !covers(&info, TileKey::new(4, 10, 9)),
            "southern hemisphere"
        );
    }
}
