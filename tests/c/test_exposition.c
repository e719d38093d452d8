/*
 * test_exposition.c -- what an HTTP endpoint serves from the core (header 1.2): vt_prom_text_as in
 * both formats (OpenMetrics names, UNIT lines, exemplars naming the turn, # EOF), vt_sessions_json and
 * vt_session_find, and the same through the plugin host table.
 */
#include <inttypes.h>
#include <stddef.h>

#include "check.h"
#include "voicetelemetry_plugin.h"

#define MS 1000000ull
#define SEC 1000000000ull
#define TRACE "0af7651916cd43dd8448eb211c80319c"

static char text[1 << 20];

static const char *prom_as(uint32_t format) {
    size_t len = 0;
    CHECK_STATUS(vt_prom_text_as(format, text, sizeof text, &len), VT_OK);
    return text;
}

/* A session on a media clock at 1000 s whose one turn has an e2e of exactly 200 ms: user speech ends
 * at t+100 ms, the first agent audio is at t+300 ms, the agent stops speaking at t+900 ms. */
static vt_session scripted(const char *id, const char *transport, uint64_t t) {
    vt_label label = {"transport", transport};
    vt_session_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.struct_size = sizeof cfg;
    cfg.session_id = id;
    cfg.labels = &label;
    cfg.n_labels = 1;
    cfg.traceparent = "00-" TRACE "-b7ad6b7169203331-01";
    cfg.clock = VT_CLOCK_MEDIA;
    cfg.start_t_ns = 1000 * SEC;
    vt_session s = 0;
    CHECK_STATUS(vt_create_session(&cfg, &s), VT_OK);
    CHECK_STATUS(vt_record_vad_start(s, t), VT_OK);
    CHECK_STATUS(vt_record_vad_end(s, t + 100 * MS), VT_OK);
    CHECK_STATUS(vt_turn_mark(s, VT_STAGE_LLM, VT_MARK_START, t + 110 * MS), VT_OK);
    CHECK_STATUS(vt_turn_mark(s, VT_STAGE_LLM, VT_MARK_FIRST, t + 200 * MS), VT_OK);
    CHECK_STATUS(vt_record_audio_out(s, 640, t + 300 * MS), VT_OK);
    CHECK_STATUS(vt_turn_mark(s, VT_STAGE_AGENT_SPEECH, VT_MARK_END, t + 900 * MS), VT_OK);
    return s;
}

/* t_ns on session s's clock as an exemplar's wall-clock timestamp ("<seconds>.<millis>"). */
static const char *exemplar_time(vt_session s, uint64_t t_ns) {
    static char out[64];
    uint64_t unix_us = unix_us_of(s, t_ns);
    snprintf(out, sizeof out, "%" PRIu64 ".%03" PRIu64, unix_us / 1000000, unix_us / 1000 % 1000);
    return out;
}

TEST(prometheus_format_is_vt_prom_text) {
    vt_session s = scripted("expo-same", "expo_same", 1001 * SEC);
    static char plain[1 << 20];
    size_t len = 0, len_as = 0;
    CHECK_STATUS(vt_prom_text(plain, sizeof plain, &len), VT_OK);
    CHECK_STATUS(vt_prom_text_as(VT_FORMAT_PROMETHEUS, text, sizeof text, &len_as), VT_OK);
    CHECK_EQ_U64(len_as, len);
    CHECK(strcmp(plain, text) == 0);
    CHECK(strstr(text, "# EOF") == NULL);
    CHECK(strstr(text, " # {") == NULL);   /* no exemplars in text 0.0.4 */
    CHECK_STATUS(vt_end_session(s), VT_OK);
}

TEST(openmetrics_names_units_and_eof) {
    vt_session s = scripted("expo-om", "expo_om", 1001 * SEC);
    CHECK_STATUS(vt_counter_add("expo_requests_total", "Requests \"served\".", NULL, 0, 3), VT_OK);
    const char *om = prom_as(VT_FORMAT_OPENMETRICS);
    CHECK_CONTAINS(om, "# HELP expo_requests Requests \\\"served\\\".\n# TYPE expo_requests counter\nexpo_requests_total 3\n");
    CHECK_CONTAINS(om, "# TYPE voicetelemetry_sessions counter\n");
    CHECK_CONTAINS(om, "voicetelemetry_sessions_total{transport=\"expo_om\"} 1\n");
    CHECK_CONTAINS(om, "# TYPE voicetelemetry_audio_out_bytes counter\n# UNIT voicetelemetry_audio_out_bytes bytes\n");
    CHECK_CONTAINS(om, "voicetelemetry_audio_out_bytes_total{transport=\"expo_om\"} 640\n");
    CHECK_CONTAINS(om, "# TYPE voicetelemetry_turn_e2e_latency_seconds histogram\n# UNIT voicetelemetry_turn_e2e_latency_seconds seconds\n");
    CHECK_CONTAINS(om, "# TYPE voicetelemetry_sessions_active gauge\nvoicetelemetry_sessions_active");   /* a gauge: no UNIT, no renaming */
    CHECK_CONTAINS(om, "# TYPE voicetelemetry_turn_e2e_latency_seconds_quantiles summary\n");
    CHECK(strstr(om, "# TYPE voicetelemetry_sessions_total") == NULL);
    size_t n = strlen(om);
    CHECK(n > 6 && strcmp(om + n - 6, "# EOF\n") == 0);
    CHECK(strstr(om, "# EOF") == om + n - 6);
    size_t len = 0;
    CHECK_STATUS(vt_prom_text_as(2, text, sizeof text, &len), VT_E_INVALID_ARG);
    CHECK_CONTAINS(vt_last_error(), "format 2");
    CHECK_STATUS(vt_prom_text_as(VT_FORMAT_OPENMETRICS, NULL, 0, NULL), VT_E_INVALID_ARG);
    CHECK_STATUS(vt_prom_text_as(VT_FORMAT_OPENMETRICS, NULL, 0, &len), VT_E_BUFFER_TOO_SMALL);
    CHECK_EQ_U64(len, n);
    CHECK_STATUS(vt_end_session(s), VT_OK);
}

TEST(exemplars_name_the_turn) {
    uint64_t t = 1002 * SEC;
    vt_session s = scripted("expo-ex-1", "expo_ex", t);
    char expected[512];
    snprintf(expected, sizeof expected,
             "voicetelemetry_turn_e2e_latency_seconds_bucket{le=\"0.2\",transport=\"expo_ex\"} 1 # "
             "{session_id=\"expo-ex-1\",turn_id=\"1\",trace_id=\"" TRACE "\"} 0.2 %s\n",
             exemplar_time(s, t + 900 * MS));
    CHECK_CONTAINS(prom_as(VT_FORMAT_OPENMETRICS), expected);
    /* buckets no turn landed in carry none; the cumulative count goes on without one */
    CHECK_CONTAINS(text, "voicetelemetry_turn_e2e_latency_seconds_bucket{le=\"0.25\",transport=\"expo_ex\"} 1\n");
    CHECK_CONTAINS(text, "voicetelemetry_turn_e2e_latency_seconds_bucket{le=\"0.15\",transport=\"expo_ex\"} 0\n");
    /* the LLM's time to first token (90 ms) lands in le=0.1 */
    CHECK_CONTAINS(text, "voicetelemetry_turn_llm_ttft_seconds_bucket{le=\"0.1\",transport=\"expo_ex\"} 1 # "
                         "{session_id=\"expo-ex-1\",turn_id=\"1\",trace_id=\"" TRACE "\"} 0.09 ");

    /* a later turn in the same bucket replaces it; a session id too long for 128 characters of
     * exemplar labels is left out */
    char long_id[101];
    memset(long_id, 'x', 100);
    long_id[100] = '\0';
    vt_session l = scripted(long_id, "expo_ex", t + 10 * SEC);
    snprintf(expected, sizeof expected,
             "voicetelemetry_turn_e2e_latency_seconds_bucket{le=\"0.2\",transport=\"expo_ex\"} 2 # "
             "{turn_id=\"1\",trace_id=\"" TRACE "\"} 0.2 %s\n",
             exemplar_time(l, t + 10 * SEC + 900 * MS));
    CHECK_CONTAINS(prom_as(VT_FORMAT_OPENMETRICS), expected);
    CHECK_STATUS(vt_end_session(s), VT_OK);
    CHECK_STATUS(vt_end_session(l), VT_OK);
    /* exemplars outlive their sessions: the histogram is the process's */
    CHECK_CONTAINS(prom_as(VT_FORMAT_OPENMETRICS), expected);
}

TEST(sessions_json_lists_open_sessions_oldest_first) {
    vt_session a = scripted("expo-list-a", "expo_list", 1003 * SEC);
    vt_session b = open_session_with(VT_TEXT_REDACT, 0, 0);
    size_t len = 0;
    CHECK_STATUS(vt_sessions_json(NULL, 0, NULL), VT_E_INVALID_ARG);
    CHECK_STATUS(vt_sessions_json(text, 1, &len), VT_E_BUFFER_TOO_SMALL);
    CHECK_STATUS(vt_sessions_json(text, sizeof text, &len), VT_OK);
    CHECK_EQ_U64(strlen(text), len);
    const char *first = strstr(text, "{\"session_id\":\"expo-list-a\",\"labels\":{\"transport\":\"expo_list\"},");
    CHECK(first != NULL);
    char tail[256];
    snprintf(tail, sizeof tail, "\"turns_completed\":1,\"turns_interrupted\":0,\"last_e2e_ns\":200000000,"
                                "\"trace_id\":\"" TRACE "\"}");
    CHECK_CONTAINS(first, tail);
    CHECK(first && json_u64(first, "uptime_ns") < 60 * SEC);   /* real time since creation */
    char snapshot[8192];
    CHECK_STATUS(vt_snapshot_json(a, snapshot, sizeof snapshot, &len), VT_OK);
    CHECK_EQ_U64(json_u64(first, "start_unix_ns"), json_u64(snapshot, "start_unix_ns"));
    /* b (no turn yet) comes after a */
    const char *second = first ? strstr(first + 1, "{\"session_id\":\"vt-") : NULL;
    CHECK(second != NULL);
    CHECK_CONTAINS(second, "\"labels\":{},");
    CHECK_CONTAINS(second, "\"turns_completed\":0,\"turns_interrupted\":0,\"last_e2e_ns\":null,");
    CHECK_STATUS(vt_end_session(a), VT_OK);
    CHECK_STATUS(vt_sessions_json(text, sizeof text, &len), VT_OK);
    CHECK(strstr(text, "expo-list-a") == NULL);
    CHECK_STATUS(vt_end_session(b), VT_OK);
}

TEST(session_find_by_id) {
    vt_session first = scripted("expo-find", "expo_find", 1004 * SEC);
    vt_session second = scripted("expo-find", "expo_find", 1005 * SEC);
    vt_session found = 0;
    CHECK_STATUS(vt_session_find("expo-find", &found), VT_OK);
    CHECK_EQ_U64(found, second);   /* the newest of two open sessions with the id */
    CHECK_STATUS(vt_end_session(second), VT_OK);
    CHECK_STATUS(vt_session_find("expo-find", &found), VT_OK);
    CHECK_EQ_U64(found, first);
    CHECK_STATUS(vt_end_session(first), VT_OK);
    found = 7;
    CHECK_STATUS(vt_session_find("expo-find", &found), VT_E_NOT_FOUND);
    CHECK_CONTAINS(vt_last_error(), "no open session has the id 'expo-find'");
    CHECK_EQ_U64(found, 7);
    CHECK_STATUS(vt_session_find(NULL, &found), VT_E_INVALID_ARG);
    CHECK_STATUS(vt_session_find("", &found), VT_E_INVALID_ARG);
    CHECK_STATUS(vt_session_find("expo-find", NULL), VT_E_INVALID_ARG);
    CHECK_STATUS(vt_session_find("\xff\xfe", &found), VT_E_INVALID_ARG);
    char too_long[VT_MAX_SESSION_ID_BYTES + 2];
    memset(too_long, 'a', sizeof too_long - 1);
    too_long[sizeof too_long - 1] = '\0';
    CHECK_STATUS(vt_session_find(too_long, &found), VT_E_INVALID_ARG);
}

/* The host table a plugin gets offers the same four calls. */
static const vt_host_api *seen_host;
static void *seen_ctx;

static int32_t probe_init(const vt_host_api *host, void *host_ctx, const char *config_json, void **state_out,
                          char *err, size_t err_cap) {
    (void)config_json; (void)err; (void)err_cap;
    seen_host = host;
    seen_ctx = host_ctx;
    *state_out = NULL;
    return 0;
}

static int32_t probe_write(void *state, const vt_sink_batch *batch) {
    (void)state; (void)batch;
    return VT_SINK_OK;
}

TEST(host_table_serves_the_same) {
    static const vt_plugin_table table = {sizeof(vt_plugin_table), VT_PLUGIN_ABI_MAJOR, VT_PLUGIN_ABI_MINOR,
                                          "expo_probe", "1", probe_init, probe_write, NULL, NULL};
    vt_plugin_id id = 0;
    CHECK_STATUS(vt_load_plugin_table(&table, NULL, &id), VT_OK);
    CHECK(seen_host != NULL && seen_host->struct_size >= offsetof(vt_host_api, turn_history_json) + sizeof(void *));
    if (!seen_host || seen_host->struct_size < sizeof(vt_host_api)) return;
    CHECK_EQ_U64(seen_host->abi_minor, 1);
    vt_session s = scripted("expo-host", "expo_host", 1006 * SEC);
    uint64_t found = 0;
    CHECK_STATUS(seen_host->session_find(seen_ctx, "expo-host", &found), VT_OK);
    CHECK_EQ_U64(found, s);
    CHECK_STATUS(seen_host->session_find(seen_ctx, "expo-nobody", &found), VT_E_NOT_FOUND);
    static char mine[1 << 20];
    size_t len = 0, mine_len = 0;
    CHECK_STATUS(seen_host->turn_history_json(seen_ctx, found, 0, mine, sizeof mine, &mine_len), VT_OK);
    CHECK_STATUS(vt_turn_history_json(s, 0, text, sizeof text, &len), VT_OK);
    CHECK(len == mine_len && strcmp(text, mine) == 0);
    CHECK_STATUS(seen_host->sessions_json(seen_ctx, mine, sizeof mine, &mine_len), VT_OK);
    CHECK_CONTAINS(mine, "{\"session_id\":\"expo-host\",");
    CHECK_STATUS(seen_host->prom_text_as(seen_ctx, VT_FORMAT_OPENMETRICS, mine, sizeof mine, &mine_len), VT_OK);
    CHECK(strcmp(mine + mine_len - 6, "# EOF\n") == 0);
    CHECK_CONTAINS(mine, "# TYPE voicetelemetry_plugin_events_emitted counter\n");
    CHECK_CONTAINS(mine, "voicetelemetry_plugin_events_emitted_total{plugin=\"expo_probe\"} ");
    CHECK_STATUS(seen_host->prom_text_as(seen_ctx, 9, mine, sizeof mine, &mine_len), VT_E_INVALID_ARG);
    CHECK_STATUS(vt_end_session(s), VT_OK);
    CHECK_STATUS(vt_unload_plugin(id), VT_OK);
}

int main(void) {
    RUN(prometheus_format_is_vt_prom_text);
    RUN(openmetrics_names_units_and_eof);
    RUN(exemplars_name_the_turn);
    RUN(sessions_json_lists_open_sessions_oldest_first);
    RUN(session_find_by_id);
    RUN(host_table_serves_the_same);
    return check_summary();
}
