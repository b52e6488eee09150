//! Helpers shared by the end-to-end tests.

use std::path::{Path, PathBuf};

/// The repository root (tests run with the package directory as cwd).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// A fixture under `data/fixtures/`.
pub fn fixture(name: &str) -> PathBuf {
    repo_root().join("data").join("fixtures").join(name)
}

/// One row of `zhejiang-points-oracle.csv`: a point and the GEOS answer per level.
#[derive(Debug, Clone)]
pub struct OraclePoint {
    pub id: String,
    pub lon: f64,
    pub lat: f64,
    pub province: String,
    pub city: String,
    pub district: String,
}

/// Reads the 20,000-point GEOS oracle.
pub fn oracle_points() -> Vec<OraclePoint> {
    let mut rdr =
        csv::Reader::from_path(fixture("zhejiang-points-oracle.csv")).expect("oracle csv");
    rdr.records()
        .map(|r| {
            let r = r.expect("oracle row");
            OraclePoint {
                id: r[0].to_string(),
                lon: r[1].parse().expect("lon"),
                lat: r[2].parse().expect("lat"),
                city: r[3].to_string(),
                district: r[4].to_string(),
                province: r[5].to_string(),
            }
        })
        .collect()
}
