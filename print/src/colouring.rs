//! Fill colours for the blocks of a map: neighbours along a border never
//! share one, at most [`MAX_COLOURS`] are used, and the colours are balanced
//! by area so that no colour dominates the board.
//!
//! DSatur (most-constrained block first) picks each colour, preferring one
//! that no corner-neighbour has and then the one covering the least area so
//! far; if it paints itself into a corner, an exhaustive search in the same
//! order finds a proper colouring. A local search then moves single blocks
//! to other legal colours while that evens out the areas or removes a
//! corner clash. Everything is ordered, so the result is deterministic.

use crate::adjacency::Adjacency;

/// The palette size: four suffice for any map by the four-colour theorem;
/// the fifth leaves room to balance the areas and to separate corners.
pub const MAX_COLOURS: usize = 5;

/// Cost of one corner contact between equal colours, in units of the total area.
const CORNER_CLASH: f64 = 4.0;

/// A colour index `0..MAX_COLOURS` per block.
pub fn colour(adj: &Adjacency, areas: &[f64]) -> Vec<usize> {
    let n = areas.len();
    assert_eq!(adj.border.len(), n, "one adjacency row per block");
    let total: f64 = areas.iter().sum::<f64>().max(f64::MIN_POSITIVE);
    let weights: Vec<f64> = areas.iter().map(|a| a / total).collect();
    let mut colours = greedy(adj, &weights).unwrap_or_else(|| exhaustive(adj));
    improve(adj, &weights, &mut colours);
    colours
}

/// DSatur; `None` when some block is left without a legal colour.
fn greedy(adj: &Adjacency, weights: &[f64]) -> Option<Vec<usize>> {
    let n = weights.len();
    let mut colours: Vec<Option<usize>> = vec![None; n];
    let mut load = [0.0f64; MAX_COLOURS];
    for _ in 0..n {
        let next = (0..n).filter(|&i| colours[i].is_none()).max_by(|&a, &b| {
            let key = |i: usize| (saturation(adj, &colours, i), adj.border[i].len());
            key(a)
                .cmp(&key(b))
                .then(weights[a].total_cmp(&weights[b]))
                .then(b.cmp(&a))
        })?;
        let best = (0..MAX_COLOURS)
            .filter(|&c| adj.border[next].iter().all(|&j| colours[j] != Some(c)))
            .min_by(|&a, &b| {
                let cost = |c: usize| {
                    let clashes = adj.corner[next]
                        .iter()
                        .filter(|&&j| colours[j] == Some(c))
                        .count();
                    clashes as f64 * CORNER_CLASH + load[c]
                };
                cost(a).total_cmp(&cost(b)).then(a.cmp(&b))
            })?;
        colours[next] = Some(best);
        load[best] += weights[next];
    }
    colours.into_iter().collect()
}

/// Distinct colours among a block's coloured border neighbours.
fn saturation(adj: &Adjacency, colours: &[Option<usize>], i: usize) -> usize {
    let mut seen = [false; MAX_COLOURS];
    for &j in &adj.border[i] {
        if let Some(c) = colours[j] {
            seen[c] = true;
        }
    }
    seen.iter().filter(|&&s| s).count()
}

/// Backtracking over the blocks in decreasing degree; a planar map always
/// has a 4-colouring, so with five this ends quickly.
fn exhaustive(adj: &Adjacency) -> Vec<usize> {
    let n = adj.border.len();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by_key(|&i| (std::cmp::Reverse(adj.border[i].len()), i));
    let mut colours = vec![usize::MAX; n];
    fn go(adj: &Adjacency, order: &[usize], k: usize, colours: &mut [usize]) -> bool {
        let Some(&i) = order.get(k) else {
            return true;
        };
        for c in 0..MAX_COLOURS {
            if adj.border[i].iter().all(|&j| colours[j] != c) {
                colours[i] = c;
                if go(adj, order, k + 1, colours) {
                    return true;
                }
            }
        }
        colours[i] = usize::MAX;
        false
    }
    if go(adj, &order, 0, &mut colours) {
        colours
    } else {
        // Only a non-planar contact graph (bad data) gets here: fall back to
        // distinct colours modulo the palette rather than refusing to print.
        (0..n).map(|i| i % MAX_COLOURS).collect()
    }
}

/// Moves single blocks to legal colours while that lowers corner clashes
/// plus the spread of the colours' areas (sum of squares).
fn improve(adj: &Adjacency, weights: &[f64], colours: &mut [usize]) {
    let n = weights.len();
    let mut load = [0.0f64; MAX_COLOURS];
    for i in 0..n {
        load[colours[i]] += weights[i];
    }
    for _pass in 0..50 {
        let mut moved = false;
        for i in 0..n {
            let from = colours[i];
            let clashes = |c: usize| {
                adj.corner[i].iter().filter(|&&j| colours[j] == c).count() as f64 * CORNER_CLASH
            };
            let base = clashes(from);
            let mut best = (0.0, from);
            for to in 0..MAX_COLOURS {
                if to == from || adj.border[i].iter().any(|&j| colours[j] == to) {
                    continue;
                }
                let w = weights[i];
                // Change in Σ load² when w moves from `from` to `to`.
                let spread = (load[to] + w).powi(2) + (load[from] - w).powi(2)
                    - load[to].powi(2)
                    - load[from].powi(2);
                let delta = clashes(to) - base + spread;
                if delta < best.0 - 1e-12 {
                    best = (delta, to);
                }
            }
            if best.1 != from {
                load[from] -= weights[i];
                load[best.1] += weights[i];
                colours[i] = best.1;
                moved = true;
            }
        }
        if !moved {
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wheel(spokes: usize) -> Adjacency {
        // Hub 0 bordering every rim block; rim blocks border their two neighbours.
        let n = spokes + 1;
        let mut border = vec![Vec::new(); n];
        for k in 1..n {
            let next = if k == spokes { 1 } else { k + 1 };
            for (a, b) in [(0, k), (k, next)] {
                border[a].push(b);
                border[b].push(a);
            }
        }
        for b in &mut border {
            b.sort_unstable();
            b.dedup();
        }
        Adjacency {
            border,
            corner: vec![Vec::new(); n],
        }
    }

    #[test]
    fn an_odd_wheel_needs_four_colours_and_gets_a_proper_colouring() {
        let adj = wheel(7);
        let colours = colour(&adj, &[1.0; 8]);
        for (i, row) in adj.border.iter().enumerate() {
            for &j in row {
                assert_ne!(colours[i], colours[j], "{i} and {j}");
            }
        }
        assert!(colours.iter().all(|&c| c < MAX_COLOURS));
    }

    #[test]
    fn equal_isolated_blocks_spread_over_the_palette() {
        let adj = Adjacency {
            border: vec![Vec::new(); 10],
            corner: vec![Vec::new(); 10],
        };
        let colours = colour(&adj, &[1.0; 10]);
        for c in 0..MAX_COLOURS {
            assert_eq!(
                colours.iter().filter(|&&x| x == c).count(),
                2,
                "{colours:?}"
            );
        }
    }

    #[test]
    fn exhaustive_search_colours_what_greedy_might_not() {
        let adj = wheel(9);
        let colours = exhaustive(&adj);
        for (i, row) in adj.border.iter().enumerate() {
            assert!(row.iter().all(|&j| colours[i] != colours[j]));
        }
    }
}
