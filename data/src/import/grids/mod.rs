//! Grid import: properties, CRS, geometry checks and repair, tree checks,
//! merge or replace — all decided before anything is written.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use geo::orient::{Direction, Orient};
use geo_types::{Geometry, MultiPolygon};
use serde_json::{Map, Value};

use super::properties::text_of;
use super::raw::RawProblem;
use super::{
    read_features_with, FeatureProblem, ImportCounts, ImportError, RawFeature, ReadOptions,
};
use crate::catalog::Catalog;
use crate::change::{self, ValidChange, ValidateOptions};
use crate::crs::{self, Crs, CrsError};
use crate::geometry::{area_m2, make_valid, validate_polygonal, GeometryProblem};
use crate::index::SystemIndex;
use crate::model::{ChangeSet, Grid, GridSystem, GridWriteMode, SystemGrids};
use crate::progress::Progress;
use crate::store::GridStore;

/// How to import a grid file.
#[derive(Debug, Clone, PartialEq)]
pub struct GridImportOptions {
    /// The grid system to import into (created if missing).
    pub system: String,
    /// Level names top down; default: the stored system's, else `street,community,block`.
    pub levels: Option<Vec<String>>,
    /// Source CRS; wins over a `.prj` (default: the file's declaration, else EPSG:4326).
    pub crs: Option<Crs>,
    /// Repair invalid polygons instead of rejecting them.
    pub repair: bool,
    /// Replace the whole system with the file (default: merge by code).
    pub replace: bool,
    /// Let a replace remove more grids than it keeps (or all of them).
    pub allow_shrink: bool,
}

impl GridImportOptions {
    /// Merge into `system` with its levels, EPSG:4326 unless the file says otherwise, no repair.
    pub fn new(system: impl Into<String>) -> Self {
        Self {
            system: system.into(),
            levels: None,
            crs: None,
            repair: false,
            replace: false,
            allow_shrink: false,
        }
    }
}

/// A feature whose geometry was repaired.
#[derive(Debug, Clone, PartialEq)]
pub struct RepairedFeature {
    pub index: usize,
    pub code: String,
    /// What was wrong before the repair.
    pub problem: String,
    /// Geodesic area of the rings as given (lobes of opposite winding cancel).
    pub area_before_m2: f64,
    pub area_after_m2: f64,
}

impl RepairedFeature {
    /// Change of area in percent of the area before; `None` when that was 0.
    pub fn change_percent(&self) -> Option<f64> {
        (self.area_before_m2 != 0.0)
            .then(|| (self.area_after_m2 - self.area_before_m2) / self.area_before_m2 * 100.0)
    }
}

impl fmt::Display for RepairedFeature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "feature #{} (code {}): {}; area {:.1} m² -> {:.1} m²",
            self.index, self.code, self.problem, self.area_before_m2, self.area_after_m2
        )?;
        match self.change_percent() {
            Some(p) => write!(f, " ({p:+.2}%)"),
            None => Ok(()),
        }
    }
}

/// What a grid import did (or, from [`prepare_grid_import`], would do).
#[derive(Debug, Clone, PartialEq)]
pub struct GridImportReport {
    pub path: PathBuf,
    pub system: String,
    pub levels: Vec<String>,
    /// The CRS the file was read in.
    pub crs: Crs,
    pub mode: GridWriteMode,
    /// Grids by code: in the file, new, updated, dropped by a replace, in the system afterwards.
    pub counts: ImportCounts,
    pub repaired: Vec<RepairedFeature>,
    /// Every grid of the file is stored exactly so already: nothing is (or
    /// was) written.
    pub unchanged: bool,
    /// Worker assignments to grids this import removes.
    pub orphaned: Vec<OrphanedAssignment>,
}

/// A worker assigned to a grid that an import removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrphanedAssignment {
    pub worker: String,
    pub name: String,
    pub grid: String,
}

impl fmt::Display for GridImportReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} grids into system `{}` (levels {}; source CRS {}; {}): {}; the system holds {} grids",
            self.path.display(),
            self.counts.imported,
            self.system,
            self.levels.join(","),
            self.crs.code(),
            if self.mode == GridWriteMode::Replace { "replace" } else { "merge" },
            self.counts,
            self.counts.total
        )?;
        if self.unchanged {
            write!(f, "\nevery grid is stored exactly so already: nothing written, the data version stays")?;
        }
        if !self.orphaned.is_empty() {
            write!(
                f,
                "\nwarning: {} worker assignments point at grids this import removed (reassign them with `gridmap import workers`; `gridmap check` lists them until then):",
                self.orphaned.len()
            )?;
            for o in &self.orphaned {
                write!(f, "\n  worker {} ({}) → grid {}", o.worker, o.name, o.grid)?;
            }
        }
        if !self.repaired.is_empty() {
            write!(f, "\nrepaired {} geometries:", self.repaired.len())?;
            for r in &self.repaired {
                write!(f, "\n  {r}")?;
            }
        }
        Ok(())
    }
}

/// Reads, checks and converts a grid file into the validated change that would import it.
///
/// Nothing is written. Fails with [`ImportError::Rejected`] listing every bad
/// feature (duplicate codes, missing or bad properties, missing/non-polygonal/
/// invalid geometry, missing parents, cycles, wrong levels).
pub fn prepare_grid_import(
    path: &Path,
    opts: &GridImportOptions,
    store: &dyn GridStore,
    progress: &dyn Progress,
) -> Result<(ValidChange, GridImportReport), ImportError> {
    prepare_grid_import_with(path, &ReadOptions::default(), opts, store, progress)
}

/// [`prepare_grid_import`] reading the file with `read` (the layer of a GeoPackage).
pub fn prepare_grid_import_with(
    path: &Path,
    read: &ReadOptions,
    opts: &GridImportOptions,
    store: &dyn GridStore,
    progress: &dyn Progress,
) -> Result<(ValidChange, GridImportReport), ImportError> {
    progress.start("reading", 0);
    let data = read_features_with(path, read);
    progress.finish();
    let data = data?;
    let crs = opts.crs.or(data.crs).unwrap_or(Crs::Wgs84);
    // The version first: the change is made against it, so a write landing
    // while we check makes the store refuse this change instead of mixing.
    let base_version = store.data_version()?;
    let stored = store.systems()?.into_iter().find(|s| s.name == opts.system);
    let system = GridSystem::new(
        opts.system.clone(),
        resolve_levels(path, opts, stored.as_ref())?,
    );
    let existing = match &stored {
        Some(_) => store.grids(&opts.system)?,
        None => vec![],
    };

    let total_features = data.features.len();
    progress.start("checking features", total_features as u64);
    let mut problems = Vec::new();
    let mut crs_errors: Vec<CrsError> = Vec::new();
    let mut grids: Vec<(usize, Grid)> = Vec::new();
    let mut repaired = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for feature in data.features {
        progress.advance(1);
        let index = feature.index;
        let fields = match fields(&feature) {
            Ok(f) => Some(f),
            Err(reasons) => {
                let code = code_of(&feature.properties).ok().flatten();
                problems.extend(reasons.into_iter().map(|reason| FeatureProblem {
                    index,
                    code: code.clone(),
                    reason,
                }));
                None
            }
        };
        let code = fields.as_ref().map(|f| f.code.clone());
        let geometry = match geometry(feature.geometry, feature.raw_problem, crs, opts.repair) {
            Ok((g, repair)) => {
                if let (Some((problem, before, after)), Some(code)) = (repair, &code) {
                    repaired.push(RepairedFeature {
                        index,
                        code: code.clone(),
                        problem,
                        area_before_m2: before,
                        area_after_m2: after,
                    });
                }
                Some(g)
            }
            Err(GeometryError::Crs(e)) => {
                problems.push(FeatureProblem {
                    index,
                    code: code.clone(),
                    reason: e.to_string(),
                });
                crs_errors.push(e);
                None
            }
            Err(GeometryError::Other(reason)) => {
                problems.push(FeatureProblem {
                    index,
                    code: code.clone(),
                    reason,
                });
                None
            }
        };
        let Some(f) = fields else { continue };
        if let Some(first) = seen.get(&f.code) {
            problems.push(FeatureProblem {
                index,
                code: Some(f.code.clone()),
                reason: format!("duplicate code {} (also feature #{first})", f.code),
            });
            continue;
        }
        seen.insert(f.code.clone(), index);
        grids.push((
            index,
            Grid {
                code: f.code,
                name: f.name,
                level: f.level,
                parent: f.parent,
                geometry: geometry.unwrap_or_else(|| MultiPolygon::new(vec![])),
                attributes: f.attributes,
            },
        ));
    }
    progress.finish();
    // Every feature failing the CRS transform means the CRS is wrong, not the features.
    if total_features > 0 && crs_errors.len() == total_features {
        return Err(ImportError::Crs {
            path: path.to_path_buf(),
            source: crs_errors.remove(0),
        });
    }

    let mode = if opts.replace {
        GridWriteMode::Replace
    } else {
        GridWriteMode::Merge
    };
    let positions: Vec<usize> = grids.iter().map(|(index, _)| *index).collect();
    let change = ChangeSet {
        base_version: Some(base_version),
        grids: vec![SystemGrids {
            system: system.clone(),
            mode,
            grids: grids.into_iter().map(|(_, g)| g).collect(),
            delete: Vec::new(),
        }],
        ..ChangeSet::default()
    };
    // The catalog the change is judged against: this system as stored.
    let catalog = match stored {
        Some(s) => Catalog::from_parts(
            base_version,
            [(s.name.clone(), SystemIndex::build(s, existing))].into(),
            vec![],
        ),
        None => Catalog::from_parts(base_version, Default::default(), vec![]),
    };
    let validate_opts = ValidateOptions {
        // Geometry was checked (and repaired) above, with the file's CRS.
        check_geometry: false,
        source: "file",
        ..ValidateOptions::default()
    };
    let valid = match change::validate(&change, &catalog, &validate_opts) {
        Ok(valid) => Some(valid),
        // A problem of the system as a whole names no feature: say so as it is
        // rather than pin it on one.
        Err(found) if found.0.iter().any(|p| p.grid.is_none()) => {
            return Err(ImportError::Change {
                path: path.to_path_buf(),
                problems: found,
            })
        }
        Err(found) => {
            problems.extend(found.0.into_iter().filter_map(|p| {
                Some(FeatureProblem {
                    index: positions[p.grid?],
                    code: p.key,
                    reason: p.reason,
                })
            }));
            None
        }
    };
    let valid = match valid {
        Some(v) if problems.is_empty() => v,
        _ => {
            problems.sort_by_key(|p| p.index);
            return Err(ImportError::Rejected {
                path: path.to_path_buf(),
                problems,
            });
        }
    };
    let summary = &valid.summaries()[0];
    // A short or empty file given to --replace must not wipe a system unasked.
    if mode == GridWriteMode::Replace && summary.removed > summary.updated && !opts.allow_shrink {
        return Err(ImportError::Shrink {
            path: path.to_path_buf(),
            system: system.name.clone(),
            removed: summary.removed,
            kept: summary.updated,
        });
    }
    // Workers keep their assignments across a grid import: name those a
    // replace leaves pointing at a grid it removes (`gridmap check` reports
    // them as dangling until they are reassigned).
    let removed_codes: Vec<&str> = match (mode, catalog.system(&system.name)) {
        (GridWriteMode::Replace, Some(stored)) => stored
            .grids()
            .iter()
            .map(|g| g.code.as_str())
            .filter(|code| !seen.contains_key(*code))
            .collect(),
        _ => Vec::new(),
    };
    let mut orphaned = Vec::new();
    if !removed_codes.is_empty() {
        for worker in store.workers()? {
            for assigned in &worker.grids {
                if assigned.system == system.name && removed_codes.contains(&assigned.code.as_str())
                {
                    orphaned.push(OrphanedAssignment {
                        worker: worker.id.clone(),
                        name: worker.name.clone(),
                        grid: assigned.code.clone(),
                    });
                }
            }
        }
    }
    let report = GridImportReport {
        orphaned,
        path: path.to_path_buf(),
        system: system.name.clone(),
        levels: system.levels.clone(),
        crs,
        mode,
        counts: ImportCounts {
            imported: summary.inserted + summary.updated,
            inserted: summary.inserted,
            updated: summary.updated,
            removed: summary.removed,
            total: summary.total,
        },
        repaired,
        unchanged: unchanged(&catalog, &valid),
    };
    Ok((valid, report))
}

/// Checks a grid file and, if everything is right, writes it in one transaction.
///
/// ```
/// # use gridmap_data::import::{import_grids, GridImportOptions};
/// # fn demo(store: &mut dyn gridmap_data::store::GridStore) -> Result<(), gridmap_data::import::ImportError> {
/// let mut opts = GridImportOptions::new("综治");
/// opts.repair = true;
/// let report = import_grids(store, "grids.shp".as_ref(), &opts, &gridmap_data::progress::NoProgress)?;
/// println!("{report}");
/// # Ok(()) }
/// ```
pub fn import_grids(
    store: &dyn GridStore,
    path: &Path,
    opts: &GridImportOptions,
    progress: &dyn Progress,
) -> Result<GridImportReport, ImportError> {
    import_grids_with(store, path, &ReadOptions::default(), opts, progress)
}

/// [`import_grids`] reading the file with `read`: one layer of a GeoPackage
/// (`ReadOptions::with_layer("districts")`).
pub fn import_grids_with(
    store: &dyn GridStore,
    path: &Path,
    read: &ReadOptions,
    opts: &GridImportOptions,
    progress: &dyn Progress,
) -> Result<GridImportReport, ImportError> {
    let (change, report) = prepare_grid_import_with(path, read, opts, store, progress)?;
    if report.unchanged {
        // Nothing to write: the data version stays, and with it every cache.
        return Ok(report);
    }
    progress.start("writing", 0);
    let written = change::apply(store, &change);
    progress.finish();
    written?;
    Ok(report)
}

/// Whether writing `change` (one system's grids, judged against `catalog`,
/// the system as stored) would leave the store as it is.
fn unchanged(catalog: &Catalog, change: &ValidChange) -> bool {
    let cs = change.change_set();
    let [sg] = cs.grids.as_slice() else {
        return false;
    };
    if !sg.delete.is_empty() || !cs.workers.is_empty() || !cs.sites.is_empty() {
        return false;
    }
    let Some(stored) = catalog.system(&sg.system.name) else {
        return false;
    };
    if stored.system() != &sg.system
        || (sg.mode == GridWriteMode::Replace && stored.grids().len() != sg.grids.len())
    {
        return false;
    }
    sg.grids.iter().all(|g| stored.grid(&g.code) == Some(g))
}

fn resolve_levels(
    path: &Path,
    opts: &GridImportOptions,
    stored: Option<&GridSystem>,
) -> Result<Vec<String>, ImportError> {
    let err = |reason: String| ImportError::Levels {
        path: path.to_path_buf(),
        system: opts.system.clone(),
        reason,
    };
    let Some(given) = &opts.levels else {
        return Ok(match stored {
            Some(s) => s.levels.clone(),
            None => GridSystem::with_default_levels(&opts.system).levels,
        });
    };
    let given: Vec<String> = given.iter().map(|l| l.trim().to_string()).collect();
    if given.is_empty() || given.iter().any(String::is_empty) {
        return Err(err(format!(
            "level names must be non-empty, got {:?}",
            given
        )));
    }
    if let Some(dup) = given
        .iter()
        .enumerate()
        .find(|(i, l)| given[..*i].contains(l))
        .map(|(_, l)| l)
    {
        return Err(err(format!("level `{dup}` is given twice")));
    }
    if let Some(s) = stored {
        if s.levels != given && !opts.replace {
            return Err(err(format!(
                "it has levels {}, the given levels {} differ; replace the system to change its levels",
                s.levels.join(","),
                given.join(",")
            )));
        }
    }
    Ok(given)
}

struct Fields {
    code: String,
    name: String,
    level: String,
    parent: Option<String>,
    attributes: Map<String, Value>,
}

fn code_of(props: &Map<String, Value>) -> Result<Option<String>, String> {
    text_of(props, "code")
}

fn fields(f: &RawFeature) -> Result<Fields, Vec<String>> {
    let p = &f.properties;
    let mut reasons = Vec::new();
    let code = match code_of(p) {
        Ok(Some(c)) => Some(c),
        Ok(None) => {
            reasons.push(
                "missing property `code` (it must be a non-empty string or number)".to_string(),
            );
            None
        }
        Err(e) => {
            reasons.push(e);
            None
        }
    };
    let name = text_of(p, "name").unwrap_or_else(|e| {
        reasons.push(e);
        None
    });
    let level = match text_of(p, "level") {
        Ok(Some(l)) => Some(l),
        Ok(None) => {
            reasons.push("missing property `level`".to_string());
            None
        }
        Err(e) => {
            reasons.push(e);
            None
        }
    };
    let parent = text_of(p, "parent").unwrap_or_else(|e| {
        reasons.push(e);
        None
    });
    match (code, level) {
        (Some(code), Some(level)) if reasons.is_empty() => {
            let attributes = p
                .iter()
                .filter(|(k, _)| !matches!(k.as_str(), "code" | "name" | "level" | "parent"))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            Ok(Fields {
                name: name.unwrap_or_else(|| code.clone()),
                code,
                level,
                parent,
                attributes,
            })
        }
        _ => Err(reasons),
    }
}

enum GeometryError {
    Crs(CrsError),
    Other(String),
}

/// A repair: the problem it fixed and the area before and after, in m².
type Repair = (String, f64, f64);

/// Turns a raw geometry into a valid WGS84 multipolygon, repairing it if allowed.
fn geometry(
    raw: Option<Geometry<f64>>,
    raw_problem: Option<RawProblem>,
    crs: Crs,
    repair: bool,
) -> Result<(MultiPolygon<f64>, Option<Repair>), GeometryError> {
    let other = |s: String| GeometryError::Other(s);
    let raw_problem = match raw_problem {
        Some(RawProblem::Unreadable(reason)) => {
            return Err(other(format!("unreadable geometry: {reason}")))
        }
        Some(RawProblem::Geometry(p @ GeometryProblem::NonFinite { .. })) => {
            return Err(other(format!("invalid geometry: {p}")))
        }
        Some(RawProblem::Geometry(p)) => Some(p),
        None => None,
    };
    let mp = match raw {
        None => {
            return Err(other(
                "missing geometry (a grid needs a Polygon or MultiPolygon)".into(),
            ))
        }
        Some(Geometry::Polygon(p)) => MultiPolygon::new(vec![p]),
        Some(Geometry::MultiPolygon(m)) => m,
        Some(g) => {
            return Err(other(format!(
                "geometry is a {}, not a Polygon or MultiPolygon",
                crate::geometry::type_name(&g)
            )))
        }
    };
    if mp.0.is_empty() {
        return Err(other("empty geometry".into()));
    }
    let mut g = Geometry::MultiPolygon(mp);
    crs::transform_geometry(crs, &mut g).map_err(GeometryError::Crs)?;
    let Geometry::MultiPolygon(mp) = g else {
        unreachable!("transform_geometry keeps multipolygons");
    };
    let problem = match (raw_problem, validate_polygonal(&mp)) {
        (_, Err(p)) => p,
        (Some(p), Ok(())) => p,
        (None, Ok(())) => return Ok((mp.orient(Direction::Default), None)),
    };
    if !repair {
        return Err(other(format!("invalid geometry: {problem}")));
    }
    // An unclosed ring was already closed by geo_types; if that is all, keep it.
    let fixed = if validate_polygonal(&mp).is_ok() {
        mp.clone()
    } else {
        make_valid(&mp)
    };
    if let Err(after) = validate_polygonal(&fixed) {
        return Err(other(format!(
            "invalid geometry: {problem}; repair failed: {after}"
        )));
    }
    let report = (problem.to_string(), area_m2(&mp), area_m2(&fixed));
    Ok((fixed.orient(Direction::Default), Some(report)))
}

#[cfg(test)]
mod tests;
