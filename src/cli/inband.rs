//! In-band registration (CONTRACT §7): recognises the lines of a stream that register a secret,
//! `::add-mask::VALUE` and `##vso[task.setsecret]VALUE`, so that the pump can register VALUE
//! before it masks a byte that follows the line, and never writes the line.
//!
//! The rules, in the order the recogniser applies them:
//!
//! - A command is recognised only at the start of a line: the first byte of the stream or the
//!   byte after a `\n`. Its prefix is compared ASCII-case-insensitively (`::ADD-MASK::` and
//!   `##vso[task.setSecret]` are commands too: missing one would show its value).
//! - VALUE is every byte after the prefix up to the line's `\n` (or the end of the stream),
//!   without a `\r` just before the `\n`; nothing else is trimmed.
//! - While the bytes at the start of a line are a proper prefix of a command, they are held:
//!   a command split across reads is recognised, and no part of it is written. The first byte
//!   that rules a command out releases them as text; at the end of the stream they are text.
//! - The command line, its `\n` included, is never passed on. A line longer than
//!   [`MAX_LINE`] is still swallowed whole, and reported as not registered.
//!
//! Memory is bounded: at most one command's prefix and [`MAX_LINE`] bytes of value are held.

use memchr::memchr;

mod lines;

/// The longest VALUE registered; a longer command line is swallowed but not registered.
pub const MAX_LINE: usize = 64 * 1024;

/// The registration commands.
const COMMANDS: [&[u8]; 2] = [b"::add-mask::", b"##vso[task.setsecret]"];

/// What the recogniser found, in stream order.
#[derive(Debug, PartialEq, Eq)]
pub enum Event<'a> {
    /// Bytes to mask and pass on.
    Text(&'a [u8]),
    /// A command line registering `value`, on line `line` of the stream (counted from 1).
    Register { value: &'a [u8], line: u64 },
    /// A command line longer than [`MAX_LINE`], swallowed and not registered.
    Overlong { line: u64 },
}

/// Where the recogniser is in the stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// At the start of a line; nothing held.
    LineStart,
    /// At the start of a line, `held` is a non-empty proper prefix of a command.
    Prefix,
    /// Inside a line that is not a command.
    Text,
    /// After a command's prefix: `value` holds the bytes of the line so far.
    Value,
    /// Inside a command line longer than [`MAX_LINE`]: swallowed up to its `\n`.
    Overlong,
}

/// Splits a stream into text and registration commands; one per stream.
#[derive(Debug)]
pub struct Recogniser {
    state: State,
    /// Lines completed so far; the current line is number `lines + 1`.
    lines: u64,
    /// The start of a possible command (`Prefix` only).
    held: Vec<u8>,
    /// The command's value so far (`Value` only), at most [`MAX_LINE`] bytes.
    value: Vec<u8>,
}

impl Default for Recogniser {
    fn default() -> Self {
        Recogniser {
            state: State::LineStart,
            lines: 0,
            held: Vec::new(),
            value: Vec::new(),
        }
    }
}

impl Recogniser {
    /// Feeds the next bytes of the stream; `event` gets each text run and command in order.
    /// Text with no command in it is one event, borrowed from `input`.
    pub fn feed(&mut self, input: &[u8], mut event: impl FnMut(Event<'_>)) {
        // The start of the text in `input` not yet passed on.
        let mut text = 0;
        let mut i = 0;
        while i < input.len() {
            match self.state {
                State::LineStart => {
                    if starts_command(&input[i..=i]) {
                        if text < i {
                            event(Event::Text(&input[text..i]));
                        }
                        self.held.clear();
                        self.held.push(input[i]);
                        i += 1;
                        self.state = self.after_prefix();
                    } else {
                        self.state = State::Text;
                    }
                }
                State::Prefix => {
                    self.held.push(input[i]);
                    if starts_command(&self.held) {
                        i += 1;
                        self.state = self.after_prefix();
                    } else {
                        // Not a command: what was held is text, and this byte is too.
                        self.held.pop();
                        event(Event::Text(&self.held));
                        self.held.clear();
                        text = i;
                        self.state = State::Text;
                    }
                }
                // Lines that cannot begin a command (their first byte is neither `:` nor
                // `#`) are passed over here, without a visit to `LineStart`.
                State::Text => {
                    let (end, lines, line_start) = lines::skip_text(input, i);
                    i = end;
                    self.lines += lines;
                    if line_start {
                        self.state = State::LineStart;
                    }
                }
                State::Value | State::Overlong => {
                    let end = memchr(b'\n', &input[i..]).map(|k| i + k);
                    let part = &input[i..end.unwrap_or(input.len())];
                    if self.state == State::Value {
                        if self.value.len() + part.len() > MAX_LINE + 1 {
                            // One byte more than the limit: room for a `\r`.
                            self.value.clear();
                            self.state = State::Overlong;
                        } else {
                            self.value.extend_from_slice(part);
                        }
                    }
                    match end {
                        None => i = input.len(),
                        Some(end) => {
                            i = end + 1;
                            text = i;
                            self.end_command(&mut event);
                        }
                    }
                }
            }
        }
        if matches!(self.state, State::Text | State::LineStart) && text < input.len() {
            event(Event::Text(&input[text..]));
        }
    }

    /// As [`feed`](Self::feed), but returns true instead of an event when the whole of `input`
    /// is one text run with nothing released before it: the caller passes `input` on as it
    /// is.
    pub fn feed_text(&mut self, input: &[u8], mut event: impl FnMut(Event<'_>)) -> bool {
        let (mut first, mut whole) = (true, false);
        self.feed(input, |e| {
            match e {
                Event::Text(t)
                    if first && t.as_ptr() == input.as_ptr() && t.len() == input.len() =>
                {
                    whole = true;
                }
                e => event(e),
            }
            first = false;
        });
        whole
    }

    /// The end of the stream: a held start of a line is text, a command without its `\n` is
    /// a command.
    pub fn finish(&mut self, mut event: impl FnMut(Event<'_>)) {
        match self.state {
            State::Prefix => event(Event::Text(&self.held)),
            State::Value | State::Overlong => self.end_command(&mut event),
            State::LineStart | State::Text => {}
        }
        self.held.clear();
        self.state = State::LineStart;
    }

    /// The state after `held` grew: a whole command prefix starts its value.
    fn after_prefix(&mut self) -> State {
        if COMMANDS.iter().any(|c| c.eq_ignore_ascii_case(&self.held)) {
            self.held.clear();
            self.value.clear();
            State::Value
        } else {
            State::Prefix
        }
    }

    /// Reports the command line that just ended.
    fn end_command(&mut self, event: &mut impl FnMut(Event<'_>)) {
        self.lines += 1;
        let line = self.lines;
        if self.state == State::Overlong {
            event(Event::Overlong { line });
        } else {
            let value = self.value.strip_suffix(b"\r").unwrap_or(&self.value);
            if value.len() > MAX_LINE {
                event(Event::Overlong { line });
            } else {
                event(Event::Register { value, line });
            }
        }
        self.value.clear();
        self.state = State::LineStart;
    }
}

/// Whether `start` (non-empty) begins a command, or is one's whole prefix.
fn starts_command(start: &[u8]) -> bool {
    COMMANDS
        .iter()
        .any(|c| start.len() <= c.len() && c[..start.len()].eq_ignore_ascii_case(start))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The text passed on, and each registration as `(text before it, line, value)`.
    type Seen = (Vec<u8>, Vec<(usize, u64, Vec<u8>)>);

    /// A xorshift generator from `seed`, for the random tests here and in `lines`.
    pub(super) fn rng(mut seed: u64) -> impl FnMut() -> usize {
        move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed as usize
        }
    }

    /// What the recogniser makes of `input` fed in `chunks`, through [`Recogniser::feed_text`]:
    /// a chunk it takes whole is passed on as it is, after no event of its own.
    fn run(chunks: &[&[u8]]) -> Seen {
        fn on(seen: &mut Seen, e: Event<'_>) {
            match e {
                Event::Text(t) => {
                    assert!(!t.is_empty());
                    seen.0.extend_from_slice(t)
                }
                Event::Register { value, line } => {
                    seen.1.push((seen.0.len(), line, value.to_vec()))
                }
                Event::Overlong { line } => {
                    seen.1.push((seen.0.len(), line, b"<overlong>".to_vec()))
                }
            }
        }
        let mut r = Recogniser::default();
        let mut seen = (Vec::new(), Vec::new());
        for chunk in chunks {
            let mut events = 0;
            let whole = r.feed_text(chunk, |e| {
                events += 1;
                on(&mut seen, e)
            });
            if whole {
                assert_eq!(events, 0, "an event before a chunk taken whole");
                seen.0.extend_from_slice(chunk);
            }
        }
        r.finish(|e| on(&mut seen, e));
        seen
    }

    /// Every split of `input` into up to three chunks gives the same result.
    fn every_split(input: &[u8]) -> Seen {
        let whole = run(&[input]);
        for a in 0..=input.len() {
            for b in a..=input.len() {
                let split = run(&[&input[..a], &input[a..b], &input[b..]]);
                assert_eq!(split, whole, "split at {a}, {b}");
            }
        }
        let bytes: Vec<&[u8]> = input.chunks(1).collect();
        assert_eq!(run(&bytes), whole, "one byte at a time");
        whole
    }

    #[test]
    fn commands_are_swallowed_and_registered_in_order() {
        let (text, regs) =
            every_split(b"a\n::add-mask::s3cr3t-value\r\nb\n##VSO[task.setSecret]other-one\nc");
        assert_eq!(text, b"a\nb\nc");
        assert_eq!(
            regs,
            vec![
                (2, 2, b"s3cr3t-value".to_vec()),
                (4, 4, b"other-one".to_vec())
            ]
        );
    }

    /// Random streams of up to 40 lines (plain, starting with `:` or `#`, commands, near
    /// misses; whole, past `lines`' 64-byte blocks), cut at random: registrations, their line
    /// numbers and the text match a plain reading of the lines.
    #[test]
    fn random_lines_match_a_plain_reading() {
        let pieces: [&[u8]; 8] = [
            b"plain text",
            b"# a comment",
            b":colon",
            b"::add-mask::v-1",
            b"##vso[task.setsecret]v-2",
            b"::add-mas",
            b"##vso",
            b"",
        ];
        let mut rng = rng(0x1234_5678_9abc_def0);
        for _ in 0..500 {
            let lines: Vec<&[u8]> = (0..rng() % 40).map(|_| pieces[rng() % 8]).collect();
            let input = lines.join(&b'\n');
            let (mut text, mut regs) = (Vec::new(), Vec::new());
            for (n, line) in lines.iter().enumerate() {
                let last = n + 1 == lines.len();
                match COMMANDS.iter().find(|c| line.starts_with(c)) {
                    Some(c) => regs.push((text.len(), n as u64 + 1, line[c.len()..].to_vec())),
                    None => {
                        text.extend_from_slice(line);
                        if !last {
                            text.push(b'\n');
                        }
                    }
                }
            }
            let mut chunks = Vec::new();
            let mut at = 0;
            while at < input.len() {
                let n = (1 + rng() % 9).min(input.len() - at);
                chunks.push(&input[at..at + n]);
                at += n;
            }
            assert_eq!(
                run(&chunks),
                (text.clone(), regs.clone()),
                "{:?}",
                String::from_utf8_lossy(&input)
            );
            assert_eq!(run(&[&input]), (text, regs));
        }
    }

    /// `Text` skips lines by their first byte: every command begins with `:` or `#`.
    #[test]
    fn commands_begin_with_a_colon_or_a_hash() {
        assert!(COMMANDS.iter().all(|c| matches!(c[0], b':' | b'#')));
        assert!(!starts_command(b"a") && starts_command(b":") && starts_command(b"#"));
    }

    #[test]
    fn only_at_the_start_of_a_line() {
        let input = b"x ::add-mask::v1\n ::add-mask::v2\n::add-mas\n:: add-mask::v3\n#vso\n";
        let (text, regs) = every_split(input);
        assert_eq!(text, input);
        assert!(regs.is_empty());
    }

    #[test]
    fn a_held_start_at_the_end_is_text_and_a_command_without_newline_counts() {
        assert_eq!(every_split(b"a\n::add-m"), (b"a\n::add-m".to_vec(), vec![]));
        assert_eq!(
            every_split(b"::add-mask::last-value"),
            (vec![], vec![(0, 1, b"last-value".to_vec())])
        );
        assert_eq!(
            every_split(b"::add-mask::\n"),
            (vec![], vec![(0, 1, b"".to_vec())])
        );
    }

    #[test]
    fn an_overlong_command_is_swallowed_whole() {
        let mut input = b"::add-mask::".to_vec();
        input.extend(std::iter::repeat(b'v').take(MAX_LINE + 1));
        input.extend_from_slice(b"\nafter\n");
        let (text, regs) = run(&[&input[..100], &input[100..]]);
        assert_eq!(text, b"after\n");
        assert_eq!(regs, vec![(0, 1, b"<overlong>".to_vec())]);
        // Exactly the limit, with a `\r`, is registered.
        let mut input = b"::add-mask::".to_vec();
        input.extend(std::iter::repeat(b'v').take(MAX_LINE));
        input.extend_from_slice(b"\r\n");
        let (_, regs) = run(&[&input[..7], &input[7..]]);
        assert_eq!(regs[0].2.len(), MAX_LINE);
    }

    #[test]
    fn text_without_commands_is_one_event_per_feed() {
        let mut r = Recogniser::default();
        let mut events = 0;
        r.feed(b"line one\nline two\n#comment\n:colon\nend", |_| {
            events += 1
        });
        // Text, `#`, `comment\n`, `:`, `colon\nend`: a held line start ends a run.
        assert_eq!(events, 5);
        let mut events = 0;
        let mut r = Recogniser::default();
        r.feed(b"line one\nline two\nend\n", |_| events += 1);
        assert_eq!(events, 1);
    }
}
