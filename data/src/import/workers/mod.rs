//! Worker import from CSV: `id,name,phone,role,photo,duties,grids`, where
//! `grids` is `code[:share];code[:share]…` (share defaults to 1, 0 < share ≤ 1).

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};

use super::{csv_reader, parse_error, read_text, ImportCounts, ImportError, RowProblem};
use crate::catalog::Catalog;
use crate::change::{self, ValidateOptions};
use crate::index::SystemIndex;
use crate::model::{ChangeSet, Worker, WorkerGrid};
use crate::store::GridStore;

/// What a worker import did (or would do).
#[derive(Debug, Clone, PartialEq)]
pub struct WorkerImportReport {
    pub path: PathBuf,
    pub system: String,
    /// Workers by id: in the file, new, updated, in the store afterwards.
    pub counts: ImportCounts,
    /// Grid assignments written.
    pub assignments: usize,
}

impl fmt::Display for WorkerImportReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} workers ({} new, {} updated) with {} grid assignments in system `{}`",
            self.path.display(),
            self.counts.imported,
            self.counts.inserted,
            self.counts.updated,
            self.assignments,
            self.system
        )
    }
}

const REQUIRED: [&str; 2] = ["id", "name"];
const COLUMNS: [&str; 7] = ["id", "name", "phone", "role", "photo", "duties", "grids"];

/// Parses `code[:share];…` into assignments, or says what is wrong.
fn parse_grids(
    system: &str,
    cell: &str,
    known: &HashSet<String>,
) -> Result<Vec<WorkerGrid>, Vec<String>> {
    let mut out: Vec<WorkerGrid> = Vec::new();
    let mut reasons = Vec::new();
    for item in cell.split(';').map(str::trim).filter(|s| !s.is_empty()) {
        let (code, share) = match item.split_once(':') {
            Some((c, s)) => (c.trim(), Some(s.trim())),
            None => (item, None),
        };
        let share = match share {
            None => 1.0,
            Some(s) => match s.parse::<f64>() {
                Ok(v) if v > 0.0 && v <= 1.0 => v,
                _ => {
                    reasons.push(format!(
                        "bad share `{s}` for grid {code} (must be a number > 0 and ≤ 1)"
                    ));
                    continue;
                }
            },
        };
        if !known.contains(code) {
            reasons.push(format!("unknown grid code {code} in system `{system}`"));
            continue;
        }
        if out.iter().any(|g| g.code == code) {
            reasons.push(format!("grid {code} is listed twice"));
            continue;
        }
        out.push(WorkerGrid {
            system: system.to_string(),
            code: code.to_string(),
            share,
        });
    }
    if reasons.is_empty() {
        Ok(out)
    } else {
        Err(reasons)
    }
}

/// Reads and checks a worker CSV; returns the change set that would import it.
pub fn prepare_worker_import(
    store: &dyn GridStore,
    path: &Path,
    system: &str,
) -> Result<(ChangeSet, WorkerImportReport), ImportError> {
    if !store.systems()?.iter().any(|s| s.name == system) {
        return Err(ImportError::UnknownSystem {
            path: path.to_path_buf(),
            system: system.to_string(),
        });
    }
    let known: HashSet<String> = store.grids(system)?.into_iter().map(|g| g.code).collect();
    let stored_ids: HashSet<String> = store.workers()?.into_iter().map(|w| w.id).collect();
    let text = read_text(path)?;
    let (mut reader, headers) = csv_reader(path, &text)?;
    let headers: Vec<String> = headers.iter().map(crate::points::normalise).collect();
    let column: HashMap<&str, usize> = COLUMNS
        .iter()
        .filter_map(|c| headers.iter().position(|h| h == c).map(|i| (*c, i)))
        .collect();
    if let Some(missing) = REQUIRED
        .iter()
        .chain(["grids"].iter())
        .find(|c| !column.contains_key(*c))
    {
        return Err(parse_error(
            path,
            format!(
                "missing column `{missing}`; expected columns {}",
                COLUMNS.join(",")
            ),
        ));
    }
    let mut problems = Vec::new();
    let mut workers = Vec::new();
    let mut first_line: HashMap<String, u64> = HashMap::new();
    for record in reader.records() {
        let record = record.map_err(|e| parse_error(path, format!("invalid CSV: {e}")))?;
        let line = record.position().map_or(0, csv::Position::line);
        let cell = |name: &str| {
            column
                .get(name)
                .and_then(|&i| record.get(i))
                .unwrap_or("")
                .trim()
                .to_string()
        };
        let id = cell("id");
        let name = cell("name");
        let id_opt = Some(id.clone()).filter(|s| !s.is_empty());
        let mut problem = |reason: String| {
            problems.push(RowProblem {
                line,
                id: id_opt.clone(),
                reason,
            });
        };
        if id.is_empty() {
            problem("missing id".into());
        }
        if name.is_empty() {
            problem("missing name".into());
        }
        if !id.is_empty() {
            if let Some(first) = first_line.get(&id) {
                problem(format!("duplicate id {id} (also line {first})"));
            } else {
                first_line.insert(id.clone(), line);
            }
        }
        let grids = match parse_grids(system, &cell("grids"), &known) {
            Ok(g) => g,
            Err(reasons) => {
                reasons.into_iter().for_each(&mut problem);
                continue;
            }
        };
        workers.push(Worker {
            id,
            name,
            phone: cell("phone"),
            role: cell("role"),
            photo: cell("photo"),
            duties: cell("duties"),
            grids,
        });
    }
    if !problems.is_empty() {
        return Err(ImportError::RejectedRows {
            path: path.to_path_buf(),
            problems,
        });
    }
    let report = WorkerImportReport {
        path: path.to_path_buf(),
        system: system.to_string(),
        counts: ImportCounts::of(&stored_ids, workers.iter().map(|w| w.id.as_str()), false),
        assignments: workers.iter().map(|w| w.grids.len()).sum(),
    };
    let change = ChangeSet {
        workers,
        worker_systems: vec![system.to_string()],
        ..ChangeSet::default()
    };
    Ok((change, report))
}

/// Checks a worker CSV against the grids of `system` and writes it in one transaction.
///
/// Workers are matched by id; their assignments in `system` are replaced by the
/// file's, assignments in other systems stay. Fails without writing when the
/// system does not exist or any row is bad (duplicate or missing id, missing
/// name, unknown grid code, bad share), listing the rows by line number.
pub fn import_workers(
    store: &dyn GridStore,
    path: &Path,
    system: &str,
) -> Result<WorkerImportReport, ImportError> {
    // The version first: the change is made against it (see `change`).
    let version = store.data_version()?;
    let (mut change, report) = prepare_worker_import(store, path, system)?;
    change.base_version = Some(version);
    let stored = store.systems()?.into_iter().find(|s| s.name == system);
    let catalog = match stored {
        Some(s) => {
            let grids = store.grids(system)?;
            Catalog::from_parts(
                version,
                [(s.name.clone(), SystemIndex::build(s, grids))].into(),
                vec![],
            )
        }
        None => Catalog::from_parts(version, Default::default(), vec![]),
    };
    let valid =
        change::validate(&change, &catalog, &ValidateOptions::default()).map_err(|problems| {
            ImportError::Change {
                path: path.to_path_buf(),
                problems,
            }
        })?;
    change::apply(store, &valid)?;
    Ok(report)
}

#[cfg(test)]
mod tests;
