//! Many streams in one process (`tokio` feature): a thousand tasks, each writing its own log
//! through a `MaskingAsyncWriter` into a real in-process pipe (`tokio::io::duplex`), all
//! following one `Registry` of 10,000 secrets; secrets are split across writes, and a secret
//! added mid-way is masked in every stream from its next write on.

use std::sync::Arc;

use logmask::tokio::MaskingAsyncWriter;
use logmask::{Registry, Secrets};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const STREAMS: usize = 1000;
const SECRETS: usize = 10_000;

/// A tiny deterministic generator.
fn next(seed: &mut u64) -> u64 {
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    *seed
}

/// The `i`-th registered secret: a made-up job token.
fn secret(i: usize) -> String {
    format!(
        "glcbt-64_{:016x}{i:06}",
        (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
    )
}

/// Stream `s`'s log before the change: lines that name a few of the secrets, cut into
/// writes of 1 to 23 bytes so that secrets are split across writes.
fn first_half(s: usize) -> (Vec<Vec<u8>>, String) {
    let mut seed = 0x5eed ^ (s as u64 + 1).wrapping_mul(0x2545_F491_4F6C_DD1D);
    let mut text = String::new();
    let mut want = String::new();
    for line in 0..20 {
        let k = next(&mut seed) as usize % SECRETS;
        text.push_str(&format!("stream {s} line {line}: token={} ok\n", secret(k)));
        want.push_str(&format!("stream {s} line {line}: token=[MASKED] ok\n"));
    }
    let bytes = text.into_bytes();
    let mut writes = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let n = (1 + next(&mut seed) as usize % 23).min(bytes.len() - at);
        writes.push(bytes[at..at + n].to_vec());
        at += n;
    }
    (writes, want)
}

#[test]
fn a_thousand_streams_follow_one_registry_of_ten_thousand_secrets() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .expect("runtime");
    let mut base = Secrets::builder();
    for i in 0..SECRETS {
        base.add_named(format!("secret {i}"), secret(i));
    }
    let registry = Arc::new(Registry::new(base).expect("registry"));
    let late = "glcbt-64_added-while-streams-run-0001";
    runtime.block_on(async {
        // Every stream writes its first half, then waits until the change is made.
        let (halfway_tx, mut halfway_rx) = tokio::sync::mpsc::channel::<()>(STREAMS);
        let (changed_tx, changed) = tokio::sync::watch::channel(false);
        let mut tasks = Vec::new();
        for s in 0..STREAMS {
            let (pipe_in, mut pipe_out) = tokio::io::duplex(512);
            let reader = tokio::spawn(async move {
                let mut got = Vec::new();
                pipe_out.read_to_end(&mut got).await.expect("read");
                got
            });
            let (writes, mut want) = first_half(s);
            let masker = registry.masker();
            let (halfway_tx, mut changed) = (halfway_tx.clone(), changed.clone());
            let writer = tokio::spawn(async move {
                let mut log = MaskingAsyncWriter::with_masker(pipe_in, masker);
                for w in &writes {
                    log.write_all(w).await.expect("write");
                    tokio::task::yield_now().await;
                }
                halfway_tx.send(()).await.expect("halfway");
                changed.wait_for(|&c| c).await.expect("the change");
                // The secret registered meanwhile, split over two writes.
                let (a, b) = late.split_at(7 + s % 20);
                log.write_all(format!("stream {s}: late {a}").as_bytes())
                    .await
                    .expect("write");
                log.write_all(format!("{b} end\n").as_bytes())
                    .await
                    .expect("write");
                want.push_str(&format!("stream {s}: late [MASKED] end\n"));
                log.shutdown().await.expect("shutdown");
                want
            });
            tasks.push((writer, reader));
        }
        for _ in 0..STREAMS {
            halfway_rx
                .recv()
                .await
                .expect("every stream reaches halfway");
        }
        registry.add("late job", [late]).expect("add");
        changed_tx.send(true).expect("streams wait");
        for (s, (writer, reader)) in tasks.into_iter().enumerate() {
            let want = writer.await.expect("writer task");
            let got = reader.await.expect("reader task");
            assert_eq!(String::from_utf8(got).expect("utf-8"), want, "stream {s}");
        }
    });
}
