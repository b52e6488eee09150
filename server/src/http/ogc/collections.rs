//! The collections: one per grid system and level, and one per site
//! register for requests that may see registers.

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use gridmap_data::catalog::Catalog;
use gridmap_data::index::SystemIndex;
use serde_json::{json, Value};

use super::{answer, link, only_params, root, CRS84, GEOJSON, JSON};
use crate::http::error::AppError;
use crate::http::params::Params;
use crate::http::state::AppState;
use crate::http::style::level_label;
use crate::http::tiles::urlencode;
use crate::http::viewer::Access;

/// The prefix of site register collections: `sites.address`, `sites.school` …
const SITES: &str = "sites";

/// What one collection serves.
#[derive(Clone, Copy)]
pub enum Collection<'a> {
    /// The grids of one level of a system.
    Grids {
        system: &'a SystemIndex,
        level: &'a str,
    },
    /// The sites of one kind (a number of the catalog's site register).
    Sites { kind: usize, name: &'a str },
}

impl<'a> Collection<'a> {
    /// Every collection `access` may see, grids first, in the catalog's order.
    pub fn all(catalog: &'a Catalog, access: Access) -> Vec<Collection<'a>> {
        let mut all: Vec<Collection> = catalog
            .systems()
            .flat_map(|system| {
                system
                    .system()
                    .levels
                    .iter()
                    .map(move |level| Collection::Grids { system, level })
            })
            .collect();
        if access.full() {
            let kinds = catalog.site_register().kinds();
            all.extend(
                kinds
                    .iter()
                    .enumerate()
                    .map(|(kind, name)| Collection::Sites { kind, name }),
            );
        }
        all
    }

    /// The collection with `id`: a 404 naming the ids there are, or a 401
    /// when it is a site register and the request may not see registers.
    pub fn find(catalog: &'a Catalog, access: Access, id: &str) -> Result<Self, AppError> {
        if let Some(found) = Self::all(catalog, access)
            .into_iter()
            .find(|c| c.id() == id)
        {
            return Ok(found);
        }
        let is_register = id
            .strip_prefix("sites.")
            .is_some_and(|k| catalog.site_register().kinds().iter().any(|x| x == k));
        if is_register {
            return Err(AppError::Status {
                status: axum::http::StatusCode::UNAUTHORIZED,
                code: "unauthorized",
                message: format!(
                    "collection `{id}` is a site register: send `Authorization: Bearer TOKEN` with a viewer or account token"
                ),
            });
        }
        let ids: Vec<String> = Self::all(catalog, access).iter().map(Self::id).collect();
        Err(AppError::not_found(
            "unknown_collection",
            format!("no collection `{id}`; there are: {}", ids.join(", ")),
        ))
    }

    pub fn id(&self) -> String {
        match self {
            Collection::Grids { system, level } => format!("{}.{level}", system.system().name),
            Collection::Sites { name, .. } => format!("{SITES}.{name}"),
        }
    }

    fn title(&self) -> String {
        match self {
            Collection::Grids { system, level } => {
                format!("{} {}", system.system().name, level_label(level))
            }
            Collection::Sites { name, .. } => format!("sites: {name}"),
        }
    }

    /// The collection document, with its extent and links.
    pub fn describe(&self, catalog: &Catalog, root: &str) -> Value {
        let id = self.id();
        let href = format!("{root}/collections/{}", urlencode(&id));
        let (description, bbox) = match self {
            Collection::Grids { system, level } => (
                format!(
                    "the `{level}` grids of grid system `{}` (every feature's id is its grid code)",
                    system.system().name
                ),
                system.bounds(),
            ),
            Collection::Sites { kind, name } => (
                format!("the `{name}` register (every feature's id is the site's id)"),
                sites_bounds(catalog, *kind),
            ),
        };
        let mut doc = json!({
            "id": id,
            "title": self.title(),
            "description": description,
            "itemType": "feature",
            "crs": [CRS84],
            "storageCrs": CRS84,
            "links": [
                link(href.clone(), "self", JSON, "this collection"),
                link(format!("{href}/items"), "items", GEOJSON, "its features"),
            ],
        });
        if let Some(b) = bbox {
            doc["extent"] = json!({"spatial": {"bbox": [b], "crs": CRS84}});
        }
        doc
    }
}

/// The bounding box of the located sites of one kind.
fn sites_bounds(catalog: &Catalog, kind: usize) -> Option<[f64; 4]> {
    let register = catalog.site_register();
    let run = super::items::kind_run(catalog, kind);
    register.sites()[run]
        .iter()
        .filter(|s| s.lon.is_finite() && s.lat.is_finite())
        .fold(None, |acc: Option<[f64; 4]>, s| {
            Some(match acc {
                None => [s.lon, s.lat, s.lon, s.lat],
                Some([a, b, c, d]) => [a.min(s.lon), b.min(s.lat), c.max(s.lon), d.max(s.lat)],
            })
        })
}

pub(super) async fn list(
    State(state): State<AppState>,
    access: Access,
    headers: HeaderMap,
    params: Params,
) -> Result<Response, AppError> {
    only_params(&params, &[])?;
    let catalog = state.catalog();
    let root = root(&state, &headers);
    let collections: Vec<Value> = Collection::all(&catalog, access)
        .iter()
        .map(|c| c.describe(&catalog, &root))
        .collect();
    Ok(answer(
        json!({
            "links": [link(format!("{root}/collections"), "self", JSON, "the collections")],
            "collections": collections,
        }),
        JSON,
    ))
}

pub(super) async fn one(
    State(state): State<AppState>,
    access: Access,
    headers: HeaderMap,
    Path(id): Path<String>,
    params: Params,
) -> Result<Response, AppError> {
    only_params(&params, &[])?;
    let catalog = state.catalog();
    let collection = Collection::find(&catalog, access, &id)?;
    Ok(answer(
        collection.describe(&catalog, &root(&state, &headers)),
        JSON,
    ))
}
