//! End-to-end tests of grid import against an in-memory store.

use std::path::Path;

use geo_types::{Geometry, MultiPolygon};
use serde_json::json;

use super::*;
use crate::crs::{gcj02_to_wgs84, Crs};
use crate::geometry::area_m2;
use crate::model::GridSystem;
use crate::progress::NoProgress;
use crate::store::GridStore;
use crate::testutil::{collection, feature, square, write, MemStore};

/// A street with one community holding two blocks, around (120.1, 30.25).
fn small_tree() -> Vec<serde_json::Value> {
    vec![
        feature(
            json!({"code": 330106001, "name": "文新街道", "level": "street", "parent": null, "pop": 5}),
            square(120.0, 30.2, 0.2),
        ),
        feature(
            json!({"code": "330106001001", "level": "community", "parent": "330106001"}),
            square(120.0, 30.2, 0.1),
        ),
        feature(
            json!({"code": "330106001001001", "level": "block", "parent": "330106001001"}),
            square(120.0, 30.2, 0.05),
        ),
        feature(
            json!({"code": "330106001001002", "level": "block", "parent": 330106001001_i64, "name": ""}),
            square(120.05, 30.2, 0.05),
        ),
    ]
}

fn import(
    store: &MemStore,
    path: &Path,
    opts: &GridImportOptions,
) -> Result<GridImportReport, ImportError> {
    import_grids(store, path, opts, &NoProgress)
}

fn rejected(e: ImportError) -> Vec<String> {
    match e {
        ImportError::Rejected { problems, .. } => {
            problems.iter().map(ToString::to_string).collect()
        }
        other => panic!("expected a rejection, got {other}"),
    }
}

#[test]
fn imports_a_tree_with_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "tree.geojson", &collection(small_tree()));
    let store = MemStore::default();
    let report = import(&store, &path, &GridImportOptions::new("综治")).unwrap();
    assert_eq!(
        (
            report.counts.imported,
            report.counts.inserted,
            report.counts.updated,
            report.counts.removed,
            report.counts.total
        ),
        (4, 4, 0, 0, 4)
    );
    assert_eq!(report.crs, Crs::Wgs84);
    assert_eq!(report.levels, vec!["street", "community", "block"]);
    assert!(
        report.to_string().contains("4 grids into system `综治`"),
        "{report}"
    );
    assert_eq!(
        store.data().systems,
        vec![GridSystem::with_default_levels("综治")]
    );
    let grids = store.grids("综治").unwrap();
    let street = grids.iter().find(|g| g.code == "330106001").unwrap();
    assert_eq!(street.name, "文新街道");
    assert_eq!(street.parent, None);
    assert_eq!(
        street.attributes,
        json!({"pop": 5}).as_object().unwrap().clone()
    );
    assert_eq!(street.geometry.0.len(), 1);
    let block = grids.iter().find(|g| g.code == "330106001001002").unwrap();
    assert_eq!(
        block.name, "330106001001002",
        "empty name defaults to the code"
    );
    assert_eq!(
        block.parent.as_deref(),
        Some("330106001001"),
        "numeric parent becomes text"
    );
    assert!((area_m2(&block.geometry) / area_m2(&street.geometry) - 1.0 / 16.0).abs() < 1e-3);
    assert_eq!(store.data().version, 1);
}

#[test]
fn every_rejection_names_file_index_code_and_reason() {
    let bow = json!({"type": "Polygon", "coordinates": [[[120.0, 30.0], [120.2, 30.4], [120.2, 30.0], [120.0, 30.4], [120.0, 30.0]]]});
    let open = json!({"type": "Polygon", "coordinates": [[[120.0, 30.0], [120.1, 30.0], [120.1, 30.1], [120.0, 30.1]]]});
    let point = json!({"type": "Point", "coordinates": [120.0, 30.0]});
    let mut features = small_tree();
    features.extend([
        /* 4 */
        feature(
            json!({"code": "330106001001", "level": "community", "parent": "330106001"}),
            square(120.1, 30.2, 0.1),
        ),
        /* 5 */
        feature(
            json!({"code": "9", "level": "block", "parent": "330106009"}),
            square(120.0, 30.0, 0.01),
        ),
        /* 6 */
        feature(
            json!({"code": "c1", "level": "community", "parent": "c2"}),
            square(120.0, 30.0, 0.01),
        ),
        /* 7 */
        feature(
            json!({"code": "c2", "level": "community", "parent": "c1"}),
            square(120.0, 30.0, 0.01),
        ),
        /* 8 */
        feature(
            json!({"code": "top", "level": "community"}),
            square(120.0, 30.0, 0.01),
        ),
        /* 9 */
        feature(
            json!({"code": "v", "level": "village", "parent": "330106001"}),
            square(120.0, 30.0, 0.01),
        ),
        /* 10 */
        feature(
            json!({"code": "b", "level": "block", "parent": "330106001"}),
            square(120.0, 30.0, 0.01),
        ),
        /* 11 */ feature(json!({"code": "bow", "level": "street"}), bow),
        /* 12 */
        feature(
            json!({"code": "nogeom", "level": "street"}),
            serde_json::Value::Null,
        ),
        /* 13 */ feature(json!({"code": "pt", "level": "street"}), point),
        /* 14 */
        feature(
            json!({"name": "no code", "level": "street"}),
            square(120.0, 30.0, 0.01),
        ),
        /* 15 */ feature(json!({"code": "open", "level": "street"}), open),
        /* 16 */ feature(json!({"code": "nolevel"}), square(120.0, 30.0, 0.01)),
    ]);
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "bad.geojson", &collection(features));
    let store = MemStore::default();
    let err = import(&store, &path, &GridImportOptions::new("s")).unwrap_err();
    let text = err.to_string();
    assert!(
        text.starts_with(&format!(
            "{}: 13 feature(s) rejected, nothing imported:",
            path.display()
        )),
        "{text}"
    );
    assert_eq!(
        rejected(err),
        vec![
            "feature #4 (code 330106001001): duplicate code 330106001001 (also feature #1)",
            "feature #5 (code 9): parent 330106009 does not exist (neither in this file nor in system `s`)",
            "feature #6 (code c1): parent links form a cycle: c1 -> c2 -> c1",
            "feature #7 (code c2): parent links form a cycle: c2 -> c1 -> c2",
            "feature #8 (code top): level `community` has no parent, but only `street` grids may be at the top",
            "feature #9 (code v): unknown level `village`; system `s` has levels street, community, block",
            "feature #10 (code b): parent 330106001 is a `street`, but a `block` needs a `community` parent",
            "feature #11 (code bow): invalid geometry: ring 0 (exterior) of polygon 0 intersects itself at (120.1, 30.2)",
            "feature #12 (code nogeom): missing geometry (a grid needs a Polygon or MultiPolygon)",
            "feature #13 (code pt): geometry is a Point, not a Polygon or MultiPolygon",
            "feature #14: missing property `code` (it must be a non-empty string or number)",
            "feature #15 (code open): invalid geometry: ring 0 (exterior) of polygon 0 is not closed (its last position differs from its first)",
            "feature #16 (code nolevel): missing property `level`",
        ]
    );
    assert_eq!(store.data().version, 0, "nothing written");
    assert!(store.data().systems.is_empty());
}

#[test]
fn gcj02_input_is_converted_when_crs_is_given() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "gcj.GeoJSON",
        &collection(vec![feature(
            json!({"code": "1", "level": "street"}),
            square(120.1, 30.2, 0.01),
        )]),
    );
    let mut opts = GridImportOptions::new("s");
    opts.crs = Some(Crs::Gcj02);
    let store = MemStore::default();
    let report = import(&store, &path, &opts).unwrap();
    assert_eq!(report.crs, Crs::Gcj02);
    let g = &store.grids("s").unwrap()[0].geometry;
    let (lon, lat) = gcj02_to_wgs84(120.1, 30.2);
    assert!(g.0[0]
        .exterior()
        .0
        .iter()
        .any(|c| (c.x - lon).abs() < 1e-12 && (c.y - lat).abs() < 1e-12));
    // The GCJ-02 offset in Hangzhou is a few hundred metres, so the data did move.
    assert!((lon - 120.1).abs() > 0.002);

    // Without --crs the same file is taken as WGS84 and stays put.
    let plain = MemStore::default();
    import(&plain, &path, &GridImportOptions::new("s")).unwrap();
    let c = plain.grids("s").unwrap()[0].geometry.0[0]
        .exterior()
        .0
        .clone();
    assert!(c.iter().any(|c| c.x == 120.1 && c.y == 30.2));
}

#[test]
fn projected_numbers_without_crs_are_a_crs_error_with_a_suggestion() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "gk.geojson",
        &collection(vec![feature(
            json!({"code": "1", "level": "street"}),
            square(40_500_000.0, 3_320_000.0, 100.0),
        )]),
    );
    let err = import(&MemStore::default(), &path, &GridImportOptions::new("s")).unwrap_err();
    assert!(matches!(err, ImportError::Crs { .. }), "{err}");
    let text = err.to_string();
    assert!(
        text.starts_with(&format!("{}: ", path.display())) && text.contains("EPSG:4528"),
        "{text}"
    );
}

#[test]
fn repair_fixes_bow_ties_and_reports_areas() {
    // Lobes of different size, so the signed raw area is not zero.
    let bow = json!({"type": "Polygon", "coordinates": [[[120.0, 30.0], [120.3, 30.3], [120.3, 30.0], [120.0, 30.1], [120.0, 30.0]]]});
    let open = json!({"type": "Polygon", "coordinates": [[[121.0, 30.0], [121.1, 30.0], [121.1, 30.1], [121.0, 30.1]]]});
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "bow.geojson",
        &collection(vec![
            feature(json!({"code": "bow", "level": "street"}), bow),
            feature(json!({"code": "open", "level": "street"}), open),
        ]),
    );
    let mut opts = GridImportOptions::new("s");
    opts.repair = true;
    let store = MemStore::default();
    let report = import(&store, &path, &opts).unwrap();
    assert_eq!(report.repaired.len(), 2);
    let r = &report.repaired[0];
    assert_eq!((r.index, r.code.as_str()), (0, "bow"));
    assert!(
        r.problem.contains("intersects itself at (120.075, 30.075)"),
        "{}",
        r.problem
    );
    let stored = store
        .grids("s")
        .unwrap()
        .into_iter()
        .find(|g| g.code == "bow")
        .unwrap();
    assert_eq!(stored.geometry.0.len(), 2, "two triangles");
    assert!((r.area_after_m2 - area_m2(&stored.geometry)).abs() < 1e-6);
    assert!(r.area_after_m2 > r.area_before_m2 && r.area_before_m2 > 0.0);
    let pct = r.change_percent().unwrap();
    assert!((pct - (r.area_after_m2 / r.area_before_m2 - 1.0) * 100.0).abs() < 1e-9);
    let closed = &report.repaired[1];
    assert!(closed.problem.contains("is not closed"));
    assert_eq!(closed.change_percent(), Some(0.0));
    let text = report.to_string();
    assert!(text.contains("repaired 2 geometries:\n  feature #0 (code bow): ring 0 (exterior) of polygon 0 intersects itself"), "{text}");
    assert!(text.contains(&format!("({pct:+.2}%)")), "{text}");
}

#[test]
fn merge_keeps_other_grids_and_replace_drops_them() {
    let dir = tempfile::tempdir().unwrap();
    let store = MemStore::default();
    let all = write(dir.path(), "all.geojson", &collection(small_tree()));
    import(&store, &all, &GridImportOptions::new("s")).unwrap();

    // A new block under a stored community, and a renamed stored block.
    let more = write(
        dir.path(),
        "more.geojson",
        &collection(vec![
            feature(
                json!({"code": "330106001001003", "level": "block", "parent": "330106001001"}),
                square(120.0, 30.25, 0.05),
            ),
            feature(
                json!({"code": "330106001001001", "name": "一号网格", "level": "block", "parent": "330106001001"}),
                square(120.0, 30.2, 0.05),
            ),
        ]),
    );
    let report = import(&store, &more, &GridImportOptions::new("s")).unwrap();
    assert_eq!(
        (
            report.counts.inserted,
            report.counts.updated,
            report.counts.removed,
            report.counts.total
        ),
        (1, 1, 0, 5)
    );
    let grids = store.grids("s").unwrap();
    assert_eq!(grids.len(), 5);
    assert_eq!(
        grids
            .iter()
            .find(|g| g.code == "330106001001001")
            .unwrap()
            .name,
        "一号网格"
    );

    // Alone, the same file cannot replace the system: its parent is gone.
    let mut replace = GridImportOptions::new("s");
    replace.replace = true;
    let problems = rejected(import(&store, &more, &replace).unwrap_err());
    assert_eq!(
        problems[0],
        "feature #0 (code 330106001001003): parent 330106001001 does not exist (not in this file)"
    );

    let streets = write(
        dir.path(),
        "streets.geojson",
        &collection(vec![small_tree().remove(0)]),
    );
    // Keeping one grid of five needs saying so.
    assert!(matches!(
        import(&store, &streets, &replace).unwrap_err(),
        ImportError::Shrink {
            removed: 4,
            kept: 1,
            ..
        }
    ));
    replace.allow_shrink = true;
    let report = import(&store, &streets, &replace).unwrap();
    assert_eq!(
        (
            report.counts.inserted,
            report.counts.updated,
            report.counts.removed,
            report.counts.total
        ),
        (0, 1, 4, 1)
    );
    assert_eq!(store.grids("s").unwrap().len(), 1);
}

#[test]
fn levels_must_match_the_stored_system_unless_replacing() {
    let dir = tempfile::tempdir().unwrap();
    let store = MemStore::default();
    let two = write(
        dir.path(),
        "two.csv",
        "code,level,parent,wkt\n1,区,,\"POLYGON((120 30,120.1 30,120.1 30.1,120 30))\"\n11,片,1,\"POLYGON((120 30,120.05 30,120.05 30.05,120 30))\"\n",
    );
    let mut opts = GridImportOptions::new("fire");
    opts.levels = Some(vec!["区".into(), "片".into()]);
    let report = import(&store, &two, &opts).unwrap();
    assert_eq!(report.levels, vec!["区", "片"]);
    // Stored levels are used when none are given.
    let again = import(&store, &two, &GridImportOptions::new("fire")).unwrap();
    assert_eq!(again.counts.updated, 2);
    // Different levels: refused unless replacing.
    opts.levels = Some(vec!["区".into(), "片".into(), "格".into()]);
    let err = import(&store, &two, &opts).unwrap_err().to_string();
    assert!(
        err.contains("grid system `fire`: it has levels 区,片, the given levels 区,片,格 differ"),
        "{err}"
    );
    opts.replace = true;
    import(&store, &two, &opts).unwrap();
    assert_eq!(store.data().systems[0].levels, vec!["区", "片", "格"]);
    opts.levels = Some(vec!["a".into(), "a".into()]);
    assert!(import(&store, &two, &opts)
        .unwrap_err()
        .to_string()
        .contains("level `a` is given twice"));
}

#[test]
fn zhejiang_fixture_imports_as_a_three_level_system() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/zhejiang-admin-gcj02.geojson");
    let mut opts = GridImportOptions::new("admin");
    opts.levels = Some(vec!["province".into(), "city".into(), "district".into()]);
    opts.crs = Some(Crs::Gcj02);
    let store = MemStore::default();
    let (change, report) = prepare_grid_import(&path, &opts, &store, &NoProgress).unwrap();
    assert_eq!(report.counts.imported, 102);
    assert!(report.repaired.is_empty());
    let grids = &change.change_set().grids[0].grids;
    let province = grids.iter().find(|g| g.level == "province").unwrap();
    let cities: f64 = grids
        .iter()
        .filter(|g| g.level == "city")
        .map(|g| area_m2(&g.geometry))
        .sum();
    // Children cover their parent exactly (known answer of the fixture).
    assert!((cities / area_m2(&province.geometry) - 1.0).abs() < 1e-6);
    // Zhejiang is about 105 500 km².
    assert!((area_m2(&province.geometry) / 1e6 - 105_500.0).abs() < 3_000.0);
    assert!(
        matches!(Geometry::MultiPolygon(province.geometry.clone()), Geometry::MultiPolygon(MultiPolygon(ref p)) if p.len() > 100)
    );
}
