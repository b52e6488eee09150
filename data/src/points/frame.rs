//! Framing: CSV records or the elements of a JSON `features` / `points`
//! array, handed out in batches without parsing a coordinate.
//!
//! JSON is read with a serde visitor over the top-level object that hands out
//! the array one element at a time, rather than with geojson's
//! `FeatureReader`: that one seeks the first `[` of the document (so a
//! collection with a `bbox` before `features` fails) and drops a feature whose
//! geometry does not parse, while every row must be answered.

use std::cell::Cell;
use std::fmt;
use std::io::{BufReader, Read};

use csv::ByteRecord;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use super::{CsvColumns, InputFormat, Payload, ReadError, Row, RowPos};

/// An opened input, header already read.
pub(crate) enum Source<R: Read> {
    Csv(csv::Reader<R>),
    Json(R),
}

impl<R: Read> Source<R> {
    /// Opens the input; for CSV this reads the header and finds the columns.
    pub fn open(format: InputFormat, reader: R) -> Result<(Self, Option<CsvColumns>), ReadError> {
        match format {
            InputFormat::Csv => {
                // flexible: a short row is a bad row of its own, not a broken file.
                let mut rdr = csv::ReaderBuilder::new().flexible(true).from_reader(reader);
                let header = rdr.byte_headers().map_err(csv_error)?.clone();
                let cols = CsvColumns::find(header)?;
                Ok((Source::Csv(rdr), Some(cols)))
            }
            InputFormat::Json => Ok((Source::Json(reader), None)),
        }
    }

    /// Reads every row and hands them out in batches of `batch_size`;
    /// `emit` returns false to stop early (the consumer has gone). Returns
    /// the legacy (pre-RFC 7946) `crs` member of a JSON document, if any.
    pub fn run(
        self,
        batch_size: usize,
        emit: impl FnMut(Vec<Row>) -> bool,
    ) -> Result<Option<Value>, ReadError> {
        match self {
            Source::Csv(rdr) => read_csv(rdr, batch_size, emit).map(|()| None),
            Source::Json(r) => read_json(r, batch_size, emit),
        }
    }
}

fn csv_error(e: csv::Error) -> ReadError {
    let line = e.position().map_or(0, csv::Position::line);
    let message = e.to_string();
    match e.into_kind() {
        csv::ErrorKind::Io(io) => ReadError::Io(io),
        _ => ReadError::Csv { line, message },
    }
}

/// Collects rows into batches of `batch_size`; false once `emit` refuses one.
struct Batcher<F> {
    batch: Vec<Row>,
    batch_size: usize,
    emit: F,
}

impl<F: FnMut(Vec<Row>) -> bool> Batcher<F> {
    fn new(batch_size: usize, emit: F) -> Self {
        Self {
            batch: Vec::with_capacity(batch_size),
            batch_size,
            emit,
        }
    }

    fn push(&mut self, row: Row) -> bool {
        self.batch.push(row);
        self.batch.len() < self.batch_size || self.flush()
    }

    fn flush(&mut self) -> bool {
        if self.batch.is_empty() {
            return true;
        }
        let full = std::mem::replace(&mut self.batch, Vec::with_capacity(self.batch_size));
        (self.emit)(full)
    }
}

fn read_csv<R: Read>(
    mut rdr: csv::Reader<R>,
    batch_size: usize,
    emit: impl FnMut(Vec<Row>) -> bool,
) -> Result<(), ReadError> {
    let mut batcher = Batcher::new(batch_size, emit);
    loop {
        let mut rec = ByteRecord::new();
        if !rdr.read_byte_record(&mut rec).map_err(csv_error)? {
            break;
        }
        let line = rec.position().map_or(0, csv::Position::line);
        let row = Row {
            pos: RowPos::Line(line),
            payload: Payload::Csv(rec),
        };
        if !batcher.push(row) {
            return Ok(());
        }
    }
    batcher.flush();
    Ok(())
}

/// The message of the custom error used to abort parsing when the consumer has gone.
const STOPPED: &str = "gridmap: reading stopped";

fn read_json<R: Read>(
    reader: R,
    batch_size: usize,
    emit: impl FnMut(Vec<Row>) -> bool,
) -> Result<Option<Value>, ReadError> {
    let element = Cell::new(None);
    let mut batcher = Batcher::new(batch_size, emit);
    let mut de = serde_json::Deserializer::from_reader(BufReader::with_capacity(1 << 16, reader));
    let top = Top {
        batcher: &mut batcher,
        element: &element,
    };
    let result = top
        .deserialize(&mut de)
        .and_then(|found| de.end().map(|()| found));
    match result {
        Ok(Some(members)) => Ok(members.crs),
        Ok(None) => Err(ReadError::Json {
            line: 1,
            column: 1,
            element: None,
            message: "the object has no `features` or `points` array and is no Feature; expected a \
                      GeoJSON FeatureCollection or Feature, or {\"points\":[{\"id\":…,\"lon\":…,\"lat\":…},…]}"
                .into(),
        }),
        Err(e) if e.to_string().starts_with(STOPPED) => Ok(None),
        Err(e) if e.is_io() => Err(ReadError::Io(e.into())),
        Err(e) => Err(ReadError::Json {
            line: e.line(),
            column: e.column(),
            element: element.get(),
            message: e.to_string(),
        }),
    }
}

/// The members of the top-level object kept while its array streams by:
/// the legacy `crs`, and those of a lone Feature (small, unlike the array).
#[derive(Default)]
struct Members {
    crs: Option<Value>,
    feature: Map<String, Value>,
}

/// The top-level object; yields its kept members when it held rows (a
/// `features`/`points` array, or the object is a Feature itself).
struct Top<'a, F> {
    batcher: &'a mut Batcher<F>,
    /// Index of the array element being read, for error messages.
    element: &'a Cell<Option<u64>>,
}

impl<'de, F: FnMut(Vec<Row>) -> bool> DeserializeSeed<'de> for Top<'_, F> {
    type Value = Option<Members>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Option<Members>, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de, F: FnMut(Vec<Row>) -> bool> Visitor<'de> for Top<'_, F> {
    type Value = Option<Members>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a GeoJSON FeatureCollection or Feature, or an object with a `points` array")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Option<Members>, A::Error> {
        let mut found = false;
        let mut members = Members::default();
        while let Some(key) = map.next_key::<String>()? {
            let point = match key.as_str() {
                "features" => false,
                "points" => true,
                "crs" => {
                    members.crs = Some(map.next_value()?);
                    continue;
                }
                "type" | "id" | "geometry" | "properties" => {
                    members.feature.insert(key, map.next_value()?);
                    continue;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                    continue;
                }
            };
            map.next_value_seed(List {
                batcher: &mut *self.batcher,
                element: self.element,
                point,
            })?;
            self.element.set(None);
            found = true;
        }
        let batcher = self.batcher;
        if !found && members.feature.get("type").and_then(Value::as_str) == Some("Feature") {
            let feature = Value::Object(std::mem::take(&mut members.feature));
            found = true;
            if !batcher.push(Row {
                pos: RowPos::Feature(0),
                payload: Payload::Feature(feature),
            }) {
                return Err(de::Error::custom(STOPPED));
            }
        }
        if !batcher.flush() {
            return Err(de::Error::custom(STOPPED));
        }
        Ok(found.then_some(members))
    }
}

/// The `features` or `points` array.
struct List<'a, F> {
    batcher: &'a mut Batcher<F>,
    element: &'a Cell<Option<u64>>,
    point: bool,
}

impl<'de, F: FnMut(Vec<Row>) -> bool> DeserializeSeed<'de> for List<'_, F> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de, F: FnMut(Vec<Row>) -> bool> Visitor<'de> for List<'_, F> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(if self.point {
            "an array of points"
        } else {
            "an array of features"
        })
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let batcher = self.batcher;
        let mut index = 0u64;
        loop {
            self.element.set(Some(index));
            let Some(value) = seq.next_element::<Value>()? else {
                break;
            };
            let (pos, payload) = if self.point {
                (RowPos::Point(index), Payload::Point(value))
            } else {
                (RowPos::Feature(index), Payload::Feature(value))
            };
            index += 1;
            if !batcher.push(Row { pos, payload }) {
                return Err(de::Error::custom(STOPPED));
            }
        }
        Ok(())
    }
}
