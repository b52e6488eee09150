//! The store as GDAL and QGIS see it: the GeoPackage validator passes, the
//! R-tree spatial index answers GDAL's bounding-box reads, and a store whose
//! index GDAL (re)built — QGIS's "Create spatial index" — stays writable by
//! gridmap. Run on the Zhejiang partition (coasts, islands, multipolygons).
//!
//! GDAL's tools come from Debian's gdal-bin and python3-gdal; the test script
//! installs them and sets `GRIDMAP_REQUIRE_GDAL=1`, so there the tests fail
//! rather than skip when a tool is missing.

use std::path::Path;
use std::process::Command;

use geo::BoundingRect;
use gridmap_data::store::gpkg::GpkgStore;
use gridmap_data::store::GridStore;
use gridmap_tests::{fixture, gdal_available, import_store, zhejiang_store};

/// Runs `ogrinfo` with `args` and returns its standard output; fails on an
/// error exit or any error or warning GDAL prints.
fn ogrinfo(args: &[&str]) -> String {
    let out = Command::new("ogrinfo")
        .args(args)
        .output()
        .expect("run ogrinfo");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && !stderr.contains("ERROR") && !stderr.contains("Warning"),
        "ogrinfo {args:?} failed: {stderr}"
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The single integer an `ogrinfo -sql` query answers (`n (Integer…) = 5`).
fn sql_number(file: &Path, sql: &str) -> i64 {
    let text = ogrinfo(&[file.to_str().expect("utf-8 path"), "-ro", "-q", "-sql", sql]);
    text.lines()
        .find_map(|l| {
            l.trim()
                .split_once(" (Integer")
                .and_then(|(_, r)| r.split('=').nth(1))
        })
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no number in answer to {sql}: {text}"))
}

fn feature_count(info: &str) -> usize {
    info.lines()
        .find_map(|l| l.strip_prefix("Feature Count: "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no feature count in {info}"))
}

#[test]
fn the_geopackage_validator_accepts_the_store_with_its_spatial_index() {
    if !gdal_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("zj.gpkg");
    drop(zhejiang_store(&file));
    // Debian's python3-gdal installs into the system interpreter, which
    // another python3 earlier on the PATH may hide.
    let python = ["python3", "/usr/bin/python3"]
        .into_iter()
        .find(|p| {
            Command::new(p)
                .args(["-c", "import osgeo_utils.samples.validate_gpkg"])
                .output()
                .is_ok_and(|o| o.status.success())
        })
        .expect("a python3 with GDAL's bindings (Debian: python3-gdal)");
    let out = Command::new(python)
        .args(["-m", "osgeo_utils.samples.validate_gpkg"])
        .arg(&file)
        .output()
        .expect("run python3");
    assert!(
        out.status.success(),
        "validate_gpkg (Debian: python3-gdal) failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        sql_number(&file, "SELECT HasSpatialIndex('grids', 'geom') AS n"),
        1
    );
    assert_eq!(
        sql_number(&file, "SELECT HasSpatialIndex('sites', 'geom') AS n"),
        1
    );
    assert_eq!(
        sql_number(&file, "SELECT count(*) AS n FROM rtree_grids_geom"),
        102
    );
}

#[test]
fn gdal_bbox_reads_through_the_index_match_the_grids() {
    if !gdal_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("zj.gpkg");
    let store = zhejiang_store(&file);
    let grids = store.grids("admin").unwrap();
    drop(store);
    // Boxes over the coast and islands of 舟山 and 宁波, inland 杭州, and the sea.
    for [x0, y0, x1, y1] in [
        [121.9, 29.8, 122.5, 30.3],
        [119.9, 30.1, 120.3, 30.4],
        [123.5, 27.0, 124.0, 27.5],
    ] {
        let expected = grids
            .iter()
            .filter(|g| {
                let r = g.geometry.bounding_rect().expect("non-empty grid");
                r.min().x <= x1 && r.max().x >= x0 && r.min().y <= y1 && r.max().y >= y0
            })
            .count();
        let info = ogrinfo(&[
            "-ro",
            "-so",
            "-spat",
            &x0.to_string(),
            &y0.to_string(),
            &x1.to_string(),
            &y1.to_string(),
            file.to_str().unwrap(),
            "grids",
        ]);
        assert_eq!(
            feature_count(&info),
            expected,
            "box {x0},{y0},{x1},{y1}: {info}"
        );
    }
}

#[test]
fn a_store_indexed_again_by_gdal_stays_writable() {
    if !gdal_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("zj.gpkg");
    drop(zhejiang_store(&file));
    let f = file.to_str().unwrap();
    // What QGIS's "Create spatial index" does: GDAL's own table and triggers.
    ogrinfo(&[
        f,
        "-q",
        "-sql",
        "SELECT DisableSpatialIndex('grids', 'geom')",
    ]);
    assert_eq!(
        sql_number(&file, "SELECT HasSpatialIndex('grids', 'geom') AS n"),
        0
    );
    ogrinfo(&[
        f,
        "-q",
        "-sql",
        "SELECT CreateSpatialIndex('grids', 'geom')",
    ]);
    assert_eq!(
        sql_number(&file, "SELECT HasSpatialIndex('grids', 'geom') AS n"),
        1
    );

    // Writing through GDAL's triggers: a whole re-import, then a merge that
    // updates rows in place (the case an UPSERT would break).
    let store = import_store(
        &file,
        &fixture("zhejiang-admin-gcj02.geojson"),
        "admin",
        &["province", "city", "district"],
    );
    let version = store.data_version().unwrap();
    let mut grids = store.grids("admin").unwrap();
    for g in &mut grids {
        g.name.push('区');
    }
    store
        .apply(&gridmap_data::model::ChangeSet {
            base_version: Some(version),
            grids: vec![gridmap_data::model::SystemGrids {
                system: store.systems().unwrap().remove(0),
                mode: gridmap_data::model::GridWriteMode::Merge,
                grids,
                delete: Vec::new(),
            }],
            ..Default::default()
        })
        .expect("a merge through GDAL's R-tree triggers");
    drop(store);
    assert_eq!(
        sql_number(&file, "SELECT count(*) AS n FROM rtree_grids_geom"),
        102
    );
    let reopened = GpkgStore::open(&file).unwrap();
    assert!(reopened
        .grids("admin")
        .unwrap()
        .iter()
        .all(|g| g.name.ends_with('区')));
}
