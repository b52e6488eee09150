//! The painted city: a block label per cell and the block → community → street
//! tree, plus the repairs that keep every region 4-connected.

use super::lattice::{components, Lattice, NONE};
use super::DemoError;

/// Levels of the tree, finest first; `CITY` is inside-vs-outside.
pub(crate) const BLOCK: usize = 0;
pub(crate) const COMMUNITY: usize = 1;
pub(crate) const STREET: usize = 2;
pub(crate) const CITY: usize = 3;

#[derive(Debug, Clone)]
pub(crate) struct City {
    pub lat: Lattice,
    /// Block of each cell, `NONE` outside.
    pub block: Vec<u32>,
    pub block_comm: Vec<u32>,
    pub comm_street: Vec<u32>,
    pub n_streets: usize,
}

impl City {
    pub(crate) fn n_blocks(&self) -> usize {
        self.block_comm.len()
    }

    pub(crate) fn n_comms(&self) -> usize {
        self.comm_street.len()
    }

    /// Labels of a block at every level (`NONE` everywhere for outside).
    #[inline]
    pub(crate) fn block_labels(&self, b: u32) -> [u32; 4] {
        if b == NONE {
            return [NONE; 4];
        }
        let c = self.block_comm[b as usize];
        [b, c, self.comm_street[c as usize], 0]
    }

    /// Label of a cell at one level.
    #[inline]
    pub(crate) fn label(&self, cell: usize, level: usize) -> u32 {
        self.block_labels(self.block[cell])[level]
    }

    /// Number of regions at a level.
    pub(crate) fn regions(&self, level: usize) -> usize {
        match level {
            BLOCK => self.n_blocks(),
            COMMUNITY => self.n_comms(),
            STREET => self.n_streets,
            _ => 1,
        }
    }

    /// Cell count of every block.
    pub(crate) fn block_sizes(&self) -> Vec<usize> {
        let mut sizes = vec![0; self.n_blocks()];
        for &b in &self.block {
            if b != NONE {
                sizes[b as usize] += 1;
            }
        }
        sizes
    }

    /// Mean cell centre of every block, plane metres.
    pub(crate) fn block_centroids(&self) -> Vec<(f64, f64)> {
        let mut sum = vec![(0.0, 0.0, 0usize); self.n_blocks()];
        for (c, &b) in self.block.iter().enumerate() {
            if b != NONE {
                let (x, y) = self.lat.centre(c);
                let s = &mut sum[b as usize];
                s.0 += x;
                s.1 += y;
                s.2 += 1;
            }
        }
        sum.into_iter()
            .map(|(x, y, n)| (x / n.max(1) as f64, y / n.max(1) as f64))
            .collect()
    }

    /// Pairs of blocks sharing at least one cell edge, as adjacency lists (sorted).
    pub(crate) fn block_adjacency(&self) -> Vec<Vec<u32>> {
        let nx = self.lat.nx;
        let mut pairs = Vec::new();
        for c in 0..self.lat.cells() - nx - 1 {
            let a = self.block[c];
            if a == NONE {
                continue;
            }
            for n in [c + 1, c + nx] {
                let b = self.block[n];
                if b != NONE && b != a {
                    pairs.push(((a.min(b) as u64) << 32) | a.max(b) as u64);
                }
            }
        }
        pairs.sort_unstable();
        pairs.dedup();
        let mut adj = vec![Vec::new(); self.n_blocks()];
        for p in pairs {
            let (a, b) = ((p >> 32) as u32, p as u32);
            adj[a as usize].push(b);
            adj[b as usize].push(a);
        }
        for list in &mut adj {
            list.sort_unstable();
        }
        adj
    }

    /// Makes every block's cells 4-connected: cells outside a block's largest
    /// component go to neighbouring blocks, preferably of the same community
    /// (so community outlines do not change). Returns the number of cells moved.
    pub(crate) fn repair_blocks(&mut self) -> usize {
        let lat = self.lat;
        let block = &self.block;
        let (comp, sizes) = components(&lat, |c| block[c] != NONE, |a, b| block[a] == block[b]);
        let mut main = vec![NONE; self.n_blocks()];
        for (c, &b) in self.block.iter().enumerate() {
            if b == NONE {
                continue;
            }
            let k = comp[c];
            let m = &mut main[b as usize];
            if *m == NONE || sizes[k as usize] > sizes[*m as usize] {
                *m = k;
            }
        }
        let loose: Vec<usize> = (0..lat.cells())
            .filter(|&c| self.block[c] != NONE && comp[c] != main[self.block[c] as usize])
            .collect();
        if loose.is_empty() {
            return 0;
        }
        let orig_comm: Vec<u32> = loose
            .iter()
            .map(|&c| self.block_comm[self.block[c] as usize])
            .collect();
        let mut settled = vec![true; lat.cells()];
        for &c in &loose {
            settled[c] = false;
        }
        let mut open: Vec<usize> = (0..loose.len()).collect();
        for same_community in [true, false] {
            loop {
                let mut progressed = false;
                open.retain(|&k| {
                    let c = loose[k];
                    let take = lat.neighbours4(c).into_iter().find(|&n| {
                        settled[n]
                            && self.block[n] != NONE
                            && (!same_community
                                || self.block_comm[self.block[n] as usize] == orig_comm[k])
                    });
                    match take {
                        Some(n) => {
                            self.block[c] = self.block[n];
                            settled[c] = true;
                            progressed = true;
                            false
                        }
                        None => true,
                    }
                });
                if !progressed {
                    break;
                }
            }
        }
        // Whatever is left touches no other city cell: an island, dropped from the city.
        for &k in &open {
            self.block[loose[k]] = NONE;
        }
        loose.len()
    }

    /// Repairs connectivity at every level, finest first; returns whether anything moved.
    pub(crate) fn repair_all(&mut self) -> Result<bool, DemoError> {
        let moved_cells = self.repair_blocks();
        let adj = self.block_adjacency();
        let weights = self.block_sizes();
        let streets_of_comms = self.comm_street.clone();
        let moved_blocks = repair_groups(
            &adj,
            &weights,
            &mut self.block_comm,
            Some(&streets_of_comms),
            "community",
        )?;
        let (comm_adj, comm_w) = self.community_graph(&adj, &weights);
        let moved_comms = repair_groups(&comm_adj, &comm_w, &mut self.comm_street, None, "street")?;
        Ok(moved_cells + moved_blocks + moved_comms > 0)
    }

    /// Adjacency and cell counts of communities, derived from the block graph.
    pub(crate) fn community_graph(
        &self,
        adj: &[Vec<u32>],
        weights: &[usize],
    ) -> (Vec<Vec<u32>>, Vec<usize>) {
        let mut comm_adj = vec![Vec::new(); self.n_comms()];
        let mut w = vec![0; self.n_comms()];
        for (b, list) in adj.iter().enumerate() {
            let cb = self.block_comm[b];
            w[cb as usize] += weights[b];
            for &n in list {
                let cn = self.block_comm[n as usize];
                if cn != cb {
                    comm_adj[cb as usize].push(cn);
                }
            }
        }
        for list in &mut comm_adj {
            list.sort_unstable();
            list.dedup();
        }
        (comm_adj, w)
    }

    /// Checks the invariants the tracer relies on: every region non-empty and 4-connected.
    pub(crate) fn check_connected(&self) -> Result<(), DemoError> {
        for level in [BLOCK, COMMUNITY, STREET] {
            let (comp, sizes) = components(
                &self.lat,
                |c| self.block[c] != NONE,
                |a, b| self.label(a, level) == self.label(b, level),
            );
            let mut seen = vec![NONE; self.regions(level)];
            for (c, &k) in comp.iter().enumerate() {
                if k == NONE {
                    continue;
                }
                let r = self.label(c, level) as usize;
                if seen[r] == NONE {
                    seen[r] = k;
                } else if seen[r] != k {
                    return Err(DemoError::Construction(format!(
                        "level {level} region {r} is not contiguous"
                    )));
                }
            }
            if let Some(r) = seen.iter().position(|&k| k == NONE) {
                return Err(DemoError::Construction(format!(
                    "level {level} region {r} is empty"
                )));
            }
            debug_assert_eq!(sizes.len(), self.regions(level));
        }
        Ok(())
    }
}

/// Makes every group (community or street) a connected set of units (blocks or
/// communities) in the unit graph `adj`: each group keeps its heaviest component,
/// other components join the neighbouring group they share most edges with,
/// preferring groups with the same parent. Returns the number of units moved.
pub(crate) fn repair_groups(
    adj: &[Vec<u32>],
    weights: &[usize],
    group: &mut [u32],
    group_parent: Option<&[u32]>,
    what: &str,
) -> Result<usize, DemoError> {
    let n = adj.len();
    let mut moved = 0;
    for _round in 0..50 {
        let mut comp = vec![NONE; n];
        let mut comp_weight = Vec::new();
        let mut comp_group = Vec::new();
        let mut stack = Vec::new();
        for s in 0..n {
            if comp[s] != NONE {
                continue;
            }
            let id = comp_weight.len() as u32;
            comp[s] = id;
            stack.push(s);
            let mut w = 0;
            while let Some(u) = stack.pop() {
                w += weights[u];
                for &v in &adj[u] {
                    let v = v as usize;
                    if comp[v] == NONE && group[v] == group[u] {
                        comp[v] = id;
                        stack.push(v);
                    }
                }
            }
            comp_weight.push(w);
            comp_group.push(group[s]);
        }
        let n_groups = group.iter().map(|&g| g as usize + 1).max().unwrap_or(0);
        let mut main = vec![NONE; n_groups];
        for (k, &g) in comp_group.iter().enumerate() {
            let m = &mut main[g as usize];
            if *m == NONE || comp_weight[k] > comp_weight[*m as usize] {
                *m = k as u32;
            }
        }
        let strays: Vec<u32> = (0..comp_weight.len() as u32)
            .filter(|&k| main[comp_group[k as usize] as usize] != k)
            .collect();
        if strays.is_empty() {
            return Ok(moved);
        }
        let mut members_of = vec![Vec::new(); comp_weight.len()];
        for (u, &k) in comp.iter().enumerate() {
            if main[comp_group[k as usize] as usize] != k {
                members_of[k as usize].push(u);
            }
        }
        let mut moved_now = 0;
        for k in strays {
            let own = comp_group[k as usize];
            let members = std::mem::take(&mut members_of[k as usize]);
            // Score neighbouring groups: same parent first, then shared edges.
            let mut score: Vec<(u32, usize)> = Vec::new();
            for &u in &members {
                for &v in &adj[u] {
                    let g = group[v as usize];
                    if g != own {
                        match score.iter_mut().find(|(h, _)| *h == g) {
                            Some(s) => s.1 += 1,
                            None => score.push((g, 1)),
                        }
                    }
                }
            }
            let same_parent =
                |g: u32| group_parent.is_some_and(|p| p[g as usize] == p[own as usize]);
            // A stray whose neighbours all joined its own group this round is fixed already.
            let Some(target) = score
                .iter()
                .max_by_key(|&&(g, e)| (same_parent(g), e, std::cmp::Reverse(g)))
                .map(|&(g, _)| g)
            else {
                continue;
            };
            for &u in &members {
                group[u] = target;
            }
            moved_now += members.len();
        }
        if moved_now == 0 {
            return Err(DemoError::Construction(format!(
                "a part of a {what} touches no other {what}"
            )));
        }
        moved += moved_now;
    }
    Err(DemoError::Construction(format!(
        "{what} connectivity repair did not converge"
    )))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A 6×4 inside area (plus padding) from a string of block letters, top row first.
    pub(crate) fn city_from(rows: &[&str], block_comm: Vec<u32>, comm_street: Vec<u32>) -> City {
        let h = rows.len();
        let w = rows[0].len();
        let pad = crate::demo::lattice::PADDING;
        let lat = Lattice {
            nx: w + 2 * pad,
            ny: h + 2 * pad,
            x0: 0.0,
            y0: 0.0,
            cell: 1.0,
        };
        let mut block = vec![NONE; lat.cells()];
        for (r, row) in rows.iter().enumerate() {
            for (i, ch) in row.chars().enumerate() {
                let j = h - 1 - r;
                if ch != '.' {
                    block[(j + pad) * lat.nx + i + pad] = ch as u32 - 'a' as u32;
                }
            }
        }
        let n_streets = comm_street
            .iter()
            .map(|&s| s as usize + 1)
            .max()
            .unwrap_or(0);
        City {
            lat,
            block,
            block_comm,
            comm_street,
            n_streets,
        }
    }

    #[test]
    fn stray_block_cells_join_a_neighbour_of_the_same_community() {
        // Block a has a stray cell inside c's area; c and a share community 0, b is community 1.
        let mut city = city_from(
            &["aabbb", "aabab", "ccbbb", "cc.cc"],
            vec![0, 1, 0],
            vec![0, 0],
        );
        assert!(city.check_connected().is_err());
        // a's stray cell and c's two cells right of the gap are cut off.
        let moved = city.repair_blocks();
        assert_eq!(moved, 3);
        // Only b touches them, so the community-preferring pass cannot place them
        // and the fallback gives them to b.
        assert_eq!(city.label(city.lat.cell_at(7.5, 6.5).unwrap(), BLOCK), 1);
        assert_eq!(city.label(city.lat.cell_at(7.5, 4.5).unwrap(), BLOCK), 1);
        city.check_connected().unwrap();
        assert!(!city.repair_all().unwrap());
    }

    #[test]
    fn group_repair_moves_the_smaller_part() {
        // Path graph 0-1-2-3; groups 0,1,0,1 → units 2 and 3 are strays or mains.
        let adj = vec![vec![1], vec![0, 2], vec![1, 3], vec![2]];
        let mut group = vec![0, 1, 0, 1];
        let moved = repair_groups(&adj, &[5, 5, 1, 1], &mut group, None, "test").unwrap();
        // Unit 2 joins group 1, which reconnects unit 3 at the same time.
        assert_eq!(moved, 1);
        assert_eq!(group, vec![0, 1, 1, 1]);
        let adj = vec![vec![], vec![]];
        assert!(repair_groups(&adj, &[1, 1], &mut [0, 0], None, "test").is_err());
    }
}
