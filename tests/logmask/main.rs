//! The integration tests: one binary, one module per theme.

#[path = "../util/mod.rs"]
mod util;

mod cases;
mod props;
mod regressions;
