//! Sutherland–Hodgman clipping of rings against an axis-aligned rectangle.
//!
//! Shared borders stay shared: each clip stage turns a segment into the same
//! output whichever direction it is walked, because the crossing point is
//! computed from the segment's endpoints in a canonical (lexicographic) order.
//! Two rings holding the same segment therefore produce bit-identical
//! crossing points. A concave ring leaving and re-entering the rectangle may
//! come out with zero-width "bridges" along the rectangle's edge; they enclose
//! no area and are removed by `quantize` (or its validity repair).

/// An axis-aligned clip rectangle.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClipRect {
    /// Minimum x.
    pub min_x: f64,
    /// Minimum y.
    pub min_y: f64,
    /// Maximum x.
    pub max_x: f64,
    /// Maximum y.
    pub max_y: f64,
}

#[derive(Clone, Copy)]
enum Edge {
    MinX,
    MaxX,
    MinY,
    MaxY,
}

impl ClipRect {
    /// True if the point lies inside or on the rectangle.
    pub fn contains(&self, p: [f64; 2]) -> bool {
        p[0] >= self.min_x && p[0] <= self.max_x && p[1] >= self.min_y && p[1] <= self.max_y
    }

    fn inside(&self, e: Edge, p: [f64; 2]) -> bool {
        match e {
            Edge::MinX => p[0] >= self.min_x,
            Edge::MaxX => p[0] <= self.max_x,
            Edge::MinY => p[1] >= self.min_y,
            Edge::MaxY => p[1] <= self.max_y,
        }
    }

    /// Crossing of segment `a`–`b` with an edge line; symmetric in `a`, `b`.
    fn crossing(&self, e: Edge, a: [f64; 2], b: [f64; 2]) -> [f64; 2] {
        let (a, b) = if (a[0], a[1]) <= (b[0], b[1]) {
            (a, b)
        } else {
            (b, a)
        };
        match e {
            Edge::MinX | Edge::MaxX => {
                let x = if matches!(e, Edge::MinX) {
                    self.min_x
                } else {
                    self.max_x
                };
                let t = (x - a[0]) / (b[0] - a[0]);
                [x, a[1] + t * (b[1] - a[1])]
            }
            Edge::MinY | Edge::MaxY => {
                let y = if matches!(e, Edge::MinY) {
                    self.min_y
                } else {
                    self.max_y
                };
                let t = (y - a[1]) / (b[1] - a[1]);
                [a[0] + t * (b[0] - a[0]), y]
            }
        }
    }

    /// Clips an open ring (no repeated closing vertex). The result is empty
    /// when the ring lies wholly outside.
    pub fn clip_ring(&self, ring: &[[f64; 2]]) -> Vec<[f64; 2]> {
        if ring.iter().all(|&p| self.contains(p)) {
            return ring.to_vec();
        }
        let mut cur = ring.to_vec();
        let mut next = Vec::with_capacity(ring.len() + 8);
        for e in [Edge::MinX, Edge::MaxX, Edge::MinY, Edge::MaxY] {
            next.clear();
            let n = cur.len();
            for i in 0..n {
                let a = cur[(i + n - 1) % n];
                let b = cur[i];
                match (self.inside(e, a), self.inside(e, b)) {
                    (true, true) => next.push(b),
                    (true, false) => next.push(self.crossing(e, a, b)),
                    (false, true) => {
                        next.push(self.crossing(e, a, b));
                        next.push(b);
                    }
                    (false, false) => {}
                }
            }
            std::mem::swap(&mut cur, &mut next);
            if cur.is_empty() {
                break;
            }
        }
        cur
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn area(r: &[[f64; 2]]) -> f64 {
        let n = r.len();
        (0..n)
            .map(|i| r[i][0] * r[(i + 1) % n][1] - r[(i + 1) % n][0] * r[i][1])
            .sum::<f64>()
            / 2.0
    }

    const R: ClipRect = ClipRect {
        min_x: 0.0,
        min_y: 0.0,
        max_x: 10.0,
        max_y: 10.0,
    };

    #[test]
    fn inside_untouched_outside_empty() {
        let sq = vec![[1.0, 1.0], [2.0, 1.0], [2.0, 2.0], [1.0, 2.0]];
        assert_eq!(R.clip_ring(&sq), sq);
        let far = vec![[11.0, 1.0], [12.0, 1.0], [12.0, 2.0]];
        assert!(R.clip_ring(&far).is_empty());
    }

    #[test]
    fn overlapping_square() {
        let sq = vec![[-5.0, -5.0], [5.0, -5.0], [5.0, 5.0], [-5.0, 5.0]];
        let c = R.clip_ring(&sq);
        assert!((area(&c) - 25.0).abs() < 1e-12);
        assert!(c.iter().all(|&p| R.contains(p)));
        // Covering the whole rectangle gives the rectangle.
        let big = vec![[-50.0, -50.0], [50.0, -50.0], [50.0, 50.0], [-50.0, 50.0]];
        assert!((area(&R.clip_ring(&big)) - 100.0).abs() < 1e-12);
    }

    #[test]
    fn crossing_is_direction_independent() {
        // Awkward slopes whose crossing would round differently if computed
        // from either end.
        for k in 0..200 {
            let a = [-3.3 - k as f64 * 0.0137, 0.1 + k as f64 * 0.0291];
            let b = [7.7 + k as f64 * 0.0071, 13.9 - k as f64 * 0.017];
            for e in [Edge::MinX, Edge::MaxX, Edge::MinY, Edge::MaxY] {
                assert_eq!(R.crossing(e, a, b), R.crossing(e, b, a));
            }
        }
    }

    #[test]
    fn shared_edge_clips_identically() {
        // Two triangles sharing the edge p–q which crosses the rectangle.
        let p = [-2.345_678_9, 3.151_592_6];
        let q = [12.718_281_8, 7.777_777_7];
        let left = vec![p, q, [4.0, 12.5]];
        let right = vec![q, p, [3.0, -1.7]];
        let a = R.clip_ring(&left);
        let b = R.clip_ring(&right);
        let c0 = R.crossing(Edge::MinX, p, q);
        let c1 = R.crossing(Edge::MaxX, c0, q);
        assert_eq!(c0[0], 0.0);
        assert_eq!(c1[0], 10.0);
        for c in [c0, c1] {
            assert!(a.contains(&c) && b.contains(&c), "{c:?}: {a:?} / {b:?}");
        }
        // Together they still cover the clipped union exactly once.
        let total = area(&a).abs() + area(&b).abs();
        let whole = vec![[4.0, 12.5], p, [3.0, -1.7], q];
        assert!((total - area(&R.clip_ring(&whole)).abs()).abs() < 1e-9);
    }

    #[test]
    fn concave_ring_keeps_area() {
        // An upside-down U whose bar lies outside: two arms survive.
        let u = vec![
            [2.0, 5.0],
            [4.0, 5.0],
            [4.0, 12.0],
            [6.0, 12.0],
            [6.0, 5.0],
            [8.0, 5.0],
            [8.0, 15.0],
            [2.0, 15.0],
        ];
        let c = R.clip_ring(&u);
        assert!((area(&c).abs() - 2.0 * 2.0 * 5.0).abs() < 1e-12);
    }
}
