//! CSV reader: one feature per row, geometry as WKT in a column named `wkt`,
//! `geometry` or `geom` (any case); every other column becomes a string
//! property (empty cells become null).

use std::path::Path;

use serde_json::Map;
use wkt::Wkt;

use super::properties::typed_cell_value;
use super::raw::{polygons_problem, RawProblem};
use super::{csv_reader, parse_error, read_text, RawFeature, SourceData};

/// The names a WKT column goes by (any case).
const GEOMETRY_COLUMNS: [&str; 3] = ["wkt", "geometry", "geom"];
/// [`GEOMETRY_COLUMNS`] for messages.
pub(crate) const GEOMETRY_ACCEPTED: &str = "wkt, geometry or geom";

/// The position of the WKT column among `headers`.
pub(crate) fn geometry_column<'a>(headers: impl IntoIterator<Item = &'a str>) -> Option<usize> {
    headers
        .into_iter()
        .position(|h| GEOMETRY_COLUMNS.contains(&crate::points::normalise(h).as_str()))
}

fn pairs(ring: &wkt::types::LineString<f64>) -> impl Iterator<Item = (f64, f64)> + '_ {
    ring.coords().iter().map(|c| (c.x, c.y))
}

fn raw_problem(w: &Wkt<f64>) -> Option<RawProblem> {
    let found = match w {
        Wkt::Polygon(p) => polygons_problem(std::iter::once(p.rings().iter().map(pairs))),
        Wkt::MultiPolygon(m) => {
            polygons_problem(m.polygons().iter().map(|p| p.rings().iter().map(pairs)))
        }
        _ => None,
    };
    found.map(RawProblem::Geometry)
}

/// Parses one WKT cell; an EWKT `SRID=nnnn;` prefix is accepted and ignored
/// (the CRS comes from `--crs`).
fn parse_geometry(cell: &str) -> (Option<geo_types::Geometry<f64>>, Option<RawProblem>) {
    let text = cell.trim();
    let text = match text.split_once(';') {
        Some((srid, rest)) if srid.trim().to_ascii_uppercase().starts_with("SRID=") => rest,
        _ => text,
    };
    if text.is_empty() {
        return (None, None);
    }
    if let Err(reason) = crate::nesting::check(text) {
        return (
            None,
            Some(RawProblem::Unreadable(format!("invalid WKT: {reason}"))),
        );
    }
    let parsed: Wkt<f64> = match text.parse() {
        Ok(w) => w,
        Err(e) => {
            return (
                None,
                Some(RawProblem::Unreadable(format!("invalid WKT: {e}"))),
            )
        }
    };
    let problem = raw_problem(&parsed);
    match geo_types::Geometry::<f64>::try_from(parsed) {
        Ok(g) => (Some(g), problem),
        Err(e) => (
            None,
            Some(problem.unwrap_or(RawProblem::Unreadable(e.to_string()))),
        ),
    }
}

pub(crate) fn read(path: &Path) -> Result<SourceData, super::ImportError> {
    let text = read_text(path)?;
    let (mut reader, headers) = csv_reader(path, &text)?;
    let geometry_column = geometry_column(&headers).ok_or_else(|| {
        parse_error(
            path,
            format!(
                "no geometry column: expected one named {GEOMETRY_ACCEPTED}; found columns {}",
                headers.iter().collect::<Vec<_>>().join(", ")
            ),
        )
    })?;
    let mut features = Vec::new();
    for (index, record) in reader.records().enumerate() {
        let record = record.map_err(|e| parse_error(path, format!("invalid CSV: {e}")))?;
        let mut properties = Map::new();
        let mut geometry = (None, None);
        for (column, (name, cell)) in headers.iter().zip(record.iter()).enumerate() {
            if column == geometry_column {
                geometry = parse_geometry(cell);
            } else if let Some(value) = typed_cell_value(cell) {
                properties.insert(name.trim().to_string(), value);
            }
        }
        features.push(RawFeature {
            index,
            properties,
            geometry: geometry.0,
            raw_problem: geometry.1,
        });
    }
    Ok(SourceData {
        features,
        crs: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geometry::GeometryProblem;
    use crate::testutil::write;

    #[test]
    fn reads_wkt_column_and_properties() {
        let dir = tempfile::tempdir().unwrap();
        let f = write(dir.path(), "f.csv", 
            "\u{feff}code,name,WKT,parent\n\
             330106001,文新街道,\"POLYGON((120 30,120.1 30,120.1 30.1,120 30))\",\n\
             330106002,x,\"SRID=4490;MULTIPOLYGON(((120 30,120.1 30,120.1 30.1,120 30.1)))\",330106001\n\
             330106003,y,\"POLYGON((120 30,oops))\",\n\
             330106004,z,,\n",
        );
        let data = read(&f).unwrap();
        assert_eq!(data.features.len(), 4);
        let a = &data.features[0];
        assert_eq!(a.properties["name"], "文新街道");
        assert!(
            !a.properties.contains_key("parent"),
            "a blank cell is no property"
        );
        assert_eq!(
            a.properties["code"], 330_106_001,
            "a canonical number is a number"
        );
        assert!(!a.properties.contains_key("WKT"));
        assert!(matches!(a.geometry, Some(geo_types::Geometry::Polygon(_))));
        assert!(a.raw_problem.is_none());
        let b = &data.features[1];
        assert!(matches!(
            b.geometry,
            Some(geo_types::Geometry::MultiPolygon(_))
        ));
        assert_eq!(
            b.raw_problem,
            Some(RawProblem::Geometry(GeometryProblem::UnclosedRing {
                polygon: 0,
                ring: 0
            }))
        );
        match &data.features[2].raw_problem {
            Some(RawProblem::Unreadable(reason)) => {
                assert!(reason.starts_with("invalid WKT"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
        assert!(data.features[3].geometry.is_none() && data.features[3].raw_problem.is_none());
    }

    #[test]
    fn missing_geometry_column_is_a_parse_error() {
        let dir = tempfile::tempdir().unwrap();
        let f = write(dir.path(), "f.csv", "code,name\n1,a\n");
        let e = read(&f).unwrap_err().to_string();
        assert!(
            e.contains("no geometry column") && e.contains("code, name"),
            "{e}"
        );
    }
}
