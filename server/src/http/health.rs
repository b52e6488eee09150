//! `GET /health`: liveness plus the data version being served.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

use super::state::AppState;

/// Why the store cannot be reached right now, by who noticed (`poll`, `listen`).
///
/// Process-wide, not in [`AppState`]: only `serve`'s background tasks (the
/// version poll and the PostgreSQL listener) set it, and a process serves
/// one store. The catalog keeps being served from the last snapshot meanwhile.
static STORE_PROBLEMS: std::sync::Mutex<std::collections::BTreeMap<&'static str, String>> =
    std::sync::Mutex::new(std::collections::BTreeMap::new());

/// Records (`Some`) or clears (`None`) a problem reaching the store.
pub fn set_store_problem(source: &'static str, problem: Option<String>) {
    let mut problems = STORE_PROBLEMS.lock().unwrap_or_else(|p| p.into_inner());
    match problem {
        Some(p) => {
            problems.insert(source, p);
        }
        None => {
            problems.remove(source);
        }
    }
}

fn store_problems() -> Vec<String> {
    let problems = STORE_PROBLEMS.lock().unwrap_or_else(|p| p.into_inner());
    problems.iter().map(|(k, v)| format!("{k}: {v}")).collect()
}

pub fn router() -> Router<AppState> {
    Router::new().route("/health", get(health))
}

/// `status` is `degraded` while the store holds edits made outside gridmap
/// that break the change rules: the previous snapshot is still served, and
/// `refused` names the version and its problems; likewise while the store
/// cannot be reached (`store` says why).
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
    let problems = store_problems();
    if !problems.is_empty() {
        body["status"] = json!("degraded");
        body["store"] = json!(problems.join("; "));
    }
    Json(body)
}
