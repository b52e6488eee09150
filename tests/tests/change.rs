//! Change validation on the real Zhejiang partition: the partition rule lets
//! an unchanged district through and refuses one that spills into its
//! neighbours, naming the grids; a stale change is refused by the store.

use gridmap_data::catalog::Catalog;
use gridmap_data::change::{self, validate, ChangeSet, SystemGrids, ValidateOptions};
use gridmap_data::store::{GridStore, StoreError};
use gridmap_tests::zhejiang_store;

const PARTITION: ValidateOptions = ValidateOptions {
    check_geometry: true,
    partition_tolerance_m2: Some(1.0),
    source: "change",
};

#[test]
fn the_partition_rule_on_zhejiang() {
    let dir = tempfile::tempdir().unwrap();
    let store = zhejiang_store(&dir.path().join("zj.gpkg"));
    let catalog = Catalog::load(&store).unwrap();
    let admin = catalog.named_system("admin").unwrap();
    // 西湖区 (330106) of 杭州市 (330100), with its city's geometry.
    let district = admin.grid("330106").unwrap().clone();
    let city = admin.grid("330100").unwrap();
    let change_of = |grid| ChangeSet {
        base_version: Some(catalog.version()),
        grids: vec![SystemGrids::merge(admin.system().clone(), vec![grid])],
        ..Default::default()
    };

    // The district as it is: the real partition holds within 1 m².
    let same = validate(&change_of(district.clone()), &catalog, &PARTITION).unwrap();
    assert_eq!(same.summaries()[0].updated, 1);

    // The district grown to the whole city: it overlaps every sibling.
    let mut grown = district.clone();
    grown.geometry = city.geometry.clone();
    let refused = validate(&change_of(grown.clone()), &catalog, &PARTITION).unwrap_err();
    let siblings = admin.children(admin.grid_index("330100").unwrap()).len();
    let overlaps: Vec<_> = refused
        .0
        .iter()
        .filter(|p| p.key.as_deref().is_some_and(|k| k.contains("330106")))
        .collect();
    assert_eq!(overlaps.len(), siblings - 1, "{refused}");
    assert!(refused.to_string().contains("claimed by both"), "{refused}");
    // Without the rule (an import of messy data) the same change passes.
    assert!(validate(&change_of(grown), &catalog, &ValidateOptions::default()).is_ok());

    // Applied once, the validated change moves the store on; applied again it is stale.
    change::apply(&store, &same).unwrap();
    assert!(matches!(
        change::apply(&store, &same),
        Err(StoreError::StaleBase { .. })
    ));
    assert_eq!(store.data_version().unwrap(), catalog.version() + 1);
}
