//! Long and self-overlapping patterns: one search for their first bytes (heads), and from
//! each head a Knuth–Morris–Pratt matcher, so that finding them, and telling how much of the
//! text could still begin one, costs time linear in the text however long the pattern and
//! however often it overlaps itself (runs of its own prefix included).

use memchr::memmem;

use super::patterns::Patterns;
use super::sampler::Sampler;
use super::{Range, Text};

/// The length of a pattern's head: a match, or a suffix that could begin one and is at least
/// this long, starts with it. Every long pattern is longer (`exact.rs`: past `PERIODIC`).
const HEAD: usize = 64;

/// The long patterns of a set.
pub(crate) struct Longs {
    /// The buffer the patterns are in (it may hold other strings too) ...
    bytes: Patterns,
    /// ... and, per pattern, its index there ...
    which: Box<[u32]>,
    /// ... and its failure function.
    fails: Box<[Fail]>,
    /// Finds the first of the distinct heads ...
    heads: Option<Heads>,
    /// ... and each of them ...
    each: Vec<memmem::Finder<'static>>,
    /// ... and `by_head[h]` lists the patterns that begin with head `h`.
    by_head: Vec<Vec<usize>>,
}

/// The search for the first of the distinct heads at or after a position.
enum Heads {
    /// The one head.
    One(memmem::Finder<'static>),
    /// The sampled q-gram index of the heads (sorted): a probe every few dozen bytes, where a
    /// search for their first bytes reads every byte.
    Sampled(Sampler, Patterns),
}

impl Heads {
    /// The search for `heads` (distinct, sorted, each [`HEAD`] bytes long; at least one).
    fn new(heads: &[&[u8]]) -> Heads {
        match heads {
            [head] => Heads::One(memmem::Finder::new(head).into_owned()),
            _ => {
                let heads = Patterns::new(heads.iter().copied());
                let sampler = Sampler::new(&heads, HEAD)
                    .expect("heads are long enough to sample, and fewer than a sampler takes");
                Heads::Sampled(sampler, heads)
            }
        }
    }

    /// The first head in `hay` that starts at `from` or later: where, and which.
    fn first(&self, hay: &[u8], from: usize) -> Option<(usize, usize)> {
        match self {
            Heads::One(finder) => Some((from + finder.find(&hay[from..])?, 0)),
            Heads::Sampled(sampler, heads) => sampler.first(hay, from, heads),
        }
    }

    fn memory_usage(&self) -> usize {
        match self {
            Heads::One(finder) => finder.needle().len(),
            Heads::Sampled(sampler, heads) => sampler.memory_usage() + heads.memory_usage(),
        }
    }
}

/// A stream's scratch space for [`Longs`].
#[derive(Clone, Default)]
pub(crate) struct Scan {
    /// The occurrences found by the last [`Longs::held`], in no particular order.
    found: Vec<Range>,
    /// Per pattern, where its matcher last stopped with nothing partly matched.
    covered: Vec<usize>,
}

/// One pattern with its failure function.
struct Long<'a> {
    pattern: &'a [u8],
    fail: &'a Fail,
}

/// A pattern's failure function: `fail(k)` is the length of the longest proper border (both
/// prefix and suffix) of `pattern[..k]`, for `k` in `1..=len`; `fail(0)` is 0.
enum Fail {
    /// Every value, for a pattern that overlaps itself often.
    Dense(Box<[u32]>),
    /// The `(k, fail(k))` with `fail(k) > 0`: most long secrets have few borders, and a table
    /// of every value would cost four bytes per byte of the pattern.
    Sparse(Sparse),
}

/// The `(k, fail(k))` with `fail(k) > 0`, in three bytes each: `k`'s low 16 bits by `k`
/// (`starts[b]` is where those with `k >> 16 == b` begin), and `fail(k)` in a byte, or
/// [`u8::MAX`] and the value in `big`.
struct Sparse {
    starts: Box<[u32]>,
    low: Box<[u16]>,
    fail: Box<[u8]>,
    big: Box<[(u32, u32)]>,
}

impl Sparse {
    /// From the pairs `(k, fail(k))`, by `k`, for a pattern of `len` bytes.
    fn new(pairs: &[(u32, u32)], len: usize) -> Sparse {
        let blocks = (len >> 16) + 1;
        let mut starts = Vec::with_capacity(blocks + 1);
        let mut at = 0;
        for b in 0..=blocks as u32 {
            while at < pairs.len() && pairs[at].0 >> 16 < b {
                at += 1;
            }
            starts.push(at as u32);
        }
        let small = |f: u32| u8::try_from(f).ok().filter(|&f| f < u8::MAX);
        Sparse {
            starts: starts.into_boxed_slice(),
            low: pairs.iter().map(|&(k, _)| k as u16).collect(),
            fail: pairs
                .iter()
                .map(|&(_, f)| small(f).unwrap_or(u8::MAX))
                .collect(),
            big: pairs
                .iter()
                .copied()
                .filter(|&(_, f)| small(f).is_none())
                .collect(),
        }
    }

    #[inline]
    fn get(&self, k: usize) -> usize {
        let b = k >> 16;
        let (from, to) = (self.starts[b] as usize, self.starts[b + 1] as usize);
        match self.low[from..to].binary_search(&(k as u16)) {
            Ok(i) => match self.fail[from + i] {
                u8::MAX => {
                    let j = self
                        .big
                        .binary_search_by_key(&(k as u32), |&(k, _)| k)
                        .expect("every escaped value is listed");
                    self.big[j].1 as usize
                }
                f => f as usize,
            },
            Err(_) => 0,
        }
    }

    fn memory_usage(&self) -> usize {
        self.starts.len() * 4 + self.low.len() * 3 + self.big.len() * 8
    }
}

impl Fail {
    /// The failure function of `p`.
    fn new(p: &[u8]) -> Fail {
        let mut sparse: Vec<(u32, u32)> = Vec::new();
        let at = |sparse: &[(u32, u32)], k: usize| match sparse
            .binary_search_by_key(&(k as u32), |&(i, _)| i)
        {
            Ok(i) => sparse[i].1 as usize,
            Err(_) => 0,
        };
        let mut k = 0usize;
        for i in 1..p.len() {
            while k > 0 && p[i] != p[k] {
                k = at(&sparse, k);
            }
            if p[i] == p[k] {
                k += 1;
            }
            if k > 0 {
                sparse.push(((i + 1) as u32, k as u32));
            }
        }
        // Past a quarter of the values (a pattern that overlaps itself often), every value:
        // each lookup is one load.
        if sparse.len() > p.len() / 4 {
            let mut dense = vec![0u32; p.len() + 1];
            for (k, f) in sparse {
                dense[k as usize] = f;
            }
            Fail::Dense(dense.into_boxed_slice())
        } else {
            Fail::Sparse(Sparse::new(&sparse, p.len()))
        }
    }

    #[inline]
    fn get(&self, k: usize) -> usize {
        match self {
            Fail::Dense(d) => d[k] as usize,
            Fail::Sparse(s) => s.get(k),
        }
    }

    fn memory_usage(&self) -> usize {
        match self {
            Fail::Dense(d) => d.len() * 4,
            Fail::Sparse(s) => s.memory_usage(),
        }
    }
}

impl Longs {
    /// The matchers for the strings `which` of `bytes` (each at least [`HEAD`] bytes long);
    /// the other strings of `bytes` are unused.
    pub(crate) fn new(bytes: Patterns, which: Vec<u32>) -> Longs {
        // The distinct heads, sorted, and the patterns that begin with each.
        let head = |i: usize| &bytes[which[i] as usize][..HEAD];
        let mut order: Vec<usize> = (0..which.len()).collect();
        order.sort_by_key(|&i| head(i));
        let mut heads: Vec<&[u8]> = Vec::new();
        let mut by_head: Vec<Vec<usize>> = Vec::new();
        for i in order {
            if heads.last() != Some(&head(i)) {
                heads.push(head(i));
                by_head.push(Vec::new());
            }
            by_head.last_mut().expect("pushed above").push(i);
        }
        let each = heads
            .iter()
            .map(|h| memmem::Finder::new(h).into_owned())
            .collect();
        let heads = (!heads.is_empty()).then(|| Heads::new(&heads));
        let fails = which
            .iter()
            .map(|&w| Fail::new(&bytes[w as usize]))
            .collect();
        Longs {
            bytes,
            which: which.into_boxed_slice(),
            fails,
            heads,
            each,
            by_head,
        }
    }

    /// Whether there are none.
    pub(crate) fn is_empty(&self) -> bool {
        self.which.is_empty()
    }

    /// How many there are.
    pub(crate) fn len(&self) -> usize {
        self.which.len()
    }

    /// The patterns.
    pub(crate) fn patterns(&self) -> impl Iterator<Item = &[u8]> + '_ {
        self.which.iter().map(|&w| &self.bytes[w as usize])
    }

    /// Pattern `i` and its failure function.
    fn long(&self, i: usize) -> Long<'_> {
        Long {
            pattern: &self.bytes[self.which[i] as usize],
            fail: &self.fails[i],
        }
    }

    /// The matchers, by pattern.
    fn longs(&self) -> impl Iterator<Item = Long<'_>> + '_ {
        (0..self.len()).map(|i| self.long(i))
    }

    /// Heap bytes used.
    pub(crate) fn memory_usage(&self) -> usize {
        self.bytes.memory_usage()
            + self.which.len() * 4
            + self.fails.iter().map(Fail::memory_usage).sum::<usize>()
            + self.heads.as_ref().map_or(0, Heads::memory_usage)
    }

    /// Finds every occurrence in `text` (kept in `scan` for [`ranges`](Self::ranges)) and
    /// returns the start of the longest suffix that is a proper prefix of one of the patterns
    /// (`text.len()` if none).
    pub(crate) fn held(&self, text: &Text<'_>, scan: &mut Scan) -> usize {
        let n = text.len();
        scan.found.clear();
        let Some(heads) = &self.heads else {
            return n;
        };
        scan.covered.clear();
        scan.covered.resize(self.len(), 0);
        let mut held = n;
        // Heads in order, all of them by one search while they are new; once one is found
        // again inside the stretch its matchers covered already (a run of it), each head by
        // its own search from where its matchers stopped, which skips such runs.
        let (mut at, mut repeated) = (0, false);
        while let Some((pos, h)) = find(text, at, |hay, from| heads.first(hay, from)) {
            if self.by_head[h].iter().all(|&i| scan.covered[i] > pos) {
                repeated = true;
                break;
            }
            held = held.min(self.start(h, pos, text, scan));
            at = pos + 1;
        }
        if repeated {
            for (h, head) in self.each.iter().enumerate() {
                let mut from = at;
                while let Some((pos, ())) = find(text, from, |hay, from| {
                    Some((from + head.find(&hay[from..])?, ()))
                }) {
                    held = held.min(self.start(h, pos, text, scan));
                    let covered = self.by_head[h].iter().map(|&i| scan.covered[i]).min();
                    from = covered.unwrap_or(0).max(pos + 1);
                }
            }
        }
        // A suffix shorter than a head.
        for (i, long) in self.longs().enumerate() {
            if scan.covered[i] < n {
                let from = n.saturating_sub(HEAD - 1).max(scan.covered[i]);
                if let Some(s) = (from..n).find(|&s| long.begins(text, s)) {
                    held = held.min(s);
                }
            }
        }
        held
    }

    /// Runs the matchers of the patterns of head `h` that `pos` is not covered for, from
    /// `pos`; returns the start of the suffix they hold (`text.len()` if none).
    fn start(&self, h: usize, pos: usize, text: &Text<'_>, scan: &mut Scan) -> usize {
        let n = text.len();
        let mut held = n;
        for &i in &self.by_head[h] {
            if pos >= scan.covered[i] {
                let (end, k) = self.long(i).run(text, pos, &mut scan.found);
                scan.covered[i] = end;
                if k > 0 {
                    held = held.min(n - k);
                }
            }
        }
        held
    }

    /// Pushes onto `out` the occurrences the last [`held`](Self::held) found that start
    /// before `held`; returns whether there were any.
    pub(crate) fn ranges(&self, scan: &mut Scan, held: usize, out: &mut Vec<Range>) -> bool {
        let first = out.len();
        out.extend(scan.found.iter().filter(|&&(s, _)| s < held));
        out.len() > first
    }
}

/// The first find at or after text position `from`, by `search(hay, from)` (which returns a
/// position in `hay` and what was found): over `carry`, then over a copy of the heads that
/// start in its last `HEAD - 1` bytes (cut so that only they lie in it), then over `input`.
/// A head that lies in `carry` starts before one that crosses into `input`.
fn find<T>(
    text: &Text<'_>,
    from: usize,
    mut search: impl FnMut(&[u8], usize) -> Option<(usize, T)>,
) -> Option<(usize, T)> {
    let c = text.carry.len();
    if from < c {
        if let Some(found) = search(text.carry, from) {
            return Some(found);
        }
        let start = c.saturating_sub(HEAD - 1).max(from);
        let end = text.len().min(c + HEAD - 1);
        let mut across = [0u8; 2 * (HEAD - 1)];
        let across = &mut across[..end - start];
        across
            .iter_mut()
            .zip(start..)
            .for_each(|(b, i)| *b = text.at(i));
        if let Some((pos, t)) = search(across, 0) {
            return Some((start + pos, t));
        }
    }
    let (pos, t) = search(text.input, from.max(c) - c)?;
    Some((c + pos, t))
}

impl Long<'_> {
    fn len(&self) -> usize {
        self.pattern.len()
    }

    /// The state after `b`, from state `k` (the length of the pattern's prefix that ends the
    /// text so far; `len` after a match).
    #[inline]
    fn step(&self, mut k: usize, b: u8) -> usize {
        let p = self.pattern;
        if k == p.len() {
            k = self.fail.get(k);
        }
        while k > 0 && p[k] != b {
            k = self.fail.get(k);
        }
        if p[k] == b {
            k + 1
        } else {
            0
        }
    }

    /// Matches from `start` (where nothing before is partly matched) until nothing is partly
    /// matched or the text ends, pushing each occurrence onto `found`. Returns where it
    /// stopped and, at the end of the text, the length of the longest suffix that is a
    /// proper prefix (else 0).
    fn run(&self, text: &Text<'_>, start: usize, found: &mut Vec<Range>) -> (usize, usize) {
        let (n, len) = (text.len(), self.len());
        let mut k = 0;
        for i in start..n {
            k = self.step(k, text.at(i));
            if k == len {
                found.push((i + 1 - len, i + 1));
            }
            if k == 0 {
                return (i + 1, 0);
            }
        }
        if k == len {
            k = self.fail.get(k);
        }
        (n, k)
    }

    /// Whether the text from `s` to its end is a prefix of the pattern.
    fn begins(&self, text: &Text<'_>, s: usize) -> bool {
        let n = text.len();
        n - s < self.len() && (s..n).all(|j| text.at(j) == self.pattern[j - s])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The failure function, sparse or dense, is the prefix function computed plainly.
    #[test]
    fn failure_functions_match_the_plain_one() {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for round in 0..2000 {
            crate::testing::rng(&mut seed);
            let alphabet = [2, 3, 26, 256][round % 4];
            let len = 1 + (seed % 300) as usize;
            let mut x = seed;
            let p: Vec<u8> = (0..len)
                .map(|_| {
                    x = x
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    ((x >> 33) % alphabet) as u8
                })
                .collect();
            let fail = Fail::new(&p);
            for k in 0..=len {
                let border = (0..k).rev().find(|&b| p[..b] == p[k - b..k]).unwrap_or(0);
                assert_eq!(fail.get(k), border, "round {round}, k {k}");
            }
        }
    }

    /// Over several 64 Ki blocks of `k`, with borders too long for a byte: the sparse list
    /// gives every value of the prefix function.
    #[test]
    fn sparse_failure_functions_span_blocks_and_long_borders() {
        let mut x = 0x853c_49e6_748f_ea9bu64;
        let mut letter = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            b'a' + (x % 26) as u8
        };
        let mut p: Vec<u8> = (0..140_000).map(|_| letter()).collect();
        p.extend_from_within(..300);
        p.extend((0..140_000).map(|_| letter()));
        p.extend_from_within(..65_600);
        let fail = Fail::new(&p);
        assert!(matches!(fail, Fail::Sparse(_)));
        let mut plain = vec![0usize; p.len() + 1];
        let mut k = 0;
        for i in 1..p.len() {
            while k > 0 && p[i] != p[k] {
                k = plain[k];
            }
            if p[i] == p[k] {
                k += 1;
            }
            plain[i + 1] = k;
        }
        assert_eq!(plain.iter().max(), Some(&65_600));
        assert!((0..=p.len()).all(|k| fail.get(k) == plain[k]));
    }

    #[test]
    fn held_and_occurrences_match_the_naive_answers() {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut rng = move || crate::testing::rng(&mut seed);
        let mut scan = Scan::default();
        for round in 0..3000 {
            // Self-overlapping patterns over a two-letter alphabet, some sharing a head.
            let patterns: Vec<Box<[u8]>> = (0..1 + rng() % 3)
                .map(|_| {
                    let len = HEAD + (rng() % 12) as usize;
                    (0..len)
                        .map(|_| if rng() % 4 == 0 { b'b' } else { b'a' })
                        .collect()
                })
                .collect();
            let n = patterns.len() as u32;
            let longs = Longs::new(
                Patterns::new(patterns.iter().map(|p| &**p)),
                (0..n).collect(),
            );
            // Whole patterns, their prefixes and other bytes, so that occurrences overlap,
            // abut and end the text.
            let mut text: Vec<u8> = Vec::new();
            for _ in 0..rng() % 5 {
                let p = &patterns[(rng() % n as u64) as usize];
                match rng() % 3 {
                    0 => text.extend_from_slice(p),
                    1 => text.extend_from_slice(&p[..(rng() as usize) % p.len()]),
                    _ => text.extend((0..rng() % 8).map(|_| [b'a', b'b'][(rng() % 2) as usize])),
                }
            }
            let c = (rng() as usize) % (text.len() + 1);
            let t = Text {
                carry: &text[..c],
                input: &text[c..],
                eof: false,
            };
            let want_held = (0..text.len())
                .find(|&i| {
                    patterns
                        .iter()
                        .any(|p| text.len() - i < p.len() && p.starts_with(&text[i..]))
                })
                .unwrap_or(text.len());
            assert_eq!(longs.held(&t, &mut scan), want_held, "{round}");
            let held = (rng() as usize) % (text.len() + 1);
            let mut got = Vec::new();
            longs.ranges(&mut scan, held, &mut got);
            got.sort_unstable();
            got.dedup();
            let mut want: Vec<Range> = patterns
                .iter()
                .flat_map(|p| {
                    (0..text.len())
                        .filter(|&s| s < held && text[s..].starts_with(p))
                        .map(|s| (s, s + p.len()))
                })
                .collect();
            want.sort_unstable();
            want.dedup();
            assert_eq!(got, want, "{round}");
        }
    }
}
