//! Target `differential`: [`Masker`] against the naive reference.
//!
//! Secrets and input come from the small [`ALPHABET`](crate::ALPHABET), so secrets overlap
//! each other and the input; the input is streamed in an arbitrary chunking (1-byte and empty
//! chunks included). The final output must equal the reference (SPEC §2), and after every chunk
//! the masker must hold back exactly what SPEC §3 allows: the longest suffix that is a proper
//! prefix of a secret (so always less than the longest secret), with everything before it
//! emitted except the replacement of a masked range that the suffix could still extend.

use std::sync::Arc;

use arbitrary::Arbitrary;
use logmask::{Masker, Secrets};

use crate::{bytes, chunks, naive, Sym};

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
                    let cut = |n: u8| Some(usize::from(n)).filter(|&n| n <= s.len());
                    let a = cut(front).unwrap_or(0);
                    let b = (s.len() - cut(back).unwrap_or(0)).max(a);
                    input.extend_from_slice(&s[a..b]);
                }
            }
        }
        input.truncate(MAX_INPUT);

        let patterns = naive::patterns(&secrets, min_len);
        let refused = patterns
            .iter()
            .any(|p| replacement.windows(p.len()).any(|w| w == p.as_slice()));
        let mut builder = Secrets::builder();
        builder.min_len(min_len).replacement(&replacement);
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
        let expected = naive::mask(&patterns, &input, &replacement);
        Some(Prepared {
            secrets,
            min_len,
            replacement,
            input,
            compiled: Arc::new(compiled),
            expected,
        })
    }
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
            "secrets:     [{}]\nmin_len:     {}\nreplacement: {}\ninput:       {}\nchunk sizes: {:?} (cycled, see chunks())\nexpected:    {}",
            secrets.join(", "),
            p.min_len,
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
/// Let `p` be the start of the longest suffix of the input so far that is a proper prefix of
/// some pattern. An occurrence starting before `p` has ended (otherwise a longer such suffix
/// would exist), so the masked ranges before `p` are those of the whole input. The masker holds
/// `input[p..]`, and it has emitted exactly the whole input's output for the bytes before `q`,
/// where `q` is the start of the masked run that covers `input[p - 1]` (a later occurrence
/// starting at `p` would touch it, so its replacement waits), or `p` if none does.
struct Oracle<'a> {
    patterns: Vec<Vec<u8>>,
    input: &'a [u8],
    expected: &'a [u8],
    max_len: usize,
    /// `covered[i]`: `input[i]` lies in an occurrence.
    covered: Vec<bool>,
    /// For a covered byte, where its masked run begins.
    run_start: Vec<usize>,
    /// `before[i]`, for `i` at the start of a run, an uncovered byte or the end: the length of
    /// the output for `input[..i]`.
    before: Vec<usize>,
    /// The output checked against the reference so far.
    checked: usize,
}

impl<'a> Oracle<'a> {
    fn new(p: &'a Prepared) -> Self {
        let patterns = naive::patterns(&p.secrets, p.min_len);
        let n = p.input.len();
        let mut covered = vec![false; n];
        for (s, e) in naive::occurrences(&patterns, &p.input) {
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
            "the oracle disagrees with naive::mask"
        );
        let max_len = patterns.iter().map(Vec::len).max().unwrap_or(0);
        Oracle {
            patterns,
            input: &p.input,
            expected: &p.expected,
            max_len,
            covered,
            run_start,
            before,
            checked: 0,
        }
    }

    /// The start of the longest suffix of `input[..len]` that is a proper prefix of a pattern.
    fn held_start(&self, len: usize) -> usize {
        let text = &self.input[..len];
        (len.saturating_sub(self.max_len.saturating_sub(1))..len)
            .find(|&i| {
                let tail = &text[i..];
                self.patterns
                    .iter()
                    .any(|p| p.len() > tail.len() && p.starts_with(tail))
            })
            .unwrap_or(len)
    }

    /// Checks the masker and its output after it accepted `input[..len]`.
    fn after_chunk(&mut self, len: usize, masker: &Masker, out: &[u8]) {
        let p = self.held_start(len);
        assert!(
            masker.held_back() < self.max_len.max(1),
            "holds back {} bytes, the longest secret is {}",
            masker.held_back(),
            self.max_len
        );
        assert_eq!(
            masker.held_back(),
            len - p,
            "after {len} bytes: held back {}, the longest suffix that begins a secret is {}",
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
