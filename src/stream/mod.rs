//! The streaming core: one [`Masker`] per stream, with its typed output [`Piece`]s.
//!
//! The core keeps what is the same for every matcher: the held bytes, the masked range that
//! may still grow, the merge of the finders' ranges, and the output. What is searched and how
//! lives behind the finder contract ([`Find`](crate::find::Find)); `docs/CONTRACT.md` §3 is
//! the behaviour this implements.

mod emit;
mod piece;
pub(crate) mod source;
mod tally;

use std::sync::Arc;

pub use piece::Piece;
pub use tally::OriginCounts;

use crate::find::{self, Range, State, Text};
use crate::Secrets;
use emit::{Counts, Emitter};
use source::{Follow, Shared};
use tally::Tally;

/// The most input judged at once: a longer chunk is masked as several, so the ranges of one
/// step (and the memory they take) stay bounded whatever the caller writes at a time.
const BLOCK: usize = 256 * 1024;

/// Masks one stream, chunk by chunk, with a shared [`Secrets`] set.
///
/// The output is the same however the input is split (down to one byte at a time), and equals
/// masking the whole stream at once: every occurrence of every secret, overlapping ones
/// included, is found; overlapping or touching occurrences merge into one range; each range
/// is replaced by the replacement text once. Encoded variants are secrets like the others;
/// a token shape's range (prefix and body) joins the same union. After each chunk everything
/// is emitted except the bytes that a later byte could still turn into a masked range (the
/// longest suffix that is a proper prefix of a secret or of a shortest token), so memory is
/// bounded by [`Secrets::max_len`].
///
/// A `Masker` does no I/O and never fails: output goes to a callback, as [`Piece`]s that
/// borrow the input wherever it passes through unchanged.
///
/// # States
///
/// Between chunks a masker is in one of three states (`held` is where the bytes that may
/// still change begin, after the new chunk; "open" is a masked range whose replacement waits
/// because a later occurrence could still touch it):
///
/// | state | held bytes | open range | next chunk | finish |
/// | --- | --- | --- | --- | --- |
/// | Passing | none | none | → Holding if it ends in a possible prefix, → Open if a range reaches its end, else stays | nothing to emit |
/// | Holding | a possible prefix | none | the held bytes are judged with the chunk (against the set in force then): → Passing, Holding or Open | the held bytes, as text |
/// | Open | inside or after the range | reaches into the held bytes | a range touching it extends it; else its replacement is emitted: → Passing or Holding | the replacement, then the rest |
///
/// # Example
///
/// ```
/// use std::sync::Arc;
/// use logmask::{Masker, Secrets};
///
/// let secrets = Arc::new(Secrets::new(["abcdefgh", "efghijkl"])?);
/// let mut masker = Masker::new(secrets);
/// let mut out = Vec::new();
/// masker.mask(b"xxabcdef", |piece| out.extend_from_slice(&piece));
/// assert_eq!(out, b"xx"); // "abcdef" could still become a secret
/// masker.mask(b"ghijklyy", |piece| out.extend_from_slice(&piece));
/// masker.finish(|piece| out.extend_from_slice(&piece));
/// assert_eq!(out, b"xx[MASKED]yy");
/// # Ok::<(), logmask::Error>(())
/// ```
#[derive(Clone)]
pub struct Masker {
    /// The set applied to the last chunk.
    secrets: Arc<Secrets>,
    /// `Some`: `secrets` follows a shared cell (a [`Registry`](crate::Registry)'s), checked
    /// at each chunk.
    follow: Option<Follow>,
    /// The input not yet emitted: the longest suffix of the input so far that some finder
    /// says a later byte could still turn into a masked range (empty at the start and after
    /// `finish`). Shorter than `Secrets::max_len`.
    carry: Vec<u8>,
    /// `Some(end)`: a masked range that began at or before the start of `carry` and ends at
    /// `carry[end]` (`end <= carry.len()`) is still open, because an occurrence starting in
    /// `carry[..=end]` would merge with it. Its replacement has not been emitted, and the
    /// input before `carry` that it covers has been dropped.
    open: Option<usize>,
    /// One state per finder of `secrets`, in the same order.
    states: Vec<State>,
    /// The ranges of the current step (kept for its allocation) ...
    ranges: Vec<Range>,
    /// ... and each finder's run of them, `start..end`.
    runs: Vec<(usize, usize)>,
    /// `Some` while counting masked ranges by origin; holds the origins of the open range.
    tally: Option<Box<Tally>>,
    /// What it has taken and emitted since it was made.
    counts: Counts,
}

impl Masker {
    /// A masker for a new stream.
    pub fn new(secrets: Arc<Secrets>) -> Masker {
        let states = secrets.finders().iter().map(|f| f.new_state()).collect();
        Masker {
            secrets,
            follow: None,
            carry: Vec::new(),
            open: None,
            states,
            ranges: Vec::new(),
            runs: Vec::new(),
            tally: None,
            counts: Counts::default(),
        }
    }

    /// A masker for a new stream that applies the current set of `shared` at each chunk.
    pub(crate) fn following(shared: &Shared) -> Masker {
        let mut follow = Follow::new(shared);
        let secrets = Arc::clone(follow.current());
        Masker {
            follow: Some(follow),
            ..Masker::new(secrets)
        }
    }

    /// The secrets this masker applies: for a masker made by a
    /// [`Registry`](crate::Registry), the set it applied to the last chunk.
    pub fn secrets(&self) -> &Arc<Secrets> {
        &self.secrets
    }

    /// Applies `secrets` from the next chunk on; the bytes still held back are judged against
    /// the new set. Output already emitted is not affected. A masker made by a
    /// [`Registry`](crate::Registry) stops following it.
    pub fn set_secrets(&mut self, secrets: Arc<Secrets>) {
        self.follow = None;
        self.apply(secrets);
    }

    /// Counts each masked range this masker emits from now on into `counts`, by what made it
    /// (see [`OriginCounts`]). Costs a search of each masked range's bytes; nothing while not
    /// counting.
    pub fn count_origins(&mut self, counts: &OriginCounts) {
        self.tally = Some(Box::new(Tally::new(counts)));
    }

    /// The number of input bytes accepted but not yet emitted.
    pub fn held_back(&self) -> usize {
        self.carry.len()
    }

    /// The number of input bytes accepted since the masker was made (across
    /// [`finish`](Self::finish)es).
    pub fn total_in(&self) -> u64 {
        self.counts.input
    }

    /// The number of output bytes emitted since the masker was made, replacements included.
    pub fn total_out(&self) -> u64 {
        self.counts.output
    }

    /// The number of masked ranges emitted since the masker was made: each is one
    /// replacement in the output (overlapping and touching occurrences count once).
    pub fn masked(&self) -> u64 {
        self.counts.masked
    }

    /// Whether a masked range's replacement is waiting for the range to stop growing.
    pub fn is_mask_pending(&self) -> bool {
        self.open.is_some()
    }

    /// Accepts the next chunk of the stream and emits, through `out`, all output that no
    /// later input can change.
    pub fn mask(&mut self, input: &[u8], mut out: impl FnMut(Piece<'_>)) {
        self.refresh();
        self.counts.input += input.len() as u64;
        // An empty chunk is a step too: the held bytes are judged again, by a new set.
        let mut offset = 0;
        loop {
            let end = input.len().min(offset + BLOCK);
            self.step(&input[offset..end], offset, false, &mut out);
            offset = end;
            if offset == input.len() {
                break;
            }
        }
    }

    /// Ends the stream: emits everything still held back (a secret prefix that never
    /// completed is plain text) and resets the masker for a new stream.
    pub fn finish(&mut self, mut out: impl FnMut(Piece<'_>)) {
        self.refresh();
        self.step(&[], 0, true, &mut out);
        debug_assert!(self.carry.is_empty() && self.open.is_none());
    }

    /// Picks up the followed cell's current set.
    fn refresh(&mut self) {
        if let Some(follow) = &mut self.follow {
            let current = follow.current();
            if !Arc::ptr_eq(current, &self.secrets) {
                let current = Arc::clone(current);
                self.apply(current);
            }
        }
    }

    /// Makes `secrets` the set, keeping the finders' states that it can go on with.
    fn apply(&mut self, secrets: Arc<Secrets>) {
        find::carry_states(secrets.finders(), &mut self.states);
        self.secrets = secrets;
    }

    /// Masks one block of input (`offset` is where it begins in the caller's chunk).
    fn step(&mut self, input: &[u8], offset: usize, eof: bool, out: &mut impl FnMut(Piece<'_>)) {
        let finders = self.secrets.finders();
        let text = Text {
            carry: &self.carry,
            input,
            eof,
        };
        let total = text.len();
        // Where the bytes that a later byte could still change begin (none at the end; the
        // finders are asked all the same, as the contract has `held` before `ranges`).
        let held = finders
            .iter()
            .zip(&mut self.states)
            .map(|(f, s)| f.held(s, &text))
            .min()
            .unwrap_or(total);
        let held = if eof { total } else { held };
        self.ranges.clear();
        // Where each finder's run of ranges (each in order of start) ends.
        self.runs.clear();
        for (f, s) in finders.iter().zip(&mut self.states) {
            let start = self.ranges.len();
            f.ranges(s, &text, held, &mut self.ranges);
            if self.ranges.len() > start {
                self.runs.push((start, self.ranges.len()));
            }
        }

        let mut emit = Emitter {
            carry: &self.carry,
            input,
            offset,
            replacement: self.secrets.replacement(),
            hold: if eof { usize::MAX } else { held },
            pos: 0,
            cur: self.open.map(|end| (0, end)),
            cur_from_before: self.open.is_some(),
            stopped: false,
            out,
            tally: self.tally.as_deref_mut().map(|t| (t, &*self.secrets)),
            skipped: 0,
            closed: 0,
        };
        merge(&self.ranges, &mut self.runs, |range| emit.range(range));
        self.open = emit.end(held, &mut self.counts);

        // The new carry is `text[held..]`.
        let c = self.carry.len();
        if held >= c {
            self.carry.clear();
            self.carry.extend_from_slice(&input[held - c..]);
        } else {
            self.carry.drain(..held);
            self.carry.extend_from_slice(input);
        }
    }
}

/// Calls `f` for each range of the `runs` of `ranges` (each `start..end`, not empty, in order
/// of start) in order of start, using the runs up.
fn merge(ranges: &[Range], runs: &mut Vec<(usize, usize)>, mut f: impl FnMut(Range)) {
    // Two runs (the exact patterns and the shapes): a two-way merge, then the rest of one.
    if let [(mut a, a_end), (mut b, b_end)] = runs[..] {
        while a < a_end && b < b_end {
            if ranges[b] < ranges[a] {
                f(ranges[b]);
                b += 1;
            } else {
                f(ranges[a]);
                a += 1;
            }
        }
        runs.clear();
        ranges[a..a_end]
            .iter()
            .chain(&ranges[b..b_end])
            .for_each(|&r| f(r));
        return;
    }
    // The run whose next range starts first; with one run, a plain walk.
    while let Some(b) = (0..runs.len()).min_by_key(|&i| ranges[runs[i].0]) {
        f(ranges[runs[b].0]);
        runs[b].0 += 1;
        if runs[b].0 == runs[b].1 {
            runs.swap_remove(b);
        }
    }
}

impl std::fmt::Debug for Masker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Masker")
            .field("secrets", &self.secrets)
            .field("held_back", &self.carry.len())
            .field("mask_pending", &self.open.is_some())
            .field("follows_registry", &self.follow.is_some())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn masker(secrets: &[&str]) -> Masker {
        Masker::new(Arc::new(Secrets::new(secrets).unwrap()))
    }

    fn feed(m: &mut Masker, chunk: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        m.mask(chunk, |p| out.extend_from_slice(&p));
        out
    }

    fn end(m: &mut Masker) -> Vec<u8> {
        let mut out = Vec::new();
        m.finish(|p| out.extend_from_slice(&p));
        out
    }

    #[test]
    fn carry_at_zero_one_and_max_minus_one() {
        let secret = b"0123456789";
        for held in [0, 1, secret.len() - 1] {
            let mut m = masker(&["0123456789"]);
            let mut chunk = b"log: ".to_vec();
            chunk.extend_from_slice(&secret[..held]);
            assert_eq!(feed(&mut m, &chunk), b"log: ");
            assert_eq!(m.held_back(), held);
            // Completing the secret masks it; anything else releases the held bytes.
            let mut rest = secret[held..].to_vec();
            rest.push(b'\n');
            assert_eq!(feed(&mut m, &rest), b"[MASKED]\n");
            assert_eq!(m.held_back(), 0);
            assert_eq!(feed(&mut m, &secret[..held]), b"");
            assert_eq!(feed(&mut m, b"!"), [&secret[..held], b"!"].concat());
        }
    }

    /// Any number of sorted runs come out in order of start, each range once.
    #[test]
    fn merged_runs_are_in_order() {
        let mut seed = 0x5eed_0f7e_5700_u64;
        for _ in 0..2000 {
            let mut ranges = Vec::new();
            let mut runs = Vec::new();
            for _ in 0..(seed % 4) {
                let start = ranges.len();
                let mut at = 0;
                for _ in 0..(seed >> 3) % 6 {
                    crate::testing::rng(&mut seed);
                    at += (seed % 5) as usize;
                    ranges.push((at, at + (seed >> 8) as usize % 4));
                }
                ranges[start..].sort();
                if ranges.len() > start {
                    runs.push((start, ranges.len()));
                }
            }
            seed = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
            let mut got = Vec::new();
            merge(&ranges, &mut runs, |r| got.push(r));
            let mut want = ranges.clone();
            want.sort();
            assert_eq!(got, want);
            assert!(runs.is_empty());
        }
    }

    #[test]
    fn empty_chunks_change_nothing() {
        let mut m = masker(&["abcdefgh"]);
        assert_eq!(feed(&mut m, b""), b"");
        assert_eq!(feed(&mut m, b"xabc"), b"x");
        assert_eq!(feed(&mut m, b""), b"");
        assert_eq!(m.held_back(), 3);
        assert_eq!(feed(&mut m, b"defgh"), b"");
        assert_eq!(feed(&mut m, b""), b"");
        assert_eq!(end(&mut m), b"[MASKED]");
    }

    #[test]
    fn no_secrets_pass_everything() {
        let mut m = Masker::new(Arc::new(Secrets::new::<_, &str>([]).unwrap()));
        assert_eq!(feed(&mut m, b"anything at all"), b"anything at all");
        assert_eq!(m.held_back(), 0);
        assert_eq!(end(&mut m), b"");
    }

    #[test]
    fn pieces_say_what_they_are() {
        let mut m = masker(&["abcdefgh"]);
        let mut pieces = Vec::new();
        m.mask(b"held abcd", |p| pieces.push(format!("{p:?}")));
        let input = b"efgh, then text".to_vec();
        let range = input.as_ptr_range();
        m.mask(&input, |p| {
            if let Piece::Input { start, bytes } = p {
                assert!(range.contains(&bytes.as_ptr()), "a text piece was copied");
                assert_eq!(&input[start..start + bytes.len()], bytes);
            }
            pieces.push(format!("{p:?}"));
        });
        m.mask(b"x abc", |p| pieces.push(format!("{p:?}")));
        m.finish(|p| pieces.push(format!("{p:?}")));
        let want = [
            "Input { start: 0, bytes: [104, 101, 108, 100, 32] }",
            "Replacement([91, 77, 65, 83, 75, 69, 68, 93])",
            "Input { start: 4, bytes: [44, 32, 116, 104, 101, 110, 32, 116, 101, 120, 116] }",
            "Input { start: 0, bytes: [120, 32] }",
            "Held([97, 98, 99])",
        ];
        assert_eq!(pieces, want);
    }

    #[test]
    fn long_chunks_are_masked_in_blocks_with_offsets() {
        let mut m = masker(&["abcdefgh"]);
        let mut input = vec![b'.'; BLOCK - 3];
        input.extend_from_slice(b"abcdefgh tail");
        let mut out = Vec::new();
        let mut starts = Vec::new();
        m.mask(&input, |p| {
            if let Piece::Input { start, .. } = p {
                starts.push(start);
            }
            out.extend_from_slice(&p);
        });
        m.finish(|p| out.extend_from_slice(&p));
        assert_eq!(out, [&vec![b'.'; BLOCK - 3][..], b"[MASKED] tail"].concat());
        assert_eq!(starts, [0, BLOCK + 5]);
    }

    #[test]
    fn counts_follow_input_output_and_ranges() {
        let mut m = masker(&["abcdefgh", "efghijkl"]);
        let mut out = feed(&mut m, b"xxabcdef");
        assert_eq!((m.total_in(), m.total_out(), m.masked()), (8, 2, 0));
        out.extend(feed(&mut m, b"ghijklyy abcdefgh"));
        out.extend(end(&mut m));
        assert_eq!(out, b"xx[MASKED]yy [MASKED]");
        assert_eq!(m.total_in(), 25);
        assert_eq!(m.total_out(), out.len() as u64);
        assert_eq!(m.masked(), 2);
        // A prefix that never completed is output too; the counts go on across streams.
        assert_eq!(feed(&mut m, b"abc"), b"");
        assert_eq!(end(&mut m), b"abc");
        assert_eq!((m.total_in(), m.total_out(), m.masked()), (28, 24, 2));
    }
}
