//! Polygon checks, repair and measurement for grid geometries.
//!
//! - [`validate_polygonal`] says whether a multipolygon is a valid OGC simple-features
//!   area in longitude/latitude, and if not, why (in words a user can act on).
//! - [`make_valid`] repairs an invalid multipolygon (bow-ties, self-overlaps,
//!   overlapping parts) as GEOS `MakeValid` does, keeping the input vertices.
//! - [`area_m2`] is the geodesic area in square metres on WGS84.

mod area;
mod repair;
mod segments;
mod validate;

#[cfg(test)]
pub(crate) mod testutil;

pub use area::area_m2;
pub use repair::make_valid;
pub use validate::{validate_polygonal, GeometryProblem};

use geo_types::Geometry;

/// The OGC name of a geometry's type, for messages ("geometry is a Polygon, not a Point").
pub fn type_name(g: &Geometry<f64>) -> &'static str {
    match g {
        Geometry::Point(_) => "Point",
        Geometry::Line(_) => "Line",
        Geometry::LineString(_) => "LineString",
        Geometry::Polygon(_) => "Polygon",
        Geometry::MultiPoint(_) => "MultiPoint",
        Geometry::MultiLineString(_) => "MultiLineString",
        Geometry::MultiPolygon(_) => "MultiPolygon",
        Geometry::GeometryCollection(_) => "GeometryCollection",
        Geometry::Rect(_) => "Rect",
        Geometry::Triangle(_) => "Triangle",
    }
}
