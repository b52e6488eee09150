//! Coverage analysis: is the ground fully covered by grids, and the grids by staff?
//!
//! [`check`] examines one grid system of a [`Catalog`] plus the registered
//! [`Site`]s and returns a [`CoverageReport`]: a list of [`Problem`]s in a
//! stable order, each naming the grids (and sites) involved, where it is (a
//! representative point and a geometry) and, for area problems, its geodesic
//! area in square metres.
//!
//! The checks:
//! - **gaps** ([`gaps`]): ground inside a parent that none of its children covers;
//! - **overlaps** ([`overlaps`]): ground claimed by two sibling grids;
//! - **overhangs** ([`overhangs`]): parts of a child outside its parent;
//! - **shapes** ([`shapes`]): invalid geometries and grids smaller than the sliver threshold;
//! - **staffing** ([`staffing`]): finest-level grids without workers, overloaded
//!   workers, and the shortfall of workers per coarser grid;
//! - **orphans** ([`orphans`]): sites in no finest-level grid, or exactly on a border;
//! - **workload** ([`workload`]): households per finest-level grid outside a target range;
//! - **proximity** ([`proximity`]): internet cafes too close to a school.
//!
//! Polygon results are split into connected parts; parts smaller than
//! [`CheckOptions::sliver_m2`] are numeric noise (boolean operations snap
//! coordinates to an integer grid) and are counted, not listed. The polygon
//! work runs per parent, in parallel across parents.
//!
//! ```
//! use gridmap_data::analysis::{check, CheckOptions, ProblemKind};
//! use gridmap_data::catalog::Catalog;
//! use gridmap_data::index::SystemIndex;
//! use gridmap_data::progress::NoProgress;
//! use gridmap_data::{Grid, GridSystem};
//! use geo_types::{polygon, MultiPolygon};
//!
//! let square = |code: &str, level: &str, parent: Option<&str>, x0: f64, x1: f64| {
//!     let ground = polygon![(x: x0, y: 30.0), (x: x1, y: 30.0), (x: x1, y: 30.01), (x: x0, y: 30.01)];
//!     Grid::new(code, level, parent, MultiPolygon(vec![ground]))
//! };
//! // A street whose two blocks leave its eastern fifth uncovered.
//! let grids = vec![
//!     square("S", "street", None, 120.0, 120.01),
//!     square("A", "block", Some("S"), 120.0, 120.004),
//!     square("B", "block", Some("S"), 120.004, 120.008),
//! ];
//! let system = GridSystem::new("demo", vec!["street".into(), "block".into()]);
//! let catalog = Catalog::from_parts(1, [("demo".to_string(), SystemIndex::build(system, grids))].into(), vec![]);
//! let report = check(&catalog, "demo", &CheckOptions::default(), &NoProgress).unwrap();
//! let gaps: Vec<_> = report.problems.iter().filter(|p| p.kind == ProblemKind::Gap).collect();
//! assert_eq!(gaps.len(), 1);
//! assert_eq!(gaps[0].grids, ["S"]);
//! let area = gaps[0].area_m2.unwrap();
//! assert!((area - 213_800.0).abs() < 1_000.0, "{area}");
//! ```

pub mod gaps;
pub mod orphans;
pub mod overhangs;
pub mod overlaps;
pub mod proximity;
pub mod report;
pub mod shapes;
pub mod staffing;
pub mod workload;

pub(crate) mod family;
mod parallel;
mod problem;
#[cfg(test)]
mod testutil;

use std::str::FromStr;

use serde::Serialize;

use crate::catalog::{Catalog, CatalogError};
use crate::progress::Progress;

pub use problem::{Problem, ProblemKind};
pub use report::{CoverageReport, Summary};

/// Errors of [`check`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AnalysisError {
    #[error(transparent)]
    Catalog(#[from] CatalogError),
    #[error("invalid option {option}: {reason}")]
    BadOption {
        option: &'static str,
        reason: String,
    },
}

/// A target range of households per finest-level grid, both ends included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct HouseholdRange {
    pub min: u32,
    pub max: u32,
}

impl FromStr for HouseholdRange {
    type Err = AnalysisError;

    /// Parses `MIN-MAX`, e.g. `300-500`.
    fn from_str(s: &str) -> Result<Self, AnalysisError> {
        let bad = |reason: &str| AnalysisError::BadOption {
            option: "households",
            reason: format!("expected MIN-MAX such as 300-500, got `{s}`: {reason}"),
        };
        let (a, b) = s.split_once('-').ok_or_else(|| bad("no `-`"))?;
        let min: u32 = a
            .trim()
            .parse()
            .map_err(|_| bad("MIN is not a whole number"))?;
        let max: u32 = b
            .trim()
            .parse()
            .map_err(|_| bad("MAX is not a whole number"))?;
        if min > max {
            return Err(bad("MIN is larger than MAX"));
        }
        Ok(Self { min, max })
    }
}

/// Thresholds of a check; [`Default`] gives the documented defaults.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CheckOptions {
    /// Polygon problems smaller than this (m²) are numeric noise and not listed. Default 1.
    pub sliver_m2: f64,
    /// Target households per finest-level grid. Default 300–500.
    pub households: HouseholdRange,
    /// Internet cafes closer than this to a school (metres on the ground) are listed. Default 200.
    pub proximity_m: f64,
    /// Workers whose shares in the system sum to more than this are overloaded. Default 1.5.
    pub max_shares: f64,
}

impl Default for CheckOptions {
    fn default() -> Self {
        Self {
            sliver_m2: 1.0,
            households: HouseholdRange { min: 300, max: 500 },
            proximity_m: 200.0,
            max_shares: 1.5,
        }
    }
}

impl CheckOptions {
    /// Rejects negative or non-finite thresholds.
    pub fn validate(&self) -> Result<(), AnalysisError> {
        let check = |option: &'static str, v: f64| {
            if v.is_finite() && v >= 0.0 {
                Ok(())
            } else {
                Err(AnalysisError::BadOption {
                    option,
                    reason: format!("must be a finite number ≥ 0, got {v}"),
                })
            }
        };
        check("sliver_m2", self.sliver_m2)?;
        check("proximity_m", self.proximity_m)?;
        check("max_shares", self.max_shares)?;
        if self.households.min > self.households.max {
            return Err(AnalysisError::BadOption {
                option: "households",
                reason: format!(
                    "MIN {} is larger than MAX {}",
                    self.households.min, self.households.max
                ),
            });
        }
        Ok(())
    }
}

/// Runs every check on one system of `catalog`, with the catalog's sites as
/// it placed them: the report describes exactly the catalog's data version.
///
/// Deterministic: the same input gives the same report, problems ordered by
/// kind, then grids, then sites, then location.
pub fn check(
    catalog: &Catalog,
    system: &str,
    opts: &CheckOptions,
    progress: &dyn Progress,
) -> Result<CoverageReport, AnalysisError> {
    opts.validate()?;
    let index = catalog.named_system(system)?;
    let mut problems = Vec::new();
    let mut ignored = shapes::Ignored::default();

    problems.extend(shapes::invalid_shapes(index, opts, progress));
    let (family_problems, family_ignored) = family::check_families(index, opts, progress);
    problems.extend(family_problems);
    ignored.add(family_ignored);

    problems.extend(staffing::check(catalog, index, opts));
    let located = orphans::located_sites(catalog, index);
    problems.extend(orphans::check(index, &located));
    let workload_checked = located.iter().any(|l| l.kind == workload::ADDRESS_KIND);
    if workload_checked {
        problems.extend(workload::check(index, &located, opts));
    }
    problems.extend(proximity::check(index, &located, opts));

    problem::sort(&mut problems);
    Ok(CoverageReport::new(
        catalog.version(),
        index,
        opts.clone(),
        problems,
        ignored,
        located.len(),
        workload_checked,
    ))
}

#[cfg(test)]
mod tests {
    use super::testutil::{block_tree, catalog, grid, rect, worker, SYSTEM};
    use super::*;
    use crate::index::SystemIndex;
    use crate::model::GridSystem;
    use crate::progress::NoProgress;
    use std::collections::BTreeMap;

    #[test]
    fn household_range_parsing() {
        assert_eq!(
            "300-500".parse::<HouseholdRange>().unwrap(),
            HouseholdRange { min: 300, max: 500 }
        );
        assert_eq!(
            " 0 - 10 ".parse::<HouseholdRange>().unwrap(),
            HouseholdRange { min: 0, max: 10 }
        );
        for bad in ["300", "a-500", "500-300", "-5-3"] {
            assert!(bad.parse::<HouseholdRange>().is_err(), "{bad}");
        }
        let e = "500-300".parse::<HouseholdRange>().unwrap_err().to_string();
        assert_eq!(e, "invalid option households: expected MIN-MAX such as 300-500, got `500-300`: MIN is larger than MAX");
    }

    #[test]
    fn options_and_systems_are_checked() {
        let (catalog, name) = block_tree(vec![]);
        let bad = CheckOptions {
            sliver_m2: f64::NAN,
            ..CheckOptions::default()
        };
        let e = check(&catalog, &name, &bad, &NoProgress).unwrap_err();
        assert!(
            matches!(
                e,
                AnalysisError::BadOption {
                    option: "sliver_m2",
                    ..
                }
            ),
            "{e}"
        );
        let e = check(&catalog, "nope", &CheckOptions::default(), &NoProgress).unwrap_err();
        assert_eq!(
            e.to_string(),
            "unknown grid system `nope`; known systems: t"
        );
        assert_eq!(catalog.pick_system(None).unwrap().system().name, SYSTEM);
        assert!(catalog.pick_system(Some("x")).is_err());

        let two: BTreeMap<String, SystemIndex> = ["a", "b"]
            .iter()
            .map(|n| {
                (
                    n.to_string(),
                    SystemIndex::build(GridSystem::with_default_levels(*n), vec![]),
                )
            })
            .collect();
        let catalog = Catalog::from_parts(1, two, vec![]);
        let e = catalog.pick_system(None).err().unwrap().to_string();
        assert_eq!(e, "the store has several grid systems (a, b); choose one");
    }

    #[test]
    fn clean_tree_has_only_staffing_problems() {
        let workers = ["B1", "B2", "B3", "B4", "B5"]
            .iter()
            .map(|b| worker(&format!("w{b}"), &[(b, 1.0)]))
            .collect();
        let (catalog, name) = block_tree(workers);
        let report = check(&catalog, &name, &CheckOptions::default(), &NoProgress).unwrap();
        assert!(report.problems.is_empty(), "{:#?}", report.problems);
        assert_eq!(report.summary.total, 0);
        assert_eq!(report.summary.ignored_below_sliver.parts, 0);
    }

    #[test]
    fn childless_parent_and_overlapping_top_level() {
        // Two streets overlapping by 0.001°; T has no community, so all of it is a gap.
        let grids = vec![
            grid("S", "street", None, rect(120.0, 30.0, 120.01, 30.01)),
            grid("T", "street", None, rect(120.009, 30.0, 120.02, 30.01)),
            grid(
                "C",
                "community",
                Some("S"),
                rect(120.0, 30.0, 120.01, 30.01),
            ),
            grid("B", "block", Some("C"), rect(120.0, 30.0, 120.01, 30.01)),
        ];
        let catalog = catalog(grids, vec![worker("w", &[("B", 1.0)])]);
        let report = check(&catalog, SYSTEM, &CheckOptions::default(), &NoProgress).unwrap();
        let got: Vec<_> = report
            .problems
            .iter()
            .map(|p| {
                (
                    p.kind,
                    p.grids.join(","),
                    p.level.clone().unwrap_or_default(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                (ProblemKind::Gap, "T".to_string(), "community".to_string()),
                (
                    ProblemKind::Overlap,
                    "S,T".to_string(),
                    "street".to_string()
                ),
            ]
        );
        assert_eq!(report.summary.counts["gap"], 1);
        assert_eq!(report.summary.counts["overlap"], 1);
    }
}
