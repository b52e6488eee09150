//! Edits written to the store by another program while a server runs —
//! QGIS or ogr2ogr through GDAL, here `ogrinfo -sql` — are noticed, judged by
//! the rules an import must pass, and either served or refused: a refused
//! version is reported by `/health` and `gridmap check`, and the previous
//! snapshot is served meanwhile. On the Zhejiang partition.

use std::path::Path;
use std::process::Command;

use gridmap::http::AppState;
use gridmap_tests::http::get_json;
use gridmap_tests::{gdal_available, zhejiang_store};
use serde_json::Value;

/// Runs one SQL statement through GDAL's GeoPackage driver, as QGIS would
/// write; returns GDAL's error output when it fails.
fn ogr_sql(file: &Path, sql: &str) -> Result<(), String> {
    let out = Command::new("ogrinfo")
        .arg(file)
        .args(["-q", "-sql", sql])
        .output()
        .map_err(|e| format!("ogrinfo: {e}"))?;
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    if out.status.success() && !stderr.contains("ERROR") {
        Ok(())
    } else {
        Err(stderr)
    }
}

/// The name served for a grid of the `admin` system.
async fn served_name(state: &AppState, code: &str) -> Value {
    get_json(state, &format!("/api/v1/grids/{code}?system=admin"))
        .await
        .1["properties"]["name"]
        .clone()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_outside_rename_is_served_and_a_rule_breaking_one_is_refused() {
    if !gdal_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("zj.gpkg");
    let state = AppState::new(zhejiang_store(&file)).unwrap();
    let served = state.catalog().version();
    assert_eq!(served_name(&state, "330106").await, "西湖区");

    // A rename through GDAL: noticed (the data version moves), checked, served.
    ogr_sql(
        &file,
        "UPDATE grids SET name = '西湖风景区' WHERE code = '330106'",
    )
    .unwrap();
    let reloaded = state.reload_if_changed().unwrap();
    assert!(reloaded.is_some_and(|v| v > served), "{reloaded:?}");
    assert_eq!(served_name(&state, "330106").await, "西湖风景区");
    assert_eq!(get_json(&state, "/health").await.1["status"], "ok");

    // A rename making two codes equal: the store's own key refuses it, nothing changes.
    let version = state.store().data_version().unwrap();
    let err = ogr_sql(
        &file,
        "UPDATE grids SET code = '330105' WHERE code = '330106'",
    )
    .unwrap_err();
    assert!(err.contains("UNIQUE"), "{err}");
    assert_eq!(state.store().data_version().unwrap(), version);

    // Renaming a city's code orphans its districts: refused, not served; the
    // previous snapshot answers meanwhile and /health names the grids.
    ogr_sql(
        &file,
        "UPDATE grids SET code = '339900' WHERE code = '330100'",
    )
    .unwrap();
    assert_eq!(state.reload_if_changed().unwrap(), None);
    assert_eq!(served_name(&state, "330100").await, "杭州市");
    let health = get_json(&state, "/health").await.1;
    assert_eq!(health["status"], "degraded", "{health}");
    assert_eq!(health["data_version"], reloaded.unwrap());
    let problems = health["refused"]["problems"].as_array().unwrap();
    assert!(
        problems
            .iter()
            .any(|p| p.as_str().unwrap().contains("330106")
                && p.as_str().unwrap().contains("330100")),
        "{health}"
    );
    // What `gridmap check` and a restarting server load: refused, with the grids named.
    match gridmap_data::change::load_checked(state.store()) {
        Err(gridmap_data::change::CheckedLoadError::Refused { problems, .. }) => {
            assert!(
                problems
                    .0
                    .iter()
                    .any(|p| p.key.as_deref() == Some("330106")),
                "{problems}"
            );
        }
        Err(e) => panic!("expected the outside edit refused, got {e}"),
        Ok(_) => panic!("the outside edit was accepted"),
    }

    // Undoing the edit in GDAL: the store is valid again and served.
    ogr_sql(
        &file,
        "UPDATE grids SET code = '330100' WHERE code = '339900'",
    )
    .unwrap();
    assert!(state.reload_if_changed().unwrap().is_some());
    assert_eq!(get_json(&state, "/health").await.1["status"], "ok");
    assert_eq!(served_name(&state, "330100").await, "杭州市");
}
