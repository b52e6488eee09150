//! The GEOS oracle: every one of 20,000 points over Zhejiang must get exactly
//! the code GEOS (shapely) computed, at every level; once with the partition
//! in a GeoPackage, once in PostGIS (`gridmap_tests::backends`).

use gridmap_data::catalog::Catalog;
use gridmap_tests::backend_tests;
use gridmap_tests::backends::{Backend, TestStore};
use gridmap_tests::{assert_agrees_with_oracle, oracle_points};

backend_tests!(zhejiang_lookup_matches_geos_on_all_20000_points);

fn zhejiang_lookup_matches_geos_on_all_20000_points(backend: Backend) {
    let Some(t) = TestStore::zhejiang(backend) else {
        return;
    };
    let catalog = Catalog::load(&*t.store).unwrap();
    let admin = catalog.system("admin").expect("system admin");
    let points = oracle_points();
    assert_eq!(points.len(), 20_000);
    let mut mismatches = Vec::new();
    let mut inside = 0;
    for p in &points {
        for (depth, want) in p.codes().into_iter().enumerate() {
            let got = admin
                .locate_at_depth(depth, p.lon, p.lat)
                .map(|h| admin.grids()[h.grid].code.as_str())
                .unwrap_or("");
            if got != want {
                mismatches.push(format!(
                    "{} ({}, {}) level {depth}: got `{got}`, GEOS `{want}`",
                    p.id, p.lon, p.lat
                ));
            }
        }
        inside += usize::from(!p.district.is_empty());
    }
    assert_agrees_with_oracle(&mismatches, inside);
}
