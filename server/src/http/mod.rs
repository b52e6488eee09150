//! The HTTP interface. Each module owns its `router()`; [`app`] puts them together.

pub mod assign;
pub mod auth;
pub mod base_url;
pub mod boards;
pub mod coverage;
pub mod editing;
pub mod error;
pub mod grids;
pub mod health;
pub mod history;
pub mod limits;
pub mod listener;
pub mod lookup;
pub mod metrics;
pub mod ogc;
pub mod openapi;
pub mod params;
pub mod rate_limit;
pub mod request_id;
pub mod search;
pub mod sites;
pub mod state;
pub mod style;
pub mod tiles;
pub mod viewer;
pub mod web;
pub mod work_limit;

use axum::Router;
use tower_http::compression::CompressionLayer;
use tower_http::cors::{Any, CorsLayer};
use tower_http::trace::TraceLayer;

pub use state::AppState;

/// The whole application; tests call `app(state).oneshot(request)`.
pub fn app(state: AppState) -> Router {
    // Any origin may read, and POST to the assignment endpoint: nothing here
    // uses cookies or credentials.
    let cors = CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([axum::http::Method::GET, axum::http::Method::POST])
        .allow_headers([
            axum::http::header::CONTENT_TYPE,
            axum::http::header::IF_NONE_MATCH,
        ]);
    // The public, per-request-costly answers are rate limited per client.
    let limited = lookup::router()
        .merge(search::router())
        .merge(boards::router())
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            rate_limit::limit,
        ));
    // Writes carry a bearer token: only `--allow-origin` pages may send one
    // cross-origin (never `*`); without the flag, same origin only.
    let edit_cors = CorsLayer::new()
        .allow_origin(state.config().allow_origins.clone())
        .allow_methods([axum::http::Method::GET, axum::http::Method::POST])
        .allow_headers([
            axum::http::header::CONTENT_TYPE,
            axum::http::header::AUTHORIZATION,
        ]);
    let editing = editing::router().merge(history::router()).layer(edit_cors);
    let public = Router::new()
        .merge(health::router())
        .merge(metrics::router())
        .merge(openapi::router())
        .merge(limited)
        .merge(assign::router())
        .merge(grids::router())
        .merge(ogc::router())
        .merge(sites::router())
        .merge(coverage::router())
        .merge(web::router())
        .merge(style::router())
        .merge(tiles::router())
        .layer(cors);
    let routes = public.merge(editing).fallback(error::no_route).layer(
        axum::middleware::from_fn_with_state(state.clone(), auth::private_reads),
    );
    limits::apply(routes, &state)
        // Outside the limits, so their refusals are counted too; a layer of
        // the router still sees the matched route template.
        .layer(axum::middleware::from_fn(metrics::track))
        .layer(CompressionLayer::new())
        .layer(TraceLayer::new_for_http())
        .layer(axum::middleware::from_fn(request_id::assign))
        .with_state(state)
}
