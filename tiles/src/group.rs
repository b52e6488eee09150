//! Preparing the levels of a nested grid (street → community → block) as one
//! group over one shared arc topology.
//!
//! Prepared separately, each level cuts its rings into arcs at its own
//! junctions, so the border of a community is one arc where its blocks'
//! borders are several, and Douglas–Peucker simplifies the two partitions
//! differently: the blocks stop covering their community. In a group, the
//! rings of all levels go into one [`TopologyBuilder`]: a vertex is a
//! junction when any ring of any level has a different neighbour there, each
//! arc is stored and ranked once, and each zoom's tolerances (including the
//! validity fallback) are settled once for all levels. A parent's border
//! then *is* the chain of its children's outer arcs, simplified, clipped and
//! rounded identically, so within a tile the union of a parent's children
//! equals the parent exactly.
//!
//! The one exception is the per-polygon drop rule of [`crate::quantize`]: a
//! child ring whose rounded area in a tile is below one square tile unit is
//! dropped while its parent is kept. Rounded rings have integer vertices, so
//! such a ring has an area of exactly 1/2 unit² (cleaned rings never have 0),
//! and the children of a parent cover it up to `0.5 × n` unit² in a tile
//! where `n` of them lost a ring to the rule (0 when none did).
//!
//! Bit-identical coordinates are required for borders to be shared, as for
//! one layer (see [`crate::topology`]); grid data whose parent polygons are
//! built from their children's vertices satisfies it.

use crate::layer::{check_lonlat, union_rect, FeatRec, FeatureInput, PreparedLayer};
use crate::shared::SharedTopology;
use crate::tile::lonlat_to_mercator;
use crate::topology::TopologyBuilder;
use crate::TilesError;
use geo_types::Rect;
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::RTree;
use std::collections::HashSet;
use std::sync::Arc;

/// One layer of a group for [`PreparedLayer::new_group`].
#[derive(Debug, Clone, PartialEq)]
pub struct GroupLayer {
    /// Layer name (the MVT layer name); distinct within a group.
    pub name: String,
    /// First zoom at which the layer is drawn. Below it the layer renders
    /// nothing and its polygons take no part in the zoom's validity fallback,
    /// so a level too fine to be drawn never forces detail on the others.
    pub min_zoom: u8,
    /// The features.
    pub features: Vec<FeatureInput>,
}

impl GroupLayer {
    /// A layer drawn from zoom 0.
    pub fn new(name: impl Into<String>, features: Vec<FeatureInput>) -> Self {
        GroupLayer {
            name: name.into(),
            min_zoom: 0,
            features,
        }
    }

    /// The same layer drawn from zoom `z` on.
    pub fn from_zoom(mut self, z: u8) -> Self {
        self.min_zoom = z;
        self
    }
}

impl PreparedLayer {
    /// Prepares several layers over one shared topology (see the [module
    /// documentation](crate::group)): typically the levels of one grid system,
    /// so that in every tile the union of a parent's children equals the
    /// parent. Returns the layers in input order. Input rules and errors are
    /// those of [`PreparedLayer::new`]; two layers with the same name are an
    /// error.
    ///
    /// ```
    /// use gridmap_tiles::group::GroupLayer;
    /// use gridmap_tiles::synthetic::{nested_grid, GridSpec};
    /// use gridmap_tiles::{render_tile, PreparedLayer, TileOptions};
    ///
    /// let spec = GridSpec { origin: (120.1, 30.2), cell: 0.004, nx: 4, ny: 4,
    ///                       vertices_per_side: 40, island_every: 0 };
    /// let (parents, children) = nested_grid(&spec, 2);
    /// let layers = PreparedLayer::new_group(vec![
    ///     GroupLayer::new("community", parents),
    ///     GroupLayer::new("block", children).from_zoom(13),
    /// ])
    /// .unwrap();
    /// assert!(layers[0].same_group(&layers[1]));
    /// let tile = gridmap_tiles::tile::tile_for_lonlat(120.108, 30.208, 14).unwrap();
    /// let refs: Vec<&PreparedLayer> = layers.iter().collect();
    /// let mvt = render_tile(tile, &refs, None, &TileOptions::default()).unwrap();
    /// let decoded = gridmap_tiles::decode::decode_tile(&mvt).unwrap();
    /// assert_eq!(decoded.len(), 2);
    /// ```
    pub fn new_group(layers: Vec<GroupLayer>) -> Result<Vec<PreparedLayer>, TilesError> {
        let mut names = HashSet::new();
        for l in &layers {
            if !names.insert(l.name.as_str()) {
                return Err(TilesError::InvalidInput(format!(
                    "layer '{}' appears twice in one group",
                    l.name
                )));
            }
        }
        let mut builder = TopologyBuilder::new();
        // (feature index in its layer, layer min zoom, ring ids), layer by layer.
        let mut raw_polys: Vec<(u32, u8, Vec<u32>)> = Vec::new();
        let mut parts = Vec::with_capacity(layers.len());
        for layer in layers {
            let start = raw_polys.len() as u32;
            let mut feats = Vec::with_capacity(layer.features.len());
            let mut bbox: Option<Rect<f64>> = None;
            for (fi, f) in layer.features.into_iter().enumerate() {
                check_lonlat(&layer.name, fi, &f)?;
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
                        raw_polys.push((fi as u32, layer.min_zoom, ring_ids));
                    }
                }
                feats.push(FeatRec {
                    id: f.id,
                    properties: f.properties,
                });
            }
            let end = raw_polys.len() as u32;
            parts.push((layer.name, layer.min_zoom, feats, bbox, start..end));
        }
        let shared = Arc::new(SharedTopology::new(builder.build(), raw_polys));
        Ok(parts
            .into_iter()
            .map(|(name, min_zoom, features, bbox, polys)| {
                let boxes = polys
                    .map(|p| {
                        let (lo, hi) = shared.exterior_box(p);
                        GeomWithData::new(Rectangle::from_corners(lo, hi), p)
                    })
                    .collect();
                PreparedLayer {
                    name,
                    shared: shared.clone(),
                    features,
                    rtree: RTree::bulk_load(boxes),
                    bbox,
                    min_zoom,
                }
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::{decode_tile, polygons_from_rings, rings_from_commands};
    use crate::mvt::PropValue;
    use crate::quantize::TilePolygon;
    use crate::render::{render_tile, TileOptions};
    use crate::synthetic::{nested_grid, GridSpec};
    use crate::tile::{mercator_to_lonlat, tiles_covering, TileId};
    use geo::{unary_union, Area, BooleanOps};
    use geo_types::{LineString, MultiPolygon, Polygon};
    use std::collections::{BTreeMap, BTreeSet};

    const SPEC: GridSpec = GridSpec {
        origin: (120.1, 30.2),
        cell: 0.004,
        nx: 6,
        ny: 5,
        vertices_per_side: 120,
        island_every: 7,
    };

    fn to_geo(p: &TilePolygon) -> Polygon<f64> {
        let ls = |r: &Vec<[i32; 2]>| {
            let mut v: Vec<(f64, f64)> = r
                .iter()
                .map(|q| (f64::from(q[0]), f64::from(q[1])))
                .collect();
            v.push(v[0]);
            LineString::from(v)
        };
        Polygon::new(ls(&p[0]), p[1..].iter().map(ls).collect())
    }

    /// Decoded features of one layer: id → (parent property, polygons).
    fn decoded(mvt: &[u8], layer: &str) -> BTreeMap<u64, (Option<u64>, MultiPolygon<f64>)> {
        let layers = decode_tile(mvt).unwrap();
        let Some(l) = layers.iter().find(|l| l.name == layer) else {
            return BTreeMap::new();
        };
        l.features
            .iter()
            .map(|f| {
                let polys = polygons_from_rings(rings_from_commands(&f.geometry).unwrap()).unwrap();
                let parent = f.properties.iter().find_map(|(k, v)| match v {
                    PropValue::Int(p) if k == "parent" => Some(*p as u64),
                    _ => None,
                });
                let mp = MultiPolygon(polys.iter().map(to_geo).collect());
                (f.id.unwrap(), (parent, mp))
            })
            .collect()
    }

    /// Nesting errors of one tile, in square tile units: the largest
    /// symmetric difference between a parent and the union of its children
    /// (a parent or a set of children missing counts as empty), and the
    /// overlap between all children.
    fn tile_errors(parents: &PreparedLayer, children: &PreparedLayer, tile: TileId) -> (f64, f64) {
        let mvt = render_tile(tile, &[parents, children], None, &TileOptions::default()).unwrap();
        let ps = decoded(&mvt, parents.name());
        let cs = decoded(&mvt, children.name());
        let mut kids: BTreeMap<u64, Vec<&MultiPolygon<f64>>> = BTreeMap::new();
        for (parent, g) in cs.values() {
            kids.entry(parent.expect("children carry `parent`"))
                .or_default()
                .push(g);
        }
        let ids: BTreeSet<u64> = ps.keys().chain(kids.keys()).copied().collect();
        let mut worst: f64 = 0.0;
        for id in ids {
            let union = kids
                .get(&id)
                .map_or_else(|| MultiPolygon(vec![]), |k| unary_union(k.iter().copied()));
            let parent = ps.get(&id).map_or_else(|| MultiPolygon(vec![]), |p| p.1.clone());
            worst = worst.max(parent.xor(&union).unsigned_area());
        }
        let all: Vec<&MultiPolygon<f64>> = cs.values().map(|c| &c.1).collect();
        let sum: f64 = all.iter().map(|g| g.unsigned_area()).sum();
        let overlap = sum - unary_union(all).unsigned_area();
        (worst, overlap)
    }

    /// Worst errors over every tile of the zooms, and the number of tiles
    /// that had both layers.
    fn worst_errors(parents: &PreparedLayer, children: &PreparedLayer, zooms: &[u8]) -> (f64, f64, usize) {
        let (mut nest, mut over, mut n) = (0.0f64, 0.0f64, 0);
        for &z in zooms {
            for tile in tiles_covering(parents.bbox().unwrap(), z).unwrap().iter() {
                let (a, b) = tile_errors(parents, children, tile);
                nest = nest.max(a);
                over = over.max(b);
                n += 1;
            }
        }
        (nest, over, n)
    }

    const ZOOMS: [u8; 8] = [10, 11, 12, 13, 14, 15, 16, 17];

    #[test]
    fn grouped_children_cover_their_parent_exactly() {
        let (parents, children) = nested_grid(&SPEC, 3);
        let layers = PreparedLayer::new_group(vec![
            GroupLayer::new("community", parents),
            GroupLayer::new("block", children),
        ])
        .unwrap();
        let (nest, overlap, tiles) = worst_errors(&layers[0], &layers[1], &ZOOMS);
        assert!(tiles > 100, "{tiles}");
        assert_eq!(nest, 0.0, "parent vs union of children");
        assert_eq!(overlap, 0.0, "siblings overlap");
    }

    /// The same data prepared one layer at a time does not nest, so the test
    /// above is meaningful.
    #[test]
    fn separately_prepared_levels_do_not_nest() {
        let (parents, children) = nested_grid(&SPEC, 3);
        let p = PreparedLayer::new("community", parents).unwrap();
        let c = PreparedLayer::new("block", children).unwrap();
        assert!(!p.same_group(&c));
        let (nest, overlap, _) = worst_errors(&p, &c, &ZOOMS);
        assert!(nest > 100.0, "{nest}");
        assert_eq!(overlap, 0.0, "siblings of one layer still never overlap");
    }
}
