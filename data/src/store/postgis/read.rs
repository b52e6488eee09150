//! Reading grids, workers and sites back into the model.

use serde_json::{Map, Value};
use tokio_postgres::{Client, GenericClient, IsolationLevel, Transaction};

use crate::model::{Grid, GridSystem, Site, Worker, WorkerGrid};
use crate::store::{Snapshot, SnapshotParts, StoreError};

pub(crate) fn corrupt(
    table: &str,
    key: impl Into<String>,
    reason: impl Into<String>,
) -> StoreError {
    StoreError::Corrupt {
        table: table.to_string(),
        key: key.into(),
        reason: reason.into(),
    }
}

fn attributes(table: &str, key: &str, value: Value) -> Result<Map<String, Value>, StoreError> {
    match value {
        Value::Object(map) => Ok(map),
        other => Err(corrupt(
            table,
            key,
            format!("attributes are not a JSON object: {other}"),
        )),
    }
}

/// A read-only transaction that sees one committed state for all its queries.
pub(crate) async fn read_tx(client: &mut Client) -> Result<Transaction<'_>, StoreError> {
    Ok(client
        .build_transaction()
        .isolation_level(IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .await?)
}

/// A counter of `gridmap_meta` (`data_version`, `checked_version`).
pub(crate) async fn meta<C: GenericClient + Sync>(c: &C, key: &str) -> Result<u64, StoreError> {
    let row = c
        .query_opt("SELECT value FROM gridmap_meta WHERE key = $1", &[&key])
        .await?
        .ok_or_else(|| corrupt("gridmap_meta", key, "missing"))?;
    let v: i64 = row.get(0);
    u64::try_from(v).map_err(|_| corrupt("gridmap_meta", key, format!("negative: {v}")))
}

pub(crate) async fn systems<C: GenericClient + Sync>(c: &C) -> Result<Vec<GridSystem>, StoreError> {
    let rows = c
        .query("SELECT name, levels FROM grid_systems ORDER BY name", &[])
        .await?;
    rows.iter()
        .map(|r| {
            let name: String = r.get(0);
            let levels: Value = r.get(1);
            let levels: Vec<String> = serde_json::from_value(levels).map_err(|e| {
                corrupt(
                    "grid_systems",
                    &name,
                    format!("levels are not a JSON array of names: {e}"),
                )
            })?;
            Ok(GridSystem { name, levels })
        })
        .collect()
}

pub(crate) async fn grids<C: GenericClient + Sync>(
    c: &C,
    system: &str,
) -> Result<Vec<Grid>, StoreError> {
    if c.query_opt("SELECT 1 FROM grid_systems WHERE name = $1", &[&system])
        .await?
        .is_none()
    {
        return Err(StoreError::UnknownSystem(system.to_string()));
    }
    let rows = c
        .query(
            "SELECT code, name, level, parent, attributes, ST_AsBinary(geom) FROM grids
             WHERE system = $1 ORDER BY depth, code",
            &[&system],
        )
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let code: String = row.get(0);
        let key = format!("{system}/{code}");
        let geometry = match row.get::<_, Option<&[u8]>>(5) {
            Some(b) => super::decode_multipolygon(b).map_err(|r| corrupt("grids", &key, r))?,
            None => geo_types::MultiPolygon(Vec::new()),
        };
        out.push(Grid {
            attributes: attributes("grids", &key, row.get(4))?,
            code,
            name: row.get(1),
            level: row.get(2),
            parent: row.get(3),
            geometry,
        });
    }
    Ok(out)
}

pub(crate) async fn workers<C: GenericClient + Sync>(c: &C) -> Result<Vec<Worker>, StoreError> {
    let mut out: Vec<Worker> = c
        .query(
            "SELECT id, name, phone, role, photo, duties FROM workers ORDER BY id",
            &[],
        )
        .await?
        .iter()
        .map(|r| Worker {
            id: r.get(0),
            name: r.get(1),
            phone: r.get(2),
            role: r.get(3),
            photo: r.get(4),
            duties: r.get(5),
            grids: Vec::new(),
        })
        .collect();
    // Same order as workers, then insertion order, so assignments read back as written.
    let rows = c
        .query(
            "SELECT worker_id, system, code, share FROM worker_grids ORDER BY worker_id, fid",
            &[],
        )
        .await?;
    let mut i = 0;
    for row in rows {
        let worker_id: String = row.get(0);
        while i < out.len() && out[i].id < worker_id {
            i += 1;
        }
        match out.get_mut(i) {
            Some(w) if w.id == worker_id => w.grids.push(WorkerGrid {
                system: row.get(1),
                code: row.get(2),
                share: row.get(3),
            }),
            // The foreign key makes this impossible unless someone dropped it.
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

pub(crate) async fn sites<C: GenericClient + Sync>(
    c: &C,
    kind: Option<&str>,
) -> Result<Vec<Site>, StoreError> {
    let rows = c
        .query(
            "SELECT kind, site_id, name, address, households, attributes, ST_AsBinary(geom) FROM sites
             WHERE $1::text IS NULL OR kind = $1 ORDER BY kind, site_id",
            &[&kind],
        )
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let kind: String = row.get(0);
        let id: String = row.get(1);
        let key = format!("{kind}/{id}");
        let location = match row.get::<_, Option<&[u8]>>(6) {
            Some(b) => super::decode_point(b).map_err(|r| corrupt("sites", &key, r))?,
            None => geo_types::Point::new(f64::NAN, f64::NAN),
        };
        let households = match row.get::<_, Option<i64>>(4) {
            None => None,
            Some(n) => Some(
                u32::try_from(n)
                    .map_err(|_| corrupt("sites", &key, format!("households {n} out of range")))?,
            ),
        };
        out.push(Site {
            attributes: attributes("sites", &key, row.get(5))?,
            name: row.get(2),
            address: row.get(3),
            households,
            location,
            kind,
            id,
        });
    }
    Ok(out)
}

/// Everything a catalog needs, in one repeatable-read transaction.
pub(crate) async fn snapshot(
    client: &mut Client,
    parts: SnapshotParts,
) -> Result<Snapshot, StoreError> {
    let tx = read_tx(client).await?;
    let version = meta(&tx, "data_version").await?;
    let mut systems_and_grids = Vec::new();
    for system in systems(&tx).await? {
        let g = grids(&tx, &system.name).await?;
        systems_and_grids.push((system, g));
    }
    let sites = match parts {
        SnapshotParts::All => sites(&tx, None).await?,
        SnapshotParts::GridsAndWorkers => Vec::new(),
    };
    let snapshot = Snapshot {
        version,
        checked: meta(&tx, "checked_version").await? == version,
        systems: systems_and_grids,
        workers: workers(&tx).await?,
        sites,
    };
    tx.commit().await?;
    Ok(snapshot)
}
