//! Shared server state: the store, the current catalog snapshot, and what is
//! derived from a snapshot (tilesets, coverage reports, the search index),
//! cached per data version so that nothing built from version N is ever
//! served as N+1.

use std::sync::{Arc, Mutex, OnceLock, RwLock};

use axum::http::HeaderMap;
use gridmap_data::analysis::{check, CheckOptions, CoverageReport};
use gridmap_data::catalog::Catalog;
use gridmap_data::change::{load_checked, CheckedLoadError};
use gridmap_data::progress::NoProgress;
use gridmap_data::search::SearchIndex;
use gridmap_data::store::GridStore;

use super::error::AppError;
use super::rate_limit::{RateLimit, RateLimiter};
use super::work_limit::WorkSlots;
use crate::tile_cache::TileCache;
use crate::tileset::{TileConfig, Tileset};

/// Validated server settings.
#[derive(Debug, Clone, Default)]
pub struct ServerConfig {
    /// The URL clients reach this server at (e.g. behind a reverse proxy),
    /// without trailing slash; when unset it is derived from request headers.
    pub public_url: Option<String>,
    /// A raster basemap under the grids in the style (`--basemap-url`).
    pub basemap: Option<super::style::Basemap>,
    /// The glyph server the style names for its labels (`--glyphs`); without
    /// one, labels are drawn with the browser's fonts (MapLibre GL JS only).
    pub glyphs: Option<super::style::Glyphs>,
    pub tiles: TileConfig,
    /// Requests per client on lookup and search (`--rate-limit`, `--rate-burst`, `--trusted-proxy`).
    pub rate_limit: RateLimit,
    /// The bearer token that unlocks the registers' full rows
    /// (`--viewer-token`); without one they are never served.
    pub viewer_token: Option<String>,
    /// Origins allowed to call the editing endpoints cross-origin (`--allow-origin`).
    pub allow_origins: Vec<axum::http::HeaderValue>,
    /// Reads need a token (`--private`).
    pub private: bool,
    /// The request and body-read timeouts (`--request-timeout`, `--body-timeout`).
    pub timeouts: super::limits::RequestTimeouts,
    /// Connection timeouts and cap (`--header-timeout`, `--idle-timeout`, `--max-connections`).
    pub connections: super::listener::ConnectionLimits,
    /// Slots for expensive work (`--max-coverage-jobs`, `--max-tile-renders`,
    /// `--max-assign-jobs`, `--max-board-renders`, `--busy-wait`).
    pub work: super::work_limit::WorkLimits,
}

/// Coverage reports kept per data version (one per system and option set).
const COVERAGE_ENTRIES: usize = 8;

/// Cheap to clone; handlers read the current [`Catalog`] snapshot.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    config: ServerConfig,
    catalog: RwLock<Arc<Catalog>>,
    /// Shared by every request: reads take `&self`, writes are transactions.
    store: Arc<dyn GridStore>,
    /// Serialises reloads, so two pollers never load the same version twice.
    reloading: Mutex<()>,
    /// The newest version another program wrote that breaks the change
    /// rules: not served (the previous snapshot stays), reported by `/health`.
    refused: RwLock<Option<Arc<RefusedVersion>>>,
    tilesets: PerVersion<String, Result<Arc<Tileset>, String>>,
    coverage: PerVersion<(String, CheckOptions), Result<Arc<CoverageReport>, String>>,
    tile_cache: TileCache,
    search: PerVersion<(), Arc<SearchIndex>>,
    rate_limiter: RateLimiter,
    work: WorkSlots,
    /// Other views of the data: a system at an earlier version (`?at=`) or as
    /// a proposal would make it (`?proposal=`), the few most recent.
    views: Mutex<Vec<(String, Arc<View>)>>,
    /// One publish or revert at a time in this process (the store refuses a
    /// stale base from another process anyway).
    publishing: Mutex<()>,
}

/// Views kept (see [`Inner::views`]).
const VIEW_ENTRIES: usize = 8;

/// A catalog that is not the store's current one, with what its tiles need,
/// built on first use.
pub struct View {
    pub catalog: Catalog,
    tileset: OnceLock<Result<Arc<Tileset>, String>>,
    report: OnceLock<Result<Arc<CoverageReport>, String>>,
}

impl View {
    pub fn new(catalog: Catalog) -> Self {
        Self {
            catalog,
            tileset: OnceLock::new(),
            report: OnceLock::new(),
        }
    }

    /// Renders one tile of `system` from this view (blocking).
    pub fn render(
        &self,
        config: &TileConfig,
        system: &str,
        tile: gridmap_tiles::TileId,
    ) -> anyhow::Result<Vec<u8>> {
        let index = self
            .catalog
            .system(system)
            .ok_or_else(|| anyhow::anyhow!("no grid system named `{system}`"))?;
        let tileset = self
            .tileset
            .get_or_init(|| {
                Tileset::build(&self.catalog, index, config)
                    .map(Arc::new)
                    .map_err(|e| format!("{e:#}"))
            })
            .clone()
            .map_err(anyhow::Error::msg)?;
        tileset.render(&self.catalog, tile, || {
            self.report
                .get_or_init(|| {
                    check(&self.catalog, system, &CheckOptions::default(), &NoProgress)
                        .map(Arc::new)
                        .map_err(|e| e.to_string())
                })
                .clone()
                .map_err(anyhow::Error::msg)
        })
    }
}

/// A data version written outside gridmap and refused by the change rules.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RefusedVersion {
    pub version: u64,
    /// One line per problem, naming the grid, worker or site.
    pub problems: Vec<String>,
}

impl AppState {
    /// Loads the catalog from the store, with default settings.
    pub fn new(store: impl GridStore + 'static) -> anyhow::Result<Self> {
        Self::with_config(Arc::new(store), ServerConfig::default())
    }

    pub fn with_config(store: Arc<dyn GridStore>, config: ServerConfig) -> anyhow::Result<Self> {
        // With no earlier snapshot to keep serving, refused content stops the start.
        let catalog = load_checked(store.as_ref())?;
        let tile_cache = TileCache::new(config.tiles.cache_bytes);
        let rate_limiter = RateLimiter::new(config.rate_limit.clone());
        let work = WorkSlots::new(&config.work);
        Ok(Self {
            inner: Arc::new(Inner {
                config,
                catalog: RwLock::new(Arc::new(catalog)),
                store,
                reloading: Mutex::new(()),
                refused: RwLock::new(None),
                tilesets: PerVersion::new(usize::MAX),
                coverage: PerVersion::new(COVERAGE_ENTRIES),
                tile_cache,
                search: PerVersion::new(1),
                rate_limiter,
                work,
                views: Mutex::new(Vec::new()),
                publishing: Mutex::new(()),
            }),
        })
    }

    pub fn config(&self) -> &ServerConfig {
        &self.inner.config
    }

    /// The current snapshot; holding it never blocks a reload.
    pub fn catalog(&self) -> Arc<Catalog> {
        self.inner
            .catalog
            .read()
            .expect("catalog lock poisoned")
            .clone()
    }

    /// The view cached under `key`, or the one `build` makes (blocking).
    /// `build` answering `Ok(None)` (nothing to show) is not cached.
    pub fn view<E>(
        &self,
        key: String,
        build: impl FnOnce() -> Result<Option<Catalog>, E>,
    ) -> Result<Option<Arc<View>>, E> {
        if let Some((_, v)) = self
            .inner
            .views
            .lock()
            .expect("views lock poisoned")
            .iter()
            .find(|(k, _)| *k == key)
        {
            return Ok(Some(v.clone()));
        }
        let Some(catalog) = build()? else {
            return Ok(None);
        };
        let view = Arc::new(View::new(catalog));
        let mut views = self.inner.views.lock().expect("views lock poisoned");
        if views.len() >= VIEW_ENTRIES {
            views.remove(0);
        }
        views.push((key, view.clone()));
        Ok(Some(view))
    }

    /// Held while a publish or revert runs.
    pub fn publishing(&self) -> std::sync::MutexGuard<'_, ()> {
        self.inner.publishing.lock().expect("publish lock poisoned")
    }

    /// The newest outside edit refused, while it is the store's content.
    pub fn refused(&self) -> Option<Arc<RefusedVersion>> {
        self.inner
            .refused
            .read()
            .expect("refused lock poisoned")
            .clone()
    }

    /// The store, for writes and for reads the catalog does not hold.
    pub fn store(&self) -> &dyn GridStore {
        self.inner.store.as_ref()
    }

    /// The base URL for absolute links: `--public-url` when set, else derived
    /// from the request's `Host` and `X-Forwarded-*` headers.
    pub fn public_base(&self, headers: &HeaderMap) -> String {
        match &self.inner.config.public_url {
            Some(url) => url.clone(),
            None => super::base_url::public_base(headers),
        }
    }

    pub fn tile_cache(&self) -> &TileCache {
        &self.inner.tile_cache
    }

    pub fn rate_limiter(&self) -> &RateLimiter {
        &self.inner.rate_limiter
    }

    /// The slots that bound expensive work (see `work_limit`).
    pub fn work(&self) -> &WorkSlots {
        &self.inner.work
    }

    /// Whether the coverage report of `system` with `opts` for exactly this
    /// `catalog` is built already (then it needs no work slot).
    pub fn coverage_cached(&self, catalog: &Catalog, system: &str, opts: &CheckOptions) -> bool {
        self.inner
            .coverage
            .is_built(catalog.version(), &(system.to_string(), opts.clone()))
    }

    /// The search index of exactly this `catalog`, built once per data
    /// version (blocking: call from a blocking thread; a request arriving
    /// while [`AppState::prewarm_search`] builds it waits for that build).
    pub fn search_index(&self, catalog: &Catalog) -> Arc<SearchIndex> {
        self.inner.search.get_or_build(catalog.version(), (), || {
            let started = std::time::Instant::now();
            let index = SearchIndex::build(catalog.sites(), catalog.version());
            tracing::info!(
                version = catalog.version(),
                sites = index.len(),
                terms = index.terms(),
                ms = started.elapsed().as_millis() as u64,
                "search index built"
            );
            Arc::new(index)
        })
    }

    /// Builds the search index of the current catalog in the background, so
    /// neither start-up nor lookups wait for it.
    pub fn prewarm_search(&self) {
        let state = self.clone();
        std::thread::spawn(move || {
            let catalog = state.catalog();
            state.search_index(&catalog);
        });
    }

    /// The tileset of a system in `catalog`, built once per data version
    /// (blocking: call from a blocking thread). `None` for an unknown system.
    pub fn tileset(&self, catalog: &Catalog, system: &str) -> Option<Result<Arc<Tileset>, String>> {
        let index = catalog.system(system)?;
        Some(
            self.inner
                .tilesets
                .get_or_build(catalog.version(), system.to_string(), || {
                    let started = std::time::Instant::now();
                    let built = Tileset::build(catalog, index, &self.inner.config.tiles);
                    tracing::info!(
                        system,
                        version = catalog.version(),
                        ms = started.elapsed().as_millis() as u64,
                        ok = built.is_ok(),
                        "tileset prepared"
                    );
                    built.map(Arc::new).map_err(|e| format!("{e:#}"))
                }),
        )
    }

    /// The coverage report of one system of exactly this `catalog` (also for
    /// a request still holding an older snapshot), computed once per data
    /// version and options. Blocking: call from a blocking thread.
    pub fn coverage_report(
        &self,
        catalog: &Catalog,
        system: &str,
        opts: &CheckOptions,
    ) -> Result<Arc<CoverageReport>, AppError> {
        // Unknown systems and bad options are the caller's mistake: report them
        // as such instead of caching them.
        catalog.named_system(system)?;
        opts.validate()?;
        let key = (system.to_string(), opts.clone());
        self.inner
            .coverage
            .get_or_build(catalog.version(), key, || {
                let started = std::time::Instant::now();
                let report = check(catalog, system, opts, &NoProgress);
                tracing::info!(
                    system,
                    version = catalog.version(),
                    ms = started.elapsed().as_millis() as u64,
                    "coverage report computed"
                );
                report.map(Arc::new).map_err(|e| e.to_string())
            })
            .map_err(|e| AppError::Internal(anyhow::anyhow!("coverage report of {system}: {e}")))
    }

    /// Prepares the tilesets and coverage reports of every system in the
    /// background, so the first map request does not wait for them.
    pub fn prewarm_tiles(&self) {
        let state = self.clone();
        std::thread::spawn(move || {
            let catalog = state.catalog();
            for s in catalog.systems() {
                let name = &s.system().name;
                let _ = state.tileset(&catalog, name);
                if let Err(e) = state.coverage_report(&catalog, name, &CheckOptions::default()) {
                    tracing::warn!(error = ?e, system = %name, "coverage report failed");
                }
            }
        });
    }

    /// Rebuilds the catalog when the store's data version moved (a write by
    /// this or another process). Blocking: call from a blocking thread.
    /// Returns the new version when a reload happened.
    pub fn reload_if_changed(&self) -> anyhow::Result<Option<u64>> {
        self.reload(None, None)
    }

    /// [`AppState::reload_if_changed`] after this process committed one
    /// change to `system` inside `bboxes` (the changed grids before and
    /// after). When the store holds exactly that change on top of the served
    /// catalog, the catalog is patched in memory ([`Catalog::after_change`]:
    /// milliseconds, where loading a snapshot of a city takes seconds), and
    /// cached tiles away from it stay (re-keyed to the new version) when the
    /// system's tile layers are unchanged; otherwise a snapshot is loaded and
    /// every tile dropped, as after any other write.
    pub fn reload_after_commit(
        &self,
        system: &str,
        bboxes: &[[f64; 4]],
        committed: &gridmap_data::edit::Committed,
    ) -> anyhow::Result<Option<u64>> {
        self.reload(Some((system, bboxes)), Some(committed))
    }

    fn reload(
        &self,
        changed: Option<(&str, &[[f64; 4]])>,
        committed: Option<&gridmap_data::edit::Committed>,
    ) -> anyhow::Result<Option<u64>> {
        let _one_at_a_time = self.inner.reloading.lock().expect("reload lock poisoned");
        let version = self.inner.store.data_version()?;
        if version == self.catalog().version()
            || self.refused().is_some_and(|r| r.version == version)
        {
            return Ok(None);
        }
        // The snapshot carries its own version: a write landing after the
        // check above is either wholly in it or picked up by the next poll.
        let started = std::time::Instant::now();
        let old = self.catalog();
        let patched = committed
            .filter(|c| {
                // Exactly this change on top of the served catalog, nothing between.
                c.version == version
                    && old.version() + 1 == version
                    && c.change.change_set().base_version == Some(old.version())
            })
            .and_then(|c| old.after_change(c.change.change_set(), version));
        let loaded = match patched {
            Some(catalog) => {
                tracing::info!(
                    data_version = version,
                    ms = started.elapsed().as_millis() as u64,
                    "catalog patched with this process's change"
                );
                Ok(catalog)
            }
            None => load_checked(self.inner.store.as_ref()),
        };
        let catalog = match loaded {
            Ok(catalog) => {
                super::metrics::metrics().reloaded(started.elapsed());
                catalog
            }
            Err(CheckedLoadError::Refused { version, problems }) => {
                let problems: Vec<String> = problems.0.iter().map(ToString::to_string).collect();
                tracing::warn!(
                    data_version = version,
                    problems = %problems.join("; "),
                    "edits made outside gridmap break the change rules: still serving the previous snapshot"
                );
                *self.inner.refused.write().expect("refused lock poisoned") =
                    Some(Arc::new(RefusedVersion { version, problems }));
                return Ok(None);
            }
            Err(e) => return Err(e.into()),
        };
        *self.inner.refused.write().expect("refused lock poisoned") = None;
        let new_version = catalog.version();
        let carry = changed.filter(|(system, _)| {
            new_version == old.version() + 1
                && same_tile_layers(&old, &catalog, system, &self.inner.config.tiles)
        });
        *self.inner.catalog.write().expect("catalog lock poisoned") = Arc::new(catalog);
        match carry {
            Some((system, bboxes)) => {
                let (kept, dropped) =
                    self.inner
                        .tile_cache
                        .carry_over(old.version(), new_version, |k| {
                            k.system != system || !touches(k, bboxes)
                        });
                tracing::info!(
                    version = new_version,
                    kept,
                    dropped,
                    "tiles away from the change kept"
                );
            }
            None => self.inner.tile_cache.retain_version(new_version),
        }
        Ok(Some(new_version))
    }
}

/// Whether `system`'s tile layers (names, fields, first zooms) are the same
/// in both catalogs: a split that moves a level's median size can move its
/// first zoom, and then every tile differs.
fn same_tile_layers(old: &Catalog, new: &Catalog, system: &str, config: &TileConfig) -> bool {
    match (old.system(system), new.system(system)) {
        (Some(a), Some(b)) => {
            crate::tileset::schema::TileSchema::new(a.system(), a.grids(), config)
                == crate::tileset::schema::TileSchema::new(b.system(), b.grids(), config)
        }
        _ => false,
    }
}

/// Whether tile `k`, grown by an eighth of its size on each side (the
/// clipping buffer, with room to spare), meets any of `bboxes`.
fn touches(k: &crate::tile_cache::TileKey, bboxes: &[[f64; 4]]) -> bool {
    let Ok(tile) = gridmap_tiles::TileId::new(k.z, k.x, k.y) else {
        return true;
    };
    let r = tile.lonlat_bounds();
    let (mx, my) = (r.width() / 8.0, r.height() / 8.0);
    let t = [
        r.min().x - mx,
        r.min().y - my,
        r.max().x + mx,
        r.max().y + my,
    ];
    bboxes
        .iter()
        .any(|b| b[0] <= t[2] && b[2] >= t[0] && b[1] <= t[3] && b[3] >= t[1])
}

/// Values built at most once per (data version, key). Asking for a newer
/// version drops every older entry; asking for an older one (a request still
/// holding the previous snapshot) builds a value without caching it.
struct PerVersion<K, V> {
    capacity: usize,
    entries: Mutex<(u64, Vec<(K, Arc<OnceLock<V>>)>)>,
}

impl<K: PartialEq, V: Clone> PerVersion<K, V> {
    fn new(capacity: usize) -> Self {
        Self {
            capacity,
            entries: Mutex::new((0, Vec::new())),
        }
    }

    /// Whether the value of (`version`, `key`) is built and cached.
    fn is_built(&self, version: u64, key: &K) -> bool {
        let entries = self.entries.lock().expect("cache lock poisoned");
        entries.0 == version
            && entries
                .1
                .iter()
                .any(|(k, cell)| k == key && cell.get().is_some())
    }

    fn get_or_build(&self, version: u64, key: K, build: impl FnOnce() -> V) -> V {
        let cell = {
            let mut entries = self.entries.lock().expect("cache lock poisoned");
            if version < entries.0 {
                drop(entries);
                return build();
            }
            if version > entries.0 {
                *entries = (version, Vec::new());
            }
            match entries.1.iter().find(|(k, _)| *k == key) {
                Some((_, cell)) => cell.clone(),
                None => {
                    if entries.1.len() >= self.capacity {
                        entries.1.remove(0);
                    }
                    let cell = Arc::new(OnceLock::new());
                    entries.1.push((key, cell.clone()));
                    cell
                }
            }
        };
        // Built outside the lock: other keys are not held up meanwhile.
        cell.get_or_init(build).clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_version_cache_builds_once_and_never_mixes_versions() {
        let cache: PerVersion<&str, u64> = PerVersion::new(2);
        let built = std::cell::Cell::new(0);
        let get = |v: u64, k: &'static str| {
            cache.get_or_build(v, k, || {
                built.set(built.get() + 1);
                v * 10
            })
        };
        assert_eq!(get(1, "a"), 10);
        assert_eq!(get(1, "a"), 10);
        assert_eq!(built.get(), 1, "cached");
        assert_eq!(get(2, "a"), 20, "a new version rebuilds");
        assert_eq!(
            get(1, "a"),
            10,
            "an older version is built, not taken from the cache"
        );
        assert_eq!(get(2, "a"), 20);
        assert_eq!(built.get(), 3);
        get(2, "b");
        get(2, "c");
        assert_eq!(get(2, "a"), 20);
        assert_eq!(built.get(), 6, "capacity 2 dropped the oldest key");
    }
}
