//! The state shared by the layers drawn together at some zoom (a *stage* of a
//! group, see [`crate::group`]): one arc topology over the rings of every
//! such layer, the arcs' simplification ranks, and the per-zoom tolerances
//! with their validity fallback.
//!
//! Sharing all of it is what makes nested levels nest: a community's border
//! is the very arcs of its blocks' outer borders, cut at the union of both
//! levels' junctions, ranked once and simplified once per zoom, so the
//! simplified community is exactly the union of its simplified blocks.

use crate::simplify::{arc_importance, min_interior, resolve_zoom, zoom_tolerance, ZoomArcs};
use crate::tile::tile_width;
use crate::topology::{ArcRef, Topology};
use crate::valid::is_valid_polygon;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

/// One polygon of some layer of the group.
pub(crate) struct PolyRec {
    /// Index of the feature within its own layer.
    pub feature: u32,
    /// Exterior first, then holes.
    pub rings: Vec<Vec<ArcRef>>,
}

pub(crate) type ZoomCell = Arc<OnceLock<ZoomArcs>>;

/// Rings at least this big, in square units of a 4096-extent tile, keep at
/// least half their area when simplified (a ring of 4 units² or more must
/// show in the tile).
pub(crate) const KEPT_RING_UNITS: f64 = 4.0;

/// Unsigned area of an open ring (shoelace).
fn ring_area(r: &[[f64; 2]]) -> f64 {
    let n = r.len();
    let twice: f64 = (0..n)
        .map(|i| r[i][0] * r[(i + 1) % n][1] - r[(i + 1) % n][0] * r[i][1])
        .sum();
    twice.abs() / 2.0
}

/// Topology, ranks and zoom cache of a group of layers.
pub(crate) struct SharedTopology {
    pub topo: Topology,
    importance: Vec<Vec<f64>>,
    arc_min: Vec<f64>,
    /// Polygons of all layers, layer by layer.
    pub polys: Vec<PolyRec>,
    poly_arcs: Vec<Vec<u32>>,
    arc_polys: Vec<Vec<u32>>,
    /// Unsigned area of every ring of every polygon at full detail, m².
    ring_areas: Vec<Vec<f64>>,
    pub zooms: Mutex<HashMap<(u8, u64), ZoomCell>>,
}

impl SharedTopology {
    /// Ranks the arcs of `topo` and indexes which polygon uses which arc;
    /// `polys` are `(feature index in its layer, ring ids)`.
    pub fn new(topo: Topology, polys: Vec<(u32, Vec<u32>)>) -> Self {
        let importance = arc_importance(&topo);
        let arc_min: Vec<f64> = importance.iter().map(|v| min_interior(v)).collect();
        let mut recs = Vec::with_capacity(polys.len());
        let mut poly_arcs = Vec::with_capacity(polys.len());
        let mut arc_polys: Vec<Vec<u32>> = vec![Vec::new(); topo.arcs.len()];
        for (pi, (feature, ring_ids)) in polys.into_iter().enumerate() {
            let rings: Vec<Vec<ArcRef>> = ring_ids
                .iter()
                .map(|&r| topo.rings[r as usize].clone())
                .collect();
            let mut arcs: Vec<u32> = rings.iter().flatten().map(|r| r.arc).collect();
            arcs.sort_unstable();
            arcs.dedup();
            for &a in &arcs {
                arc_polys[a as usize].push(pi as u32);
            }
            poly_arcs.push(arcs);
            recs.push(PolyRec { feature, rings });
        }
        let ring_areas = recs
            .iter()
            .map(|rec| {
                rec.rings
                    .iter()
                    .map(|r| {
                        let v = topo.ring_vertices(r, |_, _| true);
                        let pts: Vec<[f64; 2]> =
                            v.iter().map(|&i| topo.vertices[i as usize]).collect();
                        ring_area(&pts)
                    })
                    .collect()
            })
            .collect();
        SharedTopology {
            topo,
            importance,
            arc_min,
            polys: recs,
            poly_arcs,
            arc_polys,
            ring_areas,
            zooms: Mutex::new(HashMap::new()),
        }
    }

    /// Mercator bounding box `(min, max)` of polygon `p`'s exterior at full
    /// detail; simplification only drops vertices, so it bounds the polygon
    /// at every zoom.
    pub fn exterior_box(&self, p: u32) -> ([f64; 2], [f64; 2]) {
        let (mut lo, mut hi) = ([f64::INFINITY; 2], [f64::NEG_INFINITY; 2]);
        for r in &self.polys[p as usize].rings[0] {
            for &v in &self.topo.arcs[r.arc as usize] {
                let q = self.topo.vertices[v as usize];
                lo = [lo[0].min(q[0]), lo[1].min(q[1])];
                hi = [hi[0].max(q[0]), hi[1].max(q[1])];
            }
        }
        (lo, hi)
    }

    /// Arc tolerances for a zoom, computed on first use and cached for all
    /// layers sharing the topology. The validity fallback of
    /// [`resolve_zoom`] checks the polygons of every one of those layers, so
    /// a reduction forced by a block also holds for the community sharing
    /// the arc, and vice versa.
    pub fn zoom_arcs(&self, z: u8, simplify_px: f64) -> ZoomCell {
        let cell = {
            let mut map = self.zooms.lock().unwrap_or_else(|e| e.into_inner());
            map.entry((z, simplify_px.to_bits())).or_default().clone()
        };
        cell.get_or_init(|| {
            let tol = zoom_tolerance(z, simplify_px);
            // One unit of a 4096-extent tile at this zoom, squared.
            let unit2 = (tile_width(z) / 4096.0).powi(2);
            resolve_zoom(
                tol,
                &self.poly_arcs,
                &self.arc_polys,
                &self.arc_min,
                |p, za| {
                    let rings = self.simplified_rings(p, za);
                    is_valid_polygon(&rings) && self.rings_keep_their_area(p, &rings, unit2)
                },
            )
        });
        cell
    }

    /// False if a ring of polygon `p` big enough to be drawn (over
    /// [`KEPT_RING_UNITS`] tile units at full detail) lost more than half
    /// its area to simplification. Douglas–Peucker keeps only a few vertices
    /// of a small island or of a ring cut into several short arcs, and the
    /// triangle left can be a sliver that the drop rule then removes: such
    /// islands vanished from z5–z6 tiles of Zhejiang. Failing here makes the
    /// fallback of [`resolve_zoom`] simplify the ring's arcs less.
    fn rings_keep_their_area(&self, p: u32, rings: &[Vec<[f64; 2]>], unit2: f64) -> bool {
        rings
            .iter()
            .zip(&self.ring_areas[p as usize])
            .all(|(r, &full)| full < KEPT_RING_UNITS * unit2 || ring_area(r) >= 0.5 * full)
    }

    /// Mercator rings of polygon `p` simplified per `za`.
    pub fn simplified_rings(&self, p: u32, za: &ZoomArcs) -> Vec<Vec<[f64; 2]>> {
        // Same walk as `Topology::ring_vertices`, with the tolerance looked
        // up once per arc (this is the per-tile hot loop).
        self.polys[p as usize]
            .rings
            .iter()
            .map(|ring| {
                let mut out = Vec::new();
                for r in ring {
                    let arc = &self.topo.arcs[r.arc as usize];
                    let imp = &self.importance[r.arc as usize];
                    let t = za.tolerance(r.arc);
                    let last = arc.len() - 1;
                    // Endpoints have infinite importance, so they are kept.
                    let mut push = |i: usize| {
                        if imp[i] > t {
                            out.push(self.topo.vertices[arc[i] as usize]);
                        }
                    };
                    if r.reversed {
                        (1..=last).rev().for_each(&mut push);
                    } else {
                        (0..last).for_each(&mut push);
                    }
                }
                out
            })
            .collect()
    }
}
