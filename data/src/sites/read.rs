//! Reading point registers into rows: CSV with longitude/latitude columns
//! (read here), or any grid-file format with point geometry (CSV with a WKT
//! column, GeoJSON, Shapefile — read by [`crate::import::read_features`]).

use std::path::Path;

use geo_types::Geometry;
use serde_json::{Map, Value};

use crate::crs::Crs;
use crate::import::{parse_error, read_features, read_text, FileFormat, ImportError};

use crate::point_columns::{find_column, find_lon_lat, LAT_ACCEPTED, LON_ACCEPTED};

/// One row or feature of a point file, before any judgement.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PointRow {
    /// 0-based feature / data-row position.
    pub index: usize,
    /// 1-based line in a CSV file with coordinate columns (header = line 1).
    pub line: Option<u64>,
    /// Every property except the coordinate columns.
    pub properties: Map<String, Value>,
    /// `(x, y)` in the source CRS; `Ok(None)` when absent; `Err` says what is wrong.
    pub point: Result<Option<(f64, f64)>, String>,
}

/// The rows of a point file and the CRS it declares, if any.
#[derive(Debug)]
pub(crate) struct PointData {
    pub rows: Vec<PointRow>,
    pub crs: Option<Crs>,
}

fn find(headers: &[String], names: &[&str]) -> Option<usize> {
    find_column(headers.iter().map(String::as_str), names)
}

/// Reads a point file, choosing the reader by extension (and, for CSV, by its columns).
pub(crate) fn read_points(path: &Path) -> Result<PointData, ImportError> {
    if FileFormat::from_path(path) == Some(FileFormat::CsvWkt) {
        let text = read_text(path)?;
        let text = text.strip_prefix('\u{feff}').unwrap_or(&text); // Excel writes a BOM
        let mut reader = csv::ReaderBuilder::new().from_reader(text.as_bytes());
        let headers: Vec<String> = reader
            .headers()
            .map_err(|e| parse_error(path, format!("invalid CSV header: {e}")))?
            .iter()
            .map(str::to_string)
            .collect();
        if let (Some(lon), Some(lat)) = find_lon_lat(headers.iter().map(String::as_str)) {
            return read_lonlat_csv(path, reader, &headers, lon, lat);
        }
        if find(&headers, &["wkt", "geometry", "geom"]).is_none() {
            return Err(parse_error(
                path,
                format!(
                    "no coordinate columns: expected a longitude column ({LON_ACCEPTED}) and a latitude column ({LAT_ACCEPTED}) \
                     or a WKT column named wkt, geometry or geom; found columns {}",
                    headers.join(", ")
                ),
            ));
        }
    }
    let data = read_features(path)?;
    let rows = data
        .features
        .into_iter()
        .map(|f| {
            let point = match (f.geometry, f.raw_problem) {
                (_, Some(problem)) => Err(problem.to_string()),
                (None, None) => Ok(None),
                (Some(Geometry::Point(p)), None) => Ok(Some((p.x(), p.y()))),
                (Some(Geometry::MultiPoint(m)), None) if m.0.len() == 1 => {
                    Ok(Some((m.0[0].x(), m.0[0].y())))
                }
                (Some(Geometry::MultiPoint(m)), None) => Err(format!(
                    "geometry is a MultiPoint of {} points, not a single Point",
                    m.0.len()
                )),
                (Some(g), None) => Err(format!(
                    "geometry is a {}, not a Point",
                    crate::geometry::type_name(&g)
                )),
            };
            PointRow {
                index: f.index,
                line: None,
                properties: f.properties,
                point,
            }
        })
        .collect();
    Ok(PointData {
        rows,
        crs: data.crs,
    })
}

fn read_lonlat_csv(
    path: &Path,
    mut reader: csv::Reader<&[u8]>,
    headers: &[String],
    lon: usize,
    lat: usize,
) -> Result<PointData, ImportError> {
    let mut rows = Vec::new();
    for (index, record) in reader.records().enumerate() {
        let record = record.map_err(|e| parse_error(path, format!("invalid CSV: {e}")))?;
        let line = record.position().map(|p| p.line());
        let mut properties = Map::new();
        for (column, (name, cell)) in headers.iter().zip(record.iter()).enumerate() {
            if column != lon && column != lat {
                let cell = cell.trim();
                let value = if cell.is_empty() {
                    Value::Null
                } else {
                    Value::String(cell.to_string())
                };
                properties.insert(name.trim().to_string(), value);
            }
        }
        let number = |column: usize| -> Result<Option<f64>, String> {
            let cell = record.get(column).unwrap_or("").trim();
            if cell.is_empty() {
                return Ok(None);
            }
            cell.parse::<f64>()
                .map(Some)
                .map_err(|_| format!("{} `{cell}` is not a number", headers[column].trim()))
        };
        let point = match (number(lon), number(lat)) {
            (Err(e), _) | (_, Err(e)) => Err(e),
            (Ok(Some(x)), Ok(Some(y))) => Ok(Some((x, y))),
            (Ok(None), Ok(None)) => Ok(None),
            (Ok(_), Ok(_)) => Err(format!(
                "only one of the coordinate columns `{}` and `{}` is filled",
                headers[lon].trim(),
                headers[lat].trim()
            )),
        };
        rows.push(PointRow {
            index,
            line,
            properties,
            point,
        });
    }
    Ok(PointData { rows, crs: None })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn the_columns_assign_accepts_are_accepted_here_too() {
        // `long` was accepted by `gridmap assign` and refused by `import sites`.
        let dir = tempfile::tempdir().unwrap();
        for (lon, lat) in [("long", "lat"), ("Longitude", "Latitude"), ("x", "y")] {
            let text = format!("id,{lon},{lat}\nA1,120.1,30.2\n");
            let p = file(dir.path(), "s.csv", &text);
            let d = read_points(&p).unwrap();
            assert_eq!(d.rows[0].point, Ok(Some((120.1, 30.2))), "{lon},{lat}");
        }
    }

    #[test]
    fn lonlat_csv_rows() {
        let dir = tempfile::tempdir().unwrap();
        let p = file(
            dir.path(),
            "s.csv",
            "\u{feff}id,Lng,LAT,name\nA1,120.1,30.2,一号\nA2,,,x\nA3,abc,30,y\nA4,120,,z\nA5,NaN,30,w\n",
        );
        let d = read_points(&p).unwrap();
        assert_eq!(d.rows.len(), 5);
        assert_eq!(d.rows[0].point, Ok(Some((120.1, 30.2))));
        assert_eq!(d.rows[0].line, Some(2));
        assert_eq!(d.rows[0].properties["name"], "一号");
        assert!(!d.rows[0].properties.contains_key("Lng"));
        assert_eq!(d.rows[1].point, Ok(None));
        assert_eq!(
            d.rows[2].point,
            Err("Lng `abc` is not a number".to_string())
        );
        assert!(d.rows[3]
            .point
            .as_ref()
            .unwrap_err()
            .contains("only one of"));
        assert!(d.rows[4].point.as_ref().unwrap().unwrap().0.is_nan());
    }

    #[test]
    fn wkt_csv_and_geojson_points() {
        let dir = tempfile::tempdir().unwrap();
        let p = file(
            dir.path(),
            "s.csv",
            "id,wkt\n1,POINT(120 30)\n2,\"LINESTRING(0 0,1 1)\"\n3,\"MULTIPOINT((1 2))\"\n",
        );
        let d = read_points(&p).unwrap();
        assert_eq!(d.rows[0].point, Ok(Some((120.0, 30.0))));
        assert_eq!(
            d.rows[1].point,
            Err("geometry is a LineString, not a Point".to_string())
        );
        assert_eq!(d.rows[2].point, Ok(Some((1.0, 2.0))));
        let g = file(
            dir.path(),
            "s.geojson",
            r#"{"type":"FeatureCollection","features":[
              {"type":"Feature","properties":{"id":"x"},"geometry":{"type":"Point","coordinates":[120.5,30.5]}},
              {"type":"Feature","properties":{"id":"y"},"geometry":null}]}"#,
        );
        let d = read_points(&g).unwrap();
        assert_eq!(d.rows[0].point, Ok(Some((120.5, 30.5))));
        assert_eq!(d.rows[1].point, Ok(None));
        assert_eq!(d.rows[1].line, None);
    }

    #[test]
    fn csv_without_coordinates_is_a_parse_error() {
        let dir = tempfile::tempdir().unwrap();
        let p = file(dir.path(), "s.csv", "id,name\n1,a\n");
        let e = read_points(&p).unwrap_err().to_string();
        assert!(
            e.contains("no coordinate columns") && e.contains("id, name"),
            "{e}"
        );
    }
}
