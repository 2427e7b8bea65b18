//! What the encoded variants and the token shapes cost: masking throughput on a generated CI
//! log with 10 and 1,000 secrets, with each of them off and on.
//!
//! `cargo bench --bench encodings` (short runs: about half a minute). Ids are
//! `encodings/<secrets>/<rules>`, where `<rules>` is `exact` (no variants, no shapes),
//! `variants` (all encodings), `shapes` (token shapes only) or `all` (the default).

#[path = "support/corpus.rs"]
#[allow(clippy::should_implement_trait)]
mod corpus;

use std::sync::Arc;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use logmask::{Encodings, Masker, Piece, Secrets};

/// Size of the log and of each chunk fed to the masker.
const LOG: usize = 4 << 20;
const CHUNK: usize = 256 << 10;

/// The rule sets compared: name, encodings, token shapes.
const RULES: [(&str, Encodings, bool); 4] = [
    ("exact", Encodings::NONE, false),
    ("variants", Encodings::ALL, false),
    ("shapes", Encodings::NONE, true),
    ("all", Encodings::ALL, true),
];

/// Masks `log` in chunks; returns the output length and the number of masked ranges.
fn mask(secrets: &Arc<Secrets>, log: &[u8]) -> (usize, usize) {
    let mut masker = Masker::new(Arc::clone(secrets));
    let (mut len, mut masked) = (0, 0);
    let mut count = |piece: Piece<'_>| {
        len += piece.len();
        masked += usize::from(matches!(piece, Piece::Replacement(_)));
    };
    for chunk in log.chunks(CHUNK) {
        masker.mask(chunk, &mut count);
    }
    masker.finish(&mut count);
    (len, masked)
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("encodings");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3))
        .throughput(Throughput::Bytes(LOG as u64));
    for n in [10, 1000] {
        let plain = corpus::secrets(n, 1);
        // One secret every 64 KiB, and as many printed as `echo "$TOKEN" | base64` would.
        let encoded: Vec<Vec<u8>> = plain
            .iter()
            .map(|s| base64(&[&s[..], b"\n"].concat()))
            .collect();
        let mut log = corpus::log(LOG / 2, &plain, 64 << 10, 7);
        log.extend_from_slice(&corpus::log(LOG - log.len(), &encoded, 64 << 10, 8));
        let mut exact = 0;
        for (name, encodings, shapes) in RULES {
            let secrets = Arc::new(
                Secrets::builder()
                    .add_lines(plain.join(&b'\n'))
                    .encodings(encodings)
                    .token_shapes(shapes)
                    .build()
                    .expect("valid secrets"),
            );
            // Check the output: the variants mask the encoded secrets too.
            let (_, masked) = mask(&secrets, &log);
            if name == "exact" {
                exact = masked;
            }
            assert!(
                exact > 0 && masked >= exact,
                "{name}: {masked}, exact {exact}"
            );
            assert_eq!(masked > exact, !encodings.is_empty(), "{name}");
            group.bench_with_input(BenchmarkId::new(n.to_string(), name), &log, |b, log| {
                b.iter(|| mask(&secrets, log))
            });
        }
    }
    group.finish();
}

/// Standard base64 with padding.
fn base64(bytes: &[u8]) -> Vec<u8> {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::new();
    for group in bytes.chunks(3) {
        let n = group.iter().fold(0u32, |n, &b| n << 8 | u32::from(b)) << (8 * (3 - group.len()));
        for i in 0..4 {
            let c = ALPHABET[(n >> (18 - 6 * i)) as usize & 63];
            out.push(if i <= group.len() { c } else { b'=' });
        }
    }
    out
}

criterion_group!(benches, bench);
criterion_main!(benches);
