//! Structured credentials (CONTRACT §4): values that are secret by their place, masked
//! without registration — the password of a URL's userinfo, the values of credential
//! parameters, `Authorization:` header values and PEM private-key blocks.
//!
//! Each form begins at a keyword (`://`, `token=` …, `authorization:`, `-----BEGIN `) and is
//! decided within [`MAX_HELD`] bytes of it; `forms` says where each range starts and ends.
//! A form not yet decided is held from its keyword on, as is a suffix that may still become
//! a keyword. A range whose end is not known yet (a value reaching the end of the text, a
//! PEM block before its `END` line) is masked as it streams and continues into the next
//! text. Ranges may start up to [`LOOK`] bytes after their keyword, so a stream keeps the
//! bytes before its held ones that may hold such a keyword, and the ranges that began before
//! them, to judge the held bytes again with their context.

mod forms;
mod scan;
mod view;

pub(crate) use forms::{Form, MAX_HELD};

use super::{Find, Range, Text};
use forms::{End, Outcome, LOOK};
use view::View;

/// The structured-credentials finder.
pub(crate) struct Creds;

/// A range of a form whose keyword lies before the kept bytes, in their positions.
#[derive(Clone, Copy, Debug)]
struct Entry {
    form: Form,
    start: usize,
    /// `None`: not known yet, the form's rule finds it.
    end: Option<usize>,
}

/// A range found in the view.
#[derive(Clone, Copy, Debug)]
struct Found {
    /// Where its keyword begins; `None` for an [`Entry`].
    keyword: Option<usize>,
    form: Form,
    start: usize,
    end: End,
}

/// What a stream carries for [`Creds`].
#[derive(Clone, Default)]
pub(crate) struct CredsState {
    /// The bytes right before the held ones that the next text is judged with.
    kept: Vec<u8>,
    /// The ranges that began before `kept` (or whose keyword did) and reach into it.
    entries: Vec<Entry>,
    /// This text's view: `kept` and the held bytes, when `kept` is not empty.
    head: Vec<u8>,
    /// The stream's byte right before the view (`kept`, or else the held bytes).
    before: Option<u8>,
    /// This text's ranges, in view positions.
    found: Vec<Found>,
}

impl Find for Creds {
    type State = CredsState;

    fn held(&self, state: &mut CredsState, text: &Text<'_>) -> usize {
        let mut head = std::mem::take(&mut state.head);
        head.clear();
        let k = state.kept.len();
        if k > 0 {
            head.extend_from_slice(&state.kept);
            head.extend_from_slice(text.carry);
        }
        let view = View {
            head: if k > 0 { &head } else { text.carry },
            input: text.input,
            before: state.before,
        };
        let held = scan(&view, &state.entries, text.eof, &mut state.found).max(k);
        state.head = head;
        held - k
    }

    fn ranges(&self, state: &mut CredsState, text: &Text<'_>, held: usize, out: &mut Vec<Range>) {
        let k = state.kept.len();
        let (h, old_end, len) = (k + held, k + text.carry.len(), k + text.len());
        let first = out.len();
        for f in &state.found {
            let end = match f.end {
                End::At(e) => e,
                End::Open => len,
            };
            if f.start < k {
                // Reported with an earlier text; what lies past that text continues it.
                if end > old_end {
                    out.push((0, end - k));
                }
            } else if f.start < h {
                out.push((f.start - k, end - k));
            }
        }
        out[first..].sort_unstable();
        if text.eof {
            state.kept.clear();
            state.entries.clear();
            state.before = None;
            return;
        }
        // Keep from the earliest keyword whose range reaches past `h` (or starts there),
        // and the last bytes of an open PEM block, which may begin its `END` line.
        let reaches = |f: &Found, to: usize| match f.end {
            End::Open => true,
            End::At(e) => e > to,
        };
        let mut from = h;
        for f in &state.found {
            match f.keyword {
                Some(kw) if kw + LOOK >= h && reaches(f, h) => from = from.min(kw),
                _ => {}
            }
            if f.form == Form::Pem && f.end == End::Open {
                from = from.min(len.saturating_sub(forms::END_LINE));
            }
        }
        let view = View {
            head: if k > 0 { &state.head } else { text.carry },
            input: text.input,
            before: state.before,
        };
        state.before = view.before(from);
        let kept: Vec<u8> = (from..h).map(|i| view.at(i)).collect();
        let entries = state
            .found
            .iter()
            .filter(|f| reaches(f, from) && f.keyword.map_or(true, |kw| kw < from))
            .map(|f| Entry {
                form: f.form,
                start: f.start.saturating_sub(from),
                end: match f.end {
                    End::At(e) => Some(e - from),
                    End::Open => None,
                },
            })
            .collect();
        state.kept = kept;
        state.entries = entries;
    }
}

/// Finds the ranges of `view` (the forms at its keywords and the `entries` from before) into
/// `found`; returns where the held bytes begin: at the first form not yet decided, or at a
/// suffix that may still become a keyword.
fn scan(view: &View<'_>, entries: &[Entry], eof: bool, found: &mut Vec<Found>) -> usize {
    found.clear();
    for e in entries {
        let end = match e.end {
            Some(end) => End::At(end),
            None => forms::range_end(view, e.form, e.start, eof),
        };
        found.push(Found {
            keyword: None,
            form: e.form,
            start: e.start,
            end,
        });
    }
    let mut held = view.len();
    let mut judge = |keyword: usize, form: Form, outcome: Outcome| match outcome {
        Outcome::Undecided => held = held.min(keyword),
        Outcome::Nothing => {}
        Outcome::Range(start, end) => found.push(Found {
            keyword: Some(keyword),
            form,
            start,
            end,
        }),
    };
    candidates(view, |i, b| match b {
        b':' => {
            if view.eq(i, forms::URL) {
                judge(i, Form::UrlPassword, forms::url(view, i, eof));
            }
            let n = forms::HEADER.len() - 1;
            if i >= n && view.eq_ignore_case(i - n, &forms::HEADER[..n]) {
                judge(i - n, Form::Header, forms::header(view, i, eof));
            }
        }
        b'=' => {
            if let Some(n) = forms::name_before(view, i) {
                judge(i - n, Form::Parameter, forms::parameter(view, i, eof));
            }
        }
        _ => judge(i, Form::Pem, forms::pem(view, i, eof)),
    });
    if !eof {
        let len = view.len();
        let from = len.saturating_sub(forms::LONGEST_KEYWORD);
        let tail: Vec<u8> = (from..len).map(|i| view.at(i)).collect();
        if let Some(i) =
            (0..tail.len()).find(|&i| forms::begins_keyword(&tail[i..], view.before(from + i)))
        {
            held = held.min(from + i);
        }
    }
    held
}

/// Calls `f(i, byte)` for each position of `view` that may end a header name (`:`) or a
/// parameter name (`=`), or begin `://` (`:`) or `-----BEGIN ` (`-`, at the `-----`).
fn candidates(view: &View<'_>, mut f: impl FnMut(usize, u8)) {
    let h = view.head.len();
    let mut judge = |i: usize| {
        let (b, prev) = (view.at(i), i.checked_sub(1).map_or(0, |j| view.at(j)));
        match b {
            b':' => {
                if prev | 0x20 == b'n' || (i + 1 < view.len() && view.at(i + 1) == b'/') {
                    f(i, b':');
                }
            }
            b'=' => {
                if forms::ends_name(prev) {
                    f(i, b'=');
                }
            }
            _ => {
                if prev == b'-' && i >= 5 && view.eq(i - 5, forms::BEGIN) {
                    f(i - 5, b'-');
                }
            }
        }
    };
    scan::each_hit(view.head, &mut judge);
    scan::each_hit(view.input, |i| judge(h + i));
}

#[cfg(test)]
mod tests {
    use super::forms::NAMES;
    use super::*;
    use crate::find::Finder;
    use crate::testing::unions;

    /// Streams `chunks` through one state (nothing else held), returning the masked text
    /// positions of the whole stream.
    fn masked(chunks: &[&[u8]]) -> Vec<Range> {
        let (finder, mut state, mut carry) = (Creds, CredsState::default(), Vec::new());
        let (mut out, mut base) = (Vec::new(), 0);
        for (n, &chunk) in chunks.iter().enumerate() {
            let text = Text {
                carry: &carry,
                input: chunk,
                eof: n + 1 == chunks.len(),
            };
            let held = if text.eof {
                text.len()
            } else {
                finder.held(&mut state, &text)
            };
            if text.eof {
                finder.held(&mut state, &text);
            }
            let mut ranges = Vec::new();
            finder.ranges(&mut state, &text, held, &mut ranges);
            out.extend(ranges.iter().map(|&(s, e)| (base + s, base + e)));
            let next = [&carry[..], chunk].concat()[held..].to_vec();
            base += held;
            carry = next;
        }
        out
    }

    #[test]
    fn a_value_continues_across_chunks_and_empty_ones() {
        let whole: &[u8] = b"x token=abcdef&y";
        let want = unions(masked(&[whole, b""]));
        assert_eq!(want, [(8, 14)]);
        for split in 0..=whole.len() {
            let (a, b) = whole.split_at(split);
            assert_eq!(unions(masked(&[a, b"", b, b""])), want, "split at {split}");
        }
    }

    #[test]
    fn capacities_zero_one_and_max_held() {
        let finder = Creds;
        let held = |bytes: &[u8]| {
            let text = Text {
                carry: b"",
                input: bytes,
                eof: false,
            };
            bytes.len() - finder.held(&mut CredsState::default(), &text)
        };
        assert_eq!(held(b""), 0);
        assert_eq!(held(b"x t"), 1);
        assert_eq!(held(b"x token="), 6);
        // The longest form not yet decided: `://` and 256 bytes of authority.
        let long = [&b"x://"[..], &[b'a'; 256]].concat();
        assert_eq!(held(&long[1..]), MAX_HELD);
        assert!(held(&[&long[..], b"a"].concat()) < MAX_HELD);
    }

    #[test]
    fn a_state_goes_on_with_a_new_set() {
        // `carry_states` keeps the state of the credential finder for the next set's.
        let finders = [Finder::Creds(Creds)];
        let mut states = vec![finders[0].new_state()];
        crate::find::carry_states(&finders, &mut states);
        assert!(matches!(states[..], [crate::find::State::Creds(_)]));
    }

    /// The reference's names are checked against the same rows (tests/logmask/creds.rs).
    #[test]
    fn readme_documents_the_names() {
        let readme = include_str!("../../../README.md");
        for name in NAMES {
            let row = format!("| `{name}` |");
            assert!(
                readme.lines().any(|l| l.starts_with(&row)),
                "no README row {row}"
            );
        }
    }
}
