//! Workers as CSV in the columns `gridmap import workers` reads:
//! `id,name,phone,role,photo,duties,grids`, `grids` being
//! `code[:share];…` in one grid system (UTF-8 with a byte-order mark, as
//! Excel wants it).

use std::path::{Path, PathBuf};

use super::output::Output;
use super::{format_error, ExportError, ExportFormat, ExportReport};
use crate::crs::Crs;
use crate::store::Snapshot;

/// `gridmap export workers`.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkerExportOptions {
    /// The system whose grid assignments the `grids` column lists.
    pub system: String,
    /// Also workers with no grid in the system (default: only those with one).
    pub all: bool,
    pub out: PathBuf,
}

/// `code[:share];…` of one worker's grids in `system`; a share of 1 is implied.
fn grids_cell(worker: &crate::model::Worker, system: &str) -> String {
    worker
        .grids
        .iter()
        .filter(|g| g.system == system)
        .map(|g| {
            if g.share == 1.0 {
                g.code.clone()
            } else {
                format!("{}:{}", g.code, g.share)
            }
        })
        .collect::<Vec<_>>()
        .join(";")
}

/// Writes the workers assigned in `opts.system` (all workers with `opts.all`).
pub fn export_workers(
    snapshot: &Snapshot,
    opts: &WorkerExportOptions,
) -> Result<ExportReport, ExportError> {
    if !snapshot.systems.iter().any(|(s, _)| s.name == opts.system) {
        return Err(ExportError::Options(format!(
            "no grid system `{}` in the store",
            opts.system
        )));
    }
    let out: &Path = &opts.out;
    let output = Output::new(out, &[])?;
    let mut w = super::csv::create(&output, out)?;
    let err = |e: csv::Error| format_error(out, e);
    w.write_record(["id", "name", "phone", "role", "photo", "duties", "grids"])
        .map_err(err)?;
    let mut count = 0;
    for worker in &snapshot.workers {
        let grids = grids_cell(worker, &opts.system);
        if grids.is_empty() && !opts.all {
            continue;
        }
        w.write_record([
            &worker.id,
            &worker.name,
            &worker.phone,
            &worker.role,
            &worker.photo,
            &worker.duties,
            &grids,
        ])
        .map_err(err)?;
        count += 1;
    }
    super::csv::finish(w, output, out)?;
    Ok(ExportReport {
        path: opts.out.clone(),
        format: ExportFormat::Csv,
        crs: Crs::Wgs84,
        what: "workers",
        features: count,
        renamed: Vec::new(),
    })
}
