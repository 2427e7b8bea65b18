//! The typed output of a [`Masker`](crate::Masker).

use std::ops::Deref;

/// A piece of a masker's output: what it is, and its bytes.
///
/// The output of a stream is its pieces in the order they are handed out. A piece derefs to
/// its bytes, so `out.extend_from_slice(&piece)` collects them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Piece<'a> {
    /// Bytes of the chunk just given, passed through unchanged: `input[start..]`, borrowed
    /// from it.
    Input {
        /// Where the bytes begin in the chunk given to [`mask`](crate::Masker::mask).
        start: usize,
        /// The bytes.
        bytes: &'a [u8],
    },
    /// Bytes of earlier chunks that were held back, released unchanged.
    Held(&'a [u8]),
    /// The replacement text, standing for one masked range.
    Replacement(&'a [u8]),
}

impl<'a> Piece<'a> {
    /// The piece's bytes.
    pub fn bytes(&self) -> &'a [u8] {
        match *self {
            Piece::Input { bytes, .. } | Piece::Held(bytes) | Piece::Replacement(bytes) => bytes,
        }
    }
}

impl Deref for Piece<'_> {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        self.bytes()
    }
}

impl AsRef<[u8]> for Piece<'_> {
    fn as_ref(&self) -> &[u8] {
        self.bytes()
    }
}
