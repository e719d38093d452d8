/*
 * otlp.h -- internals of otlp_sink.so (see docs/otlp.md): a voicetelemetry sink plugin that turns the
 * library's events into OTLP traces and metrics and sends them over OTLP/HTTP with libcurl.
 *
 * Files: json.c (a strict JSON reader), enc.c (protobuf / OTLP-JSON writer), spans.c (turn records ->
 * spans), metrics.c (Prometheus text and GenAI histograms -> OTLP metrics), export.c (the request
 * queue, the sender thread, HTTP, statistics), sink.c (the plugin table, config, sessions).
 * Everything but the entry point has hidden visibility (built with -fvisibility=hidden).
 */
#ifndef OTLP_H
#define OTLP_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "voicetelemetry_plugin.h"

/* ---- growable byte buffer ---------------------------------------------------------------------- */

typedef struct buf {
    uint8_t *p;
    size_t len, cap;
    int oom; /* an allocation failed: the content is incomplete */
} buf;

void buf_reserve(buf *b, size_t extra);
void buf_put(buf *b, const void *p, size_t n);
void buf_free(buf *b);

/* ---- JSON reader (json.c): one document parsed into a flat array of nodes ------------------------ */

enum { JT_NULL, JT_FALSE, JT_TRUE, JT_NUM, JT_STR, JT_ARR, JT_OBJ };

typedef struct jnode {
    uint8_t type;
    uint8_t escaped; /* JT_STR: contains a backslash escape */
    uint32_t next;   /* index of the next sibling (for an object: the next key), 0 = none */
    uint32_t kids;   /* JT_ARR: elements; JT_OBJ: key/value pairs */
    const char *p;   /* JT_STR: the characters between the quotes; JT_NUM: the number text */
    uint32_t len;
} jnode;

typedef struct jdoc {
    jnode *n;
    uint32_t count, cap;
} jdoc;

/* Parse exactly one JSON value (surrounding whitespace allowed). 0 on success. Node JROOT is the root;
 * node 0 means "absent" (every accessor answers it as a missing value). */
#define JROOT 1
int json_parse(jdoc *d, const char *text, size_t len);
void json_free(jdoc *d);
/* The value of key in object node obj, or 0 if absent. */
uint32_t json_get(const jdoc *d, uint32_t obj, const char *key);
/* First child (array element or object key) of a container, 0 if empty. For an object, the value of
 * key node k is k + ... : use json_value(d, k). */
uint32_t json_first(const jdoc *d, uint32_t node);
uint32_t json_value(const jdoc *d, uint32_t key);
int json_is(const jdoc *d, uint32_t node, int type);
/* Integer value (JT_NUM without fraction/exponent, fits int64). 0 on success. */
int json_i64(const jdoc *d, uint32_t node, int64_t *out);
int json_f64(const jdoc *d, uint32_t node, double *out);
/* Decoded string into out (cap bytes, NUL-terminated, truncated at a character boundary never: fails
 * if it does not fit). Returns the length or -1. */
long json_str(const jdoc *d, uint32_t node, char *out, size_t cap);
/* A NUL-terminated malloc'd copy of a string value (decoded), NULL if absent/not a string. */
char *json_strdup(const jdoc *d, uint32_t node);
/* Shorthand: integer member of obj, with ok = 0 when absent or null. */
int64_t json_get_i64(const jdoc *d, uint32_t obj, const char *key, int *ok);

/* ---- writer (enc.c): the same calls produce protobuf or OTLP/JSON -------------------------------- */

#define ENC_DEPTH 16

typedef struct enc {
    buf *b;
    int json;
    int depth;
    uint8_t first[ENC_DEPTH];     /* JSON: no member written yet at this depth */
    uint8_t in_array[ENC_DEPTH];  /* this depth is an array */
    uint32_t afield[ENC_DEPTH];   /* protobuf: field number of the array's elements */
    size_t mark[ENC_DEPTH];       /* protobuf: where this message's reserved length starts */
} enc;

void enc_init(enc *e, buf *b, int json);
void enc_finish(enc *e); /* JSON: the closing brace */
void enc_msg_begin(enc *e, uint32_t field, const char *name); /* inside an array: field/name unused */
void enc_msg_end(enc *e);
void enc_arr_begin(enc *e, uint32_t field, const char *name);
void enc_arr_end(enc *e);
void enc_str(enc *e, uint32_t field, const char *name, const char *s, size_t n);
void enc_cstr(enc *e, uint32_t field, const char *name, const char *s);
void enc_id(enc *e, uint32_t field, const char *name, const uint8_t *id, size_t n); /* JSON: hex */
void enc_fixed64(enc *e, uint32_t field, const char *name, uint64_t v);             /* JSON: "123" */
void enc_sfixed64(enc *e, uint32_t field, const char *name, int64_t v);
void enc_int64(enc *e, uint32_t field, const char *name, int64_t v);  /* varint; JSON: "123" */
void enc_uint32(enc *e, uint32_t field, const char *name, uint32_t v); /* varint/enum; JSON: 123 */
void enc_bool(enc *e, uint32_t field, const char *name, int v);
void enc_double(enc *e, uint32_t field, const char *name, double v);
void enc_packed_fixed64(enc *e, uint32_t field, const char *name, const uint64_t *v, size_t n);
void enc_packed_double(enc *e, uint32_t field, const char *name, const double *v, size_t n);
/* KeyValue helpers (a repeated `attributes`-like field holding KeyValue messages). */
void kv_str(enc *e, uint32_t field, const char *key, const char *v, size_t n);
void kv_cstr(enc *e, uint32_t field, const char *key, const char *v);
void kv_int(enc *e, uint32_t field, const char *key, int64_t v);
void kv_double(enc *e, uint32_t field, const char *key, double v);
void kv_bool(enc *e, uint32_t field, const char *key, int v);
/* An attribute from a JSON value (string, number, bool; arrays of strings; other values as JSON text). */
void kv_json(enc *e, uint32_t field, const char *key, const jdoc *d, uint32_t node);

/* ---- attribute sets (kept per session, and the resource) ----------------------------------------- */

typedef struct attr {
    char *key;
    int type;      /* JT_STR, JT_NUM (int if is_int else double), JT_TRUE/JT_FALSE */
    int is_int;
    char *s;
    int64_t i;
    double f;
} attr;

typedef struct attrs {
    attr *a;
    size_t n, cap;
} attrs;

void attrs_add_str(attrs *as, const char *key, const char *v);
void attrs_add_json(attrs *as, const char *prefix, const jdoc *d, uint32_t node); /* object members */
void attrs_free(attrs *as);
void attrs_encode(enc *e, uint32_t field, const attrs *as);
const char *attrs_find(const attrs *as, const char *key);

/* ---- the plugin ----------------------------------------------------------------------------------- */

enum { SIG_TRACES = 0, SIG_METRICS = 1 };

typedef struct session_state {
    char *id;           /* NULL: free slot */
    uint8_t tombstone;
    uint8_t trace_id[16];
    uint8_t span_id[8];
    uint8_t parent_id[8];
    int has_parent;
    int start_seen;
    int64_t start_ns;   /* session clock */
    int64_t offset_ns;  /* unix ns - session clock ns */
    int64_t last_ns;    /* latest time seen (session clock) */
    uint64_t order;     /* insertion order, for eviction */
    char text_policy[16];
    attrs at;           /* labels and metadata as span attributes */
    buf events;         /* encoded span events of the root (other event types of the session) */
    uint32_t n_events, dropped_events;
} session_state;

typedef struct request {
    struct request *next;
    int signal;
    buf body;           /* uncompressed */
    uint64_t items;     /* spans or data points */
    uint64_t events;    /* source events first attributed to this request */
    uint32_t attempts;
} request;

typedef struct stats {
    uint64_t events_seen, events_used, events_ignored, events_bad, host_dropped_before;
    uint64_t sessions_started, sessions_ended, sessions_evicted, sessions_untracked;
    uint64_t items_created[2], items_exported[2], items_rejected[2], items_dropped[2];
    uint64_t requests_sent[2], requests_ok[2], requests_failed[2], retries[2];
    uint64_t events_lost;  /* reported with host->count_drop */
    uint64_t backpressure; /* write() answered RETRY because the queue was full */
    uint64_t metric_exports, metric_exports_skipped;
    int64_t last_status;   /* last HTTP status (0: transport error) */
    char last_error[200];
} stats;

typedef struct config {
    char traces_url[1024], metrics_url[1024];
    int json;              /* http/json */
    int gzip;
    int compression_level;
    long timeout_ms;
    long metrics_interval_ms;
    int delta;             /* metrics_temporality delta */
    int videosdk;          /* span_names */
    int traces_on, metrics_on;
    int metrics_on_flush;
    size_t max_queue_bytes;
    uint32_t max_spans_per_request;
    uint32_t max_sessions;
    uint32_t max_session_events;
    long stats_interval_ms;
    char stats_path[1024];
    char **headers;        /* "Key: value" lines */
    size_t n_headers;
    attrs resource;
} config;

struct genai;

typedef struct otlp {
    const vt_host_api *host;
    void *host_ctx;
    config cfg;
    uint64_t rng;

    /* sessions: open addressing, touched only on the host's plugin thread */
    session_state *sess;
    uint32_t sess_cap, sess_live, sess_used;
    uint64_t sess_order;

    /* the traces request being built by write() */
    buf tb;
    enc te;
    uint64_t tb_spans, tb_events;

    /* shared with the sender thread */
    pthread_mutex_t mu;
    pthread_cond_t cv, idle;
    request *head, *tail;
    size_t queued_bytes;
    int busy;              /* the sender holds the head request */
    int stop;
    uint64_t hard_deadline; /* sender: abort transfers after this (CLOCK_MONOTONIC ns), 0 = none */
    uint64_t retry_at;
    uint64_t backoff_ms;
    int metrics_now;       /* a metrics export was asked for (flush, unload) */
    uint64_t metrics_due;
    uint64_t stats_due;
    uint64_t start_unix_ns; /* cumulative metrics start */
    stats st;              /* under mu */
    stats wst;             /* the write thread's counters, published into st under mu */
    struct genai *genai;
    pthread_t thread;
    int thread_started;
    void *curl;
} otlp;

/* sink.c */
uint64_t mono_ns(void);
uint64_t unix_ns(void);
void rand_bytes(otlp *o, uint8_t *out, size_t n);
void plog(otlp *o, int level, const char *fmt, ...);

/* spans.c */
void spans_open_request(otlp *o);
uint64_t spans_from_turn(otlp *o, session_state *s, const jdoc *d, uint32_t rec);
void spans_session(otlp *o, session_state *s, int64_t end_ns, const jdoc *d, uint32_t snap, int evicted);
void spans_session_event(otlp *o, session_state *s, const char *name, int64_t t, const jdoc *d, uint32_t data);
void spans_resource(otlp *o, enc *e);

/* metrics.c */
struct genai *genai_new(void);
void genai_free(struct genai *g);
void genai_observe_turn(otlp *o, const jdoc *d, uint32_t rec); /* called with o->mu held */
int metrics_build(otlp *o, buf *out, uint64_t *points);          /* called without o->mu */
int prom_to_otlp(otlp *o, enc *e, const char *text, size_t len, uint64_t now, uint64_t *points);

/* export.c */
int export_start(otlp *o, char *err, size_t cap);
void export_enqueue(otlp *o, int signal, buf *body, uint64_t items, uint64_t events); /* takes body */
int export_wait_idle(otlp *o, uint64_t deadline_ns);
void export_stop(otlp *o, uint64_t deadline_ns);
void stats_write(otlp *o, int final, int log);
long retry_after_ms(const char *value, time_t now); /* -1: neither delay-seconds nor an HTTP-date */

#endif
