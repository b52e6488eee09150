//! Publishing a proposal and reverting a published change: each one change
//! set, written with its history in one transaction.
//!
//! Conflicts are per grid and per worker: publishing is refused when a grid
//! or worker the proposal touched differs now from the copy it started from;
//! a proposal is rebased onto changes to anything else. A revert is refused
//! when a later change touched the grids it would restore.

use std::collections::BTreeSet;

use super::proposal::{Proposal, State};
use super::{rules, EditError};
use crate::catalog::Catalog;
use crate::change::{
    apply_recorded, validate, ChangeSet, SystemGrids, ValidChange, ValidateOptions,
};
use crate::history::{ChangeRecord, HistoryEntry};
use crate::model::Grid;
use crate::store::{GridStore, StoreError};

/// A change this process committed: the data version it made and what it
/// wrote, from which a server patches its catalog ([`Catalog::after_change`])
/// instead of loading a new snapshot.
#[derive(Debug, Clone)]
pub struct Committed {
    pub version: u64,
    pub change: ValidChange,
}

/// Writes a validated change with its history; see [`Committed`].
fn commit(
    store: &dyn GridStore,
    change: ValidChange,
    record: &ChangeRecord,
) -> Result<Committed, EditError> {
    let version = apply_recorded(store, &change, record).map_err(store_error)?;
    Ok(Committed { version, change })
}

fn store_error(e: StoreError) -> EditError {
    match e {
        StoreError::StaleBase { .. } => EditError::Conflict {
            grids: vec![],
            message: format!("{e}"),
        },
        e => EditError::Store(e),
    }
}

/// The grids and workers of `p` changed by someone else since it touched them.
pub fn conflicts(p: &Proposal, catalog: &Catalog) -> Vec<String> {
    let index = catalog.system(&p.system);
    let mut out: BTreeSet<String> = BTreeSet::new();
    for (code, before) in &p.body.before {
        let now = index.and_then(|s| s.grid(code));
        if now != before.as_ref() {
            out.insert(code.clone());
        }
    }
    for (id, before) in &p.body.workers_before {
        let now = catalog.workers().iter().find(|w| &w.id == id);
        if now != Some(before) {
            out.insert(format!("worker {id}"));
        }
    }
    // A worker the proposal found absent may have been added since: also a conflict.
    for id in p
        .body
        .workers
        .keys()
        .filter(|id| !p.body.workers_before.contains_key(*id))
    {
        if catalog.workers().iter().any(|w| &w.id == id) {
            out.insert(format!("worker {id}"));
        }
    }
    out.into_iter().collect()
}

/// Publishes `p` onto `catalog` (the store's current version): conflicts →
/// [`EditError::Conflict`], broken rules → [`EditError::Rule`]. Returns the
/// new data version; the caller saves the proposal as published.
pub fn publish(
    p: &Proposal,
    catalog: &Catalog,
    store: &dyn GridStore,
    author: &str,
) -> Result<Committed, EditError> {
    if p.state != State::Submitted && p.state != State::Draft {
        return Err(EditError::State(format!(
            "proposal {} is {}; only a draft or submitted proposal can be published",
            p.id,
            p.state.as_str()
        )));
    }
    let conflicting = conflicts(p, catalog);
    if !conflicting.is_empty() {
        return Err(EditError::Conflict {
            message: format!(
                "changed since proposal {} touched them: {}; make the proposal again on the current data",
                p.id,
                conflicting.join(", ")
            ),
            grids: conflicting,
        });
    }
    let valid = rules::judge(p, catalog)?;
    let record = ChangeRecord {
        author: author.into(),
        title: p.title.clone(),
        kind: "edit".into(),
        proposal: Some(p.id),
        reverts: None,
        system: p.system.clone(),
        before: p.body.before.values().flatten().cloned().collect(),
        after: p.body.grids.values().flatten().cloned().collect(),
        workers_before: p.body.workers_before.values().cloned().collect(),
        workers_after: p.body.workers.values().cloned().collect(),
    };
    commit(store, valid, &record)
}

/// Makes and applies the change undoing history `entry` onto `catalog`.
pub fn revert(
    entry: &HistoryEntry,
    catalog: &Catalog,
    store: &dyn GridStore,
    author: &str,
) -> Result<Committed, EditError> {
    let Some(record) = entry.record.as_ref() else {
        return Err(EditError::State(format!(
            "version {} is {} without recorded grids; it cannot be reverted here",
            entry.version, entry.kind
        )));
    };
    let index = catalog
        .system(&record.system)
        .ok_or_else(|| EditError::bad(format!("unknown grid system `{}`", record.system)))?;
    // Every grid the change wrote must still be as it left it.
    let mut conflicting = Vec::new();
    for code in record.codes() {
        let left = record.after.iter().find(|g| g.code == code);
        if index.grid(&code) != left {
            conflicting.push(code);
        }
    }
    for w in &record.workers_after {
        if catalog.workers().iter().find(|c| c.id == w.id) != Some(w) {
            conflicting.push(format!("worker {}", w.id));
        }
    }
    if !conflicting.is_empty() {
        return Err(EditError::Conflict {
            message: format!(
                "later changes touched what version {} changed: {}",
                entry.version,
                conflicting.join(", ")
            ),
            grids: conflicting,
        });
    }
    let restored: Vec<Grid> = record.before.clone();
    let mut sg = SystemGrids::merge(index.system().clone(), restored);
    sg.delete = record
        .after
        .iter()
        .filter(|g| !record.before.iter().any(|b| b.code == g.code))
        .map(|g| g.code.clone())
        .collect();
    let change = ChangeSet {
        base_version: Some(catalog.version()),
        grids: vec![sg],
        workers: record.workers_before.clone(),
        worker_systems: if record.workers_before.is_empty() {
            vec![]
        } else {
            vec![record.system.clone()]
        },
        ..Default::default()
    };
    let opts = ValidateOptions {
        check_geometry: true,
        partition_tolerance_m2: None,
        source: "revert",
    };
    let valid = validate(&change, catalog, &opts).map_err(|problems| {
        EditError::rule(
            problems.0.iter().filter_map(|p| p.key.clone()).collect(),
            problems.to_string(),
        )
    })?;
    let undo = ChangeRecord {
        author: author.into(),
        title: format!("revert version {}: {}", entry.version, record.title),
        kind: "revert".into(),
        proposal: None,
        reverts: Some(entry.version),
        system: record.system.clone(),
        before: record.after.clone(),
        after: record.before.clone(),
        workers_before: record.workers_after.clone(),
        workers_after: record.workers_before.clone(),
    };
    commit(store, valid, &undo)
}
