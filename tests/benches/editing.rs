//! Editing at city scale: on the demo city (`GRIDMAP_DEMO_BLOCKS`, default
//! 100,000 blocks and about 1.6 M sites), how long an edit, its impact and
//! its publish take over the HTTP API, and when lookups answer the new
//! boundary after the publish.
//!
//! Run: `cargo bench -p gridmap-tests --bench editing`
//! (`GRIDMAP_DEMO_BLOCKS=1200` for the default demo).

use std::time::Instant;

use axum::http::StatusCode;
use geo::{BoundingRect, Centroid};
use gridmap_data::accounts::Role;
use gridmap_data::demo::{generate, DemoOptions};
use gridmap_data::progress::NoProgress;
use gridmap_data::store::gpkg::GpkgStore;
use gridmap_data::store::GridStore;
use gridmap_tests::editing::Editors;
use gridmap_tests::http::get;
use serde_json::json;

fn ms(since: Instant) -> f64 {
    (since.elapsed().as_secs_f64() * 1e4).round() / 10.0
}

#[tokio::main]
async fn main() {
    let blocks: usize = std::env::var("GRIDMAP_DEMO_BLOCKS")
        .ok()
        .map(|v| v.parse().expect("GRIDMAP_DEMO_BLOCKS is a number"))
        .unwrap_or(100_000);
    let dir = tempfile::tempdir().expect("a temp dir");
    let started = Instant::now();
    let store = GpkgStore::open(dir.path().join("demo.gpkg")).expect("a store");
    let city = generate(&DemoOptions { blocks, seed: 1 }, &NoProgress).expect("the demo city");
    let sites = city.sites.len();
    store.apply(&city).expect("written");
    drop(city);
    println!(
        "demo city: {blocks} blocks, {sites} sites, written in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let started = Instant::now();
    let c = Editors::new(store, "default", Some(dir));
    println!(
        "server state (catalog with every site placed): {:.1} s",
        started.elapsed().as_secs_f64()
    );

    // A block near the middle of the city.
    let catalog = c.state.catalog();
    let index = catalog.system("default").expect("the demo system");
    let [x0, y0, x1, y1] = index.bounds().expect("bounds");
    let (cx, cy) = ((x0 + x1) / 2.0, (y0 + y1) / 2.0);
    let mut candidates: Vec<&gridmap_data::Grid> = index
        .grids()
        .iter()
        .filter(|g| g.level == "block")
        .collect();
    candidates.sort_by(|a, b| {
        let d = |g: &gridmap_data::Grid| {
            let p = g.geometry.centroid().expect("a centroid");
            (p.x() - cx).powi(2) + (p.y() - cy).powi(2)
        };
        d(a).total_cmp(&d(b))
    });
    let id = c.proposal("split a block").await;
    let mut edit_ms = None;
    let mut cut = None;
    for g in candidates.iter().take(50) {
        let r = g.geometry.bounding_rect().expect("a bbox");
        let y = g.geometry.centroid().expect("a centroid").y();
        let parent = g.parent.clone().expect("a block has a parent");
        let codes = [format!("{parent}901"), format!("{parent}902")];
        let t = Instant::now();
        let reply = c.edit(id, json!({"op":"split","grid":g.code,"line":[[r.min().x - 1e-4, y],[r.max().x + 1e-4, y]],"codes":codes})).await;
        if reply.status == StatusCode::OK {
            edit_ms = Some(ms(t));
            cut = Some(((*g).clone(), codes));
            break;
        }
    }
    let (cut, codes) = cut.expect("a block near the middle splits");
    println!(
        "edit (split {}, judged against the whole system): {:.1} ms",
        cut.code,
        edit_ms.unwrap_or_default()
    );
    for round in ["first", "second"] {
        let t = Instant::now();
        let impact = c
            .get(&format!("/api/v1/proposals/{id}/impact"), Role::Viewer)
            .await;
        let took = ms(t);
        assert_eq!(impact.status, StatusCode::OK);
        let v = impact.json();
        println!(
            "impact ({round} call): {took:.1} ms over HTTP ({} ms computing), {} sites located again, {} change grid",
            v["ms"], v["sites_checked"], v["sites"].as_array().map_or(0, Vec::len)
        );
    }
    let moved = c
        .get(&format!("/api/v1/proposals/{id}/impact"), Role::Viewer)
        .await
        .json();
    let first = &moved["sites"][0];
    let register = catalog.site_register();
    let site = register
        .sites()
        .iter()
        .find(|s| {
            *s.id == *first["id"].as_str().expect("an id") && register.kind_name(s) == first["kind"]
        })
        .expect("the moved site");
    let (lon, lat) = (site.lon, site.lat);
    drop(catalog);
    let t = Instant::now();
    let published = c.publish(id).await;
    let total = ms(t);
    assert_eq!(published.status, StatusCode::OK, "{}", published.json());
    let v = published.json();
    println!(
        "publish: committed after {} ms, lookups on the new version after {} ms ({total:.1} ms with submit)",
        v["committed_ms"], v["served_ms"]
    );
    let answer = get(&c.state, &format!("/api/v1/lookup?lon={lon}&lat={lat}"))
        .await
        .json();
    let found: Vec<&str> = answer["grids"]
        .as_array()
        .expect("grids")
        .iter()
        .filter_map(|g| g["code"].as_str())
        .collect();
    assert!(
        codes.iter().any(|c| found.contains(&c.as_str())),
        "the lookup answers a half: {answer}"
    );
    println!("lookup after publish answers {:?}", found.last());
}
