//! Label placement on the map: every block's label (name and short code)
//! inside its block, no two labels overlapping, none crossing the frame.
//!
//! Labels are placed one at a time, the smallest block first (it has the
//! fewest places to go). For each, three tries in order:
//! 1. the whole box inside the block, at the largest font size that fits,
//!    centred on candidate points ordered by their distance from the block's
//!    border (the first is the pole of inaccessibility, found on a grid);
//! 2. (required labels only) the box centred inside the block but spilling
//!    over its border, at the two smallest sizes;
//! 3. (required labels only) the box moved off along a leader line from the block's pole, at the
//!    smallest size, on growing rings of positions.
//!
//! Every try must keep the box inside the frame and clear of every box
//! placed before. A required label that finds no place is an error (the
//! board is not printed with a label missing); an optional one (the names of
//! neighbouring communities) is left out.

use geo::{Area, BoundingRect, Contains, Distance, Euclidean, InteriorPoint};
use geo_types::{Coord, LineString, MultiPolygon, Point};

/// An axis-aligned box on the sheet, in millimetres (y grows downwards).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BoxMm {
    pub x0: f64,
    pub y0: f64,
    pub x1: f64,
    pub y1: f64,
}

impl BoxMm {
    pub fn new(x: f64, y: f64, w: f64, h: f64) -> Self {
        Self {
            x0: x,
            y0: y,
            x1: x + w,
            y1: y + h,
        }
    }

    fn centred(c: (f64, f64), w: f64, h: f64) -> Self {
        Self::new(c.0 - w / 2.0, c.1 - h / 2.0, w, h)
    }

    pub fn width(&self) -> f64 {
        self.x1 - self.x0
    }

    pub fn height(&self) -> f64 {
        self.y1 - self.y0
    }

    /// Whether the interiors of two boxes meet.
    pub fn overlaps(&self, o: &BoxMm) -> bool {
        self.x0 < o.x1 && o.x0 < self.x1 && self.y0 < o.y1 && o.y0 < self.y1
    }

    /// Whether `self` lies inside `o` (edges may touch).
    pub fn within(&self, o: &BoxMm) -> bool {
        self.x0 >= o.x0 && self.y0 >= o.y0 && self.x1 <= o.x1 && self.y1 <= o.y1
    }

    pub fn shrunk(&self, d: f64) -> Self {
        Self {
            x0: self.x0 + d,
            y0: self.y0 + d,
            x1: self.x1 - d,
            y1: self.y1 - d,
        }
    }
}

/// One line of a label: its text, its width at font size 1, its size relative to the label's.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    pub text: String,
    pub unit_width: f64,
    pub scale: f64,
}

/// A label to place.
#[derive(Debug, Clone)]
pub struct LabelSpec {
    pub lines: Vec<Line>,
    /// Where the label belongs, in sheet millimetres.
    pub region: MultiPolygon<f64>,
    /// Font sizes (mm) to try, largest first.
    pub sizes: Vec<f64>,
    /// A required label that finds no place fails the board; others are dropped.
    pub required: bool,
}

/// A placed label.
#[derive(Debug, Clone, PartialEq)]
pub struct Placed {
    /// Index into the specs.
    pub spec: usize,
    pub size: f64,
    pub rect: BoxMm,
    /// Where a leader line starts (inside the region), when the label moved off.
    pub leader_from: Option<(f64, f64)>,
}

/// Line height as a multiple of the font size.
pub const LINE_HEIGHT: f64 = 1.2;
/// Padding around the text, as a multiple of the font size.
const PAD: f64 = 0.15;

/// The box size of a label at font size `size`.
pub fn label_size(lines: &[Line], size: f64) -> (f64, f64) {
    let w = lines
        .iter()
        .map(|l| l.unit_width * l.scale * size)
        .fold(0.0, f64::max);
    let h: f64 = lines.iter().map(|l| l.scale * size * LINE_HEIGHT).sum();
    (w + 2.0 * PAD * size, h + 2.0 * PAD * size)
}

/// Places `specs` inside `frame`; `Err(index)` names the first required
/// label that found no place.
pub fn place(specs: &[LabelSpec], frame: BoxMm) -> Result<Vec<Placed>, usize> {
    let mut order: Vec<usize> = (0..specs.len()).collect();
    // Required labels first, then the smallest regions first.
    order.sort_by(|&a, &b| {
        specs[b]
            .required
            .cmp(&specs[a].required)
            .then(
                specs[a]
                    .region
                    .unsigned_area()
                    .total_cmp(&specs[b].region.unsigned_area()),
            )
            .then(a.cmp(&b))
    });
    let mut placed: Vec<Placed> = Vec::with_capacity(specs.len());
    for i in order {
        match place_one(i, &specs[i], frame, &placed) {
            Some(p) => placed.push(p),
            None if specs[i].required => return Err(i),
            None => {}
        }
    }
    placed.sort_by_key(|p| p.spec);
    Ok(placed)
}

fn place_one(i: usize, spec: &LabelSpec, frame: BoxMm, placed: &[Placed]) -> Option<Placed> {
    let candidates = candidates(&spec.region);
    let free = |r: &BoxMm| r.within(&frame) && placed.iter().all(|p| !p.rect.overlaps(r));
    let make = |size: f64, rect: BoxMm, leader_from| Placed {
        spec: i,
        size,
        rect,
        leader_from,
    };
    for &size in &spec.sizes {
        let (w, h) = label_size(&spec.lines, size);
        for &c in &candidates {
            let r = BoxMm::centred(c, w, h);
            if free(&r) && box_inside(&r, &spec.region) {
                return Some(make(size, r, None));
            }
        }
    }
    if !spec.required {
        return None;
    }
    let smallest: Vec<f64> = spec.sizes.iter().rev().take(2).copied().collect();
    for &size in smallest.iter().rev() {
        let (w, h) = label_size(&spec.lines, size);
        for &c in candidates.iter().take(12) {
            let r = BoxMm::centred(c, w, h);
            if free(&r) {
                return Some(make(size, r, None));
            }
        }
    }
    let size = *spec.sizes.last()?;
    let (w, h) = label_size(&spec.lines, size);
    let anchor = *candidates.first()?;
    for ring in 1..=40 {
        let r = (w.max(h) / 2.0) + f64::from(ring) * h * 0.75;
        for k in 0..24 {
            let a = f64::from(k) * std::f64::consts::TAU / 24.0;
            let c = (anchor.0 + r * a.cos(), anchor.1 + r * a.sin());
            let rect = BoxMm::centred(c, w, h);
            if free(&rect) {
                return Some(make(size, rect, Some(anchor)));
            }
        }
    }
    None
}

/// Points inside `region`, the farthest from its border first: a 16×16
/// grid over its bounding box refined around the best cells, plus an
/// interior point so that even a sliver has one.
pub fn candidates(region: &MultiPolygon<f64>) -> Vec<(f64, f64)> {
    let Some(bb) = region.bounding_rect() else {
        return Vec::new();
    };
    let rings: Vec<&LineString<f64>> = region
        .0
        .iter()
        .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
        .collect();
    let clearance = |c: Coord<f64>| {
        let p = Point::from(c);
        rings
            .iter()
            .map(|r| Euclidean.distance(&p, *r))
            .fold(f64::INFINITY, f64::min)
    };
    let mut scored: Vec<(f64, Coord<f64>)> = Vec::new();
    let sample = |x0: f64, y0: f64, w: f64, h: f64, n: usize, out: &mut Vec<(f64, Coord<f64>)>| {
        for a in 0..n {
            for b in 0..n {
                let c = Coord {
                    x: x0 + w * (a as f64 + 0.5) / n as f64,
                    y: y0 + h * (b as f64 + 0.5) / n as f64,
                };
                if region.contains(&Point::from(c)) {
                    out.push((clearance(c), c));
                }
            }
        }
    };
    let (w, h) = (bb.width(), bb.height());
    sample(bb.min().x, bb.min().y, w, h, 16, &mut scored);
    let sort = |v: &mut Vec<(f64, Coord<f64>)>| {
        v.sort_by(|a, b| {
            b.0.total_cmp(&a.0)
                .then(a.1.x.total_cmp(&b.1.x))
                .then(a.1.y.total_cmp(&b.1.y))
        });
    };
    sort(&mut scored);
    let best: Vec<Coord<f64>> = scored.iter().take(4).map(|s| s.1).collect();
    for c in best {
        let (cw, ch) = (w / 16.0, h / 16.0);
        sample(c.x - cw, c.y - ch, 2.0 * cw, 2.0 * ch, 6, &mut scored);
    }
    if let Some(p) = region.interior_point() {
        scored.push((clearance(p.0), p.0));
    }
    sort(&mut scored);
    scored.dedup_by(|a, b| (a.1.x - b.1.x).abs() < 1e-9 && (a.1.y - b.1.y).abs() < 1e-9);
    scored
        .into_iter()
        .take(64)
        .map(|(_, c)| (c.x, c.y))
        .collect()
}

/// Whether the box lies inside the region: its corners inside and no border
/// segment crossing it.
fn box_inside(r: &BoxMm, region: &MultiPolygon<f64>) -> bool {
    let corners = [(r.x0, r.y0), (r.x1, r.y0), (r.x1, r.y1), (r.x0, r.y1)];
    if !corners
        .iter()
        .all(|&(x, y)| region.contains(&Point::new(x, y)))
    {
        return false;
    }
    !region.0.iter().any(|p| {
        std::iter::once(p.exterior())
            .chain(p.interiors())
            .any(|ring| ring.lines().any(|l| segment_meets_box(l.start, l.end, r)))
    })
}

/// Liang–Barsky: does the segment a–b pass through the box?
fn segment_meets_box(a: Coord<f64>, b: Coord<f64>, r: &BoxMm) -> bool {
    if a.x.max(b.x) < r.x0 || a.x.min(b.x) > r.x1 || a.y.max(b.y) < r.y0 || a.y.min(b.y) > r.y1 {
        return false;
    }
    let (dx, dy) = (b.x - a.x, b.y - a.y);
    let mut t0 = 0.0f64;
    let mut t1 = 1.0f64;
    for (p, q) in [
        (-dx, a.x - r.x0),
        (dx, r.x1 - a.x),
        (-dy, a.y - r.y0),
        (dy, r.y1 - a.y),
    ] {
        if p == 0.0 {
            if q < 0.0 {
                return false;
            }
        } else {
            let t = q / p;
            if p < 0.0 {
                t0 = t0.max(t);
            } else {
                t1 = t1.min(t);
            }
            if t0 > t1 {
                return false;
            }
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo_types::polygon;

    fn line(text: &str) -> Line {
        Line {
            text: text.into(),
            unit_width: text.chars().count() as f64,
            scale: 1.0,
        }
    }

    #[test]
    fn labels_in_a_row_of_narrow_blocks_never_overlap_and_stay_in_the_frame() {
        // Ten 6 mm wide blocks; labels 4 characters wide at 3 mm do not fit
        // inside, so they spill or move off along leaders, still apart.
        let frame = BoxMm::new(0.0, 0.0, 60.0, 40.0);
        let specs: Vec<LabelSpec> = (0..10)
            .map(|k| {
                let x = 6.0 * k as f64;
                LabelSpec {
                    lines: vec![line("翠苑一区"), line("001")],
                    region: MultiPolygon(vec![polygon![(x: x, y: 0.0), (x: x + 6.0, y: 0.0), (x: x + 6.0, y: 40.0), (x: x, y: 40.0)]]),
                    sizes: vec![3.0, 2.0],
                    required: true,
                }
            })
            .collect();
        let placed = place(&specs, frame).expect("room for all");
        assert_eq!(placed.len(), 10);
        for (i, a) in placed.iter().enumerate() {
            assert!(a.rect.within(&frame));
            for b in &placed[i + 1..] {
                assert!(!a.rect.overlaps(&b.rect), "{a:?} {b:?}");
            }
        }
    }

    #[test]
    fn a_label_that_fits_sits_inside_its_block_at_full_size() {
        let frame = BoxMm::new(0.0, 0.0, 100.0, 100.0);
        let region = MultiPolygon(vec![
            polygon![(x: 10.0, y: 10.0), (x: 90.0, y: 10.0), (x: 90.0, y: 30.0), (x: 10.0, y: 30.0)],
        ]);
        let spec = LabelSpec {
            lines: vec![line("文鼎社区")],
            region: region.clone(),
            sizes: vec![5.0, 3.0],
            required: true,
        };
        let placed = place(&[spec], frame).unwrap();
        assert_eq!(placed[0].size, 5.0);
        assert!(box_inside(&placed[0].rect, &region));
        assert!(placed[0].leader_from.is_none());
    }

    #[test]
    fn no_room_at_all_is_an_error_naming_the_label() {
        let frame = BoxMm::new(0.0, 0.0, 5.0, 5.0);
        let spec = LabelSpec {
            lines: vec![line("很长很长的网格名称")],
            region: MultiPolygon(vec![
                polygon![(x: 0.0, y: 0.0), (x: 5.0, y: 0.0), (x: 5.0, y: 5.0), (x: 0.0, y: 5.0)],
            ]),
            sizes: vec![2.0],
            required: true,
        };
        assert_eq!(place(&[spec], frame), Err(0));
    }

    #[test]
    fn segments_and_boxes() {
        let r = BoxMm::new(0.0, 0.0, 1.0, 1.0);
        let c = |x, y| Coord { x, y };
        assert!(segment_meets_box(c(-1.0, 0.5), c(2.0, 0.5), &r));
        assert!(!segment_meets_box(c(-1.0, 2.0), c(2.0, 1.5), &r));
        assert!(!segment_meets_box(c(1.5, -1.0), c(3.0, 0.5), &r));
    }
}
