//! The editing tables: accounts, the audit log, proposals and history.
//!
//! Plain attribute tables (not registered in `gpkg_contents`: they are
//! gridmap's bookkeeping, not layers for QGIS). Times are RFC 3339 UTC strings
//! made by SQLite. History rows are written by [`record_history`] inside the
//! transaction of the change they describe.

use rusqlite::{params, Connection, OptionalExtension, Row, Transaction, TransactionBehavior};

use crate::accounts::{Account, Role};
use crate::history::{ChangeRecord, HistoryEntry};
use crate::model::ChangeSet;
use crate::store::{AuditEntry, ProposalRow, StoreError};

/// 3 -> 4: the editing tables.
pub(crate) const MIGRATION: &str = r#"
CREATE TABLE gridmap_accounts (
  name TEXT PRIMARY KEY,
  role TEXT NOT NULL,
  token_hash TEXT NOT NULL UNIQUE,
  created TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')),
  revoked TEXT
);
CREATE TABLE gridmap_audit (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
  account TEXT NOT NULL,
  action TEXT NOT NULL,
  target TEXT NOT NULL,
  detail TEXT NOT NULL
);
CREATE TABLE gridmap_proposals (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  revision INTEGER NOT NULL,
  system TEXT NOT NULL,
  state TEXT NOT NULL,
  title TEXT NOT NULL,
  author TEXT NOT NULL,
  base_version INTEGER NOT NULL,
  created TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
  updated TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
  body TEXT NOT NULL
);
CREATE INDEX gridmap_proposals_system_state ON gridmap_proposals (system, state);
CREATE TABLE gridmap_history (
  version INTEGER PRIMARY KEY,
  at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
  author TEXT NOT NULL,
  title TEXT NOT NULL,
  kind TEXT NOT NULL,
  systems TEXT NOT NULL,
  record TEXT
);
"#;

fn corrupt(table: &str, key: impl ToString, reason: impl ToString) -> StoreError {
    StoreError::Corrupt {
        table: table.into(),
        key: key.to_string(),
        reason: reason.to_string(),
    }
}

/// Writes the history row of `version` (inside the change's transaction).
pub(crate) fn record_history(
    tx: &Transaction,
    version: u64,
    change: &ChangeSet,
    record: Option<&ChangeRecord>,
) -> Result<(), StoreError> {
    let mut systems: Vec<&str> = change
        .grids
        .iter()
        .map(|g| g.system.name.as_str())
        .collect();
    systems.sort_unstable();
    systems.dedup();
    let systems = serde_json::to_string(&systems).expect("strings serialise");
    let (author, title, kind, body) = match record {
        Some(r) => (
            r.author.as_str(),
            r.title.as_str(),
            r.kind.as_str(),
            Some(serde_json::to_string(r).map_err(|e| corrupt("gridmap_history", version, e))?),
        ),
        None => ("", "", "import", None),
    };
    tx.prepare_cached(
        "INSERT INTO gridmap_history (version, author, title, kind, systems, record) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![version as i64, author, title, kind, systems, body])?;
    Ok(())
}

fn account_of(r: &Row) -> rusqlite::Result<(String, String, String, Option<String>)> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
}

fn to_account(
    (name, role, created, revoked): (String, String, String, Option<String>),
) -> Result<Account, StoreError> {
    let role: Role = role
        .parse()
        .map_err(|e: String| corrupt("gridmap_accounts", &name, e))?;
    Ok(Account {
        name,
        role,
        created,
        revoked,
    })
}

pub(crate) fn add_account(
    conn: &mut Connection,
    name: &str,
    role: Role,
    token_hash: &str,
) -> Result<Account, StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let exists: bool = tx
        .query_row(
            "SELECT 1 FROM gridmap_accounts WHERE name = ?1",
            [name],
            |_| Ok(()),
        )
        .optional()?
        .is_some();
    if exists {
        return Err(StoreError::AccountExists(name.into()));
    }
    tx.execute(
        "INSERT INTO gridmap_accounts (name, role, token_hash) VALUES (?1, ?2, ?3)",
        params![name, role.as_str(), token_hash],
    )?;
    let row = tx.query_row(
        "SELECT name, role, created, revoked FROM gridmap_accounts WHERE name = ?1",
        [name],
        account_of,
    )?;
    tx.commit()?;
    to_account(row)
}

pub(crate) fn accounts(conn: &Connection) -> Result<Vec<Account>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT name, role, created, revoked FROM gridmap_accounts ORDER BY name",
    )?;
    let rows = stmt.query_map([], account_of)?;
    rows.map(|r| to_account(r?)).collect()
}

pub(crate) fn account_by_token(
    conn: &Connection,
    hash: &str,
) -> Result<Option<Account>, StoreError> {
    conn.prepare_cached(
        "SELECT name, role, created, revoked FROM gridmap_accounts WHERE token_hash = ?1 AND revoked IS NULL",
    )?
    .query_row([hash], account_of)
    .optional()?
    .map(to_account)
    .transpose()
}

pub(crate) fn revoke_account(conn: &Connection, name: &str) -> Result<bool, StoreError> {
    let n = conn.execute(
        "UPDATE gridmap_accounts SET revoked = strftime('%Y-%m-%dT%H:%M:%SZ','now') WHERE name = ?1 AND revoked IS NULL",
        [name],
    )?;
    Ok(n == 1)
}

pub(crate) fn audit(
    conn: &Connection,
    account: &str,
    action: &str,
    target: &str,
    detail: &str,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO gridmap_audit (account, action, target, detail) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![account, action, target, detail])?;
    Ok(())
}

pub(crate) fn audit_log(
    conn: &Connection,
    limit: usize,
    offset: usize,
) -> Result<Vec<AuditEntry>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, at, account, action, target, detail FROM gridmap_audit ORDER BY id DESC LIMIT ?1 OFFSET ?2",
    )?;
    let rows = stmt.query_map(params![limit as i64, offset as i64], |r| {
        Ok(AuditEntry {
            id: r.get::<_, i64>(0)? as u64,
            at: r.get(1)?,
            account: r.get(2)?,
            action: r.get(3)?,
            target: r.get(4)?,
            detail: r.get(5)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

const PROPOSAL_COLUMNS: &str =
    "id, revision, system, state, title, author, base_version, created, updated, body";

fn proposal_of(r: &Row) -> rusqlite::Result<(ProposalRow, String)> {
    Ok((
        ProposalRow {
            id: r.get::<_, i64>(0)? as u64,
            revision: r.get::<_, i64>(1)? as u64,
            system: r.get(2)?,
            state: r.get(3)?,
            title: r.get(4)?,
            author: r.get(5)?,
            base_version: r.get::<_, i64>(6)? as u64,
            created: r.get(7)?,
            updated: r.get(8)?,
            body: serde_json::Value::Null,
        },
        r.get(9)?,
    ))
}

fn with_body((mut row, body): (ProposalRow, String)) -> Result<ProposalRow, StoreError> {
    row.body = serde_json::from_str(&body).map_err(|e| corrupt("gridmap_proposals", row.id, e))?;
    Ok(row)
}

pub(crate) fn save_proposal(
    conn: &mut Connection,
    row: &ProposalRow,
) -> Result<ProposalRow, StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let body = row.body.to_string();
    let id = if row.id == 0 {
        tx.execute(
            "INSERT INTO gridmap_proposals (revision, system, state, title, author, base_version, body)
             VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6)",
            params![row.system, row.state, row.title, row.author, row.base_version as i64, body],
        )?;
        tx.last_insert_rowid() as u64
    } else {
        let found: Option<i64> = tx
            .query_row(
                "SELECT revision FROM gridmap_proposals WHERE id = ?1",
                [row.id as i64],
                |r| r.get(0),
            )
            .optional()?;
        let found =
            found.ok_or_else(|| corrupt("gridmap_proposals", row.id, "no such proposal"))? as u64;
        if found != row.revision {
            return Err(StoreError::ProposalMoved {
                id: row.id,
                found,
                expected: row.revision,
            });
        }
        tx.execute(
            "UPDATE gridmap_proposals SET revision = revision + 1, state = ?2, title = ?3, base_version = ?4,
             body = ?5, updated = strftime('%Y-%m-%dT%H:%M:%fZ','now') WHERE id = ?1",
            params![row.id as i64, row.state, row.title, row.base_version as i64, body],
        )?;
        row.id
    };
    let saved = tx.query_row(
        &format!("SELECT {PROPOSAL_COLUMNS} FROM gridmap_proposals WHERE id = ?1"),
        [id as i64],
        proposal_of,
    )?;
    tx.commit()?;
    with_body(saved)
}

pub(crate) fn proposal(conn: &Connection, id: u64) -> Result<Option<ProposalRow>, StoreError> {
    conn.prepare_cached(&format!(
        "SELECT {PROPOSAL_COLUMNS} FROM gridmap_proposals WHERE id = ?1"
    ))?
    .query_row([id as i64], proposal_of)
    .optional()?
    .map(with_body)
    .transpose()
}

pub(crate) fn proposals(
    conn: &Connection,
    system: Option<&str>,
    state: Option<&str>,
) -> Result<Vec<ProposalRow>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {PROPOSAL_COLUMNS} FROM gridmap_proposals
         WHERE (?1 IS NULL OR system = ?1) AND (?2 IS NULL OR state = ?2) ORDER BY id DESC"
    ))?;
    let rows = stmt.query_map(params![system, state], proposal_of)?;
    rows.map(|r| with_body(r?)).collect()
}

fn history_of(
    r: &Row,
) -> rusqlite::Result<(u64, String, String, String, String, String, Option<String>)> {
    Ok((
        r.get::<_, i64>(0)? as u64,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
    ))
}

fn to_history(
    (version, at, author, title, kind, systems, record): (
        u64,
        String,
        String,
        String,
        String,
        String,
        Option<String>,
    ),
) -> Result<HistoryEntry, StoreError> {
    let systems: Vec<String> =
        serde_json::from_str(&systems).map_err(|e| corrupt("gridmap_history", version, e))?;
    let record = record
        .map(|r| serde_json::from_str::<ChangeRecord>(&r))
        .transpose()
        .map_err(|e| corrupt("gridmap_history", version, e))?;
    Ok(HistoryEntry {
        version,
        at,
        author,
        title,
        kind,
        systems,
        record,
    })
}

const HISTORY_COLUMNS: &str = "version, at, author, title, kind, systems, record";

pub(crate) fn history(
    conn: &Connection,
    system: Option<&str>,
    limit: usize,
    offset: usize,
) -> Result<Vec<HistoryEntry>, StoreError> {
    // `systems` is a JSON array of names; json_each keeps the match exact.
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {HISTORY_COLUMNS} FROM gridmap_history h
         WHERE ?1 IS NULL OR EXISTS (SELECT 1 FROM json_each(h.systems) WHERE value = ?1)
         ORDER BY version DESC LIMIT ?2 OFFSET ?3"
    ))?;
    let rows = stmt.query_map(params![system, limit as i64, offset as i64], history_of)?;
    rows.map(|r| to_history(r?)).collect()
}

pub(crate) fn history_since(
    conn: &Connection,
    after: u64,
) -> Result<Vec<HistoryEntry>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {HISTORY_COLUMNS} FROM gridmap_history WHERE version > ?1 ORDER BY version"
    ))?;
    let rows = stmt.query_map([after as i64], history_of)?;
    rows.map(|r| to_history(r?)).collect()
}
