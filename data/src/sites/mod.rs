//! Site registers (门牌 addresses, enterprises, fire-risk sites, schools …):
//! import from point files ([`import`]) and assignment to grids ([`assign`]).
//!
//! Sites are kept independent of grid systems in the store. Each [`crate::catalog::Catalog`]
//! snapshot holds a [`SiteRegister`]: all sites plus, for every grid system,
//! the grid holding each site at every level. Since a catalog is rebuilt
//! whenever the store's data version moves, sites are reassigned after every
//! grid or site import.
//!
//! ```
//! use gridmap_data::catalog::Catalog;
//! use gridmap_data::index::SystemIndex;
//! use gridmap_data::model::{Grid, GridSystem, Site};
//! use geo_types::{polygon, MultiPolygon, Point};
//!
//! let square = polygon![(x: 120.0, y: 30.0), (x: 120.1, y: 30.0), (x: 120.1, y: 30.1), (x: 120.0, y: 30.1)];
//! let grid = Grid::new("1", "street", None, MultiPolygon(vec![square])).named("一");
//! let index = SystemIndex::build(GridSystem::new("default", vec!["street".into()]), vec![grid]);
//! let site = Site { id: "A1".into(), kind: "address".into(), name: "1号".into(), address: None,
//!                   households: Some(40), location: Point::new(120.05, 30.05), attributes: Default::default() };
//! let catalog = Catalog::from_parts(1, [("default".to_string(), index)].into(), vec![]).with_sites(vec![site]);
//! let stats = catalog.grid_site_stats("default", 0).unwrap();
//! assert_eq!((stats.sites["address"], stats.households), (1, 40));
//! ```

pub mod assign;
pub mod import;
mod points;
mod read;

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

pub use assign::{GridSiteStats, SystemAssignment};
pub use import::{
    import_sites, placement_summary, prepare_site_import, LevelPlacement, SiteImportError,
    SiteImportOptions, SiteImportReport, SiteProblem, SystemPlacement,
};
pub use points::SitePoints;

use crate::index::{Hit, IndexPatch, SystemIndex};
use crate::model::Site;

/// The kinds gridmap knows by name; any other name matching [`validate_kind`] works too.
pub const KNOWN_KINDS: [&str; 6] = [
    "address",
    "enterprise",
    "fire_risk",
    "school",
    "internet_cafe",
    "food",
];

/// Checks a site kind name: non-empty, lower-case ASCII letters, digits and `_`.
pub fn validate_kind(kind: &str) -> Result<(), String> {
    if kind.is_empty() {
        return Err("site kind must not be empty".into());
    }
    if !kind
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    {
        return Err(format!(
            "site kind `{kind}` may only contain a-z, 0-9 and _ (e.g. {})",
            KNOWN_KINDS.join(", ")
        ));
    }
    Ok(())
}

/// Threads used for assignment: the machine's parallelism, at most 16.
fn threads() -> usize {
    std::thread::available_parallelism()
        .map_or(1, std::num::NonZero::get)
        .min(16)
}

/// A site as a catalog keeps it: compact (about 200 bytes with its text),
/// without the free attributes, which stay in the store.
#[derive(Debug, Clone, PartialEq)]
pub struct SiteEntry {
    pub id: Box<str>,
    /// Position in [`SiteRegister::kinds`].
    pub kind: u16,
    pub name: Box<str>,
    pub address: Option<Box<str>>,
    pub households: Option<u32>,
    /// Longitude/latitude, EPSG:4326; NaN when the store has no location.
    pub lon: f64,
    pub lat: f64,
}

impl SiteEntry {
    /// The entry of a site whose kind is number `kind`.
    pub fn new(site: Site, kind: u16) -> Self {
        Self {
            id: site.id.into_boxed_str(),
            kind,
            name: site.name.into_boxed_str(),
            address: site.address.map(String::into_boxed_str),
            households: site.households,
            lon: site.location.x(),
            lat: site.location.y(),
        }
    }
}

/// All sites of a catalog with their grid assignments in every system.
///
/// The parts are shared (`Arc`): a catalog patched after a grid change
/// ([`SiteRegister::with_system_patched`]) keeps the sites, their point
/// index and every other system's assignment of the catalog before it.
/// Cloning is cheap: it shares every part.
#[derive(Clone)]
pub struct SiteRegister {
    sites: Arc<Vec<SiteEntry>>,
    /// Kind names present, sorted.
    kinds: Arc<Vec<String>>,
    systems: BTreeMap<String, Arc<SystemAssignment>>,
    /// Built on first spatial query (vector tiles), shared by all systems.
    points: Arc<OnceLock<SitePoints>>,
}

impl Default for SiteRegister {
    fn default() -> Self {
        Self::build(Vec::new(), std::iter::empty())
    }
}

impl SiteRegister {
    /// Assigns every site to its grid at every level of every given system.
    /// Cost: sites × levels point lookups, spread over the available cores.
    pub fn build<'a>(sites: Vec<Site>, systems: impl IntoIterator<Item = &'a SystemIndex>) -> Self {
        let mut kinds: Vec<String> = sites
            .iter()
            .map(|s| s.kind.clone())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        kinds.shrink_to_fit();
        assert!(kinds.len() <= u16::MAX as usize, "at most 65535 site kinds");
        // Consuming the sites frees their attributes as the entries are made.
        let mut entries: Vec<SiteEntry> = sites
            .into_iter()
            .map(|s| {
                let k = kinds.binary_search(&s.kind).expect("kind collected above") as u16;
                SiteEntry::new(s, k)
            })
            .collect();
        entries.shrink_to_fit();
        let threads = threads();
        let systems = systems
            .into_iter()
            .map(|idx| {
                let a = SystemAssignment::compute(idx, &entries, kinds.len(), threads);
                (idx.system().name.clone(), Arc::new(a))
            })
            .collect();
        Self {
            sites: Arc::new(entries),
            kinds: Arc::new(kinds),
            systems,
            points: Arc::new(OnceLock::new()),
        }
    }

    /// This register with the assignment of `index`'s system made again for
    /// `index`, the patched successor ([`SystemIndex::patched`]) of the index
    /// it was computed for: only the sites `patch` marks dirty are located.
    /// The sites and the other systems' assignments are shared. `None` when
    /// the register has no assignment for that system.
    pub fn with_system_patched(&self, index: &SystemIndex, patch: &IndexPatch) -> Option<Self> {
        let name = &index.system().name;
        let old = self.systems.get(name)?;
        let mut systems = self.systems.clone();
        systems.insert(
            name.clone(),
            Arc::new(old.patched(index, patch, &self.sites, threads())),
        );
        Some(Self {
            sites: self.sites.clone(),
            kinds: self.kinds.clone(),
            systems,
            points: self.points.clone(),
        })
    }

    /// All sites, ordered by kind then id (the store's order).
    pub fn sites(&self) -> &[SiteEntry] {
        &self.sites
    }

    /// The kind name of a site entry.
    pub fn kind_name(&self, site: &SiteEntry) -> &str {
        &self.kinds[site.kind as usize]
    }

    /// The kinds present, sorted.
    pub fn kinds(&self) -> &[String] {
        &self.kinds
    }

    /// The kind of site `i` as a position in [`SiteRegister::kinds`].
    pub fn kind_number(&self, site: usize) -> Option<usize> {
        self.sites.get(site).map(|s| s.kind as usize)
    }

    /// The assignment of all sites in one system.
    pub fn assignment(&self, system: &str) -> Option<&SystemAssignment> {
        self.systems.get(system).map(|a| &**a)
    }

    /// The grid holding site `site` at each level of `system`, top down.
    pub fn site_assignment(&self, system: &str, site: usize) -> Option<Vec<Option<Hit>>> {
        (site < self.sites.len()).then_some(())?;
        Some(self.systems.get(system)?.hits(site))
    }

    /// Counts per kind (all kinds, zeros included) and households of the
    /// sites inside a grid, which covers its whole subtree.
    pub fn grid_stats(&self, system: &str, grid: usize) -> Option<GridSiteStats> {
        let a = self.systems.get(system)?;
        let sites = self
            .kinds
            .iter()
            .enumerate()
            .map(|(k, name)| (name.clone(), u64::from(a.count(grid, k))))
            .collect();
        Some(GridSiteStats {
            sites,
            households: a.households(grid),
        })
    }

    /// Indexes of the sites inside a grid, in kind/id order.
    pub fn sites_in_grid(&self, system: &str, grid: usize) -> &[u32] {
        self.systems
            .get(system)
            .map(|a| a.sites_of(grid))
            .unwrap_or(&[])
    }

    /// The spatial index of all site locations (built on first use).
    pub fn points(&self) -> &SitePoints {
        self.points.get_or_init(|| SitePoints::new(&self.sites))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::GridSystem;
    use crate::testutil::{grid, rect};
    use geo_types::Point;

    #[test]
    fn kinds_are_validated() {
        for ok in KNOWN_KINDS.iter().copied().chain(["pharmacy_24h", "x"]) {
            assert_eq!(validate_kind(ok), Ok(()));
        }
        assert_eq!(
            validate_kind(""),
            Err("site kind must not be empty".to_string())
        );
        assert!(validate_kind("Fire")
            .unwrap_err()
            .contains("may only contain a-z, 0-9 and _"));
        assert!(validate_kind("a b").is_err() && validate_kind("学校").is_err());
    }

    #[test]
    fn register_stats_and_assignment_per_system() {
        let block = |code: &str, x: f64| grid(code, "block", None, rect(x, 0.0, x + 1.0, 1.0));
        let a = SystemIndex::build(
            GridSystem::new("a", vec!["block".into()]),
            vec![block("L", 0.0), block("R", 1.0)],
        );
        let b = SystemIndex::build(
            GridSystem::new("b", vec!["block".into()]),
            vec![block("W", 0.0)],
        );
        let site = |kind: &str, id: &str, x: f64, h: Option<u32>| Site {
            id: id.into(),
            kind: kind.into(),
            name: id.into(),
            address: None,
            households: h,
            location: Point::new(x, 0.5),
            attributes: Default::default(),
        };
        let sites = vec![
            site("address", "1", 0.5, Some(5)),
            site("address", "2", 1.5, Some(6)),
            site("school", "3", 1.2, None),
        ];
        let r = SiteRegister::build(sites, [&a, &b]);
        assert_eq!(r.kinds(), ["address", "school"]);
        assert_eq!(r.kind_number(2), Some(1));
        let stats = r.grid_stats("a", 1).unwrap();
        assert_eq!(
            stats.sites,
            [("address".to_string(), 1), ("school".to_string(), 1)].into()
        );
        assert_eq!(stats.households, 6);
        assert_eq!(r.grid_stats("b", 0).unwrap().households, 5);
        assert_eq!(r.grid_stats("nope", 0), None);
        assert_eq!(r.sites_in_grid("a", 1), &[1, 2]);
        assert_eq!(r.site_assignment("b", 1), Some(vec![None]));
        assert_eq!(
            r.site_assignment("a", 1),
            Some(vec![Some(Hit {
                grid: 1,
                on_border: false
            })])
        );
        assert_eq!(r.site_assignment("a", 3), None);
        assert_eq!(r.points().in_bbox([1.0, 0.0, 2.0, 1.0]), vec![1, 2]);
        let empty = SiteRegister::default();
        assert!(empty.sites().is_empty() && empty.kinds().is_empty());
    }
}
