//! [`MaskingAsyncReader`]: an `AsyncRead` and `AsyncBufRead` that masks what it reads.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use ::tokio::io::{AsyncBufRead, AsyncRead, ReadBuf};
use pin_project_lite::pin_project;

use super::CHUNK;
use crate::adapters::core::mask_read;
use crate::{Masker, Secrets};

pin_project! {
    /// An [`AsyncRead`] that masks what it reads from `R`.
    ///
    /// It reads `R` in chunks of up to 64 KiB and returns masked output as soon as it is
    /// final. It reports the end of the stream (a read of 0 bytes) only at the end of `R`,
    /// after the held-back tail, and returns `Pending` only when `R` did and no output is
    /// waiting. It is also an [`AsyncBufRead`], for `lines()` and `read_until`. Drop and
    /// [`into_inner`](Self::into_inner) discard what was read and not returned, as with the
    /// sync [`MaskingReader`](crate::MaskingReader).
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
    crate::adapters::counts!(
        "bytes read from the inner reader",
        "bytes of masked output produced, returned or not yet"
    );
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
