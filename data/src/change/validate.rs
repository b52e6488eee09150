//! Judging a change set against the catalog it was made from.

use std::collections::{HashMap, HashSet};
use std::fmt;

use super::tree::{self, Entry};
use super::{ChangeSet, GridWriteMode, SystemGrids};
use crate::analysis::{family, CheckOptions, ProblemKind};
use crate::catalog::Catalog;
use crate::geometry::validate_polygonal;
use crate::index::SystemIndex;
use crate::model::Grid;

/// How strictly to judge a change.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidateOptions {
    /// Check every changed grid's geometry (an import that already checked
    /// and repaired geometry with the file's context turns this off).
    pub check_geometry: bool,
    /// `Some(m²)`: the system is a partition — in every family the change
    /// touches, siblings must not overlap, leave a gap inside their parent or
    /// reach outside it by this area or more. `None`: not checked (imports of
    /// messy data are allowed; `gridmap check` reports them).
    pub partition_tolerance_m2: Option<f64>,
    /// What the change came from, for messages ("file", "change").
    pub source: &'static str,
}

impl Default for ValidateOptions {
    fn default() -> Self {
        Self {
            check_geometry: true,
            partition_tolerance_m2: None,
            source: "change",
        }
    }
}

/// One reason a change is refused.
#[derive(Debug, Clone, PartialEq)]
pub struct ChangeProblem {
    /// The grid system concerned, if any.
    pub system: Option<String>,
    /// Position of the grid in its [`SystemGrids::grids`], when the problem is
    /// about one changed grid (an import maps it back to the file feature).
    pub grid: Option<usize>,
    /// Code of the grid, id of the worker or `kind:id` of the site concerned.
    pub key: Option<String>,
    pub reason: String,
}

impl fmt::Display for ChangeProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.system, &self.key) {
            (Some(s), Some(k)) => write!(f, "{k} in system `{s}`: {}", self.reason),
            (None, Some(k)) => write!(f, "{k}: {}", self.reason),
            (Some(s), None) => write!(f, "system `{s}`: {}", self.reason),
            (None, None) => f.write_str(&self.reason),
        }
    }
}

/// Every reason a change is refused, in a stable order.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub struct Problems(pub Vec<ChangeProblem>);

impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the change is refused ({} problems)", self.0.len())?;
        for p in &self.0 {
            write!(f, "\n  {p}")?;
        }
        Ok(())
    }
}

/// What a valid change does to one system.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SystemSummary {
    pub system: String,
    /// Codes new to the system.
    pub inserted: usize,
    /// Codes that replace a grid of the system.
    pub updated: usize,
    /// Grids deleted, or dropped because the system is replaced.
    pub removed: usize,
    /// Grids in the system afterwards.
    pub total: usize,
}

/// A change set that passed [`validate`]; only these reach [`super::apply`].
#[derive(Debug, Clone)]
pub struct ValidChange {
    change: ChangeSet,
    summaries: Vec<SystemSummary>,
}

impl ValidChange {
    pub fn change_set(&self) -> &ChangeSet {
        &self.change
    }

    /// Per changed system, in the change's order.
    pub fn summaries(&self) -> &[SystemSummary] {
        &self.summaries
    }
}

/// Checks `change` against `catalog` (the data it was made from): its base
/// version, every system's tree (levels, parents, cycles, codes), deletions,
/// geometry, the partition rule when asked for, workers' assignments and
/// sites. Returns every problem found, or the change ready to apply.
pub fn validate(
    change: &ChangeSet,
    catalog: &Catalog,
    opts: &ValidateOptions,
) -> Result<ValidChange, Problems> {
    let mut problems = Vec::new();
    if let Some(base) = change.base_version {
        if base != catalog.version() {
            problems.push(ChangeProblem {
                system: None,
                grid: None,
                key: None,
                reason: format!(
                    "made against data version {base}, but validated against version {}; reload and make the change again",
                    catalog.version()
                ),
            });
            return Err(Problems(problems));
        }
    }
    let mut summaries = Vec::new();
    // Codes each changed system holds afterwards, for the workers' check.
    let mut codes_after: HashMap<&str, HashSet<&str>> = HashMap::new();
    for sg in &change.grids {
        let (summary, after) = validate_system(sg, catalog, opts, &mut problems);
        summaries.push(summary);
        codes_after.insert(&sg.system.name, after);
    }
    validate_workers(change, catalog, &codes_after, &mut problems);
    validate_sites(change, &mut problems);
    if problems.is_empty() {
        Ok(ValidChange {
            change: change.clone(),
            summaries,
        })
    } else {
        Err(Problems(problems))
    }
}

fn validate_system<'a>(
    sg: &'a SystemGrids,
    catalog: &'a Catalog,
    opts: &ValidateOptions,
    problems: &mut Vec<ChangeProblem>,
) -> (SystemSummary, HashSet<&'a str>) {
    let name = &sg.system.name;
    let problem = |grid: Option<usize>, key: Option<&str>, reason: String| ChangeProblem {
        system: Some(name.clone()),
        grid,
        key: key.map(str::to_string),
        reason,
    };
    let levels = &sg.system.levels;
    if levels.is_empty() || levels.iter().any(|l| l.trim().is_empty()) {
        problems.push(problem(
            None,
            None,
            format!("level names must be non-empty, got {levels:?}"),
        ));
    }
    let stored = catalog.system(name);
    let merging = sg.mode == GridWriteMode::Merge;
    if let Some(stored) = stored.filter(|_| merging) {
        if &stored.system().levels != levels {
            problems.push(problem(
                None,
                None,
                format!(
                    "it has levels {}, the change gives {}; replace the system to change its levels",
                    stored.system().levels.join(","),
                    levels.join(",")
                ),
            ));
        }
    }
    if !merging && !sg.delete.is_empty() {
        problems.push(problem(
            None,
            None,
            "a replaced system cannot also delete grids".into(),
        ));
    }
    let existing: &[Grid] = match stored {
        Some(s) if merging => s.grids(),
        _ => &[],
    };
    let existing_codes: HashSet<&str> = existing.iter().map(|g| g.code.as_str()).collect();
    let deleted: HashSet<&str> = sg.delete.iter().map(String::as_str).collect();
    for code in &sg.delete {
        if !existing_codes.contains(code.as_str()) {
            problems.push(problem(None, Some(code), "no such grid to delete".into()));
        }
    }
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for (i, g) in sg.grids.iter().enumerate() {
        if g.code.trim().is_empty() {
            problems.push(problem(Some(i), None, "grid code must not be empty".into()));
        } else if let Err(reason) = sane_text("grid code", &g.code, MAX_CODE_CHARS, true) {
            problems.push(problem(Some(i), None, reason));
        }
        if let Err(reason) = sane_text("grid name", &g.name, MAX_NAME_CHARS, false) {
            problems.push(problem(Some(i), Some(&g.code), reason));
        }
        if let Some(first) = seen.insert(&g.code, i) {
            problems.push(problem(
                Some(i),
                Some(&g.code),
                format!(
                    "duplicate code {} (also grid #{first} of the change)",
                    g.code
                ),
            ));
        }
        if deleted.contains(g.code.as_str()) {
            problems.push(problem(
                Some(i),
                Some(&g.code),
                "both written and deleted".into(),
            ));
        }
        if opts.check_geometry {
            if g.geometry.0.is_empty() {
                problems.push(problem(Some(i), Some(&g.code), "empty geometry".into()));
            } else if let Err(p) = validate_polygonal(&g.geometry) {
                problems.push(problem(
                    Some(i),
                    Some(&g.code),
                    format!("invalid geometry: {p}"),
                ));
            }
        }
    }
    // The tree the system would hold: stored grids (less the deleted ones)
    // overridden by the changed ones.
    // References, not copies: a merge into a large system must not clone
    // every stored geometry just to check the tree.
    let kept: Vec<&Grid> = existing
        .iter()
        .filter(|g| !deleted.contains(g.code.as_str()))
        .collect();
    let entries: Vec<Entry> = sg
        .grids
        .iter()
        .enumerate()
        .map(|(index, g)| Entry {
            index,
            code: g.code.clone(),
            level: g.level.clone(),
            parent: g.parent.clone(),
        })
        .collect();
    if !levels.is_empty() {
        for p in tree::check(&sg.system, &kept, &entries, merging, opts.source) {
            problems.push(problem(Some(p.index), Some(&p.code), p.reason));
        }
    }
    let changed: HashSet<&str> = sg.grids.iter().map(|g| g.code.as_str()).collect();
    for g in &kept {
        if changed.contains(g.code.as_str()) {
            continue;
        }
        if let Some(parent) = g.parent.as_deref().filter(|p| deleted.contains(p)) {
            problems.push(problem(
                None,
                Some(parent),
                format!(
                    "cannot be deleted: grid {} still names it as parent",
                    g.code
                ),
            ));
        }
    }
    // Against the stored system whatever the mode: in a replace, a code that
    // was there before is still an update of that grid.
    let updated = changed
        .iter()
        .filter(|c| stored.is_some_and(|s| s.grid_index(c).is_some()))
        .count();
    let removed = if merging {
        deleted.len()
    } else {
        stored.map_or(0, |s| {
            s.grids()
                .iter()
                .filter(|g| !changed.contains(g.code.as_str()))
                .count()
        })
    };
    let mut after: HashSet<&str> = existing_codes
        .iter()
        .copied()
        .filter(|c| !deleted.contains(c))
        .collect();
    after.extend(changed.iter().copied());
    let summary = SystemSummary {
        system: name.clone(),
        inserted: sg.grids.len() - updated,
        updated,
        removed,
        total: after.len(),
    };
    if let Some(tolerance) = opts.partition_tolerance_m2 {
        if problems.is_empty() {
            partition(sg, &kept, tolerance, problems);
        }
    }
    (summary, after)
}

/// The partition rule on every family the change touches.
fn partition(sg: &SystemGrids, kept: &[&Grid], tolerance: f64, problems: &mut Vec<ChangeProblem>) {
    let changed: HashSet<&str> = sg.grids.iter().map(|g| g.code.as_str()).collect();
    // Families touched: those of every changed or deleted grid (as child,
    // under its old and new parent) and every changed grid as a parent.
    let mut parents: HashSet<Option<String>> = HashSet::new();
    for g in &sg.grids {
        parents.insert(g.parent.clone());
        parents.insert(Some(g.code.clone()));
    }
    for g in kept {
        if changed.contains(g.code.as_str()) || sg.delete.contains(&g.code) {
            parents.insert(g.parent.clone());
        }
    }
    let grids = kept
        .iter()
        .copied()
        .filter(|g| !changed.contains(g.code.as_str()))
        .chain(sg.grids.iter());
    problems.extend(family_problems(&sg.system, grids, &parents, tolerance));
}

/// Gaps, overlaps and overhangs of `tolerance` m² or more in the families
/// (a parent and its children; `None`: the top level) of `parents`, among
/// `grids` (the whole system as it would be). Only the grids of those
/// families are indexed, so a check near one block of a large city stays
/// small.
pub fn family_problems<'a>(
    system: &crate::model::GridSystem,
    grids: impl Iterator<Item = &'a Grid>,
    parents: &HashSet<Option<String>>,
    tolerance: f64,
) -> Vec<ChangeProblem> {
    // The top-level family needs the whole system: a grid whose parent is
    // not indexed would count as top level. Any other family needs only its
    // parent and children.
    let whole = parents.contains(&None);
    let involved: Vec<Grid> = grids
        .filter(|g| whole || parents.contains(&g.parent) || parents.contains(&Some(g.code.clone())))
        .cloned()
        .collect();
    let index = SystemIndex::build(system.clone(), involved);
    let wanted: Vec<Option<usize>> = parents
        .iter()
        .filter_map(|p| match p {
            None => Some(None),
            Some(code) => index.grid_index(code).map(Some),
        })
        .collect();
    let opts = CheckOptions {
        sliver_m2: tolerance,
        ..CheckOptions::default()
    };
    let mut found = family::check_parents(&index, &wanted, &opts);
    found.sort_by(|a, b| {
        a.grids
            .cmp(&b.grids)
            .then_with(|| a.message.cmp(&b.message))
    });
    found
        .into_iter()
        .filter(|p| {
            matches!(
                p.kind,
                ProblemKind::Gap | ProblemKind::Overlap | ProblemKind::Overhang
            )
        })
        .map(|p| ChangeProblem {
            system: Some(system.name.clone()),
            grid: None,
            key: Some(p.grids.join(",")),
            reason: format!("{} (the partition tolerance is {tolerance} m²)", p.message),
        })
        .collect()
}

/// Longest grid code, worker id or site id, in characters (a DB11/T 2157
/// code has 15).
pub const MAX_CODE_CHARS: usize = 64;
/// Longest grid name.
pub const MAX_NAME_CHARS: usize = 200;

/// Codes and names print safely: no control characters (NUL, newlines …),
/// a sane length, and for codes, which end up in URLs and file names, no
/// slashes or backslashes.
fn sane_text(what: &str, text: &str, max: usize, code: bool) -> Result<(), String> {
    let shown: String = text
        .chars()
        .take(40)
        .collect::<String>()
        .escape_debug()
        .to_string();
    if text.chars().count() > max {
        return Err(format!("{what} `{shown}…` is longer than {max} characters"));
    }
    if let Some(c) = text.chars().find(|c| c.is_control()) {
        return Err(format!(
            "{what} `{shown}` holds the control character {c:?}"
        ));
    }
    if code {
        if let Some(c) = text.chars().find(|c| matches!(c, '/' | '\\')) {
            return Err(format!(
                "{what} `{shown}` holds `{c}`; codes may not hold slashes"
            ));
        }
    }
    Ok(())
}

fn validate_workers(
    change: &ChangeSet,
    catalog: &Catalog,
    codes_after: &HashMap<&str, HashSet<&str>>,
    problems: &mut Vec<ChangeProblem>,
) {
    let mut seen = HashSet::new();
    let problem = |key: &str, reason: String| ChangeProblem {
        system: None,
        grid: None,
        key: Some(format!("worker {key}")),
        reason,
    };
    for w in &change.workers {
        if w.id.trim().is_empty() {
            problems.push(problem(&w.name, "worker id must not be empty".into()));
        } else if let Err(reason) = sane_text("worker id", &w.id, MAX_CODE_CHARS, true) {
            problems.push(problem(&w.id.escape_debug().to_string(), reason));
        }
        if !seen.insert(w.id.as_str()) {
            problems.push(problem(&w.id, "given twice".into()));
        }
        for a in &w.grids {
            if !(a.share.is_finite() && a.share > 0.0) {
                problems.push(problem(
                    &w.id,
                    format!(
                        "share {} of grid {} must be a number above 0",
                        a.share, a.code
                    ),
                ));
            }
            let exists = match codes_after.get(a.system.as_str()) {
                Some(codes) => codes.contains(a.code.as_str()),
                None => catalog
                    .system(&a.system)
                    .is_some_and(|s| s.grid_index(&a.code).is_some()),
            };
            if !exists {
                problems.push(problem(
                    &w.id,
                    format!(
                        "assigned to grid {} which system `{}` does not hold",
                        a.code, a.system
                    ),
                ));
            }
        }
    }
}

fn validate_sites(change: &ChangeSet, problems: &mut Vec<ChangeProblem>) {
    for s in &change.sites {
        let key = format!("site {}:{}", s.kind, s.id);
        let mut reasons = Vec::new();
        if let Err(e) = crate::sites::validate_kind(&s.kind) {
            reasons.push(e);
        }
        if s.id.trim().is_empty() {
            reasons.push("site id must not be empty".to_string());
        } else if let Err(reason) = sane_text("site id", &s.id, MAX_CODE_CHARS, false) {
            reasons.push(reason);
        }
        if !(s.location.x().is_finite() && s.location.y().is_finite()) {
            reasons.push("location is not a finite longitude/latitude".to_string());
        }
        problems.extend(reasons.into_iter().map(|reason| ChangeProblem {
            system: None,
            grid: None,
            key: Some(key.clone()),
            reason,
        }));
    }
}

#[cfg(test)]
mod tests;
