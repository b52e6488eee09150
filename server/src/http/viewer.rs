//! Who may see the registers' full rows. Public answers carry what a
//! publicity board shows (names, addresses, grids, the workers' public card);
//! a request bearing the configured viewer token (`--viewer-token`) also gets
//! household counts, free attributes and internal ids. With no token
//! configured, full rows are never served. An account token of any role
//! (`gridmap user add`) unlocks the same.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use super::state::AppState;

/// What a request may see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// What a publicity board shows.
    Public,
    /// Full register rows.
    Viewer,
}

impl Access {
    pub fn full(self) -> bool {
        self == Access::Viewer
    }

    /// `Viewer` when `authorization` is `Bearer <token>` with the configured token.
    pub fn of(configured: Option<&str>, authorization: Option<&str>) -> Self {
        let presented = authorization.and_then(|h| h.strip_prefix("Bearer "));
        match (configured, presented) {
            (Some(want), Some(got))
                if equal_in_constant_time(want.as_bytes(), got.trim().as_bytes()) =>
            {
                Access::Viewer
            }
            _ => Access::Public,
        }
    }
}

/// Compares without stopping at the first difference, so response times do
/// not reveal how much of a guessed token was right.
fn equal_in_constant_time(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// What the request's bearer token unlocks: the `--viewer-token`, or any
/// live account. A store failure while looking the account up counts as no
/// account (it is logged): reads then fall back to the public answer.
pub fn access_of(parts: &Parts, state: &AppState) -> Access {
    let header = parts
        .headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    if Access::of(state.config().viewer_token.as_deref(), header) == Access::Viewer {
        return Access::Viewer;
    }
    match super::auth::bearer(parts).map(|t| super::auth::account_of(state, t)) {
        Some(Ok(Some(_))) => Access::Viewer,
        Some(Err(e)) => {
            tracing::error!(error = ?e, "account lookup failed");
            Access::Public
        }
        _ => Access::Public,
    }
}

impl FromRequestParts<AppState> for Access {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(access_of(parts, state))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_configured_bearer_token_unlocks() {
        let t = Some("s3cret-token");
        assert_eq!(Access::of(t, Some("Bearer s3cret-token")), Access::Viewer);
        assert_eq!(Access::of(t, Some("Bearer s3cret-tokeN")), Access::Public);
        assert_eq!(Access::of(t, Some("s3cret-token")), Access::Public);
        assert_eq!(Access::of(t, None), Access::Public);
        assert_eq!(Access::of(None, Some("Bearer ")), Access::Public);
        assert_eq!(
            Access::of(None, Some("Bearer s3cret-token")),
            Access::Public
        );
    }
}
