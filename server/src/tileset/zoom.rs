//! From which zoom each level of a grid system is drawn.
//!
//! **Rule.** A level is first drawn at the zoom where its typical grid spans
//! [`LABEL_SPAN_PX`] = 128 CSS pixels in MapLibre, which draws the tiles of
//! every zoom at [`TILE_SIZE_PX`] = 512 px — the same as 64 px on the classic
//! 256-px tile grid. That leaves room for a three- or four-character label at
//! 14–17 px with its halo, even for the grids somewhat smaller than typical.
//! The typical grid is the median, over the level's grids, of the geometric
//! mean of width and height of the grid's bounding box in Web Mercator metres
//! (the geometric mean, so a long thin grid counts by its area-like size, not
//! by its longer side). The zoom is the first whole zoom at which that size
//! reaches 128 px, `ceil(log2(world / (4 · size)))` with `world` the Mercator
//! world width (at zoom z the world is 512·2^z px wide); at that zoom the
//! typical grid spans 128–256 px. Then: the top level is drawn from zoom 0 (a
//! map is never empty), a level never starts before its parent, and none
//! starts after [`MAX_ZOOM`]. A level without grids keeps the old depth rule
//! ([`default_min_zoom`]). `--level-min-zoom` (`TileConfig::level_min_zoom`)
//! overrides any level, the top one included; the levels below an overridden
//! one are still kept from starting before it.
//!
//! On Zhejiang (median city 160 km, district 56 km) this puts cities at z6
//! and districts at z8; on the demo city (西湖区, 1,200 blocks) communities at
//! z12 and blocks at z14 — so a planner opening a province sees its cities
//! and districts long before z11.

use std::collections::HashMap;

use geo::BoundingRect;
use geo_types::MultiPolygon;
use gridmap_data::model::{Grid, GridSystem};
use gridmap_tiles::tile::{lonlat_to_mercator, tile_width};

use super::MAX_ZOOM;

/// How wide, in CSS pixels, a level's typical grid is (at least) where it
/// first appears.
pub const LABEL_SPAN_PX: f64 = 128.0;

/// MapLibre draws a vector tile over 512 CSS pixels.
pub const TILE_SIZE_PX: f64 = 512.0;

/// Fallback first zoom of a level without grids, by depth: the top level
/// always, the second from z11 (a district fills the screen), the third from
/// z13 (a community fills it), each deeper level two zooms later.
pub fn default_min_zoom(depth: usize) -> u8 {
    match depth {
        0 => 0,
        1 => 11,
        d => (13 + 2 * (d - 2)).min(MAX_ZOOM as usize) as u8,
    }
}

/// The size of one grid for the rule: the geometric mean of its Mercator
/// bounding box's width and height, metres; `None` for an empty geometry.
pub fn grid_size_m(geometry: &MultiPolygon<f64>) -> Option<f64> {
    let r = geometry.bounding_rect()?;
    let (x0, y0) = lonlat_to_mercator(r.min().x, r.min().y);
    let (x1, y1) = lonlat_to_mercator(r.max().x, r.max().y);
    Some(((x1 - x0) * (y1 - y0)).max(0.0).sqrt())
}

/// The median of grid sizes (the lower middle one for an even count), or
/// `None` when there is none.
pub fn typical_size_m(mut sizes: Vec<f64>) -> Option<f64> {
    sizes.retain(|s| s.is_finite());
    if sizes.is_empty() {
        return None;
    }
    sizes.sort_by(f64::total_cmp);
    Some(sizes[(sizes.len() - 1) / 2])
}

/// The first whole zoom at which a grid of `size_m` Mercator metres spans
/// [`LABEL_SPAN_PX`] on [`TILE_SIZE_PX`]-pixel tiles, within 0..=MAX_ZOOM
/// (a zero-size grid gets [`MAX_ZOOM`]).
pub fn zoom_for_size(size_m: f64) -> u8 {
    if size_m.is_nan() || size_m <= 0.0 {
        return MAX_ZOOM;
    }
    // px(z) = size / world · TILE_SIZE_PX · 2^z ≥ LABEL_SPAN_PX
    let z = (LABEL_SPAN_PX * tile_width(0) / (TILE_SIZE_PX * size_m))
        .log2()
        .ceil();
    z.clamp(0.0, f64::from(MAX_ZOOM)) as u8
}

/// The first zoom of every level of `system` (top-down), by the rule in the
/// module doc, from the system's `grids` and the `overrides` by level name.
pub fn level_min_zooms(
    system: &GridSystem,
    grids: &[Grid],
    overrides: &HashMap<String, u8>,
) -> Vec<u8> {
    let mut sizes: Vec<Vec<f64>> = vec![Vec::new(); system.levels.len()];
    let depth_of: HashMap<&str, usize> = system
        .levels
        .iter()
        .enumerate()
        .map(|(d, l)| (l.as_str(), d))
        .collect();
    for g in grids {
        if let (Some(&d), Some(s)) = (depth_of.get(g.level.as_str()), grid_size_m(&g.geometry)) {
            sizes[d].push(s);
        }
    }
    let mut zooms: Vec<u8> = Vec::with_capacity(system.levels.len());
    for (depth, (level, sizes)) in system.levels.iter().zip(sizes).enumerate() {
        let z = if let Some(&z) = overrides.get(level) {
            z
        } else if depth == 0 {
            0
        } else {
            let own = typical_size_m(sizes)
                .map(zoom_for_size)
                .unwrap_or_else(|| default_min_zoom(depth));
            own.max(zooms[depth - 1]).min(MAX_ZOOM)
        };
        zooms.push(z);
    }
    zooms
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::rect;

    #[test]
    fn zoom_is_where_the_size_first_reaches_the_label_span() {
        let world = tile_width(0);
        // At z0 the world is 512 px: a grid of world/4 spans exactly 128 px.
        let at_z0 = world * LABEL_SPAN_PX / TILE_SIZE_PX;
        assert_eq!(at_z0, world / 4.0);
        assert_eq!(zoom_for_size(at_z0), 0);
        assert_eq!(zoom_for_size(at_z0 * 0.99), 1);
        assert_eq!(zoom_for_size(at_z0 / 2.0), 1);
        assert_eq!(zoom_for_size(at_z0 / 2.0 * 1.01), 1);
        assert_eq!(zoom_for_size(at_z0 / 2.0 * 0.99), 2);
        // At the chosen zoom the grid spans 128..256 px.
        for size in [150_000.0, 40_000.0, 3_000.0, 777.0] {
            let z = zoom_for_size(size);
            let px = size / world * TILE_SIZE_PX * 2f64.powi(i32::from(z));
            assert!(
                (LABEL_SPAN_PX..2.0 * LABEL_SPAN_PX).contains(&px),
                "{size} m at z{z}: {px} px"
            );
        }
        assert_eq!(zoom_for_size(1e9), 0);
        assert_eq!(zoom_for_size(0.01), MAX_ZOOM);
        assert_eq!(zoom_for_size(0.0), MAX_ZOOM);
    }

    #[test]
    fn size_is_the_geometric_mean_in_mercator() {
        // On the equator one degree of longitude is world/360 metres wide.
        let world = tile_width(0);
        let s = grid_size_m(&rect(0.0, -0.5, 4.0, 1.0)).unwrap();
        let deg = world / 360.0;
        assert!((s - 2.0 * deg).abs() < 1e-4 * deg, "{s}");
        // At 60°N Mercator stretches a degree of latitude about twofold.
        let north = grid_size_m(&rect(0.0, 60.0, 0.1, 0.1)).unwrap();
        let south = grid_size_m(&rect(0.0, -0.05, 0.1, 0.1)).unwrap();
        assert!(
            (north / south - 2f64.sqrt()).abs() < 0.01,
            "{}",
            north / south
        );
        assert_eq!(grid_size_m(&MultiPolygon(vec![])), None);
    }

    #[test]
    fn median_ignores_outliers() {
        assert_eq!(typical_size_m(vec![]), None);
        assert_eq!(typical_size_m(vec![5.0, 1e9, 4.0, 6.0, 0.0]), Some(5.0));
        assert_eq!(typical_size_m(vec![2.0, 1.0]), Some(1.0));
    }

    #[test]
    fn levels_follow_their_grids_and_are_clamped() {
        let sys = GridSystem::new("s", vec!["a".into(), "b".into(), "c".into(), "d".into()]);
        let mut grids = vec![Grid::new("A", "a", None, rect(120.0, 30.0, 2.0, 2.0))];
        // b: three ~0.1° grids and one huge outlier → decided by the median.
        for (i, w) in [0.1, 0.1, 0.11, 5.0].iter().enumerate() {
            grids.push(Grid::new(
                format!("b{i}"),
                "b",
                None,
                rect(120.0, 30.0, *w, *w),
            ));
        }
        // c: grids larger than b's (a bad import) → not before b.
        grids.push(Grid::new("c0", "c", None, rect(120.0, 30.0, 1.0, 1.0)));
        // d: no grids → the depth rule, d being at depth 3.
        let z = level_min_zooms(&sys, &grids, &HashMap::new());
        let b = zoom_for_size(grid_size_m(&rect(120.0, 30.0, 0.1, 0.1)).unwrap());
        assert_eq!(z, vec![0, b, b, default_min_zoom(3)]);
        // 0.1° at 30°N is about 12 km in Mercator: 128 px at z9.7.
        assert_eq!(b, 10, "a 0.1° grid at 30°N");
        // Overrides win, and the levels below still start no earlier.
        let overrides = [("a".to_string(), 3), ("b".to_string(), 14)]
            .into_iter()
            .collect();
        assert_eq!(
            level_min_zooms(&sys, &grids, &overrides),
            vec![3, 14, 14, 15]
        );
        // Tiny grids stop at MAX_ZOOM.
        let tiny = vec![
            Grid::new("A", "a", None, rect(120.0, 30.0, 1.0, 1.0)),
            Grid::new("b", "b", None, rect(120.0, 30.0, 1e-7, 1e-7)),
        ];
        assert_eq!(level_min_zooms(&sys, &tiny, &HashMap::new())[1], MAX_ZOOM);
    }
}
