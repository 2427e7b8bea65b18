//! The checks behind logmask's fuzz targets, as a library so that `cargo test` in `fuzz/` can
//! replay the seed corpus on a stable toolchain.
//!
//! Each target in `fuzz_targets/` is one line: it decodes its input with `arbitrary` and calls
//! the `check` function of its module here. A check panics when logmask disagrees with the
//! naive reference of CONTRACT §2 (`tests/util/naive.rs`, shared with the integration tests) or
//! breaks a promise of CONTRACT §1 and §3.
//!
//! - [`differential`]: `Masker` against the reference, for any chunking, after every chunk.
//! - [`adapters`]: `MaskingWriter` and `MaskingReader` over inner I/O that trickles and
//!   fails, against `Masker`.
//! - [`secrets_file`]: secrets files, names and options through `SecretsBuilder`.
//! - [`registry`]: a stream from `Registry::masker` while jobs' secrets are added and
//!   removed between its chunks.
//! - [`long`]: long, self-overlapping secrets fed runs of their own prefix, as
//!   [`differential`] checks them.
//!
//! [`seeds`] holds the checked-in seed inputs as Rust values and writes them in the byte
//! format `arbitrary` decodes ([`encode`]).

#[path = "../../tests/util/naive.rs"]
pub mod naive;

pub mod adapters;
pub mod differential;
pub mod encode;
pub mod long;
pub mod registry;
pub mod secrets_file;
pub mod seeds;

use std::fmt;

use arbitrary::{Arbitrary, Unstructured};

/// The bytes secrets and inputs of [`differential`] and [`adapters`] are made of: few, so that
/// secrets overlap each other and the input; `\n` and `\r` for multi-line secrets; `'`, ` `
/// and `/`, which shell quoting, form encoding and the other JSON escapes change.
pub const ALPHABET: &[u8; 8] = b"abc\n\r' /";

/// One byte of [`ALPHABET`], decoded from any byte.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Sym(pub u8);

impl<'a> Arbitrary<'a> for Sym {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        Ok(Sym(
            ALPHABET[usize::from(u8::arbitrary(u)?) % ALPHABET.len()]
        ))
    }

    fn size_hint(depth: usize) -> (usize, Option<usize>) {
        u8::size_hint(depth)
    }
}

impl fmt::Debug for Sym {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", char::from(self.0))
    }
}

/// The bytes of `syms`.
pub fn bytes(syms: &[Sym]) -> Vec<u8> {
    syms.iter().map(|s| s.0).collect()
}

/// Splits `input` into chunks of the given sizes, cycled, until it is used up; a size of 0
/// is an empty chunk. No sizes means one chunk; if every size is 0, the rest follows in one
/// chunk after one round of empty ones. An empty input is one empty chunk.
pub fn chunks<'a>(input: &'a [u8], sizes: &'a [u8]) -> impl Iterator<Item = &'a [u8]> + 'a {
    let mut rest = input;
    let mut i = 0;
    let all_zero = sizes.iter().all(|&s| s == 0);
    std::iter::from_fn(move || {
        if rest.is_empty() && i > 0 {
            return None;
        }
        let n = if i >= sizes.len() && all_zero {
            rest.len()
        } else {
            usize::from(sizes[i % sizes.len()]).min(rest.len())
        };
        i += 1;
        let (chunk, tail) = rest.split_at(n);
        rest = tail;
        Some(chunk)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(input: &[u8], sizes: &[u8]) -> Vec<Vec<u8>> {
        chunks(input, sizes).map(<[u8]>::to_vec).collect()
    }

    #[test]
    fn chunks_cycle_sizes_and_keep_empty_ones() {
        assert_eq!(
            split(b"abcdef", &[2, 0, 1]),
            [&b"ab"[..], b"", b"c", b"de", b"", b"f"]
        );
        assert_eq!(split(b"abc", &[1]), [b"a", b"b", b"c"]);
        assert_eq!(split(b"abc", &[]), [b"abc"]);
        assert_eq!(split(b"abc", &[0, 0]), [&b""[..], b"", b"abc"]);
        assert_eq!(split(b"abc", &[0, 2]), [&b""[..], b"ab", b"", b"c"]);
        assert_eq!(split(b"", &[0, 3]), [b""]);
        assert_eq!(split(b"", &[]), [b""]);
    }
}
