//! Geodesic area in square metres.

use geo::GeodesicArea;
use geo_types::{LineString, MultiPolygon, Polygon};

/// Geodesic area of a longitude/latitude multipolygon on the WGS84 ellipsoid, in m².
///
/// Holes are subtracted; parts are summed (valid parts do not overlap). Ring
/// orientation does not matter: geo's `geodesic_area_unsigned` assumes
/// counter-clockwise shells and returns "the earth minus the polygon" for a
/// clockwise one, so each ring is measured signed and taken absolute (grids are
/// far smaller than half the earth). For an invalid ring (a bow-tie) this is the
/// area of the ring as given, lobes of opposite winding cancelling.
///
/// ```
/// use geo_types::{polygon, MultiPolygon};
/// // A 0.01° × 0.01° cell at 30°N is about 1.07 km².
/// let cell = polygon![(x: 120.0, y: 30.0), (x: 120.01, y: 30.0), (x: 120.01, y: 30.01), (x: 120.0, y: 30.01)];
/// let a = gridmap_data::geometry::area_m2(&MultiPolygon::new(vec![cell]));
/// assert!((a - 1_069_000.0).abs() < 2_000.0, "{a}");
/// ```
pub fn area_m2(g: &MultiPolygon<f64>) -> f64 {
    g.0.iter().map(polygon_area).sum()
}

fn ring_area(ring: &LineString<f64>) -> f64 {
    if ring.0.len() < 4 {
        return 0.0;
    }
    Polygon::new(ring.clone(), vec![])
        .geodesic_area_signed()
        .abs()
}

fn polygon_area(p: &Polygon<f64>) -> f64 {
    ring_area(p.exterior()) - p.interiors().iter().map(ring_area).sum::<f64>()
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo_types::polygon;

    fn square(x0: f64, y0: f64, d: f64) -> Polygon<f64> {
        polygon![(x: x0, y: y0), (x: x0 + d, y: y0), (x: x0 + d, y: y0 + d), (x: x0, y: y0 + d)]
    }

    #[test]
    fn equator_degree_square_matches_reference() {
        // Reference: WGS84 total surface 510 065 621 724 088.5 m² (GeographicLib) minus
        // geo's documented area of "the earth except this square", 510 053 312 945 726.94.
        let a = area_m2(&MultiPolygon::new(vec![square(0.0, 0.0, 1.0)]));
        assert!((a - 12_308_778_361.469).abs() < 1.0, "{a}");
    }

    #[test]
    fn orientation_does_not_matter_and_holes_subtract() {
        let ccw = square(120.0, 30.0, 0.1);
        let mut cw = ccw.clone();
        cw.exterior_mut(|r| r.0.reverse());
        let a_ccw = area_m2(&MultiPolygon::new(vec![ccw.clone()]));
        let a_cw = area_m2(&MultiPolygon::new(vec![cw]));
        assert!((a_ccw - a_cw).abs() < 1e-3);
        let hole = square(120.02, 30.02, 0.05);
        let with_hole = Polygon::new(ccw.exterior().clone(), vec![hole.exterior().clone()]);
        let a_hole = area_m2(&MultiPolygon::new(vec![hole]));
        let a_with = area_m2(&MultiPolygon::new(vec![with_hole]));
        assert!((a_with - (a_ccw - a_hole)).abs() < 1e-3);
        assert!(a_hole > 0.0 && a_with < a_ccw);
    }

    #[test]
    fn empty_is_zero() {
        assert_eq!(area_m2(&MultiPolygon::new(vec![])), 0.0);
    }
}
