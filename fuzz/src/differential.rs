//! Target `differential`: [`Masker`] against the naive reference.
//!
//! Secrets and input come from the small [`ALPHABET`](crate::ALPHABET), so secrets overlap
//! each other and the input; the input is streamed in an arbitrary chunking (1-byte and empty
//! chunks included). Each case masks under one [`RuleSet`]: the exact secrets only, or every
//! rule of SPEC §4 (encoded variants, token shapes); the input then also has pieces that are
//! encoded variants of a secret and tokens near their shortest length. The final output must
//! equal the reference (SPEC §2, §4), and after every chunk the masker must hold back exactly
//! what SPEC §3 allows: the longest suffix that a later byte could complete into a pattern or
//! a shortest token (so always less than [`Secrets::max_len`]), with everything before it
//! emitted except the replacement of a masked range that the suffix could still extend.

use std::sync::Arc;

use arbitrary::Arbitrary;
use logmask::{Masker, Secrets};

use crate::naive::{self, Reference, Rules};
use crate::{bytes, chunks, Sym};

/// At most this many secrets are used.
const MAX_SECRETS: usize = 6;
/// Longer secrets are cut to this length.
const MAX_SECRET_LEN: usize = 24;
/// Longer inputs are cut to this length.
const MAX_INPUT: usize = 4096;
/// Longer replacements are cut to this length.
const MAX_REPLACEMENT: usize = 32;

/// The input of the `differential` target (and the stream of the `adapters` target).
#[derive(Arbitrary, Clone, Debug, PartialEq)]
pub struct Case {
    /// The secrets: each cut to 24 bytes; those shorter than the minimum length are dropped
    /// (refusing them is the `secrets_file` target's business); the first 6 are used.
    pub secrets: Vec<Vec<Sym>>,
    /// The input, piece by piece, cut to 4096 bytes.
    pub input: Vec<Piece>,
    /// Chunk sizes, cycled (see [`chunks`]).
    pub chunks: Vec<u8>,
    /// The replacement text.
    pub replacement: Replacement,
    /// The minimum length is `min_len % 6` (0 counts as 1).
    pub min_len: u8,
    /// The rules the secrets are masked under.
    pub rules: RuleSet,
}

/// Which rules of SPEC §4 a case's secrets are compiled with.
#[derive(Arbitrary, Clone, Copy, Debug, PartialEq)]
pub enum RuleSet {
    /// The exact secrets only: `Encodings::NONE`, no token shapes.
    Exact,
    /// Every encoding and the token shapes (the builder's defaults).
    All,
}

impl RuleSet {
    /// The reference's rules.
    pub fn rules(self) -> Rules {
        match self {
            RuleSet::Exact => Rules::NONE,
            RuleSet::All => Rules::ALL,
        }
    }

    /// Sets the builder's encodings and token shapes to these rules.
    pub fn apply(self, builder: &mut logmask::SecretsBuilder) {
        let all = self == RuleSet::All;
        let encodings = if all {
            logmask::Encodings::ALL
        } else {
            logmask::Encodings::NONE
        };
        builder.encodings(encodings).token_shapes(all);
    }
}

/// A piece of the input.
#[derive(Arbitrary, Clone, Debug, PartialEq)]
pub enum Piece {
    /// These bytes.
    Text(Vec<Sym>),
    /// Secret number `secret % n`, without its first `front` and last `back` bytes; a cut
    /// longer than the secret cuts nothing, so most pieces are whole secrets.
    Secret {
        /// Which secret.
        secret: u8,
        /// Bytes cut from the front.
        front: u8,
        /// Bytes cut from the back.
        back: u8,
    },
    /// Encoded variant number `which % n` of secret number `secret % n` (whatever the rules:
    /// under exact rules it is plain text), cut as [`Piece::Secret`] is.
    Variant {
        /// Which secret.
        secret: u8,
        /// Which of its variants (`naive::variants` under every rule, minimum length 1).
        which: u8,
        /// Bytes cut from the front.
        front: u8,
        /// Bytes cut from the back.
        back: u8,
    },
    /// A token of shape number `shape % 19` of `naive::TOKENS`: its prefix and a body of the
    /// shortest length minus 3 plus `len % 7` bytes of its class, picked from `seed` on.
    Token {
        /// Which shape.
        shape: u8,
        /// The body's length, around the shortest one.
        len: u8,
        /// Where in the class the body's bytes start.
        seed: u8,
    },
}

/// The replacement text of a case.
#[derive(Arbitrary, Clone, Debug, PartialEq)]
pub enum Replacement {
    /// `[MASKED]`.
    Default,
    /// Nothing: masked ranges vanish.
    Empty,
    /// These bytes (cut to 32); may contain a secret, which the builder must refuse.
    Bytes(Vec<u8>),
}

/// A case made concrete and compiled.
pub struct Prepared {
    /// The secrets used.
    pub secrets: Vec<Vec<u8>>,
    /// The effective minimum length (at least 1).
    pub min_len: usize,
    /// The replacement text.
    pub replacement: Vec<u8>,
    /// The whole input.
    pub input: Vec<u8>,
    /// The compiled secrets.
    pub compiled: Arc<Secrets>,
    /// The reference for the secrets under the case's rules.
    pub reference: Reference,
    /// What the reference makes of the input.
    pub expected: Vec<u8>,
}

impl Case {
    /// Makes the case concrete and compiles its secrets; `None` when the builder refuses the
    /// set because a secret occurs inside the replacement.
    ///
    /// # Panics
    ///
    /// If the builder refuses a valid set or accepts an invalid one.
    pub fn prepare(&self) -> Option<Prepared> {
        let min_len = usize::from(self.min_len % 6).max(1);
        let secrets: Vec<Vec<u8>> = self
            .secrets
            .iter()
            .map(|s| bytes(&s[..s.len().min(MAX_SECRET_LEN)]))
            .filter(|s| s.len() >= min_len)
            .take(MAX_SECRETS)
            .collect();
        let replacement = match &self.replacement {
            Replacement::Default => logmask::DEFAULT_REPLACEMENT.as_bytes().to_vec(),
            Replacement::Empty => Vec::new(),
            Replacement::Bytes(b) => b[..b.len().min(MAX_REPLACEMENT)].to_vec(),
        };
        let mut input = Vec::new();
        for piece in &self.input {
            match piece {
                Piece::Text(text) => input.extend(text.iter().map(|s| s.0)),
                Piece::Secret { .. } if secrets.is_empty() => {}
                &Piece::Secret {
                    secret,
                    front,
                    back,
                } => {
                    let s = &secrets[usize::from(secret) % secrets.len()];
                    input.extend_from_slice(cut(s, front, back));
                }
                Piece::Variant { .. } if secrets.is_empty() => {}
                &Piece::Variant {
                    secret,
                    which,
                    front,
                    back,
                } => {
                    let s = &secrets[usize::from(secret) % secrets.len()];
                    let variants = naive::variants(s, 1, Rules::ALL);
                    if !variants.is_empty() {
                        let v = &variants[usize::from(which) % variants.len()];
                        input.extend_from_slice(cut(v, front, back));
                    }
                }
                &Piece::Token { shape, len, seed } => {
                    let (prefix, class, min) =
                        naive::TOKENS[usize::from(shape) % naive::TOKENS.len()];
                    let class = class.as_bytes();
                    input.extend_from_slice(prefix.as_bytes());
                    let len = min.saturating_sub(3) + usize::from(len % 7);
                    input
                        .extend((0..len).map(|i| class[(usize::from(seed) + i * 7) % class.len()]));
                }
            }
        }
        input.truncate(MAX_INPUT);

        let reference = Reference::new(&secrets, min_len, self.rules.rules());
        let refused = reference
            .patterns
            .iter()
            .any(|p| replacement.windows(p.len()).any(|w| w == p.as_slice()));
        let mut builder = Secrets::builder();
        builder.min_len(min_len).replacement(&replacement);
        self.rules.apply(&mut builder);
        for s in &secrets {
            builder.add(s);
        }
        let compiled = match builder.build() {
            Ok(compiled) => {
                assert!(!refused, "accepted a secret inside the replacement");
                compiled
            }
            Err(err) => {
                assert!(refused, "refused a valid set: {err}");
                assert!(err.is_in_replacement(), "wrong error: {err}");
                return None;
            }
        };
        let expected = reference.mask(&input, &replacement);
        Some(Prepared {
            secrets,
            min_len,
            replacement,
            input,
            compiled: Arc::new(compiled),
            reference,
            expected,
        })
    }
}

/// `s` without its first `front` and last `back` bytes; a cut longer than `s` cuts nothing.
fn cut(s: &[u8], front: u8, back: u8) -> &[u8] {
    let cut = |n: u8| Some(usize::from(n)).filter(|&n| n <= s.len());
    let a = cut(front).unwrap_or(0);
    let b = (s.len() - cut(back).unwrap_or(0)).max(a);
    &s[a..b]
}

impl Case {
    /// The case as the concrete values a regression test needs (see `examples/replay.rs`).
    pub fn describe(&self) -> String {
        let lit = |b: &[u8]| format!("b\"{}\"", b.escape_ascii());
        let Some(p) = self.prepare() else {
            return "secrets refused: one occurs inside the replacement".into();
        };
        let secrets: Vec<String> = p.secrets.iter().map(|s| lit(s)).collect();
        format!(
            "secrets:     [{}]\nmin_len:     {}\nrules:       {:?}\nreplacement: {}\ninput:       {}\nchunk sizes: {:?} (cycled, see chunks())\nexpected:    {}",
            secrets.join(", "),
            p.min_len,
            self.rules,
            lit(&p.replacement),
            lit(&p.input),
            self.chunks,
            lit(&p.expected),
        )
    }
}

/// Streams the case through a [`Masker`], checking the output and the hold-back after every
/// chunk, then the whole input again in one chunk with the same (finished) masker.
///
/// # Panics
///
/// On any disagreement with the reference.
pub fn check(case: &Case) {
    let Some(p) = case.prepare() else { return };
    let mut oracle = Oracle::new(&p);
    let mut masker = Masker::new(Arc::clone(&p.compiled));
    let mut out = Vec::new();
    let mut consumed = 0;
    for chunk in chunks(&p.input, &case.chunks) {
        masker.mask(chunk, |piece| out.extend_from_slice(piece));
        consumed += chunk.len();
        oracle.after_chunk(consumed, &masker, &out);
    }
    assert_eq!(
        oracle.start,
        p.input.len() - p.reference.held(&p.input),
        "the hold-back found incrementally differs from the whole input's"
    );
    masker.finish(|piece| out.extend_from_slice(piece));
    assert_same(&out, &p.expected, "streamed output");
    assert_eq!(masker.held_back(), 0, "finish left bytes held back");
    assert!(!masker.is_mask_pending(), "finish left a mask pending");

    // `finish` resets the masker for a new stream.
    out.clear();
    masker.mask(&p.input, |piece| out.extend_from_slice(piece));
    masker.finish(|piece| out.extend_from_slice(piece));
    assert_same(&out, &p.expected, "output of the reused masker");
}

/// Panics with both texts escaped if `got != want`.
pub fn assert_same(got: &[u8], want: &[u8], what: &str) {
    assert!(
        got == want,
        "{what} differs from the reference\n got: \"{}\"\nwant: \"{}\"",
        got.escape_ascii(),
        want.escape_ascii()
    );
}

/// What SPEC §3 says a masker must have emitted and held back after each prefix of the input.
///
/// Let `p` be the start of the longest suffix of the input so far that a later byte could
/// complete into a pattern or a shortest token ([`Reference::held`]). An occurrence starting
/// before `p` has ended, and a token starting before `p` is complete or ended (otherwise a
/// longer such suffix would exist), so the masked ranges before `p` are those of the whole
/// input. The masker holds `input[p..]`, and it has emitted exactly the whole input's output
/// for the bytes before `q`, where `q` is the start of the masked run that covers
/// `input[p - 1]` (a later occurrence starting at `p`, or more token body, would touch it, so
/// its replacement waits), or `p` if none does.
struct Oracle<'a> {
    reference: &'a Reference,
    input: &'a [u8],
    expected: &'a [u8],
    /// The set's `max_len`: the hold-back is always shorter.
    bound: usize,
    /// `covered[i]`: `input[i]` lies in a masked range.
    covered: Vec<bool>,
    /// For a covered byte, where its masked run begins.
    run_start: Vec<usize>,
    /// `before[i]`, for `i` at the start of a run, an uncovered byte or the end: the length of
    /// the output for `input[..i]`.
    before: Vec<usize>,
    /// The output checked against the reference so far.
    checked: usize,
    /// `p` after the last chunk. It never decreases: a suffix that could still grow stays
    /// one when its last byte is removed, so the longest one after more input starts no
    /// earlier. [`Reference::held`] is therefore asked about `input[start..]` only, which
    /// keeps a stream of one-byte chunks linear; `check` compares with the whole input once.
    start: usize,
}

impl<'a> Oracle<'a> {
    fn new(p: &'a Prepared) -> Self {
        let n = p.input.len();
        let mut covered = vec![false; n];
        for (s, e) in p.reference.ranges(&p.input) {
            covered[s..e].iter_mut().for_each(|c| *c = true);
        }
        let mut run_start = vec![0; n];
        let mut before = vec![0; n + 1];
        let mut len = 0;
        for i in 0..n {
            before[i] = len;
            if !covered[i] {
                len += 1;
            } else if i == 0 || !covered[i - 1] {
                len += p.replacement.len();
                run_start[i] = i;
            } else {
                run_start[i] = run_start[i - 1];
            }
        }
        before[n] = len;
        assert_eq!(
            len,
            p.expected.len(),
            "the oracle disagrees with Reference::mask"
        );
        Oracle {
            reference: &p.reference,
            input: &p.input,
            expected: &p.expected,
            bound: p.compiled.max_len().max(1),
            covered,
            run_start,
            before,
            checked: 0,
            start: 0,
        }
    }

    /// The start of the longest suffix of `input[..len]` that could still grow into a masked
    /// range; `len` is at least the `len` of the previous call.
    fn held_start(&mut self, len: usize) -> usize {
        self.start = len - self.reference.held(&self.input[self.start..len]);
        self.start
    }

    /// Checks the masker and its output after it accepted `input[..len]`.
    fn after_chunk(&mut self, len: usize, masker: &Masker, out: &[u8]) {
        let p = self.held_start(len);
        assert!(
            masker.held_back() < self.bound,
            "holds back {} bytes, the set's max_len is {}",
            masker.held_back(),
            self.bound
        );
        assert_eq!(
            masker.held_back(),
            len - p,
            "after {len} bytes: held back {}, the longest suffix that could grow is {}",
            masker.held_back(),
            len - p
        );
        let pending = p > 0 && self.covered[p - 1];
        assert_eq!(
            masker.is_mask_pending(),
            pending,
            "after {len} bytes: is_mask_pending"
        );
        let q = if pending { self.run_start[p - 1] } else { p };
        let want = &self.expected[..self.before[q]];
        assert!(
            out.len() == want.len() && out[self.checked..] == want[self.checked..],
            "after {len} bytes: emitted \"{}\", want \"{}\"",
            out.escape_ascii(),
            want.escape_ascii()
        );
        self.checked = out.len();
    }
}
