package logmask

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// The test vectors: expected outputs computed by the Rust API (ffi/tests/vectors.rs gives the
// format), so these tests compare the Go writer with the Rust core byte for byte.
const vectorsPath = "../../ffi/tests/vectors.txt"

type vectorCase struct {
	name  string
	lines [][]string
}

func loadVectors(t testing.TB) []vectorCase {
	f, err := os.Open(vectorsPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var cases []vectorCase
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		tok := strings.Split(line, " ")
		if tok[0] == "case" {
			cases = append(cases, vectorCase{name: tok[1]})
		} else if len(cases) > 0 {
			c := &cases[len(cases)-1]
			c.lines = append(c.lines, tok)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(cases) < 20 {
		t.Fatalf("only %d cases in %s", len(cases), vectorsPath)
	}
	return cases
}

func unhex(t testing.TB, s string) []byte {
	if s == "-" {
		return nil
	}
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// feed writes input to w in writes of at most n bytes (0: one write).
func feed(t testing.TB, w io.Writer, input []byte, n int) {
	if n == 0 {
		n = len(input) + 1
	}
	for len(input) > 0 {
		k := n
		if k > len(input) {
			k = len(input)
		}
		m, err := w.Write(input[:k])
		if err != nil || m != k {
			t.Fatalf("Write: %d, %v", m, err)
		}
		input = input[k:]
	}
}

// checkError checks err against a vector's code and message, and that the message holds no
// secret value of the case.
func checkError(t *testing.T, err error, code, msgHex string, values [][]byte) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("want an *Error, got %v", err)
	}
	want, _ := strconv.Atoi(code)
	if int(e.Code) != want {
		t.Errorf("code %d, want %d", e.Code, want)
	}
	if e.Message != string(unhex(t, msgHex)) {
		t.Errorf("message %q, want %q", e.Message, unhex(t, msgHex))
	}
	for _, v := range values {
		if len(v) > 0 && strings.Contains(err.Error(), string(v)) {
			t.Errorf("the error %q holds a secret value", err)
		}
	}
}

// runCase runs one vector case with each feed split into writes of chunk bytes.
func runCase(t *testing.T, c vectorCase, chunk int) {
	b := NewBuilder()
	var values [][]byte
	var out bytes.Buffer
	var w *Writer
	var reg *Registry
	defer func() {
		if reg != nil {
			reg.Close()
		}
	}()
	outcomes := 0
	for _, tok := range c.lines {
		switch tok[0] {
		case "min_len":
			n, _ := strconv.Atoi(tok[1])
			b.MinLen(n)
		case "replacement":
			b.Replacement(string(unhex(t, tok[1])))
		case "encodings":
			n, _ := strconv.Atoi(tok[1])
			b.Encodings(Encoding(n))
		case "shapes":
			b.TokenShapes(tok[1] == "1")
		case "encodings_parse":
			if err := b.EncodingsList(string(unhex(t, tok[1]))); err != nil {
				t.Fatal(err)
			}
		case "encodings_parse_fails":
			err := b.EncodingsList(string(unhex(t, tok[3])))
			checkError(t, err, tok[1], tok[2], values)
			if !errors.Is(err, ErrBadEncodings) {
				t.Errorf("errors.Is(%v, ErrBadEncodings) is false", err)
			}
			outcomes++
		case "secret":
			v := unhex(t, tok[2])
			values = append(values, v)
			if tok[1] == "~" {
				b.AddUnnamed(v)
			} else {
				b.Add(string(unhex(t, tok[1])), v)
			}
		case "lines":
			text := unhex(t, tok[2])
			for _, l := range bytes.Split(text, []byte("\n")) {
				values = append(values, bytes.TrimSuffix(l, []byte("\r")))
			}
			b.AddLines(string(unhex(t, tok[1])), text)
		case "build":
			s, err := b.Build()
			if err != nil {
				t.Fatal(err)
			}
			w = NewWriter(&out, s)
			s.Close() // the writer keeps its own reference
		case "build_fails":
			s, err := b.Build()
			if s != nil {
				t.Error("a set despite the error")
			}
			checkError(t, err, tok[1], tok[2], values)
			outcomes++
		case "registry":
			var err error
			if reg, err = NewRegistry(b); err != nil {
				t.Fatal(err)
			}
			w = reg.NewWriter(&out)
		case "add", "add_fails":
			rest := tok[1:]
			if tok[0] == "add_fails" {
				rest = tok[3:]
			}
			n, _ := strconv.Atoi(rest[1])
			var vs [][]byte
			for i := 0; i < n; i++ {
				vs = append(vs, unhex(t, rest[2+i]))
			}
			values = append(values, vs...)
			err := reg.Add(string(unhex(t, rest[0])), vs...)
			if tok[0] == "add" && err != nil {
				t.Fatal(err)
			} else if tok[0] == "add_fails" {
				checkError(t, err, tok[1], tok[2], values)
				outcomes++
			}
		case "remove":
			if got := reg.Remove(string(unhex(t, tok[1]))); got != (tok[2] == "1") {
				t.Errorf("Remove: %v, want %s", got, tok[2])
			}
		case "feed":
			feed(t, w, unhex(t, tok[1]), chunk)
		case "expect":
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			if want := unhex(t, tok[1]); !bytes.Equal(out.Bytes(), want) {
				t.Errorf("chunk %d: output differs from the Rust core's:\n got %q\nwant %q", chunk, trim(out.Bytes()), trim(want))
			}
			outcomes++
		case "end":
		default:
			t.Fatalf("unknown directive %q", tok[0])
		}
	}
	if outcomes == 0 {
		t.Fatal("the case checks nothing")
	}
}

func trim(b []byte) []byte {
	if len(b) > 200 {
		return b[:200]
	}
	return b
}

func TestVectors(t *testing.T) {
	for _, c := range loadVectors(t) {
		c := c
		for _, chunk := range []int{0, 1, 3, 7, 4096, 32 << 10, 100 << 10} {
			t.Run(fmt.Sprintf("%s/%d", c.name, chunk), func(t *testing.T) { runCase(t, c, chunk) })
		}
	}
}

// A Write larger than the 64 KiB fed to C per call gives the same output.
func TestLargeWrite(t *testing.T) {
	for _, c := range loadVectors(t) {
		if c.name != "generated-log" {
			continue
		}
		b := NewBuilder()
		var input, want []byte
		for _, tok := range c.lines {
			switch tok[0] {
			case "secret":
				b.Add(string(unhex(t, tok[1])), unhex(t, tok[2]))
			case "feed":
				input = unhex(t, tok[1])
			case "expect":
				want = unhex(t, tok[1])
			}
		}
		if len(input) <= maxFeed {
			t.Fatalf("the input (%d bytes) should exceed one feed", len(input))
		}
		s, err := b.Build()
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		var out bytes.Buffer
		w := NewWriter(&out, s)
		if n, err := w.Write(input); n != len(input) || err != nil {
			t.Fatal(n, err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out.Bytes(), want) {
			t.Fatal("one large Write: output differs from the Rust core's")
		}
		return
	}
	t.Fatal("no generated-log case")
}

func TestHeldBackAndClose(t *testing.T) {
	s, err := New(Secret{"env T", []byte("abcdefgh")}, Secret{"env U", []byte("efghijkl")})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.Len() < 2 || s.MaxLen() < 8 {
		t.Fatalf("Len %d, MaxLen %d", s.Len(), s.MaxLen())
	}
	var out bytes.Buffer
	w := NewWriter(&out, s)
	io.WriteString(w, "xxabcdef")
	if out.String() != "xx" || w.HeldBack() != 6 {
		t.Fatalf("%q, held %d", out.String(), w.HeldBack())
	}
	io.WriteString(w, "ghijklyy")
	if err := w.Close(); err != nil || out.String() != "xx[MASKED]yy" {
		t.Fatalf("%q, %v", out.String(), err)
	}
	if err := w.Close(); err != nil {
		t.Fatal("a second Close:", err)
	}
	if _, err := w.Write([]byte("x")); err != ErrClosed {
		t.Fatal("Write after Close:", err)
	}
}

type failingWriter struct {
	n   int // bytes accepted before failing
	got bytes.Buffer
}

var errSink = errors.New("sink failed")

func (f *failingWriter) Write(p []byte) (int, error) {
	if f.got.Len()+len(p) > f.n {
		k := f.n - f.got.Len()
		f.got.Write(p[:k])
		return k, errSink
	}
	return f.got.Write(p)
}

func TestSinkErrorIsReturnedAndKept(t *testing.T) {
	s, err := New(Secret{"env T", []byte("hunter2hunter2")})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	sink := &failingWriter{n: 10}
	w := NewWriter(sink, s)
	if _, err := io.WriteString(w, "0123456789abcdef\n"); err != errSink {
		t.Fatal("want the sink's error, got", err)
	}
	if _, err := io.WriteString(w, "more\n"); err != errSink {
		t.Fatal("want the kept error, got", err)
	}
	if err := w.Close(); err != errSink {
		t.Fatal("Close: want the kept error, got", err)
	}
}

// shortWriter accepts one byte less than given, without an error.
type shortWriter struct{}

func (shortWriter) Write(p []byte) (int, error) { return len(p) - 1, nil }

func TestShortWrite(t *testing.T) {
	s, _ := New(Secret{"x", []byte("hunter2hunter2")})
	defer s.Close()
	w := NewWriter(shortWriter{}, s)
	if _, err := io.WriteString(w, "hello\n"); err != io.ErrShortWrite {
		t.Fatal(err)
	}
	w.Close()
}

func TestErrorsNameOriginNotValue(t *testing.T) {
	_, err := NewBuilder().Add("env SHORT", []byte("sh0rt!")).Build()
	if !errors.Is(err, ErrTooShort) || errors.Is(err, ErrInReplacement) {
		t.Fatalf("%v", err)
	}
	if !strings.Contains(err.Error(), "env SHORT") || strings.Contains(err.Error(), "sh0rt!") {
		t.Fatalf("%v", err)
	}
	_, err = NewBuilder().Replacement("<<hidden-value>>").Add("env H", []byte("hidden-value")).Build()
	if !errors.Is(err, ErrInReplacement) || strings.Contains(err.Error(), "hidden-value") {
		t.Fatalf("%v", err)
	}
	if _, err := NewBuilder().Add("\xff", []byte("long-enough-value")).Build(); err == nil {
		t.Fatal("a non-UTF-8 origin was accepted")
	} else if e := err.(*Error); e.Code != CodeInvalidArgument {
		t.Fatalf("%v", err)
	}
	if _, err := NewBuilder().Encodings(256).Build(); err == nil {
		t.Fatal("unknown encoding bits were accepted")
	}
	reg, err := NewRegistry(nil)
	if err != nil {
		t.Fatal(err)
	}
	err = reg.Add("42", []byte("long-enough-value"), []byte("j42"))
	if !errors.Is(err, ErrTooShort) || !strings.Contains(err.Error(), "job 42 value 2") ||
		strings.Contains(err.Error(), "j42") {
		t.Fatalf("%v", err)
	}
	reg.Close()
	if err := reg.Add("1", []byte("long-enough-value")); err != ErrClosed {
		t.Fatal(err)
	}
	if reg.Remove("1") {
		t.Fatal("Remove after Close")
	}
}

// Writers on many goroutines share one Secrets and one Registry while jobs come and go.
func TestConcurrentWriters(t *testing.T) {
	base := NewBuilder().Add("runner", []byte("glrt-runner-secret"))
	reg, err := NewRegistry(base)
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Close()
	s, err := base.Build()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var line bytes.Buffer
	for i := 0; i < 2000; i++ {
		fmt.Fprintf(&line, "line %d glrt-runner-secret job-secret-%d\n", i, i%5)
	}
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			var out bytes.Buffer
			var w *Writer
			if g%2 == 0 {
				w = NewWriter(&out, s)
			} else {
				w = reg.NewWriter(&out)
			}
			// Not feed(): t.Fatal must not be called from another goroutine.
			for p := line.Bytes(); len(p) > 0; {
				k := 1000 + g
				if k > len(p) {
					k = len(p)
				}
				if _, err := w.Write(p[:k]); err != nil {
					t.Error(err)
					return
				}
				p = p[k:]
			}
			if err := w.Close(); err != nil {
				t.Error(err)
			}
			if bytes.Contains(out.Bytes(), []byte("glrt-runner-secret")) {
				t.Errorf("goroutine %d: the base secret leaked", g)
			}
		}(g)
	}
	for i := 0; i < 50; i++ {
		job := strconv.Itoa(i % 5)
		if err := reg.Add(job, []byte("job-secret-"+job)); err != nil {
			t.Fatal(err)
		}
		if i%3 == 0 {
			reg.Remove(job)
		}
	}
	wg.Wait()
}
