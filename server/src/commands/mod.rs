//! One module per CLI command.

pub mod demo;
pub mod import;
pub mod serve;
