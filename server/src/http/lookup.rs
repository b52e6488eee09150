//! `GET /api/v1/lookup`: which grids contain a point, and who serves them.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use gridmap_data::catalog::{Catalog, GridRef};
use gridmap_data::crs::Crs;
use serde::Serialize;

use super::error::AppError;
use super::params::Params;
use super::state::AppState;
use super::viewer::Access;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/lookup", get(lookup))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct LookupGrid {
    /// `system`, `code`, `name`, `level`, `parent`.
    #[serde(flatten)]
    #[schema(value_type = Object)]
    grid: GridRef,
    /// The point lay exactly on this grid's border; the border rule gave it this grid.
    on_border: bool,
}

/// A worker as shown on the lookup card: the public card (name, role,
/// phone, photo, duties, the grid served and the share of it, shown as 兼),
/// plus the internal id for a viewer.
#[derive(Serialize, utoipa::ToSchema)]
pub struct WorkerCard {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub name: String,
    pub phone: String,
    pub role: String,
    pub photo: String,
    pub duties: String,
    pub grid: String,
    pub system: String,
    pub share: f64,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct LookupAnswer {
    /// The point in WGS84 longitude/latitude, after any CRS conversion.
    point: [f64; 2],
    grids: Vec<LookupGrid>,
    workers: Vec<WorkerCard>,
}

pub fn worker_cards(
    catalog: &Catalog,
    system: &str,
    code: &str,
    access: Access,
) -> Vec<WorkerCard> {
    catalog
        .workers_of(system, code)
        .into_iter()
        .map(|(w, share)| WorkerCard {
            id: access.full().then(|| w.id.clone()),
            name: w.name.clone(),
            phone: w.phone.clone(),
            role: w.role.clone(),
            photo: w.photo.clone(),
            duties: w.duties.clone(),
            grid: code.to_string(),
            system: system.to_string(),
            share,
        })
        .collect()
}

#[utoipa::path(
    get,
    path = "/api/v1/lookup",
    tag = "lookup",
    summary = "the grids holding a point, top level first, and their gridworkers",
    params(("lon" = f64, Query, description = "longitude (or x in `crs`)"), ("lat" = f64, Query, description = "latitude (or y in `crs`)"), ("crs" = Option<String>, Query, description = "CRS of lon/lat: EPSG:4326 (default), EPSG:4490, EPSG:45xx Gauss-Krüger, GCJ02, BD09, EPSG:3857"), ("system" = Option<String>, Query, description = "grid system (the only one when absent)"), ("at" = Option<u64>, Query, description = "the data version to answer from (history)")),
    responses((status = 200, description = "the answer", body = LookupAnswer), (status = 400, description = "bad parameter", body = super::openapi::ErrorBody), (status = 404, description = "not found", body = super::openapi::ErrorBody), (status = 410, description = "history not kept", body = super::openapi::ErrorBody), (status = 429, description = "rate limited (Retry-After)", body = super::openapi::ErrorBody))
)]
async fn lookup(
    State(state): State<AppState>,
    access: Access,
    params: Params,
) -> Result<Json<LookupAnswer>, AppError> {
    let x = params
        .f64("lon")?
        .ok_or_else(|| AppError::bad_request("missing_parameter", "parameter `lon` is required"))?;
    let y = params
        .f64("lat")?
        .ok_or_else(|| AppError::bad_request("missing_parameter", "parameter `lat` is required"))?;
    let crs = match params.get("crs") {
        None => Crs::Wgs84,
        Some(s) => Crs::parse(s).map_err(|e| AppError::bad_request("bad_crs", e.to_string()))?,
    };
    let (lon, lat) = crs
        .to_wgs84(x, y)
        .map_err(|e| AppError::bad_request("bad_coordinates", e.to_string()))?;
    if !(-180.0..=180.0).contains(&lon) || !(-90.0..=90.0).contains(&lat) {
        return Err(AppError::bad_request(
            "bad_coordinates",
            format!(
                "({x}, {y}) under {} is not a point on Earth (lon {lon}, lat {lat})",
                crs.code()
            ),
        ));
    }
    let catalog = super::history::read_catalog(&state, &params, access).await?;
    let mut grids = Vec::new();
    let mut workers = Vec::new();
    for system in catalog.select_systems(params.get("system"))? {
        let name = &system.system().name;
        for hit in system.locate(lon, lat) {
            let g = &system.grids()[hit.grid];
            workers.extend(worker_cards(&catalog, name, &g.code, access));
            grids.push(LookupGrid {
                grid: GridRef::new(name, g),
                on_border: hit.on_border,
            });
        }
    }
    Ok(Json(LookupAnswer {
        point: [lon, lat],
        grids,
        workers,
    }))
}
