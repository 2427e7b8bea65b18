//! The forwarder's command line: its options, its help text, and the secrets it reads at start
//! and at each SIGHUP.

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use logmask::{Secrets, SecretsBuilder};

/// How long open connections may go on after Ctrl-C, unless `--grace` says otherwise.
const DEFAULT_GRACE: Duration = Duration::from_secs(1);

/// The one-line usage, after a bad-usage message.
pub const USAGE: &str = "usage: forward [-e NAME]... [-f PATH]... [--min-length N] \
                     [--grace SECS] [--tag] [--tcp ADDR] [--unix PATH] --out FILE";

/// `--help`.
pub const HELP: &str = "forward: accept log streams on TCP and/or Unix sockets, mask the secrets in
each, and append them, whole lines at a time, to one sink file.

  -e, --env NAME            mask the value of environment variable NAME (repeatable)
  -f, --secrets-file PATH   mask each line of PATH (repeatable)
      --min-length N        shortest secret accepted (default: 8)
      --tcp ADDR            listen on TCP ADDR (127.0.0.1:5140; port 0: any free port)
      --unix PATH           listen on a Unix socket at PATH (removed at exit)
  -o, --out FILE            the sink, appended to
      --tag                 prefix each sink line with its connection's number: [N]
      --grace SECS          at SIGINT/SIGTERM, how long open connections may go on (1)
  -h, --help                this text

Signals: SIGHUP reads -e and -f again (a failed reload keeps the previous secrets);
SIGINT and SIGTERM stop accepting, end the connections after the grace period, flush
the sink, remove the socket file and exit 0.
Exit status: 0 after SIGINT/SIGTERM or --help, 1 for an I/O error (cannot listen, cannot
write the sink), 2 for bad usage or bad secrets.";

/// Where the secrets come from, in the order given.
#[derive(Debug, Clone)]
enum Source {
    Env(OsString),
    File(PathBuf),
}

/// The sources and settings of the secrets, read at start and at each SIGHUP.
#[derive(Debug, Clone)]
pub struct Sources {
    list: Vec<Source>,
    min_len: usize,
}

impl Sources {
    /// Reads every source into a builder; `before` (each file's secret count at the last
    /// good read) makes a file that now holds none where it held some an error. Returns the
    /// builder and each source's count.
    pub fn load(&self, before: Option<&[usize]>) -> Result<(SecretsBuilder, Vec<usize>), String> {
        let mut builder = Secrets::builder();
        builder.min_len(self.min_len);
        let mut counts = Vec::with_capacity(self.list.len());
        for (i, source) in self.list.iter().enumerate() {
            let count = match source {
                Source::Env(name) => {
                    builder.add_env(name).map_err(|err| err.to_string())?;
                    1
                }
                Source::File(path) => {
                    // Read once here to count its secrets; `add_reader` names them as
                    // `add_file` would (`PATH line N`).
                    let text = std::fs::read(path).map_err(|err| {
                        format!("cannot read secrets file {}: {err}", path.display())
                    })?;
                    builder
                        .add_reader(path.display().to_string(), &text[..])
                        .map_err(|err| err.to_string())?;
                    count_lines(&text)
                }
            };
            if let (Source::File(path), Some(before)) = (source, before) {
                if count == 0 && before[i] > 0 {
                    return Err(format!(
                        "secrets file {} has no secrets now",
                        path.display()
                    ));
                }
            }
            counts.push(count);
        }
        builder.build().map_err(|err| err.to_string())?;
        Ok((builder, counts))
    }
}

/// The number of secrets in a secrets file's text: its lines that are not blank.
fn count_lines(text: &[u8]) -> usize {
    text.split(|&b| b == b'\n')
        .filter(|line| !line.is_empty() && *line != b"\r")
        .count()
}

/// The command-line options.
pub struct Options {
    pub sources: Sources,
    pub builder: SecretsBuilder,
    pub counts: Vec<usize>,
    pub tag: bool,
    pub grace: Duration,
    pub tcp: Option<String>,
    pub unix: Option<PathBuf>,
    pub out: PathBuf,
}

/// Parses the arguments and loads the secrets; the error is a one-line message.
pub fn parse(args: Vec<OsString>) -> Result<Options, String> {
    let mut sources = Sources {
        list: Vec::new(),
        min_len: logmask::DEFAULT_MIN_LEN,
    };
    let (mut tcp, mut unix, mut out, mut tag) = (None, None, None, false);
    let mut grace = DEFAULT_GRACE;
    let mut args = args.into_iter();
    while let Some(flag) = args.next() {
        let flag = flag.to_string_lossy().into_owned();
        let mut value = || args.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "-e" | "--env" => sources.list.push(Source::Env(value()?)),
            "-f" | "--secrets-file" => sources.list.push(Source::File(PathBuf::from(value()?))),
            "--min-length" => {
                let n = value()?;
                let n = n.to_str().and_then(|n| n.parse().ok());
                sources.min_len = n.ok_or("--min-length needs a number")?;
            }
            "--tag" => tag = true,
            "--grace" => {
                let secs = value()?;
                let secs = secs.to_str().and_then(|s| s.parse::<f64>().ok());
                grace = secs
                    .and_then(|s| Duration::try_from_secs_f64(s).ok())
                    .ok_or("--grace needs a number of seconds")?;
            }
            "--tcp" => tcp = Some(value()?.to_string_lossy().into_owned()),
            "--unix" => unix = Some(PathBuf::from(value()?)),
            "-o" | "--out" => out = Some(PathBuf::from(value()?)),
            _ => return Err(format!("unknown argument {flag}")),
        }
    }
    if sources.list.is_empty() {
        return Err("no secrets given: use -e NAME or -f PATH".into());
    }
    if tcp.is_none() && unix.is_none() {
        return Err("nothing to listen on: use --tcp ADDR and/or --unix PATH".into());
    }
    let out = out.ok_or("no sink: use --out FILE")?;
    let (builder, counts) = sources.load(None)?;
    Ok(Options {
        sources,
        builder,
        counts,
        tag,
        grace,
        tcp,
        unix,
        out,
    })
}
