//! `logmask`: mask secrets in a log stream, or in the output of a command (see README.md and
//! SPEC §5).

mod cli;

use std::ffi::OsString;
use std::io::{self, Write};
use std::os::fd::AsFd;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use logmask::Registry;

use cli::pump::{pump, raw, Names};
use cli::sources::Sources;
use cli::supervise::{Signals, Supervisor};
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

    /// Run COMMAND with its standard output and standard error masked; exit with its status
    /// (128 + N if signal N killed it); SIGINT and SIGTERM are forwarded to it
    #[arg(last = true, value_name = "COMMAND")]
    command: Vec<OsString>,
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
    run(cli).unwrap_or_else(fail)
}

/// The one place that reports a failure.
fn fail(failure: Failure) -> ExitCode {
    let _ = writeln!(io::stderr(), "logmask: {}", failure.message);
    ExitCode::from(failure.status)
}

fn run(cli: Cli) -> Result<ExitCode, Failure> {
    let sources = Sources {
        env: cli.env,
        files: cli.secrets_file,
        min_len: cli.min_length,
        replacement: cli.replacement,
        encodings: cli.encodings,
        token_shapes: !cli.no_token_shapes,
    };
    let registry =
        Arc::new(Registry::new(sources.load()?).map_err(|e| Failure::usage(e.to_string()))?);
    if cli.command.is_empty() {
        filter(registry, sources)
    } else {
        cli::wrap::wrap(&cli.command, registry, sources)
    }
}

/// Masks standard input onto standard output; SIGHUP reloads `sources`.
fn filter(registry: Arc<Registry>, sources: Sources) -> Result<ExitCode, Failure> {
    let input = raw(io::stdin().as_fd()).map_err(|e| Failure::io("standard input", e))?;
    let output = raw(io::stdout().as_fd()).map_err(|e| Failure::io("standard output", e))?;
    let supervisor = Supervisor::start(
        Signals::register(false)?,
        Arc::clone(&registry),
        sources,
        None,
    );
    let names = Names {
        reading: "reading standard input",
        writing: "writing standard output",
    };
    let result = pump(input, output, registry.masker(), names);
    supervisor.stop();
    result.map(|()| ExitCode::SUCCESS)
}
