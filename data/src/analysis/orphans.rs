//! Orphan sites: registered points in no finest-level grid, and points lying
//! exactly on a border (assigned by the index's border rule, but worth a look).

use geo::{BoundingRect, Intersects};
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::RTree;

use super::parallel::par_map;
use super::problem::{Problem, ProblemKind};
use crate::index::{Hit, SystemIndex};
use crate::model::Site;
use crate::progress::Progress;

/// A site with the finest-level grid it lies in, if any.
#[derive(Debug, Clone, Copy)]
pub struct LocatedSite<'a> {
    pub site: &'a Site,
    pub hit: Option<Hit>,
}

impl LocatedSite<'_> {
    /// `kind:id`, how reports name a site.
    pub fn label(&self) -> String {
        format!("{}:{}", self.site.kind, self.site.id)
    }
}

/// Finds the finest-level grid of every site.
pub fn locate_sites<'a>(
    index: &SystemIndex,
    sites: &'a [Site],
    progress: &dyn Progress,
) -> Vec<LocatedSite<'a>> {
    let Some(finest) = index.system().levels.len().checked_sub(1) else {
        return sites
            .iter()
            .map(|site| LocatedSite { site, hit: None })
            .collect();
    };
    progress.start("sites", sites.len() as u64);
    let located = par_map(sites, |site| {
        let hit = index.locate_at_depth(finest, site.location.x(), site.location.y());
        LocatedSite { site, hit }
    });
    progress.advance(sites.len() as u64);
    progress.finish();
    located
}

/// Orphan and border sites.
pub fn check(index: &SystemIndex, located: &[LocatedSite]) -> Vec<Problem> {
    let Some(finest) = index.system().levels.last() else {
        return Vec::new();
    };
    let grids = index.grids();
    let mut found = Vec::new();
    let mut finest_tree: Option<RTree<GeomWithData<Rectangle<[f64; 2]>, usize>>> = None;
    for l in located {
        let s = l.site;
        match l.hit {
            None => {
                let message = format!(
                    "{} {} ({}) at {:.6},{:.6} lies in no {}",
                    s.kind,
                    s.name,
                    s.id,
                    s.location.x(),
                    s.location.y(),
                    finest
                );
                let mut p = Problem::new(ProblemKind::OrphanSite, Vec::new(), message)
                    .level(finest)
                    .at_point(s.location);
                p.sites = vec![l.label()];
                found.push(p);
            }
            Some(hit) if hit.on_border => {
                let tree = finest_tree.get_or_insert_with(|| {
                    RTree::bulk_load(
                        grids
                            .iter()
                            .enumerate()
                            .filter(|(_, g)| &g.level == finest)
                            .filter_map(|(i, g)| {
                                let r = g.geometry.bounding_rect()?;
                                Some(GeomWithData::new(
                                    Rectangle::from_corners(
                                        [r.min().x, r.min().y],
                                        [r.max().x, r.max().y],
                                    ),
                                    i,
                                ))
                            })
                            .collect(),
                    )
                });
                let mut touching: Vec<&str> = tree
                    .locate_all_at_point(&[s.location.x(), s.location.y()])
                    .filter(|e| grids[e.data].geometry.intersects(&s.location))
                    .map(|e| grids[e.data].code.as_str())
                    .collect();
                touching.sort_unstable();
                touching.dedup();
                let assigned = &grids[hit.grid];
                let message = format!(
                    "{} {} ({}) lies exactly on the border of {}; counted in {} ({})",
                    s.kind,
                    s.name,
                    s.id,
                    touching.join(", "),
                    assigned.name,
                    assigned.code
                );
                let mut p = Problem::new(
                    ProblemKind::BorderSite,
                    touching.iter().map(|c| c.to_string()).collect(),
                    message,
                )
                .level(finest)
                .at_point(s.location);
                p.sites = vec![l.label()];
                found.push(p);
            }
            Some(_) => {}
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::testutil::{block_tree, site};
    use crate::progress::NoProgress;

    #[test]
    fn outside_and_on_border() {
        let (catalog, name) = block_tree(vec![]);
        let index = catalog.system(&name).unwrap();
        let sites = vec![
            site("address", "in", 120.005, 30.005, Some(10)),
            site("school", "out", 121.0, 30.005, None),
            site("address", "edge", 120.02, 30.005, Some(10)),
        ];
        let located = locate_sites(index, &sites, &NoProgress);
        assert_eq!(located.len(), 3);
        let found = check(index, &located);
        assert_eq!(found.len(), 2, "{found:?}");
        let orphan = found
            .iter()
            .find(|p| p.kind == ProblemKind::OrphanSite)
            .unwrap();
        assert_eq!(orphan.sites, ["school:out"]);
        assert!(orphan.grids.is_empty());
        assert_eq!(orphan.location, Some([121.0, 30.005]));
        assert_eq!(
            orphan.message,
            "school out名 (out) at 121.000000,30.005000 lies in no block"
        );
        let border = found
            .iter()
            .find(|p| p.kind == ProblemKind::BorderSite)
            .unwrap();
        // 120.02 is the B2|B3 border; the border rule gives the point to B3, the grid east of it.
        assert_eq!(border.grids, ["B2", "B3"]);
        assert_eq!(border.sites, ["address:edge"]);
        assert!(
            border
                .message
                .ends_with("on the border of B2, B3; counted in B3名 (B3)"),
            "{}",
            border.message
        );
    }
}
