//! Point-in-polygon tests against a polygon prepared once for many queries.
//!
//! A [`PreparedPolygon`] sorts the polygon's edges into horizontal bands, so a
//! query only looks at the few edges whose y-range covers the point instead of
//! every edge of the polygon ([`PreparedPolygon::locate_banded`], the reference
//! routine). Polygons with many edges also get a uniform cell grid (see
//! `cell_grid.rs`) that answers most queries from a per-cell reference point
//! and a few exact segment tests; it falls back to the banded routine whenever
//! the point may be on the border or the walk meets a degeneracy, so both
//! routines give identical answers.
//!
//! # The border rule
//!
//! A point exactly on a border shared by two grids must belong to exactly one of
//! them. gridmap decides as if the point were moved an infinitesimal step
//! **east, then an even smaller step north**: a point on a border belongs to the
//! grid on its east side; on an east–west border, to the grid on its north side;
//! at a corner, to the grid that lies north-east of it. Concretely, a ray is cast
//! towards +x; an edge counts when its y-range contains the point half-open
//! (lower end included, upper end excluded) and the point lies *strictly* west
//! of it, decided by the exact orientation predicate of the `robust` crate.
//! Because the rule is a consistent symbolic perturbation of the point and the
//! predicate is exact, grids that share a border with identical coordinates
//! partition the plane: every point belongs to exactly one of them, or to none
//! outside them all. Points in holes belong to no grid of that polygon.

use std::cmp::Ordering;

use geo_types::{LineString, Polygon};
use robust::{orient2d, Coord};

use super::cell_grid::CellGrid;

/// Where a point lies relative to a prepared polygon.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Location {
    /// The polygon claims the point under the border rule.
    pub inside: bool,
    /// The point lies exactly on one of the polygon's edges or vertices.
    pub on_border: bool,
}

#[derive(Debug, Clone, Copy)]
pub(super) struct Edge {
    // Endpoints ordered so that a.y <= b.y: both polygons sharing the edge then
    // see the same segment, whatever their ring direction.
    pub(super) ax: f64,
    pub(super) ay: f64,
    pub(super) bx: f64,
    pub(super) by: f64,
}

/// Below this many edges the banded scan alone is as fast as the cell grid.
const GRID_MIN_EDGES: usize = 32;

/// A polygon (with holes) prepared for fast, exact point-in-polygon queries.
///
/// ```
/// use geo_types::polygon;
/// use gridmap_data::index::PreparedPolygon;
///
/// let square = polygon![(x: 0.0, y: 0.0), (x: 1.0, y: 0.0), (x: 1.0, y: 1.0), (x: 0.0, y: 1.0)];
/// let p = PreparedPolygon::new(&square);
/// assert!(p.locate(0.5, 0.5).inside);
/// // On the west edge: the point belongs to the square (it lies to the east of the border).
/// assert!(p.locate(0.0, 0.5).inside);
/// // On the east edge: it belongs to the neighbour on the east, not to the square.
/// let east = p.locate(1.0, 0.5);
/// assert!(!east.inside && east.on_border);
/// ```
#[derive(Debug, Clone)]
pub struct PreparedPolygon {
    edges: Vec<Edge>,
    min_y: f64,
    band_height_inv: f64,
    /// `band_start[i]..band_start[i + 1]` indexes `band_edges` for band `i`.
    band_start: Vec<u32>,
    band_edges: Vec<u32>,
    grid: Option<CellGrid>,
}

impl PreparedPolygon {
    /// Prepares a polygon; its exterior and interior rings are used as given.
    pub fn new(polygon: &Polygon<f64>) -> Self {
        let mut edges = Vec::new();
        push_ring_edges(polygon.exterior(), &mut edges);
        for hole in polygon.interiors() {
            push_ring_edges(hole, &mut edges);
        }
        Self::from_edges(edges)
    }

    fn from_edges(edges: Vec<Edge>) -> Self {
        let (mut min_y, mut max_y) = (f64::INFINITY, f64::NEG_INFINITY);
        for e in &edges {
            min_y = min_y.min(e.ay);
            max_y = max_y.max(e.by);
        }
        if edges.is_empty() {
            return Self {
                edges,
                min_y: 0.0,
                band_height_inv: 0.0,
                band_start: vec![0, 0],
                band_edges: Vec::new(),
                grid: None,
            };
        }
        // About four edges per band keeps the per-query work small; the cap bounds memory.
        let bands = edges.len().div_ceil(4).clamp(1, 1 << 16);
        let height = max_y - min_y;
        let band_height_inv = if height > 0.0 {
            bands as f64 / height
        } else {
            0.0
        };
        let band_of =
            |y: f64| -> usize { (((y - min_y) * band_height_inv) as usize).min(bands - 1) };
        let mut counts = vec![0u32; bands + 1];
        for e in &edges {
            for b in band_of(e.ay)..=band_of(e.by) {
                counts[b + 1] += 1;
            }
        }
        for i in 0..bands {
            counts[i + 1] += counts[i];
        }
        let band_start = counts.clone();
        let mut fill = counts;
        let mut band_edges = vec![0u32; band_start[bands] as usize];
        for (i, e) in edges.iter().enumerate() {
            for b in band_of(e.ay)..=band_of(e.by) {
                band_edges[fill[b] as usize] = i as u32;
                fill[b] += 1;
            }
        }
        let mut prepared = Self {
            edges,
            min_y,
            band_height_inv,
            band_start,
            band_edges,
            grid: None,
        };
        if prepared.edges.len() >= GRID_MIN_EDGES {
            prepared.grid = CellGrid::build(&prepared.edges, |x, y| prepared.locate_banded(x, y));
        }
        prepared
    }

    /// Locates a point under the border rule described in the module docs.
    #[inline]
    pub fn locate(&self, x: f64, y: f64) -> Location {
        if let Some(loc) = self.grid.as_ref().and_then(|g| g.locate(&self.edges, x, y)) {
            return loc;
        }
        self.locate_banded(x, y)
    }

    /// The reference routine: the same answer as [`locate`](Self::locate),
    /// always computed by the banded ray scan (kept public for equivalence
    /// tests and benchmarks).
    pub fn locate_banded(&self, x: f64, y: f64) -> Location {
        let mut outside = Location {
            inside: false,
            on_border: false,
        };
        let bands = self.band_start.len() - 1;
        // Below the lowest band, or NaN.
        if self.edges.is_empty() || y.partial_cmp(&self.min_y).is_none_or(Ordering::is_lt) {
            return outside;
        }
        let band = (((y - self.min_y) * self.band_height_inv) as usize).min(bands - 1);
        let (start, end) = (
            self.band_start[band] as usize,
            self.band_start[band + 1] as usize,
        );
        let mut crossings = 0u32;
        let mut on_border = false;
        for &i in &self.band_edges[start..end] {
            let e = &self.edges[i as usize];
            if y < e.ay || y > e.by {
                continue;
            }
            if e.ay == e.by {
                // Horizontal edges never cross the ray; they only matter for `on_border`.
                if x >= e.ax.min(e.bx) && x <= e.ax.max(e.bx) {
                    on_border = true;
                }
                continue;
            }
            if y == e.by {
                // The upper end is excluded from the half-open range, but a point
                // exactly on it is still on the border.
                if x == e.bx {
                    on_border = true;
                }
                continue;
            }
            if x > e.ax.max(e.bx) {
                continue; // east of the edge: the eastward ray cannot cross it
            }
            if x < e.ax.min(e.bx) {
                crossings += 1; // strictly west
                continue;
            }
            let side = orient2d(
                Coord { x: e.ax, y: e.ay },
                Coord { x: e.bx, y: e.by },
                Coord { x, y },
            );
            if side > 0.0 {
                crossings += 1; // left of an upward edge = west of it
            } else if side == 0.0 {
                on_border = true;
            }
        }
        outside.on_border = on_border;
        outside.inside = crossings % 2 == 1;
        outside
    }

    /// Number of edges (for sizing and tests).
    pub fn edge_count(&self) -> usize {
        self.edges.len()
    }

    /// The cell grid's answer alone: `None` without a grid, `Some(None)` when
    /// it defers to the banded routine.
    #[cfg(test)]
    pub(super) fn grid_answer(&self, x: f64, y: f64) -> Option<Option<Location>> {
        self.grid.as_ref().map(|g| g.locate(&self.edges, x, y))
    }

    /// Points whose walk to their cell's reference point passes exactly
    /// through a vertex (a degeneracy the grid must hand to the banded routine).
    #[cfg(test)]
    pub(super) fn vertex_walk_probes(&self) -> Vec<(f64, f64)> {
        self.grid
            .as_ref()
            .map_or_else(Vec::new, |g| g.vertex_walk_probes(&self.edges))
    }

    /// Approximate heap memory of the prepared polygon, in bytes (the cell
    /// grid included).
    pub fn heap_bytes(&self) -> usize {
        self.edges.capacity() * std::mem::size_of::<Edge>()
            + (self.band_start.capacity() + self.band_edges.capacity()) * 4
            + self.grid_heap_bytes()
    }

    /// Heap memory of the cell grid alone, in bytes (0 for polygons with too
    /// few edges to get one).
    pub fn grid_heap_bytes(&self) -> usize {
        self.grid.as_ref().map_or(0, CellGrid::heap_bytes)
    }
}

fn push_ring_edges(ring: &LineString<f64>, edges: &mut Vec<Edge>) {
    for w in ring.0.windows(2) {
        let (p, q) = (w[0], w[1]);
        if p == q {
            continue;
        }
        let (a, b) = if (p.y, p.x) <= (q.y, q.x) {
            (p, q)
        } else {
            (q, p)
        };
        edges.push(Edge {
            ax: a.x,
            ay: a.y,
            bx: b.x,
            by: b.y,
        });
    }
    // geo-types closes rings, but a ring built by hand may not be: close it here.
    if let (Some(first), Some(last)) = (ring.0.first(), ring.0.last()) {
        if first != last {
            let (a, b) = if (first.y, first.x) <= (last.y, last.x) {
                (*first, *last)
            } else {
                (*last, *first)
            };
            edges.push(Edge {
                ax: a.x,
                ay: a.y,
                bx: b.x,
                by: b.y,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo_types::{polygon, Coord as GCoord, LineString};

    fn square(x0: f64, y0: f64, x1: f64, y1: f64) -> Polygon<f64> {
        polygon![(x: x0, y: y0), (x: x1, y: y0), (x: x1, y: y1), (x: x0, y: y1)]
    }

    #[test]
    fn inside_outside_and_hole() {
        let outer = LineString::from(vec![(0.0, 0.0), (10.0, 0.0), (10.0, 10.0), (0.0, 10.0)]);
        let hole = LineString::from(vec![(4.0, 4.0), (6.0, 4.0), (6.0, 6.0), (4.0, 6.0)]);
        let p = PreparedPolygon::new(&Polygon::new(outer, vec![hole]));
        assert!(p.locate(1.0, 1.0).inside);
        assert!(!p.locate(5.0, 5.0).inside, "points in a hole are outside");
        assert!(!p.locate(11.0, 5.0).inside);
        assert!(!p.locate(5.0, -0.5).inside);
        // The hole's east border belongs to the polygon (it is east of the hole).
        assert!(p.locate(6.0, 5.0).inside);
        assert!(p.locate(6.0, 5.0).on_border);
        // The hole's west border belongs to the hole, i.e. not to the polygon.
        assert!(!p.locate(4.0, 5.0).inside);
    }

    #[test]
    fn a_grid_of_squares_partitions_every_point_exactly_once() {
        // 3×3 unit squares; probe points on every edge, every vertex and inside.
        let mut cells = Vec::new();
        for i in 0..3 {
            for j in 0..3 {
                let (x, y) = (i as f64, j as f64);
                cells.push(PreparedPolygon::new(&square(x, y, x + 1.0, y + 1.0)));
            }
        }
        for xi in 0..=12 {
            for yi in 0..=12 {
                let (x, y) = (xi as f64 * 0.25, yi as f64 * 0.25);
                let claims = cells.iter().filter(|c| c.locate(x, y).inside).count();
                let inside_union = x < 3.0 && y < 3.0; // east and north outer borders belong outside
                assert_eq!(claims, usize::from(inside_union), "point ({x}, {y})");
            }
        }
    }

    #[test]
    fn slanted_shared_border_with_inexact_coordinates() {
        // Two triangles sharing a diagonal whose points are not representable exactly.
        let a = Polygon::new(
            LineString::from(vec![(0.1, 0.1), (0.7, 0.3), (0.3, 0.9)]),
            vec![],
        );
        let b = Polygon::new(
            LineString::from(vec![(0.7, 0.3), (0.9, 0.95), (0.3, 0.9)]),
            vec![],
        );
        let (pa, pb) = (PreparedPolygon::new(&a), PreparedPolygon::new(&b));
        // Walk along the shared edge: each point is claimed by exactly one triangle.
        for k in 0..=1000 {
            let t = k as f64 / 1000.0;
            let x = 0.7 + t * (0.3 - 0.7);
            let y = 0.3 + t * (0.9 - 0.3);
            let (la, lb) = (pa.locate(x, y), pb.locate(x, y));
            if t > 0.0 && t < 1.0 {
                assert!(la.inside ^ lb.inside, "t={t}: a={la:?} b={lb:?}");
            }
        }
    }

    #[test]
    fn vertex_at_local_maximum_is_on_border() {
        let tri = Polygon::new(
            LineString::from(vec![(0.0, 0.0), (2.0, 0.0), (1.0, 2.0)]),
            vec![],
        );
        let p = PreparedPolygon::new(&tri);
        let top = p.locate(1.0, 2.0);
        assert!(top.on_border && !top.inside);
        let bottom_left = p.locate(0.0, 0.0);
        assert!(bottom_left.on_border && bottom_left.inside);
    }

    #[test]
    fn unclosed_ring_is_closed() {
        let ring = LineString(vec![
            GCoord { x: 0.0, y: 0.0 },
            GCoord { x: 4.0, y: 0.0 },
            GCoord { x: 4.0, y: 4.0 },
        ]);
        let p = PreparedPolygon::from_edges({
            let mut e = Vec::new();
            push_ring_edges(&ring, &mut e);
            e
        });
        assert_eq!(p.edge_count(), 3);
        assert!(p.locate(3.0, 1.0).inside);
        assert!(!p.locate(1.0, 3.0).inside);
    }
}
