//! `GET /health`: liveness plus the data version being served.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

use super::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/health", get(health))
}

async fn health(State(state): State<AppState>) -> Json<Value> {
    let catalog = state.catalog();
    Json(json!({
        "status": "ok",
        "data_version": catalog.version(),
        "systems": catalog.systems().map(|s| s.system().name.clone()).collect::<Vec<_>>(),
    }))
}
