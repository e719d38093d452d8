#define _GNU_SOURCE
/*
 * enc.c -- one writer API, two wire forms: protobuf (field numbers of the OTLP protos) and OTLP/JSON
 * (lowerCamelCase names, hex ids, 64-bit integers as decimal strings, enums as numbers).
 *
 * Protobuf nested messages: the writer reserves 5 bytes for the length, writes the content, then
 * writes the real varint and moves the content back over the unused reserve.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "otlp.h"

/* ---- buffer ------------------------------------------------------------------------------------- */

void buf_reserve(buf *b, size_t extra) {
    if (b->oom || b->len + extra <= b->cap) return;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + extra) cap *= 2;
    uint8_t *p = realloc(b->p, cap);
    if (!p) {
        b->oom = 1;
        return;
    }
    b->p = p;
    b->cap = cap;
}

void buf_put(buf *b, const void *p, size_t n) {
    buf_reserve(b, n);
    if (b->oom) return;
    memcpy(b->p + b->len, p, n);
    b->len += n;
}

void buf_free(buf *b) {
    free(b->p);
    memset(b, 0, sizeof *b);
}

static void put_byte(buf *b, uint8_t c) {
    buf_reserve(b, 1);
    if (!b->oom) b->p[b->len++] = c;
}

static void put_varint(buf *b, uint64_t v) {
    buf_reserve(b, 10);
    if (b->oom) return;
    while (v >= 0x80) {
        b->p[b->len++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    b->p[b->len++] = (uint8_t)v;
}

static void put_le64(buf *b, uint64_t v) {
    uint8_t t[8];
    for (int i = 0; i < 8; i++) t[i] = (uint8_t)(v >> (8 * i));
    buf_put(b, t, 8);
}

static void put_tag(buf *b, uint32_t field, int wire) { put_varint(b, ((uint64_t)field << 3) | (uint64_t)wire); }

static void put_cstr(buf *b, const char *s) { buf_put(b, s, strlen(s)); }

/* A JSON string literal: escapes quotes, backslashes and control characters (input is UTF-8). */
static void put_json_string(buf *b, const char *s, size_t n) {
    static const char hex[] = "0123456789abcdef";
    buf_reserve(b, n + 2);
    put_byte(b, '"');
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\') continue;
        buf_put(b, s + run, i - run);
        run = i + 1;
        char esc[6] = {'\\', 0, 0, 0, 0, 0};
        size_t k = 2;
        if (c == '"' || c == '\\') esc[1] = (char)c;
        else if (c == '\n') esc[1] = 'n';
        else if (c == '\t') esc[1] = 't';
        else if (c == '\r') esc[1] = 'r';
        else {
            esc[1] = 'u', esc[2] = '0', esc[3] = '0', esc[4] = hex[c >> 4], esc[5] = hex[c & 15];
            k = 6;
        }
        buf_put(b, esc, k);
    }
    buf_put(b, s + run, n - run);
    put_byte(b, '"');
}

/* ---- writer --------------------------------------------------------------------------------------- */

void enc_init(enc *e, buf *b, int json) {
    memset(e, 0, sizeof *e);
    e->b = b;
    e->json = json;
    e->first[0] = 1;
    if (json) put_byte(b, '{');
}

void enc_finish(enc *e) {
    if (e->json) put_byte(e->b, '}');
}

/* JSON: the separator and, outside arrays, the member name. */
static void jkey(enc *e, const char *name) {
    if (!e->first[e->depth]) put_byte(e->b, ',');
    e->first[e->depth] = 0;
    if (e->in_array[e->depth]) return;
    put_byte(e->b, '"');
    put_cstr(e->b, name);
    buf_put(e->b, "\":", 2);
}

static uint32_t fieldno(enc *e, uint32_t field) { return e->in_array[e->depth] ? e->afield[e->depth] : field; }

static void push(enc *e, int array) {
    if (e->depth + 1 >= ENC_DEPTH) {
        e->b->oom = 1; /* a programming error: report it as an incomplete body */
        return;
    }
    e->depth++;
    e->first[e->depth] = 1;
    e->in_array[e->depth] = (uint8_t)array;
}

void enc_msg_begin(enc *e, uint32_t field, const char *name) {
    if (e->json) {
        jkey(e, name);
        put_byte(e->b, '{');
    } else {
        put_tag(e->b, fieldno(e, field), 2);
        buf_reserve(e->b, 5);
        e->mark[e->depth + 1] = e->b->len;
        if (!e->b->oom) e->b->len += 5;
    }
    push(e, 0);
}

void enc_msg_end(enc *e) {
    size_t mark = e->mark[e->depth];
    e->depth--;
    if (e->json) {
        put_byte(e->b, '}');
        return;
    }
    buf *b = e->b;
    if (b->oom) return;
    size_t body = b->len - mark - 5;
    uint8_t v[5];
    size_t k = 0;
    uint64_t n = body;
    while (n >= 0x80) v[k++] = (uint8_t)(n | 0x80), n >>= 7;
    v[k++] = (uint8_t)n;
    memcpy(b->p + mark, v, k);
    memmove(b->p + mark + k, b->p + mark + 5, body);
    b->len -= 5 - k;
}

void enc_arr_begin(enc *e, uint32_t field, const char *name) {
    if (e->json) {
        jkey(e, name);
        put_byte(e->b, '[');
    }
    push(e, 1);
    e->afield[e->depth] = field;
}

void enc_arr_end(enc *e) {
    e->depth--;
    if (e->json) put_byte(e->b, ']');
}

void enc_str(enc *e, uint32_t field, const char *name, const char *s, size_t n) {
    if (e->json) {
        jkey(e, name);
        put_json_string(e->b, s, n);
        return;
    }
    put_tag(e->b, fieldno(e, field), 2);
    put_varint(e->b, n);
    buf_put(e->b, s, n);
}

void enc_cstr(enc *e, uint32_t field, const char *name, const char *s) { enc_str(e, field, name, s, strlen(s)); }

void enc_id(enc *e, uint32_t field, const char *name, const uint8_t *id, size_t n) {
    if (!e->json) {
        enc_str(e, field, name, (const char *)id, n);
        return;
    }
    static const char hex[] = "0123456789abcdef";
    char h[64];
    for (size_t i = 0; i < n && i < 32; i++) h[2 * i] = hex[id[i] >> 4], h[2 * i + 1] = hex[id[i] & 15];
    enc_str(e, field, name, h, 2 * (n < 32 ? n : 32));
}

static void json_u64(enc *e, const char *name, uint64_t v, int quoted) {
    char t[24];
    int n = snprintf(t, sizeof t, quoted ? "\"%llu\"" : "%llu", (unsigned long long)v);
    jkey(e, name);
    buf_put(e->b, t, (size_t)n);
}

void enc_fixed64(enc *e, uint32_t field, const char *name, uint64_t v) {
    if (e->json) {
        json_u64(e, name, v, 1);
        return;
    }
    put_tag(e->b, fieldno(e, field), 1);
    put_le64(e->b, v);
}

void enc_sfixed64(enc *e, uint32_t field, const char *name, int64_t v) {
    if (e->json) {
        char t[24];
        int n = snprintf(t, sizeof t, "\"%lld\"", (long long)v);
        jkey(e, name);
        buf_put(e->b, t, (size_t)n);
        return;
    }
    put_tag(e->b, fieldno(e, field), 1);
    put_le64(e->b, (uint64_t)v);
}

void enc_int64(enc *e, uint32_t field, const char *name, int64_t v) {
    if (e->json) {
        enc_sfixed64(e, field, name, v); /* same JSON text */
        return;
    }
    put_tag(e->b, fieldno(e, field), 0);
    put_varint(e->b, (uint64_t)v);
}

void enc_uint32(enc *e, uint32_t field, const char *name, uint32_t v) {
    if (e->json) {
        json_u64(e, name, v, 0);
        return;
    }
    put_tag(e->b, fieldno(e, field), 0);
    put_varint(e->b, v);
}

void enc_bool(enc *e, uint32_t field, const char *name, int v) {
    if (e->json) {
        jkey(e, name);
        put_cstr(e->b, v ? "true" : "false");
        return;
    }
    put_tag(e->b, fieldno(e, field), 0);
    put_byte(e->b, v ? 1 : 0);
}

static void json_double(buf *b, double v) {
    if (isnan(v)) put_cstr(b, "\"NaN\"");
    else if (isinf(v)) put_cstr(b, v > 0 ? "\"Infinity\"" : "\"-Infinity\"");
    else {
        char t[40];
        int n = snprintf(t, sizeof t, "%.17g", v);
        buf_put(b, t, (size_t)n);
    }
}

void enc_double(enc *e, uint32_t field, const char *name, double v) {
    if (e->json) {
        jkey(e, name);
        json_double(e->b, v);
        return;
    }
    uint64_t u;
    memcpy(&u, &v, 8);
    put_tag(e->b, fieldno(e, field), 1);
    put_le64(e->b, u);
}

void enc_packed_fixed64(enc *e, uint32_t field, const char *name, const uint64_t *v, size_t n) {
    if (e->json) {
        enc_arr_begin(e, field, name);
        for (size_t i = 0; i < n; i++) json_u64(e, NULL, v[i], 1);
        enc_arr_end(e);
        return;
    }
    put_tag(e->b, field, 2);
    put_varint(e->b, 8 * n);
    for (size_t i = 0; i < n; i++) put_le64(e->b, v[i]);
}

void enc_packed_double(enc *e, uint32_t field, const char *name, const double *v, size_t n) {
    if (e->json) {
        enc_arr_begin(e, field, name);
        for (size_t i = 0; i < n; i++) {
            jkey(e, NULL);
            json_double(e->b, v[i]);
        }
        enc_arr_end(e);
        return;
    }
    put_tag(e->b, field, 2);
    put_varint(e->b, 8 * n);
    for (size_t i = 0; i < n; i++) {
        uint64_t u;
        memcpy(&u, &v[i], 8);
        put_le64(e->b, u);
    }
}

/* ---- KeyValue / AnyValue -------------------------------------------------------------------------- */

/* KeyValue { key = 1; value = 2 } ; AnyValue { string 1, bool 2, int 3, double 4, array 5 } */
static void kv_begin(enc *e, uint32_t field, const char *key) {
    enc_msg_begin(e, field, "attributes");
    enc_cstr(e, 1, "key", key);
    enc_msg_begin(e, 2, "value");
}

static void kv_end(enc *e) {
    enc_msg_end(e);
    enc_msg_end(e);
}

void kv_str(enc *e, uint32_t field, const char *key, const char *v, size_t n) {
    kv_begin(e, field, key);
    enc_str(e, 1, "stringValue", v, n);
    kv_end(e);
}

void kv_cstr(enc *e, uint32_t field, const char *key, const char *v) { kv_str(e, field, key, v, strlen(v)); }

void kv_int(enc *e, uint32_t field, const char *key, int64_t v) {
    kv_begin(e, field, key);
    enc_int64(e, 3, "intValue", v);
    kv_end(e);
}

void kv_double(enc *e, uint32_t field, const char *key, double v) {
    kv_begin(e, field, key);
    enc_double(e, 4, "doubleValue", v);
    kv_end(e);
}

void kv_bool(enc *e, uint32_t field, const char *key, int v) {
    kv_begin(e, field, key);
    enc_bool(e, 2, "boolValue", v);
    kv_end(e);
}

static void any_string_array(enc *e, const jdoc *d, uint32_t arr) {
    enc_msg_begin(e, 5, "arrayValue");
    enc_arr_begin(e, 1, "values");
    for (uint32_t k = json_first(d, arr); k; k = d->n[k].next) {
        char tmp[512];
        long n = json_str(d, k, tmp, sizeof tmp);
        enc_msg_begin(e, 1, NULL);
        enc_str(e, 1, "stringValue", tmp, n < 0 ? 0 : (size_t)n);
        enc_msg_end(e);
    }
    enc_arr_end(e);
    enc_msg_end(e);
}

static int all_strings(const jdoc *d, uint32_t arr) {
    for (uint32_t k = json_first(d, arr); k; k = d->n[k].next)
        if (d->n[k].type != JT_STR) return 0;
    return 1;
}

void kv_json(enc *e, uint32_t field, const char *key, const jdoc *d, uint32_t node) {
    const jnode *n = &d->n[node];
    int64_t i;
    double f;
    if (n->type == JT_STR) {
        char *s = json_strdup(d, node);
        kv_cstr(e, field, key, s ? s : "");
        free(s);
    } else if (n->type == JT_TRUE || n->type == JT_FALSE) {
        kv_bool(e, field, key, n->type == JT_TRUE);
    } else if (n->type == JT_NUM && json_i64(d, node, &i) == 0) {
        kv_int(e, field, key, i);
    } else if (n->type == JT_NUM && json_f64(d, node, &f) == 0) {
        kv_double(e, field, key, f);
    } else if (n->type == JT_ARR && all_strings(d, node)) {
        kv_begin(e, field, key);
        any_string_array(e, d, node);
        kv_end(e);
    }
    /* null and nested objects are left out */
}

/* ---- attribute sets ------------------------------------------------------------------------------- */

static attr *attrs_push(attrs *as, const char *key) {
    if (as->n == as->cap) {
        size_t cap = as->cap ? as->cap * 2 : 8;
        attr *a = realloc(as->a, cap * sizeof *a);
        if (!a) return NULL;
        as->a = a;
        as->cap = cap;
    }
    attr *a = &as->a[as->n];
    memset(a, 0, sizeof *a);
    a->key = strdup(key);
    if (!a->key) return NULL;
    as->n++;
    return a;
}

void attrs_add_str(attrs *as, const char *key, const char *v) {
    for (size_t i = 0; i < as->n; i++)
        if (strcmp(as->a[i].key, key) == 0 && as->a[i].type == JT_STR) {
            char *s = strdup(v);
            if (s) free(as->a[i].s), as->a[i].s = s;
            return;
        }
    attr *a = attrs_push(as, key);
    if (!a) return;
    a->type = JT_STR;
    a->s = strdup(v);
    if (!a->s) a->s = NULL, a->type = JT_NULL;
}

void attrs_add_json(attrs *as, const char *prefix, const jdoc *d, uint32_t obj) {
    if (!json_is(d, obj, JT_OBJ)) return;
    for (uint32_t k = json_first(d, obj); k; k = d->n[k].next) {
        char name[256], key[300];
        if (json_str(d, k, name, sizeof name) < 0) continue;
        snprintf(key, sizeof key, "%s%s", prefix, name);
        uint32_t v = json_value(d, k);
        const jnode *n = &d->n[v];
        if (n->type == JT_STR) {
            char *s = json_strdup(d, v);
            if (s) attrs_add_str(as, key, s);
            free(s);
            continue;
        }
        if (n->type != JT_NUM && n->type != JT_TRUE && n->type != JT_FALSE) continue;
        attr *a = attrs_push(as, key);
        if (!a) return;
        a->type = n->type;
        if (n->type == JT_NUM) {
            a->is_int = json_i64(d, v, &a->i) == 0;
            if (!a->is_int) json_f64(d, v, &a->f);
        }
    }
}

void attrs_free(attrs *as) {
    for (size_t i = 0; i < as->n; i++) free(as->a[i].key), free(as->a[i].s);
    free(as->a);
    memset(as, 0, sizeof *as);
}

void attrs_encode(enc *e, uint32_t field, const attrs *as) {
    for (size_t i = 0; i < as->n; i++) {
        const attr *a = &as->a[i];
        if (a->type == JT_STR) kv_cstr(e, field, a->key, a->s);
        else if (a->type == JT_TRUE || a->type == JT_FALSE) kv_bool(e, field, a->key, a->type == JT_TRUE);
        else if (a->type == JT_NUM && a->is_int) kv_int(e, field, a->key, a->i);
        else if (a->type == JT_NUM) kv_double(e, field, a->key, a->f);
    }
}

const char *attrs_find(const attrs *as, const char *key) {
    for (size_t i = 0; i < as->n; i++)
        if (as->a[i].type == JT_STR && strcmp(as->a[i].key, key) == 0) return as->a[i].s;
    return NULL;
}
