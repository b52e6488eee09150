use std::cell::Cell;

use geo::{Area, BooleanOps};
use geo_types::MultiPolygon;
use gridmap_data::analysis::{check, CheckOptions};
use gridmap_data::model::{Grid, GridSystem};
use gridmap_data::progress::NoProgress;
use gridmap_tiles::decode::{decode_tile, polygons_from_rings, rings_from_commands};
use gridmap_tiles::tile::{tile_for_lonlat, tiles_covering};

use super::schema::FieldType;
use super::*;
use crate::test_support::rect;

/// The demo city (`blocks` blocks) as a catalog with its workers and sites,
/// and the sites as the store holds them (for the coverage check).
fn demo(blocks: usize) -> (Catalog, Vec<gridmap_data::Site>) {
    let city = gridmap_data::demo::generate(
        &gridmap_data::demo::DemoOptions { blocks, seed: 3 },
        &NoProgress,
    )
    .unwrap();
    let sg = city.grids.into_iter().next().unwrap();
    let name = sg.system.name.clone();
    let systems = [(name, SystemIndex::build(sg.system, sg.grids))]
        .into_iter()
        .collect();
    let catalog = Catalog::from_parts(1, systems, city.workers).with_sites(city.sites.clone());
    (catalog, city.sites)
}

fn demo_catalog(blocks: usize) -> Catalog {
    demo(blocks).0
}

fn bbox(ts: &Tileset) -> geo_types::Rect<f64> {
    let [w, s, e, n] = ts.bounds.unwrap();
    geo_types::Rect::new((w, s), (e, n))
}

fn text(props: &[(String, PropValue)], key: &str) -> Option<String> {
    props.iter().find_map(|(k, v)| match v {
        PropValue::String(s) if k == key => Some(s.clone()),
        _ => None,
    })
}

fn no_report() -> anyhow::Result<Arc<CoverageReport>> {
    anyhow::bail!("no report in this test")
}

#[test]
fn level_zooms_parse_and_default() {
    let m = TileConfig::parse_level_min_zoom("street=0, block=14").unwrap();
    assert_eq!(m["block"], 14);
    assert!(TileConfig::parse_level_min_zoom("block").is_err());
    assert!(TileConfig::parse_level_min_zoom("block=30").is_err());
    let c = TileConfig {
        level_min_zoom: m,
        ..Default::default()
    };
    // Without grids a level keeps the depth rule unless overridden.
    let schema = TileSchema::new(&GridSystem::with_default_levels("d"), &[], &c);
    assert_eq!(schema.level_min_zoom(2), 14);
    assert_eq!(schema.level_min_zoom(1), 11);
    assert_eq!(TileConfig::default().sites_min_zoom, 15);
}

/// Grids `007` and `7` are distinct codes; in one tile they must be two
/// features with two ids (parsing the code as a number gave both id 7).
#[test]
fn codes_007_and_7_get_distinct_ids_in_a_tile() {
    let grid = |code: &str, lon: f64| {
        Grid::new(code, "block", None, rect(lon, 30.0, 0.01, 0.01)).named(format!("格{code}"))
    };
    let system = GridSystem::new("s", vec!["block".into()]);
    let index = SystemIndex::build(system, vec![grid("007", 120.0), grid("7", 120.01)]);
    let catalog = Catalog::from_parts(1, [("s".to_string(), index)].into_iter().collect(), vec![]);
    let ts = Tileset::build(
        &catalog,
        catalog.system("s").unwrap(),
        &TileConfig::default(),
    )
    .unwrap();
    let tile = tile_for_lonlat(120.01, 30.005, 12).unwrap();
    let layers = decode_tile(&ts.render(&catalog, tile, no_report).unwrap()).unwrap();
    for name in ["block", "labels"] {
        let layer = layers.iter().find(|l| l.name == name).unwrap();
        let mut ids: Vec<(String, u64)> = layer
            .features
            .iter()
            .map(|f| (text(&f.properties, "code").unwrap(), f.id.unwrap()))
            .collect();
        ids.sort();
        assert_eq!(ids.len(), 2, "{name}: {ids:?}");
        assert_eq!(ids[1], ("7".to_string(), 7), "{name}");
        assert_ne!(ids[0].1, ids[1].1, "{name}: {ids:?}");
    }
}

/// Every property of every layer in the demo's tiles (grids, labels, sites,
/// coverage) is a field of that layer in the schema, with that type.
#[test]
fn tiles_carry_exactly_the_schema_fields() {
    let (catalog, _sites) = demo(120);
    let system = catalog.system("default").unwrap();
    let ts = Tileset::build(&catalog, system, &TileConfig::default()).unwrap();
    let report =
        Arc::new(check(&catalog, "default", &CheckOptions::default(), &NoProgress).unwrap());
    assert!(
        !report.problems.is_empty(),
        "the demo has coverage problems to draw"
    );
    let mut seen = std::collections::HashSet::new();
    let centre = bbox(&ts).center();
    let problem = report.problems.iter().find_map(|p| p.location).unwrap();
    let places = [[centre.x, centre.y], problem];
    for (z, [lon, lat]) in [6, 9, 12, 14, 15, 16]
        .into_iter()
        .flat_map(|z| places.map(|p| (z, p)))
    {
        let tile = tile_for_lonlat(lon, lat, z).unwrap();
        let raw = ts.render(&catalog, tile, || Ok(report.clone())).unwrap();
        for layer in decode_tile(&raw).unwrap() {
            let spec = ts
                .schema
                .layer(&layer.name)
                .unwrap_or_else(|| panic!("layer {} not in the schema", layer.name));
            assert!(z >= spec.min_zoom, "{} at z{z}", layer.name);
            for f in &layer.features {
                for (k, v) in &f.properties {
                    let field = spec
                        .field(k)
                        .unwrap_or_else(|| panic!("{}.{k} not in the schema", layer.name));
                    let ty = match v {
                        PropValue::String(_) => FieldType::String,
                        PropValue::Int(_) | PropValue::Double(_) => FieldType::Number,
                        PropValue::Bool(_) => FieldType::Boolean,
                    };
                    assert_eq!(field.ty, ty, "{}.{k}", layer.name);
                }
            }
            seen.insert(layer.name);
        }
    }
    for name in [
        "street",
        "community",
        "block",
        "labels",
        "sites",
        "coverage_points",
    ] {
        assert!(seen.contains(name), "no {name} layer in any tile: {seen:?}");
    }
}

/// A level's label points appear from the level's first zoom, with its polygons.
#[test]
fn labels_of_a_level_start_with_the_level() {
    let catalog = demo_catalog(120);
    let ts = Tileset::build(
        &catalog,
        catalog.system("default").unwrap(),
        &TileConfig::default(),
    )
    .unwrap();
    let community = ts.schema.level_min_zoom(1);
    assert!(community > ts.schema.level_min_zoom(0));
    let centre = bbox(&ts).center();
    let levels_at = |z: u8, layer: &str| -> std::collections::BTreeSet<String> {
        let tile = tile_for_lonlat(centre.x, centre.y, z).unwrap();
        decode_tile(&ts.render(&catalog, tile, no_report).unwrap())
            .unwrap()
            .into_iter()
            .filter(|l| l.name == layer)
            .flat_map(|l| l.features)
            .filter_map(|f| text(&f.properties, "level"))
            .collect()
    };
    assert!(!levels_at(community - 1, "labels").contains("community"));
    assert!(levels_at(community, "labels").contains("community"));
    assert!(levels_at(community, "community").contains("community"));
    assert!(levels_at(community - 1, "labels").contains("street"));
}

/// The coverage layers are prepared from one report per tileset, and a
/// failed report is asked for again on the next tile.
#[test]
fn coverage_layers_are_prepared_once_per_tileset() {
    let (catalog, _sites) = demo(120);
    let ts = Tileset::build(
        &catalog,
        catalog.system("default").unwrap(),
        &TileConfig::default(),
    )
    .unwrap();
    let report =
        Arc::new(check(&catalog, "default", &CheckOptions::default(), &NoProgress).unwrap());
    let [lon, lat] = report.problems.iter().find_map(|p| p.location).unwrap();
    let tile = tile_for_lonlat(lon, lat, 14).unwrap();
    let calls = Cell::new(0);
    let failing = || {
        calls.set(calls.get() + 1);
        no_report()
    };
    let without = ts.render(&catalog, tile, failing).unwrap();
    assert!(decode_tile(&without)
        .unwrap()
        .iter()
        .all(|l| !l.name.starts_with("coverage")));
    for _ in 0..3 {
        let raw = ts
            .render(&catalog, tile, || {
                calls.set(calls.get() + 1);
                Ok(report.clone())
            })
            .unwrap();
        assert!(decode_tile(&raw)
            .unwrap()
            .iter()
            .any(|l| l.name == "coverage_points"));
    }
    assert_eq!(calls.get(), 2, "one failed and one successful report");
    // Below the coverage layers' zoom no report is needed at all.
    let z7 = tile_for_lonlat(lon, lat, 7).unwrap();
    let fresh = Tileset::build(
        &catalog,
        catalog.system("default").unwrap(),
        &TileConfig::default(),
    )
    .unwrap();
    fresh
        .render(&catalog, z7, || panic!("report asked for at z7"))
        .unwrap();
}

/// All levels of a system are prepared as one group: in every tile the
/// blocks of a community cover it exactly (symmetric difference 0 in
/// tile units), and so do the communities of a street.
#[test]
fn demo_levels_nest_exactly_in_tiles() {
    let catalog = demo_catalog(120);
    let system = catalog.system("default").unwrap();
    let ts = Tileset::build(&catalog, system, &TileConfig::default()).unwrap();
    assert_eq!(ts.levels.len(), 3);
    assert!(ts.levels[0].layer.same_group(&ts.levels[2].layer));
    let opts = TileOptions::default();
    let (mut checks, mut worst) = (0, 0.0f64);
    for z in 11..=15 {
        for tile in tiles_covering(bbox(&ts), z).unwrap().iter() {
            let mvt = render_layers(tile, &ts.layers_at(tile), None, &opts).unwrap();
            // level -> code -> (parent code, geometry)
            let mut shapes: HashMap<String, HashMap<String, (String, MultiPolygon<f64>)>> =
                HashMap::new();
            for l in decode_tile(&mvt).unwrap() {
                for f in &l.features {
                    let polys =
                        polygons_from_rings(rings_from_commands(&f.geometry).unwrap()).unwrap();
                    let mp = MultiPolygon(
                        polys
                            .iter()
                            .map(|p| {
                                let ring = |r: &Vec<[i32; 2]>| {
                                    let mut v: Vec<(f64, f64)> = r
                                        .iter()
                                        .map(|q| (f64::from(q[0]), f64::from(q[1])))
                                        .collect();
                                    v.push(v[0]);
                                    geo_types::LineString::from(v)
                                };
                                geo_types::Polygon::new(
                                    ring(&p[0]),
                                    p[1..].iter().map(ring).collect(),
                                )
                            })
                            .collect(),
                    );
                    shapes.entry(l.name.clone()).or_default().insert(
                        text(&f.properties, "code").unwrap(),
                        (text(&f.properties, "parent").unwrap(), mp),
                    );
                }
            }
            for pair in ts.levels.windows(2) {
                let (Some(up), Some(down)) = (shapes.get(&pair[0].name), shapes.get(&pair[1].name))
                else {
                    continue;
                };
                for (code, (_, pg)) in up {
                    let kids: Vec<&MultiPolygon<f64>> = down
                        .values()
                        .filter(|(p, _)| p == code)
                        .map(|(_, g)| g)
                        .collect();
                    let union = geo::unary_union(kids);
                    worst = worst.max(pg.xor(&union).unsigned_area());
                    checks += 1;
                }
            }
        }
    }
    assert!(checks > 50, "{checks}");
    assert_eq!(worst, 0.0);
}
