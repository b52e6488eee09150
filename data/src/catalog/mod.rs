//! The catalog: everything a server answers from, read from a store at one
//! data version ([`GridStore::snapshot`]) and never changed afterwards.
//!
//! It holds a spatial index per grid system ([`crate::index::SystemIndex`]),
//! the workers and their grids, and the site registers with every site
//! already placed in its grid at every level. Picking a system and finding a
//! grid by code are answered here, once, for every caller (HTTP, CLI,
//! analysis).
//!
//! ```
//! use gridmap_data::catalog::{Catalog, CatalogError};
//! use gridmap_data::index::SystemIndex;
//! use gridmap_data::{Grid, GridSystem};
//! use geo_types::{polygon, MultiPolygon};
//!
//! let block = Grid {
//!     code: "330106001001001".into(), name: "翠苑一区".into(), level: "block".into(), parent: None,
//!     geometry: MultiPolygon(vec![polygon![(x: 120.0, y: 30.0), (x: 120.01, y: 30.0), (x: 120.01, y: 30.01), (x: 120.0, y: 30.01)]]),
//!     attributes: Default::default(),
//! };
//! let system = GridSystem::new("综治", vec!["block".into()]);
//! let index = SystemIndex::build(system, vec![block]);
//! let catalog = Catalog::from_parts(7, [("综治".to_string(), index)].into(), vec![]);
//! assert_eq!(catalog.pick_system(None).unwrap().system().name, "综治");
//! let found = catalog.find_grid(None, "330106001001001").unwrap();
//! assert_eq!(found.grid.name, "翠苑一区");
//! assert!(matches!(catalog.find_grid(None, "9"), Err(CatalogError::UnknownGrid { .. })));
//! ```

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use crate::index::{Hit, SystemIndex};
use crate::model::{Grid, Site, Worker};
use crate::sites::{GridSiteStats, SiteEntry, SiteRegister};
use crate::store::{GridStore, Snapshot, SnapshotParts, StoreError};

/// Asking a catalog for something it does not hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CatalogError {
    #[error("unknown grid system `{name}`; known systems: {known}")]
    UnknownSystem { name: String, known: String },
    #[error("the store has several grid systems ({known}); choose one")]
    SystemRequired { known: String },
    #[error("no grid with code `{code}`")]
    UnknownGrid { code: String },
    #[error("code `{code}` exists in systems {systems}; choose one")]
    AmbiguousCode { code: String, systems: String },
}

/// A grid found by code: its system's index, its position there, the grid.
#[derive(Clone, Copy)]
pub struct FoundGrid<'a> {
    pub system: &'a SystemIndex,
    /// Index into [`SystemIndex::grids`].
    pub index: usize,
    pub grid: &'a Grid,
}

/// A grid as named in lookup answers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GridRef {
    pub code: String,
    pub name: String,
    pub level: String,
    pub system: String,
    pub parent: Option<String>,
}

impl GridRef {
    pub fn new(system: &str, g: &Grid) -> Self {
        Self {
            code: g.code.clone(),
            name: g.name.clone(),
            level: g.level.clone(),
            system: system.to_string(),
            parent: g.parent.clone(),
        }
    }
}

/// An immutable snapshot of the store: indexes of every system plus workers
/// and sites, each site assigned to its grid at every level of every system.
/// A server swaps in a new catalog when the data version changes.
pub struct Catalog {
    version: u64,
    systems: BTreeMap<String, SystemIndex>,
    workers: Vec<Worker>,
    /// (system, code) → indexes into `workers` with the worker's share.
    workers_by_grid: HashMap<(String, String), Vec<(usize, f64)>>,
    sites: SiteRegister,
}

impl Catalog {
    /// Reads one snapshot of the store and builds every index from it.
    pub fn load(store: &dyn GridStore) -> Result<Self, StoreError> {
        Ok(Self::from_snapshot(store.snapshot(SnapshotParts::All)?))
    }

    /// Loads grids and workers but no sites: for jobs that only locate points
    /// (`gridmap assign`), where reading and assigning a million registered
    /// sites would be most of the start-up time.
    pub fn load_grids(store: &dyn GridStore) -> Result<Self, StoreError> {
        Ok(Self::from_snapshot(
            store.snapshot(SnapshotParts::GridsAndWorkers)?,
        ))
    }

    /// Builds the indexes of a snapshot; the catalog carries its version.
    pub fn from_snapshot(snapshot: Snapshot) -> Self {
        let systems = snapshot
            .systems
            .into_iter()
            .map(|(system, grids)| (system.name.clone(), SystemIndex::build(system, grids)))
            .collect();
        Self::from_parts(snapshot.version, systems, snapshot.workers).with_sites(snapshot.sites)
    }

    /// Builds a catalog from indexes already made (tests, demo).
    pub fn from_parts(
        version: u64,
        systems: BTreeMap<String, SystemIndex>,
        workers: Vec<Worker>,
    ) -> Self {
        let mut workers_by_grid: HashMap<(String, String), Vec<(usize, f64)>> = HashMap::new();
        for (wi, w) in workers.iter().enumerate() {
            for g in &w.grids {
                workers_by_grid
                    .entry((g.system.clone(), g.code.clone()))
                    .or_default()
                    .push((wi, g.share));
            }
        }
        Self {
            version,
            systems,
            workers,
            workers_by_grid,
            sites: SiteRegister::default(),
        }
    }

    /// Replaces the catalog's sites and assigns them to the grids of every system.
    pub fn with_sites(mut self, sites: Vec<Site>) -> Self {
        self.sites = SiteRegister::build(sites, self.systems.values());
        self
    }

    pub fn version(&self) -> u64 {
        self.version
    }

    pub fn systems(&self) -> impl Iterator<Item = &SystemIndex> {
        self.systems.values()
    }

    pub fn system(&self, name: &str) -> Option<&SystemIndex> {
        self.systems.get(name)
    }

    /// System names, comma-separated, for messages.
    fn system_names(&self) -> String {
        if self.systems.is_empty() {
            "(none)".to_string()
        } else {
            self.systems.keys().cloned().collect::<Vec<_>>().join(", ")
        }
    }

    /// The system `requested` (which must exist), or else the only system.
    pub fn pick_system(&self, requested: Option<&str>) -> Result<&SystemIndex, CatalogError> {
        match requested {
            Some(name) => self.named_system(name),
            None => {
                let mut all = self.systems.values();
                match (all.next(), all.next()) {
                    (Some(only), None) => Ok(only),
                    (None, _) => Err(CatalogError::UnknownSystem {
                        name: String::new(),
                        known: "(none)".into(),
                    }),
                    _ => Err(CatalogError::SystemRequired {
                        known: self.system_names(),
                    }),
                }
            }
        }
    }

    /// The system `name`, or an error listing the known ones.
    pub fn named_system(&self, name: &str) -> Result<&SystemIndex, CatalogError> {
        self.systems
            .get(name)
            .ok_or_else(|| CatalogError::UnknownSystem {
                name: name.to_string(),
                known: self.system_names(),
            })
    }

    /// The system `requested`, or all systems when none is named.
    pub fn select_systems(
        &self,
        requested: Option<&str>,
    ) -> Result<Vec<&SystemIndex>, CatalogError> {
        match requested {
            Some(name) => Ok(vec![self.named_system(name)?]),
            None => Ok(self.systems.values().collect()),
        }
    }

    /// The one grid with `code` in the system `requested`, or in any system
    /// when none is named (then the code must be unique across systems).
    pub fn find_grid(
        &self,
        requested: Option<&str>,
        code: &str,
    ) -> Result<FoundGrid<'_>, CatalogError> {
        let found: Vec<FoundGrid> = self
            .select_systems(requested)?
            .into_iter()
            .filter_map(|system| {
                let index = system.grid_index(code)?;
                Some(FoundGrid {
                    system,
                    index,
                    grid: &system.grids()[index],
                })
            })
            .collect();
        match found.as_slice() {
            [] => Err(CatalogError::UnknownGrid {
                code: code.to_string(),
            }),
            [one] => Ok(*one),
            many => Err(CatalogError::AmbiguousCode {
                code: code.to_string(),
                systems: many
                    .iter()
                    .map(|f| f.system.system().name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            }),
        }
    }

    /// Workers serving a grid, with their share of it, ordered by worker id.
    pub fn workers_of(&self, system: &str, code: &str) -> Vec<(&Worker, f64)> {
        self.workers_by_grid
            .get(&(system.to_string(), code.to_string()))
            .map(|v| v.iter().map(|&(i, s)| (&self.workers[i], s)).collect())
            .unwrap_or_default()
    }

    pub fn workers(&self) -> &[Worker] {
        &self.workers
    }

    /// All sites (compact: no free attributes), ordered by kind then id.
    pub fn sites(&self) -> &[SiteEntry] {
        self.sites.sites()
    }

    /// The sites with their assignments, counts and spatial index.
    pub fn site_register(&self) -> &SiteRegister {
        &self.sites
    }

    /// The grid holding site `site` (an index into [`Catalog::sites`]) at
    /// each level of `system`, top down; `None` for an unknown system or site.
    pub fn site_assignment(&self, system: &str, site: usize) -> Option<Vec<Option<Hit>>> {
        self.sites.site_assignment(system, site)
    }

    /// Site counts per kind and households inside a grid (its whole subtree).
    pub fn grid_site_stats(&self, system: &str, grid: usize) -> Option<GridSiteStats> {
        self.sites.grid_stats(system, grid)
    }

    /// Indexes into [`Catalog::sites`] of the sites inside a grid, in kind/id order.
    pub fn sites_in_grid(&self, system: &str, grid: usize) -> &[u32] {
        self.sites.sites_in_grid(system, grid)
    }
}
