//! [`MaskingAsyncWriter`]: an `AsyncWrite` that masks what is written through it.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use ::tokio::io::AsyncWrite;
use pin_project_lite::pin_project;

use super::CHUNK;
use crate::adapters::core::Output;
use crate::{Masker, Secrets};

pin_project! {
    /// An [`AsyncWrite`] that masks everything written through it before passing it to `W`.
    ///
    /// Output is written to `W` as soon as it is final: only a possible secret prefix waits
    /// for the next write. [`poll_flush`](AsyncWrite::poll_flush) writes all that is final
    /// and keeps those bytes held; [`poll_shutdown`](AsyncWrite::poll_shutdown) releases them
    /// and then shuts `W` down; [`try_finish`](Self::try_finish) and
    /// [`finish`](Self::finish) release them without shutting `W` down.
    ///
    /// **Drop** does not write (it cannot wait for `W`): a writer dropped before its
    /// shutdown or `finish` loses the held-back tail and any output `W` did not take, as a
    /// tokio `BufWriter` loses its buffer. The sync [`MaskingWriter`](crate::MaskingWriter)
    /// writes its tail in drop.
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
    /// the writer down or [`finish`](Self::finish) it to keep them.
    pub fn into_inner(self) -> W {
        self.inner
    }

    crate::adapters::counts!(
        "bytes written to this writer",
        "bytes of masked output produced; the inner writer may not have taken all of them yet"
    );

    /// Ends the stream: writes the held-back tail and all kept output, and flushes the inner
    /// writer, without shutting it down. Later writes begin a new stream (unless the writer
    /// was shut down).
    ///
    /// # Errors
    ///
    /// Any error of the inner writer, including one kept from an earlier write. The output
    /// not yet written is kept: polling again tries it again.
    pub fn poll_try_finish(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let mut this = self.project();
        if !*this.finished {
            // A finished masker has nothing more to give: polling again adds nothing.
            this.output
                .mask(this.masker, None, |b| this.inner.as_mut().poll_write(cx, b));
        }
        ready!(this.output.drain(|b| this.inner.as_mut().poll_write(cx, b)))?;
        this.inner.poll_flush(cx)
    }

    /// Ends the stream as [`poll_try_finish`](Self::poll_try_finish) does.
    ///
    /// # Errors
    ///
    /// As `poll_try_finish`.
    pub async fn try_finish(&mut self) -> io::Result<()>
    where
        W: Unpin,
    {
        std::future::poll_fn(|cx| Pin::new(&mut *self).poll_try_finish(cx)).await
    }

    /// Ends the stream as [`poll_try_finish`](Self::poll_try_finish) does and returns the
    /// inner writer, not shut down.
    ///
    /// # Errors
    ///
    /// As `poll_try_finish`.
    pub async fn finish(mut self) -> io::Result<W>
    where
        W: Unpin,
    {
        self.try_finish().await?;
        Ok(self.inner)
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
