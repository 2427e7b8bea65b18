//! A lone stream from a regular file, read ahead: a thread of its own reads the file and
//! recognises its registration lines while the stream's thread masks and writes what was
//! read before, so that the copy out of the kernel and the search run on two cores. (From a
//! pipe, the writer at its other end needs that core: there the pump reads on the stream's
//! thread.)
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
//! before it may be masked with it too: over-masking is safe). It ends after the file's end
//! or an error, or once the stream's thread stopped taking chunks (a file's read never
//! blocks for long, so it is waited for).

use std::fs::File;
use std::io::{self, Read};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::Arc;
use std::thread;

use logmask::{MaskingWriter, Registry};

use super::intake::on_event;
use super::{mask, settle, Buffer, Ended, Names, Stream};
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
    /// The text of a read that held registration lines (or that ended a held one).
    Text(Vec<u8>),
    End,
    Failed(io::Error),
}

/// The reader thread's side.
struct Reader {
    input: File,
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

/// Masks a lone stream from a regular file until its end, the file read ahead.
pub(super) fn copy(
    stream: Stream,
    registry: Arc<Registry>,
    inband: bool,
) -> Result<Ended, Failure> {
    let names = stream.names;
    let reader = Reader {
        input: stream.input,
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
    let out = &mut output;
    let mut masked = move || -> Result<bool, Failure> {
        loop {
            let written = match chunks.recv() {
                Ok(Chunk::Read(mut buffer, n)) => {
                    let written = mask(out, &buffer.bytes()[..n], names)?;
                    // Gone only after it handed over an end or an error.
                    let _ = give.send(buffer);
                    written
                }
                Ok(Chunk::Text(text)) => mask(out, &text, names)?,
                Ok(Chunk::End) => return Ok(true),
                Ok(Chunk::Failed(e)) => return Err(Failure::io(names.reading, e)),
                // The reader hands over an end or an error before it ends, unless it panicked.
                Err(_) => {
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
