//! Target `registry`: a stream from [`Registry::masker`] while jobs' secrets are added and
//! removed between its chunks.
//!
//! The registry compiles each change whole, or ([`Layering`]) compiles additions as layers
//! beside the set, merged when the case says ([`Step::Merge`]) or by the registry's threads
//! at any time: a merge changes no pattern, so the rule below is the same for all three.
//!
//! Secrets come from the small [`ALPHABET`](crate::ALPHABET); the input's pieces name any
//! secret of the case, active or not (see [`Piece`]), so removed and not yet added secrets
//! appear too. The check is exact, from the rule of `Masker::set_secrets`: a chunk applies
//! the set active when it is given, and the bytes held back from earlier chunks are judged
//! again by it. So if chunk `k` applies set `S_k`, starts judging at `q_k` (the start of the
//! hold-back before it) and leaves the hold-back from `p_k` on, the masked ranges of the
//! stream are the occurrences of `S_k` starting in `[q_k, p_k)` for every `k` (the last
//! judge, `finish`, up to the end), and the tokens and structured credentials of the whole
//! input (neither depends on the set). After each chunk, `p_k` must be what
//! [`Reference::held`] says for `S_k` ([`Held`]), and the output and pending mask what
//! [`Oracle`] says for those ranges.
//!
//! Changes are skipped while the stream has a mask pending: the masker then keeps the old
//! set's occurrences that touch the pending range even in the held bytes (a known deviation
//! from the documented rule, kept as an ignored regression test).

use std::collections::BTreeMap;

use arbitrary::Arbitrary;
use logmask::{Registry, Secrets};

use crate::differential::{assert_same, Held, Oracle, Piece, Replacement, RuleSet};
use crate::naive::{self, Reference};
use crate::{bytes, Sym};

/// At most this many secrets per job and in the base.
const MAX_SECRETS: usize = 3;
/// Longer secrets are cut to this length.
const MAX_SECRET_LEN: usize = 16;
/// At most this many steps are taken.
const MAX_STEPS: usize = 64;
/// Longer inputs are cut to this length.
const MAX_INPUT: usize = 2048;
/// Job ids are `job0` to `job3`.
const JOBS: u8 = 4;

/// The input of the `registry` target.
#[derive(Arbitrary, Clone, Debug, PartialEq)]
pub struct RegistryCase {
    /// The base's secrets, masked all the time (the first 3, cut to 16 bytes).
    pub base: Vec<Vec<Sym>>,
    /// What happens, in order (the first 64).
    pub steps: Vec<Step>,
    /// The replacement text.
    pub replacement: Replacement,
    /// The minimum length is `min_len % 6` (0 counts as 1); shorter secrets are dropped.
    pub min_len: u8,
    /// The rules of the base's settings.
    pub rules: RuleSet,
    /// How the registry compiles additions.
    pub layering: Layering,
}

/// How the registry of a [`RegistryCase`] compiles additions.
#[derive(Arbitrary, Clone, Copy, Debug, PartialEq)]
pub enum Layering {
    /// As it does by default: these sets are too small for layers, each change is compiled
    /// whole.
    Default,
    /// Each addition as a layer beside the set; merged only by [`Step::Merge`] and by the
    /// additions that find the layers full (`set_layering(0, false)`).
    Layers,
    /// Each addition as a layer, merged and compacted by the registry's threads
    /// (`set_layering(0, true)`).
    Background,
}

/// One step of a [`RegistryCase`].
#[derive(Arbitrary, Clone, Debug, PartialEq)]
pub enum Step {
    /// `add("job{job % 4}", secrets)` (the first 3, cut to 16 bytes).
    Add {
        /// Which job.
        job: u8,
        /// Its secrets.
        secrets: Vec<Vec<Sym>>,
    },
    /// `remove("job{job % 4}")`.
    Remove {
        /// Which job.
        job: u8,
    },
    /// `add("job{job % 4}", old + secrets)`: the job's secrets so far (none if it is not
    /// active) and these (the first 3, cut to 16 bytes): an addition.
    Extend {
        /// Which job.
        job: u8,
        /// Its further secrets.
        secrets: Vec<Vec<Sym>>,
    },
    /// `merge()`: the layers are merged into the set.
    Merge,
    /// One chunk made of these pieces; [`Piece::Secret`] and [`Piece::Variant`] pick from
    /// every secret of the case (the base's, then each `Add`'s and `Extend`'s in order).
    Chunk(Vec<Piece>),
}

/// The secrets of `syms`, cut and filtered as the case says.
fn secrets(syms: &[Vec<Sym>], min_len: usize) -> Vec<Vec<u8>> {
    syms.iter()
        .map(|s| bytes(&s[..s.len().min(MAX_SECRET_LEN)]))
        .filter(|s| s.len() >= min_len)
        .take(MAX_SECRETS)
        .collect()
}

/// Whether `reference` refuses its secrets for occurring, or an encoded variant occurring,
/// inside `replacement`.
fn refused(reference: &Reference, replacement: &[u8]) -> bool {
    reference
        .patterns
        .iter()
        .any(|p| replacement.windows(p.len()).any(|w| w == p.as_slice()))
}

/// A chunk as the stream was given it.
struct Fed {
    /// Which of the references its set is.
    set: usize,
    /// The input's length after it.
    to: usize,
    /// The start of the hold-back after it (`p`), and before it (`q`).
    held: usize,
    before: usize,
    pending: bool,
    /// The output's length after it.
    out: usize,
}

/// Runs the case's steps against a [`Registry`] and one stream of its, then checks the
/// stream against the rule in the module's documentation.
///
/// # Panics
///
/// On any disagreement with the reference.
pub fn check(case: &RegistryCase) {
    let min_len = usize::from(case.min_len % 6).max(1);
    let rules = case.rules.rules();
    let replacement = match &case.replacement {
        Replacement::Default => logmask::DEFAULT_REPLACEMENT.as_bytes().to_vec(),
        Replacement::Empty => Vec::new(),
        Replacement::Bytes(b) => b[..b.len().min(32)].to_vec(),
    };
    let steps = &case.steps[..case.steps.len().min(MAX_STEPS)];
    let base = secrets(&case.base, min_len);
    let mut pool = base.clone();
    for step in steps {
        if let Step::Add { secrets: s, .. } | Step::Extend { secrets: s, .. } = step {
            pool.extend(secrets(s, min_len));
        }
    }

    let mut builder = Secrets::builder();
    builder.min_len(min_len).replacement(&replacement);
    case.rules.apply(&mut builder);
    for s in &base {
        builder.add(s);
    }
    let base_refused = refused(&Reference::new(&base, min_len, rules), &replacement);
    let registry = match Registry::new(builder) {
        Ok(registry) => registry,
        Err(err) => {
            assert!(base_refused, "refused a valid base: {err}");
            assert!(err.is_in_replacement(), "wrong error: {err}");
            return;
        }
    };
    match case.layering {
        Layering::Default => {}
        Layering::Layers => registry.set_layering(0, false),
        Layering::Background => registry.set_layering(0, true),
    }
    assert!(
        !base_refused,
        "accepted a base secret inside the replacement"
    );

    let mut jobs: BTreeMap<u8, Vec<Vec<u8>>> = BTreeMap::new();
    let reference = |jobs: &BTreeMap<u8, Vec<Vec<u8>>>| {
        let mut all = base.clone();
        all.extend(jobs.values().flatten().cloned());
        Reference::new(&all, min_len, rules)
    };
    let mut references = vec![reference(&jobs)];
    let mut masker = registry.masker();
    let mut input = Vec::new();
    let mut out = Vec::new();
    let mut held = Held::default();
    let mut fed: Vec<Fed> = Vec::new();
    for step in steps {
        match step {
            Step::Add { job, secrets: s } | Step::Extend { job, secrets: s } => {
                let job = job % JOBS;
                let mut values = secrets(s, min_len);
                if let (Step::Extend { .. }, Some(old)) = (step, jobs.get(&job)) {
                    values.splice(..0, old.iter().cloned());
                }
                let refused = refused(&Reference::new(&values, min_len, rules), &replacement);
                match registry.add(format!("job{job}"), &values) {
                    Ok(()) => {
                        assert!(!refused, "accepted a job's secret inside the replacement");
                        jobs.insert(job, values);
                        references.push(reference(&jobs));
                    }
                    Err(err) => {
                        assert!(refused, "refused a valid job: {err}");
                        assert!(err.is_in_replacement(), "wrong error: {err}");
                    }
                }
            }
            Step::Remove { job } => {
                let job = job % JOBS;
                let was = jobs.remove(&job).is_some();
                assert_eq!(
                    registry.remove(&format!("job{job}")),
                    was,
                    "remove's answer"
                );
                if was {
                    references.push(reference(&jobs));
                }
            }
            Step::Merge => registry.merge(),
            Step::Chunk(pieces) => {
                let from = input.len();
                for piece in pieces {
                    piece.append(&pool, &mut input);
                }
                input.truncate(MAX_INPUT);
                let set = references.len() - 1;
                let bound = registry.secrets().max_len().max(1);
                masker.mask(&input[from..], |piece| out.extend_from_slice(&piece));
                let before = held.start;
                let p = held.after_chunk(&references[set], &input, &masker, bound);
                fed.push(Fed {
                    set,
                    to: input.len(),
                    held: p,
                    before,
                    pending: masker.is_mask_pending(),
                    out: out.len(),
                });
            }
        }
    }
    masker.finish(|piece| out.extend_from_slice(&piece));
    assert_eq!(masker.held_back(), 0, "finish left bytes held back");
    assert!(!masker.is_mask_pending(), "finish left a mask pending");

    // Each judge's occurrences in its window; `finish` judges the rest with the last set.
    let mut windows: Vec<(usize, usize, usize)> =
        fed.iter().map(|f| (f.set, f.before, f.held)).collect();
    windows.push((references.len() - 1, held.start, input.len()));
    let mut ranges = Vec::new();
    for &(set, q, p) in &windows {
        ranges.extend(
            references[set]
                .literal_ranges(&input)
                .into_iter()
                .filter(|&(s, _)| q <= s && s < p),
        );
    }
    if rules.shapes {
        ranges.extend(naive::tokens(&input));
    }
    if rules.creds {
        ranges.extend(naive::creds::ranges(&input));
    }
    let oracle = Oracle::new(&ranges, &input, &replacement);
    let mut checked = 0;
    for f in &fed {
        oracle.check_emitted(f.to, f.held, f.pending, &out[..f.out], checked);
        checked = f.out;
    }
    assert_same(&out, &oracle.expected, "streamed output");

    // Without changes the rule is the reference's own.
    if references.len() == 1 {
        assert_same(
            &out,
            &references[0].mask(&input, &replacement),
            "output with one set",
        );
    }
}
