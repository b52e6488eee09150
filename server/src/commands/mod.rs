//! One module per CLI command.

pub mod assign;
pub mod board;
pub mod check;
pub mod demo;
pub mod import;
pub mod serve;
