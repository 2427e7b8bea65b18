package logmask

import (
	"bytes"
	"os"
	"strconv"
	"strings"
	"testing"
)

// rss is the resident set size of the process in bytes (Linux), or -1.
func rss() int64 {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(status), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			kb, _ := strconv.ParseInt(strings.Fields(line)[1], 10, 64)
			return kb << 10
		}
	}
	return -1
}

// cyclicChecker checks that what is written to it is want repeated.
type cyclicChecker struct {
	want []byte
	at   int
	n    int64
	bad  bool
}

func (c *cyclicChecker) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	for q := p; len(q) > 0; {
		k := len(c.want) - c.at
		if k > len(q) {
			k = len(q)
		}
		if !bytes.Equal(q[:k], c.want[c.at:c.at+k]) {
			c.bad = true
		}
		c.at = (c.at + k) % len(c.want)
		q = q[k:]
	}
	return len(p), nil
}

// A 1 GiB stream, with secrets split across writes, in 32 KiB writes through one Writer: the
// process's memory does not grow with the stream, and every block of the output is that
// block masked on its own.
func TestOneGiBStreamBoundedMemory(t *testing.T) {
	if rss() < 0 {
		t.Skip("no /proc/self/status")
	}
	secrets, err := New(
		Secret{"env CI_JOB_TOKEN", []byte("glcbt-64_0123456789abcdefghij")},
		Secret{"env PASSWORD", []byte("correct horse battery staple")},
	)
	if err != nil {
		t.Fatal(err)
	}
	defer secrets.Close()
	// A 64 KiB block of log lines; a secret straddles the middle, where a 32 KiB write ends.
	var block []byte
	for i := 0; len(block) < 64<<10; i++ {
		block = append(block, "2026-12-01T12:00:00Z step "+strconv.Itoa(i)+": compiling module\n"...)
		if i%50 == 0 {
			block = append(block, "+ curl -H 'JOB-TOKEN: glcbt-64_0123456789abcdefghij' https://example.com\n"...)
		}
	}
	block = block[:64<<10]
	copy(block[32<<10-10:], "correct horse battery staple")
	copy(block[len(block)-1:], "\n")
	var alone bytes.Buffer
	w := NewWriter(&alone, secrets)
	w.Write(block)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(alone.Bytes(), []byte("horse")) || !bytes.Contains(alone.Bytes(), []byte("[MASKED]")) {
		t.Fatal("the block is not masked")
	}

	sink := &cyclicChecker{want: alone.Bytes()}
	w = NewWriter(sink, secrets)
	before, peak := rss(), int64(0)
	const total = 1 << 30
	for written := 0; written < total; written += 32 << 10 {
		half := (written / (32 << 10)) % 2
		if _, err := w.Write(block[half*(32<<10) : (half+1)*(32<<10)]); err != nil {
			t.Fatal(err)
		}
		if written%(16<<20) == 0 {
			if r := rss(); r > peak {
				peak = r
			}
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if sink.bad || sink.n != int64(total/len(block)*alone.Len()) {
		t.Fatalf("the streamed output differs from the blocks masked alone (%d bytes)", sink.n)
	}
	growth := peak - before
	t.Logf("1 GiB streamed: RSS %d MiB before, peak %d MiB (growth %d KiB)", before>>20, peak>>20, growth>>10)
	if growth > 16<<20 {
		t.Fatalf("memory grew by %d MiB over the stream", growth>>20)
	}
}
