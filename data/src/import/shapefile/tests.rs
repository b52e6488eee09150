//! Shapefiles written in the test with the shapefile crate: a CGCS2000
//! Gauss-Krüger zone 40 `.prj`, GBK attribute text, holes by ring orientation.

use std::path::{Path, PathBuf};

use ::shapefile::dbase::{self, encoding::EncodingRs, FieldValue, TableWriterBuilder};
use ::shapefile::{Point, Polygon, PolygonRing, Writer};
use serde_json::json;

use super::{assemble, encoding_from_cpg};
use crate::crs::Crs;
use crate::geometry::area_m2;
use crate::import::{
    import_grids, prepare_grid_import, read_features, GridImportOptions, ImportError, RawProblem,
};
use crate::progress::NoProgress;
use crate::store::GridStore;
use crate::testutil::MemStore;

const PRJ_GK40: &str = r#"PROJCS["CGCS2000_3_Degree_GK_Zone_40",GEOGCS["GCS_China_Geodetic_Coordinate_System_2000",DATUM["D_China_2000",SPHEROID["CGCS2000",6378137.0,298.257222101]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Gauss_Kruger"],PARAMETER["False_Easting",40500000.0],PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",120.0],PARAMETER["Scale_Factor",1.0],PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]"#;

/// Northing of 30°N on the central meridian (EPSG:4549 reference point).
const N30: f64 = 3_320_113.398;

fn rect(x0: f64, y0: f64, w: f64, h: f64) -> Vec<Point> {
    vec![
        Point::new(x0, y0),
        Point::new(x0 + w, y0),
        Point::new(x0 + w, y0 + h),
        Point::new(x0, y0 + h),
        Point::new(x0, y0),
    ]
}

struct Row<'a> {
    code: &'a str,
    name: &'a str,
    level: &'a str,
    parent: Option<&'a str>,
    households: f64,
    rings: Vec<PolygonRing<Point>>,
}

/// Writes `name.shp/.shx/.dbf` with GBK-encoded text (language driver 0x7A).
fn write_shapefile(dir: &Path, name: &str, rows: Vec<Row>) -> PathBuf {
    let path = dir.join(name);
    let table = TableWriterBuilder::with_encoding(EncodingRs::from(encoding_rs::GBK))
        .add_character_field("code".try_into().unwrap(), 20)
        .add_character_field("name".try_into().unwrap(), 40)
        .add_character_field("level".try_into().unwrap(), 20)
        .add_character_field("parent".try_into().unwrap(), 20)
        .add_numeric_field("households".try_into().unwrap(), 10, 0);
    let mut writer = Writer::from_path(&path, table).unwrap();
    for row in rows {
        let mut record = dbase::Record::default();
        record.insert("code".into(), FieldValue::Character(Some(row.code.into())));
        record.insert("name".into(), FieldValue::Character(Some(row.name.into())));
        record.insert(
            "level".into(),
            FieldValue::Character(Some(row.level.into())),
        );
        record.insert(
            "parent".into(),
            FieldValue::Character(row.parent.map(Into::into)),
        );
        record.insert(
            "households".into(),
            FieldValue::Numeric(Some(row.households)),
        );
        writer
            .write_shape_and_record(&Polygon::with_rings(row.rings), &record)
            .unwrap();
    }
    drop(writer);
    path
}

fn street_and_community(dir: &Path) -> PathBuf {
    let x = 40_500_000.0;
    write_shapefile(
        dir,
        "grids.shp",
        vec![
            Row {
                code: "330106001",
                name: "文新街道",
                level: "street",
                parent: None,
                households: 12345.0,
                // 2 km square with a 200 m hole.
                rings: vec![
                    PolygonRing::Outer(rect(x, N30, 2000.0, 2000.0)),
                    PolygonRing::Inner(rect(x + 900.0, N30 + 900.0, 200.0, 200.0)),
                ],
            },
            Row {
                code: "330106001001",
                name: "文新社区",
                level: "community",
                parent: Some("330106001"),
                households: 800.0,
                rings: vec![PolygonRing::Outer(rect(x, N30, 500.0, 500.0))],
            },
        ],
    )
}

#[test]
fn gk_zone_40_with_gbk_names_via_cpg() {
    let dir = tempfile::tempdir().unwrap();
    let shp = street_and_community(dir.path());
    std::fs::write(shp.with_extension("prj"), PRJ_GK40).unwrap();
    std::fs::write(shp.with_extension("cpg"), "GBK").unwrap();
    let store = MemStore::default();
    let report = import_grids(&store, &shp, &GridImportOptions::new("综治"), &NoProgress).unwrap();
    assert_eq!(report.crs, Crs::GaussKruger(4528));
    let grids = store.grids("综治").unwrap();
    let street = grids.iter().find(|g| g.code == "330106001").unwrap();
    assert_eq!(street.name, "文新街道");
    assert_eq!(street.attributes["households"], json!(12345));
    assert_eq!(street.geometry.0.len(), 1);
    assert_eq!(
        street.geometry.0[0].interiors().len(),
        1,
        "the inner ring is a hole"
    );
    // The south-west corner is on the central meridian at 30°N. (The south-east
    // corner, 2 km east at the same northing, is ~1.6e-6° further south.)
    let ring = &street.geometry.0[0].exterior().0;
    let sw = ring
        .iter()
        .min_by(|a, b| (a.x + a.y).total_cmp(&(b.x + b.y)))
        .unwrap();
    assert!(
        (sw.x - 120.0).abs() < 1e-8 && (sw.y - 30.0).abs() < 1e-8,
        "{sw:?}"
    );
    // Gauss-Krüger scale is 1 on the central meridian: 4 km² minus 0.04 km², to 0.1 %.
    assert!(
        (area_m2(&street.geometry) / 3_960_000.0 - 1.0).abs() < 1e-3,
        "{}",
        area_m2(&street.geometry)
    );
    assert_eq!(
        grids
            .iter()
            .find(|g| g.code == "330106001001")
            .unwrap()
            .name,
        "文新社区"
    );
}

#[test]
fn crs_option_wins_over_prj() {
    let dir = tempfile::tempdir().unwrap();
    let shp = street_and_community(dir.path());
    std::fs::write(shp.with_extension("prj"), PRJ_GK40).unwrap();
    let mut opts = GridImportOptions::new("s");
    opts.crs = Some(Crs::Wgs84);
    let err = prepare_grid_import(&shp, &opts, &MemStore::default(), &NoProgress).unwrap_err();
    assert!(matches!(err, ImportError::Crs { .. }), "{err}");
}

#[test]
fn gbk_without_cpg_or_language_byte_falls_back_from_utf8() {
    let dir = tempfile::tempdir().unwrap();
    let shp = street_and_community(dir.path());
    std::fs::write(shp.with_extension("prj"), PRJ_GK40).unwrap();
    // Clear the DBF language-driver byte (offset 29) as many tools leave it.
    let dbf = shp.with_extension("dbf");
    let mut bytes = std::fs::read(&dbf).unwrap();
    assert_eq!(bytes[29], 0x7A, "the writer marks GBK as code page 936");
    let data = read_features(&shp).unwrap();
    assert_eq!(
        data.features[0].properties["name"], "文新街道",
        "language byte 0x7A means GBK"
    );
    bytes[29] = 0;
    std::fs::write(&dbf, bytes).unwrap();
    let data = read_features(&shp).unwrap();
    assert_eq!(data.features[0].properties["name"], "文新街道");
    assert_eq!(data.features[1].properties["parent"], "330106001");
    assert_eq!(data.crs, Some(Crs::GaussKruger(4528)));
}

#[test]
fn cpg_labels() {
    for label in ["GBK", "cp936", "936", "GB2312\r\n", "\u{feff}gbk"] {
        assert_eq!(
            encoding_from_cpg(label),
            Some(encoding_rs::GBK),
            "{label:?}"
        );
    }
    assert_eq!(encoding_from_cpg("UTF-8"), Some(encoding_rs::UTF_8));
    assert_eq!(encoding_from_cpg("65001"), Some(encoding_rs::UTF_8));
    assert_eq!(encoding_from_cpg("GB18030"), Some(encoding_rs::GB18030));
    assert_eq!(encoding_from_cpg("nonsense"), None);
}

#[test]
fn rings_are_grouped_by_orientation_and_containment() {
    let sq = |x: f64, y: f64, d: f64, cw: bool| {
        let mut r = vec![(x, y), (x + d, y), (x + d, y + d), (x, y + d), (x, y)];
        if cw {
            r.reverse();
        }
        r
    };
    // Two shells; the second shell's hole is listed first; one orphan ccw ring.
    let rings = vec![
        (true, sq(0.0, 0.0, 10.0, true)),
        (false, sq(21.0, 1.0, 2.0, false)),
        (true, sq(20.0, 0.0, 10.0, true)),
        (false, sq(1.0, 1.0, 2.0, false)),
        (false, sq(50.0, 50.0, 1.0, false)),
    ];
    let (mp, problem) = assemble(rings);
    assert_eq!(problem, None);
    assert_eq!(mp.0.len(), 3);
    assert_eq!(mp.0[0].interiors()[0].0[0].x, 1.0);
    assert_eq!(mp.0[1].interiors()[0].0[0].x, 21.0);
    assert!(mp.0[2].interiors().is_empty());
    let (_, problem) = assemble(vec![(true, vec![(0.0, 0.0), (0.0, 1.0), (1.0, 1.0)])]);
    assert!(matches!(
        problem,
        Some(RawProblem::Geometry(
            crate::geometry::GeometryProblem::UnclosedRing {
                polygon: 0,
                ring: 0
            }
        ))
    ));
}

#[test]
fn missing_dbf_is_a_parse_error() {
    let dir = tempfile::tempdir().unwrap();
    let shp = street_and_community(dir.path());
    std::fs::remove_file(shp.with_extension("dbf")).unwrap();
    let e = read_features(&shp).unwrap_err().to_string();
    assert!(
        e.contains("the .dbf file beside the .shp is missing"),
        "{e}"
    );
}

#[test]
fn gbk_names_that_are_valid_utf8_are_read_as_gbk() {
    // 学校 in GBK is D1 A7 D0 A3, which is also valid UTF-8 (ѧУ): without
    // a `.cpg` or language byte it used to be stored garbled.
    assert!(std::str::from_utf8(&encoding_rs::GBK.encode("学校").0).is_ok());
    let dir = tempfile::tempdir().unwrap();
    let shp = write_shapefile(
        dir.path(),
        "schools.shp",
        vec![Row {
            code: "1",
            name: "学校",
            level: "street",
            parent: None,
            households: 1.0,
            rings: vec![PolygonRing::Outer(rect(40_500_000.0, N30, 100.0, 100.0))],
        }],
    );
    let dbf = shp.with_extension("dbf");
    let mut bytes = std::fs::read(&dbf).unwrap();
    bytes[29] = 0;
    std::fs::write(&dbf, bytes).unwrap();
    let data = read_features(&shp).unwrap();
    assert_eq!(data.features[0].properties["name"], "学校");
}

/// The bytes of record `n` (1-based) of a `.shp` past its 8-byte header.
fn record_content(shp: &[u8], n: usize) -> usize {
    let mut at = 100;
    for _ in 1..n {
        let words = i32::from_be_bytes(shp[at + 4..at + 8].try_into().unwrap());
        at += 8 + 2 * words as usize;
    }
    at + 8
}

#[test]
fn damaged_part_start_is_refused_not_an_abort() {
    // Found by fuzzing: the reader allocates the points a part claims before
    // reading them, so a negative part start asked for 25 GB and aborted.
    let dir = tempfile::tempdir().unwrap();
    let shp = street_and_community(dir.path());
    let mut bytes = std::fs::read(&shp).unwrap();
    let content = record_content(&bytes, 2);
    bytes[content + 44..content + 48].copy_from_slice(&(-1_604_732_672_i32).to_le_bytes());
    std::fs::write(&shp, &bytes).unwrap();
    let e = read_features(&shp).unwrap_err().to_string();
    assert!(
        e.contains("invalid .shp record 1: part 1 starts at point -1604732672, outside 0..=5"),
        "{e}"
    );
}

#[test]
fn point_counts_that_wrap_around_to_the_record_size_are_refused() {
    // Found by fuzzing: 1610612741 points of 16 bytes are 124 bytes in the
    // reader's 32-bit arithmetic, so its own size check passed.
    let dir = tempfile::tempdir().unwrap();
    let shp = street_and_community(dir.path());
    let mut bytes = std::fs::read(&shp).unwrap();
    let content = record_content(&bytes, 2);
    bytes[content + 40..content + 44].copy_from_slice(&0x6000_0005_i32.to_le_bytes());
    std::fs::write(&shp, &bytes).unwrap();
    let e = read_features(&shp).unwrap_err().to_string();
    assert!(
        e.contains("invalid .shp record 1: its counts (1 parts, 1610612741 points) need"),
        "{e}"
    );
}

#[test]
fn damaged_part_start_where_the_shx_points_is_refused() {
    // A record after the header's length is never walked, but the reader
    // seeks to it when the .shx names it.
    let dir = tempfile::tempdir().unwrap();
    let shp = street_and_community(dir.path());
    let mut bytes = std::fs::read(&shp).unwrap();
    let second = record_content(&bytes, 2) - 8;
    let mut stray = bytes[second..].to_vec();
    stray[8 + 44..8 + 48].copy_from_slice(&(-1_604_732_672_i32).to_le_bytes());
    let appended = bytes.len();
    bytes.extend(stray);
    std::fs::write(&shp, &bytes).unwrap();
    let shx = shp.with_extension("shx");
    let mut index = std::fs::read(&shx).unwrap();
    index[108..112].copy_from_slice(&(appended as i32 / 2).to_be_bytes());
    std::fs::write(&shx, &index).unwrap();
    let e = read_features(&shp).unwrap_err().to_string();
    assert!(
        e.contains("damaged .shx: entry 2 names a record where part 1 starts at point -1604732672"),
        "{e}"
    );
}
