//! `--repair` end to end: bow-ties planted on borders that Zhejiang districts
//! share with a sibling, imported with repair into a GeoPackage, then the
//! coverage check. A repair that keeps the valid stretches of each border bit
//! for bit leaves exactly the gaps and overlaps the bow-ties themselves make,
//! the ones GEOS (`make_valid`, then the same sibling overlay) finds in
//! `data/fixtures/repair/planted-bowties.json`, written by
//! `scripts/oracles/make_repair_oracle.py`.

use geo::Intersects;
use geo_types::Point;
use gridmap_data::analysis::{check, CheckOptions, CoverageReport, Problem, ProblemKind};
use gridmap_data::catalog::Catalog;
use gridmap_data::import::{import_grids, GridImportOptions, GridImportReport};
use gridmap_data::progress::NoProgress;
use gridmap_data::store::gpkg::GpkgStore;
use gridmap_tests::fixture;
use serde_json::Value;

const AREA_KINDS: [ProblemKind; 3] = [
    ProblemKind::Gap,
    ProblemKind::Overlap,
    ProblemKind::Overhang,
];

/// The coverage check of `system` (the one place that knows `check`'s arguments).
fn coverage(store: &GpkgStore, system: &str, sliver_m2: f64) -> CoverageReport {
    let catalog = Catalog::load(store).unwrap();
    let opts = CheckOptions {
        sliver_m2,
        ..CheckOptions::default()
    };
    check(&catalog, system, &opts, &NoProgress).unwrap()
}

/// The Zhejiang partition with the oracle's vertex swaps applied, written to `dir`.
fn planted_partition(dir: &std::path::Path, oracle: &Value) -> std::path::PathBuf {
    let text = std::fs::read_to_string(fixture("zhejiang-admin-gcj02.geojson")).unwrap();
    let mut data: Value = serde_json::from_str(&text).unwrap();
    for swap in oracle["swaps"].as_array().unwrap() {
        let feature = data["features"]
            .as_array_mut()
            .unwrap()
            .iter_mut()
            .find(|f| f["properties"]["code"] == swap["code"])
            .unwrap();
        let ring = feature["geometry"]["coordinates"][swap["polygon"].as_u64().unwrap() as usize]
            [swap["ring"].as_u64().unwrap() as usize]
            .as_array_mut()
            .unwrap();
        let i = swap["vertex"].as_u64().unwrap() as usize;
        ring.swap(i, i + 1);
    }
    let path = dir.join("planted.geojson");
    std::fs::write(&path, serde_json::to_string(&data).unwrap()).unwrap();
    path
}

fn import_repaired(
    dir: &tempfile::TempDir,
    file: &std::path::Path,
) -> (GpkgStore, GridImportReport) {
    let mut store = GpkgStore::open(dir.path().join("repaired.gpkg")).unwrap();
    let opts = GridImportOptions {
        system: "admin".into(),
        levels: Some(vec!["province".into(), "city".into(), "district".into()]),
        crs: None,
        repair: true,
        replace: false,
        allow_shrink: false,
    };
    let report = import_grids(&mut store, file, &opts, &NoProgress).unwrap();
    (store, report)
}

fn grids_of(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|g| g.as_str().unwrap().to_string())
        .collect()
}

/// Whether a problem is the one GEOS lists as `expected`: same kind and grids,
/// GEOS's point inside it, area within 1 % (or 0.01 m² for the smallest).
fn same_problem(p: &Problem, expected: &Value) -> bool {
    let area = expected["area_m2"].as_f64().unwrap();
    let point = Point::new(
        expected["point"][0].as_f64().unwrap(),
        expected["point"][1].as_f64().unwrap(),
    );
    p.kind.as_str() == expected["kind"]
        && p.grids == grids_of(&expected["grids"])
        && (p.area_m2.unwrap() - area).abs() <= (0.01 * area).max(0.01)
        && p.geometry.as_ref().unwrap().intersects(&point)
}

#[test]
fn repaired_bow_ties_leave_only_the_gaps_and_overlaps_geos_finds() {
    let oracle: Value = serde_json::from_str(
        &std::fs::read_to_string(fixture("repair/planted-bowties.json")).unwrap(),
    )
    .unwrap();
    let sliver = oracle["sliver_m2"].as_f64().unwrap();
    let expected = oracle["problems"].as_array().unwrap();
    let swapped: Vec<String> = oracle["swaps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["code"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(swapped.len(), 8);

    let dir = tempfile::tempdir().unwrap();
    let planted = planted_partition(dir.path(), &oracle);
    let (store, import) = import_repaired(&dir, &planted);
    assert_eq!(import.counts.imported, 102, "{import}");
    // The report names each repaired district, its defect and the area change.
    let mut repaired: Vec<String> = import.repaired.iter().map(|r| r.code.clone()).collect();
    repaired.sort();
    let mut want = swapped.clone();
    want.sort();
    assert_eq!(repaired, want, "{import}");
    for r in &import.repaired {
        assert!(r.problem.contains("intersects itself"), "{}", r.problem);
        let change = (r.area_after_m2 - r.area_before_m2).abs();
        assert!(change < 1e4, "{}: {change} m²", r.code);
    }

    let report = coverage(&store, "admin", sliver);
    let ours: Vec<&Problem> = report
        .problems
        .iter()
        .filter(|p| AREA_KINDS.contains(&p.kind))
        .collect();
    let unexplained: Vec<_> = ours
        .iter()
        .filter(|p| !expected.iter().any(|e| same_problem(p, e)))
        .map(|p| (p.kind.as_str(), &p.grids, p.area_m2, p.location))
        .collect();
    let missed: Vec<_> = expected
        .iter()
        .filter(|e| !ours.iter().any(|p| same_problem(p, e)))
        .collect();
    println!(
        "GEOS: {} problems; ours: {} gaps, {} overlaps, {} overhangs of at least {sliver} m²; {} not in GEOS, {} of GEOS missed",
        expected.len(),
        report.of_kind(ProblemKind::Gap).count(),
        report.of_kind(ProblemKind::Overlap).count(),
        report.of_kind(ProblemKind::Overhang).count(),
        unexplained.len(),
        missed.len(),
    );
    assert!(
        unexplained.is_empty(),
        "not found by GEOS: {unexplained:#?}"
    );
    assert!(missed.is_empty(), "found by GEOS only: {missed:#?}");
    // The bow-ties do show: GEOS lists a gap and an overlap for several of them.
    assert!(expected.len() >= 8);
}
