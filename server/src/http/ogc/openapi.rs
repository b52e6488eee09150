//! The API definition of `/ogc` (OpenAPI 3.0): what GDAL and QGIS read for
//! the parameters of `items`, e.g. the largest `limit`, which they then use
//! as their page size.

use serde_json::{json, Value};

use super::items::{DEFAULT_LIMIT, GRID_FILTERS, MAX_LIMIT, SITE_FILTERS};
use super::CONFORMS_TO;

fn parameter(name: &str, description: &str, schema: Value) -> Value {
    json!({
        "name": name,
        "in": "query",
        "required": false,
        "style": "form",
        "explode": false,
        "description": description,
        "schema": schema,
    })
}

fn path_parameter(name: &str, description: &str) -> Value {
    json!({"name": name, "in": "path", "required": true, "description": description, "schema": {"type": "string"}})
}

fn response(description: &str, media_type: &str) -> Value {
    json!({"description": description, "content": {media_type: {"schema": {"type": "object"}}}})
}

/// The error body every 4xx carries.
fn error() -> Value {
    json!({
        "description": "`{\"error\":{\"code\",\"message\"}}`",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    })
}

fn operation(summary: &str, parameters: Vec<Value>, ok: Value) -> Value {
    json!({"get": {
        "summary": summary,
        "parameters": parameters,
        "responses": {"200": ok, "400": error(), "401": error(), "404": error(), "406": error()},
    }})
}

/// The OpenAPI document, with `server` as its one server URL.
pub fn document(server: &str) -> Value {
    let collection_id = || {
        path_parameter(
            "collectionId",
            "`{system}.{level}` for grids, `sites.{kind}` for a site register",
        )
    };
    let filters: Vec<Value> = GRID_FILTERS
        .iter()
        .chain(SITE_FILTERS.iter().filter(|f| !GRID_FILTERS.contains(f)))
        .map(|f| {
            parameter(
                f,
                &format!("features whose `{f}` equals this value (grids: code, name, parent; sites: id, name, address)"),
                json!({"type": "string"}),
            )
        })
        .collect();
    let mut items_parameters = vec![
        collection_id(),
        parameter(
            "bbox",
            "minlon,minlat,maxlon,maxlat (CRS84); features whose geometry meets the box; minlon > maxlon crosses the antimeridian",
            json!({"type": "array", "minItems": 4, "maxItems": 6, "items": {"type": "number"}}),
        ),
        parameter("bbox-crs", "only CRS84", json!({"type": "string", "enum": [super::CRS84]})),
        parameter("crs", "only CRS84", json!({"type": "string", "enum": [super::CRS84]})),
        parameter(
            "limit",
            "features per page",
            json!({"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT}),
        ),
        parameter("offset", "features skipped before the page (the `next` link sets it)", json!({"type": "integer", "minimum": 0, "default": 0})),
        parameter(
            "datetime",
            "an RFC 3339 instant or interval; grids and sites carry no time, so a valid value keeps every feature",
            json!({"type": "string"}),
        ),
    ];
    items_parameters.extend(filters);
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "gridmap OGC API – Features",
            "version": env!("CARGO_PKG_VERSION"),
            "description": format!("Grid systems as feature collections. Conforms to: {}", CONFORMS_TO.join(", ")),
        },
        "servers": [{"url": server}],
        "paths": {
            "/": operation("landing page", vec![], response("links to the API definition, conformance and collections", "application/json")),
            "/conformance": operation("conformance classes", vec![], response("`conformsTo`", "application/json")),
            "/api": operation("this document", vec![], response("OpenAPI 3.0", super::OPENAPI)),
            "/collections": operation("the collections", vec![], response("one per grid system and level (and site register, with a token)", "application/json")),
            "/collections/{collectionId}": operation("one collection", vec![collection_id()], response("the collection with its extent", "application/json")),
            "/collections/{collectionId}/items": operation("features of a collection", items_parameters, response("a page of features with `next` link", "application/geo+json")),
            "/collections/{collectionId}/items/{featureId}": operation(
                "one feature",
                vec![collection_id(), path_parameter("featureId", "a grid's code or a site's id"), parameter("crs", "only CRS84", json!({"type": "string"}))],
                response("one feature", "application/geo+json"),
            ),
        },
        "components": {"schemas": {"Error": {
            "type": "object",
            "required": ["error"],
            "properties": {"error": {"type": "object", "required": ["code", "message"], "properties": {
                "code": {"type": "string"}, "message": {"type": "string"}
            }}},
        }}},
    })
}
