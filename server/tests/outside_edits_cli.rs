//! `gridmap check` on a store another program edited: a rule-breaking edit
//! is the finding, named by grid; a valid one is checked and reported on.

mod common;
use common::*;

use std::process::Command;

#[test]
fn check_names_the_grids_an_outside_edit_broke() {
    if Command::new("ogrinfo").arg("--version").output().is_err() {
        assert!(
            std::env::var_os("GRIDMAP_REQUIRE_GDAL").is_none(),
            "GRIDMAP_REQUIRE_GDAL is set but ogrinfo is not installed (Debian: gdal-bin)"
        );
        println!("note: ogrinfo not installed (Debian: gdal-bin); skipping");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let db = squares_store(dir.path(), &[]);
    let ogr = |sql: &str| {
        let out = Command::new("ogrinfo")
            .args([arg(&db), "-q", "-sql", sql])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", text(&out.stderr));
    };

    // The street's code renamed in GDAL: both communities lose their parent.
    ogr("UPDATE grids SET code = '330106009' WHERE code = '330106001'");
    let out = check(&db, &[]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("edits made outside gridmap"), "{err}");
    assert!(
        err.contains("330106001001") && err.contains("330106001002"),
        "{err}"
    );

    // Put back: the store passes, the report runs as usual.
    ogr("UPDATE grids SET code = '330106001' WHERE code = '330106009'");
    let out = check(&db, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("330106001"),
        "{}",
        text(&out.stdout)
    );
}
