//! GeoPackage store: one `.gpkg` file that QGIS and GDAL open directly.
//!
//! The file is an OGC GeoPackage 1.3 (`application_id` 'GPKG', `user_version`
//! 10300) with two feature tables, `grids` (MULTIPOLYGON) and `sites` (POINT),
//! both in EPSG:4326, and the attribute tables `grid_systems`, `workers` and
//! `worker_grids`. `gridmap_meta` holds the schema and data versions;
//! `gridmap_accounts`, `gridmap_audit`, `gridmap_proposals` and
//! `gridmap_history` the editing side ([`editing`]). Both
//! feature tables carry the GeoPackage R-tree spatial index extension
//! ([`spatial_index`]), kept by triggers whose SQL functions every connection
//! defines ([`functions`]), so a file indexed or edited by GDAL stays writable.
//! The database runs in WAL mode so readers never block the single writer.

mod editing;
pub(crate) mod functions;
mod outside_edits;
mod read;
pub mod schema;
pub(crate) mod spatial_index;
pub(crate) mod wkb;
mod write;

#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use super::{AuditEntry, GridStore, ProposalRow, Snapshot, SnapshotParts, StoreError};
use crate::accounts::{Account, Role};
use crate::history::{ChangeRecord, HistoryEntry};
use crate::model::{ChangeSet, Grid, GridSystem, Site, Worker};

/// The backend's name in [`StoreError::Backend`].
const BACKEND: &str = "gpkg";

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::Backend {
            backend: BACKEND,
            source: Box::new(e),
        }
    }
}

/// Idle read connections kept open; more are opened on demand.
const IDLE_READERS: usize = 8;

/// A gridmap store in a GeoPackage file.
///
/// ```
/// use gridmap_data::model::{ChangeSet, Grid, GridSystem, GridWriteMode, SystemGrids};
/// use gridmap_data::store::{gpkg::GpkgStore, GridStore};
/// use geo_types::{polygon, MultiPolygon};
///
/// let dir = tempfile::tempdir().unwrap();
/// let store = GpkgStore::open(dir.path().join("grids.gpkg")).unwrap();
/// let street = Grid {
///     code: "110105001".into(),
///     name: "建外街道".into(),
///     level: "street".into(),
///     parent: None,
///     geometry: MultiPolygon(vec![polygon![(x: 116.43, y: 39.90), (x: 116.47, y: 39.90), (x: 116.47, y: 39.92), (x: 116.43, y: 39.90)]]),
///     attributes: Default::default(),
/// };
/// let change = ChangeSet {
///     grids: vec![SystemGrids {
///         system: GridSystem::with_default_levels("综治"),
///         mode: GridWriteMode::Replace,
///         grids: vec![street.clone()],
///         delete: Vec::new(),
///     }],
///     ..Default::default()
/// };
/// let version = store.apply(&change).unwrap();
/// assert_eq!(version, 1);
/// assert_eq!(store.grids("综治").unwrap(), vec![street]);
/// ```
pub struct GpkgStore {
    /// The one connection that writes (SQLite has a single writer anyway).
    writer: Mutex<Connection>,
    /// Idle read connections: in WAL mode readers never block each other nor
    /// the writer, so concurrent requests read in parallel.
    readers: Mutex<Vec<Connection>>,
    path: PathBuf,
}

impl std::fmt::Debug for GpkgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GpkgStore")
            .field("path", &self.path)
            .finish()
    }
}

impl GpkgStore {
    /// Opens (creating if missing) a GeoPackage file, switches it to WAL mode and
    /// applies the missing schema migrations in one transaction.
    ///
    /// Fails with [`StoreError::Open`] when the file is not an SQLite database or
    /// is another kind of SQLite file, and with [`StoreError::SchemaTooNew`] when a
    /// newer gridmap wrote it.
    pub fn open(path: impl AsRef<Path>) -> Result<GpkgStore, StoreError> {
        let path = path.as_ref().to_path_buf();
        let shown = path.display().to_string();
        let mut conn = connect(&path)?;
        schema::migrate(&mut conn, &shown)?;
        Ok(GpkgStore {
            writer: Mutex::new(conn),
            readers: Mutex::new(Vec::new()),
            path,
        })
    }

    /// The file this store reads and writes.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A read connection from the pool (opened when none is idle), handed back on drop.
    fn reader(&self) -> Result<Reader<'_>, StoreError> {
        let idle = self.readers.lock().expect("reader pool poisoned").pop();
        let conn = match idle {
            Some(c) => c,
            None => connect(&self.path)?,
        };
        Ok(Reader {
            conn: Some(conn),
            pool: &self.readers,
        })
    }

    fn writer(&self) -> MutexGuard<'_, Connection> {
        self.writer.lock().expect("writer connection poisoned")
    }
}

/// A pooled read connection.
struct Reader<'a> {
    conn: Option<Connection>,
    pool: &'a Mutex<Vec<Connection>>,
}

impl std::ops::Deref for Reader<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        self.conn.as_ref().expect("taken only on drop")
    }
}

impl Drop for Reader<'_> {
    fn drop(&mut self) {
        if let (Some(conn), Ok(mut pool)) = (self.conn.take(), self.pool.lock()) {
            if pool.len() < IDLE_READERS {
                pool.push(conn);
            }
        }
    }
}

/// Opens one connection in WAL mode with the settings every connection uses.
fn connect(path: &Path) -> Result<Connection, StoreError> {
    let shown = path.display().to_string();
    let open_err = |e: rusqlite::Error| StoreError::Open {
        path: shown.clone(),
        reason: e.to_string(),
    };
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags).map_err(open_err)?;
    // Before any statement: triggers of the R-tree index call these.
    functions::register(&conn).map_err(open_err)?;
    // Other processes (a second server, QGIS) may hold the write lock for a while.
    conn.busy_timeout(Duration::from_secs(10))
        .map_err(open_err)?;
    // The first real read: this is where "file is not a database" shows up.
    let mode: String = conn
        .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
        .map_err(open_err)?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::Open {
            path: shown,
            reason: format!("cannot enable WAL mode (got `{mode}`)"),
        });
    }
    conn.pragma_update(None, "foreign_keys", true)
        .map_err(open_err)?;
    // Bigger page cache: the unique indexes of a million-row import stay in memory.
    conn.pragma_update(None, "cache_size", -65536)
        .map_err(open_err)?;
    conn.set_prepared_statement_cache_capacity(32);
    Ok(conn)
}

impl GridStore for GpkgStore {
    fn location(&self) -> String {
        std::fs::canonicalize(&self.path)
            .unwrap_or_else(|_| self.path.clone())
            .display()
            .to_string()
    }

    fn snapshot(&self, parts: SnapshotParts) -> Result<Snapshot, StoreError> {
        let conn = self.reader()?;
        // One read transaction: every query sees the same committed state.
        let tx = conn.unchecked_transaction()?;
        read::snapshot(&tx, parts)
    }

    fn systems(&self) -> Result<Vec<GridSystem>, StoreError> {
        read::systems(&*self.reader()?)
    }

    fn grids(&self, system: &str) -> Result<Vec<Grid>, StoreError> {
        let conn = self.reader()?;
        let tx = conn.unchecked_transaction()?;
        read::grids(&tx, system)
    }

    fn workers(&self) -> Result<Vec<Worker>, StoreError> {
        let conn = self.reader()?;
        let tx = conn.unchecked_transaction()?;
        read::workers(&tx)
    }

    fn sites(&self, kind: Option<&str>) -> Result<Vec<Site>, StoreError> {
        read::sites(&*self.reader()?, kind)
    }

    fn apply(&self, change: &ChangeSet) -> Result<u64, StoreError> {
        write::apply(&mut self.writer(), change, None)
    }

    fn apply_recorded(&self, change: &ChangeSet, record: &ChangeRecord) -> Result<u64, StoreError> {
        write::apply(&mut self.writer(), change, Some(record))
    }

    fn data_version(&self) -> Result<u64, StoreError> {
        read::data_version(&*self.reader()?)
    }

    fn mark_checked(&self, version: u64) -> Result<bool, StoreError> {
        write::mark_checked(&self.writer(), version)
    }

    fn add_account(&self, name: &str, role: Role, token_hash: &str) -> Result<Account, StoreError> {
        editing::add_account(&mut self.writer(), name, role, token_hash)
    }

    fn accounts(&self) -> Result<Vec<Account>, StoreError> {
        editing::accounts(&*self.reader()?)
    }

    fn account_by_token(&self, token_hash: &str) -> Result<Option<Account>, StoreError> {
        editing::account_by_token(&*self.reader()?, token_hash)
    }

    fn revoke_account(&self, name: &str) -> Result<bool, StoreError> {
        editing::revoke_account(&self.writer(), name)
    }

    fn audit(
        &self,
        account: &str,
        action: &str,
        target: &str,
        detail: &str,
    ) -> Result<(), StoreError> {
        editing::audit(&self.writer(), account, action, target, detail)
    }

    fn audit_log(&self, limit: usize, offset: usize) -> Result<Vec<AuditEntry>, StoreError> {
        editing::audit_log(&*self.reader()?, limit, offset)
    }

    fn save_proposal(&self, row: &ProposalRow) -> Result<ProposalRow, StoreError> {
        editing::save_proposal(&mut self.writer(), row)
    }

    fn proposal(&self, id: u64) -> Result<Option<ProposalRow>, StoreError> {
        editing::proposal(&*self.reader()?, id)
    }

    fn proposals(
        &self,
        system: Option<&str>,
        state: Option<&str>,
    ) -> Result<Vec<ProposalRow>, StoreError> {
        editing::proposals(&*self.reader()?, system, state)
    }

    fn history(
        &self,
        system: Option<&str>,
        limit: usize,
        offset: usize,
    ) -> Result<Vec<HistoryEntry>, StoreError> {
        editing::history(&*self.reader()?, system, limit, offset)
    }

    fn history_since(&self, after: u64) -> Result<Vec<HistoryEntry>, StoreError> {
        editing::history_since(&*self.reader()?, after)
    }
}
