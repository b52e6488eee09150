//! A system's index after a change to a few of its grids, made from the
//! index before it instead of from scratch.
//!
//! The result is the index a full rebuild from the store would give: grids in
//! store order (depth, then code), the same codes, tree and per-level
//! R-trees. What it saves is the preparation of every polygon: the parts of a
//! grid whose geometry and level did not change are shared with the old
//! index, only changed and new grids are prepared, and the R-trees are
//! bulk-loaded again from boxes (cheap next to preparing).
//!
//! [`IndexPatch`] tells callers which answers may have changed: a point
//! outside every box of [`IndexPatch::dirty`] is in the same grids as before
//! (renumbered by [`IndexPatch::old_to_new`]), because the only polygons that
//! differ are the changed grids' old and new ones, and each lies inside one
//! of those boxes. Ties between overlapping grids keep their order too, as
//! the unchanged grids keep their relative order.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, OnceLock};

use geo::BoundingRect;

use super::{build_levels_with, prepare_parts, SystemIndex};
use crate::model::Grid;

/// How grid indexes and answers moved between an index and its patched successor.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexPatch {
    /// `old_to_new[i]`: the new index of old grid `i`, or `None` when it was
    /// deleted or its geometry (or level) changed.
    pub old_to_new: Vec<Option<usize>>,
    /// `[minlon, minlat, maxlon, maxlat]` of every changed grid before and
    /// after the change, and of every deleted and every new grid.
    pub dirty: Vec<[f64; 4]>,
}

impl IndexPatch {
    /// Whether a point may be answered differently after the change.
    pub fn is_dirty(&self, lon: f64, lat: f64) -> bool {
        self.dirty
            .iter()
            .any(|b| b[0] <= lon && lon <= b[2] && b[1] <= lat && lat <= b[3])
    }
}

/// Where a grid of the patched index comes from.
enum Source {
    /// Old grid `i`, as it was.
    Kept(usize),
    /// Upsert `j`; `Some(i)` when it replaces old grid `i` with the same geometry and level.
    Upsert(usize, Option<usize>),
}

impl SystemIndex {
    /// The index after inserting or replacing `upserts` (matched by code) and
    /// deleting `deletes`, as [`SystemIndex::build`] on the store's grids
    /// after that change would make it. `None` when an upsert's level is not
    /// one of the system's (the store refuses such a change).
    pub fn patched(
        &self,
        upserts: Vec<Grid>,
        deletes: &[String],
    ) -> Option<(SystemIndex, IndexPatch)> {
        let depth_of = |g: &Grid| self.system.depth_of(&g.level);
        let upserted: HashMap<&str, usize> = upserts
            .iter()
            .enumerate()
            .map(|(j, g)| (g.code.as_str(), j))
            .collect();
        let deleted: HashSet<&str> = deletes.iter().map(String::as_str).collect();
        let mut dirty = Vec::new();
        let mut order: Vec<(usize, &str, Source)> =
            Vec::with_capacity(self.grids.len() + upserts.len());
        for (i, g) in self.grids.iter().enumerate() {
            let code = g.code.as_str();
            if upserted.contains_key(code) {
                continue; // placed with the upserts below
            }
            if deleted.contains(code) {
                dirty.extend(bbox(g));
                continue;
            }
            order.push((depth_of(g)?, code, Source::Kept(i)));
        }
        for (j, g) in upserts.iter().enumerate() {
            // A code both deleted and upserted is deleted first, then written: an upsert.
            let old = self.by_code.get(g.code.as_str()).copied();
            let same = old.filter(|&i| {
                let o = &self.grids[i];
                o.level == g.level && o.geometry == g.geometry
            });
            if same.is_none() {
                dirty.extend(old.and_then(|i| bbox(&self.grids[i])));
                dirty.extend(bbox(g));
            }
            order.push((depth_of(g)?, g.code.as_str(), Source::Upsert(j, same)));
        }
        order.sort_unstable_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));

        let mut old_to_new = vec![None; self.grids.len()];
        // For each new grid, the old grid whose prepared parts it may share.
        let mut shares: Vec<Option<usize>> = Vec::with_capacity(order.len());
        let mut sources = Vec::with_capacity(order.len());
        for (k, (_, _, source)) in order.into_iter().enumerate() {
            let old = match source {
                Source::Kept(i) => Some(i),
                Source::Upsert(_, same) => same,
            };
            if let Some(i) = old {
                old_to_new[i] = Some(k);
            }
            shares.push(old);
            sources.push(source);
        }
        let mut upserts: Vec<Option<Grid>> = upserts.into_iter().map(Some).collect();
        let grids: Vec<Grid> = sources
            .into_iter()
            .map(|s| match s {
                Source::Kept(i) => self.grids[i].clone(),
                Source::Upsert(j, _) => upserts[j].take().expect("each upsert is placed once"),
            })
            .collect();

        let patched = SystemIndex::build(self.system.clone(), grids);
        if let Some(old_levels) = self.levels.get() {
            // The parts of old grid i at its level, in polygon order.
            let mut old_parts: Vec<Vec<Arc<_>>> = vec![Vec::new(); self.grids.len()];
            for level in old_levels {
                for (i, prepared) in &level.parts {
                    old_parts[*i].push(prepared.clone());
                }
            }
            let levels =
                build_levels_with(&patched.system, &patched.grids, |k, g| match shares[k] {
                    Some(i) => g
                        .geometry
                        .0
                        .iter()
                        .filter_map(|poly| poly.bounding_rect())
                        .map(|r| {
                            rstar::primitives::Rectangle::from_corners(
                                [r.min().x, r.min().y],
                                [r.max().x, r.max().y],
                            )
                        })
                        .zip(old_parts[i].iter().cloned())
                        .collect(),
                    None => prepare_parts(g),
                });
            let cell = OnceLock::new();
            let _ = cell.set(levels);
            return Some((
                SystemIndex {
                    levels: cell,
                    ..patched
                },
                IndexPatch { old_to_new, dirty },
            ));
        }
        Some((patched, IndexPatch { old_to_new, dirty }))
    }
}

fn bbox(g: &Grid) -> Option<[f64; 4]> {
    g.geometry
        .bounding_rect()
        .map(|r| [r.min().x, r.min().y, r.max().x, r.max().y])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geometry::testutil::rect;
    use crate::model::GridSystem;
    use geo_types::MultiPolygon;

    fn block(code: &str, x0: f64, x1: f64) -> Grid {
        Grid::new(
            code,
            "block",
            Some("S"),
            MultiPolygon(vec![rect(x0, 0.0, x1, 1.0)]),
        )
    }

    fn city() -> SystemIndex {
        let system = GridSystem::new("t", vec!["street".into(), "block".into()]);
        SystemIndex::build(
            system,
            vec![
                Grid::new(
                    "S",
                    "street",
                    None,
                    MultiPolygon(vec![rect(0.0, 0.0, 3.0, 1.0)]),
                ),
                block("A", 0.0, 1.0),
                block("B", 1.0, 2.0),
                block("C", 2.0, 3.0),
            ],
        )
    }

    fn answers(idx: &SystemIndex) -> Vec<Vec<(String, bool)>> {
        let mut out = Vec::new();
        for i in 0..=30 {
            for y in [0.0, 0.5, 1.0] {
                let x = f64::from(i) / 10.0;
                out.push(
                    idx.locate(x, y)
                        .iter()
                        .map(|h| (idx.grids()[h.grid].code.clone(), h.on_border))
                        .collect(),
                );
            }
        }
        out
    }

    /// Merges A and B into A, renames C (geometry kept) and adds D beyond C.
    fn change() -> (Vec<Grid>, Vec<String>) {
        let mut c = block("C", 2.0, 3.0);
        c.name = "丙".into();
        (
            vec![block("A", 0.0, 2.0), c, block("D", 3.0, 4.0)],
            vec!["B".into()],
        )
    }

    #[test]
    fn a_patched_index_answers_as_a_rebuilt_one() {
        for built in [true, false] {
            let old = city();
            if built {
                old.bounds();
            }
            let (upserts, deletes) = change();
            let (patched, patch) = old.patched(upserts.clone(), &deletes).unwrap();
            assert_eq!(patched.spatial_index_built(), built, "laziness is kept");
            let mut grids: Vec<Grid> = old
                .grids()
                .iter()
                .filter(|g| !["A", "B", "C"].contains(&g.code.as_str()))
                .cloned()
                .chain(upserts)
                .collect();
            grids.sort_by(|a, b| {
                (a.level != "street", &a.code).cmp(&(b.level != "street", &b.code))
            });
            let rebuilt = SystemIndex::build(old.system().clone(), grids);
            assert_eq!(patched.grids(), rebuilt.grids());
            assert_eq!(answers(&patched), answers(&rebuilt));
            assert_eq!(patched.children(0), rebuilt.children(0));
            assert_eq!(patched.bounds(), rebuilt.bounds());
            // S kept, A and B gone into the new A, C renamed only (same place), D new.
            assert_eq!(patch.old_to_new, vec![Some(0), None, None, Some(2)]);
            assert!(patch.is_dirty(1.5, 0.5) && patch.is_dirty(3.5, 0.5));
            assert!(!patch.is_dirty(2.5, 0.5), "C's geometry did not change");
        }
    }

    #[test]
    fn an_unknown_level_is_refused() {
        let mut g = block("X", 5.0, 6.0);
        g.level = "nope".into();
        assert!(city().patched(vec![g], &[]).is_none());
    }
}
