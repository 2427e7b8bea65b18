//! The C ABI of logmask: secret sets, per-stream maskers and a registry of job tokens.
//!
//! The header `ffi/include/logmask.h` declares these functions and states, for each one,
//! who owns what and which threads may call it; it is the reference for C and cgo callers.
//! This crate builds as a static library (`liblogmask_ffi.a`, linked by the Go package in
//! `bindings/go/` and by the C test), a dynamic library and an rlib (its own Rust tests call
//! the same functions).
//!
//! Every function catches panics (none crosses the boundary: a panic becomes
//! [`LOGMASK_ERR_PANIC`]), checks its pointers for NULL, and reports failures by a status
//! code and, where a function takes one, a [`logmask_error`] whose message never contains
//! a secret's value (it names the secret by its origin, as [`logmask::Error`] does).
#![deny(missing_docs)]
#![allow(non_camel_case_types)]

use std::ffi::{c_char, c_int, c_void, CStr, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;
use std::slice;
use std::sync::Arc;

use logmask::{Encodings, Masker, Registry, Secrets, SecretsBuilder};

/// Success.
pub const LOGMASK_OK: c_int = 0;
/// A required pointer argument was NULL.
pub const LOGMASK_ERR_NULL: c_int = 1;
/// An argument was invalid: unknown encoding bits, a name that is not UTF-8 or holds NUL.
pub const LOGMASK_ERR_INVALID_ARGUMENT: c_int = 2;
/// A secret is shorter than the minimum length.
pub const LOGMASK_ERR_TOO_SHORT: c_int = 3;
/// A secret, or one of its encoded forms, occurs inside the replacement text.
pub const LOGMASK_ERR_IN_REPLACEMENT: c_int = 4;
/// A list of encodings could not be parsed.
pub const LOGMASK_ERR_BAD_ENCODINGS: c_int = 5;
/// A panic inside the library was caught; a masker that panicked stays unusable.
pub const LOGMASK_ERR_PANIC: c_int = 6;

/// The base64 variants (standard and URL-safe alphabets, three alignments).
pub const LOGMASK_ENCODING_BASE64: u32 = 1;
/// The percent-encoded variants.
pub const LOGMASK_ENCODING_URL: u32 = 2;
/// The JSON-string-escaped variant.
pub const LOGMASK_ENCODING_JSON: u32 = 4;
/// The shell-quoted variants (`set -x` traces, `printf %q`).
pub const LOGMASK_ENCODING_SHELL: u32 = 8;
/// The other JSON escapes of common encoders (`\uXXXX`, `\/`, `\u003c`, upper-case hex).
pub const LOGMASK_ENCODING_JSON_ESCAPES: u32 = 16;
/// Form encoding (`+` for a space).
pub const LOGMASK_ENCODING_FORM: u32 = 32;
/// The secrets and their variants in base64 wrapped at 64 or 76 columns.
pub const LOGMASK_ENCODING_BASE64_WRAPPED: u32 = 64;
/// The percent-encoded variants with mixed-case hex in one value.
pub const LOGMASK_ENCODING_PERCENT_MIXED: u32 = 128;
/// Every encoded variant.
pub const LOGMASK_ENCODING_ALL: u32 = 255;
/// The default: every encoded variant but `LOGMASK_ENCODING_BASE64_WRAPPED`.
pub const LOGMASK_ENCODING_DEFAULT: u32 = 191;

/// The output callback: receives the masked output in order, one piece at a time.
pub type logmask_write_fn =
    Option<unsafe extern "C" fn(ctx: *mut c_void, ptr: *const u8, len: usize)>;

/// A failure: a status code and a message that never holds a secret's value.
#[derive(Debug)]
pub struct logmask_error {
    code: c_int,
    message: CString,
}

/// A builder of secret sets (a [`SecretsBuilder`]).
#[derive(Debug, Default)]
pub struct logmask_builder {
    inner: SecretsBuilder,
}

/// A compiled, immutable secret set, shared by reference counting.
#[derive(Debug)]
pub struct logmask_secrets {
    inner: Arc<Secrets>,
}

/// The masker of one stream, with the buffer of the `_buf` functions.
pub struct logmask_masker {
    inner: Masker,
    /// The output of the last `_buf` call; cleared at the next call.
    buf: Vec<u8>,
    /// A panic left `inner` in an unknown state: every later call fails.
    poisoned: bool,
}

impl std::fmt::Debug for logmask_masker {
    /// The state, not the bytes: neither the held-back input nor the last output is shown.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("logmask_masker")
            .field("held_back", &self.inner.held_back())
            .field("buf_len", &self.buf.len())
            .field("poisoned", &self.poisoned)
            .finish_non_exhaustive()
    }
}

/// The active job tokens (a [`Registry`]).
#[derive(Debug)]
pub struct logmask_registry {
    inner: Registry,
}

/// The capacity the `_buf` functions keep between calls; a larger buffer is shrunk to it.
const BUF_KEEP: usize = 1 << 20;

/// A failure inside a function, before it becomes a code and an optional `logmask_error`.
struct Failure {
    code: c_int,
    message: String,
}

impl Failure {
    fn null(what: &str) -> Failure {
        Failure {
            code: LOGMASK_ERR_NULL,
            message: format!("{what} is NULL"),
        }
    }

    fn invalid(message: String) -> Failure {
        Failure {
            code: LOGMASK_ERR_INVALID_ARGUMENT,
            message,
        }
    }
}

impl From<logmask::Error> for Failure {
    fn from(err: logmask::Error) -> Failure {
        let code = if err.is_too_short() {
            LOGMASK_ERR_TOO_SHORT
        } else if err.is_in_replacement() {
            LOGMASK_ERR_IN_REPLACEMENT
        } else if err.is_bad_encodings() {
            LOGMASK_ERR_BAD_ENCODINGS
        } else {
            LOGMASK_ERR_INVALID_ARGUMENT
        };
        // `logmask::Error`'s Display names a secret by its origin, never by its value.
        Failure {
            code,
            message: err.to_string(),
        }
    }
}

/// Runs `f`, catching a panic, and reports its failure through `err` (if not NULL).
///
/// # Safety
///
/// `err` is NULL or valid for writes.
unsafe fn run(err: *mut *mut logmask_error, f: impl FnOnce() -> Result<(), Failure>) -> c_int {
    if !err.is_null() {
        *err = ptr::null_mut();
    }
    let failure = match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(())) => return LOGMASK_OK,
        Ok(Err(failure)) => failure,
        Err(_) => Failure {
            code: LOGMASK_ERR_PANIC,
            message: "internal error: a panic in logmask was caught".into(),
        },
    };
    if !err.is_null() {
        // The messages are made here or by `logmask::Error`; neither holds a NUL byte, but a
        // caller's origin name could, so any NUL is dropped rather than failing.
        let message = CString::new(failure.message.replace('\0', ""))
            .unwrap_or_else(|_| CString::from(c"error"));
        *err = Box::into_raw(Box::new(logmask_error {
            code: failure.code,
            message,
        }));
    }
    failure.code
}

/// Runs `f` that returns a pointer, catching a panic: NULL then.
fn run_ptr<T>(f: impl FnOnce() -> *mut T) -> *mut T {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or(ptr::null_mut())
}

/// `len` bytes at `ptr`; NULL is allowed when `len` is 0.
///
/// # Safety
///
/// `ptr` is NULL with `len == 0`, or valid for reads of `len` bytes.
unsafe fn bytes<'a>(ptr: *const u8, len: usize, what: &str) -> Result<&'a [u8], Failure> {
    if len == 0 {
        Ok(&[])
    } else if ptr.is_null() {
        Err(Failure::null(what))
    } else {
        Ok(slice::from_raw_parts(ptr, len))
    }
}

/// A NUL-terminated UTF-8 string.
///
/// # Safety
///
/// `s` is NULL or a valid NUL-terminated string.
unsafe fn text<'a>(s: *const c_char, what: &str) -> Result<&'a str, Failure> {
    if s.is_null() {
        return Err(Failure::null(what));
    }
    CStr::from_ptr(s)
        .to_str()
        .map_err(|_| Failure::invalid(format!("{what} is not UTF-8")))
}

/// # Safety
///
/// `p` is NULL or a valid pointer to a live `T` that no other thread mutates.
unsafe fn get<'a, T>(p: *const T, what: &str) -> Result<&'a T, Failure> {
    p.as_ref().ok_or_else(|| Failure::null(what))
}

/// # Safety
///
/// `p` is NULL or a valid pointer to a live `T` that no other thread uses.
unsafe fn get_mut<'a, T>(p: *mut T, what: &str) -> Result<&'a mut T, Failure> {
    p.as_mut().ok_or_else(|| Failure::null(what))
}

fn encodings_from_bits(bits: u32) -> Option<Encodings> {
    Encodings::from_bits(bits)
}

// ---------------------------------------------------------------------------------------
// Errors

/// The status code of `err` (one of the `LOGMASK_ERR_*` codes); 0 for NULL.
///
/// # Safety
///
/// `err` is NULL or a live error from this library.
#[no_mangle]
pub unsafe extern "C" fn logmask_error_code(err: *const logmask_error) -> c_int {
    err.as_ref().map_or(LOGMASK_OK, |e| e.code)
}

/// The message of `err`, NUL-terminated UTF-8, valid until `err` is freed; "" for NULL.
///
/// # Safety
///
/// `err` is NULL or a live error from this library.
#[no_mangle]
pub unsafe extern "C" fn logmask_error_message(err: *const logmask_error) -> *const c_char {
    err.as_ref().map_or(c"".as_ptr(), |e| e.message.as_ptr())
}

/// Frees `err`; NULL is ignored.
///
/// # Safety
///
/// `err` is NULL or a live error from this library, not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn logmask_error_free(err: *mut logmask_error) {
    if !err.is_null() {
        drop(Box::from_raw(err));
    }
}

/// The version of this library, a static NUL-terminated string.
#[no_mangle]
pub extern "C" fn logmask_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

// ---------------------------------------------------------------------------------------
// Builder

/// A new builder with the defaults: minimum length 8, replacement `[MASKED]`, every
/// encoding, token shapes on, no secrets. NULL only if a panic was caught.
#[no_mangle]
pub extern "C" fn logmask_builder_new() -> *mut logmask_builder {
    run_ptr(|| Box::into_raw(Box::default()))
}

/// Frees `b`; NULL is ignored.
///
/// # Safety
///
/// `b` is NULL or a live builder, not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn logmask_builder_free(b: *mut logmask_builder) {
    if !b.is_null() {
        let _ = catch_unwind(AssertUnwindSafe(|| drop(Box::from_raw(b))));
    }
}

/// Adds one secret of `len` bytes; errors name it by `origin` (NULL: by its position).
///
/// # Safety
///
/// `b` a live builder used by no other thread; `value` valid for `len` bytes (NULL if 0);
/// `origin` NULL or NUL-terminated; `err` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn logmask_builder_add(
    b: *mut logmask_builder,
    origin: *const c_char,
    value: *const u8,
    len: usize,
    err: *mut *mut logmask_error,
) -> c_int {
    run(err, || {
        let b = get_mut(b, "builder")?;
        let value = bytes(value, len, "value")?;
        if origin.is_null() {
            b.inner.add(value);
        } else {
            b.inner.add_named(text(origin, "origin")?, value);
        }
        Ok(())
    })
}

/// Adds each line of `text` as a secret, as a secrets file holds them; errors name a
/// secret as `{origin} line {n}` (NULL origin: `input line {n}`).
///
/// # Safety
///
/// As [`logmask_builder_add`].
#[no_mangle]
pub unsafe extern "C" fn logmask_builder_add_lines(
    b: *mut logmask_builder,
    origin: *const c_char,
    lines: *const u8,
    len: usize,
    err: *mut *mut logmask_error,
) -> c_int {
    run(err, || {
        let b = get_mut(b, "builder")?;
        let lines = bytes(lines, len, "text")?;
        if origin.is_null() {
            b.inner.add_lines(lines);
        } else {
            b.inner.add_lines_named(text(origin, "origin")?, lines);
        }
        Ok(())
    })
}

/// Sets the shortest secret accepted (0 counts as 1).
///
/// # Safety
///
/// `b` a live builder used by no other thread.
#[no_mangle]
pub unsafe extern "C" fn logmask_builder_min_len(b: *mut logmask_builder, min_len: usize) -> c_int {
    run(ptr::null_mut(), || {
        get_mut(b, "builder")?.inner.min_len(min_len);
        Ok(())
    })
}

/// Sets the replacement text (`len` bytes, any bytes).
///
/// # Safety
///
/// `b` a live builder used by no other thread; `text` valid for `len` bytes (NULL if 0).
#[no_mangle]
pub unsafe extern "C" fn logmask_builder_replacement(
    b: *mut logmask_builder,
    text: *const u8,
    len: usize,
) -> c_int {
    run(ptr::null_mut(), || {
        let b = get_mut(b, "builder")?;
        b.inner.replacement(bytes(text, len, "replacement")?);
        Ok(())
    })
}

/// Selects the encoded variants: an OR of `LOGMASK_ENCODING_*` bits.
///
/// # Safety
///
/// `b` a live builder used by no other thread; `err` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn logmask_builder_encodings(
    b: *mut logmask_builder,
    bits: u32,
    err: *mut *mut logmask_error,
) -> c_int {
    run(err, || {
        let b = get_mut(b, "builder")?;
        let e = encodings_from_bits(bits)
            .ok_or_else(|| Failure::invalid(format!("unknown encoding bits {bits:#x}")))?;
        b.inner.encodings(e);
        Ok(())
    })
}

/// Selects the encoded variants by a list as the command line takes it: a comma list of
/// `base64`, `url`, `json`, or `none` alone.
///
/// # Safety
///
/// `b` a live builder used by no other thread; `list` NUL-terminated; `err` NULL or
/// writable.
#[no_mangle]
pub unsafe extern "C" fn logmask_builder_encodings_parse(
    b: *mut logmask_builder,
    list: *const c_char,
    err: *mut *mut logmask_error,
) -> c_int {
    run(err, || {
        let b = get_mut(b, "builder")?;
        let e: Encodings = text(list, "list")?.parse()?;
        b.inner.encodings(e);
        Ok(())
    })
}

/// Whether well-known token shapes are masked (default on).
///
/// # Safety
///
/// `b` a live builder used by no other thread.
#[no_mangle]
pub unsafe extern "C" fn logmask_builder_token_shapes(b: *mut logmask_builder, on: bool) -> c_int {
    run(ptr::null_mut(), || {
        get_mut(b, "builder")?.inner.token_shapes(on);
        Ok(())
    })
}

/// Whether structured credentials are masked without registration (default off).
///
/// # Safety
///
/// `b` a live builder used by no other thread.
#[no_mangle]
pub unsafe extern "C" fn logmask_builder_structured_credentials(
    b: *mut logmask_builder,
    on: bool,
) -> c_int {
    run(ptr::null_mut(), || {
        get_mut(b, "builder")?.inner.structured_credentials(on);
        Ok(())
    })
}

/// Validates and compiles the builder's secrets into `*out` (NULL on failure). The builder
/// is not consumed.
///
/// # Safety
///
/// `b` a live builder not mutated meanwhile; `out` writable; `err` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn logmask_builder_build(
    b: *const logmask_builder,
    out: *mut *mut logmask_secrets,
    err: *mut *mut logmask_error,
) -> c_int {
    if !out.is_null() {
        *out = ptr::null_mut();
    }
    run(err, || {
        let b = get(b, "builder")?;
        if out.is_null() {
            return Err(Failure::null("out"));
        }
        let secrets = b.inner.build()?;
        *out = Box::into_raw(Box::new(logmask_secrets {
            inner: Arc::new(secrets),
        }));
        Ok(())
    })
}

// ---------------------------------------------------------------------------------------
// Secrets

/// Releases the caller's reference to `s`; maskers made from it keep theirs. NULL is
/// ignored.
///
/// # Safety
///
/// `s` NULL or a live set, not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn logmask_secrets_free(s: *mut logmask_secrets) {
    if !s.is_null() {
        let _ = catch_unwind(AssertUnwindSafe(|| drop(Box::from_raw(s))));
    }
}

/// The number of distinct byte strings masked (secrets, their lines and encoded forms);
/// 0 for NULL.
///
/// # Safety
///
/// `s` NULL or a live set.
#[no_mangle]
pub unsafe extern "C" fn logmask_secrets_len(s: *const logmask_secrets) -> usize {
    s.as_ref().map_or(0, |s| s.inner.len())
}

/// The longest byte string a stream must see whole; a masker holds back fewer bytes. 0 for
/// NULL.
///
/// # Safety
///
/// `s` NULL or a live set.
#[no_mangle]
pub unsafe extern "C" fn logmask_secrets_max_len(s: *const logmask_secrets) -> usize {
    s.as_ref().map_or(0, |s| s.inner.max_len())
}

// ---------------------------------------------------------------------------------------
// Masker

fn new_masker(inner: Masker) -> *mut logmask_masker {
    Box::into_raw(Box::new(logmask_masker {
        inner,
        buf: Vec::new(),
        poisoned: false,
    }))
}

/// A masker for a new stream that applies `s`; NULL if `s` is NULL.
///
/// # Safety
///
/// `s` NULL or a live set.
#[no_mangle]
pub unsafe extern "C" fn logmask_masker_new(s: *const logmask_secrets) -> *mut logmask_masker {
    run_ptr(|| match s.as_ref() {
        Some(s) => new_masker(Masker::new(Arc::clone(&s.inner))),
        None => ptr::null_mut(),
    })
}

/// Frees `m` without emitting its held bytes (call a finish function first). NULL is
/// ignored.
///
/// # Safety
///
/// `m` NULL or a live masker, not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn logmask_masker_free(m: *mut logmask_masker) {
    if !m.is_null() {
        let _ = catch_unwind(AssertUnwindSafe(|| drop(Box::from_raw(m))));
    }
}

/// The number of input bytes accepted and not yet emitted; 0 for NULL.
///
/// # Safety
///
/// `m` NULL or a live masker used by no other thread.
#[no_mangle]
pub unsafe extern "C" fn logmask_masker_held_back(m: *const logmask_masker) -> usize {
    m.as_ref().map_or(0, |m| m.inner.held_back())
}

/// Runs `f` on the masker, poisoning it if `f` panics.
///
/// # Safety
///
/// `m` NULL or a live masker used by no other thread.
unsafe fn with_masker(m: *mut logmask_masker, f: impl FnOnce(&mut logmask_masker)) -> c_int {
    let Some(m) = m.as_mut() else {
        return LOGMASK_ERR_NULL;
    };
    if m.poisoned {
        return LOGMASK_ERR_PANIC;
    }
    m.poisoned = true;
    let status = run(ptr::null_mut(), || {
        f(m);
        Ok(())
    });
    m.poisoned = status == LOGMASK_ERR_PANIC;
    status
}

/// Emits `piece` through the C callback; empty pieces are skipped.
///
/// # Safety
///
/// `out` and `ctx` as the caller of `logmask_masker_mask` gave them.
unsafe fn call(
    out: unsafe extern "C" fn(*mut c_void, *const u8, usize),
    ctx: *mut c_void,
    piece: impl AsRef<[u8]>,
) {
    let piece = piece.as_ref();
    if !piece.is_empty() {
        out(ctx, piece.as_ptr(), piece.len());
    }
}

/// Accepts the next `len` bytes of the stream and emits, through `out(ctx, ptr, len)`, all
/// output that no later input can change.
///
/// # Safety
///
/// `m` a live masker used by no other thread; `input` valid for `len` bytes (NULL if 0);
/// `out` a function that does not unwind.
#[no_mangle]
pub unsafe extern "C" fn logmask_masker_mask(
    m: *mut logmask_masker,
    input: *const u8,
    len: usize,
    out: logmask_write_fn,
    ctx: *mut c_void,
) -> c_int {
    let (Ok(input), Some(out)) = (bytes(input, len, "input"), out) else {
        return LOGMASK_ERR_NULL;
    };
    with_masker(m, |m| m.inner.mask(input, |piece| call(out, ctx, piece)))
}

/// Ends the stream: emits the held-back tail through `out` and resets `m` for a new
/// stream.
///
/// # Safety
///
/// As [`logmask_masker_mask`].
#[no_mangle]
pub unsafe extern "C" fn logmask_masker_finish(
    m: *mut logmask_masker,
    out: logmask_write_fn,
    ctx: *mut c_void,
) -> c_int {
    let Some(out) = out else {
        return LOGMASK_ERR_NULL;
    };
    with_masker(m, |m| m.inner.finish(|piece| call(out, ctx, piece)))
}

/// Clears the output buffer for a new `_buf` call, shrinking it if it grew large.
fn reset_buf(buf: &mut Vec<u8>) {
    buf.clear();
    if buf.capacity() > BUF_KEEP {
        buf.shrink_to(BUF_KEEP);
    }
}

/// # Safety
///
/// `out_ptr` and `out_len` valid for writes.
unsafe fn report_buf(buf: &[u8], out_ptr: *mut *const u8, out_len: *mut usize) {
    *out_ptr = buf.as_ptr();
    *out_len = buf.len();
}

/// As [`logmask_masker_mask`], with the output copied into a buffer owned by the masker:
/// `*out_ptr` and `*out_len` describe it, valid until the next call on `m` or its free.
///
/// # Safety
///
/// `m` a live masker used by no other thread; `input` valid for `len` bytes (NULL if 0);
/// `out_ptr` and `out_len` writable.
#[no_mangle]
pub unsafe extern "C" fn logmask_masker_mask_buf(
    m: *mut logmask_masker,
    input: *const u8,
    len: usize,
    out_ptr: *mut *const u8,
    out_len: *mut usize,
) -> c_int {
    if out_ptr.is_null() || out_len.is_null() {
        return LOGMASK_ERR_NULL;
    }
    *out_ptr = ptr::null();
    *out_len = 0;
    let Ok(input) = bytes(input, len, "input") else {
        return LOGMASK_ERR_NULL;
    };
    with_masker(m, |m| {
        reset_buf(&mut m.buf);
        let buf = &mut m.buf;
        m.inner
            .mask(input, |piece| buf.extend_from_slice(piece.as_ref()));
        report_buf(buf, out_ptr, out_len);
    })
}

/// As [`logmask_masker_finish`], with the output in the masker's buffer as
/// [`logmask_masker_mask_buf`] gives it.
///
/// # Safety
///
/// As [`logmask_masker_mask_buf`].
#[no_mangle]
pub unsafe extern "C" fn logmask_masker_finish_buf(
    m: *mut logmask_masker,
    out_ptr: *mut *const u8,
    out_len: *mut usize,
) -> c_int {
    if out_ptr.is_null() || out_len.is_null() {
        return LOGMASK_ERR_NULL;
    }
    *out_ptr = ptr::null();
    *out_len = 0;
    with_masker(m, |m| {
        reset_buf(&mut m.buf);
        let buf = &mut m.buf;
        m.inner
            .finish(|piece| buf.extend_from_slice(piece.as_ref()));
        report_buf(buf, out_ptr, out_len);
    })
}

// ---------------------------------------------------------------------------------------
// Registry

/// A registry with no jobs into `*out` (NULL on failure); `base` (NULL: the defaults) gives
/// the settings and the secrets masked at all times. The builder is not consumed.
///
/// # Safety
///
/// `base` NULL or a live builder not mutated meanwhile; `out` writable; `err` NULL or
/// writable.
#[no_mangle]
pub unsafe extern "C" fn logmask_registry_new(
    base: *const logmask_builder,
    out: *mut *mut logmask_registry,
    err: *mut *mut logmask_error,
) -> c_int {
    if !out.is_null() {
        *out = ptr::null_mut();
    }
    run(err, || {
        if out.is_null() {
            return Err(Failure::null("out"));
        }
        let base = base
            .as_ref()
            .map_or_else(SecretsBuilder::new, |b| b.inner.clone());
        let inner = Registry::new(base)?;
        *out = Box::into_raw(Box::new(logmask_registry { inner }));
        Ok(())
    })
}

/// Frees `r`; maskers made from it keep applying the last set it published. NULL is
/// ignored.
///
/// # Safety
///
/// `r` NULL or a live registry that no other thread uses, not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn logmask_registry_free(r: *mut logmask_registry) {
    if !r.is_null() {
        let _ = catch_unwind(AssertUnwindSafe(|| drop(Box::from_raw(r))));
    }
}

/// Makes `n` secrets active for `job` (replacing its earlier ones): `values` holds them back
/// to back, `lens[i]` is the length of the i-th. Errors name a secret as
/// `job {job} value {i+1}`; nothing changes then.
///
/// # Safety
///
/// `r` a live registry; `job` NUL-terminated; `values` valid for the sum of `lens` bytes and
/// `lens` for `n` entries (either NULL if that is 0); `err` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn logmask_registry_add(
    r: *const logmask_registry,
    job: *const c_char,
    values: *const u8,
    lens: *const usize,
    n: usize,
    err: *mut *mut logmask_error,
) -> c_int {
    run(err, || {
        let r = get(r, "registry")?;
        let job = text(job, "job")?;
        let lens: &[usize] = if n == 0 {
            &[]
        } else if lens.is_null() {
            return Err(Failure::null("lens"));
        } else {
            slice::from_raw_parts(lens, n)
        };
        let total = lens
            .iter()
            .try_fold(0usize, |t, &l| t.checked_add(l))
            .ok_or_else(|| Failure::invalid("the lengths overflow".into()))?;
        let all = bytes(values, total, "values")?;
        let mut at = 0;
        let parts = lens.iter().map(|&l| {
            let part = &all[at..at + l];
            at += l;
            part
        });
        r.inner.add(job, parts)?;
        Ok(())
    })
}

/// Ends `job`: its secrets are not masked from each stream's next chunk on. `*removed` (if
/// not NULL) tells whether `job` was active.
///
/// # Safety
///
/// `r` a live registry; `job` NUL-terminated; `removed` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn logmask_registry_remove(
    r: *const logmask_registry,
    job: *const c_char,
    removed: *mut bool,
) -> c_int {
    run(ptr::null_mut(), || {
        let r = get(r, "registry")?;
        let was = r.inner.remove(text(job, "job")?);
        if !removed.is_null() {
            *removed = was;
        }
        Ok(())
    })
}

/// A masker for a new stream that applies the registry's current set at each chunk; NULL
/// if `r` is NULL.
///
/// # Safety
///
/// `r` NULL or a live registry.
#[no_mangle]
pub unsafe extern "C" fn logmask_registry_masker(
    r: *const logmask_registry,
) -> *mut logmask_masker {
    run_ptr(|| match r.as_ref() {
        Some(r) => new_masker(r.inner.masker()),
        None => ptr::null_mut(),
    })
}

/// The set the registry's streams apply now, as a new reference (free it with
/// `logmask_secrets_free`); NULL if `r` is NULL.
///
/// # Safety
///
/// `r` NULL or a live registry.
#[no_mangle]
pub unsafe extern "C" fn logmask_registry_secrets(
    r: *const logmask_registry,
) -> *mut logmask_secrets {
    run_ptr(|| match r.as_ref() {
        Some(r) => Box::into_raw(Box::new(logmask_secrets {
            inner: r.inner.secrets(),
        })),
        None => ptr::null_mut(),
    })
}

/// The handles that C callers share between threads must be `Send + Sync` where the header
/// says so; a compile-time check.
#[allow(dead_code)]
fn assert_thread_safety() {
    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>() {}
    send_sync::<logmask_secrets>();
    send_sync::<logmask_registry>();
    send::<logmask_masker>();
    send::<logmask_builder>();
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A panic inside a function becomes `LOGMASK_ERR_PANIC` with a fixed message (the panic's
    /// own message is not passed on: it could quote data).
    #[test]
    fn panic_becomes_an_error_code() {
        let mut err: *mut logmask_error = ptr::null_mut();
        let status = unsafe { run(&mut err, || panic!("secret-value-in-a-panic")) };
        assert_eq!(status, LOGMASK_ERR_PANIC);
        unsafe {
            assert_eq!(logmask_error_code(err), LOGMASK_ERR_PANIC);
            let msg = CStr::from_ptr(logmask_error_message(err)).to_str().unwrap();
            assert!(
                msg.contains("panic") && !msg.contains("secret-value"),
                "{msg}"
            );
            logmask_error_free(err);
        }
        assert_eq!(run_ptr::<u8>(|| panic!("x")), ptr::null_mut());
    }

    /// A masker whose call panicked refuses every later call.
    #[test]
    fn a_masker_that_panicked_is_poisoned() {
        let b = logmask_builder_new();
        let mut set = ptr::null_mut();
        unsafe {
            let v = b"long-enough-secret";
            assert_eq!(
                logmask_builder_add(b, ptr::null(), v.as_ptr(), v.len(), ptr::null_mut()),
                0
            );
            assert_eq!(logmask_builder_build(b, &mut set, ptr::null_mut()), 0);
            logmask_builder_free(b);
            let m = logmask_masker_new(set);
            assert_eq!(
                with_masker(m, |_| panic!("inside the masker")),
                LOGMASK_ERR_PANIC
            );
            let (mut out, mut len) = (ptr::null(), 0);
            assert_eq!(
                logmask_masker_mask_buf(m, v.as_ptr(), 4, &mut out, &mut len),
                LOGMASK_ERR_PANIC
            );
            assert_eq!(
                logmask_masker_finish_buf(m, &mut out, &mut len),
                LOGMASK_ERR_PANIC
            );
            assert!(out.is_null() && len == 0);
            logmask_masker_free(m);
            logmask_secrets_free(set);
        }
    }

    #[test]
    fn encoding_bits() {
        assert_eq!(encodings_from_bits(0), Some(Encodings::NONE));
        assert_eq!(
            encodings_from_bits(LOGMASK_ENCODING_ALL),
            Some(Encodings::ALL)
        );
        assert_eq!(
            encodings_from_bits(LOGMASK_ENCODING_URL | LOGMASK_ENCODING_JSON),
            Some(Encodings::URL | Encodings::JSON)
        );
        assert_eq!(
            encodings_from_bits(LOGMASK_ENCODING_SHELL | LOGMASK_ENCODING_FORM),
            Some(Encodings::SHELL | Encodings::FORM)
        );
        assert_eq!(
            encodings_from_bits(LOGMASK_ENCODING_JSON_ESCAPES),
            Some(Encodings::JSON_ESCAPES)
        );
        assert_eq!(
            encodings_from_bits(LOGMASK_ENCODING_DEFAULT),
            Some(Encodings::DEFAULT)
        );
        assert_eq!(
            encodings_from_bits(LOGMASK_ENCODING_BASE64_WRAPPED | LOGMASK_ENCODING_PERCENT_MIXED),
            Some(Encodings::BASE64_WRAPPED | Encodings::PERCENT_MIXED)
        );
        assert_eq!(encodings_from_bits(256), None);
    }
}
