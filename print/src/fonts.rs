//! The CJK font every board's text is set in: found once, shared by every
//! board, used both to measure text while laying out and, through usvg's font
//! database, to draw and embed it (krilla subsets it into the PDF).
//!
//! A board without its Chinese names is worse than no board, so a missing
//! CJK font is an error, never a fallback.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use usvg::fontdb;

use crate::error::PrintError;

/// Where Debian (fonts-noto-cjk) and other distributions put Noto Sans CJK.
const KNOWN_PATHS: [&str; 4] = [
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJKsc-Regular.otf",
];

/// The family preferred inside a collection: Simplified Chinese glyph forms.
const PREFERRED_FAMILY: &str = "Noto Sans CJK SC";

/// Characters a font must have to set a board.
const PROBE: &str = "社区网格示意图电话";

/// The loaded font: the database usvg draws from and the face to measure with.
pub struct Fonts {
    db: Arc<fontdb::Database>,
    family: String,
    data: Arc<Vec<u8>>,
    index: u32,
    path: PathBuf,
}

impl Fonts {
    /// The font at `explicit`, or else Noto Sans CJK at a known path or as
    /// fontconfig (`fc-match`) finds it. A bold face of the same collection
    /// next to it (`…-Bold.ttc`) is loaded too, for titles.
    pub fn discover(explicit: Option<&Path>) -> Result<Self, PrintError> {
        if let Some(path) = explicit {
            return Self::load(path);
        }
        let mut tried = Vec::new();
        let mut candidates: Vec<PathBuf> = KNOWN_PATHS.iter().map(PathBuf::from).collect();
        candidates.extend(fc_match());
        for path in candidates {
            if !path.is_file() {
                tried.push(path.display().to_string());
                continue;
            }
            match Self::load(&path) {
                Ok(fonts) => return Ok(fonts),
                Err(e) => tried.push(format!("{}: {e}", path.display())),
            }
        }
        tried.push("fc-match 'Noto Sans CJK SC'".into());
        Err(PrintError::NoCjkFont {
            tried: tried.join("; "),
        })
    }

    /// Loads one font file (TTF, OTF or a TTC collection) that must cover Chinese.
    pub fn load(path: &Path) -> Result<Self, PrintError> {
        let bad = |reason: String| PrintError::BadFont {
            path: path.to_path_buf(),
            reason,
        };
        let data = Arc::new(std::fs::read(path).map_err(|e| bad(e.to_string()))?);
        let mut db = fontdb::Database::new();
        db.load_font_source(fontdb::Source::Binary(data.clone()));
        let ids: Vec<_> = db
            .faces()
            .map(|f| (f.id, f.index, f.families.clone()))
            .collect();
        if ids.is_empty() {
            return Err(bad("not a font file (no face could be read)".into()));
        }
        let covers = |index: u32| {
            ttf_parser::Face::parse(&data, index)
                .map(|face| PROBE.chars().all(|c| face.glyph_index(c).is_some()))
                .unwrap_or(false)
        };
        let chosen = ids
            .iter()
            .find(|(_, index, fam)| {
                fam.iter().any(|(n, _)| n == PREFERRED_FAMILY) && covers(*index)
            })
            .or_else(|| ids.iter().find(|(_, index, _)| covers(*index)))
            .ok_or_else(|| bad(format!("it has no Chinese glyphs (checked {PROBE})")))?;
        let family = chosen
            .2
            .first()
            .map(|(n, _)| n.clone())
            .ok_or_else(|| bad("its face has no family name".into()))?;
        let index = chosen.1;
        if let Some(bold) = bold_sibling(path) {
            if let Ok(bytes) = std::fs::read(bold) {
                db.load_font_source(fontdb::Source::Binary(Arc::new(bytes)));
            }
        }
        Ok(Self {
            db: Arc::new(db),
            family,
            data,
            index,
            path: path.to_path_buf(),
        })
    }

    /// The font family name the scene's text asks for.
    pub fn family(&self) -> &str {
        &self.family
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) fn database(&self) -> Arc<fontdb::Database> {
        self.db.clone()
    }

    /// A measurer of text set in this font.
    pub fn measure(&self) -> Measure<'_> {
        Measure {
            face: ttf_parser::Face::parse(&self.data, self.index).ok(),
        }
    }
}

/// Widths of text in the board's font, before the scene is built.
pub struct Measure<'a> {
    face: Option<ttf_parser::Face<'a>>,
}

impl Measure<'_> {
    /// Width in the units of `size` (the font size) of `text` on one line:
    /// the sum of the glyphs' advances, which is how usvg sets unkerned CJK.
    pub fn width(&self, text: &str, size: f64) -> f64 {
        let Some(face) = &self.face else {
            return text.chars().count() as f64 * size;
        };
        let upem = f64::from(face.units_per_em());
        let units: f64 = text
            .chars()
            .map(|c| {
                face.glyph_index(c)
                    .and_then(|g| face.glyph_hor_advance(g))
                    .map_or(upem, f64::from)
            })
            .sum();
        units / upem * size
    }

    /// `text` cut into lines no wider than `max` at `size`, breaking between
    /// any two characters (Chinese has no spaces) but never inside a run of
    /// ASCII letters or digits such as a phone number.
    pub fn wrap(&self, text: &str, size: f64, max: f64) -> Vec<String> {
        let mut lines = Vec::new();
        let mut line = String::new();
        for word in break_units(text) {
            let candidate = format!("{line}{word}");
            if !line.is_empty() && self.width(&candidate, size) > max {
                lines.push(std::mem::take(&mut line));
                line = word.trim_start().to_string();
            } else {
                line = candidate;
            }
        }
        if !line.is_empty() {
            lines.push(line);
        }
        lines
    }
}

/// Pieces between which a line may break: single CJK characters and
/// punctuation, whole ASCII words.
fn break_units(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut ascii = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
            ascii.push(c);
        } else {
            if !ascii.is_empty() {
                out.push(std::mem::take(&mut ascii));
            }
            out.push(c.to_string());
        }
    }
    if !ascii.is_empty() {
        out.push(ascii);
    }
    out
}

/// `…-Regular.ttc` → `…-Bold.ttc` beside it.
fn bold_sibling(path: &Path) -> Option<PathBuf> {
    let name = path.file_name()?.to_str()?;
    name.contains("Regular")
        .then(|| path.with_file_name(name.replace("Regular", "Bold")))
        .filter(|p| p.is_file())
}

/// The file fontconfig picks for Simplified Chinese, if fontconfig is installed.
fn fc_match() -> Option<PathBuf> {
    let out = std::process::Command::new("fc-match")
        .args(["-f", "%{file}", "Noto Sans CJK SC:lang=zh-cn"])
        .output()
        .ok()?;
    let file = String::from_utf8(out.stdout).ok()?;
    (out.status.success() && !file.trim().is_empty()).then(|| PathBuf::from(file.trim()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_without_chinese_glyphs_is_refused_by_name() {
        let dir = std::env::temp_dir().join(format!("gridmap-print-font-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let fake = dir.join("fake.ttf");
        std::fs::write(&fake, b"not a font").unwrap();
        let err = Fonts::load(&fake).err().expect("refused").to_string();
        assert!(
            err.contains("fake.ttf") && err.contains("not a font file"),
            "{err}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn measuring_and_wrapping_keep_numbers_whole() {
        let fonts = crate::testutil::fonts();
        let m = fonts.measure();
        // CJK characters are one em wide; digits narrower.
        assert!((m.width("社区", 10.0) - 20.0).abs() < 0.01);
        assert!(m.width("1234", 10.0) < 30.0);
        let lines = m.wrap("电话13800001111信息采集矛盾调解", 10.0, 60.0);
        assert!(lines.iter().any(|l| l.contains("13800001111")), "{lines:?}");
        for l in &lines {
            assert!(m.width(l, 10.0) <= 60.0 || !l.contains('信'), "{l}");
        }
        assert_eq!(lines.concat(), "电话13800001111信息采集矛盾调解");
    }
}
