//! `gridmap copy`: GeoPackage → PostGIS → GeoPackage gives the same store,
//! geometry bit for bit; a non-empty target is refused unless `--replace`.

use gridmap::commands::copy::{run, CopyArgs};
use gridmap_data::demo::DemoOptions;
use gridmap_data::store::{Snapshot, SnapshotParts};
use gridmap_tests::backends::TestStore;
use gridmap_tests::cli;

fn copy(from: &str, to: &str, replace: bool) -> cli::Ending {
    let args = CopyArgs {
        from: from.into(),
        to: to.into(),
        replace,
    };
    cli::run(|| run(&args))
}

fn coordinate_bits(s: &Snapshot) -> Vec<u64> {
    let mut out = Vec::new();
    for (_, grids) in &s.systems {
        for g in grids {
            for p in &g.geometry.0 {
                for r in std::iter::once(p.exterior()).chain(p.interiors()) {
                    out.extend(r.0.iter().flat_map(|c| [c.x.to_bits(), c.y.to_bits()]));
                }
            }
        }
    }
    out.extend(
        s.sites
            .iter()
            .flat_map(|s| [s.location.x().to_bits(), s.location.y().to_bits()]),
    );
    out
}

fn assert_same_content(a: &Snapshot, b: &Snapshot) {
    assert_eq!(a.systems, b.systems);
    assert_eq!(a.workers, b.workers);
    assert_eq!(a.sites, b.sites);
    assert_eq!(coordinate_bits(a), coordinate_bits(b));
}

#[test]
fn gpkg_to_postgis_to_gpkg_round_trips_exactly() {
    let Some(pg) = TestStore::new(gridmap_tests::backends::Backend::Postgis, "copy") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let first = dir.path().join("first.gpkg");
    let back = dir.path().join("back.gpkg");
    gridmap::commands::demo::write_demo(
        &first,
        &DemoOptions {
            blocks: 60,
            seed: 7,
        },
    )
    .unwrap();
    let first = first.to_str().unwrap().to_string();
    let back = back.to_str().unwrap().to_string();

    let ending = copy(&first, &pg.location, false);
    assert_eq!(ending.status, 0, "{}", ending.stderr);
    let ending = copy(&pg.location, &back, false);
    assert_eq!(ending.status, 0, "{}", ending.stderr);

    let original = gridmap_data::store::open(&first)
        .unwrap()
        .snapshot(SnapshotParts::All)
        .unwrap();
    assert!(
        original.sites.len() > 10 && original.workers.len() > 10,
        "a demo with registers"
    );
    let in_pg = pg.store.snapshot(SnapshotParts::All).unwrap();
    let returned = gridmap_data::store::open(&back)
        .unwrap()
        .snapshot(SnapshotParts::All)
        .unwrap();
    assert_same_content(&original, &in_pg);
    assert_same_content(&original, &returned);
    assert!(in_pg.checked && returned.checked);

    // A target with data is refused, and stays as it was.
    let before = pg.store.data_version().unwrap();
    let ending = copy(&first, &pg.location, false);
    assert_eq!(ending.status, 1);
    assert!(
        ending.stderr.contains("already holds data") && ending.stderr.contains("--replace"),
        "{}",
        ending.stderr
    );
    assert!(!ending.stderr.contains(&password(&pg.location)) || password(&pg.location).is_empty());
    assert_eq!(pg.store.data_version().unwrap(), before);
    // --replace overwrites what the source has: the content is the source's again.
    let ending = copy(&back, &pg.location, true);
    assert_eq!(ending.status, 0, "{}", ending.stderr);
    assert_eq!(pg.store.data_version().unwrap(), before + 1);
    assert_same_content(&original, &pg.store.snapshot(SnapshotParts::All).unwrap());
}

#[test]
fn copy_refuses_the_same_store_and_a_missing_source() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.gpkg");
    let a = a.to_str().unwrap();
    let ending = copy(a, a, false);
    assert!(
        ending.stderr.contains("the same store"),
        "{}",
        ending.stderr
    );
    let ending = copy(a, dir.path().join("b.gpkg").to_str().unwrap(), false);
    assert!(ending.stderr.contains("no store at"), "{}", ending.stderr);
    assert!(!dir.path().join("b.gpkg").exists(), "nothing written");
}

fn password(url: &str) -> String {
    let rest = url.split_once("://").map_or("", |(_, r)| r);
    let auth = rest.rsplit_once('@').map_or("", |(a, _)| a);
    auth.split_once(':')
        .map_or(String::new(), |(_, p)| p.to_string())
}
