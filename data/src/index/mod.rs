//! The in-memory spatial index: which grid contains a point, at every level.
//!
//! gridmap keeps one [`SystemIndex`] per grid system: its grids by code and
//! as a tree, and per level an R-tree (rstar) over the bounding boxes of the
//! polygon parts, each part prepared for exact point-in-polygon tests
//! ([`PreparedPolygon`]). A lookup costs an R-tree descent plus a banded edge
//! scan of the few candidate parts.
//!
//! The spatial part is built on first spatial use, once, whichever thread
//! asks first: an import judging a change only reads grids by code and tree,
//! and must not pay for preparing every polygon of the system.
//!
//! Border points follow the rule documented in [`prepared`]: a point on a
//! shared border belongs to the grid east of it (north of it on an east–west
//! border), so every point of a gap-free partition is in exactly one grid.

mod cell_grid;
mod patch;
pub mod prepared;

pub use patch::IndexPatch;
pub use prepared::{Location, PreparedPolygon};

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use geo::BoundingRect;
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::RTree;

use crate::model::{Grid, GridSystem};

type PartEntry = GeomWithData<Rectangle<[f64; 2]>, u32>;

/// The grid found at one level for a point.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hit {
    /// Index into [`SystemIndex::grids`].
    pub grid: usize,
    /// The point lay exactly on the grid's border and the border rule decided.
    pub on_border: bool,
}

struct LevelIndex {
    tree: RTree<PartEntry>,
    /// Indexed by the R-tree entries' data, in grid order. Shared: a catalog
    /// patched after a change ([`SystemIndex::patched`]) keeps the prepared
    /// parts of every grid the change did not touch.
    parts: Vec<(usize, Arc<PreparedPolygon>)>,
}

/// All grids of one system, indexed for point lookup.
pub struct SystemIndex {
    system: GridSystem,
    grids: Vec<Grid>,
    by_code: HashMap<String, usize>,
    children: Vec<Vec<usize>>,
    /// One per level, top down; see [`SystemIndex::levels`].
    levels: OnceLock<Vec<LevelIndex>>,
}

impl SystemIndex {
    /// Indexes the grids by code and as a tree; the R-trees wait for the
    /// first spatial query. Grids are kept in the order given (the store gives
    /// depth, then code), which also decides ties between overlapping grids:
    /// the first one in that order wins.
    pub fn build(system: GridSystem, grids: Vec<Grid>) -> Self {
        let by_code: HashMap<String, usize> = grids
            .iter()
            .enumerate()
            .map(|(i, g)| (g.code.clone(), i))
            .collect();
        let mut children = vec![Vec::new(); grids.len()];
        for (i, g) in grids.iter().enumerate() {
            if let Some(p) = g.parent.as_ref().and_then(|p| by_code.get(p)) {
                children[*p].push(i);
            }
        }
        Self {
            system,
            grids,
            by_code,
            children,
            levels: OnceLock::new(),
        }
    }

    /// The per-level R-trees of prepared parts, built on the first call.
    fn levels(&self) -> &[LevelIndex] {
        self.levels
            .get_or_init(|| build_levels(&self.system, &self.grids))
    }

    /// Whether the spatial part has been built (for the tests that prove
    /// reading grids by code does not build it).
    #[cfg(test)]
    pub(crate) fn spatial_index_built(&self) -> bool {
        self.levels.get().is_some()
    }

    pub fn system(&self) -> &GridSystem {
        &self.system
    }

    /// Grids in store order (depth, then code).
    pub fn grids(&self) -> &[Grid] {
        &self.grids
    }

    pub fn grid(&self, code: &str) -> Option<&Grid> {
        self.by_code.get(code).map(|&i| &self.grids[i])
    }

    pub fn grid_index(&self, code: &str) -> Option<usize> {
        self.by_code.get(code).copied()
    }

    /// `[minlon, minlat, maxlon, maxlat]` of every grid of the system, read off
    /// the R-tree roots (no pass over the grids); `None` for an empty system.
    pub fn bounds(&self) -> Option<[f64; 4]> {
        self.levels()
            .iter()
            .filter(|l| l.tree.size() > 0)
            .map(|l| {
                let e = l.tree.root().envelope();
                let (lo, hi) = (e.lower(), e.upper());
                [lo[0], lo[1], hi[0], hi[1]]
            })
            .reduce(|a, b| {
                [
                    a[0].min(b[0]),
                    a[1].min(b[1]),
                    a[2].max(b[2]),
                    a[3].max(b[3]),
                ]
            })
    }

    /// Indexes of the direct children of a grid.
    pub fn children(&self, grid: usize) -> &[usize] {
        &self.children[grid]
    }

    /// The grid containing a lon/lat point at one level (0 = top), if any.
    pub fn locate_at_depth(&self, depth: usize, lon: f64, lat: f64) -> Option<Hit> {
        let level = self.levels().get(depth)?;
        let mut best: Option<Hit> = None;
        for entry in level.tree.locate_all_at_point(&[lon, lat]) {
            let (grid, prepared) = &level.parts[entry.data as usize];
            let loc = prepared.locate(lon, lat);
            if loc.inside && best.is_none_or(|b| *grid < b.grid) {
                best = Some(Hit {
                    grid: *grid,
                    on_border: loc.on_border,
                });
            }
        }
        best
    }

    /// Indexes of the grids (every level) whose parts' bounding boxes meet
    /// `[minlon, minlat, maxlon, maxlat]`, ascending, without duplicates.
    pub fn grids_in_bbox(&self, bbox: [f64; 4]) -> Vec<usize> {
        let envelope = rstar::AABB::from_corners([bbox[0], bbox[1]], [bbox[2], bbox[3]]);
        let mut found: Vec<usize> = self
            .levels()
            .iter()
            .flat_map(|level| {
                level
                    .tree
                    .locate_in_envelope_intersecting(&envelope)
                    .map(|e| level.parts[e.data as usize].0)
            })
            .collect();
        found.sort_unstable();
        found.dedup();
        found
    }

    /// The grids containing a lon/lat point, from the top level down; levels
    /// where no grid contains the point are skipped.
    pub fn locate(&self, lon: f64, lat: f64) -> Vec<Hit> {
        (0..self.levels().len())
            .filter_map(|d| self.locate_at_depth(d, lon, lat))
            .collect()
    }
}

/// Per level of `system`, an R-tree over the parts of its grids, each part prepared.
fn build_levels(system: &GridSystem, grids: &[Grid]) -> Vec<LevelIndex> {
    build_levels_with(system, grids, |_, g| prepare_parts(g))
}

/// The prepared parts of a grid, each with its bounding box (empty parts have none and are skipped).
fn prepare_parts(g: &Grid) -> Vec<(Rectangle<[f64; 2]>, Arc<PreparedPolygon>)> {
    g.geometry
        .0
        .iter()
        .filter_map(|poly| {
            let rect = poly.bounding_rect()?;
            Some((
                Rectangle::from_corners([rect.min().x, rect.min().y], [rect.max().x, rect.max().y]),
                Arc::new(PreparedPolygon::new(poly)),
            ))
        })
        .collect()
}

/// [`build_levels`] with the parts of grid `i` coming from `parts_of(i, grid)`.
fn build_levels_with(
    system: &GridSystem,
    grids: &[Grid],
    mut parts_of: impl FnMut(usize, &Grid) -> Vec<(Rectangle<[f64; 2]>, Arc<PreparedPolygon>)>,
) -> Vec<LevelIndex> {
    system
        .levels
        .iter()
        .map(|level| {
            let mut parts = Vec::new();
            let mut entries = Vec::new();
            for (i, g) in grids.iter().enumerate().filter(|(_, g)| &g.level == level) {
                for (rect, prepared) in parts_of(i, g) {
                    entries.push(PartEntry::new(rect, parts.len() as u32));
                    parts.push((i, prepared));
                }
            }
            LevelIndex {
                tree: RTree::bulk_load(entries),
                parts,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geometry::testutil::rect;
    use geo_types::{LineString, MultiPolygon, Polygon};

    fn grid(code: &str, level: &str, parent: Option<&str>, polys: Vec<Polygon<f64>>) -> Grid {
        Grid::new(code, level, parent, MultiPolygon(polys))
    }

    fn sample() -> SystemIndex {
        let system = GridSystem::new("t", vec!["street".into(), "block".into()]);
        // Street S = [0,2]×[0,1] with a hole [1.4,1.6]×[0.4,0.6]; blocks A (west) and
        // B (east, a multipolygon whose second part is an island outside the street).
        let hole = LineString::from(vec![(1.4, 0.4), (1.6, 0.4), (1.6, 0.6), (1.4, 0.6)]);
        let street = Polygon::new(
            rect(0.0, 0.0, 2.0, 1.0).exterior().clone(),
            vec![hole.clone()],
        );
        let b = Polygon::new(rect(1.0, 0.0, 2.0, 1.0).exterior().clone(), vec![hole]);
        SystemIndex::build(
            system,
            vec![
                grid("S", "street", None, vec![street]),
                grid("A", "block", Some("S"), vec![rect(0.0, 0.0, 1.0, 1.0)]),
                grid("B", "block", Some("S"), vec![b, rect(5.0, 5.0, 6.0, 6.0)]),
            ],
        )
    }

    fn codes(idx: &SystemIndex, lon: f64, lat: f64) -> Vec<&str> {
        idx.locate(lon, lat)
            .iter()
            .map(|h| idx.grids()[h.grid].code.as_str())
            .collect()
    }

    #[test]
    fn lookup_by_level_with_holes_islands_and_borders() {
        let idx = sample();
        assert_eq!(codes(&idx, 0.5, 0.5), ["S", "A"]);
        assert_eq!(codes(&idx, 1.2, 0.5), ["S", "B"]);
        assert_eq!(codes(&idx, 1.5, 0.5), Vec::<&str>::new(), "in the hole");
        assert_eq!(
            codes(&idx, 5.5, 5.5),
            ["B"],
            "island part of a multipolygon"
        );
        assert_eq!(codes(&idx, 9.0, 9.0), Vec::<&str>::new());
        // On the shared A|B border: B, the grid to the east.
        assert_eq!(codes(&idx, 1.0, 0.5), ["S", "B"]);
        let hit = idx.locate_at_depth(1, 1.0, 0.5).unwrap();
        assert!(hit.on_border);
        assert_eq!(idx.children(0), &[1, 2]);
        assert_eq!(
            idx.bounds(),
            Some([0.0, 0.0, 6.0, 6.0]),
            "the island widens the bounds"
        );
        let empty = SystemIndex::build(GridSystem::new("e", vec!["block".into()]), vec![]);
        assert_eq!(empty.bounds(), None);
    }

    /// Points covering every case of [`sample`]: inside, in the hole, on the
    /// island, outside, on a shared border, on the outer edge.
    const PROBES: [(f64, f64); 7] = [
        (0.5, 0.5),
        (1.2, 0.5),
        (1.5, 0.5),
        (5.5, 5.5),
        (9.0, 9.0),
        (1.0, 0.5),
        (2.0, 0.25),
    ];

    #[test]
    fn reading_grids_by_code_and_tree_leaves_the_spatial_part_unbuilt() {
        let idx = sample();
        assert_eq!(idx.grid("A").map(|g| g.level.as_str()), Some("block"));
        assert_eq!(idx.grid_index("B"), Some(2));
        assert_eq!(idx.children(0), &[1, 2]);
        assert_eq!((idx.grids().len(), idx.system().levels.len()), (3, 2));
        assert!(!idx.spatial_index_built());
        assert_eq!(idx.bounds(), Some([0.0, 0.0, 6.0, 6.0]));
        assert!(idx.spatial_index_built(), "bounds are read off the R-trees");
        let idx = sample();
        assert_eq!(codes(&idx, 0.5, 0.5), ["S", "A"]);
        assert!(idx.spatial_index_built(), "a lookup builds it");
    }

    #[test]
    fn threads_racing_to_the_first_lookup_get_the_answers_of_a_built_index() {
        let built = sample();
        built.bounds();
        let want: Vec<Vec<Hit>> = PROBES.iter().map(|&(x, y)| built.locate(x, y)).collect();
        assert!(want.iter().any(|h| h.iter().any(|h| h.on_border)));
        let lazy = sample();
        assert!(!lazy.spatial_index_built());
        let got: Vec<Vec<Vec<Hit>>> = std::thread::scope(|scope| {
            let workers: Vec<_> = (0..4)
                .map(|_| {
                    scope.spawn(|| {
                        PROBES
                            .iter()
                            .map(|&(x, y)| lazy.locate(x, y))
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            workers.into_iter().map(|w| w.join().unwrap()).collect()
        });
        for answers in got {
            assert_eq!(answers, want);
        }
    }
}
