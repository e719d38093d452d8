#define _GNU_SOURCE
/*
 * sink.c -- otlp_sink.so's plugin table: init (config and OTEL_EXPORTER_OTLP_* environment), write
 * (events -> spans, per-session state), flush, shutdown; statistics. See docs/otlp.md.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "otlp.h"

uint64_t mono_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t unix_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Span ids: splitmix64 seeded from getrandom (never all zero). */
void rand_bytes(otlp *o, uint8_t *out, size_t n) {
    for (size_t i = 0; i < n; i += 8) {
        uint64_t z = (o->rng += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        z ^= z >> 31;
        if (!z) z = 1;
        memcpy(out + i, &z, n - i < 8 ? n - i : 8);
    }
}

void plog(otlp *o, int level, const char *fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    o->host->log(o->host_ctx, level, msg);
}

/* ---- statistics ------------------------------------------------------------------------------------ */

static void stats_json(const stats *s, char *out, size_t cap) {
    static const char *const SIG[2] = {"spans", "points"};
    size_t w = (size_t)snprintf(out, cap,
        "{\"events\":{\"seen\":%llu,\"used\":%llu,\"ignored\":%llu,\"bad\":%llu,\"lost\":%llu,"
        "\"host_dropped_before\":%llu},\"sessions\":{\"started\":%llu,\"ended\":%llu,\"evicted\":%llu,"
        "\"untracked\":%llu},\"backpressure\":%llu,\"metric_exports\":%llu,\"metric_exports_skipped\":%llu",
        (unsigned long long)s->events_seen, (unsigned long long)s->events_used, (unsigned long long)s->events_ignored,
        (unsigned long long)s->events_bad, (unsigned long long)s->events_lost,
        (unsigned long long)s->host_dropped_before, (unsigned long long)s->sessions_started,
        (unsigned long long)s->sessions_ended, (unsigned long long)s->sessions_evicted,
        (unsigned long long)s->sessions_untracked, (unsigned long long)s->backpressure,
        (unsigned long long)s->metric_exports, (unsigned long long)s->metric_exports_skipped);
    for (int i = 0; i < 2 && w < cap; i++) {
        uint64_t done = s->items_exported[i] + s->items_rejected[i] + s->items_dropped[i];
        w += (size_t)snprintf(out + w, cap - w,
            ",\"%s\":{\"created\":%llu,\"exported\":%llu,\"rejected\":%llu,\"dropped\":%llu,\"pending\":%llu,"
            "\"requests\":%llu,\"requests_ok\":%llu,\"requests_failed\":%llu,\"retries\":%llu}",
            SIG[i], (unsigned long long)s->items_created[i], (unsigned long long)s->items_exported[i],
            (unsigned long long)s->items_rejected[i], (unsigned long long)s->items_dropped[i],
            (unsigned long long)(s->items_created[i] - done), (unsigned long long)s->requests_sent[i],
            (unsigned long long)s->requests_ok[i], (unsigned long long)s->requests_failed[i],
            (unsigned long long)s->retries[i]);
    }
    if (w < cap) {
        char esc[420];
        size_t k = 0;
        for (const char *p = s->last_error; *p && k + 7 < sizeof esc; p++) {
            if (*p == '"' || *p == '\\') esc[k++] = '\\', esc[k++] = *p;
            else if ((unsigned char)*p < 0x20) k += (size_t)snprintf(esc + k, 7, "\\u%04x", *p);
            else esc[k++] = *p;
        }
        esc[k] = 0;
        snprintf(out + w, cap - w, ",\"last_status\":%lld,\"last_error\":\"%s\"}", (long long)s->last_status, esc);
    }
}

/* The statistics as JSON in stats_path (written to a temporary file, then renamed); with log, an INFO
 * line too. */
void stats_write(otlp *o, int final, int log) {
    stats s;
    char text[2048];
    pthread_mutex_lock(&o->mu);
    s = o->st;
    pthread_mutex_unlock(&o->mu);
    stats_json(&s, text, sizeof text);
    if (o->cfg.stats_path[0]) {
        char tmp[1100];
        snprintf(tmp, sizeof tmp, "%s.tmp", o->cfg.stats_path);
        FILE *f = fopen(tmp, "w");
        if (f) {
            fprintf(f, "%s\n", text);
            if (fclose(f) == 0) rename(tmp, o->cfg.stats_path);
        }
    }
    if (log) plog(o, VT_LOG_INFO, "%s %s", final ? "final" : "stats", text);
}

/* ---- sessions: open addressing by id, bounded --------------------------------------------------------- */

static uint32_t hash_id(const char *s) {
    uint32_t h = 2166136261u;
    while (*s) h = (h ^ (uint8_t)*s++) * 16777619u;
    return h;
}

static session_state *sess_find(otlp *o, const char *id) {
    uint32_t mask = o->sess_cap - 1;
    for (uint32_t i = hash_id(id) & mask, n = 0; n < o->sess_cap; i = (i + 1) & mask, n++) {
        session_state *s = &o->sess[i];
        if (!s->id && !s->tombstone) return NULL;
        if (s->id && strcmp(s->id, id) == 0) return s;
    }
    return NULL;
}

static void sess_clear(otlp *o, session_state *s) {
    free(s->id);
    attrs_free(&s->at);
    buf_free(&s->events);
    memset(s, 0, sizeof *s);
    s->tombstone = 1;
    o->sess_live--;
}

static void sess_rehash(otlp *o) {
    session_state *old = o->sess;
    uint32_t cap = o->sess_cap;
    o->sess = calloc(cap, sizeof *o->sess);
    if (!o->sess) {
        o->sess = old;
        return;
    }
    o->sess_used = 0;
    for (uint32_t i = 0; i < cap; i++) {
        if (!old[i].id) continue;
        uint32_t j = hash_id(old[i].id) & (cap - 1);
        while (o->sess[j].id) j = (j + 1) & (cap - 1);
        o->sess[j] = old[i];
        o->sess_used++;
    }
    free(old);
}

static void evict_oldest(otlp *o) {
    session_state *old = NULL;
    for (uint32_t i = 0; i < o->sess_cap; i++)
        if (o->sess[i].id && (!old || o->sess[i].order < old->order)) old = &o->sess[i];
    if (!old) return;
    spans_session(o, old, old->last_ns, NULL, 0, 1);
    o->tb_spans++;
    o->wst.sessions_evicted++;
    sess_clear(o, old);
}

/* A new entry for id (an existing one is replaced). NULL when the id cannot be stored. */
static session_state *sess_new(otlp *o, const char *id) {
    session_state *s = sess_find(o, id);
    if (s) sess_clear(o, s);
    if (o->sess_live >= o->cfg.max_sessions) evict_oldest(o);
    if (o->sess_used + 1 > o->sess_cap / 4 * 3) sess_rehash(o);
    uint32_t mask = o->sess_cap - 1, i = hash_id(id) & mask;
    while (o->sess[i].id) i = (i + 1) & mask;
    s = &o->sess[i];
    if (!s->tombstone) o->sess_used++;
    memset(s, 0, sizeof *s);
    s->id = strdup(id);
    if (!s->id) return NULL;
    s->order = ++o->sess_order;
    o->sess_live++;
    return s;
}

/* ---- events ---------------------------------------------------------------------------------------------- */

typedef struct event {
    jdoc *d;
    uint32_t data;
    char type[72];
    char sid[256];
    int has_sid;
    int64_t ts_ns;     /* timestamp_us * 1000 (session clock) */
    int has_unix;
    int64_t unix_off;  /* from timestamp_unix_us: unix ns - session clock ns */
} event;

static int hexval(char c) {
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static int parse_hex(const char *p, uint8_t *out, size_t n) {
    int nonzero = 0;
    for (size_t i = 0; i < n; i++) {
        int hi = hexval(p[2 * i]), lo = hexval(p[2 * i + 1]);
        if (hi < 0 || lo < 0) return -1;
        out[i] = (uint8_t)(hi << 4 | lo);
        nonzero |= out[i];
    }
    return nonzero ? 0 : -1;
}

/* W3C traceparent: 00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>. */
static int parse_traceparent(const char *tp, session_state *s) {
    uint8_t flags;
    if (strlen(tp) < 55 || tp[2] != '-' || tp[35] != '-' || tp[52] != '-' || (tp[55] && tp[55] != '-')) return -1;
    if (parse_hex(tp, &flags, 1) == 0 && flags == 0xff) return -1; /* version ff is invalid */
    if (hexval(tp[0]) < 0 || hexval(tp[1]) < 0) return -1;
    if (parse_hex(tp + 3, s->trace_id, 16) || parse_hex(tp + 36, s->parent_id, 8)) return -1;
    s->has_parent = 1;
    return 0;
}

/* The session's clock anchor: start_unix_ns - start_ns, else the envelope pair, else our clocks. */
static void set_anchor(session_state *s, const event *ev) {
    int ok1, ok2;
    int64_t su = json_get_i64(ev->d, ev->data, "start_unix_ns", &ok1);
    int64_t sn = json_get_i64(ev->d, ev->data, "start_ns", &ok2);
    if (ok1 && ok2) s->offset_ns = su - sn;
    else if (ev->has_unix) s->offset_ns = ev->unix_off;
    else s->offset_ns = (int64_t)(unix_ns() - mono_ns());
}

/* The core's trace id for the session (as its snapshot shows it) and the caller's span it joins
 * (parent_span_id, from the session's traceparent); else 16 random bytes and no parent. */
static void trace_from_core(otlp *o, session_state *s, const jdoc *d, uint32_t data) {
    char hex[40];
    s->has_parent = json_str(d, json_get(d, data, "parent_span_id"), hex, sizeof hex) == 16 &&
                    parse_hex(hex, s->parent_id, 8) == 0;
    if (json_str(d, json_get(d, data, "trace_id"), hex, sizeof hex) == 32 && parse_hex(hex, s->trace_id, 16) == 0) return;
    s->has_parent = 0; /* a parent span without its trace means nothing */
    if (getrandom(s->trace_id, 16, 0) != 16) rand_bytes(o, s->trace_id, 16);
}

static session_state *session_begin(otlp *o, const event *ev, int seen) {
    session_state *s = sess_new(o, ev->sid);
    if (!s) return NULL;
    const jdoc *d = ev->d;
    char tp[128];
    int ok;
    s->start_seen = seen;
    if (!seen || json_str(d, json_get(d, ev->data, "traceparent"), tp, sizeof tp) < 0 || parse_traceparent(tp, s) != 0)
        trace_from_core(o, s, d, ev->data);
    rand_bytes(o, s->span_id, 8);
    s->start_ns = json_get_i64(d, ev->data, "start_ns", &ok);
    if (!ok) s->start_ns = ev->ts_ns;
    s->last_ns = s->start_ns;
    set_anchor(s, ev);
    if (seen) {
        attrs_add_json(&s->at, "voicetelemetry.label.", d, json_get(d, ev->data, "labels"));
        attrs_add_json(&s->at, "voicetelemetry.metadata.", d, json_get(d, ev->data, "metadata"));
        if (json_str(d, json_get(d, ev->data, "text_policy"), s->text_policy, sizeof s->text_policy) < 0)
            s->text_policy[0] = 0;
        if (json_str(d, json_get(d, ev->data, "clock"), tp, sizeof tp) > 0) attrs_add_str(&s->at, "voicetelemetry.session.clock", tp);
    }
    return s;
}

static void on_turn(otlp *o, event *ev, uint64_t *spans) {
    session_state *s = sess_find(o, ev->sid);
    if (!s) {
        /* loaded after the session began: a root of our own, starting with this turn */
        int ok;
        s = session_begin(o, ev, 0);
        if (!s) return;
        s->start_ns = json_get_i64(ev->d, ev->data, "start_ns", &ok);
        if (!ok) s->start_ns = ev->ts_ns;
        o->wst.sessions_untracked++;
    }
    *spans += spans_from_turn(o, s, ev->d, ev->data);
    if (o->cfg.metrics_on) {
        pthread_mutex_lock(&o->mu);
        genai_observe_turn(o, ev->d, ev->data);
        pthread_mutex_unlock(&o->mu);
    }
}

static void on_session_end(otlp *o, event *ev, uint64_t *spans) {
    session_state *s = sess_find(o, ev->sid);
    if (!s) {
        s = session_begin(o, ev, 0);
        if (!s) return;
        o->wst.sessions_untracked++;
    }
    int ok;
    int64_t end = json_get_i64(ev->d, ev->data, "end_ns", &ok); /* the session clock's end, when sent */
    spans_session(o, s, ok ? end : ev->ts_ns, ev->d, ev->data, 0);
    (*spans)++;
    o->wst.sessions_ended++;
    sess_clear(o, s);
}

static int read_envelope(event *ev, const char *line, size_t len) {
    jdoc *d = ev->d;
    int ok;
    if (json_parse(d, line, len) != 0 || !json_is(d, JROOT, JT_OBJ)) return -1;
    if (json_str(d, json_get(d, JROOT, "event_type"), ev->type, sizeof ev->type) < 0) return -1;
    ev->has_sid = json_str(d, json_get(d, JROOT, "session_id"), ev->sid, sizeof ev->sid) >= 0;
    int64_t us = json_get_i64(d, JROOT, "timestamp_us", &ok);
    if (!ok) return -1;
    ev->ts_ns = us * 1000;
    int64_t uu = json_get_i64(d, JROOT, "timestamp_unix_us", &ev->has_unix);
    ev->unix_off = (uu - us) * 1000;
    ev->data = json_get(d, JROOT, "data");
    return json_is(d, ev->data, JT_OBJ) ? 0 : -1;
}

/* One event line; returns the spans it produced (0 for events that make none). */
static uint64_t on_event(otlp *o, jdoc *d, const char *line, size_t len) {
    event ev;
    memset(&ev, 0, sizeof ev);
    ev.d = d;
    uint64_t spans = 0;
    session_state *s;
    o->wst.events_seen++;
    if (read_envelope(&ev, line, len) != 0) {
        o->wst.events_bad++;
        return 0;
    }
    int tracing = o->cfg.traces_on && ev.has_sid;
    if (tracing && strcmp(ev.type, "session.start") == 0) {
        if (session_begin(o, &ev, 1)) o->wst.sessions_started++;
    } else if (ev.has_sid && strcmp(ev.type, "turn.complete") == 0) {
        if (o->cfg.traces_on) on_turn(o, &ev, &spans);
        else if (o->cfg.metrics_on) {
            pthread_mutex_lock(&o->mu);
            genai_observe_turn(o, ev.d, ev.data);
            pthread_mutex_unlock(&o->mu);
        }
    } else if (tracing && strcmp(ev.type, "session.end") == 0) {
        on_session_end(o, &ev, &spans);
    } else if (tracing && strcmp(ev.type, "telemetry.health") != 0 && (s = sess_find(o, ev.sid))) {
        spans_session_event(o, s, ev.type, ev.ts_ns, ev.d, ev.data);
    } else {
        o->wst.events_ignored++;
        return 0;
    }
    o->wst.events_used++;
    return spans;
}

/* ---- config ------------------------------------------------------------------------------------------------ */

typedef struct cfgsrc {
    jdoc d;
    char *err;
    size_t cap;
} cfgsrc;

/* A string from the config (1), else from the environment variable env (1), else 0; -1 on a bad type. */
static int opt_str(cfgsrc *c, const char *key, const char *env, char *out, size_t cap) {
    uint32_t v = json_get(&c->d, JROOT, key);
    if (v) {
        if (json_str(&c->d, v, out, cap) < 0) {
            snprintf(c->err, c->cap, "config \"%s\" must be a string (at most %zu bytes)", key, cap - 1);
            return -1;
        }
        return 1;
    }
    const char *e = env ? getenv(env) : NULL;
    if (e && *e) {
        snprintf(out, cap, "%s", e);
        return 1;
    }
    return 0;
}

static int opt_int(cfgsrc *c, const char *key, const char *env, long lo, long hi, long *out) {
    uint32_t v = json_get(&c->d, JROOT, key);
    int64_t x;
    if (v) {
        if (json_i64(&c->d, v, &x) != 0 || x < lo || x > hi) {
            snprintf(c->err, c->cap, "config \"%s\" must be an integer in [%ld, %ld]", key, lo, hi);
            return -1;
        }
        *out = (long)x;
        return 1;
    }
    const char *e = env ? getenv(env) : NULL;
    if (e && *e) {
        char *end;
        long n = strtol(e, &end, 10);
        if (*end == 0 && n >= lo && n <= hi) *out = n;
    }
    return 0;
}

static int opt_bool(cfgsrc *c, const char *key, int *out) {
    uint32_t v = json_get(&c->d, JROOT, key);
    if (!v) return 0;
    if (!json_is(&c->d, v, JT_TRUE) && !json_is(&c->d, v, JT_FALSE)) {
        snprintf(c->err, c->cap, "config \"%s\" must be true or false", key);
        return -1;
    }
    *out = json_is(&c->d, v, JT_TRUE);
    return 0;
}

static int one_of(cfgsrc *c, const char *key, const char *val, const char *a, const char *b) {
    if (strcmp(val, a) == 0) return 0;
    if (strcmp(val, b) == 0) return 1;
    snprintf(c->err, c->cap, "\"%s\" must be \"%s\" or \"%s\", not \"%s\"", key, a, b, val);
    return -1;
}

/* %XX escapes of OTEL_EXPORTER_OTLP_HEADERS / OTEL_RESOURCE_ATTRIBUTES values. */
static void percent_decode(char *s) {
    char *w = s;
    for (char *p = s; *p; p++) {
        if (*p == '%' && hexval((char)(p[1] | 0x20)) >= 0 && hexval((char)(p[2] | 0x20)) >= 0) {
            *w++ = (char)(hexval((char)(p[1] | 0x20)) << 4 | hexval((char)(p[2] | 0x20)));
            p += 2;
        } else {
            *w++ = *p;
        }
    }
    *w = 0;
}

static char *trim(char *s) {
    while (*s == ' ' || *s == '\t') s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t')) s[--n] = 0;
    return s;
}

/* key=value,key=value lists: each pair to fn. */
static void each_pair(const char *list, void (*fn)(config *, const char *, const char *), config *cfg) {
    char *copy = strdup(list), *save = NULL;
    if (!copy) return;
    for (char *item = strtok_r(copy, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(item, '=');
        if (!eq) continue;
        *eq = 0;
        char *k = trim(item), *v = trim(eq + 1);
        percent_decode(v);
        if (*k) fn(cfg, k, v);
    }
    free(copy);
}

static void add_header(config *cfg, const char *k, const char *v) {
    if (strpbrk(k, "\r\n:") || strpbrk(v, "\r\n")) return; /* no header injection from the environment */
    char **h = realloc(cfg->headers, (cfg->n_headers + 1) * sizeof *h);
    if (!h) return;
    cfg->headers = h;
    size_t n = strlen(k) + strlen(v) + 3;
    if ((h[cfg->n_headers] = malloc(n))) snprintf(h[cfg->n_headers++], n, "%s: %s", k, v);
}

static void add_resource(config *cfg, const char *k, const char *v) {
    if (!attrs_find(&cfg->resource, k)) attrs_add_str(&cfg->resource, k, v);
}

static int headers_config(cfgsrc *c, config *cfg) {
    uint32_t h = json_get(&c->d, JROOT, "headers");
    if (!h) {
        const char *e = getenv("OTEL_EXPORTER_OTLP_HEADERS");
        if (e) each_pair(e, add_header, cfg);
        return 0;
    }
    if (!json_is(&c->d, h, JT_OBJ)) {
        snprintf(c->err, c->cap, "config \"headers\" must be an object of strings");
        return -1;
    }
    for (uint32_t k = json_first(&c->d, h); k; k = c->d.n[k].next) {
        char key[256], val[2048];
        if (json_str(&c->d, k, key, sizeof key) < 0 || json_str(&c->d, json_value(&c->d, k), val, sizeof val) < 0 ||
            strpbrk(key, "\r\n:") || strpbrk(val, "\r\n")) {
            snprintf(c->err, c->cap, "config \"headers\": each value must be a string (no line breaks)");
            return -1;
        }
        add_header(cfg, key, val);
    }
    return 0;
}

static int resource_config(cfgsrc *c, config *cfg) {
    char name[256];
    uint32_t r = json_get(&c->d, JROOT, "resource");
    if (r && !json_is(&c->d, r, JT_OBJ)) {
        snprintf(c->err, c->cap, "config \"resource\" must be an object");
        return -1;
    }
    attrs_add_json(&cfg->resource, "", &c->d, r);
    uint32_t sn = json_get(&c->d, JROOT, "service_name");
    if (sn && json_str(&c->d, sn, name, sizeof name) < 0) {
        snprintf(c->err, c->cap, "config \"service_name\" must be a string");
        return -1;
    }
    if (sn) attrs_add_str(&cfg->resource, "service.name", name);
    const char *e = getenv("OTEL_SERVICE_NAME");
    if (e && *e) add_resource(cfg, "service.name", e);
    if ((e = getenv("OTEL_RESOURCE_ATTRIBUTES"))) each_pair(e, add_resource, cfg);
    add_resource(cfg, "service.name", "voicetelemetry");
    add_resource(cfg, "telemetry.sdk.name", "voicetelemetry.otlp_sink");
    add_resource(cfg, "telemetry.sdk.language", "c");
    add_resource(cfg, "telemetry.sdk.version", "1.0.0");
    return 0;
}

static int url_config(cfgsrc *c, config *cfg) {
    char base[1000] = "http://127.0.0.1:4318";
    if (opt_str(c, "endpoint", "OTEL_EXPORTER_OTLP_ENDPOINT", base, sizeof base) < 0) return -1;
    size_t n = strlen(base);
    while (n && base[n - 1] == '/') base[--n] = 0;
    if (strncmp(base, "http://", 7) != 0 && strncmp(base, "https://", 8) != 0) {
        snprintf(c->err, c->cap, "\"endpoint\" must be an http:// or https:// URL, not \"%s\"", base);
        return -1;
    }
    snprintf(cfg->traces_url, sizeof cfg->traces_url, "%s/v1/traces", base);
    snprintf(cfg->metrics_url, sizeof cfg->metrics_url, "%s/v1/metrics", base);
    if (opt_str(c, "traces_endpoint", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", cfg->traces_url, sizeof cfg->traces_url) < 0 ||
        opt_str(c, "metrics_endpoint", "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", cfg->metrics_url, sizeof cfg->metrics_url) < 0)
        return -1;
    return 0;
}

static int choice_config(cfgsrc *c, config *cfg) {
    char v[64];
    int r;
    strcpy(v, "http/protobuf");
    if (opt_str(c, "protocol", "OTEL_EXPORTER_OTLP_PROTOCOL", v, sizeof v) < 0 ||
        (r = one_of(c, "protocol", v, "http/protobuf", "http/json")) < 0)
        return -1;
    cfg->json = r;
    strcpy(v, "gzip");
    if (opt_str(c, "compression", "OTEL_EXPORTER_OTLP_COMPRESSION", v, sizeof v) < 0 ||
        (r = one_of(c, "compression", v, "gzip", "none")) < 0)
        return -1;
    cfg->gzip = !r;
    strcpy(v, "cumulative");
    if (opt_str(c, "metrics_temporality", "OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE", v, sizeof v) < 0) return -1;
    for (char *p = v; *p; p++) *p = (char)(*p | 0x20);
    if ((r = one_of(c, "metrics_temporality", v, "cumulative", "delta")) < 0) return -1;
    cfg->delta = r;
    strcpy(v, "otel");
    if (opt_str(c, "span_names", NULL, v, sizeof v) < 0 || (r = one_of(c, "span_names", v, "otel", "videosdk")) < 0)
        return -1;
    cfg->videosdk = r;
    return 0;
}

static int numbers_config(cfgsrc *c, config *cfg) {
    long v;
    cfg->timeout_ms = 10000;
    cfg->metrics_interval_ms = 60000;
    cfg->compression_level = 1;
    cfg->max_queue_bytes = 16u << 20;
    cfg->max_spans_per_request = 4096;
    cfg->max_sessions = 4096;
    cfg->stats_interval_ms = 60000;
    cfg->traces_on = cfg->metrics_on = cfg->metrics_on_flush = 1;
    if (opt_int(c, "timeout_ms", "OTEL_EXPORTER_OTLP_TIMEOUT", 1, 3600000, &cfg->timeout_ms) < 0 ||
        opt_int(c, "metrics_interval_ms", "OTEL_METRIC_EXPORT_INTERVAL", 0, 86400000, &cfg->metrics_interval_ms) < 0 ||
        opt_int(c, "stats_interval_ms", NULL, 0, 86400000, &cfg->stats_interval_ms) < 0)
        return -1;
    v = cfg->compression_level;
    if (opt_int(c, "compression_level", NULL, 1, 9, &v) < 0) return -1;
    cfg->compression_level = (int)v;
    v = (long)(cfg->max_queue_bytes >> 10);
    if (opt_int(c, "max_queue_kib", NULL, 64, 1 << 20, &v) < 0) return -1;
    cfg->max_queue_bytes = (size_t)v << 10;
    v = cfg->max_spans_per_request;
    if (opt_int(c, "max_spans_per_request", NULL, 1, 1 << 20, &v) < 0) return -1;
    cfg->max_spans_per_request = (uint32_t)v;
    v = cfg->max_sessions;
    if (opt_int(c, "max_sessions", NULL, 1, 1 << 20, &v) < 0) return -1;
    cfg->max_sessions = (uint32_t)v;
    v = 128;
    if (opt_int(c, "max_session_events", NULL, 0, 1 << 16, &v) < 0) return -1;
    cfg->max_session_events = (uint32_t)v;
    if (opt_bool(c, "traces", &cfg->traces_on) < 0 || opt_bool(c, "metrics", &cfg->metrics_on) < 0 ||
        opt_bool(c, "metrics_on_flush", &cfg->metrics_on_flush) < 0)
        return -1;
    if (opt_str(c, "stats_path", NULL, cfg->stats_path, sizeof cfg->stats_path) < 0) return -1;
    return 0;
}

static int read_config(config *cfg, const char *json, char *err, size_t cap) {
    cfgsrc c = {{0}, err, cap};
    int rc = -1;
    if (json_parse(&c.d, json, strlen(json)) != 0 || !json_is(&c.d, JROOT, JT_OBJ))
        snprintf(err, cap, "config is not a JSON object");
    else if (url_config(&c, cfg) == 0 && choice_config(&c, cfg) == 0 && numbers_config(&c, cfg) == 0 &&
             headers_config(&c, cfg) == 0 && resource_config(&c, cfg) == 0)
        rc = 0;
    json_free(&c.d);
    return rc;
}

static void config_free(config *cfg) {
    for (size_t i = 0; i < cfg->n_headers; i++) free(cfg->headers[i]);
    free(cfg->headers);
    attrs_free(&cfg->resource);
}

/* ---- the plugin table ---------------------------------------------------------------------------------- */

static void otlp_free(otlp *o) {
    for (uint32_t i = 0; o->sess && i < o->sess_cap; i++)
        if (o->sess[i].id) free(o->sess[i].id), attrs_free(&o->sess[i].at), buf_free(&o->sess[i].events);
    free(o->sess);
    buf_free(&o->tb);
    genai_free(o->genai);
    config_free(&o->cfg);
    free(o);
}

static int32_t otlp_init(const vt_host_api *host, void *host_ctx, const char *config_json, void **state_out,
                         char *err, size_t err_cap) {
    otlp *o = calloc(1, sizeof *o);
    if (!o) {
        snprintf(err, err_cap, "out of memory");
        return 1;
    }
    o->host = host;
    o->host_ctx = host_ctx;
    if (read_config(&o->cfg, config_json ? config_json : "{}", err, err_cap) != 0) {
        otlp_free(o);
        return 1;
    }
    if (host->struct_size < offsetof(vt_host_api, prom_text) + sizeof host->prom_text || !host->prom_text)
        o->cfg.metrics_on = 0;
    if (getrandom(&o->rng, sizeof o->rng, 0) != sizeof o->rng) o->rng = unix_ns() ^ mono_ns();
    for (o->sess_cap = 16; o->sess_cap < 2 * o->cfg.max_sessions; o->sess_cap *= 2) {}
    o->sess = calloc(o->sess_cap, sizeof *o->sess);
    o->genai = genai_new();
    o->start_unix_ns = unix_ns();
    if (!o->sess || !o->genai || export_start(o, err, err_cap) != 0) {
        if (!o->sess || !o->genai) snprintf(err, err_cap, "out of memory");
        export_stop(o, 0);
        otlp_free(o);
        return 1;
    }
    *state_out = o;
    return 0;
}

/* The write thread's counters become visible to the statistics (under mu). */
static void publish_locked(otlp *o) {
    stats *s = &o->st, *w = &o->wst;
    s->events_seen = w->events_seen, s->events_used = w->events_used, s->events_ignored = w->events_ignored;
    s->events_bad = w->events_bad, s->host_dropped_before = w->host_dropped_before;
    s->sessions_started = w->sessions_started, s->sessions_ended = w->sessions_ended;
    s->sessions_evicted = w->sessions_evicted, s->sessions_untracked = w->sessions_untracked;
    s->backpressure = w->backpressure;
}

/* Hands the spans built so far to the sender as one request (none: nothing). */
static void seal(otlp *o) {
    if (!o->tb_spans) return;
    enc *e = &o->te;
    enc_arr_end(e);
    enc_msg_end(e);
    enc_arr_end(e);
    enc_msg_end(e);
    enc_arr_end(e);
    enc_finish(e);
    export_enqueue(o, SIG_TRACES, &o->tb, o->tb_spans, o->tb_events);
    spans_open_request(o);
}

static int32_t otlp_write(void *state, const vt_sink_batch *batch) {
    otlp *o = state;
    pthread_mutex_lock(&o->mu);
    int full = o->queued_bytes >= o->cfg.max_queue_bytes;
    if (full) o->wst.backpressure++, publish_locked(o);
    pthread_mutex_unlock(&o->mu);
    if (full) return VT_SINK_RETRY; /* nothing of the batch was used: the host keeps it */
    jdoc d = {0};
    o->wst.host_dropped_before += batch->dropped_before;
    spans_open_request(o);
    const char *p = batch->data, *end = batch->data + batch->len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
        uint64_t before = o->tb_spans;
        uint64_t n = on_event(o, &d, p, len);
        o->tb_spans += n;
        if (o->tb_spans > before) o->tb_events++;
        if (o->tb_spans >= o->cfg.max_spans_per_request) seal(o);
        p += len + 1;
    }
    json_free(&d);
    seal(o);
    pthread_mutex_lock(&o->mu);
    publish_locked(o);
    pthread_mutex_unlock(&o->mu);
    return VT_SINK_OK;
}

static int32_t otlp_flush(void *state, uint64_t deadline_ns) {
    otlp *o = state;
    if (o->cfg.metrics_on && o->cfg.metrics_on_flush) {
        pthread_mutex_lock(&o->mu);
        o->metrics_now = 1;
        pthread_cond_signal(&o->cv);
        pthread_mutex_unlock(&o->mu);
    }
    return export_wait_idle(o, deadline_ns) == 0 ? 0 : -1;
}

static void otlp_shutdown(void *state, uint64_t deadline_ns) {
    otlp *o = state;
    if (!o) return;
    spans_open_request(o);
    for (uint32_t i = 0; i < o->sess_cap; i++) {
        session_state *s = &o->sess[i];
        if (!s->id) continue;
        spans_session(o, s, s->last_ns, NULL, 0, 1); /* open at unload: closed at its last known time */
        o->tb_spans++;
        sess_clear(o, s);
    }
    seal(o);
    pthread_mutex_lock(&o->mu);
    publish_locked(o);
    pthread_mutex_unlock(&o->mu);
    export_stop(o, deadline_ns);
    stats_write(o, 1, 1);
    pthread_mutex_destroy(&o->mu);
    pthread_cond_destroy(&o->cv);
    pthread_cond_destroy(&o->idle);
    otlp_free(o);
}

static const vt_plugin_table table = {
    sizeof(vt_plugin_table), VT_PLUGIN_ABI_MAJOR, VT_PLUGIN_ABI_MINOR,
    "otlp_sink", "1.0.0",
    otlp_init, otlp_write, otlp_flush, otlp_shutdown,
};

VT_PLUGIN_EXPORT const vt_plugin_table *voicetelemetry_sink_plugin_v1(void) { return &table; }
