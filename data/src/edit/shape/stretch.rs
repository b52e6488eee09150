//! Replacing a stretch of border shared with a neighbour by a new line.

use std::collections::HashSet;

use geo_types::{Coord, MultiPolygon, Polygon};

use super::ring::{arc, close, distinct, key, open, rings, same, Key};
use super::ShapeError;

/// A stretch of one ring: from vertex `i` to vertex `j`, going forwards
/// (increasing indices) or backwards.
#[derive(Debug, Clone, Copy)]
struct Located {
    part: usize,
    ring: usize,
    i: usize,
    j: usize,
    forward: bool,
}

/// The stretch of `geom`'s boundary from `p` to `q` that it shares with
/// `other`, as the vertex sequence from `p` to `q` (as stored in `geom`).
///
/// `p` and `q` must be vertices of one ring of `geom`, exactly as stored (put
/// them there first with [`insert_vertex`](super::insert_vertex) when they lie
/// on segments). A way round the ring from `p` to `q` qualifies when each of its
/// steps is also consecutive, in either direction, in a ring of `other` (exact
/// equality). When both ways qualify (the grids share the whole ring, as an
/// enclave and the grid around it do) the shorter one is chosen.
///
/// The stretch is what [`replace_shared_stretch`] replaces; pass it to
/// [`replace_stretch`] to change the same border in other grids (the parent,
/// other levels).
///
/// # Errors
///
/// [`ShapeError::NotOnOneRing`] when no ring of `geom` has both points as
/// vertices, [`ShapeError::NoSharedStretch`] when neither way round is shared.
///
/// ```
/// use geo_types::{coord, polygon, MultiPolygon};
/// use gridmap_data::edit::shape::shared_stretch;
///
/// let west = MultiPolygon::new(vec![polygon![
///     (x: 0.0, y: 0.0), (x: 1.0, y: 0.0), (x: 1.0, y: 0.5), (x: 1.0, y: 1.0), (x: 0.0, y: 1.0)
/// ]]);
/// let east = MultiPolygon::new(vec![polygon![
///     (x: 1.0, y: 0.0), (x: 2.0, y: 0.0), (x: 2.0, y: 1.0), (x: 1.0, y: 1.0), (x: 1.0, y: 0.5)
/// ]]);
/// let (p, q) = (coord! { x: 1.0, y: 1.0 }, coord! { x: 1.0, y: 0.0 });
/// let stretch = shared_stretch(&west, &east, p, q).unwrap();
/// assert_eq!(stretch, vec![p, coord! { x: 1.0, y: 0.5 }, q]);
/// ```
pub fn shared_stretch(
    geom: &MultiPolygon<f64>,
    other: &MultiPolygon<f64>,
    p: Coord<f64>,
    q: Coord<f64>,
) -> Result<Vec<Coord<f64>>, ShapeError> {
    let at = locate_shared(geom, other, p, q)?;
    let v = open(ring_of(geom, at.part, at.ring));
    Ok(indices(v.len(), at).map(|k| v[k]).collect())
}

/// Replaces the stretch of `geom`'s boundary between `p` and `q` that it
/// shares with `other` (the one [`shared_stretch`] finds) by `line`, which runs
/// from `p` to `q`; it is reversed as needed to follow the ring's direction.
///
/// `line`'s first and last points must be `p` and `q` within
/// [`VERTEX_TOLERANCE`](super::VERTEX_TOLERANCE); the stored `p` and `q` are
/// kept bit for bit, and the line's inner points are copied as given. Apply the
/// same line to `other` (with `other` and `geom` swapped) and the two borders
/// stay bit-identical. The result is not validated beyond refusing a ring left
/// with fewer than three vertices.
///
/// # Errors
///
/// Those of [`shared_stretch`]; [`ShapeError::LineTooShort`],
/// [`ShapeError::StartNotOnBorder`] or [`ShapeError::EndNotOnBorder`] for a
/// bad line; [`ShapeError::Collapsed`] when the ring would keep fewer than
/// three distinct vertices.
///
/// ```
/// use geo_types::{coord, polygon, MultiPolygon};
/// use gridmap_data::edit::shape::replace_shared_stretch;
///
/// let west = MultiPolygon::new(vec![polygon![
///     (x: 0.0, y: 0.0), (x: 1.0, y: 0.0), (x: 1.0, y: 1.0), (x: 0.0, y: 1.0)
/// ]]);
/// let east = MultiPolygon::new(vec![polygon![
///     (x: 1.0, y: 0.0), (x: 2.0, y: 0.0), (x: 2.0, y: 1.0), (x: 1.0, y: 1.0)
/// ]]);
/// let (p, q) = (coord! { x: 1.0, y: 0.0 }, coord! { x: 1.0, y: 1.0 });
/// let bulge = [p, coord! { x: 1.5, y: 0.5 }, q];
/// // Edit both sides from the old pair: they keep sharing the new border.
/// let new_west = replace_shared_stretch(&west, &east, p, q, &bulge).unwrap();
/// let new_east = replace_shared_stretch(&east, &west, p, q, &bulge).unwrap();
/// assert_eq!(new_west.0[0].exterior().0[..3], bulge);
/// assert!(new_east.0[0].exterior().0.contains(&bulge[1]));
/// ```
pub fn replace_shared_stretch(
    geom: &MultiPolygon<f64>,
    other: &MultiPolygon<f64>,
    p: Coord<f64>,
    q: Coord<f64>,
    line: &[Coord<f64>],
) -> Result<MultiPolygon<f64>, ShapeError> {
    let (Some(&first), Some(&last)) = (line.first(), line.last()) else {
        return Err(ShapeError::LineTooShort);
    };
    if line.len() < 2 {
        return Err(ShapeError::LineTooShort);
    }
    if !same(first, p) {
        return Err(ShapeError::StartNotOnBorder);
    }
    if !same(last, q) {
        return Err(ShapeError::EndNotOnBorder);
    }
    let at = locate_shared(geom, other, p, q)?;
    replace_at(geom, at, &line[1..line.len() - 1]).ok_or(ShapeError::Collapsed)
}

/// Replaces the stretch of boundary given as its exact vertex sequence `old`
/// (found in either direction in any ring of `geom`, first match) by `line`
/// (which runs from `old[0]` to `old.last()`; its end points are taken from
/// `old`, bit for bit, and its inner points copied as given). `None` when no
/// ring has `old` as consecutive vertices, or `old` or `line` has fewer than
/// two points. The result is not validated.
///
/// This carries an edit made with [`replace_shared_stretch`] over to the
/// other grids with the same border (the parent, other levels).
///
/// ```
/// use geo_types::{coord, polygon, MultiPolygon};
/// use gridmap_data::edit::shape::replace_stretch;
///
/// let square = MultiPolygon::new(vec![polygon![
///     (x: 0.0, y: 0.0), (x: 1.0, y: 0.0), (x: 1.0, y: 1.0), (x: 0.0, y: 1.0)
/// ]]);
/// let old = [coord! { x: 1.0, y: 1.0 }, coord! { x: 1.0, y: 0.0 }];
/// let line = [old[0], coord! { x: 1.5, y: 0.5 }, old[1]];
/// let edited = replace_stretch(&square, &old, &line).unwrap();
/// assert_eq!(edited.0[0].exterior().0.len(), 6);
/// assert!(replace_stretch(&square, &[old[0], coord! { x: 0.0, y: 0.0 }], &line).is_none());
/// ```
pub fn replace_stretch(
    geom: &MultiPolygon<f64>,
    old: &[Coord<f64>],
    line: &[Coord<f64>],
) -> Option<MultiPolygon<f64>> {
    if old.len() < 2 || line.len() < 2 || old[0] == old[old.len() - 1] {
        return None;
    }
    let at = find_sequence(geom, old)?;
    replace_at(geom, at, &line[1..line.len() - 1])
}

fn ring_of(geom: &MultiPolygon<f64>, part: usize, ring: usize) -> &geo_types::LineString<f64> {
    if ring == 0 {
        geom.0[part].exterior()
    } else {
        &geom.0[part].interiors()[ring - 1]
    }
}

/// The vertex indices of a located stretch, from `i` to `j`.
fn indices(n: usize, at: Located) -> Box<dyn Iterator<Item = usize>> {
    if at.forward {
        Box::new(arc(n, at.i, at.j))
    } else {
        Box::new(arc(n, at.j, at.i).collect::<Vec<_>>().into_iter().rev())
    }
}

fn locate_shared(
    geom: &MultiPolygon<f64>,
    other: &MultiPolygon<f64>,
    p: Coord<f64>,
    q: Coord<f64>,
) -> Result<Located, ShapeError> {
    if p == q {
        return Err(ShapeError::NoSharedStretch);
    }
    let edges: HashSet<(Key, Key)> = other
        .0
        .iter()
        .flat_map(rings)
        .flat_map(|ring| ring.0.windows(2))
        .map(|w| undirected(w[0], w[1]))
        .collect();
    let mut on_one_ring = false;
    let mut best: Option<(f64, Located)> = None;
    for (part, poly) in geom.0.iter().enumerate() {
        for (ring, ls) in rings(poly).enumerate() {
            let v = open(ls);
            let n = v.len();
            let ps: Vec<usize> = (0..n).filter(|&k| v[k] == p).collect();
            let qs: Vec<usize> = (0..n).filter(|&k| v[k] == q).collect();
            if ps.is_empty() || qs.is_empty() {
                continue;
            }
            on_one_ring = true;
            for &i in &ps {
                for &j in &qs {
                    for forward in [true, false] {
                        let at = Located {
                            part,
                            ring,
                            i,
                            j,
                            forward,
                        };
                        let steps: Vec<usize> = indices(n, at).collect();
                        let shared = steps
                            .windows(2)
                            .all(|w| edges.contains(&undirected(v[w[0]], v[w[1]])));
                        if !shared {
                            continue;
                        }
                        let length: f64 = steps
                            .windows(2)
                            .map(|w| (v[w[1]].x - v[w[0]].x).hypot(v[w[1]].y - v[w[0]].y))
                            .sum();
                        if best.as_ref().is_none_or(|(l, _)| length < *l) {
                            best = Some((length, at));
                        }
                    }
                }
            }
        }
    }
    match best {
        Some((_, at)) => Ok(at),
        None if on_one_ring => Err(ShapeError::NoSharedStretch),
        None => Err(ShapeError::NotOnOneRing),
    }
}

fn undirected(a: Coord<f64>, b: Coord<f64>) -> (Key, Key) {
    let (ka, kb) = (key(a), key(b));
    if ka <= kb {
        (ka, kb)
    } else {
        (kb, ka)
    }
}

/// The first ring holding `old` as consecutive vertices, either way round.
fn find_sequence(geom: &MultiPolygon<f64>, old: &[Coord<f64>]) -> Option<Located> {
    let steps = old.len() - 1;
    for (part, poly) in geom.0.iter().enumerate() {
        for (ring, ls) in rings(poly).enumerate() {
            let v = open(ls);
            let n = v.len();
            if n == 0 || steps >= n {
                continue;
            }
            for i in (0..n).filter(|&k| v[k] == old[0]) {
                if old.iter().enumerate().all(|(t, &c)| v[(i + t) % n] == c) {
                    let j = (i + steps) % n;
                    return Some(Located {
                        part,
                        ring,
                        i,
                        j,
                        forward: true,
                    });
                }
                if old
                    .iter()
                    .enumerate()
                    .all(|(t, &c)| v[(i + n - t) % n] == c)
                {
                    let j = (i + n - steps) % n;
                    return Some(Located {
                        part,
                        ring,
                        i,
                        j,
                        forward: false,
                    });
                }
            }
        }
    }
    None
}

/// `geom` with the located stretch replaced: its end vertices kept, `inner`
/// (in the direction from `i` to `j`) between them. `None` when the ring would
/// keep fewer than three distinct vertices.
fn replace_at(
    geom: &MultiPolygon<f64>,
    at: Located,
    inner: &[Coord<f64>],
) -> Option<MultiPolygon<f64>> {
    let v = open(ring_of(geom, at.part, at.ring));
    let n = v.len();
    // Rebuild the ring from the stretch's start in ring order: the new stretch,
    // then the rest of the ring (which runs from the stretch's end back to its start).
    let (start, end, new_inner): (usize, usize, Vec<Coord<f64>>) = if at.forward {
        (at.i, at.j, inner.to_vec())
    } else {
        (at.j, at.i, inner.iter().rev().copied().collect())
    };
    let mut out = Vec::with_capacity(n + inner.len());
    out.push(v[start]);
    out.extend(new_inner);
    out.extend(arc(n, end, start).map(|k| v[k]));
    out.pop(); // the rest ends at `start` again: close() adds it back
    if distinct(&out) < 3 {
        return None;
    }
    let new_ring = close(out);
    let polys = geom
        .0
        .iter()
        .enumerate()
        .map(|(pi, poly)| {
            if pi != at.part {
                return poly.clone();
            }
            let mut exterior = poly.exterior().clone();
            let mut holes = poly.interiors().to_vec();
            if at.ring == 0 {
                exterior = new_ring.clone();
            } else {
                holes[at.ring - 1] = new_ring.clone();
            }
            Polygon::new(exterior, holes)
        })
        .collect();
    Some(MultiPolygon::new(polys))
}
