//! Turning a catalog's grid systems into vector tiles.
//!
//! One [`Tileset`] per grid system and catalog version: a prepared polygon
//! layer per level (named after the level), a `labels` point layer, the
//! `coverage` layers (prepared on first use from a report of the same
//! catalog) and the catalog's `sites`. [`render_tile`] encodes a whole tile;
//! the HTTP handler does nothing else with tiles. The layers, their fields
//! and first zooms are one table, [`schema::TileSchema`], which TileJSON, the
//! MapLibre style and the web page read too; [`zoom`] decides from the data
//! where each level starts.
//!
//! Submodules: [`schema`] (the layer table), [`zoom`] (first zoom per level),
//! [`ids`] (feature ids), [`sites`] (the sites layer), [`coverage`] (the
//! coverage layers).

pub mod coverage;
pub mod ids;
pub mod schema;
pub mod sites;
pub mod zoom;

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use gridmap_data::analysis::CoverageReport;
use gridmap_data::catalog::Catalog;
use gridmap_data::index::SystemIndex;
use gridmap_tiles::{
    label_point, render_tile as render_layers, FeatureInput, GroupLayer, LabelInput, LabelLayer,
    PreparedLayer, PropValue, TileId, TileOptions,
};

pub use coverage::CoverageTiles;
pub use ids::{grid_feature_id, site_feature_id, GridIds};
pub use schema::{LayerKind, TileSchema};
pub use sites::encode_sites_layer;
pub use zoom::default_min_zoom;

use crate::http::AppState;

/// Highest zoom advertised in TileJSON; clients overzoom beyond it.
pub const MAX_ZOOM: u8 = 16;

/// Tile settings, validated once at start-up.
#[derive(Debug, Clone)]
pub struct TileConfig {
    /// First zoom per level name, overriding the rule of [`zoom`].
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

impl TileConfig {
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

/// One level's polygons and from which zoom they are drawn.
pub struct LevelLayer {
    pub name: String,
    pub min_zoom: u8,
    pub layer: PreparedLayer,
}

/// The vector-tile layers of one grid system in one catalog snapshot.
pub struct Tileset {
    pub system: String,
    /// The layers and their first zooms, as TileJSON and the style list them.
    pub schema: TileSchema,
    pub levels: Vec<LevelLayer>,
    pub labels: LabelLayer,
    /// `[minlon, minlat, maxlon, maxlat]` of all grids.
    pub bounds: Option<[f64; 4]>,
    /// Prepared from the coverage report on first use; a failed attempt is
    /// not kept, so the next tile tries again.
    coverage: OnceLock<CoverageTiles>,
}

impl Tileset {
    /// Prepares every level of a system as one group over a shared arc
    /// topology (see [`PreparedLayer::new_group`]): simplification ranks,
    /// per-zoom tolerances and R-trees, with each level drawn from the first
    /// zoom its [`TileSchema`] gives it.
    pub fn build(
        catalog: &Catalog,
        system: &SystemIndex,
        config: &TileConfig,
    ) -> anyhow::Result<Self> {
        let name = &system.system().name;
        let schema = TileSchema::new(system.system(), system.grids(), config);
        let mut ids = GridIds::default();
        let mut group = Vec::new();
        let mut labels = Vec::new();
        for (depth, level) in system.system().levels.iter().enumerate() {
            let min_zoom = schema.level_min_zoom(depth);
            let mut features = Vec::new();
            for g in system.grids().iter().filter(|g| &g.level == level) {
                let id = ids.assign(&g.code);
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
        let levels = prepared
            .into_iter()
            .map(|layer| LevelLayer {
                name: layer.name().to_string(),
                min_zoom: layer.min_zoom(),
                layer,
            })
            .collect();
        Ok(Self {
            system: name.clone(),
            schema,
            levels,
            labels: LabelLayer::new(schema::LABELS_LAYER, labels)?,
            bounds: system.bounds(),
            coverage: OnceLock::new(),
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

    /// The coverage layers, prepared from `report()` the first time it
    /// succeeds; `report` must be of the catalog this tileset was built from.
    pub fn coverage_tiles(
        &self,
        report: impl FnOnce() -> anyhow::Result<Arc<CoverageReport>>,
    ) -> anyhow::Result<&CoverageTiles> {
        if let Some(ready) = self.coverage.get() {
            return Ok(ready);
        }
        let report = report()?;
        let built = CoverageTiles::build(&report)?;
        // Two tiles may race to prepare them; the first one in is kept.
        Ok(self.coverage.get_or_init(|| built))
    }

    /// Encodes one whole tile of this tileset: the level polygons drawn at
    /// its zoom, the labels, the `sites` of `catalog` (the snapshot the
    /// tileset was built from) and, from z[`coverage::COVERAGE_MIN_ZOOM`], the
    /// coverage layers (from `report` on first use). When the report fails
    /// the tile is still drawn, without coverage layers, and the failure is
    /// logged. Uncompressed MVT; empty when nothing is in the tile.
    pub fn render(
        &self,
        catalog: &Catalog,
        tile: TileId,
        report: impl FnOnce() -> anyhow::Result<Arc<CoverageReport>>,
    ) -> anyhow::Result<Vec<u8>> {
        let opts = TileOptions::default();
        let mut raw = render_layers(tile, &self.layers_at(tile), Some(&self.labels), &opts)?;
        let sites_min_zoom = self.schema.min_zoom_of(LayerKind::Sites);
        encode_sites_layer(catalog, tile, &opts, sites_min_zoom, &mut raw)?;
        if tile.z >= self.schema.min_zoom_of(LayerKind::Coverage) {
            match self.coverage_tiles(report) {
                Ok(layers) => layers.encode(tile, &opts, &mut raw)?,
                Err(e) => tracing::warn!(
                    error = format!("{e:#}"),
                    system = self.system,
                    "no coverage layers in this tile"
                ),
            }
        }
        Ok(raw)
    }
}

/// Encodes tile `tile` of grid system `system` from the catalog snapshot
/// `catalog`, preparing the system's tileset first if need be. The one call
/// the tile handler makes. Blocking: call from a blocking thread.
pub fn render_tile(
    state: &AppState,
    catalog: &Catalog,
    system: &str,
    tile: TileId,
) -> anyhow::Result<Vec<u8>> {
    let tileset = state
        .tileset(catalog, system)
        .ok_or_else(|| anyhow::anyhow!("no grid system named `{system}`"))?
        .map_err(|e| anyhow::anyhow!("preparing tiles of {system}: {e}"))?;
    tileset.render(catalog, tile, || {
        coverage::report_for_tiles(state, catalog, system)
    })
}

#[cfg(test)]
mod tests;
