//! Target `secrets_file`: secrets files, named secrets, replacement and minimum length through
//! [`SecretsBuilder`](logmask::SecretsBuilder).
//!
//! The target reads the files itself (CONTRACT §1: one secret per line, `\n` or `\r\n` not part
//! of it, blank lines skipped, every other byte kept) and decides, secret by secret in the
//! order added, which error the builder must report first: too short, or inside the
//! replacement text. Then:
//!
//! - on error, the kind must match, the message must name that secret's origin, and neither
//!   `Display` nor `Debug` may show a secret's value (see [`leaked`] for the exact rule);
//! - on success, masking each file's own text must give the reference output, and with an
//!   empty replacement nothing but line terminators may remain: every line that is a secret
//!   is masked.

use std::fmt;
use std::sync::OnceLock;

use arbitrary::{Arbitrary, Unstructured};
use logmask::{Masker, Secrets};

use crate::differential::{assert_same, RuleSet};
use crate::naive::Reference;

/// At most this many files and named secrets are added.
const MAX_SOURCES: usize = 8;
/// Longer files, values and replacements are cut to this length.
const MAX_TEXT: usize = 512;

/// The input of the `secrets_file` target.
#[derive(Arbitrary, Clone, Debug, PartialEq)]
pub struct FileCase {
    /// What is added to the builder, in order (the first 8).
    pub sources: Vec<Source>,
    /// The replacement text; `None` keeps the default.
    pub replacement: Option<Vec<Byte>>,
    /// The minimum length is `min_len % 12` (0 counts as 1).
    pub min_len: u8,
    /// The rules the secrets are masked under: under every rule, a secret whose encoded
    /// variant occurs in the replacement is refused too.
    pub rules: RuleSet,
}

/// Something added to the builder.
#[derive(Arbitrary, Clone, Debug, PartialEq)]
pub enum Source {
    /// A secrets file, added with `add_lines_named("file{i}.txt", ..)`.
    File(Vec<Byte>),
    /// A value, added with `add_named("env VAR{i}", ..)`; may span lines.
    Named(Vec<Byte>),
}

/// A byte of a secrets file: bytes below `0x20` become one of `ab\n\r `, so lines are short,
/// blank, `\r\n`-terminated and alike often; the rest (printable ASCII, non-UTF-8) stay.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Byte(pub u8);

/// What bytes below `0x20` become.
pub const LOW_BYTES: &[u8; 5] = b"ab\n\r ";

impl<'a> Arbitrary<'a> for Byte {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        let b = u8::arbitrary(u)?;
        Ok(Byte(if b < 0x20 {
            LOW_BYTES[usize::from(b) % LOW_BYTES.len()]
        } else {
            b
        }))
    }

    fn size_hint(depth: usize) -> (usize, Option<usize>) {
        u8::size_hint(depth)
    }
}

impl fmt::Debug for Byte {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0 as char)
    }
}

fn text(bytes: &[Byte]) -> Vec<u8> {
    bytes[..bytes.len().min(MAX_TEXT)]
        .iter()
        .map(|b| b.0)
        .collect()
}

/// The lines of a secrets file with their 1-based numbers, blank ones skipped.
fn file_lines(file: &[u8]) -> Vec<(usize, &[u8])> {
    let mut lines: Vec<&[u8]> = file.split(|&b| b == b'\n').collect();
    if file.ends_with(b"\n") || file.is_empty() {
        lines.pop(); // what follows the last terminator is not a line
    }
    lines
        .into_iter()
        .enumerate()
        .map(|(i, line)| (i + 1, line.strip_suffix(b"\r").unwrap_or(line)))
        .filter(|(_, line)| !line.is_empty())
        .collect()
}

/// Whether a message may contain `b` without showing a secret: ASCII letters and digits
/// (words, numbers and the origin names this target uses, `file3.txt line 12`, `env VAR4`),
/// and every byte of the crate's own messages, taken from errors about secrets made of
/// letters only, through `Display` and `Debug` (so a change of wording needs no change here).
fn is_public(b: u8) -> bool {
    static PUBLIC: OnceLock<[bool; 256]> = OnceLock::new();
    PUBLIC.get_or_init(|| {
        let mut public = [false; 256];
        let mut too_short = Secrets::builder();
        too_short.add_lines_named("file0.txt", "short").add("x");
        let mut inside = Secrets::builder();
        inside
            .replacement("<<xxxxxxxxxx>>")
            .add_named("env VAR0", "xxxxxxxxxx");
        let mut unnamed = Secrets::builder();
        unnamed.add("x");
        for builder in [too_short, inside, unnamed] {
            let err = builder.build().expect_err("a refused secret");
            for b in format!("{err} {err:?}").bytes() {
                public[usize::from(b)] = true;
            }
        }
        for b in (0..=255u8).filter(u8::is_ascii_alphanumeric) {
            public[usize::from(b)] = true;
        }
        public
    })[usize::from(b)]
}

/// Whether `message` shows `value`.
///
/// A value counts as shown if one of its renderings — its raw bytes, its UTF-8-lossy text,
/// its `escape_ascii` form — occurs in the message *and that rendering contains a byte that no
/// public part of a message has* ([`is_public`]: letters, digits, and the spaces, commas,
/// `#`, quotes and brackets of the crate's messages and of `Debug`). A value of public bytes only can occur in a
/// correct message by coincidence whatever its length (`line`, `from`, `secret` and `12` are
/// words and numbers of the messages; a threshold of 4 bytes does not avoid `line`), so it is
/// not checked; a leaking implementation leaks every value, and the fuzzer makes values with
/// other bytes (`\r`, `\n`, `!`, non-UTF-8) all the time, so no real leak escapes the rule.
pub fn leaked(message: &str, value: &[u8]) -> bool {
    let message = message.as_bytes();
    let renderings = [
        value.to_vec(),
        String::from_utf8_lossy(value).into_owned().into_bytes(),
        value.escape_ascii().to_string().into_bytes(),
    ];
    renderings.iter().any(|r| {
        !r.is_empty()
            && !r.iter().all(|&b| is_public(b))
            && message.windows(r.len()).any(|w| w == r.as_slice())
    })
}

/// Why the reference refuses a secret.
#[derive(Debug, PartialEq)]
enum Refusal {
    TooShort,
    InReplacement,
}

/// Builds the case's secrets and checks the result against the reference.
///
/// # Panics
///
/// If the builder's decision, error or masking differs from the reference, or an error shows
/// a secret's value.
pub fn check(case: &FileCase) {
    let min_len = usize::from(case.min_len % 12).max(1);
    let replacement = case.replacement.as_ref().map_or_else(
        || logmask::DEFAULT_REPLACEMENT.as_bytes().to_vec(),
        |r| text(r),
    );
    let sources: Vec<(bool, Vec<u8>)> = case
        .sources
        .iter()
        .take(MAX_SOURCES)
        .map(|s| match s {
            Source::File(b) => (true, text(b)),
            Source::Named(b) => (false, text(b)),
        })
        .collect();

    // The secrets in the order the builder sees them, with their origins.
    let mut secrets: Vec<(String, &[u8])> = Vec::new();
    for (i, (is_file, bytes)) in sources.iter().enumerate() {
        if *is_file {
            for (n, line) in file_lines(bytes) {
                secrets.push((format!("file{i}.txt line {n}"), line));
            }
        } else {
            secrets.push((format!("env VAR{i}"), bytes));
        }
    }
    let refusal = secrets.iter().find_map(|(origin, s)| {
        let refusal = if s.len() < min_len {
            Refusal::TooShort
        } else if Reference::new(&[s.to_vec()], min_len, case.rules.rules())
            .patterns
            .iter()
            .any(|p| replacement.windows(p.len()).any(|w| w == p.as_slice()))
        {
            Refusal::InReplacement
        } else {
            return None;
        };
        Some((origin, refusal))
    });

    let build = |replacement: &[u8]| {
        let mut builder = Secrets::builder();
        builder.min_len(usize::from(case.min_len % 12));
        builder.replacement(replacement);
        case.rules.apply(&mut builder);
        for (i, (is_file, bytes)) in sources.iter().enumerate() {
            if *is_file {
                builder.add_lines_named(format!("file{i}.txt"), bytes);
            } else {
                builder.add_named(format!("env VAR{i}"), bytes);
            }
        }
        builder.build()
    };

    match (build(&replacement), refusal) {
        (Err(err), Some((origin, refusal))) => {
            let (display, debug) = (err.to_string(), format!("{err:?}"));
            for (_, value) in &secrets {
                for message in [&display, &debug] {
                    assert!(
                        !leaked(message, value),
                        "the error shows the value \"{}\": {message}",
                        value.escape_ascii()
                    );
                }
            }
            let kind = if err.is_too_short() {
                Refusal::TooShort
            } else {
                assert!(err.is_in_replacement(), "an error of no known kind: {err}");
                Refusal::InReplacement
            };
            assert_eq!(kind, refusal, "wrong error: {err}");
            assert!(
                display.contains(&format!("from {origin} ")),
                "the error does not name {origin}: {err}"
            );
        }
        (Err(err), None) => panic!("refused valid secrets: {err}"),
        (Ok(_), Some((origin, refusal))) => panic!("accepted {origin}, which is {refusal:?}"),
        (Ok(compiled), None) => {
            let values: Vec<Vec<u8>> = secrets.iter().map(|(_, s)| s.to_vec()).collect();
            let reference = Reference::new(&values, min_len, case.rules.rules());
            let mut patterns = reference.patterns.clone();
            assert_eq!(compiled.min_len(), min_len);
            assert_eq!(compiled.replacement(), replacement.as_slice());
            patterns.sort();
            patterns.dedup();
            assert_eq!(
                compiled.len(),
                patterns.len(),
                "number of distinct patterns"
            );

            // Nothing is refused for being inside an empty replacement.
            let bare = build(b"").expect("the same secrets with an empty replacement");
            let mut masker = Masker::new(compiled.into());
            let mut bare = Masker::new(bare.into());
            for (is_file, bytes) in &sources {
                let mut out = Vec::new();
                masker.mask(bytes, |piece| out.extend_from_slice(&piece));
                masker.finish(|piece| out.extend_from_slice(&piece));
                let want = reference.mask(bytes, &replacement);
                assert_same(&out, &want, "masked secrets file");

                out.clear();
                bare.mask(bytes, |piece| out.extend_from_slice(&piece));
                bare.finish(|piece| out.extend_from_slice(&piece));
                let left_over = |b: &u8| if *is_file { b"\r\n".contains(b) } else { false };
                assert!(
                    out.iter().all(left_over),
                    "masking a secrets source with an empty replacement left \"{}\"",
                    out.escape_ascii()
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_lines_follow_the_spec() {
        let lines = |f: &[u8]| -> Vec<(usize, Vec<u8>)> {
            file_lines(f)
                .into_iter()
                .map(|(n, l)| (n, l.to_vec()))
                .collect()
        };
        assert_eq!(
            lines(b"a\r\n\nb c\r\r\n\r\nd"),
            [
                (1, b"a".to_vec()),
                (3, b"b c\r".to_vec()),
                (5, b"d".to_vec())
            ]
        );
        assert!(lines(b"").is_empty());
        assert!(lines(b"\n").is_empty());
        assert_eq!(lines(b"x\n"), [(1, b"x".to_vec())]);
    }

    #[test]
    fn leaked_ignores_words_and_catches_values() {
        let msg = "the secret from file0.txt line 2 is 3 bytes long";
        assert!(!leaked(msg, b"line"), "a word of the message");
        assert!(!leaked(msg, b"3 bytes"), "public bytes only");
        assert!(
            !leaked("1 bytes long, shorter", b","),
            "punctuation of the messages"
        );
        assert!(leaked("shows a\rb here", b"a\rb"), "raw");
        assert!(leaked("shows a\\rb here", b"a\rb"), "escaped");
        assert!(leaked("shows \u{fffd}x here", b"\xffx"), "lossy");
        assert!(!leaked(msg, b"a\rb"));
    }
}
