//! The sampled q-gram index and its search: finds every occurrence of a large set of
//! patterns by reading one q-gram every few bytes (`DESIGN.md`, "The sampled q-gram index").

mod build;

use super::filter::{mix, remix, Filter};
use super::patterns::Patterns;
use super::{prefetch, Range};

/// A sampled q-gram index over the patterns, for sets too large for the automaton's
/// prefilter.
///
/// An occurrence of a pattern at least `min_len` long that starts at `x` contains the q-gram
/// at the first position `p >= x` divisible by `stride`, at offset `p - x < stride`, and that
/// q-gram lies inside the pattern as `stride <= min_len - q + 1`. So probing one q-gram every
/// `stride` bytes against each pattern's q-grams at `stride` consecutive offsets, and
/// comparing the patterns listed for a q-gram that is found, finds every occurrence.
pub(crate) struct Sampler {
    /// The q-gram length, 4 or 6 bytes: longer q-grams are rarer in ordinary text, shorter
    /// ones allow a longer stride.
    q: usize,
    /// Keeps the low `q` bytes of a little-endian `u64`.
    gram_mask: u64,
    stride: usize,
    /// The q-grams' filter: a quick "no" for almost every probe, tested without a branch.
    filter: Filter,
    /// A filter of [`remix`]ed keys that the probes passing `filter` must pass too: most
    /// chance hits then cost one memory access, not a bucket look-up.
    second: Filter,
    /// Where each q-gram is in the patterns, grouped by bucket.
    entries: Box<[Entry]>,
    /// `buckets[b]..buckets[b + 1]`: the entries whose key's top bits are `b`.
    buckets: Box<[u32]>,
    /// `64 - log2(buckets.len() - 1)`.
    buckets_shift: u32,
    /// The lowest bit of an [`Entry`] that is a bit of its key.
    check_shift: u32,
    /// The largest offset in `entries`: an occurrence found by a probe at `at` starts at
    /// `at - horizon` or later.
    horizon: usize,
}

/// A q-gram of a pattern, in 32 bits: from the top, as many bits of its [`mix`] as the
/// pattern's index leaves room for (bits the entry's bucket does not stand for already),
/// the pattern's index, and the q-gram's offset in it ([`OFFSET_BITS`]).
#[derive(Clone, Copy)]
struct Entry(u32);

/// Offsets are below [`WINDOW`].
const OFFSET_BITS: u32 = WINDOW.trailing_zeros();

/// The most patterns an index takes: an entry keeps at least one bit of its key.
const MAX_PATTERNS: usize = 1 << (31 - OFFSET_BITS);

impl Entry {
    /// The entry of the q-gram of `key` at `offset` in pattern `i`, whose key bits begin at
    /// bit `check_shift`.
    fn new(key: u64, i: usize, offset: usize, check_shift: u32) -> Entry {
        let check = (key as u32) >> check_shift << check_shift;
        Entry(check | (i as u32) << OFFSET_BITS | offset as u32)
    }

    fn pattern(self, check_shift: u32) -> usize {
        ((self.0 & ((1 << check_shift) - 1)) >> OFFSET_BITS) as usize
    }

    fn offset(self) -> usize {
        (self.0 & ((1 << OFFSET_BITS) - 1)) as usize
    }

    /// Whether the entry may be one of `key`'s.
    #[inline(always)]
    fn may_be(self, key: u64, check_shift: u32) -> bool {
        (self.0 ^ key as u32) >> check_shift == 0
    }
}

/// Patterns are indexed at q-grams within their first this many bytes: a hit then finds
/// occurrences that start at most this far back, so unions are settled soon after.
const WINDOW: usize = 128;

/// Patterns shorter than this are not sampled.
pub(crate) const MIN_SAMPLED: usize = 4;

/// Probes per block in [`Sampler::for_each_found`]; their offsets in a block fit a `u16` as
/// strides are at most `build::MAX_STRIDE_VERY_FEW` (asserted there).
const PROBES: usize = 1024;

/// Occurrences compared together in [`Sampler::for_each_found`].
const CANDIDATES: usize = 32;

/// Hits whose buckets' bounds are read together before their entries.
const STAGED: usize = 16;

impl Sampler {
    pub(crate) fn memory_usage(&self) -> usize {
        self.filter.memory_usage()
            + self.second.memory_usage()
            + self.buckets.len() * 4
            + self.entries.len() * std::mem::size_of::<Entry>()
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

    /// Whether `gram` passes the second filter.
    #[inline(always)]
    fn passes_second(&self, gram: u64) -> bool {
        self.second.contains(remix(mix(gram)))
    }

    /// The bucket of `key`.
    #[inline(always)]
    fn bucket(&self, key: u64) -> usize {
        (key >> self.buckets_shift) as usize
    }

    /// The range of `entries` of `gram`'s bucket, if `gram` passes both filters.
    #[inline(always)]
    fn passing(&self, gram: u64) -> Option<std::ops::Range<usize>> {
        let key = mix(gram);
        if !(self.filter.contains(key) && self.passes_second(gram)) {
            return None;
        }
        let b = self.bucket(key);
        Some(self.buckets[b] as usize..self.buckets[b + 1] as usize)
    }

    /// The occurrences that the entries of `gram` at `at` stand for, whose bucket's entries
    /// are `entries[bucket]`: where each would start, and which pattern it would be (those
    /// that would start before the hay left out).
    #[inline]
    fn candidates(
        &self,
        at: usize,
        gram: u64,
        bucket: std::ops::Range<usize>,
    ) -> impl Iterator<Item = (usize, usize)> + '_ {
        let key = mix(gram);
        let check_shift = self.check_shift;
        self.entries[bucket]
            .iter()
            .filter(move |e| e.may_be(key, check_shift))
            .filter_map(move |e| Some((at.checked_sub(e.offset())?, e.pattern(check_shift))))
    }

    /// Calls `f(at, start, end)` for each occurrence of `patterns` found by a probe at `at`
    /// (every `stride` bytes), in order of `at`.
    #[inline(always)]
    fn for_each_found(
        &self,
        hay: &[u8],
        patterns: &Patterns,
        mut f: impl FnMut(usize, usize, usize),
    ) {
        // Probes read 8 bytes: those at `at < end` need no care at the end of `hay`.
        let end = hay.len().saturating_sub(7);
        // The probes of a block go without branches, noting where the filter passed; then
        // the hits are verified in steps, each step's loads issued for a few hits before the
        // next step uses any: the second filter, the buckets' bounds, the entries, the
        // patterns' ends, their bytes.
        let mut hits = [0u16; PROBES];
        // Where a hit was, where its occurrence would start, and which pattern it would be.
        let mut candidates = [(0usize, 0usize, 0usize); CANDIDATES];
        let mut verify = |candidates: &[(usize, usize, usize)]| {
            for &(_, _, i) in candidates {
                patterns.prefetch_bytes(i);
            }
            for &(at, start, i) in candidates {
                let p = &patterns[i];
                if occurs(hay, start, p) {
                    f(at, start, start + p.len());
                }
            }
        };
        let mut at = 0;
        while at < end {
            let block_end = end.min(at + PROBES * self.stride);
            let n = self.probe(hay, at, block_end, &mut hits);
            let mut m = 0;
            for k in 0..n {
                let hit = hits[k];
                let gram = self.gram_at(hay, at + usize::from(hit));
                hits[m] = hit;
                m += usize::from(self.passes_second(gram));
            }
            for group in hits[..m].chunks(STAGED) {
                let mut spans = [(0u32, 0u32); STAGED];
                for (span, &hit) in spans.iter_mut().zip(group) {
                    let b = self.bucket(mix(self.gram_at(hay, at + usize::from(hit))));
                    *span = (self.buckets[b], self.buckets[b + 1]);
                    prefetch(self.entries.as_ptr().wrapping_add(span.0 as usize));
                }
                let mut c = 0;
                for (&(from, to), &hit) in spans.iter().zip(group) {
                    let p = at + usize::from(hit);
                    let gram = self.gram_at(hay, p);
                    for (start, i) in self.candidates(p, gram, from as usize..to as usize) {
                        patterns.prefetch_start(i);
                        candidates[c] = (p, start, i);
                        c += 1;
                        if c == CANDIDATES {
                            verify(&candidates);
                            c = 0;
                        }
                    }
                }
                verify(&candidates[..c]);
            }
            at += (block_end - at).div_ceil(self.stride) * self.stride;
        }
        while at + self.q <= hay.len() {
            let gram = self.gram_at(hay, at);
            if let Some(bucket) = self.passing(gram) {
                self.matches(hay, at, gram, bucket, patterns, |s, p, _| {
                    f(at, s, s + p.len())
                });
            }
            at += self.stride;
        }
    }

    /// Probes `hay` at `from`, `from + stride`, ... below `to` (`to + 7 <= hay.len()`, at most
    /// [`PROBES`] probes); notes in `hits` the offsets from `from` of those that pass the
    /// filter, and returns how many did. Kept apart so that the loop has the registers to
    /// itself.
    #[inline(never)]
    fn probe(&self, hay: &[u8], from: usize, to: usize, hits: &mut [u16; PROBES]) -> usize {
        let (filter, gram_mask) = (&self.filter, self.gram_mask);
        let block = &hay[from..to + 7];
        let mut n = 0;
        for at in (0..to - from).step_by(self.stride) {
            // SAFETY: `at + 8 <= to - from + 7 == block.len()`.
            let word = unsafe { block.as_ptr().add(at).cast::<u64>().read_unaligned() };
            // `% PROBES` is a no-op (a block has that many probes) that spares a bounds check.
            hits[n % PROBES] = at as u16;
            n += usize::from(filter.contains(mix(u64::from_le(word) & gram_mask)));
        }
        n
    }

    /// Calls `f(start, pattern, index)` for each occurrence whose q-gram at `at` is `gram`.
    #[inline(always)]
    fn matches(
        &self,
        hay: &[u8],
        at: usize,
        gram: u64,
        bucket: std::ops::Range<usize>,
        patterns: &Patterns,
        mut f: impl FnMut(usize, &[u8], usize),
    ) {
        for (start, i) in self.candidates(at, gram, bucket) {
            let p = &patterns[i];
            if occurs(hay, start, p) {
                f(start, p, i);
            }
        }
    }

    /// The first occurrence of `patterns` in `hay` that starts at `from` or later: where, and
    /// which pattern. It probes one q-gram at a time, and stops `horizon` bytes past the
    /// first occurrence found, past which none can start earlier.
    pub(crate) fn first(
        &self,
        hay: &[u8],
        from: usize,
        patterns: &Patterns,
    ) -> Option<(usize, usize)> {
        let mut first: Option<(usize, usize)> = None;
        let mut at = from;
        loop {
            let stop = first.map_or(usize::MAX, |(s, _)| s + self.horizon);
            at = self.skip(hay, at, stop.min(hay.len().saturating_sub(7)));
            if at + self.q > hay.len() || at >= stop {
                return first;
            }
            let gram = self.gram_at(hay, at);
            if let Some(bucket) = self.passing(gram) {
                self.matches(hay, at, gram, bucket, patterns, |start, _, i| {
                    if start >= from && first.map_or(true, |f| (start, i) < f) {
                        first = Some((start, i));
                    }
                });
            }
            at += self.stride;
        }
    }

    /// The first probe position from `at`, every `stride` bytes, that is `end` or later or
    /// whose q-gram passes the filter (`end + 7 <= hay.len()`). Kept apart, as
    /// [`probe`](Self::probe) is, so that the loop has the registers to itself.
    #[inline(never)]
    fn skip(&self, hay: &[u8], mut at: usize, end: usize) -> usize {
        while at < end {
            if self.filter.contains(mix(self.gram_at(hay, at))) {
                break;
            }
            at += self.stride;
        }
        at
    }

    /// Calls `f(start, end)` for every occurrence of `patterns` in `hay`, in no particular
    /// order.
    pub(crate) fn for_each_occurrence(
        &self,
        hay: &[u8],
        patterns: &Patterns,
        mut f: impl FnMut(usize, usize),
    ) {
        self.for_each_found(hay, patterns, |_, s, e| f(s, e));
    }

    /// Pushes onto `out`, in order, each maximal union of overlapping or touching occurrences
    /// of `patterns` in `hay` that start before `limit` (later ones are left out).
    pub(crate) fn unions(
        &self,
        hay: &[u8],
        patterns: &Patterns,
        limit: usize,
        out: &mut Vec<Range>,
    ) {
        let mut union = None;
        // Occurrences not yet merged, sorted by start from last to first. Few: they start
        // within the horizon of the last hit.
        let mut pending: Vec<Range> = Vec::new();
        self.for_each_found(hay, patterns, |at, s, e| {
            // Occurrences found from here on start at `at - horizon` or later.
            let settled = at.saturating_sub(self.horizon);
            settle(&mut pending, &mut union, settled, out);
            if s < limit {
                let r = (s, e);
                let i = pending.iter().rposition(|&p| p >= r).map_or(0, |i| i + 1);
                pending.insert(i, r);
            }
        });
        settle(&mut pending, &mut union, usize::MAX, out);
    }
}

/// Merges into `union`, in order of start, the occurrences in `pending` (sorted from last to
/// first) that start before
/// `limit`, and pushes onto `out` each union that no occurrence starting at `limit` or later
/// can touch.
fn settle(pending: &mut Vec<Range>, union: &mut Option<Range>, limit: usize, out: &mut Vec<Range>) {
    while let Some(&(start, end)) = pending.last() {
        if start >= limit {
            break;
        }
        pending.pop();
        *union = Some(match *union {
            Some((a, b)) if start <= b => (a, b.max(end)),
            Some(done) => {
                out.push(done);
                (start, end)
            }
            None => (start, end),
        });
    }
    if let Some((a, b)) = *union {
        if b < limit {
            out.push((a, b));
            *union = None;
        }
    }
}

/// Whether `p` occurs in `hay` at `start`.
#[inline(always)]
fn occurs(hay: &[u8], start: usize, p: &[u8]) -> bool {
    hay.len() - start >= p.len() && same(&hay[start..start + p.len()], p)
}

/// `a == b` for slices of the same length, eight bytes at a time, inline: most patterns are
/// a few words long, and a call to `memcmp` costs more than comparing them.
#[inline]
fn same(a: &[u8], b: &[u8]) -> bool {
    debug_assert_eq!(a.len(), b.len());
    let word = |s: &[u8], i: usize| u64::from_ne_bytes(s[i..i + 8].try_into().expect("8 bytes"));
    let n = a.len();
    if n < 8 {
        return a.iter().zip(b).all(|(x, y)| x == y);
    }
    let mut i = 0;
    while i + 8 < n {
        if word(a, i) != word(b, i) {
            return false;
        }
        i += 8;
    }
    // The last word overlaps the one before it where `n` is no multiple of eight.
    word(a, n - 8) == word(b, n - 8)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `first` finds the earliest occurrence at or after each position, the naive answer,
    /// where the patterns are windows of one string: they overlap in the text, and their
    /// indexed q-grams are shared by many (so that some are indexed at other offsets).
    #[test]
    fn first_finds_the_earliest_occurrence() {
        let mut seed = 0x6a09_e667_f3bc_c908u64;
        let mut rng = || crate::testing::rng(&mut seed);
        for round in 0..300 {
            let base: Vec<u8> = (0..160).map(|_| b"ab"[(rng() % 2) as usize]).collect();
            let mut list: Vec<&[u8]> = (0..2 + rng() % 90)
                .map(|_| {
                    let o = (rng() % 97) as usize;
                    &base[o..o + 64]
                })
                .collect();
            list.sort();
            list.dedup();
            let patterns = Patterns::new(list.iter().copied());
            let sampler = Sampler::new(&patterns, 64).expect("64-byte patterns sample");
            let mut hay = Vec::new();
            for _ in 0..1 + rng() % 4 {
                let from = (rng() % 160) as usize;
                hay.extend_from_slice(&base[from..from + (rng() as usize) % (161 - from)]);
            }
            for from in 0..=hay.len() {
                let want = (from..hay.len()).find_map(|s| {
                    let i = list.iter().position(|p| hay[s..].starts_with(p))?;
                    Some((s, i))
                });
                assert_eq!(
                    sampler.first(&hay, from, &patterns),
                    want,
                    "{round}, {from}"
                );
            }
        }
    }

    /// An occurrence found by a later probe than another can start before it: `first` looks
    /// on for `horizon` bytes. Here `b` starts `d` bytes into `a`, and twelve patterns share
    /// its last `d` bytes, so that it is indexed at lower offsets than `a` (for most `d`).
    #[test]
    fn first_looks_past_an_occurrence_found_early() {
        let mut seed = 0xbb67_ae85_84ca_a73bu64;
        let mut letters = |n: usize| -> Vec<u8> {
            (0..n)
                .map(|_| b'a' + (crate::testing::rng(&mut seed) % 26) as u8)
                .collect()
        };
        for d in 16..29 {
            let a = letters(64);
            let tail = letters(d);
            let b = [&a[d..], &tail[..]].concat();
            let mut list = vec![a.clone(), b.clone()];
            list.extend((0..12).map(|_| [letters(64 - d), b[64 - d..].to_vec()].concat()));
            list.sort();
            let patterns = Patterns::new(list.iter().map(|p| &p[..]));
            let sampler = Sampler::new(&patterns, 64).expect("64-byte patterns sample");
            let i = list.iter().position(|p| *p == a).expect("listed");
            for junk in 0..64 {
                let hay = [&vec![b'-'; junk][..], &a, &tail].concat();
                assert_eq!(
                    sampler.first(&hay, 0, &patterns),
                    Some((junk, i)),
                    "{d}, {junk}"
                );
            }
        }
    }

    /// `same` tells equal slices from slices that differ in any one byte, at every length
    /// around the word size and its multiples.
    #[test]
    fn same_finds_every_difference() {
        let a: Vec<u8> = (0..40u8).map(|i| i.wrapping_mul(37)).collect();
        for n in 0..=a.len() {
            assert!(same(&a[..n], &a[..n]));
            for i in 0..n {
                let mut b = a[..n].to_vec();
                b[i] ^= 0x20;
                assert!(!same(&a[..n], &b), "length {n}, byte {i}");
            }
        }
    }
}
