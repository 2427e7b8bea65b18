//! The integration tests: one binary, one module per theme.

#[path = "../util/mod.rs"]
mod util;

mod cases;
mod cli;
mod encodings;
mod props;
mod registry;
mod regressions;
#[cfg(feature = "cli")]
mod wrapper;
