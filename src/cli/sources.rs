//! Where the secrets come from: environment variables and secrets files, read at start and
//! again on each reload.
//!
//! A reload never shrinks the set silently (CONTRACT §7): a file that is not a regular file at
//! start (a pipe, `/dev/stdin`, `<(…)`, a descriptor) cannot be read twice, so it keeps the
//! secrets of its first read; a regular file that is now unreadable, or has no secret left
//! where it had some, keeps its previous secrets, and the reload says so.

use std::ffi::OsString;
use std::io::Read;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use logmask::{Encodings, Secrets, SecretsBuilder};

use super::Failure;

/// The secrets and settings named on the command line.
#[derive(Clone, Debug)]
pub struct Sources {
    pub env: Vec<OsString>,
    pub files: Vec<PathBuf>,
    pub min_len: usize,
    pub replacement: OsString,
    pub encodings: Encodings,
    pub token_shapes: bool,
    pub structured_credentials: bool,
}

/// What the secrets files gave at the last good read, kept for the next reload.
#[derive(Debug)]
pub struct Loaded {
    files: Vec<FileState>,
}

/// One secrets file's last good contents.
#[derive(Debug)]
struct FileState {
    /// Whether it was a regular file at start; only a regular file is read again.
    rereadable: bool,
    /// Shared with the builders made from it: the secrets are held once.
    text: Arc<[u8]>,
}

/// The result of a reload: the builder to publish, what to say about it.
pub struct Reload {
    pub builder: SecretsBuilder,
    /// One line per source that kept its previous secrets against what it reads now.
    pub warnings: Vec<String>,
    /// The number of secrets (values, before variants) in `builder`.
    pub count: usize,
    /// The sources that cannot be read again and keep the secrets of their first read.
    pub kept: Vec<String>,
}

impl Sources {
    /// Reads every variable and file into a builder with the settings.
    ///
    /// # Errors
    ///
    /// No source at all, an unset variable or an unreadable file; the message names the
    /// variable or file, never a value.
    pub fn load(&self) -> Result<(SecretsBuilder, Loaded), Failure> {
        if self.env.is_empty() && self.files.is_empty() {
            return Err(Failure::usage(
                "no secrets given: use -e NAME or -f PATH (try --help)",
            ));
        }
        let mut files = Vec::with_capacity(self.files.len());
        for path in &self.files {
            let cannot = |err: std::io::Error| {
                Failure::usage(format!(
                    "cannot read secrets file {}: {err}",
                    path.display()
                ))
            };
            // `metadata` follows symbolic links: `/dev/stdin` is a pipe or a terminal.
            let rereadable = std::fs::metadata(path).map_err(cannot)?.is_file();
            let text = read(path).map_err(cannot)?;
            files.push(FileState { rereadable, text });
        }
        let loaded = Loaded { files };
        let builder = self.builder(&loaded)?;
        Ok((builder, loaded))
    }

    /// Reads the sources again, keeping what cannot be read again, or what now reads as
    /// nothing where it held secrets. Returns the reload and what to keep for the next one
    /// once it is published.
    ///
    /// # Errors
    ///
    /// An unset variable; the message names it.
    pub fn reload(&self, loaded: &Loaded) -> Result<(Reload, Loaded), Failure> {
        let mut warnings = Vec::new();
        let mut kept = Vec::new();
        let mut next = Vec::with_capacity(loaded.files.len());
        for (path, old) in self.files.iter().zip(&loaded.files) {
            let shown = path.display();
            let keep = |state: &FileState| FileState {
                rereadable: state.rereadable,
                text: Arc::clone(&state.text),
            };
            if !old.rereadable {
                kept.push(shown.to_string());
                next.push(keep(old));
                continue;
            }
            let had = count_lines(&old.text);
            match read(path) {
                Ok(text) if count_lines(&text) == 0 && had > 0 => {
                    warnings.push(format!(
                        "secrets file {shown} has no secrets now, keeping its {}",
                        previous(had)
                    ));
                    next.push(keep(old));
                }
                Ok(text) => next.push(FileState {
                    rereadable: true,
                    text,
                }),
                Err(err) => {
                    warnings.push(format!(
                        "cannot read secrets file {shown} ({err}), keeping its {}",
                        previous(had)
                    ));
                    next.push(keep(old));
                }
            }
        }
        let candidate = Loaded { files: next };
        let builder = self.builder(&candidate)?;
        let count = self.env.len()
            + candidate
                .files
                .iter()
                .map(|f| count_lines(&f.text))
                .sum::<usize>();
        let reload = Reload {
            builder,
            warnings,
            count,
            kept,
        };
        Ok((reload, candidate))
    }

    /// The settings, the variables' values and the files' lines.
    fn builder(&self, loaded: &Loaded) -> Result<SecretsBuilder, Failure> {
        let mut builder = self.settings();
        for name in &self.env {
            builder
                .add_env(name)
                .map_err(|err| Failure::usage(err.to_string()))?;
        }
        for (path, file) in self.files.iter().zip(&loaded.files) {
            builder.add_lines_shared(path.display().to_string(), Arc::clone(&file.text));
        }
        Ok(builder)
    }

    /// A builder with the settings and no secrets.
    fn settings(&self) -> SecretsBuilder {
        let mut builder = Secrets::builder();
        builder
            .min_len(self.min_len)
            .replacement(self.replacement.as_bytes())
            .encodings(self.encodings)
            .token_shapes(self.token_shapes)
            .structured_credentials(self.structured_credentials);
        builder
    }
}

/// The contents of the file at `path`, read straight into the shared buffer when its size
/// is known and still right (no second copy made and freed: glibc would then keep later
/// buffers of that size in its heap), else read whole and copied.
fn read(path: &Path) -> std::io::Result<Arc<[u8]>> {
    let mut file = std::fs::File::open(path)?;
    let size = file.metadata()?.len();
    if let Ok(size @ 1..) = usize::try_from(size) {
        let mut text: Arc<[u8]> = std::iter::repeat(0).take(size).collect();
        let buf = Arc::get_mut(&mut text).expect("not shared yet");
        if file.read_exact(buf).is_ok() && file.read(&mut [0])? == 0 {
            return Ok(text);
        }
    }
    Ok(std::fs::read(path)?.into())
}

/// "1 previous secret", "3 previous secrets".
fn previous(n: usize) -> String {
    let s = if n == 1 { "" } else { "s" };
    format!("{n} previous secret{s}")
}

/// The number of secrets in a secrets file's text: its non-blank lines.
fn count_lines(text: &[u8]) -> usize {
    let text = text.strip_suffix(b"\n").unwrap_or(text);
    if text.is_empty() {
        return 0;
    }
    text.split(|&b| b == b'\n')
        .filter(|line| !line.is_empty() && *line != b"\r")
        .count()
}
