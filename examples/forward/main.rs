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
//! `serve.rs` accepts and masks the connections, `options.rs` reads the command line and the
//! secrets; the test suite includes `serve.rs` as a module and runs `serve` over loopback
//! sockets.

mod options;
mod serve;

use std::ffi::OsString;
use std::io;
use std::process::ExitCode;
use std::sync::Arc;

use logmask::Registry;
use tokio::net::{TcpListener, UnixListener};

use options::{parse, Sources, HELP, USAGE};
use serve::{serve, Listeners};

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
