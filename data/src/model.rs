//! The grid model: systems, grids, workers and sites.
//!
//! Geometry is always longitude/latitude on WGS84/CGCS2000 (EPSG:4326); any
//! conversion from another CRS happens at import time (see [`crate::crs`]).

use geo_types::{MultiPolygon, Point};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Default grid system name when none is given.
pub const DEFAULT_SYSTEM: &str = "default";
/// Default level names, top down: 街道 → 社区 → 单元网格.
pub const DEFAULT_LEVELS: [&str; 3] = ["street", "community", "block"];

/// A themed grid system (综治, 消防, 劳动监察 …): a tree of grids with named levels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GridSystem {
    pub name: String,
    /// Level names from the top of the tree down; a grid's level is its depth.
    pub levels: Vec<String>,
}

impl GridSystem {
    pub fn new(name: impl Into<String>, levels: Vec<String>) -> Self {
        Self {
            name: name.into(),
            levels,
        }
    }

    /// A system with the default levels `street,community,block`.
    pub fn with_default_levels(name: impl Into<String>) -> Self {
        Self::new(name, DEFAULT_LEVELS.iter().map(|s| s.to_string()).collect())
    }

    /// Depth (0 = top) of a level name, if the system has it.
    pub fn depth_of(&self, level: &str) -> Option<usize> {
        self.levels.iter().position(|l| l == level)
    }
}

/// One grid (网格) of a system.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Grid {
    /// Unique within its system; typically the 15-digit DB11/T 2157 code.
    pub code: String,
    pub name: String,
    pub level: String,
    /// Code of the parent grid; `None` at the top level.
    pub parent: Option<String>,
    /// Longitude/latitude, EPSG:4326. Polygons are stored as one-member multipolygons.
    pub geometry: MultiPolygon<f64>,
    /// Free attributes carried over from the import.
    pub attributes: Map<String, Value>,
}

impl Grid {
    /// A grid without attributes; its name is its code until [`Grid::named`].
    ///
    /// ```
    /// use geo_types::{polygon, MultiPolygon};
    /// use gridmap_data::model::Grid;
    /// let square = polygon![(x: 0.0, y: 0.0), (x: 1.0, y: 0.0), (x: 1.0, y: 1.0), (x: 0.0, y: 1.0)];
    /// let g = Grid::new("330106001001001", "block", Some("330106001001"), MultiPolygon(vec![square]))
    ///     .named("一号网格");
    /// assert_eq!((g.name.as_str(), g.parent.as_deref()), ("一号网格", Some("330106001001")));
    /// ```
    pub fn new(
        code: impl Into<String>,
        level: impl Into<String>,
        parent: Option<&str>,
        geometry: MultiPolygon<f64>,
    ) -> Self {
        let code = code.into();
        Self {
            name: code.clone(),
            code,
            level: level.into(),
            parent: parent.map(str::to_string),
            geometry,
            attributes: Map::new(),
        }
    }

    /// The same grid with another name.
    #[must_use]
    pub fn named(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }
}

/// A worker's share of one grid: 1 = own grid, 0.5 = a half extra grid.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkerGrid {
    pub system: String,
    pub code: String,
    pub share: f64,
}

/// A gridworker (网格员), grid chief (网格长), community police officer (社区民警) …
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Worker {
    pub id: String,
    pub name: String,
    pub phone: String,
    pub role: String,
    /// Path or URL of a photo.
    pub photo: String,
    pub duties: String,
    pub grids: Vec<WorkerGrid>,
}

/// A registered point: an address (门牌), enterprise, fire-risk site, school …
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Site {
    /// Unique within its kind.
    pub id: String,
    /// `address`, `enterprise`, `fire_risk`, `school`, `internet_cafe`, `food`, or any other name.
    pub kind: String,
    pub name: String,
    pub address: Option<String>,
    /// Households at an address point.
    pub households: Option<u32>,
    /// Longitude/latitude, EPSG:4326.
    pub location: Point<f64>,
    pub attributes: Map<String, Value>,
}

pub use crate::change::{ChangeSet, GridWriteMode, SystemGrids};
