#define _GNU_SOURCE
/*
 * export.c -- the sender thread: a FIFO of encoded requests, POSTed in order with libcurl (keep-alive,
 * gzip), the OTLP/HTTP response rules (2xx + partial_success, 429/502/503/504 and transport errors
 * retried with backoff honouring Retry-After, other statuses dropped), the periodic metrics export,
 * and the statistics (file and log).
 */
#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <zlib.h>

#include "otlp.h"

#define BACKOFF_FIRST_MS 50
#define BACKOFF_MAX_MS 1000
#define RESPONSE_MAX 65536

enum { SEND_OK, SEND_RETRY, SEND_DROP };

typedef struct response {
    buf body;
    long retry_after_ms; /* -1: none */
    otlp *o;
} response;

/* ---- queue ------------------------------------------------------------------------------------------- */

static void push_locked(otlp *o, request *r) {
    r->next = NULL;
    if (o->tail) o->tail->next = r;
    else o->head = r;
    o->tail = r;
    o->queued_bytes += r->body.len;
    o->st.items_created[r->signal] += r->items;
}

void export_enqueue(otlp *o, int signal, buf *body, uint64_t items, uint64_t events) {
    request *r = calloc(1, sizeof *r);
    pthread_mutex_lock(&o->mu);
    if (!r || body->oom) {
        o->st.items_created[signal] += items;
        o->st.items_dropped[signal] += items;
        o->st.events_lost += events;
        pthread_mutex_unlock(&o->mu);
        if (events) o->host->count_drop(o->host_ctx, events);
        plog(o, VT_LOG_ERROR, "out of memory: %llu %s dropped", (unsigned long long)items,
             signal ? "data points" : "spans");
        buf_free(body);
        free(r);
        return;
    }
    r->signal = signal;
    r->body = *body;
    memset(body, 0, sizeof *body);
    r->items = items;
    r->events = events;
    push_locked(o, r);
    pthread_cond_signal(&o->cv);
    pthread_mutex_unlock(&o->mu);
}

static request *pop_locked(otlp *o) {
    request *r = o->head;
    o->head = r->next;
    if (!o->head) o->tail = NULL;
    o->queued_bytes -= r->body.len;
    return r;
}

static void free_request(request *r) {
    buf_free(&r->body);
    free(r);
}

/* ---- HTTP -------------------------------------------------------------------------------------------- */

static size_t on_body(char *p, size_t size, size_t n, void *arg) {
    response *rs = arg;
    size_t len = size * n;
    if (rs->body.len + len <= RESPONSE_MAX) buf_put(&rs->body, p, len);
    return len;
}

/* A Retry-After value (RFC 9110: delay-seconds or an HTTP-date) as a wait in ms from `now`, at most an
 * hour; -1 when it is neither. A date in the past means: now. */
long retry_after_ms(const char *value, time_t now) {
    char *end;
    long s = strtol(value, &end, 10);
    while (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n') end++;
    if (end != value && *end == '\0' && s >= 0) return s > 3600 ? 3600000 : s * 1000;
    time_t at = curl_getdate(value, NULL);
    if (at < 0) return -1;
    double wait = difftime(at, now);
    return wait <= 0 ? 0 : wait > 3600 ? 3600000 : (long)(wait * 1000);
}

static size_t on_header(char *p, size_t size, size_t n, void *arg) {
    response *rs = arg;
    size_t len = size * n;
    if (len > 12 && strncasecmp(p, "Retry-After:", 12) == 0) {
        char tmp[64];
        size_t k = len - 12 < sizeof tmp - 1 ? len - 12 : sizeof tmp - 1;
        memcpy(tmp, p + 12, k);
        tmp[k] = 0;
        rs->retry_after_ms = retry_after_ms(tmp, time(NULL));
    }
    return len;
}

static int on_progress(void *arg, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d) {
    otlp *o = arg;
    (void)a, (void)b, (void)c, (void)d;
    uint64_t deadline = __atomic_load_n(&o->hard_deadline, __ATOMIC_RELAXED);
    return __atomic_load_n(&o->stop, __ATOMIC_RELAXED) && deadline && mono_ns() > deadline;
}

static int gzip_body(const buf *in, buf *out, int level) {
    z_stream z;
    memset(&z, 0, sizeof z);
    if (deflateInit2(&z, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) return -1;
    size_t bound = deflateBound(&z, (uLong)in->len) + 32;
    out->len = 0;
    buf_reserve(out, bound);
    if (out->oom) {
        deflateEnd(&z);
        return -1;
    }
    z.next_in = in->p;
    z.avail_in = (uInt)in->len;
    z.next_out = out->p;
    z.avail_out = (uInt)bound;
    int rc = deflate(&z, Z_FINISH);
    out->len = bound - z.avail_out;
    deflateEnd(&z);
    return rc == Z_STREAM_END ? 0 : -1;
}

static struct curl_slist *headers_for(otlp *o) {
    struct curl_slist *h = NULL;
    h = curl_slist_append(h, o->cfg.json ? "Content-Type: application/json" : "Content-Type: application/x-protobuf");
    if (o->cfg.gzip) h = curl_slist_append(h, "Content-Encoding: gzip");
    h = curl_slist_append(h, "Expect:");
    h = curl_slist_append(h, "User-Agent: voicetelemetry-otlp-sink/1.0.0");
    for (size_t i = 0; i < o->cfg.n_headers; i++) h = curl_slist_append(h, o->cfg.headers[i]);
    return h;
}

/* ---- responses --------------------------------------------------------------------------------------- */

/* The rejected count of a protobuf partial_success: varint field 1 inside field 1. */
static int64_t rejected_count_proto(const buf *b, char *msg, size_t cap) {
    const uint8_t *p = b->p, *end = b->p + b->len;
    int64_t rejected = 0;
    int inner = 0;
    msg[0] = 0;
    while (p < end) {
        uint64_t key = 0, v = 0;
        for (int s = 0; p < end && s < 64; s += 7) { key |= (uint64_t)(*p & 0x7F) << s; if (!(*p++ & 0x80)) break; }
        int wire = (int)(key & 7);
        if (wire == 0) {
            for (int s = 0; p < end && s < 64; s += 7) { v |= (uint64_t)(*p & 0x7F) << s; if (!(*p++ & 0x80)) break; }
            if (inner && (key >> 3) == 1) rejected = (int64_t)v;
            continue;
        }
        if (wire != 2) break;
        for (int s = 0; p < end && s < 64; s += 7) { v |= (uint64_t)(*p & 0x7F) << s; if (!(*p++ & 0x80)) break; }
        if (v > (uint64_t)(end - p)) break;
        if (!inner && (key >> 3) == 1) { inner = 1; end = p + v; continue; }
        if (inner && (key >> 3) == 2) snprintf(msg, cap, "%.*s", (int)v, (const char *)p);
        p += v;
    }
    return rejected;
}

static int64_t rejected_count_json(const buf *b, int signal, char *msg, size_t cap) {
    jdoc d = {0};
    int64_t n = 0;
    double f;
    msg[0] = 0;
    if (b->len && json_parse(&d, (const char *)b->p, b->len) == 0) {
        uint32_t ps = json_get(&d, JROOT, "partialSuccess");
        uint32_t v = json_get(&d, ps, signal ? "rejectedDataPoints" : "rejectedSpans");
        if (json_is(&d, v, JT_STR)) {
            char t[32];
            if (json_str(&d, v, t, sizeof t) > 0) n = strtoll(t, NULL, 10);
        } else if (json_i64(&d, v, &n) != 0 && json_f64(&d, v, &f) == 0) {
            n = (int64_t)f;
        }
        if (json_str(&d, json_get(&d, ps, "errorMessage"), msg, cap) < 0) msg[0] = 0;
    }
    json_free(&d);
    return n;
}

/* ---- one attempt ---------------------------------------------------------------------------------------- */

typedef struct outcome {
    int action;
    long status;
    long retry_after_ms;
    int64_t rejected;
    char msg[200];
} outcome;

static void classify(outcome *oc, CURLcode rc, long status, response *rs, int signal, int json) {
    oc->status = status;
    oc->retry_after_ms = rs->retry_after_ms;
    if (rc != CURLE_OK) {
        oc->action = SEND_RETRY;
        snprintf(oc->msg, sizeof oc->msg, "%s", curl_easy_strerror(rc));
    } else if (status >= 200 && status < 300) {
        oc->action = SEND_OK;
        oc->rejected = json ? rejected_count_json(&rs->body, signal, oc->msg, sizeof oc->msg)
                            : rejected_count_proto(&rs->body, oc->msg, sizeof oc->msg);
    } else {
        oc->action = (status == 429 || status == 502 || status == 503 || status == 504) ? SEND_RETRY : SEND_DROP;
        snprintf(oc->msg, sizeof oc->msg, "HTTP %ld", status);
    }
}

static void send_request(otlp *o, request *r, buf *wire, outcome *oc) {
    CURL *c = o->curl;
    response rs = {{0}, -1, o};
    const buf *body = &r->body;
    memset(oc, 0, sizeof *oc);
    if (o->cfg.gzip) {
        if (gzip_body(&r->body, wire, o->cfg.compression_level) != 0) {
            oc->action = SEND_DROP;
            snprintf(oc->msg, sizeof oc->msg, "gzip failed");
            return;
        }
        body = wire;
    }
    struct curl_slist *h = headers_for(o);
    curl_easy_setopt(c, CURLOPT_URL, r->signal ? o->cfg.metrics_url : o->cfg.traces_url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, (const char *)body->p);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body->len);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &rs);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &rs);
    CURLcode rc = curl_easy_perform(c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    classify(oc, rc, status, &rs, r->signal, o->cfg.json);
    curl_slist_free_all(h);
    buf_free(&rs.body);
}

static void setup_curl(otlp *o) {
    CURL *c = o->curl;
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, o->cfg.timeout_ms);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, o->cfg.timeout_ms);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, o);
    curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
}

/* With o->mu held: book the attempt's outcome; returns 1 when the request leaves the queue. */
static int settle_locked(otlp *o, request *r, const outcome *oc) {
    stats *st = &o->st;
    int sig = r->signal;
    st->requests_sent[sig]++;
    st->last_status = oc->status;
    if (oc->msg[0]) snprintf(st->last_error, sizeof st->last_error, "%s", oc->msg);
    if (oc->action == SEND_RETRY) {
        uint64_t wait = oc->retry_after_ms >= 0 ? (uint64_t)oc->retry_after_ms : o->backoff_ms;
        o->backoff_ms = o->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : o->backoff_ms * 2;
        o->retry_at = mono_ns() + wait * 1000000ull;
        st->retries[sig]++;
        st->requests_failed[sig]++;
        r->attempts++;
        return 0;
    }
    o->backoff_ms = BACKOFF_FIRST_MS;
    o->retry_at = 0;
    if (oc->action == SEND_OK) {
        uint64_t rej = oc->rejected > 0 ? (uint64_t)oc->rejected : 0;
        if (rej > r->items) rej = r->items;
        st->requests_ok[sig]++;
        st->items_exported[sig] += r->items - rej;
        st->items_rejected[sig] += rej;
    } else {
        st->requests_failed[sig]++;
        st->items_dropped[sig] += r->items;
        st->events_lost += r->events;
    }
    return 1;
}

static void report(otlp *o, request *r, const outcome *oc) {
    const char *what = r->signal ? "data points" : "spans";
    if (oc->action == SEND_DROP) {
        if (r->events) o->host->count_drop(o->host_ctx, r->events);
        plog(o, VT_LOG_WARN, "%s: %llu %s dropped (not retryable)", oc->msg, (unsigned long long)r->items, what);
    } else if (oc->action == SEND_OK && oc->rejected > 0) {
        plog(o, VT_LOG_WARN, "partial success: the receiver rejected %lld %s: %s", (long long)oc->rejected, what, oc->msg);
    } else if (oc->action == SEND_RETRY && r->attempts == 1) {
        plog(o, VT_LOG_WARN, "export failed (%s): retrying", oc->msg);
    }
}

/* ---- the thread ------------------------------------------------------------------------------------------ */

static void wait_until(otlp *o, uint64_t wake) {
    struct timespec ts;
    uint64_t now = mono_ns();
    if (wake <= now) return;
    uint64_t d = wake - now;
    if (d > 1000000000ull) d = 1000000000ull;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    uint64_t t = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec + d;
    ts.tv_sec = (time_t)(t / 1000000000ull);
    ts.tv_nsec = (long)(t % 1000000000ull);
    pthread_cond_timedwait(&o->cv, &o->mu, &ts);
}

static void do_metrics_locked(otlp *o) {
    buf b = {0};
    uint64_t points = 0;
    o->metrics_now = 0;
    o->busy = 1; /* flush's wait: the request is not queued yet */
    o->metrics_due = mono_ns() + (uint64_t)o->cfg.metrics_interval_ms * 1000000ull;
    pthread_mutex_unlock(&o->mu);
    int rc = metrics_build(o, &b, &points);
    pthread_mutex_lock(&o->mu);
    o->busy = 0;
    o->st.metric_exports++;
    request *r = calloc(1, sizeof *r);
    if (rc != 0 || !r) {
        o->st.items_created[SIG_METRICS] += points;
        o->st.items_dropped[SIG_METRICS] += points;
        buf_free(&b);
        free(r);
        pthread_cond_broadcast(&o->idle);
        return;
    }
    r->signal = SIG_METRICS;
    r->body = b;
    r->items = points;
    push_locked(o, r);
}

static void do_send_locked(otlp *o, buf *wire) {
    request *r = o->head;
    outcome oc;
    o->busy = 1;
    if (r->attempts == 0) r->attempts = 1;
    pthread_mutex_unlock(&o->mu);
    send_request(o, r, wire, &oc);
    pthread_mutex_lock(&o->mu);
    o->busy = 0;
    int done = settle_locked(o, r, &oc);
    if (done) pop_locked(o);
    pthread_mutex_unlock(&o->mu);
    report(o, r, &oc);
    if (done) free_request(r);
    if (o->cfg.stats_path[0]) stats_write(o, 0, 0);
    pthread_mutex_lock(&o->mu);
    pthread_cond_broadcast(&o->idle);
}

static uint64_t next_wake(otlp *o) {
    uint64_t wake = mono_ns() + 1000000000ull;
    if (o->cfg.metrics_on && o->cfg.metrics_interval_ms > 0 && o->metrics_due < wake) wake = o->metrics_due;
    if (o->head && o->retry_at < wake) wake = o->retry_at;
    if (o->stats_due && o->stats_due < wake) wake = o->stats_due;
    if (o->stop && o->hard_deadline < wake) wake = o->hard_deadline;
    return wake;
}

static void *sender_main(void *arg) {
    otlp *o = arg;
    buf wire = {0};
    pthread_mutex_lock(&o->mu);
    for (;;) {
        uint64_t now = mono_ns();
        int past = o->stop && now >= o->hard_deadline;
        if (o->cfg.metrics_on && !past &&
            (o->metrics_now || (o->cfg.metrics_interval_ms > 0 && now >= o->metrics_due))) {
            if (o->queued_bytes < o->cfg.max_queue_bytes) {
                do_metrics_locked(o);
            } else { /* a full queue: skip this export (the next one carries the totals, or the deltas) */
                o->metrics_now = 0;
                o->metrics_due = now + (uint64_t)o->cfg.metrics_interval_ms * 1000000ull;
                o->st.metric_exports_skipped++;
            }
        } else if (o->stats_due && now >= o->stats_due) {
            o->stats_due = now + (uint64_t)o->cfg.stats_interval_ms * 1000000ull;
            pthread_mutex_unlock(&o->mu);
            stats_write(o, 0, 1);
            pthread_mutex_lock(&o->mu);
        } else if (o->head && now >= o->retry_at && !past) {
            do_send_locked(o, &wire);
        } else if (o->stop && (!o->head || past)) {
            break;
        } else {
            wait_until(o, next_wake(o));
        }
    }
    pthread_mutex_unlock(&o->mu);
    buf_free(&wire);
    return NULL;
}

int export_start(otlp *o, char *err, size_t cap) {
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_mutex_init(&o->mu, NULL);
    pthread_cond_init(&o->cv, &ca);
    pthread_cond_init(&o->idle, &ca);
    pthread_condattr_destroy(&ca);
    o->backoff_ms = BACKOFF_FIRST_MS;
    o->metrics_due = mono_ns() + (uint64_t)o->cfg.metrics_interval_ms * 1000000ull;
    if (o->cfg.stats_interval_ms > 0) o->stats_due = mono_ns() + (uint64_t)o->cfg.stats_interval_ms * 1000000ull;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK || !(o->curl = curl_easy_init())) {
        snprintf(err, cap, "libcurl could not be initialised");
        return -1;
    }
    setup_curl(o);
    if (pthread_create(&o->thread, NULL, sender_main, o) != 0) {
        snprintf(err, cap, "cannot start the sender thread: %s", strerror(errno));
        return -1;
    }
    o->thread_started = 1;
    return 0;
}

/* Waits until every queued request left the queue (sent, dropped) or the deadline passed. */
int export_wait_idle(otlp *o, uint64_t deadline_ns) {
    pthread_mutex_lock(&o->mu);
    pthread_cond_signal(&o->cv);
    while ((o->head || o->busy || o->metrics_now) && mono_ns() < deadline_ns) {
        struct timespec ts;
        uint64_t t = deadline_ns;
        ts.tv_sec = (time_t)(t / 1000000000ull);
        ts.tv_nsec = (long)(t % 1000000000ull);
        pthread_cond_timedwait(&o->idle, &o->mu, &ts);
    }
    int rc = (o->head || o->busy || o->metrics_now) ? -1 : 0;
    pthread_mutex_unlock(&o->mu);
    return rc;
}

/* Final metrics, then send until the queue is empty or the deadline; what is left is dropped. */
void export_stop(otlp *o, uint64_t deadline_ns) {
    if (o->thread_started) {
        pthread_mutex_lock(&o->mu);
        __atomic_store_n(&o->hard_deadline, deadline_ns, __ATOMIC_RELAXED);
        __atomic_store_n(&o->stop, 1, __ATOMIC_RELAXED); /* read by the transfer's progress callback */
        if (o->cfg.metrics_on) o->metrics_now = 1;
        pthread_cond_signal(&o->cv);
        pthread_mutex_unlock(&o->mu);
        pthread_join(o->thread, NULL);
        o->thread_started = 0;
    }
    uint64_t lost_events = 0;
    while (o->head) {
        request *r = pop_locked(o);
        o->st.items_dropped[r->signal] += r->items;
        o->st.events_lost += r->events;
        lost_events += r->events;
        plog(o, VT_LOG_WARN, "unload: %llu %s not sent before the deadline", (unsigned long long)r->items,
             r->signal ? "data points" : "spans");
        free_request(r);
    }
    if (lost_events) o->host->count_drop(o->host_ctx, lost_events);
    if (o->curl) curl_easy_cleanup(o->curl), o->curl = NULL, curl_global_cleanup();
}
