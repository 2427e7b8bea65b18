//! Copies the streams through their maskers, promptly, with in-band registration ordered
//! across streams.
//!
//! Each stream has a thread of its own that masks and writes it, so a slow reader of one
//! output does not hold up the other. All reads of the inputs happen under one lock, and each
//! read's registration lines are registered before the lock is released. The ordering rule:
//! **a thread masks text only after it found every other input empty (or ended), under the
//! lock, after that text was read.** It finds that out by draining the others without
//! blocking; what it drains waits, in order, in that stream's queue for its own thread. So
//! a registration line that the command wrote to one stream before it wrote the value to
//! the other was read, and registered, before the value is judged, whichever thread read
//! what first.
//!
//! | a stream's thread finds      | it                                                   |
//! | ---                          | ---                                                  |
//! | text in its queue            | drains the others; if all were empty, takes its queue, masks it, writes it; else yields and retries |
//! | an empty queue, input open   | polls its input, its wake-up and the stop; reads once, drains the others, masks what it read (or queues it if another was not empty) |
//! | an empty queue, at the end   | finishes its masker: done                             |
//!
//! Memory is bounded: before a thread reads its own input, it waits until each other queue
//! is under [`QUEUED`] bytes (never while text waits in its own queue, so two threads never
//! wait on each other), and a drain reads at most [`DRAIN`] bytes of a stream. Without
//! in-band registration nothing is drained: each thread reads only its own input.
//!
//! A lone stream from a regular file that nothing stops (filter mode) has no other input to
//! order against: the file is read ahead on a second thread instead, the search on one core
//! and the copy out of the kernel on the other (`ahead`).

mod ahead;
mod intake;

use std::fs::File;
use std::io::{self, Read, Write};
use std::mem;
use std::os::fd::AsFd;
use std::os::unix::net::UnixStream;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread;

use logmask::{Masker, MaskingWriter, Registry};
use nix::poll::PollFlags;

use super::fdio::{stopped, wait, Out, Traffic};
use super::inband::Recogniser;
use super::Failure;

/// The size of each read.
pub const CHUNK: usize = 256 * 1024;
/// The alignment of the read buffer.
pub const PAGE: usize = 4096;
/// A queue this long makes the other threads wait before they drain more into it.
const QUEUED: usize = 1 << 20;
/// The most one drain reads from another stream: more than a pipe holds (1 MiB at most by
/// default on Linux), so a drain empties it of what was written before.
const DRAIN: usize = 2 << 20;

/// What a stream is called in messages.
#[derive(Clone, Copy, Debug)]
pub struct Names {
    /// e.g. `reading standard input`.
    pub reading: &'static str,
    /// e.g. `writing standard output`.
    pub writing: &'static str,
    /// The stream in registration messages and job ids, e.g. `stdout`.
    pub stream: &'static str,
}

/// How a stream ended without an error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ended {
    /// At the end of the input.
    Eof,
    /// The reader of the output went away.
    ReaderGone,
    /// The stop descriptor became readable or hung up.
    Stopped,
}

/// One stream to mask.
pub struct Stream {
    /// Non-blocking unless it is the only stream.
    pub input: File,
    pub output: File,
    pub masker: Masker,
    pub names: Names,
    /// Counts the bytes read and written.
    pub traffic: Arc<Traffic>,
    /// `EIO` reading the input is its end: a pseudo-terminal's master once the last
    /// descriptor of its slave is closed.
    pub eio_is_end: bool,
}

/// A stream's shared part: its input, what was read from it and not yet masked.
struct Side {
    /// `None` once its thread ended: nobody reads it any more (a command writing to it gets
    /// a broken pipe, as it would without us).
    input: Option<Arc<File>>,
    /// Recognised bytes (registration lines taken out) waiting for the stream's thread.
    text: Vec<u8>,
    /// The registration lines of this stream, unless in-band registration is off.
    recogniser: Option<Recogniser>,
    /// The input's end was read (the recogniser is finished then).
    eof: bool,
    /// An error reading the input, for the stream's thread to report.
    error: Option<io::Error>,
    /// Written to when another thread queued text, an end or an error.
    wake: UnixStream,
    names: Names,
    traffic: Arc<Traffic>,
    eio_is_end: bool,
}

/// Everything the threads share.
struct Shared {
    sides: Mutex<Vec<Side>>,
    /// Notified whenever a queue shrank or grew.
    changed: Condvar,
    registry: Arc<Registry>,
    /// In-band registration is on: text is masked only once the other pipes are clean.
    inband: bool,
}

/// Masks each stream's input onto its output until the end of every input, or until `stop`
/// is readable; returns how each stream ended, in order.
///
/// Each read's final output is written at once, through a [`MaskingWriter`] (text straight
/// from the read buffer when nothing in it was a registration line, short pieces gathered
/// into one write):
/// a line that cannot begin a secret reaches the output before the next read. If the reader
/// of an output went away (`EPIPE`), that stream ends quietly and its input is dropped. A
/// non-blocking input or output is waited on with `poll`.
///
/// With `inband`, each registration line is swallowed, and its value registered before any
/// byte read at the same time or later, from any stream, is masked (bytes before it in the
/// same read may be masked with it too: over-masking is safe). The maskers follow
/// `registry`, so what they hold back is judged against the new set as well.
///
/// When `stop` becomes readable (or its writer hangs up), each stream writes what was read,
/// finishes its masker and ends with [`Ended::Stopped`].
///
/// # Errors
///
/// Per stream: an error reading its input or writing its output.
pub fn pump(
    streams: Vec<Stream>,
    registry: Arc<Registry>,
    inband: bool,
    stop: Option<&UnixStream>,
) -> Vec<Result<Ended, Failure>> {
    let from_file = |s: &Stream| s.input.metadata().is_ok_and(|m| m.file_type().is_file());
    if streams.len() == 1 && stop.is_none() && from_file(&streams[0]) {
        let stream = streams.into_iter().next().expect("one stream");
        return vec![ahead::copy(stream, registry, inband)];
    }
    let mut sides = Vec::with_capacity(streams.len());
    let mut own = Vec::with_capacity(streams.len());
    for stream in streams {
        let (wake, woken) = match UnixStream::pair().and_then(|(a, b)| {
            a.set_nonblocking(true)?;
            b.set_nonblocking(true)?;
            Ok((a, b))
        }) {
            Ok(pair) => pair,
            Err(e) => return vec![Err(Failure::io("starting", e))],
        };
        sides.push(Side {
            input: Some(Arc::new(stream.input)),
            text: Vec::new(),
            recogniser: inband.then(Recogniser::default),
            eof: false,
            error: None,
            wake,
            names: stream.names,
            traffic: Arc::clone(&stream.traffic),
            eio_is_end: stream.eio_is_end,
        });
        own.push((
            MaskingWriter::with_masker(Out(stream.output, stream.traffic), stream.masker),
            woken,
        ));
    }
    let shared = Shared {
        sides: Mutex::new(sides),
        changed: Condvar::new(),
        registry,
        inband,
    };
    let shared = &shared;
    thread::scope(|scope| {
        let mut own = own.into_iter().enumerate();
        let (first, (output, woken)) = own.next().expect("at least one stream");
        let others: Vec<_> = own
            .map(|(i, (output, woken))| scope.spawn(move || shared.run(i, output, &woken, stop)))
            .collect();
        let mut results = vec![shared.run(first, output, &woken, stop)];
        for other in others {
            results.push(other.join().expect("a stream's thread does not panic"));
        }
        results
    })
}

impl Shared {
    fn sides(&self) -> MutexGuard<'_, Vec<Side>> {
        lock(&self.sides)
    }

    /// Stream `i`'s thread.
    fn run(
        &self,
        i: usize,
        output: MaskingWriter<Out>,
        woken: &UnixStream,
        stop: Option<&UnixStream>,
    ) -> Result<Ended, Failure> {
        let result = self.copy(i, output, woken, stop);
        // Nobody reads this input any more; the others stop waiting for this queue.
        let mut sides = self.sides();
        sides[i].input = None;
        sides[i].text = Vec::new();
        self.changed.notify_all();
        result
    }

    fn copy(
        &self,
        i: usize,
        mut output: MaskingWriter<Out>,
        woken: &UnixStream,
        stop: Option<&UnixStream>,
    ) -> Result<Ended, Failure> {
        let names = self.sides()[i].names;
        let mut buffer = Buffer::new();
        let buf = buffer.bytes();
        // For draining the other streams: `buf` may hold what is masked next.
        let mut scratch = Vec::new();
        let mut queued = Vec::new();
        let ended = loop {
            // What others queued for us comes first; then our own end, or a read.
            let mut sides = self.sides();
            if !sides[i].text.is_empty() {
                if !self.clean_others(&mut sides, i, &mut scratch) {
                    // Another stream writes faster than we drain it: its registrations
                    // could be behind. Let its thread catch up; mask nothing meanwhile.
                    drop(sides);
                    if stopped(stop) {
                        if !self.write_rest(i, &mut output, &mut scratch, names)? {
                            return Ok(Ended::ReaderGone);
                        }
                        break Ended::Stopped;
                    }
                    thread::yield_now();
                    continue;
                }
                mem::swap(&mut queued, &mut sides[i].text);
                self.changed.notify_all();
                drop(sides);
                if !mask(&mut output, &queued, names)? {
                    return Ok(Ended::ReaderGone);
                }
                // Swapped back into the queue next time: keep no more than a read's worth.
                queued.clear();
                queued.shrink_to(CHUNK);
                continue;
            }
            if let Some(err) = sides[i].error.take() {
                return Err(Failure::io(names.reading, err));
            }
            if sides[i].eof {
                break Ended::Eof;
            }
            let input = Arc::clone(sides[i].input.as_ref().expect("our thread runs"));
            drop(sides);
            let ready = wait(input.as_fd(), Some(woken.as_fd()), stop, PollFlags::POLLIN)
                .map_err(|e| Failure::io(names.reading, e))?;
            if ready.stop {
                // What was read is written; what is still in the pipe is not read.
                if !self.write_rest(i, &mut output, &mut scratch, names)? {
                    return Ok(Ended::ReaderGone);
                }
                break Ended::Stopped;
            }
            if ready.woken {
                let mut sink = [0; 64];
                while matches!((&*woken).read(&mut sink), Ok(n) if n > 0) {}
            }
            if !ready.input {
                continue;
            }
            let Some(direct) = self.read(i, buf, &mut scratch, stop) else {
                continue;
            };
            if !mask(&mut output, &buf[..direct], names)? {
                return Ok(Ended::ReaderGone);
            }
        };
        Ok(if settle(output.finish().map(drop), names)? {
            ended
        } else {
            Ended::ReaderGone
        })
    }

    /// At a stop: writes what waits in stream `i`'s queue if the other inputs are clean (see
    /// the module's rule); if another writes faster than it is drained, the queue is not
    /// written (it could show a value whose registration was not read yet). `Ok(false)` if
    /// the reader went away.
    fn write_rest(
        &self,
        i: usize,
        output: &mut MaskingWriter<Out>,
        scratch: &mut Vec<u8>,
        names: Names,
    ) -> Result<bool, Failure> {
        let mut sides = self.sides();
        let rest = if self.clean_others(&mut sides, i, scratch) {
            mem::take(&mut sides[i].text)
        } else {
            Vec::new()
        };
        drop(sides);
        mask(output, &rest, names)
    }
}

/// Masks `text` onto `output` and writes what is final; `Ok(false)` if the reader of
/// `output` went away.
fn mask(output: &mut MaskingWriter<Out>, text: &[u8], names: Names) -> Result<bool, Failure> {
    if text.is_empty() {
        return Ok(true);
    }
    // The writer takes the whole text; `flush` returns an error it met on the way.
    settle(output.write_all(text).and_then(|()| output.flush()), names)
}

/// `Ok(false)` if the reader went away, `Ok(true)` if all was written.
fn settle(result: io::Result<()>, names: Names) -> Result<bool, Failure> {
    match result {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(false),
        Err(e) => Err(Failure::io(names.writing, e)),
    }
}

/// Locks one of the pump's mutexes: every change under them is complete before the guard
/// drops, so a thread that panicked left nothing half done.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A page-aligned buffer of [`CHUNK`] bytes: the kernel copies into a page-aligned buffer
/// about twice as fast as into a misaligned one.
struct Buffer {
    storage: Vec<u8>,
    skip: usize,
}

impl Buffer {
    fn new() -> Buffer {
        let storage = vec![0; CHUNK + PAGE];
        let skip = storage.as_ptr().align_offset(PAGE);
        Buffer { storage, skip }
    }

    fn bytes(&mut self) -> &mut [u8] {
        &mut self.storage[self.skip..self.skip + CHUNK]
    }
}
