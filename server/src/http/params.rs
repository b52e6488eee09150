//! Query-string parsing with clear 400 errors (axum's own rejections are plain text).

use std::collections::HashMap;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use super::error::AppError;

/// The query string as a map; later duplicates win.
pub struct Params(pub HashMap<String, String>);

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, AppError> {
        let query = parts.uri.query().unwrap_or("");
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).map_err(|e| {
            AppError::bad_request("bad_query", format!("malformed query string: {e}"))
        })?;
        Ok(Params(pairs.into_iter().collect()))
    }
}

impl Params {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .get(name)
            .map(String::as_str)
            .filter(|s| !s.is_empty())
    }

    pub fn required(&self, name: &str) -> Result<&str, AppError> {
        self.get(name).ok_or_else(|| {
            AppError::bad_request(
                "missing_parameter",
                format!("parameter `{name}` is required"),
            )
        })
    }

    /// A finite number.
    pub fn f64(&self, name: &str) -> Result<Option<f64>, AppError> {
        match self.get(name) {
            None => Ok(None),
            Some(s) => match s.trim().parse::<f64>() {
                Ok(v) if v.is_finite() => Ok(Some(v)),
                _ => Err(AppError::bad_request(
                    "bad_parameter",
                    format!("parameter `{name}` must be a finite number, got `{s}`"),
                )),
            },
        }
    }

    /// `minlon,minlat,maxlon,maxlat`.
    pub fn bbox(&self, name: &str) -> Result<Option<[f64; 4]>, AppError> {
        let Some(s) = self.get(name) else {
            return Ok(None);
        };
        let bad = || {
            AppError::bad_request(
                "bad_parameter",
                format!("parameter `{name}` must be `minlon,minlat,maxlon,maxlat`, got `{s}`"),
            )
        };
        let v: Vec<f64> = s
            .split(',')
            .map(|p| p.trim().parse::<f64>())
            .collect::<Result<_, _>>()
            .map_err(|_| bad())?;
        match v[..] {
            [a, b, c, d] if v.iter().all(|x| x.is_finite()) && a <= c && b <= d => {
                Ok(Some([a, b, c, d]))
            }
            _ => Err(bad()),
        }
    }
}
