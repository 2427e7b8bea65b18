//! `forward`: accept log streams on TCP and/or Unix sockets, mask secrets in each, and append
//! them to one sink file.
//!
//! ```text
//! cargo run --release --features tokio --example forward -- \
//!     -f examples/secrets.txt --tcp 127.0.0.1:5140 --unix /tmp/forward.sock --out masked.log
//! ```
//!
//! Each connection is one task, reading through a `MaskingAsyncReader`; all share one
//! `Arc<Secrets>`. Output reaches the sink a line at a time: each connection buffers its
//! masked output up to the last line end and hands whole lines to the one task that writes
//! the sink, so lines of different connections never mix within a line. A line longer than
//! 64 KiB is handed over in 64 KiB pieces (that is the bound on a connection's buffer), and
//! only such a line can be cut by another connection's lines. The last line of a connection
//! that does not end in a line break gets one in the sink.
//!
//! Ctrl-C (or SIGTERM) stops accepting and gives the open connections a grace period
//! (`--grace SECS`, default 1) to end by themselves; their data keeps flowing meanwhile.
//! Then each one still open is ended as if its peer had closed it there (its held-back tail
//! is released, as at any end of stream; bytes not read by then are not forwarded). The
//! sink is flushed, the Unix socket file removed, and the exit status is 0.
//!
//! The test suite includes this file as a module and runs `serve` over loopback sockets.

use std::ffi::OsString;
use std::future::Future;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::pin::Pin;
use std::process::ExitCode;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::{BufMut, Bytes, BytesMut};
use logmask::tokio::MaskingAsyncReader;
use logmask::Secrets;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, UnixListener};
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio_util::sync::{CancellationToken, WaitForCancellationFutureOwned};

/// The longest line handed to the sink in one piece; also the bound on a connection's buffer
/// of masked output.
pub const MAX_LINE: usize = 64 * 1024;

/// How long open connections may go on after Ctrl-C, unless `--grace` says otherwise.
const DEFAULT_GRACE: Duration = Duration::from_secs(1);

/// Batches of lines waiting for the sink; connections wait while it is full.
const SINK_QUEUE: usize = 64;

const USAGE: &str = "usage: forward [-e NAME]... [-f PATH]... [--min-length N] \
                     [--grace SECS] [--tcp ADDR] [--unix PATH] --out FILE";

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

/// A one-line failure report for stderr, with the exit status.
struct Failure(u8, String);

#[tokio::main]
async fn main() -> ExitCode {
    match run(std::env::args_os().skip(1).collect()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure(status, message)) => {
            eprintln!("forward: {message}");
            ExitCode::from(status)
        }
    }
}

/// The command-line options.
struct Options {
    secrets: Secrets,
    grace: Duration,
    tcp: Option<String>,
    unix: Option<PathBuf>,
    out: PathBuf,
}

async fn run(args: Vec<OsString>) -> Result<(), Failure> {
    let options = parse(args).map_err(|message| Failure(2, format!("{message}\n{USAGE}")))?;
    let io_failure = |what: String| move |err: io::Error| Failure(1, format!("{what}: {err}"));

    let sink = tokio::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&options.out)
        .await
        .map_err(io_failure(format!("cannot open {}", options.out.display())))?;
    let mut listeners = Listeners::default();
    if let Some(addr) = &options.tcp {
        let listener = TcpListener::bind(addr)
            .await
            .map_err(io_failure(format!("cannot listen on tcp {addr}")))?;
        let local = listener.local_addr().map_err(io_failure("tcp".into()))?;
        eprintln!("forward: listening on tcp {local}");
        listeners.tcp = Some(listener);
    }
    if let Some(path) = &options.unix {
        // An existing file is not removed: another forwarder may be using it.
        let listener = UnixListener::bind(path).map_err(io_failure(format!(
            "cannot listen on unix {} (remove it if no forwarder uses it)",
            path.display()
        )))?;
        eprintln!("forward: listening on unix {}", path.display());
        listeners.unix = Some(listener);
    }

    let secrets = Arc::new(options.secrets);
    let result = serve(listeners, secrets, sink, shutdown_signal(), options.grace).await;
    if let Some(path) = &options.unix {
        let _ = std::fs::remove_file(path);
    }
    let (_, stats) = result.map_err(io_failure(format!("writing {}", options.out.display())))?;
    eprintln!(
        "forward: stopped after {} connection(s), {} failed",
        stats.connections, stats.failed
    );
    Ok(())
}

/// Parses the arguments and loads the secrets; the error is a one-line message.
fn parse(args: Vec<OsString>) -> Result<Options, String> {
    let mut builder = Secrets::builder();
    let (mut tcp, mut unix, mut out, mut any_secret) = (None, None, None, false);
    let mut grace = DEFAULT_GRACE;
    let mut args = args.into_iter();
    while let Some(flag) = args.next() {
        let flag = flag.to_string_lossy().into_owned();
        let mut value = || args.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "-e" | "--env" => {
                let name = value()?;
                let shown = name.to_string_lossy();
                let secret = std::env::var_os(&name)
                    .ok_or_else(|| format!("environment variable {shown} is not set"))?;
                builder.add_named(format!("env {shown}"), secret.as_bytes());
                any_secret = true;
            }
            "-f" | "--secrets-file" => {
                let path = PathBuf::from(value()?);
                let text = std::fs::read(&path)
                    .map_err(|err| format!("cannot read secrets file {}: {err}", path.display()))?;
                builder.add_lines_named(path.display().to_string(), text);
                any_secret = true;
            }
            "--min-length" => {
                let n = value()?;
                let n = n.to_str().and_then(|n| n.parse().ok());
                builder.min_len(n.ok_or("--min-length needs a number")?);
            }
            "--grace" => {
                let secs = value()?;
                let secs = secs.to_str().and_then(|s| s.parse::<f64>().ok());
                grace = secs
                    .and_then(|s| Duration::try_from_secs_f64(s).ok())
                    .ok_or("--grace needs a number of seconds")?;
            }
            "--tcp" => tcp = Some(value()?.to_string_lossy().into_owned()),
            "--unix" => unix = Some(PathBuf::from(value()?)),
            "-o" | "--out" => out = Some(PathBuf::from(value()?)),
            _ => return Err(format!("unknown argument {flag}")),
        }
    }
    if !any_secret {
        return Err("no secrets given: use -e NAME or -f PATH".into());
    }
    if tcp.is_none() && unix.is_none() {
        return Err("nothing to listen on: use --tcp ADDR and/or --unix PATH".into());
    }
    let out = out.ok_or("no sink: use --out FILE")?;
    let secrets = builder.build().map_err(|err| err.to_string())?;
    Ok(Options {
        secrets,
        grace,
        tcp,
        unix,
        out,
    })
}

/// Completes at the first Ctrl-C (SIGINT) or SIGTERM.
async fn shutdown_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

/// Accepts connections on `listeners` until `shutdown` completes, masks each with `secrets`
/// in a task of its own, and appends the output to `sink` whole lines at a time.
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
    secrets: Arc<Secrets>,
    sink: W,
    shutdown: impl Future<Output = ()>,
    grace: Duration,
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
        let (secrets, lines) = (Arc::clone(&secrets), lines.clone());
        tasks.spawn(async move {
            forward(input, secrets, lines)
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
    secrets: Arc<Secrets>,
    lines: mpsc::Sender<Bytes>,
) -> io::Result<()>
where
    R: AsyncRead + Unpin,
{
    let mut reader = MaskingAsyncReader::new(input, secrets);
    let mut buf = BytesMut::with_capacity(MAX_LINE);
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
            if lines.send(batch.freeze()).await.is_err() {
                return Err(io::Error::other("the sink writer stopped"));
            }
        }
        if !more {
            return read.map(drop);
        }
    }
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
