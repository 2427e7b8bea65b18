//! The registry's compiled patterns: a big set compiled whole, shared by every version
//! published, and small layers compiled from the additions made since.

use std::sync::Arc;

use crate::find::exact::Exact;
use crate::find::patterns::Patterns;

/// A layer stops taking additions once it holds this many patterns (compiling it then takes
/// about 0.1 ms); the next addition starts a new one.
const LAYER_PATTERNS: usize = 128;

/// At most this many layers beside the big set: past it the last one takes every addition,
/// so a stream searches a bounded number of sets whatever the rate of additions.
const MAX_LAYERS: usize = 8;

/// From this many layers on, all but the last are worth compacting into one.
const COMPACT_AT: usize = 4;

/// The patterns of the published set: those of `big`, which holds the union of the base and
/// the jobs as of change `big_change`, and those of the additions made after it, in layers.
pub(super) struct Layers {
    big: Arc<Exact>,
    big_change: u64,
    /// The layers, oldest first; each holds additions of consecutive change numbers.
    layers: Vec<Layer>,
}

/// Additions compiled together.
struct Layer {
    /// The additions, in order of change.
    entries: Vec<Entry>,
    /// Their patterns, compiled.
    exact: Arc<Exact>,
}

/// One addition: the patterns of a job's secrets, and the number of the change that made it.
#[derive(Clone)]
struct Entry {
    change: u64,
    patterns: Arc<Patterns>,
}

/// Layers taken to be compacted: what [`Layers::compacted`] needs to tell whether they are
/// still there.
pub(super) struct Compaction {
    /// The position of the first layer taken.
    from: usize,
    /// The compiled sets of the layers taken, in order.
    taken: Vec<Arc<Exact>>,
    entries: Vec<Entry>,
}

impl Layers {
    /// `big` alone, as compiled from the state at change `change`.
    pub(super) fn new(big: Exact, change: u64) -> Layers {
        Layers {
            big: Arc::new(big),
            big_change: change,
            layers: Vec::new(),
        }
    }

    /// The number of the last change the big set includes.
    pub(super) fn big_change(&self) -> u64 {
        self.big_change
    }

    /// The number of distinct patterns of the big set.
    pub(super) fn big_len(&self) -> usize {
        self.big.len()
    }

    /// Whether additions are waiting to be merged into the big set.
    pub(super) fn has_layers(&self) -> bool {
        !self.layers.is_empty()
    }

    /// Whether the next addition would grow a layer past its size.
    pub(super) fn is_full(&self) -> bool {
        self.layers.len() == MAX_LAYERS && self.layers[MAX_LAYERS - 1].exact.len() >= LAYER_PATTERNS
    }

    /// Adds the patterns of change number `change` (later than every change already
    /// here): to the last layer, compiled again, or to a new one. Costs the compile of one
    /// layer: about `LAYER_PATTERNS` patterns, or more past `MAX_LAYERS`.
    pub(super) fn push(&mut self, change: u64, patterns: Patterns) {
        let entry = Entry {
            change,
            patterns: Arc::new(patterns),
        };
        let at_most = self.layers.len() == MAX_LAYERS;
        match self.layers.last_mut() {
            Some(last) if last.exact.len() < LAYER_PATTERNS || at_most => {
                last.entries.push(entry);
                last.exact = compile(&last.entries);
            }
            _ => {
                let entries = vec![entry];
                let exact = compile(&entries);
                self.layers.push(Layer { entries, exact });
            }
        }
    }

    /// Makes `big`, compiled from the state at change `change`, the big set, and drops the
    /// additions it includes (those up to `change`); a layer that keeps some of its
    /// additions is compiled again. The additions after `change` stay: none is lost.
    pub(super) fn install(&mut self, big: Exact, change: u64) {
        debug_assert!(change >= self.big_change, "sets are installed in order");
        self.big = Arc::new(big);
        self.big_change = change;
        self.layers.retain_mut(|layer| {
            let before = layer.entries.len();
            layer.entries.retain(|e| e.change > change);
            if !layer.entries.is_empty() && layer.entries.len() < before {
                layer.exact = compile(&layer.entries);
            }
            !layer.entries.is_empty()
        });
    }

    /// Takes the layers worth compacting, if there are at least two: when there are
    /// [`COMPACT_AT`] or more, those before the last (the one additions go to) that hold only
    /// additions after change `after` (those up to it are being merged into the big set).
    /// Their additions are compiled together by [`Compaction::compile`] outside the
    /// registry's lock, then put back by [`compacted`](Self::compacted).
    pub(super) fn compaction(&self, after: u64) -> Option<Compaction> {
        if self.layers.len() < COMPACT_AT {
            return None;
        }
        let last = self.layers.len() - 1;
        let from = self.layers[..last]
            .iter()
            .position(|l| l.entries[0].change > after)?;
        let taken = &self.layers[from..last];
        (taken.len() >= 2).then(|| Compaction {
            from,
            taken: taken.iter().map(|l| Arc::clone(&l.exact)).collect(),
            entries: taken
                .iter()
                .flat_map(|l| l.entries.iter().cloned())
                .collect(),
        })
    }

    /// Replaces the layers of `compaction` by `exact`, their union, if they are still there
    /// unchanged (a merge into the big set may have dropped them meanwhile); returns whether
    /// it did.
    pub(super) fn compacted(&mut self, compaction: Compaction, exact: Arc<Exact>) -> bool {
        let (from, n) = (compaction.from, compaction.taken.len());
        let same = self.layers.len() > from + n
            && self.layers[from..from + n]
                .iter()
                .zip(&compaction.taken)
                .all(|(l, t)| Arc::ptr_eq(&l.exact, t));
        if same {
            self.layers.splice(
                from..from + n,
                [Layer {
                    entries: compaction.entries,
                    exact,
                }],
            );
        }
        same
    }

    /// The compiled sets, the big one first.
    pub(super) fn exacts(&self) -> impl Iterator<Item = Arc<Exact>> + '_ {
        std::iter::once(Arc::clone(&self.big))
            .chain(self.layers.iter().map(|l| Arc::clone(&l.exact)))
    }
}

impl Compaction {
    /// The union of the layers taken.
    pub(super) fn compile(&self) -> Arc<Exact> {
        compile(&self.entries)
    }
}

/// The patterns of `entries`, compiled together.
fn compile(entries: &[Entry]) -> Arc<Exact> {
    let mut patterns = Patterns::default();
    for p in entries.iter().flat_map(|e| e.patterns.iter()) {
        patterns.push(p);
    }
    Arc::new(Exact::new(patterns))
}
