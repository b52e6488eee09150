//! One module per CLI command.

pub mod assign;
pub mod board;
pub mod check;
pub mod copy;
pub mod demo;
pub mod export;
pub mod import;
pub mod serve;
pub mod user;
