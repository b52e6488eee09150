//! `GET /api/v1/openapi.json`: the OpenAPI 3.1 description of the HTTP API,
//! generated from the handlers' own `#[utoipa::path]` annotations (paths,
//! parameters, statuses, bodies) and the answer types, so it cannot drift
//! far from the code; schemathesis fuzzes the running server against it in
//! the test script. `/ogc` carries its own definition (`/ogc/api`).

use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

use super::state::AppState;

/// The body of every error answer.
#[derive(ToSchema)]
#[allow(dead_code)] // describes the JSON `error::json_error` writes
pub struct ErrorBody {
    error: ErrorDetail,
}

#[derive(ToSchema)]
#[allow(dead_code)]
struct ErrorDetail {
    /// A stable machine-readable word: `bad_parameter`, `unknown_grid` …
    code: String,
    /// What went wrong, for people.
    message: String,
}

/// The bearer token of `gridmap user add` (or `--viewer-token` for reads).
struct BearerToken;

impl Modify for BearerToken {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "gridmap HTTP API",
        description = "Grids, gridworkers and sites of community grid management (网格化管理): lookup, search, bulk assignment, coverage, publicity boards, proposals and history. Errors are `{\"error\":{\"code\",\"message\"}}`."
    ),
    paths(
        super::health::health,
        super::lookup::lookup,
        super::search::search,
        super::assign::assign,
        super::grids::list,
        super::grids::one,
        super::sites::stats,
        super::sites::sites,
        super::coverage::coverage,
        super::boards::board,
        super::editing::create,
        super::editing::list,
        super::editing::one,
        super::editing::add_edit,
        super::editing::impact,
        super::editing::submit,
        super::editing::publish,
        super::editing::reject,
        super::history::list,
        super::history::revert,
        super::history::audit,
    ),
    components(schemas(ErrorBody, super::lookup::LookupAnswer, super::lookup::WorkerCard)),
    modifiers(&BearerToken)
)]
struct ApiDoc;

/// The description as JSON.
pub fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/openapi.json", get(serve))
}

async fn serve() -> Response {
    Json(document()).into_response()
}
