//! The edits on real districts of Zhejiang (`data/fixtures/zhejiang-admin-gcj02.geojson`),
//! an exact partition with bit-identical shared borders.

use std::collections::HashMap;
use std::sync::OnceLock;

use geo::{Area, BoundingRect};
use geo_types::{coord, Coord};

use super::super::ring::{key, rings, Key};
use super::super::*;
use super::{close_rel, vertices};
use crate::geometry::testutil::zhejiang_grids;
use crate::geometry::validate_polygonal;
use crate::model::Grid;

fn grids() -> &'static [Grid] {
    static GRIDS: OnceLock<Vec<Grid>> = OnceLock::new();
    GRIDS.get_or_init(zhejiang_grids)
}

fn districts() -> Vec<&'static Grid> {
    let d: Vec<_> = grids().iter().filter(|g| g.level == "district").collect();
    assert_eq!(d.len(), 90);
    d
}

/// The two districts sharing the most exact vertices, and those vertices.
fn neighbours() -> (&'static Grid, &'static Grid, Vec<Coord<f64>>) {
    let d = districts();
    let mut owners: HashMap<Key, (usize, Coord<f64>)> = HashMap::new();
    let mut shared: HashMap<(usize, usize), Vec<Coord<f64>>> = HashMap::new();
    for (i, g) in d.iter().enumerate() {
        for &c in g.geometry.0.iter().flat_map(rings).flat_map(|r| r.0.iter()) {
            match owners.get(&key(c)) {
                Some(&(j, _)) if j != i => shared.entry((j, i)).or_default().push(c),
                Some(_) => {}
                None => {
                    owners.insert(key(c), (i, c));
                }
            }
        }
    }
    let ((i, j), mut common) = shared
        .into_iter()
        .max_by_key(|(pair, v)| (v.len(), *pair))
        .expect("a pair");
    common.sort_by(|a, b| (a.x, a.y).partial_cmp(&(b.x, b.y)).expect("finite"));
    common.dedup();
    assert!(common.len() >= 3);
    (d[i], d[j], common)
}

#[test]
fn zhejiang_dissolve_two_neighbouring_districts() {
    let (a, b, _) = neighbours();
    let both = dissolve(&a.geometry, &b.geometry)
        .unwrap_or_else(|e| panic!("{} + {}: {e}", a.name, b.name));
    let sum = a.geometry.unsigned_area() + b.geometry.unsigned_area();
    assert!(
        close_rel(both.unsigned_area(), sum, 1e-9),
        "{} + {}",
        a.name,
        b.name
    );
    validate_polygonal(&both).expect("valid");
    let mut all = vertices(&a.geometry);
    all.extend(vertices(&b.geometry));
    assert!(vertices(&both).is_subset(&all), "no new vertex");
}

#[test]
fn zhejiang_split_districts_north_south_through_their_centres() {
    let d = districts();
    let mut done = 0;
    for g in &d {
        let bb = g.geometry.bounding_rect().expect("not empty");
        let cx = (bb.min().x + bb.max().x) / 2.0;
        let line = [
            coord! { x: cx, y: bb.min().y - 0.01 },
            coord! { x: cx, y: bb.max().y + 0.01 },
        ];
        let s = match split(&g.geometry, &line) {
            Ok(s) => s,
            // Islands and bays: by contract not a clean cut.
            Err(
                ShapeError::NotCrossing
                | ShapeError::CrossingCount(_)
                | ShapeError::CrossesSeveralParts
                | ShapeError::CrossesHole
                // The line meets a vertex whose longitude is the centre's.
                | ShapeError::TouchesBoundary { .. },
            ) => continue,
            Err(e) => panic!("{}: {e}", g.name),
        };
        done += 1;
        let area = g.geometry.unsigned_area();
        let halves = s.left.unsigned_area() + s.right.unsigned_area();
        assert!(close_rel(halves, area, 1e-12), "{}", g.name);
        validate_polygonal(&s.left).expect("left valid");
        validate_polygonal(&s.right).expect("right valid");
        assert_eq!(s.left.0.len() + s.right.0.len(), g.geometry.0.len() + 1);
        let back = dissolve(&s.left, &s.right).expect("the halves are neighbours");
        assert!(close_rel(back.unsigned_area(), area, 1e-12));
        let mut expected = vertices(&g.geometry);
        expected.extend(s.inserted.iter().map(|&(_, _, x)| key(x)));
        assert_eq!(vertices(&back), expected, "{}", g.name);
        // With the crossing points put into a neighbour, a half still
        // dissolves with it exactly.
        for n in d.iter().filter(|n| n.name != g.name) {
            let mut geom = n.geometry.clone();
            let mut touched = false;
            for &(a, b, x) in &s.inserted {
                if let Some(with) = insert_vertex(&geom, a, b, x) {
                    geom = with;
                    touched = true;
                }
            }
            if !touched {
                continue;
            }
            let half = if dissolve(&s.left, &geom).is_ok() {
                &s.left
            } else {
                &s.right
            };
            let union = dissolve(half, &geom).expect("a half neighbours the neighbour");
            let sum = half.unsigned_area() + geom.unsigned_area();
            assert!(
                close_rel(union.unsigned_area(), sum, 1e-9),
                "{} + {}",
                g.name,
                n.name
            );
        }
    }
    assert!(done >= 3, "only {done} districts crossed just twice");
}

#[test]
fn zhejiang_move_a_shared_vertex_in_both_districts() {
    let (a, b, common) = neighbours();
    let from = common[common.len() / 2];
    let to = coord! { x: from.x + 1e-5, y: from.y - 1e-5 };
    let ma = move_vertex(&a.geometry, from, to).expect("a has it");
    let mb = move_vertex(&b.geometry, from, to).expect("b has it");
    for m in [&ma, &mb] {
        assert!(vertices(m).contains(&key(to)));
        assert!(!vertices(m).contains(&key(from)));
    }
    // Still an exact partition: the union has the old area.
    let sum = ma.unsigned_area() + mb.unsigned_area();
    let both = dissolve(&ma, &mb).expect("still neighbours");
    assert!(close_rel(both.unsigned_area(), sum, 1e-9));
    let before = a.geometry.unsigned_area() + b.geometry.unsigned_area();
    assert!(close_rel(sum, before, 1e-6));
}

/// Dissolving a city's districts one neighbour at a time (islands that
/// border none are added as parts) gives back the city, vertex for vertex.
#[test]
fn zhejiang_dissolving_a_citys_districts_gives_the_city() {
    let all = grids();
    let cities: Vec<&Grid> = all.iter().filter(|g| g.level == "city").collect();
    assert_eq!(cities.len(), 11);
    for city in cities {
        let mut rest: Vec<&Grid> = all
            .iter()
            .filter(|g| g.parent.as_ref() == Some(&city.code))
            .collect();
        let mut acc = rest.remove(0).geometry.clone();
        while !rest.is_empty() {
            let mut joined = false;
            let mut i = 0;
            while i < rest.len() {
                match dissolve(&acc, &rest[i].geometry) {
                    Ok(union) => {
                        acc = union;
                        rest.remove(i);
                        joined = true;
                    }
                    Err(ShapeError::NotNeighbours) => i += 1,
                    Err(e) => panic!("{} + {}: {e}", city.name, rest[i].name),
                }
            }
            if !joined {
                acc.0.extend(rest.remove(0).geometry.0.iter().cloned());
            }
        }
        assert_eq!(vertices(&acc), vertices(&city.geometry), "{}", city.name);
        assert_eq!(acc.0.len(), city.geometry.0.len(), "{}", city.name);
        let area = city.geometry.unsigned_area();
        assert!(close_rel(acc.unsigned_area(), area, 1e-9), "{}", city.name);
    }
}
