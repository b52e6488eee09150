//! Editing grids: proposals (drafts) edited one exact boundary edit at a
//! time, judged after every edit, previewed by their impact on sites and
//! workers, published as one change set with its history.
//!
//! - [`shape`]: the exact geometry of an edit (coordinate lists, shared
//!   borders bit-identical);
//! - [`ops`]: the edits ([`Edit`]) and how each changes a [`Proposal`];
//! - [`rules`]: what every proposal keeps after every edit;
//! - [`impact`]: which sites change grid, households and workers per grid;
//! - [`publish`]: publish and revert, with per-grid conflicts;
//! - [`catalog_at`] / [`proposal_catalog`]: a system as it was at a version,
//!   or as a proposal would make it, for lookups and tiles.
//!
//! ```
//! use gridmap_data::catalog::Catalog;
//! use gridmap_data::edit::{self, Edit, Proposal};
//! use gridmap_data::index::SystemIndex;
//! use gridmap_data::model::{Grid, GridSystem};
//! use geo_types::{polygon, MultiPolygon};
//!
//! let sq = |x: f64| MultiPolygon(vec![polygon![(x: x, y: 0.0), (x: x + 1.0, y: 0.0), (x: x + 1.0, y: 1.0), (x: x, y: 1.0)]]);
//! let system = GridSystem::new("综治", vec!["block".into()]);
//! let grids = vec![Grid::new("A", "block", None, sq(0.0)), Grid::new("B", "block", None, sq(1.0))];
//! let catalog = Catalog::from_parts(1, [("综治".to_string(), SystemIndex::build(system, grids))].into(), vec![]);
//! let mut p = Proposal::new("综治", "move the A|B border east", "wang", &catalog);
//! // The shared vertex (1, 0) moves in both grids at once.
//! let edit: Edit = serde_json::from_str(r#"{"op":"move_vertex","from":[1,0],"to":[1.5,0]}"#).unwrap();
//! edit::apply_edit(&mut p, &catalog, &edit).unwrap();
//! assert_eq!(p.body.grids.len(), 2);
//! // A vertex nobody has is a bad edit, and the proposal stays as it was.
//! let bad: Edit = serde_json::from_str(r#"{"op":"move_vertex","from":[7,7],"to":[8,8]}"#).unwrap();
//! let before = p.clone();
//! assert!(edit::apply_edit(&mut p, &catalog, &bad).is_err());
//! assert_eq!(p, before);
//! ```

pub mod impact;
pub mod ops;
pub mod proposal;
pub mod publish;
pub mod rules;
pub mod shape;

use std::collections::BTreeMap;

pub use impact::{impact, Impact};
pub use ops::Edit;
pub use proposal::{Proposal, State};
pub use publish::{publish, revert, Committed};

use crate::catalog::Catalog;
use crate::history::{grids_at, HistoryError};
use crate::index::SystemIndex;
use crate::model::Grid;
use crate::store::{GridStore, StoreError};

/// Why an edit, publish or revert was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EditError {
    /// The request itself is wrong (malformed line, unknown vertex …).
    #[error("{0}")]
    Bad(String),
    #[error("grid {code} does not exist in system `{system}`")]
    UnknownGrid { code: String, system: String },
    #[error("worker {0} does not exist")]
    UnknownWorker(String),
    /// The result would break a rule; `grids` names the grids concerned.
    #[error("{message}")]
    Rule { grids: Vec<String>, message: String },
    /// Someone else changed what this touches.
    #[error("{message}")]
    Conflict { grids: Vec<String>, message: String },
    /// Not allowed in the proposal's state.
    #[error("{0}")]
    State(String),
    #[error(transparent)]
    History(#[from] HistoryError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl EditError {
    pub(crate) fn bad(message: String) -> Self {
        EditError::Bad(message)
    }

    pub(crate) fn rule(grids: Vec<String>, message: String) -> Self {
        EditError::Rule { grids, message }
    }

    pub(crate) fn unknown_grid(code: &str, system: &str) -> Self {
        EditError::UnknownGrid {
            code: code.into(),
            system: system.into(),
        }
    }

    pub(crate) fn unknown_worker(id: &str) -> Self {
        EditError::UnknownWorker(id.into())
    }
}

/// Applies one edit to a draft and judges the whole proposal; on any error
/// the proposal is left exactly as it was.
pub fn apply_edit(p: &mut Proposal, catalog: &Catalog, edit: &Edit) -> Result<(), EditError> {
    if p.state != State::Draft {
        return Err(EditError::State(format!(
            "proposal {} is {}; only a draft can be edited",
            p.id,
            p.state.as_str()
        )));
    }
    let mut draft = p.clone();
    ops::apply(&mut draft, catalog, edit)?;
    rules::judge(&draft, catalog)?;
    draft
        .body
        .edits
        .push(serde_json::to_value(edit).expect("an edit serialises"));
    *p = draft;
    Ok(())
}

/// A catalog holding only `system` with `grids` (sorted into store order),
/// at `version`: what lookups and tiles of the past or of a proposal read.
pub fn catalog_with(
    catalog: &Catalog,
    version: u64,
    system: &str,
    mut grids: Vec<Grid>,
) -> Option<Catalog> {
    let def = catalog.system(system)?.system().clone();
    let depth = |g: &Grid| def.depth_of(&g.level).unwrap_or(usize::MAX);
    grids.sort_by(|a, b| depth(a).cmp(&depth(b)).then_with(|| a.code.cmp(&b.code)));
    let systems: BTreeMap<String, SystemIndex> =
        [(system.to_string(), SystemIndex::build(def, grids))].into();
    Some(Catalog::from_parts(
        version,
        systems,
        catalog.workers().to_vec(),
    ))
}

/// `system` as it was at data `version`, rebuilt from the current `catalog`
/// and the store's history.
pub fn catalog_at(
    catalog: &Catalog,
    store: &dyn GridStore,
    system: &str,
    version: u64,
) -> Result<Option<Catalog>, EditError> {
    let Some(index) = catalog.system(system) else {
        return Ok(None);
    };
    let entries = store.history_since(version)?;
    let grids = grids_at(
        system,
        version,
        index.grids().to_vec(),
        catalog.version(),
        &entries,
    )?;
    Ok(catalog_with(catalog, version, system, grids))
}

/// `p`'s system as publishing it would make it.
pub fn proposal_catalog(p: &Proposal, catalog: &Catalog) -> Option<Catalog> {
    catalog_with(catalog, catalog.version(), &p.system, p.all_grids(catalog))
}
