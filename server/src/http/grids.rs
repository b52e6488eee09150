//! `GET /api/v1/grids` (list) and `GET /api/v1/grids/{code}` (one GeoJSON Feature).

use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use geo::{BoundingRect, Intersects};
use geo_types::{coord, Rect};
use gridmap_data::catalog::GridRef;
use gridmap_data::geometry::area_m2;
use serde::Serialize;
use serde_json::{json, Value};

use super::error::AppError;
use super::lookup::worker_cards;
use super::params::Params;
use super::state::AppState;

/// Grids one list page returns unless `limit` says otherwise.
const DEFAULT_PAGE: usize = 1_000;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/grids", get(list))
        .route("/api/v1/grids/{code}", get(one))
}

#[derive(Serialize)]
struct ListedGrid {
    #[serde(flatten)]
    grid: GridRef,
    /// `[minlon, minlat, maxlon, maxlat]`.
    bbox: Option<[f64; 4]>,
}

#[derive(Serialize)]
struct GridList {
    total: usize,
    offset: usize,
    grids: Vec<ListedGrid>,
}

fn bbox_of(g: &gridmap_data::Grid) -> Option<[f64; 4]> {
    g.geometry
        .bounding_rect()
        .map(|r| [r.min().x, r.min().y, r.max().x, r.max().y])
}

#[utoipa::path(
    get,
    path = "/api/v1/grids",
    tag = "grids",
    summary = "grids, filtered by system, level, parent and bbox, paged",
    params(("system" = Option<String>, Query, description = "grid system (the only one when absent)"), ("level" = Option<String>, Query, description = "level name"), ("parent" = Option<String>, Query, description = "parent grid code"), ("bbox" = Option<String>, Query, description = "minlon,minlat,maxlon,maxlat"), ("limit" = Option<usize>, Query, description = "items per page"), ("offset" = Option<usize>, Query, description = "items skipped")),
    responses((status = 200, description = "the answer", body = serde_json::Value), (status = 400, description = "bad parameter", body = super::openapi::ErrorBody))
)]
async fn list(State(state): State<AppState>, params: Params) -> Result<Json<GridList>, AppError> {
    let catalog = state.catalog();
    let systems = catalog.select_systems(params.get("system"))?;
    let level = params.get("level");
    if let Some(level) = level {
        if !systems.iter().any(|s| s.system().depth_of(level).is_some()) {
            return Err(AppError::bad_request(
                "unknown_level",
                format!("no selected grid system has a level named `{level}`"),
            ));
        }
    }
    let parent = params.get("parent");
    let bbox = params
        .bbox("bbox")?
        .map(|[a, b, c, d]| Rect::new(coord! {x: a, y: b}, coord! {x: c, y: d}));
    let page = params.page(DEFAULT_PAGE)?;
    let mut matching = Vec::new();
    for s in systems {
        let name = &s.system().name;
        for g in s.grids() {
            let keep = level.is_none_or(|l| g.level == l)
                && parent.is_none_or(|p| g.parent.as_deref() == Some(p))
                && bbox.is_none_or(|r| g.geometry.intersects(&r));
            if keep {
                matching.push(ListedGrid {
                    grid: GridRef::new(name, g),
                    bbox: bbox_of(g),
                });
            }
        }
    }
    let total = matching.len();
    Ok(Json(GridList {
        total,
        offset: page.offset,
        grids: page.of(matching).collect(),
    }))
}

#[utoipa::path(
    get,
    path = "/api/v1/grids/{code}",
    tag = "grids",
    summary = "one grid as a GeoJSON Feature with children and workers",
    params(("code" = String, Path, description = "grid code"), ("system" = Option<String>, Query, description = "grid system (the only one when absent)"), ("at" = Option<u64>, Query, description = "data version (history)"), ("proposal" = Option<u64>, Query, description = "a proposal's view")),
    responses((status = 200, description = "the answer", body = serde_json::Value), (status = 400, description = "bad parameter", body = super::openapi::ErrorBody), (status = 404, description = "not found", body = super::openapi::ErrorBody), (status = 410, description = "history not kept", body = super::openapi::ErrorBody))
)]
async fn one(
    State(state): State<AppState>,
    access: super::viewer::Access,
    Path(code): Path<String>,
    params: Params,
) -> Result<Json<Value>, AppError> {
    let catalog = super::history::read_catalog(&state, &params, access).await?;
    let found = catalog.find_grid(params.get("system"), &code)?;
    let (system, grid) = (found.system, found.grid);
    let name = &system.system().name;
    let children: Vec<&str> = system
        .children(found.index)
        .iter()
        .map(|&c| system.grids()[c].code.as_str())
        .collect();
    let geometry = geojson::Geometry::from(&grid.geometry);
    Ok(Json(json!({
        "type": "Feature",
        "id": grid.code,
        "bbox": bbox_of(grid),
        "geometry": geometry,
        "properties": {
            "code": grid.code,
            "name": grid.name,
            "level": grid.level,
            "system": name,
            "parent": grid.parent,
            "area_m2": area_m2(&grid.geometry),
            // Free attributes may hold anything an import carried: viewers only.
            "attributes": if access.full() { json!(grid.attributes) } else { json!({}) },
            "children": children,
            "workers": worker_cards(&catalog, name, &grid.code, access),
        }
    })))
}
