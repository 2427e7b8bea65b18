//! Async adapters over [`Masker`], for tokio programs (the `tokio` feature).
//!
//! - [`MaskingAsyncWriter`]: an [`AsyncWrite`] that masks what is written through it.
//! - [`MaskingAsyncReader`]: an [`AsyncRead`] (and [`AsyncBufRead`]) that masks what it reads.
//! - [`MaskedStream`]: a [`Stream`] of masked [`Bytes`] over any stream of `io::Result<Bytes>`
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

use std::collections::VecDeque;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use ::tokio::io::{AsyncBufRead, AsyncRead, AsyncWrite, ReadBuf};
use bytes::Bytes;
use futures_core::stream::{FusedStream, Stream};
use pin_project_lite::pin_project;

use super::core::{mask_read, Output};
use crate::{Masker, Piece, Secrets};

/// The most input a [`MaskingAsyncWriter`] masks at a time, and the size of the buffer a
/// [`MaskingAsyncReader`] reads its inner reader with.
const CHUNK: usize = 64 * 1024;

pin_project! {
    /// An [`AsyncWrite`] that masks everything written through it before passing it to `W`.
    ///
    /// Output is written to `W` as soon as it is final: only a possible secret prefix waits
    /// for the next write. [`poll_flush`](AsyncWrite::poll_flush) writes all that is final
    /// and keeps those bytes held; [`poll_shutdown`](AsyncWrite::poll_shutdown) releases them
    /// and then shuts `W` down. Drop does not write: a writer dropped before its shutdown
    /// loses the held-back tail (as a tokio `BufWriter` loses its buffer).
    ///
    /// `poll_write` takes input only once the output of earlier writes is all written, and
    /// masks at most 64 KiB at a time, so at most the output of one such piece waits for `W`.
    /// It returns `Pending` only when it took nothing, and never `Ok(0)` for non-empty input.
    /// When `W` fails in the middle of the output of a write that took its input, the error
    /// is kept and returned by the next call, which tries the kept output again first (like
    /// [`MaskingWriter`](crate::MaskingWriter)). Nothing is dropped.
    ///
    /// # Example
    ///
    /// ```
    /// use std::sync::Arc;
    /// use logmask::{tokio::MaskingAsyncWriter, Secrets};
    /// use tokio::io::{AsyncReadExt, AsyncWriteExt};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let secrets = Arc::new(Secrets::new(["hunter2hunter2"])?);
    /// let (near, mut far) = tokio::io::duplex(16); // a pipe with a 16-byte buffer
    /// let writer = tokio::spawn(async move {
    ///     let mut w = MaskingAsyncWriter::new(near, secrets);
    ///     w.write_all(b"password=hunter2").await?;
    ///     w.write_all(b"hunter2, and many more bytes than the pipe holds\n").await?;
    ///     w.shutdown().await
    /// });
    /// let mut out = String::new();
    /// far.read_to_string(&mut out).await?;
    /// writer.await??;
    /// assert_eq!(out, "password=[MASKED], and many more bytes than the pipe holds\n");
    /// # Ok(())
    /// # }
    /// ```
    #[derive(Debug)]
    #[project = WriterProj]
    pub struct MaskingAsyncWriter<W> {
        #[pin]
        inner: W,
        masker: Masker,
        // Output that `inner` did not take yet, and the error that stopped it.
        output: Output,
        // `poll_shutdown` was called: the masker's tail is in `pending` or written.
        finished: bool,
    }
}

impl<W: AsyncWrite> MaskingAsyncWriter<W> {
    /// Wraps `inner`, masking with `secrets`.
    pub fn new(inner: W, secrets: Arc<Secrets>) -> Self {
        Self::with_masker(inner, Masker::new(secrets))
    }

    /// Wraps `inner`, masking with `masker` (which may hold bytes from an earlier stream).
    pub fn with_masker(inner: W, masker: Masker) -> Self {
        MaskingAsyncWriter {
            inner,
            masker,
            output: Output::default(),
            finished: false,
        }
    }

    /// The inner writer.
    pub fn get_ref(&self) -> &W {
        &self.inner
    }

    /// The inner writer; writing to it directly bypasses masking.
    pub fn get_mut(&mut self) -> &mut W {
        &mut self.inner
    }

    /// The pinned inner writer; writing to it directly bypasses masking.
    pub fn get_pin_mut(self: Pin<&mut Self>) -> Pin<&mut W> {
        self.project().inner
    }

    /// The masker.
    pub fn masker(&self) -> &Masker {
        &self.masker
    }

    /// The inner writer. Output not yet written and the held-back tail are discarded: shut
    /// the writer down first to keep them.
    pub fn into_inner(self) -> W {
        self.inner
    }
}

impl<W: AsyncWrite> AsyncWrite for MaskingAsyncWriter<W> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let mut this = self.project();
        if *this.finished {
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                "write after shutdown",
            )));
        }
        ready!(this.output.drain(|b| this.inner.as_mut().poll_write(cx, b)))?;
        let mut taken = 0;
        // Take more while `inner` keeps up, so that pending output stays one piece at most.
        while taken < buf.len() && this.output.is_clear() {
            let piece = &buf[taken..buf.len().min(taken + CHUNK)];
            this.output.mask(this.masker, Some(piece), |b| {
                this.inner.as_mut().poll_write(cx, b)
            });
            taken += piece.len();
        }
        Poll::Ready(Ok(taken))
    }

    /// Writes all output that is final and flushes the inner writer; a possible secret
    /// prefix stays held.
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let mut this = self.project();
        ready!(this.output.drain(|b| this.inner.as_mut().poll_write(cx, b)))?;
        this.inner.poll_flush(cx)
    }

    /// Ends the stream: writes the held-back tail and all kept output, then shuts the inner
    /// writer down.
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let mut this = self.project();
        if !*this.finished {
            *this.finished = true;
            this.output
                .mask(this.masker, None, |b| this.inner.as_mut().poll_write(cx, b));
        }
        ready!(this.output.drain(|b| this.inner.as_mut().poll_write(cx, b)))?;
        this.inner.poll_shutdown(cx)
    }
}

pin_project! {
    /// An [`AsyncRead`] that masks what it reads from `R`.
    ///
    /// It reads `R` in chunks of up to 64 KiB and returns masked output as soon as it is
    /// final. It reports the end of the stream (a read of 0 bytes) only at the end of `R`,
    /// after the held-back tail, and returns `Pending` only when `R` did and no output is
    /// waiting. It is also an [`AsyncBufRead`], for `lines()` and `read_until`.
    ///
    /// # Example
    ///
    /// ```
    /// use std::sync::Arc;
    /// use logmask::{tokio::MaskingAsyncReader, Secrets};
    /// use tokio::io::AsyncReadExt;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let secrets = Arc::new(Secrets::new(["hunter2hunter2"])?);
    /// let mut r = MaskingAsyncReader::new(&b"pw: hunter2hunter2\n"[..], secrets);
    /// let mut out = String::new();
    /// r.read_to_string(&mut out).await?;
    /// assert_eq!(out, "pw: [MASKED]\n");
    /// # Ok(())
    /// # }
    /// ```
    #[derive(Debug)]
    pub struct MaskingAsyncReader<R> {
        #[pin]
        inner: R,
        masker: Masker,
        // Input read from `inner`.
        input: Box<[u8]>,
        // Masked output; `output[out_pos..]` has not been returned yet.
        output: Vec<u8>,
        out_pos: usize,
        // `inner` reported its end and the masker was finished.
        done: bool,
    }
}

impl<R: AsyncRead> MaskingAsyncReader<R> {
    /// Wraps `inner`, masking with `secrets`.
    pub fn new(inner: R, secrets: Arc<Secrets>) -> Self {
        Self::with_masker(inner, Masker::new(secrets))
    }

    /// Wraps `inner`, masking with `masker`.
    pub fn with_masker(inner: R, masker: Masker) -> Self {
        MaskingAsyncReader {
            inner,
            masker,
            input: vec![0; CHUNK].into_boxed_slice(),
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

    /// The pinned inner reader; reading from it directly skips those bytes.
    pub fn get_pin_mut(self: Pin<&mut Self>) -> Pin<&mut R> {
        self.project().inner
    }

    /// The masker.
    pub fn masker(&self) -> &Masker {
        &self.masker
    }

    /// The inner reader; output not yet returned and held-back bytes are discarded.
    pub fn into_inner(self) -> R {
        self.inner
    }
}

impl<R: AsyncRead> AsyncRead for MaskingAsyncReader<R> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let mut this = self.project();
        if buf.remaining() == 0 {
            return Poll::Ready(Ok(()));
        }
        if *this.out_pos < this.output.len() {
            let n = buf.remaining().min(this.output.len() - *this.out_pos);
            buf.put_slice(&this.output[*this.out_pos..*this.out_pos + n]);
            *this.out_pos += n;
            return Poll::Ready(Ok(()));
        }
        this.output.clear();
        *this.out_pos = 0;
        let start = buf.filled().len();
        while !*this.done && buf.filled().len() == start && this.output.is_empty() {
            let n = ready!(read_chunk(this.inner.as_mut(), cx, this.input))?;
            *this.done = mask_read(this.masker, &this.input[..n], this.output);
            // Output goes into `buf` as far as it fits; the rest waits in `output`.
            let k = this.output.len().min(buf.remaining());
            buf.put_slice(&this.output[..k]);
            *this.out_pos = k;
        }
        Poll::Ready(Ok(()))
    }
}

impl<R: AsyncRead> AsyncBufRead for MaskingAsyncReader<R> {
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        let mut this = self.project();
        while *this.out_pos == this.output.len() && !*this.done {
            this.output.clear();
            *this.out_pos = 0;
            let n = ready!(read_chunk(this.inner.as_mut(), cx, this.input))?;
            *this.done = mask_read(this.masker, &this.input[..n], this.output);
        }
        Poll::Ready(Ok(&this.output[*this.out_pos..]))
    }

    fn consume(self: Pin<&mut Self>, amt: usize) {
        let this = self.project();
        *this.out_pos = (*this.out_pos + amt).min(this.output.len());
    }
}

/// Reads one chunk from `inner` into `input`; 0 is its end.
fn read_chunk<R: AsyncRead>(
    inner: Pin<&mut R>,
    cx: &mut Context<'_>,
    input: &mut [u8],
) -> Poll<io::Result<usize>> {
    let mut read = ReadBuf::new(input);
    ready!(inner.poll_read(cx, &mut read))?;
    Poll::Ready(Ok(read.filled().len()))
}

pin_project! {
    /// A [`Stream`] of masked [`Bytes`] over a stream `S` of `io::Result<Bytes>` chunks.
    ///
    /// Each chunk of `S` is masked as it arrives; its output is yielded as one or more
    /// `Bytes` pieces. Text that passes through unchanged is a slice of the input chunk
    /// (no copy), or the chunk itself when it passes whole; the replacement text is one
    /// shared `Bytes`; bytes held back from an earlier chunk are copied, and a run of them is
    /// joined into one piece. Empty pieces are never yielded.
    ///
    /// At the end of `S` the held-back tail is yielded, then the stream ends and stays ended
    /// (it is a [`FusedStream`]). An error from `S` is yielded as it is, and the stream goes
    /// on with the next item of `S`: dropping it there loses the held-back tail. `S` is polled
    /// only once all the output of its previous chunk was taken, so the stream holds at most
    /// one chunk's output, and it returns `Pending` only when `S` did.
    ///
    /// # Example
    ///
    /// ```
    /// use std::sync::Arc;
    /// use bytes::Bytes;
    /// use futures_util::{stream, StreamExt};
    /// use logmask::{tokio::MaskedStream, Secrets};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let secrets = Arc::new(Secrets::new(["hunter2hunter2"])?);
    /// let chunk = Bytes::from_static(b"pw: hunter2hunter2 ok\n");
    /// let mut masked = MaskedStream::new(stream::iter([Ok(chunk.clone())]), secrets);
    /// let mut pieces = Vec::new();
    /// while let Some(piece) = masked.next().await {
    ///     pieces.push(piece?);
    /// }
    /// assert_eq!(pieces, ["pw: ", "[MASKED]", " ok\n"]);
    /// assert_eq!(pieces[0].as_ptr(), chunk.as_ptr()); // a slice of the input, not a copy
    /// # Ok(())
    /// # }
    /// ```
    #[derive(Debug)]
    pub struct MaskedStream<S> {
        #[pin]
        inner: S,
        masker: Masker,
        // Output pieces of the last chunk not yet yielded.
        queue: VecDeque<Bytes>,
        // The replacement text, shared by the pieces that are the replacement.
        replacement: Bytes,
        // Copied output that is joined into one piece (a run of replacements and held bytes).
        staged: Vec<u8>,
        // `inner` ended and the masker was finished.
        done: bool,
    }
}

impl<S> MaskedStream<S>
where
    S: Stream<Item = io::Result<Bytes>>,
{
    /// Wraps `inner`, masking with `secrets`.
    pub fn new(inner: S, secrets: Arc<Secrets>) -> Self {
        Self::with_masker(inner, Masker::new(secrets))
    }

    /// Wraps `inner`, masking with `masker`.
    pub fn with_masker(inner: S, masker: Masker) -> Self {
        MaskedStream {
            inner,
            replacement: Bytes::copy_from_slice(masker.secrets().replacement()),
            masker,
            queue: VecDeque::new(),
            staged: Vec::new(),
            done: false,
        }
    }

    /// The inner stream.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The inner stream; taking items from it directly skips them.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// The pinned inner stream; taking items from it directly skips them.
    pub fn get_pin_mut(self: Pin<&mut Self>) -> Pin<&mut S> {
        self.project().inner
    }

    /// The masker.
    pub fn masker(&self) -> &Masker {
        &self.masker
    }

    /// The inner stream; output not yet yielded and held-back bytes are discarded.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

/// Turns the output pieces of one chunk into `Bytes`: slices of `chunk` for its text, the
/// shared replacement, and copies of held bytes joined in `staged`.
struct Slicer<'a> {
    chunk: &'a Bytes,
    queue: &'a mut VecDeque<Bytes>,
    staged: &'a mut Vec<u8>,
    replacement: &'a Bytes,
    /// Where in `queue` the whole chunk goes, when one piece is all of it: it is moved there
    /// afterwards, which saves a reference count.
    whole: Option<usize>,
}

impl Slicer<'_> {
    fn put(&mut self, piece: Piece<'_>) {
        if piece.is_empty() {
            return;
        }
        match piece {
            Piece::Input { start, bytes } => {
                self.flush();
                if bytes.len() == self.chunk.len() {
                    self.whole = Some(self.queue.len());
                    self.queue.push_back(Bytes::new());
                } else {
                    self.queue
                        .push_back(self.chunk.slice(start..start + bytes.len()));
                }
            }
            Piece::Replacement(_) => {
                self.flush();
                self.queue.push_back(self.replacement.clone());
            }
            Piece::Held(bytes) => self.staged.extend_from_slice(bytes),
        }
    }

    fn flush(&mut self) {
        if !self.staged.is_empty() {
            self.queue.push_back(Bytes::copy_from_slice(self.staged));
            self.staged.clear();
        }
    }
}

impl<S> Stream for MaskedStream<S>
where
    S: Stream<Item = io::Result<Bytes>>,
{
    type Item = io::Result<Bytes>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        static END: Bytes = Bytes::new();
        let mut this = self.project();
        loop {
            if let Some(piece) = this.queue.pop_front() {
                return Poll::Ready(Some(Ok(piece)));
            }
            if *this.done {
                return Poll::Ready(None);
            }
            let chunk = match ready!(this.inner.as_mut().poll_next(cx)) {
                Some(Ok(chunk)) => Some(chunk),
                Some(Err(err)) => return Poll::Ready(Some(Err(err))),
                None => None,
            };
            let replacement = this.masker.secrets().replacement();
            if this.replacement[..] != *replacement {
                *this.replacement = Bytes::copy_from_slice(replacement);
            }
            let mut slicer = Slicer {
                chunk: chunk.as_ref().unwrap_or(&END),
                queue: this.queue,
                staged: this.staged,
                replacement: this.replacement,
                whole: None,
            };
            match &chunk {
                Some(input) => this.masker.mask(input, |piece| slicer.put(piece)),
                None => {
                    this.masker.finish(|piece| slicer.put(piece));
                    *this.done = true;
                }
            }
            slicer.flush();
            if let (Some(at), Some(chunk)) = (slicer.whole, chunk) {
                this.queue[at] = chunk;
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let queued = self.queue.len();
        if self.done {
            (queued, Some(queued))
        } else {
            (queued, None)
        }
    }
}

impl<S> FusedStream for MaskedStream<S>
where
    S: Stream<Item = io::Result<Bytes>>,
{
    fn is_terminated(&self) -> bool {
        self.done && self.queue.is_empty()
    }
}
