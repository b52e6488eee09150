//! Validity of grid polygons: OGC simple-features rules plus the checks a
//! longitude/latitude store needs (finite numbers, coordinate range).
//!
//! geo's `Validation` trait catches self-intersections, short rings and holes
//! outside shells correctly, but its ring self-intersection test is a pairwise
//! O(n²) scan (minutes on a 20 000-vertex district boundary in a debug build)
//! and it does not say *where* a ring crosses itself. So rings are checked here
//! with an indexed segment search, and the ring/ring and part/part topology
//! with geo's `Relate`, the same DE-9IM tests `Validation` uses. The tests
//! compare both on every invalid case.

use std::fmt;

use geo::coordinate_position::CoordPos;
use geo::dimensions::Dimensions;
use geo::{BoundingRect, Intersects, Relate};
use geo_types::{Coord, LineString, MultiPolygon, Polygon};

use super::segments::{dedup, meeting_owners, ring_self_intersection};

/// Why a geometry is not a valid grid area.
///
/// Polygons and rings are numbered from 0 in the order given; ring 0 is the
/// exterior ring, ring k (k ≥ 1) is hole k.
#[derive(Debug, Clone, PartialEq)]
pub enum GeometryProblem {
    /// No polygon, or only empty rings.
    Empty,
    /// A coordinate is NaN or infinite.
    NonFinite {
        polygon: usize,
        ring: usize,
        vertex: usize,
    },
    /// A coordinate is not a longitude in [-180, 180] and latitude in [-90, 90].
    OutOfRange { lon: f64, lat: f64 },
    /// The ring's last position differs from its first (found by the readers on raw
    /// coordinates: `geo_types` closes rings on construction).
    UnclosedRing { polygon: usize, ring: usize },
    /// A ring needs at least 3 distinct points (4 positions with the closing one).
    TooFewPoints {
        polygon: usize,
        ring: usize,
        distinct: usize,
    },
    /// A ring crosses or touches itself.
    SelfIntersection {
        polygon: usize,
        ring: usize,
        at: (f64, f64),
    },
    /// Two rings of one polygon cross (a hole partly outside its shell, or two holes crossing).
    RingsCross {
        polygon: usize,
        ring_a: usize,
        ring_b: usize,
        at: (f64, f64),
    },
    /// Two rings of one polygon share a stretch of boundary.
    RingsShareEdge {
        polygon: usize,
        ring_a: usize,
        ring_b: usize,
    },
    /// A hole lies (wholly) outside the exterior ring of its polygon.
    HoleOutsideShell { polygon: usize, ring: usize },
    /// Two holes of one polygon overlap (one inside the other).
    HolesOverlap {
        polygon: usize,
        ring_a: usize,
        ring_b: usize,
    },
    /// Two polygons of a multipolygon overlap.
    PolygonsOverlap { a: usize, b: usize },
    /// Two polygons of a multipolygon share a stretch of boundary (they should be one polygon).
    PolygonsShareEdge { a: usize, b: usize },
}

/// A coordinate for messages: at most 7 decimals (about 1 cm), no float noise.
fn num(v: f64) -> String {
    let s = format!("{v:.7}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".to_string()
    } else {
        s.to_string()
    }
}

fn ring_name(ring: usize) -> String {
    if ring == 0 {
        "ring 0 (exterior)".to_string()
    } else {
        format!("ring {ring} (hole)")
    }
}

/// How every message names a ring: "ring 1 (hole) of polygon 0".
fn ring_of(polygon: usize, ring: usize) -> String {
    format!("{} of polygon {polygon}", ring_name(ring))
}

/// Two rings of one polygon: "ring 0 (exterior) and ring 1 (hole) of polygon 0".
fn rings_of(polygon: usize, a: usize, b: usize) -> String {
    format!("{} and {}", ring_name(a), ring_of(polygon, b))
}

fn point((x, y): (f64, f64)) -> String {
    format!("({}, {})", num(x), num(y))
}

impl fmt::Display for GeometryProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use GeometryProblem::*;
        match self {
            Empty => write!(f, "geometry is empty"),
            NonFinite { polygon, ring, vertex } => write!(
                f,
                "{} has a non-finite coordinate (NaN or infinity) at vertex {vertex}",
                ring_of(*polygon, *ring)
            ),
            OutOfRange { lon, lat } => write!(
                f,
                "coordinate {} is not a longitude/latitude (longitude must be within ±180, latitude within ±90); is the CRS right?",
                point((*lon, *lat))
            ),
            UnclosedRing { polygon, ring } => write!(
                f,
                "{} is not closed (its last position differs from its first)",
                ring_of(*polygon, *ring)
            ),
            TooFewPoints { polygon, ring, distinct } => write!(
                f,
                "{} has only {distinct} distinct points (a ring needs at least 3)",
                ring_of(*polygon, *ring)
            ),
            SelfIntersection { polygon, ring, at } => write!(
                f,
                "{} intersects itself at {}",
                ring_of(*polygon, *ring),
                point(*at)
            ),
            RingsCross { polygon, ring_a, ring_b, at } => write!(
                f,
                "{} cross at {}",
                rings_of(*polygon, *ring_a, *ring_b),
                point(*at)
            ),
            RingsShareEdge { polygon, ring_a, ring_b } => write!(
                f,
                "{} share a stretch of boundary",
                rings_of(*polygon, *ring_a, *ring_b)
            ),
            HoleOutsideShell { polygon, ring } => write!(
                f,
                "{} lies outside the exterior ring",
                ring_of(*polygon, *ring)
            ),
            HolesOverlap { polygon, ring_a, ring_b } => {
                write!(f, "{} overlap", rings_of(*polygon, *ring_a, *ring_b))
            }
            PolygonsOverlap { a, b } => write!(f, "polygons {a} and {b} overlap"),
            PolygonsShareEdge { a, b } => write!(
                f,
                "polygons {a} and {b} share a stretch of boundary (they should be one polygon)"
            ),
        }
    }
}

impl std::error::Error for GeometryProblem {}

/// Checks that a multipolygon is a valid longitude/latitude area; returns the first problem.
///
/// Checks, in order: emptiness; per ring finite coordinates, coordinate range,
/// at least 3 distinct points, no self-intersection; per polygon holes inside the
/// shell without crossing or sharing edges, holes not overlapping each other;
/// parts of the multipolygon not overlapping or sharing edges. Touching at single
/// points is allowed, as in OGC.
///
/// ```
/// use geo_types::{polygon, MultiPolygon};
/// use gridmap_data::geometry::{validate_polygonal, GeometryProblem};
///
/// let bow_tie = polygon![(x: 120.0, y: 30.0), (x: 120.2, y: 30.2), (x: 120.2, y: 30.0), (x: 120.0, y: 30.2)];
/// let problem = validate_polygonal(&MultiPolygon::new(vec![bow_tie])).unwrap_err();
/// assert_eq!(problem.to_string(), "ring 0 (exterior) of polygon 0 intersects itself at (120.1, 30.1)");
/// ```
pub fn validate_polygonal(g: &MultiPolygon<f64>) -> Result<(), GeometryProblem> {
    if g.0.is_empty() || g.0.iter().all(|p| p.exterior().0.is_empty()) {
        return Err(GeometryProblem::Empty);
    }
    for (pi, polygon) in g.0.iter().enumerate() {
        for (ri, ring) in rings(polygon).enumerate() {
            check_ring(pi, ri, ring)?;
        }
    }
    for (pi, polygon) in g.0.iter().enumerate() {
        check_holes(pi, polygon)?;
    }
    check_parts(g)
}

fn rings(p: &Polygon<f64>) -> impl Iterator<Item = &LineString<f64>> {
    std::iter::once(p.exterior()).chain(p.interiors())
}

fn check_ring(polygon: usize, ring: usize, line: &LineString<f64>) -> Result<(), GeometryProblem> {
    for (vertex, c) in line.0.iter().enumerate() {
        if !c.x.is_finite() || !c.y.is_finite() {
            return Err(GeometryProblem::NonFinite {
                polygon,
                ring,
                vertex,
            });
        }
    }
    if let Some(c) = line
        .0
        .iter()
        .find(|c| !(-180.0..=180.0).contains(&c.x) || !(-90.0..=90.0).contains(&c.y))
    {
        return Err(GeometryProblem::OutOfRange { lon: c.x, lat: c.y });
    }
    let mut distinct = dedup(&line.0);
    if distinct.len() > 1 && distinct.first() == distinct.last() {
        distinct.pop();
    }
    if distinct.len() < 3 {
        return Err(GeometryProblem::TooFewPoints {
            polygon,
            ring,
            distinct: distinct.len(),
        });
    }
    if let Some(at) = ring_self_intersection(&line.0) {
        return Err(GeometryProblem::SelfIntersection {
            polygon,
            ring,
            at: (at.x, at.y),
        });
    }
    Ok(())
}

fn boxes_meet(a: &Polygon<f64>, b: &Polygon<f64>) -> bool {
    matches!((a.bounding_rect(), b.bounding_rect()), (Some(x), Some(y)) if x.intersects(&y))
}

/// With disjoint boundaries, `inner` lies inside `outer` iff any of its vertices does.
fn inside(inner: &Polygon<f64>, outer: &Polygon<f64>) -> bool {
    let (Some(bi), Some(bo)) = (inner.bounding_rect(), outer.bounding_rect()) else {
        return false;
    };
    let box_within = bo.min().x <= bi.min().x
        && bo.min().y <= bi.min().y
        && bi.max().x <= bo.max().x
        && bi.max().y <= bo.max().y;
    box_within
        && inner
            .exterior()
            .0
            .first()
            .is_some_and(|c| outer.intersects(c))
}

fn at(c: &Coord<f64>) -> (f64, f64) {
    (c.x, c.y)
}

// Relate (DE-9IM) is exact but slow on big rings, so it only runs for rings
// whose boundaries actually meet; otherwise containment is decided by one vertex.
fn check_holes(pi: usize, polygon: &Polygon<f64>) -> Result<(), GeometryProblem> {
    if polygon.interiors().is_empty() {
        return Ok(());
    }
    let rings_as_polygons: Vec<Polygon<f64>> = rings(polygon)
        .map(|r| Polygon::new(r.clone(), vec![]))
        .collect();
    let tagged: Vec<(usize, &[Coord<f64>])> = rings(polygon)
        .enumerate()
        .map(|(i, r)| (i, r.0.as_slice()))
        .collect();
    let meeting = meeting_owners(&tagged);
    let shell = &rings_as_polygons[0];
    for (ring, hole) in rings_as_polygons.iter().enumerate().skip(1) {
        match meeting.get(&(0, ring)) {
            None if inside(hole, shell) => {}
            None => return Err(GeometryProblem::HoleOutsideShell { polygon: pi, ring }),
            Some(c) => {
                let im = shell.relate(hole);
                if im.get(CoordPos::Outside, CoordPos::Inside) != Dimensions::Empty {
                    return Err(GeometryProblem::RingsCross {
                        polygon: pi,
                        ring_a: 0,
                        ring_b: ring,
                        at: at(c),
                    });
                }
                if im.get(CoordPos::OnBoundary, CoordPos::OnBoundary) == Dimensions::OneDimensional
                {
                    return Err(GeometryProblem::RingsShareEdge {
                        polygon: pi,
                        ring_a: 0,
                        ring_b: ring,
                    });
                }
            }
        }
    }
    for ring_a in 1..rings_as_polygons.len() {
        for ring_b in ring_a + 1..rings_as_polygons.len() {
            let (a, b) = (&rings_as_polygons[ring_a], &rings_as_polygons[ring_b]);
            if !boxes_meet(a, b) {
                continue;
            }
            match meeting.get(&(ring_a, ring_b)) {
                None if inside(a, b) || inside(b, a) => {
                    return Err(GeometryProblem::HolesOverlap {
                        polygon: pi,
                        ring_a,
                        ring_b,
                    })
                }
                None => {}
                Some(c) => {
                    let im = a.relate(b);
                    if im.get(CoordPos::Inside, CoordPos::Inside) == Dimensions::TwoDimensional {
                        return Err(GeometryProblem::RingsCross {
                            polygon: pi,
                            ring_a,
                            ring_b,
                            at: at(c),
                        });
                    }
                    if im.get(CoordPos::OnBoundary, CoordPos::OnBoundary)
                        == Dimensions::OneDimensional
                    {
                        return Err(GeometryProblem::RingsShareEdge {
                            polygon: pi,
                            ring_a,
                            ring_b,
                        });
                    }
                }
            }
        }
    }
    Ok(())
}

fn check_parts(g: &MultiPolygon<f64>) -> Result<(), GeometryProblem> {
    if g.0.len() < 2 {
        return Ok(());
    }
    let tagged: Vec<(usize, &[Coord<f64>])> =
        g.0.iter()
            .enumerate()
            .flat_map(|(i, p)| rings(p).map(move |r| (i, r.0.as_slice())))
            .collect();
    let meeting = meeting_owners(&tagged);
    for a in 0..g.0.len() {
        for b in a + 1..g.0.len() {
            let (pa, pb) = (&g.0[a], &g.0[b]);
            if !boxes_meet(pa, pb) {
                continue;
            }
            if !meeting.contains_key(&(a, b)) {
                if inside(pa, pb) || inside(pb, pa) {
                    return Err(GeometryProblem::PolygonsOverlap { a, b });
                }
                continue;
            }
            let im = pa.relate(pb);
            if im.get(CoordPos::Inside, CoordPos::Inside) == Dimensions::TwoDimensional {
                return Err(GeometryProblem::PolygonsOverlap { a, b });
            }
            if im.get(CoordPos::OnBoundary, CoordPos::OnBoundary) == Dimensions::OneDimensional {
                return Err(GeometryProblem::PolygonsShareEdge { a, b });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
