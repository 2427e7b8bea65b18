//! A generated, realistic CI log and secret sets for the benchmarks: ANSI colours, long
//! compiler lines, `\r` progress lines, URLs, base64 blobs, timestamps; secrets embedded
//! rarely or densely. Deterministic: the same arguments give the same bytes.
#![allow(dead_code)]

/// A small deterministic generator (xorshift64*), so no dependency is needed.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }

    fn chars(&mut self, alphabet: &[u8], len: usize, out: &mut Vec<u8>) {
        for _ in 0..len {
            out.push(alphabet[self.below(alphabet.len())]);
        }
    }
}

const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const HEX: &[u8] = b"0123456789abcdef";

/// `n` distinct secrets shaped like CI tokens and masked variables (12 to 40 bytes).
pub fn secrets(n: usize, seed: u64) -> Vec<Vec<u8>> {
    let mut rng = Rng::new(seed ^ 0x5EC2E7);
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        let mut s = Vec::new();
        match rng.below(4) {
            0 => {
                s.extend_from_slice(b"glcbt-64_");
                rng.chars(ALNUM, 20, &mut s);
            }
            1 => {
                s.extend_from_slice(b"glpat-");
                rng.chars(ALNUM, 20, &mut s);
            }
            2 => {
                let len = 12 + rng.below(29);
                rng.chars(ALNUM, len, &mut s);
            }
            _ => {
                let len = 16 + rng.below(25);
                rng.chars(HEX, len, &mut s);
            }
        }
        if seen.insert(s.clone()) {
            out.push(s);
        }
    }
    out
}

/// Appends one log line of a random kind.
fn line(rng: &mut Rng, out: &mut Vec<u8>) {
    let ts = |rng: &mut Rng, out: &mut Vec<u8>| {
        let t = rng.below(86_400);
        out.extend_from_slice(
            format!(
                "2026-11-25T{:02}:{:02}:{:02}Z ",
                t / 3600,
                t / 60 % 60,
                t % 60
            )
            .as_bytes(),
        );
    };
    match rng.below(10) {
        0 => {
            out.extend_from_slice(b"\x1b[32;1m$ ");
            let cmd = rng.pick(&[
                "cargo build --release --locked",
                "npm ci --prefer-offline",
                "docker push registry.example.com/group/project:latest",
                "make -j8 all",
                "pytest -x tests/",
            ]);
            out.extend_from_slice(cmd.as_bytes());
            out.extend_from_slice(b"\x1b[0;m\n");
        }
        1 => {
            // A long compiler line.
            out.extend_from_slice(b"   Compiling ");
            let n = 40 + rng.below(60);
            for _ in 0..n {
                let w = rng.pick(&[
                    "-C opt-level=3",
                    "--crate-type lib",
                    "-L dependency=/builds/target/release/deps",
                    "--extern serde=/builds/target/release/deps/libserde-8d1f.rlib",
                    "--cfg feature=\"std\"",
                ]);
                out.extend_from_slice(w.as_bytes());
                out.push(b' ');
            }
            out.push(b'\n');
        }
        2 => {
            // `\r` progress line.
            for pct in (0..=100).step_by(5 + rng.below(20)) {
                out.extend_from_slice(
                    format!(
                        "Downloading artifacts... {pct:3}% [{:<20}]\r",
                        "=".repeat(pct / 5)
                    )
                    .as_bytes(),
                );
            }
            out.push(b'\n');
        }
        3 => {
            ts(rng, out);
            out.extend_from_slice(b"GET https://gitlab.example.com/api/v4/projects/");
            out.extend_from_slice(
                format!(
                    "{}/jobs/{}/artifacts?ref=main&sha=",
                    rng.below(99_999),
                    rng.below(9_999_999)
                )
                .as_bytes(),
            );
            rng.chars(HEX, 40, out);
            out.extend_from_slice(b" 200 OK\n");
        }
        4 => {
            for _ in 0..1 + rng.below(4) {
                rng.chars(B64, 76, out);
                out.push(b'\n');
            }
        }
        5 => {
            ts(rng, out);
            out.extend_from_slice(b"\x1b[0K\x1b[36;1mINFO\x1b[0;m ");
            let msg = rng.pick(&[
                "Fetching changes with git depth set to 20...",
                "Checking cache for default-protected...",
                "Uploading artifacts for successful job",
                "Cleaning up project directory and file based variables",
                "Job succeeded",
            ]);
            out.extend_from_slice(msg.as_bytes());
            out.push(b'\n');
        }
        6 => {
            out.extend_from_slice(b"test ");
            out.extend_from_slice(
                rng.pick(&["parser", "engine::dfa", "io::reader", "cli"])
                    .as_bytes(),
            );
            out.extend_from_slice(format!("::case_{} ... ok\n", rng.below(1000)).as_bytes());
        }
        7 => {
            out.extend_from_slice(b"+ export CI_COMMIT_SHA=");
            rng.chars(HEX, 40, out);
            out.push(b'\n');
        }
        8 => {
            out.extend_from_slice(b"    at com.example.build.Runner.execute(Runner.java:");
            out.extend_from_slice(format!("{})\n", rng.below(900)).as_bytes());
        }
        _ => {
            ts(rng, out);
            out.extend_from_slice(b"{\"level\":\"debug\",\"msg\":\"request\",\"id\":\"");
            rng.chars(ALNUM, 24, out);
            out.extend_from_slice(b"\",\"latency_ms\":");
            out.extend_from_slice(format!("{}}}\n", rng.below(5000)).as_bytes());
        }
    }
}

/// A log of about `size` bytes with one secret every `every` bytes on average (0: none),
/// chosen at random from `secrets`.
pub fn log(size: usize, secrets: &[Vec<u8>], every: usize, seed: u64) -> Vec<u8> {
    let mut rng = Rng::new(seed);
    let mut out = Vec::with_capacity(size + 4096);
    let mut next_secret = if every == 0 {
        usize::MAX
    } else {
        rng.below(2 * every)
    };
    while out.len() < size {
        line(&mut rng, &mut out);
        if out.len() >= next_secret && !secrets.is_empty() {
            let s = &secrets[rng.below(secrets.len())];
            out.extend_from_slice(
                rng.pick(&[
                    "+ curl -H 'PRIVATE-TOKEN: ",
                    "token=",
                    "Authorization: Bearer ",
                    "password: ",
                ])
                .as_bytes(),
            );
            out.extend_from_slice(s);
            out.extend_from_slice(b"'\n");
            next_secret = out.len() + 1 + rng.below(2 * every);
        }
    }
    out.truncate(size);
    out
}

/// A dense log of about `size` bytes: lines of about 100 bytes (API request logs, `set -x`
/// in a loop), each with one of `secrets`.
pub fn dense_log(size: usize, secrets: &[Vec<u8>], seed: u64) -> Vec<u8> {
    let mut rng = Rng::new(seed);
    let mut out = Vec::with_capacity(size + 256);
    while out.len() < size {
        let t = rng.below(86_400);
        out.extend_from_slice(
            format!(
                "2026-11-25T{:02}:{:02}:{:02}Z GET /api/v4/jobs/{} ",
                t / 3600,
                t / 60 % 60,
                t % 60,
                rng.below(9_999_999)
            )
            .as_bytes(),
        );
        out.extend_from_slice(rng.pick(&["token=", "JOB-TOKEN: ", "Bearer "]).as_bytes());
        out.extend_from_slice(&secrets[rng.below(secrets.len())]);
        out.extend_from_slice(b" id=");
        let pad = 100usize.saturating_sub(out.len() % 100 + 1).min(40);
        rng.chars(ALNUM, pad.max(8), &mut out);
        out.push(b'\n');
    }
    out.truncate(size);
    out
}
