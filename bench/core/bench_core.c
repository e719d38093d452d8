/*
 * bench_core.c -- the core's speed and memory figures, each beside a baseline measured in the same
 * run (machines here are noisy: the ratios hold, the absolute numbers do not).
 *
 *   record_audio_out, 1 thread      vs two inline relaxed atomic adds            target <= 1.2
 *   record_audio_out, 2 threads     vs the same inline atomics shared by 2        target <= 1.3
 *   vt_observe                      vs mutex lock + add + unlock (a locked registry)
 *   vt_snapshot_json                vs snprintf of a JSON object of the same size
 *   vt_prom_text, 1,000 series      vs snprintf of the same number of sample lines
 *   RSS per open session (10,000)   vs the RSS of 10,000 bare 64-byte C structs     target <= 8 KiB
 *   allocations per record call     (an interposed malloc counts them)              target 0
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "voicetelemetry.h"

#include "../alloc_counter.h"   /* `allocations`: every malloc of the process, counted */

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void row(const char *what, double ours, double base, const char *unit, const char *target) {
    printf("| %-34s | %10.2f %-3s | %10.2f %-3s | %6.2f | %-8s |\n", what, ours, unit, base, unit,
           base > 0 ? ours / base : 0.0, target);
}

/* ---- hot path, one thread -------------------------------------------------------------------- */

static _Atomic uint64_t inline_chunks, inline_bytes;

static __attribute__((noinline)) void inline_record(size_t bytes) {
    atomic_fetch_add_explicit(&inline_chunks, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&inline_bytes, bytes, memory_order_relaxed);
}

#define N_HOT 20000000

static double time_ours(vt_session s, long n) {
    double t0 = now_s();
    for (long i = 0; i < n; i++) vt_record_audio_out(s, 640, 1);
    return (now_s() - t0) * 1e9 / (double)n;
}

static double time_inline(long n) {
    double t0 = now_s();
    for (long i = 0; i < n; i++) inline_record(640);
    return (now_s() - t0) * 1e9 / (double)n;
}

/* ---- hot path, two threads on one session ---------------------------------------------------- */

struct duo { vt_session s; int ours; long n; pthread_barrier_t *barrier; double ns; };

static void *duo_worker(void *arg) {
    struct duo *d = arg;
    pthread_barrier_wait(d->barrier);
    d->ns = d->ours ? time_ours(d->s, d->n) : time_inline(d->n);
    return NULL;
}

static double two_threads(vt_session s, int ours) {
    pthread_barrier_t barrier;
    pthread_barrier_init(&barrier, NULL, 2);
    struct duo d[2] = {{s, ours, N_HOT / 2, &barrier, 0}, {s, ours, N_HOT / 2, &barrier, 0}};
    pthread_t t[2];
    for (int i = 0; i < 2; i++) pthread_create(&t[i], NULL, duo_worker, &d[i]);
    for (int i = 0; i < 2; i++) pthread_join(t[i], NULL);
    pthread_barrier_destroy(&barrier);
    return (d[0].ns + d[1].ns) / 2;
}

/* ---- RSS ------------------------------------------------------------------------------------- */

static long rss_kib(void) {
    FILE *f = fopen("/proc/self/statm", "r");
    long pages = 0, resident = 0;
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
        fclose(f);
    }
    return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

int main(void) {
    printf("| %-34s | %14s | %14s | %6s | %-8s |\n", "figure", "ours", "baseline", "ratio", "target");
    printf("|%s|%s|%s|%s|%s|\n", "------------------------------------", "----------------",
           "----------------", "--------", "----------");

    vt_label labels[] = {{"transport", "bench"}};
    vt_session_config cfg = {.struct_size = sizeof cfg, .session_id = "bench", .labels = labels, .n_labels = 1};
    vt_session s = 0;
    if (vt_create_session(&cfg, &s) != VT_OK) { fprintf(stderr, "%s\n", vt_last_error()); return 1; }

    /* Best of 5 alternating runs each, so both sides see the same machine. */
    double ours = 1e9, base = 1e9;
    for (int r = 0; r < 5; r++) {
        double o = time_ours(s, N_HOT), b = time_inline(N_HOT);
        if (o < ours) ours = o;
        if (b < base) base = b;
    }
    row("record_audio_out, 1 thread", ours, base, "ns", "<= 1.2");

    ours = 1e9;
    base = 1e9;
    for (int r = 0; r < 5; r++) {
        double o = two_threads(s, 1), b = two_threads(s, 0);
        if (o < ours) ours = o;
        if (b < base) base = b;
    }
    row("record_audio_out, 2 threads/1 sess", ours, base, "ns", "<= 1.3");

    /* vt_observe beside a mutex-protected registry update. */
    {
        const long n = 2000000;
        vt_label l[] = {{"stage", "tts"}};
        vt_observe("bench_latency_seconds", "Bench.", l, 1, 0.3);
        double t0 = now_s();
        for (long i = 0; i < n; i++) vt_observe("bench_latency_seconds", NULL, l, 1, 0.3);
        double o = (now_s() - t0) * 1e9 / (double)n;
        pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
        volatile double sum = 0;
        t0 = now_s();
        for (long i = 0; i < n; i++) {
            pthread_mutex_lock(&m);
            sum += 0.3;
            pthread_mutex_unlock(&m);
        }
        double b = (now_s() - t0) * 1e9 / (double)n;
        row("vt_observe (vs mutex+add floor)", o, b, "ns", "-");
    }

    /* A realistic session for the snapshot. */
    for (int turn = 0; turn < 50; turn++) {
        uint64_t t = (uint64_t)(turn + 1) * 10000000000ull;
        vt_record_vad_end(s, t);
        vt_record_turn_start(s, t);
        vt_record_audio_out(s, 640, t + 300000000ull + (uint64_t)turn * 7000000ull);
        vt_record_turn_complete(s, t + 2000000000ull);
    }
    {
        static char buf[1 << 16], ref[1 << 16];
        size_t len = 0;
        const long n = 20000;
        double t0 = now_s();
        for (long i = 0; i < n; i++) vt_snapshot_json(s, buf, sizeof buf, &len);
        double o = (now_s() - t0) * 1e6 / (double)n;
        t0 = now_s();
        for (long i = 0; i < n; i++) {
            int w = 0;
            w += snprintf(ref + w, sizeof ref - (size_t)w, "{");
            for (int k = 0; w < (int)len - 40; k++) w += snprintf(ref + w, sizeof ref - (size_t)w, "\"field_%d\":%.6g,", k, k * 1.5);
            snprintf(ref + w, sizeof ref - (size_t)w, "\"end\":0}");
        }
        double b = (now_s() - t0) * 1e6 / (double)n;
        row("vt_snapshot_json", o, b, "us", "<= 1.0");
    }

    /* 1,000 series: 1,000 gauges with one label each. */
    {
        char value[32];
        vt_label l[] = {{"id", value}};
        for (int i = 0; i < 1000; i++) {
            snprintf(value, sizeof value, "series-%d", i);
            vt_gauge_set("bench_series", "Bench series.", l, 1, i);
        }
        size_t len = 0;
        vt_prom_text(NULL, 0, &len);
        size_t cap = len + 4096;
        char *buf = malloc(cap), *ref = malloc(cap + 65536);
        const long n = 200;
        double t0 = now_s();
        for (long i = 0; i < n; i++) vt_prom_text(buf, cap, &len);
        double o = (now_s() - t0) * 1e6 / (double)n;
        t0 = now_s();
        for (long i = 0; i < n; i++) {
            size_t w = 0;
            while (w < len) w += (size_t)snprintf(ref + w, cap + 65536 - w, "bench_series{id=\"series-%zu\"} %.17g\n", w, (double)w);
        }
        double b = (now_s() - t0) * 1e6 / (double)n;
        row("vt_prom_text, 1,000+ series", o, b, "us", "-");
        free(buf);
        free(ref);
    }

    /* Allocations per record call. */
    {
        unsigned long before = atomic_load(&allocations);
        const long n = 1000000;
        for (long i = 0; i < n; i++) {
            vt_record_audio_out(s, 640, 1);
            vt_record_vad_end(s, (uint64_t)i + 1);
            vt_record_audio_out(s, 640, (uint64_t)i + 2);
            vt_record_interruption(s, 0);
        }
        double per_call = (double)(atomic_load(&allocations) - before) / (double)(4 * n);
        before = atomic_load(&allocations);
        static char buf[1 << 16];
        size_t len;
        for (int i = 0; i < 100; i++) vt_snapshot_json(s, buf, sizeof buf, &len);
        double snap = (double)(atomic_load(&allocations) - before) / 100.0;
        printf("| %-34s | %10.4f %-3s | %10.2f %-3s | %6s | %-8s |\n", "allocations per record call", per_call, "",
               snap, "", "-", "0");
        printf("|   (baseline column: allocations per vt_snapshot_json, showing the counter counts)\n");
    }
    vt_end_session(s);

    /* RSS per open session. */
    {
        enum { SESSIONS = 10000 };
        static vt_session all[SESSIONS];
        long r0 = rss_kib();
        for (int i = 0; i < SESSIONS; i++) {
            vt_label l[] = {{"transport", "rss"}};
            vt_session_config c = {sizeof c, NULL, l, 1, 0, 0, 0, 0};
            vt_create_session(&c, &all[i]);
            vt_record_audio_out(all[i], 640, 0);
        }
        long r1 = rss_kib();
        void **bare = malloc(sizeof(void *) * SESSIONS);
        long r2 = rss_kib();
        for (int i = 0; i < SESSIONS; i++) { bare[i] = calloc(1, 64); memset(bare[i], 1, 64); }
        long r3 = rss_kib();
        row("RSS per open session (10,000)", (double)(r1 - r0) / SESSIONS, (double)(r3 - r2) / SESSIONS, "KiB", "<= 8 KiB");
        for (int i = 0; i < SESSIONS; i++) { vt_end_session(all[i]); free(bare[i]); }
        free(bare);
    }
    return 0;
}
