//! Descriptor helpers for the pumps: a waiting output, `poll` on an input, its wake-up and
//! the stop, and unbuffered handles on the standard streams.

use std::fs::File;
use std::io::{self, Write};
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use nix::poll::{poll, PollFd, PollFlags, PollTimeout};

/// The bytes a stream read and wrote, for `--stats`; shared by the streams that count into
/// it.
#[derive(Debug, Default)]
pub struct Traffic {
    pub read: AtomicU64,
    pub written: AtomicU64,
}

impl Traffic {
    pub fn add(counter: &AtomicU64, n: usize) {
        counter.fetch_add(n as u64, Ordering::Relaxed);
    }
}

/// An output: a non-blocking one that is full is waited on, never an error.
#[derive(Debug)]
pub struct Out(pub File, pub Arc<Traffic>);

impl Write for Out {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        loop {
            match self.0.write(buf) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    wait(self.0.as_fd(), None, None, PollFlags::POLLOUT)?;
                }
                Ok(n) => {
                    Traffic::add(&self.1.written, n);
                    return Ok(n);
                }
                result => return result,
            }
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Whether `stop` is readable or hung up, without waiting.
pub fn stopped(stop: Option<&UnixStream>) -> bool {
    let Some(stop) = stop else { return false };
    let mut fds = [PollFd::new(stop.as_fd(), PollFlags::POLLIN)];
    matches!(poll(&mut fds, PollTimeout::ZERO), Ok(n) if n > 0)
}

/// Which of `wait`'s descriptors are ready.
pub struct Ready {
    pub input: bool,
    pub woken: bool,
    pub stop: bool,
}

/// Waits until `fd` is ready for `events` (or at its end or in error: the next system call
/// on it tells), `woken` is readable or `stop` is.
pub fn wait(
    fd: BorrowedFd<'_>,
    woken: Option<BorrowedFd<'_>>,
    stop: Option<&UnixStream>,
    events: PollFlags,
) -> io::Result<Ready> {
    let mut fds = vec![PollFd::new(fd, events)];
    let woken_at = woken.map(|w| {
        fds.push(PollFd::new(w, PollFlags::POLLIN));
        fds.len() - 1
    });
    let stop_at = stop.map(|s| {
        fds.push(PollFd::new(s.as_fd(), PollFlags::POLLIN));
        fds.len() - 1
    });
    loop {
        match poll(&mut fds, PollTimeout::NONE) {
            Ok(_) => break,
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    let ready = |at: Option<usize>| at.is_some_and(|k| fds[k].any().unwrap_or(false));
    Ok(Ready {
        input: fds[0].any().unwrap_or(false),
        woken: ready(woken_at),
        stop: ready(stop_at),
    })
}

/// An unbuffered handle on a standard stream: each read and write is one system call.
pub fn raw(fd: BorrowedFd<'_>) -> io::Result<File> {
    Ok(File::from(fd.try_clone_to_owned()?))
}
