//! `gridmap serve`: the HTTP server, reloading when the store changes.

use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use gridmap_data::demo::DemoOptions;
use gridmap_data::store::StoreLocation;

use crate::cli::{ServeArgs, DEFAULT_DB};
use crate::http::{app, AppState};

pub async fn run(args: ServeArgs) -> anyhow::Result<()> {
    let config = args.server_config()?;
    if let StoreLocation::Gpkg(path) = args.db.location() {
        create_default_demo(&path).await?;
    }
    let store = args.db.open()?;
    let location = store.location();
    let state =
        tokio::task::spawn_blocking(move || AppState::with_config(store.into(), config)).await??;
    state.prewarm_search();
    state.prewarm_tiles();
    let limits = state.config().connections;
    let catalog = state.catalog();
    tracing::info!(
        store = %location,
        data_version = catalog.version(),
        systems = catalog.systems().count(),
        "store loaded"
    );
    let wake = std::sync::Arc::new(tokio::sync::Notify::new());
    if let StoreLocation::Postgres(url) = args.db.location() {
        spawn_listener(url, wake.clone());
    }
    spawn_reloader(
        state.clone(),
        Duration::from_secs_f64(args.reload_interval.max(0.1)),
        wake,
    );
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("listening on {}", args.listen))?;
    tracing::info!("gridmap serving on http://{}", listener.local_addr()?);
    crate::http::listener::serve(listener, app(state), limits, shutdown_signal()).await?;
    tracing::info!("stopped");
    Ok(())
}

/// SIGTERM (service managers, `docker stop`) or SIGINT (Ctrl-C).
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => tracing::info!("SIGTERM received"),
                    _ = tokio::signal::ctrl_c() => tracing::info!("SIGINT received"),
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM; only Ctrl-C stops the server");
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// A missing store at the default path becomes the demo city (the README's
/// first command); a missing store anywhere else is an error.
async fn create_default_demo(path: &Path) -> anyhow::Result<()> {
    if !path.exists() {
        if path.as_os_str() == DEFAULT_DB {
            let absolute = std::env::current_dir()?.join(path);
            tracing::info!(path = %absolute.display(), "no store yet: creating the demo city (西湖区) there");
            let p = path.to_path_buf();
            tokio::task::spawn_blocking(move || {
                super::demo::write_demo(&p, &DemoOptions::default())
            })
            .await??;
        } else {
            anyhow::bail!(
                "{} does not exist; create it with `gridmap import grids FILE --db {0}` or `gridmap demo --out {0}`",
                path.display()
            );
        }
    }
    Ok(())
}

/// Polls the store's data version so imports by other processes show up,
/// and checks at once when `wake` is notified (a PostgreSQL notice).
/// A failing check marks `/health` degraded until one succeeds again.
fn spawn_reloader(state: AppState, every: Duration, wake: std::sync::Arc<tokio::sync::Notify>) {
    use crate::http::health::set_store_problem;
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = wake.notified() => {}
            }
            let s = state.clone();
            match tokio::task::spawn_blocking(move || s.reload_if_changed()).await {
                Ok(Ok(Some(v))) => {
                    set_store_problem("poll", None);
                    tracing::info!(data_version = v, "store changed: catalog reloaded");
                    state.prewarm_search();
                }
                Ok(Ok(None)) => set_store_problem("poll", None),
                Ok(Err(e)) => {
                    set_store_problem("poll", Some(format!("{e:#}")));
                    tracing::warn!(error = ?e, "checking the store for changes failed");
                }
                Err(e) => tracing::warn!(error = ?e, "reload task failed"),
            }
        }
    });
}

/// Keeps one `LISTEN gridmap` connection to a PostgreSQL store (outside the
/// pool) and wakes the reloader on every notice; reconnects with backoff
/// (0.5 s doubling to 30 s) while `/health` says why it is not listening.
fn spawn_listener(url: String, wake: std::sync::Arc<tokio::sync::Notify>) {
    use crate::http::health::set_store_problem;
    tokio::spawn(async move {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let waker = wake.clone();
        tokio::spawn(async move {
            while let Some(notice) = rx.recv().await {
                let notice: gridmap_data::store::postgis::ChangeNotice = notice;
                tracing::debug!(system = ?notice.system, version = notice.version, "store change notice");
                waker.notify_one();
            }
        });
        let mut backoff = Duration::from_millis(500);
        loop {
            let connected = std::sync::atomic::AtomicBool::new(false);
            let ended = gridmap_data::store::postgis::listen(&url, tx.clone(), || {
                connected.store(true, std::sync::atomic::Ordering::Relaxed);
                set_store_problem("listen", None);
                tracing::info!("listening for store changes");
                // Changes committed while no one listened: check now.
                wake.notify_one();
            })
            .await;
            let reason = match ended {
                Ok(()) => return,
                Err(e) => e.to_string(),
            };
            if connected.load(std::sync::atomic::Ordering::Relaxed) {
                backoff = Duration::from_millis(500);
            }
            tracing::warn!(error = %reason, retry_in_s = backoff.as_secs_f64(), "not listening for store changes");
            set_store_problem("listen", Some(reason));
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_secs(30));
        }
    });
}
