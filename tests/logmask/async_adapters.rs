//! The async adapters (`tokio` feature): the named cases and random chunkings through
//! `MaskingAsyncWriter`, `MaskingAsyncReader` (as `AsyncRead` and `AsyncBufRead`) and
//! `MaskedStream`, over test doubles that return `Pending` every other call and take or give
//! a few bytes at a time; their contracts (flush, shutdown, errors, bounds, zero copy); and the
//! `forward` example over real loopback sockets.

use std::future::Future;
use std::io;
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use bytes::Bytes;
use futures_util::stream::{FusedStream, Stream, StreamExt};
use logmask::tokio::{MaskedStream, MaskingAsyncReader, MaskingAsyncWriter};
use logmask::{Masker, Secrets};
use proptest::prelude::*;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};

use crate::util::{compile, expected, stream};

#[path = "../../examples/forward/serve.rs"]
#[allow(dead_code)]
mod forward;

// ---------------------------------------------------------------------------------------
// A single-threaded executor and the test doubles.

/// Records whether the task was woken.
struct Woken(AtomicBool);

impl Wake for Woken {
    fn wake(self: Arc<Self>) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// Polls `fut` to completion on this thread. The doubles wake the task whenever they return
/// `Pending`, so an adapter's `Pending` without a wake-up is one that took nothing from its
/// inner I/O: a real executor would never poll it again. That fails the test, and so does a
/// future that keeps returning `Pending` (no progress: the calls here are small).
fn block_on<F: Future>(fut: F) -> F::Output {
    let woken = Arc::new(Woken(AtomicBool::new(false)));
    let waker = Waker::from(Arc::clone(&woken));
    let mut cx = Context::from_waker(&waker);
    let mut fut = pin!(fut);
    for _ in 0..100_000 {
        woken.0.store(false, Ordering::SeqCst);
        if let Poll::Ready(out) = fut.as_mut().poll(&mut cx) {
            return out;
        }
        assert!(
            woken.0.load(Ordering::SeqCst),
            "Pending with no wake-up arranged"
        );
    }
    panic!("no progress after 100000 polls");
}

/// Returns `Pending` (waking the task at once) every other call when on.
#[derive(Debug, Default)]
struct Stutter {
    on: bool,
    tick: bool,
}

impl Stutter {
    fn new(on: bool) -> Self {
        Stutter { on, tick: false }
    }

    fn pending(&mut self, cx: &mut Context<'_>) -> bool {
        self.tick = !self.tick;
        if self.on && self.tick {
            cx.waker().wake_by_ref();
        }
        self.on && self.tick
    }
}

/// A writer that stutters, takes at most `max` bytes a call, and fails once when its output
/// reaches `fail_at`.
#[derive(Debug)]
struct Trickle {
    out: Vec<u8>,
    max: usize,
    stutter: Stutter,
    fail_at: Option<usize>,
    shut: bool,
}

impl Trickle {
    fn new(max: usize) -> Self {
        Trickle {
            out: Vec::new(),
            max,
            stutter: Stutter::new(true),
            fail_at: None,
            shut: false,
        }
    }
}

impl AsyncWrite for Trickle {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        assert!(!self.shut, "write after shutdown");
        assert!(!buf.is_empty(), "the adapter writes no empty pieces");
        if self.stutter.pending(cx) {
            return Poll::Pending;
        }
        if self.fail_at.is_some_and(|at| self.out.len() >= at) {
            self.fail_at = None;
            return Poll::Ready(Err(io::Error::other("sink failed")));
        }
        let n = buf.len().min(self.max);
        self.out.extend_from_slice(&buf[..n]);
        Poll::Ready(Ok(n))
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.stutter.pending(cx) {
            return Poll::Pending;
        }
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.stutter.pending(cx) {
            return Poll::Pending;
        }
        self.shut = true;
        Poll::Ready(Ok(()))
    }
}

/// A reader that stutters, gives its data in reads of the given sizes (cycled, at least 1),
/// and fails once when it reaches `fail_at`.
struct Drip {
    data: Vec<u8>,
    pos: usize,
    sizes: Vec<usize>,
    reads: usize,
    stutter: Stutter,
    fail_at: Option<usize>,
}

impl Drip {
    fn new(data: &[u8], sizes: &[usize]) -> Self {
        Drip {
            data: data.to_vec(),
            pos: 0,
            sizes: sizes.to_vec(),
            reads: 0,
            stutter: Stutter::new(true),
            fail_at: None,
        }
    }
}

impl AsyncRead for Drip {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if self.stutter.pending(cx) {
            return Poll::Pending;
        }
        if self.fail_at.is_some_and(|at| self.pos >= at) {
            self.fail_at = None;
            return Poll::Ready(Err(io::Error::other("source failed")));
        }
        let size = self.sizes[self.reads % self.sizes.len()].max(1);
        self.reads += 1;
        let n = size.min(self.data.len() - self.pos).min(buf.remaining());
        buf.put_slice(&self.data[self.pos..self.pos + n]);
        self.pos += n;
        Poll::Ready(Ok(()))
    }
}

/// A stream of the given items that stutters.
struct Chunks {
    items: std::collections::VecDeque<io::Result<Bytes>>,
    stutter: Stutter,
}

impl Chunks {
    fn new(items: impl IntoIterator<Item = io::Result<Bytes>>) -> Self {
        Chunks {
            items: items.into_iter().collect(),
            stutter: Stutter::new(true),
        }
    }
}

impl Stream for Chunks {
    type Item = io::Result<Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.stutter.pending(cx) {
            return Poll::Pending;
        }
        Poll::Ready(self.items.pop_front())
    }
}

/// `input` cut into chunks of the given sizes (cycled; 0 is an empty chunk).
fn split(input: &[u8], sizes: &[usize]) -> Vec<Vec<u8>> {
    let mut chunks = Vec::new();
    let mut rest = input;
    for (i, &size) in sizes.iter().cycle().enumerate() {
        if rest.is_empty() {
            break;
        }
        // Only zero sizes: the rest in one chunk.
        let n = if i >= 4 * input.len() + 8 {
            rest.len()
        } else {
            size.min(rest.len())
        };
        chunks.push(rest[..n].to_vec());
        rest = &rest[n..];
    }
    chunks
}

// ---------------------------------------------------------------------------------------
// The paths through each adapter.

/// Writes `chunks` through a `MaskingAsyncWriter` over a `Trickle` taking `max` bytes a
/// call. With `flush`, flushes after each chunk and checks that the inner writer then holds
/// exactly what the sync core has emitted for the same chunks: all that is final, no more.
fn via_writer(secrets: &Arc<Secrets>, chunks: &[Vec<u8>], max: usize, flush: bool) -> Vec<u8> {
    let mut core = Masker::new(Arc::clone(secrets));
    let mut core_out = Vec::new();
    let mut w = MaskingAsyncWriter::new(Trickle::new(max), Arc::clone(secrets));
    for chunk in chunks {
        let mut rest = &chunk[..];
        while !rest.is_empty() {
            let n = block_on(w.write(rest)).expect("write");
            assert!(n > 0, "Ok(0) for non-empty input");
            rest = &rest[n..];
        }
        if flush {
            core.mask(chunk, |piece| core_out.extend_from_slice(&piece));
            block_on(w.flush()).expect("flush");
            assert_eq!(
                w.get_ref().out,
                core_out,
                "flush writes what is final, no more"
            );
        }
    }
    block_on(w.shutdown()).expect("shutdown");
    assert!(w.get_ref().shut, "shutdown shuts the inner writer down");
    w.into_inner().out
}

/// Reads `input`, given by a `Drip` in reads of `sizes`, through a `MaskingAsyncReader`
/// into a buffer of `buf_len` bytes, to its end; checks that the end stays the end.
fn via_reader(secrets: &Arc<Secrets>, input: &[u8], sizes: &[usize], buf_len: usize) -> Vec<u8> {
    let mut r = MaskingAsyncReader::new(Drip::new(input, sizes), Arc::clone(secrets));
    let mut out = Vec::new();
    let mut buf = vec![0; buf_len];
    loop {
        let n = block_on(r.read(&mut buf)).expect("read");
        if n == 0 {
            break;
        }
        out.extend_from_slice(&buf[..n]);
    }
    assert_eq!(block_on(r.read(&mut buf)).expect("read after the end"), 0);
    out
}

/// As `via_reader`, through `AsyncBufRead`: `read_until` a byte of the input.
fn via_buf_reader(secrets: &Arc<Secrets>, input: &[u8], sizes: &[usize]) -> Vec<u8> {
    let mut r = MaskingAsyncReader::new(Drip::new(input, sizes), Arc::clone(secrets));
    let mut out = Vec::new();
    while block_on(r.read_until(b'a', &mut out)).expect("read_until") > 0 {}
    out
}

/// Streams `chunks` through a `MaskedStream`; checks that it yields no empty piece and stays
/// ended.
fn via_stream(secrets: &Arc<Secrets>, chunks: &[Vec<u8>]) -> Vec<u8> {
    let items = chunks.iter().map(|c| Ok(Bytes::copy_from_slice(c)));
    let mut s = MaskedStream::new(Chunks::new(items), Arc::clone(secrets));
    let mut out = Vec::new();
    while let Some(piece) = block_on(s.next()) {
        let piece = piece.expect("stream item");
        assert!(!piece.is_empty(), "empty piece");
        out.extend_from_slice(&piece);
    }
    assert!(s.is_terminated());
    assert!(block_on(s.next()).is_none(), "fused");
    out
}

/// Runs `input`, cut by `sizes`, through every adapter path; each must give `want`.
fn check_all(secrets: &Arc<Secrets>, input: &[u8], sizes: &[usize], want: &[u8], what: &str) {
    let chunks = split(input, sizes);
    for max in [1, 3] {
        let got = via_writer(secrets, &chunks, max, max == 1);
        assert_eq!(got, want, "{what}: writer, {sizes:?}, max {max}");
    }
    for buf_len in [1, 5] {
        let got = via_reader(secrets, input, sizes, buf_len);
        assert_eq!(got, want, "{what}: reader, {sizes:?}, buffer {buf_len}");
    }
    assert_eq!(
        via_buf_reader(secrets, input, sizes),
        want,
        "{what}: buf reader, {sizes:?}"
    );
    assert_eq!(
        via_stream(secrets, &chunks),
        want,
        "{what}: stream, {sizes:?}"
    );
}

// ---------------------------------------------------------------------------------------
// Named cases.

struct Case {
    name: &'static str,
    secrets: &'static [&'static [u8]],
    input: &'static [u8],
    want: &'static [u8],
}

const CASES: &[Case] = &[
    Case {
        name: "overlapping secrets merge into one replacement",
        secrets: &[b"abcdefgh", b"efghijkl"],
        input: b"xxabcdefghijklyy",
        want: b"xx[MASKED]yy",
    },
    Case {
        name: "touching occurrences merge",
        secrets: &[b"abcdefgh", b"ijklmnop"],
        input: b"--abcdefghijklmnop--",
        want: b"--[MASKED]--",
    },
    Case {
        name: "secret at the start and at the end",
        secrets: &[b"s3cr3t-value"],
        input: b"s3cr3t-value middle s3cr3t-value",
        want: b"[MASKED] middle [MASKED]",
    },
    Case {
        name: "a prefix that never completes is plain text at the end",
        secrets: &[b"hunter2hunter2"],
        input: b"pw: hunter2hunt",
        want: b"pw: hunter2hunt",
    },
    Case {
        name: "a self-overlapping secret repeated",
        secrets: &[b"abababab"],
        input: b"abababababababab x abababa",
        want: b"[MASKED] x abababa",
    },
    Case {
        name: "a multi-line secret is masked whole and line by line",
        secrets: &[b"-----BEGIN KEY-----\nline-two-of-key\r\n-----END KEY-----"],
        input:
            b"k=-----BEGIN KEY-----\nline-two-of-key\r\n-----END KEY-----\nlog: line-two-of-key!\n",
        want: b"k=[MASKED]\nlog: [MASKED]!\n",
    },
    Case {
        name: "a log without secrets passes unchanged",
        secrets: &[b"glcbt-64_zyx987wvu"],
        input: b"ordinary log line\nglcbt-64 is a prefix\n",
        want: b"ordinary log line\nglcbt-64 is a prefix\n",
    },
    Case {
        name: "a near miss next to a hit",
        secrets: &[b"password123"],
        input: b"password12 password1234",
        want: b"password12 [MASKED]4",
    },
    Case {
        name: "binary bytes",
        secrets: &[b"\x00\xffsecret\x00\x01"],
        input: b"\x00\x00\xffsecret\x00\x01\xff\n",
        want: b"\x00[MASKED]\xff\n",
    },
    Case {
        name: "the end of one secret starts another",
        secrets: &[b"abcdefgh", b"bcdefghz"],
        input: b"abcdefghz!",
        want: b"[MASKED]!",
    },
    Case {
        name: "empty input",
        secrets: &[b"whatever-secret"],
        input: b"",
        want: b"",
    },
];

#[test]
fn named_cases_through_every_adapter_and_split() {
    for case in CASES {
        let secrets: Vec<Vec<u8>> = case.secrets.iter().map(|s| s.to_vec()).collect();
        let compiled = compile(&secrets, 8);
        let len = case.input.len();
        assert_eq!(
            expected(&secrets, 8, case.input),
            case.want,
            "{}: reference",
            case.name
        );
        assert_eq!(
            stream(&compiled, case.input, &[1]),
            case.want,
            "{}: core",
            case.name
        );
        check_all(&compiled, case.input, &[1], case.want, case.name);
        check_all(&compiled, case.input, &[2, 0, 3], case.want, case.name);
        for at in 0..=len {
            check_all(&compiled, case.input, &[at, len], case.want, case.name);
        }
    }
}

// ---------------------------------------------------------------------------------------
// Random secrets, inputs and chunkings (the strategies of `props`).

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn adapters_match_core_and_reference(
        (secrets, input, sizes) in crate::props::case(3),
        max in 1..6usize,
        buf_len in 1..9usize,
        flush in any::<bool>(),
    ) {
        let compiled = compile(&secrets, 3);
        let want = expected(&secrets, 3, &input);
        prop_assert_eq!(&stream(&compiled, &input, &sizes), &want);
        let chunks = split(&input, &sizes);
        prop_assert_eq!(&via_writer(&compiled, &chunks, max, flush), &want);
        prop_assert_eq!(&via_reader(&compiled, &input, &sizes, buf_len), &want);
        prop_assert_eq!(&via_buf_reader(&compiled, &input, &sizes), &want);
        prop_assert_eq!(&via_stream(&compiled, &chunks), &want);
    }
}

// ---------------------------------------------------------------------------------------
// Contracts of each adapter.

fn hunter() -> Arc<Secrets> {
    Arc::new(Secrets::new(["hunter2-hunter2"]).expect("valid secret"))
}

#[test]
fn writer_flush_keeps_a_possible_secret_prefix_and_shutdown_releases_it() {
    let mut w = MaskingAsyncWriter::new(Trickle::new(2), hunter());
    block_on(w.write_all(b"pw: hunter2-")).unwrap();
    block_on(w.flush()).unwrap();
    assert_eq!(w.get_ref().out, b"pw: ");
    assert_eq!(w.masker().held_back(), 8);
    block_on(w.shutdown()).unwrap();
    assert_eq!(w.get_ref().out, b"pw: hunter2-");
    assert!(w.get_ref().shut);
    let err = block_on(w.write(b"more")).unwrap_err();
    assert_eq!(
        err.kind(),
        io::ErrorKind::BrokenPipe,
        "write after shutdown"
    );
}

/// The accessor set of the sync adapters: `try_finish` and `finish` release the tail
/// without shutting the inner writer down, `into_inner` and drop write nothing, the counts
/// add up; the reader and the stream count too.
#[test]
fn accessors_and_counts_match_the_sync_adapters() {
    let mut w = MaskingAsyncWriter::new(Trickle::new(2), hunter());
    block_on(w.write_all(b"pw: hunter2-hunter2 hunter2-")).unwrap();
    block_on(w.try_finish()).unwrap();
    assert_eq!(w.get_ref().out, b"pw: [MASKED] hunter2-");
    assert!(
        !w.get_ref().shut,
        "try_finish does not shut the inner writer down"
    );
    block_on(w.write_all(b" next hunter2-hunter2 hunter")).unwrap();
    assert_eq!((w.total_in(), w.total_out(), w.masked()), (56, 36, 2));
    let inner = block_on(w.finish()).unwrap();
    assert_eq!(inner.out, b"pw: [MASKED] hunter2- next [MASKED] hunter");
    assert!(!inner.shut);

    let mut w = MaskingAsyncWriter::new(Trickle::new(64), hunter());
    block_on(w.write_all(b"held hunter2")).unwrap();
    block_on(w.flush()).unwrap();
    w.get_mut().out.extend_from_slice(b"!");
    assert_eq!(w.into_inner().out, b"held !", "into_inner writes no tail");
    let mut sink = Vec::new();
    {
        let mut w = MaskingAsyncWriter::new(&mut sink, hunter());
        block_on(w.write_all(b"held hunter2")).unwrap();
    }
    assert_eq!(sink, b"held ", "drop writes no tail");

    let mut r = MaskingAsyncReader::new(&b"a hunter2-hunter2 b hunter2"[..], hunter());
    let mut out = String::new();
    block_on(r.read_to_string(&mut out)).unwrap();
    assert_eq!(out, "a [MASKED] b hunter2");
    assert_eq!((r.total_in(), r.total_out(), r.masked()), (27, 20, 1));
    assert!(r.get_ref().is_empty() && r.into_inner().is_empty());

    let chunks = [
        Ok(Bytes::from_static(b"hunter2-hun")),
        Ok(Bytes::from_static(b"ter2 x")),
    ];
    let mut s = MaskedStream::new(futures_util::stream::iter(chunks), hunter());
    let out: Vec<Bytes> = block_on(s.by_ref().map(Result::unwrap).collect());
    assert_eq!(out.concat(), b"[MASKED] x");
    assert_eq!((s.total_in(), s.total_out(), s.masked()), (17, 10, 1));
}

#[test]
fn writer_passes_errors_on_and_drops_nothing() {
    let input = b"one hunter2-hunter2 two hunter2-hunter2 three\n".repeat(3);
    let want = expected(&[b"hunter2-hunter2".to_vec()], 8, &input);
    for fail_at in [0, 1, 5, 20, 40] {
        for size in [1, 7, input.len()] {
            let mut inner = Trickle::new(3);
            inner.fail_at = Some(fail_at);
            let mut w = MaskingAsyncWriter::new(inner, hunter());
            let mut errors = Vec::new();
            let mut rest = &input[..];
            while !rest.is_empty() {
                match block_on(w.write(&rest[..size.min(rest.len())])) {
                    Ok(n) => rest = &rest[n..],
                    Err(err) => errors.push(err.to_string()),
                }
            }
            while let Err(err) = block_on(w.shutdown()) {
                errors.push(err.to_string());
            }
            assert_eq!(errors, ["sink failed"], "fail at {fail_at}, size {size}");
            assert_eq!(w.get_ref().out, want, "fail at {fail_at}, size {size}");
        }
    }
}

/// A writer that never takes anything.
struct Stalled;

impl AsyncWrite for Stalled {
    fn poll_write(self: Pin<&mut Self>, _: &mut Context<'_>, _: &[u8]) -> Poll<io::Result<usize>> {
        Poll::Pending
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Pending
    }
    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Pending
    }
}

#[test]
fn writer_takes_a_bounded_amount_when_the_inner_writer_stalls() {
    let mut w = MaskingAsyncWriter::new(Stalled, hunter());
    let waker = Waker::from(Arc::new(Woken(AtomicBool::new(false))));
    let mut cx = Context::from_waker(&waker);
    let input = vec![b'x'; 1 << 20];
    let mut taken = 0;
    for _ in 0..10 {
        match Pin::new(&mut w).poll_write(&mut cx, &input[taken..]) {
            Poll::Ready(Ok(n)) => {
                assert!(n > 0);
                taken += n;
            }
            Poll::Ready(Err(err)) => panic!("{err}"),
            Poll::Pending => {}
        }
    }
    // The documented bound: it masks at most 64 KiB at a time, and takes more only once the
    // output of that is written.
    assert!(taken > 0 && taken <= 64 * 1024, "took {taken} bytes");
    assert!(Pin::new(&mut w).poll_flush(&mut cx).is_pending());
}

#[test]
fn reader_passes_errors_on_and_loses_nothing() {
    let input = b"one hunter2-hunter2 two hunter2-hunter2 three\n".repeat(3);
    let want = expected(&[b"hunter2-hunter2".to_vec()], 8, &input);
    for fail_at in [0, 1, 5, 20, 40] {
        let mut drip = Drip::new(&input, &[3, 1, 4]);
        drip.fail_at = Some(fail_at);
        let mut r = MaskingAsyncReader::new(drip, hunter());
        let (mut out, mut errors) = (Vec::new(), 0);
        let mut buf = [0; 4];
        loop {
            match block_on(r.read(&mut buf)) {
                Ok(0) => break,
                Ok(n) => out.extend_from_slice(&buf[..n]),
                Err(err) => {
                    assert_eq!(err.to_string(), "source failed");
                    errors += 1;
                }
            }
        }
        assert_eq!(errors, 1, "fail at {fail_at}");
        assert_eq!(out, want, "fail at {fail_at}");
    }
}

#[test]
fn reader_reports_the_end_only_after_the_held_back_tail() {
    let mut r = MaskingAsyncReader::new(Drip::new(b"pw: hunter2-hunter", &[100]), hunter());
    let mut buf = [0; 64];
    let mut reads = Vec::new();
    loop {
        let n = block_on(r.read(&mut buf)).unwrap();
        reads.push(buf[..n].to_vec());
        if n == 0 {
            break;
        }
    }
    // The whole input arrives in one read; all of it but "pw: " could begin the secret.
    assert_eq!(reads, [&b"pw: "[..], b"hunter2-hunter", b""]);
}

#[test]
fn stream_slices_the_input_chunk_where_it_passes_unchanged() {
    let chunk = Bytes::from_static(b"a plain line\n");
    let mut s = MaskedStream::new(Chunks::new([Ok(chunk.clone())]), hunter());
    let piece = block_on(s.next()).unwrap().unwrap();
    assert_eq!(piece, chunk);
    assert_eq!(piece.as_ptr(), chunk.as_ptr(), "not copied");
    assert!(block_on(s.next()).is_none());

    let chunk = Bytes::from_static(b"pw: hunter2-hunter2, again hunter2-hunter2!\n");
    let s = MaskedStream::new(Chunks::new([Ok(chunk.clone())]), hunter());
    let pieces: Vec<Bytes> = block_on(s.map(Result::unwrap).collect());
    assert_eq!(pieces, ["pw: ", "[MASKED]", ", again ", "[MASKED]", "!\n"]);
    let range = chunk.as_ptr_range();
    for i in [0, 2, 4] {
        assert!(range.contains(&pieces[i].as_ptr()), "piece {i} copied");
    }
}

#[test]
fn stream_joins_copied_pieces_and_passes_errors_on() {
    // "hunter2-" is held back after the first chunk; with the second it completes the secret.
    let items = [
        Ok(Bytes::from_static(b"pw: hunter2-")),
        Err(io::Error::other("upstream hiccup")),
        Ok(Bytes::new()),
        Ok(Bytes::from_static(b"hunter2 ok")),
    ];
    let s = MaskedStream::new(Chunks::new(items), hunter());
    let items: Vec<Result<Bytes, String>> =
        block_on(s.map(|item| item.map_err(|e| e.to_string())).collect());
    let want: Vec<Result<Bytes, String>> = vec![
        Ok(Bytes::from_static(b"pw: ")),
        Err("upstream hiccup".into()),
        Ok(Bytes::from_static(b"[MASKED]")),
        Ok(Bytes::from_static(b" ok")),
    ];
    assert_eq!(items, want);
}

// ---------------------------------------------------------------------------------------
// On a tokio runtime, through `io::duplex` pipes with a 3-byte buffer.

/// Runs `fut` on a two-thread runtime; a hang fails the test after a minute.
fn run<F: Future>(fut: F) -> F::Output {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let limit = std::time::Duration::from_secs(60);
    runtime
        .block_on(async { tokio::time::timeout(limit, fut).await })
        .expect("timed out")
}

#[test]
fn writer_and_reader_through_tiny_duplex_pipes() {
    let secrets = hunter();
    let input = b"log hunter2-hunter2 and hunter2-hunter and hunter2-hunter2\n".repeat(20);
    let want = expected(&[b"hunter2-hunter2".to_vec()], 8, &input);
    let chunks = split(&input, &[5, 1, 17, 2]);
    run(async {
        let (near, mut far) = tokio::io::duplex(3);
        let mut w = MaskingAsyncWriter::new(near, Arc::clone(&secrets));
        let writer = tokio::spawn(async move {
            for chunk in &chunks {
                w.write_all(chunk).await?;
                tokio::task::yield_now().await;
            }
            w.shutdown().await
        });
        let mut out = Vec::new();
        far.read_to_end(&mut out).await.unwrap();
        writer.await.unwrap().unwrap();
        assert_eq!(out, want, "writer");

        let (mut near, far) = tokio::io::duplex(3);
        let feeder = tokio::spawn(async move {
            for chunk in input.chunks(7) {
                near.write_all(chunk).await?;
            }
            near.shutdown().await
        });
        let mut out = Vec::new();
        let mut r = MaskingAsyncReader::new(far, secrets);
        r.read_to_end(&mut out).await.unwrap();
        feeder.await.unwrap().unwrap();
        assert_eq!(out, want, "reader");
    });
}

// ---------------------------------------------------------------------------------------
// The `forward` example over loopback sockets.

const TOKEN: &str = "glcbt-64_zyx987wvu-e2e";
const PASSWORD: &str = "hunter2-hunter2-e2e";

fn forward_secrets() -> Arc<logmask::Registry> {
    let mut base = Secrets::builder();
    base.add(TOKEN).add(PASSWORD);
    Arc::new(logmask::Registry::new(base).expect("valid secrets"))
}

/// Line `j` of client `id`, with a secret in it, and where to split it across writes
/// (inside the secret).
fn client_line(id: usize, j: usize) -> (String, [usize; 2]) {
    let secret = if (id + j) % 2 == 0 { TOKEN } else { PASSWORD };
    let head = format!("client {id} line {j} secret=");
    let cut = head.len() + 1 + (id * 7 + j * 3) % (secret.len() - 2);
    (format!("{head}{secret} end\n"), [cut, cut + 1])
}

/// Sends `lines` lines to `stream`, each in three writes with the task yielding between.
async fn send_lines<S: AsyncWrite + Unpin>(mut stream: S, id: usize, lines: usize) {
    for j in 0..lines {
        let (line, [a, b]) = client_line(id, j);
        for part in [&line[..a], &line[a..b], &line[b..]] {
            stream.write_all(part.as_bytes()).await.unwrap();
            stream.flush().await.unwrap();
            tokio::task::yield_now().await;
        }
    }
    stream.shutdown().await.unwrap();
}

/// Waits until the file at `path` contains `needle` (bounded: 10 s).
async fn wait_for(path: &std::path::Path, needle: &str) {
    for _ in 0..1000 {
        let text = tokio::fs::read_to_string(path).await.unwrap_or_default();
        if text.contains(needle) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("{needle:?} never reached {}", path.display());
}

/// Checks the sink: each client's lines whole, masked and in order, never mixed with
/// another's within a line; no secret anywhere. Returns the lines no client sent.
fn check_sink(sink: &str, clients: usize, lines: usize) -> Vec<String> {
    assert!(
        !sink.contains(TOKEN) && !sink.contains(PASSWORD),
        "a secret reached the sink"
    );
    let mut next = vec![0; clients];
    let mut others = Vec::new();
    for line in sink.lines() {
        let id = line
            .strip_prefix("client ")
            .and_then(|rest| rest.split(' ').next())
            .and_then(|id| id.parse::<usize>().ok())
            .filter(|&id| id < clients);
        let Some(id) = id else {
            others.push(line.to_string());
            continue;
        };
        let want = format!("client {id} line {} secret=[MASKED] end", next[id]);
        assert_eq!(line, want, "a client's line, whole and in order");
        next[id] += 1;
    }
    assert_eq!(
        next,
        vec![lines; clients],
        "every line of every client arrived"
    );
    others
}

#[test]
fn forwarder_masks_many_concurrent_streams_into_whole_lines_until_shutdown() {
    const TCP: usize = 24;
    const UNIX: usize = 8;
    const LINES: usize = 30;
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("forward.sock");
    let sink_path = dir.path().join("sink.log");
    run(async {
        let tcp = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = tcp.local_addr().unwrap();
        let listeners = forward::Listeners {
            tcp: Some(tcp),
            unix: Some(tokio::net::UnixListener::bind(&sock).unwrap()),
        };
        let sink = tokio::fs::File::create(&sink_path).await.unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let shutdown = async {
            let _ = stopped.await;
        };
        // Generous: the connections end by themselves well before it.
        let grace = std::time::Duration::from_secs(20);
        let server = tokio::spawn(forward::serve(
            listeners,
            forward_secrets(),
            sink,
            shutdown,
            grace,
            false,
        ));

        let mut clients = tokio::task::JoinSet::new();
        for id in 0..TCP + UNIX {
            let sock = sock.clone();
            clients.spawn(async move {
                if id < TCP {
                    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
                    send_lines(stream, id, LINES).await;
                } else {
                    let stream = tokio::net::UnixStream::connect(sock).await.unwrap();
                    send_lines(stream, id, LINES).await;
                }
            });
        }
        // One more is open at shutdown with a line begun and a secret prefix held back.
        let mut open = tokio::net::TcpStream::connect(addr).await.unwrap();
        let (head, tail) = PASSWORD.split_at(10);
        let begun = format!("open first\nopen partial {head}");
        open.write_all(begun.as_bytes()).await.unwrap();
        while let Some(done) = clients.join_next().await {
            done.unwrap();
        }
        // A client's writes end before the server accepts it: its connection may still wait
        // in the backlog, which shutdown resets. Stop only once every line has arrived.
        for id in 0..TCP + UNIX {
            let last = format!("client {id} line {} secret=[MASKED] end\n", LINES - 1);
            wait_for(&sink_path, &last).await;
        }
        wait_for(&sink_path, "open first\n").await;
        stop.send(()).unwrap();
        // Shutdown stops accepting at once...
        let mut refused = false;
        // A probe that connects before the listener closes may still be accepted (and then
        // counted as a connection) or sit in the backlog and be reset (not counted).
        let mut probes = 0;
        for _ in 0..1000 {
            if tokio::net::TcpStream::connect(addr).await.is_err() {
                refused = true;
                break;
            }
            probes += 1;
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        assert!(refused, "still accepting after shutdown");
        // ...while an open stream goes on within the grace period.
        let rest = format!("{tail} end\nopen after shutdown\n");
        open.write_all(rest.as_bytes()).await.unwrap();
        open.shutdown().await.unwrap();
        let (_, stats) = server.await.unwrap().unwrap();
        let connections = (TCP + UNIX + 1) as u64;
        assert!(
            (connections..=connections + probes).contains(&stats.connections) && stats.failed == 0,
            "{stats:?}: {connections} clients and {probes} probes"
        );
    });
    let sink = std::fs::read_to_string(&sink_path).unwrap();
    assert!(sink.ends_with('\n'));
    let others = check_sink(&sink, TCP + UNIX, LINES);
    assert_eq!(
        others,
        [
            "open first",
            "open partial [MASKED] end",
            "open after shutdown"
        ]
    );
}

/// A sink that fails every write.
#[derive(Debug)]
struct Broken;

impl AsyncWrite for Broken {
    fn poll_write(self: Pin<&mut Self>, _: &mut Context<'_>, _: &[u8]) -> Poll<io::Result<usize>> {
        Poll::Ready(Err(io::Error::other("disk full")))
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[test]
fn forwarder_stops_when_the_sink_fails() {
    let err = run(async {
        let tcp = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = tcp.local_addr().unwrap();
        let listeners = forward::Listeners {
            tcp: Some(tcp),
            unix: None,
        };
        let grace = std::time::Duration::from_millis(100);
        // No shutdown: the failing sink alone must end `serve`.
        let never = std::future::pending();
        let registry =
            Arc::new(logmask::Registry::new(Secrets::builder().add("hunter2-hunter2")).unwrap());
        let server = tokio::spawn(forward::serve(
            listeners, registry, Broken, never, grace, false,
        ));
        let mut client = tokio::net::TcpStream::connect(addr).await.unwrap();
        client.write_all(b"a line\n").await.unwrap();
        server.await.unwrap().unwrap_err()
    });
    assert_eq!(err.to_string(), "disk full");
}

#[test]
fn forwarder_splits_only_overlong_lines_and_ends_the_last_one() {
    let lines = |input: Vec<u8>| {
        run(async {
            let (tx, mut rx) = tokio::sync::mpsc::channel(1024);
            forward::forward(&input[..], forward_secrets().masker(), tx, None)
                .await
                .unwrap();
            let mut batches = Vec::new();
            while let Some(batch) = rx.recv().await {
                batches.push(batch);
            }
            batches
        })
    };
    let long = vec![b'x'; forward::MAX_LINE + 10];
    let mut input = b"a\nb".to_vec();
    input.extend_from_slice(&long);
    input.extend_from_slice(b"\nc\nd");
    let batches = lines(input.clone());
    assert!(batches.iter().all(|b| b.len() <= forward::MAX_LINE + 1));
    let (last, whole) = batches.split_last().unwrap();
    assert!(whole
        .iter()
        .all(|b| b.ends_with(b"\n") || b.len() == forward::MAX_LINE));
    assert_eq!(&last[..], b"d\n");
    assert_eq!(batches[0], "a\n");
    let mut joined: Vec<u8> = batches.concat();
    assert_eq!(joined.pop(), Some(b'\n'), "the last line gets a line break");
    assert_eq!(joined, input);
}

/// The example program, which `cargo test --features tokio` builds next to the folder of the
/// test binary. Refuses a missing or stale one (`cargo test --test logmask` builds no example).
fn example_binary() -> std::path::PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().and_then(|deps| deps.parent()).unwrap();
    let path = dir.join("examples").join("forward");
    let modified = |p: &std::path::Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let sources = [
        "examples/forward/main.rs",
        "examples/forward/options.rs",
        "examples/forward/serve.rs",
        "src/adapters/tokio/reader.rs",
        "src/stream/mod.rs",
        "Cargo.toml",
    ];
    let newest = sources.iter().filter_map(|s| modified(&root.join(s))).max();
    assert!(
        modified(&path) >= newest,
        "{} is missing or older than its sources: run `cargo test --features tokio` without \
         --test, or `cargo build --features tokio --example forward` first",
        path.display()
    );
    path
}

#[test]
fn forward_program_stops_gracefully_on_ctrl_c_after_the_grace_period() {
    use std::io::{BufRead, Write};
    let dir = tempfile::tempdir().unwrap();
    let secrets_file = dir.path().join("secrets.txt");
    std::fs::write(&secrets_file, format!("{TOKEN}\n{PASSWORD}\n")).unwrap();
    let (sink, sock) = (dir.path().join("sink.log"), dir.path().join("f.sock"));
    let args = [
        "-f".as_ref(),
        secrets_file.as_os_str(),
        "--unix".as_ref(),
        sock.as_os_str(),
        "--out".as_ref(),
        sink.as_os_str(),
        "--grace".as_ref(),
        "0.2".as_ref(),
    ];
    let (mut child, mut stderr, addr) = start_forward(&args);
    let mut line = String::new();
    stderr.read_line(&mut line).unwrap(); // listening on unix

    let mut tcp = std::net::TcpStream::connect(&addr).unwrap();
    let mut unix = std::os::unix::net::UnixStream::connect(&sock).unwrap();
    tcp.write_all(format!("tcp {}", &TOKEN[..5]).as_bytes())
        .unwrap();
    unix.write_all(format!("unix {PASSWORD} done\n").as_bytes())
        .unwrap();
    tcp.write_all(format!("{} done\nheld {}", &TOKEN[5..], &TOKEN[..9]).as_bytes())
        .unwrap();
    run(async {
        wait_for(&sink, "unix [MASKED] done\n").await;
        wait_for(&sink, "tcp [MASKED] done\n").await;
    });
    let kill = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let mut status = None;
    for _ in 0..3000 {
        status = child.try_wait().unwrap();
        if status.is_some() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let Some(status) = status else {
        let _ = child.kill();
        panic!("still running 30 s after Ctrl-C");
    };
    assert!(status.success(), "exit status 0 after Ctrl-C, not {status}");
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut rest).unwrap();
    assert!(
        rest.contains("stopped after 2 connection(s), 0 failed"),
        "{rest}"
    );
    assert!(!sock.exists(), "the socket file is removed");
    let text = std::fs::read_to_string(&sink).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    lines.sort_unstable();
    // The TCP stream, still open, was ended after the grace period: its held-back prefix is
    // released as plain text, as at any end of stream, and its line ended.
    assert_eq!(
        lines,
        ["held glcbt-64_", "tcp [MASKED] done", "unix [MASKED] done"]
    );
    assert!(text.ends_with('\n'));
}

/// Starts the example with `args`; returns it, its stderr and the TCP address it listens on.
fn start_forward(
    args: &[&std::ffi::OsStr],
) -> (
    std::process::Child,
    std::io::BufReader<std::process::ChildStderr>,
    String,
) {
    use std::io::BufRead;
    let mut child = std::process::Command::new(example_binary())
        .args(args)
        .args(["--tcp", "127.0.0.1:0"])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    stderr.read_line(&mut line).unwrap();
    let addr = line
        .trim()
        .strip_prefix("forward: listening on tcp ")
        .unwrap_or_else(|| panic!("unexpected {line:?}"))
        .to_string();
    (child, stderr, addr)
}

fn signal(child: &std::process::Child, name: &str) {
    let kill = std::process::Command::new("kill")
        .args([name, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
}

/// SIGHUP reloads the secrets file for the open connections too, a reload that would empty
/// the set keeps it, `--tag` prefixes each line with its connection, SIGTERM ends it with 0
/// and removes the socket file; `--help` says what it does.
#[test]
fn forward_program_reloads_on_sighup_and_tags_lines() {
    use std::io::{BufRead, Write};
    let help = std::process::Command::new(example_binary())
        .arg("--help")
        .output()
        .unwrap();
    let text = String::from_utf8(help.stdout).unwrap();
    assert!(
        help.status.success() && text.contains("SIGHUP reads -e and -f again"),
        "{text}"
    );

    let dir = tempfile::tempdir().unwrap();
    let secrets_file = dir.path().join("secrets.txt");
    std::fs::write(&secrets_file, format!("{TOKEN}\n")).unwrap();
    let (sink, sock) = (dir.path().join("sink.log"), dir.path().join("f.sock"));
    let args = [
        "-f".as_ref(),
        secrets_file.as_os_str(),
        "--tag".as_ref(),
        "--unix".as_ref(),
        sock.as_os_str(),
        "--out".as_ref(),
        sink.as_os_str(),
    ];
    let (mut child, mut stderr, addr) = start_forward(&args);
    let mut line = String::new();
    stderr.read_line(&mut line).unwrap(); // listening on unix
    let mut first = std::net::TcpStream::connect(&addr).unwrap();
    first
        .write_all(format!("one {TOKEN} {PASSWORD}\n").as_bytes())
        .unwrap();
    run(wait_for(&sink, "[1] one [MASKED] hunter2"));

    std::fs::write(&secrets_file, format!("{TOKEN}\n{PASSWORD}\n")).unwrap();
    signal(&child, "-HUP");
    line.clear();
    stderr.read_line(&mut line).unwrap();
    assert_eq!(line, "forward: reloaded the secrets: 2 secrets\n");
    first
        .write_all(format!("two {PASSWORD}\n").as_bytes())
        .unwrap();
    let mut second = std::os::unix::net::UnixStream::connect(&sock).unwrap();
    second
        .write_all(format!("three {PASSWORD}\nfour").as_bytes())
        .unwrap();
    run(wait_for(&sink, "[2] three [MASKED]\n"));
    run(wait_for(&sink, "[1] two [MASKED]\n"));

    std::fs::write(&secrets_file, "").unwrap();
    signal(&child, "-HUP");
    line.clear();
    stderr.read_line(&mut line).unwrap();
    let want = format!(
        "forward: reload failed, keeping the previous secrets: secrets file {} has no secrets now\n",
        secrets_file.display()
    );
    assert_eq!(line, want);
    first
        .write_all(format!("five {TOKEN} {PASSWORD}\n").as_bytes())
        .unwrap();
    run(wait_for(&sink, "[1] five [MASKED] [MASKED]\n"));

    signal(&child, "-TERM");
    let status = child.wait().unwrap();
    assert!(
        status.success(),
        "exit status 0 after SIGTERM, not {status}"
    );
    assert!(!sock.exists(), "the socket file is removed");
    let text = std::fs::read_to_string(&sink).unwrap();
    // The password was not a secret before the first reload: only line one shows it.
    assert!(!text.contains(TOKEN), "{text}");
    assert_eq!(text.matches(PASSWORD).count(), 1, "{text}");
    assert!(text.contains("[2] four\n"), "{text}");
    assert_eq!(text.lines().count(), 5, "{text}");
}
