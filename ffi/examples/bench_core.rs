//! The Rust core's throughput on the corpus the Go benchmark reads, so that the two figures
//! are side by side: writes the corpus (a generated CI log per secret-set size, and the set
//! as a secrets file) and times `Masker` over it in 32 KiB chunks, the output of each chunk
//! appended to a reused buffer (what the Go writer does before its inner `Write`).
//!
//!     cargo run --release -p logmask-ffi --example bench_core [DIR] [MIB]
//!
//! DIR defaults to `target/logmask-bench`, MIB (the log size) to 32. For each set size N in
//! 1, 100, 1000 it writes `log-N.bin`, `secrets-N.txt` and `out-N.fnv` (the FNV-1a hash of
//! the masked output, which the Go benchmark checks its own output against), then prints one
//! line per set size: the best of 5 runs, in wall-clock time and in the thread's CPU time
//! (`/proc/thread-self/schedstat`; on a machine shared with other work, wall-clock time
//! includes waiting for a core).

#[path = "../../benches/support/corpus.rs"]
mod corpus;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use logmask::{Masker, Secrets};

const CHUNK: usize = 32 << 10;
/// Passes over the log per timed run: long enough that the scheduler's accounting of CPU
/// time (updated at ticks and switches) is precise.
const PASSES: usize = 8;

fn fnv1a(hash: &mut u64, bytes: &[u8]) {
    for &b in bytes {
        *hash ^= u64::from(b);
        *hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
}

/// The CPU time of this thread so far, in seconds (Linux), or NaN.
fn cpu_time() -> f64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        .map_or(f64::NAN, |ns| ns as f64 / 1e9)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(args.next().unwrap_or_else(|| "target/logmask-bench".into()));
    let mib: usize = args.next().map_or(Ok(32), |s| s.parse())?;
    std::fs::create_dir_all(&dir)?;
    println!(
        "corpus in {}, {mib} MiB per log, {} KiB chunks",
        dir.display(),
        CHUNK >> 10
    );
    for n in [1, 100, 1_000] {
        let secrets = corpus::secrets(n, 1);
        // Secrets embedded rarely (about one per MiB), as in most CI logs.
        let log = corpus::log(mib << 20, &secrets, 1 << 20, 7);
        let mut file = Vec::new();
        let mut b = Secrets::builder();
        for s in &secrets {
            file.extend_from_slice(s);
            file.push(b'\n');
            b.add(s);
        }
        std::fs::write(dir.join(format!("log-{n}.bin")), &log)?;
        std::fs::write(dir.join(format!("secrets-{n}.txt")), &file)?;
        let secrets = Arc::new(b.build()?);

        let mut buf = Vec::with_capacity(2 * CHUNK);
        let mut best = f64::INFINITY;
        let mut best_cpu = f64::INFINITY;
        // The first run hashes the output and is not timed.
        let mut masker = Masker::new(Arc::clone(&secrets));
        let mut hash = 0xcbf2_9ce4_8422_2325_u64;
        for chunk in log.chunks(CHUNK) {
            buf.clear();
            masker.mask(chunk, |piece| buf.extend_from_slice(piece.as_ref()));
            fnv1a(&mut hash, &buf);
        }
        buf.clear();
        masker.finish(|piece| buf.extend_from_slice(piece.as_ref()));
        fnv1a(&mut hash, &buf);
        for _ in 0..5 {
            let start = Instant::now();
            let cpu = cpu_time();
            let mut total = 0;
            for _ in 0..PASSES {
                let mut masker = Masker::new(Arc::clone(&secrets));
                for chunk in log.chunks(CHUNK) {
                    buf.clear();
                    masker.mask(chunk, |piece| buf.extend_from_slice(piece.as_ref()));
                    total += buf.len();
                }
                buf.clear();
                masker.finish(|piece| buf.extend_from_slice(piece.as_ref()));
                total += buf.len();
            }
            std::hint::black_box(total);
            best = best.min(start.elapsed().as_secs_f64() / PASSES as f64);
            best_cpu = best_cpu.min((cpu_time() - cpu) / PASSES as f64);
        }
        std::fs::write(dir.join(format!("out-{n}.fnv")), format!("{hash:016x}\n"))?;
        let mb = log.len() as f64 / 1e6;
        println!(
            "rust core Masker, {n:>5} secrets: {:>7.1} MB/s {:>7.1} cpu-MB/s",
            mb / best,
            // NaN where the runs are too short for the scheduler's accounting.
            if best_cpu > 0.0 {
                mb / best_cpu
            } else {
                f64::NAN
            }
        );
    }
    Ok(())
}
