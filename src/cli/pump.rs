//! Copies one stream through a masker, promptly.

use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::BorrowedFd;

use logmask::{Masker, MaskingWriter};

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
}

/// Masks `input` onto `output` until the end of `input`.
///
/// Each read's final output is written at once, through a [`MaskingWriter`] (text straight
/// from the read buffer, short pieces gathered into one write): a line that cannot begin a
/// secret reaches `output` before the next read. If the reader of `output` went away (`EPIPE`), the copy
/// ends quietly and `input` is dropped, so a command writing to it sees the same broken pipe
/// it would see without us.
///
/// # Errors
///
/// Any other error reading `input` or writing `output`.
pub fn pump(
    mut input: impl Read,
    output: File,
    masker: Masker,
    names: Names,
) -> Result<(), Failure> {
    let mut storage = vec![0; CHUNK + PAGE];
    let buf = page_aligned(&mut storage);
    let mut output = MaskingWriter::with_masker(output, masker);
    loop {
        let n = match input.read(buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Failure::io(names.reading, e)),
        };
        // The writer takes the whole chunk; `flush` returns an error it met on the way.
        let result = output.write_all(&buf[..n]).and_then(|()| output.flush());
        if !settle(result, names)? {
            return Ok(());
        }
    }
    settle(output.finish().map(drop), names).map(drop)
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
