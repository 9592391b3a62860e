//! Tiles from an HTTP(S) server — OpenStreetMap or any XYZ URL template the user enters — kept
//! in a disk cache so the map keeps working offline.
//!
//! **Templates.** `{z}`, `{x}` and `{y}` (or `{-y}` for TMS rows, counted from the south) are
//! required; `{s}` picks one of the subdomains `a`, `b`, `c` per tile. Anything else in braces is
//! refused when the source is created.
//!
//! **Cache.** Every source caches under `<cache_dir>/<host>-<template hash>/{z}/{x}/{y}.tile`
//! (by default the user's cache directory, see [`default_cache_dir`]). A cached tile is served
//! without asking the server: there is no revalidation and no expiry, a tile stays until it is
//! evicted or the cache is cleared ([`HttpSource::clear_cache`]). Files are written to a temporary
//! name and renamed, so a crash never leaves half a tile. The cache has a size limit: when a write
//! takes it over, the least recently used tiles (by modification time, which a read hit renews)
//! are deleted until it is under 90 % of the limit. The total is counted once (on first use) and
//! then kept in memory. Bodies that are not a known tile format are returned but not cached.
//!
//! **Network.** At most two downloads run at once per source (a counting semaphore inside the
//! source, whatever the caller's thread count), with a User-Agent naming Teplokarta and its
//! version, as the OpenStreetMap tile usage policy requires. 404 and 204 mean "no such tile"
//! (`Ok(None)`); other error statuses (5xx, 429, 403) are errors and are not cached. When the
//! server cannot be reached (refused, timed out, DNS), the source goes offline: one log line,
//! [`TileSource::online`] turns `false`, and for a back-off period (2 s doubling to 60 s) requests
//! for tiles not in the cache fail at once with [`TileError::Offline`] without touching the
//! network. After the period one request probes the server; the first answer brings the source
//! back online (one more log line).

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use super::mbtiles::format_from_name;
use super::{SourceInfo, SourceKind, TileError, TileFormat, TileKey, TileSource};

/// The OpenStreetMap standard tile layer.
pub const OSM_URL_TEMPLATE: &str = "https://tile.openstreetmap.org/{z}/{x}/{y}.png";
/// Attribution the OpenStreetMap licence requires.
pub const OSM_ATTRIBUTION: &str = "© OpenStreetMap contributors";
/// Default size limit of a source's disk cache.
pub const DEFAULT_CACHE_LIMIT_BYTES: u64 = 500 * 1024 * 1024;
/// At most this many downloads run at once per source.
pub const MAX_PARALLEL_DOWNLOADS: usize = 2;

/// First wait after the server turned out unreachable.
const BACKOFF_FIRST: Duration = Duration::from_secs(2);
/// Longest wait between two attempts while offline.
const BACKOFF_MAX: Duration = Duration::from_secs(60);
/// Bodies larger than this are not tiles.
const MAX_BODY_BYTES: u64 = 16 * 1024 * 1024;
/// After eviction the cache holds at most this share of its limit.
const EVICT_TO_PERCENT: u64 = 90;
/// Extension of cached tiles; anything else in the cache folder is a temporary file.
const TILE_EXTENSION: &str = "tile";

/// The User-Agent sent by default: `Teplokarta/<version> (...)`, with the project's address when
/// Cargo.toml states a `repository` (the OSM tile policy asks for a way to contact the author).
pub fn default_user_agent() -> String {
    let version = env!("CARGO_PKG_VERSION");
    let repository = env!("CARGO_PKG_REPOSITORY");
    if repository.is_empty() {
        format!("Teplokarta/{version} (desktop GIS viewer)")
    } else {
        format!("Teplokarta/{version} (+{repository})")
    }
}

/// Where tiles are cached by default: `tiles` in Teplokarta's cache directory
/// (`~/.cache/teplokarta/tiles` on Linux). `None` when the platform has no home directory.
pub fn default_cache_dir() -> Option<PathBuf> {
    let dirs = directories::ProjectDirs::from("", "", "teplokarta")?;
    Some(dirs.cache_dir().join("tiles"))
}

/// How to reach a tile server and where to cache its tiles.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpOptions {
    /// `https://host/{z}/{x}/{y}.png`; also `{-y}` (TMS rows) and `{s}` (subdomains a, b, c).
    pub url_template: String,
    /// Name to show for the source.
    pub name: String,
    pub attribution: String,
    /// Folder holding the caches of all servers; `None`: no disk cache.
    pub cache_dir: Option<PathBuf>,
    /// Size limit of this server's cache.
    pub cache_limit_bytes: u64,
    pub max_zoom: u8,
    pub user_agent: String,
    /// Longest time one download may take (connecting, waiting, reading).
    pub timeout: Duration,
}

impl Default for HttpOptions {
    /// OpenStreetMap, cached in [`default_cache_dir`].
    fn default() -> Self {
        openstreetmap(default_cache_dir())
    }
}

/// Options for the OpenStreetMap standard layer, cached in `cache_dir` (`None`: no disk cache).
pub fn openstreetmap(cache_dir: Option<PathBuf>) -> HttpOptions {
    HttpOptions {
        url_template: OSM_URL_TEMPLATE.to_owned(),
        name: "OpenStreetMap".to_owned(),
        attribution: OSM_ATTRIBUTION.to_owned(),
        cache_dir,
        cache_limit_bytes: DEFAULT_CACHE_LIMIT_BYTES,
        max_zoom: 19,
        user_agent: default_user_agent(),
        timeout: Duration::from_secs(10),
    }
}

/// A tile server with a disk cache. See the module's documentation.
pub struct HttpSource {
    info: SourceInfo,
    template: UrlTemplate,
    agent: ureq::Agent,
    cache: Option<DiskCache>,
    downloads: Semaphore,
    net: Mutex<NetState>,
    attempts: AtomicU64,
}

impl std::fmt::Debug for HttpSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpSource")
            .field("info", &self.info)
            .field("template", &self.template.text)
            .field("cache", &self.cache.as_ref().map(|c| &c.root))
            .finish_non_exhaustive()
    }
}

impl HttpSource {
    /// A source for `options.url_template`. Nothing is downloaded or read from disk yet.
    ///
    /// # Errors
    /// [`TileError::Http`] naming the template when it is not an `http(s)://` URL with `{z}`,
    /// `{x}` and `{y}` (or `{-y}`), or has an unknown `{placeholder}`.
    pub fn new(options: HttpOptions) -> Result<Self, TileError> {
        let template = UrlTemplate::parse(&options.url_template)?;
        let mut config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .user_agent(options.user_agent.as_str())
            .timeout_global(Some(options.timeout))
            .timeout_connect(Some(options.timeout.min(Duration::from_secs(5))))
            .max_idle_connections_per_host(MAX_PARALLEL_DOWNLOADS);
        if template.is_loopback() {
            // A local server is never reached through the system's proxy.
            config = config.proxy(None);
        }
        let agent: ureq::Agent = config.build().into();
        let cache = options.cache_dir.as_ref().map(|dir| DiskCache {
            root: dir.join(template.cache_folder_name()),
            limit_bytes: options.cache_limit_bytes,
            total_bytes: AtomicU64::new(0),
            scanned: OnceLock::new(),
            evicting: Mutex::new(()),
            last_stamp: Mutex::new(SystemTime::UNIX_EPOCH),
            temp_counter: AtomicU64::new(0),
            write_failure_logged: AtomicBool::new(false),
        });
        let info = SourceInfo {
            name: options.name,
            kind: SourceKind::Http,
            min_zoom: 0,
            max_zoom: options.max_zoom,
            bounds: None,
            attribution: options.attribution,
            format: template.format_from_extension(),
            tile_size_px: 256,
        };
        Ok(Self {
            info,
            template,
            agent,
            cache,
            downloads: Semaphore::new(MAX_PARALLEL_DOWNLOADS),
            net: Mutex::new(NetState::default()),
            attempts: AtomicU64::new(0),
        })
    }

    /// The URL of one tile.
    pub fn tile_url(&self, key: TileKey) -> String {
        self.template.url(key)
    }

    /// Where the tile is (or would be) cached; `None` without a disk cache.
    pub fn cached_path(&self, key: TileKey) -> Option<PathBuf> {
        self.cache.as_ref().map(|c| c.path(key))
    }

    /// This server's cache folder; `None` without a disk cache.
    pub fn cache_root(&self) -> Option<&Path> {
        self.cache.as_ref().map(|c| c.root.as_path())
    }

    /// Bytes in this server's cache (counted on first use, then kept up to date).
    pub fn cache_size_bytes(&self) -> u64 {
        self.cache.as_ref().map_or(0, DiskCache::size_bytes)
    }

    /// Deletes every cached tile of this server; returns the bytes freed.
    ///
    /// # Errors
    /// [`TileError::Io`] naming the file or folder that could not be deleted.
    pub fn clear_cache(&self) -> Result<u64, TileError> {
        self.cache.as_ref().map_or(Ok(0), DiskCache::clear)
    }

    /// How many times the source has tried to reach the server (each download or probe).
    pub fn attempts(&self) -> u64 {
        self.attempts.load(Ordering::Relaxed)
    }

    fn net(&self) -> MutexGuard<'_, NetState> {
        self.net.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// `Err(Offline)` while the back-off runs or another request is probing the server;
    /// `Ok(true)` when this request is the probe that ends the back-off.
    fn admit(&self, url: &str, claim_probe: bool) -> Result<bool, TileError> {
        let mut net = self.net();
        if !net.offline {
            return Ok(false);
        }
        let now = Instant::now();
        if now < net.retry_at || net.probe_in_flight {
            let retry_in = net.retry_at.saturating_duration_since(now);
            return Err(TileError::Offline {
                url: url.to_owned(),
                retry_in_s: retry_in.as_secs() + u64::from(retry_in.subsec_nanos() > 0),
            });
        }
        if claim_probe {
            net.probe_in_flight = true;
        }
        Ok(true)
    }

    /// Records that the server answered (with any status).
    fn reached(&self, is_probe: bool) {
        let mut net = self.net();
        if is_probe {
            net.probe_in_flight = false;
        }
        if net.offline {
            net.offline = false;
            net.delay = Duration::ZERO;
            log::info!(
                "{}: tile server reachable again, back online",
                self.info.name
            );
        }
    }

    /// Records that the server could not be reached; returns the `Offline` error to give.
    fn unreachable(&self, url: &str, is_probe: bool, detail: &str) -> TileError {
        let mut net = self.net();
        let now = Instant::now();
        if is_probe {
            net.probe_in_flight = false;
        }
        if !net.offline {
            net.offline = true;
            net.delay = BACKOFF_FIRST;
            net.retry_at = now + net.delay;
            log::warn!(
                "{}: tile server not reachable ({detail}); offline, serving cached tiles only",
                self.info.name
            );
        } else if is_probe {
            net.delay = (net.delay * 2).clamp(BACKOFF_FIRST, BACKOFF_MAX);
            net.retry_at = now + net.delay;
            log::debug!(
                "{}: still offline, next attempt in {:?}",
                self.info.name,
                net.delay
            );
        }
        let retry_in = net.retry_at.saturating_duration_since(now);
        TileError::Offline {
            url: url.to_owned(),
            retry_in_s: retry_in.as_secs() + u64::from(retry_in.subsec_nanos() > 0),
        }
    }

    /// Downloads one tile (the caller checked the cache).
    fn download(&self, key: TileKey) -> Result<Option<Vec<u8>>, TileError> {
        let url = self.template.url(key);
        // Fail fast while offline, without queueing for a download slot.
        self.admit(&url, false)?;
        let _permit = self.downloads.acquire();
        // The server may have gone away while this request waited for its slot.
        let is_probe = self.admit(&url, true)?;
        self.attempts.fetch_add(1, Ordering::Relaxed);
        let result = self.agent.get(&url).call().and_then(|mut response| {
            let status = response.status().as_u16();
            let body = if status == 200 {
                response
                    .body_mut()
                    .with_config()
                    .limit(MAX_BODY_BYTES)
                    .read_to_vec()?
            } else {
                Vec::new()
            };
            Ok((status, body))
        });
        match result {
            Ok((status, body)) => {
                self.reached(is_probe);
                match status {
                    200 if body.is_empty() => Ok(None),
                    200 => {
                        if TileFormat::sniff(&body) != TileFormat::Unknown
                            && let Some(cache) = &self.cache
                        {
                            cache.store(key, &body);
                        }
                        Ok(Some(body))
                    }
                    204 | 404 => Ok(None),
                    _ => Err(TileError::Http {
                        url,
                        detail: format!("server answered HTTP {status}"),
                    }),
                }
            }
            Err(error) if is_unreachable(&error) => {
                Err(self.unreachable(&url, is_probe, &error.to_string()))
            }
            Err(error) => {
                // The server was reached but the exchange failed (TLS, protocol, body too large).
                self.reached(is_probe);
                Err(TileError::Http {
                    url,
                    detail: error.to_string(),
                })
            }
        }
    }
}

impl TileSource for HttpSource {
    fn info(&self) -> &SourceInfo {
        &self.info
    }

    fn tile(&self, key: TileKey) -> Result<Option<Vec<u8>>, TileError> {
        if !key.is_valid() || key.z > self.info.max_zoom {
            return Ok(None);
        }
        if let Some(bytes) = self.cache.as_ref().and_then(|c| c.load(key)) {
            return Ok(Some(bytes));
        }
        self.download(key)
    }

    fn max_parallel(&self) -> usize {
        MAX_PARALLEL_DOWNLOADS
    }

    fn online(&self) -> bool {
        !self.net().offline
    }
}

/// True for failures that mean "the server cannot be reached" rather than "it answered badly".
fn is_unreachable(error: &ureq::Error) -> bool {
    matches!(
        error,
        ureq::Error::Io(_)
            | ureq::Error::Timeout(_)
            | ureq::Error::HostNotFound
            | ureq::Error::ConnectionFailed
    )
}

/// Reachability of the server and the back-off while it is not reachable.
#[derive(Debug)]
struct NetState {
    offline: bool,
    /// Current back-off period.
    delay: Duration,
    /// While offline: when the next probe may go out.
    retry_at: Instant,
    /// A request is probing the server after the back-off; the others still fail at once.
    probe_in_flight: bool,
}

impl Default for NetState {
    fn default() -> Self {
        Self {
            offline: false,
            delay: Duration::ZERO,
            retry_at: Instant::now(),
            probe_in_flight: false,
        }
    }
}

/// A counting semaphore: at most `n` holders of a [`Permit`] at once.
#[derive(Debug)]
struct Semaphore {
    free: Mutex<usize>,
    released: Condvar,
}

impl Semaphore {
    fn new(n: usize) -> Self {
        Self {
            free: Mutex::new(n),
            released: Condvar::new(),
        }
    }

    fn acquire(&self) -> Permit<'_> {
        let mut free = self.free.lock().unwrap_or_else(PoisonError::into_inner);
        while *free == 0 {
            free = self
                .released
                .wait(free)
                .unwrap_or_else(PoisonError::into_inner);
        }
        *free -= 1;
        Permit { semaphore: self }
    }
}

/// One slot of a [`Semaphore`], given back on drop.
struct Permit<'a> {
    semaphore: &'a Semaphore,
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        let mut free = self
            .semaphore
            .free
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        *free += 1;
        self.semaphore.released.notify_one();
    }
}

/// A parsed URL template.
#[derive(Clone, Debug)]
struct UrlTemplate {
    text: String,
    parts: Vec<Part>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Part {
    Literal(String),
    Z,
    X,
    Y,
    TmsY,
    Subdomain,
}

const SUBDOMAINS: [&str; 3] = ["a", "b", "c"];

impl UrlTemplate {
    fn parse(text: &str) -> Result<Self, TileError> {
        let invalid = |detail: String| TileError::Http {
            url: text.to_owned(),
            detail,
        };
        let lower = text.to_ascii_lowercase();
        if !(lower.starts_with("http://") || lower.starts_with("https://")) {
            return Err(invalid(
                "the address must start with http:// or https://".into(),
            ));
        }
        let mut parts = Vec::new();
        let mut rest = text;
        while let Some(open) = rest.find('{') {
            if open > 0 {
                parts.push(Part::Literal(rest[..open].to_owned()));
            }
            let Some(close) = rest[open..].find('}') else {
                return Err(invalid("a '{' is not closed".into()));
            };
            let name = &rest[open + 1..open + close];
            parts.push(match name {
                "z" => Part::Z,
                "x" => Part::X,
                "y" => Part::Y,
                "-y" => Part::TmsY,
                "s" => Part::Subdomain,
                other => {
                    return Err(invalid(format!(
                        "unknown placeholder {{{other}}} (known: {{z}} {{x}} {{y}} {{-y}} {{s}})"
                    )));
                }
            });
            rest = &rest[open + close + 1..];
        }
        if !rest.is_empty() {
            parts.push(Part::Literal(rest.to_owned()));
        }
        let has = |p: &Part| parts.contains(p);
        if !has(&Part::Z) || !has(&Part::X) || !(has(&Part::Y) || has(&Part::TmsY)) {
            return Err(invalid(
                "the address needs {z}, {x} and {y} (or {-y} for TMS rows)".into(),
            ));
        }
        Ok(Self {
            text: text.to_owned(),
            parts,
        })
    }

    fn url(&self, key: TileKey) -> String {
        let mut url = String::with_capacity(self.text.len() + 16);
        for part in &self.parts {
            match part {
                Part::Literal(s) => url.push_str(s),
                Part::Z => url.push_str(&key.z.to_string()),
                Part::X => url.push_str(&key.x.to_string()),
                Part::Y => url.push_str(&key.y.to_string()),
                Part::TmsY => url.push_str(&key.tms_y().to_string()),
                Part::Subdomain => {
                    let index = (u64::from(key.x) + u64::from(key.y)) % SUBDOMAINS.len() as u64;
                    url.push_str(SUBDOMAINS[usize::try_from(index).unwrap_or(0)]);
                }
            }
        }
        url
    }

    /// The host part of the template (placeholders included), e.g. `{s}.tile.example.org:8080`.
    fn host(&self) -> &str {
        let after_scheme = self
            .text
            .split_once("://")
            .map_or(self.text.as_str(), |(_, r)| r);
        let end = after_scheme
            .find(['/', '?', '#'])
            .unwrap_or(after_scheme.len());
        let authority = &after_scheme[..end];
        authority.rsplit_once('@').map_or(authority, |(_, h)| h)
    }

    fn is_loopback(&self) -> bool {
        let host = self.host().to_ascii_lowercase();
        let name = if host.starts_with('[') {
            host.split(']')
                .next()
                .unwrap_or("")
                .trim_start_matches('[')
                .to_owned()
        } else {
            host.split(':').next().unwrap_or("").to_owned()
        };
        name == "localhost"
            || name == "::1"
            || name
                .parse::<std::net::Ipv4Addr>()
                .is_ok_and(|ip| ip.is_loopback())
    }

    /// `<host>-<hash of the template>`: readable, and distinct for two layers of one server.
    fn cache_folder_name(&self) -> String {
        let host: String = self
            .host()
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                    c.to_ascii_lowercase()
                } else {
                    '_'
                }
            })
            .take(64)
            .collect();
        format!("{host}-{}", template_hash(&self.text))
    }

    fn format_from_extension(&self) -> TileFormat {
        let Some(Part::Literal(last)) = self.parts.last() else {
            return TileFormat::Unknown;
        };
        let path = last.split(['?', '#']).next().unwrap_or("");
        path.rsplit_once('.')
            .and_then(|(_, ext)| format_from_name(ext))
            .unwrap_or(TileFormat::Unknown)
    }
}

/// A stable hash of the template (SHA-256, first 8 bytes as hex): stable across runs and builds,
/// unlike `DefaultHasher`.
fn template_hash(text: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(text.as_bytes());
    digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

/// One server's folder of cached tiles.
#[derive(Debug)]
struct DiskCache {
    root: PathBuf,
    limit_bytes: u64,
    /// Bytes of `.tile` files under `root`; valid once `scanned` is set.
    total_bytes: AtomicU64,
    scanned: OnceLock<()>,
    /// Held by the thread evicting; the others skip eviction.
    evicting: Mutex<()>,
    /// Last modification time given to a file: each write or hit gets a later one, so the
    /// least-recently-used order is exact even when the clock's grain is coarse.
    last_stamp: Mutex<SystemTime>,
    temp_counter: AtomicU64,
    write_failure_logged: AtomicBool,
}

impl DiskCache {
    fn path(&self, key: TileKey) -> PathBuf {
        self.root
            .join(key.z.to_string())
            .join(key.x.to_string())
            .join(format!("{}.{TILE_EXTENSION}", key.y))
    }

    /// Counts the cache once, on first use (not in `new`, which may run on the UI thread).
    fn ensure_scanned(&self) {
        self.scanned.get_or_init(|| {
            let total = scan_tiles(&self.root).iter().map(|f| f.len).sum();
            self.total_bytes.store(total, Ordering::Relaxed);
        });
    }

    fn size_bytes(&self) -> u64 {
        self.ensure_scanned();
        self.total_bytes.load(Ordering::Relaxed)
    }

    /// A later modification time than any given so far.
    fn next_stamp(&self) -> SystemTime {
        let mut last = self
            .last_stamp
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let now = SystemTime::now();
        let stamp = if now > *last {
            now
        } else {
            *last + Duration::from_micros(1)
        };
        *last = stamp;
        stamp
    }

    /// The cached bytes of a tile, its modification time renewed (it is now recently used).
    fn load(&self, key: TileKey) -> Option<Vec<u8>> {
        let path = self.path(key);
        let bytes = fs::read(&path).ok()?;
        if let Ok(file) = fs::File::options().write(true).open(&path) {
            // Failing to renew only makes the tile look older to eviction.
            let _ = file.set_modified(self.next_stamp());
        }
        Some(bytes)
    }

    /// Writes a tile (temporary file, then rename), then evicts if over the limit. Failures are
    /// logged once and otherwise ignored: the tile was downloaded, the map can show it.
    fn store(&self, key: TileKey, bytes: &[u8]) {
        self.ensure_scanned();
        let path = self.path(key);
        match self.write_atomically(&path, bytes) {
            Ok(replaced_len) => {
                let len = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
                if self.adjust_total(len, replaced_len) > self.limit_bytes {
                    self.evict();
                }
            }
            Err(error) => {
                if !self.write_failure_logged.swap(true, Ordering::Relaxed) {
                    log::warn!(
                        "tile cache {}: cannot write {} ({error}); tiles are not cached",
                        self.root.display(),
                        path.display()
                    );
                }
            }
        }
    }

    /// Adds `added` and takes `removed` bytes from the running total; returns the new total.
    fn adjust_total(&self, added: u64, removed: u64) -> u64 {
        let mut total = 0;
        let _ = self
            .total_bytes
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |t| {
                total = t.saturating_add(added).saturating_sub(removed);
                Some(total)
            });
        total
    }

    /// Writes `bytes` to `path` through a temporary file; returns the length of the file
    /// replaced (0 if none).
    fn write_atomically(&self, path: &Path, bytes: &[u8]) -> io::Result<u64> {
        let Some(dir) = path.parent() else {
            return Err(io::Error::other("tile path has no folder"));
        };
        fs::create_dir_all(dir)?;
        let temp = dir.join(format!(
            ".{}-{}-{}.tmp",
            path.file_name().and_then(|n| n.to_str()).unwrap_or("tile"),
            std::process::id(),
            self.temp_counter.fetch_add(1, Ordering::Relaxed)
        ));
        let written = (|| {
            let mut file = fs::File::create(&temp)?;
            file.write_all(bytes)?;
            file.set_modified(self.next_stamp())?;
            file.sync_data()
        })();
        if let Err(error) = written {
            let _ = fs::remove_file(&temp);
            return Err(error);
        }
        let replaced_len = fs::metadata(path).map_or(0, |m| m.len());
        if let Err(error) = fs::rename(&temp, path) {
            let _ = fs::remove_file(&temp);
            return Err(error);
        }
        Ok(replaced_len)
    }

    /// Deletes the least recently used tiles until the cache is under 90 % of its limit, and
    /// recounts the total from the files seen.
    fn evict(&self) {
        let Ok(_guard) = self.evicting.try_lock() else {
            return; // Another thread is evicting.
        };
        let mut files = scan_tiles(&self.root);
        let mut total: u64 = files.iter().map(|f| f.len).sum();
        let target = self.limit_bytes / 100 * EVICT_TO_PERCENT
            + self.limit_bytes % 100 * EVICT_TO_PERCENT / 100;
        if total > self.limit_bytes {
            files.sort_by(|a, b| {
                a.modified
                    .cmp(&b.modified)
                    .then_with(|| a.path.cmp(&b.path))
            });
            for file in &files {
                if total <= target {
                    break;
                }
                match fs::remove_file(&file.path) {
                    Ok(()) => total = total.saturating_sub(file.len),
                    Err(error) if error.kind() == io::ErrorKind::NotFound => {
                        total = total.saturating_sub(file.len);
                    }
                    Err(error) => {
                        log::debug!("tile cache: cannot delete {}: {error}", file.path.display());
                    }
                }
            }
        }
        self.total_bytes.store(total, Ordering::Relaxed);
    }

    fn clear(&self) -> Result<u64, TileError> {
        let _guard = self.evicting.lock().unwrap_or_else(PoisonError::into_inner);
        let mut freed = 0;
        for file in scan_tiles(&self.root) {
            match fs::remove_file(&file.path) {
                Ok(()) => freed += file.len,
                Err(error) if error.kind() == io::ErrorKind::NotFound => {}
                Err(source) => {
                    return Err(TileError::Io {
                        path: file.path,
                        source,
                    });
                }
            }
        }
        match fs::remove_dir_all(&self.root) {
            Ok(()) => {}
            Err(error) if error.kind() == io::ErrorKind::NotFound => {}
            Err(source) => {
                return Err(TileError::Io {
                    path: self.root.clone(),
                    source,
                });
            }
        }
        self.scanned.get_or_init(|| ());
        self.total_bytes.store(0, Ordering::Relaxed);
        Ok(freed)
    }
}

/// A cached tile found on disk.
#[derive(Debug)]
struct CachedFile {
    path: PathBuf,
    len: u64,
    modified: SystemTime,
}

/// Every `.tile` file under `root` (`{z}/{x}/{y}.tile`); unreadable entries are skipped.
fn scan_tiles(root: &Path) -> Vec<CachedFile> {
    let mut files = Vec::new();
    let mut folders = vec![root.to_owned()];
    while let Some(folder) = folders.pop() {
        let Ok(entries) = fs::read_dir(&folder) else {
            continue;
        };
        for entry in entries.flatten() {
            let Ok(file_type) = entry.file_type() else {
                continue;
            };
            let path = entry.path();
            if file_type.is_dir() {
                folders.push(path);
            } else if file_type.is_file()
                && path.extension().is_some_and(|e| e == TILE_EXTENSION)
                && let Ok(metadata) = entry.metadata()
            {
                files.push(CachedFile {
                    path,
                    len: metadata.len(),
                    modified: metadata.modified().unwrap_or(SystemTime::UNIX_EPOCH),
                });
            }
        }
    }
    files
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_needs_z_x_y() {
        assert!(UrlTemplate::parse("https://a.example/{z}/{x}/{y}.png").is_ok());
        assert!(UrlTemplate::parse("https://a.example/{z}/{x}/{-y}.png").is_ok());
        assert!(UrlTemplate::parse("https://a.example/{z}/{x}.png").is_err());
        assert!(UrlTemplate::parse("https://a.example/{z}/{x}/{y}/{r}.png").is_err());
        assert!(UrlTemplate::parse("ftp://a.example/{z}/{x}/{y}.png").is_err());
        assert!(UrlTemplate::parse("https://a.example/{z/{x}/{y}.png").is_err());
    }

    #[test]
    fn template_fills_subdomains_and_tms_rows() {
        let t = UrlTemplate::parse("https://{s}.tile.example/{z}/{x}/{-y}.png?k=1").unwrap();
        // z=2: TMS row of y=0 is 3.
        assert_eq!(
            t.url(TileKey::new(2, 1, 0)),
            "https://b.tile.example/2/1/3.png?k=1"
        );
        assert_eq!(
            t.url(TileKey::new(2, 1, 1)),
            "https://c.tile.example/2/1/2.png?k=1"
        );
        assert_eq!(
            t.url(TileKey::new(2, 0, 0)),
            "https://a.tile.example/2/0/3.png?k=1"
        );
        assert_eq!(t.format_from_extension(), TileFormat::Png);
    }

    #[test]
    fn cache_folder_is_named_after_host_and_template() {
        let a = UrlTemplate::parse("http://127.0.0.1:8080/{z}/{x}/{y}.png").unwrap();
        let b = UrlTemplate::parse("http://127.0.0.1:8080/{z}/{x}/{y}.jpg").unwrap();
        assert!(a.cache_folder_name().starts_with("127.0.0.1_8080-"));
        assert_ne!(a.cache_folder_name(), b.cache_folder_name());
        assert!(a.is_loopback());
        assert!(!UrlTemplate::parse(OSM_URL_TEMPLATE).unwrap().is_loopback());
    }

    #[test]
    fn user_agent_names_teplokarta_and_version() {
        let ua = openstreetmap(None).user_agent;
        assert!(ua.starts_with(concat!("Teplokarta/", env!("CARGO_PKG_VERSION"))));
    }
}
