//! How the sets a registry compiles reach its streams: whole compiles, the merge and
//! compaction threads, publishing a set and freeing the sets that streams stopped using.

use std::sync::{Arc, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use super::{union, Inner, Merger, Registry, State};
use crate::find::exact::Exact;
use crate::{Secrets, SecretsBuilder};

impl Registry {
    /// Starts the merge threads if they have not been started.
    pub(super) fn start_merger(&self, state: &mut State) {
        if state.merger != Merger::NotStarted {
            return;
        }
        let spawn = |name: &str, run: fn(&Inner)| {
            let inner = Arc::clone(&self.inner);
            thread::Builder::new()
                .name(name.into())
                .spawn(move || run(&inner))
                .is_ok()
        };
        state.merger = if spawn("logmask-merge", Inner::merge_loop)
            && spawn("logmask-compact", Inner::compact_loop)
        {
            Merger::Running
        } else {
            Merger::Unavailable
        };
    }
}

impl Inner {
    /// Compiles the whole set and publishes it, unless a set compiled from the state at
    /// change number `change` or later was installed already. The additions made meanwhile
    /// stay in their layers.
    pub(super) fn rebuild(&self, change: u64) {
        let _rebuild = self.rebuild_lock();
        let (all, upto) = {
            let mut state = self.state();
            if state.layers.big_change() >= change {
                return;
            }
            state.merging = Some(state.changes);
            let jobs: Vec<Arc<SecretsBuilder>> = state.jobs.values().cloned().collect();
            ((Arc::clone(&state.base), jobs), state.changes)
        };
        let all = union(&all.0, &all.1);
        // Compiled outside `state`: additions go on meanwhile, and streams keep applying
        // the old set.
        let big = Exact::new(
            all.patterns()
                .expect("every job's secrets were validated with the base's settings"),
        );
        let mut state = self.state();
        state.layers.install(big, upto);
        state.merging = None;
        let old = self.publish(&state);
        drop(state);
        self.retire(old, true);
    }

    /// The merge thread: merges the layers soon after additions arrive, then rests as long
    /// as the merge took (so merging takes at most half a core), until the registry is
    /// dropped.
    fn merge_loop(&self) {
        let mut rest = Duration::ZERO;
        loop {
            let mut state = self.state();
            let until = Instant::now() + rest;
            loop {
                if state.merger == Merger::Closed {
                    return;
                }
                let now = Instant::now();
                if now >= until && state.merges() && state.layers.has_layers() {
                    break;
                }
                state = if now < until {
                    self.wake
                        .wait_timeout(state, until - now)
                        .unwrap_or_else(PoisonError::into_inner)
                        .0
                } else {
                    self.wake
                        .wait(state)
                        .unwrap_or_else(PoisonError::into_inner)
                };
            }
            let change = state.changes;
            drop(state);
            let start = Instant::now();
            self.rebuild(change);
            rest = start.elapsed();
        }
    }

    /// The compaction thread: compacts the layers of additions into one whenever they are
    /// several (compiling what they hold, not the whole set), so that a stream searches a few
    /// of them while the merge thread compiles the whole set, until the registry is dropped.
    fn compact_loop(&self) {
        loop {
            let mut state = self.state();
            let compaction = loop {
                if state.merger == Merger::Closed {
                    return;
                }
                if state.merges() {
                    if let Some(c) = state.layers.compaction(state.merging.unwrap_or(0)) {
                        break c;
                    }
                }
                state = self
                    .wake
                    .wait(state)
                    .unwrap_or_else(PoisonError::into_inner);
            };
            drop(state);
            let exact = compaction.compile();
            let mut state = self.state();
            if state.layers.compacted(compaction, exact) {
                let old = self.publish(&state);
                drop(state);
                self.retire(old, true);
            }
        }
    }

    /// Publishes the set of `state`'s layers; returns the set it replaced.
    pub(super) fn publish(&self, state: &State) -> Arc<Secrets> {
        let secrets = Secrets::layered(&state.base, state.layers.exacts(), state.sources.clone());
        self.current.swap(Arc::new(secrets))
    }

    /// Keeps `old`, a set streams may still hold, until none does; with `free`, frees the
    /// kept sets that no stream holds any more.
    pub(super) fn retire(&self, old: Arc<Secrets>, free: bool) {
        let mut retired = self.retired.lock().unwrap_or_else(PoisonError::into_inner);
        retired.push(old);
        if !free {
            return;
        }
        // Only this list can hold a set that has 1 reference: no stream can get it again.
        // Freed once the lock is released, so that no addition waits for it.
        let (unused, kept) = std::mem::take(&mut *retired)
            .into_iter()
            .partition(|set| Arc::strong_count(set) == 1);
        *retired = kept;
        drop(retired);
        drop::<Vec<Arc<Secrets>>>(unused);
    }
}
