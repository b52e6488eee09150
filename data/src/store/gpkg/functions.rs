//! The SQL functions of the GeoPackage spec that triggers call, registered on
//! every connection gridmap opens.
//!
//! The standard R-tree spatial index (GeoPackage §F.3) is kept current by
//! triggers calling `ST_IsEmpty`, `ST_MinX`, `ST_MaxX`, `ST_MinY` and
//! `ST_MaxY`; the geometry-type and SRS triggers (§F.7, §F.8) call
//! `ST_GeometryType`, `ST_SRID` and `GPKG_IsAssignable`. GDAL and QGIS define
//! them on their own connections. A connection without them fails on the
//! first write to an indexed table (`no such function: ST_IsEmpty`), so
//! gridmap defines them too — with GDAL's semantics: `NULL` for a `NULL` or
//! unreadable blob, envelopes from the blob header when present, else from the
//! geometry itself.

use geo::BoundingRect;
use geo_types::Geometry;
use rusqlite::functions::{Context, FunctionFlags};
use rusqlite::types::ValueRef;
use rusqlite::Connection;

use super::wkb::{read_header, to_geo, Envelope, Header};

/// Registers every function on `conn`.
pub(crate) fn register(conn: &Connection) -> rusqlite::Result<()> {
    let flags = FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC;
    conn.create_scalar_function("ST_IsEmpty", 1, flags, |ctx| {
        Ok(parsed(ctx).map(|(_, env)| i64::from(env.is_none())))
    })?;
    for (name, pick) in [
        ("ST_MinX", 0usize),
        ("ST_MaxX", 1),
        ("ST_MinY", 2),
        ("ST_MaxY", 3),
    ] {
        conn.create_scalar_function(name, 1, flags, move |ctx| {
            Ok(parsed(ctx).and_then(|(_, env)| env.map(|e| e[pick])))
        })?;
    }
    conn.create_scalar_function("ST_SRID", 1, flags, |ctx| {
        Ok(blob(ctx)
            .and_then(|b| read_header(b).ok())
            .map(|h| h.srs_id))
    })?;
    conn.create_scalar_function("ST_GeometryType", 1, flags, |ctx| {
        Ok(blob(ctx).and_then(geometry_type))
    })?;
    conn.create_scalar_function("GPKG_IsAssignable", 2, flags, |ctx| {
        let expected: String = ctx.get(0)?;
        let actual: String = ctx.get(1)?;
        Ok(i64::from(is_assignable(&expected, &actual)))
    })?;
    Ok(())
}

fn blob<'a>(ctx: &'a Context<'_>) -> Option<&'a [u8]> {
    match ctx.get_raw(0) {
        ValueRef::Blob(b) => Some(b),
        _ => None,
    }
}

/// The header and envelope of the blob in argument 0; `None` when it is not a
/// readable GeoPackage geometry; an envelope of `None` for an empty geometry.
fn parsed(ctx: &Context<'_>) -> Option<(Header, Option<Envelope>)> {
    let blob = blob(ctx)?;
    let header = read_header(blob).ok()?;
    if header.empty {
        return Some((header, None));
    }
    if let Some(env) = header.envelope {
        return Some((header, Some(env)));
    }
    // Points usually come without an envelope in the header.
    let geometry = to_geo(blob, &header).ok()?;
    let env = geometry
        .bounding_rect()
        .map(|r| [r.min().x, r.max().x, r.min().y, r.max().y]);
    Some((header, env))
}

/// The upper-case geometry type name, as GDAL answers `ST_GeometryType`.
fn geometry_type(blob: &[u8]) -> Option<String> {
    let header = read_header(blob).ok()?;
    let name = match to_geo(blob, &header).ok()? {
        Geometry::Point(_) => "POINT",
        Geometry::Line(_) | Geometry::LineString(_) => "LINESTRING",
        Geometry::Polygon(_) | Geometry::Rect(_) | Geometry::Triangle(_) => "POLYGON",
        Geometry::MultiPoint(_) => "MULTIPOINT",
        Geometry::MultiLineString(_) => "MULTILINESTRING",
        Geometry::MultiPolygon(_) => "MULTIPOLYGON",
        Geometry::GeometryCollection(_) => "GEOMETRYCOLLECTION",
    };
    Some(name.to_string())
}

/// Whether a geometry of type `actual` may be stored in a column declared
/// `expected` (GeoPackage §F.7: `GEOMETRY` takes anything, a collection type
/// takes its multi types).
fn is_assignable(expected: &str, actual: &str) -> bool {
    let (expected, actual) = (expected.to_ascii_uppercase(), actual.to_ascii_uppercase());
    expected == actual
        || expected == "GEOMETRY"
        || (expected == "GEOMETRYCOLLECTION" && actual.starts_with("MULTI"))
        || (expected == "MULTISURFACE" && actual == "MULTIPOLYGON")
        || (expected == "CURVEPOLYGON" && actual == "POLYGON")
        || (expected == "MULTICURVE" && actual == "MULTILINESTRING")
        || (expected == "CURVE" && actual == "LINESTRING")
        || (expected == "SURFACE" && actual == "POLYGON")
}

#[cfg(test)]
mod tests {
    use super::super::wkb::{encode_multipolygon, encode_point};
    use super::*;
    use geo_types::{polygon, MultiPolygon, Point};

    fn conn() -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        register(&conn).unwrap();
        conn
    }

    fn ask<T: rusqlite::types::FromSql>(conn: &Connection, sql: &str, blob: &[u8]) -> T {
        conn.query_row(sql, [blob], |r| r.get(0)).unwrap()
    }

    #[test]
    fn envelope_functions_read_polygons_points_and_empties() {
        let conn = conn();
        let square = MultiPolygon(vec![polygon![
            (x: 120.0, y: 30.0), (x: 120.5, y: 30.0), (x: 120.5, y: 30.25), (x: 120.0, y: 30.25)
        ]]);
        let blob = encode_multipolygon(&square);
        let env: (f64, f64, f64, f64, i64) = conn
            .query_row(
                "SELECT ST_MinX(?1), ST_MaxX(?1), ST_MinY(?1), ST_MaxY(?1), ST_IsEmpty(?1)",
                [&blob],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
            )
            .unwrap();
        assert_eq!(env, (120.0, 120.5, 30.0, 30.25, 0));
        assert_eq!(ask::<i64>(&conn, "SELECT ST_SRID(?1)", &blob), 4326);
        assert_eq!(
            ask::<String>(&conn, "SELECT ST_GeometryType(?1)", &blob),
            "MULTIPOLYGON"
        );

        let point = encode_point(&Point::new(121.25, 29.5));
        assert_eq!(ask::<f64>(&conn, "SELECT ST_MaxX(?1)", &point), 121.25);
        assert_eq!(ask::<f64>(&conn, "SELECT ST_MinY(?1)", &point), 29.5);

        let empty = encode_multipolygon(&MultiPolygon(Vec::new()));
        assert_eq!(ask::<i64>(&conn, "SELECT ST_IsEmpty(?1)", &empty), 1);
        assert_eq!(
            ask::<Option<f64>>(&conn, "SELECT ST_MinX(?1)", &empty),
            None
        );
    }

    #[test]
    fn a_point_without_header_envelope_is_read_from_its_wkb() {
        // 'GP', version 0, flags little-endian without envelope, srs 4326, then WKB.
        let mut blob = vec![b'G', b'P', 0, 0b0000_0001];
        blob.extend_from_slice(&4326i32.to_le_bytes());
        blob.extend_from_slice(&[1, 1, 0, 0, 0]);
        blob.extend_from_slice(&120.75f64.to_le_bytes());
        blob.extend_from_slice(&30.5f64.to_le_bytes());
        let conn = conn();
        assert_eq!(ask::<f64>(&conn, "SELECT ST_MinX(?1)", &blob), 120.75);
        assert_eq!(ask::<f64>(&conn, "SELECT ST_MaxY(?1)", &blob), 30.5);
        assert_eq!(ask::<i64>(&conn, "SELECT ST_IsEmpty(?1)", &blob), 0);
        assert_eq!(
            ask::<String>(&conn, "SELECT ST_GeometryType(?1)", &blob),
            "POINT"
        );
    }

    #[test]
    fn null_and_garbage_give_null() {
        let conn = conn();
        let null: Option<i64> = conn
            .query_row("SELECT ST_IsEmpty(NULL)", [], |r| r.get(0))
            .unwrap();
        assert_eq!(null, None);
        assert_eq!(
            ask::<Option<f64>>(&conn, "SELECT ST_MinX(?1)", b"not a blob"),
            None
        );
        assert_eq!(
            ask::<Option<i64>>(&conn, "SELECT ST_SRID(?1)", b"GPxx"),
            None
        );
    }

    #[test]
    fn assignability_follows_the_spec() {
        assert!(is_assignable("GEOMETRY", "POINT"));
        assert!(is_assignable("multipolygon", "MULTIPOLYGON"));
        assert!(is_assignable("GEOMETRYCOLLECTION", "MULTIPOINT"));
        assert!(!is_assignable("MULTIPOLYGON", "POLYGON"));
        assert!(!is_assignable("POINT", "LINESTRING"));
    }
}
