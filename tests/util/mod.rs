//! Helpers shared by the integration tests.
#![allow(dead_code)]

pub mod naive;

use std::sync::Arc;

use logmask::{Encodings, Masker, Secrets};

pub use naive::{Reference, Rules};

/// Compiles `secrets` with minimum length `min_len`, the default replacement and the default
/// rules (every encoded variant, token shapes on).
pub fn compile(secrets: &[Vec<u8>], min_len: usize) -> Arc<Secrets> {
    compile_with(secrets, min_len, Rules::ALL)
}

/// Compiles `secrets` with minimum length `min_len` under `rules`.
pub fn compile_with(secrets: &[Vec<u8>], min_len: usize, rules: Rules) -> Arc<Secrets> {
    let mut encodings = Encodings::NONE;
    for (on, e) in [
        (rules.base64, Encodings::BASE64),
        (rules.url, Encodings::URL),
        (rules.json, Encodings::JSON),
        (rules.shell, Encodings::SHELL),
        (rules.json_escapes, Encodings::JSON_ESCAPES),
        (rules.form, Encodings::FORM),
        (rules.wrapped, Encodings::BASE64_WRAPPED),
        (rules.mixed, Encodings::PERCENT_MIXED),
    ] {
        if on {
            encodings |= e;
        }
    }
    let mut b = Secrets::builder();
    b.min_len(min_len)
        .encodings(encodings)
        .token_shapes(rules.shapes)
        .structured_credentials(rules.creds);
    for s in secrets {
        b.add(s);
    }
    Arc::new(b.build().expect("valid secrets"))
}

/// What the reference says for `input` under the default rules.
pub fn expected(secrets: &[Vec<u8>], min_len: usize, input: &[u8]) -> Vec<u8> {
    Reference::new(secrets, min_len, Rules::ALL).mask(input, b"[MASKED]")
}

/// Streams `input` through a `Masker` in chunks of the given sizes (cycled; 0 means an empty
/// chunk), checking the hold-back bound after each chunk.
pub fn stream(secrets: &Arc<Secrets>, input: &[u8], sizes: &[usize]) -> Vec<u8> {
    let bound = secrets.max_len().max(1);
    stream_checked(secrets, input, sizes, |_, held| assert!(held < bound))
}

/// As [`stream`], checking after each chunk that exactly the bytes the reference says a
/// later byte could still change are held back (CONTRACT §3, minimal hold-back).
pub fn stream_minimal(
    secrets: &Arc<Secrets>,
    reference: &Reference,
    input: &[u8],
    sizes: &[usize],
) -> Vec<u8> {
    stream_checked(secrets, input, sizes, |fed, held| {
        assert_eq!(
            held,
            reference.held(&input[..fed]),
            "held back after {fed} bytes"
        );
    })
}

/// The reference gives `want` for `input` under `rules`, and so does the masker: in one
/// chunk, one byte at a time and split at every position, holding back exactly what the
/// reference says a later byte could still change.
pub fn check_with(secrets: &[&str], rules: Rules, input: &str, want: &str) {
    let secrets: Vec<Vec<u8>> = secrets.iter().map(|s| s.as_bytes().to_vec()).collect();
    let input = input.as_bytes();
    let reference = Reference::new(&secrets, 8, rules);
    let got = |out: Vec<u8>| String::from_utf8(out).unwrap();
    assert_eq!(got(reference.mask(input, b"[MASKED]")), want, "reference");
    let compiled = compile_with(&secrets, 8, rules);
    assert_eq!(
        got(stream(&compiled, input, &[input.len()])),
        want,
        "one chunk"
    );
    let one = stream_minimal(&compiled, &reference, input, &[1]);
    assert_eq!(got(one), want, "one-byte chunks");
    for split in 0..=input.len() {
        let out = stream_minimal(&compiled, &reference, input, &[split, input.len()]);
        assert_eq!(got(out), want, "split at {split}");
    }
}

/// Streams `input` as [`stream`] does, calling `check(bytes fed so far, held_back())` after
/// each chunk.
fn stream_checked(
    secrets: &Arc<Secrets>,
    input: &[u8],
    sizes: &[usize],
    mut check: impl FnMut(usize, usize),
) -> Vec<u8> {
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
        masker.mask(&rest[..n], |p| out.extend_from_slice(&p));
        rest = &rest[n..];
        check(input.len() - rest.len(), masker.held_back());
        if i > 4 * input.len() + 8 {
            // Only zero sizes: feed the rest at once.
            masker.mask(rest, |p| out.extend_from_slice(&p));
            rest = &[];
        }
    }
    masker.finish(|p| out.extend_from_slice(&p));
    out
}
