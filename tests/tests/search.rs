//! Address search over HTTP on the demo city: ranking, ambiguity, refused
//! queries, the rate limit, and that public answers carry no register data.

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode};
use gridmap::http::rate_limit::RateLimit;
use gridmap::http::state::ServerConfig;
use gridmap::http::{app, AppState};
use gridmap_data::demo::{generate, DemoOptions};
use gridmap_data::progress::NoProgress;
use gridmap_data::store::gpkg::GpkgStore;
use gridmap_data::store::GridStore;
use gridmap_data::{ChangeSet, Site};
use serde_json::Value;
use tower::ServiceExt;

const TOKEN: &str = "search-test-viewer-token";

/// The 200-block demo city, generated once for all tests of this file.
fn city() -> &'static ChangeSet {
    static CITY: OnceLock<ChangeSet> = OnceLock::new();
    CITY.get_or_init(|| {
        generate(
            &DemoOptions {
                blocks: 200,
                seed: 3,
            },
            &NoProgress,
        )
        .unwrap()
    })
}

fn state_with(dir: &tempfile::TempDir, config: ServerConfig) -> AppState {
    let store = GpkgStore::open(dir.path().join("demo.gpkg")).unwrap();
    store.apply(city()).unwrap();
    AppState::with_config(Arc::new(store), config).unwrap()
}

fn state(dir: &tempfile::TempDir) -> AppState {
    state_with(
        dir,
        ServerConfig {
            viewer_token: Some(TOKEN.into()),
            ..Default::default()
        },
    )
}

struct Reply {
    status: StatusCode,
    retry_after: Option<String>,
    body: Value,
}

async fn send(state: &AppState, uri: &str, token: Option<&str>, peer: Option<&str>) -> Reply {
    let mut request = Request::get(uri);
    if let Some(t) = token {
        request = request.header("authorization", format!("Bearer {t}"));
    }
    let mut request = request.body(Body::empty()).unwrap();
    if let Some(p) = peer {
        let addr: SocketAddr = p.parse().unwrap();
        request.extensions_mut().insert(ConnectInfo(addr));
    }
    let resp = app(state.clone()).oneshot(request).await.unwrap();
    let status = resp.status();
    let retry_after = resp
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_string());
    let bytes = axum::body::to_bytes(resp.into_body(), 1 << 26)
        .await
        .unwrap();
    Reply {
        status,
        retry_after,
        body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    }
}

async fn get(state: &AppState, uri: &str) -> (StatusCode, Value) {
    let r = send(state, uri, None, None).await;
    (r.status, r.body)
}

fn q(text: &str) -> String {
    let mut s = String::new();
    for b in text.as_bytes() {
        s.push_str(&format!("%{b:02X}"));
    }
    s
}

fn block_of(site: &Site) -> &str {
    site.attributes["grid"].as_str().unwrap()
}

fn addresses() -> Vec<&'static Site> {
    city()
        .sites
        .iter()
        .filter(|s| s.kind == "address")
        .collect()
}

#[tokio::test]
async fn a_building_typed_loosely_finds_its_grid_and_workers() {
    let dir = tempfile::tempdir().unwrap();
    let state = state(&dir);
    let all = addresses();
    for site in all.iter().step_by(all.len() / 25) {
        // `文一路115号翠苑三区12幢` typed as `翠苑三区１２栋`.
        let (_, building) = site.name.split_once('号').unwrap();
        let typed: String = building
            .replace('幢', "栋")
            .chars()
            .map(|c| {
                if c.is_ascii_digit() {
                    char::from_u32(c as u32 + 0xFEE0).unwrap()
                } else {
                    c
                }
            })
            .collect();
        let (status, body) = get(&state, &format!("/api/v1/search?q={}&limit=5", q(&typed))).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let first = &body["results"][0];
        assert_eq!(first["id"], site.id.as_str(), "{typed}: {body}");
        let grids = first["grids"].as_array().unwrap();
        let levels: Vec<&str> = grids.iter().map(|g| g["level"].as_str().unwrap()).collect();
        assert_eq!(levels, ["street", "community", "block"]);
        assert_eq!(grids[2]["code"], block_of(site));
        assert!(grids[2]["name"].as_str().unwrap().ends_with("网格"));
        let keys: Vec<&str> = first
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            keys,
            ["address", "grids", "id", "kind", "location", "name", "score", "workers"]
        );
        // The store keeps coordinates to within a few ulps.
        assert!((first["location"][0].as_f64().unwrap() - site.location.x()).abs() < 1e-9);
        assert!((first["location"][1].as_f64().unwrap() - site.location.y()).abs() < 1e-9);
        let workers = first["workers"].as_array().unwrap();
        assert!(!workers.is_empty(), "{body}");
        for w in workers {
            for field in ["name", "role", "phone", "photo", "duties"] {
                assert!(w.get(field).is_some(), "{field} missing in {w}");
            }
        }
    }
}

#[tokio::test]
async fn exact_house_number_and_building_rank_first() {
    let dir = tempfile::tempdir().unwrap();
    let state = state(&dir);
    let all = addresses();
    let site = all[all.len() / 2];
    // The full name with its region prefix and a Chinese-numeral building.
    let (gate, _) = site.name.split_once('号').unwrap();
    let (status, body) = get(
        &state,
        &format!(
            "/api/v1/search?q={}",
            q(&format!("杭州市西湖区{}", site.name))
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["results"][0]["id"], site.id.as_str(), "{body}");
    assert_eq!(body["ambiguous"], false);
    // The house number alone: its buildings come first, all in one grid.
    let (_, body) = get(
        &state,
        &format!("/api/v1/search?q={}&limit=5", q(&format!("{gate}号"))),
    )
    .await;
    let results = body["results"].as_array().unwrap();
    assert!(!results.is_empty());
    for r in results.iter().take(3) {
        assert!(
            r["address"]
                .as_str()
                .unwrap()
                .contains(&format!("{gate}号")),
            "{r}"
        );
        assert_eq!(r["grids"][2]["code"], block_of(site));
    }
    assert_eq!(body["ambiguous"], false, "{body}");
    let scores: Vec<f64> = results
        .iter()
        .map(|r| r["score"].as_f64().unwrap())
        .collect();
    assert!(scores.windows(2).all(|w| w[0] >= w[1]), "{scores:?}");
    // A building that does not exist at this number ranks below those that do.
    let (_, body) = get(
        &state,
        &format!("/api/v1/search?q={}&limit=3", q(&format!("{gate}号999幢"))),
    )
    .await;
    assert_eq!(body["results"][0]["grids"][2]["code"], block_of(site));
}

#[tokio::test]
async fn a_road_alone_is_ambiguous_and_lists_every_alike_candidate() {
    let dir = tempfile::tempdir().unwrap();
    let state = state(&dir);
    let road = {
        let name = &addresses()[0].name;
        let end = name.find('路').map(|i| i + '路'.len_utf8()).unwrap_or(9);
        name[..end].to_string()
    };
    let (status, body) = get(&state, &format!("/api/v1/search?q={}&limit=2", q(&road))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["ambiguous"], true, "{body}");
    let results = body["results"].as_array().unwrap();
    assert!(
        results.len() > 2,
        "alike candidates are all listed: {}",
        results.len()
    );
    let blocks: std::collections::HashSet<&str> = results
        .iter()
        .map(|r| r["grids"][2]["code"].as_str().unwrap())
        .collect();
    assert!(blocks.len() >= 2);
}

#[tokio::test]
async fn bad_queries_get_400_and_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let state = state(&dir);
    let long = q(&"文".repeat(101));
    for (uri, code) in [
        ("/api/v1/search".to_string(), "missing_parameter"),
        ("/api/v1/search?q=".to_string(), "missing_parameter"),
        (format!("/api/v1/search?q={}", q("，。 ")), "bad_query"),
        (format!("/api/v1/search?q={long}"), "bad_query"),
        (
            format!("/api/v1/search?q={}&limit=0", q("文三路")),
            "bad_parameter",
        ),
        (
            format!("/api/v1/search?q={}&limit=51", q("文三路")),
            "bad_parameter",
        ),
        (
            format!("/api/v1/search?q={}&limit=ten", q("文三路")),
            "bad_parameter",
        ),
        (
            format!("/api/v1/search?q={}&system=nope", q("文三路")),
            "unknown_system",
        ),
    ] {
        let (status, body) = get(&state, &uri).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}: {body}");
        assert_eq!(body["error"]["code"], code, "{uri}: {body}");
        assert!(!body["error"]["message"].as_str().unwrap().is_empty());
    }
    let (status, body) = get(
        &state,
        &format!("/api/v1/search?q={}", q(&"文".repeat(100))),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::OK,
        "100 characters are accepted: {body}"
    );
    let (_, health) = get(&state, "/health").await;
    assert_eq!(health["data_version"], state.catalog().version());
}

#[tokio::test]
async fn over_the_rate_limit_is_429_with_retry_after_per_client() {
    let dir = tempfile::tempdir().unwrap();
    let config = ServerConfig {
        rate_limit: RateLimit {
            per_second: 0.5,
            burst: 3,
            trusted_proxies: vec!["10.0.0.9".parse().unwrap()],
        },
        ..Default::default()
    };
    let state = state_with(&dir, config);
    let search = format!("/api/v1/search?q={}", q("文三路"));
    let site = addresses()[0];
    let lookup = format!(
        "/api/v1/lookup?lon={}&lat={}",
        site.location.x(),
        site.location.y()
    );
    for uri in [&search, &lookup, &search] {
        assert_eq!(
            send(&state, uri, None, Some("1.1.1.1:5000")).await.status,
            StatusCode::OK
        );
    }
    for uri in [&search, &lookup] {
        let r = send(&state, uri, None, Some("1.1.1.1:5001")).await;
        assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{uri}");
        assert_eq!(r.body["error"]["code"], "rate_limited");
        assert_eq!(r.retry_after.as_deref(), Some("2"), "one token every 2 s");
    }
    // Another client is not held up; other endpoints are not limited.
    assert_eq!(
        send(&state, &search, None, Some("2.2.2.2:5000"))
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        send(&state, "/health", None, Some("1.1.1.1:5000"))
            .await
            .status,
        StatusCode::OK
    );
    // Behind the trusted proxy each forwarded client has its own bucket; a
    // client naming someone else through an untrusted hop is still itself.
    let via_proxy = |client: &'static str| {
        let state = state.clone();
        let search = search.clone();
        async move {
            let mut request = Request::get(&search)
                .header("x-forwarded-for", client)
                .body(Body::empty())
                .unwrap();
            request
                .extensions_mut()
                .insert(ConnectInfo("10.0.0.9:443".parse::<SocketAddr>().unwrap()));
            app(state).oneshot(request).await.unwrap().status()
        }
    };
    assert_eq!(via_proxy("1.1.1.1").await, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(via_proxy("1.1.1.1, 3.3.3.3").await, StatusCode::OK);
}

/// Every key of a JSON value, at any depth.
fn keys(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(o) => {
            for (k, x) in o {
                out.push(k.clone());
                // A coverage report's thresholds are the options asked for
                // (`households: {min, max}`), not register data.
                if k != "thresholds" {
                    keys(x, out);
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|x| keys(x, out)),
        _ => {}
    }
}

fn assert_public(what: &str, body: &Value) {
    let mut all = Vec::new();
    keys(body, &mut all);
    for private in [
        "households",
        "employees",
        "category",
        "stage",
        "label_point",
    ] {
        assert!(
            !all.iter().any(|k| k == private),
            "{what} shows `{private}`: {body}"
        );
    }
    let mut stack = vec![body];
    while let Some(v) = stack.pop() {
        match v {
            Value::Object(o) => {
                if let Some(a) = o.get("attributes") {
                    assert_eq!(a, &Value::Object(Default::default()), "{what}: attributes");
                }
                if o.contains_key("phone") {
                    assert!(
                        !o.contains_key("id"),
                        "{what}: a worker card with its internal id"
                    );
                }
                stack.extend(o.values());
            }
            Value::Array(a) => stack.extend(a),
            _ => {}
        }
    }
}

#[tokio::test]
async fn public_answers_carry_only_the_publicity_board_and_the_token_unlocks_rows() {
    let dir = tempfile::tempdir().unwrap();
    let state = state(&dir);
    let site = addresses()[7];
    let block = block_of(site);
    let community = &block[..12];
    let uris = [
        format!(
            "/api/v1/lookup?lon={}&lat={}",
            site.location.x(),
            site.location.y()
        ),
        format!("/api/v1/search?q={}", q(&site.name)),
        "/api/v1/grids?limit=5000".to_string(),
        format!("/api/v1/grids/{block}"),
        format!("/api/v1/grids/{community}"),
        format!("/api/v1/grids/{block}/stats"),
        format!("/api/v1/grids/{community}/stats"),
        format!("/api/v1/grids/{block}/sites?limit=10000"),
        // A target of 1–2 households puts every block over it: the public
        // report must still not say how many households any block has.
        "/api/v1/coverage?households=1-2".to_string(),
        "/api/v1/coverage?households=1-2&format=geojson".to_string(),
    ];
    for uri in &uris {
        for token in [None, Some("Bearer-but-wrong-token-0000")] {
            let r = send(&state, uri, token, None).await;
            assert_eq!(r.status, StatusCode::OK, "{uri}: {}", r.body);
            assert_public(uri, &r.body);
        }
    }
    // The viewer token gets the registers' rows.
    let viewer = |uri: String| {
        let state = state.clone();
        async move { send(&state, &uri, Some(TOKEN), None).await.body }
    };
    let stats = viewer(format!("/api/v1/grids/{block}/stats")).await;
    let expected: u64 = city()
        .sites
        .iter()
        .filter(|s| block_of(s) == block)
        .filter_map(|s| s.households.map(u64::from))
        .sum();
    assert_eq!(stats["households"], expected);
    let sites = viewer(format!("/api/v1/grids/{block}/sites?kind=address")).await;
    assert!(sites["sites"]
        .as_array()
        .unwrap()
        .iter()
        .all(|s| s["households"].as_u64().is_some()));
    let report = viewer("/api/v1/coverage?households=1-2".to_string()).await;
    let over = report["problems"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["kind"] == "households_over")
        .count() as u64;
    assert!(over > 0, "{}", report["summary"]);
    assert_eq!(report["summary"]["counts"]["households_over"], over);
    assert!(report.get("withheld").is_none());
    let grid = viewer(format!("/api/v1/grids/{block}")).await;
    assert!(
        grid["properties"]["attributes"]["label_point"].is_array(),
        "{grid}"
    );
    assert!(grid["properties"]["workers"][0]["id"].is_string(), "{grid}");

    // With no token configured, no header unlocks anything.
    let dir2 = tempfile::tempdir().unwrap();
    let closed = state_with(&dir2, ServerConfig::default());
    for uri in &uris {
        for token in [Some(TOKEN), Some("")] {
            let r = send(&closed, uri, token, None).await;
            assert_eq!(r.status, StatusCode::OK);
            assert_public(uri, &r.body);
        }
    }
}

#[test]
fn the_store_round_trips_the_demo_addresses() {
    // Search reads names and addresses from the catalog: the store keeps both.
    let dir = tempfile::tempdir().unwrap();
    let store = GpkgStore::open(dir.path().join("demo.gpkg")).unwrap();
    store.apply(city()).unwrap();
    let stored = store.sites(Some("enterprise")).unwrap();
    let generated: Vec<&Site> = city()
        .sites
        .iter()
        .filter(|s| s.kind == "enterprise")
        .collect();
    assert_eq!(stored.len(), generated.len());
    for (a, b) in stored.iter().zip(generated) {
        assert_eq!((&a.name, &a.address), (&b.name, &b.address));
    }
}
