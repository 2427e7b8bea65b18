//! Counting masked ranges by origin: what a masker does for [`Masker::count_origins`].
//!
//! [`Masker::count_origins`]: crate::Masker::count_origins

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use crate::find::Range;
use crate::set::MaskedBy;
use crate::Secrets;

/// The masked ranges of one or more streams, counted by what made them.
///
/// Each masked range (one replacement in the output) counts once for each distinct origin
/// in it: a range where two secrets overlap counts for both. A token of a well-known shape
/// counts as a [`MaskedBy::Shape`] only if no registered secret occurs in it. Clones share
/// the counts, so that the maskers of several streams can count into one.
#[derive(Clone, Debug, Default)]
pub struct OriginCounts {
    counts: Arc<Mutex<Counts>>,
}

#[derive(Debug, Default)]
struct Counts {
    /// The masked ranges, whatever made them.
    ranges: u64,
    by: HashMap<MaskedBy, u64>,
}

impl OriginCounts {
    /// No ranges counted yet.
    pub fn new() -> OriginCounts {
        OriginCounts::default()
    }

    /// The counts so far, by origin in order (secrets by name, then shapes, then other).
    pub fn get(&self) -> Vec<(MaskedBy, u64)> {
        let counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        let mut all: Vec<_> = counts.by.iter().map(|(by, &n)| (by.clone(), n)).collect();
        all.sort();
        all
    }

    /// The number of masked ranges counted so far (each once, whatever made it).
    pub fn ranges(&self) -> u64 {
        self.counts
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .ranges
    }

    fn add(&self, origins: &[MaskedBy]) {
        let mut counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        counts.ranges += 1;
        let counts = &mut counts.by;
        for by in origins {
            match counts.get_mut(by) {
                Some(n) => *n += 1,
                None => {
                    counts.insert(by.clone(), 1);
                }
            }
        }
    }
}

/// A masker's part of the counting: the origins of the masked range not emitted yet.
#[derive(Clone, Debug)]
pub(super) struct Tally {
    counts: OriginCounts,
    /// The distinct origins of the range being built.
    pending: Vec<MaskedBy>,
    /// A part of that range that no origin accounts for.
    unknown: bool,
    /// A range's bytes when they straddle the held bytes and the chunk.
    scratch: Vec<u8>,
}

impl Tally {
    pub(super) fn new(counts: &OriginCounts) -> Tally {
        Tally {
            counts: counts.clone(),
            pending: Vec::new(),
            unknown: false,
            scratch: Vec::new(),
        }
    }

    /// A finder's range `text[start..end]` (text = `carry ++ input`) joins the range being
    /// built.
    pub(super) fn note(&mut self, secrets: &Secrets, carry: &[u8], input: &[u8], range: Range) {
        let (start, end) = range;
        let c = carry.len();
        let bytes = if end <= c {
            &carry[start..end]
        } else if start >= c {
            &input[start - c..end - c]
        } else {
            self.scratch.clear();
            self.scratch.extend_from_slice(&carry[start..]);
            self.scratch.extend_from_slice(&input[..end - c]);
            &self.scratch
        };
        let before = start.checked_sub(1).map(|i| match i.checked_sub(c) {
            Some(j) => input[j],
            None => carry[i],
        });
        let pending = &mut self.pending;
        let known = secrets.origins_of(bytes, before, |by| {
            if !pending.contains(by) {
                pending.push(by.clone());
            }
        });
        self.unknown |= !known;
    }

    /// The range being built was emitted: it counts.
    pub(super) fn close(&mut self) {
        if self.pending.is_empty() && self.unknown {
            self.pending.push(MaskedBy::Other);
        }
        self.counts.add(&self.pending);
        self.discard();
    }

    /// The range being built is found again with the next chunk: it does not count now.
    pub(super) fn discard(&mut self) {
        self.pending.clear();
        self.unknown = false;
    }
}
