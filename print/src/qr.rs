//! The QR code linking a board to the public lookup page of its grid.

use qrcode::{Color, EcLevel, QrCode};

use crate::error::PrintError;
use crate::svg::num;

/// Modules of white margin the QR standard asks for.
pub const QUIET_ZONE: usize = 4;

/// `{public_url}/?grid=CODE`, the code percent-encoded.
pub fn grid_url(public_url: &str, code: &str) -> String {
    let mut encoded = String::new();
    for b in code.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            encoded.push(b as char);
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    format!("{}/?grid={encoded}", public_url.trim_end_matches('/'))
}

/// An SVG path of the dark modules of `text`'s QR code, drawn in a square of
/// `size` mm at (x, y) including the quiet zone.
pub fn qr_path(text: &str, x: f64, y: f64, size: f64) -> Result<String, PrintError> {
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M)
        .map_err(|e| PrintError::Qr(e.to_string()))?;
    let n = code.width();
    let module = size / (n + 2 * QUIET_ZONE) as f64;
    let mut d = String::new();
    for row in 0..n {
        let mut col = 0;
        while col < n {
            if code[(col, row)] == Color::Dark {
                let start = col;
                while col < n && code[(col, row)] == Color::Dark {
                    col += 1;
                }
                // One rectangle per run of dark modules in a row, slightly
                // overlapping the next row so no hairline gaps show.
                let x0 = x + (start + QUIET_ZONE) as f64 * module;
                let y0 = y + (row + QUIET_ZONE) as f64 * module;
                let w = (col - start) as f64 * module;
                d.push_str(&format!(
                    "M{} {}h{}v{}h-{}z",
                    num(x0),
                    num(y0),
                    num(w),
                    num(module * 1.02),
                    num(w)
                ));
            } else {
                col += 1;
            }
        }
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_encode_the_code() {
        assert_eq!(
            grid_url("https://g.cn/map/", "330106006003"),
            "https://g.cn/map/?grid=330106006003"
        );
        assert_eq!(
            grid_url("http://h", "a b/网"),
            "http://h/?grid=a%20b%2F%E7%BD%91"
        );
        assert!(qr_path("http://h/?grid=1", 0.0, 0.0, 30.0)
            .unwrap()
            .starts_with('M'));
    }
}
