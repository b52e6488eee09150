//! `gridmap assign`: bulk point-to-grid assignment of a CSV or GeoJSON file.
//!
//! The output is written to a hidden temporary file beside `--out` and renamed
//! into place only when the run succeeds, so a failed or `--strict`-stopped run
//! leaves no partial output behind.

use std::fs::File;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use clap::Args;
use gridmap_data::assign::{
    assign_stream, AssignOptions, AssignSummary, InputFormat, OutputFormat,
};
use gridmap_data::catalog::Catalog;
use gridmap_data::crs::Crs;

use crate::cli::{parse_crs, DbArg, CRS_HELP};
use crate::progress::BarProgress;

/// Bad rows listed on stderr; the rest are only counted.
const LISTED_ROW_ERRORS: usize = 1000;

#[derive(Args, Debug)]
pub struct AssignArgs {
    /// Points: .csv with columns id,lon,lat,… (or x,y / lng,lat), or .geojson/.json
    /// (a FeatureCollection of Points, or {"points":[{"id","lon","lat"},…]}).
    pub file: PathBuf,
    #[arg(long, help = CRS_HELP)]
    pub crs: Option<String>,
    /// Grid system to assign to (default: the only one in the store).
    #[arg(long)]
    pub system: Option<String>,
    #[command(flatten)]
    pub db: DbArg,
    /// Output file: .csv, .geojson, or .json (results document); the format follows the extension.
    #[arg(long)]
    pub out: PathBuf,
    /// Stop at the first bad row (exit non-zero, no output file) instead of writing it with status `error`.
    #[arg(long)]
    pub strict: bool,
    /// Lookup threads (default: the number of CPUs).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Rows per batch handed to a lookup thread.
    #[arg(long, default_value_t = 8192)]
    pub batch_size: usize,
}

pub fn run(args: &AssignArgs) -> anyhow::Result<()> {
    let input = InputFormat::from_path(&args.file).with_context(|| {
        format!(
            "{}: unknown input format; use a .csv, .geojson or .json file",
            args.file.display()
        )
    })?;
    let output = OutputFormat::from_path(&args.out).with_context(|| {
        format!(
            "--out {}: unknown output format; use .csv, .geojson or .json",
            args.out.display()
        )
    })?;
    let crs = parse_crs(args.crs.as_deref())?.unwrap_or(Crs::Wgs84);
    let store = args.db.open_existing()?;
    if same_file(&args.file, &args.out) {
        bail!("--out {} is the input file", args.out.display());
    }
    let reader =
        File::open(&args.file).with_context(|| format!("opening {}", args.file.display()))?;
    let catalog = Catalog::load_grids(store.as_ref())
        .with_context(|| format!("loading {}", args.db.location()))?;
    let index = catalog.pick_system(args.system.as_deref())?;

    let opts = AssignOptions {
        crs,
        threads: args.threads.unwrap_or(AssignOptions::default().threads),
        strict: args.strict,
        batch_size: args.batch_size,
        max_row_errors: LISTED_ROW_ERRORS,
    };
    let partial = partial_path(&args.out);
    let writer =
        File::create(&partial).with_context(|| format!("creating {}", partial.display()))?;
    let result = assign_stream(
        index,
        input,
        reader,
        output,
        writer,
        &opts,
        &BarProgress::new(),
    );
    let summary = match result {
        Ok(summary) => summary,
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            return Err(e)
                .with_context(|| format!("assigning {} (no output written)", args.file.display()));
        }
    };
    std::fs::rename(&partial, &args.out)
        .with_context(|| format!("renaming {} to {}", partial.display(), args.out.display()))?;
    report(&args.file, &summary);
    println!(
        "{}: {summary} (system {}) -> {}",
        args.file.display(),
        index.system().name,
        args.out.display()
    );
    Ok(())
}

/// Lists the bad rows on stderr, each with its line number or feature index.
fn report(file: &Path, summary: &AssignSummary) {
    for e in &summary.row_errors {
        eprintln!("{}: {e}", file.display());
    }
    let unlisted = summary
        .errors
        .saturating_sub(summary.row_errors.len() as u64);
    if unlisted > 0 {
        eprintln!(
            "{}: … and {unlisted} more bad rows (written with status `error`)",
            file.display()
        );
    }
}

/// `dir/.name.partial` beside the output, so the final rename stays on one file system.
fn partial_path(out: &Path) -> PathBuf {
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    out.with_file_name(format!(".{name}.partial"))
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_file_sits_beside_the_output() {
        assert_eq!(
            partial_path(Path::new("out/x.csv")),
            PathBuf::from("out/.x.csv.partial")
        );
        assert_eq!(
            partial_path(Path::new("x.geojson")),
            PathBuf::from(".x.geojson.partial")
        );
    }

    #[test]
    fn same_file_sees_through_relative_paths() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("a.csv");
        std::fs::write(&f, "lon,lat\n").unwrap();
        assert!(same_file(&f, &dir.path().join(".").join("a.csv")));
        assert!(!same_file(&f, &dir.path().join("b.csv")));
    }
}
