/*
 * test_allocations.c -- the header's promise (THREADS): record calls allocate nothing, also while a
 * plugin is loaded and events flow to it (vt_record_interruption and vt_record_usage emit events;
 * the completing vt_turn_mark queues turn.complete; vt_emit "never allocates"; handle writes follow
 * the record calls' rules).
 *
 * Allocations are counted per thread, on the calling thread only (the plugin's own thread allocates
 * as it likes): by the benches' interposed malloc (bench/alloc_counter.h) in the plain build, and
 * through the sanitizer's allocation hook in the AddressSanitizer build (an interposed malloc would
 * bypass its allocator).
 */
#include <stdlib.h>
#include <unistd.h>

#include "check.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define VT_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define VT_SANITIZED 1
#endif
#endif

#ifdef VT_SANITIZED
#include <sanitizer/allocator_interface.h>
static __thread unsigned long thread_allocations;
static void on_malloc(const volatile void *p, size_t n) { (void)p, (void)n; thread_allocations++; }
static void on_free(const volatile void *p) { (void)p; }
static void start_counting(void) { __sanitizer_install_malloc_and_free_hooks(on_malloc, on_free); }
#else
#include "../../bench/alloc_counter.h"
static void start_counting(void) {}
#endif

#define WARM_UP 64
#define ROUNDS 2000

static vt_metric counter;

/* One round of each group: the record calls an engine makes per chunk, per turn, per report. */
static void audio_round(vt_session s, uint64_t t) {
    vt_record_vad_start(s, t);
    vt_record_vad_end(s, t + 1000);
    vt_record_audio_out(s, 640, t + 2000);
    vt_record_audio_out(s, 640, 0);
}

static void event_round(vt_session s, uint64_t t) {
    vt_record_interruption(s, t);
    vt_usage u = {sizeof u, 120, 100, 20, 5, -1};
    vt_record_usage_at(s, &u, t);
    vt_emit(s, "alloc.test", "{\"n\":1}", "corr-1", NULL, t);
    vt_metric_add(counter, 1);
}

static void turn_round(vt_session s, uint64_t t) {
    vt_turn_mark(s, VT_STAGE_USER_SPEECH, VT_MARK_START, t);
    vt_turn_mark(s, VT_STAGE_USER_SPEECH, VT_MARK_END, t + 100);
    vt_turn_mark(s, VT_STAGE_STT, VT_MARK_FINAL, t + 200);
    vt_turn_mark(s, VT_STAGE_LLM, VT_MARK_START, t + 300);
    vt_turn_mark(s, VT_STAGE_LLM, VT_MARK_FIRST, t + 400);
    vt_token_usage tu = {sizeof tu, 100, 20, 10, -1, -1, -1, -1, -1, -1};
    vt_turn_usage(s, VT_STAGE_LLM, &tu, t + 450);
    vt_turn_value(s, VT_TV_TTS_CHARACTERS, 42, t + 460);
    vt_turn_mark(s, VT_STAGE_TTS, VT_MARK_FIRST, t + 500);
    vt_turn_mark(s, VT_STAGE_AGENT_SPEECH, VT_MARK_START, t + 600);
    vt_turn_mark(s, VT_STAGE_AGENT_SPEECH, VT_MARK_END, t + 700);   /* completes the turn */
}

/* Allocations on this thread during ROUNDS rounds of `round`, after WARM_UP rounds. */
static unsigned long allocations_of(void (*round)(vt_session, uint64_t), vt_session s, uint64_t *t) {
    for (int i = 0; i < WARM_UP; i++, *t += 10000) round(s, *t);
    unsigned long before = thread_allocations;
    for (int i = 0; i < ROUNDS; i++, *t += 10000) round(s, *t);
    return thread_allocations - before;
}

TEST(record_calls_allocate_nothing_while_a_plugin_receives_their_events) {
    char dir[] = "/tmp/vt-alloc-XXXXXX", config[256];
    CHECK(mkdtemp(dir) != NULL);
    snprintf(config, sizeof config, "{\"path\":\"%s/events.jsonl\"}", dir);
    vt_plugin_id plugin = 0;
    CHECK_STATUS(vt_load_plugin("build/plugins/jsonl_sink.so", config, &plugin), VT_OK);
    CHECK_STATUS(vt_metric_get(VT_METRIC_COUNTER, "alloc_test_total", "Test.", NULL, 0, &counter), VT_OK);
    CHECK_STATUS(vt_set_prices("{\"currency\":\"USD\",\"prices\":[{\"stage\":\"llm\",\"provider\":\"p\","
                               "\"input\":1,\"output\":2}]}"), VT_OK);
    vt_session s = 0;
    CHECK_STATUS(vt_create_session(NULL, &s), VT_OK);
    CHECK_STATUS(vt_turn_provider(s, VT_STAGE_LLM, "p", "m", 1), VT_OK);
    start_counting();
    uint64_t t = 1000000000ull;
    CHECK_EQ_U64(allocations_of(audio_round, s, &t), 0);
    CHECK_EQ_U64(allocations_of(event_round, s, &t), 0);
    CHECK_EQ_U64(allocations_of(turn_round, s, &t), 0);

    /* The events did flow to the plugin (the test measured the path that emits): interruption,
     * usage and the vt_emit of each event round, session.start, and turn.complete of each turn;
     * every one is accounted for (vt_emit's own events are rate-limited per type). */
    CHECK_STATUS(vt_flush_events(5000), VT_OK);
    vt_plugin_statistics st = {.struct_size = sizeof st};
    CHECK_STATUS(vt_plugin_stats(plugin, &st), VT_OK);
    CHECK(st.emitted >= 4 * (WARM_UP + ROUNDS) + 1);
    CHECK_EQ_U64(st.delivered + st.dropped_queue_full + st.dropped_rate_limited, st.emitted);
    CHECK_STATUS(vt_end_session(s), VT_OK);
    CHECK_STATUS(vt_unload_plugin(plugin), VT_OK);
    CHECK_STATUS(vt_set_prices(NULL), VT_OK);
    char cmd[64];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0);
}

int main(void) {
    RUN(record_calls_allocate_nothing_while_a_plugin_receives_their_events);
    return check_summary();
}
