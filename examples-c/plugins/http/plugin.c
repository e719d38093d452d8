/*
 * plugin.c -- http_exporter.so's plugin table (include/voicetelemetry_plugin.h).
 *
 * init starts the server (server.c) on the configured address; from then on the worker threads
 * answer requests by calling the host table (prom_text_as, sessions_json, session_find,
 * snapshot_json, turn_history_json), which the host allows from any thread of the plugin until
 * shutdown returns. write() only copies the events the event stream serves into the SSE ring.
 * shutdown stops the workers, closes every socket and frees everything.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

#define HX_VERSION "1.0.0"

/* The host table must reach its ABI 1.1 fields (the last one, turn_history_json, included). */
#define HOST_SIZE_NEEDED (offsetof(vt_host_api, turn_history_json) + sizeof(void *))

static int host_usable(const vt_host_api *host, char *err, size_t cap) {
    if (!host || host->struct_size < HOST_SIZE_NEEDED) {
        snprintf(err, cap,
                 "http_exporter needs plugin ABI 1.1 (libvoicetelemetry 1.2 or later): the host table has %u "
                 "bytes, %zu needed for prom_text_as, sessions_json, session_find and turn_history_json",
                 host ? host->struct_size : 0, (size_t)HOST_SIZE_NEEDED);
        return 0;
    }
    if (!host->prom_text_as || !host->sessions_json || !host->session_find || !host->turn_history_json ||
        !host->snapshot_json) {
        snprintf(err, cap, "http_exporter: the host table lacks a function it needs (prom_text_as, sessions_json, "
                           "session_find, snapshot_json, turn_history_json)");
        return 0;
    }
    return 1;
}

static int32_t hx_init(const vt_host_api *host, void *host_ctx, const char *config_json, void **state_out, char *err,
                       size_t err_cap) {
    if (!host_usable(host, err, err_cap)) return 1;
    hx_server *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, err_cap, "out of memory");
        return 1;
    }
    if (hx_config_parse(config_json, &s->cfg, err, err_cap) < 0) {
        free(s);
        return 1;
    }
    s->host = host;
    s->host_ctx = host_ctx;
    if (hx_server_start(s, err, err_cap) < 0) {
        free(s);
        return 1;
    }
    if (host->log) {
        char msg[400];
        int hlen = (int)(strrchr(s->cfg.listen, ':') - s->cfg.listen); /* config.c checked the colon */
        snprintf(msg, sizeof msg, "serving http://%.*s:%d/ (%u worker thread%s)", hlen, s->cfg.listen, s->port,
                 s->cfg.threads, s->cfg.threads == 1 ? "" : "s");
        host->log(host_ctx, VT_LOG_INFO, msg);
    }
    *state_out = s;
    return 0;
}

static int is_served(hx_str type) {
    return (type.n == 13 && memcmp(type.p, "turn.complete", 13) == 0) ||
           (type.n == 13 && memcmp(type.p, "session.start", 13) == 0) ||
           (type.n == 11 && memcmp(type.p, "session.end", 11) == 0);
}

/* The events the stream serves go into the ring; nothing is kept while no client listens. */
static int32_t hx_write(void *state, const vt_sink_batch *batch) {
    hx_server *s = state;
    if (atomic_load(&s->sse_clients) == 0) return VT_SINK_OK;
    const char *p = batch->data, *end = batch->data + batch->len;
    uint64_t lost = 0;
    int published = 0;
    if (batch->dropped_before) { /* the host lost events of every type before this batch: say so */
        char note[64];
        int n = snprintf(note, sizeof note, "{\"dropped\":%llu,\"by\":\"host\"}", (unsigned long long)batch->dropped_before);
        published = hx_ring_publish(&s->ring, "dropped", 7, note, (size_t)n) == 0;
    }
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
        hx_str type;
        if (hx_event_type(p, len, &type) && is_served(type)) {
            if (hx_ring_publish(&s->ring, type.p, type.n, p, len) == 0) published = 1;
            else lost++;
        }
        p += len + 1;
    }
    if (lost && s->host->count_drop) s->host->count_drop(s->host_ctx, lost);
    if (published) hx_server_wake(s);
    return VT_SINK_OK;
}

static int32_t hx_flush(void *state, uint64_t deadline_ns) {
    (void)state;
    (void)deadline_ns;
    return 0;
}

static void hx_shutdown(void *state, uint64_t deadline_ns) {
    (void)deadline_ns; /* the workers wake at once and leave within one request */
    hx_server *s = state;
    if (!s) return;
    hx_server_stop(s);
    free(s);
}

static const vt_plugin_table table = {
    sizeof(vt_plugin_table), VT_PLUGIN_ABI_MAJOR, VT_PLUGIN_ABI_MINOR, "http_exporter", HX_VERSION,
    hx_init, hx_write, hx_flush, hx_shutdown,
};

VT_PLUGIN_EXPORT const vt_plugin_table *voicetelemetry_sink_plugin_v1(void) { return &table; }
