//! Reading point registers into rows: CSV with longitude/latitude columns and
//! GeoJSON through the one point reader ([`crate::points`], the same that
//! `gridmap assign` streams through), CSV with a WKT column, Shapefiles,
//! GeoPackages (their only feature table) and FlatGeobuf through
//! [`crate::import::read_features`].

use std::path::Path;

use serde_json::{Map, Value};

use crate::crs::Crs;
use crate::import::{
    geometry_column, legacy_crs, parse_error, read_features, read_text, FileFormat, ImportError,
    SourceData, GEOMETRY_ACCEPTED,
};
use crate::points::{
    geometry_point, read_all, AllRows, InputFormat, ReadError, RowPos, LAT_ACCEPTED, LON_ACCEPTED,
};

/// One row or feature of a point file, before any judgement.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PointRow {
    /// 0-based feature / data-row position.
    pub index: usize,
    /// 1-based line in a CSV file with coordinate columns (header = line 1).
    pub line: Option<u64>,
    /// Every property except the coordinates.
    pub properties: Map<String, Value>,
    /// `(x, y)` in the source CRS, or what is wrong with them.
    pub point: Result<(f64, f64), String>,
}

/// The rows of a point file and the CRS it declares, if any.
#[derive(Debug)]
pub(crate) struct PointData {
    pub rows: Vec<PointRow>,
    pub crs: Option<Crs>,
}

/// Reads a point file, choosing the reader by extension (and, for CSV, by its columns).
pub(crate) fn read_points(path: &Path) -> Result<PointData, ImportError> {
    let format = match FileFormat::from_path(path) {
        Some(FileFormat::CsvWkt) => InputFormat::Csv,
        Some(FileFormat::GeoJson) => InputFormat::Json,
        Some(FileFormat::Shapefile | FileFormat::GeoPackage | FileFormat::FlatGeobuf) | None => {
            return Ok(from_features(read_features(path)?))
        }
    };
    let text = read_text(path)?;
    match read_all(format, text.as_bytes()) {
        Ok(all) => {
            let crs = legacy_crs(path, all.crs.as_ref())?;
            Ok(PointData {
                rows: from_rows(all),
                crs,
            })
        }
        Err(ReadError::MissingColumn { header, .. })
            if geometry_column(header.iter().map(String::as_str)).is_some() =>
        {
            Ok(from_features(read_features(path)?))
        }
        Err(e) => Err(read_error(path, e)),
    }
}

fn from_rows(all: AllRows) -> Vec<PointRow> {
    let cols = all.columns.as_ref();
    all.rows
        .into_iter()
        .enumerate()
        .map(|(i, row)| {
            let (index, line) = match row.pos {
                RowPos::Line(line) => (i, Some(line)),
                RowPos::Feature(n) | RowPos::Point(n) => (n as usize, None),
            };
            PointRow {
                index,
                line,
                point: row.coords(cols),
                properties: row.into_properties(cols),
            }
        })
        .collect()
}

fn from_features(data: SourceData) -> PointData {
    let rows = data
        .features
        .into_iter()
        .map(|f| PointRow {
            index: f.index,
            line: None,
            point: match f.raw_problem {
                Some(problem) => Err(problem.to_string()),
                None => geometry_point(f.geometry.as_ref()),
            },
            properties: f.properties,
        })
        .collect();
    PointData {
        rows,
        crs: data.crs,
    }
}

fn read_error(path: &Path, e: ReadError) -> ImportError {
    match e {
        ReadError::Io(source) => ImportError::Io {
            path: path.to_path_buf(),
            source,
        },
        ReadError::Csv { message, .. } => parse_error(path, format!("invalid CSV: {message}")),
        ReadError::MissingColumn { header, .. } => parse_error(
            path,
            format!(
                "no coordinate columns: expected a longitude column ({LON_ACCEPTED}) and a latitude column ({LAT_ACCEPTED}) \
                 or a WKT column named {GEOMETRY_ACCEPTED}; found columns {}",
                header.join(", ")
            ),
        ),
        ReadError::Json {
            element, message, ..
        } => {
            let at = element.map(|i| format!(" (element #{i})")).unwrap_or_default();
            parse_error(path, format!("invalid GeoJSON{at}: {message}"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::write;

    #[test]
    fn the_columns_assign_accepts_are_accepted_here_too() {
        // `long` was accepted by `gridmap assign` and refused by `import sites`.
        let dir = tempfile::tempdir().unwrap();
        for (lon, lat) in [("long", "lat"), ("Longitude", "Latitude"), ("x", "y")] {
            let text = format!("id,{lon},{lat}\nA1,120.1,30.2\n");
            let p = write(dir.path(), "s.csv", &text);
            let d = read_points(&p).unwrap();
            assert_eq!(d.rows[0].point, Ok((120.1, 30.2)), "{lon},{lat}");
        }
    }

    #[test]
    fn lonlat_csv_rows() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(
            dir.path(),
            "s.csv",
            "\u{feff}id,Lng,LAT,name\nA1,120.1,30.2,一号\nA2,,,x\nA3,abc,30,y\nA4,120,,z\nA5,NaN,30,w\nA6,120,30\n",
        );
        let d = read_points(&p).unwrap();
        assert_eq!(d.crs, None);
        assert_eq!(d.rows.len(), 6);
        assert_eq!(d.rows[0].point, Ok((120.1, 30.2)));
        assert_eq!((d.rows[0].index, d.rows[0].line), (0, Some(2)));
        assert_eq!(d.rows[0].properties["name"], "一号");
        assert_eq!(
            d.rows[0].properties["id"], "A1",
            "the byte-order mark is not part of the name"
        );
        assert!(!d.rows[0].properties.contains_key("Lng"));
        assert_eq!(
            d.rows[1].point,
            Err("missing coordinates (`Lng` and `LAT` are empty)".to_string())
        );
        assert_eq!(
            d.rows[2].point,
            Err("`abc` is not a number (column `Lng`)".to_string())
        );
        assert_eq!(d.rows[3].point, Err("missing `LAT`".to_string()));
        assert!(d.rows[4].point.as_ref().unwrap().0.is_nan());
        // A short row is a bad row of its own, not a broken file.
        assert_eq!(
            (d.rows[5].index, d.rows[5].line, d.rows[5].point.clone()),
            (
                5,
                Some(7),
                Err("the row has 3 fields, the header 4".to_string())
            )
        );
    }

    #[test]
    fn wkt_csv_and_geojson_points() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(
            dir.path(),
            "s.csv",
            "id,wkt\n1,POINT(120 30)\n2,\"LINESTRING(0 0,1 1)\"\n3,\"MULTIPOINT((1 2))\"\n",
        );
        let d = read_points(&p).unwrap();
        assert_eq!(d.rows[0].point, Ok((120.0, 30.0)));
        assert_eq!(
            d.rows[1].point,
            Err("the geometry is a LineString, not a Point".to_string())
        );
        assert_eq!(d.rows[2].point, Ok((1.0, 2.0)));
        assert_eq!(d.rows[2].line, None);
        let g = write(
            dir.path(),
            "s.geojson",
            r#"{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"EPSG:4490"}},"features":[
              {"type":"Feature","properties":{"id":"x"},"geometry":{"type":"Point","coordinates":[120.5,30.5]}},
              {"type":"Feature","properties":{"id":"y"},"geometry":null}]}"#,
        );
        let d = read_points(&g).unwrap();
        assert_eq!(d.crs, Some(Crs::Cgcs2000));
        assert_eq!(d.rows[0].point, Ok((120.5, 30.5)));
        assert_eq!(d.rows[0].properties["id"], "x");
        assert_eq!(
            d.rows[1].point,
            Err("the feature has no geometry".to_string())
        );
        assert_eq!((d.rows[1].index, d.rows[1].line), (1, None));
    }

    #[test]
    fn unreadable_files_are_parse_errors() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(dir.path(), "s.csv", "id,name\n1,a\n");
        let e = read_points(&p).unwrap_err().to_string();
        assert!(
            e.contains("no coordinate columns") && e.contains("id, name"),
            "{e}"
        );
        let g = write(
            dir.path(),
            "s.geojson",
            r#"{"type":"FeatureCollection","features":[{"#,
        );
        let e = read_points(&g).unwrap_err().to_string();
        assert!(
            e.starts_with(&format!(
                "cannot parse {}: invalid GeoJSON (element #0): ",
                g.display()
            )),
            "{e}"
        );
        let e = read_points(Path::new("s.kml")).unwrap_err().to_string();
        assert!(e.contains("unknown file type"), "{e}");
    }
}
