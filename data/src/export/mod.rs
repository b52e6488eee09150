//! Export of grids, sites and workers to the files GIS desktops and
//! spreadsheets read: GeoPackage, ESRI Shapefile, GeoJSON, FlatGeobuf and CSV
//! with a WKT column (workers: CSV in the import's own columns).
//!
//! Attributes become plain columns ([`layer`]), so a re-import
//! ([`crate::import`]) gives the same grids back. Coordinates are converted
//! out of the stored WGS84 on the way ([`crate::crs::Crs::from_wgs84`]); the
//! file says its CRS the way its format does (a `.prj`, the GeoPackage
//! `gpkg_spatial_ref_sys`, the FlatGeobuf header, a legacy GeoJSON `crs`
//! member). Every file is written under a temporary name beside the target
//! and renamed at the end, so a failed or interrupted export leaves no half
//! file behind ([`output`]).
//!
//! ```
//! use gridmap_data::export::{export_grids, ExportFormat, GridExportOptions};
//! # fn demo(snapshot: &gridmap_data::store::Snapshot) -> Result<(), gridmap_data::export::ExportError> {
//! let mut opts = GridExportOptions::new("综治", ExportFormat::Gpkg, "grids.gpkg");
//! opts.level = Some("block".into());
//! let report = export_grids(snapshot, &opts)?;
//! println!("{report}");
//! # Ok(()) }
//! ```

mod csv;
mod fgb;
mod geojson;
mod gpkg;
pub mod layer;
mod output;
mod shp;
mod workers;

use std::fmt;
use std::path::{Path, PathBuf};

use crate::crs::{Crs, CrsError};
use crate::store::Snapshot;

pub use layer::{Column, ColumnKind, GeometryKind, Layer, Row};
pub use workers::{export_workers, WorkerExportOptions};

/// An export file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Gpkg,
    Shapefile,
    GeoJson,
    FlatGeobuf,
    Csv,
}

impl ExportFormat {
    /// `gpkg`, `shp`, `geojson`, `fgb` or `csv` (case-insensitive; also
    /// `shapefile`, `json`, `flatgeobuf`).
    pub fn parse(s: &str) -> Option<ExportFormat> {
        Some(match s.trim().to_ascii_lowercase().as_str() {
            "gpkg" | "geopackage" => ExportFormat::Gpkg,
            "shp" | "shapefile" => ExportFormat::Shapefile,
            "geojson" | "json" => ExportFormat::GeoJson,
            "fgb" | "flatgeobuf" => ExportFormat::FlatGeobuf,
            "csv" => ExportFormat::Csv,
            _ => return None,
        })
    }

    /// The short name [`ExportFormat::parse`] takes back.
    pub fn name(&self) -> &'static str {
        match self {
            ExportFormat::Gpkg => "gpkg",
            ExportFormat::Shapefile => "shp",
            ExportFormat::GeoJson => "geojson",
            ExportFormat::FlatGeobuf => "fgb",
            ExportFormat::Csv => "csv",
        }
    }
}

impl fmt::Display for ExportFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Errors of an export; nothing is left at the target path after one.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExportError {
    #[error("cannot write {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The options do not fit together or name nothing in the store.
    #[error("{0}")]
    Options(String),
    /// A feature the output CRS cannot hold.
    #[error("{what} cannot be written in {crs}: {source}")]
    Crs {
        what: String,
        crs: Crs,
        #[source]
        source: CrsError,
    },
    /// A value the format cannot hold (a Shapefile text over 254 bytes …).
    #[error("{path}: {reason}")]
    Value { path: PathBuf, reason: String },
    /// The format's library failed.
    #[error("writing {path} failed: {reason}")]
    Format { path: PathBuf, reason: String },
}

/// What to write and how, shared by grids and sites.
#[derive(Debug, Clone, PartialEq)]
pub struct FileOptions {
    pub format: ExportFormat,
    /// Output CRS (default EPSG:4326).
    pub crs: Crs,
    /// Text encoding of a Shapefile's `.dbf` (default UTF-8); other formats are UTF-8.
    pub encoding: Option<&'static encoding_rs::Encoding>,
    pub out: PathBuf,
}

impl FileOptions {
    fn check(&self) -> Result<(), ExportError> {
        if self.encoding.is_some() && self.format != ExportFormat::Shapefile {
            return Err(ExportError::Options(format!(
                "--encoding applies to Shapefiles only ({} files are UTF-8)",
                self.format
            )));
        }
        if self.crs.epsg().is_none()
            && !matches!(self.format, ExportFormat::Csv | ExportFormat::GeoJson)
        {
            return Err(ExportError::Options(format!(
                "{} has no EPSG code, so a {} file cannot declare it; export {} to csv or geojson, \
                 or pick an EPSG CRS",
                self.crs.code(),
                self.format,
                self.crs.code()
            )));
        }
        Ok(())
    }
}

/// `gridmap export grids`.
#[derive(Debug, Clone, PartialEq)]
pub struct GridExportOptions {
    pub system: String,
    /// Only this level (default: every level).
    pub level: Option<String>,
    pub file: FileOptions,
}

impl GridExportOptions {
    /// Every level of `system` in EPSG:4326, UTF-8.
    pub fn new(system: impl Into<String>, format: ExportFormat, out: impl Into<PathBuf>) -> Self {
        Self {
            system: system.into(),
            level: None,
            file: FileOptions {
                format,
                crs: Crs::Wgs84,
                encoding: None,
                out: out.into(),
            },
        }
    }
}

/// `gridmap export sites`.
#[derive(Debug, Clone, PartialEq)]
pub struct SiteExportOptions {
    /// Only this kind (default: every kind).
    pub kind: Option<String>,
    pub file: FileOptions,
}

/// What an export wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportReport {
    /// The main file (the `.shp` of a shapefile).
    pub path: PathBuf,
    pub format: ExportFormat,
    pub crs: Crs,
    /// `grids`, `sites` or `workers`.
    pub what: &'static str,
    pub features: usize,
    /// Columns the format made rename (Shapefile field names are at most 10
    /// bytes): `(attribute, column)`.
    pub renamed: Vec<(String, String)>,
}

impl fmt::Display for ExportReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} {} ({}, {})",
            self.path.display(),
            self.features,
            self.what,
            self.format,
            self.crs.code()
        )?;
        for (from, to) in &self.renamed {
            write!(f, "\n  column `{from}` written as `{to}`")?;
        }
        Ok(())
    }
}

/// Writes the grids of one system (one level, or all) from `snapshot`.
pub fn export_grids(
    snapshot: &Snapshot,
    opts: &GridExportOptions,
) -> Result<ExportReport, ExportError> {
    opts.file.check()?;
    let Some((system, grids)) = snapshot.systems.iter().find(|(s, _)| s.name == opts.system) else {
        let names: Vec<&str> = snapshot
            .systems
            .iter()
            .map(|(s, _)| s.name.as_str())
            .collect();
        return Err(ExportError::Options(format!(
            "no grid system `{}` in the store (it has: {})",
            opts.system,
            if names.is_empty() {
                "none".to_string()
            } else {
                names.join(", ")
            }
        )));
    };
    if let Some(level) = &opts.level {
        if system.depth_of(level).is_none() {
            return Err(ExportError::Options(format!(
                "system `{}` has no level `{level}` (its levels: {})",
                system.name,
                system.levels.join(",")
            )));
        }
    }
    let chosen: Vec<_> = grids
        .iter()
        .filter(|g| opts.level.as_ref().is_none_or(|l| &g.level == l))
        .collect();
    let layer =
        layer::grids_layer(&chosen, opts.file.crs).map_err(|(code, source)| ExportError::Crs {
            what: format!("grid {code}"),
            crs: opts.file.crs,
            source,
        })?;
    write_layer(&layer, &opts.file, "grids")
}

/// Writes the sites (of one kind, or all) from `snapshot`.
pub fn export_sites(
    snapshot: &Snapshot,
    opts: &SiteExportOptions,
) -> Result<ExportReport, ExportError> {
    opts.file.check()?;
    let chosen: Vec<_> = snapshot
        .sites
        .iter()
        .filter(|s| opts.kind.as_ref().is_none_or(|k| &s.kind == k))
        .collect();
    if chosen.is_empty() {
        if let Some(kind) = &opts.kind {
            let mut kinds: Vec<&str> = snapshot.sites.iter().map(|s| s.kind.as_str()).collect();
            kinds.dedup();
            return Err(ExportError::Options(format!(
                "no sites of kind `{kind}` in the store (kinds: {})",
                if kinds.is_empty() {
                    "none".to_string()
                } else {
                    kinds.join(", ")
                }
            )));
        }
    }
    let layer =
        layer::sites_layer(&chosen, opts.file.crs).map_err(|(id, source)| ExportError::Crs {
            what: format!("site {id}"),
            crs: opts.file.crs,
            source,
        })?;
    write_layer(&layer, &opts.file, "sites")
}

fn write_layer(
    layer: &Layer,
    file: &FileOptions,
    what: &'static str,
) -> Result<ExportReport, ExportError> {
    let renamed = match file.format {
        ExportFormat::Gpkg => gpkg::write(layer, &file.out)?,
        ExportFormat::Shapefile => shp::write(layer, &file.out, file.encoding)?,
        ExportFormat::GeoJson => geojson::write(layer, &file.out)?,
        ExportFormat::FlatGeobuf => fgb::write(layer, &file.out)?,
        ExportFormat::Csv => csv::write(layer, &file.out)?,
    };
    Ok(ExportReport {
        path: file.out.clone(),
        format: file.format,
        crs: layer.crs,
        what,
        features: layer.rows.len(),
        renamed,
    })
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> ExportError + '_ {
    move |source| ExportError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn format_error(path: &Path, e: impl fmt::Display) -> ExportError {
    ExportError::Format {
        path: path.to_path_buf(),
        reason: e.to_string(),
    }
}

#[cfg(test)]
mod tests;
