//! gridmap-data: the grid model, coordinate systems, import/export, stores,
//! the in-memory spatial index and analysis. No HTTP here.

pub mod accounts;
pub mod analysis;
pub mod assign;
pub mod catalog;
pub mod change;
pub mod crs;
pub mod demo;
pub mod edit;
pub mod export;
pub mod geometry;
pub mod history;
pub mod import;
pub mod index;
pub mod model;
pub mod nesting;
pub mod points;
pub mod progress;
pub mod search;
pub mod sites;
pub mod store;

#[cfg(test)]
mod testutil;

/// The shared-arc topology the tiles are built on: editing moves a shared
/// border once for every grid that uses it.
pub use gridmap_topology as topology;

pub use model::*;
