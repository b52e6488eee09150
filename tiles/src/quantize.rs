//! Rounding to integer tile coordinates, ring cleaning, the drop rule and the
//! validity repair.
//!
//! Shared borders stay identical after rounding because both neighbours round
//! the same vertex sequence with the same function.
//!
//! **Drop rule.** After rounding, repeated vertices and vertices on a straight
//! line between their neighbours (including zero-width spikes) are removed.
//! A ring whose area is then below 1 square tile unit (`|2·area| < 2`) is
//! dropped: an exterior with its holes, a hole alone. A hole and the island
//! filling it are the same arc, so they are dropped or kept together; other
//! neighbours are not changed, so a dropped sliver leaves a gap smaller than
//! one tile unit (1/16 of a pixel of a 256-px tile), which no renderer shows.
//!
//! **Repair.** A rounded polygon that is not valid (see [`crate::valid`]) —
//! e.g. a ring whose edges cross after rounding, a pinch, or the zero-width
//! bridges left by clipping a concave ring — is rebuilt with geo's
//! boolean union (positive fill rule, so the consistently wound area is
//! kept; the rule is given explicitly, never guessed from a ring's winding), re-rounded and re-cleaned; any resulting part still invalid is
//! dropped. The repair is deterministic and only touches polygons that need
//! it.

use crate::valid::{conflicting_parts, is_valid_polygon, point_in_ring, Side};
use geo::algorithm::bool_ops::{BooleanOps, FillRule, OpType};
use geo_types::{LineString, MultiPolygon, Polygon};
use std::collections::HashMap;

/// A point in tile coordinates (x right, y down).
pub type TilePoint = [i32; 2];

/// A polygon in tile coordinates: exterior ring first, then holes; rings are
/// open (no repeated closing vertex). Exterior rings have positive area by
/// the surveyor's formula in tile coordinates (clockwise on screen), holes
/// negative, as MVT 2.1 requires.
pub type TilePolygon = Vec<Vec<TilePoint>>;

/// Twice the rings's area needed to keep it: area >= 1 square tile unit.
pub const MIN_AREA2: i64 = 2;

/// Rounds a ring to integer tile coordinates (half away from zero).
pub fn round_ring(ring: &[[f64; 2]]) -> Vec<TilePoint> {
    ring.iter()
        .map(|p| [p[0].round() as i32, p[1].round() as i32])
        .collect()
}

/// Twice the signed area (surveyor's formula); positive is clockwise on
/// screen with y pointing down.
pub fn area2(ring: &[TilePoint]) -> i64 {
    let n = ring.len();
    (0..n)
        .map(|i| {
            let (a, b) = (ring[i], ring[(i + 1) % n]);
            i64::from(a[0]) * i64::from(b[1]) - i64::from(b[0]) * i64::from(a[1])
        })
        .sum()
}

fn collinear(a: TilePoint, b: TilePoint, c: TilePoint) -> bool {
    let cross = i64::from(b[0] - a[0]) * i64::from(c[1] - a[1])
        - i64::from(b[1] - a[1]) * i64::from(c[0] - a[0]);
    cross == 0
}

/// Removes repeated vertices and vertices collinear with their neighbours
/// (straight-through points and zero-width spikes), cyclically. Removing
/// them does not change the enclosed area.
pub fn clean_ring(ring: &[TilePoint]) -> Vec<TilePoint> {
    let mut out: Vec<TilePoint> = Vec::with_capacity(ring.len());
    for &p in ring {
        if out.last() == Some(&p) {
            continue;
        }
        while out.len() >= 2 && collinear(out[out.len() - 2], out[out.len() - 1], p) {
            out.pop();
        }
        if out.last() != Some(&p) {
            out.push(p);
        }
    }
    // The seam between the end and the start.
    while out.len() >= 3 {
        let n = out.len();
        if out[0] == out[n - 1] || collinear(out[n - 2], out[n - 1], out[0]) {
            out.pop();
        } else if collinear(out[n - 1], out[0], out[1]) {
            out.remove(0);
        } else {
            break;
        }
    }
    if out.len() < 3 {
        out.clear();
    }
    out
}

fn to_f64(ring: &[TilePoint]) -> Vec<[f64; 2]> {
    ring.iter()
        .map(|p| [f64::from(p[0]), f64::from(p[1])])
        .collect()
}

/// The rings of a tile polygon in floating point, as [`crate::valid`] takes them.
pub fn polygon_to_f64(poly: &TilePolygon) -> Vec<Vec<[f64; 2]>> {
    poly.iter().map(|r| to_f64(r)).collect()
}

/// A tile polygon as a `geo` polygon (closed rings), for boolean operations
/// and areas.
pub fn polygon_to_geo(poly: &TilePolygon) -> Polygon<f64> {
    let ring = |r: &Vec<TilePoint>| {
        LineString::from(
            r.iter()
                .map(|p| (f64::from(p[0]), f64::from(p[1])))
                .collect::<Vec<_>>(),
        )
    };
    Polygon::new(ring(&poly[0]), poly[1..].iter().map(ring).collect())
}

/// Cleans, applies the drop rule and orients one polygon's rings.
fn tidy(exterior: &[TilePoint], holes: &[Vec<TilePoint>]) -> Option<TilePolygon> {
    let mut ext = clean_ring(exterior);
    let a = area2(&ext);
    if a.abs() < MIN_AREA2 {
        return None;
    }
    if a < 0 {
        ext.reverse();
    }
    let mut poly = vec![ext];
    for h in holes {
        let mut h = clean_ring(h);
        let a = area2(&h);
        if a.abs() < MIN_AREA2 {
            continue;
        }
        if a > 0 {
            h.reverse();
        }
        poly.push(h);
    }
    Some(poly)
}

/// Turns rounded rings of one polygon into zero or more valid, oriented
/// tile polygons, applying the drop rule and repair described in the module
/// documentation.
pub fn finish_polygon(exterior: &[TilePoint], holes: &[Vec<TilePoint>]) -> Vec<TilePolygon> {
    let Some(poly) = tidy(exterior, holes) else {
        return Vec::new();
    };
    if is_valid_polygon(&polygon_to_f64(&poly)) {
        return vec![poly];
    }
    repair(&[poly])
}

/// Makes the polygons of one feature in one tile a valid multipolygon: each
/// is already valid (from [`finish_polygon`]), but two islands simplified
/// and rounded separately may cross, share an edge or nest. Only then are
/// the conflicting parts merged by [`repair`]; the others are kept as they
/// are.
pub fn finish_feature(parts: Vec<TilePolygon>) -> Vec<TilePolygon> {
    if parts.len() < 2 {
        return parts;
    }
    let as_f64: Vec<Vec<Vec<[f64; 2]>>> = parts.iter().map(polygon_to_f64).collect();
    let bad = conflicting_parts(&as_f64);
    if bad.is_empty() {
        return parts;
    }
    let mut keep = Vec::with_capacity(parts.len());
    let mut merge = Vec::with_capacity(bad.len());
    for (i, p) in parts.into_iter().enumerate() {
        if bad.binary_search(&i).is_ok() {
            merge.push(p);
        } else {
            keep.push(p);
        }
    }
    keep.extend(repair(&merge));
    keep
}

/// Rebuilds oriented polygons with the boolean union under the *positive*
/// fill rule (a point is inside where the rings wind positively around it),
/// then re-rounds and re-tidies; parts still invalid are dropped.
///
/// The fill rule is given explicitly: geo's `unary_union` guesses it from the
/// winding of the first ring, which is wrong for the rings Sutherland–Hodgman
/// clipping leaves when a polygon wraps a tile corner (a vertex visited twice
/// and edges retraced along the clip border), and then returns nothing, so
/// a district covering most of a tile vanished from it.
///
/// Rounding the crossing points the union creates can make a part cross
/// itself again; such parts go through the union once more, up to
/// [`REPAIR_PASSES`] times, before being given up.
fn repair(polys: &[TilePolygon]) -> Vec<TilePolygon> {
    repair_pass(polys, 1)
}

/// Union passes tried before a part that is still invalid is dropped.
const REPAIR_PASSES: u32 = 4;

fn repair_pass(polys: &[TilePolygon], pass: u32) -> Vec<TilePolygon> {
    let subject = MultiPolygon(polys.iter().map(polygon_to_geo).collect());
    let repaired = subject.boolean_op_with_fill_rule(
        &MultiPolygon::<f64>(Vec::new()),
        OpType::Union,
        FillRule::Positive,
    );
    let open = |l: &LineString<f64>| -> Vec<TilePoint> {
        let c: Vec<[f64; 2]> = l.coords().map(|c| [c.x, c.y]).collect();
        round_ring(&c[..c.len().saturating_sub(1)])
    };
    let mut out = Vec::new();
    let mut again = Vec::new();
    for p in &repaired {
        // The union may return a ring touching itself at a vertex (two
        // islands meeting at a point, or a bay closing into a lake), which
        // OGC forbids: cut such rings into simple loops, a loop wound like
        // the exterior being a shell and one wound the other way a hole.
        let ext = open(p.exterior());
        let sign = area2(&ext).signum();
        let (mut shells, mut holes) = (Vec::new(), Vec::new());
        for ring in std::iter::once(ext).chain(p.interiors().iter().map(open)) {
            for r in split_at_pinches(&ring) {
                if area2(&r).signum() == sign {
                    shells.push(r);
                } else {
                    holes.push(r);
                }
            }
        }
        let mut holes_of: Vec<Vec<Vec<TilePoint>>> = vec![Vec::new(); shells.len()];
        for h in holes {
            let probe = to_f64(&h);
            let owner = shells.iter().position(|s| {
                let s = to_f64(s);
                probe
                    .iter()
                    .map(|q| point_in_ring(*q, &s))
                    .find(|side| *side != Side::Boundary)
                    == Some(Side::Inside)
            });
            if let Some(i) = owner {
                holes_of[i].push(h);
            }
        }
        for (shell, holes) in shells.iter().zip(&holes_of) {
            if let Some(t) = tidy(shell, holes) {
                if is_valid_polygon(&polygon_to_f64(&t)) {
                    out.push(t);
                } else {
                    again.push(t);
                }
            }
        }
    }
    if !again.is_empty() && pass < REPAIR_PASSES {
        out.extend(repair_pass(&again, pass + 1));
    }
    out
}

/// Cuts a ring that passes through some vertex more than once into loops
/// that each pass through every vertex once.
fn split_at_pinches(ring: &[TilePoint]) -> Vec<Vec<TilePoint>> {
    let mut loops = Vec::new();
    let mut path: Vec<TilePoint> = Vec::with_capacity(ring.len());
    let mut at: HashMap<TilePoint, usize> = HashMap::new();
    for &p in ring {
        if let Some(&i) = at.get(&p) {
            let cut: Vec<TilePoint> = path.drain(i..).collect();
            for q in &cut {
                at.remove(q);
            }
            loops.push(cut);
        }
        at.insert(p, path.len());
        path.push(p);
    }
    loops.push(path);
    loops.retain(|r| r.len() >= 3);
    loops
}

#[cfg(test)]
mod tests {
    use super::*;

    fn total_area2(polys: &[TilePolygon]) -> i64 {
        polys.iter().flat_map(|p| p.iter()).map(|r| area2(r)).sum()
    }

    #[test]
    fn rounding_and_area() {
        assert_eq!(
            round_ring(&[[0.5, -0.5], [1.49, 2.51]]),
            vec![[1, -1], [1, 3]]
        );
        // clockwise on screen (y down) is positive
        let cw = vec![[0, 0], [10, 0], [10, 10], [0, 10]];
        assert_eq!(area2(&cw), 200);
    }

    #[test]
    fn clean_removes_duplicates_collinear_and_spikes() {
        let r = vec![
            [0, 0],
            [0, 0],
            [5, 0],
            [10, 0],
            [10, 10],
            [10, 12],
            [10, 10],
            [0, 10],
            [0, 5],
        ];
        assert_eq!(clean_ring(&r), vec![[0, 0], [10, 0], [10, 10], [0, 10]]);
        // collapses to a line
        assert!(clean_ring(&[[0, 0], [5, 5], [10, 10], [5, 5]]).is_empty());
        // seam: start vertex is collinear
        assert_eq!(
            clean_ring(&[[5, 0], [10, 0], [10, 10], [0, 10], [0, 0]]).len(),
            4
        );
    }

    #[test]
    fn orientation_and_drop_rule() {
        let ccw = vec![[0, 0], [0, 10], [10, 10], [10, 0]];
        let hole_cw = vec![[2, 2], [5, 2], [5, 5], [2, 5]];
        let tiny_hole = vec![[7, 7], [8, 7], [7, 8]]; // area 0.5
        let out = finish_polygon(&ccw, &[hole_cw, tiny_hole]);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].len(), 2, "tiny hole dropped");
        assert!(area2(&out[0][0]) > 0 && area2(&out[0][1]) < 0);
        assert_eq!(total_area2(&out), 200 - 18);
        // A unit square (area 1) survives, a half-unit triangle does not.
        assert_eq!(
            finish_polygon(&[[0, 0], [1, 0], [1, 1], [0, 1]], &[]).len(),
            1
        );
        assert!(finish_polygon(&[[0, 0], [1, 0], [0, 1]], &[]).is_empty());
    }

    #[test]
    fn repairs_bridged_clip_output() {
        // Clip output of an upside-down U: two arms joined along y = 0 by a
        // zero-width bridge traversed both ways.
        let ring = vec![
            [0, 10],
            [0, 0],
            [30, 0],
            [30, 10],
            [20, 10],
            [20, 0],
            [10, 0],
            [10, 10],
        ];
        assert!(!is_valid_polygon(&[to_f64(&ring)]));
        let out = finish_polygon(&ring, &[]);
        assert_eq!(out.len(), 2);
        assert_eq!(total_area2(&out), 2 * 200);
        for p in &out {
            assert!(is_valid_polygon(&[to_f64(&p[0])]));
        }
    }

    /// Regression: clipping a polygon that wraps a tile corner visits the
    /// corner twice and retraces the clip border. geo's `unary_union` took the
    /// winding of such a ring for clockwise and returned nothing, so the
    /// whole polygon was dropped from the tile (a district covering 2.5M of
    /// the 16.7M units² of Zhejiang tile 12/3429/1706).
    #[test]
    fn repairs_ring_wrapping_a_corner() {
        let ring = vec![
            [100, 0],
            [100, 60],
            [50, 50],
            [30, 0],
            [0, 0],
            [0, 20],
            [10, 30],
            [0, 40],
            [0, 0],
        ];
        assert_eq!(area2(&ring), 6700);
        let out = finish_polygon(&ring, &[]);
        assert_eq!(out.len(), 2, "{out:?}");
        assert_eq!(total_area2(&out), 6700);
    }

    /// Regression: two islands of one feature, each valid, crossing after
    /// rounding made the MVT feature invalid; the conflicting ones are merged.
    #[test]
    fn merges_colliding_parts_of_a_feature() {
        let a = vec![vec![[0, 0], [10, 0], [10, 10], [0, 10]]];
        let b = vec![vec![[5, 5], [15, 5], [15, 15], [5, 15]]];
        let far = vec![vec![[40, 40], [50, 40], [50, 50], [40, 50]]];
        let out = finish_feature(vec![far.clone(), a, b]);
        assert_eq!(out.len(), 2);
        assert_eq!(out[0], far);
        assert_eq!(area2(&out[1][0]), 2 * 175);
        let rings: Vec<Vec<Vec<[f64; 2]>>> = out.iter().map(polygon_to_f64).collect();
        assert!(conflicting_parts(&rings).is_empty());
    }

    /// Regression: the union of two islands meeting at a point came back as
    /// one ring through that point twice, failed validation and both
    /// islands were dropped (most of Zhejiang's coast at z2–z7).
    #[test]
    fn merged_parts_meeting_at_a_point_stay() {
        let a = vec![vec![[0, 0], [10, 0], [10, 10], [0, 10]]];
        let b = vec![vec![[10, 10], [20, 10], [20, 20], [10, 20]]];
        // Nested in `a` and in `b`: both conflict, and their union is two
        // squares meeting at (10, 10).
        let in_a = vec![vec![[2, 2], [8, 2], [8, 8], [2, 8]]];
        let in_b = vec![vec![[12, 12], [18, 12], [18, 18], [12, 18]]];
        let out = finish_feature(vec![a, b, in_a, in_b]);
        assert_eq!(total_area2(&out), 2 * 200, "{out:?}");
        let rings: Vec<Vec<Vec<[f64; 2]>>> = out.iter().map(polygon_to_f64).collect();
        for p in &rings {
            assert!(is_valid_polygon(p), "{p:?}");
        }
        assert!(conflicting_parts(&rings).is_empty());
        assert_eq!(
            split_at_pinches(&[
                [0, 0],
                [2, 0],
                [2, 2],
                [4, 2],
                [4, 4],
                [2, 4],
                [2, 2],
                [0, 2]
            ])
            .len(),
            2
        );
    }

    #[test]
    fn repairs_pinch() {
        // Ring touching itself at (5,5): two squares joined at a corner.
        let ring = vec![
            [0, 0],
            [5, 0],
            [5, 5],
            [10, 5],
            [10, 10],
            [5, 10],
            [5, 5],
            [0, 5],
        ];
        let out = finish_polygon(&ring, &[]);
        assert!(!out.is_empty());
        assert_eq!(total_area2(&out), 100);
        for p in &out {
            assert!(is_valid_polygon(&polygon_to_f64(p)));
        }
    }
}
