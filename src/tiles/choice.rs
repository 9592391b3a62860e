//! The basemap a user chose — the built-in map, OpenStreetMap, a tile file or folder, or an XYZ
//! URL — as remembered between runs and given on the command line (`--basemap`), and opening it
//! into a [`TileSource`].

use std::path::PathBuf;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::http::{self, HttpOptions, HttpSource};
use super::{TileError, TileSource};

/// Where the map's background comes from.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum BasemapChoice {
    /// Drawn by Teplokarta itself from bundled facts: always there, no files, no network.
    #[default]
    BuiltIn,
    /// OpenStreetMap's standard tiles, cached on disk.
    OpenStreetMap,
    /// An MBTiles or PMTiles file, or a folder of tiles (`tms`: rows in TMS order).
    File { path: PathBuf, tms: bool },
    /// An XYZ URL template (`{z}`, `{x}`, `{y}` or `{-y}`, optionally `{s}`), cached on disk.
    Url { template: String },
}

impl BasemapChoice {
    /// Reads `--basemap`: `builtin` (also `built-in`, `none`), `osm` (also `openstreetmap`), an
    /// `http(s)://` template, or else a path (`tms`: a folder in TMS row order).
    pub fn parse(arg: &str, tms: bool) -> Self {
        let lower = arg.trim().to_lowercase();
        match lower.as_str() {
            "builtin" | "built-in" | "none" | "offline" => Self::BuiltIn,
            "osm" | "openstreetmap" => Self::OpenStreetMap,
            _ if lower.starts_with("http://") || lower.starts_with("https://") => Self::Url {
                template: arg.trim().to_owned(),
            },
            _ => Self::File {
                path: PathBuf::from(arg),
                tms,
            },
        }
    }

    /// True for the sources that need a network.
    pub fn is_online(&self) -> bool {
        matches!(self, Self::OpenStreetMap | Self::Url { .. })
    }

    /// Opens the source (blocking: reads a file's header or scans a folder, so call it off the
    /// UI thread). `Ok(None)` for the built-in map, which has no tiles.
    ///
    /// # Errors
    /// [`TileError`] naming the file, folder or template.
    pub fn open(&self, cache: &TileCacheSettings) -> Result<Option<OpenedBasemap>, TileError> {
        let http_source = |options: HttpOptions| -> Result<OpenedBasemap, TileError> {
            let source = Arc::new(HttpSource::new(options)?);
            Ok(OpenedBasemap {
                source: source.clone(),
                http: Some(source),
            })
        };
        match self {
            Self::BuiltIn => Ok(None),
            Self::OpenStreetMap => {
                let mut options = http::openstreetmap(cache.dir.clone());
                options.cache_limit_bytes = cache.limit_bytes;
                http_source(options).map(Some)
            }
            Self::Url { template } => {
                let host = template
                    .split("://")
                    .nth(1)
                    .and_then(|rest| rest.split('/').next())
                    .unwrap_or(template)
                    .to_owned();
                let options = HttpOptions {
                    url_template: template.clone(),
                    name: host.clone(),
                    attribution: host,
                    cache_dir: cache.dir.clone(),
                    cache_limit_bytes: cache.limit_bytes,
                    max_zoom: 19,
                    ..http::openstreetmap(cache.dir.clone())
                };
                http_source(options).map(Some)
            }
            Self::File { path, tms } => Ok(Some(OpenedBasemap {
                source: Arc::from(super::open_path(path, *tms)?),
                http: None,
            })),
        }
    }
}

/// Where downloaded tiles are kept and how much of them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TileCacheSettings {
    /// `None`: no disk cache.
    pub dir: Option<PathBuf>,
    pub limit_bytes: u64,
}

/// An opened basemap: the source, and the HTTP source again when it is one (for its cache).
pub struct OpenedBasemap {
    pub source: Arc<dyn TileSource>,
    pub http: Option<Arc<HttpSource>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_line_words_name_the_sources() {
        assert_eq!(
            BasemapChoice::parse("builtin", false),
            BasemapChoice::BuiltIn
        );
        assert_eq!(
            BasemapChoice::parse("OSM", false),
            BasemapChoice::OpenStreetMap
        );
        assert_eq!(
            BasemapChoice::parse("https://tiles.local/{z}/{x}/{y}.png", false),
            BasemapChoice::Url {
                template: "https://tiles.local/{z}/{x}/{y}.png".into()
            }
        );
        assert_eq!(
            BasemapChoice::parse("/maps/oblast.mbtiles", true),
            BasemapChoice::File {
                path: "/maps/oblast.mbtiles".into(),
                tms: true
            }
        );
        assert!(BasemapChoice::parse("osm", false).is_online());
        assert!(!BasemapChoice::default().is_online());
    }

    #[test]
    fn a_missing_file_is_an_error_naming_it() {
        let settings = TileCacheSettings {
            dir: None,
            limit_bytes: 1,
        };
        let err = BasemapChoice::parse("/nonexistent/oblast.mbtiles", false)
            .open(&settings)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("oblast.mbtiles"), "{err}");
        assert!(
            BasemapChoice::BuiltIn
                .open(&settings)
                .is_ok_and(|o| o.is_none())
        );
    }
}
