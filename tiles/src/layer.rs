//! A polygon layer prepared once (projected, topology built, arcs ranked for
//! simplification, R-tree built) and then cut into many tiles.

use crate::clip::ClipRect;
use crate::group::GroupLayer;
use crate::mvt::PropValue;
use crate::quantize::{finish_feature, finish_polygon, round_ring, TilePolygon};
use crate::shared::SharedTopology;
use crate::tile::{tile_width, TileId};
use crate::TilesError;
use geo_types::{coord, MultiPolygon, Rect};
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{RTree, AABB};
use std::sync::Arc;

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

pub(crate) struct FeatRec {
    pub id: u64,
    pub properties: Vec<(String, PropValue)>,
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

/// A polygon layer ready to be rendered into tiles. Thread-safe: tiles may be
/// rendered concurrently; the per-zoom simplification is computed once per
/// (zoom, `simplify_px`) on first use and cached.
///
/// A layer is prepared alone ([`PreparedLayer::new`]) or together with the
/// other levels of a nested grid ([`PreparedLayer::new_group`]), in which case
/// at every zoom the layers drawn at that zoom share one arc topology and one
/// simplification, so a parent's polygon and the union of its children's
/// polygons come out identical in every tile.
pub struct PreparedLayer {
    pub(crate) name: String,
    /// Topologies by first zoom, ascending; the first starts at `min_zoom`.
    pub(crate) stages: Vec<Stage>,
    pub(crate) features: Vec<FeatRec>,
    /// Exterior boxes with the polygon's index within this layer.
    pub(crate) rtree: RTree<GeomWithData<Rectangle<[f64; 2]>, u32>>,
    pub(crate) bbox: Option<Rect<f64>>,
    pub(crate) min_zoom: u8,
}

/// The topology a layer uses from one zoom on, shared with the other layers
/// drawn at those zooms.
pub(crate) struct Stage {
    pub from_zoom: u8,
    pub shared: Arc<SharedTopology>,
    /// Index of the layer's first polygon in `shared.polys`.
    pub first_poly: u32,
}

impl std::fmt::Debug for PreparedLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PreparedLayer")
            .field("name", &self.name)
            .field("features", &self.features.len())
            .field("polygons", &self.rtree.size())
            .field("arcs", &self.arc_count())
            .field("stages", &self.stages.len())
            .field("min_zoom", &self.min_zoom)
            .finish()
    }
}

impl PreparedLayer {
    /// Projects the features to Web Mercator, builds the shared-arc topology
    /// and the spatial index. Rings with fewer than 3 distinct positions are
    /// skipped (a polygon whose exterior is skipped is skipped whole);
    /// coordinates that are not finite lon/lat degrees are an error naming
    /// the feature. Latitudes beyond ±85.0511° are clamped (Web Mercator).
    ///
    /// The same as a [`PreparedLayer::new_group`] of one layer drawn from
    /// zoom 0.
    pub fn new(name: &str, features: Vec<FeatureInput>) -> Result<Self, TilesError> {
        let mut group = Self::new_group(vec![GroupLayer::new(name, features)])?;
        Ok(group.pop().expect("one layer in, one layer out"))
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

    /// Number of arcs of the topology this layer uses at its finest zooms,
    /// shared with every layer of its group drawn there (diagnostics).
    pub fn arc_count(&self) -> usize {
        self.stages.last().map_or(0, |s| s.shared.topo.arcs.len())
    }

    /// Lon/lat bounding box of all exterior rings, `None` if empty.
    pub fn bbox(&self) -> Option<Rect<f64>> {
        self.bbox
    }

    /// First zoom at which the layer has features (see [`GroupLayer`]).
    pub fn min_zoom(&self) -> u8 {
        self.min_zoom
    }

    /// True if `self` and `other` were prepared in the same group, so that
    /// they share their topology and simplification wherever both are drawn.
    pub fn same_group(&self, other: &PreparedLayer) -> bool {
        match (self.stages.last(), other.stages.last()) {
            (Some(a), Some(b)) => Arc::ptr_eq(&a.shared, &b.shared),
            _ => false,
        }
    }

    /// The topology in force at zoom `z`; `None` below the min zoom.
    pub(crate) fn stage_at(&self, z: u8) -> Option<&Stage> {
        self.stages.iter().rev().find(|s| s.from_zoom <= z)
    }

    /// The layer's polygons in one tile: simplified for the tile's zoom,
    /// clipped to the tile plus `buffer` units, quantised to `extent` units
    /// per side, with the drop rule and repair of [`crate::quantize`].
    /// Features come in input order; features with nothing left are omitted.
    /// Below the layer's [`min_zoom`](Self::min_zoom) the result is empty.
    pub fn tile_features(
        &self,
        tile: TileId,
        extent: u32,
        buffer: u32,
        simplify_px: f64,
    ) -> Result<Vec<TileFeature>, TilesError> {
        tile.validate()?;
        let Some(stage) = self.stage_at(tile.z) else {
            return Ok(Vec::new());
        };
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
            .map(|g| stage.first_poly + g.data)
            .collect();
        if hits.is_empty() {
            return Ok(Vec::new());
        }
        hits.sort_unstable();
        let shared = &*stage.shared;
        let cell = shared.zoom_arcs(tile.z, simplify_px);
        let za = cell.get().expect("initialised by zoom_arcs");
        let clip = ClipRect {
            min_x: -f64::from(buffer),
            min_y: -f64::from(buffer),
            max_x: f64::from(extent + buffer),
            max_y: f64::from(extent + buffer),
        };
        let mut out: Vec<TileFeature> = Vec::new();
        let mut current: Option<u32> = None;
        for p in hits {
            let rings = shared.simplified_rings(p, za);
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
            let fi = shared.polys[p as usize].feature;
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
        // Islands of one feature are simplified and rounded one by one, so
        // two of them may now cross or nest: settle each feature as a whole.
        for f in &mut out {
            f.polygons = finish_feature(std::mem::take(&mut f.polygons));
        }
        out.retain(|f| !f.polygons.is_empty());
        Ok(out)
    }
}

pub(crate) fn union_rect(a: Rect<f64>, b: Rect<f64>) -> Rect<f64> {
    Rect::new(
        coord! { x: a.min().x.min(b.min().x), y: a.min().y.min(b.min().y) },
        coord! { x: a.max().x.max(b.max().x), y: a.max().y.max(b.max().y) },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simplify::ZoomArcs;
    use crate::tile::mercator_to_lonlat;
    use crate::valid::is_valid_polygon;
    use geo_types::{LineString, Polygon};
    use std::collections::HashMap;

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
        let cell = layer.stages[0].shared.zoom_arcs(10, 0.5);
        let za = cell.get().unwrap();
        assert!(za.tol > 60.0, "{}", za.tol);
        assert!(!za.overrides.is_empty(), "fallback not used");
        assert!(is_valid_polygon(
            &layer.stages[0].shared.simplified_rings(0, za)
        ));
        // Without the fallback the polygon is invalid.
        let plain = ZoomArcs {
            tol: za.tol,
            overrides: HashMap::new(),
        };
        assert!(!is_valid_polygon(
            &layer.stages[0].shared.simplified_rings(0, &plain)
        ));
        // At a coarse zoom the exterior still simplifies: no override needed
        // at z18 where nothing is removed.
        let z18 = layer.stages[0].shared.zoom_arcs(18, 0.5);
        assert!(z18.get().unwrap().overrides.is_empty());
    }

    /// Regression: at low zooms Douglas–Peucker keeps only three vertices of
    /// an island (a closed arc), and a long thin one became a sliver of a
    /// third of its area that rounding then dropped (islands of 4–19 units²
    /// missing from z5–z6 tiles of Zhejiang). Rings big enough to show keep
    /// at least half their area.
    #[test]
    fn small_islands_keep_their_area_at_low_zoom() {
        let ellipse: Vec<(f64, f64)> = (0..64)
            .map(|i| {
                let a = f64::from(i) / 64.0 * std::f64::consts::TAU;
                (3000.0 * a.cos(), 300.0 * a.sin())
            })
            .collect();
        let layer = PreparedLayer::new("l", vec![feature(5, merc_poly(&ellipse, &[]))]).unwrap();
        let area = |r: &[[f64; 2]]| {
            let n = r.len();
            (0..n)
                .map(|i| r[i][0] * r[(i + 1) % n][1] - r[(i + 1) % n][0] * r[i][1])
                .sum::<f64>()
                .abs()
                / 2.0
        };
        let shared = &layer.stages[0].shared;
        let full = area(
            &shared.simplified_rings(
                0,
                &ZoomArcs {
                    tol: crate::simplify::KEEP_ALL,
                    overrides: HashMap::new(),
                },
            )[0],
        );
        for z in 3..=8u8 {
            let unit2 = (crate::tile::tile_width(z) / 4096.0).powi(2);
            let cell = shared.zoom_arcs(z, 0.5);
            let kept = area(&shared.simplified_rings(0, cell.get().unwrap())[0]);
            if full >= 4.0 * unit2 {
                assert!(kept >= 0.5 * full, "z{z}: {kept} of {full} m²");
            }
        }
        assert!(full >= 4.0 * (crate::tile::tile_width(5) / 4096.0).powi(2));
    }

    #[test]
    fn concurrent_rendering_is_consistent() {
        let spec = crate::synthetic::GridSpec::new(3, 3, 0.01)
            .with_vertices_per_side(50)
            .with_islands_every(4);
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
        assert_eq!(layer.stages[0].shared.zooms.lock().unwrap().len(), 1);
    }
}
