//! One error type for every handler: a JSON body `{"error":{"code","message"}}`.
//! Internal failures are logged and reported to clients without their details.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use gridmap_data::analysis::AnalysisError;
use gridmap_data::catalog::CatalogError;
use gridmap_data::store::StoreError;
use serde_json::json;

#[derive(Debug)]
pub enum AppError {
    /// 400: the request is malformed; `code` is a stable machine-readable word.
    BadRequest { code: &'static str, message: String },
    /// 404: the thing asked for does not exist.
    NotFound { code: &'static str, message: String },
    /// 413: the request body is larger than allowed.
    TooLarge { message: String },
    /// 429: the client's rate limit is spent; `Retry-After` says when to come back.
    RateLimited { retry_after_s: u64 },
    /// 503: every slot for this kind of expensive work (`what`: coverage
    /// reports, tile renders, assign jobs) stayed busy for the whole wait;
    /// `Retry-After` says when to come back.
    Busy {
        what: &'static str,
        retry_after_s: u64,
    },
    /// Any other status (405, 408, 414, 431 …) with its code and message.
    Status {
        status: StatusCode,
        code: &'static str,
        message: String,
    },
    /// 500: logged in full, reported as a generic message.
    Internal(anyhow::Error),
}

impl AppError {
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::BadRequest {
            code,
            message: message.into(),
        }
    }

    pub fn not_found(code: &'static str, message: impl Into<String>) -> Self {
        Self::NotFound {
            code,
            message: message.into(),
        }
    }
}

// One `From` per domain error, so handlers use `?` and each error keeps its
// own status; anything unforeseen is internal and logged, never shown.

impl From<CatalogError> for AppError {
    fn from(e: CatalogError) -> Self {
        match &e {
            CatalogError::UnknownSystem { .. } => {
                Self::bad_request("unknown_system", e.to_string())
            }
            CatalogError::SystemRequired { .. } => {
                Self::bad_request("missing_parameter", format!("{e} with `system=`"))
            }
            CatalogError::UnknownGrid { .. } => Self::not_found("unknown_grid", e.to_string()),
            CatalogError::AmbiguousCode { .. } => {
                Self::bad_request("ambiguous_code", format!("{e} with `system=`"))
            }
            _ => Self::Internal(e.into()),
        }
    }
}

impl From<AnalysisError> for AppError {
    fn from(e: AnalysisError) -> Self {
        match e {
            AnalysisError::Catalog(c) => c.into(),
            AnalysisError::BadOption { .. } => Self::bad_request("bad_parameter", e.to_string()),
            _ => Self::Internal(e.into()),
        }
    }
}

impl From<gridmap_print::PrintError> for AppError {
    fn from(e: gridmap_print::PrintError) -> Self {
        use gridmap_print::PrintError as P;
        match e {
            P::Catalog(c) => c.into(),
            P::BadOption(_) => Self::bad_request("bad_parameter", e.to_string()),
            P::NoRoomForLabel { .. } => Self::bad_request("no_room", e.to_string()),
            _ => Self::Internal(e.into()),
        }
    }
}

impl From<gridmap_data::edit::EditError> for AppError {
    fn from(e: gridmap_data::edit::EditError) -> Self {
        use gridmap_data::edit::EditError as E;
        let status = |status: StatusCode, code: &'static str, message: String| Self::Status {
            status,
            code,
            message,
        };
        match e {
            E::Bad(m) => Self::bad_request("bad_edit", m),
            E::UnknownGrid { .. } => Self::not_found("unknown_grid", e.to_string()),
            E::UnknownWorker(_) => Self::not_found("unknown_worker", e.to_string()),
            E::Rule { grids, message } => status(
                StatusCode::UNPROCESSABLE_ENTITY,
                "rule_broken",
                format!("{message} (grids: {})", grids.join(", ")),
            ),
            E::Conflict { message, .. } => status(StatusCode::CONFLICT, "conflict", message),
            E::State(m) => status(StatusCode::CONFLICT, "wrong_state", m),
            E::History(h @ gridmap_data::history::HistoryError::Future { .. }) => {
                Self::bad_request("bad_parameter", h.to_string())
            }
            E::History(h) => status(StatusCode::GONE, "history_unavailable", h.to_string()),
            E::Store(s) => s.into(),
            other => Self::Internal(other.into()),
        }
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::ProposalMoved { .. } | StoreError::StaleBase { .. } => Self::Status {
                status: StatusCode::CONFLICT,
                code: "conflict",
                message: e.to_string(),
            },
            StoreError::AccountExists(_) => Self::Status {
                status: StatusCode::CONFLICT,
                code: "exists",
                message: e.to_string(),
            },
            e => Self::Internal(e.into()),
        }
    }
}

impl From<tokio::task::JoinError> for AppError {
    fn from(e: tokio::task::JoinError) -> Self {
        Self::Internal(e.into())
    }
}

// Extractor rejections (a handler taking `Result<Json<T>, JsonRejection>` and
// using `?`) are the client's mistake: 400 with axum's explanation. Those a
// handler does not catch are turned into the same JSON by
// `limits::json_errors`.

impl From<PathRejection> for AppError {
    fn from(e: PathRejection) -> Self {
        Self::bad_request("bad_path", e.body_text())
    }
}

impl From<QueryRejection> for AppError {
    fn from(e: QueryRejection) -> Self {
        Self::bad_request("bad_query", e.body_text())
    }
}

impl From<JsonRejection> for AppError {
    fn from(e: JsonRejection) -> Self {
        match e {
            JsonRejection::MissingJsonContentType(_) => {
                Self::bad_request("unsupported_media_type", e.body_text())
            }
            JsonRejection::BytesRejection(_) => Self::bad_request("bad_body", e.body_text()),
            _ => Self::bad_request("bad_json", e.body_text()),
        }
    }
}

impl From<anyhow::Error> for AppError {
    fn from(e: anyhow::Error) -> Self {
        Self::Internal(e)
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let mut retry_after = None;
        let (status, code, message) = match self {
            Self::RateLimited { retry_after_s } => {
                retry_after = Some(retry_after_s);
                (
                    StatusCode::TOO_MANY_REQUESTS,
                    "rate_limited",
                    format!("too many requests from this client; retry after {retry_after_s} s"),
                )
            }
            Self::Busy {
                what,
                retry_after_s,
            } => {
                retry_after = Some(retry_after_s);
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    "busy",
                    format!("the server is busy with other {what}; retry after {retry_after_s} s"),
                )
            }
            Self::Status {
                status,
                code,
                message,
            } => (status, code, message),
            Self::BadRequest { code, message } => (StatusCode::BAD_REQUEST, code, message),
            Self::NotFound { code, message } => (StatusCode::NOT_FOUND, code, message),
            Self::TooLarge { message } => {
                (StatusCode::PAYLOAD_TOO_LARGE, "body_too_large", message)
            }
            Self::Internal(e) => {
                tracing::error!(error = ?e, "internal error");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "internal server error; see the server log".to_string(),
                )
            }
        };
        let mut response = json_error(status, code, &message);
        if let Some(s) = retry_after {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, s.into());
        }
        response
    }
}

/// The error body every failure carries: `{"error":{"code","message"}}`.
pub fn json_error(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        Json(json!({ "error": { "code": code, "message": message } })),
    )
        .into_response()
}

/// A JSON 404 for paths no route matches.
pub async fn no_route() -> AppError {
    AppError::not_found("no_route", "no such endpoint")
}
