//! A row's coordinates and properties, and every message a bad coordinate gets.

use std::borrow::Cow;

use geo_types::Geometry;
use serde_json::{Map, Value};

use super::columns::find_key;
use super::{CsvColumns, Payload, Row, LAT_NAMES, LON_NAMES};
use crate::crs::{Crs, CrsError};
use crate::import::properties::cell_value;

impl Row {
    /// The input coordinates as given (before any CRS conversion), or what
    /// is wrong with them. `cols` are the columns of a CSV input.
    pub fn coords(&self, cols: Option<&CsvColumns>) -> Result<(f64, f64), String> {
        match &self.payload {
            Payload::Csv(rec) => csv_coords(rec, cols.expect("CSV rows come with their columns")),
            Payload::Feature(f) => feature_coords(f),
            Payload::Point(p) => point_coords(p),
        }
    }

    /// Every property of the row except its coordinates: the other CSV cells
    /// (blank ones as null), a feature's `properties`, a point's other keys.
    pub fn into_properties(self, cols: Option<&CsvColumns>) -> Map<String, Value> {
        match self.payload {
            Payload::Csv(rec) => {
                let cols = cols.expect("CSV rows come with their columns");
                (0..rec.len().min(cols.header.len()))
                    .filter(|&i| i != cols.x && i != cols.y)
                    .map(|i| (cols.name(i), cell_value(&lossy(&rec[i]))))
                    .collect()
            }
            Payload::Feature(Value::Object(mut f)) => match f.remove("properties") {
                Some(Value::Object(properties)) => properties,
                _ => Map::new(),
            },
            Payload::Point(Value::Object(mut p)) => {
                for names in [LON_NAMES, LAT_NAMES] {
                    if let Some((key, _)) = find_key(&p, names) {
                        p.remove(key);
                    }
                }
                p
            }
            Payload::Feature(_) | Payload::Point(_) => Map::new(),
        }
    }
}

fn lossy(raw: &[u8]) -> Cow<'_, str> {
    String::from_utf8_lossy(raw)
}

fn csv_coords(rec: &csv::ByteRecord, cols: &CsvColumns) -> Result<(f64, f64), String> {
    let width = |fields: usize| {
        format!(
            "the row has {fields} fields, the header {}",
            cols.header.len()
        )
    };
    let cell = |i: usize| rec.get(i).map(|raw| lossy(raw));
    let field = |i: usize| -> Result<f64, String> {
        let Some(text) = cell(i) else {
            return Err(format!("missing `{}` ({})", cols.name(i), width(rec.len())));
        };
        let text = text.trim();
        if text.is_empty() {
            let other = if i == cols.x { cols.y } else { cols.x };
            if cell(other).is_some_and(|t| t.trim().is_empty()) {
                return Err(format!(
                    "missing coordinates (`{}` and `{}` are empty)",
                    cols.name(cols.x),
                    cols.name(cols.y)
                ));
            }
            return Err(format!("missing `{}`", cols.name(i)));
        }
        text.parse::<f64>()
            .map_err(|_| not_a_number(&format!("`{text}`"), &format!("column `{}`", cols.name(i))))
    };
    let xy = (field(cols.x)?, field(cols.y)?);
    if rec.len() != cols.header.len() {
        return Err(width(rec.len()));
    }
    Ok(xy)
}

/// The one wording of a value that should have been a coordinate.
fn not_a_number(shown: &str, place: &str) -> String {
    format!("{shown} is not a number ({place})")
}

const NO_GEOMETRY: &str = "the feature has no geometry";

fn not_a_point(type_name: &str) -> String {
    format!("the geometry is a {type_name}, not a Point")
}

fn not_one_point(points: usize) -> String {
    format!("the geometry is a MultiPoint of {points} points, not a single Point")
}

fn feature_coords(f: &Value) -> Result<(f64, f64), String> {
    let Some(obj) = f.as_object() else {
        return Err(format!("not a JSON object: {}", short(f)));
    };
    if obj.get("type").and_then(Value::as_str) != Some("Feature") {
        return Err("not a GeoJSON Feature (`type` is not \"Feature\")".into());
    }
    let geometry = match obj.get("geometry") {
        None | Some(Value::Null) => return Err(NO_GEOMETRY.into()),
        Some(g) => g,
    };
    let coordinates = geometry.get("coordinates").and_then(Value::as_array);
    let position = match geometry.get("type").and_then(Value::as_str) {
        Some("Point") => coordinates.map(Vec::as_slice),
        Some("MultiPoint") => match coordinates.map(Vec::as_slice) {
            Some([one]) => one.as_array().map(Vec::as_slice),
            Some(many) => return Err(not_one_point(many.len())),
            None => None,
        },
        Some(other) => return Err(not_a_point(other)),
        None => return Err("the geometry has no `type`".into()),
    };
    match position {
        Some([x, y, ..]) => match (x.as_f64(), y.as_f64()) {
            (Some(x), Some(y)) => Ok((x, y)),
            _ => Err(format!("coordinates [{x}, {y}] are not numbers")),
        },
        _ => Err("the Point has no [x, y] coordinates".into()),
    }
}

fn point_coords(p: &Value) -> Result<(f64, f64), String> {
    let Some(obj) = p.as_object() else {
        return Err(format!("not a JSON object: {}", short(p)));
    };
    let get = |names: &[&str], what: &str| -> Result<f64, String> {
        let Some((name, v)) = find_key(obj, names) else {
            return Err(format!(
                "missing `{what}` (accepted keys: {})",
                names.join(", ")
            ));
        };
        let place = format!("key `{name}`");
        match v {
            Value::Number(n) => n
                .as_f64()
                .ok_or_else(|| not_a_number(&n.to_string(), &place)),
            Value::String(s) if !s.trim().is_empty() => s
                .trim()
                .parse()
                .map_err(|_| not_a_number(&short(v), &place)),
            Value::String(_) | Value::Null => Err(format!("missing `{name}`")),
            other => Err(not_a_number(&short(other), &place)),
        }
    };
    Ok((get(LON_NAMES, "lon")?, get(LAT_NAMES, "lat")?))
}

/// A value shortened for messages.
fn short(v: &Value) -> String {
    let s = v.to_string();
    match s.char_indices().nth(60) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s,
    }
}

/// The point of a geometry read by [`crate::import::read_features`]
/// (Shapefile, CSV with WKT), with the messages JSON features get.
pub(crate) fn geometry_point(geometry: Option<&Geometry<f64>>) -> Result<(f64, f64), String> {
    match geometry {
        None => Err(NO_GEOMETRY.into()),
        Some(Geometry::Point(p)) => Ok((p.x(), p.y())),
        Some(Geometry::MultiPoint(m)) => match m.0.as_slice() {
            [p] => Ok((p.x(), p.y())),
            many => Err(not_one_point(many.len())),
        },
        Some(g) => Err(not_a_point(crate::geometry::type_name(g))),
    }
}

/// Why a point has no WGS84 position.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ToWgs84Error {
    /// The CRS cannot take the coordinates (non-finite, not longitude/latitude, …).
    #[error(transparent)]
    Crs(#[from] CrsError),
    /// The conversion worked but landed off the Earth.
    #[error("coordinate ({x:?}, {y:?}) under {crs} converts to ({lon:?}, {lat:?}), outside longitude/latitude range")]
    OffEarth {
        x: f64,
        y: f64,
        crs: Crs,
        lon: f64,
        lat: f64,
    },
}

/// Converts input coordinates to WGS84 and checks the result is a point on Earth.
pub(crate) fn to_wgs84(crs: Crs, (x, y): (f64, f64)) -> Result<(f64, f64), ToWgs84Error> {
    let (lon, lat) = crs.to_wgs84(x, y)?;
    if (-180.0..=180.0).contains(&lon) && (-90.0..=90.0).contains(&lat) {
        Ok((lon, lat))
    } else {
        Err(ToWgs84Error::OffEarth {
            x,
            y,
            crs,
            lon,
            lat,
        })
    }
}
