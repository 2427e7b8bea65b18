//! Token shapes (CONTRACT §4): well-known token prefixes followed by token characters are masked
//! even when the value was never registered.
//!
//! The rule for every shape in [`SHAPES`]: wherever its prefix occurs, let the *body* be the
//! run of its token characters right after the prefix, as long as it goes. When the body is
//! at least the shape's shortest real body, the prefix and the whole body are masked; a
//! shorter body (`token=glcbt-64` in a runner's log line) is plain text.
//!
//! - There is no maximum length: a body longer than any real token is masked whole (a token
//!   format may grow, and a maximum would print the tail of such a token). Memory stays
//!   bounded anyway: bytes inside a masked range are dropped as they arrive, and the only
//!   state a run needs across chunks is which token classes it continues in.
//! - A prefix with punctuation in it need not follow a word boundary: `xglpat-…` is masked
//!   from `glpat-` on. Missing a token costs more than masking a rare look-alike. A prefix
//!   that is a plain alphanumeric word (`AKIA`, `AIza`, `dapi`, `eyJ`) counts only where no
//!   letter or digit comes right before it (for `AIza` and `dapi`, no `+` or `/` either):
//!   such prefixes occur by chance inside words and base64 blobs.
//! - What a stream holds back for shapes is the longest suffix that is a proper prefix of a
//!   shortest token (after a byte its boundary allows): a partial prefix, or a prefix and a
//!   body still too short. The stream keeps the byte before its held bytes, so that the
//!   boundary is judged the same however the stream is split.

mod search;
mod table;

use super::{Find, Range, Text};
use search::{Finder, Skip};
use table::{Boundary, Class, Shape, BY_FIRST, CLASSES, MAX_PREFIX, OUTSIDE_TOKENS};
pub(crate) use table::{ClassSet, MAX_TOKEN, SHAPES};

/// The smallest `i` such that `tail[i..]` is a proper prefix of a shortest token (a partial
/// prefix, or a prefix followed by a body still shorter than the shortest real one) after a
/// byte its boundary allows: the start of the longest suffix that later bytes could still
/// turn into a token. `before` is the byte before `tail` (`None` at the stream's start).
/// Returns `tail.len()` where no non-empty suffix qualifies.
pub(crate) fn held_start(tail: &[u8], before: Option<u8>) -> usize {
    let (from, by_first) = (tail.len().saturating_sub(MAX_TOKEN - 1), &*BY_FIRST);
    (from..tail.len())
        .find(|&i| {
            let before = i.checked_sub(1).map_or(before, |j| Some(tail[j]));
            by_first[usize::from(tail[i])]
                .iter()
                .any(|s| s.begins(&tail[i..]) && s.boundary.allows(before))
        })
        .unwrap_or(tail.len())
}

impl Shape {
    /// Whether `probe` is a proper prefix of a shortest token of this shape.
    fn begins(&self, probe: &[u8]) -> bool {
        if probe.len() < self.prefix.len() {
            return begins_with(self.prefix, probe);
        }
        let body = &probe[self.prefix.len()..];
        begins_with(probe, self.prefix)
            && body.len() < self.min_body
            && body.iter().all(|&b| self.class.contains(b))
    }
}

/// Whether `hay` begins with `prefix` (a few bytes: compared in place, not by a call, as
/// most differ at the first).
#[inline]
fn begins_with(hay: &[u8], prefix: &[u8]) -> bool {
    hay.len() >= prefix.len() && hay.iter().zip(prefix).all(|(a, b)| a == b)
}

/// The token-shape finder: the rule above for every row of [`SHAPES`].
pub(crate) struct Shapes;

/// What a stream carries for [`Shapes`].
#[derive(Clone, Default)]
pub(crate) struct ShapesState {
    /// The classes in which a masked body reaches the end of the text so far: the next
    /// bytes of these classes extend it.
    continued: ClassSet,
    /// The stream's byte right before the text (`None` at the stream's start).
    before: Option<u8>,
    /// The tail of the text, or the last bytes of the carry and the head of the chunk (at
    /// most [`MAX_TOKEN`] bytes).
    scratch: Vec<u8>,
    /// The ranges of the text being judged (kept for its allocation).
    found: Vec<Range>,
    /// The earlier finders' ranges that no token leaves (kept for its allocation).
    covers: Vec<Range>,
}

impl Find for Shapes {
    type State = ShapesState;

    fn held(&self, state: &mut ShapesState, text: &Text<'_>) -> usize {
        let (from, tail) = text.tail(MAX_TOKEN - 1, &mut state.scratch);
        let before = from
            .checked_sub(1)
            .map_or(state.before, |j| Some(text.at(j)));
        from + held_start(tail, before)
    }

    fn ranges(&self, state: &mut ShapesState, text: &Text<'_>, held: usize, out: &mut Vec<Range>) {
        // The earlier finders' ranges, if they are in order of start (one run, or runs that
        // do not interleave): a token inside one of them need not be reported.
        let masked = match out.windows(2).all(|w| w[0].0 <= w[1].0) {
            true => &out[..],
            false => &[],
        };
        covers(text, masked, &mut state.covers);
        let mut ranges = Ranges::new(text, state.before, state.continued, &mut state.scratch);
        ranges.covers = Skip {
            ranges: &state.covers,
            shift: 0,
        };
        let (mut found, continues) = (std::mem::take(&mut state.found), ranges.continued.is_some());
        found.clear();
        found.extend(std::iter::from_fn(|| ranges.take_before(held)));
        if continues {
            // The continuation came first; ranges that start in the held bytes precede it.
            found.sort_unstable();
        }
        state.continued = ranges.ongoing;
        out.extend_from_slice(&found);
        state.found = found;
        // The next text begins at `held`.
        state.before = match held.checked_sub(1) {
            _ if text.eof => None,
            Some(j) => Some(text.at(j)),
            None => state.before,
        };
    }
}

/// Sets `covers` to the ranges of `masked` (in order of start) that every token starting in
/// them ends in: those followed by a byte outside every class.
fn covers(text: &Text<'_>, masked: &[Range], covers: &mut Vec<Range>) {
    covers.clear();
    covers.extend(masked.iter().filter(|&&(start, end)| {
        start < end && end < text.len() && OUTSIDE_TOKENS[usize::from(text.at(end))]
    }));
}

/// The masked token ranges of the text `carry ++ input`, as `(start, end)` in text positions
/// and in order of start (the continuation of bodies from before first); taken one by one
/// with [`take_before`](Self::take_before).
struct Ranges<'a> {
    carry: &'a [u8],
    input: &'a [u8],
    /// The stream's byte before `carry`.
    before: Option<u8>,
    /// Prefixes that start before this position of `carry` end in it ...
    edge_from: usize,
    /// ... and `carry[edge_from..]` followed by the head of `input` is where the later ones
    /// that start in `carry` are found whole.
    edge: &'a [u8],
    /// The text ends the stream: a body reaching its end is complete.
    eof: bool,
    /// Prefixes starting before this position have been handled.
    next: usize,
    /// The range that continues the bodies of `continued`, not yet taken.
    continued: Option<(usize, usize)>,
    /// A range found and not yet taken, with its class.
    peeked: Option<(usize, usize, Class)>,
    /// Per class, `(from, end)`: a run `text[from..end)` of its characters that ends at the
    /// end of the text or before a byte outside the class (the last one found).
    runs: [Option<(usize, usize)>; CLASSES],
    /// The classes of the taken ranges whose bodies reach the end of the text (and are not
    /// complete).
    ongoing: ClassSet,
    /// Ranges of the text that other finders report (so they are masked), in order of
    /// start, that every token starting in them ends in; those that end by the last prefix
    /// found are dropped.
    covers: Skip<'a>,
}

impl<'a> Ranges<'a> {
    /// The ranges in `text`, after the stream's byte `before`. `continued` holds the classes
    /// in which a masked body reached the end of the previous text (which ends at the end of
    /// `carry`): the run of their characters at the start of `input` is masked too.
    /// `scratch` is working space.
    fn new(
        text: &Text<'a>,
        before: Option<u8>,
        continued: ClassSet,
        scratch: &'a mut Vec<u8>,
    ) -> Ranges<'a> {
        let (carry, input) = (text.carry, text.input);
        let c = carry.len();
        let edge_from = c.saturating_sub(MAX_PREFIX - 1);
        let mut ranges = Ranges {
            carry,
            input,
            before,
            edge_from,
            edge: text.across(edge_from, MAX_PREFIX - 1, scratch),
            eof: text.eof,
            next: 0,
            continued: None,
            peeked: None,
            runs: [None; CLASSES],
            ongoing: ClassSet::EMPTY,
            covers: Skip::default(),
        };
        let mut end = c;
        for class in continued.iter() {
            let run_end = ranges.run_end(class, c);
            end = end.max(run_end);
            ranges.note_ongoing(class, run_end);
        }
        if end > c {
            ranges.continued = Some((c, end));
        }
        ranges
    }

    /// The next range, if it starts before `limit` or continues a body from before.
    fn take_before(&mut self, limit: usize) -> Option<(usize, usize)> {
        if let Some(continued) = self.continued.take() {
            return Some(continued);
        }
        if self.peeked.is_none() {
            self.peeked = self.find();
        }
        match self.peeked {
            Some((start, end, class)) if start < limit => {
                self.peeked = None;
                self.note_ongoing(class, end);
                Some((start, end))
            }
            _ => None,
        }
    }

    fn len(&self) -> usize {
        self.carry.len() + self.input.len()
    }

    /// The next token range after `next`, with its class.
    fn find(&mut self) -> Option<(usize, usize, Class)> {
        loop {
            let (start, shape) = self.next_prefix()?;
            if shape.boundary != Boundary::Any && !shape.boundary.allows(self.before(start)) {
                self.next = start + 1;
                continue;
            }
            if let Some(end) = self.covered(start) {
                // Every token that starts in `start..end` ends by `end`: nothing to add.
                self.next = end;
                continue;
            }
            self.next = start + 1;
            let body = start + shape.prefix.len();
            let end = self.run_end(shape.class, body);
            if end - body >= shape.min_body {
                return Some((start, end, shape.class));
            }
        }
    }

    /// The end of a range of `covers` that contains `start` (not before the last prefix
    /// found): every token range that starts there ends by it.
    fn covered(&mut self, start: usize) -> Option<usize> {
        self.covers.containing(start).map(|(_, end)| end)
    }

    /// The covers from the last prefix found on, for a search of text from `shift` on.
    fn skip(&self, shift: usize) -> Skip<'a> {
        Skip {
            shift,
            ..self.covers
        }
    }

    /// The stream's byte before text position `i`.
    fn before(&self, i: usize) -> Option<u8> {
        match i.checked_sub(1) {
            Some(j) if j < self.carry.len() => Some(self.carry[j]),
            Some(j) => Some(self.input[j - self.carry.len()]),
            None => self.before,
        }
    }

    /// Records that a masked body of `class` ends at `end`.
    fn note_ongoing(&mut self, class: Class, end: usize) {
        if end == self.len() && !self.eof {
            self.ongoing.insert(class);
        }
    }

    /// The first prefix occurrence at or after `next`.
    fn next_prefix(&mut self) -> Option<(usize, &'static Shape)> {
        let (c, a) = (self.carry.len(), self.edge_from);
        let finder = Finder::get();
        if self.next < a {
            // The first prefix in `carry`: found whole there if it starts before `a`.
            match finder.find(self.carry, self.next, self.skip(0)) {
                Some((start, shape)) if start < a => return Some((start, shape)),
                _ => self.next = a,
            }
        }
        if self.next < c {
            match finder.find(self.edge, self.next - a, self.skip(a)) {
                Some((start, shape)) if a + start < c => return Some((a + start, shape)),
                _ => self.next = c,
            }
        }
        match finder.find(self.input, self.next - c, self.skip(c)) {
            Some((start, shape)) => Some((c + start, shape)),
            None => {
                // No prefix is left: later calls must not search again.
                self.next = self.len();
                None
            }
        }
    }

    /// The end of the run of `class` characters that starts at `from`.
    fn run_end(&mut self, class: Class, from: usize) -> usize {
        let end = match self.runs[class as usize] {
            Some((known_from, known_end)) if (known_from..=known_end).contains(&from) => {
                return known_end
            }
            // A run that reaches a known one ends where that one does.
            Some((known_from, known_end)) if from < known_from => {
                match self.scan(class, from, known_from) {
                    i if i == known_from => known_end,
                    i => i,
                }
            }
            _ => self.scan(class, from, self.len()),
        };
        self.runs[class as usize] = Some((from, end));
        end
    }

    /// The first position in `from..limit` whose byte is not in `class`, or `limit`.
    fn scan(&self, class: Class, from: usize, limit: usize) -> usize {
        let c = self.carry.len();
        let outside = |bytes: &[u8]| {
            bytes
                .iter()
                .position(|&b| !class.contains(b))
                .unwrap_or(bytes.len())
        };
        if from < c {
            let stop = limit.min(c);
            let i = from + outside(&self.carry[from..stop]);
            if i < stop || stop == limit {
                return i;
            }
        }
        let from = from.max(c);
        from + outside(&self.input[from - c..limit - c])
    }
}

/// The naive reference of the tests, which lists the rows again.
#[cfg(test)]
#[allow(dead_code)]
#[path = "../../../tests/util/naive.rs"]
mod naive;

#[cfg(test)]
mod tests {
    use super::table::SHAPES;
    use super::*;

    /// All ranges of `text`, taken from one `Ranges` over `carry ++ input`.
    fn ranges(carry: &[u8], input: &[u8], continued: ClassSet, eof: bool) -> Vec<(usize, usize)> {
        let mut scratch = Vec::new();
        let text = Text { carry, input, eof };
        let mut r = Ranges::new(&text, None, continued, &mut scratch);
        std::iter::from_fn(|| r.take_before(usize::MAX)).collect()
    }

    /// A small random number generator (xorshift) for the tests' inputs.
    fn xorshift(mut seed: u64) -> impl FnMut() -> usize {
        move || crate::testing::rng(&mut seed) as usize
    }

    /// The union of the bytes covered by `ranges`.
    fn covered_bytes(ranges: &[(usize, usize)], len: usize) -> Vec<bool> {
        let mut covered = vec![false; len];
        for &(a, b) in ranges {
            covered[a..b].iter_mut().for_each(|c| *c = true);
        }
        covered
    }

    /// Tokens inside another finder's masked range, followed by a byte no token covers, are
    /// left out; the union with the masked ranges, and what continues, stay the same.
    #[test]
    fn tokens_inside_masked_ranges_change_no_union() {
        let mut rng = xorshift(0x7a11_5eed_0bad_f00d);
        // Whole tokens (a prefix and a shortest body of letters), prefixes, and pieces.
        let tokens: Vec<Vec<u8>> = SHAPES
            .iter()
            .map(|s| [s.prefix, &b"Ab3".repeat(s.min_body / 3 + 1)].concat())
            .collect();
        let pieces: Vec<&[u8]> = SHAPES
            .iter()
            .map(|s| s.prefix)
            .chain(tokens.iter().map(|t| &t[..]))
            .chain([
                &b"0123456789abcdefXYZ"[..],
                b"AB12",
                b"_",
                b"-",
                b".",
                b"/",
                b" ",
                b"\n",
            ])
            .collect();
        let mut left_out = 0;
        for _ in 0..10_000 {
            let (len, mut text) = (1 + rng() % 300, Vec::new());
            while text.len() < len {
                text.extend_from_slice(pieces[rng() % pieces.len()]);
            }
            let (cut, eof) = (rng() % (text.len() + 1), rng() % 2 == 0);
            let (carry, input) = text.split_at(cut.min(MAX_PREFIX));
            let whole = Text { carry, input, eof };
            // Sorted masked ranges, any bytes at all; most end before a space or newline.
            let mut masked = Vec::new();
            let mut from = 0;
            for end in 1..=text.len() {
                let stop = text.get(end).is_some_and(|&b| b == b' ' || b == b'\n');
                if end > from && (stop && rng() % 3 != 0 || rng() % 40 == 0) {
                    let start = end - 1 - rng() % (end - from).min(120);
                    masked.push((start, end));
                    from = end + 1;
                }
            }
            let mut scratch = Vec::new();
            let mut plain = Ranges::new(&whole, None, ClassSet::EMPTY, &mut scratch);
            let all: Vec<_> = std::iter::from_fn(|| plain.take_before(usize::MAX)).collect();
            let mut scratch = Vec::new();
            let mut skip = Ranges::new(&whole, None, ClassSet::EMPTY, &mut scratch);
            let mut kept = Vec::new();
            covers(&whole, &masked, &mut kept);
            skip.covers = Skip {
                ranges: &kept,
                shift: 0,
            };
            let some: Vec<_> = std::iter::from_fn(|| skip.take_before(usize::MAX)).collect();
            assert!(some.iter().all(|r| all.contains(r)));
            left_out += all.len() - some.len();
            let with = |r: &[(usize, usize)]| covered_bytes(&[r, &masked].concat(), text.len());
            assert!(
                with(&all) == with(&some),
                "{:?}",
                String::from_utf8_lossy(&text)
            );
            assert_eq!(plain.ongoing, skip.ongoing);
        }
        assert!(left_out > 50, "{left_out}");
    }

    #[test]
    fn outside_tokens_is_in_no_class_and_no_prefix() {
        for b in 0..=255u8 {
            let in_token = ClassSet((1 << CLASSES) - 1).iter().any(|c| c.contains(b))
                || SHAPES.iter().any(|s| s.prefix.contains(&b));
            assert_eq!(OUTSIDE_TOKENS[usize::from(b)], !in_token, "{b}");
        }
        assert!(OUTSIDE_TOKENS[usize::from(b' ')] && !OUTSIDE_TOKENS[usize::from(b'/')]);
    }

    #[test]
    fn no_prefix_begins_or_contains_another() {
        // Leftmost-first search restarted after each match start then finds them all.
        for a in &SHAPES {
            for b in &SHAPES {
                let contains = a.prefix.windows(b.prefix.len()).any(|w| w == b.prefix);
                assert!(
                    std::ptr::eq(a, b) || !contains,
                    "{:?} {:?}",
                    a.prefix,
                    b.prefix
                );
            }
        }
    }

    #[test]
    fn prefixes_are_token_like() {
        // The table's invariants: bounded, non-trivial shortest bodies; prefixes of at least
        // 3 bytes (`hf_`, `SG.`, `eyJ`).
        for s in &SHAPES {
            assert!(s.min_body >= 16 && s.prefix.len() >= 3, "{:?}", s.prefix);
        }
        assert_eq!(MAX_TOKEN, "github_pat_".len() + 82);
        assert_eq!(MAX_PREFIX, "hooks.slack.com/workflows/".len());
        // Teddy, the SIMD searcher, takes at most 64 patterns: past that, no packed searcher.
        assert!(SHAPES.len() <= 64);
    }

    #[test]
    fn classes_hold_their_characters() {
        assert!(Class::GitLab.contains(b'.') && Class::GitLab.contains(b'-'));
        assert!(!Class::GitHub.contains(b'_') && Class::GitHubPat.contains(b'_'));
        assert!(Class::Slack.contains(b'-') && !Class::Slack.contains(b'_'));
        assert!(Class::Aws.contains(b'Z') && !Class::Aws.contains(b'z'));
        assert!(Class::Base64Url.contains(b'-') && !Class::Base64Url.contains(b'.'));
        assert!(Class::Base64.contains(b'/') && Class::Base64.contains(b'='));
        assert!(!Class::Base64.contains(b'.') && !Class::Base64Url.contains(b'+'));
        assert_eq!(ClassSet((1 << CLASSES) - 1).iter().count(), CLASSES);
        for class in ClassSet((1 << CLASSES) - 1).iter() {
            assert!(!class.contains(b' ') && !class.contains(b'\n') && !class.contains(0xe9));
        }
    }

    #[test]
    fn held_start_keeps_partial_tokens() {
        assert_eq!(held_start(b"", None), 0);
        assert_eq!(held_start(b"x gl", None), 2);
        assert_eq!(held_start(b"x glpat-", None), 2);
        assert_eq!(held_start(b"x glpat-0123456789012345678", None), 2); // 19 body bytes
        assert_eq!(held_start(b"x glpat-01234567890123456789", None), 28); // 20: masked, not held
        assert_eq!(held_start(b"x glpat-0123 ;", None), 14);
        assert_eq!(held_start(b"x glpat-0123 .", None), 13); // "." may begin ".atlasv1."
        assert_eq!(held_start(b"x hooks.slack.com/services/T0", None), 2);
        assert_eq!(held_start(b"x glpat-0123 x", None), 13); // "x" may begin "xoxb-"
        assert_eq!(held_start(b"AKIAAKIA", None), 0); // one body, and a prefix inside it
        assert_eq!(held_start(b"AKIA0123456789ABCDEF", None), 20);
        // A prefix that must begin a word is not held after a letter or digit.
        assert_eq!(held_start(b"xAKIA0123", None), 9);
        assert_eq!(held_start(b"AKIA0123", Some(b'7')), 8);
        assert_eq!(held_start(b"AKIA0123", Some(b'/')), 0);
        assert_eq!(held_start(b"AIza0123", Some(b'/')), 8);
        assert_eq!(held_start(b"xdapi", None), 5); // "d" may begin "dop_v1_", "dapi" not here
        assert_eq!(held_start(b"xd", None), 1);
        // Only the last MAX_TOKEN - 1 bytes can be held.
        let long = [&b"github_pat_"[..], &[b'a'; 81]].concat();
        assert_eq!(held_start(&long, None), 0);
        assert_eq!(held_start(&[&b"-"[..], &long].concat(), None), 1);
    }

    /// `held_start` tries only the rows with the byte's first letter: the same as trying
    /// every row, on tails made of prefixes, their pieces and body bytes.
    #[test]
    fn held_start_tries_every_row_that_could_begin() {
        let mut rng = xorshift(0x9e37_79b9_7f4a_7c15);
        let pieces: Vec<&[u8]> = SHAPES
            .iter()
            .flat_map(|s| [s.prefix, &s.prefix[..s.prefix.len() - 1], &s.prefix[1..]])
            .chain([
                &b"0123456789"[..],
                b"abcdefXYZ",
                b"_",
                b"-",
                b".",
                b" ",
                b"/+=",
            ])
            .collect();
        let every_row = |tail: &[u8], before: Option<u8>| {
            let from = tail.len().saturating_sub(MAX_TOKEN - 1);
            (from..tail.len())
                .find(|&i| {
                    let before = i.checked_sub(1).map_or(before, |j| Some(tail[j]));
                    SHAPES
                        .iter()
                        .any(|s| s.begins(&tail[i..]) && s.boundary.allows(before))
                })
                .unwrap_or(tail.len())
        };
        for _ in 0..4000 {
            let (len, mut tail) = (1 + rng() % 150, Vec::new());
            while tail.len() < len {
                tail.extend_from_slice(pieces[rng() % pieces.len()]);
            }
            let before = [None, Some(b'x'), Some(b'/'), Some(b' ')][rng() % 4];
            assert_eq!(
                held_start(&tail, before),
                every_row(&tail, before),
                "{:?}",
                String::from_utf8_lossy(&tail)
            );
        }
    }

    #[test]
    fn bodies_are_masked_whole_once_long_enough() {
        // A 38-byte body (36 is the shortest), then one too short.
        let t = b"id ghp_0123456789abcdef0123456789abcdefWXYZab and ghp_short";
        assert_eq!(ranges(b"", t, ClassSet::EMPTY, true), [(3, 45)]);
        // 16 body bytes; then a prefix inside a body: one range, from the first prefix.
        let t = b"k=AKIA0123456789ABCDEF. AKIAAKIA0123456789ABCD";
        assert_eq!(ranges(b"", t, ClassSet::EMPTY, true), [(2, 22), (24, 46)]);
        let t = b"AKIA0123456789ABCDE";
        assert_eq!(ranges(b"", t, ClassSet::EMPTY, true), []);
    }

    #[test]
    fn ranges_span_carry_and_input() {
        // A prefix split between carry and input, a body in both.
        let (carry, input) = (&b"..gl"[..], &b"pat-0123456789abcdefghij.."[..]);
        assert_eq!(ranges(carry, input, ClassSet::EMPTY, true), [(2, 30)]);
        // The body reaches the end: masked and ongoing, unless the stream ends.
        let mut scratch = Vec::new();
        let text = Text {
            carry: b"",
            input: b"AKIA0123456789ABCDEF",
            eof: false,
        };
        let mut r = Ranges::new(&text, None, ClassSet::EMPTY, &mut scratch);
        assert_eq!(r.take_before(1), Some((0, 20)));
        assert_eq!(r.take_before(usize::MAX), None);
        assert_eq!(r.ongoing, ClassSet(Class::Aws.bit()));
    }

    #[test]
    fn continued_bodies_extend_into_the_input() {
        let aws = ClassSet(Class::Aws.bit());
        assert_eq!(ranges(b"", b"XYZ0 rest", aws, false), [(0, 4)]);
        assert_eq!(ranges(b"ab", b"XYZ0 rest", aws, false), [(2, 6)]);
        assert_eq!(ranges(b"", b" rest", aws, false), []);
        // Continued in the wider of two classes.
        let both = ClassSet(Class::Aws.bit() | Class::GitLab.bit());
        let mut scratch = Vec::new();
        let text = Text {
            carry: b"",
            input: b"AB-cd",
            eof: false,
        };
        let mut r = Ranges::new(&text, None, both, &mut scratch);
        assert_eq!(r.take_before(1), Some((0, 5)));
        assert_eq!(r.ongoing, ClassSet(Class::GitLab.bit()));
    }

    #[test]
    fn table_is_the_reference_table() {
        assert_eq!(SHAPES.len(), naive::TOKENS.len());
        for (s, &(prefix, class, min, not_after)) in SHAPES.iter().zip(&naive::TOKENS) {
            assert_eq!(s.prefix, prefix.as_bytes());
            assert_eq!(s.min_body, min, "{prefix}");
            for b in 0..=255u8 {
                assert_eq!(
                    s.class.contains(b),
                    class.as_bytes().contains(&b),
                    "{prefix} {b}"
                );
                assert_eq!(
                    s.boundary.allows(Some(b)),
                    !not_after.as_bytes().contains(&b),
                    "{prefix} {b}"
                );
            }
            assert!(s.boundary.allows(None));
        }
    }

    /// Every row masks a made-up token of its shortest length (and a longer one), and leaves
    /// one body byte shorter, or with a byte outside its class at the end of the shortest
    /// body, as plain text.
    #[test]
    fn every_row_masks_its_shortest_token_only() {
        for s in &SHAPES {
            let chars: Vec<u8> = (0..=255u8).filter(|&b| s.class.contains(b)).collect();
            let body: Vec<u8> = (0..s.min_body + 5)
                .map(|i| chars[(i * 7 + 3) % chars.len()])
                .collect();
            let outside = (b'!'..=b'~').find(|&b| !s.class.contains(b)).unwrap();
            let text = |body: &[u8], end: u8| [b"> ", s.prefix, body, &[end, b' ']].concat();
            let (min, p) = (s.min_body, s.prefix.len());
            let eof = |t: &[u8]| ranges(b"", t, ClassSet::EMPTY, true);
            assert_eq!(eof(&text(&body[..min], b' ')), [(2, 2 + p + min)], "{s:?}");
            assert_eq!(eof(&text(&body, b' ')), [(2, 2 + p + min + 5)], "{s:?}");
            assert_eq!(eof(&text(&body[..min - 1], b' ')), [], "{s:?}");
            assert_eq!(eof(&text(&body[..min - 1], outside)), [], "{s:?}");
            // After a letter or digit, `+` or `/`: per the row's boundary.
            for (before, allowed) in [
                (b'x', s.boundary == Boundary::Any),
                (b'7', s.boundary == Boundary::Any),
                (b'/', s.boundary != Boundary::Base64Word),
                (b'+', s.boundary != Boundary::Base64Word),
                (b'=', true),
                (b'_', true),
            ] {
                let glued = [&[before], s.prefix, &body[..min]].concat();
                let want: &[Range] = if allowed { &[(1, 1 + p + min)] } else { &[] };
                assert_eq!(eof(&glued), want, "{s:?} after {}", before as char);
            }
            // At the stream's start.
            assert_eq!(eof(&[s.prefix, &body[..min]].concat()), [(0, p + min)]);
        }
        let bounded = |b| SHAPES.iter().filter(|s| s.boundary == b).count();
        assert_eq!(
            (bounded(Boundary::Word), bounded(Boundary::Base64Word)),
            (3, 2)
        );
    }

    /// Streams `text` through `Shapes` alone in chunks of the sizes `sizes` (cycled; 0 is an
    /// empty chunk), holding back from the least of the shapes' answer and `extra(text
    /// position)` (another finder's, up to the whole carry), as the stream core does; returns
    /// the masked ranges in stream positions.
    fn stream(text: &[u8], sizes: &[usize], mut extra: impl FnMut(usize) -> usize) -> Vec<Range> {
        let (mut state, mut carry, mut base) = (ShapesState::default(), Vec::new(), 0);
        let mut out: Vec<Range> = Vec::new();
        let (mut fed, mut k) = (0, 0);
        loop {
            let n = sizes[k % sizes.len()].min(text.len() - fed);
            k += 1;
            let input = &text[fed..fed + n];
            fed += n;
            let t = Text {
                carry: &carry,
                input,
                eof: fed == text.len(),
            };
            let held = Shapes.held(&mut state, &t);
            let held = if t.eof {
                t.len()
            } else {
                held.min(extra(base + t.len()).saturating_sub(base))
            };
            let mut ranges = Vec::new();
            Shapes.ranges(&mut state, &t, held, &mut ranges);
            out.extend(ranges.iter().map(|&(s, e)| (base + s, base + e)));
            let (next, eof) = ([&carry[..], input].concat()[held..].to_vec(), t.eof);
            base += held;
            carry = next;
            if eof {
                break;
            }
        }
        out
    }

    /// A long carry (another finder holds a long secret's prefix) is judged in place: the
    /// scratch holds at most a token's bytes, and the prefixes at the carry's end are found.
    #[test]
    fn scratch_is_bounded_by_the_shapes_not_the_carry() {
        let mut carry = vec![b'a'; 1 << 20];
        let n = carry.len();
        carry[n - 2..].copy_from_slice(b" g");
        carry[1000..1006].copy_from_slice(b" AKIA ");
        let input = b"lpat-0123456789abcdefghij+AKIA0123456789ABCDEF";
        let text = Text {
            carry: &carry,
            input,
            eof: false,
        };
        let mut state = ShapesState::default();
        let held = Shapes.held(&mut state, &text);
        assert_eq!(held, text.len());
        let mut out = Vec::new();
        Shapes.ranges(&mut state, &text, held, &mut out);
        assert_eq!(out, [(n - 1, n + 25), (n + 26, n + 46)]);
        assert!(
            state.scratch.capacity() <= 2 * MAX_TOKEN,
            "{}",
            state.scratch.capacity()
        );
    }

    /// Any chunking, and carries of any length (held for another finder), give the
    /// reference's ranges: the byte before the held bytes decides a prefix at their start.
    #[test]
    fn boundaries_hold_across_chunks_and_long_carries() {
        let mut rng = xorshift(0x51ab_1e5e_ed0f_cafe);
        let tokens: Vec<Vec<u8>> = SHAPES
            .iter()
            .filter(|s| s.boundary != Boundary::Any || s.prefix[0] == b'd')
            .map(|s| [s.prefix, &b"Q7Z0".repeat(s.min_body / 4 + 1)].concat())
            .collect();
        let pieces: Vec<&[u8]> = tokens
            .iter()
            .map(|t| &t[..])
            .chain(tokens.iter().map(|t| &t[..4]))
            .chain([&b"x"[..], b"d", b"7", b"+", b"/", b"=", b" ", b"\n", b"-"])
            .collect();
        let mut masked = 0;
        for round in 0..3000 {
            let (len, mut text) = (1 + rng() % 400, Vec::new());
            while text.len() < len {
                text.extend_from_slice(pieces[rng() % pieces.len()]);
            }
            let want = covered_bytes(&naive::tokens(&text), text.len());
            masked += naive::tokens(&text).len();
            let sizes: Vec<usize> = match round % 3 {
                0 => vec![1],
                _ => (0..1 + rng() % 4).map(|_| rng() % 40).collect(),
            };
            let sizes = if sizes.iter().all(|&n| n == 0) {
                vec![1]
            } else {
                sizes
            };
            // Another finder holds from a point that moves forward now and then.
            let mut hold = 0;
            let mut extra = |end: usize| {
                if rng() % 8 == 0 {
                    hold = end;
                }
                hold.max(end.saturating_sub(rng() % 200))
            };
            let extra: &mut dyn FnMut(usize) -> usize = match round % 2 {
                0 => &mut |end| end,
                _ => &mut extra,
            };
            assert!(
                covered_bytes(&stream(&text, &sizes, extra), text.len()) == want,
                "{:?} {sizes:?}",
                String::from_utf8_lossy(&text)
            );
        }
        assert!(masked > 1000, "{masked}");
    }

    #[test]
    fn readme_documents_the_table() {
        let readme = include_str!("../../../README.md");
        for s in &SHAPES {
            let prefix = format!("`{}`", std::str::from_utf8(s.prefix).unwrap());
            let row = readme
                .lines()
                .find(|l| l.starts_with('|') && l.contains(&prefix))
                .unwrap_or_else(|| panic!("no README row for {prefix}"));
            assert!(row.contains(s.class.pattern()), "{row}");
            assert!(row.contains(&format!("| {} |", s.min_body)), "{row}");
            assert!(row.contains(s.issuer), "{row}");
        }
        // The word prefixes' bullet names each bounded row with the bytes it may not follow.
        let bullet = readme
            .split("- **Word prefixes.**")
            .nth(1)
            .and_then(|rest| rest.split("\n- ").next())
            .expect("a Word prefixes bullet");
        let bullet = bullet.replace("\n  ", " ");
        for s in SHAPES.iter().filter(|s| s.boundary != Boundary::Any) {
            let prefix = format!("`{}`", std::str::from_utf8(s.prefix).unwrap());
            let sentence = bullet
                .split(';')
                .find(|part| part.contains(&prefix))
                .unwrap_or_else(|| panic!("{prefix} not in the Word prefixes bullet"));
            let plus_slash = sentence.contains("`+` or `/`");
            assert_eq!(plus_slash, s.boundary == Boundary::Base64Word, "{prefix}");
        }
    }
}
