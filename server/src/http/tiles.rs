//! Vector tiles: `GET /tiles` (catalog), `GET /tiles/{system}.json` (TileJSON
//! 3.0) and `GET /tiles/{system}/{z}/{x}/{y}.mvt`.
//!
//! Caching: tiles are cached in memory per data version. The TileJSON hands
//! out tile URLs carrying `?v=<data version>`; a request for the current
//! version may be cached by clients for a day, any other request must be
//! revalidated (ETag → 304), so nobody keeps a stale boundary after an import.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use gridmap_tiles::{gzip, TileId};
use serde_json::{json, Value};

use super::error::AppError;
use super::params::Params;
use super::state::AppState;
use super::work_limit::Work;
use crate::tile_cache::{CachedTile, TileKey};
use crate::tileset::{render_tile, Tileset, MAX_ZOOM};
use gridmap_data::catalog::Catalog;
use gridmap_data::index::SystemIndex;

pub const MVT_CONTENT_TYPE: &str = "application/vnd.mapbox-vector-tile";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/tiles", get(catalog))
        .route("/tiles/{file}", get(tilejson))
        .route("/tiles/{system}/{z}/{x}/{file}", get(tile))
}

async fn catalog(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<Value>, AppError> {
    let base = state.public_base(&headers);
    let catalog = state.catalog();
    let mut tilesets = Vec::new();
    for s in catalog.systems() {
        let name = &s.system().name;
        let enc = urlencode(name);
        tilesets.push(json!({
            "system": name,
            "levels": s.system().levels,
            "grids": s.grids().len(),
            "tilejson": format!("{base}/tiles/{enc}.json"),
            "style": format!("{base}/styles/{enc}.json"),
            "bounds": s.bounds(),
        }));
    }
    Ok(Json(
        json!({ "data_version": catalog.version(), "tilesets": tilesets }),
    ))
}

/// Percent-encodes a path segment (system names may be Chinese: 综治).
pub fn urlencode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

async fn tilejson(
    State(state): State<AppState>,
    access: super::viewer::Access,
    Path(file): Path<String>,
    headers: HeaderMap,
    params: Params,
) -> Result<Json<Value>, AppError> {
    // A proposal's or the past's TileJSON: the same document, its tiles URL
    // asking for that view.
    let view = match (params.get("proposal"), params.get("at")) {
        (Some(p), None) => {
            super::editing::require_viewer(access)?;
            format!("&proposal={}", urlencode(p))
        }
        (None, Some(a)) => format!("&at={}", urlencode(a)),
        (None, None) => String::new(),
        (Some(_), Some(_)) => {
            return Err(AppError::bad_request(
                "bad_parameter",
                "give `at` or `proposal`, not both",
            ))
        }
    };
    let described = system_document(&state, "/tiles", "TileJSON", &file).await?;
    let (catalog, system) = (&described.catalog, described.name.as_str());
    let base = state.public_base(&headers);
    let bounds = described
        .system()
        .bounds()
        .unwrap_or([-180.0, -85.0511, 180.0, 85.0511]);
    let center = [
        (bounds[0] + bounds[2]) / 2.0,
        (bounds[1] + bounds[3]) / 2.0,
        11.0,
    ];
    Ok(Json(json!({
        "tilejson": "3.0.0",
        "name": system,
        "description": format!("gridmap grid system {system}"),
        "version": "1.0.0",
        "attribution": "gridmap",
        "scheme": "xyz",
        "tiles": [format!("{base}/tiles/{}/{{z}}/{{x}}/{{y}}.mvt?v={}{view}", urlencode(system), catalog.version())],
        "minzoom": 0,
        "maxzoom": MAX_ZOOM,
        "bounds": bounds,
        "center": center,
        "vector_layers": described.tileset.schema.vector_layers(),
    })))
}

/// What a document describing one system's tiles (TileJSON, the style) is
/// made from: the system, the catalog snapshot of the request and the
/// tileset prepared from it, so the document lists exactly the layers and
/// zooms the tiles are cut with.
pub struct SystemDocument {
    pub name: String,
    pub catalog: Arc<Catalog>,
    pub tileset: Arc<Tileset>,
}

impl SystemDocument {
    pub fn system(&self) -> &SystemIndex {
        self.catalog
            .system(&self.name)
            .expect("system_document checked the system")
    }
}

/// The system a `{route}/{system}.json` request names in `file`, with its
/// tileset, prepared on a blocking thread if it is not yet (the tiles need
/// it next anyway). Any other file name is a 404 saying where the
/// `document` is; an unknown system is a 404 too.
pub async fn system_document(
    state: &AppState,
    route: &str,
    document: &str,
    file: &str,
) -> Result<SystemDocument, AppError> {
    let name = file.strip_suffix(".json").ok_or_else(|| {
        AppError::not_found(
            "no_route",
            format!("no such resource {route}/{file}; {document} is at {route}/{{system}}.json"),
        )
    })?;
    let catalog = state.catalog();
    known_system(&catalog, name)?;
    let (st, snapshot, system) = (state.clone(), catalog.clone(), name.to_string());
    let built = tokio::task::spawn_blocking(move || st.tileset(&snapshot, &system))
        .await
        .map_err(anyhow::Error::from)?
        .expect("system checked above");
    let tileset = built.map_err(|e| anyhow::anyhow!("preparing tiles of {name}: {e}"))?;
    Ok(SystemDocument {
        name: name.to_string(),
        catalog,
        tileset,
    })
}

/// The system named in a request, or a 404 naming it.
fn known_system<'a>(catalog: &'a Catalog, name: &str) -> Result<&'a SystemIndex, AppError> {
    catalog.system(name).ok_or_else(|| {
        AppError::not_found("unknown_system", format!("no grid system named `{name}`"))
    })
}

fn bad_tile(message: String) -> AppError {
    AppError::bad_request("bad_tile", message)
}

/// Parses `{z}/{x}/{y}.mvt` (or `.pbf`) into a tile address.
fn parse_tile(z: &str, x: &str, file: &str) -> Result<TileId, AppError> {
    let y = file
        .strip_suffix(".mvt")
        .or_else(|| file.strip_suffix(".pbf"))
        .ok_or_else(|| {
            AppError::not_found("no_route", format!("tile `{file}` must end in .mvt"))
        })?;
    let parse = |name: &str, v: &str| -> Result<u32, AppError> {
        v.parse()
            .map_err(|_| bad_tile(format!("tile {name} `{v}` is not a non-negative integer")))
    };
    let (z, x, y) = (parse("z", z)?, parse("x", x)?, parse("y", y)?);
    if z > 30 {
        return Err(bad_tile(format!("zoom {z} is out of range 0..=30")));
    }
    TileId::new(z as u8, x, y).map_err(|e| bad_tile(e.to_string()))
}

/// Whether a comma-separated request header lists `wanted` (ignoring
/// parameters such as `;q=0.8`).
fn header_lists(headers: &HeaderMap, name: header::HeaderName, wanted: &[&str]) -> bool {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .any(|t| wanted.contains(&t.trim().split(';').next().unwrap_or("").trim()))
        })
}

async fn tile(
    State(state): State<AppState>,
    access: super::viewer::Access,
    Path((system, z, x, file)): Path<(String, String, String, String)>,
    params: Params,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let tile = parse_tile(&z, &x, &file)?;
    let catalog = state.catalog();
    known_system(&catalog, &system)?;
    if params.get("at").is_some() || params.get("proposal").is_some() {
        return view_tile(&state, &params, system, access, tile).await;
    }
    let version = catalog.version();
    let etag = format!(
        "\"{version}-{}-{}-{}-{}\"",
        urlencode(&system),
        tile.z,
        tile.x,
        tile.y
    );
    // Only a URL naming the current data version may be cached without revalidation.
    let current = params.get("v").and_then(|v| v.parse::<u64>().ok()) == Some(version);
    let cache_control = if current {
        "public, max-age=86400"
    } else {
        "no-cache"
    };
    if header_lists(&headers, header::IF_NONE_MATCH, &[&etag, "*"]) {
        return Ok(tile_response(
            StatusCode::NOT_MODIFIED,
            &etag,
            cache_control,
            None,
            Body::empty(),
        ));
    }
    let key = TileKey {
        version,
        system: system.clone(),
        z: tile.z,
        x: tile.x,
        y: tile.y,
    };
    let hit = state.tile_cache().get(&key);
    super::metrics::metrics().tile_cache(hit.is_some());
    let cached = match hit {
        Some(t) => t,
        None => {
            let st = state.clone();
            let render = move || async move {
                // Rendering takes one of the tile-render slots, until it ends.
                let slot = st.work().acquire(Work::TileRender).await?;
                let rendered =
                    tokio::task::spawn_blocking(move || -> anyhow::Result<Arc<CachedTile>> {
                        let _slot = slot;
                        let _counted = super::metrics::metrics().rendering();
                        let raw = render_tile(&st, &catalog, &system, tile)?;
                        let gz = if raw.is_empty() {
                            Vec::new()
                        } else {
                            gzip(&raw)
                        };
                        Ok(Arc::new(CachedTile {
                            raw: Bytes::from(raw),
                            gzip: Bytes::from(gz),
                        }))
                    })
                    .await??;
                Ok::<_, AppError>(rendered)
            };
            state.tile_cache().get_or_render(&key, render).await?
        }
    };
    let (status, encoding, body) = if cached.raw.is_empty() {
        (StatusCode::NO_CONTENT, None, Body::empty())
    } else if header_lists(&headers, header::ACCEPT_ENCODING, &["gzip"]) {
        (
            StatusCode::OK,
            Some("gzip"),
            Body::from(cached.gzip.clone()),
        )
    } else {
        (StatusCode::OK, None, Body::from(cached.raw.clone()))
    };
    Ok(tile_response(status, &etag, cache_control, encoding, body))
}

/// A tile of the past (`?at=`) or of a proposal (`?proposal=`): rendered from
/// that view, never kept in the tile cache, never cached by clients.
async fn view_tile(
    state: &AppState,
    params: &Params,
    system: String,
    access: super::viewer::Access,
    tile: TileId,
) -> Result<Response, AppError> {
    let slot = state.work().acquire(Work::TileRender).await?;
    let (st, params) = (state.clone(), Params(params.0.clone()));
    let raw = tokio::task::spawn_blocking(move || -> Result<Vec<u8>, AppError> {
        let _slot = slot;
        let _counted = super::metrics::metrics().rendering();
        let view = super::history::view_for(&st, &params, &system, access)?;
        let raw = match view {
            Some(view) => view.render(&st.config().tiles, &system, tile)?,
            None => render_tile(&st, &st.catalog(), &system, tile)?,
        };
        Ok(raw)
    })
    .await??;
    let (status, body) = if raw.is_empty() {
        (StatusCode::NO_CONTENT, Body::empty())
    } else {
        (StatusCode::OK, Body::from(raw))
    };
    Ok(tile_response(status, "\"view\"", "no-store", None, body))
}

fn tile_response(
    status: StatusCode,
    etag: &str,
    cache_control: &str,
    encoding: Option<&str>,
    body: Body,
) -> Response {
    let mut resp = (status, body).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::ETAG,
        HeaderValue::from_str(etag).expect("ascii etag"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_str(cache_control).expect("ascii"),
    );
    h.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    if status == StatusCode::OK {
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(MVT_CONTENT_TYPE),
        );
    }
    if let Some(enc) = encoding {
        h.insert(
            header::CONTENT_ENCODING,
            HeaderValue::from_static(if enc == "gzip" { "gzip" } else { "identity" }),
        );
    }
    resp
}
