//! Small catalogs for the analysis tests.

use std::collections::BTreeMap;

use geo_types::{polygon, MultiPolygon, Point, Polygon};

use crate::catalog::Catalog;
use crate::index::SystemIndex;
use crate::model::{Grid, GridSystem, Site, Worker, WorkerGrid};

pub(crate) const SYSTEM: &str = "t";

pub(crate) fn rect(x0: f64, y0: f64, x1: f64, y1: f64) -> Polygon<f64> {
    polygon![(x: x0, y: y0), (x: x1, y: y0), (x: x1, y: y1), (x: x0, y: y1)]
}

pub(crate) fn grid(code: &str, level: &str, parent: Option<&str>, p: Polygon<f64>) -> Grid {
    Grid {
        code: code.into(),
        name: format!("{code}名"),
        level: level.into(),
        parent: parent.map(Into::into),
        geometry: MultiPolygon(vec![p]),
        attributes: Default::default(),
    }
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
    let system = GridSystem::with_default_levels(SYSTEM);
    let index = SystemIndex::build(system, grids);
    let systems: BTreeMap<String, SystemIndex> = [(SYSTEM.to_string(), index)].into();
    (Catalog::from_parts(7, systems, workers), SYSTEM.to_string())
}
