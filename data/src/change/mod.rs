//! Change sets: the one way data changes, from an import or (later) an edit.
//!
//! A [`ChangeSet`] says what to add, update and delete — grids per system,
//! workers, sites — and the data version it was made against. Every write
//! goes the same path:
//!
//! 1. build a `ChangeSet` (from a file in [`crate::import`], from an edit …);
//! 2. [`validate`] it against the [`Catalog`] of its base version: tree shape,
//!    levels, codes, geometry and, where the caller declares the system a
//!    partition, that siblings neither overlap nor leave gaps inside their
//!    parent beyond a stated tolerance;
//! 3. [`apply`] the [`ValidChange`]: one store transaction, refused when the
//!    store has moved past the base version in the meantime.
//!
//! ```
//! use gridmap_data::catalog::Catalog;
//! use gridmap_data::change::{validate, ChangeSet, SystemGrids, GridWriteMode, ValidateOptions};
//! use gridmap_data::{Grid, GridSystem};
//! use geo_types::{polygon, MultiPolygon};
//!
//! let catalog = Catalog::from_parts(0, Default::default(), vec![]);
//! let street = Grid {
//!     code: "330106001".into(), name: "北山街道".into(), level: "street".into(), parent: None,
//!     geometry: MultiPolygon(vec![polygon![(x: 120.1, y: 30.2), (x: 120.2, y: 30.2), (x: 120.2, y: 30.3), (x: 120.1, y: 30.3)]]),
//!     attributes: Default::default(),
//! };
//! let mut orphan = street.clone();
//! orphan.code = "330106001001".into();
//! orphan.level = "community".into();
//! orphan.parent = Some("330106009".into());
//! let change = ChangeSet {
//!     base_version: Some(0),
//!     grids: vec![SystemGrids::merge(GridSystem::with_default_levels("综治"), vec![street, orphan])],
//!     ..Default::default()
//! };
//! let problems = validate(&change, &catalog, &ValidateOptions::default()).unwrap_err();
//! assert_eq!(problems.0.len(), 1);
//! assert!(problems.to_string().contains("parent 330106009 does not exist"), "{problems}");
//! ```

mod snapshot;
pub(crate) mod tree;
mod validate;

use serde::{Deserialize, Serialize};

use crate::model::{Grid, GridSystem, Site, Worker};
use crate::store::{GridStore, StoreError};

pub use snapshot::{load_checked, validate_snapshot, CheckedLoadError};
pub use validate::{
    family_problems, validate, ChangeProblem, Problems, ValidChange, ValidateOptions,
};

/// How the grids of a [`SystemGrids`] meet the grids already in the system.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum GridWriteMode {
    /// Insert new codes, replace existing ones, delete `delete`; the rest of
    /// the system stays.
    Merge,
    /// The system afterwards holds exactly the given grids.
    Replace,
}

/// Everything one write changes; a store applies a change set in one transaction.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ChangeSet {
    /// The data version the change was made against; a store refuses the
    /// change when it has moved on since. `None`: apply to whatever is there.
    pub base_version: Option<u64>,
    /// Grid systems to create or update, with their grids.
    pub grids: Vec<SystemGrids>,
    /// Workers to insert or replace (matched by id). Their assignments in the
    /// systems named by `worker_systems` are replaced by the ones given.
    pub workers: Vec<Worker>,
    /// Systems whose assignments the `workers` list replaces for those workers.
    pub worker_systems: Vec<String>,
    /// Ids of workers to delete, with all their assignments.
    #[serde(default)]
    pub delete_workers: Vec<String>,
    /// Sites to insert or replace (matched by kind and id).
    pub sites: Vec<Site>,
    /// Kinds whose sites are removed before `sites` are written.
    pub replace_site_kinds: Vec<String>,
    /// Sites to delete, as (kind, id).
    #[serde(default)]
    pub delete_sites: Vec<(String, String)>,
}

/// Grids of one system within a [`ChangeSet`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SystemGrids {
    pub system: GridSystem,
    pub mode: GridWriteMode,
    /// Grids to insert or replace (matched by code).
    pub grids: Vec<Grid>,
    /// Codes of grids to delete (in [`GridWriteMode::Merge`]); workers'
    /// assignments to them go too.
    #[serde(default)]
    pub delete: Vec<String>,
}

impl SystemGrids {
    /// Insert or replace `grids` in `system`, keeping its other grids.
    pub fn merge(system: GridSystem, grids: Vec<Grid>) -> Self {
        Self {
            system,
            mode: GridWriteMode::Merge,
            grids,
            delete: Vec::new(),
        }
    }

    /// Make `system` hold exactly `grids`.
    pub fn replace(system: GridSystem, grids: Vec<Grid>) -> Self {
        Self {
            mode: GridWriteMode::Replace,
            ..Self::merge(system, grids)
        }
    }
}

impl ChangeSet {
    /// True when the change set changes nothing.
    pub fn is_empty(&self) -> bool {
        self.grids.is_empty()
            && self.workers.is_empty()
            && self.worker_systems.is_empty()
            && self.delete_workers.is_empty()
            && self.sites.is_empty()
            && self.replace_site_kinds.is_empty()
            && self.delete_sites.is_empty()
    }
}

/// Writes a validated change in one transaction; returns the new data version.
/// Refused with [`StoreError::StaleBase`] when the store moved past the
/// version the change was validated against.
pub fn apply(store: &dyn GridStore, change: &ValidChange) -> Result<u64, StoreError> {
    store.apply(change.change_set())
}

/// [`apply`], with the edit's history written in the same transaction.
pub fn apply_recorded(
    store: &dyn GridStore,
    change: &ValidChange,
    record: &crate::history::ChangeRecord,
) -> Result<u64, StoreError> {
    store.apply_recorded(change.change_set(), record)
}
