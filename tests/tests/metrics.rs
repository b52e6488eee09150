//! `GET /metrics`: requests counted by route template (never by raw path),
//! tile cache hits and misses, the catalog version, limit refusals — read
//! back from the OpenMetrics text a Prometheus server scrapes. Its own test
//! binary with one test: the registry is the process's, so counts are exact
//! only when nothing else runs in it.

use axum::http::StatusCode;
use gridmap::http::AppState;
use gridmap_tests::http::get;
use gridmap_tests::zhejiang_store;

/// The value of the sample `name{labels}` (labels as written, in order), if present.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines().find_map(|l| {
        l.strip_prefix(series)?
            .strip_prefix(' ')?
            .trim()
            .parse()
            .ok()
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn requests_tiles_and_refusals_are_counted() {
    let dir = tempfile::tempdir().unwrap();
    let state = AppState::new(zhejiang_store(&dir.path().join("zj.gpkg"))).unwrap();

    for _ in 0..3 {
        let r = get(&state, "/api/v1/lookup?lon=120.13&lat=30.26&system=admin").await;
        assert_eq!(r.status, StatusCode::OK);
    }
    for secret in ["/no/such/path-1", "/no/such/path-2"] {
        assert_eq!(get(&state, secret).await.status, StatusCode::NOT_FOUND);
    }
    // The same z8 tile twice: a render, then the cache.
    let version = state.catalog().version();
    let tile = format!("/tiles/admin/8/213/107.mvt?v={version}");
    for _ in 0..2 {
        let status = get(&state, &tile).await.status;
        assert!(
            status == StatusCode::OK || status == StatusCode::NO_CONTENT,
            "{status}"
        );
    }
    assert_eq!(
        get(&state, "/api/v1/lookup?lon=x&lat=1").await.status,
        StatusCode::BAD_REQUEST
    );

    let reply = get(&state, "/metrics").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(reply
        .content_type()
        .unwrap()
        .starts_with("application/openmetrics-text"));
    let text = String::from_utf8(reply.body).unwrap();
    assert!(
        text.trim_end().ends_with("# EOF"),
        "OpenMetrics ends with # EOF"
    );

    let lookups =
        r#"gridmap_http_requests_total{route="/api/v1/lookup",method="GET",status="200"}"#;
    assert_eq!(sample(&text, lookups), Some(3.0), "{text}");
    let bad = r#"gridmap_http_requests_total{route="/api/v1/lookup",method="GET",status="400"}"#;
    assert_eq!(sample(&text, bad), Some(1.0));
    let unmatched = r#"gridmap_http_requests_total{route="unmatched",method="GET",status="404"}"#;
    assert_eq!(sample(&text, unmatched), Some(2.0));
    assert!(!text.contains("path-1"), "raw paths never become labels");
    let tiles = r#"gridmap_http_requests_total{route="/tiles/{system}/{z}/{x}/{file}""#;
    assert!(text.contains(tiles), "tiles by route template: {text}");
    assert_eq!(
        sample(&text, r#"gridmap_tile_cache_requests_total{result="miss"}"#),
        Some(1.0)
    );
    assert_eq!(
        sample(&text, r#"gridmap_tile_cache_requests_total{result="hit"}"#),
        Some(1.0)
    );
    assert_eq!(sample(&text, "gridmap_tile_renders_in_flight"), Some(0.0));
    assert_eq!(
        sample(&text, "gridmap_catalog_version"),
        Some(version as f64)
    );
    let histogram = r#"gridmap_http_request_duration_seconds_count{route="/api/v1/lookup"}"#;
    assert_eq!(sample(&text, histogram), Some(4.0));
    assert_eq!(
        sample(&text, r#"gridmap_rejected_total{reason="rate_limited"}"#),
        None
    );
    let renders_before = sample(&text, "gridmap_tile_renders_total").expect("renders counted");
    assert_eq!(renders_before, 1.0);

    // Single flight: eight requests at once for one uncached tile, one render.
    let other = format!("/tiles/admin/8/214/107.mvt?v={version}");
    let replies = futures_join(&state, &other, 8).await;
    assert!(replies.iter().all(StatusCode::is_success), "{replies:?}");
    let text = String::from_utf8(get(&state, "/metrics").await.body).unwrap();
    assert_eq!(
        sample(&text, "gridmap_tile_renders_total"),
        Some(renders_before + 1.0),
        "{text}"
    );

    // Refusals by a limit are counted by reason (a second server in the same
    // process, so after the exact counts above: the registry is shared).
    use gridmap::http::state::ServerConfig;
    let store = zhejiang_store(&dir.path().join("zj2.gpkg"));
    let mut config = ServerConfig::default();
    config.rate_limit.per_second = 1.0;
    config.rate_limit.burst = 1;
    let state = AppState::with_config(std::sync::Arc::new(store), config).unwrap();
    let mut limited = 0;
    for _ in 0..5 {
        // The limit is per client: the peer address the listener records.
        let peer: std::net::SocketAddr = "203.0.113.9:40000".parse().unwrap();
        let request = axum::http::Request::get("/api/v1/lookup?lon=120.13&lat=30.26")
            .extension(axum::extract::ConnectInfo(peer))
            .body(axum::body::Body::empty())
            .unwrap();
        let r = gridmap_tests::http::send(&state, request).await;
        limited += usize::from(r.status == StatusCode::TOO_MANY_REQUESTS);
    }
    assert!(limited >= 3, "{limited} of 5 limited");
    let text = String::from_utf8(get(&state, "/metrics").await.body).unwrap();
    let refused = sample(&text, r#"gridmap_rejected_total{reason="rate_limited"}"#);
    assert!(
        refused.is_some_and(|n| n >= limited as f64),
        "{refused:?}: {text}"
    );
}

/// `n` concurrent `GET uri`s; their statuses.
async fn futures_join(state: &AppState, uri: &str, n: usize) -> Vec<StatusCode> {
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..n {
        let (state, uri) = (state.clone(), uri.to_string());
        tasks.spawn(async move { get(&state, &uri).await.status });
    }
    tasks.join_all().await
}
