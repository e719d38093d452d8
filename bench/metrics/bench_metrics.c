/*
 * bench_metrics.c -- our side of bench/parts/85-metrics.sh. Prints "<figure> <value>" lines; the part
 * script sets them beside the peers (client_golang, prometheus_client) measured in the same run.
 *
 *   bench_metrics calls N        ns of thread CPU time per write: handle and by name (counter add,
 *                                observe), an inline atomic add (the floor of a counter handle),
 *                                allocations per write
 *   bench_metrics expo COUNTERS HISTOGRAMS SERIES OBS BOUNDS ROUNDS
 *                                us per vt_prom_text of that registry (the peers build the same one),
 *                                its sample lines and bytes, allocations per scrape after a warm-up
 *   bench_metrics p99 SECONDS    p50/p99 of vt_record_audio_out and vt_metric_add (per call, timed 64
 *                                at a time) in two recording threads, alone and while a third thread
 *                                scrapes 10,000 series without a pause (three phases of each, alternating)
 *
 * Times are the best of several runs (a noisy shared machine slows runs down, never speeds them up).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <x86intrin.h>

#include "voicetelemetry.h"

#include "../alloc_counter.h"   /* `allocations`: every malloc of the process, counted */

static double now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* The calling thread's CPU time: loops of millions of calls outlast a time slice on a shared
 * machine, and the time the thread spends off the CPU is no cost of the call (the Go peer measures
 * the same clock). */
static double cpu_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void must(vt_status st, const char *what) {
    if (st != VT_OK) {
        fprintf(stderr, "%s: %s\n", what, vt_last_error());
        exit(1);
    }
}

/* ---- calls ------------------------------------------------------------------------------------ */

static _Atomic uint64_t inline_counter;
static __attribute__((noinline)) void inline_add(void) {
    atomic_fetch_add_explicit(&inline_counter, 1, memory_order_relaxed);
}

/* In libcallfloor.so (call_floor.c): the same add as a handle write, in a C shared library. */
int floor_counter_add(_Atomic uint64_t *cell, double v);

enum { C_INLINE, C_FLOOR, C_ADD_HANDLE, C_ADD_NAME, C_OBSERVE_HANDLE, C_OBSERVE_NAME, C_COUNT };

static void run_calls(long n) {
    static const char *const names[C_COUNT] = {"inline_atomic_add", "shared_library_add", "counter_add_handle", "counter_add_name",
                                                "observe_handle", "observe_name"};
    vt_label sip = {"transport", "sip"};
    vt_metric counter = 0, hist = 0;
    must(vt_metric_get(VT_METRIC_COUNTER, "bench_requests_total", "Requests.", &sip, 1, &counter), "get");
    must(vt_metric_get(VT_METRIC_HISTOGRAM, "bench_latency_seconds", "Latency.", &sip, 1, &hist), "get");
    double best[C_COUNT];
    for (int c = 0; c < C_COUNT; c++) best[c] = 1e300;
    for (int round = 0; round < 7; round++) {   /* the cases alternate: load hits them alike */
        for (int c = 0; c < C_COUNT; c++) {
            long reps = c == C_ADD_NAME || c == C_OBSERVE_NAME ? n / 8 : n;
            double t0 = cpu_ns();
            switch (c) {
            case C_INLINE: for (long i = 0; i < reps; i++) inline_add(); break;
            case C_FLOOR: for (long i = 0; i < reps; i++) floor_counter_add(&inline_counter, 1); break;
            case C_ADD_HANDLE: for (long i = 0; i < reps; i++) vt_metric_add(counter, 1); break;
            case C_ADD_NAME:
                for (long i = 0; i < reps; i++) vt_counter_add("bench_requests_total", "Requests.", &sip, 1, 1);
                break;
            case C_OBSERVE_HANDLE: for (long i = 0; i < reps; i++) vt_metric_observe(hist, 0.25); break;
            default:
                for (long i = 0; i < reps; i++) vt_observe("bench_latency_seconds", "Latency.", &sip, 1, 0.25);
                break;
            }
            double ns = (cpu_ns() - t0) / (double)reps;
            if (ns < best[c]) best[c] = ns;
        }
    }
    for (int c = 0; c < C_COUNT; c++) printf("%s %.2f\n", names[c], best[c]);
    /* allocations per write, after the warm-up above */
    unsigned long before = atomic_load(&allocations);
    for (long i = 0; i < 100000; i++) {
        vt_metric_add(counter, 1);
        vt_metric_observe(hist, 0.25);
    }
    printf("allocs_per_handle_write %.4f\n", (double)(atomic_load(&allocations) - before) / 200000.0);
    before = atomic_load(&allocations);
    for (long i = 0; i < 100000; i++) {
        vt_counter_add("bench_requests_total", "Requests.", &sip, 1, 1);
        vt_observe("bench_latency_seconds", "Latency.", &sip, 1, 0.25);
    }
    printf("allocs_per_name_write %.4f\n", (double)(atomic_load(&allocations) - before) / 200000.0);
}

/* ---- exposition -------------------------------------------------------------------------------- */

/* The i-th value of series s (the same formula as the Go and Python peers). */
static double observation(int s, int i) { return (double)((s * 31 + i * 7919) % 1000 + 1) / 400.0; }

static void build_registry(int counters, int histograms, int series, int obs, const char *bounds_text) {
    double bounds[VT_MAX_BUCKETS];
    size_t n_bounds = 0;
    for (const char *p = bounds_text; *p && n_bounds < VT_MAX_BUCKETS; p = strchr(p, ',') ? strchr(p, ',') + 1 : "")
        bounds[n_bounds++] = strtod(p, NULL);
    char name[64], id[32];
    vt_label label = {"id", id};
    for (int f = 0; f < counters; f++) {
        snprintf(name, sizeof name, "bench_events%d_total", f);
        for (int s = 0; s < series; s++) {
            snprintf(id, sizeof id, "s%d", s);
            must(vt_counter_add(name, "Events of the bench.", &label, 1, (double)(s % 5 + 1) * 10), "counter");
        }
    }
    for (int f = 0; f < histograms; f++) {
        snprintf(name, sizeof name, "bench_stage%d_seconds", f);
        must(vt_set_buckets(name, bounds, n_bounds), "buckets");
        for (int s = 0; s < series; s++) {
            snprintf(id, sizeof id, "s%d", s);
            vt_metric h = 0;
            must(vt_metric_get(VT_METRIC_HISTOGRAM, name, "Stage latency of the bench.", &label, 1, &h), "get");
            for (int i = 0; i < obs; i++) must(vt_metric_observe(h, observation(s, i)), "observe");
        }
    }
}

static char *scrape_buffer(size_t *cap) {
    size_t len = 0;
    vt_prom_text(NULL, 0, &len);
    *cap = len + len / 4 + 4096;
    return malloc(*cap);
}

static void run_expo(int counters, int histograms, int series, int obs, const char *bounds, int rounds) {
    build_registry(counters, histograms, series, obs, bounds);
    size_t cap, len = 0;
    char *buf = scrape_buffer(&cap);
    must(vt_prom_text(buf, cap, &len), "scrape");   /* warm-up */
    double best = 1e300;
    for (int r = 0; r < rounds; r++) {
        double t0 = now_ns();
        must(vt_prom_text(buf, cap, &len), "scrape");
        double t = now_ns() - t0;
        if (t < best) best = t;
    }
    long lines = 0;
    for (const char *p = buf; *p; p = strchr(p, '\n') + 1)
        if (*p != '#') lines++;
    unsigned long before = atomic_load(&allocations);
    for (int r = 0; r < 10; r++) must(vt_prom_text(buf, cap, &len), "scrape");
    printf("expo_us %.1f\nexpo_lines %ld\nexpo_bytes %zu\nallocs_per_scrape %.1f\n", best / 1e3, lines, len,
           (double)(atomic_load(&allocations) - before) / 10.0);
    free(buf);
}

/* ---- record percentiles under a scrape ------------------------------------------------------------ */

static atomic_int phase;   /* 0 idle, 1 measure, 2 stop */
static atomic_int scraping;

struct recorder { vt_session s; vt_metric m; uint32_t *audio, *metric; long n; };

/* Calls timed in batches of BATCH with the time-stamp counter (here it ticks in steps of about
 * 10 ns: one call is below its resolution); a sample is a batch's ticks, reported per call. */
#define BATCH 64
static void *record(void *arg) {
    struct recorder *r = arg;
    while (atomic_load(&phase) == 0) {}
    long i = 0;
    while (atomic_load_explicit(&phase, memory_order_relaxed) == 1 && i < r->n) {
        uint64_t t0 = __rdtsc();
        for (int k = 0; k < BATCH; k++) vt_record_audio_out(r->s, 640, 1);
        uint64_t t1 = __rdtsc();
        for (int k = 0; k < BATCH; k++) vt_metric_add(r->m, 1);
        uint64_t t2 = __rdtsc();
        r->audio[i] = (uint32_t)(t1 - t0);
        r->metric[i] = (uint32_t)(t2 - t1);
        i++;
    }
    r->n = i;
    return NULL;
}

static void *scrape_loop(void *arg) {
    size_t cap, len;
    char *buf = scrape_buffer(&cap);
    long *count = arg;
    while (atomic_load(&phase) != 2) {
        if (atomic_load(&scraping) && atomic_load(&phase) == 1) {
            vt_prom_text(buf, cap, &len);
            (*count)++;
        } else {
            struct timespec nap = {0, 1000000};   /* idle: off the CPU */
            nanosleep(&nap, NULL);
        }
    }
    free(buf);
    return NULL;
}

static int cmp_u32(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static double percentile(uint32_t *v, long n, double q) {
    qsort(v, (size_t)n, sizeof *v, cmp_u32);
    return n ? v[(long)(q * (double)(n - 1))] : 0;
}

struct percentiles { double audio_p50, audio_p99, metric_p50, metric_p99; long calls; };

/* One phase: two recorders for `seconds`, the scraper busy or idle; per-call p50/p99 in ns. */
static struct percentiles measure_phase(int with_scrape, double seconds, double ticks_per_ns) {
    const long cap = 20000000;
    struct recorder r[2];
    pthread_t t[2];
    for (int k = 0; k < 2; k++) {
        vt_session_config cfg = {.struct_size = sizeof cfg};
        must(vt_create_session(&cfg, &r[k].s), "session");
        vt_label l = {"thread", k ? "b" : "a"};
        must(vt_metric_get(VT_METRIC_COUNTER, "bench_p99_total", "P99 bench.", &l, 1, &r[k].m), "get");
        r[k].audio = malloc(sizeof(uint32_t) * (size_t)cap);
        r[k].metric = malloc(sizeof(uint32_t) * (size_t)cap);
        r[k].n = cap;
        pthread_create(&t[k], NULL, record, &r[k]);
    }
    atomic_store(&scraping, with_scrape);
    atomic_store(&phase, 1);
    struct timespec span = {(time_t)seconds, (long)((seconds - (double)(time_t)seconds) * 1e9)};
    nanosleep(&span, NULL);
    atomic_store(&phase, 3);   /* stops the recorders, keeps the scraper waiting */
    for (int k = 0; k < 2; k++) pthread_join(t[k], NULL);
    atomic_store(&phase, 0);
    long n = r[0].n + r[1].n;
    uint32_t *audio = malloc(sizeof(uint32_t) * (size_t)n), *metric = malloc(sizeof(uint32_t) * (size_t)n);
    memcpy(audio, r[0].audio, sizeof(uint32_t) * (size_t)r[0].n);
    memcpy(audio + r[0].n, r[1].audio, sizeof(uint32_t) * (size_t)r[1].n);
    memcpy(metric, r[0].metric, sizeof(uint32_t) * (size_t)r[0].n);
    memcpy(metric + r[0].n, r[1].metric, sizeof(uint32_t) * (size_t)r[1].n);
    double per_call = ticks_per_ns * BATCH;
    struct percentiles p = {percentile(audio, n, 0.5) / per_call, percentile(audio, n, 0.99) / per_call,
                            percentile(metric, n, 0.5) / per_call, percentile(metric, n, 0.99) / per_call, n * BATCH};
    free(audio);
    free(metric);
    for (int k = 0; k < 2; k++) {
        free(r[k].audio);
        free(r[k].metric);
        vt_end_session(r[k].s);
    }
    return p;
}

/* Phases alone and scraping alternate three times each; each figure is the best (lowest) of its three. */
static void run_p99(double seconds) {
    build_registry(8, 2, 1000, 5, "0.005,0.01,0.025,0.05,0.1,0.25,0.5,1,2.5,5,10");
    double t0 = now_ns();
    uint64_t c0 = __rdtsc();
    while (now_ns() - t0 < 50e6) {}
    double ticks_per_ns = (double)(__rdtsc() - c0) / (now_ns() - t0);
    long scrapes = 0;
    pthread_t scraper;
    pthread_create(&scraper, NULL, scrape_loop, &scrapes);
    struct percentiles best[2] = {{1e9, 1e9, 1e9, 1e9, 0}, {1e9, 1e9, 1e9, 1e9, 0}};
    for (int i = 0; i < 6; i++) {
        int with = i % 2;
        struct percentiles p = measure_phase(with, seconds / 6, ticks_per_ns);
        struct percentiles *b = &best[with];
        b->audio_p50 = p.audio_p50 < b->audio_p50 ? p.audio_p50 : b->audio_p50;
        b->audio_p99 = p.audio_p99 < b->audio_p99 ? p.audio_p99 : b->audio_p99;
        b->metric_p50 = p.metric_p50 < b->metric_p50 ? p.metric_p50 : b->metric_p50;
        b->metric_p99 = p.metric_p99 < b->metric_p99 ? p.metric_p99 : b->metric_p99;
        b->calls += p.calls;
    }
    atomic_store(&phase, 2);
    pthread_join(scraper, NULL);
    for (int with = 0; with < 2; with++) {
        const char *tag = with ? "scraping" : "alone";
        printf("p50_audio_%s %.2f\np99_audio_%s %.2f\n", tag, best[with].audio_p50, tag, best[with].audio_p99);
        printf("p50_metric_%s %.2f\np99_metric_%s %.2f\n", tag, best[with].metric_p50, tag, best[with].metric_p99);
        printf("calls_%s %ld\n", tag, best[with].calls);
    }
    printf("scrapes %ld\n", scrapes);
}

int main(int argc, char **argv) {
    if (argc >= 3 && strcmp(argv[1], "calls") == 0) {
        run_calls(atol(argv[2]));
    } else if (argc >= 8 && strcmp(argv[1], "expo") == 0) {
        run_expo(atoi(argv[2]), atoi(argv[3]), atoi(argv[4]), atoi(argv[5]), argv[6], atoi(argv[7]));
    } else if (argc >= 3 && strcmp(argv[1], "p99") == 0) {
        run_p99(atof(argv[2]));
    } else {
        fprintf(stderr, "usage: bench_metrics calls N | expo COUNTERS HISTOGRAMS SERIES OBS BOUNDS ROUNDS | p99 SECONDS\n");
        return 2;
    }
    return 0;
}
