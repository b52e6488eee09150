//! A polygon layer prepared once (projected, topology built, arcs ranked for
//! simplification, R-tree built) and then cut into many tiles.

use crate::clip::ClipRect;
use crate::mvt::PropValue;
use crate::quantize::{finish_polygon, round_ring, TilePolygon};
use crate::simplify::{arc_importance, min_interior, resolve_zoom, zoom_tolerance, ZoomArcs};
use crate::tile::{lonlat_to_mercator, tile_width, TileId};
use crate::topology::{ArcRef, Topology, TopologyBuilder};
use crate::valid::is_valid_polygon;
use crate::TilesError;
use geo_types::{coord, MultiPolygon, Rect};
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{RTree, AABB};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

/// One input feature: lon/lat (EPSG:4326) polygons with an id and attributes.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureInput {
    /// Feature id written to the tile (stable across zooms).
    pub id: u64,
    /// Geometry in lon/lat degrees.
    pub geometry: MultiPolygon<f64>,
    /// Attributes written as MVT tags.
    pub properties: Vec<(String, PropValue)>,
}

/// Checks that a feature's coordinates are finite lon/lat degrees; the error
/// names the layer, the feature index and id, and the bad coordinate.
pub(crate) fn check_lonlat(layer: &str, index: usize, f: &FeatureInput) -> Result<(), TilesError> {
    for (pi, p) in f.geometry.0.iter().enumerate() {
        for (ri, ring) in std::iter::once(p.exterior())
            .chain(p.interiors())
            .enumerate()
        {
            for (ci, c) in ring.coords().enumerate() {
                if !c.x.is_finite() || !c.y.is_finite() || c.x.abs() > 180.0 || c.y.abs() > 90.0 {
                    return Err(TilesError::InvalidInput(format!(
                        "layer '{layer}', feature {index} (id {}): polygon {pi} ring {ri} coordinate {ci} \
                         ({}, {}) is not a lon/lat position",
                        f.id, c.x, c.y
                    )));
                }
            }
        }
    }
    Ok(())
}

struct PolyRec {
    feature: u32,
    rings: Vec<Vec<ArcRef>>,
}

struct FeatRec {
    id: u64,
    properties: Vec<(String, PropValue)>,
}

/// Polygons clipped and quantised for one tile, grouped by feature.
#[derive(Debug, Clone, PartialEq)]
pub struct TileFeature {
    /// Feature id.
    pub id: u64,
    /// Attributes.
    pub properties: Vec<(String, PropValue)>,
    /// Valid, MVT-wound polygons in tile coordinates.
    pub polygons: Vec<TilePolygon>,
}

type ZoomCell = Arc<OnceLock<ZoomArcs>>;

/// A polygon layer ready to be rendered into tiles. Thread-safe: tiles may be
/// rendered concurrently; the per-zoom simplification is computed once per
/// (zoom, `simplify_px`) on first use and cached.
pub struct PreparedLayer {
    name: String,
    topo: Topology,
    importance: Vec<Vec<f64>>,
    arc_min: Vec<f64>,
    polys: Vec<PolyRec>,
    features: Vec<FeatRec>,
    poly_arcs: Vec<Vec<u32>>,
    arc_polys: Vec<Vec<u32>>,
    rtree: RTree<GeomWithData<Rectangle<[f64; 2]>, u32>>,
    bbox: Option<Rect<f64>>,
    zooms: Mutex<HashMap<(u8, u64), ZoomCell>>,
}

impl std::fmt::Debug for PreparedLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PreparedLayer")
            .field("name", &self.name)
            .field("features", &self.features.len())
            .field("polygons", &self.polys.len())
            .field("arcs", &self.topo.arcs.len())
            .finish()
    }
}

impl PreparedLayer {
    /// Projects the features to Web Mercator, builds the shared-arc topology
    /// and the spatial index. Rings with fewer than 3 distinct positions are
    /// skipped (a polygon whose exterior is skipped is skipped whole);
    /// coordinates that are not finite lon/lat degrees are an error naming
    /// the feature. Latitudes beyond ±85.0511° are clamped (Web Mercator).
    pub fn new(name: &str, features: Vec<FeatureInput>) -> Result<Self, TilesError> {
        let mut builder = TopologyBuilder::new();
        let mut raw_polys: Vec<(u32, Vec<u32>)> = Vec::new();
        let mut feats = Vec::with_capacity(features.len());
        let mut bbox: Option<Rect<f64>> = None;
        for (fi, f) in features.into_iter().enumerate() {
            check_lonlat(name, fi, &f)?;
            for p in &f.geometry.0 {
                let mut ring_ids = Vec::new();
                for (ri, ring) in std::iter::once(p.exterior())
                    .chain(p.interiors())
                    .enumerate()
                {
                    let merc: Vec<[f64; 2]> = ring
                        .coords()
                        .map(|c| {
                            let (x, y) = lonlat_to_mercator(c.x, c.y);
                            [x, y]
                        })
                        .collect();
                    match builder.add_ring(&merc) {
                        Some(id) => ring_ids.push(id),
                        None if ri == 0 => break,
                        None => {}
                    }
                    if ri == 0 {
                        for c in ring.coords() {
                            let r = Rect::new(*c, *c);
                            bbox = Some(bbox.map_or(r, |b| union_rect(b, r)));
                        }
                    }
                }
                if !ring_ids.is_empty() {
                    raw_polys.push((fi as u32, ring_ids));
                }
            }
            feats.push(FeatRec {
                id: f.id,
                properties: f.properties,
            });
        }
        let topo = builder.build();
        let importance = arc_importance(&topo);
        let arc_min: Vec<f64> = importance.iter().map(|v| min_interior(v)).collect();
        let mut polys = Vec::with_capacity(raw_polys.len());
        let mut poly_arcs = Vec::with_capacity(raw_polys.len());
        let mut arc_polys: Vec<Vec<u32>> = vec![Vec::new(); topo.arcs.len()];
        let mut boxes = Vec::with_capacity(raw_polys.len());
        for (pi, (feature, ring_ids)) in raw_polys.into_iter().enumerate() {
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
            // Simplification only drops vertices, so the exterior's full
            // vertex bbox bounds the polygon at every zoom.
            let (mut lo, mut hi) = ([f64::INFINITY; 2], [f64::NEG_INFINITY; 2]);
            for r in &rings[0] {
                for &v in &topo.arcs[r.arc as usize] {
                    let p = topo.vertices[v as usize];
                    lo = [lo[0].min(p[0]), lo[1].min(p[1])];
                    hi = [hi[0].max(p[0]), hi[1].max(p[1])];
                }
            }
            boxes.push(GeomWithData::new(
                Rectangle::from_corners(lo, hi),
                pi as u32,
            ));
            poly_arcs.push(arcs);
            polys.push(PolyRec { feature, rings });
        }
        Ok(PreparedLayer {
            name: name.to_owned(),
            topo,
            importance,
            arc_min,
            polys,
            features: feats,
            poly_arcs,
            arc_polys,
            rtree: RTree::bulk_load(boxes),
            bbox,
            zooms: Mutex::new(HashMap::new()),
        })
    }

    /// Layer name (the MVT layer name).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Number of input features.
    pub fn len(&self) -> usize {
        self.features.len()
    }

    /// True if there are no features.
    pub fn is_empty(&self) -> bool {
        self.features.is_empty()
    }

    /// Number of shared-topology arcs (diagnostics).
    pub fn arc_count(&self) -> usize {
        self.topo.arcs.len()
    }

    /// Lon/lat bounding box of all exterior rings, `None` if empty.
    pub fn bbox(&self) -> Option<Rect<f64>> {
        self.bbox
    }

    /// Arc tolerances for a zoom, computed on first use (including the
    /// validity fallback of [`resolve_zoom`]) and cached.
    fn zoom_arcs(&self, z: u8, simplify_px: f64) -> ZoomCell {
        let cell = {
            let mut map = self.zooms.lock().unwrap_or_else(|e| e.into_inner());
            map.entry((z, simplify_px.to_bits())).or_default().clone()
        };
        cell.get_or_init(|| {
            let tol = zoom_tolerance(z, simplify_px);
            resolve_zoom(
                tol,
                &self.poly_arcs,
                &self.arc_polys,
                &self.arc_min,
                |p, za| is_valid_polygon(&self.simplified_rings(p, za)),
            )
        });
        cell
    }

    /// Mercator rings of polygon `p` simplified per `za`.
    fn simplified_rings(&self, p: u32, za: &ZoomArcs) -> Vec<Vec<[f64; 2]>> {
        self.polys[p as usize]
            .rings
            .iter()
            .map(|ring| {
                self.topo
                    .ring_vertices(ring, |a, i| {
                        self.importance[a as usize][i] > za.tolerance(a)
                    })
                    .into_iter()
                    .map(|v| self.topo.vertices[v as usize])
                    .collect()
            })
            .collect()
    }

    /// The layer's polygons in one tile: simplified for the tile's zoom,
    /// clipped to the tile plus `buffer` units, quantised to `extent` units
    /// per side, with the drop rule and repair of [`crate::quantize`].
    /// Features come in input order; features with nothing left are omitted.
    pub fn tile_features(
        &self,
        tile: TileId,
        extent: u32,
        buffer: u32,
        simplify_px: f64,
    ) -> Result<Vec<TileFeature>, TilesError> {
        tile.validate()?;
        let cell = self.zoom_arcs(tile.z, simplify_px);
        let za = cell.get().expect("initialised by zoom_arcs");
        let b = tile.bounds();
        let (min_x, max_y) = (b.min().x, b.max().y);
        let scale = f64::from(extent) / tile_width(tile.z);
        let buf_m = f64::from(buffer) / scale;
        let env = AABB::from_corners(
            [min_x - buf_m, b.min().y - buf_m],
            [b.max().x + buf_m, max_y + buf_m],
        );
        let mut hits: Vec<u32> = self
            .rtree
            .locate_in_envelope_intersecting(&env)
            .map(|g| g.data)
            .collect();
        hits.sort_unstable();
        let clip = ClipRect {
            min_x: -f64::from(buffer),
            min_y: -f64::from(buffer),
            max_x: f64::from(extent + buffer),
            max_y: f64::from(extent + buffer),
        };
        let mut out: Vec<TileFeature> = Vec::new();
        let mut current: Option<u32> = None;
        for p in hits {
            let rings = self.simplified_rings(p, za);
            let mut quantised = Vec::with_capacity(rings.len());
            for (k, r) in rings.iter().enumerate() {
                let t: Vec<[f64; 2]> = r
                    .iter()
                    .map(|c| [(c[0] - min_x) * scale, (max_y - c[1]) * scale])
                    .collect();
                let c = clip.clip_ring(&t);
                if c.is_empty() && k == 0 {
                    break;
                }
                if !c.is_empty() {
                    quantised.push(round_ring(&c));
                }
            }
            if quantised.is_empty() {
                continue;
            }
            let parts = finish_polygon(&quantised[0], &quantised[1..]);
            if parts.is_empty() {
                continue;
            }
            let fi = self.polys[p as usize].feature;
            if current != Some(fi) {
                let f = &self.features[fi as usize];
                out.push(TileFeature {
                    id: f.id,
                    properties: f.properties.clone(),
                    polygons: Vec::new(),
                });
                current = Some(fi);
            }
            if let Some(last) = out.last_mut() {
                last.polygons.extend(parts);
            }
        }
        Ok(out)
    }
}

fn union_rect(a: Rect<f64>, b: Rect<f64>) -> Rect<f64> {
    Rect::new(
        coord! { x: a.min().x.min(b.min().x), y: a.min().y.min(b.min().y) },
        coord! { x: a.max().x.max(b.max().x), y: a.max().y.max(b.max().y) },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tile::mercator_to_lonlat;
    use geo_types::{LineString, Polygon};

    /// A polygon from Web Mercator metre coordinates (via lon/lat).
    fn merc_poly(ext: &[(f64, f64)], holes: &[&[(f64, f64)]]) -> Polygon<f64> {
        let ls = |r: &[(f64, f64)]| {
            LineString::from(
                r.iter()
                    .map(|&(x, y)| mercator_to_lonlat(13_375_000.0 + x, 3_540_000.0 + y))
                    .collect::<Vec<_>>(),
            )
        };
        Polygon::new(ls(ext), holes.iter().map(|h| ls(h)).collect())
    }

    fn feature(id: u64, p: Polygon<f64>) -> FeatureInput {
        FeatureInput {
            id,
            geometry: MultiPolygon(vec![p]),
            properties: vec![],
        }
    }

    #[test]
    fn adjacent_squares_share_an_arc() {
        let a = merc_poly(
            &[(0.0, 0.0), (100.0, 0.0), (100.0, 100.0), (0.0, 100.0)],
            &[],
        );
        let b = merc_poly(
            &[(100.0, 0.0), (200.0, 0.0), (200.0, 100.0), (100.0, 100.0)],
            &[],
        );
        let layer = PreparedLayer::new("l", vec![feature(1, a), feature(2, b)]).unwrap();
        assert_eq!(layer.arc_count(), 3);
        assert_eq!(layer.len(), 2);
        let bb = layer.bbox().unwrap();
        assert!(bb.min().x > 120.0 && bb.max().x < 120.2, "{bb:?}");
    }

    #[test]
    fn simplification_falls_back_when_a_hole_would_escape() {
        // The top edge bulges 30 m up around a hole 5..15 m above the edge
        // line. At z10 the tolerance (~76 m) flattens the bulge, which would
        // leave the hole outside the exterior; the fallback must keep it.
        let ext = [
            (0.0, 0.0),
            (1000.0, 0.0),
            (1000.0, 1000.0),
            (600.0, 1000.0),
            (600.0, 1030.0),
            (400.0, 1030.0),
            (400.0, 1000.0),
            (0.0, 1000.0),
        ];
        let hole: &[(f64, f64)] = &[
            (450.0, 1005.0),
            (550.0, 1005.0),
            (550.0, 1015.0),
            (450.0, 1015.0),
        ];
        let layer = PreparedLayer::new("l", vec![feature(9, merc_poly(&ext, &[hole]))]).unwrap();
        let cell = layer.zoom_arcs(10, 0.5);
        let za = cell.get().unwrap();
        assert!(za.tol > 60.0, "{}", za.tol);
        assert!(!za.overrides.is_empty(), "fallback not used");
        assert!(is_valid_polygon(&layer.simplified_rings(0, za)));
        // Without the fallback the polygon is invalid.
        let plain = ZoomArcs {
            tol: za.tol,
            overrides: HashMap::new(),
        };
        assert!(!is_valid_polygon(&layer.simplified_rings(0, &plain)));
        // At a coarse zoom the exterior still simplifies: no override needed
        // at z18 where nothing is removed.
        let z18 = layer.zoom_arcs(18, 0.5);
        assert!(z18.get().unwrap().overrides.is_empty());
    }

    #[test]
    fn concurrent_rendering_is_consistent() {
        let spec = crate::synthetic::GridSpec {
            origin: (120.1, 30.2),
            cell: 0.01,
            nx: 3,
            ny: 3,
            vertices_per_side: 50,
            island_every: 4,
        };
        let layer = PreparedLayer::new("g", crate::synthetic::wiggly_grid(&spec)).unwrap();
        let tile = crate::tile::tile_for_lonlat(120.115, 30.215, 13).unwrap();
        let results: Vec<Vec<TileFeature>> = std::thread::scope(|s| {
            let hs: Vec<_> = (0..4)
                .map(|_| s.spawn(|| layer.tile_features(tile, 4096, 64, 0.5).unwrap()))
                .collect();
            hs.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert!(!results[0].is_empty());
        assert!(results.iter().all(|r| r == &results[0]));
        assert_eq!(layer.zooms.lock().unwrap().len(), 1);
    }
}
