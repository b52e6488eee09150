//! OGC API – Features, Part 1 (Core, GeoJSON, OpenAPI 3.0) at `/ogc`, so
//! QGIS, ArcGIS and GDAL (`OAPIF:http://host/ogc`) add the grids as a live,
//! queryable layer.
//!
//! - `GET /ogc` the landing page, `/ogc/conformance`, `/ogc/api` the API
//!   definition ([`openapi`]);
//! - `GET /ogc/collections`: one collection per grid system and level, id
//!   `{system}.{level}` (e.g. `grid.block`), and — only for a request with a
//!   viewer or account token — one per site register, id `sites.{kind}`;
//! - `GET /ogc/collections/{id}`, `/items` ([`items`]: `bbox`, `limit`,
//!   `offset`, `datetime`, equality filters, `next`/`prev` links) and
//!   `/items/{featureId}` (a grid's code, a site's id).
//!
//! Every geometry is CRS84 (longitude, latitude on WGS84), the store's own:
//! nothing is converted. Public answers carry what a publicity board shows;
//! grids' free attributes and site registers need a token, as in the rest of
//! the API.

mod collections;
mod items;
mod openapi;

use axum::http::header::CONTENT_TYPE;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

use super::error::AppError;
use super::params::Params;
use super::state::AppState;

pub use collections::Collection;

/// The one CRS of every answer.
pub const CRS84: &str = "http://www.opengis.net/def/crs/OGC/1.3/CRS84";

/// Media types of the documents and links.
const JSON: &str = "application/json";
const GEOJSON: &str = "application/geo+json";
const OPENAPI: &str = "application/vnd.oai.openapi+json;version=3.0";

/// The conformance classes implemented (no HTML encoding).
const CONFORMS_TO: [&str; 3] = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
];

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/ogc", get(landing))
        .route("/ogc/", get(landing))
        .route("/ogc/conformance", get(conformance))
        .route("/ogc/api", get(api))
        .route("/ogc/collections", get(collections::list))
        .route("/ogc/collections/{id}", get(collections::one))
        .route("/ogc/collections/{id}/items", get(items::list))
        .route("/ogc/collections/{id}/items/{feature}", get(items::one))
}

/// `{base}/ogc`, the root every link is made from.
fn root(state: &AppState, headers: &HeaderMap) -> String {
    format!("{}/ogc", state.public_base(headers))
}

fn link(href: String, rel: &str, kind: &str, title: &str) -> Value {
    json!({"href": href, "rel": rel, "type": kind, "title": title})
}

/// A JSON answer with its media type (GeoJSON for features).
fn answer(body: Value, media_type: &'static str) -> Response {
    ([(CONTENT_TYPE, media_type)], Json(body)).into_response()
}

/// Refuses query parameters the API definition does not list (Core
/// requirement `/req/core/query-param-unknown`) and any `f` other than JSON,
/// the only encoding served.
fn only_params(params: &Params, allowed: &[&str]) -> Result<(), AppError> {
    let mut unknown: Vec<&str> = params
        .0
        .keys()
        .map(String::as_str)
        .filter(|k| *k != "f" && !allowed.contains(k))
        .collect();
    unknown.sort_unstable();
    if let Some(first) = unknown.first() {
        let accepted = if allowed.is_empty() {
            "none but `f`".to_string()
        } else {
            allowed
                .iter()
                .map(|a| format!("`{a}`"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        return Err(AppError::bad_request(
            "bad_parameter",
            format!("unknown parameter `{first}`; this resource accepts {accepted}"),
        ));
    }
    match params.get("f") {
        None | Some("json" | "geojson" | "application/json" | "application/geo+json") => Ok(()),
        Some(other) => Err(AppError::Status {
            status: axum::http::StatusCode::NOT_ACCEPTABLE,
            code: "not_acceptable",
            message: format!("encoding `{other}` is not served; use f=json"),
        }),
    }
}

async fn landing(
    axum::extract::State(state): axum::extract::State<AppState>,
    headers: HeaderMap,
    params: Params,
) -> Result<Response, AppError> {
    only_params(&params, &[])?;
    let root = root(&state, &headers);
    Ok(answer(
        json!({
            "title": "gridmap",
            "description": "网格化管理: the grid systems of this server (streets, communities, unit grids) as OGC API – Features collections",
            "links": [
                link(root.clone(), "self", JSON, "this document"),
                link(format!("{root}/api"), "service-desc", OPENAPI, "the API definition"),
                link(format!("{root}/conformance"), "conformance", JSON, "conformance classes implemented"),
                link(format!("{root}/collections"), "data", JSON, "the collections"),
            ],
        }),
        JSON,
    ))
}

async fn conformance(params: Params) -> Result<Response, AppError> {
    only_params(&params, &[])?;
    Ok(answer(json!({ "conformsTo": CONFORMS_TO }), JSON))
}

async fn api(
    axum::extract::State(state): axum::extract::State<AppState>,
    headers: HeaderMap,
    params: Params,
) -> Result<Response, AppError> {
    only_params(&params, &[])?;
    Ok(answer(openapi::document(&root(&state, &headers)), OPENAPI))
}
