//! Dissolving two neighbouring grids into one.

use std::collections::{HashMap, HashSet};
use std::f64::consts::TAU;

use geo::orient::{Direction, Orient};
use geo_types::{Coord, MultiPolygon, Polygon};

use super::ring::{close, key, locate_ring, orient, rings, signed_area2, Key, Position};
use super::ShapeError;

/// Dissolves two neighbouring grids into one, exactly: the borders they share
/// disappear and every other vertex is kept bit for bit (also the ones where
/// a shared border ended, which the remaining neighbours still use).
///
/// Both are oriented (exteriors counter-clockwise, holes clockwise); of all
/// their directed edges, every edge whose reverse is also present is removed;
/// what is left is chained into rings. At a vertex with several ways on, the
/// chain takes the sharpest left turn, and a ring that then passes a vertex
/// twice is cut there into simple loops, so parts touching at a point stay
/// separate parts and a hole touching its shell stays a hole.
/// Counter-clockwise rings are shells, clockwise ones holes, each put into
/// the smallest shell containing it.
///
/// The shared borders must match vertex for vertex (as after
/// [`split`](super::split) and [`insert_vertex`](super::insert_vertex) on
/// the neighbours); [`ShapeError::NotNeighbours`] when no edge is shared.
///
/// # Errors
///
/// [`ShapeError::NotNeighbours`] when no edge is shared;
/// [`ShapeError::BordersDoNotMatch`] when what is left does not chain into
/// proper rings (a border with a vertex on one side only).
///
/// ```
/// use geo::Area;
/// use geo_types::{polygon, MultiPolygon};
/// use gridmap_data::edit::shape::dissolve;
///
/// let west = MultiPolygon::new(vec![polygon![
///     (x: 0.0, y: 0.0), (x: 1.0, y: 0.0), (x: 1.0, y: 1.0), (x: 0.0, y: 1.0)
/// ]]);
/// let east = MultiPolygon::new(vec![polygon![
///     (x: 1.0, y: 0.0), (x: 2.0, y: 0.0), (x: 2.0, y: 1.0), (x: 1.0, y: 1.0)
/// ]]);
/// let both = dissolve(&west, &east).unwrap();
/// assert_eq!(both.0.len(), 1);
/// assert_eq!(both.0[0].exterior().0.len(), 7); // six vertices, closed
/// assert_eq!(both.unsigned_area(), 2.0);
/// ```
pub fn dissolve(
    a: &MultiPolygon<f64>,
    b: &MultiPolygon<f64>,
) -> Result<MultiPolygon<f64>, ShapeError> {
    let a = a.orient(Direction::Default);
    let b = b.orient(Direction::Default);
    let edges_of = |g: &MultiPolygon<f64>| -> Vec<(Coord<f64>, Coord<f64>)> {
        g.0.iter()
            .flat_map(rings)
            .flat_map(|ring| ring.0.windows(2))
            .filter(|w| w[0] != w[1])
            .map(|w| (w[0], w[1]))
            .collect()
    };
    let mut edges = edges_of(&a);
    let from_b = edges_of(&b);
    let in_a: HashSet<(Key, Key)> = edges.iter().map(|&(u, v)| (key(u), key(v))).collect();
    if !from_b
        .iter()
        .any(|&(u, v)| in_a.contains(&(key(v), key(u))))
    {
        return Err(ShapeError::NotNeighbours);
    }
    edges.extend(from_b);

    // Cancel each edge against one reverse edge.
    let mut by_key: HashMap<(Key, Key), Vec<usize>> = HashMap::new();
    for (i, &(u, v)) in edges.iter().enumerate() {
        by_key.entry((key(u), key(v))).or_default().push(i);
    }
    let mut alive = vec![true; edges.len()];
    for i in 0..edges.len() {
        if !alive[i] {
            continue;
        }
        let (u, v) = edges[i];
        let reverse = by_key
            .get(&(key(v), key(u)))
            .and_then(|list| list.iter().copied().find(|&j| alive[j]));
        if let Some(j) = reverse {
            alive[i] = false;
            alive[j] = false;
        }
    }
    let loops = chain(&edges, &alive)?;

    let mut shells = Vec::new();
    let mut holes = Vec::new();
    for ring in loops {
        let area = signed_area2(&ring);
        if ring.len() < 3 || ring.iter().all(|&c| orient(ring[0], ring[1], c) == 0.0) {
            return Err(ShapeError::BordersDoNotMatch);
        }
        if area > 0.0 {
            shells.push((area, ring, Vec::new()));
        } else {
            holes.push(ring);
        }
    }
    for hole in holes {
        let shell = shells
            .iter_mut()
            .filter(|(_, shell, _)| locate_ring(&hole, shell) == Position::Inside)
            .min_by(|s, t| s.0.total_cmp(&t.0))
            .ok_or(ShapeError::BordersDoNotMatch)?;
        shell.2.push(close(hole));
    }
    Ok(MultiPolygon::new(
        shells
            .into_iter()
            .map(|(_, shell, holes)| Polygon::new(close(shell), holes))
            .collect(),
    ))
}

/// Chains the `alive` edges into rings (taking the sharpest left turn where
/// there is a choice) and cuts those into simple loops.
fn chain(
    edges: &[(Coord<f64>, Coord<f64>)],
    alive: &[bool],
) -> Result<Vec<Vec<Coord<f64>>>, ShapeError> {
    let mut outgoing: HashMap<Key, Vec<usize>> = HashMap::new();
    for (i, &(u, _)) in edges.iter().enumerate() {
        if alive[i] {
            outgoing.entry(key(u)).or_default().push(i);
        }
    }

    let mut used = vec![false; edges.len()];
    let mut loops = Vec::new();
    for start in 0..edges.len() {
        if !alive[start] || used[start] {
            continue;
        }
        used[start] = true;
        let mut ring = vec![edges[start].0];
        let mut cur = start;
        loop {
            let (u, v) = edges[cur];
            let back = u - v;
            let next = outgoing
                .get(&key(v))
                .into_iter()
                .flatten()
                .copied()
                .filter(|&e| !used[e] || e == start)
                .min_by(|&e, &f| {
                    let turn = |e: usize| clockwise_angle(back, edges[e].1 - v);
                    turn(e).total_cmp(&turn(f))
                })
                .ok_or(ShapeError::BordersDoNotMatch)?;
            if next == start {
                break;
            }
            ring.push(v);
            used[next] = true;
            cur = next;
        }
        cut_loops(ring, &mut loops);
    }
    Ok(loops)
}

/// The clockwise angle from the ray `back` to the ray `out`, in (0, 2π]: the
/// smallest is the sharpest left turn.
fn clockwise_angle(back: Coord<f64>, out: Coord<f64>) -> f64 {
    let angle = (back.y.atan2(back.x) - out.y.atan2(out.x)).rem_euclid(TAU);
    if angle == 0.0 {
        TAU
    } else {
        angle
    }
}

/// Cuts an open ring that passes some vertex more than once into simple loops.
fn cut_loops(ring: Vec<Coord<f64>>, loops: &mut Vec<Vec<Coord<f64>>>) {
    let mut stack: Vec<Coord<f64>> = Vec::with_capacity(ring.len());
    let mut seen: HashMap<Key, usize> = HashMap::new();
    for c in ring {
        if let Some(&at) = seen.get(&key(c)) {
            let piece = stack.split_off(at + 1);
            for p in &piece {
                seen.remove(&key(*p));
            }
            let mut lp = vec![stack[at]];
            lp.extend(piece);
            loops.push(lp);
        } else {
            seen.insert(key(c), stack.len());
            stack.push(c);
        }
    }
    loops.push(stack);
}
