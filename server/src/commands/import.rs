//! `gridmap import grids|workers|sites`.

use std::fmt::Display;

use gridmap_data::import::{import_grids_with, import_workers, GridImportOptions, ReadOptions};
use gridmap_data::sites::{import_sites, SiteImportOptions};
use gridmap_data::store::GridStore;

use crate::cli::{
    parse_crs, DbArg, ImportCommand, ImportGridsArgs, ImportSitesArgs, ImportWorkersArgs,
};
use crate::progress::BarProgress;

pub fn run(cmd: &ImportCommand) -> anyhow::Result<()> {
    match cmd {
        ImportCommand::Grids(args) => grids(args),
        ImportCommand::Workers(args) => workers(args),
        ImportCommand::Sites(args) => sites(args),
    }
}

fn grids(args: &ImportGridsArgs) -> anyhow::Result<()> {
    let opts = GridImportOptions {
        system: args.system.clone(),
        levels: args.levels.clone(),
        crs: parse_crs(args.crs.as_deref())?,
        repair: args.repair,
        replace: args.replace,
        allow_shrink: args.allow_shrink,
    };
    let read = args
        .layer
        .as_deref()
        .map(ReadOptions::with_layer)
        .unwrap_or_default();
    import_into(&args.db, |store| {
        import_grids_with(store, &args.file, &read, &opts, &BarProgress::new())
    })
}

fn workers(args: &ImportWorkersArgs) -> anyhow::Result<()> {
    import_into(&args.db, |store| {
        import_workers(store, &args.file, &args.system)
    })
}

fn sites(args: &ImportSitesArgs) -> anyhow::Result<()> {
    let opts = SiteImportOptions {
        kind: args.kind.clone(),
        crs: parse_crs(args.crs.as_deref())?,
        replace: args.replace,
        system: args.system.clone(),
    };
    import_into(&args.db, |store| {
        import_sites(store, &args.file, &opts, &BarProgress::new())
    })
}

/// Opens the store (options are checked first, so a bad flag creates no
/// file), runs one import on it and prints the import's report.
fn import_into<R: Display, E>(
    db: &DbArg,
    import: impl FnOnce(&dyn GridStore) -> Result<R, E>,
) -> anyhow::Result<()>
where
    anyhow::Error: From<E>,
{
    let store = db.open()?;
    let report = import(store.as_ref())?;
    println!("{report}");
    Ok(())
}
