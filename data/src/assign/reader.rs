//! Streaming input: CSV records or JSON array elements, cut into batches.
//!
//! Only the framing happens here (on the single reader thread); parsing the
//! coordinates is left to the workers ([`Row::coords`]).
//!
//! JSON is read with a serde visitor over the top-level object that hands out
//! the `features` / `points` array one element at a time, rather than with
//! geojson's `FeatureReader`: that one seeks the first `[` of the document (so
//! a collection with a `bbox` before `features` fails) and drops a feature
//! whose geometry does not parse, while we must write every row back.

use std::cell::Cell;
use std::fmt;
use std::io::{BufReader, Read};

use csv::ByteRecord;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

use super::{AssignError, InputFormat, RowPos};

use crate::point_columns::{
    find_column, normalise, LAT_ACCEPTED as Y_ACCEPTED, LAT_NAMES as Y_NAMES,
    LON_ACCEPTED as X_ACCEPTED, LON_NAMES as X_NAMES,
};

/// One input row, not yet parsed.
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

/// The CSV header and where the id and coordinates are in it.
pub(crate) struct CsvColumns {
    pub header: ByteRecord,
    pub id: Option<usize>,
    pub x: usize,
    pub y: usize,
}

impl CsvColumns {
    fn find(header: ByteRecord) -> Result<Self, AssignError> {
        let names: Vec<String> = header
            .iter()
            .map(|f| normalise(&String::from_utf8_lossy(f)))
            .collect();
        let find = |candidates: &[&str]| find_column(names.iter().map(String::as_str), candidates);
        let missing = |which, accepted| AssignError::MissingColumn {
            which,
            accepted,
            header: names.join(","),
        };
        let x = find(X_NAMES).ok_or_else(|| missing("x/longitude", X_ACCEPTED))?;
        let y = find(Y_NAMES).ok_or_else(|| missing("y/latitude", Y_ACCEPTED))?;
        Ok(Self {
            id: find(&["id"]),
            header,
            x,
            y,
        })
    }

    /// The header name of column `i`, for messages.
    pub fn name(&self, i: usize) -> String {
        String::from_utf8_lossy(self.header.get(i).unwrap_or_default())
            .trim()
            .to_string()
    }
}

/// An opened input, header already read.
pub(crate) enum Source<R: Read> {
    Csv(csv::Reader<R>),
    Json(R),
}

impl<R: Read> Source<R> {
    /// Opens the input; for CSV this reads the header and finds the columns.
    pub fn open(format: InputFormat, reader: R) -> Result<(Self, Option<CsvColumns>), AssignError> {
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
    /// `emit` returns false to stop early (the consumer has gone).
    pub fn run(
        self,
        batch_size: usize,
        emit: impl FnMut(Vec<Row>) -> bool,
    ) -> Result<(), AssignError> {
        match self {
            Source::Csv(rdr) => read_csv(rdr, batch_size, emit),
            Source::Json(r) => read_json(r, batch_size, emit),
        }
    }
}

fn csv_error(e: csv::Error) -> AssignError {
    let line = e.position().map_or(0, |p| p.line());
    let message = e.to_string();
    match e.into_kind() {
        csv::ErrorKind::Io(io) => AssignError::Read(io),
        _ => AssignError::Csv { line, message },
    }
}

fn read_csv<R: Read>(
    mut rdr: csv::Reader<R>,
    batch_size: usize,
    mut emit: impl FnMut(Vec<Row>) -> bool,
) -> Result<(), AssignError> {
    let mut batch = Vec::with_capacity(batch_size);
    loop {
        let mut rec = ByteRecord::new();
        if !rdr.read_byte_record(&mut rec).map_err(csv_error)? {
            break;
        }
        let line = rec.position().map_or(0, |p| p.line());
        batch.push(Row {
            pos: RowPos::Line(line),
            payload: Payload::Csv(rec),
        });
        if batch.len() == batch_size
            && !emit(std::mem::replace(
                &mut batch,
                Vec::with_capacity(batch_size),
            ))
        {
            return Ok(());
        }
    }
    if !batch.is_empty() {
        emit(batch);
    }
    Ok(())
}

/// The message of the custom error used to abort parsing when the consumer has gone.
const STOPPED: &str = "gridmap: assignment stopped";

fn read_json<R: Read>(
    reader: R,
    batch_size: usize,
    mut emit: impl FnMut(Vec<Row>) -> bool,
) -> Result<(), AssignError> {
    let element = Cell::new(None);
    let mut de = serde_json::Deserializer::from_reader(BufReader::with_capacity(1 << 16, reader));
    let top = Top {
        emit: &mut emit,
        batch_size,
        element: &element,
    };
    let result = top
        .deserialize(&mut de)
        .and_then(|found| de.end().map(|()| found));
    let json_error = |e: serde_json::Error| AssignError::Json {
        line: e.line(),
        column: e.column(),
        element: element.get(),
        message: e.to_string(),
    };
    match result {
        Ok(true) => Ok(()),
        Ok(false) => Err(AssignError::Json {
            line: 1,
            column: 1,
            element: None,
            message: "the object has no `features` or `points` array; expected a GeoJSON FeatureCollection \
                      or {\"points\":[{\"id\":…,\"lon\":…,\"lat\":…},…]}"
                .into(),
        }),
        Err(e) if e.to_string().starts_with(STOPPED) => Ok(()),
        Err(e) if e.is_io() => Err(AssignError::Read(e.into())),
        Err(e) => Err(json_error(e)),
    }
}

/// The top-level object; yields whether a `features`/`points` array was found.
struct Top<'a, F> {
    emit: &'a mut F,
    batch_size: usize,
    /// Index of the array element being read, for error messages.
    element: &'a Cell<Option<u64>>,
}

impl<'de, F: FnMut(Vec<Row>) -> bool> DeserializeSeed<'de> for Top<'_, F> {
    type Value = bool;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de, F: FnMut(Vec<Row>) -> bool> Visitor<'de> for Top<'_, F> {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a GeoJSON FeatureCollection or an object with a `points` array")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<bool, A::Error> {
        let mut found = false;
        while let Some(key) = map.next_key::<String>()? {
            let point = match key.as_str() {
                "features" => false,
                "points" => true,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                    continue;
                }
            };
            let list = List {
                emit: &mut *self.emit,
                batch_size: self.batch_size,
                element: self.element,
                point,
            };
            map.next_value_seed(list)?;
            self.element.set(None);
            found = true;
        }
        Ok(found)
    }
}

/// The `features` or `points` array.
struct List<'a, F> {
    emit: &'a mut F,
    batch_size: usize,
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
        let mut batch = Vec::with_capacity(self.batch_size);
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
            batch.push(Row { pos, payload });
            index += 1;
            if batch.len() == self.batch_size
                && !(self.emit)(std::mem::replace(
                    &mut batch,
                    Vec::with_capacity(self.batch_size),
                ))
            {
                return Err(de::Error::custom(STOPPED));
            }
        }
        if !batch.is_empty() && !(self.emit)(batch) {
            return Err(de::Error::custom(STOPPED));
        }
        Ok(())
    }
}

impl Row {
    /// The input coordinates as given (before any CRS conversion).
    pub fn coords(&self, cols: Option<&CsvColumns>) -> Result<(f64, f64), String> {
        match &self.payload {
            Payload::Csv(rec) => {
                let cols = cols.expect("CSV rows come with their columns");
                let field = |i: usize| -> Result<f64, String> {
                    let Some(raw) = rec.get(i) else {
                        return Err(format!(
                            "missing `{}` (the row has {} fields, the header {})",
                            cols.name(i),
                            rec.len(),
                            cols.header.len()
                        ));
                    };
                    let text = String::from_utf8_lossy(raw);
                    let text = text.trim();
                    if text.is_empty() {
                        return Err(format!("missing `{}`", cols.name(i)));
                    }
                    text.parse::<f64>().map_err(|_| {
                        format!("`{text}` is not a number (column `{}`)", cols.name(i))
                    })
                };
                let xy = (field(cols.x)?, field(cols.y)?);
                if rec.len() != cols.header.len() {
                    return Err(format!(
                        "the row has {} fields, the header {}",
                        rec.len(),
                        cols.header.len()
                    ));
                }
                Ok(xy)
            }
            Payload::Feature(f) => feature_coords(f),
            Payload::Point(p) => point_coords(p),
        }
    }
}

fn feature_coords(f: &Value) -> Result<(f64, f64), String> {
    let Some(obj) = f.as_object() else {
        return Err(format!("not a JSON object: {}", short(f)));
    };
    if obj.get("type").and_then(Value::as_str) != Some("Feature") {
        return Err("not a GeoJSON Feature (`type` is not \"Feature\")".into());
    }
    let geometry = match obj.get("geometry") {
        None | Some(Value::Null) => return Err("the feature has no geometry".into()),
        Some(g) => g,
    };
    match geometry.get("type").and_then(Value::as_str) {
        Some("Point") => {}
        Some(other) => return Err(format!("the geometry is a {other}, not a Point")),
        None => return Err("the geometry has no `type`".into()),
    }
    match geometry
        .get("coordinates")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
    {
        Some([x, y, ..]) => match (x.as_f64(), y.as_f64()) {
            (Some(x), Some(y)) => Ok((x, y)),
            _ => Err(format!("coordinates [{x}, {y}] are not numbers")),
        },
        _ => Err("the Point has no [x, y] coordinates".into()),
    }
}

fn point_coords(p: &Value) -> Result<(f64, f64), String> {
    let Some(obj) = p.as_object() else {
        return Err(format!("not a JSON object: {}", short(p)));
    };
    let get = |names: &[&str], what: &str| -> Result<f64, String> {
        let Some((name, v)) = names.iter().find_map(|n| obj.get(*n).map(|v| (n, v))) else {
            return Err(format!(
                "missing `{what}` (accepted keys: {})",
                names.join(", ")
            ));
        };
        match v {
            Value::Number(n) => n
                .as_f64()
                .ok_or_else(|| format!("`{name}` {n} is not a number")),
            Value::String(s) if !s.trim().is_empty() => s
                .trim()
                .parse()
                .map_err(|_| format!("`{name}` \"{s}\" is not a number")),
            Value::String(_) | Value::Null => Err(format!("missing `{name}`")),
            other => Err(format!("`{name}` {} is not a number", short(other))),
        }
    };
    Ok((get(X_NAMES, "lon")?, get(Y_NAMES, "lat")?))
}

/// A value shortened for messages.
fn short(v: &Value) -> String {
    let s = v.to_string();
    match s.char_indices().nth(60) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s,
    }
}
