//! A size-bounded in-memory cache of encoded tiles.
//!
//! Entries are keyed by data version, so a tile of an older version can never
//! be served after the grids change; [`TileCache::retain_version`] drops the
//! old entries at once to free their memory.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use axum::body::Bytes;

/// An encoded tile, raw and gzipped (both computed once).
#[derive(Debug)]
pub struct CachedTile {
    pub raw: Bytes,
    pub gzip: Bytes,
}

impl CachedTile {
    fn weight(&self) -> usize {
        self.raw.len() + self.gzip.len() + 64
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TileKey {
    pub version: u64,
    pub system: String,
    pub z: u8,
    pub x: u32,
    pub y: u32,
}

/// First-in first-out eviction under a byte budget: simple, and tiles of a
/// map session are requested in waves where FIFO does about as well as LRU.
pub struct TileCache {
    budget: usize,
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    map: HashMap<TileKey, Arc<CachedTile>>,
    order: VecDeque<TileKey>,
    bytes: usize,
}

impl TileCache {
    pub fn new(budget: usize) -> Self {
        Self {
            budget,
            inner: Mutex::new(Inner::default()),
        }
    }

    pub fn get(&self, key: &TileKey) -> Option<Arc<CachedTile>> {
        self.inner
            .lock()
            .expect("tile cache poisoned")
            .map
            .get(key)
            .cloned()
    }

    pub fn insert(&self, key: TileKey, tile: Arc<CachedTile>) {
        let weight = tile.weight();
        if weight > self.budget {
            return;
        }
        let mut inner = self.inner.lock().expect("tile cache poisoned");
        if let Some(old) = inner.map.insert(key.clone(), tile) {
            inner.bytes -= old.weight();
        } else {
            inner.order.push_back(key);
        }
        inner.bytes += weight;
        while inner.bytes > self.budget {
            let Some(oldest) = inner.order.pop_front() else {
                break;
            };
            if let Some(t) = inner.map.remove(&oldest) {
                inner.bytes -= t.weight();
            }
        }
    }

    /// Drops every entry of another data version.
    pub fn retain_version(&self, version: u64) {
        let mut inner = self.inner.lock().expect("tile cache poisoned");
        inner.map.retain(|k, _| k.version == version);
        let Inner { map, order, .. } = &mut *inner;
        order.retain(|k| map.contains_key(k));
        inner.bytes = inner.map.values().map(|t| t.weight()).sum();
    }

    /// Moves the tiles of version `from` that `keep` accepts to version `to`
    /// (they are the same bytes there) and drops every other tile not of `to`.
    /// Returns (kept, dropped).
    pub fn carry_over(
        &self,
        from: u64,
        to: u64,
        keep: impl Fn(&TileKey) -> bool,
    ) -> (usize, usize) {
        let mut inner = self.inner.lock().expect("tile cache poisoned");
        let old = std::mem::take(&mut inner.map);
        let mut dropped = 0;
        for (mut k, t) in old {
            if k.version == from && keep(&k) {
                k.version = to;
            } else if k.version != to {
                dropped += 1;
                continue;
            }
            inner.map.insert(k, t);
        }
        let Inner { map, order, .. } = &mut *inner;
        for k in order.iter_mut() {
            if k.version == from && !map.contains_key(k) {
                k.version = to;
            }
        }
        order.retain(|k| map.contains_key(k));
        inner.bytes = inner.map.values().map(|t| t.weight()).sum();
        (inner.map.len(), dropped)
    }

    /// (entries, bytes) for logging and tests.
    pub fn usage(&self) -> (usize, usize) {
        let inner = self.inner.lock().expect("tile cache poisoned");
        (inner.map.len(), inner.bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tile(n: usize) -> Arc<CachedTile> {
        Arc::new(CachedTile {
            raw: Bytes::from(vec![0u8; n]),
            gzip: Bytes::new(),
        })
    }

    fn key(version: u64, x: u32) -> TileKey {
        TileKey {
            version,
            system: "s".into(),
            z: 1,
            x,
            y: 0,
        }
    }

    #[test]
    fn evicts_oldest_within_budget_and_drops_old_versions() {
        let cache = TileCache::new(3 * (100 + 64));
        for x in 0..5 {
            cache.insert(key(1, x), tile(100));
        }
        assert_eq!(cache.usage().0, 3);
        assert!(cache.get(&key(1, 0)).is_none() && cache.get(&key(1, 4)).is_some());
        cache.insert(key(2, 9), tile(100));
        cache.retain_version(2);
        assert_eq!(cache.usage(), (1, 164));
        cache.insert(key(2, 10), tile(10_000));
        assert!(
            cache.get(&key(2, 10)).is_none(),
            "larger than the whole budget"
        );
    }
}
