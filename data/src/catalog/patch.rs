//! The catalog after one change this process wrote, made from the catalog
//! before it instead of from a new snapshot.
//!
//! Reloading the 100,000-block demo city reads 106,707 grids and 1.6 M sites
//! back from the store, prepares every polygon and locates every site at
//! every level: seconds. A published proposal changes a handful of grids.
//! [`Catalog::after_change`] applies the change set to the catalog in memory,
//! as the store applied it to its tables: the changed systems' indexes are
//! patched ([`SystemIndex::patched`]), only the sites near the changed grids
//! are located again ([`SiteRegister::with_system_patched`]), workers are
//! updated by the store's rules, and everything else is shared with the old
//! catalog. The result equals [`Catalog::load`] at the new version (the
//! tests below compare the two on the demo city and on Zhejiang); a change
//! it cannot mirror exactly (sites, a replaced system, new levels) gives
//! `None`, and the caller loads a snapshot as before.

use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;

use super::{index_workers, Catalog};
use crate::change::{ChangeSet, GridWriteMode};
use crate::model::Worker;

impl Catalog {
    /// This catalog after `change`, which the store committed as data
    /// version `version` on top of this catalog's version; `None` when the
    /// change is not one this can mirror (then load a snapshot).
    pub fn after_change(&self, change: &ChangeSet, version: u64) -> Option<Catalog> {
        if !change.sites.is_empty()
            || !change.replace_site_kinds.is_empty()
            || !change.delete_sites.is_empty()
        {
            return None;
        }
        let mut systems = self.systems.clone();
        let mut sites = None;
        for sg in &change.grids {
            let old = self.systems.get(&sg.system.name)?;
            if sg.mode != GridWriteMode::Merge || old.system() != &sg.system {
                return None;
            }
            let (index, patch) = old.patched(sg.grids.clone(), &sg.delete)?;
            let register = sites.as_ref().unwrap_or(&self.sites);
            if register.assignment(&sg.system.name).is_some() {
                sites = Some(register.with_system_patched(&index, &patch)?);
            }
            systems.insert(sg.system.name.clone(), Arc::new(index));
        }
        let workers = workers_after(&self.workers, change);
        Some(Catalog {
            version,
            systems,
            workers_by_grid: index_workers(&workers),
            workers,
            sites: sites.unwrap_or_else(|| self.sites.clone()),
        })
    }
}

/// The workers after `change`, by the store's rules: a deleted grid takes its
/// assignments with it, deleted workers go, and a worker in the change is
/// inserted or replaced with its assignments in the change's worker systems
/// (and the systems it names) replaced by the ones given, after the ones it
/// keeps. Ordered by id, as the store reads them.
fn workers_after(before: &[Worker], change: &ChangeSet) -> Vec<Worker> {
    let gone: HashSet<(&str, &str)> = change
        .grids
        .iter()
        .flat_map(|sg| {
            sg.delete
                .iter()
                .map(|c| (sg.system.name.as_str(), c.as_str()))
        })
        .collect();
    let deleted: HashSet<&str> = change.delete_workers.iter().map(String::as_str).collect();
    let mut workers: Vec<Worker> = before
        .iter()
        .filter(|w| !deleted.contains(w.id.as_str()))
        .cloned()
        .map(|mut w| {
            w.grids
                .retain(|g| !gone.contains(&(g.system.as_str(), g.code.as_str())));
            w
        })
        .collect();
    for w in &change.workers {
        let systems: BTreeSet<&str> = change
            .worker_systems
            .iter()
            .map(String::as_str)
            .chain(w.grids.iter().map(|g| g.system.as_str()))
            .collect();
        let mut grids = match workers.binary_search_by(|o| o.id.as_str().cmp(&w.id)) {
            Ok(at) => std::mem::take(&mut workers[at].grids),
            Err(_) => Vec::new(),
        };
        grids.retain(|g| !systems.contains(g.system.as_str()));
        grids.extend(w.grids.iter().cloned());
        let new = Worker { grids, ..w.clone() };
        match workers.binary_search_by(|o| o.id.as_str().cmp(&w.id)) {
            Ok(at) => workers[at] = new,
            Err(at) => workers.insert(at, new),
        }
    }
    workers
}

#[cfg(test)]
mod tests;
