//! Secrets created by the job and masking that never fails open (CONTRACT §7), with real
//! processes: in-band registration lines and `logmask add` in both streams, fail-closed
//! reloads, signals at start-up and after the command, process faults.

use std::io::Write;

use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use super::wrapper::{logmask, run, wrap, Running, TempFile, LIMIT, TOKEN};

const BIN: &str = env!("CARGO_BIN_EXE_logmask");

/// The standard base64 of `bytes`.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().fold(0u32, |n, &b| n << 8 | u32::from(b)) << (8 * (3 - chunk.len()));
        for k in 0..=chunk.len() {
            out.push(ALPHABET[(n >> (18 - 6 * k) & 63) as usize] as char);
        }
        out.push_str(&"=".repeat(3 - chunk.len()));
    }
    out
}

/// The job's side of each test: a value that only exists once the job runs (random, written
/// to `$LM_VALUE_FILE` so that the test knows it afterwards), registered by `register`, then
/// printed at once in both streams: on the next line, split across two writes, and in base64.
fn job(register: &str) -> String {
    format!(
        r#"V=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
printf '%s' "$V" > "$LM_VALUE_FILE"
{register}
for fd in 1 2; do
  echo "next $V" >&$fd
  printf 'split %s' "${{V%????????????}}" >&$fd; sleep 0.05; printf '%s end\n' "${{V#????????????}}" >&$fd
  printf '%s' "$V" | base64 >&$fd
done
"#
    )
}

/// Runs `job(register)` and checks that the value never shows, in any form, in either
/// stream, and that no registration line does; returns stdout and stderr.
fn registered(register: &str) -> (String, String) {
    let value_file = TempFile::new(&format!("value-{}", register.len()), "");
    let mut cmd = wrap(&job(register));
    cmd.env("LM_VALUE_FILE", value_file.path())
        .env("LM_BIN", BIN);
    let (status, out, err) = run(cmd);
    assert!(status.success(), "{status:?} {err}");
    let value = std::fs::read_to_string(&value_file.0).unwrap();
    assert_eq!(value.len(), 24, "the job made its value");
    for text in [&out, &err] {
        assert!(!text.contains(&value), "the value shows: {text:?}");
        assert!(!text.contains(&base64(value.as_bytes())), "{text:?}");
        assert!(
            !text.contains(&value[..12]) && !text.contains(&value[12..]),
            "{text:?}"
        );
        let lower = text.to_lowercase();
        assert!(
            !lower.contains("add-mask") && !lower.contains("setsecret"),
            "a registration line shows: {text:?}"
        );
    }
    (out, err)
}

/// What each stream shows after the registration.
const AFTER: &str = "next [MASKED]\nsplit [MASKED] end\n[MASKED]\n";

#[test]
fn a_value_registered_in_band_on_stdout_is_masked_in_both_streams_at_once() {
    // The command line split across writes, with `\r\n`, and the value in the same write.
    let (out, err) =
        registered(r#"printf '::add-'; sleep 0.05; printf 'mask::%s\r\nsame %s\n' "$V" "$V""#);
    assert_eq!(out, format!("same [MASKED]\n{AFTER}"));
    assert_eq!(err, AFTER);
}

#[test]
fn a_value_registered_in_band_on_stderr_is_masked_in_both_streams_at_once() {
    let (out, err) = registered(r###"printf '##vso[task.setsecret]%s\nsame %s\n' "$V" "$V" >&2"###);
    assert_eq!(out, AFTER);
    assert_eq!(err, format!("same [MASKED]\n{AFTER}"));
}

#[test]
fn a_value_registered_by_logmask_add_is_masked_in_both_streams_once_it_returns() {
    let (out, err) = registered(
        r#"printf '%s\n' "$V" | "$LM_BIN" add --origin vault || exit 9; echo "same $V""#,
    );
    assert_eq!(out, format!("same [MASKED]\n{AFTER}"));
    assert_eq!(err, AFTER);
    // And from an environment variable, with its line rules: each line of a multi-line
    // value is masked on its own (here the value itself is its first line).
    let (out, err) = registered(
        r#"export NEW="$V
line-two-$V"; "$LM_BIN" add -e NEW || exit 9; echo "1 line-two-$V""#,
    );
    assert_eq!(out, format!("1 [MASKED]\n{AFTER}"));
    assert_eq!(err, AFTER);
}

#[test]
fn a_refused_registration_names_the_stream_and_line_and_is_swallowed() {
    let (status, out, err) = run(wrap(
        r###"echo one; echo '::add-mask::tiny'; echo "##vso[task.setsecret]tinier" >&2; echo two"###,
    ));
    assert!(status.success());
    assert_eq!(out, "one\ntwo\n");
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 2, "{err}");
    assert!(lines
        .iter()
        .any(|l| l.starts_with("logmask: stdout line 2: registration refused")));
    assert!(lines
        .iter()
        .any(|l| l.starts_with("logmask: stderr line 1: registration refused")));
    assert!(!err.contains("tiny") && !err.contains("tinier"), "{err}");
}

#[test]
fn in_band_registration_in_filter_mode_and_off_with_no_inband() {
    let input = "before new-secret-1\n::ADD-MASK::new-secret-1\r\nafter new-secret-1\n  ::add-mask::not-a-command\n";
    let mut lm = Running::start(logmask(&["-e", "LM_TOKEN"]));
    // Bytes written before the registration cannot be recalled.
    lm.send("before new-secret-1\n");
    assert_eq!(lm.line(), "before new-secret-1\n");
    lm.send(&input["before new-secret-1\n".len()..]);
    assert_eq!(lm.line(), "after [MASKED]\n");
    assert_eq!(
        lm.line(),
        "  ::add-mask::not-a-command\n",
        "only at the start of a line"
    );
    let (status, out, err) = lm.finish();
    assert!(status.success());
    assert_eq!((out.as_str(), err.as_str()), ("", ""));

    let mut lm = Running::start(logmask(&["--no-inband", "-e", "LM_TOKEN"]));
    lm.send(input);
    let (status, out, _) = lm.finish();
    assert!(status.success());
    assert_eq!(out, input);
}

/// The start of a line held as a possible command, released by the next read: the text
/// keeps its order, in filter mode and around a command alike.
#[test]
fn a_held_start_of_a_line_that_is_no_command_keeps_its_place() {
    let mut lm = Running::start(logmask(&["-e", "LM_TOKEN"]));
    lm.send("x\n::ad");
    assert_eq!(lm.line(), "x\n");
    lm.send("zz rest\n");
    assert_eq!(lm.line(), "::adzz rest\n");
    let (status, out, err) = lm.finish();
    assert!(status.success());
    assert_eq!((out.as_str(), err.as_str()), ("", ""));

    let (status, out, err) = run(wrap(
        "printf 'x\\n::ad'; sleep 0.3; printf 'zz rest\\n'; sleep 0.3; printf 'end\\n'",
    ));
    assert!(status.success(), "{err}");
    assert_eq!(out, "x\n::adzz rest\nend\n");
}

#[test]
fn an_overlong_registration_line_is_swallowed_and_reported() {
    let mut cmd = logmask(&["-e", "LM_TOKEN"]);
    cmd.stdin(Stdio::piped());
    let mut lm = Running::start(cmd);
    let long = "v".repeat(70 * 1024);
    lm.send(&format!("a\n::add-mask::{long}\nb\n"));
    let (status, out, err) = lm.finish();
    assert!(status.success());
    assert_eq!(out, "a\nb\n");
    assert!(
        err.starts_with("logmask: stdin line 2: registration refused")
            && err.contains("longer than"),
        "{err}"
    );
    assert!(!err.contains("vvvvvvvv"));
}

#[test]
fn logmask_add_refuses_without_showing_the_value() {
    // A value too short, an unset variable, outside logmask, a value in the arguments.
    let script = r#"printf 'tiny\n' | "$LM_BIN" add; echo "short $?"
"$LM_BIN" add -e NO_SUCH_VAR_XYZ; echo "unset $?"
"$LM_BIN" add my-argv-secret-1 </dev/null; echo "argv $?"
env -u LOGMASK_SOCKET "$LM_BIN" add </dev/null; echo "outside $?"
d=$(dirname "$LOGMASK_SOCKET"); echo "modes $(stat -c %a "$d") $(stat -c %a "$LOGMASK_SOCKET")"
echo "$d" > "$LM_VALUE_FILE""#;
    let dir_file = TempFile::new("socket-dir", "");
    let mut cmd = wrap(script);
    cmd.env("LM_BIN", BIN).env("LM_VALUE_FILE", dir_file.path());
    let (status, out, err) = run(cmd);
    assert!(status.success());
    assert_eq!(out, "short 2\nunset 2\nargv 2\noutside 2\nmodes 700 600\n");
    assert_eq!(err.lines().count(), 4, "{err}");
    assert!(
        !err.contains("tiny") && !err.contains("my-argv-secret-1"),
        "{err}"
    );
    assert!(
        err.contains("not registered: the secret from job logmask add #1 value 1 is 4 bytes long"),
        "{err}"
    );
    // The socket's directory is gone once logmask has exited.
    let dir = std::fs::read_to_string(&dir_file.0).unwrap();
    assert!(!std::path::Path::new(dir.trim()).exists(), "{dir} is left");
}

/// Sends probes until one comes back with `probe` masked; then the next line must be masked
/// too.
fn still_masked(lm: &mut Running, probe: &str) {
    lm.send(&format!("p {probe}\n"));
    assert_eq!(lm.line(), "p [MASKED]\n");
}

#[test]
fn a_reload_keeps_the_secrets_of_a_pipe() {
    // `<(…)` is a pipe: it cannot be read a second time.
    let mut cmd = Command::new("bash");
    cmd.args([
        "-c",
        r#"exec "$LM_BIN" -e LM_TOKEN -f <(echo pipe-secret-1)"#,
    ])
    .env("LM_BIN", BIN)
    .env("LM_TOKEN", TOKEN)
    .process_group(0);
    let mut lm = Running::start(cmd);
    still_masked(&mut lm, "pipe-secret-1");
    lm.signal(Signal::SIGHUP);
    let line = lm.err_line();
    assert!(
        line.starts_with("logmask: reloaded the secrets: 2 secrets (/dev/fd/")
            && line.contains("read once at start"),
        "{line}"
    );
    still_masked(&mut lm, "pipe-secret-1");
    let (status, _, err) = lm.finish();
    assert!(status.success(), "{err}");
}

#[test]
fn a_reload_keeps_the_previous_secrets_of_an_emptied_or_vanished_file() {
    let file = TempFile::new("emptied.txt", "file-secret-1\n");
    let mut lm = Running::start(logmask(&["-e", "LM_TOKEN", "-f", file.path()]));
    still_masked(&mut lm, "file-secret-1");
    std::fs::write(&file.0, "").unwrap();
    lm.signal(Signal::SIGHUP);
    assert_eq!(
        lm.err_line(),
        format!(
            "logmask: reload: secrets file {} has no secrets now, keeping its 1 previous secret\n",
            file.path()
        )
    );
    assert_eq!(lm.err_line(), "logmask: reloaded the secrets: 2 secrets\n");
    still_masked(&mut lm, "file-secret-1");

    std::fs::remove_file(&file.0).unwrap();
    lm.signal(Signal::SIGHUP);
    let line = lm.err_line();
    assert!(
        line.starts_with(&format!(
            "logmask: reload: cannot read secrets file {} (",
            file.path()
        )) && line.ends_with("), keeping its 1 previous secret\n"),
        "{line}"
    );
    assert_eq!(lm.err_line(), "logmask: reloaded the secrets: 2 secrets\n");
    still_masked(&mut lm, "file-secret-1");

    // A file replaced by rename is read anew: its new secrets replace the old ones.
    file.write("file-secret-2\n");
    lm.signal(Signal::SIGHUP);
    assert_eq!(lm.err_line(), "logmask: reloaded the secrets: 2 secrets\n");
    still_masked(&mut lm, "file-secret-2");
    lm.send("p file-secret-1\n");
    assert_eq!(lm.line(), "p file-secret-1\n");
    let (status, out, err) = lm.finish();
    assert!(status.success(), "{err}");
    assert_eq!((out.as_str(), err.as_str()), ("", ""));
}

/// Whether `pid` catches `signal` (its handler is installed).
fn catches(pid: u32, signal: Signal) -> bool {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("SigCgt:"))
        .and_then(|mask| u64::from_str_radix(mask.trim(), 16).ok())
        .is_some_and(|mask| mask & (1 << (signal as i32 - 1)) != 0)
}

#[test]
fn sighup_during_start_up_is_honoured_once_the_first_set_is_ready() {
    // 200,000 secrets: the first compile takes a while.
    let many: String = (0..200_000)
        .map(|i| format!("start-up-secret-{i:08}\n"))
        .collect();
    let file = TempFile::new("many.txt", &many);
    let started = Instant::now();
    let mut lm = Running::start(logmask(&["-e", "LM_TOKEN", "-f", file.path()]));
    let pid = lm.child.id();
    while !catches(pid, Signal::SIGHUP) {
        assert!(started.elapsed() < LIMIT);
        thread::sleep(Duration::from_millis(1));
    }
    lm.signal(Signal::SIGHUP);
    let sent = started.elapsed();
    // It survives, and reloads once the first set is ready.
    assert_eq!(
        lm.err_line(),
        "logmask: reloaded the secrets: 200001 secrets\n"
    );
    still_masked(&mut lm, "start-up-secret-00123456");
    eprintln!(
        "SIGHUP sent {sent:?} after the start; reloaded after {:?}",
        started.elapsed()
    );
    let (status, _, err) = lm.finish();
    assert!(status.success(), "{err}");
}

#[test]
fn sigterm_or_sigint_after_the_command_exited_end_logmask_despite_a_background_writer() {
    for (signal, code) in [(Signal::SIGTERM, 143), (Signal::SIGINT, 130)] {
        let mut lm = Running::start(wrap(
            r#"(while :; do echo "bg $LM_TOKEN"; sleep 0.02; done) & echo started"#,
        ));
        let mut seen = Vec::new();
        while seen.len() < 2 || !seen.contains(&"started\n".to_owned()) {
            let line = lm.line();
            assert!(line == "started\n" || line == "bg [MASKED]\n", "{line:?}");
            seen.push(line);
        }
        // The command (the shell) has exited; its background loop holds the pipes open.
        thread::sleep(Duration::from_millis(200));
        let sent = Instant::now();
        lm.signal(signal);
        let (status, out, err) = lm.finish();
        assert_eq!(status.code(), Some(code), "{err}");
        assert!(
            sent.elapsed() < Duration::from_secs(2),
            "{:?}",
            sent.elapsed()
        );
        assert!(out.lines().all(|l| l == "bg [MASKED]"), "{out}");
        assert_eq!(err, "");
    }
}

#[test]
fn the_command_dies_with_logmask() {
    let mut lm = Running::start(wrap("echo $$; exec sleep 30"));
    let pid: i32 = lm.line().trim().parse().unwrap();
    lm.signal(Signal::SIGKILL);
    let _ = lm.child.wait();
    let start = Instant::now();
    loop {
        // Gone, or a zombie waiting for its new parent to reap it.
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        let state = stat.rsplit(") ").next().and_then(|s| s.chars().next());
        if kill(Pid::from_raw(pid), None).is_err() || state == Some('Z') {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "the command runs on: {stat}"
        );
        thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn a_closed_stdout_descriptor_is_an_io_error() {
    for args in ["-e LM_TOKEN", "-e LM_TOKEN -- echo hi"] {
        let out = Command::new("sh")
            .args(["-c", &format!(r#"exec "$LM_BIN" {args} >&-"#)])
            .env("LM_BIN", BIN)
            .env("LM_TOKEN", TOKEN)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(out.status.code(), Some(1), "{args}: {err}");
        assert_eq!(
            err,
            "logmask: standard output is closed: Bad file descriptor (os error 9)\n"
        );
    }
    // A closed standard error in wrapper mode: the command's would be lost. Nothing can be
    // said; the status says it, and the command is not started.
    let out = Command::new("sh")
        .args(["-c", r#"exec "$LM_BIN" -e LM_TOKEN -- echo hi 2>&-"#])
        .env("LM_BIN", BIN)
        .env("LM_TOKEN", TOKEN)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(out.stdout, b"");
}

#[test]
fn a_non_blocking_stdin_is_waited_on() {
    use nix::fcntl::{fcntl, FcntlArg, OFlag};
    let (read, mut write) = std::io::pipe().unwrap();
    let flags = OFlag::from_bits_truncate(fcntl(&read, FcntlArg::F_GETFL).unwrap());
    fcntl(&read, FcntlArg::F_SETFL(flags | OFlag::O_NONBLOCK)).unwrap();
    let mut cmd = logmask(&["-e", "LM_TOKEN"]);
    let child = cmd
        .stdin(read)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    write.write_all(format!("a {TOKEN}\n").as_bytes()).unwrap();
    thread::sleep(Duration::from_millis(200));
    write.write_all(format!("b {TOKEN}\n").as_bytes()).unwrap();
    drop(write);
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "a [MASKED]\nb [MASKED]\n"
    );
    assert_eq!(err, "");
}

/// A stream with `n` registrations of values `{tag}-value-{k}`, each used only after its
/// registration line, among filler that holds no value: returns the input and the output
/// it must give, byte for byte.
fn registrations(tag: &str, n: usize, seed: u64) -> (Vec<u8>, Vec<u8>) {
    let mut rng = seed;
    let mut next = move |bound: u64| {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng % bound
    };
    let (mut input, mut want) = (Vec::new(), Vec::new());
    for k in 0..n {
        let mut filler = Vec::new();
        for _ in 0..next(20) {
            let len = if next(20) == 0 { 40_000 } else { next(120) };
            filler.extend((0..len).map(|_| b"abc  :#"[next(7) as usize]));
            filler.push(b'\n');
        }
        input.extend_from_slice(&filler);
        want.extend_from_slice(&filler);
        let value = format!("{tag}-value-{k:06}-xyz");
        let end = if next(2) == 0 { "\n" } else { "\r\n" };
        let command = if next(2) == 0 {
            "::add-mask::"
        } else {
            "##vso[task.setsecret]"
        };
        input.extend_from_slice(format!("{command}{value}{end}use {value} {value}.\n").as_bytes());
        want.extend_from_slice(b"use [MASKED] [MASKED].\n");
    }
    (input, want)
}

#[test]
fn a_thousand_registrations_lose_duplicate_or_reorder_no_byte() {
    let (input, want) = registrations("f", 1000, 0x9e37_79b9_7f4a_7c15);
    assert!(input.len() > 8 << 20, "{}", input.len());
    let mut child = logmask(&["-e", "LM_TOKEN"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = thread::spawn(move || {
        // Writes of every size, a command split anywhere.
        let mut rng = 7u64;
        let mut rest = &input[..];
        while !rest.is_empty() {
            rng = rng.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            let n = ((rng >> 33) % 70_000 + 1).min(rest.len() as u64) as usize;
            stdin.write_all(&rest[..n]).unwrap();
            rest = &rest[n..];
        }
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
    assert!(out.stdout == want, "the output differs from the reference");

    // Both streams of a command at once, each with its own registrations.
    let (a_in, a_want) = registrations("a", 400, 11);
    let (b_in, b_want) = registrations("b", 400, 12);
    let a = TempFile::new("regs-a", std::str::from_utf8(&a_in).unwrap());
    let b = TempFile::new("regs-b", std::str::from_utf8(&b_in).unwrap());
    let (status, out, err) = run(wrap(&format!(
        "cat {} & cat {} >&2; wait",
        a.path(),
        b.path()
    )));
    assert!(status.success());
    assert!(
        out.as_bytes() == a_want,
        "stdout differs from the reference"
    );
    assert!(
        err.as_bytes() == b_want,
        "stderr differs from the reference"
    );
}

/// A file is read ahead, its lines recognised by whichever thread has time for them: each
/// value still joins the set before the bytes after its line are masked, and no byte is lost,
/// doubled or moved.
#[test]
fn a_file_of_a_thousand_registrations_read_ahead_matches_the_reference() {
    let (input, want) = registrations("r", 1000, 0x2545_f491_4f6c_dd1d);
    assert!(input.len() > 8 << 20, "{}", input.len());
    let file = TempFile::new("regs-file", std::str::from_utf8(&input).unwrap());
    for args in [
        &["-e", "LM_TOKEN", file.path()][..],
        &[
            "-e",
            "LM_TOKEN",
            "--encodings",
            "none",
            "--no-token-shapes",
            file.path(),
        ],
    ] {
        let (status, out, err) = run(logmask(args));
        assert!(status.success(), "{err}");
        assert_eq!(err, "");
        assert!(
            out.as_bytes() == want,
            "the output differs from the reference"
        );
    }
}

#[test]
fn a_registration_in_one_stream_applies_to_the_next_write_of_the_other_every_time() {
    let values = TempFile::new("cross-values", "");
    // Before each registration its stream gets a lot to copy, so that the other stream's
    // thread is the first to read the value.
    let filler = format!("{}\n", "x".repeat(300_000));
    let filler_file = TempFile::new("cross-filler", &filler);
    let mut cmd = wrap(
        r###"i=0; while [ $i -lt 40 ]; do
  V=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n'); echo "$V" >> "$LM_VALUE_FILE"
  if [ $((i % 2)) = 0 ]; then cat "$LM_FILLER" >&2; echo "##vso[task.setsecret]$V" >&2; echo "o $V"
  else cat "$LM_FILLER"; echo "::add-mask::$V"; echo "e $V" >&2; fi
  i=$((i+1))
done"###,
    );
    cmd.env("LM_VALUE_FILE", values.path())
        .env("LM_FILLER", filler_file.path());
    let (status, out, err) = run(cmd);
    assert!(status.success());
    let values = std::fs::read_to_string(&values.0).unwrap();
    assert_eq!(values.lines().count(), 40);
    for value in values.lines() {
        assert!(
            !out.contains(value) && !err.contains(value),
            "{value} shows"
        );
    }
    for (text, tag) in [(&out, "o"), (&err, "e")] {
        assert_eq!(text.matches(&filler).count(), 20);
        let rest: String = text.replace(&filler, "");
        assert_eq!(rest, format!("{tag} [MASKED]\n").repeat(20));
    }
}
