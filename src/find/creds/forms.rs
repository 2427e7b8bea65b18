//! The rules of the structured credentials, one function per form: where each masked range
//! starts and ends (README "Structured credentials").

use super::view::View;

/// The query and flag parameters whose values are masked, matched without regard to ASCII
/// case and wherever they end right before `=` (so `private_token` ends in `token`); a
/// [`whole_word`] name only where no letter or digit comes before it.
pub(crate) const NAMES: [&str; 6] = [
    "token",
    "password",
    "client_secret",
    "sig",
    "x-amz-signature",
    "x-amz-credential",
];

/// The header name whose value is masked (`Proxy-Authorization:` ends in it).
pub(super) const HEADER: &[u8] = b"authorization:";
/// The start of a PEM block's first line.
pub(super) const BEGIN: &[u8] = b"-----BEGIN ";
/// The start of a PEM block's last line.
const END: &[u8] = b"-----END ";
/// The longest `END` line: what an open PEM block keeps of its last bytes.
pub(super) const END_LINE: usize = END.len() + LABEL + 5;
/// The URL separator before the userinfo.
pub(super) const URL: &[u8] = b"://";

/// At most this many bytes of the authority after `://` are looked at before deciding.
pub(crate) const AUTHORITY: usize = 256;
/// At most this many blanks after `authorization:`, and after its scheme word.
pub(crate) const BLANKS: usize = 16;
/// The longest scheme word (`Bearer`, `AWS4-HMAC-SHA256`).
pub(crate) const SCHEME: usize = 32;
/// The longest label of a PEM line (`RSA PRIVATE KEY`, `PGP PRIVATE KEY BLOCK`).
pub(crate) const LABEL: usize = 48;

/// The most bytes a form can span from its keyword before it is decided: `://` and the
/// longest authority looked at (the other forms need fewer).
pub(crate) const MAX_HELD: usize = URL.len() + AUTHORITY;

/// The bytes a form's keyword may be followed by before its range starts, at most: what a
/// stream keeps before its held bytes to judge them again (and room for an `END` line).
pub(super) const LOOK: usize = MAX_HELD + 1;

/// The kinds of structured credentials.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Form {
    /// The password of `scheme://user:password@host`.
    UrlPassword,
    /// The value of a credential parameter (`token=…`).
    Parameter,
    /// The value of an `Authorization:` header after its scheme word.
    Header,
    /// A PEM private-key block.
    Pem,
}

/// Where a range ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum End {
    /// At this position.
    At(usize),
    /// Not yet known: the range reaches the end of the view, and later bytes extend it.
    Open,
}

/// What a form found at a keyword decides.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Outcome {
    /// Later bytes decide.
    Undecided,
    /// No range.
    Nothing,
    /// The range `start..end`.
    Range(usize, End),
}

fn blank(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

fn line_end(b: u8) -> bool {
    b == b'\n' || b == b'\r'
}

/// The bytes of an authority: RFC 3986's userinfo, host and port characters, `@` and `[]`.
pub(crate) fn authority(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~%!$&'()*+,;=:@[]".contains(&b)
}

/// Whether `b` ends a parameter's value.
pub(crate) fn ends_value(b: u8) -> bool {
    b"&# \t\r\n\x0b\x0c\"'".contains(&b)
}

fn label(b: u8) -> bool {
    b.is_ascii_uppercase() || b.is_ascii_digit() || b == b' '
}

/// Whether a PEM label names a private key.
fn private_key(label: &[u8]) -> bool {
    label.ends_with(b"PRIVATE KEY") || label.ends_with(b"PRIVATE KEY BLOCK")
}

/// `End` of a run that stops at `stop`, from `from`.
fn run(view: &View<'_>, from: usize, eof: bool, stop: impl Fn(u8) -> bool) -> End {
    let end = view.find(from, stop);
    if end == view.len() && !eof {
        End::Open
    } else {
        End::At(end)
    }
}

/// Where a range of `form` that starts (or continues) at `from` ends.
pub(super) fn range_end(view: &View<'_>, form: Form, from: usize, eof: bool) -> End {
    match form {
        Form::UrlPassword => run(view, from, eof, |b| !authority(b)),
        Form::Parameter => run(view, from, eof, ends_value),
        Form::Header => run(view, from, eof, line_end),
        Form::Pem => pem_end(view, from, eof),
    }
}

/// The end of the first `-----END …PRIVATE KEY-----` line starting at or after `from`.
fn pem_end(view: &View<'_>, mut from: usize, eof: bool) -> End {
    while let Some(e) = view.find_literal(from, END) {
        match marker(view, e + END.len(), eof) {
            Outcome::Range(_, End::At(end)) => return End::At(end),
            Outcome::Undecided => return End::Open,
            _ => from = e + 1,
        }
    }
    if eof {
        End::At(view.len())
    } else {
        End::Open
    }
}

/// The label and closing dashes of a PEM line from `from` (after `BEGIN ` or `END `):
/// `Range(_, At(end))` if it names a private key, `end` after the dashes.
fn marker(view: &View<'_>, from: usize, eof: bool) -> Outcome {
    let len = view.len();
    let mut i = from;
    while i < len && label(view.at(i)) && i - from <= LABEL {
        i += 1;
    }
    if i - from > LABEL {
        return Outcome::Nothing;
    }
    for dash in 0..5 {
        if i + dash == len {
            return if eof {
                Outcome::Nothing
            } else {
                Outcome::Undecided
            };
        }
        if view.at(i + dash) != b'-' {
            return Outcome::Nothing;
        }
    }
    let name: Vec<u8> = (from..i).map(|j| view.at(j)).collect();
    if private_key(&name) {
        Outcome::Range(from, End::At(i + 5))
    } else {
        Outcome::Nothing
    }
}

/// A PEM block whose `-----BEGIN ` starts at `start`: from there to the end of its `END`
/// line.
pub(super) fn pem(view: &View<'_>, start: usize, eof: bool) -> Outcome {
    match marker(view, start + BEGIN.len(), eof) {
        Outcome::Range(_, End::At(line)) => Outcome::Range(start, pem_end(view, line, eof)),
        other => other,
    }
}

/// The password of the authority after the `://` at `at`: after the first `:` up to the
/// last `@`, if the authority ends within [`AUTHORITY`] bytes; if it goes on longer and has
/// a `:` within them, from after that `:` to its end.
pub(super) fn url(view: &View<'_>, at: usize, eof: bool) -> Outcome {
    let (from, len) = (at + URL.len(), view.len());
    let (mut colon, mut last_at, mut i) = (None, None, from);
    while i < len && i - from <= AUTHORITY && authority(view.at(i)) {
        match view.at(i) {
            b':' if colon.is_none() && i - from < AUTHORITY => colon = Some(i),
            b'@' => last_at = Some(i),
            _ => {}
        }
        i += 1;
    }
    if i - from > AUTHORITY {
        return match colon {
            Some(c) => Outcome::Range(c + 1, range_end(view, Form::UrlPassword, i, eof)),
            None => Outcome::Nothing,
        };
    }
    if i == len && !eof {
        return Outcome::Undecided;
    }
    match (colon, last_at) {
        (Some(c), Some(a)) if c + 1 < a => Outcome::Range(c + 1, End::At(a)),
        _ => Outcome::Nothing,
    }
}

/// The value after the `=` at `at` of a credential parameter.
pub(super) fn parameter(view: &View<'_>, at: usize, eof: bool) -> Outcome {
    let v = at + 1;
    if v == view.len() {
        return if eof {
            Outcome::Nothing
        } else {
            Outcome::Undecided
        };
    }
    if ends_value(view.at(v)) {
        return Outcome::Nothing;
    }
    Outcome::Range(v, range_end(view, Form::Parameter, v, eof))
}

/// The value of the header whose `:` is at `at`: after the scheme word (1 to [`SCHEME`]
/// bytes, then 1 to [`BLANKS`] blanks) to the end of the line; the whole value when it has
/// no such scheme word; from the 17th blank on when the colon is followed by more.
pub(super) fn header(view: &View<'_>, at: usize, eof: bool) -> Outcome {
    let len = view.len();
    let undecided = |whole: Option<usize>| match whole {
        _ if !eof => Outcome::Undecided,
        Some(v) => Outcome::Range(v, End::At(len)),
        None => Outcome::Nothing,
    };
    let to_line_end = |from: usize| Outcome::Range(from, range_end(view, Form::Header, from, eof));
    let c = at + 1;
    let v = view.find(c, |b| !blank(b)).min(c + BLANKS + 1);
    if v - c > BLANKS {
        return to_line_end(c + BLANKS);
    }
    if v == len {
        return undecided(None);
    }
    if line_end(view.at(v)) {
        return Outcome::Nothing;
    }
    let w = view
        .find(v, |b| blank(b) || line_end(b))
        .min(v + SCHEME + 1);
    if w - v > SCHEME {
        return to_line_end(v);
    }
    if w == len {
        return undecided(Some(v));
    }
    if line_end(view.at(w)) {
        return Outcome::Range(v, End::At(w));
    }
    let x = view.find(w, |b| !blank(b)).min(w + BLANKS + 1);
    if x - w > BLANKS {
        return to_line_end(v);
    }
    if x == len {
        return undecided(Some(v));
    }
    if line_end(view.at(x)) {
        return Outcome::Range(v, End::At(x));
    }
    to_line_end(x)
}

/// Whether a parameter name may end with `b`: a quick test before [`name_before`].
#[inline]
pub(super) fn ends_name(b: u8) -> bool {
    const LAST: [bool; 256] = {
        let mut last = [false; 256];
        let mut i = 0;
        while i < NAMES.len() {
            let name = NAMES[i].as_bytes();
            let b = name[name.len() - 1];
            last[b as usize] = true;
            last[b.to_ascii_uppercase() as usize] = true;
            i += 1;
        }
        last
    };
    LAST[usize::from(b)]
}

/// Whether a name must begin a word: one this short ends too many other words
/// (`PDEATHSIG=`), so it may not follow a letter or a digit.
pub(crate) fn whole_word(name: &[u8]) -> bool {
    name.len() <= 3
}

/// Whether a word may begin after the byte `before` (`None`: the stream's start).
fn may_begin_word(before: Option<u8>) -> bool {
    !before.is_some_and(|b| b.is_ascii_alphanumeric())
}

/// The length of the parameter name that ends right before the `=` at `at`, if one does.
pub(super) fn name_before(view: &View<'_>, at: usize) -> Option<usize> {
    let last = view.at(at.checked_sub(1)?).to_ascii_lowercase();
    NAMES.iter().map(|n| n.as_bytes()).find_map(|name| {
        let n = name.len();
        let starts_word = || !whole_word(name) || may_begin_word(view.before(at - n));
        (name[n - 1] == last && at >= n && view.eq_ignore_case(at - n, name) && starts_word())
            .then_some(n)
    })
}

/// Whether `tail` (after the byte `before`) is a proper prefix of a keyword (with the `=` of
/// a parameter name): the start of a form that later bytes may complete.
pub(super) fn begins_keyword(tail: &[u8], before: Option<u8>) -> bool {
    let proper = |word: &[u8], fold: bool| {
        tail.len() < word.len()
            && if fold {
                word[..tail.len()].eq_ignore_ascii_case(tail)
            } else {
                word.starts_with(tail)
            }
    };
    proper(URL, false)
        || proper(BEGIN, false)
        || proper(HEADER, true)
        || NAMES.iter().map(|n| n.as_bytes()).any(|n| {
            tail.len() <= n.len()
                && n[..tail.len()].eq_ignore_ascii_case(tail)
                && (!whole_word(n) || may_begin_word(before))
        })
}

/// The longest keyword a suffix may begin: [`HEADER`] and the longest name with its `=`.
pub(super) const LONGEST_KEYWORD: usize = 17;
