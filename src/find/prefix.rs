//! The hold-back index of the exact finder: which suffix of a text could still begin one of
//! the patterns.

use super::filter::{cell_starts, mix, BitSet, Filter};
use super::patterns::Patterns;

/// Tables over a sorted list of patterns that tell, for a probe, whether some pattern is
/// longer than it and starts with it.
pub(crate) struct Prefixes {
    /// `first[b]`: some pattern longer than 1 starts with byte `b`.
    first: [bool; 256],
    /// Bit `a + 256 * b`: some pattern longer than 2 starts with bytes `a`, `b`.
    pairs: BitSet,
    /// The first 3 bytes of the patterns longer than 3 and the first 4 bytes of those longer
    /// than 4 ([`start_key`]s): most such strings begin no pattern.
    starts: Filter,
    /// The first 8 bytes of each pattern, zero-padded, as big-endian numbers: sorted too.
    heads: Box<[u64]>,
    /// `directory[k]..directory[k + 1]`: where in `heads` those whose top bits are `k` are,
    /// for `2^directory_bits` values of `k` (at most 2^16: the first two bytes).
    directory: Box<[u32]>,
    /// `64 - directory_bits`.
    directory_shift: u32,
    /// The length of the longest pattern.
    max_len: usize,
}

impl Prefixes {
    /// The tables for `patterns`, sorted and distinct.
    pub(crate) fn new(patterns: &Patterns) -> Prefixes {
        let mut first = [false; 256];
        let mut pairs = BitSet::new(1 << 16);
        for p in patterns.iter().filter(|p| p.len() > 1) {
            first[usize::from(p[0])] = true;
            if p.len() > 2 {
                pairs.insert(pair(p));
            }
        }
        let heads: Box<[u64]> = patterns.iter().map(head).collect();
        // About one pattern per directory cell.
        let directory_bits = heads.len().max(1).ilog2().clamp(4, 16);
        let directory = cell_starts(heads.iter().copied(), directory_bits);
        let mut starts = Filter::empty(
            (patterns.len() * 16)
                .next_power_of_two()
                .clamp(1 << 12, 1 << 21),
        );
        for p in patterns.iter() {
            for n in (3..p.len()).take(2) {
                starts.insert(start_key(&p[..n]));
            }
        }
        Prefixes {
            first,
            pairs,
            starts,
            heads,
            directory: directory.into_boxed_slice(),
            directory_shift: 64 - directory_bits,
            max_len: patterns.iter().map(|p| p.len()).max().unwrap_or(0),
        }
    }

    /// Heap bytes used by the tables.
    pub(crate) fn memory_usage(&self) -> usize {
        self.pairs.len() / 8
            + self.starts.memory_usage()
            + self.heads.len() * 8
            + self.directory.len() * 4
    }

    /// The smallest `i` such that `tail[i..]` is a proper prefix of one of `patterns` (those
    /// the tables were made of): the start of the longest suffix of `tail` that a later byte
    /// could still complete into a match. Returns `tail.len()` where no non-empty suffix
    /// qualifies.
    pub(crate) fn held_start(&self, patterns: &Patterns, tail: &[u8]) -> usize {
        let from = tail.len().saturating_sub(self.max_len.saturating_sub(1));
        // The quick tables' verdicts on up to 64 positions first, with no branch between
        // their memory accesses; then the exact test, in order, where they allow it.
        for block in (from..tail.len()).step_by(64) {
            let end = tail.len().min(block + 64);
            let mut maybe = 0u64;
            for i in block..end {
                maybe |= u64::from(self.may_begin(&tail[i..])) << (i - block);
            }
            while maybe != 0 {
                let i = block + maybe.trailing_zeros() as usize;
                if self.is_proper_prefix(patterns, &tail[i..]) {
                    return i;
                }
                maybe &= maybe - 1;
            }
        }
        tail.len()
    }

    /// Whether `probe` (not empty) passes the tables of first bytes: false if no pattern
    /// longer than it starts with it.
    #[inline(always)]
    fn may_begin(&self, probe: &[u8]) -> bool {
        match probe.len() {
            1 => self.first[usize::from(probe[0])],
            2 => self.pairs.contains(pair(probe)),
            n => {
                let start = &probe[..n.min(4)];
                self.first[usize::from(probe[0])] & self.starts.contains(start_key(start))
            }
        }
    }

    /// Whether some pattern is longer than `probe` (not empty) and starts with it.
    fn is_proper_prefix(&self, patterns: &Patterns, probe: &[u8]) -> bool {
        if !self.may_begin(probe) {
            return false;
        }
        if probe.len() <= 2 {
            // The tables are exact for one and two bytes.
            return true;
        }
        // The patterns starting with `probe` have heads in `lo..=hi`, at `from..to`.
        let lo = head(probe);
        let hi = lo | u64::MAX.checked_shr(8 * probe.len() as u32).unwrap_or(0);
        // Their top bits are those of `lo` (a probe has at least 3 bytes).
        let k = (lo >> self.directory_shift) as usize;
        let cell = self.directory[k] as usize..self.directory[k + 1] as usize;
        let from = cell.start + self.heads[cell.clone()].partition_point(|&h| h < lo);
        let to = from + self.heads[from..cell.end].partition_point(|&h| h <= hi);
        // Patterns extending `probe` sort right after it and before anything else greater.
        let i = patterns.partition_point(from..to, |p| p <= probe);
        i < to && patterns[i].starts_with(probe)
    }
}

/// The first 16 bytes of `p`, zero-padded, as a big-endian number: where two differ, the
/// byte strings compare the same way.
#[inline]
pub(crate) fn key16(p: &[u8]) -> u128 {
    if let Some(word) = p.first_chunk::<16>() {
        return u128::from_be_bytes(*word);
    }
    let mut word = [0; 16];
    let n = p.len().min(16);
    word[..n].copy_from_slice(&p[..n]);
    u128::from_be_bytes(word)
}

/// The first 8 bytes of `p`, zero-padded, as a big-endian number: ordered as the byte strings.
fn head(p: &[u8]) -> u64 {
    (key16(p) >> 64) as u64
}

/// The first two bytes of `p` as a number below 2^16.
fn pair(p: &[u8]) -> usize {
    usize::from(p[0]) | usize::from(p[1]) << 8
}

/// The key of `start` (3 or 4 bytes) in [`Prefixes`]'s `starts`.
fn start_key(start: &[u8]) -> u64 {
    // Padded with 0xff; no copy of a variable length (a call, and a stall reading it back).
    let word = match *start {
        [a, b, c] => [a, b, c, 0xff, 0xff, 0xff, 0xff, 0xff],
        [a, b, c, d] => [a, b, c, d, 0xff, 0xff, 0xff, 0xff],
        _ => unreachable!("3 or 4 bytes"),
    };
    mix(u64::from_le_bytes(word))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sorted(patterns: &[&str]) -> Vec<Box<[u8]>> {
        let mut p: Vec<Box<[u8]>> = patterns.iter().map(|p| p.as_bytes().into()).collect();
        p.sort();
        p
    }

    /// The naive answer: the first position whose suffix is a proper prefix of a pattern.
    fn naive(patterns: &[Box<[u8]>], tail: &[u8]) -> usize {
        (0..tail.len())
            .find(|&i| {
                patterns
                    .iter()
                    .any(|p| p.len() > tail.len() - i && p.starts_with(&tail[i..]))
            })
            .unwrap_or(tail.len())
    }

    #[test]
    fn held_start_is_the_longest_proper_prefix_suffix() {
        let patterns = sorted(&["abcdefgh", "bcdexxxxxxxx", "zz", "abcdefghijkl"]);
        let stored = Patterns::new(patterns.iter().map(|p| &**p));
        let index = Prefixes::new(&stored);
        for tail in [
            &b""[..],
            b"x",
            b"xa",
            b"xab",
            b"xabcdefgh",
            b"xabcdefghijk",
            b"xabcdefghijkl",
            b"..bcde",
            b"..z",
            b"..zz",
            b"abcdefgh-",
        ] {
            assert_eq!(
                index.held_start(&stored, tail),
                naive(&patterns, tail),
                "{:?}",
                String::from_utf8_lossy(tail)
            );
        }
    }
}
