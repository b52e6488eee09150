//! A request id for every request: made here (never taken from the client,
//! whose header could forge or flood log lines), logged on the request's
//! span with method, path, status and latency, and returned as
//! `X-Request-Id` so a user's report can be matched to the log.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;

/// The response header carrying the id.
pub const HEADER: &str = "x-request-id";

static NEXT: AtomicU64 = AtomicU64::new(1);

/// This process's prefix: ids from two servers behind one proxy differ.
fn prefix() -> &'static str {
    static PREFIX: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    PREFIX.get_or_init(|| {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        format!("{:08x}", std::process::id().rotate_left(16) ^ nanos)
    })
}

/// A new id: `<process prefix>-<sequence>`.
pub fn new_id() -> String {
    format!("{}-{}", prefix(), NEXT.fetch_add(1, Ordering::Relaxed))
}

/// The middleware: one span per request (every log line of the request
/// carries its id), and a line when it is answered: `debug` for success,
/// `info` for a client error, `warn` for a server error, so a busy public
/// server does not write a line per lookup unless asked (`RUST_LOG=debug`).
pub async fn assign(mut request: Request, next: Next) -> Response {
    let id = new_id();
    request.headers_mut().remove(HEADER);
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    let span = tracing::info_span!("request", id = %id, %method, path = %path);
    let started = Instant::now();
    let mut response = next.run(request).instrument(span.clone()).await;
    let status = response.status().as_u16();
    let ms = started.elapsed().as_secs_f64() * 1e3;
    span.in_scope(|| {
        if status >= 500 {
            tracing::warn!(status, ms, "answered");
        } else if status >= 400 {
            tracing::info!(status, ms, "answered");
        } else {
            tracing::debug!(status, ms, "answered");
        }
    });
    response
        .headers_mut()
        .insert(HEADER, HeaderValue::from_str(&id).expect("an ASCII id"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_distinct_and_carry_the_process_prefix() {
        let (a, b) = (new_id(), new_id());
        assert_ne!(a, b);
        assert_eq!(a.split('-').next(), b.split('-').next());
        assert_eq!(a.split('-').next().map(str::len), Some(8));
    }
}
