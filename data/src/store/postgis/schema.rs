//! The PostGIS schema and its migrations, applied when a store opens.
//!
//! [`MIGRATIONS`]`[i]` brings the schema from version `i` to `i + 1`; later
//! changes are new entries, never edits of old ones. Everything lives in the
//! connection's current schema (`search_path`), so one database can hold
//! several stores in separate schemas. Opening runs in one transaction under
//! an advisory lock: two servers starting at once migrate once, and a refusal
//! (another application's tables, a newer schema, no PostGIS) leaves the
//! database as it was.
//!
//! Text keys are `COLLATE "C"`: snapshots are ordered by code and id as
//! bytes, exactly as the GeoPackage backend orders them, whatever the
//! database's locale.

use tokio_postgres::error::SqlState;
use tokio_postgres::Transaction;

use super::connect::Target;
use crate::store::StoreError;

/// Tables whose rows make up a snapshot: writes to them by another program
/// raise the data version (see [`V1`]).
const WATCHED: [&str; 5] = ["grid_systems", "grids", "workers", "worker_grids", "sites"];

/// Version 0 -> 1: the whole schema as of the first PostGIS release.
///
/// `gridmap.writing` is set (transaction-local) by gridmap's own writes; a
/// statement on a watched table without it is an outside edit (psql, QGIS),
/// which raises `data_version` and notifies listeners, while `checked_version`
/// stays behind until the content is validated, as in the GeoPackage backend.
const V1: &str = r#"
CREATE TABLE gridmap_meta (
  key text COLLATE "C" PRIMARY KEY,
  value bigint NOT NULL
);
INSERT INTO gridmap_meta (key, value) VALUES
  ('schema_version', 0), ('data_version', 0), ('checked_version', 0);

CREATE TABLE grid_systems (
  name text COLLATE "C" PRIMARY KEY,
  levels jsonb NOT NULL
);

CREATE TABLE grids (
  fid bigserial PRIMARY KEY,
  system text COLLATE "C" NOT NULL,
  code text COLLATE "C" NOT NULL,
  name text NOT NULL,
  level text NOT NULL,
  depth integer NOT NULL,
  parent text COLLATE "C",
  attributes jsonb NOT NULL,
  geom geometry(MultiPolygon, 4326),
  UNIQUE (system, code)
);
CREATE INDEX grids_system_depth ON grids (system, depth, code);
CREATE INDEX grids_system_parent ON grids (system, parent);
CREATE INDEX grids_geom ON grids USING gist (geom);

CREATE TABLE sites (
  fid bigserial PRIMARY KEY,
  kind text COLLATE "C" NOT NULL,
  site_id text COLLATE "C" NOT NULL,
  name text NOT NULL,
  address text,
  households bigint,
  attributes jsonb NOT NULL,
  geom geometry(Point, 4326),
  UNIQUE (kind, site_id)
);
CREATE INDEX sites_geom ON sites USING gist (geom);

CREATE TABLE workers (
  id text COLLATE "C" PRIMARY KEY,
  name text NOT NULL,
  phone text NOT NULL,
  role text NOT NULL,
  photo text NOT NULL,
  duties text NOT NULL
);

CREATE TABLE worker_grids (
  fid bigserial PRIMARY KEY,
  worker_id text COLLATE "C" NOT NULL REFERENCES workers(id) ON DELETE CASCADE,
  system text COLLATE "C" NOT NULL,
  code text COLLATE "C" NOT NULL,
  share double precision NOT NULL,
  UNIQUE (worker_id, system, code)
);
CREATE INDEX worker_grids_system_code ON worker_grids (system, code);

CREATE TABLE gridmap_accounts (
  name text COLLATE "C" PRIMARY KEY,
  role text NOT NULL,
  token_hash text NOT NULL UNIQUE,
  created timestamptz NOT NULL DEFAULT now(),
  revoked timestamptz
);
CREATE TABLE gridmap_audit (
  id bigserial PRIMARY KEY,
  at timestamptz NOT NULL DEFAULT clock_timestamp(),
  account text NOT NULL,
  action text NOT NULL,
  target text NOT NULL,
  detail text NOT NULL
);
CREATE TABLE gridmap_proposals (
  id bigserial PRIMARY KEY,
  revision bigint NOT NULL,
  system text COLLATE "C" NOT NULL,
  state text COLLATE "C" NOT NULL,
  title text NOT NULL,
  author text NOT NULL,
  base_version bigint NOT NULL,
  created timestamptz NOT NULL DEFAULT clock_timestamp(),
  updated timestamptz NOT NULL DEFAULT clock_timestamp(),
  body json NOT NULL
);
CREATE INDEX gridmap_proposals_system_state ON gridmap_proposals (system, state);
-- `record` is json, not jsonb: kept verbatim, so coordinates come back as written.
CREATE TABLE gridmap_history (
  version bigint PRIMARY KEY,
  at timestamptz NOT NULL DEFAULT clock_timestamp(),
  author text NOT NULL,
  title text NOT NULL,
  kind text NOT NULL,
  systems jsonb NOT NULL,
  record json
);

CREATE FUNCTION gridmap_outside_edit() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE v bigint;
BEGIN
  IF coalesce(current_setting('gridmap.writing', true), '') <> '1' THEN
    UPDATE gridmap_meta SET value = value + 1 WHERE key = 'data_version' RETURNING value INTO v;
    PERFORM pg_notify('gridmap', json_build_object('system', NULL, 'version', v)::text);
  END IF;
  RETURN NULL;
END
$fn$;
"#;

/// Ordered schema migrations; append new steps, never edit old ones.
pub fn migrations() -> Vec<String> {
    let mut v1 = V1.to_string();
    for table in WATCHED {
        v1.push_str(&format!(
            "CREATE TRIGGER gridmap_outside_{table} AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table}
  FOR EACH STATEMENT EXECUTE FUNCTION gridmap_outside_edit();\n"
        ));
    }
    vec![v1]
}

/// The schema version this build writes.
pub fn supported_version() -> i64 {
    migrations().len() as i64
}

/// An arbitrary constant: the advisory lock every opener takes while it
/// checks and migrates the schema.
const MIGRATION_LOCK: i64 = 0x0067_7269_646d_6170; // "gridmap"

/// Checks that the database is gridmap's (or empty), that PostGIS is there
/// (enabling it when allowed), and applies the missing migrations; all in
/// the caller's transaction, which commits only if everything succeeded.
pub(crate) async fn migrate(tx: &Transaction<'_>, target: &Target) -> Result<(), StoreError> {
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .await?;
    let schema: String = tx
        .query_one("SELECT current_schema()::text", &[])
        .await?
        .get(0);
    // Tables of this schema that no extension owns (PostGIS's spatial_ref_sys is one it owns).
    let tables: Vec<String> = tx
        .query(
            "SELECT c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
               AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                               AND d.objid = c.oid AND d.deptype = 'e')
             ORDER BY 1",
            &[],
        )
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
    let ours = tables.iter().any(|t| t == "gridmap_meta");
    if !ours && !tables.is_empty() {
        let shown: Vec<&str> = tables.iter().take(5).map(String::as_str).collect();
        return Err(target.open_error(format!(
            "database `{}` (schema `{schema}`) holds tables of another application ({}{}); give gridmap an empty database of its own",
            target.dbname,
            shown.join(", "),
            if tables.len() > 5 { ", …" } else { "" }
        )));
    }
    ensure_postgis(tx, target).await?;
    let found: i64 = if ours {
        tx.query_opt(
            "SELECT value FROM gridmap_meta WHERE key = 'schema_version'",
            &[],
        )
        .await?
        .map(|r| r.get(0))
        .unwrap_or(0)
    } else {
        0
    };
    let steps = migrations();
    let supported = steps.len() as i64;
    if found > supported {
        return Err(StoreError::SchemaTooNew { found, supported });
    }
    for (i, sql) in steps.iter().enumerate().skip(found as usize) {
        tx.batch_execute(sql).await.map_err(|e| {
            target.open_error(format!("schema migration {} -> {} failed: {e}", i, i + 1))
        })?;
        tx.execute(
            "UPDATE gridmap_meta SET value = $1 WHERE key = 'schema_version'",
            &[&(i as i64 + 1)],
        )
        .await?;
    }
    Ok(())
}

/// PostGIS present, or enabled now; else a message saying who must do what.
async fn ensure_postgis(tx: &Transaction<'_>, target: &Target) -> Result<(), StoreError> {
    let enabled = tx
        .query_opt("SELECT 1 FROM pg_extension WHERE extname = 'postgis'", &[])
        .await?
        .is_some();
    if enabled {
        return Ok(());
    }
    let available = tx
        .query_opt(
            "SELECT 1 FROM pg_available_extensions WHERE name = 'postgis'",
            &[],
        )
        .await?
        .is_some();
    if !available {
        return Err(target.open_error(format!(
            "the PostGIS extension is not installed on the server at {}:{}: install PostGIS for its PostgreSQL (Debian: postgresql-<version>-postgis-3)",
            target.host, target.port
        )));
    }
    // Keep the transaction usable after a refusal, to report it cleanly.
    tx.batch_execute("SAVEPOINT gridmap_postgis").await?;
    match tx.batch_execute("CREATE EXTENSION IF NOT EXISTS postgis").await {
        Ok(()) => Ok(()),
        Err(e) if e.code() == Some(&SqlState::INSUFFICIENT_PRIVILEGE) => {
            Err(target.open_error(format!(
                "PostGIS is not enabled in database `{}` and user `{}` may not enable it: run `CREATE EXTENSION postgis;` in it as its owner or a superuser",
                target.dbname, target.user
            )))
        }
        Err(e) => Err(target.open_error(format!(
            "cannot enable PostGIS in database `{}`: {}",
            target.dbname,
            e.as_db_error().map_or_else(|| e.to_string(), |d| d.message().to_string())
        ))),
    }
}
