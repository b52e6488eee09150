//! Helpers shared by the end-to-end tests.

use std::path::{Path, PathBuf};

pub mod backends;

/// The repository root (tests run with the package directory as cwd).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// A fixture under `data/fixtures/`.
pub fn fixture(name: &str) -> PathBuf {
    repo_root().join("data").join("fixtures").join(name)
}

/// One row of `zhejiang-points-oracle.csv`: a point and the GEOS answer per level.
#[derive(Debug, Clone)]
pub struct OraclePoint {
    pub id: String,
    pub lon: f64,
    pub lat: f64,
    pub province: String,
    pub city: String,
    pub district: String,
}

impl OraclePoint {
    /// The GEOS answer per level, top down (`""` where no grid holds the point).
    pub fn codes(&self) -> [&str; 3] {
        [&self.province, &self.city, &self.district]
    }
}

/// Fails, listing the first ten, if there are `mismatches` against the GEOS
/// oracle; and unless more than 5,000 of the points checked lay `inside` a
/// district: the fixture's bounding box is mostly sea and neighbouring
/// provinces, and the land must be exercised too.
pub fn assert_agrees_with_oracle(mismatches: &[String], inside: usize) {
    assert!(
        mismatches.is_empty(),
        "{} mismatches, first: {:#?}",
        mismatches.len(),
        &mismatches[..mismatches.len().min(10)]
    );
    assert!(inside > 5_000, "only {inside} points inside");
}

/// Reads the 20,000-point GEOS oracle.
pub fn oracle_points() -> Vec<OraclePoint> {
    let mut rdr =
        csv::Reader::from_path(fixture("zhejiang-points-oracle.csv")).expect("oracle csv");
    rdr.records()
        .map(|r| {
            let r = r.expect("oracle row");
            OraclePoint {
                id: r[0].to_string(),
                lon: r[1].parse().expect("lon"),
                lat: r[2].parse().expect("lat"),
                city: r[3].to_string(),
                district: r[4].to_string(),
                province: r[5].to_string(),
            }
        })
        .collect()
}

/// Imports a grid file as it is written (no CRS conversion, no repair) into a
/// new store at `path`, as system `system` with the given levels.
pub fn import_store(
    path: &Path,
    file: &Path,
    system: &str,
    levels: &[&str],
) -> gridmap_data::store::gpkg::GpkgStore {
    use gridmap_data::import::{import_grids, GridImportOptions};
    let store = gridmap_data::store::gpkg::GpkgStore::open(path).expect("open store");
    let mut opts = GridImportOptions::new(system);
    opts.levels = Some(levels.iter().map(ToString::to_string).collect());
    import_grids(&store, file, &opts, &gridmap_data::progress::NoProgress)
        .unwrap_or_else(|e| panic!("importing {}: {e}", file.display()));
    store
}

/// Imports the Zhejiang partition as system `admin` with levels
/// `province,city,district`, keeping the GCJ-02 coordinates as written (the
/// GEOS oracle was computed on them), into a new store at `path`.
pub fn zhejiang_store(path: &Path) -> gridmap_data::store::gpkg::GpkgStore {
    use gridmap_data::store::GridStore;
    let store = import_store(
        path,
        &fixture("zhejiang-admin-gcj02.geojson"),
        "admin",
        &["province", "city", "district"],
    );
    let grids = store
        .grids("admin")
        .expect("the Zhejiang partition imports cleanly");
    assert_eq!(grids.len(), 102, "province, 11 cities, 90 districts");
    store
}

/// Requests through the whole application, as the HTTP tests make them.
pub mod http {
    use axum::body::Body;
    use axum::http::{header, HeaderMap, Method, Request, StatusCode};
    use gridmap::http::{app, AppState};
    use serde_json::Value;
    use tower::ServiceExt;

    /// Largest response body read (whole coverage reports of Zhejiang).
    const MAX_BODY: usize = 1 << 28;

    /// A response, read whole.
    pub struct Reply {
        pub status: StatusCode,
        pub headers: HeaderMap,
        pub body: Vec<u8>,
    }

    impl Reply {
        /// The body as JSON; `Null` when it is not JSON (an empty 204, a tile).
        pub fn json(&self) -> Value {
            serde_json::from_slice(&self.body).unwrap_or(Value::Null)
        }

        pub fn content_type(&self) -> Option<&str> {
            self.headers
                .get(header::CONTENT_TYPE)
                .map(|v| v.to_str().expect("an ASCII content type"))
        }
    }

    /// Sends `req` to `app(state)`.
    pub async fn send(state: &AppState, req: Request<Body>) -> Reply {
        let resp = app(state.clone()).oneshot(req).await.expect("infallible");
        let (parts, body) = resp.into_parts();
        let body = axum::body::to_bytes(body, MAX_BODY)
            .await
            .expect("a readable body");
        Reply {
            status: parts.status,
            headers: parts.headers,
            body: body.to_vec(),
        }
    }

    async fn call(
        state: &AppState,
        method: Method,
        uri: &str,
        headers: &[(&str, &str)],
        body: Body,
    ) -> Reply {
        let mut req = Request::builder().method(method).uri(uri);
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        send(state, req.body(body).expect("a valid request")).await
    }

    /// `GET uri` with the given request headers.
    pub async fn get_with(state: &AppState, uri: &str, headers: &[(&str, &str)]) -> Reply {
        call(state, Method::GET, uri, headers, Body::empty()).await
    }

    /// `GET uri`.
    pub async fn get(state: &AppState, uri: &str) -> Reply {
        get_with(state, uri, &[]).await
    }

    /// `GET uri`: the status and the body as JSON (`Null` when it is not JSON).
    pub async fn get_json(state: &AppState, uri: &str) -> (StatusCode, Value) {
        let reply = get(state, uri).await;
        (reply.status, reply.json())
    }

    /// `POST uri` with the given request headers (`content-type`, `accept` …) and body.
    pub async fn post(
        state: &AppState,
        uri: &str,
        headers: &[(&str, &str)],
        body: impl Into<Body>,
    ) -> Reply {
        call(state, Method::POST, uri, headers, body.into()).await
    }
}

/// The `key` string of every element of the JSON array `items` (the codes
/// of listed grids, the ids of layers …), in order.
pub fn strings_of<'a>(items: &'a serde_json::Value, key: &str) -> Vec<&'a str> {
    items
        .as_array()
        .expect("a JSON array")
        .iter()
        .map(|item| {
            item[key]
                .as_str()
                .unwrap_or_else(|| panic!("no string `{key}` in {item}"))
        })
        .collect()
}

/// Whether GDAL's command-line tools can run here. The test script installs
/// them and sets `GRIDMAP_REQUIRE_GDAL=1`: there a missing tool fails the
/// test instead of skipping it.
pub fn gdal_available() -> bool {
    let found = std::process::Command::new("ogrinfo")
        .arg("--version")
        .output()
        .is_ok();
    if !found {
        assert!(
            std::env::var_os("GRIDMAP_REQUIRE_GDAL").is_none(),
            "GRIDMAP_REQUIRE_GDAL is set but ogrinfo is not installed (Debian: gdal-bin)"
        );
        println!("note: ogrinfo not installed (Debian: gdal-bin); skipping the GDAL checks");
    }
    found
}

/// Talking to the editing API as its accounts: one account per role.
pub mod editing {
    use std::collections::BTreeMap;

    use axum::http::StatusCode;
    use gridmap::http::AppState;
    use gridmap_data::accounts::{new_token, token_hash, Role};
    use gridmap_data::store::GridStore;
    use serde_json::{json, Value};

    use super::http::{get_with, post, Reply};

    /// A server state with accounts `viewer-1`, `editor-1`, `approver-1`, `admin-1`.
    pub struct Editors {
        pub state: AppState,
        pub system: String,
        tokens: BTreeMap<Role, String>,
        /// The directory holding the store's file, removed when dropped.
        _dir: Option<tempfile::TempDir>,
    }

    impl Editors {
        /// Adds the four accounts to `store` and serves it.
        pub fn new(
            store: impl GridStore + 'static,
            system: &str,
            dir: Option<tempfile::TempDir>,
        ) -> Self {
            let mut tokens = BTreeMap::new();
            for role in Role::ALL {
                let token = new_token();
                store
                    .add_account(&format!("{role}-1"), role, &token_hash(&token))
                    .expect("an account");
                tokens.insert(role, token);
            }
            let state = AppState::new(store).expect("a server state");
            Self {
                state,
                system: system.into(),
                tokens,
                _dir: dir,
            }
        }

        pub fn token(&self, role: Role) -> &str {
            &self.tokens[&role]
        }

        /// `POST uri` with a JSON body, as `role` (or without a token).
        pub async fn post(&self, uri: &str, role: Option<Role>, body: Value) -> Reply {
            let auth = role.map(|r| format!("Bearer {}", self.token(r)));
            let mut headers = vec![("content-type", "application/json")];
            if let Some(a) = &auth {
                headers.push(("authorization", a.as_str()));
            }
            post(&self.state, uri, &headers, body.to_string()).await
        }

        /// `GET uri` as `role`.
        pub async fn get(&self, uri: &str, role: Role) -> Reply {
            let auth = format!("Bearer {}", self.token(role));
            get_with(&self.state, uri, &[("authorization", &auth)]).await
        }

        /// A new draft of the system; its id.
        pub async fn proposal(&self, title: &str) -> u64 {
            let r = self
                .post(
                    "/api/v1/proposals",
                    Some(Role::Editor),
                    json!({"system": self.system, "title": title}),
                )
                .await;
            assert_eq!(r.status, StatusCode::CREATED, "{}", r.json());
            r.json()["id"].as_u64().expect("an id")
        }

        pub async fn edit(&self, id: u64, edit: Value) -> Reply {
            self.post(
                &format!("/api/v1/proposals/{id}/edits"),
                Some(Role::Editor),
                edit,
            )
            .await
        }

        /// Submits (must succeed) and publishes; the publish reply.
        pub async fn publish(&self, id: u64) -> Reply {
            let r = self
                .post(
                    &format!("/api/v1/proposals/{id}/submit"),
                    Some(Role::Editor),
                    json!({}),
                )
                .await;
            assert_eq!(r.status, StatusCode::OK, "submit: {}", r.json());
            self.post(
                &format!("/api/v1/proposals/{id}/publish"),
                Some(Role::Approver),
                json!({"note": "ok"}),
            )
            .await
        }

        /// The proposal's stored body (its grids exactly as kept).
        pub fn body(&self, id: u64) -> gridmap_data::edit::proposal::Body {
            let row = self
                .state
                .store()
                .proposal(id)
                .expect("readable")
                .expect("stored");
            serde_json::from_value(row.body).expect("a proposal body")
        }
    }

    /// The codes of the grids a proposal (as the API shows it) changes.
    pub fn changed_codes(proposal: &Value) -> std::collections::BTreeSet<String> {
        proposal["grids"]
            .as_array()
            .expect("grids")
            .iter()
            .map(|g| g["code"].as_str().expect("code").to_string())
            .collect()
    }

    /// The reply is the JSON error `status` with `code` and a message.
    pub fn assert_error(r: &Reply, status: StatusCode, code: &str) {
        assert_eq!(r.status, status, "{}", String::from_utf8_lossy(&r.body));
        assert_eq!(r.json()["error"]["code"], code, "{}", r.json());
        assert!(r.json()["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()));
    }
}

/// What a store holds, to compare before and after something that must not
/// change it: the data version and a digest of every row, with row counts
/// so a difference reads at a glance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreFingerprint {
    pub data_version: u64,
    pub systems: usize,
    pub grids: usize,
    pub workers: usize,
    pub sites: usize,
    /// Of every system, grid, worker and site as the store's snapshot lists
    /// them (each in a fixed order), geometry and attributes included.
    pub digest: u64,
}

/// The [`StoreFingerprint`] of `store`, read in one snapshot.
pub fn store_fingerprint<S: gridmap_data::store::GridStore + ?Sized>(
    store: &S,
) -> StoreFingerprint {
    use std::hash::{Hash, Hasher};
    let snapshot = store
        .snapshot(gridmap_data::store::SnapshotParts::All)
        .expect("a readable store");
    // `DefaultHasher::new()` has fixed keys: equal rows give equal digests
    // within a run, which is all a before/after comparison needs.
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    let rows = serde_json::json!({
        "systems": snapshot.systems,
        "workers": snapshot.workers,
        "sites": snapshot.sites,
    });
    serde_json::to_string(&rows)
        .expect("rows serialise")
        .hash(&mut hasher);
    StoreFingerprint {
        data_version: snapshot.version,
        systems: snapshot.systems.len(),
        grids: snapshot.systems.iter().map(|(_, grids)| grids.len()).sum(),
        workers: snapshot.workers.len(),
        sites: snapshot.sites.len(),
        digest: hasher.finish(),
    }
}

/// Running the `gridmap` binary's commands in this process, as `main` runs
/// them. (A test of this package cannot start the binary itself: Cargo
/// builds and names only a package's own binaries for its tests.)
pub mod cli {
    /// How a command ended, as the binary would report it.
    #[derive(Debug, Clone)]
    pub struct Ending {
        /// 0 on success, 1 for an error (`main` returns it), 101 for a panic.
        pub status: i32,
        /// The error as `main` prints it (`Error: ` and its causes, here on
        /// one line), or the panic's message; empty on success.
        pub stderr: String,
    }

    /// The main thread's stack on Linux; test threads get 2 MiB, and input
    /// nesting (deep JSON, WKT) must be judged with the stack the binary has.
    const MAIN_STACK: usize = 8 << 20;

    /// Runs one command function (`gridmap::commands::import::run(&cmd)` …).
    pub fn run<E: std::fmt::Display>(command: impl FnOnce() -> Result<(), E> + Send) -> Ending {
        std::thread::scope(|scope| {
            let thread = std::thread::Builder::new()
                .stack_size(MAIN_STACK)
                .spawn_scoped(scope, || command().map_err(|e| format!("Error: {e:#}")))
                .expect("a thread");
            match thread.join() {
                Ok(Ok(())) => Ending {
                    status: 0,
                    stderr: String::new(),
                },
                Ok(Err(stderr)) => Ending { status: 1, stderr },
                Err(payload) => {
                    let message = payload
                        .downcast_ref::<&str>()
                        .map(ToString::to_string)
                        .or_else(|| payload.downcast_ref::<String>().cloned())
                        .unwrap_or_default();
                    Ending {
                        status: 101,
                        stderr: format!("thread panicked: {message}"),
                    }
                }
            }
        })
    }
}
