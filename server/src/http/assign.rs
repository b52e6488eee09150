//! `POST /api/v1/assign?system=&crs=`: bulk point-to-grid assignment.
//!
//! The body is JSON (`{"points":[{"id":…,"lon":…,"lat":…},…]}` or a GeoJSON
//! FeatureCollection of Points; `Content-Type: application/json` or
//! `application/geo+json`, the default) or CSV (`Content-Type: text/csv`, a
//! header row with `id,lon,lat,…`, `x,y` or `lng,lat`). The answer is
//! `{"results":[{"id","lon","lat","codes":{level: code|null,…},"status","message"?}…],"summary":{…}}`
//! in input order; for a CSV body with `Accept: text/csv` it is the CSV of the
//! input columns followed by `<level>_code` columns and `status`.
//!
//! Bodies are limited to [`ASSIGN_BODY_LIMIT`] (16 MiB); a larger one gets
//! 413 with the usual JSON error body. Bad rows do not fail the request: they
//! are listed with status `error` and a message. Malformed JSON or CSV gets 400.

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, FailedToBufferBody};
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use gridmap_data::assign::{assign_stream, AssignError, AssignOptions, InputFormat, OutputFormat};
use gridmap_data::crs::Crs;
use gridmap_data::progress::NoProgress;

use tower_http::limit::RequestBodyLimitLayer;

use super::error::AppError;
use super::params::Params;
use super::state::AppState;
use super::work_limit::Work;

/// The largest request body `POST /api/v1/assign` accepts: 16 MiB (about
/// 400,000 CSV rows); split larger inputs or use `gridmap assign`.
pub const ASSIGN_BODY_LIMIT: usize = 16 * 1024 * 1024;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/assign",
            post(assign).layer(DefaultBodyLimit::max(ASSIGN_BODY_LIMIT)),
        )
        // A declared length over the limit is refused before any byte is read.
        .layer(RequestBodyLimitLayer::new(ASSIGN_BODY_LIMIT))
}

#[utoipa::path(
    post,
    path = "/api/v1/assign",
    tag = "assign",
    summary = "bulk assignment: points in (CSV with lon/lat columns, GeoJSON, or {\"points\":[…]}), the grid of each at every level out (CSV or JSON)",
    request_body(content = String, description = "CSV or GeoJSON points", content_type = "text/csv"),
    params(("crs" = Option<String>, Query, description = "CRS of the points"), ("system" = Option<String>, Query, description = "grid system (the only one when absent)")),
    responses((status = 200, description = "the answer", body = serde_json::Value), (status = 400, description = "bad parameter", body = super::openapi::ErrorBody), (status = 413, description = "body too large", body = super::openapi::ErrorBody), (status = 503, description = "busy (Retry-After)", body = super::openapi::ErrorBody))
)]
async fn assign(
    State(state): State<AppState>,
    params: Params,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, AppError> {
    let input = input_format(&headers)?;
    let csv_answer = input == InputFormat::Csv && accepts_csv(&headers);
    let output = if csv_answer {
        OutputFormat::Csv
    } else {
        OutputFormat::Json
    };
    let crs = match params.get("crs") {
        None => Crs::Wgs84,
        Some(s) => Crs::parse(s).map_err(|e| AppError::bad_request("bad_crs", e.to_string()))?,
    };
    let system_name = params.get("system").map(str::to_string);
    let body = body.map_err(|rejection| match rejection {
        BytesRejection::FailedToBufferBody(FailedToBufferBody::LengthLimitError(_)) => {
            AppError::TooLarge {
                message: format!(
                    "the body is larger than {} MiB; split the input",
                    ASSIGN_BODY_LIMIT >> 20
                ),
            }
        }
        BytesRejection::FailedToBufferBody(FailedToBufferBody::UnknownBodyError(e))
            if super::limits::is_body_timeout(&e) =>
        {
            super::limits::body_timeout_error()
        }
        other => {
            AppError::bad_request("bad_body", format!("cannot read the request body: {other}"))
        }
    })?;

    let slot = state.work().acquire(Work::Assign).await?;
    let answer = tokio::task::spawn_blocking(move || -> Result<Vec<u8>, AppError> {
        let _slot = slot;
        let catalog = state.catalog();
        let index = match system_name.as_deref() {
            Some(name) => catalog.system(name).ok_or_else(|| {
                AppError::bad_request("unknown_system", format!("no grid system named `{name}`"))
            })?,
            None => {
                let mut all = catalog.systems();
                match (all.next(), all.next()) {
                    (Some(only), None) => only,
                    _ => {
                        let names: Vec<&str> = catalog
                            .systems()
                            .map(|s| s.system().name.as_str())
                            .collect();
                        return Err(AppError::bad_request(
                            "missing_parameter",
                            format!(
                                "parameter `system` is required; systems: {}",
                                names.join(", ")
                            ),
                        ));
                    }
                }
            }
        };
        let opts = AssignOptions {
            crs,
            ..Default::default()
        };
        let mut out = Vec::with_capacity(body.len() * 2);
        assign_stream(
            index,
            input,
            &body[..],
            output,
            &mut out,
            &opts,
            &NoProgress,
        )
        .map_err(|e| match e {
            AssignError::Json { .. } => AppError::bad_request("bad_json", e.to_string()),
            AssignError::Csv { .. } | AssignError::MissingColumn { .. } => {
                AppError::bad_request("bad_csv", e.to_string())
            }
            other => AppError::Internal(other.into()),
        })?;
        Ok(out)
    })
    .await??;
    let content_type = if csv_answer {
        "text/csv; charset=utf-8"
    } else {
        "application/json"
    };
    Ok(([(header::CONTENT_TYPE, content_type)], answer).into_response())
}

/// The media type of a header value, lower-cased, without parameters.
fn media_type(value: Option<&header::HeaderValue>) -> Option<String> {
    let v = value?.to_str().ok()?;
    Some(
        v.split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase(),
    )
}

fn input_format(headers: &HeaderMap) -> Result<InputFormat, AppError> {
    match media_type(headers.get(header::CONTENT_TYPE)).as_deref() {
        None | Some("") | Some("application/json" | "application/geo+json") => Ok(InputFormat::Json),
        Some("text/csv") => Ok(InputFormat::Csv),
        Some(other) => Err(AppError::bad_request(
            "unsupported_media_type",
            format!("Content-Type `{other}` is not accepted; send application/json, application/geo+json or text/csv"),
        )),
    }
}

fn accepts_csv(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|m| {
            m.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .eq_ignore_ascii_case("text/csv")
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(header::HeaderName, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(k.clone(), HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn content_type_picks_the_input_format() {
        assert_eq!(input_format(&headers(&[])).unwrap(), InputFormat::Json);
        let csv = headers(&[(header::CONTENT_TYPE, "Text/CSV; charset=utf-8")]);
        assert_eq!(input_format(&csv).unwrap(), InputFormat::Csv);
        let geo = headers(&[(header::CONTENT_TYPE, "application/geo+json")]);
        assert_eq!(input_format(&geo).unwrap(), InputFormat::Json);
        assert!(input_format(&headers(&[(header::CONTENT_TYPE, "image/png")])).is_err());
    }

    #[test]
    fn accept_lists_are_searched() {
        assert!(accepts_csv(&headers(&[(
            header::ACCEPT,
            "application/json;q=0.5, text/csv"
        )])));
        assert!(!accepts_csv(&headers(&[(
            header::ACCEPT,
            "application/json"
        )])));
        assert!(!accepts_csv(&headers(&[])));
    }
}
