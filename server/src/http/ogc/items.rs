//! `/ogc/collections/{id}/items` and `/items/{featureId}`: GeoJSON features.
//!
//! A page is chosen from the matching features in a stable order (the
//! catalog's: grids as stored, sites by kind and id) by `offset` and
//! `limit`, so `next` links walk the whole collection of one data version
//! without repeats or holes. `numberMatched` counts every match.

use std::ops::Range;

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use geo::Intersects;
use geo_types::{coord, Rect};
use gridmap_data::catalog::Catalog;
use gridmap_data::geometry::area_m2;
use gridmap_data::index::SystemIndex;
use gridmap_data::sites::SiteEntry;
use serde_json::{json, Map, Value};

use super::collections::Collection;
use super::{answer, link, only_params, root, CRS84, GEOJSON, JSON};
use crate::http::error::AppError;
use crate::http::lookup::worker_cards;
use crate::http::params::Params;
use crate::http::state::AppState;
use crate::http::tiles::urlencode;
use crate::http::viewer::Access;

/// Features a page holds unless `limit` says otherwise (the standard's
/// example value; GDAL and QGIS ask for more).
pub const DEFAULT_LIMIT: usize = 10;
/// Most features one page holds.
pub const MAX_LIMIT: usize = 10_000;

/// Parameters of `items` besides the equality filters.
const ITEM_PARAMS: [&str; 6] = ["bbox", "bbox-crs", "limit", "offset", "datetime", "crs"];
/// Properties a request may filter on with `name=value` (exact match).
pub const GRID_FILTERS: [&str; 3] = ["code", "name", "parent"];
pub const SITE_FILTERS: [&str; 3] = ["id", "name", "address"];

/// The `[minlon, minlat, maxlon, maxlat]` boxes of a `bbox`: two when it
/// crosses the antimeridian (`minlon > maxlon`, as the standard allows).
fn boxes(params: &Params) -> Result<Option<Vec<[f64; 4]>>, AppError> {
    let Some(text) = params.get("bbox") else {
        return Ok(None);
    };
    let bad = |why: &str| {
        AppError::bad_request(
            "bad_parameter",
            format!("parameter `bbox` must be `minlon,minlat,maxlon,maxlat` (or six numbers with heights) in CRS84; `{text}` {why}"),
        )
    };
    let v: Vec<f64> = text
        .split(',')
        .map(|p| p.trim().parse::<f64>())
        .collect::<Result<_, _>>()
        .map_err(|_| bad("holds something that is not a number"))?;
    if v.iter().any(|x| !x.is_finite()) {
        return Err(bad("holds a non-finite number"));
    }
    let [w, s, e, n] = match v[..] {
        [w, s, e, n] | [w, s, _, e, n, _] => [w, s, e, n],
        _ => return Err(bad("does not hold 4 or 6 numbers")),
    };
    if s > n {
        return Err(bad("has its south edge north of its north edge"));
    }
    if !(-180.0..=180.0).contains(&w) || !(-180.0..=180.0).contains(&e) {
        return Err(bad("has a longitude outside -180..180"));
    }
    Ok(Some(if w <= e {
        vec![[w, s, e, n]]
    } else {
        vec![[w, s, 180.0, n], [-180.0, s, e, n]]
    }))
}

/// Only CRS84 is served; naming it is allowed.
fn check_crs(params: &Params, name: &str) -> Result<(), AppError> {
    match params.get(name) {
        None => Ok(()),
        Some(c) if c == CRS84 || c == "CRS84" => Ok(()),
        Some(other) => Err(AppError::bad_request(
            "bad_parameter",
            format!("parameter `{name}`: only {CRS84} is served, got `{other}`"),
        )),
    }
}

/// Checks `datetime` (an RFC 3339 instant, or an interval `a/b` with `..`
/// for an open end). Grids and sites carry no time, so a valid one keeps
/// every feature (the API definition says so).
fn check_datetime(params: &Params) -> Result<(), AppError> {
    let Some(text) = params.get("datetime") else {
        return Ok(());
    };
    let instant = |t: &str| {
        let b = t.as_bytes();
        // 2026-12-01 or 2026-12-01T08:00:00Z / +08:00 / with fractions.
        b.len() >= 10
            && b[..10].iter().enumerate().all(|(i, c)| match i {
                4 | 7 => *c == b'-',
                _ => c.is_ascii_digit(),
            })
            && (b.len() == 10
                || (matches!(b[10], b'T' | b't')
                    && t[11..]
                        .bytes()
                        .all(|c| c.is_ascii_digit() || b":.+-Zz".contains(&c))))
    };
    let ok = match text.split_once('/') {
        None => instant(text),
        Some((a, b)) => {
            let end = |t: &str| t == ".." || t.is_empty() || instant(t);
            end(a) && end(b) && !(matches!(a, ".." | "") && matches!(b, ".." | ""))
        }
    };
    if ok {
        Ok(())
    } else {
        Err(AppError::bad_request(
            "bad_parameter",
            format!("parameter `datetime` must be an RFC 3339 date-time or an interval `start/end` (`..` for an open end), got `{text}`"),
        ))
    }
}

/// The positions of the sites of kind number `kind` in the register (they
/// are ordered by kind, so one kind is one run).
pub(super) fn kind_run(catalog: &Catalog, kind: usize) -> Range<usize> {
    let register = catalog.site_register();
    let n = register.sites().len();
    let start = partition(n, |i| register.kind_number(i) < Some(kind));
    let end = partition(n, |i| register.kind_number(i) <= Some(kind));
    start..end
}

/// The first index in `0..n` for which `below` is false (`below` holds for a
/// prefix).
fn partition(n: usize, below: impl Fn(usize) -> bool) -> usize {
    let (mut lo, mut hi) = (0, n);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if below(mid) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    lo
}

/// The matching features' positions (grid indexes or site positions), in
/// the collection's order.
fn matching(
    catalog: &Catalog,
    collection: Collection,
    boxes: Option<&[[f64; 4]]>,
    filters: &[(&str, &str)],
) -> Vec<usize> {
    match collection {
        Collection::Grids { system, level } => {
            let grids = system.grids();
            let keep = |i: &usize| {
                let g = &grids[*i];
                g.level == level
                    && filters.iter().all(|&(k, v)| match k {
                        "code" => g.code == v,
                        "name" => g.name == v,
                        _ => g.parent.as_deref() == Some(v),
                    })
            };
            match boxes {
                None => (0..grids.len()).filter(keep).collect(),
                Some(boxes) => {
                    let mut found: Vec<usize> = boxes
                        .iter()
                        .flat_map(|b| {
                            let rect =
                                Rect::new(coord! {x: b[0], y: b[1]}, coord! {x: b[2], y: b[3]});
                            system
                                .grids_in_bbox(*b)
                                .into_iter()
                                .filter(move |&i| grids[i].geometry.intersects(&rect))
                        })
                        .filter(keep)
                        .collect();
                    found.sort_unstable();
                    found.dedup();
                    found
                }
            }
        }
        Collection::Sites { kind, .. } => {
            let register = catalog.site_register();
            let sites = register.sites();
            let run = kind_run(catalog, kind);
            let keep = |i: &usize| {
                let s = &sites[*i];
                filters.iter().all(|&(k, v)| match k {
                    "id" => &*s.id == v,
                    "name" => &*s.name == v,
                    _ => s.address.as_deref() == Some(v),
                })
            };
            match boxes {
                None => run.filter(keep).collect(),
                Some(boxes) => {
                    let mut found: Vec<usize> = boxes
                        .iter()
                        .flat_map(|b| register.points().in_bbox(*b))
                        .map(|i| i as usize)
                        .filter(|i| run.contains(i))
                        .filter(keep)
                        .collect();
                    found.sort_unstable();
                    found.dedup();
                    found
                }
            }
        }
    }
}

fn grid_feature(catalog: &Catalog, system: &SystemIndex, index: usize, access: Access) -> Value {
    let grid = &system.grids()[index];
    let name = &system.system().name;
    let cards = worker_cards(catalog, name, &grid.code, access);
    json!({
        "type": "Feature",
        "id": grid.code,
        "geometry": geojson::Geometry::from(&grid.geometry),
        "properties": {
            "code": grid.code,
            "name": grid.name,
            "level": grid.level,
            "parent": grid.parent,
            "system": name,
            "area_m2": area_m2(&grid.geometry),
            // What a publicity board shows of the gridworkers, as flat text
            // a GIS attribute table shows: names, and phones in the same order.
            "workers": cards.iter().map(|w| w.name.as_str()).collect::<Vec<_>>().join("、"),
            "worker_phones": cards.iter().map(|w| w.phone.as_str()).collect::<Vec<_>>().join("、"),
            // Free attributes may hold anything an import carried: viewers only.
            "attributes": if access.full() { json!(grid.attributes) } else { json!({}) },
        }
    })
}

/// A site as a register row: only requests that may see registers get here.
fn site_feature(catalog: &Catalog, position: usize) -> Value {
    let register = catalog.site_register();
    let site: &SiteEntry = &register.sites()[position];
    let mut properties = Map::new();
    properties.insert("id".into(), json!(site.id));
    properties.insert("kind".into(), json!(register.kind_name(site)));
    properties.insert("name".into(), json!(site.name));
    properties.insert("address".into(), json!(site.address));
    properties.insert("households".into(), json!(site.households));
    // The finest grid holding the site, per system: `grid_<system>`.
    for system in catalog.systems() {
        let name = &system.system().name;
        let code = register
            .site_assignment(name, position)
            .and_then(|hits| hits.into_iter().rev().flatten().next())
            .map(|hit| system.grids()[hit.grid].code.clone());
        properties.insert(format!("grid_{name}"), json!(code));
    }
    let geometry = if site.lon.is_finite() && site.lat.is_finite() {
        json!({"type": "Point", "coordinates": [site.lon, site.lat]})
    } else {
        Value::Null
    };
    json!({"type": "Feature", "id": site.id, "geometry": geometry, "properties": properties})
}

fn feature(catalog: &Catalog, collection: Collection, position: usize, access: Access) -> Value {
    match collection {
        Collection::Grids { system, .. } => grid_feature(catalog, system, position, access),
        Collection::Sites { .. } => site_feature(catalog, position),
    }
}

/// The query string of a page's link: the request's own parameters with
/// another `offset`.
fn page_query(params: &Params, offset: usize, limit: usize) -> String {
    let mut pairs: Vec<(&str, String)> = params
        .0
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "offset" | "limit"))
        .map(|(k, v)| (k.as_str(), v.clone()))
        .collect();
    pairs.sort();
    pairs.push(("limit", limit.to_string()));
    pairs.push(("offset", offset.to_string()));
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", urlencode(k), urlencode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

pub(super) async fn list(
    State(state): State<AppState>,
    access: Access,
    headers: HeaderMap,
    Path(id): Path<String>,
    params: Params,
) -> Result<Response, AppError> {
    let catalog = state.catalog();
    let collection = Collection::find(&catalog, access, &id)?;
    let filter_names: &[&str] = match collection {
        Collection::Grids { .. } => &GRID_FILTERS,
        Collection::Sites { .. } => &SITE_FILTERS,
    };
    let allowed: Vec<&str> = ITEM_PARAMS.iter().chain(filter_names).copied().collect();
    only_params(&params, &allowed)?;
    check_crs(&params, "bbox-crs")?;
    check_crs(&params, "crs")?;
    check_datetime(&params)?;
    let boxes = boxes(&params)?;
    let limit = params.usize("limit", DEFAULT_LIMIT)?;
    if limit == 0 || limit > MAX_LIMIT {
        return Err(AppError::bad_request(
            "bad_parameter",
            format!("parameter `limit` must be between 1 and {MAX_LIMIT}"),
        ));
    }
    let offset = params.usize("offset", 0)?;
    let filters: Vec<(&str, &str)> = filter_names
        .iter()
        .filter_map(|&k| params.get(k).map(|v| (k, v)))
        .collect();

    let found = matching(&catalog, collection, boxes.as_deref(), &filters);
    let features: Vec<Value> = found
        .iter()
        .skip(offset)
        .take(limit)
        .map(|&i| feature(&catalog, collection, i, access))
        .collect();

    let items = format!(
        "{}/collections/{}/items",
        root(&state, &headers),
        urlencode(&id)
    );
    let mut links = vec![link(
        format!("{items}?{}", page_query(&params, offset, limit)),
        "self",
        GEOJSON,
        "this page",
    )];
    if offset + features.len() < found.len() {
        links.push(link(
            format!("{items}?{}", page_query(&params, offset + limit, limit)),
            "next",
            GEOJSON,
            "the next page",
        ));
    }
    if offset > 0 {
        links.push(link(
            format!(
                "{items}?{}",
                page_query(&params, offset.saturating_sub(limit), limit)
            ),
            "prev",
            GEOJSON,
            "the previous page",
        ));
    }
    links.push(link(
        items.trim_end_matches("/items").to_string(),
        "collection",
        JSON,
        "the collection",
    ));
    Ok(answer(
        json!({
            "type": "FeatureCollection",
            "numberMatched": found.len(),
            "numberReturned": features.len(),
            "features": features,
            "links": links,
        }),
        GEOJSON,
    ))
}

pub(super) async fn one(
    State(state): State<AppState>,
    access: Access,
    headers: HeaderMap,
    Path((id, feature_id)): Path<(String, String)>,
    params: Params,
) -> Result<Response, AppError> {
    only_params(&params, &["crs"])?;
    check_crs(&params, "crs")?;
    let catalog = state.catalog();
    let collection = Collection::find(&catalog, access, &id)?;
    let position = match collection {
        Collection::Grids { system, level } => system
            .grid_index(&feature_id)
            .filter(|&i| system.grids()[i].level == level),
        Collection::Sites { kind, .. } => {
            let sites = catalog.site_register().sites();
            kind_run(&catalog, kind).find(|&i| *sites[i].id == *feature_id)
        }
    };
    let position = position.ok_or_else(|| {
        AppError::not_found(
            "unknown_feature",
            format!("collection `{id}` has no feature `{feature_id}`"),
        )
    })?;
    let mut body = feature(&catalog, collection, position, access);
    let collection_href = format!("{}/collections/{}", root(&state, &headers), urlencode(&id));
    body["links"] = json!([
        link(
            format!("{collection_href}/items/{}", urlencode(&feature_id)),
            "self",
            GEOJSON,
            "this feature"
        ),
        link(collection_href, "collection", JSON, "its collection"),
    ]);
    Ok(answer(body, GEOJSON))
}
