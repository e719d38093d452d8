/*
 * check_sink.c -- a sink plugin for the fuzz targets and the soak run: it checks every event the
 * library delivers and keeps nothing.
 *
 * Each batch must hold exactly n_events lines of `len` bytes, each line one JSON object (strict RFC
 * 8259) of at most VT_MAX_EVENT_BYTES (4064, newline included) that starts with the documented
 * envelope ({"type_id":"core::telemetry/event@1",). A violation is printed with the line and aborts
 * the process: the fuzz target that emitted it reports a crash (events are delivered on the plugin's
 * thread, so the input libFuzzer saves may be a later one; the printed line is the reproducer).
 *
 * Config: {"fail_every": N} makes every Nth write answer VT_SINK_DROP (N > 0), so the host's drop
 * accounting is exercised too. Built against voicetelemetry_plugin.h only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_check.h"
#include "voicetelemetry_plugin.h"

#define MAX_EVENT_BYTES 4064 /* VT_MAX_EVENT_BYTES of voicetelemetry.h */
#define ENVELOPE "{\"type_id\":\"core::telemetry/event@1\",\"session_id\":"

typedef struct state {
    unsigned long fail_every;
    unsigned long writes;
} state;

static void fail(const char *why, const char *line, size_t len) {
    fprintf(stderr, "check_sink: %s (%zu bytes): %.*s\n", why, len, (int)(len > 8192 ? 8192 : len), line);
    abort();
}

static int32_t ck_init(const vt_host_api *host, void *host_ctx, const char *config_json, void **state_out,
                       char *err, size_t err_cap) {
    (void)host;
    (void)host_ctx;
    if (!config_json || !json_object_valid(config_json, strlen(config_json))) {
        snprintf(err, err_cap, "config is not a JSON object");
        return 1;
    }
    state *st = calloc(1, sizeof *st);
    if (!st) {
        snprintf(err, err_cap, "out of memory");
        return 1;
    }
    const char *f = strstr(config_json, "\"fail_every\":");
    if (f) st->fail_every = strtoul(f + 13, NULL, 10);
    *state_out = st;
    return 0;
}

static int32_t ck_write(void *opaque, const vt_sink_batch *b) {
    state *st = opaque;
    if (b->struct_size < sizeof *b) fail("batch struct_size too small", "", 0);
    if (b->n_events == 0) fail("empty batch", "", 0);
    if (b->len == 0 || b->data[b->len - 1] != '\n') fail("batch does not end in a newline", b->data, b->len);
    const char *p = b->data, *end = b->data + b->len;
    uint32_t lines = 0;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t ll = (size_t)(nl - p);
        if (ll + 1 > MAX_EVENT_BYTES) fail("event longer than VT_MAX_EVENT_BYTES", p, ll);
        if (ll < sizeof ENVELOPE - 1 || memcmp(p, ENVELOPE, sizeof ENVELOPE - 1) != 0)
            fail("event does not start with the envelope", p, ll);
        if (!json_object_valid(p, ll)) fail("event is not a JSON object", p, ll);
        lines++;
        p = nl + 1;
    }
    if (lines != b->n_events) fail("n_events differs from the lines in the batch", b->data, b->len);
    st->writes++;
    if (st->fail_every && st->writes % st->fail_every == 0) return VT_SINK_DROP;
    return VT_SINK_OK;
}

static int32_t ck_flush(void *opaque, uint64_t deadline_ns) {
    (void)opaque;
    (void)deadline_ns;
    return 0;
}

static void ck_shutdown(void *opaque, uint64_t deadline_ns) {
    (void)deadline_ns;
    free(opaque);
}

#ifndef CHECK_SINK_NAME
#define CHECK_SINK_NAME "check_sink"
#endif

static const vt_plugin_table table = {sizeof(vt_plugin_table), VT_PLUGIN_ABI_MAJOR, VT_PLUGIN_ABI_MINOR,
                                      CHECK_SINK_NAME, "1.0.0", ck_init, ck_write, ck_flush, ck_shutdown};

VT_PLUGIN_EXPORT const vt_plugin_table *voicetelemetry_sink_plugin_v1(void) { return &table; }
