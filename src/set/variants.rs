//! Encoded variants of a secret (CONTRACT §4): the forms in which a secret often reaches a log
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
//! - **Shell quoting** as bash writes it: `set -x` traces single-quote a word and write a `'`
//!   in it as `'\''`; `printf %q` puts a backslash before each special character (`a\ b\$c`),
//!   or, for a value with a control character, writes `$'…'` with `\n \t \E \\ \'` and octal
//!   `\ooo` escapes (non-ASCII kept as in a UTF-8 locale, or in octal as in the C locale).
//! - **Other JSON escapes** that common encoders write, in every combination: `\uXXXX` for
//!   each non-ASCII character (UTF-16 code units, surrogate pairs beyond U+FFFF, as Python's
//!   `json.dumps` and PHP write; for a valid UTF-8 secret), `\/` for `/` (PHP, several Java
//!   encoders), `\u003c \u003e \u0026` for `< > &` and `\u2028 \u2029` (Go's
//!   `encoding/json`), each `\u` escape in lower or upper case hex (`\u001F`: .NET, Jackson).
//! - **Form encoding** (`application/x-www-form-urlencoded`): `+` for a space, every other
//!   byte percent-encoded as the `url` variants are, keeping either the RFC 3986 unreserved
//!   bytes (Python's `quote_plus`, Go's `QueryEscape`) or WHATWG's `*-._` (browsers, Java's
//!   `URLEncoder`), upper- and lower-case hex.
//!
//! A variant equal to the secret, or shorter than the minimum length, is not added.

use super::encodings::Encodings;
use crate::find::patterns::Patterns;

/// Appends to `out` the variants of `secret` selected by `encodings` that differ from it and
/// are at least `min_len` bytes long, each written in place at the end of `out`'s buffer.
/// Duplicates may be appended.
pub(crate) fn add_variants(
    secret: &[u8],
    encodings: Encodings,
    min_len: usize,
    out: &mut Patterns,
) {
    let mut add = Adder {
        start: out.len(),
        out,
        secret,
        min_len,
        dedup: false,
    };
    if encodings.contains(Encodings::BASE64) {
        for offset in 0..3 {
            add.base64(offset);
        }
    }
    // A secret of letters, digits, `-`, `_` and `.` (most tokens) has no other form in these.
    let plain = secret
        .iter()
        .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if plain {
        return;
    }
    if encodings.contains(Encodings::URL) {
        add.form(|v| percent_encode(secret, UPPER_HEX, v));
        add.form(|v| percent_encode(secret, LOWER_HEX, v));
    }
    if encodings.contains(Encodings::JSON) {
        add.form(|v| json_escape_into(secret, v));
    }
    // The forms below often coincide with each other or with those above: each is added once.
    add.dedup = true;
    if encodings.contains(Encodings::SHELL) {
        shell_forms(secret, &mut add);
    }
    if encodings.contains(Encodings::JSON_ESCAPES) {
        json_forms(secret, &mut add);
    }
    if encodings.contains(Encodings::FORM) {
        for unreserved in [RFC3986_UNRESERVED, WHATWG_UNRESERVED] {
            for hex in [UPPER_HEX, LOWER_HEX] {
                add.form(|v| form_encode(secret, unreserved, hex, v));
            }
        }
    }
}

/// Where encoded forms go, each written by a closure that appends it to a buffer.
trait Sink {
    fn form(&mut self, write: impl FnOnce(&mut Vec<u8>));
}

/// Adds one secret's variants to the end of a list, keeping those at least `min_len` long
/// that differ from the secret (and, once `dedup` is set, from its variants before them).
struct Adder<'a> {
    out: &'a mut Patterns,
    /// The secret's first variant in `out`.
    start: usize,
    secret: &'a [u8],
    min_len: usize,
    dedup: bool,
}

impl Adder<'_> {
    /// Whether the last string of `out` is a variant to keep, as `dedup` says.
    fn wanted(&self) -> bool {
        let n = self.out.len() - 1;
        let v = &self.out[n];
        v.len() >= self.min_len
            && v != self.secret
            && !(self.dedup && (self.start..n).any(|j| self.out[j] == *v))
    }

    /// Keeps the last string of `out` if it is [`wanted`](Self::wanted).
    fn keep_or_pop(&mut self) {
        if !self.wanted() {
            self.out.pop();
        }
    }

    /// Adds the stable part of the standard base64 encoding at `offset`, and its URL-safe
    /// form if that differs.
    fn base64(&mut self, offset: usize) {
        self.out
            .push_with(|v| base64_stable(self.secret, offset, v));
        let mixed = self.out.last_mut().iter().any(|&c| c == b'+' || c == b'/');
        if !mixed {
            return self.keep_or_pop();
        }
        if self.wanted() {
            self.out.push_last_again();
        }
        to_url_safe(self.out.last_mut());
        self.keep_or_pop();
    }
}

impl Sink for Adder<'_> {
    fn form(&mut self, write: impl FnOnce(&mut Vec<u8>)) {
        self.out.push_with(write);
        self.keep_or_pop();
    }
}

const BASE64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const UPPER_HEX: &[u8; 16] = b"0123456789ABCDEF";
const LOWER_HEX: &[u8; 16] = b"0123456789abcdef";

/// Appends to `out` the part of the standard base64 encoding of `secret` that is the same in
/// the encoding of every `prefix + secret + suffix` with `prefix.len() % 3 == offset`
/// (`offset < 3`).
///
/// Output character `j` of an encoding covers bits `6j..6j + 6` of the input; it is stable
/// when those bits all lie in the secret, bits `8 * offset..8 * (offset + len)` of a text
/// aligned to the group. So the stable characters are those from `ceil(8 * offset / 6)` to
/// `floor(8 * (offset + len) / 6)`, computed by encoding the secret between zero bytes.
fn base64_stable(secret: &[u8], offset: usize, out: &mut Vec<u8>) {
    debug_assert!(offset < 3);
    let first = (8 * offset).div_ceil(6);
    let end = 8 * (offset + secret.len()) / 6;
    if end <= first {
        return;
    }
    let start = out.len();
    out.reserve(end - first + 4);
    let chars = |g: [u8; 3]| {
        let n = u32::from(g[0]) << 16 | u32::from(g[1]) << 8 | u32::from(g[2]);
        [18, 12, 6, 0].map(|shift| BASE64[(n >> shift) as usize & 63])
    };
    // The group the `offset` zero bytes begin (its first `first` characters mix them in),
    // then whole groups of the secret, then the rest between zero bytes.
    let head = (3 - offset) % 3;
    let (lead, body) = secret.split_at(head.min(secret.len()));
    if offset > 0 {
        let mut g = [0; 3];
        g[offset..offset + lead.len()].copy_from_slice(lead);
        out.extend_from_slice(&chars(g)[first..]);
    }
    let mut groups = body.chunks_exact(3);
    for g in groups.by_ref() {
        out.extend_from_slice(&chars([g[0], g[1], g[2]]));
    }
    let rest = groups.remainder();
    if !rest.is_empty() {
        let mut g = [0; 3];
        g[..rest.len()].copy_from_slice(rest);
        out.extend_from_slice(&chars(g));
    }
    // Every character up to `end` is written.
    out.truncate(start + end - first);
}

/// `standard` in the URL-safe alphabet: `+` becomes `-` and `/` becomes `_`.
fn to_url_safe(standard: &mut [u8]) {
    for c in standard {
        match *c {
            b'+' => *c = b'-',
            b'/' => *c = b'_',
            _ => {}
        }
    }
}

/// Appends `secret` with every byte outside the RFC 3986 unreserved set written as `%XX`.
fn percent_encode(secret: &[u8], hex: &[u8; 16], out: &mut Vec<u8>) {
    for &b in secret {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b);
        } else {
            out.extend_from_slice(&[b'%', hex[usize::from(b >> 4)], hex[usize::from(b & 15)]]);
        }
    }
}

/// The shell-quoted forms of `secret`: bash's single quoting (`'\''` for `'`), `printf %q`'s
/// backslashes, and the inside of `$'…'` with non-ASCII kept (UTF-8 locale) and in octal (C
/// locale).
fn shell_forms(secret: &[u8], sink: &mut impl Sink) {
    sink.form(|single| {
        for &b in secret {
            if b == b'\'' {
                single.extend_from_slice(b"'\\''");
            } else {
                single.push(b);
            }
        }
    });
    sink.form(|backslash| {
        for (i, &b) in secret.iter().enumerate() {
            // `~` is special after `:` or `=`, and at the start of the value, which may lie
            // before the secret: there the variant keeps `~`, and `\~…` still contains it
            // (so does `\#`).
            let tilde = b == b'~' && i > 0 && matches!(secret[i - 1], b':' | b'=');
            if tilde || SHELL_SPECIAL.contains(&b) {
                backslash.push(b'\\');
            }
            backslash.push(b);
        }
    });
    sink.form(|v| ansi_c_quote(secret, true, v));
    sink.form(|v| ansi_c_quote(secret, false, v));
}

/// The bytes `printf %q` puts a backslash before (bash's `bstab`).
const SHELL_SPECIAL: &[u8] = b" \t\n!\"$&'()*,;<>?[\\]^`{|}";

/// Appends the inside of bash's `$'…'` quoting of `secret`; with `utf8`, valid UTF-8
/// sequences are kept (printable in a UTF-8 locale), otherwise every byte above 0x7e is in
/// octal.
fn ansi_c_quote(secret: &[u8], utf8: bool, out: &mut Vec<u8>) {
    let mut i = 0;
    while i < secret.len() {
        let b = secret[i];
        let short = match b {
            0x1b => Some(b'E'),
            0x07 => Some(b'a'),
            0x08 => Some(b'b'),
            0x0c => Some(b'f'),
            b'\n' => Some(b'n'),
            b'\r' => Some(b'r'),
            b'\t' => Some(b't'),
            0x0b => Some(b'v'),
            b'\\' | b'\'' => Some(b),
            _ => None,
        };
        if let Some(c) = short {
            out.extend_from_slice(&[b'\\', c]);
        } else if (0x20..0x7f).contains(&b) {
            out.push(b);
        } else if let Some(n) = utf8.then(|| utf8_len(&secret[i..])).flatten() {
            out.extend_from_slice(&secret[i..i + n]);
            i += n;
            continue;
        } else {
            out.extend_from_slice(&[b'\\', b'0' + (b >> 6), b'0' + (b >> 3 & 7), b'0' + (b & 7)]);
        }
        i += 1;
    }
}

/// The length of the UTF-8 sequence of a non-ASCII character at the start of `bytes`, if it
/// is a valid one.
fn utf8_len(bytes: &[u8]) -> Option<usize> {
    let n = match bytes.first()? {
        0xc2..=0xdf => 2,
        0xe0..=0xef => 3,
        0xf0..=0xf4 => 4,
        _ => return None,
    };
    let head = bytes.get(..n)?;
    std::str::from_utf8(head).ok().map(|_| n)
}

/// Writes to `sink` the JSON-escaped forms of `secret` with each combination of: non-ASCII characters as
/// `\uXXXX` (for valid UTF-8 only), `/` as `\/`, `< > &` and U+2028, U+2029 as `\uXXXX`, and
/// lower- or upper-case hex digits in every `\u` escape.
fn json_forms(secret: &[u8], sink: &mut impl Sink) {
    let text = std::str::from_utf8(secret).ok();
    // Only the choices that change something are made (and each form is written once).
    let has = |f: fn(&u8) -> bool| secret.iter().any(f);
    let has_non_ascii = text.is_some() && has(|&b| b >= 0x7f);
    let has_slash = has(|&b| b == b'/');
    // `\xe2\x80\xa8` and `\xe2\x80\xa9` are U+2028 and U+2029.
    let has_html = has(|b| b"<>&".contains(b)) || (text.is_some() && has(|&b| b == 0xe2));
    let has_control = has(|&b| b < 0x20 && !b"\n\r\t\x08\x0c".contains(&b));
    for bits in 0..16u8 {
        let (non_ascii, slash, html, upper) =
            (bits & 1 != 0, bits & 2 != 0, bits & 4 != 0, bits & 8 != 0);
        let any_u = has_control || (non_ascii && has_non_ascii) || (html && has_html);
        if (non_ascii && !has_non_ascii)
            || (slash && !has_slash)
            || (html && !has_html)
            || (upper && !any_u)
        {
            continue;
        }
        let hex = if upper { UPPER_HEX } else { LOWER_HEX };
        // Not UTF-8: no encoder takes it as text, non-ASCII bytes are left as they are.
        if text.is_none() && non_ascii {
            continue;
        }
        let unit = |v: &mut Vec<u8>, u: u16| {
            v.extend_from_slice(b"\\u");
            v.extend([12, 8, 4, 0].map(|shift| hex[usize::from(u >> shift & 15)]));
        };
        sink.form(|v| match text {
            Some(text) => {
                for c in text.chars() {
                    let escape = (non_ascii && (!c.is_ascii() || c == '\u{7f}'))
                        || (html && matches!(c, '<' | '>' | '&' | '\u{2028}' | '\u{2029}'))
                        || (c < ' ' && !matches!(c, '\n' | '\r' | '\t' | '\u{8}' | '\u{c}'));
                    if escape {
                        let mut units = [0; 2];
                        for &u in c.encode_utf16(&mut units).iter() {
                            unit(v, u);
                        }
                    } else if slash && c == '/' {
                        v.extend_from_slice(b"\\/");
                    } else {
                        let mut buf = [0; 4];
                        json_escape_into(c.encode_utf8(&mut buf).as_bytes(), v);
                    }
                }
            }
            None => {
                for &b in secret {
                    match b {
                        b'/' if slash => v.extend_from_slice(b"\\/"),
                        b'<' | b'>' | b'&' if html => unit(v, u16::from(b)),
                        0..=0x1f if !matches!(b, b'\n' | b'\r' | b'\t' | 8 | 12) => {
                            unit(v, u16::from(b))
                        }
                        _ => json_escape_into(&[b], v),
                    }
                }
            }
        });
    }
}

/// The bytes form encoding keeps besides ASCII letters and digits: RFC 3986's unreserved
/// ones, and WHATWG's (`application/x-www-form-urlencoded` in browsers and Java).
const RFC3986_UNRESERVED: &[u8] = b"-._~";
const WHATWG_UNRESERVED: &[u8] = b"*-._";

/// Appends `secret` form-encoded: `+` for a space, ASCII letters, digits and `unreserved` kept,
/// every other byte as `%XX`.
fn form_encode(secret: &[u8], unreserved: &[u8], hex: &[u8; 16], out: &mut Vec<u8>) {
    for &b in secret {
        if b == b' ' {
            out.push(b'+');
        } else if b.is_ascii_alphanumeric() || unreserved.contains(&b) {
            out.push(b);
        } else {
            out.extend_from_slice(&[b'%', hex[usize::from(b >> 4)], hex[usize::from(b & 15)]]);
        }
    }
}

/// Appends `secret` as it appears between the quotes of a JSON string.
fn json_escape_into(secret: &[u8], out: &mut Vec<u8>) {
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Each encoder's output as a vector of its own.
    fn written(write: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
        let mut v = Vec::new();
        write(&mut v);
        v
    }

    fn base64_stable(secret: &[u8], offset: usize) -> Vec<u8> {
        written(|v| super::base64_stable(secret, offset, v))
    }

    fn percent_encode(secret: &[u8], hex: &[u8; 16]) -> Vec<u8> {
        written(|v| super::percent_encode(secret, hex, v))
    }

    fn form_encode(secret: &[u8], unreserved: &[u8], hex: &[u8; 16]) -> Vec<u8> {
        written(|v| super::form_encode(secret, unreserved, hex, v))
    }

    fn json_escape(secret: &[u8]) -> Vec<u8> {
        written(|v| json_escape_into(secret, v))
    }

    fn to_url_safe(standard: &[u8]) -> Vec<u8> {
        let mut v = standard.to_vec();
        super::to_url_safe(&mut v);
        v
    }

    /// Every form written, duplicates and the secret itself included.
    impl Sink for Vec<Vec<u8>> {
        fn form(&mut self, write: impl FnOnce(&mut Vec<u8>)) {
            self.push(written(write));
        }
    }

    fn shell_forms(secret: &[u8]) -> [Vec<u8>; 4] {
        let mut forms = Vec::new();
        super::shell_forms(secret, &mut forms);
        forms.try_into().expect("four forms")
    }

    fn json_forms(secret: &[u8]) -> Vec<Vec<u8>> {
        let mut forms = Vec::new();
        super::json_forms(secret, &mut forms);
        forms
    }

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
        let mut out = Patterns::default();
        add_variants(secret, encodings, min_len, &mut out);
        out.iter().map(<[u8]>::to_vec).collect()
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
    fn shell_forms_are_what_bash_writes() {
        // `printf %q` of these values in bash 5.2 (LANG=C.UTF-8), and the `set -x` trace.
        let v = b"a b'c\"d$e!f&g(h)i*j,k;l<m>n?o[p\\q]r^s`t{u|v}w~x#y:~z=~Q%@+-_./";
        let [single, backslash, ..] = shell_forms(v);
        assert_eq!(
            backslash,
            b"a\\ b\\'c\\\"d\\$e\\!f\\&g\\(h\\)i\\*j\\,k\\;l\\<m\\>n\\?o\\[p\\\\q\\]r\\^s\\`t\\{u\\|v\\}w~x#y:\\~z=\\~Q%@+-_./".to_vec()
        );
        assert_eq!(shell_forms(b"it's a $x")[0], b"it'\\''s a $x");
        assert_eq!(single.iter().filter(|&&b| b == b'\'').count(), 3);
        let ctl = b"tab\there\nnl\x1bE\x7fdel\x01ctl'q\\b";
        let [_, _, utf8, c] = shell_forms(ctl);
        assert_eq!(
            utf8,
            b"tab\\there\\nnl\\EE\\177del\\001ctl\\'q\\\\b".to_vec()
        );
        assert_eq!(c, utf8);
        let [_, _, utf8, c] = shell_forms(b"caf\xc3\xa9 \xff");
        assert_eq!(utf8, b"caf\xc3\xa9 \\377".to_vec());
        assert_eq!(c, b"caf\\303\\251 \\377".to_vec());
        // Capacities 0 and 1.
        assert_eq!(shell_forms(b""), [vec![], vec![], vec![], vec![]]);
        assert_eq!(shell_forms(b"'")[0], b"'\\''");
    }

    #[test]
    fn json_forms_of_common_encoders() {
        let v = json_forms("pässwörd/<&>\u{1F600}\u{1f}".as_bytes());
        let has = |form: &[u8]| v.iter().any(|f| f == form);
        // Python's json.dumps, PHP's json_encode, Go's encoding/json, .NET and Jackson.
        assert!(has(b"p\\u00e4ssw\\u00f6rd/<&>\\ud83d\\ude00\\u001f"));
        assert!(has(b"p\\u00e4ssw\\u00f6rd\\/<&>\\ud83d\\ude00\\u001f"));
        assert!(has(
            "pässwörd/\\u003c\\u0026\\u003e\u{1F600}\\u001f".as_bytes()
        ));
        assert!(has(
            b"p\\u00E4ssw\\u00F6rd/\\u003C\\u0026\\u003E\\uD83D\\uDE00\\u001F"
        ));
        assert!(has("pässwörd/<&>\u{1F600}\\u001F".as_bytes()));
        assert_eq!(v.len(), 16);
        // Invalid UTF-8: no `\u` forms of non-ASCII bytes.
        // Only the choices that change something: with and without `\/`, `\u003c` in lower
        // and upper case, none for non-ASCII.
        let v = json_forms(b"a/\xff<");
        assert_eq!(v.len(), 6);
        assert!(v.iter().any(|f| f == b"a\\/\xff\\u003C"));
        assert_eq!(json_forms(b""), vec![Vec::<u8>::new()]);
        assert_eq!(json_forms(b"/"), [&b"/"[..], b"\\/"]);
    }

    #[test]
    fn form_encoding_writes_plus_for_space() {
        assert_eq!(
            form_encode(b"a b*c~d/", RFC3986_UNRESERVED, UPPER_HEX),
            b"a+b%2Ac~d%2F"
        );
        assert_eq!(
            form_encode(b"a b*c~d/", WHATWG_UNRESERVED, LOWER_HEX),
            b"a+b*c%7ed%2f"
        );
    }

    #[test]
    fn plain_secrets_get_no_new_forms() {
        // Letters, digits, `-` and `_` (CI tokens): the new encodings add no pattern.
        let new = Encodings::SHELL | Encodings::JSON_ESCAPES | Encodings::FORM;
        assert!(variants(b"glcbt-64_Zq3xK9mWv2Lp8RtY4nBh", new, 8).is_empty());
        // Each new form once, none equal to an older one.
        let older = variants(
            b"p@ss w/rd",
            Encodings::BASE64 | Encodings::URL | Encodings::JSON,
            8,
        );
        let all = variants(b"p@ss w/rd", Encodings::ALL, 8);
        assert_eq!(&all[..older.len()], &older[..]);
        assert!(all[older.len()..].iter().all(|v| !older.contains(v)));
        let only_new = variants(b"p@ss w/rd", new, 8);
        let mut sorted = only_new.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), only_new.len());
        assert!(only_new.contains(&b"p@ss\\ w/rd".to_vec()));
        assert!(only_new.contains(&b"p@ss w\\/rd".to_vec()));
        assert!(only_new.contains(&b"p%40ss+w%2Frd".to_vec()));
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
