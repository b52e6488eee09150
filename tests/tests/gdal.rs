//! The store as GDAL and QGIS see it: the GeoPackage validator passes, the
//! R-tree spatial index answers GDAL's bounding-box reads, and a store whose
//! index GDAL (re)built — QGIS's "Create spatial index" — stays writable by
//! gridmap. Run on the Zhejiang partition (coasts, islands, multipolygons).
//! And exports as GDAL reads them: `gridmap export grids` to GeoPackage and
//! FlatGeobuf, read by `ogrinfo`, converted by `ogr2ogr`, and imported back
//! by `gridmap import grids` (GDAL-written files too) as the same grids.
//!
//! GDAL's tools come from Debian's gdal-bin and python3-gdal; the test script
//! installs them and sets `GRIDMAP_REQUIRE_GDAL=1`, so there the tests fail
//! rather than skip when a tool is missing.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use geo::BoundingRect;
use geo::CoordsIter;
use gridmap::cli::{DbArg, ImportCommand, ImportGridsArgs};
use gridmap::commands::export::{ExportCommand, ExportGridsArgs, FileArgs};
use gridmap_data::store::gpkg::GpkgStore;
use gridmap_data::store::GridStore;
use gridmap_data::Grid;
use gridmap_tests::{fixture, gdal_available, import_store, zhejiang_store};
use serde_json::{json, Value};

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

/// Runs `ogr2ogr` with `args`; fails on an error exit or any error or
/// warning GDAL prints.
fn ogr2ogr(args: &[&str]) {
    let out = Command::new("ogr2ogr")
        .args(args)
        .output()
        .expect("run ogr2ogr");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && !stderr.contains("ERROR") && !stderr.contains("Warning"),
        "ogr2ogr {args:?} failed: {stderr}"
    );
}

const LEVELS: [&str; 3] = ["province", "city", "district"];

/// The Zhejiang fixture with attributes of every kind an export writes:
/// integers, reals and text on every grid; on the cities also an array, an
/// object and a boolean (JSON columns), which the districts lack (empty cells).
fn attributed_zhejiang(dir: &Path) -> PathBuf {
    let text =
        std::fs::read_to_string(fixture("zhejiang-admin-gcj02.geojson")).expect("the fixture");
    let mut fc: Value = serde_json::from_str(&text).expect("GeoJSON");
    for (i, f) in fc["features"]
        .as_array_mut()
        .expect("features")
        .iter_mut()
        .enumerate()
    {
        let p = f["properties"].as_object_mut().expect("properties");
        let city = p["level"] == "city";
        p.insert("households".into(), json!(1000 + i));
        p.insert("area_km2".into(), json!(i as f64 + 0.25));
        p.insert("note".into(), json!(format!("第{i}号 \"网格\"")));
        if city {
            p.insert("label_point".into(), json!([120.0 + i as f64 / 64.0, 29.5]));
            p.insert("tags".into(), json!({"coastal": i % 2 == 0, "rank": i}));
            p.insert("staffed".into(), json!(i % 3 == 0));
        }
    }
    let path = dir.join("zhejiang-attributed.geojson");
    std::fs::write(&path, fc.to_string()).expect("write the attributed fixture");
    path
}

/// [`attributed_zhejiang`] imported into `dir/zj.gpkg`: the store and its grids.
fn attributed_store(dir: &Path) -> (PathBuf, Vec<Grid>) {
    let source = attributed_zhejiang(dir);
    let db = dir.join("zj.gpkg");
    let stored = import_store(&db, &source, "admin", &LEVELS)
        .grids("admin")
        .expect("the attributed fixture imports");
    assert_eq!(stored.len(), 102);
    (db, stored)
}

/// `gridmap export grids --format FORMAT [--crs CRS] --out OUT --db DB`.
fn export(db: &Path, format: &str, crs: Option<&str>, out: &Path) {
    export_encoded(db, format, crs, None, out);
}

/// [`export`] with `--encoding` (a Shapefile's .dbf text).
fn export_encoded(db: &Path, format: &str, crs: Option<&str>, encoding: Option<&str>, out: &Path) {
    gridmap::commands::export::run(&ExportCommand::Grids(ExportGridsArgs {
        system: None,
        level: None,
        file: FileArgs {
            format: Some(format.into()),
            crs: crs.map(Into::into),
            encoding: encoding.map(Into::into),
            out: out.to_path_buf(),
        },
        db: DbArg {
            db: db.display().to_string(),
        },
    }))
    .unwrap_or_else(|e| panic!("export to {}: {e:#}", out.display()));
}

/// `gridmap import grids FILE [--layer LAYER] --system admin --levels … --db
/// <a new store>`, answering the grids imported or the error's message.
fn import(file: &Path, layer: Option<&str>) -> Result<Vec<Grid>, String> {
    let db = file.with_extension("imported.gpkg");
    gridmap::commands::import::run(&ImportCommand::Grids(ImportGridsArgs {
        file: file.to_path_buf(),
        layer: layer.map(Into::into),
        system: "admin".into(),
        levels: Some(LEVELS.map(String::from).to_vec()),
        crs: None,
        repair: false,
        replace: false,
        allow_shrink: false,
        db: DbArg {
            db: db.display().to_string(),
        },
    }))
    .map_err(|e| format!("{e:#}"))?;
    let store = GpkgStore::open(&db).expect("the store imported into");
    Ok(store.grids("admin").expect("its grids"))
}

/// How a re-import must match the grids it was exported from.
#[derive(Clone, Copy)]
struct Expect {
    /// Largest coordinate difference in degrees (0: bit for bit).
    tolerance: f64,
    /// JSON attributes (arrays, objects, booleans) come back as their JSON
    /// text: GDAL's FlatGeobuf writer keeps no JSON subtype.
    json_as_text: bool,
}

const EXACT: Expect = Expect {
    tolerance: 0.0,
    json_as_text: false,
};

fn assert_same_grids(what: &str, want: &[Grid], got: &[Grid], expect: Expect) {
    assert_eq!(got.len(), want.len(), "{what}: grid count");
    let got: BTreeMap<&str, &Grid> = got.iter().map(|g| (g.code.as_str(), g)).collect();
    for w in want {
        let g = got
            .get(w.code.as_str())
            .unwrap_or_else(|| panic!("{what}: grid {} missing", w.code));
        assert_eq!(
            (&g.name, &g.level, &g.parent),
            (&w.name, &w.level, &w.parent),
            "{what}: {}",
            w.code
        );
        let attributes: serde_json::Map<String, Value> = w
            .attributes
            .iter()
            .map(|(k, v)| {
                let v = match v {
                    Value::Array(_) | Value::Object(_) | Value::Bool(_) if expect.json_as_text => {
                        Value::String(v.to_string())
                    }
                    v => v.clone(),
                };
                (k.clone(), v)
            })
            .collect();
        assert_eq!(g.attributes, attributes, "{what}: attributes of {}", w.code);
        if expect.tolerance == 0.0 {
            assert!(
                g.geometry == w.geometry,
                "{what}: geometry of {} differs",
                w.code
            );
            continue;
        }
        let shape = |m: &geo_types::MultiPolygon<f64>| -> Vec<usize> {
            m.0.iter()
                .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
                .map(|r| r.0.len())
                .collect()
        };
        assert_eq!(
            shape(&g.geometry),
            shape(&w.geometry),
            "{what}: rings of {}",
            w.code
        );
        let worst = g
            .geometry
            .coords_iter()
            .zip(w.geometry.coords_iter())
            .map(|(a, b)| (a.x - b.x).abs().max((a.y - b.y).abs()))
            .fold(0.0, f64::max);
        assert!(
            worst <= expect.tolerance,
            "{what}: {} moved by {worst:e}°",
            w.code
        );
    }
}

#[test]
fn exports_read_by_gdal_import_back_as_the_same_grids() {
    if !gdal_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (db, stored) = attributed_store(d);
    let path = |name: &str| d.join(name).to_str().unwrap().to_string();

    // WGS84: GDAL reads every feature and the typed columns; a re-import
    // gives the grids back bit for bit.
    for (format, name) in [("gpkg", "wgs84.gpkg"), ("fgb", "wgs84.fgb")] {
        export(&db, format, None, &d.join(name));
        let info = ogrinfo(&["-ro", "-so", "-al", &path(name)]);
        assert_eq!(feature_count(&info), 102, "{name}: {info}");
        for field in ["households: Integer", "area_km2: Real", "note: String"] {
            assert!(info.contains(field), "{name} has no `{field}`: {info}");
        }
        assert!(info.contains("ID[\"EPSG\",4326]"), "{name}: {info}");
        let back = import(&d.join(name), None).unwrap();
        assert_same_grids(name, &stored, &back, EXACT);
    }
    let info = ogrinfo(&["-ro", "-so", "-al", &path("wgs84.gpkg")]);
    assert!(info.contains("tags: String(JSON)"), "{info}");

    // Through GDAL's own writer: the GeoPackage converted to FlatGeobuf.
    ogr2ogr(&["-f", "FlatGeobuf", &path("gdal.fgb"), &path("wgs84.gpkg")]);
    let info = ogrinfo(&["-ro", "-so", "-al", &path("gdal.fgb")]);
    assert_eq!(feature_count(&info), 102, "{info}");
    let back = import(&d.join("gdal.fgb"), None).unwrap();
    assert_same_grids(
        "gdal.fgb",
        &stored,
        &back,
        Expect {
            json_as_text: true,
            ..EXACT
        },
    );

    // A CRS round trip: Gauss-Krüger CM 120E and CGCS2000, as declared in the file.
    export(&db, "gpkg", Some("EPSG:4549"), &d.join("gk.gpkg"));
    let info = ogrinfo(&["-ro", "-so", "-al", &path("gk.gpkg")]);
    assert_eq!(feature_count(&info), 102, "{info}");
    assert!(info.contains("ID[\"EPSG\",4549]"), "{info}");
    let back = import(&d.join("gk.gpkg"), None).unwrap();
    assert_same_grids(
        "gk.gpkg",
        &stored,
        &back,
        Expect {
            tolerance: 1e-9,
            ..EXACT
        },
    );
    export(&db, "fgb", Some("EPSG:4490"), &d.join("cgcs2000.fgb"));
    let info = ogrinfo(&["-ro", "-so", "-al", &path("cgcs2000.fgb")]);
    assert_eq!(feature_count(&info), 102, "{info}");
    assert!(info.contains("ID[\"EPSG\",4490]"), "{info}");
    let back = import(&d.join("cgcs2000.fgb"), None).unwrap();
    assert_same_grids("cgcs2000.fgb", &stored, &back, EXACT);
}

#[test]
fn gdal_written_geopackages_import_by_layer_and_bad_files_are_named() {
    if !gdal_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let fixture = fixture("zhejiang-admin-gcj02.geojson");
    let f = fixture.to_str().unwrap();
    let two = d.join("two.gpkg");
    let t = two.to_str().unwrap();
    ogr2ogr(&["-f", "GPKG", t, f, "-nln", "zhejiang"]);
    ogr2ogr(&["-update", "-f", "GPKG", t, f, "-nln", "copy"]);
    let stored = zhejiang_store(&d.join("zj.gpkg")).grids("admin").unwrap();
    let back = import(&two, Some("zhejiang")).unwrap();
    assert_same_grids("two.gpkg --layer zhejiang", &stored, &back, EXACT);

    let e = import(&two, None).unwrap_err();
    assert!(
        e.contains(&format!(
            "cannot parse {t}: it holds layers copy, zhejiang: choose one with --layer"
        )),
        "{e}"
    );
    let e = import(&two, Some("districts")).unwrap_err();
    assert!(
        e.contains(&format!(
            "cannot parse {t}: no layer `districts` (its feature layers: copy, zhejiang)"
        )),
        "{e}"
    );
    let noise = d.join("noise.fgb");
    std::fs::write(
        &noise,
        (0..4096u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
            .collect::<Vec<u8>>(),
    )
    .unwrap();
    let e = import(&noise, None).unwrap_err();
    assert!(
        e.contains(&format!(
            "cannot parse {}: not a FlatGeobuf file",
            noise.display()
        )),
        "{e}"
    );
    let e = import(&noise, Some("zhejiang")).unwrap_err();
    assert!(
        e.contains(&format!(
            "cannot parse {}: --layer \"zhejiang\" names a table of a GeoPackage",
            noise.display()
        )),
        "{e}"
    );
    // A store is no file of features: its grids come out through an export.
    let e = import(&d.join("zj.gpkg"), Some("grids")).unwrap_err();
    assert!(e.contains("this is a gridmap store"), "{e}");
}

#[test]
fn geojson_csv_and_gbk_shapefile_exports_round_trip_through_gdal() {
    if !gdal_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (db, stored) = attributed_store(d);
    let path = |name: &str| d.join(name).to_str().unwrap().to_string();

    // GeoJSON and CSV+WKT: GDAL reads every feature; a re-import gives the
    // grids back bit for bit, JSON attributes as JSON.
    for (format, name) in [("geojson", "wgs84.geojson"), ("csv", "wgs84.csv")] {
        export(&db, format, None, &d.join(name));
        let info = ogrinfo(&["-ro", "-so", "-al", &path(name)]);
        assert_eq!(feature_count(&info), 102, "{name}: {info}");
        let back = import(&d.join(name), None).unwrap();
        assert_same_grids(name, &stored, &back, EXACT);
    }

    // A GBK Shapefile, as older desktop GIS wants it: GDAL decodes the
    // Chinese names through the .cpg, and so does the re-import.
    export_encoded(&db, "shp", None, Some("GBK"), &d.join("gbk.shp"));
    let dump = ogrinfo(&["-ro", "-al", "-q", &path("gbk.shp")]);
    assert!(
        dump.contains("西湖区") && dump.contains("杭州市"),
        "GDAL reads the names"
    );
    // DBF field names hold 10 bytes: the export cuts `label_point` (and
    // says so); nothing else changes but JSON attributes becoming their text.
    let renamed: Vec<Grid> = stored
        .iter()
        .map(|g| {
            let mut g = g.clone();
            if let Some(v) = g.attributes.remove("label_point") {
                g.attributes.insert("label_poin".into(), v);
            }
            g
        })
        .collect();
    let back = import(&d.join("gbk.shp"), None).unwrap();
    assert_same_grids(
        "gbk.shp",
        &renamed,
        &back,
        Expect {
            json_as_text: true,
            ..EXACT
        },
    );
}
