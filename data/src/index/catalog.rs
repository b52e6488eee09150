//! Everything a server answers from, loaded from a store at one data version.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use super::{Hit, SystemIndex};
use crate::model::{Grid, Site, Worker};
use crate::sites::{GridSiteStats, SiteEntry, SiteRegister};
use crate::store::{GridStore, StoreError};

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
    /// Loads every system from the store and builds its index.
    pub fn load(store: &dyn GridStore) -> Result<Self, StoreError> {
        let catalog = Self::load_grids(store)?;
        let sites = store.sites(None)?;
        Ok(catalog.with_sites(sites))
    }

    /// Loads grids and workers but no sites: for jobs that only locate points
    /// (`gridmap assign`), where reading and assigning a million registered
    /// sites would be most of the start-up time.
    pub fn load_grids(store: &dyn GridStore) -> Result<Self, StoreError> {
        let version = store.data_version()?;
        let mut systems = BTreeMap::new();
        for system in store.systems()? {
            let grids = store.grids(&system.name)?;
            let name = system.name.clone();
            systems.insert(name, SystemIndex::build(system, grids));
        }
        let workers = store.workers()?;
        Ok(Self::from_parts(version, systems, workers))
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
