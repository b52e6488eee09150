//! The `coverage` tile layers show the problems of the coverage report where
//! they are: on the planted-defect fixture, the removed district (滨江区) is a
//! gap polygon in the tile that covers it.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use gridmap::http::{app, AppState};
use gridmap_data::import::{import_grids, GridImportOptions};
use gridmap_data::progress::NoProgress;
use gridmap_data::store::gpkg::GpkgStore;
use gridmap_tiles::decode::decode_tile;
use gridmap_tiles::tile::tile_for_lonlat;
use gridmap_tiles::PropValue;
use tower::ServiceExt;

#[tokio::test]
async fn gap_of_removed_district_is_drawn_in_the_coverage_layer() {
    let dir = tempfile::tempdir().unwrap();
    let store = GpkgStore::open(dir.path().join("d.gpkg")).unwrap();
    let mut opts = GridImportOptions::new("admin");
    opts.levels = Some(vec!["city".into(), "district".into()]);
    import_grids(
        &store,
        &gridmap_tests::fixture("defects/zhejiang-defects.geojson"),
        &opts,
        &NoProgress,
    )
    .unwrap();
    let state = AppState::new(store).unwrap();

    // 滨江区 (removed from the fixture) lies around 120.21, 30.19.
    let tile = tile_for_lonlat(120.21, 30.19, 11).unwrap();
    let uri = format!("/tiles/admin/{}/{}/{}.mvt", tile.z, tile.x, tile.y);
    let resp = app(state.clone())
        .oneshot(Request::get(&uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let bytes = axum::body::to_bytes(resp.into_body(), 1 << 26)
        .await
        .unwrap();
    let layers = decode_tile(&bytes).unwrap();
    let coverage = layers
        .iter()
        .find(|l| l.name == "coverage")
        .expect("a coverage layer");
    let gap = coverage
        .features
        .iter()
        .find(|f| {
            f.properties
                .iter()
                .any(|(k, v)| k == "kind" && *v == PropValue::String("gap".into()))
        })
        .expect("a gap feature");
    assert!(
        gap.properties
            .iter()
            .any(|(k, v)| k == "grids" && *v == PropValue::String("330100".into())),
        "{:?}",
        gap.properties
    );
    assert!(gap.id.is_some());
    // Below z8 there is no coverage layer.
    let t7 = tile_for_lonlat(120.21, 30.19, 7).unwrap();
    let resp = app(state)
        .oneshot(
            Request::get(format!("/tiles/admin/7/{}/{}.mvt", t7.x, t7.y))
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    let bytes = axum::body::to_bytes(resp.into_body(), 1 << 26)
        .await
        .unwrap();
    assert!(decode_tile(&bytes)
        .unwrap()
        .iter()
        .all(|l| !l.name.starts_with("coverage")));
}
