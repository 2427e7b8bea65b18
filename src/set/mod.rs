//! [`Secrets`]: the compiled set of secrets, its finders and its settings; `builder.rs` makes it.

use std::collections::HashSet;
use std::fmt;
use std::sync::{Arc, OnceLock};

mod added;
mod builder;
mod encodings;
mod error;
mod load;
mod origins;
mod variants;

pub use builder::SecretsBuilder;
pub use encodings::Encodings;
pub use error::Error;
pub use origins::MaskedBy;

use crate::find::creds::{self, Creds};
use crate::find::exact::Exact;
use crate::find::patterns::Patterns;
use crate::find::shapes::{self, Shapes};
use crate::find::view::Viewed;
use crate::find::Finder;
use added::Added;
pub(crate) use error::{ErrorKind, Origin};
use origins::Origins;
pub(crate) use origins::Sources;
use variants::add_variants;

/// The default replacement text.
pub const DEFAULT_REPLACEMENT: &str = "[MASKED]";

/// The default shortest secret accepted, in bytes.
pub const DEFAULT_MIN_LEN: usize = 8;

/// An immutable, compiled set of secrets with its settings, shared by many streams.
///
/// `Secrets` is `Send + Sync`; wrap it in an [`Arc`](std::sync::Arc) and hand a clone to each
/// [`Masker`](crate::Masker). Its `Debug` output never shows a secret's value.
///
/// # Example
///
/// ```
/// use logmask::Encodings;
///
/// let secrets = logmask::Secrets::builder()
///     .add_named("env CI_JOB_TOKEN", "glcbt-64_s3cr3tvalue")
///     .encodings(Encodings::NONE)
///     .token_shapes(false)
///     .build()?;
/// assert_eq!(secrets.max_len(), 20);
/// # Ok::<(), logmask::Error>(())
/// ```
pub struct Secrets {
    /// The exact finders first (one, or a shared big one and the layers of recent
    /// additions), then the token shapes and the structured credentials if they are on.
    finders: Vec<Finder>,
    /// The number of distinct patterns over the exact finders, once asked (layers may share
    /// patterns with each other).
    len: OnceLock<usize>,
    replacement: Box<[u8]>,
    min_len: usize,
    encodings: Encodings,
    token_shapes: bool,
    structured_credentials: bool,
    /// The secrets with their names, for [`Secrets::origins_of`].
    origins: Origins,
}

impl Secrets {
    /// Starts a builder with the default minimum length (8) and replacement (`[MASKED]`).
    pub fn builder() -> SecretsBuilder {
        SecretsBuilder::new()
    }

    /// Compiles `secrets` with the default settings.
    ///
    /// # Errors
    ///
    /// As [`SecretsBuilder::build`].
    pub fn new<I, S>(secrets: I) -> Result<Secrets, Error>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<[u8]>,
    {
        let mut builder = SecretsBuilder::new();
        for s in secrets {
            builder.add(s);
        }
        builder.build()
    }

    /// The number of distinct byte strings masked: the secrets, the lines of multi-line ones
    /// (short ones joined with a neighbour), and their encoded variants (token shapes are not
    /// counted).
    pub fn len(&self) -> usize {
        *self.len.get_or_init(|| {
            let mut exacts = self.exacts();
            let first = exacts.next().expect("a set has an exact finder");
            let mut seen = HashSet::new();
            let others = exacts
                .flat_map(|e| e.patterns())
                .filter(|p| !first.contains(p) && seen.insert(*p))
                .count();
            first.len() + others
        })
    }

    /// Whether no byte string is masked (token shapes may still be).
    pub fn is_empty(&self) -> bool {
        self.exacts().all(|e| e.len() == 0)
    }

    /// The length of the longest byte string a stream must see whole before it can mask it:
    /// the longest secret or encoded variant, or, with token shapes on, the longest shortest
    /// token, or, with structured credentials on, the longest credential form before it is
    /// decided (260 bytes); with wrapped base64 on, 2 bytes more for each line break a
    /// match can span. A stream holds back fewer bytes.
    pub fn max_len(&self) -> usize {
        let shapes = if self.token_shapes {
            shapes::MAX_TOKEN
        } else {
            0
        };
        let creds = if self.structured_credentials {
            creds::MAX_HELD + 1
        } else {
            0
        };
        let views = self.finders.iter().map(|f| match f {
            Finder::Unwrapped(v) => v.max_len(),
            Finder::HexUpper(v) => v.max_len(),
            _ => 0,
        });
        self.exacts()
            .map(Exact::max_len)
            .chain(views)
            .fold(shapes.max(creds), usize::max)
    }

    /// The encoded variants masked along with each secret.
    pub fn encodings(&self) -> Encodings {
        self.encodings
    }

    /// Whether well-known token shapes are masked.
    pub fn token_shapes(&self) -> bool {
        self.token_shapes
    }

    /// Whether structured credentials (URL passwords, credential parameters,
    /// `Authorization:` values, PEM private-key blocks) are masked.
    pub fn structured_credentials(&self) -> bool {
        self.structured_credentials
    }

    /// The shortest secret this set accepted.
    pub fn min_len(&self) -> usize {
        self.min_len
    }

    /// The text that replaces each masked range.
    pub fn replacement(&self) -> &[u8] {
        &self.replacement
    }

    /// Approximate heap bytes used by the compiled set.
    pub fn memory_usage(&self) -> usize {
        self.exacts().map(Exact::memory_usage).sum::<usize>() + self.replacement.len()
    }

    /// Calls `f` with what accounts for the masked range `bytes` (`before` is the byte
    /// before it, if known): the origin of each registered byte string in it (once per
    /// occurrence), or else the token shape it begins with, or else, with structured
    /// credentials on, the form of credential. Returns false if none does (a range that
    /// continues one reported before).
    pub(crate) fn origins_of(
        &self,
        bytes: &[u8],
        before: Option<u8>,
        mut f: impl FnMut(&MaskedBy),
    ) -> bool {
        if self.origins.secrets_in(bytes, || self.settings(), &mut f) {
            return true;
        }
        match origins::shape_at(bytes).filter(|_| self.token_shapes) {
            Some(shape) => {
                f(&shape);
                true
            }
            None => {
                match origins::credential(bytes, before).filter(|_| self.structured_credentials) {
                    Some(form) => {
                        f(&form);
                        true
                    }
                    None => false,
                }
            }
        }
    }

    /// A builder with this set's settings and no secrets.
    fn settings(&self) -> SecretsBuilder {
        SecretsBuilder {
            min_len: self.min_len,
            replacement: self.replacement.to_vec(),
            encodings: self.encodings,
            token_shapes: self.token_shapes,
            structured_credentials: self.structured_credentials,
            secrets: Added::default(),
        }
    }

    /// The finders, in the order streams keep their states.
    pub(crate) fn finders(&self) -> &[Finder] {
        &self.finders
    }

    /// The exact finders, the first (the biggest, where a set has layers) first.
    fn exacts(&self) -> impl Iterator<Item = &Exact> {
        self.finders.iter().map_while(|f| match f {
            Finder::Exact(exact) => Some(&**exact),
            _ => None,
        })
    }

    /// A set with the settings of `settings` whose patterns are those of `layers` (the first
    /// one the biggest), each searched by a finder of its own.
    pub(crate) fn layered(
        settings: &SecretsBuilder,
        layers: impl IntoIterator<Item = Arc<Exact>>,
        sources: Sources,
    ) -> Secrets {
        let layers: Vec<Arc<Exact>> = layers.into_iter().collect();
        assert!(!layers.is_empty(), "a set has an exact finder");
        let mut finders: Vec<Finder> = layers.iter().cloned().map(Finder::Exact).collect();
        if settings.encodings.contains(Encodings::BASE64_WRAPPED) {
            finders.extend(Viewed::new(&layers).map(Finder::Unwrapped));
        }
        if settings.encodings.contains(Encodings::PERCENT_MIXED) {
            finders.extend(Viewed::new(&layers).map(Finder::HexUpper));
        }
        if settings.token_shapes {
            finders.push(Finder::Shapes(Shapes));
        }
        if settings.structured_credentials {
            finders.push(Finder::Creds(Creds));
        }
        Secrets {
            finders,
            len: OnceLock::new(),
            replacement: settings.replacement.as_slice().into(),
            min_len: settings.min_len,
            encodings: settings.encodings,
            token_shapes: settings.token_shapes,
            structured_credentials: settings.structured_credentials,
            origins: Origins::new(sources),
        }
    }
}

impl fmt::Debug for Secrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Secrets")
            .field("len", &self.len())
            .field("max_len", &self.max_len())
            .field("min_len", &self.min_len)
            .field("replacement", &String::from_utf8_lossy(&self.replacement))
            .field("encodings", &self.encodings)
            .field("token_shapes", &self.token_shapes)
            .field("structured_credentials", &self.structured_credentials)
            .finish_non_exhaustive()
    }
}

/// The byte strings of a set, and the position of each one's secret among those added.
type Sourced = (Vec<Box<[u8]>>, Vec<usize>);
