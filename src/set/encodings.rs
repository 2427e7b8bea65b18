//! Encoded variants of a secret (SPEC §4): the forms in which a secret often reaches a log
//! without being printed as is.
//!
//! - **base64**, standard (`+/`) and URL-safe (`-_`) alphabets, at the three byte offsets a
//!   secret can have inside a 3-byte group of a longer encoded text. A variant is the
//!   *stable* part of the encoding: every character whose 6 bits all come from the secret,
//!   and none that mixes in a neighbouring byte or padding. So `base64(prefix + secret +
//!   suffix)` contains the variant for offset `prefix.len() % 3`, whatever `prefix` and
//!   `suffix` are (`echo "$TOKEN" | base64` adds a newline, Basic auth adds `user:`).
//! - **percent-encoding** (RFC 3986): every byte except the unreserved `A-Z a-z 0-9 - . _ ~`
//!   becomes `%XX`, once with upper-case and once with lower-case hex digits.
//! - **JSON string escaping** as `JSON.stringify` and serde_json write it: `"` and `\` get a
//!   backslash, `\n \r \t \b \f` their short escapes, other bytes below 0x20 `\u00xx` (lower
//!   case); every other byte is kept, non-ASCII too.
//!
//! A variant equal to the secret, or shorter than the minimum length, is not added.

use std::fmt;
use std::ops::{BitOr, BitOrAssign};
use std::str::FromStr;

use super::error::{Error, ErrorKind};

/// Which encoded variants of each secret are masked as well.
///
/// A small set of flags: combine them with `|`, or parse a comma list such as
/// `"base64,url,json"` or `"none"` (as the `--encodings` option takes it).
///
/// ```
/// use logmask::Encodings;
///
/// let e: Encodings = "base64,json".parse()?;
/// assert_eq!(e, Encodings::BASE64 | Encodings::JSON);
/// assert!(e.contains(Encodings::BASE64) && !e.contains(Encodings::URL));
/// assert_eq!("none".parse::<Encodings>()?, Encodings::NONE);
/// assert_eq!(Encodings::ALL.to_string(), "base64,url,json");
/// # Ok::<(), logmask::Error>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Encodings(u8);

impl Encodings {
    /// No variants: only the secrets as given.
    pub const NONE: Encodings = Encodings(0);
    /// The stable parts of the base64 encodings, standard and URL-safe alphabets.
    pub const BASE64: Encodings = Encodings(1);
    /// The percent-encoded form, upper- and lower-case hex digits.
    pub const URL: Encodings = Encodings(2);
    /// The JSON-string-escaped form.
    pub const JSON: Encodings = Encodings(4);
    /// Every variant (the default).
    pub const ALL: Encodings = Encodings(7);

    /// The names used by [`FromStr`] and [`Display`](fmt::Display), in order.
    const NAMES: [(&'static str, Encodings); 3] = [
        ("base64", Encodings::BASE64),
        ("url", Encodings::URL),
        ("json", Encodings::JSON),
    ];

    /// Whether every variant in `other` is in `self`.
    pub fn contains(self, other: Encodings) -> bool {
        self.0 & other.0 == other.0
    }

    /// Whether no variant is selected.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
}

impl Default for Encodings {
    /// [`Encodings::ALL`].
    fn default() -> Self {
        Encodings::ALL
    }
}

impl BitOr for Encodings {
    type Output = Encodings;

    fn bitor(self, rhs: Encodings) -> Encodings {
        Encodings(self.0 | rhs.0)
    }
}

impl BitOrAssign for Encodings {
    fn bitor_assign(&mut self, rhs: Encodings) {
        self.0 |= rhs.0;
    }
}

impl FromStr for Encodings {
    type Err = Error;

    /// Parses a comma list of `base64`, `url` and `json` (any order, ASCII case ignored,
    /// spaces around names allowed), or `none` alone.
    ///
    /// # Errors
    ///
    /// An empty list, an unknown name, or `none` together with other names.
    fn from_str(list: &str) -> Result<Encodings, Error> {
        if list.trim().eq_ignore_ascii_case("none") {
            return Ok(Encodings::NONE);
        }
        let mut out = Encodings::NONE;
        for name in list.split(',').map(str::trim) {
            let (_, e) = Encodings::NAMES
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .ok_or_else(|| {
                    Error::new(ErrorKind::BadEncodings {
                        name: name.to_owned(),
                    })
                })?;
            out |= *e;
        }
        Ok(out)
    }
}

impl fmt::Display for Encodings {
    /// The comma list [`FromStr`] reads back, or `none`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return f.write_str("none");
        }
        let mut sep = "";
        for (name, e) in Encodings::NAMES {
            if self.contains(e) {
                write!(f, "{sep}{name}")?;
                sep = ",";
            }
        }
        Ok(())
    }
}

impl fmt::Debug for Encodings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Encodings({self})")
    }
}

/// Appends to `out` the variants of `secret` selected by `encodings` that differ from it and
/// are at least `min_len` bytes long. Duplicates may be appended.
pub(crate) fn add_variants(
    secret: &[u8],
    encodings: Encodings,
    min_len: usize,
    out: &mut Vec<Box<[u8]>>,
) {
    let mut push = |v: Vec<u8>| {
        if v.len() >= min_len && v != secret {
            out.push(v.into_boxed_slice());
        }
    };
    if encodings.contains(Encodings::BASE64) {
        for offset in 0..3 {
            let standard = base64_stable(secret, offset);
            if standard.iter().any(|&c| c == b'+' || c == b'/') {
                push(to_url_safe(&standard));
            }
            push(standard);
        }
    }
    if encodings.contains(Encodings::URL) {
        push(percent_encode(secret, UPPER_HEX));
        push(percent_encode(secret, LOWER_HEX));
    }
    if encodings.contains(Encodings::JSON) {
        push(json_escape(secret));
    }
}

const BASE64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const UPPER_HEX: &[u8; 16] = b"0123456789ABCDEF";
const LOWER_HEX: &[u8; 16] = b"0123456789abcdef";

/// The part of the standard base64 encoding of `secret` that is the same in the encoding of
/// every `prefix + secret + suffix` with `prefix.len() % 3 == offset` (`offset < 3`).
///
/// Output character `j` of an encoding covers bits `6j..6j + 6` of the input; it is stable
/// when those bits all lie in the secret, bits `8 * offset..8 * (offset + len)` of a text
/// aligned to the group. So the stable characters are those from `ceil(8 * offset / 6)` to
/// `floor(8 * (offset + len) / 6)`, computed by encoding the secret between zero bytes.
fn base64_stable(secret: &[u8], offset: usize) -> Vec<u8> {
    debug_assert!(offset < 3);
    let mut bytes = vec![0; offset];
    bytes.extend_from_slice(secret);
    bytes.extend_from_slice(&[0, 0]);
    let mut chars = Vec::with_capacity(bytes.len() / 3 * 4);
    for group in bytes.chunks_exact(3) {
        let n = u32::from(group[0]) << 16 | u32::from(group[1]) << 8 | u32::from(group[2]);
        chars.extend([18, 12, 6, 0].map(|shift| BASE64[(n >> shift) as usize & 63]));
    }
    let first = (8 * offset).div_ceil(6);
    let end = 8 * (offset + secret.len()) / 6;
    // `bytes` holds at least `offset + len` whole bytes in complete groups, so `chars` holds
    // every character up to `end`.
    chars.truncate(end);
    chars.drain(..first.min(end));
    chars
}

/// `standard` with the URL-safe alphabet: `+` becomes `-` and `/` becomes `_`.
fn to_url_safe(standard: &[u8]) -> Vec<u8> {
    standard
        .iter()
        .map(|&c| match c {
            b'+' => b'-',
            b'/' => b'_',
            c => c,
        })
        .collect()
}

/// `secret` with every byte outside the RFC 3986 unreserved set written as `%XX`.
fn percent_encode(secret: &[u8], hex: &[u8; 16]) -> Vec<u8> {
    let mut out = Vec::with_capacity(secret.len());
    for &b in secret {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b);
        } else {
            out.extend_from_slice(&[b'%', hex[usize::from(b >> 4)], hex[usize::from(b & 15)]]);
        }
    }
    out
}

/// `secret` as it appears between the quotes of a JSON string.
fn json_escape(secret: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(secret.len());
    for &b in secret {
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x0c => out.extend_from_slice(b"\\f"),
            0..=0x1f => out.extend_from_slice(&[
                b'\\',
                b'u',
                b'0',
                b'0',
                LOWER_HEX[usize::from(b >> 4)],
                LOWER_HEX[usize::from(b & 15)],
            ]),
            _ => out.push(b),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Plain base64 with padding, written independently of `base64_stable`.
    fn base64(bytes: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        for group in bytes.chunks(3) {
            let b = [
                group[0],
                *group.get(1).unwrap_or(&0),
                *group.get(2).unwrap_or(&0),
            ];
            let idx = [
                b[0] >> 2,
                (b[0] & 3) << 4 | b[1] >> 4,
                (b[1] & 15) << 2 | b[2] >> 6,
                b[2] & 63,
            ];
            for (i, &x) in idx.iter().enumerate() {
                out.push(if i <= group.len() {
                    BASE64[usize::from(x)]
                } else {
                    b'='
                });
            }
        }
        out
    }

    fn contains(hay: &[u8], needle: &[u8]) -> bool {
        needle.is_empty() || hay.windows(needle.len()).any(|w| w == needle)
    }

    fn variants(secret: &[u8], encodings: Encodings, min_len: usize) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        add_variants(secret, encodings, min_len, &mut out);
        out.into_iter().map(Vec::from).collect()
    }

    #[test]
    fn plain_base64_is_right() {
        assert_eq!(base64(b"user:glpat-x"), b"dXNlcjpnbHBhdC14");
        assert_eq!(base64(b"ab"), b"YWI=");
        assert_eq!(base64(b"a"), b"YQ==");
    }

    #[test]
    fn stable_parts_of_known_encodings() {
        // base64("hunter2hunter2\n") = "aHVudGVyMmh1bnRlcjIK": the last group mixes in "\n".
        assert_eq!(base64_stable(b"hunter2hunter2", 0), b"aHVudGVyMmh1bnRlcj");
        // After one neighbouring byte: base64("xhunter2hunter2") = "eGh1bnRlcjJodW50ZXIy".
        assert_eq!(base64_stable(b"hunter2hunter2", 1), b"h1bnRlcjJodW50ZXIy");
        // After two: base64("xxhunter2hunter2") = "eHhodW50ZXIyaHVudGVyMg==", and the "M"
        // holds the last 6 bits of the secret.
        assert_eq!(base64_stable(b"hunter2hunter2", 2), b"odW50ZXIyaHVudGVyM");
        // Capacities 0, 1 and 2: the shortest secrets have (almost) nothing stable.
        assert_eq!(base64_stable(b"", 0), b"");
        assert_eq!(base64_stable(b"", 2), b"");
        assert_eq!(base64_stable(b"\xff", 0), b"/");
        assert_eq!(base64_stable(b"\xff", 1), b"");
        assert_eq!(base64_stable(b"\xff", 2), b"/");
        assert_eq!(base64_stable(b"\xff\xff", 1), b"//");
    }

    #[test]
    fn url_safe_alphabet_differs_only_in_two_characters() {
        assert_eq!(to_url_safe(b"a+b/c"), b"a-b_c");
        // "\xfb\xff\xbf" encodes to "+/+/" in the standard alphabet.
        let v = variants(b"\xfb\xff\xbf\xfb\xff\xbf", Encodings::BASE64, 1);
        assert!(v.contains(&b"+/+/+/+/".to_vec()) && v.contains(&b"-_-_-_-_".to_vec()));
    }

    #[test]
    fn percent_encoding_keeps_unreserved_bytes() {
        assert_eq!(percent_encode(b"a-._~Z9", UPPER_HEX), b"a-._~Z9");
        assert_eq!(
            percent_encode(b"p@ss w/rd\xff", UPPER_HEX),
            b"p%40ss%20w%2Frd%FF"
        );
        assert_eq!(
            percent_encode(b"p@ss w/rd\xff", LOWER_HEX),
            b"p%40ss%20w%2frd%ff"
        );
    }

    #[test]
    fn json_escaping_of_every_special_byte() {
        assert_eq!(
            json_escape(b"a\"b\\c\nd\re\tf\x08g\x0ch\x01i\x1f\x7f\xc3\xa9/"),
            b"a\\\"b\\\\c\\nd\\re\\tf\\bg\\fh\\u0001i\\u001f\x7f\xc3\xa9/".to_vec()
        );
    }

    #[test]
    fn variants_equal_to_the_secret_or_too_short_are_not_added() {
        // Unreserved bytes only: the percent and JSON forms equal the secret.
        let v = variants(b"abcdefgh", Encodings::URL | Encodings::JSON, 8);
        assert!(v.is_empty());
        let v = variants(b"ab/def\"h", Encodings::URL | Encodings::JSON, 8);
        assert_eq!(
            v,
            [&b"ab%2Fdef%22h"[..], b"ab%2fdef%22h", b"ab/def\\\"h"].map(<[u8]>::to_vec)
        );
        // The stable base64 parts of 8 bytes are 10 characters long.
        assert_eq!(variants(b"abcdefgh", Encodings::BASE64, 10).len(), 3);
        assert!(variants(b"abcdefgh", Encodings::BASE64, 11).is_empty());
        assert!(variants(b"ab/def\"h", Encodings::NONE, 1).is_empty());
    }

    #[test]
    fn encodings_parse_and_print() {
        let all: Encodings = "json, URL ,base64".parse().unwrap();
        assert_eq!(all, Encodings::ALL);
        assert_eq!(all.to_string(), "base64,url,json");
        assert_eq!("url".parse::<Encodings>().unwrap(), Encodings::URL);
        assert_eq!(Encodings::JSON.to_string(), "json");
        assert_eq!(Encodings::NONE.to_string(), "none");
        assert_eq!(Encodings::default(), Encodings::ALL);
        for bad in ["", "none,url", "base64,", "gzip", "base64;url"] {
            let err = bad.parse::<Encodings>().unwrap_err();
            assert_eq!(err.to_string().lines().count(), 1, "{bad:?}: {err}");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// The defining property: the stable part for `prefix.len() % 3` occurs in the
        /// encoding of the secret between any neighbours, and it is maximal: one more
        /// character on either side is not stable.
        #[test]
        fn stable_part_survives_any_neighbours(
            prefix in prop::collection::vec(any::<u8>(), 0..7),
            secret in prop::collection::vec(any::<u8>(), 0..20),
            suffix in prop::collection::vec(any::<u8>(), 0..7),
        ) {
            let offset = prefix.len() % 3;
            let stable = base64_stable(&secret, offset);
            let text = [&prefix[..], &secret, &suffix].concat();
            prop_assert!(contains(&base64(&text), &stable));

            // Maximal: with all-zero and all-one neighbours, the characters just outside
            // differ (they mix in neighbouring bits), unless they are padding.
            let zeros = base64(&[&vec![0; offset][..], &secret, &[0, 0, 0]].concat());
            let ones = base64(&[&vec![0xff; offset][..], &secret, &[0xff, 0xff, 0xff]].concat());
            let first = (8 * offset).div_ceil(6);
            let end = first + stable.len();
            prop_assert_eq!(&zeros[first..end], &stable[..]);
            if first > 0 {
                prop_assert_ne!(zeros[first - 1], ones[first - 1]);
            }
            prop_assert_ne!(zeros[end], ones[end]);
        }
    }
}
