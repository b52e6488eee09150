//! Preparing the levels of a nested grid (street → community → block) so that
//! they nest exactly in every tile.
//!
//! Prepared separately, each level cuts its rings into arcs at its own
//! junctions, so the border of a community is one arc where its blocks'
//! borders are several, and Douglas–Peucker simplifies the two partitions
//! differently: the blocks stop covering their community. In a group, the
//! rings of the levels drawn together go into one [`TopologyBuilder`]: a
//! vertex is a junction when any ring of any of those levels has a different
//! neighbour there, each arc is stored and ranked once, and each zoom's
//! tolerances (including the validity fallback) are settled once for all of
//! them. A parent's border then *is* the chain of its children's outer arcs,
//! simplified, clipped and rounded identically, so within a tile the union of
//! a parent's children equals the parent exactly.
//!
//! **Stages.** Each layer has a first zoom ([`GroupLayer::min_zoom`]). One
//! topology is built per distinct first zoom, over the layers drawn from
//! there on (e.g. street alone from z0, street + community from z11, all
//! three from z13), and a tile of zoom `z` uses the latest one starting at or
//! below `z`. So the levels drawn together always share their topology,
//! while a level not drawn yet neither adds its junctions to the others'
//! borders (coarse tiles stay as small as for a layer prepared alone) nor
//! takes part in their validity fallback.
//!
//! **Drop rule.** The one exception to exact nesting is the per-polygon drop
//! rule of [`crate::quantize`]: a child ring whose rounded area in a tile is
//! below one square tile unit is dropped while its parent is kept. Rounded
//! rings have integer vertices, so a simple ring that small has an area of
//! exactly 1/2 unit², and the children of a parent cover it up to
//! `0.5 × n` unit² in a tile where `n` child rings were dropped (0 when none
//! were). A parent ring that small has children that small too, so all of
//! them go together.
//!
//! **Repair.** The other exception: where two islands of one feature cross
//! or nest after simplification and rounding, they are merged by a boolean
//! union and re-rounded (see [`crate::quantize::finish_feature`]), separately
//! for the district and for the city holding the same islands, so their
//! borders may differ there by rounding (under 5 units² per parent and tile
//! on Zhejiang with every level drawn).
//!
//! Bit-identical coordinates are required for borders to be shared, as for
//! one layer (see [`crate::topology`]); grid data whose parent polygons are
//! built from their children's vertices satisfies it.

use crate::layer::{check_lonlat, union_rect, FeatRec, FeatureInput, PreparedLayer, Stage};
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
    /// Prepares several layers so that, at every zoom, the layers drawn there
    /// share one topology and one simplification (see the [module
    /// documentation](crate::group)): typically the levels of one grid
    /// system, so that in every tile the union of a parent's children equals
    /// the parent. Returns the layers in input order. Input rules and errors are
    /// those of [`PreparedLayer::new`]; two layers with the same name are an
    /// error.
    ///
    /// ```
    /// use gridmap_tiles::group::GroupLayer;
    /// use gridmap_tiles::synthetic::{nested_grid, GridSpec};
    /// use gridmap_tiles::{render_tile, PreparedLayer, TileOptions};
    ///
    /// let spec = GridSpec::new(4, 4, 0.004).with_vertices_per_side(40);
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
            for (fi, f) in l.features.iter().enumerate() {
                check_lonlat(&l.name, fi, f)?;
            }
        }
        let mut starts: Vec<u8> = layers.iter().map(|l| l.min_zoom).collect();
        starts.sort_unstable();
        starts.dedup();
        let n = layers.len();
        let mut stages: Vec<Vec<Stage>> = (0..n).map(|_| Vec::new()).collect();
        let mut bboxes: Vec<Option<Rect<f64>>> = vec![None; n];
        let mut rtrees: Vec<Option<RTree<PolyBox>>> = (0..n).map(|_| None).collect();
        for &from_zoom in &starts {
            let mut builder = TopologyBuilder::new();
            // (feature index in its layer, ring ids), layer by layer.
            let mut raw_polys: Vec<(u32, Vec<u32>)> = Vec::new();
            let mut spans = Vec::new();
            for (li, layer) in layers.iter().enumerate() {
                if layer.min_zoom > from_zoom {
                    continue;
                }
                let first = raw_polys.len() as u32;
                // Ring acceptance does not depend on the other rings, so the
                // layer's polygons get the same indices in every stage.
                let bbox = (layer.min_zoom == from_zoom).then_some(&mut bboxes[li]);
                add_layer(&mut builder, layer, &mut raw_polys, bbox);
                spans.push((li, first, raw_polys.len() as u32));
            }
            let shared = Arc::new(SharedTopology::new(builder.build(), raw_polys));
            for (li, first, end) in spans {
                if rtrees[li].is_none() {
                    let boxes = (first..end)
                        .map(|p| {
                            let (lo, hi) = shared.exterior_box(p);
                            GeomWithData::new(Rectangle::from_corners(lo, hi), p - first)
                        })
                        .collect();
                    rtrees[li] = Some(RTree::bulk_load(boxes));
                }
                stages[li].push(Stage {
                    from_zoom,
                    shared: shared.clone(),
                    first_poly: first,
                });
            }
        }
        Ok(layers
            .into_iter()
            .zip(stages.into_iter().zip(bboxes).zip(rtrees))
            .map(|(layer, ((stages, bbox), rtree))| PreparedLayer {
                name: layer.name,
                stages,
                features: layer
                    .features
                    .into_iter()
                    .map(|f| FeatRec {
                        id: f.id,
                        properties: f.properties,
                    })
                    .collect(),
                rtree: rtree.expect("every layer is in its own first stage"),
                bbox,
                min_zoom: layer.min_zoom,
            })
            .collect())
    }
}

type PolyBox = GeomWithData<Rectangle<[f64; 2]>, u32>;

/// Projects a layer's rings to Web Mercator and adds them to `builder`,
/// appending its polygons to `polys`; with `bbox`, also extends it by the
/// lon/lat exteriors of the polygons kept. Rings with fewer than 3 distinct
/// positions are skipped, and a polygon whose exterior is skipped is skipped
/// whole.
fn add_layer(
    builder: &mut TopologyBuilder,
    layer: &GroupLayer,
    polys: &mut Vec<(u32, Vec<u32>)>,
    mut bbox: Option<&mut Option<Rect<f64>>>,
) {
    for (fi, f) in layer.features.iter().enumerate() {
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
                if let (0, Some(b)) = (ri, bbox.as_deref_mut()) {
                    for c in ring.coords() {
                        let r = Rect::new(*c, *c);
                        *b = Some(b.map_or(r, |x| union_rect(x, r)));
                    }
                }
            }
            if !ring_ids.is_empty() {
                polys.push((fi as u32, ring_ids));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::{decode_tile, polygons_from_rings, rings_from_commands};
    use crate::mvt::PropValue;
    use crate::quantize::polygon_to_geo;
    use crate::render::{render_tile, TileOptions};
    use crate::synthetic::{nested_grid, GridSpec};
    use crate::tile::{mercator_to_lonlat, tiles_covering, TileId};
    use geo::{unary_union, Area, BooleanOps};
    use geo_types::{LineString, MultiPolygon, Polygon};
    use std::collections::{BTreeMap, BTreeSet};

    const SPEC: GridSpec = GridSpec::new(6, 5, 0.004)
        .with_vertices_per_side(120)
        .with_islands_every(7);

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
                let mp = MultiPolygon(polys.iter().map(polygon_to_geo).collect());
                (f.id.unwrap(), (parent, mp))
            })
            .collect()
    }

    /// Nesting errors of one tile, in square tile units: the largest
    /// symmetric difference between a parent and the union of its children
    /// (a parent or a set of children missing counts as empty), and the
    /// overlap between all children.
    fn tile_errors(
        parents: &PreparedLayer,
        children: &PreparedLayer,
        tile: TileId,
        opts: &TileOptions,
    ) -> (f64, f64) {
        let mvt = render_tile(tile, &[parents, children], None, opts).unwrap();
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
            let parent = ps
                .get(&id)
                .map_or_else(|| MultiPolygon(vec![]), |p| p.1.clone());
            worst = worst.max(parent.xor(&union).unsigned_area());
        }
        let all: Vec<&MultiPolygon<f64>> = cs.values().map(|c| &c.1).collect();
        let sum: f64 = all.iter().map(|g| g.unsigned_area()).sum();
        let overlap = sum - unary_union(all).unsigned_area();
        (worst, overlap)
    }

    /// Worst errors over every tile of zooms 8 to 18 at a normal and an
    /// aggressive simplification, and the number of tiles checked.
    fn worst_errors(parents: &PreparedLayer, children: &PreparedLayer) -> (f64, f64, usize) {
        let (mut nest, mut over, mut n) = (0.0f64, 0.0f64, 0);
        for simplify_px in [0.5, 3.0] {
            let opts = TileOptions {
                simplify_px,
                ..TileOptions::default()
            };
            for z in 8..=18 {
                for tile in tiles_covering(parents.bbox().unwrap(), z).unwrap().iter() {
                    let (a, b) = tile_errors(parents, children, tile, &opts);
                    nest = nest.max(a);
                    over = over.max(b);
                    n += 1;
                }
            }
        }
        (nest, over, n)
    }

    /// In every tile of `zooms` over the parents, at the default
    /// simplification, the children cover their parent exactly and never
    /// overlap.
    fn assert_nest_exactly(
        parents: &PreparedLayer,
        children: &PreparedLayer,
        zooms: std::ops::RangeInclusive<u8>,
    ) {
        let opts = TileOptions::default();
        for z in zooms {
            for tile in tiles_covering(parents.bbox().unwrap(), z).unwrap().iter() {
                assert_eq!(
                    tile_errors(parents, children, tile, &opts),
                    (0.0, 0.0),
                    "{tile}"
                );
            }
        }
    }

    #[test]
    fn grouped_children_cover_their_parent_exactly() {
        let (parents, children) = nested_grid(&SPEC, 3);
        let layers = PreparedLayer::new_group(vec![
            GroupLayer::new("community", parents),
            GroupLayer::new("block", children),
        ])
        .unwrap();
        let (nest, overlap, tiles) = worst_errors(&layers[0], &layers[1]);
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
        let (nest, overlap, _) = worst_errors(&p, &c);
        assert!(nest > 100.0, "{nest}");
        assert_eq!(overlap, 0.0, "siblings of one layer still never overlap");
    }

    /// A polygon from Web Mercator metre offsets (via lon/lat).
    fn merc_poly(ext: &[(f64, f64)], holes: &[&[(f64, f64)]]) -> MultiPolygon<f64> {
        let ls = |r: &[(f64, f64)]| {
            LineString::from(
                r.iter()
                    .map(|&(x, y)| mercator_to_lonlat(13_375_000.0 + x, 3_540_000.0 + y))
                    .collect::<Vec<_>>(),
            )
        };
        MultiPolygon(vec![Polygon::new(
            ls(ext),
            holes.iter().map(|h| ls(h)).collect(),
        )])
    }

    fn feature(id: u64, parent: Option<i64>, geometry: MultiPolygon<f64>) -> FeatureInput {
        FeatureInput {
            id,
            geometry,
            properties: parent
                .map(|p| ("parent".to_string(), PropValue::Int(p)))
                .into_iter()
                .collect(),
        }
    }

    /// A parent of two blocks, the left one with a hole just under a 30 m
    /// bulge of the parent's top border, filled by an island block. At z10
    /// (tolerance ~76 m) flattening the bulge lets the hole escape its block.
    fn bulge_levels() -> (Vec<FeatureInput>, Vec<FeatureInput>) {
        let bulge = [
            (600.0, 1000.0),
            (600.0, 1030.0),
            (400.0, 1030.0),
            (400.0, 1000.0),
        ];
        let hole = [
            (450.0, 1005.0),
            (550.0, 1005.0),
            (550.0, 1015.0),
            (450.0, 1015.0),
        ];
        let mut parent = vec![(0.0, 0.0), (1000.0, 0.0), (2000.0, 0.0), (2000.0, 1000.0)];
        parent.push((1000.0, 1000.0));
        parent.extend(bulge);
        parent.push((0.0, 1000.0));
        let mut left = vec![(0.0, 0.0), (1000.0, 0.0), (1000.0, 1000.0)];
        left.extend(bulge);
        left.push((0.0, 1000.0));
        let right = [
            (1000.0, 0.0),
            (2000.0, 0.0),
            (2000.0, 1000.0),
            (1000.0, 1000.0),
        ];
        let island: Vec<(f64, f64)> = hole.iter().rev().copied().collect();
        let children = vec![
            feature(11, Some(1), merc_poly(&left, &[&hole])),
            feature(12, Some(1), merc_poly(&right, &[])),
            feature(13, Some(1), merc_poly(&island, &[])),
        ];
        (vec![feature(1, None, merc_poly(&parent, &[]))], children)
    }

    /// Highest Mercator y offset among the parent's simplified vertices.
    fn parent_top(layer: &PreparedLayer, z: u8) -> f64 {
        let stage = layer.stage_at(z).unwrap();
        let cell = stage.shared.zoom_arcs(z, 0.5);
        let rings = stage
            .shared
            .simplified_rings(stage.first_poly, cell.get().unwrap());
        rings[0]
            .iter()
            .map(|c| c[1] - 3_540_000.0)
            .fold(f64::MIN, f64::max)
    }

    #[test]
    fn validity_fallback_of_a_child_applies_to_its_parent() {
        // Alone, the parent is valid without the bulge and loses it.
        let (parents, children) = bulge_levels();
        let alone = PreparedLayer::new("community", parents.clone()).unwrap();
        assert!(parent_top(&alone, 10) < 1001.0);
        // Grouped, the block's fallback keeps the bulge in both levels.
        let layers = PreparedLayer::new_group(vec![
            GroupLayer::new("community", parents),
            GroupLayer::new("block", children),
        ])
        .unwrap();
        assert!(parent_top(&layers[0], 10) > 1029.0);
        let stage = layers[0].stage_at(10).unwrap();
        assert!(!stage
            .shared
            .zoom_arcs(10, 0.5)
            .get()
            .unwrap()
            .overrides
            .is_empty());
        assert_nest_exactly(&layers[0], &layers[1], 10..=17);
    }

    #[test]
    fn layers_below_their_min_zoom_neither_render_nor_constrain() {
        let (parents, children) = bulge_levels();
        let layers = PreparedLayer::new_group(vec![
            GroupLayer::new("community", parents),
            GroupLayer::new("block", children).from_zoom(11),
        ])
        .unwrap();
        assert_eq!((layers[0].min_zoom(), layers[1].min_zoom()), (0, 11));
        // At z10 the blocks are not drawn, so their fallback does not hold the
        // parent's bulge; from z11 on both levels are drawn and settled together.
        assert!(parent_top(&layers[0], 10) < 1001.0);
        let tile = tiles_covering(layers[0].bbox().unwrap(), 10)
            .unwrap()
            .iter()
            .next()
            .unwrap();
        let opts = TileOptions::default();
        assert!(layers[1]
            .tile_features(tile, 4096, 64, 0.5)
            .unwrap()
            .is_empty());
        assert!(!layers[0]
            .tile_features(tile, 4096, 64, 0.5)
            .unwrap()
            .is_empty());
        let mvt = render_tile(tile, &[&layers[0], &layers[1]], None, &opts).unwrap();
        assert_eq!(decode_tile(&mvt).unwrap().len(), 1);
        assert_nest_exactly(&layers[0], &layers[1], 11..=15);
    }

    #[test]
    fn shared_topology_and_errors() {
        let (parents, children) = nested_grid(&SPEC, 3);
        let alone = PreparedLayer::new("block", children.clone()).unwrap();
        let layers = PreparedLayer::new_group(vec![
            GroupLayer::new("community", parents.clone()),
            GroupLayer::new("block", children.clone()),
        ])
        .unwrap();
        assert_eq!((layers[0].name(), layers[1].name()), ("community", "block"));
        assert_eq!(
            (layers[0].len(), layers[1].len()),
            (parents.len(), children.len())
        );
        // Parents add no vertex, so no arc beyond the blocks' own ones: the
        // block layer alone already has every junction of the group.
        assert_eq!(layers[0].arc_count(), alone.arc_count());
        assert!(layers[0].same_group(&layers[1]) && !alone.same_group(&layers[1]));
        let e = PreparedLayer::new_group(vec![
            GroupLayer::new("block", parents.clone()),
            GroupLayer::new("block", children.clone()),
        ])
        .unwrap_err()
        .to_string();
        assert!(e.contains("'block' appears twice"), "{e}");
        let mut bad = children;
        bad[4].geometry.0[0].exterior_mut(|r| r.0[1].y = f64::NAN);
        let e = PreparedLayer::new_group(vec![
            GroupLayer::new("community", parents),
            GroupLayer::new("block", bad),
        ])
        .unwrap_err()
        .to_string();
        assert!(e.contains("layer 'block', feature 4 (id 5)"), "{e}");
    }

    #[test]
    fn coarse_zooms_use_only_the_layers_drawn() {
        let (parents, children) = nested_grid(&SPEC, 3);
        let alone = PreparedLayer::new("community", parents.clone()).unwrap();
        let layers = PreparedLayer::new_group(vec![
            GroupLayer::new("community", parents),
            GroupLayer::new("block", children).from_zoom(14),
        ])
        .unwrap();
        assert_eq!((layers[0].stages.len(), layers[1].stages.len()), (2, 1));
        assert!(Arc::ptr_eq(
            &layers[0].stages[1].shared,
            &layers[1].stages[0].shared
        ));
        let opts = TileOptions::default();
        let mut compared = 0;
        for z in 8..=15 {
            for tile in tiles_covering(alone.bbox().unwrap(), z).unwrap().iter() {
                let solo = render_tile(tile, &[&alone], None, &opts).unwrap();
                let grouped = render_tile(tile, &[&layers[0], &layers[1]], None, &opts).unwrap();
                if z < 14 {
                    // Below the blocks' first zoom: exactly the parent alone.
                    assert_eq!(grouped, solo, "{tile}");
                    compared += 1;
                } else {
                    assert_eq!(tile_errors(&layers[0], &layers[1], tile, &opts), (0.0, 0.0));
                }
            }
        }
        assert!(compared > 5, "{compared}");
        // From z14 the parent has the blocks' junctions on its border.
        assert!(layers[0].arc_count() > alone.arc_count());
    }
}
