//! Throughput of the core (`Masker`) on a generated CI log, against a plain copy, for 1 to
//! 10,000 secrets; and the time and memory to compile the secret sets.
//!
//! Ids: `mask/<secrets>/<density>/<chunk>` and `copy/<density>/<chunk>` (the baseline: the
//! same chunks appended to the same output buffer), `build/<secrets>`. Densities: `rare` (a
//! secret per MiB), `dense` (one per 4 KiB), `lines` (one on every ~100-byte line), and
//! `lines+64k` (the same log, the set holding one 64 KiB secret as well). `overlap/<len>`:
//! a secret of `len - 1` `a`s and a `b`, fed runs of `a`s of random length (up to 70,000).
//!
//!     cargo bench --bench mask -- --warm-up-time 1 --measurement-time 3

#[path = "support/corpus.rs"]
mod corpus;

use std::hint::black_box;
use std::sync::Arc;
use std::time::Instant;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use logmask::{Masker, Secrets};

/// The log size: large enough to leave the caches, small enough for short runs.
const LOG: usize = 32 << 20;

fn compile(secrets: &[Vec<u8>]) -> Secrets {
    let mut b = Secrets::builder();
    for s in secrets {
        b.add(s);
    }
    b.build().unwrap()
}

fn masked(secrets: &Arc<Secrets>, log: &[u8], chunk: usize, out: &mut Vec<u8>) {
    out.clear();
    let mut m = Masker::new(Arc::clone(secrets));
    for c in log.chunks(chunk) {
        m.mask(c, |p| out.extend_from_slice(&p));
    }
    m.finish(|p| out.extend_from_slice(&p));
}

fn bench_mask(c: &mut Criterion) {
    let mut group = c.benchmark_group("mask");
    group.throughput(Throughput::Bytes(LOG as u64));
    group.sample_size(10);
    let mut out = Vec::with_capacity(LOG + (1 << 20));
    for density in ["rare", "dense", "lines", "lines+64k"] {
        for n in [1, 10, 100, 1_000, 10_000] {
            let mut secrets = corpus::secrets(n, 1);
            let log = match density {
                "rare" => corpus::log(LOG, &secrets, 1 << 20, 7),
                "dense" => corpus::log(LOG, &secrets, 4 << 10, 7),
                _ => corpus::dense_log(LOG, &secrets, 7),
            };
            if density == "lines+64k" {
                if ![1, 1_000, 10_000].contains(&n) {
                    continue;
                }
                let mut rng = corpus::Rng::new(64);
                secrets.push((0..64 << 10).map(|_| b'A' + rng.below(26) as u8).collect());
            }
            let compiled = Arc::new(compile(&secrets));
            // The output is checked once: masked, and only shortened by masking.
            masked(&compiled, &log, 64 << 10, &mut out);
            assert!(out.windows(8).any(|w| w == b"[MASKED]") && out.len() < log.len());
            for chunk in [4 << 10, 64 << 10] {
                let id = BenchmarkId::new(format!("{n}/{density}"), chunk);
                group.bench_with_input(id, &log, |b, log| {
                    b.iter(|| masked(&compiled, log, chunk, &mut out))
                });
            }
            if n == 1 {
                let id = BenchmarkId::new(format!("copy/{density}"), 64 << 10);
                group.bench_with_input(id, &log, |b, log| {
                    b.iter(|| {
                        out.clear();
                        for c in log.chunks(64 << 10) {
                            out.extend_from_slice(black_box(c));
                        }
                    })
                });
            }
        }
    }
    group.finish();
}

/// A long self-overlapping secret fed runs of its own prefix: the cost stays linear.
fn bench_overlap(c: &mut Criterion) {
    let mut group = c.benchmark_group("overlap");
    group.sample_size(10);
    let mut out = Vec::new();
    for len in [4 << 10, 64 << 10] {
        let secret = [vec![b'a'; len - 1], vec![b'b']].concat();
        let compiled = Arc::new(compile(&[secret]));
        let mut rng = corpus::Rng::new(5);
        let mut log = Vec::with_capacity(8 << 20);
        while log.len() < 8 << 20 {
            log.extend(std::iter::repeat(b'a').take(1 + rng.below(70_000)));
            log.push(b'\n');
        }
        group.throughput(Throughput::Bytes(log.len() as u64));
        group.bench_with_input(BenchmarkId::from_parameter(len), &log, |b, log| {
            b.iter(|| masked(&compiled, log, 64 << 10, &mut out))
        });
    }
    group.finish();
}

fn bench_build(c: &mut Criterion) {
    let mut group = c.benchmark_group("build");
    group.sample_size(10);
    for n in [1, 10, 100, 1_000, 10_000, 100_000] {
        let secrets = corpus::secrets(n, 1);
        let t = Instant::now();
        let compiled = compile(&secrets);
        eprintln!(
            "build/{n}: {:.1} ms once, {:.2} MiB",
            t.elapsed().as_secs_f64() * 1e3,
            compiled.memory_usage() as f64 / (1 << 20) as f64
        );
        group.bench_with_input(BenchmarkId::from_parameter(n), &secrets, |b, secrets| {
            b.iter(|| compile(secrets))
        });
    }
    group.finish();
}

criterion_group!(benches, bench_mask, bench_overlap, bench_build);
criterion_main!(benches);
