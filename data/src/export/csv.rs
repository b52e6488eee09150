//! CSV with a WKT geometry column (`wkt`), the shape `gridmap import` and
//! GDAL's CSV driver read back. UTF-8 with a byte-order mark, so Excel shows
//! the Chinese names; numbers as they are, JSON values as JSON text. CSV
//! cannot say its CRS: a file exported in another CRS needs `--crs` again on
//! import.

use std::fs::File;
use std::io::BufWriter;
use std::path::Path;

use wkt::ToWkt;

use super::output::Output;
use super::{format_error, io_error, ExportError, Layer};

/// A CSV writer on the temporary file of `output`, the byte-order mark
/// already written (`out` names the file in errors).
pub(super) fn create(output: &Output, out: &Path) -> Result<CsvWriter, ExportError> {
    let mut file = File::create(output.main()).map_err(io_error(out))?;
    std::io::Write::write_all(&mut file, "\u{feff}".as_bytes()).map_err(io_error(out))?;
    Ok(csv::Writer::from_writer(BufWriter::new(file)))
}

/// Flushes `w` to disk and renames the file into place.
pub(super) fn finish(w: CsvWriter, output: Output, out: &Path) -> Result<(), ExportError> {
    let file = w
        .into_inner()
        .map_err(|e| format_error(out, e))?
        .into_inner()
        .map_err(|e| format_error(out, e.into_error()))?;
    file.sync_all().map_err(io_error(out))?;
    output.commit()
}

pub(super) type CsvWriter = csv::Writer<BufWriter<File>>;

pub(crate) fn write(layer: &Layer, out: &Path) -> Result<Vec<(String, String)>, ExportError> {
    let output = Output::new(out, &[])?;
    let mut w = create(&output, out)?;
    let err = |e: csv::Error| format_error(out, e);
    let mut header: Vec<&str> = layer.columns.iter().map(|c| c.name.as_str()).collect();
    header.push("wkt");
    w.write_record(&header).map_err(err)?;
    for row in &layer.rows {
        let mut record: Vec<String> = layer
            .cells(row)
            .map(|(_, v)| match v {
                serde_json::Value::Null => String::new(),
                serde_json::Value::String(s) => s,
                other => other.to_string(),
            })
            .collect();
        record.push(row.geometry.wkt_string());
        w.write_record(&record).map_err(err)?;
    }
    finish(w, output, out)?;
    Ok(Vec::new())
}
