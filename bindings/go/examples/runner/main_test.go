package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The runner masks the job's secrets in stdout and stderr, split across writes too, and
// exits with the command's status.
func TestRunner(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "runner")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	secrets := filepath.Join(dir, "secrets.txt")
	os.WriteFile(secrets, []byte("file-secret-value\n"), 0o600)
	// stderr first: the two streams share the job log, and a stream's held-back bytes (the
	// start of the split token) let the other stream's lines pass them.
	script := `echo "err file-secret-value" >&2; sleep 0.2; echo "token $JOB_TOKEN"; printf 'split %s' "${JOB_TOKEN%????}"; sleep 0.1; printf '%s\n' "${JOB_TOKEN#${JOB_TOKEN%????}}"; exit 3`
	cmd := exec.Command(bin, "-e", "JOB_TOKEN", "-f", secrets, "--", "sh", "-c", script)
	cmd.Env = append(os.Environ(), "JOB_TOKEN=job-token-0123456789")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if exit, ok := err.(*exec.ExitError); !ok || exit.ExitCode() != 3 {
		t.Fatalf("want exit status 3, got %v (stderr %q)", err, stderr.String())
	}
	log := stdout.String()
	for _, secret := range []string{"job-token-0123456789", "file-secret-value", "0123456789"} {
		if strings.Contains(log, secret) {
			t.Errorf("the job log shows %q: %q", secret, log)
		}
	}
	if strings.Count(log, "[MASKED]") != 3 || !strings.Contains(log, "split [MASKED]\n") {
		t.Errorf("job log %q", log)
	}
	if stderr.Len() != 0 {
		t.Errorf("runner's own stderr: %q", stderr.String())
	}

	// A too-short secret: status 2, the message names the variable's job value, not it.
	cmd = exec.Command(bin, "-e", "SHORT", "--", "true")
	cmd.Env = append(os.Environ(), "SHORT=abc")
	out, err := cmd.CombinedOutput()
	if exit, ok := err.(*exec.ExitError); !ok || exit.ExitCode() != 2 || bytes.Contains(out, []byte("abc")) {
		t.Fatalf("%v: %q", err, out)
	}
}
