//! The secrets added to a builder, stored end to end, with their origins in a few bytes each.

use std::sync::Arc;

use super::error::{job_value, Origin};
use crate::find::patterns::Patterns;

/// The secrets in the order they were added, and where each came from. An origin is named
/// (as a `String`) only when it is asked for: a secrets file's lines share one name.
#[derive(Clone, Default)]
pub(crate) struct Added {
    values: Patterns,
    /// Per secret: its source (an index into `sources`) and its number there (its position
    /// among the builder's secrets when it was added, a line number, a value number).
    of: Vec<(u32, u32)>,
    sources: Vec<Source>,
}

/// What names a secret.
#[derive(Clone)]
enum Source {
    /// Added without a name: `secret #N`, `N` its position.
    Unnamed,
    /// Named by the caller.
    Named(String),
    /// A line of a text: `{name} line {n}`.
    Lines(String),
    /// A job's value: `job {job} value {n}`.
    Values(String),
    /// A line of a text kept shared, not copied (`{name} line {n}`): secret `first + j` is
    /// `text[spans[j]]`, and has an empty entry in `values`.
    Shared {
        name: String,
        text: Arc<[u8]>,
        first: usize,
        spans: Vec<(u32, u32)>,
    },
}

impl Added {
    /// The number of secrets.
    pub(crate) fn len(&self) -> usize {
        self.of.len()
    }

    /// The secrets, in order.
    pub(crate) fn values(&self) -> impl Iterator<Item = &[u8]> + '_ {
        (0..self.len()).map(|i| self.get(i))
    }

    /// Secret `i`.
    pub(crate) fn get(&self, i: usize) -> &[u8] {
        match &self.sources[self.of[i].0 as usize] {
            Source::Shared {
                text, first, spans, ..
            } => {
                let (start, end) = spans[i - first];
                &text[start as usize..end as usize]
            }
            _ => &self.values[i],
        }
    }

    /// Adds a secret without a name.
    pub(crate) fn unnamed(&mut self, secret: &[u8]) {
        let n = self.len();
        if !matches!(self.sources.last(), Some(Source::Unnamed)) {
            self.sources.push(Source::Unnamed);
        }
        self.push(secret, n);
    }

    /// Adds a secret named `name`.
    pub(crate) fn named(&mut self, name: String, secret: &[u8]) {
        self.sources.push(Source::Named(name));
        self.push(secret, 0);
    }

    /// Starts a source of numbered secrets: the lines of the text `name`, or (`job`) the
    /// values of job `name`. [`numbered`](Self::numbered) adds to it.
    pub(crate) fn start(&mut self, name: String, job: bool) {
        self.sources.push(if job {
            Source::Values(name)
        } else {
            Source::Lines(name)
        });
    }

    /// Starts a source of the lines of `text` (at most `u32::MAX` bytes), kept shared:
    /// [`shared`](Self::shared) adds them.
    pub(crate) fn start_shared(&mut self, name: String, text: Arc<[u8]>) {
        assert!(
            u32::try_from(text.len()).is_ok(),
            "a shared text under 4 GiB"
        );
        self.sources.push(Source::Shared {
            name,
            text,
            first: self.len(),
            spans: Vec::new(),
        });
    }

    /// Adds secret number `n` of the shared text started last: its bytes `start..end`.
    pub(crate) fn shared(&mut self, n: usize, start: usize, end: usize) {
        let Some(Source::Shared { spans, text, .. }) = self.sources.last_mut() else {
            unreachable!("a shared text was started");
        };
        debug_assert!(start <= end && end <= text.len());
        // Below 2^32: the text is.
        spans.push((start as u32, end as u32));
        self.push(&[], n);
    }

    /// Adds secret number `n` of the source started last.
    pub(crate) fn numbered(&mut self, n: usize, secret: &[u8]) {
        debug_assert!(matches!(
            self.sources.last(),
            Some(Source::Lines(_) | Source::Values(_))
        ));
        self.push(secret, n);
    }

    fn push(&mut self, secret: &[u8], n: usize) {
        let source = u32::try_from(self.sources.len() - 1).expect("fewer than 2^32 sources");
        let n = u32::try_from(n).expect("fewer than 2^32 secrets from one source");
        self.values.push(secret);
        self.of.push((source, n));
    }

    /// Adds the secrets of `other`, with their origins.
    pub(crate) fn append(&mut self, other: &Added) {
        let base = u32::try_from(self.sources.len()).expect("fewer than 2^32 sources");
        let secrets = self.len();
        self.sources.extend(other.sources.iter().map(|source| {
            let mut source = source.clone();
            if let Source::Shared { first, .. } = &mut source {
                *first += secrets;
            }
            source
        }));
        self.of
            .extend(other.of.iter().map(|&(source, n)| (base + source, n)));
        self.values.append(&other.values);
    }

    /// Frees the room reserved for more secrets.
    pub(crate) fn shrink_to_fit(&mut self) {
        self.values.shrink_to_fit();
        self.of.shrink_to_fit();
        self.sources.shrink_to_fit();
        for source in &mut self.sources {
            if let Source::Shared { spans, .. } = source {
                spans.shrink_to_fit();
            }
        }
    }

    /// The origin of secret `i`.
    pub(crate) fn origin(&self, i: usize) -> Origin {
        let (source, n) = self.of[i];
        let n = n as usize;
        match &self.sources[source as usize] {
            Source::Unnamed => Origin::Index(n),
            Source::Named(name) => Origin::Named(name.clone()),
            Source::Lines(name) | Source::Shared { name, .. } => {
                Origin::Named(format!("{name} line {n}"))
            }
            Source::Values(job) => Origin::Named(job_value(job, n)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_named_when_asked() {
        let mut a = Added::default();
        a.unnamed(b"first-secret");
        a.named("env TOKEN".into(), b"second-secret");
        a.start("secrets.txt".into(), false);
        a.numbered(3, b"third-secret");
        a.unnamed(b"fourth-secret");
        let mut b = Added::default();
        b.start("41".into(), true);
        b.numbered(1, b"job-secret");
        b.start_shared(
            "keys.txt".into(),
            Arc::from(&b"\nkey-one-secret\nkey-two-secret\n"[..]),
        );
        b.shared(2, 1, 15);
        b.shared(3, 16, 30);
        b.unnamed(b"fifth-secret");
        a.append(&b);
        a.shrink_to_fit();
        let names: Vec<String> = (0..a.len()).map(|i| a.origin(i).to_string()).collect();
        assert_eq!(
            names,
            [
                "secret #0",
                "the secret from env TOKEN",
                "the secret from secrets.txt line 3",
                "secret #3",
                "the secret from job 41 value 1",
                "the secret from keys.txt line 2",
                "the secret from keys.txt line 3",
                "secret #3"
            ]
        );
        let values: Vec<&[u8]> = a.values().collect();
        assert_eq!(values[4], b"job-secret");
        assert_eq!(
            &values[5..],
            [&b"key-one-secret"[..], b"key-two-secret", b"fifth-secret"]
        );
        // A copy shares the text and gives the same secrets.
        let mut c = Added::default();
        c.append(&a);
        assert!(c.values().eq(a.values()));
        assert_eq!(values[2], b"third-secret");
    }
}
