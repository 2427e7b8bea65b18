//! The parts of the `logmask` binary: where secrets come from, pumping a stream through a
//! masker, running a command, and handling signals.

pub mod pump;
pub mod sources;
pub mod supervise;
pub mod wrap;

use std::io;

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
