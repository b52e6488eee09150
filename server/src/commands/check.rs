//! `gridmap check`: the coverage report of one grid system (gaps, overlaps,
//! overhangs, invalid shapes, staffing, orphan sites, workload, proximity).
//!
//! The report is the output: the command exits 0 whatever it found, unless
//! `--fail-on-problems` is given, when it exits 2 if the report lists any
//! problem (for scripts). Errors (no store, unknown system) exit 1.

use std::io::Write;
use std::path::Path;

use anyhow::{bail, Context};
use clap::{Args, ValueEnum};
use gridmap_data::analysis::{check, pick_system, CheckOptions, CoverageReport, HouseholdRange};
use gridmap_data::index::Catalog;
use gridmap_data::store::gpkg::GpkgStore;
use gridmap_data::store::GridStore;

use crate::cli::DbArg;
use crate::progress::BarProgress;

/// Output format of `gridmap check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A summary and one line per problem with a representative point.
    Text,
    /// The structured report with its summary.
    Json,
    /// A FeatureCollection, one Feature per problem.
    Geojson,
}

#[derive(Args, Debug)]
pub struct CheckArgs {
    #[command(flatten)]
    pub db: DbArg,
    /// Grid system to check (default: the only one in the store).
    #[arg(long)]
    pub system: Option<String>,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Polygon problems smaller than this many m² are numeric noise and not listed.
    #[arg(long, default_value_t = 1.0)]
    pub sliver_m2: f64,
    /// Target households per finest-level grid, MIN-MAX.
    #[arg(long, default_value = "300-500")]
    pub households: HouseholdRange,
    /// List internet cafes closer than this many metres to a school.
    #[arg(long, default_value_t = 200.0)]
    pub proximity_m: f64,
    /// Workers whose grid shares sum to more than this are overloaded.
    #[arg(long, default_value_t = 1.5)]
    pub max_shares: f64,
    /// Exit with status 2 when the report lists any problem.
    #[arg(long)]
    pub fail_on_problems: bool,
}

/// Loads the store, runs the check and renders the report in `format`.
pub fn report(
    db: &Path,
    system: Option<&str>,
    opts: &CheckOptions,
) -> anyhow::Result<CoverageReport> {
    if !db.exists() {
        bail!(
            "no store at {}; create one with `gridmap demo` or `gridmap import grids`",
            db.display()
        );
    }
    let store = GpkgStore::open(db).with_context(|| format!("opening {}", db.display()))?;
    let catalog = Catalog::load(&store).with_context(|| format!("loading {}", db.display()))?;
    let sites = store
        .sites(None)
        .with_context(|| format!("reading sites from {}", db.display()))?;
    let system = pick_system(&catalog, system).context("--system")?;
    Ok(check(&catalog, &system, &sites, opts, &BarProgress::new())?)
}

/// The report rendered as text, pretty JSON or compact GeoJSON.
pub fn render(report: &CoverageReport, format: Format) -> String {
    match format {
        Format::Text => report.to_text(),
        Format::Json => format!("{:#}\n", report.to_json()),
        Format::Geojson => format!("{}\n", report.to_geojson()),
    }
}

pub fn run(args: &CheckArgs) -> anyhow::Result<()> {
    let opts = CheckOptions {
        sliver_m2: args.sliver_m2,
        households: args.households,
        proximity_m: args.proximity_m,
        max_shares: args.max_shares,
    };
    opts.validate()?;
    let report = report(&args.db.db, args.system.as_deref(), &opts)?;
    let mut out = std::io::stdout().lock();
    out.write_all(render(&report, args.format).as_bytes())?;
    out.flush()?;
    tracing::info!(system = %report.system, problems = report.summary.total, "coverage check done");
    if args.fail_on_problems && report.summary.total > 0 {
        std::process::exit(2);
    }
    Ok(())
}
