//! The binary with real processes: wrapper mode (CONTRACT §5) and reloading on SIGHUP.
//!
//! Each `logmask` runs in a process group of its own, killed whole by a watchdog if a test
//! hangs, so a failing test ends instead of waiting forever.

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, ChildStderr, ChildStdin, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::thread;
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, killpg, Signal};
use nix::unistd::Pid;

/// The secret every test masks, given to `logmask` as `-e LM_TOKEN`.
pub(crate) const TOKEN: &str = "glcbt-64_abcdef1234";

/// How long a test's `logmask` may run before the watchdog kills it.
pub(crate) const LIMIT: Duration = Duration::from_secs(20);

/// Kills the process group of `pid` unless dropped within `LIMIT`.
pub(crate) struct Watchdog(Option<Sender<()>>);

impl Watchdog {
    pub(crate) fn new(pid: u32) -> Self {
        let (send, recv) = mpsc::channel::<()>();
        thread::spawn(move || {
            if let Err(RecvTimeoutError::Timeout) = recv.recv_timeout(LIMIT) {
                let _ = killpg(Pid::from_raw(pid as i32), Signal::SIGKILL);
            }
        });
        Watchdog(Some(send))
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        drop(self.0.take());
    }
}

/// A running `logmask` with piped standard streams.
pub(crate) struct Running {
    pub(crate) child: Child,
    pub(crate) stdin: Option<ChildStdin>,
    pub(crate) out: BufReader<ChildStdout>,
    pub(crate) err: BufReader<ChildStderr>,
    pub(crate) _watchdog: Watchdog,
}

pub(crate) fn logmask(args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_logmask"));
    cmd.args(args).env("LM_TOKEN", TOKEN).process_group(0);
    cmd
}

/// `logmask -e LM_TOKEN -- sh -c SCRIPT`.
pub(crate) fn wrap(script: &str) -> Command {
    logmask(&["-e", "LM_TOKEN", "--", "sh", "-c", script])
}

impl Running {
    pub(crate) fn start(mut cmd: Command) -> Running {
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("logmask starts");
        let watchdog = Watchdog::new(child.id());
        Running {
            stdin: child.stdin.take(),
            out: BufReader::new(child.stdout.take().unwrap()),
            err: BufReader::new(child.stderr.take().unwrap()),
            child,
            _watchdog: watchdog,
        }
    }

    pub(crate) fn line(&mut self) -> String {
        read_line(&mut self.out)
    }

    pub(crate) fn err_line(&mut self) -> String {
        read_line(&mut self.err)
    }

    pub(crate) fn send(&mut self, text: &str) {
        let stdin = self.stdin.as_mut().expect("stdin open");
        stdin.write_all(text.as_bytes()).unwrap();
        stdin.flush().unwrap();
    }

    pub(crate) fn signal(&self, signal: Signal) {
        kill(Pid::from_raw(self.child.id() as i32), signal).unwrap();
    }

    /// Closes stdin, reads both streams to the end, and waits.
    pub(crate) fn finish(mut self) -> (ExitStatus, String, String) {
        drop(self.stdin.take());
        let mut err = String::new();
        let mut reader = self.err;
        let errs = thread::spawn(move || {
            reader.read_to_string(&mut err).unwrap();
            err
        });
        let mut out = String::new();
        self.out.read_to_string(&mut out).unwrap();
        let err = errs.join().unwrap();
        let status = self.child.wait().unwrap();
        (status, out, err)
    }
}

pub(crate) fn read_line(reader: &mut impl BufRead) -> String {
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    line
}

/// Runs to the end with an empty standard input.
pub(crate) fn run(cmd: Command) -> (ExitStatus, String, String) {
    let (status, out, err) = Running::start(cmd).finish();
    assert!(
        !out.contains(TOKEN) && !err.contains(TOKEN),
        "the secret shows: {out:?} {err:?}"
    );
    (status, out, err)
}

/// A file in the temporary directory, removed on drop.
pub(crate) struct TempFile(pub(crate) PathBuf);

impl TempFile {
    pub(crate) fn new(name: &str, contents: &str) -> Self {
        let path = std::env::temp_dir().join(format!("logmask-{}-{name}", std::process::id()));
        std::fs::write(&path, contents).unwrap();
        TempFile(path)
    }

    pub(crate) fn write(&self, contents: &str) {
        // Write a new file and rename it over the old one, so that a reload never sees a
        // half-written file.
        let tmp = self.0.with_extension("new");
        std::fs::write(&tmp, contents).unwrap();
        std::fs::rename(&tmp, &self.0).unwrap();
    }

    pub(crate) fn path(&self) -> &str {
        self.0.to_str().unwrap()
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[test]
fn exits_with_the_commands_status() {
    for code in [0, 3, 255] {
        let (status, _, err) = run(wrap(&format!("exit {code}")));
        assert_eq!(status.code(), Some(code), "{err}");
        assert_eq!(err, "");
    }
}

#[test]
fn a_command_killed_by_a_signal_gives_128_plus_its_number() {
    for (signal, code) in [("KILL", 137), ("TERM", 143), ("SEGV", 139)] {
        let (status, _, _) = run(wrap(&format!("kill -{signal} $$")));
        assert_eq!(status.code(), Some(code), "{signal}");
    }
}

#[test]
fn a_command_not_found_exits_127() {
    let (status, out, err) = run(logmask(&["-e", "LM_TOKEN", "--", "no-such-command-xyz"]));
    assert_eq!(status.code(), Some(127));
    assert_eq!(out, "");
    assert!(
        err.starts_with("logmask: cannot run no-such-command-xyz: ") && err.lines().count() == 1,
        "{err}"
    );
}

#[test]
fn a_command_that_cannot_be_executed_exits_126() {
    let file = TempFile::new("not-executable.sh", "#!/bin/sh\necho hi\n");
    let (status, out, err) = run(logmask(&["-e", "LM_TOKEN", "--", file.path()]));
    assert_eq!(status.code(), Some(126), "{err}");
    assert_eq!(out, "");
    assert!(err.starts_with("logmask: cannot run "), "{err}");
}

#[test]
fn both_streams_are_masked_onto_ours() {
    let (status, out, err) = run(wrap(
        r#"echo "out $LM_TOKEN."; echo "err $LM_TOKEN." >&2; echo "out end""#,
    ));
    assert!(status.success());
    assert_eq!(out, "out [MASKED].\nout end\n");
    assert_eq!(err, "err [MASKED].\n");
}

#[test]
fn a_secret_split_across_the_commands_writes_is_masked() {
    let (head, tail) = TOKEN.split_at(11);
    let script = format!(
        "printf 'a {head}'; printf 'b {head}' >&2; sleep 0.3; printf '{tail} a\\n'; printf '{tail} b\\n' >&2"
    );
    let (status, out, err) = run(wrap(&script));
    assert!(status.success());
    assert_eq!(out, "a [MASKED] a\n");
    assert_eq!(err, "b [MASKED] b\n");
}

#[test]
fn each_stream_keeps_its_order() {
    let (status, out, err) = run(wrap(
        r#"i=0; while [ $i -lt 300 ]; do echo "o$i $LM_TOKEN"; echo "e$i $LM_TOKEN" >&2; i=$((i+1)); done"#,
    ));
    assert!(status.success());
    for (text, tag) in [(out, 'o'), (err, 'e')] {
        let want: String = (0..300).map(|i| format!("{tag}{i} [MASKED]\n")).collect();
        assert_eq!(text, want);
    }
}

#[test]
fn output_arrives_while_the_command_runs_and_stdin_passes_through() {
    let mut lm = Running::start(wrap(
        r#"echo "out $LM_TOKEN"; echo "err $LM_TOKEN" >&2; read x; echo "got $x""#,
    ));
    // The command is blocked reading its standard input: both lines came before it exits.
    assert_eq!(lm.line(), "out [MASKED]\n");
    assert_eq!(lm.err_line(), "err [MASKED]\n");
    lm.send(&format!("hello {TOKEN}\n"));
    assert_eq!(lm.line(), "got hello [MASKED]\n");
    let (status, out, err) = lm.finish();
    assert!(status.success());
    assert_eq!((out.as_str(), err.as_str()), ("", ""));
}

#[test]
fn sigterm_and_sigint_are_forwarded_to_the_command() {
    for (signal, name) in [(Signal::SIGTERM, "TERM"), (Signal::SIGINT, "INT")] {
        let mut lm = Running::start(wrap(&format!(
            r#"trap 'echo "caught {name} $LM_TOKEN"; exit 5' {name}; echo ready; while :; do sleep 0.02; done"#
        )));
        assert_eq!(lm.line(), "ready\n");
        lm.signal(signal);
        assert_eq!(lm.line(), format!("caught {name} [MASKED]\n"));
        let (status, _, err) = lm.finish();
        assert_eq!(status.code(), Some(5), "{name}: {err}");
    }
}

#[test]
fn a_forwarded_sigterm_that_kills_the_command_gives_143() {
    let mut lm = Running::start(wrap("echo ready; exec sleep 60"));
    assert_eq!(lm.line(), "ready\n");
    lm.signal(Signal::SIGTERM);
    let (status, _, err) = lm.finish();
    assert_eq!(status.code(), Some(143), "{err}");
}

#[test]
fn a_closed_stdout_ends_the_command_through_its_broken_pipe() {
    let mut lm = Running::start(wrap(r#"while :; do echo "y $LM_TOKEN"; done"#));
    assert_eq!(lm.line(), "y [MASKED]\n");
    let Running {
        child,
        stdin,
        out,
        mut err,
        _watchdog,
    } = lm;
    drop((stdin, out));
    let mut child = child;
    let status = child.wait().unwrap();
    // The command died of SIGPIPE, as it would writing to `| head` itself; we said nothing.
    assert_eq!(status.code(), Some(128 + 13));
    let mut rest = String::new();
    err.read_to_string(&mut rest).unwrap();
    assert_eq!(rest, "");
}

/// Reads lines until one comes back with the probe masked (the reload is in effect).
pub(crate) fn until_masked(lm: &mut Running, probe: &str) {
    let start = Instant::now();
    loop {
        lm.send(&format!("probe {probe}\n"));
        if lm.line() == "probe [MASKED]\n" {
            return;
        }
        assert!(start.elapsed() < LIMIT, "the reload never took effect");
        thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn sighup_reloads_the_secrets_files() {
    let file = TempFile::new("hup-filter.txt", "old-secret-1\n");
    let mut lm = Running::start(logmask(&["-f", file.path()]));
    lm.send("1 old-secret-1 new-secret-2\n");
    assert_eq!(lm.line(), "1 [MASKED] new-secret-2\n");

    file.write("new-secret-2\n");
    lm.signal(Signal::SIGHUP);
    until_masked(&mut lm, "new-secret-2");
    assert_eq!(lm.err_line(), "logmask: reloaded the secrets: 1 secret\n");
    lm.send("2 old-secret-1 new-secret-2\n");
    assert_eq!(lm.line(), "2 old-secret-1 [MASKED]\n");

    // A failed reload keeps the set and says so, without the value.
    file.write("tiny\n");
    lm.signal(Signal::SIGHUP);
    let complaint = lm.err_line();
    assert!(
        complaint.starts_with("logmask: reload failed, keeping the previous secrets: ")
            && complaint.contains("line 1")
            && !complaint.contains("tiny"),
        "{complaint}"
    );
    lm.send("3 old-secret-1 new-secret-2\n");
    assert_eq!(lm.line(), "3 old-secret-1 [MASKED]\n");

    let (status, out, err) = lm.finish();
    assert!(status.success(), "{err}");
    assert_eq!((out.as_str(), err.as_str()), ("", ""));
}

#[test]
fn sighup_reloads_the_set_of_both_streams_of_a_command() {
    let file = TempFile::new("hup-wrap.txt", "old-secret-1\n");
    let mut lm = Running::start(logmask(&[
        "--quiet",
        "-f",
        file.path(),
        "--",
        "sh",
        "-c",
        r#"while read l; do echo "o $l"; echo "e $l" >&2; done"#,
    ]));
    lm.send("old-secret-1 new-secret-2\n");
    assert_eq!(lm.line(), "o [MASKED] new-secret-2\n");
    assert_eq!(lm.err_line(), "e [MASKED] new-secret-2\n");

    file.write("new-secret-2\n");
    lm.signal(Signal::SIGHUP);
    let start = Instant::now();
    loop {
        lm.send("new-secret-2\n");
        let (out, err) = (lm.line(), lm.err_line());
        if out == "o [MASKED]\n" {
            break;
        }
        assert!(err.starts_with("e "), "{err}");
        assert!(start.elapsed() < LIMIT, "the reload never took effect");
        thread::sleep(Duration::from_millis(20));
    }
    // The stderr copy of the probe may have been read before the reload; the next is after.
    lm.send("old-secret-1 new-secret-2\n");
    assert_eq!(lm.line(), "o old-secret-1 [MASKED]\n");
    assert_eq!(lm.err_line(), "e old-secret-1 [MASKED]\n");
    let (status, _, err) = lm.finish();
    assert!(status.success(), "{err}");
    assert_eq!(err, "", "--quiet: no line for a successful reload");
}
