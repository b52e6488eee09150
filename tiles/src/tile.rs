//! Tile addressing (XYZ / "slippy map" scheme, y = 0 at the north edge) and
//! spherical Web Mercator (EPSG:3857) maths.

use crate::TilesError;
use geo_types::{coord, Rect};
use std::f64::consts::PI;

/// Highest zoom level accepted. At z22 a tile is ~9.5 m wide, finer than any
/// grid boundary survey, and 2^22 still fits comfortably in `u32`.
pub const MAX_ZOOM: u8 = 22;

/// WGS84 semi-major axis used by spherical Web Mercator, metres.
pub const EARTH_RADIUS: f64 = 6_378_137.0;

/// Half the width of the Web Mercator square, metres (`PI * EARTH_RADIUS`).
pub const MERCATOR_MAX: f64 = PI * EARTH_RADIUS;

/// Latitude at which the Web Mercator square ends (y = ±[`MERCATOR_MAX`]).
pub const MAX_LATITUDE: f64 = 85.051_128_779_806_59;

/// Address of one tile: zoom `z`, column `x` (west to east) and row `y`
/// (north to south).
///
/// The fields are public for reading; build values with [`TileId::new`], which
/// validates them. Functions taking a `TileId` re-validate it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TileId {
    /// Zoom level, `0..=MAX_ZOOM`.
    pub z: u8,
    /// Column, `0..2^z`.
    pub x: u32,
    /// Row, `0..2^z`, 0 at the north edge.
    pub y: u32,
}

impl TileId {
    /// Validated constructor: `z <= MAX_ZOOM` and `x, y < 2^z`.
    pub fn new(z: u8, x: u32, y: u32) -> Result<Self, TilesError> {
        let t = TileId { z, x, y };
        t.validate()?;
        Ok(t)
    }

    /// Checks the invariants of [`TileId::new`].
    pub fn validate(&self) -> Result<(), TilesError> {
        if self.z > MAX_ZOOM {
            return Err(TilesError::InvalidTile {
                z: self.z,
                x: self.x,
                y: self.y,
                reason: format!("zoom exceeds the maximum {MAX_ZOOM}"),
            });
        }
        let n = 1u64 << self.z;
        if u64::from(self.x) >= n || u64::from(self.y) >= n {
            return Err(TilesError::InvalidTile {
                z: self.z,
                x: self.x,
                y: self.y,
                reason: format!("x and y must be below 2^z = {n}"),
            });
        }
        Ok(())
    }

    /// Bounds of the tile in Web Mercator metres (y up).
    pub fn bounds(&self) -> Rect<f64> {
        // Edges computed per index, so neighbouring tiles share them exactly.
        let w = tile_width(self.z);
        let x_edge = |i: u32| -MERCATOR_MAX + f64::from(i) * w;
        let y_edge = |i: u32| MERCATOR_MAX - f64::from(i) * w;
        Rect::new(
            coord! { x: x_edge(self.x), y: y_edge(self.y + 1) },
            coord! { x: x_edge(self.x + 1), y: y_edge(self.y) },
        )
    }

    /// Bounds of the tile in lon/lat degrees.
    pub fn lonlat_bounds(&self) -> Rect<f64> {
        let b = self.bounds();
        let (min_lon, min_lat) = mercator_to_lonlat(b.min().x, b.min().y);
        let (max_lon, max_lat) = mercator_to_lonlat(b.max().x, b.max().y);
        Rect::new(
            coord! { x: min_lon, y: min_lat },
            coord! { x: max_lon, y: max_lat },
        )
    }
}

impl std::fmt::Display for TileId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}/{}", self.z, self.x, self.y)
    }
}

/// Width (= height) of a tile at zoom `z`, Web Mercator metres.
pub fn tile_width(z: u8) -> f64 {
    2.0 * MERCATOR_MAX / (1u64 << z.min(63)) as f64
}

/// Projects lon/lat degrees to Web Mercator metres. Latitudes beyond
/// ±[`MAX_LATITUDE`] are clamped to the edge of the Mercator square.
pub fn lonlat_to_mercator(lon: f64, lat: f64) -> (f64, f64) {
    let lat = lat.clamp(-MAX_LATITUDE, MAX_LATITUDE);
    let x = EARTH_RADIUS * lon.to_radians();
    let y = EARTH_RADIUS * (PI / 4.0 + lat.to_radians() / 2.0).tan().ln();
    (x, y)
}

/// Inverse of [`lonlat_to_mercator`].
pub fn mercator_to_lonlat(x: f64, y: f64) -> (f64, f64) {
    let lon = (x / EARTH_RADIUS).to_degrees();
    let lat = (2.0 * (y / EARTH_RADIUS).exp().atan() - PI / 2.0).to_degrees();
    (lon, lat)
}

/// Column/row index of a Mercator coordinate at zoom `z`, clamped into range.
fn tile_index(v: f64, z: u8) -> u32 {
    let n = 1u64 << z;
    let i = (v / tile_width(z)).floor();
    i.clamp(0.0, (n - 1) as f64) as u32
}

/// The tile containing lon/lat at zoom `z` (points on a tile edge belong to the
/// tile east/south of it; the antimeridian and poles clamp into range).
pub fn tile_for_lonlat(lon: f64, lat: f64, z: u8) -> Result<TileId, TilesError> {
    if !lon.is_finite() || !lat.is_finite() {
        return Err(TilesError::InvalidInput(format!(
            "non-finite coordinate ({lon}, {lat})"
        )));
    }
    let (mx, my) = lonlat_to_mercator(lon, lat);
    let x = tile_index(mx + MERCATOR_MAX, z);
    let y = tile_index(MERCATOR_MAX - my, z);
    TileId::new(z, x, y)
}

/// An inclusive rectangle of tiles at one zoom.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TileRange {
    /// Zoom level.
    pub z: u8,
    /// Westmost column.
    pub min_x: u32,
    /// Northmost row.
    pub min_y: u32,
    /// Eastmost column (inclusive).
    pub max_x: u32,
    /// Southmost row (inclusive).
    pub max_y: u32,
}

impl TileRange {
    /// Number of tiles in the range.
    pub fn len(&self) -> u64 {
        u64::from(self.max_x - self.min_x + 1) * u64::from(self.max_y - self.min_y + 1)
    }

    /// Always false: a range holds at least one tile.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Tiles of the range, row by row.
    pub fn iter(&self) -> impl Iterator<Item = TileId> + '_ {
        let z = self.z;
        (self.min_y..=self.max_y)
            .flat_map(move |y| (self.min_x..=self.max_x).map(move |x| TileId { z, x, y }))
    }
}

/// Tiles at zoom `z` that cover a lon/lat bounding box.
pub fn tiles_covering(bbox: Rect<f64>, z: u8) -> Result<TileRange, TilesError> {
    let nw = tile_for_lonlat(bbox.min().x, bbox.max().y, z)?;
    let se = tile_for_lonlat(bbox.max().x, bbox.min().y, z)?;
    Ok(TileRange {
        z,
        min_x: nw.x,
        min_y: nw.y,
        max_x: se.x,
        max_y: se.y,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation() {
        assert!(TileId::new(0, 0, 0).is_ok());
        assert!(TileId::new(0, 1, 0).is_err());
        assert!(TileId::new(3, 7, 7).is_ok());
        assert!(TileId::new(3, 8, 0).is_err());
        assert!(TileId::new(23, 0, 0).is_err());
        assert!(TileId::new(22, (1 << 22) - 1, 0).is_ok());
        let e = TileId::new(2, 4, 0).unwrap_err().to_string();
        assert!(e.contains("2/4/0"), "{e}");
    }

    #[test]
    fn mercator_known_values() {
        let (x, y) = lonlat_to_mercator(180.0, MAX_LATITUDE);
        assert!((x - 20_037_508.342_789_244).abs() < 1e-6);
        assert!((y - 20_037_508.342_789_244).abs() < 1e-3);
        let (x, y) = lonlat_to_mercator(120.15, 30.28);
        // R * lon in radians; R * ln(tan(pi/4 + lat/2))
        assert!((x - 13_375_036.818_811_82).abs() < 1e-6, "{x}");
        assert!((y - 3_539_592.246_478_634).abs() < 1e-6, "{y}");
        let (lon, lat) = mercator_to_lonlat(x, y);
        assert!((lon - 120.15).abs() < 1e-9 && (lat - 30.28).abs() < 1e-9);
    }

    #[test]
    fn hangzhou_tile() {
        // (120.15 + 180) / 360 * 256 = 213.4; Mercator row fraction 0.4117 * 256 = 105.4
        let t = tile_for_lonlat(120.15, 30.28, 8).unwrap();
        assert_eq!(
            t,
            TileId {
                z: 8,
                x: 213,
                y: 105
            }
        );
        let b = t.lonlat_bounds();
        assert!(b.min().x <= 120.15 && 120.15 < b.max().x);
        assert!(b.min().y <= 30.28 && 30.28 < b.max().y);
        assert!((b.min().x - 119.53125).abs() < 1e-9);
        assert!((b.max().x - 120.9375).abs() < 1e-9);
    }

    #[test]
    fn bounds_tile_the_world() {
        let b = TileId::new(0, 0, 0).unwrap().bounds();
        assert_eq!(b.min().x, -MERCATOR_MAX);
        assert_eq!(b.max().y, MERCATOR_MAX);
        // Neighbouring tiles share their edges exactly.
        let a = TileId::new(5, 10, 11).unwrap().bounds();
        let r = TileId::new(5, 11, 11).unwrap().bounds();
        let s = TileId::new(5, 10, 12).unwrap().bounds();
        assert_eq!(a.max().x, r.min().x);
        assert_eq!(a.min().y, s.max().y);
    }

    #[test]
    fn covering_range() {
        let bbox = Rect::new(coord! { x: 120.0, y: 30.0 }, coord! { x: 120.5, y: 30.5 });
        let r = tiles_covering(bbox, 10).unwrap();
        assert!(r.min_x <= r.max_x && r.min_y <= r.max_y);
        assert_eq!(r.len(), r.iter().count() as u64);
        for t in r.iter() {
            t.validate().unwrap();
        }
        let corner = tile_for_lonlat(120.0, 30.5, 10).unwrap();
        assert_eq!((corner.x, corner.y), (r.min_x, r.min_y));
        // Whole world at z1 is the 4 tiles; poles clamp.
        let world = Rect::new(coord! { x: -180.0, y: -90.0 }, coord! { x: 180.0, y: 90.0 });
        assert_eq!(tiles_covering(world, 1).unwrap().len(), 4);
        assert!(tile_for_lonlat(f64::NAN, 0.0, 3).is_err());
    }
}
