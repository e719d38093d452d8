/* bench_turns.c -- stage record calls from C (ns/call) beside an inline-atomics baseline measured in
 * the same run, and the cost of a turn completion (us). Prints a markdown table. */
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "voicetelemetry.h"

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static volatile uint64_t sink_words[4];

int main(void) {
    const int n = 2000000;
    vt_session s = 0;
    vt_create_session(NULL, &s);
    /* Baseline: two inline relaxed atomic adds + one CAS-if-zero. */
    uint64_t t0 = now_ns();
    for (int i = 0; i < n; i++) {
        __atomic_fetch_add(&sink_words[0], 1, __ATOMIC_RELAXED);
        __atomic_fetch_add(&sink_words[1], (uint64_t)i, __ATOMIC_RELAXED);
        uint64_t zero = 0;
        __atomic_compare_exchange_n(&sink_words[2], &zero, (uint64_t)i + 1, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED);
    }
    double base = (double)(now_ns() - t0) / n;
    /* Stage marks that never complete a turn (LLM first token: first-wins CAS + first/last event). */
    t0 = now_ns();
    for (int i = 0; i < n; i++) vt_turn_mark(s, VT_STAGE_LLM, VT_MARK_FIRST, 1000000000ull + (uint64_t)i);
    double mark = (double)(now_ns() - t0) / n;
    t0 = now_ns();
    for (int i = 0; i < n; i++) vt_turn_value(s, VT_TV_TTS_CHARACTERS, 3, 1000000000ull + (uint64_t)i);
    double value = (double)(now_ns() - t0) / n;
    t0 = now_ns();
    for (int i = 0; i < n; i++) vt_turn_mark(s, VT_STAGE_LLM, VT_MARK_FIRST, 0);
    double mark_now = (double)(now_ns() - t0) / n;
    t0 = now_ns();
    for (int i = 0; i < n; i++) vt_record_audio_out(s, 640, 1000000000ull + (uint64_t)i);
    double audio = (double)(now_ns() - t0) / n;
    /* Turn completion: a full cascaded turn of 12 marks, then the completing mark timed alone. */
    const int turns = 100000;
    uint64_t complete_total = 0, turn_total = 0;
    for (int i = 0; i < turns; i++) {
        uint64_t b = 10000000000ull + (uint64_t)i * 10000000000ull;
        uint64_t a = now_ns();
        vt_turn_mark(s, VT_STAGE_USER_SPEECH, VT_MARK_START, b);
        vt_turn_mark(s, VT_STAGE_STT, VT_MARK_START, b);
        vt_turn_mark(s, VT_STAGE_USER_SPEECH, VT_MARK_END, b + 1000000000);
        vt_turn_mark(s, VT_STAGE_STT, VT_MARK_FINAL, b + 1100000000);
        vt_turn_mark(s, VT_STAGE_EOU, VT_MARK_START, b + 1100000000);
        vt_turn_mark(s, VT_STAGE_EOU, VT_MARK_END, b + 1200000000);
        vt_turn_mark(s, VT_STAGE_LLM, VT_MARK_START, b + 1200000000);
        vt_turn_mark(s, VT_STAGE_LLM, VT_MARK_FIRST, b + 1400000000);
        vt_turn_mark(s, VT_STAGE_TTS, VT_MARK_START, b + 1400000000);
        vt_turn_mark(s, VT_STAGE_TTS, VT_MARK_FIRST, b + 1500000000);
        vt_turn_mark(s, VT_STAGE_AGENT_SPEECH, VT_MARK_START, b + 1600000000);
        uint64_t c = now_ns();
        vt_turn_mark(s, VT_STAGE_AGENT_SPEECH, VT_MARK_END, b + 3000000000);
        uint64_t d = now_ns();
        complete_total += d - c;
        turn_total += d - a;
    }
    printf("| call (C caller, 1 thread) | ns/call |\n|---|---|\n");
    printf("| baseline: inline C atomics (2 adds + 1 CAS) | %.1f |\n", base);
    printf("| vt_turn_mark (explicit t_ns) | %.1f |\n", mark);
    printf("| vt_turn_mark (t_ns = 0, reads the clock) | %.1f |\n", mark_now);
    printf("| vt_turn_value | %.1f |\n", value);
    printf("| vt_record_audio_out (common path, unchanged) | %.1f |\n", audio);
    printf("\n| turn completion | us |\n|---|---|\n");
    printf("| completing mark (AGENT_SPEECH END: derive, ring record, 7 histograms) | %.2f |\n",
           (double)complete_total / turns / 1000.0);
    printf("| whole 12-event cascaded turn incl. completion | %.2f |\n", (double)turn_total / turns / 1000.0);
    vt_end_session(s);
    return 0;
}
