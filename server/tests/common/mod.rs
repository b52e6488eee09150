//! Helpers shared by the binary's end-to-end tests (`mod common;` in each).
#![allow(dead_code)] // each test file uses its own subset

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Runs the built `gridmap` binary with quiet logs and no store from the environment.
pub fn gridmap(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gridmap"))
        .args(args)
        .env("RUST_LOG", "warn")
        .env_remove("GRIDMAP_DB")
        .output()
        .expect("run gridmap")
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

pub fn write(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
}

/// A path as a command-line argument.
pub fn arg(path: &Path) -> &str {
    path.to_str().expect("test paths are UTF-8")
}

/// Asserts that a run succeeded, showing its stderr when it did not.
pub fn assert_success(out: &Output) {
    assert!(out.status.success(), "{}", text(&out.stderr));
}

fn gridmap_then(args: &[&str], extra: &[&str]) -> Output {
    let all: Vec<&str> = args.iter().chain(extra).copied().collect();
    gridmap(&all)
}

/// `gridmap import grids FILE --db DB`, then the `extra` flags.
pub fn import_grids(file: &Path, db: &Path, extra: &[&str]) -> Output {
    gridmap_then(&["import", "grids", arg(file), "--db", arg(db)], extra)
}

/// `gridmap assign INPUT --db DB --out OUT`, then the `extra` flags.
pub fn assign(input: &Path, db: &Path, out: &Path, extra: &[&str]) -> Output {
    gridmap_then(
        &["assign", arg(input), "--db", arg(db), "--out", arg(out)],
        extra,
    )
}

/// `gridmap check --db DB`, then the `extra` flags.
pub fn check(db: &Path, extra: &[&str]) -> Output {
    gridmap_then(&["check", "--db", arg(db)], extra)
}

/// [`SQUARES`] written to `dir/grids.geojson` and imported (with the
/// `extra` flags) into a new store `dir/s.gpkg`, whose path is returned.
pub fn squares_store(dir: &Path, extra: &[&str]) -> PathBuf {
    let grids = dir.join("grids.geojson");
    write(&grids, SQUARES);
    let db = dir.join("s.gpkg");
    assert_success(&import_grids(&grids, &db, extra));
    db
}

/// A street split into a west and an east community along x = 120.1.
pub const SQUARES: &str = r#"{"type":"FeatureCollection","features":[
 {"type":"Feature","properties":{"code":"330106001","name":"文新街道","level":"street","parent":null},
  "geometry":{"type":"Polygon","coordinates":[[[120.0,30.0],[120.2,30.0],[120.2,30.1],[120.0,30.1],[120.0,30.0]]]}},
 {"type":"Feature","properties":{"code":"330106001001","name":"西社区","level":"community","parent":"330106001"},
  "geometry":{"type":"Polygon","coordinates":[[[120.0,30.0],[120.1,30.0],[120.1,30.1],[120.0,30.1],[120.0,30.0]]]}},
 {"type":"Feature","properties":{"code":"330106001002","name":"东社区","level":"community","parent":"330106001"},
  "geometry":{"type":"Polygon","coordinates":[[[120.1,30.0],[120.2,30.0],[120.2,30.1],[120.1,30.1],[120.1,30.0]]]}}
]}"#;
