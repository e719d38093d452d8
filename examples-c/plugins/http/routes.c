/*
 * routes.c -- what each path answers. Every body comes from the host table (rendered into the
 * worker's scratch buffer, grown and asked again when the text outgrew it) or is fixed text; the
 * server sends it. Paths are matched exactly: there is no file serving at all.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

#define MAX_RENDER_BYTES ((size_t)256 << 20) /* a host text larger than this is refused (500) */
#define SESSIONS_PREFIX "/api/v1/sessions/"
#define MAX_TURNS_LIMIT 1024

static const char PROM_TYPE[] = "text/plain; version=0.0.4; charset=utf-8";
static const char OPENMETRICS_TYPE[] = "application/openmetrics-text; version=1.0.0; charset=utf-8";
static const char JSON_TYPE[] = "application/json";
static const char VARY_METRICS[] = "Vary: Accept-Encoding, Accept\r\nCache-Control: no-store\r\n";
static const char VARY_DYNAMIC[] = "Vary: Accept-Encoding\r\nCache-Control: no-store\r\n";

const char *hx_status_text(int status) {
    switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return "Error";
    }
}

int hx_scratch_init(hx_scratch *sc, const hx_config *cfg) {
    memset(sc, 0, sizeof *sc);
    sc->session_id = malloc((size_t)cfg->max_header_bytes + 1);
    if (!sc->session_id) return -1;
    if (deflateInit2(&sc->z, (int)cfg->gzip_level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
        free(sc->session_id);
        return -1;
    }
    sc->z_ready = 1;
    return 0;
}

void hx_scratch_free(hx_scratch *sc) {
    if (sc->z_ready) deflateEnd(&sc->z);
    hx_buf_free(&sc->render);
    hx_buf_free(&sc->gz);
    free(sc->session_id);
    memset(sc, 0, sizeof *sc);
}

void hx_error(hx_scratch *sc, hx_response *res, int status, const char *msg) {
    int head = res->head, close = res->close;
    memset(res, 0, sizeof *res);
    res->head = head;
    res->close = close;
    size_t o = 0, cap = sizeof sc->error_body;
    o += (size_t)snprintf(sc->error_body, cap, "{\"error\":\"");
    for (const char *p = msg; *p && o + 8 < cap; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '"' || c == '\\') sc->error_body[o++] = '\\';
        sc->error_body[o++] = c < 0x20 ? ' ' : (char)c;
    }
    o += (size_t)snprintf(sc->error_body + o, cap - o, "\"}");
    res->status = status;
    res->content_type = JSON_TYPE;
    res->body = sc->error_body;
    res->body_len = o;
}

/* ---- rendering through the host -------------------------------------------------------------- */

typedef struct render_call {
    int kind;                 /* what to ask the host for */
    uint32_t format;
    uint64_t session;
    size_t max_turns;
} render_call;

enum { R_METRICS, R_SESSIONS, R_SNAPSHOT, R_TURNS };

static int32_t host_call(hx_server *s, const render_call *rc, char *buf, size_t cap, size_t *len) {
    const vt_host_api *h = s->host;
    switch (rc->kind) {
    case R_METRICS: return h->prom_text_as(s->host_ctx, rc->format, buf, cap, len);
    case R_SESSIONS: return h->sessions_json(s->host_ctx, buf, cap, len);
    case R_SNAPSHOT: return h->snapshot_json(s->host_ctx, rc->session, buf, cap, len);
    default: return h->turn_history_json(s->host_ctx, rc->session, rc->max_turns, buf, cap, len);
    }
}

/* The host's text into sc->render (BUFFERS contract: grow to the length it asks for and call
 * again; the text may grow in between). Returns the host's status. */
static int32_t render(hx_server *s, hx_scratch *sc, const render_call *rc) {
    if (sc->render.cap < 65536 && hx_buf_reserve(&sc->render, 65536) < 0) return HX_VT_BUFFER_TOO_SMALL;
    for (int attempt = 0; attempt < 8; attempt++) {
        size_t len = 0;
        int32_t st = host_call(s, rc, sc->render.p, sc->render.cap, &len);
        if (st == HX_VT_OK) {
            sc->render.len = len;
            return st;
        }
        if (st != HX_VT_BUFFER_TOO_SMALL || len >= MAX_RENDER_BYTES) return st;
        if (hx_buf_reserve(&sc->render, len + len / 8 + 4096) < 0) return st;
    }
    return HX_VT_BUFFER_TOO_SMALL;
}

static void ok_from_render(hx_scratch *sc, hx_response *res, const char *type, const char *headers) {
    res->status = 200;
    res->content_type = type;
    res->extra_headers = headers;
    res->body = sc->render.p;
    res->body_len = sc->render.len;
}

static void render_error(hx_scratch *sc, hx_response *res, int32_t st) {
    if (st == HX_VT_BAD_HANDLE || st == HX_VT_NOT_FOUND) hx_error(sc, res, 404, "no open session with this id");
    else if (st == HX_VT_BUFFER_TOO_SMALL) hx_error(sc, res, 500, "the text is too large to serve");
    else hx_error(sc, res, 500, "the library could not produce the text");
}

static void serve_render(hx_server *s, hx_scratch *sc, hx_response *res, const render_call *rc, const char *type,
                         const char *headers) {
    int32_t st = render(s, sc, rc);
    if (st == HX_VT_OK) ok_from_render(sc, res, type, headers);
    else render_error(sc, res, st);
}

/* ---- routes ---------------------------------------------------------------------------------- */

static void serve_metrics(hx_server *s, hx_scratch *sc, const hx_request *req, hx_response *res) {
    render_call rc = {R_METRICS, HX_FORMAT_PROMETHEUS, 0, 0};
    if (hx_wants_openmetrics(req->accept)) rc.format = HX_FORMAT_OPENMETRICS;
    serve_render(s, sc, res, &rc, rc.format == HX_FORMAT_OPENMETRICS ? OPENMETRICS_TYPE : PROM_TYPE, VARY_METRICS);
}

/* "limit" of the query: 0 (all kept) when absent; -1 when malformed or above MAX_TURNS_LIMIT. */
static long turns_limit(hx_str query) {
    hx_str v;
    int found = hx_query_param(query, "limit", &v);
    if (found == 0) return 0;
    if (found < 0 || v.n == 0 || v.n > 4) return -1;
    long n = 0;
    for (size_t i = 0; i < v.n; i++) {
        if (v.p[i] < '0' || v.p[i] > '9') return -1;
        n = n * 10 + (v.p[i] - '0');
    }
    return n <= MAX_TURNS_LIMIT ? n : -1;
}

/* /api/v1/sessions/{id} and /api/v1/sessions/{id}/turns; rest: the path after the prefix. */
static void serve_session(hx_server *s, hx_scratch *sc, const hx_request *req, hx_response *res, hx_str rest) {
    const char *slash = memchr(rest.p, '/', rest.n);
    hx_str id = {rest.p, slash ? (size_t)(slash - rest.p) : rest.n};
    hx_str tail = {id.p + id.n, rest.n - id.n};
    int turns = tail.n == 6 && memcmp(tail.p, "/turns", 6) == 0;
    if (id.n == 0 || (tail.n && !turns)) {
        hx_error(sc, res, 404, "no such path");
        return;
    }
    long limit = turns ? turns_limit(req->query) : 0;
    if (limit < 0) {
        hx_error(sc, res, 400, "limit must be an integer from 0 to 1024");
        return;
    }
    if (hx_percent_decode(id, sc->session_id) < 0) {
        hx_error(sc, res, 400, "bad percent-encoding in the session id");
        return;
    }
    render_call rc = {turns ? R_TURNS : R_SNAPSHOT, 0, 0, (size_t)limit};
    int32_t st = s->host->session_find(s->host_ctx, sc->session_id, &rc.session);
    if (st == HX_VT_INVALID_ARG) {
        hx_error(sc, res, 400, "not a valid session id");
        return;
    }
    if (st != HX_VT_OK) {
        render_error(sc, res, st);
        return;
    }
    serve_render(s, sc, res, &rc, JSON_TYPE, VARY_DYNAMIC);
}

/* Reserve a slot of sse_max_clients; 0 when all are taken. */
static int reserve_sse(hx_server *s) {
    unsigned n = atomic_load(&s->sse_clients);
    do {
        if (n >= s->cfg.sse_max_clients) return 0;
    } while (!atomic_compare_exchange_weak(&s->sse_clients, &n, n + 1));
    return 1;
}

/* Last-Event-ID: resume after that event when it is still in the ring. */
static uint64_t sse_start(hx_server *s, const hx_request *req) {
    uint64_t head = hx_ring_head(&s->ring), id = 0;
    hx_str v = req->last_event_id;
    if (!v.p || v.n == 0 || v.n > 19) return head;
    for (size_t i = 0; i < v.n; i++) {
        if (v.p[i] < '0' || v.p[i] > '9') return head;
        id = id * 10 + (uint64_t)(v.p[i] - '0');
    }
    return id < head ? id + 1 : head;
}

static void serve_events(hx_server *s, hx_scratch *sc, const hx_request *req, hx_response *res, uint64_t *cursor) {
    if (!res->head) {
        if (!reserve_sse(s)) {
            hx_error(sc, res, 503, "too many event stream clients");
            return;
        }
        *cursor = sse_start(s, req);
    }
    res->status = 200;
    res->content_type = "text/event-stream";
    res->extra_headers = "Cache-Control: no-store\r\nX-Accel-Buffering: no\r\n";
    res->sse = 1;
}

static void fixed(hx_response *res, const char *type, const char *headers, const char *body, size_t len) {
    res->status = 200;
    res->content_type = type;
    res->extra_headers = headers;
    res->body = body;
    res->body_len = len;
}

static int path_is(hx_str p, const char *s) { return p.n == strlen(s) && memcmp(p.p, s, p.n) == 0; }

static void dispatch(hx_server *s, hx_scratch *sc, const hx_request *req, hx_response *res, uint64_t *cursor) {
    hx_str p = req->path;
    size_t plen = strlen(SESSIONS_PREFIX);
    if (path_is(p, "/metrics")) serve_metrics(s, sc, req, res);
    else if (path_is(p, "/api/v1/sessions")) {
        render_call rc = {R_SESSIONS, 0, 0, 0};
        serve_render(s, sc, res, &rc, JSON_TYPE, VARY_DYNAMIC);
    } else if (p.n > plen && memcmp(p.p, SESSIONS_PREFIX, plen) == 0)
        serve_session(s, sc, req, res, (hx_str){p.p + plen, p.n - plen});
    else if (path_is(p, "/api/v1/events")) serve_events(s, sc, req, res, cursor);
    else if (path_is(p, "/")) {
        size_t len;
        const char *page = hx_dashboard(&len);
        fixed(res, "text/html; charset=utf-8", VARY_DYNAMIC, page, len);
    } else hx_error(sc, res, 404, "no such path");
}

/* The token, compared in time independent of where it differs. */
static int same_token(const char *want, hx_str got) {
    size_t wlen = strlen(want);
    unsigned diff = got.n != wlen;
    for (size_t i = 0; i < wlen; i++) diff |= (unsigned)(want[i] ^ (i < got.n ? got.p[i] : 0));
    return diff == 0;
}

/* "Authorization: Bearer <token>", or the access_token query parameter (RFC 6750 2.3: how a browser
 * opens the dashboard, and how EventSource, which cannot send headers, follows the event stream). */
static int authorized(const hx_server *s, const hx_request *req) {
    hx_str auth = req->authorization, q;
    if (auth.p && auth.n >= 7 && hx_str_ieq((hx_str){auth.p, 7}, "bearer ")) {
        hx_str got = {auth.p + 7, auth.n - 7};
        while (got.n && got.p[0] == ' ') got.p++, got.n--;
        if (same_token(s->cfg.token, got)) return 1;
    }
    char decoded[sizeof s->cfg.token + 1];
    if (hx_query_param(req->query, "access_token", &q) != 1 || q.n >= sizeof decoded) return 0;
    long n = hx_percent_decode(q, decoded);
    return n >= 0 && same_token(s->cfg.token, (hx_str){decoded, (size_t)n});
}

static int compress_body(hx_scratch *sc, hx_response *res) {
    size_t bound = deflateBound(&sc->z, res->body_len) + 32;
    if (hx_buf_reserve(&sc->gz, bound) < 0 || deflateReset(&sc->z) != Z_OK) return -1;
    sc->z.next_in = (Bytef *)(uintptr_t)res->body;
    sc->z.avail_in = (uInt)res->body_len;
    sc->z.next_out = (Bytef *)sc->gz.p;
    sc->z.avail_out = (uInt)sc->gz.cap;
    if (deflate(&sc->z, Z_FINISH) != Z_STREAM_END) return -1;
    res->body = sc->gz.p;
    res->body_len = sc->gz.cap - sc->z.avail_out;
    return 0;
}

void hx_route(hx_server *s, hx_scratch *sc, const hx_request *req, hx_response *res, uint64_t *cursor) {
    memset(res, 0, sizeof *res);
    res->head = req->method == HX_HEAD;
    res->close = !req->keep_alive;
    int get = req->method != HX_OTHER_METHOD;
    if (req->has_body && get) {
        hx_error(sc, res, 400, "a GET or HEAD request has no body");
        return;
    }
    int open = path_is(req->path, "/healthz");
    if (!open && s->cfg.token[0] && !authorized(s, req)) {
        hx_error(sc, res, 401, "a bearer token is required");
        res->extra_headers = req->authorization.p ? "WWW-Authenticate: Bearer realm=\"voicetelemetry\", error=\"invalid_token\"\r\n"
                                                  : "WWW-Authenticate: Bearer realm=\"voicetelemetry\"\r\n";
        return;
    }
    if (!get) {
        hx_error(sc, res, 405, "only GET and HEAD are served");
        res->extra_headers = "Allow: GET, HEAD\r\n";
        return;
    }
    if (open) fixed(res, "text/plain; charset=utf-8", "Cache-Control: no-store\r\n", "ok", 2);
    else dispatch(s, sc, req, res, cursor);
    if (!open && res->status == 200 && !res->sse && hx_accepts_gzip(req->accept_encoding) && res->body_len <= UINT32_MAX / 2) {
        if (compress_body(sc, res) == 0) res->gzip = 1;
    }
}
