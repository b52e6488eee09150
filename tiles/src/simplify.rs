//! Per-zoom simplification of topology arcs.
//!
//! Douglas–Peucker is run once per arc, recording for every interior vertex the
//! tolerance up to which it survives ("importance", clamped so that a vertex
//! never outlives the split that created it). Simplifying at tolerance `t` is
//! then keeping the vertices with importance `> t`, which is exactly the
//! Douglas–Peucker result at `t`. Arc endpoints (junctions) are never removed
//! and an arc is simplified once for both polygons it borders, so shared
//! borders stay shared at every zoom.

use crate::tile::tile_width;
use crate::topology::Topology;
use std::collections::{BTreeSet, HashMap};

/// Tolerance that keeps every vertex (the original geometry).
pub const KEEP_ALL: f64 = -1.0;

/// Douglas–Peucker importance of each vertex of `pts` (endpoints: infinity).
/// A closed arc (first == last) is split first at the vertex farthest from
/// its start.
pub fn dp_importance(pts: &[[f64; 2]]) -> Vec<f64> {
    let n = pts.len();
    let mut imp = vec![f64::INFINITY; n];
    if n < 3 {
        return imp;
    }
    let mut stack = vec![(0usize, n - 1, f64::INFINITY)];
    while let Some((a, b, parent)) = stack.pop() {
        if b <= a + 1 {
            continue;
        }
        let (mut best, mut best_d) = (a + 1, -1.0);
        for (i, p) in pts.iter().enumerate().take(b).skip(a + 1) {
            let d = segment_distance(*p, pts[a], pts[b]);
            if d > best_d {
                best = i;
                best_d = d;
            }
        }
        let v = best_d.min(parent);
        imp[best] = v;
        stack.push((a, best, v));
        stack.push((best, b, v));
    }
    imp
}

/// Distance from `p` to the segment `a`–`b` (to `a` if the segment is a point).
pub fn segment_distance(p: [f64; 2], a: [f64; 2], b: [f64; 2]) -> f64 {
    let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
    let len2 = dx * dx + dy * dy;
    let t = if len2 > 0.0 {
        (((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / len2).clamp(0.0, 1.0)
    } else {
        0.0
    };
    let (ex, ey) = (a[0] + t * dx - p[0], a[1] + t * dy - p[1]);
    (ex * ex + ey * ey).sqrt()
}

/// Vertex importances of all arcs of a topology, with the ring-collapse guard
/// applied: an arc that forms a whole ring keeps its two most important
/// interior vertices, and an arc in a two-arc ring keeps its most important
/// one, so every simplified ring keeps at least 3 distinct vertices.
pub fn arc_importance(topo: &Topology) -> Vec<Vec<f64>> {
    let mut all: Vec<Vec<f64>> = topo
        .arcs
        .iter()
        .map(|arc| {
            let pts: Vec<[f64; 2]> = arc.iter().map(|&v| topo.vertices[v as usize]).collect();
            dp_importance(&pts)
        })
        .collect();
    let mut forced = vec![0u8; topo.arcs.len()];
    for ring in &topo.rings {
        let need = match ring.len() {
            1 => 2,
            2 => 1,
            _ => 0,
        };
        for r in ring {
            let f = &mut forced[r.arc as usize];
            *f = (*f).max(need);
        }
    }
    for (imp, need) in all.iter_mut().zip(forced) {
        for _ in 0..need {
            let interior = imp.len().saturating_sub(1);
            let best = (1..interior)
                .filter(|&i| imp[i].is_finite())
                .max_by(|&i, &j| imp[i].total_cmp(&imp[j]).then(j.cmp(&i)));
            if let Some(i) = best {
                imp[i] = f64::INFINITY;
            }
        }
    }
    all
}

/// Smallest finite interior importance of an arc (`INFINITY` if none):
/// the arc loses vertices exactly at tolerances `>=` this.
pub fn min_interior(imp: &[f64]) -> f64 {
    imp.iter()
        .copied()
        .filter(|v| v.is_finite())
        .fold(f64::INFINITY, f64::min)
}

/// Simplification tolerance in Web Mercator metres for zoom `z`: `px` pixels
/// of a 256-pixel tile (16 units of a 4096-extent tile per pixel).
pub fn zoom_tolerance(z: u8, px: f64) -> f64 {
    px * tile_width(z) / 256.0
}

/// The tolerances in force at one zoom: a base tolerance plus reduced ones for
/// arcs of polygons that became invalid when simplified at the base tolerance.
#[derive(Debug, Clone, Default)]
pub struct ZoomArcs {
    /// Base tolerance, metres.
    pub tol: f64,
    /// Arcs simplified less than `tol`.
    pub overrides: HashMap<u32, f64>,
}

impl ZoomArcs {
    /// Tolerance for one arc.
    pub fn tolerance(&self, arc: u32) -> f64 {
        self.overrides.get(&arc).copied().unwrap_or(self.tol)
    }

    /// Next, smaller tolerance to try for an arc currently at `t`.
    fn reduce(&self, t: f64) -> f64 {
        let next = t / 4.0;
        if t <= 0.0 || next < self.tol / 64.0 {
            KEEP_ALL
        } else {
            next
        }
    }
}

/// Settles the tolerances of one zoom: every polygon that loses vertices is
/// checked with `valid`; for an invalid one, the tolerance of all its arcs is
/// reduced (÷4, ÷16, ÷64, then no simplification) and it and every polygon sharing
/// those arcs are checked again. Deterministic (polygons are processed in id
/// order); a polygon still invalid with all its arcs unsimplified was invalid
/// in the input and is left as is.
pub fn resolve_zoom(
    tol: f64,
    poly_arcs: &[Vec<u32>],
    arc_polys: &[Vec<u32>],
    arc_min_importance: &[f64],
    mut valid: impl FnMut(u32, &ZoomArcs) -> bool,
) -> ZoomArcs {
    let mut za = ZoomArcs {
        tol,
        overrides: HashMap::new(),
    };
    let mut queue: BTreeSet<u32> = (0..poly_arcs.len() as u32)
        .filter(|&p| {
            poly_arcs[p as usize]
                .iter()
                .any(|&a| arc_min_importance[a as usize] <= tol)
        })
        .collect();
    while let Some(p) = queue.pop_first() {
        if valid(p, &za) {
            continue;
        }
        for &a in &poly_arcs[p as usize] {
            let t = za.tolerance(a);
            if t == KEEP_ALL || arc_min_importance[a as usize] > t {
                continue;
            }
            za.overrides.insert(a, za.reduce(t));
            queue.extend(arc_polys[a as usize].iter().copied());
        }
    }
    za
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::topology::TopologyBuilder;

    fn kept(pts: &[[f64; 2]], imp: &[f64], tol: f64) -> Vec<[f64; 2]> {
        pts.iter()
            .zip(imp)
            .filter(|(_, &w)| w > tol)
            .map(|(p, _)| *p)
            .collect()
    }

    /// Plain recursive Douglas–Peucker as a reference.
    fn reference_dp(pts: &[[f64; 2]], tol: f64) -> Vec<[f64; 2]> {
        fn rec(pts: &[[f64; 2]], a: usize, b: usize, tol: f64, keep: &mut Vec<bool>) {
            if b <= a + 1 {
                return;
            }
            let (mut best, mut bd) = (a + 1, -1.0);
            for i in a + 1..b {
                let d = segment_distance(pts[i], pts[a], pts[b]);
                if d > bd {
                    best = i;
                    bd = d;
                }
            }
            if bd > tol {
                keep[best] = true;
                rec(pts, a, best, tol, keep);
                rec(pts, best, b, tol, keep);
            }
        }
        let mut keep = vec![false; pts.len()];
        keep[0] = true;
        keep[pts.len() - 1] = true;
        rec(pts, 0, pts.len() - 1, tol, &mut keep);
        pts.iter()
            .zip(keep)
            .filter(|(_, k)| *k)
            .map(|(p, _)| *p)
            .collect()
    }

    fn wiggle(n: usize) -> Vec<[f64; 2]> {
        (0..n)
            .map(|i| {
                let x = i as f64;
                [
                    x,
                    (x * 0.7).sin() * 3.0
                        + (x * 0.13).cos() * 10.0
                        + ((i * 7919) % 13) as f64 * 0.1,
                ]
            })
            .collect()
    }

    #[test]
    fn importance_filter_equals_douglas_peucker() {
        let pts = wiggle(300);
        let imp = dp_importance(&pts);
        for tol in [0.0, 0.05, 0.3, 1.0, 2.5, 7.0, 100.0] {
            assert_eq!(kept(&pts, &imp, tol), reference_dp(&pts, tol), "tol {tol}");
        }
        assert!(imp[0].is_infinite() && imp[299].is_infinite());
    }

    #[test]
    fn closed_arc_keeps_three_points() {
        let circle: Vec<[f64; 2]> = (0..=64)
            .map(|i| {
                let a = (i % 64) as f64 / 64.0 * std::f64::consts::TAU;
                [a.cos(), a.sin()]
            })
            .collect();
        let mut b = TopologyBuilder::new();
        b.add_ring(&circle).unwrap();
        let t = b.build();
        let imp = arc_importance(&t);
        let arc = &t.arcs[0];
        let kept: Vec<u32> = (0..arc.len())
            .filter(|&i| imp[0][i] > 1e9)
            .map(|i| arc[i])
            .collect();
        // start, the farthest point, one more, and the closing start again
        assert_eq!(kept.len(), 4);
        let mut distinct = kept.clone();
        distinct.sort();
        distinct.dedup();
        assert_eq!(distinct.len(), 3);
    }

    #[test]
    fn two_arc_ring_keeps_three_points() {
        // Two half-discs sharing a straight diameter: each ring has 2 arcs.
        let half = |sign: f64| -> Vec<[f64; 2]> {
            let mut h: Vec<[f64; 2]> = (0..32)
                .map(|i| {
                    let a = i as f64 / 32.0 * std::f64::consts::PI;
                    [a.cos(), sign * a.sin()]
                })
                .collect();
            h.push([-1.0, 0.0]);
            h
        };
        let mut b = TopologyBuilder::new();
        b.add_ring(&half(1.0)).unwrap();
        b.add_ring(&half(-1.0)).unwrap();
        let t = b.build();
        let imp = arc_importance(&t);
        for ring in &t.rings {
            assert_eq!(ring.len(), 2);
            let v = t.ring_vertices(ring, |a, i| imp[a as usize][i] > 1e9);
            assert!(v.len() >= 3, "{v:?}");
        }
    }

    #[test]
    fn resolve_reduces_tolerance_until_valid() {
        // Fake layer: polygon 0 uses arcs 0,1; polygon 1 uses arc 1,2.
        let poly_arcs = vec![vec![0, 1], vec![1, 2]];
        let arc_polys = vec![vec![0], vec![0, 1], vec![1]];
        let min_imp = vec![0.01, 0.01, 10.0];
        // Polygon 0 is valid only once arc 1 is simplified at <= 0.1.
        let mut checks = Vec::new();
        let za = resolve_zoom(1.0, &poly_arcs, &arc_polys, &min_imp, |p, za| {
            checks.push(p);
            p != 0 || za.tolerance(1) <= 0.1
        });
        assert_eq!(za.tolerance(1), 1.0 / 16.0);
        assert_eq!(za.tolerance(2), 1.0);
        assert!(checks.contains(&1), "neighbour rechecked");
        // Never valid: ends with everything kept, and terminates.
        let za = resolve_zoom(1.0, &poly_arcs, &arc_polys, &min_imp, |p, _| p != 0);
        assert_eq!(za.tolerance(0), KEEP_ALL);
        assert_eq!(za.tolerance(1), KEEP_ALL);
        assert_eq!(zoom_tolerance(0, 1.0), tile_width(0) / 256.0);
    }
}
