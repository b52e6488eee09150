//! Tests of [`super::validate_polygonal`], cross-checked with geo's `Validation`.

use super::*;
use crate::geometry::testutil::{ring, zhejiang_polygons};
use geo::Validation;
use geo_types::polygon;

fn square(x0: f64, y0: f64, d: f64) -> LineString<f64> {
    ring(&[
        (x0, y0),
        (x0 + d, y0),
        (x0 + d, y0 + d),
        (x0, y0 + d),
        (x0, y0),
    ])
}

fn mp(polys: Vec<Polygon<f64>>) -> MultiPolygon<f64> {
    MultiPolygon::new(polys)
}

/// Our verdict and geo's `Validation` must agree on validity.
fn check(g: &MultiPolygon<f64>) -> Result<(), GeometryProblem> {
    let ours = validate_polygonal(g);
    let in_range =
        g.0.iter()
            .flat_map(rings)
            .flat_map(|r| r.0.iter())
            .all(|c| (-180.0..=180.0).contains(&c.x) && (-90.0..=90.0).contains(&c.y));
    if in_range && !g.0.is_empty() {
        assert_eq!(
            ours.is_ok(),
            g.is_valid(),
            "{ours:?} vs {:?}",
            g.validation_errors()
        );
    }
    ours
}

#[test]
fn valid_polygon_with_hole_and_second_part() {
    let a = Polygon::new(square(120.0, 30.0, 0.1), vec![square(120.02, 30.02, 0.02)]);
    let b = Polygon::new(square(120.2, 30.0, 0.1), vec![]);
    // A part touching another at a single corner is allowed.
    let c = Polygon::new(square(120.1, 30.1, 0.05), vec![]);
    assert_eq!(check(&mp(vec![a, b, c])), Ok(()));
}

#[test]
fn empty() {
    assert_eq!(validate_polygonal(&mp(vec![])), Err(GeometryProblem::Empty));
    let e = Polygon::new(LineString::new(vec![]), vec![]);
    assert_eq!(
        validate_polygonal(&mp(vec![e])),
        Err(GeometryProblem::Empty)
    );
    assert_eq!(GeometryProblem::Empty.to_string(), "geometry is empty");
}

#[test]
fn non_finite() {
    let mut r = square(120.0, 30.0, 0.1);
    r.0[2].y = f64::NAN;
    let p = check(&mp(vec![Polygon::new(r, vec![])])).unwrap_err();
    assert_eq!(
        p,
        GeometryProblem::NonFinite {
            polygon: 0,
            ring: 0,
            vertex: 2
        }
    );
    assert!(p.to_string().contains("non-finite"), "{p}");
}

#[test]
fn out_of_range_names_the_coordinate() {
    let p = validate_polygonal(&mp(vec![Polygon::new(
        square(500000.0, 3300000.0, 10.0),
        vec![],
    )]))
    .unwrap_err();
    assert_eq!(
        p,
        GeometryProblem::OutOfRange {
            lon: 500000.0,
            lat: 3300000.0
        }
    );
    assert!(p.to_string().contains("(500000, 3300000)"), "{p}");
}

#[test]
fn unclosed_ring_message() {
    // geo_types closes rings on construction; the readers report this on raw input.
    let problem = GeometryProblem::UnclosedRing {
        polygon: 0,
        ring: 2,
    };
    assert_eq!(
        problem.to_string(),
        "ring 2 (hole) of polygon 0 is not closed (its last position differs from its first)"
    );
}

#[test]
fn too_few_points() {
    let thin = Polygon::new(
        ring(&[(0.0, 0.0), (1.0, 0.0), (1.0, 0.0), (0.0, 0.0)]),
        vec![],
    );
    let p = check(&mp(vec![thin])).unwrap_err();
    assert_eq!(
        p,
        GeometryProblem::TooFewPoints {
            polygon: 0,
            ring: 0,
            distinct: 2
        }
    );
    assert_eq!(
        p.to_string(),
        "ring 0 (exterior) of polygon 0 has only 2 distinct points (a ring needs at least 3)"
    );
}

#[test]
fn self_intersection_message_has_the_location() {
    let ok = Polygon::new(square(119.0, 29.0, 0.5), vec![]);
    let bow = polygon![(x: 120.0, y: 30.0), (x: 120.2, y: 30.4), (x: 120.2, y: 30.0), (x: 120.0, y: 30.4)];
    let p = check(&mp(vec![ok, bow])).unwrap_err();
    assert_eq!(
        p,
        GeometryProblem::SelfIntersection {
            polygon: 1,
            ring: 0,
            at: (120.1, 30.2)
        }
    );
    assert_eq!(
        p.to_string(),
        "ring 0 (exterior) of polygon 1 intersects itself at (120.1, 30.2)"
    );
}

#[test]
fn hole_self_intersection_names_the_hole() {
    let bow = ring(&[(0.2, 0.2), (0.6, 0.6), (0.6, 0.2), (0.2, 0.6), (0.2, 0.2)]);
    let p = check(&mp(vec![Polygon::new(square(0.0, 0.0, 1.0), vec![bow])])).unwrap_err();
    match p {
        GeometryProblem::SelfIntersection {
            polygon: 0,
            ring: 1,
            at,
        } => {
            assert!(
                (at.0 - 0.4).abs() < 1e-12 && (at.1 - 0.4).abs() < 1e-12,
                "{at:?}"
            );
        }
        ref other => panic!("{other:?}"),
    }
    // Float noise (0.39999999999999997) is rounded away in the message.
    assert_eq!(
        p.to_string(),
        "ring 1 (hole) of polygon 0 intersects itself at (0.4, 0.4)"
    );
}

#[test]
fn hole_outside_shell() {
    let p = Polygon::new(square(0.0, 0.0, 1.0), vec![square(2.0, 2.0, 0.5)]);
    let problem = check(&mp(vec![p])).unwrap_err();
    assert_eq!(
        problem,
        GeometryProblem::HoleOutsideShell {
            polygon: 0,
            ring: 1
        }
    );
    assert_eq!(
        problem.to_string(),
        "ring 1 (hole) of polygon 0 lies outside the exterior ring"
    );
    // A hole enclosing the whole shell is outside it too.
    let p = Polygon::new(square(1.0, 1.0, 1.0), vec![square(0.0, 0.0, 5.0)]);
    assert_eq!(
        check(&mp(vec![p])),
        Err(GeometryProblem::HoleOutsideShell {
            polygon: 0,
            ring: 1
        })
    );
}

#[test]
fn hole_crossing_shell() {
    let p = Polygon::new(square(0.0, 0.0, 1.0), vec![square(0.5, 0.25, 1.0)]);
    let problem = check(&mp(vec![p])).unwrap_err();
    match problem {
        GeometryProblem::RingsCross {
            polygon: 0,
            ring_a: 0,
            ring_b: 1,
            at,
        } => {
            assert!(
                at == (1.0, 0.25) || at == (1.0, 1.0) || at == (0.5, 1.0),
                "{at:?}"
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn hole_sharing_shell_edge() {
    let p = Polygon::new(square(0.0, 0.0, 1.0), vec![square(0.0, 0.25, 0.5)]);
    assert_eq!(
        check(&mp(vec![p])),
        Err(GeometryProblem::RingsShareEdge {
            polygon: 0,
            ring_a: 0,
            ring_b: 1
        })
    );
}

#[test]
fn nested_holes_overlap() {
    let p = Polygon::new(
        square(0.0, 0.0, 1.0),
        vec![square(0.1, 0.1, 0.6), square(0.2, 0.2, 0.2)],
    );
    let problem = check(&mp(vec![p])).unwrap_err();
    assert_eq!(
        problem,
        GeometryProblem::HolesOverlap {
            polygon: 0,
            ring_a: 1,
            ring_b: 2
        }
    );
    assert_eq!(
        problem.to_string(),
        "ring 1 (hole) and ring 2 (hole) of polygon 0 overlap"
    );
}

#[test]
fn crossing_holes() {
    let p = Polygon::new(
        square(0.0, 0.0, 1.0),
        vec![square(0.1, 0.1, 0.4), square(0.3, 0.3, 0.4)],
    );
    assert!(matches!(
        check(&mp(vec![p])),
        Err(GeometryProblem::RingsCross {
            polygon: 0,
            ring_a: 1,
            ring_b: 2,
            ..
        })
    ));
}

#[test]
fn overlapping_and_edge_sharing_parts() {
    let a = Polygon::new(square(0.0, 0.0, 1.0), vec![]);
    let b = Polygon::new(square(0.5, 0.5, 1.0), vec![]);
    let problem = check(&mp(vec![a.clone(), b])).unwrap_err();
    assert_eq!(problem, GeometryProblem::PolygonsOverlap { a: 0, b: 1 });
    assert_eq!(problem.to_string(), "polygons 0 and 1 overlap");
    let c = Polygon::new(square(1.0, 0.0, 1.0), vec![]);
    assert_eq!(
        check(&mp(vec![a, c])),
        Err(GeometryProblem::PolygonsShareEdge { a: 0, b: 1 })
    );
}

#[test]
fn zhejiang_districts_validate_quickly() {
    // Real boundaries with thousands of vertices per ring: the indexed checks
    // must finish in well under a minute even unoptimised.
    let districts = zhejiang_polygons();
    let start = std::time::Instant::now();
    let mut checked = 0;
    for m in &districts {
        validate_polygonal(m).unwrap();
        checked += 1;
    }
    assert_eq!(checked, 102);
    assert!(start.elapsed().as_secs() < 60, "{:?}", start.elapsed());
}
