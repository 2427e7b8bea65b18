//! The `logmask` binary in filter mode (CONTRACT §5), through real pipes.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_logmask");

/// A temporary secrets file, removed on drop.
struct TempFile(std::path::PathBuf);

impl TempFile {
    fn new(name: &str, contents: &[u8]) -> TempFile {
        let path = std::env::temp_dir().join(format!("logmask-{}-{name}", std::process::id()));
        std::fs::write(&path, contents).unwrap();
        TempFile(path)
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn spawn(args: &[&str], env: &[(&str, &str)]) -> Child {
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.spawn().unwrap()
}

fn run(args: &[&str], env: &[(&str, &str)], input: &[u8]) -> Output {
    let mut child = spawn(args, env);
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    let writer = thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    out
}

#[test]
fn masks_secrets_from_env_and_files() {
    let file = TempFile::new("both", b"file-secret-one\r\n\nfile secret two\n");
    let out = run(
        &["-e", "JOB_TOKEN", "-f", file.0.to_str().unwrap()],
        &[("JOB_TOKEN", "glcbt-job-token-value")],
        b"a glcbt-job-token-value b file-secret-one c file secret two d\n",
    );
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(out.stdout, b"a [MASKED] b [MASKED] c [MASKED] d\n");
    assert!(out.stderr.is_empty());
}

#[test]
fn replacement_and_min_length_options() {
    let out = run(
        &["-e", "T", "-r", "***", "--min-length", "4"],
        &[("T", "abcd")],
        b"xabcdx",
    );
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(out.stdout, b"x***x");
}

/// Reads lines from the child's stdout on a thread, so a test can wait with a time limit.
fn lines_of(child: &mut Child) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    thread::spawn(move || loop {
        let mut line = String::new();
        match stdout.read_line(&mut line) {
            Ok(0) | Err(_) => break,
            Ok(_) => {
                if tx.send(line).is_err() {
                    break;
                }
            }
        }
    });
    rx
}

/// Generous: only a filter that waits for end of input or a full buffer would miss it.
const PATIENCE: Duration = Duration::from_secs(20);

#[test]
fn a_line_arrives_before_stdin_closes() {
    let mut child = spawn(&["-e", "T"], &[("T", "the-secret-token")]);
    let mut stdin = child.stdin.take().unwrap();
    let lines = lines_of(&mut child);
    stdin.write_all(b"step 1: the-secret-token ok\n").unwrap();
    stdin.flush().unwrap();
    assert_eq!(
        lines.recv_timeout(PATIENCE).unwrap(),
        "step 1: [MASKED] ok\n"
    );
    stdin.write_all(b"step 2\n").unwrap();
    assert_eq!(lines.recv_timeout(PATIENCE).unwrap(), "step 2\n");
    drop(stdin);
    assert_eq!(child.wait().unwrap().code(), Some(0));
}

#[test]
fn a_secret_split_across_writes_is_masked() {
    let mut child = spawn(&["-e", "T"], &[("T", "the-secret-token")]);
    let mut stdin = child.stdin.take().unwrap();
    let lines = lines_of(&mut child);
    stdin.write_all(b"token: the-sec").unwrap();
    stdin.flush().unwrap();
    // Let the filter read and process the first half on its own.
    thread::sleep(Duration::from_millis(200));
    stdin.write_all(b"ret-token\n").unwrap();
    drop(stdin);
    assert_eq!(lines.recv_timeout(PATIENCE).unwrap(), "token: [MASKED]\n");
    assert_eq!(child.wait().unwrap().code(), Some(0));
}

/// A logmask whose output's reader went away ends with 0, saying nothing.
fn ended_quietly(out: &Output) {
    assert_eq!(out.status.code(), Some(0));
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn closed_stdout_ends_quietly() {
    let mut child = spawn(&["-e", "T"], &[("T", "the-secret-token")]);
    drop(child.stdout.take());
    let mut stdin = child.stdin.take().unwrap();
    let line = b"a line that nobody reads\n".repeat(1000);
    // Keep writing until logmask has gone away.
    for _ in 0..10_000 {
        if stdin.write_all(&line).is_err() {
            break;
        }
    }
    drop(stdin);
    ended_quietly(&child.wait_with_output().unwrap());
}

/// Waits up to [`PATIENCE`] for `child` to end: whether it did, and its output once it has.
fn wait_patiently(child: Child) -> (bool, thread::JoinHandle<Output>) {
    let (done, ended) = mpsc::channel();
    let waiter = thread::spawn(move || {
        let out = child.wait_with_output().unwrap();
        let _ = done.send(());
        out
    });
    (ended.recv_timeout(PATIENCE).is_ok(), waiter)
}

/// A reader that went away ends logmask even while its input stays open and silent.
#[test]
fn closed_stdout_ends_while_stdin_stays_open() {
    let mut child = spawn(&["-e", "T"], &[("T", "the-secret-token")]);
    drop(child.stdout.take());
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(b"a line that nobody reads\n").unwrap();
    let (gone, waiter) = wait_patiently(child);
    drop(stdin);
    let out = waiter.join().unwrap();
    assert!(gone, "logmask waited for its input's end");
    assert_eq!(out.status.code(), Some(0));
}

/// A file is read ahead on a thread of its own: a reader that went away ends logmask (the
/// reading thread stops too), quietly, long before the file's end.
#[test]
fn closed_stdout_ends_a_file_read_ahead() {
    let big = TempFile::new("read-ahead", &b"a line that nobody reads\n".repeat(1 << 18));
    let mut child = spawn(
        &["-e", "T", big.0.to_str().unwrap()],
        &[("T", "the-secret-token")],
    );
    drop(child.stdout.take());
    let (gone, waiter) = wait_patiently(child);
    assert!(gone, "logmask did not end");
    ended_quietly(&waiter.join().unwrap());
}

/// A file that fails while being read is reported by its path, with exit 1, and the next
/// file is still masked.
#[test]
fn read_error_is_reported_and_the_next_file_masked() {
    // Reading a process's memory at offset 0 (never mapped) fails with EIO.
    if std::fs::File::open("/proc/self/mem").is_err() {
        return;
    }
    let next = TempFile::new("after-unreadable", b"then the-secret-token\n");
    let out = run(
        &["-e", "T", "/proc/self/mem", next.0.to_str().unwrap()],
        &[("T", "the-secret-token")],
        b"",
    );
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(
        stderr,
        "logmask: reading /proc/self/mem: Input/output error (os error 5)\n"
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(String::from_utf8(out.stdout).unwrap(), "then [MASKED]\n");
}

#[test]
fn write_error_exits_1() {
    let Ok(full) = std::fs::OpenOptions::new().write(true).open("/dev/full") else {
        return; // no /dev/full on this system
    };
    let mut child = Command::new(BIN)
        .args(["-e", "T"])
        .env("T", "the-secret-token")
        .stdin(Stdio::piped())
        .stdout(full)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let _ = child.stdin.take().unwrap().write_all(b"some output\n");
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.starts_with("logmask: writing standard output"),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1);
}

/// Runs a configuration that must be refused: exit 2, one line on stderr, no secret in it.
fn refused(args: &[&str], env: &[(&str, &str)], mentions: &str) {
    let out = run(args, env, b"");
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.starts_with("logmask: "), "{stderr}");
    assert!(stderr.contains(mentions), "{stderr}");
    for (_, value) in env.iter().filter(|(_, v)| !v.is_empty()) {
        assert!(!stderr.contains(value), "a secret value leaked: {stderr}");
    }
    assert!(out.stdout.is_empty());
}

#[test]
fn bad_usage_exits_2() {
    refused(&["--no-such-option"], &[], "--no-such-option");
    refused(&[], &[], "no secrets");
    refused(&["--min-length", "many"], &[], "many");
    refused(
        &["-e", "LOGMASK_TEST_UNSET_VARIABLE"],
        &[],
        "LOGMASK_TEST_UNSET_VARIABLE",
    );
    refused(
        &["-f", "/nonexistent/secrets.txt"],
        &[],
        "/nonexistent/secrets.txt",
    );
}

#[test]
fn bad_secrets_exit_2_without_showing_them() {
    refused(&["-e", "SHORT"], &[("SHORT", "pw12345")], "env SHORT");
    refused(&["-e", "EMPTY"], &[("EMPTY", "")], "env EMPTY");
    refused(
        &["-e", "T", "-r", "<<hidden-token>>"],
        &[("T", "hidden-token")],
        "replacement",
    );
    let file = TempFile::new("short", b"long-enough-secret\nshort12\n");
    let out = run(&["-f", file.0.to_str().unwrap()], &[], b"");
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr.contains("line 2") && !stderr.contains("short12"),
        "{stderr}"
    );
}

#[test]
fn bounded_memory_on_a_huge_line() {
    // CONTRACT §3: a log with no newline streams in constant memory. 1 GiB in release builds
    // (CI), less in debug builds; memory is read from the kernel, time is not measured.
    let total: usize = if cfg!(debug_assertions) {
        64 << 20
    } else {
        1 << 30
    };
    let secret = "0123456789abcdefghij0123456789abcdefghij";
    let mut child = spawn(&["-e", "T"], &[("T", secret)]);
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let counter = thread::spawn(move || {
        let mut buf = vec![0; 1 << 16];
        let (mut n, mut masks, mut last) = (0usize, 0usize, Vec::new());
        loop {
            let k = stdout.read(&mut buf).unwrap();
            if k == 0 {
                break (n, masks);
            }
            n += k;
            last.extend_from_slice(&buf[..k]);
            masks += last.windows(8).filter(|w| w == b"[MASKED]").count();
            let keep = last.len().min(7);
            last.drain(..last.len() - keep);
        }
    });
    // Chunks that end in the middle of a secret prefix, and a whole secret now and then.
    let mut chunk = b"0123456789abcdefghij0123456789".repeat(2184); // 65,520 bytes
    chunk.extend_from_slice(&secret.as_bytes()[..16]);
    let mut written = 0;
    let mut secrets_written = 0;
    let pid = child.id();
    let mut peak_kib = 0;
    while written < total {
        stdin.write_all(&chunk).unwrap();
        written += chunk.len();
        if written % (64 << 20) < chunk.len() {
            stdin.write_all(secret.as_bytes()).unwrap();
            written += secret.len();
            secrets_written += 1;
            peak_kib = peak_kib.max(vm_hwm_kib(pid));
        }
    }
    peak_kib = peak_kib.max(vm_hwm_kib(pid));
    drop(stdin);
    let (n, masks) = counter.join().unwrap();
    assert_eq!(child.wait().unwrap().code(), Some(0));
    assert!(masks >= secrets_written && secrets_written > 0);
    assert!(n < written, "masking shortens the output");
    // The process's peak resident size (code, stack, the 256 KiB buffer) stays small.
    assert!(
        peak_kib < 16 * 1024,
        "peak RSS {peak_kib} KiB for {written} bytes"
    );
    eprintln!("logmask peak RSS: {peak_kib} KiB for {written} bytes without a newline");
}

/// The peak resident set size of process `pid`, in KiB (0 where /proc is not available).
fn vm_hwm_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}
