//! The HTTP tile source against a hand-written HTTP/1.1 server on 127.0.0.1 (no internet): disk
//! cache hits, User-Agent, size limit with least-recently-used eviction, offline behaviour and
//! back-off, the two-download cap, 404s, clearing the cache, TMS rows.
//!
//! The server answers `/{z}/{x}/{y}.png` with a solid-colour PNG, except zoom 13, which is
//! answered 404 ("no such tile").

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers may panic

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use teplokarta::tiles::http::{HttpOptions, HttpSource, openstreetmap};
use teplokarta::tiles::{TileError, TileFormat, TileKey, TileSource};

/// Zoom level the test server has no tiles for.
const MISSING_Z: u8 = 13;

/// One request the server received.
#[derive(Clone, Debug)]
struct Seen {
    path: String,
    user_agent: Option<String>,
}

#[derive(Default)]
struct ServerState {
    requests: Mutex<Vec<Seen>>,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
    stop: AtomicBool,
}

struct TestServer {
    addr: SocketAddr,
    state: Arc<ServerState>,
    accept_thread: Option<JoinHandle<()>>,
}

impl TestServer {
    /// A server on a free port; each answer waits `delay` first.
    fn start(delay: Duration) -> Self {
        Self::start_on(TcpListener::bind("127.0.0.1:0").unwrap(), delay)
    }

    fn start_on(listener: TcpListener, delay: Duration) -> Self {
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(ServerState::default());
        let accept_state = Arc::clone(&state);
        let accept_thread = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if accept_state.stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let state = Arc::clone(&accept_state);
                std::thread::spawn(move || handle(stream, &state, delay));
            }
            // The listener is dropped here: the port refuses connections from now on.
        });
        Self {
            addr,
            state,
            accept_thread: Some(accept_thread),
        }
    }

    fn template(&self) -> String {
        format!("http://{}/{{z}}/{{x}}/{{y}}.png", self.addr)
    }

    fn request_count(&self) -> usize {
        self.state.requests.lock().unwrap().len()
    }

    fn requests(&self) -> Vec<Seen> {
        self.state.requests.lock().unwrap().clone()
    }

    fn max_in_flight(&self) -> usize {
        self.state.max_in_flight.load(Ordering::SeqCst)
    }

    /// Stops accepting and closes the port.
    fn stop(&mut self) {
        self.state.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so that it sees the flag.
        let _ = TcpStream::connect(self.addr);
        if let Some(thread) = self.accept_thread.take() {
            thread.join().unwrap();
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if self.accept_thread.is_some() {
            self.stop();
        }
    }
}

fn handle(mut stream: TcpStream, state: &ServerState, delay: Duration) {
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    let mut lines = head.lines();
    let path = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .unwrap_or("")
        .to_owned();
    let user_agent = lines.find_map(|l| {
        let (name, value) = l.split_once(':')?;
        name.eq_ignore_ascii_case("user-agent")
            .then(|| value.trim().to_owned())
    });
    state.requests.lock().unwrap().push(Seen {
        path: path.clone(),
        user_agent,
    });
    let now = state.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    state.max_in_flight.fetch_max(now, Ordering::SeqCst);
    std::thread::sleep(delay);
    // Counted out before answering: the client cannot start its next request before this.
    state.in_flight.fetch_sub(1, Ordering::SeqCst);

    let (status, body) = route(&path);
    let reason = match status {
        200 => "OK",
        404 => "Not Found",
        _ => "Bad Request",
    };
    let response_head = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: image/png\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(response_head.as_bytes());
    let _ = stream.write_all(&body);
    let _ = stream.flush();
}

/// `/{z}/{x}/{y}.png` → a PNG coloured after the tile; zoom 13 → 404.
fn route(path: &str) -> (u16, Vec<u8>) {
    let numbers: Vec<u32> = path
        .trim_start_matches('/')
        .trim_end_matches(".png")
        .split('/')
        .filter_map(|p| p.parse().ok())
        .collect();
    match numbers[..] {
        [z, ..] if z == u32::from(MISSING_Z) => (404, Vec::new()),
        [z, x, y] => (200, tile_png(z, x, y)),
        _ => (400, Vec::new()),
    }
}

/// A solid-colour PNG whose colour depends on the tile.
fn tile_png(z: u32, x: u32, y: u32) -> Vec<u8> {
    common::solid_png([
        (z * 40 % 256) as u8,
        (x * 40 % 256) as u8,
        (y * 40 % 256) as u8,
    ])
}

fn options(template: String, cache_dir: &Path) -> HttpOptions {
    HttpOptions {
        url_template: template,
        name: "test server".into(),
        timeout: Duration::from_secs(5),
        ..openstreetmap(Some(cache_dir.to_owned()))
    }
}

fn source(server: &TestServer, cache_dir: &Path) -> HttpSource {
    HttpSource::new(options(server.template(), cache_dir)).unwrap()
}

#[test]
fn second_request_is_served_from_disk() {
    let server = TestServer::start(Duration::ZERO);
    let cache = tempfile::tempdir().unwrap();
    let source = source(&server, cache.path());
    let key = TileKey::new(3, 2, 5);

    let first = source.tile(key).unwrap().unwrap();
    assert_eq!(server.request_count(), 1);
    assert_eq!(TileFormat::sniff(&first), TileFormat::Png);
    assert_eq!(first, tile_png(3, 2, 5));
    let on_disk = source.cached_path(key).unwrap();
    assert!(on_disk.starts_with(cache.path()));
    assert_eq!(std::fs::read(&on_disk).unwrap(), first);

    let second = source.tile(key).unwrap().unwrap();
    assert_eq!(
        server.request_count(),
        1,
        "the second request went to the server"
    );
    assert_eq!(second, first);

    // A new source over the same folder (the next start of the app) also finds it.
    let again = HttpSource::new(options(server.template(), cache.path())).unwrap();
    assert_eq!(again.tile(key).unwrap().unwrap(), first);
    assert_eq!(server.request_count(), 1);
    assert_eq!(again.cache_size_bytes(), first.len() as u64);
    // No temporary files are left next to the tile.
    let folder: Vec<_> = std::fs::read_dir(on_disk.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(folder, vec![on_disk.file_name().unwrap().to_owned()]);
}

#[test]
fn user_agent_names_teplokarta_and_its_version() {
    let server = TestServer::start(Duration::ZERO);
    let cache = tempfile::tempdir().unwrap();
    source(&server, cache.path())
        .tile(TileKey::new(1, 0, 0))
        .unwrap();
    let seen = server.requests();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].path, "/1/0/0.png");
    let ua = seen[0].user_agent.clone().unwrap();
    assert!(ua.starts_with("Teplokarta/"), "{ua}");
    assert!(ua.contains(env!("CARGO_PKG_VERSION")), "{ua}");
}

#[test]
fn size_limit_evicts_least_recently_used_tiles() {
    let server = TestServer::start(Duration::ZERO);
    let cache = tempfile::tempdir().unwrap();
    let keys: Vec<TileKey> = (0..5).map(|i| TileKey::new(4, i, 1)).collect();
    let sizes: Vec<u64> = keys
        .iter()
        .map(|k| tile_png(4, k.x, k.y).len() as u64)
        .collect();
    let largest = *sizes.iter().max().unwrap();
    let smallest = *sizes.iter().min().unwrap();
    assert!(
        largest - smallest < largest / 20,
        "fixture tiles differ in size: {sizes:?}"
    );
    // Room for three and a half tiles: the fourth goes over the limit.
    let limit = largest * 3 + largest / 2;
    let source = HttpSource::new(HttpOptions {
        cache_limit_bytes: limit,
        ..options(server.template(), cache.path())
    })
    .unwrap();

    for key in &keys[..3] {
        source.tile(*key).unwrap().unwrap();
    }
    assert_eq!(source.cache_size_bytes(), sizes[..3].iter().sum::<u64>());
    // Reading tile 0 again makes it recently used: tiles 1 and 2 are now the oldest.
    source.tile(keys[0]).unwrap().unwrap();
    assert_eq!(server.request_count(), 3);
    source.tile(keys[3]).unwrap().unwrap();
    source.tile(keys[4]).unwrap().unwrap();

    let on_disk = |k: &TileKey| source.cached_path(*k).unwrap().exists();
    assert!(
        !on_disk(&keys[1]),
        "the least recently used tile is still there"
    );
    assert!(
        !on_disk(&keys[2]),
        "the second least recently used tile is still there"
    );
    assert!(on_disk(&keys[0]), "a tile read recently was evicted");
    assert!(on_disk(&keys[3]));
    assert!(on_disk(&keys[4]));
    let total = source.cache_size_bytes();
    assert!(total <= limit, "{total} > {limit}");
    assert_eq!(total, sizes[0] + sizes[3] + sizes[4]);
}

#[test]
fn offline_serves_cached_tiles_and_backs_off() {
    let mut server = TestServer::start(Duration::ZERO);
    let addr = server.addr;
    let cache = tempfile::tempdir().unwrap();
    let source = source(&server, cache.path());
    let cached = TileKey::new(5, 3, 3);
    let cached_bytes = source.tile(cached).unwrap().unwrap();
    assert!(source.online());

    server.stop();
    let started = Instant::now();
    let error = source.tile(TileKey::new(5, 4, 4)).unwrap_err();
    assert!(matches!(error, TileError::Offline { .. }), "{error:?}");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert!(!source.online());
    assert_eq!(source.tile(cached).unwrap().unwrap(), cached_bytes);

    // A burst during the back-off does not touch the network.
    let attempts_before = source.attempts();
    let started = Instant::now();
    for i in 0..50 {
        let error = source.tile(TileKey::new(6, i, 7)).unwrap_err();
        assert!(
            matches!(error, TileError::Offline { retry_in_s, .. } if retry_in_s <= 2),
            "{error:?}"
        );
    }
    assert!(
        started.elapsed() < Duration::from_millis(500),
        "{:?}",
        started.elapsed()
    );
    assert!(source.attempts() - attempts_before <= 1);
    assert!(!source.online());

    // The server comes back on the same port: after the back-off the next request reaches it.
    let server = TestServer::start_on(TcpListener::bind(addr).unwrap(), Duration::ZERO);
    std::thread::sleep(Duration::from_millis(2100));
    let key = TileKey::new(5, 4, 4);
    assert_eq!(source.tile(key).unwrap().unwrap(), tile_png(5, 4, 4));
    assert!(source.online());
    assert_eq!(server.request_count(), 1);
}

#[test]
fn at_most_two_downloads_at_once() {
    let server = TestServer::start(Duration::from_millis(200));
    let cache = tempfile::tempdir().unwrap();
    let source = Arc::new(source(&server, cache.path()));
    assert_eq!(source.max_parallel(), 2);
    let threads: Vec<_> = (0..8)
        .map(|i| {
            let source = Arc::clone(&source);
            std::thread::spawn(move || source.tile(TileKey::new(6, i, 9)))
        })
        .collect();
    for thread in threads {
        assert!(thread.join().unwrap().unwrap().is_some());
    }
    assert_eq!(server.request_count(), 8);
    assert_eq!(server.max_in_flight(), 2, "downloads at once at the server");
}

#[test]
fn not_found_is_no_tile_and_not_offline() {
    let server = TestServer::start(Duration::ZERO);
    let cache = tempfile::tempdir().unwrap();
    let source = source(&server, cache.path());
    let key = TileKey::new(MISSING_Z, 5, 5);
    assert_eq!(source.tile(key).unwrap(), None);
    assert!(source.online());
    assert!(!source.cached_path(key).unwrap().exists());
    assert_eq!(source.cache_size_bytes(), 0);
    // Not cached: asked again next time.
    assert_eq!(source.tile(key).unwrap(), None);
    assert_eq!(server.request_count(), 2);
}

#[test]
fn clear_cache_removes_everything() {
    let server = TestServer::start(Duration::ZERO);
    let cache = tempfile::tempdir().unwrap();
    let source = source(&server, cache.path());
    let keys = [
        TileKey::new(2, 0, 1),
        TileKey::new(2, 1, 1),
        TileKey::new(7, 3, 4),
    ];
    let mut expected = 0;
    for key in keys {
        expected += source.tile(key).unwrap().unwrap().len() as u64;
    }
    assert_eq!(source.cache_size_bytes(), expected);

    assert_eq!(source.clear_cache().unwrap(), expected);
    assert_eq!(source.cache_size_bytes(), 0);
    for key in keys {
        assert!(!source.cached_path(key).unwrap().exists());
    }
    let root = source.cache_root().unwrap();
    assert!(!root.exists() || std::fs::read_dir(root).unwrap().next().is_none());

    // The next request downloads again.
    source.tile(keys[0]).unwrap().unwrap();
    assert_eq!(server.request_count(), 4);
}

#[test]
fn tms_template_requests_the_tms_row() {
    let server = TestServer::start(Duration::ZERO);
    let cache = tempfile::tempdir().unwrap();
    let template = format!("http://{}/{{z}}/{{x}}/{{-y}}.png", server.addr);
    let source = HttpSource::new(options(template, cache.path())).unwrap();
    // z=3: XYZ row 1 is TMS row 8 - 1 - 1 = 6.
    let bytes = source.tile(TileKey::new(3, 2, 1)).unwrap().unwrap();
    assert_eq!(server.requests()[0].path, "/3/2/6.png");
    assert_eq!(bytes, tile_png(3, 2, 6));
}

#[test]
fn templates_without_z_x_y_are_refused() {
    let cache = tempfile::tempdir().unwrap();
    for bad in [
        "http://127.0.0.1:1/{z}/{x}.png",
        "http://127.0.0.1:1/{z}/{x}/{y}/{apikey}.png",
        "127.0.0.1:1/{z}/{x}/{y}.png",
    ] {
        let error = HttpSource::new(options(bad.into(), cache.path())).unwrap_err();
        assert!(matches!(error, TileError::Http { .. }), "{bad}: {error:?}");
    }
    let ok = HttpSource::new(options(
        "http://{s}.localhost:1/{z}/{x}/{y}.png".into(),
        cache.path(),
    ))
    .unwrap();
    assert_eq!(
        ok.tile_url(TileKey::new(1, 1, 0)),
        "http://b.localhost:1/1/1/0.png"
    );
}

#[test]
fn concurrent_burst_against_a_closed_port_makes_at_most_two_attempts() {
    let closed = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    let cache = tempfile::tempdir().unwrap();
    let template = format!("http://{closed}/{{z}}/{{x}}/{{y}}.png");
    let source = Arc::new(HttpSource::new(options(template, cache.path())).unwrap());
    let started = Instant::now();
    let threads: Vec<_> = (0..50)
        .map(|i| {
            let source = Arc::clone(&source);
            std::thread::spawn(move || source.tile(TileKey::new(8, i, 3)))
        })
        .collect();
    for thread in threads {
        let error = thread.join().unwrap().unwrap_err();
        assert!(matches!(error, TileError::Offline { .. }), "{error:?}");
    }
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    // Two requests may be under way when the first failure is seen; nobody else connects.
    assert!(
        (1..=2).contains(&source.attempts()),
        "{} attempts",
        source.attempts()
    );
    assert!(!source.online());
    assert_eq!(source.cache_size_bytes(), 0);
}
