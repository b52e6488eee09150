//! The one table of the tile layers: their names, fields (type and meaning)
//! and first zooms. TileJSON's `vector_layers`, the MapLibre style and —
//! through the style's metadata — the web page all read it, so a layer or a
//! field is named in one place. The encoders write exactly these fields (a
//! test decodes tiles and checks every property against this table).

use gridmap_data::model::{Grid, GridSystem};
use serde_json::{json, Map, Value};

use super::coverage::{COVERAGE_MIN_ZOOM, COVERAGE_POINTS_MIN_ZOOM};
use super::{zoom, TileConfig, MAX_ZOOM};

/// Name of the point layer with one label point per grid.
pub const LABELS_LAYER: &str = "labels";
/// Name of the coverage-problem polygon layer.
pub const COVERAGE_LAYER: &str = "coverage";
/// Name of the coverage-problem point layer.
pub const COVERAGE_POINTS_LAYER: &str = "coverage_points";
/// Name of the site-register point layer.
pub const SITES_LAYER: &str = "sites";

/// The value type of a field, as TileJSON names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    String,
    Number,
    Boolean,
}

impl FieldType {
    pub fn as_str(self) -> &'static str {
        match self {
            FieldType::String => "String",
            FieldType::Number => "Number",
            FieldType::Boolean => "Boolean",
        }
    }
}

/// One attribute of the features of a layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    pub name: &'static str,
    pub ty: FieldType,
    /// What the value means, when the name does not say it all.
    pub about: &'static str,
}

impl Field {
    /// TileJSON's field description: the type, then the meaning in brackets.
    pub fn description(&self) -> String {
        if self.about.is_empty() {
            self.ty.as_str().to_string()
        } else {
            format!("{} ({})", self.ty.as_str(), self.about)
        }
    }
}

const fn field(name: &'static str, ty: FieldType, about: &'static str) -> Field {
    Field { name, ty, about }
}

use FieldType::{Boolean, Number, String as Text};

// Fields several layers carry, with the same meaning in each.
const CODE: Field = field("code", Text, "");
const NAME: Field = field("name", Text, "");
const LEVEL: Field = field("level", Text, "");
const GRID_CODES: Field = field("grids", Text, "comma-separated codes");
const MESSAGE: Field = field("message", Text, "");

/// Fields of every level's polygon layer.
pub const GRID_FIELDS: &[Field] = &[
    CODE,
    NAME,
    LEVEL,
    field("parent", Text, "code of the parent grid, empty at the top"),
    field("staffed", Boolean, "has at least one worker"),
    field("workers", Text, "comma-separated names"),
];

/// Fields of the `labels` layer.
pub const LABEL_FIELDS: &[Field] = &[CODE, NAME, LEVEL, field("rank", Number, "depth")];

/// Fields of the `coverage` layer.
pub const COVERAGE_FIELDS: &[Field] = &[
    field(
        "kind",
        Text,
        "gap, overlap, overhang, invalid_geometry, sliver_grid",
    ),
    GRID_CODES,
    MESSAGE,
    field("area_m2", Number, ""),
];

/// Fields of the `coverage_points` layer.
pub const COVERAGE_POINT_FIELDS: &[Field] = &[
    field("kind", Text, ""),
    GRID_CODES,
    MESSAGE,
    field("area_m2", Number, "area problems only"),
];

/// Fields of the `sites` layer: what a publicity board shows, never
/// register data such as household counts (tiles are public).
pub const SITE_FIELDS: &[Field] = &[field("id", Text, ""), field("kind", Text, ""), NAME];

/// What a layer holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LayerKind {
    /// The polygons of the level at this depth.
    Level {
        depth: usize,
    },
    Labels,
    Coverage,
    CoveragePoints,
    Sites,
}

/// One layer of the tiles.
#[derive(Debug, Clone, PartialEq)]
pub struct LayerSpec {
    /// Layer name in the tiles (`source-layer` in a style).
    pub id: String,
    pub kind: LayerKind,
    pub fields: &'static [Field],
    /// First zoom with features in this layer.
    pub min_zoom: u8,
    pub description: String,
}

impl LayerSpec {
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }
}

/// The layers of one grid system's tiles, in the order they are encoded.
#[derive(Debug, Clone, PartialEq)]
pub struct TileSchema {
    pub layers: Vec<LayerSpec>,
}

impl TileSchema {
    /// The schema of `system`'s tiles: a polygon layer per level, drawn from
    /// the zoom [`zoom::level_min_zooms`] finds for the level's `grids`,
    /// then `labels`, `coverage`, `coverage_points` and `sites`.
    pub fn new(system: &GridSystem, grids: &[Grid], config: &TileConfig) -> Self {
        let zooms = zoom::level_min_zooms(system, grids, &config.level_min_zoom);
        let mut layers: Vec<LayerSpec> = system
            .levels
            .iter()
            .zip(&zooms)
            .enumerate()
            .map(|(depth, (level, &min_zoom))| LayerSpec {
                id: level.clone(),
                kind: LayerKind::Level { depth },
                fields: GRID_FIELDS,
                min_zoom,
                description: format!("grids of level {level}"),
            })
            .collect();
        let fixed = [
            (
                LABELS_LAYER,
                LayerKind::Labels,
                LABEL_FIELDS,
                zooms.iter().copied().min().unwrap_or(0),
                "one label point inside each grid, from its level's first zoom",
            ),
            (
                COVERAGE_LAYER,
                LayerKind::Coverage,
                COVERAGE_FIELDS,
                COVERAGE_MIN_ZOOM,
                "coverage problems as polygons (see /api/v1/coverage)",
            ),
            (
                COVERAGE_POINTS_LAYER,
                LayerKind::CoveragePoints,
                COVERAGE_POINT_FIELDS,
                COVERAGE_POINTS_MIN_ZOOM,
                "a point for every coverage problem (sites, unstaffed grids, …)",
            ),
            (
                SITES_LAYER,
                LayerKind::Sites,
                SITE_FIELDS,
                config.sites_min_zoom,
                "registered sites (addresses, enterprises, schools …), one point each",
            ),
        ];
        for (id, kind, fields, min_zoom, description) in fixed {
            layers.push(LayerSpec {
                id: id.to_string(),
                kind,
                fields,
                min_zoom,
                description: description.to_string(),
            });
        }
        Self { layers }
    }

    pub fn layer(&self, id: &str) -> Option<&LayerSpec> {
        self.layers.iter().find(|l| l.id == id)
    }

    /// The level layers, top-down.
    pub fn levels(&self) -> impl Iterator<Item = &LayerSpec> {
        self.layers
            .iter()
            .filter(|l| matches!(l.kind, LayerKind::Level { .. }))
    }

    /// The first zoom of the level at `depth`.
    pub fn level_min_zoom(&self, depth: usize) -> u8 {
        self.levels().nth(depth).map_or(MAX_ZOOM, |l| l.min_zoom)
    }

    /// The first zoom of a fixed layer (labels, coverage, sites …).
    pub fn min_zoom_of(&self, kind: LayerKind) -> u8 {
        self.layers
            .iter()
            .find(|l| l.kind == kind)
            .map_or(MAX_ZOOM, |l| l.min_zoom)
    }

    /// TileJSON 3.0 `vector_layers`.
    pub fn vector_layers(&self) -> Value {
        Value::Array(
            self.layers
                .iter()
                .map(|l| {
                    let fields: Map<String, Value> = l
                        .fields
                        .iter()
                        .map(|f| (f.name.to_string(), json!(f.description())))
                        .collect();
                    json!({
                        "id": l.id,
                        "fields": fields,
                        "minzoom": l.min_zoom,
                        "maxzoom": MAX_ZOOM,
                        "description": l.description,
                    })
                })
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vector_layers_list_every_layer_with_fields_and_zooms() {
        let system = GridSystem::with_default_levels("default");
        let schema = TileSchema::new(&system, &[], &TileConfig::default());
        let vl = schema.vector_layers();
        let ids: Vec<&str> = vl
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["id"].as_str().unwrap())
            .collect();
        assert_eq!(
            ids,
            [
                "street",
                "community",
                "block",
                "labels",
                "coverage",
                "coverage_points",
                "sites"
            ]
        );
        // Without grids the levels keep the depth rule.
        assert_eq!(vl[1]["minzoom"], 11);
        assert_eq!(vl[2]["minzoom"], 13);
        assert_eq!(
            vl[2]["fields"]["staffed"],
            "Boolean (has at least one worker)"
        );
        assert_eq!(vl[2]["fields"]["code"], "String");
        assert_eq!(vl[3]["fields"]["rank"], "Number (depth)");
        assert_eq!(vl[4]["minzoom"], COVERAGE_MIN_ZOOM);
        assert_eq!(vl[6]["minzoom"], 15);
        assert_eq!(vl[6]["maxzoom"], MAX_ZOOM);
        assert_eq!(schema.level_min_zoom(2), 13);
        assert_eq!(schema.min_zoom_of(LayerKind::Sites), 15);
        assert_eq!(
            schema
                .layer("coverage")
                .unwrap()
                .field("area_m2")
                .unwrap()
                .ty,
            Number
        );
    }
}
