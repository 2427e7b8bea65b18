/*
 * The C test of logmask's C ABI: runs every case of ffi/tests/vectors.txt (expected outputs
 * computed by the Rust API) through the header's functions, at several chunk sizes (1 byte
 * included) with both output styles (callback and masker-owned buffer), then the paths that
 * the vectors cannot express: NULL arguments, bad arguments, freeing in any order, threads.
 *
 *   cargo build --release -p logmask-ffi
 *   cc -std=c11 -Wall -Wextra -Werror -pthread -Iffi/include ffi/tests/c/test.c \
 *      target/release/liblogmask_ffi.a -ldl -lpthread -lm -o target/logmask-c-test
 *   valgrind --leak-check=full --error-exitcode=1 target/logmask-c-test ffi/tests/vectors.txt
 *
 * Exit status 0 when every check passed; each failure prints the case and the check.
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "logmask.h"

static int failures = 0;
static const char *current_case = "";

#define CHECK(cond, ...)                                                                   \
    do {                                                                                   \
        if (!(cond)) {                                                                     \
            fprintf(stderr, "FAIL [%s] %s:%d: %s: ", current_case, __FILE__, __LINE__,    \
                    #cond);                                                                \
            fprintf(stderr, __VA_ARGS__);                                                  \
            fprintf(stderr, "\n");                                                         \
            failures++;                                                                    \
        }                                                                                  \
    } while (0)

/* ---- Byte buffers --------------------------------------------------------------------- */

typedef struct {
    uint8_t *p;
    size_t len, cap;
} buf;

static void buf_append(buf *b, const uint8_t *p, size_t len) {
    if (b->len + len > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + len) cap *= 2;
        b->p = realloc(b->p, cap);
        if (!b->p) abort();
        b->cap = cap;
    }
    memcpy(b->p + b->len, p, len);
    b->len += len;
}

static void buf_free(buf *b) {
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

/* The output callback: appends to the buf given as ctx. */
static void sink(void *ctx, const uint8_t *ptr, size_t len) {
    CHECK(len > 0, "empty piece");
    buf_append((buf *)ctx, ptr, len);
}

static int contains(const uint8_t *hay, size_t hn, const uint8_t *needle, size_t nn) {
    if (nn == 0 || nn > hn) return 0;
    for (size_t i = 0; i + nn <= hn; i++)
        if (memcmp(hay + i, needle, nn) == 0) return 1;
    return 0;
}

/* Decodes hex ("-" is empty) into a new buf. */
static buf unhex(const char *s) {
    buf b = {0};
    if (strcmp(s, "-") == 0) return b;
    size_t n = strlen(s);
    if (n % 2) {
        fprintf(stderr, "odd hex length\n");
        exit(2);
    }
    b.p = malloc(n / 2 + 1);
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (v < 0) {
            fprintf(stderr, "bad hex\n");
            exit(2);
        }
        b.p[i / 2] = (uint8_t)(i % 2 ? (b.p[i / 2] | v) : v << 4);
    }
    b.len = b.cap = n / 2;
    b.p[b.len] = 0; /* so that names decode to C strings */
    return b;
}

/* ---- The vectors file ------------------------------------------------------------------ */

#define MAX_TOKENS 64

typedef struct {
    int ntok;
    char *tok[MAX_TOKENS];
} directive;

typedef struct {
    char *name;
    int n;
    directive *d;
} test_case;

static char *read_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        exit(2);
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    if (fread(s, 1, (size_t)n, f) != (size_t)n) exit(2);
    s[n] = 0;
    fclose(f);
    return s;
}

/* Splits `text` (modified in place) into cases. */
static test_case *parse(char *text, int *ncases) {
    test_case *cases = NULL;
    int n = 0;
    test_case *cur = NULL;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        if (line[0] == '#' || line[0] == 0) continue;
        directive d = {0};
        for (char *p = line; *p && d.ntok < MAX_TOKENS;) {
            d.tok[d.ntok++] = p;
            char *sp = strchr(p, ' ');
            if (!sp) break;
            *sp = 0;
            p = sp + 1;
        }
        if (strcmp(d.tok[0], "case") == 0) {
            cases = realloc(cases, sizeof *cases * (size_t)(n + 1));
            cur = &cases[n++];
            cur->name = d.tok[1];
            cur->n = 0;
            cur->d = NULL;
        } else if (cur) {
            cur->d = realloc(cur->d, sizeof *cur->d * (size_t)(cur->n + 1));
            cur->d[cur->n++] = d;
        }
    }
    *ncases = n;
    return cases;
}

/* ---- Running a case -------------------------------------------------------------------- */

typedef struct {
    size_t chunk; /* 0: one call per feed */
    int use_buf;  /* 1: logmask_masker_mask_buf, 0: the callback */
} style;

typedef struct {
    logmask_builder *builder;
    logmask_registry *registry;
    logmask_masker *masker;
    buf out;
    buf values[256]; /* every secret value of the case, which no message may hold */
    int nvalues;
} run_state;

static void remember(run_state *st, const char *hexvalue) {
    if (st->nvalues < 256) st->values[st->nvalues++] = unhex(hexvalue);
}

/* The error's code and message are those of the vector, and the message holds no value. */
static void check_error(run_state *st, int status, logmask_error *err, const char *code,
                        const char *msg_hex) {
    buf want = unhex(msg_hex);
    const char *msg = logmask_error_message(err);
    CHECK(status == atoi(code), "status %d, want %s", status, code);
    CHECK(err != NULL && logmask_error_code(err) == status, "error code");
    CHECK(strlen(msg) == want.len && memcmp(msg, want.p, want.len) == 0,
          "message \"%s\", want \"%.*s\"", msg, (int)want.len, (char *)want.p);
    for (int i = 0; i < st->nvalues; i++)
        CHECK(!contains((const uint8_t *)msg, strlen(msg), st->values[i].p, st->values[i].len),
              "the message holds value %d: %s", i, msg);
    buf_free(&want);
    logmask_error_free(err);
}

static void feed(run_state *st, const buf *input, style s) {
    size_t step = s.chunk ? s.chunk : (input->len ? input->len : 1);
    for (size_t at = 0; at < input->len || (at == 0 && input->len == 0); at += step) {
        size_t n = input->len - at < step ? input->len - at : step;
        const uint8_t *p = input->len ? input->p + at : NULL;
        if (s.use_buf) {
            const uint8_t *out = NULL;
            size_t out_len = 99;
            CHECK(logmask_masker_mask_buf(st->masker, p, n, &out, &out_len) == LOGMASK_OK, "mask_buf");
            if (out_len) buf_append(&st->out, out, out_len);
        } else {
            CHECK(logmask_masker_mask(st->masker, p, n, sink, &st->out) == LOGMASK_OK, "mask");
        }
        CHECK(logmask_masker_held_back(st->masker) < 4096, "held back %zu",
              logmask_masker_held_back(st->masker));
        if (input->len == 0) break;
    }
}

static void finish(run_state *st, style s) {
    if (s.use_buf) {
        const uint8_t *out = NULL;
        size_t out_len = 0;
        CHECK(logmask_masker_finish_buf(st->masker, &out, &out_len) == LOGMASK_OK, "finish_buf");
        if (out_len) buf_append(&st->out, out, out_len);
    } else {
        CHECK(logmask_masker_finish(st->masker, sink, &st->out) == LOGMASK_OK, "finish");
    }
    CHECK(logmask_masker_held_back(st->masker) == 0, "held back after finish");
}

/* Packs `n` hex values into one buffer and their lengths, as logmask_registry_add takes. */
static void pack(run_state *st, char **tok, int n, buf *all, size_t *lens) {
    for (int i = 0; i < n; i++) {
        buf v = unhex(tok[i]);
        lens[i] = v.len;
        buf_append(all, v.p ? v.p : (const uint8_t *)"", v.len);
        buf_free(&v);
        remember(st, tok[i]);
    }
}

static void run_case(const test_case *c, style s) {
    run_state st = {0};
    int outcomes = 0; /* expect and *_fails directives checked */
    st.builder = logmask_builder_new();
    CHECK(st.builder != NULL, "builder_new");
    for (int i = 0; i < c->n; i++) {
        directive *d = &c->d[i];
        const char *op = d->tok[0];
        logmask_error *err = (logmask_error *)1; /* must be overwritten */
        if (strcmp(op, "min_len") == 0) {
            CHECK(logmask_builder_min_len(st.builder, (size_t)atoi(d->tok[1])) == 0, "min_len");
        } else if (strcmp(op, "replacement") == 0) {
            buf r = unhex(d->tok[1]);
            CHECK(logmask_builder_replacement(st.builder, r.p, r.len) == 0, "replacement");
            buf_free(&r);
        } else if (strcmp(op, "encodings") == 0) {
            CHECK(logmask_builder_encodings(st.builder, (uint32_t)atoi(d->tok[1]), &err) == 0 &&
                      err == NULL,
                  "encodings");
        } else if (strcmp(op, "shapes") == 0) {
            CHECK(logmask_builder_token_shapes(st.builder, atoi(d->tok[1]) != 0) == 0, "shapes");
        } else if (strcmp(op, "encodings_parse") == 0) {
            buf l = unhex(d->tok[1]);
            CHECK(logmask_builder_encodings_parse(st.builder, (char *)l.p, &err) == 0 && !err,
                  "encodings_parse");
            buf_free(&l);
        } else if (strcmp(op, "encodings_parse_fails") == 0) {
            buf l = unhex(d->tok[3]);
            int status = logmask_builder_encodings_parse(st.builder, (char *)l.p, &err);
            check_error(&st, status, err, d->tok[1], d->tok[2]);
            buf_free(&l);
        } else if (strcmp(op, "secret") == 0 || strcmp(op, "lines") == 0) {
            int no_origin = strcmp(d->tok[1], "~") == 0;
            buf origin = no_origin ? (buf){0} : unhex(d->tok[1]);
            buf value = unhex(d->tok[2]);
            const char *o = no_origin ? NULL : (char *)origin.p;
            int status = op[0] == 's'
                             ? logmask_builder_add(st.builder, o, value.p, value.len, &err)
                             : logmask_builder_add_lines(st.builder, o, value.p, value.len, &err);
            CHECK(status == 0 && err == NULL, "add");
            if (op[0] == 's') {
                remember(&st, d->tok[2]);
            } else {
                /* Each line of the text is a value. */
                for (size_t a = 0, b; a < value.len; a = b + 1) {
                    for (b = a; b < value.len && value.p[b] != '\n'; b++) {}
                    size_t e = b > a && value.p[b - 1] == '\r' ? b - 1 : b;
                    if (e > a && st.nvalues < 256) {
                        buf v = {0};
                        buf_append(&v, value.p + a, e - a);
                        st.values[st.nvalues++] = v;
                    }
                }
            }
            buf_free(&origin);
            buf_free(&value);
        } else if (strcmp(op, "build") == 0) {
            logmask_secrets *set = (logmask_secrets *)1;
            CHECK(logmask_builder_build(st.builder, &set, &err) == 0 && err == NULL, "build: %s",
                  logmask_error_message(err));
            CHECK(logmask_secrets_max_len(set) > 0 || logmask_secrets_len(set) == 0, "max_len");
            st.masker = logmask_masker_new(set);
            CHECK(st.masker != NULL, "masker_new");
            /* The masker holds its own reference: the set may go now. */
            logmask_secrets_free(set);
        } else if (strcmp(op, "build_fails") == 0) {
            logmask_secrets *set = (logmask_secrets *)1;
            int status = logmask_builder_build(st.builder, &set, &err);
            CHECK(set == NULL, "no set on failure");
            check_error(&st, status, err, d->tok[1], d->tok[2]);
            outcomes++;
        } else if (strcmp(op, "registry") == 0) {
            CHECK(logmask_registry_new(st.builder, &st.registry, &err) == 0 && err == NULL,
                  "registry_new");
            st.masker = logmask_registry_masker(st.registry);
            CHECK(st.masker != NULL, "registry_masker");
        } else if (strcmp(op, "add") == 0 || strcmp(op, "add_fails") == 0) {
            int fails = strcmp(op, "add_fails") == 0;
            char **t = d->tok + (fails ? 3 : 1);
            buf job = unhex(t[0]);
            int n = atoi(t[1]);
            buf all = {0};
            size_t lens[MAX_TOKENS];
            pack(&st, t + 2, n, &all, lens);
            int status = logmask_registry_add(st.registry, (char *)job.p, all.p, lens,
                                              (size_t)n, &err);
            if (fails)
                check_error(&st, status, err, d->tok[1], d->tok[2]);
            else
                CHECK(status == 0 && err == NULL, "registry_add: %s", logmask_error_message(err));
            buf_free(&job);
            buf_free(&all);
        } else if (strcmp(op, "remove") == 0) {
            buf job = unhex(d->tok[1]);
            bool removed = !atoi(d->tok[2]);
            CHECK(logmask_registry_remove(st.registry, (char *)job.p, &removed) == 0, "remove");
            CHECK(removed == (atoi(d->tok[2]) != 0), "removed");
            buf_free(&job);
        } else if (strcmp(op, "feed") == 0) {
            buf input = unhex(d->tok[1]);
            feed(&st, &input, s);
            buf_free(&input);
        } else if (strcmp(op, "expect") == 0) {
            buf want = unhex(d->tok[1]);
            finish(&st, s);
            CHECK(st.out.len == want.len && memcmp(st.out.p, want.p, want.len) == 0,
                  "chunk %zu, %s: output of %zu bytes differs from the %zu expected", s.chunk,
                  s.use_buf ? "buffer" : "callback", st.out.len, want.len);
            buf_free(&want);
            outcomes++;
        } else if (strcmp(op, "end") != 0) {
            CHECK(0, "unknown directive %s", op);
        }
    }
    CHECK(outcomes > 0, "the case checks nothing");
    logmask_masker_free(st.masker);
    logmask_registry_free(st.registry);
    logmask_builder_free(st.builder);
    buf_free(&st.out);
    for (int i = 0; i < st.nvalues; i++) buf_free(&st.values[i]);
}

/* ---- What the vectors cannot express ---------------------------------------------------- */

static void test_null_and_bad_arguments(void) {
    current_case = "null-and-bad-arguments";
    logmask_error *err = NULL;
    const uint8_t v[] = "long-enough-secret";

    CHECK(logmask_builder_add(NULL, NULL, v, 18, &err) == LOGMASK_ERR_NULL, "NULL builder");
    CHECK(logmask_error_code(err) == LOGMASK_ERR_NULL, "code");
    CHECK(strcmp(logmask_error_message(err), "builder is NULL") == 0, "%s",
          logmask_error_message(err));
    logmask_error_free(err);
    CHECK(logmask_error_code(NULL) == LOGMASK_OK && strcmp(logmask_error_message(NULL), "") == 0,
          "NULL error");
    logmask_error_free(NULL);

    logmask_builder *b = logmask_builder_new();
    /* err may be NULL: the code alone. */
    CHECK(logmask_builder_add(b, NULL, NULL, 5, NULL) == LOGMASK_ERR_NULL, "NULL value");
    CHECK(logmask_builder_add(b, NULL, NULL, 0, NULL) == LOGMASK_OK, "empty value");
    CHECK(logmask_builder_add(b, "\xff\xfe", v, 18, &err) == LOGMASK_ERR_INVALID_ARGUMENT,
          "non-UTF-8 origin");
    CHECK(strstr(logmask_error_message(err), "UTF-8") != NULL, "%s", logmask_error_message(err));
    logmask_error_free(err);
    CHECK(logmask_builder_encodings(b, 256, &err) == LOGMASK_ERR_INVALID_ARGUMENT, "bits");
    CHECK(strcmp(logmask_error_message(err), "unknown encoding bits 0x100") == 0, "%s",
          logmask_error_message(err));
    logmask_error_free(err);
    CHECK(logmask_builder_encodings_parse(b, NULL, NULL) == LOGMASK_ERR_NULL, "NULL list");
    CHECK(logmask_builder_replacement(b, NULL, 3) == LOGMASK_ERR_NULL, "NULL replacement");
    CHECK(logmask_builder_min_len(NULL, 3) == LOGMASK_ERR_NULL, "min_len NULL");
    CHECK(logmask_builder_token_shapes(NULL, true) == LOGMASK_ERR_NULL, "shapes NULL");
    CHECK(logmask_builder_structured_credentials(NULL, true) == LOGMASK_ERR_NULL, "creds NULL");
    CHECK(logmask_builder_build(b, NULL, &err) == LOGMASK_ERR_NULL, "NULL out");
    logmask_error_free(err);

    /* The empty secret added above is refused at build: too short, named by position. */
    logmask_secrets *s = (logmask_secrets *)1;
    CHECK(logmask_builder_build(b, &s, &err) == LOGMASK_ERR_TOO_SHORT && s == NULL, "empty");
    CHECK(strcmp(logmask_error_message(err),
                 "secret #0 is 0 bytes long, shorter than the minimum length of 8") == 0,
          "%s", logmask_error_message(err));
    logmask_error_free(err);
    logmask_builder_free(b);

    CHECK(logmask_masker_new(NULL) == NULL, "masker of NULL");
    CHECK(logmask_registry_masker(NULL) == NULL, "registry masker of NULL");
    CHECK(logmask_registry_secrets(NULL) == NULL, "registry secrets of NULL");
    CHECK(logmask_secrets_len(NULL) == 0 && logmask_secrets_max_len(NULL) == 0, "NULL set");
    CHECK(logmask_masker_held_back(NULL) == 0, "NULL masker");
    CHECK(logmask_masker_mask(NULL, v, 1, sink, NULL) == LOGMASK_ERR_NULL, "mask NULL");
    CHECK(logmask_masker_finish(NULL, sink, NULL) == LOGMASK_ERR_NULL, "finish NULL");
    const uint8_t *op;
    size_t ol;
    CHECK(logmask_masker_mask_buf(NULL, v, 1, &op, &ol) == LOGMASK_ERR_NULL, "mask_buf NULL");
    CHECK(logmask_masker_finish_buf(NULL, &op, &ol) == LOGMASK_ERR_NULL, "finish_buf NULL");
    logmask_masker_free(NULL);
    logmask_secrets_free(NULL);
    logmask_registry_free(NULL);
    logmask_builder_free(NULL);

    /* A masker refuses a NULL callback or input without touching its stream. */
    b = logmask_builder_new();
    logmask_builder_add(b, "env T", v, 18, NULL);
    CHECK(logmask_builder_build(b, &s, NULL) == LOGMASK_OK, "build");
    logmask_masker *m = logmask_masker_new(s);
    buf out = {0};
    CHECK(logmask_masker_mask(m, v, 4, NULL, &out) == LOGMASK_ERR_NULL, "NULL callback");
    CHECK(logmask_masker_mask(m, NULL, 4, sink, &out) == LOGMASK_ERR_NULL, "NULL input");
    CHECK(logmask_masker_mask_buf(m, v, 4, NULL, &ol) == LOGMASK_ERR_NULL, "NULL out_ptr");
    CHECK(logmask_masker_finish_buf(m, &op, NULL) == LOGMASK_ERR_NULL, "NULL out_len");
    CHECK(logmask_masker_mask(m, v, 18, sink, &out) == LOGMASK_OK, "mask");
    CHECK(logmask_masker_finish(m, sink, &out) == LOGMASK_OK, "finish");
    CHECK(out.len == 8 && memcmp(out.p, "[MASKED]", 8) == 0, "%.*s", (int)out.len, out.p);
    buf_free(&out);
    /* The masker is reset by finish: a new stream. */
    CHECK(logmask_masker_mask(m, (const uint8_t *)"x", 1, sink, &out) == LOGMASK_OK, "again");
    CHECK(logmask_masker_finish(m, sink, &out) == LOGMASK_OK && out.len == 1, "reset");
    buf_free(&out);
    logmask_masker_free(m);
    logmask_secrets_free(s);

    /* Registry argument errors. */
    logmask_registry *r = (logmask_registry *)1;
    CHECK(logmask_registry_new(NULL, NULL, &err) == LOGMASK_ERR_NULL, "NULL out");
    logmask_error_free(err);
    CHECK(logmask_registry_new(b, &r, NULL) == LOGMASK_OK && r != NULL, "registry of b");
    size_t lens[1] = {18};
    CHECK(logmask_registry_add(r, "1", v, NULL, 1, NULL) == LOGMASK_ERR_NULL, "NULL lens");
    CHECK(logmask_registry_add(r, NULL, v, lens, 1, NULL) == LOGMASK_ERR_NULL, "NULL job");
    CHECK(logmask_registry_add(r, "1", NULL, lens, 1, NULL) == LOGMASK_ERR_NULL, "NULL values");
    CHECK(logmask_registry_add(NULL, "1", v, lens, 1, NULL) == LOGMASK_ERR_NULL, "NULL reg");
    CHECK(logmask_registry_add(r, "\xc3", v, lens, 1, NULL) == LOGMASK_ERR_INVALID_ARGUMENT,
          "non-UTF-8 job");
    CHECK(logmask_registry_add(r, "empty", NULL, NULL, 0, NULL) == LOGMASK_OK, "no values");
    CHECK(logmask_registry_remove(r, NULL, NULL) == LOGMASK_ERR_NULL, "remove NULL");
    CHECK(logmask_registry_remove(r, "empty", NULL) == LOGMASK_OK, "remove, no out");
    logmask_registry_free(r);
    logmask_builder_free(b);

    CHECK(strlen(logmask_version()) > 0, "version");
}

/* Frees the set and the registry before the maskers made from them: they keep working. */
static void test_free_order(void) {
    current_case = "free-order";
    const char *tok = "glcbt-64_free-order-token";
    logmask_builder *b = logmask_builder_new();
    logmask_builder_add(b, "env TOKEN", (const uint8_t *)tok, strlen(tok), NULL);
    logmask_registry *r = NULL;
    CHECK(logmask_registry_new(b, &r, NULL) == LOGMASK_OK, "registry");
    logmask_secrets *s = logmask_registry_secrets(r);
    CHECK(logmask_secrets_len(s) > 1, "len %zu", logmask_secrets_len(s));
    logmask_masker *m1 = logmask_masker_new(s);
    logmask_masker *m2 = logmask_registry_masker(r);
    logmask_secrets_free(s);
    logmask_registry_free(r);
    logmask_builder_free(b);
    buf o1 = {0}, o2 = {0};
    char line[64];
    snprintf(line, sizeof line, "a %s b", tok);
    logmask_masker_mask(m1, (const uint8_t *)line, strlen(line), sink, &o1);
    logmask_masker_mask(m2, (const uint8_t *)line, strlen(line), sink, &o2);
    logmask_masker_finish(m1, sink, &o1);
    logmask_masker_finish(m2, sink, &o2);
    CHECK(o1.len == 12 && memcmp(o1.p, "a [MASKED] b", 12) == 0, "%.*s", (int)o1.len, o1.p);
    CHECK(o2.len == o1.len && memcmp(o1.p, o2.p, o1.len) == 0, "%.*s", (int)o2.len, o2.p);
    buf_free(&o1);
    buf_free(&o2);
    logmask_masker_free(m1);
    logmask_masker_free(m2);
}

/* Threads: one set shared by maskers on four threads, and registry changes on the main thread
 * while maskers that follow it run on four others. */
typedef struct {
    const logmask_secrets *set;
    const logmask_registry *registry;
    const buf *input, *want;
    int ok;
} thread_arg;

static void *thread_main(void *p) {
    thread_arg *a = p;
    logmask_masker *m = a->set ? logmask_masker_new(a->set) : logmask_registry_masker(a->registry);
    buf out = {0};
    for (size_t at = 0; at < a->input->len; at += 4096) {
        size_t n = a->input->len - at < 4096 ? a->input->len - at : 4096;
        logmask_masker_mask(m, a->input->p + at, n, sink, &out);
    }
    logmask_masker_finish(m, sink, &out);
    a->ok = a->want ? (out.len == a->want->len && memcmp(out.p, a->want->p, out.len) == 0)
                    : contains(out.p, out.len, (const uint8_t *)"[MASKED]", 8) &&
                          !contains(out.p, out.len, (const uint8_t *)"base-secret-value", 17);
    buf_free(&out);
    logmask_masker_free(m);
    return NULL;
}

static void test_threads(const test_case *cases, int ncases) {
    current_case = "threads";
    /* The generated-log case: its secrets, its input and its expected output. */
    const test_case *c = NULL;
    for (int i = 0; i < ncases; i++)
        if (strcmp(cases[i].name, "generated-log") == 0) c = &cases[i];
    CHECK(c != NULL, "no generated-log case");
    if (!c) return;
    logmask_builder *b = logmask_builder_new();
    buf input = {0}, want = {0};
    for (int i = 0; i < c->n; i++) {
        if (strcmp(c->d[i].tok[0], "secret") == 0) {
            buf v = unhex(c->d[i].tok[2]);
            logmask_builder_add(b, NULL, v.p, v.len, NULL);
            buf_free(&v);
        } else if (strcmp(c->d[i].tok[0], "feed") == 0) {
            input = unhex(c->d[i].tok[1]);
        } else if (strcmp(c->d[i].tok[0], "expect") == 0) {
            want = unhex(c->d[i].tok[1]);
        }
    }
    logmask_secrets *s = NULL;
    CHECK(logmask_builder_build(b, &s, NULL) == LOGMASK_OK, "build");
    pthread_t t[4];
    thread_arg args[4];
    for (int i = 0; i < 4; i++) {
        args[i] = (thread_arg){s, NULL, &input, &want, 0};
        pthread_create(&t[i], NULL, thread_main, &args[i]);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        CHECK(args[i].ok, "thread %d output differs", i);
    }
    logmask_secrets_free(s);
    logmask_builder_free(b);

    /* A registry whose base masks "base-secret-value", changed while maskers run. */
    b = logmask_builder_new();
    logmask_builder_add(b, "base", (const uint8_t *)"base-secret-value", 17, NULL);
    logmask_registry *r = NULL;
    logmask_registry_new(b, &r, NULL);
    buf log = {0};
    for (int i = 0; i < 2000; i++) {
        char line[64];
        int n = snprintf(line, sizeof line, "line %d base-secret-value job-secret-%d\n", i, i % 7);
        buf_append(&log, (const uint8_t *)line, (size_t)n);
    }
    for (int i = 0; i < 4; i++) {
        args[i] = (thread_arg){NULL, r, &log, NULL, 0};
        pthread_create(&t[i], NULL, thread_main, &args[i]);
    }
    for (int i = 0; i < 20; i++) {
        char job[16], value[32];
        snprintf(job, sizeof job, "%d", i % 7);
        snprintf(value, sizeof value, "job-secret-%d", i % 7);
        size_t len = strlen(value);
        CHECK(logmask_registry_add(r, job, (const uint8_t *)value, &len, 1, NULL) == 0, "add");
        if (i % 3 == 0) logmask_registry_remove(r, job, NULL);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        CHECK(args[i].ok, "thread %d: the base secret was not masked", i);
    }
    buf_free(&log);
    logmask_registry_free(r);
    logmask_builder_free(b);
    buf_free(&input);
    buf_free(&want);
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s ffi/tests/vectors.txt\n", argv[0]);
        return 2;
    }
    char *text = read_file(argv[1]);
    int ncases = 0;
    test_case *cases = parse(text, &ncases);
    const style styles[] = {{0, 0}, {0, 1}, {1, 0}, {1, 1}, {7, 0}, {32768, 1}};
    int runs = 0;
    for (int i = 0; i < ncases; i++) {
        current_case = cases[i].name;
        for (size_t k = 0; k < sizeof styles / sizeof styles[0]; k++) {
            run_case(&cases[i], styles[k]);
            runs++;
        }
    }
    test_null_and_bad_arguments();
    test_free_order();
    test_threads(cases, ncases);
    for (int i = 0; i < ncases; i++) free(cases[i].d);
    free(cases);
    free(text);
    if (ncases < 20) {
        fprintf(stderr, "only %d cases in %s\n", ncases, argv[1]);
        return 1;
    }
    printf("%d cases, %d runs: %s\n", ncases, runs, failures ? "FAILED" : "ok");
    return failures ? 1 : 0;
}
