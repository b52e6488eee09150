//! `GET /api/v1/openapi.json`: every operation it describes is a route of
//! the server (answered by its handler, not the 404/405 fallbacks), every
//! route under `/api/v1` is described, and the answers it documents as JSON
//! errors are. The fuzzing against it (schemathesis) runs in the test script
//! on a live server.

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use gridmap::http::AppState;
use gridmap_data::demo::{generate, DemoOptions};
use gridmap_data::progress::NoProgress;
use gridmap_data::store::gpkg::GpkgStore;
use gridmap_data::store::GridStore;
use gridmap_tests::http::{get, send};
use serde_json::Value;

fn demo_state(dir: &tempfile::TempDir) -> AppState {
    let change = generate(
        &DemoOptions {
            blocks: 200,
            seed: 5,
        },
        &NoProgress,
    )
    .expect("demo");
    let store = GpkgStore::open(dir.path().join("demo.gpkg")).expect("a new store");
    store.apply(&change).expect("the demo city is written");
    AppState::with_config(Arc::new(store), Default::default()).expect("a server state")
}

/// The routes of `server/src/http` under `/api/v1`, as registered.
fn registered_api_routes() -> BTreeSet<(String, String)> {
    let dir = gridmap_tests::repo_root().join("server/src/http");
    let mut routes = BTreeSet::new();
    for entry in std::fs::read_dir(&dir).expect("the server's http sources") {
        let path = entry.expect("a directory entry").path();
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let compact: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
        for (i, _) in compact.match_indices(".route(") {
            // The call's own arguments, up to its closing bracket.
            let args = &compact[i + ".route(".len()..];
            let mut depth = 1;
            let end = args
                .char_indices()
                .find(|&(_, c)| {
                    depth += match c {
                        '(' => 1,
                        ')' => -1,
                        _ => 0,
                    };
                    depth == 0
                })
                .map_or(args.len(), |(e, _)| e);
            let call = &args[..end];
            let Some(path) = call.split('"').nth(1).filter(|p| p.starts_with("/api/v1/")) else {
                continue;
            };
            if path == "/api/v1/openapi.json" {
                continue;
            }
            for method in ["get", "post"] {
                if call.contains(&format!("{method}(")) || call.contains(&format!(".{method}(")) {
                    routes.insert((method.to_string(), path.to_string()));
                }
            }
        }
    }
    routes
}

#[tokio::test]
async fn the_description_and_the_routes_agree() {
    let dir = tempfile::tempdir().unwrap();
    let state = demo_state(&dir);
    let reply = get(&state, "/api/v1/openapi.json").await;
    assert_eq!(reply.status, StatusCode::OK);
    let doc = reply.json();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());

    let mut described = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            described.insert((method.clone(), path.clone()));
            // Fill path parameters with something of the declared type.
            let uri = path
                .replace("{code}", "no-such-grid")
                .replace("{file}", "no-such-grid.pdf")
                .replace("{id}", "999999")
                .replace("{version}", "999999");
            let request = Request::builder()
                .method(Method::from_bytes(method.to_uppercase().as_bytes()).unwrap())
                .uri(&uri)
                .header("content-type", "application/json")
                .body(Body::from("{}"))
                .unwrap();
            let reply = send(&state, request).await;
            let body = reply.json();
            assert_ne!(
                reply.status,
                StatusCode::METHOD_NOT_ALLOWED,
                "{method} {uri}"
            );
            assert_ne!(
                body["error"]["code"], "no_route",
                "{method} {uri}: not a route"
            );
            assert!(
                reply.status.as_u16() < 500,
                "{method} {uri}: {}",
                reply.status
            );
            let documented: BTreeSet<&str> = op["responses"]
                .as_object()
                .unwrap()
                .keys()
                .map(String::as_str)
                .collect();
            assert!(
                documented.contains(reply.status.as_str()),
                "{method} {uri} answered {} which is not documented ({documented:?}): {body}",
                reply.status
            );
            if !reply.status.is_success() {
                assert!(
                    body["error"]["code"].is_string(),
                    "{method} {uri}: a JSON error"
                );
            }
        }
    }
    assert_eq!(
        described
            .iter()
            .filter(|(_, p)| p.starts_with("/api/v1/"))
            .cloned()
            .collect::<BTreeSet<_>>(),
        registered_api_routes()
    );
    assert!(described.contains(&("get".to_string(), "/health".to_string())));
}

#[tokio::test]
async fn a_query_whose_best_match_scores_below_zero_is_answered() {
    // Found by schemathesis: the best site of a weak match on a long
    // address scores below zero, and the "alike" rule then kept no result.
    let dir = tempfile::tempdir().unwrap();
    let state = demo_state(&dir);
    let reply = get(&state, "/api/v1/search?q=Q2f%C3%80W").await;
    assert_eq!(
        reply.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    assert!(reply.json()["results"].is_array());
    let _: Value = reply.json();
}
