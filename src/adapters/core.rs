//! What the adapters share: masked output on its way to an inner writer (gathered so that a
//! dense chunk costs one write, kept when the writer cannot take it, with the error that
//! stopped it), the read loop's end-of-stream rule, and the page-aligned read buffer.
//!
//! Every write goes through one function of the form of `poll_write`
//! (`FnMut(&[u8]) -> Poll<io::Result<usize>>`): a `std::io` writer is one that is never
//! `Pending`, so the sync and async adapters share all of it.

use std::io;
use std::task::Poll;

use crate::{Masker, Piece};

/// Pieces shorter than this are copied together and written at once; longer ones are
/// written from where they are (the input, for text that passes through).
const DIRECT: usize = 4 * 1024;

/// Gathered output is written once it reaches this much, even within a chunk.
const GATHER: usize = 64 * 1024;

/// The alignment of read buffers.
const PAGE: usize = 4096;

/// Masked output that the inner writer has not taken yet, and an error from it that the
/// call that met it could not return.
#[derive(Debug, Default)]
pub(crate) struct Output {
    /// `buf[from..]` waits, in order, before any later output.
    buf: Vec<u8>,
    from: usize,
    /// Returned by the next call, before anything else is written.
    error: Option<io::Error>,
}

impl Output {
    /// The bytes waiting.
    pub(crate) fn waiting(&self) -> &[u8] {
        &self.buf[self.from..]
    }

    /// Whether nothing waits and no error is kept.
    pub(crate) fn is_clear(&self) -> bool {
        self.from == self.buf.len() && self.error.is_none()
    }

    /// Keeps `bytes` after what waits.
    pub(crate) fn keep(&mut self, bytes: &[u8]) {
        if self.from == self.buf.len() {
            self.buf.clear();
            self.from = 0;
        }
        self.buf.extend_from_slice(bytes);
    }

    /// Offers one piece of masked output: a short one is gathered, a long one is written
    /// straight away after what waits (or kept, once the writer is `Pending` or failed).
    pub(crate) fn put(
        &mut self,
        piece: &[u8],
        mut write: impl FnMut(&[u8]) -> Poll<io::Result<usize>>,
    ) {
        if piece.len() < DIRECT {
            self.keep(piece);
            if self.waiting().len() >= GATHER {
                self.settle(&mut write);
            }
            return;
        }
        self.settle(&mut write);
        if !self.is_clear() {
            self.keep(piece);
            return;
        }
        let mut done = 0;
        match write_all(piece, &mut done, &mut write) {
            Poll::Ready(Ok(())) => {}
            Poll::Ready(Err(err)) => {
                self.keep(&piece[done..]);
                self.error = Some(err);
            }
            Poll::Pending => self.keep(&piece[done..]),
        }
    }

    /// Writes what waits, as far as the writer takes it; an error is kept for the next call.
    pub(crate) fn settle(&mut self, write: impl FnMut(&[u8]) -> Poll<io::Result<usize>>) {
        if self.error.is_none() {
            if let Poll::Ready(Err(err)) = self.drain(write) {
                self.error = Some(err);
            }
        }
    }

    /// Returns a kept error, then writes what waits; `Ready(Ok)` once all of it is written.
    pub(crate) fn drain(
        &mut self,
        mut write: impl FnMut(&[u8]) -> Poll<io::Result<usize>>,
    ) -> Poll<io::Result<()>> {
        if let Some(err) = self.error.take() {
            return Poll::Ready(Err(err));
        }
        let mut done = 0;
        let result = write_all(&self.buf[self.from..], &mut done, &mut write);
        self.from += done;
        result
    }

    /// Masks `input` (`None`: ends the stream) into this output, writing as it goes.
    pub(crate) fn mask(
        &mut self,
        masker: &mut Masker,
        input: Option<&[u8]>,
        mut write: impl FnMut(&[u8]) -> Poll<io::Result<usize>>,
    ) {
        let put = |piece: Piece<'_>| self.put(&piece, &mut write);
        match input {
            Some(input) => masker.mask(input, put),
            None => masker.finish(put),
        }
        self.settle(&mut write);
    }
}

/// Writes all of `buf`, counting in `done` what was written, until an error or `Pending`.
fn write_all(
    mut buf: &[u8],
    done: &mut usize,
    write: &mut impl FnMut(&[u8]) -> Poll<io::Result<usize>>,
) -> Poll<io::Result<()>> {
    while !buf.is_empty() {
        match write(buf) {
            Poll::Ready(Ok(0)) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
            Poll::Ready(Ok(n)) => {
                *done += n;
                buf = &buf[n..];
            }
            Poll::Ready(Err(e)) if e.kind() == io::ErrorKind::Interrupted => {}
            other => return other.map_ok(drop),
        }
    }
    Poll::Ready(Ok(()))
}

/// Masks the bytes of one read, `input`, into `output`; an empty read is the end of the
/// stream, which finishes `masker`. Returns whether it did.
pub(crate) fn mask_read(masker: &mut Masker, input: &[u8], output: &mut Vec<u8>) -> bool {
    let put = |piece: Piece<'_>| output.extend_from_slice(&piece);
    if input.is_empty() {
        masker.finish(put);
        true
    } else {
        masker.mask(input, put);
        false
    }
}

/// A read buffer whose bytes begin at a page boundary: the kernel copies into aligned
/// memory about twice as fast as into misaligned memory.
#[derive(Debug)]
pub(crate) struct ReadBuffer {
    storage: Box<[u8]>,
    /// Where the aligned `len` bytes begin in `storage`.
    at: usize,
    len: usize,
}

impl ReadBuffer {
    /// A buffer of `len` bytes.
    pub(crate) fn new(len: usize) -> ReadBuffer {
        let storage = vec![0; len + PAGE].into_boxed_slice();
        ReadBuffer {
            at: storage.as_ptr().align_offset(PAGE),
            storage,
            len,
        }
    }

    /// The whole buffer, to read into.
    pub(crate) fn space(&mut self) -> &mut [u8] {
        &mut self.storage[self.at..self.at + self.len]
    }

    /// Its first `n` bytes.
    pub(crate) fn filled(&self, n: usize) -> &[u8] {
        &self.storage[self.at..self.at + n]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A writer that takes at most `step` bytes a call, fails once at `fail_at` bytes, and
    /// says `Pending` every other call when `pending` is set.
    struct Trickle {
        got: Vec<u8>,
        step: usize,
        fail_at: Option<usize>,
        pending: bool,
        calls: usize,
    }

    impl Trickle {
        fn write(&mut self, buf: &[u8]) -> Poll<io::Result<usize>> {
            self.calls += 1;
            if self.pending && self.calls % 2 == 0 {
                return Poll::Pending;
            }
            if self.fail_at.is_some_and(|at| self.got.len() >= at) {
                self.fail_at = None;
                return Poll::Ready(Err(io::Error::other("full")));
            }
            let n = buf.len().min(self.step);
            self.got.extend_from_slice(&buf[..n]);
            Poll::Ready(Ok(n))
        }
    }

    #[test]
    fn nothing_is_lost_or_reordered_whatever_the_writer_does() {
        let pieces: Vec<Vec<u8>> = (0..40u8)
            .map(|i| vec![i; [1, 7, DIRECT, DIRECT + 3, 100][usize::from(i) % 5]])
            .collect();
        let want = pieces.concat();
        for (step, fail_at, pending) in [
            (usize::MAX, None, false),
            (1000, None, false),
            (3, None, true),
            (5000, Some(DIRECT + 10), false),
            (777, Some(3), true),
        ] {
            let mut w = Trickle {
                got: Vec::new(),
                step,
                fail_at,
                pending,
                calls: 0,
            };
            let mut out = Output::default();
            let mut errors = 0;
            for p in &pieces {
                out.put(p, |b| w.write(b));
            }
            out.settle(|b| w.write(b));
            loop {
                match out.drain(|b| w.write(b)) {
                    Poll::Ready(Ok(())) => break,
                    Poll::Ready(Err(_)) => errors += 1,
                    Poll::Pending => {}
                }
            }
            assert_eq!(w.got, want, "step {step}");
            assert_eq!(errors, usize::from(fail_at.is_some()), "step {step}");
        }
    }

    #[test]
    fn short_pieces_are_written_together() {
        let mut calls = 0;
        let mut got = Vec::new();
        let mut out = Output::default();
        let mut write = |b: &[u8]| {
            calls += 1;
            got.extend_from_slice(b);
            Poll::Ready(Ok(b.len()))
        };
        for _ in 0..100 {
            out.put(b"text ", &mut write);
            out.put(b"[MASKED]", &mut write);
        }
        out.settle(&mut write);
        assert_eq!(calls, 1);
        assert_eq!(got.len(), 1300);
    }

    #[test]
    fn read_buffers_are_aligned() {
        for len in [1, 4096, 64 * 1024] {
            let mut b = ReadBuffer::new(len);
            assert_eq!(b.space().len(), len);
            assert_eq!(b.space().as_ptr().align_offset(PAGE), 0);
        }
    }
}
