//! Copies one stream through a masker, promptly.

use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, BorrowedFd};
use std::sync::Arc;

use logmask::{Masker, Registry};
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};

use super::inband::{Event, Recogniser};
use super::Failure;

/// The size of each read.
const CHUNK: usize = 256 * 1024;
/// The alignment of the read buffer.
const PAGE: usize = 4096;

/// What a stream is called in error messages.
#[derive(Clone, Copy, Debug)]
pub struct Names {
    /// e.g. `reading standard input`.
    pub reading: &'static str,
    /// e.g. `writing standard output`.
    pub writing: &'static str,
    /// The stream in registration messages and job ids, e.g. `stdout`.
    pub stream: &'static str,
}

/// How a pump ended without an error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ended {
    /// At the end of the input.
    Eof,
    /// The reader of the output went away.
    ReaderGone,
    /// The stop descriptor became readable or hung up.
    Stopped,
}

/// In-band registration for one stream: its recogniser and where to register.
pub struct Inband {
    recogniser: Recogniser,
    registry: Arc<Registry>,
}

impl Inband {
    /// Registers the values of the stream's registration lines in `registry`.
    pub fn new(registry: Arc<Registry>) -> Inband {
        Inband {
            recogniser: Recogniser::default(),
            registry,
        }
    }
}

/// Masks `input` onto `output` until the end of `input`, or until `stop` is readable.
///
/// Each read's final output is written at once, piece by piece straight from the read buffer
/// (one write for a chunk with nothing to mask): a line that cannot begin a secret reaches
/// `output` before the next read. If the reader of `output` went away (`EPIPE`), the copy
/// ends quietly and `input` is dropped, so a command writing to it sees the same broken pipe
/// it would see without us. A non-blocking `input` or `output` is waited on with `poll`.
///
/// With `inband`, each registration line is swallowed and its value registered before any
/// byte after it is masked: the bytes before the line are masked first, then the value is
/// added, then the masker (which follows the registry) judges what it holds and what follows
/// against the new set.
///
/// When `stop` becomes readable (or its writer hangs up), the masker's tail is written and
/// the pump ends with [`Ended::Stopped`].
///
/// # Errors
///
/// Any other error reading `input` or writing `output`.
pub fn pump(
    mut input: File,
    mut output: File,
    mut masker: Masker,
    names: Names,
    stop: Option<BorrowedFd<'_>>,
    mut inband: Option<Inband>,
) -> Result<Ended, Failure> {
    let mut storage = vec![0; CHUNK + PAGE];
    let buf = page_aligned(&mut storage);
    let ended = loop {
        if let Some(stop) = stop {
            if wait(input.as_fd(), Some(stop), PollFlags::POLLIN)
                .map_err(|e| Failure::io(names.reading, e))?
            {
                break Ended::Stopped;
            }
        }
        let n = match input.read(buf) {
            Ok(0) => break Ended::Eof,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                if wait(input.as_fd(), stop, PollFlags::POLLIN)
                    .map_err(|e| Failure::io(names.reading, e))?
                {
                    break Ended::Stopped;
                }
                continue;
            }
            Err(e) => return Err(Failure::io(names.reading, e)),
        };
        let mut result = Ok(());
        match &mut inband {
            None => masker.mask(&buf[..n], |piece| {
                write(&mut output, piece.as_ref(), &mut result)
            }),
            Some(inband) => {
                let registry = &inband.registry;
                inband.recogniser.feed(&buf[..n], |event| {
                    on_event(
                        event,
                        &mut masker,
                        registry,
                        names,
                        &mut output,
                        &mut result,
                    )
                });
            }
        }
        if !settle(result, names)? {
            return Ok(Ended::ReaderGone);
        }
    };
    let mut result = Ok(());
    if let Some(inband) = &mut inband {
        let registry = &inband.registry;
        inband.recogniser.finish(|event| {
            on_event(
                event,
                &mut masker,
                registry,
                names,
                &mut output,
                &mut result,
            )
        });
    }
    masker.finish(|piece| write(&mut output, piece.as_ref(), &mut result));
    Ok(if settle(result, names)? {
        ended
    } else {
        Ended::ReaderGone
    })
}

/// Masks a text run, or registers a command line's value (saying on stderr, never with the
/// value, why one is refused).
fn on_event(
    event: Event<'_>,
    masker: &mut Masker,
    registry: &Registry,
    names: Names,
    output: &mut File,
    result: &mut io::Result<()>,
) {
    match event {
        Event::Text(text) => masker.mask(text, |piece| write(output, piece.as_ref(), result)),
        Event::Register { value, line } => {
            if let Err(err) = registry.add(format!("{} line {line}", names.stream), [value]) {
                let _ = writeln!(
                    io::stderr(),
                    "logmask: {} line {line}: registration refused (the line is not shown): {err}",
                    names.stream
                );
            }
        }
        Event::Overlong { line } => {
            let _ = writeln!(
                io::stderr(),
                "logmask: {} line {line}: registration refused (the line is not shown): longer than {} bytes",
                names.stream,
                super::inband::MAX_LINE
            );
        }
    }
}

/// Writes `piece` unless an earlier piece failed; keeps the first error in `result`. A
/// non-blocking `output` that is full is waited on.
fn write(output: &mut File, mut piece: &[u8], result: &mut io::Result<()>) {
    while result.is_ok() && !piece.is_empty() {
        match output.write(piece) {
            Ok(0) => *result = Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => piece = &piece[n..],
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                if let Err(e) = wait(output.as_fd(), None, PollFlags::POLLOUT) {
                    *result = Err(e);
                }
            }
            Err(e) => *result = Err(e),
        }
    }
}

/// Waits until `fd` is ready for `events` (or at its end or in error: the next system call
/// on it tells) or `stop` is readable. Returns whether `stop` is.
fn wait(fd: BorrowedFd<'_>, stop: Option<BorrowedFd<'_>>, events: PollFlags) -> io::Result<bool> {
    loop {
        let mut fds = [PollFd::new(fd, events), PollFd::new(fd, PollFlags::empty())];
        let n = match stop {
            Some(stop) => {
                fds[1] = PollFd::new(stop, PollFlags::POLLIN);
                2
            }
            None => 1,
        };
        match poll(&mut fds[..n], PollTimeout::NONE) {
            Ok(_) => return Ok(n == 2 && fds[1].any().unwrap_or(false)),
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => return Err(e.into()),
        }
    }
}

/// `Ok(false)` if the reader went away, `Ok(true)` if all was written.
fn settle(result: io::Result<()>, names: Names) -> Result<bool, Failure> {
    match result {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(false),
        Err(e) => Err(Failure::io(names.writing, e)),
    }
}

/// The start of `storage` rounded up to a page boundary: the kernel copies into a
/// page-aligned buffer about twice as fast as into a misaligned one.
fn page_aligned(storage: &mut [u8]) -> &mut [u8] {
    let skip = storage.as_ptr().align_offset(PAGE);
    &mut storage[skip..skip + CHUNK]
}

/// An unbuffered handle on a standard stream: each read and write is one system call.
pub fn raw(fd: BorrowedFd<'_>) -> io::Result<File> {
    Ok(File::from(fd.try_clone_to_owned()?))
}
