//! Orphan sites: registered points in no finest-level grid, and points lying
//! exactly on a border (assigned by the index's border rule, but worth a look).

use geo::{BoundingRect, Intersects};
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::RTree;

use geo_types::Point;

use super::problem::{Problem, ProblemKind};
use crate::catalog::Catalog;
use crate::index::{Hit, SystemIndex};
use crate::sites::SiteEntry;

/// A site with the finest-level grid it lies in, if any.
#[derive(Debug, Clone, Copy)]
pub struct LocatedSite<'a> {
    pub site: &'a SiteEntry,
    pub kind: &'a str,
    pub hit: Option<Hit>,
}

impl LocatedSite<'_> {
    /// `kind:id`, how reports name a site.
    pub fn label(&self) -> String {
        format!("{}:{}", self.kind, self.site.id)
    }

    pub fn location(&self) -> Point<f64> {
        Point::new(self.site.lon, self.site.lat)
    }
}

/// Every site of the catalog with its finest-level grid in `index`, as the
/// catalog placed it when it was built (no point is located again).
pub fn located_sites<'a>(catalog: &'a Catalog, index: &SystemIndex) -> Vec<LocatedSite<'a>> {
    let register = catalog.site_register();
    let finest = index.system().levels.len().checked_sub(1);
    let assignment = register.assignment(&index.system().name);
    register
        .sites()
        .iter()
        .enumerate()
        .map(|(i, site)| LocatedSite {
            site,
            kind: register.kind_name(site),
            hit: finest.zip(assignment).and_then(|(d, a)| a.hit(i, d)),
        })
        .collect()
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
        let at = l.location();
        match l.hit {
            None => {
                let message = format!(
                    "{} {} ({}) at {:.6},{:.6} lies in no {}",
                    l.kind,
                    s.name,
                    s.id,
                    at.x(),
                    at.y(),
                    finest
                );
                let mut p = Problem::new(ProblemKind::OrphanSite, Vec::new(), message)
                    .level(finest)
                    .at_point(at);
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
                    .locate_all_at_point(&[at.x(), at.y()])
                    .filter(|e| grids[e.data].geometry.intersects(&at))
                    .map(|e| grids[e.data].code.as_str())
                    .collect();
                touching.sort_unstable();
                touching.dedup();
                let assigned = &grids[hit.grid];
                let message = format!(
                    "{} {} ({}) lies exactly on the border of {}; counted in {} ({})",
                    l.kind,
                    s.name,
                    s.id,
                    touching.join(", "),
                    assigned.name,
                    assigned.code
                );
                let mut p = Problem::new(
                    ProblemKind::BorderSite,
                    touching.iter().map(ToString::to_string).collect(),
                    message,
                )
                .level(finest)
                .at_point(at);
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
    use crate::analysis::testutil::{block_tree_with_sites, located, site};

    #[test]
    fn outside_and_on_border() {
        let catalog = block_tree_with_sites(vec![
            site("address", "in", 120.005, 30.005, Some(10)),
            site("school", "out", 121.0, 30.005, None),
            site("address", "edge", 120.02, 30.005, Some(10)),
        ]);
        let (index, located) = located(&catalog);
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
