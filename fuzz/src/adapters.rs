//! Target `adapters`: the `std::io` and async adapters give what [`Masker`] gives, over inner I/O that
//! trickles, is interrupted and fails.
//!
//! - [`MaskingWriter`] writes the case's chunks (retrying a write that failed, as a caller
//!   does) into an inner writer that takes a few bytes at a time, returns `Interrupted` and
//!   fails outright, as its script says. Whatever reached the inner writer must always be a
//!   prefix of the expected output (nothing wrong, nothing twice), after a successful `flush`
//!   it must be exactly what a `Masker` emitted for the same chunks, and after `finish` it
//!   must be the whole expected output (nothing lost).
//! - [`MaskingReader`] reads an inner reader that returns short reads, `Interrupted` and
//!   errors, through `read` and `fill_buf`/`consume` with the case's sizes; it must never
//!   return `Interrupted` nor end early, and must give the expected output.
//!
//! - The async adapters get the same chunks and must give the same output:
//!   `MaskingAsyncWriter` into, and `MaskingAsyncReader` out of, a tokio duplex pipe with a
//!   buffer of a few bytes (so both sides meet `Pending`), and `MaskedStream` over the chunks
//!   as `Bytes`.

use std::io::{self, BufRead, Read, Write};
use std::sync::Arc;

use arbitrary::Arbitrary;
use bytes::Bytes;
use logmask::tokio::{MaskedStream, MaskingAsyncReader, MaskingAsyncWriter};
use logmask::{Masker, MaskingReader, MaskingWriter, Secrets};

use crate::chunks;
use crate::differential::{assert_same, Case};

/// The input of the `adapters` target.
#[derive(Arbitrary, Clone, Debug, PartialEq)]
pub struct AdapterCase {
    /// The secrets, the input and its chunking (write sizes, read buffer sizes).
    pub case: Case,
    /// What the inner writer does on each call, in order; then it takes everything.
    pub writer: Vec<Step>,
    /// What the inner reader does on each call, in order; then it returns all it has.
    pub reader: Vec<Step>,
    /// The writer is flushed after every `flush_every`-th chunk (never if 0).
    pub flush_every: u8,
}

/// What an inner writer or reader does on one call.
#[derive(Arbitrary, Clone, Copy, Debug, PartialEq)]
pub enum Step {
    /// Takes (or returns) at most this many bytes, at least one.
    Take(u8),
    /// Returns `ErrorKind::Interrupted`.
    Interrupted,
    /// Returns an error the caller sees.
    Fail,
}

/// Runs both adapters over the case.
///
/// # Panics
///
/// If an adapter loses, duplicates or alters output, or reports errors it should not.
pub fn check(c: &AdapterCase) {
    let Some(p) = c.case.prepare() else { return };
    check_writer(c, &p.input, &p.compiled, &p.expected);
    check_reader(c, &p.input, &p.compiled, &p.expected);
    check_async(c, &p.input, &p.compiled, &p.expected);
}

/// The async adapters over the same chunks: `MaskingAsyncWriter` into a duplex pipe with a
/// tiny buffer (so both ends return `Pending`), `MaskingAsyncReader` out of one, and
/// `MaskedStream` over the chunks as `Bytes`; each must give the expected output.
fn check_async(c: &AdapterCase, input: &[u8], compiled: &Arc<Secrets>, expected: &[u8]) {
    use futures_util::StreamExt;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a current-thread runtime");
    runtime.block_on(async {
        let (near, mut far) = tokio::io::duplex(7);
        let write = async {
            let mut w = MaskingAsyncWriter::new(near, Arc::clone(compiled));
            for chunk in chunks(input, &c.case.chunks) {
                w.write_all(chunk).await.expect("a duplex pipe takes all");
            }
            w.shutdown().await.expect("shutdown");
        };
        let read = async {
            let mut out = Vec::new();
            far.read_to_end(&mut out).await.expect("read the pipe");
            out
        };
        let ((), out) = tokio::join!(write, read);
        assert_same(&out, expected, "MaskingAsyncWriter");

        let (mut near, far) = tokio::io::duplex(5);
        let feed = async move {
            for chunk in chunks(input, &c.case.chunks) {
                near.write_all(chunk).await.expect("feed the pipe");
            }
        };
        let read = async {
            let mut r = MaskingAsyncReader::new(far, Arc::clone(compiled));
            let mut out = Vec::new();
            r.read_to_end(&mut out)
                .await
                .expect("read through the masker");
            out
        };
        let ((), out) = tokio::join!(feed, read);
        assert_same(&out, expected, "MaskingAsyncReader");

        let items: Vec<io::Result<Bytes>> = chunks(input, &c.case.chunks)
            .map(|chunk| Ok(Bytes::copy_from_slice(chunk)))
            .collect();
        let mut stream = MaskedStream::new(futures_util::stream::iter(items), Arc::clone(compiled));
        let mut out = Vec::new();
        while let Some(item) = stream.next().await {
            out.extend_from_slice(&item.expect("no error in the input"));
        }
        assert_same(&out, expected, "MaskedStream");
    });
}

/// The error a failing [`Step`] returns.
fn scripted() -> io::Error {
    io::Error::other("scripted failure")
}

fn is_scripted(err: &io::Error) -> bool {
    err.kind() == io::ErrorKind::Other && err.to_string() == "scripted failure"
}

/// An inner writer that follows a script.
struct ScriptedWriter<'a> {
    script: std::slice::Iter<'a, Step>,
    /// Everything written.
    written: Vec<u8>,
    /// `Fail` steps are skipped, for `finish`, which cannot be retried.
    reliable: bool,
}

impl Write for ScriptedWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let step = loop {
            match self.script.next() {
                Some(Step::Fail) if self.reliable => {}
                step => break step.copied(),
            }
        };
        let n = match step {
            Some(Step::Take(n)) => usize::from(n).max(1).min(buf.len()),
            Some(Step::Interrupted) => return Err(io::ErrorKind::Interrupted.into()),
            Some(Step::Fail) => return Err(scripted()),
            None => buf.len(),
        };
        self.written.extend_from_slice(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Retries `op` while it fails with the scripted error; there are at most `script_len` of
/// those in a row.
fn retry<T>(script_len: usize, mut op: impl FnMut() -> io::Result<T>) -> T {
    for _ in 0..=script_len {
        match op() {
            Ok(v) => return v,
            Err(e) => assert!(is_scripted(&e), "unexpected error: {e:?}"),
        }
    }
    panic!("still failing after the script ran out");
}

fn check_writer(c: &AdapterCase, input: &[u8], secrets: &Arc<logmask::Secrets>, want: &[u8]) {
    let inner = ScriptedWriter {
        script: c.writer.iter(),
        written: Vec::new(),
        reliable: false,
    };
    let mut w = MaskingWriter::new(inner, Arc::clone(secrets));
    let mut masker = Masker::new(Arc::clone(secrets));
    let mut emitted = Vec::new();
    for (k, chunk) in chunks(input, &c.case.chunks).enumerate() {
        let n = retry(c.writer.len(), || w.write(chunk));
        assert_eq!(n, chunk.len(), "a write took part of its input");
        masker.mask(chunk, |piece| emitted.extend_from_slice(&piece));
        assert!(
            want.starts_with(&w.get_ref().written),
            "the inner writer got \"{}\", not a prefix of \"{}\"",
            w.get_ref().written.escape_ascii(),
            want.escape_ascii()
        );
        if c.flush_every != 0 && k % usize::from(c.flush_every) == 0 {
            retry(c.writer.len(), || w.flush());
            assert_same(&w.get_ref().written, &emitted, "written after flush");
        }
    }
    // Output kept from a failed write must survive a `flush` that fails too.
    retry(c.writer.len(), || w.flush());
    assert_same(
        &w.get_ref().written,
        &emitted,
        "written after the last flush",
    );
    w.get_mut().reliable = true;
    let inner = w.finish().expect("finish with a writer that does not fail");
    assert_same(&inner.written, want, "written after finish");
}

/// An inner reader that follows a script.
struct ScriptedReader<'a> {
    script: std::slice::Iter<'a, Step>,
    rest: &'a [u8],
}

impl Read for ScriptedReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = match self.script.next() {
            Some(&Step::Take(n)) => usize::from(n).max(1),
            Some(Step::Interrupted) => return Err(io::ErrorKind::Interrupted.into()),
            Some(Step::Fail) => return Err(scripted()),
            None => buf.len(),
        };
        let n = n.min(buf.len()).min(self.rest.len());
        buf[..n].copy_from_slice(&self.rest[..n]);
        self.rest = &self.rest[n..];
        Ok(n)
    }
}

fn check_reader(c: &AdapterCase, input: &[u8], secrets: &Arc<Secrets>, want: &[u8]) {
    let inner = ScriptedReader {
        script: c.reader.iter(),
        rest: input,
    };
    let mut r = MaskingReader::new(inner, Arc::clone(secrets));
    let sizes: Vec<usize> = if c.case.chunks.iter().any(|&s| s > 0) {
        c.case.chunks.iter().map(|&s| usize::from(s)).collect()
    } else {
        vec![7]
    };
    let mut out = Vec::new();
    let mut buf = [0; 256];
    // A read of a non-zero size returns output, fails (a step of the script) or ends the
    // stream, and every round of `sizes` has one such read.
    let bound = (want.len() + c.reader.len() + 2) * sizes.len();
    for k in 0.. {
        assert!(k < bound, "the reader does not make progress");
        let size = sizes[k % sizes.len()];
        // Odd rounds use the `BufRead` side.
        let got = if k % 2 == 0 {
            r.read(&mut buf[..size]).map(|n| buf[..n].to_vec())
        } else {
            r.fill_buf().map(|b| b[..b.len().min(size)].to_vec())
        };
        match got {
            Ok(bytes) if bytes.is_empty() && size > 0 => break,
            Ok(bytes) => {
                if k % 2 == 1 {
                    r.consume(bytes.len());
                }
                out.extend_from_slice(&bytes);
            }
            Err(e) => assert!(is_scripted(&e), "unexpected error: {e:?}"),
        }
    }
    assert!(
        r.get_ref().rest.is_empty(),
        "the reader ended before its input did"
    );
    assert_same(&out, want, "read");
    assert_eq!(r.read(&mut buf).unwrap(), 0, "a read after the end");
}
