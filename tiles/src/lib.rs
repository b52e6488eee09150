//! Vector tiles for gridmap: lon/lat polygons in, Mapbox Vector Tile (MVT
//! 2.1) bytes out. A pure library: no I/O, no knowledge of grids.
//!
//! Pipeline, per layer prepared once ([`PreparedLayer::new`], or
//! [`PreparedLayer::new_group`] for the nested levels of a grid system, which
//! then share steps 2–3 wherever they are drawn together — see [`group`]):
//! 1. project to Web Mercator ([`tile`]);
//! 2. build a shared-arc topology ([`topology`]) so that each border between
//!    two polygons is stored once;
//! 3. rank arc vertices for Douglas–Peucker ([`simplify`]); per zoom, arcs are
//!    simplified once for both neighbours, with a validity fallback;
//!
//! then per tile ([`render_tile`]):
//! 4. find polygons with an R-tree, clip to tile + buffer ([`clip`]);
//! 5. round to tile units, clean, drop slivers, repair ([`quantize`]);
//! 6. encode ([`mvt`]), optionally with label points ([`label`]).
//!
//! Shared borders come out vertex-for-vertex identical on both sides at every
//! zoom, so adjacent polygons neither overlap nor leave gaps, and in a group
//! the children of a parent cover it exactly (up to the drop rule).

pub mod clip;
pub mod decode;
pub mod group;
pub mod label;
pub mod layer;
pub mod mvt;
pub mod points;
pub mod quantize;
pub mod render;
mod shared;
pub mod simplify;
pub mod synthetic;
pub mod tile;
pub mod valid;

/// The shared-arc topology, from its own crate so `data` (editing) uses the same one.
pub use gridmap_topology as topology;

pub use group::GroupLayer;
pub use label::{label_point, LabelInput, LabelLayer, LabelPoint};
pub use layer::{FeatureInput, PreparedLayer, TileFeature};
pub use mvt::{gzip, PropValue};
pub use points::{encode_points, PointFeature};
pub use render::{render_tile, TileOptions};
pub use tile::{TileId, TileRange};

/// Errors of this crate.
#[derive(Debug, thiserror::Error)]
pub enum TilesError {
    /// A tile address out of range.
    #[error("invalid tile {z}/{x}/{y}: {reason}")]
    InvalidTile {
        /// Zoom.
        z: u8,
        /// Column.
        x: u32,
        /// Row.
        y: u32,
        /// What is wrong.
        reason: String,
    },
    /// Bad input geometry, options or bytes.
    #[error("invalid input: {0}")]
    InvalidInput(String),
}
