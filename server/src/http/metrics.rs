//! `GET /metrics`: what an operator's Prometheus scrapes, in the OpenMetrics
//! text format (prometheus-client, the format's reference crate for Rust).
//!
//! - `gridmap_http_requests_total{route,method,status}` and
//!   `gridmap_http_request_duration_seconds{route}`: `route` is the matched
//!   route template (`/tiles/{system}/{z}/{x}/{file}`), never the raw path, so
//!   a scan of random URLs cannot grow the label set (unmatched paths are
//!   `unmatched`);
//! - `gridmap_tile_cache_requests_total{result="hit"|"miss"}`,
//!   `gridmap_tile_renders_total`, `gridmap_tile_renders_in_flight`,
//!   `gridmap_tile_cache_bytes`;
//! - `gridmap_catalog_version`, `gridmap_catalog_reloads_total`,
//!   `gridmap_catalog_reload_seconds`;
//! - `gridmap_rejected_total{reason}`: requests turned away by a limit
//!   (`rate_limited`, `busy`, `timeout`, `body_too_large`, `uri_too_long`,
//!   `headers_too_large`; the route label of the request counter tells which
//!   work was busy) and
//!   connections closed by the watchdog (`header_timeout`, `idle_timeout`,
//!   `stalled`).
//!
//! The registry is the process's (one server per process); numbers carry no
//! personal data, so the endpoint is open like `/health` (put it behind the
//! proxy's access rules to hide it).

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

use super::state::AppState;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    route: String,
    method: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResultLabels {
    result: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabels {
    reason: String,
}

type Histograms<L> = Family<L, Histogram, fn() -> Histogram>;

/// Latency buckets from 0.5 ms to about 33 s.
fn latency_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.0005, 2.0, 17))
}

/// Every metric the server keeps.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    durations: Histograms<RouteLabels>,
    tile_cache: Family<ResultLabels, Counter>,
    renders_in_flight: Gauge,
    renders: Counter,
    tile_cache_bytes: Gauge,
    catalog_version: Gauge,
    reloads: Counter,
    reload_seconds: Histogram,
    rejected: Family<ReasonLabels, Counter>,
}

impl Metrics {
    fn new() -> Self {
        let mut registry = Registry::with_prefix("gridmap");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by route template, method and status",
            requests.clone(),
        );
        let durations: Histograms<RouteLabels> = Family::new_with_constructor(latency_histogram);
        registry.register(
            "http_request_duration_seconds",
            "Time to the response head, by route template",
            durations.clone(),
        );
        let tile_cache = Family::<ResultLabels, Counter>::default();
        registry.register(
            "tile_cache_requests",
            "Tile requests answered from the cache (hit) or rendered (miss)",
            tile_cache.clone(),
        );
        let renders_in_flight = Gauge::default();
        registry.register(
            "tile_renders_in_flight",
            "Tiles being rendered now",
            renders_in_flight.clone(),
        );
        let renders = Counter::default();
        registry.register(
            "tile_renders",
            "Tiles rendered (once per tile, however many requests waited for it)",
            renders.clone(),
        );
        let tile_cache_bytes = Gauge::default();
        registry.register(
            "tile_cache_bytes",
            "Bytes held by the tile cache",
            tile_cache_bytes.clone(),
        );
        let catalog_version = Gauge::default();
        registry.register(
            "catalog_version",
            "Data version of the catalog being served",
            catalog_version.clone(),
        );
        let reloads = Counter::default();
        registry.register(
            "catalog_reloads",
            "Catalog reloads after a data version moved",
            reloads.clone(),
        );
        let reload_seconds = Histogram::new(exponential_buckets(0.001, 2.0, 16));
        registry.register(
            "catalog_reload_seconds",
            "Time to load a new catalog snapshot",
            reload_seconds.clone(),
        );
        let rejected = Family::<ReasonLabels, Counter>::default();
        registry.register(
            "rejected",
            "Requests and connections turned away by a limit, by reason",
            rejected.clone(),
        );
        Self {
            registry,
            requests,
            durations,
            tile_cache,
            renders_in_flight,
            renders,
            tile_cache_bytes,
            catalog_version,
            reloads,
            reload_seconds,
            rejected,
        }
    }

    /// A tile request answered from the cache (`hit`) or rendered.
    pub fn tile_cache(&self, hit: bool) {
        let result = if hit { "hit" } else { "miss" };
        self.tile_cache
            .get_or_create(&ResultLabels { result })
            .inc();
    }

    /// Counts a render as in flight until the guard drops.
    pub fn rendering(&self) -> RenderGuard {
        self.renders.inc();
        self.renders_in_flight.inc();
        RenderGuard
    }

    /// A catalog reload that took `took`.
    pub fn reloaded(&self, took: Duration) {
        self.reloads.inc();
        self.reload_seconds.observe(took.as_secs_f64());
    }

    /// A request or connection turned away by a limit.
    pub fn rejected(&self, reason: &str) {
        self.rejected
            .get_or_create(&ReasonLabels {
                reason: reason.to_string(),
            })
            .inc();
    }
}

/// See [`Metrics::rendering`].
pub struct RenderGuard;

impl Drop for RenderGuard {
    fn drop(&mut self) {
        metrics().renders_in_flight.dec();
    }
}

/// The process's metrics.
pub fn metrics() -> &'static Metrics {
    static METRICS: OnceLock<Metrics> = OnceLock::new();
    METRICS.get_or_init(Metrics::new)
}

pub fn router() -> Router<AppState> {
    Router::new().route("/metrics", get(scrape))
}

async fn scrape(State(state): State<AppState>) -> Response {
    let m = metrics();
    // Gauges of the state are read at scrape time, so they are never stale.
    m.catalog_version
        .set(i64::try_from(state.catalog().version()).unwrap_or(i64::MAX));
    let (_, bytes) = state.tile_cache().usage();
    m.tile_cache_bytes
        .set(i64::try_from(bytes).unwrap_or(i64::MAX));
    let mut body = String::new();
    if let Err(e) = prometheus_client::encoding::text::encode(&mut body, &m.registry) {
        return super::error::AppError::Internal(anyhow::anyhow!("encoding metrics: {e}"))
            .into_response();
    }
    (
        [(
            CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        body,
    )
        .into_response()
}

/// The limit a response status says turned the request away, if any.
fn limit_reason(status: StatusCode) -> Option<&'static str> {
    Some(match status {
        StatusCode::TOO_MANY_REQUESTS => "rate_limited",
        StatusCode::SERVICE_UNAVAILABLE => "busy",
        StatusCode::REQUEST_TIMEOUT => "timeout",
        StatusCode::PAYLOAD_TOO_LARGE => "body_too_large",
        StatusCode::URI_TOO_LONG => "uri_too_long",
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE => "headers_too_large",
        _ => return None,
    })
}

/// The middleware counting every request by route template and status.
pub async fn track(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |p| p.as_str().to_string());
    let method = request.method().as_str().to_string();
    let started = Instant::now();
    let response = next.run(request).await;
    let m = metrics();
    m.durations
        .get_or_create(&RouteLabels {
            route: route.clone(),
        })
        .observe(started.elapsed().as_secs_f64());
    let status = response.status();
    if let Some(reason) = limit_reason(status) {
        m.rejected(reason);
    }
    m.requests
        .get_or_create(&RequestLabels {
            route,
            method,
            status: status.as_u16(),
        })
        .inc();
    response
}
