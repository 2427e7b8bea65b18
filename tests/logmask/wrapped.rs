//! Base64 wrapped into lines and percent-encoding with mixed-case hex (issue 15): the view
//! finder against the reference's views, in every chunking, with minimal hold-back.

use std::sync::Arc;

use logmask::{Encodings, Masker, Registry, Secrets};
use proptest::prelude::*;

use crate::util::naive::{base64, percent};
use crate::util::{compile_with, stream, stream_minimal, Reference, Rules};

const STANDARD: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Only the wrapped and mixed-case rules on top of the base64 and percent variants.
const VIEWS: Rules = Rules {
    base64: true,
    url: true,
    wrapped: true,
    mixed: true,
    ..Rules::NONE
};

/// `text` cut into lines of `width` bytes ended by `eol`.
fn wrap(text: &[u8], width: usize, eol: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for line in text.chunks(width) {
        out.extend_from_slice(line);
        out.extend_from_slice(eol);
    }
    out
}

/// The masked output, after checking that the masker gives the reference's in one chunk,
/// one byte at a time and at the given splits, holding back exactly what it says.
fn agree(secrets: &[Vec<u8>], rules: Rules, input: &[u8], splits: &[usize]) -> Vec<u8> {
    let reference = Reference::new(secrets, 8, rules);
    let want = reference.mask(input, b"[MASKED]");
    let compiled = compile_with(secrets, 8, rules);
    assert_eq!(stream(&compiled, input, &[input.len()]), want, "one chunk");
    assert_eq!(
        stream_minimal(&compiled, &reference, input, &[1]),
        want,
        "one-byte chunks"
    );
    for &split in splits {
        let got = stream_minimal(&compiled, &reference, input, &[split, input.len()]);
        assert_eq!(got, want, "split at {split}");
    }
    want
}

/// Whether 8 consecutive characters of the stable part of `secret`'s standard base64 at
/// some alignment remain in `output` once its line breaks are taken out.
fn leaks_base64(secret: &[u8], output: &[u8]) -> bool {
    let flat: Vec<u8> = output
        .iter()
        .copied()
        .filter(|&b| b != b'\n' && b != b'\r')
        .collect();
    (0..3).any(|offset| {
        // The characters of the encoding of `secret` after `offset` bytes that only it
        // decides: from the first whole group to the last whole character.
        let padded = [&b"\0\0"[..offset], secret].concat();
        let encoded = base64(&padded, STANDARD);
        let from = (4 * offset).div_ceil(3);
        let to = (8 * padded.len()) / 6;
        encoded[from..to.min(encoded.len())]
            .windows(8)
            .any(|w| flat.windows(8).any(|f| f == w))
    })
}

/// A secret of `len` varied bytes (non-ASCII included), on one line.
fn secret(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(37).wrapping_add(seed) ^ 0x5a)
        .map(|b| if b == b'\n' || b == b'\r' { b'-' } else { b })
        .collect()
}

#[test]
fn every_alignment_width_and_line_end() {
    let s = secret(57, 3);
    for width in [64, 76] {
        for eol in [&b"\n"[..], b"\r\n"] {
            // Every byte alignment and every column the secret can start at.
            for before in (0..3 * width / 4 + 3).step_by(7).chain([1, 2, 47, 48]) {
                let blob = [vec![b'x'; before], s.clone(), b"tail-bytes".to_vec()].concat();
                let wrapped = wrap(&base64(&blob, STANDARD), width, eol);
                let input = [b"data:\n".to_vec(), wrapped, b"done\n".to_vec()].concat();
                let out = agree(std::slice::from_ref(&s), VIEWS, &input, &[7, 70, 150]);
                assert!(
                    !leaks_base64(&s, &out),
                    "width {width} eol {eol:?} at {before}"
                );
                // Off, the wrapped lines leak where the secret spans a line break.
                let first = (4 * before) / 3 / width;
                if first == ((4 * (before + s.len())).div_ceil(3) - 1) / width {
                    continue;
                }
                let plain = Rules {
                    wrapped: false,
                    ..VIEWS
                };
                let off =
                    Reference::new(std::slice::from_ref(&s), 8, plain).mask(&input, b"[MASKED]");
                assert!(
                    leaks_base64(&s, &off),
                    "width {width} at {before}: a test that cannot fail: {}",
                    String::from_utf8_lossy(&off)
                );
            }
        }
    }
}

#[test]
fn other_line_lengths_stay_apart() {
    // A line of 63 or 65 characters is no wrap: the breaks stay, so does the text.
    let s = secret(40, 9);
    for width in [63, 65, 72] {
        let input = wrap(&base64(&s, STANDARD), width, b"\n");
        let out = agree(std::slice::from_ref(&s), VIEWS, &input, &[width, width + 1]);
        assert!(out.contains(&b'\n'));
    }
}

#[test]
fn mixed_case_percent_hex() {
    let s = b"p@ss/w0rd:x y".to_vec();
    let upper = percent(&s, false);
    // Lower-case the hex digits of every other escape.
    let mut mixed = upper.clone();
    let mut k = 0;
    for i in 0..mixed.len() {
        if mixed[i] == b'%' {
            k += 1;
            if k % 2 == 0 {
                mixed[i + 1] = mixed[i + 1].to_ascii_lowercase();
                mixed[i + 2] = mixed[i + 2].to_ascii_lowercase();
            }
        }
    }
    assert_ne!(mixed, upper);
    let input = [
        b"GET /?q=".to_vec(),
        mixed.clone(),
        b"&r=%2f%zz%a\n".to_vec(),
    ]
    .concat();
    let out = agree(std::slice::from_ref(&s), VIEWS, &input, &[3, 9, 20]);
    assert_eq!(out, b"GET /?q=[MASKED]&r=%2f%zz%a\n");
    let off = Rules {
        mixed: false,
        ..VIEWS
    };
    let plain = Reference::new(std::slice::from_ref(&s), 8, off).mask(&input, b"[MASKED]");
    assert_eq!(
        plain, input,
        "without the rule the mixed value is not masked"
    );
}

#[test]
fn encodings_names_and_defaults() {
    let e: Encodings = "base64-wrapped,percent-mixed".parse().unwrap();
    assert_eq!(e, Encodings::BASE64_WRAPPED | Encodings::PERCENT_MIXED);
    assert_eq!(Encodings::ALL.bits(), 255);
    assert!(Encodings::DEFAULT.contains(Encodings::PERCENT_MIXED));
    assert!(!Encodings::DEFAULT.contains(Encodings::BASE64_WRAPPED));
    assert_eq!(
        Secrets::builder().build().unwrap().encodings(),
        Encodings::DEFAULT
    );
}

/// A registry job added while a stream is inside a wrapped blob: the lines after the
/// addition are masked, across the breaks, plain and with the job in a layer of its own.
#[test]
fn a_job_added_mid_stream() {
    let s = secret(60, 21);
    let blob = wrap(
        &base64(&[b"ab".to_vec(), s.clone()].concat(), STANDARD),
        76,
        b"\r\n",
    );
    for layered in [false, true] {
        let mut base = Secrets::builder();
        base.encodings(Encodings::ALL).add("some-base-secret");
        let registry = Registry::new(base).unwrap();
        registry.set_layering(if layered { 0 } else { usize::MAX }, false);
        let mut masker: Masker = registry.masker();
        let mut out = Vec::new();
        masker.mask(b"begin\n", |p| out.extend_from_slice(&p));
        registry.add("job", [s.clone()]).unwrap();
        let mut rest = blob.as_slice();
        while !rest.is_empty() {
            let n = rest.len().min(5);
            masker.mask(&rest[..n], |p| out.extend_from_slice(&p));
            rest = &rest[n..];
        }
        masker.finish(|p| out.extend_from_slice(&p));
        let rules = Rules {
            shapes: true,
            json: true,
            shell: true,
            json_escapes: true,
            form: true,
            ..VIEWS
        };
        let input = [b"begin\n".to_vec(), blob.clone()].concat();
        let want = Reference::new(&[b"some-base-secret".to_vec(), s.clone()], 8, rules)
            .mask(&input, b"[MASKED]");
        assert_eq!(out, want, "layered {layered}");
        assert!(!leaks_base64(&s, &out));
    }
}

fn wrapped_case() -> impl Strategy<Value = (Vec<u8>, usize, bool, usize, Vec<u8>, Vec<usize>)> {
    (
        prop::collection::vec(any::<u8>(), 8..70),
        prop::sample::select(vec![64usize, 76]),
        any::<bool>(),
        0usize..80,
        prop::collection::vec(prop::sample::select(b"ab=/+\n\r x%".to_vec()), 0..12),
        prop::collection::vec(0usize..90, 1..5),
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Random secrets at random alignments and columns, random chunkings (1-byte chunks
    /// included): the reference's output, minimal hold-back, and no 8 characters of the
    /// base64 left.
    #[test]
    fn wrapped_secrets_match_the_reference(
        (s, width, crlf, before, noise, sizes) in wrapped_case()
    ) {
        let eol: &[u8] = if crlf { b"\r\n" } else { b"\n" };
        let blob = [vec![b'.'; before], s.clone(), b"!".to_vec()].concat();
        let wrapped = wrap(&base64(&blob, STANDARD), width, eol);
        let input = [noise.clone(), b"\n".to_vec(), wrapped, noise].concat();
        let reference = Reference::new(std::slice::from_ref(&s), 8, VIEWS);
        let want = reference.mask(&input, b"[MASKED]");
        let compiled: Arc<Secrets> = compile_with(std::slice::from_ref(&s), 8, VIEWS);
        prop_assert_eq!(&stream_minimal(&compiled, &reference, &input, &sizes), &want);
        prop_assert_eq!(&stream_minimal(&compiled, &reference, &input, &[1]), &want);
        prop_assert!(!leaks_base64(&s, &want));
    }

    /// Mixed-case escapes of random secrets among random `%` noise.
    #[test]
    fn mixed_case_matches_the_reference(
        s in prop::collection::vec(prop::sample::select(b"a/%: ?b".to_vec()), 8..20),
        cases in prop::collection::vec(any::<bool>(), 60),
        noise in prop::collection::vec(prop::sample::select(b"%aF1 /".to_vec()), 0..16),
        sizes in prop::collection::vec(0usize..40, 1..5),
    ) {
        let mut mixed = percent(&s, false);
        for (b, lower) in mixed.iter_mut().zip(cases) {
            if lower {
                *b = b.to_ascii_lowercase();
            }
        }
        let input = [noise.clone(), mixed, noise].concat();
        let reference = Reference::new(std::slice::from_ref(&s), 8, VIEWS);
        let want = reference.mask(&input, b"[MASKED]");
        let compiled = compile_with(std::slice::from_ref(&s), 8, VIEWS);
        prop_assert_eq!(&stream_minimal(&compiled, &reference, &input, &sizes), &want);
        prop_assert_eq!(&stream_minimal(&compiled, &reference, &input, &[1]), &want);
    }
}
