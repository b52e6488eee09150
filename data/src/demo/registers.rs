//! Point registers of the demo city: addresses (门牌) with households,
//! enterprises, fire-risk sites, schools, internet cafes and food shops.

use super::names;
use crate::model::Site;
use crate::progress::Progress;
use geo::{BoundingRect, Contains, Distance, Haversine};
use geo_types::{Point, Polygon};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Map, Value};
use std::collections::HashMap;

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
    let mut b = Builder {
        sites: Vec::with_capacity(blocks.len() * 20),
        counters: HashMap::new(),
    };
    let mut house_numbers: HashMap<&str, u32> = HashMap::new();
    let mut schools = SchoolHash {
        buckets: HashMap::new(),
    };
    let mut school_blocks = Vec::new();
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
        for (n, h) in buildings(total, &mut rng).into_iter().enumerate() {
            let addr = format!("{road}{street_no}号{}幢", n + 1);
            let at = place(&mut rng);
            b.push(
                ("address", 'A'),
                addr.clone(),
                Some(addr),
                Some(h),
                at,
                grid.clone(),
            );
        }
        let office = format!("{road}{street_no}号");
        for _ in 0..rng.random_range(0..=3) {
            let at = place(&mut rng);
            let attrs = json!({ "grid": block.code, "employees": rng.random_range(5..=300) });
            b.push(
                ("enterprise", 'E'),
                names::company(&mut rng),
                Some(office.clone()),
                None,
                at,
                attrs,
            );
        }
        for _ in 0..rng.random_range(0..=2) {
            let (kind, category) = names::FIRE_RISK[rng.random_range(0..names::FIRE_RISK.len())];
            let at = place(&mut rng);
            let attrs = json!({ "grid": block.code, "category": category });
            b.push(
                ("fire_risk", 'F'),
                names::shop(&mut rng, kind),
                Some(office.clone()),
                None,
                at,
                attrs,
            );
        }
        for _ in 0..rng.random_range(1..=4) {
            let at = place(&mut rng);
            b.push(
                ("food", 'R'),
                names::food(&mut rng),
                Some(office.clone()),
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
            let name = names::shop(&mut rng, stage);
            b.push(
                ("school", 'S'),
                format!("杭州市{name}"),
                Some(office.clone()),
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
        progress.advance(1);
    }
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
            let attrs = json!({ "grid": blocks[k].code });
            b.push(
                ("internet_cafe", 'N'),
                names::shop(&mut rng, "网吧"),
                None,
                None,
                at,
                attrs,
            );
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
            let attrs = json!({ "grid": blocks[k].code });
            b.push(
                ("internet_cafe", 'N'),
                names::shop(&mut rng, "网吧"),
                None,
                None,
                at,
                attrs,
            );
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
}
