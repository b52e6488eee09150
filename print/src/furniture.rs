//! The map's furniture: title band, legend, north arrow, scale bar, QR code
//! and footer (date and data version).

use crate::board::BoardData;
use crate::error::PrintError;
use crate::fonts::Measure;
use crate::labels::BoxMm;
use crate::page::PageLayout;
use crate::panels::fit;
use crate::projection::{Projection, ScaleBar};
use crate::svg::{num, Anchor, Svg};
use crate::BoardOptions;

/// One legend line: a block's swatch, short code and name.
pub struct LegendEntry {
    pub code: String,
    pub text: String,
    pub fill: &'static str,
}

pub fn header(svg: &mut Svg, page: &PageLayout, m: &Measure, title: &str, data: &BoardData) {
    let b = page.header;
    let u = page.u;
    let cx = (b.x0 + b.x1) / 2.0;
    let size = fit(m, title, 5.0 * u, b.width());
    svg.text(
        cx,
        b.y0 + 5.6 * u,
        size,
        Anchor::Middle,
        r##"font-weight="bold" fill="#1d2733""##,
        title,
    );
    let mut sub = match data.parent {
        Some(p) if data.grid.parent.is_some() && p.level == "street" => {
            format!("所属街道：{}", p.name)
        }
        Some(p) => format!("所属：{}", p.name),
        None => String::new(),
    };
    let blocks = if data.blocks.len() == 1 && std::ptr::eq(data.blocks[0], data.grid) {
        0
    } else {
        data.blocks.len()
    };
    if blocks > 0 {
        if !sub.is_empty() {
            sub.push_str("　　");
        }
        sub.push_str(&format!("网格 {blocks} 个　网格编码 {}", data.grid.code));
    }
    svg.text(
        cx,
        b.y0 + 8.9 * u,
        fit(m, &sub, 1.9 * u, b.width()),
        Anchor::Middle,
        r##"fill="#4a5563""##,
        &sub,
    );
    svg.line(
        (b.x0, b.y1),
        (b.x1, b.y1),
        &format!(r##"stroke="#c0392b" stroke-width="{}""##, num(0.3 * u)),
    );
}

/// Legend, north arrow, scale bar and QR code in the side column; returns the scale bar drawn.
pub fn side_column(
    svg: &mut Svg,
    page: &PageLayout,
    m: &Measure,
    legend: &[LegendEntry],
    projection: &Projection,
    qr_url: &str,
) -> Result<ScaleBar, PrintError> {
    let s = page.side;
    let u = page.u;
    // Bottom up: QR and its caption, scale bar, north arrow; the legend takes the rest.
    let q = s.width().min(s.height() * 0.3);
    let caption = 3.4 * u;
    let qr_y = s.y1 - caption - q;
    let qx = s.x0 + (s.width() - q) / 2.0;
    svg.rect(qx, qr_y, q, q, r##"fill="#ffffff""##);
    svg.path(
        &crate::qr::qr_path(qr_url, qx, qr_y, q)?,
        r##"fill="#000000""##,
    );
    let cx = (s.x0 + s.x1) / 2.0;
    let line1 = "扫码查询本社区网格员";
    svg.text(
        cx,
        qr_y + q + 1.4 * u,
        fit(m, line1, 1.2 * u, s.width()),
        Anchor::Middle,
        r##"fill="#1d2733""##,
        line1,
    );
    svg.text(
        cx,
        qr_y + q + 2.9 * u,
        fit(m, qr_url, 0.9 * u, s.width()),
        Anchor::Middle,
        r##"fill="#4a5563""##,
        qr_url,
    );

    let scale_top = qr_y - 7.0 * u;
    let bar = ScaleBar::new(projection, s.width() * 0.8);
    scale_bar(
        svg,
        m,
        &bar,
        s.x0 + (s.width() - bar.length_mm) / 2.0,
        scale_top,
        u,
    );

    let arrow_top = scale_top - 9.0 * u;
    north_arrow(svg, cx, arrow_top, u);

    let legend_box = BoxMm {
        x0: s.x0,
        y0: s.y0,
        x1: s.x1,
        y1: arrow_top - 1.0 * u,
    };
    draw_legend(svg, m, legend, legend_box, u);
    Ok(bar)
}

fn draw_legend(svg: &mut Svg, m: &Measure, entries: &[LegendEntry], b: BoxMm, u: f64) {
    svg.rect(
        b.x0,
        b.y0,
        b.width(),
        b.height(),
        &format!(
            r##"fill="#fafaf8" stroke="#8a9099" stroke-width="{}""##,
            num(0.1 * u)
        ),
    );
    svg.text(
        b.x0 + 0.8 * u,
        b.y0 + 2.2 * u,
        1.6 * u,
        Anchor::Start,
        r##"font-weight="bold" fill="#1d2733""##,
        "图例",
    );
    let symbols = [("社区边界", "boundary"), ("相邻社区", "neighbour")];
    let n = entries.len() + symbols.len();
    let top = b.y0 + 3.2 * u;
    let avail = (b.y1 - 0.5 * u - top).max(u);
    let width = b.width() - 1.0 * u;
    // Pick the number of columns giving the largest text.
    let mut best = (0.0, 1usize, 0.0);
    for cols in 1..=3usize {
        let rows = n.div_ceil(cols).max(1);
        let rh = (2.4 * u).min(avail / rows as f64);
        let col_w = width / cols as f64;
        let swatch = 1.5 * rh;
        let mut font = 0.62 * rh;
        for e in entries
            .iter()
            .map(|e| e.text.as_str())
            .chain(symbols.iter().map(|s| s.0))
        {
            font = fit(m, e, font, col_w - swatch - 0.6 * u);
        }
        if font > best.0 {
            best = (font, cols, rh);
        }
    }
    let (font, cols, rh) = best;
    let rows = n.div_ceil(cols).max(1);
    let col_w = width / cols as f64;
    let item = |k: usize| {
        let (col, row) = (k / rows, k % rows);
        (b.x0 + 0.5 * u + col as f64 * col_w, top + row as f64 * rh)
    };
    for (k, e) in entries.iter().enumerate() {
        let (x, y) = item(k);
        svg.rect(
            x,
            y + 0.15 * rh,
            1.2 * rh,
            0.7 * rh,
            &format!(
                r##"fill="{}" stroke="#5d6672" stroke-width="{}""##,
                e.fill,
                num(0.06 * u)
            ),
        );
        svg.text(
            x + 1.5 * rh,
            y + 0.72 * rh,
            font,
            Anchor::Start,
            r##"fill="#1d2733""##,
            &e.text,
        );
    }
    for (k, (label, kind)) in symbols.iter().enumerate() {
        let (x, y) = item(entries.len() + k);
        let style = match *kind {
            "boundary" => format!(
                r##"fill="none" stroke="#c0392b" stroke-width="{}""##,
                num(0.35 * u)
            ),
            _ => format!(
                r##"fill="#e6e4de" stroke="#b4afa4" stroke-width="{}""##,
                num(0.08 * u)
            ),
        };
        svg.rect(x, y + 0.15 * rh, 1.2 * rh, 0.7 * rh, &style);
        svg.text(
            x + 1.5 * rh,
            y + 0.72 * rh,
            font,
            Anchor::Start,
            r##"fill="#4a5563""##,
            label,
        );
    }
}

/// A bar of four alternating segments with 0, half and full length marked, and 1:N below.
fn scale_bar(svg: &mut Svg, m: &Measure, bar: &ScaleBar, x: f64, y: f64, u: f64) {
    let h = 0.6 * u;
    let seg = bar.length_mm / 4.0;
    for k in 0..4 {
        let fill = if k % 2 == 0 { "#1d2733" } else { "#ffffff" };
        svg.rect(
            x + k as f64 * seg,
            y + 1.8 * u,
            seg,
            h,
            &format!(
                r##"fill="{fill}" stroke="#1d2733" stroke-width="{}""##,
                num(0.06 * u)
            ),
        );
    }
    let size = 1.0 * u;
    for (frac, anchor) in [
        (0.0, Anchor::Middle),
        (0.5, Anchor::Middle),
        (1.0, Anchor::Middle),
    ] {
        let label = if frac == 0.0 {
            "0".to_string()
        } else {
            bar.label(bar.metres * frac)
        };
        svg.text(
            x + frac * bar.length_mm,
            y + 1.4 * u,
            size,
            anchor,
            r##"fill="#1d2733""##,
            &label,
        );
    }
    let ratio = format!("比例尺 1:{}", round_ratio(bar.ratio));
    svg.text(
        x + bar.length_mm / 2.0,
        y + 4.0 * u,
        fit(m, &ratio, size, bar.length_mm * 1.2),
        Anchor::Middle,
        r##"fill="#4a5563""##,
        &ratio,
    );
}

/// The ratio to three significant digits, with thousands separators.
fn round_ratio(r: f64) -> String {
    let digits = r.max(1.0).log10().floor() as i32;
    let step = 10f64.powi((digits - 2).max(0));
    let n = ((r / step).round() * step) as u64;
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// An arrow pointing up (the map is drawn north up) under a 北 / N.
fn north_arrow(svg: &mut Svg, cx: f64, y: f64, u: f64) {
    let (top, bottom, half) = (y + 2.6 * u, y + 8.0 * u, 1.6 * u);
    let notch = bottom - 1.4 * u;
    svg.path(
        &format!(
            "M{} {}L{} {}L{} {}Z",
            num(cx),
            num(top),
            num(cx - half),
            num(bottom),
            num(cx),
            num(notch)
        ),
        r##"fill="#1d2733""##,
    );
    svg.path(
        &format!(
            "M{} {}L{} {}L{} {}Z",
            num(cx),
            num(top),
            num(cx + half),
            num(bottom),
            num(cx),
            num(notch)
        ),
        &format!(
            r##"fill="#ffffff" stroke="#1d2733" stroke-width="{}""##,
            num(0.1 * u)
        ),
    );
    svg.text(
        cx,
        y + 2.1 * u,
        1.8 * u,
        Anchor::Middle,
        r##"font-weight="bold" fill="#1d2733""##,
        "北 N",
    );
}

pub fn footer(svg: &mut Svg, page: &PageLayout, data: &BoardData, opts: &BoardOptions) {
    let b = page.footer;
    let u = page.u;
    let left = format!(
        "数据版本 {} · 网格体系 {} · 网格编码 {}",
        data.version, data.system, data.grid.code
    );
    svg.text(
        b.x0,
        b.y0 + 2.2 * u,
        1.2 * u,
        Anchor::Start,
        r##"fill="#4a5563""##,
        &left,
    );
    let right = format!("制图日期 {}", opts.date);
    svg.text(
        b.x1,
        b.y0 + 2.2 * u,
        1.2 * u,
        Anchor::End,
        r##"fill="#4a5563""##,
        &right,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratios_round_to_three_digits() {
        assert_eq!(round_ratio(12_345.6), "12,300");
        assert_eq!(round_ratio(987.0), "987");
        assert_eq!(round_ratio(1_234_567.0), "1,230,000");
    }
}
