//! Exact noding of ring linework: every segment is split where another one
//! touches or crosses it, and at nothing else.
//!
//! A vertex lying on another segment splits that segment at the vertex itself
//! (bit for bit); only proper crossings add new points, computed by geo's
//! `line_intersection` (robust orientation predicates decide *whether* segments
//! meet; the point is clamped into both segments' envelopes). A computed point
//! is rounded, so the two halves of a split segment may pass a hair's breadth
//! off the original line and meet a third segment the original missed: the
//! pass is repeated on its own output until it finds nothing (GEOS iterates
//! its noder the same way).

use geo::line_intersection::{line_intersection, LineIntersection};
use geo_types::{Coord, Line};
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{RTree, AABB};

/// Noding passes before giving up on convergence (each pass after the first
/// only handles the rare rounding-induced contacts of the one before).
const MAX_PASSES: usize = 8;

fn envelope(l: &Line<f64>) -> AABB<[f64; 2]> {
    AABB::from_corners([l.start.x, l.start.y], [l.end.x, l.end.y])
}

/// Total order on coordinates by value (x, then y); all inputs are finite.
pub(super) fn coord_key(c: Coord<f64>) -> (u64, u64) {
    fn ordered(v: f64) -> u64 {
        // Maps f64 order onto u64 order (and +0/-0 to one key).
        let v = if v == 0.0 { 0.0 } else { v };
        let bits = v.to_bits();
        if bits >> 63 == 1 {
            !bits
        } else {
            bits | (1 << 63)
        }
    }
    (ordered(c.x), ordered(c.y))
}

/// The segments split at all their mutual contacts, each undirected edge once
/// (a ring running twice along a stretch yields it once, as a GEOS linework
/// union does), zero-length segments dropped.
pub(super) fn node(segments: Vec<Line<f64>>) -> Vec<Line<f64>> {
    let mut lines: Vec<Line<f64>> = segments.into_iter().filter(|l| l.start != l.end).collect();
    let mut fresh = vec![true; lines.len()];
    for _ in 0..MAX_PASSES {
        let (split, split_fresh) = split_pass(&lines, &fresh);
        let changed = split.len() != lines.len();
        lines = split;
        fresh = split_fresh;
        if !changed {
            break;
        }
    }
    for l in &mut lines {
        if coord_key(l.end) < coord_key(l.start) {
            *l = Line::new(l.end, l.start);
        }
    }
    lines.sort_unstable_by_key(|l| (coord_key(l.start), coord_key(l.end)));
    lines.dedup();
    lines
}

/// One noding pass over the pairs with at least one `fresh` line (the rest
/// were checked by the pass before): the lines split at every contact found,
/// and which of them are new pieces.
fn split_pass(lines: &[Line<f64>], fresh: &[bool]) -> (Vec<Line<f64>>, Vec<bool>) {
    let tree = RTree::bulk_load(
        lines
            .iter()
            .enumerate()
            .map(|(i, l)| {
                let e = envelope(l);
                GeomWithData::new(Rectangle::from_corners(e.lower(), e.upper()), i)
            })
            .collect(),
    );
    let mut cuts: Vec<Vec<Coord<f64>>> = vec![Vec::new(); lines.len()];
    let cut = |cuts: &mut Vec<Vec<Coord<f64>>>, i: usize, p: Coord<f64>| {
        let l = lines[i];
        if p != l.start && p != l.end {
            cuts[i].push(p);
        }
    };
    for (i, li) in lines.iter().enumerate() {
        if !fresh[i] {
            continue;
        }
        for other in tree.locate_in_envelope_intersecting(&envelope(li)) {
            let j = other.data;
            // Each pair once: from its lower fresh line.
            if j == i || (j < i && fresh[j]) {
                continue;
            }
            match line_intersection(*li, lines[j]) {
                None => {}
                Some(LineIntersection::SinglePoint { intersection, .. }) => {
                    cut(&mut cuts, i, intersection);
                    cut(&mut cuts, j, intersection);
                }
                Some(LineIntersection::Collinear { intersection }) => {
                    for p in [intersection.start, intersection.end] {
                        cut(&mut cuts, i, p);
                        cut(&mut cuts, j, p);
                    }
                }
            }
        }
    }
    let mut out = Vec::with_capacity(lines.len());
    let mut out_fresh = Vec::with_capacity(lines.len());
    for (l, mut points) in lines.iter().zip(cuts) {
        if points.is_empty() {
            out.push(*l);
            out_fresh.push(false);
            continue;
        }
        let d = l.delta();
        let along = |p: &Coord<f64>| {
            if d.x.abs() >= d.y.abs() {
                (p.x - l.start.x) / d.x
            } else {
                (p.y - l.start.y) / d.y
            }
        };
        points.sort_by(|a, b| along(a).total_cmp(&along(b)));
        let mut from = l.start;
        for p in points.into_iter().chain(std::iter::once(l.end)) {
            if p != from {
                out.push(Line::new(from, p));
                out_fresh.push(true);
                from = p;
            }
        }
    }
    (out, out_fresh)
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo_types::coord;

    fn line(a: (f64, f64), b: (f64, f64)) -> Line<f64> {
        Line::new(coord! { x: a.0, y: a.1 }, coord! { x: b.0, y: b.1 })
    }

    #[test]
    fn crossing_segments_split_at_the_crossing() {
        let noded = node(vec![line((0., 0.), (2., 2.)), line((0., 2.), (2., 0.))]);
        assert_eq!(noded.len(), 4);
        assert!(noded
            .iter()
            .all(|l| l.start == coord! { x: 1., y: 1. } || l.end == coord! { x: 1., y: 1. }));
    }

    #[test]
    fn a_vertex_on_a_segment_splits_it_at_that_vertex_exactly() {
        let v = coord! { x: 0.1, y: 0.0 };
        let noded = node(vec![
            line((0., 0.), (0.3, 0.)),
            Line::new(v, coord! { x: 0.1, y: 1.0 }),
        ]);
        assert_eq!(noded.len(), 3);
        assert!(noded.contains(&Line::new(coord! { x: 0., y: 0. }, v)));
        assert!(noded.contains(&Line::new(v, coord! { x: 0.3, y: 0. })));
    }

    #[test]
    fn overlapping_collinear_segments_become_shared_edges() {
        let noded = node(vec![line((0., 0.), (2., 0.)), line((3., 0.), (1., 0.))]);
        assert_eq!(
            noded,
            vec![
                line((0., 0.), (1., 0.)),
                line((1., 0.), (2., 0.)),
                line((2., 0.), (3., 0.))
            ]
        );
    }

    #[test]
    fn repeated_and_zero_length_segments_collapse() {
        let noded = node(vec![
            line((0., 0.), (1., 0.)),
            line((1., 0.), (0., 0.)),
            line((1., 0.), (1., 0.)),
        ]);
        assert_eq!(noded, vec![line((0., 0.), (1., 0.))]);
    }
}
