//! The finder contract: what every matcher tells the stream core, and the finders of a set.
//!
//! A [`Secrets`](crate::Secrets) set is a list of [`Finder`]s. The stream core
//! ([`Masker`](crate::Masker)) keeps the bytes it holds back and the range it may still
//! extend, and merges the finders' ranges; everything that depends on what is searched lives
//! behind [`Find`]. See `docs/CONTRACT.md` §2–§3 for the semantics this serves and
//! `DESIGN.md` for how each finder meets it.

pub(crate) mod creds;
pub(crate) mod exact;
mod filter;
pub(crate) mod lenses;
mod long;
pub(crate) mod patterns;
mod prefix;
mod sampler;
pub(crate) mod shapes;
pub(crate) mod splits;
pub(crate) mod view;

use std::sync::Arc;

use creds::Creds;
use exact::Exact;
use lenses::{HexUpper, Unwrap};
use shapes::Shapes;
use view::Viewed;

/// A masked range `[start, end)` in [`Text`] positions.
pub(crate) type Range = (usize, usize);

/// The text a finder judges at a chunk boundary: the bytes the stream still holds back
/// (`carry`, positions `0..carry.len()`) followed by the new chunk (`input`).
#[derive(Clone, Copy)]
pub(crate) struct Text<'a> {
    /// Bytes of earlier chunks not yet emitted.
    pub(crate) carry: &'a [u8],
    /// The new chunk; empty at the end of the stream.
    pub(crate) input: &'a [u8],
    /// The stream ends after `input`: nothing can extend it.
    pub(crate) eof: bool,
}

impl<'a> Text<'a> {
    /// The number of bytes of the text.
    pub(crate) fn len(&self) -> usize {
        self.carry.len() + self.input.len()
    }

    /// The byte at text position `i`.
    #[inline]
    pub(crate) fn at(&self, i: usize) -> u8 {
        match i.checked_sub(self.carry.len()) {
            Some(j) => self.input[j],
            None => self.carry[i],
        }
    }

    /// The text from position `from` (in `carry`) to at most `reach` bytes into `input`, in
    /// one slice: where matches that start in the last bytes of `carry` are seen whole.
    /// Borrows `input` when `from` is the end of `carry`.
    #[inline]
    pub(crate) fn across<'s>(&self, from: usize, reach: usize, scratch: &'s mut Vec<u8>) -> &'s [u8]
    where
        'a: 's,
    {
        let head = &self.input[..self.input.len().min(reach)];
        if from == self.carry.len() {
            return head;
        }
        scratch.clear();
        scratch.extend_from_slice(&self.carry[from..]);
        scratch.extend_from_slice(head);
        scratch
    }

    /// The last `n` bytes of the text (all of it if shorter), in one slice, and the text
    /// position where they begin.
    pub(crate) fn tail<'s>(&self, n: usize, scratch: &'s mut Vec<u8>) -> (usize, &'s [u8])
    where
        'a: 's,
    {
        let c = self.carry.len();
        if self.input.len() >= n {
            let from = self.input.len() - n;
            return (c + from, &self.input[from..]);
        }
        let from = self.len().saturating_sub(n);
        scratch.clear();
        scratch.extend_from_slice(&self.carry[from..]);
        scratch.extend_from_slice(self.input);
        (from, scratch)
    }
}

/// The contract between a matcher and the stream core.
///
/// A finder defines a set of masked ranges over the whole stream that does not depend on
/// how the stream is split into chunks (for exact secrets: their occurrences). At each chunk
/// boundary the core hands it a [`Text`] and asks two things:
///
/// 1. [`held`](Find::held): the start of the longest suffix of the text that later bytes
///    could still turn into the start of one of its ranges (`text.len()` if none). It must
///    never be too large (that would emit the first bytes of a secret) and should be as
///    small as the finder can make it: the core holds back from the least of the finders'
///    answers, and bytes before it reach the sink at once.
/// 2. [`ranges`](Find::ranges): given `held`, the least of all finders' answers, every range
///    that starts in `0..held`, in order of start (the core merges the finders' runs). Ranges that start at `held` or later are
///    left alone: those bytes stay held and are judged again, with the next chunk, against
///    the set in force then. A range whose end later bytes could still move (a token body
///    reaching the end of the text) is reported up to `text.len()`, and the finder notes in
///    its [`State`](Find::State) that it continues; its next text then begins with the
///    bytes that continue it.
///
/// The core asks `held` and then `ranges` of every text, the last one (`eof`) included, so
/// a finder may keep what `held` found in its state for `ranges`. It asks the finders in
/// the set's order, and `out` holds, when a finder is asked, the ranges the finders before
/// it reported for this text: those are masked, so a finder may leave out a range of its
/// own that lies inside one of them and that later bytes cannot extend.
///
/// Ranges that start before the text (already settled) are never reported again, except as
/// such a continuation. Every range a finder reports must lie in the reference semantics'
/// masked ranges of the whole stream (no more, no fewer): the core merges them, it does not
/// check them.
///
/// Cost: both calls should cost what the text's own matches cost, plus a bounded look at
/// the edge; never a rescan proportional to the longest pattern of the set per match.
pub(crate) trait Find {
    /// What a stream carries from one chunk to the next for this finder, besides the held
    /// bytes (which the core keeps). Also the finder's scratch space.
    type State: Clone + Default;

    /// The start of the longest suffix of `text` that could still begin one of its ranges.
    fn held(&self, state: &mut Self::State, text: &Text<'_>) -> usize;

    /// Pushes onto `out`, in order of start, each range that starts before `held`; updates
    /// `state` for the next text, which is `text[held..]` followed by the next chunk. `out`
    /// already holds the earlier finders' ranges for this text.
    fn ranges(&self, state: &mut Self::State, text: &Text<'_>, held: usize, out: &mut Vec<Range>);
}

/// One matcher of a set.
pub(crate) enum Finder {
    /// The secrets' byte strings (values, lines, encoded variants); shared, so that sets
    /// built from one another need not compile it again.
    Exact(Arc<Exact>),
    /// The exact finders' patterns in base64 wrapped into lines.
    Unwrapped(Viewed<Unwrap>),
    /// The exact finders' patterns in percent-encoding with hex digits of either case.
    HexUpper(Viewed<HexUpper>),
    /// The well-known token shapes.
    Shapes(Shapes),
    /// The structured credentials.
    Creds(Creds),
}

/// A stream's [`Find::State`] for one [`Finder`].
#[derive(Clone)]
pub(crate) enum State {
    Exact(<Exact as Find>::State),
    Unwrapped(<Viewed<Unwrap> as Find>::State),
    HexUpper(<Viewed<HexUpper> as Find>::State),
    Shapes(<Shapes as Find>::State),
    Creds(<Creds as Find>::State),
}

impl Finder {
    /// A fresh state for a stream.
    pub(crate) fn new_state(&self) -> State {
        match self {
            Finder::Exact(_) => State::Exact(Default::default()),
            Finder::Unwrapped(_) => State::Unwrapped(Default::default()),
            Finder::HexUpper(_) => State::HexUpper(Default::default()),
            Finder::Shapes(_) => State::Shapes(Default::default()),
            Finder::Creds(_) => State::Creds(Default::default()),
        }
    }

    /// Whether `state` was made for a finder of this kind (and can go on with it).
    fn fits(&self, state: &State) -> bool {
        matches!(
            (self, state),
            (Finder::Exact(_), State::Exact(_))
                | (Finder::Unwrapped(_), State::Unwrapped(_))
                | (Finder::HexUpper(_), State::HexUpper(_))
                | (Finder::Shapes(_), State::Shapes(_))
                | (Finder::Creds(_), State::Creds(_))
        )
    }

    /// See [`Find::held`].
    pub(crate) fn held(&self, state: &mut State, text: &Text<'_>) -> usize {
        match (self, state) {
            (Finder::Exact(f), State::Exact(s)) => f.held(s, text),
            (Finder::Unwrapped(f), State::Unwrapped(s)) => f.held(s, text),
            (Finder::HexUpper(f), State::HexUpper(s)) => f.held(s, text),
            (Finder::Shapes(f), State::Shapes(s)) => f.held(s, text),
            (Finder::Creds(f), State::Creds(s)) => f.held(s, text),
            _ => unreachable!("states are made by their finders"),
        }
    }

    /// See [`Find::ranges`].
    pub(crate) fn ranges(
        &self,
        state: &mut State,
        text: &Text<'_>,
        held: usize,
        out: &mut Vec<Range>,
    ) {
        match (self, state) {
            (Finder::Exact(f), State::Exact(s)) => f.ranges(s, text, held, out),
            (Finder::Unwrapped(f), State::Unwrapped(s)) => f.ranges(s, text, held, out),
            (Finder::HexUpper(f), State::HexUpper(s)) => f.ranges(s, text, held, out),
            (Finder::Shapes(f), State::Shapes(s)) => f.ranges(s, text, held, out),
            (Finder::Creds(f), State::Creds(s)) => f.ranges(s, text, held, out),
            _ => unreachable!("states are made by their finders"),
        }
    }
}

/// The states for `finders`, keeping from `old` the state of each kind of finder that
/// `finders` still has (a token body that continues goes on being masked when the set
/// changes), fresh ones for the others.
pub(crate) fn carry_states(finders: &[Finder], old: &mut Vec<State>) {
    let mut kept = std::mem::take(old);
    old.extend(
        finders
            .iter()
            .map(|f| match kept.iter().position(|s| f.fits(s)) {
                Some(i) => kept.swap_remove(i),
                None => f.new_state(),
            }),
    );
}

/// Asks the CPU to bring the cache line at `p` closer, for a load that will follow; `p`
/// need not point into anything (a prefetch never faults and reads nothing into the program).
#[inline(always)]
pub(crate) fn prefetch<T>(p: *const T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: `prefetcht0` takes any address and neither faults nor changes memory; SSE is
    // part of every x86_64 CPU.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(p.cast());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}
