//! Workload balance: households (address sites) per finest-level grid against
//! a target range. Run only when the sites include addresses at all, so a
//! system without an address register is not flooded with "under" findings.
//! An address without a household count is unknown, not zero: a grid with
//! such addresses can still be found over the range (what is known already
//! exceeds it), never under it.

use super::orphans::LocatedSite;
use super::problem::{Problem, ProblemKind};
use super::CheckOptions;
use crate::index::SystemIndex;

/// The site kind whose `households` are counted.
pub const ADDRESS_KIND: &str = "address";

/// Households per finest-level grid, indexed like [`SystemIndex::grids`]
/// (0 for grids of other levels).
pub fn households_per_grid(index: &SystemIndex, located: &[LocatedSite]) -> Vec<u64> {
    let mut totals = vec![0u64; index.grids().len()];
    for l in located.iter().filter(|l| l.kind == ADDRESS_KIND) {
        if let Some(hit) = l.hit {
            totals[hit.grid] += u64::from(l.site.households.unwrap_or(0));
        }
    }
    totals
}

/// Finest-level grids with households outside `opts.households`.
pub fn check(index: &SystemIndex, located: &[LocatedSite], opts: &CheckOptions) -> Vec<Problem> {
    let Some(finest) = index.system().levels.last() else {
        return Vec::new();
    };
    let totals = households_per_grid(index, located);
    let mut unknown = vec![false; index.grids().len()];
    for l in located
        .iter()
        .filter(|l| l.kind == ADDRESS_KIND && l.site.households.is_none())
    {
        if let Some(hit) = l.hit {
            unknown[hit.grid] = true;
        }
    }
    let g_index = |index: &SystemIndex, g: &crate::model::Grid| {
        index
            .grid_index(&g.code)
            .expect("the grid comes from this index")
    };
    let range = opts.households;
    let mut found = Vec::new();
    for (g, &total) in index
        .grids()
        .iter()
        .zip(&totals)
        .filter(|(g, _)| &g.level == finest)
    {
        let (kind, what) = if total > u64::from(range.max) {
            (ProblemKind::HouseholdsOver, "over")
        } else if total < u64::from(range.min) && !unknown[g_index(index, g)] {
            (ProblemKind::HouseholdsUnder, "under")
        } else {
            continue;
        };
        let message = format!(
            "{} {} ({}) has {} households, {} the target {}–{}",
            g.level, g.name, g.code, total, what, range.min, range.max
        );
        let mut p = Problem::new(kind, vec![g.code.clone()], message)
            .level(finest)
            .at_area(&g.geometry);
        p.households = Some(total);
        found.push(p);
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::testutil::{block_tree_with_sites, located, site};
    use crate::analysis::HouseholdRange;

    #[test]
    fn over_and_under_target() {
        let mut sites = vec![
            // B1: 250 + 260 = 510 → over. B2: 400 → fine. B3: 299 → under. B4: none → under (0).
            site("address", "a1", 120.001, 30.005, Some(250)),
            site("address", "a2", 120.002, 30.005, Some(260)),
            site("address", "a3", 120.015, 30.005, Some(400)),
            site("address", "a4", 120.025, 30.005, Some(299)),
            site("address", "a5", 120.045, 30.005, Some(300)),
            // Not addresses, or outside: not counted.
            site("school", "s1", 120.035, 30.005, Some(1000)),
            site("address", "far", 125.0, 30.005, Some(1000)),
        ];
        sites.push(site("address", "a6", 120.045, 30.006, None));
        let catalog = block_tree_with_sites(sites);
        let (index, located) = located(&catalog);
        let found = check(index, &located, &CheckOptions::default());
        let got: Vec<_> = found
            .iter()
            .map(|p| (p.kind, p.grids[0].as_str(), p.households.unwrap()))
            .collect();
        assert_eq!(
            got,
            [
                (ProblemKind::HouseholdsOver, "B1", 510),
                (ProblemKind::HouseholdsUnder, "B3", 299),
                (ProblemKind::HouseholdsUnder, "B4", 0),
            ]
        );
        assert_eq!(
            found[0].message,
            "block B1名 (B1) has 510 households, over the target 300–500"
        );

        // Unknown household counts are not zero: 299 known plus an unknown
        // address is not "under"; 510 known plus an unknown is still "over".
        let catalog = block_tree_with_sites(vec![
            site("address", "a1", 120.001, 30.005, Some(510)),
            site("address", "a2", 120.002, 30.005, None),
            site("address", "a4", 120.025, 30.005, Some(299)),
            site("address", "a5", 120.026, 30.005, None),
        ]);
        let (index, located) = crate::analysis::testutil::located(&catalog);
        let kinds: Vec<_> = check(index, &located, &CheckOptions::default())
            .iter()
            .map(|p| (p.kind, p.grids[0].clone()))
            .collect();
        assert!(kinds.contains(&(ProblemKind::HouseholdsOver, "B1".to_string())));
        assert!(!kinds.iter().any(|(_, g)| g == "B3"), "{kinds:?}");
        // A wider range accepts B1.
        let opts = CheckOptions {
            households: HouseholdRange { min: 0, max: 600 },
            ..CheckOptions::default()
        };
        assert!(check(index, &located, &opts).is_empty());
    }
}
