package logmask_test

import (
	"fmt"
	"io"
	"os"

	logmask "github.com/logmask/logmask/bindings/go"
)

// A secret split across two writes is masked; Close writes what was held back.
func ExampleNewWriter() {
	secrets, err := logmask.NewBuilder().
		Add("env CI_JOB_TOKEN", []byte("glcbt-64_zyx987wvu")).
		Build()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer secrets.Close()
	log := logmask.NewWriter(os.Stdout, secrets)
	io.WriteString(log, "+ curl -H 'JOB-TOKEN: glcbt-64_")
	io.WriteString(log, "zyx987wvu' https://example.com\n")
	log.Close()
	// Output: + curl -H 'JOB-TOKEN: [MASKED]' https://example.com
}

// Errors name a secret by its origin, never by its value.
func ExampleBuilder_Build() {
	_, err := logmask.NewBuilder().Add("env SHORT_TOKEN", []byte("hunter2")).Build()
	fmt.Println(err)
	// Output: logmask: the secret from env SHORT_TOKEN is 7 bytes long, shorter than the minimum length of 8
}

// A registry's writers see a job's secrets from their next Write on.
func ExampleRegistry() {
	registry, err := logmask.NewRegistry(nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer registry.Close()
	log := registry.NewWriter(os.Stdout)
	io.WriteString(log, "before: job42-secret-value\n")
	registry.Add("42", []byte("job42-secret-value"))
	io.WriteString(log, "during: job42-secret-value\n")
	registry.Remove("42")
	io.WriteString(log, "after: job42-secret-value\n")
	log.Close()
	// Output:
	// before: job42-secret-value
	// during: [MASKED]
	// after: job42-secret-value
}
