// Command runner runs a command the way a CI runner runs a job: the command's stdout and
// stderr go, each through a masking writer of its own, into one job log, and the job's secrets
// live in a registry (as in a runner serving several jobs) for as long as the job runs.
//
//	go run ./examples/runner -e CI_JOB_TOKEN -f masked-variables.txt -- ./build.sh
//	go run ./examples/runner -e CI_JOB_TOKEN -o job.log -- make test
//
// Secret values come from environment variables (-e NAME) and secrets files (-f PATH, one
// secret per line), never from the command line. The exit status is the command's (128 + the
// signal number if it was killed); 2 for bad usage or bad secrets, 1 for an I/O error.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"

	logmask "github.com/logmask/logmask/bindings/go"
)

type list []string

func (l *list) String() string     { return strings.Join(*l, ",") }
func (l *list) Set(s string) error { *l = append(*l, s); return nil }

// lockedWriter serialises the writes of the two streams into the job log, as a runner's trace
// buffer does.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func main() { os.Exit(run()) }

func run() int {
	var envs, files list
	flag.Var(&envs, "e", "mask the value of environment variable `NAME` (repeatable)")
	flag.Var(&files, "f", "mask each line of the secrets file `PATH` (repeatable)")
	out := flag.String("o", "", "append the job log to `FILE` (default: standard output)")
	job := flag.String("job", "1", "the job `ID` its secrets are registered under")
	flag.Parse()
	args := flag.Args()
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "usage: runner [-e NAME]... [-f PATH]... [-o FILE] -- COMMAND [ARG]...")
		return 2
	}

	// The runner's registry: the secrets of every job it runs. Its base could hold the
	// runner's own token; here it has the defaults (token shapes and encodings on).
	registry, err := logmask.NewRegistry(nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, "runner:", err)
		return 2
	}
	defer registry.Close()
	secrets, err := jobSecrets(envs, files)
	if err != nil {
		fmt.Fprintln(os.Stderr, "runner:", err)
		return 2
	}
	// Registered before the job writes a byte; errors name the secret, never its value.
	if err := registry.Add(*job, secrets...); err != nil {
		fmt.Fprintln(os.Stderr, "runner:", err)
		return 2
	}
	defer registry.Remove(*job)

	var sink io.Writer = os.Stdout
	if *out != "" {
		f, err := os.OpenFile(*out, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			fmt.Fprintln(os.Stderr, "runner:", err)
			return 1
		}
		defer f.Close()
		sink = f
	}
	jobLog := &lockedWriter{w: sink}
	stdout, stderr := registry.NewWriter(jobLog), registry.NewWriter(jobLog)

	cmd := exec.Command(args[0], args[1:]...)
	// Through the writers: exec copies each stream from a pipe, one Write per read.
	cmd.Stdout, cmd.Stderr, cmd.Stdin = stdout, stderr, os.Stdin
	runErr := cmd.Run()
	// The held-back tails (a possible start of a secret) are written at the end.
	ioErr := stdout.Close()
	if err := stderr.Close(); ioErr == nil {
		ioErr = err
	}
	if ioErr != nil {
		fmt.Fprintln(os.Stderr, "runner: writing the job log:", ioErr)
	}
	return status(runErr, ioErr)
}

// jobSecrets reads the secrets named on the command line.
func jobSecrets(envs, files list) ([][]byte, error) {
	var secrets [][]byte
	for _, name := range envs {
		v, ok := os.LookupEnv(name)
		if !ok {
			return nil, fmt.Errorf("environment variable %s is not set", name)
		}
		secrets = append(secrets, []byte(v))
	}
	for _, path := range files {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		for _, line := range strings.Split(string(data), "\n") {
			if line = strings.TrimSuffix(line, "\r"); line != "" {
				secrets = append(secrets, []byte(line))
			}
		}
	}
	return secrets, nil
}

// status is the exit status: the command's, as a shell reports it.
func status(runErr, ioErr error) int {
	var exit *exec.ExitError
	switch {
	case errors.As(runErr, &exit):
		if ws, ok := exit.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int(ws.Signal())
		}
		return exit.ExitCode()
	case errors.Is(runErr, exec.ErrNotFound):
		fmt.Fprintln(os.Stderr, "runner:", runErr)
		return 127
	case runErr != nil:
		fmt.Fprintln(os.Stderr, "runner:", runErr)
		return 126
	case ioErr != nil:
		return 1
	}
	return 0
}
