//! FlatGeobuf with its packed Hilbert R-tree (QGIS and GDAL read bounding
//! boxes through it), the CRS in the header (EPSG code and WKT), and typed
//! columns: text, 64-bit integers, doubles and JSON (GDAL's JSON subtype).

use std::io::BufWriter;
use std::path::Path;

use flatgeobuf::geozero::{ColumnValue, PropertyProcessor};
use flatgeobuf::{ColumnType, FgbCrs, FgbWriter, FgbWriterOptions, GeometryType};
use serde_json::Value;

use super::output::Output;
use super::{format_error, io_error, ColumnKind, ExportError, GeometryKind, Layer};

pub(crate) fn write(layer: &Layer, out: &Path) -> Result<Vec<(String, String)>, ExportError> {
    let output = Output::new(out, &[])?;
    let name = layer.crs.name();
    let options = FgbWriterOptions {
        write_index: true,
        promote_to_multi: true,
        crs: FgbCrs {
            org: Some("EPSG"),
            code: layer.crs.epsg().map(i32::from).unwrap_or(0),
            name: Some(&name),
            wkt: layer.crs.wkt(),
            ..Default::default()
        },
        ..Default::default()
    };
    let geometry_type = match layer.geometry {
        GeometryKind::MultiPolygon => GeometryType::MultiPolygon,
        GeometryKind::Point => GeometryType::Point,
    };
    let mut fgb = FgbWriter::create_with_options(layer.name, geometry_type, options)
        .map_err(|e| format_error(out, e))?;
    for column in &layer.columns {
        let ty = match column.kind {
            ColumnKind::Text => ColumnType::String,
            ColumnKind::Integer => ColumnType::Long,
            ColumnKind::Real => ColumnType::Double,
            ColumnKind::Json => ColumnType::Json,
        };
        fgb.add_column(&column.name, ty, |_, col| col.nullable = true);
    }
    for row in &layer.rows {
        let mut failed = None;
        fgb.add_feature_geom(row.geometry.clone(), |feature| {
            for (i, (column, value)) in layer.cells(row).enumerate() {
                let written = match (&value, column.kind) {
                    // FlatGeobuf properties are sparse: a missing one is null.
                    (Value::Null, _) => continue,
                    (Value::String(s), ColumnKind::Json) => {
                        feature.property(i, &column.name, &ColumnValue::Json(s))
                    }
                    (Value::String(s), _) => {
                        feature.property(i, &column.name, &ColumnValue::String(s))
                    }
                    (Value::Number(n), ColumnKind::Integer) => match n.as_i64() {
                        Some(v) => feature.property(i, &column.name, &ColumnValue::Long(v)),
                        None => continue,
                    },
                    (Value::Number(n), _) => feature.property(
                        i,
                        &column.name,
                        &ColumnValue::Double(n.as_f64().unwrap_or(f64::NAN)),
                    ),
                    (_, _) => continue,
                };
                if let Err(e) = written {
                    failed = Some(e);
                }
            }
        })
        .map_err(|e| format_error(out, e))?;
        if let Some(e) = failed {
            return Err(format_error(out, e));
        }
    }
    let file = std::fs::File::create(output.main()).map_err(io_error(out))?;
    let mut w = BufWriter::new(file);
    fgb.write(&mut w).map_err(|e| format_error(out, e))?;
    w.into_inner()
        .map_err(|e| io_error(out)(e.into_error()))?
        .sync_all()
        .map_err(io_error(out))?;
    output.commit()?;
    Ok(Vec::new())
}
