//! Repair of invalid polygons with geo's boolean operations (i_overlay).

use geo::algorithm::bool_ops::{BooleanOps, FillRule};
use geo_types::{LineString, MultiPolygon, Polygon};

/// Rebuilds an invalid multipolygon as a valid one covering the area the rings enclose.
///
/// Each ring is filled with the non-zero winding rule, so a bow-tie becomes its
/// two triangles and a ring that loops over itself keeps the doubly-covered part
/// (even-odd would punch it out). A polygon is its filled shell minus the union
/// of its filled holes; the parts are then unioned, which merges overlapping or
/// edge-sharing parts. Zero-area slivers and spikes disappear. The result may be
/// empty when the input encloses no area.
///
/// Valid input is returned unchanged in shape but the overlay may re-order
/// vertices, so call this only for geometries that fail
/// [`validate_polygonal`](super::validate_polygonal).
///
/// ```
/// use geo_types::{polygon, MultiPolygon};
/// use gridmap_data::geometry::{make_valid, validate_polygonal};
/// let bow_tie = polygon![(x: 0.0, y: 0.0), (x: 2.0, y: 2.0), (x: 2.0, y: 0.0), (x: 0.0, y: 2.0)];
/// let fixed = make_valid(&MultiPolygon::new(vec![bow_tie]));
/// assert_eq!(fixed.0.len(), 2);
/// assert!(validate_polygonal(&fixed).is_ok());
/// ```
pub fn make_valid(g: &MultiPolygon<f64>) -> MultiPolygon<f64> {
    let mut result = MultiPolygon::new(vec![]);
    for polygon in &g.0 {
        let shell = fill(polygon.exterior());
        let mut holes = MultiPolygon::new(vec![]);
        for ring in polygon.interiors() {
            holes = holes.union(&fill(ring));
        }
        let part = if holes.0.is_empty() {
            shell
        } else {
            shell.difference(&holes)
        };
        result = result.union(&part);
    }
    result
}

/// The area a single ring encloses, by the non-zero rule, as a valid multipolygon.
fn fill(ring: &LineString<f64>) -> MultiPolygon<f64> {
    if ring.0.len() < 4 {
        return MultiPolygon::new(vec![]);
    }
    Polygon::new(ring.clone(), vec![])
        .union_with_fill_rule(&MultiPolygon::new(vec![]), FillRule::NonZero)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geometry::{area_m2, validate_polygonal};
    use geo::{Area, Validation};
    use geo_types::{polygon, LineString};

    fn ring(pts: &[(f64, f64)]) -> LineString<f64> {
        pts.iter().map(|&(x, y)| (x, y)).collect::<Vec<_>>().into()
    }

    #[test]
    fn bow_tie_becomes_two_triangles() {
        let bow = polygon![(x: 0.0, y: 0.0), (x: 2.0, y: 2.0), (x: 2.0, y: 0.0), (x: 0.0, y: 2.0)];
        let fixed = make_valid(&MultiPolygon::new(vec![bow]));
        assert!(validate_polygonal(&fixed).is_ok());
        assert!(fixed.is_valid());
        assert_eq!(fixed.0.len(), 2);
        // Two triangles of base 2 and height 1.
        assert!((fixed.unsigned_area() - 2.0).abs() < 1e-9);
    }

    #[test]
    fn ring_looping_twice_keeps_the_double_cover() {
        // Goes round the square (0,0)-(2,2), then once more round (0,0)-(1,1) inside it.
        let r = ring(&[
            (0.0, 0.0),
            (2.0, 0.0),
            (2.0, 2.0),
            (0.0, 2.0),
            (0.0, 0.0),
            (1.0, 0.0),
            (1.0, 1.0),
            (0.0, 1.0),
            (0.0, 0.0),
        ]);
        let fixed = make_valid(&MultiPolygon::new(vec![Polygon::new(r, vec![])]));
        assert!(validate_polygonal(&fixed).is_ok());
        assert!((fixed.unsigned_area() - 4.0).abs() < 1e-9, "{fixed:?}");
    }

    #[test]
    fn overlapping_parts_are_merged_and_holes_kept() {
        let a = Polygon::new(
            ring(&[(0.0, 0.0), (4.0, 0.0), (4.0, 4.0), (0.0, 4.0), (0.0, 0.0)]),
            vec![ring(&[
                (1.0, 1.0),
                (2.0, 1.0),
                (2.0, 2.0),
                (1.0, 2.0),
                (1.0, 1.0),
            ])],
        );
        let b = polygon![(x: 3.0, y: 0.0), (x: 6.0, y: 0.0), (x: 6.0, y: 4.0), (x: 3.0, y: 4.0)];
        let input = MultiPolygon::new(vec![a, b]);
        assert!(validate_polygonal(&input).is_err());
        let fixed = make_valid(&input);
        assert!(validate_polygonal(&fixed).is_ok());
        assert_eq!(fixed.0.len(), 1);
        assert_eq!(fixed.0[0].interiors().len(), 1);
        assert!((fixed.unsigned_area() - (24.0 - 1.0)).abs() < 1e-9);
    }

    #[test]
    fn hole_sticking_out_is_cut_from_the_shell() {
        let p = Polygon::new(
            ring(&[
                (120.0, 30.0),
                (120.1, 30.0),
                (120.1, 30.1),
                (120.0, 30.1),
                (120.0, 30.0),
            ]),
            vec![ring(&[
                (120.05, 30.02),
                (120.2, 30.02),
                (120.2, 30.04),
                (120.05, 30.04),
                (120.05, 30.02),
            ])],
        );
        let input = MultiPolygon::new(vec![p]);
        assert!(validate_polygonal(&input).is_err());
        let fixed = make_valid(&input);
        assert!(validate_polygonal(&fixed).is_ok());
        let expected = area_m2(&MultiPolygon::new(vec![polygon![
            (x: 120.0, y: 30.0), (x: 120.1, y: 30.0), (x: 120.1, y: 30.02), (x: 120.05, y: 30.02),
            (x: 120.05, y: 30.04), (x: 120.1, y: 30.04), (x: 120.1, y: 30.1), (x: 120.0, y: 30.1)
        ]]));
        assert!((area_m2(&fixed) - expected).abs() < 1.0);
    }

    #[test]
    fn degenerate_ring_repairs_to_empty() {
        let flat = polygon![(x: 0.0, y: 0.0), (x: 1.0, y: 0.0), (x: 2.0, y: 0.0)];
        assert!(make_valid(&MultiPolygon::new(vec![flat])).0.is_empty());
    }
}
