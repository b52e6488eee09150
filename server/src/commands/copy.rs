//! `gridmap copy --from LOCATION --to LOCATION`: a whole store from one
//! backend to another (GeoPackage ⇄ PostGIS, or the same kind).
//!
//! The source is read in one snapshot and written as one change set, so the
//! target gets all of it in one transaction or nothing (and its base version
//! is checked: a writer meanwhile makes the copy fail, not merge). What
//! travels: grid systems and grids with their attributes and exact
//! geometry, workers with their assignments, sites. What the store trait
//! cannot carry stays behind, and the copy says so: accounts (the trait
//! hands out no token hashes, so a copied account could never log in),
//! history (entries are written only under the version their own change
//! creates) and proposals (drafts against the source's versions).
//!
//! A target that holds data is refused unless `--replace`: then each copied
//! system replaces the target's system of that name, each copied site kind
//! the target's sites of that kind, copied workers their namesakes (and
//! their assignments in the copied systems); everything else in the target
//! stays.

use std::time::Instant;

use anyhow::{bail, Context};
use clap::Args;
use gridmap_data::model::{ChangeSet, GridWriteMode, SystemGrids};
use gridmap_data::store::{GridStore, SnapshotParts, StoreLocation};

use crate::cli::DbArg;

#[derive(Args, Debug)]
pub struct CopyArgs {
    /// The store to read: a GeoPackage file or a `postgres://` URL.
    #[arg(long)]
    pub from: String,
    /// The store to write (a GeoPackage file is created when missing).
    #[arg(long)]
    pub to: String,
    /// Write into a target that holds data already, replacing the systems,
    /// site kinds and workers the source has.
    #[arg(long)]
    pub replace: bool,
}

pub fn run(args: &CopyArgs) -> anyhow::Result<()> {
    let from = DbArg {
        db: args.from.clone(),
    };
    let to = DbArg {
        db: args.to.clone(),
    };
    if from.location() == to.location() {
        bail!("--from and --to are the same store ({})", from.location());
    }
    let started = Instant::now();
    eprintln!("copy: reading {}", from.location());
    let source = from.open_existing()?;
    let snapshot = source
        .snapshot(SnapshotParts::All)
        .with_context(|| format!("reading {}", from.location()))?;
    let grids: usize = snapshot.systems.iter().map(|(_, g)| g.len()).sum();
    eprintln!(
        "copy: read version {}: {} systems, {grids} grids, {} workers, {} sites ({:.1} s)",
        snapshot.version,
        snapshot.systems.len(),
        snapshot.workers.len(),
        snapshot.sites.len(),
        started.elapsed().as_secs_f64()
    );
    let left_behind = left_behind(&*source)?;

    if let StoreLocation::Gpkg(path) = to.location() {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            if !dir.is_dir() {
                bail!(
                    "cannot write {}: folder {} does not exist",
                    path.display(),
                    dir.display()
                );
            }
        }
    }
    let target = to.open()?;
    let base = target
        .data_version()
        .with_context(|| format!("reading {}", to.location()))?;
    let existing = target.snapshot(SnapshotParts::All)?;
    let holds_data =
        !existing.systems.is_empty() || !existing.workers.is_empty() || !existing.sites.is_empty();
    if holds_data && !args.replace {
        bail!(
            "{} already holds data ({} systems, {} workers, {} sites): copy into an empty store, or pass --replace to overwrite what the source has",
            to.location(),
            existing.systems.len(),
            existing.workers.len(),
            existing.sites.len()
        );
    }

    let mut kinds: Vec<String> = snapshot.sites.iter().map(|s| s.kind.clone()).collect();
    kinds.dedup();
    let change = ChangeSet {
        base_version: Some(base),
        worker_systems: snapshot
            .systems
            .iter()
            .map(|(s, _)| s.name.clone())
            .collect(),
        grids: snapshot
            .systems
            .into_iter()
            .map(|(system, grids)| SystemGrids {
                system,
                mode: GridWriteMode::Replace,
                grids,
                delete: Vec::new(),
            })
            .collect(),
        workers: snapshot.workers,
        sites: snapshot.sites,
        replace_site_kinds: kinds,
        ..Default::default()
    };
    eprintln!("copy: writing {} in one transaction", to.location());
    let written = Instant::now();
    let version = target
        .apply(&change)
        .with_context(|| format!("writing {}", to.location()))?;
    eprintln!(
        "copy: {} is at version {version} ({:.1} s writing, {:.1} s in all)",
        to.location(),
        written.elapsed().as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
    if !left_behind.is_empty() {
        eprintln!("copy: not copied (the store interface cannot carry them): {left_behind}");
    }
    Ok(())
}

/// What the source holds that a copy cannot carry, as one phrase.
fn left_behind(source: &dyn GridStore) -> anyhow::Result<String> {
    let accounts = source.accounts()?.len();
    let history = source.history(None, usize::MAX, 0)?.len();
    let proposals = source.proposals(None, None)?.len();
    let parts: Vec<String> = [
        (
            accounts,
            "accounts (add them again with `gridmap user add`)",
        ),
        (history, "history entries"),
        (proposals, "proposals"),
    ]
    .into_iter()
    .filter(|(n, _)| *n > 0)
    .map(|(n, what)| format!("{n} {what}"))
    .collect();
    Ok(parts.join(", "))
}
