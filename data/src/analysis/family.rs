//! Runs the polygon checks (gaps, overlaps, overhangs) one family at a time: a
//! parent and its direct children, or the top-level grids as one family with
//! no parent. Families are independent, so they run in parallel.

use geo::unary_union;

use super::parallel::par_map;
use super::problem::Problem;
use super::shapes::{oriented, Ignored};
use super::{gaps, overhangs, overlaps, CheckOptions};
use crate::index::SystemIndex;
use crate::progress::Progress;

struct Family {
    parent: Option<usize>,
    children: Vec<usize>,
    /// Level the children should be at (for a childless parent's gap).
    children_level: String,
}

fn families(index: &SystemIndex) -> Vec<Family> {
    let grids = index.grids();
    let levels = &index.system().levels;
    let mut out = Vec::new();
    // Top-level grids, and grids whose parent is not in the system, are siblings.
    let roots: Vec<usize> = (0..grids.len())
        .filter(|&i| {
            grids[i]
                .parent
                .as_deref()
                .is_none_or(|p| index.grid_index(p).is_none())
        })
        .collect();
    if roots.len() > 1 {
        let level = roots
            .first()
            .map(|&i| grids[i].level.clone())
            .unwrap_or_default();
        out.push(Family {
            parent: None,
            children: roots,
            children_level: level,
        });
    }
    for (i, g) in grids.iter().enumerate() {
        let Some(depth) = index.system().depth_of(&g.level) else {
            continue;
        };
        let Some(children_level) = levels.get(depth + 1) else {
            continue;
        };
        out.push(Family {
            parent: Some(i),
            children: index.children(i).to_vec(),
            children_level: children_level.clone(),
        });
    }
    out
}

/// Gaps, overlaps and overhangs of every family, with the parts ignored as slivers.
pub(crate) fn check_families(
    index: &SystemIndex,
    opts: &CheckOptions,
    progress: &dyn Progress,
) -> (Vec<Problem>, Ignored) {
    check(index, families(index), opts, progress)
}

/// Gaps, overlaps and overhangs of the families under `parents` only
/// (`None`: the top-level grids): what a change to those families must keep.
pub(crate) fn check_parents(
    index: &SystemIndex,
    parents: &[Option<usize>],
    opts: &CheckOptions,
) -> Vec<Problem> {
    let wanted: Vec<Family> = families(index)
        .into_iter()
        .filter(|f| parents.contains(&f.parent))
        .collect();
    check(index, wanted, opts, &crate::progress::NoProgress).0
}

fn check(
    index: &SystemIndex,
    families: Vec<Family>,
    opts: &CheckOptions,
    progress: &dyn Progress,
) -> (Vec<Problem>, Ignored) {
    let grids = index.grids();
    progress.start("coverage", families.len() as u64);
    let results = par_map(&families, |family| {
        let mut ignored = Ignored::default();
        let children: Vec<_> = family.children.iter().map(|&c| &grids[c]).collect();
        let mut found = overlaps::overlaps(&children, opts.sliver_m2, &mut ignored);
        if let Some(parent) = family.parent.map(|p| &grids[p]) {
            let shapes: Vec<_> = children.iter().map(|c| oriented(&c.geometry)).collect();
            let union = unary_union(shapes.iter());
            found.extend(gaps::gaps(
                parent,
                &family.children_level,
                &union,
                opts.sliver_m2,
                &mut ignored,
            ));
            found.extend(overhangs::overhangs(
                parent,
                &children,
                &union,
                opts.sliver_m2,
                &mut ignored,
            ));
        }
        progress.advance(1);
        (found, ignored)
    });
    progress.finish();
    let mut problems = Vec::new();
    let mut ignored = Ignored::default();
    for (found, ign) in results {
        problems.extend(found);
        ignored.add(ign);
    }
    (problems, ignored)
}
