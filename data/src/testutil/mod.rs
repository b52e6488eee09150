//! Helpers shared by the unit tests of several modules: files, grids by
//! hand, GeoJSON features, workers, and an in-memory store.

mod mem_store;

use std::path::{Path, PathBuf};

use geo_types::{polygon, MultiPolygon, Polygon};
use serde_json::{json, Value};

use crate::index::SystemIndex;
use crate::model::{Grid, GridSystem, Worker, WorkerGrid};

pub(crate) use mem_store::MemStore;

/// Writes `text` to `name` inside `dir`.
pub(crate) fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// The rectangle [x0, x1] × [y0, y1].
pub(crate) fn rect(x0: f64, y0: f64, x1: f64, y1: f64) -> Polygon<f64> {
    polygon![(x: x0, y: y0), (x: x1, y: y0), (x: x1, y: y1), (x: x0, y: y1)]
}

/// A grid of one polygon, named by its code.
pub(crate) fn grid(code: &str, level: &str, parent: Option<&str>, polygon: Polygon<f64>) -> Grid {
    Grid::new(code, level, parent, MultiPolygon(vec![polygon]))
}

/// Street S = [0,2]×[0,1] with blocks W = [0,1]×[0,1] and E = [1,2]×[0,1]
/// (grids 0, 1, 2), whose shared edge x = 1 belongs to E by the border rule.
pub(crate) fn two_blocks() -> SystemIndex {
    SystemIndex::build(
        GridSystem::new("s", vec!["street".into(), "block".into()]),
        vec![
            grid("S", "street", None, rect(0.0, 0.0, 2.0, 1.0)),
            grid("W", "block", Some("S"), rect(0.0, 0.0, 1.0, 1.0)),
            grid("E", "block", Some("S"), rect(1.0, 0.0, 2.0, 1.0)),
        ],
    )
}

/// A worker with a name and no other details, serving `grids` of `system`
/// as `(code, share)`.
pub(crate) fn worker(id: &str, name: &str, system: &str, grids: &[(&str, f64)]) -> Worker {
    Worker {
        id: id.into(),
        name: name.into(),
        phone: String::new(),
        role: String::new(),
        photo: String::new(),
        duties: String::new(),
        grids: grids
            .iter()
            .map(|&(code, share)| WorkerGrid {
                system: system.into(),
                code: code.into(),
                share,
            })
            .collect(),
    }
}

/// A GeoJSON Polygon: the square of side `d` with its south-west corner at (x, y).
pub(crate) fn square(x: f64, y: f64, d: f64) -> Value {
    json!({"type": "Polygon", "coordinates": [[[x, y], [x + d, y], [x + d, y + d], [x, y + d], [x, y]]]})
}

/// A GeoJSON Feature.
pub(crate) fn feature(properties: Value, geometry: Value) -> Value {
    json!({"type": "Feature", "properties": properties, "geometry": geometry})
}

/// A GeoJSON FeatureCollection, as text.
pub(crate) fn collection(features: Vec<Value>) -> String {
    json!({"type": "FeatureCollection", "features": features}).to_string()
}
