//! Which blocks of a map touch: along a border (they must get different
//! colours) or only at a point (they should, where the palette allows).
//!
//! Real borders are not always bit-for-bit shared (digitised separately,
//! rounded in a CRS conversion), so "on the border" means within a tolerance
//! of the other polygon's boundary, found through an R-tree of all segments.

use geo_types::MultiPolygon;
use rstar::primitives::{GeomWithData, Line};
use rstar::RTree;

/// The contact graph of a set of polygons.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Adjacency {
    /// `border[i]`: the polygons sharing a stretch of border with `i`, ascending.
    pub border: Vec<Vec<usize>>,
    /// `corner[i]`: the polygons touching `i` only at points, ascending.
    pub corner: Vec<Vec<usize>>,
}

/// A shared stretch shorter than this many tolerances is a corner contact.
const MIN_SHARED_TOLERANCES: f64 = 4.0;

/// Contacts between `polygons` (longitude/latitude) with boundaries closer
/// than `tolerance` degrees (1e-5° ≈ 1 m).
pub fn adjacency(polygons: &[MultiPolygon<f64>], tolerance: f64) -> Adjacency {
    let n = polygons.len();
    let mut segments = Vec::new();
    for (owner, mp) in polygons.iter().enumerate() {
        for poly in &mp.0 {
            for ring in std::iter::once(poly.exterior()).chain(poly.interiors()) {
                for l in ring.lines() {
                    if l.start != l.end {
                        segments.push(GeomWithData::new(
                            Line::new([l.start.x, l.start.y], [l.end.x, l.end.y]),
                            owner,
                        ));
                    }
                }
            }
        }
    }
    let tree = RTree::bulk_load(segments);
    // shared[i][j]: length of i's boundary lying on j's.
    let mut shared = vec![std::collections::BTreeMap::<usize, f64>::new(); n];
    let mut touching = vec![std::collections::BTreeSet::<usize>::new(); n];
    let d2 = tolerance * tolerance;
    for seg in tree.iter() {
        let owner = seg.data;
        let (a, b) = (seg.geom().from, seg.geom().to);
        let mid = [(a[0] + b[0]) / 2.0, (a[1] + b[1]) / 2.0];
        let len = ((b[0] - a[0]).powi(2) + (b[1] - a[1]).powi(2)).sqrt();
        for other in tree.locate_within_distance(mid, d2) {
            if other.data != owner {
                *shared[owner].entry(other.data).or_default() += len;
            }
        }
        for other in tree.locate_within_distance(a, d2) {
            if other.data != owner {
                touching[owner].insert(other.data);
            }
        }
    }
    let min_shared = MIN_SHARED_TOLERANCES * tolerance;
    let mut border = vec![Vec::new(); n];
    let mut corner = vec![Vec::new(); n];
    for i in 0..n {
        for j in 0..n {
            if i == j {
                continue;
            }
            let len = shared[i].get(&j).copied().unwrap_or(0.0)
                + shared[j].get(&i).copied().unwrap_or(0.0);
            if len > min_shared {
                border[i].push(j);
            } else if touching[i].contains(&j) || touching[j].contains(&i) || len > 0.0 {
                corner[i].push(j);
            }
        }
    }
    Adjacency { border, corner }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo_types::polygon;

    fn square(x: f64, y: f64) -> MultiPolygon<f64> {
        MultiPolygon(vec![
            polygon![(x: x, y: y), (x: x + 1.0, y: y), (x: x + 1.0, y: y + 1.0), (x: x, y: y + 1.0)],
        ])
    }

    #[test]
    fn borders_corners_and_gaps_within_the_tolerance() {
        // A 2×2 chessboard: side neighbours share borders, diagonals a corner;
        // a fifth square 1e-7 away from the right column still borders it.
        let polys = vec![
            square(0.0, 0.0),
            square(1.0, 0.0),
            square(0.0, 1.0),
            square(1.0, 1.0),
            square(2.0 + 1e-7, 0.0),
            square(5.0, 5.0),
        ];
        let adj = adjacency(&polys, 1e-5);
        assert_eq!(adj.border[0], [1, 2]);
        assert_eq!(adj.corner[0], [3]);
        assert_eq!(adj.border[1], [0, 3, 4]);
        assert_eq!(adj.corner[1], [2]);
        assert!(adj.border[5].is_empty() && adj.corner[5].is_empty());
    }
}
