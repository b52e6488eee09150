//! Bulk assignment of points to grids: every input row gets the code of its
//! grid at every level of a system, plus a status.
//!
//! Input is streamed through the one point reader ([`crate::points`]): CSV with
//! `id,lon,lat,…` columns (or `x,y` / `lng`), or JSON: a GeoJSON
//! FeatureCollection of Points or an object `{"points":[{"id":…,"lon":…,"lat":…},…]}`,
//! read element by element so ten million rows run in bounded memory. A reader
//! thread cuts the input into
//! batches, worker threads look the points up and format their output rows,
//! and the calling thread writes the batches back in input order
//! ([`assign_stream`]). At most `4 × threads` batches are in flight at once.
//!
//! Levels are looked up independently ([`SystemIndex::locate_at_depth`]) with
//! the index's exact border rule. The status of a row is `error` when its
//! coordinates are unusable, else `border` when the point lay exactly on a grid
//! border at some level (the tie rule decided), else `inside` when the finest
//! level has a grid for it, else `outside`.
//!
//! ```
//! use gridmap_data::assign::{assign_stream, AssignOptions, InputFormat, OutputFormat};
//! use gridmap_data::index::SystemIndex;
//! use gridmap_data::progress::NoProgress;
//! use gridmap_data::{Grid, GridSystem};
//! use geo_types::{polygon, MultiPolygon};
//!
//! let system = GridSystem::new("s", vec!["block".into()]);
//! let square = polygon![(x: 0.0, y: 0.0), (x: 1.0, y: 0.0), (x: 1.0, y: 1.0), (x: 0.0, y: 1.0)];
//! let grid = Grid::new("B1", "block", None, MultiPolygon(vec![square]));
//! let index = SystemIndex::build(system, vec![grid]);
//! let input = "id,lon,lat\na,0.5,0.5\nb,5,5\nc,x,1\n";
//! let mut out = Vec::new();
//! let summary = assign_stream(&index, InputFormat::Csv, input.as_bytes(), OutputFormat::Csv,
//!     &mut out, &AssignOptions::default(), &NoProgress)?;
//! assert_eq!(String::from_utf8(out).unwrap(),
//!     "id,lon,lat,block_code,status\na,0.5,0.5,B1,inside\nb,5,5,,outside\nc,x,1,,error\n");
//! assert_eq!((summary.inside, summary.outside, summary.errors), (1, 1, 1));
//! assert_eq!(summary.row_errors[0].to_string(), "line 4: `x` is not a number (column `lon`)");
//! # Ok::<(), gridmap_data::assign::AssignError>(())
//! ```
//!
//! [`SystemIndex::locate_at_depth`]: crate::index::SystemIndex::locate_at_depth

mod run;
mod writer;

use std::fmt;
use std::path::Path;

use serde::Serialize;

use crate::crs::Crs;
use crate::points::{extension, ReadError};

pub use crate::points::{InputFormat, RowPos};
pub use run::assign_stream;

/// How the output is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    /// CSV: the input columns (CSV input) or `id,lon,lat` (JSON input), then
    /// one `<level>_code` column per level, then `status`.
    Csv,
    /// A GeoJSON FeatureCollection: input features keep their geometry as
    /// given; CSV rows and `points` become Point features at the WGS84
    /// position (null geometry for bad rows). Properties gain the
    /// `<level>_code` and `status` members.
    GeoJson,
    /// `{"results":[{"id","lon","lat","codes":{level: code|null},"status","message"?}…],"summary":{…}}`
    /// where `lon`/`lat` are the input coordinates as given (null when unparsable).
    Json,
}

impl OutputFormat {
    /// By file extension: `.csv`, `.geojson`, `.json` (the results document).
    pub fn from_path(path: &Path) -> Option<Self> {
        match extension(path).as_deref() {
            Some("csv") => Some(Self::Csv),
            Some("geojson") => Some(Self::GeoJson),
            Some("json") => Some(Self::Json),
            _ => None,
        }
    }
}

/// Settings of one run.
#[derive(Debug, Clone)]
pub struct AssignOptions {
    /// The CRS the input coordinates are in; converted to WGS84 for lookup.
    pub crs: Crs,
    /// Worker threads doing lookups (at least 1); reading and writing run on
    /// two more threads.
    pub threads: usize,
    /// Stop at the first bad row with [`AssignError::BadRow`].
    pub strict: bool,
    /// Rows per batch handed to a worker.
    pub batch_size: usize,
    /// How many bad rows [`AssignSummary::row_errors`] keeps (all are counted).
    pub max_row_errors: usize,
}

impl Default for AssignOptions {
    fn default() -> Self {
        Self {
            crs: Crs::Wgs84,
            threads: std::thread::available_parallelism().map_or(1, std::num::NonZero::get),
            strict: false,
            batch_size: 8192,
            max_row_errors: 1000,
        }
    }
}

/// The outcome of one row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// The finest level has a grid containing the point.
    Inside,
    /// No grid of the finest level contains the point.
    Outside,
    /// The point lay exactly on a border at some level; the tie rule decided.
    Border,
    /// The coordinates were missing, unparsable or not convertible.
    Error,
}

impl Status {
    /// The word written in the `status` column.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Inside => "inside",
            Status::Outside => "outside",
            Status::Border => "border",
            Status::Error => "error",
        }
    }
}

/// A row that could not be assigned; it is written with status `error`.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{pos}: {message}")]
pub struct RowError {
    pub pos: RowPos,
    pub message: String,
}

/// Counts and speed of a run.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct AssignSummary {
    pub rows: u64,
    pub inside: u64,
    pub outside: u64,
    pub border: u64,
    pub errors: u64,
    pub seconds: f64,
    pub rows_per_second: f64,
    /// The first [`AssignOptions::max_row_errors`] bad rows, in input order.
    #[serde(skip)]
    pub row_errors: Vec<RowError>,
}

impl AssignSummary {
    fn count(&mut self, status: Status) {
        self.rows += 1;
        match status {
            Status::Inside => self.inside += 1,
            Status::Outside => self.outside += 1,
            Status::Border => self.border += 1,
            Status::Error => self.errors += 1,
        }
    }

    fn add(&mut self, other: &AssignSummary) {
        self.rows += other.rows;
        self.inside += other.inside;
        self.outside += other.outside;
        self.border += other.border;
        self.errors += other.errors;
    }
}

impl fmt::Display for AssignSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} rows: {} inside, {} outside, {} border, {} error; {:.1} s, {:.0} rows/s",
            self.rows,
            self.inside,
            self.outside,
            self.border,
            self.errors,
            self.seconds,
            self.rows_per_second
        )
    }
}

/// Why a run stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AssignError {
    #[error("reading the input: {0}")]
    Read(#[source] std::io::Error),
    #[error("writing the output: {0}")]
    Write(#[source] std::io::Error),
    /// The CSV could not be parsed (not a bad value: a broken file).
    #[error("CSV input, line {line}: {message}")]
    Csv { line: u64, message: String },
    /// The CSV header lacks a coordinate column.
    #[error("CSV input has no {which} column (accepted names: {accepted}); header: {header}")]
    MissingColumn {
        which: &'static str,
        accepted: &'static str,
        header: String,
    },
    /// The JSON is malformed or not a collection of points; `element` is the
    /// 0-based index of the feature/point being read, if inside the array.
    #[error("JSON input, line {line} column {column}{}: {message}", element.map(|i| format!(" (element #{i})")).unwrap_or_default())]
    Json {
        line: usize,
        column: usize,
        element: Option<u64>,
        message: String,
    },
    /// A bad row in strict mode.
    #[error("bad row (strict mode): {0}")]
    BadRow(RowError),
    /// A worker thread panicked (a bug); the message is the panic's.
    #[error("internal error in a worker thread: {0}")]
    Worker(String),
}

impl From<ReadError> for AssignError {
    fn from(e: ReadError) -> Self {
        match e {
            ReadError::Io(e) => AssignError::Read(e),
            ReadError::Csv { line, message } => AssignError::Csv { line, message },
            ReadError::MissingColumn {
                which,
                accepted,
                header,
            } => AssignError::MissingColumn {
                which,
                accepted,
                header: header.join(","),
            },
            ReadError::Json {
                line,
                column,
                element,
                message,
            } => AssignError::Json {
                line,
                column,
                element,
                message,
            },
        }
    }
}

#[cfg(test)]
mod tests;
