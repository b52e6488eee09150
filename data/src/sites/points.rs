//! A spatial index of site locations, for bounding-box queries (vector tiles).

use rstar::primitives::GeomWithData;
use rstar::{RTree, AABB};

use super::SiteEntry;

/// Site locations in an R-tree; entries carry the site index.
pub struct SitePoints {
    tree: RTree<GeomWithData<[f64; 2], u32>>,
}

impl SitePoints {
    /// Indexes every site with a finite location.
    pub fn new(sites: &[SiteEntry]) -> Self {
        let entries = sites
            .iter()
            .enumerate()
            .filter(|(_, s)| s.lon.is_finite() && s.lat.is_finite())
            .map(|(i, s)| GeomWithData::new([s.lon, s.lat], i as u32))
            .collect();
        Self {
            tree: RTree::bulk_load(entries),
        }
    }

    /// Indexes of the sites within `[minlon, minlat, maxlon, maxlat]`
    /// (edges included), ascending.
    pub fn in_bbox(&self, bbox: [f64; 4]) -> Vec<u32> {
        let env = AABB::from_corners([bbox[0], bbox[1]], [bbox[2], bbox[3]]);
        let mut out: Vec<u32> = self.tree.locate_in_envelope(&env).map(|e| e.data).collect();
        out.sort_unstable();
        out
    }

    /// Number of indexed sites.
    pub fn len(&self) -> usize {
        self.tree.size()
    }

    /// True when no site is indexed.
    pub fn is_empty(&self) -> bool {
        self.tree.size() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bbox_query_includes_edges_and_skips_nan() {
        let site = |id: &str, x: f64, y: f64| SiteEntry {
            id: id.into(),
            kind: 0,
            name: "".into(),
            address: None,
            households: None,
            lon: x,
            lat: y,
        };
        let sites = vec![
            site("a", 1.0, 1.0),
            site("b", 2.0, 2.0),
            site("c", f64::NAN, 0.0),
            site("d", 1.5, 3.0),
        ];
        let p = SitePoints::new(&sites);
        assert_eq!(p.len(), 3);
        assert_eq!(p.in_bbox([1.0, 1.0, 2.0, 2.0]), vec![0, 1]);
        assert_eq!(p.in_bbox([0.0, 0.0, 5.0, 5.0]), vec![0, 1, 3]);
        assert!(p.in_bbox([3.0, 3.0, 4.0, 4.0]).is_empty());
    }
}
