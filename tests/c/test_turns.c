/*
 * test_turns.c -- the turn collector through the C ABI: every vt_turn_* function with its error
 * paths, the scenario files in tests/scenarios/turns (exact expected values), text policy, the
 * buffer contract, many concurrent sessions, and promtool on the whole exposition.
 */
#include <glob.h>
#include <pthread.h>
#include <stdint.h>

#include "check.h"
#include "turn_scenario.h"

static char *json_of(vt_status (*fn)(vt_session, char *, size_t, size_t *), vt_session s) {
    /* The text may grow between the two calls (a concurrent turn, a clock-based uptime): retry. */
    for (int attempt = 0; attempt < 8; attempt++) {
        size_t len = 0;
        if (fn(s, NULL, 0, &len) != VT_E_BUFFER_TOO_SMALL) return NULL;
        char *buf = malloc(len + 1);
        if (!buf) return NULL;
        vt_status st = fn(s, buf, len + 1, &len);
        if (st == VT_OK) return buf;
        free(buf);
        if (st != VT_E_BUFFER_TOO_SMALL) return NULL;
    }
    return NULL;
}

static vt_status history_all(vt_session s, char *buf, size_t cap, size_t *len) {
    return vt_turn_history_json(s, 0, buf, cap, len);
}

static char *prom_text(void) {
    size_t len = 0;
    vt_prom_text(NULL, 0, &len);
    size_t cap = len + 65536;
    char *buf = malloc(cap);
    if (!buf) return NULL;
    if (vt_prom_text(buf, cap, &len) != VT_OK) { free(buf); return NULL; }
    return buf;
}

/* Replays one scenario file; every failed step or expectation is a failed check naming the line. */
static void run_scenario(const char *path) {
    FILE *f = fopen(path, "r");
    CHECK(f != NULL);
    if (!f) return;
    char line[4096];
    int lineno = 0;
    vt_session s = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        line[strcspn(line, "\n")] = 0;
        if (line[0] == '#' || line[0] == 0) continue;
        char cmd[32] = "", a[256] = "", b[256] = "", c[256] = "", d[256] = "", e[256] = "";
        sscanf(line, "%31s %255s %255s %255s %255s %255s", cmd, a, b, c, d, e);
        vt_status st = VT_OK;
        char where[600];
        snprintf(where, sizeof where, "%.60s:%d: %.500s", path, lineno, line);
        if (strcmp(cmd, "config") == 0) {
            vt_label label = {"transport", b};
            vt_session_config cfg;
            memset(&cfg, 0, sizeof cfg);
            cfg.struct_size = sizeof cfg;
            cfg.session_id = a;
            cfg.labels = &label;
            cfg.n_labels = 1;
            cfg.start_t_ns = 1000;
            cfg.text_policy = strcmp(c, "include") == 0 ? VT_TEXT_INCLUDE : VT_TEXT_REDACT;
            cfg.max_text_chars = (uint32_t)strtoul(d, NULL, 10);
            cfg.turn_history = (uint32_t)strtoul(e, NULL, 10);
            st = vt_create_session(&cfg, &s);
        } else if (strcmp(cmd, "expect") == 0) {
            const char *needle = line + strlen("expect ") + strlen(a) + 1;
            char *text = NULL;
            if (strcmp(a, "last") == 0) text = json_of(vt_turn_last_json, s);
            else if (strcmp(a, "history") == 0) text = json_of(history_all, s);
            else if (strcmp(a, "snapshot") == 0) text = json_of(vt_snapshot_json, s);
            else if (strcmp(a, "prom") == 0) text = prom_text();
            int ok = text && strstr(text, needle) != NULL;
            char msg[1200];
            snprintf(msg, sizeof msg, "%.500s\n    got: %.600s", where, text ? text : "(null)");
            check_report(ok, __FILE__, __LINE__, msg);
            free(text);
            continue;
        } else if (!scenario_call(s, line, &st)) {
            check_report(0, __FILE__, __LINE__, where);
            continue;
        }
        char msg[900];
        snprintf(msg, sizeof msg, "%.500s -> %d %s", where, (int)st, vt_last_error());
        check_report(st == VT_OK, __FILE__, __LINE__, msg);
    }
    fclose(f);
    CHECK_STATUS(vt_end_session(s), VT_OK);
}

/* Every .txt file of tests/scenarios/turns but the README, in name order, each reported as a test of
   its own, scenario_<file>: a new scenario needs no edit here. A folder without one fails. */
static void run_scenarios(void) {
    glob_t g;
    int rc = glob("tests/scenarios/turns/*.txt", 0, NULL, &g);   /* sorted (byte order: the C locale) */
    size_t played = 0;
    for (size_t i = 0; rc == 0 && i < g.gl_pathc; i++) {
        const char *file = strrchr(g.gl_pathv[i], '/') + 1;
        if (strcmp(file, "README.txt") == 0) continue;
        char name[128];
        snprintf(name, sizeof name, "scenario_%.*s", (int)(strlen(file) - strlen(".txt")), file);
        check_current_test = name;
        unsigned long failed_before = check_failed_count;
        run_scenario(g.gl_pathv[i]);
        printf("%s %s\n", check_failed_count == failed_before ? "ok  " : "FAIL", name);
        played++;
    }
    if (rc == 0) globfree(&g);
    check_current_test = "scenarios";
    check_report(played > 0, __FILE__, __LINE__, "no scenario in tests/scenarios/turns/*.txt");
    if (played == 0) printf("FAIL scenarios\n");
}

/* One minimal turn: e2e = 100 ms + i ns. */
static void simple_turn(vt_session s, uint64_t t0, uint64_t i) {
    vt_turn_mark(s, VT_STAGE_USER_SPEECH, VT_MARK_START, t0);
    vt_turn_mark(s, VT_STAGE_USER_SPEECH, VT_MARK_END, t0 + 1000000);
    vt_turn_mark(s, VT_STAGE_AGENT_SPEECH, VT_MARK_START, t0 + 101000000 + i);
    vt_turn_mark(s, VT_STAGE_AGENT_SPEECH, VT_MARK_END, t0 + 200000000 + i);
}

TEST(error_paths) {
    vt_session s = open_session_with(VT_TEXT_REDACT, 0, 0);
    vt_token_usage u;
    memset(&u, 0, sizeof u);
    u.struct_size = sizeof u;
    size_t len = 0;
    char buf[8];
    /* Bad handles. */
    CHECK_STATUS(vt_turn_mark(0, VT_STAGE_LLM, VT_MARK_START, 1), VT_E_BAD_HANDLE);
    CHECK_STATUS(vt_turn_mark(s + 1, VT_STAGE_LLM, VT_MARK_START, 1), VT_E_BAD_HANDLE);
    CHECK_STATUS(vt_turn_value(12345, VT_TV_TTS_CHARACTERS, 1, 1), VT_E_BAD_HANDLE);
    CHECK_STATUS(vt_turn_text(0, VT_TT_USER_TRANSCRIPT, "x", 1), VT_E_BAD_HANDLE);
    CHECK_STATUS(vt_turn_usage(0, VT_STAGE_LLM, &u, 1), VT_E_BAD_HANDLE);
    CHECK_STATUS(vt_turn_error(0, VT_STAGE_LLM, 1), VT_E_BAD_HANDLE);
    CHECK_STATUS(vt_turn_provider(0, VT_STAGE_LLM, "p", NULL, 1), VT_E_BAD_HANDLE);
    CHECK_STATUS(vt_turn_fallback(0, VT_STAGE_LLM, VT_FALLBACK_SWITCH, "a", "b", NULL, 1), VT_E_BAD_HANDLE);
    CHECK_STATUS(vt_turn_tool_call(0, VT_TOOL_FUNCTION, "t", 1, 2, 1), VT_E_BAD_HANDLE);
    CHECK_STATUS(vt_turn_last_json(0, NULL, 0, &len), VT_E_BAD_HANDLE);
    CHECK_STATUS(vt_turn_history_json(0, 0, NULL, 0, &len), VT_E_BAD_HANDLE);
    /* Bad stage/mark pairs, keys, kinds, values. */
    CHECK_STATUS(vt_turn_mark(s, 0, VT_MARK_START, 1), VT_E_INVALID_ARG);
    CHECK_STATUS(vt_turn_mark(s, 99, VT_MARK_START, 1), VT_E_INVALID_ARG);
    CHECK_STATUS(vt_turn_mark(s, VT_STAGE_USER_SPEECH, VT_MARK_FIRST, 1), VT_E_INVALID_ARG);
    CHECK_STATUS(vt_turn_mark(s, VT_STAGE_STT, VT_MARK_END, 1), VT_E_INVALID_ARG);
    CHECK_STATUS(vt_turn_mark(s, VT_STAGE_TOOL, VT_MARK_START, 1), VT_E_INVALID_ARG);
    CHECK_STATUS(vt_turn_mark(s, VT_STAGE_LLM, 0, 1), VT_E_INVALID_ARG);
    CHECK_STATUS(vt_turn_value(s, 0, 1, 1), VT_E_INVALID_ARG);
    CHECK_STATUS(vt_turn_value(s, 10, 1, 1), VT_E_INVALID_ARG);
    CHECK_STATUS(vt_turn_value(s, VT_TV_STT_CONFIDENCE, 1.5, 1), VT_E_INVALID_ARG);
    CHECK_STATUS(vt_turn_value(s, VT_TV_STT_CONFIDENCE, -0.1, 1), VT_E_INVALID_ARG);
    CHECK_STATUS(vt_turn_value(s, VT_TV_EOU_WAIT_SECONDS, 1e7, 1), VT_E_INVALID_ARG);
    CHECK_STATUS(vt_turn_value(s, VT_TV_TTS_CHARACTERS, 1.5, 1), VT_E_INVALID_ARG);
    CHECK_STATUS(vt_turn_value(s, VT_TV_TTS_CHARACTERS, 1e300, 1), VT_E_INVALID_ARG);
    CHECK_STATUS(vt_turn_value(s, VT_TV_TTS_CHARACTERS, 0.0 / 0.0, 1), VT_E_INVALID_ARG);
    CHECK_STATUS(vt_turn_text(s, 0, "x", 1), VT_E_INVALID_ARG);
    CHECK_STATUS(vt_turn_text(s, VT_TT_USER_TRANSCRIPT, NULL, 1), VT_E_INVALID_ARG);
    CHECK_STATUS(vt_turn_text(s, VT_TT_USER_TRANSCRIPT, "bad \xC3\x28 utf8", 1), VT_E_INVALID_ARG);
    CHECK_STATUS(vt_turn_text(s, VT_TT_USER_TRANSCRIPT, "\xED\xA0\x80", 1), VT_E_INVALID_ARG); /* surrogate */
    CHECK_STATUS(vt_turn_text(s, VT_TT_USER_TRANSCRIPT, "\xE0\x80\xAF", 1), VT_E_INVALID_ARG); /* overlong */
    CHECK_STATUS(vt_turn_usage(s, VT_STAGE_LLM, NULL, 1), VT_E_INVALID_ARG);
    CHECK_STATUS(vt_turn_usage(s, VT_STAGE_EOU, &u, 1), VT_E_INVALID_ARG);
    u.struct_size = 4;
    CHECK_STATUS(vt_turn_usage(s, VT_STAGE_LLM, &u, 1), VT_E_INVALID_ARG);
    u.struct_size = sizeof u;
    u.input = (int64_t)1 << 41;
    CHECK_STATUS(vt_turn_usage(s, VT_STAGE_LLM, &u, 1), VT_E_INVALID_ARG);
    CHECK_STATUS(vt_turn_error(s, 0, 1), VT_E_INVALID_ARG);
    CHECK_STATUS(vt_turn_error(s, TURN_STAGE_COUNT, 1), VT_E_INVALID_ARG);   /* the first unknown */
    CHECK_STATUS(vt_turn_provider(s, VT_STAGE_AGENT_SPEECH, "p", NULL, 1), VT_E_INVALID_ARG);
    CHECK_STATUS(vt_turn_provider(s, VT_STAGE_LLM, NULL, NULL, 1), VT_E_INVALID_ARG);
    CHECK_STATUS(vt_turn_provider(s, VT_STAGE_LLM, "", NULL, 1), VT_E_INVALID_ARG);
    CHECK_STATUS(vt_turn_provider(s, VT_STAGE_LLM, "p", "\xff", 1), VT_E_INVALID_ARG);
    char longname[300];
    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = 0;
    CHECK_STATUS(vt_turn_provider(s, VT_STAGE_LLM, longname, NULL, 1), VT_E_INVALID_ARG);
    CHECK_STATUS(vt_turn_fallback(s, VT_STAGE_LLM, 3, "a", "b", NULL, 1), VT_E_INVALID_ARG);
    CHECK_STATUS(vt_turn_fallback(s, 0, VT_FALLBACK_SWITCH, "a", "b", NULL, 1), VT_E_INVALID_ARG);
    CHECK_STATUS(vt_turn_fallback(s, VT_STAGE_LLM, VT_FALLBACK_SWITCH, NULL, "b", NULL, 1), VT_E_INVALID_ARG);
    CHECK_STATUS(vt_turn_fallback(s, VT_STAGE_LLM, VT_FALLBACK_SWITCH, "a", "", NULL, 1), VT_E_INVALID_ARG);
    CHECK_STATUS(vt_turn_tool_call(s, 0, "t", 1, 2, 1), VT_E_INVALID_ARG);
    CHECK_STATUS(vt_turn_tool_call(s, VT_TOOL_MCP, NULL, 1, 2, 1), VT_E_INVALID_ARG);
    CHECK_STATUS(vt_turn_tool_call(s, VT_TOOL_MCP, "t", 1, 2, 2), VT_E_INVALID_ARG);
    CHECK_CONTAINS(vt_last_error(), "ok is 2");
    /* Buffer contract. */
    CHECK_STATUS(vt_turn_last_json(s, buf, sizeof buf, NULL), VT_E_INVALID_ARG);
    CHECK_STATUS(vt_turn_last_json(s, NULL, 5, &len), VT_E_INVALID_ARG);
    CHECK_STATUS(vt_turn_last_json(s, buf, sizeof buf, &len), VT_OK);
    CHECK_STR_EQ(buf, "null");
    CHECK_EQ_U64(len, 4);
    CHECK_STATUS(vt_turn_history_json(s, 0, buf, sizeof buf, &len), VT_OK);
    CHECK_STR_EQ(buf, "[]");
    simple_turn(s, 1000000000, 0);
    CHECK_STATUS(vt_turn_last_json(s, buf, sizeof buf, &len), VT_E_BUFFER_TOO_SMALL);
    CHECK(len > 100);
    char *big = malloc(len + 1);
    CHECK_STATUS(vt_turn_last_json(s, big, len + 1, &len), VT_OK);
    CHECK_EQ_U64(strlen(big), len);
    free(big);
    CHECK_STATUS(vt_end_session(s), VT_OK);
    CHECK_STATUS(vt_turn_mark(s, VT_STAGE_LLM, VT_MARK_START, 1), VT_E_BAD_HANDLE);
    CHECK_STATUS(vt_turn_last_json(s, NULL, 0, &len), VT_E_BAD_HANDLE);
}

TEST(text_policy) {
    /* Redacted by default: only the length. */
    vt_session s = open_session_with(VT_TEXT_REDACT, 0, 0);
    CHECK_STATUS(vt_turn_text(s, VT_TT_USER_TRANSCRIPT, "secret words", 1000000000), VT_OK);
    simple_turn(s, 1000000000, 0);
    char *j = json_of(vt_turn_last_json, s);
    CHECK_CONTAINS(j, "\"user_transcript\":{\"chars\":12,\"redacted\":true,\"truncated\":false}");
    CHECK(j && strstr(j, "secret") == NULL);
    free(j);
    vt_end_session(s);
    /* Included, truncated to 5 characters on a character boundary (é is one character). */
    s = open_session_with(VT_TEXT_INCLUDE, 5, 0);
    CHECK_STATUS(vt_turn_text(s, VT_TT_AGENT_RESPONSE, "h\xC3\xA9llo \"world\"\n", 1000000000), VT_OK);
    CHECK_STATUS(vt_turn_text(s, VT_TT_STT_PREFLIGHT, "a\"b\\c", 1000000000), VT_OK);
    simple_turn(s, 1000000000, 0);
    j = json_of(vt_turn_last_json, s);
    CHECK_CONTAINS(j, "\"agent_response\":{\"chars\":14,\"redacted\":false,\"truncated\":true,\"text\":\"h\xC3\xA9llo\"}");
    CHECK_CONTAINS(j, "\"stt_preflight\":{\"chars\":5,\"redacted\":false,\"truncated\":false,\"text\":\"a\\\"b\\\\c\"}");
    free(j);
    vt_end_session(s);
}

TEST(history_ring) {
    vt_session s = open_session_with(VT_TEXT_REDACT, 0, 4);
    for (uint64_t i = 0; i < 10; i++) simple_turn(s, 1000000000 * (i + 1), i);
    char *h = json_of(history_all, s);
    CHECK(h && h[0] == '[');
    CHECK(h && strstr(h, "\"turn_id\":6,") == NULL);
    CHECK_CONTAINS(h, "\"turn_id\":7,");
    CHECK_CONTAINS(h, "\"turn_id\":10,");
    free(h);
    size_t len = 0;
    char buf[65536];
    CHECK_STATUS(vt_turn_history_json(s, 2, buf, sizeof buf, &len), VT_OK);
    CHECK(strstr(buf, "\"turn_id\":8,") == NULL);
    CHECK_CONTAINS(buf, "\"turn_id\":9,");
    char *last = json_of(vt_turn_last_json, s);
    CHECK_CONTAINS(last, "\"turn_id\":10,");
    CHECK_CONTAINS(last, "\"e2e_latency_ns\":100000009,");
    free(last);
    char *snap = json_of(vt_snapshot_json, s);
    /* p50 over the ring's 4 turns (e2e 100000006..9 ns): nearest rank 2 -> ...7; p95 -> ...9. */
    CHECK_CONTAINS(snap, "\"e2e_latency_ns\":{\"count\":4,\"p50\":100000007,\"p95\":100000009}");
    CHECK_CONTAINS(snap, "\"completed\":10,");
    free(snap);
    vt_end_session(s);
}

TEST(session_end_completes_open_turn) {
    vt_session s = open_session_with(VT_TEXT_REDACT, 0, 0);
    vt_turn_mark(s, VT_STAGE_USER_SPEECH, VT_MARK_START, 1000000000);
    vt_turn_mark(s, VT_STAGE_USER_SPEECH, VT_MARK_END, 2000000000);
    vt_turn_mark(s, VT_STAGE_AGENT_SPEECH, VT_MARK_START, 2500000000u);
    char *before = prom_text();
    CHECK_STATUS(vt_end_session(s), VT_OK);
    char *after = prom_text();
    /* One more completed turn with no transport label. */
    const char *key = "voicetelemetry_turn_outcomes_total{outcome=\"completed\"} ";
    const char *b = before ? strstr(before, key) : NULL, *a = after ? strstr(after, key) : NULL;
    double vb = b ? strtod(b + strlen(key), NULL) : 0, va = a ? strtod(a + strlen(key), NULL) : -1;
    CHECK(va == vb + 1);
    free(before);
    free(after);
}

/* Counts up to the documented 2^40 are kept exactly; a backwards tool call is flagged. */
TEST(large_counts_and_backwards_tool_calls) {
    vt_session s = open_session_with(VT_TEXT_REDACT, 0, 0);
    vt_turn_mark(s, VT_STAGE_USER_SPEECH, VT_MARK_START, 1000000000);
    vt_turn_mark(s, VT_STAGE_USER_SPEECH, VT_MARK_END, 2000000000);
    CHECK_STATUS(vt_turn_value(s, VT_TV_TTS_CHARACTERS, 1099511627775.0, 2100000000), VT_OK);
    CHECK_STATUS(vt_turn_value(s, VT_TV_TTS_AUDIO_BYTES, 1099511627775.0, 2100000000), VT_OK);
    CHECK_STATUS(vt_turn_value(s, VT_TV_TTS_CHARACTERS, 1099511627776.0, 2100000000), VT_E_INVALID_ARG);
    CHECK_STATUS(vt_turn_tool_call(s, VT_TOOL_FUNCTION, "lookup", 2300000000u, 2200000000u, 1), VT_OK);
    vt_turn_mark(s, VT_STAGE_AGENT_SPEECH, VT_MARK_START, 2500000000u);
    vt_turn_mark(s, VT_STAGE_AGENT_SPEECH, VT_MARK_END, 3500000000u);
    char buf[16384];
    size_t len = 0;
    CHECK_STATUS(vt_turn_last_json(s, buf, sizeof buf, &len), VT_OK);
    CHECK_CONTAINS(buf, "\"tts_characters_generated\":1099511627775");
    CHECK_CONTAINS(buf, "\"duration_ns\":null");
    CHECK_CONTAINS(buf, "\"out_of_order\"");
    CHECK_STATUS(vt_end_session(s), VT_OK);
}

/* Many concurrent sessions, each with its own exact numbers. */
#define THREADS 4
#define SESSIONS_PER_THREAD 100
static void *session_worker(void *arg) {
    uintptr_t id = (uintptr_t)arg;
    int *bad = calloc(1, sizeof *bad);
    for (int k = 0; k < SESSIONS_PER_THREAD; k++) {
        vt_session_config cfg;
        memset(&cfg, 0, sizeof cfg);
        cfg.struct_size = sizeof cfg;
        vt_label label = {"transport", "concurrent"};
        cfg.labels = &label;
        cfg.n_labels = 1;
        vt_session s = 0;
        if (vt_create_session(&cfg, &s) != VT_OK) { (*bad)++; continue; }
        uint64_t extra = id * 1000 + (uint64_t)k;
        for (int t = 0; t < 3; t++) simple_turn(s, 1000000000ull * (uint64_t)(t + 1), extra);
        char buf[8192];
        size_t len = 0;
        char want[64];
        snprintf(want, sizeof want, "\"e2e_latency_ns\":%llu,", (unsigned long long)(100000000ull + extra));
        if (vt_turn_last_json(s, buf, sizeof buf, &len) != VT_OK || !strstr(buf, want) || !strstr(buf, "\"turn_id\":3,"))
            (*bad)++;
        if (vt_end_session(s) != VT_OK) (*bad)++;
    }
    return bad;
}

TEST(concurrent_sessions) {
    pthread_t th[THREADS];
    for (uintptr_t i = 0; i < THREADS; i++) pthread_create(&th[i], NULL, session_worker, (void *)i);
    int bad = 0;
    for (int i = 0; i < THREADS; i++) {
        void *r = NULL;
        pthread_join(th[i], &r);
        if (r) { bad += *(int *)r; free(r); }
    }
    CHECK_EQ_U64(bad, 0);
    char *p = prom_text();
    char want[128];
    snprintf(want, sizeof want, "voicetelemetry_turn_outcomes_total{outcome=\"completed\",transport=\"concurrent\"} %d\n",
             THREADS * SESSIONS_PER_THREAD * 3);
    CHECK_CONTAINS(p, want);
    free(p);
}

/* Several threads record stage events into one session while another reads: no crash, parses. */
static vt_session shared_session;
static void *shared_writer(void *arg) {
    (void)arg;
    for (uint64_t i = 0; i < 2000; i++) simple_turn(shared_session, 1000000000ull + i * 1000000000ull, 0);
    return NULL;
}

TEST(one_session_many_threads) {
    shared_session = open_session_with(VT_TEXT_INCLUDE, 0, 8);
    pthread_t th[3];
    for (int i = 0; i < 3; i++) pthread_create(&th[i], NULL, shared_writer, NULL);
    for (int i = 0; i < 50; i++) {
        char *h = json_of(history_all, shared_session);
        CHECK(h != NULL && h[0] == '[');
        free(h);
    }
    for (int i = 0; i < 3; i++) pthread_join(th[i], NULL);
    CHECK_STATUS(vt_end_session(shared_session), VT_OK);
}

TEST(promtool_clean) {
    char *p = prom_text();
    CHECK(p != NULL);
    if (!p) return;
    CHECK_CONTAINS(p, "# TYPE voicetelemetry_turn_e2e_latency_seconds histogram");
    CHECK_CONTAINS(p, "# TYPE voicetelemetry_turn_e2e_latency_seconds_quantiles summary");
    if (system("command -v promtool >/dev/null 2>&1") == 0) {
        FILE *f = fopen("build/tests/turns_prom.txt", "w");
        CHECK(f != NULL);
        if (f) {
            fputs(p, f);
            fclose(f);
            int rc = system("promtool check metrics < build/tests/turns_prom.txt > build/tests/turns_promtool.out 2>&1");
            CHECK(rc == 0);
            FILE *o = fopen("build/tests/turns_promtool.out", "r");
            char line[256] = "";
            int findings = o && fgets(line, sizeof line, o) != NULL;
            if (findings) fprintf(stderr, "promtool: %s", line);
            CHECK(!findings);
            if (o) fclose(o);
        }
    }
    free(p);
}

int main(void) {
    run_scenarios();
    RUN(error_paths);
    RUN(text_policy);
    RUN(history_ring);
    RUN(session_end_completes_open_turn);
    RUN(large_counts_and_backwards_tool_calls);
    RUN(concurrent_sessions);
    RUN(one_session_many_threads);
    RUN(promtool_clean);
    return check_summary();
}
