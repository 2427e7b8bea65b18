//! Property tests: the streamed output equals the reference (CONTRACT §2) for random secrets,
//! random inputs and random chunkings (CONTRACT §3, chunk invariance).

use proptest::prelude::*;

use crate::util::{compile, expected, stream, Reference, Rules};

/// Bytes from a small alphabet, so that secrets overlap each other and the input often.
fn small(len: std::ops::Range<usize>) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(prop::sample::select(&b"ab\nc"[..]), len)
}

/// A family of secrets: random ones, and ones cut from each other so they overlap.
fn secrets(min_len: usize) -> impl Strategy<Value = Vec<Vec<u8>>> {
    prop::collection::vec(small(min_len..min_len + 6), 1..5).prop_flat_map(move |base| {
        let n = base.len();
        (
            Just(base),
            prop::collection::vec((0..n, 0..8usize, 0..8usize), 0..3),
        )
            .prop_map(move |(mut base, cuts)| {
                for (i, a, b) in cuts {
                    let s = base[i].clone();
                    let mut t: Vec<u8> = s[a.min(s.len())..].to_vec();
                    t.extend_from_slice(&s[..b.min(s.len())]);
                    if t.len() >= min_len {
                        base.push(t);
                    }
                }
                base
            })
    })
}

/// An input built from pieces of the secrets and random filler.
fn input(secrets: Vec<Vec<u8>>) -> impl Strategy<Value = (Vec<Vec<u8>>, Vec<u8>)> {
    let n = secrets.len();
    let piece = prop_oneof![
        small(0..6).prop_map(|v| (None, v)),
        (0..n, 0..12usize, 0..12usize).prop_map(|(i, a, b)| (Some(i), vec![a as u8, b as u8])),
    ];
    prop::collection::vec(piece, 0..12).prop_map(move |pieces| {
        let mut out = Vec::new();
        for (which, v) in pieces {
            match which {
                None => out.extend_from_slice(&v),
                Some(i) => {
                    let s = &secrets[i];
                    let a = (v[0] as usize).min(s.len());
                    let b = (s.len() - (v[1] as usize).min(s.len())).max(a);
                    out.extend_from_slice(&s[a..b]);
                }
            }
        }
        (secrets.clone(), out)
    })
}

pub(crate) fn case(min_len: usize) -> impl Strategy<Value = (Vec<Vec<u8>>, Vec<u8>, Vec<usize>)> {
    secrets(min_len)
        .prop_flat_map(input)
        .prop_flat_map(|(s, i)| (Just(s), Just(i), prop::collection::vec(0..12usize, 1..6)))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn random_chunks_match_reference((secrets, input, sizes) in case(3)) {
        let compiled = compile(&secrets, 3);
        prop_assert_eq!(stream(&compiled, &input, &sizes), expected(&secrets, 3, &input));
    }

    #[test]
    fn one_byte_chunks_match_reference((secrets, input, _sizes) in case(2)) {
        let compiled = compile(&secrets, 2);
        prop_assert_eq!(stream(&compiled, &input, &[1]), expected(&secrets, 2, &input));
    }

    #[test]
    fn counts_match_reference((secrets, input, sizes) in case(3)) {
        let compiled = compile(&secrets, 3);
        let mut masker = logmask::Masker::new(compiled);
        let mut out = Vec::new();
        let mut rest = &input[..];
        for size in sizes.iter().cycle().take(input.len() + 1) {
            let (chunk, tail) = rest.split_at((*size).min(rest.len()));
            masker.mask(chunk, |p| out.extend_from_slice(&p));
            rest = tail;
        }
        masker.mask(rest, |p| out.extend_from_slice(&p));
        masker.finish(|p| out.extend_from_slice(&p));
        let reference = Reference::new(&secrets, 3, Rules::ALL);
        prop_assert_eq!(&out, &reference.mask(&input, b"[MASKED]"));
        prop_assert_eq!(masker.total_in(), input.len() as u64);
        prop_assert_eq!(masker.total_out(), out.len() as u64);
        prop_assert_eq!(masker.masked(), merged(reference.ranges(&input)));
    }

    #[test]
    fn every_split_matches_reference((secrets, input, _sizes) in case(4)) {
        let compiled = compile(&secrets, 4);
        let want = expected(&secrets, 4, &input);
        for split in 0..=input.len() {
            prop_assert_eq!(stream(&compiled, &input, &[split, input.len()]), want.clone());
        }
    }
}

/// The number of maximal unions of `ranges`, overlapping or touching ones merged.
fn merged(mut ranges: Vec<(usize, usize)>) -> u64 {
    ranges.sort_unstable();
    let mut count = 0;
    let mut end = None;
    for (s, e) in ranges {
        match end {
            Some(x) if s <= x => end = Some(x.max(e)),
            _ => {
                count += 1;
                end = Some(e);
            }
        }
    }
    count
}

/// Sets past the automaton's prefilter (more than 64 patterns) take the sampled q-gram path;
/// a tiny alphabet makes their q-grams collide and their occurrences overlap.
fn many_secrets(min_len: usize) -> impl Strategy<Value = Vec<Vec<u8>>> {
    prop::collection::vec(
        prop::collection::vec(prop::sample::select(&b"abc"[..]), min_len..min_len + 5),
        65..120,
    )
}

fn many_case(min_len: usize) -> impl Strategy<Value = (Vec<Vec<u8>>, Vec<u8>, Vec<usize>)> {
    many_secrets(min_len)
        .prop_flat_map(input)
        .prop_flat_map(|(s, i)| (Just(s), Just(i), prop::collection::vec(0..40usize, 1..6)))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn many_secrets_match_reference((secrets, input, sizes) in many_case(5)) {
        let compiled = compile(&secrets, 5);
        prop_assert_eq!(stream(&compiled, &input, &sizes), expected(&secrets, 5, &input));
    }

    #[test]
    fn many_long_secrets_match_reference((secrets, input, sizes) in many_case(12)) {
        let compiled = compile(&secrets, 12);
        prop_assert_eq!(stream(&compiled, &input, &sizes), expected(&secrets, 12, &input));
    }

    #[test]
    fn many_short_secrets_match_reference((secrets, input, sizes) in many_case(2)) {
        let compiled = compile(&secrets, 2);
        prop_assert_eq!(stream(&compiled, &input, &sizes), expected(&secrets, 2, &input));
    }
}

/// Long and self-overlapping secrets (past 64 bytes, a short period: matched at the edge by
/// their own matchers), among short ones, fed runs of their own prefix.
fn periodic_case() -> impl Strategy<Value = (Vec<Vec<u8>>, Vec<u8>, Vec<usize>)> {
    let secret = (small(1..4), 65..100usize, small(0..3)).prop_map(|(unit, len, tail)| {
        let mut s: Vec<u8> = unit.iter().copied().cycle().take(len).collect();
        s.extend_from_slice(&tail);
        s
    });
    (prop::collection::vec(secret, 1..3), small(8..12))
        .prop_flat_map(|(mut secrets, short)| {
            secrets.push(short);
            let n = secrets.len();
            let piece = prop_oneof![
                small(0..4).prop_map(|v| (None, v, 0)),
                (0..n, 0..120usize, 0..3usize).prop_map(|(i, len, from)| (
                    Some(i),
                    vec![],
                    len + from
                )),
            ];
            (Just(secrets), prop::collection::vec(piece, 0..10))
        })
        .prop_map(|(secrets, pieces)| {
            let mut input = Vec::new();
            for (which, v, len) in pieces {
                match which {
                    None => input.extend_from_slice(&v),
                    // A run of the secret's own prefix, as long as `len` (cycled).
                    Some(i) => input.extend(secrets[i].iter().copied().cycle().take(len)),
                }
            }
            (secrets, input)
        })
        .prop_flat_map(|(s, i)| (Just(s), Just(i), prop::collection::vec(0..70usize, 1..6)))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn long_periodic_secrets_match_reference((secrets, input, sizes) in periodic_case()) {
        let compiled = compile(&secrets, 8);
        let reference = crate::util::Reference::new(&secrets, 8, crate::util::Rules::ALL);
        let got = crate::util::stream_minimal(&compiled, &reference, &input, &sizes);
        prop_assert_eq!(got, expected(&secrets, 8, &input));
    }
}
