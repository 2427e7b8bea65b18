//! The one error type of the crate.

use std::fmt;

/// Why a set of secrets could not be built, or a setting could not be parsed.
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
    #[error("{origin} is {len} bytes long, shorter than the minimum length of {min}")]
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
