//! Exact polygon validity check with a sweep over segments.
//!
//! geo's `Validation` tests ring self-intersection pairwise (O(n²)), too slow
//! to run on every polygon of every tile, so this module implements the same
//! rules with a sweep and robust (exact) orientation predicates:
//! - every ring has at least 3 distinct vertices;
//! - no two segments cross or overlap along a line;
//! - a ring does not touch itself (no "pinch" vertex), but two different
//!   rings may touch at single points (OGC);
//! - every hole lies inside the exterior and no hole lies inside another.
//!
//! Rings are open (no repeated closing vertex).

use geo::algorithm::kernels::{Kernel, Orientation, RobustKernel};
use geo_types::Coord;

fn orient(a: [f64; 2], b: [f64; 2], c: [f64; 2]) -> i8 {
    let k = |p: [f64; 2]| Coord { x: p[0], y: p[1] };
    match RobustKernel::orient2d(k(a), k(b), k(c)) {
        Orientation::CounterClockwise => 1,
        Orientation::Clockwise => -1,
        Orientation::Collinear => 0,
    }
}

/// `p` on segment `a`–`b`, given that the three are collinear.
fn within(a: [f64; 2], b: [f64; 2], p: [f64; 2]) -> bool {
    p[0] >= a[0].min(b[0])
        && p[0] <= a[0].max(b[0])
        && p[1] >= a[1].min(b[1])
        && p[1] <= a[1].max(b[1])
}

#[derive(Debug, PartialEq)]
enum Contact {
    None,
    /// Meet in exactly one point.
    Touch,
    /// Proper crossing or a shared stretch of line.
    Cross,
}

fn contact(a: [f64; 2], b: [f64; 2], c: [f64; 2], d: [f64; 2]) -> Contact {
    let (o1, o2) = (orient(a, b, c), orient(a, b, d));
    let (o3, o4) = (orient(c, d, a), orient(c, d, b));
    if o1 == 0 && o2 == 0 {
        // Collinear: compare the projections on the dominant axis.
        let k = if (a[0] - b[0]).abs() >= (a[1] - b[1]).abs() {
            0
        } else {
            1
        };
        let (lo1, hi1) = (a[k].min(b[k]), a[k].max(b[k]));
        let (lo2, hi2) = (c[k].min(d[k]), c[k].max(d[k]));
        let (lo, hi) = (lo1.max(lo2), hi1.min(hi2));
        return if lo < hi {
            Contact::Cross
        } else if lo == hi {
            Contact::Touch
        } else {
            Contact::None
        };
    }
    if o1 * o2 < 0 && o3 * o4 < 0 {
        return Contact::Cross;
    }
    let touch = (o1 == 0 && within(a, b, c))
        || (o2 == 0 && within(a, b, d))
        || (o3 == 0 && within(c, d, a))
        || (o4 == 0 && within(c, d, b));
    if touch {
        Contact::Touch
    } else {
        Contact::None
    }
}

/// Where a point lies relative to a ring.
#[derive(Debug, PartialEq, Clone, Copy)]
pub enum Side {
    /// Strictly inside.
    Inside,
    /// On an edge or vertex.
    Boundary,
    /// Strictly outside.
    Outside,
}

/// Exact point-in-ring test (winding number with orientation predicates).
pub fn point_in_ring(p: [f64; 2], ring: &[[f64; 2]]) -> Side {
    let n = ring.len();
    let mut wn = 0i32;
    for i in 0..n {
        let (a, b) = (ring[i], ring[(i + 1) % n]);
        let o = orient(a, b, p);
        if o == 0 && within(a, b, p) {
            return Side::Boundary;
        }
        if a[1] <= p[1] {
            if b[1] > p[1] && o > 0 {
                wn += 1;
            }
        } else if b[1] <= p[1] && o < 0 {
            wn -= 1;
        }
    }
    if wn != 0 {
        Side::Inside
    } else {
        Side::Outside
    }
}

/// Position of ring `inner` relative to ring `outer`, assuming the two do
/// not cross: decided by the first vertex (then segment midpoint) of `inner`
/// that is not on `outer`'s boundary.
fn ring_side(inner: &[[f64; 2]], outer: &[[f64; 2]]) -> Side {
    let n = inner.len();
    let mids = (0..n).map(|i| {
        let (a, b) = (inner[i], inner[(i + 1) % n]);
        [(a[0] + b[0]) / 2.0, (a[1] + b[1]) / 2.0]
    });
    inner
        .iter()
        .copied()
        .chain(mids)
        .map(|p| point_in_ring(p, outer))
        .find(|s| *s != Side::Boundary)
        .unwrap_or(Side::Boundary)
}

/// True if the polygon (first ring exterior, others holes) is valid by the
/// rules in the module documentation.
pub fn is_valid_polygon(rings: &[Vec<[f64; 2]>]) -> bool {
    if rings.is_empty() {
        return false;
    }
    for r in rings {
        if r.len() < 3 || r.iter().any(|p| !p[0].is_finite() || !p[1].is_finite()) {
            return false;
        }
        let mut d = r.clone();
        d.sort_by(|a, b| a[0].total_cmp(&b[0]).then(a[1].total_cmp(&b[1])));
        d.dedup();
        if d.len() < 3 {
            return false;
        }
    }
    // Segments as (min x, max x, ring, index), swept by min x.
    let mut segs: Vec<(f64, f64, u32, u32)> = Vec::new();
    for (ri, r) in rings.iter().enumerate() {
        let n = r.len();
        for i in 0..n {
            let (a, b) = (r[i], r[(i + 1) % n]);
            segs.push((a[0].min(b[0]), a[0].max(b[0]), ri as u32, i as u32));
        }
    }
    segs.sort_by(|a, b| a.0.total_cmp(&b.0));
    let seg = |ri: u32, i: u32| {
        let r = &rings[ri as usize];
        (r[i as usize], r[(i as usize + 1) % r.len()])
    };
    let mut active: Vec<(f64, f64, u32, u32)> = Vec::new();
    for s in segs {
        active.retain(|t| t.1 >= s.0);
        let (a, b) = seg(s.2, s.3);
        for t in &active {
            let (c, d) = seg(t.2, t.3);
            if a[1].max(b[1]) < c[1].min(d[1]) || c[1].max(d[1]) < a[1].min(b[1]) {
                continue;
            }
            let k = contact(a, b, c, d);
            if k == Contact::None {
                continue;
            }
            if s.2 != t.2 {
                if k == Contact::Cross {
                    return false;
                }
                continue;
            }
            let n = rings[s.2 as usize].len() as u32;
            let adjacent = (s.3 + 1) % n == t.3 || (t.3 + 1) % n == s.3;
            if !adjacent || k == Contact::Cross {
                return false;
            }
        }
        active.push(s);
    }
    let outer = &rings[0];
    for (i, h) in rings.iter().enumerate().skip(1) {
        if ring_side(h, outer) != Side::Inside {
            return false;
        }
        for g in rings.iter().skip(i + 1) {
            if ring_side(h, g) != Side::Outside || ring_side(g, h) != Side::Outside {
                return false;
            }
        }
    }
    true
}

/// The vertices and edge midpoints of a polygon's exterior.
fn probes(part: &[Vec<[f64; 2]>]) -> impl Iterator<Item = [f64; 2]> + '_ {
    let r = &part[0];
    let n = r.len();
    (0..n).flat_map(move |i| {
        let (a, b) = (r[i], r[(i + 1) % n]);
        [a, [(a[0] + b[0]) / 2.0, (a[1] + b[1]) / 2.0]]
    })
}

/// Parts of a multipolygon (each a valid polygon on its own, see
/// [`is_valid_polygon`]) that break the OGC rules *between* parts: two parts
/// whose boundaries cross or share a stretch of line, or a part lying inside
/// another's exterior without lying in one of its holes ("nested shells").
/// Parts may touch at single points. Returns the indices of every part
/// involved, ascending (empty when the multipolygon is valid).
///
/// Simplifying or rounding each island of a feature on its own can make two
/// of them collide although each stays valid, which is why the feature as a
/// whole must be checked.
pub fn conflicting_parts(parts: &[Vec<Vec<[f64; 2]>>]) -> Vec<usize> {
    let mut bad = vec![false; parts.len()];
    let boxes: Vec<([f64; 2], [f64; 2])> = parts
        .iter()
        .map(|p| {
            p[0].iter().fold(
                ([f64::INFINITY; 2], [f64::NEG_INFINITY; 2]),
                |(lo, hi), q| {
                    (
                        [lo[0].min(q[0]), lo[1].min(q[1])],
                        [hi[0].max(q[0]), hi[1].max(q[1])],
                    )
                },
            )
        })
        .collect();
    // Segments as (min x, max x, part, ring, index), swept by min x.
    let mut segs: Vec<(f64, f64, u32, u32, u32)> = Vec::new();
    for (pi, p) in parts.iter().enumerate() {
        for (ri, r) in p.iter().enumerate() {
            let n = r.len();
            for i in 0..n {
                let (a, b) = (r[i], r[(i + 1) % n]);
                segs.push((
                    a[0].min(b[0]),
                    a[0].max(b[0]),
                    pi as u32,
                    ri as u32,
                    i as u32,
                ));
            }
        }
    }
    segs.sort_by(|a, b| a.0.total_cmp(&b.0));
    let seg = |pi: u32, ri: u32, i: u32| {
        let r = &parts[pi as usize][ri as usize];
        (r[i as usize], r[(i as usize + 1) % r.len()])
    };
    let mut active: Vec<(f64, f64, u32, u32, u32)> = Vec::new();
    for s in segs {
        active.retain(|t| t.1 >= s.0);
        let (a, b) = seg(s.2, s.3, s.4);
        for t in &active {
            if t.2 == s.2 || (bad[t.2 as usize] && bad[s.2 as usize]) {
                continue;
            }
            let (c, d) = seg(t.2, t.3, t.4);
            if a[1].max(b[1]) < c[1].min(d[1]) || c[1].max(d[1]) < a[1].min(b[1]) {
                continue;
            }
            if contact(a, b, c, d) == Contact::Cross {
                bad[s.2 as usize] = true;
                bad[t.2 as usize] = true;
            }
        }
        active.push(s);
    }
    let overlap = |i: usize, j: usize| {
        let (a, b) = (boxes[i], boxes[j]);
        a.0[0] <= b.1[0] && b.0[0] <= a.1[0] && a.0[1] <= b.1[1] && b.0[1] <= a.1[1]
    };
    // Parts whose boundaries do not cross overlap exactly when a vertex or
    // an edge midpoint of one lies in the interior of the other (the pieces
    // of a boundary between touching points are wholly inside or outside).
    let in_interior = |q: [f64; 2], part: &Vec<Vec<[f64; 2]>>| {
        point_in_ring(q, &part[0]) == Side::Inside
            && part[1..]
                .iter()
                .all(|h| point_in_ring(q, h) == Side::Outside)
    };
    let in_box = |q: [f64; 2], b: ([f64; 2], [f64; 2])| {
        q[0] >= b.0[0] && q[0] <= b.1[0] && q[1] >= b.0[1] && q[1] <= b.1[1]
    };
    for i in 0..parts.len() {
        for j in i + 1..parts.len() {
            if (bad[i] && bad[j]) || !overlap(i, j) {
                continue;
            }
            let hit = probes(&parts[i]).any(|q| in_box(q, boxes[j]) && in_interior(q, &parts[j]))
                || probes(&parts[j]).any(|q| in_box(q, boxes[i]) && in_interior(q, &parts[i]));
            if hit {
                bad[i] = true;
                bad[j] = true;
            }
        }
    }
    (0..parts.len()).filter(|&i| bad[i]).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::Validation;
    use geo_types::{LineString, Polygon};

    fn sq(x: f64, y: f64, s: f64) -> Vec<[f64; 2]> {
        vec![[x, y], [x + s, y], [x + s, y + s], [x, y + s]]
    }

    fn geo_valid(rings: &[Vec<[f64; 2]>]) -> bool {
        let ls = |r: &Vec<[f64; 2]>| {
            LineString::from(r.iter().map(|p| (p[0], p[1])).collect::<Vec<_>>())
        };
        Polygon::new(ls(&rings[0]), rings[1..].iter().map(ls).collect()).is_valid()
    }

    #[test]
    fn simple_cases() {
        assert!(is_valid_polygon(&[sq(0.0, 0.0, 10.0)]));
        assert!(is_valid_polygon(&[sq(0.0, 0.0, 10.0), sq(2.0, 2.0, 3.0)]));
        // bow tie
        assert!(!is_valid_polygon(&[vec![
            [0.0, 0.0],
            [2.0, 2.0],
            [2.0, 0.0],
            [0.0, 2.0]
        ]]));
        // hole outside
        assert!(!is_valid_polygon(&[sq(0.0, 0.0, 10.0), sq(20.0, 2.0, 3.0)]));
        // overlapping holes
        assert!(!is_valid_polygon(&[
            sq(0.0, 0.0, 10.0),
            sq(2.0, 2.0, 3.0),
            sq(3.0, 3.0, 3.0)
        ]));
        // nested holes
        assert!(!is_valid_polygon(&[
            sq(0.0, 0.0, 10.0),
            sq(1.0, 1.0, 8.0),
            sq(3.0, 3.0, 1.0)
        ]));
        // hole touching the exterior at one point is fine
        assert!(is_valid_polygon(&[
            sq(0.0, 0.0, 10.0),
            vec![[0.0, 5.0], [3.0, 4.0], [3.0, 6.0]]
        ]));
        // hole sharing an edge with the exterior is not
        assert!(!is_valid_polygon(&[
            sq(0.0, 0.0, 10.0),
            vec![[0.0, 4.0], [3.0, 4.0], [0.0, 6.0]]
        ]));
        // pinch: ring touching itself
        let pinch = vec![
            [0.0, 0.0],
            [4.0, 0.0],
            [2.0, 2.0],
            [4.0, 4.0],
            [0.0, 4.0],
            [2.0, 2.0],
        ];
        assert!(!is_valid_polygon(&[pinch]));
        // spike back along the previous edge
        assert!(!is_valid_polygon(&[vec![
            [0.0, 0.0],
            [4.0, 0.0],
            [2.0, 0.0],
            [2.0, 3.0]
        ]]));
        assert!(!is_valid_polygon(&[vec![
            [0.0, 0.0],
            [1.0, 1.0],
            [0.0, 0.0]
        ]]));
    }

    #[test]
    fn agrees_with_geo_on_random_polygons() {
        // Small pseudo-random integer polygons hit every kind of contact.
        let mut seed = 12345u64;
        let mut rnd = |m: u64| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((seed >> 33) % m) as f64
        };
        let mut disagreements = 0;
        for _ in 0..2000 {
            let n = 3 + rnd(5) as usize;
            let ring: Vec<[f64; 2]> = (0..n).map(|_| [rnd(6), rnd(6)]).collect();
            let mut d = ring.clone();
            d.sort_by(|a, b| a.partial_cmp(b).unwrap());
            d.dedup();
            if d.len() < 3 || ring.windows(2).any(|w| w[0] == w[1]) || ring[0] == ring[n - 1] {
                continue;
            }
            let ours = is_valid_polygon(std::slice::from_ref(&ring));
            if ours != geo_valid(std::slice::from_ref(&ring)) {
                // geo's pairwise check skips adjacent segments, so it accepts
                // zero-area (all collinear) rings; those are the only
                // disagreements allowed.
                let area2: f64 = (0..n)
                    .map(|i| ring[i][0] * ring[(i + 1) % n][1] - ring[(i + 1) % n][0] * ring[i][1])
                    .sum();
                if area2 != 0.0 || ours {
                    eprintln!("{ring:?} ours {ours}");
                    disagreements += 1;
                }
            }
        }
        assert_eq!(disagreements, 0);
    }

    #[test]
    fn parts_that_collide() {
        let a = sq(0.0, 0.0, 4.0);
        // Apart, touching at a corner: valid.
        assert!(conflicting_parts(&[vec![a.clone()], vec![sq(10.0, 0.0, 2.0)]]).is_empty());
        assert!(conflicting_parts(&[vec![a.clone()], vec![sq(4.0, 4.0, 2.0)]]).is_empty());
        // Crossing, sharing an edge, nested: both parts named.
        assert_eq!(
            conflicting_parts(&[vec![a.clone()], vec![sq(3.0, 3.0, 2.0)]]),
            vec![0, 1]
        );
        assert_eq!(
            conflicting_parts(&[
                vec![sq(9.0, 9.0, 1.0)],
                vec![a.clone()],
                vec![sq(4.0, 0.0, 2.0)]
            ]),
            vec![1, 2]
        );
        assert_eq!(
            conflicting_parts(&[vec![a.clone()], vec![sq(1.0, 1.0, 1.0)]]),
            vec![0, 1]
        );
        // Overlapping while only touching boundaries (as seen in a z8 tile of
        // Zhejiang): a triangle poking into another between two touch points.
        let big = vec![[0.0, 0.0], [16.0, 0.0], [16.0, 4.0]];
        let poke = vec![[6.0, 4.0], [4.0, 1.0], [6.0, 1.0], [8.0, 2.0]];
        assert_eq!(conflicting_parts(&[vec![big], vec![poke]]), vec![0, 1]);
        // An island in a hole of another part is fine.
        let lake = vec![sq(0.0, 0.0, 10.0), sq(2.0, 2.0, 6.0)];
        assert!(conflicting_parts(&[lake, vec![sq(3.0, 3.0, 2.0)]]).is_empty());
    }

    #[test]
    fn point_in_ring_exact() {
        let r = sq(0.0, 0.0, 4.0);
        assert_eq!(point_in_ring([2.0, 2.0], &r), Side::Inside);
        assert_eq!(point_in_ring([4.0, 2.0], &r), Side::Boundary);
        assert_eq!(point_in_ring([0.0, 0.0], &r), Side::Boundary);
        assert_eq!(point_in_ring([5.0, 2.0], &r), Side::Outside);
        let rev: Vec<_> = r.iter().rev().copied().collect();
        assert_eq!(point_in_ring([1.0, 3.0], &rev), Side::Inside);
    }
}
