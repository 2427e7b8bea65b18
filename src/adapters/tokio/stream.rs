//! [`MaskedStream`]: a `Stream` of masked `Bytes` over a stream of `Bytes` chunks.

use std::collections::VecDeque;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use bytes::Bytes;
use futures_core::stream::{FusedStream, Stream};
use pin_project_lite::pin_project;

use crate::{Masker, Piece, Secrets};

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
    crate::adapters::counts!(
        "bytes in the chunks taken from the inner stream",
        "bytes of masked output produced, yielded or not yet"
    );
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
