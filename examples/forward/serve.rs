//! The forwarder's server: accepts connections, masks each in a task of its own, and hands
//! whole lines to the one task that writes the sink.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::{BufMut, Bytes, BytesMut};
use logmask::tokio::MaskingAsyncReader;
use logmask::{Masker, Registry};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, UnixListener};
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio_util::sync::{CancellationToken, WaitForCancellationFutureOwned};

/// The longest line handed to the sink in one piece; also the bound on a connection's buffer
/// of masked output.
pub const MAX_LINE: usize = 64 * 1024;
/// Batches of lines waiting for the sink; connections wait while it is full.
const SINK_QUEUE: usize = 64;
/// The sockets to accept log streams on.
#[derive(Debug, Default)]
pub struct Listeners {
    /// A TCP listener.
    pub tcp: Option<TcpListener>,
    /// A Unix stream socket listener.
    pub unix: Option<UnixListener>,
}

/// What `serve` did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Stats {
    /// Connections accepted.
    pub connections: u64,
    /// Connections that ended with an error (reported on stderr).
    pub failed: u64,
}

/// Accepts connections on `listeners` until `shutdown` completes, masks each with the set
/// `secrets` holds at each of its reads (in a task of its own), and appends the output to
/// `sink` whole lines at a time, each prefixed with `[N] ` (the connection's number) if
/// `tag` is set.
///
/// At shutdown it stops accepting and gives the open connections `grace` to end by
/// themselves (their data keeps flowing meanwhile); then it ends each one still open as if
/// its peer had closed it, waits for them, and returns the flushed sink. A connection's error is reported on stderr
/// and counted; it does not stop the others.
///
/// # Errors
///
/// The sink's write error. It stops `serve` as a shutdown would, and is returned after all
/// connections ended.
pub async fn serve<W>(
    listeners: Listeners,
    secrets: Arc<Registry>,
    sink: W,
    shutdown: impl Future<Output = ()>,
    grace: Duration,
    tag: bool,
) -> io::Result<(W, Stats)>
where
    W: AsyncWrite + Unpin + Send + 'static,
{
    let (lines, queue) = mpsc::channel(SINK_QUEUE);
    let mut writer = tokio::spawn(write_sink(sink, queue));
    let mut written = None;
    let stop = CancellationToken::new();
    let mut tasks = JoinSet::new();
    let mut stats = Stats::default();
    tokio::pin!(shutdown);
    loop {
        let (stream, peer): (Box<dyn AsyncRead + Send + Unpin>, String) = tokio::select! {
            () = &mut shutdown => break,
            // The sink failed: every connection would fail too.
            result = &mut writer => {
                written = Some(result);
                break
            }
            accepted = accept_tcp(&listeners.tcp) => match accepted {
                Ok((stream, addr)) => (Box::new(stream), format!("tcp {addr}")),
                Err(err) => { accept_failed(err).await; continue }
            },
            accepted = accept_unix(&listeners.unix) => match accepted {
                Ok(stream) => (Box::new(stream), "unix".to_string()),
                Err(err) => { accept_failed(err).await; continue }
            },
            // Reap finished connections as they end, so the set stays small.
            Some(done) = tasks.join_next(), if !tasks.is_empty() => {
                stats.failed += u64::from(!connection_ended(done));
                continue
            }
        };
        stats.connections += 1;
        let id = stats.connections;
        let input = UntilCancelled::new(stream, stop.clone());
        let (masker, lines) = (secrets.masker(), lines.clone());
        let tag = tag.then(|| format!("[{id}] "));
        tasks.spawn(async move {
            forward(input, masker, lines, tag.as_deref())
                .await
                .map_err(|err| format!("connection {id} ({peer}): {err}"))
        });
    }
    drop(listeners);
    // Open connections get `grace` to end by themselves; then the rest are ended.
    let deadline = tokio::time::sleep(grace);
    tokio::pin!(deadline);
    loop {
        tokio::select! {
            done = tasks.join_next() => match done {
                Some(done) => stats.failed += u64::from(!connection_ended(done)),
                None => break,
            },
            () = &mut deadline, if !stop.is_cancelled() => stop.cancel(),
        }
    }
    drop(lines);
    let written = match written {
        Some(result) => result,
        None => writer.await,
    };
    let sink = written.map_err(io::Error::other)??;
    Ok((sink, stats))
}

async fn accept_tcp(listener: &Option<TcpListener>) -> io::Result<(tokio::net::TcpStream, String)> {
    match listener {
        Some(listener) => listener
            .accept()
            .await
            .map(|(stream, addr)| (stream, addr.to_string())),
        None => std::future::pending().await,
    }
}

async fn accept_unix(listener: &Option<UnixListener>) -> io::Result<tokio::net::UnixStream> {
    match listener {
        Some(listener) => listener.accept().await.map(|(stream, _)| stream),
        None => std::future::pending().await,
    }
}

/// Reports a failed accept (too many open files, say) and pauses before the next one.
async fn accept_failed(err: io::Error) {
    eprintln!("forward: accept: {err}");
    tokio::time::sleep(Duration::from_millis(100)).await;
}

/// Reports how a connection task ended; whether it ended well.
fn connection_ended(done: Result<Result<(), String>, tokio::task::JoinError>) -> bool {
    match done {
        Ok(Ok(())) => true,
        Ok(Err(message)) => {
            eprintln!("forward: {message}");
            false
        }
        Err(err) => {
            eprintln!("forward: connection task: {err}");
            false
        }
    }
}

/// Masks one connection and sends its output to the sink writer, whole lines at a time
/// (lines longer than `MAX_LINE` in pieces). The last line gets a line break if it has none.
pub async fn forward<R>(
    input: R,
    masker: Masker,
    lines: mpsc::Sender<Bytes>,
    tag: Option<&str>,
) -> io::Result<()>
where
    R: AsyncRead + Unpin,
{
    let mut reader = MaskingAsyncReader::with_masker(input, masker);
    let mut buf = BytesMut::with_capacity(MAX_LINE);
    // Whether the next batch begins a line (a piece of an overlong line does not).
    let mut line_start = true;
    loop {
        // `buf` holds less than `MAX_LINE` bytes, and no line break.
        let room = MAX_LINE - buf.len();
        let read = reader.read_buf(&mut (&mut buf).limit(room)).await;
        let more = matches!(read, Ok(n) if n > 0);
        let cut = match memchr::memrchr(b'\n', &buf) {
            _ if !more => buf.len(),
            Some(at) => at + 1,
            None if buf.len() == MAX_LINE => MAX_LINE,
            None => 0,
        };
        if cut > 0 {
            let mut batch = buf.split_to(cut);
            if !more && !batch.ends_with(b"\n") {
                batch.put_u8(b'\n');
            }
            let ends_line = batch.ends_with(b"\n");
            if let Some(tag) = tag {
                batch = tagged(&batch, tag, line_start);
            }
            line_start = ends_line;
            if lines.send(batch.freeze()).await.is_err() {
                return Err(io::Error::other("the sink writer stopped"));
            }
        }
        if !more {
            return read.map(drop);
        }
    }
}

/// `batch` with `tag` before each line it begins (the first only if `line_start`).
fn tagged(batch: &[u8], tag: &str, line_start: bool) -> BytesMut {
    let mut out = BytesMut::with_capacity(batch.len() + 8 * tag.len());
    for (i, line) in batch.split_inclusive(|&b| b == b'\n').enumerate() {
        if i > 0 || line_start {
            out.put_slice(tag.as_bytes());
        }
        out.put_slice(line);
    }
    out
}

/// Writes the batches to `sink` in the order they arrive, flushing whenever none is waiting.
async fn write_sink<W>(mut sink: W, mut queue: mpsc::Receiver<Bytes>) -> io::Result<W>
where
    W: AsyncWrite + Unpin,
{
    while let Some(batch) = queue.recv().await {
        sink.write_all(&batch).await?;
        if queue.is_empty() {
            sink.flush().await?;
        }
    }
    sink.flush().await?;
    Ok(sink)
}

/// A reader that reports the end of the stream once `stop` is cancelled.
pub struct UntilCancelled<R> {
    inner: R,
    stop: CancellationToken,
    /// Polled only while `stop` is not cancelled, so never after it completed.
    stopped: Pin<Box<WaitForCancellationFutureOwned>>,
}

impl<R> UntilCancelled<R> {
    /// Wraps `inner`, ending it when `stop` is cancelled.
    pub fn new(inner: R, stop: CancellationToken) -> Self {
        UntilCancelled {
            inner,
            stopped: Box::pin(stop.clone().cancelled_owned()),
            stop,
        }
    }
}

impl<R: AsyncRead + Unpin> AsyncRead for UntilCancelled<R> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if self.stop.is_cancelled() || self.stopped.as_mut().poll(cx).is_ready() {
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}
