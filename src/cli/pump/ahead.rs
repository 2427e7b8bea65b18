//! A lone stream from a regular file, read ahead: a thread of its own reads the file while the
//! stream's thread masks and writes what was read before, so that the copy out of the kernel
//! and the search run on two cores. (From a pipe, the writer at its other end needs that core:
//! there the pump reads on the stream's thread.)
//!
//! | the stream's thread receives | it                                                    |
//! | ---                          | ---                                                   |
//! | a buffer of text             | masks it, writes it, hands the buffer back            |
//! | a buffer not yet recognised  | registers its lines, then as above (with its text)    |
//! | text with lines taken out    | masks it, writes it                                   |
//! | the end                      | finishes the recogniser and its masker: done          |
//! | a read error                 | reports it (what was read before is written)          |
//!
//! Each read's lines are registered, in order, before its text is masked: by the reader before
//! it hands the read over, or, while the reader is the slower thread, by the stream's thread.
//! So every value joins the set before a byte read with it or after it is masked (bytes read a
//! few reads before it may be masked with it too: over-masking is safe).
//!
//! The reader ends after the file's end or an error, or once the stream's thread stopped
//! taking chunks; a file's read never blocks for long, so it is waited for.

use std::fs::File;
use std::io::{self, Read};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TryRecvError};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread;

use logmask::{MaskingWriter, Registry};

use super::intake::on_event;
use super::{lock, mask, settle, Buffer, Ended, Names, Stream};
use crate::cli::fdio::{Out, Traffic};
use crate::cli::inband::Recogniser;
use crate::cli::Failure;

/// Read buffers: one being masked while the other is read (two more were about a tenth faster
/// on a rare-secret file, and 0.6 MiB more at the peak: DESIGN.md, "Session 14").
const BUFFERS: usize = 2;

/// What the reader hands over, in stream order.
enum Chunk {
    /// A read of `.1` bytes, all text.
    Read(Buffer, usize),
    /// Read `.2` of `.1` bytes, whose lines the stream's thread recognises.
    Raw(Buffer, usize, u64),
    /// The text of a read that held registration lines (or that ended a held one).
    Text(Vec<u8>),
    /// The end: read `.0`, at its turn at the recogniser.
    End(u64),
    Failed(io::Error),
}

/// The registration lines, recognised by whichever thread has time for them, each read at its
/// turn: by the reader, unless the stream's thread found nothing waiting the last time it
/// looked (the reader is then the slower one).
struct Lines {
    /// The recogniser, and the read it takes next: a read waits for its turn.
    recogniser: Mutex<(Recogniser, u64)>,
    turn: Condvar,
    registry: Arc<Registry>,
    names: Names,
    /// Reads handed over unrecognised and not recognised yet: the next is handed over so too,
    /// rather than wait for its turn.
    pending: AtomicUsize,
    /// The stream's thread found no chunk waiting the last time it looked.
    starving: AtomicBool,
}

impl Lines {
    /// At its turn, registers the lines of read `k`, `input`; `None` if it is all text, else
    /// its text.
    fn recognise(&self, k: u64, input: &[u8]) -> Option<Vec<u8>> {
        let mut text = Vec::new();
        let (registry, names) = (&*self.registry, self.names);
        let whole = self.at_turn(k, |r| {
            r.feed_text(input, |event| on_event(event, &mut text, registry, names))
        });
        (!whole).then_some(text)
    }

    /// At its turn, the input's end after read `k`: a command line without its `\n` still
    /// registers. Returns the text held until now, if any.
    fn end(&self, k: u64) -> Option<Vec<u8>> {
        let mut text = Vec::new();
        let (registry, names) = (&*self.registry, self.names);
        self.at_turn(k, |r| {
            r.finish(|event| on_event(event, &mut text, registry, names))
        });
        (!text.is_empty()).then_some(text)
    }

    /// Runs `f` on the recogniser once the reads before `k` are recognised.
    fn at_turn<T>(&self, k: u64, f: impl FnOnce(&mut Recogniser) -> T) -> T {
        let mut turn = lock(&self.recogniser);
        while turn.1 != k {
            turn = self.turn.wait(turn).unwrap_or_else(PoisonError::into_inner);
        }
        let result = f(&mut turn.0);
        turn.1 += 1;
        drop(turn);
        self.turn.notify_all();
        result
    }
}

/// The reader thread's side.
struct Reader<'a> {
    input: File,
    /// Unless in-band registration is off.
    lines: Option<&'a Lines>,
    traffic: Arc<Traffic>,
}

impl Reader<'_> {
    /// Reads into the buffers `empty` hands back, until the input's end or an error.
    fn run(self, full: SyncSender<Chunk>, empty: Receiver<Buffer>) {
        let mut spare = None;
        for k in 0.. {
            let Some(mut buffer) = spare.take().or_else(|| empty.recv().ok()) else {
                return;
            };
            let chunk = match self.read(buffer.bytes()) {
                Ok(0) => Chunk::End(k),
                Ok(n) => {
                    Traffic::add(&self.traffic.read, n);
                    match self.lines {
                        None => Chunk::Read(buffer, n),
                        Some(lines)
                            if lines.starving.load(Ordering::Relaxed)
                                || lines.pending.load(Ordering::Acquire) > 0 =>
                        {
                            lines.pending.fetch_add(1, Ordering::Relaxed);
                            Chunk::Raw(buffer, n, k)
                        }
                        Some(lines) => match lines.recognise(k, &buffer.bytes()[..n]) {
                            None => Chunk::Read(buffer, n),
                            Some(text) => {
                                spare = Some(buffer);
                                Chunk::Text(text)
                            }
                        },
                    }
                }
                Err(e) => Chunk::Failed(e),
            };
            let last = matches!(chunk, Chunk::End(_) | Chunk::Failed(_));
            if full.send(chunk).is_err() || last {
                return;
            }
        }
    }

    /// One read: the bytes read, 0 at the end.
    fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            match (&self.input).read(buf) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                result => return result,
            }
        }
    }
}

/// Masks a lone stream from a regular file until its end, the file read ahead.
pub(super) fn copy(
    stream: Stream,
    registry: Arc<Registry>,
    inband: bool,
) -> Result<Ended, Failure> {
    let names = stream.names;
    let lines = inband.then(|| Lines {
        recogniser: Mutex::new((Recogniser::default(), 0)),
        turn: Condvar::new(),
        registry,
        names,
        pending: AtomicUsize::new(0),
        starving: AtomicBool::new(false),
    });
    let lines = lines.as_ref();
    let reader = Reader {
        input: stream.input,
        lines,
        traffic: Arc::clone(&stream.traffic),
    };
    let mut output = MaskingWriter::with_masker(Out(stream.output, stream.traffic), stream.masker);
    let (give, empty) = sync_channel(BUFFERS);
    let (full, chunks) = sync_channel(BUFFERS);
    for _ in 0..BUFFERS {
        give.send(Buffer::new()).expect("the receiver is here");
    }
    let out = &mut output;
    let mut masked = move || -> Result<bool, Failure> {
        loop {
            let next = chunks.try_recv();
            let starving = matches!(next, Err(TryRecvError::Empty));
            if let Some(lines) = lines {
                lines.starving.store(starving, Ordering::Relaxed);
            }
            let chunk = if starving {
                chunks.recv().ok()
            } else {
                next.ok()
            };
            let written = match chunk {
                Some(Chunk::Read(mut buffer, n)) => {
                    let written = mask(out, &buffer.bytes()[..n], names)?;
                    // Gone only after it handed over an end or an error.
                    let _ = give.send(buffer);
                    written
                }
                Some(Chunk::Raw(mut buffer, n, k)) => {
                    let lines = lines.expect("raw reads only with in-band registration");
                    let text = lines.recognise(k, &buffer.bytes()[..n]);
                    lines.pending.fetch_sub(1, Ordering::Release);
                    let written = match text {
                        None => mask(out, &buffer.bytes()[..n], names)?,
                        Some(text) => mask(out, &text, names)?,
                    };
                    let _ = give.send(buffer);
                    written
                }
                Some(Chunk::Text(text)) => mask(out, &text, names)?,
                Some(Chunk::End(k)) => {
                    let rest = lines.and_then(|lines| lines.end(k));
                    return mask(out, rest.as_deref().unwrap_or_default(), names);
                }
                Some(Chunk::Failed(e)) => return Err(Failure::io(names.reading, e)),
                // The reader hands over an end or an error before it ends, unless it panicked.
                None => {
                    let gone = io::Error::other("the reading thread ended");
                    return Err(Failure::io(names.reading, gone));
                }
            };
            if !written {
                return Ok(false);
            }
        }
    };
    // The scope's closure owns `masked` and so the stream's ends of the channels: they are
    // dropped, and the reader stops at its next hand-over, before it is waited for.
    let ended = thread::scope(move |scope| {
        scope.spawn(move || reader.run(full, empty));
        masked()
    })?;
    if !ended {
        return Ok(Ended::ReaderGone);
    }
    Ok(if settle(output.finish().map(drop), names)? {
        Ended::Eof
    } else {
        Ended::ReaderGone
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A read waits for its turn at the recogniser: read 1's lines are not taken before read
    /// 0's, whichever thread asks first (read 0 ends in the start of a possible command, which
    /// read 1 turns into text: in the other order read 1 would come out without it).
    #[test]
    fn reads_are_recognised_in_their_order() {
        let lines = Lines {
            recogniser: Mutex::new((Recogniser::default(), 0)),
            turn: Condvar::new(),
            registry: Arc::new(Registry::default()),
            names: Names {
                reading: "reading the test",
                writing: "writing the test",
                stream: "test",
            },
            pending: AtomicUsize::new(0),
            starving: AtomicBool::new(false),
        };
        thread::scope(|scope| {
            let later = scope.spawn(|| lines.recognise(1, b"dd rest\n"));
            thread::sleep(std::time::Duration::from_millis(50));
            assert!(!later.is_finished(), "read 1 went before read 0");
            assert_eq!(lines.recognise(0, b"x\n::a"), Some(b"x\n".to_vec()));
            assert_eq!(later.join().unwrap(), Some(b"::add rest\n".to_vec()));
        });
        assert_eq!(lines.end(2), None);
    }
}
