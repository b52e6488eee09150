//! FlatGeobuf reader: the header's CRS, typed properties, geometries.
//!
//! The file is framed here rather than by the crate's `FgbReader`, because
//! that reader trusts the sizes it finds: it sizes a buffer by each
//! feature's length prefix, asserts on the index node size and indexes
//! property bytes without bounds checks, so a damaged file could allocate
//! gigabytes or panic. Here every size is checked against the bytes that
//! are there, every header and feature passes the crate's FlatBuffers
//! verifier, and geometries and properties are decoded with bounds checks.
//!
//! Properties by column type: integers of every width as integers, floats
//! and doubles as numbers, booleans, text and date-times as strings, JSON
//! parsed into JSON values (`gridmap export` writes its JSON attributes so),
//! binary as hex text. A property a feature does not carry is absent.

use std::path::Path;

use flatgeobuf::packed_r_tree::PackedRTree;
use flatgeobuf::{ColumnType, GeometryType};
use geo_types::{
    Coord, Geometry, GeometryCollection, LineString, MultiLineString, MultiPoint, MultiPolygon,
    Point, Polygon,
};
use serde_json::{Map, Number, Value};

use super::raw::{polygons_problem, RawProblem};
use super::{authority_crs, parse_error, ImportError, RawFeature, SourceData};
use crate::geometry::GeometryProblem;

/// The magic bytes: `fgb`, the major version, `fgb`, the patch version.
const MAGIC: [u8; 3] = *b"fgb";
/// The newest major version this reader knows.
const VERSION: u8 = 3;

/// A property column: its name and type.
type Column = (String, ColumnType);

pub(crate) fn read(path: &Path) -> Result<SourceData, ImportError> {
    let bytes = std::fs::read(path).map_err(|source| ImportError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let err = |reason: String| parse_error(path, reason);
    if bytes.len() < 8 || bytes[0..3] != MAGIC || bytes[4..7] != MAGIC {
        return Err(err(
            "not a FlatGeobuf file (it does not start with the FlatGeobuf magic bytes)".into(),
        ));
    }
    if bytes[3] > VERSION {
        return Err(err(format!(
            "FlatGeobuf version {} is newer than the version {VERSION} gridmap reads",
            bytes[3]
        )));
    }
    let header_len = prefix(&bytes, 8)
        .ok_or_else(|| err("truncated: the file ends inside its header".into()))?;
    let header_end = 12 + header_len;
    if header_end > bytes.len() {
        return Err(err("truncated: the file ends inside its header".into()));
    }
    let header = flatgeobuf::size_prefixed_root_as_header(&bytes[8..header_end])
        .map_err(|e| err(format!("invalid FlatGeobuf header: {e}")))?;
    let crs = match header.crs() {
        Some(c) => authority_crs(path, c.org(), i64::from(c.code()), c.wkt())?,
        None => None,
    };
    let schema = columns(header.columns().into_iter().flatten());
    let count = header.features_count();
    let mut pos = header_end;
    if header.index_node_size() > 0 && count > 0 {
        // Each feature takes more than a byte, so a count beyond the file's
        // length is damage (and would overflow the index size).
        if count > bytes.len() as u64 {
            return Err(err(format!(
                "truncated: the header announces {count} features, more than the file's {} bytes hold",
                bytes.len()
            )));
        }
        if header.index_node_size() < 2 {
            return Err(err(format!(
                "invalid FlatGeobuf header: index node size {}",
                header.index_node_size()
            )));
        }
        pos += PackedRTree::index_size(count as usize, header.index_node_size());
        if pos > bytes.len() {
            return Err(err(
                "truncated: the file ends inside its spatial index".into()
            ));
        }
    }
    let mut features = Vec::new();
    // A count of 0 means "not given": then the features run to the end.
    while pos < bytes.len() && (count == 0 || (features.len() as u64) < count) {
        let index = features.len();
        let cut = || {
            err(format!(
                "truncated: feature #{index} is cut off at the end of the file"
            ))
        };
        let len = prefix(&bytes, pos).ok_or_else(cut)?;
        let end = pos + 4 + len;
        if end > bytes.len() {
            return Err(cut());
        }
        let feature = flatgeobuf::size_prefixed_root_as_feature(&bytes[pos..end]).map_err(|e| {
            err(format!(
                "feature #{index} is not a valid FlatGeobuf feature: {e}"
            ))
        })?;
        // A feature may carry its own schema (the spec allows it; rare).
        let own = feature.columns().map(columns);
        let properties = match feature.properties() {
            Some(p) => properties(p.bytes(), own.as_ref().unwrap_or(&schema))
                .map_err(|reason| err(format!("feature #{index}: {reason}")))?,
            None => Map::new(),
        };
        let (geometry, raw_problem) = match feature.geometry() {
            None => (None, None),
            Some(g) => match decode(&Part::of(&g), header.geometry_type(), 0) {
                Ok((g, problem)) => (g, problem.map(RawProblem::Geometry)),
                Err(reason) => (None, Some(RawProblem::Unreadable(reason))),
            },
        };
        features.push(RawFeature {
            index,
            properties,
            geometry,
            raw_problem,
        });
        pos = end;
    }
    if count > 0 && (features.len() as u64) < count {
        return Err(err(format!(
            "truncated: the header announces {count} features, the file holds {}",
            features.len()
        )));
    }
    Ok(SourceData { features, crs })
}

/// The little-endian `u32` length at `at`, if the file has four bytes there.
fn prefix(bytes: &[u8], at: usize) -> Option<usize> {
    let b: [u8; 4] = bytes.get(at..at.checked_add(4)?)?.try_into().ok()?;
    Some(u32::from_le_bytes(b) as usize)
}

fn columns<'a>(columns: impl IntoIterator<Item = flatgeobuf::Column<'a>>) -> Vec<Column> {
    columns
        .into_iter()
        .map(|c| (c.name().to_string(), c.type_()))
        .collect()
}

/// The properties of one feature: `(u16 column, value)` pairs as the
/// FlatGeobuf spec lays them out.
fn properties(bytes: &[u8], columns: &[Column]) -> Result<Map<String, Value>, String> {
    let mut map = Map::new();
    let mut at = 0;
    let take = |at: &mut usize, n: usize| -> Result<&[u8], String> {
        let b = bytes
            .get(*at..*at + n)
            .ok_or_else(|| "its properties end inside a value".to_string())?;
        *at += n;
        Ok(b)
    };
    // Some writers leave a trailing byte after the last value; a pair needs two.
    while bytes.len().saturating_sub(at) >= 2 {
        let column = u16::from_le_bytes([bytes[at], bytes[at + 1]]) as usize;
        at += 2;
        let Some((name, ty)) = columns.get(column) else {
            return Err(format!(
                "property of column {column}, but the file has {} columns",
                columns.len()
            ));
        };
        let fixed = |at: &mut usize, n| -> Result<[u8; 8], String> {
            let mut b = [0u8; 8];
            b[..n].copy_from_slice(take(at, n)?);
            Ok(b)
        };
        let value = match *ty {
            ColumnType::Bool => Value::Bool(take(&mut at, 1)?[0] != 0),
            ColumnType::Byte => Value::from(take(&mut at, 1)?[0] as i8),
            ColumnType::UByte => Value::from(take(&mut at, 1)?[0]),
            ColumnType::Short => Value::from(i16::from_le_bytes(two(take(&mut at, 2)?))),
            ColumnType::UShort => Value::from(u16::from_le_bytes(two(take(&mut at, 2)?))),
            ColumnType::Int => Value::from(i32::from_le_bytes(four(take(&mut at, 4)?))),
            ColumnType::UInt => Value::from(u32::from_le_bytes(four(take(&mut at, 4)?))),
            ColumnType::Long => Value::from(i64::from_le_bytes(fixed(&mut at, 8)?)),
            ColumnType::ULong => Value::from(u64::from_le_bytes(fixed(&mut at, 8)?)),
            ColumnType::Float => number(f64::from(f32::from_le_bytes(four(take(&mut at, 4)?)))),
            ColumnType::Double => number(f64::from_le_bytes(fixed(&mut at, 8)?)),
            ColumnType::String | ColumnType::Json | ColumnType::DateTime | ColumnType::Binary => {
                let len = u32::from_le_bytes(four(take(&mut at, 4)?)) as usize;
                let raw = take(&mut at, len)?;
                if *ty == ColumnType::Binary {
                    // JSON has no bytes: a binary value is kept as hex text.
                    Value::String(raw.iter().map(|b| format!("{b:02x}")).collect())
                } else {
                    let text = std::str::from_utf8(raw)
                        .map_err(|_| format!("property `{name}` is not UTF-8 text"))?;
                    match *ty {
                        // JSON that does not parse stays text rather than
                        // losing the feature.
                        ColumnType::Json => serde_json::from_str(text)
                            .unwrap_or_else(|_| Value::String(text.to_string())),
                        _ => Value::String(text.to_string()),
                    }
                }
            }
            other => return Err(format!("property `{name}` has the unknown type {other:?}")),
        };
        if !value.is_null() {
            map.insert(name.clone(), value);
        }
    }
    Ok(map)
}

fn two(b: &[u8]) -> [u8; 2] {
    [b[0], b[1]]
}

fn four(b: &[u8]) -> [u8; 4] {
    [b[0], b[1], b[2], b[3]]
}

fn number(v: f64) -> Value {
    Number::from_f64(v)
        .map(Value::Number)
        .unwrap_or(Value::Null)
}

/// One FlatGeobuf geometry, copied out of the verified buffer: its type,
/// flat `x, y` coordinates, part ends (in coordinates) and sub-geometries.
#[derive(Debug, Clone, Default)]
struct Part {
    kind: GeometryType,
    xy: Vec<f64>,
    ends: Vec<u32>,
    parts: Vec<Part>,
}

impl Part {
    fn of(g: &flatgeobuf::Geometry<'_>) -> Part {
        Part {
            kind: g.type_(),
            xy: g.xy().map(|v| v.iter().collect()).unwrap_or_default(),
            ends: g.ends().map(|v| v.iter().collect()).unwrap_or_default(),
            parts: g
                .parts()
                .map(|ps| ps.iter().map(|p| Part::of(&p)).collect())
                .unwrap_or_default(),
        }
    }

    fn coords(&self) -> Result<Vec<(f64, f64)>, String> {
        if !self.xy.len().is_multiple_of(2) {
            return Err(format!(
                "{} coordinate values, not x, y pairs",
                self.xy.len()
            ));
        }
        Ok(self.xy.chunks_exact(2).map(|c| (c[0], c[1])).collect())
    }

    /// The coordinates cut at `ends`: rings of a polygon, lines of a
    /// multilinestring; all of them as one when there are no ends.
    fn pieces(&self) -> Result<Vec<Vec<(f64, f64)>>, String> {
        let coords = self.coords()?;
        if self.ends.is_empty() {
            return Ok(if coords.is_empty() {
                vec![]
            } else {
                vec![coords]
            });
        }
        let mut start = 0usize;
        let mut out = Vec::with_capacity(self.ends.len());
        for &end in &self.ends {
            let end = end as usize;
            if end < start || end > coords.len() {
                return Err(format!(
                    "part end {end} outside the {} coordinates (or before the previous end)",
                    coords.len()
                ));
            }
            out.push(coords[start..end].to_vec());
            start = end;
        }
        if start != coords.len() {
            return Err(format!(
                "the parts end at coordinate {start} of {}",
                coords.len()
            ));
        }
        Ok(out)
    }
}

fn line(points: Vec<(f64, f64)>) -> LineString<f64> {
    points.into_iter().map(|(x, y)| Coord { x, y }).collect()
}

fn polygon(mut rings: Vec<Vec<(f64, f64)>>) -> Polygon<f64> {
    if rings.is_empty() {
        return Polygon::new(LineString::new(vec![]), vec![]);
    }
    let shell = rings.remove(0);
    Polygon::new(line(shell), rings.into_iter().map(line).collect())
}

/// How deep geometry collections may nest (grids are polygons).
const MAX_NESTING: usize = 16;

/// A geometry of type `kind` (the header's, or the part's own when the
/// header says Unknown) with the first raw ring problem of its polygons;
/// `None` for an empty point.
fn decode(
    part: &Part,
    kind: GeometryType,
    nesting: usize,
) -> Result<(Option<Geometry<f64>>, Option<GeometryProblem>), String> {
    let kind = if kind == GeometryType::Unknown {
        part.kind
    } else {
        kind
    };
    let polygons = |polys: Vec<Vec<Vec<(f64, f64)>>>| {
        let problem = polygons_problem(
            polys
                .iter()
                .map(|rings| rings.iter().map(|r| r.iter().copied())),
        );
        (polys.into_iter().map(polygon).collect::<Vec<_>>(), problem)
    };
    let geometry = match kind {
        GeometryType::Point => match part.coords()?.as_slice() {
            [] => None,
            [(x, y)] => Some(Geometry::Point(Point::new(*x, *y))),
            more => return Err(format!("a point with {} coordinates", more.len())),
        },
        GeometryType::MultiPoint => Some(Geometry::MultiPoint(MultiPoint::new(
            part.coords()?
                .into_iter()
                .map(|(x, y)| Point::new(x, y))
                .collect(),
        ))),
        GeometryType::LineString => Some(Geometry::LineString(line(part.coords()?))),
        GeometryType::MultiLineString => Some(Geometry::MultiLineString(MultiLineString::new(
            part.pieces()?.into_iter().map(line).collect(),
        ))),
        GeometryType::Polygon => {
            let rings = part.pieces()?;
            let (mut polys, problem) = polygons(vec![rings]);
            let p = polys.pop().unwrap_or_else(|| polygon(vec![]));
            return Ok((Some(Geometry::Polygon(p)), problem));
        }
        GeometryType::MultiPolygon => {
            let rings = part
                .parts
                .iter()
                .map(Part::pieces)
                .collect::<Result<Vec<_>, _>>()?;
            let (polys, problem) = polygons(rings);
            return Ok((
                Some(Geometry::MultiPolygon(MultiPolygon::new(polys))),
                problem,
            ));
        }
        GeometryType::GeometryCollection => {
            if nesting >= MAX_NESTING {
                return Err(format!(
                    "geometry collections nested more than {MAX_NESTING} deep"
                ));
            }
            let mut members = Vec::with_capacity(part.parts.len());
            let mut problem = None;
            for p in &part.parts {
                let (g, pr) = decode(p, GeometryType::Unknown, nesting + 1)?;
                problem = problem.or(pr);
                members.extend(g);
            }
            return Ok((
                Some(Geometry::GeometryCollection(GeometryCollection::new_from(
                    members,
                ))),
                problem,
            ));
        }
        GeometryType::Unknown => return Err("a geometry of unknown type".into()),
        other => return Err(format!("a {other:?} geometry is not supported")),
    };
    Ok((geometry, None))
}

#[cfg(test)]
mod tests;
