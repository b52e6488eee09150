//! Judging a whole stored snapshot by the rules a change must pass: what
//! another program (QGIS, ogr2ogr) wrote to the store is served only if it
//! would have been accepted as an import.

use std::collections::{BTreeMap, BTreeSet};

use super::validate::{validate, Problems, ValidateOptions};
use super::{ChangeSet, SystemGrids};
use crate::catalog::Catalog;
use crate::store::{GridStore, Snapshot, SnapshotParts, StoreError};

/// Why [`load_checked`] gave no catalog.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CheckedLoadError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Another program wrote content that breaks the change rules.
    #[error(
        "data version {version} holds edits made outside gridmap that break its rules \
         (fix them in the program that made them, or re-import):{}",
        lines(.problems)
    )]
    Refused { version: u64, problems: Problems },
}

fn lines(problems: &Problems) -> String {
    problems.0.iter().map(|p| format!("\n  {p}")).collect()
}

/// Reads a snapshot and builds its catalog, validating it first when another
/// program wrote to the store since gridmap last vouched for its content; a
/// snapshot that passes is marked checked in the store, so the next load
/// skips the work.
pub fn load_checked(store: &dyn GridStore) -> Result<Catalog, CheckedLoadError> {
    let snapshot = store.snapshot(SnapshotParts::All)?;
    if !snapshot.checked {
        let version = snapshot.version;
        validate_snapshot(&snapshot)
            .map_err(|problems| CheckedLoadError::Refused { version, problems })?;
        tracing::info!(
            data_version = version,
            "edits made outside gridmap passed the change rules"
        );
        store.mark_checked(version)?;
    }
    Ok(Catalog::from_snapshot(snapshot))
}

/// Checks every system, grid, worker and site of `snapshot` as one change
/// replacing everything: tree shape, levels, codes, geometry validity, worker
/// assignments and shares, site locations. The partition rule is not applied,
/// as imports do not apply it (`gridmap check` reports gaps and overlaps).
///
/// ```
/// use gridmap_data::change::validate_snapshot;
/// use gridmap_data::model::{Grid, GridSystem};
/// use gridmap_data::store::Snapshot;
/// use geo_types::{polygon, MultiPolygon};
///
/// let square = MultiPolygon(vec![polygon![(x: 0.0, y: 0.0), (x: 1.0, y: 0.0), (x: 1.0, y: 1.0), (x: 0.0, y: 1.0)]]);
/// let street = Grid::new("001", "street", None, square.clone());
/// let orphan = Grid::new("001001", "community", Some("009"), square);
/// let snapshot = Snapshot {
///     version: 3,
///     checked: false,
///     systems: vec![(GridSystem::with_default_levels("综治"), vec![street, orphan])],
///     workers: vec![],
///     sites: vec![],
/// };
/// let problems = validate_snapshot(&snapshot).unwrap_err();
/// assert!(problems.0.iter().any(|p| p.key.as_deref() == Some("001001")));
/// ```
pub fn validate_snapshot(snapshot: &Snapshot) -> Result<(), Problems> {
    let nothing = Catalog::from_parts(snapshot.version, BTreeMap::new(), Vec::new());
    let kinds: BTreeSet<&str> = snapshot.sites.iter().map(|s| s.kind.as_str()).collect();
    let change = ChangeSet {
        base_version: None,
        grids: snapshot
            .systems
            .iter()
            .map(|(system, grids)| SystemGrids::replace(system.clone(), grids.clone()))
            .collect(),
        workers: snapshot.workers.clone(),
        worker_systems: snapshot
            .systems
            .iter()
            .map(|(s, _)| s.name.clone())
            .collect(),
        sites: snapshot.sites.clone(),
        replace_site_kinds: kinds.into_iter().map(str::to_string).collect(),
        ..Default::default()
    };
    let opts = ValidateOptions {
        check_geometry: true,
        partition_tolerance_m2: None,
        source: "store",
    };
    validate(&change, &nothing, &opts).map(|_| ())
}
