//! ESRI Shapefile: `.shp`, `.shx`, `.dbf`, the `.prj` (OGC WKT with the EPSG
//! code, which GDAL and QGIS recognise) and a `.cpg` naming the `.dbf`'s
//! encoding (UTF-8, or e.g. GBK for older desktop GIS).
//!
//! What the format imposes, reported rather than hidden: field names are at
//! most 10 bytes (longer ones are cut and numbered, and the report lists
//! them), a text is at most 254 bytes (a longer one fails the export, naming
//! the feature), JSON values are written as their JSON text and numbers with
//! decimals as `N(24,15)`.

use std::fs::File;
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::path::Path;

use ::shapefile::dbase::{self, encoding::EncodingRs, FieldName, FieldValue, Record};
use ::shapefile::{Point as ShpPoint, Polygon as ShpPolygon, PolygonRing, ShapeWriter, Writer};
use encoding_rs::Encoding;
use geo_types::Geometry;
use serde_json::Value;

use super::layer::unique_names;
use super::output::Output;
use super::{format_error, io_error, ColumnKind, ExportError, Layer};

/// The longest text a DBF character field holds, in bytes.
const MAX_TEXT: usize = 254;
/// Bytes of a DBF field name.
const MAX_NAME: usize = 10;

fn encoded_len(encoding: &'static Encoding, s: &str) -> usize {
    encoding.encode(s).0.len()
}

/// The `.cpg` text GDAL and ArcGIS read for `encoding`.
fn cpg_label(encoding: &'static Encoding) -> &'static str {
    if encoding == encoding_rs::UTF_8 {
        "UTF-8"
    } else if encoding == encoding_rs::GBK {
        "GBK"
    } else {
        encoding.name()
    }
}

pub(crate) fn write(
    layer: &Layer,
    out: &Path,
    encoding: Option<&'static Encoding>,
) -> Result<Vec<(String, String)>, ExportError> {
    let encoding = encoding.unwrap_or(encoding_rs::UTF_8);
    let wkt = layer
        .crs
        .wkt()
        .ok_or_else(|| ExportError::Options(format!("{} has no WKT", layer.crs.code())))?;
    let output = Output::new(out, &["shx", "dbf", "prj", "cpg"])?;
    let len = |s: &str| encoded_len(encoding, s);
    let (names, renamed) = unique_names(&layer.columns, Some((MAX_NAME, &len)));

    // Cells as the DBF holds them, and the width of each text field.
    let mut widths = vec![1usize; layer.columns.len()];
    let mut records = Vec::with_capacity(layer.rows.len());
    for row in &layer.rows {
        let mut record = Record::default();
        for (i, (column, value)) in layer.cells(row).enumerate() {
            let field = match (column.kind, value) {
                (ColumnKind::Integer | ColumnKind::Real, Value::Number(n)) => {
                    FieldValue::Numeric(n.as_f64())
                }
                (ColumnKind::Integer | ColumnKind::Real, _) => FieldValue::Numeric(None),
                (_, Value::String(s)) => {
                    let bytes = len(&s);
                    if bytes > MAX_TEXT {
                        return Err(ExportError::Value {
                            path: out.to_path_buf(),
                            reason: format!(
                                "feature {} (`{}` = {}): `{}` is {bytes} bytes, more than the \
                                 {MAX_TEXT} a Shapefile field holds; export to gpkg, fgb or geojson",
                                records.len(),
                                layer.columns[0].name,
                                Layer::key(row),
                                column.name
                            ),
                        });
                    }
                    widths[i] = widths[i].max(bytes);
                    FieldValue::Character(Some(s))
                }
                (_, _) => FieldValue::Character(None),
            };
            // Placeholder names: the real ones are patched in after writing
            // (below), in the file's encoding.
            record.insert(placeholder(i), field);
        }
        records.push(record);
    }
    let mut table = dbase::TableWriterBuilder::with_encoding(EncodingRs::from(encoding));
    for (i, column) in layer.columns.iter().enumerate() {
        let name =
            FieldName::try_from(placeholder(i).as_str()).map_err(|e| format_error(out, e))?;
        table = match column.kind {
            ColumnKind::Integer => table.add_numeric_field(name, 20, 0),
            ColumnKind::Real => table.add_numeric_field(name, 24, 15),
            ColumnKind::Text | ColumnKind::Json => {
                table.add_character_field(name, widths[i].min(MAX_TEXT) as u8)
            }
        };
    }
    let create = |p: &Path| File::create(p).map(BufWriter::new).map_err(io_error(out));
    let shapes = ShapeWriter::with_shx(create(output.main())?, create(output.sibling("shx"))?);
    let dbf = table.build_with_dest(create(output.sibling("dbf"))?);
    let mut writer = Writer::new(shapes, dbf);
    for (row, record) in layer.rows.iter().zip(&records) {
        let written = match &row.geometry {
            Geometry::MultiPolygon(mp) => {
                let points = |r: &geo_types::LineString<f64>| {
                    r.0.iter()
                        .map(|c| ShpPoint::new(c.x, c.y))
                        .collect::<Vec<_>>()
                };
                let mut rings: Vec<PolygonRing<ShpPoint>> = Vec::new();
                for p in &mp.0 {
                    rings.push(PolygonRing::Outer(points(p.exterior())));
                    rings.extend(p.interiors().iter().map(|h| PolygonRing::Inner(points(h))));
                }
                // with_rings orders each ring as the format wants (outer clockwise).
                writer.write_shape_and_record(&ShpPolygon::with_rings(rings), record)
            }
            Geometry::Point(p) => {
                writer.write_shape_and_record(&ShpPoint::new(p.x(), p.y()), record)
            }
            other => {
                return Err(format_error(
                    out,
                    format!("cannot write a {}", crate::geometry::type_name(other)),
                ))
            }
        };
        written.map_err(|e| format_error(out, e))?;
    }
    // The writers flush and fix up their headers when dropped.
    drop(writer);
    patch_field_names(output.sibling("dbf"), &names, encoding).map_err(io_error(out))?;
    std::fs::write(output.sibling("prj"), wkt).map_err(io_error(out))?;
    std::fs::write(output.sibling("cpg"), cpg_label(encoding)).map_err(io_error(out))?;
    output.commit()?;
    Ok(renamed)
}

fn placeholder(i: usize) -> String {
    format!("F{i}")
}

/// Writes the real field names into the `.dbf` header: the DBF library
/// writes names as UTF-8, where a GBK file needs them in GBK. Each field
/// descriptor is 32 bytes from offset 32, its name the first 11 (NUL-padded).
fn patch_field_names(
    dbf: &Path,
    names: &[String],
    encoding: &'static Encoding,
) -> std::io::Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(dbf)?;
    let mut header = [0u8; 32];
    file.read_exact(&mut header)?;
    for (i, name) in names.iter().enumerate() {
        let mut bytes = [0u8; 11];
        let encoded = encoding.encode(name).0;
        let n = encoded.len().min(MAX_NAME);
        bytes[..n].copy_from_slice(&encoded[..n]);
        file.seek(SeekFrom::Start(32 + 32 * i as u64))?;
        file.write_all(&bytes)?;
    }
    file.sync_all()
}
