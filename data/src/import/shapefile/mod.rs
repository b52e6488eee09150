//! ESRI Shapefile reader (.shp + .dbf, optional .shx, .prj and .cpg).
//!
//! Attribute text is decoded with the encoding the `.cpg` names; without a
//! `.cpg`, with the DBF language-driver byte; when that is unset, UTF-8 or
//! GBK as [`detect`] tells from strict decodes of every text both ways
//! (Chinese data from older desktop GIS is usually GBK without a `.cpg`,
//! and GBK bytes are often valid UTF-8 by accident).

mod detect;

use std::path::{Path, PathBuf};

use ::shapefile::dbase::{self, encoding::EncodingRs, CodePageMark, FieldValue};
use ::shapefile::{PolygonRing, Shape, ShapeReader};
use encoding_rs::Encoding;
use geo::coordinate_position::CoordPos;
use geo::{Area, BoundingRect, CoordinatePosition};
use geo_types::{
    Coord, Geometry, LineString, MultiLineString, MultiPoint, MultiPolygon, Point, Polygon,
};
use serde_json::{Map, Number, Value};

use super::raw::{ring_problem, RawProblem};
use super::{parse_error, ImportError, RawFeature, SourceData};
use crate::crs::Crs;

/// The text encoding a `.cpg` file names.
pub(crate) fn encoding_from_cpg(text: &str) -> Option<&'static Encoding> {
    let label = text
        .trim()
        .trim_start_matches('\u{feff}')
        .to_ascii_uppercase();
    match label.as_str() {
        "GBK" | "CP936" | "936" | "GB2312" | "CP_936" | "ANSI 936" | "WINDOWS-936" => {
            Some(encoding_rs::GBK)
        }
        "GB18030" | "54936" => Some(encoding_rs::GB18030),
        "UTF-8" | "UTF8" | "65001" => Some(encoding_rs::UTF_8),
        "950" | "CP950" | "BIG5" => Some(encoding_rs::BIG5),
        "1252" | "CP1252" | "ANSI 1252" => Some(encoding_rs::WINDOWS_1252),
        other => Encoding::for_label(other.as_bytes()),
    }
}

/// The encoding the DBF language-driver byte implies; `None` when unset.
fn encoding_from_mark(mark: CodePageMark) -> Option<&'static Encoding> {
    match mark {
        CodePageMark::CP936 => Some(encoding_rs::GBK),
        CodePageMark::CP950 => Some(encoding_rs::BIG5),
        CodePageMark::CP932 => Some(encoding_rs::SHIFT_JIS),
        CodePageMark::CP949 => Some(encoding_rs::EUC_KR),
        CodePageMark::CP1252 => Some(encoding_rs::WINDOWS_1252),
        CodePageMark::Utf8 => Some(encoding_rs::UTF_8),
        _ => None,
    }
}

fn dbf_error(path: &Path, e: impl std::fmt::Display) -> ImportError {
    parse_error(path, format!("invalid .dbf: {e}"))
}

/// Reads all DBF records with the resolved encoding; returns the encoding used.
fn read_records(shp: &Path) -> Result<(Vec<dbase::Record>, &'static Encoding), ImportError> {
    let dbf = sibling(shp, "dbf")
        .ok_or_else(|| parse_error(shp, "the .dbf file beside the .shp is missing".into()))?;
    let cpg = sibling(shp, "cpg");
    let declared = match cpg {
        Some(cpg) => {
            let text = std::fs::read_to_string(&cpg).map_err(|source| ImportError::Io {
                path: cpg.clone(),
                source,
            })?;
            Some(encoding_from_cpg(&text).ok_or_else(|| {
                parse_error(
                    &cpg,
                    format!("unsupported encoding {:?} in .cpg", text.trim()),
                )
            })?)
        }
        None => {
            let reader = dbase::Reader::from_path(&dbf).map_err(|e| dbf_error(&dbf, e))?;
            encoding_from_mark(reader.header().code_page_mark)
        }
    };
    // Every record decoded with `enc`.
    let read_as = |enc: &'static Encoding| {
        let mut reader = dbase::Reader::from_path_with_encoding(&dbf, EncodingRs::from(enc))
            .map_err(|e| dbf_error(&dbf, e))?;
        Ok((reader.read().map_err(|e| dbf_error(&dbf, e))?, enc))
    };
    if let Some(enc) = declared {
        return read_as(enc);
    }
    let mut strict = dbase::Reader::from_path_with_encoding(&dbf, dbase::Unicode)
        .map_err(|e| dbf_error(&dbf, e))?;
    match strict.read() {
        Ok(records) => {
            let texts = records.iter().flat_map(|r| {
                r.as_ref().values().filter_map(|v| match v {
                    FieldValue::Character(Some(s)) | FieldValue::Memo(s) => Some(s.as_bytes()),
                    _ => None,
                })
            });
            if detect::shapefile_text_encoding(texts) == encoding_rs::UTF_8 {
                return Ok((records, encoding_rs::UTF_8));
            }
            read_as(encoding_rs::GBK)
        }
        Err(e) if matches!(e.kind(), dbase::ErrorKind::StringDecodeError(_)) => {
            read_as(encoding_rs::GBK)
        }
        Err(e) => Err(dbf_error(&dbf, e)),
    }
}

/// The file beside `path` with extension `ext` (either case), if it exists.
pub(crate) fn sibling(path: &Path, ext: &str) -> Option<PathBuf> {
    [ext.to_ascii_lowercase(), ext.to_ascii_uppercase()]
        .into_iter()
        .map(|e| path.with_extension(e))
        .find(|p| p.exists())
}

fn json_number(v: f64) -> Value {
    // Codes in N(15,0) fields arrive as f64; keep integers integral.
    if v.fract() == 0.0 && v.abs() < 9.0e15 {
        Value::Number(Number::from(v as i64))
    } else {
        Number::from_f64(v)
            .map(Value::Number)
            .unwrap_or(Value::Null)
    }
}

fn field_value(v: FieldValue) -> Value {
    match v {
        FieldValue::Character(s) => s.map(Value::String).unwrap_or(Value::Null),
        FieldValue::Memo(s) => Value::String(s),
        FieldValue::Numeric(n) => n.map(json_number).unwrap_or(Value::Null),
        FieldValue::Float(n) => n.map(|f| json_number(f as f64)).unwrap_or(Value::Null),
        FieldValue::Double(n) | FieldValue::Currency(n) => json_number(n),
        FieldValue::Integer(n) => Value::Number(n.into()),
        FieldValue::Logical(b) => b.map(Value::Bool).unwrap_or(Value::Null),
        FieldValue::Date(d) => d
            .map(|d| Value::String(format!("{:04}-{:02}-{:02}", d.year(), d.month(), d.day())))
            .unwrap_or(Value::Null),
        FieldValue::DateTime(dt) => {
            let d = dt.date();
            let t = dt.time();
            Value::String(format!(
                "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
                d.year(),
                d.month(),
                d.day(),
                t.hours(),
                t.minutes(),
                t.seconds()
            ))
        }
    }
}

type RawRing = Vec<(f64, f64)>;

fn to_line(ring: &RawRing) -> LineString<f64> {
    ring.iter()
        .map(|&(x, y)| Coord { x, y })
        .collect::<Vec<_>>()
        .into()
}

/// Whether `hole` lies inside the area of `shell` (first vertex not on its boundary decides).
fn encloses(shell: &Polygon<f64>, hole: &RawRing) -> bool {
    for &(x, y) in hole {
        match shell.coordinate_position(&Coord { x, y }) {
            CoordPos::Inside => return true,
            CoordPos::Outside => return false,
            CoordPos::OnBoundary => {}
        }
    }
    false
}

/// Builds polygons from shapefile rings: outer rings (clockwise) start
/// polygons, each inner ring (counter-clockwise) goes to the smallest outer
/// ring that encloses it. An inner ring no outer ring encloses is taken as a
/// polygon of its own (a shell written with the wrong orientation).
pub(crate) fn assemble(rings: Vec<(bool, RawRing)>) -> (MultiPolygon<f64>, Option<RawProblem>) {
    let mut shells: Vec<(RawRing, Vec<RawRing>)> = Vec::new();
    let mut holes = Vec::new();
    for (outer, ring) in rings {
        if outer {
            shells.push((ring, vec![]));
        } else {
            holes.push(ring);
        }
    }
    let shell_polygons: Vec<Polygon<f64>> = shells
        .iter()
        .map(|(r, _)| Polygon::new(to_line(r), vec![]))
        .collect();
    for hole in holes {
        let hole_box = to_line(&hole).bounding_rect();
        let owner = shell_polygons
            .iter()
            .enumerate()
            .filter(|(_, s)| match (s.bounding_rect(), hole_box) {
                (Some(sb), Some(hb)) => {
                    sb.min().x <= hb.min().x
                        && sb.min().y <= hb.min().y
                        && hb.max().x <= sb.max().x
                        && hb.max().y <= sb.max().y
                }
                _ => false,
            })
            .filter(|(_, s)| encloses(s, &hole))
            .min_by(|a, b| a.1.unsigned_area().total_cmp(&b.1.unsigned_area()))
            .map(|(i, _)| i);
        match owner {
            Some(i) => shells[i].1.push(hole),
            None => shells.push((hole, vec![])),
        }
    }
    let mut problem = None;
    let mut polygons = Vec::with_capacity(shells.len());
    for (pi, (shell, holes)) in shells.into_iter().enumerate() {
        for (ri, ring) in std::iter::once(&shell).chain(holes.iter()).enumerate() {
            if problem.is_none() {
                problem = ring_problem(pi, ri, ring.iter().copied()).map(RawProblem::Geometry);
            }
        }
        polygons.push(Polygon::new(
            to_line(&shell),
            holes.iter().map(to_line).collect(),
        ));
    }
    (MultiPolygon::new(polygons), problem)
}

fn polygon_rings<P>(
    rings: &[PolygonRing<P>],
    xy: impl Fn(&P) -> (f64, f64),
) -> Vec<(bool, RawRing)> {
    rings
        .iter()
        .map(|r| {
            let outer = matches!(r, PolygonRing::Outer(_));
            (outer, r.points().iter().map(&xy).collect())
        })
        .collect()
}

fn convert(shape: Shape) -> (Option<Geometry<f64>>, Option<RawProblem>) {
    let polygonal = |rings| {
        let (mp, problem) = assemble(rings);
        (Some(Geometry::MultiPolygon(mp)), problem)
    };
    let points = |pts: Vec<(f64, f64)>| {
        pts.into_iter()
            .map(|(x, y)| Point::new(x, y))
            .collect::<Vec<_>>()
    };
    match shape {
        Shape::NullShape => (None, None),
        Shape::Polygon(p) => polygonal(polygon_rings(p.rings(), |q| (q.x, q.y))),
        Shape::PolygonM(p) => polygonal(polygon_rings(p.rings(), |q| (q.x, q.y))),
        Shape::PolygonZ(p) => polygonal(polygon_rings(p.rings(), |q| (q.x, q.y))),
        Shape::Point(p) => (Some(Geometry::Point(Point::new(p.x, p.y))), None),
        Shape::PointM(p) => (Some(Geometry::Point(Point::new(p.x, p.y))), None),
        Shape::PointZ(p) => (Some(Geometry::Point(Point::new(p.x, p.y))), None),
        Shape::Multipoint(m) => (
            Some(Geometry::MultiPoint(MultiPoint::new(points(
                m.points().iter().map(|q| (q.x, q.y)).collect(),
            )))),
            None,
        ),
        Shape::MultipointM(m) => (
            Some(Geometry::MultiPoint(MultiPoint::new(points(
                m.points().iter().map(|q| (q.x, q.y)).collect(),
            )))),
            None,
        ),
        Shape::MultipointZ(m) => (
            Some(Geometry::MultiPoint(MultiPoint::new(points(
                m.points().iter().map(|q| (q.x, q.y)).collect(),
            )))),
            None,
        ),
        Shape::Polyline(l) => (
            Some(lines(
                l.parts()
                    .iter()
                    .map(|p| p.iter().map(|q| (q.x, q.y)).collect()),
            )),
            None,
        ),
        Shape::PolylineM(l) => (
            Some(lines(
                l.parts()
                    .iter()
                    .map(|p| p.iter().map(|q| (q.x, q.y)).collect()),
            )),
            None,
        ),
        Shape::PolylineZ(l) => (
            Some(lines(
                l.parts()
                    .iter()
                    .map(|p| p.iter().map(|q| (q.x, q.y)).collect()),
            )),
            None,
        ),
        Shape::Multipatch(_) => (
            None,
            Some(RawProblem::Unreadable(
                "a Multipatch (3-D surface) is not a polygon".into(),
            )),
        ),
    }
}

fn lines(parts: impl Iterator<Item = RawRing>) -> Geometry<f64> {
    Geometry::MultiLineString(MultiLineString::new(parts.map(|p| to_line(&p)).collect()))
}

/// Reads a Shapefile. A damaged file is refused, never a crash: the record
/// sizes are checked against the file first (the reader would trust them
/// and allocate what they claim), and a panic inside the `shapefile` or
/// `dbase` crates on what is left (negative part counts, parts past the
/// points, a zero header length) becomes the file's parse error.
pub(crate) fn read(path: &Path) -> Result<SourceData, ImportError> {
    check_record_sizes(path)?;
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| read_checked(path))).unwrap_or_else(
        |panic| {
            let why = panic
                .downcast_ref::<&str>()
                .map(ToString::to_string)
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown failure".into());
            Err(parse_error(
                path,
                format!("damaged Shapefile (.shp, .shx or .dbf): the reader failed: {why}"),
            ))
        },
    )
}

/// The main-file header's length and every record header's content length
/// fit in the file (sizes are big-endian counts of 16-bit words), and so
/// do the counts of every record read (walked, or where the `.shx` points),
/// its part starts in order within its points: the reader allocates what
/// they claim before reading it, so one part start of -1604732672 asked for
/// 25 GB and aborted the process, where no panic can be caught.
fn check_record_sizes(path: &Path) -> Result<(), ImportError> {
    let bytes = std::fs::read(path).map_err(|source| ImportError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let word = |at: usize| -> Option<i64> {
        let b = bytes.get(at..at + 4)?;
        Some(i64::from(i32::from_be_bytes([b[0], b[1], b[2], b[3]])) * 2)
    };
    let bad = |why: String| Err(parse_error(path, format!("damaged .shp: {why}")));
    if bytes.get(..4) != Some(&[0, 0, 0x27, 0x0A][..]) && bytes.len() >= 4 {
        return Err(parse_error(
            path,
            "not a Shapefile: it does not start with the file code 9994".into(),
        ));
    }
    let Some(declared) = word(24) else {
        return bad(format!(
            "{} bytes, shorter than its 100-byte header",
            bytes.len()
        ));
    };
    if declared < 100 || declared > bytes.len() as i64 {
        return bad(format!(
            "the header says {declared} bytes, the file has {}",
            bytes.len()
        ));
    }
    let mut at = 100usize;
    let mut record = 0;
    while at + 8 <= declared as usize {
        record += 1;
        let length = word(at + 4).unwrap_or(-1);
        if length < 0 || at as i64 + 8 + length > declared {
            return bad(format!(
                "record {record} claims {length} bytes, {} are left",
                declared - at as i64 - 8
            ));
        }
        let content = &bytes[at + 8..at + 8 + length as usize];
        if let Err(why) = check_counts(content, length) {
            // Numbered as the reader's own errors are, from 0.
            return Err(parse_error(
                path,
                format!("invalid .shp record {}: {why}", record - 1),
            ));
        }
        at += 8 + length as usize;
    }
    // With a .shx the reader seeks to its offsets, wherever they point.
    if let Some(shx) = sibling(path, "shx") {
        let index = std::fs::read(&shx).map_err(|source| ImportError::Io {
            path: shx.clone(),
            source,
        })?;
        let entries = index.get(100..).unwrap_or_default().chunks_exact(8);
        for (i, entry) in entries.enumerate() {
            let offset = i32::from_be_bytes([entry[0], entry[1], entry[2], entry[3]]);
            // A record header past the end fails to read: the reader refuses it.
            let Some((start, length)) = usize::try_from(offset)
                .ok()
                .and_then(|words| Some((words * 2 + 8, word(words * 2 + 4)?)))
            else {
                continue;
            };
            let content = bytes.get(start..).unwrap_or_default();
            if let Err(why) = check_counts(content, length) {
                return Err(parse_error(
                    &shx,
                    format!("damaged .shx: entry {} names a record where {why}", i + 1),
                ));
            }
        }
    }
    Ok(())
}

/// The counts of the record whose content (`length` bytes by its header)
/// begins `content`: multipoints hold a point count, polylines, polygons
/// and multipatches part and point counts then the part starts, all
/// little-endian after the shape type and the 32-byte box. The reader
/// checks the counts against the length in 32 bits, where 1610612741
/// points of 16 bytes wrap around to fit a 5-point record, then allocates
/// what they claim. Negative counts are left to the reader, which fails on
/// them without allocating.
fn check_counts(content: &[u8], length: i64) -> Result<(), String> {
    let int = |at: usize| {
        content
            .get(at..at + 4)
            .map(|b| i64::from(i32::from_le_bytes([b[0], b[1], b[2], b[3]])))
    };
    // Bytes before the points: the type, the box, the counts (and the starts).
    let (parts, points, before_points) = match int(0) {
        Some(8 | 18 | 28) => (Some(0), int(36), 40),
        Some(3 | 5 | 13 | 15 | 23 | 25 | 31) => (int(36), int(40), 44),
        _ => return Ok(()),
    };
    let (Some(parts), Some(points)) = (parts, points) else {
        return Ok(());
    };
    if parts < 0 || points < 0 {
        return Ok(());
    }
    let needed = before_points + 4 * parts + 16 * points;
    if needed > length {
        return Err(format!(
            "its counts ({parts} parts, {points} points) need {needed} bytes, the record has {length}"
        ));
    }
    let mut previous = 0;
    for i in 0..parts as usize {
        // A start past the end of the file fails to read.
        let Some(start) = int(44 + 4 * i) else {
            return Ok(());
        };
        if start < previous || start > points {
            return Err(format!(
                "part {} starts at point {start}, outside {previous}..={points}",
                i + 1
            ));
        }
        previous = start;
    }
    Ok(())
}

fn read_checked(path: &Path) -> Result<SourceData, ImportError> {
    let crs = match sibling(path, "prj") {
        Some(prj) => {
            let text = std::fs::read_to_string(&prj).map_err(|source| ImportError::Io {
                path: prj.clone(),
                source,
            })?;
            Some(Crs::from_prj(&text).map_err(|source| ImportError::Crs { path: prj, source })?)
        }
        None => None,
    };
    let (records, _encoding) = read_records(path)?;
    let mut shapes = ShapeReader::from_path(path)
        .map_err(|e| parse_error(path, format!("invalid .shp: {e}")))?;
    let mut features = Vec::with_capacity(records.len());
    for (index, shape) in shapes.iter_shapes().enumerate() {
        let shape =
            shape.map_err(|e| parse_error(path, format!("invalid .shp record {index}: {e}")))?;
        let Some(record) = records.get(index) else {
            return Err(parse_error(
                path,
                format!(
                    "the .shp has more shapes than the .dbf has records ({})",
                    records.len()
                ),
            ));
        };
        // An empty cell is no property, as in the other readers (an export
        // writes a missing attribute as an empty cell).
        let properties: Map<String, Value> = record
            .clone()
            .into_iter()
            .map(|(name, v)| (name, field_value(v)))
            .filter(|(_, v)| !v.is_null())
            .collect();
        let (geometry, raw_problem) = convert(shape);
        features.push(RawFeature {
            index,
            properties,
            geometry,
            raw_problem,
        });
    }
    if features.len() != records.len() {
        return Err(parse_error(
            path,
            format!(
                "the .shp has {} shapes but the .dbf has {} records",
                features.len(),
                records.len()
            ),
        ));
    }
    Ok(SourceData { features, crs })
}

#[cfg(test)]
mod tests;
