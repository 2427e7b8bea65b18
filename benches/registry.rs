//! The registry with 10,000 active tokens: how long a change takes to compile and publish,
//! how fast streams mask meanwhile, and the longest a stream waits for one chunk while the
//! set is being rebuilt (streams never wait for a compile, so it stays far below it).
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

/// A registry whose base holds `TOKENS` tokens: the same compiled set as that many jobs with
/// one token each, without compiling it once per job to get there.
fn registry() -> Registry {
    let mut base = Secrets::builder();
    for i in 0..TOKENS {
        base.add(token(i));
    }
    Registry::new(base).expect("valid tokens")
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

/// The median, 99th percentile and longest of `times`, in milliseconds.
fn spread(mut times: Vec<Duration>) -> String {
    times.sort_unstable();
    let at = |q: f64| times[((times.len() - 1) as f64 * q) as usize].as_secs_f64() * 1e3;
    format!(
        "median {:.2} ms, p99 {:.2} ms, longest {:.2} ms over {} chunks",
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
    let registry = Arc::new(registry());
    let (log, masked) = log();

    // A change with 10,000 tokens active: compile the set with one more job, or without it.
    let mut group = c.benchmark_group("registry/rebuild");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(5));
    group.bench_function(BenchmarkId::from_parameter(TOKENS), |b| {
        let mut on = false;
        b.iter(|| {
            if on {
                registry.remove("bench-job");
            } else {
                registry.add("bench-job", [token(TOKENS)]).unwrap();
            }
            on = !on;
        })
    });
    registry.remove("bench-job");
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
         one {} KiB chunk, {rebuilds} rebuilds meanwhile (longest {:.1} ms): {}",
        CHUNK / 1024,
        spread(quiet),
        CHUNK / 1024,
        longest_rebuild.as_secs_f64() * 1e3,
        spread(busy),
    );
}

criterion_group!(registry_benches, benches);
criterion_main!(registry_benches);
