//! The integration tests: one binary, one module per theme.

#[path = "../util/mod.rs"]
mod util;

#[cfg(feature = "tokio")]
mod async_adapters;
mod cases;
mod cli;
mod creds;
mod encodings;
#[cfg(feature = "cli")]
mod live;
mod origins;
mod props;
#[cfg(feature = "cli")]
mod recipes;
mod registry;
mod regressions;
#[cfg(feature = "cli")]
mod ship;
#[cfg(feature = "tokio")]
mod streams;
mod wrapped;
#[cfg(feature = "cli")]
mod wrapper;
