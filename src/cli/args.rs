//! The command line: options, subcommands, and the help text, man page and completions that
//! clap generates from them.

use std::ffi::OsString;
use std::io::{self, Write};
use std::path::PathBuf;

use clap::{Args, CommandFactory, Parser};

use super::sources::Sources;

/// Mask secrets in logs: replace every occurrence of every secret with the replacement text.
///
/// With no FILE and no COMMAND, logmask filters standard input to standard output. With
/// FILEs, it masks each one in order to standard output (`-` is standard input). With
/// `-- COMMAND`, it runs the command and masks its standard output and standard error onto
/// ours. SIGHUP re-reads the secrets files and variables; a reload never drops a secret that
/// cannot be read again.
#[derive(Parser, Debug)]
#[command(
    verbatim_doc_comment,
    name = "logmask",
    version,
    max_term_width = 100,
    after_help = AFTER_HELP,
    subcommand_help_heading = "Subcommands",
)]
pub struct Cli {
    #[command(flatten)]
    pub secrets: SecretArgs,

    #[command(flatten)]
    pub report: ReportArgs,

    /// Do not recognise registration lines (::add-mask::VALUE, ##vso[task.setsecret]VALUE):
    /// pass them through as text
    #[arg(verbatim_doc_comment, long = "no-inband")]
    pub no_inband: bool,

    /// Run COMMAND on a pseudo-terminal: it sees a terminal (colours, line-buffered output),
    /// and its standard output and standard error share it, masked onto our standard output;
    /// it has our terminal's window size, passed on again at each SIGWINCH
    #[arg(verbatim_doc_comment, long, requires = "command")]
    pub pty: bool,

    /// Files to mask to standard output, in order (`-`: standard input)
    #[arg(verbatim_doc_comment, value_name = "FILE", conflicts_with = "command")]
    pub files: Vec<PathBuf>,

    /// Run COMMAND with its standard output and standard error masked; exit with its status
    /// (128 + N if signal N killed it); SIGINT and SIGTERM are forwarded to it
    #[arg(verbatim_doc_comment, last = true, value_name = "COMMAND")]
    pub command: Vec<OsString>,
}

const AFTER_HELP: &str = "\
Subcommands (given first):
  logmask scrub [OPTIONS] PATH...   mask files in place, directories recursively
  logmask add [-e NAME]...          register secrets with the logmask running this job
  logmask man                       print the man page (roff)
  logmask completions SHELL         print completions for bash, zsh, fish, elvish or powershell

Exit status:
  0    done (also when the reader of the output went away, as with `| head`)
  1    an I/O error
  2    bad usage or bad secrets (unknown option, unset variable, unreadable secrets file,
       secret shorter than --min-length), or an input FILE that cannot be opened (the
       other FILEs are still masked)
  3    with --fail-on-shape: an unregistered token shape was masked (and all else went well)
  N    with COMMAND: the command's status; 128+N if signal N killed it; 126 or 127 if it
       cannot be run

Signals: SIGHUP reloads the secrets; with COMMAND, SIGINT and SIGTERM go on to it.

Examples:
  ./build.sh 2>&1 | logmask -e CI_JOB_TOKEN -f masked-variables.txt >> job.log
  logmask -e CI_JOB_TOKEN --stats --fail-on-shape -- make test";

/// Where the secrets come from and how they are masked.
#[derive(Args, Debug)]
pub struct SecretArgs {
    /// Mask the value of environment variable NAME (repeatable)
    #[arg(verbatim_doc_comment, short = 'e', long = "env", value_name = "NAME")]
    pub env: Vec<OsString>,

    /// Mask each line of PATH (repeatable)
    #[arg(
        verbatim_doc_comment,
        short = 'f',
        long = "secrets-file",
        value_name = "PATH"
    )]
    pub secrets_file: Vec<PathBuf>,

    /// Replacement text
    #[arg(verbatim_doc_comment, short = 'r', long, value_name = "TEXT", default_value = logmask::DEFAULT_REPLACEMENT)]
    pub replacement: OsString,

    /// Shortest secret accepted, in bytes
    #[arg(verbatim_doc_comment, long = "min-length", value_name = "N", default_value_t = logmask::DEFAULT_MIN_LEN)]
    pub min_length: usize,

    /// Variants to mask: comma list of base64,url,json,shell,json-escapes,form,
    /// base64-wrapped,percent-mixed, or none (default: all but base64-wrapped)
    #[arg(verbatim_doc_comment, long, value_name = "LIST", default_value_t = logmask::Encodings::DEFAULT)]
    pub encodings: logmask::Encodings,

    /// Do not mask unregistered tokens by their shape (glpat-..., ghp_..., AKIA...)
    #[arg(verbatim_doc_comment, long = "no-token-shapes")]
    pub no_token_shapes: bool,

    /// Mask credentials by their place, registered or not: URL passwords,
    /// token=/password=/sig=... values, Authorization: values, PEM private-key blocks
    #[arg(
        verbatim_doc_comment,
        long = "structured-credentials",
        overrides_with = "no_structured_credentials"
    )]
    pub structured_credentials: bool,

    /// Do not mask structured credentials (the default)
    #[arg(
        verbatim_doc_comment,
        long = "no-structured-credentials",
        overrides_with = "structured_credentials"
    )]
    pub no_structured_credentials: bool,
}

impl SecretArgs {
    pub fn sources(self) -> Sources {
        Sources {
            env: self.env,
            files: self.secrets_file,
            min_len: self.min_length,
            replacement: self.replacement,
            encodings: self.encodings,
            token_shapes: !self.no_token_shapes,
            structured_credentials: self.structured_credentials && !self.no_structured_credentials,
        }
    }
}

/// What is said about the masking.
#[derive(Args, Debug)]
pub struct ReportArgs {
    /// At the end, print one line on standard error: bytes in and out, masked ranges by
    /// origin (never a value)
    #[arg(verbatim_doc_comment, long)]
    pub stats: bool,

    /// Exit with status 3 if an unregistered token shape was masked (a live token reached
    /// the log), when the status would otherwise be 0
    #[arg(verbatim_doc_comment, long = "fail-on-shape")]
    pub fail_on_shape: bool,

    /// Do not print a line for a successful reload (warnings and errors are still printed)
    #[arg(verbatim_doc_comment, short = 'q', long)]
    pub quiet: bool,
}

/// Mask files in place: each PATH, directories recursively. A file is rewritten atomically
/// (a temporary file beside it, synced, renamed over it) with its mode and ownership; a file
/// with nothing to mask is not touched. Symbolic links are not followed. Prints one line per
/// changed file and a summary on standard error, never a value.
#[derive(Parser, Debug)]
#[command(
    verbatim_doc_comment,
    name = "logmask scrub",
    bin_name = "logmask scrub",
    version,
    max_term_width = 100
)]
pub struct ScrubCli {
    #[command(flatten)]
    pub secrets: SecretArgs,

    #[command(flatten)]
    pub report: ReportArgs,

    /// Say what would change, change nothing
    #[arg(verbatim_doc_comment, short = 'n', long = "dry-run")]
    pub dry_run: bool,

    /// Files and directories to mask
    #[arg(verbatim_doc_comment, value_name = "PATH", required = true)]
    pub paths: Vec<PathBuf>,
}

/// Register secrets with the `logmask` that runs this job: the values come from standard
/// input (one per line, like a secrets file) or from environment variables, never from the
/// command line. Exits 0 once every stream of that `logmask` masks them, 2 otherwise.
#[derive(Parser, Debug)]
#[command(
    verbatim_doc_comment,
    name = "logmask add",
    bin_name = "logmask add",
    version,
    max_term_width = 100
)]
pub struct AddCli {
    /// Register the value of environment variable NAME (repeatable); without -e, read the
    /// secrets from standard input
    #[arg(verbatim_doc_comment, short = 'e', long = "env", value_name = "NAME")]
    pub env: Vec<OsString>,

    /// A name for these secrets in logmask's error messages
    #[arg(verbatim_doc_comment, long, value_name = "NAME")]
    pub origin: Option<String>,
}

/// Print shell completions for logmask.
#[derive(Parser, Debug)]
#[command(
    verbatim_doc_comment,
    name = "logmask completions",
    bin_name = "logmask completions",
    version,
    max_term_width = 100
)]
pub struct CompletionsCli {
    /// The shell
    #[arg(verbatim_doc_comment, value_name = "SHELL")]
    pub shell: clap_complete::Shell,
}

/// Print logmask's man page (roff): `logmask man > logmask.1`.
#[derive(Parser, Debug)]
#[command(
    verbatim_doc_comment,
    name = "logmask man",
    bin_name = "logmask man",
    version,
    max_term_width = 100
)]
pub struct ManCli {}

/// The whole command line, subcommands included, for the generators.
fn whole() -> clap::Command {
    let sub = |cmd: clap::Command, name: &'static str| cmd.name(name).bin_name(name);
    Cli::command()
        .subcommand(sub(ScrubCli::command(), "scrub"))
        .subcommand(sub(AddCli::command(), "add"))
        .subcommand(sub(ManCli::command(), "man"))
        .subcommand(sub(CompletionsCli::command(), "completions"))
}

/// Writes the man page: clap's, with the exit statuses, signals and examples as sections of
/// their own, their lines kept as `--help` shows them.
pub fn man(out: &mut dyn Write) -> io::Result<()> {
    let mut page = Vec::new();
    clap_mangen::Man::new(whole().after_help(None::<&str>)).render(&mut page)?;
    let page = String::from_utf8(page).map_err(io::Error::other)?;
    let at = page.find("\n.SH VERSION").map_or(page.len(), |at| at + 1);
    out.write_all(&page.as_bytes()[..at])?;
    out.write_all(man_sections().as_bytes())?;
    out.write_all(&page.as_bytes()[at..])
}

/// The parts of [`AFTER_HELP`] after the subcommands (which the man page lists already), each
/// a section in no-fill mode.
fn man_sections() -> String {
    let mut roff = String::new();
    for part in AFTER_HELP.split("\n\n").skip(1) {
        let (head, body) = part.split_once(':').unwrap_or(("", part));
        roff.push_str(&format!(".SH {}\n.nf\n", head.to_uppercase()));
        for line in body.strip_prefix('\n').unwrap_or(body.trim_start()).lines() {
            let line = line.replace('\\', "\\e").replace('-', "\\-");
            // A line that starts with a dot or an apostrophe would be a request.
            let guard = if line.starts_with(['.', '\'']) {
                "\\&"
            } else {
                ""
            };
            roff.push_str(&format!("{guard}{line}\n"));
        }
        roff.push_str(".fi\n");
    }
    roff
}

/// Writes the completions for `shell`.
pub fn completions(shell: clap_complete::Shell, out: &mut dyn Write) {
    clap_complete::generate(shell, &mut whole(), "logmask", out);
}
