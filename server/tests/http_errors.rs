//! Every error the server sends over a real socket is the JSON error body
//! `{"error":{"code","message"}}` — the application's own 4xx, axum's 405
//! and extractor rejections, the 414/431 of the limits, and hyper's own
//! answers to requests it cannot parse.

mod common;
use common::*;

/// `(what, raw request, status, error code)`.
fn catalogue() -> Vec<(&'static str, Vec<u8>, u16, &'static str)> {
    let get = |target: &str| -> Vec<u8> {
        format!("GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            .into_bytes()
    };
    let with_headers = |extra: &str| -> Vec<u8> {
        format!("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n{extra}Connection: close\r\n\r\n")
            .into_bytes()
    };
    let post = |target: &str, content_type: &str, body: &str| -> Vec<u8> {
        format!(
            "POST {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .into_bytes()
    };
    let many: String = (0..150).map(|i| format!("X-H{i}: v\r\n")).collect();
    let huge_header = format!("X-Big: {}\r\n", "v".repeat(40 * 1024));
    let beyond_hyper = format!("X-Big: {}\r\n", "v".repeat(500 * 1024));
    let mut bad_utf8 = b"GET /api/v1/grids/".to_vec();
    bad_utf8.extend_from_slice(&[0xff, 0xfe]);
    bad_utf8.extend_from_slice(b" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    vec![
        ("unknown path", get("/nope"), 404, "no_route"),
        ("unknown API path", get("/api/v1/nope?x=1"), 404, "no_route"),
        (
            "wrong method",
            b"DELETE /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".to_vec(),
            405,
            "method_not_allowed",
        ),
        (
            "POST to a GET route",
            post("/api/v1/lookup", "application/json", "{}"),
            405,
            "method_not_allowed",
        ),
        ("unknown grid", get("/api/v1/grids/nope"), 404, "unknown_grid"),
        ("percent-encoded invalid UTF-8", get("/api/v1/grids/%FF%FE"), 400, "bad_request"),
        ("raw invalid UTF-8 in the path", bad_utf8, 400, "bad_request"),
        ("bad number", get("/api/v1/lookup?lon=abc&lat=30"), 400, "bad_parameter"),
        ("undecodable number", get("/api/v1/lookup?lon=%zz&lat=1"), 400, "bad_parameter"),
        ("bad tile", get("/tiles/default/99/0/0.mvt"), 400, "bad_tile"),
        ("bad bbox", get("/api/v1/grids?bbox=1,2"), 400, "bad_parameter"),
        (
            "malformed JSON body",
            post("/api/v1/assign", "application/json", "{\"points\":[{"),
            400,
            "bad_json",
        ),
        (
            "unsupported body type",
            post("/api/v1/assign", "image/png", "xx"),
            400,
            "unsupported_media_type",
        ),
        (
            "body over the limit",
            format!(
                "POST /api/v1/assign HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\nContent-Length: {}\r\nConnection: close\r\n\r\nid,lon,lat\n",
                20 << 20
            )
            .into_bytes(),
            413,
            "body_too_large",
        ),
        (
            "URI over 8 KiB",
            get(&format!("/api/v1/lookup?q={}", "a".repeat(10_000))),
            414,
            "uri_too_long",
        ),
        (
            "URI past hyper's own limit",
            get(&format!("/api/v1/lookup?q={}", "a".repeat(70_000))),
            414,
            "uri_too_long",
        ),
        ("150 header fields", with_headers(&many), 431, "headers_too_large"),
        ("a 40 KiB header", with_headers(&huge_header), 431, "headers_too_large"),
        (
            "a 500 KiB header (past hyper's buffer)",
            with_headers(&beyond_hyper),
            431,
            "headers_too_large",
        ),
        (
            "garbage request line",
            b"HELLO THERE\r\n\r\n".to_vec(),
            400,
            "bad_request",
        ),
        (
            "bad header name",
            b"GET /health HTTP/1.1\r\nBad Header: x\r\n\r\n".to_vec(),
            400,
            "bad_request",
        ),
    ]
}

#[test]
fn every_error_over_the_socket_is_json() {
    let dir = tempfile::tempdir().unwrap();
    let db = squares_store(dir.path(), &[]);
    let server = Server::start(&db, &[]);
    let mut failures = Vec::new();
    let cases = catalogue();
    for (what, request, status, code) in &cases {
        let reply = raw(server.addr, request);
        let body: serde_json::Value = match serde_json::from_slice(&reply.body) {
            Ok(v) => v,
            Err(e) => {
                failures.push(format!(
                    "{what}: {} with a body that is not JSON ({e}): {:?}",
                    reply.status,
                    text(&reply.body)
                ));
                continue;
            }
        };
        let message = body["error"]["message"].as_str().unwrap_or("");
        if reply.status != *status || body["error"]["code"] != *code || message.is_empty() {
            failures.push(format!(
                "{what}: expected {status} {code}, got {} {body}",
                reply.status
            ));
        }
        if reply.header("content-type") != Some("application/json") {
            failures.push(format!(
                "{what}: content-type {:?}",
                reply.header("content-type")
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} bad requests:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
    // And the server is still there.
    let health = raw(
        server.addr,
        b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(health.status, 200);
    assert_eq!(health.json()["status"], "ok");
}
