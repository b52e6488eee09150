//! The GeoPackage R-tree spatial index extension (GeoPackage 1.3 §F.3) on
//! `grids.geom` and `sites.geom`.
//!
//! An R-tree virtual table `rtree_<table>_<column>` holds each feature's
//! bounding box under its `fid`; the six standard triggers keep it current on
//! every insert, update and delete — whoever writes (gridmap, GDAL, QGIS,
//! sqlite3 with the functions of [`super::functions`]). QGIS and GDAL read
//! bounding-box queries through it instead of scanning every blob, and a
//! store that GDAL indexed stays writable by gridmap because gridmap defines
//! the functions those triggers call.
//!
//! The SQL is the spec's, with the trigger names the GeoPackage validator
//! checks (`_insert`, `_update1` … `_update4`, `_delete`). Everything is
//! `IF NOT EXISTS`: when GDAL built the index first, gridmap keeps GDAL's
//! table and triggers.

/// The tables gridmap indexes: `(table, geometry column, primary key)`.
const INDEXED: [(&str, &str, &str); 2] = [("grids", "geom", "fid"), ("sites", "geom", "fid")];

/// The migration that adds the extension, its registration and the current
/// boxes of every stored feature.
pub(crate) fn migration() -> String {
    let mut sql = String::from(EXTENSIONS_TABLE);
    for (table, column, id) in INDEXED {
        sql.push_str(&index_sql(table, column, id));
    }
    sql
}

/// The `gpkg_extensions` table (GeoPackage 1.3 §2.5), where a file names the
/// extensions it uses.
pub(crate) const EXTENSIONS_TABLE: &str = "CREATE TABLE IF NOT EXISTS gpkg_extensions (
  table_name TEXT,
  column_name TEXT,
  extension_name TEXT NOT NULL,
  definition TEXT NOT NULL,
  scope TEXT NOT NULL,
  CONSTRAINT ge_tce UNIQUE (table_name, column_name, extension_name)
);
";

/// The virtual table, the extension row, the triggers and the initial fill of
/// one index (also used for the feature table of a GeoPackage export; `t`,
/// `c` and `i` are plain identifiers).
pub(crate) fn index_sql(t: &str, c: &str, i: &str) -> String {
    let r = format!("rtree_{t}_{c}");
    let boxed =
        format!("NEW.{i}, ST_MinX(NEW.{c}), ST_MaxX(NEW.{c}), ST_MinY(NEW.{c}), ST_MaxY(NEW.{c})");
    format!(
        "
CREATE VIRTUAL TABLE IF NOT EXISTS {r} USING rtree(id, minx, maxx, miny, maxy);
INSERT OR IGNORE INTO gpkg_extensions (table_name, column_name, extension_name, definition, scope)
  VALUES ('{t}', '{c}', 'gpkg_rtree_index', 'http://www.geopackage.org/spec120/#extension_rtree', 'write-only');
CREATE TRIGGER IF NOT EXISTS {r}_insert AFTER INSERT ON {t}
  WHEN (NEW.{c} NOT NULL AND NOT ST_IsEmpty(NEW.{c}))
BEGIN
  INSERT OR REPLACE INTO {r} VALUES ({boxed});
END;
CREATE TRIGGER IF NOT EXISTS {r}_update1 AFTER UPDATE OF {c} ON {t}
  WHEN OLD.{i} = NEW.{i} AND (NEW.{c} NOTNULL AND NOT ST_IsEmpty(NEW.{c}))
BEGIN
  INSERT OR REPLACE INTO {r} VALUES ({boxed});
END;
CREATE TRIGGER IF NOT EXISTS {r}_update2 AFTER UPDATE OF {c} ON {t}
  WHEN OLD.{i} = NEW.{i} AND (NEW.{c} ISNULL OR ST_IsEmpty(NEW.{c}))
BEGIN
  DELETE FROM {r} WHERE id = OLD.{i};
END;
CREATE TRIGGER IF NOT EXISTS {r}_update3 AFTER UPDATE ON {t}
  WHEN OLD.{i} != NEW.{i} AND (NEW.{c} NOTNULL AND NOT ST_IsEmpty(NEW.{c}))
BEGIN
  DELETE FROM {r} WHERE id = OLD.{i};
  INSERT OR REPLACE INTO {r} VALUES ({boxed});
END;
CREATE TRIGGER IF NOT EXISTS {r}_update4 AFTER UPDATE ON {t}
  WHEN OLD.{i} != NEW.{i} AND (NEW.{c} ISNULL OR ST_IsEmpty(NEW.{c}))
BEGIN
  DELETE FROM {r} WHERE id IN (OLD.{i}, NEW.{i});
END;
CREATE TRIGGER IF NOT EXISTS {r}_delete AFTER DELETE ON {t}
  WHEN OLD.{c} NOT NULL
BEGIN
  DELETE FROM {r} WHERE id = OLD.{i};
END;
INSERT OR REPLACE INTO {r}
  SELECT {i}, ST_MinX({c}), ST_MaxX({c}), ST_MinY({c}), ST_MaxY({c}) FROM {t}
  WHERE {c} NOT NULL AND NOT ST_IsEmpty({c});
"
    )
}

#[cfg(test)]
mod tests {
    use geo_types::{polygon, MultiPolygon, Point};
    use rusqlite::Connection;

    use crate::model::{ChangeSet, Grid, GridSystem, GridWriteMode, Site, SystemGrids};
    use crate::store::gpkg::{schema, GpkgStore};
    use crate::store::GridStore;

    fn square(code: &str, x: f64, y: f64) -> Grid {
        let p = polygon![(x: x, y: y), (x: x + 0.5, y: y), (x: x + 0.5, y: y + 0.25), (x: x, y: y + 0.25)];
        Grid::new(code, "street", None, MultiPolygon(vec![p]))
    }

    fn site(id: &str, x: f64, y: f64) -> Site {
        Site {
            id: id.into(),
            kind: "address".into(),
            name: id.into(),
            address: None,
            households: None,
            location: Point::new(x, y),
            attributes: Default::default(),
        }
    }

    fn grids_change(mode: GridWriteMode, grids: Vec<Grid>) -> ChangeSet {
        ChangeSet {
            grids: vec![SystemGrids {
                system: GridSystem::with_default_levels("综治"),
                mode,
                grids,
                delete: Vec::new(),
            }],
            ..Default::default()
        }
    }

    /// `(code or site id, minx, maxx, miny, maxy)` read through the R-tree.
    fn boxes(conn: &Connection, table: &str, key: &str) -> Vec<(String, f64, f64, f64, f64)> {
        let sql = format!(
            "SELECT t.{key}, r.minx, r.maxx, r.miny, r.maxy FROM rtree_{table}_geom r \
             JOIN {table} t ON t.fid = r.id ORDER BY t.{key}"
        );
        let mut stmt = conn.prepare(&sql).unwrap();
        stmt.query_map([], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })
        .unwrap()
        .map(Result::unwrap)
        .collect()
    }

    /// SQLite's R-tree keeps 32-bit floats rounded outwards: each stored box
    /// must contain the exact one and be at most one float32 step larger.
    fn assert_covers(found: &[(String, f64, f64, f64, f64)], exact: &[(&str, [f64; 4])]) {
        assert_eq!(found.len(), exact.len(), "{found:?}");
        for ((key, minx, maxx, miny, maxy), (want, e)) in found.iter().zip(exact) {
            assert_eq!(key, want);
            let step = |v: f64| f64::from(f32::EPSILON) * v.abs();
            assert!(
                *minx <= e[0] && e[0] - minx <= step(e[0]),
                "{key} minx {minx}"
            );
            assert!(
                *maxx >= e[1] && maxx - e[1] <= step(e[1]),
                "{key} maxx {maxx}"
            );
            assert!(
                *miny <= e[2] && e[2] - miny <= step(e[2]),
                "{key} miny {miny}"
            );
            assert!(
                *maxy >= e[3] && maxy - e[3] <= step(e[3]),
                "{key} maxy {maxy}"
            );
        }
    }

    fn count(conn: &Connection, sql: &str) -> i64 {
        conn.query_row(sql, [], |r| r.get(0)).unwrap()
    }

    #[test]
    fn every_write_keeps_the_index_equal_to_the_features() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("i.gpkg");
        let store = GpkgStore::open(&path).unwrap();
        let mut change = grids_change(
            GridWriteMode::Replace,
            vec![square("A", 120.0, 30.0), square("B", 121.0, 29.0)],
        );
        change.sites = vec![site("s1", 120.1, 30.1)];
        store.apply(&change).unwrap();
        // Replacing the system moves A, drops B, adds C: the index follows.
        store
            .apply(&grids_change(
                GridWriteMode::Replace,
                vec![square("A", 122.0, 31.0), square("C", 119.0, 28.0)],
            ))
            .unwrap();
        drop(store);
        let conn = Connection::open(&path).unwrap();
        assert_covers(
            &boxes(&conn, "grids", "code"),
            &[
                ("A", [122.0, 122.5, 31.0, 31.25]),
                ("C", [119.0, 119.5, 28.0, 28.25]),
            ],
        );
        assert_covers(
            &boxes(&conn, "sites", "site_id"),
            &[("s1", [120.1, 120.1, 30.1, 30.1])],
        );
        assert_eq!(count(&conn, "SELECT count(*) FROM rtree_grids_geom"), 2);
        assert_eq!(
            count(
                &conn,
                "SELECT count(*) FROM gpkg_extensions WHERE extension_name = 'gpkg_rtree_index'"
            ),
            2
        );
        // A bounding-box query through the index finds just the grid there.
        let hit: String = conn
            .query_row(
                "SELECT code FROM grids WHERE fid IN (SELECT id FROM rtree_grids_geom \
                 WHERE minx <= 119.2 AND maxx >= 119.2 AND miny <= 28.1 AND maxy >= 28.1)",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(hit, "C");
    }

    #[test]
    fn a_store_written_before_the_index_gets_it_filled_on_open() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.gpkg");
        {
            // The file as an earlier gridmap left it: schema version 1, one grid.
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch(&schema::migrations()[0]).unwrap();
            conn.execute(
                "UPDATE gridmap_meta SET value = '1' WHERE key = 'schema_version'",
                [],
            )
            .unwrap();
            conn.execute(
                "INSERT INTO grids (geom, system, code, name, level, depth, parent, attributes) \
                 VALUES (?1, '综治', 'A', 'A', 'street', 0, NULL, '{}')",
                [super::super::wkb::encode_multipolygon(
                    &square("A", 120.0, 30.0).geometry,
                )],
            )
            .unwrap();
        }
        let store = GpkgStore::open(&path).unwrap();
        drop(store);
        let conn = Connection::open(&path).unwrap();
        assert_covers(
            &boxes(&conn, "grids", "code"),
            &[("A", [120.0, 120.5, 30.0, 30.25])],
        );
    }
}
