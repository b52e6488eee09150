//! GeoPackage conformance, atomicity and crash tests, and the write benchmark;
//! round trips and write semantics are in [`store`]. The helpers here build
//! the data both use.

mod store;

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use geo_types::{polygon, MultiPolygon, Point, Polygon};
use serde_json::{json, Map};

use super::*;
use crate::model::{GridWriteMode, SystemGrids, WorkerGrid};

/// When set, `apply` aborts the process right before `COMMIT` (test builds only).
const CRASH_ENV: &str = "GRIDMAP_GPKG_TEST_ABORT_BEFORE_COMMIT";
const CRASH_PATH_ENV: &str = "GRIDMAP_GPKG_TEST_CRASH_PATH";

/// Called by `write::apply` inside the transaction, after every row is written.
pub(super) fn crash_hook() {
    if std::env::var_os(CRASH_ENV).is_some() {
        std::process::abort();
    }
}

fn square(x: f64, y: f64, size: f64) -> Polygon<f64> {
    polygon![(x: x, y: y), (x: x + size, y: y), (x: x + size, y: y + size), (x: x, y: y + size), (x: x, y: y)]
}

fn grid(code: &str, level: &str, parent: Option<&str>, geometry: MultiPolygon<f64>) -> Grid {
    let mut grid = Grid::new(code, level, parent, geometry).named(format!("网格{code}"));
    grid.attributes.insert("source".into(), json!("test"));
    grid
}

fn site(kind: &str, id: &str, x: f64, y: f64) -> Site {
    Site {
        id: id.into(),
        kind: kind.into(),
        name: format!("{kind} {id}"),
        address: Some(format!("{id}号")),
        households: Some(3),
        location: Point::new(x, y),
        attributes: Map::new(),
    }
}

fn system_change(system: &str, mode: GridWriteMode, grids: Vec<Grid>) -> SystemGrids {
    SystemGrids {
        system: GridSystem::with_default_levels(system),
        mode,
        grids,
        delete: Vec::new(),
    }
}

/// A three-level tree: 1 street, `communities` communities, 10 blocks each.
fn tree(communities: usize) -> Vec<Grid> {
    let mut out = vec![grid(
        "110105001",
        "street",
        None,
        MultiPolygon(vec![square(116.0, 39.0, 1.0)]),
    )];
    for c in 0..communities {
        let cc = format!("110105001{c:03}");
        let cx = 116.0 + (c % 100) as f64 * 0.01;
        let cy = 39.0 + (c / 100) as f64 * 0.01;
        out.push(grid(
            &cc,
            "community",
            Some("110105001"),
            MultiPolygon(vec![square(cx, cy, 0.01)]),
        ));
        for b in 0..10 {
            let g = square(cx + b as f64 * 0.001, cy, 0.001);
            out.push(grid(
                &format!("{cc}{b:03}"),
                "block",
                Some(&cc),
                MultiPolygon(vec![g]),
            ));
        }
    }
    out
}

fn worker(id: &str, grids: &[(&str, &str, f64)]) -> Worker {
    Worker {
        id: id.into(),
        name: format!("网格员{id}"),
        phone: "13800000000".into(),
        role: "网格员".into(),
        photo: format!("photos/{id}.jpg"),
        duties: "巡查".into(),
        grids: grids
            .iter()
            .map(|(s, c, share)| WorkerGrid {
                system: s.to_string(),
                code: c.to_string(),
                share: *share,
            })
            .collect(),
    }
}

fn open_tmp() -> (tempfile::TempDir, GpkgStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = GpkgStore::open(dir.path().join("t.gpkg")).unwrap();
    (dir, store)
}

/// What the atomicity tests read back to prove a failed write changed nothing.
type Contents = (Vec<GridSystem>, Vec<Grid>, Vec<Site>);

fn contents(store: &GpkgStore) -> Contents {
    (
        store.systems().unwrap(),
        store.grids("base").unwrap(),
        store.sites(None).unwrap(),
    )
}

/// Writes the data the atomicity tests try to damage: system `base` and one
/// school. Returns the version and the contents.
fn write_base(store: &GpkgStore) -> (u64, Contents) {
    let base = ChangeSet {
        grids: vec![system_change("base", GridWriteMode::Replace, tree(2))],
        sites: vec![site("school", "s1", 116.0, 39.0)],
        ..Default::default()
    };
    let version = store.apply(&base).unwrap();
    (version, contents(store))
}

#[test]
fn file_is_a_geopackage_1_3() {
    let (_dir, store) = open_tmp();
    let c = store.writer();
    let q = |sql: &str| -> i64 { c.query_row(sql, [], |r| r.get(0)).unwrap() };
    assert_eq!(q("PRAGMA application_id"), 0x47504B47);
    assert_eq!(q("PRAGMA user_version"), 10300);
    let mode: String = c
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    let srs: Vec<(i64, String, i64)> = c
        .prepare("SELECT srs_id, organization, organization_coordsys_id FROM gpkg_spatial_ref_sys ORDER BY srs_id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        srs,
        vec![
            (-1, "NONE".into(), -1),
            (0, "NONE".into(), 0),
            (4326, "EPSG".into(), 4326)
        ]
    );
    let contents: Vec<(String, String, Option<i64>)> = c
        .prepare("SELECT table_name, data_type, srs_id FROM gpkg_contents ORDER BY table_name")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let expect = |t: &str, d: &str, s: Option<i64>| (t.to_string(), d.to_string(), s);
    assert_eq!(
        contents,
        vec![
            expect("grid_systems", "attributes", None),
            expect("grids", "features", Some(4326)),
            expect("sites", "features", Some(4326)),
            expect("worker_grids", "attributes", None),
            expect("workers", "attributes", None),
        ]
    );
    let geoms: Vec<(String, String, String, i64, i64, i64)> = c
        .prepare("SELECT table_name, column_name, geometry_type_name, srs_id, z, m FROM gpkg_geometry_columns ORDER BY 1")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        geoms,
        vec![
            (
                "grids".into(),
                "geom".into(),
                "MULTIPOLYGON".into(),
                4326,
                0,
                0
            ),
            ("sites".into(), "geom".into(), "POINT".into(), 4326, 0, 0)
        ]
    );
    let cols: Vec<(String, String, bool)> = c
        .prepare("SELECT name, type, \"notnull\" FROM pragma_table_info('grids') ORDER BY cid")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let names: Vec<&str> = cols.iter().map(|c| c.0.as_str()).collect();
    assert_eq!(
        names,
        [
            "fid",
            "geom",
            "system",
            "code",
            "name",
            "level",
            "depth",
            "parent",
            "attributes"
        ]
    );
    assert_eq!(cols[1].1, "MULTIPOLYGON");
    assert!(
        !cols[7].2 && cols[8].2,
        "parent nullable, attributes not null"
    );
    let fk_check: i64 = q("SELECT count(*) FROM pragma_foreign_key_check");
    assert_eq!(fk_check, 0);
    drop(c); // the writer connection: `apply` below takes it

    // Extents follow the data, and shrink again when a system is replaced.
    let grids = vec![grid(
        "1",
        "street",
        None,
        MultiPolygon(vec![square(116.0, 39.0, 1.0), square(118.0, 41.0, 0.5)]),
    )];
    store
        .apply(&ChangeSet {
            grids: vec![system_change("a", GridWriteMode::Replace, grids)],
            ..Default::default()
        })
        .unwrap();
    let extent = |store: &GpkgStore| -> (f64, f64, f64, f64) {
        store
            .writer()
            .query_row(
                "SELECT min_x, min_y, max_x, max_y FROM gpkg_contents WHERE table_name = 'grids'",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .unwrap()
    };
    assert_eq!(extent(&store), (116.0, 39.0, 118.5, 41.5));
    let grids = vec![grid(
        "1",
        "street",
        None,
        MultiPolygon(vec![square(116.0, 39.0, 0.25)]),
    )];
    store
        .apply(&ChangeSet {
            grids: vec![system_change("a", GridWriteMode::Replace, grids)],
            ..Default::default()
        })
        .unwrap();
    assert_eq!(extent(&store), (116.0, 39.0, 116.25, 39.25));
}

#[test]
fn ogrinfo_reads_the_file() {
    if Command::new("ogrinfo").arg("--version").output().is_err() {
        println!("note: ogrinfo not installed (Debian: gdal-bin); skipping the GDAL check");
        return;
    }
    let (dir, store) = open_tmp();
    let grids = tree(3);
    let n = grids.len();
    let change = ChangeSet {
        grids: vec![system_change("综治", GridWriteMode::Replace, grids)],
        sites: vec![site("address", "a1", 116.3, 39.9)],
        ..Default::default()
    };
    store.apply(&change).unwrap();
    drop(store);
    let file = dir.path().join("t.gpkg");
    let run = |layer: &str| {
        let out = Command::new("ogrinfo")
            .args(["-ro", "-so"])
            .arg(&file)
            .arg(layer)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "ogrinfo failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let info = run("grids");
    assert!(info.contains(&format!("Feature Count: {n}")), "{info}");
    assert!(info.contains("Geometry: Multi Polygon"), "{info}");
    assert!(
        info.contains("Extent: (116.000000, 39.000000) - (117.000000, 40.000000)"),
        "{info}"
    );
    let info = run("sites");
    assert!(
        info.contains("Feature Count: 1") && info.contains("Geometry: Point"),
        "{info}"
    );
    let info = run("worker_grids");
    assert!(info.contains("Feature Count: 0"), "{info}");
    // The full validation GDAL does when it opens every layer must not warn.
    let out = Command::new("ogrinfo")
        .args(["-ro", "-al", "-so"])
        .arg(&file)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && !stderr.contains("Warning") && !stderr.contains("ERROR"),
        "{stderr}"
    );
}

/// A change set whose second system is bad: nothing of the first may stay.
#[test]
fn failing_apply_writes_nothing() {
    let (_dir, store) = open_tmp();
    let (v1, before) = write_base(&store);

    let mut bad_level = tree(1);
    bad_level[3].level = "building".into();
    let mut duplicate = tree(1);
    duplicate.push(duplicate[2].clone());
    let worker_twice = worker("w1", &[("x", "1", 1.0), ("x", "1", 1.0)]);
    let failing = [
        ChangeSet {
            grids: vec![
                system_change("first", GridWriteMode::Replace, tree(2)),
                system_change("base", GridWriteMode::Replace, bad_level),
            ],
            ..Default::default()
        },
        ChangeSet {
            grids: vec![system_change("base", GridWriteMode::Replace, duplicate)],
            replace_site_kinds: vec!["school".into()],
            ..Default::default()
        },
        ChangeSet {
            grids: vec![system_change("first", GridWriteMode::Merge, tree(1))],
            sites: vec![site("shop", "1", 0.0, 0.0)],
            workers: vec![worker_twice],
            ..Default::default()
        },
    ];
    let reasons = [
        "level `building`",
        "duplicate grid code",
        "UNIQUE constraint failed",
    ];
    for (change, reason) in failing.iter().zip(reasons) {
        let err = store.apply(change).unwrap_err().to_string();
        assert!(err.contains(reason), "{err}");
        assert_eq!(store.data_version().unwrap(), v1);
        assert_eq!(contents(&store), before);
        assert!(matches!(
            store.grids("first"),
            Err(StoreError::UnknownSystem(_))
        ));
        assert!(store.workers().unwrap().is_empty());
    }
    // The connection is still usable after the rollbacks.
    assert_eq!(store.apply(&ChangeSet::default()).unwrap(), v1 + 1);
}

/// The child half of `abort_inside_transaction_leaves_nothing`; does nothing useful alone.
#[test]
#[ignore = "spawned by abort_inside_transaction_leaves_nothing"]
fn crash_child() {
    let path =
        std::env::var(CRASH_PATH_ENV).expect("run by abort_inside_transaction_leaves_nothing");
    let store = GpkgStore::open(&path).unwrap();
    // A tiny page cache makes SQLite spill uncommitted pages into the WAL before the abort.
    store
        .writer()
        .pragma_update(None, "cache_size", 50)
        .unwrap();
    let sites = (0..50_000)
        .map(|i| site("address", &i.to_string(), 116.0, 39.0))
        .collect();
    let change = ChangeSet {
        grids: vec![system_change("base", GridWriteMode::Replace, tree(300))],
        sites,
        replace_site_kinds: vec!["school".into()],
        ..Default::default()
    };
    println!("CHILD_APPLYING");
    let result = store.apply(&change);
    panic!("apply returned ({result:?}) although the crash hook should have aborted the process");
}

#[test]
fn abort_inside_transaction_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crash.gpkg");
    let store = GpkgStore::open(&path).unwrap();
    let (v1, before) = write_base(&store);
    drop(store);
    let wal = dir.path().join("crash.gpkg-wal");
    let wal_before = std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);

    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            "store::gpkg::tests::crash_child",
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CRASH_ENV, "1")
        .env(CRASH_PATH_ENV, &path)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("CHILD_APPLYING"),
        "child did not start the apply: {stdout}"
    );
    assert!(!out.status.success(), "child should have aborted: {stdout}");
    let wal_after = std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
    assert!(
        wal_after > wal_before + 1_000_000,
        "child should have spilled into the WAL ({wal_before} -> {wal_after})"
    );

    let store = GpkgStore::open(&path).unwrap();
    assert_eq!(store.data_version().unwrap(), v1);
    assert_eq!(contents(&store), before);
    let count: i64 = store
        .writer()
        .query_row("SELECT count(*) FROM sites", [], |r| r.get(0))
        .unwrap();
    assert_eq!(count, 1);
    let check: String = store
        .writer()
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
}

fn file_size(p: &Path) -> u64 {
    std::fs::metadata(p).map(|m| m.len()).unwrap_or(0)
}

/// `cargo test --release -p gridmap-data gpkg::tests::write_benchmark -- --ignored --nocapture`
#[test]
#[ignore = "benchmark; run in release"]
fn write_benchmark() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bench.gpkg");
    let store = GpkgStore::open(&path).unwrap();
    // 10,000 communities x 10 blocks = 100,011 grids, each a 5-point square; 1,000,000 address points.
    let grids = tree(10_000);
    let sites: Vec<Site> = (0..1_000_000)
        .map(|i| site("address", &format!("{i:07}"), 116.0 + i as f64 * 1e-6, 39.5))
        .collect();
    let (ng, ns) = (grids.len(), sites.len());
    let change = ChangeSet {
        grids: vec![system_change("bench", GridWriteMode::Replace, grids)],
        sites,
        ..Default::default()
    };
    let t = Instant::now();
    store.apply(&change).unwrap();
    let first = t.elapsed();
    let t = Instant::now();
    store.apply(&change).unwrap();
    let second = t.elapsed();
    let t = Instant::now();
    let read_grids = store.grids("bench").unwrap().len();
    let read_sites = store.sites(Some("address")).unwrap().len();
    let read = t.elapsed();
    assert_eq!((read_grids, read_sites), (ng, ns));
    println!(
        "write {ng} grids + {ns} sites: {first:.2?} into an empty file, {second:.2?} as upsert over existing; \
         read back {read:.2?}; file {} MB + WAL {} MB",
        file_size(&path) / 1_000_000,
        file_size(&dir.path().join("bench.gpkg-wal")) / 1_000_000
    );
}
