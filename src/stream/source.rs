//! Where a stream's set comes from: fixed, or followed from a shared cell that another
//! thread may replace (a [`Registry`](crate::Registry)'s).

use std::sync::Arc;

use arc_swap::{ArcSwap, Cache};

use crate::Secrets;

/// A cell holding the current set, replaced whole by its owner.
pub(crate) type Shared = Arc<ArcSwap<Secrets>>;

/// A stream's view of a [`Shared`] cell: one atomic load tells whether it changed.
#[derive(Clone, Debug)]
pub(crate) struct Follow(Cache<Shared, Arc<Secrets>>);

impl Follow {
    /// Follows `shared`.
    pub(crate) fn new(shared: &Shared) -> Follow {
        Follow(Cache::new(Arc::clone(shared)))
    }

    /// The current set.
    #[inline]
    pub(crate) fn current(&mut self) -> &Arc<Secrets> {
        self.0.load()
    }
}
