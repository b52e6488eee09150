//! Reading grids, workers and sites back into the model.

use rusqlite::{Connection, OptionalExtension, Row};
use serde_json::{Map, Value};

use super::wkb;
use crate::model::{Grid, GridSystem, Site, Worker, WorkerGrid};
use crate::store::{Snapshot, SnapshotParts, StoreError};

fn corrupt(table: &str, key: impl Into<String>, reason: impl Into<String>) -> StoreError {
    StoreError::Corrupt {
        table: table.to_string(),
        key: key.into(),
        reason: reason.into(),
    }
}

fn attributes(table: &str, key: &str, text: &str) -> Result<Map<String, Value>, StoreError> {
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(other) => Err(corrupt(
            table,
            key,
            format!("attributes are not a JSON object: {other}"),
        )),
        Err(e) => Err(corrupt(
            table,
            key,
            format!("attributes are not valid JSON: {e}"),
        )),
    }
}

fn blob<'a>(row: &'a Row, idx: usize) -> rusqlite::Result<Option<&'a [u8]>> {
    row.get_ref(idx)?.as_blob_or_null().map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(idx, rusqlite::types::Type::Blob, Box::new(e))
    })
}

/// The data version recorded in `gridmap_meta`.
pub(crate) fn data_version(conn: &Connection) -> Result<u64, StoreError> {
    let text: Option<String> = conn
        .prepare_cached("SELECT value FROM gridmap_meta WHERE key = 'data_version'")?
        .query_row([], |r| r.get(0))
        .optional()?
        .flatten();
    let text = text.ok_or_else(|| corrupt("gridmap_meta", "data_version", "missing"))?;
    text.trim().parse().map_err(|_| {
        corrupt(
            "gridmap_meta",
            "data_version",
            format!("not a number: `{text}`"),
        )
    })
}

pub(crate) fn systems(conn: &Connection) -> Result<Vec<GridSystem>, StoreError> {
    let mut stmt = conn.prepare_cached("SELECT name, levels FROM grid_systems ORDER BY name")?;
    let mut rows = stmt.query([])?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        let name: String = row.get(0)?;
        let levels: String = row.get(1)?;
        let levels: Vec<String> = serde_json::from_str(&levels).map_err(|e| {
            corrupt(
                "grid_systems",
                &name,
                format!("levels are not a JSON array of names: {e}"),
            )
        })?;
        out.push(GridSystem { name, levels });
    }
    Ok(out)
}

pub(crate) fn grids(conn: &Connection, system: &str) -> Result<Vec<Grid>, StoreError> {
    let known = conn
        .prepare_cached("SELECT 1 FROM grid_systems WHERE name = ?1")?
        .query_row([system], |_| Ok(()))
        .optional()?;
    if known.is_none() {
        return Err(StoreError::UnknownSystem(system.to_string()));
    }
    let mut stmt = conn.prepare_cached(
        "SELECT code, name, level, parent, attributes, geom FROM grids
         WHERE system = ?1 ORDER BY depth, code",
    )?;
    let mut rows = stmt.query([system])?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        let code: String = row.get(0)?;
        let key = format!("{system}/{code}");
        let geometry = match blob(row, 5)? {
            Some(b) => wkb::decode_multipolygon(b).map_err(|r| corrupt("grids", &key, r))?,
            None => geo_types::MultiPolygon(Vec::new()),
        };
        let attrs: String = row.get(4)?;
        out.push(Grid {
            attributes: attributes("grids", &key, &attrs)?,
            code,
            name: row.get(1)?,
            level: row.get(2)?,
            parent: row.get(3)?,
            geometry,
        });
    }
    Ok(out)
}

pub(crate) fn workers(conn: &Connection) -> Result<Vec<Worker>, StoreError> {
    let mut stmt = conn
        .prepare_cached("SELECT id, name, phone, role, photo, duties FROM workers ORDER BY id")?;
    let mut out: Vec<Worker> = stmt
        .query_map([], |r| {
            Ok(Worker {
                id: r.get(0)?,
                name: r.get(1)?,
                phone: r.get(2)?,
                role: r.get(3)?,
                photo: r.get(4)?,
                duties: r.get(5)?,
                grids: Vec::new(),
            })
        })?
        .collect::<Result<_, _>>()?;
    // Same order as workers, then insertion order, so assignments read back as written.
    let mut stmt = conn.prepare_cached(
        "SELECT worker_id, system, code, share FROM worker_grids ORDER BY worker_id, fid",
    )?;
    let mut rows = stmt.query([])?;
    let mut i = 0;
    while let Some(row) = rows.next()? {
        let worker_id: String = row.get(0)?;
        while i < out.len() && out[i].id < worker_id {
            i += 1;
        }
        match out.get_mut(i) {
            Some(w) if w.id == worker_id => w.grids.push(WorkerGrid {
                system: row.get(1)?,
                code: row.get(2)?,
                share: row.get(3)?,
            }),
            // Only possible when foreign keys were off for whoever wrote the row.
            _ => {
                return Err(corrupt(
                    "worker_grids",
                    worker_id,
                    "assignment of an unknown worker",
                ))
            }
        }
    }
    Ok(out)
}

pub(crate) fn sites(conn: &Connection, kind: Option<&str>) -> Result<Vec<Site>, StoreError> {
    let sql = "SELECT kind, site_id, name, address, households, attributes, geom FROM sites";
    let mut stmt = match kind {
        Some(_) => conn.prepare_cached(&format!("{sql} WHERE kind = ?1 ORDER BY kind, site_id"))?,
        None => conn.prepare_cached(&format!("{sql} ORDER BY kind, site_id"))?,
    };
    let mut rows = match kind {
        Some(k) => stmt.query([k])?,
        None => stmt.query([])?,
    };
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        let kind: String = row.get(0)?;
        let id: String = row.get(1)?;
        let key = format!("{kind}/{id}");
        let location = match blob(row, 6)? {
            Some(b) => wkb::decode_point(b).map_err(|r| corrupt("sites", &key, r))?,
            None => geo_types::Point::new(f64::NAN, f64::NAN),
        };
        let households = match row.get::<_, Option<i64>>(4)? {
            None => None,
            Some(n) => Some(
                u32::try_from(n)
                    .map_err(|_| corrupt("sites", &key, format!("households {n} out of range")))?,
            ),
        };
        let attrs: String = row.get(5)?;
        out.push(Site {
            attributes: attributes("sites", &key, &attrs)?,
            name: row.get(2)?,
            address: row.get(3)?,
            households,
            location,
            kind,
            id,
        });
    }
    Ok(out)
}

/// The last version whose whole content is known to pass the change rules
/// (see [`super::outside_edits`]).
pub(crate) fn checked_version(conn: &Connection) -> Result<u64, StoreError> {
    let text: Option<String> = conn
        .prepare_cached("SELECT value FROM gridmap_meta WHERE key = 'checked_version'")?
        .query_row([], |r| r.get(0))
        .optional()?
        .flatten();
    let text = text.ok_or_else(|| corrupt("gridmap_meta", "checked_version", "missing"))?;
    text.trim().parse().map_err(|_| {
        corrupt(
            "gridmap_meta",
            "checked_version",
            format!("not a number: `{text}`"),
        )
    })
}

/// Everything a catalog needs, inside the caller's read transaction.
pub(crate) fn snapshot(conn: &Connection, parts: SnapshotParts) -> Result<Snapshot, StoreError> {
    let version = data_version(conn)?;
    let mut systems_and_grids = Vec::new();
    for system in systems(conn)? {
        let g = grids(conn, &system.name)?;
        systems_and_grids.push((system, g));
    }
    let sites = match parts {
        SnapshotParts::All => sites(conn, None)?,
        SnapshotParts::GridsAndWorkers => Vec::new(),
    };
    Ok(Snapshot {
        version,
        checked: checked_version(conn)? == version,
        systems: systems_and_grids,
        workers: workers(conn)?,
        sites,
    })
}
