//! `Registry`: job tokens added and removed while streams run (CONTRACT §4 last point, §6).
//!
//! The concurrent tests record, for every chunk, the set the stream applied
//! (`Masker::secrets` after the chunk) and the registry's current set just before and just
//! after it. The mutating threads publish under a test lock and note each set with the
//! secrets it holds, so each chunk can be checked against the reference for its own set.

use std::io::{Read, Write};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;

use logmask::{Masker, MaskingReader, MaskingWriter, Registry, Secrets, SecretsBuilder};

use crate::util::naive;

const BASE: &[u8] = b"base-secret-00";

/// Job tokens that overlap each other and share prefixes.
const JOBS: [&[u8]; 6] = [
    b"glcbt-aaaa1111",
    b"aaaa1111-bbbb",
    b"glcbt-aaaa2222",
    b"2222-cccc-dddd",
    b"cccc-dddd-eeee",
    b"zzzzzzzzzz",
];

/// What streams are made of besides the tokens: the base secret, parts of tokens, filler.
const FILLER: [&[u8]; 6] = [BASE, b"glcbt-aaaa", b"cccc-", b"zzzzz", b" x ", b"-"];

/// A small deterministic generator (xorshift64*), so failures can be replayed.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 33) as usize % n
    }

    /// A token or a piece of filler.
    fn piece(&mut self) -> &'static [u8] {
        let i = self.below(JOBS.len() + FILLER.len());
        JOBS.get(i)
            .copied()
            .unwrap_or_else(|| FILLER[i - JOBS.len()])
    }
}

fn base() -> SecretsBuilder {
    let mut b = Secrets::builder();
    b.add_named("base", BASE);
    b
}

fn job(i: usize) -> String {
    format!("job-{i}")
}

/// What the reference masks `text` to when `active` are the secrets.
fn reference(active: &[Vec<u8>], text: &[u8]) -> Vec<u8> {
    crate::util::expected(active, 8, text)
}

/// Every set the registry published, in order, with the secrets it holds.
struct History {
    sets: Vec<(Arc<Secrets>, Vec<Vec<u8>>)>,
    active: [bool; JOBS.len()],
}

impl History {
    fn new(registry: &Registry) -> Self {
        History {
            sets: vec![(registry.secrets(), vec![BASE.to_vec()])],
            active: [false; JOBS.len()],
        }
    }

    /// Adds or removes job `i` and notes the set it published.
    fn toggle(&mut self, registry: &Registry, i: usize) {
        if self.active[i] {
            assert!(registry.remove(&job(i)));
        } else {
            registry.add(job(i), [JOBS[i]]).unwrap();
        }
        self.active[i] = !self.active[i];
        let mut values = vec![BASE.to_vec()];
        for (j, token) in JOBS.iter().enumerate() {
            if self.active[j] {
                values.push(token.to_vec());
            }
        }
        let current = registry.secrets();
        assert!(
            !Arc::ptr_eq(&current, &self.sets.last().unwrap().0),
            "each change publishes a new set"
        );
        self.sets.push((current, values));
    }

    fn index(&self, set: &Arc<Secrets>) -> usize {
        self.sets
            .iter()
            .position(|(s, _)| Arc::ptr_eq(s, set))
            .expect("every published set is noted")
    }
}

/// One chunk as a stream saw it.
struct Chunk {
    input: Vec<u8>,
    output: Vec<u8>,
    before: Arc<Secrets>,
    applied: Arc<Secrets>,
    after: Arc<Secrets>,
}

/// The changes each run makes at least, while streams run.
const CHANGES: usize = 300;

/// Runs `streams` threads that each feed `count` chunks or more made by `chunks` (from a generator
/// and a buffer of its own) to a masker from the registry, while `mutators` threads add and
/// remove jobs; returns each stream's chunks (the last one being `finish`) and the history.
///
/// With `layered`, every addition is compiled as a layer beside the set (as additions to a
/// large set are), without it every change is compiled whole; either way only the
/// mutators' calls publish (no merge thread), so that each published set is noted.
fn run_concurrently(
    streams: usize,
    mutators: usize,
    count: usize,
    layered: bool,
    chunks: fn(&mut Rng, &mut Vec<u8>) -> Vec<u8>,
) -> (Vec<Vec<Chunk>>, History) {
    let registry = Arc::new(Registry::new(base()).unwrap());
    registry.set_layering(if layered { 0 } else { usize::MAX }, false);
    let history = Arc::new(Mutex::new(History::new(&registry)));
    let done = Arc::new(AtomicBool::new(false));
    let changes = Arc::new(AtomicUsize::new(0));
    let stream_threads: Vec<_> = (0..streams)
        .map(|s| {
            let (registry, changes) = (Arc::clone(&registry), Arc::clone(&changes));
            thread::spawn(move || {
                let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ (s as u64 + 1));
                let mut masker = registry.masker();
                let mut seen = Vec::new();
                let mut pending = Vec::new();
                // Until both enough chunks and enough changes were made (within a bound).
                while (seen.len() < count || changes.load(Ordering::Relaxed) < CHANGES)
                    && seen.len() < 40 * count
                {
                    if seen.len() >= count {
                        thread::yield_now();
                    }
                    let input = chunks(&mut rng, &mut pending);
                    let before = registry.secrets();
                    let mut output = Vec::new();
                    masker.mask(&input, |p| output.extend_from_slice(&p));
                    let applied = Arc::clone(masker.secrets());
                    seen.push(Chunk {
                        input,
                        output,
                        before,
                        applied,
                        after: registry.secrets(),
                    });
                }
                let before = registry.secrets();
                let mut output = Vec::new();
                masker.finish(|p| output.extend_from_slice(&p));
                seen.push(Chunk {
                    input: Vec::new(),
                    output,
                    before,
                    applied: Arc::clone(masker.secrets()),
                    after: registry.secrets(),
                });
                seen
            })
        })
        .collect();
    let mutator_threads: Vec<_> = (0..mutators)
        .map(|m| {
            let registry = Arc::clone(&registry);
            let history = Arc::clone(&history);
            let (done, changes) = (Arc::clone(&done), Arc::clone(&changes));
            thread::spawn(move || {
                let mut rng = Rng(0x51_7cc1_b727_220a ^ (m as u64 + 1));
                while !done.load(Ordering::Relaxed) {
                    let i = rng.below(JOBS.len());
                    history.lock().unwrap().toggle(&registry, i);
                    changes.fetch_add(1, Ordering::Relaxed);
                    thread::yield_now();
                }
            })
        })
        .collect();
    let seen = stream_threads
        .into_iter()
        .map(|t| t.join().unwrap())
        .collect();
    done.store(true, Ordering::Relaxed);
    for t in mutator_threads {
        t.join().unwrap();
    }
    let history = Arc::try_unwrap(history)
        .ok()
        .expect("threads ended")
        .into_inner()
        .unwrap();
    (seen, history)
}

/// Checks that each chunk applied the set current when it went in, or a later one (never a
/// stale one), and returns the applied sets' indices.
fn applied_indices(chunks: &[Chunk], history: &History) -> Vec<usize> {
    let mut last = 0;
    chunks
        .iter()
        .map(|c| {
            let (before, applied, after) = (
                history.index(&c.before),
                history.index(&c.applied),
                history.index(&c.after),
            );
            assert!(
                before <= applied && applied <= after,
                "chunk applied set {applied}, current was {before} before and {after} after"
            );
            assert!(applied >= last, "a stream never goes back to an older set");
            last = applied;
            applied
        })
        .collect()
}

/// Whole lines: nothing is held back between chunks, so each chunk's output is the reference
/// for the chunk alone with the set it applied.
#[test]
fn line_chunks_match_the_reference_for_the_set_each_applied() {
    fn lines(rng: &mut Rng, _: &mut Vec<u8>) -> Vec<u8> {
        let mut text = Vec::new();
        for _ in 0..1 + rng.below(3) {
            for _ in 0..rng.below(8) {
                text.extend_from_slice(rng.piece());
            }
            text.push(b'\n');
        }
        text
    }
    let (streams, history) = run_concurrently(4, 2, 4000, false, lines);
    let mut used = std::collections::BTreeSet::new();
    for chunks in &streams {
        for (chunk, applied) in chunks.iter().zip(applied_indices(chunks, &history)) {
            used.insert(applied);
            let expected = reference(&history.sets[applied].1, &chunk.input);
            assert_eq!(
                String::from_utf8_lossy(&chunk.output),
                String::from_utf8_lossy(&expected),
                "set {applied}"
            );
        }
    }
    assert!(
        used.len() > 10,
        "streams ran while the set changed ({} sets applied)",
        used.len()
    );
}

/// Chunks cut anywhere, tokens split across them: the output equals a masker given each
/// chunk's set by `set_secrets`, and the base secret, active all along, never shows.
#[test]
fn split_chunks_apply_each_set_like_set_secrets() {
    split_chunks_apply_each_set(false);
}

/// As above, with every addition compiled as a layer beside the set: sets of layers and sets
/// compiled whole (by removals) alternate under the streams.
#[test]
fn split_chunks_apply_each_layered_set_like_set_secrets() {
    split_chunks_apply_each_set(true);
}

fn split_chunks_apply_each_set(layered: bool) {
    fn pieces(rng: &mut Rng, text: &mut Vec<u8>) -> Vec<u8> {
        while text.len() < 24 {
            text.extend_from_slice(rng.piece());
        }
        // 0 to 19 bytes: empty chunks too.
        let n = rng.below(20);
        text.drain(..n).collect()
    }
    let (streams, history) = run_concurrently(4, 2, 20_000, layered, pieces);
    for chunks in &streams {
        applied_indices(chunks, &history);
        let mut reference = Masker::new(Arc::clone(&chunks[0].applied));
        let (mut got, mut want) = (Vec::new(), Vec::new());
        let mut input = Vec::new();
        for (n, c) in chunks.iter().enumerate() {
            reference.set_secrets(Arc::clone(&c.applied));
            if n + 1 == chunks.len() {
                reference.finish(|p| want.extend_from_slice(&p));
            } else {
                reference.mask(&c.input, |p| want.extend_from_slice(&p));
            }
            got.extend_from_slice(&c.output);
            input.extend_from_slice(&c.input);
        }
        assert_eq!(
            String::from_utf8_lossy(&got),
            String::from_utf8_lossy(&want)
        );
        assert!(naive::occurrences(&[BASE.to_vec()], &input).len() > 10);
        assert!(naive::occurrences(&[BASE.to_vec()], &got).is_empty());
    }
}

/// Changes made at the same time from many threads all end up in the published set.
#[test]
fn concurrent_changes_are_all_published() {
    concurrent_changes(None);
}

/// As above, with additions compiled as layers, merged and compacted by the registry's
/// threads meanwhile, or merged by the additions that find too many layers: no addition is
/// lost, no removal undone.
#[test]
fn concurrent_layered_changes_are_all_published() {
    concurrent_changes(Some(true));
    concurrent_changes(Some(false));
}

/// `layered`: `Some(background)` compiles every addition as a layer.
fn concurrent_changes(layered: Option<bool>) {
    let registry = Arc::new(Registry::new(base()).unwrap());
    if let Some(background) = layered {
        registry.set_layering(0, background);
    }
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let registry = Arc::clone(&registry);
            thread::spawn(move || {
                for round in 0..60 {
                    let id = format!("t{t}-{}", round % 5);
                    if round % 7 == 6 {
                        registry.merge();
                    }
                    if round % 3 == 2 {
                        registry.remove(&id);
                    } else {
                        registry
                            .add(&id, [format!("token-{id}-xyz")])
                            .expect("valid token");
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    // Replay each thread's changes to learn which of its jobs are active at the end.
    let mut active = vec![BASE.to_vec()];
    let mut text = Vec::new();
    for t in 0..4 {
        for slot in 0..5 {
            let id = format!("t{t}-{slot}");
            let last = (0..60).rfind(|r| r % 5 == slot).unwrap();
            let token = format!("token-{id}-xyz");
            text.extend_from_slice(format!("{token} ").as_bytes());
            assert_eq!(registry.contains(&id), last % 3 != 2, "{id}");
            if last % 3 != 2 {
                active.push(token.into_bytes());
            }
        }
    }
    assert_eq!(registry.len(), active.len() - 1);
    assert_eq!(
        mask_all(registry.masker(), &text),
        reference(&active, &text)
    );
}

/// Masks `text` as one whole stream.
fn mask_all(mut masker: Masker, text: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    masker.mask(text, |p| out.extend_from_slice(&p));
    masker.finish(|p| out.extend_from_slice(&p));
    out
}

/// A job change between two chunks, while the stream holds bytes back.
#[test]
fn a_change_applies_to_the_bytes_still_held() {
    enum Change {
        Add(&'static str),
        Remove,
    }
    // (job "a"'s token, first chunk, held back after it, change, second chunk, output)
    let cases = [
        // A prefix of job a's token is held; job b's token completes with the next chunk.
        (
            "glcbt-AAAAzzzz",
            "x glcbt-AAAA",
            10,
            Change::Add("glcbt-AAAABBBB"),
            "BBBB y",
            "x [MASKED] y",
        ),
        // The token is removed before it completes: plain text.
        (
            "abcdefgh12",
            "see abcdef",
            6,
            Change::Remove,
            "gh12 end",
            "see abcdefgh12 end",
        ),
        // A masked range still pending stays masked: removing never un-masks.
        (
            "secret-token-1",
            "a secret-token-1",
            0,
            Change::Remove,
            " b secret-token-1",
            "a [MASKED] b secret-token-1",
        ),
    ];
    for (token, first, held, change, second, want) in cases {
        let registry = Registry::default();
        registry.add("a", [token]).unwrap();
        let mut masker = registry.masker();
        let mut out = Vec::new();
        masker.mask(first.as_bytes(), |o| out.extend_from_slice(&o));
        assert_eq!(masker.held_back(), held, "{want}");
        assert_eq!(masker.is_mask_pending(), held == 0, "{want}");
        match change {
            Change::Add(other) => registry.add("b", [other]).unwrap(),
            Change::Remove => assert!(registry.remove("a")),
        }
        masker.mask(second.as_bytes(), |o| out.extend_from_slice(&o));
        masker.finish(|o| out.extend_from_slice(&o));
        assert_eq!(String::from_utf8(out).unwrap(), want);
    }
}

#[test]
fn every_stream_masks_every_jobs_token() {
    let registry = Registry::default();
    registry.add("41", ["glcbt-64_job41-token"]).unwrap();
    registry.add("42", ["glcbt-64_job42-token"]).unwrap();
    let line = b"41: glcbt-64_job41-token 42: glcbt-64_job42-token\n";
    let mut writer = MaskingWriter::with_masker(Vec::new(), registry.masker());
    writer.write_all(line).unwrap();
    let mut reader = MaskingReader::with_masker(&line[..], registry.masker());
    let mut read = Vec::new();
    reader.read_to_end(&mut read).unwrap();
    for out in [writer.finish().unwrap(), read] {
        assert_eq!(out, b"41: [MASKED] 42: [MASKED]\n");
    }
}

#[test]
fn adapters_pick_up_a_change_at_the_next_chunk() {
    let registry = Registry::default();
    let mut writer = MaskingWriter::with_masker(Vec::new(), registry.masker());
    writer.write_all(b"1 token-of-job-7\n").unwrap();
    registry.add("7", ["token-of-job-7"]).unwrap();
    writer.write_all(b"2 token-of-job-7\n").unwrap();
    registry.remove("7");
    writer.write_all(b"3 token-of-job-7\n").unwrap();
    assert_eq!(
        String::from_utf8(writer.finish().unwrap()).unwrap(),
        "1 token-of-job-7\n2 [MASKED]\n3 token-of-job-7\n"
    );
}

#[test]
fn adding_a_job_again_replaces_its_tokens() {
    let registry = Registry::default();
    registry.add("j", ["first-token-1"]).unwrap();
    registry
        .add("j", ["second-token-2", "third-token-3"])
        .unwrap();
    assert_eq!(registry.len(), 1);
    let out = mask_all(
        registry.masker(),
        b"first-token-1 second-token-2 third-token-3",
    );
    assert_eq!(out, b"first-token-1 [MASKED] [MASKED]");
}

#[test]
fn a_refused_token_names_the_job_and_changes_nothing() {
    let registry = Registry::new(base()).unwrap();
    registry.add("ok", ["valid-token-1"]).unwrap();
    let before = registry.secrets();
    let err = registry
        .add("job 9", ["valid-token-2", "tiny"])
        .unwrap_err();
    assert!(err.is_too_short());
    let shown = format!("{err} {err:?} {registry:?}");
    assert!(shown.contains("job 9 value 2"), "{shown}");
    assert!(
        !shown.contains("tiny") && !shown.contains("valid-token"),
        "{shown}"
    );
    assert!(Arc::ptr_eq(&before, &registry.secrets()));
    assert!(!registry.contains("job 9"));
    assert!(!registry.remove("job 9"));

    let err = registry.add("r", ["[MASKED]"]).unwrap_err();
    assert!(err.is_in_replacement());
}

#[test]
fn set_base_keeps_the_old_set_when_a_job_no_longer_fits() {
    let registry = Registry::new(base()).unwrap();
    registry.add("short", ["nine-byte"]).unwrap();
    let before = registry.secrets();
    let mut stricter = base();
    stricter.min_len(12);
    let err = registry.set_base(stricter).unwrap_err();
    assert!(err.to_string().contains("job short value 1"), "{err}");
    assert!(Arc::ptr_eq(&before, &registry.secrets()));

    let mut other = Secrets::builder();
    other.replacement("***").add("new-base-secret");
    registry.set_base(other).unwrap();
    let out = mask_all(
        registry.masker(),
        b"nine-byte new-base-secret base-secret-00",
    );
    assert_eq!(out, b"*** *** base-secret-00");
}

/// A stream that moves to a new set does not free the old one (that can take milliseconds
/// with many tokens): the registry frees it at a later change.
#[test]
fn streams_never_free_an_old_set() {
    let registry = Registry::default();
    registry.add("a", ["token-of-job-a"]).unwrap();
    let mut masker = registry.masker();
    let old = Arc::downgrade(masker.secrets());
    registry.add("b", ["token-of-job-b"]).unwrap();
    masker.mask(b"x", |_| {});
    assert!(!Arc::ptr_eq(masker.secrets(), &old.upgrade().unwrap()));
    assert!(
        old.upgrade().is_some(),
        "the stream let go; the registry keeps it"
    );
    registry.remove("b");
    assert!(old.upgrade().is_none(), "freed by the next change");
}

/// An empty chunk is a chunk: after a change, it judges the held bytes against the new set
/// (fuzz seed `jobs-while-held`: the core once skipped empty chunks).
#[test]
fn an_empty_chunk_applies_a_change_to_the_held_bytes() {
    let registry = Registry::new(Secrets::builder()).unwrap();
    registry.add("job", ["bbccbbaa-secret"]).unwrap();
    let mut masker = registry.masker();
    let mut out = Vec::new();
    masker.mask(b"log: bbcc", |p| out.extend_from_slice(&p));
    assert_eq!((out.as_slice(), masker.held_back()), (&b"log: "[..], 4));
    registry.remove("job");
    masker.mask(b"", |p| out.extend_from_slice(&p));
    assert_eq!((out.as_slice(), masker.held_back()), (&b"log: bbcc"[..], 0));
}

/// Layers: a set made of the big set and the layers of additions masks as the same secrets
/// compiled whole, for any chunking (one byte at a time included), and its accessors say the
/// same. The additions come in random order, to new jobs and to jobs that had secrets
/// already, with merges between some of them.
mod layered {
    use proptest::prelude::*;

    use super::*;
    use crate::util::{compile, expected, stream};

    /// For each secret of a case: which of 3 jobs it joins (3: the base), and whether the
    /// registry merges after its addition.
    fn plan(n: usize) -> impl Strategy<Value = Vec<(u8, bool)>> {
        prop::collection::vec((0..4u8, prop::bool::weighted(0.2)), n)
    }

    /// A case of `props` (secrets, input, chunk sizes), a plan, and whether the registry's
    /// threads merge.
    type LayeredCase = ((Vec<Vec<u8>>, Vec<u8>, Vec<usize>), Vec<(u8, bool)>, bool);

    fn layered_case() -> impl Strategy<Value = LayeredCase> {
        crate::props::case(3).prop_flat_map(|case| {
            let n = case.0.len();
            (Just(case), plan(n), any::<bool>())
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(500))]

        #[test]
        fn layered_additions_mask_as_the_set_built_whole(
            ((secrets, input, sizes), plan, background) in layered_case()
        ) {
            let mut base = Secrets::builder();
            base.min_len(3);
            for (s, &(job, _)) in secrets.iter().zip(&plan) {
                if job == 3 {
                    base.add(s);
                }
            }
            let registry = Registry::new(base).unwrap();
            registry.set_layering(0, background);
            let mut jobs: [Vec<&Vec<u8>>; 3] = Default::default();
            for (s, &(job, merge)) in secrets.iter().zip(&plan) {
                if job < 3 {
                    let job = usize::from(job);
                    jobs[job].push(s);
                    registry.add(format!("job {job}"), &jobs[job]).unwrap();
                }
                if merge {
                    registry.merge();
                }
            }
            let layered = registry.secrets();
            let whole = compile(&secrets, 3);
            prop_assert_eq!(layered.len(), whole.len());
            prop_assert_eq!(layered.max_len(), whole.max_len());
            prop_assert_eq!(layered.is_empty(), whole.is_empty());
            let want = expected(&secrets, 3, &input);
            prop_assert_eq!(&stream(&whole, &input, &sizes), &want);
            prop_assert_eq!(&stream(&layered, &input, &sizes), &want);
            prop_assert_eq!(&stream(&layered, &input, &[1]), &want);
            let mut following = registry.masker();
            let mut out = Vec::new();
            for chunk in input.chunks(sizes[0].max(1)) {
                following.mask(chunk, |p| out.extend_from_slice(&p));
            }
            following.finish(|p| out.extend_from_slice(&p));
            prop_assert_eq!(&out, &want);
        }
    }

    /// Many additions to a registry that merges only when asked: the layers stay bounded in
    /// number (the additions that find them full merge them) and every addition is masked,
    /// before and after removals and merges.
    #[test]
    fn many_additions_without_a_merge_thread() {
        let registry = Registry::new(base()).unwrap();
        registry.set_layering(0, false);
        let token = |i: usize| format!("glcbt-64_{i:08}-job-token");
        for i in 0..600 {
            registry.add(format!("job {i}"), [token(i)]).unwrap();
        }
        assert!(registry.remove("job 7"));
        registry.add("job 7b", [token(7_000)]).unwrap();
        let mut text = Vec::new();
        let mut want = Vec::new();
        for i in (0..600).step_by(37).chain([7_000]) {
            text.extend_from_slice(format!("{} ", token(i)).as_bytes());
            want.extend_from_slice(
                if i == 7 {
                    token(7).into_bytes()
                } else {
                    b"[MASKED]".to_vec()
                }
                .as_slice(),
            );
            want.push(b' ');
        }
        text.extend_from_slice(BASE);
        want.extend_from_slice(b"[MASKED]");
        assert_eq!(mask_all(registry.masker(), &text), want);
        let whole_len = registry.secrets().len();
        registry.merge();
        assert_eq!(
            registry.secrets().len(),
            whole_len,
            "merging changes no pattern"
        );
        assert_eq!(mask_all(registry.masker(), &text), want);
    }

    /// A removal while additions wait in layers takes out the removed job's secrets and
    /// keeps every other addition, whichever layer or set holds them.
    #[test]
    fn a_removal_keeps_the_additions_in_layers() {
        let registry = Registry::new(base()).unwrap();
        registry.set_layering(0, false);
        registry.add("a", ["token-of-job-a"]).unwrap();
        registry.merge();
        registry.add("b", ["token-of-job-b"]).unwrap();
        registry.add("c", ["token-of-job-c"]).unwrap();
        // Job `a` again, with one more secret: an addition, to a layer.
        registry
            .add("a", ["token-of-job-a", "second-of-job-a"])
            .unwrap();
        assert!(registry.remove("b"));
        let text = b"token-of-job-a second-of-job-a token-of-job-b token-of-job-c";
        assert_eq!(
            mask_all(registry.masker(), text),
            b"[MASKED] [MASKED] token-of-job-b [MASKED]"
        );
        // Job `a` replaced by a secret that is not a superset: its old ones go.
        registry.add("a", ["third-of-job-a"]).unwrap();
        assert_eq!(
            mask_all(registry.masker(), b"token-of-job-a third-of-job-a"),
            b"token-of-job-a [MASKED]"
        );
    }
}

/// The base builder is taken by value, by reference, or as a setter chain returns it; a job
/// id that already says "job" is not given a second one in errors.
#[test]
fn a_builder_chain_is_a_base_and_job_ids_are_named_once() {
    let registry = Registry::new(
        Secrets::builder()
            .min_len(12)
            .add_named("runner token", "glrt-runner-secret"),
    )
    .unwrap();
    let err = registry.add("job 3", ["eleven-char"]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "the secret from job 3 value 1 is 11 bytes long, shorter than the minimum length of 12"
    );
    let err = registry.add("42", ["x"]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "the secret from job 42 value 1 is 1 byte long, shorter than the minimum length of 12"
    );
    let mut stricter = Secrets::builder();
    stricter.min_len(16);
    registry.set_base(&stricter).unwrap();
    assert_eq!(registry.secrets().min_len(), 16);
    registry
        .set_base(
            Secrets::builder()
                .replacement("***")
                .add("another-base-secret"),
        )
        .unwrap();
    assert_eq!(
        mask_all(registry.masker(), b"a another-base-secret"),
        b"a ***"
    );
    let by_ref = Registry::new(&stricter).unwrap();
    assert_eq!(by_ref.secrets().min_len(), 16);
}
