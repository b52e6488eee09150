//! The editing API over HTTP on the demo city: accounts and roles (401/403),
//! every edit with its refusals (422, proposal unchanged), the impact
//! against GEOS (shapely) computing which sites change grid, submit and
//! publish, per-grid conflicts (409) and rebasing, history, `?at=`, revert.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

use axum::http::StatusCode;
use geo::{BoundingRect, Centroid, InteriorPoint};
use geo_types::Coord;
use gridmap_data::accounts::Role;
use gridmap_data::demo::{generate, DemoOptions};
use gridmap_data::progress::NoProgress;
use gridmap_data::store::gpkg::GpkgStore;
use gridmap_data::store::GridStore;
use gridmap_data::Grid;
use gridmap_tests::editing::{assert_error, changed_codes, Editors};
use gridmap_tests::http::{get, post};
use serde_json::{json, Value};

const SYSTEM: &str = "default";

/// The demo city (200 blocks) with one account per role.
fn city() -> Editors {
    let dir = tempfile::tempdir().expect("a temp dir");
    let store = GpkgStore::open(dir.path().join("demo.gpkg")).expect("a new store");
    store
        .apply(
            &generate(
                &DemoOptions {
                    blocks: 200,
                    seed: 3,
                },
                &NoProgress,
            )
            .expect("the demo city"),
        )
        .expect("written");
    Editors::new(store, SYSTEM, Some(dir))
}

fn blocks(c: &Editors) -> Vec<Grid> {
    let catalog = c.state.catalog();
    catalog
        .system(SYSTEM)
        .expect("the demo system")
        .grids()
        .iter()
        .filter(|g| g.level == "block")
        .cloned()
        .collect()
}

fn vertices(g: &Grid) -> Vec<Coord<f64>> {
    g.geometry
        .0
        .iter()
        .flat_map(|p| p.exterior().0.iter().copied())
        .collect()
}

fn key(c: Coord<f64>) -> (u64, u64) {
    (c.x.to_bits(), c.y.to_bits())
}

/// Two sibling blocks and the vertices they share, the pair sharing most.
fn neighbours(blocks: &[Grid]) -> (Grid, Grid, Vec<Coord<f64>>) {
    let mut best: Option<(Grid, Grid, Vec<Coord<f64>>)> = None;
    for (i, a) in blocks.iter().enumerate() {
        let va: BTreeSet<_> = vertices(a).into_iter().map(key).collect();
        for b in &blocks[i + 1..] {
            if a.parent != b.parent {
                continue;
            }
            let shared: Vec<Coord<f64>> = vertices(b)
                .into_iter()
                .filter(|c| va.contains(&key(*c)))
                .collect();
            let mut uniq = shared.clone();
            uniq.dedup_by_key(|c| key(*c));
            if best.as_ref().is_none_or(|(_, _, s)| uniq.len() > s.len()) {
                best = Some((a.clone(), b.clone(), uniq));
            }
        }
    }
    best.expect("neighbouring blocks")
}

#[tokio::test]
async fn writes_need_an_account_and_the_right_role() {
    let c = city();
    let body = json!({"system": SYSTEM, "title": "t"});
    assert_error(
        &c.post("/api/v1/proposals", None, body.clone()).await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    );
    let forged = post(
        &c.state,
        "/api/v1/proposals",
        &[
            ("content-type", "application/json"),
            ("authorization", "Bearer gm_0000"),
        ],
        body.to_string(),
    )
    .await;
    assert_error(&forged, StatusCode::UNAUTHORIZED, "unauthorized");
    assert_error(
        &c.post("/api/v1/proposals", Some(Role::Viewer), body.clone())
            .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    let id = c.proposal("改 A").await;
    // Editors draft; only approvers publish or reject; only admins read the audit.
    let (_, _, shared) = neighbours(&blocks(&c));
    let v = shared[0];
    let moved = c
        .edit(
            id,
            json!({"op":"move_vertex","from":[v.x, v.y],"to":[v.x + 1e-6, v.y]}),
        )
        .await;
    assert_eq!(moved.status, StatusCode::OK, "{}", moved.json());
    let r = c
        .post(
            &format!("/api/v1/proposals/{id}/submit"),
            Some(Role::Editor),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json());
    assert_error(
        &c.post(
            &format!("/api/v1/proposals/{id}/publish"),
            Some(Role::Editor),
            json!({}),
        )
        .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    assert_error(
        &c.post(&format!("/api/v1/proposals/{id}/reject"), None, json!({}))
            .await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    );
    assert_error(
        &c.get("/api/v1/audit", Role::Approver).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    let audit = c.get("/api/v1/audit", Role::Admin).await;
    assert_eq!(audit.status, StatusCode::OK);
    let actions: Vec<String> = audit.json()["audit"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            format!(
                "{} {}",
                e["account"].as_str().unwrap(),
                e["action"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        actions,
        [
            "editor-1 proposal.submit",
            "editor-1 proposal.edit",
            "editor-1 proposal.create"
        ]
    );
    // The impact shows household counts: not for the public.
    assert_error(
        &get(&c.state, &format!("/api/v1/proposals/{id}/impact")).await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    );
    // A revoked account opens nothing.
    assert!(c.state.store().revoke_account("approver-1").unwrap());
    assert_error(
        &c.post(
            &format!("/api/v1/proposals/{id}/publish"),
            Some(Role::Approver),
            json!({}),
        )
        .await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    );
}

#[tokio::test]
async fn a_moved_vertex_moves_in_every_grid_that_has_it_and_bad_edits_change_nothing() {
    let c = city();
    let id = c.proposal("move a corner").await;
    let catalog = c.state.catalog();
    let index = catalog.system(SYSTEM).unwrap();
    // A vertex shared by several blocks and by their community or street.
    let (a, _, shared) = neighbours(&blocks(&c));
    let v = shared[shared.len() / 2];
    let holders: BTreeSet<String> = index
        .grids()
        .iter()
        .filter(|g| vertices(g).iter().any(|c| key(*c) == key(v)))
        .map(|g| g.code.clone())
        .collect();
    assert!(holders.len() >= 2, "{holders:?}");
    let inside = a.geometry.interior_point().unwrap();
    let to = Coord {
        x: v.x + (inside.x() - v.x) * 0.05,
        y: v.y + (inside.y() - v.y) * 0.05,
    };
    let r = c
        .edit(
            id,
            json!({"op":"move_vertex","from":[v.x, v.y],"to":[to.x, to.y]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json());
    assert_eq!(
        changed_codes(&r.json()),
        holders,
        "every grid holding the vertex, at every level"
    );
    let p = c.state.store().proposal(id).unwrap().unwrap();
    let body: gridmap_data::edit::proposal::Body = serde_json::from_value(p.body).unwrap();
    for g in body.grids.values().flatten() {
        assert!(
            vertices(g).iter().any(|c| key(*c) == key(to)),
            "{} has the new vertex bit for bit",
            g.code
        );
        assert!(
            !vertices(g).iter().any(|c| key(*c) == key(v)),
            "{} lost the old one",
            g.code
        );
    }
    // Refusals: each leaves the proposal as it was.
    let before = c
        .get(&format!("/api/v1/proposals/{id}"), Role::Viewer)
        .await
        .json();
    let nowhere = c
        .edit(
            id,
            json!({"op":"move_vertex","from":[1.0, 1.0],"to":[1.1, 1.0]}),
        )
        .await;
    assert_error(&nowhere, StatusCode::BAD_REQUEST, "bad_edit");
    // Dragging a corner far across the map breaks the shapes and the partition.
    let far = c
        .edit(
            id,
            json!({"op":"move_vertex","from":[to.x, to.y],"to":[to.x + 0.05, to.y + 0.05]}),
        )
        .await;
    assert_error(&far, StatusCode::UNPROCESSABLE_ENTITY, "rule_broken");
    let unknown_op = c.edit(id, json!({"op":"teleport","grid":a.code})).await;
    assert_error(&unknown_op, StatusCode::BAD_REQUEST, "bad_edit");
    let parent = a.parent.clone().unwrap();
    let delete_parent = c.edit(id, json!({"op":"delete","grid": parent})).await;
    assert_error(
        &delete_parent,
        StatusCode::UNPROCESSABLE_ENTITY,
        "rule_broken",
    );
    assert!(delete_parent.json()["error"]["message"]
        .as_str()
        .unwrap()
        .contains("children"));
    let overlap = c.edit(id, json!({"op":"create","grid":{"type":"Feature","properties":{"code": format!("{parent}999"),"level":"block","parent":parent},
        "geometry": geojson::Geometry::from(&a.geometry)}})).await;
    assert_error(&overlap, StatusCode::UNPROCESSABLE_ENTITY, "rule_broken");
    assert!(
        overlap.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("claimed by both"),
        "{}",
        overlap.json()
    );
    let bad_code = c
        .edit(
            id,
            json!({"op":"split","grid": a.code, "line": [[0,0],[1,1]], "codes": ["X1", "X2"]}),
        )
        .await;
    assert_eq!(
        bad_code.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        bad_code.json()
    );
    let after = c
        .get(&format!("/api/v1/proposals/{id}"), Role::Viewer)
        .await
        .json();
    assert_eq!(before, after, "refused edits left the proposal as it was");
    // A worker carries at most 1.5 grids.
    let worker = catalog.workers_of(SYSTEM, &a.code)[0].0.id.clone();
    let others: Vec<&Grid> = index
        .grids()
        .iter()
        .filter(|g| g.level == "block" && g.code != a.code)
        .take(2)
        .collect();
    let r = c
        .edit(
            id,
            json!({"op":"assign_worker","worker":worker,"grid":others[0].code,"share":0.5}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json());
    let r = c
        .edit(
            id,
            json!({"op":"assign_worker","worker":worker,"grid":others[1].code,"share":0.5}),
        )
        .await;
    assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "rule_broken");
    assert!(r.json()["error"]["message"]
        .as_str()
        .unwrap()
        .contains("at most 1.5"));
    let r = c
        .edit(
            id,
            json!({"op":"unassign_worker","worker":worker,"grid":others[0].code}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json());
    let r = c
        .edit(id, json!({"op":"update","grid":a.code,"name":"新名字网格"}))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.json()["grids"]
        .as_array()
        .unwrap()
        .iter()
        .any(|g| g["name"] == "新名字网格"));
    // A new street beside the city, then gone again: created and deleted.
    let [_, y0, x1, _] = index.bounds().unwrap();
    let square = json!({"type":"Polygon","coordinates":[[[x1 + 0.01, y0],[x1 + 0.02, y0],[x1 + 0.02, y0 + 0.01],[x1 + 0.01, y0 + 0.01],[x1 + 0.01, y0]]]});
    let r = c
        .edit(id, json!({"op":"create","grid":{"type":"Feature","properties":{"code":"330106099","name":"新街道","level":"street","note":"试点"},"geometry":square}}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json());
    assert!(changed_codes(&r.json()).contains("330106099"));
    assert_error(
        &c.edit(id, json!({"op":"create","grid":{"type":"Feature","properties":{"code":"330106099","level":"street"},"geometry":square}})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "rule_broken",
    );
    let r = c.edit(id, json!({"op":"delete","grid":"330106099"})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json());
    assert!(
        !changed_codes(&r.json()).contains("330106099"),
        "created and deleted again is no change"
    );
    // Deleting a block would leave a hole in its community.
    assert_error(
        &c.edit(id, json!({"op":"delete","grid":a.code})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "rule_broken",
    );
}

/// A line across `g` through its centroid, west to east (or south to north),
/// from just outside its bounding box.
fn crossing_line(g: &Grid, horizontal: bool) -> Vec<[f64; 2]> {
    let r = g.geometry.bounding_rect().unwrap();
    let c = g.geometry.centroid().unwrap();
    let m = 1e-4;
    if horizontal {
        vec![[r.min().x - m, c.y()], [r.max().x + m, c.y()]]
    } else {
        vec![[c.x(), r.min().y - m], [c.x(), r.max().y + m]]
    }
}

/// Which blocks hold each site before and after, by GEOS (shapely's
/// STRtree `contains` query); the sites whose block changes.
fn geos_moves(
    sites: &[(String, f64, f64)],
    before: &[Grid],
    after: &[Grid],
) -> Option<BTreeMap<String, (Option<String>, Option<String>)>> {
    let python = gridmap_tests::repo_root().join("target/test-venv/bin/python");
    if !python.exists() {
        assert!(
            std::env::var_os("GRIDMAP_REQUIRE_GDAL").is_none(),
            "scripts/test-all.sh makes target/test-venv with shapely"
        );
        eprintln!("no target/test-venv: skipping the GEOS comparison");
        return None;
    }
    let wkt = |gs: &[Grid]| -> Vec<(String, String)> {
        gs.iter()
            .map(|g| (g.code.clone(), wkt::ToWkt::wkt_string(&g.geometry)))
            .collect()
    };
    let input = json!({"sites": sites, "before": wkt(before), "after": wkt(after)});
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("impact.json");
    std::fs::write(&path, input.to_string()).unwrap();
    let script = r#"
import json, sys
import shapely
from shapely import STRtree, points, from_wkt
d = json.load(open(sys.argv[1]))
pts = points([[s[1], s[2]] for s in d["sites"]])
def owner(grids):
    codes = [c for c, _ in grids]
    tree = STRtree(from_wkt([w for _, w in grids]))
    g, p = tree.query(pts, predicate="within")
    out = [None] * len(pts)
    for gi, pi in zip(g, p):
        out[gi] = codes[pi]
    return out
b, a = owner(d["before"]), owner(d["after"])
print(json.dumps({s[0]: [x, y] for s, x, y in zip(d["sites"], b, a) if x != y}))
"#;
    let out = Command::new(&python)
        .arg("-c")
        .arg(script)
        .arg(&path)
        .output()
        .expect("python runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(serde_json::from_slice(&out.stdout).expect("json"))
}

#[tokio::test]
async fn split_merge_reshape_with_impact_equal_to_geos_then_publish_history_and_revert() {
    let c = city();
    let all_blocks = blocks(&c);
    let catalog = c.state.catalog();
    // Split: the first block a straight line cuts in two.
    let id = c.proposal("split a block").await;
    let mut split = None;
    for g in &all_blocks {
        for horizontal in [true, false] {
            let parent = g.parent.clone().unwrap();
            let codes = [format!("{parent}901"), format!("{parent}902")];
            let r = c.edit(id, json!({"op":"split","grid":g.code,"line":crossing_line(g, horizontal),"codes":codes,"names":["东片","西片"]})).await;
            if r.status == StatusCode::OK {
                split = Some((g.clone(), codes));
                break;
            }
            assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.json());
        }
        if split.is_some() {
            break;
        }
    }
    let (cut, codes) = split.expect("some block splits along a straight line");
    let impact = c
        .get(&format!("/api/v1/proposals/{id}/impact"), Role::Viewer)
        .await;
    assert_eq!(impact.status, StatusCode::OK, "{}", impact.json());
    let impact = impact.json();
    let moved: BTreeMap<String, (Option<String>, Option<String>)> = impact["sites"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                format!(
                    "{}:{}",
                    s["kind"].as_str().unwrap(),
                    s["id"].as_str().unwrap()
                ),
                (
                    s["from"].as_str().map(String::from),
                    s["to"].as_str().map(String::from),
                ),
            )
        })
        .collect();
    let register = catalog.site_register();
    let in_cut = catalog
        .sites_in_grid(
            SYSTEM,
            catalog
                .system(SYSTEM)
                .unwrap()
                .grid_index(&cut.code)
                .unwrap(),
        )
        .len();
    assert_eq!(
        moved.len(),
        in_cut,
        "every site of the split block moves to one of its halves"
    );
    assert!(moved
        .values()
        .all(|(f, t)| f.as_deref() == Some(cut.code.as_str())
            && t.as_ref().is_some_and(|t| codes.contains(t))));
    // GEOS on the same sites and blocks.
    let p: gridmap_data::edit::proposal::Body = c.body(id);
    let after: Vec<Grid> = all_blocks
        .iter()
        .filter(|g| !p.grids.contains_key(&g.code))
        .cloned()
        .chain(
            p.grids
                .values()
                .flatten()
                .filter(|g| g.level == "block")
                .cloned(),
        )
        .collect();
    let sites: Vec<(String, f64, f64)> = register
        .sites()
        .iter()
        .map(|s| (format!("{}:{}", register.kind_name(s), s.id), s.lon, s.lat))
        .collect();
    if let Some(geos) = geos_moves(&sites, &all_blocks, &after) {
        assert_eq!(moved, geos, "the impact is what GEOS computes");
    }
    let loads: BTreeMap<String, &Value> = impact["grids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| (g["code"].as_str().unwrap().to_string(), g))
        .collect();
    assert_eq!(loads[&cut.code]["change"], "deleted");
    assert_eq!(loads[&codes[0]]["change"], "created");
    let h0 = loads[&cut.code]["households_before"].as_u64().unwrap();
    let h_after: u64 = codes
        .iter()
        .map(|c| loads[c]["households_after"].as_u64().unwrap())
        .sum();
    assert_eq!(h0, h_after, "the halves share the block's households");
    assert!(
        impact["problems"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p.as_str().unwrap().contains("no gridworker")),
        "{}",
        impact["problems"]
    );
    // Tiles of the proposal draw the halves; the TileJSON points at them.
    let tj = c
        .get(&format!("/tiles/{SYSTEM}.json?proposal={id}"), Role::Viewer)
        .await
        .json();
    assert!(
        tj["tiles"][0]
            .as_str()
            .unwrap()
            .ends_with(&format!("&proposal={id}")),
        "{tj}"
    );
    let centre = cut.geometry.interior_point().unwrap();
    let t = gridmap_tiles::tile::tile_for_lonlat(centre.x(), centre.y(), 15).unwrap();
    let tile = c
        .get(
            &format!("/tiles/{SYSTEM}/15/{}/{}.mvt?proposal={id}", t.x, t.y),
            Role::Viewer,
        )
        .await;
    assert_eq!(tile.status, StatusCode::OK);
    let layers = gridmap_tiles::decode::decode_tile(&tile.body).unwrap();
    let ids: String = format!("{layers:?}");
    assert!(
        ids.contains(&codes[0]) && !ids.contains(&format!("\"{}\"", cut.code)),
        "the proposal's tile shows the halves"
    );

    assert_error(
        &get(
            &c.state,
            &format!("/tiles/{SYSTEM}/15/{}/{}.mvt?proposal={id}", t.x, t.y),
        )
        .await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    );
    assert_error(
        &get(&c.state, &format!("/api/v1/proposals/{id}")).await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    );

    // Publish: lookups answer the new grids at once; history keeps it.
    let v0 = catalog.version();
    // Two cached tiles: one on the block, one far from it.
    let [x0, y0, _, _] = catalog.system(SYSTEM).unwrap().bounds().unwrap();
    let far = gridmap_tiles::tile::tile_for_lonlat(x0 + 1e-3, y0 + 1e-3, 15).unwrap();
    for tile in [t, far] {
        let r = get(
            &c.state,
            &format!("/tiles/{SYSTEM}/15/{}/{}.mvt?v={v0}", tile.x, tile.y),
        )
        .await;
        assert!(r.status.is_success(), "{}", r.status);
    }
    let r = c.publish(id).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json());
    let v1 = r.json()["data_version"].as_u64().unwrap();
    // Only the tile the change touches left the cache.
    let cached = |tile: gridmap_tiles::TileId| {
        c.state
            .tile_cache()
            .get(&gridmap::tile_cache::TileKey {
                version: v1,
                system: SYSTEM.into(),
                z: 15,
                x: tile.x,
                y: tile.y,
            })
            .is_some()
    };
    assert!(cached(far), "a tile away from the change stays cached");
    assert!(!cached(t), "the tile on the change was dropped");
    assert!(v1 > v0);
    let here = |v: &Value| -> Vec<String> {
        v["grids"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| g["code"].as_str().unwrap().to_string())
            .collect()
    };
    let (_, sample) = moved.iter().next().unwrap().clone();
    let site = register
        .sites()
        .iter()
        .find(|s| {
            sample.1.is_some()
                && moved.keys().next() == Some(&format!("{}:{}", register.kind_name(s), s.id))
        })
        .unwrap();
    let now = get(
        &c.state,
        &format!("/api/v1/lookup?lon={}&lat={}", site.lon, site.lat),
    )
    .await
    .json();
    assert!(here(&now).contains(sample.1.as_ref().unwrap()), "{now}");
    let then = get(
        &c.state,
        &format!("/api/v1/lookup?lon={}&lat={}&at={v0}", site.lon, site.lat),
    )
    .await
    .json();
    assert!(here(&then).contains(&cut.code), "at={v0}: {then}");
    let old = get(&c.state, &format!("/api/v1/grids/{}?at={v0}", cut.code)).await;
    assert_eq!(old.status, StatusCode::OK);
    assert_eq!(
        old.json()["geometry"],
        serde_json::to_value(geojson::Geometry::from(&cut.geometry)).unwrap()
    );
    // Tiles as the city was: the block whole again; as it is: the halves.
    let tile_ids = |body: &[u8]| format!("{:?}", gridmap_tiles::decode::decode_tile(body).unwrap());
    let then_tile = get(
        &c.state,
        &format!("/tiles/{SYSTEM}/15/{}/{}.mvt?at={v0}", t.x, t.y),
    )
    .await;
    assert_eq!(then_tile.status, StatusCode::OK);
    assert!(
        tile_ids(&then_tile.body).contains(&cut.code)
            && !tile_ids(&then_tile.body).contains(&codes[0])
    );
    let now_tile = get(&c.state, &format!("/tiles/{SYSTEM}/15/{}/{}.mvt", t.x, t.y)).await;
    assert!(tile_ids(&now_tile.body).contains(&codes[0]));
    assert_error(
        &get(&c.state, &format!("/api/v1/grids/{}", cut.code)).await,
        StatusCode::NOT_FOUND,
        "unknown_grid",
    );
    assert_error(
        &get(
            &c.state,
            &format!("/api/v1/lookup?lon=120.1&lat=30.2&at={}", v1 + 5),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "bad_parameter",
    );
    // The demo was written without recorded grids: before it, nothing can be rebuilt.
    assert_error(
        &get(&c.state, "/api/v1/lookup?lon=120.1&lat=30.2&at=0").await,
        StatusCode::GONE,
        "history_unavailable",
    );
    let history = get(&c.state, &format!("/api/v1/history?system={SYSTEM}"))
        .await
        .json();
    let newest = &history["history"][0];
    assert_eq!(newest["version"], v1);
    assert_eq!(newest["author"], "approver-1");
    assert_eq!(newest["proposal"], id);
    assert_eq!(newest["before"].as_array().unwrap().len() >= 1, true);

    // A second proposal on the same block's old neighbours conflicts only where it overlaps.
    let (a, b, _) = neighbours(&blocks(&c));
    let p1 = c.proposal("rename A").await;
    let p2 = c.proposal("rename A too").await;
    let p3 = c.proposal("rename B").await;
    for (p, g, n) in [(p1, &a, "甲"), (p2, &a, "乙"), (p3, &b, "丙")] {
        let r = c
            .edit(p, json!({"op":"update","grid":g.code,"name":n}))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.json());
    }
    assert_eq!(c.publish(p1).await.status, StatusCode::OK);
    let conflict = c.publish(p2).await;
    assert_error(&conflict, StatusCode::CONFLICT, "conflict");
    assert!(conflict.json()["error"]["message"]
        .as_str()
        .unwrap()
        .contains(&a.code));
    let rebased = c.publish(p3).await;
    assert_eq!(
        rebased.status,
        StatusCode::OK,
        "an edit to another grid rebases: {}",
        rebased.json()
    );

    // Merge two siblings; a merge of non-siblings is refused.
    let pm = c.proposal("merge").await;
    let (a, b, _) = neighbours(&blocks(&c));
    let other_parent = blocks(&c)
        .into_iter()
        .find(|g| g.parent != a.parent)
        .unwrap();
    assert_error(
        &c.edit(
            pm,
            json!({"op":"merge","grids":[a.code, other_parent.code],"code":a.code}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "rule_broken",
    );
    let r = c
        .edit(
            pm,
            json!({"op":"merge","grids":[a.code, b.code],"code":a.code}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json());
    let merged = c.publish(pm).await;
    assert_eq!(merged.status, StatusCode::OK, "{}", merged.json());
    let vm = merged.json()["data_version"].as_u64().unwrap();
    assert_error(
        &get(&c.state, &format!("/api/v1/grids/{}", b.code)).await,
        StatusCode::NOT_FOUND,
        "unknown_grid",
    );
    // Revert the merge: both blocks are back, exactly.
    let r = c
        .post(
            &format!("/api/v1/history/{vm}/revert"),
            Some(Role::Approver),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json());
    let back = c.state.catalog();
    assert_eq!(back.system(SYSTEM).unwrap().grid(&b.code), Some(&b));
    // Reverting it again: the revert itself changed those grids since.
    let r = c
        .post(
            &format!("/api/v1/history/{vm}/revert"),
            Some(Role::Approver),
            json!({}),
        )
        .await;
    assert_error(&r, StatusCode::CONFLICT, "conflict");
}

#[tokio::test]
async fn reshaping_a_border_moves_it_in_both_grids_and_the_sites_follow() {
    let c = city();
    let (a, b, shared) = neighbours(&blocks(&c));
    assert!(shared.len() >= 2, "{shared:?}");
    let id = c.proposal("reshape").await;
    // Replace the stretch between two shared vertices by a line bulging into A.
    let inside = a.geometry.interior_point().unwrap();
    let mut done = false;
    for w in shared.windows(2) {
        let (p, q) = (w[0], w[1]);
        let mid = Coord {
            x: (p.x + q.x) / 2.0,
            y: (p.y + q.y) / 2.0,
        };
        let bulge = Coord {
            x: mid.x + (inside.x() - mid.x) * 0.3,
            y: mid.y + (inside.y() - mid.y) * 0.3,
        };
        let r = c.edit(id, json!({"op":"reshape_border","grids":[a.code, b.code],"line":[[p.x,p.y],[bulge.x,bulge.y],[q.x,q.y]]})).await;
        if r.status == StatusCode::OK {
            let p: gridmap_data::edit::proposal::Body =
                serde_json::from_value(c.state.store().proposal(id).unwrap().unwrap().body)
                    .unwrap();
            for code in [&a.code, &b.code] {
                let g = p.grids[code].as_ref().unwrap();
                assert!(
                    vertices(g).iter().any(|c| key(*c) == key(bulge)),
                    "{code} has the new line"
                );
            }
            done = true;
            break;
        }
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.json());
    }
    assert!(done, "one stretch of the border reshapes");
    let off = c
        .edit(
            id,
            json!({"op":"reshape_border","grids":[a.code, b.code],"line":[[0.0,0.0],[1.0,1.0]]}),
        )
        .await;
    assert_error(&off, StatusCode::UNPROCESSABLE_ENTITY, "rule_broken");
    assert!(off.json()["error"]["message"]
        .as_str()
        .unwrap()
        .contains("does not lie on the border"));
    let impact = c
        .get(&format!("/api/v1/proposals/{id}/impact"), Role::Viewer)
        .await
        .json();
    // The line bulges into A: any site that moves goes from A to B.
    for s in impact["sites"].as_array().unwrap() {
        assert_eq!(
            (s["from"].as_str(), s["to"].as_str()),
            (Some(a.code.as_str()), Some(b.code.as_str())),
            "{s}"
        );
    }
    let r = c.publish(id).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json());
}
