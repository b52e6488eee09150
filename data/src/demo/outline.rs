//! The embedded outline of 西湖区 and the local metric plane the demo works in.

use super::DemoError;

/// File name of the embedded outline (for error messages).
pub(crate) const OUTLINE_FILE: &str = "data/src/demo/xihu-gcj02.geojson";
const OUTLINE_GEOJSON: &str = include_str!("xihu-gcj02.geojson");
/// Administrative code of 西湖区, the prefix of every demo grid code.
pub(crate) const DISTRICT_CODE: &str = "330106";

/// Mean Earth radius (IUGG), metres.
const EARTH_RADIUS_M: f64 = 6_371_008.8;

/// Rings of polygons: `polygons[p][0]` is an exterior ring, the rest are holes.
pub(crate) type Rings = Vec<Vec<Vec<(f64, f64)>>>;

/// Equirectangular projection around a centre, in metres. Over a district
/// (~30 km) its scale error is far below a lattice cell, and its inverse is
/// affine, so straight lattice edges stay non-crossing after conversion.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Plane {
    lon0: f64,
    lat0: f64,
    m_per_deg_lon: f64,
    m_per_deg_lat: f64,
}

impl Plane {
    pub(crate) fn new(lon0: f64, lat0: f64) -> Self {
        let m_per_deg_lat = EARTH_RADIUS_M * std::f64::consts::PI / 180.0;
        Self {
            lon0,
            lat0,
            m_per_deg_lon: m_per_deg_lat * lat0.to_radians().cos(),
            m_per_deg_lat,
        }
    }

    pub(crate) fn project(&self, lon: f64, lat: f64) -> (f64, f64) {
        (
            (lon - self.lon0) * self.m_per_deg_lon,
            (lat - self.lat0) * self.m_per_deg_lat,
        )
    }

    pub(crate) fn unproject(&self, x: f64, y: f64) -> (f64, f64) {
        (
            self.lon0 + x / self.m_per_deg_lon,
            self.lat0 + y / self.m_per_deg_lat,
        )
    }
}

/// The outline of 西湖区 in WGS84 longitude/latitude.
pub(crate) fn load_outline() -> Result<Rings, DemoError> {
    parse_outline(OUTLINE_GEOJSON, OUTLINE_FILE, DISTRICT_CODE)
}

/// Finds the feature with property `code` in a GCJ-02 GeoJSON feature
/// collection and returns its rings converted to WGS84.
pub(crate) fn parse_outline(text: &str, file: &str, code: &str) -> Result<Rings, DemoError> {
    let err = |feature: String, reason: String| DemoError::Outline {
        file: file.to_string(),
        feature,
        reason,
    };
    let doc: serde_json::Value =
        serde_json::from_str(text).map_err(|e| err("-".into(), format!("not JSON: {e}")))?;
    let features = doc
        .get("features")
        .and_then(|f| f.as_array())
        .ok_or_else(|| err("-".into(), "not a FeatureCollection".into()))?;
    let (index, feature) = features
        .iter()
        .enumerate()
        .find(|(_, f)| f.pointer("/properties/code").and_then(|c| c.as_str()) == Some(code))
        .ok_or_else(|| err("-".into(), format!("no feature with code {code}")))?;
    let here = format!("#{index} (code {code})");
    let geometry = feature
        .get("geometry")
        .ok_or_else(|| err(here.clone(), "no geometry".into()))?;
    let coords = geometry
        .get("coordinates")
        .ok_or_else(|| err(here.clone(), "geometry without coordinates".into()))?;
    let polygons: Vec<&serde_json::Value> = match geometry.get("type").and_then(|t| t.as_str()) {
        Some("Polygon") => vec![coords],
        Some("MultiPolygon") => coords
            .as_array()
            .ok_or_else(|| {
                err(
                    here.clone(),
                    "MultiPolygon coordinates are not an array".into(),
                )
            })?
            .iter()
            .collect(),
        other => {
            return Err(err(
                here,
                format!("expected Polygon or MultiPolygon, found {other:?}"),
            ))
        }
    };
    let mut out = Vec::with_capacity(polygons.len());
    for (p, polygon) in polygons.iter().enumerate() {
        let rings = polygon
            .as_array()
            .ok_or_else(|| err(here.clone(), format!("polygon {p} is not an array")))?;
        let mut converted = Vec::with_capacity(rings.len());
        for (r, ring) in rings.iter().enumerate() {
            let positions = ring.as_array().ok_or_else(|| {
                err(
                    here.clone(),
                    format!("polygon {p} ring {r} is not an array"),
                )
            })?;
            if positions.len() < 4 {
                return Err(err(
                    here,
                    format!(
                        "polygon {p} ring {r} has {} positions, need 4",
                        positions.len()
                    ),
                ));
            }
            let mut pts = Vec::with_capacity(positions.len());
            for (k, pos) in positions.iter().enumerate() {
                let lon = pos.get(0).and_then(|v| v.as_f64());
                let lat = pos.get(1).and_then(|v| v.as_f64());
                match (lon, lat) {
                    (Some(lon), Some(lat))
                        if lon.is_finite()
                            && lat.is_finite()
                            && (-180.0..=180.0).contains(&lon)
                            && (-90.0..=90.0).contains(&lat) =>
                    {
                        pts.push(gcj02_to_wgs84(lon, lat))
                    }
                    _ => {
                        return Err(err(
                            here,
                            format!(
                                "polygon {p} ring {r} position {k} is not a valid lon/lat: {pos}"
                            ),
                        ))
                    }
                }
            }
            converted.push(pts);
        }
        if converted.is_empty() {
            return Err(err(here, format!("polygon {p} has no rings")));
        }
        out.push(converted);
    }
    if out.is_empty() {
        return Err(err(here, "no polygons".into()));
    }
    Ok(out)
}

fn gcj02_to_wgs84(lon: f64, lat: f64) -> (f64, f64) {
    crate::crs::gcj02_to_wgs84(lon, lat)
}

/// Signed area (shoelace) of a ring in plane coordinates; positive when counter-clockwise.
pub(crate) fn ring_area(ring: &[(f64, f64)]) -> f64 {
    let n = ring.len();
    let mut twice = 0.0;
    for k in 0..n {
        let (a, b) = (ring[k], ring[(k + 1) % n]);
        twice += a.0 * b.1 - b.0 * a.1;
    }
    twice / 2.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plane_round_trips_and_measures_metres() {
        let plane = Plane::new(120.1, 30.2);
        let (x, y) = plane.project(120.2, 30.3);
        let (lon, lat) = plane.unproject(x, y);
        assert!((lon - 120.2).abs() < 1e-12 && (lat - 30.3).abs() < 1e-12);
        // 0.1° of latitude is about 11.1 km.
        assert!((y - 11_119.5).abs() < 1.0, "{y}");
    }

    #[test]
    fn embedded_outline_is_xihu_in_wgs84() {
        let rings = load_outline().unwrap();
        assert!(!rings.is_empty());
        let ext = &rings[0][0];
        assert!(ext.len() > 1000);
        // 西湖区 lies west of the lake, around 120.1°E 30.2°N.
        for &(lon, lat) in ext {
            assert!(
                (119.9..120.3).contains(&lon) && (30.0..30.4).contains(&lat),
                "{lon} {lat}"
            );
        }
        let (lon0, lat0) = ext[0];
        let plane = Plane::new(lon0, lat0);
        let xy: Vec<_> = ext
            .iter()
            .map(|&(lon, lat)| plane.project(lon, lat))
            .collect();
        let km2 = ring_area(&xy).abs() / 1e6;
        // 西湖区 covers about 310 km².
        assert!((280.0..340.0).contains(&km2), "{km2} km²");
    }

    #[test]
    fn bad_outline_names_file_feature_and_reason() {
        let text = r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"code":"1"},"geometry":{"type":"Point","coordinates":[1,2]}}]}"#;
        let e = parse_outline(text, "x.geojson", "1")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("x.geojson") && e.contains("#0") && e.contains("Point"),
            "{e}"
        );
        let e = parse_outline(text, "x.geojson", "2")
            .unwrap_err()
            .to_string();
        assert!(e.contains("no feature with code 2"), "{e}");
        let text = r#"{"type":"FeatureCollection","features":[{"properties":{"code":"1"},"geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,"a"],[0,0]]]}}]}"#;
        let e = parse_outline(text, "x.geojson", "1")
            .unwrap_err()
            .to_string();
        assert!(e.contains("position 2"), "{e}");
    }
}
