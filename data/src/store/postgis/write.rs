//! Writing a [`ChangeSet`] in one transaction.
//!
//! Rows go in batches through `unnest` of array parameters (one statement per
//! few thousand rows instead of one round trip per row), upserting on the
//! natural keys. The change set's duplicates are refused before anything is
//! sent, with the same messages as the GeoPackage backend.

use std::collections::{BTreeSet, HashSet};

use serde_json::Value;
use tokio_postgres::{Client, Transaction};

use crate::history::ChangeRecord;
use crate::model::{ChangeSet, GridWriteMode};
use crate::store::StoreError;

/// Rows per statement: bounds the size of one message to the server.
const BATCH: usize = 2000;

fn invalid(table: &str, key: String, reason: String) -> StoreError {
    StoreError::Corrupt {
        table: table.to_string(),
        key,
        reason: format!("in the change set: {reason}"),
    }
}

/// Refuses what the store would otherwise merge silently: a system listed
/// twice, a grid code, worker id or site key given twice, an unknown level.
fn check(change: &ChangeSet) -> Result<(), StoreError> {
    let mut systems = HashSet::new();
    for sg in &change.grids {
        let system = &sg.system;
        if !systems.insert(system.name.as_str()) {
            return Err(invalid(
                "grid_systems",
                system.name.clone(),
                "system listed twice".into(),
            ));
        }
        let mut codes = HashSet::with_capacity(sg.grids.len());
        for (i, grid) in sg.grids.iter().enumerate() {
            let key = || format!("system {}, grid #{} code {}", system.name, i, grid.code);
            if !codes.insert(grid.code.as_str()) {
                return Err(invalid("grids", key(), "duplicate grid code".into()));
            }
            if system.depth_of(&grid.level).is_none() {
                return Err(invalid(
                    "grids",
                    key(),
                    format!(
                        "level `{}` is not one of the system's levels {:?}",
                        grid.level, system.levels
                    ),
                ));
            }
        }
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
    }
    let mut keys = HashSet::with_capacity(change.sites.len());
    for (i, s) in change.sites.iter().enumerate() {
        if !keys.insert((s.kind.as_str(), s.id.as_str())) {
            return Err(invalid(
                "sites",
                format!("site #{i} {}/{}", s.kind, s.id),
                "duplicate site id".into(),
            ));
        }
    }
    Ok(())
}

/// Applies `change` atomically and returns the new data version.
///
/// The `data_version` row is locked first (`FOR UPDATE`): a second writer
/// waits there, then sees the new version and is refused as stale if its
/// change named the old one. Any error drops the transaction unfinished,
/// which rolls everything back.
pub(crate) async fn apply(
    client: &mut Client,
    change: &ChangeSet,
    record: Option<&ChangeRecord>,
) -> Result<u64, StoreError> {
    check(change)?;
    let tx = client.transaction().await?;
    let current: i64 = tx
        .query_one(
            "SELECT value FROM gridmap_meta WHERE key = 'data_version' FOR UPDATE",
            &[],
        )
        .await?
        .get(0);
    let current = current as u64;
    if let Some(base) = change.base_version {
        if base != current {
            return Err(StoreError::StaleBase { base, current });
        }
    }
    let content_checked = super::read::meta(&tx, "checked_version").await? == current;
    // Our rows are not outside edits: the triggers see this and stay quiet.
    tx.execute("SELECT set_config('gridmap.writing', '1', true)", &[])
        .await?;
    if !change.grids.is_empty() {
        write_grids(&tx, change).await?;
    }
    if !change.workers.is_empty()
        || !change.worker_systems.is_empty()
        || !change.delete_workers.is_empty()
        || change.grids.iter().any(|sg| !sg.delete.is_empty())
    {
        write_workers(&tx, change).await?;
    }
    if !change.sites.is_empty()
        || !change.replace_site_kinds.is_empty()
        || !change.delete_sites.is_empty()
    {
        write_sites(&tx, change).await?;
    }
    let version: i64 = tx
        .query_one(
            "UPDATE gridmap_meta SET value = value + 1 WHERE key = 'data_version' RETURNING value",
            &[],
        )
        .await?
        .get(0);
    let version = version as u64;
    super::editing::record_history(&tx, version, change, record).await?;
    // A validated change on top of checked content leaves checked content;
    // on top of an unchecked outside edit it vouches for nothing more.
    if content_checked {
        set_checked(&tx, version).await?;
    }
    let systems: BTreeSet<&str> = change
        .grids
        .iter()
        .map(|g| g.system.name.as_str())
        .collect();
    let mut payloads: Vec<String> = systems
        .iter()
        .map(|s| serde_json::json!({ "system": s, "version": version }).to_string())
        .collect();
    if payloads.is_empty() {
        payloads.push(serde_json::json!({ "system": null, "version": version }).to_string());
    }
    // Delivered to listeners when (and only if) the transaction commits.
    for payload in &payloads {
        tx.execute("SELECT pg_notify('gridmap', $1)", &[payload])
            .await?;
    }
    tx.commit().await?;
    Ok(version)
}

async fn set_checked(tx: &Transaction<'_>, version: u64) -> Result<(), StoreError> {
    tx.execute(
        "UPDATE gridmap_meta SET value = $1 WHERE key = 'checked_version'",
        &[&(version as i64)],
    )
    .await?;
    Ok(())
}

/// Records that `version`'s whole content passed the change rules, if the
/// store is still at that version; returns whether it was recorded.
pub(crate) async fn mark_checked(client: &Client, version: u64) -> Result<bool, StoreError> {
    let n = client
        .execute(
            "UPDATE gridmap_meta SET value = $1 WHERE key = 'checked_version'
             AND (SELECT value FROM gridmap_meta WHERE key = 'data_version') = $1",
            &[&(version as i64)],
        )
        .await?;
    Ok(n == 1)
}

async fn write_grids(tx: &Transaction<'_>, change: &ChangeSet) -> Result<(), StoreError> {
    let upsert = tx
        .prepare(
            "INSERT INTO grids (system, code, name, level, depth, parent, attributes, geom)
             SELECT $1, u.code, u.name, u.level, u.depth, u.parent, u.attributes, ST_GeomFromWKB(u.wkb, 4326)
             FROM unnest($2::text[], $3::text[], $4::text[], $5::int4[], $6::text[], $7::jsonb[], $8::bytea[])
               WITH ORDINALITY AS u(code, name, level, depth, parent, attributes, wkb, ord)
             ORDER BY u.ord
             ON CONFLICT (system, code) DO UPDATE SET name = excluded.name, level = excluded.level,
               depth = excluded.depth, parent = excluded.parent, attributes = excluded.attributes,
               geom = excluded.geom",
        )
        .await?;
    for sg in &change.grids {
        let system = &sg.system;
        let levels = serde_json::to_value(&system.levels).expect("a list of strings serialises");
        tx.execute(
            "INSERT INTO grid_systems (name, levels) VALUES ($1, $2)
             ON CONFLICT (name) DO UPDATE SET levels = excluded.levels",
            &[&system.name, &levels],
        )
        .await?;
        if sg.mode == GridWriteMode::Replace {
            tx.execute("DELETE FROM grids WHERE system = $1", &[&system.name])
                .await?;
        }
        if !sg.delete.is_empty() {
            tx.execute(
                "DELETE FROM grids WHERE system = $1 AND code = ANY($2)",
                &[&system.name, &sg.delete],
            )
            .await?;
        }
        for batch in sg.grids.chunks(BATCH) {
            let codes: Vec<&str> = batch.iter().map(|g| g.code.as_str()).collect();
            let names: Vec<&str> = batch.iter().map(|g| g.name.as_str()).collect();
            let levels: Vec<&str> = batch.iter().map(|g| g.level.as_str()).collect();
            let depths: Vec<i32> = batch
                .iter()
                .map(|g| system.depth_of(&g.level).expect("checked before") as i32)
                .collect();
            let parents: Vec<Option<&str>> = batch.iter().map(|g| g.parent.as_deref()).collect();
            let attrs: Vec<Value> = batch
                .iter()
                .map(|g| Value::Object(g.attributes.clone()))
                .collect();
            let wkbs: Vec<Vec<u8>> = batch
                .iter()
                .map(|g| super::encode_multipolygon(&g.geometry))
                .collect();
            tx.execute(
                &upsert,
                &[
                    &system.name,
                    &codes,
                    &names,
                    &levels,
                    &depths,
                    &parents,
                    &attrs,
                    &wkbs,
                ],
            )
            .await?;
        }
    }
    Ok(())
}

async fn write_workers(tx: &Transaction<'_>, change: &ChangeSet) -> Result<(), StoreError> {
    // A deleted grid takes its workers' assignments with it.
    for sg in &change.grids {
        if !sg.delete.is_empty() {
            tx.execute(
                "DELETE FROM worker_grids WHERE system = $1 AND code = ANY($2)",
                &[&sg.system.name, &sg.delete],
            )
            .await?;
        }
    }
    if !change.delete_workers.is_empty() {
        // Assignments go with them (ON DELETE CASCADE).
        tx.execute(
            "DELETE FROM workers WHERE id = ANY($1)",
            &[&change.delete_workers],
        )
        .await?;
    }
    for batch in change.workers.chunks(BATCH) {
        let col =
            |f: fn(&crate::model::Worker) -> &str| -> Vec<&str> { batch.iter().map(f).collect() };
        tx.execute(
            "INSERT INTO workers (id, name, phone, role, photo, duties)
             SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[])
             ON CONFLICT (id) DO UPDATE SET name = excluded.name, phone = excluded.phone,
               role = excluded.role, photo = excluded.photo, duties = excluded.duties",
            &[
                &col(|w| &w.id),
                &col(|w| &w.name),
                &col(|w| &w.phone),
                &col(|w| &w.role),
                &col(|w| &w.photo),
                &col(|w| &w.duties),
            ],
        )
        .await?;
        // Each worker's assignments in the systems it names are replaced.
        let mut clear_ids = Vec::new();
        let mut clear_systems = Vec::new();
        for w in batch {
            let systems: BTreeSet<&str> = change
                .worker_systems
                .iter()
                .map(String::as_str)
                .chain(w.grids.iter().map(|g| g.system.as_str()))
                .collect();
            for s in systems {
                clear_ids.push(w.id.as_str());
                clear_systems.push(s);
            }
        }
        tx.execute(
            "DELETE FROM worker_grids w USING unnest($1::text[], $2::text[]) AS u(worker_id, system)
             WHERE w.worker_id = u.worker_id AND w.system = u.system",
            &[&clear_ids, &clear_systems],
        )
        .await?;
        let assigned = batch
            .iter()
            .flat_map(|w| w.grids.iter().map(move |g| (w, g)));
        let (mut ids, mut systems, mut codes, mut shares) = (vec![], vec![], vec![], vec![]);
        for (w, g) in assigned {
            ids.push(w.id.as_str());
            systems.push(g.system.as_str());
            codes.push(g.code.as_str());
            shares.push(g.share);
        }
        tx.execute(
            "INSERT INTO worker_grids (worker_id, system, code, share)
             SELECT u.worker_id, u.system, u.code, u.share
             FROM unnest($1::text[], $2::text[], $3::text[], $4::float8[])
               WITH ORDINALITY AS u(worker_id, system, code, share, ord)
             ORDER BY u.ord",
            &[&ids, &systems, &codes, &shares],
        )
        .await?;
    }
    Ok(())
}

async fn write_sites(tx: &Transaction<'_>, change: &ChangeSet) -> Result<(), StoreError> {
    if !change.replace_site_kinds.is_empty() {
        tx.execute(
            "DELETE FROM sites WHERE kind = ANY($1)",
            &[&change.replace_site_kinds],
        )
        .await?;
    }
    if !change.delete_sites.is_empty() {
        let kinds: Vec<&str> = change
            .delete_sites
            .iter()
            .map(|(k, _)| k.as_str())
            .collect();
        let ids: Vec<&str> = change
            .delete_sites
            .iter()
            .map(|(_, i)| i.as_str())
            .collect();
        tx.execute(
            "DELETE FROM sites s USING unnest($1::text[], $2::text[]) AS u(kind, site_id)
             WHERE s.kind = u.kind AND s.site_id = u.site_id",
            &[&kinds, &ids],
        )
        .await?;
    }
    let upsert = tx
        .prepare(
            "INSERT INTO sites (kind, site_id, name, address, households, attributes, geom)
             SELECT u.kind, u.site_id, u.name, u.address, u.households, u.attributes, ST_GeomFromWKB(u.wkb, 4326)
             FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int8[], $6::jsonb[], $7::bytea[])
               WITH ORDINALITY AS u(kind, site_id, name, address, households, attributes, wkb, ord)
             ORDER BY u.ord
             ON CONFLICT (kind, site_id) DO UPDATE SET name = excluded.name, address = excluded.address,
               households = excluded.households, attributes = excluded.attributes, geom = excluded.geom",
        )
        .await?;
    for batch in change.sites.chunks(BATCH) {
        let kinds: Vec<&str> = batch.iter().map(|s| s.kind.as_str()).collect();
        let ids: Vec<&str> = batch.iter().map(|s| s.id.as_str()).collect();
        let names: Vec<&str> = batch.iter().map(|s| s.name.as_str()).collect();
        let addresses: Vec<Option<&str>> = batch.iter().map(|s| s.address.as_deref()).collect();
        let households: Vec<Option<i64>> =
            batch.iter().map(|s| s.households.map(i64::from)).collect();
        let attrs: Vec<Value> = batch
            .iter()
            .map(|s| Value::Object(s.attributes.clone()))
            .collect();
        let wkbs: Vec<Vec<u8>> = batch
            .iter()
            .map(|s| super::encode_point(&s.location))
            .collect();
        tx.execute(
            &upsert,
            &[&kinds, &ids, &names, &addresses, &households, &attrs, &wkbs],
        )
        .await?;
    }
    Ok(())
}
