/*
 * bench_emit.c -- vt_emit cost with a no-op plugin and with a stalled plugin (p50/p99 per call), and
 * events per second delivered to a no-op plugin, each beside a baseline measured in the same run.
 *
 * Latency baseline: an inline C enqueue of the finished envelope line (claim a 256-byte slot of a
 * preallocated ring with an atomic add, memcpy the line, publish with a release store): the least
 * a queue of rendered events costs, with no validation, no envelope building and no clock read.
 * Beside the no-op plugin, a consumer thread drains the baseline ring the way a plugin thread
 * drains ours (batches of 256 lines copied out, a 20 us nap when fewer wait), so both feel the same
 * neighbour on the other vCPU; beside the stalled plugin, nothing drains it.
 * Throughput baseline: the same ring with a consumer thread copying each line out as it comes.
 *
 * This machine is noisy (2 vCPUs that share a physical core, other tenants): a single run's p99
 * moves by 100 ns from one run to the next. So each latency case runs ROUNDS rounds (the baseline's
 * just before ours, in the same run), and the table shows the median over rounds of each round's
 * p50 and p99, and the range of the p99s.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "voicetelemetry.h"

#define ROUNDS 7
#define SAMPLES 100000
#define SLOTS 16384
#define SLOT 256

static uint64_t now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int cmp(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static uint64_t samples[SAMPLES];
static char *slots;
static uint64_t seqs[SLOTS];
static uint64_t enq_pos, deq_pos;
static const char *payload = "{\"latency_ms\":842,\"output_chars\":456,\"model\":\"gemini-2.0-flash\"}";
static char line[512];
static size_t line_len;

/* Baseline: claim a slot, copy the event line, publish (what a minimal C queue has to do). */
static inline void baseline_enqueue(void) {
    uint64_t pos = __atomic_fetch_add(&enq_pos, 1, __ATOMIC_RELAXED);
    size_t i = pos & (SLOTS - 1);
    memcpy(slots + i * SLOT, line, line_len);
    __atomic_store_n(&seqs[i], pos + 1, __ATOMIC_RELEASE);
}

struct round {
    uint64_t p50, p99;
};

static struct round percentiles(void) {
    qsort(samples, SAMPLES, sizeof samples[0], cmp);
    struct round r = {samples[SAMPLES / 2], samples[SAMPLES * 99 / 100]};
    return r;
}

static struct round measure_emit(void) {
    for (int i = 0; i < 10000; i++) vt_emit(0, "llm.response", payload, "turn-1", NULL, 0); /* warm up */
    for (int i = 0; i < SAMPLES; i++) {
        uint64_t t0 = now();
        vt_emit(0, "llm.response", payload, "turn-1", NULL, 0);
        samples[i] = now() - t0;
    }
    return percentiles();
}

static struct round measure_baseline(void) {
    for (int i = 0; i < 10000; i++) baseline_enqueue();
    for (int i = 0; i < SAMPLES; i++) {
        uint64_t t0 = now();
        baseline_enqueue();
        samples[i] = now() - t0;
    }
    return percentiles();
}

static struct round measure_clock(void) {
    for (int i = 0; i < SAMPLES; i++) {
        uint64_t t0 = now();
        samples[i] = now() - t0;
    }
    return percentiles();
}

static int cmp_u64(const void *a, const void *b) { return cmp(a, b); }

/* Median over rounds of the p50s and of the p99s, and the p99 range. */
struct summary {
    uint64_t p50, p99, p99_min, p99_max;
};

static struct summary summarize(const struct round *r, int n) {
    uint64_t a[ROUNDS], b[ROUNDS];
    for (int i = 0; i < n; i++) {
        a[i] = r[i].p50;
        b[i] = r[i].p99;
    }
    qsort(a, (size_t)n, sizeof a[0], cmp_u64);
    qsort(b, (size_t)n, sizeof b[0], cmp_u64);
    struct summary s = {a[n / 2], b[n / 2], b[0], b[n - 1]};
    return s;
}

/* ROUNDS rounds of `measure`, summarized. */
static struct summary rounds(struct round (*measure)(void)) {
    struct round r[ROUNDS];
    for (int k = 0; k < ROUNDS; k++) r[k] = measure();
    return summarize(r, ROUNDS);
}

static volatile int consumer_stop;
static uint64_t consumed;

/* Batch consumer (beside the no-op latency baseline): copies lines out 256 at a time into a batch
 * buffer, napping 20 us when fewer than 256 wait. */
static void *batch_consumer(void *arg) {
    (void)arg;
    static char batch[256 * SLOT];
    while (!__atomic_load_n(&consumer_stop, __ATOMIC_RELAXED)) {
        uint64_t pos = deq_pos;
        if (__atomic_load_n(&enq_pos, __ATOMIC_RELAXED) - pos < 256) {
            struct timespec nap = {0, 20000};
            nanosleep(&nap, NULL);
            continue;
        }
        size_t len = 0;
        for (int k = 0; k < 256; k++, pos++) {
            size_t i = pos & (SLOTS - 1);
            while (__atomic_load_n(&seqs[i], __ATOMIC_ACQUIRE) < pos + 1) {}
            memcpy(batch + len, slots + i * SLOT, line_len);
            len += line_len;
        }
        __atomic_store_n(&deq_pos, pos, __ATOMIC_RELEASE);
        consumed += 256;
    }
    return NULL;
}

static struct summary baseline_rounds_with_consumer(void) {
    enq_pos = deq_pos = 0;
    memset(seqs, 0, sizeof seqs);
    consumer_stop = 0;
    pthread_t t;
    pthread_create(&t, NULL, batch_consumer, NULL);
    struct summary s = rounds(measure_baseline);
    __atomic_store_n(&consumer_stop, 1, __ATOMIC_RELAXED);
    pthread_join(t, NULL);
    return s;
}

/* Baseline consumer: copies each published line out, like a plugin thread building a batch. */
static void *baseline_consumer(void *arg) {
    (void)arg;
    static char batch[SLOT];
    while (!__atomic_load_n(&consumer_stop, __ATOMIC_RELAXED) ||
           __atomic_load_n(&deq_pos, __ATOMIC_RELAXED) < __atomic_load_n(&enq_pos, __ATOMIC_RELAXED)) {
        uint64_t pos = deq_pos;
        size_t i = pos & (SLOTS - 1);
        if (__atomic_load_n(&seqs[i], __ATOMIC_ACQUIRE) != pos + 1) continue;
        memcpy(batch, slots + i * SLOT, line_len);
        __atomic_store_n(&deq_pos, pos + 1, __ATOMIC_RELEASE);
        consumed++;
    }
    return NULL;
}

static double baseline_throughput(void) {
    enq_pos = deq_pos = 0;
    memset(seqs, 0, sizeof seqs);
    consumed = 0;
    consumer_stop = 0;
    pthread_t t;
    pthread_create(&t, NULL, baseline_consumer, NULL);
    uint64_t start = now(), end = start + 1000000000ull;
    while (now() < end) {
        for (int k = 0; k < 64; k++) {
            /* bounded: wait for room like a blocking queue would (the baseline never drops) */
            while (__atomic_load_n(&enq_pos, __ATOMIC_RELAXED) - __atomic_load_n(&deq_pos, __ATOMIC_ACQUIRE) >= SLOTS) {}
            baseline_enqueue();
        }
    }
    __atomic_store_n(&consumer_stop, 1, __ATOMIC_RELAXED);
    pthread_join(t, NULL);
    return (double)consumed / ((double)(now() - start) / 1e9);
}

static vt_plugin_statistics stats(vt_plugin_id id) {
    vt_plugin_statistics s;
    memset(&s, 0, sizeof s);
    s.struct_size = sizeof s;
    vt_plugin_stats(id, &s);
    return s;
}

static vt_plugin_id load(const char *path, const char *config) {
    vt_plugin_id id = 0;
    if (vt_load_plugin(path, config, &id) != VT_OK) {
        fprintf(stderr, "load %s: %s\n", path, vt_last_error());
        exit(1);
    }
    return id;
}

int main(int argc, char **argv) {
    const char *dir = argc > 1 ? argv[1] : "build/bench";
    char noop[512], stall[512];
    snprintf(noop, sizeof noop, "%s/noop_sink.so", dir);
    snprintf(stall, sizeof stall, "%s/stall_sink.so", dir);
    slots = aligned_alloc(64, (size_t)SLOTS * SLOT);
    memset(slots, 0, (size_t)SLOTS * SLOT);
    line_len = (size_t)snprintf(line, sizeof line,
                                "{\"type_id\":\"core::telemetry/event@1\",\"session_id\":null,\"event_type\":\"llm.response\","
                                "\"correlation_id\":\"turn-1\",\"turn_id\":null,\"timestamp_us\":123456789,\"data\":%s}\n",
                                payload);
    vt_set_event_rate_limit(0);
    struct round clock = measure_clock();

    struct summary noop_base = baseline_rounds_with_consumer();
    vt_plugin_id id = load(noop, "{\"queue_capacity\":16384}");
    struct summary noop_ours = rounds(measure_emit);
    vt_flush_events(10000);
    vt_plugin_statistics ns0 = stats(id);
    vt_unload_plugin(id);

    struct summary stall_base = rounds(measure_baseline);
    vt_plugin_id sid = load(stall, "{\"queue_capacity\":1024,\"drain_timeout_ms\":10}");
    struct summary stall_ours = rounds(measure_emit);
    vt_plugin_statistics ss = stats(sid);
    vt_unload_plugin(sid);

    /* Sustained: one thread emits for 1 s; delivered per second, flush included. */
    id = load(noop, "{\"queue_capacity\":16384,\"max_batch_events\":1024}");
    uint64_t start = now(), end = start + 1000000000ull, emitted = 0;
    while (now() < end) {
        for (int k = 0; k < 64; k++) vt_emit(0, "llm.response", payload, "turn-1", NULL, 0);
        emitted += 64;
    }
    vt_flush_events(10000);
    double secs = (double)(now() - start) / 1e9;
    vt_plugin_statistics ns = stats(id);
    vt_unload_plugin(id);
    double base_rate = baseline_throughput();

    printf("clock_gettime pair (in every sample below): p50 %llu ns, p99 %llu ns\n", (unsigned long long)clock.p50,
           (unsigned long long)clock.p99);
    printf("%d rounds of %d calls per case; median over rounds of p50 / p99, and [p99 range]\n", ROUNDS, SAMPLES);
    printf("| measurement | ours | baseline (inline C: atomic slot claim + memcpy of the line) | target |\n");
    printf("|---|---|---|---|\n");
    printf("| vt_emit, no-op plugin: p50 / p99 ns | %llu / %llu [%llu-%llu] | %llu / %llu [%llu-%llu] | p99 <= 200 |\n",
           (unsigned long long)noop_ours.p50, (unsigned long long)noop_ours.p99, (unsigned long long)noop_ours.p99_min,
           (unsigned long long)noop_ours.p99_max, (unsigned long long)noop_base.p50, (unsigned long long)noop_base.p99,
           (unsigned long long)noop_base.p99_min, (unsigned long long)noop_base.p99_max);
    printf("| vt_emit, stalled plugin (queue full, drop-oldest): p50 / p99 ns | %llu / %llu [%llu-%llu] | %llu / %llu "
           "[%llu-%llu] | p99 <= 200 |\n",
           (unsigned long long)stall_ours.p50, (unsigned long long)stall_ours.p99, (unsigned long long)stall_ours.p99_min,
           (unsigned long long)stall_ours.p99_max, (unsigned long long)stall_base.p50, (unsigned long long)stall_base.p99,
           (unsigned long long)stall_base.p99_min, (unsigned long long)stall_base.p99_max);
    printf("| (baseline beside the no-op row: a consumer thread drains it in batches of 256) | | | |\n");
    printf("| sustained events/s delivered to a no-op plugin (1 emitting thread) | %.2f M/s | %.2f M/s | >= 1 M/s |\n",
           ns.delivered / secs / 1e6, base_rate / 1e6);
    printf("(no-op latency runs: %llu emitted, %llu delivered in %llu batches; stalled: %llu emitted, %llu dropped "
           "queue_full; sustained: %llu emitted, %llu delivered, %llu dropped queue_full)\n",
           (unsigned long long)ns0.emitted, (unsigned long long)ns0.delivered, (unsigned long long)ns0.batches,
           (unsigned long long)ss.emitted, (unsigned long long)ss.dropped_queue_full, (unsigned long long)emitted,
           (unsigned long long)ns.delivered, (unsigned long long)ns.dropped_queue_full);
    return 0;
}
