//! Filter mode: standard input, or each FILE in order (`-` is standard input), masked onto
//! standard output.

use std::fs::File;
use std::io::{self, Write};
use std::os::fd::AsFd;
use std::path::PathBuf;
use std::sync::Arc;

use logmask::Registry;

use super::fdio::raw;
use super::pump::{pump, Ended, Names, Stream};
use super::stats::Stats;
use super::supervise::{Reloading, Signals, Supervisor};
use super::{Failure, EXIT_IO, EXIT_USAGE};

/// Masks each of `files` (standard input if there are none) onto standard output, each as a
/// stream of its own (a secret is not looked for across the end of one file and the start
/// of the next); SIGHUP reloads the sources. A file that cannot be opened, or read, is
/// reported (by its path) and the others are still masked, as `grep` does.
///
/// Returns 0, or [`EXIT_USAGE`] if a file could not be opened, or else [`EXIT_IO`] if one
/// could not be read.
///
/// # Errors
///
/// An error writing standard output (a reader that went away ends quietly, with 0).
pub fn filter(
    files: &[PathBuf],
    signals: Signals,
    reloading: Reloading,
    inband: bool,
    stats: &Stats,
) -> Result<u8, Failure> {
    let registry: Arc<Registry> = Arc::clone(&reloading.registry);
    let output = raw(io::stdout().as_fd()).map_err(|e| Failure::io("standard output", e))?;
    let supervisor = Supervisor::start(signals, reloading, None);
    let stdin = [PathBuf::from("-")];
    let files = if files.is_empty() { &stdin[..] } else { files };
    let mut status = 0;
    for path in files {
        let (input, names) = match open(path) {
            Ok(opened) => opened,
            Err(failure) => {
                report(&failure);
                status = status.max(failure.status);
                continue;
            }
        };
        let output = output
            .try_clone()
            .map_err(|e| Failure::io("standard output", e))?;
        let stream = Stream {
            input,
            output,
            masker: stats.masker(&registry),
            names,
            traffic: Arc::clone(&stats.traffic),
            eio_is_end: false,
        };
        let result = pump(vec![stream], Arc::clone(&registry), inband, None)
            .pop()
            .expect("one result per stream");
        match result {
            Ok(Ended::ReaderGone) => break,
            Ok(_) => {}
            // Reading this file failed: the next one may be fine.
            Err(failure) if failure.message.starts_with(names.reading) => {
                report(&failure);
                status = status.max(EXIT_IO);
            }
            Err(failure) => {
                supervisor.stop();
                return Err(failure);
            }
        }
    }
    supervisor.stop();
    Ok(status)
}

/// Opens an input and names it for messages.
fn open(path: &PathBuf) -> Result<(File, Names), Failure> {
    if path.as_os_str() == "-" {
        let input = raw(io::stdin().as_fd()).map_err(|e| Failure::io("standard input", e))?;
        let names = Names {
            reading: "reading standard input",
            writing: "writing standard output",
            stream: "stdin",
        };
        return Ok((input, names));
    }
    let shown = path.display();
    let cannot = |e: io::Error| Failure {
        status: EXIT_USAGE,
        message: format!("cannot open {shown}: {e}"),
    };
    let file = File::open(path).map_err(cannot)?;
    if file.metadata().map_err(cannot)?.is_dir() {
        return Err(cannot(io::Error::from_raw_os_error(nix::libc::EISDIR)));
    }
    // Messages and registration origins name the file; a run has few, each named once.
    let leak = |s: String| -> &'static str { Box::leak(s.into_boxed_str()) };
    let names = Names {
        reading: leak(format!("reading {shown}")),
        writing: "writing standard output",
        stream: leak(shown.to_string()),
    };
    Ok((file, names))
}

fn report(failure: &Failure) {
    let _ = writeln!(io::stderr(), "logmask: {}", failure.message);
}
