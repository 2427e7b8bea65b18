//! A lone stream read ahead: a thread of its own reads the input and recognises its
//! registration lines while the stream's thread masks and writes what was read before, so that
//! the copy out of the kernel and the search run on two cores.
//!
//! | the stream's thread receives | it                                                    |
//! | ---                          | ---                                                   |
//! | a buffer of text             | masks it, writes it, hands the buffer back            |
//! | text with lines taken out    | masks it, writes it                                   |
//! | the end                      | finishes its masker: done                             |
//! | a read error                 | reports it (what was read before is written)          |
//!
//! The reader registers a chunk's lines before it hands over the chunk's text, so every value
//! joins the set before a byte read with it or after it is masked (bytes read a few reads
//! before it may be masked with it too: over-masking is safe). It ends after
//! the input's end or an error, or once the stream's thread is gone (it then finds nobody to
//! hand its next chunk to); it is not waited for, so that an input that never ends does not
//! hold up a stream whose reader went away.

use std::fs::File;
use std::io::{self, Read};
use std::os::fd::AsFd;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::Arc;
use std::thread;

use logmask::{MaskingWriter, Registry};
use nix::poll::PollFlags;

use super::intake::on_event;
use super::{mask, settle, Buffer, Ended, Names, Stream};
use crate::cli::fdio::{wait, Out, Traffic};
use crate::cli::inband::Recogniser;
use crate::cli::Failure;

/// Read buffers: one being masked while the other is read (two more were about a tenth faster
/// on a rare-secret file, and 0.6 MiB more at the peak: DESIGN.md, "Session 14").
const BUFFERS: usize = 2;

/// What the reader hands over, in stream order.
enum Chunk {
    /// A read of `.1` bytes, all text.
    Read(Buffer, usize),
    /// The text of a read that held registration lines (or that ended a held one).
    Text(Vec<u8>),
    End,
    Failed(io::Error),
}

/// The reader thread's side.
struct Reader {
    input: File,
    eio_is_end: bool,
    /// The registration lines, unless in-band registration is off.
    recogniser: Option<Recogniser>,
    registry: Arc<Registry>,
    names: Names,
    traffic: Arc<Traffic>,
}

impl Reader {
    /// Reads into the buffers `empty` hands back, until the input's end or an error.
    fn run(mut self, full: SyncSender<Chunk>, empty: Receiver<Buffer>) {
        let mut spare = None;
        loop {
            let Some(mut buffer) = spare.take().or_else(|| empty.recv().ok()) else {
                return;
            };
            let chunk = match self.read(buffer.bytes()) {
                Ok(0) => {
                    if let Some(text) = self.end() {
                        if full.send(Chunk::Text(text)).is_err() {
                            return;
                        }
                    }
                    Chunk::End
                }
                Ok(n) => {
                    Traffic::add(&self.traffic.read, n);
                    match self.recognise(&buffer.bytes()[..n]) {
                        None => Chunk::Read(buffer, n),
                        Some(text) => {
                            spare = Some(buffer);
                            Chunk::Text(text)
                        }
                    }
                }
                Err(e) => Chunk::Failed(e),
            };
            let last = matches!(chunk, Chunk::End | Chunk::Failed(_));
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
                // A non-blocking input (one handed to us so) is waited on.
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    wait(self.input.as_fd(), None, None, PollFlags::POLLIN)?;
                }
                Err(e) if self.eio_is_end && e.raw_os_error() == Some(nix::libc::EIO) => {
                    return Ok(0)
                }
                result => return result,
            }
        }
    }

    /// Registers the lines of `input`; `None` if it is all text, else its text.
    fn recognise(&mut self, input: &[u8]) -> Option<Vec<u8>> {
        let recogniser = self.recogniser.as_mut()?;
        let mut text = Vec::new();
        let (registry, names) = (&*self.registry, self.names);
        let whole =
            recogniser.feed_text(input, |event| on_event(event, &mut text, registry, names));
        (!whole).then_some(text)
    }

    /// The input's end: a command line without its `\n` still registers. Returns the text
    /// held until now, if any.
    fn end(&mut self) -> Option<Vec<u8>> {
        let mut text = Vec::new();
        let (registry, names) = (&*self.registry, self.names);
        self.recogniser
            .as_mut()?
            .finish(|event| on_event(event, &mut text, registry, names));
        (!text.is_empty()).then_some(text)
    }
}

/// Masks a lone stream until its input's end, the input read ahead.
pub(super) fn copy(
    stream: Stream,
    registry: Arc<Registry>,
    inband: bool,
) -> Result<Ended, Failure> {
    let names = stream.names;
    let reader = Reader {
        input: stream.input,
        eio_is_end: stream.eio_is_end,
        recogniser: inband.then(Recogniser::default),
        registry,
        names,
        traffic: Arc::clone(&stream.traffic),
    };
    let mut output = MaskingWriter::with_masker(Out(stream.output, stream.traffic), stream.masker);
    let (give, empty) = sync_channel(BUFFERS);
    let (full, chunks) = sync_channel(BUFFERS);
    for _ in 0..BUFFERS {
        give.send(Buffer::new()).expect("the receiver is here");
    }
    thread::Builder::new()
        .name("logmask-read".into())
        .spawn(move || reader.run(full, empty))
        .map_err(|e| Failure::io("starting", e))?;
    loop {
        let chunk = chunks
            .recv()
            .unwrap_or_else(|_| Chunk::Failed(io::Error::other("the reading thread ended")));
        let written = match chunk {
            Chunk::Read(mut buffer, n) => {
                let written = mask(&mut output, &buffer.bytes()[..n], names)?;
                // The reader is gone only after it handed over an end or an error.
                let _ = give.send(buffer);
                written
            }
            Chunk::Text(text) => mask(&mut output, &text, names)?,
            Chunk::End => break,
            Chunk::Failed(e) => return Err(Failure::io(names.reading, e)),
        };
        if !written {
            return Ok(Ended::ReaderGone);
        }
    }
    Ok(if settle(output.finish().map(drop), names)? {
        Ended::Eof
    } else {
        Ended::ReaderGone
    })
}
