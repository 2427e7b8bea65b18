//! Reading the streams' inputs under the shared lock: a stream's own read, draining the
//! others, registering their lines and queueing their text.

use std::io::{self, Read, Write};
use std::os::unix::net::UnixStream;
use std::sync::PoisonError;
use std::time::Duration;

use logmask::Registry;

use super::{Names, Shared, Side, CHUNK, DRAIN, QUEUED};
use crate::cli::fdio::{stopped, Traffic};
use crate::cli::inband::{Event, MAX_LINE};

impl Shared {
    /// Reads stream `i` once into `buf`, then drains the others through `scratch`,
    /// registering what they hold. Returns the length of what was read if it can be masked
    /// straight from `buf` (nothing queued, no registration line in it); otherwise it was
    /// queued, or nothing was read.
    pub(super) fn read(
        &self,
        i: usize,
        buf: &mut [u8],
        scratch: &mut Vec<u8>,
        stop: Option<&UnixStream>,
    ) -> Option<usize> {
        let mut sides = self.sides();
        // Room in the others' queues first; never while text waits in ours.
        loop {
            if !sides[i].text.is_empty() {
                return None;
            }
            let full = sides
                .iter()
                .enumerate()
                .any(|(j, side)| j != i && side.input.is_some() && side.text.len() >= QUEUED);
            if !full {
                break;
            }
            // Timed, to notice the stop (the caller's next poll acts on it).
            sides = self
                .changed
                .wait_timeout(sides, Duration::from_millis(50))
                .unwrap_or_else(PoisonError::into_inner)
                .0;
            if stopped(stop) {
                return None;
            }
        }
        let (direct, _) = self.ingest(&mut sides[i], buf, true, CHUNK);
        if self.clean_others(&mut sides, i, scratch) {
            return direct;
        }
        // Not known to be clean: what was read waits in our queue (empty until now).
        if let Some(n) = direct {
            sides[i].text.extend_from_slice(&buf[..n]);
        }
        None
    }

    /// Drains every stream but `i` until its pipe is empty (at most [`DRAIN`] bytes each),
    /// registering its lines. Returns whether every one was found empty or at its end: then
    /// every byte that any stream wrote before this call was read and its registration lines
    /// registered, so that text read before the call may be masked. Always true without
    /// in-band registration.
    pub(super) fn clean_others(&self, sides: &mut [Side], i: usize, scratch: &mut Vec<u8>) -> bool {
        if !self.inband {
            return true;
        }
        let mut clean = true;
        for j in (0..sides.len()).filter(|&j| j != i) {
            if scratch.is_empty() {
                scratch.resize(CHUNK, 0);
            }
            // Never masked straight from `scratch`: `once` is false.
            let (_, empty) = self.ingest(&mut sides[j], scratch, false, DRAIN);
            clean &= empty;
        }
        clean
    }

    /// Reads `side` until it would block, `max` bytes were read, or (with `once`) after one
    /// read. Registers what it holds; queues the rest, except a first read that can be
    /// masked straight from `buf`, whose length it returns (with `once` only). Also returns
    /// whether the input was found empty (it would block), at its end, or gone.
    fn ingest(
        &self,
        side: &mut Side,
        buf: &mut [u8],
        once: bool,
        max: usize,
    ) -> (Option<usize>, bool) {
        let mut got = 0;
        let mut queued = false;
        let mut direct = None;
        let mut empty = false;
        while got < max && !side.eof {
            let Some(input) = &side.input else { break };
            let n = match (&**input).read(buf) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    empty = true;
                    break;
                }
                Err(e) if side.eio_is_end && e.raw_os_error() == Some(nix::libc::EIO) => 0,
                Err(e) => {
                    side.error = Some(e);
                    side.eof = true;
                    queued = true;
                    break;
                }
            };
            queued = true;
            Traffic::add(&side.traffic.read, n);
            if n == 0 {
                self.end(side);
                break;
            }
            got += n;
            if self.accept(side, &buf[..n], once) {
                direct = Some(n);
            }
            if once {
                break;
            }
        }
        if queued && direct.is_none() {
            self.changed.notify_all();
            let _ = (&side.wake).write(&[1]);
        }
        (direct, empty || side.eof || side.input.is_none())
    }

    /// Recognises `input`'s registration lines (registering their values now) and queues its
    /// text. Returns true instead of queueing if `direct` allows it and the whole of `input`
    /// is text with nothing queued before it.
    fn accept(&self, side: &mut Side, input: &[u8], direct: bool) -> bool {
        let Some(recogniser) = &mut side.recogniser else {
            if direct && side.text.is_empty() {
                return true;
            }
            side.text.extend_from_slice(input);
            return false;
        };
        let (text, names, registry) = (&mut side.text, side.names, &*self.registry);
        let alone = direct && text.is_empty();
        let whole = recogniser.feed_text(input, |event| on_event(event, text, registry, names));
        if whole && !alone {
            text.extend_from_slice(input);
        }
        whole && alone
    }

    /// The end of `side`'s input: a command line without its `\n` still registers.
    fn end(&self, side: &mut Side) {
        side.eof = true;
        if let Some(recogniser) = &mut side.recogniser {
            let (text, names, registry) = (&mut side.text, side.names, &*self.registry);
            recogniser.finish(|event| on_event(event, text, registry, names));
        }
    }
}

/// Queues a text run, or registers a command line's value (saying on stderr, never with the
/// value, why one is refused).
pub(super) fn on_event(event: Event<'_>, text: &mut Vec<u8>, registry: &Registry, names: Names) {
    let refused = |line: u64, why: &dyn std::fmt::Display| {
        let _ = writeln!(
            io::stderr(),
            "logmask: {} line {line}: registration refused (the line is not shown): {why}",
            names.stream
        );
    };
    match event {
        Event::Text(t) => text.extend_from_slice(t),
        Event::Register { value, line } => {
            if let Err(err) = registry.add(format!("{} line {line}", names.stream), [value]) {
                refused(line, &err);
            }
        }
        Event::Overlong { line } => refused(line, &format_args!("longer than {} bytes", MAX_LINE)),
    }
}
