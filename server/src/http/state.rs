//! Shared server state: the current catalog and the store it came from.

use std::sync::{Arc, Mutex, RwLock};

use gridmap_data::index::Catalog;
use gridmap_data::store::GridStore;

/// Cheap to clone; handlers read the current [`Catalog`] snapshot.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    catalog: RwLock<Arc<Catalog>>,
    store: Mutex<Box<dyn GridStore>>,
}

impl AppState {
    /// Loads the catalog from the store.
    pub fn new(store: Box<dyn GridStore>) -> anyhow::Result<Self> {
        let catalog = Catalog::load(store.as_ref())?;
        Ok(Self {
            inner: Arc::new(Inner { catalog: RwLock::new(Arc::new(catalog)), store: Mutex::new(store) }),
        })
    }

    /// The current snapshot; holding it never blocks a reload.
    pub fn catalog(&self) -> Arc<Catalog> {
        self.inner.catalog.read().expect("catalog lock poisoned").clone()
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
        Ok(Some(new_version))
    }
}
