/*
 * test_core.c -- the core C ABI, tested from C against the header and the release .so:
 * versions, statuses, sessions, record calls, batch, snapshot, metrics, exposition, threads.
 * Every timestamp is explicit, so every expected number is exact.
 */
#include <math.h>
#include <pthread.h>
#include <unistd.h>

#include "check.h"
#include "scenario.h"

#define SEC 1000000000ull
#define MS 1000000ull

static char big[1 << 20];

/* Create a session (optionally with a transport label); *status receives the result, unchecked
 * (for loops whose number of tries depends on timing). */
static vt_session try_open_session(const char *id, const char *transport, uint64_t start, vt_status *status) {
    vt_label labels[] = {{"transport", transport}};
    vt_session_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.struct_size = sizeof cfg;
    cfg.session_id = id;
    cfg.labels = labels;
    cfg.n_labels = transport ? 1 : 0;
    cfg.start_t_ns = start;
    vt_session s = 0;
    *status = vt_create_session(&cfg, &s);
    return s;
}

static vt_session open_session(const char *id, const char *transport, uint64_t start) {
    vt_status status;
    vt_session s = try_open_session(id, transport, start, &status);
    CHECK_STATUS(status, VT_OK);
    return s;
}

static const char *snapshot_at(vt_session s, uint64_t now) {
    size_t len = 0;
    CHECK_STATUS(vt_snapshot_json_at(s, now, big, sizeof big, &len), VT_OK);
    return big;
}

static const char *prom(void) {
    size_t len = 0;
    CHECK_STATUS(vt_prom_text(big, sizeof big, &len), VT_OK);
    return big;
}

/* The value of one sample line "<series> <value>" in the Prometheus text, or NAN. */
static double prom_value(const char *series) {
    const char *text = prom();
    size_t n = strlen(series);
    for (const char *line = text; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
        if (strncmp(line, series, n) == 0 && line[n] == ' ') return strtod(line + n + 1, NULL);
    }
    return NAN;
}

/* ---- versions, statuses, errors, clock ------------------------------------------------------- */

TEST(version_matches_header) {
    CHECK_EQ_U64(vt_version_number(), VT_VERSION_NUMBER);
    CHECK_STR_EQ(vt_version_string(), VERSION_TEXT);
}

TEST(status_strings_are_static_and_distinct) {
    CHECK_STR_EQ(vt_status_str(VT_OK), "ok");
    CHECK_STR_EQ(vt_status_str(VT_E_INVALID_ARG), "invalid argument");
    CHECK_STR_EQ(vt_status_str(VT_E_BAD_HANDLE), "unknown or ended session handle");
    CHECK_STR_EQ(vt_status_str(VT_E_BUFFER_TOO_SMALL), "buffer too small");
    CHECK_STR_EQ(vt_status_str(VT_E_LIMIT), "limit reached");
    CHECK_STR_EQ(vt_status_str(VT_E_ORDER), "call out of order");
    CHECK_STR_EQ(vt_status_str(VT_E_INTERNAL), "internal error");
    CHECK_STR_EQ(vt_status_str(VT_E_NOT_FOUND), "not found");
    CHECK_STR_EQ(vt_status_str(VT_E_PLUGIN), "plugin refused or failed");
    CHECK_STR_EQ(vt_status_str(VT_E_PERMISSION), "permission refused");
    CHECK_STR_EQ(vt_status_str(-1000), "unknown status");
    CHECK_STR_EQ(vt_status_str(42), "unknown status");
}

static void *fresh_thread_last_error(void *out) {
    *(const char **)out = vt_last_error();
    return NULL;
}

TEST(last_error_is_per_thread) {
    CHECK_STATUS(vt_end_session(12345), VT_E_BAD_HANDLE);
    CHECK_CONTAINS(vt_last_error(), "12345");
    const char *other = NULL;
    pthread_t t;
    pthread_create(&t, NULL, fresh_thread_last_error, &other);
    pthread_join(t, NULL);
    CHECK_STR_EQ(other, "");
    /* A success does not clear it. */
    CHECK_STATUS(vt_end_session(0), VT_OK);
    CHECK_CONTAINS(vt_last_error(), "12345");
}

TEST(clock_is_monotonic) {
    uint64_t a = vt_now_ns(), b = vt_now_ns();
    CHECK(a > 0);
    CHECK(b >= a);
}

/* ---- sessions -------------------------------------------------------------------------------- */

TEST(create_with_defaults_generates_an_id) {
    vt_session s = 0;
    CHECK_STATUS(vt_create_session(NULL, &s), VT_OK);
    CHECK(s != 0);
    const char *json = snapshot_at(s, 0);
    CHECK_CONTAINS(json, "\"session_id\":\"vt-");
    CHECK_CONTAINS(json, "\"labels\":{}");
    vt_session t = 0;
    CHECK_STATUS(vt_create_session(NULL, &t), VT_OK);
    CHECK(t != s);
    char a[64], b[64];
    scenario_value_text(scenario_find_value(snapshot_at(s, 0), "session_id"), a, sizeof a);
    scenario_value_text(scenario_find_value(snapshot_at(t, 0), "session_id"), b, sizeof b);
    CHECK(strlen(a) == 21 && strcmp(a, b) != 0); /* "vt-" + 16 hex digits, quoted; distinct */
    CHECK_STATUS(vt_end_session(s), VT_OK);
    CHECK_STATUS(vt_end_session(t), VT_OK);
}

TEST(create_rejects_bad_configs) {
    vt_session s = 77;
    vt_session_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.struct_size = sizeof cfg;
    CHECK_STATUS(vt_create_session(&cfg, NULL), VT_E_INVALID_ARG);
    CHECK_CONTAINS(vt_last_error(), "out is NULL");

    cfg.struct_size = 0;
    CHECK_STATUS(vt_create_session(&cfg, &s), VT_E_INVALID_ARG);
    CHECK_CONTAINS(vt_last_error(), "struct_size");
    cfg.struct_size = sizeof cfg;

    cfg.session_id = "";
    CHECK_STATUS(vt_create_session(&cfg, &s), VT_E_INVALID_ARG);
    char long_id[300];
    memset(long_id, 'a', sizeof long_id - 1);
    long_id[sizeof long_id - 1] = 0;
    cfg.session_id = long_id;
    CHECK_STATUS(vt_create_session(&cfg, &s), VT_E_INVALID_ARG);
    CHECK_CONTAINS(vt_last_error(), "longer than 128");
    cfg.session_id = "bad\xff\xfe";
    CHECK_STATUS(vt_create_session(&cfg, &s), VT_E_INVALID_ARG);
    CHECK_CONTAINS(vt_last_error(), "UTF-8");
    cfg.session_id = NULL;

    vt_label dup[] = {{"transport", "sip"}, {"transport", "webrtc"}};
    cfg.labels = dup;
    cfg.n_labels = 2;
    CHECK_STATUS(vt_create_session(&cfg, &s), VT_E_INVALID_ARG);
    CHECK_CONTAINS(vt_last_error(), "twice");
    const char *bad_keys[] = {"1abc", "le", "quantile", "__x", "a-b", ""};
    for (size_t i = 0; i < sizeof bad_keys / sizeof bad_keys[0]; i++) {
        vt_label l[] = {{bad_keys[i], "v"}};
        cfg.labels = l;
        cfg.n_labels = 1;
        CHECK_STATUS(vt_create_session(&cfg, &s), VT_E_INVALID_ARG);
    }
    vt_label nullkey[] = {{NULL, "v"}};
    cfg.labels = nullkey;
    CHECK_STATUS(vt_create_session(&cfg, &s), VT_E_INVALID_ARG);
    vt_label badval[] = {{"model", "\xc3"}};
    cfg.labels = badval;
    CHECK_STATUS(vt_create_session(&cfg, &s), VT_E_INVALID_ARG);
    cfg.labels = NULL;
    cfg.n_labels = 1;
    CHECK_STATUS(vt_create_session(&cfg, &s), VT_E_INVALID_ARG);
    cfg.n_labels = VT_MAX_LABELS + 1;
    CHECK_STATUS(vt_create_session(&cfg, &s), VT_E_INVALID_ARG);
    cfg.n_labels = (size_t)-1;
    CHECK_STATUS(vt_create_session(&cfg, &s), VT_E_INVALID_ARG);
    cfg.n_labels = 0;

    cfg.text_policy = 7;
    CHECK_STATUS(vt_create_session(&cfg, &s), VT_E_INVALID_ARG);
    cfg.text_policy = VT_TEXT_INCLUDE;
    cfg.turn_history = VT_MAX_TURN_HISTORY + 1;
    CHECK_STATUS(vt_create_session(&cfg, &s), VT_E_INVALID_ARG);
    CHECK_EQ_U64(s, 77); /* untouched on error */
}

TEST(create_reads_only_what_struct_size_covers) {
    /* An older caller's struct that ends after session_id: labels and start are not read. */
    vt_label labels[] = {{"transport", "sip"}};
    vt_session_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.session_id = "short-struct";
    cfg.labels = labels;
    cfg.n_labels = 1;
    cfg.struct_size = (uint32_t)(offsetof(vt_session_config, session_id) + sizeof(const char *));
    vt_session s = 0;
    CHECK_STATUS(vt_create_session(&cfg, &s), VT_OK);
    CHECK_CONTAINS(snapshot_at(s, 0), "\"labels\":{}");
    CHECK_STATUS(vt_end_session(s), VT_OK);
}

TEST(absent_label_values_are_left_out) {
    vt_label labels[] = {{"transport", "sip"}, {"provider", ""}, {"model", NULL}};
    vt_session_config cfg = {.struct_size = sizeof cfg, .session_id = "absent-labels", .labels = labels, .n_labels = 3};
    vt_session s = 0;
    CHECK_STATUS(vt_create_session(&cfg, &s), VT_OK);
    CHECK_CONTAINS(snapshot_at(s, 0), "\"labels\":{\"transport\":\"sip\"}");
    CHECK_STATUS(vt_end_session(s), VT_OK);
}

TEST(ended_and_made_up_handles_are_rejected) {
    vt_session s = open_session("ends", "sip", 0);
    CHECK_STATUS(vt_end_session(s), VT_OK);
    CHECK_STATUS(vt_end_session(s), VT_E_BAD_HANDLE);
    CHECK_STATUS(vt_end_session(0), VT_OK);
    vt_session bogus[] = {s, 1, 2, 3, 0xFFFFFFFFFFFFFFFFull, 0x123456789ull, (1ull << 20) - 1, s + 2};
    vt_usage u = {sizeof u, 1, 1, 1, 1, 1};
    vt_event ev = {VT_EV_AUDIO_OUT, 0, 10, 0};
    size_t len = 0, done = 9;
    for (size_t i = 0; i < sizeof bogus / sizeof bogus[0]; i++) {
        vt_session b = bogus[i];
        CHECK_STATUS(vt_record_audio_out(b, 10, 1), VT_E_BAD_HANDLE);
        CHECK_STATUS(vt_record_vad_start(b, 1), VT_E_BAD_HANDLE);
        CHECK_STATUS(vt_record_vad_end(b, 1), VT_E_BAD_HANDLE);
        CHECK_STATUS(vt_record_text_send(b, 1), VT_E_BAD_HANDLE);
        CHECK_STATUS(vt_record_text_out(b, 1), VT_E_BAD_HANDLE);
        CHECK_STATUS(vt_record_interruption(b, 1), VT_E_BAD_HANDLE);
        CHECK_STATUS(vt_record_turn_start(b, 1), VT_E_BAD_HANDLE);
        CHECK_STATUS(vt_record_turn_complete(b, 1), VT_E_BAD_HANDLE);
        CHECK_STATUS(vt_record_usage(b, &u), VT_E_BAD_HANDLE);
        CHECK_STATUS(vt_record_batch(b, &ev, 1, sizeof ev, &done), VT_E_BAD_HANDLE);
        CHECK_EQ_U64(done, 0);
        CHECK_STATUS(vt_snapshot_json(b, big, sizeof big, &len), VT_E_BAD_HANDLE);
        CHECK_STATUS(vt_end_session(b), VT_E_BAD_HANDLE);
    }
    CHECK_STATUS(vt_record_audio_out(0, 10, 1), VT_E_BAD_HANDLE);
    CHECK_CONTAINS(vt_last_error(), "handle is 0");
}

/* ---- record semantics ------------------------------------------------------------------------ */

TEST(scripted_scenario_matches_expected_snapshot) {
    static char snap[16384];
    vt_session s = scenario_play("tests/scenarios/scripted_call.txt", snap, sizeof snap);
    scenario_check("tests/scenarios/scripted_call.expected", snap);
    CHECK_STATUS(vt_end_session(s), VT_OK);
}

TEST(response_latency_first_chunk_only_and_vad_start_cancels) {
    vt_session s = open_session("resp", "sip", 1 * SEC);
    CHECK_STATUS(vt_record_audio_out(s, 100, 2 * SEC), VT_OK); /* nothing awaited */
    CHECK_STATUS(vt_record_vad_end(s, 3 * SEC), VT_OK);
    CHECK_STATUS(vt_record_vad_start(s, 3 * SEC + 100 * MS), VT_OK); /* user talks again */
    CHECK_STATUS(vt_record_audio_out(s, 100, 3 * SEC + 200 * MS), VT_OK); /* not a response */
    CHECK_STATUS(vt_record_vad_end(s, 4 * SEC), VT_OK);
    CHECK_STATUS(vt_record_vad_end(s, 4 * SEC + 500 * MS), VT_OK); /* the latest end counts */
    CHECK_STATUS(vt_record_audio_out(s, 100, 5 * SEC), VT_OK);    /* 500 ms */
    CHECK_STATUS(vt_record_audio_out(s, 100, 5 * SEC + 20 * MS), VT_OK);
    const char *j = snapshot_at(s, 11 * SEC);
    CHECK_CONTAINS(j, "\"response_count\":1,");
    CHECK_CONTAINS(j, "\"last_response_latency_ms\":500,");
    CHECK_CONTAINS(j, "\"audio_chunks_out\":4,");
    CHECK_CONTAINS(j, "\"audio_bytes_out\":400,");
    CHECK_CONTAINS(j, "\"uptime_secs\":10,");
    CHECK_CONTAINS(j, "\"audio_throughput_kbps\":0.32,");
    CHECK_STATUS(vt_end_session(s), VT_OK);
}

TEST(out_of_order_timestamps_are_counted_not_clamped) {
    vt_session s = open_session("ooo", "sip", 1 * SEC);
    CHECK_STATUS(vt_record_vad_end(s, 5 * SEC), VT_OK);
    CHECK_STATUS(vt_record_audio_out(s, 10, 4 * SEC), VT_OK);
    CHECK_STATUS(vt_record_turn_start(s, 9 * SEC), VT_OK);
    CHECK_STATUS(vt_record_turn_complete(s, 8 * SEC), VT_OK);
    CHECK_STATUS(vt_record_text_send(s, 9 * SEC), VT_OK);
    CHECK_STATUS(vt_record_text_out(s, 2 * SEC), VT_OK);
    const char *j = snapshot_at(s, 10 * SEC);
    CHECK_CONTAINS(j, "\"out_of_order_events\":3");
    CHECK_CONTAINS(j, "\"response_count\":0,");
    CHECK_CONTAINS(j, "\"last_response_latency_ms\":null,");
    CHECK_CONTAINS(j, "\"min_response_latency_ms\":null,");
    CHECK_CONTAINS(j, "\"avg_turn_duration_ms\":null,");
    CHECK_CONTAINS(j, "\"turns_completed\":1,"); /* the turn closed; its duration was not recorded */
    CHECK_STATUS(vt_end_session(s), VT_OK);
}

TEST(turns_first_start_wins_and_complete_without_start_is_ignored) {
    vt_session s = open_session("turns", "sip", 0);
    CHECK_STATUS(vt_record_turn_complete(s, 1 * SEC), VT_OK);
    CHECK_STATUS(vt_record_turn_start(s, 2 * SEC), VT_OK);
    CHECK_STATUS(vt_record_turn_start(s, 3 * SEC), VT_OK);
    const char *j = snapshot_at(s, 0);
    CHECK_CONTAINS(j, "\"turn_open\":true");
    CHECK_STATUS(vt_record_turn_complete(s, 5 * SEC), VT_OK);
    j = snapshot_at(s, 0);
    CHECK_CONTAINS(j, "\"avg_turn_duration_ms\":3000,");
    CHECK_CONTAINS(j, "\"turns_completed\":1,");
    CHECK_CONTAINS(j, "\"turn_open\":false");
    CHECK_STATUS(vt_end_session(s), VT_OK);
}

TEST(usage_keeps_latest_and_totals) {
    vt_session s = open_session("usage", NULL, 0);
    vt_usage u = {sizeof u, 10, 6, 4, -1, -1};
    CHECK_STATUS(vt_record_usage(s, &u), VT_OK);
    vt_usage v = {sizeof v, 20, -1, -1, 3, 2};
    CHECK_STATUS(vt_record_usage(s, &v), VT_OK);
    const char *j = snapshot_at(s, 0);
    CHECK_CONTAINS(j, "\"total_token_count\":20,\"prompt_token_count\":6,\"response_token_count\":4,"
                      "\"cached_content_token_count\":3,\"thoughts_token_count\":2,");
    CHECK_CONTAINS(j, "\"token_totals\":{\"total\":30,\"prompt\":6,\"response\":4,\"cached_content\":3,\"thoughts\":2}");
    CHECK_STATUS(vt_record_usage(s, NULL), VT_E_INVALID_ARG);
    vt_usage tiny = {4, 99, 99, 99, 99, 99};
    CHECK_STATUS(vt_record_usage(s, &tiny), VT_E_INVALID_ARG);
    /* An older struct that only has `total`: the other fields are not read. */
    vt_usage old = {(uint32_t)(offsetof(vt_usage, total) + sizeof(int64_t)), 5, 777, 777, 777, 777};
    CHECK_STATUS(vt_record_usage(s, &old), VT_OK);
    j = snapshot_at(s, 0);
    CHECK_CONTAINS(j, "\"total_token_count\":5,\"prompt_token_count\":6,");
    CHECK_CONTAINS(j, "\"usage_reports\":3");
    /* Counts of 2^40 or more are refused whole: the running totals cannot overflow. */
    vt_usage huge = {sizeof huge, 1, 1, (int64_t)1 << 40, -1, -1};
    CHECK_STATUS(vt_record_usage(s, &huge), VT_E_INVALID_ARG);
    CHECK_CONTAINS(vt_last_error(), "below 2^40");
    vt_usage most = {sizeof most, ((int64_t)1 << 40) - 1, -1, -1, -1, -1};
    CHECK_STATUS(vt_record_usage(s, &most), VT_OK);
    j = snapshot_at(s, 0);
    CHECK_CONTAINS(j, "\"total_token_count\":1099511627775,\"prompt_token_count\":6,");
    CHECK_CONTAINS(j, "\"usage_reports\":4");
    CHECK_STATUS(vt_end_session(s), VT_OK);
}

TEST(audio_out_rejects_absurd_sizes) {
    vt_session s = open_session("absurd", NULL, 0);
    CHECK_STATUS(vt_record_audio_out(s, (size_t)-1, 0), VT_E_INVALID_ARG);
    CHECK_STATUS(vt_record_audio_out(s, ((size_t)1 << 40) + 1, 0), VT_E_INVALID_ARG);
    CHECK_STATUS(vt_record_audio_out(s, (size_t)1 << 40, 0), VT_OK);
    CHECK_CONTAINS(snapshot_at(s, 0), "\"audio_bytes_out\":1099511627776,");
    CHECK_STATUS(vt_end_session(s), VT_OK);
}

TEST(batch_equals_single_calls) {
    vt_session a = open_session("batch-a", NULL, 1 * SEC);
    vt_session b = open_session("batch-b", NULL, 1 * SEC);
    vt_event ev[] = {
        {VT_EV_VAD_START, 0, 0, 1 * SEC}, {VT_EV_VAD_END, 0, 0, 2 * SEC},
        {VT_EV_TURN_START, 0, 0, 2 * SEC}, {VT_EV_AUDIO_OUT, 0, 320, 2 * SEC + 300 * MS},
        {VT_EV_AUDIO_OUT, 0, 320, 2 * SEC + 320 * MS}, {VT_EV_INTERRUPTION, 0, 0, 3 * SEC},
        {VT_EV_TEXT_SEND, 0, 0, 4 * SEC}, {VT_EV_TEXT_OUT, 0, 0, 4 * SEC + 90 * MS},
        {VT_EV_TURN_COMPLETE, 0, 0, 5 * SEC},
    };
    size_t n = sizeof ev / sizeof ev[0], done = 0;
    CHECK_STATUS(vt_record_batch(a, ev, n, sizeof ev[0], &done), VT_OK);
    CHECK_EQ_U64(done, n);
    CHECK_STATUS(vt_record_vad_start(b, 1 * SEC), VT_OK);
    CHECK_STATUS(vt_record_vad_end(b, 2 * SEC), VT_OK);
    CHECK_STATUS(vt_record_turn_start(b, 2 * SEC), VT_OK);
    CHECK_STATUS(vt_record_audio_out(b, 320, 2 * SEC + 300 * MS), VT_OK);
    CHECK_STATUS(vt_record_audio_out(b, 320, 2 * SEC + 320 * MS), VT_OK);
    CHECK_STATUS(vt_record_interruption(b, 3 * SEC), VT_OK);
    CHECK_STATUS(vt_record_text_send(b, 4 * SEC), VT_OK);
    CHECK_STATUS(vt_record_text_out(b, 4 * SEC + 90 * MS), VT_OK);
    CHECK_STATUS(vt_record_turn_complete(b, 5 * SEC), VT_OK);
    static char ja[8192], jb[8192];
    size_t la = 0, lb = 0;
    CHECK_STATUS(vt_snapshot_json_at(a, 6 * SEC, ja, sizeof ja, &la), VT_OK);
    CHECK_STATUS(vt_snapshot_json_at(b, 6 * SEC, jb, sizeof jb, &lb), VT_OK);
    CHECK_CONTAINS(ja, "\"last_response_latency_ms\":300,");
    CHECK_STR_EQ(snapshot_numbers(ja), snapshot_numbers(jb)); /* identical but for the id and trace */

    /* Errors: the index of the failing event, everything before it applied. */
    vt_event bad[] = {{VT_EV_AUDIO_OUT, 0, 1, 0}, {99, 0, 0, 0}, {VT_EV_AUDIO_OUT, 0, 1, 0}};
    CHECK_STATUS(vt_record_batch(a, bad, 3, sizeof bad[0], &done), VT_E_INVALID_ARG);
    CHECK_EQ_U64(done, 1);
    CHECK_CONTAINS(vt_last_error(), "event 1");
    CHECK_CONTAINS(snapshot_at(a, 0), "\"audio_chunks_out\":3,");
    CHECK_STATUS(vt_record_batch(a, NULL, 1, sizeof bad[0], &done), VT_E_INVALID_ARG);
    CHECK_STATUS(vt_record_batch(a, bad, 1, 8, &done), VT_E_INVALID_ARG);
    CHECK_STATUS(vt_record_batch(a, NULL, 0, 0, NULL), VT_OK);
    vt_event huge[] = {{VT_EV_AUDIO_OUT, 0, (1ull << 41), 0}};
    CHECK_STATUS(vt_record_batch(a, huge, 1, sizeof huge[0], &done), VT_E_INVALID_ARG);
    /* A larger element size (a newer header) is stepped over correctly. */
    struct { vt_event e; uint64_t future; } wide[] = {{{VT_EV_AUDIO_OUT, 0, 5, 0}, 0}, {{VT_EV_AUDIO_OUT, 0, 6, 0}, 0}};
    CHECK_STATUS(vt_record_batch(a, &wide[0].e, 2, sizeof wide[0], &done), VT_OK);
    CHECK_CONTAINS(snapshot_at(a, 0), "\"audio_bytes_out\":652,");
    CHECK_STATUS(vt_end_session(a), VT_OK);
    CHECK_STATUS(vt_end_session(b), VT_OK);
}

/* ---- snapshot buffers and escaping ----------------------------------------------------------- */

TEST(snapshot_buffer_contract) {
    vt_session s = open_session("buffers", "sip", 0);
    size_t len = 0, len2 = 0;
    CHECK_STATUS(vt_snapshot_json_at(s, 5, NULL, 0, &len), VT_E_BUFFER_TOO_SMALL);
    CHECK(len > 100);
    CHECK_STATUS(vt_snapshot_json(s, NULL, 10, &len2), VT_E_INVALID_ARG);
    CHECK_STATUS(vt_snapshot_json(s, big, 10, NULL), VT_E_INVALID_ARG);
    char *exact = malloc(len + 1);
    CHECK_STATUS(vt_snapshot_json_at(s, 5, exact, len, &len2), VT_E_BUFFER_TOO_SMALL);
    CHECK_EQ_U64(len2, len);
    CHECK_STATUS(vt_snapshot_json_at(s, 5, exact, len + 1, &len2), VT_OK);
    CHECK_EQ_U64(len2, len);
    CHECK_EQ_U64(strlen(exact), len);
    CHECK(exact[0] == '{' && exact[len - 1] == '}');
    free(exact);
    CHECK_STATUS(vt_end_session(s), VT_OK);
}

TEST(snapshot_escapes_ids_and_labels) {
    vt_label labels[] = {{"model", "gpt \"4o\"\\mini\n\t\x01"}};
    vt_session_config cfg = {.struct_size = sizeof cfg, .session_id = "id \"quoted\" \xc3\xa9", .labels = labels, .n_labels = 1};
    vt_session s = 0;
    CHECK_STATUS(vt_create_session(&cfg, &s), VT_OK);
    const char *j = snapshot_at(s, 0);
    CHECK_CONTAINS(j, "\"session_id\":\"id \\\"quoted\\\" \xc3\xa9\"");
    CHECK_CONTAINS(j, "\"model\":\"gpt \\\"4o\\\"\\\\mini\\n\\t\\u0001\"");
    CHECK_STATUS(vt_end_session(s), VT_OK);
}

/* ---- process metrics ------------------------------------------------------------------------- */

TEST(metric_names_and_values_are_checked) {
    CHECK_STATUS(vt_counter_add("c_events_total", "Events.", NULL, 0, 2), VT_OK);
    CHECK_STATUS(vt_counter_add("c_events_total", NULL, NULL, 0, -5), VT_OK); /* ignored */
    CHECK_STATUS(vt_counter_add("c_events_total", NULL, NULL, 0, 0.5), VT_OK);
    CHECK(prom_value("c_events_total") == 2.5);
    CHECK_STATUS(vt_counter_add("c_events_total", NULL, NULL, 0, NAN), VT_E_INVALID_ARG);
    CHECK_STATUS(vt_counter_add("c_events_total", NULL, NULL, 0, INFINITY), VT_E_INVALID_ARG);
    CHECK_STATUS(vt_counter_add("c_events", "No suffix.", NULL, 0, 1), VT_E_INVALID_ARG);
    CHECK_CONTAINS(vt_last_error(), "_total");
    CHECK_STATUS(vt_gauge_set("c_level_total", "Bad.", NULL, 0, 1), VT_E_INVALID_ARG);
    CHECK_STATUS(vt_gauge_set("c_level_count", "Bad.", NULL, 0, 1), VT_E_INVALID_ARG);
    CHECK_STATUS(vt_observe("c_x_bucket", "Bad.", NULL, 0, 1), VT_E_INVALID_ARG);
    CHECK_STATUS(vt_observe("c_x_quantiles", "Bad.", NULL, 0, 1), VT_E_INVALID_ARG);
    CHECK_STATUS(vt_gauge_set("c_new_gauge", NULL, NULL, 0, 1), VT_E_INVALID_ARG); /* help on first use */
    CHECK_STATUS(vt_gauge_set("c_new_gauge", "", NULL, 0, 1), VT_E_INVALID_ARG);
    CHECK_STATUS(vt_gauge_set("c_events_total", "x", NULL, 0, 1), VT_E_INVALID_ARG); /* type conflict */
    CHECK_CONTAINS(vt_last_error(), "is a counter");
    CHECK_STATUS(vt_gauge_set(NULL, "x", NULL, 0, 1), VT_E_INVALID_ARG);
    CHECK_STATUS(vt_gauge_set("9lives", "x", NULL, 0, 1), VT_E_INVALID_ARG);
    CHECK_STATUS(vt_gauge_set("has space", "x", NULL, 0, 1), VT_E_INVALID_ARG);
    CHECK_STATUS(vt_gauge_set("voicetelemetry_mine", "x", NULL, 0, 1), VT_E_INVALID_ARG);
    CHECK_STATUS(vt_gauge_set("c_help_bad", "\xff", NULL, 0, 1), VT_E_INVALID_ARG);
    vt_label reserved[] = {{"le", "1"}};
    CHECK_STATUS(vt_gauge_set("c_level", "Level.", reserved, 1, 1), VT_E_INVALID_ARG);
    CHECK_STATUS(vt_gauge_set("c_level", "Level.", NULL, 3, 1), VT_E_INVALID_ARG);
    CHECK_STATUS(vt_gauge_set("c_level", "Level.", NULL, 0, 4), VT_OK);
    CHECK_STATUS(vt_gauge_add("c_level", NULL, NULL, 0, -1.5), VT_OK);
    CHECK(prom_value("c_level") == 2.5);
    CHECK_STATUS(vt_observe("c_lat_seconds", "Latency.", NULL, 0, -0.1), VT_E_INVALID_ARG);
    CHECK_STATUS(vt_observe("c_lat_seconds", "Latency.", NULL, 0, NAN), VT_E_INVALID_ARG);
}

TEST(registered_labels_filter_and_count_unknown_keys) {
    const char *keys[] = {"route"};
    CHECK_STATUS(vt_register_labels("c_req_total", keys, 1), VT_OK);
    vt_label l[] = {{"route", "/a"}, {"user", "u1"}, {"ip", "1.2.3.4"}};
    CHECK_STATUS(vt_counter_add("c_req_total", "Requests.", l, 3, 1), VT_OK);
    CHECK(prom_value("c_req_total{route=\"/a\"}") == 1);
    CHECK(prom_value("voicetelemetry_metrics_unknown_label_total{metric=\"c_req_total\"}") == 2);
    /* Registering again replaces the keys. */
    const char *keys2[] = {"route", "user"};
    CHECK_STATUS(vt_register_labels("c_req_total", keys2, 2), VT_OK);
    CHECK_STATUS(vt_counter_add("c_req_total", NULL, l, 3, 1), VT_OK);
    CHECK(prom_value("c_req_total{route=\"/a\",user=\"u1\"}") == 1);
    CHECK(prom_value("voicetelemetry_metrics_unknown_label_total{metric=\"c_req_total\"}") == 3);
    const char *badkeys[] = {"ok", "bad-key"};
    CHECK_STATUS(vt_register_labels("c_req_total", badkeys, 2), VT_E_INVALID_ARG);
    const char *dupkeys[] = {"a", "a"};
    CHECK_STATUS(vt_register_labels("c_req_total", dupkeys, 2), VT_E_INVALID_ARG);
    CHECK_STATUS(vt_register_labels("c_req_total", NULL, 1), VT_E_INVALID_ARG);
    CHECK_STATUS(vt_register_labels("c_nolabels_total", NULL, 0), VT_OK);
    CHECK_STATUS(vt_counter_add("c_nolabels_total", "None.", l, 1, 1), VT_OK);
    CHECK(prom_value("c_nolabels_total") == 1);
}

TEST(series_limit_drops_and_counts) {
    char value[32];
    vt_label l[] = {{"id", value}};
    for (int i = 0; i < VT_MAX_SERIES_PER_FAMILY; i++) {
        snprintf(value, sizeof value, "%d", i);
        CHECK_STATUS(vt_gauge_set("c_many", "Many series.", l, 1, i), VT_OK);
    }
    snprintf(value, sizeof value, "one-too-many");
    CHECK_STATUS(vt_gauge_set("c_many", NULL, l, 1, 1), VT_E_LIMIT);
    CHECK_STATUS(vt_gauge_set("c_many", NULL, l, 1, 1), VT_E_LIMIT);
    snprintf(value, sizeof value, "7");
    CHECK_STATUS(vt_gauge_set("c_many", NULL, l, 1, 70), VT_OK); /* existing series still work */
    CHECK(prom_value("c_many{id=\"7\"}") == 70);
    CHECK(prom_value("voicetelemetry_metrics_series_dropped_total{metric=\"c_many\"}") == 2);
}

TEST(buckets_are_configurable_before_first_use) {
    double bounds[] = {0.1, 0.5, 1};
    CHECK_STATUS(vt_set_buckets("c_tts_seconds", bounds, 3), VT_OK); /* not yet used: pending */
    CHECK_STATUS(vt_observe("c_tts_seconds", "TTS.", NULL, 0, 0.05), VT_OK);
    CHECK_STATUS(vt_observe("c_tts_seconds", NULL, NULL, 0, 0.5), VT_OK);
    CHECK_STATUS(vt_observe("c_tts_seconds", NULL, NULL, 0, 0.7), VT_OK);
    CHECK_STATUS(vt_observe("c_tts_seconds", NULL, NULL, 0, 3), VT_OK);
    CHECK(prom_value("c_tts_seconds_bucket{le=\"0.1\"}") == 1);
    CHECK(prom_value("c_tts_seconds_bucket{le=\"0.5\"}") == 2); /* le is inclusive */
    CHECK(prom_value("c_tts_seconds_bucket{le=\"1\"}") == 3);
    CHECK(prom_value("c_tts_seconds_bucket{le=\"+Inf\"}") == 4);
    CHECK(prom_value("c_tts_seconds_count") == 4);
    CHECK(prom_value("c_tts_seconds_sum") == 4.25);
    /* 3 s lies in the bucket [2952790016, 3019898880) ns (32 per octave): its midpoint. */
    CHECK(prom_value("c_tts_seconds_quantiles{quantile=\"0.99\"}") == 2.986344448);
    /* The median (rank 2 of 4) is 0.5 s, in [494927872, 503316480) ns: its midpoint. */
    CHECK(prom_value("c_tts_seconds_quantiles{quantile=\"0.5\"}") == 0.499122176);
    CHECK_STATUS(vt_set_buckets("c_tts_seconds", bounds, 3), VT_E_ORDER);
    double unordered[] = {1, 0.5};
    CHECK_STATUS(vt_set_buckets("c_other_seconds", unordered, 2), VT_E_INVALID_ARG);
    double inf[] = {1, INFINITY};
    CHECK_STATUS(vt_set_buckets("c_other_seconds", inf, 2), VT_E_INVALID_ARG);
    CHECK_STATUS(vt_set_buckets("c_other_seconds", bounds, 0), VT_E_INVALID_ARG);
    CHECK_STATUS(vt_set_buckets("c_other_seconds", NULL, 2), VT_E_INVALID_ARG);
    CHECK_STATUS(vt_set_buckets("c_other_seconds", bounds, VT_MAX_BUCKETS + 1), VT_E_INVALID_ARG);
    CHECK_STATUS(vt_set_buckets("c_level", bounds, 3), VT_E_INVALID_ARG); /* a gauge */
    CHECK_STATUS(vt_set_buckets("voicetelemetry_response_latency_seconds", bounds, 3), VT_E_ORDER);
}

TEST(empty_quantiles_are_nan) {
    vt_label l[] = {{"kind", "never"}};
    double bounds[] = {1};
    CHECK_STATUS(vt_set_buckets("c_empty_seconds", bounds, 1), VT_OK);
    /* No observation yet: create a series in a sibling family to see NaN rendering on built-ins. */
    vt_session s = open_session("nan", "nan-transport", 0);
    CHECK(isnan(prom_value("voicetelemetry_text_response_latency_seconds_quantiles{quantile=\"0.5\",transport=\"nan-transport\"}")));
    CHECK(prom_value("voicetelemetry_text_response_latency_seconds_count{transport=\"nan-transport\"}") == 0);
    CHECK_STATUS(vt_end_session(s), VT_OK);
    (void)l;
}

TEST(prom_text_buffer_contract_and_escaping) {
    vt_label l[] = {{"path", "C:\\dir \"quoted\"\nnext"}};
    CHECK_STATUS(vt_gauge_set("c_escape", "Help with \\ backslash\nand newline.", l, 1, 1), VT_OK);
    const char *t = prom();
    CHECK_CONTAINS(t, "# HELP c_escape Help with \\\\ backslash\\nand newline.\n# TYPE c_escape gauge\n");
    CHECK_CONTAINS(t, "c_escape{path=\"C:\\\\dir \\\"quoted\\\"\\nnext\"} 1\n");
    size_t len = 0, len2 = 0;
    CHECK_STATUS(vt_prom_text(NULL, 0, &len), VT_E_BUFFER_TOO_SMALL);
    CHECK(len > 1000);
    char *buf = malloc(len + 1);
    CHECK_STATUS(vt_prom_text(buf, len + 1, &len2), VT_OK);
    CHECK_EQ_U64(len2, len);
    free(buf);
    CHECK_STATUS(vt_prom_text(NULL, 5, &len), VT_E_INVALID_ARG);
    CHECK_STATUS(vt_prom_text(big, sizeof big, NULL), VT_E_INVALID_ARG);
}

TEST(sessions_fold_into_process_metrics) {
    vt_session a = open_session("fold-a", "fold", 0);
    vt_session b = open_session("fold-b", "fold", 0);
    CHECK_STATUS(vt_record_audio_out(a, 100, 1), VT_OK);
    CHECK_STATUS(vt_record_audio_out(b, 50, 1), VT_OK);
    CHECK_STATUS(vt_record_interruption(b, 1), VT_OK);
    CHECK_STATUS(vt_record_vad_end(a, 1 * SEC), VT_OK);
    CHECK_STATUS(vt_record_audio_out(a, 10, 1 * SEC + 250 * MS), VT_OK);
    CHECK(prom_value("voicetelemetry_sessions_active{transport=\"fold\"}") == 2);
    CHECK(prom_value("voicetelemetry_sessions_total{transport=\"fold\"}") == 2);
    CHECK(prom_value("voicetelemetry_audio_out_bytes_total{transport=\"fold\"}") == 160);
    CHECK(prom_value("voicetelemetry_audio_out_chunks_total{transport=\"fold\"}") == 3);
    CHECK(prom_value("voicetelemetry_interruptions_total{transport=\"fold\"}") == 1);
    CHECK(prom_value("voicetelemetry_response_latency_seconds_bucket{le=\"0.25\",transport=\"fold\"}") == 1);
    CHECK(prom_value("voicetelemetry_response_latency_seconds_bucket{le=\"0.2\",transport=\"fold\"}") == 0);
    CHECK(prom_value("voicetelemetry_response_latency_seconds_sum{transport=\"fold\"}") == 0.25);
    CHECK_STATUS(vt_end_session(a), VT_OK);
    /* Ended sessions keep their part of the counters; the gauge drops. */
    CHECK(prom_value("voicetelemetry_sessions_active{transport=\"fold\"}") == 1);
    CHECK(prom_value("voicetelemetry_sessions_total{transport=\"fold\"}") == 2);
    CHECK(prom_value("voicetelemetry_audio_out_bytes_total{transport=\"fold\"}") == 160);
    CHECK_STATUS(vt_end_session(b), VT_OK);
    CHECK(prom_value("voicetelemetry_sessions_active{transport=\"fold\"}") == 0);
    CHECK(prom_value("voicetelemetry_audio_out_chunks_total{transport=\"fold\"}") == 3);
    CHECK(prom_value("voicetelemetry_interruptions_total{transport=\"fold\"}") == 1);
    /* Never a session id as a label. */
    CHECK(strstr(prom(), "fold-a") == NULL);
}

TEST(promtool_accepts_the_exposition_without_findings) {
    vt_session s = open_session("promtool", "webrtc", 0);
    CHECK_STATUS(vt_record_vad_end(s, 1 * SEC), VT_OK);
    CHECK_STATUS(vt_record_audio_out(s, 10, 1 * SEC + 640 * MS), VT_OK);
    vt_label l[] = {{"stage", "tts"}, {"provider", "acme \"quoted\""}};
    CHECK_STATUS(vt_observe("c_stage_seconds", "Stage latency.", l, 2, 0.42), VT_OK);
    const char *t = prom();
    FILE *f = fopen("build/tests/prom_core.txt", "w");
    CHECK(f != NULL);
    if (f) {
        fputs(t, f);
        fclose(f);
    }
    FILE *p = popen("promtool check metrics < build/tests/prom_core.txt 2>&1", "r");
    char out[4096] = {0};
    size_t n = p ? fread(out, 1, sizeof out - 1, p) : 0;
    int rc = p ? pclose(p) : -1;
    out[n] = 0;
    if (rc != 0 || n != 0) fprintf(stderr, "promtool said (rc %d):\n%s\n", rc, out);
    CHECK(rc == 0);
    CHECK_EQ_U64(n, 0); /* no lint findings either */
    CHECK_STATUS(vt_end_session(s), VT_OK);
}

/* ---- threads --------------------------------------------------------------------------------- */

#define THREADS 4
#define PER_THREAD 200000

struct worker {
    vt_session shared, own;
    int failures;
};

static void *record_worker(void *arg) {
    struct worker *w = arg;
    for (int i = 0; i < PER_THREAD; i++) {
        if (vt_record_audio_out(w->shared, (size_t)(i % 7) + 1, 1) != VT_OK) w->failures++;
        if (vt_record_audio_out(w->own, 3, 1) != VT_OK) w->failures++;
        if (i % 1000 == 0 && vt_record_interruption(w->shared, 1) != VT_OK) w->failures++;
    }
    return NULL;
}

static volatile int readers_stop;

static void *reader_worker(void *arg) {
    vt_session s = *(vt_session *)arg;
    static char buf[1 << 18];
    size_t len;
    while (!readers_stop) {
        vt_snapshot_json(s, buf, sizeof buf, &len);
        vt_prom_text(NULL, 0, &len);
    }
    return NULL;
}

TEST(many_threads_give_exact_totals) {
    vt_session shared = open_session("mt-shared", "mt", 0);
    struct worker w[THREADS];
    pthread_t t[THREADS], reader;
    readers_stop = 0;
    pthread_create(&reader, NULL, reader_worker, &shared);
    for (int i = 0; i < THREADS; i++) {
        w[i].shared = shared;
        w[i].own = open_session(NULL, "mt", 0);
        w[i].failures = 0;
        pthread_create(&t[i], NULL, record_worker, &w[i]);
    }
    for (int i = 0; i < THREADS; i++) pthread_join(t[i], NULL);
    readers_stop = 1;
    pthread_join(reader, NULL);
    uint64_t bytes_per_thread = 0;
    for (int i = 0; i < PER_THREAD; i++) bytes_per_thread += (uint64_t)(i % 7) + 1;
    char want[128];
    const char *j = snapshot_at(shared, 0);
    snprintf(want, sizeof want, "\"audio_chunks_out\":%d,", THREADS * PER_THREAD);
    CHECK_CONTAINS(j, want);
    snprintf(want, sizeof want, "\"audio_bytes_out\":%" PRIu64 ",", THREADS * bytes_per_thread);
    CHECK_CONTAINS(j, want);
    snprintf(want, sizeof want, "\"interruptions\":%d,", THREADS * (PER_THREAD / 1000));
    CHECK_CONTAINS(j, want);
    for (int i = 0; i < THREADS; i++) {
        CHECK_EQ_U64(w[i].failures, 0);
        snprintf(want, sizeof want, "\"audio_bytes_out\":%d,", 3 * PER_THREAD);
        CHECK_CONTAINS(snapshot_at(w[i].own, 0), want);
    }
    double expect_bytes = (double)(THREADS * bytes_per_thread + (uint64_t)THREADS * 3 * PER_THREAD);
    CHECK(prom_value("voicetelemetry_audio_out_bytes_total{transport=\"mt\"}") == expect_bytes);
    for (int i = 0; i < THREADS; i++) CHECK_STATUS(vt_end_session(w[i].own), VT_OK);
    CHECK_STATUS(vt_end_session(shared), VT_OK);
    CHECK(prom_value("voicetelemetry_audio_out_bytes_total{transport=\"mt\"}") == expect_bytes);
    CHECK(prom_value("voicetelemetry_audio_out_chunks_total{transport=\"mt\"}") == 2.0 * THREADS * PER_THREAD);
}

struct stale {
    vt_session handle;
    volatile int stop;
    volatile unsigned long ok, rejected, other; /* written by its own thread only */
};

static void *stale_worker(void *arg) {
    struct stale *st = arg;
    while (!st->stop) {
        vt_status a = vt_record_audio_out(st->handle, 1000, 1);
        vt_status b = vt_record_vad_end(st->handle, 1);
        vt_status c = vt_record_turn_start(st->handle, 1);
        vt_status results[] = {a, b, c};
        for (int i = 0; i < 3; i++) {
            if (results[i] == VT_OK) st->ok++;
            else if (results[i] == VT_E_BAD_HANDLE) st->rejected++;
            else st->other++;
        }
    }
    return NULL;
}

TEST(records_racing_end_never_land_on_the_next_session_in_the_slot) {
    /* Threads keep recording on A's handle while A ends and its slot is reused by B. */
    vt_session a = open_session("race-a", "race", 0);
    struct stale st[2] = {{a, 0, 0, 0, 0}, {a, 0, 0, 0, 0}};
    pthread_t t[2];
    for (int i = 0; i < 2; i++) pthread_create(&t[i], NULL, stale_worker, &st[i]);
    while (st[0].ok < 1000 || st[1].ok < 1000) sched_yield();
    CHECK_STATUS(vt_end_session(a), VT_OK);
    /* Open and end sessions until one reuses a's slot (checked once: how many tries that takes
     * depends on timing, the number of checks must not). */
    vt_session b = 0;
    int failures = 0;
    for (int i = 0; i < 5000 && b == 0 && failures == 0; i++) {
        vt_status status;
        vt_session x = try_open_session(NULL, "race", 0, &status);
        if (status != VT_OK) failures++;
        else if ((x & 0xFFFFF) == (a & 0xFFFFF)) b = x; /* the same slot */
        else if (vt_end_session(x) != VT_OK) failures++;
    }
    CHECK_EQ_U64(failures, 0);
    CHECK(b != 0 && b != a);
    for (int i = 0; i < 1000; i++) CHECK_STATUS(vt_record_audio_out(b, 7, 1), VT_OK);
    unsigned long rejected_before = st[0].rejected;
    while (st[0].rejected < rejected_before + 10000) sched_yield(); /* stale records keep failing */
    st[0].stop = st[1].stop = 1;
    for (int i = 0; i < 2; i++) pthread_join(t[i], NULL);
    const char *j = snapshot_at(b, 0);
    CHECK_CONTAINS(j, "\"audio_chunks_out\":1000,");
    CHECK_CONTAINS(j, "\"audio_bytes_out\":7000,");
    CHECK_CONTAINS(j, "\"vad_ends\":0,");
    CHECK_CONTAINS(j, "\"turn_open\":false");
    CHECK_EQ_U64(st[0].other + st[1].other, 0);
    CHECK_STATUS(vt_end_session(b), VT_OK);
}

struct racer {
    vt_session s;
    volatile unsigned long ok;
};

static void *racer_worker(void *arg) {
    struct racer *r = arg;
    for (;;) {
        vt_status st = vt_record_audio_out(r->s, 10, 1);
        if (st != VT_OK) return (void *)(intptr_t)(st == VT_E_BAD_HANDLE ? 0 : 1);
        r->ok++;
    }
}

TEST(records_racing_end_are_counted_exactly_as_their_status_says) {
    /* VT_OK: chunk and bytes counted; VT_E_BAD_HANDLE: bytes not counted (the chunk may be). */
    for (int round = 0; round < 20; round++) {
        char transport[32];
        snprintf(transport, sizeof transport, "racing-%d", round);
        vt_session s = open_session(NULL, transport, 0);
        struct racer r[3] = {{s, 0}, {s, 0}, {s, 0}};
        pthread_t t[3];
        for (int i = 0; i < 3; i++) pthread_create(&t[i], NULL, racer_worker, &r[i]);
        while (r[0].ok + r[1].ok + r[2].ok < 3000) sched_yield();
        CHECK_STATUS(vt_end_session(s), VT_OK);
        unsigned long ok = 0;
        for (int i = 0; i < 3; i++) {
            void *bad = NULL;
            pthread_join(t[i], &bad);
            CHECK(bad == NULL);
            ok += r[i].ok;
        }
        char series[128];
        snprintf(series, sizeof series, "voicetelemetry_audio_out_bytes_total{transport=\"%s\"}", transport);
        CHECK(prom_value(series) == 10.0 * (double)ok);
        snprintf(series, sizeof series, "voicetelemetry_audio_out_chunks_total{transport=\"%s\"}", transport);
        double chunks = prom_value(series);
        CHECK(chunks >= (double)ok && chunks <= (double)ok + 3);
    }
}

TEST(session_limit_is_enforced_and_recovers) {
    static vt_session all[VT_MAX_SESSIONS];
    size_t n = 0;
    vt_session s;
    while (n < VT_MAX_SESSIONS + 10) {
        vt_status st = vt_create_session(NULL, &s);
        if (st != VT_OK) {
            CHECK_STATUS(st, VT_E_LIMIT);
            CHECK_CONTAINS(vt_last_error(), "65536");
            break;
        }
        all[n++] = s;
    }
    CHECK_EQ_U64(n, VT_MAX_SESSIONS);
    CHECK_STATUS(vt_end_session(all[0]), VT_OK);
    CHECK_STATUS(vt_create_session(NULL, &all[0]), VT_OK);
    for (size_t i = 0; i < n; i++) CHECK_STATUS(vt_end_session(all[i]), VT_OK);
}

int main(void) {
    RUN(version_matches_header);
    RUN(status_strings_are_static_and_distinct);
    RUN(last_error_is_per_thread);
    RUN(clock_is_monotonic);
    RUN(create_with_defaults_generates_an_id);
    RUN(create_rejects_bad_configs);
    RUN(create_reads_only_what_struct_size_covers);
    RUN(absent_label_values_are_left_out);
    RUN(ended_and_made_up_handles_are_rejected);
    RUN(scripted_scenario_matches_expected_snapshot);
    RUN(response_latency_first_chunk_only_and_vad_start_cancels);
    RUN(out_of_order_timestamps_are_counted_not_clamped);
    RUN(turns_first_start_wins_and_complete_without_start_is_ignored);
    RUN(usage_keeps_latest_and_totals);
    RUN(audio_out_rejects_absurd_sizes);
    RUN(batch_equals_single_calls);
    RUN(snapshot_buffer_contract);
    RUN(snapshot_escapes_ids_and_labels);
    RUN(metric_names_and_values_are_checked);
    RUN(registered_labels_filter_and_count_unknown_keys);
    RUN(series_limit_drops_and_counts);
    RUN(buckets_are_configurable_before_first_use);
    RUN(empty_quantiles_are_nan);
    RUN(prom_text_buffer_contract_and_escaping);
    RUN(sessions_fold_into_process_metrics);
    RUN(promtool_accepts_the_exposition_without_findings);
    RUN(many_threads_give_exact_totals);
    RUN(records_racing_end_never_land_on_the_next_session_in_the_slot);
    RUN(records_racing_end_are_counted_exactly_as_their_status_says);
    RUN(session_limit_is_enforced_and_recovers);
    return check_summary();
}
