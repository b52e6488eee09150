//! One store of each backend for tests that run on both.
//!
//! PostGIS comes from `GRIDMAP_TEST_PG`, the URL of a role that may create
//! databases (`scripts/pg-cluster.sh start DIR` prints one). Each test gets a
//! database of its own, dropped when the test's [`TestStore`] goes, so tests
//! run in parallel. Without the variable the PostGIS half of a test is
//! skipped with a printed reason, unless `GRIDMAP_REQUIRE_PG=1` (the test
//! script sets both), where a missing database fails the test instead.

use std::sync::atomic::{AtomicUsize, Ordering};

use gridmap_data::store::GridStore;

/// The two storage backends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Gpkg,
    Postgis,
}

/// Generates one `#[test]` per backend for each listed function taking a
/// [`Backend`]: `backend_tests!(round_trip, stale_base)` gives
/// `gpkg::round_trip`, `postgis::round_trip` …
#[macro_export]
macro_rules! backend_tests {
    ($($case:ident),* $(,)?) => {
        mod gpkg {
            $( #[test] fn $case() { super::$case($crate::backends::Backend::Gpkg) } )*
        }
        mod postgis {
            $( #[test] fn $case() { super::$case($crate::backends::Backend::Postgis) } )*
        }
    };
}

/// The admin URL of the test cluster, or `None` (skip) with the reason printed.
pub fn pg_admin_url() -> Option<String> {
    match std::env::var("GRIDMAP_TEST_PG") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            assert!(
                std::env::var("GRIDMAP_REQUIRE_PG").as_deref() != Ok("1"),
                "GRIDMAP_REQUIRE_PG=1 but GRIDMAP_TEST_PG is not set (scripts/pg-cluster.sh start DIR prints a URL)"
            );
            eprintln!("skipping the PostGIS case: GRIDMAP_TEST_PG is not set");
            None
        }
    }
}

/// `url` with its database replaced by `db` (query string kept).
pub fn with_database(url: &str, db: &str) -> String {
    let (scheme, rest) = url.split_once("://").expect("a URL");
    let (authority, tail) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i + 1..]),
        None => (rest, ""),
    };
    let query = tail.find('?').map_or("", |i| &tail[i..]);
    format!("{scheme}://{authority}/{db}{query}")
}

/// Runs SQL statements on the admin database, outside any test runtime.
pub fn admin_sql(admin_url: &str, statements: &[String]) {
    std::thread::scope(|s| {
        s.spawn(|| {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime");
            rt.block_on(async {
                let (client, conn) = tokio_postgres::connect(admin_url, tokio_postgres::NoTls)
                    .await
                    .expect("connect to GRIDMAP_TEST_PG");
                let task = tokio::spawn(conn);
                for sql in statements {
                    client
                        .batch_execute(sql)
                        .await
                        .unwrap_or_else(|e| panic!("{sql}: {e}"));
                }
                drop(client);
                let _ = task.await;
            });
        })
        .join()
        .expect("admin SQL");
    });
}

/// A database of one test, dropped (connections and all) on drop.
#[derive(Debug)]
pub struct PgDatabase {
    admin: String,
    pub name: String,
    /// The URL of the new database, password included.
    pub url: String,
}

impl PgDatabase {
    /// A new empty database (no PostGIS yet: the store enables it), or
    /// `None` when there is no test cluster.
    pub fn create(label: &str) -> Option<PgDatabase> {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let admin = pg_admin_url()?;
        let name = format!(
            "gm_{}_{}_{}",
            label.to_ascii_lowercase(),
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        admin_sql(&admin, &[format!("CREATE DATABASE {name}")]);
        let url = with_database(&admin, &name);
        Some(PgDatabase { admin, name, url })
    }

    /// Runs SQL in this database (as the admin role).
    pub fn sql(&self, statements: &[&str]) {
        let s: Vec<String> = statements.iter().map(ToString::to_string).collect();
        admin_sql(&self.url, &s);
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("keeping database {} of a failed test", self.name);
            return;
        }
        admin_sql(
            &self.admin,
            &[format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            )],
        );
    }
}

/// What keeps a test store's place alive.
#[derive(Debug)]
pub enum Place {
    Dir(tempfile::TempDir),
    Pg(PgDatabase),
}

/// A fresh, empty store of one backend and its location for `store::open`.
#[derive(Debug)]
pub struct TestStore {
    pub store: Box<dyn GridStore>,
    pub location: String,
    pub place: Place,
}

impl TestStore {
    /// A new store, or `None` for PostGIS without a test cluster.
    pub fn new(backend: Backend, label: &str) -> Option<TestStore> {
        let (location, place) = match backend {
            Backend::Gpkg => {
                let dir = tempfile::tempdir().expect("a temp dir");
                let path = dir.path().join(format!("{label}.gpkg"));
                (
                    path.to_str().expect("UTF-8 temp path").to_string(),
                    Place::Dir(dir),
                )
            }
            Backend::Postgis => {
                let db = PgDatabase::create(label)?;
                (db.url.clone(), Place::Pg(db))
            }
        };
        let store = gridmap_data::store::open(&location)
            .unwrap_or_else(|e| panic!("opening {location}: {e}"));
        Some(TestStore {
            store,
            location,
            place,
        })
    }

    /// Opens another handle on the same store (a second server).
    pub fn reopen(&self) -> Box<dyn GridStore> {
        gridmap_data::store::open(&self.location).expect("reopen")
    }

    /// The Zhejiang partition (see [`crate::zhejiang_store`]) in a new store.
    pub fn zhejiang(backend: Backend) -> Option<TestStore> {
        use gridmap_data::import::{import_grids, GridImportOptions};
        let t = TestStore::new(backend, "zj")?;
        let mut opts = GridImportOptions::new("admin");
        opts.levels = Some(
            ["province", "city", "district"]
                .iter()
                .map(ToString::to_string)
                .collect(),
        );
        import_grids(
            &*t.store,
            &crate::fixture("zhejiang-admin-gcj02.geojson"),
            &opts,
            &gridmap_data::progress::NoProgress,
        )
        .expect("the Zhejiang partition imports");
        assert_eq!(t.store.grids("admin").expect("grids").len(), 102);
        Some(t)
    }
}
