//! `--pty`: the command's standard output and standard error on a pseudo-terminal, with our
//! terminal's window size.

use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::Command;

use nix::pty::{openpty, Winsize};
use nix::sys::termios::{tcgetattr, tcsetattr, OutputFlags, SetArg};

use super::Failure;

/// Opens a pseudo-terminal with our terminal's window size (if one of our standard streams
/// is a terminal; 80×24 otherwise) and no `\n` → `\r\n` translation, so that lines reach the
/// log as the command wrote them. Returns the master and the slave.
///
/// # Errors
///
/// No pseudo-terminal can be opened.
pub fn open() -> Result<(File, OwnedFd), Failure> {
    let failed = |e: nix::errno::Errno| Failure::io("opening a pseudo-terminal", e.into());
    let size = window_size().unwrap_or(Winsize {
        ws_row: 24,
        ws_col: 80,
        ws_xpixel: 0,
        ws_ypixel: 0,
    });
    let pty = openpty(Some(&size), None).map_err(failed)?;
    let mut termios = tcgetattr(&pty.slave).map_err(failed)?;
    termios.output_flags.remove(OutputFlags::ONLCR);
    tcsetattr(&pty.slave, SetArg::TCSANOW, &termios).map_err(failed)?;
    Ok((File::from(pty.master), pty.slave))
}

/// Gives the pseudo-terminal behind `master` our terminal's window size, if one of our
/// standard streams is a terminal (nothing otherwise). The kernel then sends SIGWINCH to the
/// terminal's foreground process group, if the size changed.
///
/// # Errors
///
/// The size cannot be set.
pub fn resize(master: &File) -> io::Result<()> {
    let Some(size) = window_size() else {
        return Ok(());
    };
    // SAFETY: TIOCSWINSZ reads one `winsize` from `size`, which outlives the call.
    if unsafe { nix::libc::ioctl(master.as_raw_fd(), nix::libc::TIOCSWINSZ, &size) } == -1 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// The window size of the first of our standard streams that is a terminal.
fn window_size() -> Option<Winsize> {
    (0..3).find_map(|fd| {
        let mut size = Winsize {
            ws_row: 0,
            ws_col: 0,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        // SAFETY: TIOCGWINSZ writes one `winsize` into `size`, which outlives the call.
        let ok = unsafe { nix::libc::ioctl(fd, nix::libc::TIOCGWINSZ, &mut size) } == 0;
        (ok && size.ws_col > 0).then_some(size)
    })
}

/// Sets up `cmd` to write both its output streams to `slave`, in a session of its own whose
/// controlling terminal is the pseudo-terminal (so that `/dev/tty` is masked too).
///
/// # Errors
///
/// The slave cannot be duplicated.
pub fn attach(cmd: &mut Command, slave: &OwnedFd) -> Result<(), Failure> {
    let dup = || {
        slave
            .try_clone()
            .map_err(|e| Failure::io("opening a pseudo-terminal", e))
    };
    cmd.stdout(dup()?).stderr(dup()?);
    // SAFETY: setsid and ioctl are async-signal-safe; nothing is allocated.
    unsafe {
        cmd.pre_exec(|| {
            nix::unistd::setsid()?;
            if nix::libc::ioctl(1, nix::libc::TIOCSCTTY, 0) == -1 {
                return Err(io::Error::last_os_error());
            }
            Ok(())
        });
    }
    Ok(())
}
