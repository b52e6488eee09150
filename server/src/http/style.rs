//! `GET /styles/{system}.json`: a MapLibre style (v8) for one grid system.
//!
//! One vector source `grids` (the system's TileJSON), and per level the
//! style layers of [`LevelLayer`]: base layers (a fill, an outline, labels;
//! the finest level also a reddish fill for unstaffed grids) and highlight
//! layers (hover and selection) above the fills and outlines, below the
//! labels.
//!
//! Every client that reads MapLibre styles draws it, not only MapLibre GL
//! JS: base layers have static paint (constants and interpolations on zoom),
//! and highlight layers are driven by their filter, which matches no feature
//! until the web page sets one. Nothing reads `feature-state`: QGIS's style
//! converter skips it (and so drew every grid opaque and outlined as
//! selected), and a client that only shows the map (QGIS, a MapLibre Native
//! app) never sets any state or filter, so it draws the highlights as
//! nothing.
//!
//! Labels: without `--glyphs` the style has no `glyphs` URL and MapLibre GL
//! JS draws the (mostly Chinese) labels itself with the browser's fonts, so
//! the page needs no glyph server and works offline. MapLibre Native needs
//! a glyph server to draw labels; `--glyphs` adds one, and the labels then
//! name font stacks such a server carries. An XYZ raster basemap can be put
//! underneath with `GRIDMAP_BASEMAP_URL` (and credited with
//! `GRIDMAP_BASEMAP_ATTRIBUTION`).

use axum::extract::{Path, State};
use axum::http::header::CACHE_CONTROL;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use gridmap_data::GridSystem;
use serde_json::{json, Value};

use super::error::AppError;
use super::state::AppState;
use super::tiles::{system_document, urlencode};
use crate::tileset::schema::{LayerKind, TileSchema, COVERAGE_LAYER, LABELS_LAYER};

/// The Chinese name shown for a level; unknown level names are shown as-is.
pub fn level_label(level: &str) -> &str {
    match level {
        "street" => "街道",
        "community" => "社区",
        "block" => "网格",
        other => other,
    }
}

/// An XYZ raster layer drawn under the grids.
#[derive(Debug, Clone, PartialEq)]
pub struct Basemap {
    /// Tile URL template with `{z}`, `{x}`, `{y}`.
    pub url: String,
    pub attribution: Option<String>,
}

/// Where clients fetch label glyphs (`--glyphs`): a URL template with
/// `{fontstack}` and `{range}`, either absolute (http or https) or a path
/// relative to the server's public URL, so a glyph folder served by the
/// same reverse proxy needs no host name in the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Glyphs {
    template: String,
}

impl Glyphs {
    /// Checks a `--glyphs` value: both placeholders, no blanks, and either
    /// http(s) with a host or a relative path (other schemes and
    /// scheme-relative `//host` URLs are refused, as MapLibre Native could
    /// not fetch them or would guess the scheme).
    ///
    /// ```
    /// use gridmap::http::style::Glyphs;
    ///
    /// assert!(Glyphs::parse("https://fonts.example.cn/{fontstack}/{range}.pbf").is_ok());
    /// assert!(Glyphs::parse("fonts/{fontstack}/{range}.pbf").is_ok());
    /// assert!(Glyphs::parse("https://fonts.example.cn/{range}.pbf").is_err());
    /// ```
    pub fn parse(url: &str) -> Result<Self, String> {
        const EXAMPLE: &str =
            "e.g. https://fonts.example.cn/{fontstack}/{range}.pbf or fonts/{fontstack}/{range}.pbf";
        if !(url.contains("{fontstack}") && url.contains("{range}")) {
            return Err(format!(
                "`{url}` needs {{fontstack}} and {{range}} in it ({EXAMPLE})"
            ));
        }
        if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(format!("`{url}` must not contain spaces ({EXAMPLE})"));
        }
        let absolute = ["http://", "https://"]
            .iter()
            .find_map(|s| url.strip_prefix(s));
        let ok = match absolute {
            Some(rest) => !rest.is_empty() && !rest.starts_with('/'),
            None => !url.starts_with("//") && !has_scheme(url),
        };
        if ok {
            Ok(Self {
                template: url.to_string(),
            })
        } else {
            Err(format!(
                "`{url}` must be an http:// or https:// URL or a path relative to the server ({EXAMPLE})"
            ))
        }
    }

    /// The template as the style carries it: absolute, a relative path
    /// resolved against the server's public URL `base` like a link in a page
    /// at `{base}/` (`fonts/…` below it, `/fonts/…` from its host), since
    /// MapLibre Native and QGIS have no page to resolve it against.
    pub fn url(&self, base: &str) -> String {
        let t = &self.template;
        if t.starts_with("http://") || t.starts_with("https://") {
            return t.clone();
        }
        let base = base.trim_end_matches('/');
        match t.strip_prefix('/') {
            Some(path) => {
                let host_end = base
                    .find("://")
                    .and_then(|s| base[s + 3..].find('/').map(|p| s + 3 + p))
                    .unwrap_or(base.len());
                format!("{}/{path}", &base[..host_end])
            }
            None => format!("{base}/{}", t.trim_start_matches("./")),
        }
    }
}

/// Whether a URL reference starts with a scheme (`mailto:`, `file:` …), as
/// RFC 3986 spells one: a letter, then letters, digits, `+`, `-` or `.`.
fn has_scheme(url: &str) -> bool {
    url.split_once(':').is_some_and(|(scheme, _)| {
        scheme.starts_with(|c: char| c.is_ascii_alphabetic())
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
    })
}

/// What a level's style layer draws. A level has at most one layer of each
/// kind, with the id `{level}-{kind}`; the style's metadata lists them per
/// level by kind (`gridmap:style_layers`), so the page finds them without
/// knowing how they are named.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LevelLayer {
    /// The level's tint.
    Fill,
    /// The finest level's grids without a worker, in red.
    Unstaffed,
    /// The level's borders.
    Line,
    /// The grids' names.
    Label,
    /// Highlight: a deeper tint over the grid under the pointer.
    Hover,
    /// Highlight: a deeper tint over the selected grid.
    SelectedFill,
    /// Highlight: the selected grid's red outline.
    Selected,
}

impl LevelLayer {
    /// Every kind, in the order the metadata lists them.
    pub const ALL: [Self; 7] = [
        Self::Fill,
        Self::Unstaffed,
        Self::Line,
        Self::Label,
        Self::Hover,
        Self::SelectedFill,
        Self::Selected,
    ];

    /// The kind's name in layer ids and in the metadata.
    pub fn name(self) -> &'static str {
        match self {
            Self::Fill => "fill",
            Self::Unstaffed => "unstaffed",
            Self::Line => "line",
            Self::Label => "label",
            Self::Hover => "hover",
            Self::SelectedFill => "selected-fill",
            Self::Selected => "selected",
        }
    }

    /// Highlight layers draw the one grid the page picks by its feature id
    /// in the layer's filter; every other kind is a base layer, whose paint
    /// is the same for every feature state.
    pub fn is_highlight(self) -> bool {
        matches!(self, Self::Hover | Self::SelectedFill | Self::Selected)
    }

    /// The id of this kind's layer for `level`.
    pub fn id(self, level: &str) -> String {
        format!("{level}-{}", self.name())
    }
}

/// The filter of a highlight layer while nothing is highlighted. Grid
/// feature ids are never negative (`tileset::ids`), so it matches no
/// feature; QGIS's converter reads `["id"]` as an attribute the level
/// layers do not have, so there it matches none either.
fn nothing_highlighted() -> Value {
    json!(["==", ["id"], -1])
}

/// Label font stacks from a glyph server (`--glyphs`): the names of the
/// Noto Sans glyph sets that glyph servers commonly carry, one name per
/// stack, as MapLibre Native loads no text when a stack names a font the
/// server lacks. MapLibre GL JS, and MapLibre Native on Android and iOS,
/// draw Chinese characters with the device's fonts by default, so there a
/// server with Latin glyphs only still gives whole labels.
const GLYPH_FONT_REGULAR: &str = "Noto Sans Regular";
const GLYPH_FONT_BOLD: &str = "Noto Sans Bold";

pub fn router() -> Router<AppState> {
    Router::new().route("/styles/{file}", get(style))
}

async fn style(
    State(state): State<AppState>,
    Path(file): Path<String>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let described = system_document(&state, "/styles", "a style", &file).await?;
    let base = state.public_base(&headers);
    let glyphs = state.config().glyphs.as_ref().map(|g| g.url(&base));
    let body = build_style(
        described.system().system(),
        &described.tileset.schema,
        &base,
        state.config().basemap.as_ref(),
        glyphs.as_deref(),
    );
    // The catalog can be reloaded (new levels): clients revalidate.
    Ok(([(CACHE_CONTROL, "no-cache")], Json(body)).into_response())
}

/// Fill, line and text colours for a level by depth.
fn palette(depth: usize) -> (&'static str, &'static str, &'static str) {
    const P: [(&str, &str, &str); 4] = [
        ("#3f6fb5", "#1d3560", "#1d3560"),
        ("#3a9a6a", "#2b6a4a", "#24573d"),
        ("#d9a13b", "#8c7651", "#6b5531"),
        ("#8e6cc0", "#5e4690", "#4b3775"),
    ];
    P[depth.min(P.len() - 1)]
}

/// Builds the style for `system`, whose TileJSON is at
/// `{base}/tiles/{system}.json`; layer names and first zooms come from the
/// tiles' `schema`, so each level is drawn from the zoom at which the tiles
/// carry it. The style's `metadata` lists the levels (name, shown label,
/// depth, first zoom and the ids of their style layers) for the web page.
/// `glyphs` is the absolute glyph URL template (see [`Glyphs::url`]); without
/// one the labels name CSS fonts that MapLibre GL JS draws locally.
///
/// ```
/// use gridmap::http::style::build_style;
/// use gridmap::tileset::{TileConfig, TileSchema};
/// use gridmap_data::GridSystem;
///
/// let system = GridSystem::with_default_levels("default");
/// let schema = TileSchema::new(&system, &[], &TileConfig::default());
/// let style = build_style(&system, &schema, "http://localhost:8080", None, None);
/// assert_eq!(style["sources"]["grids"]["url"], "http://localhost:8080/tiles/default.json");
/// assert!(style.get("glyphs").is_none());
/// ```
pub fn build_style(
    system: &GridSystem,
    schema: &TileSchema,
    base: &str,
    basemap: Option<&Basemap>,
    glyphs: Option<&str>,
) -> Value {
    let levels: Vec<&str> = schema.levels().map(|l| l.id.as_str()).collect();
    let level_minzoom = |depth: usize| schema.level_min_zoom(depth);
    let coverage_minzoom = schema.min_zoom_of(LayerKind::Coverage);
    let finest = levels.len().saturating_sub(1);
    let mut sources = serde_json::Map::new();
    sources.insert(
        "grids".into(),
        json!({ "type": "vector", "url": format!("{base}/tiles/{}.json", urlencode(&system.name)) }),
    );
    let mut layers = vec![json!({
        "id": "background", "type": "background",
        "paint": { "background-color": if basemap.is_some() { "#ffffff" } else { "#f3f1ea" } }
    })];
    if let Some(b) = basemap {
        let mut src = json!({ "type": "raster", "tiles": [b.url], "tileSize": 256, "maxzoom": 18 });
        if let Some(a) = &b.attribution {
            src["attribution"] = json!(a);
        }
        sources.insert("basemap".into(), src);
        layers.push(json!({ "id": "basemap", "type": "raster", "source": "basemap" }));
    }

    // Fills top-down, so finer grids tint over their parents.
    for (depth, level) in levels.iter().enumerate() {
        let (fill, _, _) = palette(depth);
        // A level's own tint while it is the finest drawn; once the next
        // level appears it fades, so nested tints do not turn muddy.
        let own = if basemap.is_some() {
            0.06
        } else {
            [0.12, 0.1, 0.14][depth.min(2)]
        };
        let opacity = if depth < finest {
            let next = f64::from(level_minzoom(depth + 1));
            json!([
                "interpolate",
                ["linear"],
                ["zoom"],
                next,
                own,
                next + 1.0,
                0.03
            ])
        } else {
            json!(own)
        };
        layers.push(json!({
            "id": LevelLayer::Fill.id(level), "type": "fill", "source": "grids", "source-layer": level,
            "minzoom": level_minzoom(depth),
            "paint": { "fill-color": fill, "fill-opacity": opacity }
        }));
        if depth == finest {
            layers.push(json!({
                "id": LevelLayer::Unstaffed.id(level), "type": "fill", "source": "grids", "source-layer": level,
                "minzoom": level_minzoom(depth),
                "filter": ["==", ["get", "staffed"], false],
                "paint": { "fill-color": "#e5533d", "fill-opacity": 0.22 }
            }));
        }
    }
    // Outlines bottom-up, so street borders stay on top of block borders.
    for (depth, level) in levels.iter().enumerate().rev() {
        let (_, line, _) = palette(depth);
        let z = f64::from(level_minzoom(depth));
        let (w0, w1) = match depth {
            0 => (1.6, 4.0),
            1 => (0.9, 2.2),
            _ => (0.5, 1.2),
        };
        layers.push(json!({
            "id": LevelLayer::Line.id(level), "type": "line", "source": "grids", "source-layer": level,
            "minzoom": level_minzoom(depth),
            "layout": { "line-join": "round" },
            "paint": {
                "line-color": line,
                "line-opacity": if depth == 0 { 0.9 } else { 0.75 },
                "line-width": ["interpolate", ["linear"], ["zoom"], z.max(8.0), w0, 17, w1 * 1.6],
            }
        }));
    }
    // Highlights above every fill and border, so a hovered or selected grid
    // shows whatever lies around it; below the labels, so no tint or
    // outline covers a name.
    for (depth, level) in levels.iter().enumerate() {
        let (fill, _, _) = palette(depth);
        let highlight = |kind: LevelLayer, ty: &str, paint: Value, layout: Value| {
            json!({
                "id": kind.id(level), "type": ty, "source": "grids", "source-layer": level,
                "minzoom": level_minzoom(depth),
                "filter": nothing_highlighted(),
                "layout": layout,
                "paint": paint,
            })
        };
        layers.push(highlight(
            LevelLayer::Hover,
            "fill",
            json!({ "fill-color": fill, "fill-opacity": 0.2 }),
            json!({}),
        ));
        layers.push(highlight(
            LevelLayer::SelectedFill,
            "fill",
            json!({ "fill-color": fill, "fill-opacity": 0.3 }),
            json!({}),
        ));
        layers.push(highlight(
            LevelLayer::Selected,
            "line",
            json!({ "line-color": "#d62839", "line-width": 3, "line-opacity": 1 }),
            json!({ "line-join": "round" }),
        ));
    }
    // Coverage problems (gaps, overlaps, overhangs …) in alarm red, above the
    // grids: on a gap-free system these layers draw nothing.
    layers.push(json!({
        "id": "coverage-fill", "type": "fill", "source": "grids", "source-layer": COVERAGE_LAYER,
        "minzoom": coverage_minzoom,
        "paint": { "fill-color": "#e63946", "fill-opacity": 0.45 }
    }));
    layers.push(json!({
        "id": "coverage-line", "type": "line", "source": "grids", "source-layer": COVERAGE_LAYER,
        "minzoom": coverage_minzoom,
        "paint": { "line-color": "#b00020", "line-width": 1.5, "line-dasharray": [2, 1] }
    }));
    // Labels finest first: later symbol layers are placed first, so upper
    // levels win collisions.
    for (depth, level) in levels.iter().enumerate().rev() {
        let (_, _, text) = palette(depth);
        let z = f64::from(level_minzoom(depth));
        let size = match depth {
            0 => 17.0,
            1 => 14.0,
            _ => 12.0,
        };
        let bold = depth == 0;
        let font = if glyphs.is_some() {
            json!([if bold {
                GLYPH_FONT_BOLD
            } else {
                GLYPH_FONT_REGULAR
            }])
        } else {
            css_label_font(bold)
        };
        layers.push(json!({
            "id": LevelLayer::Label.id(level), "type": "symbol", "source": "grids", "source-layer": LABELS_LAYER,
            "minzoom": level_minzoom(depth),
            "filter": ["==", ["get", "level"], level],
            "layout": {
                "text-field": ["get", "name"],
                "text-font": font,
                "text-size": ["interpolate", ["linear"], ["zoom"], z, size, z + 4.0, size + 3.0],
                "text-max-width": 8,
                "text-padding": 4,
                "symbol-sort-key": ["get", "rank"],
            },
            "paint": {
                "text-color": text,
                "text-halo-color": "rgba(255,255,255,0.92)",
                "text-halo-width": 1.6,
            }
        }));
    }

    let level_meta: Vec<Value> = levels
        .iter()
        .enumerate()
        .map(|(d, l)| json!({ "name": l, "label": level_label(l), "depth": d, "minzoom": level_minzoom(d) }))
        .collect();
    // Per level, the ids of its style layers by kind, so the page need not
    // know how they are named.
    let style_layers: serde_json::Map<String, Value> = levels
        .iter()
        .map(|l| {
            let mut ids = serde_json::Map::new();
            for kind in LevelLayer::ALL {
                let id = kind.id(l);
                if layers.iter().any(|layer| layer["id"] == id.as_str()) {
                    ids.insert(kind.name().to_string(), json!(id));
                }
            }
            (l.to_string(), Value::Object(ids))
        })
        .collect();
    let mut style = json!({
        "version": 8,
        "name": format!("gridmap {}", system.name),
        "metadata": {
            "gridmap:system": system.name,
            "gridmap:levels": level_meta,
            "gridmap:style_layers": style_layers,
        },
        "sources": sources,
        "layers": layers,
    });
    if let Some(url) = glyphs {
        style["glyphs"] = json!(url);
    }
    style
}

/// A CSS font stack for labels; MapLibre GL JS draws it with the browser's
/// fonts (first name decides the weight: "Bold" makes a bold label).
fn css_label_font(bold: bool) -> Value {
    let mut stack = vec![
        "Noto Sans CJK SC",
        "Source Han Sans SC",
        "PingFang SC",
        "Microsoft YaHei",
        "sans-serif",
    ];
    if bold {
        stack.insert(0, "Noto Sans CJK SC Bold");
    }
    json!(stack)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::StatusCode;
    use gridmap_data::model::{ChangeSet, Grid, GridWriteMode, SystemGrids};
    use gridmap_data::store::gpkg::GpkgStore;
    use gridmap_data::store::GridStore;

    use crate::http::state::ServerConfig;
    use crate::test_support::{get, rect};
    use crate::tileset::TileConfig;

    /// The style of `system` without grids, so levels start where the depth
    /// rule puts them (or where `tiles` overrides it), without glyph server.
    fn build_style(
        system: &GridSystem,
        base: &str,
        tiles: &TileConfig,
        basemap: Option<&Basemap>,
    ) -> Value {
        let schema = TileSchema::new(system, &[], tiles);
        super::build_style(system, &schema, base, basemap, None)
    }

    /// The style of the default levels with default tile settings, no basemap.
    fn default_style(base: &str) -> Value {
        build_style(
            &GridSystem::with_default_levels("default"),
            base,
            &TileConfig::default(),
            None,
        )
    }

    /// The default style with the glyph server `glyphs`.
    fn glyph_style(glyphs: &str) -> Value {
        let system = GridSystem::with_default_levels("default");
        let schema = TileSchema::new(&system, &[], &TileConfig::default());
        super::build_style(&system, &schema, "http://h", None, Some(glyphs))
    }

    fn layer<'a>(style: &'a Value, id: &str) -> &'a Value {
        style["layers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["id"] == id)
            .unwrap_or_else(|| panic!("no layer {id}"))
    }

    /// The ids of the style's layers, in drawing order.
    fn layer_ids(style: &Value) -> Vec<&str> {
        style["layers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["id"].as_str().unwrap())
            .collect()
    }

    /// Every style layer of a level, with its kind, found through the
    /// metadata as the page finds them.
    fn level_layers(style: &Value) -> Vec<(LevelLayer, &Value)> {
        let meta = style["metadata"]["gridmap:style_layers"]
            .as_object()
            .unwrap();
        let mut found = Vec::new();
        for ids in meta.values() {
            for kind in LevelLayer::ALL {
                if let Some(id) = ids.get(kind.name()) {
                    found.push((kind, layer(style, id.as_str().unwrap())));
                }
            }
        }
        found
    }

    /// The expression operators in `value`: the names heading its arrays.
    fn operators<'a>(value: &'a Value, found: &mut Vec<&'a str>) {
        if let Value::Array(items) = value {
            if let Some(Value::String(op)) = items.first() {
                found.push(op);
            }
            for item in items {
                operators(item, found);
            }
        }
    }

    #[test]
    fn default_levels_give_every_layer() {
        let s = default_style("http://h:1");
        assert_eq!(s["version"], 8);
        assert!(
            s.get("glyphs").is_none(),
            "labels must not need a glyph server"
        );
        assert_eq!(
            s["sources"]["grids"]["url"],
            "http://h:1/tiles/default.json"
        );
        for level in ["street", "community", "block"] {
            for kind in [
                "fill",
                "line",
                "label",
                "hover",
                "selected-fill",
                "selected",
            ] {
                let l = layer(&s, &format!("{level}-{kind}"));
                assert_eq!(l["source"], "grids");
            }
            assert_eq!(
                layer(&s, &format!("{level}-label"))["filter"],
                json!(["==", ["get", "level"], level])
            );
        }
        assert_eq!(
            layer(&s, "block-unstaffed")["filter"],
            json!(["==", ["get", "staffed"], false])
        );
        assert!(!layer_ids(&s).contains(&"street-unstaffed"));
        assert_eq!(layer(&s, "street-fill")["minzoom"], 0);
        assert_eq!(layer(&s, "community-label")["minzoom"], 11);
        assert_eq!(layer(&s, "block-line")["minzoom"], 13);
        assert_eq!(s["layers"][0]["type"], "background");
        assert!(s["sources"].get("basemap").is_none());
        let meta = &s["metadata"]["gridmap:levels"];
        assert_eq!(
            meta[2],
            json!({"name": "block", "label": "网格", "depth": 2, "minzoom": 13})
        );
    }

    #[test]
    fn layer_order_keeps_street_borders_and_labels_on_top() {
        let s = default_style("http://h");
        let ids = layer_ids(&s);
        let at = |id: &str| ids.iter().position(|x| *x == id).unwrap();
        assert!(at("street-fill") < at("block-fill"));
        assert!(at("block-line") < at("street-line"));
        assert!(at("block-label") < at("street-label"));
        assert!(at("street-line") < at("block-selected"));
    }

    /// QGIS's converter skips `feature-state` (and drew every grid opaque,
    /// outlined as selected): no layer reads it, and base layers use only
    /// expressions the converter reads, so they draw the same everywhere.
    #[test]
    fn base_layers_have_static_paint() {
        for s in [
            default_style("http://h"),
            glyph_style("http://h/{fontstack}/{range}.pbf"),
        ] {
            assert!(!s.to_string().contains("feature-state"), "{s}");
            let base: Vec<_> = level_layers(&s)
                .into_iter()
                .filter(|(kind, _)| !kind.is_highlight())
                .collect();
            assert_eq!(
                base.len(),
                3 * 3 + 1,
                "fill, line and label per level, unstaffed blocks"
            );
            for (kind, l) in base {
                assert!(!l.to_string().contains("feature-state"), "{kind:?}: {l}");
                let mut ops = Vec::new();
                operators(&l["filter"], &mut ops);
                for group in ["paint", "layout"] {
                    for (name, value) in l[group].as_object().into_iter().flatten() {
                        // A font stack is a list of names, not an expression.
                        if name != "text-font" {
                            operators(value, &mut ops);
                        }
                    }
                }
                for op in ops {
                    assert!(
                        ["==", "get", "interpolate", "linear", "zoom"].contains(&op),
                        "{} uses `{op}`",
                        l["id"]
                    );
                }
            }
        }
    }

    /// Hover and selection are highlight layers of every level, above every
    /// fill and border and below the labels, drawing nothing until the page
    /// filters them to one feature id.
    #[test]
    fn highlight_layers_are_filtered_per_level_above_the_grids() {
        let s = default_style("http://h");
        let ids = layer_ids(&s);
        let at = |id: &str| ids.iter().position(|x| *x == id).unwrap();
        let layers = level_layers(&s);
        let (highlights, base): (Vec<_>, Vec<_>) =
            layers.iter().partition(|(kind, _)| kind.is_highlight());
        assert_eq!(
            highlights.len(),
            3 * 3,
            "hover, selected-fill, selected per level"
        );
        let meta = &s["metadata"]["gridmap:style_layers"];
        for level in ["street", "community", "block"] {
            for kind in [
                LevelLayer::Hover,
                LevelLayer::SelectedFill,
                LevelLayer::Selected,
            ] {
                assert_eq!(meta[level][kind.name()], kind.id(level));
                let l = layer(&s, &kind.id(level));
                assert_eq!(l["source-layer"], level);
                assert_eq!(l["minzoom"], layer(&s, &format!("{level}-fill"))["minzoom"]);
                assert_eq!(l["filter"], json!(["==", ["id"], -1]), "{l}");
                let mut ops = Vec::new();
                operators(&l["paint"], &mut ops);
                assert!(ops.is_empty(), "static paint: {l}");
            }
        }
        assert_eq!(layer(&s, "block-selected")["type"], "line");
        assert_eq!(layer(&s, "block-hover")["type"], "fill");
        for (_, h) in &highlights {
            let h = at(h["id"].as_str().unwrap());
            for (kind, b) in &base {
                let b = at(b["id"].as_str().unwrap());
                match kind {
                    LevelLayer::Label => assert!(h < b, "{} over a label", ids[h]),
                    _ => assert!(h > b, "{} under {}", ids[h], ids[b]),
                }
            }
        }
    }

    /// `glyphs` only with `--glyphs`; the labels then name the server's fonts.
    #[test]
    fn glyphs_appear_only_when_configured() {
        let plain = default_style("http://h");
        assert!(plain.get("glyphs").is_none());
        assert_eq!(
            layer(&plain, "street-label")["layout"]["text-font"][0],
            "Noto Sans CJK SC Bold"
        );
        let url = "https://fonts.example.cn/{fontstack}/{range}.pbf";
        let s = glyph_style(url);
        assert_eq!(s["glyphs"], url);
        assert_eq!(
            layer(&s, "street-label")["layout"]["text-font"],
            json!(["Noto Sans Bold"])
        );
        assert_eq!(
            layer(&s, "block-label")["layout"]["text-font"],
            json!(["Noto Sans Regular"])
        );
        // Everything else is the same style.
        let mut without = s.clone();
        without.as_object_mut().unwrap().remove("glyphs");
        for l in without["layers"].as_array_mut().unwrap() {
            if l["type"] == "symbol" {
                l["layout"]["text-font"] = Value::Null;
            }
        }
        let mut plain = plain;
        for l in plain["layers"].as_array_mut().unwrap() {
            if l["type"] == "symbol" {
                l["layout"]["text-font"] = Value::Null;
            }
        }
        assert_eq!(without, plain);
    }

    #[test]
    fn glyph_urls_are_checked_and_relative_ones_resolved() {
        let ok = |u: &str| Glyphs::parse(u).unwrap_or_else(|e| panic!("{u}: {e}"));
        let base = "https://map.example.cn/gm";
        let abs = "http://10.0.0.5:8081/fonts/{fontstack}/{range}.pbf";
        assert_eq!(ok(abs).url(base), abs);
        assert_eq!(
            ok("fonts/{fontstack}/{range}.pbf").url(base),
            "https://map.example.cn/gm/fonts/{fontstack}/{range}.pbf"
        );
        assert_eq!(
            ok("./fonts/{fontstack}/{range}.pbf").url("http://h:1/"),
            "http://h:1/fonts/{fontstack}/{range}.pbf"
        );
        assert_eq!(
            ok("/fonts/{fontstack}/{range}.pbf").url(base),
            "https://map.example.cn/fonts/{fontstack}/{range}.pbf"
        );
        assert_eq!(
            ok("/fonts/{fontstack}/{range}.pbf").url("http://h:1"),
            "http://h:1/fonts/{fontstack}/{range}.pbf"
        );
        for (bad, why) in [
            ("https://f.example.cn/{fontstack}.pbf", "{range}"),
            ("https://f.example.cn/{range}.pbf", "{fontstack}"),
            ("ftp://f.example.cn/{fontstack}/{range}.pbf", "http://"),
            ("file:///srv/{fontstack}/{range}.pbf", "http://"),
            ("//f.example.cn/{fontstack}/{range}.pbf", "http://"),
            ("https:///{fontstack}/{range}.pbf", "http://"),
            ("https://f.example.cn/{fontstack} /{range}.pbf", "spaces"),
        ] {
            let e = Glyphs::parse(bad).expect_err(bad);
            assert!(e.contains(bad) && e.contains(why), "{bad}: {e}");
        }
    }

    #[test]
    fn basemap_goes_under_the_grids() {
        let b = Basemap {
            url: "https://t0.example/{z}/{x}/{y}.png?tk=K".into(),
            attribution: Some("天地图".into()),
        };
        let s = build_style(
            &GridSystem::with_default_levels("x"),
            "https://a",
            &TileConfig::default(),
            Some(&b),
        );
        assert_eq!(s["sources"]["basemap"]["tiles"][0], b.url.as_str());
        assert_eq!(s["sources"]["basemap"]["attribution"], "天地图");
        assert_eq!(s["layers"][1]["id"], "basemap");
    }

    #[test]
    fn custom_levels_and_names_are_encoded() {
        let sys = GridSystem::new(
            "城管 网格",
            vec!["区".into(), "片".into(), "格".into(), "点".into()],
        );
        let s = build_style(&sys, "http://h", &TileConfig::default(), None);
        assert_eq!(
            s["sources"]["grids"]["url"],
            "http://h/tiles/%E5%9F%8E%E7%AE%A1%20%E7%BD%91%E6%A0%BC.json"
        );
        assert_eq!(layer(&s, "点-fill")["minzoom"], 15);
        assert_eq!(layer(&s, "点-label")["source-layer"], "labels");
        assert_eq!(s["metadata"]["gridmap:levels"][0]["label"], "区");
    }

    #[test]
    fn level_zooms_follow_the_tile_config() {
        let mut tiles = TileConfig::default();
        tiles.level_min_zoom.insert("block".into(), 15);
        let s = build_style(
            &GridSystem::with_default_levels("d"),
            "http://h",
            &tiles,
            None,
        );
        for kind in LevelLayer::ALL {
            let kind = kind.name();
            assert_eq!(
                layer(&s, &format!("block-{kind}"))["minzoom"],
                15,
                "block-{kind}"
            );
        }
        assert_eq!(layer(&s, "community-fill")["minzoom"], 11);
        assert_eq!(s["metadata"]["gridmap:levels"][2]["minzoom"], 15);
    }

    /// The page finds each level's style layers through the metadata, and
    /// the levels' zooms follow the grids given to the schema.
    #[test]
    fn metadata_names_the_style_layers_and_zooms_follow_the_data() {
        let sys = GridSystem::with_default_levels("d");
        let grid =
            |code: &str, level: &str, w: f64| Grid::new(code, level, None, rect(120.0, 30.0, w, w));
        let grids = [
            grid("s", "street", 0.2),
            grid("c", "community", 0.1),
            grid("b", "block", 0.012),
        ];
        let schema = TileSchema::new(&sys, &grids, &TileConfig::default());
        let s = super::build_style(&sys, &schema, "http://h", None, None);
        let ids = &s["metadata"]["gridmap:style_layers"];
        assert_eq!(ids["block"]["unstaffed"], "block-unstaffed");
        assert!(ids["street"].get("unstaffed").is_none());
        let drawn = layer_ids(&s);
        for level in ["street", "community", "block"] {
            for kind in [
                "fill",
                "line",
                "label",
                "hover",
                "selected-fill",
                "selected",
            ] {
                let id = ids[level][kind].as_str().unwrap();
                assert!(drawn.contains(&id), "{id}");
            }
        }
        // At 30°N a 0.1° community (12 km in Mercator) reaches 128 px at z9.7,
        // a 0.012° block (1.4 km) at z12.8.
        assert_eq!(layer(&s, "community-fill")["minzoom"], 10);
        assert_eq!(layer(&s, "community-label")["minzoom"], 10);
        assert_eq!(layer(&s, "block-line")["minzoom"], 13);
        assert_eq!(s["metadata"]["gridmap:levels"][2]["minzoom"], 13);
    }

    fn state(dir: &tempfile::TempDir) -> AppState {
        state_with(dir, ServerConfig::default())
    }

    fn state_with(dir: &tempfile::TempDir, config: ServerConfig) -> AppState {
        let store = GpkgStore::open(dir.path().join("s.gpkg")).unwrap();
        let change = ChangeSet {
            grids: vec![SystemGrids {
                system: GridSystem::with_default_levels("default"),
                mode: GridWriteMode::Replace,
                grids: vec![],
                delete: Vec::new(),
            }],
            ..Default::default()
        };
        store.apply(&change).unwrap();
        AppState::with_config(std::sync::Arc::new(store), config).unwrap()
    }

    /// A relative `--glyphs` path is served resolved against the public URL
    /// the request reached, as the tile URLs are.
    #[tokio::test]
    async fn endpoint_resolves_a_relative_glyph_path() {
        let dir = tempfile::tempdir().unwrap();
        let config = ServerConfig {
            glyphs: Some(Glyphs::parse("fonts/{fontstack}/{range}.pbf").unwrap()),
            public_url: Some("https://map.example.cn/gm".into()),
            ..ServerConfig::default()
        };
        let st = state_with(&dir, config);
        let (status, s) = get(&st, "/styles/default.json", &[]).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            s["glyphs"],
            "https://map.example.cn/gm/fonts/{fontstack}/{range}.pbf"
        );
        assert_eq!(
            s["sources"]["grids"]["url"],
            "https://map.example.cn/gm/tiles/default.json"
        );
        let (_, plain) = get(
            &state(&tempfile::tempdir().unwrap()),
            "/styles/default.json",
            &[],
        )
        .await;
        assert!(plain.get("glyphs").is_none());
    }

    #[tokio::test]
    async fn endpoint_honours_proxy_headers_and_rejects_unknown_systems() {
        let dir = tempfile::tempdir().unwrap();
        let st = state(&dir);
        let (status, s) = get(&st, "/styles/default.json", &[("host", "127.0.0.1:9")]).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            s["sources"]["grids"]["url"],
            "http://127.0.0.1:9/tiles/default.json"
        );
        let proxied = [
            ("host", "inner:9"),
            ("x-forwarded-proto", "https"),
            ("x-forwarded-host", "map.example.cn"),
            ("x-forwarded-prefix", "/gm"),
        ];
        let (_, s) = get(&st, "/styles/default.json", &proxied).await;
        assert_eq!(
            s["sources"]["grids"]["url"],
            "https://map.example.cn/gm/tiles/default.json"
        );
        let (status, e) = get(&st, "/styles/nope.json", &[]).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(e["error"]["code"], "unknown_system");
        let (status, e) = get(&st, "/styles/default", &[]).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(e["error"]["code"], "no_route");
    }
}
