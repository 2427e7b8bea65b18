//! Wrapper mode: run a command with its standard output and standard error masked.

use std::ffi::OsString;
use std::io;
use std::os::fd::AsFd;
use std::os::unix::process::ExitStatusExt;
use std::process::{Command, ExitCode, ExitStatus, Stdio};
use std::sync::Arc;
use std::thread;

use logmask::Registry;

use super::pump::{pump, raw, Names};
use super::sources::Sources;
use super::supervise::{Signals, Supervisor};
use super::{Failure, EXIT_CANNOT_RUN, EXIT_NOT_FOUND};

/// Runs `command` (program and arguments) with standard input passed through and each of its
/// output streams masked onto ours by a masker of its own, both following `registry`.
/// SIGINT and SIGTERM go on to the command, SIGHUP reloads `sources`.
///
/// Returns the command's exit status, or 128 + the signal number that killed it.
///
/// # Errors
///
/// The command cannot be started (127 if it is not found, 126 otherwise), or an I/O error
/// on our side (reported once the command has exited).
pub fn wrap(
    command: &[OsString],
    registry: Arc<Registry>,
    sources: Sources,
) -> Result<ExitCode, Failure> {
    let (program, args) = command.split_first().expect("clap requires a command");
    let out = raw(io::stdout().as_fd()).map_err(|e| Failure::io("standard output", e))?;
    let err = raw(io::stderr().as_fd()).map_err(|e| Failure::io("standard error", e))?;
    let signals = Signals::register(true)?;
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::inherit())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| cannot_run(program, e))?;
    let child_out = child.stdout.take().expect("stdout is piped");
    let child_err = child.stderr.take().expect("stderr is piped");
    let supervisor = Supervisor::start(signals, Arc::clone(&registry), sources, Some(child));

    let err_masker = registry.masker();
    let err_thread = thread::spawn(move || {
        let names = Names {
            reading: "reading the command's standard error",
            writing: "writing standard error",
        };
        pump(child_err, err, err_masker, names)
    });
    let names = Names {
        reading: "reading the command's standard output",
        writing: "writing standard output",
    };
    let out_result = pump(child_out, out, registry.masker(), names);
    let err_result = err_thread
        .join()
        .expect("the standard error thread does not panic");
    let status = supervisor.wait();
    supervisor.stop();
    out_result?;
    err_result?;
    Ok(ExitCode::from(exit_status(status?)))
}

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
