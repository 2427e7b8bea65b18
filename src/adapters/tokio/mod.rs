//! Async adapters over [`Masker`](crate::Masker), for tokio programs (the `tokio` feature).
//!
//! - [`MaskingAsyncWriter`]: an [`AsyncWrite`](::tokio::io::AsyncWrite) that masks what is written through it.
//! - [`MaskingAsyncReader`]: an [`AsyncRead`](::tokio::io::AsyncRead) (and [`AsyncBufRead`](::tokio::io::AsyncBufRead)) that masks what it reads.
//! - [`MaskedStream`]: a [`Stream`](futures_core::Stream) of masked [`Bytes`](bytes::Bytes) over any stream of `io::Result<Bytes>`
//!   chunks, the form log shippers carry; output that passes through unchanged is a slice of
//!   the input chunk, not a copy.
//!
//! They give the same output as the sync core, however the input is split and however
//! often the inner reader, writer or stream returns `Pending`. Each returns `Pending` only
//! when it took nothing, keeps at most about one chunk of output waiting, and passes the
//! inner `io::Error`s on. The feature needs only tokio's I/O traits: no runtime.
//!
//! # Example
//!
//! ```
//! use std::sync::Arc;
//! use logmask::Secrets;
//! use logmask::tokio::MaskingAsyncWriter;
//! use tokio::io::AsyncWriteExt;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let secrets = Arc::new(Secrets::new(["glcbt-64_zyx987wvu"])?);
//! let mut log = MaskingAsyncWriter::new(Vec::new(), secrets);
//! log.write_all(b"JOB-TOKEN: glcbt-64_").await?; // split across two writes
//! log.write_all(b"zyx987wvu\n").await?;
//! log.shutdown().await?; // releases the held-back tail
//! assert_eq!(log.get_ref(), b"JOB-TOKEN: [MASKED]\n");
//! # Ok(())
//! # }
//! ```

mod reader;
mod stream;
mod writer;

pub use reader::MaskingAsyncReader;
pub use stream::MaskedStream;
pub use writer::MaskingAsyncWriter;

/// The most input a [`MaskingAsyncWriter`] masks at a time, and the size of the buffer a
/// [`MaskingAsyncReader`] reads its inner reader with.
const CHUNK: usize = 64 * 1024;
