/*
 * soak.c -- make soak: a long run of the whole library with plugins loaded and reloaded.
 *
 * SOAK_SESSIONS sessions (default 1,000,000) are created and ended, up to 64 open at a time, each with a
 * few record calls, an emitted event and (every 16th) a snapshot. The jsonl_sink plugin writes to a
 * temporary file and is unloaded and loaded again (the file checked and removed) every 50,000 sessions;
 * a second plugin (build/tests/plugins/scripted.so) is loaded and unloaded every 10,000.
 * At every 100,000 sessions a checkpoint prints RSS, open fds and threads, and checks:
 *   - RSS has not grown more than SOAK_RSS_MB (default 16) MiB above the first checkpoint (the warm-up:
 *     slot tables, metric series, queues and allocator arenas reach their size in the first 100,000);
 *   - the fds and threads are the same number as at the first checkpoint (same plugins loaded then);
 *   - voicetelemetry_sessions_total and voicetelemetry_audio_out_chunks_total in vt_prom_text grew by
 *     exactly the sessions created and chunks recorded; sessions_active equals the sessions open;
 *   - for each plugin at unload, after vt_flush_events: emitted = delivered + dropped (every reason),
 *     nothing queued; the jsonl file holds at least `delivered` lines, at most delivered + health events.
 * At the end: every session ended, fds and threads back to the count before any plugin was loaded, and
 * the run within SOAK_MAX_SECONDS (default 600).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "voicetelemetry.h"

#define FAIL(...) do { fprintf(stderr, "soak: FAIL: " __VA_ARGS__); fprintf(stderr, "\n"); exit(1); } while (0)
#define OPEN_MAX 64

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static long count_dir(const char *path) {
    DIR *d = opendir(path);
    if (!d) FAIL("opendir %s", path);
    long n = 0;
    struct dirent *e;
    while ((e = readdir(d))) if (e->d_name[0] != '.') n++;
    closedir(d);
    return n - (strcmp(path, "/proc/self/fd") == 0); /* the directory's own fd */
}

static long rss_kib(void) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kib = -1;
    while (f && fgets(line, sizeof line, f)) if (sscanf(line, "VmRSS: %ld kB", &kib) == 1) break;
    if (f) fclose(f);
    return kib;
}

static char *prom(void) {
    size_t len = 0;
    vt_prom_text(NULL, 0, &len);
    char *buf = malloc(len + 65536);
    if (vt_prom_text(buf, len + 65536, &len) != VT_OK) FAIL("prom_text: %s", vt_last_error());
    return buf;
}

/* sum of the samples of family `name` (every label set) */
static double prom_total(const char *text, const char *name) {
    size_t nl = strlen(name);
    double sum = 0;
    for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
        if (strncmp(p, name, nl) != 0 || (p[nl] != ' ' && p[nl] != '{')) continue;
        const char *v = p + nl;
        if (*v == '{') { int q = 0; v++; while (*v && (q || *v != '}')) { if (q && *v == '\\') v++; else if (*v == '"') q = !q; v++; } v++; }
        sum += strtod(v, NULL);
    }
    return sum;
}

static vt_plugin_id load(const char *path, const char *config) {
    vt_plugin_id id = 0;
    if (vt_load_plugin(path, config, &id) != VT_OK) FAIL("load %s: %s", path, vt_last_error());
    return id;
}

static unsigned long long lines_of(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    unsigned long long n = 0;
    char buf[65536];
    size_t r;
    while ((r = fread(buf, 1, sizeof buf, f)) > 0) for (size_t i = 0; i < r; i++) n += buf[i] == '\n';
    fclose(f);
    return n;
}

static uint64_t sum_emitted, sum_delivered, sum_dropped;

/* flush, check the accounting identity (and the jsonl file's lines), unload */
static void unload_checked(vt_plugin_id id, const char *file) {
    if (vt_flush_events(10000) != VT_OK) FAIL("flush: %s", vt_last_error());
    vt_plugin_statistics st;
    memset(&st, 0, sizeof st);
    st.struct_size = sizeof st;
    if (vt_plugin_stats(id, &st) != VT_OK) FAIL("stats: %s", vt_last_error());
    uint64_t dropped = st.dropped_queue_full + st.dropped_rate_limited + st.dropped_too_large + st.dropped_plugin + st.dropped_disabled;
    if (st.emitted != st.delivered + dropped + st.queued || st.queued != 0)
        FAIL("plugin %s: emitted %" PRIu64 " != delivered %" PRIu64 " + dropped %" PRIu64 " + queued %" PRIu64, st.name,
             st.emitted, st.delivered, dropped, st.queued);
    sum_emitted += st.emitted;
    sum_delivered += st.delivered;
    sum_dropped += dropped;
    if (vt_unload_plugin(id) != VT_OK) FAIL("unload %s: %s", st.name, vt_last_error());
    if (file) {
        unsigned long long lines = lines_of(file);
        if (lines < st.delivered || lines > st.delivered + st.health_events)
            FAIL("%s holds %llu lines; delivered %" PRIu64 ", health events %" PRIu64, file, lines, st.delivered, st.health_events);
        unlink(file);
    }
}

int main(void) {
    const char *e = getenv("SOAK_SESSIONS");
    unsigned long total = e ? strtoul(e, NULL, 10) : 1000000ul;
    e = getenv("SOAK_RSS_MB");
    long rss_bound_kib = (e ? atol(e) : 16) * 1024;
    e = getenv("SOAK_MAX_SECONDS");
    double max_s = e ? atof(e) : 600;
    char dir[] = "/tmp/vt-soak-XXXXXX";
    if (!mkdtemp(dir)) FAIL("mkdtemp");
    char file[256], jcfg[512];
    snprintf(file, sizeof file, "%s/events.jsonl", dir);
    snprintf(jcfg, sizeof jcfg, "{\"path\":\"%s\",\"queue_capacity\":4096}", file);
    vt_set_event_rate_limit(0);

    long fds0 = count_dir("/proc/self/fd"), threads0 = count_dir("/proc/self/task");
    char *p0 = prom();
    double sessions_base = prom_total(p0, "voicetelemetry_sessions_total");
    double chunks_base = prom_total(p0, "voicetelemetry_audio_out_chunks_total");
    free(p0);

    vt_plugin_id jsonl = load("build/plugins/jsonl_sink.so", jcfg), second = 0;
    vt_session open[OPEN_MAX] = {0};
    unsigned long created = 0, chunks = 0, reloads = 0, second_cycles = 0;
    long rss_first = -1, fds_first = -1, threads_first = -1;
    double t0 = now_s();
    uint64_t t = 1000000000ull;
    printf("soak: %lu sessions; checkpoint every 100000: RSS (KiB), fds, threads\n", total);
    for (unsigned long i = 0; i < total; i++) {
        int k = (int)(i % OPEN_MAX);
        if (open[k]) {
            if (vt_end_session(open[k]) != VT_OK) FAIL("end: %s", vt_last_error());
            open[k] = 0;
        }
        vt_session_config cfg;
        memset(&cfg, 0, sizeof cfg);
        cfg.struct_size = sizeof cfg;
        cfg.start_t_ns = t;
        if (vt_create_session(&cfg, &open[k]) != VT_OK) FAIL("create #%lu: %s", i, vt_last_error());
        created++;
        vt_session s = open[k];
        t += 1000000ull;
        if (vt_record_vad_end(s, t) || vt_record_audio_out(s, 640, t + 300000000ull) || vt_record_audio_out(s, 640, t + 320000000ull) ||
            vt_record_interruption(s, t + 400000000ull) || vt_emit(s, "soak.tick", "{\"i\":1,\"text\":\"redacted\"}", NULL, NULL, t))
            FAIL("record: %s", vt_last_error());
        chunks += 2;
        if (i % 16 == 0) {
            char snap[8192];
            size_t len;
            if (vt_snapshot_json(s, snap, sizeof snap, &len) != VT_OK || !strstr(snap, "\"audio_chunks_out\":2,")) FAIL("snapshot: %s", snap);
        }
        if ((i + 1) % 10000 == 0) {
            if (second) { unload_checked(second, NULL); second = 0; second_cycles++; }
            else second = load("build/tests/plugins/scripted.so", "{}");
        }
        if ((i + 1) % 50000 == 0) {
            unload_checked(jsonl, file);
            jsonl = load("build/plugins/jsonl_sink.so", jcfg);
            reloads++;
        }
        if ((i + 1) % 100000 == 0) {
            long rss = rss_kib(), fds = count_dir("/proc/self/fd"), threads = count_dir("/proc/self/task");
            char *p = prom();
            double st = prom_total(p, "voicetelemetry_sessions_total"), ch = prom_total(p, "voicetelemetry_audio_out_chunks_total");
            double active = prom_total(p, "voicetelemetry_sessions_active");
            free(p);
            printf("soak: %7lu sessions  %6.1f s  RSS %7ld  fds %3ld  threads %3ld  sessions_total %.0f  chunks_total %.0f\n", i + 1,
                   now_s() - t0, rss, fds, threads, st - sessions_base, ch - chunks_base);
            fflush(stdout);
            if (st != sessions_base + (double)created) FAIL("voicetelemetry_sessions_total grew by %.0f, %lu created", st - sessions_base, created);
            if (ch != chunks_base + (double)chunks) FAIL("voicetelemetry_audio_out_chunks_total grew by %.0f, %lu recorded", ch - chunks_base, chunks);
            if (active != OPEN_MAX) FAIL("voicetelemetry_sessions_active %.0f, %d open", active, OPEN_MAX);
            if (rss_first < 0) { rss_first = rss; fds_first = fds; threads_first = threads; }
            else {
                if (rss > rss_first + rss_bound_kib) FAIL("RSS grew from %ld to %ld KiB (bound %ld KiB)", rss_first, rss, rss_bound_kib);
                if (fds != fds_first) FAIL("fds %ld, %ld at the first checkpoint", fds, fds_first);
                if (threads != threads_first) FAIL("threads %ld, %ld at the first checkpoint", threads, threads_first);
            }
        }
    }
    for (int k = 0; k < OPEN_MAX; k++) if (open[k] && vt_end_session(open[k]) != VT_OK) FAIL("end: %s", vt_last_error());
    if (second) unload_checked(second, NULL);
    unload_checked(jsonl, file);
    rmdir(dir);
    char *p = prom();
    double active = prom_total(p, "voicetelemetry_sessions_active");
    free(p);
    long fds = count_dir("/proc/self/fd"), threads = count_dir("/proc/self/task");
    double el = now_s() - t0;
    printf("soak: done: %lu sessions, %lu chunks, %lu jsonl reloads, %lu scripted load/unload cycles in %.1f s; "
           "after unloading: fds %ld (before: %ld), threads %ld (before: %ld), sessions_active %.0f\n",
           created, chunks, reloads, second_cycles, el, fds, fds0, threads, threads0, active);
    printf("soak: plugins, summed over every load: emitted %" PRIu64 " = delivered %" PRIu64 " + dropped %" PRIu64 "\n",
           sum_emitted, sum_delivered, sum_dropped);
    if (fds != fds0 || threads != threads0) FAIL("fds or threads leaked");
    if (active != 0) FAIL("sessions_active %.0f after ending every session", active);
    if (el > max_s) FAIL("took %.0f s, bound %.0f s", el, max_s);
    printf("soak: passed (RSS bound %ld KiB above the first checkpoint)\n", rss_bound_kib);
    return 0;
}
