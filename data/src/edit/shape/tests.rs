//! Unit tests on small shapes (`split` has split and dissolve); `zhejiang`
//! runs the edits on real districts.

mod split;
mod zhejiang;

use std::collections::BTreeSet;

use geo::{Area, Validation};
use geo_types::{coord, Coord, LineString, MultiPolygon, Polygon};

use super::*;

fn c(x: f64, y: f64) -> Coord<f64> {
    coord! { x: x, y: y }
}

fn ring(pts: &[(f64, f64)]) -> LineString<f64> {
    let mut v: Vec<Coord<f64>> = pts.iter().map(|&(x, y)| c(x, y)).collect();
    v.push(v[0]);
    LineString::new(v)
}

/// One polygon: the exterior, then holes.
fn poly(rings: &[&[(f64, f64)]]) -> Polygon<f64> {
    Polygon::new(ring(rings[0]), rings[1..].iter().map(|r| ring(r)).collect())
}

fn mp(rings: &[&[(f64, f64)]]) -> MultiPolygon<f64> {
    MultiPolygon::new(vec![poly(rings)])
}

const WEST: &[(f64, f64)] = &[(0., 0.), (1., 0.), (1., 1.), (0., 1.)];
const EAST: &[(f64, f64)] = &[(1., 0.), (2., 0.), (2., 1.), (1., 1.)];
/// An L: the square (0,0)–(2,2) without the quarter (1,1)–(2,2).
const ELL: &[(f64, f64)] = &[(0., 0.), (2., 0.), (2., 1.), (1., 1.), (1., 2.), (0., 2.)];
/// The square (0,0)–(4,4) and a square hole (1,1)–(2,2), clockwise.
const OUTER: &[(f64, f64)] = &[(0., 0.), (4., 0.), (4., 4.), (0., 4.)];
const HOLE: &[(f64, f64)] = &[(1., 1.), (1., 2.), (2., 2.), (2., 1.)];

/// Every vertex, as exact bits.
fn vertices(g: &MultiPolygon<f64>) -> BTreeSet<(u64, u64)> {
    g.0.iter()
        .flat_map(ring::rings)
        .flat_map(|r| r.0.iter())
        .map(|&p| ring::key(p))
        .collect()
}

fn close_rel(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * a.abs().max(b.abs())
}

fn assert_valid(g: &MultiPolygon<f64>) {
    assert!(g.is_valid(), "{:?}: {:?}", g, g.validation_errors());
    crate::geometry::validate_polygonal(g).expect("valid");
    for r in g.0.iter().flat_map(ring::rings) {
        assert_eq!(r.0.first(), r.0.last(), "ring not closed");
    }
}

#[test]
fn move_vertex_moves_every_copy_within_tolerance() {
    // Two squares touching at (1,1): both parts move; (0,0) opens the ring, so its closing copy moves too.
    let g = MultiPolygon::new(vec![
        poly(&[WEST]),
        poly(&[&[(1., 1.), (2., 1.), (2., 2.), (1., 2.)]]),
    ]);
    let to = c(1.25, 0.75);
    let moved = move_vertex(&g, c(1.0 + 5e-10, 1.0), to).expect("matched");
    assert_eq!(moved.0[0].exterior().0[2], to);
    assert_eq!(moved.0[1].exterior().0[0], to);
    assert_eq!(moved.0[1].exterior().0[4], to);
    assert!(move_vertex(&g, c(1.0 + 2e-9, 1.0), to).is_none());
    let moved = move_vertex(&g, c(0., 0.), c(-1., -1.)).expect("matched");
    assert_eq!(moved.0[0].exterior().0[0], c(-1., -1.));
    assert_eq!(moved.0[0].exterior().0[4], c(-1., -1.));
}

#[test]
fn on_boundary_finds_vertices_segments_and_holes() {
    let g = mp(&[OUTER, HOLE]);
    assert_eq!(
        on_boundary(&g, c(4.0, 4.0 - 1e-10)),
        Some(OnBoundary::Vertex(c(4., 4.)))
    );
    assert_eq!(
        on_boundary(&g, c(2.0, 4.0 + 5e-10)),
        Some(OnBoundary::Segment {
            a: c(4., 4.),
            b: c(0., 4.)
        })
    );
    assert_eq!(
        on_boundary(&g, c(1.5, 2.0)),
        Some(OnBoundary::Segment {
            a: c(1., 2.),
            b: c(2., 2.)
        })
    );
    assert_eq!(on_boundary(&g, c(1.5, 1.5)), None);
    assert_eq!(on_boundary(&g, c(2.0, 4.0 + 2e-9)), None);
}

#[test]
fn insert_vertex_goes_into_both_neighbours() {
    let (west, east) = (mp(&[WEST]), mp(&[EAST]));
    let x = c(1.0, 0.3);
    let w = insert_vertex(&west, c(1., 0.), c(1., 1.), x).expect("west has the segment");
    let e = insert_vertex(&east, c(1., 0.), c(1., 1.), x).expect("east has it reversed");
    assert_eq!(w.0[0].exterior().0[1..4], [c(1., 0.), x, c(1., 1.)]);
    assert_eq!(e.0[0].exterior().0[3..6], [c(1., 1.), x, c(1., 0.)]);
    assert_eq!(
        dissolve(&w, &e).expect("still neighbours").unsigned_area(),
        2.0
    );
    assert!(insert_vertex(&west, c(0., 0.), c(1., 1.), x).is_none());
}

#[test]
fn shared_stretch_follows_the_common_border() {
    let west = mp(&[&[(0., 0.), (1., 0.), (1., 0.5), (1., 1.), (0., 1.)]]);
    let east = mp(&[&[(1., 0.), (2., 0.), (2., 1.), (1., 1.), (1., 0.5)]]);
    let (p, q) = (c(1., 0.), c(1., 1.));
    assert_eq!(
        shared_stretch(&west, &east, p, q),
        Ok(vec![p, c(1., 0.5), q])
    );
    assert_eq!(
        shared_stretch(&east, &west, q, p),
        Ok(vec![q, c(1., 0.5), p])
    );
    assert_eq!(
        shared_stretch(&west, &east, p, c(0., 1.)),
        Err(ShapeError::NoSharedStretch)
    );
    assert_eq!(
        shared_stretch(&west, &east, p, c(0.5, 0.5)),
        Err(ShapeError::NotOnOneRing)
    );
}

#[test]
fn replace_shared_stretch_on_both_sides_keeps_the_border_identical() {
    let (west, east) = (mp(&[WEST]), mp(&[EAST]));
    let (p, q) = (c(1., 0.), c(1., 1.));
    let line = [p, c(1.5, 0.25), c(0.75, 0.75), q];
    let w = replace_shared_stretch(&west, &east, p, q, &line).expect("west");
    let e = replace_shared_stretch(&east, &west, p, q, &line).expect("east");
    assert_eq!(
        w.0[0].exterior(),
        &ring(&[
            (1., 0.),
            (1.5, 0.25),
            (0.75, 0.75),
            (1., 1.),
            (0., 1.),
            (0., 0.)
        ])
    );
    assert_eq!(
        e.0[0].exterior(),
        &ring(&[
            (1., 1.),
            (0.75, 0.75),
            (1.5, 0.25),
            (1., 0.),
            (2., 0.),
            (2., 1.)
        ])
    );
    assert_valid(&w);
    assert_valid(&e);
    assert!(close_rel(w.unsigned_area() + e.unsigned_area(), 2.0, 1e-12));
    let both = dissolve(&w, &e).expect("neighbours");
    assert_eq!(both.unsigned_area(), 2.0);
}

#[test]
fn replace_shared_stretch_refuses_bad_input() {
    let (west, east) = (mp(&[WEST]), mp(&[EAST]));
    let (p, q) = (c(1., 0.), c(1., 1.));
    let err = |line: &[Coord<f64>]| replace_shared_stretch(&west, &east, p, q, line).unwrap_err();
    assert_eq!(err(&[p]), ShapeError::LineTooShort);
    assert_eq!(err(&[c(1.1, 0.), q]), ShapeError::StartNotOnBorder);
    assert_eq!(err(&[p, c(1., 1.1)]), ShapeError::EndNotOnBorder);
    let r = replace_shared_stretch(&west, &east, p, c(1., 0.5), &[p, c(1., 0.5)]);
    assert_eq!(r, Err(ShapeError::NotOnOneRing));
    let r = replace_shared_stretch(&west, &east, c(0., 0.), q, &[c(0., 0.), q]);
    assert_eq!(r, Err(ShapeError::NoSharedStretch));
    // Within tolerance the line's ends snap to the stored p and q.
    let w = replace_shared_stretch(&west, &east, p, q, &[c(1. + 1e-10, 0.), c(1.5, 0.5), q])
        .expect("ok");
    assert_eq!(w.0[0].exterior().0[..2], [p, c(1.5, 0.5)]);
}

#[test]
fn shared_stretch_round_an_enclave_takes_the_shorter_way() {
    let around = mp(&[OUTER, HOLE]);
    let enclave = mp(&[&[(1., 1.), (2., 1.), (2., 2.), (1., 2.)]]);
    let (p, q) = (c(1., 1.), c(1., 2.));
    assert_eq!(shared_stretch(&around, &enclave, p, q), Ok(vec![p, q]));
    assert_eq!(shared_stretch(&enclave, &around, p, q), Ok(vec![p, q]));
    let line = [p, c(0.5, 1.5), q];
    let a = replace_shared_stretch(&around, &enclave, p, q, &line).expect("around");
    let e = replace_shared_stretch(&enclave, &around, p, q, &line).expect("enclave");
    assert_valid(&a);
    assert_valid(&e);
    assert!(close_rel(
        a.unsigned_area() + e.unsigned_area(),
        16.0,
        1e-12
    ));
    assert_eq!(
        dissolve(&a, &e).expect("neighbours"),
        mp(&[&[(0., 0.), (4., 0.), (4., 4.), (0., 4.)]])
    );
}

#[test]
fn replace_stretch_finds_the_sequence_either_way() {
    let parent = mp(&[&[(0., 0.), (1., 0.), (2., 0.), (2., 1.), (1., 1.), (0., 1.)]]);
    let line = [c(0., 0.), c(0.5, -0.5), c(1.5, -0.5), c(2., 0.)];
    let old = [c(0., 0.), c(1., 0.), c(2., 0.)];
    let fwd = replace_stretch(&parent, &old, &line).expect("forwards");
    let expected = ring(&[
        (0., 0.),
        (0.5, -0.5),
        (1.5, -0.5),
        (2., 0.),
        (2., 1.),
        (1., 1.),
        (0., 1.),
    ]);
    assert_eq!(fwd.0[0].exterior(), &expected);
    let rev_old: Vec<_> = old.iter().rev().copied().collect();
    let rev_line: Vec<_> = line.iter().rev().copied().collect();
    let back = replace_stretch(&parent, &rev_old, &rev_line).expect("backwards");
    assert_eq!(back.0[0].exterior(), &expected);
    // Wrapping past the ring's first vertex.
    let wrap = replace_stretch(
        &parent,
        &[c(0., 1.), c(0., 0.), c(1., 0.)],
        &[c(0., 1.), c(1., 0.)],
    )
    .expect("wrap");
    assert_eq!(
        wrap.0[0].exterior(),
        &ring(&[(0., 1.), (1., 0.), (2., 0.), (2., 1.), (1., 1.)])
    );
    assert!(replace_stretch(&parent, &[c(0., 0.), c(2., 0.)], &line).is_none());
    assert!(replace_stretch(&parent, &[c(0., 0.)], &line).is_none());
}
