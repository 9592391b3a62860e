//! PLACEHOLDER — being written by a helper; replaced before commit.

use std::path::Path;

use super::{TileError, TileSource};

pub fn open_dir(path: &Path, _tms: bool) -> Result<Box<dyn TileSource>, TileError> {
    Err(TileError::Unsupported {
        path: path.to_owned(),
        detail: "not implemented yet".into(),
    })
}
