//! The editing tables: accounts, the audit log, proposals and history.
//!
//! Times are `timestamptz`, handed out as the same RFC 3339 UTC strings the
//! GeoPackage backend makes (seconds for accounts, milliseconds elsewhere).
//! History rows are written by [`record_history`] inside the transaction of
//! the change they describe.

use tokio_postgres::{Client, Row, Transaction};

use crate::accounts::{Account, Role};
use crate::history::{ChangeRecord, HistoryEntry};
use crate::model::ChangeSet;
use crate::store::{AuditEntry, ProposalRow, StoreError};

/// RFC 3339 in UTC to the second, as SQL over a `timestamptz` column.
fn secs(col: &str) -> String {
    format!("to_char({col} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')")
}

/// RFC 3339 in UTC to the millisecond.
fn millis(col: &str) -> String {
    format!("to_char({col} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')")
}

fn corrupt(table: &str, key: impl ToString, reason: impl ToString) -> StoreError {
    StoreError::Corrupt {
        table: table.into(),
        key: key.to_string(),
        reason: reason.to_string(),
    }
}

fn account_columns() -> String {
    format!("name, role, {}, {}", secs("created"), secs("revoked"))
}

fn to_account(r: &Row) -> Result<Account, StoreError> {
    let name: String = r.get(0);
    let role: String = r.get(1);
    let role: Role = role
        .parse()
        .map_err(|e: String| corrupt("gridmap_accounts", &name, e))?;
    Ok(Account {
        name,
        role,
        created: r.get(2),
        revoked: r.get(3),
    })
}

/// Writes the history row of `version` (inside the change's transaction).
pub(crate) async fn record_history(
    tx: &Transaction<'_>,
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
    let systems = serde_json::to_value(&systems).expect("strings serialise");
    let (author, title, kind, body) = match record {
        Some(r) => (
            r.author.as_str(),
            r.title.as_str(),
            r.kind.as_str(),
            Some(serde_json::to_value(r).map_err(|e| corrupt("gridmap_history", version, e))?),
        ),
        None => ("", "", "import", None),
    };
    tx.execute(
        "INSERT INTO gridmap_history (version, author, title, kind, systems, record)
         VALUES ($1, $2, $3, $4, $5, $6)",
        &[&(version as i64), &author, &title, &kind, &systems, &body],
    )
    .await?;
    Ok(())
}

pub(crate) async fn add_account(
    c: &Client,
    name: &str,
    role: Role,
    token_hash: &str,
) -> Result<Account, StoreError> {
    let row = c
        .query_opt(
            &format!(
                "INSERT INTO gridmap_accounts (name, role, token_hash) VALUES ($1, $2, $3)
                 ON CONFLICT (name) DO NOTHING RETURNING {}",
                account_columns()
            ),
            &[&name, &role.as_str(), &token_hash],
        )
        .await?;
    match row {
        Some(r) => to_account(&r),
        None => Err(StoreError::AccountExists(name.into())),
    }
}

pub(crate) async fn accounts(c: &Client) -> Result<Vec<Account>, StoreError> {
    let sql = format!(
        "SELECT {} FROM gridmap_accounts ORDER BY name",
        account_columns()
    );
    c.query(&sql, &[]).await?.iter().map(to_account).collect()
}

pub(crate) async fn account_by_token(
    c: &Client,
    hash: &str,
) -> Result<Option<Account>, StoreError> {
    let sql = format!(
        "SELECT {} FROM gridmap_accounts WHERE token_hash = $1 AND revoked IS NULL",
        account_columns()
    );
    c.query_opt(&sql, &[&hash])
        .await?
        .as_ref()
        .map(to_account)
        .transpose()
}

pub(crate) async fn revoke_account(c: &Client, name: &str) -> Result<bool, StoreError> {
    let n = c
        .execute(
            "UPDATE gridmap_accounts SET revoked = now() WHERE name = $1 AND revoked IS NULL",
            &[&name],
        )
        .await?;
    Ok(n == 1)
}

pub(crate) async fn audit(
    c: &Client,
    account: &str,
    action: &str,
    target: &str,
    detail: &str,
) -> Result<(), StoreError> {
    c.execute(
        "INSERT INTO gridmap_audit (account, action, target, detail) VALUES ($1, $2, $3, $4)",
        &[&account, &action, &target, &detail],
    )
    .await?;
    Ok(())
}

pub(crate) async fn audit_log(
    c: &Client,
    limit: usize,
    offset: usize,
) -> Result<Vec<AuditEntry>, StoreError> {
    let sql = format!(
        "SELECT id, {}, account, action, target, detail FROM gridmap_audit
         ORDER BY id DESC LIMIT $1 OFFSET $2",
        millis("at")
    );
    let rows = c.query(&sql, &[&clamp(limit), &clamp(offset)]).await?;
    Ok(rows
        .iter()
        .map(|r| AuditEntry {
            id: r.get::<_, i64>(0) as u64,
            at: r.get(1),
            account: r.get(2),
            action: r.get(3),
            target: r.get(4),
            detail: r.get(5),
        })
        .collect())
}

fn clamp(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn proposal_columns() -> String {
    format!(
        "id, revision, system, state, title, author, base_version, {}, {}, body",
        millis("created"),
        millis("updated")
    )
}

fn to_proposal(r: &Row) -> ProposalRow {
    ProposalRow {
        id: r.get::<_, i64>(0) as u64,
        revision: r.get::<_, i64>(1) as u64,
        system: r.get(2),
        state: r.get(3),
        title: r.get(4),
        author: r.get(5),
        base_version: r.get::<_, i64>(6) as u64,
        created: r.get(7),
        updated: r.get(8),
        body: r.get(9),
    }
}

pub(crate) async fn save_proposal(
    client: &mut Client,
    row: &ProposalRow,
) -> Result<ProposalRow, StoreError> {
    let tx = client.transaction().await?;
    let base = row.base_version as i64;
    let saved = if row.id == 0 {
        tx.query_one(
            &format!(
                "INSERT INTO gridmap_proposals (revision, system, state, title, author, base_version, body)
                 VALUES (1, $1, $2, $3, $4, $5, $6) RETURNING {}",
                proposal_columns()
            ),
            &[&row.system, &row.state, &row.title, &row.author, &base, &row.body],
        )
        .await?
    } else {
        let id = row.id as i64;
        let found = tx
            .query_opt(
                "SELECT revision FROM gridmap_proposals WHERE id = $1 FOR UPDATE",
                &[&id],
            )
            .await?
            .ok_or_else(|| corrupt("gridmap_proposals", row.id, "no such proposal"))?
            .get::<_, i64>(0) as u64;
        if found != row.revision {
            return Err(StoreError::ProposalMoved {
                id: row.id,
                found,
                expected: row.revision,
            });
        }
        tx.query_one(
            &format!(
                "UPDATE gridmap_proposals SET revision = revision + 1, state = $2, title = $3,
                   base_version = $4, body = $5, updated = clock_timestamp()
                 WHERE id = $1 RETURNING {}",
                proposal_columns()
            ),
            &[&id, &row.state, &row.title, &base, &row.body],
        )
        .await?
    };
    tx.commit().await?;
    Ok(to_proposal(&saved))
}

pub(crate) async fn proposal(c: &Client, id: u64) -> Result<Option<ProposalRow>, StoreError> {
    let sql = format!(
        "SELECT {} FROM gridmap_proposals WHERE id = $1",
        proposal_columns()
    );
    Ok(c.query_opt(&sql, &[&(id as i64)])
        .await?
        .as_ref()
        .map(to_proposal))
}

pub(crate) async fn proposals(
    c: &Client,
    system: Option<&str>,
    state: Option<&str>,
) -> Result<Vec<ProposalRow>, StoreError> {
    let sql = format!(
        "SELECT {} FROM gridmap_proposals
         WHERE ($1::text IS NULL OR system = $1) AND ($2::text IS NULL OR state = $2) ORDER BY id DESC",
        proposal_columns()
    );
    Ok(c.query(&sql, &[&system, &state])
        .await?
        .iter()
        .map(to_proposal)
        .collect())
}

fn history_columns() -> String {
    format!(
        "version, {}, author, title, kind, systems, record",
        millis("at")
    )
}

fn to_history(r: &Row) -> Result<HistoryEntry, StoreError> {
    let version = r.get::<_, i64>(0) as u64;
    let systems: Vec<String> =
        serde_json::from_value(r.get(5)).map_err(|e| corrupt("gridmap_history", version, e))?;
    let record = r
        .get::<_, Option<serde_json::Value>>(6)
        .map(serde_json::from_value::<ChangeRecord>)
        .transpose()
        .map_err(|e| corrupt("gridmap_history", version, e))?;
    Ok(HistoryEntry {
        version,
        at: r.get(1),
        author: r.get(2),
        title: r.get(3),
        kind: r.get(4),
        systems,
        record,
    })
}

pub(crate) async fn history(
    c: &Client,
    system: Option<&str>,
    limit: usize,
    offset: usize,
) -> Result<Vec<HistoryEntry>, StoreError> {
    let sql = format!(
        "SELECT {} FROM gridmap_history
         WHERE $1::text IS NULL OR jsonb_exists(systems, $1)
         ORDER BY version DESC LIMIT $2 OFFSET $3",
        history_columns()
    );
    c.query(&sql, &[&system, &clamp(limit), &clamp(offset)])
        .await?
        .iter()
        .map(to_history)
        .collect()
}

pub(crate) async fn history_since(c: &Client, after: u64) -> Result<Vec<HistoryEntry>, StoreError> {
    let sql = format!(
        "SELECT {} FROM gridmap_history WHERE version > $1 ORDER BY version",
        history_columns()
    );
    c.query(&sql, &[&(after as i64)])
        .await?
        .iter()
        .map(to_history)
        .collect()
}
