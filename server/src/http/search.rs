//! `GET /api/v1/search?q=&system=&limit=`: registered sites matching what a
//! resident typed, each with its grids (top level first) and the workers'
//! public cards; `ambiguous` when the best candidates lie in different grids
//! and score alike (then all of them are listed). The same endpoint with a
//! small `limit` gives suggestions while typing.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use gridmap_data::search::{search as run_search, SearchError};
use serde_json::{json, Value};

use super::error::AppError;
use super::lookup::worker_cards;
use super::params::Params;
use super::state::AppState;
use super::viewer::Access;

/// Results when `limit` is not given.
const DEFAULT_LIMIT: usize = 10;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/search", get(search))
}

impl From<SearchError> for AppError {
    fn from(e: SearchError) -> Self {
        match e {
            SearchError::EmptyQuery | SearchError::QueryTooLong { .. } => {
                Self::bad_request("bad_query", e.to_string())
            }
            SearchError::BadLimit { .. } => Self::bad_request("bad_parameter", e.to_string()),
            SearchError::UnknownSystem(_) => Self::bad_request("unknown_system", e.to_string()),
            _ => Self::Internal(e.into()),
        }
    }
}

#[utoipa::path(
    get,
    path = "/api/v1/search",
    tag = "search",
    summary = "address search: sites and their grids, best first, with the ambiguity flag",
    params(("q" = String, Query, description = "the address typed"), ("limit" = Option<usize>, Query, description = "results (1 to 50)"), ("system" = Option<String>, Query, description = "grid system (the only one when absent)")),
    responses((status = 200, description = "the answer", body = serde_json::Value), (status = 400, description = "bad parameter", body = super::openapi::ErrorBody), (status = 429, description = "rate limited (Retry-After)", body = super::openapi::ErrorBody))
)]
async fn search(
    State(state): State<AppState>,
    access: Access,
    params: Params,
) -> Result<Json<Value>, AppError> {
    let q = params.required("q")?.to_string();
    // The range (1 to `search::MAX_LIMIT`) is checked by `search` itself.
    let limit = params.usize("limit", DEFAULT_LIMIT)?;
    let catalog = state.catalog();
    let system = params.system_name(&catalog)?;
    tokio::task::spawn_blocking(move || {
        let index = state.search_index(&catalog);
        let answer = run_search(&catalog, &index, &system, &q, limit)?;
        let grids_of = catalog
            .system(&system)
            .expect("picked from this catalog")
            .grids();
        let register = catalog.site_register();
        let results: Vec<Value> = answer
            .results
            .iter()
            .map(|found| {
                let site = &catalog.sites()[found.site];
                let grids: Vec<Value> = found
                    .grids
                    .iter()
                    .map(|&g| {
                        let g = &grids_of[g];
                        json!({"code": g.code, "name": g.name, "level": g.level})
                    })
                    .collect();
                let workers: Vec<_> = found
                    .grids
                    .iter()
                    .flat_map(|&g| worker_cards(&catalog, &system, &grids_of[g].code, access))
                    .collect();
                json!({
                    "id": site.id,
                    "kind": register.kind_name(site),
                    "name": site.name,
                    "address": site.address,
                    "location": [site.lon, site.lat],
                    "grids": grids,
                    "workers": workers,
                    "score": (f64::from(found.score) * 1000.0).round() / 1000.0,
                })
            })
            .collect();
        Ok(Json(
            json!({ "results": results, "ambiguous": answer.ambiguous }),
        ))
    })
    .await?
}
