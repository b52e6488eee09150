//! Turning a catalog's grid systems into vector-tile layers.
//!
//! One [`Tileset`] per grid system and catalog version: a prepared polygon
//! layer per level (named after the level) and a `labels` point layer. Which
//! levels appear from which zoom is set by [`TileConfig`]. A `sites` point
//! layer (the catalog's site registers, shared by all systems) is appended
//! by [`encode_sites_layer`] from [`TileConfig::sites_min_zoom`] on.

use std::collections::HashMap;

use gridmap_data::catalog::Catalog;
use gridmap_data::index::SystemIndex;
use gridmap_tiles::mvt::{point_commands, GeomType, LayerBuilder};
use gridmap_tiles::tile::{lonlat_to_mercator, mercator_to_lonlat, tile_width};
use gridmap_tiles::{
    label_point, FeatureInput, GroupLayer, LabelInput, LabelLayer, PreparedLayer, PropValue,
    TileId, TileOptions,
};

/// Highest zoom advertised in TileJSON; clients overzoom beyond it.
pub const MAX_ZOOM: u8 = 16;

/// Tile settings, validated once at start-up.
#[derive(Debug, Clone)]
pub struct TileConfig {
    /// Minimum zoom per level name, overriding [`default_min_zoom`].
    pub level_min_zoom: HashMap<String, u8>,
    /// Upper bound of the in-memory tile cache, in bytes.
    pub cache_bytes: usize,
    /// First zoom of the `sites` point layer.
    pub sites_min_zoom: u8,
}

/// Default first zoom of the `sites` layer: at z15 a block spans a few
/// hundred pixels, so its addresses and shops can be told apart.
pub const DEFAULT_SITES_MIN_ZOOM: u8 = 15;

impl Default for TileConfig {
    fn default() -> Self {
        Self {
            level_min_zoom: HashMap::new(),
            cache_bytes: 256 << 20,
            sites_min_zoom: DEFAULT_SITES_MIN_ZOOM,
        }
    }
}

/// Default first zoom of a level by its depth: the top level always, the
/// second from z11 (a district fills the screen), the third from z13 (a
/// community fills it), each deeper level two zooms later.
pub fn default_min_zoom(depth: usize) -> u8 {
    match depth {
        0 => 0,
        1 => 11,
        d => (13 + 2 * (d - 2)).min(MAX_ZOOM as usize) as u8,
    }
}

impl TileConfig {
    pub fn min_zoom(&self, level: &str, depth: usize) -> u8 {
        self.level_min_zoom
            .get(level)
            .copied()
            .unwrap_or_else(|| default_min_zoom(depth))
    }

    /// Parses `street=0,community=11,block=13`.
    pub fn parse_level_min_zoom(s: &str) -> Result<HashMap<String, u8>, String> {
        s.split(',')
            .filter(|p| !p.trim().is_empty())
            .map(|pair| {
                let (name, z) = pair
                    .split_once('=')
                    .ok_or_else(|| format!("`{pair}` is not LEVEL=ZOOM"))?;
                let z: u8 = z
                    .trim()
                    .parse()
                    .map_err(|_| format!("zoom in `{pair}` is not 0..={MAX_ZOOM}"))?;
                if z > MAX_ZOOM {
                    return Err(format!("zoom in `{pair}` is not 0..={MAX_ZOOM}"));
                }
                Ok((name.trim().to_string(), z))
            })
            .collect()
    }
}

/// A stable numeric feature id for a grid: the code itself when it is a
/// number of at most 15 digits (every DB11/T 2157 code is), so a map can join
/// on it; otherwise a 64-bit FNV-1a hash of the code folded into
/// [2^51, 2^52), which no 15-digit code reaches and JavaScript numbers hold
/// exactly.
pub fn grid_feature_id(code: &str) -> u64 {
    if !code.is_empty() && code.len() <= 15 && code.bytes().all(|b| b.is_ascii_digit()) {
        return code.parse().expect("at most 15 digits fit in u64");
    }
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in code.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    (1 << 51) | (h & ((1 << 51) - 1))
}

/// A stable numeric feature id for a site: the 64-bit FNV-1a hash of
/// `kind/id` folded into [2^51, 2^52), so ids are exact in JavaScript and
/// stay the same across reloads. Kinds never contain `/`, so distinct
/// (kind, id) pairs hash distinct strings; collisions are possible but rare
/// (about 1 in 9,000 for a million sites) and only affect feature-state.
pub fn site_feature_id(kind: &str, id: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in kind.bytes().chain(std::iter::once(b'/')).chain(id.bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    (1 << 51) | (h & ((1 << 51) - 1))
}

/// Appends a `sites` point layer to an encoded tile (MVT layers are a
/// repeated field, so appending a layer message is valid): every site of the
/// catalog inside the tile plus `opts.buffer`, from `min_zoom` on, with
/// properties `id`, `kind`, `name` and, where set, `households`. Returns the
/// number of sites written; nothing is appended when there are none.
pub fn encode_sites_layer(
    catalog: &Catalog,
    tile: TileId,
    opts: &TileOptions,
    min_zoom: u8,
    out: &mut Vec<u8>,
) -> usize {
    if tile.z < min_zoom || catalog.sites().is_empty() {
        return 0;
    }
    let b = tile.bounds();
    let scale = f64::from(opts.extent) / tile_width(tile.z);
    let buf = f64::from(opts.buffer) / scale;
    let (min_lon, min_lat) = mercator_to_lonlat(b.min().x - buf, b.min().y - buf);
    let (max_lon, max_lat) = mercator_to_lonlat(b.max().x + buf, b.max().y + buf);
    let found = catalog
        .site_register()
        .points()
        .in_bbox([min_lon, min_lat, max_lon, max_lat]);
    if found.is_empty() {
        return 0;
    }
    let register = catalog.site_register();
    let mut layer = LayerBuilder::new("sites", opts.extent);
    for &i in &found {
        let site = &register.sites()[i as usize];
        let kind = register.kind_name(site);
        let (mx, my) = lonlat_to_mercator(site.lon, site.lat);
        let p = [
            ((mx - b.min().x) * scale).round() as i32,
            ((b.max().y - my) * scale).round() as i32,
        ];
        let mut props = vec![
            ("id".to_string(), PropValue::String(site.id.to_string())),
            ("kind".to_string(), PropValue::String(kind.to_string())),
            ("name".to_string(), PropValue::String(site.name.to_string())),
        ];
        if let Some(h) = site.households {
            props.push(("households".to_string(), PropValue::Int(i64::from(h))));
        }
        let id = site_feature_id(kind, &site.id);
        layer.add_feature(Some(id), GeomType::Point, &point_commands(&[p]), &props);
    }
    layer.finish_into(out);
    found.len()
}

/// One level's polygons and from which zoom they are drawn.
pub struct LevelLayer {
    pub name: String,
    pub min_zoom: u8,
    pub layer: PreparedLayer,
}

/// The vector-tile layers of one grid system.
pub struct Tileset {
    pub system: String,
    pub levels: Vec<LevelLayer>,
    pub labels: LabelLayer,
    /// `[minlon, minlat, maxlon, maxlat]` of all grids.
    pub bounds: Option<[f64; 4]>,
}

impl Tileset {
    /// Prepares every level of a system as one group over a shared arc
    /// topology (see [`PreparedLayer::new_group`]): simplification ranks,
    /// per-zoom tolerances and R-trees, with each level drawn from its
    /// `min_zoom`.
    pub fn build(
        catalog: &Catalog,
        system: &SystemIndex,
        config: &TileConfig,
    ) -> anyhow::Result<Self> {
        let name = &system.system().name;
        let mut levels = Vec::new();
        let mut group = Vec::new();
        let mut labels = Vec::new();
        for (depth, level) in system.system().levels.iter().enumerate() {
            let min_zoom = config.min_zoom(level, depth);
            let mut features = Vec::new();
            for g in system.grids().iter().filter(|g| &g.level == level) {
                let id = grid_feature_id(&g.code);
                let workers: Vec<String> = catalog
                    .workers_of(name, &g.code)
                    .into_iter()
                    .map(|(w, _)| w.name.clone())
                    .collect();
                let properties = vec![
                    ("code".to_string(), PropValue::String(g.code.clone())),
                    ("name".to_string(), PropValue::String(g.name.clone())),
                    ("level".to_string(), PropValue::String(g.level.clone())),
                    (
                        "parent".to_string(),
                        PropValue::String(g.parent.clone().unwrap_or_default()),
                    ),
                    ("staffed".to_string(), PropValue::Bool(!workers.is_empty())),
                    ("workers".to_string(), PropValue::String(workers.join(","))),
                ];
                if let Some(p) = label_point(&g.geometry) {
                    labels.push(LabelInput {
                        id,
                        point: p,
                        properties: vec![
                            ("code".to_string(), PropValue::String(g.code.clone())),
                            ("name".to_string(), PropValue::String(g.name.clone())),
                            ("level".to_string(), PropValue::String(g.level.clone())),
                            ("rank".to_string(), PropValue::Int(depth as i64)),
                        ],
                        min_zoom,
                    });
                }
                features.push(FeatureInput {
                    id,
                    geometry: g.geometry.clone(),
                    properties,
                });
            }
            group.push(GroupLayer::new(level.clone(), features).from_zoom(min_zoom));
        }
        // All levels share one arc topology, so in every tile a parent's
        // polygon equals the union of its children's.
        let prepared = PreparedLayer::new_group(group)
            .map_err(|e| anyhow::anyhow!("grid system '{name}': {e}"))?;
        for layer in prepared {
            levels.push(LevelLayer {
                name: layer.name().to_string(),
                min_zoom: layer.min_zoom(),
                layer,
            });
        }
        Ok(Self {
            system: name.clone(),
            levels,
            labels: LabelLayer::new("labels", labels)?,
            bounds: system.bounds(),
        })
    }

    /// The polygon layers drawn at a zoom.
    pub fn layers_at(&self, tile: TileId) -> Vec<&PreparedLayer> {
        self.levels
            .iter()
            .filter(|l| tile.z >= l.min_zoom)
            .map(|l| &l.layer)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn feature_ids_are_codes_or_high_hashes() {
        assert_eq!(grid_feature_id("330106001001001"), 330_106_001_001_001);
        assert_eq!(grid_feature_id("007"), 7);
        let h = grid_feature_id("A-17");
        assert!(h >= 1 << 51 && h < 1 << 52);
        assert_eq!(h, grid_feature_id("A-17"), "stable");
        assert_ne!(h, grid_feature_id("A-18"));
        assert!(
            grid_feature_id("1234567890123456") >= 1 << 51,
            "16 digits are hashed"
        );
    }

    #[test]
    fn site_ids_are_stable_high_hashes() {
        let a = site_feature_id("address", "A000001");
        assert!((1 << 51..1 << 52).contains(&a));
        assert_eq!(a, site_feature_id("address", "A000001"));
        assert_ne!(a, site_feature_id("school", "A000001"));
        // The separator keeps ("ab", "c") and ("a", "bc") apart.
        assert_ne!(site_feature_id("ab", "c"), site_feature_id("a", "bc"));
        assert_eq!(TileConfig::default().sites_min_zoom, 15);
    }

    #[test]
    fn sites_layer_positions_and_zoom() {
        use gridmap_data::model::Site;
        use gridmap_tiles::decode::decode_tile;
        use gridmap_tiles::tile::tile_for_lonlat;
        let site = |kind: &str, id: &str, lon: f64, lat: f64, households| Site {
            id: id.into(),
            kind: kind.into(),
            name: format!("{id}名"),
            address: None,
            households,
            location: geo_types::Point::new(lon, lat),
            attributes: Default::default(),
        };
        let catalog = Catalog::from_parts(1, Default::default(), vec![]).with_sites(vec![
            site("address", "A1", 120.1, 30.25, Some(42)),
            site("food", "F1", 120.1001, 30.2501, None),
        ]);
        let opts = TileOptions::default();
        let tile = tile_for_lonlat(120.1, 30.25, 15).unwrap();
        let mut out = Vec::new();
        assert_eq!(encode_sites_layer(&catalog, tile, &opts, 15, &mut out), 2);
        let layers = decode_tile(&out).unwrap();
        assert_eq!(layers.len(), 1);
        assert_eq!(layers[0].name, "sites");
        let f = &layers[0].features[0];
        assert_eq!(
            (f.id, f.geom_type),
            (Some(site_feature_id("address", "A1")), 1)
        );
        assert!(f
            .properties
            .contains(&("households".to_string(), PropValue::Int(42))));
        assert!(f
            .properties
            .contains(&("name".to_string(), PropValue::String("A1名".into()))));
        assert!(!layers[0].features[1]
            .properties
            .iter()
            .any(|(k, _)| k == "households"));
        // The encoded position maps back to the site within half a tile unit.
        let [dx, dy] =
            [f.geometry[1], f.geometry[2]].map(|v| ((v >> 1) as i32) ^ -((v & 1) as i32));
        let b = tile.bounds();
        let unit = b.width() / 4096.0;
        let (mx, my) = lonlat_to_mercator(120.1, 30.25);
        assert!((b.min().x + f64::from(dx) * unit - mx).abs() <= unit / 2.0 + 1e-6);
        assert!((b.max().y - f64::from(dy) * unit - my).abs() <= unit / 2.0 + 1e-6);
        let z14 = tile_for_lonlat(120.1, 30.25, 14).unwrap();
        let mut none = Vec::new();
        assert_eq!(encode_sites_layer(&catalog, z14, &opts, 15, &mut none), 0);
        assert!(none.is_empty());
        let far = tile_for_lonlat(100.0, 20.0, 15).unwrap();
        assert_eq!(encode_sites_layer(&catalog, far, &opts, 15, &mut none), 0);
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
        assert_eq!(c.min_zoom("block", 2), 14);
        assert_eq!(c.min_zoom("community", 1), 11);
    }

    /// All levels of a system are prepared as one group: in every tile the
    /// blocks of a community cover it exactly (symmetric difference 0 in
    /// tile units), and so do the communities of a street.
    #[test]
    fn demo_levels_nest_exactly_in_tiles() {
        use geo::{Area, BooleanOps};
        use gridmap_tiles::decode::{decode_tile, polygons_from_rings, rings_from_commands};
        use gridmap_tiles::render_tile;
        use gridmap_tiles::tile::tiles_covering;
        let city = gridmap_data::demo::generate(
            &gridmap_data::demo::DemoOptions {
                blocks: 120,
                seed: 3,
            },
            &gridmap_data::progress::NoProgress,
        )
        .unwrap();
        let sg = city.grids.into_iter().next().unwrap();
        let name = sg.system.name.clone();
        let index = SystemIndex::build(sg.system, sg.grids);
        let systems = [(name.clone(), index)].into_iter().collect();
        let catalog = Catalog::from_parts(1, systems, vec![]);
        let system = catalog.system(&name).unwrap();
        let ts = Tileset::build(&catalog, system, &TileConfig::default()).unwrap();
        assert_eq!(ts.levels.len(), 3);
        assert!(ts.levels[0].layer.same_group(&ts.levels[2].layer));
        let [w, s, e, n] = ts.bounds.unwrap();
        let bbox = geo_types::Rect::new((w, s), (e, n));
        let opts = TileOptions::default();
        let (mut checks, mut worst) = (0, 0.0f64);
        for z in 11..=15 {
            for tile in tiles_covering(bbox, z).unwrap().iter() {
                let mvt = render_tile(tile, &ts.layers_at(tile), None, &opts).unwrap();
                // level -> code -> (parent code, geometry)
                let mut shapes: HashMap<
                    String,
                    HashMap<String, (String, geo_types::MultiPolygon<f64>)>,
                > = HashMap::new();
                for l in decode_tile(&mvt).unwrap() {
                    for f in &l.features {
                        let text = |k: &str| {
                            f.properties.iter().find_map(|(key, v)| match v {
                                PropValue::String(s) if key == k => Some(s.clone()),
                                _ => None,
                            })
                        };
                        let polys =
                            polygons_from_rings(rings_from_commands(&f.geometry).unwrap()).unwrap();
                        let mp = geo_types::MultiPolygon(
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
                        shapes
                            .entry(l.name.clone())
                            .or_default()
                            .insert(text("code").unwrap(), (text("parent").unwrap(), mp));
                    }
                }
                for pair in ts.levels.windows(2) {
                    let (Some(up), Some(down)) =
                        (shapes.get(&pair[0].name), shapes.get(&pair[1].name))
                    else {
                        continue;
                    };
                    for (code, (_, pg)) in up {
                        let kids: Vec<&geo_types::MultiPolygon<f64>> = down
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
}
