//! The scene turned into files: SVG as written, PNG through resvg, PDF
//! through krilla (text stays text: the font is embedded, subset, with a
//! ToUnicode map, so names and phones can be selected and searched).

use krilla::geom::Size;
use krilla::metadata::Metadata;
use krilla::page::PageSettings;
use krilla::Document;
use krilla_svg::{SurfaceExt, SvgSettings};

use crate::error::PrintError;
use crate::fonts::Fonts;

/// usvg's user unit: CSS pixels, 96 per inch.
const CSS_DPI: f32 = 96.0;

/// Parses the scene with the board's font database.
pub fn tree(svg: &str, fonts: &Fonts) -> Result<usvg::Tree, PrintError> {
    let opts = usvg::Options {
        fontdb: fonts.database(),
        font_family: fonts.family().to_string(),
        ..usvg::Options::default()
    };
    usvg::Tree::from_str(svg, &opts)
        .map_err(|e| PrintError::Render(format!("parsing the scene: {e}")))
}

/// Pixel size of the tree at `dpi`.
pub fn png_size(tree: &usvg::Tree, dpi: f32) -> (u32, u32) {
    let s = dpi / CSS_DPI;
    (
        (tree.size().width() * s).round().max(1.0) as u32,
        (tree.size().height() * s).round().max(1.0) as u32,
    )
}

pub fn png(tree: &usvg::Tree, dpi: f32) -> Result<Vec<u8>, PrintError> {
    let (w, h) = png_size(tree, dpi);
    let mut pixmap = tiny_skia::Pixmap::new(w, h)
        .ok_or_else(|| PrintError::Render(format!("cannot allocate a {w}×{h} image")))?;
    pixmap.fill(tiny_skia::Color::WHITE);
    let s = dpi / CSS_DPI;
    resvg::render(
        tree,
        tiny_skia::Transform::from_scale(s, s),
        &mut pixmap.as_mut(),
    );
    pixmap
        .encode_png()
        .map_err(|e| PrintError::Render(format!("encoding the PNG: {e}")))
}

pub fn pdf(tree: &usvg::Tree, title: &str) -> Result<Vec<u8>, PrintError> {
    // One CSS pixel is 0.75 pt.
    let (w, h) = (tree.size().width() * 0.75, tree.size().height() * 0.75);
    let size = Size::from_wh(w, h).ok_or_else(|| PrintError::Render("empty page".into()))?;
    let mut document = Document::new();
    document.set_metadata(
        Metadata::new()
            .title(title.to_string())
            .language("zh-CN".into())
            .creator("gridmap".into()),
    );
    let mut page = document.start_page_with(PageSettings::new(size));
    let mut surface = page.surface();
    surface
        .draw_svg(
            tree,
            size,
            SvgSettings {
                embed_text: true,
                ..SvgSettings::default()
            },
        )
        .ok_or_else(|| PrintError::Render("drawing the scene into the PDF".into()))?;
    surface.finish();
    page.finish();
    document
        .finish()
        .map_err(|e| PrintError::Render(format!("writing the PDF: {e:?}")))
}
