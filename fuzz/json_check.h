/*
 * json_check.h -- a strict RFC 8259 JSON validator and a UTF-8 validator (header-only; used by the fuzz
 * targets and by the checking sink plugin, which must not depend on voicetelemetry.h).
 */
#ifndef VT_FUZZ_JSON_CHECK_H
#define VT_FUZZ_JSON_CHECK_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* The checkers are not coverage-instrumented: their branches are not the library's, and tracing each
 * byte comparison of a validator would cost the fuzzer most of its executions. */
#if defined(__clang__)
#define FZ_NOCOV __attribute__((no_sanitize("coverage")))
#else
#define FZ_NOCOV
#endif

/* ---- strict JSON (RFC 8259) ---------------------------------------------------------------------- */

typedef struct json_cur {
    const unsigned char *p, *end;
    int depth;
} json_cur;

static inline FZ_NOCOV void json_ws(json_cur *c) {
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r')) c->p++;
}

/* One UTF-8 sequence at c->p (not ASCII): well-formed, shortest form, no surrogates, <= U+10FFFF. */
static inline FZ_NOCOV int utf8_seq(const unsigned char **pp, const unsigned char *end) {
    const unsigned char *p = *pp;
    unsigned char b = *p;
    uint32_t cp;
    int n;
    if (b >= 0xC2 && b <= 0xDF) { n = 1; cp = b & 0x1F; }
    else if (b >= 0xE0 && b <= 0xEF) { n = 2; cp = b & 0x0F; }
    else if (b >= 0xF0 && b <= 0xF4) { n = 3; cp = b & 0x07; }
    else return 0;
    if (end - p <= n) return 0;
    for (int i = 1; i <= n; i++) {
        if ((p[i] & 0xC0) != 0x80) return 0;
        cp = cp << 6 | (p[i] & 0x3F);
    }
    if (n == 2 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) return 0;
    if (n == 3 && (cp < 0x10000 || cp > 0x10FFFF)) return 0;
    *pp = p + n + 1;
    return 1;
}

/* Whole buffer is valid UTF-8 (used for the Prometheus text and error messages). */
static inline FZ_NOCOV int utf8_valid(const char *s, size_t len) {
    const unsigned char *p = (const unsigned char *)s, *end = p + len;
    while (p < end) {
        if (*p < 0x80) { p++; continue; }
        if (!utf8_seq(&p, end)) return 0;
    }
    return 1;
}

static inline FZ_NOCOV int json_value(json_cur *c);

static inline FZ_NOCOV int json_string(json_cur *c) {
    if (c->p >= c->end || *c->p != '"') return 0;
    c->p++;
    while (c->p < c->end) {
        unsigned char b = *c->p;
        if (b == '"') { c->p++; return 1; }
        if (b < 0x20) return 0;
        if (b == '\\') {
            c->p++;
            if (c->p >= c->end) return 0;
            switch (*c->p) {
            case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't': c->p++; break;
            case 'u':
                if (c->end - c->p < 5) return 0;
                for (int i = 1; i <= 4; i++) {
                    unsigned char h = c->p[i];
                    if (!((h >= '0' && h <= '9') || (h >= 'a' && h <= 'f') || (h >= 'A' && h <= 'F'))) return 0;
                }
                c->p += 5;
                break;
            default: return 0;
            }
            continue;
        }
        if (b < 0x80) { c->p++; continue; }
        if (!utf8_seq(&c->p, c->end)) return 0;
    }
    return 0;
}

static inline FZ_NOCOV int json_digits(json_cur *c) {
    const unsigned char *s = c->p;
    while (c->p < c->end && *c->p >= '0' && *c->p <= '9') c->p++;
    return c->p > s;
}

static inline FZ_NOCOV int json_number(json_cur *c) {
    if (c->p < c->end && *c->p == '-') c->p++;
    if (c->p >= c->end) return 0;
    if (*c->p == '0') c->p++;
    else if (!json_digits(c)) return 0;
    if (c->p < c->end && *c->p == '.') { c->p++; if (!json_digits(c)) return 0; }
    if (c->p < c->end && (*c->p == 'e' || *c->p == 'E')) {
        c->p++;
        if (c->p < c->end && (*c->p == '+' || *c->p == '-')) c->p++;
        if (!json_digits(c)) return 0;
    }
    return 1;
}

static inline FZ_NOCOV int json_lit(json_cur *c, const char *w) {
    size_t n = strlen(w);
    if ((size_t)(c->end - c->p) < n || memcmp(c->p, w, n) != 0) return 0;
    c->p += n;
    return 1;
}

static inline FZ_NOCOV int json_value(json_cur *c) {
    json_ws(c);
    if (c->p >= c->end) return 0;
    switch (*c->p) {
    case '{':
        if (++c->depth > 512) return 0;
        c->p++;
        json_ws(c);
        if (c->p < c->end && *c->p == '}') { c->p++; c->depth--; return 1; }
        for (;;) {
            json_ws(c);
            if (!json_string(c)) return 0;
            json_ws(c);
            if (c->p >= c->end || *c->p != ':') return 0;
            c->p++;
            if (!json_value(c)) return 0;
            json_ws(c);
            if (c->p >= c->end) return 0;
            if (*c->p == ',') { c->p++; continue; }
            if (*c->p == '}') { c->p++; c->depth--; return 1; }
            return 0;
        }
    case '[':
        if (++c->depth > 512) return 0;
        c->p++;
        json_ws(c);
        if (c->p < c->end && *c->p == ']') { c->p++; c->depth--; return 1; }
        for (;;) {
            if (!json_value(c)) return 0;
            json_ws(c);
            if (c->p >= c->end) return 0;
            if (*c->p == ',') { c->p++; continue; }
            if (*c->p == ']') { c->p++; c->depth--; return 1; }
            return 0;
        }
    case '"': return json_string(c);
    case 't': return json_lit(c, "true");
    case 'f': return json_lit(c, "false");
    case 'n': return json_lit(c, "null");
    default: return json_number(c);
    }
}

/* 1 when s[0..len) is exactly one JSON value (surrounding whitespace allowed). */
static inline FZ_NOCOV int json_valid(const char *s, size_t len) {
    json_cur c = {(const unsigned char *)s, (const unsigned char *)s + len, 0};
    if (!json_value(&c)) return 0;
    json_ws(&c);
    return c.p == c.end;
}

/* 1 when s is one JSON object. */
static inline FZ_NOCOV int json_object_valid(const char *s, size_t len) {
    size_t i = 0;
    while (i < len && (s[i] == ' ' || s[i] == '\n' || s[i] == '\t' || s[i] == '\r')) i++;
    return i < len && s[i] == '{' && json_valid(s, len);
}

#endif /* VT_FUZZ_JSON_CHECK_H */
