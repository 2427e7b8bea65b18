//! The search engine behind a compiled secret set: finds candidate matches fast, lists the
//! occurrences around them, and tells how much of a tail could still begin a secret.
//!
//! A single pattern is found by an Aho-Corasick DFA, whose prefilter is then a SIMD substring
//! search. More patterns go to a [`Sampler`], which reads one q-gram every few bytes and
//! compares patterns only where a q-gram of some pattern appears: on CI logs it beats the
//! automaton's multi-pattern prefilter from about three patterns on (hex and base64 text
//! keeps that prefilter stopping), and it does not slow down with thousands of patterns.

use aho_corasick::{AhoCorasick, AhoCorasickKind, Input, MatchKind};

/// Up to this many patterns the automaton's own prefilter finds candidates; past it, the
/// sampled q-gram index does.
const PREFILTER_LIMIT: usize = 1;

/// A compiled, immutable set of byte patterns.
pub(crate) struct Engine {
    matcher: Matcher,
    /// The distinct patterns, sorted, for prefix look-ups.
    sorted: Vec<Box<[u8]>>,
    /// `first[b]`: some pattern starts with byte `b`.
    first: [bool; 256],
    /// Length of the longest pattern; 0 for an empty set.
    max_len: usize,
}

/// How occurrences are found.
enum Matcher {
    /// Standard (earliest-ending) semantics: its non-overlapping matches are candidates, and
    /// its overlapping search lists every occurrence in a window.
    Automaton(AhoCorasick),
    /// For large sets of patterns at least [`MIN_SAMPLED`] bytes long.
    Sampled(Sampler),
}

impl Engine {
    /// Compiles `patterns` (non-empty byte strings; duplicates are dropped).
    pub(crate) fn new(mut patterns: Vec<Box<[u8]>>) -> Engine {
        patterns.sort_unstable();
        patterns.dedup();
        let mut first = [false; 256];
        for p in &patterns {
            first[p[0] as usize] = true;
        }
        let max_len = patterns.iter().map(|p| p.len()).max().unwrap_or(0);
        let min_len = patterns.iter().map(|p| p.len()).min().unwrap_or(0);
        let sampler = (patterns.len() > PREFILTER_LIMIT)
            .then(|| Sampler::new(&patterns, min_len))
            .flatten();
        let matcher = match sampler {
            Some(sampler) => Matcher::Sampled(sampler),
            None => Matcher::Automaton(
                AhoCorasick::builder()
                    .match_kind(MatchKind::Standard)
                    .kind((patterns.len() <= PREFILTER_LIMIT).then_some(AhoCorasickKind::DFA))
                    .build(&patterns)
                    .expect("a set of literal patterns of bounded size always compiles"),
            ),
        };
        Engine {
            matcher,
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

    /// Heap bytes used by the matcher and the pattern table.
    pub(crate) fn memory_usage(&self) -> usize {
        let matcher = match &self.matcher {
            Matcher::Automaton(ac) => ac.memory_usage(),
            Matcher::Sampled(sampler) => sampler.memory_usage(),
        };
        matcher
            + self.sorted.capacity() * std::mem::size_of::<Box<[u8]>>()
            + self.sorted.iter().map(|p| p.len()).sum::<usize>()
    }

    /// Calls `f(start, end)` for a sequence of non-overlapping ranges of `hay`, in order,
    /// each an occurrence or a union of occurrences, such that every occurrence in `hay`
    /// overlaps one of them.
    #[inline]
    pub(crate) fn for_each_candidate(&self, hay: &[u8], mut f: impl FnMut(usize, usize)) {
        match &self.matcher {
            Matcher::Automaton(ac) => {
                for m in ac.find_iter(hay) {
                    f(m.start(), m.end());
                }
            }
            Matcher::Sampled(sampler) => sampler.for_each_union(hay, &self.sorted, f),
        }
    }

    /// Calls `f(start, end)` for every occurrence lying inside `hay[from..to]`, overlapping
    /// ones included.
    #[inline]
    pub(crate) fn for_each_occurrence(
        &self,
        hay: &[u8],
        from: usize,
        to: usize,
        mut f: impl FnMut(usize, usize),
    ) {
        match &self.matcher {
            Matcher::Automaton(ac) => {
                for m in ac.find_overlapping_iter(Input::new(hay).range(from..to)) {
                    f(m.start(), m.end());
                }
            }
            Matcher::Sampled(sampler) => {
                sampler
                    .for_each_occurrence(&hay[from..to], &self.sorted, |s, e| f(from + s, from + e))
            }
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

/// A sampled q-gram index over the patterns, for sets too large for the automaton's
/// prefilter.
///
/// An occurrence of a pattern at least `min_len` long that starts at `x` contains the q-gram
/// at the first position `p >= x` divisible by `stride`, at offset `p - x < stride`, and that
/// q-gram lies inside the pattern as `stride <= min_len - q + 1`. So probing one q-gram every
/// `stride` bytes against the patterns' q-grams at offsets `0..stride`, and comparing the
/// patterns listed for a q-gram that is found, finds every occurrence.
struct Sampler {
    /// The q-gram length, 4 or 6 bytes: longer q-grams are rarer in ordinary text, shorter
    /// ones allow a longer stride.
    q: usize,
    /// Keeps the low `q` bytes of a little-endian `u64`.
    gram_mask: u64,
    stride: usize,
    /// One bit per hash of a q-gram: a quick "no" for almost every probe.
    bits: Box<[u64]>,
    /// `64 - log2(bits.len() * 64)`: the bit index is the top of a multiplicative hash.
    bits_shift: u32,
    /// Open-addressed table of the distinct q-grams; an empty slot has `len == 0`.
    slots: Box<[Slot]>,
    /// `64 - log2(slots.len())`.
    slots_shift: u32,
    /// `(pattern index, offset of the q-gram in it)`, grouped by q-gram.
    entries: Box<[(u32, u32)]>,
    /// The largest offset in `entries`: an occurrence found by a probe at `at` starts at
    /// `at - horizon` or later.
    horizon: usize,
}

/// A q-gram and where its entries are.
#[derive(Clone, Copy, Default)]
struct Slot {
    gram: u64,
    first: u32,
    len: u32,
}

/// Patterns shorter than this are not sampled.
const MIN_SAMPLED: usize = 4;

/// The size of the bit filter, in bits per distinct q-gram.
const BITS_PER_GRAM: usize = 32;

/// The longest stride: more offsets per pattern fill the index faster than longer strides
/// save probes.
const MAX_STRIDE: usize = 16;

/// Up to this many patterns, 4-byte q-grams (a longer stride) rarely occur by chance; past
/// it, 6-byte ones keep chance hits rare.
const FEW_PATTERNS: usize = 4096;

#[inline(always)]
fn hash(gram: u64, shift: u32) -> usize {
    (gram.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> shift) as usize
}

impl Sampler {
    /// An index of `patterns` (sorted), whose shortest is `min_len` bytes; `None` where the
    /// patterns are too short to sample or too many to index.
    fn new(patterns: &[Box<[u8]>], min_len: usize) -> Option<Sampler> {
        if min_len < MIN_SAMPLED || u32::try_from(patterns.len()).is_err() {
            return None;
        }
        let q = if min_len >= 8 && patterns.len() > FEW_PATTERNS {
            6
        } else {
            4
        };
        let stride = (min_len + 1 - q).min(MAX_STRIDE);
        let mut sampler = Sampler {
            q,
            gram_mask: u64::MAX >> (64 - 8 * q),
            stride,
            bits: Box::default(),
            bits_shift: 0,
            slots: Box::default(),
            slots_shift: 0,
            entries: Box::default(),
            horizon: 0,
        };
        // Any `stride` consecutive offsets of a pattern will do. Tokens often share a
        // prefix (`glcbt-64_`): index each pattern at the run of offsets whose q-grams the
        // other patterns share least, so one q-gram does not list thousands of patterns.
        // How many patterns share a q-gram, roughly: counts by hash, saturating.
        let total: usize = patterns.iter().map(|p| p.len() + 1 - q).sum();
        let size = total.next_power_of_two().clamp(1 << 10, 1 << 20);
        let shift = 64 - size.trailing_zeros();
        let mut shared = vec![0u8; size];
        for p in patterns {
            for o in 0..=p.len() - q {
                let c = &mut shared[hash(sampler.gram_at(p, o), shift)];
                *c = c.saturating_add(1);
            }
        }
        let popularity = |gram: u64| usize::from(shared[hash(gram, shift)]);
        let mut entries: Vec<(u64, u32, u32)> = Vec::with_capacity(patterns.len() * stride);
        let mut counts = Vec::new();
        for (i, p) in patterns.iter().enumerate() {
            counts.clear();
            counts.extend((0..=p.len() - q).map(|o| popularity(sampler.gram_at(p, o))));
            let best = (0..=counts.len() - stride)
                .min_by_key(|&k| counts[k..k + stride].iter().sum::<usize>())
                .expect("stride <= len - q + 1");
            for offset in best..best + stride {
                entries.push((sampler.gram_at(p, offset), i as u32, offset as u32));
            }
            sampler.horizon = sampler.horizon.max(best + stride - 1);
        }
        entries.sort_unstable();
        entries.dedup();
        let grams = entries.chunk_by(|a, b| a.0 == b.0).count();
        // 32 to 64 bits per q-gram: chance hits of the filter near 2%, and the filter stays
        // small enough for the cache.
        let nbits = (grams * BITS_PER_GRAM)
            .next_power_of_two()
            .clamp(1 << 12, 1 << 28);
        let nslots = (grams * 2).next_power_of_two().max(16);
        sampler.bits = vec![0; nbits / 64].into_boxed_slice();
        sampler.bits_shift = 64 - nbits.trailing_zeros();
        sampler.slots = vec![Slot::default(); nslots].into_boxed_slice();
        sampler.slots_shift = 64 - nslots.trailing_zeros();
        sampler.entries = entries.iter().map(|&(_, i, o)| (i, o)).collect();
        let mut first = 0;
        for group in entries.chunk_by(|a, b| a.0 == b.0) {
            let gram = group[0].0;
            let h = (gram.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> sampler.bits_shift) as usize;
            sampler.bits[h / 64] |= 1 << (h % 64);
            let mut slot = hash(gram, sampler.slots_shift);
            while sampler.slots[slot].len != 0 {
                slot = (slot + 1) & (nslots - 1);
            }
            sampler.slots[slot] = Slot {
                gram,
                first,
                len: group.len() as u32,
            };
            first += group.len() as u32;
        }
        Some(sampler)
    }

    fn memory_usage(&self) -> usize {
        self.bits.len() * 8
            + self.slots.len() * std::mem::size_of::<Slot>()
            + self.entries.len() * std::mem::size_of::<(u32, u32)>()
    }

    /// The q-gram at `hay[at..]`, which holds at least `q` bytes.
    #[inline(always)]
    fn gram_at(&self, hay: &[u8], at: usize) -> u64 {
        match hay.get(at..at + 8) {
            Some(word) => u64::from_le_bytes(word.try_into().expect("8 bytes")) & self.gram_mask,
            None => {
                let mut word = [0; 8];
                word[..self.q].copy_from_slice(&hay[at..at + self.q]);
                u64::from_le_bytes(word)
            }
        }
    }

    /// The entries of `gram`, if it is a q-gram of some pattern.
    #[inline]
    fn lookup(&self, gram: u64) -> &[(u32, u32)] {
        let mask = self.slots.len() - 1;
        let mut slot = hash(gram, self.slots_shift);
        loop {
            let s = self.slots[slot];
            if s.len == 0 {
                return &[];
            }
            if s.gram == gram {
                return &self.entries[s.first as usize..(s.first + s.len) as usize];
            }
            slot = (slot + 1) & mask;
        }
    }

    /// Calls `f(at, gram)` for each probe position `at` (every `stride` bytes) whose q-gram
    /// passes the bit filter.
    #[inline(always)]
    fn for_each_hit(&self, hay: &[u8], mut f: impl FnMut(usize, u64)) {
        let (bits, stride, gram_mask, shift) =
            (&*self.bits, self.stride, self.gram_mask, self.bits_shift);
        let gram = |at: usize| {
            let word: &[u8; 8] = hay[at..at + 8].try_into().expect("8 bytes");
            u64::from_le_bytes(*word) & gram_mask
        };
        let words = bits.len() - 1;
        let bit = |gram: u64| {
            let h = gram.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> shift;
            // `& words` is a no-op (the hash has as many bits as the filter) that spares a
            // bounds check.
            (bits[(h / 64) as usize & words] >> (h % 64)) & 1
        };
        let mut at = 0;
        // Four probes a round, with one branch for all four in the common case.
        while at + 3 * stride + 8 <= hay.len() {
            let (g0, g1) = (gram(at), gram(at + stride));
            let (g2, g3) = (gram(at + 2 * stride), gram(at + 3 * stride));
            let (b0, b1, b2, b3) = (bit(g0), bit(g1), bit(g2), bit(g3));
            if b0 | b1 | b2 | b3 != 0 {
                for (k, (g, b)) in [(g0, b0), (g1, b1), (g2, b2), (g3, b3)]
                    .into_iter()
                    .enumerate()
                {
                    if b != 0 {
                        f(at + k * stride, g);
                    }
                }
            }
            at += 4 * stride;
        }
        while at + self.q <= hay.len() {
            let g = self.gram_at(hay, at);
            if bit(g) != 0 {
                f(at, g);
            }
            at += stride;
        }
    }

    /// Pushes onto `found` each occurrence whose q-gram at `at` is `gram`.
    #[inline]
    fn verify(
        &self,
        hay: &[u8],
        at: usize,
        gram: u64,
        patterns: &[Box<[u8]>],
        found: &mut Vec<(usize, usize)>,
    ) {
        for &(i, offset) in self.lookup(gram) {
            let p = &patterns[i as usize];
            let Some(start) = at.checked_sub(offset as usize) else {
                continue;
            };
            if hay.len() - start >= p.len() && hay[start..start + p.len()] == **p {
                found.push((start, start + p.len()));
            }
        }
    }

    /// Calls `f(start, end)` for every occurrence of `patterns` in `hay`.
    fn for_each_occurrence(
        &self,
        hay: &[u8],
        patterns: &[Box<[u8]>],
        mut f: impl FnMut(usize, usize),
    ) {
        let mut found = Vec::new();
        self.for_each_hit(hay, |at, gram| {
            self.verify(hay, at, gram, patterns, &mut found)
        });
        for (s, e) in found {
            f(s, e);
        }
    }

    /// Calls `f(start, end)`, in order, for each maximal union of overlapping or touching
    /// occurrences of `patterns` in `hay`.
    fn for_each_union(&self, hay: &[u8], patterns: &[Box<[u8]>], mut f: impl FnMut(usize, usize)) {
        let mut union = None;
        let mut found = Vec::new();
        self.for_each_hit(hay, |at, gram| {
            // Occurrences found from here on start at `at - horizon` or later.
            settle(
                &mut found,
                &mut union,
                at.saturating_sub(self.horizon),
                &mut f,
            );
            self.verify(hay, at, gram, patterns, &mut found);
        });
        settle(&mut found, &mut union, usize::MAX, &mut f);
    }
}

/// Merges into `union`, in order of start, the occurrences in `found` that start before
/// `limit`, and calls `f` for each union that no occurrence starting at `limit` or later can
/// touch.
fn settle(
    found: &mut Vec<(usize, usize)>,
    union: &mut Option<(usize, usize)>,
    limit: usize,
    f: &mut impl FnMut(usize, usize),
) {
    found.sort_unstable();
    let n = found.partition_point(|&(start, _)| start < limit);
    for (start, end) in found.drain(..n) {
        *union = Some(match *union {
            Some((a, b)) if start <= b => (a, b.max(end)),
            Some((a, b)) => {
                f(a, b);
                (start, end)
            }
            None => (start, end),
        });
    }
    if let Some((a, b)) = *union {
        if b < limit {
            f(a, b);
            *union = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tiny deterministic generator for the tests.
    fn rng(seed: &mut u64) -> u64 {
        *seed ^= *seed << 13;
        *seed ^= *seed >> 7;
        *seed ^= *seed << 17;
        *seed
    }

    fn occurrences(patterns: &[Box<[u8]>], hay: &[u8]) -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        for p in patterns {
            for s in 0..hay.len() {
                if hay[s..].starts_with(p) {
                    out.push((s, s + p.len()));
                }
            }
        }
        out
    }

    /// Candidates are ordered, disjoint, unions of occurrences, and cover every occurrence,
    /// for both matchers, with patterns sharing long prefixes (so the sampler indexes them
    /// at offsets past the start).
    #[test]
    fn candidates_cover_every_occurrence_in_order() {
        let mut seed = 0x1234_5678_9abc_def1;
        for round in 0..200 {
            let count = if round % 2 == 0 { 20 } else { 90 };
            let patterns: Vec<Box<[u8]>> = (0..count)
                .map(|_| {
                    let len = 12 + (rng(&mut seed) % 8) as usize;
                    let mut p = b"glcbt-".to_vec();
                    p.extend((6..len).map(|_| b"ab"[(rng(&mut seed) % 2) as usize]));
                    p.into_boxed_slice()
                })
                .collect();
            let engine = Engine::new(patterns.clone());
            let mut hay = Vec::new();
            while hay.len() < 300 {
                match rng(&mut seed) % 3 {
                    0 => hay.extend_from_slice(&patterns[(rng(&mut seed) % count) as usize]),
                    1 => hay.extend_from_slice(b"glcbt-"),
                    _ => hay.push(b"abx"[(rng(&mut seed) % 3) as usize]),
                }
            }
            let mut candidates = Vec::new();
            engine.for_each_candidate(&hay, |s, e| candidates.push((s, e)));
            assert!(
                candidates.windows(2).all(|w| w[0].1 <= w[1].0),
                "{candidates:?}"
            );
            let occ = occurrences(&engine.sorted, &hay);
            for &(s, e) in &occ {
                assert!(
                    candidates.iter().any(|&(a, b)| a < e && s < b),
                    "({s}, {e}) missed"
                );
            }
            for &(a, b) in &candidates {
                let covered = (a..b).all(|i| occ.iter().any(|&(s, e)| s <= i && i < e && a <= s));
                assert!(covered, "({a}, {b}) is not a union of occurrences");
            }
        }
    }
}
