//! GeoJSON reader (RFC 7946 FeatureCollection, or a single Feature).

use std::path::Path;

use geojson::{GeoJson, Value};
use serde_json::Map;

use super::raw::{polygons_problem, RawProblem};
use super::{parse_error, read_text, RawFeature, SourceData};
use crate::crs::Crs;

fn pairs(ring: &[Vec<f64>]) -> impl Iterator<Item = (f64, f64)> + '_ {
    ring.iter().map(|p| {
        (
            p.first().copied().unwrap_or(f64::NAN),
            p.get(1).copied().unwrap_or(f64::NAN),
        )
    })
}

/// Raw ring problems of a polygonal GeoJSON geometry value.
fn raw_problem(value: &Value) -> Option<RawProblem> {
    let found = match value {
        Value::Polygon(rings) => polygons_problem(std::iter::once(rings.iter().map(|r| pairs(r)))),
        Value::MultiPolygon(polys) => {
            polygons_problem(polys.iter().map(|rings| rings.iter().map(|r| pairs(r))))
        }
        _ => None,
    };
    found.map(RawProblem::Geometry)
}

/// The CRS named by a legacy (pre-RFC 7946) `"crs": {"type": "name", "properties": {"name": …}}`
/// member, given as `member`.
pub(crate) fn legacy_crs(
    path: &Path,
    member: Option<&serde_json::Value>,
) -> Result<Option<Crs>, super::ImportError> {
    let Some(name) = member
        .and_then(|c| c.get("properties"))
        .and_then(|p| p.get("name"))
        .and_then(|n| n.as_str())
    else {
        return Ok(None);
    };
    Crs::parse(name)
        .map(Some)
        .map_err(|source| super::ImportError::Crs {
            path: path.to_path_buf(),
            source,
        })
}

/// The `crs` member among a GeoJSON object's foreign members.
fn crs_member(members: Option<&Map<String, serde_json::Value>>) -> Option<&serde_json::Value> {
    members.and_then(|m| m.get("crs"))
}

pub(crate) fn read(path: &Path) -> Result<SourceData, super::ImportError> {
    let text = read_text(path)?;
    let parsed: GeoJson = text
        .parse()
        .map_err(|e| parse_error(path, format!("invalid GeoJSON: {e}")))?;
    let (features, crs) = match parsed {
        GeoJson::FeatureCollection(fc) => {
            let crs = legacy_crs(path, crs_member(fc.foreign_members.as_ref()))?;
            (fc.features, crs)
        }
        GeoJson::Feature(f) => {
            let crs = legacy_crs(path, crs_member(f.foreign_members.as_ref()))?;
            (vec![f], crs)
        }
        GeoJson::Geometry(_) => {
            return Err(parse_error(path, "expected a FeatureCollection, found a bare geometry (grids need properties such as `code`)".into()))
        }
    };
    let features = features
        .into_iter()
        .enumerate()
        .map(|(index, f)| {
            let properties = f.properties.unwrap_or_default();
            let (geometry, raw_problem) = match f.geometry {
                None => (None, None),
                Some(g) => {
                    let problem = raw_problem(&g.value);
                    match geo_types::Geometry::<f64>::try_from(g.value) {
                        Ok(geometry) => (Some(geometry), problem),
                        Err(e) => (
                            None,
                            Some(problem.unwrap_or(RawProblem::Unreadable(e.to_string()))),
                        ),
                    }
                }
            };
            RawFeature {
                index,
                properties,
                geometry,
                raw_problem,
            }
        })
        .collect();
    Ok(SourceData { features, crs })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geometry::GeometryProblem;
    use crate::testutil::write;

    #[test]
    fn reads_features_properties_and_unclosed_rings() {
        let dir = tempfile::tempdir().unwrap();
        let f = write(
            dir.path(),
            "f.geojson",
            r#"{"type":"FeatureCollection","features":[
            {"type":"Feature","properties":{"code":"a","level":"street"},
             "geometry":{"type":"Polygon","coordinates":[[[120,30],[120.1,30],[120.1,30.1],[120,30]]]}},
            {"type":"Feature","properties":{"code":"b"},
             "geometry":{"type":"Polygon","coordinates":[[[120,30],[120.1,30],[120.1,30.1],[120,30.1]]]}},
            {"type":"Feature","properties":null,"geometry":null}]}"#,
        );
        let data = read(&f).unwrap();
        assert_eq!(data.crs, None);
        assert_eq!(data.features.len(), 3);
        assert_eq!(data.features[0].properties["code"], "a");
        assert!(data.features[0].raw_problem.is_none());
        assert_eq!(
            data.features[1].raw_problem,
            Some(RawProblem::Geometry(GeometryProblem::UnclosedRing {
                polygon: 0,
                ring: 0
            }))
        );
        assert_eq!(data.features[2].index, 2);
        assert!(data.features[2].geometry.is_none());
    }

    #[test]
    fn legacy_crs_member_and_bare_geometry() {
        let dir = tempfile::tempdir().unwrap();
        let f = write(
            dir.path(),
            "f.geojson",
            r#"{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::4490"}},"features":[]}"#,
        );
        assert_eq!(read(&f).unwrap().crs, Some(Crs::Cgcs2000));
        let g = write(
            dir.path(),
            "g.geojson",
            r#"{"type":"Point","coordinates":[120,30]}"#,
        );
        let e = read(&g).unwrap_err().to_string();
        assert!(e.contains("expected a FeatureCollection"), "{e}");
        let h = write(
            dir.path(),
            "h.geojson",
            r#"{"type":"FeatureCollection","features":[{"#,
        );
        let e = read(&h).unwrap_err().to_string();
        assert!(
            e.starts_with(&format!("cannot parse {}: invalid GeoJSON", &h.display())),
            "{e}"
        );
    }
}
