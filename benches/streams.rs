//! Many streams in one tokio process: 1,000 `MaskingAsyncWriter`s following one `Registry`
//! of 10,000 secrets (encoded variants and token shapes on), against one stream masking the
//! same bytes; and what each stream costs in memory.
//!
//! ```text
//! cargo bench --features tokio --bench streams [-- ROUNDS]
//! ```
//!
//! Each round masks the same 64 MiB of generated CI log (a secret every ~4 KiB) once through
//! a single stream and once cut into 1,000 streams of 64 KiB, each written in 4 KiB pieces by
//! its own task on a two-worker runtime, into `tokio::io::sink()`; the runs alternate and the
//! bench prints the median of each, their ratio, and the heap each stream holds (counted by
//! the allocator) with 1,000 maskers alive that have each masked their bytes.

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use logmask::tokio::MaskingAsyncWriter;
use logmask::{Masker, Registry, Secrets};
use tokio::io::AsyncWriteExt;

#[path = "support/corpus.rs"]
mod corpus;

const STREAMS: usize = 1000;
const SECRETS: usize = 10_000;
const TOTAL: usize = 64 << 20;
const PIECE: usize = 4096;

/// The system allocator, counting the bytes it has handed out and not yet been given back.
struct LiveBytes;

static LIVE: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call goes to `System` with the caller's own arguments; the count is a side
// effect that no allocation depends on.
unsafe impl GlobalAlloc for LiveBytes {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc(layout);
        if !p.is_null() {
            LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout);
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = System.realloc(ptr, layout, new_size);
        if !p.is_null() {
            LIVE.fetch_add(new_size, Ordering::Relaxed);
            LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: LiveBytes = LiveBytes;

/// Masks `parts` on `runtime`, each through its own writer in its own task; returns the
/// writers' total output length.
fn mask_all(runtime: &tokio::runtime::Runtime, registry: &Registry, parts: &[Arc<[u8]>]) -> u64 {
    runtime.block_on(async {
        let tasks: Vec<_> = parts
            .iter()
            .map(|part| {
                let (part, masker) = (part.clone(), registry.masker());
                tokio::spawn(async move {
                    let mut out = MaskingAsyncWriter::with_masker(Counting(0), masker);
                    for piece in part.chunks(PIECE) {
                        out.write_all(piece).await.expect("write");
                    }
                    out.shutdown().await.expect("shutdown");
                    out.get_ref().0
                })
            })
            .collect();
        let mut total = 0;
        for t in tasks {
            total += t.await.expect("task");
        }
        total
    })
}

/// A sink that counts what it is given.
struct Counting(u64);

impl tokio::io::AsyncWrite for Counting {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        self.0 += buf.len() as u64;
        std::task::Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn poll_shutdown(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let rounds: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(5);
    let secrets = corpus::secrets(SECRETS, 7);
    let mut base = Secrets::builder();
    for s in &secrets {
        base.add(s);
    }
    let registry = Registry::new(base).expect("valid secrets");
    let log = corpus::log(TOTAL, &secrets, 4096, 11);
    let one: Vec<Arc<[u8]>> = vec![log.as_slice().into()];
    let many: Vec<Arc<[u8]>> = log.chunks(log.len() / STREAMS).map(Arc::from).collect();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .expect("runtime");
    let want = mask_all(&runtime, &registry, &one);
    let (mut single, mut multi) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        for (parts, times) in [(&one, &mut single), (&many, &mut multi)] {
            let t = Instant::now();
            let got = black_box(mask_all(&runtime, &registry, parts));
            times.push(log.len() as f64 / t.elapsed().as_secs_f64() / 1e9);
            // Pieces cut across a secret leave it whole in neither: only close in length.
            assert!(
                got.abs_diff(want) < want / 100,
                "{got} bytes out, {want} expected"
            );
        }
    }
    let (s, m) = (median(single), median(multi));
    println!(
        "streams: one {s:.2} GB/s, {STREAMS} streams {m:.2} GB/s, ratio {:.2} ({} bytes, median of {rounds})",
        m / s,
        log.len()
    );
    // Memory: 1,000 maskers alive, each having masked its part in the pieces its writer
    // got (held bytes, finder states, buffers at the size they grew to).
    let before = LIVE.load(Ordering::Relaxed);
    let mut maskers: Vec<Masker> = (0..STREAMS).map(|_| registry.masker()).collect();
    for (m, part) in maskers.iter_mut().zip(&many) {
        for piece in part.chunks(PIECE) {
            m.mask(piece, |p| {
                black_box(p.len());
            });
        }
    }
    let per_stream = LIVE.load(Ordering::Relaxed).saturating_sub(before) / STREAMS;
    println!(
        "streams: {per_stream} bytes of heap per stream ({STREAMS} maskers, longest pattern {} bytes)",
        registry.secrets().max_len()
    );
    black_box(maskers);
}
