/*
 * jsonl_sink.c -- an example voicetelemetry sink plugin: appends every event to a JSON Lines file.
 *
 * Config (the JSON object given to vt_load_plugin):
 *   {"path": "/var/log/voice/events.jsonl"}      required: the file, created (0644) if missing
 *   {"fsync_every_batch": true}                  optional: fsync after each batch (default false)
 * Events are appended with O_APPEND, one batch per write loop; flush() fsyncs the file.
 *
 * Build: cc -std=c99 -O2 -fPIC -shared -fvisibility=hidden -Iinclude -o jsonl_sink.so jsonl_sink.c
 * It links against nothing but libc: all it needs from the host comes through vt_host_api.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "voicetelemetry_plugin.h"

typedef struct sink {
    const vt_host_api *host;
    void *host_ctx;
    int fd;
    int fsync_every_batch;
    char path[4096];
} sink;

/* Find "key" at the top level of a flat JSON object and copy its string value (simple escapes). */
static int config_string(const char *json, const char *key, char *out, size_t cap) {
    char pattern[128];
    snprintf(pattern, sizeof pattern, "\"%s\"", key);
    const char *p = strstr(json, pattern);
    if (!p) return -1;
    p += strlen(pattern);
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') p++;
    if (*p++ != ':') return -1;
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') p++;
    if (*p++ != '"') return -1;
    size_t n = 0;
    while (*p && *p != '"') {
        char c = *p++;
        if (c == '\\') {
            c = *p++;
            if (c == 'n') c = '\n';
            else if (c == 't') c = '\t';
            else if (c != '"' && c != '\\' && c != '/') return -1; /* keep the example small */
        }
        if (n + 1 >= cap) return -1;
        out[n++] = c;
    }
    if (*p != '"') return -1;
    out[n] = 0;
    return 0;
}

static int config_true(const char *json, const char *key) {
    char pattern[128];
    snprintf(pattern, sizeof pattern, "\"%s\"", key);
    const char *p = strstr(json, pattern);
    if (!p) return 0;
    p += strlen(pattern);
    while (*p == ' ' || *p == ':') p++;
    return strncmp(p, "true", 4) == 0;
}

static int32_t sink_init(const vt_host_api *host, void *host_ctx, const char *config_json, void **state_out,
                         char *err, size_t err_cap) {
    sink *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, err_cap, "out of memory");
        return 1;
    }
    s->host = host;
    s->host_ctx = host_ctx;
    if (config_string(config_json, "path", s->path, sizeof s->path) != 0 || s->path[0] == 0) {
        snprintf(err, err_cap, "config needs \"path\": the JSON Lines file to append to");
        free(s);
        return 1;
    }
    s->fsync_every_batch = config_true(config_json, "fsync_every_batch");
    s->fd = open(s->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (s->fd < 0) {
        snprintf(err, err_cap, "cannot open '%s': %s", s->path, strerror(errno));
        free(s);
        return 1;
    }
    *state_out = s;
    return 0;
}

static int32_t sink_write(void *state, const vt_sink_batch *batch) {
    sink *s = state;
    size_t done = 0;
    while (done < batch->len) {
        ssize_t n = write(s->fd, batch->data + done, batch->len - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            char msg[4200];
            snprintf(msg, sizeof msg, "write to '%.4000s' failed: %.100s", s->path, strerror(errno));
            s->host->log(s->host_ctx, VT_LOG_WARN, msg);
            /* Nothing written yet: try again later. Part written: do not duplicate lines. */
            return done == 0 ? VT_SINK_RETRY : VT_SINK_DROP;
        }
        done += (size_t)n;
    }
    if (s->fsync_every_batch) fsync(s->fd);
    return VT_SINK_OK;
}

static int32_t sink_flush(void *state, uint64_t deadline_ns) {
    sink *s = state;
    (void)deadline_ns;
    return fsync(s->fd) == 0 ? 0 : -1;
}

static void sink_shutdown(void *state, uint64_t deadline_ns) {
    sink *s = state;
    (void)deadline_ns;
    if (!s) return;
    fsync(s->fd);
    close(s->fd);
    free(s);
}

static const vt_plugin_table table = {
    sizeof(vt_plugin_table), VT_PLUGIN_ABI_MAJOR, VT_PLUGIN_ABI_MINOR,
    "jsonl_sink", "1.0.0",
    sink_init, sink_write, sink_flush, sink_shutdown,
};

VT_PLUGIN_EXPORT const vt_plugin_table *voicetelemetry_sink_plugin_v1(void) { return &table; }
