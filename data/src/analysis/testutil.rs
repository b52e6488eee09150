//! Small catalogs and grids for the analysis tests.

use std::collections::BTreeMap;

use geo_types::{Point, Polygon};

use super::orphans::{located_sites, LocatedSite};
use super::shapes::Ignored;
use crate::catalog::Catalog;
use crate::index::SystemIndex;
use crate::model::{Grid, GridSystem, Site, Worker, WorkerGrid};

pub(crate) use crate::geometry::testutil::rect;

pub(crate) const SYSTEM: &str = "t";

/// A grid of one polygon, named `<code>名`.
pub(crate) fn grid(code: &str, level: &str, parent: Option<&str>, p: Polygon<f64>) -> Grid {
    Grid::new(code, level, parent, p.into()).named(format!("{code}名"))
}

/// A top-level block of one polygon, named by its code.
pub(crate) fn block(code: &str, p: Polygon<f64>) -> Grid {
    Grid::new(code, "block", None, p.into())
}

/// A catalog (version 7) of system [`SYSTEM`] with the default levels.
pub(crate) fn catalog(grids: Vec<Grid>, workers: Vec<Worker>) -> Catalog {
    let index = SystemIndex::build(GridSystem::with_default_levels(SYSTEM), grids);
    let systems: BTreeMap<String, SystemIndex> = [(SYSTEM.to_string(), index)].into();
    Catalog::from_parts(7, systems, workers)
}

pub(crate) fn worker(id: &str, grids: &[(&str, f64)]) -> Worker {
    Worker {
        id: id.into(),
        name: format!("{id}名"),
        phone: String::new(),
        role: "专职网格员".into(),
        photo: String::new(),
        duties: String::new(),
        grids: grids
            .iter()
            .map(|(c, s)| WorkerGrid {
                system: SYSTEM.into(),
                code: c.to_string(),
                share: *s,
            })
            .collect(),
    }
}

pub(crate) fn site(kind: &str, id: &str, lon: f64, lat: f64, households: Option<u32>) -> Site {
    Site {
        id: id.into(),
        kind: kind.into(),
        name: format!("{id}名"),
        address: None,
        households,
        location: Point::new(lon, lat),
        attributes: Default::default(),
    }
}

/// Street S = [120, 120.05] × [30, 30.01] → communities C1 = [120, 120.03]
/// (blocks B1..B3) and C2 = [120.03, 120.05] (B4, B5); blocks 0.01° wide.
pub(crate) fn block_tree(workers: Vec<Worker>) -> (Catalog, String) {
    let mut grids = vec![
        grid("S", "street", None, rect(120.0, 30.0, 120.05, 30.01)),
        grid(
            "C1",
            "community",
            Some("S"),
            rect(120.0, 30.0, 120.03, 30.01),
        ),
        grid(
            "C2",
            "community",
            Some("S"),
            rect(120.03, 30.0, 120.05, 30.01),
        ),
    ];
    // Literal borders, so neighbours share exactly the same coordinates.
    let xs = [120.0, 120.01, 120.02, 120.03, 120.04, 120.05];
    for k in 0..5 {
        let parent = if k < 3 { "C1" } else { "C2" };
        grids.push(grid(
            &format!("B{}", k + 1),
            "block",
            Some(parent),
            rect(xs[k], 30.0, xs[k + 1], 30.01),
        ));
    }
    (catalog(grids, workers), SYSTEM.to_string())
}

/// [`block_tree`] without workers, with `sites` placed in it.
pub(crate) fn block_tree_with_sites(sites: Vec<Site>) -> Catalog {
    block_tree(Vec::new()).0.with_sites(sites)
}

/// The [`SYSTEM`] index of a test catalog and its sites as the catalog placed them.
pub(crate) fn located(catalog: &Catalog) -> (&SystemIndex, Vec<LocatedSite<'_>>) {
    let index = catalog.system(SYSTEM).expect("a test catalog");
    (index, located_sites(catalog, index))
}

/// `ignored` counts `parts` parts of more than `above` and less than `below` m² in all.
pub(crate) fn assert_ignored(ignored: &Ignored, parts: usize, above: f64, below: f64) {
    assert_eq!(ignored.parts, parts, "{ignored:?}");
    assert!(
        ignored.area_m2 > above && ignored.area_m2 < below,
        "{}",
        ignored.area_m2
    );
}
