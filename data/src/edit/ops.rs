//! The edits a proposal accepts, and how each changes the proposal's grids.
//!
//! Every edit works on exact coordinates (see [`super::shape`]): a vertex
//! moved, inserted or replaced in one grid is moved, inserted or replaced in
//! every grid of the system that has it, at every level, so shared borders
//! stay bit-identical. After an edit, [`super::rules`] judges the whole
//! proposal; a refused edit leaves the proposal as it was (the caller keeps
//! the old copy).

use std::collections::BTreeSet;

use geo::{BoundingRect, InteriorPoint};
use geo_types::{Coord, LineString, MultiPolygon};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::proposal::Proposal;
use super::shape::{self, OnBoundary};
use super::EditError;
use crate::catalog::Catalog;
use crate::index::PreparedPolygon;
use crate::model::{Grid, WorkerGrid};

/// One edit, as `POST /api/v1/proposals/{id}/edits` takes it (lon/lat WGS84).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum Edit {
    MoveVertex {
        from: [f64; 2],
        to: [f64; 2],
    },
    ReshapeBorder {
        grids: [String; 2],
        line: Vec<[f64; 2]>,
    },
    Split {
        grid: String,
        line: Vec<[f64; 2]>,
        codes: [String; 2],
        #[serde(default)]
        names: Option<[String; 2]>,
    },
    Merge {
        grids: [String; 2],
        code: String,
        #[serde(default)]
        name: Option<String>,
    },
    Create {
        grid: geojson::Feature,
    },
    Delete {
        grid: String,
    },
    Update {
        grid: String,
        #[serde(default)]
        name: Option<String>,
        #[serde(default)]
        attributes: Option<Map<String, Value>>,
    },
    AssignWorker {
        worker: String,
        grid: String,
        share: f64,
    },
    UnassignWorker {
        worker: String,
        grid: String,
    },
}

fn coord(p: [f64; 2], what: &str) -> Result<Coord<f64>, EditError> {
    let [x, y] = p;
    if !(x.is_finite()
        && y.is_finite()
        && (-180.0..=180.0).contains(&x)
        && (-90.0..=90.0).contains(&y))
    {
        return Err(EditError::bad(format!(
            "{what} [{x}, {y}] is not a longitude/latitude"
        )));
    }
    Ok(Coord { x, y })
}

fn line(points: &[[f64; 2]], what: &str) -> Result<Vec<Coord<f64>>, EditError> {
    if points.len() < 2 {
        return Err(EditError::bad(format!("{what} needs at least two points")));
    }
    if points.len() > 10_000 {
        return Err(EditError::bad(format!(
            "{what} has more than 10,000 points"
        )));
    }
    points
        .iter()
        .map(|&p| coord(p, "a point of the line"))
        .collect()
}

/// Codes of the grids (as the proposal has them) whose bounding box meets `bbox`.
fn near(p: &Proposal, catalog: &Catalog, bbox: [f64; 4]) -> Vec<String> {
    let mut codes: BTreeSet<String> = BTreeSet::new();
    if let Some(index) = catalog.system(&p.system) {
        for i in index.grids_in_bbox(bbox) {
            codes.insert(index.grids()[i].code.clone());
        }
    }
    for (code, g) in &p.body.grids {
        match g.as_ref().and_then(|g| g.geometry.bounding_rect()) {
            Some(r)
                if r.min().x <= bbox[2]
                    && r.max().x >= bbox[0]
                    && r.min().y <= bbox[3]
                    && r.max().y >= bbox[1] =>
            {
                codes.insert(code.clone());
            }
            // Deleted by the proposal, or far away as the proposal has it.
            _ => {
                codes.remove(code);
            }
        }
    }
    codes.into_iter().collect()
}

fn around(c: Coord<f64>) -> [f64; 4] {
    let t = shape::VERTEX_TOLERANCE * 2.0;
    [c.x - t, c.y - t, c.x + t, c.y + t]
}

fn bbox_of(coords: &[Coord<f64>]) -> [f64; 4] {
    coords.iter().fold(
        [
            f64::INFINITY,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NEG_INFINITY,
        ],
        |b, c| [b[0].min(c.x), b[1].min(c.y), b[2].max(c.x), b[3].max(c.y)],
    )
}

fn existing<'a>(p: &'a Proposal, catalog: &'a Catalog, code: &str) -> Result<&'a Grid, EditError> {
    p.grid(catalog, code)
        .ok_or_else(|| EditError::unknown_grid(code, &p.system))
}

/// Replaces every grid's geometry by `f(geometry)` where `f` answers `Some`.
fn rewrite_near(
    p: &mut Proposal,
    catalog: &Catalog,
    bbox: [f64; 4],
    mut f: impl FnMut(&MultiPolygon<f64>) -> Option<MultiPolygon<f64>>,
) -> usize {
    let mut changed = 0;
    for code in near(p, catalog, bbox) {
        let Some(g) = p.grid(catalog, &code) else {
            continue;
        };
        if let Some(geometry) = f(&g.geometry) {
            let mut g = g.clone();
            g.geometry = geometry;
            p.put_grid(catalog, &code, Some(g));
            changed += 1;
        }
    }
    changed
}

/// Puts `x` on segment a→b in every grid that has that segment.
fn insert_everywhere(
    p: &mut Proposal,
    catalog: &Catalog,
    a: Coord<f64>,
    b: Coord<f64>,
    x: Coord<f64>,
) {
    rewrite_near(p, catalog, bbox_of(&[a, b]), |g| {
        shape::insert_vertex(g, a, b, x)
    });
}

/// A point on both grids' borders as a stored vertex, inserting it where it
/// falls inside a segment.
fn border_vertex(
    p: &mut Proposal,
    catalog: &Catalog,
    codes: &[String; 2],
    c: Coord<f64>,
    which: &str,
) -> Result<Coord<f64>, EditError> {
    let mut found = None;
    for code in codes {
        let g = existing(p, catalog, code)?;
        match shape::on_boundary(&g.geometry, c) {
            None => {
                return Err(EditError::rule(
                    vec![code.clone()],
                    format!(
                        "the line's {which} point [{}, {}] does not lie on the border of {code}",
                        c.x, c.y
                    ),
                ))
            }
            Some(on) => found = found.or(Some(on)),
        }
    }
    match found.expect("two grids were checked") {
        OnBoundary::Vertex(v) => Ok(v),
        OnBoundary::Segment { a, b } => {
            insert_everywhere(p, catalog, a, b, c);
            Ok(c)
        }
    }
}

/// The codes of the grids whose parent is `code`, as the proposal has them.
pub(crate) fn children_of(p: &Proposal, catalog: &Catalog, code: &str) -> Vec<String> {
    let mut out: BTreeSet<String> = BTreeSet::new();
    if let Some(index) = catalog.system(&p.system) {
        if let Some(i) = index.grid_index(code) {
            out.extend(
                index
                    .children(i)
                    .iter()
                    .map(|&c| index.grids()[c].code.clone()),
            );
        }
    }
    for (c, g) in &p.body.grids {
        match g {
            Some(g) if g.parent.as_deref() == Some(code) => {
                out.insert(c.clone());
            }
            _ => {
                out.remove(c);
            }
        }
    }
    out.into_iter().collect()
}

fn reparent(p: &mut Proposal, catalog: &Catalog, child: &str, parent: &str) {
    if let Some(g) = p.grid(catalog, child) {
        let mut g = g.clone();
        g.parent = Some(parent.to_string());
        p.put_grid(catalog, child, Some(g));
    }
}

/// Drops every worker's assignment to `code` (a grid the proposal deletes).
fn unassign_all(p: &mut Proposal, catalog: &Catalog, code: &str) {
    let system = p.system.clone();
    let ids: Vec<String> = catalog
        .workers_of(&system, code)
        .into_iter()
        .map(|(w, _)| w.id.clone())
        .chain(
            p.body
                .workers
                .values()
                .filter(|w| w.grids.iter().any(|g| g.system == system && g.code == code))
                .map(|w| w.id.clone()),
        )
        .collect();
    for id in ids {
        if let Some(w) = p.worker(catalog, &id) {
            let mut w = w.clone();
            w.grids.retain(|g| !(g.system == system && g.code == code));
            p.put_worker(catalog, w);
        }
    }
}

fn delete_grid(p: &mut Proposal, catalog: &Catalog, code: &str) {
    unassign_all(p, catalog, code);
    p.put_grid(catalog, code, None);
}

fn new_code(p: &Proposal, catalog: &Catalog, code: &str, reused: &[&str]) -> Result<(), EditError> {
    if code.trim().is_empty() || code.chars().count() > 64 {
        return Err(EditError::bad(format!(
            "grid code `{code}` must be 1–64 characters"
        )));
    }
    if !reused.contains(&code) && p.grid(catalog, code).is_some() {
        return Err(EditError::rule(
            vec![code.into()],
            format!("code {code} is taken in system `{}`", p.system),
        ));
    }
    Ok(())
}

/// Applies one edit to `p` (the caller judges the result with the rules).
pub fn apply(p: &mut Proposal, catalog: &Catalog, edit: &Edit) -> Result<(), EditError> {
    match edit {
        Edit::MoveVertex { from, to } => {
            let (from, to) = (coord(*from, "from")?, coord(*to, "to")?);
            let moved = rewrite_near(p, catalog, around(from), |g| {
                shape::move_vertex(g, from, to)
            });
            if moved == 0 {
                return Err(EditError::bad(format!(
                    "no grid of system `{}` has a vertex at [{}, {}]",
                    p.system, from.x, from.y
                )));
            }
        }
        Edit::ReshapeBorder {
            grids,
            line: points,
        } => {
            if grids[0] == grids[1] {
                return Err(EditError::bad(
                    "reshape_border needs two different grids".into(),
                ));
            }
            let mut new = line(points, "the line")?;
            let last = new.len() - 1;
            new[0] = border_vertex(p, catalog, grids, new[0], "first")?;
            new[last] = border_vertex(p, catalog, grids, new[last], "last")?;
            let (a, b) = (
                existing(p, catalog, &grids[0])?,
                existing(p, catalog, &grids[1])?,
            );
            let old = shape::shared_stretch(&a.geometry, &b.geometry, new[0], new[last]).map_err(
                |e| EditError::rule(grids.to_vec(), format!("{} | {}: {e}", grids[0], grids[1])),
            )?;
            // Every grid holding that stretch of border (the two grids, and
            // the parents whose border it also is) takes the new line.
            let changed = rewrite_near(p, catalog, bbox_of(&old), |g| {
                shape::replace_stretch(g, &old, &new)
            });
            debug_assert!(changed >= 2, "both grids hold the stretch");
        }
        Edit::Split {
            grid,
            line: points,
            codes,
            names,
        } => {
            let cut = line(points, "the split line")?;
            let g = existing(p, catalog, grid)?.clone();
            if codes[0] == codes[1] {
                return Err(EditError::bad("split needs two different codes".into()));
            }
            for c in codes {
                new_code(p, catalog, c, &[grid.as_str()])?;
            }
            let split = shape::split(&g.geometry, &cut).map_err(|e| {
                EditError::rule(vec![grid.clone()], format!("cannot split {grid}: {e}"))
            })?;
            for (a, b, x) in &split.inserted {
                insert_everywhere(p, catalog, *a, *b, *x);
            }
            let children = children_of(p, catalog, grid);
            delete_grid(p, catalog, grid);
            let pieces = [split.left, split.right];
            for (i, piece) in pieces.iter().enumerate() {
                let mut part = g.clone();
                part.code = codes[i].clone();
                part.name = names
                    .as_ref()
                    .map_or_else(|| format!("{}{}", g.name, i + 1), |n| n[i].clone());
                part.geometry = piece.clone();
                p.put_grid(catalog, &codes[i], Some(part));
            }
            // Children follow the side their inside lies on.
            let prepared: Vec<Vec<PreparedPolygon>> = pieces
                .iter()
                .map(|m| m.0.iter().map(PreparedPolygon::new).collect())
                .collect();
            for child in children {
                let Some(at) = p
                    .grid(catalog, &child)
                    .and_then(|c| c.geometry.interior_point())
                else {
                    continue;
                };
                let side = prepared
                    .iter()
                    .position(|parts| parts.iter().any(|pp| pp.locate(at.x(), at.y()).inside));
                if let Some(side) = side {
                    reparent(p, catalog, &child, &codes[side]);
                } else {
                    return Err(EditError::rule(
                        vec![child.clone()],
                        format!("child {child} of {grid} lies on neither side of the line"),
                    ));
                }
            }
        }
        Edit::Merge { grids, code, name } => {
            if grids[0] == grids[1] {
                return Err(EditError::bad("merge needs two different grids".into()));
            }
            let (a, b) = (
                existing(p, catalog, &grids[0])?.clone(),
                existing(p, catalog, &grids[1])?.clone(),
            );
            if a.parent != b.parent || a.level != b.level {
                return Err(EditError::rule(
                    grids.to_vec(),
                    format!("{} and {} are not siblings (same parent and level): only neighbours of one parent merge", a.code, b.code),
                ));
            }
            new_code(p, catalog, code, &[a.code.as_str(), b.code.as_str()])?;
            let geometry = shape::dissolve(&a.geometry, &b.geometry).map_err(|e| {
                EditError::rule(
                    grids.to_vec(),
                    format!("cannot merge {} and {}: {e}", a.code, b.code),
                )
            })?;
            let children: Vec<String> = children_of(p, catalog, &a.code)
                .into_iter()
                .chain(children_of(p, catalog, &b.code))
                .collect();
            for g in [&a, &b] {
                if &g.code != code {
                    delete_grid(p, catalog, &g.code);
                }
            }
            let mut merged = a.clone();
            merged.code = code.clone();
            merged.name = name.clone().unwrap_or_else(|| a.name.clone());
            merged.geometry = geometry;
            p.put_grid(catalog, code, Some(merged));
            for child in children {
                reparent(p, catalog, &child, code);
            }
        }
        Edit::Create { grid } => {
            let g = grid_of_feature(grid)?;
            new_code(p, catalog, &g.code, &[])?;
            let code = g.code.clone();
            p.put_grid(catalog, &code, Some(g));
        }
        Edit::Delete { grid } => {
            existing(p, catalog, grid)?;
            let children = children_of(p, catalog, grid);
            if !children.is_empty() {
                return Err(EditError::rule(
                    vec![grid.clone()],
                    format!(
                        "{grid} still has {} children ({}…); delete or move them first",
                        children.len(),
                        children[0]
                    ),
                ));
            }
            delete_grid(p, catalog, grid);
        }
        Edit::Update {
            grid,
            name,
            attributes,
        } => {
            let mut g = existing(p, catalog, grid)?.clone();
            if let Some(name) = name {
                if name.trim().is_empty() {
                    return Err(EditError::bad("a grid's name must not be empty".into()));
                }
                g.name = name.clone();
            }
            if let Some(attributes) = attributes {
                g.attributes = attributes.clone();
            }
            p.put_grid(catalog, grid, Some(g));
        }
        Edit::AssignWorker {
            worker,
            grid,
            share,
        } => {
            existing(p, catalog, grid)?;
            if !(share.is_finite() && *share > 0.0 && *share <= 1.0) {
                return Err(EditError::bad(format!(
                    "share {share} must be above 0 and at most 1"
                )));
            }
            let mut w = p
                .worker(catalog, worker)
                .ok_or_else(|| EditError::unknown_worker(worker))?
                .clone();
            w.grids
                .retain(|g| !(g.system == p.system && &g.code == grid));
            w.grids.push(WorkerGrid {
                system: p.system.clone(),
                code: grid.clone(),
                share: *share,
            });
            p.put_worker(catalog, w);
        }
        Edit::UnassignWorker { worker, grid } => {
            let mut w = p
                .worker(catalog, worker)
                .ok_or_else(|| EditError::unknown_worker(worker))?
                .clone();
            let before = w.grids.len();
            w.grids
                .retain(|g| !(g.system == p.system && &g.code == grid));
            if w.grids.len() == before {
                return Err(EditError::bad(format!(
                    "worker {worker} is not assigned to grid {grid}"
                )));
            }
            p.put_worker(catalog, w);
        }
    }
    Ok(())
}

/// A grid from a GeoJSON Feature: `code`, `name`, `level`, `parent` and any
/// other properties as attributes; a (Multi)Polygon in lon/lat.
fn grid_of_feature(f: &geojson::Feature) -> Result<Grid, EditError> {
    let props = f.properties.clone().unwrap_or_default();
    let text = |key: &str| props.get(key).and_then(Value::as_str).map(str::to_string);
    let code = text("code")
        .ok_or_else(|| EditError::bad("the feature needs a string property `code`".into()))?;
    let level = text("level")
        .ok_or_else(|| EditError::bad("the feature needs a string property `level`".into()))?;
    let geometry = f
        .geometry
        .as_ref()
        .ok_or_else(|| EditError::bad("the feature has no geometry".into()))?;
    let geometry: geo_types::Geometry<f64> = geometry
        .clone()
        .try_into()
        .map_err(|e| EditError::bad(format!("unreadable geometry: {e}")))?;
    let geometry = match geometry {
        geo_types::Geometry::Polygon(p) => MultiPolygon(vec![p]),
        geo_types::Geometry::MultiPolygon(m) => m,
        _ => {
            return Err(EditError::bad(
                "a grid's geometry must be a Polygon or MultiPolygon".into(),
            ))
        }
    };
    for c in geometry
        .0
        .iter()
        .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
        .flat_map(LineString::coords)
    {
        coord([c.x, c.y], "a vertex")?;
    }
    let name = text("name").unwrap_or_else(|| code.clone());
    let parent = text("parent");
    let attributes: Map<String, Value> = props
        .into_iter()
        .filter(|(k, _)| !matches!(k.as_str(), "code" | "name" | "level" | "parent"))
        .collect();
    Ok(Grid {
        name,
        parent,
        code,
        level,
        geometry,
        attributes,
    })
}
