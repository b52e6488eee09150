//! A uniform cell grid over a polygon's edges: the fast path of
//! [`PreparedPolygon::locate`](super::PreparedPolygon::locate).
//!
//! Each cell lists the edges whose bounding box overlaps it and stores the
//! exact answer (from the banded routine) for one *reference point* inside
//! it. A query walks from its point to the reference point of its cell and
//! counts proper crossings with the cell's edges using exact orientation
//! predicates: each crossing flips the even–odd answer.
//!
//! # Why the answers are exactly those of the banded routine
//!
//! * Cell membership is `col(x) = min(floor((x - min_x) · inv), n - 1)`, the
//!   same floating-point function for edges, queries and reference points.
//!   It is monotone in `x`, so if an edge touches the segment query→reference
//!   (at some real point between two floats that both map to cell `c`), the
//!   floats bounding the edge map to columns on either side of `c`: the edge is
//!   in the cell's list. Same for rows. This holds for clamped border cells
//!   too, so points outside the polygon's bounding box are handled alike.
//! * Reference points are never on an edge nor on the line of an edge of
//!   their cell (checked at prepare time; a cell without such a point always
//!   falls back), so their banded answer is the even–odd parity of the point.
//! * For each listed edge that can touch the segment, the query point on its
//!   line (possibly on the edge: a border point) or an endpoint on the
//!   segment's line (the segment may pass through a vertex) returns `None`,
//!   and the caller falls back to the banded routine. Otherwise the segment
//!   either misses the edge or crosses its interior transversally, which flips
//!   the even–odd parity exactly once (duplicate or crossing edges each count,
//!   as they do for the ray).
//! * The border rule only differs from the plain even–odd answer for points
//!   on an edge, and those always fall back; so `inside` is identical and
//!   `on_border` is false whenever this path answers.

use robust::{orient2d, Coord};

use super::prepared::{Edge, Location};

/// Cell state meaning "always use the banded routine".
const FALLBACK: u8 = 0xFF;
/// Reference points tried, as fractions of a cell; the first one that lies on
/// no edge line of its cell (and maps back to the cell) is used. Off-centre
/// fractions avoid coinciding with the vertices of regular lattices.
const CANDIDATES: [(f64, f64); 8] = [
    (0.5137, 0.4871),
    (0.2719, 0.7283),
    (0.7411, 0.2593),
    (0.3061, 0.3127),
    (0.6949, 0.6883),
    (0.1543, 0.5521),
    (0.8467, 0.4409),
    (0.4297, 0.1559),
];
/// Cells per edge: about sqrt(edges) cells on each side.
const CELLS_PER_EDGE: f64 = 1.0;
/// Upper bound on cells per polygon part, to bound memory.
const MAX_CELLS: usize = 1 << 20;
/// Upper bound on edge references per edge (long diagonal edges overlap
/// many cells); the grid is coarsened until it fits.
const MAX_REFS_PER_EDGE: u64 = 8;

/// Edge lists and reference answers per cell.
#[derive(Debug, Clone)]
pub(super) struct CellGrid {
    min_x: f64,
    min_y: f64,
    inv_w: f64,
    inv_h: f64,
    cell_w: f64,
    cell_h: f64,
    nx: usize,
    ny: usize,
    /// `cell_start[c]..cell_start[c + 1]` indexes `cell_edges` for cell `c`.
    cell_start: Vec<u32>,
    cell_edges: Vec<u32>,
    /// Per cell: [`FALLBACK`], or `candidate << 1 | inside` of its reference point.
    state: Vec<u8>,
}

impl CellGrid {
    /// Builds the grid; `exact` is the banded routine, used for the reference
    /// points. `None` when the edges span no area.
    pub(super) fn build(edges: &[Edge], exact: impl Fn(f64, f64) -> Location) -> Option<Self> {
        let (mut min_x, mut min_y) = (f64::INFINITY, f64::INFINITY);
        let (mut max_x, mut max_y) = (f64::NEG_INFINITY, f64::NEG_INFINITY);
        for e in edges {
            min_x = min_x.min(e.ax.min(e.bx));
            max_x = max_x.max(e.ax.max(e.bx));
            min_y = min_y.min(e.ay);
            max_y = max_y.max(e.by);
        }
        let (width, height) = (max_x - min_x, max_y - min_y);
        if !(width > 0.0 && height > 0.0 && width.is_finite() && height.is_finite()) {
            return None;
        }
        let mut cells = ((edges.len() as f64 * CELLS_PER_EDGE) as usize).clamp(1, MAX_CELLS);
        loop {
            let nx = ((cells as f64 * width / height).sqrt().round() as usize).clamp(1, cells);
            let ny = (cells / nx).max(1);
            let mut grid = Self {
                min_x,
                min_y,
                inv_w: nx as f64 / width,
                inv_h: ny as f64 / height,
                cell_w: width / nx as f64,
                cell_h: height / ny as f64,
                nx,
                ny,
                cell_start: Vec::new(),
                cell_edges: Vec::new(),
                state: Vec::new(),
            };
            let refs: u64 = edges
                .iter()
                .map(|e| {
                    let (c0, c1, r0, r1) = grid.edge_cells(e);
                    ((c1 - c0 + 1) * (r1 - r0 + 1)) as u64
                })
                .sum();
            if refs > MAX_REFS_PER_EDGE * edges.len() as u64 + (nx * ny) as u64 && cells > 1 {
                cells /= 4;
                continue;
            }
            grid.fill(edges);
            grid.classify(edges, &exact);
            return Some(grid);
        }
    }

    fn col(&self, x: f64) -> usize {
        // Saturating casts keep this monotone for points west of the box.
        (((x - self.min_x) * self.inv_w) as usize).min(self.nx - 1)
    }

    fn row(&self, y: f64) -> usize {
        (((y - self.min_y) * self.inv_h) as usize).min(self.ny - 1)
    }

    /// Column and row ranges (inclusive) of an edge's bounding box.
    fn edge_cells(&self, e: &Edge) -> (usize, usize, usize, usize) {
        (
            self.col(e.ax.min(e.bx)),
            self.col(e.ax.max(e.bx)),
            self.row(e.ay),
            self.row(e.by),
        )
    }

    fn reference(&self, col: usize, row: usize, candidate: u8) -> (f64, f64) {
        let (fx, fy) = CANDIDATES[candidate as usize];
        (
            self.min_x + (col as f64 + fx) * self.cell_w,
            self.min_y + (row as f64 + fy) * self.cell_h,
        )
    }

    fn fill(&mut self, edges: &[Edge]) {
        let cells = self.nx * self.ny;
        let mut counts = vec![0u32; cells + 1];
        for e in edges {
            let (c0, c1, r0, r1) = self.edge_cells(e);
            for r in r0..=r1 {
                for c in c0..=c1 {
                    counts[r * self.nx + c + 1] += 1;
                }
            }
        }
        for i in 0..cells {
            counts[i + 1] += counts[i];
        }
        let mut fill = counts.clone();
        let mut cell_edges = vec![0u32; counts[cells] as usize];
        for (i, e) in edges.iter().enumerate() {
            let (c0, c1, r0, r1) = self.edge_cells(e);
            for r in r0..=r1 {
                for c in c0..=c1 {
                    let slot = &mut fill[r * self.nx + c];
                    cell_edges[*slot as usize] = i as u32;
                    *slot += 1;
                }
            }
        }
        self.cell_start = counts;
        self.cell_edges = cell_edges;
    }

    fn classify(&mut self, edges: &[Edge], exact: &impl Fn(f64, f64) -> Location) {
        let mut state = vec![FALLBACK; self.nx * self.ny];
        for row in 0..self.ny {
            for col in 0..self.nx {
                let c = row * self.nx + col;
                let list =
                    &self.cell_edges[self.cell_start[c] as usize..self.cell_start[c + 1] as usize];
                for k in 0..CANDIDATES.len() as u8 {
                    let (rx, ry) = self.reference(col, row, k);
                    if self.col(rx) != col || self.row(ry) != row {
                        continue;
                    }
                    let r = Coord { x: rx, y: ry };
                    let on_a_line = list.iter().any(|&i| {
                        let e = &edges[i as usize];
                        orient2d(Coord { x: e.ax, y: e.ay }, Coord { x: e.bx, y: e.by }, r) == 0.0
                    });
                    if on_a_line {
                        continue;
                    }
                    let loc = exact(rx, ry);
                    if !loc.on_border {
                        state[c] = k << 1 | u8::from(loc.inside);
                        break;
                    }
                }
            }
        }
        self.state = state;
    }

    /// The answer for a point, or `None` when the banded routine must decide
    /// (the point may be on the border, or the walk meets a degeneracy).
    #[inline]
    pub(super) fn locate(&self, edges: &[Edge], x: f64, y: f64) -> Option<Location> {
        if !(x.is_finite() && y.is_finite()) {
            return None;
        }
        let (col, row) = (self.col(x), self.row(y));
        let c = row * self.nx + col;
        let state = self.state[c];
        if state == FALLBACK {
            return None;
        }
        let mut inside = state & 1 == 1;
        let list = &self.cell_edges[self.cell_start[c] as usize..self.cell_start[c + 1] as usize];
        if !list.is_empty() {
            let (rx, ry) = self.reference(col, row, state >> 1);
            let (sx0, sx1) = if x <= rx { (x, rx) } else { (rx, x) };
            let (sy0, sy1) = if y <= ry { (y, ry) } else { (ry, y) };
            let (q, r) = (Coord { x, y }, Coord { x: rx, y: ry });
            for &i in list {
                let e = &edges[i as usize];
                // Disjoint bounding boxes: the edge cannot touch the segment.
                if e.ay > sy1 || e.by < sy0 || e.ax.min(e.bx) > sx1 || e.ax.max(e.bx) < sx0 {
                    continue;
                }
                let (a, b) = (Coord { x: e.ax, y: e.ay }, Coord { x: e.bx, y: e.by });
                let dq = orient2d(a, b, q);
                let dr = orient2d(a, b, r);
                if dq == 0.0 || dr == 0.0 {
                    return None;
                }
                if (dq > 0.0) == (dr > 0.0) {
                    continue; // the segment stays on one side of the edge's line
                }
                let da = orient2d(q, r, a);
                let db = orient2d(q, r, b);
                if da == 0.0 || db == 0.0 {
                    return None;
                }
                if (da > 0.0) != (db > 0.0) {
                    inside = !inside;
                }
            }
        }
        Some(Location {
            inside,
            on_border: false,
        })
    }

    /// See `PreparedPolygon::vertex_walk_probes`: q = a + (a − r)/2 for a
    /// vertex `a` listed in r's cell, kept when exactly collinear and in the cell.
    #[cfg(test)]
    pub(super) fn vertex_walk_probes(&self, edges: &[Edge]) -> Vec<(f64, f64)> {
        let mut out = Vec::new();
        for row in 0..self.ny {
            for col in 0..self.nx {
                let c = row * self.nx + col;
                if self.state[c] == FALLBACK {
                    continue;
                }
                let r = self.reference(col, row, self.state[c] >> 1);
                for &i in
                    &self.cell_edges[self.cell_start[c] as usize..self.cell_start[c + 1] as usize]
                {
                    let e = &edges[i as usize];
                    for (ax, ay) in [(e.ax, e.ay), (e.bx, e.by)] {
                        let q = (ax + (ax - r.0) / 2.0, ay + (ay - r.1) / 2.0);
                        let collinear = orient2d(
                            Coord { x: q.0, y: q.1 },
                            Coord { x: r.0, y: r.1 },
                            Coord { x: ax, y: ay },
                        ) == 0.0;
                        if collinear && self.col(q.0) == col && self.row(q.1) == row {
                            out.push(q);
                        }
                    }
                }
            }
        }
        out
    }

    /// Heap bytes used by the grid.
    pub(super) fn heap_bytes(&self) -> usize {
        self.cell_start.capacity() * 4 + self.cell_edges.capacity() * 4 + self.state.capacity()
    }
}

#[cfg(test)]
mod tests {
    use super::super::PreparedPolygon;
    use crate::geometry::testutil::zhejiang_polygons;
    use geo_types::{Coord as GCoord, LineString, Polygon};
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// How many walks through a vertex were checked (so the tests can require some).
    static VERTEX_PROBES: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

    /// Asserts `locate == locate_banded` on every point; returns how many the
    /// grid answered without falling back.
    fn check(p: &PreparedPolygon, points: &[(f64, f64)], what: &str) -> usize {
        let through = p.vertex_walk_probes();
        VERTEX_PROBES.fetch_add(through.len(), std::sync::atomic::Ordering::Relaxed);
        for &(x, y) in &through {
            assert_eq!(
                p.locate(x, y),
                p.locate_banded(x, y),
                "{what}: walk through a vertex from ({x:?}, {y:?})"
            );
        }
        let mut fast = 0;
        for &(x, y) in points {
            let (got, want) = (p.locate(x, y), p.locate_banded(x, y));
            assert_eq!(got, want, "{what}: point ({x:?}, {y:?})");
            if let Some(Some(loc)) = p.grid_answer(x, y) {
                assert_eq!(loc, want, "{what}: grid answer at ({x:?}, {y:?})");
                fast += 1;
            }
        }
        fast
    }

    /// A star-shaped ring around (cx, cy); `snap` rounds coordinates to a
    /// lattice, which creates axis-aligned and collinear edges.
    fn star(
        rng: &mut ChaCha8Rng,
        cx: f64,
        cy: f64,
        r: (f64, f64),
        n: usize,
        snap: Option<f64>,
    ) -> LineString<f64> {
        let mut angles: Vec<f64> = (0..n)
            .map(|_| rng.random_range(0.0..std::f64::consts::TAU))
            .collect();
        angles.sort_by(f64::total_cmp);
        let pts: Vec<GCoord<f64>> = angles
            .iter()
            .map(|a| {
                let rad = rng.random_range(r.0..r.1);
                let (mut x, mut y) = (cx + rad * a.cos(), cy + rad * a.sin());
                if let Some(s) = snap {
                    x = (x / s).round() * s;
                    y = (y / s).round() * s;
                }
                GCoord { x, y }
            })
            .collect();
        LineString::new(pts)
    }

    /// Random points over the box, the rings' vertices, edge midpoints and,
    /// with a lattice, lattice points (which land on vertices and axis-aligned edges).
    fn probes(
        rng: &mut ChaCha8Rng,
        poly: &Polygon<f64>,
        random: usize,
        snap: Option<f64>,
    ) -> Vec<(f64, f64)> {
        let rings: Vec<&LineString<f64>> = std::iter::once(poly.exterior())
            .chain(poly.interiors())
            .collect();
        let (mut x0, mut y0, mut x1, mut y1) = (
            f64::INFINITY,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NEG_INFINITY,
        );
        let mut pts = Vec::new();
        for ring in &rings {
            for w in ring.0.windows(2) {
                let (a, b) = (w[0], w[1]);
                pts.push((a.x, a.y));
                pts.push(((a.x + b.x) / 2.0, (a.y + b.y) / 2.0));
                x0 = x0.min(a.x);
                y0 = y0.min(a.y);
                x1 = x1.max(a.x);
                y1 = y1.max(a.y);
            }
        }
        let (dx, dy) = ((x1 - x0) * 0.1, (y1 - y0) * 0.1);
        for _ in 0..random {
            let mut x = rng.random_range(x0 - dx..x1 + dx);
            let mut y = rng.random_range(y0 - dy..y1 + dy);
            if let Some(s) = snap.filter(|_| rng.random_bool(0.5)) {
                x = (x / s).round() * s;
                y = (y / s).round() * s;
            }
            pts.push((x, y));
        }
        pts.extend([
            (x0 - 1e3, y0),
            (x1 + 1e3, y1),
            (x0, y0 - 1e3),
            (x0, y1 + 1e3),
            (x0, y0),
            (x1, y1),
        ]);
        pts.extend([(f64::NAN, y0), (x0, f64::INFINITY), (f64::NEG_INFINITY, y0)]);
        pts
    }

    #[test]
    fn random_polygons_with_holes_match_the_banded_routine() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let (mut fast, mut random_total) = (0, 0);
        for trial in 0..240 {
            let snap = match trial % 3 {
                0 => None,
                1 => Some(0.25),
                _ => Some(1.0),
            };
            let n = rng.random_range(32..400);
            let outer = star(&mut rng, 0.0, 0.0, (6.0, 20.0), n, snap);
            let holes: Vec<LineString<f64>> = (0..rng.random_range(0..4))
                .map(|k| {
                    let (cx, cy) = ([-3.0, 3.0, 0.0][k % 3], [0.0, 1.0, -3.0][k % 3]);
                    let m = rng.random_range(3..60);
                    star(&mut rng, cx, cy, (0.5, 2.5), m, snap)
                })
                .collect();
            let poly = if trial % 10 == 9 {
                // Self-intersecting: vertices in random order.
                let pts: Vec<(f64, f64)> = (0..n)
                    .map(|_| (rng.random_range(-10.0..10.0), rng.random_range(-10.0..10.0)))
                    .collect();
                Polygon::new(LineString::from(pts), holes)
            } else {
                Polygon::new(outer, holes)
            };
            let p = PreparedPolygon::new(&poly);
            assert!(
                p.grid_answer(0.0, 0.0).is_some(),
                "trial {trial}: a grid was built"
            );
            let pts = probes(&mut rng, &poly, 3000, snap);
            let random_fast = check(
                &p,
                &pts[pts.len() - 3009..pts.len() - 9],
                &format!("trial {trial}"),
            );
            check(&p, &pts, &format!("trial {trial}"));
            if snap.is_none() {
                fast += random_fast;
                random_total += 3000;
            }
        }
        // The grid must actually answer most generic points, or this test proves nothing.
        assert!(
            fast * 10 > random_total * 9,
            "grid answered {fast} of {random_total}"
        );
    }

    #[test]
    fn zhejiang_polygons_match_the_banded_routine() {
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let (mut parts, mut fast, mut random_total) = (0, 0, 0);
        for (i, polys) in zhejiang_polygons().iter().enumerate() {
            for poly in &polys.0 {
                let p = PreparedPolygon::new(poly);
                let random = (p.edge_count() / 4).clamp(20, 4000);
                let pts = probes(&mut rng, poly, random, None);
                let n = pts.len();
                let what = format!("feature {i}");
                fast += check(&p, &pts[n - 9 - random..n - 9], &what);
                check(&p, &pts, &what);
                if p.grid_answer(0.0, 0.0).is_some() {
                    random_total += random;
                }
                parts += 1;
            }
        }
        assert!(parts > 100, "{parts} parts");
        let through = VERTEX_PROBES.load(std::sync::atomic::Ordering::Relaxed);
        assert!(
            through > 1000,
            "only {through} walks through a vertex were probed"
        );
        assert!(
            fast * 10 > random_total * 9,
            "grid answered {fast} of {random_total}"
        );
    }
}
