//! The HTTP API end to end through `app(state).oneshot(request)`.

use axum::http::StatusCode;
use gridmap::http::AppState;
use gridmap_data::import::import_workers;
use gridmap_data::store::GridStore;
use gridmap_tests::backend_tests;
use gridmap_tests::backends::{Backend, Place, TestStore};
use gridmap_tests::http::get_json;
use gridmap_tests::{strings_of, zhejiang_store};

/// The Zhejiang partition with two workers, in a store of `backend`; the
/// place keeps the store's file or database alive.
fn zhejiang_state_on(backend: Backend) -> Option<(AppState, Place)> {
    let TestStore { store, place, .. } = TestStore::zhejiang(backend)?;
    Some((with_workers(store), place))
}

fn zhejiang_state(dir: &tempfile::TempDir) -> AppState {
    with_workers(Box::new(zhejiang_store(&dir.path().join("zj.gpkg"))))
}

fn with_workers(store: Box<dyn GridStore>) -> AppState {
    let dir = tempfile::tempdir().unwrap();
    let workers = dir.path().join("workers.csv");
    std::fs::write(
        &workers,
        "id,name,phone,role,photo,duties,grids\n\
         w1,张三,13900000001,网格长,photos/w1.jpg,统筹,330106\n\
         w2,李四,13900000002,专职网格员,,巡查,330106:0.5;330105\n",
    )
    .expect("the workers file is written");
    import_workers(&*store, &workers, "admin").expect("the workers import");
    AppState::with_config(store.into(), Default::default()).expect("a server state")
}

backend_tests!(lookup_list_feature_health_and_errors);

fn lookup_list_feature_health_and_errors(backend: Backend) {
    let Some((state, _place)) = zhejiang_state_on(backend) else {
        return;
    };
    tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(lookup_list_feature_health_and_errors_on(state));
}

async fn lookup_list_feature_health_and_errors_on(state: AppState) {
    // West Lake, Hangzhou, in the GCJ-02 coordinates the polygons were imported with.
    let (status, body) = get_json(&state, "/api/v1/lookup?lon=120.13&lat=30.26&system=admin").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        strings_of(&body["grids"], "code"),
        ["330000", "330100", "330106"]
    );
    assert_eq!(body["grids"][2]["name"], "西湖区");
    assert_eq!(body["grids"][2]["parent"], "330100");
    assert_eq!(body["grids"][0]["level"], "province");
    let workers = body["workers"].as_array().unwrap();
    assert_eq!(workers.len(), 2, "{body}");
    assert_eq!(workers[0]["name"], "张三");
    assert_eq!(workers[1]["share"], 0.5);
    assert_eq!(workers[1]["grid"], "330106");

    // Outside every grid: an empty answer, not an error.
    let (status, body) = get_json(&state, "/api/v1/lookup?lon=100&lat=10").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["grids"].as_array().unwrap().len(), 0);

    for (uri, code) in [
        ("/api/v1/lookup?lat=30", "missing_parameter"),
        ("/api/v1/lookup?lon=abc&lat=30", "bad_parameter"),
        ("/api/v1/lookup?lon=120&lat=30&crs=EPSG:9999", "bad_crs"),
        (
            "/api/v1/lookup?lon=120&lat=30&system=nope",
            "unknown_system",
        ),
        ("/api/v1/lookup?lon=500&lat=30", "bad_coordinates"),
        ("/api/v1/grids?bbox=1,2,3", "bad_parameter"),
        ("/api/v1/grids?level=galaxy", "unknown_level"),
    ] {
        let (status, body) = get_json(&state, uri).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}: {body}");
        assert_eq!(body["error"]["code"], code, "{uri}: {body}");
        assert!(body["error"]["message"].as_str().unwrap().len() > 10);
    }

    let (status, body) = get_json(&state, "/api/v1/grids?system=admin&level=city").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["total"], 11);
    let (_, body) = get_json(&state, "/api/v1/grids?system=admin&parent=330100").await;
    assert!(body["grids"]
        .as_array()
        .unwrap()
        .iter()
        .all(|g| g["parent"] == "330100"));
    assert!(body["total"].as_u64().unwrap() >= 10);
    let (_, body) = get_json(
        &state,
        "/api/v1/grids?level=district&bbox=120.10,30.20,120.14,30.27",
    )
    .await;
    let listed = strings_of(&body["grids"], "code");
    assert!(listed.contains(&"330106"), "{listed:?}");

    let (status, body) = get_json(&state, "/api/v1/grids/330106?system=admin").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["type"], "Feature");
    assert_eq!(body["geometry"]["type"], "MultiPolygon");
    assert_eq!(body["properties"]["workers"].as_array().unwrap().len(), 2);
    let area = body["properties"]["area_m2"].as_f64().unwrap();
    // 西湖区 is about 310 km².
    assert!((250e6..370e6).contains(&area), "area {area}");

    let (status, body) = get_json(&state, "/api/v1/grids/999999").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error"]["code"], "unknown_grid");
    let (status, _) = get_json(&state, "/api/v1/nothing-here").await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let (status, body) = get_json(&state, "/health").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["status"], "ok");
}

#[tokio::test]
async fn every_answer_carries_a_request_id_of_its_own() {
    let dir = tempfile::tempdir().unwrap();
    let state = zhejiang_state(&dir);
    let a = gridmap_tests::http::get_with(&state, "/health", &[("x-request-id", "client-chosen")])
        .await;
    let b = gridmap_tests::http::get(&state, "/api/v1/nothing-here").await;
    let id =
        |r: &gridmap_tests::http::Reply| r.headers["x-request-id"].to_str().unwrap().to_string();
    assert_ne!(id(&a), id(&b), "each request its own id");
    assert_ne!(id(&a), "client-chosen", "the client's id is not taken");
    assert_eq!(b.status, StatusCode::NOT_FOUND, "errors carry one too");
}
