//! PLACEHOLDER — being written by a helper; replaced before commit.
