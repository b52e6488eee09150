//! FlatGeobuf files written by the export, cut short or damaged byte by
//! byte, or not FlatGeobuf at all; geometry parts and property bytes by hand.

use flatgeobuf::{ColumnType, GeometryType};
use geo_types::Geometry;
use serde_json::{json, Value};

use super::{decode, properties, Part};
use crate::crs::Crs;
use crate::export::ExportFormat;
use crate::geometry::GeometryProblem;
use crate::import::gpkg::tests::{assert_an_export_reads_back, exported};
use crate::import::{read_features, ImportError};

#[test]
fn an_export_reads_back_with_its_attributes_and_crs() {
    assert_an_export_reads_back(ExportFormat::FlatGeobuf, "fgb");
}

#[test]
fn cut_or_damaged_files_are_refused_by_name_without_panics() {
    let dir = tempfile::tempdir().unwrap();
    let file = exported(dir.path(), "g.fgb", ExportFormat::FlatGeobuf, Crs::Wgs84);
    let bytes = std::fs::read(&file).unwrap();
    let cut = dir.path().join("cut.fgb");
    let parse = |data: &[u8]| {
        std::fs::write(&cut, data).unwrap();
        read_features(&cut)
    };
    let prefix = format!("cannot parse {}: ", cut.display());
    for len in 0..bytes.len() {
        let e = parse(&bytes[..len]).unwrap_err().to_string();
        assert!(e.starts_with(&prefix), "{len}: {e}");
        let reason = &e[prefix.len()..];
        assert!(
            reason.starts_with("truncated: ")
                || reason.starts_with("not a FlatGeobuf file")
                || reason.starts_with("invalid FlatGeobuf header"),
            "cut at {len} of {}: {e}",
            bytes.len()
        );
    }
    // Every byte changed in turn: an error or features, never a panic.
    for at in 0..bytes.len() {
        let mut damaged = bytes.clone();
        damaged[at] ^= 0xa5;
        let _ = parse(&damaged);
    }
    let noise = dir.path().join("noise.fgb");
    std::fs::write(&noise, b"PK\x03\x04 not a flatgeobuf at all").unwrap();
    let e = read_features(&noise).unwrap_err().to_string();
    assert_eq!(
        e,
        format!(
            "cannot parse {}: not a FlatGeobuf file (it does not start with the FlatGeobuf magic bytes)",
            noise.display()
        )
    );
    let missing = read_features(&dir.path().join("missing.fgb")).unwrap_err();
    assert!(matches!(missing, ImportError::Io { .. }), "{missing}");
}

fn part(kind: GeometryType, xy: &[f64], ends: &[u32]) -> Part {
    Part {
        kind,
        xy: xy.to_vec(),
        ends: ends.to_vec(),
        parts: vec![],
    }
}

#[test]
fn geometry_parts_are_checked() {
    let square = [0.0, 0.0, 1.0, 0.0, 1.0, 1.0, 0.0, 0.0];
    let (g, problem) = decode(
        &part(GeometryType::Polygon, &square, &[]),
        GeometryType::Polygon,
        0,
    )
    .unwrap();
    assert!(matches!(g, Some(Geometry::Polygon(_))));
    assert_eq!(problem, None);
    // Two rings, the second not closed.
    let mut xy = square.to_vec();
    xy.extend([0.2, 0.2, 0.4, 0.2, 0.4, 0.4]);
    let (_, problem) = decode(
        &part(GeometryType::Unknown, &xy, &[4, 7]),
        GeometryType::Polygon,
        0,
    )
    .unwrap();
    assert_eq!(
        problem,
        Some(GeometryProblem::UnclosedRing {
            polygon: 0,
            ring: 1
        })
    );
    let multi = Part {
        kind: GeometryType::MultiPolygon,
        parts: vec![
            part(GeometryType::Polygon, &square, &[]),
            part(
                GeometryType::Polygon,
                &[0.0, 0.0, f64::NAN, 0.0, 0.0, 0.0],
                &[],
            ),
        ],
        ..Part::default()
    };
    let (g, problem) = decode(&multi, GeometryType::Unknown, 0).unwrap();
    assert!(matches!(g, Some(Geometry::MultiPolygon(m)) if m.0.len() == 2));
    assert_eq!(
        problem,
        Some(GeometryProblem::NonFinite {
            polygon: 1,
            ring: 0,
            vertex: 1
        })
    );
    for (bad, why) in [
        (
            part(GeometryType::Polygon, &square, &[9]),
            "part end 9 outside",
        ),
        (
            part(GeometryType::Polygon, &square, &[3, 1]),
            "before the previous end",
        ),
        (
            part(GeometryType::Polygon, &square, &[2]),
            "the parts end at coordinate 2 of 4",
        ),
        (
            part(GeometryType::Polygon, &square[..7], &[]),
            "7 coordinate values",
        ),
        (
            part(GeometryType::CircularString, &square, &[]),
            "CircularString geometry is not supported",
        ),
        (part(GeometryType::Unknown, &square, &[]), "unknown type"),
    ] {
        let e = decode(&bad, GeometryType::Unknown, 0).unwrap_err();
        assert!(e.contains(why), "{e}");
    }
    let mut deep = part(GeometryType::Point, &[1.0, 2.0], &[]);
    for _ in 0..20 {
        deep = Part {
            kind: GeometryType::GeometryCollection,
            parts: vec![deep],
            ..Part::default()
        };
    }
    let e = decode(&deep, GeometryType::Unknown, 0).unwrap_err();
    assert!(e.contains("nested more than 16"), "{e}");
}

#[test]
fn properties_by_column_type() {
    let columns: Vec<(String, ColumnType)> = [
        ("b", ColumnType::Bool),
        ("i", ColumnType::Int),
        ("l", ColumnType::Long),
        ("f", ColumnType::Float),
        ("d", ColumnType::Double),
        ("s", ColumnType::String),
        ("j", ColumnType::Json),
        ("t", ColumnType::DateTime),
        ("x", ColumnType::Binary),
        ("u", ColumnType::UShort),
    ]
    .into_iter()
    .map(|(n, t)| (n.to_string(), t))
    .collect();
    let mut bytes = Vec::new();
    let col = |b: &mut Vec<u8>, i: u16| b.extend(i.to_le_bytes());
    let text = |b: &mut Vec<u8>, s: &[u8]| {
        b.extend((s.len() as u32).to_le_bytes());
        b.extend(s);
    };
    col(&mut bytes, 0);
    bytes.push(1);
    col(&mut bytes, 1);
    bytes.extend((-7i32).to_le_bytes());
    col(&mut bytes, 2);
    bytes.extend(330106001001i64.to_le_bytes());
    col(&mut bytes, 3);
    bytes.extend(0.5f32.to_le_bytes());
    col(&mut bytes, 4);
    bytes.extend(1.25f64.to_le_bytes());
    col(&mut bytes, 5);
    text(&mut bytes, "文一路".as_bytes());
    col(&mut bytes, 6);
    text(&mut bytes, br#"{"a":[1,2]}"#);
    col(&mut bytes, 7);
    text(&mut bytes, b"2024-05-01T08:00:00Z");
    col(&mut bytes, 8);
    text(&mut bytes, &[0x00, 0xff]);
    col(&mut bytes, 9);
    bytes.extend(65535u16.to_le_bytes());
    let got = properties(&bytes, &columns).unwrap();
    assert_eq!(
        Value::Object(got),
        json!({"b": true, "i": -7, "l": 330106001001i64, "f": 0.5, "d": 1.25, "s": "文一路",
               "j": {"a": [1, 2]}, "t": "2024-05-01T08:00:00Z", "x": "00ff", "u": 65535})
    );
    // A value cut short, a column the schema lacks, a trailing byte.
    let e = properties(&bytes[..bytes.len() - 1], &columns).unwrap_err();
    assert_eq!(e, "its properties end inside a value");
    let e = properties(&[10, 0, 1], &columns).unwrap_err();
    assert_eq!(e, "property of column 10, but the file has 10 columns");
    assert!(properties(&[0, 0, 1, 0], &columns).is_ok());
}
