/*
 * host.h -- a minimal plugin host for the trace-store tests and benchmark: dlopens a sink plugin,
 * hands it a vt_host_api table that records log lines and reported drops, and feeds it batches of
 * JSON Lines with chosen sequences and attempts (what the library's plugin thread does).
 */
#ifndef VT_TRACE_HOST_H
#define VT_TRACE_HOST_H

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "voicetelemetry_plugin.h"

typedef struct test_host {
    vt_host_api api;
    void *dl;
    const vt_plugin_table *table;
    void *state;
    uint64_t sequence;     /* of the last batch sent */
    uint64_t drops;        /* count_drop total */
    unsigned n_logs;
    char logs[8192];       /* every log line, "level: message\n" (truncated when full) */
    char error[1024];      /* init's error text */
} test_host;

static inline void host_log(void *ctx, int32_t level, const char *message) {
    test_host *h = ctx;
    size_t used = strlen(h->logs);
    h->n_logs++;
    snprintf(h->logs + used, sizeof h->logs - used, "%d: %s\n", (int)level, message);
}

static inline uint64_t host_now(void *ctx) {
    struct timespec ts;
    (void)ctx;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline void host_count_drop(void *ctx, uint64_t n) { ((test_host *)ctx)->drops += n; }

/* Load `so` and init it with `config`: 0 on success; otherwise h->error says why. */
static inline int host_open(test_host *h, const char *so, const char *config) {
    memset(h, 0, sizeof *h);
    h->api.struct_size = sizeof h->api;
    h->api.abi_major = VT_PLUGIN_ABI_MAJOR;
    h->api.abi_minor = VT_PLUGIN_ABI_MINOR;
    h->api.log = host_log;
    h->api.now_ns = host_now;
    h->api.count_drop = host_count_drop;
    h->dl = dlopen(so, RTLD_NOW | RTLD_LOCAL);
    if (!h->dl) {
        snprintf(h->error, sizeof h->error, "dlopen: %s", dlerror());
        return -1;
    }
    vt_plugin_entry_fn entry;
    *(void **)&entry = dlsym(h->dl, VT_PLUGIN_ENTRY_SYMBOL);
    h->table = entry ? entry() : NULL;
    if (!h->table) {
        snprintf(h->error, sizeof h->error, "no entry point");
        dlclose(h->dl);
        return -1;
    }
    if (h->table->init(&h->api, h, config, &h->state, h->error, sizeof h->error) != 0) {
        dlclose(h->dl);
        h->dl = NULL;
        return -1;
    }
    return 0;
}

static inline uint32_t count_lines(const char *data, size_t len) {
    uint32_t n = 0;
    for (size_t i = 0; i < len; i++) n += data[i] == '\n';
    return n;
}

/* Deliver `lines` (JSON Lines, each ending in '\n') as batch `sequence`, attempt `attempt`. */
static inline int32_t host_write_as(test_host *h, const char *lines, uint64_t sequence, uint32_t attempt) {
    vt_sink_batch b;
    memset(&b, 0, sizeof b);
    b.struct_size = sizeof b;
    b.data = lines;
    b.len = strlen(lines);
    b.n_events = count_lines(lines, b.len);
    b.sequence = sequence;
    b.attempt = attempt;
    if (sequence > h->sequence) h->sequence = sequence;
    return h->table->write(h->state, &b);
}

/* Deliver `lines` as the next batch. */
static inline int32_t host_write(test_host *h, const char *lines) { return host_write_as(h, lines, h->sequence + 1, 1); }

static inline void host_close(test_host *h) {
    if (!h->dl) return;
    if (h->table->flush) h->table->flush(h->state, host_now(h) + 1000000000ull);
    if (h->table->shutdown) h->table->shutdown(h->state, host_now(h) + 1000000000ull);
    dlclose(h->dl);
    h->dl = NULL;
}

#endif /* VT_TRACE_HOST_H */
