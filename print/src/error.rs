//! What can stop a board from being printed.

use std::path::PathBuf;

use gridmap_data::catalog::CatalogError;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PrintError {
    #[error(transparent)]
    Catalog(#[from] CatalogError),
    /// No font with Chinese glyphs: a board without its names is worse than none.
    #[error("no CJK font found ({tried}); install Debian's fonts-noto-cjk or pass --font FILE")]
    NoCjkFont { tried: String },
    #[error("font {path}: {reason}")]
    BadFont { path: PathBuf, reason: String },
    #[error("bad option: {0}")]
    BadOption(String),
    /// The label layout found no free place for a label even at its smallest size.
    #[error("no room for the label of `{name}` ({code}) on this paper size; try a larger --size")]
    NoRoomForLabel { code: String, name: String },
    #[error("building the QR code: {0}")]
    Qr(String),
    #[error("drawing the board: {0}")]
    Render(String),
}
