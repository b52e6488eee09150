//! Address search: what a resident types (`翠苑三区12幢`, `文一路115号`, a
//! shop's name, with full-width digits, 栋 for 幢 or a character missing) →
//! the registered sites it means, each with its grids.
//!
//! [`normalize`] brings query and register text to one spelling; [`SearchIndex`]
//! is an inverted index of jieba words, character bigrams and house-number
//! terms over a catalog's sites, built once per catalog version; [`search`]
//! ranks the sites, places each in its grids and says when the best answers
//! lie in different grids and score alike (`ambiguous`), rather than guess.
//! [`accuracy`] generates the query set whose results the project publishes.
//!
//! ```
//! use gridmap_data::catalog::Catalog;
//! use gridmap_data::index::SystemIndex;
//! use gridmap_data::model::{Grid, GridSystem, Site};
//! use gridmap_data::search::{search, SearchIndex};
//! use geo_types::{polygon, MultiPolygon, Point};
//!
//! let square = polygon![(x: 120.0, y: 30.0), (x: 120.1, y: 30.0), (x: 120.1, y: 30.1), (x: 120.0, y: 30.1)];
//! let grid = Grid::new("330106001", "street", None, MultiPolygon(vec![square])).named("翠苑街道");
//! let index = SystemIndex::build(GridSystem::new("default", vec!["street".into()]), vec![grid]);
//! let site = Site { id: "A1".into(), kind: "address".into(), name: "文一路115号翠苑三区12幢".into(),
//!     address: None, households: Some(40), location: Point::new(120.05, 30.05), attributes: Default::default() };
//! let catalog = Catalog::from_parts(1, [("default".to_string(), index)].into(), vec![]).with_sites(vec![site]);
//! let search_index = SearchIndex::build(catalog.sites(), catalog.version());
//! let answer = search(&catalog, &search_index, "default", "翠苑3区１２栋", 5).unwrap();
//! assert_eq!(answer.results[0].grids, vec![0]);
//! assert!(!answer.ambiguous);
//! ```

pub mod accuracy;
mod answer;
mod index;
mod normalize;
mod tokens;

pub use answer::{search, Found, SearchAnswer, ALIKE, MAX_ALIKE};
pub use index::{Scored, SearchIndex, EXACT_BONUS};
pub use normalize::normalize;

/// Longest query accepted, in characters.
pub const MAX_QUERY_CHARS: usize = 100;
/// Most results one answer lists (ambiguous answers included).
pub const MAX_LIMIT: usize = 50;

/// A query the search refuses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SearchError {
    #[error("the query is empty (or only punctuation)")]
    EmptyQuery,
    #[error("the query has {chars} characters; at most {MAX_QUERY_CHARS} are accepted")]
    QueryTooLong { chars: usize },
    #[error("limit must be between 1 and {MAX_LIMIT}, got {limit}")]
    BadLimit { limit: usize },
    #[error("unknown grid system `{0}`")]
    UnknownSystem(String),
    #[error("the search index is of data version {index}, the catalog of {catalog}")]
    StaleIndex { index: u64, catalog: u64 },
}
