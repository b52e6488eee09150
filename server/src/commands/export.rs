//! `gridmap export grids|sites|workers`: the store's data as files for QGIS,
//! GDAL and spreadsheets (see `gridmap_data::export`).

use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Subcommand};
use gridmap_data::crs::Crs;
use gridmap_data::export::{
    export_grids, export_sites, export_workers, ExportFormat, FileOptions, GridExportOptions,
    SiteExportOptions, WorkerExportOptions,
};
use gridmap_data::store::{Snapshot, SnapshotParts};

use crate::cli::DbArg;

#[derive(Subcommand, Debug)]
pub enum ExportCommand {
    /// The grids of one system (one level, or all) as gpkg, shp, geojson, fgb or csv (WKT).
    Grids(ExportGridsArgs),
    /// Site registers (one kind, or all) as gpkg, shp, geojson, fgb or csv (WKT).
    Sites(ExportSitesArgs),
    /// Workers as CSV in the columns `gridmap import workers` reads.
    Workers(ExportWorkersArgs),
}

#[derive(Args, Debug)]
pub struct FileArgs {
    /// gpkg, shp, geojson, fgb or csv (default: from the --out extension).
    #[arg(long)]
    pub format: Option<String>,
    /// Output CRS: EPSG:4326 (default), EPSG:4490, EPSG:4513–4554 (CGCS2000 Gauss-Krüger),
    /// EPSG:3857; gcj02 and bd09 for csv and geojson only.
    #[arg(long)]
    pub crs: Option<String>,
    /// Text encoding of a Shapefile's .dbf, e.g. GBK for older desktop GIS (default UTF-8).
    #[arg(long)]
    pub encoding: Option<String>,
    /// The file to write (a shapefile's .shx, .dbf, .prj and .cpg go beside it).
    #[arg(long)]
    pub out: PathBuf,
}

#[derive(Args, Debug)]
pub struct ExportGridsArgs {
    /// Grid system to export (default: the only one in the store).
    #[arg(long)]
    pub system: Option<String>,
    /// Only this level.
    #[arg(long)]
    pub level: Option<String>,
    #[command(flatten)]
    pub file: FileArgs,
    #[command(flatten)]
    pub db: DbArg,
}

#[derive(Args, Debug)]
pub struct ExportSitesArgs {
    /// Only this kind (address, school, …).
    #[arg(long)]
    pub kind: Option<String>,
    #[command(flatten)]
    pub file: FileArgs,
    #[command(flatten)]
    pub db: DbArg,
}

#[derive(Args, Debug)]
pub struct ExportWorkersArgs {
    /// The system whose grid assignments are listed (default: the only one).
    #[arg(long)]
    pub system: Option<String>,
    /// Also list workers with no grid in the system.
    #[arg(long)]
    pub all: bool,
    /// The CSV file to write.
    #[arg(long)]
    pub out: PathBuf,
    #[command(flatten)]
    pub db: DbArg,
}

pub fn run(cmd: &ExportCommand) -> anyhow::Result<()> {
    let report = match cmd {
        ExportCommand::Grids(args) => {
            let file = file_options(&args.file)?;
            let snapshot = load(&args.db, SnapshotParts::GridsAndWorkers)?;
            let system = system_of(&snapshot, args.system.as_deref())?;
            let opts = GridExportOptions {
                system,
                level: args.level.clone(),
                file,
            };
            export_grids(&snapshot, &opts)?
        }
        ExportCommand::Sites(args) => {
            let file = file_options(&args.file)?;
            let snapshot = load(&args.db, SnapshotParts::All)?;
            let opts = SiteExportOptions {
                kind: args.kind.clone(),
                file,
            };
            export_sites(&snapshot, &opts)?
        }
        ExportCommand::Workers(args) => {
            if let Some(ext) = args.out.extension() {
                if !ext.eq_ignore_ascii_case("csv") {
                    anyhow::bail!("workers are exported as CSV: --out must end in .csv");
                }
            }
            let snapshot = load(&args.db, SnapshotParts::GridsAndWorkers)?;
            let system = system_of(&snapshot, args.system.as_deref())?;
            let opts = WorkerExportOptions {
                system,
                all: args.all,
                out: args.out.clone(),
            };
            export_workers(&snapshot, &opts)?
        }
    };
    println!("{report}");
    Ok(())
}

/// The options are checked before the store is opened, so a bad flag reads nothing.
fn file_options(args: &FileArgs) -> anyhow::Result<FileOptions> {
    let format = match &args.format {
        Some(f) => ExportFormat::parse(f)
            .with_context(|| format!("--format `{f}`: expected gpkg, shp, geojson, fgb or csv"))?,
        None => args
            .out
            .extension()
            .and_then(|e| ExportFormat::parse(&e.to_string_lossy()))
            .with_context(|| {
                format!(
                    "cannot tell the format from {}: give --format gpkg|shp|geojson|fgb|csv",
                    args.out.display()
                )
            })?,
    };
    let crs = match &args.crs {
        Some(c) => Crs::parse(c).context("--crs")?,
        None => Crs::Wgs84,
    };
    let encoding = match &args.encoding {
        None => None,
        Some(label) => Some(
            encoding_rs::Encoding::for_label(label.trim().as_bytes()).with_context(|| {
                format!("--encoding `{label}`: not an encoding name (e.g. GBK, UTF-8)")
            })?,
        ),
    };
    Ok(FileOptions {
        format,
        crs,
        encoding,
        out: args.out.clone(),
    })
}

fn load(db: &DbArg, parts: SnapshotParts) -> anyhow::Result<Snapshot> {
    let store = db.open_existing()?;
    store
        .snapshot(parts)
        .with_context(|| format!("reading {}", store.location()))
}

/// The system named, or the store's only one.
fn system_of(snapshot: &Snapshot, named: Option<&str>) -> anyhow::Result<String> {
    if let Some(name) = named {
        return Ok(name.to_string());
    }
    let names: Vec<&str> = snapshot
        .systems
        .iter()
        .map(|(s, _)| s.name.as_str())
        .collect();
    match names.as_slice() {
        [only] => Ok(only.to_string()),
        [] => anyhow::bail!("the store holds no grid system"),
        many => anyhow::bail!(
            "the store holds several grid systems ({}): pick one with --system",
            many.join(", ")
        ),
    }
}
