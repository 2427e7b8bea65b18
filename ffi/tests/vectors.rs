//! The test vectors of the C and Go bindings, `ffi/tests/vectors.txt`, computed here with
//! the Rust API (not through the bindings), so the C test (`ffi/tests/c/test.c`) and the Go
//! tests (`bindings/go/`) compare their output with the Rust core's, byte for byte.
//!
//! This test fails if the committed file differs from what the Rust API gives now; rewrite
//! it with
//!
//!     LOGMASK_BLESS=1 cargo test --release -p logmask-ffi --test vectors
//!
//! # Format
//!
//! One directive per line, tokens separated by one space; a byte string is lowercase hex,
//! `-` when empty; an origin is hex or `~` for none (NULL). Lines starting with `#` are
//! comments. Each case runs from `case NAME` to `end`, with a fresh builder:
//!
//! | directive | meaning |
//! | --- | --- |
//! | `min_len N`, `replacement HEX`, `encodings BITS`, `shapes 0\|1` | builder settings |
//! | `encodings_parse HEX` | set the encodings from a list (the text in hex) |
//! | `encodings_parse_fails CODE MSG HEX` | that list is refused with CODE and message MSG |
//! | `secret ORIGIN HEX`, `lines ORIGIN HEX` | add one secret, or the lines of a text |
//! | `build` | compile the builder, then make a masker of it |
//! | `build_fails CODE MSG` | compiling fails with CODE and message MSG (the case ends) |
//! | `registry` | make a registry with the builder as its base, and a masker following it |
//! | `add JOB N HEX...` | add N secrets for job JOB (hex) to the registry |
//! | `add_fails CODE MSG JOB N HEX...` | that add is refused with CODE and MSG |
//! | `remove JOB 0\|1` | remove job JOB; whether it was active |
//! | `feed HEX` | give these bytes to the masker, in one call or split in any way |
//! | `expect HEX` | finish the masker; all output since `build`/`registry` is HEX |
//!
//! The output does not depend on how each `feed` is split (chunk invariance; this test
//! checks that for every case at several chunk sizes, down to 1 byte), so the C and Go
//! tests split them as they like. In every failing case, the message holds no secret value
//! of the case (this test checks that too; the bindings check it again).

#[path = "../../benches/support/corpus.rs"]
mod corpus;

use std::fmt::Write as _;
use std::sync::Arc;

use logmask::{Encodings, Masker, Registry, Secrets, SecretsBuilder};
use logmask_ffi::{
    LOGMASK_ERR_BAD_ENCODINGS, LOGMASK_ERR_INVALID_ARGUMENT, LOGMASK_ERR_IN_REPLACEMENT,
    LOGMASK_ERR_TOO_SHORT,
};

const PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors.txt");

/// The chunk sizes each feed is checked at (0: the whole feed in one call).
const CHUNKS: [usize; 9] = [0, 1, 2, 3, 7, 64, 4096, 32 << 10, 64 << 10];

fn hex(bytes: &[u8]) -> String {
    if bytes.is_empty() {
        return "-".into();
    }
    let mut s = String::with_capacity(2 * bytes.len());
    for b in bytes {
        write!(s, "{b:02x}").unwrap();
    }
    s
}

fn code(err: &logmask::Error) -> i32 {
    if err.is_too_short() {
        LOGMASK_ERR_TOO_SHORT
    } else if err.is_in_replacement() {
        LOGMASK_ERR_IN_REPLACEMENT
    } else if err.is_bad_encodings() {
        LOGMASK_ERR_BAD_ENCODINGS
    } else {
        LOGMASK_ERR_INVALID_ARGUMENT
    }
}

/// A case being written: each step runs on the Rust API and is recorded as a directive.
struct Case<'a> {
    out: &'a mut String,
    builder: SecretsBuilder,
    /// Every secret value of the case, which no message may contain.
    values: Vec<Vec<u8>>,
    /// The masker with the feeds so far, one per chunk size in `CHUNKS`; the registry if any.
    streams: Vec<(Masker, Vec<u8>)>,
    registry: Option<Registry>,
}

impl<'a> Case<'a> {
    fn new(out: &'a mut String, name: &str) -> Case<'a> {
        writeln!(out, "case {name}").unwrap();
        Case {
            out,
            builder: Secrets::builder(),
            values: Vec::new(),
            streams: Vec::new(),
            registry: None,
        }
    }

    fn line(&mut self, line: String) -> &mut Self {
        self.out.push_str(&line);
        self.out.push('\n');
        self
    }

    fn min_len(&mut self, n: usize) -> &mut Self {
        self.builder.min_len(n);
        self.line(format!("min_len {n}"))
    }

    fn replacement(&mut self, text: &[u8]) -> &mut Self {
        self.builder.replacement(text);
        self.line(format!("replacement {}", hex(text)))
    }

    fn encodings(&mut self, bits: u32) -> &mut Self {
        let mut e = Encodings::NONE;
        for (bit, enc) in [
            (1, Encodings::BASE64),
            (2, Encodings::URL),
            (4, Encodings::JSON),
        ] {
            if bits & bit != 0 {
                e |= enc;
            }
        }
        self.builder.encodings(e);
        self.line(format!("encodings {bits}"))
    }

    fn encodings_parse(&mut self, list: &str) -> &mut Self {
        match list.parse::<Encodings>() {
            Ok(e) => {
                self.builder.encodings(e);
                self.line(format!("encodings_parse {}", hex(list.as_bytes())))
            }
            Err(err) => {
                let line = format!(
                    "encodings_parse_fails {} {} {}",
                    code(&err),
                    self.message(&err),
                    hex(list.as_bytes())
                );
                self.line(line)
            }
        }
    }

    fn shapes(&mut self, on: bool) -> &mut Self {
        self.builder.token_shapes(on);
        self.line(format!("shapes {}", u8::from(on)))
    }

    fn secret(&mut self, origin: Option<&str>, value: &[u8]) -> &mut Self {
        match origin {
            Some(o) => self.builder.add_named(o, value),
            None => self.builder.add(value),
        };
        self.values.push(value.to_vec());
        let origin = origin.map_or("~".into(), |o| hex(o.as_bytes()));
        self.line(format!("secret {origin} {}", hex(value)))
    }

    fn lines(&mut self, origin: Option<&str>, text: &[u8]) -> &mut Self {
        match origin {
            Some(o) => self.builder.add_lines_named(o, text),
            None => self.builder.add_lines(text),
        };
        self.values.extend(
            text.split(|&b| b == b'\n')
                .map(|l| l.strip_suffix(b"\r").unwrap_or(l).to_vec())
                .filter(|l| !l.is_empty()),
        );
        let origin = origin.map_or("~".into(), |o| hex(o.as_bytes()));
        self.line(format!("lines {origin} {}", hex(text)))
    }

    /// The message of `err` in hex, checked to hold no value of the case.
    fn message(&self, err: &logmask::Error) -> String {
        let msg = err.to_string();
        for v in &self.values {
            assert!(
                !msg.as_bytes().windows(v.len()).any(|w| w == v.as_slice()),
                "{msg}"
            );
        }
        hex(msg.as_bytes())
    }

    fn start(&mut self, masker: impl Fn() -> Masker) {
        self.streams = CHUNKS.iter().map(|_| (masker(), Vec::new())).collect();
    }

    fn build(&mut self) -> &mut Self {
        let secrets = Arc::new(self.builder.build().expect("the case's set builds"));
        self.start(|| Masker::new(Arc::clone(&secrets)));
        self.line("build".into())
    }

    fn build_fails(&mut self) {
        let err = self.builder.build().expect_err("the case's set is refused");
        let line = format!("build_fails {} {}", code(&err), self.message(&err));
        self.line(line).line("end".into());
    }

    fn registry(&mut self) -> &mut Self {
        let registry = Registry::new(self.builder.clone()).expect("the base builds");
        self.start(|| registry.masker());
        self.registry = Some(registry);
        self.line("registry".into())
    }

    fn add(&mut self, job: &str, values: &[&[u8]]) -> &mut Self {
        let registry = self.registry.as_ref().expect("a registry case");
        let result = registry.add(job, values);
        self.values.extend(values.iter().map(|v| v.to_vec()));
        let mut rest = format!("{} {}", hex(job.as_bytes()), values.len());
        for v in values {
            write!(rest, " {}", hex(v)).unwrap();
        }
        let line = match result {
            Ok(()) => format!("add {rest}"),
            Err(err) => format!("add_fails {} {} {rest}", code(&err), self.message(&err)),
        };
        self.line(line)
    }

    fn remove(&mut self, job: &str) -> &mut Self {
        let was = self.registry.as_ref().expect("a registry case").remove(job);
        self.line(format!("remove {} {}", hex(job.as_bytes()), u8::from(was)))
    }

    fn feed(&mut self, input: &[u8]) -> &mut Self {
        for ((masker, out), &chunk) in self.streams.iter_mut().zip(&CHUNKS) {
            let chunk = if chunk == 0 {
                input.len().max(1)
            } else {
                chunk
            };
            for c in input.chunks(chunk) {
                masker.mask(c, |piece| out.extend_from_slice(piece.as_ref()));
            }
        }
        self.line(format!("feed {}", hex(input)))
    }

    /// Finishes every stream; they must agree. Returns the output.
    fn expect(&mut self) -> Vec<u8> {
        let mut outs = Vec::new();
        for (masker, out) in &mut self.streams {
            masker.finish(|piece| out.extend_from_slice(piece.as_ref()));
            outs.push(std::mem::take(out));
        }
        for (out, chunk) in outs.iter().zip(&CHUNKS) {
            assert_eq!(
                out, &outs[0],
                "chunk size {chunk} gives other output than one call per feed"
            );
        }
        let line = format!("expect {}", hex(&outs[0]));
        self.line(line).line("end".into());
        outs.swap_remove(0)
    }
}

fn vectors() -> String {
    let mut out = String::from(
        "# Test vectors for the C and Go bindings, computed by the Rust API.\n\
         # Generated by ffi/tests/vectors.rs (its doc comment gives the format); do not edit.\n",
    );
    let o = &mut out;

    let got = Case::new(o, "overlap")
        .encodings(0)
        .secret(None, b"abcdefgh")
        .secret(None, b"efghijkl")
        .build()
        .feed(b"xxabcdefghijklyy")
        .expect();
    assert_eq!(got, b"xx[MASKED]yy");

    Case::new(o, "split-secret-and-prefix-at-end")
        .secret(Some("env CI_JOB_TOKEN"), b"glcbt-64_zyx987wvu")
        .secret(Some("env PASSWORD"), b"hunter2hunter2")
        .build()
        .feed(b"+ curl -H 'JOB-TOKEN: glcbt-64_")
        .feed(b"zyx987wvu' https://example.com\npassword=hunter2")
        .feed(b"hunter2\nand a prefix that never completes: hunter2hunt")
        .expect();

    Case::new(o, "touching-and-repeated")
        .encodings(0)
        .shapes(false)
        .secret(None, b"aaaaaaaa")
        .secret(None, b"bbbbbbbb")
        .build()
        .feed(b"aaaaaaaaaaaabbbbbbbb|aaaaaaa|aaaaaaaa aaaaaaaa\n")
        .expect();

    Case::new(o, "secrets-file-lines")
        .lines(
            Some("secrets.txt"),
            b"first-secret-value\r\n\nsecond secret with spaces\nthird-no-newline",
        )
        .build()
        .feed(b"1 first-secret-value 2 second secret with spaces 3 third-no-newline\r\n")
        .feed(b"second secret without: second secret\n")
        .expect();

    Case::new(o, "multi-line-secret")
        .secret(
            Some("env DEPLOY_KEY"),
            b"-----BEGIN KEY-----\r\nAAAAbbbbCCCCdddd\r\nEEEE\r\n-----END KEY-----",
        )
        .build()
        .feed(b"key line printed alone: AAAAbbbbCCCCdddd\n")
        .feed(b"whole: -----BEGIN KEY-----\r\nAAAAbbbbCCCCdddd\r\nEEEE\r\n-----END KEY-----\n")
        .expect();

    Case::new(o, "encoded-variants")
        .secret(Some("env API_KEY"), b"p/ss\"w0rd-value")
        .build()
        .feed(b"url: p%2Fss%22w0rd-value lower p%2fss%22w0rd-value\n")
        .feed(b"json: {\"k\":\"p/ss\\\"w0rd-value\"}\n")
        .feed(b"base64: cC9zcyJ3MHJkLXZhbHVl\n")
        .expect();

    Case::new(o, "encodings-parsed-json-only")
        .encodings_parse("json")
        .secret(None, b"p/ss\"w0rd-value")
        .build()
        .feed(b"url: p%2Fss%22w0rd-value json: p/ss\\\"w0rd-value\n")
        .expect();

    Case::new(o, "token-shapes")
        .build()
        .feed(b"unregistered: glpat-abcdefghij0123456789 and ghp_0123456789abcdefghijABCDEFGHIJ012345\n")
        .expect();

    Case::new(o, "token-shapes-off")
        .shapes(false)
        .build()
        .feed(b"unregistered: glpat-abcdefghij0123456789\n")
        .expect();

    Case::new(o, "replacement-and-min-len")
        .min_len(4)
        .replacement(b"***")
        .encodings(0)
        .secret(None, b"abcd")
        .build()
        .feed(b"abcdabcd abc abcd\n")
        .expect();

    Case::new(o, "binary-bytes")
        .encodings(0)
        .secret(
            Some("file key.bin"),
            b"\x00\xff\x00\xfe\x01\x02\x03\x04\x0a\x0d",
        )
        .build()
        .feed(b"head\x00\xff\x00\xfe\x01\x02\x03\x04\x0a\x0d\x00tail\xff")
        .expect();

    Case::new(o, "empty-stream")
        .secret(None, b"some-secret-value")
        .build()
        .expect();

    // A log larger than the Go writer's 64 KiB feeds, with secrets embedded densely.
    let secrets = corpus::secrets(20, 3);
    let log = corpus::log(80 << 10, &secrets, 2 << 10, 5);
    let mut case = Case::new(o, "generated-log");
    for (i, s) in secrets.iter().enumerate() {
        case.secret(Some(&format!("corpus {i}")), s);
    }
    let got = case.build().feed(&log).expect();
    assert!(got.len() < log.len());

    // Registry: a base secret, jobs added and removed mid-stream, bytes held back at a
    // change judged against the new set.
    let mut case = Case::new(o, "registry-mid-stream");
    case.secret(Some("runner token"), b"glrt-runner-0001")
        .registry()
        .feed(b"runner: glrt-runner-0001 job 41 not yet: job41-secret-value\n")
        .add("41", &[b"job41-secret-value", b"second-value-of-41"])
        .feed(b"job 41: job41-secret-value second-value-of-41\nheld: job41-secr")
        .remove("41")
        .feed(b"et-value <- held bytes judged by the new set, without 41\nnot held: job42-se")
        .add("42", &[b"job42-secret-value"])
        .feed(b"cret-value <- emitted before the add\n42 stays: job42-secret-value\n")
        .remove("41")
        .add_fails_case()
        .feed(b"after a refused add: job42-secret-value\n")
        .expect();

    Case::new(o, "registry-with-settings")
        .replacement(b"<hidden>")
        .encodings(0)
        .shapes(false)
        .min_len(10)
        .registry()
        .add("a", &[b"aaaa-aaaa-aaaa"])
        .feed(b"x aaaa-aaaa-aaaa y glpat-abcdefghij0123456789\n")
        .expect();

    // Errors: the messages name the origin, never the value.
    Case::new(o, "error-too-short-named")
        .secret(Some("env SHORT_TOKEN"), b"sh0rt!")
        .build_fails();
    Case::new(o, "error-too-short-unnamed")
        .secret(None, b"long-enough-secret")
        .secret(None, b"tiny")
        .build_fails();
    Case::new(o, "error-too-short-line")
        .lines(Some("masked.txt"), b"long-enough-secret\nx1y2z3\n")
        .build_fails();
    Case::new(o, "error-in-replacement")
        .replacement(b"<<hidden-value>>")
        .secret(Some("env HIDDEN"), b"hidden-value")
        .build_fails();
    Case::new(o, "error-encoded-in-replacement")
        .replacement(b"<a%20b%20c%20d%20e>")
        .secret(Some("env S"), b"a b c d e")
        .build_fails();
    Case::new(o, "error-bad-encodings")
        .encodings_parse("base64,rot13")
        .secret(None, b"still-builds-with-defaults")
        .build()
        .feed(b"still-builds-with-defaults\n")
        .expect();

    out
}

impl Case<'_> {
    /// An add that the base's minimum length refuses.
    fn add_fails_case(&mut self) -> &mut Self {
        self.add("43", &[b"job43-long-enough-value", b"j43"])
    }
}

#[test]
fn vectors_file_is_current() {
    let want = vectors();
    if std::env::var_os("LOGMASK_BLESS").is_some() {
        std::fs::write(PATH, &want).unwrap();
        return;
    }
    let have = std::fs::read_to_string(PATH).unwrap_or_default();
    assert!(
        have == want,
        "{PATH} is out of date: rerun with LOGMASK_BLESS=1 \
         (cargo test --release -p logmask-ffi --test vectors) and commit it"
    );
}
