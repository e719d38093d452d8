#define _GNU_SOURCE
/*
 * json.c -- a small strict JSON reader (RFC 8259): a document becomes a flat array of nodes, each
 * container followed by its children; strings and numbers point into the text (not copied).
 */
#include <stdlib.h>
#include <string.h>

#include "otlp.h"

#define JSON_MAX_DEPTH 64

typedef struct jp {
    jdoc *d;
    const char *p, *end;
    int depth;
} jp;

static void skip_ws(jp *s) {
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r')) s->p++;
}

static long new_node(jp *s, int type) {
    jdoc *d = s->d;
    if (d->count == d->cap) {
        uint32_t cap = d->cap ? d->cap * 2 : 256;
        jnode *n = realloc(d->n, (size_t)cap * sizeof *n);
        if (!n) return -1;
        d->n = n;
        d->cap = cap;
    }
    jnode *n = &d->n[d->count];
    memset(n, 0, sizeof *n);
    n->type = (uint8_t)type;
    return (long)d->count++;
}

static int hex4(const char *p) {
    int v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        v <<= 4;
        if (c >= '0' && c <= '9') v |= c - '0';
        else if (c >= 'a' && c <= 'f') v |= c - 'a' + 10;
        else if (c >= 'A' && c <= 'F') v |= c - 'A' + 10;
        else return -1;
    }
    return v;
}

/* Length of a valid UTF-8 sequence at p (at most n bytes available), 0 if invalid. */
static int utf8_len(const unsigned char *p, size_t n) {
    unsigned c = p[0];
    int len;
    unsigned min;
    if (c < 0x80) return 1;
    if (c >= 0xC2 && c <= 0xDF) len = 2, min = 0x80;
    else if (c >= 0xE0 && c <= 0xEF) len = 3, min = 0x800;
    else if (c >= 0xF0 && c <= 0xF4) len = 4, min = 0x10000;
    else return 0;
    if ((size_t)len > n) return 0;
    unsigned v = c & (0x3F >> (len - 1));
    for (int i = 1; i < len; i++) {
        if ((p[i] & 0xC0) != 0x80) return 0;
        v = (v << 6) | (p[i] & 0x3F);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) return 0;
    return len;
}

static int parse_string(jp *s, long idx) {
    const char *start = ++s->p; /* after the quote */
    int escaped = 0;
    while (s->p < s->end) {
        unsigned char c = (unsigned char)*s->p;
        if (c == '"') break;
        if (c < 0x20) return -1;
        if (c == '\\') {
            escaped = 1;
            if (s->p + 1 >= s->end) return -1;
            char e = s->p[1];
            if (e == 'u') {
                if (s->end - s->p < 6 || hex4(s->p + 2) < 0) return -1;
                s->p += 6;
            } else if (strchr("\"\\/bfnrt", e) && e) {
                s->p += 2;
            } else {
                return -1;
            }
            continue;
        }
        int n = utf8_len((const unsigned char *)s->p, (size_t)(s->end - s->p));
        if (!n) return -1;
        s->p += n;
    }
    if (s->p >= s->end) return -1;
    jnode *n = &s->d->n[idx];
    n->p = start;
    n->len = (uint32_t)(s->p - start);
    n->escaped = (uint8_t)escaped;
    s->p++;
    return 0;
}

static int parse_number(jp *s, long idx) {
    const char *p = s->p, *start = p;
    if (p < s->end && *p == '-') p++;
    if (p >= s->end) return -1;
    if (*p == '0') p++;
    else if (*p >= '1' && *p <= '9') while (p < s->end && *p >= '0' && *p <= '9') p++;
    else return -1;
    if (p < s->end && *p == '.') {
        p++;
        if (p >= s->end || *p < '0' || *p > '9') return -1;
        while (p < s->end && *p >= '0' && *p <= '9') p++;
    }
    if (p < s->end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < s->end && (*p == '+' || *p == '-')) p++;
        if (p >= s->end || *p < '0' || *p > '9') return -1;
        while (p < s->end && *p >= '0' && *p <= '9') p++;
    }
    s->d->n[idx].p = start;
    s->d->n[idx].len = (uint32_t)(p - start);
    s->p = p;
    return 0;
}

static long parse_value(jp *s);

/* Parses the members of an object or the elements of an array; s->p is after the opening bracket. */
static int parse_container(jp *s, long idx, int obj) {
    char close = obj ? '}' : ']';
    uint32_t prev = 0, kids = 0;
    skip_ws(s);
    if (s->p < s->end && *s->p == close) {
        s->p++;
        return 0;
    }
    for (;;) {
        skip_ws(s);
        long child;
        if (obj) {
            if (s->p >= s->end || *s->p != '"') return -1;
            child = new_node(s, JT_STR);
            if (child < 0 || parse_string(s, child)) return -1;
            skip_ws(s);
            if (s->p >= s->end || *s->p++ != ':') return -1;
            if (parse_value(s) < 0) return -1;
        } else {
            child = parse_value(s);
            if (child < 0) return -1;
        }
        if (prev) s->d->n[prev].next = (uint32_t)child;
        prev = (uint32_t)child;
        kids++;
        skip_ws(s);
        if (s->p >= s->end) return -1;
        char c = *s->p++;
        if (c == close) break;
        if (c != ',') return -1;
    }
    s->d->n[idx].kids = kids;
    return 0;
}

static int literal(jp *s, const char *word) {
    size_t n = strlen(word);
    if ((size_t)(s->end - s->p) < n || memcmp(s->p, word, n) != 0) return -1;
    s->p += n;
    return 0;
}

static long parse_value(jp *s) {
    skip_ws(s);
    if (s->p >= s->end) return -1;
    char c = *s->p;
    long idx;
    int rc;
    if (c == '{' || c == '[') {
        if (++s->depth > JSON_MAX_DEPTH) return -1;
        idx = new_node(s, c == '{' ? JT_OBJ : JT_ARR);
        if (idx < 0) return -1;
        s->p++;
        rc = parse_container(s, idx, c == '{');
        s->depth--;
    } else if (c == '"') {
        idx = new_node(s, JT_STR);
        rc = idx < 0 ? -1 : parse_string(s, idx);
    } else if (c == 't' || c == 'f' || c == 'n') {
        idx = new_node(s, c == 't' ? JT_TRUE : c == 'f' ? JT_FALSE : JT_NULL);
        rc = idx < 0 ? -1 : literal(s, c == 't' ? "true" : c == 'f' ? "false" : "null");
    } else {
        idx = new_node(s, JT_NUM);
        rc = idx < 0 ? -1 : parse_number(s, idx);
    }
    return rc ? -1 : idx;
}

int json_parse(jdoc *d, const char *text, size_t len) {
    jp s = {d, text, text + len, 0};
    d->count = 0;
    if (new_node(&s, JT_NULL) != 0) return -1; /* node 0: "absent" */
    if (parse_value(&s) != JROOT) return -1;
    skip_ws(&s);
    return s.p == s.end ? 0 : -1;
}

void json_free(jdoc *d) {
    free(d->n);
    d->n = NULL;
    d->count = d->cap = 0;
}

uint32_t json_first(const jdoc *d, uint32_t node) {
    if (!node || node >= d->count || d->n[node].kids == 0) return 0;
    return node + 1;
}

uint32_t json_value(const jdoc *d, uint32_t key) {
    (void)d;
    return key + 1;
}

int json_is(const jdoc *d, uint32_t node, int type) {
    return node && node < d->count && d->n[node].type == type;
}

uint32_t json_get(const jdoc *d, uint32_t obj, const char *key) {
    if (!obj || obj >= d->count || d->n[obj].type != JT_OBJ) return 0;
    size_t n = strlen(key);
    for (uint32_t k = json_first(d, obj); k; k = d->n[k].next) {
        const jnode *kn = &d->n[k];
        if (kn->len == n && !kn->escaped && memcmp(kn->p, key, n) == 0) return k + 1;
    }
    return 0;
}

int json_i64(const jdoc *d, uint32_t node, int64_t *out) {
    if (!node || node >= d->count || d->n[node].type != JT_NUM) return -1;
    const jnode *n = &d->n[node];
    const char *p = n->p, *end = n->p + n->len;
    int neg = *p == '-';
    uint64_t v = 0, limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    for (p += neg; p < end; p++) {
        if (*p < '0' || *p > '9') return -1; /* a fraction or an exponent: not an integer */
        unsigned digit = (unsigned)(*p - '0');
        if (v > (limit - digit) / 10) return -1;
        v = v * 10 + digit;
    }
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return 0;
}

int json_f64(const jdoc *d, uint32_t node, double *out) {
    if (!node || node >= d->count || d->n[node].type != JT_NUM) return -1;
    const jnode *n = &d->n[node];
    char tmp[64];
    if (n->len >= sizeof tmp) return -1;
    memcpy(tmp, n->p, n->len);
    tmp[n->len] = 0;
    *out = strtod(tmp, NULL);
    return 0;
}

static size_t put_utf8(char *o, unsigned v) {
    if (v < 0x80) { o[0] = (char)v; return 1; }
    if (v < 0x800) { o[0] = (char)(0xC0 | (v >> 6)); o[1] = (char)(0x80 | (v & 0x3F)); return 2; }
    if (v < 0x10000) {
        o[0] = (char)(0xE0 | (v >> 12)); o[1] = (char)(0x80 | ((v >> 6) & 0x3F));
        o[2] = (char)(0x80 | (v & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | (v >> 18)); o[1] = (char)(0x80 | ((v >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((v >> 6) & 0x3F)); o[3] = (char)(0x80 | (v & 0x3F));
    return 4;
}

/* One escape at p (after the backslash); returns bytes consumed from p, writes to o, *w = written. */
static size_t unescape(const char *p, const char *end, char *o, size_t *w) {
    static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
    if (*p != 'u') {
        o[0] = to[strchr(from, *p) - from];
        *w = 1;
        return 1;
    }
    unsigned v = (unsigned)hex4(p + 1);
    size_t used = 5;
    if (v >= 0xD800 && v <= 0xDBFF && end - p >= 11 && p[5] == '\\' && p[6] == 'u') {
        int lo = hex4(p + 7);
        if (lo >= 0xDC00 && lo <= 0xDFFF) {
            v = 0x10000 + ((v - 0xD800) << 10) + ((unsigned)lo - 0xDC00);
            used = 11;
        }
    }
    if (v >= 0xD800 && v <= 0xDFFF) v = 0xFFFD; /* a lone surrogate */
    *w = put_utf8(o, v);
    return used;
}

long json_str(const jdoc *d, uint32_t node, char *out, size_t cap) {
    if (!node || node >= d->count || d->n[node].type != JT_STR) return -1;
    const jnode *n = &d->n[node];
    if (!n->escaped) {
        if (n->len + 1 > cap) return -1;
        memcpy(out, n->p, n->len);
        out[n->len] = 0;
        return n->len;
    }
    size_t w = 0;
    const char *p = n->p, *end = n->p + n->len;
    while (p < end) {
        char tmp[4];
        size_t k = 1;
        if (*p == '\\') p += 1 + unescape(p + 1, end, tmp, &k);
        else tmp[0] = *p++;
        if (w + k + 1 > cap) return -1;
        memcpy(out + w, tmp, k);
        w += k;
    }
    out[w] = 0;
    return (long)w;
}

char *json_strdup(const jdoc *d, uint32_t node) {
    if (!node || node >= d->count || d->n[node].type != JT_STR) return NULL;
    size_t cap = (size_t)d->n[node].len + 1;
    char *s = malloc(cap);
    if (s && json_str(d, node, s, cap) < 0) {
        free(s);
        return NULL;
    }
    return s;
}

int64_t json_get_i64(const jdoc *d, uint32_t obj, const char *key, int *ok) {
    int64_t v = 0;
    *ok = json_i64(d, json_get(d, obj, key), &v) == 0;
    return *ok ? v : 0;
}
