//! The search engine behind a compiled secret set: finds candidate matches fast, lists the
//! occurrences around them, and tells how much of a tail could still begin a secret.
//!
//! A single pattern is found by an Aho-Corasick DFA, whose prefilter is then a SIMD substring
//! search. More patterns go to a [`Sampler`], which reads one q-gram every few bytes and
//! compares patterns only where a q-gram of some pattern appears: on CI logs it beats the
//! automaton's multi-pattern prefilter from about three patterns on (hex and base64 text
//! keeps that prefilter stopping), and with thousands of patterns it slows down only as its
//! index outgrows the caches.

use aho_corasick::{AhoCorasick, AhoCorasickKind, Input, MatchKind};

/// Up to this many patterns the automaton's own prefilter finds candidates; past it, the
/// sampled q-gram index does.
const PREFILTER_LIMIT: usize = 1;

/// A compiled, immutable set of byte patterns.
pub(crate) struct Engine {
    matcher: Matcher,
    /// The distinct patterns, sorted, for prefix look-ups.
    sorted: Vec<Box<[u8]>>,
    /// `first[b]`: some pattern longer than 1 starts with byte `b`.
    first: [bool; 256],
    /// Bit `a + 256 * b`: some pattern longer than 2 starts with bytes `a`, `b`.
    pairs: BitSet,
    /// The first 3 bytes of the patterns longer than 3 and the first 4 bytes of those longer
    /// than 4 ([`start_key`]s): most such strings begin no pattern.
    starts: Filter,
    /// The first 8 bytes of each of `sorted`, zero-padded, as big-endian numbers: sorted too.
    heads: Box<[u64]>,
    /// `directory[k]..directory[k + 1]`: where in `heads` those whose top bits are `k` are,
    /// for `2^directory_bits` values of `k` (at most 2^16: the first two bytes).
    directory: Box<[u32]>,
    /// `64 - directory_bits`.
    directory_shift: u32,
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
    pub(crate) fn new(patterns: Vec<Box<[u8]>>) -> Engine {
        // In byte order; comparing the first 16 bytes as a number first spares most calls
        // to `memcmp`.
        let mut keyed: Vec<(u128, Box<[u8]>)> =
            patterns.into_iter().map(|p| (key16(&p), p)).collect();
        keyed.sort_unstable_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(&b.1)));
        let mut patterns: Vec<Box<[u8]>> = keyed.into_iter().map(|(_, p)| p).collect();
        patterns.dedup();
        let mut first = [false; 256];
        let mut pairs = BitSet::new(1 << 16);
        for p in patterns.iter().filter(|p| p.len() > 1) {
            first[usize::from(p[0])] = true;
            if p.len() > 2 {
                pairs.insert(pair(p));
            }
        }
        let max_len = patterns.iter().map(|p| p.len()).max().unwrap_or(0);
        let heads: Box<[u64]> = patterns.iter().map(|p| head(p)).collect();
        // About one pattern per directory cell.
        let directory_bits = heads.len().max(1).ilog2().clamp(4, 16);
        let directory_shift = 64 - directory_bits;
        let directory = cell_starts(heads.iter().copied(), directory_bits);
        let mut starts = Filter::empty(
            (patterns.len() * 16)
                .next_power_of_two()
                .clamp(1 << 12, 1 << 21),
        );
        for p in &patterns {
            for n in (3..p.len()).take(2) {
                starts.insert(start_key(&p[..n]));
            }
        }
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
            pairs,
            starts,
            heads,
            directory: directory.into_boxed_slice(),
            directory_shift,
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

    /// Heap bytes used by the matcher and the pattern tables.
    pub(crate) fn memory_usage(&self) -> usize {
        let matcher = match &self.matcher {
            Matcher::Automaton(ac) => ac.memory_usage(),
            Matcher::Sampled(sampler) => sampler.memory_usage(),
        };
        matcher
            + self.sorted.capacity() * std::mem::size_of::<Box<[u8]>>()
            + self.sorted.iter().map(|p| p.len()).sum::<usize>()
            + self.pairs.len() / 8
            + self.starts.memory_usage()
            + self.heads.len() * 8
            + self.directory.len() * 4
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
                if self.is_proper_prefix(&tail[i..]) {
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
    fn is_proper_prefix(&self, probe: &[u8]) -> bool {
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
        let i = from + self.sorted[from..to].partition_point(|p| &**p <= probe);
        i < to && self.sorted[i].starts_with(probe)
    }
}

/// The first 16 bytes of `p`, zero-padded, as a big-endian number: where two differ, the
/// byte strings compare the same way.
#[inline]
fn key16(p: &[u8]) -> u128 {
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

/// A fixed-size set of small numbers.
struct BitSet(Box<[u64]>);

impl BitSet {
    /// An empty set of numbers below `len` (a power of two, at least 64).
    fn new(len: usize) -> BitSet {
        debug_assert!(len.is_power_of_two() && len >= 64);
        BitSet(vec![0; len / 64].into_boxed_slice())
    }

    /// The bound given to `new`.
    fn len(&self) -> usize {
        self.0.len() * 64
    }

    fn insert(&mut self, i: usize) {
        self.0[i / 64] |= 1 << (i % 64);
    }

    #[inline(always)]
    fn contains(&self, i: usize) -> bool {
        // The mask is a no-op (the length is a power of two) that spares a bounds check.
        self.0[(i / 64) & (self.0.len() - 1)] >> (i % 64) & 1 != 0
    }
}

/// The key of `start` (3 or 4 bytes) in [`Engine`]'s `starts`.
fn start_key(start: &[u8]) -> u64 {
    // Padded with 0xff; no copy of a variable length (a call, and a stall reading it back).
    let word = match *start {
        [a, b, c] => [a, b, c, 0xff, 0xff, 0xff, 0xff, 0xff],
        [a, b, c, d] => [a, b, c, d, 0xff, 0xff, 0xff, 0xff],
        _ => unreachable!("3 or 4 bytes"),
    };
    mix(u64::from_le_bytes(word))
}

/// Where the cells of `keys` (sorted by their top `bits` bits, or to be placed so) begin:
/// `starts[k]..starts[k + 1]` holds those whose top bits are `k`.
fn cell_starts(keys: impl Iterator<Item = u64>, bits: u32) -> Vec<u32> {
    let mut starts = vec![0u32; (1 << bits) + 1];
    for key in keys {
        starts[(key >> (64 - bits)) as usize + 1] += 1;
    }
    for k in 1..starts.len() {
        starts[k] += starts[k - 1];
    }
    starts
}

/// A sampled q-gram index over the patterns, for sets too large for the automaton's
/// prefilter.
///
/// An occurrence of a pattern at least `min_len` long that starts at `x` contains the q-gram
/// at the first position `p >= x` divisible by `stride`, at offset `p - x < stride`, and that
/// q-gram lies inside the pattern as `stride <= min_len - q + 1`. So probing one q-gram every
/// `stride` bytes against each pattern's q-grams at `stride` consecutive offsets, and
/// comparing the patterns listed for a q-gram that is found, finds every occurrence.
struct Sampler {
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
    /// The largest offset in `entries`: an occurrence found by a probe at `at` starts at
    /// `at - horizon` or later.
    horizon: usize,
}

/// A q-gram of a pattern: its [`mix`], the pattern's index and the q-gram's offset in it.
#[derive(Clone, Copy)]
struct Entry {
    key: u64,
    pattern: u32,
    offset: u32,
}

/// For each of `n` patterns, whether one of its `entries` has a key that more than
/// [`CROWDED`] entries have (or, rarely, a hash that more keys have).
fn crowded(entries: &[Entry], n: usize) -> Vec<bool> {
    let mut counts = Counts::new((entries.len() * 2).next_power_of_two());
    for e in entries {
        counts.add(e.key);
    }
    let mut crowded = vec![false; n];
    for e in entries.iter().filter(|e| counts.get(e.key) > CROWDED) {
        crowded[e.pattern as usize] = true;
    }
    crowded
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

/// Saturating counts of keys ([`mix`]es of q-grams) by their top bits.
struct Counts {
    counts: Vec<u8>,
    shift: u32,
}

impl Counts {
    /// Counts in `size` (a power of two) cells, all 0.
    fn new(size: usize) -> Counts {
        Counts {
            counts: vec![0; size],
            shift: 64 - size.trailing_zeros(),
        }
    }

    fn add(&mut self, key: u64) {
        let c = &mut self.counts[(key >> self.shift) as usize];
        *c = c.saturating_add(1);
    }

    fn get(&self, key: u64) -> usize {
        usize::from(self.counts[(key >> self.shift) as usize])
    }
}

/// A q-gram listed for more patterns than this makes the index choose offsets by how
/// widely their q-grams are shared.
const CROWDED: usize = 8;

/// Patterns shorter than this are not sampled.
const MIN_SAMPLED: usize = 4;

/// The filter's size, in bits per index entry (rounded to a power of two) ...
const FILTER_SIZE: usize = 64;

/// ... while that makes a filter of at most this many bits (256 KiB, half of a common L2
/// cache) ...
const FILTER_MAX: usize = 1 << 21;

/// ... else this many.
const LARGE_FILTER_SIZE: usize = 16;

/// The second filter's size, in bits per index entry.
const SECOND_FILTER_SIZE: usize = 16;

/// The longest stride: more offsets per pattern fill the index faster than longer strides
/// save probes.
const MAX_STRIDE: usize = 16;

/// Up to this many patterns, 4-byte q-grams (a longer stride) rarely occur by chance; past
/// it, 6-byte ones keep chance hits rare. (5-byte ones, a stride one longer, made 10,000
/// secrets 5-10% faster on the benchmark log but a log of hex digests with hex secrets a
/// third slower.)
const FEW_PATTERNS: usize = 4096;

/// Probes per block in [`Sampler::for_each_hit`]; their offsets in a block fit a `u16` as
/// strides are at most [`MAX_STRIDE`].
const PROBES: usize = 1024;

/// A one-bit Bloom filter of keys ([`mix`]es): the top bits of a key are its bit. A power of
/// two bits long.
struct Filter {
    bits: BitSet,
    /// `64 - log2(bits)`.
    shift: u32,
}

impl Filter {
    /// A filter of the `n` `keys`, [`size`](Filter::size) bits long.
    fn new(keys: impl Iterator<Item = u64>, n: usize, size: usize) -> Filter {
        let mut filter = Filter::empty(Filter::size(n, size));
        for key in keys {
            filter.insert(key);
        }
        filter
    }

    /// An empty filter of `nbits` bits (a power of two, at least 64).
    fn empty(nbits: usize) -> Filter {
        Filter {
            bits: BitSet::new(nbits),
            shift: 64 - nbits.trailing_zeros(),
        }
    }

    /// The length of a filter of `n` keys, `size` bits per key: rounded to the nearest power
    /// of two (not the next: up to a third less memory), at least 4,096.
    fn size(n: usize, size: usize) -> usize {
        let want = n.saturating_mul(size).clamp(1 << 12, 1 << 32);
        let up = want.next_power_of_two();
        if up - want > want - up / 2 {
            up / 2
        } else {
            up
        }
    }

    fn insert(&mut self, key: u64) {
        self.bits.insert((key >> self.shift) as usize);
    }

    /// Whether `key` may be in the filter (always, if it is).
    #[inline(always)]
    fn contains(&self, key: u64) -> bool {
        self.bits.contains((key >> self.shift) as usize)
    }

    fn memory_usage(&self) -> usize {
        self.bits.len() / 8
    }
}

/// A second key for the same q-gram, independent of the first's top bits.
#[inline(always)]
fn remix(key: u64) -> u64 {
    mix(key ^ (key >> 29))
}

/// A bijective mix of a q-gram whose top bits are its hash.
#[inline(always)]
fn mix(gram: u64) -> u64 {
    gram.wrapping_mul(0x9E37_79B9_7F4A_7C15)
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
            filter: Filter::empty(64),
            second: Filter::empty(64),
            entries: Box::default(),
            buckets: Box::default(),
            buckets_shift: 0,
            horizon: 0,
        };
        // Any `stride` consecutive offsets of a pattern will do; first the last ones, as
        // tokens share prefixes (`glcbt-64_`) far more often than suffixes. A pattern that
        // this lists under a q-gram many patterns share is indexed instead at the offsets
        // whose q-grams the other patterns share least.
        let mut entries = Vec::with_capacity(patterns.len() * stride);
        for (i, p) in patterns.iter().enumerate() {
            sampler.push_entries(&mut entries, i, p, p.len() + 1 - q - stride);
        }
        let crowded = crowded(&entries, patterns.len());
        if crowded.contains(&true) {
            let shared = sampler.sketch(patterns);
            entries.retain(|e| !crowded[e.pattern as usize]);
            let mut counts = Vec::new();
            for (i, p) in patterns.iter().enumerate().filter(|&(i, _)| crowded[i]) {
                counts.clear();
                counts.extend((0..=p.len() - q).map(|o| shared.get(mix(sampler.gram_at(p, o)))));
                sampler.push_entries(&mut entries, i, p, least_run(&counts, stride));
            }
        }
        u32::try_from(entries.len()).ok()?;
        sampler.horizon = entries.iter().map(|e| e.offset as usize).max().unwrap_or(0);
        let keys = entries.iter().map(|e| e.key);
        let size = match Filter::size(entries.len(), FILTER_SIZE) {
            bits if bits > FILTER_MAX => LARGE_FILTER_SIZE,
            _ => FILTER_SIZE,
        };
        sampler.filter = Filter::new(keys.clone(), entries.len(), size);
        sampler.second = Filter::new(keys.map(remix), entries.len(), SECOND_FILTER_SIZE);
        // One or two entries per bucket, placed by a counting sort.
        let bits = (entries.len() / 2)
            .next_power_of_two()
            .max(16)
            .trailing_zeros();
        let shift = 64 - bits;
        sampler.buckets_shift = shift;
        let buckets = cell_starts(entries.iter().map(|e| e.key), bits);
        let mut next = buckets.clone();
        let mut sorted = vec![entries[0]; entries.len()];
        for e in &entries {
            let slot = &mut next[(e.key >> shift) as usize];
            sorted[*slot as usize] = *e;
            *slot += 1;
        }
        let entries = sorted;
        sampler.buckets = buckets.into_boxed_slice();
        sampler.entries = entries.into_boxed_slice();
        Some(sampler)
    }

    /// Adds the entries of pattern `i`, `p`, at the `stride` offsets from `from`.
    fn push_entries(&self, entries: &mut Vec<Entry>, i: usize, p: &[u8], from: usize) {
        entries.extend((from..from + self.stride).map(|offset| Entry {
            key: mix(self.gram_at(p, offset)),
            pattern: i as u32,
            offset: offset as u32,
        }));
    }

    /// How many of the patterns' q-grams hash like each q-gram, roughly.
    fn sketch(&self, patterns: &[Box<[u8]>]) -> Counts {
        let total: usize = patterns.iter().map(|p| p.len() + 1 - self.q).sum();
        let mut sketch = Counts::new(total.next_power_of_two().clamp(1 << 10, 1 << 18));
        for p in patterns {
            for o in 0..=p.len() - self.q {
                sketch.add(mix(self.gram_at(p, o)));
            }
        }
        sketch
    }

    fn memory_usage(&self) -> usize {
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
        bucket.iter().filter(move |e| e.key == key)
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
        patterns: &[Box<[u8]>],
        found: &mut Vec<(usize, usize)>,
    ) {
        for e in self.lookup(gram) {
            let p = &patterns[e.pattern as usize];
            let Some(start) = at.checked_sub(e.offset as usize) else {
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

    /// Filters hold every key they were given, and pass few others.
    #[test]
    fn filters_hold_their_keys_and_few_others() {
        let mut seed = 0x0bad_cafe_f00d_d00d;
        for (n, size, most) in [(100, 64, 0.03), (30_000, 64, 0.02), (300_000, 16, 0.08)] {
            let keys: Vec<u64> = (0..n).map(|_| rng(&mut seed)).collect();
            let filter = Filter::new(keys.iter().copied(), n, size);
            assert!(keys.iter().all(|&k| filter.contains(k)), "{n} keys");
            let passed = (0..100_000)
                .filter(|_| filter.contains(rng(&mut seed)))
                .count();
            assert!(
                passed as f64 <= most * 1e5,
                "{n} keys: {passed} chance hits"
            );
        }
    }

    /// With thousands of patterns (a smaller first filter, 6-byte q-grams), every embedded
    /// pattern is found.
    #[test]
    fn large_sets_find_every_pattern() {
        let mut seed = 0x5eed_5eed_5eed_5eed;
        let patterns: Vec<Box<[u8]>> = (0..9000)
            .map(|_| {
                let len = 12 + (rng(&mut seed) % 30) as usize;
                (0..len)
                    .map(|_| b"0123456789abcdef"[(rng(&mut seed) % 16) as usize])
                    .collect()
            })
            .collect();
        let engine = Engine::new(patterns.clone());
        match &engine.matcher {
            Matcher::Sampled(sampler) => {
                assert!(sampler.filter.memory_usage() * 8 <= FILTER_MAX && sampler.q == 6)
            }
            Matcher::Automaton(_) => panic!("not sampled"),
        }
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
        engine.for_each_candidate(&hay, |s, e| candidates.push((s, e)));
        for &(s, e) in &embedded {
            assert!(
                candidates.iter().any(|&(a, b)| a <= s && e <= b),
                "({s}, {e}) missed"
            );
        }
    }
}
