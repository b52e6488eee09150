//! A proposal: a draft change to one grid system, edit by edit.
//!
//! A proposal keeps, for every grid and worker its edits touched, the record
//! as it was when first touched (`before`) and as the proposal has it now
//! (`grids`, `workers`). That is all publishing needs: the change set writes
//! the `grids`/`workers`, and the `before` copies decide conflicts per grid —
//! a grid changed by someone else since is a conflict, any other grid is not
//! (the proposal is rebased onto it).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::catalog::Catalog;
use crate::model::{Grid, Worker};
use crate::store::ProposalRow;

/// Where a proposal is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    Draft,
    Submitted,
    Published,
    Rejected,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Draft => "draft",
            State::Submitted => "submitted",
            State::Published => "published",
            State::Rejected => "rejected",
        }
    }

    pub fn parse(s: &str) -> Option<State> {
        [
            State::Draft,
            State::Submitted,
            State::Published,
            State::Rejected,
        ]
        .into_iter()
        .find(|st| st.as_str() == s)
    }
}

/// What a proposal holds besides its listing columns.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Body {
    /// Every edit applied, in order, as it was sent.
    pub edits: Vec<serde_json::Value>,
    /// The grids the proposal changes, as it has them; `None`: deleted.
    pub grids: BTreeMap<String, Option<Grid>>,
    /// The same grids as they were when first touched; `None`: did not exist.
    pub before: BTreeMap<String, Option<Grid>>,
    /// Workers whose assignments it changes, as it has them.
    pub workers: BTreeMap<String, Worker>,
    pub workers_before: BTreeMap<String, Worker>,
    /// The version publishing it created.
    pub published_version: Option<u64>,
    /// Who submitted, published or rejected it, and why.
    #[serde(default)]
    pub reviews: Vec<Review>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Review {
    pub account: String,
    pub action: String,
    pub note: String,
}

/// A proposal with its body decoded.
#[derive(Debug, Clone, PartialEq)]
pub struct Proposal {
    pub id: u64,
    pub revision: u64,
    pub system: String,
    pub state: State,
    pub title: String,
    pub author: String,
    pub base_version: u64,
    pub created: String,
    pub updated: String,
    pub body: Body,
}

impl Proposal {
    /// A new draft against `catalog`'s version.
    pub fn new(system: &str, title: &str, author: &str, catalog: &Catalog) -> Self {
        Self {
            id: 0,
            revision: 0,
            system: system.into(),
            state: State::Draft,
            title: title.into(),
            author: author.into(),
            base_version: catalog.version(),
            created: String::new(),
            updated: String::new(),
            body: Body::default(),
        }
    }

    pub fn from_row(row: ProposalRow) -> Result<Self, String> {
        let state = State::parse(&row.state)
            .ok_or_else(|| format!("proposal {}: unknown state `{}`", row.id, row.state))?;
        let body: Body = serde_json::from_value(row.body)
            .map_err(|e| format!("proposal {}: unreadable body: {e}", row.id))?;
        Ok(Self {
            id: row.id,
            revision: row.revision,
            system: row.system,
            state,
            title: row.title,
            author: row.author,
            base_version: row.base_version,
            created: row.created,
            updated: row.updated,
            body,
        })
    }

    pub fn to_row(&self) -> ProposalRow {
        ProposalRow {
            id: self.id,
            revision: self.revision,
            system: self.system.clone(),
            state: self.state.as_str().into(),
            title: self.title.clone(),
            author: self.author.clone(),
            base_version: self.base_version,
            created: self.created.clone(),
            updated: self.updated.clone(),
            body: serde_json::to_value(&self.body).expect("a proposal body serialises"),
        }
    }

    /// The grid `code` as this proposal has it: its own copy, else the catalog's.
    pub fn grid<'a>(&'a self, catalog: &'a Catalog, code: &str) -> Option<&'a Grid> {
        match self.body.grids.get(code) {
            Some(g) => g.as_ref(),
            None => catalog.system(&self.system)?.grid(code),
        }
    }

    /// Records `grid` (or its deletion) as the proposal's, keeping the
    /// catalog's copy as `before` the first time the code is touched.
    pub fn put_grid(&mut self, catalog: &Catalog, code: &str, grid: Option<Grid>) {
        if !self.body.before.contains_key(code) {
            let before = catalog
                .system(&self.system)
                .and_then(|s| s.grid(code))
                .cloned();
            self.body.before.insert(code.to_string(), before);
        }
        // A grid created and deleted again within the proposal is no change.
        if grid.is_none() && self.body.before.get(code) == Some(&None) {
            self.body.before.remove(code);
            self.body.grids.remove(code);
        } else {
            self.body.grids.insert(code.to_string(), grid);
        }
    }

    /// The worker `id` as this proposal has it.
    pub fn worker<'a>(&'a self, catalog: &'a Catalog, id: &str) -> Option<&'a Worker> {
        self.body
            .workers
            .get(id)
            .or_else(|| catalog.workers().iter().find(|w| w.id == id))
    }

    pub fn put_worker(&mut self, catalog: &Catalog, worker: Worker) {
        if !self.body.workers_before.contains_key(&worker.id) {
            if let Some(w) = catalog.workers().iter().find(|w| w.id == worker.id) {
                self.body.workers_before.insert(w.id.clone(), w.clone());
            }
        }
        self.body.workers.insert(worker.id.clone(), worker);
    }

    /// Where the proposal acts: the bounding boxes of the grids it changes,
    /// as they were and as it has them.
    pub fn changed_bboxes(&self) -> Vec<[f64; 4]> {
        crate::history::bboxes(
            self.body
                .grids
                .values()
                .chain(self.body.before.values())
                .flatten(),
        )
    }

    /// Every grid of the system as the proposal has it, in store order
    /// (depth, then code).
    pub fn all_grids(&self, catalog: &Catalog) -> Vec<Grid> {
        let Some(index) = catalog.system(&self.system) else {
            return Vec::new();
        };
        let mut grids: Vec<Grid> = index
            .grids()
            .iter()
            .filter(|g| !self.body.grids.contains_key(&g.code))
            .cloned()
            .chain(self.body.grids.values().flatten().cloned())
            .collect();
        let depth = |g: &Grid| index.system().depth_of(&g.level).unwrap_or(usize::MAX);
        grids.sort_by(|a, b| depth(a).cmp(&depth(b)).then_with(|| a.code.cmp(&b.code)));
        grids
    }
}
