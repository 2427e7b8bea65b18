//! The adapters: `std::io` and tokio types over a [`Masker`](crate::Masker).

mod core;
pub mod io;
#[cfg(feature = "tokio")]
pub mod tokio;
