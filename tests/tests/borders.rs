//! Border points on real-looking data: on the demo city every vertex shared
//! by two or more blocks is claimed by exactly one block, the one the border
//! rule names; points in holes belong to no grid; and lookups in other CRSs
//! land in the same grid.

use std::collections::HashMap;

use gridmap_data::crs::{wgs84_to_bd09, wgs84_to_gcj02, Crs};
use gridmap_data::demo::{generate, DemoOptions};
use gridmap_data::index::{PreparedPolygon, SystemIndex};
use gridmap_data::progress::NoProgress;
use gridmap_data::{GridSystem, SystemGrids};

fn demo_blocks() -> SystemIndex {
    let change = generate(
        &DemoOptions {
            blocks: 300,
            seed: 11,
        },
        &NoProgress,
    )
    .expect("the demo city generates");
    let SystemGrids { system, grids, .. } = change
        .grids
        .into_iter()
        .next()
        .expect("the demo city has a grid system");
    SystemIndex::build(system, grids)
}

#[test]
fn shared_vertices_belong_to_exactly_one_block() {
    let idx = demo_blocks();
    let depth = idx.system().depth_of("block").unwrap();
    // How many blocks have each vertex on their boundary.
    let mut owners: HashMap<(u64, u64), Vec<usize>> = HashMap::new();
    for (i, g) in idx
        .grids()
        .iter()
        .enumerate()
        .filter(|(_, g)| g.level == "block")
    {
        for poly in &g.geometry.0 {
            for ring in std::iter::once(poly.exterior()).chain(poly.interiors()) {
                for c in ring.coords() {
                    let e = owners.entry((c.x.to_bits(), c.y.to_bits())).or_default();
                    if !e.contains(&i) {
                        e.push(i);
                    }
                }
            }
        }
    }
    let prepared: Vec<Option<PreparedPolygon>> = idx
        .grids()
        .iter()
        .map(|g| (g.level == "block").then(|| PreparedPolygon::new(&g.geometry.0[0])))
        .collect();
    let mut shared = 0;
    for ((xb, yb), blocks) in &owners {
        let (x, y) = (f64::from_bits(*xb), f64::from_bits(*yb));
        let hit = idx.locate_at_depth(depth, x, y);
        if blocks.len() >= 2 {
            shared += 1;
            // Where the lookup finds a block it must be one of the blocks this
            // vertex belongs to, reached through the border rule.
            if let Some(h) = hit {
                assert!(
                    blocks.contains(&h.grid),
                    "({x}, {y}) went to a block that does not touch it"
                );
                assert!(h.on_border);
            }
            // Brute force over the owners: never two claims.
            let claims = blocks
                .iter()
                .filter(|&&b| {
                    idx.grids()[b].geometry.0.len() == 1
                        && prepared[b].as_ref().unwrap().locate(x, y).inside
                })
                .count();
            assert!(claims <= 1, "({x}, {y}) claimed by {claims} blocks");
        }
        if blocks.len() >= 3 {
            // A vertex with blocks all round it (its four diagonal neighbours
            // are inside blocks) must be claimed by one of them: no holes in
            // the partition at its junctions.
            let d = 1e-9;
            let around = [(d, d), (-d, d), (d, -d), (-d, -d)]
                .iter()
                .all(|(dx, dy)| idx.locate_at_depth(depth, x + dx, y + dy).is_some());
            if around {
                assert!(hit.is_some(), "({x}, {y}) inside the city but in no block");
            }
        }
    }
    assert!(shared > 5_000, "only {shared} shared vertices tested");
}

#[test]
fn hole_points_belong_to_no_grid_and_island_points_to_the_island() {
    use geo_types::{polygon, LineString, Polygon};
    let outer = Polygon::new(
        LineString::from(vec![
            (120.0, 30.0),
            (120.1, 30.0),
            (120.1, 30.1),
            (120.0, 30.1),
        ]),
        vec![LineString::from(vec![
            (120.04, 30.04),
            (120.06, 30.04),
            (120.06, 30.06),
            (120.04, 30.06),
        ])],
    );
    let island = polygon![(x: 120.04, y: 30.04), (x: 120.06, y: 30.04), (x: 120.06, y: 30.06), (x: 120.04, y: 30.06)];
    let grid = |code: &str, p: Polygon<f64>| gridmap_data::Grid::new(code, "block", None, p.into());
    let only_ring = SystemIndex::build(
        GridSystem::new("a", vec!["block".into()]),
        vec![grid("ring", outer.clone())],
    );
    assert!(only_ring.locate(120.05, 30.05).is_empty(), "hole");
    assert_eq!(only_ring.locate(120.02, 30.05).len(), 1);
    let both = SystemIndex::build(
        GridSystem::new("b", vec!["block".into()]),
        vec![grid("ring", outer), grid("island", island)],
    );
    let code = |x: f64, y: f64| {
        both.locate(x, y)
            .first()
            .map(|h| both.grids()[h.grid].code.clone())
    };
    assert_eq!(code(120.05, 30.05).as_deref(), Some("island"));
    // On the hole's west edge: the ring lies west, the island east → island.
    assert_eq!(code(120.04, 30.05).as_deref(), Some("island"));
    // On the hole's east edge: the ring lies east → ring.
    assert_eq!(code(120.06, 30.05).as_deref(), Some("ring"));
    // On the hole's south edge: the island lies north → island; north edge → ring.
    assert_eq!(code(120.05, 30.04).as_deref(), Some("island"));
    assert_eq!(code(120.05, 30.06).as_deref(), Some("ring"));
}

#[test]
fn lookups_in_gcj02_and_bd09_find_the_same_block() {
    let idx = demo_blocks();
    let depth = idx.system().depth_of("block").unwrap();
    let mut checked = 0;
    for g in idx.grids().iter().filter(|g| g.level == "block").step_by(7) {
        let p = gridmap_tiles::label_point(&g.geometry).unwrap();
        let (gx, gy) = wgs84_to_gcj02(p.x(), p.y());
        let (bx, by) = wgs84_to_bd09(p.x(), p.y());
        for (crs, x, y) in [(Crs::Gcj02, gx, gy), (Crs::Bd09, bx, by)] {
            let (lon, lat) = crs.to_wgs84(x, y).unwrap();
            let hit = idx
                .locate_at_depth(depth, lon, lat)
                .expect("inside a block");
            assert_eq!(idx.grids()[hit.grid].code, g.code, "{crs:?}");
        }
        checked += 1;
    }
    assert!(checked > 30);
}
