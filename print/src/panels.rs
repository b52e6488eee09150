//! The worker panels: one per block (its colour, name, short code and its
//! gridworkers) and one for the community's own workers (网格长, 社区民警).
//! Each worker gets a photo (or a neutral silhouette), name, role, phone and
//! duties. Panels flow top to bottom, then into the next column; the number
//! of columns is the one that lets the panels be drawn largest.

use base64::Engine as _;
use gridmap_data::model::Worker;

use crate::fonts::Measure;
use crate::labels::BoxMm;
use crate::photos::{MissingPhoto, Photo, PhotoSource};
use crate::svg::{num, Anchor, Svg};

/// One panel to draw.
pub struct Panel<'a> {
    pub heading: String,
    pub fill: &'static str,
    pub workers: Vec<(&'a Worker, f64)>,
}

// Sizes in panel units (v).
const HEADER: f64 = 3.2;
const ROW: f64 = 11.0;
const EMPTY_ROW: f64 = 3.6;
const BOTTOM: f64 = 0.6;
const V_GAP: f64 = 1.0;
const H_GAP: f64 = 1.2;
const MIN_COLUMN: f64 = 30.0;
const MAX_COLUMNS: usize = 12;

/// Height of a panel in units.
fn units(p: &Panel) -> f64 {
    let rows = if p.workers.is_empty() {
        EMPTY_ROW
    } else {
        ROW * p.workers.len() as f64
    };
    HEADER + rows + BOTTOM
}

/// Where each panel goes.
#[derive(Debug, Clone, PartialEq)]
pub struct PanelLayout {
    /// Millimetres per panel unit.
    pub v: f64,
    pub boxes: Vec<BoxMm>,
}

/// Lays the panels out in `area`, with panel units at most `max_v` mm.
pub fn layout(panels: &[Panel], area: BoxMm, max_v: f64) -> PanelLayout {
    let heights: Vec<f64> = panels.iter().map(units).collect();
    let (w, h) = (area.width(), area.height());
    let mut best = (0.0, 1usize);
    for c in 1..=MAX_COLUMNS.min(panels.len().max(1)) {
        let v_width = w / (MIN_COLUMN * c as f64 + H_GAP * (c as f64 - 1.0));
        // The largest v (bisection) at which the panels fit in c columns.
        let fits = |v: f64| columns_needed(&heights, h / v) <= c;
        let v = if fits(v_width) {
            v_width
        } else {
            let (mut lo, mut hi) = (0.0, v_width);
            for _ in 0..40 {
                let mid = (lo + hi) / 2.0;
                if fits(mid) {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            lo
        };
        if v > best.0 * 1.0001 {
            best = (v, c);
        }
    }
    // A hair under the bound found, so rounding cannot push a panel out.
    let (v, c) = (best.0.min(max_v) * (1.0 - 1e-9), best.1);
    let col_w = (w - H_GAP * v * (c as f64 - 1.0)) / c as f64;
    let places = fill_columns(&heights, h / v);
    let boxes = heights
        .iter()
        .zip(places)
        .map(|(&hu, (col, top))| {
            let x = area.x0 + col as f64 * (col_w + H_GAP * v);
            BoxMm::new(x, area.y0 + top * v, col_w, hu * v)
        })
        .collect();
    PanelLayout { v, boxes }
}

/// Columns the panels need when a column holds `capacity` units.
fn columns_needed(heights: &[f64], capacity: f64) -> usize {
    if heights.iter().any(|&h| h > capacity) {
        return usize::MAX;
    }
    fill_columns(heights, capacity)
        .last()
        .map_or(1, |&(col, _)| col + 1)
}

/// Each panel's column and top (in units), filling columns in order.
fn fill_columns(heights: &[f64], capacity: f64) -> Vec<(usize, f64)> {
    let mut out = Vec::with_capacity(heights.len());
    let (mut col, mut used) = (0usize, 0.0f64);
    for &h in heights {
        let top = if used > 0.0 { used + V_GAP } else { 0.0 };
        if used > 0.0 && top + h > capacity {
            col += 1;
            out.push((col, 0.0));
            used = h;
        } else {
            out.push((col, top));
            used = top + h;
        }
    }
    out
}

/// Draws the panels; returns the workers printed with a silhouette.
pub fn draw(
    svg: &mut Svg,
    panels: &[Panel],
    layout: &PanelLayout,
    m: &Measure,
    photos: &PhotoSource,
) -> Vec<MissingPhoto> {
    let v = layout.v;
    let mut missing = Vec::new();
    for (p, b) in panels.iter().zip(&layout.boxes) {
        svg.rect(
            b.x0,
            b.y0,
            b.width(),
            b.height(),
            &format!(
                r##"rx="{}" fill="#ffffff" stroke="#8a9099" stroke-width="{}""##,
                num(0.5 * v),
                num(0.12 * v)
            ),
        );
        svg.rect(
            b.x0,
            b.y0,
            b.width(),
            HEADER * v,
            &format!(
                r##"rx="{}" fill="{}" stroke="#8a9099" stroke-width="{}""##,
                num(0.5 * v),
                p.fill,
                num(0.12 * v)
            ),
        );
        let size = fit(m, &p.heading, 1.7 * v, b.width() - 1.6 * v);
        svg.text(
            b.x0 + 0.8 * v,
            b.y0 + 2.25 * v,
            size,
            Anchor::Start,
            r##"font-weight="bold" fill="#1d2733""##,
            &p.heading,
        );
        let top = b.y0 + HEADER * v;
        if p.workers.is_empty() {
            svg.text(
                b.x0 + 0.8 * v,
                top + 2.4 * v,
                1.3 * v,
                Anchor::Start,
                r##"fill="#6b7480""##,
                "暂无网格员",
            );
        }
        for (k, (w, share)) in p.workers.iter().enumerate() {
            let y = top + k as f64 * ROW * v;
            match photos.load(&w.photo) {
                Ok(photo) => draw_photo(svg, &photo, b.x0 + 0.8 * v, y + 1.2 * v, v),
                Err(reason) => {
                    draw_silhouette(svg, b.x0 + 0.8 * v, y + 1.2 * v, v);
                    missing.push(MissingPhoto {
                        worker_id: w.id.clone(),
                        worker_name: w.name.clone(),
                        photo: w.photo.clone(),
                        reason,
                    });
                }
            }
            draw_worker(svg, m, w, *share, b.x0 + 7.8 * v, y, b.x1 - 0.7 * v, v);
        }
    }
    missing
}

/// The font size at which `text` fits in `max` mm, at most `size`.
pub fn fit(m: &Measure, text: &str, size: f64, max: f64) -> f64 {
    let w = m.width(text, size);
    if w > max && w > 0.0 {
        size * max / w
    } else {
        size
    }
}

#[allow(clippy::too_many_arguments)]
fn draw_worker(
    svg: &mut Svg,
    m: &Measure,
    w: &Worker,
    share: f64,
    x: f64,
    y: f64,
    x_end: f64,
    v: f64,
) {
    let width = x_end - x;
    let dark = r##"fill="#1d2733""##;
    let name_size = fit(m, &w.name, 1.9 * v, width);
    svg.text(
        x,
        y + 3.0 * v,
        name_size,
        Anchor::Start,
        &format!(r#"font-weight="bold" {dark}"#),
        &w.name,
    );
    let role = if share < 1.0 {
        format!("{}（兼）", w.role)
    } else {
        w.role.clone()
    };
    svg.text(
        x,
        y + 4.8 * v,
        fit(m, &role, 1.25 * v, width),
        Anchor::Start,
        r##"fill="#4a5563""##,
        &role,
    );
    let phone = format!("电话 {}", w.phone);
    svg.text(
        x,
        y + 6.9 * v,
        fit(m, &phone, 1.6 * v, width),
        Anchor::Start,
        r##"fill="#b03a2e" font-weight="bold""##,
        &phone,
    );
    // Duties: two lines at 1.1v, else three at 0.95v, else cut with an ellipsis.
    let mut size = 1.1 * v;
    let mut lines = m.wrap(&w.duties, size, width);
    let mut step = 1.4 * v;
    if lines.len() > 2 {
        size = 0.95 * v;
        step = 1.15 * v;
        lines = m.wrap(&w.duties, size, width);
        if lines.len() > 3 {
            lines.truncate(3);
            let last = lines[2].clone();
            let mut cut: Vec<char> = last.chars().collect();
            while !cut.is_empty()
                && m.width(&format!("{}…", cut.iter().collect::<String>()), size) > width
            {
                cut.pop();
            }
            lines[2] = format!("{}…", cut.into_iter().collect::<String>());
        }
    }
    for (k, line) in lines.iter().enumerate() {
        svg.text(
            x,
            y + 8.4 * v + k as f64 * step,
            size,
            Anchor::Start,
            r##"fill="#4a5563""##,
            line,
        );
    }
}

fn draw_photo(svg: &mut Svg, photo: &Photo, x: f64, y: f64, v: f64) {
    let data = base64::engine::general_purpose::STANDARD.encode(&photo.bytes);
    svg.raw(&format!(
        r#"<image x="{}" y="{}" width="{}" height="{}" preserveAspectRatio="xMidYMid slice" href="data:{};base64,{}"/>"#,
        num(x),
        num(y),
        num(6.0 * v),
        num(8.0 * v),
        photo.mime,
        data
    ));
    svg.rect(
        x,
        y,
        6.0 * v,
        8.0 * v,
        &format!(
            r##"fill="none" stroke="#8a9099" stroke-width="{}""##,
            num(0.08 * v)
        ),
    );
}

/// A neutral head-and-shoulders in the photo's place.
fn draw_silhouette(svg: &mut Svg, x: f64, y: f64, v: f64) {
    svg.rect(
        x,
        y,
        6.0 * v,
        8.0 * v,
        &format!(
            r##"fill="#e4e7eb" stroke="#8a9099" stroke-width="{}""##,
            num(0.08 * v)
        ),
    );
    let cx = x + 3.0 * v;
    svg.raw(&format!(
        r##"<circle cx="{}" cy="{}" r="{}" fill="#b3bac3"/>"##,
        num(cx),
        num(y + 3.0 * v),
        num(1.45 * v)
    ));
    let (x0, x1, top, bottom) = (cx - 2.5 * v, cx + 2.5 * v, y + 4.9 * v, y + 8.0 * v);
    svg.path(
        &format!(
            "M{} {}Q{} {} {} {}Q{} {} {} {}Z",
            num(x0),
            num(bottom),
            num(x0),
            num(top),
            num(cx),
            num(top),
            num(x1),
            num(top),
            num(x1),
            num(bottom)
        ),
        r##"fill="#b3bac3""##,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_are_counted_by_capacity() {
        assert_eq!(columns_needed(&[10.0, 10.0, 10.0], 21.0), 2);
        assert_eq!(columns_needed(&[10.0, 10.0, 10.0], 32.0), 1);
        assert_eq!(columns_needed(&[10.0, 30.0], 20.0), usize::MAX);
    }
}
