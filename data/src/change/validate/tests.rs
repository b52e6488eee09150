use geo_types::{polygon, Polygon};

use super::*;
use crate::change::{apply, SystemGrids};
use crate::model::GridSystem;
use crate::store::gpkg::GpkgStore;
use crate::store::{GridStore, StoreError};
use crate::testutil::{grid, rect, worker};

/// The band [x0, x1] × [30, 30.01].
fn band(x0: f64, x1: f64) -> Polygon<f64> {
    rect(x0, 30.0, x1, 30.01)
}

fn system() -> GridSystem {
    GridSystem::new("t", vec!["street".into(), "block".into()])
}

/// Street S = [120, 120.02] with blocks A = [120, 120.01] and B = [120.01, 120.02].
fn street() -> Vec<Grid> {
    vec![
        grid("S", "street", None, band(120.0, 120.02)),
        grid("A", "block", Some("S"), band(120.0, 120.01)),
        grid("B", "block", Some("S"), band(120.01, 120.02)),
    ]
}

fn catalog(version: u64) -> Catalog {
    let index = SystemIndex::build(system(), street());
    Catalog::from_parts(version, [("t".to_string(), index)].into(), vec![])
}

fn merge(grids: Vec<Grid>, delete: &[&str]) -> ChangeSet {
    ChangeSet {
        base_version: Some(3),
        grids: vec![SystemGrids {
            delete: delete.iter().map(ToString::to_string).collect(),
            ..SystemGrids::merge(system(), grids)
        }],
        ..Default::default()
    }
}

fn reasons(r: Result<ValidChange, Problems>) -> Vec<String> {
    r.expect_err("the change is refused")
        .0
        .iter()
        .map(ToString::to_string)
        .collect()
}

const PARTITION: ValidateOptions = ValidateOptions {
    check_geometry: true,
    partition_tolerance_m2: Some(1.0),
    source: "change",
};

#[test]
fn a_stale_base_version_is_refused() {
    let got = reasons(validate(
        &merge(vec![], &[]),
        &catalog(4),
        &ValidateOptions::default(),
    ));
    assert_eq!(got.len(), 1);
    assert!(
        got[0].contains("made against data version 3, but validated against version 4"),
        "{got:?}"
    );
}

#[test]
fn tree_codes_and_geometry_are_checked() {
    let bow = polygon![(x: 120.0, y: 30.0), (x: 120.01, y: 30.01), (x: 120.01, y: 30.0), (x: 120.0, y: 30.01)];
    let change = merge(
        vec![
            grid("C", "block", Some("X"), band(120.0, 120.01)),
            grid("D", "block", Some("S"), bow),
            grid("D", "block", Some("S"), band(120.0, 120.01)),
        ],
        &["Q"],
    );
    let got = reasons(validate(&change, &catalog(3), &ValidateOptions::default()));
    assert!(
        got.iter()
            .any(|r| r == "Q in system `t`: no such grid to delete"),
        "{got:?}"
    );
    assert!(
        got.iter()
            .any(|r| r.starts_with("D in system `t`: invalid geometry")),
        "{got:?}"
    );
    assert!(
        got.iter().any(|r| r.contains("duplicate code D")),
        "{got:?}"
    );
    assert!(
        got.iter().any(|r| r == "C in system `t`: parent X does not exist (neither in this change nor in system `t`)"),
        "{got:?}"
    );
}

#[test]
fn deleting_a_parent_with_children_is_refused_and_a_leaf_is_deleted_with_its_assignments() {
    let got = reasons(validate(
        &merge(vec![], &["S"]),
        &catalog(3),
        &ValidateOptions::default(),
    ));
    assert!(
        got.iter()
            .any(|r| r
                .contains("S in system `t`: cannot be deleted: grid A still names it as parent")),
        "{got:?}"
    );

    let dir = tempfile::tempdir().unwrap();
    let store = GpkgStore::open(dir.path().join("t.gpkg")).unwrap();
    let worker = worker("w", "王", "t", &[("B", 1.0)]);
    store
        .apply(&ChangeSet {
            grids: vec![SystemGrids::replace(system(), street())],
            workers: vec![worker],
            ..Default::default()
        })
        .unwrap();
    let catalog = Catalog::load(&store).unwrap();
    let mut change = merge(vec![], &["B"]);
    change.base_version = Some(catalog.version());
    let valid = validate(&change, &catalog, &ValidateOptions::default()).unwrap();
    assert_eq!(valid.summaries()[0].removed, 1);
    assert_eq!(valid.summaries()[0].total, 2);
    apply(&store, &valid).unwrap();
    let codes: Vec<String> = store
        .grids("t")
        .unwrap()
        .into_iter()
        .map(|g| g.code)
        .collect();
    assert_eq!(codes, ["S", "A"]);
    assert!(
        store.workers().unwrap()[0].grids.is_empty(),
        "the assignment went with the grid"
    );
    // The same validated change again: the store has moved on.
    assert!(matches!(
        apply(&store, &valid),
        Err(StoreError::StaleBase { .. })
    ));
}

#[test]
fn in_a_partition_siblings_may_not_overlap_or_leave_gaps() {
    // A grows 0.002° into B: an overlap.
    let overlap = merge(
        vec![grid("A", "block", Some("S"), band(120.0, 120.012))],
        &[],
    );
    let got = reasons(validate(&overlap, &catalog(3), &PARTITION));
    assert_eq!(got.len(), 1, "{got:?}");
    assert!(got[0].starts_with("A,B in system `t`:"), "{got:?}");
    // Without the partition rule the same change is fine.
    assert!(validate(&overlap, &catalog(3), &ValidateOptions::default()).is_ok());
    // A shrinks: a gap in S.
    let gap = merge(
        vec![grid("A", "block", Some("S"), band(120.0, 120.008))],
        &[],
    );
    let got = reasons(validate(&gap, &catalog(3), &PARTITION));
    assert_eq!(got.len(), 1, "{got:?}");
    assert!(got[0].starts_with("S in system `t`:"), "{got:?}");
    // Moving the A|B border keeps the partition.
    let moved = merge(
        vec![
            grid("A", "block", Some("S"), band(120.0, 120.012)),
            grid("B", "block", Some("S"), band(120.012, 120.02)),
        ],
        &[],
    );
    let valid = validate(&moved, &catalog(3), &PARTITION).unwrap();
    assert_eq!(valid.summaries()[0].updated, 2);
}

#[test]
fn workers_must_name_grids_that_exist_afterwards() {
    let serving = |code: &str, share: f64| worker("w1", "李", "t", &[(code, share)]);
    let mut change = merge(vec![], &["B"]);
    change.workers = vec![serving("B", 1.0)];
    let got = reasons(validate(&change, &catalog(3), &ValidateOptions::default()));
    assert_eq!(
        got,
        ["worker w1: assigned to grid B which system `t` does not hold"]
    );
    let mut change = merge(vec![], &[]);
    change.workers = vec![serving("A", f64::NAN)];
    let got = reasons(validate(&change, &catalog(3), &ValidateOptions::default()));
    assert!(got[0].contains("must be a number above 0"), "{got:?}");
}

#[test]
fn change_sets_round_trip_through_json_for_history() {
    let change = merge(street(), &[]);
    let text = serde_json::to_string(&change).unwrap();
    let back: ChangeSet = serde_json::from_str(&text).unwrap();
    assert_eq!(back.grids[0].grids, change.grids[0].grids);
    assert_eq!(back.base_version, Some(3));
}

#[test]
fn codes_and_names_must_print_safely() {
    let bad = |code: &str, name: &str| {
        let mut g = grid(code, "block", Some("S"), band(120.0, 120.01));
        g.name = name.into();
        match validate(
            &merge(vec![g], &[]),
            &catalog(3),
            &ValidateOptions::default(),
        ) {
            Ok(_) => Vec::new(),
            Err(p) => p.0.iter().map(ToString::to_string).collect(),
        }
    };
    for (code, want) in [
        ("A\0", "control character"),
        ("A\nB", "control character"),
        ("../etc", "slashes"),
        ("a\\b", "slashes"),
    ] {
        let found = bad(code, "名");
        assert!(
            found.iter().any(|r| r.contains(want)),
            "{code:?}: {found:?}"
        );
    }
    let long = "9".repeat(1_000_000);
    let found = bad(&long, "名");
    assert!(
        found.iter().any(|r| r.contains("longer than 64")),
        "{found:?}"
    );
    assert!(
        found.iter().all(|r| r.len() < 400),
        "a megabyte code is not echoed whole"
    );
    let found = bad("A", &"名".repeat(201));
    assert!(
        found
            .iter()
            .any(|r| r.contains("grid name") && r.contains("longer than 200")),
        "{found:?}"
    );
    assert!(bad("A", "一号网格（东）").is_empty());
}
