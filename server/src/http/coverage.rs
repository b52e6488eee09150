//! `GET /api/v1/coverage?system=&format=json|geojson&sliver_m2=&households=&proximity_m=&max_shares=`:
//! the coverage report of one grid system (see `gridmap_data::analysis`).
//!
//! A check can take seconds on a large system, so it runs on a blocking
//! thread, from the catalog snapshot the request started with, and its report
//! is cached per data version in the server state ([`AppState::coverage_report`]).
//!
//! The public gets the report without the findings that state households per
//! grid (`withheld` names them); a viewer token sees the whole report.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use gridmap_data::analysis::CheckOptions;

use super::error::AppError;
use super::params::Params;
use super::state::AppState;
use super::viewer::Access;
use super::work_limit::Work;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/coverage", get(coverage))
}

fn options(params: &Params) -> Result<CheckOptions, AppError> {
    let defaults = CheckOptions::default();
    let households = match params.get("households") {
        None => defaults.households,
        Some(s) => s.parse::<gridmap_data::analysis::HouseholdRange>()?,
    };
    let opts = CheckOptions {
        sliver_m2: params.f64("sliver_m2")?.unwrap_or(defaults.sliver_m2),
        households,
        proximity_m: params.f64("proximity_m")?.unwrap_or(defaults.proximity_m),
        max_shares: params.f64("max_shares")?.unwrap_or(defaults.max_shares),
    };
    opts.validate()?;
    Ok(opts)
}

#[utoipa::path(
    get,
    path = "/api/v1/coverage",
    tag = "coverage",
    summary = "the coverage report: gaps, overlaps, slivers, staffing, workload",
    params(("system" = Option<String>, Query, description = "grid system (the only one when absent)"), ("format" = Option<String>, Query, description = "json or geojson"), ("sliver_m2" = Option<f64>, Query, description = "smallest area reported as a sliver"), ("households" = Option<String>, Query, description = "households per grid, min-max"), ("proximity_m" = Option<f64>, Query, description = "internet cafe to school distance"), ("max_shares" = Option<f64>, Query, description = "grids a worker may carry")),
    responses((status = 200, description = "the answer", body = serde_json::Value), (status = 400, description = "bad parameter", body = super::openapi::ErrorBody), (status = 503, description = "busy (Retry-After)", body = super::openapi::ErrorBody))
)]
async fn coverage(
    State(state): State<AppState>,
    access: Access,
    params: Params,
) -> Result<Response, AppError> {
    let opts = options(&params)?;
    let geojson = match params.get("format").unwrap_or("json") {
        "json" => false,
        "geojson" => true,
        other => {
            return Err(AppError::bad_request(
                "bad_parameter",
                format!("parameter `format` must be `json` or `geojson`, got `{other}`"),
            ))
        }
    };
    let catalog = state.catalog();
    let system = params.system_name(&catalog)?;
    // A report not built yet takes one of the few coverage slots.
    let slot = if state.coverage_cached(&catalog, &system, &opts) {
        None
    } else {
        Some(state.work().acquire(Work::Coverage).await?)
    };
    let report = tokio::task::spawn_blocking(move || {
        let report = state.coverage_report(&catalog, &system, &opts);
        drop(slot);
        report
    })
    .await??;
    let report = if access.full() {
        report
    } else {
        std::sync::Arc::new(report.public())
    };
    Ok(if geojson {
        (
            [(header::CONTENT_TYPE, "application/geo+json")],
            Json(report.to_geojson()),
        )
            .into_response()
    } else {
        Json(report.to_json()).into_response()
    })
}
