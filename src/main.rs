//! `logmask`: mask secrets in a log stream, in files, or in the output of a command (see
//! README.md and CONTRACT §5).

mod cli;

use std::ffi::OsString;
use std::io::{self, Write};
use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use logmask::Registry;

use cli::args::{AddCli, Cli, CompletionsCli, ManCli, ScrubCli};
use cli::stats::Stats;
use cli::supervise::{Reloading, Signals};
use cli::Failure;

fn main() -> ExitCode {
    let mut args: Vec<OsString> = std::env::args_os().collect();
    let sub = args.get(1).and_then(|a| a.to_str()).map(str::to_owned);
    match sub.as_deref() {
        Some(name @ ("add" | "scrub" | "man" | "completions")) => {
            args.remove(1);
            subcommand(name, args)
        }
        _ => match Cli::try_parse_from(args) {
            Ok(cli) => {
                let stats = Stats::new(&cli.report);
                finish(&stats, run(cli, &stats))
            }
            Err(err) => usage_error(err),
        },
    }
}

fn subcommand(name: &str, args: Vec<OsString>) -> ExitCode {
    match name {
        "add" => {
            let add = match AddCli::try_parse_from(args) {
                Ok(add) => add,
                Err(err) if !err.use_stderr() => return usage_error(err),
                // Never echo the arguments: a value given there is a secret in `ps` already,
                // and must not reach the log too.
                Err(_) => {
                    return fail(Failure::usage(
                        "bad usage of add: secrets come from standard input or -e NAME, \
                         never from arguments (try logmask add --help)",
                    ))
                }
            };
            match cli::socket::add(add.origin.as_deref(), &add.env) {
                Ok(_) => ExitCode::SUCCESS,
                Err(failure) => fail(failure),
            }
        }
        "scrub" => match ScrubCli::try_parse_from(args) {
            Ok(scrub) => {
                let stats = Stats::new(&scrub.report);
                finish(&stats, cli::scrub::run(scrub, &stats))
            }
            Err(err) => usage_error(err),
        },
        "man" => match ManCli::try_parse_from(args) {
            Ok(ManCli {}) => written(cli::args::man(&mut io::stdout().lock())),
            Err(err) => usage_error(err),
        },
        _ => match CompletionsCli::try_parse_from(args) {
            Ok(c) => {
                let mut out = Vec::new();
                cli::args::completions(c.shell, &mut out);
                written(io::stdout().lock().write_all(&out))
            }
            Err(err) => usage_error(err),
        },
    }
}

/// The status for a generated text written to standard output.
fn written(result: io::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => fail(Failure::io("writing standard output", e)),
    }
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

/// The stats line and `--fail-on-shape` after a run, then its status.
fn finish(stats: &Stats, result: Result<u8, Failure>) -> ExitCode {
    match result {
        Ok(status) => ExitCode::from(stats.finish(status)),
        Err(failure) => {
            let _ = writeln!(io::stderr(), "logmask: {}", failure.message);
            ExitCode::from(stats.finish(failure.status))
        }
    }
}

fn run(cli: Cli, stats: &Stats) -> Result<u8, Failure> {
    // Before the first compile, which can take a second: a SIGHUP meanwhile waits for the
    // signal thread and is acted on once the first set is ready, instead of killing us.
    let signals = Signals::register(!cli.command.is_empty())?;
    cli::check_open(1, "standard output is closed")?;
    if !cli.command.is_empty() && !cli.pty {
        cli::check_open(2, "standard error is closed")?;
    }
    let sources = cli.secrets.sources();
    let (base, loaded) = sources.load()?;
    let registry = Arc::new(Registry::new(base).map_err(|e| Failure::usage(e.to_string()))?);
    let reloading = Reloading {
        registry,
        sources,
        loaded,
        quiet: cli.report.quiet,
    };
    let inband = !cli.no_inband;
    if cli.command.is_empty() {
        cli::files::filter(&cli.files, signals, reloading, inband, stats)
    } else {
        let options = cli::wrap::Options {
            inband,
            pty: cli.pty,
        };
        cli::wrap::wrap(&cli.command, signals, reloading, options, stats)
    }
}
