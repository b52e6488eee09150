//! The editing API on a real partition: Zhejiang's 90 districts in 11 cities
//! (coasts, islands, borders of thousands of vertices, GCJ-02 as written).
//! A moved vertex moves in the districts, cities and province that share it;
//! a reshaped district border between two cities moves the cities' border
//! too; a district splits along a meridian and two neighbours merge, each
//! published and checked by the rules the import uses.

use std::collections::BTreeSet;

use axum::http::StatusCode;
use geo::{BoundingRect, Centroid, InteriorPoint};
use geo_types::Coord;
use gridmap_data::accounts::Role;
use gridmap_data::Grid;
use gridmap_tests::editing::{assert_error, changed_codes, Editors};
use gridmap_tests::zhejiang_store;
use serde_json::json;

fn zhejiang() -> Editors {
    let dir = tempfile::tempdir().unwrap();
    let store = zhejiang_store(&dir.path().join("zj.gpkg"));
    Editors::new(store, "admin", Some(dir))
}

fn key(c: Coord<f64>) -> (u64, u64) {
    (c.x.to_bits(), c.y.to_bits())
}

fn ring_keys(g: &Grid) -> BTreeSet<(u64, u64)> {
    g.geometry
        .0
        .iter()
        .flat_map(|p| p.exterior().0.iter().copied().map(key))
        .collect()
}

fn level(c: &Editors, level: &str) -> Vec<Grid> {
    c.state
        .catalog()
        .system("admin")
        .unwrap()
        .grids()
        .iter()
        .filter(|g| g.level == level)
        .cloned()
        .collect()
}

/// Runs of consecutive vertices of `a`'s exterior rings that `b` also has.
fn shared_runs(a: &Grid, b: &Grid) -> Vec<Vec<Coord<f64>>> {
    let kb = ring_keys(b);
    let mut runs = Vec::new();
    for p in &a.geometry.0 {
        let mut run = Vec::new();
        for c in &p.exterior().0 {
            if kb.contains(&key(*c)) {
                run.push(*c);
            } else if !run.is_empty() {
                runs.push(std::mem::take(&mut run));
            }
        }
        if !run.is_empty() {
            runs.push(run);
        }
    }
    runs
}

/// Two districts of different cities with a long common border.
fn cross_city_pair(c: &Editors) -> (Grid, Grid, Vec<Coord<f64>>) {
    let districts = level(c, "district");
    let mut best: Option<(Grid, Grid, Vec<Coord<f64>>)> = None;
    for (i, a) in districts.iter().enumerate() {
        for b in &districts[i + 1..] {
            if a.parent == b.parent {
                continue;
            }
            let Some(run) = shared_runs(a, b).into_iter().max_by_key(Vec::len) else {
                continue;
            };
            if best.as_ref().is_none_or(|(_, _, r)| run.len() > r.len()) {
                best = Some((a.clone(), b.clone(), run));
            }
        }
    }
    best.expect("districts of different cities share borders")
}

#[tokio::test]
async fn a_shared_vertex_and_a_reshaped_border_move_at_every_level() {
    let c = zhejiang();
    let (a, b, run) = cross_city_pair(&c);
    assert!(run.len() > 20, "{} shared vertices", run.len());
    let catalog = c.state.catalog();
    let index = catalog.system("admin").unwrap();
    // A vertex in the middle of the border: both districts and both cities have it.
    let v = run[run.len() / 2];
    let holders: BTreeSet<String> = index
        .grids()
        .iter()
        .filter(|g| ring_keys(g).contains(&key(v)))
        .map(|g| g.code.clone())
        .collect();
    let cities: BTreeSet<String> = [a.parent.clone().unwrap(), b.parent.clone().unwrap()].into();
    assert!(holders.is_superset(&cities), "{holders:?}");
    let id = c.proposal("挪动一个界桩").await;
    let next = run[run.len() / 2 + 1];
    let to = Coord {
        x: v.x + (next.x - v.x) * 0.25,
        y: v.y + (next.y - v.y) * 0.25,
    };
    let r = c
        .edit(
            id,
            json!({"op":"move_vertex","from":[v.x, v.y],"to":[to.x, to.y]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json());
    assert_eq!(changed_codes(&r.json()), holders);
    for g in c.body(id).grids.values().flatten() {
        assert!(
            ring_keys(g).contains(&key(to)),
            "{} has the moved vertex bit for bit",
            g.code
        );
    }
    let published = c.publish(id).await;
    assert_eq!(published.status, StatusCode::OK, "{}", published.json());

    // Reshape: a chord replaces a stretch of the border in both districts
    // and in both cities; try stretches until one keeps every shape valid.
    let (a, b, run) = cross_city_pair(&c);
    let id = c.proposal("取直一段边界").await;
    let mut reshaped = None;
    for start in (0..run.len().saturating_sub(6)).step_by(7) {
        let (p, q) = (run[start], run[start + 4]);
        let r = c.edit(id, json!({"op":"reshape_border","grids":[a.code, b.code],"line":[[p.x,p.y],[q.x,q.y]]})).await;
        if r.status == StatusCode::OK {
            reshaped = Some((r.json(), run[start + 2]));
            break;
        }
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.json());
    }
    let (reply, dropped) = reshaped.expect("some stretch of the border can be straightened");
    let changed = changed_codes(&reply);
    for code in [
        &a.code,
        &b.code,
        a.parent.as_ref().unwrap(),
        b.parent.as_ref().unwrap(),
    ] {
        assert!(
            changed.contains(code),
            "{code} follows the new border: {changed:?}"
        );
    }
    for g in c.body(id).grids.values().flatten() {
        assert!(
            !ring_keys(g).contains(&key(dropped)),
            "{} lost the straightened stretch",
            g.code
        );
    }
    assert_eq!(c.publish(id).await.status, StatusCode::OK);
    let history = c
        .get("/api/v1/history?system=admin", Role::Viewer)
        .await
        .json();
    assert_eq!(
        history["history"].as_array().unwrap().len(),
        3,
        "two edits on top of the import"
    );
    assert_eq!(history["history"][2]["kind"], "import");
}

#[tokio::test]
async fn a_district_splits_along_a_meridian_and_two_neighbours_merge() {
    let c = zhejiang();
    let districts = level(&c, "district");
    let id = c.proposal("拆分一个区").await;
    let mut split = None;
    for d in &districts {
        let r = d.geometry.bounding_rect().unwrap();
        let x = d.geometry.centroid().unwrap().x();
        let line = [[x, r.min().y - 0.01], [x, r.max().y + 0.01]];
        let codes = [format!("{}A", d.code), format!("{}B", d.code)];
        let reply = c
            .edit(
                id,
                json!({"op":"split","grid":d.code,"line":line,"codes":codes,"names":["西","东"]}),
            )
            .await;
        if reply.status == StatusCode::OK {
            split = Some((d.clone(), codes));
            break;
        }
        assert_eq!(
            reply.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            reply.json()
        );
    }
    let (d, halves) = split.expect("some district splits along its centre meridian");
    let body = c.body(id);
    let area = |g: &Grid| gridmap_data::geometry::area_m2(&g.geometry);
    let sum: f64 = halves
        .iter()
        .map(|h| area(body.grids[h].as_ref().unwrap()))
        .sum();
    assert!(
        (sum - area(&d)).abs() < 1e-6 * area(&d),
        "the halves cover the district: {sum} vs {}",
        area(&d)
    );
    assert_eq!(c.publish(id).await.status, StatusCode::OK);
    let at = c.state.catalog();
    let inside = d.geometry.interior_point().unwrap();
    let found = gridmap_tests::http::get(
        &c.state,
        &format!("/api/v1/lookup?lon={}&lat={}", inside.x(), inside.y()),
    )
    .await
    .json();
    let hit: Vec<&str> = found["grids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["code"].as_str().unwrap())
        .collect();
    assert!(halves.iter().any(|h| hit.contains(&h.as_str())), "{found}");
    assert!(at.system("admin").unwrap().grid(&d.code).is_none());

    // Merge the halves back: the district's area again.
    let id = c.proposal("合并").await;
    let r = c
        .edit(
            id,
            json!({"op":"merge","grids":[halves[0], halves[1]],"code":d.code,"name":d.name}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json());
    let merged = c.body(id).grids[&d.code].clone().unwrap();
    assert!((area(&merged) - area(&d)).abs() < 1e-6 * area(&d));
    // Districts of different cities never merge.
    let other = districts.iter().find(|o| o.parent != d.parent).unwrap();
    let refused = c
        .edit(
            id,
            json!({"op":"merge","grids":[d.code, other.code],"code":d.code}),
        )
        .await;
    assert_error(&refused, StatusCode::UNPROCESSABLE_ENTITY, "rule_broken");
    assert_eq!(c.publish(id).await.status, StatusCode::OK);
}
