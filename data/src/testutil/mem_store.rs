//! An in-memory [`GridStore`] for import tests.

use std::sync::{Mutex, MutexGuard};

use crate::accounts::{Account, Role};
use crate::history::{ChangeRecord, HistoryEntry};
use crate::model::{ChangeSet, Grid, GridSystem, GridWriteMode, Site, Worker};
use crate::store::{AuditEntry, GridStore, ProposalRow, Snapshot, SnapshotParts, StoreError};

/// The import tests never edit: the editing side of this store answers so.
fn no_editing<T>() -> Result<T, StoreError> {
    Err(StoreError::Unsupported {
        location: "memory".into(),
        reason: "the in-memory test store keeps no accounts, proposals or history".into(),
    })
}

/// Keeps everything in vectors; `apply` follows the documented ChangeSet semantics.
#[derive(Default, Debug)]
pub(crate) struct MemData {
    pub systems: Vec<GridSystem>,
    pub grids: Vec<(String, Grid)>,
    pub workers: Vec<Worker>,
    pub version: u64,
}

/// An in-memory store for import tests.
#[derive(Default, Debug)]
pub(crate) struct MemStore(Mutex<MemData>);

impl MemStore {
    pub fn data(&self) -> MutexGuard<'_, MemData> {
        self.0.lock().unwrap()
    }
}

impl GridStore for MemStore {
    fn location(&self) -> String {
        "memory".into()
    }
    fn snapshot(&self, _parts: SnapshotParts) -> Result<Snapshot, StoreError> {
        let systems = self
            .systems()?
            .into_iter()
            .map(|s| {
                let g = self.grids(&s.name).unwrap();
                (s, g)
            })
            .collect();
        Ok(Snapshot {
            version: self.data_version()?,
            checked: true,
            systems,
            workers: self.workers()?,
            sites: vec![],
        })
    }
    fn systems(&self) -> Result<Vec<GridSystem>, StoreError> {
        let mut s = self.data().systems.clone();
        s.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(s)
    }
    fn grids(&self, system: &str) -> Result<Vec<Grid>, StoreError> {
        let data = self.data();
        if !data.systems.iter().any(|s| s.name == system) {
            return Err(StoreError::UnknownSystem(system.into()));
        }
        Ok(data
            .grids
            .iter()
            .filter(|(s, _)| s == system)
            .map(|(_, g)| g.clone())
            .collect())
    }
    fn workers(&self) -> Result<Vec<Worker>, StoreError> {
        Ok(self.data().workers.clone())
    }
    fn sites(&self, _kind: Option<&str>) -> Result<Vec<Site>, StoreError> {
        Ok(vec![])
    }
    fn apply(&self, change: &ChangeSet) -> Result<u64, StoreError> {
        let mut data = self.data();
        let data = &mut *data;
        if let Some(base) = change.base_version {
            if base != data.version {
                return Err(StoreError::StaleBase {
                    base,
                    current: data.version,
                });
            }
        }
        for sg in &change.grids {
            let name = &sg.system.name;
            data.systems.retain(|s| &s.name != name);
            data.systems.push(sg.system.clone());
            if sg.mode == GridWriteMode::Replace {
                data.grids.retain(|(s, _)| s != name);
            }
            data.grids
                .retain(|(s, old)| !(s == name && sg.delete.contains(&old.code)));
            for g in &sg.grids {
                data.grids
                    .retain(|(s, old)| !(s == name && old.code == g.code));
                data.grids.push((name.clone(), g.clone()));
            }
        }
        for w in &change.workers {
            let mut w = w.clone();
            if let Some(old) = data.workers.iter().find(|o| o.id == w.id) {
                let kept = old
                    .grids
                    .iter()
                    .filter(|g| !change.worker_systems.contains(&g.system))
                    .cloned();
                w.grids = kept.chain(w.grids).collect();
            }
            data.workers.retain(|o| o.id != w.id);
            data.workers.push(w);
        }
        data.version += 1;
        Ok(data.version)
    }
    fn data_version(&self) -> Result<u64, StoreError> {
        Ok(self.data().version)
    }
    fn mark_checked(&self, version: u64) -> Result<bool, StoreError> {
        // Nothing writes to this store but `apply`: every version is checked.
        Ok(version == self.data().version)
    }
    fn apply_recorded(
        &self,
        change: &ChangeSet,
        _record: &ChangeRecord,
    ) -> Result<u64, StoreError> {
        self.apply(change)
    }
    fn add_account(&self, _: &str, _: Role, _: &str) -> Result<Account, StoreError> {
        no_editing()
    }
    fn accounts(&self) -> Result<Vec<Account>, StoreError> {
        no_editing()
    }
    fn account_by_token(&self, _: &str) -> Result<Option<Account>, StoreError> {
        no_editing()
    }
    fn revoke_account(&self, _: &str) -> Result<bool, StoreError> {
        no_editing()
    }
    fn audit(&self, _: &str, _: &str, _: &str, _: &str) -> Result<(), StoreError> {
        no_editing()
    }
    fn audit_log(&self, _: usize, _: usize) -> Result<Vec<AuditEntry>, StoreError> {
        no_editing()
    }
    fn save_proposal(&self, _: &ProposalRow) -> Result<ProposalRow, StoreError> {
        no_editing()
    }
    fn proposal(&self, _: u64) -> Result<Option<ProposalRow>, StoreError> {
        no_editing()
    }
    fn proposals(&self, _: Option<&str>, _: Option<&str>) -> Result<Vec<ProposalRow>, StoreError> {
        no_editing()
    }
    fn history(
        &self,
        _: Option<&str>,
        _: usize,
        _: usize,
    ) -> Result<Vec<HistoryEntry>, StoreError> {
        no_editing()
    }
    fn history_since(&self, _: u64) -> Result<Vec<HistoryEntry>, StoreError> {
        no_editing()
    }
}
