//! Site registers per grid: `GET /api/v1/grids/{code}/stats` (counts per kind
//! and households, for the grid and each child) and
//! `GET /api/v1/grids/{code}/sites` (the sites inside a grid, paged).
//!
//! Household counts are register data: only a viewer (see [`super::viewer`])
//! gets them, in the stats and in each site row.
//!
//! A grid's counts cover its whole subtree: a site belongs to a grid of level
//! L when the lookup at level L finds that grid, so the counts are those of
//! the grid's own area, including any part no child covers.

use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use gridmap_data::catalog::Catalog;
use gridmap_data::sites::validate_kind;
use serde_json::{json, Value};

use super::error::AppError;
use super::params::Params;
use super::state::AppState;
use super::viewer::Access;

/// Sites one page returns unless `limit` says otherwise.
const DEFAULT_PAGE: usize = 100;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/grids/{code}/stats", get(stats))
        .route("/api/v1/grids/{code}/sites", get(sites))
}

fn counts(catalog: &Catalog, system: &str, grid: usize, access: Access) -> (Value, Option<u64>) {
    let stats = catalog
        .grid_site_stats(system, grid)
        .expect("the system comes from this catalog");
    (
        json!(stats.sites),
        access.full().then_some(stats.households),
    )
}

#[utoipa::path(
    get,
    path = "/api/v1/grids/{code}/stats",
    tag = "sites",
    summary = "site counts per kind for a grid and each child",
    params(("code" = String, Path, description = "grid code"), ("system" = Option<String>, Query, description = "grid system (the only one when absent)")),
    responses((status = 200, description = "the answer", body = serde_json::Value), (status = 400, description = "bad parameter", body = super::openapi::ErrorBody), (status = 404, description = "not found", body = super::openapi::ErrorBody))
)]
async fn stats(
    State(state): State<AppState>,
    access: Access,
    Path(code): Path<String>,
    params: Params,
) -> Result<Json<Value>, AppError> {
    let catalog = state.catalog();
    let found = catalog.find_grid(params.get("system"), &code)?;
    let (system, index, grid) = (found.system, found.index, found.grid);
    let name = &system.system().name;
    let (sites, households) = counts(&catalog, name, index, access);
    let children: Vec<Value> = system
        .children(index)
        .iter()
        .map(|&c| {
            let child = &system.grids()[c];
            let (sites, households) = counts(&catalog, name, c, access);
            with_households(
                json!({"code": child.code, "name": child.name, "level": child.level, "sites": sites}),
                households,
            )
        })
        .collect();
    Ok(Json(with_households(
        json!({
            "code": grid.code,
            "name": grid.name,
            "level": grid.level,
            "system": name,
            "sites": sites,
            "children": children,
        }),
        households,
    )))
}

/// Adds `households` to an object when the request may see it.
fn with_households(mut v: Value, households: Option<u64>) -> Value {
    if let (Some(h), Some(o)) = (households, v.as_object_mut()) {
        o.insert("households".into(), json!(h));
    }
    v
}

#[utoipa::path(
    get,
    path = "/api/v1/grids/{code}/sites",
    tag = "sites",
    summary = "the sites inside a grid, paged",
    params(("code" = String, Path, description = "grid code"), ("system" = Option<String>, Query, description = "grid system (the only one when absent)"), ("kind" = Option<String>, Query, description = "site kind"), ("limit" = Option<usize>, Query, description = "items per page"), ("offset" = Option<usize>, Query, description = "items skipped")),
    responses((status = 200, description = "the answer", body = serde_json::Value), (status = 400, description = "bad parameter", body = super::openapi::ErrorBody), (status = 404, description = "not found", body = super::openapi::ErrorBody))
)]
async fn sites(
    State(state): State<AppState>,
    access: Access,
    Path(code): Path<String>,
    params: Params,
) -> Result<Json<Value>, AppError> {
    let kind = params.get("kind");
    if let Some(k) = kind {
        validate_kind(k).map_err(|e| AppError::bad_request("bad_parameter", e))?;
    }
    let page = params.page(DEFAULT_PAGE)?;
    let catalog = state.catalog();
    let found = catalog.find_grid(params.get("system"), &code)?;
    let (system, index, grid) = (found.system, found.index, found.grid);
    let name = &system.system().name;
    let depth = system.system().depth_of(&grid.level);
    let register = catalog.site_register();
    let kind_number = kind.map(|k| register.kinds().iter().position(|x| x == k));
    let members = catalog.sites_in_grid(name, index);
    // Sites are in kind/id order, so one kind is a contiguous run.
    let selected: &[u32] = match kind_number {
        None => members,
        Some(None) => &[],
        Some(Some(k)) => {
            let start = members.partition_point(|&i| register.kind_number(i as usize) < Some(k));
            let end = members.partition_point(|&i| register.kind_number(i as usize) <= Some(k));
            &members[start..end]
        }
    };
    let assignment = register.assignment(name);
    let listed: Vec<Value> = page
        .of(selected)
        .map(|&i| {
            let site = &register.sites()[i as usize];
            let on_border = depth
                .zip(assignment)
                .and_then(|(d, a)| a.hit(i as usize, d))
                .is_some_and(|h| h.on_border);
            let row = json!({
                "id": site.id,
                "kind": register.kind_name(site),
                "name": site.name,
                "address": site.address,
                "lon": site.lon,
                "lat": site.lat,
                "on_border": on_border,
            });
            match (access.full(), row) {
                (true, Value::Object(mut o)) => {
                    o.insert("households".into(), json!(site.households));
                    Value::Object(o)
                }
                (_, row) => row,
            }
        })
        .collect();
    Ok(Json(json!({
        "code": grid.code,
        "system": name,
        "kind": kind,
        "total": selected.len(),
        "offset": page.offset,
        "limit": page.limit,
        "sites": listed,
    })))
}
