//! The one reader of point rows, behind `gridmap assign`, `POST /api/v1/assign`
//! and `gridmap import sites`: which CSV columns and which JSON shapes hold
//! points, how an input is cut into rows, and what a bad coordinate's message
//! says — decided here once, so a file one command accepts the others accept
//! with the same coordinates, and refuse with the same reason.
//!
//! Inputs ([`InputFormat`]): CSV with a longitude and a latitude column
//! ([`LON_NAMES`], [`LAT_NAMES`], any case, a byte-order mark ignored), or
//! JSON: a GeoJSON FeatureCollection (members in any order, so a `bbox` may
//! come first) or a lone Feature, of Points (or one-point MultiPoints), or an
//! object `{"points":[{"id":…,"lon":…,"lat":…},…]}`.
//!
//! Reading is split in two so assignment can stream any number of rows on all
//! cores: the framing (`Source`: CSV records, elements of the `features` /
//! `points` array) runs on one thread and parses no coordinate; a row's
//! coordinates (`Row::coords`) are parsed wherever the row is sent. Imports,
//! which are all-or-nothing, collect every row first (`read_all`).

mod columns;
mod coords;
mod frame;

use std::fmt;
use std::io::Read;
use std::path::Path;

use csv::ByteRecord;
use serde_json::Value;

pub(crate) use columns::CsvColumns;
pub use columns::{find_column, normalise, LAT_ACCEPTED, LAT_NAMES, LON_ACCEPTED, LON_NAMES};
pub(crate) use coords::{geometry_point, to_wgs84, ToWgs84Error};
pub(crate) use frame::Source;

/// How a point input is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputFormat {
    /// CSV with a header row naming an x column ([`LON_NAMES`]), a y column
    /// ([`LAT_NAMES`]) and optionally `id`; any other columns are carried
    /// through. Names are matched case-insensitively.
    Csv,
    /// JSON: a GeoJSON FeatureCollection or Feature of Points, or an object
    /// with a `points` array of `{"id":…,"lon":…,"lat":…}` objects (same key
    /// names as the CSV columns; numbers or numeric strings).
    Json,
}

impl InputFormat {
    /// By file extension: `.csv` (and `.txt`), `.geojson` / `.json`.
    pub fn from_path(path: &Path) -> Option<Self> {
        match extension(path).as_deref() {
            Some("csv" | "txt") => Some(Self::Csv),
            Some("geojson" | "json") => Some(Self::Json),
            _ => None,
        }
    }
}

/// A file's extension in lower case, the key every reader chooses its format by.
pub(crate) fn extension(path: &Path) -> Option<String> {
    path.extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
}

/// Where a row is in the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowPos {
    /// A CSV record by physical line number (the header is line 1).
    Line(u64),
    /// A GeoJSON feature by 0-based index.
    Feature(u64),
    /// An element of a `points` array by 0-based index.
    Point(u64),
}

impl fmt::Display for RowPos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RowPos::Line(n) => write!(f, "line {n}"),
            RowPos::Feature(n) => write!(f, "feature #{n}"),
            RowPos::Point(n) => write!(f, "point #{n}"),
        }
    }
}

/// One input row, framed but not parsed.
pub(crate) struct Row {
    pub pos: RowPos,
    pub payload: Payload,
}

pub(crate) enum Payload {
    Csv(ByteRecord),
    /// A GeoJSON feature, as read.
    Feature(Value),
    /// An element of a `points` array, as read.
    Point(Value),
}

/// Why an input could not be read at all (a broken file, not a bad row).
/// Each caller words it in its own error, with its own context.
#[derive(Debug)]
pub(crate) enum ReadError {
    Io(std::io::Error),
    /// Unparsable CSV.
    Csv {
        line: u64,
        message: String,
    },
    /// The CSV header lacks a coordinate column; `header` are its names as written.
    MissingColumn {
        which: &'static str,
        accepted: &'static str,
        header: Vec<String>,
    },
    /// Malformed JSON, or no collection of points; `element` is the 0-based
    /// index of the feature / point being read, if inside the array.
    Json {
        line: usize,
        column: usize,
        element: Option<u64>,
        message: String,
    },
}

/// Every row of an input, for imports (which judge the whole file before
/// writing anything).
pub(crate) struct AllRows {
    pub rows: Vec<Row>,
    /// The CSV columns (CSV input only).
    pub columns: Option<CsvColumns>,
    /// The legacy (pre-RFC 7946) `crs` member of a JSON document, as written.
    pub crs: Option<Value>,
}

/// Reads every row of `reader`.
pub(crate) fn read_all<R: Read>(format: InputFormat, reader: R) -> Result<AllRows, ReadError> {
    let (source, columns) = Source::open(format, reader)?;
    let mut rows = Vec::new();
    let crs = source.run(4096, |batch| {
        rows.extend(batch);
        true
    })?;
    Ok(AllRows { rows, columns, crs })
}

#[cfg(test)]
mod tests;
