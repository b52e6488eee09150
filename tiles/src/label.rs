//! Label points: the pole of inaccessibility (polylabel, Agafonkin 2016) of
//! the largest part of a (multi)polygon — the interior point farthest from
//! the boundary, inside even for C-shaped polygons.

use crate::layer::{check_lonlat, FeatureInput};
use crate::mvt::PropValue;
use crate::quantize::TilePoint;
use crate::tile::{lonlat_to_mercator, tile_width, TileId, MAX_ZOOM};
use crate::valid::{point_in_ring, Side};
use crate::TilesError;
use geo::{Area, InteriorPoint, MapCoords};
use geo_types::{Coord, MultiPolygon, Point, Polygon};
use rstar::primitives::GeomWithData;
use rstar::{RTree, AABB};
use std::cmp::Ordering;
use std::collections::BinaryHeap;

/// Rings of a polygon as closed coordinate lists (exterior first), prepared
/// once for the many distance queries of the search.
type Rings = Vec<Vec<[f64; 2]>>;

fn rings_of(poly: &Polygon<f64>) -> Rings {
    std::iter::once(poly.exterior())
        .chain(poly.interiors())
        .map(|r| r.coords().map(|c| [c.x, c.y]).collect::<Vec<_>>())
        .filter(|r| r.len() >= 4)
        .collect()
}

/// Signed distance from `p` to the polygon boundary: positive inside.
fn signed_distance(p: Coord<f64>, rings: &Rings) -> f64 {
    let mut inside = false;
    let mut min_d = f64::INFINITY;
    for (k, pts) in rings.iter().enumerate() {
        let side = point_in_ring([p.x, p.y], &pts[..pts.len() - 1]);
        if k == 0 {
            inside = side == Side::Inside;
        } else if side != Side::Outside {
            inside = false;
        }
        for w in pts.windows(2) {
            min_d = min_d.min(crate::simplify::segment_distance([p.x, p.y], w[0], w[1]));
        }
    }
    if inside {
        min_d
    } else {
        -min_d
    }
}

#[derive(Clone, Copy)]
struct Cell {
    c: Coord<f64>,
    h: f64,
    d: f64,
    max: f64,
}

impl Cell {
    fn new(c: Coord<f64>, h: f64, poly: &Rings) -> Self {
        let d = signed_distance(c, poly);
        Cell {
            c,
            h,
            d,
            max: d + h * std::f64::consts::SQRT_2,
        }
    }
}

impl PartialEq for Cell {
    fn eq(&self, o: &Self) -> bool {
        self.max == o.max
    }
}
impl Eq for Cell {}
impl PartialOrd for Cell {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Cell {
    fn cmp(&self, o: &Self) -> Ordering {
        self.max.total_cmp(&o.max)
    }
}

/// Pole of inaccessibility of a polygon to within `precision` (same units as
/// the coordinates), with the distance from it to the boundary. Returns a
/// point strictly inside; falls back to geo's `InteriorPoint` for polygons so
/// thin that the search finds none. `None` for an empty polygon.
pub fn polylabel(poly: &Polygon<f64>, precision: f64) -> Option<(Point<f64>, f64)> {
    use geo::BoundingRect;
    let bb = poly.bounding_rect()?;
    let rings = rings_of(poly);
    let (w, h) = (bb.width(), bb.height());
    let size = w.min(h);
    let fallback = || {
        poly.interior_point()
            .map(|p| (p, signed_distance(p.0, &rings)))
    };
    if size <= 0.0 {
        return fallback();
    }
    let half = size / 2.0;
    let mut heap = BinaryHeap::new();
    let mut x = bb.min().x;
    while x < bb.max().x {
        let mut y = bb.min().y;
        while y < bb.max().y {
            heap.push(Cell::new(
                Coord {
                    x: x + half,
                    y: y + half,
                },
                half,
                &rings,
            ));
            y += size;
        }
        x += size;
    }
    let mut best = Cell::new(bb.center(), 0.0, &rings);
    if let Some(ip) = poly.interior_point() {
        let c = Cell::new(ip.0, 0.0, &rings);
        if c.d > best.d {
            best = c;
        }
    }
    let precision = precision.max(size * 1e-9);
    let mut iterations = 0;
    while let Some(cell) = heap.pop() {
        if cell.d > best.d {
            best = cell;
        }
        iterations += 1;
        // The cap bounds the work on pathological input; the best cell so
        // far is still a valid answer.
        if cell.max - best.d <= precision || iterations > 100_000 {
            continue;
        }
        let h = cell.h / 2.0;
        for (dx, dy) in [(-h, -h), (h, -h), (-h, h), (h, h)] {
            heap.push(Cell::new(
                Coord {
                    x: cell.c.x + dx,
                    y: cell.c.y + dy,
                },
                h,
                &rings,
            ));
        }
    }
    if best.d > 0.0 {
        Some((Point(best.c), best.d))
    } else {
        fallback()
    }
}

/// Label point of a multipolygon: the pole of inaccessibility of its largest
/// part (by area), to 1% of that part's smaller bounding-box side.
pub fn label_point(mp: &MultiPolygon<f64>) -> Option<Point<f64>> {
    use geo::BoundingRect;
    let largest =
        mp.0.iter()
            .max_by(|a, b| a.unsigned_area().total_cmp(&b.unsigned_area()))?;
    let bb = largest.bounding_rect()?;
    let precision = bb.width().min(bb.height()) / 100.0;
    polylabel(largest, precision).map(|(p, _)| p)
}

/// One label point: lon/lat position, feature id and attributes, shown from
/// `min_zoom` on.
#[derive(Debug, Clone, PartialEq)]
pub struct LabelInput {
    /// Feature id written to the tile.
    pub id: u64,
    /// Position, lon/lat degrees.
    pub point: Point<f64>,
    /// Attributes written as MVT tags.
    pub properties: Vec<(String, PropValue)>,
    /// First zoom at which the point is included.
    pub min_zoom: u8,
}

struct LabelItem {
    id: u64,
    merc: [f64; 2],
    properties: Vec<(String, PropValue)>,
    min_zoom: u8,
}

/// A point layer of labels, indexed for tile queries.
pub struct LabelLayer {
    name: String,
    items: Vec<LabelItem>,
    rtree: RTree<GeomWithData<[f64; 2], u32>>,
}

impl std::fmt::Debug for LabelLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LabelLayer")
            .field("name", &self.name)
            .field("labels", &self.items.len())
            .finish()
    }
}

impl LabelLayer {
    /// Builds a label layer from explicit points. Non-finite or out-of-range
    /// positions are an error naming the label index and id.
    pub fn new(name: &str, labels: Vec<LabelInput>) -> Result<Self, TilesError> {
        let mut items = Vec::with_capacity(labels.len());
        for (i, l) in labels.into_iter().enumerate() {
            let (x, y) = (l.point.x(), l.point.y());
            if !x.is_finite() || !y.is_finite() || x.abs() > 180.0 || y.abs() > 90.0 {
                return Err(TilesError::InvalidInput(format!(
                    "label layer '{name}', label {i} (id {}): ({x}, {y}) is not a lon/lat position",
                    l.id
                )));
            }
            let (mx, my) = lonlat_to_mercator(x, y);
            items.push(LabelItem {
                id: l.id,
                merc: [mx, my],
                properties: l.properties,
                min_zoom: l.min_zoom,
            });
        }
        Ok(Self::index(name, items))
    }

    /// Computes a label for every feature: the pole of inaccessibility of its
    /// largest part, found in Web Mercator (so it is central as drawn), with
    /// the feature's id and properties. `min_zoom` is the first zoom at which
    /// the square root of that part's (Mercator) area spans `min_size_px`
    /// pixels of a 256-pixel tile; pass 0 to label at every zoom. Features
    /// with no area get no label.
    pub fn from_features(
        name: &str,
        features: &[FeatureInput],
        min_size_px: f64,
    ) -> Result<Self, TilesError> {
        let mut items = Vec::with_capacity(features.len());
        for (i, f) in features.iter().enumerate() {
            check_lonlat(name, i, f)?;
            let merc: MultiPolygon<f64> = f.geometry.map_coords(|c| {
                let (x, y) = lonlat_to_mercator(c.x, c.y);
                Coord { x, y }
            });
            let Some(p) = label_point(&merc) else {
                continue;
            };
            let area = merc.0.iter().map(|p| p.unsigned_area()).fold(0.0, f64::max);
            if area <= 0.0 {
                continue;
            }
            items.push(LabelItem {
                id: f.id,
                merc: [p.x(), p.y()],
                properties: f.properties.clone(),
                min_zoom: min_zoom_for(area.sqrt(), min_size_px),
            });
        }
        Ok(Self::index(name, items))
    }

    fn index(name: &str, items: Vec<LabelItem>) -> Self {
        let pts = items
            .iter()
            .enumerate()
            .map(|(i, it)| GeomWithData::new(it.merc, i as u32))
            .collect();
        LabelLayer {
            name: name.to_owned(),
            items,
            rtree: RTree::bulk_load(pts),
        }
    }

    /// Layer name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Number of labels.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// True if there are no labels.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Labels visible at the tile's zoom that fall inside the tile grown by
    /// `buffer` units, as (id, properties, tile position), in input order.
    pub fn tile_points(&self, tile: TileId, extent: u32, buffer: u32) -> Vec<LabelPoint<'_>> {
        let b = tile.bounds();
        let scale = f64::from(extent) / tile_width(tile.z);
        let buf = f64::from(buffer) / scale;
        let env = AABB::from_corners(
            [b.min().x - buf, b.min().y - buf],
            [b.max().x + buf, b.max().y + buf],
        );
        let mut hits: Vec<u32> = self
            .rtree
            .locate_in_envelope(&env)
            .map(|g| g.data)
            .collect();
        hits.sort_unstable();
        hits.into_iter()
            .map(|i| &self.items[i as usize])
            .filter(|it| it.min_zoom <= tile.z)
            .map(|it| {
                let t = [
                    (it.merc[0] - b.min().x) * scale,
                    (b.max().y - it.merc[1]) * scale,
                ];
                LabelPoint {
                    id: it.id,
                    properties: &it.properties,
                    point: [t[0].round() as i32, t[1].round() as i32],
                }
            })
            .collect()
    }
}

/// A label inside one tile.
#[derive(Debug, Clone, PartialEq)]
pub struct LabelPoint<'a> {
    /// Feature id.
    pub id: u64,
    /// Attributes.
    pub properties: &'a [(String, PropValue)],
    /// Position in tile coordinates.
    pub point: TilePoint,
}

/// First zoom at which a length of `size_m` Mercator metres spans `px`
/// pixels of a 256-pixel tile.
fn min_zoom_for(size_m: f64, px: f64) -> u8 {
    if px <= 0.0 {
        return 0;
    }
    (0..=MAX_ZOOM)
        .find(|&z| size_m / (tile_width(z) / 256.0) >= px)
        .unwrap_or(MAX_ZOOM)
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::Contains;
    use geo_types::{polygon, LineString};

    fn c_shape() -> Polygon<f64> {
        // A thick "C": its centroid and bbox centre lie in the empty mouth.
        polygon![
            (x: 0.0, y: 0.0), (x: 10.0, y: 0.0), (x: 10.0, y: 2.0), (x: 2.0, y: 2.0),
            (x: 2.0, y: 8.0), (x: 10.0, y: 8.0), (x: 10.0, y: 10.0), (x: 0.0, y: 10.0),
        ]
    }

    #[test]
    fn c_shape_label_inside() {
        let p = c_shape();
        let (pt, d) = polylabel(&p, 0.01).unwrap();
        assert!(p.contains(&pt), "{pt:?}");
        // Best is in a corner of the 2-wide spine, equidistant from the two
        // outer sides and the inner corner: d = 2 / (1 + 1/sqrt 2).
        let best = 2.0 / (1.0 + std::f64::consts::FRAC_1_SQRT_2);
        assert!(d > best - 0.01 && d <= best + 1e-9, "{d}");
    }

    #[test]
    fn square_label_is_centre() {
        let p = polygon![(x: 0.0, y: 0.0), (x: 4.0, y: 0.0), (x: 4.0, y: 4.0), (x: 0.0, y: 4.0)];
        let (pt, d) = polylabel(&p, 1e-6).unwrap();
        assert!((pt.x() - 2.0).abs() < 1e-3 && (pt.y() - 2.0).abs() < 1e-3);
        assert!((d - 2.0).abs() < 1e-3);
    }

    #[test]
    fn avoids_holes() {
        let ext = LineString::from(vec![
            (0.0, 0.0),
            (10.0, 0.0),
            (10.0, 10.0),
            (0.0, 10.0),
            (0.0, 0.0),
        ]);
        let hole = LineString::from(vec![
            (1.0, 1.0),
            (9.0, 1.0),
            (9.0, 9.0),
            (1.0, 9.0),
            (1.0, 1.0),
        ]);
        let p = Polygon::new(ext, vec![hole]);
        let (pt, _) = polylabel(&p, 0.01).unwrap();
        assert!(p.contains(&pt));
    }

    #[test]
    fn multipolygon_uses_largest_part() {
        let small = polygon![(x: 100.0, y: 0.0), (x: 101.0, y: 0.0), (x: 101.0, y: 1.0), (x: 100.0, y: 1.0)];
        let mp = MultiPolygon(vec![small, c_shape()]);
        let pt = label_point(&mp).unwrap();
        assert!(c_shape().contains(&pt));
        assert!(label_point(&MultiPolygon(vec![])).is_none());
    }

    #[test]
    fn label_layer_points_and_min_zoom() {
        let c = c_shape().map_coords(|c| Coord {
            x: 120.0 + c.x * 0.001,
            y: 30.0 + c.y * 0.001,
        });
        let f = FeatureInput {
            id: 7,
            geometry: MultiPolygon(vec![c.clone()]),
            properties: vec![("name".into(), PropValue::String("C".into()))],
        };
        let layer = LabelLayer::from_features("labels", std::slice::from_ref(&f), 20.0).unwrap();
        assert_eq!(layer.len(), 1);
        // ~1 km wide feature: 6 px at z10, shown from z12 on.
        let lo = crate::tile::tile_for_lonlat(120.005, 30.005, 10).unwrap();
        assert!(layer.tile_points(lo, 4096, 0).is_empty());
        let range =
            crate::tile::tiles_covering(geo::BoundingRect::bounding_rect(&c).unwrap(), 14).unwrap();
        let found: Vec<(TileId, u64, TilePoint)> = range
            .iter()
            .flat_map(|t| {
                layer
                    .tile_points(t, 4096, 0)
                    .into_iter()
                    .map(move |l| (t, l.id, l.point))
            })
            .collect();
        assert_eq!(found.len(), 1);
        let (t, id, p) = found[0];
        assert_eq!(id, 7);
        // Back to lon/lat: inside the C.
        let merc_b = t.bounds();
        let mx = merc_b.min().x + f64::from(p[0]) / 4096.0 * merc_b.width();
        let my = merc_b.max().y - f64::from(p[1]) / 4096.0 * merc_b.height();
        let (lon, lat) = crate::tile::mercator_to_lonlat(mx, my);
        use geo::Contains;
        assert!(c.contains(&Point::new(lon, lat)), "{lon} {lat}");
        let all = LabelLayer::from_features("labels", &[f], 0.0).unwrap();
        assert_eq!(all.tile_points(lo, 4096, 0).len(), 1);
        let bad = LabelInput {
            id: 3,
            point: Point::new(f64::NAN, 0.0),
            properties: vec![],
            min_zoom: 0,
        };
        let e = LabelLayer::new("l", vec![bad]).unwrap_err().to_string();
        assert!(e.contains("label 0 (id 3)"), "{e}");
    }

    #[test]
    fn thin_sliver_still_inside() {
        let p = polygon![(x: 0.0, y: 0.0), (x: 1000.0, y: 0.0), (x: 1000.0, y: 0.001), (x: 0.0, y: 0.0005)];
        let (pt, _) = polylabel(&p, 10.0).unwrap();
        assert!(p.contains(&pt), "{pt:?}");
    }
}
