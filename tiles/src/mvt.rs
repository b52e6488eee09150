//! Mapbox Vector Tile 2.1 encoding with a small hand-written protobuf writer
//! (the schema is five messages; no code generation needed), and gzip.
//!
//! Tile = `repeated Layer layers = 3`. Layer: name 1, features 2, keys 3,
//! values 4, extent 5, version 15. Feature: id 1, packed tags 2, type 3,
//! packed geometry 4. Value: string 1, double 3, uint 5, sint 6, bool 7.

use crate::quantize::{TilePoint, TilePolygon};
use std::collections::HashMap;
use std::io::Write;

/// A feature attribute value.
#[derive(Debug, Clone, PartialEq)]
pub enum PropValue {
    /// UTF-8 string.
    String(String),
    /// Signed integer (encoded as `uint_value` when >= 0, else `sint_value`).
    Int(i64),
    /// 64-bit float.
    Double(f64),
    /// Boolean.
    Bool(bool),
}

/// MVT geometry type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GeomType {
    /// Points (label points).
    Point = 1,
    /// Line strings.
    LineString = 2,
    /// Polygons.
    Polygon = 3,
}

/// MVT command ids.
pub const CMD_MOVE_TO: u32 = 1;
/// LineTo command id.
pub const CMD_LINE_TO: u32 = 2;
/// ClosePath command id.
pub const CMD_CLOSE_PATH: u32 = 7;

const WT_VARINT: u64 = 0;
const WT_FIXED64: u64 = 1;
const WT_LEN: u64 = 2;

fn varint(buf: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        buf.push((v as u8) | 0x80);
        v >>= 7;
    }
    buf.push(v as u8);
}

fn tag(buf: &mut Vec<u8>, field: u64, wire: u64) {
    varint(buf, (field << 3) | wire);
}

fn bytes_field(buf: &mut Vec<u8>, field: u64, data: &[u8]) {
    tag(buf, field, WT_LEN);
    varint(buf, data.len() as u64);
    buf.extend_from_slice(data);
}

fn packed_field(buf: &mut Vec<u8>, field: u64, vals: &[u32]) {
    let mut inner = Vec::with_capacity(vals.len() * 2);
    for &v in vals {
        varint(&mut inner, u64::from(v));
    }
    bytes_field(buf, field, &inner);
}

fn zigzag32(n: i32) -> u32 {
    ((n << 1) ^ (n >> 31)) as u32
}

fn command(id: u32, count: u32) -> u32 {
    (id & 0x7) | (count << 3)
}

/// Geometry commands for polygons: each ring is MoveTo, LineTo × (n-1),
/// ClosePath, with zigzag-encoded deltas from a cursor that carries over
/// between rings. Rings must be open, cleaned and correctly wound
/// (see [`TilePolygon`]).
pub fn polygon_commands(polys: &[TilePolygon]) -> Vec<u32> {
    let mut out = Vec::new();
    let mut cur = [0i32, 0i32];
    for poly in polys {
        for ring in poly {
            if ring.len() < 3 {
                continue;
            }
            out.push(command(CMD_MOVE_TO, 1));
            push_delta(&mut out, &mut cur, ring[0]);
            out.push(command(CMD_LINE_TO, ring.len() as u32 - 1));
            for &p in &ring[1..] {
                push_delta(&mut out, &mut cur, p);
            }
            out.push(command(CMD_CLOSE_PATH, 1));
        }
    }
    out
}

/// Geometry commands for one or more points (a single MoveTo).
pub fn point_commands(points: &[TilePoint]) -> Vec<u32> {
    let mut out = vec![command(CMD_MOVE_TO, points.len() as u32)];
    let mut cur = [0i32, 0i32];
    for &p in points {
        push_delta(&mut out, &mut cur, p);
    }
    out
}

fn push_delta(out: &mut Vec<u32>, cur: &mut [i32; 2], p: TilePoint) {
    out.push(zigzag32(p[0] - cur[0]));
    out.push(zigzag32(p[1] - cur[1]));
    *cur = p;
}

#[derive(Debug, Hash, PartialEq, Eq)]
enum ValueKey {
    S(String),
    I(i64),
    D(u64),
    B(bool),
}

/// Accumulates the features of one layer, deduplicating keys and values.
#[derive(Debug)]
pub struct LayerBuilder {
    name: String,
    extent: u32,
    features: Vec<u8>,
    count: usize,
    keys: Vec<String>,
    key_index: HashMap<String, u32>,
    values: Vec<u8>,
    value_index: HashMap<ValueKey, u32>,
}

impl LayerBuilder {
    /// A new empty layer.
    pub fn new(name: &str, extent: u32) -> Self {
        LayerBuilder {
            name: name.to_owned(),
            extent,
            features: Vec::new(),
            count: 0,
            keys: Vec::new(),
            key_index: HashMap::new(),
            values: Vec::new(),
            value_index: HashMap::new(),
        }
    }

    /// Number of features added.
    pub fn len(&self) -> usize {
        self.count
    }

    /// True if no feature was added.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    fn key(&mut self, k: &str) -> u32 {
        if let Some(&i) = self.key_index.get(k) {
            return i;
        }
        let i = self.keys.len() as u32;
        self.keys.push(k.to_owned());
        self.key_index.insert(k.to_owned(), i);
        i
    }

    fn value(&mut self, v: &PropValue) -> u32 {
        let key = match v {
            PropValue::String(s) => ValueKey::S(s.clone()),
            PropValue::Int(i) => ValueKey::I(*i),
            PropValue::Double(d) => ValueKey::D(d.to_bits()),
            PropValue::Bool(b) => ValueKey::B(*b),
        };
        if let Some(&i) = self.value_index.get(&key) {
            return i;
        }
        let i = self.value_index.len() as u32;
        let mut msg = Vec::new();
        match v {
            PropValue::String(s) => bytes_field(&mut msg, 1, s.as_bytes()),
            PropValue::Double(d) => {
                tag(&mut msg, 3, WT_FIXED64);
                msg.extend_from_slice(&d.to_le_bytes());
            }
            PropValue::Int(n) if *n >= 0 => {
                tag(&mut msg, 5, WT_VARINT);
                varint(&mut msg, *n as u64);
            }
            PropValue::Int(n) => {
                tag(&mut msg, 6, WT_VARINT);
                varint(&mut msg, ((n << 1) ^ (n >> 63)) as u64);
            }
            PropValue::Bool(b) => {
                tag(&mut msg, 7, WT_VARINT);
                varint(&mut msg, u64::from(*b));
            }
        }
        bytes_field(&mut self.values, 4, &msg);
        self.value_index.insert(key, i);
        i
    }

    /// Adds a feature with an optional id, geometry commands (from
    /// [`polygon_commands`] / [`point_commands`]) and attributes.
    pub fn add_feature(
        &mut self,
        id: Option<u64>,
        ty: GeomType,
        geometry: &[u32],
        props: &[(String, PropValue)],
    ) {
        let tags: Vec<u32> = props
            .iter()
            .flat_map(|(k, v)| [self.key(k), self.value(v)])
            .collect();
        let mut msg = Vec::with_capacity(geometry.len() * 2 + 16);
        if let Some(id) = id {
            tag(&mut msg, 1, WT_VARINT);
            varint(&mut msg, id);
        }
        if !tags.is_empty() {
            packed_field(&mut msg, 2, &tags);
        }
        tag(&mut msg, 3, WT_VARINT);
        varint(&mut msg, ty as u64);
        packed_field(&mut msg, 4, geometry);
        bytes_field(&mut self.features, 2, &msg);
        self.count += 1;
    }

    /// Appends the layer (as Tile field 3) to an encoded tile.
    pub fn finish_into(self, tile: &mut Vec<u8>) {
        let mut msg = Vec::with_capacity(self.features.len() + self.values.len() + 64);
        tag(&mut msg, 15, WT_VARINT);
        varint(&mut msg, 2);
        bytes_field(&mut msg, 1, self.name.as_bytes());
        msg.extend_from_slice(&self.features);
        for k in &self.keys {
            bytes_field(&mut msg, 3, k.as_bytes());
        }
        msg.extend_from_slice(&self.values);
        tag(&mut msg, 5, WT_VARINT);
        varint(&mut msg, u64::from(self.extent));
        bytes_field(tile, 3, &msg);
    }
}

/// Gzip-compresses bytes (for serving with `Content-Encoding: gzip`).
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(
        Vec::with_capacity(bytes.len() / 2 + 32),
        flate2::Compression::default(),
    );
    // Writing to a Vec cannot fail.
    enc.write_all(bytes).expect("in-memory gzip write");
    enc.finish().expect("in-memory gzip finish")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::{decode_tile, rings_from_commands};

    #[test]
    fn varint_and_zigzag() {
        let mut b = Vec::new();
        varint(&mut b, 300);
        assert_eq!(b, vec![0xAC, 0x02]);
        assert_eq!(zigzag32(0), 0);
        assert_eq!(zigzag32(-1), 1);
        assert_eq!(zigzag32(1), 2);
        assert_eq!(zigzag32(-2), 3);
    }

    #[test]
    fn spec_example_polygon_commands() {
        // MVT spec 4.3.5.1: polygon (3,6) (8,12) (20,34)
        let cmds = polygon_commands(&[vec![vec![[3, 6], [8, 12], [20, 34]]]]);
        assert_eq!(cmds, vec![9, 6, 12, 18, 10, 12, 24, 44, 15]);
        // spec example: point (25,17)
        assert_eq!(point_commands(&[[25, 17]]), vec![9, 50, 34]);
    }

    #[test]
    fn layer_round_trip() {
        let mut l = LayerBuilder::new("grids", 4096);
        let props = vec![
            ("name".to_string(), PropValue::String("西湖街道".into())),
            ("level".to_string(), PropValue::Int(2)),
            ("delta".to_string(), PropValue::Int(-7)),
            ("area".to_string(), PropValue::Double(1234.5)),
            ("active".to_string(), PropValue::Bool(true)),
        ];
        let sq = vec![vec![vec![[0, 0], [10, 0], [10, 10], [0, 10]]]];
        l.add_feature(Some(42), GeomType::Polygon, &polygon_commands(&sq), &props);
        l.add_feature(
            Some(u64::MAX),
            GeomType::Polygon,
            &polygon_commands(&sq),
            &props[..2],
        );
        let mut tile = Vec::new();
        l.finish_into(&mut tile);
        let layers = decode_tile(&tile).unwrap();
        assert_eq!(layers.len(), 1);
        let d = &layers[0];
        assert_eq!((d.name.as_str(), d.extent, d.version), ("grids", 4096, 2));
        assert_eq!(d.keys.len(), 5, "keys deduplicated");
        assert_eq!(d.values.len(), 5, "values deduplicated");
        assert_eq!(d.features[0].id, Some(42));
        assert_eq!(d.features[1].id, Some(u64::MAX));
        assert_eq!(d.features[0].properties, props);
        assert_eq!(d.features[0].geom_type, 3);
        let rings = rings_from_commands(&d.features[0].geometry).unwrap();
        assert_eq!(rings, vec![sq[0][0].clone()]);
    }

    #[test]
    fn gzip_round_trip() {
        use std::io::Read;
        let data = b"vector tile bytes ".repeat(100);
        let z = gzip(&data);
        assert!(z.len() < data.len());
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&z[..])
            .read_to_end(&mut out)
            .unwrap();
        assert_eq!(out, data);
    }
}
