/*
 * fuzz_util.h -- shared pieces of the libFuzzer targets (header-only, static functions).
 *
 *   fz_*        decode a fuzz input: integers, doubles and timestamps (biased to edge values), and
 *               strings, each copied into its own exactly-sized heap block (the NUL is the block's
 *               last byte) so AddressSanitizer reports any read past a string's end.
 *   json_valid  a strict RFC 8259 validator (one value, UTF-8 checked, no trailing bytes).
 *   prom_check  a structural check of Prometheus text format 0.0.4.
 *   check_text_output  the BUFFERS contract of one text-producing call at a given cap.
 *
 * A violated invariant calls FZ_FAIL: it prints what was seen and aborts, which libFuzzer reports as a
 * crash with the input that caused it.
 */
#ifndef VT_FUZZ_UTIL_H
#define VT_FUZZ_UTIL_H

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "voicetelemetry.h"
#include "json_check.h"

#define FZ_FAIL(...)                                                                   \
    do {                                                                               \
        fprintf(stderr, "FUZZ INVARIANT VIOLATED at %s:%d: ", __FILE__, __LINE__);     \
        fprintf(stderr, __VA_ARGS__);                                                  \
        fprintf(stderr, "\n");                                                         \
        abort();                                                                       \
    } while (0)

#define FZ_ASSERT(cond, ...)                                   \
    do {                                                       \
        if (!(cond)) FZ_FAIL("(" #cond ") " __VA_ARGS__);      \
    } while (0)

/* ---- input decoding ----------------------------------------------------------------------------- */

typedef struct fz {
    const uint8_t *p;
    size_t n;
    void *owned[256]; /* blocks freed by fz_release */
    size_t n_owned;
} fz;

static inline FZ_NOCOV void fz_init(fz *f, const uint8_t *data, size_t size) {
    f->p = data;
    f->n = size;
    f->n_owned = 0;
}

static inline FZ_NOCOV void *fz_keep(fz *f, void *block) {
    if (!block) abort();
    if (f->n_owned == sizeof f->owned / sizeof f->owned[0]) abort(); /* a target must release sooner */
    f->owned[f->n_owned++] = block;
    return block;
}

static inline FZ_NOCOV void fz_release(fz *f) {
    while (f->n_owned) free(f->owned[--f->n_owned]);
}

static inline FZ_NOCOV uint8_t fz_u8(fz *f) {
    if (!f->n) return 0;
    f->n--;
    return *f->p++;
}

static inline FZ_NOCOV uint16_t fz_u16(fz *f) { return (uint16_t)(fz_u8(f) | (uint16_t)fz_u8(f) << 8); }

static inline FZ_NOCOV uint32_t fz_u32(fz *f) { return (uint32_t)fz_u16(f) | (uint32_t)fz_u16(f) << 16; }

static inline FZ_NOCOV uint64_t fz_u64(fz *f) { return (uint64_t)fz_u32(f) | (uint64_t)fz_u32(f) << 32; }

/* A uint32 biased to small values and edges. */
static inline FZ_NOCOV uint32_t fz_small(fz *f) {
    uint8_t b = fz_u8(f);
    if (b < 200) return b % 20;
    switch (b % 8) {
    case 0: return UINT32_MAX;
    case 1: return 0x80000000u;
    case 2: return fz_u16(f);
    default: return fz_u32(f);
    }
}

/* A double: an edge value (-0.0, subnormals, NaN, infinities, huge, tiny) or eight raw bytes. */
static inline FZ_NOCOV double fz_double(fz *f) {
    static const double edges[] = {
        0.0, -0.0, 1.0, -1.0, 0.5, 1e-9, 1.8e10, 4.9e-324, -4.9e-324, 2.2250738585072009e-308,
        1.7976931348623157e308, -1.7976931348623157e308, 1e300, 1e-300, 0.005, 0.1, 2.5, 10.0,
        1099511627776.0 /* 2^40 */, 1099511627775.0, 9007199254740993.0, 1e6, 1e6 + 1, 0.999999, 1.000001,
        123.456, 1e15, 1e16, 3.0e-5,
    };
    uint8_t b = fz_u8(f);
    if (b < 96) {
        size_t n = sizeof edges / sizeof edges[0];
        return edges[b % n];
    }
    if (b < 112) return (b & 1) ? INFINITY : -INFINITY;
    if (b < 128) return (b & 1) ? NAN : -NAN;
    if (b < 192) return (double)(int32_t)fz_u32(f) / (double)(1u + fz_u8(f));
    uint64_t bits = fz_u64(f);
    double d;
    memcpy(&d, &bits, sizeof d);
    return d;
}

/* A timestamp: 0 (now), small, huge, the edges of uint64, or raw. */
static inline FZ_NOCOV uint64_t fz_time(fz *f) {
    uint8_t b = fz_u8(f);
    switch (b >> 5) {
    case 0: return 0;
    case 1: return 1000000000ull + (uint64_t)fz_u16(f) * 1000000ull;
    case 2: return (uint64_t)fz_u32(f);
    case 3: return UINT64_MAX - fz_u8(f);
    case 4: return (1ull << 63) + fz_u32(f);
    case 5: return (1ull << 62) * (fz_u8(f) & 3) + fz_u16(f);
    default: return fz_u64(f);
    }
}

/* A heap copy of len bytes cut at the first NUL, in a block of exactly strlen + 1 bytes. */
static inline FZ_NOCOV char *fz_exact(fz *f, const char *bytes, size_t len) {
    const char *z = memchr(bytes, 0, len);
    if (z) len = (size_t)(z - bytes);
    char *s = fz_keep(f, malloc(len + 1));
    memcpy(s, bytes, len);
    s[len] = 0;
    return s;
}

/* A string of at most max bytes taken from the input: a length (one byte, or two when the first is
 * 255), then the bytes. */
static inline FZ_NOCOV char *fz_raw_str(fz *f, size_t max) {
    size_t len = fz_u8(f);
    if (len == 255) len = fz_u16(f);
    if (len > max) len = max;
    if (len > f->n) len = f->n;
    char *s = fz_exact(f, (const char *)f->p, len);
    f->p += len;
    f->n -= len;
    return s;
}

/* NULL, a word of the dictionary (copied to an exact block) or a raw string. */
static inline FZ_NOCOV char *fz_str(fz *f, const char *const *dict, size_t n_dict, size_t max) {
    uint8_t b = fz_u8(f);
    if (b == 0) return NULL;
    if (dict && n_dict && b < 128) {
        const char *w = dict[b % n_dict];
        return fz_exact(f, w, strlen(w));
    }
    return fz_raw_str(f, max);
}

/* Text that is too long for any limit (1 MiB + 1 of 'a'), in an exact block. */
static inline FZ_NOCOV char *fz_long_str(fz *f, size_t len, char c) {
    char *s = fz_keep(f, malloc(len + 1));
    memset(s, c, len);
    s[len] = 0;
    return s;
}

/* The unsigned integer after the first occurrence of "key": in json; -1 when absent or not a number
 * (null). Keys the targets read are unique in their documents. */
static inline FZ_NOCOV long double json_num(const char *json, const char *key) {
    char pat[128];
    snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *p = strstr(json, pat);
    if (!p) return -1;
    p += strlen(pat);
    if (*p == 'n') return -1;
    char *e;
    long double v = strtold(p, &e);
    if (e == p) return -1;
    return v;
}

/* ---- Prometheus text format 0.0.4 ----------------------------------------------------------------- */

static inline FZ_NOCOV int prom_name_char(char ch, int first) {
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_' || ch == ':' ||
           (!first && ch >= '0' && ch <= '9');
}

static inline FZ_NOCOV int prom_label_char(char ch, int first) {
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_' || (!first && ch >= '0' && ch <= '9');
}

static inline FZ_NOCOV int prom_value(const char *s, size_t n) {
    if ((n == 3 && memcmp(s, "NaN", 3) == 0) || (n == 4 && memcmp(s, "+Inf", 4) == 0) ||
        (n == 4 && memcmp(s, "-Inf", 4) == 0))
        return 1;
    char tmp[64];
    if (n == 0 || n >= sizeof tmp) return 0;
    memcpy(tmp, s, n);
    tmp[n] = 0;
    char *e;
    double d = strtod(tmp, &e);
    (void)d;
    return *e == 0 && !strchr(tmp, 'n') && !strchr(tmp, 'N') && !strchr(tmp, 'i') && !strchr(tmp, 'I');
}

typedef struct prom_family {
    char name[256];
    char type[16];
    int has_help, has_type, has_samples;
} prom_family;

/* The part of a sample name that names its family: strips _bucket/_sum/_count for histograms and
 * summaries. */
static inline FZ_NOCOV int prom_sample_belongs(const prom_family *fam, const char *name, size_t n) {
    size_t fl = strlen(fam->name);
    if (n == fl && memcmp(name, fam->name, n) == 0) return 1;
    if (n <= fl || memcmp(name, fam->name, fl) != 0) return 0;
    const char *suf = name + fl;
    size_t sl = n - fl;
    if (strcmp(fam->type, "histogram") == 0)
        return (sl == 7 && memcmp(suf, "_bucket", 7) == 0) || (sl == 4 && memcmp(suf, "_sum", 4) == 0) ||
               (sl == 6 && memcmp(suf, "_count", 6) == 0);
    if (strcmp(fam->type, "summary") == 0)
        return (sl == 4 && memcmp(suf, "_sum", 4) == 0) || (sl == 6 && memcmp(suf, "_count", 6) == 0);
    return 0;
}

/* Checks text[0..len): valid UTF-8, every line HELP/TYPE/sample with valid names, escapes and
 * values; one HELP and one TYPE per family before its samples; families not interleaved; histogram
 * buckets of a series non-decreasing with +Inf equal to _count. Returns NULL or a description. */
static inline FZ_NOCOV const char *prom_check(const char *text, size_t len, char *why, size_t why_cap) {
#define PBAD(...) do { snprintf(why, why_cap, __VA_ARGS__); return why; } while (0)
    if (!utf8_valid(text, len)) PBAD("not UTF-8");
    if (len && text[len - 1] != '\n') PBAD("does not end in a newline");
    static prom_family seen[2048];
    size_t n_seen = 0;
    prom_family *cur = NULL;
    char bucket_key[4096] = "";
    double bucket_prev = -1, inf_value = -1;
    const char *line = text, *end = text + len;
    while (line < end) {
        const char *nl = memchr(line, '\n', (size_t)(end - line));
        size_t ll = (size_t)(nl - line);
        if (ll == 0) PBAD("empty line at offset %zu", (size_t)(line - text));
        if (line[0] == '#') {
            int help = ll > 7 && memcmp(line, "# HELP ", 7) == 0;
            int type = ll > 7 && memcmp(line, "# TYPE ", 7) == 0;
            if (!help && !type) PBAD("comment line '%.*s'", (int)(ll > 80 ? 80 : ll), line);
            const char *nm = line + 7;
            size_t k = 0;
            while (nm + k < nl && prom_name_char(nm[k], k == 0)) k++;
            if (k == 0 || k >= 256) PBAD("bad family name in '%.*s'", (int)(ll > 80 ? 80 : ll), line);
            if (nm + k == nl || nm[k] != ' ') PBAD("no text after name in '%.*s'", (int)(ll > 80 ? 80 : ll), line);
            const char *rest = nm + k + 1;
            size_t rl = (size_t)(nl - rest);
            if (!cur || strlen(cur->name) != k || memcmp(cur->name, nm, k) != 0) {
                for (size_t i = 0; i < n_seen; i++)
                    if (strlen(seen[i].name) == k && memcmp(seen[i].name, nm, k) == 0)
                        PBAD("family %.*s appears twice", (int)k, nm);
                if (n_seen == sizeof seen / sizeof seen[0]) PBAD("too many families");
                cur = &seen[n_seen++];
                memset(cur, 0, sizeof *cur);
                memcpy(cur->name, nm, k);
            }
            if (cur->has_samples) PBAD("HELP/TYPE after samples of %s", cur->name);
            if (help) {
                if (cur->has_help) PBAD("two HELP lines for %s", cur->name);
                cur->has_help = 1;
                if (rl == 0) PBAD("empty HELP text of %s (help is required when a family is created)", cur->name);
                for (size_t i = 0; i < rl; i++)
                    if (rest[i] == '\\' && (i + 1 == rl || (rest[i + 1] != '\\' && rest[i + 1] != 'n')))
                        PBAD("bad escape in HELP of %s", cur->name);
                    else if (rest[i] == '\\') i++;
            } else {
                if (cur->has_type) PBAD("two TYPE lines for %s", cur->name);
                cur->has_type = 1;
                if (rl >= sizeof cur->type) PBAD("bad type for %s", cur->name);
                memcpy(cur->type, rest, rl);
                cur->type[rl] = 0;
                if (strcmp(cur->type, "counter") && strcmp(cur->type, "gauge") && strcmp(cur->type, "histogram") &&
                    strcmp(cur->type, "summary") && strcmp(cur->type, "untyped"))
                    PBAD("unknown type '%s' of %s", cur->type, cur->name);
            }
        } else {
            const char *p = line;
            size_t k = 0;
            while (p + k < nl && prom_name_char(p[k], k == 0)) k++;
            if (k == 0) PBAD("sample without a name: '%.*s'", (int)(ll > 80 ? 80 : ll), line);
            if (!cur || !cur->has_type) PBAD("sample before TYPE: '%.*s'", (int)(ll > 80 ? 80 : ll), line);
            if (!prom_sample_belongs(cur, p, k)) PBAD("sample '%.*s' outside its family %s", (int)k, p, cur->name);
            cur->has_samples = 1;
            const char *q = p + k;
            char key[4096]; /* family and labels other than le: names one histogram series */
            size_t kl = strlen(cur->name);
            memcpy(key, cur->name, kl);
            key[kl++] = '|';
            int is_bucket = k > 7 && memcmp(p + k - 7, "_bucket", 7) == 0 && strcmp(cur->type, "histogram") == 0;
            int is_count = k > 6 && memcmp(p + k - 6, "_count", 6) == 0 && strcmp(cur->type, "histogram") == 0;
            char le[64] = "";
            if (q < nl && *q == '{') {
                q++;
                int first_label = 1;
                char prev_key[256] = "";
                while (q < nl && *q != '}') {
                    if (!first_label) {
                        if (*q != ',') PBAD("no comma between labels in '%.*s'", (int)(ll > 120 ? 120 : ll), line);
                        q++;
                    }
                    first_label = 0;
                    size_t lk = 0;
                    while (q + lk < nl && prom_label_char(q[lk], lk == 0)) lk++;
                    if (lk == 0 || lk >= 256) PBAD("bad label name in '%.*s'", (int)(ll > 120 ? 120 : ll), line);
                    char lname[256];
                    memcpy(lname, q, lk);
                    lname[lk] = 0;
                    if (strcmp(lname, prev_key) <= 0) PBAD("label keys not sorted/distinct in '%.*s'", (int)(ll > 120 ? 120 : ll), line);
                    strcpy(prev_key, lname);
                    q += lk;
                    if (q + 1 >= nl || q[0] != '=' || q[1] != '"') PBAD("label without =\" in '%.*s'", (int)(ll > 120 ? 120 : ll), line);
                    q += 2;
                    const char *vs = q;
                    while (q < nl && *q != '"') {
                        if (*q == '\\') {
                            if (q + 1 >= nl || (q[1] != '\\' && q[1] != '"' && q[1] != 'n'))
                                PBAD("bad escape in label value in '%.*s'", (int)(ll > 120 ? 120 : ll), line);
                            q += 2;
                        } else q++;
                    }
                    if (q >= nl) PBAD("unterminated label value in '%.*s'", (int)(ll > 120 ? 120 : ll), line);
                    if (strcmp(lname, "le") == 0 && is_bucket) {
                        size_t vl = (size_t)(q - vs);
                        if (vl >= sizeof le) PBAD("long le");
                        memcpy(le, vs, vl);
                        le[vl] = 0;
                    } else {
                        size_t add = (size_t)(q - vs) + lk + 2;
                        if (kl + add < sizeof key) {
                            memcpy(key + kl, lname, lk);
                            key[kl + lk] = '=';
                            memcpy(key + kl + lk + 1, vs, (size_t)(q - vs));
                            key[kl + add - 1] = ';';
                            kl += add;
                        }
                    }
                    q++;
                }
                if (q >= nl) PBAD("unterminated label set in '%.*s'", (int)(ll > 120 ? 120 : ll), line);
                q++;
            }
            key[kl] = 0;
            if (q >= nl || *q != ' ') PBAD("no space before value in '%.*s'", (int)(ll > 120 ? 120 : ll), line);
            q++;
            const char *vs = q;
            while (q < nl && *q != ' ') q++;
            if (!prom_value(vs, (size_t)(q - vs))) PBAD("bad value in '%.*s'", (int)(ll > 120 ? 120 : ll), line);
            if (q < nl) { /* an optional timestamp */
                q++;
                const char *ts = q;
                if (q < nl && *q == '-') q++;
                while (q < nl && *q >= '0' && *q <= '9') q++;
                if (q != nl || q == ts) PBAD("bad timestamp in '%.*s'", (int)(ll > 120 ? 120 : ll), line);
            }
            double v = strtod(vs, NULL);
            if (is_bucket) {
                if (!le[0]) PBAD("bucket without le in '%.*s'", (int)(ll > 120 ? 120 : ll), line);
                if (strcmp(bucket_key, key) != 0) { strcpy(bucket_key, key); bucket_prev = -1; inf_value = -1; }
                if (v < bucket_prev) PBAD("bucket counts decrease at '%.*s'", (int)(ll > 120 ? 120 : ll), line);
                bucket_prev = v;
                if (strcmp(le, "+Inf") == 0) inf_value = v;
            } else if (is_count) {
                if (strcmp(bucket_key, key) != 0 || inf_value < 0)
                    PBAD("histogram _count without its +Inf bucket at '%.*s'", (int)(ll > 120 ? 120 : ll), line);
                if (v != inf_value) PBAD("_count %g differs from the +Inf bucket %g at '%.*s'", v, inf_value, (int)(ll > 120 ? 120 : ll), line);
            }
        }
        line = nl + 1;
    }
    for (size_t i = 0; i < n_seen; i++)
        if (!seen[i].has_type) PBAD("family %s has no TYPE", seen[i].name);
    return NULL;
#undef PBAD
}

/* The sum of the values of every sample named exactly `name` (all label sets); -1 if none. */
static inline FZ_NOCOV double prom_sum(const char *text, const char *name) {
    size_t nl = strlen(name);
    double sum = 0;
    int found = 0;
    for (const char *line = text; *line; ) {
        const char *e = strchr(line, '\n');
        if (!e) e = line + strlen(line);
        if (line[0] != '#' && strncmp(line, name, nl) == 0 && (line[nl] == ' ' || line[nl] == '{')) {
            const char *sp = line + nl;
            if (*sp == '{') {
                /* skip the label set (values may hold escaped quotes and braces) */
                sp++;
                int inq = 0;
                while (sp < e && (inq || *sp != '}')) {
                    if (inq && *sp == '\\') sp++;
                    else if (*sp == '"') inq = !inq;
                    sp++;
                }
                sp++;
            }
            sum += strtod(sp, NULL);
            found = 1;
        }
        line = *e ? e + 1 : e;
    }
    return found ? sum : -1;
}

/* ---- the BUFFERS contract ------------------------------------------------------------------------- */

typedef vt_status (*text_fn)(void *ctx, char *buf, size_t cap, size_t *len_out);

/* Calls fn with a block of exactly cap bytes (or NULL for cap 0 when null_if_zero) and checks: VT_OK
 * means the text and its NUL fit (len < cap, buf[len] == 0, no NUL before); VT_E_BUFFER_TOO_SMALL
 * means len >= cap. Returns the status; *len receives *len_out. When `expect_len` is not SIZE_MAX the
 * length must equal it (the text is stable between the calls). */
static inline FZ_NOCOV vt_status check_text_output(const char *what, text_fn fn, void *ctx, size_t cap, int null_if_zero,
                                   size_t expect_len, size_t *len) {
    char *buf = (cap == 0 && null_if_zero) ? NULL : malloc(cap ? cap : 1);
    if (buf && cap) memset(buf, 0x5A, cap);
    size_t got = (size_t)0xDEADBEEF;
    vt_status st = fn(ctx, buf, cap, &got);
    if (st == VT_OK) {
        FZ_ASSERT(got < cap, "%s: VT_OK with len %zu for cap %zu", what, got, cap);
        FZ_ASSERT(buf[got] == 0, "%s: VT_OK but no NUL at len %zu (cap %zu)", what, got, cap);
        FZ_ASSERT(strlen(buf) == got, "%s: VT_OK but strlen %zu != len %zu", what, strlen(buf), got);
    } else if (st == VT_E_BUFFER_TOO_SMALL) {
        FZ_ASSERT(got >= cap, "%s: BUFFER_TOO_SMALL with len %zu for cap %zu", what, got, cap);
        FZ_ASSERT(got != (size_t)0xDEADBEEF, "%s: BUFFER_TOO_SMALL without a length", what);
    }
    if (expect_len != SIZE_MAX && (st == VT_OK || st == VT_E_BUFFER_TOO_SMALL))
        FZ_ASSERT(got == expect_len, "%s: length %zu, %zu a call before (cap %zu)", what, got, expect_len, cap);
    if (len) *len = got;
    free(buf);
    return st;
}

/* The whole text of a call in a malloc'd block (caller frees), NULL on an error status. */
static inline FZ_NOCOV char *text_of(text_fn fn, void *ctx, size_t *len_out) {
    size_t len = 0;
    vt_status st = fn(ctx, NULL, 0, &len);
    for (int tries = 0; tries < 8; tries++) {
        if (st != VT_OK && st != VT_E_BUFFER_TOO_SMALL) return NULL;
        size_t cap = len + 1 + (size_t)tries * 4096;
        char *buf = malloc(cap);
        st = fn(ctx, buf, cap, &len);
        if (st == VT_OK) {
            FZ_ASSERT(len < cap && buf[len] == 0 && strlen(buf) == len, "text_of: bad VT_OK result");
            if (len_out) *len_out = len;
            return buf;
        }
        free(buf);
    }
    FZ_FAIL("text_of: the text never fit");
}

/* Adapters of the four text outputs to text_fn. ctx points to the session (or to a fuzz_hist). */
static inline FZ_NOCOV vt_status tf_prom(void *ctx, char *buf, size_t cap, size_t *len) { (void)ctx; return vt_prom_text(buf, cap, len); }
static inline FZ_NOCOV vt_status tf_snapshot(void *ctx, char *buf, size_t cap, size_t *len) {
    return vt_snapshot_json_at(*(vt_session *)ctx, 4000000000000000000ull, buf, cap, len);
}
static inline FZ_NOCOV vt_status tf_snapshot_now(void *ctx, char *buf, size_t cap, size_t *len) {
    return vt_snapshot_json(*(vt_session *)ctx, buf, cap, len);
}
static inline FZ_NOCOV vt_status tf_turn_last(void *ctx, char *buf, size_t cap, size_t *len) {
    return vt_turn_last_json(*(vt_session *)ctx, buf, cap, len);
}
typedef struct fuzz_hist { vt_session s; size_t max_turns; } fuzz_hist;
static inline FZ_NOCOV vt_status tf_turn_history(void *ctx, char *buf, size_t cap, size_t *len) {
    fuzz_hist *h = ctx;
    return vt_turn_history_json(h->s, h->max_turns, buf, cap, len);
}

/* The JSON outputs of a session parse (as objects, or an array / null where documented). */
static inline FZ_NOCOV void check_session_json(vt_session s) {
    size_t len;
    char *t = text_of(tf_snapshot, &s, &len);
    FZ_ASSERT(t, "snapshot of an open session failed: %s", vt_last_error());
    FZ_ASSERT(json_object_valid(t, len), "snapshot is not a JSON object: %s", t);
    free(t);
    t = text_of(tf_turn_last, &s, &len);
    FZ_ASSERT(t, "turn_last_json of an open session failed: %s", vt_last_error());
    FZ_ASSERT(strcmp(t, "null") == 0 || json_object_valid(t, len), "turn_last_json is not JSON: %s", t);
    free(t);
    fuzz_hist h = {s, 0};
    t = text_of(tf_turn_history, &h, &len);
    FZ_ASSERT(t, "turn_history_json of an open session failed: %s", vt_last_error());
    FZ_ASSERT(len >= 2 && t[0] == '[' && json_valid(t, len), "turn_history_json is not a JSON array: %s", t);
    free(t);
}

static inline FZ_NOCOV void check_prom(void) {
    size_t len;
    char *t = text_of(tf_prom, NULL, &len);
    FZ_ASSERT(t, "vt_prom_text failed: %s", vt_last_error());
    char why[512];
    const char *bad = prom_check(t, len, why, sizeof why);
    if (bad) {
        fprintf(stderr, "%s\n", t);
        FZ_FAIL("Prometheus text: %s", bad);
    }
    free(t);
}

/* A status is one of the documented codes, and a failing call left a non-empty UTF-8 message. */
static inline FZ_NOCOV void check_status(const char *what, vt_status st) {
    FZ_ASSERT(st <= 0 && st >= VT_E_PERMISSION, "%s returned the undocumented status %d", what, (int)st);
    FZ_ASSERT(st != VT_E_INTERNAL, "%s: VT_E_INTERNAL (%s)", what, vt_last_error());
    if (st != VT_OK) {
        const char *m = vt_last_error();
        FZ_ASSERT(m && m[0], "%s failed (%d) without a message", what, (int)st);
        FZ_ASSERT(utf8_valid(m, strlen(m)), "%s: the error message is not UTF-8", what);
    }
}

/* Self-test of the validators: a checker that accepts everything would hide findings. */
static inline FZ_NOCOV void fuzz_util_selftest(void) {
    static const char *const good[] = {"{}", "[]", "null", "0", "-0.5e+3", "{\"a\":[1,true,false,null,\"\\u00e9\\n\"]}",
                                       " {\"\xc3\xa9\":\"\xf0\x9f\x98\x80\"} "};
    static const char *const bad[] = {"", "{", "{}}", "[1,]", "{\"a\" 1}", "01", "1.", "-", "\"\x01\"", "\"\\x\"",
                                      "\"\xc0\xaf\"", "\"\xed\xa0\x80\"", "\"\xf4\x90\x80\x80\"", "{\"a\":1,}", "nul",
                                      "\"abc", "[1 2]", "{} {}", "NaN", "\"\xe2\x82\""};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        if (!json_valid(good[i], strlen(good[i]))) FZ_FAIL("selftest: valid JSON refused: %s", good[i]);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (json_valid(bad[i], strlen(bad[i]))) FZ_FAIL("selftest: invalid JSON accepted: %s", bad[i]);
    char why[256];
    static const char *const pgood = "# HELP a_total x\\\\y\\n\n# TYPE a_total counter\na_total{k=\"v\\\"\"} 1\n"
                                     "# HELP h h\n# TYPE h histogram\nh_bucket{le=\"0.5\",x=\"1\"} 1\nh_bucket{le=\"+Inf\",x=\"1\"} 2\n"
                                     "h_sum{x=\"1\"} 3.5\nh_count{x=\"1\"} 2\n# HELP q q\n# TYPE q summary\nq{quantile=\"0.5\"} NaN\n";
    if (prom_check(pgood, strlen(pgood), why, sizeof why)) FZ_FAIL("selftest: good exposition refused: %s", why);
    static const char *const pbad[] = {
        "a 1\n", "# TYPE a counter\na 1", "# TYPE a counter\nb 1\n", "# TYPE a counter\na{k=\"v} 1\n",
        "# TYPE a counter\na{k=\"\\t\"} 1\n", "# TYPE a counter\na x\n", "# TYPE a counter\n# TYPE a counter\n",
        "# TYPE a gauge\na 1\n# TYPE b gauge\nb 1\n# TYPE a gauge\n", "# TYPE a counter\na{b=\"1\",a=\"2\"} 1\n",
        "# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_count 1\n",
        "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_count 3\n", "# TYPE a counter\n\na 1\n",
    };
    for (size_t i = 0; i < sizeof pbad / sizeof pbad[0]; i++)
        if (!prom_check(pbad[i], strlen(pbad[i]), why, sizeof why)) FZ_FAIL("selftest: bad exposition accepted: %s", pbad[i]);
    if (prom_sum("# TYPE a counter\na{k=\"}\\\"\"} 2\na 3\nab 7\n", "a") != 5) FZ_FAIL("selftest: prom_sum");
}

#endif /* VT_FUZZ_UTIL_H */
