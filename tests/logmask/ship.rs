//! The binary's day-one features through real processes: FILE arguments, `--stats` and
//! `--fail-on-shape`, `scrub`, `--pty`, `--help`, `man` and `completions`.

use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_logmask");
/// A registered secret, given as `-e T`.
const SECRET: &str = "glcbt-64_registered-value";
/// A token of a well-known shape that is never registered.
const LIVE: &str = "glpat-0123456789ABCDEFGHIJ";

fn logmask(args: &[&str]) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.args(args).env("T", SECRET);
    cmd
}

fn run(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = logmask(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    let stdin = stdin.to_vec();
    let writer = thread::spawn(move || {
        let _ = input.write_all(&stdin);
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    out
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// No secret, registered or not, in `stderr`.
fn no_value(stderr: &str) {
    assert!(
        !stderr.contains(SECRET) && !stderr.contains(LIVE),
        "{stderr}"
    );
    assert!(!stderr.contains("registered-value"), "{stderr}");
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn files_and_dash_are_masked_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.log");
    let b = dir.path().join("b.log");
    fs::write(&a, format!("first {SECRET}\n")).unwrap();
    fs::write(&b, format!("third {SECRET}")).unwrap();
    let out = run(
        &["-e", "T", path(&a), "-", path(&b)],
        format!("second {SECRET}\n").as_bytes(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "first [MASKED]\nsecond [MASKED]\nthird [MASKED]"
    );
    assert!(out.stderr.is_empty());
}

#[test]
fn a_missing_file_is_named_and_the_others_are_still_masked() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.log");
    fs::write(&a, format!("a {SECRET}\n")).unwrap();
    let missing = dir.path().join("missing.log");
    let out = run(
        &["-e", "T", path(&missing), path(dir.path()), path(&a)],
        b"",
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert_eq!(text(&out.stdout), "a [MASKED]\n");
    assert!(stderr.contains(&format!("cannot open {}", missing.display())));
    assert!(stderr.contains("Is a directory"), "{stderr}");
    assert_eq!(stderr.lines().count(), 2, "{stderr}");
    no_value(&stderr);
}

#[test]
fn files_and_a_command_together_are_bad_usage() {
    let out = run(&["-e", "T", "a.log", "--", "true"], b"");
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn stats_count_ranges_by_origin_without_values() {
    let dir = tempfile::tempdir().unwrap();
    let secrets = dir.path().join("secrets.txt");
    fs::write(&secrets, "first-file-secret\nsecond-file-secret\n").unwrap();
    let input = format!(
        "{SECRET} {SECRET} second-file-secret {LIVE}\n::add-mask::registered-in-band\n\
         registered-in-band\n"
    );
    let out = run(
        &["-e", "T", "-f", path(&secrets), "--stats"],
        input.as_bytes(),
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let stdout = text(&out.stdout);
    assert_eq!(stdout, "[MASKED] [MASKED] [MASKED] [MASKED]\n[MASKED]\n");
    let head = format!(
        "logmask: stats: {} bytes in, {} bytes out, 5 masked ranges ({} line 2: 1, env T: 2, ",
        input.len(),
        stdout.len(),
        secrets.display()
    );
    assert!(stderr.starts_with(&head), "{stderr}");
    // The in-band secret is named by the registry (`… stdin line 2 …`).
    assert!(stderr.ends_with(": 1, shape glpat: 1)\n"), "{stderr}");
    assert!(stderr.contains("stdin line 2"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    no_value(&stderr);
}

#[test]
fn fail_on_shape_exits_3_only_for_an_unregistered_token() {
    let out = run(
        &["-e", "T", "--fail-on-shape"],
        format!("{SECRET}\n").as_bytes(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(out.stderr.is_empty());
    let out = run(
        &["-e", "T", "--fail-on-shape"],
        format!("{LIVE}\n").as_bytes(),
    );
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(text(&out.stdout), "[MASKED]\n");
    let stderr = text(&out.stderr);
    assert!(stderr.contains("--fail-on-shape"), "{stderr}");
    no_value(&stderr);
    // Wrapping a command: its own failure comes first.
    let script = format!("echo {LIVE}; exit 5");
    let out = run(
        &["-e", "T", "--fail-on-shape", "--", "sh", "-c", &script],
        b"",
    );
    assert_eq!(out.status.code(), Some(5));
    let script = format!("echo {LIVE} >&2");
    let out = run(
        &["-e", "T", "--fail-on-shape", "--", "sh", "-c", &script],
        b"",
    );
    assert_eq!(out.status.code(), Some(3));
    assert!(text(&out.stderr).starts_with("[MASKED]\n"));
}

/// The state of a file that must not change: inode, mtime and contents.
fn snapshot(p: &Path) -> (u64, i64, i64, Vec<u8>) {
    let meta = fs::metadata(p).unwrap();
    (
        meta.ino(),
        meta.mtime(),
        meta.mtime_nsec(),
        fs::read(p).unwrap(),
    )
}

#[test]
fn scrub_masks_a_tree_in_place() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("artifacts");
    fs::create_dir_all(root.join("sub")).unwrap();
    let log = root.join("job.log");
    fs::write(&log, format!("token {SECRET} and {LIVE}\n")).unwrap();
    fs::set_permissions(&log, fs::Permissions::from_mode(0o640)).unwrap();
    let binary = root.join("sub/core.bin");
    let mut bytes = vec![0u8, 0xff, 0x01];
    bytes.extend_from_slice(SECRET.as_bytes());
    bytes.extend_from_slice(&[0x00, 0xfe]);
    fs::write(&binary, &bytes).unwrap();
    let clean = root.join("sub/clean.txt");
    fs::write(&clean, "nothing to see\n").unwrap();
    // A link out of the tree is not followed: its target keeps its text.
    let outside = dir.path().join("outside.log");
    fs::write(&outside, SECRET).unwrap();
    std::os::unix::fs::symlink(&outside, root.join("link.log")).unwrap();
    let uid = fs::metadata(&log).unwrap().uid();
    if uid == 0 {
        // As root, ownership by someone else is kept too.
        std::os::unix::fs::chown(&log, Some(1234), Some(2345)).unwrap();
    }
    let before_clean = snapshot(&clean);
    let before_outside = snapshot(&outside);

    let dry = logmask(&["scrub", "-e", "T", "--dry-run", path(&root)])
        .output()
        .unwrap();
    assert_eq!(dry.status.code(), Some(0), "{}", text(&dry.stderr));
    assert!(text(&dry.stderr).contains("3 files scanned, 2 would change, 3 masked ranges"));
    assert_eq!(
        fs::read(&log).unwrap(),
        format!("token {SECRET} and {LIVE}\n").as_bytes()
    );

    let out = logmask(&["scrub", "-e", "T", path(&root)])
        .output()
        .unwrap();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(out.stdout.is_empty());
    no_value(&stderr);
    assert!(
        stderr.ends_with(
            "3 files scanned, 2 changed, 3 masked ranges, 1 skipped (symbolic links and \
             special files)\n"
        ),
        "{stderr}"
    );
    assert!(stderr.contains("job.log: masked 2 ranges"), "{stderr}");
    assert_eq!(
        fs::read_to_string(&log).unwrap(),
        "token [MASKED] and [MASKED]\n"
    );
    let meta = fs::metadata(&log).unwrap();
    assert_eq!(meta.mode() & 0o7777, 0o640);
    if uid == 0 {
        assert_eq!((meta.uid(), meta.gid()), (1234, 2345));
    }
    let mut want = vec![0u8, 0xff, 0x01];
    want.extend_from_slice(b"[MASKED]");
    want.extend_from_slice(&[0x00, 0xfe]);
    assert_eq!(fs::read(&binary).unwrap(), want);
    assert_eq!(snapshot(&clean), before_clean);
    assert_eq!(snapshot(&outside), before_outside);
    assert!(fs::symlink_metadata(root.join("link.log"))
        .unwrap()
        .file_type()
        .is_symlink());
    // No temporary file left beside the files.
    let mut names: Vec<_> = fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    names.sort();
    assert_eq!(names, ["job.log", "link.log", "sub"]);

    // Scrubbed again: nothing changes, the files are not touched.
    let before = snapshot(&log);
    let again = logmask(&["scrub", "-e", "T", path(&root)])
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(0));
    assert!(text(&again.stderr).contains("3 files scanned, 0 changed, 0 masked ranges"));
    assert_eq!(snapshot(&log), before);
}

#[test]
fn scrub_reports_a_missing_path_and_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("a.log");
    fs::write(&log, SECRET).unwrap();
    let missing = dir.path().join("missing");
    let out = logmask(&["scrub", "-e", "T", path(&missing), path(&log)])
        .output()
        .unwrap();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains(&format!("{}: No such file", missing.display())));
    assert_eq!(fs::read_to_string(&log).unwrap(), "[MASKED]");
    let out = logmask(&["scrub", "-e", "T"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "no PATH is bad usage");
}

#[test]
fn scrub_leaves_a_hard_linked_file_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("a.log");
    fs::write(&log, SECRET).unwrap();
    fs::hard_link(&log, dir.path().join("b.log")).unwrap();
    let out = logmask(&["scrub", "-e", "T", path(&log)]).output().unwrap();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("2 hard links"), "{stderr}");
    no_value(&stderr);
}

#[test]
fn scrub_stats_and_fail_on_shape() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("a.log");
    fs::write(&log, format!("{SECRET} {LIVE}\n")).unwrap();
    let out = logmask(&["scrub", "-e", "T", "--stats", "--fail-on-shape", path(&log)])
        .output()
        .unwrap();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains("masked ranges (env T: 1, shape glpat: 1)"),
        "{stderr}"
    );
}

/// One of a thing is said in the singular: `1 masked range`, `1 file scanned`, `1 byte in`.
#[test]
fn counts_of_one_are_singular() {
    let out = run(&["-e", "T", "--stats", "--fail-on-shape"], LIVE.as_bytes());
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains(", 1 masked range (shape glpat: 1)\n"),
        "{stderr}"
    );
    assert!(stderr.contains("logmask: 1 unregistered token masked by their shape"));
    let one = run(&["-e", "T", "--stats"], b"x");
    assert_eq!(
        text(&one.stderr),
        "logmask: stats: 1 byte in, 1 byte out, 0 masked ranges\n"
    );
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("a.log");
    fs::write(&log, SECRET).unwrap();
    let out = logmask(&["scrub", "-e", "T", path(&log)]).output().unwrap();
    assert_eq!(
        text(&out.stderr),
        format!(
            "logmask scrub: {}: masked 1 range\n\
             logmask scrub: 1 file scanned, 1 changed, 1 masked range\n",
            log.display()
        )
    );
}

#[test]
fn pty_gives_the_command_a_terminal_and_keeps_its_status() {
    let script = "import os, sys\n\
        print(sys.stdout.isatty(), sys.stderr.isatty(), os.get_terminal_size())\n\
        print('err', os.environ['T'], file=sys.stderr)\n\
        sys.exit(7)";
    let out = run(&["-e", "T", "--pty", "--", "python3", "-c", script], b"");
    assert_eq!(out.status.code(), Some(7), "{}", text(&out.stderr));
    // Both streams share the terminal; no `\r` is added; 80×24 without a terminal of ours.
    assert_eq!(
        text(&out.stdout),
        "True True os.terminal_size(columns=80, lines=24)\nerr [MASKED]\n"
    );
    assert!(out.stderr.is_empty());
    // Without --pty the command sees a pipe.
    let plain = run(
        &[
            "-e",
            "T",
            "--",
            "python3",
            "-c",
            "import sys; print(sys.stdout.isatty())",
        ],
        b"",
    );
    assert_eq!(text(&plain.stdout), "False\n");
}

#[test]
fn pty_lines_arrive_one_by_one() {
    // Without -u, python buffers a pipe until it exits; on a terminal it writes each line.
    let script = "import time\nprint('one')\ntime.sleep(6)\nprint('two')";
    let mut child = logmask(&["-e", "T", "--pty", "--", "python3", "-c", script])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let (tx, rx) = mpsc::channel();
    let mut lines = BufReader::new(child.stdout.take().unwrap());
    thread::spawn(move || loop {
        let mut line = String::new();
        if lines.read_line(&mut line).unwrap_or(0) == 0 {
            break;
        }
        let _ = tx.send((line, Instant::now()));
    });
    let (first, at) = rx.recv_timeout(Duration::from_secs(20)).unwrap();
    assert_eq!(first, "one\n");
    assert!(
        at - started < Duration::from_secs(5),
        "the first line waited for the second"
    );
    let (second, _) = rx.recv_timeout(Duration::from_secs(20)).unwrap();
    assert_eq!(second, "two\n");
    assert_eq!(child.wait().unwrap().code(), Some(0));
}

/// `logmask --pty` run on a terminal of its own (the test's pseudo-terminal, its controlling
/// terminal): the command's terminal starts with that size, and when the test resizes it,
/// logmask (signalled SIGWINCH by the kernel) resizes the command's terminal, whose kernel
/// signals the command.
#[test]
fn pty_passes_a_window_resize_on_to_the_command() {
    use nix::pty::{openpty, Winsize};
    use std::os::fd::AsRawFd;
    use std::os::unix::process::CommandExt;
    let size = |ws_row, ws_col| Winsize {
        ws_row,
        ws_col,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    let ours = openpty(Some(&size(30, 100)), None).unwrap();
    // The command's terminal is its /dev/tty; its standard input is ours, passed through.
    let script = "trap 'echo resized; stty size </dev/tty' WINCH; stty size </dev/tty; \
                  i=0; while [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done";
    let mut cmd = logmask(&["-e", "T", "--pty", "--", "sh", "-c", script]);
    cmd.stdin(ours.slave.try_clone().unwrap())
        .stdout(ours.slave.try_clone().unwrap())
        .stderr(Stdio::piped());
    // SAFETY: setsid and ioctl are async-signal-safe; nothing is allocated.
    unsafe {
        cmd.pre_exec(|| {
            nix::unistd::setsid()?;
            if nix::libc::ioctl(0, nix::libc::TIOCSCTTY, 0) == -1 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = cmd.spawn().unwrap();
    drop(cmd);
    drop(ours.slave);
    let master = fs::File::from(ours.master);
    let (tx, rx) = mpsc::channel();
    let mut reader = master.try_clone().unwrap();
    thread::spawn(move || {
        let mut buf = [0; 4096];
        while let Ok(n @ 1..) = std::io::Read::read(&mut reader, &mut buf) {
            let _ = tx.send(buf[..n].to_vec());
        }
    });
    let mut seen = String::new();
    let mut wait_for = |needle: &str| {
        let deadline = Instant::now() + Duration::from_secs(20);
        while !seen.contains(needle) {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(bytes) => seen.push_str(&text(&bytes)),
                Err(_) => panic!("no {needle:?} in {seen:?}"),
            }
        }
    };
    wait_for("30 100");
    // SAFETY: TIOCSWINSZ reads one `winsize`, which outlives the call.
    let resized = size(50, 132);
    assert_eq!(
        unsafe { nix::libc::ioctl(master.as_raw_fd(), nix::libc::TIOCSWINSZ, &resized) },
        0
    );
    wait_for("resized");
    wait_for("50 132");
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).unwrap();
    let status = child.wait().unwrap();
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert_eq!(status.code(), Some(143), "forwarded SIGTERM; {stderr}");
    assert!(stderr.is_empty(), "{stderr}");
}

/// Without a terminal of ours, SIGWINCH does nothing: the command's terminal keeps 80×24, the
/// command gets no SIGWINCH, logmask goes on.
#[test]
fn pty_ignores_sigwinch_without_a_terminal() {
    let script = "trap 'echo resized' WINCH; echo ready; sleep 1; stty size </dev/tty";
    let mut child = logmask(&["-e", "T", "--pty", "--", "sh", "-c", script])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    assert_eq!(line, "ready\n");
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGWINCH).unwrap();
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut out, &mut rest).unwrap();
    assert_eq!(rest, "24 80\n");
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stderr.is_empty(), "{}", text(&out.stderr));
}

#[test]
fn pty_needs_a_command() {
    let out = run(&["-e", "T", "--pty"], b"");
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn help_says_what_it_does_the_statuses_and_examples() {
    let out = run(&["--help"], b"");
    assert_eq!(out.status.code(), Some(0));
    let help = text(&out.stdout);
    for needle in [
        "With no FILE and no COMMAND, logmask filters standard input to standard output",
        "Exit status:",
        "SIGHUP",
        "Examples:",
        "logmask scrub",
        "--fail-on-shape",
    ] {
        assert!(help.contains(needle), "{needle} not in --help");
    }
    let scrub = run(&["scrub", "--help"], b"");
    assert_eq!(scrub.status.code(), Some(0));
    assert!(text(&scrub.stdout).contains("--dry-run"));
    // Each subcommand's usage names it.
    for (sub, usage) in [
        ("scrub", "Usage: logmask scrub [OPTIONS] <PATH>...\n"),
        ("add", "Usage: logmask add [OPTIONS]\n"),
        ("man", "Usage: logmask man\n"),
        ("completions", "Usage: logmask completions <SHELL>\n"),
    ] {
        let out = run(&[sub, "--help"], b"");
        assert!(text(&out.stdout).contains(usage), "{}", text(&out.stdout));
    }
    // Wrapped for a terminal of 100 columns, also when none is there to ask.
    let long = help.lines().filter(|l| l.chars().count() > 100).count();
    assert_eq!(long, 0, "{help}");
}

#[test]
fn man_page_and_completions_are_generated() {
    let man = run(&["man"], b"");
    assert_eq!(man.status.code(), Some(0));
    let page = text(&man.stdout);
    assert!(page.contains(".TH logmask 1"), "{page}");
    assert!(page.contains("scrub") && page.contains("fail\\-on\\-shape"));
    for section in [
        ".SH EXIT STATUS\n.nf\n",
        ".SH SIGNALS\n.nf\n",
        ".SH EXAMPLES\n.nf\n",
    ] {
        assert!(page.contains(section), "{section} not in {page}");
    }
    if Command::new("man").arg("--version").output().is_ok() {
        // Installed where `man -M` looks, the page reads as `--help` does: the status
        // table's lines as they are, not filled into one paragraph.
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join("man1")).unwrap();
        fs::write(dir.path().join("man1/logmask.1"), &man.stdout).unwrap();
        let shown = Command::new("man")
            .args(["-M", path(dir.path()), "logmask"])
            .env("MANPAGER", "cat")
            .env("MANWIDTH", "100")
            .env("LC_ALL", "C")
            .output()
            .unwrap();
        // ASCII only: a C locale renders every character, without a warning.
        assert!(
            shown.status.success() && shown.stderr.is_empty(),
            "{}",
            text(&shown.stderr)
        );
        let shown = text(&shown.stdout);
        for line in [
            "3    with --fail-on-shape: an unregistered token shape was masked (and all else went well)\n",
            "SIGHUP reloads the secrets; with COMMAND, SIGINT and SIGTERM go on to it.\n",
            "logmask -e CI_JOB_TOKEN --stats --fail-on-shape -- make test\n",
        ] {
            assert!(shown.contains(line), "{line:?} not in {shown}");
        }
    }
    for (shell, needle) in [
        ("bash", "_logmask()"),
        ("zsh", "#compdef logmask"),
        ("fish", "complete -c logmask"),
    ] {
        let out = run(&["completions", shell], b"");
        assert_eq!(out.status.code(), Some(0), "{shell}");
        let script = text(&out.stdout);
        assert!(script.contains(needle), "{shell}: {needle}");
        assert!(script.contains("fail-on-shape"), "{shell}");
        assert!(script.contains("scrub"), "{shell}");
    }
    if Command::new("bash").arg("--version").output().is_ok() {
        // The bash script is valid bash.
        let out = run(&["completions", "bash"], b"");
        let check = Command::new("bash")
            .args(["-n", "-c", &text(&out.stdout)])
            .status()
            .unwrap();
        assert!(check.success());
    }
    let bad = run(&["completions", "tcsh"], b"");
    assert_eq!(bad.status.code(), Some(2));
    assert_eq!(text(&bad.stderr).lines().count(), 1);
}
