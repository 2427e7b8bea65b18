//! Helpers shared by the integration tests.
#![allow(dead_code)]

pub mod naive;

use std::sync::Arc;

use logmask::{Masker, Secrets};

/// Compiles `secrets` with minimum length `min_len` and the default replacement.
pub fn compile(secrets: &[Vec<u8>], min_len: usize) -> Arc<Secrets> {
    let mut b = Secrets::builder();
    b.min_len(min_len);
    for s in secrets {
        b.add(s);
    }
    Arc::new(b.build().expect("valid secrets"))
}

/// What the reference says for `input`.
pub fn expected(secrets: &[Vec<u8>], min_len: usize, input: &[u8]) -> Vec<u8> {
    naive::mask(&naive::patterns(secrets, min_len), input, b"[MASKED]")
}

/// Streams `input` through a `Masker` in chunks of the given sizes (cycled; 0 means an empty
/// chunk), checking the hold-back bound after each chunk.
pub fn stream(secrets: &Arc<Secrets>, input: &[u8], sizes: &[usize]) -> Vec<u8> {
    let mut masker = Masker::new(Arc::clone(secrets));
    let mut out = Vec::new();
    let mut rest = input;
    let mut i = 0;
    while !rest.is_empty() {
        let n = sizes
            .get(i % sizes.len().max(1))
            .copied()
            .unwrap_or(rest.len())
            .min(rest.len());
        i += 1;
        masker.mask(&rest[..n], |p| out.extend_from_slice(p));
        assert!(masker.held_back() < secrets.max_len().max(1));
        rest = &rest[n..];
        if i > 4 * input.len() + 8 {
            // Only zero sizes: feed the rest at once.
            masker.mask(rest, |p| out.extend_from_slice(p));
            rest = &[];
        }
    }
    masker.finish(|p| out.extend_from_slice(p));
    out
}
