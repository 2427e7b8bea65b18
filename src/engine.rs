//! The search engine behind a compiled secret set: finds candidate matches fast, lists the
//! occurrences around them, and tells how much of a tail could still begin a secret.

use aho_corasick::{AhoCorasick, AhoCorasickKind, Input, MatchKind};

/// A compiled, immutable set of byte patterns.
pub(crate) struct Engine {
    /// Standard (earliest-ending) semantics: its non-overlapping matches are candidates, and
    /// its overlapping search lists every occurrence in a window.
    ac: AhoCorasick,
    /// The distinct patterns, sorted, for prefix look-ups.
    sorted: Vec<Box<[u8]>>,
    /// `first[b]`: some pattern starts with byte `b`.
    first: [bool; 256],
    /// Length of the longest pattern; 0 for an empty set.
    max_len: usize,
}

impl Engine {
    /// Compiles `patterns` (deduplicated and non-empty).
    pub(crate) fn new(mut patterns: Vec<Box<[u8]>>) -> Engine {
        patterns.sort_unstable();
        patterns.dedup();
        let mut first = [false; 256];
        for p in &patterns {
            first[p[0] as usize] = true;
        }
        let max_len = patterns.iter().map(|p| p.len()).max().unwrap_or(0);
        let kind = if patterns.len() <= 100 {
            AhoCorasickKind::DFA
        } else {
            AhoCorasickKind::ContiguousNFA
        };
        let ac = AhoCorasick::builder()
            .match_kind(MatchKind::Standard)
            .kind(Some(kind))
            .build(&patterns)
            .expect("a set of literal patterns of bounded size always compiles");
        Engine {
            ac,
            sorted: patterns,
            first,
            max_len,
        }
    }

    /// The number of distinct patterns.
    pub(crate) fn len(&self) -> usize {
        self.sorted.len()
    }

    /// Length of the longest pattern (0 when there are none).
    pub(crate) fn max_len(&self) -> usize {
        self.max_len
    }

    /// Heap bytes used by the automaton and the pattern table.
    pub(crate) fn memory_usage(&self) -> usize {
        self.ac.memory_usage()
            + self.sorted.capacity() * std::mem::size_of::<Box<[u8]>>()
            + self.sorted.iter().map(|p| p.len()).sum::<usize>()
    }

    /// Calls `f(start, end)` for a sequence of non-overlapping occurrences in `hay`, in
    /// order, such that every occurrence in `hay` overlaps one of them.
    #[inline]
    pub(crate) fn for_each_candidate(&self, hay: &[u8], mut f: impl FnMut(usize, usize)) {
        for m in self.ac.find_iter(hay) {
            f(m.start(), m.end());
        }
    }

    /// Calls `f(start, end)` for every occurrence lying inside `hay[from..to]`, overlapping
    /// ones included, in order of their end.
    #[inline]
    pub(crate) fn for_each_occurrence(
        &self,
        hay: &[u8],
        from: usize,
        to: usize,
        mut f: impl FnMut(usize, usize),
    ) {
        for m in self
            .ac
            .find_overlapping_iter(Input::new(hay).range(from..to))
        {
            f(m.start(), m.end());
        }
    }

    /// The smallest `i` such that `tail[i..]` is a proper prefix of some pattern: the start of
    /// the longest suffix of `tail` that a later byte could still complete into a match.
    /// Returns `tail.len()` where no non-empty suffix qualifies.
    pub(crate) fn held_start(&self, tail: &[u8]) -> usize {
        let from = tail.len().saturating_sub(self.max_len.saturating_sub(1));
        (from..tail.len())
            .find(|&i| self.first[tail[i] as usize] && self.is_proper_prefix(&tail[i..]))
            .unwrap_or(tail.len())
    }

    /// Whether some pattern is longer than `probe` and starts with it.
    fn is_proper_prefix(&self, probe: &[u8]) -> bool {
        // Patterns extending `probe` sort right after it and before anything else greater.
        let i = self.sorted.partition_point(|p| &**p <= probe);
        self.sorted.get(i).is_some_and(|p| p.starts_with(probe))
    }
}
