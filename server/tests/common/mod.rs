//! Helpers shared by the binary's end-to-end tests (`mod common;` in each).
#![allow(dead_code)] // each test file uses its own subset

use std::path::Path;
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
    std::fs::write(path, text).unwrap();
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
