//! The async adapters against the sync core and against a plain copy through the same
//! adapter shape, on 64 KiB chunks.
//!
//! ```text
//! cargo bench --features tokio --bench async -- --warm-up-time 1 --measurement-time 3
//! ```
//!
//! Ids: `async/<path>/<density>` where path is `sync-masker` (the core, output counted),
//! `stream-copy` / `stream-mask` (a pass-through `Stream` vs `MaskedStream`) and
//! `writer-copy` / `writer-mask` (a pass-through `AsyncWrite` vs `MaskingAsyncWriter`), each
//! over a sink that counts bytes. Density `none`: no secret in the log; `some`: one per ~4 KiB.
//! Every path's output is checked against the core's before it is measured.
//!
//! On a shared machine, load drifts between criterion's one-after-the-other runs more than
//! the few percent measured here. With `ASYNC_BENCH_INTERLEAVED=ROUNDS` in the environment,
//! the bench instead times the core and the two masking adapters in turn, round after round,
//! and prints the minimum and median of each and their ratios to the core:
//!
//! ```text
//! ASYNC_BENCH_INTERLEAVED=300 cargo bench --features tokio --bench async
//! ```

use std::future::Future;
use std::hint::black_box;
use std::io;
use std::pin::{pin, Pin};
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use criterion::{criterion_group, Criterion, Throughput};
use futures_util::stream::{self, Stream, StreamExt};
use logmask::tokio::{MaskedStream, MaskingAsyncWriter};
use logmask::{Masker, Secrets};
use tokio::io::{AsyncWrite, AsyncWriteExt};

const CHUNK: usize = 64 * 1024;
const TOTAL: usize = 4 * 1024 * 1024;

/// Polls a future that never waits (every source and sink here is always ready).
fn run<F: Future>(fut: F) -> F::Output {
    let mut cx = Context::from_waker(futures_util::task::noop_waker_ref());
    let mut fut = pin!(fut);
    loop {
        if let Poll::Ready(out) = fut.as_mut().poll(&mut cx) {
            return out;
        }
    }
}

/// 40 secrets, 20 to 40 bytes long.
fn secrets() -> (Vec<String>, Arc<Secrets>) {
    let list: Vec<String> = (0..40)
        .map(|i| format!("glcbt-{i:02}_{}", "x7Qz".repeat(3 + i % 6)))
        .collect();
    let compiled = Secrets::new(&list).expect("valid secrets");
    (list, Arc::new(compiled))
}

/// A CI-like log of `TOTAL` bytes; with `secrets`, one of them about every 4 KiB.
fn log(secrets: &[String]) -> Vec<u8> {
    let mut out = Vec::with_capacity(TOTAL + 256);
    let mut i = 0;
    while out.len() < TOTAL {
        out.extend_from_slice(
            format!(
                "2024-05-01T12:00:{:02}Z step {i}: compiling crate-{i} v0.{i}.0\n",
                i % 60
            )
            .as_bytes(),
        );
        if !secrets.is_empty() && i % 64 == 0 {
            let s = &secrets[i / 64 % secrets.len()];
            out.extend_from_slice(format!("+ curl -H 'JOB-TOKEN: {s}' https://x\n").as_bytes());
        }
        i += 1;
    }
    out.truncate(TOTAL);
    out
}

/// The sync core over the chunks; returns the output length.
fn sync_masker(secrets: &Arc<Secrets>, chunks: &[Bytes]) -> usize {
    let mut masker = Masker::new(Arc::clone(secrets));
    let mut n = 0;
    for chunk in chunks {
        masker.mask(chunk, |piece| n += black_box(piece).len());
    }
    masker.finish(|piece| n += black_box(piece).len());
    n
}

fn source(chunks: &[Bytes]) -> impl Stream<Item = io::Result<Bytes>> + '_ {
    stream::iter(chunks.iter().cloned().map(Ok))
}

/// Sums the lengths of the items of `s`.
fn drain<S: Stream<Item = io::Result<Bytes>>>(s: S) -> usize {
    run(s.fold(0, |n, item| async move {
        n + black_box(item.expect("no error")).len()
    }))
}

/// A sink that counts the bytes written to it.
#[derive(Default)]
struct Count(usize);

impl AsyncWrite for Count {
    fn poll_write(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.0 += black_box(buf).len();
        Poll::Ready(Ok(buf.len()))
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// A writer that passes everything to `W`: the adapter shape with no masking.
struct Pass<W>(W);

impl<W: AsyncWrite + Unpin> AsyncWrite for Pass<W> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}

/// Writes the chunks through `w` and shuts it down.
fn write_all<W: AsyncWrite + Unpin>(mut w: W, chunks: &[Bytes]) -> W {
    run(async {
        for chunk in chunks {
            w.write_all(chunk).await.expect("write");
        }
        w.shutdown().await.expect("shutdown");
    });
    w
}

fn bench(c: &mut Criterion) {
    let (list, secrets) = secrets();
    let mut group = c.benchmark_group("async");
    group.throughput(Throughput::Bytes(TOTAL as u64));
    for (density, text) in [("none", log(&[])), ("some", log(&list))] {
        let chunks: Vec<Bytes> = text.chunks(CHUNK).map(Bytes::copy_from_slice).collect();
        let want = sync_masker(&secrets, &chunks);
        if density == "some" {
            assert!(want < TOTAL, "the log has secrets");
        }
        let masked = |chunks| MaskedStream::new(source(chunks), Arc::clone(&secrets));
        let masking = || MaskingAsyncWriter::new(Count::default(), Arc::clone(&secrets));
        assert_eq!(drain(masked(&chunks)), want);
        assert_eq!(drain(source(&chunks)), TOTAL);
        assert_eq!(write_all(masking(), &chunks).get_ref().0, want);
        assert_eq!(write_all(Pass(Count::default()), &chunks).0 .0, TOTAL);

        group.bench_function(format!("sync-masker/{density}"), |b| {
            b.iter(|| sync_masker(&secrets, &chunks))
        });
        group.bench_function(format!("stream-copy/{density}"), |b| {
            b.iter(|| drain(source(&chunks)))
        });
        group.bench_function(format!("stream-mask/{density}"), |b| {
            b.iter(|| drain(masked(&chunks)))
        });
        group.bench_function(format!("writer-copy/{density}"), |b| {
            b.iter(|| write_all(Pass(Count::default()), &chunks).0 .0)
        });
        group.bench_function(format!("writer-mask/{density}"), |b| {
            b.iter(|| write_all(masking(), &chunks).get_ref().0)
        });
    }
    group.finish();
}

/// Times the core and the masking adapters in turn, `rounds` times, and prints the minimum
/// and median of each.
fn interleaved(rounds: usize) {
    let (list, secrets) = secrets();
    for (density, text) in [("none", log(&[])), ("some", log(&list))] {
        let chunks: Vec<Bytes> = text.chunks(CHUNK).map(Bytes::copy_from_slice).collect();
        let paths: [(&str, &dyn Fn() -> usize); 3] = [
            ("sync-masker", &|| sync_masker(&secrets, &chunks)),
            ("stream-mask", &|| {
                drain(MaskedStream::new(source(&chunks), Arc::clone(&secrets)))
            }),
            ("writer-mask", &|| {
                let w = MaskingAsyncWriter::new(Count::default(), Arc::clone(&secrets));
                write_all(w, &chunks).get_ref().0
            }),
        ];
        let mut times = vec![Vec::with_capacity(rounds); paths.len()];
        for _ in 0..rounds {
            for ((_, path), times) in paths.iter().zip(&mut times) {
                let start = std::time::Instant::now();
                black_box(path());
                times.push(start.elapsed().as_secs_f64() * 1e6);
            }
        }
        let stats: Vec<(f64, f64)> = times
            .iter_mut()
            .map(|t| {
                t.sort_by(f64::total_cmp);
                (t[0], t[t.len() / 2])
            })
            .collect();
        for ((name, _), (min, median)) in paths.iter().zip(&stats) {
            println!(
                "async/{name}/{density}: min {min:.1} µs ({:.3}x), median {median:.1} µs ({:.3}x)",
                min / stats[0].0,
                median / stats[0].1
            );
        }
    }
}

criterion_group!(benches, bench);

fn main() {
    match std::env::var("ASYNC_BENCH_INTERLEAVED") {
        Ok(rounds) => interleaved(rounds.parse().expect("a number of rounds")),
        Err(_) => {
            benches();
            Criterion::default().configure_from_args().final_summary();
        }
    }
}
