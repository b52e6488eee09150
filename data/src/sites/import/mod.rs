//! Site import: `gridmap import sites FILE --kind KIND`. Reads a point file,
//! checks every row, converts coordinates to WGS84 and writes all sites in one
//! transaction — or nothing, with every rejected row listed.
//!
//! Reserved properties (any case): `id` (required, unique in the file),
//! `name` (default: the address, else the id), `address`, `households`
//! (a whole number ≥ 0; left out, it is unknown — not zero). Every other property is
//! kept as an attribute.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};

use geo_types::Point;
use serde_json::{Map, Value};

use super::assign::SystemAssignment;
use super::read::{read_points, PointRow};
use super::{threads, validate_kind, SiteEntry};
use crate::crs::{Crs, CrsError};
use crate::import::properties::text;
use crate::import::{list_problems, ImportCounts, ImportError};
use crate::index::SystemIndex;
use crate::model::{ChangeSet, Site};
use crate::points::{to_wgs84, ToWgs84Error};
use crate::progress::Progress;
use crate::store::{GridStore, StoreError};

/// How to import a site file.
#[derive(Debug, Clone, PartialEq)]
pub struct SiteImportOptions {
    /// Kind of every site in the file: `address`, `enterprise`, … (see [`super::KNOWN_KINDS`]).
    pub kind: String,
    /// Source CRS; wins over a `.prj` (default: the file's declaration, else EPSG:4326).
    pub crs: Option<Crs>,
    /// Replace all stored sites of the kind (default: upsert by kind and id).
    pub replace: bool,
    /// Grid system the placement summary is computed for; `None` = every system.
    pub system: Option<String>,
}

impl SiteImportOptions {
    /// Upsert sites of `kind`, EPSG:4326 unless the file says otherwise, summary for every system.
    pub fn new(kind: impl Into<String>) -> Self {
        Self {
            kind: kind.into(),
            crs: None,
            replace: false,
            system: None,
        }
    }
}

/// Why one row or feature of a site file was rejected.
#[derive(Debug, Clone, PartialEq)]
pub struct SiteProblem {
    /// 0-based feature / data-row position in the file.
    pub index: usize,
    /// 1-based line of a CSV with coordinate columns.
    pub line: Option<u64>,
    /// The site id, when the row has one.
    pub id: Option<String>,
    pub reason: String,
}

impl SiteProblem {
    fn place(&self) -> String {
        match self.line {
            Some(line) => format!("line {line}"),
            None => format!("feature #{}", self.index),
        }
    }
}

impl fmt::Display for SiteProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.id {
            Some(id) => write!(f, "{} (id {id}): {}", self.place(), self.reason),
            None => write!(f, "{}: {}", self.place(), self.reason),
        }
    }
}

/// Errors of a site import. Nothing is written when one is returned.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SiteImportError {
    #[error("invalid site kind: {0}")]
    Kind(String),
    #[error("{}: {} site(s) rejected, nothing imported:{}", path.display(), problems.len(), list_problems(problems))]
    Rejected {
        path: PathBuf,
        problems: Vec<SiteProblem>,
    },
    /// Reading the file, its CRS, or an unknown `system`.
    #[error(transparent)]
    Import(#[from] ImportError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Where the imported sites fall at one level of a system.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LevelPlacement {
    pub level: String,
    /// Inside a grid, not on its border.
    pub inside: usize,
    /// Exactly on a grid border (given to one grid by the border rule).
    pub on_border: usize,
    /// In no grid of the level.
    pub outside: usize,
}

/// Placement of the imported sites in one grid system, per level.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SystemPlacement {
    pub system: String,
    pub levels: Vec<LevelPlacement>,
}

/// What a site import did (or, from [`prepare_site_import`], would do).
#[derive(Debug, Clone, PartialEq)]
pub struct SiteImportReport {
    pub path: PathBuf,
    pub kind: String,
    /// The CRS the file was read in.
    pub crs: Crs,
    pub replace: bool,
    /// Sites of the kind by id: in the file, new, updated, dropped by
    /// `replace`, in the store afterwards.
    pub counts: ImportCounts,
    /// Filled by [`import_sites`] after writing.
    pub placement: Vec<SystemPlacement>,
}

impl fmt::Display for SiteImportReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} sites of kind `{}` (source CRS {}; {}): {}; the store holds {} `{}` sites",
            self.path.display(),
            self.counts.imported,
            self.kind,
            self.crs.code(),
            if self.replace { "replace" } else { "upsert" },
            self.counts,
            self.counts.total,
            self.kind
        )?;
        for s in &self.placement {
            write!(f, "\n  system `{}`:", s.system)?;
            for l in &s.levels {
                write!(
                    f,
                    "\n    {}: {} inside, {} on a border, {} outside",
                    l.level, l.inside, l.on_border, l.outside
                )?;
            }
        }
        Ok(())
    }
}

fn households(value: Option<&Value>) -> Result<Option<u32>, String> {
    let bad = |v: &dyn fmt::Display| {
        format!(
            "households `{v}` is not a whole number between 0 and {}",
            u32::MAX
        )
    };
    let f = match value {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Number(n)) => n.as_f64().ok_or_else(|| bad(n))?,
        Some(Value::String(s)) if s.trim().is_empty() => return Ok(None),
        Some(Value::String(s)) => s.trim().parse::<f64>().map_err(|_| bad(s))?,
        Some(other) => return Err(bad(other)),
    };
    if f.is_finite() && f.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(&f) {
        return Ok(Some(f as u32));
    }
    match value {
        Some(Value::String(s)) => Err(bad(&s.trim())),
        Some(v) => Err(bad(v)),
        None => unreachable!("absent households returned early"),
    }
}

const RESERVED: [&str; 4] = ["id", "name", "address", "households"];

/// Why a row was rejected: its id when known, every reason, and the CRS
/// error if the coordinates failed to convert.
type RowRejection = (Option<String>, Vec<String>, Option<CrsError>);

/// Checks one row; `Err` carries every reason and, when known, the id.
fn site_of(row: PointRow, kind: &str, crs: Crs) -> Result<Site, RowRejection> {
    let mut reserved: HashMap<&str, Value> = HashMap::new();
    let mut attributes = Map::new();
    for (k, v) in row.properties {
        match RESERVED.iter().find(|r| k.eq_ignore_ascii_case(r)) {
            Some(r) if !reserved.contains_key(r) => {
                reserved.insert(r, v);
            }
            _ => {
                attributes.insert(k, v);
            }
        }
    }
    let mut reasons = Vec::new();
    let mut field = |key: &str| {
        text(reserved.get(key), key).unwrap_or_else(|e| {
            reasons.push(e);
            None
        })
    };
    let id = field("id");
    let name = field("name");
    let address = field("address");
    if id.is_none() && !reasons.iter().any(|r| r.contains("`id`")) {
        reasons.push("missing id (a non-empty string or number)".into());
    }
    // An address register may not know its household counts: unknown is
    // kept as unknown (the workload check skips it), never read as zero.
    let households = match households(reserved.get("households")) {
        Ok(h) => h,
        Err(e) => {
            reasons.push(e);
            None
        }
    };
    let mut crs_error = None;
    let location = match row.point.map(|xy| to_wgs84(crs, xy)) {
        Err(e) => {
            reasons.push(e);
            None
        }
        Ok(Ok((lon, lat))) => Some(Point::new(lon, lat)),
        Ok(Err(e)) => {
            reasons.push(e.to_string());
            if let ToWgs84Error::Crs(e) = e {
                crs_error = Some(e);
            }
            None
        }
    };
    match (id, location) {
        (Some(id), Some(location)) if reasons.is_empty() => Ok(Site {
            name: name
                .or_else(|| address.clone())
                .unwrap_or_else(|| id.clone()),
            id,
            kind: kind.to_string(),
            address,
            households,
            location,
            attributes,
        }),
        (id, _) => Err((id, reasons, crs_error)),
    }
}

/// Reads and checks a site file; returns the change set that would import it.
///
/// Nothing is written. Fails with [`SiteImportError::Rejected`] listing every
/// bad row (missing or duplicate id, missing/non-point/non-finite/out-of-range
/// coordinates — with a Gauss-Krüger suggestion for 8-digit eastings —, bad
/// households), with [`ImportError::Crs`] when no row converts (the
/// CRS is wrong, not the rows), and with [`ImportError::UnknownSystem`] when
/// `opts.system` names no stored system.
pub fn prepare_site_import(
    store: &dyn GridStore,
    path: &Path,
    opts: &SiteImportOptions,
    progress: &dyn Progress,
) -> Result<(ChangeSet, SiteImportReport), SiteImportError> {
    validate_kind(&opts.kind).map_err(SiteImportError::Kind)?;
    if let Some(system) = &opts.system {
        if !store.systems()?.iter().any(|s| &s.name == system) {
            return Err(ImportError::UnknownSystem {
                path: path.to_path_buf(),
                system: system.clone(),
            }
            .into());
        }
    }
    progress.start("reading", 0);
    let data = read_points(path);
    progress.finish();
    let data = data?;
    let crs = opts.crs.or(data.crs).unwrap_or(Crs::Wgs84);
    let total_rows = data.rows.len();
    progress.start("checking sites", total_rows as u64);
    let mut problems = Vec::new();
    let mut crs_errors = Vec::new();
    let mut sites = Vec::with_capacity(total_rows);
    let mut seen: HashMap<String, String> = HashMap::new();
    for row in data.rows {
        progress.advance(1);
        let (index, line) = (row.index, row.line);
        let problem = |id: Option<String>, reason: String| SiteProblem {
            index,
            line,
            id,
            reason,
        };
        match site_of(row, &opts.kind, crs) {
            Ok(site) => {
                let here = problem(None, String::new()).place();
                if let Some(first) = seen.get(&site.id) {
                    problems.push(problem(
                        Some(site.id.clone()),
                        format!("duplicate id {} (also {first})", site.id),
                    ));
                } else {
                    seen.insert(site.id.clone(), here);
                    sites.push(site);
                }
            }
            Err((id, reasons, crs_error)) => {
                if let Some(id) = &id {
                    seen.entry(id.clone())
                        .or_insert_with(|| problem(None, String::new()).place());
                }
                crs_errors.extend(crs_error);
                problems.extend(reasons.into_iter().map(|r| problem(id.clone(), r)));
            }
        }
    }
    progress.finish();
    // Every row failing the CRS transform means the CRS is wrong, not the rows.
    if total_rows > 0 && crs_errors.len() == total_rows {
        return Err(ImportError::Crs {
            path: path.to_path_buf(),
            source: crs_errors.remove(0),
        }
        .into());
    }
    if !problems.is_empty() {
        return Err(SiteImportError::Rejected {
            path: path.to_path_buf(),
            problems,
        });
    }
    let stored: HashSet<String> = store
        .sites(Some(&opts.kind))?
        .into_iter()
        .map(|s| s.id)
        .collect();
    let report = SiteImportReport {
        path: path.to_path_buf(),
        kind: opts.kind.clone(),
        crs,
        replace: opts.replace,
        counts: ImportCounts::of(&stored, sites.iter().map(|s| s.id.as_str()), opts.replace),
        placement: Vec::new(),
    };
    let change = ChangeSet {
        sites,
        replace_site_kinds: if opts.replace {
            vec![opts.kind.clone()]
        } else {
            vec![]
        },
        ..ChangeSet::default()
    };
    Ok((change, report))
}

/// Where `sites` fall at every level of each stored system (or only `system`).
pub fn placement_summary(
    store: &dyn GridStore,
    sites: &[Site],
    system: Option<&str>,
) -> Result<Vec<SystemPlacement>, StoreError> {
    let entries: Vec<SiteEntry> = sites
        .iter()
        .map(|s| {
            SiteEntry::new(
                Site {
                    attributes: Default::default(),
                    ..s.clone()
                },
                0,
            )
        })
        .collect();
    let mut out = Vec::new();
    for s in store
        .systems()?
        .into_iter()
        .filter(|s| system.is_none_or(|n| n == s.name))
    {
        let grids = store.grids(&s.name)?;
        let index = SystemIndex::build(s, grids);
        let counts = SystemAssignment::compute(&index, &entries, 1, threads()).level_counts();
        let levels = index
            .system()
            .levels
            .iter()
            .zip(counts)
            .map(|(level, (found, border))| LevelPlacement {
                level: level.clone(),
                inside: found - border,
                on_border: border,
                outside: sites.len() - found,
            })
            .collect();
        out.push(SystemPlacement {
            system: index.system().name.clone(),
            levels,
        });
    }
    Ok(out)
}

/// Checks a site file and, if every row is right, writes it in one transaction,
/// then reports where the sites fall in the grid systems.
///
/// ```
/// # use gridmap_data::sites::{import_sites, SiteImportOptions};
/// # fn demo(store: &mut dyn gridmap_data::store::GridStore) -> Result<(), gridmap_data::sites::SiteImportError> {
/// let mut opts = SiteImportOptions::new("school");
/// opts.replace = true;
/// let report = import_sites(store, "schools.csv".as_ref(), &opts, &gridmap_data::progress::NoProgress)?;
/// println!("{report}");
/// # Ok(()) }
/// ```
pub fn import_sites(
    store: &dyn GridStore,
    path: &Path,
    opts: &SiteImportOptions,
    progress: &dyn Progress,
) -> Result<SiteImportReport, SiteImportError> {
    let version = store.data_version()?;
    let (mut change, mut report) = prepare_site_import(store, path, opts, progress)?;
    change.base_version = Some(version);
    // Sites are judged on their own (kind, id, location); no grids needed.
    let catalog = crate::catalog::Catalog::from_parts(version, Default::default(), vec![]);
    let valid =
        crate::change::validate(&change, &catalog, &Default::default()).map_err(|problems| {
            ImportError::Change {
                path: path.to_path_buf(),
                problems,
            }
        })?;
    progress.start("writing", 0);
    let written = crate::change::apply(store, &valid);
    progress.finish();
    written?;
    progress.start("assigning to grids", 0);
    let placement = placement_summary(store, &change.sites, opts.system.as_deref());
    progress.finish();
    report.placement = placement?;
    Ok(report)
}

#[cfg(test)]
mod tests;
