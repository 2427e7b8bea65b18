//! The one error type of the crate.

use std::fmt;

/// Why a set of secrets could not be built or loaded, or a setting could not be parsed.
///
/// The message names a secret by its origin (`env CI_JOB_TOKEN`, `secrets.txt line 3`) or,
/// where none was given, by its position, and by its length. It never contains the value,
/// and neither does `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
}

/// What went wrong, with where the secret came from.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ErrorKind {
    #[error(
        "{origin} is {} long, shorter than the minimum length of {min}",
        bytes(*len)
    )]
    TooShort {
        origin: Origin,
        len: usize,
        min: usize,
    },
    #[error("{origin} occurs inside the replacement text, so the output would show it")]
    InReplacement { origin: Origin },
    #[error(
        "an encoded form of {origin} occurs inside the replacement text, so the output would \
         show it (choose another replacement, or fewer encodings)"
    )]
    EncodedInReplacement { origin: Origin },
    #[error(
        "unknown encoding {name:?} (expected a comma list of base64, url, json, or none alone)"
    )]
    BadEncodings { name: String },
    #[error("environment variable {name} is not set")]
    EnvUnset { name: String },
    #[error("cannot read {what}: {reason}")]
    Read {
        what: String,
        kind: std::io::ErrorKind,
        reason: String,
    },
}

/// Where a secret came from: a name given by the caller, or its position among the secrets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Origin {
    /// The caller's name for it, e.g. `env CI_JOB_TOKEN` or `secrets.txt line 3`.
    Named(String),
    /// The zero-based position of an unnamed secret in the order it was added.
    Index(usize),
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Named(name) => write!(f, "the secret from {name}"),
            Origin::Index(i) => write!(f, "secret #{i}"),
        }
    }
}

/// `n` with its unit: "1 byte", "0 bytes", "8 bytes".
fn bytes(n: usize) -> String {
    let s = if n == 1 { "" } else { "s" };
    format!("{n} byte{s}")
}

/// The origin of value `n` (counted from 1) of job `job`: `job 42 value 1`. An id that
/// already begins with the word "job" (`job 3`, `job-3`) is not given a second one.
pub(crate) fn job_value(job: &str, n: usize) -> String {
    let named = job.get(..3).is_some_and(|w| w.eq_ignore_ascii_case("job"))
        && !job[3..].starts_with(|c: char| c.is_alphanumeric());
    if named {
        format!("{job} value {n}")
    } else {
        format!("job {job} value {n}")
    }
}

impl Error {
    pub(crate) fn new(kind: ErrorKind) -> Self {
        Error { kind }
    }

    /// Whether the error is a secret shorter than the minimum length.
    pub fn is_too_short(&self) -> bool {
        matches!(self.kind, ErrorKind::TooShort { .. })
    }

    /// Whether the error is a secret, or one of its encoded variants, that occurs inside the
    /// replacement text.
    pub fn is_in_replacement(&self) -> bool {
        matches!(
            self.kind,
            ErrorKind::InReplacement { .. } | ErrorKind::EncodedInReplacement { .. }
        )
    }

    /// Whether the error is an environment variable that is not set
    /// ([`add_env`](crate::SecretsBuilder::add_env)).
    pub fn is_env_unset(&self) -> bool {
        matches!(self.kind, ErrorKind::EnvUnset { .. })
    }

    /// Whether the error is a secrets file or reader that could not be read
    /// ([`add_file`](crate::SecretsBuilder::add_file),
    /// [`add_reader`](crate::SecretsBuilder::add_reader)).
    pub fn is_read(&self) -> bool {
        matches!(self.kind, ErrorKind::Read { .. })
    }

    /// The kind of the I/O error behind an [`is_read`](Self::is_read) error.
    pub fn io_kind(&self) -> Option<std::io::ErrorKind> {
        match self.kind {
            ErrorKind::Read { kind, .. } => Some(kind),
            _ => None,
        }
    }

    /// Whether the error is a list of encodings that could not be parsed.
    pub fn is_bad_encodings(&self) -> bool {
        matches!(self.kind, ErrorKind::BadEncodings { .. })
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.kind.fmt(f)
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The message is already redacted; Debug shows the same words.
        write!(f, "Error({:?})", self.kind.to_string())
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_and_job_names_read_as_english() {
        let short = |len| {
            let origin = Origin::Named(job_value("job 3", 1));
            Error::new(ErrorKind::TooShort {
                origin,
                len,
                min: 8,
            })
            .to_string()
        };
        assert_eq!(
            short(1),
            "the secret from job 3 value 1 is 1 byte long, shorter than the minimum length of 8"
        );
        assert!(short(0).contains(" is 0 bytes long"));
        assert!(short(7).contains(" is 7 bytes long"));
        assert_eq!(job_value("42", 2), "job 42 value 2");
        assert_eq!(job_value("Job-7", 1), "Job-7 value 1");
        assert_eq!(job_value("job", 1), "job value 1");
        assert_eq!(job_value("jobless", 1), "job jobless value 1");
        assert_eq!(job_value("jö", 1), "job jö value 1");
    }
}
