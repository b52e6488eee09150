//! Block seeds and the nearest-seed assignment of cells (a warped Voronoi diagram).

use super::lattice::{Lattice, NONE};
use super::noise::Warp;
use super::DemoError;
use crate::progress::Progress;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Picks exactly `blocks` distinct inside cells as block seeds, by stratified
/// jitter (one candidate per square stratum) so blocks come out of similar size.
/// Returns the seed cells and the stratum spacing (≈ block diameter, metres).
pub(crate) fn place_seeds(
    lat: &Lattice,
    mask: &[bool],
    blocks: usize,
    seed: u64,
) -> Result<(Vec<usize>, f64), DemoError> {
    let inside = mask.iter().filter(|&&m| m).count();
    let area = inside as f64 * lat.cell * lat.cell;
    let width = lat.nx as f64 * lat.cell;
    let height = lat.ny as f64 * lat.cell;
    let candidates = |spacing: f64| {
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5EED_5EED);
        let mut cells = Vec::new();
        let (sx, sy) = (
            (width / spacing).ceil() as usize,
            (height / spacing).ceil() as usize,
        );
        for a in 0..sy {
            for b in 0..sx {
                // Jitter within the middle 70% keeps neighbouring seeds apart.
                let x = lat.x0 + (b as f64 + 0.15 + 0.7 * rng.random::<f64>()) * spacing;
                let y = lat.y0 + (a as f64 + 0.15 + 0.7 * rng.random::<f64>()) * spacing;
                if let Some(c) = lat.cell_at(x, y) {
                    if mask[c] {
                        cells.push(c);
                    }
                }
            }
        }
        cells.sort_unstable();
        cells.dedup();
        cells
    };
    let mut spacing = (area / blocks as f64).sqrt();
    let mut best: Option<(Vec<usize>, f64)> = None;
    let slack = (blocks / 100).max(2);
    for _ in 0..60 {
        let cells = candidates(spacing);
        let n = cells.len();
        if n >= blocks && best.as_ref().is_none_or(|(b, _)| n < b.len()) {
            best = Some((cells, spacing));
        }
        if n >= blocks && n <= blocks + slack {
            break;
        }
        // Aim slightly above the target so the last step lands on the safe side.
        spacing *= (n.max(1) as f64 / (blocks + slack / 2) as f64).sqrt();
    }
    let (mut cells, spacing) = best.ok_or_else(|| {
        DemoError::Construction(format!(
            "cannot place {blocks} block seeds in {inside} city cells"
        ))
    })?;
    if cells.len() > blocks {
        // Drop the surplus at random, then restore spatial order.
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0xD0D0);
        let extra = cells.len() - blocks;
        let len = cells.len();
        cells.partial_shuffle(&mut rng, extra);
        // partial_shuffle moves the chosen ones to the front.
        cells.drain(..extra);
        debug_assert_eq!(cells.len(), len - extra);
        cells.sort_unstable();
    }
    Ok((cells, spacing))
}

/// A uniform bucket grid over seed keys for nearest-neighbour queries.
struct SeedHash {
    x0: f64,
    y0: f64,
    size: f64,
    nx: usize,
    ny: usize,
    start: Vec<u32>,
    items: Vec<u32>,
    keys: Vec<(f64, f64)>,
}

impl SeedHash {
    fn new(keys: Vec<(f64, f64)>, x0: f64, y0: f64, x1: f64, y1: f64, size: f64) -> Self {
        let nx = ((x1 - x0) / size).ceil() as usize + 1;
        let ny = ((y1 - y0) / size).ceil() as usize + 1;
        let bucket = |&(x, y): &(f64, f64)| {
            let bx = (((x - x0) / size).max(0.0) as usize).min(nx - 1);
            let by = (((y - y0) / size).max(0.0) as usize).min(ny - 1);
            by * nx + bx
        };
        let mut count = vec![0u32; nx * ny + 1];
        for k in &keys {
            count[bucket(k) + 1] += 1;
        }
        for b in 1..count.len() {
            count[b] += count[b - 1];
        }
        let mut fill = count.clone();
        let mut items = vec![0u32; keys.len()];
        for (s, k) in keys.iter().enumerate() {
            let b = bucket(k);
            items[fill[b] as usize] = s as u32;
            fill[b] += 1;
        }
        Self {
            x0,
            y0,
            size,
            nx,
            ny,
            start: count,
            items,
            keys,
        }
    }

    /// Index of the nearest key; ties go to the lower index.
    fn nearest(&self, x: f64, y: f64) -> u32 {
        let bx = (((x - self.x0) / self.size).max(0.0) as usize).min(self.nx - 1) as i64;
        let by = (((y - self.y0) / self.size).max(0.0) as usize).min(self.ny - 1) as i64;
        let mut best = (f64::MAX, u32::MAX);
        let rmax = self.nx.max(self.ny) as i64;
        for r in 0..=rmax {
            for j in (by - r).max(0)..=(by + r).min(self.ny as i64 - 1) {
                let ring_row = j == by - r || j == by + r;
                let cols: &mut dyn Iterator<Item = i64> = if ring_row {
                    &mut ((bx - r).max(0)..=(bx + r).min(self.nx as i64 - 1))
                } else {
                    // Inside rows of the ring only the two end buckets are new.
                    &mut [bx - r, bx + r]
                        .into_iter()
                        .filter(|&i| i >= 0 && i < self.nx as i64)
                };
                for i in cols {
                    let b = j as usize * self.nx + i as usize;
                    for &s in &self.items[self.start[b] as usize..self.start[b + 1] as usize] {
                        let (kx, ky) = self.keys[s as usize];
                        let d = (kx - x) * (kx - x) + (ky - y) * (ky - y);
                        if d < best.0 || (d == best.0 && s < best.1) {
                            best = (d, s);
                        }
                    }
                }
            }
            // Keys beyond ring r are at least r bucket sizes away (the query lies inside the grid).
            let reach = r as f64 * self.size;
            if best.1 != u32::MAX && best.0 <= reach * reach {
                break;
            }
        }
        best.1
    }
}

/// Assigns every inside cell to the seed nearest to its warped centre. Seeds are
/// keyed by their own warped centre, so every seed cell keeps its own block.
/// Advances `progress` by one step per lattice row (the caller starts the stage).
pub(crate) fn assign_cells(
    lat: &Lattice,
    mask: &[bool],
    seeds: &[usize],
    warp: &Warp,
    progress: &dyn Progress,
) -> Vec<u32> {
    let keys: Vec<(f64, f64)> = seeds
        .iter()
        .map(|&c| {
            let (x, y) = lat.centre(c);
            warp.apply(x, y)
        })
        .collect();
    let margin = warp.max_displacement() + lat.cell;
    let spacing = (lat.cells() as f64 / seeds.len().max(1) as f64).sqrt() * lat.cell;
    let hash = SeedHash::new(
        keys,
        lat.x0 - margin,
        lat.y0 - margin,
        lat.x0 + lat.nx as f64 * lat.cell + margin,
        lat.y0 + lat.ny as f64 * lat.cell + margin,
        spacing.max(lat.cell),
    );
    let mut labels = vec![NONE; lat.cells()];
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 8);
    let rows_per = lat.ny.div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        for (t, chunk) in labels.chunks_mut(rows_per * lat.nx).enumerate() {
            let hash = &hash;
            scope.spawn(move || {
                let first = t * rows_per * lat.nx;
                for (row_k, row) in chunk.chunks_mut(lat.nx).enumerate() {
                    for (i, label) in row.iter_mut().enumerate() {
                        let idx = first + row_k * lat.nx + i;
                        if mask[idx] {
                            let (x, y) = lat.centre(idx);
                            let (wx, wy) = warp.apply(x, y);
                            *label = hash.nearest(wx, wy);
                        }
                    }
                    progress.advance(1);
                }
            });
        }
    });
    labels
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::progress::NoProgress;

    #[test]
    fn nearest_matches_brute_force() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let keys: Vec<(f64, f64)> = (0..300)
            .map(|_| (rng.random::<f64>() * 100.0, rng.random::<f64>() * 60.0))
            .collect();
        let hash = SeedHash::new(keys.clone(), -10.0, -10.0, 110.0, 70.0, 7.0);
        for _ in 0..2000 {
            let (x, y) = (
                rng.random::<f64>() * 120.0 - 10.0,
                rng.random::<f64>() * 80.0 - 10.0,
            );
            let brute = (0..keys.len())
                .min_by(|&a, &b| {
                    let da = (keys[a].0 - x).powi(2) + (keys[a].1 - y).powi(2);
                    let db = (keys[b].0 - x).powi(2) + (keys[b].1 - y).powi(2);
                    da.total_cmp(&db).then(a.cmp(&b))
                })
                .unwrap();
            assert_eq!(hash.nearest(x, y) as usize, brute);
        }
    }

    #[test]
    fn seeds_are_exact_in_number_and_keep_their_cells() {
        let lat = Lattice {
            nx: 120,
            ny: 80,
            x0: 0.0,
            y0: 0.0,
            cell: 10.0,
        };
        let mask: Vec<bool> = (0..lat.cells()).map(|c| !lat.near_edge(c, 4)).collect();
        let (seeds, spacing) = place_seeds(&lat, &mask, 57, 9).unwrap();
        assert_eq!(seeds.len(), 57);
        assert!(spacing > 0.0 && seeds.windows(2).all(|w| w[0] < w[1]));
        let warp = Warp::new(9, 0.3 * spacing, 2.5 * spacing);
        let labels = assign_cells(&lat, &mask, &seeds, &warp, &NoProgress);
        for (k, &c) in seeds.iter().enumerate() {
            assert_eq!(labels[c], k as u32);
        }
        assert!(labels.iter().zip(&mask).all(|(&l, &m)| (l != NONE) == m));
    }
}
