//! Point layers: lon/lat points with ids and properties → one MVT layer of a
//! tile. For point sets queried per tile from an index of their own (site
//! registers, say), where a prepared [`crate::LabelLayer`] would only copy
//! the index; callers query with [`buffered_lonlat_bounds`] and hand the hits
//! to [`encode_points`], which does the projection and the tile maths.

use crate::mvt::{point_commands, GeomType, LayerBuilder, PropValue};
use crate::render::TileOptions;
use crate::tile::{lonlat_to_mercator, mercator_to_lonlat, tile_width, TileId};
use crate::TilesError;

/// One point to encode.
#[derive(Debug, Clone, PartialEq)]
pub struct PointFeature {
    /// MVT feature id (MapLibre's feature-state needs one).
    pub id: Option<u64>,
    /// Longitude, degrees.
    pub lon: f64,
    /// Latitude, degrees.
    pub lat: f64,
    /// Attributes, in the order they are written.
    pub properties: Vec<(String, PropValue)>,
}

/// `[min_lon, min_lat, max_lon, max_lat]` of `tile` grown by `opts.buffer`
/// tile units on every side: the box to query a point index with, so a
/// symbol near a tile edge is in both tiles and MapLibre draws it unclipped.
pub fn buffered_lonlat_bounds(tile: TileId, opts: &TileOptions) -> [f64; 4] {
    let b = tile.bounds();
    let buf = f64::from(opts.buffer) * tile_width(tile.z) / f64::from(opts.extent);
    let (min_lon, min_lat) = mercator_to_lonlat(b.min().x - buf, b.min().y - buf);
    let (max_lon, max_lat) = mercator_to_lonlat(b.max().x + buf, b.max().y + buf);
    [min_lon, min_lat, max_lon, max_lat]
}

/// Encodes the points that fall inside `tile` grown by `opts.buffer` units
/// (edges included) as a point layer `name`, appended to `out` (MVT layers
/// are a repeated field, so appending a layer message to a tile is valid).
/// Points outside are skipped, so a superset — the hits of a box query with
/// [`buffered_lonlat_bounds`] — may be passed. Positions are rounded to the
/// nearest tile unit, y down. Returns the number of points written; nothing
/// is appended when it is 0. A coordinate that is not a finite lon/lat
/// position is an error (nothing is appended then either).
///
/// ```
/// use gridmap_tiles::points::{encode_points, PointFeature};
/// use gridmap_tiles::tile::tile_for_lonlat;
/// use gridmap_tiles::{PropValue, TileOptions};
///
/// let tile = tile_for_lonlat(120.1, 30.25, 15).unwrap();
/// let shop = PointFeature {
///     id: Some(7),
///     lon: 120.1,
///     lat: 30.25,
///     properties: vec![("name".into(), PropValue::String("面馆".into()))],
/// };
/// let far = PointFeature { lon: 100.0, lat: 20.0, ..shop.clone() };
/// let mut out = Vec::new();
/// let n = encode_points("sites", tile, [shop, far], &TileOptions::default(), &mut out).unwrap();
/// assert_eq!(n, 1);
/// let layers = gridmap_tiles::decode::decode_tile(&out).unwrap();
/// assert_eq!(layers[0].name, "sites");
/// assert_eq!(layers[0].features[0].id, Some(7));
/// ```
pub fn encode_points(
    name: &str,
    tile: TileId,
    points: impl IntoIterator<Item = PointFeature>,
    opts: &TileOptions,
    out: &mut Vec<u8>,
) -> Result<usize, TilesError> {
    opts.validate()?;
    tile.validate()?;
    let b = tile.bounds();
    let scale = f64::from(opts.extent) / tile_width(tile.z);
    let buf = f64::from(opts.buffer) / scale;
    let (lo_x, lo_y) = (b.min().x - buf, b.min().y - buf);
    let (hi_x, hi_y) = (b.max().x + buf, b.max().y + buf);
    let mut layer = LayerBuilder::new(name, opts.extent);
    for (i, p) in points.into_iter().enumerate() {
        if !p.lon.is_finite() || !p.lat.is_finite() || p.lon.abs() > 180.0 || p.lat.abs() > 90.0 {
            return Err(TilesError::InvalidInput(format!(
                "layer '{name}', point {i} (id {:?}): ({}, {}) is not a lon/lat position",
                p.id, p.lon, p.lat
            )));
        }
        let (mx, my) = lonlat_to_mercator(p.lon, p.lat);
        if mx < lo_x || mx > hi_x || my < lo_y || my > hi_y {
            continue;
        }
        let at = [
            ((mx - b.min().x) * scale).round() as i32,
            ((b.max().y - my) * scale).round() as i32,
        ];
        layer.add_feature(p.id, GeomType::Point, &point_commands(&[at]), &p.properties);
    }
    let written = layer.len();
    if written > 0 {
        layer.finish_into(out);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::decode_tile;
    use crate::tile::tile_for_lonlat;

    fn point(id: u64, lon: f64, lat: f64) -> PointFeature {
        PointFeature {
            id: Some(id),
            lon,
            lat,
            properties: vec![("n".into(), PropValue::Int(id as i64))],
        }
    }

    /// Encodes `positions` (ids 0, 1, …) into a new tile buffer: the number
    /// of points written and the buffer.
    fn encode(tile: TileId, positions: &[(f64, f64)], opts: &TileOptions) -> (usize, Vec<u8>) {
        let mut out = Vec::new();
        let points = positions
            .iter()
            .enumerate()
            .map(|(i, &(lon, lat))| point(i as u64, lon, lat));
        let n = encode_points("p", tile, points, opts, &mut out).unwrap();
        (n, out)
    }

    /// Decodes the single MoveTo of a point feature.
    fn position(geometry: &[u32]) -> [i32; 2] {
        assert_eq!(geometry[0], (1 << 3) | 1, "one MoveTo of one point");
        let unzig = |v: u32| ((v >> 1) as i32) ^ -((v & 1) as i32);
        [unzig(geometry[1]), unzig(geometry[2])]
    }

    #[test]
    fn positions_map_back_within_half_a_unit() {
        let opts = TileOptions::default();
        let tile = tile_for_lonlat(120.1, 30.25, 15).unwrap();
        let pts = [(120.1, 30.25), (120.1003, 30.2497), (120.0999, 30.2502)];
        let (n, out) = encode(tile, &pts, &opts);
        assert_eq!(n, 3);
        let layers = decode_tile(&out).unwrap();
        assert_eq!(layers.len(), 1);
        assert_eq!(layers[0].extent, 4096);
        let b = tile.bounds();
        let unit = b.width() / 4096.0;
        for (f, &(lon, lat)) in layers[0].features.iter().zip(&pts) {
            assert_eq!(f.geom_type, 1);
            assert!(f
                .properties
                .contains(&("n".into(), PropValue::Int(f.id.unwrap() as i64))));
            let [x, y] = position(&f.geometry);
            let (mx, my) = lonlat_to_mercator(lon, lat);
            assert!((b.min().x + f64::from(x) * unit - mx).abs() <= unit / 2.0 + 1e-6);
            assert!((b.max().y - f64::from(y) * unit - my).abs() <= unit / 2.0 + 1e-6);
        }
    }

    #[test]
    fn buffer_keeps_points_just_outside_and_drops_the_rest() {
        let opts = TileOptions::default();
        let tile = tile_for_lonlat(120.1, 30.25, 14).unwrap();
        let b = tile.bounds();
        let unit = b.width() / f64::from(opts.extent);
        let y = (b.min().y + b.max().y) / 2.0;
        // 10 and 63.9 units west of the tile (inside the 64-unit buffer),
        // 64.5 units west (outside it).
        let at = |units: f64| mercator_to_lonlat(b.min().x - units * unit, y);
        let pts = [at(10.0), at(63.9), at(64.5)];
        let (n, out) = encode(tile, &pts, &opts);
        assert_eq!(n, 2);
        let f = &decode_tile(&out).unwrap()[0].features;
        assert_eq!(position(&f[0].geometry)[0], -10);
        assert_eq!(position(&f[1].geometry)[0], -64);
        // The query box agrees with the filter: the two kept points are in
        // it, the dropped one is not.
        let [w, s, e, n] = buffered_lonlat_bounds(tile, &opts);
        let inside = |&(lon, lat): &(f64, f64)| lon >= w && lon <= e && lat >= s && lat <= n;
        assert!(inside(&pts[0]) && inside(&pts[1]) && !inside(&pts[2]));
    }

    #[test]
    fn nothing_appended_without_points_and_bad_input_is_an_error() {
        let opts = TileOptions::default();
        let tile = tile_for_lonlat(120.1, 30.25, 15).unwrap();
        let mut out = vec![1, 2, 3];
        assert_eq!(
            encode_points("p", tile, [point(1, 10.0, 10.0)], &opts, &mut out).unwrap(),
            0
        );
        assert_eq!(encode_points("p", tile, [], &opts, &mut out).unwrap(), 0);
        assert_eq!(out, [1, 2, 3]);
        let err = encode_points("p", tile, [point(9, f64::NAN, 30.0)], &opts, &mut out)
            .unwrap_err()
            .to_string();
        assert!(err.contains("point 0") && err.contains("Some(9)"), "{err}");
        let err = encode_points("p", tile, [point(9, 120.0, 91.0)], &opts, &mut out);
        assert!(err.is_err());
        assert_eq!(out, [1, 2, 3]);
    }

    #[test]
    fn appends_a_layer_after_existing_ones() {
        let opts = TileOptions::default();
        let tile = tile_for_lonlat(120.1, 30.25, 15).unwrap();
        let mut out = Vec::new();
        encode_points("a", tile, [point(1, 120.1, 30.25)], &opts, &mut out).unwrap();
        encode_points("b", tile, [point(2, 120.1, 30.25)], &opts, &mut out).unwrap();
        let names: Vec<String> = decode_tile(&out)
            .unwrap()
            .into_iter()
            .map(|l| l.name)
            .collect();
        assert_eq!(names, ["a", "b"]);
    }
}
