//! The registry: how long an addition takes to take effect with 100, 10,000 and 100,000
//! active tokens (`registry/add`), how long a removal (a whole compile) takes with 10,000,
//! how fast a stream masks with 10,000 while additions arrive one per millisecond or the set
//! is rebuilt without pause, and the longest a stream waits for one chunk meanwhile
//! (streams never wait for a compile, so it stays far below one).
//!
//! `cargo bench --bench registry`

use std::hint::black_box;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use logmask::{Masker, Registry, Secrets};

const TOKENS: usize = 10_000;
const CHUNK: usize = 64 * 1024;

/// A job token like GitLab's: `glcbt-64_` and 16 pseudo-random hex digits.
fn token(i: usize) -> String {
    let mut x = (i as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    x ^= x >> 29;
    format!("glcbt-64_{:016x}", x.wrapping_mul(0xbf58_476d_1ce4_e5b9))
}

/// A registry whose base holds `n` tokens: the same compiled set as that many jobs with one
/// token each, without compiling it once per job to get there.
fn registry(n: usize) -> Registry {
    let mut base = Secrets::builder();
    for i in 0..n {
        base.add(token(i));
    }
    Registry::new(base).expect("valid tokens")
}

/// The gap between additions in the benches that add while streams run.
const EVERY: Duration = Duration::from_millis(1);

/// Adds `count` new jobs of one fresh token each (numbered from `*next`) to `registry`, one
/// per [`EVERY`], and returns the time the additions took, each noted in `times`.
fn add_jobs(
    registry: &Registry,
    next: &mut usize,
    count: u64,
    times: &mut Vec<Duration>,
) -> Duration {
    let mut total = Duration::ZERO;
    let mut due = Instant::now();
    for _ in 0..count {
        due += EVERY;
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            thread::sleep(wait);
        }
        let job = format!("added-{next}");
        let value = token(1_000_000 + *next);
        *next += 1;
        let start = Instant::now();
        registry.add(job, [value]).expect("a valid token");
        let took = start.elapsed();
        total += took;
        times.push(took);
    }
    total
}

/// `registry/add/{n}`: one addition (a new job with one token, encoded variants on) until it
/// is published, with `n` tokens active, one addition per [`EVERY`] so that the registry
/// merges them as it would in use. The set grows by the additions made (a few hundred).
fn add_latency(c: &mut Criterion) {
    let mut group = c.benchmark_group("registry/add");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(20))
        .measurement_time(Duration::from_millis(50));
    let mut report = Vec::new();
    for n in [100, 10_000, 100_000] {
        let registry = registry(n);
        let mut next = 0;
        let mut times = Vec::new();
        group.bench_function(BenchmarkId::from_parameter(n), |b| {
            b.iter_custom(|iters| add_jobs(&registry, &mut next, iters, &mut times))
        });
        let secrets = registry.secrets();
        let mut masker = Masker::new(Arc::clone(&secrets));
        let mut out = Vec::new();
        let last = token(1_000_000 + next - 1);
        masker.mask(format!("x {last} y").as_bytes(), |p| {
            out.extend_from_slice(&p)
        });
        masker.finish(|p| out.extend_from_slice(&p));
        assert_eq!(out, b"x [MASKED] y", "the last addition is masked");
        report.push(format!("{n} tokens: {}", spread(times, false, "additions")));
    }
    group.finish();
    println!("registry/add, each addition: {}", report.join("; "));
}

/// About 4 MiB of CI log lines; one line in 50 shows one of the tokens.
fn log() -> (Vec<u8>, usize) {
    let mut log = Vec::new();
    let mut masked = 0;
    let mut i = 0;
    while log.len() < 4 << 20 {
        let line = if i % 50 == 7 {
            masked += 1;
            format!(
                "+ curl -H 'JOB-TOKEN: {}' https://gitlab.example.com/api/v4/jobs/{i}\n",
                token(i * 31 % TOKENS)
            )
        } else {
            format!("2026-04-01T12:00:{:02}.{i:06}Z [step {i}] Compiling crate-{i} v0.{i}.0 (/builds/project/crates/crate-{i})\n", i % 60)
        };
        log.extend_from_slice(line.as_bytes());
        i += 1;
    }
    (log, masked)
}

/// Masks `log` in chunks of `CHUNK` bytes into `out`, noting how long each chunk took.
fn mask(masker: &mut Masker, log: &[u8], out: &mut Vec<u8>, times: &mut Vec<Duration>) {
    out.clear();
    for chunk in log.chunks(CHUNK) {
        let start = Instant::now();
        masker.mask(chunk, |p| out.extend_from_slice(&p));
        times.push(start.elapsed());
    }
    masker.finish(|p| out.extend_from_slice(&p));
}

/// The median, 99th percentile and longest of `times` (of `what`), in milliseconds (`ms`)
/// or microseconds.
fn spread(mut times: Vec<Duration>, ms: bool, what: &str) -> String {
    times.sort_unstable();
    let (scale, unit, digits) = if ms { (1e3, "ms", 2) } else { (1e6, "us", 0) };
    let at = |q: f64| times[((times.len() - 1) as f64 * q) as usize].as_secs_f64() * scale;
    format!(
        "median {:.digits$} {unit}, p99 {:.digits$} {unit}, longest {:.digits$} {unit} over {} {what}",
        at(0.5),
        at(0.99),
        at(1.0),
        times.len()
    )
}

fn count(haystack: &[u8], needle: &[u8]) -> usize {
    haystack
        .windows(needle.len())
        .filter(|w| *w == needle)
        .count()
}

fn benches(c: &mut Criterion) {
    let registry = Arc::new(registry(TOKENS));
    let (log, masked) = log();

    // A removal with 10,000 tokens active: the whole set is compiled without the job.
    let mut group = c.benchmark_group("registry/remove");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(5));
    group.bench_function(BenchmarkId::from_parameter(TOKENS), |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                registry.add("bench-job", [token(TOKENS)]).unwrap();
                registry.merge();
                let start = Instant::now();
                assert!(registry.remove("bench-job"));
                total += start.elapsed();
            }
            total
        })
    });
    group.finish();

    let mut group = c.benchmark_group("registry/mask");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(5))
        .throughput(Throughput::Bytes(log.len() as u64));
    let mut out = Vec::with_capacity(log.len());
    let mut fixed = Masker::new(registry.secrets());
    mask(&mut fixed, &log, &mut out, &mut Vec::new());
    assert_eq!(count(&out, b"[MASKED]"), masked, "every token is masked");
    group.bench_function(BenchmarkId::new("fixed", TOKENS), |b| {
        b.iter(|| mask(&mut fixed, black_box(&log), &mut out, &mut Vec::new()))
    });
    let mut following = registry.masker();
    let mut quiet = Vec::new();
    group.bench_function(BenchmarkId::new("following", TOKENS), |b| {
        b.iter(|| mask(&mut following, black_box(&log), &mut out, &mut quiet))
    });

    // The same while another thread adds a job every millisecond.
    let stop = Arc::new(AtomicBool::new(false));
    let adder = {
        let (registry, stop) = (Arc::clone(&registry), Arc::clone(&stop));
        thread::spawn(move || {
            let (mut next, mut times) = (0, Vec::new());
            while !stop.load(Ordering::Relaxed) {
                add_jobs(&registry, &mut next, 10, &mut times);
            }
            times
        })
    };
    let mut adding = Vec::new();
    group.bench_function(BenchmarkId::new("while-adding", TOKENS), |b| {
        b.iter(|| mask(&mut following, black_box(&log), &mut out, &mut adding))
    });
    stop.store(true, Ordering::Relaxed);
    let added = adder.join().unwrap();
    assert_eq!(count(&out, b"[MASKED]"), masked, "every token is masked");
    let active = registry.secrets().len();

    // The same while another thread changes the set as fast as it can.
    let stop = Arc::new(AtomicBool::new(false));
    let changer = {
        let (registry, stop) = (Arc::clone(&registry), Arc::clone(&stop));
        thread::spawn(move || {
            let mut rebuilds = 0u32;
            let mut longest = Duration::ZERO;
            while !stop.load(Ordering::Relaxed) {
                let start = Instant::now();
                if rebuilds % 2 == 0 {
                    registry.add("churn", [token(TOKENS + 1)]).unwrap();
                } else {
                    registry.remove("churn");
                }
                longest = longest.max(start.elapsed());
                rebuilds += 1;
            }
            (rebuilds, longest)
        })
    };
    let mut busy = Vec::new();
    group.bench_function(BenchmarkId::new("while-rebuilding", TOKENS), |b| {
        b.iter(|| mask(&mut following, black_box(&log), &mut out, &mut busy))
    });
    stop.store(true, Ordering::Relaxed);
    let (rebuilds, longest_rebuild) = changer.join().unwrap();
    group.finish();
    assert_eq!(count(&out, b"[MASKED]"), masked, "every token is masked");
    println!(
        "one {} KiB chunk, no change: {}\n\
         one {} KiB chunk, an addition per ms meanwhile ({active} patterns at the end): {}\n\
         \x20 the additions: {}\n\
         one {} KiB chunk, {rebuilds} changes meanwhile, an addition and a whole-set removal in turn (longest {:.1} ms): {}",
        CHUNK / 1024,
        spread(quiet, true, "chunks"),
        CHUNK / 1024,
        spread(adding, true, "chunks"),
        spread(added, false, "additions"),
        CHUNK / 1024,
        longest_rebuild.as_secs_f64() * 1e3,
        spread(busy, true, "chunks"),
    );
}

criterion_group!(registry_benches, add_latency, benches);
criterion_main!(registry_benches);
