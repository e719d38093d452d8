/* bench_costs.c -- vt_turn_usage with a price table loaded, beside the same call without one (and an
 * inline-atomics baseline), measured in the same run, from C. Prints a markdown table of ns/call: the
 * median and the minimum of 9 rounds of 1M calls each, the rounds of the rows interleaved so that load
 * changes hit all rows alike. Time is the thread's CPU time (CLOCK_THREAD_CPUTIME_ID): on a shared
 * machine the wall clock also counts the time the thread waited for a core. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "voicetelemetry.h"

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

#define CALLS 1000000
#define ROUNDS 9

static volatile uint64_t sink_words[4];
static vt_token_usage u;

static double baseline(vt_session s) {
    (void)s;
    uint64_t t0 = now_ns();
    for (int i = 0; i < CALLS; i++) {   /* what a plain usage add would cost: 3 relaxed adds */
        __atomic_fetch_add(&sink_words[0], 1000, __ATOMIC_RELAXED);
        __atomic_fetch_add(&sink_words[1], 100, __ATOMIC_RELAXED);
        __atomic_fetch_add(&sink_words[2], 200, __ATOMIC_RELAXED);
    }
    return (double)(now_ns() - t0) / CALLS;
}

static double usage_calls(vt_session s) {
    uint64_t t0 = now_ns();
    for (int i = 0; i < CALLS; i++) vt_turn_usage(s, VT_STAGE_LLM, &u, 1000000000ull + (uint64_t)i);
    return (double)(now_ns() - t0) / CALLS;
}

struct row {
    const char *what;
    const char *prices;   /* NULL: no table */
    const char *model;
    double (*fn)(vt_session);
    double runs[ROUNDS];
};

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static const char *const TABLE =
    "{\"currency\":\"USD\",\"prices\":["
    "{\"stage\":\"llm\",\"provider\":\"openai\",\"model\":\"gpt-4o-mini\",\"input\":0.15,\"cached_input\":0.075,\"output\":0.6},"
    "{\"stage\":\"llm\",\"provider\":\"openai\",\"model\":\"*\",\"input\":2.5,\"cached_input\":1.25,\"output\":10},"
    "{\"stage\":\"llm\",\"provider\":\"odd\",\"model\":\"*\",\"input\":0.1234567,\"output\":0.0000001}]}";

int main(void) {
    memset(&u, 0, sizeof u);
    u.struct_size = sizeof u;
    u.input = 1000, u.output = 100, u.cached_input = 200;
    u.reasoning = u.input_text = u.input_audio = u.input_image = u.output_text = u.output_audio = -1;
    struct row rows[] = {
        {"baseline: inline C atomics (3 relaxed adds)", NULL, "gpt-4o-mini", baseline, {0}},
        {"vt_turn_usage, no price table", NULL, "gpt-4o-mini", usage_calls, {0}},
        {"vt_turn_usage, table loaded, exact model's entry", TABLE, "gpt-4o-mini", usage_calls, {0}},
        {"vt_turn_usage, table loaded, the provider's \"*\" entry", TABLE, "gpt-4.1", usage_calls, {0}},
        {"vt_turn_usage, table loaded, no entry (unpriced)", TABLE, "nobody", usage_calls, {0}},
        {"vt_turn_usage, table loaded, prices of > 6 decimals (128-bit sum)", TABLE, "odd", usage_calls, {0}},
    };
    size_t n = sizeof rows / sizeof rows[0];
    for (int r = 0; r < ROUNDS; r++) {
        for (size_t i = 0; i < n; i++) {
            if (vt_set_prices(rows[i].prices) != VT_OK) { fprintf(stderr, "set_prices: %s\n", vt_last_error()); return 1; }
            vt_session s = 0;
            vt_create_session(NULL, &s);
            const char *provider = strcmp(rows[i].model, "nobody") == 0 ? "nobody"
                                   : strcmp(rows[i].model, "odd") == 0 ? "odd" : "openai";
            vt_turn_provider(s, VT_STAGE_LLM, provider, rows[i].model, 0);
            rows[i].runs[r] = rows[i].fn(s);
            vt_end_session(s);
        }
    }
    printf("| call (C caller, 1 thread; input, output, cached reported) | ns/call, median of %d | min | median beside no table |\n"
           "|---|---|---|---|\n", ROUNDS);
    double without = 0;
    for (size_t i = 0; i < n; i++) {
        qsort(rows[i].runs, ROUNDS, sizeof(double), cmp);
        double median = rows[i].runs[ROUNDS / 2];
        if (i == 1) without = median;
        printf("| %s | %.1f | %.1f |", rows[i].what, median, rows[i].runs[0]);
        if (i >= 2) printf(" %+.1f |\n", median - without);
        else printf(" |\n");
    }
    return 0;
}
