//! Regression test on real data: the administrative partition of Zhejiang
//! (province → 11 cities → 90 districts, coasts with hundreds of islands),
//! every level drawn from z0 as in `gridmap serve --level-min-zoom
//! province=0,city=0,district=0`.
//!
//! Before the fixes this found invalid polygons (islands of one feature
//! crossing or nested after simplification and rounding), districts and
//! cities missing from tiles they cover (clip output wrapping a tile corner
//! lost in the repair), and small islands dropped at z5–z6.

use geo_types::{Geometry, MultiPolygon};
use gridmap_tiles::decode::{decode_tile, polygons_from_rings, rings_from_commands};
use gridmap_tiles::group::GroupLayer;
use gridmap_tiles::quantize::{area2, polygon_to_f64, TilePolygon};
use gridmap_tiles::tile::tiles_covering;
use gridmap_tiles::valid::{conflicting_parts, is_valid_polygon};
use gridmap_tiles::{render_tile, FeatureInput, PreparedLayer, PropValue, TileId, TileOptions};
use std::collections::BTreeMap;

const LEVELS: [&str; 3] = ["province", "city", "district"];

/// The fixture's features per level, with `code` and `parent` properties.
fn zhejiang() -> Vec<PreparedLayer> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../data/fixtures/zhejiang-admin-gcj02.geojson"
    );
    let text = std::fs::read_to_string(path).expect("Zhejiang fixture");
    let fc: geojson::FeatureCollection = text.parse().expect("GeoJSON");
    let mut by_level: Vec<Vec<FeatureInput>> = vec![Vec::new(); LEVELS.len()];
    for f in fc.features {
        let p = f.properties.clone().expect("properties");
        let text = |k: &str| p[k].as_str().unwrap_or("").to_string();
        let level = LEVELS
            .iter()
            .position(|l| *l == text("level"))
            .expect("known level");
        let geometry = match Geometry::<f64>::try_from(f.geometry.expect("geometry")).unwrap() {
            Geometry::MultiPolygon(m) => m,
            Geometry::Polygon(p) => MultiPolygon(vec![p]),
            g => panic!("unexpected geometry {g:?}"),
        };
        by_level[level].push(FeatureInput {
            id: text("code").parse().unwrap(),
            geometry,
            properties: vec![
                ("code".into(), PropValue::String(text("code"))),
                ("parent".into(), PropValue::String(text("parent"))),
            ],
        });
    }
    let group = LEVELS
        .iter()
        .zip(by_level)
        .map(|(name, features)| GroupLayer::new(*name, features))
        .collect();
    PreparedLayer::new_group(group).unwrap()
}

/// One decoded feature: its parent code and polygons.
struct Drawn {
    parent: String,
    polygons: Vec<TilePolygon>,
}

fn decoded(mvt: &[u8]) -> BTreeMap<String, BTreeMap<String, Drawn>> {
    let mut out = BTreeMap::new();
    for layer in decode_tile(mvt).unwrap() {
        let feats = out.entry(layer.name.clone()).or_insert_with(BTreeMap::new);
        for f in layer.features {
            let prop = |k: &str| {
                f.properties
                    .iter()
                    .find_map(|(key, v)| match v {
                        PropValue::String(s) if key == k => Some(s.clone()),
                        _ => None,
                    })
                    .unwrap_or_default()
            };
            let polygons = polygons_from_rings(rings_from_commands(&f.geometry).unwrap()).unwrap();
            let code = prop("code");
            assert!(
                feats
                    .insert(
                        code.clone(),
                        Drawn {
                            parent: prop("parent"),
                            polygons
                        }
                    )
                    .is_none(),
                "{code} twice in layer {}",
                layer.name
            );
        }
    }
    out
}

/// Area of a feature's polygons, square tile units.
fn area(d: &Drawn) -> f64 {
    d.polygons
        .iter()
        .flatten()
        .map(|r| area2(r) as f64 / 2.0)
        .sum()
}

/// Checks one tile; returns the problems found.
fn problems(tile: TileId, layers: &[&PreparedLayer]) -> Vec<String> {
    let mvt = render_tile(tile, layers, None, &TileOptions::default()).unwrap();
    let tiles = decoded(&mvt);
    let mut out = Vec::new();
    for (level, feats) in &tiles {
        for (code, d) in feats {
            let parts: Vec<_> = d.polygons.iter().map(polygon_to_f64).collect();
            if parts.iter().any(|p| !is_valid_polygon(p)) || !conflicting_parts(&parts).is_empty() {
                out.push(format!("{tile} {level} {code}: invalid"));
            }
        }
    }
    for (upper, lower) in LEVELS.iter().zip(&LEVELS[1..]) {
        let parents = tiles.get(*upper);
        let mut kids_area: BTreeMap<&str, f64> = BTreeMap::new();
        for (code, d) in tiles.get(*lower).into_iter().flatten() {
            match parents.and_then(|p| p.get(&d.parent)) {
                None => out.push(format!(
                    "{tile} {lower} {code} without its parent {}",
                    d.parent
                )),
                Some(_) => *kids_area.entry(d.parent.as_str()).or_default() += area(d),
            }
        }
        // Siblings never overlap (checked by the tiles crate's own tests), so
        // the children's areas add up to their parent's when they cover it.
        for (code, d) in parents.into_iter().flatten() {
            let (a, k) = (
                area(d),
                kids_area.get(code.as_str()).copied().unwrap_or(0.0),
            );
            if (a - k).abs() > 8.0 + 0.002 * a {
                out.push(format!(
                    "{tile} {upper} {code}: {a} units², its children {k}"
                ));
            }
        }
    }
    out
}

#[test]
fn every_level_drawn_nests_and_is_valid() {
    let layers = zhejiang();
    let refs: Vec<&PreparedLayer> = layers.iter().collect();
    let bbox = layers[0].bbox().unwrap();
    let mut tiles: Vec<TileId> = (0..=10u8)
        .flat_map(|z| tiles_covering(bbox, z).unwrap().iter().collect::<Vec<_>>())
        .collect();
    // The tiles of the issue: a district (331082) and a city (330500)
    // covering much of them were missing.
    tiles.extend([
        TileId::new(12, 3429, 1706).unwrap(),
        TileId::new(12, 3410, 1683).unwrap(),
        TileId::new(11, 1709, 860).unwrap(),
    ]);
    let found: Vec<String> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..2)
            .map(|k| {
                let (tiles, refs) = (&tiles, &refs);
                s.spawn(move || {
                    tiles
                        .iter()
                        .skip(k)
                        .step_by(2)
                        .flat_map(|t| problems(*t, refs))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    assert!(tiles.len() > 300, "{}", tiles.len());
    assert!(
        found.is_empty(),
        "{} problems: {:#?}",
        found.len(),
        &found[..found.len().min(20)]
    );
    let mvt = render_tile(tiles[tiles.len() - 3], &refs, None, &TileOptions::default()).unwrap();
    assert!(decoded(&mvt)["district"].contains_key("331082"));
}
