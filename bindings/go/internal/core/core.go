// Package core times the Rust core alone, through the C ABI in a loop written in C (no Go
// code per chunk), so that the benchmarks compare the Go writer with the core in the same
// process, on the same corpus, at the same moment.
package core

/*
#cgo CFLAGS: -I${SRCDIR}/../../../../ffi/include
#cgo LDFLAGS: ${SRCDIR}/../../../../target/release/liblogmask_ffi.a -ldl -lpthread -lm
#include "logmask.h"

// Masks log in chunks of `chunk` bytes with a new masker of s; returns the output length.
static size_t mask_all(const logmask_secrets *s, const uint8_t *log, size_t len, size_t chunk) {
	logmask_masker *m = logmask_masker_new(s);
	const uint8_t *out;
	size_t out_len, total = 0;
	for (size_t i = 0; i < len; i += chunk) {
		size_t n = len - i < chunk ? len - i : chunk;
		logmask_masker_mask_buf(m, log + i, n, &out, &out_len);
		total += out_len;
	}
	logmask_masker_finish_buf(m, &out, &out_len);
	total += out_len;
	logmask_masker_free(m);
	return total;
}
*/
import "C"

import (
	"errors"
	"unsafe"
)

// Core is a compiled set with the default settings.
type Core struct{ s *C.logmask_secrets }

// New compiles each line of lines as a secret.
func New(lines []byte) (*Core, error) {
	b := C.logmask_builder_new()
	defer C.logmask_builder_free(b)
	if len(lines) > 0 {
		C.logmask_builder_add_lines(b, nil, (*C.uint8_t)(unsafe.Pointer(&lines[0])), C.size_t(len(lines)), nil)
	}
	var s *C.logmask_secrets
	if C.logmask_builder_build(b, &s, nil) != C.LOGMASK_OK {
		return nil, errors.New("the set does not build")
	}
	return &Core{s}, nil
}

// MaskAll masks log in chunks of chunk bytes, in C; it returns the output length.
func (c *Core) MaskAll(log []byte, chunk int) int {
	if len(log) == 0 {
		return 0
	}
	return int(C.mask_all(c.s, (*C.uint8_t)(unsafe.Pointer(&log[0])), C.size_t(len(log)), C.size_t(chunk)))
}

// Close frees the set.
func (c *Core) Close() { C.logmask_secrets_free(c.s) }
