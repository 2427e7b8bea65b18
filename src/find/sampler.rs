//! The sampled q-gram index: finds every occurrence of a large set of patterns by reading
//! one q-gram every few bytes (`DESIGN.md`, "The sampler").

use super::filter::{mix, remix, Counts, Filter};
use super::patterns::Patterns;
use super::Range;

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

/// The patterns one of whose q-grams at `from[i]..from[i] + stride` has a key that more
/// than [`CROWDED`] such q-grams of all patterns have (or, rarely, a hash that more keys
/// have), and the counts of those q-grams' keys.
fn crowded(sampler: &Sampler, patterns: &Patterns, from: &[u8]) -> (Vec<usize>, Counts) {
    // At most one key a cell on average: a cell of more than `CROWDED` by chance is rare.
    let mut counts = Counts::new((patterns.len() * sampler.stride).next_power_of_two());
    sampler.for_each_key(patterns, from, |_, _, key| counts.add(key));
    let mut crowded = Vec::new();
    sampler.for_each_key(patterns, from, |i, _, key| {
        if counts.get(key) > CROWDED && crowded.last() != Some(&i) {
            crowded.push(i);
        }
    });
    (crowded, counts)
}

/// The start of the first run of `len` consecutive `counts` with the least sum.
fn least_run(counts: &[usize], len: usize) -> usize {
    let mut sum: usize = counts[..len].iter().sum();
    let mut best = (sum, 0);
    for k in 1..=counts.len() - len {
        sum = sum + counts[k + len - 1] - counts[k - 1];
        if sum < best.0 {
            best = (sum, k);
        }
    }
    best.1
}

/// Sets of at least this many patterns build their filters on a thread of their own.
const PARALLEL: usize = 10_000;

/// Up to this many crowded patterns move by the counts of the q-grams indexed for all
/// patterns; past it, by a sketch of every q-gram of every pattern.
const FEW_CROWDED: usize = 1024;

/// A q-gram listed for more patterns than this makes the index choose offsets by how
/// widely their q-grams are shared.
const CROWDED: usize = 8;

/// Patterns are indexed at q-grams within their first this many bytes: a hit then finds
/// occurrences that start at most this far back, so unions are settled soon after.
const WINDOW: usize = 128;

/// Patterns shorter than this are not sampled.
pub(crate) const MIN_SAMPLED: usize = 4;

/// The filter's size, in bits per index entry (rounded to a power of two) ...
const FILTER_SIZE: usize = 64;

/// ... while that makes a filter of at most this many bits (256 KiB, half of a common L2
/// cache) ...
const FILTER_MAX: usize = 1 << 21;

/// ... else this many.
const LARGE_FILTER_SIZE: usize = 16;

/// The second filter's size, in bits per index entry.
const SECOND_FILTER_SIZE: usize = 16;

/// The longest stride past [`FEW_PATTERNS`]: more offsets per pattern fill the index faster
/// than longer strides save probes.
const MAX_STRIDE: usize = 16;

/// The longest stride up to [`FEW_PATTERNS`] patterns, whose index stays small at twice the
/// offsets (DESIGN.md, issue 12, session 7).
const MAX_STRIDE_FEW: usize = 32;

/// Up to this many patterns, 4-byte q-grams (a longer stride) rarely occur by chance; past
/// it, 6-byte ones keep chance hits rare. (5-byte ones, a stride one longer, made 10,000
/// secrets 5-10% faster on the benchmark log but a log of hex digests with hex secrets a
/// third slower.)
const FEW_PATTERNS: usize = 4096;

/// The index's entries per bucket, on average (rounded to a power of two of buckets).
const ENTRIES_PER_BUCKET: usize = 4;

/// Probes per block in [`Sampler::for_each_hit`]; their offsets in a block fit a `u16` as
/// strides are at most [`MAX_STRIDE_FEW`].
const PROBES: usize = 1024;
const _: () = assert!(PROBES * MAX_STRIDE_FEW <= 1 << 16 && MAX_STRIDE <= MAX_STRIDE_FEW);

impl Sampler {
    /// An index of `patterns` (sorted), whose shortest is `min_len` bytes; `None` where the
    /// patterns are too short to sample or too many to index.
    pub(crate) fn new(patterns: &Patterns, min_len: usize) -> Option<Sampler> {
        if min_len < MIN_SAMPLED || patterns.len() > MAX_PATTERNS {
            return None;
        }
        let q = if min_len >= 8 && patterns.len() > FEW_PATTERNS {
            6
        } else {
            4
        };
        let max_stride = match patterns.len() > FEW_PATTERNS {
            true => MAX_STRIDE,
            false => MAX_STRIDE_FEW,
        };
        let stride = (min_len + 1 - q).min(max_stride);
        let mut sampler = Sampler {
            q,
            gram_mask: u64::MAX >> (64 - 8 * q),
            stride,
            filter: Filter::empty(64),
            second: Filter::empty(64),
            entries: Box::default(),
            buckets: Box::default(),
            buckets_shift: 0,
            check_shift: OFFSET_BITS + patterns.len().next_power_of_two().trailing_zeros(),
            horizon: 0,
        };
        // Any `stride` consecutive offsets of a pattern will do; first the last ones of its
        // first `WINDOW` bytes, as tokens share prefixes (`glcbt-64_`) far more often than
        // suffixes, and small offsets keep the horizon short. A pattern that this lists under
        // a q-gram many patterns share is indexed instead at the offsets (in that window)
        // whose q-grams the other patterns share least.
        // Where each pattern's `stride` consecutive indexed offsets begin.
        let mut from: Vec<u8> = patterns
            .iter()
            .map(|p| (p.len().min(WINDOW) + 1 - q - stride) as u8)
            .collect();
        let (crowded, indexed) = crowded(&sampler, patterns, &from);
        if !crowded.is_empty() {
            // Few crowded patterns move to the q-grams that the others' indexed ones share
            // least; many, to those that all q-grams share least.
            let shared = match crowded.len() {
                n if n <= FEW_CROWDED => indexed,
                _ => {
                    drop(indexed);
                    sampler.sketch(patterns)
                }
            };
            let mut counts = Vec::new();
            for &i in &crowded {
                let p = &patterns[i];
                counts.clear();
                let last = p.len().min(WINDOW) - q;
                counts.extend((0..=last).map(|o| shared.get(mix(sampler.gram_at(p, o)))));
                from[i] = least_run(&counts, stride) as u8;
            }
        }
        let n = patterns.len() * stride;
        u32::try_from(n).ok()?;
        sampler.horizon = from.iter().map(|&f| usize::from(f)).max().unwrap_or(0) + stride - 1;
        let size = match Filter::size(n, FILTER_SIZE) {
            bits if bits > FILTER_MAX => LARGE_FILTER_SIZE,
            _ => FILTER_SIZE,
        };
        let filters = || {
            let mut filter = Filter::empty(Filter::size(n, size));
            let mut second = Filter::empty(Filter::size(n, SECOND_FILTER_SIZE));
            sampler.for_each_key(patterns, &from, |_, _, key| {
                filter.insert(key);
                second.insert(remix(key));
            });
            (filter, second)
        };
        // A few entries per bucket (about a cache line), placed by a counting sort.
        let bits = (n / ENTRIES_PER_BUCKET)
            .next_power_of_two()
            .max(16)
            .trailing_zeros();
        let shift = 64 - bits;
        let entries = || {
            let mut buckets = vec![0u32; (1 << bits) + 1];
            sampler.for_each_key(patterns, &from, |_, _, key| {
                buckets[(key >> shift) as usize + 1] += 1;
            });
            for b in 1..buckets.len() {
                buckets[b] += buckets[b - 1];
            }
            let mut next = buckets.clone();
            let mut entries = vec![Entry(0); n];
            sampler.for_each_key(patterns, &from, |i, offset, key| {
                let slot = &mut next[(key >> shift) as usize];
                entries[*slot as usize] = Entry::new(key, i, offset, sampler.check_shift);
                *slot += 1;
            });
            (buckets, entries)
        };
        // The filters beside the buckets, on a second core where the set is large.
        let ((filter, second), (buckets, entries)) = if patterns.len() < PARALLEL {
            (filters(), entries())
        } else {
            std::thread::scope(|scope| {
                let beside = std::thread::Builder::new()
                    .spawn_scoped(scope, filters)
                    .ok();
                let entries = entries();
                let filters = match beside.map(|thread| thread.join()) {
                    Some(Ok(filters)) => filters,
                    Some(Err(panic)) => std::panic::resume_unwind(panic),
                    None => filters(),
                };
                (filters, entries)
            })
        };
        sampler.filter = filter;
        sampler.second = second;
        sampler.buckets_shift = shift;
        sampler.buckets = buckets.into_boxed_slice();
        sampler.entries = entries.into_boxed_slice();
        Some(sampler)
    }

    /// Calls `f(i, offset, key)` for the key of each q-gram indexed for pattern `i`: those
    /// at the offsets `from[i]..from[i] + stride`.
    fn for_each_key(&self, patterns: &Patterns, from: &[u8], mut f: impl FnMut(usize, usize, u64)) {
        // The q-grams read from the buffer of all the patterns: one that ends a pattern is
        // read as a word with the next pattern's bytes masked off.
        let bytes = patterns.bytes();
        let mut start = 0;
        for (i, (&end, &from)) in patterns.ends().iter().zip(from).enumerate() {
            let from = usize::from(from);
            for offset in from..from + self.stride {
                f(i, offset, mix(self.gram_at(bytes, start + offset)));
            }
            start = end;
        }
    }

    /// How many of the patterns' q-grams hash like each q-gram, roughly.
    fn sketch(&self, patterns: &Patterns) -> Counts {
        let total: usize = patterns.iter().map(|p| p.len() + 1 - self.q).sum();
        let mut sketch = Counts::new(total.next_power_of_two().clamp(1 << 10, 1 << 18));
        let bytes = patterns.bytes();
        let mut start = 0;
        for &end in patterns.ends() {
            for at in start..=end - self.q {
                sketch.add(mix(self.gram_at(bytes, at)));
            }
            start = end;
        }
        sketch
    }

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

    /// The entries of `gram`.
    #[inline]
    fn lookup(&self, gram: u64) -> impl Iterator<Item = &Entry> {
        let key = mix(gram);
        let b = (key >> self.buckets_shift) as usize;
        let bucket = &self.entries[self.buckets[b] as usize..self.buckets[b + 1] as usize];
        let check_shift = self.check_shift;
        bucket.iter().filter(move |e| e.may_be(key, check_shift))
    }

    /// Calls `f(at, gram)` for each probe position `at` (every `stride` bytes) whose q-gram
    /// passes the filter.
    #[inline(always)]
    fn for_each_hit(&self, hay: &[u8], mut f: impl FnMut(usize, u64)) {
        // Probes read 8 bytes: those at `at < end` need no care at the end of `hay`.
        let end = hay.len().saturating_sub(7);
        // The probes of a block go without branches, noting where the filter passed; then
        // the hits are handed out.
        let mut hits = [0u16; PROBES];
        let mut at = 0;
        while at < end {
            let block_end = end.min(at + PROBES * self.stride);
            let n = self.probe(hay, at, block_end, &mut hits);
            for &hit in &hits[..n] {
                let p = at + usize::from(hit);
                let gram = self.gram_at(hay, p);
                if self.passes_second(gram) {
                    f(p, gram);
                }
            }
            at += (block_end - at).div_ceil(self.stride) * self.stride;
        }
        while at + self.q <= hay.len() {
            let gram = self.gram_at(hay, at);
            if self.filter.contains(mix(gram)) && self.passes_second(gram) {
                f(at, gram);
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

    /// Pushes onto `found` each occurrence whose q-gram at `at` is `gram`.
    #[inline]
    fn verify(
        &self,
        hay: &[u8],
        at: usize,
        gram: u64,
        patterns: &Patterns,
        found: &mut Vec<(usize, usize)>,
    ) {
        for &e in self.lookup(gram) {
            let p = &patterns[e.pattern(self.check_shift)];
            let Some(start) = at.checked_sub(e.offset()) else {
                continue;
            };
            if hay.len() - start >= p.len() && same(&hay[start..start + p.len()], p) {
                found.push((start, start + p.len()));
            }
        }
    }

    /// Calls `f(start, end)` for every occurrence of `patterns` in `hay`, in no particular
    /// order.
    pub(crate) fn for_each_occurrence(
        &self,
        hay: &[u8],
        patterns: &Patterns,
        mut f: impl FnMut(usize, usize),
    ) {
        let mut found = Vec::new();
        self.for_each_hit(hay, |at, gram| {
            self.verify(hay, at, gram, patterns, &mut found);
            for (s, e) in found.drain(..) {
                f(s, e);
            }
        });
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
        let mut found = Vec::new();
        // Occurrences not yet merged, sorted by start from last to first. Few: they start
        // within the horizon of the last hit.
        let mut pending: Vec<Range> = Vec::new();
        self.for_each_hit(hay, |at, gram| {
            // Occurrences found from here on start at `at - horizon` or later.
            let settled = at.saturating_sub(self.horizon);
            settle(&mut pending, &mut union, settled, out);
            self.verify(hay, at, gram, patterns, &mut found);
            for r in found.drain(..).filter(|&(s, _)| s < limit) {
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

    /// A tiny deterministic generator for the tests.
    fn rng(seed: &mut u64) -> u64 {
        *seed ^= *seed << 13;
        *seed ^= *seed >> 7;
        *seed ^= *seed << 17;
        *seed
    }

    /// Every occurrence of `patterns` in `hay`, naively, merged.
    fn naive_unions(patterns: &[Vec<u8>], hay: &[u8]) -> Vec<Range> {
        let mut occ: Vec<Range> = (0..hay.len())
            .flat_map(|s| {
                patterns
                    .iter()
                    .filter(move |p| hay[s..].starts_with(p))
                    .map(move |p| (s, s + p.len()))
            })
            .collect();
        occ.sort_unstable();
        let mut out: Vec<Range> = Vec::new();
        for (s, e) in occ {
            match out.last_mut() {
                Some(last) if s <= last.1 => last.1 = last.1.max(e),
                _ => out.push((s, e)),
            }
        }
        out
    }

    /// Patterns whose indexed q-grams many share (a common tail) move elsewhere: a few of
    /// them by the indexed q-grams' counts, many by the sketch of every q-gram; on both
    /// sides of [`PARALLEL`] (filters built beside the buckets). The unions are the naive
    /// ones either way.
    #[test]
    fn crowded_patterns_are_found_where_they_move() {
        let mut seed = 0x0c20_dded_0c20_dded;
        for (count, sharing) in [(3000, 40), (3000, 2000), (PARALLEL + 500, 60)] {
            let tail = b"-shared-tail-of-many-tokens";
            let mut patterns: Vec<Vec<u8>> = (0..count)
                .map(|i| {
                    let len = 6 + (rng(&mut seed) % 10) as usize;
                    let mut p: Vec<u8> = (0..len)
                        .map(|_| b"abcdefghij"[(rng(&mut seed) % 10) as usize])
                        .collect();
                    if i < sharing {
                        p.extend_from_slice(tail);
                    } else {
                        p.extend((0..8).map(|_| {
                            b"klmnopqrstuvwxyz0123456789"[(rng(&mut seed) % 26) as usize]
                        }));
                    }
                    p
                })
                .collect();
            patterns.sort_unstable();
            patterns.dedup();
            let stored = Patterns::new(patterns.iter().map(|p| &p[..]));
            let min_len = patterns.iter().map(Vec::len).min().unwrap();
            let sampler = Sampler::new(&stored, min_len).expect("sampled");
            let mut hay = Vec::new();
            while hay.len() < 3000 {
                match rng(&mut seed) % 3 {
                    0 => hay.extend_from_slice(&patterns[rng(&mut seed) as usize % sharing]),
                    1 => hay.extend_from_slice(&patterns[rng(&mut seed) as usize % count]),
                    _ => hay.extend(
                        (0..rng(&mut seed) % 9).map(|_| b"ajk-s"[rng(&mut seed) as usize % 5]),
                    ),
                }
            }
            let mut got = Vec::new();
            sampler.unions(&hay, &stored, usize::MAX, &mut got);
            assert_eq!(
                got,
                naive_unions(&patterns, &hay),
                "{count} patterns, {sharing} sharing"
            );
        }
    }

    /// `count` patterns of lengths in `lens`, of the bytes of `alphabet`.
    fn random_patterns(
        seed: &mut u64,
        count: usize,
        lens: std::ops::Range<usize>,
        alphabet: &[u8],
    ) -> Vec<Vec<u8>> {
        let mut pick = |n: usize| (rng(seed) % n as u64) as usize;
        (0..count)
            .map(|_| {
                let len = lens.start + pick(lens.len());
                (0..len).map(|_| alphabet[pick(alphabet.len())]).collect()
            })
            .collect()
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

    /// A few long patterns (the longest stride): the unions are exactly those of every
    /// occurrence, embedded ones and ones that overlap, at every offset from the probes.
    #[test]
    fn long_strides_find_every_occurrence() {
        let mut seed = 0x1234_5678_9abc_def1;
        let mut patterns = random_patterns(&mut seed, 40, 40..130, b"ab");
        patterns.sort();
        let stored = Patterns::new(patterns.iter().map(|p| &p[..]));
        let sampler = Sampler::new(&stored, 40).expect("sampled");
        assert_eq!(sampler.stride, MAX_STRIDE_FEW);
        let mut hay = Vec::new();
        for i in 0..400 {
            let gap = rng(&mut seed) % 70;
            hay.extend((0..gap).map(|_| b"abc"[(rng(&mut seed) % 3) as usize]));
            hay.extend_from_slice(&patterns[i % patterns.len()]);
        }
        let mut unions = Vec::new();
        sampler.unions(&hay, &stored, usize::MAX, &mut unions);
        assert_eq!(unions, naive_unions(&patterns, &hay));
    }

    /// With thousands of patterns (a smaller first filter, 6-byte q-grams), every embedded
    /// pattern is found.
    #[test]
    fn large_sets_find_every_pattern() {
        let mut seed = 0x5eed_5eed_5eed_5eed;
        let patterns = random_patterns(&mut seed, 9000, 12..42, b"0123456789abcdef");
        let stored = Patterns::new(patterns.iter().map(|p| &p[..]));
        let sampler = Sampler::new(&stored, 12).expect("sampled");
        assert!(sampler.filter.memory_usage() * 8 <= FILTER_MAX && sampler.q == 6);
        let mut hay = Vec::new();
        let mut embedded = Vec::new();
        for i in 0..2000 {
            hay.extend(
                (0..rng(&mut seed) % 40).map(|_| b"xyz0123 "[(rng(&mut seed) % 8) as usize]),
            );
            let p = &patterns[(i * 7) % patterns.len()];
            embedded.push((hay.len(), hay.len() + p.len()));
            hay.extend_from_slice(p);
        }
        let mut candidates = Vec::new();
        sampler.unions(&hay, &stored, usize::MAX, &mut candidates);
        for &(s, e) in &embedded {
            assert!(
                candidates.iter().any(|&(a, b)| a <= s && e <= b),
                "({s}, {e}) missed"
            );
        }
    }
}
