//! Saddle removal: no region may touch itself at a single lattice vertex.
//!
//! At a vertex the four cells are, in this module's order, `q0` south-west,
//! `q1` south-east, `q2` north-west, `q3` north-east. A *pinch* at a level is a
//! diagonal pair with equal labels whose two other cells both differ from it
//! (`A x / y A`): the region's boundary would pass the vertex twice and its ring
//! would not be simple. With no pinch at any level (outside counting as a label)
//! every traced ring is simple and rings of one region never touch.

use super::city::{City, CITY};
use super::lattice::{NONE, PADDING};
use super::DemoError;
use std::collections::VecDeque;

/// Whether the four cells' labels pinch at any level.
fn pinched(q: &[[u32; 4]; 4]) -> bool {
    (0..4).any(|l| {
        let (a, b, c, d) = (q[0][l], q[1][l], q[2][l], q[3][l]);
        (a == d && b != a && c != a) || (b == c && a != b && d != b)
    })
}

/// Whether removing `cell` from its region at `level` keeps that region
/// connected locally (a "simple" cell): its same-region 8-neighbours form one
/// 4-connected run that touches an edge neighbour.
fn simple(city: &City, cell: usize, level: usize) -> bool {
    let nx = city.lat.nx as isize;
    // N, NE, E, SE, S, SW, W, NW: consecutive entries are edge neighbours.
    let offs = [nx, nx + 1, 1, 1 - nx, -nx, -nx - 1, -1, nx - 1];
    let own = city.label(cell, level);
    let inn = offs.map(|o| city.label((cell as isize + o) as usize, level) == own);
    if inn.iter().all(|&b| b) {
        return true;
    }
    let start = inn
        .iter()
        .position(|&b| !b)
        .expect("some neighbour differs");
    let mut runs = 0;
    let mut in_run = false;
    let mut run_has_edge = false;
    for k in 1..=8 {
        let p = (start + k) % 8;
        if inn[p] {
            in_run = true;
            run_has_edge |= p % 2 == 0;
        } else if in_run {
            runs += usize::from(run_has_edge);
            in_run = false;
            run_has_edge = false;
        }
    }
    runs == 1
}

/// Removes every pinch by giving single cells to a neighbouring block, preferring
/// changes that keep all regions connected. Returns the number of cells changed.
pub(crate) fn remove_saddles(city: &mut City) -> Result<usize, DemoError> {
    let nx = city.lat.nx;
    let nv = nx + 1;
    let corners = |v: usize| {
        let (i, j) = (v % nv, v / nv);
        [
            (j - 1) * nx + i - 1,
            (j - 1) * nx + i,
            j * nx + i - 1,
            j * nx + i,
        ]
    };
    let mut sizes = city.block_sizes();
    let mut queued = vec![false; nv * (city.lat.ny + 1)];
    let mut queue = VecDeque::new();
    for j in 1..city.lat.ny {
        for i in 1..nx {
            let v = j * nv + i;
            let q = corners(v).map(|c| city.block_labels(city.block[c]));
            if pinched(&q) {
                queued[v] = true;
                queue.push_back(v);
            }
        }
    }
    let mut changed = 0usize;
    let limit = 10 * city.lat.cells() + 1000;
    while let Some(v) = queue.pop_front() {
        queued[v] = false;
        let cells = corners(v);
        let q = cells.map(|c| city.block_labels(city.block[c]));
        if !pinched(&q) {
            continue;
        }
        // Candidates: a cell takes the block of one of its two neighbours in the square.
        const NEXT: [[usize; 2]; 4] = [[1, 2], [0, 3], [0, 3], [1, 2]];
        let mut best: Option<(u8, usize, u32)> = None;
        for k in 0..4 {
            for m in NEXT[k] {
                let (cell, to) = (cells[k], city.block[cells[m]]);
                let from = city.block[cell];
                if from == to || (to != NONE && city.lat.near_edge(cell, PADDING - 2)) {
                    continue;
                }
                let mut after = q;
                after[k] = city.block_labels(to);
                if pinched(&after) {
                    continue;
                }
                // Rank: 0 keeps every level connected, 1 keeps the city whole, 2 neither.
                let old = q[k];
                let losing = |l: usize| old[l] != NONE && old[l] != after[k][l];
                let all_simple = (0..4).all(|l| !losing(l) || simple(city, cell, l));
                let city_ok = !losing(CITY) || simple(city, cell, CITY);
                let emptied = from != NONE && sizes[from as usize] == 1;
                if emptied {
                    continue;
                }
                let rank = if all_simple {
                    0
                } else if city_ok {
                    1
                } else {
                    2
                };
                if best.is_none_or(|b| rank < b.0) {
                    best = Some((rank, cell, to));
                }
            }
        }
        let (_, cell, to) = best.ok_or_else(|| {
            DemoError::Construction(format!("no way to resolve the pinch at lattice vertex {v}"))
        })?;
        let from = city.block[cell];
        if from != NONE {
            sizes[from as usize] -= 1;
        }
        if to != NONE {
            sizes[to as usize] += 1;
        }
        city.block[cell] = to;
        changed += 1;
        if changed > limit {
            return Err(DemoError::Construction(
                "saddle removal does not converge".into(),
            ));
        }
        let (i, j) = (cell % nx, cell / nx);
        for w in [
            j * nv + i,
            j * nv + i + 1,
            (j + 1) * nv + i,
            (j + 1) * nv + i + 1,
        ] {
            if !queued[w] {
                queued[w] = true;
                queue.push_back(w);
            }
        }
    }
    Ok(changed)
}

/// Whether any vertex of the lattice pinches (used by tests and as a final check).
pub(crate) fn any_pinch(city: &City) -> bool {
    let nx = city.lat.nx;
    (1..city.lat.ny).any(|j| {
        (1..nx).any(|i| {
            let q = [
                (j - 1) * nx + i - 1,
                (j - 1) * nx + i,
                j * nx + i - 1,
                j * nx + i,
            ]
            .map(|c| city.block_labels(city.block[c]));
            pinched(&q)
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo::city::tests::city_from;

    #[test]
    fn checkerboard_pinches_are_removed() {
        // a and b meet diagonally; communities a,c = 0 and b,d = 1.
        let mut city = city_from(
            &["aabb", "aabb", "ccab", "ccdd"],
            vec![0, 1, 0, 1],
            vec![0, 0],
        );
        assert!(any_pinch(&city));
        let changed = remove_saddles(&mut city).unwrap();
        assert!(changed >= 1);
        assert!(!any_pinch(&city));
        loop {
            remove_saddles(&mut city).unwrap();
            if !city.repair_all().unwrap() {
                break;
            }
        }
        assert!(!any_pinch(&city));
        city.check_connected().unwrap();
    }

    #[test]
    fn outside_counts_as_a_label() {
        // A block touching the outside at one vertex of a notch.
        let mut city = city_from(&["aa.", "a.a", "aaa"], vec![0], vec![0]);
        assert!(any_pinch(&city));
        remove_saddles(&mut city).unwrap();
        assert!(!any_pinch(&city));
        city.check_connected().unwrap();
    }

    #[test]
    fn simple_cells() {
        let centre = |city: &City| city.lat.cell_at(5.5, 5.5).unwrap();
        // Removing b's only cell would empty b.
        let city = city_from(&["aaa", "aba", "aaa"], vec![0, 0], vec![0]);
        assert!(!simple(&city, centre(&city), 0));
        // A cell inside a solid area is simple.
        let city = city_from(&["aaa", "aaa", "aab"], vec![0, 0], vec![0]);
        assert!(simple(&city, centre(&city), 0));
        // The middle of a one-wide bar is not: removing it splits the bar.
        let city = city_from(&[".a.", ".a.", ".a."], vec![0], vec![0]);
        assert!(!simple(&city, centre(&city), 0));
        assert!(!simple(&city, centre(&city), CITY));
    }
}
