//! The exact finder: every occurrence of the secrets' byte strings (values, their lines and
//! their encoded variants), overlapping ones included.
//!
//! Occurrences inside a chunk come from one search over it: a substring search for a single
//! pattern, the sampled q-gram index for more, an automaton where the patterns are too short
//! to sample. Occurrences that start in the held bytes are searched in them, and across their
//! end in the edge (their last bytes and as much of the chunk as the longest short pattern
//! needs, copied: never all the held bytes), and the hold-back is
//! the prefix index's answer; patterns that are long or overlap themselves get a matcher of
//! their own at the edge ([`Longs`]), so no hit ever costs a rescan as long as the longest
//! pattern of the set.

use aho_corasick::{AhoCorasick, MatchKind};
use memchr::memmem;
use std::sync::OnceLock;

use super::long::{Longs, Scan};
use super::patterns::Patterns;
use super::prefix::{key16, Prefixes};
use super::sampler::Sampler;
use super::splits::Splits;
use super::{prefetch, Find, Range, Text};

/// A pattern longer than this is searched at the edge by a [`Longs`] matcher, not in the
/// edge copy and the prefix index (whose work grows with the longest pattern they hold).
const LONG: usize = 4096;

/// A pattern longer than this whose first [`PERIODIC`] bytes repeat with a period below half
/// that is long too: runs of its own prefix would make the prefix index compare long
/// strings at many positions.
const PERIODIC: usize = 64;

/// Sets of at least this many short patterns build their hold-back index on a thread of its
/// own.
const PARALLEL: usize = 10_000;

/// The search over `shorts` (distinct, sorted), whose shortest is `min_len` bytes long.
fn search(shorts: &Patterns, min_len: usize) -> Search {
    match shorts.len() {
        0 => Search::Nothing,
        1 => Search::One(
            memmem::Finder::new(&shorts[0]).into_owned(),
            period(&shorts[0]),
        ),
        _ => match Sampler::new(shorts, min_len) {
            Some(sampler) => Search::Sampled(sampler),
            None => Search::Automaton(
                AhoCorasick::builder()
                    .match_kind(MatchKind::Standard)
                    .build(shorts.iter())
                    .expect("a set of literal patterns of bounded size always compiles"),
            ),
        },
    }
}

/// A compiled, immutable set of byte patterns.
pub(crate) struct Exact {
    /// The distinct short patterns, sorted.
    shorts: Patterns,
    search: Search,
    /// The hold-back index of the short patterns.
    prefixes: Prefixes,
    /// The matchers of the long patterns.
    long: Longs,
    /// The length of the longest short pattern, less one: how far an occurrence that starts
    /// in the held bytes can reach into the chunk.
    reach: usize,
    /// The length of the longest pattern; 0 for an empty set.
    max_len: usize,
    /// Whether a pattern holds a `%`.
    percent: bool,
    /// The splits a wrapped-base64 break can cross, made when first asked for.
    splits: OnceLock<Splits>,
}

/// How the occurrences inside one slice are found.
enum Search {
    /// No pattern.
    Nothing,
    /// A single pattern, and its smallest period: the next occurrence that can overlap one
    /// at `s` starts at `s + period` or later.
    One(memmem::Finder<'static>, usize),
    /// The sampled q-gram index, for two or more patterns at least
    /// [`MIN_SAMPLED`](super::sampler::MIN_SAMPLED) long.
    Sampled(Sampler),
    /// An automaton with standard (overlapping) semantics, for the rest.
    Automaton(AhoCorasick),
}

/// A stream's scratch space for the exact finder.
#[derive(Clone, Default)]
pub(crate) struct Scratch {
    /// The last held bytes followed by the head of the chunk.
    edge: Vec<u8>,
    /// The tail of the text, where the chunk is shorter than it.
    tail: Vec<u8>,
    /// The long patterns' occurrences and matchers.
    scan: Scan,
}

impl Exact {
    /// Compiles `patterns` (non-empty byte strings; duplicates are dropped).
    pub(crate) fn new(patterns: Patterns) -> Exact {
        // In byte order, comparing the first 16 bytes as a number first (it spares most calls
        // to `memcmp`); the long ones apart.
        let mut order: Vec<(u128, u32)> = patterns
            .iter()
            .enumerate()
            .map(|(i, p)| (key16(p), i as u32))
            .collect();
        sort(&mut order, &patterns);
        // One pass in that order: a copy of each distinct short pattern, the long ones noted.
        // (Equal patterns are next to each other, and both long or both short.)
        let mut shorts = Patterns::with_capacity(order.len(), patterns.bytes().len());
        let (mut long, mut long_bytes) = (Vec::new(), 0);
        // The patterns are read in no order of their own: each one's end, then its bytes, is
        // asked for a few patterns ahead.
        let (ends, bytes) = (patterns.ends(), patterns.bytes());
        for (k, &(key, i)) in order.iter().enumerate() {
            if let Some(&(_, j)) = order.get(k + 16) {
                prefetch(ends.as_ptr().wrapping_add(j as usize));
            }
            if let Some(&(_, j)) = order.get(k + 8) {
                prefetch(bytes.as_ptr().wrapping_add(ends[j as usize] - 1));
            }
            let p = &patterns[i as usize];
            if k > 0 && order[k - 1].0 == key && patterns[order[k - 1].1 as usize] == *p {
                continue;
            }
            if is_long(p) {
                long.push(i);
                long_bytes += p.len();
            } else {
                shorts.push(p);
            }
        }
        drop(order);
        shorts.shrink_to_fit();
        let max_len = (shorts
            .iter()
            .chain(long.iter().map(|&i| &patterns[i as usize])))
        .map(<[u8]>::len)
        .max()
        .unwrap_or(0);
        // The long patterns stay where they are when they are most of the bytes (a few long
        // secrets), else they are copied out.
        let long = if 2 * long_bytes >= patterns.memory_usage() {
            Longs::new(patterns, long)
        } else {
            let mut copy = Patterns::with_capacity(long.len(), long_bytes);
            long.iter().for_each(|&i| copy.push(&patterns[i as usize]));
            drop(patterns);
            Longs::new(copy, (0..long.len() as u32).collect())
        };
        let reach = shorts.iter().map(<[u8]>::len).max().unwrap_or(1) - 1;
        let percent = shorts
            .iter()
            .chain(long.patterns())
            .any(|p| memchr::memchr(b'%', p).is_some());

        let min_len = shorts.iter().map(<[u8]>::len).min().unwrap_or(0);
        // The hold-back index beside the search, on a second core where the set is large.
        // `thread::scope` registers the calling thread; small sets never enter it.
        let (search, prefixes) = if shorts.len() < PARALLEL {
            (search(&shorts, min_len), Prefixes::new(&shorts))
        } else {
            crate::parallel::join(|| search(&shorts, min_len), || Prefixes::new(&shorts))
        };
        Exact {
            shorts,
            search,
            prefixes,
            long,
            reach,
            max_len,
            percent,
            splits: OnceLock::new(),
        }
    }

    /// Whether some pattern holds a `%`.
    pub(crate) fn has_percent(&self) -> bool {
        self.percent
    }

    /// Calls `f(start, end)` for every occurrence in `hay`, in no particular order.
    pub(crate) fn occurrences_in(
        &self,
        scratch: &mut Scratch,
        hay: &[u8],
        mut f: impl FnMut(usize, usize),
    ) {
        self.for_each_occurrence(hay, &mut f);
        if !self.long.is_empty() {
            let text = Text {
                carry: &[],
                input: hay,
                eof: true,
            };
            self.held(scratch, &text);
            let mut found = Vec::new();
            self.long.ranges(&mut scratch.scan, hay.len(), &mut found);
            found.into_iter().for_each(|(s, e)| f(s, e));
        }
    }

    /// The splits of its patterns that a line break after a base64 run can cross.
    pub(crate) fn splits(&self) -> &Splits {
        self.splits.get_or_init(|| Splits::new(|| self.patterns()))
    }

    /// The number of distinct patterns.
    pub(crate) fn len(&self) -> usize {
        self.shorts.len() + self.long.len()
    }

    /// The distinct patterns, in no particular order.
    pub(crate) fn patterns(&self) -> impl Iterator<Item = &[u8]> + '_ {
        self.shorts.iter().chain(self.long.patterns())
    }

    /// Whether `p` is one of the patterns.
    pub(crate) fn contains(&self, p: &[u8]) -> bool {
        if is_long(p) {
            return self.long.patterns().any(|q| q == p);
        }
        let key = key16(p);
        let n = self.shorts.len();
        let i = self.shorts.partition_point(0..n, |q| {
            key16(q).cmp(&key).then_with(|| q.cmp(p)) == std::cmp::Ordering::Less
        });
        i < n && &self.shorts[i] == p
    }

    /// Length of the longest pattern (0 when there are none).
    pub(crate) fn max_len(&self) -> usize {
        self.max_len
    }

    /// Heap bytes used by the search and the pattern tables.
    pub(crate) fn memory_usage(&self) -> usize {
        let search = match &self.search {
            Search::Nothing => 0,
            Search::One(finder, _) => finder.needle().len(),
            Search::Sampled(sampler) => sampler.memory_usage(),
            Search::Automaton(ac) => ac.memory_usage(),
        };
        search
            + self.shorts.memory_usage()
            + self.prefixes.memory_usage()
            + self.long.memory_usage()
            + self.splits.get().map_or(0, Splits::memory_usage)
    }

    /// Calls `f(start, end)` for every occurrence in `hay`, in no particular order.
    fn for_each_occurrence(&self, hay: &[u8], mut f: impl FnMut(usize, usize)) {
        match &self.search {
            Search::Nothing => {}
            Search::One(finder, period) => {
                let len = finder.needle().len();
                let mut at = 0;
                while let Some(i) = finder.find(&hay[at..]) {
                    f(at + i, at + i + len);
                    at += i + period;
                }
            }
            Search::Sampled(sampler) => sampler.for_each_occurrence(hay, &self.shorts, f),
            Search::Automaton(ac) => {
                for m in ac.find_overlapping_iter(hay) {
                    f(m.start(), m.end());
                }
            }
        }
    }

    /// Pushes onto `out`, in order, the maximal unions of the occurrences in `hay` that
    /// start before `limit`, each shifted by `offset`.
    fn unions(&self, hay: &[u8], limit: usize, offset: usize, out: &mut Vec<Range>) {
        let first = out.len();
        match &self.search {
            Search::Sampled(sampler) => sampler.unions(hay, &self.shorts, limit, out),
            _ => {
                let mut union: Option<Range> = None;
                let mut found = Vec::new();
                self.for_each_occurrence(hay, |s, e| {
                    if s < limit {
                        found.push((s, e))
                    }
                });
                found.sort_unstable();
                for (s, e) in found {
                    union = Some(match union {
                        Some((a, b)) if s <= b => (a, b.max(e)),
                        Some(done) => {
                            out.push(done);
                            (s, e)
                        }
                        None => (s, e),
                    });
                }
                out.extend(union);
            }
        }
        for r in &mut out[first..] {
            *r = (r.0 + offset, r.1 + offset);
        }
    }
}

impl Find for Exact {
    type State = Scratch;

    fn held(&self, scratch: &mut Scratch, text: &Text<'_>) -> usize {
        let (from, tail) = text.tail(self.reach, &mut scratch.tail);
        let mut held = from + self.prefixes.held_start(&self.shorts, tail);
        if !self.long.is_empty() {
            held = held.min(self.long.held(text, &mut scratch.scan));
        }
        held
    }

    fn ranges(&self, scratch: &mut Scratch, text: &Text<'_>, held: usize, out: &mut Vec<Range>) {
        let (c, first) = (text.carry.len(), out.len());
        if c > 0 && held > 0 {
            // Occurrences that start in the held bytes, before `held`: those that start
            // before `split` lie in `carry` (no short pattern is longer than `reach + 1`),
            // the others are seen in a copy of `carry` from `split` and the head of the chunk.
            let limit = c.min(held);
            let split = c.saturating_sub(self.reach).min(limit);
            if split > 0 {
                let hay = &text.carry[..c.min(split + self.reach)];
                self.for_each_occurrence(hay, |s, e| {
                    if s < split {
                        out.push((s, e));
                    }
                });
            }
            if split < limit {
                let edge = text.across(split, self.reach, &mut scratch.edge);
                self.for_each_occurrence(edge, |s, e| {
                    if split + s < limit {
                        out.push((split + s, split + e));
                    }
                });
            }
            out[first..].sort_unstable();
        }
        if held > c {
            self.unions(text.input, held - c, c, out);
        }
        // Found by `held`, in the held bytes and the chunk alike.
        if !self.long.is_empty() && self.long.ranges(&mut scratch.scan, held, out) {
            out[first..].sort_unstable();
        }
    }
}

/// Sorts `order`, pairs of a pattern's [`key16`] and its index in `patterns`, in the
/// patterns' byte order; a large list in two parts on two threads.
fn sort(order: &mut [(u128, u32)], patterns: &Patterns) {
    let sort = |part: &mut [(u128, u32)]| {
        part.sort_unstable_by(|&(ka, a), &(kb, b)| {
            ka.cmp(&kb)
                .then_with(|| patterns[a as usize].cmp(&patterns[b as usize]))
        })
    };
    if order.len() < PARALLEL {
        return sort(order);
    }
    // The keys below the median of a sample first, then the others: each part sorted is the
    // whole sorted, as equal keys are all in the second part.
    let mut sample: Vec<u128> = (0..64).map(|k| order[k * order.len() / 64].0).collect();
    sample.sort_unstable();
    let pivot = sample[32];
    let (mut i, mut j) = (0, order.len());
    loop {
        while i < j && order[i].0 < pivot {
            i += 1;
        }
        while i < j && order[j - 1].0 >= pivot {
            j -= 1;
        }
        if i == j {
            break;
        }
        order.swap(i, j - 1);
    }
    let (below, rest) = order.split_at_mut(i);
    crate::parallel::join(|| sort(below), || sort(rest));
}

/// Whether `p` goes to a [`Longs`] matcher.
fn is_long(p: &[u8]) -> bool {
    p.len() > LONG || (p.len() > PERIODIC && period(&p[..PERIODIC]) < PERIODIC / 2)
}

/// The smallest period of `p` (not empty): the least `d > 0` with `p[i] == p[i + d]` for
/// every `i`, or `p.len()`.
fn period(p: &[u8]) -> usize {
    // The longest proper border, by the prefix function.
    let mut border = vec![0usize; p.len()];
    for i in 1..p.len() {
        let mut k = border[i - 1];
        while k > 0 && p[i] != p[k] {
            k = border[k - 1];
        }
        if p[i] == p[k] {
            k += 1;
        }
        border[i] = k;
    }
    p.len() - border[p.len() - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::testing::{rng, unions};

    /// Every occurrence of `patterns` in `text`, in order, each once.
    fn occurrences(patterns: &[Box<[u8]>], text: &[u8]) -> Vec<Range> {
        let patterns: Vec<Vec<u8>> = patterns.iter().map(|p| p.to_vec()).collect();
        let mut out = crate::testing::occurrences(&patterns, text);
        out.sort_unstable();
        out.dedup();
        out
    }

    /// A set large enough to be sorted in two parts on two threads, with many patterns
    /// sharing their first 16 bytes and duplicates: the short patterns are the distinct
    /// ones in byte order, each is [`Exact::contains`]ed, and the ranges are the naive ones.
    #[test]
    fn large_sets_sort_on_two_threads_as_on_one() {
        let mut seed = 0x7e57_0f7e_570f;
        let patterns: Vec<Box<[u8]>> = (0..PARALLEL + PARALLEL / 2)
            .map(|i| {
                let mut p = match i % 3 {
                    0 => b"glcbt-64_".to_vec(),
                    _ => Vec::new(),
                };
                let len = 10 + (rng(&mut seed) % 12) as usize;
                p.extend((0..len).map(|_| b"abcd"[(rng(&mut seed) % 4) as usize]));
                p.into_boxed_slice()
            })
            .collect();
        let exact = Exact::new(Patterns::new(patterns.iter().map(|p| &**p)));
        let mut want: Vec<&[u8]> = patterns.iter().map(|p| &**p).collect();
        want.sort_unstable();
        want.dedup();
        assert!(want.len() < patterns.len(), "duplicates among them");
        assert!(exact.shorts.iter().eq(want.iter().copied()));
        assert!(want.iter().all(|p| exact.contains(p)) && !exact.contains(b"glcbt-64_x"));
        let mut text = Vec::new();
        while text.len() < 1500 {
            match rng(&mut seed) % 3 {
                0 => text.extend_from_slice(&patterns[rng(&mut seed) as usize % patterns.len()]),
                _ => text.push(b"abcdx"[(rng(&mut seed) % 5) as usize]),
            }
        }
        let t = Text {
            carry: &[],
            input: &text,
            eof: false,
        };
        let mut scratch = Scratch::default();
        let held = exact.held(&mut scratch, &t);
        let mut got = Vec::new();
        exact.ranges(&mut scratch, &t, held, &mut got);
        let occ: Vec<Range> = occurrences(&patterns, &text)
            .into_iter()
            .filter(|&(s, _)| s < held)
            .collect();
        assert_eq!(unions(got), unions(occ));
    }

    #[test]
    fn periods() {
        assert_eq!(period(b"abcabcab"), 3);
        assert_eq!(period(b"aaaa"), 1);
        assert_eq!(period(b"abcd"), 4);
        assert!(is_long(&[b'a'; PERIODIC + 1]));
        assert!(!is_long(&[b'a'; PERIODIC]));
        assert!(is_long(&vec![b'x'; LONG + 1]) && !is_long(&(0..=255).collect::<Vec<u8>>()));
    }

    /// At a random split into held bytes and a chunk, with every kind of search (one
    /// pattern, sampled, automaton) and long and self-overlapping patterns among them: the
    /// hold-back is the longest suffix that is a proper prefix, and the ranges reported are
    /// exactly the occurrences that start before it, merged (inside the chunk).
    #[test]
    fn held_and_ranges_match_the_naive_answers() {
        let mut seed = 0x1234_5678_9abc_def1;
        for round in 0..600 {
            let count = [1, 2, 20, 90][round % 4];
            let mut patterns: Vec<Box<[u8]>> = (0..count)
                .map(|i| {
                    let len = match (round / 4 + i) % 5 {
                        0 => PERIODIC + 1 + (rng(&mut seed) % 40) as usize,
                        1 => 3,
                        _ => 6 + (rng(&mut seed) % 14) as usize,
                    };
                    let mut p = b"ab".to_vec();
                    p.extend((2..len).map(|_| b"abx"[(rng(&mut seed) % 3) as usize]));
                    p.truncate(len);
                    p.into_boxed_slice()
                })
                .collect();
            if round % 8 == 0 {
                // A self-overlapping long one.
                patterns.push([&[b'a'; 70][..], b"b"].concat().into());
            }
            let exact = Exact::new(Patterns::new(patterns.iter().map(|p| &**p)));
            let mut text = Vec::new();
            while text.len() < 250 {
                match rng(&mut seed) % 4 {
                    0 => text
                        .extend_from_slice(&patterns[(rng(&mut seed) as usize) % patterns.len()]),
                    1 => text.extend(std::iter::repeat(b'a').take((rng(&mut seed) % 80) as usize)),
                    _ => text.push(b"abx"[(rng(&mut seed) % 3) as usize]),
                }
            }
            // Held bytes longer than the longest short pattern too (as behind a long one).
            let c = (rng(&mut seed) as usize) % [120, text.len() + 1][round % 2];
            let t = Text {
                carry: &text[..c],
                input: &text[c..],
                eof: false,
            };
            let mut scratch = Scratch::default();
            let want_held = (0..text.len())
                .find(|&i| {
                    patterns
                        .iter()
                        .any(|p| p.len() > text.len() - i && p.starts_with(&text[i..]))
                })
                .unwrap_or(text.len());
            assert_eq!(exact.held(&mut scratch, &t), want_held, "round {round}");
            // Any limit at or below the true one (the core passes the least of all finders').
            let held = want_held - (rng(&mut seed) as usize) % (want_held + 1);
            let mut got = Vec::new();
            exact.ranges(&mut scratch, &t, held, &mut got);
            got.sort_unstable();
            let occ: Vec<Range> = occurrences(&patterns, &text)
                .into_iter()
                .filter(|&(s, _)| s < held)
                .collect();
            assert_eq!(unions(got), unions(occ), "round {round}");
        }
    }
}
