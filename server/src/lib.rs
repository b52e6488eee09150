//! The `gridmap` server: CLI commands and the axum HTTP interface.

pub mod cli;
pub mod commands;
pub mod http;
pub mod progress;
pub mod tile_cache;
pub mod tileset;

#[cfg(test)]
mod test_support;
