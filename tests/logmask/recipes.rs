//! The README's recipes, run as written where a real process can run here: the GitLab
//! Runner custom-executor script and the forwarder's systemd unit.

use std::path::Path;
use std::process::Command;

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
