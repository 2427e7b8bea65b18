//! Long and self-overlapping patterns at the chunk edge: a Knuth–Morris–Pratt matcher per
//! pattern, so that what is held back and what starts in the held bytes costs time linear in
//! the text looked at, however long the pattern and however often it overlaps itself.

use aho_corasick::{AhoCorasick, Input, MatchKind};
use memchr::memmem;

use super::{Range, Text};

/// The long patterns of a set, with one search for the heads of all of them.
pub(crate) struct Longs {
    longs: Vec<Long>,
    /// Finds the distinct heads ...
    heads: Option<AhoCorasick>,
    /// ... and `by_head[h]` lists the patterns that begin with head `h`.
    by_head: Vec<Vec<usize>>,
    /// The length of the longest of them.
    max_len: usize,
}

impl Longs {
    /// The matchers for `patterns` (each at least [`HEAD`] bytes long).
    pub(crate) fn new(patterns: &[Box<[u8]>]) -> Longs {
        let longs: Vec<Long> = patterns.iter().map(|p| Long::new(p)).collect();
        let mut heads: Vec<&[u8]> = Vec::new();
        let mut by_head: Vec<Vec<usize>> = Vec::new();
        for (i, p) in patterns.iter().enumerate() {
            match heads.iter().position(|&h| h == &p[..HEAD]) {
                Some(h) => by_head[h].push(i),
                None => {
                    heads.push(&p[..HEAD]);
                    by_head.push(vec![i]);
                }
            }
        }
        let heads = (!heads.is_empty()).then(|| {
            AhoCorasick::builder()
                .match_kind(MatchKind::LeftmostFirst)
                .build(&heads)
                .expect("a few 4-byte strings always compile")
        });
        Longs {
            max_len: longs.iter().map(Long::len).max().unwrap_or(0),
            longs,
            heads,
            by_head,
        }
    }

    /// Whether there are none.
    pub(crate) fn is_empty(&self) -> bool {
        self.longs.is_empty()
    }

    /// Heap bytes used.
    pub(crate) fn memory_usage(&self) -> usize {
        self.longs.iter().map(Long::memory_usage).sum::<usize>()
            + self.heads.as_ref().map_or(0, AhoCorasick::memory_usage)
    }

    /// The start of the longest suffix of `text` that is a proper prefix of one of the
    /// patterns (`text.len()` if none). `edge` is `carry` followed by at least `HEAD - 1`
    /// bytes of `input` (or all of it); `starts` is scratch space.
    pub(crate) fn held(&self, text: &Text<'_>, edge: &[u8], starts: &mut Vec<usize>) -> usize {
        let Some(heads) = &self.heads else {
            return text.len();
        };
        let (n, c) = (text.len(), text.carry.len());
        // Each pattern's suffix starts in its last `len - 1` bytes, at its first head there
        // or in the last `HEAD - 1` bytes (`n` for none yet).
        let window = |i: usize| n.saturating_sub(self.longs[i].len() - 1);
        starts.clear();
        starts.resize(self.longs.len(), n);
        let mut left = self.longs.len();
        let from = n.saturating_sub(self.max_len - 1);
        // The heads that start in `carry` lie in `edge`; then those in `input`.
        let carry_part = (from < c).then(|| (0, &edge[..edge.len().min(c + HEAD - 1)]));
        let input_part = (c, text.input);
        for (offset, hay) in carry_part.into_iter().chain([input_part]) {
            let mut at = from.max(offset) - offset;
            while left > 0 && at < hay.len() {
                let Some(m) = heads.find(Input::new(hay).range(at..)) else {
                    break;
                };
                let pos = offset + m.start();
                for &i in &self.by_head[m.pattern().as_usize()] {
                    if starts[i] == n && pos >= window(i) {
                        starts[i] = pos;
                        left -= 1;
                    }
                }
                at = m.start() + 1;
            }
        }
        let mut held = n;
        for (i, long) in self.longs.iter().enumerate() {
            let start = match starts[i] {
                s if s < n => s,
                _ => long.short_start(text, window(i)).unwrap_or(n),
            };
            held = held.min(long.held_from(text, start));
        }
        held
    }

    /// Pushes onto `out` each occurrence that starts in `text.carry` before `held`.
    pub(crate) fn ranges_from_carry(
        &self,
        text: &Text<'_>,
        edge: &[u8],
        held: usize,
        out: &mut Vec<Range>,
    ) {
        for long in &self.longs {
            long.ranges_from_carry(text, edge, held, out);
        }
    }
}

/// One pattern with its failure function.
pub(crate) struct Long {
    pattern: Box<[u8]>,
    /// `fail[k]`: the length of the longest proper border (both prefix and suffix) of
    /// `pattern[..k]`, for `k` in `1..=len`; `fail[0]` is 0.
    fail: Box<[u32]>,
    /// Finds the first 4 bytes of the pattern: a suffix at least that long that is a prefix
    /// starts with them.
    head: memmem::Finder<'static>,
}

/// The length of a pattern's head (its first bytes, searched for).
const HEAD: usize = 4;

impl Long {
    /// The matcher for `pattern` (at least [`HEAD`] bytes long).
    fn new(pattern: &[u8]) -> Long {
        debug_assert!(pattern.len() >= HEAD);
        let mut fail = vec![0u32; pattern.len() + 1];
        let mut k = 0usize;
        for i in 1..pattern.len() {
            while k > 0 && pattern[i] != pattern[k] {
                k = fail[k] as usize;
            }
            if pattern[i] == pattern[k] {
                k += 1;
            }
            fail[i + 1] = k as u32;
        }
        Long {
            head: memmem::Finder::new(&pattern[..HEAD]).into_owned(),
            pattern: pattern.into(),
            fail: fail.into_boxed_slice(),
        }
    }

    /// The length of the pattern.
    fn len(&self) -> usize {
        self.pattern.len()
    }

    /// Heap bytes used.
    fn memory_usage(&self) -> usize {
        self.pattern.len() + self.fail.len() * 4
    }

    /// The state after `b`, from state `k` (the length of the pattern's prefix that ends the
    /// text so far; `len` after a match).
    #[inline]
    fn step(&self, mut k: usize, b: u8) -> usize {
        let p = &self.pattern;
        if k == p.len() {
            k = self.fail[k] as usize;
        }
        while k > 0 && p[k] != b {
            k = self.fail[k] as usize;
        }
        if p[k] == b {
            k + 1
        } else {
            0
        }
    }

    /// The first position in `from..to` where the text could begin the pattern: where its
    /// head occurs, or, in the last `HEAD - 1` bytes, where a part of the head does. `edge` is
    /// `carry` followed by at least `HEAD - 1` bytes of `input` (or all of it).
    fn next_start(&self, text: &Text<'_>, edge: &[u8], from: usize, to: usize) -> Option<usize> {
        let c = text.carry.len();
        let found = if from < c {
            // A head that starts in `carry` lies in `edge`.
            let end = edge.len().min(c + HEAD - 1).min(to + HEAD - 1);
            self.head.find(&edge[from..end]).map(|i| from + i)
        } else {
            None
        };
        let found = found.or_else(|| {
            let f = from.max(c) - c;
            let end = text.input.len().min((to + HEAD - 1).saturating_sub(c));
            (f < end)
                .then(|| self.head.find(&text.input[f..end]).map(|i| c + f + i))
                .flatten()
        });
        found
            .or_else(|| self.short_start(text, from))
            .filter(|&s| s < to)
    }

    /// Where, at or after `from`, a suffix of `text` shorter than the head begins the
    /// pattern.
    fn short_start(&self, text: &Text<'_>, from: usize) -> Option<usize> {
        let n = text.len();
        (from.max(n.saturating_sub(HEAD - 1))..n)
            .find(|&i| (i..n).all(|j| text.at(j) == self.pattern[j - i]))
    }

    /// The start of the longest suffix of `text` that is a proper prefix of the pattern,
    /// given `start`: where the first suffix that could be one begins (`text.len()` if none).
    fn held_from(&self, text: &Text<'_>, start: usize) -> usize {
        let n = text.len();
        let mut k = 0;
        for i in start..n {
            k = self.step(k, text.at(i));
        }
        if k == self.len() {
            k = self.fail[k] as usize;
        }
        n - k
    }

    /// The start of the longest suffix of `text` that is a proper prefix of the pattern
    /// (`text.len()` if none). `edge` as for [`next_start`](Self::next_start).
    #[cfg(test)]
    fn held(&self, text: &Text<'_>, edge: &[u8]) -> usize {
        let from = text.len().saturating_sub(self.len() - 1);
        let start = self
            .next_start(text, edge, from, text.len())
            .unwrap_or(text.len());
        self.held_from(text, start)
    }

    /// Pushes onto `out` each occurrence that starts in `text.carry` before `held`.
    fn ranges_from_carry(&self, text: &Text<'_>, edge: &[u8], held: usize, out: &mut Vec<Range>) {
        let (n, len) = (text.len(), self.len());
        let limit = text.carry.len().min(held);
        let mut i = 0;
        let mut k = 0;
        // Invariant: `text[i - k..i]` is the longest prefix of the pattern ending at `i`.
        while i < n {
            if k == 0 {
                // No partial match: skip to where one could begin, if still in time.
                match self.next_start(text, edge, i, limit) {
                    Some(s) => i = s,
                    None => return,
                }
            }
            k = self.step(k, text.at(i));
            i += 1;
            if k == len && i - len < limit {
                out.push((i - len, i));
            }
            if i - k >= limit {
                // Every partial match from here on starts at `limit` or later.
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive_held(p: &[u8], text: &[u8]) -> usize {
        (0..text.len())
            .find(|&i| text.len() - i < p.len() && p.starts_with(&text[i..]))
            .unwrap_or(text.len())
    }

    #[test]
    fn held_and_carry_ranges_match_the_naive_answers() {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut rng = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let mut edge = Vec::new();
        for round in 0..3000 {
            // Self-overlapping patterns over a two-letter alphabet.
            let len = 4 + (rng() % 12) as usize;
            let p: Vec<u8> = (0..len)
                .map(|_| if rng() % 4 == 0 { b'b' } else { b'a' })
                .collect();
            let long = Long::new(&p);
            let text: Vec<u8> = (0..(rng() % 40) as usize)
                .map(|_| if rng() % 5 == 0 { b'b' } else { b'a' })
                .collect();
            let c = (rng() as usize) % (text.len() + 1);
            let t = Text {
                carry: &text[..c],
                input: &text[c..],
                eof: false,
            };
            edge.clear();
            edge.extend_from_slice(&text[..(c + HEAD - 1).min(text.len())]);
            assert_eq!(long.held(&t, &edge), naive_held(&p, &text), "{round}");
            let held = (rng() as usize) % (text.len() + 1);
            let mut got = Vec::new();
            long.ranges_from_carry(&t, &edge, held, &mut got);
            let want: Vec<Range> = (0..c.min(held))
                .filter(|&s| text[s..].starts_with(&p))
                .map(|s| (s, s + len))
                .collect();
            assert_eq!(got, want, "{round}");
        }
    }
}
