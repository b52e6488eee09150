//! GeoPackage reader: one feature table of an OGC GeoPackage, opened
//! read-only.
//!
//! The table is the one named by the layer option, else the file's only
//! `features` entry of `gpkg_contents`. Its geometry column comes from
//! `gpkg_geometry_columns`, its CRS from that column's
//! `gpkg_spatial_ref_sys` row. Every other column except the primary key is
//! a property: columns declared `application/json` in `gpkg_data_columns`
//! (as `gridmap export` and GDAL write JSON fields) are parsed back into
//! JSON values, `BOOLEAN` columns become booleans, and an empty (NULL) cell
//! is no property at all — an export writes an attribute a grid does not
//! have as NULL, so a re-import gives the attributes back as they were.
//! Features are numbered in the order of the primary key.

use std::path::Path;

use geo_types::Geometry;
use geozero::error::GeozeroError;
use geozero::wkb::Wkb;
use geozero::{GeomProcessor, GeozeroGeometry};
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags, OptionalExtension};
use serde_json::{Map, Number, Value};

use super::raw::{ring_problem, RawProblem};
use super::{authority_crs, parse_error, ImportError, RawFeature, SourceData};
use crate::crs::Crs;
use crate::geometry::GeometryProblem;
use crate::store::gpkg::wkb;

/// How a column's cells become property values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Integers, reals and text as they are.
    Plain,
    /// Text holding JSON (`gpkg_data_columns.mime_type = 'application/json'`).
    Json,
    /// 0/1 integers of a `BOOLEAN` column.
    Bool,
}

/// One property column of the feature table.
#[derive(Debug, Clone)]
struct Column {
    name: String,
    kind: Kind,
}

/// The feature table to read.
#[derive(Debug, Clone)]
struct Table {
    name: String,
    geometry: String,
    srs_id: i64,
    primary_key: Option<String>,
    columns: Vec<Column>,
}

pub(crate) fn read(path: &Path, layer: Option<&str>) -> Result<SourceData, ImportError> {
    let conn = open(path)?;
    let sql = invalid(path);
    let name = choose_layer(&conn, path, layer)?;
    let table = table(&conn, path, &name)?;
    let crs = crs(&conn, path, table.srs_id)?;
    let features = features(&conn, &table).map_err(&sql)?;
    Ok(SourceData { features, crs })
}

/// A failed query as the import's error for `path`.
fn invalid(path: &Path) -> impl Fn(rusqlite::Error) -> ImportError + '_ {
    move |e| parse_error(path, format!("invalid GeoPackage: {e}"))
}

fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn has_table(conn: &Connection, name: &str) -> rusqlite::Result<bool> {
    conn.query_row(
        "SELECT 1 FROM sqlite_master WHERE type IN ('table', 'view') AND name = ?1 COLLATE NOCASE",
        [name],
        |_| Ok(()),
    )
    .optional()
    .map(|found| found.is_some())
}

/// Opens `path` read-only and checks that it is a GeoPackage and not a
/// gridmap store.
fn open(path: &Path) -> Result<Connection, ImportError> {
    // SQLite would report a missing file as "unable to open database file".
    std::fs::metadata(path).map_err(|source| ImportError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let not_gpkg = |reason: String| parse_error(path, format!("not a GeoPackage: {reason}"));
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| not_gpkg(e.to_string()))?;
    // SQLite opens any file lazily: the first read finds out what it is.
    let core = has_table(&conn, "gpkg_contents")
        .and_then(|c| Ok(c && has_table(&conn, "gpkg_geometry_columns")?))
        .map_err(|e| not_gpkg(e.to_string()))?;
    if !core {
        return Err(not_gpkg(
            "it has no gpkg_contents and gpkg_geometry_columns tables".into(),
        ));
    }
    // A store's grids table holds every system with its attributes as one
    // JSON column; read as a layer it would import as something else.
    if has_table(&conn, "gridmap_meta").map_err(|e| not_gpkg(e.to_string()))? {
        return Err(parse_error(
            path,
            "this is a gridmap store, not a file of features; export its grids \
             (`gridmap export grids --format gpkg`) and import that file"
                .into(),
        ));
    }
    Ok(conn)
}

/// The feature table to read: `layer` (case-insensitive, as SQLite names
/// are), else the only one.
fn choose_layer(
    conn: &Connection,
    path: &Path,
    layer: Option<&str>,
) -> Result<String, ImportError> {
    let sql = invalid(path);
    let mut stmt = conn
        .prepare("SELECT table_name, data_type FROM gpkg_contents ORDER BY table_name")
        .map_err(&sql)?;
    let contents: Vec<(String, String)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .and_then(|rows| rows.collect())
        .map_err(&sql)?;
    let features: Vec<&str> = contents
        .iter()
        .filter(|(_, kind)| kind == "features")
        .map(|(name, _)| name.as_str())
        .collect();
    let listed = || {
        if features.is_empty() {
            "it holds no feature layers".to_string()
        } else {
            format!("its feature layers: {}", features.join(", "))
        }
    };
    match layer {
        Some(wanted) => match contents
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(wanted))
        {
            Some((name, kind)) if kind == "features" => Ok(name.clone()),
            Some((name, kind)) => Err(parse_error(
                path,
                format!("layer `{name}` holds {kind}, not features ({})", listed()),
            )),
            None => Err(parse_error(
                path,
                format!("no layer `{wanted}` ({})", listed()),
            )),
        },
        None => match features.as_slice() {
            [only] => Ok(only.to_string()),
            [] => Err(parse_error(path, "it holds no feature layers".into())),
            several => Err(parse_error(
                path,
                format!(
                    "it holds layers {}: choose one with --layer",
                    several.join(", ")
                ),
            )),
        },
    }
}

/// The geometry column, its SRS and the property columns of the feature table `name`.
fn table(conn: &Connection, path: &Path, name: &str) -> Result<Table, ImportError> {
    let sql = invalid(path);
    let (geometry, srs_id): (String, i64) = conn
        .query_row(
            "SELECT column_name, srs_id FROM gpkg_geometry_columns WHERE table_name = ?1 COLLATE NOCASE",
            [name],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()
        .map_err(&sql)?
        .ok_or_else(|| {
            parse_error(
                path,
                format!("layer `{name}` has no row in gpkg_geometry_columns"),
            )
        })?;
    let json: Vec<String> = if has_table(conn, "gpkg_data_columns").map_err(&sql)? {
        let mut stmt = conn
            .prepare(
                "SELECT column_name FROM gpkg_data_columns
                 WHERE table_name = ?1 COLLATE NOCASE AND lower(mime_type) = 'application/json'",
            )
            .map_err(&sql)?;
        let names = stmt
            .query_map([name], |r| r.get(0))
            .and_then(|rows| rows.collect())
            .map_err(&sql)?;
        names
    } else {
        Vec::new()
    };
    let mut stmt = conn
        .prepare("SELECT name, type, pk FROM pragma_table_info(?1)")
        .map_err(&sql)?;
    let info: Vec<(String, String, i64)> = stmt
        .query_map([name], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .and_then(|rows| rows.collect())
        .map_err(&sql)?;
    if !info
        .iter()
        .any(|(c, _, _)| c.eq_ignore_ascii_case(&geometry))
    {
        return Err(parse_error(
            path,
            format!("layer `{name}` has no column `{geometry}`, its geometry column"),
        ));
    }
    let primary_key = info
        .iter()
        .find(|(_, _, pk)| *pk > 0)
        .map(|(c, _, _)| c.clone());
    let columns = info
        .into_iter()
        .filter(|(c, _, pk)| *pk == 0 && !c.eq_ignore_ascii_case(&geometry))
        .map(|(c, ty, _)| Column {
            kind: if json.iter().any(|j| j.eq_ignore_ascii_case(&c)) {
                Kind::Json
            } else if ty.eq_ignore_ascii_case("BOOLEAN") {
                Kind::Bool
            } else {
                Kind::Plain
            },
            name: c,
        })
        .collect();
    Ok(Table {
        name: name.to_string(),
        geometry,
        srs_id,
        primary_key,
        columns,
    })
}

/// The CRS of `srs_id` from `gpkg_spatial_ref_sys`: `None` for the undefined
/// systems (-1 and 0), WGS84 for 4326 even without its (required) row.
fn crs(conn: &Connection, path: &Path, srs_id: i64) -> Result<Option<Crs>, ImportError> {
    if srs_id == -1 || srs_id == 0 {
        return Ok(None);
    }
    let row: Option<(String, i64, Option<String>)> = conn
        .query_row(
            "SELECT organization, organization_coordsys_id, definition
             FROM gpkg_spatial_ref_sys WHERE srs_id = ?1",
            [srs_id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()
        .map_err(invalid(path))?;
    match row {
        Some((organization, code, definition)) => {
            authority_crs(path, Some(&organization), code, definition.as_deref())
        }
        None if srs_id == 4326 => Ok(Some(Crs::Wgs84)),
        None => Err(parse_error(
            path,
            format!("the geometry column's srs_id {srs_id} has no row in gpkg_spatial_ref_sys"),
        )),
    }
}

fn features(conn: &Connection, table: &Table) -> rusqlite::Result<Vec<RawFeature>> {
    let mut select = vec![quote(&table.geometry)];
    select.extend(table.columns.iter().map(|c| quote(&c.name)));
    let order = match &table.primary_key {
        Some(pk) => format!(" ORDER BY {}", quote(pk)),
        None => String::new(),
    };
    let mut stmt = conn.prepare(&format!(
        "SELECT {} FROM {}{order}",
        select.join(", "),
        quote(&table.name)
    ))?;
    let mut rows = stmt.query([])?;
    let not_a_blob = |what: &str| {
        let reason = format!("the geometry column holds {what}, not a GeoPackage geometry blob");
        (None, Some(RawProblem::Unreadable(reason)))
    };
    let mut features = Vec::new();
    while let Some(row) = rows.next()? {
        let (geometry, raw_problem) = match row.get_ref(0)? {
            ValueRef::Null => (None, None),
            ValueRef::Blob(blob) => decode(blob),
            ValueRef::Text(_) => not_a_blob("text"),
            ValueRef::Integer(_) => not_a_blob("an integer"),
            ValueRef::Real(_) => not_a_blob("a number"),
        };
        let mut properties = Map::new();
        for (i, column) in table.columns.iter().enumerate() {
            let value = property(row.get_ref(i + 1)?, column.kind);
            if !value.is_null() {
                properties.insert(column.name.clone(), value);
            }
        }
        features.push(RawFeature {
            index: features.len(),
            properties,
            geometry,
            raw_problem,
        });
    }
    Ok(features)
}

/// A cell as a property value (`Null` for an empty one).
fn property(cell: ValueRef<'_>, kind: Kind) -> Value {
    match (cell, kind) {
        (ValueRef::Null, _) => Value::Null,
        (ValueRef::Integer(i), Kind::Bool) => Value::Bool(i != 0),
        (ValueRef::Integer(i), _) => Value::from(i),
        (ValueRef::Real(f), _) => Number::from_f64(f)
            .map(Value::Number)
            .unwrap_or(Value::Null),
        (ValueRef::Text(bytes), kind) => {
            // SQLite does not check that text is UTF-8.
            let text = String::from_utf8_lossy(bytes);
            match kind {
                // Text that is not JSON after all stays text rather than
                // losing the feature.
                Kind::Json => {
                    serde_json::from_str(&text).unwrap_or_else(|_| Value::String(text.into_owned()))
                }
                _ => Value::String(text.into_owned()),
            }
        }
        // JSON has no bytes: a binary attribute is kept as hex text.
        (ValueRef::Blob(bytes), _) => {
            Value::String(bytes.iter().map(|b| format!("{b:02x}")).collect())
        }
    }
}

/// A GeoPackage geometry blob as a geometry, with what geo-types would hide.
fn decode(blob: &[u8]) -> (Option<Geometry<f64>>, Option<RawProblem>) {
    let unreadable = |reason: String| (None, Some(RawProblem::Unreadable(reason)));
    let header = match wkb::read_header(blob) {
        Ok(h) => h,
        Err(reason) => return unreadable(reason),
    };
    if header.empty {
        return (None, None);
    }
    // First a pass that allocates nothing by the blob's own counts: a count
    // larger than the blob holds ends it at the end of the data instead of
    // reserving room for it.
    let mut raw = RawRings::default();
    if let Err(e) = Wkb(&blob[header.wkb_offset..]).process_geom(&mut raw) {
        return unreadable(format!("invalid WKB: {e}"));
    }
    match wkb::to_geo(blob, &header) {
        Ok(g) => (Some(g), raw.problem.map(RawProblem::Geometry)),
        Err(reason) => unreadable(reason),
    }
}

/// How deep geometry collections may nest in a blob (grids are polygons;
/// the limit keeps a crafted blob from recursing the reader off the stack).
const MAX_NESTING: usize = 16;

/// The rings of the polygons in a WKB, checked as written: geo-types closes
/// an unclosed ring silently, and the import must say so instead.
#[derive(Debug, Default)]
struct RawRings {
    polygons: usize,
    rings: usize,
    in_polygon: bool,
    ring: Option<Vec<(f64, f64)>>,
    nesting: usize,
    problem: Option<GeometryProblem>,
}

impl GeomProcessor for RawRings {
    fn xy(&mut self, x: f64, y: f64, _idx: usize) -> geozero::error::Result<()> {
        if let Some(ring) = &mut self.ring {
            ring.push((x, y));
        }
        Ok(())
    }

    fn polygon_begin(
        &mut self,
        _tagged: bool,
        _size: usize,
        _idx: usize,
    ) -> geozero::error::Result<()> {
        self.in_polygon = true;
        self.rings = 0;
        Ok(())
    }

    fn polygon_end(&mut self, _tagged: bool, _idx: usize) -> geozero::error::Result<()> {
        self.in_polygon = false;
        self.polygons += 1;
        Ok(())
    }

    fn linestring_begin(
        &mut self,
        _tagged: bool,
        _size: usize,
        _idx: usize,
    ) -> geozero::error::Result<()> {
        if self.in_polygon {
            self.ring = Some(Vec::new());
        }
        Ok(())
    }

    fn linestring_end(&mut self, _tagged: bool, _idx: usize) -> geozero::error::Result<()> {
        if let Some(ring) = self.ring.take() {
            if self.problem.is_none() {
                self.problem = ring_problem(self.polygons, self.rings, ring);
            }
            self.rings += 1;
        }
        Ok(())
    }

    fn geometrycollection_begin(
        &mut self,
        _size: usize,
        _idx: usize,
    ) -> geozero::error::Result<()> {
        self.nesting += 1;
        if self.nesting > MAX_NESTING {
            return Err(GeozeroError::Geometry(format!(
                "geometry collections nested more than {MAX_NESTING} deep"
            )));
        }
        Ok(())
    }

    fn geometrycollection_end(&mut self, _idx: usize) -> geozero::error::Result<()> {
        self.nesting = self.nesting.saturating_sub(1);
        Ok(())
    }
}

#[cfg(test)]
pub(super) mod tests;
