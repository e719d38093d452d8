/*
 * scripted.c -- a well-behaved test plugin whose answers the test scripts through its config:
 *   "out":      file to which each write appends "seq=S n=N dropped_before=D attempt=A len=L\n"
 *               followed by the batch's bytes
 *   "gate":     while this file exists, write waits (polling every 1 ms) before answering
 *   "entered":  file created when write is first entered (so a test knows a batch is in flight)
 *   "retries":  answer RETRY this many times for each batch before OK
 *   "answer":   "ok" (default), "drop" (every batch) or "fatal" (on the 2nd batch)
 *   "report_drops": on the first write, report this many drops through the host's count_drop
 * The name is SCRIPTED_NAME (built twice: "scripted" and "scripted_b"). It also exercises the host table in init (now_ns, log, prom_text).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "voicetelemetry_plugin.h"

typedef struct state {
    const vt_host_api *host;
    void *ctx;
    char out[1024], gate[1024], entered[1024];
    int retries, answer; /* 0 ok, 1 drop, 2 fatal on 2nd batch */
    long report_drops;
    uint64_t last_seq;
    int tries, batches;
} state;

static void str_key(const char *json, const char *key, char *out, size_t cap) {
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\":\"", key);
    const char *p = strstr(json, pat);
    out[0] = 0;
    if (!p) return;
    p += strlen(pat);
    size_t n = 0;
    while (*p && *p != '"' && n + 1 < cap) out[n++] = *p++;
    out[n] = 0;
}

static long num_key(const char *json, const char *key) {
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *p = strstr(json, pat);
    return p ? strtol(p + strlen(pat), NULL, 10) : 0;
}

static int32_t s_init(const vt_host_api *host, void *ctx, const char *config, void **out, char *err, size_t cap) {
    state *s = calloc(1, sizeof *s);
    if (!s) { snprintf(err, cap, "oom"); return 1; }
    s->host = host;
    s->ctx = ctx;
    str_key(config, "out", s->out, sizeof s->out);
    str_key(config, "gate", s->gate, sizeof s->gate);
    str_key(config, "entered", s->entered, sizeof s->entered);
    char answer[32];
    str_key(config, "answer", answer, sizeof answer);
    s->answer = strcmp(answer, "drop") == 0 ? 1 : strcmp(answer, "fatal") == 0 ? 2 : 0;
    s->retries = (int)num_key(config, "retries");
    s->report_drops = num_key(config, "report_drops");
    if (host->struct_size < sizeof(vt_host_api) || host->abi_major != VT_PLUGIN_ABI_MAJOR) {
        snprintf(err, cap, "unexpected host table");
        free(s);
        return 1;
    }
    if (host->now_ns(ctx) == 0) { snprintf(err, cap, "now_ns returned 0"); free(s); return 1; }
    size_t len = 0;
    if (host->prom_text(ctx, NULL, 0, &len) != -3 || len == 0) { /* -3: VT_E_BUFFER_TOO_SMALL */
        snprintf(err, cap, "prom_text did not report a length");
        free(s);
        return 1;
    }
    host->log(ctx, VT_LOG_INFO, "scripted plugin ready");
    *out = s;
    return 0;
}

static int exists(const char *path) { return path[0] && access(path, F_OK) == 0; }

static int32_t s_write(void *p, const vt_sink_batch *b) {
    state *s = p;
    if (s->entered[0]) { int fd = open(s->entered, O_CREAT | O_WRONLY, 0644); if (fd >= 0) close(fd); }
    while (exists(s->gate)) { struct timespec ts = {0, 1000000}; nanosleep(&ts, NULL); }
    if (s->report_drops) { s->host->count_drop(s->ctx, (uint64_t)s->report_drops); s->report_drops = 0; }
    if (s->out[0]) {
        FILE *f = fopen(s->out, "a");
        if (f) {
            fprintf(f, "seq=%llu n=%u dropped_before=%llu attempt=%u len=%zu\n", (unsigned long long)b->sequence,
                    b->n_events, (unsigned long long)b->dropped_before, b->attempt, b->len);
            fwrite(b->data, 1, b->len, f);
            fclose(f);
        }
    }
    if (b->sequence != s->last_seq) { s->last_seq = b->sequence; s->tries = 0; s->batches++; }
    if (s->tries < s->retries) { s->tries++; return VT_SINK_RETRY; }
    if (s->answer == 1) return VT_SINK_DROP;
    if (s->answer == 2 && s->batches >= 2) return VT_SINK_FATAL;
    return VT_SINK_OK;
}

static int32_t s_flush(void *p, uint64_t deadline) { (void)p; (void)deadline; return 0; }
static void s_shutdown(void *p, uint64_t deadline) { (void)deadline; free(p); }

#ifndef SCRIPTED_NAME
#define SCRIPTED_NAME "scripted"
#endif

static const vt_plugin_table table = {
    sizeof(vt_plugin_table), VT_PLUGIN_ABI_MAJOR, VT_PLUGIN_ABI_MINOR, SCRIPTED_NAME, "1.0.0",
    s_init, s_write, s_flush, s_shutdown,
};

VT_PLUGIN_EXPORT const vt_plugin_table *voicetelemetry_sink_plugin_v1(void) { return &table; }
