//! Query-string parsing with clear 400 errors (axum's own rejections are plain text).

use std::collections::HashMap;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use super::error::AppError;

/// Most items one page of a list endpoint returns.
pub const MAX_PAGE: usize = 10_000;

/// The `limit` and `offset` of a paged list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub limit: usize,
    pub offset: usize,
}

impl Page {
    /// The items of this page.
    pub fn of<I: IntoIterator>(self, items: I) -> impl Iterator<Item = I::Item> {
        items.into_iter().skip(self.offset).take(self.limit)
    }
}

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

    /// A non-negative integer, `default` when absent.
    pub fn usize(&self, name: &str, default: usize) -> Result<usize, AppError> {
        match self.get(name) {
            None => Ok(default),
            Some(s) => s.trim().parse().map_err(|_| {
                AppError::bad_request(
                    "bad_parameter",
                    format!("parameter `{name}` must be a non-negative integer, got `{s}`"),
                )
            }),
        }
    }

    /// The name of the grid system `system=` asks for in `catalog` (the only
    /// one when absent), owned so it can move into a blocking task.
    pub fn system_name(
        &self,
        catalog: &gridmap_data::catalog::Catalog,
    ) -> Result<String, AppError> {
        Ok(catalog
            .pick_system(self.get("system"))?
            .system()
            .name
            .clone())
    }

    /// `limit` (1 to [`MAX_PAGE`], `default_limit` when absent) and `offset`
    /// (0 when absent) of a list endpoint.
    pub fn page(&self, default_limit: usize) -> Result<Page, AppError> {
        let limit = self.usize("limit", default_limit)?;
        if limit == 0 || limit > MAX_PAGE {
            return Err(AppError::bad_request(
                "bad_parameter",
                format!("parameter `limit` must be between 1 and {MAX_PAGE}"),
            ));
        }
        let offset = self.usize("offset", 0)?;
        Ok(Page { limit, offset })
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

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Params {
        Params(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    fn bad_parameter(result: Result<Page, AppError>) -> String {
        match result {
            Err(AppError::BadRequest { code, message }) => {
                assert_eq!(code, "bad_parameter");
                message
            }
            other => panic!("expected a 400, got {other:?}"),
        }
    }

    #[test]
    fn page_defaults_bounds_and_errors() {
        assert_eq!(
            params(&[]).page(100).unwrap(),
            Page {
                limit: 100,
                offset: 0
            }
        );
        assert_eq!(
            params(&[("limit", " 7 "), ("offset", "30"), ("other", "x")])
                .page(100)
                .unwrap(),
            Page {
                limit: 7,
                offset: 30
            }
        );
        assert_eq!(
            params(&[("limit", "10000")]).page(1).unwrap().limit,
            MAX_PAGE
        );
        for limit in ["0", "10001"] {
            let message = bad_parameter(params(&[("limit", limit)]).page(100));
            assert!(message.contains("between 1 and 10000"), "{message}");
        }
        let message = bad_parameter(params(&[("limit", "ten")]).page(100));
        assert!(
            message.contains("`limit`") && message.contains("`ten`"),
            "{message}"
        );
        let message = bad_parameter(params(&[("offset", "-1")]).page(100));
        assert!(message.contains("`offset`"), "{message}");
    }

    #[test]
    fn page_of_skips_the_offset_and_takes_the_limit() {
        let page = Page {
            limit: 2,
            offset: 3,
        };
        assert_eq!(page.of(0..10).collect::<Vec<_>>(), [3, 4]);
        assert_eq!(page.of(0..4).collect::<Vec<_>>(), [3]);
        assert_eq!(page.of(0..2).count(), 0);
    }
}
