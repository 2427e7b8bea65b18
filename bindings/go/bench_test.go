package logmask

// The Go writer against the Rust core alone (BenchmarkCore), a plain io.Copy and against what Go runners do today (a
// strings.Replacer over all secrets, or one bytes.ReplaceAll per secret, applied to each
// write), at 1, 100 and 1,000 secrets, in 32 KiB writes, on the corpus the Rust core is timed
// on. Make the corpus and the Rust figures first, from the repository root:
//
//	cargo run --release -p logmask-ffi --example bench_core
//	cd bindings/go && go test -run '^$' -bench . -benchtime 5x
//
// The baselines are not equivalent to the writer: they miss a secret split across two writes
// and leak the tail of overlapping secrets; they are here for their speed only.

import (
	"bytes"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/logmask/logmask/bindings/go/internal/core"
)

const benchWrite = 32 << 10

var benchSizes = []int{1, 100, 1000}

func benchDir() string {
	if d := os.Getenv("LOGMASK_BENCH_DIR"); d != "" {
		return d
	}
	return "../../target/logmask-bench"
}

type corpus struct {
	log     []byte
	secrets [][]byte
	hash    uint64 // FNV-1a of the Rust core's output
}

var corpora = map[int]*corpus{}

func loadCorpus(b *testing.B, n int) *corpus {
	if c := corpora[n]; c != nil {
		return c
	}
	dir := benchDir()
	log, err := os.ReadFile(filepath.Join(dir, fmt.Sprintf("log-%d.bin", n)))
	if err != nil {
		b.Skipf("no corpus (%v): run `cargo run --release -p logmask-ffi --example bench_core` first", err)
	}
	list, err := os.ReadFile(filepath.Join(dir, fmt.Sprintf("secrets-%d.txt", n)))
	if err != nil {
		b.Fatal(err)
	}
	h, err := os.ReadFile(filepath.Join(dir, fmt.Sprintf("out-%d.fnv", n)))
	if err != nil {
		b.Fatal(err)
	}
	hash, err := strconv.ParseUint(strings.TrimSpace(string(h)), 16, 64)
	if err != nil {
		b.Fatal(err)
	}
	c := &corpus{log: log, secrets: bytes.Split(bytes.TrimSuffix(list, []byte("\n")), []byte("\n")), hash: hash}
	if len(c.secrets) != n {
		b.Fatalf("%d secrets in the file, want %d", len(c.secrets), n)
	}
	corpora[n] = c
	return c
}

// cpuTime is the CPU time used by the process so far (all threads, user and system).
func cpuTime(b *testing.B) float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

// measureCPU runs the timed loop f and reports, besides the wall-clock MB/s, the throughput
// per CPU second ("cpu-MB/s"): on a machine shared with other work, wall-clock time includes
// the time spent waiting for a core, CPU time does not.
func measureCPU(b *testing.B, bytes int, f func()) {
	b.SetBytes(int64(bytes))
	start := cpuTime(b)
	b.ResetTimer()
	f()
	b.StopTimer()
	if used := cpuTime(b) - start; used > 0 {
		b.ReportMetric(float64(bytes)*float64(b.N)/used/1e6, "cpu-MB/s")
	}
}

// countingWriter is the log sink: it counts bytes (io.Discard would let io.Copy skip work).
type countingWriter struct{ n int64 }

func (w *countingWriter) Write(p []byte) (int, error) {
	w.n += int64(len(p))
	return len(p), nil
}

// writes feeds log to w in 32 KiB writes.
func writes(b *testing.B, w io.Writer, log []byte) {
	for i := 0; i < len(log); i += benchWrite {
		end := i + benchWrite
		if end > len(log) {
			end = len(log)
		}
		if _, err := w.Write(log[i:end]); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCopy(b *testing.B) {
	c := loadCorpus(b, 1)
	buf := make([]byte, benchWrite)
	measureCPU(b, len(c.log), func() {
		for i := 0; i < b.N; i++ {
			var sink countingWriter
			// Wrapped so that io.Copy uses buf: 32 KiB writes, as in the other benchmarks.
			if _, err := io.CopyBuffer(struct{ io.Writer }{&sink}, struct{ io.Reader }{bytes.NewReader(c.log)}, buf); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkWriter(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("secrets=%d", n), func(b *testing.B) {
			c := loadCorpus(b, n)
			builder := NewBuilder()
			for _, s := range c.secrets {
				builder.AddUnnamed(s)
			}
			set, err := builder.Build()
			if err != nil {
				b.Fatal(err)
			}
			defer set.Close()
			// The output is the Rust core's, checked once before timing.
			h := fnv.New64a()
			w := NewWriter(h, set)
			writes(b, w, c.log)
			if err := w.Close(); err != nil {
				b.Fatal(err)
			}
			if h.Sum64() != c.hash {
				b.Fatalf("output hash %016x, the Rust core's is %016x", h.Sum64(), c.hash)
			}
			measureCPU(b, len(c.log), func() {
				for i := 0; i < b.N; i++ {
					var sink countingWriter
					w := NewWriter(&sink, set)
					writes(b, w, c.log)
					if err := w.Close(); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}

// BenchmarkCore is the Rust core alone on the same corpus, in the same process: a loop in C
// over the C ABI, with the output in the masker's buffer, as the writer gets it.
func BenchmarkCore(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("secrets=%d", n), func(b *testing.B) {
			c := loadCorpus(b, n)
			set, err := core.New(bytes.Join(c.secrets, []byte("\n")))
			if err != nil {
				b.Fatal(err)
			}
			defer set.Close()
			measureCPU(b, len(c.log), func() {
				for i := 0; i < b.N; i++ {
					if set.MaskAll(c.log, benchWrite) >= len(c.log) {
						b.Fatal("nothing was masked")
					}
				}
			})
		})
	}
}

// BenchmarkWriterVsCore alternates a pass of the core (the C loop) and a pass of the writer
// over the same corpus and reports each one's throughput per CPU second and their ratio:
// both are measured in the same moments, so load from other work on the machine affects them
// alike.
func BenchmarkWriterVsCore(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("secrets=%d", n), func(b *testing.B) {
			c := loadCorpus(b, n)
			lines := bytes.Join(c.secrets, []byte("\n"))
			coreSet, err := core.New(lines)
			if err != nil {
				b.Fatal(err)
			}
			defer coreSet.Close()
			set, err := NewBuilder().AddLines("corpus", lines).Build()
			if err != nil {
				b.Fatal(err)
			}
			defer set.Close()
			var coreCPU, writerCPU float64
			b.SetBytes(int64(2 * len(c.log)))
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				t0 := cpuTime(b)
				coreSet.MaskAll(c.log, benchWrite)
				t1 := cpuTime(b)
				var sink countingWriter
				w := NewWriter(&sink, set)
				writes(b, w, c.log)
				w.Close()
				t2 := cpuTime(b)
				coreCPU += t1 - t0
				writerCPU += t2 - t1
			}
			b.StopTimer()
			mb := float64(len(c.log)) * float64(b.N) / 1e6
			b.ReportMetric(mb/coreCPU, "core-cpu-MB/s")
			b.ReportMetric(mb/writerCPU, "writer-cpu-MB/s")
			b.ReportMetric(coreCPU/writerCPU, "writer/core")
		})
	}
}

// replacerWriter applies a strings.Replacer to each write.
type replacerWriter struct {
	r *strings.Replacer
	w io.Writer
}

func (rw replacerWriter) Write(p []byte) (int, error) {
	if _, err := rw.r.WriteString(rw.w, string(p)); err != nil {
		return 0, err
	}
	return len(p), nil
}

func BenchmarkStringsReplacer(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("secrets=%d", n), func(b *testing.B) {
			c := loadCorpus(b, n)
			var pairs []string
			for _, s := range c.secrets {
				pairs = append(pairs, string(s), "[MASKED]")
			}
			r := strings.NewReplacer(pairs...)
			measureCPU(b, len(c.log), func() {
				for i := 0; i < b.N; i++ {
					var sink countingWriter
					writes(b, replacerWriter{r, &sink}, c.log)
					if sink.n >= int64(len(c.log)) {
						b.Fatal("nothing was masked")
					}
				}
			})
		})
	}
}

// replaceAllWriter masks each write with one bytes.ReplaceAll per secret.
type replaceAllWriter struct {
	secrets [][]byte
	w       io.Writer
}

var masked = []byte("[MASKED]")

func (rw replaceAllWriter) Write(p []byte) (int, error) {
	out := p
	for _, s := range rw.secrets {
		out = bytes.ReplaceAll(out, s, masked)
	}
	if _, err := rw.w.Write(out); err != nil {
		return 0, err
	}
	return len(p), nil
}

func BenchmarkBytesReplaceAll(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("secrets=%d", n), func(b *testing.B) {
			c := loadCorpus(b, n)
			measureCPU(b, len(c.log), func() {
				for i := 0; i < b.N; i++ {
					var sink countingWriter
					writes(b, replaceAllWriter{c.secrets, &sink}, c.log)
					if sink.n >= int64(len(c.log)) {
						b.Fatal("nothing was masked")
					}
				}
			})
		})
	}
}
