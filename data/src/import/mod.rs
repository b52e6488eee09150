//! Import of grids and workers from files, with validation and optional repair.
//!
//! Grid files: GeoJSON (`.geojson`, `.json`), CSV with a WKT column (`.csv`),
//! ESRI Shapefile (`.shp` with `.dbf`, optional `.prj`/`.cpg`), GeoPackage
//! (`.gpkg`: one feature table, chosen with [`ReadOptions::layer`] when the
//! file holds several) and FlatGeobuf (`.fgb`). Every feature
//! needs the properties `code`, `level`, optionally `name` and `parent`; the rest
//! are kept as attributes. Geometries are transformed to WGS84 longitude/latitude
//! ([`crate::crs`]), validated ([`crate::geometry::validate_polygonal`]) and, on
//! request, repaired. The file becomes a [`crate::change::ChangeSet`] that
//! [`crate::change::validate`] checks (tree: parents, levels, cycles) on the
//! result the store would hold, before it is applied. Any problem rejects the whole file: nothing is
//! written, and the error lists every rejected feature with the reason.
//! A GeoPackage or FlatGeobuf written by `gridmap export` reads back as the
//! grids it was written from: JSON attribute columns come back as JSON
//! values, and an empty cell is no attribute.
//!
//! ```
//! use gridmap_data::import::{read_features, read_features_with, FileFormat, ReadOptions};
//! use std::path::Path;
//! assert_eq!(FileFormat::from_path(Path::new("GRIDS.SHP")), Some(FileFormat::Shapefile));
//! assert_eq!(FileFormat::from_path(Path::new("grids.gpkg")), Some(FileFormat::GeoPackage));
//! let dir = tempfile::tempdir().unwrap();
//! let path = dir.path().join("g.csv");
//! std::fs::write(&path, "code,level,wkt\n1,street,\"POLYGON((120 30,120.1 30,120.1 30.1,120 30))\"\n").unwrap();
//! let data = read_features(&path).unwrap();
//! // A CSV cell written as a canonical number reads as one; the grid code is still "1".
//! assert_eq!(data.features[0].properties["code"], 1);
//! // A layer names a table of a GeoPackage; other files have none.
//! let e = read_features_with(&path, &ReadOptions::with_layer("grids")).unwrap_err();
//! assert!(e.to_string().contains("--layer"), "{e}");
//! ```

mod counts;
mod csv_wkt;
mod error;
mod fgb;
mod geojson;
mod gpkg;
mod grids;
pub(crate) mod properties;
mod raw;
mod shapefile;
mod workers;

use std::path::Path;

use serde_json::{Map, Value};

use crate::crs::{Crs, CrsError};

pub(crate) use csv_wkt::{geometry_column, GEOMETRY_ACCEPTED};
pub(crate) use error::list_problems;
pub(crate) use geojson::legacy_crs;

pub use counts::ImportCounts;
pub use error::{FeatureProblem, ImportError, RowProblem, MAX_LISTED};
pub use grids::{
    import_grids, import_grids_with, prepare_grid_import, prepare_grid_import_with,
    GridImportOptions, GridImportReport, OrphanedAssignment, RepairedFeature,
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
    GeoPackage,
    FlatGeobuf,
}

impl FileFormat {
    /// `.geojson`/`.json` → GeoJSON, `.csv` → CSV with WKT, `.shp` →
    /// Shapefile, `.gpkg` → GeoPackage, `.fgb` → FlatGeobuf.
    pub fn from_path(path: &Path) -> Option<FileFormat> {
        match crate::points::extension(path)?.as_str() {
            "geojson" | "json" => Some(FileFormat::GeoJson),
            "csv" => Some(FileFormat::CsvWkt),
            "shp" => Some(FileFormat::Shapefile),
            "gpkg" => Some(FileFormat::GeoPackage),
            "fgb" => Some(FileFormat::FlatGeobuf),
            _ => None,
        }
    }

    /// The format's name in messages.
    fn name(self) -> &'static str {
        match self {
            FileFormat::GeoJson => "GeoJSON",
            FileFormat::CsvWkt => "CSV",
            FileFormat::Shapefile => "Shapefile",
            FileFormat::GeoPackage => "GeoPackage",
            FileFormat::FlatGeobuf => "FlatGeobuf",
        }
    }
}

/// How to read a grid file, beyond what its extension says.
///
/// ```
/// use gridmap_data::import::ReadOptions;
/// assert_eq!(ReadOptions::default().layer, None);
/// assert_eq!(ReadOptions::with_layer("districts").layer.as_deref(), Some("districts"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReadOptions {
    /// The feature table of a GeoPackage to read (default: its only one).
    /// Other formats hold one layer, so naming one for them is an error.
    pub layer: Option<String>,
}

impl ReadOptions {
    /// Read the GeoPackage table `name`.
    pub fn with_layer(name: impl Into<String>) -> Self {
        Self {
            layer: Some(name.into()),
        }
    }
}

/// Reads the raw features of a grid file, choosing the reader by extension.
pub fn read_features(path: &Path) -> Result<SourceData, ImportError> {
    read_features_with(path, &ReadOptions::default())
}

/// [`read_features`] with options: the layer of a GeoPackage.
pub fn read_features_with(path: &Path, opts: &ReadOptions) -> Result<SourceData, ImportError> {
    let format = FileFormat::from_path(path).ok_or_else(|| {
        parse_error(
            path,
            "unknown file type: expected .geojson, .json, .csv (with a WKT column), .shp, \
             .gpkg or .fgb"
                .into(),
        )
    })?;
    // Only a GeoPackage holds several layers; a layer named for any other
    // file is a mistake worth saying rather than ignoring.
    if let Some(layer) = &opts.layer {
        if format != FileFormat::GeoPackage {
            return Err(parse_error(
                path,
                format!(
                    "--layer {layer:?} names a table of a GeoPackage (.gpkg); a {} file has one layer",
                    format.name()
                ),
            ));
        }
    }
    match format {
        FileFormat::GeoJson => geojson::read(path),
        FileFormat::CsvWkt => csv_wkt::read(path),
        FileFormat::Shapefile => shapefile::read(path),
        FileFormat::GeoPackage => gpkg::read(path, opts.layer.as_deref()),
        FileFormat::FlatGeobuf => fgb::read(path),
    }
}

/// The CRS a file names by authority and code (a GeoPackage
/// `gpkg_spatial_ref_sys` row, a FlatGeobuf header), its WKT deciding when
/// the code is none gridmap knows; `None` when it names none (organisation
/// `NONE` or a code ≤ 0, and no WKT), so the import's default applies.
pub(crate) fn authority_crs(
    path: &Path,
    organization: Option<&str>,
    code: i64,
    wkt: Option<&str>,
) -> Result<Option<Crs>, ImportError> {
    let crs_error = |source| ImportError::Crs {
        path: path.to_path_buf(),
        source,
    };
    let organization = organization.map(str::trim).filter(|o| !o.is_empty());
    let named = match organization {
        Some(o) if o.eq_ignore_ascii_case("none") => None,
        _ if code <= 0 => None,
        Some(o) => Some(format!("{o}:{code}")),
        // FlatGeobuf: an organisation left out is EPSG.
        None => Some(format!("EPSG:{code}")),
    };
    if let Some(crs) = named.as_deref().and_then(|n| Crs::parse(n).ok()) {
        return Ok(Some(crs));
    }
    let wkt = wkt
        .map(str::trim)
        .filter(|w| !w.is_empty() && !w.eq_ignore_ascii_case("undefined"));
    match (wkt, named) {
        (Some(wkt), named) => match Crs::from_prj(wkt) {
            Ok(crs) => Ok(Some(crs)),
            // The code says more than a WKT we could not place.
            Err(e) => Err(crs_error(match named {
                Some(input) => CrsError::Unknown { input },
                None => e,
            })),
        },
        (None, Some(input)) => Err(crs_error(CrsError::Unknown { input })),
        (None, None) => Ok(None),
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
            ("a.GPKG", Some(FileFormat::GeoPackage)),
            ("a.fgb", Some(FileFormat::FlatGeobuf)),
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
        assert!(e.contains(".gpkg or .fgb"), "{e}");
    }

    #[test]
    fn a_layer_is_for_geopackages_only() {
        let e = read_features_with(Path::new("g.fgb"), &ReadOptions::with_layer("grids"))
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "cannot parse g.fgb: --layer \"grids\" names a table of a GeoPackage (.gpkg); \
             a FlatGeobuf file has one layer"
        );
    }

    #[test]
    fn crs_by_authority_code_or_wkt() {
        let p = Path::new("g.gpkg");
        let wkt = Crs::GaussKruger(4549).wkt();
        assert_eq!(
            authority_crs(p, Some("EPSG"), 4490, None).unwrap(),
            Some(Crs::Cgcs2000)
        );
        assert_eq!(
            authority_crs(p, None, 4549, None).unwrap(),
            Some(Crs::GaussKruger(4549))
        );
        assert_eq!(
            authority_crs(p, Some("epsg"), 3857, None).unwrap(),
            Some(Crs::WebMercator)
        );
        assert_eq!(
            authority_crs(p, Some("NONE"), 0, Some("undefined")).unwrap(),
            None
        );
        assert_eq!(authority_crs(p, None, 0, None).unwrap(), None);
        // A code of another authority, told by its WKT.
        assert_eq!(
            authority_crs(p, Some("CUSTOM"), 99, wkt).unwrap(),
            Some(Crs::GaussKruger(4549))
        );
        let e = authority_crs(p, Some("EPSG"), 32650, None)
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("g.gpkg: unknown or unsupported CRS \"EPSG:32650\""),
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
