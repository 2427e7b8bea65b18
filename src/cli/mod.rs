//! The parts of the `logmask` binary: where secrets come from, pumping a stream through a
//! masker, running a command, and handling signals.

pub mod args;
pub mod fdio;
pub mod files;
pub mod inband;
pub mod pty;
pub mod pump;
pub mod scrub;
pub mod socket;
pub mod sources;
pub mod stats;
pub mod supervise;
pub mod wrap;

use std::io;
use std::sync::atomic::{AtomicU8, Ordering};

/// Exit status for an I/O error.
pub const EXIT_IO: u8 = 1;
/// Exit status for bad usage or bad secrets.
pub const EXIT_USAGE: u8 = 2;
/// Exit status for a command that exists but cannot be run, as a shell gives.
pub const EXIT_CANNOT_RUN: u8 = 126;
/// Exit status for a command that is not found, as a shell gives.
pub const EXIT_NOT_FOUND: u8 = 127;

/// Why the program stops early: the message for stderr and the exit status.
#[derive(Debug)]
pub struct Failure {
    pub status: u8,
    pub message: String,
}

impl Failure {
    /// Bad usage or bad secrets.
    pub fn usage(message: impl Into<String>) -> Self {
        Failure {
            status: EXIT_USAGE,
            message: message.into(),
        }
    }

    /// An I/O error while doing `what`.
    pub fn io(what: &str, err: io::Error) -> Self {
        Failure {
            status: EXIT_IO,
            message: format!("{what}: {err}"),
        }
    }
}

/// Bit `n` set: standard descriptor `n` (0, 1, 2) was closed when the process started.
static CLOSED_AT_START: AtomicU8 = AtomicU8::new(0);

/// Notes which standard descriptors are closed, before the Rust runtime opens `/dev/null` on
/// them (it does, before `main`, so that a closed descriptor is never reused by accident):
/// after that, `>&-` would look like `>/dev/null` and the output would be lost without a
/// word. The dynamic loader runs `.init_array` functions before the runtime's own start-up.
#[cfg(any(target_os = "linux", target_os = "android"))]
#[used]
#[link_section = ".init_array"]
static NOTE_CLOSED: extern "C" fn() = {
    extern "C" fn note_closed() {
        let mut closed = 0;
        for fd in 0..3 {
            // SAFETY: F_GETFD on any number is harmless; it fails with EBADF if closed.
            if unsafe { nix::libc::fcntl(fd, nix::libc::F_GETFD) } == -1 {
                closed |= 1 << fd;
            }
        }
        CLOSED_AT_START.store(closed, Ordering::SeqCst);
    }
    note_closed
};

/// Whether standard descriptor `fd` (0, 1 or 2) was closed when the process started (always
/// false where that cannot be told).
pub fn closed_at_start(fd: u8) -> bool {
    CLOSED_AT_START.load(Ordering::SeqCst) & (1 << fd) != 0
}

/// The failure for a standard output (or error) that was closed at start: an I/O error, not
/// a quiet end, since everything written would be lost.
pub fn check_open(fd: u8, name: &str) -> Result<(), Failure> {
    if closed_at_start(fd) {
        return Err(Failure::io(
            name,
            io::Error::from_raw_os_error(nix::libc::EBADF),
        ));
    }
    Ok(())
}
