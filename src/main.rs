//! `logmask`: mask secrets in a log stream (see README.md and SPEC §5).

use std::ffi::OsString;
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::AsFd;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use logmask::{MaskingWriter, Secrets};

/// Exit status for bad usage or bad secrets.
const EXIT_USAGE: u8 = 2;
/// Exit status for an I/O error.
const EXIT_IO: u8 = 1;

/// The size of each read from standard input.
const CHUNK: usize = 256 * 1024;
/// The alignment of the read buffer.
const PAGE: usize = 4096;

/// Mask secrets in a log stream: standard input to standard output, replacing every
/// occurrence of every secret with the replacement text.
#[derive(Parser, Debug)]
#[command(name = "logmask", version, about, max_term_width = 100)]
struct Cli {
    /// Mask the value of environment variable NAME (repeatable)
    #[arg(short = 'e', long = "env", value_name = "NAME")]
    env: Vec<OsString>,

    /// Mask each line of PATH (repeatable)
    #[arg(short = 'f', long = "secrets-file", value_name = "PATH")]
    secrets_file: Vec<PathBuf>,

    /// Replacement text
    #[arg(short = 'r', long, value_name = "TEXT", default_value = logmask::DEFAULT_REPLACEMENT)]
    replacement: OsString,

    /// Shortest secret accepted, in bytes
    #[arg(long = "min-length", value_name = "N", default_value_t = logmask::DEFAULT_MIN_LEN)]
    min_length: usize,

    /// Variants to mask: comma list of base64,url,json, or none
    #[arg(long, value_name = "LIST", default_value_t = logmask::Encodings::ALL)]
    encodings: logmask::Encodings,

    /// Do not mask unregistered tokens by their shape (glpat-…, ghp_…, AKIA…)
    #[arg(long = "no-token-shapes")]
    no_token_shapes: bool,
}

/// Why the program stops early: the message for stderr and the exit status.
struct Failure {
    status: u8,
    message: String,
}

impl Failure {
    fn usage(message: impl Into<String>) -> Self {
        Failure {
            status: EXIT_USAGE,
            message: message.into(),
        }
    }

    fn io(what: &str, err: io::Error) -> Self {
        Failure {
            status: EXIT_IO,
            message: format!("{what}: {err}"),
        }
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) if !err.use_stderr() => {
            // --help and --version.
            let _ = err.print();
            return ExitCode::SUCCESS;
        }
        Err(err) => {
            let rendered = err.render().to_string();
            let first = rendered.lines().next().unwrap_or("bad usage");
            let first = first.strip_prefix("error: ").unwrap_or(first);
            return fail(Failure::usage(format!("{first} (try --help)")));
        }
    };
    match run(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => fail(failure),
    }
}

/// The one place that reports a failure.
fn fail(failure: Failure) -> ExitCode {
    let _ = writeln!(io::stderr(), "logmask: {}", failure.message);
    ExitCode::from(failure.status)
}

fn run(cli: &Cli) -> Result<(), Failure> {
    let secrets = Arc::new(load_secrets(cli)?);
    filter(secrets)
}

/// Reads and compiles the secrets named on the command line.
fn load_secrets(cli: &Cli) -> Result<Secrets, Failure> {
    if cli.env.is_empty() && cli.secrets_file.is_empty() {
        return Err(Failure::usage(
            "no secrets given: use -e NAME or -f PATH (try --help)",
        ));
    }
    let mut builder = Secrets::builder();
    builder
        .min_len(cli.min_length)
        .replacement(cli.replacement.as_bytes())
        .encodings(cli.encodings)
        .token_shapes(!cli.no_token_shapes);
    for name in &cli.env {
        let shown = name.to_string_lossy();
        let value = std::env::var_os(name)
            .ok_or_else(|| Failure::usage(format!("environment variable {shown} is not set")))?;
        builder.add_named(format!("env {shown}"), value.as_bytes());
    }
    for path in &cli.secrets_file {
        let text = std::fs::read(path).map_err(|err| {
            Failure::usage(format!(
                "cannot read secrets file {}: {err}",
                path.display()
            ))
        })?;
        builder.add_lines_named(path.display().to_string(), text);
    }
    builder
        .build()
        .map_err(|err| Failure::usage(err.to_string()))
}

/// Masks standard input onto standard output, writing each chunk's final output at once.
fn filter(secrets: Arc<Secrets>) -> Result<(), Failure> {
    let mut input = raw(io::stdin().as_fd()).map_err(|e| Failure::io("standard input", e))?;
    let output = raw(io::stdout().as_fd()).map_err(|e| Failure::io("standard output", e))?;
    let mut writer = MaskingWriter::new(output, secrets);
    let mut storage = vec![0; CHUNK + PAGE];
    let buf = page_aligned(&mut storage);
    loop {
        let n = match input.read(buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Failure::io("reading standard input", e)),
        };
        // `flush` reports a failed write at once; held-back bytes stay held.
        if let Err(e) = writer.write_all(&buf[..n]).and_then(|()| writer.flush()) {
            return quiet_on_closed_output(e);
        }
    }
    match writer.finish() {
        Ok(_) => Ok(()),
        Err(e) => quiet_on_closed_output(e),
    }
}

/// A reader that went away (`| head`) ends the program quietly; other errors are failures.
fn quiet_on_closed_output(err: io::Error) -> Result<(), Failure> {
    if err.kind() == io::ErrorKind::BrokenPipe {
        Ok(())
    } else {
        Err(Failure::io("writing standard output", err))
    }
}

/// The start of `storage` rounded up to a page boundary: the kernel copies into a
/// page-aligned buffer about twice as fast as into a misaligned one.
fn page_aligned(storage: &mut [u8]) -> &mut [u8] {
    let skip = storage.as_ptr().align_offset(PAGE);
    &mut storage[skip..skip + CHUNK]
}

/// An unbuffered handle on a standard stream: each read and write is one system call.
fn raw(fd: std::os::fd::BorrowedFd<'_>) -> io::Result<File> {
    Ok(File::from(fd.try_clone_to_owned()?))
}
