//! Helpers shared by the server's unit tests.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use geo_types::{polygon, MultiPolygon};
use serde_json::Value;
use tower::ServiceExt;

use crate::http::{app, AppState};

/// A `w`×`h` degree rectangle with its south-west corner at (lon, lat).
pub fn rect(lon: f64, lat: f64, w: f64, h: f64) -> MultiPolygon<f64> {
    MultiPolygon(vec![polygon![
        (x: lon, y: lat), (x: lon + w, y: lat), (x: lon + w, y: lat + h), (x: lon, y: lat + h)
    ]])
}

/// `GET uri` with `headers` through the whole application: the status and
/// the body as JSON (`Null` when it is not JSON).
pub async fn get(state: &AppState, uri: &str, headers: &[(&str, &str)]) -> (StatusCode, Value) {
    let mut req = Request::get(uri);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = app(state.clone())
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = resp.status();
    let bytes = axum::body::to_bytes(resp.into_body(), 1 << 26)
        .await
        .unwrap();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}
