//! The report of a check and its renderings: text for people, JSON for
//! programs, GeoJSON for maps.

use std::collections::BTreeMap;
use std::fmt::Write;

use serde::Serialize;
use serde_json::{json, Map, Value};

use super::problem::{num, Problem, ProblemKind};
use super::shapes::Ignored;
use super::CheckOptions;
use crate::index::SystemIndex;

/// Counts and thresholds of a report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    /// Problems per kind, every kind listed (0 when none).
    pub counts: BTreeMap<&'static str, usize>,
    pub total: usize,
    /// The thresholds used.
    pub thresholds: CheckOptions,
    /// Polygon parts below `thresholds.sliver_m2`: numeric noise, not listed.
    pub ignored_below_sliver: Ignored,
    /// Grids per level, top down.
    pub grids_per_level: Vec<(String, usize)>,
    pub sites: usize,
    /// False when there were no address sites, so households were not checked.
    pub workload_checked: bool,
}

/// Everything [`super::check`] found in one system.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CoverageReport {
    pub system: String,
    pub levels: Vec<String>,
    /// Data version of the catalog checked.
    pub catalog_version: u64,
    pub summary: Summary,
    /// Ordered by kind, grids, sites, workers, location.
    pub problems: Vec<Problem>,
    /// Kinds whose problems this rendering leaves out (their counts stay in
    /// the summary); empty in a full report. See [`CoverageReport::public`].
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub withheld: Vec<&'static str>,
}

impl CoverageReport {
    pub(crate) fn new(
        catalog_version: u64,
        index: &SystemIndex,
        thresholds: CheckOptions,
        problems: Vec<Problem>,
        ignored: Ignored,
        sites: usize,
        workload_checked: bool,
    ) -> Self {
        let mut counts: BTreeMap<&'static str, usize> =
            ProblemKind::ALL.iter().map(|k| (k.as_str(), 0)).collect();
        for p in &problems {
            *counts.entry(p.kind.as_str()).or_default() += 1;
        }
        let system = index.system();
        let grids_per_level = system
            .levels
            .iter()
            .map(|l| {
                (
                    l.clone(),
                    index.grids().iter().filter(|g| &g.level == l).count(),
                )
            })
            .collect();
        Self {
            system: system.name.clone(),
            levels: system.levels.clone(),
            catalog_version,
            summary: Summary {
                counts,
                total: problems.len(),
                thresholds,
                ignored_below_sliver: ignored,
                grids_per_level,
                sites,
                workload_checked,
            },
            problems,
            withheld: Vec::new(),
        }
    }

    /// The report as the public may see it: problems that carry register
    /// figures (households per grid) are left out and named in `withheld`;
    /// how many grids each such kind found stays in the summary's counts.
    pub fn public(&self) -> CoverageReport {
        CoverageReport {
            system: self.system.clone(),
            levels: self.levels.clone(),
            catalog_version: self.catalog_version,
            summary: self.summary.clone(),
            problems: self
                .problems
                .iter()
                .filter(|p| !p.kind.shows_register_figures())
                .cloned()
                .collect(),
            withheld: ProblemKind::ALL
                .iter()
                .filter(|k| k.shows_register_figures())
                .map(|k| k.as_str())
                .collect(),
        }
    }

    /// Problems of one kind, in report order.
    pub fn of_kind(&self, kind: ProblemKind) -> impl Iterator<Item = &Problem> {
        self.problems.iter().filter(move |p| p.kind == kind)
    }

    /// The structured report (problems without geometries; each has a `location`).
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).expect("a report serialises")
    }

    /// A FeatureCollection, one Feature per problem (its geometry, and its fields
    /// as properties), with the summary as a foreign member `summary`.
    pub fn to_geojson(&self) -> Value {
        let features: Vec<Value> = self
            .problems
            .iter()
            .map(|p| {
                let mut properties = match serde_json::to_value(p).expect("a problem serialises") {
                    Value::Object(m) => m,
                    _ => Map::new(),
                };
                properties.remove("location");
                properties.insert("system".into(), Value::String(self.system.clone()));
                let geometry = p.geometry.as_ref().map(|g| {
                    serde_json::to_value(geojson::Geometry::from(g)).expect("geometry serialises")
                });
                json!({ "type": "Feature", "geometry": geometry, "properties": properties })
            })
            .collect();
        json!({
            "type": "FeatureCollection",
            "system": self.system,
            "levels": self.levels,
            "catalog_version": self.catalog_version,
            "summary": self.summary,
            "withheld": self.withheld,
            "features": features,
        })
    }

    /// A plain-text report: summary, then one line per problem with a representative point.
    pub fn to_text(&self) -> String {
        let s = &self.summary;
        let t = &s.thresholds;
        let mut out = String::new();
        let _ = writeln!(
            out,
            "Coverage check of grid system `{}` (levels {}), data version {}",
            self.system,
            self.levels.join(" → "),
            self.catalog_version
        );
        let per_level: Vec<String> = s
            .grids_per_level
            .iter()
            .map(|(l, n)| format!("{n} {l}"))
            .collect();
        let total: usize = s.grids_per_level.iter().map(|(_, n)| n).sum();
        let _ = writeln!(
            out,
            "Checked {total} grids ({}) and {} sites.",
            per_level.join(", "),
            s.sites
        );
        let _ = writeln!(
            out,
            "Thresholds: slivers below {} m² ignored ({} parts, {} m² in all); households {}–{} per {}; internet cafes within {} m of a school; more than {} grids per worker.",
            num(t.sliver_m2, 3),
            s.ignored_below_sliver.parts,
            num(s.ignored_below_sliver.area_m2, 3),
            t.households.min,
            t.households.max,
            self.levels.last().map(String::as_str).unwrap_or("grid"),
            num(t.proximity_m, 1),
            num(t.max_shares, 2)
        );
        if !s.workload_checked {
            let _ = writeln!(out, "No address sites: households per grid not checked.");
        }
        let _ = writeln!(out, "{} problems.", s.total);
        for kind in ProblemKind::ALL {
            let n = s.counts.get(kind.as_str()).copied().unwrap_or(0);
            if n == 0 {
                continue;
            }
            let _ = writeln!(out, "\n{} ({n}):", kind.as_str());
            for p in self.of_kind(kind) {
                let at = p
                    .location
                    .map(|[x, y]| format!(" at {x:.6},{y:.6}"))
                    .unwrap_or_default();
                let _ = writeln!(out, "  {}{at}", p.message);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::check;
    use crate::analysis::testutil::{block_tree, site, worker};
    use crate::progress::NoProgress;

    fn sample() -> CoverageReport {
        let (catalog, name) = block_tree(vec![worker("w1", &[("B1", 1.0)])]);
        let sites = vec![
            site("school", "far", 121.0, 30.0, None),
            site("address", "a", 120.005, 30.005, Some(400)),
        ];
        let catalog = catalog.with_sites(sites);
        check(&catalog, &name, &CheckOptions::default(), &NoProgress).unwrap()
    }

    #[test]
    fn text_lists_summary_and_points() {
        let text = sample().to_text();
        assert!(text.starts_with("Coverage check of grid system `t` (levels street → community → block), data version 7\n"), "{text}");
        assert!(
            text.contains("Checked 8 grids (1 street, 2 community, 5 block) and 2 sites."),
            "{text}"
        );
        assert!(text.contains("slivers below 1 m² ignored"), "{text}");
        assert!(
            text.contains(
                "\nunstaffed (4):\n  block B2名 (B2) has no worker at 120.015000,30.005000\n"
            ),
            "{text}"
        );
        assert!(text.contains("\norphan_site (1):\n  school far名 (far) at 121.000000,30.000000 lies in no block at 121.000000,30.000000\n"), "{text}");
        assert!(!text.contains("\ngap ("), "{text}");
    }

    #[test]
    fn public_report_holds_no_household_figures() {
        let full = sample();
        assert!(full.of_kind(ProblemKind::HouseholdsUnder).count() > 0);
        let public = full.public();
        let v = public.to_json();
        assert_eq!(
            v["withheld"],
            json!(["households_over", "households_under"])
        );
        assert_eq!(v["summary"]["counts"]["households_under"], 4);
        let problems = v["problems"].as_array().unwrap();
        assert_eq!(
            problems.len(),
            full.problems.len() - 4,
            "only the household findings go"
        );
        assert!(problems
            .iter()
            .all(|p| p["households"].is_null()
                && !p["message"].as_str().unwrap().contains("households")));
        let geo = public.to_geojson();
        assert!(geo["features"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["properties"]["households"].is_null()));
        assert!(full.to_json().get("withheld").is_none());
    }

    #[test]
    fn json_has_summary_and_problems_without_geometry() {
        let report = sample();
        let v = report.to_json();
        assert_eq!(v["system"], "t");
        assert_eq!(v["summary"]["counts"]["unstaffed"], 4);
        assert_eq!(v["summary"]["counts"]["gap"], 0);
        assert_eq!(
            v["summary"]["counts"]["households_under"], 4,
            "B2..B5 have no households"
        );
        assert_eq!(v["summary"]["thresholds"]["sliver_m2"], 1.0);
        assert_eq!(v["summary"]["thresholds"]["households"]["min"], 300);
        assert_eq!(v["summary"]["total"], report.problems.len());
        let first = &v["problems"][0];
        assert_eq!(first["kind"], "unstaffed");
        assert!(first.get("geometry").is_none());
        assert!(first["location"].is_array());
    }

    #[test]
    fn geojson_feature_per_problem() {
        let report = sample();
        let v = report.to_geojson();
        assert_eq!(v["type"], "FeatureCollection");
        let features = v["features"].as_array().unwrap();
        assert_eq!(features.len(), report.problems.len());
        let orphan = features
            .iter()
            .find(|f| f["properties"]["kind"] == "orphan_site")
            .unwrap();
        assert_eq!(
            orphan["geometry"],
            json!({"type": "Point", "coordinates": [121.0, 30.0]})
        );
        assert_eq!(orphan["properties"]["sites"], json!(["school:far"]));
        let unstaffed = features
            .iter()
            .find(|f| f["properties"]["kind"] == "unstaffed")
            .unwrap();
        assert_eq!(unstaffed["geometry"]["type"], "MultiPolygon");
        assert_eq!(unstaffed["properties"]["grids"], json!(["B2"]));
        assert_eq!(v["summary"]["counts"]["orphan_site"], 1);
    }
}
