/*
 * http.h -- internals of http_exporter.so (docs/http.md): a voicetelemetry sink plugin that serves
 * the process over HTTP/1.1 from its own threads -- /metrics, the JSON API of open sessions and
 * turns, Server-Sent Events of the events it receives, /healthz and the dashboard page.
 *
 * Files: plugin.c (the plugin table, init, write, shutdown), config.c (the config JSON), request.c
 * (the request parser and header helpers: pure functions), routes.c (what each path answers),
 * server.c (listening socket, worker threads, epoll, connections, timers), sse.c (the event ring
 * shared by the SSE clients), dashboard.c (the page, embedded at build time).
 * Everything but the entry point has hidden visibility (built with -fvisibility=hidden).
 */
#ifndef HX_HTTP_H
#define HX_HTTP_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <zlib.h>

#include "voicetelemetry_plugin.h"

/* The statuses of the host functions we tell apart (vt_status in voicetelemetry.h). */
enum { HX_VT_OK = 0, HX_VT_INVALID_ARG = -1, HX_VT_BAD_HANDLE = -2, HX_VT_BUFFER_TOO_SMALL = -3,
       HX_VT_NOT_FOUND = -7 };
/* vt_exposition_format */
enum { HX_FORMAT_PROMETHEUS = 0, HX_FORMAT_OPENMETRICS = 1 };

/* ---- configuration (config.c) ------------------------------------------------------------------- */

typedef struct hx_config {
    char listen[256];          /* "host:port" */
    char port_file[4096];      /* "" = none */
    char token[512];           /* "" = no token */
    uint32_t max_connections;
    uint32_t max_header_bytes;
    uint32_t request_timeout_ms;
    uint32_t idle_timeout_ms;
    uint32_t sse_max_clients;
    uint32_t sse_queue_events;
    uint32_t sse_heartbeat_ms;
    uint32_t threads;
    uint32_t gzip_level;
} hx_config;

/* Parse the plugin's config JSON (unknown keys ignored). 0, or -1 with a reason in err. */
int hx_config_parse(const char *json, hx_config *cfg, char *err, size_t err_cap);

/* ---- requests (request.c) ------------------------------------------------------------------------ */

enum { HX_GET = 1, HX_HEAD = 2, HX_OTHER_METHOD = 3 };

typedef struct hx_str {
    const char *p;
    size_t n;
} hx_str;

typedef struct hx_request {
    int method;
    int http_minor;            /* HTTP/1.<minor> */
    int keep_alive;            /* the client allows another request on this connection */
    int has_body;              /* Content-Length > 0 or Transfer-Encoding: the connection closes */
    hx_str target, path, query;
    hx_str accept, accept_encoding, authorization, last_event_id;
    int error_status;          /* when the parse fails: the status to answer */
    const char *error;         /* ... and why (static text) */
} hx_request;

/* Parse the request head at the start of buf[0..len). Returns the bytes of the head (> 0) with req
 * filled in, 0 when more bytes are needed (and len < max_head), or -1 with req->error_status and
 * req->error set (400, 431, 505). Never reads past len. */
long hx_parse_request(const char *buf, size_t len, size_t max_head, hx_request *req);

/* Percent-decode s into out (room for s.n + 1 bytes), NUL-terminated. -1 on a bad escape or a
 * decoded NUL; otherwise the decoded length. */
long hx_percent_decode(hx_str s, char *out);

/* Does the Accept header prefer OpenMetrics 1.0.0 over the text format 0.0.4? */
int hx_wants_openmetrics(hx_str accept);
/* Does Accept-Encoding allow gzip? */
int hx_accepts_gzip(hx_str accept_encoding);
/* The value of query parameter `name` (first occurrence); 1 found, 0 absent, -1 given twice. */
int hx_query_param(hx_str query, const char *name, hx_str *value);
/* Case-insensitive comparison of s with the NUL-terminated lower-case word. */
int hx_str_ieq(hx_str s, const char *word);

/* ---- the server (server.c) ----------------------------------------------------------------------- */

typedef struct hx_server hx_server;
typedef struct hx_worker hx_worker;
typedef struct hx_conn hx_conn;

/* A growable byte buffer (out of memory: `oom` set, content incomplete). */
typedef struct hx_buf {
    char *p;
    size_t len, cap;
    int oom;
} hx_buf;

int hx_buf_reserve(hx_buf *b, size_t total);
void hx_buf_put(hx_buf *b, const void *p, size_t n);
void hx_buf_free(hx_buf *b);

/* The SSE event ring (sse.c): one producer (the plugin's write), read by the workers. */
typedef struct hx_ring {
    pthread_mutex_t lock;
    char **slot;               /* sse_queue_events formatted events */
    size_t *slot_len;
    uint32_t cap;
    uint64_t head;             /* sequence of the next event; the oldest kept is head - min(head, cap) */
    uint64_t published;        /* events put in the ring, for the stats */
} hx_ring;

int hx_ring_init(hx_ring *r, uint32_t cap);
void hx_ring_free(hx_ring *r);
uint64_t hx_ring_head(hx_ring *r);
/* Publish one event line (without its '\n') of type `type`. 0, or -1 out of memory. */
int hx_ring_publish(hx_ring *r, const char *type, size_t type_len, const char *line, size_t len);
/* Append to out the events from *next on (a "dropped" notice first when some were overwritten),
 * stopping once out holds `budget` bytes; advances *next. */
void hx_ring_pull(hx_ring *r, uint64_t *next, hx_buf *out, size_t budget);
/* The value of top-level key "event_type" of one JSON event line, if it is a plain string. */
int hx_event_type(const char *line, size_t len, hx_str *type);

struct hx_server {
    hx_config cfg;
    const vt_host_api *host;
    void *host_ctx;
    int listen_fd;
    int port;
    hx_worker *workers;
    uint32_t n_workers;
    atomic_int stop;
    atomic_uint connections;   /* open connections, all workers */
    atomic_uint sse_clients;
    hx_ring ring;
};

/* Start listening and the workers; 0, or -1 with a reason in err. */
int hx_server_start(hx_server *s, char *err, size_t err_cap);
/* Stop the workers, close every socket, free everything (the struct itself stays the caller's). */
void hx_server_stop(hx_server *s);
/* Tell every worker that events were published. */
void hx_server_wake(hx_server *s);

/* ---- responses (routes.c, called by server.c) ---------------------------------------------------- */

/* What the worker sends back for one request. */
typedef struct hx_response {
    int status;
    const char *content_type;
    const char *extra_headers;    /* preformatted "Name: value\r\n" lines, or NULL */
    const char *body;             /* borrowed for the send */
    size_t body_len;
    int gzip;                     /* compress the body (the client allows it) */
    int close;                    /* close the connection after this response */
    int sse;                      /* start an event stream: headers only, no Content-Length */
    int head;                     /* HEAD: headers as for GET, no body */
} hx_response;

/* Per-worker scratch the routes render into (reused by every request of the worker). */
typedef struct hx_scratch {
    hx_buf render;                /* the host's text */
    hx_buf gz;                    /* its gzip form */
    z_stream z;
    int z_ready;
    char *session_id;             /* a decoded path segment (max_header_bytes + 1 bytes) */
    char error_body[256];
} hx_scratch;

int hx_scratch_init(hx_scratch *sc, const hx_config *cfg);
void hx_scratch_free(hx_scratch *sc);
/* The answer to one parsed request. Sets up an SSE stream (res->sse) only after reserving one of
 * the sse_max_clients slots (the server gives it back when the stream closes); *sse_cursor is then
 * the sequence of the first event the client gets. */
void hx_route(hx_server *s, hx_scratch *sc, const hx_request *req, hx_response *res, uint64_t *sse_cursor);
/* A JSON error answer {"error": msg}. */
void hx_error(hx_scratch *sc, hx_response *res, int status, const char *msg);
const char *hx_status_text(int status);

/* The embedded dashboard page (dashboard.c). */
const char *hx_dashboard(size_t *len);

#endif /* HX_HTTP_H */
