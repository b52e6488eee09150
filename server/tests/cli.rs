//! The `gridmap` binary end to end: imports are all-or-nothing with messages
//! naming file, feature and reason; the demo command refuses to overwrite.

mod common;
use common::*;

use gridmap_data::store::gpkg::GpkgStore;
use gridmap_data::store::GridStore;

#[test]
fn rejected_import_names_file_feature_and_reason_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = squares_store(dir.path(), &[]);
    let version = GpkgStore::open(&db).unwrap().data_version().unwrap();

    // A duplicate code and a bow-tie: the whole file is rejected.
    let bad = dir.path().join("bad.geojson");
    write(
        &bad,
        &SQUARES
            .replace(
                "\"330106001002\",\"name\":\"东社区\"",
                "\"330106001001\",\"name\":\"东社区\"",
            )
            .replace(
                "[[[120.0,30.0],[120.2,30.0],[120.2,30.1],[120.0,30.1],[120.0,30.0]]]",
                "[[[120.0,30.0],[120.2,30.1],[120.2,30.0],[120.0,30.1],[120.0,30.0]]]",
            ),
    );
    let out = import_grids(&bad, &db, &["--replace"]);
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(err.contains("bad.geojson"), "{err}");
    assert!(
        err.contains("#2") && err.contains("330106001001") && err.contains("duplicate"),
        "{err}"
    );
    assert!(
        err.contains("#0") && err.contains("intersects itself"),
        "{err}"
    );
    let store = GpkgStore::open(&db).unwrap();
    assert_eq!(store.data_version().unwrap(), version, "nothing written");
    assert_eq!(store.grids("default").unwrap().len(), 3);

    // --repair turns the bow-tie into valid polygons and reports the area change.
    let bowtie = dir.path().join("bowtie.geojson");
    write(
        &bowtie,
        &SQUARES.replace(
            "[[[120.0,30.0],[120.2,30.0],[120.2,30.1],[120.0,30.1],[120.0,30.0]]]",
            "[[[120.0,30.0],[120.2,30.1],[120.2,30.0],[120.0,30.1],[120.0,30.0]]]",
        ),
    );
    let out = import_grids(&bowtie, &db, &["--repair"]);
    let shown = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{shown}");
    assert!(
        shown.contains("feature #0 (code 330106001)") && shown.contains("m² ->"),
        "{shown}"
    );
}

#[test]
fn projected_coordinates_under_a_lonlat_crs_suggest_the_zone() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("gk.geojson");
    write(
        &file,
        r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"code":"1","name":"a","level":"street"},
        "geometry":{"type":"Polygon","coordinates":[[[40500000,3320000],[40501000,3320000],[40501000,3321000],[40500000,3320000]]]}}]}"#,
    );
    let out = import_grids(&file, &dir.path().join("s.gpkg"), &[]);
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(err.contains("EPSG:4528"), "{err}");
    let out = import_grids(&file, &dir.path().join("t.gpkg"), &["--crs", "EPSG:4528"]);
    assert_success(&out);
}

#[test]
fn workers_import_and_demo_refuses_to_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    let db = squares_store(dir.path(), &[]);
    let workers = dir.path().join("w.csv");
    write(&workers, "id,name,phone,role,photo,duties,grids\nw1,王芳,13900000001,专职网格员,,巡查,330106001001;330106001002:0.5\nw1,李四,13900000002,专职网格员,,巡查,330106001002\n");
    let out = import_workers(&workers, &db);
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(
        err.contains("w.csv") && err.contains("line 3") && err.contains("w1"),
        "{err}"
    );
    write(&workers, "id,name,phone,role,photo,duties,grids\nw1,王芳,13900000001,专职网格员,,巡查,330106001001;330106001002:0.5\n");
    let out = import_workers(&workers, &db);
    assert_success(&out);
    let store = GpkgStore::open(&db).unwrap();
    assert_eq!(store.workers().unwrap()[0].grids.len(), 2);

    let demo = dir.path().join("demo.gpkg");
    let demo_arg = arg(&demo);
    assert!(gridmap(&["demo", "--out", demo_arg, "--blocks", "150"])
        .status
        .success());
    let out = gridmap(&["demo", "--out", demo_arg, "--blocks", "150"]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("--force"));
    let store = GpkgStore::open(&demo).unwrap();
    let blocks = store
        .grids("default")
        .unwrap()
        .into_iter()
        .filter(|g| g.level == "block")
        .count();
    assert!((140..=160).contains(&blocks), "{blocks} blocks");
}

/// 10,000 nested `GEOMETRYCOLLECTION(` in a grids or a sites CSV used to overflow the stack (exit 134, no message); now each is an
/// ordinary refusal naming the file, the row and the reason, and the store
/// is left as it was.
#[test]
fn deeply_nested_wkt_is_refused_not_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let db = squares_store(dir.path(), &[]);
    let version = GpkgStore::open(&db).unwrap().data_version().unwrap();
    let deep = format!(
        "{}POINT(120.05 30.05){}",
        "GEOMETRYCOLLECTION(".repeat(10_000),
        ")".repeat(10_000)
    );

    let grids = dir.path().join("deep-grids.csv");
    write(
        &grids,
        &format!(
            "code,name,level,parent,wkt\n330106001003,深社区,community,330106001,\"{deep}\"\n"
        ),
    );
    let out = import_grids(&grids, &db, &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(
        err.contains("deep-grids.csv") && err.contains("nested"),
        "{err}"
    );

    let sites = dir.path().join("deep-sites.csv");
    write(&sites, &format!("id,name,wkt\ns1,深小学,\"{deep}\"\n"));
    let out = gridmap(&[
        "import",
        "sites",
        arg(&sites),
        "--kind",
        "school",
        "--db",
        arg(&db),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(
        err.contains("deep-sites.csv") && err.contains("nested"),
        "{err}"
    );

    let store = GpkgStore::open(&db).unwrap();
    assert_eq!(store.data_version().unwrap(), version, "nothing written");
    assert_eq!(store.sites(None).unwrap().len(), 0);
}

#[test]
fn a_replace_that_would_wipe_the_system_needs_allow_shrink_and_a_no_op_import_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = squares_store(dir.path(), &[]);
    let version = GpkgStore::open(&db).unwrap().data_version().unwrap();
    // The same file again: nothing changes, so nothing is written.
    let again = import_grids(&dir.path().join("grids.geojson"), &db, &[]);
    assert_success(&again);
    assert!(
        text(&again.stdout).contains("nothing written"),
        "{}",
        text(&again.stdout)
    );
    assert_eq!(
        GpkgStore::open(&db).unwrap().data_version().unwrap(),
        version,
        "a no-op import keeps the version"
    );
    let replace_same = import_grids(&dir.path().join("grids.geojson"), &db, &["--replace"]);
    assert_success(&replace_same);
    assert_eq!(
        GpkgStore::open(&db).unwrap().data_version().unwrap(),
        version
    );

    // A file holding only the street, given to --replace, would drop both communities.
    let short = dir.path().join("short.geojson");
    let street_only = SQUARES
        .split("\n {\"type\":\"Feature\",\"properties\":{\"code\":\"330106001001\"")
        .next()
        .unwrap()
        .trim_end()
        .trim_end_matches(',')
        .to_string()
        + "\n]}";
    write(&short, &street_only);
    let out = import_grids(&short, &db, &["--replace"]);
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(
        err.contains("short.geojson")
            && err.contains("would remove 2 grids and keep 1")
            && err.contains("--allow-shrink"),
        "{err}"
    );
    let store = GpkgStore::open(&db).unwrap();
    assert_eq!(
        (
            store.data_version().unwrap(),
            store.grids("default").unwrap().len()
        ),
        (version, 3),
        "nothing written"
    );
    // A worker of the east community is left pointing at nothing: check says so.
    let workers = dir.path().join("workers.csv");
    write(
        &workers,
        "id,name,phone,role,photo,duties,grids\nw1,王芳,13800000000,网格员,,巡查,330106001002\n",
    );
    assert_success(&import_workers(&workers, &db));
    let out = import_grids(&short, &db, &["--replace", "--allow-shrink"]);
    assert_success(&out);
    // The import names the worker it leaves without a grid.
    let said = text(&out.stdout);
    assert!(
        said.contains("1 worker assignments point at grids this import removed")
            && said.contains("worker w1 (王芳) → grid 330106001002"),
        "{said}"
    );
    assert_eq!(
        GpkgStore::open(&db)
            .unwrap()
            .grids("default")
            .unwrap()
            .len(),
        1
    );
    let report = check(&db, &["--format", "json"]);
    assert_success(&report);
    let json: serde_json::Value = serde_json::from_slice(&report.stdout).unwrap();
    let dangling: Vec<&serde_json::Value> = json["problems"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["kind"] == "dangling_assignment")
        .collect();
    assert_eq!(dangling.len(), 1, "{json}");
    assert_eq!(dangling[0]["workers"][0], "w1");
    assert!(dangling[0]["message"]
        .as_str()
        .unwrap()
        .contains("330106001002"));
}
