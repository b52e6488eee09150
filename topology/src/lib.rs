//! Shared-arc topology (the TopoJSON idea): every ring is cut at junction
//! vertices into arcs, and an arc used by two rings (a shared border) is
//! stored once and referenced by both, each with its own direction.
//!
//! Matching is by exact coordinate equality (bit patterns of the `f64`s), so
//! shared borders must be bit-identical on both sides, as they are in
//! topologically clean grid data.
//!
//! Its own crate so that the tiles (simplify each border once, for both
//! neighbours) and the data library (editing moves a shared border for every
//! grid that uses it) stand on the same topology without knowing each other.
//!
//! ```
//! use gridmap_topology::TopologyBuilder;
//! // Two unit squares sharing the edge x = 1.
//! let mut b = TopologyBuilder::new();
//! b.add_ring(&[[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]]).unwrap();
//! b.add_ring(&[[1.0, 0.0], [2.0, 0.0], [2.0, 1.0], [1.0, 1.0]]).unwrap();
//! let topo = b.build();
//! // The shared edge is one arc, used by both rings in opposite directions.
//! let shared: Vec<_> = topo.rings[0]
//!     .iter()
//!     .filter(|a| topo.rings[1].iter().any(|b| b.arc == a.arc))
//!     .collect();
//! assert_eq!(shared.len(), 1);
//! let other = topo.rings[1].iter().find(|b| b.arc == shared[0].arc).unwrap();
//! assert_ne!(shared[0].reversed, other.reversed);
//! ```

use std::collections::HashMap;

/// One reference from a ring to an arc.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArcRef {
    /// Index into [`Topology::arcs`].
    pub arc: u32,
    /// True if the ring walks the arc from its last vertex to its first.
    pub reversed: bool,
}

/// Collects rings, then [`TopologyBuilder::build`] cuts them into arcs.
#[derive(Debug, Default)]
pub struct TopologyBuilder {
    vertices: Vec<[f64; 2]>,
    index: HashMap<(u64, u64), u32>,
    rings: Vec<Vec<u32>>,
}

/// The result: vertices, arcs (vertex index sequences) and rings (arc lists).
#[derive(Debug, Clone)]
pub struct Topology {
    /// Distinct vertices.
    pub vertices: Vec<[f64; 2]>,
    /// Arcs as vertex indices, at least 2 each; a ring without any junction is
    /// one closed arc whose first and last index are equal.
    pub arcs: Vec<Vec<u32>>,
    /// Rings in the order they were added (by [`TopologyBuilder::add_ring`]
    /// ids); walking the arcs in order (skipping each arc's first vertex after
    /// the first arc) gives the ring without its closing vertex.
    pub rings: Vec<Vec<ArcRef>>,
}

const NONE: u32 = u32::MAX;

impl TopologyBuilder {
    /// An empty builder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a ring (closed or not; a repeated closing vertex is ignored, as
    /// are consecutive duplicates). Returns the ring id, or `None` if the ring
    /// has fewer than 3 distinct vertices and so encloses nothing.
    pub fn add_ring(&mut self, coords: &[[f64; 2]]) -> Option<u32> {
        let mut ring: Vec<u32> = Vec::with_capacity(coords.len());
        for c in coords {
            // `+ 0.0` folds -0.0 into 0.0, which compare equal but differ in bits.
            let key = ((c[0] + 0.0).to_bits(), (c[1] + 0.0).to_bits());
            let next = self.vertices.len() as u32;
            let v = *self.index.entry(key).or_insert(next);
            if v == next {
                self.vertices.push(*c);
            }
            if ring.last() != Some(&v) {
                ring.push(v);
            }
        }
        while ring.len() > 1 && ring.first() == ring.last() {
            ring.pop();
        }
        let mut distinct = ring.clone();
        distinct.sort_unstable();
        distinct.dedup();
        if distinct.len() < 3 {
            return None;
        }
        self.rings.push(ring);
        Some(self.rings.len() as u32 - 1)
    }

    /// Finds junctions, cuts the rings and deduplicates the arcs.
    pub fn build(self) -> Topology {
        let n = self.vertices.len();
        // A vertex is a junction when it has more than two distinct neighbours
        // over all rings, or a ring turns back on itself there. Otherwise every
        // ring through it uses the same two edges, so no border starts there.
        let mut neigh = vec![[NONE; 2]; n];
        let mut junction = vec![false; n];
        for ring in &self.rings {
            let m = ring.len();
            for i in 0..m {
                let v = ring[i] as usize;
                let p = ring[(i + m - 1) % m];
                let q = ring[(i + 1) % m];
                if p == q {
                    junction[v] = true;
                    continue;
                }
                for w in [p, q] {
                    let slot = &mut neigh[v];
                    if slot[0] == w || slot[1] == w {
                        continue;
                    }
                    if slot[0] == NONE {
                        slot[0] = w;
                    } else if slot[1] == NONE {
                        slot[1] = w;
                    } else {
                        junction[v] = true;
                    }
                }
            }
        }
        drop(neigh);

        let mut arcs: Vec<Vec<u32>> = Vec::new();
        let mut arc_index: HashMap<Vec<u32>, u32> = HashMap::new();
        let mut rings = Vec::with_capacity(self.rings.len());
        for ring in &self.rings {
            let m = ring.len();
            let cuts: Vec<usize> = (0..m).filter(|&i| junction[ring[i] as usize]).collect();
            // A ring without junctions is one closed arc; start it at its
            // smallest vertex id so that two rings over the same vertices (a
            // hole and the island filling it) produce the same arc.
            let cuts = if cuts.is_empty() {
                let start = (0..m).min_by_key(|&i| ring[i]).unwrap_or(0);
                vec![start]
            } else {
                cuts
            };
            let mut refs = Vec::with_capacity(cuts.len());
            for (k, &start) in cuts.iter().enumerate() {
                let end = if k + 1 < cuts.len() {
                    cuts[k + 1]
                } else {
                    cuts[0] + m
                };
                let seq: Vec<u32> = (start..=end).map(|i| ring[i % m]).collect();
                refs.push(intern_arc(seq, &mut arcs, &mut arc_index));
            }
            rings.push(refs);
        }
        Topology {
            vertices: self.vertices,
            arcs,
            rings,
        }
    }
}

/// Stores an arc once in a canonical direction (the lexicographically smaller
/// of the sequence and its reverse) and returns a directed reference to it.
fn intern_arc(
    seq: Vec<u32>,
    arcs: &mut Vec<Vec<u32>>,
    index: &mut HashMap<Vec<u32>, u32>,
) -> ArcRef {
    let rev: Vec<u32> = seq.iter().rev().copied().collect();
    let (key, reversed) = if seq <= rev {
        (seq, false)
    } else {
        (rev, true)
    };
    if let Some(&arc) = index.get(&key) {
        return ArcRef { arc, reversed };
    }
    let arc = arcs.len() as u32;
    arcs.push(key.clone());
    index.insert(key, arc);
    ArcRef { arc, reversed }
}

impl Topology {
    /// Vertex ids of a ring (without the closing vertex), reconstructed from
    /// its arcs; `keep` selects which interior arc vertices to emit (arc
    /// endpoints are always emitted).
    pub fn ring_vertices(
        &self,
        ring: &[ArcRef],
        mut keep: impl FnMut(u32, usize) -> bool,
    ) -> Vec<u32> {
        let mut out = Vec::new();
        for r in ring {
            let arc = &self.arcs[r.arc as usize];
            let last = arc.len() - 1;
            // Each arc's first vertex equals the previous arc's last; emit the
            // shared junction once, as the start of every arc.
            let mut push = |i: usize| {
                if i == 0 || i == last || keep(r.arc, i) {
                    out.push(arc[i]);
                }
            };
            if r.reversed {
                (1..=last).rev().for_each(&mut push);
            } else {
                (0..last).for_each(&mut push);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn square(x: f64, y: f64) -> Vec<[f64; 2]> {
        vec![
            [x, y],
            [x + 1.0, y],
            [x + 1.0, y + 1.0],
            [x, y + 1.0],
            [x, y],
        ]
    }

    fn coords(t: &Topology, ring: u32) -> Vec<[f64; 2]> {
        t.ring_vertices(&t.rings[ring as usize], |_, _| true)
            .into_iter()
            .map(|v| t.vertices[v as usize])
            .collect()
    }

    /// Same cyclic sequence, possibly rotated.
    fn same_cycle(a: &[[f64; 2]], b: &[[f64; 2]]) -> bool {
        a.len() == b.len()
            && (0..a.len()).any(|s| (0..a.len()).all(|i| a[(s + i) % a.len()] == b[i]))
    }

    #[test]
    fn isolated_ring_is_one_closed_arc() {
        let mut b = TopologyBuilder::new();
        let r = b.add_ring(&square(0.0, 0.0)).unwrap();
        let t = b.build();
        assert_eq!(t.arcs.len(), 1);
        assert_eq!(t.arcs[0].first(), t.arcs[0].last());
        assert!(same_cycle(&coords(&t, r), &square(0.0, 0.0)[..4]));
    }

    #[test]
    fn shared_edge_stored_once() {
        // Two unit squares sharing the edge x = 1, with an extra vertex on it.
        let a = vec![[0.0, 0.0], [1.0, 0.0], [1.0, 0.5], [1.0, 1.0], [0.0, 1.0]];
        let bq = vec![[1.0, 0.0], [2.0, 0.0], [2.0, 1.0], [1.0, 1.0], [1.0, 0.5]];
        let mut b = TopologyBuilder::new();
        let ra = b.add_ring(&a).unwrap();
        let rb = b.add_ring(&bq).unwrap();
        let t = b.build();
        // Junctions (1,0) and (1,1): arcs are the shared edge + one per square.
        assert_eq!(t.arcs.len(), 3);
        let shared: Vec<_> = t.rings[0]
            .iter()
            .filter(|x| t.rings[1].iter().any(|y| y.arc == x.arc))
            .collect();
        assert_eq!(shared.len(), 1);
        let other = t.rings[1].iter().find(|y| y.arc == shared[0].arc).unwrap();
        assert_ne!(shared[0].reversed, other.reversed);
        assert_eq!(t.arcs[shared[0].arc as usize].len(), 3);
        assert!(same_cycle(&coords(&t, ra), &a));
        assert!(same_cycle(&coords(&t, rb), &bq));
    }

    #[test]
    fn hole_and_island_share_one_arc() {
        let outer = vec![[0.0, 0.0], [10.0, 0.0], [10.0, 10.0], [0.0, 10.0]];
        let hole = vec![[3.0, 3.0], [3.0, 6.0], [6.0, 6.0], [6.0, 3.0]];
        let island: Vec<_> = hole.iter().rev().copied().collect();
        let mut b = TopologyBuilder::new();
        b.add_ring(&outer).unwrap();
        let h = b.add_ring(&hole).unwrap();
        let i = b.add_ring(&island).unwrap();
        let t = b.build();
        assert_eq!(t.arcs.len(), 2);
        assert_eq!(t.rings[h as usize][0].arc, t.rings[i as usize][0].arc);
        assert_ne!(
            t.rings[h as usize][0].reversed,
            t.rings[i as usize][0].reversed
        );
        assert!(same_cycle(&coords(&t, h), &hole));
        assert!(same_cycle(&coords(&t, i), &island));
    }

    #[test]
    fn three_way_junction() {
        // Three squares around (1,1): two below, one wide on top.
        let a = vec![[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]];
        let c = vec![[1.0, 0.0], [2.0, 0.0], [2.0, 1.0], [1.0, 1.0]];
        let top = vec![[0.0, 1.0], [1.0, 1.0], [2.0, 1.0], [2.0, 2.0], [0.0, 2.0]];
        let mut b = TopologyBuilder::new();
        for r in [&a, &c, &top] {
            b.add_ring(r).unwrap();
        }
        let t = b.build();
        // Every arc is referenced once per side it borders; arcs used twice
        // are the three shared borders.
        let mut uses = vec![0; t.arcs.len()];
        for r in &t.rings {
            for x in r {
                uses[x.arc as usize] += 1;
            }
        }
        assert_eq!(uses.iter().filter(|&&u| u == 2).count(), 3);
        for (k, r) in [&a, &c, &top].into_iter().enumerate() {
            assert!(same_cycle(&coords(&t, k as u32), r));
        }
    }

    #[test]
    fn degenerate_rings_rejected() {
        let mut b = TopologyBuilder::new();
        assert!(b.add_ring(&[[0.0, 0.0], [1.0, 0.0], [0.0, 0.0]]).is_none());
        assert!(b
            .add_ring(&[[0.0, 0.0], [0.0, 0.0], [1.0, 1.0], [1.0, 1.0]])
            .is_none());
        assert!(b.add_ring(&[]).is_none());
    }
}
