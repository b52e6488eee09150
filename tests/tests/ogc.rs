//! OGC API – Features at `/ogc`: the documents, paging through `next`
//! links, `bbox` and filters against the stored grids, privacy of the site
//! registers, the errors — on the demo city in process — and GDAL's own
//! OAPIF driver reading every Zhejiang feature from a running server.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;
use std::sync::Arc;

use axum::http::StatusCode;
use geo::Intersects;
use geo_types::{coord, MultiPolygon, Rect};
use gridmap::http::state::ServerConfig;
use gridmap::http::{app, AppState};
use gridmap_data::demo::{generate, DemoOptions};
use gridmap_data::progress::NoProgress;
use gridmap_data::store::gpkg::GpkgStore;
use gridmap_data::store::GridStore;
use gridmap_data::Grid;
use gridmap_tests::http::{get, get_with, Reply};
use gridmap_tests::{gdal_available, strings_of, zhejiang_store};
use serde_json::Value;

const TOKEN: &str = "ogc-test-viewer-token";

fn demo_state(dir: &tempfile::TempDir) -> (AppState, Vec<Grid>) {
    let change = generate(
        &DemoOptions {
            blocks: 200,
            seed: 3,
        },
        &NoProgress,
    )
    .expect("demo");
    let store = GpkgStore::open(dir.path().join("demo.gpkg")).expect("a new store");
    store.apply(&change).expect("the demo city is written");
    let grids = store.grids("default").expect("grids");
    let config = ServerConfig {
        viewer_token: Some(TOKEN.into()),
        ..Default::default()
    };
    let state = AppState::with_config(Arc::new(store), config).expect("a server state");
    (state, grids)
}

async fn viewer(state: &AppState, uri: &str) -> Reply {
    get_with(state, uri, &[("authorization", &format!("Bearer {TOKEN}"))]).await
}

fn ok(reply: &Reply, uri: &str) -> Value {
    assert_eq!(
        reply.status,
        StatusCode::OK,
        "{uri}: {}",
        String::from_utf8_lossy(&reply.body)
    );
    reply.json()
}

/// The href of the link with `rel`, if any.
fn link<'a>(doc: &'a Value, rel: &str) -> Option<&'a str> {
    doc["links"]
        .as_array()?
        .iter()
        .find(|l| l["rel"] == rel)
        .and_then(|l| l["href"].as_str())
}

/// Every feature of an items URL, following `next` links (made absolute
/// for `http://localhost`, the in-process base).
async fn walk(state: &AppState, first: &str, as_viewer: bool) -> (Vec<Value>, usize) {
    let (mut features, mut uri, mut matched) = (Vec::new(), first.to_string(), None);
    for _ in 0..10_000 {
        let reply = if as_viewer {
            viewer(state, &uri).await
        } else {
            get(state, &uri).await
        };
        assert_eq!(reply.content_type(), Some("application/geo+json"), "{uri}");
        let page = ok(&reply, &uri);
        let n = page["numberMatched"].as_u64().expect("numberMatched") as usize;
        assert_eq!(
            *matched.get_or_insert(n),
            n,
            "numberMatched is the same on every page"
        );
        let got = page["features"].as_array().expect("features");
        assert_eq!(page["numberReturned"], got.len());
        features.extend(got.iter().cloned());
        match link(&page, "next") {
            Some(next) => uri = next.trim_start_matches("http://localhost").to_string(),
            None => return (features, n),
        }
    }
    panic!("more than 10,000 pages");
}

fn geometry(feature: &Value) -> MultiPolygon<f64> {
    let g: geojson::Geometry =
        serde_json::from_value(feature["geometry"].clone()).expect("GeoJSON geometry");
    match geo_types::Geometry::<f64>::try_from(g).expect("a geometry") {
        geo_types::Geometry::MultiPolygon(m) => m,
        geo_types::Geometry::Polygon(p) => MultiPolygon(vec![p]),
        other => panic!("not polygonal: {other:?}"),
    }
}

#[tokio::test]
async fn the_grids_are_collections_paged_filtered_and_exact() {
    let dir = tempfile::tempdir().unwrap();
    let (state, grids) = demo_state(&dir);

    let landing = ok(&get(&state, "/ogc").await, "/ogc");
    for rel in ["self", "service-desc", "conformance", "data"] {
        assert!(
            link(&landing, rel).is_some(),
            "landing page link {rel}: {landing}"
        );
    }
    let conformance = ok(&get(&state, "/ogc/conformance").await, "/ogc/conformance");
    let classes: Vec<&str> = conformance["conformsTo"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(classes.contains(&"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core"));
    assert!(classes.contains(&"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson"));
    let api = get(&state, "/ogc/api").await;
    assert!(api
        .content_type()
        .unwrap()
        .starts_with("application/vnd.oai.openapi+json"));
    let api = api.json();
    assert_eq!(api["openapi"], "3.0.3");
    assert!(api["paths"]["/collections/{collectionId}/items"].is_object());

    // One collection per level; the site registers only for a viewer.
    let public = ok(&get(&state, "/ogc/collections").await, "collections");
    let ids = strings_of(&public["collections"], "id");
    assert_eq!(
        ids,
        ["default.street", "default.community", "default.block"]
    );
    let full = viewer(&state, "/ogc/collections").await.json();
    let viewer_ids = strings_of(&full["collections"], "id");
    assert!(
        viewer_ids.contains(&"sites.address") && viewer_ids.contains(&"sites.school"),
        "{viewer_ids:?}"
    );
    let block = ok(
        &get(&state, "/ogc/collections/default.block").await,
        "block",
    );
    assert_eq!(
        block["crs"][0],
        "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
    );
    assert_eq!(
        block["extent"]["spatial"]["bbox"][0]
            .as_array()
            .unwrap()
            .len(),
        4
    );

    // Walking the pages gives every block once, with its stored geometry bit for bit.
    let stored: BTreeMap<&str, &Grid> = grids
        .iter()
        .filter(|g| g.level == "block")
        .map(|g| (g.code.as_str(), g))
        .collect();
    let (features, matched) = walk(
        &state,
        "/ogc/collections/default.block/items?limit=37",
        false,
    )
    .await;
    assert_eq!(matched, stored.len());
    let codes: Vec<&str> = features.iter().map(|f| f["id"].as_str().unwrap()).collect();
    assert_eq!(
        codes.iter().copied().collect::<BTreeSet<_>>().len(),
        codes.len(),
        "no feature twice"
    );
    assert_eq!(
        codes.iter().copied().collect::<BTreeSet<_>>(),
        stored.keys().copied().collect()
    );
    for f in &features {
        let g = stored[f["id"].as_str().unwrap()];
        assert_eq!(geometry(f), g.geometry, "{}", g.code);
        assert_eq!(f["properties"]["parent"].as_str(), g.parent.as_deref());
        assert_eq!(
            f["properties"]["attributes"],
            serde_json::json!({}),
            "free attributes are for viewers"
        );
    }

    // bbox: exactly the blocks whose geometry meets the box (edges count).
    let community = grids.iter().find(|g| g.level == "community").unwrap();
    let r = geo::BoundingRect::bounding_rect(&community.geometry).unwrap();
    let (w, s, e, n) = (
        r.min().x,
        r.min().y,
        r.max().x,
        (r.min().y + r.max().y) / 2.0,
    );
    let rect = Rect::new(coord! {x: w, y: s}, coord! {x: e, y: n});
    let want: BTreeSet<&str> = stored
        .values()
        .filter(|g| g.geometry.intersects(&rect))
        .map(|g| g.code.as_str())
        .collect();
    let (features, matched) = walk(
        &state,
        &format!("/ogc/collections/default.block/items?bbox={w},{s},{e},{n}&limit=5"),
        false,
    )
    .await;
    let got: BTreeSet<&str> = features.iter().map(|f| f["id"].as_str().unwrap()).collect();
    assert_eq!(got, want);
    assert_eq!(matched, want.len());

    // An equality filter: the children of one community.
    let uri = format!(
        "/ogc/collections/default.block/items?parent={}&limit=1000",
        community.code
    );
    let page = ok(&get(&state, &uri).await, &uri);
    let want: BTreeSet<&str> = stored
        .values()
        .filter(|g| g.parent.as_deref() == Some(&community.code))
        .map(|g| g.code.as_str())
        .collect();
    assert!(!want.is_empty());
    assert_eq!(
        strings_of(&page["features"], "id")
            .into_iter()
            .collect::<BTreeSet<_>>(),
        want
    );

    // One feature; its code at another level is not in this collection.
    let code = *stored.keys().next().unwrap();
    let one = ok(
        &get(
            &state,
            &format!("/ogc/collections/default.block/items/{code}"),
        )
        .await,
        code,
    );
    assert_eq!(one["properties"]["code"], code);
    assert_eq!(geometry(&one), stored[code].geometry);
    let missing = get(
        &state,
        &format!("/ogc/collections/default.street/items/{code}"),
    )
    .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.json()["error"]["code"], "unknown_feature");

    // A valid datetime keeps every feature (grids carry no time).
    let page = ok(
        &get(
            &state,
            "/ogc/collections/default.block/items?datetime=2026-01-01T00:00:00Z/..",
        )
        .await,
        "datetime",
    );
    assert_eq!(page["numberMatched"], stored.len());
}

#[tokio::test]
async fn site_registers_need_a_token_and_bad_requests_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (state, _) = demo_state(&dir);

    let public = get(&state, "/ogc/collections/sites.school/items").await;
    assert_eq!(public.status, StatusCode::UNAUTHORIZED);
    assert_eq!(public.json()["error"]["code"], "unauthorized");

    let catalog = state.catalog();
    let register = catalog.site_register();
    let schools: BTreeSet<&str> = register
        .sites()
        .iter()
        .filter(|s| register.kind_name(s) == "school")
        .map(|s| &*s.id)
        .collect();
    assert!(!schools.is_empty());
    let (features, matched) = walk(
        &state,
        "/ogc/collections/sites.school/items?limit=500",
        true,
    )
    .await;
    assert_eq!(matched, schools.len());
    let got: BTreeSet<&str> = features.iter().map(|f| f["id"].as_str().unwrap()).collect();
    assert_eq!(got, schools);
    let first = &features[0]["properties"];
    assert_eq!(first["kind"], "school");
    assert!(
        first["grid_default"].is_string(),
        "the finest grid of the school: {first}"
    );

    for (uri, status, code) in [
        (
            "/ogc/collections/nope/items",
            StatusCode::NOT_FOUND,
            "unknown_collection",
        ),
        (
            "/ogc/collections/default.block/items?colour=red",
            StatusCode::BAD_REQUEST,
            "bad_parameter",
        ),
        (
            "/ogc/collections/default.block/items?limit=0",
            StatusCode::BAD_REQUEST,
            "bad_parameter",
        ),
        (
            "/ogc/collections/default.block/items?limit=10001",
            StatusCode::BAD_REQUEST,
            "bad_parameter",
        ),
        (
            "/ogc/collections/default.block/items?bbox=1,2,3",
            StatusCode::BAD_REQUEST,
            "bad_parameter",
        ),
        (
            "/ogc/collections/default.block/items?bbox=1,5,3,2",
            StatusCode::BAD_REQUEST,
            "bad_parameter",
        ),
        (
            "/ogc/collections/default.block/items?bbox=1,2,3,nan",
            StatusCode::BAD_REQUEST,
            "bad_parameter",
        ),
        (
            "/ogc/collections/default.block/items?datetime=yesterday",
            StatusCode::BAD_REQUEST,
            "bad_parameter",
        ),
        (
            "/ogc/collections/default.block/items?bbox-crs=EPSG:3857&bbox=1,2,3,4",
            StatusCode::BAD_REQUEST,
            "bad_parameter",
        ),
        (
            "/ogc/collections/default.block/items?f=html",
            StatusCode::NOT_ACCEPTABLE,
            "not_acceptable",
        ),
        (
            "/ogc/conformance?x=1",
            StatusCode::BAD_REQUEST,
            "bad_parameter",
        ),
    ] {
        let reply = get(&state, uri).await;
        assert_eq!(reply.status, status, "{uri}");
        assert_eq!(reply.json()["error"]["code"], code, "{uri}");
    }
}

/// Runs a GDAL tool and returns its standard output; fails on an error.
fn gdal(tool: &str, args: &[&str]) -> String {
    let out = Command::new(tool)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{tool}: {e}"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && !stderr.contains("ERROR"),
        "{tool} {args:?}: {stderr}"
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn gdal_reads_every_zhejiang_feature_through_oapif() {
    if !gdal_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let store = zhejiang_store(&dir.path().join("zj.gpkg"));
    let stored = store.grids("admin").unwrap();
    let state = AppState::new(store).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("OAPIF:http://{}/ogc", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app(state)).await });

    let out = dir.path().to_path_buf();
    let (listing, layers) = tokio::task::spawn_blocking(move || {
        let listing = gdal("ogrinfo", &["-ro", "-q", &url]);
        let mut layers = BTreeMap::new();
        for level in ["province", "city", "district"] {
            let file = out.join(format!("{level}.geojson"));
            let file = file.to_str().unwrap();
            gdal(
                "ogr2ogr",
                &[
                    "-f",
                    "GeoJSON",
                    "-lco",
                    "COORDINATE_PRECISION=15",
                    file,
                    &url,
                    &format!("admin.{level}"),
                ],
            );
            layers.insert(level, std::fs::read_to_string(file).unwrap());
        }
        (listing, layers)
    })
    .await
    .unwrap();
    for level in ["admin.province", "admin.city", "admin.district"] {
        assert!(listing.contains(level), "ogrinfo lists {level}: {listing}");
    }
    for (level, text) in layers {
        let read: Value = serde_json::from_str(&text).unwrap();
        let features = read["features"].as_array().unwrap();
        let want: BTreeMap<&str, &Grid> = stored
            .iter()
            .filter(|g| g.level == level)
            .map(|g| (g.code.as_str(), g))
            .collect();
        assert_eq!(features.len(), want.len(), "{level}: every feature, once");
        for f in features {
            let code = f["properties"]["code"].as_str().expect("code");
            let g = want
                .get(code)
                .unwrap_or_else(|| panic!("{level}: unknown {code}"));
            assert_eq!(f["properties"]["name"].as_str(), Some(g.name.as_str()));
            let got = geometry(f);
            let (a, b): (Vec<_>, Vec<_>) = (
                geo::CoordsIter::coords_iter(&got).collect(),
                geo::CoordsIter::coords_iter(&g.geometry).collect(),
            );
            assert_eq!(a.len(), b.len(), "{code}: every vertex");
            let worst = a
                .iter()
                .zip(&b)
                .map(|(p, q)| (p.x - q.x).abs().max((p.y - q.y).abs()))
                .fold(0.0, f64::max);
            assert!(worst < 1e-9, "{code}: vertices moved by {worst}°");
        }
    }
}
