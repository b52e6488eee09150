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

/// Imports a grid file as it is written (no CRS conversion, no repair) into a
/// new store at `path`, as system `system` with the given levels.
pub fn import_store(
    path: &Path,
    file: &Path,
    system: &str,
    levels: &[&str],
) -> gridmap_data::store::gpkg::GpkgStore {
    use gridmap_data::import::{import_grids, GridImportOptions};
    let store = gridmap_data::store::gpkg::GpkgStore::open(path).expect("open store");
    let mut opts = GridImportOptions::new(system);
    opts.levels = Some(levels.iter().map(|s| s.to_string()).collect());
    import_grids(&store, file, &opts, &gridmap_data::progress::NoProgress)
        .unwrap_or_else(|e| panic!("importing {}: {e}", file.display()));
    store
}

/// Imports the Zhejiang partition as system `admin` with levels
/// `province,city,district`, keeping the GCJ-02 coordinates as written (the
/// GEOS oracle was computed on them), into a new store at `path`.
pub fn zhejiang_store(path: &Path) -> gridmap_data::store::gpkg::GpkgStore {
    use gridmap_data::store::GridStore;
    let store = import_store(
        path,
        &fixture("zhejiang-admin-gcj02.geojson"),
        "admin",
        &["province", "city", "district"],
    );
    let grids = store
        .grids("admin")
        .expect("the Zhejiang partition imports cleanly");
    assert_eq!(grids.len(), 102, "province, 11 cities, 90 districts");
    store
}
