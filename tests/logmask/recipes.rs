//! The README's recipes, run as written where a real process can run here: the GitLab
//! Runner custom-executor script, the forwarder's systemd unit, and logmask before a log
//! shipper (a file it tails, a TCP socket it listens on).

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_logmask");
const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// The custom executor's `run_exec` script runs a step under logmask with the job's
/// CI_JOB_TOKEN and the masked variables it is told of (an unset one skipped), masks both
/// streams, and exits with the step's status.
#[test]
fn gitlab_custom_executor_script_masks_the_job_token_and_masked_variables() {
    let dir = tempfile::tempdir().unwrap();
    let step = dir.path().join("step.sh");
    std::fs::write(
        &step,
        "echo \"token $CI_JOB_TOKEN_COPY\"\necho \"key=$DEPLOY_KEY_COPY\" >&2\n\
         echo 'plain line'\nexit 3\n",
    )
    .unwrap();
    let token = "glcbt-64_fake0123456789abcdefgh";
    let key = "deploy-key-s3cr3t-value";
    let out = Command::new(Path::new(ROOT).join("examples/recipes/gitlab-run.sh"))
        .arg(&step)
        .arg("step_script")
        .env("LOGMASK", BIN)
        .env("LOGMASK_VARIABLES", "DEPLOY_KEY NOT_SET_FOR_THIS_JOB")
        .env("CUSTOM_ENV_CI_JOB_TOKEN", token)
        .env("CUSTOM_ENV_DEPLOY_KEY", key)
        // The step prints the values as a job would (the runner exports them unprefixed).
        .env("CI_JOB_TOKEN_COPY", token)
        .env("DEPLOY_KEY_COPY", key)
        .env_remove("CUSTOM_ENV_NOT_SET_FOR_THIS_JOB")
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert_eq!(
        out.status.code(),
        Some(3),
        "the step's status; stderr {stderr}"
    );
    assert_eq!(stdout, "token [MASKED]\nplain line\n");
    assert_eq!(stderr, "key=[MASKED]\n");
}

/// The unit file passes `systemd-analyze verify` (with its binary and paths pointed into a
/// temporary directory), and its ExecStart command line, run as written, forwards a tagged,
/// masked line and stops on SIGTERM, removing its socket.
#[cfg(feature = "tokio")]
#[test]
fn forwarder_systemd_unit_verifies_and_its_command_line_runs() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    // Built beside the binary by `cargo test --features tokio` (or `cargo build --example`).
    let forward = Path::new(BIN).parent().unwrap().join("examples/forward");
    assert!(
        forward.exists(),
        "build the example first: cargo build --release --features tokio --example forward"
    );
    let d = dir.path().display().to_string();
    let unit =
        std::fs::read_to_string(Path::new(ROOT).join("examples/recipes/logmask-forward.service"))
            .unwrap()
            .replace(
                "/usr/local/bin/logmask-forward",
                &forward.display().to_string(),
            )
            .replace("/etc/logmask/", &format!("{d}/"))
            .replace("/run/logmask/", &format!("{d}/"))
            .replace("/var/log/ci/", &format!("{d}/"));
    let unit_path = dir.path().join("logmask-forward.service");
    std::fs::write(&unit_path, &unit).unwrap();
    std::fs::write(dir.path().join("secrets.txt"), "unit-secret-value-1\n").unwrap();
    if let Ok(verify) = Command::new("systemd-analyze")
        .arg("verify")
        .arg(&unit_path)
        .output()
    {
        let said = String::from_utf8_lossy(&verify.stderr);
        assert!(verify.status.success() && said.trim().is_empty(), "{said}");
    }

    let exec = unit
        .lines()
        .find_map(|l| l.strip_prefix("ExecStart="))
        .unwrap();
    let words: Vec<&str> = exec.split_whitespace().collect();
    let mut child = Command::new(words[0])
        .args(&words[1..])
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let sock = dir.path().join("forward.sock");
    let sink = dir.path().join("masked.log");
    let mut stream = None;
    for _ in 0..500 {
        if let Ok(s) = std::os::unix::net::UnixStream::connect(&sock) {
            stream = Some(s);
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let mut stream = stream.expect("the forwarder listens on its socket");
    stream.write_all(b"login unit-secret-value-1 ok\n").unwrap();
    drop(stream);
    let mut text = String::new();
    for _ in 0..500 {
        text = std::fs::read_to_string(&sink).unwrap_or_default();
        if !text.is_empty() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert_eq!(text, "[1] login [MASKED] ok\n");
    assert!(Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap()
        .success());
    assert!(child.wait().unwrap().success());
    assert!(!sock.exists(), "the socket file is removed at SIGTERM");
}

/// The job's token, given as `CI_JOB_TOKEN`.
const JOB_TOKEN: &str = "glcbt-64_shipper0123456789abcdef";
/// The masked variable, given in `masked-variables.txt`.
const PASSWORD: &str = "db-password-for-shipper";
/// What the shipper gets from the job.
const SHIPPED: &str = "token [MASKED]\npassword [MASKED]\ndone\n";

/// The README's shipper command lines (`./build.sh 2>&1 | logmask ...`): the file form and
/// the TCP form.
fn shipper_lines() -> (String, String) {
    let readme = std::fs::read_to_string(Path::new(ROOT).join("README.md")).unwrap();
    let section = readme.split("### Before a log shipper").nth(1).unwrap();
    let section = section.split("\n## ").next().unwrap();
    let lines: Vec<&str> = section
        .lines()
        .filter(|l| l.starts_with("./build.sh"))
        .collect();
    let file = lines.iter().find(|l| l.contains(">> /var/log/ci/job.log"));
    let tcp = lines
        .iter()
        .find(|l| l.contains("> /dev/tcp/127.0.0.1/5170"));
    assert_eq!(lines.len(), 2, "{lines:?}");
    (file.unwrap().to_string(), tcp.unwrap().to_string())
}

/// A job's build script in `dir`: prints the token, then the password on stderr, waits until
/// the file `go` exists (20 s at most), prints `done`. Returns the paths of the script, of
/// the masked-variables file and of `go`.
fn shipper_job(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    use std::os::unix::fs::PermissionsExt;
    let (script, secrets, go) = (
        dir.join("build.sh"),
        dir.join("masked-variables.txt"),
        dir.join("go"),
    );
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\necho \"token $CI_JOB_TOKEN\"\necho 'password {PASSWORD}' >&2\n\
             i=0; while [ ! -e '{}' ] && [ $i -lt 400 ]; do sleep 0.05; i=$((i+1)); done\n\
             echo done\n",
            go.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::write(&secrets, format!("{PASSWORD}\n")).unwrap();
    (script, secrets, go)
}

/// Runs `line` with bash, `logmask` found on PATH, `./build.sh` and `masked-variables.txt`
/// replaced by the job's, `(from, to)` replaced too.
fn run_shipper_line(line: &str, dir: &Path, replace: (&str, &str)) -> Child {
    let (script, secrets, _) = shipper_job(dir);
    let line = line
        .replace("./build.sh", &script.display().to_string())
        .replace("masked-variables.txt", &secrets.display().to_string())
        .replace(replace.0, replace.1);
    let bin_dir = Path::new(BIN).parent().unwrap();
    let path = format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap());
    Command::new("bash")
        .args(["-c", &line])
        .env("PATH", path)
        .env("CI_JOB_TOKEN", JOB_TOKEN)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits until `got()` contains both masked lines, checking that the job is still running
/// then (its output reached the shipper before `logmask`'s standard input closed).
fn first_lines_while_running(job: &mut Child, mut got: impl FnMut() -> String) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let text = got();
        if text.contains("token [MASKED]\npassword [MASKED]\n") {
            assert!(!text.contains("done"), "{text}");
            break;
        }
        assert!(Instant::now() < deadline, "only {text:?} arrived");
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(
        job.try_wait().unwrap().is_none(),
        "the job still runs: the lines came before its end"
    );
}

/// The job's end: status 0, nothing on stderr.
fn shipper_job_ends(job: Child) {
    let out = job.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.is_empty(), "{stderr}");
}

/// The file form: a reader tailing the log (as Vector's `file` source and Fluent Bit's
/// `tail` input do) sees each masked line while the job runs; the file is appended to.
#[test]
fn shipper_file_is_appended_line_by_line_while_the_job_runs() {
    use std::io::{Read, Seek, SeekFrom};
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("job.log");
    std::fs::write(&log, "an earlier job\n").unwrap();
    let (file_line, _) = shipper_lines();
    let log_path = log.display().to_string();
    let mut job = run_shipper_line(&file_line, dir.path(), ("/var/log/ci/job.log", &log_path));
    // The reader: from where the file ended, as `tail -f` reads.
    let mut tail = std::fs::File::open(&log).unwrap();
    tail.seek(SeekFrom::End(0)).unwrap();
    let mut seen = Vec::new();
    first_lines_while_running(&mut job, || {
        tail.read_to_end(&mut seen).unwrap();
        String::from_utf8_lossy(&seen).into_owned()
    });
    std::fs::write(dir.path().join("go"), "").unwrap();
    shipper_job_ends(job);
    tail.read_to_end(&mut seen).unwrap();
    assert_eq!(String::from_utf8_lossy(&seen), SHIPPED);
    let whole = std::fs::read_to_string(&log).unwrap();
    assert_eq!(whole, format!("an earlier job\n{SHIPPED}"));
}

/// The TCP form: bash's `/dev/tcp` connects logmask's output to a listener (as Vector's
/// `socket` source or Fluent Bit's `tcp` input), which receives each masked line while the
/// job runs, and the end of the stream when it ends.
#[test]
fn shipper_tcp_listener_gets_masked_lines_while_the_job_runs() {
    use std::io::Read;
    use std::sync::{Arc, Mutex};
    let dir = tempfile::tempdir().unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let received = Arc::new(Mutex::new(Vec::new()));
    let shipper = {
        let received = Arc::clone(&received);
        std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            let mut buf = [0; 4096];
            loop {
                match stream.read(&mut buf).unwrap() {
                    0 => break,
                    n => received.lock().unwrap().extend_from_slice(&buf[..n]),
                }
            }
        })
    };
    let (_, tcp_line) = shipper_lines();
    let to = format!("127.0.0.1/{port}");
    let mut job = run_shipper_line(&tcp_line, dir.path(), ("127.0.0.1/5170", &to));
    first_lines_while_running(&mut job, || {
        String::from_utf8_lossy(&received.lock().unwrap()).into_owned()
    });
    std::fs::write(dir.path().join("go"), "").unwrap();
    shipper_job_ends(job);
    // The connection ends with the job.
    shipper.join().unwrap();
    assert_eq!(String::from_utf8_lossy(&received.lock().unwrap()), SHIPPED);
}

/// With nothing listening, bash does not start logmask and nothing is sent: the README's
/// "fail closed" note.
#[test]
fn shipper_tcp_without_a_listener_runs_nothing() {
    let dir = tempfile::tempdir().unwrap();
    // A port that was free a moment ago and is closed now.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let (_, tcp_line) = shipper_lines();
    let to = format!("127.0.0.1/{port}");
    let line = format!("set -o pipefail; {tcp_line}");
    let job = run_shipper_line(&line, dir.path(), ("127.0.0.1/5170", &to));
    let out = job.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(stderr.contains("Connection refused"), "{stderr}");
    assert!(
        !stderr.contains(JOB_TOKEN) && !stderr.contains(PASSWORD),
        "{stderr}"
    );
}
