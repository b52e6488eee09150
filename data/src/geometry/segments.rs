//! Segment intersection searches over rings, indexed with an R-tree so that
//! rings with tens of thousands of vertices are checked in O(n log n) rather
//! than the O(n²) of a pairwise scan.

use geo::line_intersection::{line_intersection, LineIntersection};
use geo_types::{Coord, Line};
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{RTree, AABB};
use std::collections::BTreeMap;

type SegmentBox = GeomWithData<Rectangle<[f64; 2]>, usize>;

fn envelope(l: &Line<f64>) -> AABB<[f64; 2]> {
    AABB::from_corners([l.start.x, l.start.y], [l.end.x, l.end.y])
}

/// The ring's vertices without consecutive repeats (zero-length segments
/// carry no geometry and would look like touching neighbours).
pub(crate) fn dedup(ring: &[Coord<f64>]) -> Vec<Coord<f64>> {
    let mut out: Vec<Coord<f64>> = Vec::with_capacity(ring.len());
    for c in ring {
        if out.last() != Some(c) {
            out.push(*c);
        }
    }
    out
}

fn lines_of(points: &[Coord<f64>]) -> Vec<Line<f64>> {
    points.windows(2).map(|w| Line::new(w[0], w[1])).collect()
}

fn tree_of(lines: &[Line<f64>]) -> RTree<SegmentBox> {
    let boxes = lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let e = envelope(l);
            GeomWithData::new(Rectangle::from_corners(e.lower(), e.upper()), i)
        })
        .collect();
    RTree::bulk_load(boxes)
}

/// The first point where a closed ring touches or crosses itself, if any.
///
/// Neighbouring segments may share their common vertex but must not overlap
/// (a spike); any contact between non-neighbouring segments is a
/// self-intersection (OGC rings must be simple). Expects a closed ring with at
/// least 3 distinct points.
pub(crate) fn ring_self_intersection(ring: &[Coord<f64>]) -> Option<Coord<f64>> {
    let points = dedup(ring);
    if points.len() < 4 {
        return None;
    }
    let lines = lines_of(&points);
    let n = lines.len();
    let tree = tree_of(&lines);
    for (i, li) in lines.iter().enumerate() {
        let mut candidates: Vec<usize> = tree
            .locate_in_envelope_intersecting(&envelope(li))
            .map(|b| b.data)
            .filter(|&j| j > i)
            .collect();
        candidates.sort_unstable();
        for j in candidates {
            let lj = lines[j];
            // The vertex two neighbouring segments legitimately share.
            let shared = if j == i + 1 {
                Some(li.end)
            } else if i == 0 && j == n - 1 {
                Some(li.start)
            } else {
                None
            };
            match (line_intersection(*li, lj), shared) {
                (None, _) => {}
                (Some(LineIntersection::SinglePoint { intersection, .. }), Some(s))
                    if intersection == s => {}
                (Some(LineIntersection::SinglePoint { intersection, .. }), _) => {
                    return Some(intersection)
                }
                (Some(LineIntersection::Collinear { .. }), Some(s)) => return Some(s),
                (Some(LineIntersection::Collinear { intersection }), None) => {
                    return Some(intersection.start)
                }
            }
        }
    }
    None
}

/// For rings tagged with an owner (a polygon part, or a ring of one polygon),
/// the first meeting point of every pair of owners whose rings meet, keyed
/// `(lower owner, higher owner)`. One R-tree over all segments, so a mainland
/// with hundreds of islands costs O(n log n), not one tree per pair.
pub(crate) fn meeting_owners(
    rings: &[(usize, &[Coord<f64>])],
) -> BTreeMap<(usize, usize), Coord<f64>> {
    let mut lines: Vec<(usize, Line<f64>)> = Vec::new();
    for (owner, ring) in rings {
        lines.extend(lines_of(&dedup(ring)).into_iter().map(|l| (*owner, l)));
    }
    let only_lines: Vec<Line<f64>> = lines.iter().map(|(_, l)| *l).collect();
    let tree = tree_of(&only_lines);
    let mut found = BTreeMap::new();
    for (i, (owner_i, li)) in lines.iter().enumerate() {
        let mut candidates: Vec<usize> = tree
            .locate_in_envelope_intersecting(&envelope(li))
            .map(|b| b.data)
            .filter(|&j| j > i && lines[j].0 != *owner_i)
            .collect();
        candidates.sort_unstable();
        for j in candidates {
            let (owner_j, lj) = lines[j];
            let key = ((*owner_i).min(owner_j), (*owner_i).max(owner_j));
            if found.contains_key(&key) {
                continue;
            }
            let at = match line_intersection(*li, lj) {
                None => continue,
                Some(LineIntersection::SinglePoint { intersection, .. }) => intersection,
                Some(LineIntersection::Collinear { intersection }) => intersection.start,
            };
            found.insert(key, at);
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geometry::testutil::self_touching_ring;
    use geo_types::coord;

    /// The coordinates of [`crate::geometry::testutil::ring`], as the segment routines take them.
    fn ring(pts: &[(f64, f64)]) -> Vec<Coord<f64>> {
        crate::geometry::testutil::ring(pts).0
    }

    #[test]
    fn square_is_simple() {
        let r = ring(&[(0., 0.), (1., 0.), (1., 1.), (0., 1.), (0., 0.)]);
        assert_eq!(ring_self_intersection(&r), None);
    }

    #[test]
    fn repeated_vertices_are_not_intersections() {
        let r = ring(&[
            (0., 0.),
            (1., 0.),
            (1., 0.),
            (1., 1.),
            (0., 1.),
            (0., 0.),
            (0., 0.),
        ]);
        assert_eq!(ring_self_intersection(&r), None);
    }

    #[test]
    fn bow_tie_crosses_at_centre() {
        let r = ring(&[(0., 0.), (2., 2.), (2., 0.), (0., 2.), (0., 0.)]);
        assert_eq!(ring_self_intersection(&r), Some(coord! { x: 1., y: 1. }));
    }

    #[test]
    fn spike_is_found_at_its_base() {
        // (1,0) -> (1,3) -> (1,1): the ring doubles back on itself.
        let r = ring(&[(0., 0.), (1., 0.), (1., 3.), (1., 1.), (0., 1.), (0., 0.)]);
        assert_eq!(ring_self_intersection(&r), Some(coord! { x: 1., y: 3. }));
    }

    #[test]
    fn ring_touching_itself_at_a_vertex() {
        // An "inverted hole": the ring passes through (2,2) twice.
        let r = self_touching_ring();
        assert_eq!(ring_self_intersection(&r.0), Some(coord! { x: 2., y: 2. }));
    }

    #[test]
    fn crossing_rings_meet() {
        let a = ring(&[(0., 0.), (2., 0.), (2., 2.), (0., 2.), (0., 0.)]);
        let b = ring(&[(1., 1.), (3., 1.), (3., 3.), (1., 3.), (1., 1.)]);
        let c = ring(&[(5., 5.), (6., 5.), (6., 6.), (5., 5.)]);
        let d = ring(&[(6., 6.), (7., 6.), (7., 7.), (6., 6.)]);
        let m = meeting_owners(&[(0, &a), (1, &b), (2, &c), (3, &d)]);
        assert_eq!(m.keys().copied().collect::<Vec<_>>(), vec![(0, 1), (2, 3)]);
        assert_eq!(m[&(2, 3)], coord! { x: 6., y: 6. });
        let p = m[&(0, 1)];
        assert!(
            p == coord! { x: 2., y: 1. } || p == coord! { x: 1., y: 2. },
            "{p:?}"
        );
    }
}
