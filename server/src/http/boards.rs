//! `GET /api/v1/boards/{code}.pdf|.png`: the publicity board of a grid, the
//! same one `gridmap board` prints.
//!
//! A board shows only what a publicity board shows (grids, workers' names,
//! roles, phones, photos, duties), so it needs no viewer token; drawing one
//! costs real CPU, so the route sits behind the per-client rate limiter,
//! draws on the blocking pool in one of the board slots
//! (`--max-board-renders`; 503 with `Retry-After` when they stay busy), and
//! refuses sizes and resolutions past [`MAX_PNG_PIXELS`].

use std::sync::{Arc, OnceLock};

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use gridmap_data::store::StoreLocation;
use gridmap_print::{
    png_pixels, Board, BoardOptions, Fonts, Format, PaperSize, PhotoSource, PrintDate,
};

use super::error::AppError;
use super::params::Params;
use super::state::AppState;
use super::work_limit::Work;

/// Resolutions a PNG may be asked for.
pub const DPI_RANGE: std::ops::RangeInclusive<f32> = 30.0..=300.0;
/// The largest PNG served (A1 at 200 dpi is 34 million pixels).
pub const MAX_PNG_PIXELS: u64 = 40_000_000;
const DEFAULT_DPI: f32 = 150.0;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/boards/{file}", get(board))
}

/// The font, found once per process (it depends on the machine, not the data).
fn fonts() -> Result<Arc<Fonts>, AppError> {
    static FONTS: OnceLock<Result<Arc<Fonts>, String>> = OnceLock::new();
    FONTS
        .get_or_init(|| {
            Fonts::discover(None)
                .map(Arc::new)
                .map_err(|e| e.to_string())
        })
        .clone()
        .map_err(|e| AppError::Internal(anyhow::anyhow!(e)))
}

#[utoipa::path(
    get,
    path = "/api/v1/boards/{file}",
    tag = "boards",
    summary = "a community's publicity board as PDF or PNG",
    params(("file" = String, Path, description = "{code}.pdf or {code}.png"), ("system" = Option<String>, Query, description = "grid system (the only one when absent)"), ("size" = Option<String>, Query, description = "A0-A4"), ("landscape" = Option<bool>, Query, description = "landscape sheet"), ("dpi" = Option<u32>, Query, description = "PNG resolution")),
    responses((status = 200, description = "the board", content_type = "application/pdf", body = String), (status = 400, description = "bad parameter", body = super::openapi::ErrorBody), (status = 404, description = "not found", body = super::openapi::ErrorBody), (status = 429, description = "rate limited (Retry-After)", body = super::openapi::ErrorBody), (status = 503, description = "busy (Retry-After)", body = super::openapi::ErrorBody))
)]
async fn board(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(file): Path<String>,
    params: Params,
) -> Result<Response, AppError> {
    let (code, format) = match file.rsplit_once('.') {
        Some((code, "pdf")) => (code.to_string(), Format::Pdf),
        Some((code, "png")) => (code.to_string(), Format::Png),
        _ => {
            return Err(AppError::not_found(
                "no_route",
                "boards are served as /api/v1/boards/{code}.pdf or .png",
            ))
        }
    };
    let size: PaperSize = match params.get("size") {
        None => PaperSize::A1,
        Some(s) => s
            .parse()
            .map_err(|e: String| AppError::bad_request("bad_parameter", format!("size: {e}")))?,
    };
    let landscape = match params.get("landscape") {
        None | Some("false" | "0") => false,
        Some("true" | "1") => true,
        Some(other) => {
            return Err(AppError::bad_request(
                "bad_parameter",
                format!("landscape must be true or false, got `{other}`"),
            ))
        }
    };
    let dpi = params.f64("dpi")?.map_or(DEFAULT_DPI, |d| d as f32);
    if !DPI_RANGE.contains(&dpi) {
        return Err(AppError::bad_request(
            "bad_parameter",
            format!(
                "dpi must be between {} and {}, got {dpi}",
                DPI_RANGE.start(),
                DPI_RANGE.end()
            ),
        ));
    }
    if format == Format::Png {
        let (w, h) = png_pixels(size, landscape, dpi);
        if w * h > MAX_PNG_PIXELS {
            return Err(AppError::bad_request(
                "bad_parameter",
                format!("a {size} PNG at {dpi} dpi is {w}×{h} pixels, more than {MAX_PNG_PIXELS}; ask for fewer dpi or a PDF"),
            ));
        }
    }
    let catalog = state.catalog();
    // Unknown grids and systems are answered before any drawing.
    let found = catalog.find_grid(params.get("system"), &code)?;
    let system = found.system.system().name.clone();
    let fonts = fonts()?;
    let opts = BoardOptions {
        system: Some(system),
        size,
        landscape,
        public_url: state.public_base(&headers),
        date: PrintDate::today(),
        dpi,
    };
    let photos = PhotoSource {
        photos_dir: None,
        store_dir: match StoreLocation::parse(&state.store().location()) {
            StoreLocation::Gpkg(path) => path.parent().map(std::path::Path::to_path_buf),
            _ => None,
        },
        // Never fetched on a public request: it would let anyone make the
        // server call other hosts.
        fetch: None,
    };
    // The slot is held until the drawing ends, also if the client left.
    let slot = state.work().acquire(Work::Board).await?;
    let (bytes, title) = tokio::task::spawn_blocking(move || {
        let _slot = slot;
        let board = Board::build(&catalog, &code, &opts, &fonts, &photos)?;
        let bytes = board.render(format, &fonts, opts.dpi)?;
        Ok::<_, gridmap_print::PrintError>((bytes, board.title().to_string()))
    })
    .await??;
    tracing::debug!(%title, bytes = bytes.len(), "board drawn");
    let disposition = format!(
        "inline; filename=\"board.{}\"; filename*=UTF-8''{}.{}",
        format.extension(),
        percent(&file_stem(&file)),
        format.extension()
    );
    let mut response = bytes.into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(format.mime()),
    );
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    Ok(response)
}

fn file_stem(file: &str) -> String {
    file.rsplit_once('.').map_or(file, |(s, _)| s).to_string()
}

/// RFC 5987 percent-encoding for `filename*`.
fn percent(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}
