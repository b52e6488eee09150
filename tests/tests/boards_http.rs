//! `GET /api/v1/boards/{code}.pdf|.png` on the demo city: the server answers
//! the very board the print library draws for the same options, its PDF text
//! and PNG QR code are right (pdftotext, zbarimg), bad requests are 4xx JSON
//! that draw nothing, and boards are bounded by the rate limit and their own
//! work slots. Needs poppler-utils, zbar-tools and fonts-noto-cjk
//! (scripts/test-all.sh installs them).

use std::net::SocketAddr;
use std::process::Command;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode};
use gridmap::http::rate_limit::RateLimit;
use gridmap::http::state::ServerConfig;
use gridmap::http::work_limit::{Work, WorkLimits};
use gridmap::http::AppState;
use gridmap_data::demo::{generate, DemoOptions};
use gridmap_data::progress::NoProgress;
use gridmap_data::store::gpkg::GpkgStore;
use gridmap_data::store::GridStore;
use gridmap_print::{Board, BoardOptions, Fonts, Format, PaperSize, PhotoSource, PrintDate};
use gridmap_tests::http::{get, send, Reply};

/// 文鼎社区 of the demo city (the board the issue names).
const WENDING: &str = "330106006003";
const PUBLIC_URL: &str = "https://grid.example.cn";

fn demo_state(dir: &tempfile::TempDir, config: ServerConfig) -> AppState {
    let store = GpkgStore::open(dir.path().join("demo.gpkg")).unwrap();
    store
        .apply(&generate(&DemoOptions::default(), &NoProgress).unwrap())
        .unwrap();
    AppState::with_config(Arc::new(store), config).unwrap()
}

fn config() -> ServerConfig {
    ServerConfig {
        public_url: Some(PUBLIC_URL.into()),
        ..Default::default()
    }
}

/// The width and height in a PNG's header.
fn png_size(png: &[u8]) -> (u32, u32) {
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
    let be = |at: usize| u32::from_be_bytes(png[at..at + 4].try_into().unwrap());
    (be(16), be(20))
}

fn assert_error(reply: &Reply, status: StatusCode, code: &str) {
    assert_eq!(
        reply.status,
        status,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    assert_eq!(reply.json()["error"]["code"], code);
    assert!(reply.json()["error"]["message"].as_str().is_some());
}

#[tokio::test]
async fn the_server_answers_the_board_the_library_draws() {
    let dir = tempfile::tempdir().unwrap();
    let state = demo_state(&dir, config());

    let pdf = get(&state, &format!("/api/v1/boards/{WENDING}.pdf")).await;
    assert_eq!(pdf.status, StatusCode::OK);
    assert_eq!(pdf.content_type(), Some("application/pdf"));
    let disposition = pdf.headers["content-disposition"].to_str().unwrap();
    assert!(disposition.starts_with("inline;"), "{disposition}");
    assert!(disposition.contains(WENDING), "{disposition}");

    // Byte for byte what the library draws with the server's defaults (A1).
    let fonts = Fonts::discover(None).expect("Noto Sans CJK (fonts-noto-cjk)");
    let opts = BoardOptions {
        system: None,
        size: PaperSize::A1,
        landscape: false,
        public_url: PUBLIC_URL.into(),
        date: PrintDate::today(),
        dpi: 150.0,
    };
    let catalog = state.catalog();
    let board = Board::build(&catalog, WENDING, &opts, &fonts, &PhotoSource::default()).unwrap();
    let drawn = board.render(Format::Pdf, &fonts, opts.dpi).unwrap();
    assert!(
        drawn == pdf.body,
        "the served PDF differs from the drawn one"
    );

    let file = dir.path().join("board.pdf");
    std::fs::write(&file, &pdf.body).unwrap();
    let words = Command::new("pdftotext")
        .args([file.to_str().unwrap(), "-"])
        .output()
        .expect("pdftotext (poppler-utils)");
    let words = String::from_utf8_lossy(&words.stdout);
    assert!(words.contains("文鼎社区网格示意图"), "{words}");
    let squeezed: String = words.split_whitespace().collect();
    for (worker, _) in catalog.workers_of("default", WENDING) {
        assert!(squeezed.contains(&worker.phone), "phone of {}", worker.name);
    }

    // A4 at 100 dpi: 210 × 297 mm is 827 × 1169 pixels; its QR code links the community.
    let png = get(
        &state,
        &format!("/api/v1/boards/{WENDING}.png?size=A4&dpi=100"),
    )
    .await;
    assert_eq!(png.status, StatusCode::OK);
    assert_eq!(png.content_type(), Some("image/png"));
    assert_eq!(png_size(&png.body), (827, 1169));
    let file = dir.path().join("board.png");
    std::fs::write(&file, &png.body).unwrap();
    let qr = Command::new("zbarimg")
        .args(["--raw", "-q", file.to_str().unwrap()])
        .output()
        .expect("zbarimg (zbar-tools)");
    assert_eq!(
        String::from_utf8_lossy(&qr.stdout).trim(),
        format!("{PUBLIC_URL}/?grid={WENDING}")
    );
    let landscape = get(
        &state,
        &format!("/api/v1/boards/{WENDING}.png?size=A4&dpi=100&landscape=true"),
    )
    .await;
    assert_eq!(png_size(&landscape.body), (1169, 827));
}

#[tokio::test]
async fn bad_board_requests_are_json_errors() {
    let dir = tempfile::tempdir().unwrap();
    let state = demo_state(&dir, config());
    let cases = [
        (
            "/api/v1/boards/999999.pdf",
            StatusCode::NOT_FOUND,
            "unknown_grid",
        ),
        (
            &format!("/api/v1/boards/{WENDING}.pdf?system=nope"),
            StatusCode::BAD_REQUEST,
            "unknown_system",
        ),
        (
            &format!("/api/v1/boards/{WENDING}.svg"),
            StatusCode::NOT_FOUND,
            "no_route",
        ),
        (
            &format!("/api/v1/boards/{WENDING}"),
            StatusCode::NOT_FOUND,
            "no_route",
        ),
        (
            &format!("/api/v1/boards/{WENDING}.png?dpi=1000"),
            StatusCode::BAD_REQUEST,
            "bad_parameter",
        ),
        (
            &format!("/api/v1/boards/{WENDING}.png?dpi=abc"),
            StatusCode::BAD_REQUEST,
            "bad_parameter",
        ),
        (
            &format!("/api/v1/boards/{WENDING}.png?size=B5"),
            StatusCode::BAD_REQUEST,
            "bad_parameter",
        ),
        (
            &format!("/api/v1/boards/{WENDING}.pdf?landscape=maybe"),
            StatusCode::BAD_REQUEST,
            "bad_parameter",
        ),
        // A0 at 300 dpi would be 139 million pixels.
        (
            &format!("/api/v1/boards/{WENDING}.png?size=A0&dpi=300"),
            StatusCode::BAD_REQUEST,
            "bad_parameter",
        ),
    ];
    for (uri, status, code) in cases {
        let reply = get(&state, uri).await;
        assert_error(&reply, status, code);
    }
}

#[tokio::test]
async fn boards_wait_for_their_own_slots_and_count_against_the_rate_limit() {
    let dir = tempfile::tempdir().unwrap();
    let state = demo_state(
        &dir,
        ServerConfig {
            work: WorkLimits {
                boards: 1,
                wait: std::time::Duration::from_millis(50),
                ..WorkLimits::default()
            },
            rate_limit: RateLimit {
                per_second: 0.5,
                burst: 2,
                trusted_proxies: Vec::new(),
            },
            ..config()
        },
    );
    let from = |client: &str| {
        let mut request = Request::get(format!("/api/v1/boards/{WENDING}.png?size=A4&dpi=30"))
            .body(Body::empty())
            .unwrap();
        request
            .extensions_mut()
            .insert(ConnectInfo(client.parse::<SocketAddr>().unwrap()));
        request
    };
    // Every board slot busy: 503 with Retry-After, and nothing drawn.
    let held = state.work().acquire(Work::Board).await.unwrap();
    let busy = send(&state, from("1.1.1.1:5000")).await;
    assert_error(&busy, StatusCode::SERVICE_UNAVAILABLE, "busy");
    assert_eq!(busy.headers["retry-after"], "1");
    // Other work has its own slots.
    assert_eq!(get(&state, "/api/v1/coverage").await.status, StatusCode::OK);
    drop(held);
    assert_eq!(
        send(&state, from("1.1.1.1:5000")).await.status,
        StatusCode::OK
    );
    // The burst of 2 is spent (the busy answer counted too); another client is served.
    let limited = send(&state, from("1.1.1.1:5000")).await;
    assert_error(&limited, StatusCode::TOO_MANY_REQUESTS, "rate_limited");
    assert_eq!(
        send(&state, from("2.2.2.2:5000")).await.status,
        StatusCode::OK
    );
}
