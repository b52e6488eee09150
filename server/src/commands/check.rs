//! `gridmap check`: the coverage report of one grid system (gaps, overlaps,
//! overhangs, invalid shapes, staffing, orphan sites, workload, proximity).
//!
//! The report is the output: the command exits 0 whatever it found, unless
//! `--fail-on-problems` is given, when it exits 2 if the report lists any
//! problem (for scripts). Errors (no store, unknown system) exit 1.

use std::io::Write;

use anyhow::Context;
use clap::{Args, ValueEnum};
use gridmap_data::analysis::{check, CheckOptions, CoverageReport, HouseholdRange};
use gridmap_data::change::load_checked;

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
    db: &DbArg,
    system: Option<&str>,
    opts: &CheckOptions,
) -> anyhow::Result<CoverageReport> {
    let store = db.open_existing()?;
    // Edits made by another program are judged first; refused ones are the finding.
    let catalog =
        load_checked(store.as_ref()).with_context(|| format!("loading {}", db.location()))?;
    let system = catalog.pick_system(system).context("--system")?;
    Ok(check(
        &catalog,
        &system.system().name,
        opts,
        &BarProgress::new(),
    )?)
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
    let report = report(&args.db, args.system.as_deref(), &opts)?;
    let mut out = std::io::stdout().lock();
    out.write_all(render(&report, args.format).as_bytes())?;
    out.flush()?;
    tracing::info!(system = %report.system, problems = report.summary.total, "coverage check done");
    if args.fail_on_problems && report.summary.total > 0 {
        std::process::exit(2);
    }
    Ok(())
}
