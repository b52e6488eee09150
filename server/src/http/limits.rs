//! The layers that keep the server alive on the public internet, put around
//! every route in one place ([`apply`]):
//!
//! - [`request_limits`]: a URI over [`MAX_URI_BYTES`] gets 414, a header
//!   block over [`MAX_HEADERS`] fields or [`MAX_HEADER_BYTES`] gets 431;
//! - [`json_errors`]: any error response that is not JSON yet (axum's 405,
//!   extractor rejections, body-limit 413, the request timeout's 408) is
//!   rewritten as `{"error":{"code","message"}}`; rejections of a body or
//!   query (415, 422) become 400 like every other bad parameter;
//! - a panic in a handler becomes a 500 JSON (the connection and the worker
//!   thread live on);
//! - the request timeout (408) and the body-read timeout (the longest wait
//!   for the next piece of a request body);
//! - forwarding headers only from trusted proxies, no client-chosen `Host`
//!   ([`super::base_url::sanitise`]).
//!
//! The limits enforced here sit below hyper's own hard limits (see
//! `http::listener`), so a request that breaks them still gets a JSON body.

use std::time::Duration;

use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Router;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::timeout::{RequestBodyTimeoutLayer, TimeoutLayer};

use super::error::{json_error, AppError};
use super::state::AppState;

/// Longest request target (path and query) accepted: 8 KiB.
pub const MAX_URI_BYTES: usize = 8 * 1024;
/// Most header fields in one request.
pub const MAX_HEADERS: usize = 100;
/// Largest header block (names and values) accepted: 32 KiB.
pub const MAX_HEADER_BYTES: usize = 32 * 1024;
/// Longest error text kept from a non-JSON error body.
const MAX_MESSAGE_BYTES: usize = 1024;

/// Time limits applied to every request (`--request-timeout`, `--body-timeout`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RequestTimeouts {
    /// From the request head to the end of the handler: 408 past it.
    pub request: Duration,
    /// Longest wait for the next chunk of a request body.
    pub body: Duration,
}

impl Default for RequestTimeouts {
    fn default() -> Self {
        Self {
            request: Duration::from_secs(60),
            body: Duration::from_secs(10),
        }
    }
}

/// Puts every protective layer around `router` (the outermost last).
pub fn apply(router: Router<AppState>, state: &AppState) -> Router<AppState> {
    let timeouts = state.config().timeouts;
    router
        .layer(RequestBodyTimeoutLayer::new(timeouts.body))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            timeouts.request,
        ))
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(axum::middleware::from_fn(json_errors))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            super::base_url::sanitise,
        ))
        .layer(axum::middleware::from_fn(request_limits))
}

/// Whether reading a body failed because it stopped arriving (the body-read
/// timeout of [`apply`]).
pub fn is_body_timeout(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(c) = cause {
        if c.is::<tower_http::timeout::TimeoutError>() {
            return true;
        }
        cause = c.source();
    }
    false
}

/// The 408 of a body that stopped arriving.
pub fn body_timeout_error() -> AppError {
    AppError::Status {
        status: StatusCode::REQUEST_TIMEOUT,
        code: "timeout",
        message: "the request body stopped arriving (body-read timeout)".into(),
    }
}

/// 414 for an over-long URI, 431 for too many or too large header fields.
pub async fn request_limits(request: Request, next: Next) -> Response {
    let uri_len = request
        .uri()
        .path_and_query()
        .map_or(0, |p| p.as_str().len());
    if uri_len > MAX_URI_BYTES {
        return AppError::Status {
            status: StatusCode::URI_TOO_LONG,
            code: "uri_too_long",
            message: format!(
                "the request URI is {uri_len} bytes; at most {MAX_URI_BYTES} are accepted"
            ),
        }
        .into_response();
    }
    let headers = request.headers();
    let bytes: usize = headers
        .iter()
        .map(|(k, v)| k.as_str().len() + v.len() + 4)
        .sum();
    if headers.len() > MAX_HEADERS || bytes > MAX_HEADER_BYTES {
        return AppError::Status {
            status: StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            code: "headers_too_large",
            message: format!(
                "{} header fields of {bytes} bytes; at most {MAX_HEADERS} fields of {MAX_HEADER_BYTES} bytes are accepted",
                headers.len()
            ),
        }
        .into_response();
    }
    next.run(request).await
}

/// Rewrites any error response that is not JSON into the JSON error body.
pub async fn json_errors(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) || is_json(&response) {
        return response;
    }
    let (parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, MAX_MESSAGE_BYTES)
        .await
        .ok()
        .and_then(|b| String::from_utf8(b.to_vec()).ok())
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty());
    let (status, code) = classify(status);
    let message = text.unwrap_or_else(|| {
        status
            .canonical_reason()
            .unwrap_or("request failed")
            .to_lowercase()
    });
    let mut rewritten = json_error(status, code, &message);
    // Keep what the client needs to act on (Allow on 405, Retry-After …).
    for name in [header::ALLOW, header::RETRY_AFTER] {
        if let Some(v) = parts.headers.get(&name) {
            rewritten.headers_mut().insert(name, v.clone());
        }
    }
    rewritten
}

/// The status and code of an error response that had no JSON body.
fn classify(status: StatusCode) -> (StatusCode, &'static str) {
    match status {
        // Body and query rejections are bad parameters like any other.
        StatusCode::BAD_REQUEST
        | StatusCode::UNSUPPORTED_MEDIA_TYPE
        | StatusCode::UNPROCESSABLE_ENTITY => (StatusCode::BAD_REQUEST, "bad_request"),
        StatusCode::NOT_FOUND => (status, "no_route"),
        StatusCode::METHOD_NOT_ALLOWED => (status, "method_not_allowed"),
        StatusCode::REQUEST_TIMEOUT => (status, "timeout"),
        StatusCode::LENGTH_REQUIRED => (status, "length_required"),
        StatusCode::PAYLOAD_TOO_LARGE => (status, "body_too_large"),
        StatusCode::URI_TOO_LONG => (status, "uri_too_long"),
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE => (status, "headers_too_large"),
        StatusCode::SERVICE_UNAVAILABLE => (status, "busy"),
        s if s.is_server_error() => (s, "internal"),
        s => (s, "bad_request"),
    }
}

/// The whole HTTP/1.1 response (head and JSON body) replacing hyper's own
/// empty answer with `status` to a request it could not parse; `None` for
/// a status hyper is not known to send by itself.
pub fn automatic_response(status: u16) -> Option<Vec<u8>> {
    let (status, code, message) = match status {
        400 => (StatusCode::BAD_REQUEST, "bad_request", "malformed HTTP request".to_string()),
        414 => (
            StatusCode::URI_TOO_LONG,
            "uri_too_long",
            format!("the request URI is too long; at most {MAX_URI_BYTES} bytes are accepted"),
        ),
        431 => (
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "headers_too_large",
            format!(
                "the request headers are too large; at most {MAX_HEADERS} fields of {MAX_HEADER_BYTES} bytes are accepted"
            ),
        ),
        _ => return None,
    };
    let body = serde_json::json!({ "error": { "code": code, "message": message } }).to_string();
    let head = format!(
        "HTTP/1.1 {} {}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        status.as_u16(),
        status.canonical_reason().unwrap_or(""),
        body.len()
    );
    Some([head.into_bytes(), body.into_bytes()].concat())
}

fn is_json(response: &Response) -> bool {
    response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            let media = v.split(';').next().unwrap_or("").trim();
            media == "application/json" || media.ends_with("+json")
        })
}

/// A handler that panicked: logged, answered with a 500 JSON.
fn panic_response(panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let what = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("(no message)");
    tracing::error!(panic = what, "a handler panicked");
    let mut response = json_error(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        "internal server error; see the server log",
    );
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::extract::{Path, Query};
    use axum::routing::{get, post};
    use axum::Json;
    use serde_json::Value;
    use tower::ServiceExt;

    /// Routes whose extractors reject, behind the same layers as the app.
    fn router() -> Router {
        Router::new()
            .route("/json", post(|Json(v): Json<Value>| async move { Json(v) }))
            .route(
                "/query",
                get(
                    |Query(q): Query<std::collections::HashMap<String, u32>>| async move {
                        q.len().to_string()
                    },
                ),
            )
            .route(
                "/path/{n}",
                get(|Path(n): Path<u32>| async move { n.to_string() }),
            )
            .route(
                "/panic",
                get(|| async {
                    if true {
                        panic!("boom");
                    }
                    "unreachable"
                }),
            )
            .route(
                "/slow",
                get(|| async {
                    tokio::time::sleep(Duration::from_secs(5)).await;
                    "late"
                }),
            )
            .layer(TimeoutLayer::with_status_code(
                StatusCode::REQUEST_TIMEOUT,
                Duration::from_millis(50),
            ))
            .layer(CatchPanicLayer::custom(panic_response))
            .layer(axum::middleware::from_fn(json_errors))
            .layer(axum::middleware::from_fn(request_limits))
    }

    async fn call(req: axum::http::Request<Body>) -> (StatusCode, Value) {
        let resp = router().oneshot(req).await.unwrap();
        let status = resp.status();
        let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20)
            .await
            .unwrap();
        let body: Value = serde_json::from_slice(&bytes)
            .unwrap_or_else(|e| panic!("{status}: not JSON ({e}): {bytes:?}"));
        (status, body)
    }

    fn req(method: &str, uri: &str, body: &str) -> axum::http::Request<Body> {
        axum::http::Request::builder()
            .method(method)
            .uri(uri)
            .body(Body::from(body.to_string()))
            .unwrap()
    }

    #[tokio::test]
    async fn every_rejection_is_a_json_error() {
        let long = format!("/query?x={}", "1".repeat(MAX_URI_BYTES));
        let cases: Vec<(axum::http::Request<Body>, StatusCode, &str)> = vec![
            (
                req("POST", "/json", "{"),
                StatusCode::BAD_REQUEST,
                "bad_request",
            ),
            (
                axum::http::Request::post("/json")
                    .header("content-type", "application/json")
                    .body(Body::from("{"))
                    .unwrap(),
                StatusCode::BAD_REQUEST,
                "bad_request",
            ),
            (
                axum::http::Request::post("/json")
                    .header("content-type", "application/json")
                    .body(Body::from("[1"))
                    .unwrap(),
                StatusCode::BAD_REQUEST,
                "bad_request",
            ),
            (
                req("GET", "/query?a=x", ""),
                StatusCode::BAD_REQUEST,
                "bad_request",
            ),
            (
                req("GET", "/path/abc", ""),
                StatusCode::BAD_REQUEST,
                "bad_request",
            ),
            (
                req("GET", "/path/%FF", ""),
                StatusCode::BAD_REQUEST,
                "bad_request",
            ),
            (
                req("DELETE", "/json", ""),
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
            ),
            (
                req("GET", "/nowhere", ""),
                StatusCode::NOT_FOUND,
                "no_route",
            ),
            (
                req("GET", "/panic", ""),
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
            ),
            (
                req("GET", "/slow", ""),
                StatusCode::REQUEST_TIMEOUT,
                "timeout",
            ),
            (
                req("GET", &long, ""),
                StatusCode::URI_TOO_LONG,
                "uri_too_long",
            ),
        ];
        for (request, status, code) in cases {
            let what = format!(
                "{} {}",
                request.method(),
                &request.uri().to_string()[..20.min(request.uri().to_string().len())]
            );
            let (got, body) = call(request).await;
            assert_eq!(got, status, "{what}: {body}");
            assert_eq!(body["error"]["code"], code, "{what}: {body}");
            assert!(
                body["error"]["message"]
                    .as_str()
                    .is_some_and(|m| !m.is_empty()),
                "{what}: {body}"
            );
        }
        let mut many = axum::http::Request::get("/query");
        for i in 0..=MAX_HEADERS {
            many = many.header(format!("x-h{i}"), "v");
        }
        let (status, body) = call(many.body(Body::empty()).unwrap()).await;
        assert_eq!(
            status,
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "{body}"
        );
        let big = axum::http::Request::get("/query")
            .header("x-big", "v".repeat(MAX_HEADER_BYTES))
            .body(Body::empty())
            .unwrap();
        let (status, body) = call(big).await;
        assert_eq!(status, StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);
        assert_eq!(body["error"]["code"], "headers_too_large");
    }

    #[tokio::test]
    async fn the_405_keeps_its_allow_header() {
        let resp = router().oneshot(req("PUT", "/query", "")).await.unwrap();
        assert_eq!(resp.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert!(resp.headers().get(header::ALLOW).is_some());
        assert_eq!(resp.headers()[header::CONTENT_TYPE], "application/json");
    }
}
