// Package logmask masks secrets in log streams: every occurrence of every secret (overlapping
// ones included, merged) is replaced by "[MASKED]" before the bytes reach the log sink, however
// the stream is split into writes.
//
// It is a cgo binding of the Rust library through its C ABI (the logmask-ffi crate, header
// ffi/include/logmask.h). Build the static library first, from the repository root:
//
//	cargo build --release -p logmask-ffi
//
// then build or test this package as usual; cgo links ../../target/release/liblogmask_ffi.a.
//
// # Use
//
//	secrets, err := logmask.NewBuilder().
//		Add("env CI_JOB_TOKEN", []byte(os.Getenv("CI_JOB_TOKEN"))).
//		AddLines("masked-variables.txt", fileBytes).
//		Build()
//	if err != nil { ... } // names the secret's origin, never its value
//	defer secrets.Close()
//	log := logmask.NewWriter(sink, secrets)
//	io.Copy(log, jobOutput)
//	log.Close() // writes the held-back tail
//
// When the secrets change while streams run (the tokens of the jobs running now), keep them in
// a [Registry] and make each stream's writer with [Registry.NewWriter].
//
// # Resources
//
// [Secrets], [Writer] and [Registry] own memory of the C library. Call Close when done; a
// finalizer frees it if Close was never called, but only Writer.Close writes the bytes a
// writer holds back, so always Close writers. Each Writer holds its own reference to the
// secrets it applies: closing a Secrets or a Registry does not affect writers made from it.
//
// # Concurrency
//
// A Secrets and a Registry may be used by any number of goroutines at once. A Writer is one
// stream: use it from one goroutine at a time, as a bufio.Writer.
package logmask

/*
#cgo CFLAGS: -I${SRCDIR}/../../ffi/include
#cgo LDFLAGS: ${SRCDIR}/../../target/release/liblogmask_ffi.a -ldl -lpthread -lm
#include <stdlib.h>
#include "logmask.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"
	"unsafe"
)

// Code is the kind of an Error, one of the LOGMASK_ERR_* codes of the C library.
type Code int

// The error codes.
const (
	CodeNull            Code = C.LOGMASK_ERR_NULL
	CodeInvalidArgument Code = C.LOGMASK_ERR_INVALID_ARGUMENT
	CodeTooShort        Code = C.LOGMASK_ERR_TOO_SHORT
	CodeInReplacement   Code = C.LOGMASK_ERR_IN_REPLACEMENT
	CodeBadEncodings    Code = C.LOGMASK_ERR_BAD_ENCODINGS
	CodePanic           Code = C.LOGMASK_ERR_PANIC
)

// Error is a failure of the library. Its message names a secret by its origin ("the secret
// from env CI_JOB_TOKEN", "job 42 value 1") and its length, never by its value.
type Error struct {
	Code    Code
	Message string
}

func (e *Error) Error() string { return "logmask: " + e.Message }

// Is reports whether target is an *Error with the same Code, so that
// errors.Is(err, logmask.ErrTooShort) works.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// Sentinels for errors.Is.
var (
	ErrTooShort      = &Error{Code: CodeTooShort, Message: "a secret is shorter than the minimum length"}
	ErrInReplacement = &Error{Code: CodeInReplacement, Message: "a secret occurs inside the replacement text"}
	ErrBadEncodings  = &Error{Code: CodeBadEncodings, Message: "unknown encoding"}
)

// ErrClosed is returned by a Writer or Registry used after Close.
var ErrClosed = errors.New("logmask: use after Close")

// takeError converts a status and an optional C error into a Go error, freeing the C error.
func takeError(status C.int, cerr *C.logmask_error) error {
	if cerr != nil {
		defer C.logmask_error_free(cerr)
	}
	if status == C.LOGMASK_OK {
		return nil
	}
	msg := fmt.Sprintf("error %d", int(status))
	switch Code(status) {
	case CodePanic:
		msg = "internal error: a panic in logmask was caught; the stream cannot be trusted"
	case CodeNull:
		msg = "a required argument was NULL"
	}
	if cerr != nil {
		msg = C.GoString(C.logmask_error_message(cerr))
	}
	return &Error{Code: Code(status), Message: msg}
}

// Encoding selects the encoded variants masked along with each secret.
type Encoding uint32

// The encodings; combine them with |.
const (
	EncodingNone          Encoding = C.LOGMASK_ENCODING_NONE
	EncodingBase64        Encoding = C.LOGMASK_ENCODING_BASE64         // stable parts of base64, standard and URL-safe
	EncodingURL           Encoding = C.LOGMASK_ENCODING_URL            // percent-encoded
	EncodingJSON          Encoding = C.LOGMASK_ENCODING_JSON           // JSON-string-escaped
	EncodingShell         Encoding = C.LOGMASK_ENCODING_SHELL          // shell-quoted: set -x traces, printf %q
	EncodingJSONEscapes   Encoding = C.LOGMASK_ENCODING_JSON_ESCAPES   // other JSON escapes (backslash-u for non-ASCII, ...)
	EncodingForm          Encoding = C.LOGMASK_ENCODING_FORM           // form encoding: + for a space
	EncodingBase64Wrapped Encoding = C.LOGMASK_ENCODING_BASE64_WRAPPED // base64 wrapped at 64 or 76 columns
	EncodingPercentMixed  Encoding = C.LOGMASK_ENCODING_PERCENT_MIXED  // percent-encoding, mixed-case hex
	EncodingAll           Encoding = C.LOGMASK_ENCODING_ALL            // every encoding
	EncodingDefault       Encoding = C.LOGMASK_ENCODING_DEFAULT        // the default: all but EncodingBase64Wrapped
)

// Version is the version of the linked C library.
func Version() string { return C.GoString(C.logmask_version()) }

// cbytes returns a pointer to b's first byte for the duration of a cgo call (nil if empty).
// Go memory without Go pointers may be passed to C, which does not keep it.
func cbytes(b []byte) *C.uint8_t {
	if len(b) == 0 {
		return nil
	}
	return (*C.uint8_t)(unsafe.Pointer(&b[0]))
}

// Builder collects secrets and settings for a Secrets set or a Registry's base. It is plain Go
// data (no C memory); the zero value is not valid, use NewBuilder. Methods return the builder
// for chaining.
type Builder struct {
	secrets     []entry
	minLen      *int
	replacement *string
	encodings   *Encoding
	list        *string
	shapes      *bool
}

type entry struct {
	origin *string // nil: named by position
	value  []byte
	lines  bool
}

// NewBuilder returns a builder with the defaults: minimum length 8, replacement "[MASKED]",
// every encoding, token shapes on, no secrets.
func NewBuilder() *Builder { return &Builder{} }

// Add adds one secret (copied); errors name it by origin, such as "env CI_JOB_TOKEN". A
// secret with line breaks is masked whole and also line by line.
func (b *Builder) Add(origin string, value []byte) *Builder {
	b.secrets = append(b.secrets, entry{origin: &origin, value: append([]byte(nil), value...)})
	return b
}

// AddUnnamed adds one secret that errors name by its position ("secret #3").
func (b *Builder) AddUnnamed(value []byte) *Builder {
	b.secrets = append(b.secrets, entry{value: append([]byte(nil), value...)})
	return b
}

// AddLines adds each line of text as a secret, as a secrets file holds them: "\n" or "\r\n"
// ends a line and is not part of it, blank lines are skipped, every other byte is kept.
// Errors name a secret as "<origin> line <n>".
func (b *Builder) AddLines(origin string, text []byte) *Builder {
	b.secrets = append(b.secrets, entry{origin: &origin, value: append([]byte(nil), text...), lines: true})
	return b
}

// MinLen sets the shortest secret accepted, in bytes (default 8).
func (b *Builder) MinLen(n int) *Builder {
	b.minLen = &n
	return b
}

// Replacement sets the text that replaces each masked range (default "[MASKED]").
func (b *Builder) Replacement(text string) *Builder {
	b.replacement = &text
	return b
}

// Encodings selects the encoded variants (default EncodingDefault).
func (b *Builder) Encodings(e Encoding) *Builder {
	b.encodings = &e
	b.list = nil
	return b
}

// EncodingsList selects the encoded variants as the logmask command line takes them: a comma
// list of base64, url, json, or "none". A list that does not parse is an error, and the
// builder is unchanged then.
func (b *Builder) EncodingsList(list string) error {
	cb := C.logmask_builder_new()
	defer C.logmask_builder_free(cb)
	if err := applyList(cb, list); err != nil {
		return err
	}
	b.list = &list
	b.encodings = nil
	return nil
}

func applyList(cb *C.logmask_builder, list string) error {
	cs := C.CString(list)
	defer C.free(unsafe.Pointer(cs))
	var cerr *C.logmask_error
	return takeError(C.logmask_builder_encodings_parse(cb, cs, &cerr), cerr)
}

// TokenShapes sets whether well-known token shapes (glpat-..., ghp_..., AKIA...) are masked
// even when never added (default true).
func (b *Builder) TokenShapes(on bool) *Builder {
	b.shapes = &on
	return b
}

// cBuilder makes the C builder; the caller frees it.
func (b *Builder) cBuilder() (*C.logmask_builder, error) {
	cb := C.logmask_builder_new()
	if cb == nil {
		return nil, &Error{Code: CodePanic, Message: "builder_new failed"}
	}
	err := b.fill(cb)
	if err != nil {
		C.logmask_builder_free(cb)
		return nil, err
	}
	return cb, nil
}

func (b *Builder) fill(cb *C.logmask_builder) error {
	if b.minLen != nil {
		n := *b.minLen
		if n < 0 {
			n = 0
		}
		C.logmask_builder_min_len(cb, C.size_t(n))
	}
	if b.replacement != nil {
		r := []byte(*b.replacement)
		C.logmask_builder_replacement(cb, cbytes(r), C.size_t(len(r)))
	}
	if b.encodings != nil {
		var cerr *C.logmask_error
		if err := takeError(C.logmask_builder_encodings(cb, C.uint32_t(*b.encodings), &cerr), cerr); err != nil {
			return err
		}
	}
	if b.list != nil {
		if err := applyList(cb, *b.list); err != nil {
			return err
		}
	}
	if b.shapes != nil {
		C.logmask_builder_token_shapes(cb, C.bool(*b.shapes))
	}
	for _, e := range b.secrets {
		var origin *C.char
		if e.origin != nil {
			origin = C.CString(*e.origin)
		}
		var cerr *C.logmask_error
		var status C.int
		if e.lines {
			status = C.logmask_builder_add_lines(cb, origin, cbytes(e.value), C.size_t(len(e.value)), &cerr)
		} else {
			status = C.logmask_builder_add(cb, origin, cbytes(e.value), C.size_t(len(e.value)), &cerr)
		}
		C.free(unsafe.Pointer(origin))
		if err := takeError(status, cerr); err != nil {
			return err
		}
	}
	return nil
}

// Build validates and compiles the secrets. The builder can be changed and built again.
//
// Errors: a secret shorter than the minimum length (errors.Is(err, ErrTooShort)), or one that
// occurs inside the replacement text, as given or in a selected encoding (ErrInReplacement).
// The message names the secret's origin, never its value.
func (b *Builder) Build() (*Secrets, error) {
	cb, err := b.cBuilder()
	if err != nil {
		return nil, err
	}
	defer C.logmask_builder_free(cb)
	var out *C.logmask_secrets
	var cerr *C.logmask_error
	if err := takeError(C.logmask_builder_build(cb, &out, &cerr), cerr); err != nil {
		return nil, err
	}
	return newSecrets(out), nil
}

// Secret is one secret value with the name its errors use.
type Secret struct {
	Origin string
	Value  []byte
}

// New compiles secrets with the default settings.
func New(secrets ...Secret) (*Secrets, error) {
	b := NewBuilder()
	for _, s := range secrets {
		b.Add(s.Origin, s.Value)
	}
	return b.Build()
}

// Secrets is an immutable compiled set of secrets, shared by any number of writers and
// goroutines.
type Secrets struct {
	mu sync.RWMutex
	p  *C.logmask_secrets
}

func newSecrets(p *C.logmask_secrets) *Secrets {
	s := &Secrets{p: p}
	runtime.SetFinalizer(s, (*Secrets).Close)
	return s
}

// Close releases the set; writers made from it keep their own reference. Closing twice is
// harmless; NewWriter panics on a closed set.
func (s *Secrets) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.p != nil {
		C.logmask_secrets_free(s.p)
		s.p = nil
		runtime.SetFinalizer(s, nil)
	}
	return nil
}

// Len is the number of distinct byte strings masked: the secrets, the lines of multi-line
// ones and their encoded variants (token shapes are not counted).
func (s *Secrets) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return int(C.logmask_secrets_len(s.p))
}

// MaxLen is the length of the longest byte string a stream must see whole; a writer holds
// back fewer bytes.
func (s *Secrets) MaxLen() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return int(C.logmask_secrets_max_len(s.p))
}

// Registry holds the secrets of the jobs running now: a base set (secrets masked at all times,
// and the settings) and each active job's secrets, by job id. Every writer made from it masks
// the base and every active job's secrets, and applies each change from its next Write on
// (bytes it still holds back are judged against the new set). All methods may be called from
// any goroutine, concurrently with the writers.
type Registry struct {
	mu sync.RWMutex
	p  *C.logmask_registry
}

// NewRegistry returns a registry with no jobs; base (nil: the defaults) gives the settings and
// the secrets masked at all times.
func NewRegistry(base *Builder) (*Registry, error) {
	if base == nil {
		base = NewBuilder()
	}
	cb, err := base.cBuilder()
	if err != nil {
		return nil, err
	}
	defer C.logmask_builder_free(cb)
	var out *C.logmask_registry
	var cerr *C.logmask_error
	if err := takeError(C.logmask_registry_new(cb, &out, &cerr), cerr); err != nil {
		return nil, err
	}
	r := &Registry{p: out}
	runtime.SetFinalizer(r, (*Registry).Close)
	return r, nil
}

// Add makes secrets active for job, replacing the job's earlier secrets if it was active. It
// compiles the new union in the calling goroutine and returns once writers see it. Errors name
// a secret as "job <job> value <n>"; nothing changes then.
func (r *Registry) Add(job string, secrets ...[]byte) error {
	var all []byte
	lens := make([]C.size_t, len(secrets))
	for i, s := range secrets {
		all = append(all, s...)
		lens[i] = C.size_t(len(s))
	}
	var plens *C.size_t
	if len(lens) > 0 {
		plens = &lens[0]
	}
	cjob := C.CString(job)
	defer C.free(unsafe.Pointer(cjob))
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.p == nil {
		return ErrClosed
	}
	var cerr *C.logmask_error
	return takeError(C.logmask_registry_add(r.p, cjob, cbytes(all), plens, C.size_t(len(secrets)), &cerr), cerr)
}

// Remove ends job: its secrets are not masked from each writer's next Write on (output already
// written stays masked). It reports whether job was active.
func (r *Registry) Remove(job string) bool {
	cjob := C.CString(job)
	defer C.free(unsafe.Pointer(cjob))
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.p == nil {
		return false
	}
	var removed C.bool
	C.logmask_registry_remove(r.p, cjob, &removed)
	return bool(removed)
}

// NewWriter returns a writer onto w that follows the registry. It panics if r is closed.
func (r *Registry) NewWriter(w io.Writer) *Writer {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.p == nil {
		panic("logmask: Registry.NewWriter after Close")
	}
	return newWriter(w, C.logmask_registry_masker(r.p))
}

// Close frees the registry; writers made from it keep applying the last set it published.
func (r *Registry) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.p != nil {
		C.logmask_registry_free(r.p)
		r.p = nil
		runtime.SetFinalizer(r, nil)
	}
	return nil
}
