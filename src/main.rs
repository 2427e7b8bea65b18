//! `logmask`: mask secrets in a log stream, or in the output of a command (see README.md and
//! CONTRACT §5).

mod cli;

use std::ffi::OsString;
use std::io::{self, Write};
use std::os::fd::AsFd;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use logmask::Registry;

use cli::pump::{pump, raw, Ended, Names, Stream};
use cli::sources::Sources;
use cli::supervise::{Reloading, Signals, Supervisor};
use cli::Failure;

/// Mask secrets in a log stream: standard input to standard output, or the standard output
/// and standard error of COMMAND to ours, replacing every occurrence of every secret with the
/// replacement text. SIGHUP re-reads the secrets.
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

    /// Variants to mask: comma list of base64,url,json,shell,json-escapes,form, or none
    #[arg(long, value_name = "LIST", default_value_t = logmask::Encodings::ALL)]
    encodings: logmask::Encodings,

    /// Do not mask unregistered tokens by their shape (glpat-…, ghp_…, AKIA…)
    #[arg(long = "no-token-shapes")]
    no_token_shapes: bool,

    /// Do not print a line for a successful reload (warnings and errors are still printed)
    #[arg(short = 'q', long)]
    quiet: bool,

    /// Do not recognise registration lines (::add-mask::VALUE, ##vso[task.setsecret]VALUE):
    /// pass them through as text
    #[arg(long = "no-inband")]
    no_inband: bool,

    /// Run COMMAND with its standard output and standard error masked; exit with its status
    /// (128 + N if signal N killed it); SIGINT and SIGTERM are forwarded to it
    #[arg(last = true, value_name = "COMMAND")]
    command: Vec<OsString>,
}

/// Register secrets with the `logmask` that runs this job: the values come from standard
/// input (one per line, like a secrets file) or from environment variables, never from the
/// command line. Exits 0 once every stream of that `logmask` masks them, 2 otherwise.
#[derive(Parser, Debug)]
#[command(name = "logmask add", version, max_term_width = 100)]
struct AddCli {
    /// Register the value of environment variable NAME (repeatable); without -e, read the
    /// secrets from standard input
    #[arg(short = 'e', long = "env", value_name = "NAME")]
    env: Vec<OsString>,

    /// A name for these secrets in logmask's error messages
    #[arg(long, value_name = "NAME")]
    origin: Option<String>,
}

fn main() -> ExitCode {
    let mut args: Vec<OsString> = std::env::args_os().collect();
    if args.get(1).is_some_and(|arg| arg == "add") {
        args.remove(1);
        let add = match AddCli::try_parse_from(args) {
            Ok(add) => add,
            Err(err) if !err.use_stderr() => return usage_error(err),
            // Never echo the arguments: a value given there is a secret in `ps` already, and
            // must not reach the log too.
            Err(_) => {
                return fail(Failure::usage(
                    "bad usage of add: secrets come from standard input or -e NAME, \
                     never from arguments (try logmask add --help)",
                ))
            }
        };
        return match cli::socket::add(add.origin.as_deref(), &add.env) {
            Ok(_) => ExitCode::SUCCESS,
            Err(failure) => fail(failure),
        };
    }
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(err) => return usage_error(err),
    };
    run(cli).unwrap_or_else(fail)
}

/// `--help` and `--version`, or one line for bad usage.
fn usage_error(err: clap::Error) -> ExitCode {
    if !err.use_stderr() {
        let _ = err.print();
        return ExitCode::SUCCESS;
    }
    let rendered = err.render().to_string();
    let first = rendered.lines().next().unwrap_or("bad usage");
    let first = first.strip_prefix("error: ").unwrap_or(first);
    fail(Failure::usage(format!("{first} (try --help)")))
}

/// The one place that reports a failure.
fn fail(failure: Failure) -> ExitCode {
    let _ = writeln!(io::stderr(), "logmask: {}", failure.message);
    ExitCode::from(failure.status)
}

fn run(cli: Cli) -> Result<ExitCode, Failure> {
    // Before the first compile, which can take a second: a SIGHUP meanwhile waits for the
    // signal thread and is acted on once the first set is ready, instead of killing us.
    let signals = Signals::register(!cli.command.is_empty())?;
    cli::check_open(1, "standard output is closed")?;
    if !cli.command.is_empty() {
        cli::check_open(2, "standard error is closed")?;
    }
    let sources = Sources {
        env: cli.env,
        files: cli.secrets_file,
        min_len: cli.min_length,
        replacement: cli.replacement,
        encodings: cli.encodings,
        token_shapes: !cli.no_token_shapes,
    };
    let (base, loaded) = sources.load()?;
    let registry = Arc::new(Registry::new(base).map_err(|e| Failure::usage(e.to_string()))?);
    let reloading = Reloading {
        registry,
        sources,
        loaded,
        quiet: cli.quiet,
    };
    if cli.command.is_empty() {
        filter(signals, reloading, !cli.no_inband)
    } else {
        let options = cli::wrap::Options {
            inband: !cli.no_inband,
        };
        cli::wrap::wrap(&cli.command, signals, reloading, options)
    }
}

/// Masks standard input onto standard output; SIGHUP reloads the sources.
fn filter(signals: Signals, reloading: Reloading, inband: bool) -> Result<ExitCode, Failure> {
    let registry: Arc<Registry> = Arc::clone(&reloading.registry);
    let input = raw(io::stdin().as_fd()).map_err(|e| Failure::io("standard input", e))?;
    let output = raw(io::stdout().as_fd()).map_err(|e| Failure::io("standard output", e))?;
    let supervisor = Supervisor::start(signals, reloading, None, None);
    let stream = Stream {
        input,
        output,
        masker: registry.masker(),
        names: Names {
            reading: "reading standard input",
            writing: "writing standard output",
            stream: "stdin",
        },
    };
    let result = pump(vec![stream], registry, inband, None)
        .pop()
        .expect("one result per stream");
    supervisor.stop();
    result.map(|_: Ended| ExitCode::SUCCESS)
}
