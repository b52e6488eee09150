//! `gridmap check` as a user runs it: formats, exit codes, errors.

mod common;
use common::*;

use std::path::{Path, PathBuf};

use gridmap_data::import::{import_grids, GridImportOptions};
use gridmap_data::progress::NoProgress;
use gridmap_data::store::gpkg::GpkgStore;

fn defects_store(dir: &Path) -> PathBuf {
    let path = dir.join("defects.gpkg");
    let store = GpkgStore::open(&path).expect("a new store");
    let file = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../data/fixtures/defects/zhejiang-defects.geojson");
    let mut opts = GridImportOptions::new("defects");
    opts.levels = Some(vec!["city".into(), "district".into()]);
    import_grids(&store, &file, &opts, &NoProgress).expect("the defects fixture imports");
    path
}

#[test]
fn formats_and_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let db = defects_store(dir.path());

    let out = check(&db, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.starts_with("Coverage check of grid system `defects` (levels city → district)"),
        "{text}"
    );
    assert!(text.contains("\ngap (37):\n"), "{text}");
    assert!(text.contains("1066923.5 m² of city 杭州市 (330100) is covered by no district at 120.100000,30.250000"), "{text}");

    let out = check(
        &db,
        &[
            "--format",
            "json",
            "--sliver-m2",
            "1000",
            "--system",
            "defects",
        ],
    );
    assert_eq!(out.status.code(), Some(0));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["summary"]["thresholds"]["sliver_m2"], 1000.0);
    let gaps = json["summary"]["counts"]["gap"].as_u64().unwrap();
    assert!(
        (20..37).contains(&gaps),
        "parts under 1000 m² are left out: {gaps}"
    );

    let out = check(&db, &["--format", "geojson"]);
    let fc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(fc["type"], "FeatureCollection");
    assert_eq!(
        fc["features"].as_array().unwrap().len() as u64,
        fc["summary"]["total"].as_u64().unwrap()
    );

    let out = check(&db, &["--format", "json", "--fail-on-problems"]);
    assert_eq!(out.status.code(), Some(2), "problems found");
    assert!(!out.stdout.is_empty(), "the report is still printed");
}

#[test]
fn clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("none.gpkg");
    let out = check(&missing, &[]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("no store at"), "{err}");
    assert!(!missing.exists(), "check must not create a store");

    let db = defects_store(dir.path());
    let out = check(&db, &["--system", "nope"]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("unknown grid system `nope`; known systems: defects"),
        "{err}"
    );

    let out = check(&db, &["--households", "500-300"]);
    assert_ne!(out.status.code(), Some(0));
    assert!(text(&out.stderr).contains("MIN is larger than MAX"));
}
