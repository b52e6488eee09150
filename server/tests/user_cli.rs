//! `gridmap user add|list|revoke` and a running server honouring the
//! tokens: the token printed once as the last line, only its hash stored,
//! `--private` reads, `--allow-origin` CORS on the editing endpoints, and a
//! revoked token opening nothing.

mod common;

use common::{arg, assert_success, gridmap, raw, squares_store, text, Server};

fn request(method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Vec<u8> {
    let mut r = format!("{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Length: {}\r\n", body.len());
    for (k, v) in headers {
        r.push_str(&format!("{k}: {v}\r\n"));
    }
    r.push_str("\r\n");
    r.push_str(body);
    r.into_bytes()
}

#[test]
fn accounts_tokens_private_reads_and_cors() {
    let dir = tempfile::tempdir().unwrap();
    let db = squares_store(dir.path(), &[]);
    let out = gridmap(&["user", "add", "王芳", "--role", "editor", "--db", arg(&db)]);
    assert_success(&out);
    let token = text(&out.stdout).lines().last().unwrap().to_string();
    assert!(token.starts_with("gm_") && token.len() == 67, "{token}");
    let again = gridmap(&["user", "add", "王芳", "--role", "viewer", "--db", arg(&db)]);
    assert!(!again.status.success());
    assert!(
        text(&again.stderr).contains("exists already"),
        "{}",
        text(&again.stderr)
    );
    let bad = gridmap(&["user", "add", "李四", "--role", "root", "--db", arg(&db)]);
    assert!(
        !bad.status.success() && text(&bad.stderr).contains("unknown role"),
        "{}",
        text(&bad.stderr)
    );
    let list = gridmap(&["user", "list", "--db", arg(&db)]);
    assert_success(&list);
    assert!(text(&list.stdout).contains("王芳") && text(&list.stdout).contains("editor"));
    assert!(
        !text(&list.stdout).contains(&token[3..]),
        "tokens are never listed"
    );
    // Only the SHA-256 is in the file.
    let bytes = std::fs::read(&db).unwrap();
    assert!(
        !bytes.windows(token.len()).any(|w| w == token.as_bytes()),
        "the token itself is not stored"
    );

    let server = Server::start(
        &db,
        &["--private", "--allow-origin", "https://plan.example.cn"],
    );
    let bearer = format!("Bearer {token}");
    let anonymous = raw(server.addr, &request("GET", "/api/v1/grids", &[], ""));
    assert_eq!(anonymous.status, 401, "--private: reads need a token");
    assert_eq!(anonymous.json()["error"]["code"], "unauthorized");
    let health = raw(server.addr, &request("GET", "/health", &[], ""));
    assert_eq!(health.status, 200, "health stays open");
    let read = raw(
        server.addr,
        &request("GET", "/api/v1/grids", &[("Authorization", &bearer)], ""),
    );
    assert_eq!(read.status, 200);
    let created = raw(
        server.addr,
        &request(
            "POST",
            "/api/v1/proposals",
            &[
                ("Authorization", &bearer),
                ("Content-Type", "application/json"),
                ("Origin", "https://plan.example.cn"),
            ],
            r#"{"system":"default","title":"试"}"#,
        ),
    );
    assert_eq!(created.status, 201, "{}", text(&created.body));
    assert_eq!(
        created.header("access-control-allow-origin"),
        Some("https://plan.example.cn")
    );
    let preflight = |origin: &str| {
        raw(
            server.addr,
            &request(
                "OPTIONS",
                "/api/v1/proposals",
                &[
                    ("Origin", origin),
                    ("Access-Control-Request-Method", "POST"),
                    (
                        "Access-Control-Request-Headers",
                        "authorization,content-type",
                    ),
                ],
                "",
            ),
        )
    };
    let allowed = preflight("https://plan.example.cn");
    assert_eq!(
        allowed.header("access-control-allow-origin"),
        Some("https://plan.example.cn")
    );
    assert!(allowed
        .header("access-control-allow-headers")
        .is_some_and(|h| h.contains("authorization")));
    let other = preflight("https://evil.example.com");
    assert_eq!(
        other.header("access-control-allow-origin"),
        None,
        "other origins may not write"
    );

    assert_success(&gridmap(&["user", "revoke", "王芳", "--db", arg(&db)]));
    let revoked = raw(
        server.addr,
        &request("GET", "/api/v1/grids", &[("Authorization", &bearer)], ""),
    );
    assert_eq!(revoked.status, 401, "a revoked token opens nothing at once");
    let again = gridmap(&["user", "revoke", "王芳", "--db", arg(&db)]);
    assert!(!again.status.success() && text(&again.stderr).contains("no live account"));
    let bad_origin = gridmap(&["serve", "--db", arg(&db), "--allow-origin", "*"]);
    assert!(
        !bad_origin.status.success() && text(&bad_origin.stderr).contains("never `*`"),
        "{}",
        text(&bad_origin.stderr)
    );
}
