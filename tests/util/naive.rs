//! The reference semantics of CONTRACT §2, written as plainly as possible: find every occurrence
//! of every pattern by brute force, merge overlapping or touching ranges, replace each merged
//! range once. The rules of CONTRACT §4 ([`Reference`]) are written independently of the
//! library: base64 six bits at a time, its stable part by comparing encodings between
//! different neighbours, tokens by trying every prefix at every position. Shared by the
//! integration tests and the fuzz targets.

/// The byte strings a set of secrets masks (CONTRACT §1): each secret, and for a secret with line
/// breaks each of its lines (without a trailing `\r`) at least `min_len` long, and each shorter
/// non-empty line after its neighbour (the line before, or after for the first line) and
/// `\n` or `\r\n`, where that is `min_len` long.
pub fn patterns(secrets: &[Vec<u8>], min_len: usize) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for s in secrets {
        out.push(s.clone());
        if s.contains(&b'\n') {
            let body = s.strip_suffix(b"\n").unwrap_or(s);
            let lines: Vec<&[u8]> = body
                .split(|&b| b == b'\n')
                .map(|line| line.strip_suffix(b"\r").unwrap_or(line))
                .collect();
            for (n, line) in lines.iter().enumerate() {
                if line.len() >= min_len {
                    out.push(line.to_vec());
                    continue;
                }
                let pair = match n {
                    _ if line.is_empty() => None,
                    0 => lines.get(1).map(|next| (*line, *next)),
                    _ => Some((lines[n - 1], *line)),
                };
                let Some((a, b)) = pair else { continue };
                for sep in ["\n", "\r\n"] {
                    let joined = [a, sep.as_bytes(), b].concat();
                    if joined.len() >= min_len {
                        out.push(joined);
                    }
                }
            }
        }
    }
    out
}

/// Every `[start, end)` range where some pattern occurs in `input`, overlaps included.
pub fn occurrences(patterns: &[Vec<u8>], input: &[u8]) -> Vec<(usize, usize)> {
    let mut ranges = Vec::new();
    for p in patterns.iter().filter(|p| !p.is_empty()) {
        for start in 0..input.len() {
            if input[start..].starts_with(p) {
                ranges.push((start, start + p.len()));
            }
        }
    }
    ranges
}

/// `input` with each maximal union of occurrences (overlapping or touching ranges merged)
/// replaced by `replacement`.
pub fn mask(patterns: &[Vec<u8>], input: &[u8], replacement: &[u8]) -> Vec<u8> {
    mask_ranges(&occurrences(patterns, input), input, replacement)
}

/// Which of CONTRACT §4's rules the reference applies: the encoded variants (base64 in both
/// alphabets, percent-encoding, JSON escaping, shell quoting, other JSON escapes, form
/// encoding), the token shapes and the structured credentials.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rules {
    pub base64: bool,
    pub url: bool,
    pub json: bool,
    pub shell: bool,
    pub json_escapes: bool,
    pub form: bool,
    /// The patterns through base64 wrapped at 64 or 76 columns ([`unwrapped`]).
    pub wrapped: bool,
    /// The patterns through mixed-case percent hex ([`hex_upper`]).
    pub mixed: bool,
    pub shapes: bool,
    pub creds: bool,
}

impl Rules {
    /// The library's defaults: everything but wrapped base64 and the structured credentials.
    pub const ALL: Rules = Rules {
        base64: true,
        url: true,
        json: true,
        shell: true,
        json_escapes: true,
        form: true,
        wrapped: false,
        mixed: true,
        shapes: true,
        creds: false,
    };
    /// Every rule.
    pub const EVERY: Rules = Rules {
        wrapped: true,
        creds: true,
        ..Rules::ALL
    };
    /// The exact values only.
    pub const NONE: Rules = Rules {
        base64: false,
        url: false,
        json: false,
        shell: false,
        json_escapes: false,
        form: false,
        wrapped: false,
        mixed: false,
        shapes: false,
        creds: false,
    };
}

/// The reference for one set of secrets under some rules.
#[derive(Clone, Debug)]
pub struct Reference {
    /// Every byte string masked literally: the patterns and their variants.
    pub patterns: Vec<Vec<u8>>,
    pub wrapped: bool,
    pub mixed: bool,
    pub shapes: bool,
    pub creds: bool,
}

impl Reference {
    pub fn new(secrets: &[Vec<u8>], min_len: usize, rules: Rules) -> Reference {
        let mut all = Vec::new();
        for p in patterns(secrets, min_len) {
            all.extend(variants(&p, min_len, rules));
            all.push(p);
        }
        Reference {
            patterns: all,
            wrapped: rules.wrapped,
            mixed: rules.mixed,
            shapes: rules.shapes,
            creds: rules.creds,
        }
    }

    /// Every masked range: the occurrences of the patterns, the tokens and the structured
    /// credentials.
    pub fn ranges(&self, input: &[u8]) -> Vec<(usize, usize)> {
        let mut ranges = self.literal_ranges(input);
        if self.shapes {
            ranges.extend(tokens(input));
        }
        if self.creds {
            ranges.extend(creds::ranges(input));
        }
        ranges
    }

    /// The occurrences of the patterns, in the text and in the views the rules search.
    pub fn literal_ranges(&self, input: &[u8]) -> Vec<(usize, usize)> {
        let mut ranges = occurrences(&self.patterns, input);
        for (view, map, starts) in self.views(input, false) {
            for (a, b) in occurrences(&self.patterns, &view) {
                if starts[a] {
                    ranges.push((map[a], map[b - 1] + 1));
                }
            }
        }
        ranges
    }

    pub fn mask(&self, input: &[u8], replacement: &[u8]) -> Vec<u8> {
        mask_ranges(&self.ranges(input), input, replacement)
    }

    /// The views the rules search, each with the text position of every byte and whether a
    /// match may start there (`pending`: a `\r` at the end that a `\n` could still make a
    /// line break counts as one).
    fn views(&self, text: &[u8], pending: bool) -> Vec<(Vec<u8>, Vec<usize>, Vec<bool>)> {
        let mut out = Vec::new();
        if self.wrapped {
            let (view, map) = unwrapped(text, pending);
            let starts = vec![true; view.len()];
            out.push((view, map, starts));
        }
        if self.mixed {
            let view = hex_upper(text);
            let starts = (0..text.len())
                .map(|a| whole_escapes(text, &view, a))
                .collect();
            out.push((view, (0..text.len()).collect(), starts));
        }
        out
    }

    /// The minimal hold-back after `text` (CONTRACT §3): the length of the longest suffix that a
    /// later byte could complete into a pattern or a shortest token, or that holds a
    /// structured credential's keyword and what follows it while the form is not decided.
    pub fn held(&self, text: &[u8]) -> usize {
        self.held_parts(text, None, true)
    }

    /// [`held`](Self::held) for `text` where the stream held back from `start` before: the
    /// views see the 80 bytes before `start` too (a base64 run before a line break, a `%`),
    /// and the byte before `start` decides whether a token's prefix may begin there.
    pub fn held_from(&self, text: &[u8], start: usize) -> usize {
        let ctx = start.saturating_sub(80);
        let viewed = self.viewed_held(&text[ctx..], start - ctx);
        let before = start.checked_sub(1).map(|j| text[j]);
        self.held_parts(&text[start..], before, false).max(viewed)
    }

    /// The hold-back of `text`, which follows the stream's byte `before` (`None`: it begins
    /// the stream).
    fn held_parts(&self, text: &[u8], first: Option<u8>, views: bool) -> usize {
        let before = |i: usize| i.checked_sub(1).map_or(first, |j| Some(text[j]));
        let could_grow = |i: usize| {
            let s = &text[i..];
            self.patterns
                .iter()
                .any(|p| p.len() > s.len() && p.starts_with(s))
                || (self.shapes
                    && TOKENS.iter().any(|&(prefix, class, min, not_after)| {
                        let prefix = prefix.as_bytes();
                        if before(i).is_some_and(|b| not_after.as_bytes().contains(&b)) {
                            false
                        } else if s.len() <= prefix.len() {
                            prefix.starts_with(s)
                        } else {
                            s.starts_with(prefix)
                                && s.len() - prefix.len() < min
                                && s[prefix.len()..]
                                    .iter()
                                    .all(|b| class.as_bytes().contains(b))
                        }
                    }))
        };
        // A suffix longer than every pattern and every shortest token cannot grow into one.
        let longest = self
            .patterns
            .iter()
            .map(Vec::len)
            .max()
            .unwrap_or(0)
            .max(100);
        let grows = (text.len().saturating_sub(longest)..text.len())
            .find(|&i| could_grow(i))
            .map_or(0, |i| text.len() - i);
        let viewed = if views { self.viewed_held(text, 0) } else { 0 };
        let creds = if self.creds {
            text.len() - creds::held_after(first, text)
        } else {
            0
        };
        grows.max(viewed).max(creds)
    }

    /// The longest suffix of `text` that a view shows as a proper prefix of a pattern, from
    /// the text position of its first byte; only suffixes from `from` on count (the bytes
    /// before it were released, perhaps under an earlier set).
    fn viewed_held(&self, text: &[u8], from: usize) -> usize {
        let longest = self.patterns.iter().map(Vec::len).max().unwrap_or(0);
        self.views(text, true)
            .into_iter()
            .filter_map(|(view, map, starts)| {
                (view.len().saturating_sub(longest)..view.len())
                    .find(|&a| {
                        starts[a]
                            && map[a] >= from
                            && self
                                .patterns
                                .iter()
                                .any(|p| p.len() > view.len() - a && p.starts_with(&view[a..]))
                    })
                    .map(|a| text.len() - map[a])
            })
            .max()
            .unwrap_or(0)
    }
}

/// `text` without the line breaks of wrapped base64: each `\n` or `\r\n` that follows a run
/// of exactly 64 or 76 characters of `A–Z a–z 0–9 + / =` (with `pending`, also a `\r` that
/// ends the text after such a run), and the text position of each byte left.
pub fn unwrapped(text: &[u8], pending: bool) -> (Vec<u8>, Vec<usize>) {
    let base64 = |b: &u8| b.is_ascii_alphanumeric() || b"+/=".contains(b);
    let run = |end: usize| text[..end].iter().rev().take_while(|b| base64(b)).count();
    let mut removed = vec![false; text.len()];
    for p in 0..text.len() {
        if text[p] == b'\n' {
            let e = if p > 0 && text[p - 1] == b'\r' {
                p - 1
            } else {
                p
            };
            if run(e) == 64 || run(e) == 76 {
                removed[e..=p].iter_mut().for_each(|r| *r = true);
            }
        }
    }
    if pending && text.last() == Some(&b'\r') && [64, 76].contains(&run(text.len() - 1)) {
        removed[text.len() - 1] = true;
    }
    (0..text.len())
        .filter(|&i| !removed[i])
        .map(|i| (text[i], i))
        .unzip()
}

/// Whether a match in `view = hex_upper(text)` starting at `a` holds the `%` of each hex
/// digit it changed: neither `a` nor `a + 1` is a digit changed for a `%` before `a`.
fn whole_escapes(text: &[u8], view: &[u8], a: usize) -> bool {
    let changed = |i: usize| i < text.len() && view[i] != text[i];
    let from_before = |i: usize| {
        (i >= 1 && i - 1 < a && text[i - 1] == b'%')
            || (i >= 2 && i - 2 < a && text[i - 2] == b'%' && text[i - 1].is_ascii_hexdigit())
    };
    !(changed(a) && from_before(a) || changed(a + 1) && from_before(a + 1))
}

/// `text` with each `a–f` that follows `%`, or `%` and a hex digit, in upper case.
pub fn hex_upper(text: &[u8]) -> Vec<u8> {
    (0..text.len())
        .map(|i| {
            let after = (i >= 1 && text[i - 1] == b'%')
                || (i >= 2 && text[i - 2] == b'%' && text[i - 1].is_ascii_hexdigit());
            if after && (b'a'..=b'f').contains(&text[i]) {
                text[i].to_ascii_uppercase()
            } else {
                text[i]
            }
        })
        .collect()
}

/// The encoded variants of `secret` under `rules` that differ from it and are at least
/// `min_len` long, computed the plainest way.
pub fn variants(secret: &[u8], min_len: usize, rules: Rules) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    if rules.base64 {
        for alphabet in [STANDARD, URL_SAFE] {
            for offset in 0..3 {
                out.push(base64_stable(secret, offset, alphabet));
            }
        }
    }
    if rules.url {
        out.push(percent(secret, false));
        out.push(percent(secret, true));
    }
    if rules.json {
        out.push(json(secret));
    }
    if rules.shell {
        out.extend(shell(secret));
    }
    if rules.json_escapes {
        out.extend(json_escapes(secret));
    }
    if rules.form {
        for keep in ["-._~", "*-._"] {
            out.push(form(secret, keep, false));
            out.push(form(secret, keep, true));
        }
    }
    out.retain(|v| v.len() >= min_len && v != secret);
    out
}

/// Bash's quotings of `secret`: `set -x`'s single quotes, `printf %q`'s backslashes, and
/// `$'…'` with non-ASCII kept when valid UTF-8 (UTF-8 locale) or in octal (C locale).
pub fn shell(secret: &[u8]) -> Vec<Vec<u8>> {
    let mut single = Vec::new();
    for &b in secret {
        if b == b'\'' {
            single.extend(*b"'\\''");
        } else {
            single.push(b);
        }
    }
    let mut backslashed = Vec::new();
    for (i, &b) in secret.iter().enumerate() {
        let tilde = b == b'~' && i > 0 && b":=".contains(&secret[i - 1]);
        if tilde || b" \t\n!\"$&'()*,;<>?[\\]^`{|}".contains(&b) {
            backslashed.push(b'\\');
        }
        backslashed.push(b);
    }
    vec![
        single,
        backslashed,
        ansi_c(secret, true),
        ansi_c(secret, false),
    ]
}

/// The inside of bash's `$'…'` quoting.
fn ansi_c(secret: &[u8], utf8_locale: bool) -> Vec<u8> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < secret.len() {
        let b = secret[i];
        // The length of the valid UTF-8 character starting here, 0 if none does.
        let char_len = (1..=4)
            .find(|&n| i + n <= secret.len() && std::str::from_utf8(&secret[i..i + n]).is_ok())
            .unwrap_or(0);
        match b {
            27 => out.extend(*b"\\E"),
            7 => out.extend(*b"\\a"),
            8 => out.extend(*b"\\b"),
            12 => out.extend(*b"\\f"),
            b'\n' => out.extend(*b"\\n"),
            b'\r' => out.extend(*b"\\r"),
            b'\t' => out.extend(*b"\\t"),
            11 => out.extend(*b"\\v"),
            b'\\' | b'\'' => out.extend([b'\\', b]),
            b' '..=b'~' => out.push(b),
            0x80.. if utf8_locale && char_len > 1 => {
                out.extend_from_slice(&secret[i..i + char_len]);
                i += char_len;
                continue;
            }
            _ => out.extend(format!("\\{b:03o}").bytes()),
        }
        i += 1;
    }
    out
}

/// The JSON forms of common encoders, every combination of: non-ASCII characters (and DEL)
/// as UTF-16 `\uXXXX` escapes (valid UTF-8 only), `\/`, `\u003c \u003e \u0026` (and
/// `\u2028 \u2029`), lower- or upper-case hex.
pub fn json_escapes(secret: &[u8]) -> Vec<Vec<u8>> {
    let text = std::str::from_utf8(secret).ok();
    // Characters of the text, or bytes of a secret that is not UTF-8.
    let items: Vec<(u32, Vec<u8>)> = match text {
        Some(t) => t
            .chars()
            .map(|c| (c as u32, c.to_string().into_bytes()))
            .collect(),
        None => secret.iter().map(|&b| (u32::from(b), vec![b])).collect(),
    };
    let mut out = Vec::new();
    for non_ascii in [false, true] {
        if non_ascii && text.is_none() {
            continue;
        }
        for slash in [false, true] {
            for html in [false, true] {
                for upper in [false, true] {
                    let hex = |u: u32| {
                        if upper {
                            format!("\\u{u:04X}")
                        } else {
                            format!("\\u{u:04x}")
                        }
                    };
                    let mut v = Vec::new();
                    for (c, bytes) in &items {
                        let c = *c;
                        let html_char = [0x3c, 0x3e, 0x26, 0x2028, 0x2029].contains(&c);
                        if (non_ascii && c >= 0x7f) || (html && html_char) {
                            let mut units = [0u16; 2];
                            for u in char::from_u32(c).unwrap().encode_utf16(&mut units) {
                                v.extend(hex(u32::from(*u)).bytes());
                            }
                        } else if c < 0x20 && ![8, 9, 10, 12, 13].contains(&c) {
                            v.extend(hex(c).bytes());
                        } else if slash && c == 0x2f {
                            v.extend(*b"\\/");
                        } else {
                            v.extend(json(bytes));
                        }
                    }
                    out.push(v);
                }
            }
        }
    }
    out
}

/// `application/x-www-form-urlencoded`: `+` for a space, letters, digits and `keep` as they
/// are, everything else `%XX`.
pub fn form(secret: &[u8], keep: &str, lower: bool) -> Vec<u8> {
    let mut out = Vec::new();
    for &b in secret {
        if b == b' ' {
            out.push(b'+');
        } else if b.is_ascii_alphanumeric() || keep.as_bytes().contains(&b) {
            out.push(b);
        } else if lower {
            out.extend(format!("%{b:02x}").bytes());
        } else {
            out.extend(format!("%{b:02X}").bytes());
        }
    }
    out
}

pub const STANDARD: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
pub const URL_SAFE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Base64 without padding, six bits at a time.
pub fn base64(bytes: &[u8], alphabet: &[u8; 64]) -> Vec<u8> {
    let bits: Vec<u8> = bytes
        .iter()
        .flat_map(|&b| (0..8).rev().map(move |i| (b >> i) & 1))
        .collect();
    bits.chunks(6)
        .map(|six| {
            let v = (0..6).fold(0, |v, i| v << 1 | six.get(i).copied().unwrap_or(0));
            alphabet[v as usize]
        })
        .collect()
}

/// The characters of the base64 encoding of `secret`, placed `offset` bytes into a 3-byte
/// group, that stay the same whatever its neighbours are: encode it once between zero bytes
/// and once between 0xff bytes and keep the characters that agree.
fn base64_stable(secret: &[u8], offset: usize, alphabet: &[u8; 64]) -> Vec<u8> {
    let with = |fill: u8| {
        let text = [&vec![fill; offset][..], secret, &[fill; 3]].concat();
        base64(&text, alphabet)
    };
    let (zeros, ones) = (with(0), with(0xff));
    let same: Vec<usize> = (0..zeros.len()).filter(|&i| zeros[i] == ones[i]).collect();
    match (same.first(), same.last()) {
        (Some(&a), Some(&b)) => {
            assert_eq!(
                b - a + 1,
                same.len(),
                "the stable characters are contiguous"
            );
            zeros[a..=b].to_vec()
        }
        _ => Vec::new(),
    }
}

/// RFC 3986 percent-encoding of everything but the unreserved bytes.
pub fn percent(secret: &[u8], lower: bool) -> Vec<u8> {
    let mut out = Vec::new();
    for &b in secret {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b);
        } else if lower {
            out.extend(format!("%{b:02x}").bytes());
        } else {
            out.extend(format!("%{b:02X}").bytes());
        }
    }
    out
}

/// The inside of a JSON string, as `JSON.stringify` writes it (bytes above 0x7f kept).
pub fn json(secret: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for &b in secret {
        match b {
            b'"' | b'\\' => out.extend([b'\\', b]),
            b'\n' => out.extend(*b"\\n"),
            b'\r' => out.extend(*b"\\r"),
            b'\t' => out.extend(*b"\\t"),
            8 => out.extend(*b"\\b"),
            12 => out.extend(*b"\\f"),
            0..=31 => out.extend(format!("\\u{:04x}", b).bytes()),
            _ => out.push(b),
        }
    }
    out
}

const GITLAB: &str = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_.-";
const GITHUB: &str = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const GITHUB_PAT: &str = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_";
const SLACK: &str = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-";
const AWS: &str = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const BASE64URL: &str = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_-";
const BASE64: &str = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz+/=_-";

/// No letter or digit may come right before the prefix ...
const WORD: &str = GITHUB;
/// ... nor `+` or `/`.
const BASE64_WORD: &str = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz+/";

/// The token shapes of the README's table: prefix, body characters, shortest body, and the
/// bytes that may not come right before the prefix.
pub const TOKENS: [(&str, &str, usize, &str); 55] = [
    ("glpat-", GITLAB, 20, ""),
    ("glcbt-", GITLAB, 22, ""),
    ("gldt-", GITLAB, 20, ""),
    ("glrt-", GITLAB, 20, ""),
    ("glrtr-", GITLAB, 20, ""),
    ("glptt-", GITLAB, 40, ""),
    ("glft-", GITLAB, 20, ""),
    ("glsoat-", GITLAB, 20, ""),
    ("glimt-", GITLAB, 25, ""),
    ("glagent-", GITLAB, 50, ""),
    ("gloas-", GITLAB, 64, ""),
    ("glffct-", GITLAB, 20, ""),
    ("ghp_", GITHUB, 36, ""),
    ("gho_", GITHUB, 36, ""),
    ("ghu_", GITHUB, 36, ""),
    ("ghs_", GITHUB, 36, ""),
    ("ghr_", GITHUB, 36, ""),
    ("github_pat_", GITHUB_PAT, 82, ""),
    ("xoxb-", SLACK, 21, ""),
    ("xoxp-", SLACK, 61, ""),
    ("xapp-", SLACK, 30, ""),
    ("xoxa-", SLACK, 16, ""),
    ("xoxe-", SLACK, 40, ""),
    ("xoxr-", SLACK, 16, ""),
    ("hooks.slack.com/services/", BASE64, 40, ""),
    ("hooks.slack.com/workflows/", BASE64, 40, ""),
    ("AKIA", AWS, 16, WORD),
    ("ASIA", AWS, 16, WORD),
    ("AIza", BASE64URL, 35, BASE64_WORD),
    ("sk-proj-", BASE64URL, 40, ""),
    ("sk-svcacct-", BASE64URL, 40, ""),
    ("sk-admin-", BASE64URL, 40, ""),
    ("sk-ant-", BASE64URL, 40, ""),
    ("sk_live_", GITHUB, 24, ""),
    ("rk_live_", GITHUB, 24, ""),
    ("sk_test_", GITHUB, 24, ""),
    ("npm_", GITHUB, 36, ""),
    ("pypi-AgEIcHlwaS5vcmc", BASE64URL, 50, ""),
    ("hf_", GITHUB, 34, ""),
    ("SG.", GITLAB, 66, ""),
    ("shpat_", GITHUB, 32, ""),
    ("shpss_", GITHUB, 32, ""),
    ("shpca_", GITHUB, 32, ""),
    ("shppa_", GITHUB, 32, ""),
    ("dop_v1_", GITHUB, 64, ""),
    ("doo_v1_", GITHUB, 64, ""),
    ("dor_v1_", GITHUB, 64, ""),
    ("hvs.", GITLAB, 24, ""),
    ("hvb.", GITLAB, 24, ""),
    (".atlasv1.", BASE64, 60, ""),
    ("dapi", SLACK, 32, BASE64_WORD),
    ("glsa_", GITHUB_PAT, 41, ""),
    ("glc_", BASE64, 32, ""),
    ("PMAK-", SLACK, 59, ""),
    ("eyJ", GITLAB, 74, WORD),
];

/// Every token range in `input`: a prefix, wherever it occurs after a byte it may follow (or
/// at the start), and the whole run of body characters after it, when that run is at least
/// the shortest body.
pub fn tokens(input: &[u8]) -> Vec<(usize, usize)> {
    let mut ranges = Vec::new();
    for start in 0..input.len() {
        for (prefix, class, min, not_after) in TOKENS {
            let glued = start > 0 && not_after.as_bytes().contains(&input[start - 1]);
            if input[start..].starts_with(prefix.as_bytes()) && !glued {
                let body = start + prefix.len();
                let run = input[body..]
                    .iter()
                    .take_while(|b| class.as_bytes().contains(b))
                    .count();
                if run >= min {
                    ranges.push((start, body + run));
                }
            }
        }
    }
    ranges
}

/// `input` with each maximal union of `ranges` (overlapping or touching ones merged)
/// replaced by `replacement`.
pub fn mask_ranges(ranges: &[(usize, usize)], input: &[u8], replacement: &[u8]) -> Vec<u8> {
    let mut masked = vec![false; input.len()];
    for &(s, e) in ranges {
        masked[s..e].iter_mut().for_each(|m| *m = true);
    }
    let mut out = Vec::new();
    let mut i = 0;
    while i < input.len() {
        if masked[i] {
            out.extend_from_slice(replacement);
            while i < input.len() && masked[i] {
                i += 1;
            }
        } else {
            out.push(input[i]);
            i += 1;
        }
    }
    out
}

/// The structured credentials of CONTRACT §4, written the plain way: every form tried at
/// every position, reading the text byte by byte. A read past the end of a text that the
/// stream may still extend means the form is not decided yet ([`creds::held`]).
pub mod creds {
    /// The parameter names (ASCII case aside) whose value after `=` is masked.
    pub const NAMES: [&str; 6] = [
        "token",
        "password",
        "client_secret",
        "sig",
        "x-amz-signature",
        "x-amz-credential",
    ];

    /// Later bytes decide.
    struct More;

    /// The text, and whether the stream ends with it.
    struct Text<'a> {
        bytes: &'a [u8],
        ends: bool,
    }

    impl Text<'_> {
        /// The byte at `j`; `None` past the end of the stream.
        fn get(&self, j: usize) -> Result<Option<u8>, More> {
            match self.bytes.get(j) {
                Some(&b) => Ok(Some(b)),
                None if self.ends => Ok(None),
                None => Err(More),
            }
        }

        /// The first position from `j` whose byte is `stop`, or the end.
        fn until(&self, j: usize, stop: impl Fn(u8) -> bool) -> usize {
            (j..self.bytes.len())
                .find(|&k| stop(self.bytes[k]))
                .unwrap_or(self.bytes.len())
        }

        /// Whether `word` is at `i`, ASCII case aside if `fold`.
        fn word(&self, i: usize, word: &str, fold: bool) -> Result<bool, More> {
            for (k, w) in word.bytes().enumerate() {
                match self.get(i + k)? {
                    Some(b) if b == w || (fold && b.eq_ignore_ascii_case(&w)) => {}
                    _ => return Ok(false),
                }
            }
            Ok(true)
        }
    }

    fn blank(b: u8) -> bool {
        b == b' ' || b == b'\t'
    }
    fn eol(b: u8) -> bool {
        b == b'\r' || b == b'\n'
    }
    fn authority(b: u8) -> bool {
        b.is_ascii_alphanumeric() || b"-._~%!$&'()*+,;=:@[]".contains(&b)
    }
    fn ends_value(b: u8) -> bool {
        b"&# \t\r\n\x0b\x0c\"'".contains(&b)
    }
    fn label(b: u8) -> bool {
        b.is_ascii_uppercase() || b.is_ascii_digit() || b == b' '
    }

    type Found = Vec<(usize, usize)>;

    /// `://` at `i`: the bytes after the first `:` of the authority up to its last `@`, if
    /// it ends within 256 bytes; else from after a `:` in its first 256 bytes to its end.
    fn url(t: &Text, i: usize, out: &mut Found) -> Result<(), More> {
        if !t.word(i, "://", false)? {
            return Ok(());
        }
        let (from, mut j, mut colon, mut at) = (i + 3, i + 3, None, None);
        while j - from <= 256 {
            match t.get(j)? {
                Some(b) if authority(b) => {
                    if b == b':' && colon.is_none() && j - from < 256 {
                        colon = Some(j);
                    }
                    if b == b'@' {
                        at = Some(j);
                    }
                    j += 1;
                }
                _ => break,
            }
        }
        if j - from > 256 {
            if let Some(k) = colon {
                out.push((k + 1, t.until(j, |b| !authority(b))));
            }
        } else if let (Some(k), Some(a)) = (colon, at) {
            if k + 1 < a {
                out.push((k + 1, a));
            }
        }
        Ok(())
    }

    /// `authorization:` at `i` (any case): the value after a scheme word of 1 to 32 bytes
    /// and 1 to 16 blanks, to the end of the line; the whole value without such a word; the
    /// 17th blank on after 16 blanks.
    fn header(t: &Text, i: usize, out: &mut Found) -> Result<(), More> {
        if !t.word(i, "authorization:", true)? {
            return Ok(());
        }
        let line = |from: usize| (from, t.until(from, eol));
        let c = i + 14;
        let mut v = c;
        while v - c <= 16 && t.get(v)?.is_some_and(blank) {
            v += 1;
        }
        if v - c > 16 {
            out.push(line(c + 16));
            return Ok(());
        }
        match t.get(v)? {
            None => return Ok(()),
            Some(b) if eol(b) => return Ok(()),
            _ => {}
        }
        let mut w = v;
        while w - v <= 32 && t.get(w)?.is_some_and(|b| !blank(b) && !eol(b)) {
            w += 1;
        }
        if w - v > 32 {
            out.push(line(v));
            return Ok(());
        }
        let ends = match t.get(w)? {
            Some(b) => eol(b),
            None => true, // the stream ends
        };
        if ends {
            out.push((v, w));
            return Ok(());
        }
        let mut x = w;
        while x - w <= 16 && t.get(x)?.is_some_and(blank) {
            x += 1;
        }
        if x - w > 16 {
            out.push(line(v));
            return Ok(());
        }
        match t.get(x)? {
            None => out.push((v, x)),
            Some(b) if eol(b) => out.push((v, x)),
            _ => out.push(line(x)),
        }
        Ok(())
    }

    /// `NAME=` at `i` (any case): the value, up to `& #`, whitespace or a quote. `sig` only
    /// where no letter or digit comes before it.
    fn parameter(t: &Text, i: usize, out: &mut Found) -> Result<(), More> {
        let after_word = i > 0 && t.bytes[i - 1].is_ascii_alphanumeric();
        for name in NAMES {
            if name == "sig" && after_word {
                continue;
            }
            if t.word(i, name, true)? && t.word(i + name.len(), "=", false)? {
                let v = i + name.len() + 1;
                if t.get(v)?.is_some_and(|b| !ends_value(b)) {
                    out.push((v, t.until(v, ends_value)));
                }
            }
        }
        Ok(())
    }

    /// The `LABEL-----` after `BEGIN ` or `END ` at `j`: its end, if the label names a private
    /// key.
    fn marker(t: &Text, j: usize) -> Result<Option<usize>, More> {
        let mut k = j;
        while k - j <= 48 && t.get(k)?.is_some_and(label) {
            k += 1;
        }
        if k - j > 48 || !t.word(k, "-----", false)? {
            return Ok(None);
        }
        let name = &t.bytes[j..k];
        let key = name.ends_with(b"PRIVATE KEY") || name.ends_with(b"PRIVATE KEY BLOCK");
        Ok(key.then_some(k + 5))
    }

    /// `-----BEGIN …PRIVATE KEY-----` at `i`: to the end of the first `-----END …PRIVATE
    /// KEY-----` after it, or to the end of the stream.
    fn pem(t: &Text, i: usize, out: &mut Found) -> Result<(), More> {
        if !t.word(i, "-----BEGIN ", false)? {
            return Ok(());
        }
        let Some(m) = marker(t, i + 11)? else {
            return Ok(());
        };
        let whole = Text {
            bytes: t.bytes,
            ends: true,
        };
        let end = (m..t.bytes.len())
            .find_map(|j| {
                if t.bytes[j..].starts_with(b"-----END ") {
                    marker(&whole, j + 9).ok().flatten()
                } else {
                    None
                }
            })
            .unwrap_or(t.bytes.len());
        out.push((i, end));
        Ok(())
    }

    /// The forms at `i`: `Err` if one of them is not decided by `t`.
    fn at(t: &Text, i: usize, out: &mut Found) -> Result<(), More> {
        let (a, b, c, d) = (
            url(t, i, out),
            header(t, i, out),
            parameter(t, i, out),
            pem(t, i, out),
        );
        a.and(b).and(c).and(d)
    }

    /// Every masked range of the whole stream `input`.
    pub fn ranges(input: &[u8]) -> Vec<(usize, usize)> {
        let t = Text {
            bytes: input,
            ends: true,
        };
        let mut out = Vec::new();
        for i in 0..input.len() {
            let _ = at(&t, i, &mut out);
        }
        out
    }

    /// Where the held bytes of `text` begin (the stream goes on): at the first position where
    /// a form (or a keyword that later bytes may complete) is not decided yet.
    pub fn held(text: &[u8]) -> usize {
        held_after(None, text)
    }

    /// [`held`] for `text` that follows the stream's byte `before` (`None`: it begins the
    /// stream), which decides whether `sig` may begin at its first byte.
    pub fn held_after(before: Option<u8>, text: &[u8]) -> usize {
        let bytes = [before.as_slice(), text].concat();
        let from = bytes.len() - text.len();
        let t = Text {
            bytes: &bytes,
            ends: false,
        };
        (from..bytes.len())
            .find(|&i| at(&t, i, &mut Vec::new()).is_err())
            .map_or(text.len(), |i| i - from)
    }
}
