//! Storage backends behind one trait.
//!
//! Every backend lives in its own folder (`gpkg/`, `postgis/`) and
//! implements [`GridStore`]; [`open`] picks the backend from a location (a file
//! path or a `postgres://` URL). The rules every backend keeps:
//!
//! - **Atomic writes.** [`GridStore::apply`] writes a whole [`ChangeSet`] in one
//!   transaction: after a crash the store holds either all of it or none of it.
//!   A change set made against a base version is refused when the store has
//!   moved on ([`StoreError::StaleBase`]), checked inside that transaction.
//! - **A data version.** Every successful `apply` raises [`GridStore::data_version`],
//!   so caches (tiles, indexes) built from an older version can tell they are stale,
//!   also when another process wrote (several servers on one database).
//! - **Consistent reads.** [`GridStore::snapshot`] reads the version and
//!   everything a catalog needs in one read transaction, so it never mixes two
//!   versions.
//! - **Shared by readers.** A store is `Send + Sync` and reads take `&self`, so
//!   one handle serves many requests at once (a pooled backend fits behind it).
//! - **Geometry in EPSG:4326**, longitude first.
//! - The store does not judge the data: validation happens in
//!   [`crate::change::validate`] before a change set reaches the store.

pub mod gpkg;
pub mod postgis;

use std::path::PathBuf;

use crate::accounts::{Account, Role};
use crate::history::{ChangeRecord, HistoryEntry};
use crate::model::{ChangeSet, Grid, GridSystem, Site, Worker};

/// Errors of a storage backend. A backend's own error (SQLite, PostgreSQL …)
/// travels inside [`StoreError::Backend`], so callers never depend on it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    #[error("{backend} store: {source}")]
    Backend {
        /// `gpkg`, `postgis` …
        backend: &'static str,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
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
    #[error("the change was made against data version {base}, but the store is now at version {current}; reload and make the change again")]
    StaleBase { base: u64, current: u64 },
    #[error("cannot open store {location}: {reason}")]
    Unsupported { location: String, reason: String },
    #[error("account `{0}` exists already")]
    AccountExists(String),
    #[error("proposal {id} was changed by another request meanwhile (revision {found}, expected {expected}); reload it and try again")]
    ProposalMoved { id: u64, found: u64, expected: u64 },
}

/// A proposal (draft change) as the store keeps it: the columns it is listed
/// by, and its content as JSON the editing module owns.
#[derive(Debug, Clone, PartialEq)]
pub struct ProposalRow {
    /// 0 for a new proposal: [`GridStore::save_proposal`] gives it an id.
    pub id: u64,
    /// Grows with every save; a save naming another revision is refused.
    pub revision: u64,
    pub system: String,
    pub state: String,
    pub title: String,
    pub author: String,
    pub base_version: u64,
    /// RFC 3339, UTC; set by the store.
    pub created: String,
    pub updated: String,
    pub body: serde_json::Value,
}

/// One line of the audit table: who did what to which target.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct AuditEntry {
    pub id: u64,
    /// RFC 3339, UTC; set by the store.
    pub at: String,
    pub account: String,
    /// `proposal.create`, `proposal.edit`, `proposal.publish`, `user.add` …
    pub action: String,
    /// What it acted on: `proposal 3`, `version 17`, an account name …
    pub target: String,
    pub detail: String,
}

/// What a [`GridStore::snapshot`] reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SnapshotParts {
    /// Systems, grids, workers and sites.
    All,
    /// Everything but the sites: for jobs that only locate points (`gridmap
    /// assign`), where reading a million registered sites would be most of the
    /// start-up time.
    GridsAndWorkers,
}

/// Everything a catalog is built from, read at one data version.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    pub version: u64,
    /// Every row came through gridmap's validated change path, or the whole
    /// snapshot was validated since ([`GridStore::mark_checked`]). `false`
    /// after another program (QGIS, ogr2ogr) wrote to the store: validate it
    /// ([`crate::change::validate_snapshot`]) before serving it.
    pub checked: bool,
    /// Every system (ordered by name) with its grids (ordered by depth, then code).
    pub systems: Vec<(GridSystem, Vec<Grid>)>,
    /// Ordered by id.
    pub workers: Vec<Worker>,
    /// Ordered by kind, then id; empty for [`SnapshotParts::GridsAndWorkers`].
    pub sites: Vec<Site>,
}

/// A place where grids, workers and sites are kept.
pub trait GridStore: Send + Sync + std::fmt::Debug {
    /// Where the store is, for messages (a path, or a URL without password).
    fn location(&self) -> String;
    /// The version and all data, read in one transaction.
    fn snapshot(&self, parts: SnapshotParts) -> Result<Snapshot, StoreError>;
    /// All grid systems, ordered by name.
    fn systems(&self) -> Result<Vec<GridSystem>, StoreError>;
    /// All grids of a system, ordered by depth then code.
    fn grids(&self, system: &str) -> Result<Vec<Grid>, StoreError>;
    /// All workers with their assignments (in every system), ordered by id.
    fn workers(&self) -> Result<Vec<Worker>, StoreError>;
    /// Sites, of one kind or of all kinds, ordered by kind then id.
    fn sites(&self, kind: Option<&str>) -> Result<Vec<Site>, StoreError>;
    /// Applies a change set in one transaction; returns the new data version.
    /// Refuses with [`StoreError::StaleBase`] when the change names a base
    /// version other than the store's.
    fn apply(&self, change: &ChangeSet) -> Result<u64, StoreError>;
    /// [`GridStore::apply`], keeping `record` as the history of the new
    /// version in the same transaction (an unrecorded apply is kept as an
    /// import, without its grids).
    fn apply_recorded(&self, change: &ChangeSet, record: &ChangeRecord) -> Result<u64, StoreError>;
    /// A number that grows with every committed write, by gridmap or by
    /// another program writing to the store.
    fn data_version(&self) -> Result<u64, StoreError>;
    /// Records that the content at `version` was validated as a whole (after
    /// an outside edit); `Ok(false)` when the store has moved on since.
    fn mark_checked(&self, version: u64) -> Result<bool, StoreError>;

    // Accounts, audit, proposals and history: the editing side. None of it
    // raises the data version except what [`GridStore::apply`] writes.

    /// Creates an account keeping only `token_hash`;
    /// [`StoreError::AccountExists`] when the name is taken (revoked or not).
    fn add_account(&self, name: &str, role: Role, token_hash: &str) -> Result<Account, StoreError>;
    /// Every account, revoked ones included, ordered by name.
    fn accounts(&self) -> Result<Vec<Account>, StoreError>;
    /// The live (not revoked) account whose token has this hash.
    fn account_by_token(&self, token_hash: &str) -> Result<Option<Account>, StoreError>;
    /// Revokes an account; `Ok(false)` when there is no live account of that name.
    fn revoke_account(&self, name: &str) -> Result<bool, StoreError>;
    /// Appends to the audit table (its own transaction).
    fn audit(
        &self,
        account: &str,
        action: &str,
        target: &str,
        detail: &str,
    ) -> Result<(), StoreError>;
    /// The newest audit entries first.
    fn audit_log(&self, limit: usize, offset: usize) -> Result<Vec<AuditEntry>, StoreError>;
    /// Inserts (`id` 0) or updates a proposal, refusing with
    /// [`StoreError::ProposalMoved`] when its stored revision is not
    /// `row.revision`; returns the row as stored (id, revision + 1, times).
    fn save_proposal(&self, row: &ProposalRow) -> Result<ProposalRow, StoreError>;
    fn proposal(&self, id: u64) -> Result<Option<ProposalRow>, StoreError>;
    /// Proposals, newest first, optionally of one system and state.
    fn proposals(
        &self,
        system: Option<&str>,
        state: Option<&str>,
    ) -> Result<Vec<ProposalRow>, StoreError>;
    /// History entries, newest first; `system` keeps those that wrote its grids.
    fn history(
        &self,
        system: Option<&str>,
        limit: usize,
        offset: usize,
    ) -> Result<Vec<HistoryEntry>, StoreError>;
    /// Every history entry with a version above `after`, any order.
    fn history_since(&self, after: u64) -> Result<Vec<HistoryEntry>, StoreError>;
}

/// Where a store lives, parsed from `--db` / `GRIDMAP_DB`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreLocation {
    /// An embedded GeoPackage file.
    Gpkg(PathBuf),
    /// A PostgreSQL database with PostGIS (`postgres://` or `postgresql://`).
    Postgres(String),
}

impl StoreLocation {
    /// A `postgres://` or `postgresql://` URL, else a file path.
    pub fn parse(location: &str) -> StoreLocation {
        let lower = location.to_ascii_lowercase();
        if lower.starts_with("postgres://") || lower.starts_with("postgresql://") {
            StoreLocation::Postgres(location.to_string())
        } else {
            StoreLocation::Gpkg(PathBuf::from(location))
        }
    }

    /// The location as shown in messages: a URL loses its password.
    pub fn display(&self) -> String {
        match self {
            StoreLocation::Gpkg(p) => p.display().to_string(),
            StoreLocation::Postgres(url) => redact_password(url),
        }
    }
}

impl std::fmt::Display for StoreLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.display())
    }
}

/// `postgres://user:secret@host/db` → `postgres://user:***@host/db`.
fn redact_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let (auth, host) = match rest.rsplit_once('@') {
        Some(parts) => parts,
        None => return url.to_string(),
    };
    match auth.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_string(),
    }
}

/// How to open a store, beyond its location.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenOptions {
    /// Connections a pooled backend (PostGIS) opens at most; the GeoPackage
    /// backend ignores it (one writer, readers on demand).
    pub pool_size: usize,
}

impl Default for OpenOptions {
    fn default() -> Self {
        OpenOptions {
            pool_size: postgis::DEFAULT_POOL_SIZE,
        }
    }
}

/// Opens (creating a GeoPackage file if missing) the store at `location`.
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("city.gpkg");
/// let store = gridmap_data::store::open(path.to_str().unwrap()).unwrap();
/// assert_eq!(store.data_version().unwrap(), 0);
/// // Nothing listens on port 9 (discard): the message names the host, never the password.
/// let e = gridmap_data::store::open("postgres://gm:secret@127.0.0.1:9/city").unwrap_err();
/// let e = e.to_string();
/// assert!(e.contains("gm:***@127.0.0.1:9") && e.contains("cannot reach") && !e.contains("secret"), "{e}");
/// ```
pub fn open(location: &str) -> Result<Box<dyn GridStore>, StoreError> {
    open_with(location, &OpenOptions::default())
}

/// [`open`] with options (the PostGIS pool size).
pub fn open_with(location: &str, options: &OpenOptions) -> Result<Box<dyn GridStore>, StoreError> {
    match StoreLocation::parse(location) {
        StoreLocation::Gpkg(path) => Ok(Box::new(gpkg::GpkgStore::open(path)?)),
        StoreLocation::Postgres(url) => {
            Ok(Box::new(postgis::PgStore::open(&url, options.pool_size)?))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_parse_and_hide_passwords() {
        assert_eq!(
            StoreLocation::parse("city.gpkg"),
            StoreLocation::Gpkg("city.gpkg".into())
        );
        let pg = StoreLocation::parse("PostgreSQL://gm:pw@localhost:5432/grid");
        assert!(matches!(pg, StoreLocation::Postgres(_)));
        assert_eq!(pg.display(), "PostgreSQL://gm:***@localhost:5432/grid");
        assert_eq!(
            StoreLocation::parse("postgres://gm@h/db").display(),
            "postgres://gm@h/db"
        );
    }
}
