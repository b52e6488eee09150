//! Noticing writes by other programs (QGIS, ogr2ogr, sqlite3).
//!
//! gridmap's own writes go through the change path: validated, then applied
//! with `data_version` raised once. Another program writing to the same file
//! raises nothing by itself, so a server would never see the edit, and nobody
//! would check it. Migration 3 adds, on every gridmap table, triggers that
//! raise `data_version` on any row written *outside* a gridmap transaction:
//! gridmap's writer holds the `writing` key in `gridmap_meta` for the length
//! of its transaction (other connections never see it, SQLite having a single
//! writer), and the triggers fire only when that key is absent.
//!
//! `checked_version` records the last version whose whole content is known
//! to pass the change rules: gridmap's writer advances it with each write made
//! on top of checked content; an outside edit leaves it behind, until a
//! reader validates the snapshot and calls [`super::GpkgStore::mark_checked`].

/// Tables whose rows make up a snapshot.
const WATCHED: [&str; 5] = ["grid_systems", "grids", "workers", "worker_grids", "sites"];

/// The key gridmap's writer holds inside its transaction.
pub(crate) const WRITING_KEY: &str = "writing";
/// The key of the last version known to pass the change rules.
pub(crate) const CHECKED_KEY: &str = "checked_version";

/// Migration 2 -> 3: the triggers, and the stored content counted as checked
/// (it all came through gridmap's change path so far).
pub(crate) fn migration() -> String {
    let mut sql = format!(
        "INSERT OR REPLACE INTO gridmap_meta (key, value)
  SELECT '{CHECKED_KEY}', value FROM gridmap_meta WHERE key = 'data_version';
"
    );
    for table in WATCHED {
        for event in ["INSERT", "UPDATE", "DELETE"] {
            let name = format!("gridmap_outside_{table}_{}", event.to_lowercase());
            sql.push_str(&format!(
                "CREATE TRIGGER IF NOT EXISTS {name} AFTER {event} ON {table}
  WHEN NOT EXISTS (SELECT 1 FROM gridmap_meta WHERE key = '{WRITING_KEY}')
BEGIN
  UPDATE gridmap_meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'data_version';
END;
"
            ));
        }
    }
    sql
}

#[cfg(test)]
mod tests {
    use geo_types::{polygon, MultiPolygon};
    use rusqlite::Connection;

    use crate::model::{ChangeSet, Grid, GridSystem, SystemGrids};
    use crate::store::gpkg::GpkgStore;
    use crate::store::{GridStore, SnapshotParts};

    fn street(code: &str) -> Grid {
        let p = polygon![(x: 120.0, y: 30.0), (x: 120.5, y: 30.0), (x: 120.5, y: 30.5), (x: 120.0, y: 30.5)];
        Grid::new(code, "street", None, MultiPolygon(vec![p]))
    }

    fn add(store: &GpkgStore, code: &str) -> u64 {
        store
            .apply(&ChangeSet {
                grids: vec![SystemGrids::merge(
                    GridSystem::with_default_levels("综治"),
                    vec![street(code)],
                )],
                ..Default::default()
            })
            .unwrap()
    }

    fn checked(store: &GpkgStore) -> (u64, bool) {
        let s = store.snapshot(SnapshotParts::GridsAndWorkers).unwrap();
        (s.version, s.checked)
    }

    #[test]
    fn own_writes_raise_the_version_once_and_stay_checked() {
        let dir = tempfile::tempdir().unwrap();
        let store = GpkgStore::open(dir.path().join("s.gpkg")).unwrap();
        assert_eq!(add(&store, "A"), 1);
        assert_eq!(
            add(&store, "B"),
            2,
            "one version per change set, however many rows"
        );
        assert_eq!(checked(&store), (2, true));
    }

    #[test]
    fn an_outside_write_raises_the_version_and_is_unchecked_until_marked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.gpkg");
        let store = GpkgStore::open(&path).unwrap();
        add(&store, "A");
        // Another program renames the grid: a plain connection with the
        // GeoPackage functions (as GDAL, QGIS or SpatiaLite have them; the
        // R-tree triggers of any GeoPackage need them).
        let other = Connection::open(&path).unwrap();
        super::super::functions::register(&other).unwrap();
        other
            .execute("UPDATE grids SET name = 'renamed' WHERE code = 'A'", [])
            .unwrap();
        drop(other);
        let (version, is_checked) = checked(&store);
        assert!(version > 1 && !is_checked);
        // A gridmap write on top vouches only for itself: still unchecked.
        let later = add(&store, "B");
        assert_eq!(checked(&store), (later, false));
        // A stale mark is refused; the current one sticks.
        assert!(!store.mark_checked(version).unwrap());
        assert!(store.mark_checked(later).unwrap());
        assert_eq!(checked(&store), (later, true));
        assert_eq!(store.grids("综治").unwrap()[0].name, "renamed");
    }
}
