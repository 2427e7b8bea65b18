//! The lenses of the view finder: how a text is seen so that a secret's registered form
//! matches where the log changed it (base64 wrapped into lines, percent hex digits of mixed
//! case).
//!
//! A lens decides each byte of its view from the bytes before it only (what it keeps of the
//! bytes before a text is [`Lens::Before`]), except for a `\r` at the end of the text that a
//! `\n` may still make a line break; so the view of a text is a prefix of the view of any
//! longer text, and the views do not depend on how the stream is cut into chunks.

use std::sync::Arc;

use memchr::memchr_iter;

use super::exact::Exact;
use super::Text;

/// How a text is seen by a [`Viewed`](super::view::Viewed) finder.
pub(crate) trait Lens {
    /// What the lens needs of the bytes before a text.
    type Before: Clone + Default;

    /// Whether a `\r` that ends a text may still leave the view (see [`Lens::view`]).
    const PENDING: bool;

    /// The most text bytes that `n` bytes of the view can come from.
    fn span(n: usize) -> usize;

    /// Whether a pattern of `exact` can match in the view where it does not in the text.
    fn sees(exact: &Exact) -> bool;

    /// Calls `f(p)`, in ascending order, for each text position `p >= from` where the view
    /// differs from the text: a changed byte, or the first byte of a removed line break.
    fn places(text: &Text<'_>, before: &Self::Before, from: usize, f: impl FnMut(usize));

    /// Whether a match of a pattern of `exacts` may hold the place at `p` (false only where
    /// none can).
    fn worth(_exacts: &[Arc<Exact>], _text: &Text<'_>, _p: usize) -> bool {
        true
    }

    /// Whether a match in the view may start at text position `p`: a match holds whole
    /// each change it holds (the `%` of a hex digit it changed).
    fn may_start(_text: &Text<'_>, _before: &Self::Before, _p: usize) -> bool {
        true
    }

    /// Appends the view of `text[from..to]` to `view` and the text position of each of its
    /// bytes to `map`. With `pending`, a byte at the end of the text that later bytes could
    /// still remove counts as removed.
    fn view(
        text: &Text<'_>,
        before: &Self::Before,
        range: (usize, usize),
        pending: bool,
        view: &mut Vec<u8>,
        map: &mut Vec<usize>,
    );

    /// What the next text, `text[at..]` followed by more bytes, needs of the bytes before it.
    fn before(text: &Text<'_>, before: &Self::Before, at: usize) -> Self::Before;
}

/// Calls `f(p)` for each position `p >= from` of `text` holding `byte`, in order.
fn each_byte(text: &Text<'_>, byte: u8, from: usize, mut f: impl FnMut(usize)) {
    let c = text.carry.len();
    if from < c {
        memchr_iter(byte, &text.carry[from..]).for_each(|i| f(from + i));
    }
    let from = from.max(c) - c;
    memchr_iter(byte, &text.input[from..]).for_each(|i| f(c + from + i));
}

/// Base64 wrapped into lines: a `\n` or `\r\n` after a run of exactly 64 or 76 standard
/// base64 characters (`A–Z a–z 0–9 + / =`) is not in the view.
pub(crate) struct Unwrap;

/// The line lengths of wrapped base64: PEM and OpenSSL (64), MIME and `base64` (76).
const WIDTHS: [usize; 2] = [64, 76];

/// Longer runs count as this long.
const CAP: usize = 77;

/// Whether `b` is a standard base64 character or padding.
#[inline]
fn is_base64(b: u8) -> bool {
    BASE64[usize::from(b)]
}

/// [`is_base64`] of each byte.
static BASE64: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = c.is_ascii_alphanumeric() || matches!(c, b'+' | b'/' | b'=');
        b += 1;
    }
    table
};

/// The length of the run of base64 characters that ends before text position `end`, at most
/// [`CAP`], `before` being the run that ends before the text.
fn run_before(text: &Text<'_>, before: u8, end: usize) -> usize {
    let mut n = 0;
    while n < CAP {
        if n == end {
            return (n + usize::from(before)).min(CAP);
        }
        if !is_base64(text.at(end - 1 - n)) {
            return n;
        }
        n += 1;
    }
    CAP
}

impl Unwrap {
    /// Where the line break at the `\n` at `p` begins, if the lens removes it.
    #[inline]
    fn break_at(text: &Text<'_>, before: u8, p: usize) -> Option<usize> {
        let e = if p > 0 && text.at(p - 1) == b'\r' {
            p - 1
        } else {
            p
        };
        // Most lines end in a byte that is no base64 character, or are shorter: two reads.
        if e == 0 || !is_base64(text.at(e - 1)) {
            return (e == 0 && WIDTHS.contains(&usize::from(before))).then_some(e);
        }
        // Away from the text's start, a run of exactly 64 or 76 has a byte that is none
        // before it; its bytes are read from the input's slice where they lie there.
        let c = text.carry.len();
        if e > CAP && e - CAP > c {
            let line = &text.input[..e - c];
            let run = |w: usize| {
                !is_base64(line[line.len() - w - 1])
                    && line[line.len() - w..].iter().all(|&b| is_base64(b))
            };
            return WIDTHS.iter().any(|&w| run(w)).then_some(e);
        }
        WIDTHS.contains(&run_before(text, before, e)).then_some(e)
    }
}

impl Lens for Unwrap {
    /// The length of the base64 run ending before the text, at most [`CAP`].
    type Before = u8;

    const PENDING: bool = true;

    fn span(n: usize) -> usize {
        n + 2 * (n / WIDTHS[0] + 1)
    }

    fn sees(exact: &Exact) -> bool {
        exact.len() > 0
    }

    fn worth(exacts: &[Arc<Exact>], text: &Text<'_>, p: usize) -> bool {
        // The view bytes on each side of the break (at most 3; the text's own bytes).
        let n = text.len();
        let q = p + if text.at(p) == b'\r' { 2 } else { 1 };
        let (b, a) = (p.min(3), n.saturating_sub(q).min(3));
        let before = [0, 1, 2].map(|k| if k < b { text.at(p - b + k) } else { 0 });
        let after = [0, 1, 2].map(|k| if k < a { text.at(q + k) } else { 0 });
        exacts
            .iter()
            .any(|e| e.splits().may_cross(&before[..b], &after[..a]))
    }

    fn places(text: &Text<'_>, before: &u8, from: usize, mut f: impl FnMut(usize)) {
        each_byte(text, b'\n', from, |p| {
            // A `\r\n` whose `\r` lies before `from` changes the view at `from`.
            if let Some(e) = Self::break_at(text, *before, p) {
                f(e.max(from));
            }
        });
    }

    fn view(
        text: &Text<'_>,
        before: &u8,
        (from, to): (usize, usize),
        pending: bool,
        view: &mut Vec<u8>,
        map: &mut Vec<usize>,
    ) {
        let n = text.len();
        let mut i = from;
        while i < to {
            let b = text.at(i);
            let removed = match b {
                b'\n' => Self::break_at(text, *before, i).is_some(),
                b'\r' if i + 1 < n => {
                    text.at(i + 1) == b'\n' && Self::break_at(text, *before, i + 1) == Some(i)
                }
                b'\r' => pending && WIDTHS.contains(&run_before(text, *before, i)),
                _ => false,
            };
            if !removed {
                view.push(b);
                map.push(i);
            }
            i += 1;
        }
    }

    fn before(text: &Text<'_>, before: &u8, at: usize) -> u8 {
        run_before(text, *before, at) as u8
    }
}

/// Percent-encoding with hex digits of either case: a lower-case hex digit after `%`, or
/// after `%` and a hex digit, is upper case in the view.
pub(crate) struct HexUpper;

/// Whether `b` is `a–f`.
#[inline]
fn lower_hex(b: u8) -> bool {
    matches!(b, b'a'..=b'f')
}

impl HexUpper {
    /// Whether the view changes the byte at `i`; `before` holds the two bytes before the
    /// text (zero bytes where the stream has none: neither `%` nor a hex digit).
    #[inline]
    fn changed(text: &Text<'_>, before: &[u8; 2], i: usize) -> bool {
        let back = |k: usize| match i.checked_sub(k) {
            Some(j) => text.at(j),
            None => before[2 - (k - i)],
        };
        lower_hex(text.at(i))
            && (back(1) == b'%' || (back(2) == b'%' && back(1).is_ascii_hexdigit()))
    }
}

impl Lens for HexUpper {
    /// The two bytes before the text, the last one last; zero where the stream has none.
    type Before = [u8; 2];

    const PENDING: bool = false;

    fn span(n: usize) -> usize {
        n
    }

    fn sees(exact: &Exact) -> bool {
        exact.has_percent()
    }

    fn may_start(text: &Text<'_>, before: &[u8; 2], p: usize) -> bool {
        let n = text.len();
        let escape_before = p > 0 && text.at(p - 1) == b'%' || p == 0 && before[1] == b'%';
        !(Self::changed(text, before, p)
            || escape_before
                && text.at(p).is_ascii_hexdigit()
                && p + 1 < n
                && Self::changed(text, before, p + 1))
    }

    fn places(text: &Text<'_>, before: &[u8; 2], from: usize, mut f: impl FnMut(usize)) {
        let n = text.len();
        // The first two bytes may follow a `%` before the text.
        for i in from..n.min(2) {
            if Self::changed(text, before, i) {
                f(i);
            }
        }
        let mut last = 1;
        let mut place = |i: usize| {
            if i > last && i >= from {
                f(i);
                last = i;
            }
        };
        // Most `%` in logs end a percentage (`42% `): one byte read.
        each_byte(text, b'%', from.saturating_sub(2), |p| {
            let Some(b) = (p + 1 < n).then(|| text.at(p + 1)) else {
                return;
            };
            if !b.is_ascii_hexdigit() {
                return;
            }
            if lower_hex(b) {
                place(p + 1);
            }
            if p + 2 < n && lower_hex(text.at(p + 2)) {
                place(p + 2);
            }
        });
    }

    fn view(
        text: &Text<'_>,
        before: &[u8; 2],
        (from, to): (usize, usize),
        _pending: bool,
        view: &mut Vec<u8>,
        map: &mut Vec<usize>,
    ) {
        for i in from..to {
            let b = text.at(i);
            view.push(if Self::changed(text, before, i) {
                b.to_ascii_uppercase()
            } else {
                b
            });
            map.push(i);
        }
    }

    fn before(text: &Text<'_>, before: &[u8; 2], at: usize) -> [u8; 2] {
        let byte = |k: usize| match at.checked_sub(k) {
            Some(j) => text.at(j),
            None => before[2 - (k - at)],
        };
        [byte(2), byte(1)]
    }
}
