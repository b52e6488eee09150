//! Staffing: finest-level grids without a worker, workers carrying too much,
//! and per coarser grid (community, street …) the shortfall of workers.
//!
//! Only assignments to finest-level grids count for the shortfall: a grid
//! chief assigned to a community is not a gridworker for its blocks. A worker
//! with shares 1 + 0.5 covers 1.5 blocks, so the shortfall of a grid is
//! `blocks − Σ shares` over the blocks below it.

use std::collections::{BTreeSet, HashSet};

use geo_types::MultiPolygon;

use super::problem::{num, round2, Problem, ProblemKind};
use super::CheckOptions;
use crate::catalog::Catalog;
use crate::index::SystemIndex;

#[derive(Default)]
struct Tally<'a> {
    blocks: usize,
    shares: f64,
    workers: HashSet<&'a str>,
}

/// Unstaffed grids, overloaded workers and shortfalls of one system.
pub fn check(catalog: &Catalog, index: &SystemIndex, opts: &CheckOptions) -> Vec<Problem> {
    let system = &index.system().name;
    let Some(finest) = index.system().levels.last() else {
        return Vec::new();
    };
    let grids = index.grids();
    let mut found = Vec::new();
    let mut tallies: Vec<Tally> = (0..grids.len()).map(|_| Tally::default()).collect();

    for block in grids.iter().filter(|g| &g.level == finest) {
        let workers = catalog.workers_of(system, &block.code);
        let shares: f64 = workers.iter().map(|(_, s)| s).sum();
        if shares <= 0.0 {
            let message = format!(
                "{} {} ({}) has no worker",
                block.level, block.name, block.code
            );
            found.push(
                Problem::new(ProblemKind::Unstaffed, vec![block.code.clone()], message)
                    .level(finest)
                    .at_area(&block.geometry),
            );
        }
        // Add the block to every ancestor's tally.
        let mut parent = block.parent.as_deref().and_then(|p| index.grid_index(p));
        let mut guard = 0;
        while let Some(a) = parent {
            let t = &mut tallies[a];
            t.blocks += 1;
            t.shares += shares;
            t.workers.extend(
                workers
                    .iter()
                    .filter(|(_, s)| *s > 0.0)
                    .map(|(w, _)| w.id.as_str()),
            );
            parent = grids[a].parent.as_deref().and_then(|p| index.grid_index(p));
            guard += 1;
            if guard > grids.len() {
                break; // a parent cycle; the importer rejects those, but never loop forever
            }
        }
    }

    for (i, t) in tallies.iter().enumerate() {
        let short = t.blocks as f64 - t.shares;
        if t.blocks == 0 || short <= 1e-9 {
            continue;
        }
        let g = &grids[i];
        let message = format!(
            "{} {} ({}) has {} {}s, {} workers (shares {}): {} short",
            g.level,
            g.name,
            g.code,
            t.blocks,
            finest,
            t.workers.len(),
            num(t.shares, 2),
            num(short, 2)
        );
        let mut p = Problem::new(ProblemKind::Shortfall, vec![g.code.clone()], message)
            .level(&g.level)
            .at_area(&g.geometry);
        p.blocks = Some(t.blocks);
        p.worker_count = Some(t.workers.len());
        p.shares = Some(round2(t.shares));
        p.shortfall = Some(round2(short));
        found.push(p);
    }

    for w in catalog.workers() {
        let missing: Vec<&str> = w
            .grids
            .iter()
            .filter(|g| &g.system == system && index.grid_index(&g.code).is_none())
            .map(|g| g.code.as_str())
            .collect();
        if !missing.is_empty() {
            let message = format!(
                "{} {} ({}) is assigned to {} which system `{system}` does not hold",
                w.role,
                w.name,
                w.id,
                missing.join(", ")
            );
            let mut p = Problem::new(
                ProblemKind::DanglingAssignment,
                missing.iter().map(|c| (*c).to_string()).collect(),
                message,
            );
            p.workers = vec![w.id.clone()];
            found.push(p);
        }
    }
    for w in catalog.workers() {
        let mine: Vec<_> = w.grids.iter().filter(|g| &g.system == system).collect();
        let shares: f64 = mine.iter().map(|g| g.share).sum();
        if shares <= opts.max_shares + 1e-9 {
            continue;
        }
        let codes: BTreeSet<String> = mine.iter().map(|g| g.code.clone()).collect();
        let area = MultiPolygon(
            codes
                .iter()
                .filter_map(|c| index.grid(c))
                .flat_map(|g| g.geometry.0.clone())
                .collect(),
        );
        let message = format!(
            "{} {} ({}) carries {} grids (shares summed), more than {}: {}",
            w.role,
            w.name,
            w.id,
            num(shares, 2),
            num(opts.max_shares, 2),
            codes.iter().cloned().collect::<Vec<_>>().join(", ")
        );
        let mut p = Problem::new(
            ProblemKind::OverloadedWorker,
            codes.into_iter().collect(),
            message,
        )
        .at_area(&area);
        p.workers = vec![w.id.clone()];
        p.shares = Some(round2(shares));
        found.push(p);
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::testutil::{block_tree, worker};

    #[test]
    fn shortfall_unstaffed_and_overloaded() {
        // Street S → communities C1 (blocks B1..B3), C2 (B4, B5).
        let (catalog, index_name) = block_tree(vec![
            worker("w1", &[("B1", 1.0), ("B2", 0.5)]),
            worker("w2", &[("B3", 1.0)]),
            worker("w3", &[("B4", 1.0), ("B5", 0.5), ("B2", 0.5)]),
            worker("chief", &[("C1", 1.0)]),
        ]);
        let index = catalog.system(&index_name).unwrap();
        let found = check(&catalog, index, &CheckOptions::default());
        let by_kind = |k| found.iter().filter(|p| p.kind == k).collect::<Vec<_>>();
        // Every block has some share: B2 has 0.5 + 0.5, B5 0.5.
        assert!(by_kind(ProblemKind::Unstaffed).is_empty());
        let over = by_kind(ProblemKind::OverloadedWorker);
        assert_eq!(over.len(), 1);
        assert_eq!(over[0].workers, ["w3"]);
        assert_eq!(over[0].grids, ["B2", "B4", "B5"]);
        assert_eq!(over[0].shares, Some(2.0));
        let short = by_kind(ProblemKind::Shortfall);
        // S: 5 blocks, shares 4.5 → 0.5 short, 3 distinct workers. C1: 3 blocks, shares
        // 1 + 0.5 + 0.5 + 1 = 3 → no shortfall. C2: 2 blocks, 1.5 → 0.5 short.
        let got: Vec<_> = short
            .iter()
            .map(|p| {
                (
                    p.grids[0].as_str(),
                    p.blocks,
                    p.worker_count,
                    p.shares,
                    p.shortfall,
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("S", Some(5), Some(3), Some(4.5), Some(0.5)),
                ("C2", Some(2), Some(1), Some(1.5), Some(0.5))
            ]
        );
        assert_eq!(
            short[0].message,
            "street S名 (S) has 5 blocks, 3 workers (shares 4.5): 0.5 short"
        );
    }

    #[test]
    fn unstaffed_blocks_counted_in_the_shortfall() {
        let (catalog, name) = block_tree(vec![
            worker("w1", &[("B1", 1.0)]),
            worker("w2", &[("B4", 1.0)]),
        ]);
        let index = catalog.system(&name).unwrap();
        let found = check(&catalog, index, &CheckOptions::default());
        let unstaffed: Vec<_> = found
            .iter()
            .filter(|p| p.kind == ProblemKind::Unstaffed)
            .map(|p| p.grids[0].as_str())
            .collect();
        assert_eq!(unstaffed, ["B2", "B3", "B5"]);
        let s = found
            .iter()
            .find(|p| p.kind == ProblemKind::Shortfall && p.grids == ["S"])
            .unwrap();
        assert_eq!(
            (s.blocks, s.worker_count, s.shortfall),
            (Some(5), Some(2), Some(3.0))
        );
        assert!(
            s.message
                .ends_with("5 blocks, 2 workers (shares 2): 3 short"),
            "{}",
            s.message
        );
        assert!(s.location.is_some());
    }
}
