//! `GET /health`: liveness plus the data version being served.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

use super::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/health", get(health))
}

/// `status` is `degraded` while the store holds edits made outside gridmap
/// that break the change rules: the previous snapshot is still served, and
/// `refused` names the version and its problems.
#[utoipa::path(
    get,
    path = "/health",
    tag = "health",
    summary = "liveness, the data version served, `degraded` with the refused version's problems",
    responses((status = 200, description = "the answer", body = serde_json::Value))
)]
async fn health(State(state): State<AppState>) -> Json<Value> {
    let catalog = state.catalog();
    let mut body = json!({
        "status": "ok",
        "data_version": catalog.version(),
        "systems": catalog.systems().map(|s| s.system().name.clone()).collect::<Vec<_>>(),
    });
    if let Some(refused) = state.refused() {
        body["status"] = json!("degraded");
        body["refused"] = json!(refused.as_ref());
    }
    Json(body)
}
