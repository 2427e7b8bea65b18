//! Counting masked ranges by origin (`Masker::count_origins`): the counts equal the
//! reference's (each merged range counts once for each secret with an occurrence in it),
//! however the input is split.

use std::collections::BTreeMap;
use std::sync::Arc;

use logmask::{Encodings, MaskedBy, Masker, OriginCounts, Secrets};
use proptest::prelude::*;

use crate::props::case;
use crate::util::naive;
use crate::util::{compile_with, Rules};

/// The reference: merge every occurrence; each merged range counts for each secret (by
/// position) that has an occurrence inside it.
fn reference(secrets: &[Vec<u8>], min_len: usize, input: &[u8]) -> BTreeMap<MaskedBy, u64> {
    let mut all = Vec::new();
    for (i, s) in secrets.iter().enumerate() {
        let patterns = naive::patterns(std::slice::from_ref(s), min_len);
        for range in naive::occurrences(&patterns, input) {
            all.push((range, i));
        }
    }
    all.sort();
    let mut counts = BTreeMap::new();
    let mut k = 0;
    while k < all.len() {
        let ((_, mut end), _) = all[k];
        let mut members = Vec::new();
        while k < all.len() && all[k].0 .0 <= end {
            end = end.max(all[k].0 .1);
            members.push(all[k].1);
            k += 1;
        }
        members.sort();
        members.dedup();
        for i in members {
            *counts
                .entry(MaskedBy::Secret(format!("secret #{i}").into()))
                .or_insert(0) += 1;
        }
    }
    counts
}

/// Streams `input` in chunks of `sizes` (cycled) with counting on; returns the output and
/// the counts.
fn counted(secrets: &Arc<Secrets>, input: &[u8], sizes: &[usize]) -> (Vec<u8>, Vec<u64>) {
    let counts = OriginCounts::new();
    let mut masker = Masker::new(Arc::clone(secrets));
    masker.count_origins(&counts);
    let mut out = Vec::new();
    let mut rest = input;
    let mut i = 0;
    while !rest.is_empty() {
        let n = sizes[i % sizes.len()].max(1).min(rest.len());
        i += 1;
        masker.mask(&rest[..n], |p| out.extend_from_slice(&p));
        rest = &rest[n..];
    }
    masker.finish(|p| out.extend_from_slice(&p));
    (out, counts.get().into_iter().map(|(_, n)| n).collect())
}

fn counts_of(secrets: &Arc<Secrets>, input: &[u8], sizes: &[usize]) -> BTreeMap<MaskedBy, u64> {
    let counts = OriginCounts::new();
    let mut masker = Masker::new(Arc::clone(secrets));
    masker.count_origins(&counts);
    let mut rest = input;
    let mut i = 0;
    while !rest.is_empty() {
        let n = sizes[i % sizes.len()].max(1).min(rest.len());
        i += 1;
        masker.mask(&rest[..n], |_| ());
        rest = &rest[n..];
    }
    masker.finish(|_| ());
    counts.get().into_iter().collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn counts_match_reference((secrets, input, sizes) in case(3)) {
        let compiled = compile_with(&secrets, 3, Rules::NONE);
        prop_assert_eq!(counts_of(&compiled, &input, &sizes), reference(&secrets, 3, &input));
    }

    #[test]
    fn counts_in_one_byte_chunks_match_reference((secrets, input, _sizes) in case(2)) {
        let compiled = compile_with(&secrets, 2, Rules::NONE);
        prop_assert_eq!(counts_of(&compiled, &input, &[1]), reference(&secrets, 2, &input));
    }
}

#[test]
fn counting_changes_no_output() {
    let secrets = Arc::new(Secrets::new(["abcdefgh", "efghijkl"]).unwrap());
    let input = b"xxabcdefghijklyy abcdefgh glpat-0123456789ABCDEFGHIJ";
    let (out, counts) = counted(&secrets, input, &[3]);
    assert_eq!(out, b"xx[MASKED]yy [MASKED] [MASKED]");
    // secret #0 twice, secret #1 once, the token once.
    assert_eq!(counts, [2, 1, 1]);
}

#[test]
fn a_registered_token_is_not_a_shape() {
    let token = "glpat-0123456789abcdefghij";
    let other = "ghp_0123456789abcdefghijklmnopqrstuvwxyz";
    let secrets = Secrets::builder()
        .add_named("env CI_JOB_TOKEN", token)
        .add_lines_named("secrets.txt", "first-secret\nsecond-secret\n")
        .build()
        .unwrap();
    let secrets = Arc::new(secrets);
    let input = format!(
        "a {token} b second-secret c {other} d {} e {token}-and-more\n",
        "second-secret"
    );
    for sizes in [&[1][..], &[7], &[1000]] {
        let got = counts_of(&secrets, input.as_bytes(), sizes);
        let want = BTreeMap::from([
            (MaskedBy::Secret("env CI_JOB_TOKEN".into()), 2),
            (MaskedBy::Secret("secrets.txt line 2".into()), 2),
            (MaskedBy::Shape("ghp"), 1),
        ]);
        assert_eq!(got, want, "chunks of {sizes:?}");
    }
}

#[test]
fn encoded_forms_count_for_their_secret() {
    let secrets = Secrets::builder()
        .add_named("env PASS", "p@ss/w0rd?x")
        .encodings(Encodings::URL)
        .build()
        .unwrap();
    let got = counts_of(&Arc::new(secrets), b"u=p%40ss%2Fw0rd%3Fx\n", &[2]);
    assert_eq!(
        got,
        BTreeMap::from([(MaskedBy::Secret("env PASS".into()), 1)])
    );
}
