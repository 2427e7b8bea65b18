//! Remove secrets from log streams.
//!
//! A CI job prints its tokens by accident: `set -x`, a verbose `curl`, a stack trace.
//! `logmask` sits between the job and its log sink and replaces every occurrence of every
//! active secret with `[MASKED]` before a byte is stored.
//!
//! - **Exact.** Every occurrence is masked, overlapping ones included; overlapping or
//!   touching occurrences merge into one `[MASKED]`; every other byte passes unchanged.
//! - **Streaming.** The output does not depend on how the input is split into chunks, even
//!   when a secret is split across reads. Memory is bounded by the secrets, never by the
//!   input or its line lengths.
//! - **Prompt.** After each chunk, everything is emitted except the few bytes that could
//!   still begin a secret.
//! - **Beyond exact values.** Each secret is also masked in its encoded forms (the stable
//!   parts of its base64 encodings, percent-encoded, JSON-escaped; see [`Encodings`]), and
//!   well-known token shapes (`glpat-…`, `ghp_…`, `AKIA…`) are masked even when their value
//!   was never added; both are on by default and can be switched off in the
//!   [`SecretsBuilder`].
//!
//! Build a [`Secrets`] set once, share it by [`Arc`](std::sync::Arc), and give each stream a
//! [`Masker`] (no I/O), a [`MaskingWriter`] or a [`MaskingReader`]. When the secrets come and
//! go while streams run (the tokens of the jobs running now), keep them in a [`Registry`] and
//! make each stream's masker with [`Registry::masker`].
//!
//! ```
//! use std::io::Write;
//! use std::sync::Arc;
//! use logmask::{MaskingWriter, Secrets};
//!
//! let secrets = Arc::new(
//!     Secrets::builder()
//!         .add_named("env CI_JOB_TOKEN", "glcbt-64_zyx987wvu")
//!         .add_lines_named("secrets.txt", "s3cr3t-password\nanother-secret\n")
//!         .build()?,
//! );
//! let mut log = MaskingWriter::new(Vec::new(), secrets);
//! log.write_all(b"+ curl -H 'JOB-TOKEN: glcbt-64_")?; // split across two writes
//! log.write_all(b"zyx987wvu' https://example.com\n")?;
//! let out = log.finish()?;
//! assert_eq!(out, b"+ curl -H 'JOB-TOKEN: [MASKED]' https://example.com\n");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Features
//!
//! - `cli` (default): the `logmask` command-line filter and command wrapper.
//! - `tokio`: the `logmask::tokio` module, async adapters for tokio programs:
//!   `MaskingAsyncWriter`, `MaskingAsyncReader` and `MaskedStream` (a stream of `Bytes`).
//!   It pulls in tokio's I/O traits only (no runtime), `bytes` and `futures-core`.
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod adapters;
mod find;
mod parallel;
mod registry;
mod set;
mod stream;
#[cfg(test)]
mod testing;

pub use adapters::io;
pub use adapters::io::{MaskingReader, MaskingWriter};
#[cfg(feature = "tokio")]
#[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
pub use adapters::tokio;
pub use registry::Registry;
pub use set::{
    Encodings, Error, MaskedBy, Secrets, SecretsBuilder, DEFAULT_MIN_LEN, DEFAULT_REPLACEMENT,
};
pub use stream::{Masker, OriginCounts, Piece};

#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
