package logmask

/*
#include "logmask.h"
*/
import "C"

import (
	"io"
	"runtime"
	"unsafe"
)

// maxFeed is the most input given to the C masker in one call: a larger Write is fed in
// pieces, so the masker's output buffer stays small however large the writes are.
const maxFeed = 64 << 10

// Writer masks everything written through it before passing it to the inner writer.
//
// Each Write passes on, before it returns, everything that no later byte can change: only the
// few bytes that could still begin a secret are held back (fewer than Secrets.MaxLen), so
// there is nothing to flush; Close writes them at the end of the stream. The output is the
// same however the stream is split into writes.
//
// The slices given to the inner writer point into memory of the C library that is reused by
// the next Write: the inner writer must not keep them after its Write returns, as io.Writer
// requires.
//
// An error of the inner writer (or a short write) is returned and kept: every later Write
// returns it too, since the bytes of that Write that were not written cannot be re-sent in
// order. A Writer is not safe for concurrent use; Close it when the stream ends (it does not
// close the inner writer). A finalizer frees the C memory of a writer that was never closed,
// but does not write its held-back bytes.
type Writer struct {
	w   io.Writer
	m   *C.logmask_masker
	err error
}

var _ io.WriteCloser = (*Writer)(nil)

// NewWriter returns a writer that masks s's secrets onto w. It panics if s is closed.
func NewWriter(w io.Writer, s *Secrets) *Writer {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.p == nil {
		panic("logmask: NewWriter with a closed Secrets")
	}
	return newWriter(w, C.logmask_masker_new(s.p))
}

func newWriter(w io.Writer, m *C.logmask_masker) *Writer {
	if m == nil {
		panic("logmask: the C library could not make a masker")
	}
	lw := &Writer{w: w, m: m}
	runtime.SetFinalizer(lw, func(lw *Writer) { C.logmask_masker_free(lw.m) })
	return lw
}

// Write masks p onto the inner writer. It returns len(p) unless the inner writer failed.
func (lw *Writer) Write(p []byte) (int, error) {
	if lw.err != nil {
		return 0, lw.err
	}
	if lw.m == nil {
		return 0, ErrClosed
	}
	n := 0
	for n < len(p) {
		chunk := p[n:]
		if len(chunk) > maxFeed {
			chunk = chunk[:maxFeed]
		}
		var out *C.uint8_t
		var outLen C.size_t
		status := C.logmask_masker_mask_buf(lw.m, cbytes(chunk), C.size_t(len(chunk)), &out, &outLen)
		if status != C.LOGMASK_OK {
			lw.err = takeError(status, nil)
			return n, lw.err
		}
		n += len(chunk)
		if err := lw.emit(out, outLen); err != nil {
			return n, err
		}
	}
	runtime.KeepAlive(lw)
	return n, nil
}

// emit writes the masker's output to the inner writer, keeping an error.
func (lw *Writer) emit(out *C.uint8_t, outLen C.size_t) error {
	if outLen == 0 {
		return nil
	}
	piece := unsafe.Slice((*byte)(unsafe.Pointer(out)), int(outLen))
	written, err := lw.w.Write(piece)
	if err == nil && written < len(piece) {
		err = io.ErrShortWrite
	}
	if err != nil {
		lw.err = err
	}
	return err
}

// HeldBack is the number of bytes written and not yet passed on: a possible beginning of a
// secret, waiting for the next Write or Close.
func (lw *Writer) HeldBack() int {
	if lw.m == nil {
		return 0
	}
	n := int(C.logmask_masker_held_back(lw.m))
	runtime.KeepAlive(lw)
	return n
}

// Close ends the stream: it writes the held-back bytes (a beginning of a secret that never
// completed is plain text) and frees the C memory. It returns the inner writer's error, or
// one kept from an earlier Write. Closing twice returns nil the second time.
func (lw *Writer) Close() error {
	if lw.m == nil {
		return nil
	}
	defer func() {
		C.logmask_masker_free(lw.m)
		lw.m = nil
		runtime.SetFinalizer(lw, nil)
	}()
	if lw.err != nil {
		return lw.err
	}
	var out *C.uint8_t
	var outLen C.size_t
	if status := C.logmask_masker_finish_buf(lw.m, &out, &outLen); status != C.LOGMASK_OK {
		lw.err = takeError(status, nil)
		return lw.err
	}
	return lw.emit(out, outLen)
}
