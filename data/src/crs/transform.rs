//! Applying a [`Crs`] to whole geometries.

use super::{Crs, CrsError};

/// Transforms every coordinate of a geometry to WGS84 lon/lat in place,
/// stopping at the first coordinate that fails (see [`Crs::to_wgs84`] for
/// the checks). `Rect` and `Triangle` become `Polygon`s (a projected
/// rectangle is not axis-aligned in lon/lat). On error the geometry is
/// partly transformed and should be discarded.
pub fn transform_geometry(crs: Crs, g: &mut geo_types::Geometry<f64>) -> Result<(), CrsError> {
    try_for_each_coord_mut(g, &mut |c| {
        let (x, y) = crs.to_wgs84(c.x, c.y)?;
        c.x = x;
        c.y = y;
        Ok(())
    })
}

/// Transforms every WGS84 lon/lat coordinate of a geometry into `crs` in
/// place (the way out, for exports), stopping at the first coordinate that
/// fails; see [`Crs::from_wgs84`].
pub fn transform_geometry_from_wgs84(
    crs: Crs,
    g: &mut geo_types::Geometry<f64>,
) -> Result<(), CrsError> {
    try_for_each_coord_mut(g, &mut |c| {
        let (x, y) = crs.from_wgs84(c.x, c.y)?;
        c.x = x;
        c.y = y;
        Ok(())
    })
}

/// Visits every coordinate mutably. Hand-written because geo's
/// `try_map_coords_in_place` hits the recursion limit on
/// `GeometryCollection` when the closure captures state.
fn try_for_each_coord_mut(
    g: &mut geo_types::Geometry<f64>,
    f: &mut dyn FnMut(&mut geo_types::Coord<f64>) -> Result<(), CrsError>,
) -> Result<(), CrsError> {
    use geo_types::Geometry as G;
    let line =
        |l: &mut geo_types::LineString<f64>,
         f: &mut dyn FnMut(&mut geo_types::Coord<f64>) -> Result<(), CrsError>| {
            l.0.iter_mut().try_for_each(&mut *f)
        };
    let poly =
        |p: &mut geo_types::Polygon<f64>,
         f: &mut dyn FnMut(&mut geo_types::Coord<f64>) -> Result<(), CrsError>| {
            let mut outer = Ok(());
            p.exterior_mut(|e| outer = line(e, f));
            outer?;
            let mut inner = Ok(());
            p.interiors_mut(|holes| inner = holes.iter_mut().try_for_each(|h| line(h, f)));
            inner
        };
    match g {
        G::Point(p) => f(&mut p.0),
        G::Line(l) => {
            f(&mut l.start)?;
            f(&mut l.end)
        }
        G::LineString(l) => line(l, f),
        G::Polygon(p) => poly(p, f),
        G::MultiPoint(mp) => mp.0.iter_mut().try_for_each(|p| f(&mut p.0)),
        G::MultiLineString(ml) => ml.0.iter_mut().try_for_each(|l| line(l, f)),
        G::MultiPolygon(mp) => mp.0.iter_mut().try_for_each(|p| poly(p, f)),
        G::GeometryCollection(gc) => {
            gc.0.iter_mut()
                .try_for_each(|g| try_for_each_coord_mut(g, f))
        }
        G::Rect(r) => {
            // A transformed rectangle is not axis-aligned in general, so
            // convert it to a polygon first.
            let mut p = G::Polygon(r.to_polygon());
            try_for_each_coord_mut(&mut p, f)?;
            *g = p;
            Ok(())
        }
        G::Triangle(t) => {
            let mut p = G::Polygon(t.to_polygon());
            try_for_each_coord_mut(&mut p, f)?;
            *g = p;
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crs::wgs84_to_gcj02;
    use geo_types::{coord, polygon, Geometry, LineString, MultiPolygon};

    #[test]
    fn transform_geometry_gk_polygon_with_hole() {
        let crs = Crs::GaussKruger(4549);
        let p = |lon: f64, lat: f64| {
            let (x, y) = crs.from_wgs84(lon, lat).unwrap();
            coord! { x: x, y: y }
        };
        let outer = LineString::from(vec![
            p(120.0, 30.0),
            p(120.01, 30.0),
            p(120.01, 30.01),
            p(120.0, 30.0),
        ]);
        let hole = LineString::from(vec![
            p(120.004, 30.002),
            p(120.006, 30.002),
            p(120.006, 30.004),
            p(120.004, 30.002),
        ]);
        let mut g = Geometry::MultiPolygon(MultiPolygon(vec![geo_types::Polygon::new(
            outer,
            vec![hole],
        )]));
        transform_geometry(crs, &mut g).unwrap();
        let Geometry::MultiPolygon(mp) = g else {
            panic!("kind changed")
        };
        let c = mp.0[0].interiors()[0].0[1];
        assert!(
            (c.x - 120.006).abs() < 1e-9 && (c.y - 30.002).abs() < 1e-9,
            "{c:?}"
        );
        let c = mp.0[0].exterior().0[2];
        assert!(
            (c.x - 120.01).abs() < 1e-9 && (c.y - 30.01).abs() < 1e-9,
            "{c:?}"
        );
    }

    #[test]
    fn transform_geometry_gcj02() {
        let (gx, gy) = wgs84_to_gcj02(120.15, 30.28);
        let mut g = Geometry::Point(geo_types::Point::new(gx, gy));
        transform_geometry(Crs::Gcj02, &mut g).unwrap();
        let Geometry::Point(pt) = g else {
            panic!("kind changed")
        };
        assert!((pt.x() - 120.15).abs() < 1e-9 && (pt.y() - 30.28).abs() < 1e-9);
    }

    #[test]
    fn transform_geometry_not_lon_lat_suggests_zone() {
        let mut g: Geometry<f64> = polygon![
            (x: 40_512_345.0, y: 3_345_678.0),
            (x: 40_513_345.0, y: 3_345_678.0),
            (x: 40_513_345.0, y: 3_346_678.0),
        ]
        .into();
        let e = transform_geometry(Crs::Wgs84, &mut g).unwrap_err();
        match &e {
            CrsError::NotLonLat {
                suggestion, crs, ..
            } => {
                assert_eq!(*suggestion, Some(Crs::GaussKruger(4528)));
                assert_eq!(*crs, Crs::Wgs84);
            }
            other => panic!("unexpected {other:?}"),
        }
        assert_eq!(
            e.to_string(),
            "coordinate (40512345.0, 3345678.0) cannot be longitude/latitude under EPSG:4326; \
             an 8-digit easting starting 40 suggests EPSG:4528 (CGCS2000 3-degree Gauss-Krüger \
             zone 40); pass --crs EPSG:4528"
        );
        // Six-digit eastings: no zone to suggest, but still a useful hint.
        let mut g = Geometry::Point(geo_types::Point::new(512_345.0, 3_345_678.0));
        let e = transform_geometry(Crs::Cgcs2000, &mut g)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("EPSG:4490") && e.contains("projected metres"),
            "{e}"
        );
        // Swapped lat/lon.
        let mut g = Geometry::Point(geo_types::Point::new(30.28, 120.15));
        let e = transform_geometry(Crs::Gcj02, &mut g)
            .unwrap_err()
            .to_string();
        assert!(e.contains("swapped"), "{e}");
    }

    #[test]
    fn transform_geometry_axis_order_error() {
        let mut g = Geometry::Point(geo_types::Point::new(3_351_162.27, 40_514_432.15));
        let e = transform_geometry(Crs::GaussKruger(4528), &mut g).unwrap_err();
        assert!(matches!(e, CrsError::AxisOrder { .. }), "{e:?}");
        let msg = e.to_string();
        assert!(
            msg.contains("EPSG:4528")
                && msg.contains("northing-first")
                && msg.contains("easting-first"),
            "{msg}"
        );
    }

    #[test]
    fn transform_geometry_collection_and_rect() {
        let crs = Crs::WebMercator;
        let (x0, y0) = crs.from_wgs84(120.0, 30.0).unwrap();
        let (x1, y1) = crs.from_wgs84(121.0, 31.0).unwrap();
        let mut g = Geometry::GeometryCollection(geo_types::GeometryCollection(vec![
            Geometry::Point(geo_types::Point::new(x0, y0)),
            Geometry::LineString(LineString::from(vec![(x0, y0), (x1, y1)])),
            Geometry::Rect(geo_types::Rect::new(
                coord! { x: x0, y: y0 },
                coord! { x: x1, y: y1 },
            )),
        ]));
        transform_geometry(crs, &mut g).unwrap();
        let Geometry::GeometryCollection(gc) = g else {
            panic!("kind changed")
        };
        let Geometry::LineString(l) = &gc.0[1] else {
            panic!("kind changed")
        };
        assert!((l.0[1].x - 121.0).abs() < 1e-9 && (l.0[1].y - 31.0).abs() < 1e-9);
        let Geometry::Polygon(p) = &gc.0[2] else {
            panic!("rect must become a polygon: {:?}", gc.0[2])
        };
        assert!(p
            .exterior()
            .0
            .iter()
            .any(|c| (c.x - 121.0).abs() < 1e-9 && (c.y - 30.0).abs() < 1e-9));
    }
}
