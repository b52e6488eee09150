//! The history of published changes, undoing one, the audit table, and the
//! views of the past and of proposals that `?at=` and `?proposal=` read.
//!
//! - `GET /api/v1/history?system=&limit=&offset=`
//! - `POST /api/v1/history/{version}/revert` (approver)
//! - `GET /api/v1/audit?limit=&offset=` (admin)

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use gridmap_data::accounts::Role;
use gridmap_data::edit;
use serde_json::{json, Value};

use super::auth::Caller;
use super::error::AppError;
use super::params::Params;
use super::state::{AppState, View};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/history", get(list))
        .route("/api/v1/history/{version}/revert", post(revert))
        .route("/api/v1/audit", get(audit))
}

#[utoipa::path(
    get,
    path = "/api/v1/history",
    tag = "history",
    summary = "published changes, newest first",
    params(("system" = Option<String>, Query, description = "grid system (the only one when absent)"), ("limit" = Option<usize>, Query, description = "items per page"), ("offset" = Option<usize>, Query, description = "items skipped")),
    responses((status = 200, description = "the answer", body = serde_json::Value), (status = 400, description = "bad parameter", body = super::openapi::ErrorBody))
)]
async fn list(State(state): State<AppState>, params: Params) -> Result<Json<Value>, AppError> {
    let page = params.page(100)?;
    let system = params.get("system");
    if let Some(s) = system {
        state.catalog().named_system(s)?;
    }
    let entries = state.store().history(system, page.limit, page.offset)?;
    let out: Vec<Value> = entries
        .into_iter()
        .map(|e| {
            let (before, after) = match &e.record {
                Some(r) => (
                    r.before.iter().map(|g| feature(g)).collect::<Vec<_>>(),
                    r.after.iter().map(|g| feature(g)).collect::<Vec<_>>(),
                ),
                None => (vec![], vec![]),
            };
            json!({
                "version": e.version, "at": e.at, "author": e.author, "title": e.title,
                "kind": e.kind, "systems": e.systems,
                "proposal": e.record.as_ref().and_then(|r| r.proposal),
                "reverts": e.record.as_ref().and_then(|r| r.reverts),
                "grids": e.record.as_ref().map(|r| r.codes()),
                "before": before, "after": after,
            })
        })
        .collect();
    Ok(Json(json!({ "offset": page.offset, "history": out })))
}

fn feature(g: &gridmap_data::Grid) -> Value {
    json!({
        "type": "Feature", "id": g.code,
        "geometry": geojson::Geometry::from(&g.geometry),
        "properties": { "code": g.code, "name": g.name, "level": g.level, "parent": g.parent },
    })
}

#[utoipa::path(
    post,
    path = "/api/v1/history/{version}/revert",
    tag = "history",
    summary = "undo a published change (approver)",
    params(("version" = u64, Path, description = "the version the change made")),
    responses((status = 200, description = "the answer", body = serde_json::Value), (status = 401, description = "no or unknown token", body = super::openapi::ErrorBody), (status = 403, description = "role too low", body = super::openapi::ErrorBody), (status = 404, description = "not found", body = super::openapi::ErrorBody), (status = 409, description = "conflict", body = super::openapi::ErrorBody), (status = 410, description = "history not kept", body = super::openapi::ErrorBody)),
    security(("bearer" = []))
)]
async fn revert(
    State(state): State<AppState>,
    caller: Caller,
    Path(version): Path<String>,
) -> Result<Json<Value>, AppError> {
    let account = caller.require(Role::Approver)?.clone();
    let version: u64 = version.parse().map_err(|_| {
        AppError::bad_request("bad_path", format!("version `{version}` is not a number"))
    })?;
    tokio::task::spawn_blocking(move || -> Result<Json<Value>, AppError> {
        let _one = state.publishing();
        let started = Instant::now();
        state.reload_if_changed()?;
        let catalog = state.catalog();
        let entry = state
            .store()
            .history_since(version.saturating_sub(1))?
            .into_iter()
            .find(|e| e.version == version)
            .ok_or_else(|| AppError::not_found("unknown_version", format!("no history entry for version {version}")))?;
        let committed = match edit::revert(&entry, &catalog, state.store(), &account.name) {
            Ok(c) => c,
            Err(e) => {
                let _ = state.store().audit(&account.name, "history.revert.refused", &format!("version {version}"), &e.to_string());
                return Err(e.into());
            }
        };
        let new = committed.version;
        state.store().audit(&account.name, "history.revert", &format!("version {version}"), &format!("version {new}"))?;
        if let Some(record) = &entry.record {
            state.reload_after_commit(&record.system, &record.bboxes(), &committed)?;
        }
        // Search answers carry grids: its index follows the new version, in the background.
        state.prewarm_search();
        tracing::info!(account = %account.name, reverted = version, version = new, ms = started.elapsed().as_millis() as u64, "change reverted");
        Ok(Json(json!({ "reverted": version, "data_version": new })))
    })
    .await?
}

#[utoipa::path(
    get,
    path = "/api/v1/audit",
    tag = "history",
    summary = "every write with its account (admin)",
    params(("limit" = Option<usize>, Query, description = "items per page"), ("offset" = Option<usize>, Query, description = "items skipped")),
    responses((status = 200, description = "the answer", body = serde_json::Value), (status = 401, description = "no or unknown token", body = super::openapi::ErrorBody), (status = 403, description = "role too low", body = super::openapi::ErrorBody)),
    security(("bearer" = []))
)]
async fn audit(
    State(state): State<AppState>,
    caller: Caller,
    params: Params,
) -> Result<Json<Value>, AppError> {
    caller.require(Role::Admin)?;
    let page = params.page(100)?;
    let entries = state.store().audit_log(page.limit, page.offset)?;
    Ok(Json(json!({ "offset": page.offset, "audit": entries })))
}

/// What a read's `?at=VERSION` or `?proposal=ID` asks for, as a view of
/// `system`; `None` for a read of the current data. Blocking.
pub fn view_for(
    state: &AppState,
    params: &Params,
    system: &str,
    access: super::viewer::Access,
) -> Result<Option<Arc<View>>, AppError> {
    let catalog = state.catalog();
    match (params.get("at"), params.get("proposal")) {
        (None, None) => Ok(None),
        (Some(_), Some(_)) => Err(AppError::bad_request(
            "bad_parameter",
            "give `at` or `proposal`, not both",
        )),
        (Some(at), None) => {
            let at: u64 = at.parse().map_err(|_| {
                AppError::bad_request(
                    "bad_parameter",
                    format!("at `{at}` must be a data version (a whole number)"),
                )
            })?;
            if at == catalog.version() {
                return Ok(None);
            }
            let key = format!("at:{at}:{}:{system}", catalog.version());
            state
                .view(key, || {
                    edit::catalog_at(&catalog, state.store(), system, at)
                })
                .map_err(AppError::from)
        }
        (None, Some(id)) => {
            super::editing::require_viewer(access)?;
            let p = super::editing::load(state, id)?;
            if p.system != system {
                return Err(AppError::bad_request(
                    "bad_parameter",
                    format!(
                        "proposal {} edits system `{}`, not `{system}`",
                        p.id, p.system
                    ),
                ));
            }
            let key = format!("proposal:{}:{}:{}", p.id, p.revision, catalog.version());
            state.view(key, || {
                Ok::<_, AppError>(edit::proposal_catalog(&p, &catalog))
            })
        }
    }
}

/// The catalog a read answers from: the current one, or a view of the past
/// or of a proposal.
pub enum ReadCatalog {
    Current(Arc<gridmap_data::catalog::Catalog>),
    View(Arc<View>),
}

impl std::ops::Deref for ReadCatalog {
    type Target = gridmap_data::catalog::Catalog;

    fn deref(&self) -> &Self::Target {
        match self {
            ReadCatalog::Current(c) => c,
            ReadCatalog::View(v) => &v.catalog,
        }
    }
}

/// The catalog for a read with optional `?at=` / `?proposal=` (which need
/// one system: `system=`, or the only one).
pub async fn read_catalog(
    state: &AppState,
    params: &Params,
    access: super::viewer::Access,
) -> Result<ReadCatalog, AppError> {
    let current = state.catalog();
    if params.get("at").is_none() && params.get("proposal").is_none() {
        return Ok(ReadCatalog::Current(current));
    }
    let system = current
        .pick_system(params.get("system"))?
        .system()
        .name
        .clone();
    let (st, params) = (state.clone(), Params(params.0.clone()));
    let view =
        tokio::task::spawn_blocking(move || view_for(&st, &params, &system, access)).await??;
    Ok(match view {
        Some(v) => ReadCatalog::View(v),
        None => ReadCatalog::Current(current),
    })
}
