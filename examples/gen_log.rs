//! Writes a generated CI log and a secrets file, for the pipe benchmark (`benches/pipe.sh`).
//!
//! `cargo run --release --example gen_log -- LOG_PATH SECRETS_PATH SIZE_MIB N_SECRETS [EVERY]`
//! writes about SIZE_MIB MiB of log with one of the N_SECRETS secrets every EVERY bytes on
//! average (default 1 MiB), and the secrets, one per line. EVERY `dense` writes ~100-byte
//! lines, each with a secret.

#[path = "../benches/support/corpus.rs"]
mod corpus;

use std::io::Write;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [log_path, secrets_path, size, n, rest @ ..] = args.as_slice() else {
        return Err("usage: gen_log LOG_PATH SECRETS_PATH SIZE_MIB N_SECRETS [EVERY]".into());
    };
    let size: usize = size.parse::<usize>()? << 20;
    let dense = rest.first().is_some_and(|s| s == "dense");
    let every: usize = match rest.first() {
        Some(s) if !dense => s.parse()?,
        _ => 1 << 20,
    };
    let secrets = corpus::secrets(n.parse()?, 1);
    let mut file = std::io::BufWriter::new(std::fs::File::create(secrets_path)?);
    for s in &secrets {
        file.write_all(s)?;
        file.write_all(b"\n")?;
    }
    file.flush()?;
    // Generate 64 MiB blocks with different seeds, so a large log is not one repetition.
    let mut log = std::io::BufWriter::new(std::fs::File::create(log_path)?);
    let block = 64 << 20;
    let mut written = 0;
    let mut seed = 7;
    while written < size {
        let n = block.min(size - written);
        if dense {
            log.write_all(&corpus::dense_log(n, &secrets, seed))?;
        } else {
            log.write_all(&corpus::log(n, &secrets, every, seed))?;
        }
        written += n;
        seed += 1;
    }
    log.flush()?;
    Ok(())
}
