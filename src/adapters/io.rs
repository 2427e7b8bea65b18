//! `std::io` adapters over [`Masker`].

use std::io::{self, BufRead, Read, Write};
use std::sync::Arc;
use std::task::Poll;

use super::core::{mask_read, Output, ReadBuffer};
use crate::{Masker, Secrets};

/// The size of the buffer a [`MaskingReader`] reads its inner reader with.
const READ_BUF: usize = 64 * 1024;

/// The inner writer as the adapter core writes: one `write` call, never `Pending`.
fn sync<W: Write>(inner: &mut W) -> impl FnMut(&[u8]) -> Poll<io::Result<usize>> + '_ {
    move |buf| Poll::Ready(inner.write(buf))
}

/// A writer that masks everything written through it before passing it to `W`.
///
/// Output is written to `W` as soon as it is final: only a possible secret prefix waits for
/// the next write. [`flush`](Write::flush) keeps those bytes held;
/// [`try_finish`](Self::try_finish) and [`finish`](Self::finish) release them at the end of
/// the stream.
///
/// **Drop** finishes the stream too: it writes the held-back tail and flushes, ignoring
/// errors (call `finish` to see them). The async `logmask::tokio::MaskingAsyncWriter`
/// cannot write in drop: it loses its tail unless it was shut down or finished.
///
/// When `W` fails in the middle of the output of one write, the write still reports its
/// input as taken, the output not yet written is kept, and the error is returned by the
/// next call; that call and later ones try the kept output first. Nothing is dropped.
///
/// # Example
///
/// ```
/// use std::io::Write;
/// use std::sync::Arc;
/// use logmask::{MaskingWriter, Secrets};
///
/// let secrets = Arc::new(Secrets::new(["hunter2hunter2"])?);
/// let mut w = MaskingWriter::new(Vec::new(), secrets);
/// w.write_all(b"password=hunter2")?;
/// w.write_all(b"hunter2\n")?;
/// assert_eq!(w.finish()?, b"password=[MASKED]\n");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct MaskingWriter<W: Write> {
    /// `None` only after `finish` took it.
    inner: Option<W>,
    masker: Masker,
    /// Output that `inner` did not take yet, and the error that stopped it.
    output: Output,
}

impl<W: Write> MaskingWriter<W> {
    /// Wraps `inner`, masking with `secrets`.
    pub fn new(inner: W, secrets: Arc<Secrets>) -> Self {
        Self::with_masker(inner, Masker::new(secrets))
    }

    /// Wraps `inner`, masking with `masker` (which may hold bytes from an earlier stream).
    pub fn with_masker(inner: W, masker: Masker) -> Self {
        MaskingWriter {
            inner: Some(inner),
            masker,
            output: Output::default(),
        }
    }

    /// The inner writer.
    pub fn get_ref(&self) -> &W {
        self.inner
            .as_ref()
            .expect("inner writer present until finish")
    }

    /// The inner writer; writing to it directly bypasses masking.
    pub fn get_mut(&mut self) -> &mut W {
        self.inner
            .as_mut()
            .expect("inner writer present until finish")
    }

    /// The masker.
    pub fn masker(&self) -> &Masker {
        &self.masker
    }

    super::counts!(
        "bytes written to this writer",
        "bytes of masked output produced; the inner writer may not have taken all of them yet"
    );

    /// Ends the stream: writes the held-back tail and flushes the inner writer. Later writes
    /// begin a new stream.
    ///
    /// # Errors
    ///
    /// Any error of the inner writer, including one kept from an earlier write. The output
    /// not yet written is kept: calling `try_finish` again tries it again.
    pub fn try_finish(&mut self) -> io::Result<()> {
        self.finish_inner()
    }

    /// Ends the stream as [`try_finish`](Self::try_finish) does and returns the inner writer.
    ///
    /// # Errors
    ///
    /// As `try_finish`.
    pub fn finish(mut self) -> io::Result<W> {
        self.finish_inner()?;
        Ok(self
            .inner
            .take()
            .expect("inner writer present until finish"))
    }

    /// The inner writer, without writing anything more: output not yet written and the
    /// held-back tail are discarded (call [`finish`](Self::finish) to keep them).
    pub fn into_inner(mut self) -> W {
        self.inner
            .take()
            .expect("inner writer present until finish")
    }

    fn finish_inner(&mut self) -> io::Result<()> {
        self.write_pending()?;
        self.push(None);
        self.write_pending()?;
        self.get_mut().flush()
    }

    /// Masks `input` (`None`: ends the stream) onto the inner writer, keeping what it does
    /// not take.
    fn push(&mut self, input: Option<&[u8]>) {
        let inner = self
            .inner
            .as_mut()
            .expect("inner writer present until finish");
        self.output.mask(&mut self.masker, input, sync(inner));
    }

    /// Returns a kept error, then writes the kept output.
    fn write_pending(&mut self) -> io::Result<()> {
        let inner = self
            .inner
            .as_mut()
            .expect("inner writer present until finish");
        match self.output.drain(sync(inner)) {
            Poll::Ready(result) => result,
            Poll::Pending => unreachable!("a std::io writer is never pending"),
        }
    }
}

impl<W: Write> Write for MaskingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.write_pending()?;
        self.push(Some(buf));
        Ok(buf.len())
    }

    /// Writes all output that is final and flushes the inner writer; a possible secret
    /// prefix stays held.
    fn flush(&mut self) -> io::Result<()> {
        self.write_pending()?;
        self.get_mut().flush()
    }
}

impl<W: Write> Drop for MaskingWriter<W> {
    fn drop(&mut self) {
        if self.inner.is_some() {
            let _ = self.finish_inner();
        }
    }
}

/// A reader that masks what it reads from `R`.
///
/// It reads `R` in chunks and returns masked output as soon as it is final; it returns 0
/// only at the end of `R`, after the held-back tail. Drop and
/// [`into_inner`](Self::into_inner) discard what was read and not returned.
///
/// # Example
///
/// ```
/// use std::io::Read;
/// use std::sync::Arc;
/// use logmask::{MaskingReader, Secrets};
///
/// let secrets = Arc::new(Secrets::new(["hunter2hunter2"])?);
/// let mut r = MaskingReader::new(&b"pw: hunter2hunter2\n"[..], secrets);
/// let mut out = String::new();
/// r.read_to_string(&mut out)?;
/// assert_eq!(out, "pw: [MASKED]\n");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct MaskingReader<R: Read> {
    inner: R,
    masker: Masker,
    /// The input read from `inner`.
    input: ReadBuffer,
    /// Masked output; `output[out_pos..]` has not been returned yet.
    output: Vec<u8>,
    out_pos: usize,
    /// `inner` reported its end and the masker was finished.
    done: bool,
}

impl<R: Read> MaskingReader<R> {
    /// Wraps `inner`, masking with `secrets`.
    pub fn new(inner: R, secrets: Arc<Secrets>) -> Self {
        Self::with_masker(inner, Masker::new(secrets))
    }

    /// Wraps `inner`, masking with `masker`.
    pub fn with_masker(inner: R, masker: Masker) -> Self {
        MaskingReader {
            inner,
            masker,
            input: ReadBuffer::new(READ_BUF),
            output: Vec::new(),
            out_pos: 0,
            done: false,
        }
    }

    /// The inner reader.
    pub fn get_ref(&self) -> &R {
        &self.inner
    }

    /// The inner reader; reading from it directly skips those bytes.
    pub fn get_mut(&mut self) -> &mut R {
        &mut self.inner
    }

    /// The masker.
    pub fn masker(&self) -> &Masker {
        &self.masker
    }

    /// The inner reader; output not yet returned and held-back bytes are discarded.
    pub fn into_inner(self) -> R {
        self.inner
    }

    super::counts!(
        "bytes read from the inner reader",
        "bytes of masked output produced, returned or not yet"
    );
}

impl<R: Read> BufRead for MaskingReader<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        while self.out_pos == self.output.len() && !self.done {
            self.output.clear();
            self.out_pos = 0;
            let n = match self.inner.read(self.input.space()) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            self.done = mask_read(&mut self.masker, self.input.filled(n), &mut self.output);
        }
        Ok(&self.output[self.out_pos..])
    }

    fn consume(&mut self, amt: usize) {
        self.out_pos = (self.out_pos + amt).min(self.output.len());
    }
}

impl<R: Read> Read for MaskingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(buf.len());
        buf[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}
