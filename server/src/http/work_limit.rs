//! Bounds on expensive work: coverage reports, tile renders, assign jobs and
//! publicity boards each have a fixed number of slots (`--max-coverage-jobs`,
//! `--max-tile-renders`, `--max-assign-jobs`, `--max-board-renders`).
//!
//! Without them every distinct request (a new coverage option, a tile not in
//! the cache, a large assign body) took a blocking thread of its own, and a
//! few dozen such requests starved the cheap ones (lookups, `/health`) of
//! CPU and memory. A request that finds every slot busy waits up to
//! `--busy-wait` for one, then gets 503 with `Retry-After` instead of
//! queueing without bound. A slot is held until the work itself ends, also
//! when the client gave up meanwhile, so the bound is on the work done and
//! not only on the requests waiting.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::error::AppError;

/// The kinds of bounded work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Work {
    Coverage,
    TileRender,
    Assign,
    Board,
}

impl Work {
    fn describe(self) -> &'static str {
        match self {
            Work::Coverage => "coverage reports",
            Work::TileRender => "tile renders",
            Work::Assign => "assign jobs",
            Work::Board => "board renders",
        }
    }
}

/// Slots per kind of work and how long a request waits for one.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WorkLimits {
    pub coverage: usize,
    pub tile_renders: usize,
    pub assign: usize,
    pub boards: usize,
    pub wait: Duration,
}

impl Default for WorkLimits {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, usize::from);
        Self {
            coverage: 2,
            tile_renders: 2 * cores,
            assign: 2,
            boards: 2,
            wait: Duration::from_secs(2),
        }
    }
}

/// The slots themselves, shared by every request.
pub struct WorkSlots {
    coverage: Arc<Semaphore>,
    tile_renders: Arc<Semaphore>,
    assign: Arc<Semaphore>,
    boards: Arc<Semaphore>,
    wait: Duration,
}

impl WorkSlots {
    pub fn new(limits: &WorkLimits) -> Self {
        let slots = |n: usize| Arc::new(Semaphore::new(n.clamp(1, Semaphore::MAX_PERMITS)));
        Self {
            coverage: slots(limits.coverage),
            tile_renders: slots(limits.tile_renders),
            assign: slots(limits.assign),
            boards: slots(limits.boards),
            wait: limits.wait,
        }
    }

    fn semaphore(&self, work: Work) -> &Arc<Semaphore> {
        match work {
            Work::Coverage => &self.coverage,
            Work::TileRender => &self.tile_renders,
            Work::Assign => &self.assign,
            Work::Board => &self.boards,
        }
    }

    /// A slot for `work`, held until the returned permit is dropped (move it
    /// into the blocking task doing the work); 503 `busy` after the wait.
    pub async fn acquire(&self, work: Work) -> Result<OwnedSemaphorePermit, AppError> {
        let semaphore = self.semaphore(work).clone();
        match tokio::time::timeout(self.wait, semaphore.acquire_owned()).await {
            Ok(permit) => Ok(permit.expect("the work semaphores are never closed")),
            Err(_) => {
                let retry_after_s = self.wait.as_secs_f64().ceil().max(1.0) as u64;
                tracing::warn!(
                    work = work.describe(),
                    wait_ms = self.wait.as_millis() as u64,
                    "every slot stayed busy: answering 503"
                );
                Err(AppError::Busy {
                    what: work.describe(),
                    retry_after_s,
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::StatusCode;
    use gridmap_data::model::{ChangeSet, Grid, GridSystem, GridWriteMode, SystemGrids};
    use gridmap_data::store::gpkg::GpkgStore;
    use gridmap_data::store::GridStore;

    use crate::http::state::{AppState, ServerConfig};
    use crate::test_support::get;

    fn limits(wait_ms: u64) -> WorkLimits {
        WorkLimits {
            coverage: 1,
            tile_renders: 1,
            assign: 1,
            boards: 1,
            wait: Duration::from_millis(wait_ms),
        }
    }

    #[tokio::test]
    async fn a_busy_slot_means_503_after_the_wait_and_a_free_one_serves() {
        let slots = WorkSlots::new(&limits(30));
        let held = slots.acquire(Work::Coverage).await.unwrap();
        let started = std::time::Instant::now();
        match slots.acquire(Work::Coverage).await {
            Err(AppError::Busy {
                what,
                retry_after_s,
            }) => {
                assert_eq!(what, "coverage reports");
                assert_eq!(retry_after_s, 1);
            }
            other => panic!("expected busy, got {:?}", other.map(|_| ())),
        }
        assert!(
            started.elapsed() >= Duration::from_millis(30),
            "it waited first"
        );
        // Other kinds have their own slots.
        let _tile = slots.acquire(Work::TileRender).await.unwrap();
        drop(held);
        let _again = slots.acquire(Work::Coverage).await.unwrap();
    }

    fn state(dir: &tempfile::TempDir) -> AppState {
        let store = GpkgStore::open(dir.path().join("s.gpkg")).unwrap();
        let grid = Grid::new(
            "330106001",
            gridmap_data::model::DEFAULT_LEVELS[0],
            None,
            crate::test_support::rect(120.0, 30.0, 0.1, 0.1),
        );
        let change = ChangeSet {
            grids: vec![SystemGrids {
                system: GridSystem::with_default_levels("default"),
                mode: GridWriteMode::Replace,
                grids: vec![grid],
                delete: Vec::new(),
            }],
            ..Default::default()
        };
        store.apply(&change).unwrap();
        let config = ServerConfig {
            work: limits(20),
            ..ServerConfig::default()
        };
        AppState::with_config(Arc::new(store), config).unwrap()
    }

    #[tokio::test]
    async fn coverage_reports_and_tile_renders_wait_for_a_slot_cached_answers_do_not() {
        let dir = tempfile::tempdir().unwrap();
        let st = state(&dir);
        let held = st.work().acquire(Work::Coverage).await.unwrap();
        let (status, body) = get(&st, "/api/v1/coverage?sliver_m2=5", &[]).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
        assert_eq!(body["error"]["code"], "busy");
        drop(held);
        let (status, body) = get(&st, "/api/v1/coverage?sliver_m2=5", &[]).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        // The same options again come from the cache: no slot needed.
        let _held = st.work().acquire(Work::Coverage).await.unwrap();
        let (status, _) = get(&st, "/api/v1/coverage?sliver_m2=5", &[]).await;
        assert_eq!(status, StatusCode::OK);
        let (status, _) = get(&st, "/api/v1/coverage?sliver_m2=6", &[]).await;
        assert_eq!(
            status,
            StatusCode::SERVICE_UNAVAILABLE,
            "new options need a slot"
        );

        let tile = "/tiles/default/10/853/422.mvt";
        let held = st.work().acquire(Work::TileRender).await.unwrap();
        let (status, body) = get(&st, tile, &[]).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
        assert_eq!(body["error"]["code"], "busy");
        drop(held);
        let (status, _) = get(&st, tile, &[]).await;
        assert!(status.is_success(), "{status}");
        let _held = st.work().acquire(Work::TileRender).await.unwrap();
        let (status, _) = get(&st, tile, &[]).await;
        assert!(status.is_success(), "a cached tile needs no slot: {status}");
    }
}
