/*
 * json_mini.h -- a small, strict JSON (RFC 8259) tokenizer for sink plugins.
 *
 * jm_parse() checks one document and writes a flat array of tokens into memory the caller owns: it
 * never allocates, recurses at most JM_MAX_DEPTH levels and fails (it does not truncate) when the
 * token array is full. Strings are validated (escapes, control characters, UTF-8) but not copied:
 * a token points into the input, and jm_str() decodes one on demand.
 *
 * Tokens are stored in document order; each knows the index just past its subtree (`next`), so an
 * object's members are walked key, value, key, value... by jumping from one value's `next` to the
 * following key. Everything is static: include it in one .c file.
 */
#ifndef JSON_MINI_H
#define JSON_MINI_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define JM_MAX_DEPTH 64

enum jm_type { JM_NULL = 1, JM_FALSE, JM_TRUE, JM_NUMBER, JM_STRING, JM_ARRAY, JM_OBJECT };

typedef struct jm_tok {
    uint8_t type;     /* a jm_type */
    uint8_t escaped;  /* strings: the raw text holds a backslash escape */
    uint8_t integer;  /* numbers: no fraction, no exponent */
    uint8_t pad;
    uint32_t start;   /* strings: the first byte after the quote; others: the first byte */
    uint32_t len;     /* raw bytes (strings: between the quotes) */
    uint32_t next;    /* index of the first token after this one's subtree */
} jm_tok;

typedef struct jm_doc {
    const char *src;
    size_t len;
    jm_tok *tok;
    uint32_t cap;
    uint32_t count;
    size_t pos;            /* parse position; on failure, where it failed */
    const char *error;     /* on failure, what was wrong (static text) */
} jm_doc;

static inline int jm_value(jm_doc *d, int depth);

static inline int jm_fail(jm_doc *d, const char *why) {
    if (!d->error) d->error = why;
    return -1;
}

static inline void jm_ws(jm_doc *d) {
    while (d->pos < d->len) {
        char c = d->src[d->pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r') return;
        d->pos++;
    }
}

static inline int jm_new(jm_doc *d, uint8_t type, size_t start) {
    if (d->count >= d->cap) return jm_fail(d, "too many values");
    jm_tok *t = &d->tok[d->count];
    memset(t, 0, sizeof *t);
    t->type = type;
    t->start = (uint32_t)start;
    return (int)d->count++;
}

/* One UTF-8 sequence starting at a byte >= 0x80: its length, or 0 if it is not well formed. */
static inline size_t jm_utf8(const unsigned char *p, size_t avail) {
    unsigned c = p[0];
    size_t n;
    unsigned lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) n = 2;
    else if (c >= 0xE0 && c <= 0xEF) { n = 3; if (c == 0xE0) lo = 0xA0; if (c == 0xED) hi = 0x9F; }
    else if (c >= 0xF0 && c <= 0xF4) { n = 4; if (c == 0xF0) lo = 0x90; if (c == 0xF4) hi = 0x8F; }
    else return 0;
    if (avail < n || p[1] < lo || p[1] > hi) return 0;
    for (size_t i = 2; i < n; i++)
        if (p[i] < 0x80 || p[i] > 0xBF) return 0;
    return n;
}

static inline int jm_hex4(const char *p) {
    int v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        int h = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
              : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (h < 0) return -1;
        v = v * 16 + h;
    }
    return v;
}

static inline int jm_escape(jm_doc *d) {
    if (d->pos + 1 >= d->len) return jm_fail(d, "unterminated string");
    char c = d->src[d->pos + 1];
    if (c == 'u') {
        if (d->pos + 6 > d->len || jm_hex4(d->src + d->pos + 2) < 0) return jm_fail(d, "bad \\u escape");
        d->pos += 6;
        return 0;
    }
    if (!strchr("\"\\/bfnrt", c) || c == 0) return jm_fail(d, "bad escape");
    d->pos += 2;
    return 0;
}

static inline int jm_string(jm_doc *d) {
    int i = jm_new(d, JM_STRING, d->pos + 1);
    if (i < 0) return -1;
    const unsigned char *s = (const unsigned char *)d->src;
    d->pos++;
    for (;;) {
        size_t pos = d->pos, len = d->len; /* locals: the plain-ASCII loop stays in registers */
        while (pos < len && s[pos] >= 0x20 && s[pos] < 0x80 && s[pos] != '"' && s[pos] != '\\') pos++;
        d->pos = pos;
        if (d->pos >= d->len) return jm_fail(d, "unterminated string");
        unsigned c = s[d->pos];
        if (c == '"') break;
        if (c == '\\') {
            d->tok[i].escaped = 1;
            if (jm_escape(d) < 0) return -1;
        } else if (c < 0x20) {
            return jm_fail(d, "control character in a string");
        } else {
            size_t n = jm_utf8(s + d->pos, d->len - d->pos);
            if (n == 0) return jm_fail(d, "invalid UTF-8");
            d->pos += n;
        }
    }
    d->tok[i].len = (uint32_t)(d->pos - d->tok[i].start);
    d->pos++;
    d->tok[i].next = d->count;
    return i;
}

static inline size_t jm_digits(jm_doc *d) {
    size_t n = 0;
    while (d->pos < d->len && d->src[d->pos] >= '0' && d->src[d->pos] <= '9') d->pos++, n++;
    return n;
}

static inline int jm_number(jm_doc *d) {
    size_t start = d->pos;
    int i = jm_new(d, JM_NUMBER, start);
    if (i < 0) return -1;
    if (d->src[d->pos] == '-') d->pos++;
    if (d->pos < d->len && d->src[d->pos] == '0') d->pos++;
    else if (jm_digits(d) == 0) return jm_fail(d, "bad number");
    d->tok[i].integer = 1;
    if (d->pos < d->len && d->src[d->pos] == '.') {
        d->pos++;
        d->tok[i].integer = 0;
        if (jm_digits(d) == 0) return jm_fail(d, "bad number");
    }
    if (d->pos < d->len && (d->src[d->pos] == 'e' || d->src[d->pos] == 'E')) {
        d->pos++;
        d->tok[i].integer = 0;
        if (d->pos < d->len && (d->src[d->pos] == '+' || d->src[d->pos] == '-')) d->pos++;
        if (jm_digits(d) == 0) return jm_fail(d, "bad number");
    }
    d->tok[i].len = (uint32_t)(d->pos - start);
    d->tok[i].next = d->count;
    return i;
}

static inline int jm_literal(jm_doc *d, const char *word, uint8_t type) {
    size_t n = strlen(word);
    if (d->len - d->pos < n || memcmp(d->src + d->pos, word, n) != 0) return jm_fail(d, "unexpected character");
    int i = jm_new(d, type, d->pos);
    if (i < 0) return -1;
    d->pos += n;
    d->tok[i].len = (uint32_t)n;
    d->tok[i].next = d->count;
    return i;
}

/* An object's or array's members, after its opening bracket; `close` is '}' or ']'. */
static inline int jm_members(jm_doc *d, char close, int depth) {
    jm_ws(d);
    if (d->pos < d->len && d->src[d->pos] == close) {
        d->pos++;
        return 0;
    }
    for (;;) {
        jm_ws(d);
        if (close == '}') {
            if (d->pos >= d->len || d->src[d->pos] != '"') return jm_fail(d, "expected a key");
            if (jm_string(d) < 0) return -1;
            jm_ws(d);
            if (d->pos >= d->len || d->src[d->pos] != ':') return jm_fail(d, "expected ':'");
            d->pos++;
        }
        if (jm_value(d, depth + 1) < 0) return -1;
        jm_ws(d);
        if (d->pos >= d->len) return jm_fail(d, "unterminated object or array");
        char c = d->src[d->pos++];
        if (c == close) return 0;
        if (c != ',') return jm_fail(d, close == '}' ? "expected ',' or '}'" : "expected ',' or ']'");
    }
}

static inline int jm_value(jm_doc *d, int depth) {
    if (depth > JM_MAX_DEPTH) return jm_fail(d, "nested too deeply");
    jm_ws(d);
    if (d->pos >= d->len) return jm_fail(d, "expected a value");
    char c = d->src[d->pos];
    if (c == '{' || c == '[') {
        int i = jm_new(d, c == '{' ? JM_OBJECT : JM_ARRAY, d->pos);
        if (i < 0) return -1;
        d->pos++;
        if (jm_members(d, c == '{' ? '}' : ']', depth) < 0) return -1;
        d->tok[i].len = (uint32_t)(d->pos - d->tok[i].start);
        d->tok[i].next = d->count;
        return i;
    }
    if (c == '"') return jm_string(d);
    if (c == '-' || (c >= '0' && c <= '9')) return jm_number(d);
    if (c == 't') return jm_literal(d, "true", JM_TRUE);
    if (c == 'f') return jm_literal(d, "false", JM_FALSE);
    if (c == 'n') return jm_literal(d, "null", JM_NULL);
    return jm_fail(d, "unexpected character");
}

/* Parse src[0..len) as one JSON document (surrounding white space allowed). 0 on success. */
static inline int jm_parse(jm_doc *d, const char *src, size_t len, jm_tok *tok, uint32_t cap) {
    d->src = src;
    d->len = len;
    d->tok = tok;
    d->cap = cap;
    d->count = 0;
    d->pos = 0;
    d->error = NULL;
    if (len > UINT32_MAX / 2) return jm_fail(d, "document too long");
    if (jm_value(d, 0) < 0) return -1;
    jm_ws(d);
    if (d->pos != d->len) return jm_fail(d, "text after the value");
    return 0;
}

/* ---- reading -------------------------------------------------------------------------------- */

/* Does string token k spell `key`? (Keys with escapes are compared decoded.) */
static inline int jm_key_is(const jm_doc *d, int k, const char *key, size_t key_len);

/* The value of `key` in object token `obj`, or -1 (also when obj is not an object). */
static inline int jm_get(const jm_doc *d, int obj, const char *key) {
    if (obj < 0 || d->tok[obj].type != JM_OBJECT) return -1;
    size_t key_len = strlen(key);
    uint32_t i = (uint32_t)obj + 1, end = d->tok[obj].next;
    while (i < end) {
        if (jm_key_is(d, (int)i, key, key_len)) return (int)i + 1;
        i = d->tok[i + 1].next;
    }
    return -1;
}

/* The value of obj.a.b, or -1. */
static inline int jm_get2(const jm_doc *d, int obj, const char *a, const char *b) {
    return jm_get(d, jm_get(d, obj, a), b);
}

static inline int jm_is(const jm_doc *d, int i, uint8_t type) { return i >= 0 && d->tok[i].type == type; }

/* Append code point cp as UTF-8. */
static inline size_t jm_put_utf8(char *o, unsigned long cp) {
    if (cp < 0x80) { o[0] = (char)cp; return 1; }
    if (cp < 0x800) { o[0] = (char)(0xC0 | (cp >> 6)); o[1] = (char)(0x80 | (cp & 0x3F)); return 2; }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | (cp >> 12)); o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | (cp >> 18)); o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3F)); o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Decode the escapes of raw string bytes p[0..n) into out (room for n bytes: decoding never
 * grows a string). Lone surrogates become U+FFFD. Returns the decoded length. */
static inline size_t jm_unescape(const char *p, size_t n, char *out) {
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        if (p[i] != '\\') { out[o++] = p[i++]; continue; }
        char c = p[i + 1];
        i += 2;
        if (c != 'u') {
            out[o++] = c == 'b' ? '\b' : c == 'f' ? '\f' : c == 'n' ? '\n' : c == 'r' ? '\r' : c == 't' ? '\t' : c;
            continue;
        }
        unsigned long cp = (unsigned long)jm_hex4(p + i);
        i += 4;
        if (cp >= 0xD800 && cp <= 0xDBFF && i + 6 <= n && p[i] == '\\' && p[i + 1] == 'u') {
            int lo = jm_hex4(p + i + 2);
            if (lo >= 0xDC00 && lo <= 0xDFFF) {
                cp = 0x10000 + ((cp - 0xD800) << 10) + ((unsigned long)lo - 0xDC00);
                i += 6;
            }
        }
        if (cp >= 0xD800 && cp <= 0xDFFF) cp = 0xFFFD; /* 3 bytes: fits in the 6 of its escape */
        o += jm_put_utf8(out + o, cp);
    }
    return o;
}

static inline int jm_key_is(const jm_doc *d, int k, const char *key, size_t key_len) {
    const jm_tok *t = &d->tok[k];
    const char *raw = d->src + t->start;
    if (!t->escaped) return t->len == key_len && memcmp(raw, key, key_len) == 0;
    char buf[256];
    if (t->len > sizeof buf) return 0;
    size_t n = jm_unescape(raw, t->len, buf);
    return n == key_len && memcmp(buf, key, key_len) == 0;
}

/* An integer token's value (must fit in int64). 0 on success. */
static inline int jm_int(const jm_doc *d, int i, int64_t *out) {
    if (!jm_is(d, i, JM_NUMBER) || !d->tok[i].integer || d->tok[i].len > 20) return -1;
    const char *p = d->src + d->tok[i].start, *end = p + d->tok[i].len;
    int neg = *p == '-';
    p += neg;
    uint64_t v = 0;
    for (; p < end; p++) {
        uint64_t digit = (uint64_t)(*p - '0');
        if (v > (UINT64_MAX - digit) / 10) return -1;
        v = v * 10 + digit;
    }
    if (v > (uint64_t)INT64_MAX + (uint64_t)neg) return -1;
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return 0;
}

/* Any number token as a double. 0 on success. */
static inline int jm_double(const jm_doc *d, int i, double *out) {
    if (!jm_is(d, i, JM_NUMBER) || d->tok[i].len >= 64) return -1;
    char buf[64];
    memcpy(buf, d->src + d->tok[i].start, d->tok[i].len);
    buf[d->tok[i].len] = 0;
    *out = strtod(buf, NULL);
    return 0;
}

#endif /* JSON_MINI_H */
