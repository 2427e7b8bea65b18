//! Target `differential`: [`Masker`] against the naive reference.
//!
//! Secrets and input come from the small [`ALPHABET`](crate::ALPHABET), so secrets overlap
//! each other and the input; the input is streamed in an arbitrary chunking (1-byte and empty
//! chunks included). Each case masks under one [`RuleSet`]: the exact secrets only, or every
//! rule of CONTRACT §4 (encoded variants, token shapes); the input then also has pieces that are
//! encoded variants of a secret and tokens near their shortest length. The final output must
//! equal the reference (CONTRACT §2, §4), and after every chunk the masker must hold back exactly
//! what CONTRACT §3 allows: the longest suffix that a later byte could complete into a pattern or
//! a shortest token (so always less than [`Secrets::max_len`]), with everything before it
//! emitted except the replacement of a masked range that the suffix could still extend.

use std::sync::Arc;

use arbitrary::Arbitrary;
use logmask::{MaskedBy, Masker, OriginCounts, Secrets};

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

/// Which rules of CONTRACT §4 a case's secrets are compiled with.
#[derive(Arbitrary, Clone, Copy, Debug, PartialEq)]
pub enum RuleSet {
    /// The exact secrets only: `Encodings::NONE`, no token shapes.
    Exact,
    /// Every encoding, the token shapes and the structured credentials.
    All,
}

impl RuleSet {
    /// The reference's rules.
    pub fn rules(self) -> Rules {
        match self {
            RuleSet::Exact => Rules::NONE,
            RuleSet::All => Rules::EVERY,
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
        builder
            .encodings(encodings)
            .token_shapes(all)
            .structured_credentials(all);
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
    /// A token of shape number `shape % naive::TOKENS.len()` (55): its prefix and a body of the
    /// shortest length minus 3 plus `len % 7` bytes of its class, picked from `seed` on.
    Token {
        /// Which shape.
        shape: u8,
        /// The body's length, around the shortest one.
        len: u8,
        /// Where in the class the body's bytes start.
        seed: u8,
    },
    /// Piece number `which % CREDENTIALS.len()` of a structured credential or a near-miss
    /// (keywords whole and cut, separators, PEM lines), followed by `run * 3 / 2` bytes of
    /// `fill` (runs that cross the forms' bounds).
    Credential {
        /// Which piece.
        which: u8,
        /// How long a run follows.
        run: u8,
        /// The run's byte.
        fill: Sym,
    },
    /// Secret number `secret % n` after `before % 80` bytes of `x`, base64-encoded (standard
    /// alphabet) and wrapped at 76 columns if `form & 1`, else 64, with `\r\n` if
    /// `form & 2`, else `\n`; on a line of its own.
    Wrapped {
        /// Which secret.
        secret: u8,
        /// Bytes before it in the encoded blob (its alignment and column).
        before: u8,
        /// Width and line end.
        form: u8,
    },
    /// Secret number `secret % n` percent-encoded with upper-case hex, the digits of escape
    /// `i` in lower case where bit `i % 8` of `case` is set.
    MixedCase {
        /// Which secret.
        secret: u8,
        /// Which escapes are lower case.
        case: u8,
    },
}

/// The pieces of [`Piece::Credential`].
pub const CREDENTIALS: &[&str] = &[
    "://",
    "https://u:",
    "p@",
    "@h/",
    ":",
    "@",
    "token=",
    "Private_TOKEN=",
    "tok",
    "=",
    "&",
    "#",
    "\t",
    "\"",
    "sig=",
    "X-Amz-Credential=",
    "password",
    "Authorization:",
    "proxy-authorization: ",
    "Bearer ",
    "authoriz",
    "-----BEGIN ",
    "-----BEGIN RSA PRIVATE KEY-----\n",
    "PRIVATE KEY-----",
    "-----END ",
    "-----END PRIVATE KEY-----",
    "CERTIFICATE-----",
    "-----",
    "AB0",
];

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
            piece.append(&secrets, &mut input);
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

impl Piece {
    /// Appends the piece's bytes to `input`; its secrets are picked from `secrets`.
    pub fn append(&self, secrets: &[Vec<u8>], input: &mut Vec<u8>) {
        match self {
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
                let (prefix, class, min, _) =
                    naive::TOKENS[usize::from(shape) % naive::TOKENS.len()];
                let class = class.as_bytes();
                input.extend_from_slice(prefix.as_bytes());
                let len = min.saturating_sub(3) + usize::from(len % 7);
                input.extend((0..len).map(|i| class[(usize::from(seed) + i * 7) % class.len()]));
            }
            &Piece::Credential { which, run, fill } => {
                let piece = CREDENTIALS[usize::from(which) % CREDENTIALS.len()];
                input.extend_from_slice(piece.as_bytes());
                input.extend(std::iter::repeat_n(fill.0, usize::from(run) * 3 / 2));
            }
            Piece::Wrapped { .. } | Piece::MixedCase { .. } if secrets.is_empty() => {}
            &Piece::Wrapped {
                secret,
                before,
                form,
            } => {
                let s = &secrets[usize::from(secret) % secrets.len()];
                let blob = [&vec![b'x'; usize::from(before % 80)][..], s].concat();
                let width = if form & 1 == 1 { 76 } else { 64 };
                let eol: &[u8] = if form & 2 == 2 { b"\r\n" } else { b"\n" };
                input.push(b'\n');
                for line in naive::base64(&blob, naive::STANDARD).chunks(width) {
                    input.extend_from_slice(line);
                    input.extend_from_slice(eol);
                }
            }
            &Piece::MixedCase { secret, case } => {
                let s = &secrets[usize::from(secret) % secrets.len()];
                let mut escape = 0;
                let mut lower = 0;
                for b in naive::percent(s, false) {
                    if b == b'%' {
                        lower = if case >> (escape % 8) & 1 == 1 { 2 } else { 0 };
                        escape += 1;
                        input.push(b);
                    } else if lower > 0 {
                        lower -= 1;
                        input.push(b.to_ascii_lowercase());
                    } else {
                        input.push(b);
                    }
                }
            }
        }
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
    if let Some(p) = case.prepare() {
        check_prepared(&p, &case.chunks);
    }
}

/// The checks of [`check`], for a case made concrete, streamed in chunks of `sizes`.
///
/// # Panics
///
/// On any disagreement with the reference.
pub fn check_prepared(p: &Prepared, sizes: &[u8]) {
    let oracle = Oracle::new(&p.reference.ranges(&p.input), &p.input, &p.replacement);
    assert_same(&oracle.expected, &p.expected, "the oracle's output");
    let mut held = Held::default();
    let mut masker = Masker::new(Arc::clone(&p.compiled));
    // Counting by origin changes no output, and counts each replacement once.
    let counts = OriginCounts::new();
    masker.count_origins(&counts);
    let mut replacements = 0;
    let bound = p.compiled.max_len().max(1);
    let mut out = Vec::new();
    let mut consumed = 0;
    let mut checked = 0;
    for chunk in chunks(&p.input, sizes) {
        masker.mask(chunk, |piece| {
            replacements += u64::from(matches!(piece, logmask::Piece::Replacement(_)));
            out.extend_from_slice(&piece);
        });
        consumed += chunk.len();
        let start = held.after_chunk(&p.reference, &p.input[..consumed], &masker, bound);
        oracle.check_emitted(consumed, start, masker.is_mask_pending(), &out, checked);
        checked = out.len();
        assert_eq!(masker.total_in(), consumed as u64, "bytes in");
        assert_eq!(masker.total_out(), out.len() as u64, "bytes out");
    }
    held.check_whole(&p.reference, &p.input);
    masker.finish(|piece| {
        replacements += u64::from(matches!(piece, logmask::Piece::Replacement(_)));
        out.extend_from_slice(&piece);
    });
    assert_same(&out, &p.expected, "streamed output");
    assert_eq!(counts.ranges(), replacements, "ranges counted by origin");
    // The exact rules (every other case has the token shapes on).
    if !p.reference.shapes {
        assert_eq!(counts.get(), origins(p), "counts by origin");
    }
    assert_eq!(masker.total_out(), out.len() as u64, "bytes out at the end");
    assert_eq!(
        masker.masked(),
        merged(p.reference.ranges(&p.input)),
        "masked ranges"
    );
    assert_eq!(masker.held_back(), 0, "finish left bytes held back");
    assert!(!masker.is_mask_pending(), "finish left a mask pending");

    // `finish` resets the masker for a new stream.
    out.clear();
    masker.mask(&p.input, |piece| out.extend_from_slice(&piece));
    masker.finish(|piece| out.extend_from_slice(&piece));
    assert_same(&out, &p.expected, "output of the reused masker");
}

/// The reference's counts by origin under the exact rules: each merged range counts once for
/// each secret (by position) with an occurrence in it.
fn origins(p: &Prepared) -> Vec<(MaskedBy, u64)> {
    let mut all = Vec::new();
    for (i, s) in p.secrets.iter().enumerate() {
        let patterns = naive::patterns(std::slice::from_ref(s), p.min_len);
        all.extend(
            naive::occurrences(&patterns, &p.input)
                .into_iter()
                .map(|r| (r, i)),
        );
    }
    all.sort();
    let mut counts = std::collections::BTreeMap::new();
    let mut k = 0;
    while k < all.len() {
        let mut end = all[k].0 .1;
        let mut members = Vec::new();
        while k < all.len() && all[k].0 .0 <= end {
            end = end.max(all[k].0 .1);
            members.push(all[k].1);
            k += 1;
        }
        members.sort_unstable();
        members.dedup();
        for i in members {
            *counts
                .entry(MaskedBy::Secret(format!("secret #{i}").into()))
                .or_insert(0) += 1;
        }
    }
    counts.into_iter().collect()
}

/// The number of maximal unions of `ranges`, overlapping or touching ones merged.
fn merged(mut ranges: Vec<(usize, usize)>) -> u64 {
    ranges.sort_unstable();
    let (mut count, mut end) = (0, None);
    for (s, e) in ranges {
        match end {
            Some(x) if s <= x => end = Some(e.max(x)),
            _ => {
                count += 1;
                end = Some(e);
            }
        }
    }
    count
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

/// The minimal hold-back of CONTRACT §3 after each chunk: the start `p` of the longest suffix of
/// the input so far that a later byte could complete into a pattern or a shortest token
/// ([`Reference::held`]).
///
/// `p` never decreases: a suffix that could still grow stays one when its last byte is
/// removed, so the longest one after more input starts no earlier; and bytes emitted are
/// never held again, so with a set that changes between chunks (a registry) the new set can
/// only hold part of what the old one held. [`Reference::held`] is therefore asked about the
/// input from the last `p` on only, which keeps a stream of one-byte chunks linear;
/// [`Held::check_whole`] compares with the whole input once.
#[derive(Default)]
pub struct Held {
    /// `p` after the last chunk.
    pub start: usize,
}

impl Held {
    /// Checks the masker's hold-back after it accepted `text` (the input so far) and applied
    /// `reference`'s set to the last chunk; returns `p`.
    ///
    /// # Panics
    ///
    /// If the masker holds back more or less than the reference, or `bound` bytes or more.
    pub fn after_chunk(
        &mut self,
        reference: &Reference,
        text: &[u8],
        masker: &Masker,
        bound: usize,
    ) -> usize {
        let len = text.len();
        self.start = len - reference.held_from(text, self.start);
        assert!(
            masker.held_back() < bound,
            "holds back {} bytes, the set's max_len is {bound}",
            masker.held_back(),
        );
        assert_eq!(
            masker.held_back(),
            len - self.start,
            "after {len} bytes: held back {}, the longest suffix that could grow is {}",
            masker.held_back(),
            len - self.start
        );
        self.start
    }

    /// Checks that the last `p` is also what the reference finds in the whole `input`.
    pub fn check_whole(&self, reference: &Reference, input: &[u8]) {
        assert_eq!(
            self.start,
            input.len() - reference.held(input),
            "the hold-back found incrementally differs from the whole input's"
        );
    }
}

/// What CONTRACT §3 says a masker must have emitted after each prefix of the input, given the
/// masked ranges of the whole input and `p` ([`Held`]).
///
/// An occurrence starting before `p` has ended, and a token starting before `p` is complete
/// or ended (otherwise a longer suffix could grow), so the masked ranges before `p` are those
/// of the whole input. The masker has emitted exactly the whole input's output for the bytes
/// before `q`, where `q` is the start of the masked run that covers `input[p - 1]` (a later
/// occurrence starting at `p`, or more token body, would touch it, so its replacement waits
/// and the mask is pending), or `p` if none does.
pub struct Oracle {
    /// `covered[i]`: `input[i]` lies in a masked range.
    covered: Vec<bool>,
    /// For a covered byte, where its masked run begins.
    run_start: Vec<usize>,
    /// `before[i]`, for `i` at the start of a run, an uncovered byte or the end: the length of
    /// the output for `input[..i]`.
    before: Vec<usize>,
    /// The whole output.
    pub expected: Vec<u8>,
}

impl Oracle {
    /// The oracle for `input` with these masked ranges.
    pub fn new(ranges: &[(usize, usize)], input: &[u8], replacement: &[u8]) -> Self {
        let n = input.len();
        let mut covered = vec![false; n];
        for &(s, e) in ranges {
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
                len += replacement.len();
                run_start[i] = i;
            } else {
                run_start[i] = run_start[i - 1];
            }
        }
        before[n] = len;
        let expected = naive::mask_ranges(ranges, input, replacement);
        assert_eq!(len, expected.len(), "the oracle disagrees with mask_ranges");
        Oracle {
            covered,
            run_start,
            before,
            expected,
        }
    }

    /// Checks the masker's output `out` and `is_mask_pending` after it accepted `len` bytes
    /// and held back from `p` on; `out[..checked]` was checked before.
    ///
    /// # Panics
    ///
    /// On a difference.
    pub fn check_emitted(&self, len: usize, p: usize, pending: bool, out: &[u8], checked: usize) {
        let want_pending = p > 0 && self.covered[p - 1];
        assert_eq!(pending, want_pending, "after {len} bytes: is_mask_pending");
        let q = if want_pending {
            self.run_start[p - 1]
        } else {
            p
        };
        let want = &self.expected[..self.before[q]];
        assert!(
            out.len() == want.len() && out[checked..] == want[checked..],
            "after {len} bytes: emitted \"{}\", want \"{}\"",
            out.escape_ascii(),
            want.escape_ascii()
        );
    }
}
