//! Storage backends behind one trait.
//!
//! Every backend lives in its own folder (`gpkg/` now, `postgis/` later) and
//! implements [`GridStore`]. The rules every backend keeps:
//!
//! - **Atomic writes.** [`GridStore::apply`] writes a whole [`ChangeSet`] in one
//!   transaction: after a crash the store holds either all of it or none of it.
//! - **A data version.** Every successful `apply` raises [`GridStore::data_version`],
//!   so caches (tiles, indexes) built from an older version can tell they are stale,
//!   also when another process wrote (several servers on one database).
//! - **Geometry in EPSG:4326**, longitude first.
//! - The store does not judge the data: tree and geometry validation happen in
//!   [`crate::import`] before a change set reaches the store.

pub mod gpkg;

use crate::model::{ChangeSet, Grid, GridSystem, Site, Worker};

/// Errors of a storage backend.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("cannot open store {path}: {reason}")]
    Open { path: String, reason: String },
    #[error("store schema version {found} is newer than this gridmap supports ({supported}); upgrade gridmap")]
    SchemaTooNew { found: i64, supported: i64 },
    #[error("corrupt record in {table} ({key}): {reason}")]
    Corrupt {
        table: String,
        key: String,
        reason: String,
    },
    #[error("unknown grid system `{0}`")]
    UnknownSystem(String),
}

/// A place where grids, workers and sites are kept.
pub trait GridStore: Send {
    /// All grid systems, ordered by name.
    fn systems(&self) -> Result<Vec<GridSystem>, StoreError>;
    /// All grids of a system, ordered by depth then code.
    fn grids(&self, system: &str) -> Result<Vec<Grid>, StoreError>;
    /// All workers with their assignments (in every system), ordered by id.
    fn workers(&self) -> Result<Vec<Worker>, StoreError>;
    /// Sites, of one kind or of all kinds, ordered by kind then id.
    fn sites(&self, kind: Option<&str>) -> Result<Vec<Site>, StoreError>;
    /// Applies a change set in one transaction; returns the new data version.
    fn apply(&mut self, change: &ChangeSet) -> Result<u64, StoreError>;
    /// A number that grows with every committed write.
    fn data_version(&self) -> Result<u64, StoreError>;
}
