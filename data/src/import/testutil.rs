//! Test doubles: an in-memory [`GridStore`] and file helpers.

use std::path::{Path, PathBuf};

use crate::model::{ChangeSet, Grid, GridSystem, GridWriteMode, Site, Worker};
use crate::store::{GridStore, StoreError};

/// Keeps everything in vectors; `apply` follows the documented ChangeSet semantics.
#[derive(Default)]
pub(crate) struct MemStore {
    pub systems: Vec<GridSystem>,
    pub grids: Vec<(String, Grid)>,
    pub workers: Vec<Worker>,
    pub version: u64,
}

impl GridStore for MemStore {
    fn systems(&self) -> Result<Vec<GridSystem>, StoreError> {
        let mut s = self.systems.clone();
        s.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(s)
    }
    fn grids(&self, system: &str) -> Result<Vec<Grid>, StoreError> {
        if !self.systems.iter().any(|s| s.name == system) {
            return Err(StoreError::UnknownSystem(system.into()));
        }
        Ok(self
            .grids
            .iter()
            .filter(|(s, _)| s == system)
            .map(|(_, g)| g.clone())
            .collect())
    }
    fn workers(&self) -> Result<Vec<Worker>, StoreError> {
        Ok(self.workers.clone())
    }
    fn sites(&self, _kind: Option<&str>) -> Result<Vec<Site>, StoreError> {
        Ok(vec![])
    }
    fn apply(&mut self, change: &ChangeSet) -> Result<u64, StoreError> {
        for sg in &change.grids {
            let name = &sg.system.name;
            self.systems.retain(|s| &s.name != name);
            self.systems.push(sg.system.clone());
            if sg.mode == GridWriteMode::Replace {
                self.grids.retain(|(s, _)| s != name);
            }
            for g in &sg.grids {
                self.grids
                    .retain(|(s, old)| !(s == name && old.code == g.code));
                self.grids.push((name.clone(), g.clone()));
            }
        }
        for w in &change.workers {
            let mut w = w.clone();
            if let Some(old) = self.workers.iter().find(|o| o.id == w.id) {
                let kept = old
                    .grids
                    .iter()
                    .filter(|g| !change.worker_systems.contains(&g.system))
                    .cloned();
                w.grids = kept.chain(w.grids).collect();
            }
            self.workers.retain(|o| o.id != w.id);
            self.workers.push(w);
        }
        self.version += 1;
        Ok(self.version)
    }
    fn data_version(&self) -> Result<u64, StoreError> {
        Ok(self.version)
    }
}

/// Writes `text` to `name` inside `dir`.
pub(crate) fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}
