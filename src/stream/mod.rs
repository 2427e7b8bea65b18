//! The streaming core: one [`Masker`] per stream.

use std::sync::Arc;

use crate::find::shapes::{self, ClassSet};
use crate::registry::Follow;
use crate::Secrets;

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
/// A `Masker` does no I/O and never fails: output goes to a callback, as pieces that borrow
/// the input wherever it passes through unchanged.
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
/// masker.mask(b"xxabcdef", |piece| out.extend_from_slice(piece));
/// assert_eq!(out, b"xx"); // "abcdef" could still become a secret
/// masker.mask(b"ghijklyy", |piece| out.extend_from_slice(piece));
/// masker.finish(|piece| out.extend_from_slice(piece));
/// assert_eq!(out, b"xx[MASKED]yy");
/// # Ok::<(), logmask::Error>(())
/// ```
#[derive(Clone)]
pub struct Masker {
    /// The set applied to the last chunk.
    secrets: Arc<Secrets>,
    /// `Some`: `secrets` follows a [`Registry`](crate::Registry), checked at each chunk.
    follow: Option<Follow>,
    /// The input not yet emitted: the longest suffix of the input so far that is a proper
    /// prefix of some secret or shortest token (empty at the start and after `finish`).
    /// Shorter than `Secrets::max_len`.
    carry: Vec<u8>,
    /// `Some(end)`: a masked range that began at or before the start of `carry` and ends at
    /// `carry[end]` (`end <= carry.len()`) is still open, because an occurrence starting in
    /// `carry[..=end]` would merge with it. Its replacement has not been emitted, and the
    /// input before `carry` that it covers has been dropped.
    open: Option<usize>,
    /// The token classes in which a masked token body reaches the end of the input so far.
    /// Non-empty only when `open == Some(carry.len())`: the next bytes of these classes
    /// extend the open range.
    runs: ClassSet,
    /// Scratch space: `carry` followed by the head of the next chunk, or the tail of the
    /// input so far. Never longer than twice `Secrets::max_len`.
    scratch: Vec<u8>,
    /// Scratch space: occurrences that start in `carry`, as `(start, end)`.
    edge: Vec<(usize, usize)>,
}

impl Masker {
    /// A masker for a new stream.
    pub fn new(secrets: Arc<Secrets>) -> Masker {
        Masker {
            secrets,
            follow: None,
            carry: Vec::new(),
            open: None,
            runs: ClassSet::EMPTY,
            scratch: Vec::new(),
            edge: Vec::new(),
        }
    }

    /// A masker for a new stream that applies the current set of a registry at each chunk.
    pub(crate) fn following(mut follow: Follow) -> Masker {
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
        self.secrets = secrets;
    }

    /// The number of input bytes accepted but not yet emitted.
    pub fn held_back(&self) -> usize {
        self.carry.len()
    }

    /// Whether a masked range's replacement is waiting for the range to stop growing.
    pub fn is_mask_pending(&self) -> bool {
        self.open.is_some()
    }

    /// Accepts the next chunk of the stream and emits, through `out`, all output that no
    /// later input can change.
    pub fn mask(&mut self, input: &[u8], out: impl FnMut(&[u8])) {
        self.process(input, false, out);
    }

    /// Ends the stream: emits everything still held back (a secret prefix that never
    /// completed is plain text) and resets the masker for a new stream.
    pub fn finish(&mut self, out: impl FnMut(&[u8])) {
        self.process(&[], true, out);
        debug_assert!(self.carry.is_empty() && self.open.is_none() && self.runs.is_empty());
    }

    fn process(&mut self, input: &[u8], eof: bool, mut out: impl FnMut(&[u8])) {
        if let Some(follow) = &mut self.follow {
            let current = follow.current();
            if !Arc::ptr_eq(current, &self.secrets) {
                self.secrets = Arc::clone(current);
            }
        }
        debug_assert!(self.runs.is_empty() || self.open == Some(self.carry.len()));
        let secrets = Arc::clone(&self.secrets);
        let engine = secrets.engine();
        let token_shapes = secrets.token_shapes();
        let replacement = secrets.replacement();
        let max_len = engine.max_len();
        let keep = max_len.saturating_sub(1);
        let c = self.carry.len();
        let total = c + input.len();

        // The text is `carry ++ input`, with positions counted from the start of `carry`.
        // `held` is where the bytes that a later byte could still complete begin.
        let held = if eof {
            total
        } else {
            let (carry, scratch) = (&self.carry, &mut self.scratch);
            let held = held_in_tail(carry, input, keep, scratch, |t| engine.held_start(t));
            if token_shapes {
                let window = shapes::MAX_TOKEN - 1;
                held.min(held_in_tail(
                    carry,
                    input,
                    window,
                    scratch,
                    shapes::held_start,
                ))
            } else {
                held
            }
        };
        // A range ending at `hold` or later could still grow.
        let hold = if eof { usize::MAX } else { held };

        // Occurrences that start in `carry` (complete ones may end in `input`).
        self.edge.clear();
        if c > 0 {
            self.scratch.clear();
            self.scratch.extend_from_slice(&self.carry);
            self.scratch
                .extend_from_slice(&input[..input.len().min(keep)]);
            let edge = &mut self.edge;
            engine.for_each_occurrence(&self.scratch, 0, self.scratch.len(), |s, e| {
                if s < c {
                    edge.push((s, e));
                }
            });
            self.edge.sort_unstable();
        }

        let mut emit = Emitter {
            carry: &self.carry,
            input,
            replacement,
            hold,
            pos: 0,
            cur: self.open.map(|end| (0, end)),
            cur_from_before: self.open.is_some(),
            stopped: false,
            out: &mut out,
        };
        // Token ranges join in order of start, before the secrets' ranges that start later.
        let mut tokens = token_shapes
            .then(|| shapes::Ranges::new(&self.carry, input, self.runs, eof, &mut self.scratch));
        // An occurrence that starts in the held bytes is left to the next chunk, which finds
        // it again if the set it applies still has it: held bytes are judged by that set.
        for &(s, e) in self.edge.iter().filter(|&&(s, _)| s < held) {
            feed_tokens(&mut tokens, &mut emit, s);
            emit.range(s, e);
        }
        // Occurrences inside `input`: each overlaps one of the candidates, so the union of
        // the occurrences overlapping each candidate, in candidate order, covers them all.
        // These unions start in non-decreasing order, which is what `Emitter` needs.
        engine.for_each_candidate(input, |s, e| {
            if emit.stopped {
                return;
            }
            let mut union: Option<(usize, usize)> = None;
            let from = s.saturating_sub(keep);
            let to = (e + keep).min(input.len());
            engine.for_each_occurrence(input, from, to, |a, b| {
                if a < e && b > s && c + a < held {
                    union = Some(union.map_or((a, b), |(lo, hi)| (lo.min(a), hi.max(b))));
                }
            });
            if let Some((lo, hi)) = union {
                feed_tokens(&mut tokens, &mut emit, c + lo);
                emit.range(c + lo, c + hi);
            }
        });
        feed_tokens(&mut tokens, &mut emit, usize::MAX);
        let ongoing = tokens.map_or(ClassSet::EMPTY, |t| t.ongoing());
        self.open = emit.end(held);
        // Token bodies that reach the end continue the open range only if it reaches the end
        // too (otherwise they start in the held bytes and are found again).
        self.runs = if self.open == Some(total - held) {
            ongoing
        } else {
            ClassSet::EMPTY
        };

        // The new carry is `text[held..]`.
        if held >= c {
            self.carry.clear();
            self.carry.extend_from_slice(&input[held - c..]);
        } else {
            self.carry.drain(..held);
            self.carry.extend_from_slice(input);
        }
    }
}

/// The start of the longest suffix of `carry ++ input` that `held_start` picks from the last
/// `window` bytes, counted from the start of `carry`.
fn held_in_tail(
    carry: &[u8],
    input: &[u8],
    window: usize,
    scratch: &mut Vec<u8>,
    held_start: impl Fn(&[u8]) -> usize,
) -> usize {
    let c = carry.len();
    if input.len() >= window {
        let from = input.len() - window;
        c + from + held_start(&input[from..])
    } else {
        let from = (c + input.len()).saturating_sub(window);
        scratch.clear();
        scratch.extend_from_slice(&carry[from.min(c)..]);
        scratch.extend_from_slice(input);
        from + held_start(scratch)
    }
}

/// Passes to `emit` the token ranges that start at or before `upto`.
fn feed_tokens<F: FnMut(&[u8])>(
    tokens: &mut Option<shapes::Ranges<'_>>,
    emit: &mut Emitter<'_, F>,
    upto: usize,
) {
    if let Some(tokens) = tokens {
        while !emit.stopped {
            match tokens.take_upto(upto) {
                Some((s, e)) => emit.range(s, e),
                None => break,
            }
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

/// Merges masked ranges, given in non-decreasing order of start, and emits the output for
/// the text `carry ++ input` up to the first byte that may still change.
struct Emitter<'a, F: FnMut(&[u8])> {
    carry: &'a [u8],
    input: &'a [u8],
    replacement: &'a [u8],
    /// A range ending at or after this position may still grow; it and all after it wait.
    hold: usize,
    /// Output has been emitted for `text[..pos]`.
    pos: usize,
    /// The merged range being built, not yet emitted.
    cur: Option<(usize, usize)>,
    /// `cur` contains the range left open by the previous chunk.
    cur_from_before: bool,
    /// `cur` reaches `hold`: every later range lies in the held bytes and is found again
    /// with the next chunk.
    stopped: bool,
    out: &'a mut F,
}

impl<F: FnMut(&[u8])> Emitter<'_, F> {
    fn range(&mut self, start: usize, end: usize) {
        if self.stopped {
            return;
        }
        match &mut self.cur {
            Some(cur) if start <= cur.1 => cur.1 = cur.1.max(end),
            Some(cur) if cur.1 >= self.hold => self.stopped = true,
            Some(_) => {
                self.close();
                self.cur = Some((start, end));
            }
            None => self.cur = Some((start, end)),
        }
    }

    /// Emits `cur`, which can no longer grow, and the text before it.
    fn close(&mut self) {
        if let Some((start, end)) = self.cur.take() {
            self.text(start);
            (self.out)(self.replacement);
            self.pos = end;
            self.cur_from_before = false;
        }
    }

    /// Emits the text from `pos` up to `to`.
    fn text(&mut self, to: usize) {
        let c = self.carry.len();
        if self.pos < to.min(c) {
            (self.out)(&self.carry[self.pos..to.min(c)]);
        }
        if to > c && to > self.pos {
            (self.out)(&self.input[self.pos.max(c) - c..to - c]);
        }
        self.pos = self.pos.max(to);
    }

    /// Emits all that is final before `held`; returns the new `open` state relative to it.
    fn end(mut self, held: usize) -> Option<usize> {
        match self.cur {
            Some((_, end)) if end < self.hold => {
                self.close();
                self.text(held);
                None
            }
            Some((start, end)) => {
                self.text(start.min(held));
                // A range that starts in the held bytes is found again with the next chunk,
                // unless it carries the open range from before.
                (start < held || self.cur_from_before).then(|| end - held)
            }
            None => {
                self.text(held);
                None
            }
        }
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
        m.mask(chunk, |p| out.extend_from_slice(p));
        out
    }

    fn end(m: &mut Masker) -> Vec<u8> {
        let mut out = Vec::new();
        m.finish(|p| out.extend_from_slice(p));
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
    fn unchanged_input_is_borrowed_not_copied() {
        let mut m = masker(&["abcdefgh"]);
        let input = b"plain text abcdefgh more text".to_vec();
        let range = input.as_ptr_range();
        let mut pieces = 0;
        m.mask(&input, |p| {
            pieces += 1;
            if p != b"[MASKED]" {
                assert!(range.contains(&p.as_ptr()), "a text piece was copied");
            }
        });
        assert_eq!(pieces, 3);
    }
}
