//! GeoPackage 1.3 core tables, gridmap tables and the migration list.
//!
//! A migration is one SQL batch; [`MIGRATIONS`]`[i]` brings the schema from
//! version `i` to `i + 1`. Later changes are new entries appended to the list,
//! never edits of old ones: files already in the field ran them.

use rusqlite::{Connection, OptionalExtension, TransactionBehavior};

use crate::store::StoreError;

/// `PRAGMA application_id` of a GeoPackage: ASCII "GPKG".
pub const APPLICATION_ID: i32 = 0x4750_4B47;
/// `PRAGMA user_version` of GeoPackage 1.3.0.
pub const USER_VERSION: i32 = 10300;

/// The WKT of EPSG:4326 as GDAL writes it into `gpkg_spatial_ref_sys`.
pub const WGS84_WKT: &str = r#"GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563,AUTHORITY["EPSG","7030"]],AUTHORITY["EPSG","6326"]],PRIMEM["Greenwich",0,AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]],AXIS["Latitude",NORTH],AXIS["Longitude",EAST],AUTHORITY["EPSG","4326"]]"#;

/// The GeoPackage core tables (spatial reference systems with the three
/// required rows, contents, geometry columns), `{WGS84_WKT}` standing for
/// [`WGS84_WKT`]. Shared by the store and by GeoPackage exports.
const CORE: &str = r#"
CREATE TABLE IF NOT EXISTS gpkg_spatial_ref_sys (
  srs_name TEXT NOT NULL,
  srs_id INTEGER PRIMARY KEY,
  organization TEXT NOT NULL,
  organization_coordsys_id INTEGER NOT NULL,
  definition TEXT NOT NULL,
  description TEXT
);
INSERT OR IGNORE INTO gpkg_spatial_ref_sys VALUES
  ('Undefined cartesian SRS', -1, 'NONE', -1, 'undefined', 'undefined cartesian coordinate reference system'),
  ('Undefined geographic SRS', 0, 'NONE', 0, 'undefined', 'undefined geographic coordinate reference system'),
  ('WGS 84 geodetic', 4326, 'EPSG', 4326, '{WGS84_WKT}', 'longitude/latitude coordinates in decimal degrees on the WGS 84 spheroid');

CREATE TABLE IF NOT EXISTS gpkg_contents (
  table_name TEXT NOT NULL PRIMARY KEY,
  data_type TEXT NOT NULL,
  identifier TEXT UNIQUE,
  description TEXT DEFAULT '',
  last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
  min_x DOUBLE,
  min_y DOUBLE,
  max_x DOUBLE,
  max_y DOUBLE,
  srs_id INTEGER,
  CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id)
);

CREATE TABLE IF NOT EXISTS gpkg_geometry_columns (
  table_name TEXT NOT NULL,
  column_name TEXT NOT NULL,
  geometry_type_name TEXT NOT NULL,
  srs_id INTEGER NOT NULL,
  z TINYINT NOT NULL,
  m TINYINT NOT NULL,
  CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name),
  CONSTRAINT uk_gc_table_name UNIQUE (table_name),
  CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),
  CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id)
);

"#;

/// The GeoPackage core tables as SQL, ready to run on an empty database.
pub(crate) fn core_tables() -> String {
    CORE.replace("{WGS84_WKT}", WGS84_WKT)
}

/// Version 0 -> 1: GeoPackage core tables and the gridmap tables.
///
/// Core tables use `IF NOT EXISTS` so that an existing GeoPackage (e.g. made by
/// QGIS) can be opened and gets the gridmap tables added. Attribute tables carry
/// an `fid INTEGER PRIMARY KEY AUTOINCREMENT` (GeoPackage requirement 119, and
/// GDAL needs an integer key) with the natural key as `UNIQUE`.
const V1: &str = r#"
{CORE}CREATE TABLE gridmap_meta (
  key TEXT PRIMARY KEY,
  value TEXT
);
INSERT INTO gridmap_meta (key, value) VALUES ('schema_version', '0'), ('data_version', '0');

CREATE TABLE grids (
  fid INTEGER PRIMARY KEY AUTOINCREMENT,
  geom MULTIPOLYGON,
  system TEXT NOT NULL,
  code TEXT NOT NULL,
  name TEXT NOT NULL,
  level TEXT NOT NULL,
  depth INTEGER NOT NULL,
  parent TEXT,
  attributes TEXT NOT NULL,
  UNIQUE (system, code)
);
CREATE INDEX grids_system_parent ON grids (system, parent);
CREATE INDEX grids_system_depth ON grids (system, depth);

CREATE TABLE sites (
  fid INTEGER PRIMARY KEY AUTOINCREMENT,
  geom POINT,
  kind TEXT NOT NULL,
  site_id TEXT NOT NULL,
  name TEXT NOT NULL,
  address TEXT,
  households INTEGER,
  attributes TEXT NOT NULL,
  UNIQUE (kind, site_id)
);

CREATE TABLE grid_systems (
  fid INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL UNIQUE,
  levels TEXT NOT NULL
);

CREATE TABLE workers (
  fid INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  phone TEXT NOT NULL,
  role TEXT NOT NULL,
  photo TEXT NOT NULL,
  duties TEXT NOT NULL
);

CREATE TABLE worker_grids (
  fid INTEGER PRIMARY KEY AUTOINCREMENT,
  worker_id TEXT NOT NULL REFERENCES workers(id) ON DELETE CASCADE,
  system TEXT NOT NULL,
  code TEXT NOT NULL,
  share REAL NOT NULL,
  UNIQUE (worker_id, system, code)
);
CREATE INDEX worker_grids_system_code ON worker_grids (system, code);

INSERT INTO gpkg_contents (table_name, data_type, identifier, description, srs_id) VALUES
  ('grids', 'features', 'grids', 'Grids (网格) of all grid systems', 4326),
  ('sites', 'features', 'sites', 'Registered points: addresses, enterprises, risk sites', 4326),
  ('grid_systems', 'attributes', 'grid_systems', 'Grid systems and their level names (JSON array)', NULL),
  ('workers', 'attributes', 'workers', 'Grid workers', NULL),
  ('worker_grids', 'attributes', 'worker_grids', 'Grid assignments of workers', NULL);
INSERT INTO gpkg_geometry_columns (table_name, column_name, geometry_type_name, srs_id, z, m) VALUES
  ('grids', 'geom', 'MULTIPOLYGON', 4326, 0, 0),
  ('sites', 'geom', 'POINT', 4326, 0, 0);
"#;

/// Ordered schema migrations; append new steps, never edit old ones.
pub fn migrations() -> Vec<String> {
    vec![
        V1.replace("{CORE}", CORE).replace("{WGS84_WKT}", WGS84_WKT),
        // 1 -> 2: the GeoPackage R-tree spatial index on grids and sites.
        super::spatial_index::migration(),
        // 2 -> 3: writes by other programs raise the data version.
        super::outside_edits::migration(),
        // 3 -> 4: accounts, audit, proposals and history.
        super::editing::MIGRATION.to_string(),
    ]
}

/// The schema version this build writes.
pub fn supported_version() -> i64 {
    migrations().len() as i64
}

fn table_exists(conn: &Connection, name: &str) -> rusqlite::Result<bool> {
    conn.query_row(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1",
        [name],
        |_| Ok(()),
    )
    .optional()
    .map(|r| r.is_some())
}

/// The schema version recorded in the file (0 for a file without gridmap tables).
pub fn current_version(conn: &Connection) -> Result<i64, StoreError> {
    if !table_exists(conn, "gridmap_meta")? {
        return Ok(0);
    }
    let value: Option<String> = conn
        .query_row(
            "SELECT value FROM gridmap_meta WHERE key = 'schema_version'",
            [],
            |r| r.get(0),
        )
        .optional()?
        .flatten();
    let value = value.unwrap_or_else(|| "0".into());
    value.trim().parse().map_err(|_| StoreError::Corrupt {
        table: "gridmap_meta".into(),
        key: "schema_version".into(),
        reason: format!("not an integer: `{value}`"),
    })
}

/// Sets the GeoPackage header pragmas and applies the missing migrations, all in one transaction.
pub fn migrate(conn: &mut Connection, path: &str) -> Result<(), StoreError> {
    let open_err = |reason: String| StoreError::Open {
        path: path.to_string(),
        reason,
    };
    // The R-tree migration fills the index through the GeoPackage functions.
    super::functions::register(conn)?;
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let app_id: i32 = tx.query_row("PRAGMA application_id", [], |r| r.get(0))?;
    if app_id != 0 && app_id != APPLICATION_ID {
        return Err(open_err(format!(
            "not a GeoPackage (application_id {app_id:#010x})"
        )));
    }
    if app_id == 0 {
        tx.pragma_update(None, "application_id", APPLICATION_ID)?;
    }
    let user_version: i32 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if user_version < USER_VERSION {
        tx.pragma_update(None, "user_version", USER_VERSION)?;
    }

    let found = current_version(&tx)?;
    let steps = migrations();
    let supported = steps.len() as i64;
    if found > supported {
        return Err(StoreError::SchemaTooNew { found, supported });
    }
    for (i, sql) in steps.iter().enumerate().skip(found as usize) {
        tx.execute_batch(sql)
            .map_err(|e| open_err(format!("schema migration {} -> {} failed: {e}", i, i + 1)))?;
        tx.execute(
            "UPDATE gridmap_meta SET value = ?1 WHERE key = 'schema_version'",
            [(i + 1).to_string()],
        )?;
    }
    tx.commit()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrates_a_fresh_database_once() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn, ":memory:").unwrap();
        assert_eq!(current_version(&conn).unwrap(), supported_version());
        // A second run applies nothing (it would fail on CREATE TABLE grids otherwise).
        migrate(&mut conn, ":memory:").unwrap();
        let app: i32 = conn
            .query_row("PRAGMA application_id", [], |r| r.get(0))
            .unwrap();
        assert_eq!(app, 0x47504B47);
        let srs: String = conn
            .query_row(
                "SELECT definition FROM gpkg_spatial_ref_sys WHERE srs_id = 4326",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(srs, WGS84_WKT);
    }

    #[test]
    fn refuses_newer_schema_and_foreign_databases() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn, "x").unwrap();
        conn.execute(
            "UPDATE gridmap_meta SET value = '99' WHERE key = 'schema_version'",
            [],
        )
        .unwrap();
        match migrate(&mut conn, "x") {
            Err(StoreError::SchemaTooNew {
                found: 99,
                supported,
            }) => assert_eq!(supported, supported_version()),
            other => panic!("expected SchemaTooNew, got {other:?}"),
        }

        let mut other = Connection::open_in_memory().unwrap();
        other
            .pragma_update(None, "application_id", 0x4D504258)
            .unwrap(); // MBTiles
        let err = migrate(&mut other, "tiles.mbtiles")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("tiles.mbtiles") && err.contains("not a GeoPackage"),
            "{err}"
        );
    }
}
