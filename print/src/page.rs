//! The sheet divided into its parts: title band, map frame, side column
//! (legend, north arrow, scale bar, QR code), worker panels and footer.
//! Portrait sheets put the panels under the map, landscape ones beside it.

use crate::labels::BoxMm;

/// The parts of one sheet, in millimetres.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PageLayout {
    pub width: f64,
    pub height: f64,
    /// One hundredth of the shorter side: every size on the board is a multiple of it.
    pub u: f64,
    pub header: BoxMm,
    pub map: BoxMm,
    pub side: BoxMm,
    pub panels: BoxMm,
    pub footer: BoxMm,
}

impl PageLayout {
    pub fn new(width: f64, height: f64) -> Self {
        let u = width.min(height) / 100.0;
        let margin = 3.0 * u;
        let gap = 2.0 * u;
        let header = BoxMm::new(margin, margin, width - 2.0 * margin, 10.0 * u);
        let footer = BoxMm::new(
            margin,
            height - margin - 3.0 * u,
            width - 2.0 * margin,
            3.0 * u,
        );
        let body = BoxMm {
            x0: margin,
            y0: header.y1 + gap,
            x1: width - margin,
            y1: footer.y0 - gap,
        };
        let side_w = 22.0 * u;
        // Portrait: map and side column on top, panels below; landscape:
        // map, side column and panels side by side.
        let (map, side, panels) = if width < height {
            let map_h = body.height() * 0.56;
            let map = BoxMm::new(body.x0, body.y0, body.width() - side_w - gap, map_h);
            let side = BoxMm::new(map.x1 + gap, body.y0, side_w, map_h);
            let panels = BoxMm {
                x0: body.x0,
                y0: map.y1 + gap,
                x1: body.x1,
                y1: body.y1,
            };
            (map, side, panels)
        } else {
            let map_w = body.width() * 0.52;
            let map = BoxMm::new(body.x0, body.y0, map_w, body.height());
            let side = BoxMm::new(map.x1 + gap, body.y0, side_w, body.height());
            let panels = BoxMm {
                x0: side.x1 + gap,
                y0: body.y0,
                x1: body.x1,
                y1: body.y1,
            };
            (map, side, panels)
        };
        Self {
            width,
            height,
            u,
            header,
            map,
            side,
            panels,
            footer,
        }
    }

    /// The parts that must not overlap each other.
    pub fn parts(&self) -> [BoxMm; 5] {
        [self.header, self.map, self.side, self.panels, self.footer]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::paper::PaperSize;

    #[test]
    fn the_parts_of_every_sheet_are_disjoint_and_on_the_sheet() {
        for size in PaperSize::ALL {
            for landscape in [false, true] {
                let (w, h) = size.mm(landscape);
                let p = PageLayout::new(w, h);
                let sheet = BoxMm::new(0.0, 0.0, w, h);
                let parts = p.parts();
                for (i, a) in parts.iter().enumerate() {
                    assert!(
                        a.within(&sheet) && a.width() > 0.0 && a.height() > 0.0,
                        "{size} {landscape} {i}"
                    );
                    for b in &parts[i + 1..] {
                        assert!(!a.overlaps(b), "{size} {landscape}");
                    }
                }
            }
        }
    }
}
