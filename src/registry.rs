//! The active job tokens: secrets added and removed by job id while streams run.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use arc_swap::ArcSwap;

use crate::stream::source::Shared;
use crate::{Error, Masker, Secrets, SecretsBuilder};

/// The secrets of the jobs running now, shared by every stream made from it.
///
/// A CI runner serves many jobs at once, and each job's token lives only while the job runs.
/// A `Registry` holds a *base* set (secrets masked all the time, and the settings: minimum
/// length, replacement) and the secrets of each active job, by job id. Every stream made from
/// it masks the base secrets and every active job's secrets: a job's log must not show another
/// job's token either.
///
/// [`add`](Self::add) and [`remove`](Self::remove) may be called from any thread while streams
/// run. Each change compiles a new [`Secrets`] set in the calling thread and publishes it with
/// an atomic pointer swap, so streams never wait for a compile: a stream made by
/// [`masker`](Self::masker) checks for a new set with one atomic load per chunk, and applies
/// it from the next chunk it is given after the change returned. Bytes the stream still
/// holds back are then judged against the new set (as [`Masker::set_secrets`] does). Output
/// already produced stays as it was: removing a token never un-masks anything, and a token
/// added after its first bytes were written cannot mask those bytes, so add a job's secrets
/// before the job starts writing.
///
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
    /// The compiled set that streams apply; replaced whole after each change.
    current: Shared,
    /// What `current` is compiled from.
    state: Mutex<State>,
    /// Held while a new set is compiled and published, so that sets are published in the
    /// order of their changes. Lock order: `published` before `state`.
    published: Mutex<Published>,
}

/// What has been published.
struct Published {
    /// The number of the last change that `current` includes.
    change: u64,
    /// Sets replaced while streams still held them. Each is freed here, by a later change,
    /// once no stream holds it, so that a stream never pays for freeing an automaton.
    retired: Vec<Arc<Secrets>>,
}

/// The base and the active jobs. Invariant: every job's secrets are valid with the base's
/// settings, so the union of all of them always compiles.
struct State {
    base: SecretsBuilder,
    /// Each job's secrets (settings unused).
    jobs: HashMap<String, Arc<SecretsBuilder>>,
    /// The number of changes made so far.
    changes: u64,
}

impl Registry {
    /// A registry with no jobs; `base` gives the settings (minimum length, replacement) and
    /// the secrets masked at all times, if any. It is taken by value or by reference, so a
    /// builder chain can be passed as it is:
    /// `Registry::new(Secrets::builder().min_len(12))`.
    ///
    /// # Errors
    ///
    /// As [`SecretsBuilder::build`] for `base`.
    pub fn new(base: impl Borrow<SecretsBuilder>) -> Result<Registry, Error> {
        let base = base.borrow().clone();
        let secrets = base.build()?;
        Ok(Registry {
            current: Arc::new(ArcSwap::from_pointee(secrets)),
            state: Mutex::new(State {
                base,
                jobs: HashMap::new(),
                changes: 0,
            }),
            published: Mutex::new(Published {
                change: 0,
                retired: Vec::new(),
            }),
        })
    }

    /// Makes `secrets` active for `job`, replacing the job's earlier secrets if it was active
    /// already (streams see either the old or the new secrets, never neither). Returns once
    /// the new set is published.
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
        let job = job.into();
        let values: Vec<S> = secrets.into_iter().collect();
        let change = {
            let mut state = self.state();
            let mut builder = state.base.without_secrets();
            for (n, value) in values.iter().enumerate() {
                builder.add_named(crate::set::job_value(&job, n + 1), value);
            }
            builder.validate()?;
            state.jobs.insert(job, Arc::new(builder));
            state.changes += 1;
            state.changes
        };
        self.publish(change);
        Ok(())
    }

    /// Ends `job`: its secrets are no longer masked from the next chunk of each stream on
    /// (unless the base or another job has them too). Returns whether `job` was active; once
    /// it returns, the new set is published.
    pub fn remove(&self, job: &str) -> bool {
        let change = {
            let mut state = self.state();
            if state.jobs.remove(job).is_none() {
                return false;
            }
            state.changes += 1;
            state.changes
        };
        self.publish(change);
        true
    }

    /// Replaces the base: the settings and the secrets masked at all times. The active jobs
    /// stay. Returns once the new set is published.
    ///
    /// # Errors
    ///
    /// As [`SecretsBuilder::build`], for `base` or for an active job's secret that the new
    /// settings refuse. Nothing changes then.
    pub fn set_base(&self, base: impl Borrow<SecretsBuilder>) -> Result<(), Error> {
        let base = base.borrow().clone();
        let mut published = self.published();
        let mut state = self.state();
        let secrets = union(&base, state.jobs.values()).build()?;
        state.base = base;
        state.changes += 1;
        let change = state.changes;
        drop(state);
        self.swap(&mut published, secrets, change);
        Ok(())
    }

    /// The set that streams apply now.
    pub fn secrets(&self) -> Arc<Secrets> {
        self.current.load_full()
    }

    /// A masker for a new stream that follows this registry: at each chunk it applies the
    /// registry's current set. Give it to [`MaskingWriter::with_masker`](crate::MaskingWriter::with_masker)
    /// or [`MaskingReader::with_masker`](crate::MaskingReader::with_masker) for `std::io`.
    pub fn masker(&self) -> Masker {
        Masker::following(&self.current)
    }

    /// The number of active jobs.
    pub fn len(&self) -> usize {
        self.state().jobs.len()
    }

    /// Whether no job is active.
    pub fn is_empty(&self) -> bool {
        self.state().jobs.is_empty()
    }

    /// Whether `job` is active.
    pub fn contains(&self, job: &str) -> bool {
        self.state().jobs.contains_key(job)
    }

    /// Compiles and publishes the current state, unless a set including change number
    /// `change` was published already.
    fn publish(&self, change: u64) {
        let mut published = self.published();
        if published.change >= change {
            return;
        }
        let (base, jobs, upto) = {
            let state = self.state();
            let jobs: Vec<Arc<SecretsBuilder>> = state.jobs.values().cloned().collect();
            (state.base.clone(), jobs, state.changes)
        };
        // Compiled outside `state`: other threads may queue their changes meanwhile, and
        // streams keep applying the old set.
        let secrets = union(&base, &jobs)
            .build()
            .expect("every job's secrets were validated with the base's settings");
        self.swap(&mut published, secrets, upto);
    }

    /// Makes `secrets`, which includes changes up to number `change`, the current set, and
    /// frees the sets that no stream holds any more.
    fn swap(&self, published: &mut Published, secrets: Secrets, change: u64) {
        let old = self.current.swap(Arc::new(secrets));
        published.change = change;
        published.retired.push(old);
        // Only this list can hold a set that has 1 reference: no stream can get it again.
        published.retired.retain(|set| Arc::strong_count(set) > 1);
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // Every change to `State` is complete before the guard drops, so a panic elsewhere
        // leaves it consistent.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn published(&self) -> MutexGuard<'_, Published> {
        self.published
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
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
