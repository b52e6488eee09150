//! GeoPackages written by the export and by hand: attributes and CRS back,
//! layers chosen or refused, unreadable blobs on their feature, files that
//! are no GeoPackage or a gridmap store.

use std::path::{Path, PathBuf};

use geo_types::{Geometry, MultiPolygon};
use rusqlite::Connection;
use serde_json::{json, Map, Value};

use crate::crs::Crs;
use crate::export::{export_grids, ExportFormat, GridExportOptions};
use crate::geometry::GeometryProblem;
use crate::import::{
    prepare_grid_import, read_features, read_features_with, GridImportOptions, ImportError,
    RawProblem, ReadOptions,
};
use crate::model::{Grid, GridSystem};
use crate::progress::NoProgress;
use crate::store::gpkg::{schema, wkb};
use crate::store::Snapshot;
use crate::testutil::{rect, MemStore};

fn attributes(v: Value) -> Map<String, Value> {
    v.as_object().unwrap().clone()
}

/// A province and two districts; one district has attributes of every
/// kind an export writes (integer, real, text, JSON), the other a few.
pub(in crate::import) fn grids() -> Vec<Grid> {
    let province = Grid::new(
        "33",
        "province",
        None,
        MultiPolygon(vec![rect(120.0, 30.0, 120.2, 30.1)]),
    )
    .named("浙江省");
    let mut west = Grid::new(
        "3301",
        "district",
        Some("33"),
        MultiPolygon(vec![rect(120.0, 30.0, 120.1, 30.1)]),
    )
    .named("西湖区");
    west.attributes = attributes(json!({
        "households": 420, "area_km2": 1.25, "note": "文一路",
        "label_point": [120.05, 30.05], "tags": {"coastal": false}, "staffed": true
    }));
    let mut east = Grid::new(
        "3302",
        "district",
        Some("33"),
        MultiPolygon(vec![rect(120.1, 30.0, 120.2, 30.1)]),
    )
    .named("上城区");
    east.attributes = attributes(json!({"households": 7, "note": "x"}));
    vec![province, west, east]
}

/// `grids()` exported as `format` in `crs` to `dir/name`.
pub(in crate::import) fn exported(
    dir: &Path,
    name: &str,
    format: ExportFormat,
    crs: Crs,
) -> PathBuf {
    let snapshot = Snapshot {
        version: 1,
        checked: true,
        systems: vec![(
            GridSystem::new("admin", vec!["province".into(), "district".into()]),
            grids(),
        )],
        ..Snapshot::default()
    };
    let out = dir.join(name);
    let mut opts = GridExportOptions::new("admin", format, &out);
    opts.file.crs = crs;
    export_grids(&snapshot, &opts).unwrap();
    out
}

/// The properties a feature of `grid` reads back with: its fields and
/// attributes, no `parent` for the top.
pub(in crate::import) fn properties_of(grid: &Grid) -> Map<String, Value> {
    let mut p = attributes(json!({"code": grid.code, "name": grid.name, "level": grid.level}));
    if let Some(parent) = &grid.parent {
        p.insert("parent".into(), json!(parent));
    }
    p.extend(grid.attributes.clone());
    p
}

fn error(path: &Path, opts: &ReadOptions) -> String {
    read_features_with(path, opts).unwrap_err().to_string()
}

/// Exports [`grids`] as `format` and reads the file back: every grid's
/// properties and geometry bit for bit (found by code: FlatGeobuf orders
/// features along its index's Hilbert curve), the CRS from the file, in
/// WGS84 and in Gauss-Krüger.
pub(crate) fn assert_an_export_reads_back(format: ExportFormat, extension: &str) {
    let dir = tempfile::tempdir().unwrap();
    let file = exported(dir.path(), &format!("g.{extension}"), format, Crs::Wgs84);
    let data = read_features(&file).unwrap();
    assert_eq!(data.crs, Some(Crs::Wgs84));
    let grids = grids();
    assert_eq!(data.features.len(), grids.len());
    for f in &data.features {
        let g = grids
            .iter()
            .find(|g| f.properties["code"] == g.code.as_str())
            .unwrap();
        assert_eq!(f.properties, properties_of(g), "{}", g.code);
        assert_eq!(
            f.geometry,
            Some(Geometry::MultiPolygon(g.geometry.clone())),
            "{}: bit for bit",
            g.code
        );
        assert_eq!(f.raw_problem, None);
    }
    let gk = exported(
        dir.path(),
        &format!("gk.{extension}"),
        format,
        Crs::GaussKruger(4549),
    );
    assert_eq!(
        read_features(&gk).unwrap().crs,
        Some(Crs::GaussKruger(4549))
    );
}

#[test]
fn an_export_reads_back_with_its_attributes_and_crs() {
    assert_an_export_reads_back(ExportFormat::Gpkg, "gpkg");
}

/// Adds a feature table `other` and an attribute table `notes` to `file`.
fn add_tables(file: &Path) {
    let conn = Connection::open(file).unwrap();
    conn.execute_batch(
        "CREATE TABLE other (fid INTEGER PRIMARY KEY, geom POLYGON, code TEXT);
         INSERT INTO gpkg_contents (table_name, data_type, identifier, srs_id) VALUES ('other', 'features', 'other', 4326);
         INSERT INTO gpkg_geometry_columns VALUES ('other', 'geom', 'POLYGON', 4326, 0, 0);
         CREATE TABLE notes (fid INTEGER PRIMARY KEY, text TEXT);
         INSERT INTO gpkg_contents (table_name, data_type, identifier) VALUES ('notes', 'attributes', 'notes');",
    )
    .unwrap();
}

#[test]
fn a_layer_is_chosen_by_name_and_several_need_one() {
    let dir = tempfile::tempdir().unwrap();
    let file = exported(dir.path(), "two.gpkg", ExportFormat::Gpkg, Crs::Wgs84);
    add_tables(&file);
    assert_eq!(
        error(&file, &ReadOptions::default()),
        format!(
            "cannot parse {}: it holds layers grids, other: choose one with --layer",
            file.display()
        )
    );
    let data = read_features_with(&file, &ReadOptions::with_layer("GRIDS")).unwrap();
    assert_eq!(data.features.len(), 3);
    let other = read_features_with(&file, &ReadOptions::with_layer("other")).unwrap();
    assert!(other.features.is_empty());
    assert_eq!(
        error(&file, &ReadOptions::with_layer("missing")),
        format!(
            "cannot parse {}: no layer `missing` (its feature layers: grids, other)",
            file.display()
        )
    );
    let e = error(&file, &ReadOptions::with_layer("notes"));
    assert!(
        e.ends_with(
            "layer `notes` holds attributes, not features (its feature layers: grids, other)"
        ),
        "{e}"
    );
}

/// A GeoPackage blob of one polygon ring written as given (WKB type 3),
/// with an envelope in the header (the R-tree triggers read it from there
/// instead of decoding the geometry).
fn polygon_blob(ring: &[(f64, f64)]) -> Vec<u8> {
    let mut b = b"GP\0\x03".to_vec(); // little endian, envelope [minx, maxx, miny, maxy]
    b.extend(4326i32.to_le_bytes());
    for v in [120.0f64, 120.1, 30.0, 30.1] {
        b.extend(v.to_le_bytes());
    }
    b.push(1);
    b.extend(3u32.to_le_bytes());
    b.extend(1u32.to_le_bytes());
    b.extend((ring.len() as u32).to_le_bytes());
    for (x, y) in ring {
        b.extend(x.to_le_bytes());
        b.extend(y.to_le_bytes());
    }
    b
}

#[test]
fn unreadable_and_unclosed_geometries_are_problems_of_their_feature() {
    let dir = tempfile::tempdir().unwrap();
    let file = exported(dir.path(), "bad.gpkg", ExportFormat::Gpkg, Crs::Wgs84);
    let open = [(120.0, 30.0), (120.1, 30.0), (120.1, 30.1)];
    let mut huge = polygon_blob(&open);
    // The point count claims four billion points the blob does not hold.
    let count_at = 40 + 1 + 4 + 4;
    huge[count_at..count_at + 4].copy_from_slice(&u32::MAX.to_le_bytes());
    let mut nested = b"GP\0\x01".to_vec();
    nested.extend(4326i32.to_le_bytes());
    for _ in 0..100 {
        nested.push(1);
        nested.extend(7u32.to_le_bytes());
        nested.extend(1u32.to_le_bytes());
    }
    let conn = Connection::open(&file).unwrap();
    // The export's R-tree triggers call the GeoPackage SQL functions.
    crate::store::gpkg::functions::register(&conn).unwrap();
    let set = |fid: i64, blob: &[u8]| {
        conn.execute(
            "UPDATE grids SET geom = ?1 WHERE fid = ?2",
            rusqlite::params![blob, fid],
        )
        .unwrap();
    };
    set(2, b"\x00\x11\x22\x33");
    set(3, &polygon_blob(&open));
    conn.execute(
        "INSERT INTO grids (geom, code, level) VALUES (?1, 'h', 'district')",
        [&huge],
    )
    .unwrap();
    conn.execute(
        "INSERT INTO grids (geom, code, level) VALUES (?1, 'n', 'district')",
        [&nested],
    )
    .unwrap();
    conn.execute(
        "INSERT INTO grids (geom, code, level) VALUES ('text', 't', 'district')",
        [],
    )
    .unwrap();
    drop(conn);
    let data = read_features(&file).unwrap();
    let problems: Vec<Option<RawProblem>> = data
        .features
        .iter()
        .map(|f| f.raw_problem.clone())
        .collect();
    assert_eq!(problems[0], None);
    assert!(
        matches!(&problems[1], Some(RawProblem::Unreadable(r)) if r.contains("'GP' magic")),
        "{problems:?}"
    );
    assert_eq!(
        problems[2],
        Some(RawProblem::Geometry(GeometryProblem::UnclosedRing {
            polygon: 0,
            ring: 0
        }))
    );
    assert!(
        matches!(&problems[3], Some(RawProblem::Unreadable(r)) if r.starts_with("invalid WKB")),
        "{problems:?}"
    );
    assert!(
        matches!(&problems[4], Some(RawProblem::Unreadable(r)) if r.contains("nested more than 16")),
        "{problems:?}"
    );
    assert!(
        matches!(&problems[5], Some(RawProblem::Unreadable(r)) if r.contains("holds text, not a GeoPackage")),
        "{problems:?}"
    );
    // The import names the feature and refuses the file.
    let store = MemStore::default();
    let mut opts = GridImportOptions::new("admin");
    opts.levels = Some(vec!["province".into(), "district".into()]);
    let e = prepare_grid_import(&file, &opts, &store, &NoProgress).unwrap_err();
    let ImportError::Rejected { problems, .. } = &e else {
        panic!("{e}")
    };
    assert_eq!(problems[0].index, 1);
    assert!(
        problems[0].to_string().starts_with(
            "feature #1 (code 3301): unreadable geometry: not a GeoPackage geometry blob"
        ),
        "{e}"
    );
    assert!(
        problems
            .iter()
            .any(|p| p.index == 2 && p.reason.contains("is not closed")),
        "{e}"
    );
}

#[test]
fn undefined_srs_booleans_blobs_and_empty_cells() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("hand.gpkg");
    let conn = Connection::open(&file).unwrap();
    conn.execute_batch(&schema::core_tables()).unwrap();
    conn.execute_batch(
        "CREATE TABLE g (id INTEGER PRIMARY KEY, shape MULTIPOLYGON, code TEXT, active BOOLEAN, raw BLOB, n REAL);
         INSERT INTO gpkg_contents (table_name, data_type, identifier, srs_id) VALUES ('g', 'features', 'g', 0);
         INSERT INTO gpkg_geometry_columns VALUES ('g', 'shape', 'MULTIPOLYGON', 0, 0, 0);",
    )
    .unwrap();
    let blob = wkb::encode_multipolygon(&MultiPolygon(vec![rect(1.0, 2.0, 3.0, 4.0)]));
    conn.execute(
        "INSERT INTO g (id, shape, code, active, raw, n) VALUES (5, ?1, 'b', 0, NULL, NULL), (2, NULL, 'a', 1, X'00ff', 2.5)",
        [&blob],
    )
    .unwrap();
    drop(conn);
    let data = read_features(&file).unwrap();
    assert_eq!(data.crs, None, "srs_id 0 is the undefined geographic SRS");
    // In the order of the primary key, without it and the geometry column.
    assert_eq!(
        Value::Object(data.features[0].properties.clone()),
        json!({"code": "a", "active": true, "raw": "00ff", "n": 2.5})
    );
    assert_eq!(data.features[0].geometry, None);
    assert_eq!(
        Value::Object(data.features[1].properties.clone()),
        json!({"code": "b", "active": false})
    );
    assert!(data.features[1].geometry.is_some());
}

#[test]
fn other_files_and_stores_are_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let noise = dir.path().join("noise.gpkg");
    std::fs::write(
        &noise,
        b"\x89 no database here, just some bytes \x00\x01\x02",
    )
    .unwrap();
    let e = error(&noise, &ReadOptions::default());
    assert!(
        e.starts_with(&format!(
            "cannot parse {}: not a GeoPackage: ",
            noise.display()
        )),
        "{e}"
    );
    let plain = dir.path().join("plain.gpkg");
    Connection::open(&plain)
        .unwrap()
        .execute_batch("CREATE TABLE t (a INTEGER)")
        .unwrap();
    assert!(error(&plain, &ReadOptions::default())
        .ends_with("it has no gpkg_contents and gpkg_geometry_columns tables"));
    let store = dir.path().join("store.gpkg");
    drop(crate::store::gpkg::GpkgStore::open(&store).unwrap());
    let e = error(&store, &ReadOptions::with_layer("grids"));
    assert!(
        e.contains("this is a gridmap store, not a file of features"),
        "{e}"
    );
    let missing = read_features(&dir.path().join("missing.gpkg")).unwrap_err();
    assert!(matches!(missing, ImportError::Io { .. }), "{missing}");
}
