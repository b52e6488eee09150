//! Writing a [`ChangeSet`] in one immediate transaction.

use std::collections::{BTreeSet, HashSet};

use rusqlite::{params, Connection, Transaction, TransactionBehavior};
use serde_json::{Map, Value};

use super::outside_edits::{CHECKED_KEY, WRITING_KEY};
use super::wkb::{self, Envelope};
use crate::history::ChangeRecord;
use crate::model::{ChangeSet, GridWriteMode};
use crate::store::StoreError;

fn invalid(table: &str, key: String, reason: String) -> StoreError {
    StoreError::Corrupt {
        table: table.to_string(),
        key,
        reason: format!("in the change set: {reason}"),
    }
}

fn json(map: &Map<String, Value>) -> String {
    Value::Object(map.clone()).to_string()
}

/// Applies `change` atomically and returns the new data version.
///
/// The transaction is `IMMEDIATE` so a concurrent writer waits (busy timeout)
/// instead of failing halfway; on any error the [`Transaction`] is dropped,
/// which rolls back everything.
pub(crate) fn apply(
    conn: &mut Connection,
    change: &ChangeSet,
    record: Option<&ChangeRecord>,
) -> Result<u64, StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    // Checked under the write lock, so no other writer can slip in between.
    let current = super::read::data_version(&tx)?;
    if let Some(base) = change.base_version {
        if base != current {
            return Err(StoreError::StaleBase { base, current });
        }
    }
    let content_checked = super::read::checked_version(&tx)? == current;
    // Our rows are not outside edits: the triggers see this key and stay quiet.
    tx.execute(
        "INSERT OR REPLACE INTO gridmap_meta (key, value) VALUES (?1, '1')",
        [WRITING_KEY],
    )?;
    let mut touched: BTreeSet<&str> = BTreeSet::new();
    if !change.grids.is_empty() {
        write_grids(&tx, change)?;
        touched.extend(["grid_systems", "grids"]);
    }
    if !change.workers.is_empty()
        || !change.worker_systems.is_empty()
        || !change.delete_workers.is_empty()
        || change.grids.iter().any(|sg| !sg.delete.is_empty())
    {
        write_workers(&tx, change)?;
        touched.extend(["workers", "worker_grids"]);
    }
    if !change.sites.is_empty()
        || !change.replace_site_kinds.is_empty()
        || !change.delete_sites.is_empty()
    {
        write_sites(&tx, change)?;
        touched.insert("sites");
    }
    for table in touched {
        update_contents(&tx, table)?;
    }
    tx.execute(
        "UPDATE gridmap_meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'data_version'",
        [],
    )?;
    let version = super::read::data_version(&tx)?;
    super::editing::record_history(&tx, version, change, record)?;
    tx.execute("DELETE FROM gridmap_meta WHERE key = ?1", [WRITING_KEY])?;
    // A validated change on top of checked content leaves checked content;
    // on top of an unchecked outside edit it vouches for nothing more.
    if content_checked {
        set_checked(&tx, version)?;
    }
    #[cfg(test)]
    super::tests::crash_hook();
    tx.commit()?;
    Ok(version)
}

fn set_checked(conn: &Connection, version: u64) -> Result<(), StoreError> {
    conn.execute(
        "INSERT OR REPLACE INTO gridmap_meta (key, value) VALUES (?1, ?2)",
        params![CHECKED_KEY, version.to_string()],
    )?;
    Ok(())
}

/// Records that `version`'s whole content passed the change rules, if the
/// store is still at that version; returns whether it was recorded.
pub(crate) fn mark_checked(conn: &Connection, version: u64) -> Result<bool, StoreError> {
    let tx = conn.unchecked_transaction()?;
    if super::read::data_version(&tx)? != version {
        return Ok(false);
    }
    set_checked(&tx, version)?;
    tx.commit()?;
    Ok(true)
}

fn write_grids(tx: &Transaction, change: &ChangeSet) -> Result<(), StoreError> {
    let mut upsert_system = tx.prepare_cached(
        "INSERT INTO grid_systems (name, levels) VALUES (?1, ?2)
         ON CONFLICT (name) DO UPDATE SET levels = excluded.levels",
    )?;
    let mut delete_grids = tx.prepare_cached("DELETE FROM grids WHERE system = ?1")?;
    let mut delete_grid = tx.prepare_cached("DELETE FROM grids WHERE system = ?1 AND code = ?2")?;
    // UPDATE, then INSERT when nothing was there — not an UPSERT: the outer
    // statement's conflict policy overrides the `INSERT OR REPLACE` of the
    // R-tree triggers (ours and GDAL's), so an UPSERT that updates fails on
    // the index's unique id.
    let mut update_grid = tx.prepare_cached(
        "UPDATE grids SET geom = ?1, name = ?4, level = ?5, depth = ?6, parent = ?7, attributes = ?8
         WHERE system = ?2 AND code = ?3",
    )?;
    let mut insert_grid = tx.prepare_cached(
        "INSERT INTO grids (geom, system, code, name, level, depth, parent, attributes)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?;
    let mut systems_seen = HashSet::new();
    for sg in &change.grids {
        let system = &sg.system;
        if !systems_seen.insert(system.name.as_str()) {
            return Err(invalid(
                "grid_systems",
                system.name.clone(),
                "system listed twice".into(),
            ));
        }
        let levels = serde_json::to_string(&system.levels).expect("a list of strings serialises");
        upsert_system.execute(params![system.name, levels])?;
        if sg.mode == GridWriteMode::Replace {
            delete_grids.execute([&system.name])?;
        }
        for code in &sg.delete {
            delete_grid.execute(params![system.name, code])?;
        }
        // A duplicate code would silently overwrite its twin: reject it instead.
        let mut codes = HashSet::with_capacity(sg.grids.len());
        for (i, grid) in sg.grids.iter().enumerate() {
            let key = || format!("system {}, grid #{} code {}", system.name, i, grid.code);
            if !codes.insert(grid.code.as_str()) {
                return Err(invalid("grids", key(), "duplicate grid code".into()));
            }
            let depth = system.depth_of(&grid.level).ok_or_else(|| {
                invalid(
                    "grids",
                    key(),
                    format!(
                        "level `{}` is not one of the system's levels {:?}",
                        grid.level, system.levels
                    ),
                )
            })?;
            let row = params![
                wkb::encode_multipolygon(&grid.geometry),
                system.name,
                grid.code,
                grid.name,
                grid.level,
                depth as i64,
                grid.parent,
                json(&grid.attributes),
            ];
            // After a replace the system is empty: only inserts are left to do.
            if sg.mode == GridWriteMode::Replace || update_grid.execute(row)? == 0 {
                insert_grid.execute(row)?;
            }
        }
    }
    Ok(())
}

fn write_workers(tx: &Transaction, change: &ChangeSet) -> Result<(), StoreError> {
    let mut upsert_worker = tx.prepare_cached(
        "INSERT INTO workers (id, name, phone, role, photo, duties) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, phone = excluded.phone,
           role = excluded.role, photo = excluded.photo, duties = excluded.duties",
    )?;
    let mut clear =
        tx.prepare_cached("DELETE FROM worker_grids WHERE worker_id = ?1 AND system = ?2")?;
    let mut insert_grid = tx.prepare_cached(
        "INSERT INTO worker_grids (worker_id, system, code, share) VALUES (?1, ?2, ?3, ?4)",
    )?;
    // A deleted grid takes its workers' assignments with it.
    let mut unassign =
        tx.prepare_cached("DELETE FROM worker_grids WHERE system = ?1 AND code = ?2")?;
    for sg in &change.grids {
        for code in &sg.delete {
            unassign.execute(params![sg.system.name, code])?;
        }
    }
    let mut delete_assignments =
        tx.prepare_cached("DELETE FROM worker_grids WHERE worker_id = ?1")?;
    let mut delete_worker = tx.prepare_cached("DELETE FROM workers WHERE id = ?1")?;
    for id in &change.delete_workers {
        delete_assignments.execute([id])?;
        delete_worker.execute([id])?;
    }
    let mut ids = HashSet::with_capacity(change.workers.len());
    for (i, w) in change.workers.iter().enumerate() {
        if !ids.insert(w.id.as_str()) {
            return Err(invalid(
                "workers",
                format!("worker #{i} id {}", w.id),
                "duplicate worker id".into(),
            ));
        }
        upsert_worker.execute(params![w.id, w.name, w.phone, w.role, w.photo, w.duties])?;
        let systems: BTreeSet<&str> = change
            .worker_systems
            .iter()
            .map(String::as_str)
            .chain(w.grids.iter().map(|g| g.system.as_str()))
            .collect();
        for system in systems {
            clear.execute(params![w.id, system])?;
        }
        for g in &w.grids {
            insert_grid.execute(params![w.id, g.system, g.code, g.share])?;
        }
    }
    Ok(())
}

fn write_sites(tx: &Transaction, change: &ChangeSet) -> Result<(), StoreError> {
    let mut delete_kind = tx.prepare_cached("DELETE FROM sites WHERE kind = ?1")?;
    for kind in &change.replace_site_kinds {
        delete_kind.execute([kind])?;
    }
    let mut delete_site =
        tx.prepare_cached("DELETE FROM sites WHERE kind = ?1 AND site_id = ?2")?;
    for (kind, id) in &change.delete_sites {
        delete_site.execute(params![kind, id])?;
    }
    // UPDATE, then INSERT: see `write_grids` for why not an UPSERT.
    let mut update_site = tx.prepare_cached(
        "UPDATE sites SET geom = ?1, name = ?4, address = ?5, households = ?6, attributes = ?7
         WHERE kind = ?2 AND site_id = ?3",
    )?;
    let mut insert_site = tx.prepare_cached(
        "INSERT INTO sites (geom, kind, site_id, name, address, households, attributes)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    let replaced: HashSet<&str> = change
        .replace_site_kinds
        .iter()
        .map(String::as_str)
        .collect();
    let mut keys = HashSet::with_capacity(change.sites.len());
    for (i, s) in change.sites.iter().enumerate() {
        if !keys.insert((s.kind.as_str(), s.id.as_str())) {
            return Err(invalid(
                "sites",
                format!("site #{i} {}/{}", s.kind, s.id),
                "duplicate site id".into(),
            ));
        }
        let row = params![
            wkb::encode_point(&s.location),
            s.kind,
            s.id,
            s.name,
            s.address,
            s.households,
            json(&s.attributes),
        ];
        // A replaced kind is empty now: only inserts are left to do.
        if replaced.contains(s.kind.as_str()) || update_site.execute(row)? == 0 {
            insert_site.execute(row)?;
        }
    }
    Ok(())
}

/// Exact extent of a feature table, from the envelopes in the blob headers.
///
/// A rescan (not a running union) because replaced and deleted rows can shrink it.
pub(crate) fn table_extent(conn: &Connection, table: &str) -> Result<Option<Envelope>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT fid, geom FROM {table} WHERE geom IS NOT NULL"
    ))?;
    let mut rows = stmt.query([])?;
    let mut env = None;
    while let Some(row) = rows.next()? {
        let key = || format!("fid {}", row.get::<_, i64>(0).unwrap_or_default());
        let blob = row.get_ref(1)?.as_blob().map_err(|e| StoreError::Corrupt {
            table: table.to_string(),
            key: key(),
            reason: format!("geometry is not a blob: {e}"),
        })?;
        let e = wkb::blob_envelope(blob).map_err(|reason| StoreError::Corrupt {
            table: table.to_string(),
            key: key(),
            reason,
        })?;
        if let Some(e) = e {
            wkb::union(&mut env, e);
        }
    }
    Ok(env)
}

fn update_contents(tx: &Transaction, table: &str) -> Result<(), StoreError> {
    let now = "strftime('%Y-%m-%dT%H:%M:%fZ','now')";
    if matches!(table, "grids" | "sites") {
        let env = table_extent(tx, table)?;
        let mut stmt = tx.prepare_cached(&format!(
            "UPDATE gpkg_contents SET last_change = {now}, min_x = ?1, max_x = ?2, min_y = ?3, max_y = ?4
             WHERE table_name = ?5"
        ))?;
        stmt.execute(params![
            env.map(|e| e[0]),
            env.map(|e| e[1]),
            env.map(|e| e[2]),
            env.map(|e| e[3]),
            table
        ])?;
    } else {
        let mut stmt = tx.prepare_cached(&format!(
            "UPDATE gpkg_contents SET last_change = {now} WHERE table_name = ?1"
        ))?;
        stmt.execute([table])?;
    }
    Ok(())
}
