//! The view finder: the exact finders' patterns searched in a [`Lens`]'s view of the text,
//! where a log changed how a secret's registered form looks (wrapped lines, hex case).
//!
//! Only windows around the places where the view differs from the text are seen and
//! searched, and only matches that hold such a place are reported (the others are the exact
//! finders' own), mapped back to the text: a match across a removed line break is one range
//! with the break inside.

use std::marker::PhantomData;
use std::sync::Arc;

use super::exact::{Exact, Scratch};
use super::lenses::Lens;
use super::{Find, Range, Text};

/// The patterns of `exacts` searched in the view of lens `L`.
pub(crate) struct Viewed<L> {
    /// The exact finders whose patterns the view can change, shared with the set.
    exacts: Vec<Arc<Exact>>,
    /// The most text bytes a match in the view can cover.
    span: usize,
    lens: PhantomData<L>,
}

/// A stream's state for a [`Viewed`] finder.
#[derive(Clone, Default)]
pub(crate) struct ViewState<B> {
    /// What the lens needs of the bytes before the text.
    before: B,
    /// The exact finders' scratch space (one at a time).
    scratch: Scratch,
    /// The view of a window, and each of its bytes' text position.
    view: Vec<u8>,
    map: Vec<usize>,
    /// The places of the text, and the ranges found, before they are sorted.
    places: Vec<usize>,
    found: Vec<Range>,
}

impl<L: Lens> Viewed<L> {
    /// The finder over those of `exacts` whose patterns the lens can change; `None` if none.
    pub(crate) fn new(exacts: &[Arc<Exact>]) -> Option<Viewed<L>> {
        let exacts: Vec<Arc<Exact>> = exacts.iter().filter(|e| L::sees(e)).cloned().collect();
        let longest = exacts.iter().map(|e| e.max_len()).max()?;
        Some(Viewed {
            exacts,
            span: L::span(longest),
            lens: PhantomData,
        })
    }

    /// The most text bytes one of its matches covers.
    pub(crate) fn max_len(&self) -> usize {
        self.span
    }

    /// Builds the view of `text[range]` in `state`.
    fn see(&self, state: &mut ViewState<L::Before>, text: &Text<'_>, range: Range, pending: bool) {
        state.view.clear();
        state.map.clear();
        L::view(
            text,
            &state.before,
            range,
            pending,
            &mut state.view,
            &mut state.map,
        );
    }
}

impl<L: Lens> Find for Viewed<L> {
    type State = ViewState<L::Before>;

    fn held(&self, state: &mut Self::State, text: &Text<'_>) -> usize {
        let n = text.len();
        let from = n.saturating_sub(self.span);
        let mut near = false;
        L::places(text, &state.before, from, |_| near = true);
        // A `\r` at the end may still become a removed break.
        if !(near || L::PENDING && n > 0 && text.at(n - 1) == b'\r') {
            return n;
        }
        self.see(state, text, (from, n), true);
        // The longest suffix that is a proper prefix and where a match may start.
        let mut start = 0;
        loop {
            let view = Text {
                carry: &[],
                input: &state.view[start..],
                eof: text.eof,
            };
            let v = start
                + self
                    .exacts
                    .iter()
                    .map(|e| e.held(&mut state.scratch, &view))
                    .min()
                    .unwrap_or(view.input.len());
            match state.map.get(v) {
                None => return n,
                Some(&p) if L::may_start(text, &state.before, p) => return p,
                Some(_) => start = v + 1,
            }
        }
    }

    fn ranges(&self, state: &mut Self::State, text: &Text<'_>, held: usize, out: &mut Vec<Range>) {
        let n = text.len();
        let mut places = std::mem::take(&mut state.places);
        places.clear();
        L::places(text, &state.before, 0, |p| {
            if L::worth(&self.exacts, text, p) {
                places.push(p);
            }
        });
        state.found.clear();
        // Windows around the places, merged; a match holding a place lies in its window.
        let mut i = 0;
        while i < places.len() && places[i].saturating_sub(self.span) < held {
            let start = places[i].saturating_sub(self.span);
            let mut end = (places[i] + self.span + 1).min(n);
            while i + 1 < places.len() && places[i + 1].saturating_sub(self.span) <= end {
                i += 1;
                end = (places[i] + self.span + 1).min(n);
            }
            i += 1;
            self.search(state, text, (start, end), held);
        }
        state.places = places;
        state.found.sort_unstable();
        out.extend_from_slice(&state.found);
        state.before = L::before(text, &state.before, held);
    }
}

impl<L: Lens> Viewed<L> {
    /// Pushes onto `state.found` the matches in the view of `text[window]` that
    /// start before `held` and hold a place, mapped back to the text.
    fn search(
        &self,
        state: &mut ViewState<L::Before>,
        text: &Text<'_>,
        window: Range,
        held: usize,
    ) {
        self.see(state, text, window, false);
        let ViewState {
            before,
            scratch,
            view,
            map,
            found,
            ..
        } = state;
        for exact in &self.exacts {
            exact.occurrences_in(scratch, view, |a, b| {
                let (s, e) = (map[a], map[b - 1] + 1);
                let changed = e - s != b - a || (a..b).any(|v| view[v] != text.at(map[v]));
                if s < held && changed && L::may_start(text, before, s) {
                    found.push((s, e));
                }
            });
        }
    }
}
