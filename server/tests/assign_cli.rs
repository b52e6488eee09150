//! `gridmap assign` end to end through the built binary: bad rows are reported
//! with their line number and the run goes on; `--strict` fails and leaves no
//! output; GeoJSON in, GeoJSON out.

mod common;
use common::*;

use std::path::{Path, PathBuf};

/// The two communities of [`SQUARES`] under their street, in `dir/s.gpkg`.
fn store(dir: &Path) -> PathBuf {
    squares_store(dir, &["--levels", "street,community"])
}

const POINTS: &str = "id,lon,lat,name\n\
                      1,120.05,30.05,west\n\
                      2,120.15,30.05,east\n\
                      3,120.1,30.05,edge\n\
                      4,12O.1,30.05,typo\n\
                      5,121,31,away\n";

/// [`POINTS`] in `dir/points.csv`.
fn points_csv(dir: &Path) -> PathBuf {
    let input = dir.join("points.csv");
    write(&input, POINTS);
    input
}

#[test]
fn bad_rows_are_reported_with_their_line_and_the_run_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let db = store(dir.path());
    let input = points_csv(dir.path());
    let out_path = dir.path().join("assigned.csv");
    let out = assign(&input, &db, &out_path, &["--threads", "2"]);
    assert_success(&out);
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("points.csv: line 5: `12O.1` is not a number (column `lon`)"),
        "{stderr}"
    );
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("5 rows: 2 inside, 1 outside, 1 border, 1 error"),
        "{stdout}"
    );
    assert!(stdout.contains("rows/s"), "{stdout}");
    assert_eq!(
        std::fs::read_to_string(&out_path).unwrap(),
        "id,lon,lat,name,street_code,community_code,status\n\
         1,120.05,30.05,west,330106001,330106001001,inside\n\
         2,120.15,30.05,east,330106001,330106001002,inside\n\
         3,120.1,30.05,edge,330106001,330106001002,border\n\
         4,12O.1,30.05,typo,,,error\n\
         5,121,31,away,,,outside\n"
    );
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".partial"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn strict_mode_fails_with_the_line_and_leaves_no_output() {
    let dir = tempfile::tempdir().unwrap();
    let db = store(dir.path());
    let input = points_csv(dir.path());
    let out_path = dir.path().join("assigned.csv");
    let out = assign(&input, &db, &out_path, &["--strict"]);
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("line 5: `12O.1` is not a number"),
        "{stderr}"
    );
    assert!(stderr.contains("points.csv"), "{stderr}");
    assert!(!out_path.exists(), "no output after a strict failure");
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        3,
        "only grids.geojson, s.gpkg, points.csv"
    );
}

#[test]
fn geojson_in_and_out_and_crs_conversion() {
    let dir = tempfile::tempdir().unwrap();
    let db = store(dir.path());
    // GCJ-02 input: the CLI converts it to WGS84 before the lookup.
    let (x, y) = gridmap_data::crs::wgs84_to_gcj02(120.15, 30.05);
    let input = dir.path().join("points.geojson");
    write(
        &input,
        &format!(
            r#"{{"type":"FeatureCollection","features":[
            {{"type":"Feature","id":"a","geometry":{{"type":"Point","coordinates":[{x},{y}]}},"properties":{{"k":1}}}},
            {{"type":"Feature","id":"b","geometry":null,"properties":{{}}}}]}}"#
        ),
    );
    let out_path = dir.path().join("out.geojson");
    let out = assign(&input, &db, &out_path, &["--crs", "gcj02"]);
    assert_success(&out);
    assert!(
        text(&out.stderr).contains("feature #1: the feature has no geometry"),
        "{}",
        text(&out.stderr)
    );
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out_path).unwrap()).unwrap();
    assert_eq!(
        v["features"][0]["properties"]["community_code"],
        "330106001002"
    );
    assert_eq!(v["features"][0]["properties"]["k"], 1);
    assert_eq!(v["features"][0]["properties"]["status"], "inside");
    assert_eq!(v["features"][1]["properties"]["status"], "error");

    // Unknown formats and a missing store are clear errors.
    let out = assign(&input, &db, Path::new("x.shp"), &[]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("unknown output format"),
        "{}",
        text(&out.stderr)
    );
    let missing = dir.path().join("none.gpkg");
    let out = assign(&input, &missing, Path::new("x.csv"), &[]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("no store at"),
        "{}",
        text(&out.stderr)
    );
    assert!(!missing.exists(), "a missing store is not created");
}
