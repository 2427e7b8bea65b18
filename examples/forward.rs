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
//! SIGHUP reads the secrets (`-e`, `-f`) again and switches every connection to the new set
//! at its next read, through a `logmask::Registry`; a reload that fails (an unset variable,
//! an unreadable file, a file that now holds no secret where it held some, a secret too
//! short) keeps the previous set and says so on stderr. `--tag` prefixes each sink line with
//! its connection's number (`[3] `).
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
use std::path::PathBuf;
use std::pin::Pin;
use std::process::ExitCode;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::{BufMut, Bytes, BytesMut};
use logmask::tokio::MaskingAsyncReader;
use logmask::{Masker, Registry, Secrets, SecretsBuilder};
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
                     [--grace SECS] [--tag] [--tcp ADDR] [--unix PATH] --out FILE";

const HELP: &str = "forward: accept log streams on TCP and/or Unix sockets, mask the secrets in
each, and append them, whole lines at a time, to one sink file.

  -e, --env NAME            mask the value of environment variable NAME (repeatable)
  -f, --secrets-file PATH   mask each line of PATH (repeatable)
      --min-length N        shortest secret accepted (default: 8)
      --tcp ADDR            listen on TCP ADDR (127.0.0.1:5140; port 0: any free port)
      --unix PATH           listen on a Unix socket at PATH (removed at exit)
  -o, --out FILE            the sink, appended to
      --tag                 prefix each sink line with its connection's number: [N]
      --grace SECS          at SIGINT/SIGTERM, how long open connections may go on (1)
  -h, --help                this text

Signals: SIGHUP reads -e and -f again (a failed reload keeps the previous secrets);
SIGINT and SIGTERM stop accepting, end the connections after the grace period, flush
the sink, remove the socket file and exit 0.
Exit status: 0 after SIGINT/SIGTERM or --help, 1 for an I/O error (cannot listen, cannot
write the sink), 2 for bad usage or bad secrets.";

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

/// Where the secrets come from, in the order given.
#[derive(Debug, Clone)]
enum Source {
    Env(OsString),
    File(PathBuf),
}

/// The sources and settings of the secrets, read at start and at each SIGHUP.
#[derive(Debug, Clone)]
struct Sources {
    list: Vec<Source>,
    min_len: usize,
}

impl Sources {
    /// Reads every source into a builder; `before` (each file's secret count at the last
    /// good read) makes a file that now holds none where it held some an error. Returns the
    /// builder and each source's count.
    fn load(&self, before: Option<&[usize]>) -> Result<(SecretsBuilder, Vec<usize>), String> {
        let mut builder = Secrets::builder();
        builder.min_len(self.min_len);
        let mut counts = Vec::with_capacity(self.list.len());
        for (i, source) in self.list.iter().enumerate() {
            let count = match source {
                Source::Env(name) => {
                    builder.add_env(name).map_err(|err| err.to_string())?;
                    1
                }
                Source::File(path) => {
                    // Read once here to count its secrets; `add_reader` names them as
                    // `add_file` would (`PATH line N`).
                    let text = std::fs::read(path).map_err(|err| {
                        format!("cannot read secrets file {}: {err}", path.display())
                    })?;
                    builder
                        .add_reader(path.display().to_string(), &text[..])
                        .map_err(|err| err.to_string())?;
                    count_lines(&text)
                }
            };
            if let (Source::File(path), Some(before)) = (source, before) {
                if count == 0 && before[i] > 0 {
                    return Err(format!(
                        "secrets file {} has no secrets now",
                        path.display()
                    ));
                }
            }
            counts.push(count);
        }
        builder.build().map_err(|err| err.to_string())?;
        Ok((builder, counts))
    }
}

/// The number of secrets in a secrets file's text: its lines that are not blank.
fn count_lines(text: &[u8]) -> usize {
    text.split(|&b| b == b'\n')
        .filter(|line| !line.is_empty() && *line != b"\r")
        .count()
}

/// The command-line options.
struct Options {
    sources: Sources,
    builder: SecretsBuilder,
    counts: Vec<usize>,
    tag: bool,
    grace: Duration,
    tcp: Option<String>,
    unix: Option<PathBuf>,
    out: PathBuf,
}

async fn run(args: Vec<OsString>) -> Result<(), Failure> {
    // Before anything else, so that a SIGHUP during start-up is not fatal.
    let hangups = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
        .map_err(|err| Failure(1, format!("cannot handle SIGHUP: {err}")))?;
    if args.iter().any(|a| a == "-h" || a == "--help") {
        println!("{HELP}");
        return Ok(());
    }
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

    let registry =
        Arc::new(Registry::new(&options.builder).map_err(|err| Failure(2, err.to_string()))?);
    let reloads = tokio::spawn(reload_on_hangup(
        hangups,
        options.sources.clone(),
        options.counts.clone(),
        Arc::clone(&registry),
    ));
    let tag = options.tag;
    let result = serve(
        listeners,
        registry,
        sink,
        shutdown_signal(),
        options.grace,
        tag,
    )
    .await;
    reloads.abort();
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

/// At each SIGHUP, reads the sources again and makes the new set the registry's base; a
/// reload that fails keeps the previous set.
async fn reload_on_hangup(
    mut hangups: tokio::signal::unix::Signal,
    sources: Sources,
    mut counts: Vec<usize>,
    registry: Arc<Registry>,
) {
    while hangups.recv().await.is_some() {
        let loaded = sources.load(Some(&counts)).and_then(|(builder, now)| {
            registry.set_base(builder).map_err(|err| err.to_string())?;
            Ok(now)
        });
        match loaded {
            Ok(now) => {
                let n: usize = now.iter().sum();
                let s = if n == 1 { "" } else { "s" };
                eprintln!("forward: reloaded the secrets: {n} secret{s}");
                counts = now;
            }
            Err(err) => eprintln!("forward: reload failed, keeping the previous secrets: {err}"),
        }
    }
}

/// Parses the arguments and loads the secrets; the error is a one-line message.
fn parse(args: Vec<OsString>) -> Result<Options, String> {
    let mut sources = Sources {
        list: Vec::new(),
        min_len: logmask::DEFAULT_MIN_LEN,
    };
    let (mut tcp, mut unix, mut out, mut tag) = (None, None, None, false);
    let mut grace = DEFAULT_GRACE;
    let mut args = args.into_iter();
    while let Some(flag) = args.next() {
        let flag = flag.to_string_lossy().into_owned();
        let mut value = || args.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "-e" | "--env" => sources.list.push(Source::Env(value()?)),
            "-f" | "--secrets-file" => sources.list.push(Source::File(PathBuf::from(value()?))),
            "--min-length" => {
                let n = value()?;
                let n = n.to_str().and_then(|n| n.parse().ok());
                sources.min_len = n.ok_or("--min-length needs a number")?;
            }
            "--tag" => tag = true,
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
    if sources.list.is_empty() {
        return Err("no secrets given: use -e NAME or -f PATH".into());
    }
    if tcp.is_none() && unix.is_none() {
        return Err("nothing to listen on: use --tcp ADDR and/or --unix PATH".into());
    }
    let out = out.ok_or("no sink: use --out FILE")?;
    let (builder, counts) = sources.load(None)?;
    Ok(Options {
        sources,
        builder,
        counts,
        tag,
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
