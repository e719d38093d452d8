/*
 * test_regressions.c -- one test per defect that the fuzzing and hostile-input campaign of issue 18
 * found (the hang after fork has its own file, test_fork.c). Each test failed before its fix.
 *
 * The over-read test needs AddressSanitizer to bite: `make test-asan` runs this file against an
 * ASan build of the library, where a read past the NUL of a heap string is a reported error.
 */
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <unistd.h>

#include "check.h"

#define JSONL "build/plugins/jsonl_sink.so"

static vt_session open_session(void) { return open_session_with(0, 0, 8); }

/* The whole Prometheus text (a static buffer: one caller at a time). */
static const char *prom_text(void) {
    static char text[1 << 20];
    size_t len = 0;
    CHECK_STATUS(vt_prom_text(text, sizeof text, &len), VT_OK);
    return text;
}

static const char *snapshot(vt_session s) {
    static char json[1 << 16];
    size_t len = 0;
    CHECK_STATUS(vt_snapshot_json(s, json, sizeof json, &len), VT_OK);
    return json;
}

/* The number after `"key":` in a JSON text (the first occurrence), as a double; NAN if absent. */
static double json_number(const char *json, const char *key) {
    char pattern[128];
    snprintf(pattern, sizeof pattern, "\"%s\":", key);
    const char *at = strstr(json, pattern);
    return at ? strtod(at + strlen(pattern), NULL) : NAN;
}

/* The value of the sample line that starts with `series ` in the Prometheus text; NAN if absent. */
static double prom_value(const char *series) {
    const char *text = prom_text();
    size_t n = strlen(series);
    for (const char *line = text; line && *line; line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
        if (strncmp(line, series, n) == 0 && line[n] == ' ') return strtod(line + n + 1, NULL);
    }
    return NAN;
}

/* A copy of `text` in a heap block of exactly its length plus the NUL. */
static char *exact_heap_copy(const char *text) {
    size_t n = strlen(text);
    char *copy = malloc(n + 1);
    memcpy(copy, text, n + 1);
    return copy;
}

/* Defect 1: vt_emit scanned event types and ids eight bytes at a time, up to 7 bytes past the NUL. */
TEST(emit_reads_no_byte_past_the_end_of_its_strings) {
    vt_session s = open_session();
    char text[200];
    unsigned long refused = 0;
    for (int n = 1; n <= 130; n++) {
        for (int i = 0; i < n; i++) text[i] = "abcdefgh_.:/-012"[i % 16];
        text[n] = '\0';
        char *type = exact_heap_copy(text);
        char *id = exact_heap_copy(text);
        vt_status want_type = n <= VT_MAX_EVENT_TYPE_BYTES ? VT_OK : VT_E_INVALID_ARG;
        if (vt_emit(s, type, "{\"n\":1}", id, id, 0) != want_type) refused++;
        if (vt_emit(s, "t", "{}", id, NULL, 0) != VT_OK) refused++;   /* ids: any n <= 128 */
        free(type);
        free(id);
    }
    CHECK_EQ_U64(refused, 2);   /* ids of 129 and 130 bytes */
    CHECK_STATUS(vt_end_session(s), VT_OK);
}

/* Defect 3: -0.0 was accepted with its sign bit, which then stuck in the family's maximum. */
TEST(negative_zero_is_zero_on_every_double_path) {
    CHECK_STATUS(vt_observe("reg_negzero_seconds", "h", NULL, 0, -0.0), VT_OK);
    CHECK_STATUS(vt_observe("reg_negzero_seconds", "h", NULL, 0, 0.5), VT_OK);
    /* The quantile estimate of the fine histogram (within 2% of 0.5), no longer clamped to -0. */
    CHECK(prom_value("reg_negzero_seconds_quantiles{quantile=\"0.99\"}") == 0.499122176);
    CHECK(prom_value("reg_negzero_seconds_sum") == 0.5);
    CHECK_STATUS(vt_gauge_set("reg_negzero_gauge", "h", NULL, 0, -0.0), VT_OK);
    CHECK_CONTAINS(prom_text(), "\nreg_negzero_gauge 0\n");
    CHECK_STATUS(vt_counter_add("reg_negzero_total", "h", NULL, 0, -0.0), VT_OK);
    CHECK_CONTAINS(prom_text(), "\nreg_negzero_total 0\n");
    double bounds[] = {-0.0, 1};
    CHECK_STATUS(vt_set_buckets("reg_negzero_bounds_seconds", bounds, 2), VT_OK);
    CHECK_STATUS(vt_observe("reg_negzero_bounds_seconds", "h", NULL, 0, 0), VT_OK);
    CHECK(prom_value("reg_negzero_bounds_seconds_bucket{le=\"0\"}") == 1);

    vt_session s = open_session();
    CHECK_STATUS(vt_turn_mark(s, VT_STAGE_STT, VT_MARK_START, 500), VT_OK);
    CHECK_STATUS(vt_turn_value(s, VT_TV_STT_CONFIDENCE, -0.0, 1000), VT_OK);
    CHECK_STATUS(vt_turn_mark(s, VT_STAGE_STT, VT_MARK_FINAL, 2000), VT_OK);
    CHECK_STATUS(vt_record_turn_complete(s, 3000), VT_OK);
    char json[16384];
    size_t len;
    CHECK_STATUS(vt_turn_last_json(s, json, sizeof json, &len), VT_OK);
    CHECK_CONTAINS(json, "\"confidence\":0,");
    CHECK_STATUS(vt_end_session(s), VT_OK);
}

/* Defect 3 (the rest of the double inputs): NaN and infinities are refused everywhere; extreme
 * finite values are kept exactly (the exposition prints a number that reads back to the value). */
TEST(non_finite_doubles_are_refused_and_extreme_ones_kept_exactly) {
    const double bad[] = {NAN, -NAN, INFINITY, -INFINITY};
    vt_session s = open_session();
    for (int i = 0; i < 4; i++) {
        CHECK_STATUS(vt_observe("reg_bad_seconds", "h", NULL, 0, bad[i]), VT_E_INVALID_ARG);
        CHECK_STATUS(vt_gauge_set("reg_bad_gauge", "h", NULL, 0, bad[i]), VT_E_INVALID_ARG);
        CHECK_STATUS(vt_gauge_add("reg_bad_gauge", "h", NULL, 0, bad[i]), VT_E_INVALID_ARG);
        CHECK_STATUS(vt_counter_add("reg_bad_total", "h", NULL, 0, bad[i]), VT_E_INVALID_ARG);
        CHECK_STATUS(vt_turn_value(s, VT_TV_STT_CONFIDENCE, bad[i], 1), VT_E_INVALID_ARG);
        double bounds[] = {0.1, bad[i]};
        CHECK_STATUS(vt_set_buckets("reg_bad_bounds_seconds", bounds, 2), VT_E_INVALID_ARG);
    }
    CHECK_STATUS(vt_observe("reg_bad_seconds", "h", NULL, 0, -1e-300), VT_E_INVALID_ARG);
    CHECK_STATUS(vt_end_session(s), VT_OK);

    const double extreme[] = {4.9406564584124654e-324, 2.2250738585072014e-308, 1.7976931348623157e308,
                              -1.7976931348623157e308, 0.1, 1e21, 1e-7, 123456789012345678.0};
    for (int i = 0; i < 8; i++) {
        CHECK_STATUS(vt_gauge_set("reg_extreme_gauge", "h", NULL, 0, extreme[i]), VT_OK);
        double shown = prom_value("reg_extreme_gauge");
        char m[128];
        snprintf(m, sizeof m, "gauge %.17g reads back as %.17g", extreme[i], shown);
        check_report(shown == extreme[i], __FILE__, __LINE__, m);
    }
    CHECK_STATUS(vt_observe("reg_subnormal_seconds", "h", NULL, 0, 4.9406564584124654e-324), VT_OK);
    CHECK(prom_value("reg_subnormal_seconds_sum") == 4.9406564584124654e-324);
    CHECK(prom_value("reg_subnormal_seconds_count") == 1);
}

/* Defect 4: the per-session latency sum (UInt64 ns) wrapped with extreme accepted timestamps. */
TEST(latency_sums_do_not_wrap) {
    vt_session s = open_session();
    const uint64_t end = UINT64_MAX - 1;
    for (int i = 0; i < 3; i++) {
        CHECK_STATUS(vt_record_vad_end(s, 1), VT_OK);
        CHECK_STATUS(vt_record_audio_out(s, 10, end), VT_OK);
    }
    const char *json = snapshot(s);
    CHECK_EQ_U64((uint64_t)json_number(json, "response_count"), 3);
    double latency_ms = (double)(end - 1) / 1e6;
    CHECK(json_number(json, "max_response_latency_ms") == latency_ms);
    CHECK(json_number(json, "avg_response_latency_ms") == latency_ms);
    CHECK_STATUS(vt_end_session(s), VT_OK);
}

/* Defect 5: token totals wrapped negative after 2^23 reports of values just below 2^40. */
TEST(token_totals_saturate_and_say_so) {
    vt_session s = open_session();
    vt_usage u = {sizeof u, (1LL << 40) - 1, -1, -1, -1, -1};
    unsigned long failed = 0;
    for (long i = 0; i < (1L << 23); i++) failed += vt_record_usage(s, &u) != VT_OK;
    CHECK_EQ_U64(failed, 0);
    const char *json = snapshot(s);
    char want[128];
    snprintf(want, sizeof want, "\"token_totals\":{\"total\":%lld,", (long long)((1LL << 40) - 1) << 23);
    CHECK_CONTAINS(json, want);
    CHECK_CONTAINS(json, "\"token_totals_saturated\":false");
    CHECK_STATUS(vt_record_usage(s, &u), VT_OK);
    json = snapshot(s);
    CHECK_CONTAINS(json, "\"token_totals\":{\"total\":9223372036854775807,\"prompt\":0,");
    CHECK_CONTAINS(json, "\"token_totals_saturated\":true");
    CHECK_STATUS(vt_end_session(s), VT_OK);
}

/* Defect 6: VT_STAGE_INTERRUPTION START marked the turn but did not count the interruption. */
TEST(interruption_stage_start_is_vt_record_interruption) {
    vt_session a = open_session(), b = open_session();
    double before = prom_value("voicetelemetry_interruptions_total");
    const uint64_t t[] = {1000, 2000, 3000, 4000};
    vt_session both[] = {a, b};
    for (int k = 0; k < 2; k++) {
        vt_session s = both[k];
        CHECK_STATUS(vt_record_vad_start(s, t[0]), VT_OK);
        CHECK_STATUS(vt_record_vad_end(s, t[1]), VT_OK);
        CHECK_STATUS(vt_record_audio_out(s, 100, t[2]), VT_OK);
        if (k == 0) CHECK_STATUS(vt_record_interruption(s, t[3]), VT_OK);
        else CHECK_STATUS(vt_turn_mark(s, VT_STAGE_INTERRUPTION, VT_MARK_START, t[3]), VT_OK);
    }
    char ja[65536], jb[65536];
    size_t len;
    CHECK_STATUS(vt_snapshot_json_at(a, 5000, ja, sizeof ja, &len), VT_OK);
    CHECK_STATUS(vt_snapshot_json_at(b, 5000, jb, sizeof jb, &len), VT_OK);
    CHECK_EQ_U64((uint64_t)json_number(ja, "interruptions"), 1);
    CHECK_EQ_U64((uint64_t)json_number(jb, "interruptions"), 1);
    /* The two snapshots are the same apart from the session id and trace. */
    CHECK_STR_EQ(snapshot_numbers(ja), snapshot_numbers(jb));
    CHECK(prom_value("voicetelemetry_interruptions_total") == before + 2);
    CHECK_STATUS(vt_end_session(a), VT_OK);
    CHECK_STATUS(vt_end_session(b), VT_OK);
}

/* Defect 7: a bad help text was refused or accepted depending on whether the series was cached. */
TEST(a_bad_help_text_is_refused_every_time) {
    static char long_help[4098];
    memset(long_help, 'h', 4097);
    const char *bad[] = {"\xff not UTF-8", "\xed\xa0\x80 a surrogate", long_help};
    vt_label l = {"transport", "sip"};
    CHECK_STATUS(vt_counter_add("reg_help_total", "good help", &l, 1, 1), VT_OK);
    for (int i = 0; i < 3; i++) {
        for (int round = 0; round < 2; round++) {
            CHECK_STATUS(vt_counter_add("reg_help_total", bad[i], &l, 1, 1), VT_E_INVALID_ARG);
            CHECK_STATUS(vt_gauge_set("reg_help_gauge", bad[i], NULL, 0, 1), VT_E_INVALID_ARG);
            CHECK_STATUS(vt_observe("reg_help_seconds", bad[i], NULL, 0, 1), VT_E_INVALID_ARG);
        }
    }
    CHECK(prom_value("reg_help_total{transport=\"sip\"}") == 1);
    CHECK_STATUS(vt_counter_add("reg_help_total", NULL, &l, 1, 1), VT_OK);   /* NULL: no help */
    CHECK(prom_value("reg_help_total{transport=\"sip\"}") == 2);
}

/* Defect 8: a payload longer than VT_MAX_EVENT_BYTES was refused even when the event it makes
 * (compacted, transcripts redacted) fits. */
TEST(event_size_is_judged_on_the_event_delivered) {
    char path[] = "/tmp/vt-regressions-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    close(fd);
    char config[256];
    snprintf(config, sizeof config, "{\"path\":\"%s\"}", path);
    vt_plugin_id id = 0;
    CHECK_STATUS(vt_load_plugin(JSONL, config, &id), VT_OK);
    vt_session s = open_session();

    static char payload[VT_MAX_EVENT_PAYLOAD_BYTES + 2];
    /* 6000 bytes of whitespace around a small object: compact, it is 13 bytes. */
    memset(payload, ' ', 6000);
    memcpy(payload + 3000, "{\"a\":[1,2,3]}", 13);
    payload[6000] = '\0';
    CHECK_STATUS(vt_emit(s, "reg.spaces", payload, NULL, NULL, 1000), VT_OK);
    /* A 8000-character transcript: redacted, it is "[redacted 8000 chars]". */
    strcpy(payload, "{\"transcript\":\"");
    size_t at = strlen(payload);
    memset(payload + at, 'x', 8000);
    strcpy(payload + at + 8000, "\"}");
    CHECK_STATUS(vt_emit(s, "reg.transcript", payload, NULL, NULL, 2000), VT_OK);
    /* What really does not fit is still refused, whatever its raw size. */
    strcpy(payload, "{\"data\":\"");
    memset(payload + 9, 'y', 5000);
    strcpy(payload + 9 + 5000, "\"}");
    CHECK_STATUS(vt_emit(s, "reg.big", payload, NULL, NULL, 3000), VT_E_LIMIT);
    memset(payload, ' ', VT_MAX_EVENT_PAYLOAD_BYTES + 1);
    payload[VT_MAX_EVENT_PAYLOAD_BYTES + 1] = '\0';
    CHECK_STATUS(vt_emit(s, "reg.huge", payload, NULL, NULL, 4000), VT_E_LIMIT);
    CHECK_CONTAINS(vt_last_error(), "VT_MAX_EVENT_PAYLOAD_BYTES");

    CHECK_STATUS(vt_flush_events(5000), VT_OK);
    vt_plugin_statistics st;
    memset(&st, 0, sizeof st);
    st.struct_size = sizeof st;
    CHECK_STATUS(vt_plugin_stats(id, &st), VT_OK);
    CHECK_EQ_U64(st.dropped_too_large, 2);
    CHECK_STATUS(vt_end_session(s), VT_OK);
    CHECK_STATUS(vt_unload_plugin(id), VT_OK);

    FILE *f = fopen(path, "r");
    static char line[8192];
    int spaces = 0, transcript = 0;
    while (f && fgets(line, sizeof line, f)) {
        if (strstr(line, "\"event_type\":\"reg.spaces\"")) spaces += strstr(line, "\"data\":{\"a\":[1,2,3]}}") != NULL;
        if (strstr(line, "\"event_type\":\"reg.transcript\""))
            transcript += strstr(line, "\"data\":{\"transcript\":\"[redacted 8000 chars]\"}}") != NULL;
    }
    if (f) fclose(f);
    CHECK_EQ_U64(spaces, 1);
    CHECK_EQ_U64(transcript, 1);
    unlink(path);
}

int main(void) {
    RUN(emit_reads_no_byte_past_the_end_of_its_strings);
    RUN(negative_zero_is_zero_on_every_double_path);
    RUN(non_finite_doubles_are_refused_and_extreme_ones_kept_exactly);
    RUN(latency_sums_do_not_wrap);
    RUN(token_totals_saturate_and_say_so);
    RUN(interruption_stage_start_is_vt_record_interruption);
    RUN(a_bad_help_text_is_refused_every_time);
    RUN(event_size_is_judged_on_the_event_delivered);
    return check_summary();
}
