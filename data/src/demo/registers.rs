//! Point registers of the demo city: addresses (门牌) with households,
//! enterprises, fire-risk sites, schools, internet cafes and food shops.
//!
//! Addresses read like Hangzhou's: each block is one 号 on a road holding a
//! residential compound (`文一路115号翠苑三区12幢`); businesses sit in its
//! buildings, written the ways real registers write them (`3号楼502室`,
//! `5栋102室`, `2幢1单元301室`). Every address starts `杭州市西湖区`. Names are
//! unique within the city, as a register's are.
//!
//! The names come from their own random stream, so the positions and the
//! number of sites of each kind are those the main stream has always drawn.

use super::names;
use crate::model::Site;
use crate::progress::Progress;
use geo::{BoundingRect, Contains, Distance, Haversine};
use geo_types::{Point, Polygon};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Map, Value};
use std::collections::{HashMap, HashSet};

/// What every demo address starts with.
pub(crate) const CITY_PREFIX: &str = "杭州市西湖区";

/// All site kinds the demo writes (and replaces).
pub(crate) const KINDS: [&str; 6] = [
    "address",
    "enterprise",
    "fire_risk",
    "school",
    "internet_cafe",
    "food",
];

/// Households per block are drawn from this range; buildings hold 12–60.
pub(crate) const HOUSEHOLDS_PER_BLOCK: (u32, u32) = (300, 500);
const BUILDING_HOUSEHOLDS: (u32, u32) = (12, 60);
/// Internet cafes placed on purpose near a school are within this distance.
pub(crate) const NEAR_SCHOOL_M: f64 = 200.0;
/// Other cafes keep at least this distance from every school.
const FAR_FROM_SCHOOL_M: f64 = 250.0;
/// Schools and internet cafes follow the district's size, not the block count
/// (a real district of ~300 km² has ~150 schools and a few dozen cafes).
const MAX_SCHOOLS: f64 = 150.0;
const MAX_CAFES: f64 = 60.0;

/// What the registers need to know about one block.
pub(crate) struct BlockInfo<'a> {
    pub code: &'a str,
    pub polygon: &'a Polygon<f64>,
    /// An interior point, the fallback if sampling is unlucky.
    pub label: Point<f64>,
}

/// Splits a household total into building sizes within [`BUILDING_HOUSEHOLDS`].
fn buildings(total: u32, rng: &mut ChaCha8Rng) -> Vec<u32> {
    let (lo, hi) = BUILDING_HOUSEHOLDS;
    let mut rest = total;
    let mut out = Vec::new();
    while rest > hi {
        // Leave at least `lo` for the last building.
        let h = rng.random_range(lo..=hi.min(rest - lo));
        out.push(h);
        rest -= h;
    }
    out.push(rest);
    out
}

/// A uniformly random point strictly inside the polygon (rejection sampling).
fn sample(
    block: &BlockInfo,
    rng: &mut ChaCha8Rng,
    tries: usize,
    accept: impl Fn(Point<f64>) -> bool,
) -> Option<Point<f64>> {
    let rect = block.polygon.bounding_rect()?;
    for _ in 0..tries {
        let p = Point::new(
            rng.random_range(rect.min().x..rect.max().x),
            rng.random_range(rect.min().y..rect.max().y),
        );
        if block.polygon.contains(&p) && accept(p) {
            return Some(p);
        }
    }
    None
}

/// Schools bucketed by ~0.004° so proximity checks look at a few buckets only.
struct SchoolHash {
    buckets: HashMap<(i64, i64), Vec<Point<f64>>>,
}

impl SchoolHash {
    const SIZE: f64 = 0.004; // ≥ 385 m at this latitude, more than FAR_FROM_SCHOOL_M

    fn key(p: Point<f64>) -> (i64, i64) {
        (
            (p.x() / Self::SIZE).floor() as i64,
            (p.y() / Self::SIZE).floor() as i64,
        )
    }

    fn nearest_m(&self, p: Point<f64>) -> f64 {
        let (kx, ky) = Self::key(p);
        let mut best = f64::INFINITY;
        for dx in -1..=1 {
            for dy in -1..=1 {
                for &s in self.buckets.get(&(kx + dx, ky + dy)).into_iter().flatten() {
                    best = best.min(Haversine.distance(p, s));
                }
            }
        }
        best
    }
}

/// Where a block's sites are: its road, its 号, its compound and buildings.
struct BlockAddress {
    road: &'static str,
    number: u32,
    compound: String,
    buildings: usize,
}

impl BlockAddress {
    /// `文一路115号`.
    fn gate(&self) -> String {
        format!("{}{}号", self.road, self.number)
    }

    /// An address inside one of the block's buildings, written one of the
    /// ways registers write it; `room_floor` is the floor of the room.
    fn inside(&self, rng: &mut ChaCha8Rng, room_floor: u32) -> String {
        let b = rng.random_range(1..=self.buildings);
        let room = format!("{room_floor}{:02}室", rng.random_range(1..=8));
        let gate = self.gate();
        match rng.random_range(0..4) {
            0 => format!("{CITY_PREFIX}{gate}{b}号楼{room}"),
            1 => format!("{CITY_PREFIX}{gate}{}{b}栋{room}", self.compound),
            2 => format!(
                "{CITY_PREFIX}{gate}{}{b}幢{}单元{room}",
                self.compound,
                rng.random_range(1..=3)
            ),
            _ => format!("{CITY_PREFIX}{gate}{}{b}幢{room}", self.compound),
        }
    }
}

struct Builder {
    sites: Vec<Site>,
    counters: HashMap<&'static str, usize>,
}

impl Builder {
    fn push(
        &mut self,
        (kind, prefix): (&'static str, char),
        name: String,
        address: Option<String>,
        households: Option<u32>,
        at: Point<f64>,
        attrs: Value,
    ) {
        let n = self.counters.entry(kind).or_insert(0);
        *n += 1;
        let attributes: Map<String, Value> = match attrs {
            Value::Object(m) => m,
            _ => Map::new(),
        };
        self.sites.push(Site {
            id: format!("{prefix}{:06}", *n),
            kind: kind.to_string(),
            name,
            address,
            households,
            location: at,
            attributes,
        });
    }
}

/// All sites of the demo city, deterministic for a seed.
pub(crate) fn make_sites(blocks: &[BlockInfo], seed: u64, progress: &dyn Progress) -> Vec<Site> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5173);
    // Names and address details only: drawing them never moves a site.
    let mut naming = ChaCha8Rng::seed_from_u64(seed ^ 0xADD2E55);
    let compounds = names::compound_names(blocks.len(), &mut naming);
    let mut used_names: HashSet<String> = HashSet::new();
    let mut b = Builder {
        sites: Vec::with_capacity(blocks.len() * 20),
        counters: HashMap::new(),
    };
    let mut house_numbers: HashMap<&str, u32> = HashMap::new();
    let mut schools = SchoolHash {
        buckets: HashMap::new(),
    };
    let mut school_blocks = Vec::new();
    let mut addresses: Vec<BlockAddress> = Vec::with_capacity(blocks.len());
    let school_chance = (MAX_SCHOOLS / blocks.len() as f64).min(0.1);
    progress.start("registers", blocks.len() as u64 + 1);
    for (k, block) in blocks.iter().enumerate() {
        let place =
            |rng: &mut ChaCha8Rng| sample(block, rng, 2000, |_| true).unwrap_or(block.label);
        let grid = json!({ "grid": block.code });
        // One 号 per block on a road; its buildings are 幢 1, 2, ….
        let road = names::ROADS[rng.random_range(0..names::ROADS.len())];
        let number = house_numbers.entry(road).or_insert(0);
        *number += 1;
        let street_no = 2 * *number - 1;
        let total = rng.random_range(HOUSEHOLDS_PER_BLOCK.0..=HOUSEHOLDS_PER_BLOCK.1);
        let sizes = buildings(total, &mut rng);
        let here = BlockAddress {
            road,
            number: street_no,
            compound: compounds[k].clone(),
            buildings: sizes.len(),
        };
        for (n, h) in sizes.into_iter().enumerate() {
            let name = format!("{}{}{}幢", here.gate(), here.compound, n + 1);
            let at = place(&mut rng);
            b.push(
                ("address", 'A'),
                name.clone(),
                Some(format!("{CITY_PREFIX}{name}")),
                Some(h),
                at,
                grid.clone(),
            );
        }
        for _ in 0..rng.random_range(0..=3) {
            let at = place(&mut rng);
            let attrs = json!({ "grid": block.code, "employees": rng.random_range(5..=300) });
            let drawn = names::company(&mut rng);
            let name = names::unique_name(
                drawn,
                road,
                &mut used_names,
                &mut naming,
                names::company_long,
            );
            let floor = naming.random_range(2..=12);
            b.push(
                ("enterprise", 'E'),
                name,
                Some(here.inside(&mut naming, floor)),
                None,
                at,
                attrs,
            );
        }
        for _ in 0..rng.random_range(0..=2) {
            let (kind, category) = names::FIRE_RISK[rng.random_range(0..names::FIRE_RISK.len())];
            let at = place(&mut rng);
            let attrs = json!({ "grid": block.code, "category": category });
            let drawn = names::shop(&mut rng, kind);
            let name = names::unique_name(drawn, road, &mut used_names, &mut naming, |r| {
                names::shop(r, kind)
            });
            b.push(
                ("fire_risk", 'F'),
                name,
                Some(here.inside(&mut naming, 1)),
                None,
                at,
                attrs,
            );
        }
        for _ in 0..rng.random_range(1..=4) {
            let at = place(&mut rng);
            let drawn = names::food(&mut rng);
            let name = names::unique_name(drawn, road, &mut used_names, &mut naming, names::food);
            b.push(
                ("food", 'R'),
                name,
                Some(here.inside(&mut naming, 1)),
                None,
                at,
                grid.clone(),
            );
        }
        if rng.random_bool(school_chance) {
            let stage = if rng.random_bool(0.6) {
                "小学"
            } else {
                "中学"
            };
            let at = place(&mut rng);
            let drawn = format!("杭州市{}", names::shop(&mut rng, stage));
            let name = names::unique_name(drawn, road, &mut used_names, &mut naming, |r| {
                format!("杭州市{}", names::shop(r, stage))
            });
            b.push(
                ("school", 'S'),
                name,
                Some(format!("{CITY_PREFIX}{}", here.gate())),
                None,
                at,
                json!({ "grid": block.code, "stage": stage }),
            );
            schools
                .buckets
                .entry(SchoolHash::key(at))
                .or_default()
                .push(at);
            school_blocks.push((k, at));
        }
        addresses.push(here);
        progress.advance(1);
    }
    let mut cafe = |b: &mut Builder, rng: &mut ChaCha8Rng, k: usize, at: Point<f64>| {
        let here = &addresses[k];
        let drawn = names::shop(rng, "网吧");
        let name = names::unique_name(drawn, here.road, &mut used_names, &mut naming, |r| {
            names::shop(r, "网吧")
        });
        let building = naming.random_range(1..=here.buildings);
        let floor = naming.random_range(2..=3);
        b.push(
            ("internet_cafe", 'N'),
            name,
            Some(format!(
                "{CITY_PREFIX}{}{}{building}幢{floor}楼",
                here.gate(),
                here.compound
            )),
            None,
            at,
            json!({ "grid": blocks[k].code }),
        );
    };
    // Internet cafes: a few on purpose near a school, the rest well away from all schools.
    let cafes = ((blocks.len() as f64 * 0.04).min(MAX_CAFES).round() as usize).max(2);
    let near = (cafes / 8).max(1).min(school_blocks.len());
    school_blocks.shuffle(&mut rng);
    let mut placed = 0;
    for &(k, school) in school_blocks.iter() {
        if placed == near {
            break;
        }
        let close =
            |p: Point<f64>| (5.0..NEAR_SCHOOL_M - 20.0).contains(&Haversine.distance(p, school));
        if let Some(at) = sample(&blocks[k], &mut rng, 500, close) {
            cafe(&mut b, &mut rng, k, at);
            placed += 1;
        }
    }
    let mut tries = 0;
    while placed < cafes && tries < 100 * cafes {
        tries += 1;
        let k = rng.random_range(0..blocks.len());
        if let Some(at) = sample(&blocks[k], &mut rng, 50, |p| {
            schools.nearest_m(p) > FAR_FROM_SCHOOL_M
        }) {
            cafe(&mut b, &mut rng, k, at);
            placed += 1;
        }
    }
    progress.advance(1);
    progress.finish();
    b.sites
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::progress::NoProgress;
    use geo_types::polygon;

    #[test]
    fn buildings_sum_exactly_and_stay_in_range() {
        let mut rng = ChaCha8Rng::seed_from_u64(2);
        for total in 300..=500 {
            let b = buildings(total, &mut rng);
            assert_eq!(b.iter().sum::<u32>(), total);
            assert!(b.iter().all(|&h| (12..=60).contains(&h)), "{b:?}");
        }
    }

    #[test]
    fn sites_lie_strictly_inside_their_block() {
        // Two L-shaped blocks about 1 km across.
        let a = polygon![(x: 120.0, y: 30.0), (x: 120.01, y: 30.0), (x: 120.01, y: 30.003), (x: 120.003, y: 30.003), (x: 120.003, y: 30.01), (x: 120.0, y: 30.01)];
        let c = polygon![(x: 120.02, y: 30.0), (x: 120.03, y: 30.0), (x: 120.03, y: 30.01), (x: 120.02, y: 30.01)];
        let blocks: Vec<BlockInfo> = (0..60)
            .map(|k| {
                let p = if k % 2 == 0 { &a } else { &c };
                BlockInfo {
                    code: if k % 2 == 0 { "A" } else { "C" },
                    polygon: p,
                    label: Point::new(120.001, 30.001),
                }
            })
            .collect();
        let sites = make_sites(&blocks, 4, &NoProgress);
        for s in &sites {
            let poly = if s.attributes["grid"] == "A" { &a } else { &c };
            assert!(poly.contains(&s.location), "{} {:?}", s.id, s.location);
        }
        for kind in KINDS {
            assert!(sites.iter().any(|s| s.kind == kind), "no {kind}");
        }
        let households: u32 = sites.iter().filter_map(|s| s.households).sum();
        assert!((60 * 300..=60 * 500).contains(&households));
    }

    #[test]
    fn registers_read_like_hangzhou_addresses_with_unique_names() {
        let a = polygon![(x: 120.0, y: 30.0), (x: 120.01, y: 30.0), (x: 120.01, y: 30.01), (x: 120.0, y: 30.01)];
        let blocks: Vec<BlockInfo> = (0..300)
            .map(|_| BlockInfo {
                code: "A",
                polygon: &a,
                label: Point::new(120.005, 30.005),
            })
            .collect();
        let sites = make_sites(&blocks, 9, &NoProgress);
        let mut names = HashSet::new();
        for s in &sites {
            let address = s
                .address
                .as_deref()
                .expect("every demo site has an address");
            assert!(address.starts_with(CITY_PREFIX), "{address}");
            assert!(names.insert(s.name.as_str()), "duplicate name {}", s.name);
            if s.kind == "address" {
                assert_eq!(address, format!("{CITY_PREFIX}{}", s.name));
            }
        }
        let written = |part: &str| {
            sites
                .iter()
                .filter(|s| s.address.as_deref().unwrap().contains(part))
                .count()
        };
        for form in ["号楼", "栋", "单元", "室", "幢"] {
            assert!(written(form) > 0, "no address written with {form}");
        }
        let compounds = ["苑", "花园", "小区", "区"];
        assert!(compounds.iter().all(|c| sites
            .iter()
            .any(|s| s.kind == "address" && s.name.contains(c))));
    }
}
