/*
 * sinks.c -- benchmark sink plugins: built as noop_sink.so (write returns OK at once) and, with
 * -DSTALL, stall_sink.so (write sleeps 200 ms per batch: its queue stays full).
 */
#define _GNU_SOURCE
#include <time.h>

#include "voicetelemetry_plugin.h"

static int32_t b_init(const vt_host_api *h, void *c, const char *cfg, void **st, char *e, size_t n) {
    (void)h; (void)c; (void)cfg; (void)e; (void)n;
    *st = NULL;
    return 0;
}

static int32_t b_write(void *st, const vt_sink_batch *b) {
    (void)st; (void)b;
#ifdef STALL
    struct timespec ts = {0, 200000000};
    nanosleep(&ts, NULL);
#endif
    return VT_SINK_OK;
}

static const vt_plugin_table table = {
    sizeof(vt_plugin_table), VT_PLUGIN_ABI_MAJOR, VT_PLUGIN_ABI_MINOR,
#ifdef STALL
    "stall_sink",
#else
    "noop_sink",
#endif
    "1.0.0", b_init, b_write, NULL, NULL,
};

VT_PLUGIN_EXPORT const vt_plugin_table *voicetelemetry_sink_plugin_v1(void) { return &table; }
