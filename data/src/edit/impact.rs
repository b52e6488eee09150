//! What a proposal would move: every registered site whose finest grid
//! changes, the households and workers of every grid it touches, and the
//! problems it would leave.
//!
//! Only sites inside the changed area are located again: a site whose grid
//! changes lies in a grid the proposal changes (before or after), so the
//! candidates are the sites in those grids' bounding boxes, found in the
//! register's point R-tree. Each is located in the proposal's grids first
//! (prepared polygons with the exact border rule), then in the unchanged
//! grids of the catalog. On the 100,000-block city an edit of a few blocks
//! locates a few hundred sites instead of 1.6 million.

use std::collections::{BTreeMap, HashMap};

use geo::BoundingRect;
use serde::Serialize;

use super::proposal::Proposal;
use crate::catalog::Catalog;
use crate::index::PreparedPolygon;

/// A site that changes grid.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SiteMove {
    pub id: String,
    pub kind: String,
    pub name: String,
    /// Its finest grid before and after; `None`: outside every grid.
    pub from: Option<String>,
    pub to: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WorkerShare {
    pub id: String,
    pub name: String,
    pub share: f64,
}

/// One grid the proposal touches.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GridLoad {
    pub code: String,
    /// The grid's name after (before, for a deleted grid).
    pub name: String,
    pub level: String,
    /// `created`, `changed` or `deleted`.
    pub change: &'static str,
    pub households_before: u64,
    pub households_after: u64,
    /// Sites inside it (whole subtree) before and after.
    pub sites_before: u64,
    pub sites_after: u64,
    /// Its workers as the proposal has them.
    pub workers: Vec<WorkerShare>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Impact {
    pub sites: Vec<SiteMove>,
    pub grids: Vec<GridLoad>,
    /// What the proposal would leave wrong that the rules do not refuse:
    /// grids without a worker, sites left outside every grid.
    pub problems: Vec<String>,
    /// Sites located again (the candidates in the changed area).
    pub sites_checked: usize,
}

/// The impact of `p` on `catalog` (its sites and the grids it does not change).
pub fn impact(p: &Proposal, catalog: &Catalog) -> Impact {
    let Some(index) = catalog.system(&p.system) else {
        return Impact {
            sites: vec![],
            grids: vec![],
            problems: vec![],
            sites_checked: 0,
        };
    };
    let depths = index.system().levels.len();
    // The proposal's grids, prepared, by depth.
    let mut changed: Vec<Vec<(&str, Vec<PreparedPolygon>)>> =
        (0..depths).map(|_| Vec::new()).collect();
    let mut bboxes: Vec<[f64; 4]> = Vec::new();
    for (code, g) in &p.body.grids {
        for g in [g.as_ref(), p.body.before.get(code).and_then(Option::as_ref)]
            .into_iter()
            .flatten()
        {
            if let Some(r) = g.geometry.bounding_rect() {
                bboxes.push([r.min().x, r.min().y, r.max().x, r.max().y]);
            }
        }
        if let Some(g) = g {
            if let Some(d) = index.system().depth_of(&g.level) {
                changed[d].push((
                    code.as_str(),
                    g.geometry.0.iter().map(PreparedPolygon::new).collect(),
                ));
            }
        }
    }
    let register = catalog.site_register();
    let mut candidates: Vec<u32> = bboxes
        .iter()
        .flat_map(|b| register.points().in_bbox(*b))
        .collect();
    candidates.sort_unstable();
    candidates.dedup();

    let locate_after = |d: usize, lon: f64, lat: f64| -> Option<String> {
        for (code, parts) in &changed[d] {
            if parts.iter().any(|pp| pp.locate(lon, lat).inside) {
                return Some((*code).to_string());
            }
        }
        let hit = index.locate_at_depth(d, lon, lat)?;
        let code = &index.grids()[hit.grid].code;
        // A grid the proposal changes answered with its old shape.
        (!p.body.grids.contains_key(code)).then(|| code.clone())
    };
    let mut moves = Vec::new();
    // Per touched code: (households, sites) gained and lost.
    let mut delta: HashMap<String, (i64, i64)> = HashMap::new();
    let mut outside = 0usize;
    for &i in &candidates {
        let site = &register.sites()[i as usize];
        let before: Vec<Option<String>> = catalog
            .site_assignment(&p.system, i as usize)
            .unwrap_or_default()
            .into_iter()
            .map(|h| h.map(|h| index.grids()[h.grid].code.clone()))
            .collect();
        let after: Vec<Option<String>> = (0..depths)
            .map(|d| locate_after(d, site.lon, site.lat))
            .collect();
        let households = i64::from(site.households.unwrap_or(0));
        for code in before.iter().flatten() {
            if !after.contains(&Some(code.clone())) {
                let e = delta.entry(code.clone()).or_default();
                e.0 -= households;
                e.1 -= 1;
            }
        }
        for code in after.iter().flatten() {
            if !before.contains(&Some(code.clone())) {
                let e = delta.entry(code.clone()).or_default();
                e.0 += households;
                e.1 += 1;
            }
        }
        let finest = |chain: &[Option<String>]| chain.iter().rev().flatten().next().cloned();
        let (from, to) = (finest(&before), finest(&after));
        if from != to {
            if to.is_none() {
                outside += 1;
            }
            moves.push(SiteMove {
                id: site.id.to_string(),
                kind: register.kind_name(site).to_string(),
                name: site.name.to_string(),
                from,
                to,
            });
        }
    }

    let workers_of = |code: &str| -> Vec<WorkerShare> {
        let mut out: BTreeMap<String, WorkerShare> = BTreeMap::new();
        for (w, share) in catalog.workers_of(&p.system, code) {
            if !p.body.workers.contains_key(&w.id) {
                out.insert(
                    w.id.clone(),
                    WorkerShare {
                        id: w.id.clone(),
                        name: w.name.clone(),
                        share,
                    },
                );
            }
        }
        for w in p.body.workers.values() {
            for a in w
                .grids
                .iter()
                .filter(|a| a.system == p.system && a.code == code)
            {
                out.insert(
                    w.id.clone(),
                    WorkerShare {
                        id: w.id.clone(),
                        name: w.name.clone(),
                        share: a.share,
                    },
                );
            }
        }
        out.into_values().collect()
    };
    let finest_level = index.system().levels.last().cloned().unwrap_or_default();
    let mut problems = Vec::new();
    let mut grids = Vec::new();
    let mut codes: Vec<&String> = p
        .body
        .grids
        .keys()
        .chain(p.body.workers.values().flat_map(|w| {
            w.grids
                .iter()
                .filter(|a| a.system == p.system)
                .map(|a| &a.code)
        }))
        .collect();
    codes.extend(p.body.workers_before.values().flat_map(|w| {
        w.grids
            .iter()
            .filter(|a| a.system == p.system)
            .map(|a| &a.code)
    }));
    codes.sort();
    codes.dedup();
    for code in codes {
        let after = p.grid(catalog, code);
        let before = index.grid_index(code);
        let Some(shown) = after.or_else(|| before.map(|i| &index.grids()[i])) else {
            continue;
        };
        let stats = before.and_then(|i| catalog.grid_site_stats(&p.system, i));
        let (h0, s0) = stats.map_or((0, 0), |s| (s.households, s.sites.values().sum()));
        let (dh, ds) = delta.get(code.as_str()).copied().unwrap_or_default();
        let workers = if after.is_some() {
            workers_of(code)
        } else {
            vec![]
        };
        if after.is_some() && shown.level == finest_level && workers.is_empty() {
            problems.push(format!(
                "grid {code} ({}) would have no gridworker",
                shown.name
            ));
        }
        grids.push(GridLoad {
            code: code.clone(),
            name: shown.name.clone(),
            level: shown.level.clone(),
            change: match (
                before.is_some()
                    && !p
                        .body
                        .before
                        .get(code.as_str())
                        .is_some_and(Option::is_none),
                after.is_some(),
            ) {
                (false, _) => "created",
                (true, false) => "deleted",
                (true, true) => "changed",
            },
            households_before: if before.is_some() { h0 } else { 0 },
            households_after: if after.is_some() {
                (h0 as i64 + dh).max(0) as u64
            } else {
                0
            },
            sites_before: if before.is_some() { s0 } else { 0 },
            sites_after: if after.is_some() {
                (s0 as i64 + ds).max(0) as u64
            } else {
                0
            },
            workers,
        });
    }
    if outside > 0 {
        problems.push(format!(
            "{outside} registered sites would lie outside every grid"
        ));
    }
    Impact {
        sites: moves,
        grids,
        problems,
        sites_checked: candidates.len(),
    }
}
