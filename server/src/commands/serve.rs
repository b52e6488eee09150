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
    spawn_reloader(
        state.clone(),
        Duration::from_secs_f64(args.reload_interval.max(0.1)),
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

/// Polls the store's data version so imports by other processes show up.
fn spawn_reloader(state: AppState, every: Duration) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        loop {
            tick.tick().await;
            let s = state.clone();
            match tokio::task::spawn_blocking(move || s.reload_if_changed()).await {
                Ok(Ok(Some(v))) => {
                    tracing::info!(data_version = v, "store changed: catalog reloaded");
                    state.prewarm_search();
                }
                Ok(Ok(None)) => {}
                Ok(Err(e)) => tracing::warn!(error = ?e, "checking the store for changes failed"),
                Err(e) => tracing::warn!(error = ?e, "reload task failed"),
            }
        }
    });
}
