//! Site registers end to end on the demo city: assignment at every level,
//! `GET /api/v1/grids/{code}/stats` and `/sites`, reassignment after a grid
//! import, the `sites` vector-tile layer, and `gridmap import sites`.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use axum::http::StatusCode;
use geo::Intersects;
use gridmap::http::state::ServerConfig;
use gridmap::http::AppState;
use gridmap_data::catalog::Catalog;
use gridmap_data::demo::{generate, DemoOptions};
use gridmap_data::import::{import_grids, GridImportOptions};
use gridmap_data::progress::NoProgress;
use gridmap_data::store::gpkg::GpkgStore;
use gridmap_data::store::GridStore;
use gridmap_data::{ChangeSet, Grid, Site};
use gridmap_tests::http::{get_with, Reply};
use serde_json::{json, Value};

const SYSTEM: &str = "default";

/// The 200-block demo city in a fresh GeoPackage.
fn demo_store(dir: &tempfile::TempDir) -> (GpkgStore, ChangeSet) {
    let change = generate(
        &DemoOptions {
            blocks: 200,
            seed: 1,
        },
        &NoProgress,
    )
    .expect("the demo city generates");
    let store = GpkgStore::open(dir.path().join("demo.gpkg")).expect("a new store");
    store.apply(&change).expect("the demo city is written");
    (store, change)
}

fn grids(change: &ChangeSet) -> &[Grid] {
    &change.grids[0].grids
}

/// The block a demo site was generated in (the demo records it).
fn block_of(site: &Site) -> &str {
    site.attributes["grid"]
        .as_str()
        .expect("demo sites name their block")
}

/// (kind, id) → the block each demo site was generated in.
fn blocks_by_site(sites: &[Site]) -> HashMap<(String, String), String> {
    sites
        .iter()
        .map(|s| ((s.kind.clone(), s.id.clone()), block_of(s).to_string()))
        .collect()
}

/// The block a catalog entry was generated in.
fn entry_block<'a>(
    catalog: &Catalog,
    blocks: &'a HashMap<(String, String), String>,
    i: usize,
) -> &'a str {
    let register = catalog.site_register();
    let e = &register.sites()[i];
    &blocks[&(register.kind_name(e).to_string(), e.id.to_string())]
}

/// Sites whose location lies in the grid's polygons (border included), by brute force.
fn brute_force(
    grid: &Grid,
    sites: &[Site],
) -> (BTreeMap<String, u64>, u64, BTreeSet<(String, String)>) {
    let mut counts: BTreeMap<String, u64> = sites.iter().map(|s| (s.kind.clone(), 0)).collect();
    let mut households = 0;
    let mut ids = BTreeSet::new();
    for s in sites
        .iter()
        .filter(|s| grid.geometry.intersects(&s.location))
    {
        *counts.get_mut(&s.kind).expect("every kind is counted") += 1;
        households += u64::from(s.households.unwrap_or(0));
        ids.insert((s.kind.clone(), s.id.clone()));
    }
    (counts, households, ids)
}

/// Register rows with households are for viewers: these tests are one.
const VIEWER_TOKEN: &str = "sites-test-viewer-token";

fn viewer_state(store: GpkgStore) -> AppState {
    let config = ServerConfig {
        viewer_token: Some(VIEWER_TOKEN.into()),
        ..Default::default()
    };
    AppState::with_config(std::sync::Arc::new(store), config).expect("the demo store loads")
}

/// `GET uri` as a viewer.
async fn get_raw(state: &AppState, uri: &str) -> Reply {
    let authorization = format!("Bearer {VIEWER_TOKEN}");
    get_with(state, uri, &[("authorization", authorization.as_str())]).await
}

/// `GET uri` as a viewer: the status and the body as JSON (`Null` when it is not JSON).
async fn get(state: &AppState, uri: &str) -> (StatusCode, Value) {
    let reply = get_raw(state, uri).await;
    (reply.status, reply.json())
}

/// The site counts per kind and the households of each grid, from the stats endpoint.
async fn site_stats(state: &AppState, codes: &[&str]) -> Vec<(Value, u64)> {
    let mut out = Vec::new();
    for code in codes {
        let (status, body) = get(state, &format!("/api/v1/grids/{code}/stats")).await;
        assert_eq!(status, StatusCode::OK, "{code}: {body}");
        let households = body["households"].as_u64().expect("households are a count");
        out.push((body["sites"].clone(), households));
    }
    out
}

#[test]
fn every_demo_site_is_assigned_to_its_block_and_the_blocks_ancestors() {
    let dir = tempfile::tempdir().unwrap();
    let (store, change) = demo_store(&dir);
    let catalog = Catalog::load(&store).unwrap();
    assert_eq!(catalog.sites().len(), change.sites.len());
    assert!(catalog.sites().len() > 2000, "{}", catalog.sites().len());
    let system = catalog.system(SYSTEM).unwrap();
    let blocks = blocks_by_site(&change.sites);
    for (i, site) in catalog.sites().iter().enumerate() {
        let mut chain = vec![entry_block(&catalog, &blocks, i).to_string()];
        while let Some(parent) = system.grid(chain.last().unwrap()).unwrap().parent.clone() {
            chain.push(parent);
        }
        chain.reverse();
        assert_eq!(chain.len(), 3);
        let hits = catalog.site_assignment(SYSTEM, i).unwrap();
        let got: Vec<&str> = hits
            .iter()
            .map(|h| {
                system.grids()[h.expect("assigned at every level").grid]
                    .code
                    .as_str()
            })
            .collect();
        assert_eq!(got, chain, "site {}/{}", site.kind, site.id);
        let stored = change
            .sites
            .iter()
            .find(|s| *s.id == *site.id && s.kind == catalog.site_register().kind_name(site))
            .unwrap();
        assert_eq!(
            (site.lon, site.lat, site.households),
            (stored.location.x(), stored.location.y(), stored.households)
        );
        assert!(
            hits.iter().all(|h| !h.unwrap().on_border),
            "demo sites are strictly inside"
        );
    }
    assert_eq!(catalog.site_assignment(SYSTEM, catalog.sites().len()), None);
    assert_eq!(catalog.site_assignment("nope", 0), None);
}

#[tokio::test]
async fn stats_endpoint_matches_a_brute_force_count() {
    let dir = tempfile::tempdir().unwrap();
    let (store, change) = demo_store(&dir);
    let sites = store.sites(None).unwrap();
    let state = viewer_state(store);
    let all = grids(&change);
    // Every street and community, and every fifth block.
    let checked: Vec<&Grid> = all
        .iter()
        .filter(|g| g.level != "block")
        .chain(all.iter().filter(|g| g.level == "block").step_by(5))
        .collect();
    for g in checked {
        let (status, body) = get(
            &state,
            &format!("/api/v1/grids/{}/stats?system={SYSTEM}", g.code),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let (counts, households, _) = brute_force(g, &sites);
        assert_eq!(body["sites"], json!(counts), "grid {}", g.code);
        assert_eq!(body["households"], households, "grid {}", g.code);
        assert_eq!(
            (
                body["code"].as_str(),
                body["level"].as_str(),
                body["system"].as_str()
            ),
            (Some(g.code.as_str()), Some(g.level.as_str()), Some(SYSTEM))
        );
        let children = body["children"].as_array().unwrap();
        let expected: Vec<&Grid> = all
            .iter()
            .filter(|c| c.parent.as_deref() == Some(&g.code))
            .collect();
        assert_eq!(children.len(), expected.len());
        for (c, e) in children.iter().zip(&expected) {
            assert_eq!(c["code"], e.code.as_str());
            assert_eq!(
                c["households"],
                brute_force(e, &sites).1,
                "child {}",
                e.code
            );
        }
        // The demo partition has no gaps, so children add up to the parent.
        if !children.is_empty() {
            let sum: u64 = children
                .iter()
                .map(|c| c["households"].as_u64().unwrap())
                .sum();
            assert_eq!(sum, households);
        }
    }
    let (status, body) = get(&state, "/api/v1/grids/999/stats").await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("unknown_grid"))
    );
    let (status, body) = get(
        &state,
        &format!("/api/v1/grids/{}/stats?system=nope", all[0].code),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("unknown_system"))
    );
}

#[tokio::test]
async fn sites_endpoint_pages_filters_and_rejects_bad_parameters() {
    let dir = tempfile::tempdir().unwrap();
    let (store, change) = demo_store(&dir);
    let sites = store.sites(None).unwrap();
    let state = viewer_state(store);
    let community = grids(&change)
        .iter()
        .find(|g| g.level == "community")
        .unwrap();
    let (_, _, expected) = brute_force(community, &sites);
    let base = format!("/api/v1/grids/{}/sites", community.code);
    let mut got = Vec::new();
    let mut offset = 0;
    loop {
        let (status, body) = get(&state, &format!("{base}?limit=37&offset={offset}")).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["total"], expected.len());
        let page = body["sites"].as_array().unwrap();
        assert!(page.len() <= 37);
        if page.is_empty() {
            break;
        }
        for s in page {
            assert_eq!(s["on_border"], false);
            let lon = s["lon"].as_f64().unwrap();
            let lat = s["lat"].as_f64().unwrap();
            assert!(community
                .geometry
                .intersects(&geo_types::Point::new(lon, lat)));
            got.push((
                s["kind"].as_str().unwrap().to_string(),
                s["id"].as_str().unwrap().to_string(),
            ));
        }
        offset += page.len();
    }
    assert_eq!(got.len(), expected.len(), "no duplicates across pages");
    assert_eq!(got.iter().cloned().collect::<BTreeSet<_>>(), expected);
    let mut sorted = got.clone();
    sorted.sort();
    assert_eq!(got, sorted, "kind then id order");
    // One kind.
    let (_, body) = get(&state, &format!("{base}?kind=address&limit=10000")).await;
    let addresses = expected.iter().filter(|(k, _)| k == "address").count();
    assert_eq!(body["total"], addresses);
    let page = body["sites"].as_array().unwrap();
    assert_eq!(page.len(), addresses);
    assert!(page
        .iter()
        .all(|s| s["kind"] == "address" && s["households"].as_u64().unwrap() > 0));
    let (_, body) = get(&state, &format!("{base}?kind=school&limit=10000")).await;
    assert_eq!(
        body["total"],
        expected.iter().filter(|(k, _)| k == "school").count()
    );
    let (status, body) = get(&state, &format!("{base}?kind=pharmacy")).await;
    assert_eq!((status, body["total"].as_u64()), (StatusCode::OK, Some(0)));
    // Bad parameters.
    for bad in [
        "kind=Bad-Kind",
        "limit=0",
        "limit=10001",
        "limit=ten",
        "offset=-1",
    ] {
        let (status, body) = get(&state, &format!("{base}?{bad}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
        assert_eq!(body["error"]["code"], "bad_parameter", "{bad}");
    }
    let (status, _) = get(&state, "/api/v1/grids/000/sites").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

/// A grid as a GeoJSON Feature, for re-import.
fn feature(g: &Grid, geometry: &geo_types::MultiPolygon<f64>) -> Value {
    let ring =
        |r: &geo_types::LineString<f64>| r.coords().map(|c| json!([c.x, c.y])).collect::<Vec<_>>();
    let polys: Vec<Value> = geometry
        .0
        .iter()
        .map(|p| {
            json!(std::iter::once(p.exterior())
                .chain(p.interiors())
                .map(ring)
                .collect::<Vec<_>>())
        })
        .collect();
    json!({"type": "Feature",
           "properties": {"code": g.code, "name": g.name, "level": g.level, "parent": g.parent},
           "geometry": {"type": "MultiPolygon", "coordinates": polys}})
}

#[tokio::test]
async fn sites_are_reassigned_when_grids_change() {
    let dir = tempfile::tempdir().unwrap();
    let (store, change) = demo_store(&dir);
    let sites = store.sites(None).unwrap();
    let state = viewer_state(store);
    // Two sibling blocks with different household totals swap their geometry.
    let blocks: Vec<&Grid> = grids(&change)
        .iter()
        .filter(|g| g.level == "block")
        .collect();
    let x = blocks[0];
    let y = *blocks[1..]
        .iter()
        .find(|b| b.parent == x.parent && brute_force(b, &sites).1 != brute_force(x, &sites).1)
        .expect("a sibling with other totals");
    let codes = [
        x.code.as_str(),
        y.code.as_str(),
        x.parent.as_deref().unwrap(),
    ];
    let before = site_stats(&state, &codes).await;
    assert_ne!(before[0], before[1]);
    let file = dir.path().join("swap.geojson");
    let fc = json!({"type": "FeatureCollection", "features": [feature(x, &y.geometry), feature(y, &x.geometry)]});
    std::fs::write(&file, fc.to_string()).unwrap();
    import_grids(
        state.store(),
        &file,
        &GridImportOptions::new(SYSTEM),
        &NoProgress,
    )
    .unwrap();
    assert!(state.reload_if_changed().unwrap().is_some());
    let after = site_stats(&state, &codes).await;
    assert_eq!(after[0], before[1], "x has y's sites");
    assert_eq!(after[1], before[0], "y has x's sites");
    assert_eq!(after[2], before[2], "their parent is unchanged");
    // A site generated in x is now assigned to y.
    let catalog = state.catalog();
    let system = catalog.system(SYSTEM).unwrap();
    let blocks = blocks_by_site(&sites);
    let i = (0..catalog.sites().len())
        .find(|&i| entry_block(&catalog, &blocks, i) == x.code)
        .unwrap();
    let hit = catalog.site_assignment(SYSTEM, i).unwrap()[2].unwrap();
    assert_eq!(system.grids()[hit.grid].code, y.code);
}

#[tokio::test]
async fn sites_layer_appears_from_z15() {
    use gridmap_tiles::decode::decode_tile;
    use gridmap_tiles::tile::tile_for_lonlat;
    use gridmap_tiles::PropValue;
    let dir = tempfile::tempdir().unwrap();
    let (store, change) = demo_store(&dir);
    let state = viewer_state(store);
    let address = change.sites.iter().find(|s| s.kind == "address").unwrap();
    let (lon, lat) = (address.location.x(), address.location.y());
    let layers = |bytes: &[u8]| decode_tile(bytes).unwrap();
    let t15 = tile_for_lonlat(lon, lat, 15).unwrap();
    let z15 = get_raw(
        &state,
        &format!("/tiles/{SYSTEM}/15/{}/{}.mvt", t15.x, t15.y),
    )
    .await;
    assert_eq!(z15.status, StatusCode::OK);
    let decoded = layers(&z15.body);
    let sites = decoded
        .iter()
        .find(|l| l.name == "sites")
        .expect("sites layer at z15");
    assert!(
        decoded.iter().any(|l| l.name == "block"),
        "grid layers are still there"
    );
    let f = sites
        .features
        .iter()
        .find(|f| {
            f.properties
                .contains(&("id".to_string(), PropValue::String(address.id.clone())))
        })
        .expect("the address is in its tile");
    assert_eq!(f.geom_type, 1);
    assert_eq!(
        f.id,
        Some(gridmap::tileset::site_feature_id("address", &address.id))
    );
    assert!(f
        .properties
        .contains(&("kind".to_string(), PropValue::String("address".into()))));
    assert!(f
        .properties
        .contains(&("name".to_string(), PropValue::String(address.name.clone()))));
    // Tiles are public: no household counts, even for a viewer.
    assert!(address.households.is_some());
    assert!(f.properties.iter().all(|(k, _)| k != "households"));
    let t14 = tile_for_lonlat(lon, lat, 14).unwrap();
    let z14 = get_raw(
        &state,
        &format!("/tiles/{SYSTEM}/14/{}/{}.mvt", t14.x, t14.y),
    )
    .await;
    assert_eq!(z14.status, StatusCode::OK);
    assert!(
        !layers(&z14.body).iter().any(|l| l.name == "sites"),
        "no sites layer at z14"
    );
    let (_, tilejson) = get(&state, &format!("/tiles/{SYSTEM}.json")).await;
    let entry = tilejson["vector_layers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["id"] == "sites")
        .cloned();
    assert_eq!(entry.unwrap()["minzoom"], 15);
}

#[test]
fn cli_import_sites_writes_and_rejects() {
    use gridmap::cli::{DbArg, ImportCommand, ImportSitesArgs};
    let dir = tempfile::tempdir().unwrap();
    let (store, change) = demo_store(&dir);
    drop(store);
    let db = dir.path().join("demo.gpkg");
    let block = grids(&change).iter().find(|g| g.level == "block").unwrap();
    let inside = change
        .sites
        .iter()
        .find(|s| block_of(s) == block.code)
        .unwrap()
        .location;
    let file = dir.path().join("pharmacies.csv");
    std::fs::write(
        &file,
        format!(
            "id,name,lon,lat,phone\nP1,药店,{},{},0571-1\nP2,远处药店,100.0,20.0,\n",
            inside.x(),
            inside.y()
        ),
    )
    .unwrap();
    let args = |file: &std::path::Path, kind: &str| ImportSitesArgs {
        file: file.to_path_buf(),
        kind: kind.into(),
        crs: None,
        system: None,
        replace: false,
        db: DbArg {
            db: db.display().to_string(),
        },
    };
    gridmap::commands::import::run(&ImportCommand::Sites(args(&file, "pharmacy"))).unwrap();
    let store = GpkgStore::open(&db).unwrap();
    let stored = store.sites(Some("pharmacy")).unwrap();
    assert_eq!(stored.len(), 2);
    assert_eq!(stored[0].attributes["phone"], "0571-1");
    let catalog = Catalog::load(&store).unwrap();
    let system = catalog.system(SYSTEM).unwrap();
    let g = system.grid_index(&block.code).unwrap();
    assert_eq!(
        catalog.grid_site_stats(SYSTEM, g).unwrap().sites["pharmacy"],
        1
    );
    drop(store);
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "id,lon,lat\nP3,120.1,30.2\nP3,120.1,30.2\n").unwrap();
    let e =
        gridmap::commands::import::run(&ImportCommand::Sites(args(&bad, "pharmacy"))).unwrap_err();
    assert!(
        format!("{e:#}").contains("line 3 (id P3): duplicate id P3 (also line 2)"),
        "{e:#}"
    );
    let e =
        gridmap::commands::import::run(&ImportCommand::Sites(args(&file, "Pharmacy"))).unwrap_err();
    assert!(
        format!("{e:#}").starts_with("invalid site kind: site kind `Pharmacy` may only contain"),
        "{e:#}"
    );
}

/// Load time with about a million sites. Run with
/// `gridmap demo --out /tmp/big.gpkg --blocks 100000` first, then
/// `GRIDMAP_BIG_DB=/tmp/big.gpkg cargo test --release -p gridmap-tests --test sites -- --ignored --nocapture`.
#[test]
#[ignore = "needs a big demo store (see the doc comment)"]
fn big_demo_catalog_load_time() {
    use gridmap_data::sites::SiteRegister;
    use std::time::Instant;
    let path = std::env::var("GRIDMAP_BIG_DB").unwrap_or_else(|_| "/tmp/big.gpkg".into());
    let store = GpkgStore::open(&path).unwrap();
    let t = Instant::now();
    let catalog = Catalog::load(&store).unwrap();
    let load = t.elapsed();
    let t = Instant::now();
    let sites = store.sites(None).unwrap();
    let read = t.elapsed();
    let blocks = blocks_by_site(&sites);
    let t = Instant::now();
    let register = SiteRegister::build(sites, catalog.systems());
    let assign = t.elapsed();
    let system = catalog.system(SYSTEM).unwrap();
    let n = catalog.sites().len();
    println!(
        "{n} sites, {} grids: Catalog::load {load:.2?} (of which reading sites {read:.2?}, assigning {assign:.2?})",
        system.grids().len()
    );
    for (i, site) in catalog.sites().iter().enumerate() {
        let hits = catalog.site_assignment(SYSTEM, i).unwrap();
        let block = hits[2].expect("every demo site is in a block");
        assert_eq!(
            system.grids()[block.grid].code,
            entry_block(&catalog, &blocks, i),
            "site {}",
            site.id
        );
        assert!(hits.iter().all(Option::is_some));
    }
    assert_eq!(register.sites().len(), n);
    drop((register, blocks));
    let text: usize = catalog
        .sites()
        .iter()
        .map(|e| e.id.len() + e.name.len() + e.address.as_ref().map_or(0, |a| a.len()))
        .sum();
    let entries = std::mem::size_of_val(catalog.sites());
    println!(
        "site entries: {} MB structs + {} MB text; assignment ≈ {} MB per system",
        entries >> 20,
        text >> 20,
        (n * 3 * 8) >> 20
    );
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    for line in status
        .lines()
        .filter(|l| l.starts_with("VmHWM") || l.starts_with("VmRSS"))
    {
        println!(
            "{line} (one catalog alive; the peak includes a second copy and the Vec<Site> read)"
        );
    }
}
