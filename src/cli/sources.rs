//! Where the secrets come from: environment variables and secrets files, read at start and
//! again on each reload.

use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

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
}

impl Sources {
    /// Reads every variable and file into a builder with the settings.
    ///
    /// # Errors
    ///
    /// No source at all, an unset variable or an unreadable file; the message names the
    /// variable or file, never a value.
    pub fn load(&self) -> Result<SecretsBuilder, Failure> {
        if self.env.is_empty() && self.files.is_empty() {
            return Err(Failure::usage(
                "no secrets given: use -e NAME or -f PATH (try --help)",
            ));
        }
        let mut builder = Secrets::builder();
        builder
            .min_len(self.min_len)
            .replacement(self.replacement.as_bytes())
            .encodings(self.encodings)
            .token_shapes(self.token_shapes);
        for name in &self.env {
            let shown = name.to_string_lossy();
            let value = std::env::var_os(name).ok_or_else(|| {
                Failure::usage(format!("environment variable {shown} is not set"))
            })?;
            builder.add_named(format!("env {shown}"), value.as_bytes());
        }
        for path in &self.files {
            let text = std::fs::read(path).map_err(|err| {
                Failure::usage(format!(
                    "cannot read secrets file {}: {err}",
                    path.display()
                ))
            })?;
            builder.add_lines_named(path.display().to_string(), text);
        }
        Ok(builder)
    }
}
