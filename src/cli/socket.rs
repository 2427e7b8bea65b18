//! Registration from outside the stream (CONTRACT §7): in wrapper mode a private Unix socket on
//! which `logmask add` registers secrets, and the client side of `logmask add`.
//!
//! The protocol, one request per connection:
//!
//! - The client sends frames, each a 4-byte big-endian length and that many bytes: first the
//!   origin (a name for error messages, at most [`MAX_ORIGIN`] bytes, may be empty), then one
//!   frame per secret (1 to [`MAX_VALUE`] bytes; at most [`MAX_VALUES`] of them), then shuts
//!   down its sending half.
//! - The server registers all the values at once (all or none) and replies with one line:
//!   `ok N` once every stream masks them, or `error REASON` (a reason never holds a value).
//!
//! Nothing else can be asked: over the socket a job can only add secrets.

use std::ffi::OsString;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::Shutdown;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use logmask::Registry;

use super::Failure;

/// The environment variable that names the socket in the command's environment.
pub const ENV: &str = "LOGMASK_SOCKET";
/// The longest origin, in bytes.
pub const MAX_ORIGIN: usize = 256;
/// The longest secret, in bytes.
pub const MAX_VALUE: usize = 1 << 20;
/// The most secrets in one request.
pub const MAX_VALUES: usize = 10_000;
/// How long a connection may take to send its request.
const REQUEST_TIME: Duration = Duration::from_secs(30);

/// The listening socket and its private directory, removed on drop.
pub struct Listener {
    dir: PathBuf,
    path: PathBuf,
}

impl Listener {
    /// Creates a fresh directory (mode 0700) holding the socket (mode 0600) and serves it
    /// in a thread of its own: each request adds its secrets to `registry` as a job of its
    /// own, named after its origin and a counter.
    ///
    /// # Errors
    ///
    /// The directory or the socket cannot be made.
    pub fn start(registry: Arc<Registry>) -> Result<Listener, Failure> {
        let failed = |e: io::Error| Failure::io("creating the registration socket", e);
        let dir = private_dir().map_err(failed)?;
        let listener = Listener {
            path: dir.join("socket"),
            dir,
        };
        let socket = UnixListener::bind(&listener.path).map_err(failed)?;
        // The directory already keeps others out; the socket's own mode says so too.
        std::fs::set_permissions(&listener.path, std::fs::Permissions::from_mode(0o600))
            .map_err(failed)?;
        let requests = Arc::new(AtomicU64::new(0));
        thread::spawn(move || {
            for conn in socket.incoming() {
                let Ok(conn) = conn else { continue };
                let registry = Arc::clone(&registry);
                let n = requests.fetch_add(1, Ordering::Relaxed) + 1;
                thread::spawn(move || serve(conn, &registry, n));
            }
        });
        Ok(listener)
    }

    /// The socket's path, for the command's environment.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
        let _ = std::fs::remove_dir(&self.dir);
    }
}

/// A new directory only we can enter: `$TMPDIR` (or `/tmp`)`/logmask-XXXXXX`, made by
/// `mkdtemp` (mode 0700, a name no one else had). `/tmp` when `$TMPDIR` is too long for a
/// socket path.
fn private_dir() -> io::Result<PathBuf> {
    let base = std::env::var_os("TMPDIR")
        .filter(|dir| !dir.is_empty() && dir.len() < 64)
        .map_or_else(|| PathBuf::from("/tmp"), PathBuf::from);
    Ok(nix::unistd::mkdtemp(&base.join("logmask-XXXXXX"))?)
}

/// Reads one request, registers it, replies.
fn serve(mut conn: UnixStream, registry: &Registry, n: u64) {
    let _ = conn.set_read_timeout(Some(REQUEST_TIME));
    let reply = match read_request(&mut conn) {
        Ok((origin, values)) => {
            let origin = String::from_utf8_lossy(&origin).into_owned();
            let origin = if origin.is_empty() {
                "logmask add".to_owned()
            } else {
                origin
            };
            match registry.add(format!("{origin} #{n}"), &values) {
                Ok(()) => format!("ok {}\n", values.len()),
                Err(err) => format!("error {err}\n"),
            }
        }
        Err(err) => format!("error bad request: {err}\n"),
    };
    let _ = conn.write_all(reply.as_bytes());
}

/// The origin and the values of a request.
fn read_request(conn: &mut impl Read) -> io::Result<(Vec<u8>, Vec<Vec<u8>>)> {
    let origin = read_frame(conn, MAX_ORIGIN)?
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "no origin"))?;
    if origin.iter().any(|b| b.is_ascii_control()) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "control characters in the origin",
        ));
    }
    let mut values = Vec::new();
    while let Some(value) = read_frame(conn, MAX_VALUE)? {
        if values.len() == MAX_VALUES {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("more than {MAX_VALUES} secrets"),
            ));
        }
        values.push(value);
    }
    if values.is_empty() {
        return Err(io::Error::new(io::ErrorKind::InvalidData, "no secret"));
    }
    Ok((origin, values))
}

/// One frame, or `None` at the end of the request.
fn read_frame(conn: &mut impl Read, max: usize) -> io::Result<Option<Vec<u8>>> {
    let mut len = [0; 4];
    let mut got = 0;
    while got < 4 {
        match conn.read(&mut len[got..]) {
            Ok(0) if got == 0 => return Ok(None),
            Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    let len = u32::from_be_bytes(len) as usize;
    if len > max {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("a frame longer than {max} bytes"),
        ));
    }
    let mut frame = vec![0; len];
    conn.read_exact(&mut frame)?;
    Ok(Some(frame))
}

/// `logmask add`: sends `values` (from `-e NAME` or standard input) to the socket named by
/// `LOGMASK_SOCKET` and waits for the reply.
///
/// # Errors
///
/// No socket, no value, a refused value, or a connection that failed; all exit 2.
pub fn add(origin: Option<&str>, env: &[OsString]) -> Result<usize, Failure> {
    let path = std::env::var_os(ENV).ok_or_else(|| {
        Failure::usage(format!(
            "{ENV} is not set: run this inside `logmask ... -- COMMAND`"
        ))
    })?;
    let values = if env.is_empty() {
        let mut text = Vec::new();
        io::stdin()
            .read_to_end(&mut text)
            .map_err(|e| Failure::usage(format!("reading standard input: {e}")))?;
        lines(&text)
    } else {
        env.iter()
            .map(|name| {
                std::env::var_os(name)
                    .map(|v| v.as_bytes().to_vec())
                    .ok_or_else(|| {
                        Failure::usage(format!(
                            "environment variable {} is not set",
                            name.to_string_lossy()
                        ))
                    })
            })
            .collect::<Result<Vec<_>, _>>()?
    };
    if values.is_empty() {
        return Err(Failure::usage("no secret given on standard input"));
    }
    let origin = origin.unwrap_or("");
    if origin.len() > MAX_ORIGIN {
        return Err(Failure::usage(format!(
            "--origin is longer than {MAX_ORIGIN} bytes"
        )));
    }
    if let Some(big) = values.iter().position(|v| v.len() > MAX_VALUE) {
        return Err(Failure::usage(format!(
            "secret {} is longer than {MAX_VALUE} bytes",
            big + 1
        )));
    }
    let failed = |e: io::Error| Failure::usage(format!("registration socket {ENV}: {e}"));
    let mut conn = UnixStream::connect(&path).map_err(failed)?;
    let mut request = Vec::new();
    for frame in std::iter::once(origin.as_bytes()).chain(values.iter().map(Vec::as_slice)) {
        request.extend_from_slice(&(frame.len() as u32).to_be_bytes());
        request.extend_from_slice(frame);
    }
    conn.write_all(&request).map_err(failed)?;
    conn.shutdown(Shutdown::Write).map_err(failed)?;
    let mut reply = String::new();
    BufReader::new(conn).read_line(&mut reply).map_err(failed)?;
    let reply = reply.trim_end();
    if let Some(count) = reply.strip_prefix("ok ") {
        return Ok(count.parse().unwrap_or(values.len()));
    }
    let reason = reply.strip_prefix("error ").unwrap_or(if reply.is_empty() {
        "no reply (logmask ended?)"
    } else {
        reply
    });
    Err(Failure::usage(format!("not registered: {reason}")))
}

/// The secrets of a secrets file's text: its lines without `\n` or `\r\n`, blank ones
/// skipped.
fn lines(text: &[u8]) -> Vec<Vec<u8>> {
    let text = text.strip_suffix(b"\n").unwrap_or(text);
    if text.is_empty() {
        return Vec::new();
    }
    text.split(|&b| b == b'\n')
        .map(|line| line.strip_suffix(b"\r").unwrap_or(line))
        .filter(|line| !line.is_empty())
        .map(<[u8]>::to_vec)
        .collect()
}
