//! Encoding one tile from prepared layers.

use crate::label::LabelLayer;
use crate::layer::PreparedLayer;
use crate::mvt::{point_commands, polygon_commands, GeomType, LayerBuilder};
use crate::tile::TileId;
use crate::TilesError;

/// Tile encoding options.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TileOptions {
    /// Tile units per side (MVT `extent`).
    pub extent: u32,
    /// Clip buffer around the tile, tile units; geometry is kept this far
    /// beyond the tile edge so that strokes join seamlessly.
    pub buffer: u32,
    /// Simplification tolerance in pixels of a 256-pixel tile (one pixel is
    /// `extent / 256` units, i.e. 16 units at extent 4096).
    pub simplify_px: f64,
}

impl Default for TileOptions {
    /// extent 4096, buffer 64, simplify_px 0.5.
    fn default() -> Self {
        TileOptions {
            extent: 4096,
            buffer: 64,
            simplify_px: 0.5,
        }
    }
}

impl TileOptions {
    /// Checks ranges: extent in 256..=65536 (keeps coordinates well inside
    /// `i32`), buffer <= extent, simplify_px finite and >= 0.
    pub fn validate(&self) -> Result<(), TilesError> {
        if !(256..=65536).contains(&self.extent) {
            return Err(TilesError::InvalidInput(format!(
                "tile extent {} outside 256..=65536",
                self.extent
            )));
        }
        if self.buffer > self.extent {
            return Err(TilesError::InvalidInput(format!(
                "tile buffer {} larger than extent {}",
                self.buffer, self.extent
            )));
        }
        if !self.simplify_px.is_finite() || self.simplify_px < 0.0 {
            return Err(TilesError::InvalidInput(format!(
                "simplify_px {} must be finite and >= 0",
                self.simplify_px
            )));
        }
        Ok(())
    }
}

/// Encodes one tile: for each layer, its polygons intersecting the tile
/// (MVT polygon features with the input ids and properties), then, if given,
/// the label points inside the tile plus buffer (point features). Returns
/// uncompressed MVT bytes (use [`crate::gzip`] to compress); layers with no
/// feature are omitted, so a tile with nothing in it is an empty `Vec`.
///
/// ```
/// use gridmap_tiles::{render_tile, PreparedLayer, TileId, TileOptions};
/// use gridmap_tiles::synthetic::{wiggly_grid, GridSpec};
///
/// let spec = GridSpec::new(3, 3, 0.01);
/// let layer = PreparedLayer::new("grids", wiggly_grid(&spec)).unwrap();
/// let tile = gridmap_tiles::tile::tile_for_lonlat(120.115, 30.215, 12).unwrap();
/// let mvt = render_tile(tile, &[&layer], None, &TileOptions::default()).unwrap();
/// let decoded = gridmap_tiles::decode::decode_tile(&mvt).unwrap();
/// assert_eq!(decoded[0].name, "grids");
/// assert_eq!(decoded[0].features.len(), 9);
/// ```
pub fn render_tile(
    tile: TileId,
    layers: &[&PreparedLayer],
    labels: Option<&LabelLayer>,
    opts: &TileOptions,
) -> Result<Vec<u8>, TilesError> {
    tile.validate()?;
    opts.validate()?;
    let mut out = Vec::new();
    for layer in layers {
        let feats = layer.tile_features(tile, opts.extent, opts.buffer, opts.simplify_px)?;
        if feats.is_empty() {
            continue;
        }
        let mut lb = LayerBuilder::new(layer.name(), opts.extent);
        for f in &feats {
            lb.add_feature(
                Some(f.id),
                GeomType::Polygon,
                &polygon_commands(&f.polygons),
                &f.properties,
            );
        }
        lb.finish_into(&mut out);
    }
    if let Some(labels) = labels {
        let pts = labels.tile_points(tile, opts.extent, opts.buffer);
        if !pts.is_empty() {
            let mut lb = LayerBuilder::new(labels.name(), opts.extent);
            for l in pts {
                lb.add_feature(
                    Some(l.id),
                    GeomType::Point,
                    &point_commands(&[l.point]),
                    l.properties,
                );
            }
            lb.finish_into(&mut out);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::{decode_tile, polygons_from_rings, rings_from_commands};
    use crate::label::LabelLayer;
    use crate::quantize::{area2, polygon_to_f64, polygon_to_geo, TilePolygon};
    use crate::synthetic::{wiggly_grid, GridSpec};
    use crate::tile::{tiles_covering, TileRange};
    use crate::valid::is_valid_polygon;
    use geo::{unary_union, Area};
    use geo_types::{MultiPolygon, Polygon};
    use std::collections::{BTreeSet, HashMap};

    const SPEC: GridSpec = GridSpec::new(4, 3, 0.004)
        .with_vertices_per_side(150)
        .with_islands_every(5);

    fn decoded_polys(mvt: &[u8], layer: &str) -> Vec<(u64, Vec<TilePolygon>)> {
        let layers = decode_tile(mvt).unwrap();
        let Some(l) = layers.iter().find(|l| l.name == layer) else {
            return vec![];
        };
        assert_eq!((l.extent, l.version), (4096, 2));
        l.features
            .iter()
            .map(|f| {
                assert_eq!(f.geom_type, 3);
                let polys = polygons_from_rings(rings_from_commands(&f.geometry).unwrap()).unwrap();
                (f.id.unwrap(), polys)
            })
            .collect()
    }

    fn range(z: u8) -> TileRange {
        let f = wiggly_grid(&SPEC);
        let layer = PreparedLayer::new("g", f).unwrap();
        tiles_covering(layer.bbox().unwrap(), z).unwrap()
    }

    /// The core guarantee: in every tile at every zoom, decoded polygons are
    /// valid, correctly wound, and neither overlap nor leave gaps between
    /// neighbours: their areas add up to the area of their union, and the
    /// union has no holes except the islands' holes that are dropped along
    /// with their islands.
    #[test]
    fn shared_borders_stay_shared() {
        let layer = PreparedLayer::new("grids", wiggly_grid(&SPEC)).unwrap();
        let opts = TileOptions::default();
        let mut checked = 0;
        for z in [8u8, 11, 13, 14, 15, 17] {
            for tile in range(z).iter() {
                let mvt = render_tile(tile, &[&layer], None, &opts).unwrap();
                let feats = decoded_polys(&mvt, "grids");
                let mut all: Vec<Polygon<f64>> = Vec::new();
                let mut sum = 0.0;
                for (id, polys) in &feats {
                    for p in polys {
                        assert!(
                            is_valid_polygon(&polygon_to_f64(p)),
                            "z{z} feature {id} invalid"
                        );
                        assert!(area2(&p[0]) > 0);
                        assert!(p[1..].iter().all(|h| area2(h) < 0));
                        let g = polygon_to_geo(p);
                        sum += g.unsigned_area();
                        all.push(g);
                    }
                }
                if all.is_empty() {
                    continue;
                }
                let union: MultiPolygon<f64> = unary_union(all.iter());
                let ua = union.unsigned_area();
                assert!(
                    (sum - ua).abs() < 1e-6 * ua.max(1.0),
                    "tile {tile}: sum {sum} union {ua}"
                );
                // No gaps: the grid is one piece without holes (islands fill
                // their holes), so the union of its parts has no holes.
                for p in &union {
                    assert!(
                        p.interiors().is_empty(),
                        "tile {tile}: gap {:?}",
                        p.interiors()
                    );
                }
                checked += 1;
            }
        }
        assert!(checked > 20, "{checked}");
    }

    /// Heavy simplification at low zooms collapses and drops small cells;
    /// what remains must still be valid and never overlap.
    #[test]
    fn aggressive_simplification_never_overlaps() {
        let spec = GridSpec {
            nx: 8,
            ny: 8,
            vertices_per_side: 80,
            ..SPEC
        };
        let layer = PreparedLayer::new("grids", wiggly_grid(&spec)).unwrap();
        let opts = TileOptions {
            simplify_px: 3.0,
            ..TileOptions::default()
        };
        for z in 7u8..=14 {
            let r = tiles_covering(layer.bbox().unwrap(), z).unwrap();
            for tile in r.iter() {
                let feats =
                    decoded_polys(&render_tile(tile, &[&layer], None, &opts).unwrap(), "grids");
                let mut all = Vec::new();
                for (id, polys) in &feats {
                    for p in polys {
                        assert!(
                            is_valid_polygon(&polygon_to_f64(p)),
                            "z{z} feature {id} invalid"
                        );
                        all.push(polygon_to_geo(p));
                    }
                }
                let sum: f64 = all.iter().map(Area::unsigned_area).sum();
                let ua = unary_union(all.iter()).unsigned_area();
                assert!(
                    (sum - ua).abs() < 1e-6 * ua.max(1.0),
                    "tile {tile}: sum {sum} union {ua}"
                );
            }
        }
    }

    #[test]
    fn neighbours_share_identical_vertices() {
        // At a detailed zoom every vertex on the border between two cells
        // appears in both decoded polygons.
        let layer = PreparedLayer::new("grids", wiggly_grid(&SPEC)).unwrap();
        let opts = TileOptions::default();
        for tile in range(15).iter() {
            let feats = decoded_polys(&render_tile(tile, &[&layer], None, &opts).unwrap(), "grids");
            let sets: HashMap<u64, BTreeSet<[i32; 2]>> = feats
                .iter()
                .map(|(id, ps)| (*id, ps.iter().flatten().flatten().copied().collect()))
                .collect();
            // Cells 1 and 2 are horizontal neighbours; their shared vertices
            // must be a chain of more than the two junctions when both are in.
            if let (Some(a), Some(b)) = (sets.get(&1), sets.get(&2)) {
                let common = a.intersection(b).count();
                assert!(common >= 2, "tile {tile}: {common}");
            }
        }
    }

    #[test]
    fn ids_and_tags_stable_across_zooms() {
        let features = wiggly_grid(&SPEC);
        let expected: HashMap<u64, _> = features
            .iter()
            .map(|f| (f.id, f.properties.clone()))
            .collect();
        let layer = PreparedLayer::new("grids", features).unwrap();
        for z in [10u8, 14, 16] {
            let mut seen = BTreeSet::new();
            for tile in range(z).iter() {
                let mvt = render_tile(tile, &[&layer], None, &TileOptions::default()).unwrap();
                for l in decode_tile(&mvt).unwrap() {
                    for f in &l.features {
                        let id = f.id.unwrap();
                        assert_eq!(&f.properties, &expected[&id], "z{z} id {id}");
                        seen.insert(id);
                    }
                }
            }
            let all: BTreeSet<u64> = expected.keys().copied().collect();
            assert_eq!(seen, all, "z{z}: every feature appears");
        }
    }

    #[test]
    fn clip_buffer() {
        let layer = PreparedLayer::new("grids", wiggly_grid(&SPEC)).unwrap();
        let tile = range(16).iter().nth(5).unwrap();
        for buffer in [0u32, 64, 256] {
            let opts = TileOptions {
                buffer,
                ..TileOptions::default()
            };
            let feats = decoded_polys(&render_tile(tile, &[&layer], None, &opts).unwrap(), "grids");
            let b = buffer as i32;
            let pts: Vec<[i32; 2]> = feats
                .iter()
                .flat_map(|(_, p)| p.iter().flatten().flatten().copied())
                .collect();
            assert!(!pts.is_empty());
            assert!(pts
                .iter()
                .all(|p| p[0] >= -b && p[0] <= 4096 + b && p[1] >= -b && p[1] <= 4096 + b));
            // Geometry does reach the buffer edge (the grid covers the tile).
            assert!(pts
                .iter()
                .any(|p| p[0] == -b || p[0] == 4096 + b || p[1] == -b || p[1] == 4096 + b));
        }
    }

    #[test]
    fn empty_tile_and_errors() {
        let layer = PreparedLayer::new("grids", wiggly_grid(&SPEC)).unwrap();
        let far = TileId::new(10, 0, 0).unwrap();
        assert!(render_tile(far, &[&layer], None, &TileOptions::default())
            .unwrap()
            .is_empty());
        let bad = TileId { z: 3, x: 9, y: 0 };
        assert!(render_tile(bad, &[&layer], None, &TileOptions::default()).is_err());
        let opts = TileOptions {
            simplify_px: f64::NAN,
            ..TileOptions::default()
        };
        assert!(render_tile(far, &[&layer], None, &opts).is_err());
        let mut f = wiggly_grid(&SPEC);
        f[3].geometry.0[0].exterior_mut(|r| r.0[2].x = f64::INFINITY);
        let e = PreparedLayer::new("grids", f).unwrap_err().to_string();
        assert!(
            e.contains("feature 3 (id 4)") && e.contains("coordinate 2"),
            "{e}"
        );
    }

    #[test]
    fn labels_layer_in_tile() {
        let features = wiggly_grid(&SPEC);
        let labels = LabelLayer::from_features("labels", &features, 0.0).unwrap();
        let layer = PreparedLayer::new("grids", features).unwrap();
        let tile = range(12).iter().next().unwrap();
        let mvt = render_tile(tile, &[&layer], Some(&labels), &TileOptions::default()).unwrap();
        let layers = decode_tile(&mvt).unwrap();
        let l = layers
            .iter()
            .find(|l| l.name == "labels")
            .expect("label layer");
        assert!(!l.features.is_empty());
        let polys: HashMap<u64, Vec<TilePolygon>> =
            decoded_polys(&mvt, "grids").into_iter().collect();
        for f in &l.features {
            assert_eq!(f.geom_type, 1);
            let pts = rings_from_commands(&f.geometry).unwrap();
            assert_eq!(pts.len(), 1);
            // The label lies in its own polygon.
            let p = pts[0][0];
            let inside = polys[&f.id.unwrap()].iter().any(|poly| {
                let rings = polygon_to_f64(poly);
                crate::valid::point_in_ring([f64::from(p[0]), f64::from(p[1])], &rings[0])
                    == crate::valid::Side::Inside
            });
            assert!(inside, "label of {} outside", f.id.unwrap());
        }
    }
}
