//! The public base URL of this server as the client sees it, for absolute
//! URLs in TileJSON and styles (MapLibre resolves them from anywhere).
//!
//! Honours a reverse proxy's `X-Forwarded-Proto`, `X-Forwarded-Host` and
//! `X-Forwarded-Prefix`, then RFC 7239 `Forwarded`, then `Host`. Values that
//! do not look like a scheme, host or path are ignored rather than echoed, so
//! a forged header cannot inject text into the JSON we build from them.
//! [`sanitise`] (one of the layers of `limits`) lets only trusted proxies
//! set these headers, and replaces an untrusted `Host`.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;

use super::listener::LocalAddr;
use super::state::AppState;

/// The headers a client could forge to pick the URLs we write.
const FORWARDING: [&str; 4] = [
    "forwarded",
    "x-forwarded-proto",
    "x-forwarded-host",
    "x-forwarded-prefix",
];

/// The middleware that makes [`public_base`] safe to call: a request whose
/// peer is not a `--trusted-proxy` loses its forwarding headers, and, when
/// `--public-url` is not set, its `Host` is replaced by the address the
/// connection was accepted on. So no client can make TileJSON or a style
/// point elsewhere (cache poisoning of a shared proxy, phishing links).
/// Requests without a peer address (in-process tests) are left alone.
pub async fn sanitise(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    if let Some(peer) = peer {
        if !state.config().rate_limit.trusted_proxies.contains(&peer) {
            let local = request.extensions().get::<LocalAddr>().map(|l| l.0);
            let headers = request.headers_mut();
            for name in FORWARDING {
                headers.remove(name);
            }
            if state.config().public_url.is_none() {
                match local.and_then(|l| HeaderValue::from_str(&l.to_string()).ok()) {
                    Some(v) => {
                        headers.insert(header::HOST, v);
                    }
                    None => {
                        headers.remove(header::HOST);
                    }
                }
            }
        }
    }
    next.run(request).await
}

/// `scheme://host[:port][/prefix]`, without a trailing slash.
///
/// ```
/// use axum::http::HeaderMap;
/// use gridmap::http::base_url::public_base;
///
/// let mut h = HeaderMap::new();
/// h.insert("host", "127.0.0.1:8080".parse().unwrap());
/// assert_eq!(public_base(&h), "http://127.0.0.1:8080");
/// h.insert("x-forwarded-proto", "https".parse().unwrap());
/// h.insert("x-forwarded-host", "grid.example.cn".parse().unwrap());
/// h.insert("x-forwarded-prefix", "/gridmap/".parse().unwrap());
/// assert_eq!(public_base(&h), "https://grid.example.cn/gridmap");
/// ```
pub fn public_base(headers: &HeaderMap) -> String {
    let forwarded = headers
        .get("forwarded")
        .and_then(|v| v.to_str().ok())
        .map(parse_forwarded)
        .unwrap_or_default();
    let proto = first_value(headers, "x-forwarded-proto")
        .or(forwarded.proto)
        .map(|p| p.to_ascii_lowercase())
        .filter(|p| p == "http" || p == "https")
        .unwrap_or_else(|| "http".to_string());
    let host = first_value(headers, "x-forwarded-host")
        .filter(|h| valid_host(h))
        .or(forwarded.host.filter(|h| valid_host(h)))
        .or(first_value(headers, "host").filter(|h| valid_host(h)))
        .unwrap_or_else(|| "localhost".to_string());
    let prefix = first_value(headers, "x-forwarded-prefix")
        .map(|p| clean_prefix(&p))
        .unwrap_or_default();
    format!("{proto}://{host}{prefix}")
}

/// The first comma-separated value of a header (proxies append theirs).
fn first_value(headers: &HeaderMap, name: &str) -> Option<String> {
    let v = headers.get(name)?.to_str().ok()?;
    let first = v.split(',').next()?.trim();
    (!first.is_empty()).then(|| first.to_string())
}

#[derive(Default)]
struct Forwarded {
    proto: Option<String>,
    host: Option<String>,
}

/// The first element of an RFC 7239 `Forwarded` header.
fn parse_forwarded(v: &str) -> Forwarded {
    let mut out = Forwarded::default();
    let first = v.split(',').next().unwrap_or("");
    for pair in first.split(';') {
        let Some((k, val)) = pair.split_once('=') else {
            continue;
        };
        let val = val.trim().trim_matches('"').to_string();
        match k.trim().to_ascii_lowercase().as_str() {
            "proto" => out.proto = Some(val),
            "host" => out.host = Some(val),
            _ => {}
        }
    }
    out
}

/// Host names, IPv4/IPv6 literals and a port; nothing else.
fn valid_host(h: &str) -> bool {
    !h.is_empty()
        && h.len() <= 255
        && h.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']' | '_'))
}

/// `/a/b` from `a/b/`, `/a/b/` or `/a/b`; empty for `/` or anything unsafe.
fn clean_prefix(p: &str) -> String {
    let trimmed = p.trim().trim_matches('/');
    let safe = trimmed
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '-' | '_' | '.' | '~' | '%'))
        && !trimmed.split('/').any(|seg| seg == "..");
    if trimmed.is_empty() || !safe {
        String::new()
    } else {
        format!("/{trimmed}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The TileJSON's tile URL for a request from `peer` with `headers`,
    /// accepted on 10.0.0.5:8080, by a server trusting 10.0.0.1.
    async fn tile_url(public_url: Option<&str>, peer: &str, headers: &[(&str, &str)]) -> String {
        use tower::ServiceExt;
        let dir = tempfile::tempdir().unwrap();
        let store = gridmap_data::store::gpkg::GpkgStore::open(dir.path().join("s.gpkg")).unwrap();
        let change = gridmap_data::model::ChangeSet {
            grids: vec![gridmap_data::model::SystemGrids {
                system: gridmap_data::model::GridSystem::with_default_levels("default"),
                mode: gridmap_data::model::GridWriteMode::Replace,
                grids: vec![],
                delete: Vec::new(),
            }],
            ..Default::default()
        };
        gridmap_data::store::GridStore::apply(&store, &change).unwrap();
        let config = super::super::state::ServerConfig {
            public_url: public_url.map(str::to_string),
            rate_limit: super::super::rate_limit::RateLimit {
                trusted_proxies: vec!["10.0.0.1".parse().unwrap()],
                ..Default::default()
            },
            ..Default::default()
        };
        let state = AppState::with_config(std::sync::Arc::new(store), config).unwrap();
        let mut req = axum::http::Request::get("/tiles/default.json");
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let mut req = req.body(axum::body::Body::empty()).unwrap();
        let peer: SocketAddr = peer.parse().unwrap();
        req.extensions_mut().insert(ConnectInfo(peer));
        req.extensions_mut()
            .insert(LocalAddr("10.0.0.5:8080".parse().unwrap()));
        let resp = super::super::app(state).oneshot(req).await.unwrap();
        let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20)
            .await
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        v["tiles"][0].as_str().unwrap().to_string()
    }

    #[tokio::test]
    async fn only_trusted_proxies_pick_the_base_url() {
        let forged = [
            ("host", "evil.example"),
            ("x-forwarded-host", "evil.example"),
            ("x-forwarded-proto", "https"),
            ("forwarded", "host=evil.example"),
        ];
        let untrusted = tile_url(None, "203.0.113.9:5000", &forged).await;
        assert!(
            untrusted.starts_with("http://10.0.0.5:8080/tiles/"),
            "{untrusted}"
        );
        let proxied = tile_url(None, "10.0.0.1:5000", &forged).await;
        assert!(
            proxied.starts_with("https://evil.example/tiles/"),
            "{proxied}"
        );
        let public = tile_url(Some("https://map.example.cn"), "203.0.113.9:5000", &forged).await;
        assert!(
            public.starts_with("https://map.example.cn/tiles/"),
            "{public}"
        );
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn plain_host() {
        assert_eq!(
            public_base(&headers(&[("host", "localhost:8080")])),
            "http://localhost:8080"
        );
        assert_eq!(public_base(&HeaderMap::new()), "http://localhost");
    }

    #[test]
    fn x_forwarded_headers_win_and_take_the_first_hop() {
        let h = headers(&[
            ("host", "10.0.0.5:8080"),
            ("x-forwarded-proto", "https, http"),
            ("x-forwarded-host", "map.example.cn, inner"),
            ("x-forwarded-prefix", "grid/"),
        ]);
        assert_eq!(public_base(&h), "https://map.example.cn/grid");
    }

    #[test]
    fn rfc7239_forwarded() {
        let h = headers(&[
            ("host", "inner:1"),
            (
                "forwarded",
                "for=1.2.3.4;proto=https;host=\"a.example:8443\", for=5.6.7.8",
            ),
        ]);
        assert_eq!(public_base(&h), "https://a.example:8443");
    }

    #[test]
    fn forged_values_are_ignored() {
        let h = headers(&[
            ("host", "ok.example"),
            ("x-forwarded-proto", "javascript"),
            ("x-forwarded-host", "evil\"host"),
            ("x-forwarded-prefix", "/../x"),
        ]);
        assert_eq!(public_base(&h), "http://ok.example");
        let h = headers(&[("host", "[::1]:3000"), ("x-forwarded-prefix", "/")]);
        assert_eq!(public_base(&h), "http://[::1]:3000");
    }
}
