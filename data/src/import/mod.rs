//! Import of grids and workers from files, with validation and optional repair.
//!
//! Grid files: GeoJSON (`.geojson`, `.json`), CSV with a WKT column (`.csv`) and
//! ESRI Shapefile (`.shp` with `.dbf`, optional `.prj`/`.cpg`). Every feature
//! needs the properties `code`, `level`, optionally `name` and `parent`; the rest
//! are kept as attributes. Geometries are transformed to WGS84 longitude/latitude
//! ([`crate::crs`]), validated ([`crate::geometry::validate_polygonal`]) and, on
//! request, repaired. The file becomes a [`crate::change::ChangeSet`] that
//! [`crate::change::validate`] checks (tree: parents, levels, cycles) on the
//! result the store would hold, before it is applied. Any problem rejects the whole file: nothing is
//! written, and the error lists every rejected feature with the reason.
//!
//! ```
//! use gridmap_data::import::{read_features, FileFormat};
//! use std::path::Path;
//! assert_eq!(FileFormat::from_path(Path::new("GRIDS.SHP")), Some(FileFormat::Shapefile));
//! let dir = tempfile::tempdir().unwrap();
//! let path = dir.path().join("g.csv");
//! std::fs::write(&path, "code,level,wkt\n1,street,\"POLYGON((120 30,120.1 30,120.1 30.1,120 30))\"\n").unwrap();
//! let data = read_features(&path).unwrap();
//! assert_eq!(data.features[0].properties["code"], "1");
//! ```

mod counts;
mod csv_wkt;
mod error;
mod geojson;
mod grids;
pub(crate) mod properties;
mod raw;
mod shapefile;
mod workers;

use std::path::Path;

use serde_json::{Map, Value};

use crate::crs::Crs;

pub(crate) use csv_wkt::{geometry_column, GEOMETRY_ACCEPTED};
pub(crate) use error::list_problems;
pub(crate) use geojson::legacy_crs;

pub use counts::ImportCounts;
pub use error::{FeatureProblem, ImportError, RowProblem, MAX_LISTED};
pub use grids::{
    import_grids, prepare_grid_import, GridImportOptions, GridImportReport, RepairedFeature,
};
pub use raw::RawProblem;
pub use workers::{import_workers, prepare_worker_import, WorkerImportReport};

/// One feature as read from a file, before any judgement.
#[derive(Debug, Clone)]
pub struct RawFeature {
    /// 0-based position in the file (data row for CSV, record for shapefiles).
    pub index: usize,
    pub properties: Map<String, Value>,
    /// In the file's own CRS; `None` when the feature has no (readable) geometry.
    pub geometry: Option<geo_types::Geometry<f64>>,
    /// A problem only visible while reading: an unclosed ring or a non-finite
    /// number in the raw coordinates, or an unreadable geometry.
    pub raw_problem: Option<RawProblem>,
}

/// The features of a file and the CRS the file itself declares, if any
/// (a `.prj` beside a shapefile, a legacy GeoJSON `crs` member).
#[derive(Debug, Clone)]
pub struct SourceData {
    pub features: Vec<RawFeature>,
    pub crs: Option<Crs>,
}

/// Grid file formats, chosen by file extension (case-insensitive).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileFormat {
    GeoJson,
    CsvWkt,
    Shapefile,
}

impl FileFormat {
    /// `.geojson`/`.json` → GeoJSON, `.csv` → CSV with WKT, `.shp` → Shapefile.
    pub fn from_path(path: &Path) -> Option<FileFormat> {
        match crate::points::extension(path)?.as_str() {
            "geojson" | "json" => Some(FileFormat::GeoJson),
            "csv" => Some(FileFormat::CsvWkt),
            "shp" => Some(FileFormat::Shapefile),
            _ => None,
        }
    }
}

/// Reads the raw features of a grid file, choosing the reader by extension.
pub fn read_features(path: &Path) -> Result<SourceData, ImportError> {
    match FileFormat::from_path(path) {
        Some(FileFormat::GeoJson) => geojson::read(path),
        Some(FileFormat::CsvWkt) => csv_wkt::read(path),
        Some(FileFormat::Shapefile) => shapefile::read(path),
        None => Err(parse_error(
            path,
            "unknown file type: expected .geojson, .json, .csv (with a WKT column) or .shp".into(),
        )),
    }
}

pub(crate) fn parse_error(path: &Path, reason: String) -> ImportError {
    ImportError::Parse {
        path: path.to_path_buf(),
        reason,
    }
}

/// A CSV reader over `text`, past a leading byte-order mark (Excel writes
/// one), and the header row.
pub(crate) fn csv_reader<'a>(
    path: &Path,
    text: &'a str,
) -> Result<(csv::Reader<&'a [u8]>, csv::StringRecord), ImportError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = csv::ReaderBuilder::new().from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| parse_error(path, format!("invalid CSV header: {e}")))?
        .clone();
    Ok((reader, headers))
}

pub(crate) fn read_text(path: &Path) -> Result<String, ImportError> {
    let bytes = std::fs::read(path).map_err(|source| ImportError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let text = String::from_utf8(bytes).map_err(|e| {
        parse_error(
            path,
            format!(
                "not UTF-8 text (invalid byte at offset {}); save the file as UTF-8",
                e.utf8_error().valid_up_to()
            ),
        )
    })?;
    // Windows editors (and Excel) start UTF-8 files with a byte-order mark.
    Ok(match text.strip_prefix('\u{feff}') {
        Some(rest) => rest.to_string(),
        None => text,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_byte_order_mark_is_not_part_of_the_text() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("bom.geojson");
        std::fs::write(
            &f,
            "\u{feff}{\"type\":\"FeatureCollection\",\"features\":[]}",
        )
        .unwrap();
        assert!(read_text(&f).unwrap().starts_with('{'));
        assert!(geojson::read(&f).is_ok(), "a GeoJSON file with a BOM reads");
    }

    #[test]
    fn format_by_extension() {
        for (path, want) in [
            ("a.GeoJSON", Some(FileFormat::GeoJson)),
            ("a.json", Some(FileFormat::GeoJson)),
            ("dir.x/a.Csv", Some(FileFormat::CsvWkt)),
            ("a.shp", Some(FileFormat::Shapefile)),
            ("a.kml", None),
            ("csv", None),
        ] {
            assert_eq!(FileFormat::from_path(Path::new(path)), want, "{path}");
        }
        let e = read_features(Path::new("grids.kml"))
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("cannot parse grids.kml: unknown file type"),
            "{e}"
        );
    }

    #[test]
    fn missing_file_is_io_error() {
        let e = read_features(Path::new("/nonexistent/g.geojson")).unwrap_err();
        assert!(matches!(e, ImportError::Io { .. }));
        assert!(
            e.to_string()
                .starts_with("cannot read /nonexistent/g.geojson"),
            "{e}"
        );
    }
}
