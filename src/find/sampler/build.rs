//! Building the sampled q-gram index: the q-gram length and stride, which q-grams of each
//! pattern it lists, and its filters and buckets.

use super::{Entry, Sampler, MAX_PATTERNS, MIN_SAMPLED, OFFSET_BITS, PROBES, WINDOW};
use crate::find::filter::{mix, remix, BitSet, Counts, Filter};
use crate::find::patterns::Patterns;

/// Sets of at least this many patterns build their second filter on a thread of its own.
const PARALLEL: usize = 10_000;

/// Up to this many crowded patterns move by the counts of the q-grams indexed for all
/// patterns; past it, by a sketch of every q-gram of every pattern.
const FEW_CROWDED: usize = 1024;

/// A q-gram listed for more patterns than this makes the index choose offsets by how
/// widely their q-grams are shared.
const CROWDED: usize = 8;

/// The bits of the set of crowded cells the build keeps beside their counts.
const FULL: usize = 1 << 16;

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
/// offsets (DESIGN.md, issue 12, session 7) ...
const MAX_STRIDE_FEW: usize = 32;

/// ... and up to [`VERY_FEW_PATTERNS`], whose index is small at any stride (a long
/// pattern's heads, one secret of 64 bytes or more with its variants).
const MAX_STRIDE_VERY_FEW: usize = 64;

/// See [`MAX_STRIDE_VERY_FEW`].
const VERY_FEW_PATTERNS: usize = 64;

/// Up to this many patterns, 4-byte q-grams (a longer stride) rarely occur by chance; past
/// it, 6-byte ones keep chance hits rare. (5-byte ones, a stride one longer, made 10,000
/// secrets 5-10% faster on the benchmark log but a log of hex digests with hex secrets a
/// third slower.)
const FEW_PATTERNS: usize = 4096;

/// The index's entries per bucket, on average (rounded to a power of two of buckets).
const ENTRIES_PER_BUCKET: usize = 4;

const _: () = assert!(
    PROBES * MAX_STRIDE_VERY_FEW <= 1 << 16
        && MAX_STRIDE <= MAX_STRIDE_FEW
        && MAX_STRIDE_FEW <= MAX_STRIDE_VERY_FEW
);

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
        let max_stride = match patterns.len() {
            n if n <= VERY_FEW_PATTERNS => MAX_STRIDE_VERY_FEW,
            n if n <= FEW_PATTERNS => MAX_STRIDE_FEW,
            _ => MAX_STRIDE,
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
        let n = patterns.len() * stride;
        u32::try_from(n).ok()?;
        // A few entries per bucket (about a cache line), placed by a counting sort: each
        // bucket's keys counted in the crowded check's last pass, then those of the patterns
        // that move taken from their old buckets to their new ones.
        let bits = (n / ENTRIES_PER_BUCKET)
            .next_power_of_two()
            .max(16)
            .trailing_zeros();
        let shift = 64 - bits;
        let mut buckets = vec![0u32; (1 << bits) + 1];
        let bucket = |key: u64| (key >> shift) as usize + 1;
        let (crowded, indexed) = crowded(&sampler, patterns, &from, |key| {
            buckets[bucket(key)] += 1;
        });
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
                let (old, new) = (usize::from(from[i]), least_run(&counts, stride));
                for o in 0..stride {
                    buckets[bucket(mix(sampler.gram_at(p, old + o)))] -= 1;
                    buckets[bucket(mix(sampler.gram_at(p, new + o)))] += 1;
                }
                from[i] = new as u8;
            }
        }
        for b in 1..buckets.len() {
            buckets[b] += buckets[b - 1];
        }
        sampler.horizon = from.iter().map(|&f| usize::from(f)).max().unwrap_or(0) + stride - 1;
        let size = match Filter::size(n, FILTER_SIZE) {
            bits if bits > FILTER_MAX => LARGE_FILTER_SIZE,
            _ => FILTER_SIZE,
        };
        // The second filter beside the index, which fills the first as it places the entries.
        let second = || {
            let mut second = Filter::empty(Filter::size(n, SECOND_FILTER_SIZE));
            sampler.for_each_key(patterns, &from, |_, _, key| second.insert(remix(key)));
            second
        };
        let entries = || {
            let filter = Filter::empty(Filter::size(n, size));
            let mut placer = Placer::new(&buckets, n, filter);
            sampler.for_each_key(patterns, &from, |i, offset, key| {
                placer.push(key, Entry::new(key, i, offset, sampler.check_shift));
            });
            placer.finish()
        };
        // On a second core where the set is large.
        let ((entries, filter), second) = if patterns.len() < PARALLEL {
            (entries(), second())
        } else {
            crate::parallel::join(entries, second)
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
}

/// The patterns one of whose q-grams at `from[i]..from[i] + stride` has a key that more
/// than [`CROWDED`] such q-grams of all patterns have (or, rarely, a hash that more keys
/// have), and the counts of those q-grams' keys; calls `f` with each of the keys.
fn crowded(
    sampler: &Sampler,
    patterns: &Patterns,
    from: &[u8],
    mut f: impl FnMut(u64),
) -> (Vec<usize>, Counts) {
    // At most one key a cell on average: a cell of more than `CROWDED` by chance is rare.
    let mut counts = Counts::new((patterns.len() * sampler.stride).next_power_of_two());
    // The crowded cells, by the low bits of their number: a set small enough to stay in the
    // first-level cache, so that the second pass reads the counts only where it says so.
    let mut full = BitSet::new(FULL);
    sampler.for_each_key(patterns, from, |_, _, key| {
        if counts.add(key) == CROWDED + 1 {
            full.insert(counts.cell(key) % FULL);
        }
    });
    let mut crowded = Vec::new();
    sampler.for_each_key(patterns, from, |i, _, key| {
        f(key);
        if full.contains(counts.cell(key) % FULL)
            && counts.get(key) > CROWDED
            && crowded.last() != Some(&i)
        {
            crowded.push(i);
        }
    });
    (crowded, counts)
}

/// A [`Placer`] puts the keys in at least this many groups by their top bits, where there
/// are as many buckets.
const GROUPS_LOG2: u32 = 8;

/// Places entries by their keys' top bits, in bucket order and, within a bucket, in the
/// order pushed, and puts the keys into a filter. Entries are first appended to their
/// group's run, with the next 16 bits of their key; then each run is ordered by bucket in a
/// copy and its keys' bits set in the filter. The writes of a large index go to a few
/// hundred places in turn, then to one group's part of the index and of the filter at a
/// time, not all over them (DESIGN.md, session 13).
struct Placer<'a> {
    /// Where each bucket's slots begin (bucket `b` is the keys whose top bits are `b`), and
    /// at the end where the last one's end.
    starts: &'a [u32],
    entries: Vec<Entry>,
    /// The 16 bits after the group's in each entry's key.
    within: Vec<u16>,
    /// The end of each group's run.
    ends: Vec<u32>,
    /// A key's group is its top `group_bits` bits.
    group_bits: u32,
    /// A key's bucket is its top `bucket_bits` bits.
    bucket_bits: u32,
    filter: Filter,
}

impl<'a> Placer<'a> {
    /// A placer of `n` entries into the buckets (a power of two of them) whose first slots
    /// are `starts` (followed by the end of the last), and of their keys into `filter`.
    fn new(starts: &'a [u32], n: usize, filter: Filter) -> Placer<'a> {
        let buckets = starts.len() - 1;
        debug_assert!(buckets.is_power_of_two());
        let bucket_bits = buckets.trailing_zeros();
        let widest = bucket_bits.max(filter.bits());
        let group_bits = GROUPS_LOG2
            .max(widest.saturating_sub(16))
            .min(bucket_bits.min(filter.bits()));
        // Else the filter would miss keys: never so for the sizes `Sampler::new` makes.
        assert!(widest <= group_bits + 16, "a key's bits to keep fit 16");
        Placer {
            starts,
            entries: vec![Entry(0); n],
            within: vec![0; n],
            ends: starts[..buckets]
                .iter()
                .step_by(1 << (bucket_bits - group_bits))
                .copied()
                .collect(),
            group_bits,
            bucket_bits,
            filter,
        }
    }

    /// Places `entry`, of `key`.
    #[inline]
    fn push(&mut self, key: u64, entry: Entry) {
        let end = &mut self.ends[(key >> (64 - self.group_bits)) as usize];
        self.entries[*end as usize] = entry;
        self.within[*end as usize] = (key >> (48 - self.group_bits)) as u16;
        *end += 1;
    }

    /// The entries, each in its place, and the filter.
    fn finish(mut self) -> (Vec<Entry>, Filter) {
        let per_group = 1 << (self.bucket_bits - self.group_bits);
        let (mut run, mut next) = (Vec::new(), Vec::new());
        for (group, first) in (0..self.starts.len() - 1).step_by(per_group).enumerate() {
            let (lo, hi) = (
                self.starts[first] as usize,
                self.starts[first + per_group] as usize,
            );
            run.clear();
            run.extend_from_slice(&self.entries[lo..hi]);
            next.clear();
            next.extend_from_slice(&self.starts[first..first + per_group]);
            let group = (group as u64) << (64 - self.group_bits);
            for (&entry, &within) in run.iter().zip(&self.within[lo..hi]) {
                // The key's top bits, as many as the buckets and the filter need.
                let top = group | u64::from(within) << (48 - self.group_bits);
                let slot = &mut next[(top >> (64 - self.bucket_bits)) as usize - first];
                self.entries[*slot as usize] = entry;
                *slot += 1;
                self.filter.insert(top);
            }
        }
        (self.entries, self.filter)
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::find::filter::cell_starts;
    use crate::testing;
    use crate::testing::rng;

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
                testing::unions(testing::occurrences(&patterns, &hay)),
                "{count} patterns, {sharing} sharing"
            );
        }
    }

    /// The crowded patterns are those with a key in a cell of more than [`CROWDED`] keys,
    /// counted in full: the small set of crowded cells in front of the counts misses none.
    #[test]
    fn crowded_patterns_are_those_of_crowded_cells() {
        let mut seed = 0x00c0_ffee_0bad_f00d;
        for (count, sharing) in [(500, 0), (3000, 40), (20_000, 300)] {
            let mut patterns = random_patterns(&mut seed, count, 14..30, b"0123456789abcdef");
            for p in &mut patterns[..sharing] {
                let n = p.len();
                p[n - 12..].copy_from_slice(b"-shared-tail");
            }
            patterns.sort_unstable();
            patterns.dedup();
            let stored = Patterns::new(patterns.iter().map(|p| &p[..]));
            let sampler = Sampler::new(&stored, 14).expect("sampled");
            let (q, stride) = (sampler.q, sampler.stride);
            let from: Vec<u8> = stored
                .iter()
                .map(|p| (p.len().min(WINDOW) + 1 - q - stride) as u8)
                .collect();
            let (got, counts) = crowded(&sampler, &stored, &from, |_| {});
            let mut cells = std::collections::HashMap::new();
            sampler.for_each_key(&stored, &from, |_, _, key| {
                *cells.entry(counts.cell(key)).or_insert(0) += 1;
            });
            let mut want = Vec::new();
            sampler.for_each_key(&stored, &from, |i, _, key| {
                if cells[&counts.cell(key)] > CROWDED && want.last() != Some(&i) {
                    want.push(i);
                }
            });
            assert_eq!(got, want, "{count} patterns, {sharing} sharing");
            assert!(
                want.len() >= sharing.min(1),
                "{count} patterns: none crowded"
            );
        }
    }

    /// Entries land where one pass of `next[bucket] += 1` puts them: by bucket (their keys'
    /// top bits) and, within one, in the order given; and the filter is the one their keys
    /// make. With fewer buckets than groups and more, filters smaller and larger than the
    /// buckets, and a few buckets that many keys share.
    #[test]
    fn entries_are_placed_as_in_one_pass() {
        let mut seed = 0x91ac_e5ee_d5a1_7e55;
        for (bits, n, filter_bits, shared) in [
            (4, 100, 12, false),
            (16, 50_000, 12, false),
            (16, 50_000, 22, false),
            (18, 200_000, 23, true),
        ] {
            let given: Vec<(u64, Entry)> = (0..n)
                .map(|k| {
                    let key = rng(&mut seed);
                    let key = match shared && key % 4 == 0 {
                        true => (key % 8) << 61,
                        false => key,
                    };
                    (key, Entry(k as u32))
                })
                .collect();
            let bucket = |key: u64| (key >> (64 - bits)) as usize;
            let starts = cell_starts(given.iter().map(|&(key, _)| key), bits);
            let (mut next, mut want) = (starts.clone(), vec![0; n]);
            let mut filter = Filter::empty(1 << filter_bits);
            for &(key, e) in &given {
                want[next[bucket(key)] as usize] = e.0;
                next[bucket(key)] += 1;
                filter.insert(key);
            }
            let mut placer = Placer::new(&starts, n, Filter::empty(1 << filter_bits));
            given.iter().for_each(|&(key, e)| placer.push(key, e));
            let (got, got_filter) = placer.finish();
            let case = format!("{} buckets, {n} entries, 2^{filter_bits} bits", 1 << bits);
            assert!(got.iter().map(|e| e.0).eq(want.iter().copied()), "{case}");
            assert!(got_filter == filter, "{case}");
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

    /// Long patterns (the longest strides, for a few and for very few): the unions are
    /// exactly those of every occurrence, embedded ones and ones that overlap, at every
    /// offset from the probes.
    #[test]
    fn long_strides_find_every_occurrence() {
        let mut seed = 0x1234_5678_9abc_def1;
        for (count, lens, stride) in [
            (VERY_FEW_PATTERNS + 40, 40..130, MAX_STRIDE_FEW),
            (VERY_FEW_PATTERNS, 70..160, MAX_STRIDE_VERY_FEW),
        ] {
            let min = lens.start;
            let mut patterns = random_patterns(&mut seed, count, lens, b"ab");
            patterns.sort();
            patterns.dedup();
            let stored = Patterns::new(patterns.iter().map(|p| &p[..]));
            let sampler = Sampler::new(&stored, min).expect("sampled");
            assert_eq!(sampler.stride, stride);
            let mut hay = Vec::new();
            for i in 0..400 {
                let gap = rng(&mut seed) % 70;
                hay.extend((0..gap).map(|_| b"abc"[(rng(&mut seed) % 3) as usize]));
                hay.extend_from_slice(&patterns[i % patterns.len()]);
            }
            let mut unions = Vec::new();
            sampler.unions(&hay, &stored, usize::MAX, &mut unions);
            assert_eq!(
                unions,
                testing::unions(testing::occurrences(&patterns, &hay))
            );
        }
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
