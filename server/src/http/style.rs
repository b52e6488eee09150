//! `GET /styles/{system}.json`: a MapLibre style (v8) for one grid system.
//!
//! One vector source `grids` (the system's TileJSON), and per level a fill,
//! an outline, a selection outline and labels; the finest level also gets a
//! reddish fill for unstaffed grids. The style has no `glyphs` URL: MapLibre
//! draws the (mostly Chinese) labels itself with the browser's fonts, so no
//! glyph server is needed. An XYZ raster basemap can be put underneath with
//! `GRIDMAP_BASEMAP_URL` (and credited with `GRIDMAP_BASEMAP_ATTRIBUTION`).

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

pub fn router() -> Router<AppState> {
    Router::new().route("/styles/{file}", get(style))
}

async fn style(
    State(state): State<AppState>,
    Path(file): Path<String>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let described = system_document(&state, "/styles", "a style", &file).await?;
    let body = build_style(
        described.system().system(),
        &described.tileset.schema,
        &state.public_base(&headers),
        state.config().basemap.as_ref(),
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
///
/// ```
/// use gridmap::http::style::build_style;
/// use gridmap::tileset::{TileConfig, TileSchema};
/// use gridmap_data::GridSystem;
///
/// let system = GridSystem::with_default_levels("default");
/// let schema = TileSchema::new(&system, &[], &TileConfig::default());
/// let style = build_style(&system, &schema, "http://localhost:8080", None);
/// assert_eq!(style["sources"]["grids"]["url"], "http://localhost:8080/tiles/default.json");
/// assert!(style.get("glyphs").is_none());
/// ```
pub fn build_style(
    system: &GridSystem,
    schema: &TileSchema,
    base: &str,
    basemap: Option<&Basemap>,
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
                state_case(0.45, 0.3, own),
                next + 1.0,
                state_case(0.45, 0.3, 0.03)
            ])
        } else {
            state_case(0.45, 0.3, own)
        };
        layers.push(json!({
            "id": format!("{level}-fill"), "type": "fill", "source": "grids", "source-layer": level,
            "minzoom": level_minzoom(depth),
            "paint": { "fill-color": fill, "fill-opacity": opacity }
        }));
        if depth == finest {
            layers.push(json!({
                "id": format!("{level}-unstaffed"), "type": "fill", "source": "grids", "source-layer": level,
                "minzoom": level_minzoom(depth),
                "filter": ["==", ["get", "staffed"], false],
                "paint": { "fill-color": "#e5533d", "fill-opacity": state_case(0.5, 0.4, 0.22) }
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
            "id": format!("{level}-line"), "type": "line", "source": "grids", "source-layer": level,
            "minzoom": level_minzoom(depth),
            "layout": { "line-join": "round" },
            "paint": {
                "line-color": line,
                "line-opacity": if depth == 0 { 0.9 } else { 0.75 },
                "line-width": ["interpolate", ["linear"], ["zoom"], z.max(8.0), w0, 17, w1 * 1.6],
            }
        }));
    }
    for (depth, level) in levels.iter().enumerate() {
        layers.push(json!({
            "id": format!("{level}-selected"), "type": "line", "source": "grids", "source-layer": level,
            "minzoom": level_minzoom(depth),
            "layout": { "line-join": "round" },
            "paint": {
                "line-color": "#d62839",
                "line-width": 3,
                "line-opacity": ["case", ["boolean", ["feature-state", "selected"], false], 1, 0],
            }
        }));
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
        let font = if depth == 0 {
            label_font(true)
        } else {
            label_font(false)
        };
        layers.push(json!({
            "id": format!("{level}-label"), "type": "symbol", "source": "grids", "source-layer": LABELS_LAYER,
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
            for kind in ["fill", "unstaffed", "line", "selected", "label"] {
                let id = format!("{l}-{kind}");
                if layers.iter().any(|layer| layer["id"] == id.as_str()) {
                    ids.insert(kind.to_string(), json!(id));
                }
            }
            (l.to_string(), Value::Object(ids))
        })
        .collect();
    json!({
        "version": 8,
        "name": format!("gridmap {}", system.name),
        "metadata": {
            "gridmap:system": system.name,
            "gridmap:levels": level_meta,
            "gridmap:style_layers": style_layers,
        },
        "sources": sources,
        "layers": layers,
    })
}

/// `fill-opacity` by feature state: selected, hovered, otherwise.
fn state_case(selected: f64, hover: f64, otherwise: f64) -> Value {
    json!([
        "case",
        ["boolean", ["feature-state", "selected"], false],
        selected,
        ["boolean", ["feature-state", "hover"], false],
        hover,
        otherwise
    ])
}

/// A CSS font stack for labels; MapLibre draws it with the browser's fonts
/// (first name decides the weight: "Bold" makes a bold label).
fn label_font(bold: bool) -> Value {
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

    use crate::test_support::{get, rect};
    use crate::tileset::TileConfig;

    /// The style of `system` without grids, so levels start where the depth
    /// rule puts them (or where `tiles` overrides it).
    fn build_style(
        system: &GridSystem,
        base: &str,
        tiles: &TileConfig,
        basemap: Option<&Basemap>,
    ) -> Value {
        super::build_style(system, &TileSchema::new(system, &[], tiles), base, basemap)
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
            for kind in ["fill", "line", "selected", "label"] {
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

    #[test]
    fn hover_and_selection_use_feature_state() {
        let s = default_style("http://h");
        let text = layer(&s, "block-fill")["paint"]["fill-opacity"].to_string();
        assert!(text.contains("\"hover\"") && text.contains("\"selected\""));
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
        for kind in ["fill", "unstaffed", "line", "selected", "label"] {
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
        let s = super::build_style(&sys, &schema, "http://h", None);
        let ids = &s["metadata"]["gridmap:style_layers"];
        assert_eq!(ids["block"]["unstaffed"], "block-unstaffed");
        assert!(ids["street"].get("unstaffed").is_none());
        let drawn = layer_ids(&s);
        for level in ["street", "community", "block"] {
            for kind in ["fill", "line", "selected", "label"] {
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
        AppState::new(store).unwrap()
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
