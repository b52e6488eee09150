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
                delete: Vec::new(),
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

async fn get_json(state: &AppState, uri: &str) -> Value {
    let (status, _, body) = send(state, get(uri)).await;
    assert_eq!(status, StatusCode::OK, "{uri}");
    serde_json::from_slice(&body).unwrap()
}

/// `minzoom` of each TileJSON vector layer by id.
fn layer_zooms(tilejson: &Value) -> std::collections::HashMap<String, u64> {
    tilejson["vector_layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["id"].as_str().unwrap().to_string(),
                l["minzoom"].as_u64().unwrap(),
            )
        })
        .collect()
}

/// The style draws every level from the zoom its TileJSON layer starts at.
fn assert_style_agrees(style: &Value, zooms: &std::collections::HashMap<String, u64>) {
    let levels = style["metadata"]["gridmap:levels"].as_array().unwrap();
    assert!(!levels.is_empty());
    for level in levels {
        let name = level["name"].as_str().unwrap();
        assert_eq!(level["minzoom"].as_u64(), Some(zooms[name]), "{name}");
        for l in style["layers"].as_array().unwrap() {
            if l["source-layer"] == name {
                assert_eq!(l["minzoom"].as_u64(), Some(zooms[name]), "{}", l["id"]);
            }
        }
    }
}

/// The first zoom of each level comes from the data: on Zhejiang the cities
/// and districts appear long before z11, and the style agrees with TileJSON.
#[tokio::test]
async fn zhejiang_levels_start_where_their_grids_are_label_sized() {
    use gridmap_data::import::{import_grids, GridImportOptions};
    let dir = tempfile::tempdir().unwrap();
    let mut store = GpkgStore::open(dir.path().join("zj.gpkg")).unwrap();
    let mut opts = GridImportOptions::new("admin");
    opts.levels = Some(vec!["province".into(), "city".into(), "district".into()]);
    import_grids(
        &mut store,
        &gridmap_tests::fixture("zhejiang-admin-gcj02.geojson"),
        &opts,
        &NoProgress,
    )
    .unwrap();
    let state = AppState::new(store).unwrap();
    let tj = get_json(&state, "/tiles/admin.json").await;
    let zooms = layer_zooms(&tj);
    assert_eq!(zooms["province"], 0);
    assert!((6..=7).contains(&zooms["city"]), "{zooms:?}");
    assert!((8..=9).contains(&zooms["district"]), "{zooms:?}");
    assert_style_agrees(&get_json(&state, "/styles/admin.json").await, &zooms);

    // At the district zoom a tile over Hangzhou carries the districts and their labels.
    let z = zooms["district"] as u8;
    let (x, y) = tile_of(120.2, 30.25, z);
    let (_, _, raw) = send(&state, get(&format!("/tiles/admin/{z}/{x}/{y}.mvt"))).await;
    let layers = gridmap_tiles::decode::decode_tile(&raw).unwrap();
    let label_levels: std::collections::BTreeSet<String> = layers
        .iter()
        .filter(|l| l.name == "labels")
        .flat_map(|l| &l.features)
        .flat_map(|f| &f.properties)
        .filter(|(k, _)| k == "level")
        .map(|(_, v)| format!("{v:?}"))
        .collect();
    assert!(layers.iter().any(|l| l.name == "district"));
    assert!(
        label_levels.iter().any(|v| v.contains("district")),
        "{label_levels:?}"
    );
    let (x, y) = tile_of(120.2, 30.25, z - 1);
    let (_, _, raw) = send(&state, get(&format!("/tiles/admin/{}/{x}/{y}.mvt", z - 1))).await;
    assert!(gridmap_tiles::decode::decode_tile(&raw)
        .unwrap()
        .iter()
        .all(|l| l.name != "district"));
}

/// On the demo city (default size) the levels start about where the old
/// fixed defaults put them; every property of its tiles is a field of its
/// layer in TileJSON.
#[tokio::test]
async fn demo_levels_start_near_the_old_defaults_and_tiles_match_tilejson() {
    let dir = tempfile::tempdir().unwrap();
    let store = GpkgStore::open(dir.path().join("demo.gpkg")).unwrap();
    store
        .apply(&generate(&DemoOptions::default(), &NoProgress).unwrap())
        .unwrap();
    let state = AppState::new(store).unwrap();
    let tj = get_json(&state, "/tiles/default.json").await;
    let zooms = layer_zooms(&tj);
    assert_eq!(zooms["street"], 0);
    assert!((11..=12).contains(&zooms["community"]), "{zooms:?}");
    assert!((13..=14).contains(&zooms["block"]), "{zooms:?}");
    assert_style_agrees(&get_json(&state, "/styles/default.json").await, &zooms);

    let fields: std::collections::HashMap<&str, &serde_json::Map<String, Value>> = tj
        ["vector_layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (l["id"].as_str().unwrap(), l["fields"].as_object().unwrap()))
        .collect();
    let b = tj["bounds"].as_array().unwrap();
    let (lon, lat) = (
        (b[0].as_f64().unwrap() + b[2].as_f64().unwrap()) / 2.0,
        (b[1].as_f64().unwrap() + b[3].as_f64().unwrap()) / 2.0,
    );
    let mut seen = std::collections::BTreeSet::new();
    for z in [10, 12, 14, 16] {
        let (x, y) = tile_of(lon, lat, z);
        let (_, _, raw) = send(&state, get(&format!("/tiles/default/{z}/{x}/{y}.mvt"))).await;
        for layer in gridmap_tiles::decode::decode_tile(&raw).unwrap() {
            let known = fields
                .get(layer.name.as_str())
                .unwrap_or_else(|| panic!("layer {} not in TileJSON", layer.name));
            assert!(u64::from(z) >= zooms[&layer.name], "{} at z{z}", layer.name);
            for f in &layer.features {
                for (k, _) in &f.properties {
                    assert!(known.contains_key(k), "{}.{k} not in TileJSON", layer.name);
                }
            }
            seen.insert(layer.name);
        }
    }
    for l in ["street", "community", "block", "labels", "sites"] {
        assert!(seen.contains(l), "{seen:?}");
    }
}
