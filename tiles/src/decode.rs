//! A small MVT decoder, for tests (here and in dependent crates) and
//! diagnostics: layers, features, attributes and geometry commands.

use crate::mvt::{PropValue, CMD_CLOSE_PATH, CMD_LINE_TO, CMD_MOVE_TO};
use crate::quantize::{area2, TilePoint, TilePolygon};
use crate::TilesError;

/// A decoded layer.
#[derive(Debug, Clone, PartialEq)]
pub struct DecodedLayer {
    /// Layer name.
    pub name: String,
    /// Extent (tile units per side).
    pub extent: u32,
    /// Version field (2 for MVT 2.x; 1 if absent, the protobuf default).
    pub version: u32,
    /// Key table.
    pub keys: Vec<String>,
    /// Value table.
    pub values: Vec<PropValue>,
    /// Features in file order.
    pub features: Vec<DecodedFeature>,
}

/// A decoded feature.
#[derive(Debug, Clone, PartialEq)]
pub struct DecodedFeature {
    /// Feature id, if present.
    pub id: Option<u64>,
    /// Geometry type (1 point, 2 line, 3 polygon).
    pub geom_type: u32,
    /// Attributes resolved through the key/value tables.
    pub properties: Vec<(String, PropValue)>,
    /// Raw geometry command integers.
    pub geometry: Vec<u32>,
}

fn err(msg: &str) -> TilesError {
    TilesError::InvalidInput(format!("malformed MVT: {msg}"))
}

struct Reader<'a> {
    b: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn done(&self) -> bool {
        self.pos >= self.b.len()
    }
    fn varint(&mut self) -> Result<u64, TilesError> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = *self
                .b
                .get(self.pos)
                .ok_or_else(|| err("truncated varint"))?;
            self.pos += 1;
            v |= u64::from(byte & 0x7f) << shift;
            if byte < 0x80 {
                return Ok(v);
            }
        }
        Err(err("varint too long"))
    }
    fn bytes(&mut self) -> Result<&'a [u8], TilesError> {
        let n = self.varint()? as usize;
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.b.len())
            .ok_or_else(|| err("truncated field"))?;
        let s = &self.b[self.pos..end];
        self.pos = end;
        Ok(s)
    }
    fn fixed(&mut self, n: usize) -> Result<&'a [u8], TilesError> {
        let end = self.pos + n;
        let s = self
            .b
            .get(self.pos..end)
            .ok_or_else(|| err("truncated fixed field"))?;
        self.pos = end;
        Ok(s)
    }
    /// Next (field, wire type).
    fn key(&mut self) -> Result<(u64, u64), TilesError> {
        let k = self.varint()?;
        Ok((k >> 3, k & 7))
    }
    fn skip(&mut self, wire: u64) -> Result<(), TilesError> {
        match wire {
            0 => self.varint().map(|_| ()),
            1 => self.fixed(8).map(|_| ()),
            2 => self.bytes().map(|_| ()),
            5 => self.fixed(4).map(|_| ()),
            _ => Err(err("unsupported wire type")),
        }
    }
}

fn packed(b: &[u8]) -> Result<Vec<u32>, TilesError> {
    let mut r = Reader { b, pos: 0 };
    let mut v = Vec::new();
    while !r.done() {
        v.push(r.varint()? as u32);
    }
    Ok(v)
}

fn value(b: &[u8]) -> Result<PropValue, TilesError> {
    let mut r = Reader { b, pos: 0 };
    let mut out = None;
    while !r.done() {
        let (f, w) = r.key()?;
        out = Some(match (f, w) {
            (1, 2) => PropValue::String(
                String::from_utf8(r.bytes()?.to_vec()).map_err(|_| err("bad utf-8"))?,
            ),
            (2, 5) => PropValue::Double(f64::from(f32::from_le_bytes(
                r.fixed(4)?.try_into().unwrap_or_default(),
            ))),
            (3, 1) => PropValue::Double(f64::from_le_bytes(
                r.fixed(8)?.try_into().unwrap_or_default(),
            )),
            (4, 0) => PropValue::Int(r.varint()? as i64),
            (5, 0) => PropValue::Int(r.varint()? as i64),
            (6, 0) => {
                let z = r.varint()?;
                PropValue::Int(((z >> 1) as i64) ^ -((z & 1) as i64))
            }
            (7, 0) => PropValue::Bool(r.varint()? != 0),
            _ => {
                r.skip(w)?;
                continue;
            }
        });
    }
    out.ok_or_else(|| err("empty value"))
}

/// Decodes an uncompressed tile into its layers.
pub fn decode_tile(bytes: &[u8]) -> Result<Vec<DecodedLayer>, TilesError> {
    let mut r = Reader { b: bytes, pos: 0 };
    let mut layers = Vec::new();
    while !r.done() {
        let (f, w) = r.key()?;
        if (f, w) != (3, 2) {
            r.skip(w)?;
            continue;
        }
        let mut lr = Reader {
            b: r.bytes()?,
            pos: 0,
        };
        let mut layer = DecodedLayer {
            name: String::new(),
            extent: 4096,
            version: 1,
            keys: vec![],
            values: vec![],
            features: vec![],
        };
        let mut raw_features = Vec::new();
        while !lr.done() {
            match lr.key()? {
                (1, 2) => {
                    layer.name =
                        String::from_utf8(lr.bytes()?.to_vec()).map_err(|_| err("bad utf-8"))?
                }
                (2, 2) => raw_features.push(lr.bytes()?),
                (3, 2) => layer
                    .keys
                    .push(String::from_utf8(lr.bytes()?.to_vec()).map_err(|_| err("bad utf-8"))?),
                (4, 2) => layer.values.push(value(lr.bytes()?)?),
                (5, 0) => layer.extent = lr.varint()? as u32,
                (15, 0) => layer.version = lr.varint()? as u32,
                (_, w) => lr.skip(w)?,
            }
        }
        for fb in raw_features {
            let mut fr = Reader { b: fb, pos: 0 };
            let mut feat = DecodedFeature {
                id: None,
                geom_type: 0,
                properties: vec![],
                geometry: vec![],
            };
            while !fr.done() {
                match fr.key()? {
                    (1, 0) => feat.id = Some(fr.varint()?),
                    (2, 2) => {
                        let tags = packed(fr.bytes()?)?;
                        if tags.len() % 2 != 0 {
                            return Err(err("odd tag count"));
                        }
                        for kv in tags.chunks(2) {
                            let k = layer
                                .keys
                                .get(kv[0] as usize)
                                .ok_or_else(|| err("key index"))?;
                            let v = layer
                                .values
                                .get(kv[1] as usize)
                                .ok_or_else(|| err("value index"))?;
                            feat.properties.push((k.clone(), v.clone()));
                        }
                    }
                    (3, 0) => feat.geom_type = fr.varint()? as u32,
                    (4, 2) => feat.geometry = packed(fr.bytes()?)?,
                    (_, w) => fr.skip(w)?,
                }
            }
            layer.features.push(feat);
        }
        layers.push(layer);
    }
    Ok(layers)
}

/// Decodes geometry commands into paths: one per MoveTo (for polygons each
/// path is an open ring; for points each point is a one-vertex path).
pub fn rings_from_commands(cmds: &[u32]) -> Result<Vec<Vec<TilePoint>>, TilesError> {
    let mut out: Vec<Vec<TilePoint>> = Vec::new();
    let mut cur = [0i32, 0i32];
    let mut i = 0;
    let unzig = |v: u32| ((v >> 1) as i32) ^ -((v & 1) as i32);
    while i < cmds.len() {
        let (id, count) = (cmds[i] & 7, (cmds[i] >> 3) as usize);
        i += 1;
        match id {
            CMD_MOVE_TO | CMD_LINE_TO => {
                if i + 2 * count > cmds.len() {
                    return Err(err("truncated command parameters"));
                }
                for k in 0..count {
                    cur = [
                        cur[0] + unzig(cmds[i + 2 * k]),
                        cur[1] + unzig(cmds[i + 2 * k + 1]),
                    ];
                    if id == CMD_MOVE_TO {
                        out.push(vec![cur]);
                    } else {
                        out.last_mut()
                            .ok_or_else(|| err("LineTo before MoveTo"))?
                            .push(cur);
                    }
                }
                i += 2 * count;
            }
            CMD_CLOSE_PATH => {}
            _ => return Err(err("unknown command")),
        }
    }
    Ok(out)
}

/// Groups decoded polygon rings into polygons by the MVT winding rule: a ring
/// with positive area starts a polygon, negative ones are its holes.
pub fn polygons_from_rings(rings: Vec<Vec<TilePoint>>) -> Result<Vec<TilePolygon>, TilesError> {
    let mut polys: Vec<TilePolygon> = Vec::new();
    for r in rings {
        let a = area2(&r);
        if a > 0 {
            polys.push(vec![r]);
        } else if a < 0 {
            polys
                .last_mut()
                .ok_or_else(|| err("hole before exterior ring"))?
                .push(r);
        } else {
            return Err(err("zero-area ring"));
        }
    }
    Ok(polys)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_garbage() {
        assert!(decode_tile(&[0x1a, 0x05, 0x01]).is_err());
        assert!(rings_from_commands(&[9, 2]).is_err());
        assert!(rings_from_commands(&[10, 2, 2]).is_err());
        assert!(decode_tile(&[]).unwrap().is_empty());
    }

    #[test]
    fn groups_holes() {
        let ext = vec![[0, 0], [10, 0], [10, 10], [0, 10]];
        let hole = vec![[2, 2], [2, 4], [4, 4], [4, 2]];
        let polys = polygons_from_rings(vec![ext.clone(), hole.clone(), ext.clone()]).unwrap();
        assert_eq!(polys, vec![vec![ext.clone(), hole.clone()], vec![ext]]);
        assert!(polygons_from_rings(vec![hole]).is_err());
    }
}
