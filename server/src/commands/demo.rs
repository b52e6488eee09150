//! `gridmap demo`: write the demo city to a new store.

use std::path::Path;
use std::time::Instant;

use anyhow::{bail, Context};
use gridmap_data::demo::{generate, DemoOptions};

use crate::cli::DemoArgs;
use crate::progress::BarProgress;

pub fn run(args: &DemoArgs) -> anyhow::Result<()> {
    if args.out.exists() {
        if !args.force {
            bail!(
                "{} already exists; pass --force to overwrite it",
                args.out.display()
            );
        }
        remove_store(&args.out)?;
    }
    write_demo(
        &args.out,
        &DemoOptions {
            blocks: args.blocks,
            seed: args.seed,
        },
    )
}

/// Generates the demo city and writes it in one transaction.
pub fn write_demo(path: &Path, opts: &DemoOptions) -> anyhow::Result<()> {
    let started = Instant::now();
    let progress = BarProgress::new();
    let change = generate(opts, &progress).context("generating the demo city")?;
    // `--out` may be a postgres:// URL: messages show it without its password.
    let location = path.to_string_lossy();
    let shown = gridmap_data::store::StoreLocation::parse(&location).display();
    let store = gridmap_data::store::open_with(&location, &crate::cli::open_options())
        .with_context(|| format!("opening {shown}"))?;
    tracing::info!(path = %shown, "writing the demo store");
    store
        .apply(&change)
        .with_context(|| format!("writing {shown}"))?;
    let grids: usize = change.grids.iter().map(|s| s.grids.len()).sum();
    tracing::info!(
        path = %shown,
        grids,
        workers = change.workers.len(),
        sites = change.sites.len(),
        seconds = started.elapsed().as_secs_f64(),
        "demo city written"
    );
    Ok(())
}

fn remove_store(path: &Path) -> anyhow::Result<()> {
    for suffix in ["", "-wal", "-shm"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        match std::fs::remove_file(&p) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(e).with_context(|| format!("removing {}", Path::new(&p).display()))
            }
        }
    }
    Ok(())
}
