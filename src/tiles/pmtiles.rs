//! PLACEHOLDER — being written by a helper; replaced before commit.

use std::path::Path;

use super::{SourceInfo, TileError, TileKey, TileSource};

pub struct PmTilesSource {
    info: SourceInfo,
}

impl PmTilesSource {
    pub fn open(path: &Path) -> Result<Self, TileError> {
        Err(TileError::Unsupported {
            path: path.to_owned(),
            detail: "not implemented yet".into(),
        })
    }
}

impl TileSource for PmTilesSource {
    fn info(&self) -> &SourceInfo {
        &self.info
    }

    fn tile(&self, _key: TileKey) -> Result<Option<Vec<u8>>, TileError> {
        Ok(None)
    }
}
