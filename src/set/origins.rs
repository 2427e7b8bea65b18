//! Which secret or token shape a masked range came from, for counting masked ranges by
//! origin. Built on first use only: a set that is never asked keeps nothing but its list of
//! secrets.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, OnceLock};

use aho_corasick::AhoCorasick;

use super::{Origin, SecretsBuilder};
use crate::find::shapes::SHAPES;

/// What made a masked range: a registered secret, an unregistered token shape, or neither.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MaskedBy {
    /// A registered secret (or a line or an encoded form of it), by the name it was added
    /// with (`env CI_JOB_TOKEN`, `secrets.txt line 2`), or `secret #N` for the `N`th secret
    /// added without a name.
    Secret(Arc<str>),
    /// A token of a well-known shape that no registered secret accounts for, by its prefix
    /// without the separator (`glpat`, `ghp`, `AKIA`).
    Shape(&'static str),
    /// A structured credential that neither accounts for, by its form: `url-password`,
    /// `parameter`, `header` or `pem-key`.
    Credential(&'static str),
    /// A range that neither a registered secret nor a token prefix accounts for.
    Other,
}

impl fmt::Display for MaskedBy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MaskedBy::Secret(name) => f.write_str(name),
            MaskedBy::Shape(prefix) => write!(f, "shape {prefix}"),
            MaskedBy::Credential(form) => write!(f, "credential {form}"),
            MaskedBy::Other => f.write_str("other"),
        }
    }
}

/// A set's secrets with their origins, and the search over them once it is needed.
pub(crate) struct Origins {
    /// The builders whose secrets the set masks (a registry's base and jobs).
    sources: Sources,
    index: OnceLock<Index>,
}

/// The builders whose secrets a set masks, newest first: a list that the sets a registry
/// publishes share, so that a new job costs one node, not a copy of every job's entry.
#[derive(Clone, Default)]
pub(crate) struct Sources(Option<Arc<Node>>);

struct Node {
    builder: Arc<SecretsBuilder>,
    next: Sources,
}

impl Sources {
    /// `builder` before the builders of `self`.
    pub(crate) fn push(&self, builder: Arc<SecretsBuilder>) -> Sources {
        Sources(Some(Arc::new(Node {
            builder,
            next: self.clone(),
        })))
    }

    /// The builders.
    fn builders(&self) -> impl Iterator<Item = &SecretsBuilder> {
        std::iter::successors(self.0.as_deref(), |node| node.next.0.as_deref())
            .map(|node| &*node.builder)
    }
}

impl Drop for Node {
    /// Frees the rest of a long list in a loop, not by recursion.
    fn drop(&mut self) {
        let mut next = self.next.0.take();
        while let Some(node) = next {
            next = match Arc::try_unwrap(node) {
                Ok(mut node) => node.next.0.take(),
                Err(_) => None,
            };
        }
    }
}

/// The byte strings of the set (values, lines, encoded forms) and the origin of each.
struct Index {
    /// Overlapping search; `None` for a set without secrets.
    search: Option<AhoCorasick>,
    /// The position of each pattern's secret, by pattern id.
    of: Vec<usize>,
    /// Each secret's origin, by position.
    names: Vec<MaskedBy>,
    /// For each distinct byte string, the positions of the secrets that occur in it: most
    /// masked ranges are one occurrence, answered without a search.
    whole: HashMap<Box<[u8]>, Box<[usize]>>,
}

impl Origins {
    pub(crate) fn new(sources: Sources) -> Origins {
        Origins {
            sources,
            index: OnceLock::new(),
        }
    }

    /// Calls `f` with the origin of each secret whose byte strings occur in `bytes` (an
    /// origin may come more than once); returns whether any did. `settings` gives a builder
    /// with the set's settings and no secrets.
    pub(crate) fn secrets_in(
        &self,
        bytes: &[u8],
        settings: impl FnOnce() -> SecretsBuilder,
        mut f: impl FnMut(&MaskedBy),
    ) -> bool {
        let index = self.index.get_or_init(|| self.index(settings()));
        if let Some(found) = index.whole.get(bytes) {
            found.iter().for_each(|&i| f(&index.names[i]));
            return !found.is_empty();
        }
        let Some(search) = &index.search else {
            return false;
        };
        let mut any = false;
        for m in search.find_overlapping_iter(bytes) {
            f(&index.names[index.of[m.pattern().as_usize()]]);
            any = true;
        }
        any
    }

    fn index(&self, mut all: SecretsBuilder) -> Index {
        for source in self.sources.builders() {
            all.append(source);
        }
        let (patterns, of) = all.sourced().expect("validated when the set was built");
        let names = (0..all.secrets.len())
            .map(|i| {
                MaskedBy::Secret(match all.secrets.origin(i) {
                    Origin::Named(name) => name.into(),
                    Origin::Index(n) => format!("secret #{n}").into(),
                })
            })
            .collect();
        let search = (!patterns.is_empty())
            .then(|| AhoCorasick::new(&patterns).expect("the exact finder compiled these"));
        let mut whole = HashMap::with_capacity(patterns.len());
        if let Some(search) = &search {
            for p in &patterns {
                if whole.contains_key(p) {
                    continue;
                }
                let mut found: Vec<usize> = search
                    .find_overlapping_iter(&p[..])
                    .map(|m| of[m.pattern().as_usize()])
                    .collect();
                found.sort_unstable();
                found.dedup();
                whole.insert(p.clone(), found.into_boxed_slice());
            }
        }
        Index {
            search,
            of,
            names,
            whole,
        }
    }
}

/// The token shape whose prefix `bytes` begins with (the longest such prefix).
pub(crate) fn shape_at(bytes: &[u8]) -> Option<MaskedBy> {
    SHAPES
        .iter()
        .filter(|shape| bytes.starts_with(shape.prefix))
        .max_by_key(|shape| shape.prefix.len())
        .map(|shape| MaskedBy::Shape(short_name(shape.prefix)))
}

/// The form of a structured credential's range `bytes`, from its first bytes and the byte
/// `before` it; `None` where that byte is gone (a range that continues one from before).
pub(crate) fn credential(bytes: &[u8], before: Option<u8>) -> Option<MaskedBy> {
    let form = match before {
        _ if bytes.starts_with(b"-----BEGIN ") => "pem-key",
        Some(b'=') => "parameter",
        Some(b':') => "url-password",
        Some(_) => "header",
        None => return None,
    };
    Some(MaskedBy::Credential(form))
}

/// A prefix without the separators around it: `glpat-` → `glpat`, `.atlasv1.` → `atlasv1`.
fn short_name(prefix: &'static [u8]) -> &'static str {
    let name = std::str::from_utf8(prefix).expect("the prefixes are ASCII");
    name.trim_matches(|c: char| !c.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_are_named_by_their_prefix() {
        assert_eq!(
            shape_at(b"glpat-0123456789abcdefghij"),
            Some(MaskedBy::Shape("glpat"))
        );
        assert_eq!(
            shape_at(b"github_pat_11AAAA"),
            Some(MaskedBy::Shape("github_pat"))
        );
        assert_eq!(shape_at(b"0123456789"), None);
        assert_eq!(MaskedBy::Shape("ghp").to_string(), "shape ghp");
        assert_eq!(MaskedBy::Other.to_string(), "other");
        let name = |b: &[u8], before| credential(b, before).map(|c| c.to_string());
        assert_eq!(name(b"abc", Some(b'=')).unwrap(), "credential parameter");
        assert_eq!(name(b"-----BEGIN x", None).unwrap(), "credential pem-key");
        assert_eq!(name(b"pw", Some(b':')).unwrap(), "credential url-password");
        assert_eq!(name(b"pw", Some(b' ')).unwrap(), "credential header");
        assert_eq!(name(b"pw", None), None);
    }
}
