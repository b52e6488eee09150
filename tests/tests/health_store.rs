//! `/health` while the store cannot be reached: `degraded`, with the reason,
//! and `ok` again once it recovers. (Its own test binary: the problems are
//! process-wide, and other `/health` tests expect `ok`.)

use axum::http::StatusCode;
use gridmap::http::health::set_store_problem;
use gridmap::http::AppState;
use gridmap_tests::http::get_json;

#[tokio::test]
async fn health_is_degraded_with_the_reason_while_the_store_is_away() {
    let dir = tempfile::tempdir().unwrap();
    let store = gridmap_tests::zhejiang_store(&dir.path().join("zj.gpkg"));
    let state = AppState::new(store).unwrap();
    let (status, body) = get_json(&state, "/health").await;
    assert_eq!(
        (status, body["status"].as_str()),
        (StatusCode::OK, Some("ok"))
    );

    set_store_problem("listen", Some("cannot reach PostgreSQL at db:5432".into()));
    set_store_problem("poll", Some("timed out".into()));
    let (status, body) = get_json(&state, "/health").await;
    assert_eq!(status, StatusCode::OK, "still answering");
    assert_eq!(body["status"], "degraded");
    assert_eq!(
        body["store"],
        "listen: cannot reach PostgreSQL at db:5432; poll: timed out"
    );
    assert_eq!(body["data_version"], 1, "the last snapshot is still served");

    set_store_problem("listen", None);
    let (_, body) = get_json(&state, "/health").await;
    assert_eq!(body["store"], "poll: timed out");
    set_store_problem("poll", None);
    let (_, body) = get_json(&state, "/health").await;
    assert_eq!(body["status"], "ok");
    assert!(body.get("store").is_none(), "{body}");
}
