//! One finding of a check, and the report's ordering of findings.

use std::cmp::Ordering;

use geo::InteriorPoint;
use geo_types::{Geometry, MultiPolygon, Point, Polygon};
use serde::Serialize;

/// What kind of problem a [`Problem`] is. The declaration order is the report order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProblemKind {
    /// Ground inside a parent that none of its children covers.
    Gap,
    /// Ground claimed by two sibling grids.
    Overlap,
    /// Part of a child outside its parent.
    Overhang,
    /// A geometry that is not a valid polygonal area.
    InvalidGeometry,
    /// A grid smaller than the sliver threshold.
    SliverGrid,
    /// A finest-level grid with no worker.
    Unstaffed,
    /// A worker whose shares sum to more than the allowed maximum.
    OverloadedWorker,
    /// A worker assigned to a grid the system does not hold (left behind by
    /// a replace or by another program's edit).
    DanglingAssignment,
    /// A coarser grid with fewer workers (shares summed) than finest-level grids.
    Shortfall,
    /// A site in no finest-level grid.
    OrphanSite,
    /// A site exactly on the border between grids.
    BorderSite,
    /// A finest-level grid with more households than the target range.
    HouseholdsOver,
    /// A finest-level grid with fewer households than the target range.
    HouseholdsUnder,
    /// An internet cafe within the proximity distance of a school.
    NearSchool,
}

impl ProblemKind {
    /// Every kind, in report order.
    pub const ALL: [ProblemKind; 14] = [
        Self::Gap,
        Self::Overlap,
        Self::Overhang,
        Self::InvalidGeometry,
        Self::SliverGrid,
        Self::Unstaffed,
        Self::OverloadedWorker,
        Self::DanglingAssignment,
        Self::Shortfall,
        Self::OrphanSite,
        Self::BorderSite,
        Self::HouseholdsOver,
        Self::HouseholdsUnder,
        Self::NearSchool,
    ];

    /// True for kinds whose findings carry register figures (household
    /// counts) that a publicity board does not show: public answers leave
    /// them out ([`super::CoverageReport::public`]).
    pub fn shows_register_figures(self) -> bool {
        matches!(self, Self::HouseholdsOver | Self::HouseholdsUnder)
    }

    /// The snake_case name used in JSON and GeoJSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Gap => "gap",
            Self::Overlap => "overlap",
            Self::Overhang => "overhang",
            Self::InvalidGeometry => "invalid_geometry",
            Self::SliverGrid => "sliver_grid",
            Self::Unstaffed => "unstaffed",
            Self::OverloadedWorker => "overloaded_worker",
            Self::DanglingAssignment => "dangling_assignment",
            Self::Shortfall => "shortfall",
            Self::OrphanSite => "orphan_site",
            Self::BorderSite => "border_site",
            Self::HouseholdsOver => "households_over",
            Self::HouseholdsUnder => "households_under",
            Self::NearSchool => "near_school",
        }
    }
}

/// One problem found by a check. Numbers that do not apply to a kind are `None`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Problem {
    pub kind: ProblemKind,
    /// Level of the grids the problem is about (the children's level for gaps).
    pub level: Option<String>,
    /// Codes of the grids involved, sorted (overhang: `[child, parent]`).
    pub grids: Vec<String>,
    /// Sites involved as `kind:id`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sites: Vec<String>,
    /// Workers involved (ids).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub workers: Vec<String>,
    /// Geodesic area of the problem polygon, m² (rounded to 0.01).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub area_m2: Option<f64>,
    /// Geodesic distance, m (rounded to 0.01).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distance_m: Option<f64>,
    /// Finest-level grids counted (shortfall).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blocks: Option<usize>,
    /// Distinct workers counted (shortfall).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub worker_count: Option<usize>,
    /// Shares summed (shortfall, overloaded worker).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shares: Option<f64>,
    /// Grids minus shares (shortfall).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shortfall: Option<f64>,
    /// Households counted (workload).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub households: Option<u64>,
    pub message: String,
    /// A representative point `[lon, lat]`: inside the problem polygon, or the site.
    pub location: Option<[f64; 2]>,
    /// Where the problem is: a polygon for area problems, the grid for grid
    /// problems, a point for site problems. Not part of the JSON report.
    #[serde(skip)]
    pub geometry: Option<Geometry<f64>>,
}

impl Problem {
    /// A problem with only kind, grids and message set.
    pub fn new(kind: ProblemKind, grids: Vec<String>, message: String) -> Self {
        Self {
            kind,
            level: None,
            grids,
            sites: Vec::new(),
            workers: Vec::new(),
            area_m2: None,
            distance_m: None,
            blocks: None,
            worker_count: None,
            shares: None,
            shortfall: None,
            households: None,
            message,
            location: None,
            geometry: None,
        }
    }

    /// Sets the geometry and the location to an interior point of a polygon.
    pub(crate) fn at_polygon(mut self, polygon: Polygon<f64>) -> Self {
        self.location = polygon.interior_point().map(|p| [p.x(), p.y()]);
        self.geometry = Some(Geometry::Polygon(polygon));
        self
    }

    /// Sets the geometry and the location to an interior point of a multipolygon.
    pub(crate) fn at_area(mut self, area: &MultiPolygon<f64>) -> Self {
        self.location = area.interior_point().map(|p| [p.x(), p.y()]);
        self.geometry = Some(Geometry::MultiPolygon(area.clone()));
        self
    }

    /// Sets the geometry and the location to a point.
    pub(crate) fn at_point(mut self, p: Point<f64>) -> Self {
        self.location = Some([p.x(), p.y()]);
        self.geometry = Some(Geometry::Point(p));
        self
    }

    pub(crate) fn level(mut self, level: &str) -> Self {
        self.level = Some(level.to_string());
        self
    }
}

/// Rounds to hundredths so reports do not show float noise.
pub(crate) fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

/// Formats a number with at most `decimals` decimals, trailing zeros removed.
pub(crate) fn num(v: f64, decimals: usize) -> String {
    let s = format!("{v:.decimals$}");
    let s = if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        &s
    };
    if s == "-0" {
        "0".to_string()
    } else {
        s.to_string()
    }
}

fn cmp_location(a: &Option<[f64; 2]>, b: &Option<[f64; 2]>) -> Ordering {
    match (a, b) {
        (Some(a), Some(b)) => a[0].total_cmp(&b[0]).then(a[1].total_cmp(&b[1])),
        _ => a.is_some().cmp(&b.is_some()),
    }
}

/// The report order: kind, grids, sites, workers, location, then area (largest first).
pub(crate) fn sort(problems: &mut [Problem]) {
    problems.sort_by(|a, b| {
        a.kind
            .cmp(&b.kind)
            .then_with(|| a.grids.cmp(&b.grids))
            .then_with(|| a.sites.cmp(&b.sites))
            .then_with(|| a.workers.cmp(&b.workers))
            .then_with(|| cmp_location(&a.location, &b.location))
            .then_with(|| {
                b.area_m2
                    .unwrap_or(0.0)
                    .total_cmp(&a.area_m2.unwrap_or(0.0))
            })
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_without_noise() {
        assert_eq!(num(87.0, 2), "87");
        assert_eq!(num(56.5, 2), "56.5");
        assert_eq!(num(-0.0001, 2), "0");
        assert_eq!(num(1234.5678, 1), "1234.6");
        assert_eq!(round2(1.23456), 1.23);
    }

    #[test]
    fn order_is_kind_then_grids_then_location() {
        let p = |kind, grids: &[&str], x: f64| {
            let mut p = Problem::new(
                kind,
                grids.iter().map(ToString::to_string).collect(),
                String::new(),
            );
            p.location = Some([x, 0.0]);
            p
        };
        let mut v = vec![
            p(ProblemKind::Overlap, &["A", "B"], 1.0),
            p(ProblemKind::Gap, &["S"], 2.0),
            p(ProblemKind::Gap, &["S"], 1.0),
            p(ProblemKind::Gap, &["R"], 3.0),
        ];
        sort(&mut v);
        let got: Vec<_> = v
            .iter()
            .map(|p| (p.kind, p.grids[0].clone(), p.location.unwrap()[0]))
            .collect();
        assert_eq!(
            got,
            [
                (ProblemKind::Gap, "R".to_string(), 3.0),
                (ProblemKind::Gap, "S".to_string(), 1.0),
                (ProblemKind::Gap, "S".to_string(), 2.0),
                (ProblemKind::Overlap, "A".to_string(), 1.0)
            ]
        );
        assert_eq!(ProblemKind::ALL.len(), 14);
        for k in ProblemKind::ALL {
            assert_eq!(serde_json::to_value(k).unwrap(), k.as_str());
        }
    }
}
