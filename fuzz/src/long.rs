//! Target `long`: long and self-overlapping secrets (past 64 bytes, a short period), which
//! logmask matches with their own matchers at the chunk edge, among short ones, fed runs of
//! their own prefix; checked as [`differential`](crate::differential) checks, after every
//! chunk.

use std::sync::Arc;

use arbitrary::Arbitrary;
use logmask::Secrets;

use crate::differential::{check_prepared, Prepared, RuleSet};
use crate::naive::Reference;
use crate::{bytes, Sym};

/// Longer inputs are cut to this length.
const MAX_INPUT: usize = 4096;

/// The input of the `long` target.
#[derive(Arbitrary, Clone, Debug, PartialEq)]
pub struct LongCase {
    /// The long secrets (the first 3 are used): `unit` (cut to 4 symbols, not empty)
    /// repeated to `65 + len % 64` bytes, then `tail` (cut to 3).
    pub long: Vec<(Vec<Sym>, u8, Vec<Sym>)>,
    /// Short secrets beside them (the first 2, cut to 12, those of 8 or more bytes).
    pub short: Vec<Vec<Sym>>,
    /// The input, piece by piece, cut to 4096 bytes.
    pub input: Vec<Piece>,
    /// Chunk sizes, cycled (see [`chunks`](crate::chunks)).
    pub chunks: Vec<u8>,
    /// The rules the secrets are masked under.
    pub rules: RuleSet,
}

/// A piece of the input.
#[derive(Arbitrary, Clone, Debug, PartialEq)]
pub enum Piece {
    /// These bytes.
    Text(Vec<Sym>),
    /// Secret number `secret % n` repeated to `len` bytes: a run of its own prefix.
    Run {
        /// Which secret.
        secret: u8,
        /// How long.
        len: u8,
    },
}

/// Makes the case concrete.
fn prepare(case: &LongCase) -> Option<Prepared> {
    let min_len = 8;
    let mut secrets: Vec<Vec<u8>> = case
        .long
        .iter()
        .filter(|(unit, _, _)| !unit.is_empty())
        .take(3)
        .map(|(unit, len, tail)| {
            let unit = bytes(&unit[..unit.len().min(4)]);
            let mut s: Vec<u8> = unit
                .iter()
                .copied()
                .cycle()
                .take(65 + usize::from(len % 64))
                .collect();
            s.extend_from_slice(&bytes(&tail[..tail.len().min(3)]));
            s
        })
        .collect();
    secrets.extend(
        case.short
            .iter()
            .map(|s| bytes(&s[..s.len().min(12)]))
            .filter(|s| s.len() >= min_len)
            .take(2),
    );
    if secrets.is_empty() {
        return None;
    }
    let mut input = Vec::new();
    for piece in &case.input {
        match *piece {
            Piece::Text(ref text) => input.extend_from_slice(&bytes(text)),
            Piece::Run { secret, len } => {
                let s = &secrets[usize::from(secret) % secrets.len()];
                input.extend(s.iter().copied().cycle().take(usize::from(len) * 2));
            }
        }
    }
    input.truncate(MAX_INPUT);
    let replacement = logmask::DEFAULT_REPLACEMENT.as_bytes().to_vec();
    let reference = Reference::new(&secrets, min_len, case.rules.rules());
    let mut builder = Secrets::builder();
    builder.min_len(min_len);
    case.rules.apply(&mut builder);
    for s in &secrets {
        builder.add(s);
    }
    // The alphabet cannot spell the replacement, so every set is valid.
    let compiled = Arc::new(builder.build().expect("a valid set"));
    let expected = reference.mask(&input, &replacement);
    Some(Prepared {
        secrets,
        min_len,
        replacement,
        input,
        compiled,
        reference,
        expected,
    })
}

/// Streams the case through a `Masker` and checks it as the `differential` target does.
///
/// # Panics
///
/// On any disagreement with the reference.
pub fn check(case: &LongCase) {
    if let Some(p) = prepare(case) {
        check_prepared(&p, &case.chunks);
    }
}
