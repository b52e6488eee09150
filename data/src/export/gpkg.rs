//! A standard OGC GeoPackage 1.3 with one feature table (`grids` or
//! `sites`): the core tables the store uses too ([`schema::core_tables`]),
//! the output CRS in `gpkg_spatial_ref_sys`, geometry blobs in that SRS, the
//! R-tree spatial index with its triggers (as the store has it), and JSON
//! columns declared `application/json` in `gpkg_data_columns` (the schema
//! extension GDAL reads as its JSON field subtype). It is a plain feature
//! table, not a gridmap store: no gridmap tables, no data version.

use std::path::Path;

use rusqlite::types::Value as SqlValue;
use rusqlite::{params_from_iter, Connection};
use serde_json::Value;

use super::layer::{unique_names, Column};
use super::output::Output;
use super::{format_error, ColumnKind, ExportError, GeometryKind, Layer};
use crate::store::gpkg::schema::{self, APPLICATION_ID, USER_VERSION};
use crate::store::gpkg::{functions, spatial_index, wkb};

/// The schema extension's tables, created when a column holds JSON.
const DATA_COLUMNS: &str = "
CREATE TABLE gpkg_data_columns (
  table_name TEXT NOT NULL,
  column_name TEXT NOT NULL,
  name TEXT,
  title TEXT,
  description TEXT,
  mime_type TEXT,
  constraint_name TEXT,
  CONSTRAINT pk_gdc PRIMARY KEY (table_name, column_name),
  CONSTRAINT gdc_tn UNIQUE (table_name, name)
);
CREATE TABLE gpkg_data_column_constraints (
  constraint_name TEXT NOT NULL,
  constraint_type TEXT NOT NULL,
  value TEXT,
  min NUMERIC,
  min_is_inclusive BOOLEAN,
  max NUMERIC,
  max_is_inclusive BOOLEAN,
  description TEXT,
  CONSTRAINT gdcc_ntv UNIQUE (constraint_name, constraint_type, value)
);
INSERT INTO gpkg_extensions (table_name, column_name, extension_name, definition, scope) VALUES
  ('gpkg_data_columns', NULL, 'gpkg_schema', 'http://www.geopackage.org/spec/#extension_schema', 'read-write'),
  ('gpkg_data_column_constraints', NULL, 'gpkg_schema', 'http://www.geopackage.org/spec/#extension_schema', 'read-write');
";

fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn sql_value(v: Value) -> SqlValue {
    match v {
        Value::Null => SqlValue::Null,
        Value::String(s) => SqlValue::Text(s),
        Value::Number(n) => match n.as_i64() {
            Some(i) => SqlValue::Integer(i),
            None => SqlValue::Real(n.as_f64().unwrap_or(f64::NAN)),
        },
        other => SqlValue::Text(other.to_string()),
    }
}

pub(crate) fn write(layer: &Layer, out: &Path) -> Result<Vec<(String, String)>, ExportError> {
    let output = Output::new(out, &[])?;
    let err = |e: rusqlite::Error| format_error(out, e);
    let srs_id =
        i32::from(layer.crs.epsg().ok_or_else(|| {
            ExportError::Options(format!("{} has no EPSG code", layer.crs.code()))
        })?);
    // `fid` and `geom` are the table's own: an attribute so named is renamed.
    let reserved = ["fid", "geom"].map(|n| Column {
        name: n.to_string(),
        kind: ColumnKind::Integer,
    });
    let all: Vec<Column> = reserved.iter().chain(&layer.columns).cloned().collect();
    let (names, renamed) = unique_names(&all, None);
    let names = &names[reserved.len()..];

    let mut conn = Connection::open(output.main()).map_err(err)?;
    conn.pragma_update(None, "application_id", APPLICATION_ID)
        .map_err(err)?;
    conn.pragma_update(None, "user_version", USER_VERSION)
        .map_err(err)?;
    // The R-tree triggers call ST_IsEmpty, ST_MinX …
    functions::register(&conn).map_err(err)?;
    let tx = conn.transaction().map_err(err)?;
    tx.execute_batch(&schema::core_tables()).map_err(err)?;
    if srs_id != 4326 {
        let wkt = layer.crs.wkt().unwrap_or("undefined");
        tx.execute(
            "INSERT INTO gpkg_spatial_ref_sys VALUES (?1, ?2, 'EPSG', ?2, ?3, ?1)",
            rusqlite::params![layer.crs.name(), srs_id, wkt],
        )
        .map_err(err)?;
    }
    let (geometry_type, table) = match layer.geometry {
        GeometryKind::MultiPolygon => ("MULTIPOLYGON", layer.name),
        GeometryKind::Point => ("POINT", layer.name),
    };
    let column_sql: Vec<String> = layer
        .columns
        .iter()
        .zip(names)
        .map(|(c, name)| {
            let ty = match c.kind {
                ColumnKind::Text | ColumnKind::Json => "TEXT",
                ColumnKind::Integer => "INTEGER",
                ColumnKind::Real => "REAL",
            };
            format!("{} {ty}", quote(name))
        })
        .collect();
    tx.execute_batch(&format!(
        "CREATE TABLE {table} (fid INTEGER PRIMARY KEY AUTOINCREMENT, geom {geometry_type}, {});",
        column_sql.join(", ")
    ))
    .map_err(err)?;
    let placeholders: Vec<String> = (0..=layer.columns.len())
        .map(|i| format!("?{}", i + 1))
        .collect();
    let insert = format!(
        "INSERT INTO {table} (geom, {}) VALUES ({})",
        names
            .iter()
            .map(|n| quote(n))
            .collect::<Vec<_>>()
            .join(", "),
        placeholders.join(", ")
    );
    let mut bbox: Option<[f64; 4]> = None;
    {
        let mut stmt = tx.prepare(&insert).map_err(err)?;
        for row in &layer.rows {
            let blob = wkb::encode_in_srs(&row.geometry, srs_id);
            if let Some(env) = wkb::blob_envelope(&blob).map_err(|e| format_error(out, e))? {
                wkb::union(&mut bbox, env);
            }
            let values = std::iter::once(SqlValue::Blob(blob))
                .chain(layer.cells(row).map(|(_, v)| sql_value(v)));
            stmt.execute(params_from_iter(values)).map_err(err)?;
        }
    }
    let [min_x, max_x, min_y, max_y] = match bbox {
        Some(b) => b.map(Some),
        None => [None; 4],
    };
    tx.execute(
        "INSERT INTO gpkg_contents (table_name, data_type, identifier, description, min_x, min_y, max_x, max_y, srs_id)
         VALUES (?1, 'features', ?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        rusqlite::params![table, format!("{table} exported by gridmap"), min_x, min_y, max_x, max_y, srs_id],
    )
    .map_err(err)?;
    tx.execute(
        "INSERT INTO gpkg_geometry_columns VALUES (?1, 'geom', ?2, ?3, 0, 0)",
        rusqlite::params![table, geometry_type, srs_id],
    )
    .map_err(err)?;
    tx.execute_batch(spatial_index::EXTENSIONS_TABLE)
        .map_err(err)?;
    tx.execute_batch(&spatial_index::index_sql(table, "geom", "fid"))
        .map_err(err)?;
    let json_columns: Vec<&String> = layer
        .columns
        .iter()
        .zip(names)
        .filter(|(c, _)| c.kind == ColumnKind::Json)
        .map(|(_, n)| n)
        .collect();
    if !json_columns.is_empty() {
        tx.execute_batch(DATA_COLUMNS).map_err(err)?;
        for name in json_columns {
            tx.execute(
                "INSERT INTO gpkg_data_columns (table_name, column_name, mime_type) VALUES (?1, ?2, 'application/json')",
                rusqlite::params![table, name],
            )
            .map_err(err)?;
        }
    }
    tx.commit().map_err(err)?;
    conn.close().map_err(|(_, e)| err(e))?;
    output.commit()?;
    Ok(renamed)
}
