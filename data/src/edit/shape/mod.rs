//! Exact edits of grid boundaries: move, insert and replace vertices, split a
//! grid by a line, dissolve two neighbours into one.
//!
//! Grids of one level form a partition: neighbours share borders whose
//! vertices are bit-identical, and the shared-arc topology, the tiles and the
//! nesting checks all rely on that. A boolean-operation library would compute
//! every output vertex afresh (rounding, snapping, merging collinear points)
//! and break it. So everything here works on the coordinate lists themselves:
//! an edit only copies the vertices it keeps, and the few new points it creates
//! (the crossing points of a split line) are reported so that the caller can
//! insert the very same `f64` values into the neighbours with
//! [`insert_vertex`].
//!
//! Rings are closed (first coordinate = last) on input and on output. "Same
//! vertex" means `|dx| <= VERTEX_TOLERANCE` and `|dy| <= VERTEX_TOLERANCE`
//! where a point given by a user is matched to a stored vertex; shared borders
//! are matched by exact equality.

mod dissolve;
mod ring;
mod split;
mod stretch;

#[cfg(test)]
mod tests;

pub use dissolve::dissolve;
pub use split::{split, Split};
pub use stretch::{replace_shared_stretch, replace_stretch, shared_stretch};

use geo_types::{Coord, LineString, MultiPolygon, Polygon};

use ring::{open, same};

/// Two points closer than this in both longitude and latitude (degrees) are
/// the same vertex; a point this close to a segment lies on it.
pub const VERTEX_TOLERANCE: f64 = 1e-9;

/// Why an edit cannot be made, in words a planner can act on.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ShapeError {
    /// The line has fewer than two distinct points.
    #[error("the line needs at least two distinct points")]
    LineTooShort,
    /// A coordinate of the line is NaN or infinite.
    #[error("the line has a coordinate that is not a finite number")]
    NotFinite,
    /// The split line meets no ring of the grid.
    #[error("the line does not cross the grid")]
    NotCrossing,
    /// The split line crosses the crossed part's outer boundary other than twice.
    #[error(
        "the line crosses the grid's boundary {0} times; a split line must enter and leave it once"
    )]
    CrossingCount(usize),
    /// The split line crosses or touches a hole.
    #[error("the line crosses a hole")]
    CrossesHole,
    /// The split line crosses more than one part of a multipolygon.
    #[error("the line crosses more than one part of the grid; split one part at a time")]
    CrossesSeveralParts,
    /// The split line's first point lies inside the grid.
    #[error("the line's first point lies inside the grid; a split line must start outside it or on its border")]
    StartsInside,
    /// The split line's last point lies inside the grid.
    #[error("the line's last point lies inside the grid; a split line must end outside it or on its border")]
    EndsInside,
    /// Between its two crossings the split line runs outside the grid.
    #[error("between its two crossings the line runs outside the grid")]
    CutOutside,
    /// The line passes through a boundary vertex or runs along the boundary.
    #[error("the line touches the grid's boundary at ({x}, {y}) without crossing it cleanly; end the line there or move it")]
    TouchesBoundary { x: f64, y: f64 },
    /// The line crosses itself inside the grid.
    #[error("the line crosses itself")]
    SelfIntersecting,
    /// The replacement line does not start at the stretch's first point.
    #[error("the line's first point does not lie on the border")]
    StartNotOnBorder,
    /// The replacement line does not end at the stretch's last point.
    #[error("the line's last point does not lie on the border")]
    EndNotOnBorder,
    /// The two points are not vertices of one ring.
    #[error("the two points are not vertices of one ring of the grid")]
    NotOnOneRing,
    /// No stretch of border shared with the other grid joins the two points.
    #[error("no border shared with the other grid joins the two points")]
    NoSharedStretch,
    /// The edit would leave a ring with fewer than three distinct vertices.
    #[error("the edit would leave a ring with fewer than three vertices")]
    Collapsed,
    /// The two grids have no border edge in common.
    #[error("the grids share no border")]
    NotNeighbours,
    /// The shared borders do not match vertex for vertex, so the union cannot be chained.
    #[error("the grids' shared borders do not match vertex for vertex")]
    BordersDoNotMatch,
}

/// Where a point lies on a geometry's boundary.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum OnBoundary {
    /// At a vertex (within [`VERTEX_TOLERANCE`]); the coordinate is the vertex exactly as stored.
    Vertex(Coord<f64>),
    /// Strictly inside the segment `a → b` (as stored, in ring order), away from its ends.
    Segment { a: Coord<f64>, b: Coord<f64> },
}

/// Moves every vertex within [`VERTEX_TOLERANCE`] of `from` to `to`, in all
/// rings of all parts (so a vertex repeated where a ring touches itself moves
/// everywhere). `None` when no vertex matched.
///
/// Applied with the same `from` and `to` to every grid sharing the vertex, it
/// keeps their borders bit-identical. The result is not validated.
///
/// ```
/// use geo_types::{coord, polygon, MultiPolygon};
/// use gridmap_data::edit::shape::move_vertex;
///
/// let square = MultiPolygon::new(vec![polygon![
///     (x: 0.0, y: 0.0), (x: 1.0, y: 0.0), (x: 1.0, y: 1.0), (x: 0.0, y: 1.0)
/// ]]);
/// let moved = move_vertex(&square, coord! { x: 1.0, y: 1.0 }, coord! { x: 2.0, y: 2.0 }).unwrap();
/// assert_eq!(moved.0[0].exterior().0[2], coord! { x: 2.0, y: 2.0 });
/// assert!(move_vertex(&square, coord! { x: 5.0, y: 5.0 }, coord! { x: 6.0, y: 6.0 }).is_none());
/// ```
pub fn move_vertex(
    geom: &MultiPolygon<f64>,
    from: Coord<f64>,
    to: Coord<f64>,
) -> Option<MultiPolygon<f64>> {
    let mut hit = false;
    let moved = map_rings(geom, |ring| {
        ring.0
            .iter()
            .map(|&c| {
                if same(c, from) {
                    hit = true;
                    to
                } else {
                    c
                }
            })
            .collect::<Vec<_>>()
            .into()
    });
    hit.then_some(moved)
}

/// Whether `p` lies on the boundary of `geom`: at a vertex (the nearest one
/// within [`VERTEX_TOLERANCE`] in both coordinates), else within
/// `VERTEX_TOLERANCE` degrees (distance) of the interior of a segment (the
/// nearest such segment). `None` when neither.
///
/// ```
/// use geo_types::{coord, polygon, MultiPolygon};
/// use gridmap_data::edit::shape::{on_boundary, OnBoundary};
///
/// let square = MultiPolygon::new(vec![polygon![
///     (x: 0.0, y: 0.0), (x: 1.0, y: 0.0), (x: 1.0, y: 1.0), (x: 0.0, y: 1.0)
/// ]]);
/// assert_eq!(
///     on_boundary(&square, coord! { x: 1.0, y: 1e-12 }),
///     Some(OnBoundary::Vertex(coord! { x: 1.0, y: 0.0 }))
/// );
/// assert_eq!(
///     on_boundary(&square, coord! { x: 0.5, y: 0.0 }),
///     Some(OnBoundary::Segment { a: coord! { x: 0.0, y: 0.0 }, b: coord! { x: 1.0, y: 0.0 } })
/// );
/// assert_eq!(on_boundary(&square, coord! { x: 0.5, y: 0.5 }), None);
/// ```
pub fn on_boundary(geom: &MultiPolygon<f64>, p: Coord<f64>) -> Option<OnBoundary> {
    boundary_hit(geom, p).map(|hit| hit.on)
}

/// Inserts `x` between every consecutive pair `(a, b)` or `(b, a)` of exactly
/// equal stored vertices, in every ring of every part. `None` when no ring has
/// such a segment.
///
/// Used to put a new vertex on a shared segment of every grid that uses it
/// (for instance the crossing points reported by [`split`]).
///
/// ```
/// use geo_types::{coord, polygon, MultiPolygon};
/// use gridmap_data::edit::shape::insert_vertex;
///
/// let square = MultiPolygon::new(vec![polygon![
///     (x: 0.0, y: 0.0), (x: 1.0, y: 0.0), (x: 1.0, y: 1.0), (x: 0.0, y: 1.0)
/// ]]);
/// let (a, b, x) = (coord! { x: 1.0, y: 0.0 }, coord! { x: 0.0, y: 0.0 }, coord! { x: 0.5, y: 0.0 });
/// let with = insert_vertex(&square, a, b, x).unwrap();
/// assert_eq!(with.0[0].exterior().0[..3], [b, x, a]);
/// assert!(insert_vertex(&square, a, coord! { x: 0.0, y: 1.0 }, x).is_none());
/// ```
pub fn insert_vertex(
    geom: &MultiPolygon<f64>,
    a: Coord<f64>,
    b: Coord<f64>,
    x: Coord<f64>,
) -> Option<MultiPolygon<f64>> {
    let mut hit = false;
    let inserted = map_rings(geom, |ring| {
        let c = &ring.0;
        let mut out = Vec::with_capacity(c.len() + 1);
        for (i, &v) in c.iter().enumerate() {
            if i > 0 {
                let u = c[i - 1];
                if (u == a && v == b) || (u == b && v == a) {
                    out.push(x);
                    hit = true;
                }
            }
            out.push(v);
        }
        LineString::new(out)
    });
    hit.then_some(inserted)
}

/// A boundary point found in a geometry: which ring, and where on it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BoundaryHit {
    pub part: usize,
    /// 0 = exterior, k = hole k.
    pub ring: usize,
    /// The vertex index, or the index of the segment's first vertex, in the ring.
    pub index: usize,
    pub on: OnBoundary,
}

/// [`on_boundary`], saying also which ring and which vertex or segment.
pub(crate) fn boundary_hit(geom: &MultiPolygon<f64>, p: Coord<f64>) -> Option<BoundaryHit> {
    let mut vertex: Option<(f64, BoundaryHit)> = None;
    let mut segment: Option<(f64, BoundaryHit)> = None;
    for (part, poly) in geom.0.iter().enumerate() {
        for (ring, ls) in ring::rings(poly).enumerate() {
            let v = open(ls);
            for (index, &c) in v.iter().enumerate() {
                let d = (c.x - p.x).abs().max((c.y - p.y).abs());
                if same(c, p) && vertex.as_ref().is_none_or(|(best, _)| d < *best) {
                    let on = OnBoundary::Vertex(c);
                    vertex = Some((
                        d,
                        BoundaryHit {
                            part,
                            ring,
                            index,
                            on,
                        },
                    ));
                }
            }
            if vertex.is_some() {
                continue;
            }
            for index in 0..v.len() {
                let (a, b) = (v[index], v[(index + 1) % v.len()]);
                let Some(d) = ring::segment_interior_distance(p, a, b) else {
                    continue;
                };
                if d <= VERTEX_TOLERANCE && segment.as_ref().is_none_or(|(best, _)| d < *best) {
                    let on = OnBoundary::Segment { a, b };
                    segment = Some((
                        d,
                        BoundaryHit {
                            part,
                            ring,
                            index,
                            on,
                        },
                    ));
                }
            }
        }
    }
    vertex.or(segment).map(|(_, hit)| hit)
}

/// `geom` with every ring (exterior and holes) replaced by `f(ring)`.
fn map_rings(
    geom: &MultiPolygon<f64>,
    mut f: impl FnMut(&LineString<f64>) -> LineString<f64>,
) -> MultiPolygon<f64> {
    MultiPolygon::new(
        geom.0
            .iter()
            .map(|poly| {
                let exterior = f(poly.exterior());
                let holes = poly.interiors().iter().map(&mut f).collect();
                Polygon::new(exterior, holes)
            })
            .collect(),
    )
}
