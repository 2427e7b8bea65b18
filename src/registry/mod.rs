//! The active job tokens: secrets added and removed by job id while streams run.

mod install;
mod layers;

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};

use arc_swap::ArcSwap;

use crate::find::exact::Exact;
use crate::set::Sources;
use crate::stream::source::Shared;
use crate::{Error, Masker, Secrets, SecretsBuilder};
use layers::Layers;

/// The secrets of the jobs running now, shared by every stream made from it.
///
/// A CI runner serves many jobs at once, and each job's token lives only while the job runs.
/// A `Registry` holds a *base* set (secrets masked all the time, and the settings: minimum
/// length, replacement) and the secrets of each active job, by job id. Every stream made from
/// it masks the base secrets and every active job's secrets: a job's log must not show another
/// job's token either.
///
/// [`add`](Self::add) and [`remove`](Self::remove) may be called from any thread while streams
/// run. Each change publishes a new [`Secrets`] set with an atomic pointer swap, so streams
/// never wait for a compile: a stream made by
/// [`masker`](Self::masker) checks for a new set with one atomic load per chunk, and applies
/// it from the next chunk it is given after the change returned. Bytes the stream still
/// holds back are then judged against the new set (as [`Masker::set_secrets`] does). Output
/// already produced stays as it was: removing a token never un-masks anything, and a token
/// added after its first bytes were written cannot mask those bytes, so add a job's secrets
/// before the job starts writing.
///
/// An addition to a large set is compiled on its own and searched beside the set (taking
/// effect in microseconds), and merged into it by a thread of the registry, off the
/// streams' path; a change that drops secrets compiles the whole set in the calling thread.
/// Changes made at the same time by several threads are compiled together where they can be,
/// and when `add` or `remove` returns, its change is published. A set that streams stop
/// using is freed by the registry at a later change, never by a stream.
///
/// # Example
///
/// ```
/// use std::io::Write;
/// use logmask::{MaskingWriter, Registry, Secrets};
///
/// let mut base = Secrets::builder();
/// base.add_named("runner token", "glrt-runner-0001");
/// let registry = Registry::new(base)?;
/// registry.add("job 41", ["glcbt-64_job41-secret"])?;
/// let mut log = MaskingWriter::with_masker(Vec::new(), registry.masker());
/// log.write_all(b"job 41: glcbt-64_job41-secret\n")?;
/// registry.add("job 42", ["glcbt-64_job42-secret"])?;
/// log.write_all(b"job 42: glcbt-64_job42-secret\n")?;
/// registry.remove("job 41");
/// log.write_all(b"job 41 again: glcbt-64_job41-secret\n")?;
/// log.write_all(b"runner: glrt-runner-0001\n")?;
/// assert_eq!(
///     String::from_utf8(log.finish()?)?,
///     "job 41: [MASKED]\njob 42: [MASKED]\njob 41 again: glcbt-64_job41-secret\nrunner: [MASKED]\n"
/// );
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Registry {
    inner: Arc<Inner>,
}

/// What a registry and its merge and compaction threads share.
struct Inner {
    /// The compiled set that streams apply; replaced whole after each change.
    current: Shared,
    /// What `current` is compiled from.
    state: Mutex<State>,
    /// Held while a big set is compiled and installed (by a change that removes secrets, a
    /// new base, a merge), so that big sets are installed in the order of the states they
    /// are compiled from. Lock order: `rebuild`, `state`, `retired`.
    rebuild: Mutex<()>,
    /// Wakes the merge and compaction threads after an addition, a change of tuning, and
    /// when the registry is dropped.
    wake: Condvar,
    /// Sets replaced while streams still held them. Each is freed here, by a later merge,
    /// compaction or whole compile, once no stream holds it, so that neither a stream nor an addition pays for
    /// freeing an automaton.
    retired: Mutex<Vec<Arc<Secrets>>>,
}

/// The base and the active jobs, and their compiled patterns. Invariant: every job's secrets
/// are valid with the base's settings, so the union of all of them always compiles; the
/// patterns of `layers` are those of the union, once every change up to `changes` that
/// removed a secret has been installed by `Inner::rebuild`.
struct State {
    base: Arc<SecretsBuilder>,
    /// Each job's secrets (settings unused).
    jobs: HashMap<String, Arc<SecretsBuilder>>,
    /// The base and the jobs' builders, for counting by origin; an addition pushes one.
    sources: Sources,
    /// The number of changes made so far.
    changes: u64,
    layers: Layers,
    /// `Some(change)` while a big set is compiled from the state at `change`.
    merging: Option<u64>,
    /// Additions go to a layer once the big set has this many patterns.
    layers_from: usize,
    /// Whether the merge and compaction threads work on the layers.
    background: bool,
    merger: Merger,
}

/// The life of the merge and compaction threads.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Merger {
    NotStarted,
    Running,
    /// They could not be started: the additions that find the layers full merge them.
    Unavailable,
    /// The registry was dropped: the threads end.
    Closed,
}

/// Additions go to a layer once the set has this many patterns: below it, compiling the
/// whole set takes about as long as a layer.
const LAYERS_FROM: usize = 64;

impl Registry {
    /// A registry with no jobs; `base` gives the settings (minimum length, replacement) and
    /// the secrets masked at all times, if any. It is taken by value (kept as it is) or by
    /// reference (copied), so a builder chain can be passed as it is:
    /// `Registry::new(Secrets::builder().min_len(12))`.
    ///
    /// # Errors
    ///
    /// As [`SecretsBuilder::build`] for `base`.
    pub fn new(base: impl Into<SecretsBuilder>) -> Result<Registry, Error> {
        let mut base = base.into();
        base.shrink_to_fit();
        let layers = Layers::new(Exact::new(base.patterns()?), 0);
        let base = Arc::new(base);
        let sources = Sources::default().push(Arc::clone(&base));
        let secrets = Secrets::layered(&base, layers.exacts(), sources.clone());
        Ok(Registry {
            inner: Arc::new(Inner {
                current: Arc::new(ArcSwap::from_pointee(secrets)),
                state: Mutex::new(State {
                    base,
                    jobs: HashMap::new(),
                    sources,
                    changes: 0,
                    layers,
                    merging: None,
                    layers_from: LAYERS_FROM,
                    background: true,
                    merger: Merger::NotStarted,
                }),
                rebuild: Mutex::new(()),
                wake: Condvar::new(),
                retired: Mutex::new(Vec::new()),
            }),
        })
    }

    /// Makes `secrets` active for `job`, replacing the job's earlier secrets if it was active
    /// already (streams see either the old or the new secrets, never neither). Returns once
    /// the new set is published.
    ///
    /// An addition (a new job, or more secrets for a job) to a set of more than a few dozen
    /// patterns is compiled on its own, beside the set, and takes effect in well under a
    /// millisecond whatever the size of the set; a thread merges such additions into the set
    /// off the streams' path. A change that drops a secret compiles the whole set.
    ///
    /// # Errors
    ///
    /// A secret that the base's settings refuse (see [`SecretsBuilder::build`]); the error
    /// names it as `job {job} value {n}` (counted from 1; `{job} value {n}` when the id
    /// already begins with the word "job"), never by its value. Nothing
    /// changes then.
    pub fn add<I, S>(&self, job: impl Into<String>, secrets: I) -> Result<(), Error>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<[u8]>,
    {
        let inner = &*self.inner;
        let job = job.into();
        let values: Vec<S> = secrets.into_iter().collect();
        let mut state = inner.state();
        let mut builder = state.base.without_secrets();
        builder.add_job_values(&job, &values).shrink_to_fit();
        let patterns = builder.patterns()?;
        let adds_only = state
            .jobs
            .get(&job)
            .map_or(true, |old| old.is_subset_of(&builder));
        let builder = Arc::new(builder);
        let new = !state.jobs.contains_key(&job);
        state.jobs.insert(job, Arc::clone(&builder));
        if new {
            state.sources = state.sources.push(builder);
        } else {
            state.refresh_sources();
        }
        state.changes += 1;
        let change = state.changes;
        let layered = adds_only
            && state.layers.big_len() >= state.layers_from
            && (state.merges() || !state.layers.is_full());
        if !layered {
            drop(state);
            inner.rebuild(change);
            return Ok(());
        }
        state.layers.push(change, patterns);
        let old = inner.publish(&state);
        if state.merges() {
            self.start_merger(&mut state);
            inner.wake.notify_all();
        }
        drop(state);
        inner.retire(old, false);
        Ok(())
    }

    /// Ends `job`: its secrets are no longer masked from the next chunk of each stream on
    /// (unless the base or another job has them too). Returns whether `job` was active; once
    /// it returns, the new set is published. Compiles the whole set.
    pub fn remove(&self, job: &str) -> bool {
        let change = {
            let mut state = self.inner.state();
            if state.jobs.remove(job).is_none() {
                return false;
            }
            state.refresh_sources();
            state.changes += 1;
            state.changes
        };
        self.inner.rebuild(change);
        true
    }

    /// Replaces the base: the settings and the secrets masked at all times. The active jobs
    /// stay. Returns once the new set is published. Compiles the whole set; additions wait
    /// for it.
    ///
    /// # Errors
    ///
    /// As [`SecretsBuilder::build`], for `base` or for an active job's secret that the new
    /// settings refuse. Nothing changes then.
    pub fn set_base(&self, base: impl Into<SecretsBuilder>) -> Result<(), Error> {
        let mut base = base.into();
        base.shrink_to_fit();
        let inner = &*self.inner;
        let _rebuild = inner.rebuild_lock();
        let mut state = inner.state();
        let big = Exact::new(union(&base, state.jobs.values()).patterns()?);
        state.base = Arc::new(base);
        state.refresh_sources();
        state.changes += 1;
        let change = state.changes;
        state.layers.install(big, change);
        let old = inner.publish(&state);
        drop(state);
        inner.retire(old, true);
        Ok(())
    }

    /// Merges the additions compiled beside the set into it now, in the calling thread, and
    /// publishes the result (a thread does it otherwise, soon after additions).
    pub fn merge(&self) {
        let change = self.inner.state().changes;
        self.inner.rebuild(change);
    }

    /// Tunes additions (the defaults suit most hosts): an addition is compiled on its own,
    /// beside the set, once the set holds at least `from` patterns (default 64; 0: always),
    /// a whole compile below that. With `background` (the default), a thread merges these
    /// additions into the set soon after they arrive; without it, [`merge`](Self::merge)
    /// does, or the addition that finds a bounded number of them waiting.
    pub fn set_layering(&self, from: usize, background: bool) {
        let mut state = self.inner.state();
        state.layers_from = from;
        state.background = background;
        if state.merges() && state.layers.has_layers() {
            self.start_merger(&mut state);
            self.inner.wake.notify_all();
        }
    }

    /// The set that streams apply now.
    pub fn secrets(&self) -> Arc<Secrets> {
        self.inner.current.load_full()
    }

    /// A masker for a new stream that follows this registry: at each chunk it applies the
    /// registry's current set. Give it to [`MaskingWriter::with_masker`](crate::MaskingWriter::with_masker)
    /// or [`MaskingReader::with_masker`](crate::MaskingReader::with_masker) for `std::io`.
    pub fn masker(&self) -> Masker {
        Masker::following(&self.inner.current)
    }

    /// The number of active jobs.
    pub fn len(&self) -> usize {
        self.inner.state().jobs.len()
    }

    /// Whether no job is active.
    pub fn is_empty(&self) -> bool {
        self.inner.state().jobs.is_empty()
    }

    /// Whether `job` is active.
    pub fn contains(&self, job: &str) -> bool {
        self.inner.state().jobs.contains_key(job)
    }
}

impl State {
    /// Whether the merge and compaction threads work on the layers.
    fn merges(&self) -> bool {
        self.background && matches!(self.merger, Merger::NotStarted | Merger::Running)
    }

    /// Makes `sources` the base and the jobs anew, after a change that drops a builder.
    fn refresh_sources(&mut self) {
        let base = Sources::default().push(Arc::clone(&self.base));
        self.sources = (self.jobs.values()).fold(base, |list, b| list.push(Arc::clone(b)));
    }
}

impl Inner {
    fn state(&self) -> MutexGuard<'_, State> {
        // Every change to `State` is complete before the guard drops, so a panic elsewhere
        // leaves it consistent.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn rebuild_lock(&self) -> MutexGuard<'_, ()> {
        self.rebuild.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        self.inner.state().merger = Merger::Closed;
        self.inner.wake.notify_all();
    }
}

impl Default for Registry {
    /// A registry with the default settings, no base secrets and no jobs.
    fn default() -> Self {
        Registry::new(SecretsBuilder::new()).expect("an empty set with the defaults is valid")
    }
}

impl fmt::Debug for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registry")
            .field("jobs", &self.len())
            .field("secrets", &self.secrets())
            .finish_non_exhaustive()
    }
}

/// The base's settings and secrets, and the secrets of `jobs`.
fn union<'a>(
    base: &SecretsBuilder,
    jobs: impl IntoIterator<Item = &'a Arc<SecretsBuilder>>,
) -> SecretsBuilder {
    let mut all = base.clone();
    for job in jobs {
        all.append(job);
    }
    all
}
