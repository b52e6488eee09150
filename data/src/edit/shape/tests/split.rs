//! Splitting and dissolving small shapes.

use super::*;

/// Checks a split: areas add up, pieces valid, the cut shared vertex for vertex.
fn check_split(g: &MultiPolygon<f64>, s: &Split) {
    assert!(close_rel(
        s.left.unsigned_area() + s.right.unsigned_area(),
        g.unsigned_area(),
        1e-12
    ));
    assert_valid(&s.left);
    assert_valid(&s.right);
    let shared: Vec<_> = vertices(&s.left)
        .intersection(&vertices(&s.right))
        .copied()
        .collect();
    assert!(shared.len() >= 2, "the pieces share the cut");
    // Original vertices are all kept, plus the crossing points.
    let mut expected = vertices(g);
    expected.extend(s.inserted.iter().map(|&(_, _, x)| ring::key(x)));
    let mut got = vertices(&s.left);
    got.extend(vertices(&s.right));
    assert!(expected.is_subset(&got));
}

#[test]
fn split_square_left_and_right_of_the_line() {
    let g = mp(&[&[(0., 0.), (2., 0.), (2., 2.), (0., 2.)]]);
    let s = split(&g, &[c(1., -1.), c(1., 0.5), c(1.5, 1.5), c(1., 2.5)]).expect("split");
    check_split(&g, &s);
    assert_eq!(
        s.inserted,
        vec![
            (c(0., 0.), c(2., 0.), c(1., 0.)),
            (c(2., 2.), c(0., 2.), c(1.25, 2.))
        ]
    );
    let west = ring(&[
        (1.25, 2.),
        (0., 2.),
        (0., 0.),
        (1., 0.),
        (1., 0.5),
        (1.5, 1.5),
    ]);
    assert_eq!(s.left, MultiPolygon::new(vec![Polygon::new(west, vec![])]));
    // Same square clockwise: the sides still follow the line.
    let cw = mp(&[&[(0., 0.), (0., 2.), (2., 2.), (2., 0.)]]);
    let s2 = split(&cw, &[c(1., -1.), c(1., 3.)]).expect("split");
    check_split(&cw, &s2);
    assert!(s2.left.0[0].exterior().0.contains(&c(0., 2.)));
    assert!(s2.right.0[0].exterior().0.contains(&c(2., 2.)));
    // Eastwards, across the ring's closing segment (0,2) → (0,0): left is north.
    let s3 = split(&g, &[c(-1., 1.), c(3., 1.)]).expect("split");
    check_split(&g, &s3);
    assert_eq!(
        s3.inserted,
        vec![
            (c(2., 0.), c(2., 2.), c(2., 1.)),
            (c(0., 2.), c(0., 0.), c(0., 1.))
        ]
    );
    assert!(s3.left.0[0].exterior().0.contains(&c(0., 2.)));
    assert!(s3.right.0[0].exterior().0.contains(&c(0., 0.)));
}

#[test]
fn split_l_shape_needs_exactly_two_crossings() {
    let g = mp(&[ELL]);
    let s = split(&g, &[c(0.5, -1.), c(0.5, 3.)]).expect("through the tall arm");
    check_split(&g, &s);
    assert_eq!(s.left.unsigned_area(), 1.0);
    assert_eq!(s.right.unsigned_area(), 2.0);
    let four = split(&g, &[c(-1., 1.5), c(1.5, 1.5), c(1.5, -1.)]);
    assert_eq!(four.unwrap_err(), ShapeError::CrossingCount(4));
    // Between two boundary vertices across the notch: outside the L.
    assert_eq!(
        split(&g, &[c(2., 1.), c(1., 2.)]),
        Err(ShapeError::CutOutside)
    );
    let msg = ShapeError::CrossingCount(4).to_string();
    assert_eq!(
        msg,
        "the line crosses the grid's boundary 4 times; a split line must enter and leave it once"
    );
}

#[test]
fn split_puts_holes_and_other_parts_on_their_side() {
    let island = poly(&[&[(5., 5.), (6., 5.), (6., 6.), (5., 6.)]]);
    let g = MultiPolygon::new(vec![poly(&[OUTER, HOLE]), island.clone()]);
    let s = split(&g, &[c(3., -1.), c(3., 5.)]).expect("split");
    check_split(&g, &s);
    assert_eq!(s.left.0.len(), 1);
    assert_eq!(s.left.0[0].interiors(), &[ring(HOLE)]);
    assert_eq!(s.right.0, vec![s.right.0[0].clone(), island.clone()]);
    assert_eq!(s.right.unsigned_area(), 5.0);
    assert_eq!(
        split(&g, &[c(1.5, -1.), c(1.5, 5.)]),
        Err(ShapeError::CrossesHole)
    );
    assert_eq!(
        split(&g, &[c(3., -1.), c(3., 2.), c(5.5, 5.5)]),
        Err(ShapeError::CrossesSeveralParts)
    );
    // Each other part goes by the line's segment nearest its first vertex:
    // `north` is right of the first segment but left of the nearer second one.
    let west = poly(&[&[(-3., 1.), (-2., 1.), (-2., 2.), (-3., 2.)]]);
    let north = poly(&[&[(5., 8.), (5.5, 8.), (5.5, 8.5), (5., 8.5)]]);
    let mut g4 = g.clone();
    g4.0.extend([west.clone(), north.clone()]);
    let s = split(&g4, &[c(3., -1.), c(3., 5.), c(7., 9.)]).expect("split");
    check_split(&g4, &s);
    assert_eq!(s.left.0[1..], [west, north]);
    assert_eq!(s.right.0[1..], [island]);
    // A line ending on the hole's border touches it.
    assert_eq!(
        split(&g, &[c(3., -1.), c(2., 1.5)]),
        Err(ShapeError::CrossesHole)
    );
}

#[test]
fn split_line_ending_on_the_boundary() {
    let g = mp(&[&[(0., 0.), (2., 0.), (2., 2.), (0., 2.)]]);
    // From the vertex (0,0) to a point on the top edge: only the latter is new.
    let s = split(&g, &[c(0., 0.), c(1., 1.), c(1.5, 2.0)]).expect("split");
    check_split(&g, &s);
    assert_eq!(s.inserted, vec![(c(2., 2.), c(0., 2.), c(1.5, 2.0))]);
    assert_eq!(
        s.right.0[0].exterior(),
        &ring(&[(0., 0.), (2., 0.), (2., 2.), (1.5, 2.), (1., 1.)])
    );
    // An end within tolerance of a segment is put on it as given.
    let s = split(&g, &[c(0., 0.), c(1., 1.), c(1.5, 2.0 + 1e-10)]).expect("split");
    assert_eq!(
        s.inserted,
        vec![(c(2., 2.), c(0., 2.), c(1.5, 2.0 + 1e-10))]
    );
    assert_valid(&s.left);
    assert_valid(&s.right);
    // Vertex to vertex along the diagonal.
    let s = split(&g, &[c(2., 0.), c(0., 2.)]).expect("diagonal");
    check_split(&g, &s);
    assert!(s.inserted.is_empty());
    assert_eq!(s.left.unsigned_area(), 2.0);
}

#[test]
fn split_two_crossings_on_one_segment_insert_in_order() {
    let g = mp(&[&[(0., 0.), (2., 0.), (2., 2.), (0., 2.)]]);
    let below = mp(&[&[(0., -1.), (2., -1.), (2., 0.), (0., 0.)]]);
    let s = split(&g, &[c(1.6, -0.5), c(1., 1.), c(0.4, -0.5)]).expect("split");
    check_split(&g, &s);
    let (x1, x2) = (s.inserted[0].2, s.inserted[1].2);
    assert_eq!(
        s.inserted,
        vec![(c(0., 0.), c(2., 0.), x1), (x1, c(2., 0.), x2)]
    );
    assert!(x1.x < x2.x);
    let mut n = below;
    for &(a, b, x) in &s.inserted {
        n = insert_vertex(&n, a, b, x).expect("neighbour has the segment");
    }
    assert_eq!(n.0[0].exterior().0[2..6], [c(2., 0.), x2, x1, c(0., 0.)]);
    // Everything still fits together exactly.
    let whole =
        dissolve(&dissolve(&s.left, &s.right).expect("halves"), &n).expect("with the neighbour");
    assert_eq!(whole.unsigned_area(), 6.0);
}

#[test]
fn split_refuses_lines_that_do_not_cut_cleanly() {
    let g = mp(&[ELL]);
    assert_eq!(split(&g, &[c(0.5, 0.5)]), Err(ShapeError::LineTooShort));
    let nan = [c(0.5, -1.), c(f64::NAN, 3.)];
    assert_eq!(split(&g, &nan), Err(ShapeError::NotFinite));
    assert_eq!(
        split(&g, &[c(0.5, 0.5), c(0.5, 0.5)]),
        Err(ShapeError::LineTooShort)
    );
    assert_eq!(
        split(&g, &[c(3., 0.), c(3., 3.)]),
        Err(ShapeError::NotCrossing)
    );
    assert_eq!(
        split(&g, &[c(0.2, 0.2), c(0.8, 0.8)]),
        Err(ShapeError::NotCrossing)
    );
    assert_eq!(
        split(&g, &[c(0.5, 0.5), c(0.5, 3.)]),
        Err(ShapeError::StartsInside)
    );
    assert_eq!(
        split(&g, &[c(0.5, -1.), c(0.5, 1.5)]),
        Err(ShapeError::EndsInside)
    );
    // Through the vertex (1,1) and along the edge y = 0.
    assert_eq!(
        split(&g, &[c(0.5, 2.5), c(1.5, -0.5)]),
        Err(ShapeError::TouchesBoundary { x: 1., y: 1. })
    );
    assert_eq!(
        split(&g, &[c(-1., 0.), c(3., 0.)]),
        Err(ShapeError::TouchesBoundary { x: 0., y: 0. })
    );
    let looped = [
        c(0.5, -1.),
        c(0.5, 1.5),
        c(0.2, 1.0),
        c(0.8, 1.0),
        c(0.6, 3.),
    ];
    assert_eq!(split(&g, &looped), Err(ShapeError::SelfIntersecting));
}

#[test]
fn split_then_dissolve_gives_the_original_back() {
    let g = mp(&[
        &[
            (0., 0.),
            (3., -0.5),
            (4., 1.),
            (3.5, 4.),
            (1., 3.7),
            (-0.3, 2.),
        ],
        &[(1., 1.), (1.2, 2.), (2., 2.1), (2.1, 1.2)],
    ]);
    let s = split(&g, &[c(3.0, -2.), c(2.5, 1.), c(2.7, 2.5), c(2.2, 5.)]).expect("split");
    check_split(&g, &s);
    assert_eq!(s.inserted.len(), 2);
    let back = dissolve(&s.left, &s.right).expect("halves are neighbours");
    assert_valid(&back);
    assert!(close_rel(back.unsigned_area(), g.unsigned_area(), 1e-12));
    let mut expected = vertices(&g);
    expected.extend(s.inserted.iter().map(|&(_, _, x)| ring::key(x)));
    assert_eq!(vertices(&back), expected);
    assert_eq!(back.0[0].interiors().len(), 1);
}

#[test]
fn dissolve_two_squares_keeps_every_other_vertex() {
    let both = dissolve(&mp(&[WEST]), &mp(&[EAST])).expect("neighbours");
    assert_eq!(
        both,
        mp(&[&[(0., 0.), (1., 0.), (2., 0.), (2., 1.), (1., 1.), (0., 1.)]])
    );
    let ell = dissolve(
        &mp(&[ELL]),
        &mp(&[&[(1., 1.), (2., 1.), (2., 2.), (1., 2.)]]),
    )
    .expect("ok");
    assert_eq!(ell.unsigned_area(), 4.0);
    assert_eq!(vertices(&ell).len(), 6);
    assert_valid(&ell);
}

#[test]
fn dissolve_fills_an_enclave_and_closes_a_ring_round_a_hole() {
    let enclave = mp(&[&[(1., 1.), (2., 1.), (2., 2.), (1., 2.)]]);
    assert_eq!(dissolve(&mp(&[OUTER, HOLE]), &enclave), Ok(mp(&[OUTER])));
    // A U closed by a bar on top: the notch becomes a hole.
    let u = mp(&[&[
        (0., 0.),
        (3., 0.),
        (3., 3.),
        (2., 3.),
        (2., 1.),
        (1., 1.),
        (1., 3.),
        (0., 3.),
    ]]);
    let bar = mp(&[&[(0., 3.), (1., 3.), (2., 3.), (3., 3.), (3., 4.), (0., 4.)]]);
    let closed = dissolve(&u, &bar).expect("neighbours");
    assert_valid(&closed);
    assert_eq!(closed.0.len(), 1);
    assert_eq!(closed.0[0].interiors().len(), 1);
    assert!(close_rel(
        closed.unsigned_area(),
        u.unsigned_area() + bar.unsigned_area(),
        1e-12
    ));
}

#[test]
fn dissolve_keeps_point_contacts_apart() {
    // The result's parts touch at (2,1).
    let b = MultiPolygon::new(vec![
        poly(&[EAST]),
        poly(&[&[(2., 1.), (3., 1.), (3., 2.), (2., 2.)]]),
    ]);
    let r = dissolve(&mp(&[WEST]), &b).expect("neighbours");
    assert_eq!(r.0.len(), 2);
    assert_valid(&r);
    assert_eq!(r.unsigned_area(), 3.0);
    // A hole touching its shell at (2,0) stays a hole.
    let a = mp(&[
        &[(0., 0.), (2., 0.), (4., 0.), (4., 4.), (0., 4.)],
        &[(2., 0.), (1., 1.), (3., 1.)],
    ]);
    let r = dissolve(&a, &mp(&[&[(4., 0.), (5., 0.), (5., 4.), (4., 4.)]])).expect("neighbours");
    assert_eq!(r.0.len(), 1);
    assert_eq!(r.0[0].interiors().len(), 1);
    assert_valid(&r);
    assert_eq!(r.unsigned_area(), 20.0 - 1.0);
}

#[test]
fn dissolve_refuses_strangers_and_mismatched_borders() {
    let far = mp(&[&[(5., 5.), (6., 5.), (6., 6.), (5., 6.)]]);
    assert_eq!(dissolve(&mp(&[WEST]), &far), Err(ShapeError::NotNeighbours));
    let corner = mp(&[&[(1., 1.), (2., 1.), (2., 2.), (1., 2.)]]);
    assert_eq!(
        dissolve(&mp(&[WEST]), &corner),
        Err(ShapeError::NotNeighbours)
    );
    assert_eq!(
        ShapeError::NotNeighbours.to_string(),
        "the grids share no border"
    );
    let a = mp(&[&[(0., 0.), (1., 0.), (1., 0.5), (1., 1.), (0., 1.)]]);
    let b = mp(&[&[(1., 0.), (2., 0.), (2., 1.), (1., 1.), (1., 0.7), (1., 0.5)]]);
    assert_eq!(dissolve(&a, &b), Err(ShapeError::BordersDoNotMatch));
}
