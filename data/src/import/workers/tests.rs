//! Worker import tests.

use serde_json::json;

use super::*;
use crate::import::{import_grids, GridImportOptions};
use crate::model::WorkerGrid;
use crate::progress::NoProgress;
use crate::store::GridStore;
use crate::testutil::{collection, feature, square, write, MemStore};

/// A street, a community and its blocks 111 and 112, all one square.
fn store_with_grids(dir: &std::path::Path) -> MemStore {
    let f = |code: &str, level: &str, parent: Option<&str>| {
        feature(
            json!({"code": code, "level": level, "parent": parent}),
            square(120.0, 30.0, 0.1),
        )
    };
    let fc = collection(vec![
        f("1", "street", None),
        f("11", "community", Some("1")),
        f("111", "block", Some("11")),
        f("112", "block", Some("11")),
    ]);
    let path = write(dir, "g.geojson", &fc);
    let store = MemStore::default();
    import_grids(&store, &path, &GridImportOptions::new("s"), &NoProgress).unwrap();
    store
}

#[test]
fn imports_workers_with_shares() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_with_grids(dir.path());
    let csv = write(
        dir.path(),
        "w.csv",
        "id,name,phone,role,photo,duties,grids\nW1,张三,13800000000,网格员,,巡查,111;112:0.5\nW2,李四,,社区民警,p.jpg,,\n",
    );
    let report = import_workers(&store, &csv, "s").unwrap();
    assert_eq!(
        (
            report.counts.imported,
            report.counts.inserted,
            report.assignments
        ),
        (2, 2, 2)
    );
    assert!(report
        .to_string()
        .contains("2 workers (2 new, 0 updated) with 2 grid assignments in system `s`"));
    let w = store.workers().unwrap();
    let w1 = w.iter().find(|w| w.id == "W1").unwrap();
    assert_eq!(w1.name, "张三");
    assert_eq!(w1.role, "网格员");
    assert_eq!(
        w1.grids,
        vec![
            WorkerGrid {
                system: "s".into(),
                code: "111".into(),
                share: 1.0
            },
            WorkerGrid {
                system: "s".into(),
                code: "112".into(),
                share: 0.5
            },
        ]
    );
    assert!(w.iter().find(|w| w.id == "W2").unwrap().grids.is_empty());
}

#[test]
fn bad_rows_are_rejected_with_line_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_with_grids(dir.path());
    let version = store.data().version;
    let csv = write(
        dir.path(),
        "bad.csv",
        "id,name,grids\nW1,a,111\nW1,b,112\n,c,111\nW3,,111\nW4,d,999\nW5,e,111:0\nW6,f,111:1.5;112:x\nW7,g,111;111\n",
    );
    let err = import_workers(&store, &csv, "s").unwrap_err();
    let text = err.to_string();
    assert!(
        text.starts_with(&format!("{}: 8 row(s) rejected", csv.display())),
        "{text}"
    );
    let ImportError::RejectedRows { problems, .. } = err else {
        panic!()
    };
    let got: Vec<String> = problems.iter().map(ToString::to_string).collect();
    assert_eq!(
        got,
        vec![
            "line 3 (id W1): duplicate id W1 (also line 2)",
            "line 4: missing id",
            "line 5 (id W3): missing name",
            "line 6 (id W4): unknown grid code 999 in system `s`",
            "line 7 (id W5): bad share `0` for grid 111 (must be a number > 0 and ≤ 1)",
            "line 8 (id W6): bad share `1.5` for grid 111 (must be a number > 0 and ≤ 1)",
            "line 8 (id W6): bad share `x` for grid 112 (must be a number > 0 and ≤ 1)",
            "line 9 (id W7): grid 111 is listed twice",
        ]
    );
    assert_eq!(store.data().version, version, "nothing written");
}

#[test]
fn unknown_system_and_missing_column() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_with_grids(dir.path());
    let csv = write(dir.path(), "w.csv", "id,name,grids\nW1,a,111\n");
    let e = import_workers(&store, &csv, "消防")
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        format!(
            "{}: grid system `消防` does not exist; import its grids first",
            csv.display()
        )
    );
    let csv = write(dir.path(), "w2.csv", "id,name\nW1,a\n");
    let e = import_workers(&store, &csv, "s").unwrap_err().to_string();
    assert!(e.contains("missing column `grids`"), "{e}");
}
