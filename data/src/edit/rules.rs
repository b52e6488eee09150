//! The rules every proposal keeps after every edit, judged by the same
//! validation imports use ([`crate::change::validate`]) plus what an edit adds:
//! the partition rule on the families it touches (only problems the proposal
//! creates count — a family that already had a gap is not blamed on it),
//! DB11/T 2157 codes where the system uses them, and workers' shares.

use std::collections::HashSet;

use super::proposal::Proposal;
use super::EditError;
use crate::analysis::CheckOptions;
use crate::catalog::Catalog;
use crate::change::{
    family_problems, validate, ChangeSet, SystemGrids, ValidChange, ValidateOptions,
};
use crate::model::Grid;

/// A worker carries one grid and at most half another.
pub const MAX_WORKER_SHARE: f64 = 1.5;

/// The change set that writes `p` onto `catalog` (its current version).
pub fn change_set(p: &Proposal, catalog: &Catalog) -> Option<ChangeSet> {
    let index = catalog.system(&p.system)?;
    let mut sg = SystemGrids::merge(
        index.system().clone(),
        p.body.grids.values().flatten().cloned().collect(),
    );
    sg.delete = p
        .body
        .grids
        .iter()
        .filter(|(code, g)| g.is_none() && index.grid_index(code).is_some())
        .map(|(code, _)| code.clone())
        .collect();
    Some(ChangeSet {
        base_version: Some(catalog.version()),
        grids: vec![sg],
        workers: p.body.workers.values().cloned().collect(),
        worker_systems: if p.body.workers.is_empty() {
            vec![]
        } else {
            vec![p.system.clone()]
        },
        ..Default::default()
    })
}

/// The parents whose families the proposal touches.
fn touched_families(p: &Proposal) -> HashSet<Option<String>> {
    let mut parents = HashSet::new();
    for (code, g) in p.body.grids.iter().chain(&p.body.before) {
        parents.insert(Some(code.clone()));
        if let Some(g) = g {
            parents.insert(g.parent.clone());
        }
    }
    parents
}

/// The tolerance of the partition rule: the coverage check's.
pub fn tolerance_m2() -> f64 {
    CheckOptions::default().sliver_m2
}

/// Judges the whole proposal against `catalog`; the change set ready to
/// publish, or every broken rule with the grids it concerns.
pub fn judge(p: &Proposal, catalog: &Catalog) -> Result<ValidChange, EditError> {
    let index = catalog
        .system(&p.system)
        .ok_or_else(|| EditError::bad(format!("unknown grid system `{}`", p.system)))?;
    let change = change_set(p, catalog).expect("the system exists");
    let opts = ValidateOptions {
        check_geometry: true,
        partition_tolerance_m2: None,
        source: "proposal",
    };
    let mut problems: Vec<(Vec<String>, String)> = Vec::new();
    let valid = match validate(&change, catalog, &opts) {
        Ok(v) => Some(v),
        Err(found) => {
            problems.extend(
                found
                    .0
                    .into_iter()
                    .map(|pr| (pr.key.clone().into_iter().collect(), pr.to_string())),
            );
            None
        }
    };
    // Partition: families the proposal touches, after vs before.
    if problems.is_empty() {
        // A grid without children is a leaf, not a family with a gap: a new
        // street gets its communities in later edits.
        let families: HashSet<Option<String>> = touched_families(p)
            .into_iter()
            .filter(|f| match f {
                None => true,
                Some(code) => !super::ops::children_of(p, catalog, code).is_empty(),
            })
            .collect();
        let tolerance = tolerance_m2();
        let before: HashSet<String> =
            family_problems(index.system(), index.grids().iter(), &families, tolerance)
                .into_iter()
                .map(|pr| pr.key.unwrap_or_default())
                .collect();
        let after = index
            .grids()
            .iter()
            .filter(|g| !p.body.grids.contains_key(&g.code))
            .chain(p.body.grids.values().flatten());
        for pr in family_problems(index.system(), after, &families, tolerance) {
            let key = pr.key.clone().unwrap_or_default();
            if !before.contains(&key) {
                problems.push((
                    key.split(',').map(str::to_string).collect(),
                    format!("partition: {pr}"),
                ));
            }
        }
    }
    codes(p, catalog, &mut problems);
    shares(p, &mut problems);
    match (valid, problems.is_empty()) {
        (Some(v), true) => Ok(v),
        _ => {
            let mut grids: Vec<String> = problems.iter().flat_map(|(g, _)| g.clone()).collect();
            grids.sort();
            grids.dedup();
            let message = problems
                .into_iter()
                .map(|(_, m)| m)
                .collect::<Vec<_>>()
                .join("; ");
            Err(EditError::rule(grids, message))
        }
    }
}

fn digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// DB11/T 2157: where a parent's code is 9 or 12 digits and its children
/// already number from it (parent code + 3 digits), a new child does too.
fn codes(p: &Proposal, catalog: &Catalog, problems: &mut Vec<(Vec<String>, String)>) {
    let Some(index) = catalog.system(&p.system) else {
        return;
    };
    for g in p.body.grids.values().flatten() {
        let Some(parent) = g.parent.as_deref() else {
            continue;
        };
        if !(digits(parent) && (parent.len() == 9 || parent.len() == 12)) {
            continue;
        }
        let uses_standard = index.grid_index(parent).is_some_and(|pi| {
            let kids = index.children(pi);
            !kids.is_empty() && kids.iter().all(|&k| well_formed(&index.grids()[k], parent))
        });
        if uses_standard && !well_formed(g, parent) {
            problems.push((
                vec![g.code.clone()],
                format!(
                    "code {} is not a DB11/T 2157 code under {parent}: it must be {parent} followed by 3 digits",
                    g.code
                ),
            ));
        }
    }
}

fn well_formed(g: &Grid, parent: &str) -> bool {
    digits(&g.code) && g.code.len() == parent.len() + 3 && g.code.starts_with(parent)
}

fn shares(p: &Proposal, problems: &mut Vec<(Vec<String>, String)>) {
    for w in p.body.workers.values() {
        let total: f64 = w.grids.iter().map(|g| g.share).sum();
        if total > MAX_WORKER_SHARE + 1e-9 {
            let codes: Vec<String> = w.grids.iter().map(|g| g.code.clone()).collect();
            problems.push((
                codes.clone(),
                format!(
                    "worker {} would carry {total} grids ({}); at most {MAX_WORKER_SHARE}",
                    w.id,
                    codes.join(", ")
                ),
            ));
        }
    }
}
