//! Tile serving over HTTP: TileJSON, caching headers, gzip, empty and bad
//! tiles, and invalidation the moment the grids change.

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use gridmap::http::{app, AppState};
use gridmap_data::demo::{generate, DemoOptions};
use gridmap_data::progress::NoProgress;
use gridmap_data::store::gpkg::GpkgStore;
use gridmap_data::store::GridStore;
use gridmap_data::{ChangeSet, GridWriteMode, SystemGrids};
use serde_json::Value;
use tower::ServiceExt;

fn demo_state(dir: &tempfile::TempDir) -> (AppState, std::path::PathBuf) {
    let path = dir.path().join("demo.gpkg");
    let store = GpkgStore::open(&path).unwrap();
    store
        .apply(
            &generate(
                &DemoOptions {
                    blocks: 200,
                    seed: 3,
                },
                &NoProgress,
            )
            .unwrap(),
        )
        .unwrap();
    (AppState::new(store).unwrap(), path)
}

async fn send(
    state: &AppState,
    req: Request<Body>,
) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    let resp = app(state.clone()).oneshot(req).await.unwrap();
    let (parts, body) = resp.into_parts();
    let bytes = axum::body::to_bytes(body, 1 << 26).await.unwrap();
    (parts.status, parts.headers, bytes.to_vec())
}

fn get(uri: &str) -> Request<Body> {
    Request::get(uri)
        .header(header::HOST, "maps.example:8080")
        .body(Body::empty())
        .unwrap()
}

/// The tile at zoom z containing a lon/lat point.
fn tile_of(lon: f64, lat: f64, z: u8) -> (u32, u32) {
    let t = gridmap_tiles::tile::tile_for_lonlat(lon, lat, z).unwrap();
    (t.x, t.y)
}

#[tokio::test]
async fn tilejson_tiles_caching_and_invalidation() {
    let dir = tempfile::tempdir().unwrap();
    let (state, path) = demo_state(&dir);

    let (status, _, body) = send(&state, get("/tiles")).await;
    assert_eq!(status, StatusCode::OK);
    let catalog: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        catalog["tilesets"][0]["tilejson"],
        "http://maps.example:8080/tiles/default.json"
    );

    let req = Request::get("/tiles/default.json")
        .header(header::HOST, "internal:8080")
        .header("x-forwarded-proto", "https")
        .header("x-forwarded-host", "grid.example.cn")
        .header("x-forwarded-prefix", "/gridmap")
        .body(Body::empty())
        .unwrap();
    let (status, _, body) = send(&state, req).await;
    assert_eq!(status, StatusCode::OK);
    let tj: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(tj["tilejson"], "3.0.0");
    let url = tj["tiles"][0].as_str().unwrap();
    assert!(
        url.starts_with("https://grid.example.cn/gridmap/tiles/default/{z}/{x}/{y}.mvt?v="),
        "{url}"
    );
    let layers: Vec<&str> = tj["vector_layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["id"].as_str().unwrap())
        .collect();
    for l in ["street", "community", "block", "labels"] {
        assert!(layers.contains(&l), "{layers:?}");
    }
    let b = tj["bounds"].as_array().unwrap();
    let (lon, lat) = (
        (b[0].as_f64().unwrap() + b[2].as_f64().unwrap()) / 2.0,
        (b[1].as_f64().unwrap() + b[3].as_f64().unwrap()) / 2.0,
    );
    let version = url.rsplit("v=").next().unwrap().to_string();

    // A tile in the middle of the city at z13: all three levels and labels.
    let (x, y) = tile_of(lon, lat, 13);
    let uri = format!("/tiles/default/13/{x}/{y}.mvt?v={version}");
    let (status, headers, raw) = send(&state, get(&uri)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        headers[header::CONTENT_TYPE],
        "application/vnd.mapbox-vector-tile"
    );
    assert_eq!(headers[header::CACHE_CONTROL], "public, max-age=86400");
    assert_eq!(headers["access-control-allow-origin"], "*");
    let etag = headers[header::ETAG].to_str().unwrap().to_string();
    let decoded = gridmap_tiles::decode::decode_tile(&raw).unwrap();
    let names: Vec<&str> = decoded
        .iter()
        .map(|l| l.name.as_str())
        .filter(|n| !n.starts_with("coverage"))
        .collect();
    assert_eq!(names, ["street", "community", "block", "labels"]);
    assert!(decoded[2].features.iter().all(|f| f.id.is_some()));

    // gzip when accepted, identical content.
    let req = Request::get(&uri)
        .header(header::ACCEPT_ENCODING, "gzip, br")
        .body(Body::empty())
        .unwrap();
    let (_, headers, gz) = send(&state, req).await;
    assert_eq!(headers[header::CONTENT_ENCODING], "gzip");
    let mut unzipped = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&gz[..]), &mut unzipped).unwrap();
    assert_eq!(unzipped, raw);

    // Revalidation: 304 with the same ETag.
    let req = Request::get(&uri)
        .header(header::IF_NONE_MATCH, &etag)
        .body(Body::empty())
        .unwrap();
    let (status, _, body) = send(&state, req).await;
    assert_eq!(status, StatusCode::NOT_MODIFIED);
    assert!(body.is_empty());

    // Only the top level below z11.
    let (x8, y8) = tile_of(lon, lat, 8);
    let (_, _, raw8) = send(&state, get(&format!("/tiles/default/8/{x8}/{y8}.mvt"))).await;
    let names8: Vec<String> = gridmap_tiles::decode::decode_tile(&raw8)
        .unwrap()
        .into_iter()
        .map(|l| l.name)
        .filter(|n| !n.starts_with("coverage"))
        .collect();
    assert_eq!(names8, ["street", "labels"]);

    // Empty tile (the other side of the world) → 204; out of range → 400; unknown system → 404.
    let (status, _, _) = send(&state, get("/tiles/default/13/0/0.mvt")).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _, body) = send(&state, get("/tiles/default/3/8/0.mvt")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        serde_json::from_slice::<Value>(&body).unwrap()["error"]["code"],
        "bad_tile"
    );
    let (status, _, _) = send(&state, get("/tiles/default/31/0/0.mvt")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _, _) = send(&state, get("/tiles/nope/1/0/0.mvt")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Change the grids: drop every block (replace the system without them).
    let store = GpkgStore::open(&path).unwrap();
    let system = store.systems().unwrap().remove(0);
    let kept: Vec<_> = store
        .grids("default")
        .unwrap()
        .into_iter()
        .filter(|g| g.level != "block")
        .collect();
    store
        .apply(&ChangeSet {
            grids: vec![SystemGrids {
                system,
                mode: GridWriteMode::Replace,
                grids: kept,
            }],
            ..Default::default()
        })
        .unwrap();
    let st = state.clone();
    assert!(tokio::task::spawn_blocking(move || st.reload_if_changed())
        .await
        .unwrap()
        .unwrap()
        .is_some());
    let req = Request::get(&uri)
        .header(header::IF_NONE_MATCH, &etag)
        .body(Body::empty())
        .unwrap();
    let (status, headers, raw) = send(&state, req).await;
    assert_eq!(status, StatusCode::OK, "old ETag no longer matches");
    assert_ne!(headers[header::ETAG].to_str().unwrap(), etag);
    assert_eq!(
        headers[header::CACHE_CONTROL],
        "no-cache",
        "the URL names an old data version"
    );
    let layers = gridmap_tiles::decode::decode_tile(&raw).unwrap();
    let names: Vec<&str> = layers
        .iter()
        .map(|l| l.name.as_str())
        .filter(|n| !n.starts_with("coverage"))
        .collect();
    assert_eq!(names, ["street", "community", "labels"], "no stale blocks");
    // Communities without blocks are now gaps, drawn in the coverage layer.
    let coverage = layers
        .iter()
        .find(|l| l.name == "coverage")
        .expect("coverage layer after the change");
    assert!(!coverage.features.is_empty());
}
