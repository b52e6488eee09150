//! Splitting a grid in two along a line.

use geo::line_intersection::{line_intersection, LineIntersection};
use geo_types::{Coord, Line, LineString, MultiPolygon, Polygon};

use super::ring::{arc, close, locate, locate_ring, open, orient, param, rings, same};
use super::ring::{segment_distance, signed_area2, Position};
use super::{boundary_hit, BoundaryHit, OnBoundary, ShapeError, VERTEX_TOLERANCE};

/// The two pieces of a split grid.
#[derive(Debug, Clone, PartialEq)]
pub struct Split {
    /// The piece left of the line, looking along it from its first point.
    pub left: MultiPolygon<f64>,
    /// The piece right of the line.
    pub right: MultiPolygon<f64>,
    /// The crossing points that are new vertices, as `(a, b, x)`: `x` was put
    /// on the stored segment `a → b`. Apply them in order with
    /// [`insert_vertex`](super::insert_vertex) to every neighbour (when both
    /// crossings fall on one segment the second is reported on the half the
    /// first one left).
    pub inserted: Vec<(Coord<f64>, Coord<f64>, Coord<f64>)>,
}

/// `(a, b, x)`: `x` put on the segment `a → b`.
type Insertion = (Coord<f64>, Coord<f64>, Coord<f64>);

/// One crossing of the line with a ring.
#[derive(Debug, Clone, Copy)]
struct Crossing {
    part: usize,
    ring: usize,
    /// The ring vertex it is, or the segment (index of its first vertex) it is on.
    vertex: bool,
    index: usize,
    x: Coord<f64>,
    /// Position along the line: segment `k`, fraction `u` of it.
    k: usize,
    u: f64,
}

/// Splits a grid in two along `line`.
///
/// The line must enter and leave the exterior ring of exactly one part of
/// `geom` once each, and touch no hole and no other part. Its first and last
/// points lie outside the grid or on its boundary; an end on the boundary
/// (see [`on_boundary`](super::on_boundary)) is a crossing point itself: the
/// stored vertex when it is one, else the end point as given, put on the
/// segment. Elsewhere the line must cross segments properly (the crossing
/// point is computed in `f64`), not pass through a vertex or run along the
/// boundary.
///
/// The cut (the crossing points and the line's vertices between them) is
/// shared by both pieces bit for bit; the pieces' exterior rings keep the
/// original ring's vertices and direction. `left` is the piece left of the
/// line (looking along it from its first point), `right` the other. A hole of
/// the split part goes to the piece that contains it. Every other part goes to
/// the side of the line its exterior's first vertex lies on, relative to the
/// segment of the whole line (not only the cut) nearest that vertex, extended
/// to a full line (a vertex on that line is skipped for the next one).
///
/// # Errors
///
/// When the line is too short or not finite, does not cross the grid,
/// crosses a hole or several parts, crosses the exterior other than twice,
/// starts or ends inside, runs outside between its crossings, crosses itself,
/// or touches the boundary without crossing it (see [`ShapeError`]).
///
/// ```
/// use geo_types::{coord, polygon, MultiPolygon};
/// use gridmap_data::edit::shape::split;
///
/// let square = MultiPolygon::new(vec![polygon![
///     (x: 0.0, y: 0.0), (x: 2.0, y: 0.0), (x: 2.0, y: 2.0), (x: 0.0, y: 2.0)
/// ]]);
/// // Northwards through the middle: left is the west half.
/// let line = [coord! { x: 1.0, y: -1.0 }, coord! { x: 1.0, y: 3.0 }];
/// let pieces = split(&square, &line).unwrap();
/// assert!(pieces.left.0[0].exterior().0.contains(&coord! { x: 0.0, y: 2.0 }));
/// assert!(pieces.right.0[0].exterior().0.contains(&coord! { x: 2.0, y: 2.0 }));
/// let (a, b, x) = pieces.inserted[0];
/// assert_eq!((a, b, x), (coord! { x: 0.0, y: 0.0 }, coord! { x: 2.0, y: 0.0 }, coord! { x: 1.0, y: 0.0 }));
/// ```
pub fn split(geom: &MultiPolygon<f64>, line: &[Coord<f64>]) -> Result<Split, ShapeError> {
    let mut line = line.to_vec();
    line.dedup();
    let m = line.len();
    if m < 2 {
        return Err(ShapeError::LineTooShort);
    }
    if line.iter().any(|c| !c.x.is_finite() || !c.y.is_finite()) {
        return Err(ShapeError::NotFinite);
    }
    let start_hit = boundary_hit(geom, line[0]);
    let end_hit = boundary_hit(geom, line[m - 1]);
    let mut crossings = find_crossings(geom, &line, start_hit.is_some(), end_hit.is_some())?;
    if let Some(hit) = start_hit {
        crossings.push(end_crossing(hit, line[0], 0, 0.0));
    }
    if let Some(hit) = end_hit {
        crossings.push(end_crossing(hit, line[m - 1], m - 2, 1.0));
    }
    if crossings.iter().any(|c| c.ring > 0) {
        return Err(ShapeError::CrossesHole);
    }
    let Some(part) = crossings.first().map(|c| c.part) else {
        return Err(ShapeError::NotCrossing);
    };
    if crossings.iter().any(|c| c.part != part) {
        return Err(ShapeError::CrossesSeveralParts);
    }
    let poly = &geom.0[part];
    let v = open(poly.exterior());
    if start_hit.is_none() && locate(line[0], v) == Position::Inside {
        return Err(ShapeError::StartsInside);
    }
    if end_hit.is_none() && locate(line[m - 1], v) == Position::Inside {
        return Err(ShapeError::EndsInside);
    }
    if crossings.len() != 2 {
        return Err(ShapeError::CrossingCount(crossings.len()));
    }
    crossings.sort_by(|c, d| c.k.cmp(&d.k).then(c.u.total_cmp(&d.u)));
    let (c1, c2) = (crossings[0], crossings[1]);
    if same(c1.x, c2.x) {
        return Err(touches(c1.x));
    }
    let mut cut = vec![c1.x];
    cut.extend_from_slice(&line[c1.k + 1..=c2.k]);
    cut.push(c2.x);
    let mid = (cut[0] + cut[1]) / 2.0;
    if locate(mid, v) != Position::Inside {
        return Err(ShapeError::CutOutside);
    }
    if self_intersects(&cut) {
        return Err(ShapeError::SelfIntersecting);
    }

    let WithCrossings {
        ring: w,
        at: [i1, i2],
        inserted,
    } = put_in(v, [c1, c2])?;
    let inner = &cut[1..cut.len() - 1];
    let len = w.len();
    // `b` runs the boundary from the second crossing to the first, then the cut
    // forwards; `a` the boundary from the first to the second, then the cut back.
    let mut ring_b: Vec<Coord<f64>> = arc(len, i2, i1).map(|k| w[k]).collect();
    ring_b.extend_from_slice(inner);
    let mut ring_a: Vec<Coord<f64>> = arc(len, i1, i2).map(|k| w[k]).collect();
    ring_a.extend(inner.iter().rev());

    let mut holes_a = Vec::new();
    let mut holes_b = Vec::new();
    for hole in poly.interiors() {
        if locate_ring(open(hole), &ring_a) == Position::Inside {
            holes_a.push(hole.clone());
        } else {
            holes_b.push(hole.clone());
        }
    }
    let piece_a = Polygon::new(close(ring_a), holes_a);
    let piece_b = Polygon::new(close(ring_b), holes_b);
    // A piece's ring keeps the original direction; `b` follows the cut
    // forwards, so it has the interior on the left exactly when the ring is
    // counter-clockwise.
    let (left_piece, right_piece) = if signed_area2(v) > 0.0 {
        (piece_b, piece_a)
    } else {
        (piece_a, piece_b)
    };

    let mut left = Vec::new();
    let mut right = Vec::new();
    for (pi, other) in geom.0.iter().enumerate() {
        if pi == part {
            left.push(left_piece.clone());
            right.push(right_piece.clone());
        } else if is_left(&line, other.exterior()) {
            left.push(other.clone());
        } else {
            right.push(other.clone());
        }
    }
    Ok(Split {
        left: MultiPolygon::new(left),
        right: MultiPolygon::new(right),
        inserted,
    })
}

/// How line segment `seg` meets the ring segment `a → b`: `Some` proper
/// crossing point, `None` when they do not meet (or only where an end of the
/// line on the boundary is `excused`), an error for any other contact.
fn meeting(
    seg: Line<f64>,
    a: Coord<f64>,
    b: Coord<f64>,
    excused: impl Fn(Coord<f64>) -> bool,
) -> Result<Option<Coord<f64>>, ShapeError> {
    match line_intersection(seg, Line::new(a, b)) {
        None => Ok(None),
        Some(LineIntersection::SinglePoint {
            intersection: x,
            is_proper,
        }) => {
            if excused(x) {
                Ok(None)
            } else if is_proper && !same(x, a) && !same(x, b) {
                Ok(Some(x))
            } else {
                Err(touches(x))
            }
        }
        Some(LineIntersection::Collinear { intersection: l }) => {
            if excused(l.start) && excused(l.end) {
                Ok(None)
            } else {
                Err(touches(l.start))
            }
        }
    }
}

/// The proper crossings of the line with every ring (its ends on the boundary,
/// `start_on` / `end_on`, are not among them), or the first contact that is not
/// a clean crossing.
fn find_crossings(
    geom: &MultiPolygon<f64>,
    line: &[Coord<f64>],
    start_on: bool,
    end_on: bool,
) -> Result<Vec<Crossing>, ShapeError> {
    let m = line.len();
    // Contacts this close to an end on the boundary belong to that end.
    let excused = |k: usize, x: Coord<f64>| {
        let near = |c: Coord<f64>| {
            (c.x - x.x).abs() <= 4.0 * VERTEX_TOLERANCE
                && (c.y - x.y).abs() <= 4.0 * VERTEX_TOLERANCE
        };
        (start_on && k == 0 && near(line[0])) || (end_on && k == m - 2 && near(line[m - 1]))
    };
    let segments: Vec<Line<f64>> = line.windows(2).map(|w| Line::new(w[0], w[1])).collect();
    let bbox = bounds(line);
    let mut crossings = Vec::new();
    for (part, poly) in geom.0.iter().enumerate() {
        for (ring, ls) in rings(poly).enumerate() {
            let v = open(ls);
            let n = v.len();
            for index in 0..n {
                let (a, b) = (v[index], v[(index + 1) % n]);
                if a == b || !overlaps(bbox, bounds(&[a, b])) {
                    continue;
                }
                for (k, &seg) in segments.iter().enumerate() {
                    if let Some(x) = meeting(seg, a, b, |x| excused(k, x))? {
                        let u = param(seg.start, seg.end, x);
                        let vertex = false;
                        crossings.push(Crossing {
                            part,
                            ring,
                            vertex,
                            index,
                            x,
                            k,
                            u,
                        });
                    }
                }
            }
        }
    }
    Ok(crossings)
}

/// An exterior ring with the crossing points put in.
struct WithCrossings {
    /// The open ring.
    ring: Vec<Coord<f64>>,
    /// Where the two crossing points are in it.
    at: [usize; 2],
    inserted: Vec<Insertion>,
}

/// The open ring `v` with the two crossing points put in (in order along
/// their segments), where they are in it, and the insertions made.
fn put_in(v: &[Coord<f64>], crossing: [Crossing; 2]) -> Result<WithCrossings, ShapeError> {
    let n = v.len();
    let mut w = Vec::with_capacity(n + 2);
    let mut at = [0; 2];
    let mut inserted = Vec::new();
    for (i, &vi) in v.iter().enumerate() {
        for (slot, c) in crossing.iter().enumerate() {
            if c.vertex && c.index == i {
                if v.iter().filter(|&&o| o == vi).count() > 1 {
                    // A vertex the ring passes twice: which side is ambiguous.
                    return Err(touches(vi));
                }
                at[slot] = w.len();
            }
        }
        w.push(vi);
        let next = v[(i + 1) % n];
        let mut on: Vec<(f64, usize)> = crossing
            .iter()
            .enumerate()
            .filter(|(_, c)| !c.vertex && c.index == i)
            .map(|(slot, c)| (param(vi, next, c.x), slot))
            .collect();
        on.sort_by(|a, b| a.0.total_cmp(&b.0));
        for (_, slot) in on {
            inserted.push((w[w.len() - 1], next, crossing[slot].x));
            at[slot] = w.len();
            w.push(crossing[slot].x);
        }
    }
    Ok(WithCrossings {
        ring: w,
        at,
        inserted,
    })
}

fn end_crossing(hit: BoundaryHit, p: Coord<f64>, k: usize, u: f64) -> Crossing {
    let (vertex, x) = match hit.on {
        OnBoundary::Vertex(c) => (true, c),
        OnBoundary::Segment { .. } => (false, p),
    };
    Crossing {
        part: hit.part,
        ring: hit.ring,
        vertex,
        index: hit.index,
        x,
        k,
        u,
    }
}

fn touches(x: Coord<f64>) -> ShapeError {
    ShapeError::TouchesBoundary { x: x.x, y: x.y }
}

type Bounds = (f64, f64, f64, f64);

fn bounds(pts: &[Coord<f64>]) -> Bounds {
    pts.iter().fold(
        (
            f64::INFINITY,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NEG_INFINITY,
        ),
        |(x0, y0, x1, y1), c| (x0.min(c.x), y0.min(c.y), x1.max(c.x), y1.max(c.y)),
    )
}

fn overlaps(a: Bounds, b: Bounds) -> bool {
    a.0 <= b.2 && b.0 <= a.2 && a.1 <= b.3 && b.1 <= a.3
}

/// Whether the polyline crosses or overlaps itself (adjacent segments may
/// only share their common point).
fn self_intersects(pts: &[Coord<f64>]) -> bool {
    let segs: Vec<Line<f64>> = pts.windows(2).map(|w| Line::new(w[0], w[1])).collect();
    for i in 0..segs.len() {
        for j in i + 1..segs.len() {
            match line_intersection(segs[i], segs[j]) {
                None => {}
                Some(LineIntersection::SinglePoint { .. }) if j == i + 1 => {}
                Some(_) => return true,
            }
        }
    }
    false
}

/// Whether a part lies left of the line: the side of its first vertex off the
/// line, relative to the line's segment nearest that vertex, extended.
fn is_left(line: &[Coord<f64>], exterior: &LineString<f64>) -> bool {
    for &p in open(exterior) {
        let seg = line
            .windows(2)
            .min_by(|s, t| {
                segment_distance(p, s[0], s[1]).total_cmp(&segment_distance(p, t[0], t[1]))
            })
            .expect("a line has a segment");
        let o = orient(seg[0], seg[1], p);
        if o != 0.0 {
            return o > 0.0;
        }
    }
    true
}
