/*
 * logmask.h - the C ABI of logmask: mask secrets in log streams.
 *
 * Every occurrence of every secret (overlapping ones included, merged) is replaced by the
 * replacement text, `[MASKED]` by default. A stream's output does not depend on how its
 * input is split into chunks; memory depends on the secrets, never on the input.
 *
 * Link: target/release/liblogmask_ffi.a (cargo build --release -p logmask-ffi) with
 *   -ldl -lpthread -lm, or the shared library liblogmask_ffi.so.
 *
 * Conventions, for every function below:
 *   - Handles are opaque. Each `*_new`/`*_build` result is owned by the caller and freed by
 *     the matching `*_free` exactly once; every `*_free` accepts NULL.
 *   - Functions returning `int` return LOGMASK_OK (0) or one of the LOGMASK_ERR_* codes.
 *     Those with a `logmask_error **err` parameter also store, when `err` is not NULL, NULL
 *     on success or a new error (free it with logmask_error_free) on failure. No message
 *     ever contains a secret's value: it names the secret by its origin ("the secret from
 *     env CI_JOB_TOKEN", "job 42 value 1") and its length.
 *   - Byte strings are (pointer, length) pairs and may hold any bytes, NUL included; the
 *     pointer may be NULL when the length is 0. Names (origins, job ids, encoding lists) are
 *     NUL-terminated UTF-8.
 *   - No Rust panic crosses this boundary: one is caught and returned as LOGMASK_ERR_PANIC.
 *   - The library keeps no pointer to an argument after the call returns (it copies).
 *
 * Thread safety, per handle:
 *   - logmask_builder: used by one thread at a time (it may move between threads).
 *   - logmask_secrets: immutable; any number of threads may use one set at once (to make
 *     maskers), and it may be freed while maskers made from it still run: they hold their
 *     own reference.
 *   - logmask_masker: one stream; used by one thread at a time (it may move between threads,
 *     e.g. between goroutines' OS threads). Different maskers are independent.
 *   - logmask_registry: every function may be called from any thread at once, concurrently
 *     with the maskers that follow it; only logmask_registry_free needs exclusive use.
 *   - logmask_error: owned by the thread that received it.
 */
#ifndef LOGMASK_H
#define LOGMASK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Status codes. */
#define LOGMASK_OK 0
#define LOGMASK_ERR_NULL 1             /* a required pointer argument was NULL */
#define LOGMASK_ERR_INVALID_ARGUMENT 2 /* unknown encoding bits, a name that is not UTF-8 */
#define LOGMASK_ERR_TOO_SHORT 3        /* a secret shorter than the minimum length */
#define LOGMASK_ERR_IN_REPLACEMENT 4   /* a secret (or an encoded form) inside the replacement */
#define LOGMASK_ERR_BAD_ENCODINGS 5    /* an encoding list that does not parse */
#define LOGMASK_ERR_PANIC 6            /* an internal error was caught; see logmask_masker_mask */

/* Encoded variants masked along with each secret (logmask_builder_encodings). */
#define LOGMASK_ENCODING_NONE 0u
#define LOGMASK_ENCODING_BASE64 1u /* stable parts of base64, standard and URL-safe */
#define LOGMASK_ENCODING_URL 2u    /* percent-encoded, upper- and lower-case hex */
#define LOGMASK_ENCODING_JSON 4u   /* JSON-string-escaped */
#define LOGMASK_ENCODING_SHELL 8u  /* shell-quoted: set -x traces, printf %q */
#define LOGMASK_ENCODING_JSON_ESCAPES 16u /* other JSON escapes: backslash-u for non-ASCII, ... */
#define LOGMASK_ENCODING_FORM 32u  /* form encoding: + for a space */
#define LOGMASK_ENCODING_BASE64_WRAPPED 64u /* base64 wrapped at 64 or 76 columns */
#define LOGMASK_ENCODING_PERCENT_MIXED 128u /* percent-encoding, mixed-case hex in one value */
#define LOGMASK_ENCODING_ALL 255u  /* every encoding */
#define LOGMASK_ENCODING_DEFAULT 191u /* the default: all but BASE64_WRAPPED */

typedef struct logmask_error logmask_error;
typedef struct logmask_builder logmask_builder;
typedef struct logmask_secrets logmask_secrets;
typedef struct logmask_masker logmask_masker;
typedef struct logmask_registry logmask_registry;

/*
 * The output callback of a masker. `ptr[0..len)` is the next piece of masked output, in
 * order, with len > 0; it is valid only during the call (copy it to keep it). It may point
 * into the input given to the same call (unchanged input is not copied). The callback must
 * not call functions on the same masker and must not unwind (longjmp, C++ exceptions).
 */
typedef void (*logmask_write_fn)(void *ctx, const uint8_t *ptr, size_t len);

/* ---- Errors ------------------------------------------------------------------------ */

/* The LOGMASK_ERR_* code of `err`; LOGMASK_OK for NULL. */
int logmask_error_code(const logmask_error *err);
/* The message of `err` (NUL-terminated UTF-8, owned by `err`, valid until it is freed); ""
 * for NULL. Never contains a secret's value. */
const char *logmask_error_message(const logmask_error *err);
/* Frees `err`. NULL is ignored. */
void logmask_error_free(logmask_error *err);

/* The library version, a static string. Any thread. */
const char *logmask_version(void);

/* ---- Builder: collects secrets and settings -------------------------------------------- */

/* A new builder: minimum length 8, replacement "[MASKED]", LOGMASK_ENCODING_DEFAULT, token
 * shapes on, no secrets. Free with logmask_builder_free. NULL only on an internal error. */
logmask_builder *logmask_builder_new(void);
/* Frees `b`. NULL is ignored. */
void logmask_builder_free(logmask_builder *b);

/* Adds one secret, the `len` bytes at `value` (copied). Errors at build time name it by
 * `origin` ("env CI_JOB_TOKEN"; copied) or, if `origin` is NULL, by its position ("secret
 * #0"). A secret with line breaks is masked whole and also line by line. Validation (length,
 * replacement) happens in logmask_builder_build. LOGMASK_ERR_NULL if `b` is NULL or `value`
 * is NULL with len > 0; LOGMASK_ERR_INVALID_ARGUMENT if `origin` is not UTF-8. */
int logmask_builder_add(logmask_builder *b, const char *origin, const uint8_t *value,
                        size_t len, logmask_error **err);
/* Adds each line of `text` as a secret, as a secrets file holds them: "\n" or "\r\n" ends a
 * line and is not part of it, blank lines are skipped, every other byte is kept. Errors name
 * a secret as "<origin> line <n>" ("input line <n>" if `origin` is NULL). */
int logmask_builder_add_lines(logmask_builder *b, const char *origin, const uint8_t *text,
                              size_t len, logmask_error **err);
/* The shortest secret accepted, in bytes (default 8; 0 counts as 1). */
int logmask_builder_min_len(logmask_builder *b, size_t min_len);
/* The text that replaces each masked range (default "[MASKED]"; copied; any bytes). */
int logmask_builder_replacement(logmask_builder *b, const uint8_t *text, size_t len);
/* The encoded variants: an OR of LOGMASK_ENCODING_* bits; LOGMASK_ERR_INVALID_ARGUMENT for
 * other bits (the builder is unchanged then). */
int logmask_builder_encodings(logmask_builder *b, uint32_t bits, logmask_error **err);
/* The encoded variants as the command line takes them: "base64,url,json", a subset, or
 * "none". LOGMASK_ERR_BAD_ENCODINGS if `list` does not parse (builder unchanged). */
int logmask_builder_encodings_parse(logmask_builder *b, const char *list, logmask_error **err);
/* Whether well-known token shapes (glpat-..., ghp_..., AKIA...) are masked even when never
 * added (default true). */
int logmask_builder_token_shapes(logmask_builder *b, bool on);
/* Whether structured credentials (URL passwords, token=/password=/sig=... values,
 * Authorization: values, PEM private-key blocks) are masked even when never added
 * (default false). */
int logmask_builder_structured_credentials(logmask_builder *b, bool on);

/* Validates and compiles the builder's secrets into a new set, stored in `*out` (NULL on
 * failure). The builder is not consumed: change it and build again, or free it. Errors:
 * LOGMASK_ERR_TOO_SHORT, LOGMASK_ERR_IN_REPLACEMENT (the message names the secret's
 * origin), LOGMASK_ERR_NULL. Compiling a large set takes time (milliseconds per thousand
 * secrets): build once, share the set. The builder must not be mutated during the call. */
int logmask_builder_build(const logmask_builder *b, logmask_secrets **out, logmask_error **err);

/* ---- Secrets: an immutable compiled set ------------------------------------------------ */

/* Releases the caller's reference; maskers made from `s` keep theirs. NULL is ignored. */
void logmask_secrets_free(logmask_secrets *s);
/* The number of distinct byte strings masked (secrets, their lines, their encoded forms;
 * token shapes not counted). 0 for NULL. Any thread. */
size_t logmask_secrets_len(const logmask_secrets *s);
/* The longest byte string a stream must see whole; a masker holds back fewer bytes than
 * this. 0 for NULL. Any thread. */
size_t logmask_secrets_max_len(const logmask_secrets *s);

/* ---- Masker: one stream ---------------------------------------------------------------- */

/* A masker for a new stream applying `s` (it takes its own reference to `s`). NULL if `s` is
 * NULL. Free with logmask_masker_free. */
logmask_masker *logmask_masker_new(const logmask_secrets *s);
/* Frees `m` WITHOUT emitting the bytes it holds back: call a finish function first. NULL is
 * ignored. */
void logmask_masker_free(logmask_masker *m);

/*
 * Accepts the next `len` bytes of the stream and calls `out(ctx, ptr, len)` with all the
 * output that no later input can change, before returning. Only the bytes that could still
 * begin a secret (fewer than logmask_secrets_max_len) are held back for the next call, so
 * there is nothing else to flush: every call already emits everything that is safe.
 * Returns LOGMASK_OK; LOGMASK_ERR_NULL (nothing done) if `m` or `out` is NULL, or `input`
 * is NULL with len > 0; LOGMASK_ERR_PANIC if an internal error was caught, after which the
 * masker refuses every call with LOGMASK_ERR_PANIC (its stream cannot be trusted; free it).
 */
int logmask_masker_mask(logmask_masker *m, const uint8_t *input, size_t len,
                        logmask_write_fn out, void *ctx);
/* Ends the stream: emits the held-back tail through `out` (a secret prefix that never
 * completed is plain text) and resets `m` for a new stream. Returns as logmask_masker_mask. */
int logmask_masker_finish(logmask_masker *m, logmask_write_fn out, void *ctx);

/*
 * As logmask_masker_mask, but the output is copied into a buffer owned by the masker
 * instead of passed to a callback (for bindings where a callback into the host language is
 * costly, such as cgo). `*out_ptr`, `*out_len` describe the output of this call (possibly
 * empty); the buffer stays valid until the next call on `m` or its free. The buffer grows to
 * the largest output of one call and is shrunk back to 1 MiB when it grew past that, so
 * feed chunks of bounded size (the Go package feeds at most 64 KiB per call).
 */
int logmask_masker_mask_buf(logmask_masker *m, const uint8_t *input, size_t len,
                            const uint8_t **out_ptr, size_t *out_len);
/* As logmask_masker_finish, with the output in the masker's buffer as for _mask_buf. */
int logmask_masker_finish_buf(logmask_masker *m, const uint8_t **out_ptr, size_t *out_len);

/* The number of input bytes accepted and not yet emitted. 0 for NULL. */
size_t logmask_masker_held_back(const logmask_masker *m);

/* ---- Registry: the active job tokens --------------------------------------------------- */

/* A registry with no jobs, stored in `*out` (NULL on failure). `base` (NULL: the defaults)
 * gives the settings (minimum length, replacement, encodings, token shapes) and the
 * secrets masked at all times; it is copied, not consumed. Errors as logmask_builder_build.
 * Free with logmask_registry_free. */
int logmask_registry_new(const logmask_builder *base, logmask_registry **out,
                         logmask_error **err);
/* Frees `r`. Maskers made from it stay valid and keep applying the last set it published.
 * No other thread may use `r` during or after the call. NULL is ignored. */
void logmask_registry_free(logmask_registry *r);

/*
 * Makes `n` secrets active for `job` (replacing the job's earlier secrets, if any): `values`
 * holds them back to back and `lens[i]` is the length of the i-th (both copied). Compiles
 * the new union in the calling thread and publishes it before returning; every masker that
 * follows `r` applies it from its next chunk on, and judges the bytes it still holds back
 * against it. Errors (nothing changes then): LOGMASK_ERR_TOO_SHORT, LOGMASK_ERR_IN_REPLACEMENT
 * (the message names the secret as "job <job> value <i+1>"), LOGMASK_ERR_NULL,
 * LOGMASK_ERR_INVALID_ARGUMENT (job not UTF-8). Any thread, concurrently.
 */
int logmask_registry_add(const logmask_registry *r, const char *job, const uint8_t *values,
                         const size_t *lens, size_t n, logmask_error **err);
/* Ends `job`: its secrets are not masked from each following masker's next chunk on
 * (output already emitted stays masked). `*removed` (if not NULL) tells whether `job` was
 * active. Any thread, concurrently. */
int logmask_registry_remove(const logmask_registry *r, const char *job, bool *removed);
/* A masker for a new stream that follows `r`: at each chunk it applies r's current set (one
 * atomic load per chunk). NULL if `r` is NULL. Any thread. Free with logmask_masker_free. */
logmask_masker *logmask_registry_masker(const logmask_registry *r);
/* The set that r's maskers apply now, as a new reference (free with logmask_secrets_free).
 * NULL if `r` is NULL. Any thread. */
logmask_secrets *logmask_registry_secrets(const logmask_registry *r);

#ifdef __cplusplus
}
#endif

#endif /* LOGMASK_H */
