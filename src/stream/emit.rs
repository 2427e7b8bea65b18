//! Merging the finders' ranges and emitting the output of one chunk.

use super::piece::Piece;
use super::tally::Tally;
use crate::find::Range;
use crate::Secrets;

/// Merges masked ranges, given in non-decreasing order of start, and emits the output for
/// the text `carry ++ input` up to the first byte that may still change.
pub(super) struct Emitter<'a, F: FnMut(Piece<'_>)> {
    pub(super) carry: &'a [u8],
    pub(super) input: &'a [u8],
    /// Where `input` begins in the chunk the caller gave.
    pub(super) offset: usize,
    pub(super) replacement: &'a [u8],
    /// A range ending at or after this position may still grow; it and all after it wait.
    pub(super) hold: usize,
    /// Output has been emitted for `text[..pos]`.
    pub(super) pos: usize,
    /// The merged range being built, not yet emitted.
    pub(super) cur: Option<Range>,
    /// `cur` contains the range left open by the previous chunk.
    pub(super) cur_from_before: bool,
    /// `cur` reaches `hold`: every later range lies in the held bytes and is found again
    /// with the next chunk.
    pub(super) stopped: bool,
    pub(super) out: &'a mut F,
    /// Counting by origin: each range that joins `cur` is noted, and `cur` counts once
    /// emitted.
    pub(super) tally: Option<(&'a mut Tally, &'a Secrets)>,
    /// Bytes of `text[..pos]` covered by the ranges emitted in this chunk ...
    pub(super) skipped: usize,
    /// ... and the number of those ranges.
    pub(super) closed: u64,
}

/// What a masker has emitted since it was made.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Counts {
    /// Bytes of input accepted.
    pub(super) input: u64,
    /// Bytes of output emitted, replacements included.
    pub(super) output: u64,
    /// Masked ranges emitted, one replacement each.
    pub(super) masked: u64,
}

impl<F: FnMut(Piece<'_>)> Emitter<'_, F> {
    pub(super) fn range(&mut self, (start, end): Range) {
        if self.stopped {
            return;
        }
        match &mut self.cur {
            Some(cur) if start <= cur.1 => cur.1 = cur.1.max(end),
            Some(cur) if cur.1 >= self.hold => {
                self.stopped = true;
                return;
            }
            Some(_) => {
                self.close();
                self.cur = Some((start, end));
            }
            None => self.cur = Some((start, end)),
        }
        if let Some((tally, secrets)) = &mut self.tally {
            tally.note(secrets, self.carry, self.input, (start, end));
        }
    }

    /// Emits `cur`, which can no longer grow, and the text before it.
    fn close(&mut self) {
        if let Some((start, end)) = self.cur.take() {
            self.text(start);
            (self.out)(Piece::Replacement(self.replacement));
            if let Some((tally, _)) = &mut self.tally {
                tally.close();
            }
            self.skipped += end - self.pos;
            self.closed += 1;
            self.pos = end;
            self.cur_from_before = false;
        }
    }

    /// Emits the text from `pos` up to `to`.
    fn text(&mut self, to: usize) {
        let c = self.carry.len();
        if self.pos < to.min(c) {
            (self.out)(Piece::Held(&self.carry[self.pos..to.min(c)]));
        }
        if to > c && to > self.pos {
            let from = self.pos.max(c) - c;
            (self.out)(Piece::Input {
                start: self.offset + from,
                bytes: &self.input[from..to - c],
            });
        }
        self.pos = self.pos.max(to);
    }

    /// Emits all that is final before `held`, adds what was emitted to `counts`, and returns
    /// the new `open` state relative to `held`.
    pub(super) fn end(mut self, held: usize, counts: &mut Counts) -> Option<usize> {
        let open = match self.cur {
            Some((_, end)) if end < self.hold => {
                self.close();
                self.text(held);
                None
            }
            Some((start, end)) => {
                self.text(start.min(held));
                // A range that starts in the held bytes is found again with the next chunk,
                // unless it carries the open range from before.
                let open = (start < held || self.cur_from_before).then(|| end - held);
                if let (None, Some((tally, _))) = (open, &mut self.tally) {
                    tally.discard();
                }
                open
            }
            None => {
                self.text(held);
                None
            }
        };
        // `text[..pos]` is out: as text, except the bytes of the ranges, each replaced.
        counts.output +=
            (self.pos - self.skipped) as u64 + self.closed * self.replacement.len() as u64;
        counts.masked += self.closed;
        open
    }
}
