//! Small exact helpers on rings as coordinate lists.

use geo_types::{Coord, LineString, Polygon};

use super::VERTEX_TOLERANCE;

/// A coordinate as a hashable key: its exact bits (with -0.0 folded into 0.0,
/// as `==` does).
pub(super) type Key = (u64, u64);

pub(super) fn key(c: Coord<f64>) -> Key {
    ((c.x + 0.0).to_bits(), (c.y + 0.0).to_bits())
}

/// The same vertex within [`VERTEX_TOLERANCE`] in both coordinates.
pub(super) fn same(a: Coord<f64>, b: Coord<f64>) -> bool {
    (a.x - b.x).abs() <= VERTEX_TOLERANCE && (a.y - b.y).abs() <= VERTEX_TOLERANCE
}

/// The ring's vertices without the closing repeat of the first.
pub(super) fn open(ring: &LineString<f64>) -> &[Coord<f64>] {
    let c = &ring.0;
    match (c.first(), c.last()) {
        (Some(f), Some(l)) if c.len() > 1 && f == l => &c[..c.len() - 1],
        _ => c,
    }
}

/// Closes an open vertex list into a ring.
pub(super) fn close(mut v: Vec<Coord<f64>>) -> LineString<f64> {
    if let Some(&first) = v.first() {
        v.push(first);
    }
    LineString::new(v)
}

/// The exterior ring, then the holes.
pub(super) fn rings(poly: &Polygon<f64>) -> impl Iterator<Item = &LineString<f64>> {
    std::iter::once(poly.exterior()).chain(poly.interiors())
}

/// Twice the signed area of an open ring (positive when counter-clockwise).
pub(super) fn signed_area2(v: &[Coord<f64>]) -> f64 {
    let n = v.len();
    (0..n)
        .map(|i| {
            let (a, b) = (v[i], v[(i + 1) % n]);
            a.x * b.y - b.x * a.y
        })
        .sum()
}

/// Positive when `c` is left of `a → b`, negative when right, 0 when on the
/// line (exact predicate).
pub(super) fn orient(a: Coord<f64>, b: Coord<f64>, c: Coord<f64>) -> f64 {
    robust::orient2d(
        robust::Coord { x: a.x, y: a.y },
        robust::Coord { x: b.x, y: b.y },
        robust::Coord { x: c.x, y: c.y },
    )
}

/// Where a point lies relative to a ring (exact).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Position {
    Inside,
    Outside,
    Boundary,
}

/// Locates `p` against the open ring `v` by its winding number, with exact
/// orientation tests.
pub(super) fn locate(p: Coord<f64>, v: &[Coord<f64>]) -> Position {
    let n = v.len();
    let mut winding = 0i64;
    for i in 0..n {
        let (a, b) = (v[i], v[(i + 1) % n]);
        let o = orient(a, b, p);
        if o == 0.0
            && p.x >= a.x.min(b.x)
            && p.x <= a.x.max(b.x)
            && p.y >= a.y.min(b.y)
            && p.y <= a.y.max(b.y)
        {
            return Position::Boundary;
        }
        if a.y <= p.y {
            if b.y > p.y && o > 0.0 {
                winding += 1;
            }
        } else if b.y <= p.y && o < 0.0 {
            winding -= 1;
        }
    }
    if winding == 0 {
        Position::Outside
    } else {
        Position::Inside
    }
}

/// Where a ring lies relative to another: decided by its first vertex that
/// is not on the other ring's boundary (`Boundary` if all are).
pub(super) fn locate_ring(inner: &[Coord<f64>], outer: &[Coord<f64>]) -> Position {
    inner
        .iter()
        .map(|&c| locate(c, outer))
        .find(|&pos| pos != Position::Boundary)
        .unwrap_or(Position::Boundary)
}

/// Distance from `p` to the segment `a → b` when `p` projects strictly inside
/// it; `None` when it projects onto an end or beyond, or the segment is a point.
pub(super) fn segment_interior_distance(
    p: Coord<f64>,
    a: Coord<f64>,
    b: Coord<f64>,
) -> Option<f64> {
    let d = b - a;
    let len2 = d.x * d.x + d.y * d.y;
    if len2 == 0.0 {
        return None;
    }
    let t = ((p.x - a.x) * d.x + (p.y - a.y) * d.y) / len2;
    if t <= 0.0 || t >= 1.0 {
        return None;
    }
    let proj = a + d * t;
    Some((p.x - proj.x).hypot(p.y - proj.y))
}

/// Distance from `p` to the closed segment `a → b`.
pub(super) fn segment_distance(p: Coord<f64>, a: Coord<f64>, b: Coord<f64>) -> f64 {
    segment_interior_distance(p, a, b).unwrap_or_else(|| {
        (p.x - a.x)
            .hypot(p.y - a.y)
            .min((p.x - b.x).hypot(p.y - b.y))
    })
}

/// Where `x` lies along `a → b`, as a fraction (for ordering points on it).
pub(super) fn param(a: Coord<f64>, b: Coord<f64>, x: Coord<f64>) -> f64 {
    let d = b - a;
    let len2 = d.x * d.x + d.y * d.y;
    if len2 == 0.0 {
        0.0
    } else {
        ((x.x - a.x) * d.x + (x.y - a.y) * d.y) / len2
    }
}

/// The indices `from, from+1, ..., to` round a ring of `n` vertices.
pub(super) fn arc(n: usize, from: usize, to: usize) -> impl Iterator<Item = usize> {
    let len = (to + n - from) % n + 1;
    (0..len).map(move |k| (from + k) % n)
}

/// Number of distinct vertices of an open ring.
pub(super) fn distinct(v: &[Coord<f64>]) -> usize {
    let mut keys: Vec<Key> = v.iter().map(|&c| key(c)).collect();
    keys.sort_unstable();
    keys.dedup();
    keys.len()
}
