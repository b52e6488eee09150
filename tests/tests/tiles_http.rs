//! Tile serving over HTTP: TileJSON, caching headers, gzip, empty and bad
//! tiles, and invalidation the moment the grids change.

use std::collections::HashMap;

use axum::http::{header, StatusCode};
use gridmap::http::AppState;
use gridmap_data::demo::{generate, DemoOptions};
use gridmap_data::progress::NoProgress;
use gridmap_data::store::gpkg::GpkgStore;
use gridmap_data::store::GridStore;
use gridmap_data::{ChangeSet, GridWriteMode, SystemGrids};
use gridmap_tests::http::{get, get_json, get_with, Reply};
use gridmap_tests::strings_of;
use gridmap_tiles::decode::{decode_tile, DecodedLayer};
use serde_json::Value;

fn demo_state(dir: &tempfile::TempDir) -> (AppState, std::path::PathBuf) {
    let path = dir.path().join("demo.gpkg");
    let store = GpkgStore::open(&path).expect("a new store");
    let city = generate(
        &DemoOptions {
            blocks: 200,
            seed: 3,
        },
        &NoProgress,
    )
    .expect("the demo city");
    store.apply(&city).expect("the demo city is written");
    (AppState::new(store).expect("a server state"), path)
}

/// The tile at zoom z containing a lon/lat point.
fn tile_of(lon: f64, lat: f64, z: u8) -> (u32, u32) {
    let t = gridmap_tiles::tile::tile_for_lonlat(lon, lat, z).expect("a lon/lat in range");
    (t.x, t.y)
}

/// The middle of a TileJSON's `bounds`.
fn center(tilejson: &Value) -> (f64, f64) {
    let bound = |i: usize| {
        tilejson["bounds"][i]
            .as_f64()
            .expect("four numbers in `bounds`")
    };
    ((bound(0) + bound(2)) / 2.0, (bound(1) + bound(3)) / 2.0)
}

/// The names of a tile's layers, leaving out the coverage layers (which a
/// tile has only where the coverage report finds problems).
fn grid_layer_names(layers: &[DecodedLayer]) -> Vec<&str> {
    layers
        .iter()
        .map(|l| l.name.as_str())
        .filter(|n| !n.starts_with("coverage"))
        .collect()
}

#[tokio::test]
async fn tilejson_tiles_caching_and_invalidation() {
    let dir = tempfile::tempdir().unwrap();
    let (state, path) = demo_state(&dir);

    let reply = get_with(&state, "/tiles", &[("host", "maps.example:8080")]).await;
    assert_eq!(reply.status, StatusCode::OK);
    let catalog = reply.json();
    assert_eq!(
        catalog["tilesets"][0]["tilejson"],
        "http://maps.example:8080/tiles/default.json"
    );

    let proxied = [
        ("host", "internal:8080"),
        ("x-forwarded-proto", "https"),
        ("x-forwarded-host", "grid.example.cn"),
        ("x-forwarded-prefix", "/gridmap"),
    ];
    let reply = get_with(&state, "/tiles/default.json", &proxied).await;
    assert_eq!(reply.status, StatusCode::OK);
    let tj = reply.json();
    assert_eq!(tj["tilejson"], "3.0.0");
    let url = tj["tiles"][0].as_str().unwrap();
    assert!(
        url.starts_with("https://grid.example.cn/gridmap/tiles/default/{z}/{x}/{y}.mvt?v="),
        "{url}"
    );
    let layers = strings_of(&tj["vector_layers"], "id");
    for l in ["street", "community", "block", "labels"] {
        assert!(layers.contains(&l), "{layers:?}");
    }
    let (lon, lat) = center(&tj);
    let version = url.rsplit("v=").next().unwrap().to_string();

    // A tile in the middle of the city at z13: all three levels and labels.
    let (x, y) = tile_of(lon, lat, 13);
    let uri = format!("/tiles/default/13/{x}/{y}.mvt?v={version}");
    let Reply {
        status,
        headers,
        body: raw,
    } = get(&state, &uri).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        headers[header::CONTENT_TYPE],
        "application/vnd.mapbox-vector-tile"
    );
    assert_eq!(headers[header::CACHE_CONTROL], "public, max-age=86400");
    assert_eq!(headers["access-control-allow-origin"], "*");
    let etag = headers[header::ETAG].to_str().unwrap().to_string();
    let decoded = decode_tile(&raw).unwrap();
    assert_eq!(
        grid_layer_names(&decoded),
        ["street", "community", "block", "labels"]
    );
    assert!(decoded[2].features.iter().all(|f| f.id.is_some()));

    // gzip when accepted, identical content.
    let gz = get_with(&state, &uri, &[("accept-encoding", "gzip, br")]).await;
    assert_eq!(gz.headers[header::CONTENT_ENCODING], "gzip");
    let mut unzipped = Vec::new();
    std::io::Read::read_to_end(
        &mut flate2::read::GzDecoder::new(&gz.body[..]),
        &mut unzipped,
    )
    .unwrap();
    assert_eq!(unzipped, raw);

    // Revalidation: 304 with the same ETag.
    let revalidated = get_with(&state, &uri, &[("if-none-match", &etag)]).await;
    assert_eq!(revalidated.status, StatusCode::NOT_MODIFIED);
    assert!(revalidated.body.is_empty());

    // Only the top level below z11.
    let (x8, y8) = tile_of(lon, lat, 8);
    let raw8 = get(&state, &format!("/tiles/default/8/{x8}/{y8}.mvt"))
        .await
        .body;
    assert_eq!(
        grid_layer_names(&decode_tile(&raw8).unwrap()),
        ["street", "labels"]
    );

    // Empty tile (the other side of the world) → 204; out of range → 400; unknown system → 404.
    let status = get(&state, "/tiles/default/13/0/0.mvt").await.status;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = get_json(&state, "/tiles/default/3/8/0.mvt").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["code"], "bad_tile");
    let status = get(&state, "/tiles/default/31/0/0.mvt").await.status;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let status = get(&state, "/tiles/nope/1/0/0.mvt").await.status;
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
    let Reply {
        status,
        headers,
        body: raw,
    } = get_with(&state, &uri, &[("if-none-match", &etag)]).await;
    assert_eq!(status, StatusCode::OK, "old ETag no longer matches");
    assert_ne!(headers[header::ETAG].to_str().unwrap(), etag);
    assert_eq!(
        headers[header::CACHE_CONTROL],
        "no-cache",
        "the URL names an old data version"
    );
    let layers = decode_tile(&raw).unwrap();
    assert_eq!(
        grid_layer_names(&layers),
        ["street", "community", "labels"],
        "no stale blocks"
    );
    // Communities without blocks are now gaps, drawn in the coverage layer.
    let coverage = layers
        .iter()
        .find(|l| l.name == "coverage")
        .expect("coverage layer after the change");
    assert!(!coverage.features.is_empty());
}

/// The TileJSON of `system` and the first zoom of each of its layers by id,
/// checking on the way that the style draws every level from there.
async fn tilejson_and_zooms(state: &AppState, system: &str) -> (Value, HashMap<String, u64>) {
    let (status, tilejson) = get_json(state, &format!("/tiles/{system}.json")).await;
    assert_eq!(status, StatusCode::OK, "{tilejson}");
    let zooms: HashMap<String, u64> = tilejson["vector_layers"]
        .as_array()
        .expect("TileJSON lists its layers")
        .iter()
        .map(|l| {
            let id = l["id"].as_str().expect("an id per layer");
            let minzoom = l["minzoom"].as_u64().expect("a minzoom per layer");
            (id.to_string(), minzoom)
        })
        .collect();
    let (status, style) = get_json(state, &format!("/styles/{system}.json")).await;
    assert_eq!(status, StatusCode::OK, "{style}");
    assert_style_agrees(&style, &zooms);
    (tilejson, zooms)
}

/// The style draws every level from the zoom its TileJSON layer starts at.
fn assert_style_agrees(style: &Value, zooms: &HashMap<String, u64>) {
    let levels = style["metadata"]["gridmap:levels"]
        .as_array()
        .expect("the style's metadata lists its levels");
    assert!(!levels.is_empty());
    for level in levels {
        let name = level["name"].as_str().expect("a level name");
        assert_eq!(level["minzoom"].as_u64(), Some(zooms[name]), "{name}");
        for l in style["layers"].as_array().expect("style layers") {
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
    let dir = tempfile::tempdir().unwrap();
    let store = gridmap_tests::zhejiang_store(&dir.path().join("zj.gpkg"));
    let state = AppState::new(store).unwrap();
    let (_, zooms) = tilejson_and_zooms(&state, "admin").await;
    assert_eq!(zooms["province"], 0);
    assert!((6..=7).contains(&zooms["city"]), "{zooms:?}");
    assert!((8..=9).contains(&zooms["district"]), "{zooms:?}");

    // At the district zoom a tile over Hangzhou carries the districts and their labels.
    let z = zooms["district"] as u8;
    let (x, y) = tile_of(120.2, 30.25, z);
    let raw = get(&state, &format!("/tiles/admin/{z}/{x}/{y}.mvt"))
        .await
        .body;
    let layers = decode_tile(&raw).unwrap();
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
    let raw = get(&state, &format!("/tiles/admin/{}/{x}/{y}.mvt", z - 1))
        .await
        .body;
    assert!(decode_tile(&raw)
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
    let (tj, zooms) = tilejson_and_zooms(&state, "default").await;
    assert_eq!(zooms["street"], 0);
    assert!((11..=12).contains(&zooms["community"]), "{zooms:?}");
    assert!((13..=14).contains(&zooms["block"]), "{zooms:?}");

    let fields: HashMap<&str, &serde_json::Map<String, Value>> = tj["vector_layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (l["id"].as_str().unwrap(), l["fields"].as_object().unwrap()))
        .collect();
    let (lon, lat) = center(&tj);
    let mut seen = std::collections::BTreeSet::new();
    for z in [10, 12, 14, 16] {
        let (x, y) = tile_of(lon, lat, z);
        let raw = get(&state, &format!("/tiles/default/{z}/{x}/{y}.mvt"))
            .await
            .body;
        for layer in decode_tile(&raw).unwrap() {
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
