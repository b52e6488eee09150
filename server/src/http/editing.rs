//! Proposals over HTTP: drafts edited one edit at a time, their impact,
//! submit, publish and reject. Every write needs an account token (editor,
//! or approver to publish and reject) and lands in the audit table.
//!
//! - `POST /api/v1/proposals` `{"system","title"}` → 201
//! - `GET /api/v1/proposals?system=&state=`, `GET /api/v1/proposals/{id}`
//! - `POST /api/v1/proposals/{id}/edits` one edit → 200, 422 when it breaks a rule
//! - `GET /api/v1/proposals/{id}/impact` (viewer: it shows household counts)
//! - `POST /api/v1/proposals/{id}/submit` (editor), `…/publish`, `…/reject` (approver)

use std::time::Instant;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use gridmap_data::accounts::Role;
use gridmap_data::edit::{self, Edit, Proposal, State as ProposalState};
use serde::Deserialize;
use serde_json::{json, Value};

use super::auth::Caller;
use super::error::AppError;
use super::params::Params;
use super::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/proposals", post(create).get(list))
        .route("/api/v1/proposals/{id}", get(one))
        .route("/api/v1/proposals/{id}/edits", post(add_edit))
        .route("/api/v1/proposals/{id}/impact", get(impact))
        .route("/api/v1/proposals/{id}/submit", post(submit))
        .route("/api/v1/proposals/{id}/publish", post(publish))
        .route("/api/v1/proposals/{id}/reject", post(reject))
}

/// A proposal as the API shows it: its columns, its edits and the grids it
/// changes so far (GeoJSON geometry; `deleted` for a grid it removes).
pub fn proposal_json(p: &Proposal) -> Value {
    let grids: Vec<Value> = p
        .body
        .grids
        .iter()
        .map(|(code, g)| match g {
            Some(g) => json!({
                "code": code, "name": g.name, "level": g.level, "parent": g.parent,
                "deleted": false, "geometry": geojson::Geometry::from(&g.geometry),
            }),
            None => json!({ "code": code, "deleted": true, "geometry": null }),
        })
        .collect();
    let workers: Vec<Value> = p
        .body
        .workers
        .values()
        .map(|w| {
            let grids: Vec<Value> = w
                .grids
                .iter()
                .filter(|g| g.system == p.system)
                .map(|g| json!({ "code": g.code, "share": g.share }))
                .collect();
            json!({ "id": w.id, "name": w.name, "grids": grids })
        })
        .collect();
    json!({
        "id": p.id,
        "revision": p.revision,
        "system": p.system,
        "state": p.state.as_str(),
        "title": p.title,
        "author": p.author,
        "base_version": p.base_version,
        "created": p.created,
        "updated": p.updated,
        "published_version": p.body.published_version,
        "edits": p.body.edits,
        "grids": grids,
        "workers": workers,
        "reviews": p.body.reviews,
    })
}

/// Drafts are planners' work in progress: any account (or the viewer
/// token) reads them, the public does not.
pub fn require_viewer(access: super::viewer::Access) -> Result<(), AppError> {
    if access.full() {
        Ok(())
    } else {
        Caller(None).require(Role::Viewer).map(|_| ())
    }
}

fn parse_id(id: &str) -> Result<u64, AppError> {
    id.parse().map_err(|_| {
        AppError::bad_request("bad_path", format!("proposal id `{id}` is not a number"))
    })
}

/// The stored proposal `id`, or 404.
pub fn load(state: &AppState, id: &str) -> Result<Proposal, AppError> {
    let n = parse_id(id)?;
    let row = state
        .store()
        .proposal(n)?
        .ok_or_else(|| AppError::not_found("unknown_proposal", format!("no proposal {n}")))?;
    Proposal::from_row(row).map_err(|e| AppError::Internal(anyhow::anyhow!(e)))
}

fn save(state: &AppState, p: &Proposal) -> Result<Proposal, AppError> {
    let row = state.store().save_proposal(&p.to_row())?;
    Proposal::from_row(row).map_err(|e| AppError::Internal(anyhow::anyhow!(e)))
}

/// Records `account`'s `action` (submit, publish, reject) on `p` with its
/// note, saves the proposal and writes the audit line; the saved proposal.
fn review(
    state: &AppState,
    p: &mut Proposal,
    account: &str,
    action: &str,
    note: String,
    detail: &str,
) -> Result<Proposal, AppError> {
    p.body.reviews.push(edit::proposal::Review {
        account: account.to_string(),
        action: action.to_string(),
        note,
    });
    let saved = save(state, p)?;
    state.store().audit(
        account,
        &format!("proposal.{action}"),
        &format!("proposal {}", p.id),
        detail,
    )?;
    Ok(saved)
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, AppError> + Send + 'static,
) -> Result<T, AppError> {
    tokio::task::spawn_blocking(f).await?
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewProposal {
    system: String,
    title: String,
}

#[utoipa::path(
    post,
    path = "/api/v1/proposals",
    tag = "editing",
    summary = "start a proposal (editor)",
    request_body(content = serde_json::Value, description = "{\"system\",\"title\"}"),
    responses((status = 201, description = "the answer", body = serde_json::Value), (status = 400, description = "bad parameter", body = super::openapi::ErrorBody), (status = 401, description = "no or unknown token", body = super::openapi::ErrorBody), (status = 403, description = "role too low", body = super::openapi::ErrorBody)),
    security(("bearer" = []))
)]
async fn create(
    State(state): State<AppState>,
    caller: Caller,
    body: Result<Json<NewProposal>, axum::extract::rejection::JsonRejection>,
) -> Result<(StatusCode, Json<Value>), AppError> {
    let account = caller.require(Role::Editor)?.clone();
    let Json(req) = body?;
    let title = req.title.trim();
    if title.is_empty() || title.chars().count() > 200 {
        return Err(AppError::bad_request(
            "bad_parameter",
            "`title` must be 1–200 characters",
        ));
    }
    let catalog = state.catalog();
    catalog.named_system(&req.system)?;
    let p = Proposal::new(&req.system, title, &account.name, &catalog);
    let saved = blocking(move || {
        let saved = save(&state, &p)?;
        state.store().audit(
            &account.name,
            "proposal.create",
            &format!("proposal {}", saved.id),
            &saved.title,
        )?;
        Ok(saved)
    })
    .await?;
    tracing::info!(account = %saved.author, proposal = saved.id, system = %saved.system, "proposal created");
    Ok((StatusCode::CREATED, Json(proposal_json(&saved))))
}

#[utoipa::path(
    get,
    path = "/api/v1/proposals",
    tag = "editing",
    summary = "proposals (any account)",
    params(("state" = Option<String>, Query, description = "draft, submitted, published or rejected"), ("system" = Option<String>, Query, description = "grid system (the only one when absent)")),
    responses((status = 200, description = "the answer", body = serde_json::Value), (status = 400, description = "bad parameter", body = super::openapi::ErrorBody), (status = 401, description = "no or unknown token", body = super::openapi::ErrorBody)),
    security(("bearer" = []))
)]
async fn list(
    State(state): State<AppState>,
    access: super::viewer::Access,
    params: Params,
) -> Result<Json<Value>, AppError> {
    require_viewer(access)?;
    let stateq = params.get("state");
    if let Some(s) = stateq {
        if ProposalState::parse(s).is_none() {
            return Err(AppError::bad_request(
                "bad_parameter",
                format!("state `{s}` must be draft, submitted, published or rejected"),
            ));
        }
    }
    let rows = state.store().proposals(params.get("system"), stateq)?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let p = Proposal::from_row(row).map_err(|e| AppError::Internal(anyhow::anyhow!(e)))?;
        out.push(json!({
            "id": p.id, "system": p.system, "state": p.state.as_str(), "title": p.title,
            "author": p.author, "base_version": p.base_version, "created": p.created,
            "updated": p.updated, "edits": p.body.edits.len(), "grids": p.body.grids.len(),
            "published_version": p.body.published_version,
        }));
    }
    Ok(Json(json!({ "proposals": out })))
}

#[utoipa::path(
    get,
    path = "/api/v1/proposals/{id}",
    tag = "editing",
    summary = "one proposal with its changed grids",
    params(("id" = u64, Path, description = "proposal id")),
    responses((status = 200, description = "the answer", body = serde_json::Value), (status = 401, description = "no or unknown token", body = super::openapi::ErrorBody), (status = 404, description = "not found", body = super::openapi::ErrorBody)),
    security(("bearer" = []))
)]
async fn one(
    State(state): State<AppState>,
    access: super::viewer::Access,
    Path(id): Path<String>,
) -> Result<Json<Value>, AppError> {
    require_viewer(access)?;
    Ok(Json(proposal_json(&load(&state, &id)?)))
}

#[utoipa::path(
    post,
    path = "/api/v1/proposals/{id}/edits",
    tag = "editing",
    summary = "one edit (move_vertex, reshape_border, split, merge, create, delete, update, assign_worker, unassign_worker)",
    request_body(content = serde_json::Value, description = "one edit"),
    params(("id" = u64, Path, description = "proposal id")),
    responses((status = 200, description = "the answer", body = serde_json::Value), (status = 400, description = "bad parameter", body = super::openapi::ErrorBody), (status = 401, description = "no or unknown token", body = super::openapi::ErrorBody), (status = 403, description = "role too low", body = super::openapi::ErrorBody), (status = 404, description = "not found", body = super::openapi::ErrorBody), (status = 409, description = "conflict", body = super::openapi::ErrorBody), (status = 422, description = "a rule is broken", body = super::openapi::ErrorBody)),
    security(("bearer" = []))
)]
async fn add_edit(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: Result<Json<Value>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<Value>, AppError> {
    let account = caller.require(Role::Editor)?.clone();
    let Json(raw) = body?;
    let edit: Edit = serde_json::from_value(raw.clone())
        .map_err(|e| AppError::bad_request("bad_edit", format!("not an edit: {e}")))?;
    blocking(move || {
        let mut p = load(&state, &id)?;
        let catalog = state.catalog();
        let started = Instant::now();
        edit::apply_edit(&mut p, &catalog, &edit)?;
        let saved = save(&state, &p)?;
        state.store().audit(&account.name, "proposal.edit", &format!("proposal {}", p.id), &raw.to_string())?;
        tracing::info!(account = %account.name, proposal = p.id, ms = started.elapsed().as_millis() as u64, "edit applied");
        Ok(Json(proposal_json(&saved)))
    })
    .await
}

#[utoipa::path(
    get,
    path = "/api/v1/proposals/{id}/impact",
    tag = "editing",
    summary = "the sites, households and workers the proposal moves",
    params(("id" = u64, Path, description = "proposal id")),
    responses((status = 200, description = "the answer", body = serde_json::Value), (status = 401, description = "no or unknown token", body = super::openapi::ErrorBody), (status = 404, description = "not found", body = super::openapi::ErrorBody)),
    security(("bearer" = []))
)]
async fn impact(
    State(state): State<AppState>,
    access: super::viewer::Access,
    Path(id): Path<String>,
) -> Result<Json<Value>, AppError> {
    // Household counts are not for the public.
    require_viewer(access)?;
    blocking(move || {
        let p = load(&state, &id)?;
        let catalog = state.catalog();
        let started = Instant::now();
        let impact = edit::impact(&p, &catalog);
        let ms = started.elapsed().as_secs_f64() * 1e3;
        tracing::info!(
            proposal = p.id,
            sites = impact.sites.len(),
            checked = impact.sites_checked,
            ms,
            "impact computed"
        );
        let mut v = serde_json::to_value(&impact).expect("impact serialises");
        v["proposal"] = json!(p.id);
        v["data_version"] = json!(catalog.version());
        v["ms"] = json!((ms * 10.0).round() / 10.0);
        Ok(Json(v))
    })
    .await
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ReviewNote {
    #[serde(default)]
    note: String,
}

/// Reads an optional JSON body `{"note": …}`; an empty body is no note.
fn note_of(body: &axum::body::Bytes) -> Result<String, AppError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(String::new());
    }
    let n: ReviewNote = serde_json::from_slice(body).map_err(|e| {
        AppError::bad_request(
            "bad_json",
            format!("the body must be {{\"note\": \"…\"}}: {e}"),
        )
    })?;
    Ok(n.note)
}

#[utoipa::path(
    post,
    path = "/api/v1/proposals/{id}/submit",
    tag = "editing",
    summary = "submit a draft (editor)",
    request_body(content = Option<serde_json::Value>, description = "optional `{\"note\": \"…\"}`", content_type = "application/json"),
    params(("id" = u64, Path, description = "proposal id")),
    responses((status = 200, description = "the answer", body = serde_json::Value), (status = 401, description = "no or unknown token", body = super::openapi::ErrorBody), (status = 403, description = "role too low", body = super::openapi::ErrorBody), (status = 404, description = "not found", body = super::openapi::ErrorBody), (status = 409, description = "conflict", body = super::openapi::ErrorBody), (status = 422, description = "a rule is broken", body = super::openapi::ErrorBody)),
    security(("bearer" = []))
)]
async fn submit(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Json<Value>, AppError> {
    let account = caller.require(Role::Editor)?.clone();
    let note = note_of(&body)?;
    blocking(move || {
        let mut p = load(&state, &id)?;
        if p.state != ProposalState::Draft {
            return Err(edit::EditError::State(format!(
                "proposal {} is {}; only a draft can be submitted",
                p.id,
                p.state.as_str()
            ))
            .into());
        }
        if p.body.grids.is_empty() && p.body.workers.is_empty() {
            return Err(AppError::bad_request(
                "empty_proposal",
                format!("proposal {} changes nothing yet", p.id),
            ));
        }
        edit::rules::judge(&p, &state.catalog())?;
        p.state = ProposalState::Submitted;
        let saved = review(&state, &mut p, &account.name, "submit", note, "")?;
        Ok(Json(proposal_json(&saved)))
    })
    .await
}

#[utoipa::path(
    post,
    path = "/api/v1/proposals/{id}/publish",
    tag = "editing",
    summary = "publish (approver)",
    request_body(content = Option<serde_json::Value>, description = "optional `{\"note\": \"…\"}`", content_type = "application/json"),
    params(("id" = u64, Path, description = "proposal id")),
    responses((status = 200, description = "the answer", body = serde_json::Value), (status = 401, description = "no or unknown token", body = super::openapi::ErrorBody), (status = 403, description = "role too low", body = super::openapi::ErrorBody), (status = 404, description = "not found", body = super::openapi::ErrorBody), (status = 409, description = "conflict", body = super::openapi::ErrorBody), (status = 422, description = "a rule is broken", body = super::openapi::ErrorBody)),
    security(("bearer" = []))
)]
async fn publish(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Json<Value>, AppError> {
    let account = caller.require(Role::Approver)?.clone();
    let note = note_of(&body)?;
    blocking(move || {
        let _one = state.publishing();
        let started = Instant::now();
        // Judge against the store's newest data, not a snapshot a poll behind.
        state.reload_if_changed()?;
        let mut p = load(&state, &id)?;
        if p.state != ProposalState::Submitted {
            return Err(edit::EditError::State(format!("proposal {} is {}; submit it before publishing", p.id, p.state.as_str())).into());
        }
        let catalog = state.catalog();
        let committed = match edit::publish(&p, &catalog, state.store(), &account.name) {
            Ok(c) => c,
            Err(e) => {
                let message = e.to_string();
                let _ = state.store().audit(&account.name, "proposal.publish.refused", &format!("proposal {}", p.id), &message);
                return Err(e.into());
            }
        };
        let version = committed.version;
        let committed_ms = started.elapsed().as_secs_f64() * 1e3;
        p.state = ProposalState::Published;
        p.body.published_version = Some(version);
        let saved = review(&state, &mut p, &account.name, "publish", note, &format!("version {version}"))?;
        state.reload_after_commit(&p.system, &p.changed_bboxes(), &committed)?;
        // Search answers carry grids: its index follows the new version, in the background.
        state.prewarm_search();
        let served_ms = started.elapsed().as_secs_f64() * 1e3;
        tracing::info!(account = %account.name, proposal = p.id, version, committed_ms, served_ms, "proposal published");
        let mut v = proposal_json(&saved);
        v["data_version"] = json!(version);
        v["committed_ms"] = json!((committed_ms * 10.0).round() / 10.0);
        v["served_ms"] = json!((served_ms * 10.0).round() / 10.0);
        Ok(Json(v))
    })
    .await
}

#[utoipa::path(
    post,
    path = "/api/v1/proposals/{id}/reject",
    tag = "editing",
    summary = "reject (approver)",
    request_body(content = Option<serde_json::Value>, description = "optional `{\"note\": \"…\"}`", content_type = "application/json"),
    params(("id" = u64, Path, description = "proposal id")),
    responses((status = 200, description = "the answer", body = serde_json::Value), (status = 401, description = "no or unknown token", body = super::openapi::ErrorBody), (status = 403, description = "role too low", body = super::openapi::ErrorBody), (status = 404, description = "not found", body = super::openapi::ErrorBody), (status = 409, description = "conflict", body = super::openapi::ErrorBody)),
    security(("bearer" = []))
)]
async fn reject(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Json<Value>, AppError> {
    let account = caller.require(Role::Approver)?.clone();
    let note = note_of(&body)?;
    blocking(move || {
        let mut p = load(&state, &id)?;
        if !matches!(p.state, ProposalState::Submitted | ProposalState::Draft) {
            return Err(edit::EditError::State(format!(
                "proposal {} is {}; it cannot be rejected",
                p.id,
                p.state.as_str()
            ))
            .into());
        }
        p.state = ProposalState::Rejected;
        let detail = note.clone();
        let saved = review(&state, &mut p, &account.name, "reject", note, &detail)?;
        Ok(Json(proposal_json(&saved)))
    })
    .await
}
