/*
 * test_plugins_stress.c -- many threads emitting events and recording while plugins are loaded,
 * read, flushed and unloaded. Checks: no crash, no deadlock, every call returns a documented status,
 * and once the storm is over the accounting of a plugin is exact. `make test-tsan` runs the same
 * program against a ThreadSanitizer build of the library (VT_STRESS_SECONDS sets the storm length).
 */
#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

#define TP "build/tests/plugins/"
#define JSONL "build/plugins/jsonl_sink.so"
#define EMITTERS 4

static volatile int stop_flag;
static char out_path[256];

static int stopped(void) { return __atomic_load_n(&stop_flag, __ATOMIC_RELAXED); }

/* check.h's counters are not thread-safe: worker threads count their failures here, and the main
 * thread checks the count (the first message is kept for the report). */
static unsigned long thread_failures;
static char first_failure[256];
#define TCHECK(cond)                                                                          \
    do {                                                                                      \
        if (!(cond) && __atomic_fetch_add(&thread_failures, 1, __ATOMIC_RELAXED) == 0)        \
            snprintf(first_failure, sizeof first_failure, "%s:%d: %s (%s)", __FILE__, __LINE__, #cond, vt_last_error()); \
    } while (0)

static void *emitter(void *arg) {
    long n = (long)(intptr_t)arg;
    char payload[128];
    unsigned long i = 0;
    while (!stopped()) {
        vt_session s = 0;
        vt_status st = vt_create_session(NULL, &s);
        if (st != VT_OK) continue;
        for (int k = 0; k < 20; k++) {
            snprintf(payload, sizeof payload, "{\"thread\":%ld,\"i\":%lu,\"text\":\"hello %d\"}", n, i++, k);
            st = vt_emit(s, "stress.event", payload, "c", NULL, 0);
            TCHECK(st == VT_OK);
            vt_record_audio_out(s, 160, 0);
            if (k % 5 == 0) vt_record_interruption(s, 0);
        }
        vt_usage u = {sizeof(vt_usage), 10, 5, 5, -1, -1};
        vt_record_usage(s, &u);
        vt_emit(0, "stress.global", "{}", NULL, NULL, 0);
        TCHECK(vt_end_session(s) == VT_OK);
    }
    return NULL;
}

static void *loader(void *arg) {
    (void)arg;
    char config[512];
    snprintf(config, sizeof config, "{\"path\":\"%s\",\"queue_capacity\":256,\"drain_timeout_ms\":50}", out_path);
    while (!stopped()) {
        vt_plugin_id a = 0, b = 0, c = 0;
        vt_status sa = vt_load_plugin(JSONL, config, &a);
        vt_status sb = vt_load_plugin(TP "scripted.so", "{\"queue_capacity\":64,\"drain_timeout_ms\":50}", &b);
        vt_status sc = vt_load_plugin(TP "retry.so", "{\"queue_capacity\":16,\"drain_timeout_ms\":20}", &c);
        TCHECK(sa == VT_OK && sb == VT_OK && sc == VT_OK);
        struct timespec ts = {0, 5 * 1000000};
        nanosleep(&ts, NULL);
        vt_status f = vt_flush_events(20);
        TCHECK(f == VT_OK || f == VT_E_LIMIT);
        TCHECK(vt_unload_plugin(c) == VT_OK);
        TCHECK(vt_unload_plugin(b) == VT_OK);
        TCHECK(vt_unload_plugin(a) == VT_OK);
    }
    return NULL;
}

static char prom_buf[1 << 20];

static void *reader(void *arg) {
    (void)arg;
    while (!stopped()) {
        size_t len = 0;
        vt_status st = vt_prom_text(prom_buf, sizeof prom_buf, &len);
        TCHECK(st == VT_OK);
        vt_plugin_id ids[VT_MAX_PLUGINS];
        size_t n = 0;
        st = vt_list_plugins(ids, VT_MAX_PLUGINS, &n);
        TCHECK(st == VT_OK);
        for (size_t i = 0; i < n && i < VT_MAX_PLUGINS; i++) {
            vt_plugin_statistics s;
            memset(&s, 0, sizeof s);
            s.struct_size = sizeof s;
            st = vt_plugin_stats(ids[i], &s);
            TCHECK(st == VT_OK || st == VT_E_NOT_FOUND); /* it may have been unloaded meanwhile */
        }
    }
    return NULL;
}

static void *final_emitter(void *arg) {
    (void)arg;
    for (int i = 0; i < 5000; i++) TCHECK(vt_emit(0, "final.event", "{\"k\":1}", NULL, NULL, 0) == VT_OK);
    return NULL;
}

TEST(storm_then_exact_accounting) {
    const char *env = getenv("VT_STRESS_SECONDS");
    int seconds = env ? atoi(env) : 2;
    if (seconds < 1) seconds = 1;
    CHECK_STATUS(vt_set_event_rate_limit(0), VT_OK);
    pthread_t threads[EMITTERS + 2];
    for (long i = 0; i < EMITTERS; i++) pthread_create(&threads[i], NULL, emitter, (void *)(intptr_t)i);
    pthread_create(&threads[EMITTERS], NULL, loader, NULL);
    pthread_create(&threads[EMITTERS + 1], NULL, reader, NULL);
    sleep((unsigned)seconds);
    __atomic_store_n(&stop_flag, 1, __ATOMIC_RELAXED);
    for (int i = 0; i < EMITTERS + 2; i++) pthread_join(threads[i], NULL);
    CHECK_EQ_U64(thread_failures, 0);
    if (thread_failures) fprintf(stderr, "first failure in a thread: %s\n", first_failure);
    size_t n = 99;
    CHECK_STATUS(vt_list_plugins(NULL, 0, &n), VT_OK);
    CHECK_EQ_U64(n, 0);

    /* Quiet again: two threads emit 5000 events each into a small queue; exact accounting. */
    vt_plugin_id id = 0;
    CHECK_STATUS(vt_load_plugin(TP "scripted.so", "{\"queue_capacity\":128}", &id), VT_OK);
    pthread_t t[2];
    for (int i = 0; i < 2; i++) pthread_create(&t[i], NULL, final_emitter, NULL);
    for (int i = 0; i < 2; i++) pthread_join(t[i], NULL);
    CHECK_EQ_U64(thread_failures, 0);
    CHECK_STATUS(vt_flush_events(10000), VT_OK);
    vt_plugin_statistics s;
    memset(&s, 0, sizeof s);
    s.struct_size = sizeof s;
    CHECK_STATUS(vt_plugin_stats(id, &s), VT_OK);
    CHECK_EQ_U64(s.emitted, 10000);
    CHECK_EQ_U64(s.queued, 0);
    CHECK_EQ_U64(s.delivered + s.dropped_queue_full, 10000);
    CHECK_EQ_U64(s.dropped_rate_limited + s.dropped_too_large + s.dropped_plugin + s.dropped_disabled, 0);
    printf("final phase: delivered %llu, dropped (queue full) %llu\n", (unsigned long long)s.delivered,
           (unsigned long long)s.dropped_queue_full);
    CHECK_STATUS(vt_unload_plugin(id), VT_OK);
}

int main(void) {
    snprintf(out_path, sizeof out_path, "/tmp/vt_stress_%d.jsonl", (int)getpid());
    RUN(storm_then_exact_accounting);
    unlink(out_path);
    return check_summary();
}
