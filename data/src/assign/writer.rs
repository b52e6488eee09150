//! Output formatting. Workers format whole batches ([`BatchOut`]) so that the
//! writing thread only copies bytes, in input order.
//!
//! The JSON formats write every element preceded by a comma; the writing
//! thread drops the comma of the very first element ([`strip_first_comma`]).

use serde_json::{Map, Value};

use super::{AssignSummary, OutputFormat, Status};
use crate::points::{CsvColumns, Payload, Row};

/// What one row's lookup produced, for formatting.
pub(crate) struct Outcome<'a> {
    /// The input coordinates as given, when they parsed.
    pub raw: Option<(f64, f64)>,
    /// The WGS84 position, when the conversion succeeded.
    pub wgs84: Option<(f64, f64)>,
    /// The grid code per level, top down.
    pub codes: &'a [Option<&'a str>],
    pub status: Status,
    pub message: Option<&'a str>,
}

/// How rows are laid out for one run.
pub(crate) struct Layout<'a> {
    pub format: OutputFormat,
    pub levels: &'a [String],
    pub csv: Option<&'a CsvColumns>,
}

/// A batch's formatted rows.
pub(crate) enum BatchOut {
    // Boxed: the csv writer carries a few hundred bytes of state.
    Csv(Box<csv::Writer<Vec<u8>>>),
    Json(Vec<u8>),
}

impl BatchOut {
    pub fn finish(self) -> Vec<u8> {
        match self {
            BatchOut::Csv(w) => w.into_inner().expect("writing to memory cannot fail"),
            BatchOut::Json(b) => b,
        }
    }
}

impl Layout<'_> {
    fn code_column(level: &str) -> String {
        format!("{level}_code")
    }

    /// Everything written before the first row.
    pub fn header(&self) -> Vec<u8> {
        match self.format {
            OutputFormat::Csv => {
                let mut w = csv::Writer::from_writer(Vec::new());
                match self.csv {
                    Some(cols) => cols
                        .header
                        .iter()
                        .for_each(|f| w.write_field(f).expect("in memory")),
                    None => ["id", "lon", "lat"]
                        .iter()
                        .for_each(|f| w.write_field(f).expect("in memory")),
                }
                for level in self.levels {
                    w.write_field(Self::code_column(level)).expect("in memory");
                }
                w.write_record(["status"]).expect("in memory");
                w.into_inner().expect("in memory")
            }
            OutputFormat::GeoJson => b"{\"type\":\"FeatureCollection\",\"features\":[".to_vec(),
            OutputFormat::Json => b"{\"results\":[".to_vec(),
        }
    }

    /// Everything written after the last row.
    pub fn footer(&self, summary: &AssignSummary) -> Vec<u8> {
        match self.format {
            OutputFormat::Csv => Vec::new(),
            OutputFormat::GeoJson => b"\n]}\n".to_vec(),
            OutputFormat::Json => {
                let mut b = b"\n],\"summary\":".to_vec();
                serde_json::to_writer(&mut b, summary).expect("in memory");
                b.extend_from_slice(b"}\n");
                b
            }
        }
    }

    pub fn batch(&self) -> BatchOut {
        match self.format {
            OutputFormat::Csv => BatchOut::Csv(Box::new(
                csv::WriterBuilder::new()
                    .flexible(true)
                    .from_writer(Vec::new()),
            )),
            _ => BatchOut::Json(Vec::new()),
        }
    }

    /// Formats one row into the batch.
    pub fn row(&self, out: &mut BatchOut, row: Row, o: &Outcome) {
        match out {
            BatchOut::Csv(w) => self.csv_row(w, &row.payload, o),
            BatchOut::Json(b) => {
                b.extend_from_slice(b",\n");
                match self.format {
                    OutputFormat::GeoJson => self.feature(b, row.payload, o),
                    _ => self.result(b, &row.payload, o),
                }
            }
        }
    }

    fn csv_row(&self, w: &mut csv::Writer<Vec<u8>>, payload: &Payload, o: &Outcome) {
        let mut field = |f: &[u8]| w.write_field(f).expect("in memory");
        match (payload, self.csv) {
            (Payload::Csv(rec), Some(cols)) => {
                // A row of the wrong width is a bad row; keep the columns aligned.
                for i in 0..cols.header.len() {
                    field(rec.get(i).unwrap_or_default());
                }
            }
            _ => {
                let id = id_text(payload_id(payload));
                let (x, y) = o.raw.map_or((String::new(), String::new()), |(x, y)| {
                    (x.to_string(), y.to_string())
                });
                for f in [id.as_bytes(), x.as_bytes(), y.as_bytes()] {
                    field(f);
                }
            }
        }
        for code in o.codes {
            field(code.unwrap_or("").as_bytes());
        }
        w.write_record([o.status.as_str()]).expect("in memory");
    }

    /// An element of `results`.
    fn result(&self, b: &mut Vec<u8>, payload: &Payload, o: &Outcome) {
        let id = match (payload, self.csv) {
            (Payload::Csv(rec), Some(cols)) => match cols.id.and_then(|i| rec.get(i)) {
                Some(raw) => Value::String(String::from_utf8_lossy(raw).into_owned()),
                None => Value::Null,
            },
            _ => payload_id(payload).cloned().unwrap_or(Value::Null),
        };
        b.extend_from_slice(b"{\"id\":");
        write_json(b, &id);
        b.extend_from_slice(b",\"lon\":");
        write_json(b, &o.raw.map(|r| r.0));
        b.extend_from_slice(b",\"lat\":");
        write_json(b, &o.raw.map(|r| r.1));
        b.extend_from_slice(b",\"codes\":{");
        for (i, (level, code)) in self.levels.iter().zip(o.codes).enumerate() {
            if i > 0 {
                b.push(b',');
            }
            write_json(b, level);
            b.push(b':');
            write_json(b, code);
        }
        b.extend_from_slice(b"},\"status\":");
        write_json(b, o.status.as_str());
        if let Some(m) = o.message {
            b.extend_from_slice(b",\"message\":");
            write_json(b, m);
        }
        b.push(b'}');
    }

    /// A GeoJSON feature.
    fn feature(&self, b: &mut Vec<u8>, payload: Payload, o: &Outcome) {
        let codes = self
            .levels
            .iter()
            .zip(o.codes)
            .map(|(l, c)| (Self::code_column(l), c.map(str::to_string)));
        match payload {
            Payload::Csv(rec) => {
                let cols = self.csv.expect("CSV rows come with their columns");
                b.extend_from_slice(b"{\"type\":\"Feature\",\"geometry\":");
                write_point(b, o.wgs84);
                b.extend_from_slice(b",\"properties\":{");
                for (i, name) in cols.header.iter().enumerate() {
                    write_json(b, &String::from_utf8_lossy(name));
                    b.push(b':');
                    write_json(b, &String::from_utf8_lossy(rec.get(i).unwrap_or_default()));
                    b.push(b',');
                }
                for (name, code) in codes {
                    write_json(b, &name);
                    b.push(b':');
                    write_json(b, &code);
                    b.push(b',');
                }
                b.extend_from_slice(b"\"status\":");
                write_json(b, o.status.as_str());
                b.extend_from_slice(b"}}");
            }
            Payload::Feature(mut f) => {
                if !f.is_object() || f.get("type").and_then(Value::as_str) != Some("Feature") {
                    // Not a feature at all: write one with the outcome so the row still appears.
                    f = serde_json::json!({ "type": "Feature", "geometry": null, "properties": {} });
                }
                let obj = f.as_object_mut().expect("checked above");
                let props = obj.entry("properties").or_insert(Value::Null);
                if !props.is_object() {
                    *props = Value::Object(Map::new());
                }
                let props = props.as_object_mut().expect("set above");
                for (name, code) in codes {
                    props.insert(name, code.map_or(Value::Null, Value::String));
                }
                props.insert("status".into(), o.status.as_str().into());
                write_json(b, &f);
            }
            Payload::Point(p) => {
                let mut props = match p {
                    Value::Object(m) => m,
                    _ => Map::new(),
                };
                for (name, code) in codes {
                    props.insert(name, code.map_or(Value::Null, Value::String));
                }
                props.insert("status".into(), o.status.as_str().into());
                b.extend_from_slice(b"{\"type\":\"Feature\",\"geometry\":");
                write_point(b, o.wgs84);
                b.extend_from_slice(b",\"properties\":");
                write_json(b, &props);
                b.push(b'}');
            }
        }
    }
}

/// Drops the comma that precedes the first JSON element of the output.
pub(crate) fn strip_first_comma(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(b",").unwrap_or(bytes)
}

fn write_json<T: serde::Serialize + ?Sized>(b: &mut Vec<u8>, v: &T) {
    serde_json::to_writer(b, v).expect("serialising to memory cannot fail");
}

fn write_point(b: &mut Vec<u8>, p: Option<(f64, f64)>) {
    match p {
        Some((x, y)) => {
            b.extend_from_slice(b"{\"type\":\"Point\",\"coordinates\":[");
            write_json(b, &x);
            b.push(b',');
            write_json(b, &y);
            b.extend_from_slice(b"]}");
        }
        None => b.extend_from_slice(b"null"),
    }
}

/// The id of a JSON row: a feature's `id` (or its `id` property), a point's `id`.
fn payload_id(payload: &Payload) -> Option<&Value> {
    match payload {
        Payload::Csv(_) => None,
        Payload::Feature(f) => f
            .get("id")
            .or_else(|| f.get("properties").and_then(|p| p.get("id"))),
        Payload::Point(p) => p.get("id"),
    }
}

fn id_text(id: Option<&Value>) -> String {
    match id {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(v) => v.to_string(),
    }
}
