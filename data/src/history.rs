//! The history of published changes: who changed which grids when, with the
//! grids as they were before and after, so any earlier version of a system
//! can be rebuilt and any change undone.
//!
//! A [`ChangeRecord`] rides on the [`ChangeSet`](crate::change::ChangeSet) it
//! describes, so the store writes it in the same transaction as the change and
//! under the version that change creates: history can never disagree with
//! the data. Imports are recorded too, without their grids (an import may
//! replace a whole city); a version whose grids are not recorded cannot be
//! stepped across when rebuilding the past ([`grids_at`] says so).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::model::{Grid, Worker};

/// What an edit records about itself in its change set.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ChangeRecord {
    /// The account that published it.
    pub author: String,
    pub title: String,
    /// `edit`, `revert` or `import`.
    pub kind: String,
    /// The proposal it published.
    pub proposal: Option<u64>,
    /// The version it reverted.
    pub reverts: Option<u64>,
    /// The system whose grids it changed.
    pub system: String,
    /// The changed grids as they were: codes absent here were created.
    pub before: Vec<Grid>,
    /// The changed grids afterwards: codes absent here were deleted.
    pub after: Vec<Grid>,
    /// Workers whose assignments changed, before and after.
    #[serde(default)]
    pub workers_before: Vec<Worker>,
    #[serde(default)]
    pub workers_after: Vec<Worker>,
}

/// `[minlon, minlat, maxlon, maxlat]` of each grid given.
pub fn bboxes<'a>(grids: impl IntoIterator<Item = &'a Grid>) -> Vec<[f64; 4]> {
    use geo::BoundingRect;
    grids
        .into_iter()
        .filter_map(|g| g.geometry.bounding_rect())
        .map(|r| [r.min().x, r.min().y, r.max().x, r.max().y])
        .collect()
}

impl ChangeRecord {
    /// Where the change acted: the bounding boxes of its grids before and after.
    pub fn bboxes(&self) -> Vec<[f64; 4]> {
        bboxes(self.before.iter().chain(&self.after))
    }

    /// Codes the change touched, sorted.
    pub fn codes(&self) -> Vec<String> {
        let mut codes: Vec<String> = self
            .before
            .iter()
            .chain(&self.after)
            .map(|g| g.code.clone())
            .collect();
        codes.sort();
        codes.dedup();
        codes
    }
}

/// One committed version as history lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryEntry {
    /// The data version this change created.
    pub version: u64,
    /// RFC 3339, UTC.
    pub at: String,
    pub author: String,
    pub title: String,
    pub kind: String,
    /// Systems whose grids the change wrote.
    pub systems: Vec<String>,
    /// The edit's grids before and after; `None` for an import.
    pub record: Option<ChangeRecord>,
}

/// Why the past cannot be rebuilt.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HistoryError {
    #[error("version {requested} is newer than the current data version {current}")]
    Future { requested: u64, current: u64 },
    #[error("the grids of system `{system}` at version {requested} cannot be rebuilt: version {missing} changed them without recording its grids (an import or a write by another program)")]
    NotRecorded {
        system: String,
        requested: u64,
        missing: u64,
    },
}

/// The grids of `system` as they were at `version`, rebuilt from the grids of
/// `current_version` (`current`) by undoing, newest first, every recorded
/// change after `version`. `entries` must hold every version in
/// `version+1 ..= current_version` that the store recorded (any order).
///
/// ```
/// use gridmap_data::history::{grids_at, ChangeRecord, HistoryEntry};
/// use gridmap_data::model::Grid;
/// use geo_types::{polygon, MultiPolygon};
/// let sq = |x: f64| MultiPolygon(vec![polygon![(x: x, y: 0.0), (x: x + 1.0, y: 0.0), (x: x + 1.0, y: 1.0), (x: x, y: 1.0)]]);
/// let old = Grid::new("A", "street", None, sq(0.0));
/// let new = Grid::new("A", "street", None, sq(5.0));
/// let edit = HistoryEntry {
///     version: 3, at: "2026-12-03T08:00:00Z".into(), author: "wang".into(), title: "move A".into(),
///     kind: "edit".into(), systems: vec!["default".into()],
///     record: Some(ChangeRecord { system: "default".into(), before: vec![old.clone()], after: vec![new.clone()], ..Default::default() }),
/// };
/// let then = grids_at("default", 2, vec![new.clone()], 3, &[edit.clone()]).unwrap();
/// assert_eq!(then, vec![old]);
/// assert!(grids_at("default", 1, vec![new], 3, &[edit]).is_err(), "version 2 is not recorded");
/// ```
pub fn grids_at(
    system: &str,
    version: u64,
    current: Vec<Grid>,
    current_version: u64,
    entries: &[HistoryEntry],
) -> Result<Vec<Grid>, HistoryError> {
    if version > current_version {
        return Err(HistoryError::Future {
            requested: version,
            current: current_version,
        });
    }
    let by_version: BTreeMap<u64, &HistoryEntry> = entries.iter().map(|e| (e.version, e)).collect();
    let mut grids: BTreeMap<String, Grid> =
        current.into_iter().map(|g| (g.code.clone(), g)).collect();
    for v in (version + 1..=current_version).rev() {
        let Some(entry) = by_version.get(&v) else {
            return Err(HistoryError::NotRecorded {
                system: system.into(),
                requested: version,
                missing: v,
            });
        };
        if !entry.systems.iter().any(|s| s == system) {
            continue;
        }
        let Some(record) = entry.record.as_ref().filter(|r| r.system == system) else {
            return Err(HistoryError::NotRecorded {
                system: system.into(),
                requested: version,
                missing: v,
            });
        };
        for g in &record.after {
            grids.remove(&g.code);
        }
        for g in &record.before {
            grids.insert(g.code.clone(), g.clone());
        }
    }
    Ok(grids.into_values().collect())
}
