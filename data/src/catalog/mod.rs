//! The catalog: everything a server answers from, read from a store at one
//! data version ([`GridStore::snapshot`]) and never changed afterwards.
//!
//! It holds a spatial index per grid system ([`crate::index::SystemIndex`],
//! whose R-trees are built on the first lookup), the workers and their grids,
//! and the site registers with every site already placed in its grid at
//! every level (placing them is such a lookup). Picking a system and finding a
//! grid by code are answered here, once, for every caller (HTTP, CLI,
//! analysis).
//!
//! ```
//! use gridmap_data::catalog::{Catalog, CatalogError};
//! use gridmap_data::index::SystemIndex;
//! use gridmap_data::{Grid, GridSystem};
//! use geo_types::{polygon, MultiPolygon};
//!
//! let square = polygon![(x: 120.0, y: 30.0), (x: 120.01, y: 30.0), (x: 120.01, y: 30.01), (x: 120.0, y: 30.01)];
//! let block = Grid::new("330106001001001", "block", None, MultiPolygon(vec![square])).named("翠苑一区");
//! let system = GridSystem::new("综治", vec!["block".into()]);
//! let index = SystemIndex::build(system, vec![block]);
//! let catalog = Catalog::from_parts(7, [("综治".to_string(), index)].into(), vec![]);
//! assert_eq!(catalog.pick_system(None).unwrap().system().name, "综治");
//! let found = catalog.find_grid(None, "330106001001001").unwrap();
//! assert_eq!(found.grid.name, "翠苑一区");
//! assert!(matches!(catalog.find_grid(None, "9"), Err(CatalogError::UnknownGrid { .. })));
//! ```

mod patch;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

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
    /// Shared with the catalog patched after a change ([`Catalog::after_change`]) when it leaves a system as it is.
    systems: BTreeMap<String, Arc<SystemIndex>>,
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
    /// (`gridmap assign`) or read grids by code, where reading and assigning a
    /// million registered sites would be most of the start-up time. No R-tree
    /// is built until the first lookup.
    pub fn load_grids(store: &dyn GridStore) -> Result<Self, StoreError> {
        Ok(Self::from_snapshot(
            store.snapshot(SnapshotParts::GridsAndWorkers)?,
        ))
    }

    /// Indexes a snapshot and places its sites; the catalog carries its
    /// version. Without sites no R-tree is built until a lookup asks for one.
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
        Self {
            version,
            systems: systems.into_iter().map(|(k, v)| (k, Arc::new(v))).collect(),
            workers_by_grid: index_workers(&workers),
            workers,
            sites: SiteRegister::default(),
        }
    }

    /// Replaces the catalog's sites and assigns them to the grids of every system.
    pub fn with_sites(mut self, sites: Vec<Site>) -> Self {
        self.sites = SiteRegister::build(sites, self.systems.values().map(|s| &**s));
        self
    }

    pub fn version(&self) -> u64 {
        self.version
    }

    pub fn systems(&self) -> impl Iterator<Item = &SystemIndex> {
        self.systems.values().map(|s| &**s)
    }

    pub fn system(&self, name: &str) -> Option<&SystemIndex> {
        self.systems.get(name).map(|s| &**s)
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
                let mut all = self.systems();
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
        self.system(name)
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
            None => Ok(self.systems().collect()),
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

/// (system, code) → indexes into `workers` with the worker's share.
fn index_workers(workers: &[Worker]) -> HashMap<(String, String), Vec<(usize, f64)>> {
    let mut by_grid: HashMap<(String, String), Vec<(usize, f64)>> = HashMap::new();
    for (wi, w) in workers.iter().enumerate() {
        for g in &w.grids {
            by_grid
                .entry((g.system.clone(), g.code.clone()))
                .or_default()
                .push((wi, g.share));
        }
    }
    by_grid
}

#[cfg(test)]
mod tests {
    use geo_types::Point;

    use super::*;
    use crate::geometry::testutil::rect;
    use crate::model::{ChangeSet, GridSystem, GridWriteMode, SystemGrids};
    use crate::store::gpkg::GpkgStore;

    /// Street S = [120, 120.02] × [30, 30.01], split at 120.01 into blocks W and E.
    fn system() -> (GridSystem, Vec<Grid>) {
        let levels = vec!["street".into(), "block".into()];
        let grids = vec![
            Grid::new("S", "street", None, rect(120.0, 30.0, 120.02, 30.01).into()),
            Grid::new(
                "W",
                "block",
                Some("S"),
                rect(120.0, 30.0, 120.01, 30.01).into(),
            ),
            Grid::new(
                "E",
                "block",
                Some("S"),
                rect(120.01, 30.0, 120.02, 30.01).into(),
            ),
        ];
        (GridSystem::new("t", levels), grids)
    }

    fn snapshot(sites: Vec<Site>) -> Snapshot {
        Snapshot {
            version: 3,
            checked: true,
            systems: vec![system()],
            workers: Vec::new(),
            sites,
        }
    }

    fn school(lon: f64, lat: f64) -> Site {
        Site {
            id: "s1".into(),
            kind: "school".into(),
            name: "一小".into(),
            address: None,
            households: None,
            location: Point::new(lon, lat),
            attributes: Default::default(),
        }
    }

    /// The codes found at a point inside W, on the W|E border, inside E and outside.
    fn answers(catalog: &Catalog) -> Vec<Vec<String>> {
        let index = catalog.system("t").unwrap();
        [
            (120.005, 30.005),
            (120.01, 30.005),
            (120.015, 30.005),
            (121.0, 30.0),
        ]
        .iter()
        .map(|&(x, y)| {
            index
                .locate(x, y)
                .iter()
                .map(|h| index.grids()[h.grid].code.clone())
                .collect()
        })
        .collect()
    }

    #[test]
    fn a_catalog_without_sites_builds_no_spatial_index_until_a_lookup() {
        let catalog = Catalog::from_snapshot(snapshot(Vec::new()));
        let index = catalog.system("t").unwrap();
        // What judging a change reads: systems, grids by code, the tree, workers.
        assert_eq!(catalog.pick_system(None).unwrap().system().name, "t");
        let found = catalog.find_grid(None, "E").unwrap();
        assert_eq!(found.grid.parent.as_deref(), Some("S"));
        assert_eq!(index.children(index.grid_index("S").unwrap()), [1, 2]);
        assert!(catalog.workers_of("t", "E").is_empty());
        assert!(!index.spatial_index_built());

        let lazy = answers(&catalog);
        assert!(index.spatial_index_built());
        assert_eq!(
            lazy,
            [vec!["S", "W"], vec!["S", "E"], vec!["S", "E"], vec![]]
        );
        let eager = Catalog::from_snapshot(snapshot(Vec::new()));
        assert_eq!(
            eager.system("t").unwrap().bounds(),
            Some([120.0, 30.0, 120.02, 30.01])
        );
        assert_eq!(answers(&eager), lazy);
    }

    #[test]
    fn sites_are_placed_when_the_catalog_is_built() {
        let catalog = Catalog::from_snapshot(snapshot(vec![school(120.015, 30.005)]));
        let index = catalog.system("t").unwrap();
        assert!(
            index.spatial_index_built(),
            "placing the sites located them"
        );
        let placed: Vec<Option<&str>> = catalog
            .site_assignment("t", 0)
            .unwrap()
            .iter()
            .map(|h| h.map(|h| index.grids()[h.grid].code.as_str()))
            .collect();
        assert_eq!(placed, [Some("S"), Some("E")]);
    }

    #[test]
    fn loading_grids_only_reads_no_sites_and_builds_no_spatial_index() {
        let dir = tempfile::tempdir().unwrap();
        let store = GpkgStore::open(dir.path().join("c.gpkg")).unwrap();
        let (system, grids) = system();
        store
            .apply(&ChangeSet {
                grids: vec![SystemGrids {
                    system,
                    mode: GridWriteMode::Replace,
                    grids,
                    delete: Vec::new(),
                }],
                sites: vec![school(120.005, 30.005)],
                ..ChangeSet::default()
            })
            .unwrap();
        let grids_only = Catalog::load_grids(&store).unwrap();
        assert!(grids_only.sites().is_empty());
        assert!(!grids_only.system("t").unwrap().spatial_index_built());
        let full = Catalog::load(&store).unwrap();
        assert_eq!(full.sites().len(), 1);
        assert!(full.system("t").unwrap().spatial_index_built());
        assert_eq!(answers(&grids_only), answers(&full));
    }
}
