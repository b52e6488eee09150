//! `gridmap serve`: the HTTP server, reloading when the store changes.

use std::time::Duration;

use anyhow::Context;
use gridmap_data::demo::DemoOptions;
use gridmap_data::store::gpkg::GpkgStore;

use crate::cli::{ServeArgs, DEFAULT_DB};
use crate::http::{app, AppState};

pub async fn run(args: ServeArgs) -> anyhow::Result<()> {
    let config = args.server_config()?;
    let path = &args.db.db;
    if !path.exists() {
        if path.as_os_str() == DEFAULT_DB {
            let absolute = std::env::current_dir()?.join(path);
            tracing::info!(path = %absolute.display(), "no store yet: creating the demo city (西湖区) there");
            let p = path.clone();
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
    let store = GpkgStore::open(path).with_context(|| format!("opening {}", path.display()))?;
    let state = tokio::task::spawn_blocking(move || AppState::with_config(Box::new(store), config))
        .await??;
    state.prewarm_tiles();
    let catalog = state.catalog();
    tracing::info!(
        path = %std::fs::canonicalize(path).unwrap_or_else(|_| path.clone()).display(),
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
    axum::serve(listener, app(state))
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
            tracing::info!("shutting down");
        })
        .await?;
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
                    tracing::info!(data_version = v, "store changed: catalog reloaded")
                }
                Ok(Ok(None)) => {}
                Ok(Err(e)) => tracing::warn!(error = ?e, "checking the store for changes failed"),
                Err(e) => tracing::warn!(error = ?e, "reload task failed"),
            }
        }
    });
}
