//! [`SecretsBuilder`]: collects secrets and settings, validates them, and compiles the
//! patterns and finders of a [`Secrets`] set.

use super::*;

/// Sets of at least this many secrets write their patterns on two threads.
const PARALLEL_SECRETS: usize = 4_096;

/// Collects secrets and settings, then validates and compiles them into [`Secrets`].
#[derive(Clone)]
pub struct SecretsBuilder {
    pub(super) min_len: usize,
    pub(super) replacement: Vec<u8>,
    pub(super) encodings: Encodings,
    pub(super) token_shapes: bool,
    pub(super) structured_credentials: bool,
    pub(super) secrets: Added,
}

impl Default for SecretsBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl SecretsBuilder {
    /// A builder with the default minimum length (8) and replacement (`[MASKED]`), all
    /// encoded variants and the token shapes; structured credentials off.
    pub fn new() -> Self {
        SecretsBuilder {
            min_len: DEFAULT_MIN_LEN,
            replacement: DEFAULT_REPLACEMENT.as_bytes().to_vec(),
            encodings: Encodings::DEFAULT,
            token_shapes: true,
            structured_credentials: false,
            secrets: Added::default(),
        }
    }

    /// Sets the shortest secret accepted, in bytes; 0 counts as 1 (a secret is never empty).
    pub fn min_len(&mut self, min_len: usize) -> &mut Self {
        self.min_len = min_len.max(1);
        self
    }

    /// Sets the text that replaces each masked range.
    pub fn replacement(&mut self, replacement: impl AsRef<[u8]>) -> &mut Self {
        self.replacement = replacement.as_ref().to_vec();
        self
    }

    /// Selects the encoded variants masked along with each secret (default
    /// [`Encodings::DEFAULT`]): the stable parts of its base64 encodings, its percent-encoded,
    /// JSON-escaped, shell-quoted and form-encoded forms and the other JSON escapes of common
    /// encoders, each where it differs from the secret and is at least the minimum length
    /// long; and these forms seen through wrapped base64 lines and mixed-case percent hex.
    pub fn encodings(&mut self, encodings: Encodings) -> &mut Self {
        self.encodings = encodings;
        self
    }

    /// Whether well-known token shapes (`glpat-…`, `ghp_…`, `AKIA…` and others) are masked
    /// even when their value was never added (default `true`).
    pub fn token_shapes(&mut self, on: bool) -> &mut Self {
        self.token_shapes = on;
        self
    }

    /// Whether structured credentials are masked without registration (default `false`: the
    /// search costs more than the other rules, see `DESIGN.md`): the
    /// password of `scheme://user:password@host`, the values of credential parameters
    /// (`token=`, `password=`, `X-Amz-Signature=` …), `Authorization:` header values after
    /// the scheme word, and PEM private-key blocks. The README says where each range starts
    /// and ends.
    pub fn structured_credentials(&mut self, on: bool) -> &mut Self {
        self.structured_credentials = on;
        self
    }

    /// Adds one secret; errors name it by its position among the secrets added.
    ///
    /// A secret with line breaks is masked whole and also line by line (see
    /// [`build`](Self::build)).
    pub fn add(&mut self, secret: impl AsRef<[u8]>) -> &mut Self {
        self.secrets.unnamed(secret.as_ref());
        self
    }

    /// Adds one secret; errors name it by `origin`, e.g. `env CI_JOB_TOKEN`.
    pub fn add_named(&mut self, origin: impl Into<String>, secret: impl AsRef<[u8]>) -> &mut Self {
        self.secrets.named(origin.into(), secret.as_ref());
        self
    }

    /// Adds each line of `text` as a secret, as a secrets file holds them: the terminator
    /// (`\n` or `\r\n`) is not part of the secret, blank lines are skipped, all other bytes
    /// (spaces too) are kept. Errors name a secret by its line number.
    pub fn add_lines(&mut self, text: impl AsRef<[u8]>) -> &mut Self {
        self.add_lines_named("input", text)
    }

    /// As [`add_lines`](Self::add_lines); errors name a secret as `{origin} line {n}`, e.g.
    /// `secrets.txt line 3`.
    pub fn add_lines_named(
        &mut self,
        origin: impl Into<String>,
        text: impl AsRef<[u8]>,
    ) -> &mut Self {
        self.secrets.start(origin.into(), false);
        for (n, line) in lines(text.as_ref()).enumerate() {
            if !line.is_empty() {
                self.secrets.numbered(n + 1, line);
            }
        }
        self
    }

    /// As [`add_lines_named`](Self::add_lines_named), but keeps `text` itself, shared,
    /// rather than a copy of its lines: a caller that keeps the text too (to reload it)
    /// holds it once.
    pub fn add_lines_shared(&mut self, origin: impl Into<String>, text: Arc<[u8]>) -> &mut Self {
        if u32::try_from(text.len()).is_err() {
            return self.add_lines_named(origin, &*text);
        }
        self.secrets.start_shared(origin.into(), Arc::clone(&text));
        let base = text.as_ptr() as usize;
        for (n, line) in lines(&text).enumerate() {
            if !line.is_empty() {
                let start = line.as_ptr() as usize - base;
                self.secrets.shared(n + 1, start, start + line.len());
            }
        }
        self
    }

    /// Adds `values` as the secrets of job `job`; errors name them `job {job} value {n}`.
    pub(crate) fn add_job_values<S: AsRef<[u8]>>(&mut self, job: &str, values: &[S]) -> &mut Self {
        self.secrets.start(job.to_owned(), true);
        for (n, value) in values.iter().enumerate() {
            self.secrets.numbered(n + 1, value.as_ref());
        }
        self
    }

    /// A builder with the same settings and no secrets.
    pub(crate) fn without_secrets(&self) -> SecretsBuilder {
        SecretsBuilder {
            min_len: self.min_len,
            replacement: self.replacement.clone(),
            encodings: self.encodings,
            token_shapes: self.token_shapes,
            structured_credentials: self.structured_credentials,
            secrets: Added::default(),
        }
    }

    /// Adds the secrets of `other`, with their origins; `other`'s settings are ignored.
    pub(crate) fn append(&mut self, other: &SecretsBuilder) -> &mut Self {
        self.secrets.append(&other.secrets);
        self
    }

    /// Frees the room reserved for more secrets.
    pub(crate) fn shrink_to_fit(&mut self) {
        self.secrets.shrink_to_fit();
    }

    /// Validates the secrets and compiles them.
    ///
    /// Each secret is masked as given; one that contains line breaks is also masked line by
    /// line, for each of its lines (without `\r`) at least the minimum length long, and each
    /// shorter line together with the line before it (after it, for the first line) and a
    /// `\n` or `\r\n` between. Each of these byte strings is also masked in the selected
    /// encodings. Duplicates are harmless.
    ///
    /// # Errors
    ///
    /// A secret shorter than the minimum length, or one that occurs inside the replacement
    /// text, as given or in one of the selected encodings. The error names the secret by its
    /// origin, never by its value.
    pub fn build(&self) -> Result<Secrets, Error> {
        let exact = Arc::new(Exact::new(self.patterns()?));
        Ok(Secrets::layered(
            self,
            [exact],
            Sources::default().push(Arc::new(self.clone())),
        ))
    }

    /// Whether each secret of `self` is one of `other`'s too (origins aside).
    pub(crate) fn is_subset_of(&self, other: &SecretsBuilder) -> bool {
        let theirs: HashSet<&[u8]> = other.secrets.values().collect();
        self.secrets.values().all(|s| theirs.contains(s))
    }

    /// The byte strings to mask, validated as [`build`](Self::build) does: each secret, its
    /// lines, and their encoded variants.
    ///
    /// # Errors
    ///
    /// As [`build`](Self::build).
    pub(crate) fn patterns(&self) -> Result<Patterns, Error> {
        let n = self.secrets.len();
        let some = |range: std::ops::Range<usize>| {
            let mut patterns = Patterns::default();
            self.each_pattern(range, &mut patterns, |_, _| {})
                .map(|()| patterns)
        };
        let mut patterns = if n < PARALLEL_SECRETS {
            some(0..n)?
        } else {
            // The second half on a second core. Each half stops at its first error, and the
            // first half's comes first: the error is the first by position, as on one thread.
            let half = n / 2;
            let (first, rest) = crate::parallel::join(|| some(0..half), || some(half..n));
            // The second half after the first, in the first's buffers: their pages are kept.
            let (mut patterns, rest) = (first?, rest?);
            patterns.append(&rest);
            patterns
        };
        patterns.shrink_to_fit();
        Ok(patterns)
    }

    /// The byte strings to mask, as [`patterns`](Self::patterns), and for each the position
    /// of its secret.
    pub(crate) fn sourced(&self) -> Result<Sourced, Error> {
        let (mut patterns, mut from) = (Patterns::default(), Vec::new());
        self.each_pattern(0..self.secrets.len(), &mut patterns, |i, n| {
            from.extend(std::iter::repeat(i).take(n));
        })?;
        Ok((patterns.iter().map(Box::from).collect(), from))
    }

    /// Appends to `out` the byte strings to mask for the secrets at the positions `range`,
    /// in order, each written in place; calls `f(i, n)` once secret `i`'s `n` strings are.
    fn each_pattern(
        &self,
        range: std::ops::Range<usize>,
        out: &mut Patterns,
        mut f: impl FnMut(usize, usize),
    ) -> Result<(), Error> {
        let mut plain: Vec<&[u8]> = Vec::new();
        for i in range {
            let secret = self.secrets.get(i);
            if secret.len() < self.min_len {
                return Err(Error::new(ErrorKind::TooShort {
                    origin: self.secrets.origin(i),
                    len: secret.len(),
                    min: self.min_len,
                }));
            }
            plain.clear();
            plain.push(secret);
            let mut joined = Vec::new();
            if secret.contains(&b'\n') {
                let min_len = self.min_len;
                plain.extend(lines(secret).filter(|line| line.len() >= min_len));
                joined = short_lines_joined(secret, min_len);
            }
            let mut own = plain
                .iter()
                .copied()
                .chain(joined.iter().map(Vec::as_slice));
            if own.any(|p| contains(&self.replacement, p)) {
                return Err(Error::new(ErrorKind::InReplacement {
                    origin: self.secrets.origin(i),
                }));
            }
            let first = out.len();
            plain.iter().for_each(|p| out.push(p));
            joined.iter().for_each(|p| out.push(p));
            let variants = out.len();
            for p in plain
                .iter()
                .copied()
                .chain(joined.iter().map(Vec::as_slice))
            {
                add_variants(p, self.encodings, self.min_len, out);
            }
            if (variants..out.len()).any(|v| contains(&self.replacement, &out[v])) {
                return Err(Error::new(ErrorKind::EncodedInReplacement {
                    origin: self.secrets.origin(i),
                }));
            }
            f(i, out.len() - first);
        }
        Ok(())
    }
}

impl From<&SecretsBuilder> for SecretsBuilder {
    /// A copy of the builder, its secrets and settings (as [`Clone`]).
    fn from(builder: &SecretsBuilder) -> Self {
        builder.clone()
    }
}

impl From<&mut SecretsBuilder> for SecretsBuilder {
    /// A copy of the builder, its secrets and settings, for builder chains
    /// (`Secrets::builder().min_len(12)`).
    fn from(builder: &mut SecretsBuilder) -> Self {
        builder.clone()
    }
}

impl fmt::Debug for SecretsBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretsBuilder")
            .field("secrets", &self.secrets.len())
            .field("min_len", &self.min_len)
            .field("replacement", &String::from_utf8_lossy(&self.replacement))
            .field("encodings", &self.encodings)
            .field("token_shapes", &self.token_shapes)
            .field("structured_credentials", &self.structured_credentials)
            .finish()
    }
}

/// The short lines of a multi-line secret, each with a neighbour: for each line shorter than
/// `min_len` (not empty), the line before it, a `\n` or `\r\n`, and it (the line after it,
/// for the first line), where that is at least `min_len` long. A key printed line by line
/// keeps its short last line (`ShS1W==`) only behind the long line before it.
fn short_lines_joined(secret: &[u8], min_len: usize) -> Vec<Vec<u8>> {
    let all: Vec<&[u8]> = lines(secret).collect();
    let mut out = Vec::new();
    for (n, line) in all.iter().enumerate() {
        if line.is_empty() || line.len() >= min_len {
            continue;
        }
        let (a, b) = match n {
            0 => match all.get(1) {
                Some(next) => (*line, *next),
                None => continue,
            },
            _ => (all[n - 1], *line),
        };
        for sep in [&b"\n"[..], b"\r\n"] {
            let joined = [a, sep, b].concat();
            if joined.len() >= min_len {
                out.push(joined);
            }
        }
    }
    out
}

/// The lines of `text`, each without its `\n` or `\r\n` terminator; a final line without a
/// terminator counts, an empty text has no lines.
fn lines(text: &[u8]) -> impl Iterator<Item = &[u8]> {
    let text = text.strip_suffix(b"\n").unwrap_or(text);
    text.split(|&b| b == b'\n')
        .map(|line| line.strip_suffix(b"\r").unwrap_or(line))
        .filter(move |_| !text.is_empty())
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    // Most patterns are longer than the replacement: no searcher is made for them.
    needle.len() <= haystack.len() && memchr::memmem::find(haystack, needle).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn large_sets_write_their_patterns_on_two_threads_as_on_one() {
        let n = PARALLEL_SECRETS + 101;
        let mut builder = Secrets::builder();
        for i in 0..n {
            builder.add(format!("secret-{i:06}-\n{i:09}"));
        }
        // `sourced` writes them on one thread.
        let (one, _) = builder.sourced().unwrap();
        let two = builder.patterns().unwrap();
        assert!(two.iter().eq(one.iter().map(|p| &p[..])));
        // A secret too short in each half: the error names the first, as on one thread.
        for (first, second) in [(7, n - 3), (n / 2 - 1, n / 2), (n / 2 + 5, n - 1)] {
            let mut builder = Secrets::builder();
            for i in 0..n {
                let short = i == first || i == second;
                builder.add_named(format!("s{i}"), if short { "short" } else { "long enough" });
            }
            let err = builder.patterns().err().expect("a secret is too short");
            assert_eq!(
                err.to_string(),
                builder.sourced().err().unwrap().to_string()
            );
            assert!(err.to_string().contains(&format!("s{first}")), "{err}");
        }
    }

    #[test]
    fn lines_strip_terminators() {
        let got: Vec<&[u8]> = lines(b"a\r\nb\n\nc").collect();
        assert_eq!(got, [&b"a"[..], b"b", b"", b"c"]);
        assert_eq!(lines(b"").count(), 0);
        assert_eq!(lines(b"x\n").count(), 1);
    }

    #[test]
    fn multi_line_secret_adds_long_lines_and_short_ones_joined() {
        let s = Secrets::builder()
            .add("-----BEGIN KEY-----\r\nAAAAAAAAAAAA\r\n}\r\n")
            .encodings(Encodings::NONE)
            .build()
            .unwrap();
        // whole value, "-----BEGIN KEY-----", "AAAAAAAAAAAA"; "}" is too short alone, so
        // "AAAAAAAAAAAA\n}" and "AAAAAAAAAAAA\r\n}".
        assert_eq!(s.len(), 5);
        let joined = short_lines_joined(b"ab\ncdefghij\nk\n", 8);
        let want: [&[u8]; 4] = [
            b"ab\ncdefghij",
            b"ab\r\ncdefghij",
            b"cdefghij\nk",
            b"cdefghij\r\nk",
        ];
        assert_eq!(joined, want.map(<[u8]>::to_vec));
        // A blank line before "k" would be its neighbour: too short, so nothing.
        assert!(short_lines_joined(b"abcdefghij\n\nk", 8).is_empty());
    }

    /// A shared text gives the secrets, patterns and errors that its lines copied give.
    #[test]
    fn shared_lines_are_the_named_lines() {
        let text: &[u8] = b"first-secret\r\n\nsecond secret\nshort\n";
        let (mut named, mut shared) = (Secrets::builder(), Secrets::builder());
        named.add("one-more-secret").add_lines_named("f.txt", text);
        shared
            .add("one-more-secret")
            .add_lines_shared("f.txt", Arc::from(text));
        let (a, b) = (named.build().unwrap_err(), shared.build().unwrap_err());
        assert_eq!(a.to_string(), b.to_string());
        assert!(a.to_string().contains("f.txt line 4"), "{a}");
        named.min_len(5);
        shared.min_len(5);
        let (a, b) = (named.patterns().unwrap(), shared.patterns().unwrap());
        assert!(a.iter().eq(b.iter()) && a.len() > 4);
        assert!(named.secrets.values().eq(shared.secrets.values()));
        assert!(shared.is_subset_of(&named) && named.is_subset_of(&shared));
    }

    #[test]
    fn variants_join_the_patterns() {
        let mut b = Secrets::builder();
        b.add("p/ss\"w0rd");
        // The percent forms (upper and lower case) and the JSON form; base64 adds at most six.
        let urls = b
            .encodings(Encodings::URL | Encodings::JSON)
            .build()
            .unwrap();
        assert_eq!(urls.len(), 4);
        let all = b.encodings(Encodings::ALL).build().unwrap();
        assert!(all.len() > 4 && all.len() <= 10);
        assert_eq!(all.encodings(), Encodings::ALL);
        // A variant longer than every secret raises the hold-back bound.
        let b64 = b.token_shapes(false).build().unwrap();
        // Wrapped lines: a match of 13 bytes can span one line break.
        assert_eq!(b64.max_len(), "p%2Fss%22w0rd".len() + 2);
        let b64 = b.encodings(Encodings::DEFAULT).build().unwrap();
        assert_eq!(b64.max_len(), "p%2Fss%22w0rd".len());
        assert!(!b64.token_shapes());
        b.token_shapes(true);
        assert_eq!(b.build().unwrap().max_len(), shapes::MAX_TOKEN);
    }

    #[test]
    fn encoded_form_inside_the_replacement_is_refused() {
        // The percent form of "a b c d e" is "a%20b%20c%20d%20e".
        let mut b = Secrets::builder();
        b.replacement("<a%20b%20c%20d%20e>")
            .add_named("env S", "a b c d e");
        let err = b.build().unwrap_err();
        assert!(err.is_in_replacement());
        let msg = format!("{err} {err:?}");
        assert!(
            msg.contains("encoded form of the secret from env S"),
            "{msg}"
        );
        assert!(
            !msg.contains("a b c d e") && !msg.contains("a%20b"),
            "{msg}"
        );
        // Without that encoding the replacement is fine.
        assert!(b.encodings(Encodings::BASE64).build().is_ok());
    }

    #[test]
    fn errors_never_show_the_value() {
        let err = Secrets::builder()
            .add_named("env T", "sh0rt!")
            .build()
            .unwrap_err();
        assert!(err.is_too_short());
        // Not a word of the message: "short" would match "shorter than the minimum length".
        assert!(!format!("{err} {err:?}").contains("sh0rt!"));
        let err = Secrets::builder()
            .replacement("<<hidden-value>>")
            .add("hidden-value")
            .build()
            .unwrap_err();
        assert!(err.is_in_replacement());
        assert!(!format!("{err} {err:?}").contains("hidden-value"));
    }
}
