//! Wrapper mode: run a command with its standard output and standard error masked.

use std::ffi::OsString;
use std::fs::File;
use std::io;
use std::os::fd::AsFd;
use std::os::unix::net::UnixStream;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::Arc;

use logmask::Registry;

use super::fdio::raw;
use super::pump::{pump, Ended, Names, Stream};
use super::socket::{self, Listener};
use super::stats::Stats;
use super::supervise::{Reloading, Signals, Supervisor, Wrapped};
use super::{pty, Failure, EXIT_CANNOT_RUN, EXIT_NOT_FOUND};

/// How to run the command.
pub struct Options {
    /// Recognise registration lines in both streams.
    pub inband: bool,
    /// Both output streams on a pseudo-terminal, masked onto our standard output.
    pub pty: bool,
}

/// Runs `command` (program and arguments) with standard input passed through and each of its
/// output streams masked onto ours by a masker of its own, both following the registry.
/// SIGINT and SIGTERM go on to the command, SIGHUP reloads the sources; once the command has
/// exited, SIGINT and SIGTERM end the pumps.
///
/// With `options.pty`, the command's standard output and standard error are one
/// pseudo-terminal, masked onto our standard output, and SIGWINCH passes our window size on
/// to it.
///
/// Returns the command's exit status, or 128 + the signal number that killed it, or
/// 128 + the number of the signal that stopped us after it exited.
///
/// # Errors
///
/// The command cannot be started (127 if it is not found, 126 otherwise), or an I/O error
/// on our side (reported once the command has exited).
pub fn wrap(
    command: &[OsString],
    signals: Signals,
    reloading: Reloading,
    options: Options,
    stats: &Stats,
) -> Result<u8, Failure> {
    let (program, args) = command.split_first().expect("clap requires a command");
    let registry = Arc::clone(&reloading.registry);
    let out = raw(io::stdout().as_fd()).map_err(|e| Failure::io("standard output", e))?;
    let (stop_here, stop) = UnixStream::pair().map_err(|e| Failure::io("starting", e))?;
    let listener = Listener::start(Arc::clone(&registry))?;
    let mut cmd = Command::new(program);
    cmd.args(args)
        .env(socket::ENV, listener.path())
        .stdin(Stdio::inherit());
    let terminal = if options.pty {
        signals.add_window_changes()?;
        let (master, slave) = pty::open()?;
        pty::attach(&mut cmd, &slave)?;
        Ok(master)
    } else {
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        Err(raw(io::stderr().as_fd()).map_err(|e| Failure::io("standard error", e))?)
    };
    die_with_us(&mut cmd);
    // Spawned by this thread, which lives until we exit: the parent-death signal follows the
    // thread that forked, not the process.
    let mut child = cmd.spawn().map_err(|e| cannot_run(program, e))?;
    // `cmd` holds the slave's descriptors: dropped, the master reads EIO once the command
    // (and whatever it started) has closed the slave.
    drop(cmd);
    let resized = match &terminal {
        Ok(master) => Some(
            master
                .try_clone()
                .map_err(|e| Failure::io("opening a pseudo-terminal", e))?,
        ),
        Err(_) => None,
    };
    let streams = match terminal {
        Ok(master) => vec![Stream {
            input: master,
            output: out,
            masker: stats.masker(&registry),
            names: Names {
                reading: "reading the command's terminal",
                writing: "writing standard output",
                stream: "tty",
            },
            traffic: Arc::clone(&stats.traffic),
            eio_is_end: true,
        }],
        Err(err) => {
            let child_out = nonblocking(child.stdout.take().expect("stdout is piped"))?;
            let child_err = nonblocking(child.stderr.take().expect("stderr is piped"))?;
            piped(child_out, child_err, out, err, &registry, stats)
        }
    };
    let wrapped = Wrapped {
        child,
        stop,
        terminal: resized,
    };
    let supervisor = Supervisor::start(signals, reloading, Some(wrapped));
    let results = pump(streams, registry, options.inband, Some(&stop_here));
    // No registration after the streams ended; the socket's directory goes.
    drop(listener);
    if let Some(signal) = supervisor.stopped_by() {
        supervisor.stop();
        for result in results {
            result?;
        }
        return Ok((128 + signal) as u8);
    }
    let status = supervisor.wait();
    supervisor.stop();
    for result in results {
        debug_assert!(!matches!(result, Ok(Ended::Stopped)));
        result?;
    }
    Ok(exit_status(status?))
}

/// The command's two output pipes, each masked onto ours.
fn piped(
    child_out: File,
    child_err: File,
    out: File,
    err: File,
    registry: &Registry,
    stats: &Stats,
) -> Vec<Stream> {
    vec![
        Stream {
            input: child_out,
            output: out,
            masker: stats.masker(registry),
            names: Names {
                reading: "reading the command's standard output",
                writing: "writing standard output",
                stream: "stdout",
            },
            traffic: Arc::clone(&stats.traffic),
            eio_is_end: false,
        },
        Stream {
            input: child_err,
            output: err,
            masker: stats.masker(registry),
            names: Names {
                reading: "reading the command's standard error",
                writing: "writing standard error",
                stream: "stderr",
            },
            traffic: Arc::clone(&stats.traffic),
            eio_is_end: false,
        },
    ]
}

/// Our end of one of the command's output pipes, non-blocking: the pumps read it under a
/// lock (see `pump`), which a read must not hold while it waits.
fn nonblocking(end: impl Into<std::os::fd::OwnedFd>) -> Result<File, Failure> {
    use nix::fcntl::{fcntl, FcntlArg, OFlag};
    let file = File::from(end.into());
    let failed = |e: nix::errno::Errno| Failure::io("starting", e.into());
    let flags = OFlag::from_bits_truncate(fcntl(&file, FcntlArg::F_GETFL).map_err(failed)?);
    fcntl(&file, FcntlArg::F_SETFL(flags | OFlag::O_NONBLOCK)).map_err(failed)?;
    Ok(file)
}

/// Linux: the command gets SIGKILL when we die (`PR_SET_PDEATHSIG`), so that it never runs
/// on with nobody masking what it writes. SIGKILL rather than SIGTERM: a command that traps
/// SIGTERM could go on writing (to a file, a terminal, a socket) unmasked. If we died between
/// the fork and the `prctl`, the command is not started at all.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn die_with_us(cmd: &mut Command) {
    let parent = nix::unistd::getpid();
    // SAFETY: the closure makes only async-signal-safe system calls (prctl, getppid) and
    // allocates nothing.
    unsafe {
        cmd.pre_exec(move || {
            nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGKILL)?;
            if nix::unistd::getppid() != parent {
                return Err(io::Error::from_raw_os_error(nix::libc::ESRCH));
            }
            Ok(())
        });
    }
}

/// Elsewhere there is no parent-death signal: see the README.
#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn die_with_us(_cmd: &mut Command) {}

/// Our exit status for the command's: its own, or 128 + the signal that killed it.
fn exit_status(status: ExitStatus) -> u8 {
    match (status.code(), status.signal()) {
        // Exit statuses are 0..=255; the cast keeps the low byte, as the shell does.
        (Some(code), _) => code as u8,
        (None, Some(signal)) => (128 + signal) as u8,
        (None, None) => super::EXIT_IO,
    }
}

/// The failure for a command that cannot be started, with a shell's exit status.
fn cannot_run(program: &OsString, err: io::Error) -> Failure {
    let status = if err.kind() == io::ErrorKind::NotFound {
        EXIT_NOT_FOUND
    } else {
        EXIT_CANNOT_RUN
    };
    Failure {
        status,
        message: format!("cannot run {}: {err}", program.to_string_lossy()),
    }
}
