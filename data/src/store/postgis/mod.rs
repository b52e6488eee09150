//! PostGIS store: one PostgreSQL database that several gridmap servers share.
//!
//! Tables mirror the GeoPackage backend's ([`schema`]): `grids`
//! (`geometry(MultiPolygon, 4326)`) and `sites` (`geometry(Point, 4326)`),
//! both with GiST indexes, attributes as `jsonb`, `gridmap_meta` holding the
//! schema, data and checked versions, and the editing tables. Geometry
//! travels as WKB through geozero (`ST_GeomFromWKB` / `ST_AsBinary`), which
//! keeps every coordinate bit for bit. Every change set is one transaction
//! that locks the `data_version` row (so two writers queue instead of
//! interleaving), refuses a stale base version, bumps the version and, at
//! commit, sends `NOTIFY gridmap, '{"system": …, "version": …}'` per
//! system it wrote (`"system": null` when it wrote none).
//!
//! ## Sync trait, async client
//!
//! [`GridStore`] is synchronous, and is called both from blocking threads
//! and directly from async handlers on the server's tokio runtime. The store
//! owns a small runtime of its own (one worker thread, which drives the
//! connections' I/O) and waits for each call's future with
//! [`tokio::runtime::Handle::block_on`]. On a thread that is not inside any
//! runtime that happens right there; inside one — where `block_on` would
//! panic — the call moves to a scoped helper thread that waits for it.
//! A scoped thread (not a task sent over a channel) lets the future borrow
//! the caller's data, so a 100,000-grid change set is encoded where it is,
//! never copied to make it `'static`; the thread costs tens of microseconds,
//! next to a network round trip. The alternative, the sync `postgres` crate,
//! runs its own `block_on` per call and panics in exactly that case.
//!
//! ## Connections
//!
//! A pool of at most `pool_size` connections ([`DEFAULT_POOL_SIZE`] unless
//! `--db-pool` / `GRIDMAP_DB_POOL` says otherwise), opened on demand; the
//! connection that checks and migrates the schema on open is the pool's
//! first. TLS is not built in: `sslmode=require` fails, the default `prefer`
//! connects in plain text (run gridmap next to its database or through a
//! tunnel).

mod connect;
mod editing;
mod read;
pub mod schema;
mod write;

use std::future::Future;

use deadpool_postgres::{Object, Pool};
use geo_types::{Geometry, MultiPolygon, Point};
use geozero::wkb::{Wkb, WkbDialect, WkbWriter};
use geozero::{GeozeroGeometry, ToGeo};

use super::{AuditEntry, GridStore, ProposalRow, Snapshot, SnapshotParts, StoreError};
use crate::accounts::{Account, Role};
use crate::history::{ChangeRecord, HistoryEntry};
use crate::model::{ChangeSet, Grid, GridSystem, Site, Worker};

/// The backend's name in [`StoreError::Backend`].
const BACKEND: &str = "postgis";

/// Connections a store opens at most when not told otherwise: enough for a
/// server's concurrent snapshot, lookups' account checks and one writer,
/// small enough that ten instances stay well under PostgreSQL's default
/// `max_connections` of 100.
pub const DEFAULT_POOL_SIZE: usize = 8;

impl From<tokio_postgres::Error> for StoreError {
    fn from(e: tokio_postgres::Error) -> Self {
        StoreError::Backend {
            backend: BACKEND,
            source: Box::new(e),
        }
    }
}

impl From<deadpool_postgres::PoolError> for StoreError {
    fn from(e: deadpool_postgres::PoolError) -> Self {
        StoreError::Backend {
            backend: BACKEND,
            source: Box::new(e),
        }
    }
}

/// A gridmap store in a PostgreSQL database with PostGIS.
pub struct PgStore {
    pool: Pool,
    /// `Some` until dropped; shut down without waiting, so dropping the
    /// store inside another runtime does not panic.
    runtime: Option<tokio::runtime::Runtime>,
    /// The URL without its password.
    shown: String,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore")
            .field("location", &self.shown)
            .finish()
    }
}

impl Drop for PgStore {
    fn drop(&mut self) {
        self.pool.close();
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

impl PgStore {
    /// Connects to `url`, checks that the database is gridmap's (or empty)
    /// and has PostGIS (enabling it when the user may), and applies the
    /// missing schema migrations in one transaction.
    ///
    /// Every failure is a [`StoreError::Open`] whose reason names what to
    /// fix (unreachable host, refused password, missing database, PostGIS
    /// missing or not permitted, another application's tables), or
    /// [`StoreError::SchemaTooNew`].
    pub fn open(url: &str, pool_size: usize) -> Result<PgStore, StoreError> {
        let shown = super::StoreLocation::Postgres(url.to_string()).display();
        let (cfg, target) = connect::config(url, &shown)?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("gridmap-postgis")
            .enable_all()
            .build()
            .map_err(|e| target.open_error(format!("cannot start the database runtime: {e}")))?;
        let pool = {
            // The pool's timeouts need the runtime's timer.
            let _guard = runtime.enter();
            connect::pool(cfg, pool_size, &target)?
        };
        let store = PgStore {
            pool,
            runtime: Some(runtime),
            shown,
        };
        store.run(async {
            let mut conn = store
                .pool
                .get()
                .await
                .map_err(|e| connect::describe_connect_error(&e, &target))?;
            let tx = conn.transaction().await?;
            schema::migrate(&tx, &target).await?;
            tx.commit().await?;
            Ok(())
        })?;
        Ok(store)
    }

    /// Waits for `fut` on the store's runtime (see the module doc).
    fn run<T: Send>(
        &self,
        fut: impl Future<Output = Result<T, StoreError>> + Send,
    ) -> Result<T, StoreError> {
        let handle = self.runtime.as_ref().expect("present until drop").handle();
        if tokio::runtime::Handle::try_current().is_err() {
            return handle.block_on(fut);
        }
        std::thread::scope(|s| {
            let waiter = std::thread::Builder::new()
                .name("gridmap-postgis-call".into())
                .spawn_scoped(s, || handle.block_on(fut))
                .map_err(|e| StoreError::Backend {
                    backend: BACKEND,
                    source: Box::new(e),
                })?;
            waiter
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        })
    }

    /// A pooled connection (inside [`PgStore::run`]).
    async fn conn(&self) -> Result<Object, StoreError> {
        Ok(self.pool.get().await?)
    }
}

/// A committed change as `NOTIFY gridmap` announces it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct ChangeNotice {
    /// The system whose grids it wrote; `None` for a change of workers or
    /// sites only, or an outside edit.
    pub system: Option<String>,
    pub version: u64,
}

/// Listens for committed changes on one dedicated connection and sends each
/// notice to `notices`, until the connection ends (an error says why) or
/// nobody receives any more (`Ok`). Runs on the caller's runtime.
///
/// The connection is its own, never a pooled one: a listener must stay on
/// one session (PgBouncer's transaction mode would drop it). TCP keepalives
/// every 10 s notice a database that vanished without closing the
/// connection; callers reconnect, and keep polling the data version as the
/// backstop for notices missed meanwhile.
pub async fn listen(
    url: &str,
    notices: tokio::sync::mpsc::UnboundedSender<ChangeNotice>,
    on_listening: impl FnOnce() + Send,
) -> Result<(), StoreError> {
    use tokio_postgres::AsyncMessage;
    let shown = super::StoreLocation::Postgres(url.to_string()).display();
    let (mut cfg, target) = connect::config(url, &shown)?;
    cfg.keepalives(true)
        .keepalives_idle(std::time::Duration::from_secs(10));
    let (client, mut conn) = cfg
        .connect(tokio_postgres::NoTls)
        .await
        .map_err(|e| target.open_error(connect::describe_pg_error(&e, &target)))?;
    let driver = async {
        loop {
            match std::future::poll_fn(|cx| conn.poll_message(cx)).await {
                Some(Ok(AsyncMessage::Notification(n))) => {
                    match serde_json::from_str::<ChangeNotice>(n.payload()) {
                        Ok(notice) => {
                            if notices.send(notice).is_err() {
                                return Ok(());
                            }
                        }
                        Err(e) => {
                            tracing::warn!(payload = n.payload(), error = %e, "ignoring a gridmap notice of another shape")
                        }
                    }
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(StoreError::from(e)),
                None => {
                    return Err(target.open_error("the database closed the listening connection"))
                }
            }
        }
    };
    let listening = async {
        client.batch_execute("LISTEN gridmap").await?;
        on_listening();
        std::future::pending::<Result<(), StoreError>>().await
    };
    tokio::select! {
        r = driver => r,
        r = listening => r,
    }
}

/// ISO WKB of a multipolygon, as `ST_GeomFromWKB` reads it.
pub(crate) fn encode_multipolygon(mp: &MultiPolygon<f64>) -> Vec<u8> {
    encode(&Geometry::MultiPolygon(mp.clone()))
}

pub(crate) fn encode_point(p: &Point<f64>) -> Vec<u8> {
    encode(&Geometry::Point(*p))
}

fn encode(geom: &Geometry<f64>) -> Vec<u8> {
    let mut out = Vec::new();
    let mut writer = WkbWriter::new(&mut out, WkbDialect::Wkb);
    geom.process_geom(&mut writer)
        .expect("writing WKB of a geo-types geometry into a Vec cannot fail");
    out
}

/// The geometry of `ST_AsBinary`; a polygon (written by another program)
/// becomes a one-member multipolygon.
pub(crate) fn decode_multipolygon(wkb: &[u8]) -> Result<MultiPolygon<f64>, String> {
    match Wkb(wkb).to_geo().map_err(|e| format!("invalid WKB: {e}"))? {
        Geometry::MultiPolygon(mp) => Ok(mp),
        Geometry::Polygon(p) => Ok(MultiPolygon(vec![p])),
        other => Err(format!(
            "expected a (multi)polygon, found {}",
            crate::geometry::type_name(&other)
        )),
    }
}

pub(crate) fn decode_point(wkb: &[u8]) -> Result<Point<f64>, String> {
    match Wkb(wkb).to_geo().map_err(|e| format!("invalid WKB: {e}"))? {
        Geometry::Point(p) => Ok(p),
        other => Err(format!(
            "expected a point, found {}",
            crate::geometry::type_name(&other)
        )),
    }
}

impl GridStore for PgStore {
    fn location(&self) -> String {
        self.shown.clone()
    }

    fn snapshot(&self, parts: SnapshotParts) -> Result<Snapshot, StoreError> {
        self.run(async {
            let mut conn = self.conn().await?;
            read::snapshot(&mut conn, parts).await
        })
    }

    fn systems(&self) -> Result<Vec<GridSystem>, StoreError> {
        self.run(async { read::systems(&**self.conn().await?).await })
    }

    fn grids(&self, system: &str) -> Result<Vec<Grid>, StoreError> {
        self.run(async {
            let mut conn = self.conn().await?;
            let tx = read::read_tx(&mut conn).await?;
            let out = read::grids(&tx, system).await?;
            tx.commit().await?;
            Ok(out)
        })
    }

    fn workers(&self) -> Result<Vec<Worker>, StoreError> {
        self.run(async {
            let mut conn = self.conn().await?;
            let tx = read::read_tx(&mut conn).await?;
            let out = read::workers(&tx).await?;
            tx.commit().await?;
            Ok(out)
        })
    }

    fn sites(&self, kind: Option<&str>) -> Result<Vec<Site>, StoreError> {
        self.run(async { read::sites(&**self.conn().await?, kind).await })
    }

    fn apply(&self, change: &ChangeSet) -> Result<u64, StoreError> {
        self.run(async { write::apply(&mut **self.conn().await?, change, None).await })
    }

    fn apply_recorded(&self, change: &ChangeSet, record: &ChangeRecord) -> Result<u64, StoreError> {
        self.run(async { write::apply(&mut **self.conn().await?, change, Some(record)).await })
    }

    fn data_version(&self) -> Result<u64, StoreError> {
        self.run(async { read::meta(&**self.conn().await?, "data_version").await })
    }

    fn mark_checked(&self, version: u64) -> Result<bool, StoreError> {
        self.run(async { write::mark_checked(&**self.conn().await?, version).await })
    }

    fn add_account(&self, name: &str, role: Role, token_hash: &str) -> Result<Account, StoreError> {
        self.run(async {
            editing::add_account(&**self.conn().await?, name, role, token_hash).await
        })
    }

    fn accounts(&self) -> Result<Vec<Account>, StoreError> {
        self.run(async { editing::accounts(&**self.conn().await?).await })
    }

    fn account_by_token(&self, token_hash: &str) -> Result<Option<Account>, StoreError> {
        self.run(async { editing::account_by_token(&**self.conn().await?, token_hash).await })
    }

    fn revoke_account(&self, name: &str) -> Result<bool, StoreError> {
        self.run(async { editing::revoke_account(&**self.conn().await?, name).await })
    }

    fn audit(
        &self,
        account: &str,
        action: &str,
        target: &str,
        detail: &str,
    ) -> Result<(), StoreError> {
        self.run(async {
            editing::audit(&**self.conn().await?, account, action, target, detail).await
        })
    }

    fn audit_log(&self, limit: usize, offset: usize) -> Result<Vec<AuditEntry>, StoreError> {
        self.run(async { editing::audit_log(&**self.conn().await?, limit, offset).await })
    }

    fn save_proposal(&self, row: &ProposalRow) -> Result<ProposalRow, StoreError> {
        self.run(async { editing::save_proposal(&mut **self.conn().await?, row).await })
    }

    fn proposal(&self, id: u64) -> Result<Option<ProposalRow>, StoreError> {
        self.run(async { editing::proposal(&**self.conn().await?, id).await })
    }

    fn proposals(
        &self,
        system: Option<&str>,
        state: Option<&str>,
    ) -> Result<Vec<ProposalRow>, StoreError> {
        self.run(async { editing::proposals(&**self.conn().await?, system, state).await })
    }

    fn history(
        &self,
        system: Option<&str>,
        limit: usize,
        offset: usize,
    ) -> Result<Vec<HistoryEntry>, StoreError> {
        self.run(async { editing::history(&**self.conn().await?, system, limit, offset).await })
    }

    fn history_since(&self, after: u64) -> Result<Vec<HistoryEntry>, StoreError> {
        self.run(async { editing::history_since(&**self.conn().await?, after).await })
    }
}
