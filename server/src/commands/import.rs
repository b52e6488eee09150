//! `gridmap import grids|workers|sites`.

use anyhow::Context;
use gridmap_data::crs::Crs;
use gridmap_data::import::{import_grids, import_workers, GridImportOptions};
use gridmap_data::sites::{import_sites, SiteImportOptions};

use crate::cli::{ImportCommand, ImportGridsArgs, ImportSitesArgs, ImportWorkersArgs};
use crate::progress::BarProgress;

pub fn run(cmd: &ImportCommand) -> anyhow::Result<()> {
    match cmd {
        ImportCommand::Grids(args) => grids(args),
        ImportCommand::Workers(args) => workers(args),
        ImportCommand::Sites(args) => sites(args),
    }
}

fn grids(args: &ImportGridsArgs) -> anyhow::Result<()> {
    let crs = args
        .crs
        .as_deref()
        .map(Crs::parse)
        .transpose()
        .context("--crs")?;
    let opts = GridImportOptions {
        system: args.system.clone(),
        levels: args.levels.clone(),
        crs,
        repair: args.repair,
        replace: args.replace,
    };
    let store = args.db.open()?;
    let report = import_grids(store.as_ref(), &args.file, &opts, &BarProgress::new())?;
    println!("{report}");
    Ok(())
}

fn workers(args: &ImportWorkersArgs) -> anyhow::Result<()> {
    let store = args.db.open()?;
    let report = import_workers(store.as_ref(), &args.file, &args.system)?;
    println!("{report}");
    Ok(())
}

fn sites(args: &ImportSitesArgs) -> anyhow::Result<()> {
    let crs = args
        .crs
        .as_deref()
        .map(Crs::parse)
        .transpose()
        .context("--crs")?;
    let opts = SiteImportOptions {
        kind: args.kind.clone(),
        crs,
        replace: args.replace,
        system: args.system.clone(),
    };
    let store = args.db.open()?;
    let report = import_sites(store.as_ref(), &args.file, &opts, &BarProgress::new())?;
    println!("{report}");
    Ok(())
}
