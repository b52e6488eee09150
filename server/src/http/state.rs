//! Shared server state: the current catalog, the store it came from, and the
//! vector tiles prepared from it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, RwLock};

use axum::http::HeaderMap;
use gridmap_data::index::Catalog;
use gridmap_data::store::GridStore;

use crate::tile_cache::TileCache;
use crate::tileset::{TileConfig, Tileset};

/// Validated server settings.
#[derive(Debug, Clone, Default)]
pub struct ServerConfig {
    /// The URL clients reach this server at (e.g. behind a reverse proxy),
    /// without trailing slash; when unset it is derived from request headers.
    pub public_url: Option<String>,
    pub tiles: TileConfig,
}

/// Cheap to clone; handlers read the current [`Catalog`] snapshot.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

type TilesetCell = Arc<OnceLock<Result<Arc<Tileset>, String>>>;

struct Inner {
    config: ServerConfig,
    catalog: RwLock<Arc<Catalog>>,
    store: Mutex<Box<dyn GridStore>>,
    /// Tilesets of the current catalog version, built on first use.
    tilesets: Mutex<(u64, HashMap<String, TilesetCell>)>,
    tile_cache: TileCache,
}

impl AppState {
    /// Loads the catalog from the store, with default settings.
    pub fn new(store: Box<dyn GridStore>) -> anyhow::Result<Self> {
        Self::with_config(store, ServerConfig::default())
    }

    pub fn with_config(store: Box<dyn GridStore>, config: ServerConfig) -> anyhow::Result<Self> {
        let catalog = Catalog::load(store.as_ref())?;
        let version = catalog.version();
        let tile_cache = TileCache::new(config.tiles.cache_bytes);
        Ok(Self {
            inner: Arc::new(Inner {
                config,
                catalog: RwLock::new(Arc::new(catalog)),
                store: Mutex::new(store),
                tilesets: Mutex::new((version, HashMap::new())),
                tile_cache,
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

    /// Runs `f` with the store (blocking: call from a blocking thread).
    pub fn with_store<T>(&self, f: impl FnOnce(&mut dyn GridStore) -> T) -> T {
        let mut store = self.inner.store.lock().expect("store lock poisoned");
        f(store.as_mut())
    }

    /// Sites of one kind (or all) read from the store, with the data version
    /// they belong to, read under one lock so the two agree. Blocking.
    pub fn sites(&self, kind: Option<&str>) -> anyhow::Result<(u64, Vec<gridmap_data::Site>)> {
        let store = self.inner.store.lock().expect("store lock poisoned");
        Ok((store.data_version()?, store.sites(kind)?))
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

    /// The tileset of a system in `catalog`, building it on first use
    /// (blocking: call from a blocking thread). `None` for an unknown system.
    pub fn tileset(&self, catalog: &Catalog, system: &str) -> Option<Result<Arc<Tileset>, String>> {
        let index = catalog.system(system)?;
        let cell = {
            let mut sets = self.inner.tilesets.lock().expect("tilesets poisoned");
            if sets.0 != catalog.version() {
                // Only the current version is kept; a request still holding an
                // older catalog builds its own, uncached.
                if catalog.version() < sets.0 {
                    return Some(
                        Tileset::build(catalog, index, &self.inner.config.tiles)
                            .map(Arc::new)
                            .map_err(|e| format!("{e:#}")),
                    );
                }
                *sets = (catalog.version(), HashMap::new());
            }
            sets.1.entry(system.to_string()).or_default().clone()
        };
        Some(
            cell.get_or_init(|| {
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
            })
            .clone(),
        )
    }

    /// Prepares the tilesets of every system in the background, so the first
    /// map request does not wait for them.
    pub fn prewarm_tiles(&self) {
        let state = self.clone();
        std::thread::spawn(move || {
            let catalog = state.catalog();
            for s in catalog.systems() {
                let name = &s.system().name;
                let _ = state.tileset(&catalog, name);
                // The coverage report feeds the `coverage` tile layers.
                if let Err(e) = super::coverage::report(&state, Some(name), &Default::default()) {
                    tracing::warn!(error = ?e, system = %name, "coverage report failed");
                }
            }
        });
    }

    /// Rebuilds the catalog when the store's data version moved (a write by
    /// this or another process). Blocking: call from a blocking thread.
    /// Returns the new version when a reload happened.
    pub fn reload_if_changed(&self) -> anyhow::Result<Option<u64>> {
        let store = self.inner.store.lock().expect("store lock poisoned");
        let version = store.data_version()?;
        if version == self.catalog().version() {
            return Ok(None);
        }
        let catalog = Catalog::load(store.as_ref())?;
        drop(store);
        let new_version = catalog.version();
        *self.inner.catalog.write().expect("catalog lock poisoned") = Arc::new(catalog);
        self.inner.tile_cache.retain_version(new_version);
        Ok(Some(new_version))
    }
}
