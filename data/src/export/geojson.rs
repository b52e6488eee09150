//! GeoJSON (RFC 7946) FeatureCollection, written feature by feature.
//!
//! Attributes keep their JSON values (arrays stay arrays). Outside EPSG:4326
//! the collection carries the legacy `crs` member GDAL writes and reads
//! (`urn:ogc:def:crs:EPSG::4549`); GCJ-02 and BD-09 have no code to name, so
//! such a file needs `--crs gcj02` again on import.

use std::io::{BufWriter, Write};
use std::path::Path;

use serde_json::{json, Map, Value};

use super::output::Output;
use super::{format_error, io_error, ExportError, Layer};
use crate::crs::Crs;

pub(crate) fn write(layer: &Layer, out: &Path) -> Result<Vec<(String, String)>, ExportError> {
    let output = Output::new(out, &[])?;
    let tmp = output.main().to_path_buf();
    let file = std::fs::File::create(&tmp).map_err(io_error(out))?;
    let mut w = BufWriter::new(file);
    let io = |e: std::io::Error| ExportError::Io {
        path: out.to_path_buf(),
        source: e,
    };
    w.write_all(br#"{"type":"FeatureCollection","name":"#)
        .map_err(io)?;
    serde_json::to_writer(&mut w, layer.name).map_err(|e| format_error(out, e))?;
    match layer.crs.epsg() {
        Some(code) if layer.crs != Crs::Wgs84 => {
            let crs = json!({"type": "name", "properties": {"name": format!("urn:ogc:def:crs:EPSG::{code}")}});
            w.write_all(br#","crs":"#).map_err(io)?;
            serde_json::to_writer(&mut w, &crs).map_err(|e| format_error(out, e))?;
        }
        _ => {}
    }
    w.write_all(br#","features":["#).map_err(io)?;
    for (i, row) in layer.rows.iter().enumerate() {
        if i > 0 {
            w.write_all(b",\n").map_err(io)?;
        }
        let mut properties = Map::new();
        for (j, (column, value)) in layer.columns.iter().zip(&row.values).enumerate() {
            // A feature without an attribute leaves it out, as it came in.
            if j >= layer.fixed && value.is_null() {
                continue;
            }
            properties.insert(column.name.clone(), value.clone());
        }
        let geometry = geojson::Geometry::new(geojson::Value::from(&row.geometry));
        let feature = json!({
            "type": "Feature",
            "properties": Value::Object(properties),
            "geometry": geometry,
        });
        serde_json::to_writer(&mut w, &feature).map_err(|e| format_error(out, e))?;
    }
    w.write_all(b"]}\n").map_err(io)?;
    w.into_inner()
        .map_err(|e| io(e.into_error()))?
        .sync_all()
        .map_err(io)?;
    output.commit()?;
    Ok(Vec::new())
}
