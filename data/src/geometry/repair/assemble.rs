//! Turns a set of arrangement faces into a valid multipolygon whose rings are,
//! wherever possible, the input rings themselves.
//!
//! The boundary of the face set is walked with the faces on the left; a walk
//! that passes a node twice (two parts touching at a point, a hole touching
//! its shell) is split there into simple rings, so that every ring is simple
//! and rings meet only at points, as OGC validity asks. Counter-clockwise rings
//! are shells, clockwise ones holes; each hole belongs to the shell of the
//! region (faces joined across interior edges) on its left, no point-in-polygon
//! guess needed.
//!
//! An output ring that runs through exactly the nodes of an input ring, in
//! either direction from any start, is replaced by that input ring, so what the
//! repair did not have to touch comes back with its start, orientation and bits.

use geo_types::{Coord, LineString, MultiPolygon, Polygon};

use super::arrangement::{classes, dest, orient, origin, walk_faces, Arrangement};
use super::noding::coord_key;

/// Where a node first appears in the input: (polygon, ring, vertex).
type InputPosition = (usize, usize, usize);

/// The input rings as node ids, for restoring untouched rings and for keeping
/// the input's order of parts and holes.
struct InputRings<'a> {
    input: &'a MultiPolygon<f64>,
    /// Node of each vertex (the closing one excluded), per polygon and ring.
    nodes: Vec<Vec<Vec<Option<usize>>>>,
    /// Per ring node: its occurrences in the input.
    occurrences: Vec<Vec<InputPosition>>,
}

impl<'a> InputRings<'a> {
    fn new(a: &Arrangement, input: &'a MultiPolygon<f64>) -> Self {
        let mut occurrences = vec![Vec::new(); a.nodes.len()];
        let nodes = input
            .0
            .iter()
            .enumerate()
            .map(|(p, polygon)| {
                std::iter::once(polygon.exterior())
                    .chain(polygon.interiors())
                    .enumerate()
                    .map(|(r, ring)| {
                        let open = &ring.0[..ring.0.len().saturating_sub(1)];
                        open.iter()
                            .enumerate()
                            .map(|(i, c)| {
                                let n = a.node_at(*c);
                                if let Some(n) = n {
                                    occurrences[n].push((p, r, i));
                                }
                                n
                            })
                            .collect()
                    })
                    .collect()
            })
            .collect();
        InputRings {
            input,
            nodes,
            occurrences,
        }
    }

    /// The input ring that is this ring of nodes, if any, and its position.
    fn same_ring(&self, ring: &[usize]) -> Option<(&'a LineString<f64>, InputPosition)> {
        for &(p, r, i) in &self.occurrences[ring[0]] {
            let original = &self.nodes[p][r];
            let m = original.len();
            if m != ring.len() {
                continue;
            }
            let forward = (0..m).all(|k| original[(i + k) % m] == Some(ring[k]));
            let backward = (0..m).all(|k| original[(i + m - k) % m] == Some(ring[k]));
            if forward || backward {
                let polygon = &self.input.0[p];
                let original = if r == 0 {
                    polygon.exterior()
                } else {
                    &polygon.interiors()[r - 1]
                };
                return Some((original, (p, r, 0)));
            }
        }
        None
    }

    /// Sort key: the input ring's position for a ring given back unchanged,
    /// else the earliest input position among the ring's nodes (rings made
    /// only of computed intersection points sort last).
    fn first_position(&self, ring: &[usize]) -> Option<InputPosition> {
        if let Some((_, at)) = self.same_ring(ring) {
            return Some(at);
        }
        ring.iter()
            .filter_map(|&n| self.occurrences[n].iter().min().copied())
            .min()
    }

    fn line_string(&self, a: &Arrangement, ring: &[usize]) -> LineString<f64> {
        if let Some((original, _)) = self.same_ring(ring) {
            return original.clone();
        }
        let mut coords: Vec<Coord<f64>> = ring.iter().map(|&n| a.nodes[n]).collect();
        coords.push(coords[0]);
        LineString::new(coords)
    }
}

/// Whether a simple ring of nodes runs counter-clockwise: decided exactly at
/// its lowest-leftmost node, which is convex.
fn counter_clockwise(a: &Arrangement, ring: &[usize]) -> bool {
    let m = ring.len();
    let i = (0..m)
        .min_by_key(|&i| coord_key(a.nodes[ring[i]]))
        .expect("rings are not empty");
    let u = a.nodes[ring[(i + m - 1) % m]];
    let w = a.nodes[ring[(i + 1) % m]];
    orient(u, a.nodes[ring[i]], w) > 0.0
}

/// Splits a closed walk of half-edges into simple rings of nodes at every node
/// it passes more than once.
fn simple_rings(a: &Arrangement, walk: &[usize], seen_at: &mut [usize]) -> Vec<Vec<usize>> {
    let mut rings = Vec::new();
    let mut stack: Vec<usize> = Vec::new();
    for &h in walk {
        let n = origin(a, h);
        if seen_at[n] == usize::MAX {
            seen_at[n] = stack.len();
            stack.push(n);
            continue;
        }
        let i = seen_at[n];
        for &m in &stack[i + 1..] {
            seen_at[m] = usize::MAX;
        }
        rings.push(stack[i..].to_vec());
        stack.truncate(i + 1);
    }
    debug_assert_eq!(dest(a, walk[walk.len() - 1]), origin(a, walk[0]));
    for &m in &stack {
        seen_at[m] = usize::MAX;
    }
    rings.push(stack);
    rings.retain(|r| r.len() >= 3);
    rings
}

/// The multipolygon covering exactly the faces marked in `area`.
pub(super) fn assemble(
    a: &Arrangement,
    area: &[bool],
    input: &MultiPolygon<f64>,
) -> MultiPolygon<f64> {
    let inside = |h: usize| area[a.left[h]];
    let boundary: Vec<bool> = (0..a.edges.len())
        .map(|e| inside(2 * e) != inside(2 * e + 1))
        .collect();
    let region = classes(
        a.faces,
        (0..a.edges.len())
            .filter(|&e| inside(2 * e) && inside(2 * e + 1))
            .map(|e| (a.left[2 * e], a.left[2 * e + 1])),
    );
    let rings_in = InputRings::new(a, input);
    let mut seen_at = vec![usize::MAX; a.nodes.len()];
    // Per region: its shells and holes.
    let mut shells: Vec<Vec<Vec<usize>>> = vec![Vec::new(); a.faces];
    let mut holes: Vec<Vec<Vec<usize>>> = vec![Vec::new(); a.faces];
    for walk in walk_faces(a, &boundary).walks {
        if !inside(walk[0]) {
            continue;
        }
        let r = region[a.left[walk[0]]];
        for ring in simple_rings(a, &walk, &mut seen_at) {
            if counter_clockwise(a, &ring) {
                shells[r].push(ring);
            } else {
                holes[r].push(ring);
            }
        }
    }
    let mut polygons: Vec<(Option<InputPosition>, Polygon<f64>)> = Vec::new();
    for (mut region_shells, mut region_holes) in shells.into_iter().zip(holes) {
        if region_shells.is_empty() {
            continue;
        }
        // One shell per region unless rounding made a mess; then holes go to
        // the shell that contains them.
        let mut shell_holes: Vec<Vec<Vec<usize>>> = vec![Vec::new(); region_shells.len()];
        for hole in region_holes.drain(..) {
            let at = (region_shells.len() > 1)
                .then(|| {
                    region_shells
                        .iter()
                        .position(|s| contains(a, s, a.nodes[hole[0]]))
                })
                .flatten()
                .unwrap_or(0);
            shell_holes[at].push(hole);
        }
        for (shell, mut hs) in region_shells.drain(..).zip(shell_holes) {
            hs.sort_by_cached_key(|h| {
                rings_in
                    .first_position(h)
                    .map_or((1, (0, 0, 0)), |p| (0, p))
            });
            let key = rings_in.first_position(&shell);
            polygons.push((
                key,
                Polygon::new(
                    rings_in.line_string(a, &shell),
                    hs.iter().map(|h| rings_in.line_string(a, h)).collect(),
                ),
            ));
        }
    }
    polygons.sort_by_key(|(key, _)| key.map_or((1, (0, 0, 0)), |p| (0, p)));
    MultiPolygon::new(polygons.into_iter().map(|(_, p)| p).collect())
}

/// Exact even-odd test of a point against a ring of nodes (the point is not on it).
fn contains(a: &Arrangement, ring: &[usize], p: Coord<f64>) -> bool {
    let m = ring.len();
    let mut inside = false;
    for i in 0..m {
        let s = a.nodes[ring[i]];
        let e = a.nodes[ring[(i + 1) % m]];
        if (s.y > p.y) != (e.y > p.y) {
            let o = orient(s, e, p);
            if (o > 0.0) == (e.y > s.y) {
                inside = !inside;
            }
        }
    }
    inside
}
