//! The `coverage` tile layers show the problems of the coverage report where
//! they are: on the planted-defect fixture, the removed district (滨江区) is a
//! gap polygon in the tile that covers it.

use axum::http::StatusCode;
use gridmap::http::AppState;
use gridmap_tests::http::get;
use gridmap_tests::{fixture, import_store};
use gridmap_tiles::decode::decode_tile;
use gridmap_tiles::tile::tile_for_lonlat;
use gridmap_tiles::PropValue;

#[tokio::test]
async fn gap_of_removed_district_is_drawn_in_the_coverage_layer() {
    let dir = tempfile::tempdir().unwrap();
    let store = import_store(
        &dir.path().join("d.gpkg"),
        &fixture("defects/zhejiang-defects.geojson"),
        "admin",
        &["city", "district"],
    );
    let state = AppState::new(store).unwrap();

    // 滨江区 (removed from the fixture) lies around 120.21, 30.19.
    let tile = tile_for_lonlat(120.21, 30.19, 11).unwrap();
    let uri = format!("/tiles/admin/{}/{}/{}.mvt", tile.z, tile.x, tile.y);
    let reply = get(&state, &uri).await;
    assert_eq!(reply.status, StatusCode::OK);
    let layers = decode_tile(&reply.body).unwrap();
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
    let reply = get(&state, &format!("/tiles/admin/7/{}/{}.mvt", t7.x, t7.y)).await;
    assert!(decode_tile(&reply.body)
        .unwrap()
        .iter()
        .all(|l| !l.name.starts_with("coverage")));
}
