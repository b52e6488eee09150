//! Coverage analysis end to end: the real Zhejiang partition (no defects), the
//! planted-defect fixture against its GEOS oracle, and `GET /api/v1/coverage`.

use std::collections::BTreeMap;

use axum::http::StatusCode;
use geo::{InteriorPoint, Intersects};
use geo_types::{polygon, Geometry, MultiPolygon, Point};
use gridmap::http::AppState;
use gridmap_data::analysis::{check, CheckOptions, CoverageReport, ProblemKind};
use gridmap_data::catalog::Catalog;
use gridmap_data::geometry::area_m2;
use gridmap_data::import::read_features;
use gridmap_data::progress::NoProgress;
use gridmap_data::store::gpkg::GpkgStore;
use gridmap_data::store::GridStore;
use gridmap_data::{ChangeSet, Site};
use gridmap_tests::fixture;
use gridmap_tests::http::{get, get_json};
use serde_json::Value;

const AREA_KINDS: [ProblemKind; 3] = [
    ProblemKind::Gap,
    ProblemKind::Overlap,
    ProblemKind::Overhang,
];

fn import(dir: &tempfile::TempDir, file: &str, system: &str, levels: &[&str]) -> GpkgStore {
    let path = dir.path().join(format!("{system}.gpkg"));
    gridmap_tests::import_store(&path, &fixture(file), system, levels)
}

/// The planted-defect fixture as system `defects` (cities → districts).
fn defects(dir: &tempfile::TempDir) -> GpkgStore {
    import(
        dir,
        "defects/zhejiang-defects.geojson",
        "defects",
        &["city", "district"],
    )
}

fn run(store: &GpkgStore, system: &str) -> CoverageReport {
    let catalog = Catalog::load(store).expect("a catalog");
    check(&catalog, system, &CheckOptions::default(), &NoProgress).expect("a report")
}

#[test]
fn zhejiang_is_covered_at_every_level() {
    let dir = tempfile::tempdir().unwrap();
    let store = import(
        &dir,
        "zhejiang-admin-gcj02.geojson",
        "admin",
        &["province", "city", "district"],
    );
    let report = run(&store, "admin");
    let bad: Vec<_> = report
        .problems
        .iter()
        .filter(|p| {
            AREA_KINDS.contains(&p.kind)
                || p.kind == ProblemKind::InvalidGeometry
                || p.kind == ProblemKind::SliverGrid
        })
        .collect();
    assert!(bad.is_empty(), "{bad:#?}");
    assert_eq!(
        report.summary.grids_per_level,
        [
            ("province".into(), 1),
            ("city".into(), 11),
            ("district".into(), 90)
        ]
    );
    // No workers and no sites: every district is unstaffed, workload is not checked.
    assert_eq!(report.summary.counts["unstaffed"], 90);
    assert!(!report.summary.workload_checked);
    // Boolean operations leave only numeric noise, and little of it.
    let ignored = report.summary.ignored_below_sliver;
    assert!(ignored.area_m2 < 50.0, "{ignored:?}");
}

fn contains(g: &Geometry<f64>, p: Point<f64>) -> bool {
    g.intersects(&p)
}

#[test]
fn planted_defects_match_the_geos_oracle() {
    let dir = tempfile::tempdir().unwrap();
    let store = defects(&dir);
    let report = run(&store, "defects");
    let oracle: Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("defects/oracle.json")).unwrap())
            .unwrap();
    let expected = oracle["problems"].as_array().unwrap();
    assert!(expected.len() > 10);
    let key = |kind: &str, grids: Vec<String>| (kind.to_string(), grids);

    // Per (kind, grids): total area within 1%, and the same number of parts of at least 100 m².
    let mut oracle_sums: BTreeMap<(String, Vec<String>), (f64, usize)> = BTreeMap::new();
    for e in expected {
        let grids: Vec<String> = e["grids"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| g.as_str().unwrap().to_string())
            .collect();
        let a = e["area_m2"].as_f64().unwrap();
        let s = oracle_sums
            .entry(key(e["kind"].as_str().unwrap(), grids))
            .or_default();
        s.0 += a;
        s.1 += usize::from(a >= 100.0);
    }
    let mut ours: BTreeMap<(String, Vec<String>), (f64, usize)> = BTreeMap::new();
    for p in report
        .problems
        .iter()
        .filter(|p| AREA_KINDS.contains(&p.kind))
    {
        let a = p.area_m2.unwrap();
        let s = ours
            .entry(key(p.kind.as_str(), p.grids.clone()))
            .or_default();
        s.0 += a;
        s.1 += usize::from(a >= 100.0);
    }
    assert_eq!(
        ours.keys().collect::<Vec<_>>(),
        oracle_sums.keys().collect::<Vec<_>>()
    );
    for (k, (sum, big)) in &oracle_sums {
        let (our_sum, our_big) = ours[k];
        assert!(
            (our_sum - sum).abs() <= 0.01 * sum,
            "{k:?}: {our_sum} vs GEOS {sum}"
        );
        assert_eq!(our_big, *big, "{k:?}: parts ≥ 100 m²");
    }
    // Every part of at least 100 m² is found where GEOS put it, with its area within 1%.
    for e in expected
        .iter()
        .filter(|e| e["area_m2"].as_f64().unwrap() >= 100.0)
    {
        let pt = Point::new(
            e["point"][0].as_f64().unwrap(),
            e["point"][1].as_f64().unwrap(),
        );
        let area = e["area_m2"].as_f64().unwrap();
        let hit = report
            .problems
            .iter()
            .filter(|p| {
                p.kind.as_str() == e["kind"]
                    && serde_json::to_value(&p.grids).unwrap() == e["grids"]
            })
            .find(|p| contains(p.geometry.as_ref().unwrap(), pt))
            .unwrap_or_else(|| panic!("no problem at {e}"));
        let ours = hit.area_m2.unwrap();
        assert!((ours - area).abs() <= 0.01 * area, "{e}: ours {ours}");
        // The representative point lies in the problem polygon.
        let [x, y] = hit.location.unwrap();
        assert!(contains(hit.geometry.as_ref().unwrap(), Point::new(x, y)));
    }

    // The planted defects, by construction rather than by oracle.
    let source = read_features(&fixture("zhejiang-admin-gcj02.geojson")).unwrap();
    let binjiang = source
        .features
        .iter()
        .find(|f| f.properties["code"] == "330108")
        .unwrap();
    let binjiang = MultiPolygon::try_from(binjiang.geometry.clone().unwrap()).unwrap();
    let removed = report
        .of_kind(ProblemKind::Gap)
        .find(|p| {
            contains(
                p.geometry.as_ref().unwrap(),
                binjiang.interior_point().unwrap(),
            )
        })
        .expect("gap where 滨江区 was");
    let a = area_m2(&binjiang);
    assert!(
        (removed.area_m2.unwrap() - a).abs() < 0.01 * a,
        "{} vs {a}",
        removed.area_m2.unwrap()
    );
    assert_eq!(removed.grids, ["330100"]);
    assert_eq!(removed.level.as_deref(), Some("district"));

    let hole = polygon![(x: 120.095, y: 30.245), (x: 120.105, y: 30.245), (x: 120.105, y: 30.255), (x: 120.095, y: 30.255)];
    let hole_area = area_m2(&MultiPolygon(vec![hole]));
    let cut = report
        .of_kind(ProblemKind::Gap)
        .find(|p| contains(p.geometry.as_ref().unwrap(), Point::new(120.10, 30.25)))
        .expect("gap of the hole in 西湖区");
    assert!((cut.area_m2.unwrap() - hole_area).abs() < 0.01 * hole_area);

    let shifted_overlaps: Vec<_> = report
        .of_kind(ProblemKind::Overlap)
        .filter(|p| p.grids.contains(&"330113".to_string()))
        .collect();
    assert!(shifted_overlaps
        .iter()
        .any(|p| p.grids == ["330113", "330114"]));
    assert_eq!(
        report.of_kind(ProblemKind::Overlap).count(),
        shifted_overlaps.len(),
        "only the shifted district overlaps"
    );
    assert!(report
        .of_kind(ProblemKind::Overhang)
        .all(|p| p.grids == ["330113", "330100"]));
    assert!(report.of_kind(ProblemKind::Overhang).count() > 0);

    // Deterministic: a second run gives the same report.
    assert_eq!(run(&store, "defects"), report);
}

fn site(kind: &str, id: &str, lon: f64, lat: f64, households: Option<u32>) -> Site {
    Site {
        id: id.into(),
        kind: kind.into(),
        name: format!("{kind} {id}"),
        address: None,
        households,
        location: Point::new(lon, lat),
        attributes: Default::default(),
    }
}

#[tokio::test]
async fn coverage_endpoint_json_geojson_and_errors() {
    let dir = tempfile::tempdir().unwrap();
    let store = defects(&dir);
    // A school in 西湖区 with an internet cafe 0.001° (about 111 m) north, and a site far outside.
    store
        .apply(&ChangeSet {
            sites: vec![
                site("school", "s1", 120.13, 30.26, None),
                site("internet_cafe", "c1", 120.13, 30.261, None),
                site("food", "far", 100.0, 10.0, None),
            ],
            ..Default::default()
        })
        .unwrap();
    let state = AppState::new(store).unwrap();

    let reply = get(&state, "/api/v1/coverage").await;
    let body = reply.json();
    assert_eq!(reply.status, StatusCode::OK, "{body}");
    assert_eq!(reply.content_type(), Some("application/json"));
    assert_eq!(body["system"], "defects");
    assert_eq!(body["summary"]["thresholds"]["sliver_m2"], 1.0);
    assert_eq!(body["summary"]["counts"]["near_school"], 1);
    assert_eq!(body["summary"]["counts"]["orphan_site"], 1);
    let gaps = body["summary"]["counts"]["gap"].as_u64().unwrap();
    assert!(gaps >= 3, "{}", body["summary"]);
    let near = body["problems"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["kind"] == "near_school")
        .unwrap();
    assert_eq!(
        near["sites"],
        serde_json::json!(["internet_cafe:c1", "school:s1"])
    );
    assert_eq!(near["grids"], serde_json::json!(["330106"]));
    let d = near["distance_m"].as_f64().unwrap();
    assert!((d - 110.9).abs() < 0.5, "{d}");

    // Cached: the same answer again; GeoJSON from the same report.
    let (_, again) = get_json(&state, "/api/v1/coverage?system=defects").await;
    assert_eq!(again, body);
    let reply = get(&state, "/api/v1/coverage?system=defects&format=geojson").await;
    let fc = reply.json();
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.content_type(), Some("application/geo+json"));
    assert_eq!(fc["type"], "FeatureCollection");
    let features = fc["features"].as_array().unwrap();
    assert_eq!(
        features.len() as u64,
        body["summary"]["total"].as_u64().unwrap()
    );
    let gap = features
        .iter()
        .find(|f| f["properties"]["kind"] == "gap")
        .unwrap();
    assert_eq!(gap["geometry"]["type"], "Polygon");
    assert!(gap["properties"]["area_m2"].as_f64().unwrap() > 0.0);

    // Thresholds as parameters: a huge sliver threshold hides every polygon problem,
    // a short proximity distance the cafe.
    let (_, loose) = get_json(
        &state,
        "/api/v1/coverage?sliver_m2=1e12&proximity_m=50&households=0-10",
    )
    .await;
    assert_eq!(loose["summary"]["counts"]["gap"], 0);
    assert_eq!(loose["summary"]["counts"]["overlap"], 0);
    assert_eq!(loose["summary"]["counts"]["near_school"], 0);
    assert_eq!(loose["summary"]["thresholds"]["proximity_m"], 50.0);

    for (uri, code) in [
        ("/api/v1/coverage?system=nope", "unknown_system"),
        ("/api/v1/coverage?format=kml", "bad_parameter"),
        ("/api/v1/coverage?sliver_m2=-1", "bad_parameter"),
        ("/api/v1/coverage?households=500-300", "bad_parameter"),
        ("/api/v1/coverage?proximity_m=abc", "bad_parameter"),
    ] {
        let (status, body) = get_json(&state, uri).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}: {body}");
        assert_eq!(body["error"]["code"], code, "{uri}: {body}");
    }
}

/// A report asked for with an older catalog snapshot describes that snapshot,
/// even after the store and the server moved on (before, the report re-read
/// the store and mixed the newer sites into the older grids).
#[tokio::test]
async fn a_report_belongs_to_the_catalog_it_was_asked_for() {
    let dir = tempfile::tempdir().unwrap();
    let store = defects(&dir);
    let state = AppState::new(store).unwrap();
    let old = state.catalog();
    state
        .store()
        .apply(&ChangeSet {
            sites: vec![site("food", "far", 100.0, 10.0, None)],
            ..Default::default()
        })
        .unwrap();
    assert!(state.reload_if_changed().unwrap().is_some());
    let new = state.catalog();
    assert!(new.version() > old.version());
    let opts = CheckOptions::default();
    let old_report = state.coverage_report(&old, "defects", &opts).unwrap();
    let new_report = state.coverage_report(&new, "defects", &opts).unwrap();
    assert_eq!(old_report.catalog_version, old.version());
    assert_eq!(old_report.summary.counts["orphan_site"], 0);
    assert_eq!(new_report.catalog_version, new.version());
    assert_eq!(new_report.summary.counts["orphan_site"], 1);
}
