//! Round trips and write semantics of the GeoPackage store.

use geo_types::{polygon, MultiPolygon, Point};
use serde_json::json;

use super::*;

#[test]
fn grids_round_trip_with_holes_multipolygons_and_attributes() {
    let (_dir, store) = open_tmp();
    let with_hole = polygon!(
        exterior: [(x: 116.0, y: 39.0), (x: 116.4, y: 39.0), (x: 116.4, y: 39.4), (x: 116.0, y: 39.4), (x: 116.0, y: 39.0)],
        interiors: [
            [(x: 116.1, y: 39.1), (x: 116.2, y: 39.1), (x: 116.2, y: 39.2), (x: 116.1, y: 39.1)],
            [(x: 116.3, y: 39.3), (x: 116.35, y: 39.3), (x: 116.35, y: 39.35), (x: 116.3, y: 39.3)],
        ],
    );
    let mut street = grid(
        "110105001",
        "street",
        None,
        MultiPolygon(vec![with_hole, square(117.0, 40.0, 0.123456789)]),
    );
    street.attributes.insert("population".into(), json!(12345));
    street
        .attributes
        .insert("tags".into(), json!(["a", {"b": null, "c": 1.5}]));
    street.attributes.insert("负责人".into(), json!("李四"));
    let community = grid(
        "110105001001",
        "community",
        Some("110105001"),
        MultiPolygon(vec![square(116.0, 39.0, 0.1)]),
    );
    let mut empty = grid(
        "110105001001001",
        "block",
        Some("110105001001"),
        MultiPolygon(vec![]),
    );
    empty.attributes.clear();
    let system = GridSystem::new(
        "消防",
        vec!["street".into(), "community".into(), "block".into()],
    );
    // Given bottom-up; read back by depth then code.
    let change = ChangeSet {
        grids: vec![SystemGrids {
            system: system.clone(),
            mode: GridWriteMode::Merge,
            grids: vec![empty.clone(), community.clone(), street.clone()],
            delete: Vec::new(),
        }],
        ..Default::default()
    };
    assert_eq!(store.apply(&change).unwrap(), 1);
    assert_eq!(store.systems().unwrap(), vec![system]);
    assert_eq!(store.grids("消防").unwrap(), vec![street, community, empty]);
    assert!(matches!(store.grids("综治"), Err(StoreError::UnknownSystem(s)) if s == "综治"));
}

#[test]
fn merge_keeps_other_grids_and_replace_drops_them() {
    let (_dir, store) = open_tmp();
    let grids = tree(2); // street, 2 communities, 20 blocks
    store
        .apply(&ChangeSet {
            grids: vec![system_change("a", GridWriteMode::Replace, grids.clone())],
            ..Default::default()
        })
        .unwrap();
    store
        .apply(&ChangeSet {
            grids: vec![system_change("b", GridWriteMode::Replace, tree(1))],
            ..Default::default()
        })
        .unwrap();
    let mut renamed = grids[1].clone();
    renamed.name = "新名字".into();
    renamed.geometry = MultiPolygon(vec![square(100.0, 30.0, 1.0)]);
    store
        .apply(&ChangeSet {
            grids: vec![system_change(
                "a",
                GridWriteMode::Merge,
                vec![renamed.clone()],
            )],
            ..Default::default()
        })
        .unwrap();
    let a = store.grids("a").unwrap();
    assert_eq!(a.len(), grids.len());
    assert_eq!(a.iter().find(|g| g.code == renamed.code), Some(&renamed));

    store
        .apply(&ChangeSet {
            grids: vec![system_change(
                "a",
                GridWriteMode::Replace,
                vec![grids[0].clone()],
            )],
            ..Default::default()
        })
        .unwrap();
    assert_eq!(store.grids("a").unwrap(), vec![grids[0].clone()]);
    assert_eq!(
        store.grids("b").unwrap().len(),
        12,
        "other systems are untouched"
    );
    let names: Vec<String> = store
        .systems()
        .unwrap()
        .into_iter()
        .map(|s| s.name)
        .collect();
    assert_eq!(names, ["a", "b"]);
}

#[test]
fn workers_round_trip_and_assignments_are_replaced_per_system() {
    let (_dir, store) = open_tmp();
    let w1 = worker(
        "w1",
        &[
            ("综治", "001", 1.0),
            ("综治", "002", 0.5),
            ("消防", "009", 1.0),
        ],
    );
    let w2 = worker("w2", &[]);
    store
        .apply(&ChangeSet {
            workers: vec![w2.clone(), w1.clone()],
            ..Default::default()
        })
        .unwrap();
    assert_eq!(store.workers().unwrap(), vec![w1.clone(), w2.clone()]);

    // Re-import of the 综治 assignments: w1's 消防 grid stays, its 综治 ones are replaced.
    let mut w1b = worker("w1", &[("综治", "003", 1.0)]);
    w1b.phone = "13900000000".into();
    store
        .apply(&ChangeSet {
            workers: vec![w1b.clone()],
            worker_systems: vec!["综治".into()],
            ..Default::default()
        })
        .unwrap();
    let got = store.workers().unwrap();
    let mut expected = w1b.clone();
    expected.grids = vec![
        WorkerGrid {
            system: "消防".into(),
            code: "009".into(),
            share: 1.0,
        },
        w1b.grids[0].clone(),
    ];
    assert_eq!(got[0], expected);
    assert_eq!(got[1], w2);

    // A worker listed without grids loses its assignments in the named systems.
    store
        .apply(&ChangeSet {
            workers: vec![worker("w1", &[])],
            worker_systems: vec!["消防".into()],
            ..Default::default()
        })
        .unwrap();
    assert_eq!(
        store.workers().unwrap()[0].grids,
        vec![w1b.grids[0].clone()]
    );
}

#[test]
fn sites_round_trip_filter_and_replace_kinds() {
    let (_dir, store) = open_tmp();
    let mut a1 = site("address", "a1", 116.397_128, 39.916_527);
    a1.households = None;
    a1.address = None;
    a1.attributes.insert("楼栋".into(), json!("3号楼"));
    let a2 = site("address", "a2", 116.0, 39.0);
    let f1 = site("fire_risk", "f1", 116.5, 40.0);
    let mut nowhere = site("school", "s0", 0.0, 0.0);
    nowhere.location = Point::new(f64::NAN, f64::NAN);
    let change = ChangeSet {
        sites: vec![f1.clone(), a2.clone(), a1.clone()],
        ..Default::default()
    };
    store.apply(&change).unwrap();
    assert_eq!(
        store.sites(None).unwrap(),
        vec![a1.clone(), a2.clone(), f1.clone()]
    );
    assert_eq!(store.sites(Some("fire_risk")).unwrap(), vec![f1.clone()]);
    assert!(store.sites(Some("school")).unwrap().is_empty());

    // Replace all addresses with one, upsert the fire-risk site, add an empty-point school.
    let mut f1b = f1.clone();
    f1b.households = Some(u32::MAX);
    let a3 = site("address", "a3", 116.1, 39.1);
    store
        .apply(&ChangeSet {
            sites: vec![a3.clone(), f1b.clone(), nowhere.clone()],
            replace_site_kinds: vec!["address".into()],
            ..Default::default()
        })
        .unwrap();
    let got = store.sites(None).unwrap();
    assert_eq!(got[..2], [a3, f1b]);
    assert!(got[2].location.x().is_nan() && got[2].id == "s0");
    // Empty points do not count towards the extent.
    let max_x: f64 = store
        .writer()
        .query_row(
            "SELECT max_x FROM gpkg_contents WHERE table_name = 'sites'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(max_x, 116.5);
}

#[test]
fn data_version_grows_and_other_handles_see_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shared.gpkg");
    let writer = GpkgStore::open(&path).unwrap();
    let reader = GpkgStore::open(&path).unwrap();
    assert_eq!(reader.path(), path.as_path());
    assert_eq!(writer.data_version().unwrap(), 0);
    assert_eq!(writer.apply(&ChangeSet::default()).unwrap(), 1);
    let change = ChangeSet {
        sites: vec![site("school", "s1", 116.0, 39.0)],
        ..Default::default()
    };
    assert_eq!(writer.apply(&change).unwrap(), 2);
    assert_eq!(reader.data_version().unwrap(), 2);
    assert_eq!(reader.sites(None).unwrap().len(), 1);
    drop(writer);
    drop(reader);
    assert_eq!(GpkgStore::open(&path).unwrap().data_version().unwrap(), 2);
}

#[test]
fn open_errors_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("junk.gpkg");
    std::fs::write(
        &junk,
        b"this is not an sqlite database, just some text long enough....................",
    )
    .unwrap();
    let err = GpkgStore::open(&junk).unwrap_err();
    assert!(
        matches!(err, StoreError::Open { .. }) && err.to_string().contains("junk.gpkg"),
        "{err}"
    );

    let err = GpkgStore::open(dir.path().join("missing-dir/x.gpkg")).unwrap_err();
    assert!(err.to_string().contains("missing-dir"), "{err}");

    let newer = dir.path().join("newer.gpkg");
    drop(GpkgStore::open(&newer).unwrap());
    let conn = rusqlite::Connection::open(&newer).unwrap();
    conn.execute(
        "UPDATE gridmap_meta SET value = '1000' WHERE key = 'schema_version'",
        [],
    )
    .unwrap();
    drop(conn);
    assert!(matches!(
        GpkgStore::open(&newer),
        Err(StoreError::SchemaTooNew { found: 1000, .. })
    ));
}

#[test]
fn corrupt_rows_are_reported_with_their_key() {
    let (_dir, store) = open_tmp();
    let change = ChangeSet {
        grids: vec![system_change(
            "a",
            GridWriteMode::Replace,
            vec![grid("g1", "street", None, MultiPolygon(vec![]))],
        )],
        sites: vec![site("school", "s1", 1.0, 2.0)],
        ..Default::default()
    };
    store.apply(&change).unwrap();
    store
        .writer()
        .execute("UPDATE grids SET geom = x'00010203'", [])
        .unwrap();
    store
        .writer()
        .execute("UPDATE sites SET attributes = '[1]'", [])
        .unwrap();
    let err = store.grids("a").unwrap_err().to_string();
    assert!(
        err.contains("grids (a/g1)") && err.contains("magic"),
        "{err}"
    );
    let err = store.sites(None).unwrap_err().to_string();
    assert!(
        err.contains("sites (school/s1)") && err.contains("JSON object"),
        "{err}"
    );
}

#[test]
fn a_change_made_against_a_stale_version_is_refused_and_writes_nothing() {
    let (_dir, store) = open_tmp();
    let first = ChangeSet {
        grids: vec![system_change("a", GridWriteMode::Replace, tree(1))],
        ..Default::default()
    };
    assert_eq!(store.apply(&first).unwrap(), 1);
    // Made against version 1: applies, and moves the store to 2.
    let current = ChangeSet {
        base_version: Some(1),
        ..first.clone()
    };
    assert_eq!(store.apply(&current).unwrap(), 2);
    // Made against version 1 again: the store has moved on.
    let stale = ChangeSet {
        base_version: Some(1),
        grids: vec![system_change("b", GridWriteMode::Replace, tree(1))],
        ..Default::default()
    };
    let e = store.apply(&stale).unwrap_err();
    assert!(
        matches!(
            e,
            StoreError::StaleBase {
                base: 1,
                current: 2
            }
        ),
        "{e}"
    );
    assert!(e.to_string().contains("reload"), "{e}");
    assert_eq!(store.data_version().unwrap(), 2, "nothing written");
    assert!(store.grids("b").is_err());
}

#[test]
fn a_snapshot_is_one_version() {
    let (_dir, store) = open_tmp();
    store
        .apply(&ChangeSet {
            grids: vec![system_change("a", GridWriteMode::Replace, tree(2))],
            ..Default::default()
        })
        .unwrap();
    let snap = store.snapshot(crate::store::SnapshotParts::All).unwrap();
    assert_eq!(snap.version, 1);
    assert_eq!(snap.systems.len(), 1);
    assert_eq!(snap.systems[0].1, store.grids("a").unwrap());
}
