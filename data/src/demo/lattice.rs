//! The square-cell lattice the demo city is painted on.
//!
//! Cell `(i, j)` spans lattice vertices `(i, j)`–`(i + 1, j + 1)`; `j` grows to
//! the north. Cell index = `j * nx + i`, vertex id = `j * (nx + 1) + i`.

use super::outline::Rings;
use crate::progress::Progress;

/// Label of a cell outside the city.
pub(crate) const NONE: u32 = u32::MAX;
/// Rings of outside cells around the city, so neighbour lookups never leave the lattice.
pub(crate) const PADDING: usize = 4;

/// Geometry of the lattice in plane metres.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Lattice {
    pub nx: usize,
    pub ny: usize,
    pub x0: f64,
    pub y0: f64,
    pub cell: f64,
}

impl Lattice {
    /// A lattice of `cell`-metre squares covering the rings' bounding box plus padding.
    pub(crate) fn covering(rings: &Rings, cell: f64) -> Self {
        let (mut xmin, mut ymin, mut xmax, mut ymax) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
        for &(x, y) in rings.iter().flatten().flatten() {
            xmin = xmin.min(x);
            ymin = ymin.min(y);
            xmax = xmax.max(x);
            ymax = ymax.max(y);
        }
        let pad = PADDING as f64 * cell;
        let nx = ((xmax - xmin) / cell).ceil() as usize + 2 * PADDING;
        let ny = ((ymax - ymin) / cell).ceil() as usize + 2 * PADDING;
        Self {
            nx,
            ny,
            x0: xmin - pad,
            y0: ymin - pad,
            cell,
        }
    }

    pub(crate) fn cells(&self) -> usize {
        self.nx * self.ny
    }

    /// Centre of cell `idx` in plane metres.
    pub(crate) fn centre(&self, idx: usize) -> (f64, f64) {
        let (i, j) = (idx % self.nx, idx / self.nx);
        (
            self.x0 + (i as f64 + 0.5) * self.cell,
            self.y0 + (j as f64 + 0.5) * self.cell,
        )
    }

    /// Index of the cell containing a plane point, if it is on the lattice.
    pub(crate) fn cell_at(&self, x: f64, y: f64) -> Option<usize> {
        let (fi, fj) = ((x - self.x0) / self.cell, (y - self.y0) / self.cell);
        if fi < 0.0 || fj < 0.0 {
            return None;
        }
        let (i, j) = (fi as usize, fj as usize);
        (i < self.nx && j < self.ny).then_some(j * self.nx + i)
    }

    /// Whether a cell lies in the outer padding rings (`margin` cells wide).
    pub(crate) fn near_edge(&self, idx: usize, margin: usize) -> bool {
        let (i, j) = (idx % self.nx, idx / self.nx);
        i < margin || j < margin || i + margin >= self.nx || j + margin >= self.ny
    }

    /// Cells whose centre lies inside the rings (even–odd rule), row by row.
    pub(crate) fn rasterize(&self, rings: &Rings, progress: &dyn Progress) -> Vec<bool> {
        progress.start("lattice", self.ny as u64);
        let mut mask = vec![false; self.cells()];
        let mut xs = Vec::new();
        for j in 0..self.ny {
            let yc = self.y0 + (j as f64 + 0.5) * self.cell;
            xs.clear();
            for ring in rings.iter().flatten() {
                let n = ring.len();
                for k in 0..n {
                    let (a, b) = (ring[k], ring[(k + 1) % n]);
                    // Half-open rule: a vertex on the scan line counts once.
                    if (a.1 <= yc) != (b.1 <= yc) {
                        xs.push(a.0 + (yc - a.1) * (b.0 - a.0) / (b.1 - a.1));
                    }
                }
            }
            xs.sort_by(f64::total_cmp);
            for pair in xs.chunks_exact(2) {
                // Cells whose centre x lies in [pair[0], pair[1]).
                let first = ((pair[0] - self.x0) / self.cell - 0.5).ceil().max(0.0) as usize;
                let last = ((pair[1] - self.x0) / self.cell - 0.5).ceil().max(0.0) as usize;
                for i in first..last.min(self.nx) {
                    mask[j * self.nx + i] = true;
                }
            }
            progress.advance(1);
        }
        progress.finish();
        mask
    }

    /// The four edge neighbours of an interior cell (N, E, S, W).
    pub(crate) fn neighbours4(&self, idx: usize) -> [usize; 4] {
        [idx + self.nx, idx + 1, idx - self.nx, idx - 1]
    }
}

/// Labels the 4-connected components of cells for which `same(a, b)` holds
/// between neighbours and `member(c)` holds; returns (component per cell, sizes).
/// Components are numbered in order of their lowest cell index.
pub(crate) fn components(
    lat: &Lattice,
    member: impl Fn(usize) -> bool,
    same: impl Fn(usize, usize) -> bool,
) -> (Vec<u32>, Vec<usize>) {
    let mut comp = vec![NONE; lat.cells()];
    let mut sizes = Vec::new();
    let mut stack = Vec::new();
    for start in 0..lat.cells() {
        if comp[start] != NONE || !member(start) {
            continue;
        }
        let id = sizes.len() as u32;
        comp[start] = id;
        stack.push(start);
        let mut size = 0;
        while let Some(c) = stack.pop() {
            size += 1;
            for n in lat.neighbours4(c) {
                if comp[n] == NONE && member(n) && same(c, n) {
                    comp[n] = id;
                    stack.push(n);
                }
            }
        }
        sizes.push(size);
    }
    (comp, sizes)
}

/// Keeps only the largest 4-connected component of the mask (slivers cut off by
/// the lattice would make streets or blocks that are not contiguous).
pub(crate) fn keep_largest_component(lat: &Lattice, mask: &mut [bool]) {
    let (comp, sizes) = components(lat, |c| mask[c], |_, _| true);
    let Some(best) = (0..sizes.len()).max_by_key(|&k| (sizes[k], std::cmp::Reverse(k))) else {
        return;
    };
    for (m, c) in mask.iter_mut().zip(&comp) {
        *m = *c == best as u32;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::progress::NoProgress;

    fn square(x0: f64, y0: f64, s: f64) -> Vec<(f64, f64)> {
        vec![(x0, y0), (x0 + s, y0), (x0 + s, y0 + s), (x0, y0 + s)]
    }

    #[test]
    fn rasterize_square_with_hole() {
        let rings: Rings = vec![vec![square(0.0, 0.0, 10.0), square(4.0, 4.0, 2.0)]];
        let lat = Lattice::covering(&rings, 1.0);
        let mask = lat.rasterize(&rings, &NoProgress);
        assert_eq!(mask.iter().filter(|&&m| m).count(), 100 - 4);
        let c = lat.cell_at(4.5, 4.5).unwrap();
        assert!(!mask[c]);
        assert!(mask[lat.cell_at(0.5, 0.5).unwrap()]);
        assert!(!mask[lat.cell_at(-0.5, 0.5).unwrap()]);
        assert!(!lat.near_edge(lat.cell_at(0.5, 0.5).unwrap(), PADDING));
    }

    #[test]
    fn largest_component_survives() {
        let rings: Rings = vec![vec![square(0.0, 0.0, 5.0)], vec![square(7.0, 0.0, 2.0)]];
        let lat = Lattice::covering(&rings, 1.0);
        let mut mask = lat.rasterize(&rings, &NoProgress);
        assert_eq!(mask.iter().filter(|&&m| m).count(), 29);
        keep_largest_component(&lat, &mut mask);
        assert_eq!(mask.iter().filter(|&&m| m).count(), 25);
        assert!(!mask[lat.cell_at(7.5, 0.5).unwrap()]);
    }
}
