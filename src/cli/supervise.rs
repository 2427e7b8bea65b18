//! The signal thread: reloads the secrets on SIGHUP and, in wrapper mode, forwards SIGINT and
//! SIGTERM to the command and reaps it (once the command has exited, SIGINT and SIGTERM stop
//! the pumps), and passes our window size on to its pseudo-terminal at SIGWINCH.

use std::fs::File;
use std::io::{self, Write};
use std::os::unix::net::UnixStream;
use std::process::{Child, ExitStatus};
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::Arc;
use std::thread::{self, JoinHandle};

use logmask::Registry;
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use signal_hook::consts::{SIGCHLD, SIGHUP, SIGINT, SIGTERM, SIGWINCH};
use signal_hook::iterator::exfiltrator::WithOrigin;
use signal_hook::iterator::{Handle, SignalsInfo};
use signal_hook::low_level::siginfo::{Cause, Origin};

use super::sources::{Loaded, Sources};
use super::{pty, Failure};

/// The signals we handle, registered before the first compile and before the command starts,
/// so that none is missed: a signal that comes before the signal thread runs waits for it.
pub struct Signals(SignalsInfo<WithOrigin>);

impl Signals {
    /// Handles SIGHUP; with `command`, SIGINT, SIGTERM and SIGCHLD too.
    ///
    /// # Errors
    ///
    /// The handlers could not be installed.
    pub fn register(command: bool) -> Result<Signals, Failure> {
        let signals: &[i32] = if command {
            &[SIGHUP, SIGINT, SIGTERM, SIGCHLD]
        } else {
            &[SIGHUP]
        };
        SignalsInfo::new(signals)
            .map(Signals)
            .map_err(|e| Failure::io("installing signal handlers", e))
    }

    /// Handles SIGWINCH too (for `--pty`): registered before the pseudo-terminal copies our
    /// window size, so that no resize after the copy is missed.
    ///
    /// # Errors
    ///
    /// The handler could not be installed.
    pub fn add_window_changes(&self) -> Result<(), Failure> {
        self.0
            .add_signal(SIGWINCH)
            .map_err(|e| Failure::io("installing signal handlers", e))
    }
}

/// What the signal thread reloads from.
pub struct Reloading {
    pub registry: Arc<Registry>,
    pub sources: Sources,
    /// What the first read gave.
    pub loaded: Loaded,
    /// No line for a successful reload.
    pub quiet: bool,
}

/// The command the signal thread watches.
pub struct Wrapped {
    pub child: Child,
    /// The peer of the pumps' stop descriptor: dropped to stop them.
    pub stop: UnixStream,
    /// With `--pty`, the master of the command's pseudo-terminal, resized at SIGWINCH.
    pub terminal: Option<File>,
}

/// The running signal thread.
pub struct Supervisor {
    handle: Handle,
    thread: JoinHandle<()>,
    /// The command's exit status, once it has exited.
    status: Receiver<io::Result<ExitStatus>>,
    /// The signal that stopped the pumps after the command exited, or 0.
    stopped: Arc<AtomicI32>,
}

impl Supervisor {
    /// Starts the signal thread: each SIGHUP reloads the sources into the registry; with
    /// `wrapped`, SIGINT and SIGTERM are forwarded to its command and the command is reaped
    /// when it exits, after that they hang up its `stop`; each SIGWINCH resizes its
    /// `terminal` to ours.
    pub fn start(signals: Signals, reloading: Reloading, wrapped: Option<Wrapped>) -> Supervisor {
        let handle = signals.0.handle();
        let (send, status) = mpsc::channel();
        let stopped = Arc::new(AtomicI32::new(0));
        let (child, stop, terminal) = match wrapped {
            Some(w) => (Some(w.child), Some(w.stop), w.terminal),
            None => (None, None, None),
        };
        let watch = Watch {
            reloading,
            child,
            status: send,
            stop,
            terminal,
            stopped: Arc::clone(&stopped),
        };
        let thread = thread::spawn(move || watch.run(signals.0));
        Supervisor {
            handle,
            thread,
            status,
            stopped,
        }
    }

    /// The signal (SIGINT or SIGTERM) that stopped the pumps after the command exited.
    pub fn stopped_by(&self) -> Option<i32> {
        match self.stopped.load(Ordering::SeqCst) {
            0 => None,
            signal => Some(signal),
        }
    }

    /// Waits for the command to exit and returns its status.
    ///
    /// # Errors
    ///
    /// Its status could not be read.
    pub fn wait(&self) -> Result<ExitStatus, Failure> {
        match self.status.recv() {
            Ok(status) => status.map_err(|e| Failure::io("waiting for the command", e)),
            Err(_) => Err(Failure::io(
                "waiting for the command",
                io::Error::other("the signal thread ended"),
            )),
        }
    }

    /// Stops handling signals and ends the thread.
    pub fn stop(self) {
        self.handle.close();
        // The thread only ends by `close`; a panic in it was already reported on stderr.
        let _ = self.thread.join();
    }
}

/// The signal thread's state.
struct Watch {
    reloading: Reloading,
    /// The command while it runs (not yet reaped).
    child: Option<Child>,
    status: Sender<io::Result<ExitStatus>>,
    /// Dropped to stop the pumps.
    stop: Option<UnixStream>,
    /// The command's pseudo-terminal (its master), with `--pty`.
    terminal: Option<File>,
    stopped: Arc<AtomicI32>,
}

impl Watch {
    fn run(mut self, mut signals: SignalsInfo<WithOrigin>) {
        // It may have exited before the thread started.
        self.reap();
        for origin in signals.forever() {
            match origin.signal {
                SIGHUP => self.reload(),
                SIGCHLD => self.reap(),
                SIGINT | SIGTERM => self.forward(&origin),
                SIGWINCH => self.resize(),
                _ => {}
            }
        }
    }

    /// Re-reads the secrets; a reload that fails keeps the old set and says so, a source
    /// that keeps its previous secrets says so, a reload that succeeds says how many secrets
    /// it has (unless quiet). No line holds a value.
    fn reload(&mut self) {
        let r = &mut self.reloading;
        let result = r.sources.reload(&r.loaded).and_then(|(reload, loaded)| {
            r.registry
                .set_base(reload.builder)
                .map_err(|err| Failure::usage(err.to_string()))?;
            r.loaded = loaded;
            Ok((reload.warnings, reload.count, reload.kept))
        });
        let mut stderr = io::stderr().lock();
        match result {
            Ok((warnings, count, kept)) => {
                for warning in &warnings {
                    let _ = writeln!(stderr, "logmask: reload: {warning}");
                }
                if !r.quiet {
                    let kept = if kept.is_empty() {
                        String::new()
                    } else {
                        format!(
                            " ({} read once at start: not a regular file)",
                            kept.join(", ")
                        )
                    };
                    let _ = writeln!(
                        stderr,
                        "logmask: reloaded the secrets: {count} secret{}{kept}",
                        if count == 1 { "" } else { "s" }
                    );
                }
            }
            Err(failure) => {
                let _ = writeln!(
                    stderr,
                    "logmask: reload failed, keeping the previous secrets: {}",
                    failure.message
                );
            }
        }
    }

    /// Sends the signal on to the command, unless the terminal sent it: a terminal signals
    /// its whole foreground process group, the command included, and a second copy could
    /// make it act twice. Once the command has exited, the signal stops the pumps instead
    /// (whoever sent it): a background process holding the command's output open must not
    /// keep us alive.
    fn forward(&mut self, origin: &Origin) {
        self.reap();
        let Some(child) = &self.child else {
            if let Some(stop) = self.stop.take() {
                self.stopped.store(origin.signal, Ordering::SeqCst);
                drop(stop);
            }
            return;
        };
        if origin.cause == Cause::Kernel {
            return;
        }
        // The child is not reaped until this thread reaps it, so its pid is still its own.
        let pid = Pid::from_raw(child.id() as i32);
        if let Ok(signal) = Signal::try_from(origin.signal) {
            let _ = kill(pid, signal);
        }
    }

    /// Gives the command's pseudo-terminal our window size (the kernel signals SIGWINCH to
    /// its foreground process group if the size changed). A failure is said once per signal
    /// and changes nothing else: the command goes on with the old size.
    fn resize(&mut self) {
        let Some(terminal) = &self.terminal else {
            return;
        };
        if let Err(err) = pty::resize(terminal) {
            let _ = writeln!(
                io::stderr(),
                "logmask: passing the window size on to the command's terminal: {err}"
            );
        }
    }

    /// Reaps the command if it has exited and reports its status.
    fn reap(&mut self) {
        let Some(child) = &mut self.child else { return };
        let status = match child.try_wait() {
            Ok(None) => return,
            Ok(Some(status)) => Ok(status),
            Err(e) => Err(e),
        };
        self.child = None;
        let _ = self.status.send(status);
    }
}
