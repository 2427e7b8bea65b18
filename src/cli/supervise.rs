//! The signal thread: reloads the secrets on SIGHUP and, in wrapper mode, forwards SIGINT and
//! SIGTERM to the command and reaps it.

use std::io::{self, Write};
use std::process::{Child, ExitStatus};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::Arc;
use std::thread::{self, JoinHandle};

use logmask::Registry;
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use signal_hook::consts::{SIGCHLD, SIGHUP, SIGINT, SIGTERM};
use signal_hook::iterator::exfiltrator::WithOrigin;
use signal_hook::iterator::{Handle, SignalsInfo};
use signal_hook::low_level::siginfo::{Cause, Origin};

use super::sources::Sources;
use super::Failure;

/// The signals we handle, registered before the command starts so that none is missed.
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
}

/// The running signal thread.
pub struct Supervisor {
    handle: Handle,
    thread: JoinHandle<()>,
    /// The command's exit status, once it has exited.
    status: Receiver<io::Result<ExitStatus>>,
}

impl Supervisor {
    /// Starts the signal thread: each SIGHUP reloads `sources` into `registry`; with `child`,
    /// SIGINT and SIGTERM are forwarded to it and it is reaped when it exits.
    pub fn start(
        signals: Signals,
        registry: Arc<Registry>,
        sources: Sources,
        child: Option<Child>,
    ) -> Supervisor {
        let handle = signals.0.handle();
        let (send, status) = mpsc::channel();
        let thread = thread::spawn(move || {
            Watch {
                registry,
                sources,
                child,
                status: send,
            }
            .run(signals.0)
        });
        Supervisor {
            handle,
            thread,
            status,
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
    registry: Arc<Registry>,
    sources: Sources,
    /// The command while it runs (not yet reaped).
    child: Option<Child>,
    status: Sender<io::Result<ExitStatus>>,
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
                _ => {}
            }
        }
    }

    /// Re-reads the secrets; a reload that fails keeps the old set and says so.
    fn reload(&self) {
        let result = self.sources.load().and_then(|base| {
            self.registry
                .set_base(base)
                .map_err(|err| Failure::usage(err.to_string()))
        });
        if let Err(failure) = result {
            let _ = writeln!(
                io::stderr(),
                "logmask: reload failed, keeping the previous secrets: {}",
                failure.message
            );
        }
    }

    /// Sends the signal on to the command, unless the terminal sent it: a terminal signals
    /// its whole foreground process group, the command included, and a second copy could
    /// make it act twice.
    fn forward(&self, origin: &Origin) {
        let Some(child) = &self.child else { return };
        if origin.cause == Cause::Kernel {
            return;
        }
        // The child is not reaped until this thread reaps it, so its pid is still its own.
        let pid = Pid::from_raw(child.id() as i32);
        if let Ok(signal) = Signal::try_from(origin.signal) {
            let _ = kill(pid, signal);
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
