//! The planar arrangement of noded linework: nodes, edges, and the faces they
//! bound, with every decision taken by exact orientation predicates.
//!
//! Half-edge `h` runs along edge `h / 2`, forwards when `h` is even; its twin
//! is `h ^ 1`. Each half-edge has one face on its left. Face 0 is the
//! unbounded face; faces 1.. are the bounded regions of the arrangement (a
//! face may have holes: components lying inside it).

use std::cmp::Ordering;
use std::collections::HashMap;

use geo_types::{Coord, Line};

use super::noding::coord_key;

/// The unbounded face.
pub(super) const OUTSIDE: usize = 0;

pub(super) struct Arrangement {
    pub nodes: Vec<Coord<f64>>,
    /// Each edge's two node ids.
    pub edges: Vec<[usize; 2]>,
    /// Per node, its outgoing half-edges in counter-clockwise order of direction.
    around: Vec<Vec<usize>>,
    /// The face on the left of each half-edge.
    pub left: Vec<usize>,
    /// Number of faces, the unbounded one included.
    pub faces: usize,
    ids: HashMap<(u64, u64), usize>,
}

pub(super) fn origin(a: &Arrangement, h: usize) -> usize {
    a.edges[h / 2][h % 2]
}

pub(super) fn dest(a: &Arrangement, h: usize) -> usize {
    a.edges[h / 2][1 - h % 2]
}

pub(super) fn orient(a: Coord<f64>, b: Coord<f64>, c: Coord<f64>) -> f64 {
    robust::orient2d(
        robust::Coord { x: a.x, y: a.y },
        robust::Coord { x: b.x, y: b.y },
        robust::Coord { x: c.x, y: c.y },
    )
}

/// Exact comparison of the directions from `v` to `p` and to `q`, by angle
/// counter-clockwise from the positive x axis.
fn direction_order(v: Coord<f64>, p: Coord<f64>, q: Coord<f64>) -> Ordering {
    // Coordinate differences are rounded but their signs are exact.
    let upper = |c: Coord<f64>| c.y > v.y || (c.y == v.y && c.x > v.x);
    match (upper(p), upper(q)) {
        (true, false) => Ordering::Less,
        (false, true) => Ordering::Greater,
        _ => {
            let o = orient(v, p, q);
            if o > 0.0 {
                Ordering::Less
            } else if o < 0.0 {
                Ordering::Greater
            } else {
                Ordering::Equal
            }
        }
    }
}

/// The closed boundary walks of the faces of the sub-arrangement formed by
/// the `active` edges: each walk keeps its face on the left and turns, at
/// every node, into the next edge clockwise (so a dangle is walked up and back).
pub(super) struct Walks {
    pub walks: Vec<Vec<usize>>,
    /// Whether the walk bounds its face from inside (the face is bounded and
    /// the walk is its outer boundary), as opposed to being the outer boundary
    /// of a connected component, i.e. a hole in the face around it.
    pub bounds_from_inside: Vec<bool>,
}

pub(super) fn walk_faces(a: &Arrangement, active: &[bool]) -> Walks {
    let around: Vec<Vec<usize>> = a
        .around
        .iter()
        .map(|hs| hs.iter().copied().filter(|&h| active[h / 2]).collect())
        .collect();
    let mut position = vec![usize::MAX; a.edges.len() * 2];
    for hs in &around {
        for (i, &h) in hs.iter().enumerate() {
            position[h] = i;
        }
    }
    let next = |h: usize| {
        let at = &around[dest(a, h)];
        at[(position[h ^ 1] + at.len() - 1) % at.len()]
    };
    let mut seen = vec![false; a.edges.len() * 2];
    let mut walks = Vec::new();
    let mut bounds_from_inside = Vec::new();
    for start in 0..a.edges.len() * 2 {
        if seen[start] || !active[start / 2] {
            continue;
        }
        let mut walk = Vec::new();
        let mut h = start;
        while !seen[h] {
            seen[h] = true;
            walk.push(h);
            h = next(h);
        }
        bounds_from_inside.push(!faces_the_far_left(a, &walk, &around, &position));
        walks.push(walk);
    }
    Walks {
        walks,
        bounds_from_inside,
    }
}

/// Whether, at the walk's lowest-leftmost node, the face on the walk's left
/// includes the direction due west, which only the face outside a component
/// can (everything of the walk lies east of or straight above that node).
fn faces_the_far_left(
    a: &Arrangement,
    walk: &[usize],
    around: &[Vec<usize>],
    position: &[usize],
) -> bool {
    let lowest = walk
        .iter()
        .map(|&h| origin(a, h))
        .min_by_key(|&n| coord_key(a.nodes[n]))
        .expect("walks are not empty");
    let v = a.nodes[lowest];
    let west = Coord {
        x: v.x - 1.0,
        y: v.y,
    };
    let dir = |h: usize| a.nodes[dest(a, h)];
    walk.iter()
        .filter(|&&h| origin(a, h) == lowest)
        .any(|&out| {
            // The face on the left of `out` spans, at v, from `out`
            // counter-clockwise to the next outgoing half-edge.
            let at = &around[lowest];
            let bound = at[(position[out] + 1) % at.len()];
            if bound == out {
                return true;
            }
            let from = dir(out);
            let to = dir(bound);
            let after_from = direction_order(v, from, west) == Ordering::Less;
            let before_to = direction_order(v, west, to) == Ordering::Less;
            if direction_order(v, from, to) == Ordering::Less {
                after_from && before_to
            } else {
                after_from || before_to
            }
        })
}

/// Signed area (positive counter-clockwise) of a walk, relative to its first
/// node to keep the rounding small.
pub(super) fn walk_area(a: &Arrangement, walk: &[usize]) -> f64 {
    let o = a.nodes[origin(a, walk[0])];
    walk.iter()
        .map(|&h| {
            let p = a.nodes[origin(a, h)] - o;
            let q = a.nodes[dest(a, h)] - o;
            p.x * q.y - q.x * p.y
        })
        .sum::<f64>()
        / 2.0
}

/// Exact winding number of the walk around a point that is not on it.
fn winding(a: &Arrangement, walk: &[usize], p: Coord<f64>) -> i32 {
    let mut w = 0;
    for &h in walk {
        let s = a.nodes[origin(a, h)];
        let e = a.nodes[dest(a, h)];
        if s.y <= p.y {
            if e.y > p.y && orient(s, e, p) > 0.0 {
                w += 1;
            }
        } else if e.y <= p.y && orient(s, e, p) < 0.0 {
            w -= 1;
        }
    }
    w
}

fn find(parent: &mut [usize], mut x: usize) -> usize {
    while parent[x] != x {
        parent[x] = parent[parent[x]];
        x = parent[x];
    }
    x
}

/// Union-find over `n` items joined by `pairs`; returns each item's class root.
pub(super) fn classes(n: usize, pairs: impl Iterator<Item = (usize, usize)>) -> Vec<usize> {
    let mut parent: Vec<usize> = (0..n).collect();
    for (x, y) in pairs {
        let (rx, ry) = (find(&mut parent, x), find(&mut parent, y));
        if rx != ry {
            parent[rx.max(ry)] = rx.min(ry);
        }
    }
    (0..n).map(|x| find(&mut parent, x)).collect()
}

impl Arrangement {
    /// Builds the arrangement of noded, deduplicated edges and finds its faces.
    pub fn new(lines: &[Line<f64>]) -> Arrangement {
        let mut ids: HashMap<(u64, u64), usize> = HashMap::new();
        let mut nodes = Vec::new();
        let mut id = |c: Coord<f64>| {
            *ids.entry(coord_key(c)).or_insert_with(|| {
                nodes.push(c);
                nodes.len() - 1
            })
        };
        let edges: Vec<[usize; 2]> = lines.iter().map(|l| [id(l.start), id(l.end)]).collect();
        let mut around = vec![Vec::new(); nodes.len()];
        for (e, [s, t]) in edges.iter().enumerate() {
            around[*s].push(2 * e);
            around[*t].push(2 * e + 1);
        }
        let mut a = Arrangement {
            nodes,
            edges,
            around,
            left: Vec::new(),
            faces: 1,
            ids,
        };
        for n in 0..a.nodes.len() {
            let v = a.nodes[n];
            let mut hs = std::mem::take(&mut a.around[n]);
            hs.sort_by(|&p, &q| direction_order(v, a.nodes[dest(&a, p)], a.nodes[dest(&a, q)]));
            a.around[n] = hs;
        }
        a.find_faces();
        a
    }

    /// Numbers the bounded faces and puts each component inside the smallest
    /// bounded face (of another component) that contains it.
    fn find_faces(&mut self) {
        let all = vec![true; self.edges.len()];
        let Walks {
            walks,
            bounds_from_inside,
        } = walk_faces(self, &all);
        let component = classes(self.nodes.len(), self.edges.iter().map(|&[s, t]| (s, t)));
        let mut face_of_walk = vec![OUTSIDE; walks.len()];
        let mut shells = Vec::new();
        for (w, inside) in bounds_from_inside.iter().enumerate() {
            if *inside {
                face_of_walk[w] = self.faces;
                self.faces += 1;
                shells.push((w, walk_area(self, &walks[w]), self.walk_bounds(&walks[w])));
            }
        }
        shells.sort_by(|x, y| x.1.total_cmp(&y.1));
        for (w, inside) in bounds_from_inside.iter().enumerate() {
            if *inside {
                continue;
            }
            let n = origin(self, walks[w][0]);
            let p = self.nodes[n];
            let container = shells.iter().find(|(s, _, (lo, hi))| {
                component[origin(self, walks[*s][0])] != component[n]
                    && lo.x <= p.x
                    && p.x <= hi.x
                    && lo.y <= p.y
                    && p.y <= hi.y
                    && winding(self, &walks[*s], p) != 0
            });
            if let Some((s, _, _)) = container {
                face_of_walk[w] = face_of_walk[*s];
            }
        }
        self.left = vec![OUTSIDE; self.edges.len() * 2];
        for (w, walk) in walks.iter().enumerate() {
            for &h in walk {
                self.left[h] = face_of_walk[w];
            }
        }
    }

    /// The node at exactly this position, if there is one.
    pub fn node_at(&self, c: Coord<f64>) -> Option<usize> {
        self.ids.get(&coord_key(c)).copied()
    }

    fn walk_bounds(&self, walk: &[usize]) -> (Coord<f64>, Coord<f64>) {
        let mut lo = self.nodes[origin(self, walk[0])];
        let mut hi = lo;
        for &h in walk {
            let c = self.nodes[origin(self, h)];
            lo = Coord {
                x: lo.x.min(c.x),
                y: lo.y.min(c.y),
            };
            hi = Coord {
                x: hi.x.max(c.x),
                y: hi.y.max(c.y),
            };
        }
        (lo, hi)
    }
}
