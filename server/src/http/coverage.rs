//! `GET /api/v1/coverage?system=&format=json|geojson&sliver_m2=&households=&proximity_m=&max_shares=`:
//! the coverage report of one grid system (see `gridmap_data::analysis`).
//!
//! A check can take seconds on a large system, so it runs on a blocking
//! thread and its report is cached per (catalog snapshot, system, options):
//! a new data version brings a new catalog and so a fresh report.

use std::sync::{Arc, Mutex, Weak};

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use gridmap_data::analysis::{check, pick_system, AnalysisError, CheckOptions, CoverageReport};
use gridmap_data::index::Catalog;
use gridmap_data::progress::NoProgress;

use super::error::AppError;
use super::params::Params;
use super::state::AppState;

/// Reports kept; the oldest is dropped first.
const CACHE_ENTRIES: usize = 8;

struct Entry {
    /// The snapshot the report was made from; dead once the server moved on.
    catalog: Weak<Catalog>,
    system: String,
    opts: CheckOptions,
    report: Arc<CoverageReport>,
}

static CACHE: Mutex<Vec<Entry>> = Mutex::new(Vec::new());

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/coverage", get(coverage))
}

fn options(params: &Params) -> Result<CheckOptions, AppError> {
    let defaults = CheckOptions::default();
    let households = match params.get("households") {
        None => defaults.households,
        Some(s) => s
            .parse()
            .map_err(|e: AnalysisError| AppError::bad_request("bad_parameter", e.to_string()))?,
    };
    let opts = CheckOptions {
        sliver_m2: params.f64("sliver_m2")?.unwrap_or(defaults.sliver_m2),
        households,
        proximity_m: params.f64("proximity_m")?.unwrap_or(defaults.proximity_m),
        max_shares: params.f64("max_shares")?.unwrap_or(defaults.max_shares),
    };
    opts.validate()
        .map_err(|e| AppError::bad_request("bad_parameter", e.to_string()))?;
    Ok(opts)
}

fn analysis_error(e: AnalysisError) -> AppError {
    match e {
        AnalysisError::UnknownSystem { .. } => {
            AppError::bad_request("unknown_system", e.to_string())
        }
        AnalysisError::SystemRequired { .. } => {
            AppError::bad_request("missing_parameter", format!("{e} with `system=`"))
        }
        AnalysisError::BadOption { .. } => AppError::bad_request("bad_parameter", e.to_string()),
    }
}

fn cached(
    catalog: &Arc<Catalog>,
    system: &str,
    opts: &CheckOptions,
) -> Option<Arc<CoverageReport>> {
    let mut cache = CACHE.lock().expect("coverage cache poisoned");
    cache.retain(|e| e.catalog.strong_count() > 0);
    cache
        .iter()
        .find(|e| {
            e.system == system
                && &e.opts == opts
                && e.catalog
                    .upgrade()
                    .is_some_and(|c| Arc::ptr_eq(&c, catalog))
        })
        .map(|e| e.report.clone())
}

fn remember(
    catalog: &Arc<Catalog>,
    system: String,
    opts: CheckOptions,
    report: Arc<CoverageReport>,
) {
    let mut cache = CACHE.lock().expect("coverage cache poisoned");
    if cache.len() >= CACHE_ENTRIES {
        cache.remove(0);
    }
    cache.push(Entry {
        catalog: Arc::downgrade(catalog),
        system,
        opts,
        report,
    });
}

/// The report for the current data: from the cache, or computed. Blocking.
pub fn report(
    state: &AppState,
    requested: Option<&str>,
    opts: &CheckOptions,
) -> Result<Arc<CoverageReport>, AppError> {
    let mut catalog = state.catalog();
    let system = pick_system(&catalog, requested).map_err(analysis_error)?;
    if let Some(hit) = cached(&catalog, &system, opts) {
        return Ok(hit);
    }
    let (mut version, mut sites) = state.sites(None)?;
    // Sites and grids must come from the same data version: if the store moved
    // on since the catalog was loaded, catch up first.
    for _ in 0..3 {
        if version == catalog.version() {
            break;
        }
        state.reload_if_changed()?;
        catalog = state.catalog();
        (version, sites) = state.sites(None)?;
    }
    let report =
        Arc::new(check(&catalog, &system, &sites, opts, &NoProgress).map_err(analysis_error)?);
    remember(&catalog, system, opts.clone(), report.clone());
    Ok(report)
}

async fn coverage(State(state): State<AppState>, params: Params) -> Result<Response, AppError> {
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
    let requested = params.get("system").map(str::to_string);
    let report = tokio::task::spawn_blocking(move || report(&state, requested.as_deref(), &opts))
        .await
        .map_err(anyhow::Error::from)??;
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
