//! Who is calling: `Authorization: Bearer TOKEN` checked against the store's
//! accounts (by the token's SHA-256), or the `--viewer-token`.
//!
//! Handlers that change data take a [`Caller`] and call
//! [`Caller::require`]: no token (or an unknown, revoked one) → 401, too low
//! a role → 403, both with the JSON error body. Reads take
//! [`super::viewer::Access`], which an account of any role also unlocks.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use gridmap_data::accounts::{token_hash, Account, Role};

use super::error::AppError;
use super::state::AppState;

/// The account a request presented, if any.
#[derive(Debug, Clone)]
pub struct Caller(pub Option<Account>);

impl Caller {
    /// The account, when its role is at least `role`.
    pub fn require(&self, role: Role) -> Result<&Account, AppError> {
        match &self.0 {
            None => Err(AppError::Status {
                status: StatusCode::UNAUTHORIZED,
                code: "unauthorized",
                message: format!(
                    "this needs an account token with role {role} or above: send `Authorization: Bearer TOKEN` (`gridmap user add NAME --role {role}` makes one)"
                ),
            }),
            Some(a) if a.role < role => Err(AppError::Status {
                status: StatusCode::FORBIDDEN,
                code: "forbidden",
                message: format!("account {} has role {}; this needs {role} or above", a.name, a.role),
            }),
            Some(a) => Ok(a),
        }
    }
}

/// The bearer token of a request, if it sent one.
pub fn bearer(parts: &Parts) -> Option<&str> {
    parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|h| h.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
}

/// The live account holding `token`. A store failure is an internal error,
/// never a silent "no account".
pub fn account_of(state: &AppState, token: &str) -> Result<Option<Account>, AppError> {
    Ok(state.store().account_by_token(&token_hash(token))?)
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        match bearer(parts) {
            None => Ok(Caller(None)),
            Some(token) => Ok(Caller(account_of(state, token)?)),
        }
    }
}

/// `--private`: every read but `/health` and the page's own files needs a
/// token (an account of any role, or the viewer token) → 401 otherwise.
pub async fn private_reads(
    axum::extract::State(state): axum::extract::State<AppState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    if state.config().private {
        let path = request.uri().path();
        // CORS preflights never carry credentials; the CORS layer answers them.
        let open = request.method() == axum::http::Method::OPTIONS
            || path == "/health"
            || !(path.starts_with("/api/")
                || path.starts_with("/tiles")
                || path.starts_with("/styles")
                || path.starts_with("/boards")
                || path.starts_with("/ogc"));
        if !open {
            let (parts, body) = request.into_parts();
            if super::viewer::access_of(&parts, &state) != super::viewer::Access::Viewer {
                return AppError::Status {
                    status: StatusCode::UNAUTHORIZED,
                    code: "unauthorized",
                    message: "this server is private: send `Authorization: Bearer TOKEN` with an account token".into(),
                }
                .into_response();
            }
            return next
                .run(axum::extract::Request::from_parts(parts, body))
                .await;
        }
    }
    next.run(request).await
}
