//! Proximity rules: internet cafes within a distance of a school, measured on
//! the ground (geodesic distance on WGS84). Schools go into an R-tree in
//! degrees; each cafe queries a box that surely holds the circle, then the
//! exact distance decides.

use geo::{Distance, Geodesic};
use rstar::primitives::GeomWithData;
use rstar::{RTree, AABB};

use super::orphans::LocatedSite;
use super::problem::{num, round2, Problem, ProblemKind};
use super::CheckOptions;
use crate::index::SystemIndex;

pub const SCHOOL_KIND: &str = "school";
pub const CAFE_KIND: &str = "internet_cafe";

/// Metres per degree of latitude, at least (the meridian degree is 110,574 m at the equator).
const MIN_M_PER_DEG_LAT: f64 = 110_500.0;
/// Metres per degree of longitude at the equator, at least.
const MIN_M_PER_DEG_LON_EQUATOR: f64 = 111_300.0;

/// A degree box around `(lon, lat)` holding every point within `d` metres.
fn search_box(lon: f64, lat: f64, d: f64) -> AABB<[f64; 2]> {
    let dlat = d / MIN_M_PER_DEG_LAT * 1.01;
    let worst_lat = (lat.abs() + dlat).min(89.9);
    let dlon = (d / (MIN_M_PER_DEG_LON_EQUATOR * worst_lat.to_radians().cos()) * 1.01).min(360.0);
    AABB::from_corners([lon - dlon, lat - dlat], [lon + dlon, lat + dlat])
}

/// Every (cafe, school) pair closer than `opts.proximity_m`.
pub fn check(index: &SystemIndex, located: &[LocatedSite], opts: &CheckOptions) -> Vec<Problem> {
    let schools: Vec<&LocatedSite> = located.iter().filter(|l| l.kind == SCHOOL_KIND).collect();
    if schools.is_empty() {
        return Vec::new();
    }
    let tree = RTree::bulk_load(
        schools
            .iter()
            .enumerate()
            .map(|(i, s)| GeomWithData::new([s.site.lon, s.site.lat], i))
            .collect(),
    );
    let grids = index.grids();
    let mut found = Vec::new();
    for cafe in located.iter().filter(|l| l.kind == CAFE_KIND) {
        let at = cafe.location();
        let mut near: Vec<(f64, &LocatedSite)> = tree
            .locate_in_envelope(&search_box(at.x(), at.y(), opts.proximity_m))
            .map(|e| schools[e.data])
            .map(|school| (Geodesic.distance(at, school.location()), school))
            .filter(|(d, _)| *d <= opts.proximity_m)
            .collect();
        near.sort_by(|a, b| a.1.site.id.cmp(&b.1.site.id));
        for (d, school) in near {
            let mut codes: Vec<String> = [cafe.hit, school.hit]
                .iter()
                .flatten()
                .map(|h| grids[h.grid].code.clone())
                .collect();
            codes.sort();
            codes.dedup();
            let message = format!(
                "internet cafe {} ({}) is {} m from school {} ({}), closer than {} m",
                cafe.site.name,
                cafe.site.id,
                num(d, 1),
                school.site.name,
                school.site.id,
                num(opts.proximity_m, 1)
            );
            let mut p = Problem::new(ProblemKind::NearSchool, codes, message).at_point(at);
            p.sites = vec![cafe.label(), school.label()];
            p.distance_m = Some(round2(d));
            found.push(p);
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::testutil::{block_tree_with_sites, located, site};

    #[test]
    fn known_distances() {
        // Along a meridian at 30°N one degree of latitude is 110,852.4 m (WGS84), so
        // 0.0015° is 166.28 m and 0.0019° is 210.62 m. 0.002° of longitude at 30°N is 192.97 m.
        let sites = vec![
            site("school", "S1", 120.005, 30.002, None),
            site("internet_cafe", "near", 120.005, 30.0035, None),
            site("internet_cafe", "far", 120.005, 30.0039, None),
            site("internet_cafe", "east", 120.007, 30.002, None),
            site("food", "ignored", 120.005, 30.0021, None),
        ];
        let catalog = block_tree_with_sites(sites);
        let (index, located) = located(&catalog);
        let found = check(index, &located, &CheckOptions::default());
        let got: Vec<_> = found
            .iter()
            .map(|p| (p.sites[0].as_str(), p.distance_m.unwrap()))
            .collect();
        assert_eq!(got.len(), 2, "{got:?}");
        assert_eq!(got[0].0, "internet_cafe:near");
        assert!((got[0].1 - 166.28).abs() < 0.05, "{got:?}");
        assert_eq!(got[1].0, "internet_cafe:east");
        assert!((got[1].1 - 192.97).abs() < 0.05, "{got:?}");
        assert_eq!(found[0].sites[1], "school:S1");
        assert_eq!(found[0].grids, ["B1"]);
        assert!(found[0]
            .message
            .starts_with("internet cafe near名 (near) is 166.3 m from school S1名 (S1)"));
        // At 220 m the far cafe (210.6 m) is in too.
        let opts = CheckOptions {
            proximity_m: 220.0,
            ..CheckOptions::default()
        };
        assert_eq!(check(index, &located, &opts).len(), 3);
    }

    #[test]
    fn search_box_holds_the_circle() {
        for lat in [0.0, 30.0, 60.0, -45.0] {
            let b = search_box(120.0, lat, 1000.0);
            let north = geo_types::Point::new(120.0, b.upper()[1]);
            let east = geo_types::Point::new(b.upper()[0], lat);
            let c = geo_types::Point::new(120.0, lat);
            assert!(
                Geodesic.distance(c, north) > 1000.0 && Geodesic.distance(c, east) > 1000.0,
                "{lat}"
            );
        }
    }
}
