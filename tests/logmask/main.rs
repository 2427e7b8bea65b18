//! The integration tests: one binary, one module per theme.

#[path = "../util/mod.rs"]
mod util;

mod cases;
mod cli;
mod encodings;
mod props;
mod registry;
#[cfg(feature = "cli")]
mod wrapper;
mod regressions;
