//! Assignment of sites to grids: for every grid system, the grid that holds
//! each site at every level, plus per-grid counts, computed once per catalog.
//!
//! Layout is compact for millions of sites: one `u32` per (site, level) with
//! the border flag in the top bit, and the sites of each grid as a CSR list of
//! `u32` site indexes.

use std::collections::BTreeMap;

use serde::Serialize;

use super::SiteEntry;
use crate::index::{Hit, IndexPatch, SystemIndex};

/// Marks "no grid at this level" in the packed assignment.
const NONE: u32 = u32::MAX;
/// Top bit of a packed entry: the site lies exactly on the grid's border.
const BORDER: u32 = 1 << 31;

/// Site counts of one grid: per kind (every kind in the catalog, zeros
/// included) and the households summed over its sites.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GridSiteStats {
    pub sites: BTreeMap<String, u64>,
    pub households: u64,
}

/// Where every site falls in one grid system.
pub struct SystemAssignment {
    depths: usize,
    /// `packed[site * depths + depth]`: grid index | [`BORDER`], or [`NONE`].
    packed: Vec<u32>,
    /// CSR over grids: the sites of grid `g` are `members[offsets[g]..offsets[g + 1]]`.
    offsets: Vec<u32>,
    members: Vec<u32>,
    /// `counts[grid * kinds + kind]`.
    counts: Vec<u32>,
    kinds: usize,
    households: Vec<u64>,
}

impl SystemAssignment {
    /// Locates every site at every level of `index`, using up to `threads`
    /// threads, and aggregates per grid. Every site's kind number must be
    /// below `kinds`. Sites with a non-finite location get no grid.
    pub fn compute(index: &SystemIndex, sites: &[SiteEntry], kinds: usize, threads: usize) -> Self {
        let depths = index.system().levels.len();
        let mut packed = vec![NONE; sites.len() * depths];
        for_chunks(&mut packed, sites, depths, threads, |_, part, out| {
            locate_chunk(index, part, depths, out);
        });
        Self::aggregate(index, sites, kinds, depths, packed)
    }

    /// The assignment in `index`, the patched successor of this assignment's
    /// index ([`SystemIndex::patched`]): sites outside every box of
    /// `patch.dirty` keep their grids (renumbered), the others are located
    /// again. Equal to [`SystemAssignment::compute`] on `index`.
    pub fn patched(
        &self,
        index: &SystemIndex,
        patch: &IndexPatch,
        sites: &[SiteEntry],
        threads: usize,
    ) -> Self {
        let depths = self.depths;
        assert_eq!(
            depths,
            index.system().levels.len(),
            "a patch keeps the levels"
        );
        let mut packed = vec![NONE; sites.len() * depths];
        let old = &self.packed;
        for_chunks(&mut packed, sites, depths, threads, |first, part, out| {
            for (k, (site, row)) in part.iter().zip(out.chunks_mut(depths)).enumerate() {
                let s = first + k;
                let before = &old[s * depths..(s + 1) * depths];
                // A grid gone without its box in `dirty` cannot happen; locating again stays right.
                if patch.is_dirty(site.lon, site.lat) || !renumber(before, row, &patch.old_to_new) {
                    row.fill(NONE);
                    locate_chunk(index, std::slice::from_ref(site), depths, row);
                }
            }
        });
        Self::aggregate(index, sites, self.kinds, depths, packed)
    }

    /// Per-grid counts, households and member lists of a packed assignment.
    fn aggregate(
        index: &SystemIndex,
        sites: &[SiteEntry],
        kinds: usize,
        depths: usize,
        packed: Vec<u32>,
    ) -> Self {
        assert!(
            index.grids().len() < BORDER as usize,
            "grid indexes must fit in 31 bits"
        );
        let grids = index.grids().len();
        let mut counts = vec![0u32; grids * kinds];
        let mut households = vec![0u64; grids];
        let mut sizes = vec![0u32; grids + 1];
        for (site, row) in packed.chunks(depths.max(1)).enumerate().take(sites.len()) {
            for &p in row.iter().filter(|&&p| p != NONE) {
                let g = (p & !BORDER) as usize;
                counts[g * kinds + sites[site].kind as usize] += 1;
                households[g] += u64::from(sites[site].households.unwrap_or(0));
                sizes[g + 1] += 1;
            }
        }
        for g in 0..grids {
            sizes[g + 1] += sizes[g];
        }
        let offsets = sizes;
        let mut fill = offsets.clone();
        let mut members = vec![0u32; offsets[grids] as usize];
        for (site, row) in packed.chunks(depths.max(1)).enumerate().take(sites.len()) {
            for &p in row.iter().filter(|&&p| p != NONE) {
                let g = (p & !BORDER) as usize;
                members[fill[g] as usize] = site as u32;
                fill[g] += 1;
            }
        }
        Self {
            depths,
            packed,
            offsets,
            members,
            counts,
            kinds,
            households,
        }
    }

    /// The grid holding a site at one level (0 = top), if any.
    pub fn hit(&self, site: usize, depth: usize) -> Option<Hit> {
        if depth >= self.depths {
            return None;
        }
        let p = *self.packed.get(site * self.depths + depth)?;
        (p != NONE).then_some(Hit {
            grid: (p & !BORDER) as usize,
            on_border: p & BORDER != 0,
        })
    }

    /// The grid holding a site at every level, top down.
    pub fn hits(&self, site: usize) -> Vec<Option<Hit>> {
        (0..self.depths).map(|d| self.hit(site, d)).collect()
    }

    /// Indexes of the sites in a grid (at the grid's own level, so the whole
    /// subtree's area), ascending, i.e. ordered by kind then id.
    pub fn sites_of(&self, grid: usize) -> &[u32] {
        match (self.offsets.get(grid), self.offsets.get(grid + 1)) {
            (Some(&a), Some(&b)) => &self.members[a as usize..b as usize],
            _ => &[],
        }
    }

    /// Site count of one kind number in a grid.
    pub fn count(&self, grid: usize, kind: usize) -> u32 {
        if kind >= self.kinds {
            return 0;
        }
        self.counts
            .get(grid * self.kinds + kind)
            .copied()
            .unwrap_or(0)
    }

    /// Households summed over the sites in a grid.
    pub fn households(&self, grid: usize) -> u64 {
        self.households.get(grid).copied().unwrap_or(0)
    }

    /// How many sites have a grid, and how many of those lie on its border, per level.
    pub fn level_counts(&self) -> Vec<(usize, usize)> {
        let mut out = vec![(0, 0); self.depths];
        for row in self.packed.chunks(self.depths.max(1)) {
            for (d, &p) in row.iter().enumerate().filter(|(_, &p)| p != NONE) {
                out[d].0 += 1;
                out[d].1 += usize::from(p & BORDER != 0);
            }
        }
        out
    }
}

/// Runs `f(first site, sites, their rows of packed)` over `threads` chunks of the sites.
fn for_chunks(
    packed: &mut [u32],
    sites: &[SiteEntry],
    depths: usize,
    threads: usize,
    f: impl Fn(usize, &[SiteEntry], &mut [u32]) + Sync,
) {
    if depths == 0 || sites.is_empty() {
        return;
    }
    let chunk = sites.len().div_ceil(threads.max(1)).max(1);
    let f = &f;
    std::thread::scope(|scope| {
        for (n, (out, part)) in packed
            .chunks_mut(chunk * depths)
            .zip(sites.chunks(chunk))
            .enumerate()
        {
            scope.spawn(move || f(n * chunk, part, out));
        }
    });
}

/// Copies a site's packed row with grid indexes renumbered; `false` when one
/// of its grids has no new index.
fn renumber(before: &[u32], row: &mut [u32], old_to_new: &[Option<usize>]) -> bool {
    for (p, slot) in before.iter().zip(row.iter_mut()) {
        if *p == NONE {
            *slot = NONE;
            continue;
        }
        match old_to_new.get((p & !BORDER) as usize).copied().flatten() {
            Some(g) => *slot = g as u32 | (p & BORDER),
            None => return false,
        }
    }
    true
}

fn locate_chunk(index: &SystemIndex, sites: &[SiteEntry], depths: usize, out: &mut [u32]) {
    for (site, row) in sites.iter().zip(out.chunks_mut(depths)) {
        let (lon, lat) = (site.lon, site.lat);
        if !lon.is_finite() || !lat.is_finite() {
            continue;
        }
        for (depth, slot) in row.iter_mut().enumerate() {
            if let Some(h) = index.locate_at_depth(depth, lon, lat) {
                *slot = h.grid as u32 | if h.on_border { BORDER } else { 0 };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::two_blocks;

    fn site(kind: u16, id: &str, x: f64, y: f64, households: Option<u32>) -> SiteEntry {
        SiteEntry {
            id: id.into(),
            kind,
            name: id.into(),
            address: None,
            households,
            lon: x,
            lat: y,
        }
    }

    #[test]
    fn assigns_every_level_counts_and_lists() {
        let idx = two_blocks();
        let sites = vec![
            site(0, "a1", 0.5, 0.5, Some(10)),
            site(0, "a2", 1.0, 0.5, Some(7)), // on the W|E border: E (east)
            site(0, "a3", 5.0, 5.0, Some(3)), // outside everything
            site(1, "s1", 1.5, 0.2, None),
            site(1, "s2", f64::NAN, f64::NAN, None),
        ];
        for threads in [1, 2, 3, 8] {
            let a = SystemAssignment::compute(&idx, &sites, 2, threads);
            assert_eq!(
                a.hits(0),
                vec![
                    Some(Hit {
                        grid: 0,
                        on_border: false
                    }),
                    Some(Hit {
                        grid: 1,
                        on_border: false
                    })
                ]
            );
            assert_eq!(
                a.hit(1, 1),
                Some(Hit {
                    grid: 2,
                    on_border: true
                })
            );
            assert_eq!(
                a.hit(1, 0),
                Some(Hit {
                    grid: 0,
                    on_border: false
                })
            );
            assert_eq!(a.hits(2), vec![None, None]);
            assert_eq!(a.hits(4), vec![None, None]);
            assert_eq!(a.hit(0, 2), None, "no third level");
            assert_eq!(a.sites_of(0), &[0, 1, 3]);
            assert_eq!(a.sites_of(1), &[0]);
            assert_eq!(a.sites_of(2), &[1, 3]);
            assert_eq!(a.sites_of(9), &[] as &[u32]);
            assert_eq!((a.count(0, 0), a.count(0, 1), a.households(0)), (2, 1, 17));
            assert_eq!((a.count(2, 0), a.count(2, 1), a.households(2)), (1, 1, 7));
            assert_eq!((a.count(1, 0), a.households(1)), (1, 10));
            assert_eq!(a.level_counts(), vec![(3, 0), (3, 1)]);
        }
    }

    #[test]
    fn a_patched_assignment_equals_one_computed_again() {
        let idx = two_blocks();
        idx.bounds();
        let sites: Vec<SiteEntry> = (0..=40)
            .flat_map(|i| [0.0, 0.5, 1.0].map(|y| (f64::from(i) / 20.0, y)))
            .enumerate()
            .map(|(n, (x, y))| site((n % 2) as u16, &n.to_string(), x, y, Some(n as u32)))
            .chain([site(0, "nan", f64::NAN, f64::NAN, None)])
            .collect();
        let before = SystemAssignment::compute(&idx, &sites, 2, 3);
        // Move the W|E border from x = 1 to x = 0.5.
        let mut w = idx.grids()[1].clone();
        let mut e = idx.grids()[2].clone();
        w.geometry = crate::testutil::rect(0.0, 0.0, 0.5, 1.0).into();
        e.geometry = crate::testutil::rect(0.5, 0.0, 2.0, 1.0).into();
        let (after, patch) = idx.patched(vec![w, e], &[]).unwrap();
        for threads in [1, 2, 5] {
            let patched = before.patched(&after, &patch, &sites, threads);
            let fresh = SystemAssignment::compute(&after, &sites, 2, threads);
            assert_eq!(patched.packed, fresh.packed);
            assert_eq!(
                (&patched.offsets, &patched.members),
                (&fresh.offsets, &fresh.members)
            );
            assert_eq!(
                (&patched.counts, &patched.households),
                (&fresh.counts, &fresh.households)
            );
        }
        assert_ne!(
            before.packed,
            SystemAssignment::compute(&after, &sites, 2, 1).packed,
            "the move moved sites"
        );
    }

    #[test]
    fn empty_inputs() {
        let a = SystemAssignment::compute(&two_blocks(), &[], 0, 2);
        assert!(a.sites_of(0).is_empty());
        assert_eq!(a.level_counts(), vec![(0, 0), (0, 0)]);
    }
}
