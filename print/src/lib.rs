//! Publicity-board maps (网格示意图 / 公示牌): one printable board per grid,
//! drawn from a catalog snapshot as vector graphics.
//!
//! A board is built as one SVG scene ([`scene`]), then written as SVG, as
//! PNG (resvg) or as PDF (krilla, with the CJK font embedded and subset).
//! This crate depends on `gridmap-data` only: it knows nothing of HTTP,
//! stores or tiles, so the CLI, the server and tests all print the same board.
//!
//! Same catalog and options → the same bytes: nothing in the output depends
//! on the clock except the printed date, which the caller passes in.

pub mod adjacency;
pub mod board;
pub mod colouring;
pub mod date;
pub mod error;
pub mod fonts;
mod furniture;
pub mod labels;
pub mod output;
pub mod page;
pub mod panels;
pub mod paper;
pub mod photos;
pub mod projection;
pub mod qr;
pub mod scene;
pub mod svg;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod testutil;

use std::fmt;
use std::str::FromStr;

use gridmap_data::catalog::Catalog;

pub use date::PrintDate;
pub use error::PrintError;
pub use fonts::Fonts;
pub use paper::PaperSize;
pub use photos::{MissingPhoto, PhotoFetcher, PhotoSource, MAX_PHOTO_BYTES};
pub use scene::BoardLayout;

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Pdf,
    Png,
    Svg,
}

impl Format {
    pub fn extension(self) -> &'static str {
        match self {
            Self::Pdf => "pdf",
            Self::Png => "png",
            Self::Svg => "svg",
        }
    }

    pub fn mime(self) -> &'static str {
        match self {
            Self::Pdf => "application/pdf",
            Self::Png => "image/png",
            Self::Svg => "image/svg+xml",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.extension())
    }
}

impl FromStr for Format {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "pdf" => Ok(Self::Pdf),
            "png" => Ok(Self::Png),
            "svg" => Ok(Self::Svg),
            _ => Err(format!("unknown format `{s}`; use pdf, png or svg")),
        }
    }
}

/// What to print, and how.
#[derive(Debug, Clone)]
pub struct BoardOptions {
    /// The grid system (default: the one holding the code).
    pub system: Option<String>,
    pub size: PaperSize,
    pub landscape: bool,
    /// The public lookup page's base URL, for the QR code.
    pub public_url: String,
    /// The date printed in the footer.
    pub date: PrintDate,
    /// Pixels per inch of a PNG.
    pub dpi: f32,
}

/// A board laid out and drawn, ready to be written in any format.
pub struct Board {
    scene: scene::Scene,
}

impl Board {
    /// Lays out and draws the board of grid `code`.
    pub fn build(
        catalog: &Catalog,
        code: &str,
        opts: &BoardOptions,
        fonts: &Fonts,
        photos: &PhotoSource,
    ) -> Result<Self, PrintError> {
        Ok(Self {
            scene: scene::build(catalog, code, opts, fonts, photos)?,
        })
    }

    pub fn title(&self) -> &str {
        &self.scene.title
    }

    pub fn layout(&self) -> &BoardLayout {
        &self.scene.layout
    }

    /// Workers printed with a silhouette instead of their photo, and why.
    pub fn missing_photos(&self) -> &[MissingPhoto] {
        &self.scene.missing_photos
    }

    pub fn svg(&self) -> &str {
        &self.scene.svg
    }

    /// The board in `format` (`dpi` applies to PNG).
    pub fn render(&self, format: Format, fonts: &Fonts, dpi: f32) -> Result<Vec<u8>, PrintError> {
        match format {
            Format::Svg => Ok(self.scene.svg.clone().into_bytes()),
            Format::Png => output::png(&output::tree(&self.scene.svg, fonts)?, dpi),
            Format::Pdf => output::pdf(&output::tree(&self.scene.svg, fonts)?, &self.scene.title),
        }
    }
}

/// Pixel size of a PNG of `size` at `dpi`, to refuse a huge one before drawing it.
pub fn png_pixels(size: PaperSize, landscape: bool, dpi: f32) -> (u64, u64) {
    let (w, h) = size.mm(landscape);
    let px = |mm: f64| (mm / 25.4 * f64::from(dpi)).round() as u64;
    (px(w), px(h))
}

/// `CODE-NAME.ext`, with characters that are unsafe in file names replaced.
pub fn file_name(code: &str, name: &str, format: Format) -> String {
    let clean: String = format!("{code}-{name}")
        .chars()
        .map(|c| {
            if c.is_control() || "/\\:*?\"<>|".contains(c) {
                '_'
            } else {
                c
            }
        })
        .collect();
    format!("{clean}.{}", format.extension())
}
