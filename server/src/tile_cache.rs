//! A size-bounded in-memory cache of encoded tiles.
//!
//! Entries are keyed by data version, so a tile of an older version can never
//! be served after the grids change; [`TileCache::retain_version`] drops the
//! old entries at once to free their memory. A tile missing from the cache
//! is rendered once however many requests ask for it meanwhile
//! ([`TileCache::get_or_render`]).

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use tokio::sync::OnceCell;

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
    /// Tiles being rendered now: later requests for one wait for its render.
    in_flight: Mutex<HashMap<TileKey, Arc<OnceCell<Arc<CachedTile>>>>>,
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
            in_flight: Mutex::new(HashMap::new()),
        }
    }

    /// The cached tile, or the one `render` makes and the cache keeps —
    /// single-flight: while one request renders a tile, the others asking
    /// for it wait for that render instead of starting their own (and hold
    /// no render slot meanwhile). When a render fails or its request goes
    /// away, the next waiter renders.
    pub async fn get_or_render<E, F, Fut>(
        &self,
        key: &TileKey,
        render: F,
    ) -> Result<Arc<CachedTile>, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Arc<CachedTile>, E>>,
    {
        if let Some(tile) = self.get(key) {
            return Ok(tile);
        }
        let flight = self
            .in_flight
            .lock()
            .expect("tile flights poisoned")
            .entry(key.clone())
            .or_default()
            .clone();
        let result = flight
            .get_or_try_init(|| async {
                // A flight that ended between the look-up above and joining
                // this one has filled the cache.
                if let Some(tile) = self.get(key) {
                    return Ok(tile);
                }
                let tile = render().await?;
                self.insert(key.clone(), tile.clone());
                Ok(tile)
            })
            .await
            .cloned();
        let mut flights = self.in_flight.lock().expect("tile flights poisoned");
        if flights.get(key).is_some_and(|f| Arc::ptr_eq(f, &flight)) {
            flights.remove(key);
        }
        result
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

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn one_render_however_many_ask_at_once() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let cache = Arc::new(TileCache::new(1 << 20));
        let renders = Arc::new(AtomicUsize::new(0));
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..16 {
            let (cache, renders) = (cache.clone(), renders.clone());
            tasks.spawn(async move {
                cache
                    .get_or_render(&key(1, 0), || async {
                        renders.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                        Ok::<_, ()>(tile(10))
                    })
                    .await
            });
        }
        let tiles = tasks.join_all().await;
        assert_eq!(renders.load(Ordering::SeqCst), 1);
        assert!(tiles
            .iter()
            .all(|t| t.as_ref().is_ok_and(|t| t.raw.len() == 10)));
        assert!(
            cache.in_flight.lock().unwrap().is_empty(),
            "no flight left behind"
        );

        // A failed render is not cached: the next request renders again.
        let failed = cache
            .get_or_render(&key(2, 0), || async { Err::<Arc<CachedTile>, _>("boom") })
            .await;
        assert_eq!(failed.unwrap_err(), "boom");
        let again = cache
            .get_or_render(&key(2, 0), || async { Ok::<_, ()>(tile(3)) })
            .await;
        assert_eq!(again.unwrap().raw.len(), 3);
    }
}
