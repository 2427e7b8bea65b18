//! Named cases (CONTRACT §2 and §3), each run through every path: the `Masker` with one-byte
//! chunks and with every split into two chunks, `MaskingWriter` and `MaskingReader`.

use std::io::{self, BufRead, Read, Write};
use std::sync::Arc;

use logmask::{Masker, MaskingReader, MaskingWriter, Secrets};

use crate::util::{compile, compile_with, expected, stream, Rules};

fn v(items: &[&str]) -> Vec<Vec<u8>> {
    items.iter().map(|s| s.as_bytes().to_vec()).collect()
}

/// Runs `input` through every path and checks each against `want` (and the reference).
fn check(secrets: &[&str], input: &str, want: &str) {
    let secrets = v(secrets);
    let input = input.as_bytes();
    assert_eq!(
        String::from_utf8_lossy(&expected(&secrets, 8, input)),
        want,
        "the reference disagrees with the case"
    );
    let compiled = compile(&secrets, 8);
    let got = |out: Vec<u8>| String::from_utf8(out).unwrap();
    assert_eq!(got(stream(&compiled, input, &[1])), want, "one-byte chunks");
    for split in 0..=input.len() {
        let out = stream(&compiled, input, &[split, input.len()]);
        assert_eq!(got(out), want, "split at {split}");
    }
    // Writer, with writes of 3 bytes through an inner writer taking 2 bytes at a time.
    let mut w = MaskingWriter::new(Trickle::default(), Arc::clone(&compiled));
    for piece in input.chunks(3) {
        w.write_all(piece).unwrap();
    }
    assert_eq!(got(w.finish().unwrap().data), want, "MaskingWriter");
    // Reader, over an inner reader returning 5 bytes at a time.
    let mut r = MaskingReader::new(Short(input, 5), Arc::clone(&compiled));
    let mut out = Vec::new();
    r.read_to_end(&mut out).unwrap();
    assert_eq!(got(out), want, "MaskingReader");
}

/// A writer that takes at most 2 bytes per call.
#[derive(Default)]
struct Trickle {
    data: Vec<u8>,
}

impl Write for Trickle {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = buf.len().min(2);
        self.data.extend_from_slice(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A reader returning at most `.1` bytes per call.
struct Short<'a>(&'a [u8], usize);

impl Read for Short<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.0.len().min(self.1).min(buf.len());
        buf[..n].copy_from_slice(&self.0[..n]);
        self.0 = &self.0[n..];
        Ok(n)
    }
}

#[test]
fn spec_example_overlapping_secrets_merge() {
    // CONTRACT §2: a leftmost-only search would print "ijkl".
    check(
        &["abcdefgh", "efghijkl"],
        "xxabcdefghijklyy",
        "xx[MASKED]yy",
    );
}

#[test]
fn touching_occurrences_merge() {
    check(
        &["abcdefgh", "ijklmnop"],
        "<abcdefghijklmnop>",
        "<[MASKED]>",
    );
    check(
        &["abcdefgh"],
        "abcdefghabcdefgh abcdefgh",
        "[MASKED] [MASKED]",
    );
}

#[test]
fn secret_inside_another_secret() {
    check(
        &["0123456789", "23456789"],
        "a0123456789b23456789c",
        "a[MASKED]b[MASKED]c",
    );
}

#[test]
fn self_overlapping_secret() {
    check(&["abababab"], "ababababab.abababa", "[MASKED].abababa");
}

#[test]
fn near_misses_pass_unchanged() {
    check(
        &["password1"],
        "password password2 passwor",
        "password password2 passwor",
    );
}

#[test]
fn chain_of_overlaps_longer_than_any_secret() {
    check(
        &["aaaabbbb", "bbbbcccc", "ccccdddd", "ddddeeee"],
        "-aaaabbbbccccddddeeee-",
        "-[MASKED]-",
    );
}

#[test]
fn binary_and_multibyte_bytes() {
    check(
        &["\u{e9}t\u{e9}-secret"],
        "x\u{e9}t\u{e9}-secret\u{1f600}",
        "x[MASKED]\u{1f600}",
    );
}

#[test]
fn multi_line_secret_masked_whole_and_by_line() {
    let key = "-----BEGIN KEY-----\nMIIEvQIBADANBg\n-----END KEY-----";
    check(
        &[key],
        &format!("a {key} b\nMIIEvQIBADANBg\n"),
        "a [MASKED] b\n[MASKED]\n",
    );
}

#[test]
fn multi_line_secret_short_line_masked_behind_its_neighbour() {
    // A key printed line by line through a terminal (CR LF): its short last line goes with
    // the line before it; alone it is too short to mask.
    let key = "-----BEGIN KEY-----\nMIIEvQIBADANBg\nShS1W==\n-----END KEY-----\n";
    check(
        &[key],
        "-----BEGIN KEY-----\r\nMIIEvQIBADANBg\r\nShS1W==\r\n-----END KEY-----\r\nShS1W==\n",
        "[MASKED]\r\n[MASKED]\r\n[MASKED]\r\nShS1W==\n",
    );
    // A short first line goes with the line after it.
    check(&["ab\ncdefghij"], "ab\r\ncdefghij ab\n", "[MASKED] ab\n");
}

/// Output of one chunk and what the masker holds after it.
fn after(masker: &mut Masker, chunk: &str) -> (String, usize) {
    let mut out = Vec::new();
    masker.mask(chunk.as_bytes(), |p| out.extend_from_slice(&p));
    (String::from_utf8(out).unwrap(), masker.held_back())
}

/// A masker for the exact secrets only: these cases pin the hold-back of CONTRACT §3, which the
/// variants and token shapes would lengthen (`encodings.rs` covers those).
fn masker(secrets: &[&str]) -> Masker {
    Masker::new(compile_with(&v(secrets), 8, Rules::NONE))
}

#[test]
fn hold_back_ordinary_text_is_emitted_at_once() {
    // CONTRACT §3: a line that cannot begin a secret waits for nothing.
    let mut m = masker(&["glcbt-secret-value"]);
    assert_eq!(after(&mut m, "building...\n"), ("building...\n".into(), 0));
    assert_eq!(
        after(&mut m, "no newline yet"),
        ("no newline yet".into(), 0)
    );
    assert!(!m.is_mask_pending());
}

#[test]
fn hold_back_only_the_longest_secret_prefix() {
    // CONTRACT §3: the longest suffix that is a proper prefix of some secret waits.
    let mut m = masker(&["glcbt-secret-value", "cbt-another"]);
    assert_eq!(after(&mut m, "token: glc"), ("token: ".into(), 3));
    assert_eq!(after(&mut m, "bt-sec"), ("".into(), 9));
    // "glcbt-sec" is no longer a prefix of anything once "X" arrives; "cbt-secX" neither.
    assert_eq!(after(&mut m, "X"), ("glcbt-secX".into(), 0));
}

#[test]
fn hold_back_a_masked_range_that_could_still_grow() {
    // CONTRACT §3: a masked range is held while a held prefix could extend it.
    let mut m = masker(&["abcdefgh", "ghijklmn"]);
    assert_eq!(after(&mut m, "<abcdefgh"), ("<".into(), 2));
    assert!(m.is_mask_pending());
    assert_eq!(after(&mut m, "ijklmn"), ("".into(), 0));
    assert!(
        m.is_mask_pending(),
        "a range ending at the end could still be touched"
    );
    assert_eq!(after(&mut m, ">"), ("[MASKED]>".into(), 0));
    assert!(!m.is_mask_pending());
}

#[test]
fn hold_back_range_released_once_it_cannot_grow() {
    let mut m = masker(&["abcdefgh", "ghijklmn"]);
    assert_eq!(after(&mut m, "abcdefgh"), ("".into(), 2));
    assert_eq!(after(&mut m, "i!"), ("[MASKED]i!".into(), 0));
}

#[test]
fn finish_emits_an_incomplete_prefix_as_text() {
    // CONTRACT §3: at the end of the stream a prefix that never completed is plain text.
    let mut m = masker(&["abcdefgh"]);
    let (out, held) = after(&mut m, "x abcdefg");
    assert_eq!((out.as_str(), held), ("x ", 7));
    let mut tail = Vec::new();
    m.finish(|p| tail.extend_from_slice(&p));
    assert_eq!(tail, b"abcdefg");
    assert_eq!(m.held_back(), 0);
    // The masker starts over for a new stream.
    assert_eq!(after(&mut m, "abcdefgh."), ("[MASKED].".into(), 0));
}

#[test]
fn held_back_stays_below_the_longest_secret() {
    let secrets = ["aaaaaaaaaaaaaaab"];
    let mut m = masker(&secrets);
    for _ in 0..100 {
        after(&mut m, "a");
        assert!(m.held_back() < secrets[0].len());
    }
    let mut out = Vec::new();
    m.finish(|p| out.extend_from_slice(&p));
    assert!(out.iter().all(|&b| b == b'a'));
}

#[test]
fn new_secrets_judge_the_held_bytes() {
    let mut m = masker(&["abcdefgh"]);
    assert_eq!(after(&mut m, "x abcd"), ("x ".into(), 4));
    m.set_secrets(compile(&v(&["cdefghij"]), 8));
    // (Not ".": it may begin the token prefix ".atlasv1." and be held.)
    assert_eq!(after(&mut m, "efghij;"), ("ab[MASKED];".into(), 0));
}

#[test]
fn writer_flush_keeps_the_held_prefix() {
    let secrets = compile(&v(&["abcdefgh"]), 8);
    let mut w = MaskingWriter::new(Vec::new(), secrets);
    w.write_all(b"line\nabc").unwrap();
    w.flush().unwrap();
    assert_eq!(w.get_ref(), b"line\n");
    w.write_all(b"defgh\n").unwrap();
    w.flush().unwrap();
    assert_eq!(w.get_ref(), b"line\n[MASKED]\n");
    w.write_all(b"abc").unwrap();
    assert_eq!(w.finish().unwrap(), b"line\n[MASKED]\nabc");
}

#[test]
fn writer_drop_releases_the_tail() {
    let secrets = compile(&v(&["abcdefgh"]), 8);
    let mut sink = Vec::new();
    {
        let mut w = MaskingWriter::new(&mut sink, secrets);
        w.write_all(b"tail abc").unwrap();
    }
    assert_eq!(sink, b"tail abc");
}

/// The accessor set (the `tokio` adapters have the same): `try_finish` ends a stream and
/// the writer goes on with the next, `into_inner` writes nothing more, the counts add up.
#[test]
fn writer_and_reader_accessors_and_counts() {
    let secrets = compile(&v(&["abcdefgh"]), 8);
    let mut w = MaskingWriter::new(Vec::new(), Arc::clone(&secrets));
    w.write_all(b"one abcdefgh abc").unwrap();
    assert_eq!(w.get_ref(), b"one [MASKED] ");
    w.try_finish().unwrap();
    assert_eq!(
        w.get_ref(),
        b"one [MASKED] abc",
        "the tail, without dropping the writer"
    );
    w.write_all(b"\ntwo abcdefghabcdefgh abcd").unwrap();
    assert_eq!((w.total_in(), w.total_out(), w.masked()), (42, 30, 2));
    w.get_mut().extend_from_slice(b"!");
    let inner = w.into_inner();
    assert_eq!(
        inner, b"one [MASKED] abc\ntwo [MASKED] !",
        "no tail after into_inner"
    );

    let mut r = MaskingReader::new(&b"x abcdefgh y abcdefg"[..], secrets);
    let mut out = String::new();
    r.read_to_string(&mut out).unwrap();
    assert_eq!(out, "x [MASKED] y abcdefg");
    assert_eq!((r.total_in(), r.total_out(), r.masked()), (20, 20, 1));
    assert!(r.get_ref().is_empty() && r.into_inner().is_empty());
}

/// A writer that fails every other call with an error (not `Interrupted`).
struct Flaky {
    data: Vec<u8>,
    calls: usize,
}

impl Write for Flaky {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.calls += 1;
        if self.calls % 2 == 0 {
            return Err(io::Error::other("sink hiccup"));
        }
        let n = buf.len().min(4);
        self.data.extend_from_slice(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn writer_errors_reach_the_caller_and_lose_nothing() {
    let secrets = compile(&v(&["abcdefgh"]), 8);
    let input: &[u8] = b"first line\nsecond abcdefgh line\nthird line\n";
    let mut w = MaskingWriter::new(
        Flaky {
            data: Vec::new(),
            calls: 0,
        },
        secrets,
    );
    let mut errors = 0;
    let mut rest = input;
    while !rest.is_empty() {
        match w.write(&rest[..rest.len().min(7)]) {
            Ok(n) => rest = &rest[n..],
            Err(e) => {
                assert_eq!(e.to_string(), "sink hiccup");
                errors += 1;
            }
        }
    }
    let inner = loop {
        match w.flush() {
            Ok(()) => break w.finish(),
            Err(_) => errors += 1,
        }
    };
    let inner = match inner {
        Ok(inner) => inner,
        Err(_) => unreachable!("flush succeeded, finish writes at most the tail"),
    };
    assert!(errors > 0, "the sink's errors were reported");
    assert_eq!(
        inner.data,
        b"first line\nsecond [MASKED] line\nthird line\n"
    );
}

#[test]
fn reader_returns_a_line_before_the_next_read() {
    // The inner reader fails on its second call: the first line must come out before.
    struct Once(Option<&'static [u8]>);
    impl Read for Once {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            match self.0.take() {
                Some(data) => {
                    buf[..data.len()].copy_from_slice(data);
                    Ok(data.len())
                }
                None => Err(io::Error::other("would block forever")),
            }
        }
    }
    let secrets = compile(&v(&["abcdefgh"]), 8);
    let mut r = MaskingReader::new(Once(Some(b"ready abcdefgh\n")), secrets);
    let mut line = String::new();
    r.read_line(&mut line).unwrap();
    assert_eq!(line, "ready [MASKED]\n");
    assert_eq!(
        r.read(&mut [0; 8]).unwrap_err().to_string(),
        "would block forever"
    );
}

#[test]
fn reader_never_returns_zero_before_the_end() {
    // Chunks that are entirely held back must not look like the end of the stream.
    let secrets = compile(&v(&["abcdefgh"]), 8);
    let mut r = MaskingReader::new(Short(b"abcabcabcdefgh!", 1), secrets);
    let mut out = Vec::new();
    let mut buf = [0; 64];
    loop {
        let n = r.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        out.extend_from_slice(&buf[..n]);
    }
    assert_eq!(out, b"abcabc[MASKED]!");
}

#[test]
fn errors_and_debug_never_show_a_value() {
    let err = Secrets::builder()
        .add_named("env SHORT", "s3cr3t")
        .build()
        .unwrap_err();
    let shown = format!("{err} / {err:?}");
    assert!(
        shown.contains("env SHORT") && !shown.contains("s3cr3t"),
        "{shown}"
    );
    let secrets = Secrets::new(["visible-if-leaked"]).unwrap();
    let m = Masker::new(Arc::new(secrets));
    assert!(!format!("{m:?} {:?}", m.secrets()).contains("visible-if-leaked"));
}
