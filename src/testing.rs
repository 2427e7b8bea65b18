//! What the unit tests of several modules share: oracles and a generator.

use crate::find::Range;

/// Every occurrence of each of `patterns` in `hay`, overlapping ones included, found by
/// brute force.
pub(crate) fn occurrences(patterns: &[Vec<u8>], hay: &[u8]) -> Vec<Range> {
    (0..hay.len())
        .flat_map(|s| {
            patterns
                .iter()
                .filter(move |p| hay[s..].starts_with(p))
                .map(move |p| (s, s + p.len()))
        })
        .collect()
}

/// The maximal unions of `ranges` (in any order): ranges that overlap or touch merge.
pub(crate) fn unions(mut ranges: Vec<Range>) -> Vec<Range> {
    ranges.sort_unstable();
    let mut out: Vec<Range> = Vec::new();
    for (s, e) in ranges {
        match out.last_mut() {
            Some(last) if s <= last.1 => last.1 = last.1.max(e),
            _ => out.push((s, e)),
        }
    }
    out
}

/// The next number of a small deterministic generator (xorshift) whose state is `seed`.
pub(crate) fn rng(seed: &mut u64) -> u64 {
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    *seed
}
