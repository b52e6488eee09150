//! Whole-city tests of the demo generator.

use super::*;
use crate::model::{Grid, Site};
use crate::progress::NoProgress;
use geo::{Contains, Distance, GeodesicArea, Haversine, Validation};
use geo_types::Polygon;
use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

fn small_city() -> &'static ChangeSet {
    static CITY: OnceLock<ChangeSet> = OnceLock::new();
    CITY.get_or_init(|| {
        generate(
            &DemoOptions {
                blocks: 200,
                seed: 11,
            },
            &NoProgress,
        )
        .unwrap()
    })
}

fn level<'a>(cs: &'a ChangeSet, name: &str) -> Vec<&'a Grid> {
    cs.grids[0]
        .grids
        .iter()
        .filter(|g| g.level == name)
        .collect()
}

fn label_point(g: &Grid) -> (f64, f64) {
    let p = g.attributes["label_point"].as_array().unwrap();
    (p[0].as_f64().unwrap(), p[1].as_f64().unwrap())
}

/// Directed edges of all rings, with coordinates compared bit for bit.
fn edges(grids: &[&Grid]) -> HashMap<[u64; 4], usize> {
    let mut out = HashMap::new();
    for g in grids {
        for poly in &g.geometry.0 {
            for ring in std::iter::once(poly.exterior()).chain(poly.interiors()) {
                for l in ring.lines() {
                    let key = [
                        l.start.x.to_bits(),
                        l.start.y.to_bits(),
                        l.end.x.to_bits(),
                        l.end.y.to_bits(),
                    ];
                    *out.entry(key).or_insert(0) += 1;
                }
            }
        }
    }
    out
}

/// Edges whose reverse is not in the set: the outer boundary of the union.
fn unpaired(e: &HashMap<[u64; 4], usize>) -> HashSet<[u64; 4]> {
    e.keys()
        .filter(|k| !e.contains_key(&[k[2], k[3], k[0], k[1]]))
        .copied()
        .collect()
}

#[test]
fn sizes_and_system() {
    let cs = small_city();
    assert_eq!(cs.grids.len(), 1);
    assert_eq!(cs.grids[0].system.name, "default");
    assert_eq!(
        cs.grids[0].system.levels,
        vec!["street", "community", "block"]
    );
    assert_eq!(level(cs, "block").len(), 200);
    assert_eq!(level(cs, "street").len(), cluster::street_count(200));
    assert_eq!(level(cs, "community").len(), cluster::community_count(200));
    assert_eq!(cs.worker_systems, vec!["default"]);
    let kinds: HashSet<&str> = cs.sites.iter().map(|s| s.kind.as_str()).collect();
    let replaced: HashSet<&str> = cs.replace_site_kinds.iter().map(String::as_str).collect();
    assert_eq!(kinds, replaced);
}

#[test]
fn every_polygon_is_valid_with_many_vertices() {
    let cs = small_city();
    for g in &cs.grids[0].grids {
        assert_eq!(g.geometry.0.len(), 1, "{}", g.code);
        assert!(
            g.geometry.is_valid(),
            "{} {}: {:?}",
            g.level,
            g.code,
            g.geometry.validation_errors()
        );
    }
    let mut counts: Vec<usize> = level(cs, "block")
        .iter()
        .map(|g| g.geometry.0[0].exterior().0.len())
        .collect();
    counts.sort_unstable();
    assert!(
        counts[counts.len() / 2] >= 30,
        "median block vertex count {}",
        counts[counts.len() / 2]
    );
}

#[test]
fn children_tile_their_parents_exactly() {
    let cs = small_city();
    let by_code: HashMap<&str, &Grid> = cs.grids[0]
        .grids
        .iter()
        .map(|g| (g.code.as_str(), g))
        .collect();
    let area = |g: &Grid| g.geometry.geodesic_area_unsigned();
    let mut child_sum: HashMap<&str, f64> = HashMap::new();
    for g in &cs.grids[0].grids {
        match &g.parent {
            None => assert_eq!(g.level, "street"),
            Some(p) => {
                let parent = by_code
                    .get(p.as_str())
                    .unwrap_or_else(|| panic!("{} has no parent {p}", g.code));
                assert!(g.code.starts_with(&parent.code));
                *child_sum.entry(p.as_str()).or_default() += area(g);
            }
        }
    }
    for g in cs.grids[0].grids.iter().filter(|g| g.level != "block") {
        let (a, s) = (area(g), child_sum[g.code.as_str()]);
        assert!(
            (a - s).abs() <= 1e-6 * a,
            "{}: {a} m² vs children {s} m²",
            g.code
        );
    }
    let city: f64 = level(cs, "street").iter().map(|g| area(g)).sum();
    // 西湖区 is about 310 km²; the lattice follows its outline to within a cell.
    assert!((2.8e8..3.4e8).contains(&city), "{city}");
}

#[test]
fn borders_are_shared_bit_for_bit() {
    let cs = small_city();
    let blocks = edges(&level(cs, "block"));
    let comms = edges(&level(cs, "community"));
    let streets = edges(&level(cs, "street"));
    // Every block edge is either matched by the reverse edge of a neighbour or on the city outline.
    assert_eq!(unpaired(&blocks), unpaired(&streets));
    assert!(blocks.len() > 2 * unpaired(&blocks).len());
    // Coarser borders are made of exactly the same segments as the blocks'.
    for e in comms.keys().chain(streets.keys()) {
        assert!(blocks.contains_key(e));
    }
    assert!(blocks.values().all(|&n| n == 1));
}

#[test]
fn codes_names_and_reading_order() {
    let cs = small_city();
    let grids = &cs.grids[0].grids;
    let mut children: HashMap<Option<&str>, Vec<&Grid>> = HashMap::new();
    for g in grids {
        let len = match g.level.as_str() {
            "street" => 9,
            "community" => 12,
            _ => 15,
        };
        assert_eq!(g.code.len(), len, "{}", g.code);
        assert!(g.code.starts_with("330106") && g.code.bytes().all(|b| b.is_ascii_digit()));
        children.entry(g.parent.as_deref()).or_default().push(g);
    }
    for list in children.values() {
        let pts: Vec<(f64, f64)> = list.iter().map(|g| label_point(g)).collect();
        let order = reading_order(&pts);
        for (rank, &k) in order.iter().enumerate() {
            let g = list[k];
            assert_eq!(
                &g.code[g.code.len() - 3..],
                format!("{:03}", rank + 1),
                "{}",
                g.code
            );
            if g.level == "block" {
                assert_eq!(g.name, format!("第{}网格", rank + 1));
            }
        }
    }
    let streets = level(cs, "street");
    assert!(streets
        .iter()
        .all(|g| names::STREETS.contains(&g.name.as_str())));
    let comm_names: HashSet<&str> = level(cs, "community")
        .iter()
        .map(|g| g.name.as_str())
        .collect();
    assert_eq!(comm_names.len(), level(cs, "community").len());
    assert!(comm_names.iter().all(|n| n.ends_with("社区")));
    // Label points are interior points of their grid.
    for g in grids {
        let (x, y) = label_point(g);
        assert!(
            g.geometry.contains(&geo_types::Point::new(x, y)),
            "{}",
            g.code
        );
    }
}

#[test]
fn households_sites_and_cafes() {
    let cs = small_city();
    let blocks: HashMap<&str, &Polygon<f64>> = level(cs, "block")
        .iter()
        .map(|g| (g.code.as_str(), &g.geometry.0[0]))
        .collect();
    let mut households: HashMap<&str, u32> = HashMap::new();
    let mut ids = HashSet::new();
    for s in &cs.sites {
        let code = s.attributes["grid"].as_str().unwrap();
        assert!(
            blocks[code].contains(&s.location),
            "{} {} outside {code}",
            s.kind,
            s.id
        );
        assert!(
            ids.insert((s.kind.as_str(), s.id.as_str())),
            "duplicate {} {}",
            s.kind,
            s.id
        );
        if s.kind == "address" {
            let h = s.households.unwrap();
            assert!((12..=60).contains(&h));
            assert!(s.name.contains('路') || s.name.contains('堤') || s.name.contains("大道"));
            assert!(s.name.ends_with('幢'));
            *households.entry(code).or_default() += h;
        }
    }
    assert_eq!(households.len(), blocks.len());
    assert!(households.values().all(|h| (300..=500).contains(h)));
    let addresses: HashSet<&str> = cs
        .sites
        .iter()
        .filter(|s| s.kind == "address")
        .map(|s| s.name.as_str())
        .collect();
    assert_eq!(
        addresses.len(),
        cs.sites.iter().filter(|s| s.kind == "address").count()
    );

    let of = |k: &str| {
        cs.sites
            .iter()
            .filter(|s| s.kind == k)
            .collect::<Vec<&Site>>()
    };
    let schools = of("school");
    let cafes = of("internet_cafe");
    assert!(!schools.is_empty() && cafes.len() >= 2);
    let near = cafes
        .iter()
        .filter(|c| {
            schools
                .iter()
                .any(|s| Haversine.distance(c.location, s.location) <= 200.0)
        })
        .count();
    assert!(
        near >= 1 && near * 2 < cafes.len(),
        "{near} of {} cafes near a school",
        cafes.len()
    );
}

#[test]
fn staffing() {
    let cs = small_city();
    let blocks: HashSet<&str> = level(cs, "block").iter().map(|g| g.code.as_str()).collect();
    let comms: HashSet<&str> = level(cs, "community")
        .iter()
        .map(|g| g.code.as_str())
        .collect();
    let mut staffed = HashSet::new();
    for w in &cs.workers {
        assert!(w.grids.iter().all(|g| g.system == "default"));
        match w.role.as_str() {
            "专职网格员" => {
                assert!(blocks.contains(w.grids[0].code.as_str()) && w.grids[0].share == 1.0);
                staffed.insert(w.grids[0].code.as_str());
            }
            "网格长" | "社区民警" => {
                assert!(comms.contains(w.grids[0].code.as_str()) && w.grids.len() == 1)
            }
            r => panic!("unexpected role {r}"),
        }
    }
    assert_eq!(
        blocks.len() - staffed.len(),
        10,
        "5% of 200 blocks unstaffed"
    );
    for role in ["网格长", "社区民警"] {
        assert_eq!(
            cs.workers.iter().filter(|w| w.role == role).count(),
            comms.len()
        );
    }
}

#[test]
fn same_options_same_city() {
    let opts = DemoOptions {
        blocks: 200,
        seed: 11,
    };
    let again = generate(&opts, &NoProgress).unwrap();
    let first = small_city();
    assert_eq!(first.grids[0].grids, again.grids[0].grids);
    assert_eq!(first.workers, again.workers);
    assert_eq!(first.sites, again.sites);
    let other = generate(
        &DemoOptions {
            blocks: 200,
            seed: 12,
        },
        &NoProgress,
    )
    .unwrap();
    assert_ne!(first.grids[0].grids, other.grids[0].grids);
}

#[test]
fn options_are_checked() {
    for blocks in [0, MIN_BLOCKS - 1, MAX_BLOCKS + 1] {
        let e = generate(&DemoOptions { blocks, seed: 1 }, &NoProgress).unwrap_err();
        assert!(matches!(e, DemoError::Options(_)), "{e}");
    }
    let tiny = generate(
        &DemoOptions {
            blocks: MIN_BLOCKS,
            seed: 3,
        },
        &NoProgress,
    )
    .unwrap();
    assert_eq!(level(&tiny, "block").len(), MIN_BLOCKS);
    assert!(tiny.grids[0].grids.iter().all(|g| g.geometry.is_valid()));
}

#[test]
fn other_seeds_and_sizes_build_valid_cities() {
    for (blocks, seed) in [(37, 2), (150, 3), (500, 4), (1200, 5)] {
        let cs = generate(&DemoOptions { blocks, seed }, &NoProgress).unwrap();
        assert_eq!(level(&cs, "block").len(), blocks);
        assert_eq!(level(&cs, "street").len(), cluster::street_count(blocks));
        for g in &cs.grids[0].grids {
            assert!(
                g.geometry.is_valid(),
                "blocks {blocks} seed {seed}: {} invalid",
                g.code
            );
        }
        let blocks_e = edges(&level(&cs, "block"));
        assert_eq!(unpaired(&blocks_e), unpaired(&edges(&level(&cs, "street"))));
    }
}

/// Timing at the default size and at 100,000 blocks:
/// `cargo test --release -p gridmap-data demo_city_scale -- --ignored --nocapture`.
#[test]
#[ignore]
fn demo_city_scale() {
    for blocks in [1200, 100_000] {
        let t = std::time::Instant::now();
        let cs = generate(&DemoOptions { blocks, seed: 1 }, &NoProgress).unwrap();
        let secs = t.elapsed().as_secs_f64();
        let grids = &cs.grids[0].grids;
        let vertices: usize = grids
            .iter()
            .map(|g| g.geometry.0[0].exterior().0.len())
            .sum();
        println!(
            "blocks {blocks}: {secs:.2} s, {} grids, {vertices} shell vertices, {} workers, {} sites",
            grids.len(),
            cs.workers.len(),
            cs.sites.len()
        );
        assert_eq!(level(&cs, "block").len(), blocks);
        let t = std::time::Instant::now();
        let invalid = grids.iter().filter(|g| !g.geometry.is_valid()).count();
        println!(
            "  validity check of all grids: {:.2} s, {invalid} invalid",
            t.elapsed().as_secs_f64()
        );
        assert_eq!(invalid, 0);
    }
}
