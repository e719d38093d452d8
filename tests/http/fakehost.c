/*
 * fakehost.c -- loads http_exporter.so with a scripted host table instead of the library, so the
 * HTTP layer can be driven with AddressSanitizer and UBSan (tests/http/test_robustness.py) and
 * without a library build.
 *
 *   usage: fakehost PLUGIN.so CONFIG_JSON
 *
 * The host: prom_text_as returns a text that grows by 1,000 bytes at every call (so a buffer sized
 * from the previous answer is too small: the plugin must ask again), sessions_json one session
 * "s1", session_find knows "s1" (handle 7) and "gone" (handle 8, which has ended: snapshot and
 * history answer VT_E_BAD_HANDLE), snapshot_json and turn_history_json fixed JSON.
 * stdin: each line is an event, delivered to the plugin's write() as a batch of one; at EOF the
 * plugin is shut down and fakehost exits 0. "ready" is printed once init succeeded.
 * FAKEHOST_TABLE_SIZE=N: the host table claims N bytes (an older host's smaller table).
 */
#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "voicetelemetry_plugin.h"

static unsigned long prom_calls;

static int32_t answer(const char *text, size_t len, char *buf, size_t cap, size_t *len_out) {
    *len_out = len;
    if (!buf || cap < len + 1) return -3;
    memcpy(buf, text, len);
    buf[len] = 0;
    return 0;
}

static int32_t prom_text_as(void *ctx, uint32_t format, char *buf, size_t cap, size_t *len_out) {
    (void)ctx;
    if (format > 1) return -1;
    size_t pad = 1000 * ++prom_calls % 200000, n = 0;
    char *text = malloc(pad * 2 + 256);
    n += (size_t)sprintf(text, "# TYPE fake_requests%s counter\nfake_requests_total 1\n# HELP fake_pad x\n# TYPE fake_pad gauge\n",
                         format ? "" : "_total");
    for (size_t i = 0; i < pad / 20; i++) n += (size_t)sprintf(text + n, "fake_pad{i=\"%05zu\"} 1\n", i);
    if (format) n += (size_t)sprintf(text + n, "# EOF\n");
    int32_t st = answer(text, n, buf, cap, len_out);
    free(text);
    return st;
}

static int32_t sessions_json(void *ctx, char *buf, size_t cap, size_t *len_out) {
    (void)ctx;
    static const char t[] = "[{\"session_id\":\"s1\"}]";
    return answer(t, sizeof t - 1, buf, cap, len_out);
}

static int32_t session_find(void *ctx, const char *id, uint64_t *out) {
    (void)ctx;
    if (!id || !*id || strlen(id) > 256) return -1;
    if (strcmp(id, "s1") == 0) *out = 7;
    else if (strcmp(id, "gone") == 0) *out = 8;
    else return -7;
    return 0;
}

static int32_t snapshot_json(void *ctx, uint64_t s, char *buf, size_t cap, size_t *len_out) {
    (void)ctx;
    static const char t[] = "{\"session_id\":\"s1\"}";
    return s == 7 ? answer(t, sizeof t - 1, buf, cap, len_out) : -2;
}

static int32_t turn_history_json(void *ctx, uint64_t s, size_t max, char *buf, size_t cap, size_t *len_out) {
    (void)ctx;
    char t[64];
    int n = snprintf(t, sizeof t, "[{\"max_turns\":%zu}]", max);
    return s == 7 ? answer(t, (size_t)n, buf, cap, len_out) : -2;
}

static void host_log(void *ctx, int32_t level, const char *msg) {
    (void)ctx;
    fprintf(stderr, "fakehost: plugin log %d: %s\n", level, msg);
}

static uint64_t now_ns(void *ctx) {
    (void)ctx;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void count_drop(void *ctx, uint64_t n) {
    (void)ctx;
    fprintf(stderr, "fakehost: %llu events dropped\n", (unsigned long long)n);
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: fakehost PLUGIN.so CONFIG_JSON\n");
        return 2;
    }
    void *so = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    vt_plugin_entry_fn entry = so ? (vt_plugin_entry_fn)(uintptr_t)dlsym(so, VT_PLUGIN_ENTRY_SYMBOL) : NULL;
    if (!entry) {
        fprintf(stderr, "fakehost: %s\n", dlerror());
        return 2;
    }
    const vt_plugin_table *t = entry();
    vt_host_api host = {sizeof host, VT_PLUGIN_ABI_MAJOR, VT_PLUGIN_ABI_MINOR, 0, host_log, now_ns, count_drop,
                        NULL, snapshot_json, prom_text_as, sessions_json, session_find, turn_history_json};
    if (getenv("FAKEHOST_TABLE_SIZE")) host.struct_size = (uint32_t)atoi(getenv("FAKEHOST_TABLE_SIZE"));
    char err[512] = "";
    void *state = NULL;
    if (t->init(&host, NULL, argv[2], &state, err, sizeof err) != 0) {
        printf("init failed: %s\n", err);
        return 1;
    }
    printf("ready\n");
    fflush(stdout);
    static char line[1 << 16];
    uint64_t seq = 0;
    while (fgets(line, sizeof line, stdin)) {
        vt_sink_batch b = {sizeof b, 1, line, strlen(line), ++seq, 0, 1, 0};
        t->write(state, &b);
    }
    t->shutdown(state, now_ns(NULL) + 2000000000ull);
    dlclose(so);
    return 0;
}
