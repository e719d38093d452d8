/*
 * test_trace_e2e.c -- the SQLite sink loaded into the real library (vt_load_plugin): a session on a
 * media clock that starts at 1 s, three turns driven through the record and turn calls (one with a
 * tool call and a barge-in), the tracer's vocabulary (messages, an engine step, rewards) sent with
 * vt_emit under the event types of docs/trace-schema.md, the session ended and the events flushed;
 * then the rows, exactly. No sleeps: vt_flush_events delivers everything before the checks.
 *
 * The second test makes the same kind of call with the library's own trace calls (vt_step_start/end,
 * vt_record_message, the rewards, vt_end_session_at, session metadata) and the turn collector's
 * transcripts, and checks that every wall-clock time is the session's anchor plus its session-clock
 * time.
 *
 * The third prices a call (vt_set_prices; token reports, STT audio seconds, TTS characters, an
 * unpriced TTS provider, a turn without a table, transport) and checks the cost columns against
 * amounts worked out by hand from docs/cost.md.
 */
#include <sqlite3.h>
#include <stdarg.h>
#include <unistd.h>

#include "check.h"

#define SINK "build/plugins/sqlite_sink.so"
#define MS 1000000ull
#define SEC 1000000000ull

static const char *q(sqlite3 *db, const char *sql) {
    static char out[4][8192];
    static int next;
    char *o = out[next++ % 4];
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        snprintf(o, 8192, "(error: %s)", sqlite3_errmsg(db));
        return o;
    }
    int rc = sqlite3_step(st);
    const unsigned char *t = rc == SQLITE_ROW ? sqlite3_column_text(st, 0) : NULL;
    snprintf(o, 8192, "%s", rc != SQLITE_ROW ? "(no row)" : t ? (const char *)t : "NULL");
    sqlite3_finalize(st);
    return o;
}

#define CHECK_SAME(actual, expected) check_same(__FILE__, __LINE__, #actual, (actual), (expected))
static void check_same(const char *file, int line, const char *what, const char *a, const char *e) {
    int ok = a && strcmp(a, e) == 0;
    if (!ok)
        fprintf(stderr, "%s:%d: %s\n    is       \"%s\"\n    expected \"%s\"\n", file, line, what, a ? a : "(null)", e);
    check_report(ok, file, line, "the texts above differ");
}

static void emit(vt_session s, const char *type, uint64_t t_ns, const char *json) {
    CHECK_STATUS(vt_emit(s, type, json, NULL, NULL, t_ns), VT_OK);
}

/* One user turn on the session's clock: speech [speech_start, speech_end], then STT final, EOU
 * end, LLM first token, TTS first byte and the first audio each `ms` after the one before. */
static void user_turn(vt_session s, uint64_t speech_start, uint64_t speech_end, const uint64_t ms[5]) {
    uint64_t t = speech_end;
    CHECK_STATUS(vt_record_vad_start(s, speech_start), VT_OK);
    CHECK_STATUS(vt_turn_mark(s, VT_STAGE_STT, VT_MARK_START, speech_start), VT_OK);
    CHECK_STATUS(vt_record_vad_end(s, speech_end), VT_OK);
    CHECK_STATUS(vt_turn_mark(s, VT_STAGE_EOU, VT_MARK_START, speech_end), VT_OK);
    CHECK_STATUS(vt_turn_mark(s, VT_STAGE_STT, VT_MARK_FINAL, t += ms[0] * MS), VT_OK);
    CHECK_STATUS(vt_turn_mark(s, VT_STAGE_EOU, VT_MARK_END, t += ms[1] * MS), VT_OK);
    CHECK_STATUS(vt_turn_mark(s, VT_STAGE_LLM, VT_MARK_START, t), VT_OK);
    CHECK_STATUS(vt_turn_mark(s, VT_STAGE_LLM, VT_MARK_FIRST, t += ms[2] * MS), VT_OK);
    CHECK_STATUS(vt_turn_mark(s, VT_STAGE_TTS, VT_MARK_START, t), VT_OK);
    CHECK_STATUS(vt_turn_mark(s, VT_STAGE_TTS, VT_MARK_FIRST, t += ms[3] * MS), VT_OK);
    CHECK_STATUS(vt_record_audio_out(s, 640, t += ms[4] * MS), VT_OK);
}

static void run_call(const char *path) {
    vt_label labels[] = {{"transport", "sip"}, {"provider", "acme"}};
    vt_session_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.struct_size = sizeof cfg;
    cfg.session_id = "e2e-1";
    cfg.labels = labels;
    cfg.n_labels = 2;
    cfg.start_t_ns = SEC;
    cfg.text_policy = VT_TEXT_INCLUDE;
    vt_session s = 0;
    char config[1024];
    snprintf(config, sizeof config, "{\"path\":\"%s\"}", path);
    vt_plugin_id id = 0;
    CHECK_STATUS(vt_load_plugin(SINK, config, &id), VT_OK);
    CHECK_STATUS(vt_create_session(&cfg, &s), VT_OK);
    CHECK_STATUS(vt_turn_provider(s, VT_STAGE_LLM, "openai", "gpt-4o-mini", SEC), VT_OK);

    static const uint64_t t1[5] = {100, 150, 200, 80, 20}, t2[5] = {120, 100, 300, 90, 10}, t3[5] = {90, 110, 250, 70, 30};
    user_turn(s, 1200 * MS, 2000 * MS, t1);
    emit(s, "message", 2100 * MS, "{\"role\":\"user\",\"step_id\":\"turn-1\",\"content_type\":\"text\","
                                  "\"content\":\"Where is my order?\",\"chars\":18,\"redacted\":false,\"truncated\":false}");
    emit(s, "message", 2550 * MS, "{\"role\":\"assistant\",\"step_id\":\"turn-1\",\"content_type\":\"text\","
                                  "\"content\":\"Let me check.\",\"chars\":13,\"redacted\":false,\"truncated\":false}");
    CHECK_STATUS(vt_turn_mark(s, VT_STAGE_AGENT_SPEECH, VT_MARK_END, 4000 * MS), VT_OK);
    emit(s, "reward.event", 4000 * MS, "{\"objective_key\":\"helpfulness\",\"value\":0.5,\"reward_type\":\"sparse\","
                                       "\"source\":\"grader-v1\",\"step_id\":\"turn-1\",\"annotation\":null}");

    user_turn(s, 4100 * MS, 4500 * MS, t2);
    emit(s, "step.start", 4600 * MS, "{\"step_id\":\"lookup\",\"turn_number\":2,\"metadata\":{\"tool\":\"lookup_order\"}}");
    CHECK_STATUS(vt_turn_tool_call(s, VT_TOOL_FUNCTION, "lookup_order", 4650 * MS, 4950 * MS, 1), VT_OK);
    emit(s, "step.end", 4960 * MS, "{\"step_id\":\"lookup\"}");
    CHECK_STATUS(vt_record_interruption(s, 6000 * MS), VT_OK);
    CHECK_STATUS(vt_turn_mark(s, VT_STAGE_AGENT_SPEECH, VT_MARK_END, 6040 * MS), VT_OK);

    user_turn(s, 6100 * MS, 7000 * MS, t3);
    CHECK_STATUS(vt_turn_mark(s, VT_STAGE_AGENT_SPEECH, VT_MARK_END, 9000 * MS), VT_OK);
    emit(s, "reward.outcome", 9500 * MS, "{\"objective_key\":\"resolution\",\"total_reward\":0.75,"
                                         "\"achievements_count\":2,\"total_steps\":3,\"annotation\":null}");
    CHECK_STATUS(vt_end_session(s), VT_OK);
    CHECK_STATUS(vt_flush_events(5000), VT_OK);
    vt_plugin_statistics st;
    memset(&st, 0, sizeof st);
    st.struct_size = sizeof st;
    CHECK_STATUS(vt_plugin_stats(id, &st), VT_OK);
    CHECK_EQ_U64(st.delivered, st.emitted);
    CHECK_EQ_U64(st.plugin_reported_drops, 0);
    CHECK_STATUS(vt_unload_plugin(id), VT_OK);
}

TEST(a_call_through_the_library_lands_in_the_tables) {
    char path[256];
    snprintf(path, sizeof path, "/tmp/vt-trace-e2e-%d.db", (int)getpid());
    unlink(path);
    CHECK_STATUS(vt_set_event_rate_limit(0), VT_OK);
    run_call(path);
    CHECK_STATUS(vt_set_event_rate_limit(VT_DEFAULT_EVENT_RATE_LIMIT), VT_OK);
    sqlite3 *db = NULL;
    CHECK(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK);
    CHECK_SAME(q(db, "SELECT session_id || '|' || labels || '|' || text_policy || '|' || start_us || '|' ||"
                     " turn_count || '|' || turns_interrupted || '|' || interruptions FROM sessions"),
               "e2e-1|{\"provider\":\"acme\",\"transport\":\"sip\"}|include|1000000|3|1|1");
    CHECK_SAME(q(db, "SELECT group_concat(r, ';') FROM (SELECT turn_number || '|' || outcome || '|' || interrupted ||"
                     " '|' || e2e_ns || '|' || e2e_stt_ns || '|' || e2e_eou_ns || '|' || e2e_llm_ttft_ns || '|' ||"
                     " e2e_tts_ttfb_ns || '|' || e2e_remainder_ns || '|' || llm_provider || '|' || tool_calls_total"
                     " AS r FROM turns ORDER BY turn_number)"),
               "1|completed|0|550000000|100000000|150000000|200000000|80000000|20000000|openai|0;"
               "2|interrupted|1|620000000|120000000|100000000|300000000|90000000|10000000|openai|1;"
               "3|completed|0|550000000|90000000|110000000|250000000|70000000|30000000|openai|0");
    CHECK_SAME(q(db, "SELECT group_concat(r, ';') FROM (SELECT step_id || '|' || kind || '|' || turn_number || '|' ||"
                     " start_us || '|' || end_us AS r FROM steps ORDER BY start_us)"),
               "turn-1|turn|1|1200000|4000000;turn-2|turn|2|4100000|6040000;lookup|engine|2|4600000|4960000;"
               "turn-3|turn|3|6100000|9000000");
    CHECK_SAME(q(db, "SELECT group_concat(name || '|' || ok || '|' || step_id || '|' || duration_ns, ';') FROM tool_calls"),
               "lookup_order|1|turn-2|300000000");
    CHECK_SAME(q(db, "SELECT group_concat(role || ':' || content, ';') FROM (SELECT * FROM messages ORDER BY t_us)"),
               "user:Where is my order?;assistant:Let me check.");
    CHECK_SAME(q(db, "SELECT (SELECT objective_key || '=' || value FROM event_rewards) || ',' ||"
                     " (SELECT objective_key || '=' || total_reward FROM outcome_rewards)"),
               "helpfulness=0.5,resolution=0.75");
    CHECK_SAME(q(db, "SELECT group_concat(event_type || '=' || n, ',') FROM (SELECT event_type, count(*) AS n FROM events"
                     " GROUP BY event_type ORDER BY event_type)"),
               "interruption=1,message=2,reward.event=1,reward.outcome=1,session.end=1,session.start=1,step.end=1,"
               "step.start=1,turn.complete=3");
    /* no price table: no cost (NULL, not 0) */
    CHECK_SAME(q(db, "SELECT count(*) || '|' || count(cost_total_micros) || '|' || count(cost_currency) FROM turns"), "3|0|0");
    CHECK_SAME(q(db, "SELECT ifnull(cost_total_micros, '-') || '|' || ifnull(cost_currency, '-') FROM sessions"), "-|-");
    /* Wall-clock columns are filled once the core stamps timestamp_unix_us; either way they agree
     * with the session clock. */
    CHECK_SAME(q(db, "SELECT count(*) FROM steps WHERE start_unix_us IS NOT NULL AND"
                     " end_unix_us - start_unix_us != end_us - start_us"), "0");
    sqlite3_close(db);
    unlink(path);
    char side[300];
    snprintf(side, sizeof side, "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", path);
    unlink(side);
}

/* ---- the library's own trace calls -------------------------------------------------------------- */

#define SESSION_METADATA "{\"agent\":\"support-v3\",\"locale\":\"en-GB\"}"
#define TOOL_RESULT "{\"order\":\"A-1\",\"eta_days\":2}"

static void run_tracer_call(const char *path) {
    vt_label labels[] = {{"transport", "webrtc"}};
    vt_session_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.struct_size = sizeof cfg;
    cfg.session_id = "tracer-1";
    cfg.labels = labels;
    cfg.n_labels = 1;
    cfg.start_t_ns = SEC;
    cfg.text_policy = VT_TEXT_INCLUDE;
    cfg.metadata_json = SESSION_METADATA;
    vt_session s = 0;
    char config[1024];
    snprintf(config, sizeof config, "{\"path\":\"%s\"}", path);
    vt_plugin_id id = 0;
    CHECK_STATUS(vt_load_plugin(SINK, config, &id), VT_OK);
    CHECK_STATUS(vt_create_session(&cfg, &s), VT_OK);
    CHECK_STATUS(vt_turn_provider(s, VT_STAGE_LLM, "openai", "gpt-4o-mini", SEC), VT_OK);
    CHECK_STATUS(vt_record_message(s, "system", "You are a helpful agent.", NULL, 1100 * MS), VT_OK); /* no step yet */
    static const uint64_t t1[5] = {100, 150, 200, 80, 20}, t2[5] = {120, 100, 300, 90, 10}, t3[5] = {90, 110, 250, 70, 30};
    user_turn(s, 1200 * MS, 2000 * MS, t1);
    CHECK_STATUS(vt_turn_text(s, VT_TT_USER_TRANSCRIPT, "Where is my order?", 2100 * MS), VT_OK);
    CHECK_STATUS(vt_turn_text(s, VT_TT_AGENT_RESPONSE, "Let me check.", 2550 * MS), VT_OK);
    CHECK_STATUS(vt_record_event_reward(s, "helpfulness", 0.5, "sparse", "grader-v1", NULL, 3000 * MS), VT_OK);
    CHECK_STATUS(vt_turn_mark(s, VT_STAGE_AGENT_SPEECH, VT_MARK_END, 4000 * MS), VT_OK);
    user_turn(s, 4100 * MS, 4500 * MS, t2);
    CHECK_STATUS(vt_step_start(s, "lookup", "{\"tool\":\"lookup_order\"}", 4600 * MS), VT_OK);
    CHECK_STATUS(vt_turn_tool_call(s, VT_TOOL_FUNCTION, "lookup_order", 4650 * MS, 4950 * MS, 1), VT_OK);
    CHECK_STATUS(vt_record_message(s, "tool", TOOL_RESULT, "{\"tool\":\"lookup_order\"}", 4955 * MS), VT_OK);
    CHECK_STATUS(vt_step_end(s, "lookup", 4960 * MS), VT_OK);
    CHECK_STATUS(vt_record_interruption(s, 6000 * MS), VT_OK);
    CHECK_STATUS(vt_turn_mark(s, VT_STAGE_AGENT_SPEECH, VT_MARK_END, 6040 * MS), VT_OK);
    user_turn(s, 6100 * MS, 7000 * MS, t3);
    CHECK_STATUS(vt_turn_mark(s, VT_STAGE_AGENT_SPEECH, VT_MARK_END, 9000 * MS), VT_OK);
    CHECK_STATUS(vt_record_outcome_reward(s, "resolution", 0.75, 2, "{\"grader\":\"llm\"}", 9500 * MS), VT_OK);
    CHECK_STATUS(vt_end_session_at(s, 10 * SEC), VT_OK);
    CHECK_STATUS(vt_record_outcome_reward_for("tracer-1", "csat", 4, 1, "{\"grader\":\"human\"}", 0), VT_OK); /* a grader, later */
    CHECK_STATUS(vt_flush_events(5000), VT_OK);
    CHECK_STATUS(vt_unload_plugin(id), VT_OK);
}

TEST(the_library_trace_calls_land_in_the_tables) {
    char path[256];
    snprintf(path, sizeof path, "/tmp/vt-trace-e2e-tracer-%d.db", (int)getpid());
    unlink(path);
    run_tracer_call(path);
    sqlite3 *db = NULL;
    CHECK(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK);
    CHECK_SAME(q(db, "SELECT session_id || '|' || clock || '|' || length(trace_id) || '|' || start_us || '|' || end_us ||"
                     " '|' || (end_unix_us - start_unix_us) || '|' || turn_count || '|' || interruptions FROM sessions"),
               "tracer-1|monotonic|32|1000000|10000000|9000000|3|1");
    CHECK_SAME(q(db, "SELECT metadata FROM sessions"), SESSION_METADATA);
    CHECK_SAME(q(db, "SELECT group_concat(r, ';') FROM (SELECT step_id || '|' || kind || '|' ||"
                     " ifnull(turn_number, '-') || '|' || start_us || '|' || end_us || '|' || ifnull(metadata, '-') AS r"
                     " FROM steps ORDER BY start_us)"),
               "turn-1|turn|1|1200000|4000000|-;turn-2|turn|2|4100000|6040000|-;"
               "lookup|engine|-|4600000|4960000|{\"tool\":\"lookup_order\"};turn-3|turn|3|6100000|9000000|-");
    CHECK_SAME(q(db, "SELECT group_concat(r, ';') FROM (SELECT role || '|' || ifnull(step_id, '-') || '|' ||"
                     " content_type || '|' || content || '|' || chars || '|' || t_us AS r FROM messages ORDER BY t_us)"),
               "system|-|text|You are a helpful agent.|24|1100000;user|turn-1|text|Where is my order?|18|2000000;"
               "assistant|turn-1|text|Let me check.|13|2550000;tool|lookup|json|" TOOL_RESULT "|28|4955000");
    CHECK_SAME(q(db, "SELECT group_concat(objective_key || '=' || value || '@' || step_id || '@' || t_us, ';')"
                     " FROM event_rewards"), "helpfulness=0.5@turn-1@3000000");
    CHECK_SAME(q(db, "SELECT group_concat(r, ';') FROM (SELECT objective_key || '|' || total_reward || '|' ||"
                     " achievements_count || '|' || ifnull(total_steps, '-') || '|' || annotation ||"
                     " CASE WHEN total_steps IS NULL THEN '' ELSE '|' || t_us END AS r"
                     " FROM outcome_rewards ORDER BY id)"),
               "resolution|0.75|2|4|{\"grader\":\"llm\"}|9500000;csat|4.0|1|-|{\"grader\":\"human\"}");
    /* wall clock = the session's anchor + session-clock time, for every row dated on its clock */
    CHECK_SAME(q(db, "SELECT count(*) FROM steps, sessions s WHERE steps.start_unix_us - s.start_unix_us !="
                     " steps.start_us - s.start_us OR steps.end_unix_us - s.start_unix_us != steps.end_us - s.start_us"),
               "0");
    CHECK_SAME(q(db, "SELECT count(*) || '|' || sum(e.unix_us - s.start_unix_us = e.t_us - s.start_us) FROM events e,"
                     " sessions s WHERE json_extract(e.data, '$.total_steps') IS NOT NULL OR"
                     " e.event_type != 'reward.outcome'"), "14|14"); /* all but the grader's (process clock) */
    sqlite3_close(db);
    unlink(path);
    char side[300];
    snprintf(side, sizeof side, "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", path);
    unlink(side);
}

/* ---- a priced call: the cost columns --------------------------------------------------------- */

#define PRICES                                                                                        \
    "{\"currency\":\"USD\",\"prices\":["                                                                \
    "{\"stage\":\"llm\",\"provider\":\"openai\",\"model\":\"gpt-4o-mini\",\"input\":0.15,"                \
    "\"cached_input\":0.075,\"output\":0.6},"                                                          \
    "{\"stage\":\"stt\",\"provider\":\"deepgram\",\"model\":\"nova-3\",\"per_minute\":0.0043},"           \
    "{\"stage\":\"tts\",\"provider\":\"cartesia\",\"per_million_characters\":65},"                      \
    "{\"stage\":\"transport\",\"provider\":\"sip\",\"per_minute\":0.004}]}"

static void report_usage(vt_session s, int64_t input, int64_t cached, int64_t output, double stt_seconds,
                         double tts_characters, uint64_t t_ns) {
    vt_token_usage u = {sizeof u, input, output, cached, -1, -1, -1, -1, -1, -1};
    CHECK_STATUS(vt_turn_usage(s, VT_STAGE_LLM, &u, t_ns), VT_OK);
    CHECK_STATUS(vt_turn_value(s, VT_TV_STT_AUDIO_SECONDS, stt_seconds, t_ns), VT_OK);
    CHECK_STATUS(vt_turn_value(s, VT_TV_TTS_CHARACTERS, tts_characters, t_ns), VT_OK);
}

/* Turn 1 (1 µ = 1e-6 USD; each amount rounded half up from its exact sum of 1e-12 units):
 *   llm gpt-4o-mini 1000 input (200 cached), 120 output: 800 x 0.15/M + 200 x 0.075/M + 120 x 0.6/M
 *       = 120 + 15 + 72 = 207 µ; stt nova-3 3 s: 3/60 x 0.0043 = 215 µ;
 *   tts cartesia 250 characters: 250 x 65/M = 16250 µ; total 16672 µ.
 * Turn 2: llm 500 input, 40 output: 75 + 24 = 99 µ; stt 1.25 s: 1.25/60 x 0.0043 = 89.583333 µ
 *   (89583333 pico) -> 90 µ; tts elevenlabs (no entry): unpriced, 0; total 188.583333 -> 189 µ.
 * Turn 3: the table is cleared: not priced, no cost (NULL).
 * The end (the table loaded again): transport sip, 9 s: 0.15 x 0.004 = 600 µ. The session: stt
 *   215 + 89.583333 -> 305, llm 306, tts 16250, transport 600, total 17460.583333 -> 17461 µ. */
static void run_priced_call(const char *path) {
    vt_label labels[] = {{"transport", "sip"}};
    vt_session_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.struct_size = sizeof cfg;
    cfg.session_id = "priced-1";
    cfg.labels = labels;
    cfg.n_labels = 1;
    cfg.start_t_ns = SEC;
    vt_session s = 0;
    char config[1024];
    snprintf(config, sizeof config, "{\"path\":\"%s\"}", path);
    vt_plugin_id id = 0;
    CHECK_STATUS(vt_load_plugin(SINK, config, &id), VT_OK);
    CHECK_STATUS(vt_set_prices(PRICES), VT_OK);
    CHECK_STATUS(vt_create_session(&cfg, &s), VT_OK);
    CHECK_STATUS(vt_turn_provider(s, VT_STAGE_STT, "deepgram", "nova-3", SEC), VT_OK);
    CHECK_STATUS(vt_turn_provider(s, VT_STAGE_LLM, "openai", "gpt-4o-mini", SEC), VT_OK);
    CHECK_STATUS(vt_turn_provider(s, VT_STAGE_TTS, "cartesia", "sonic-2", SEC), VT_OK);
    static const uint64_t t1[5] = {100, 150, 200, 80, 20}, t2[5] = {120, 100, 300, 90, 10}, t3[5] = {90, 110, 250, 70, 30};
    user_turn(s, 1200 * MS, 2000 * MS, t1);
    report_usage(s, 1000, 200, 120, 3.0, 250, 2600 * MS);
    CHECK_STATUS(vt_turn_mark(s, VT_STAGE_AGENT_SPEECH, VT_MARK_END, 4000 * MS), VT_OK);
    CHECK_STATUS(vt_turn_provider(s, VT_STAGE_TTS, "elevenlabs", "flash-v2", 4050 * MS), VT_OK);
    user_turn(s, 4100 * MS, 4500 * MS, t2);
    report_usage(s, 500, -1, 40, 1.25, 80, 5200 * MS);
    CHECK_STATUS(vt_turn_mark(s, VT_STAGE_AGENT_SPEECH, VT_MARK_END, 6000 * MS), VT_OK);
    CHECK_STATUS(vt_set_prices(NULL), VT_OK);
    user_turn(s, 6100 * MS, 7000 * MS, t3);
    report_usage(s, 300, -1, 20, 2.0, 100, 7600 * MS);
    CHECK_STATUS(vt_turn_mark(s, VT_STAGE_AGENT_SPEECH, VT_MARK_END, 9000 * MS), VT_OK);
    CHECK_STATUS(vt_set_prices(PRICES), VT_OK);
    CHECK_STATUS(vt_end_session_at(s, 10 * SEC), VT_OK);
    CHECK_STATUS(vt_flush_events(5000), VT_OK);
    CHECK_STATUS(vt_unload_plugin(id), VT_OK);
    CHECK_STATUS(vt_set_prices(NULL), VT_OK);
}

TEST(a_priced_call_has_its_costs_in_columns) {
    char path[256];
    snprintf(path, sizeof path, "/tmp/vt-trace-e2e-priced-%d.db", (int)getpid());
    unlink(path);
    run_priced_call(path);
    sqlite3 *db = NULL;
    CHECK(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK);
    CHECK_SAME(q(db, "SELECT group_concat(r, ';') FROM (SELECT turn_number || '|' || tts_provider || '|' ||"
                     " ifnull(cost_currency, '-') || '|' || ifnull(cost_total_micros, '-') || '|' ||"
                     " ifnull(cost_stt_micros, '-') || '|' || ifnull(cost_llm_micros, '-') || '|' ||"
                     " ifnull(cost_tts_micros, '-') || '|' || ifnull(cost_realtime_micros, '-') || '|' ||"
                     " ifnull(cost_unpriced_charges, '-') AS r FROM turns ORDER BY turn_number)"),
               "1|cartesia|USD|16672|215|207|16250|0|0;2|elevenlabs|USD|189|90|99|0|0|1;3|elevenlabs|-|-|-|-|-|-|-");
    CHECK_SAME(q(db, "SELECT json_extract(record, '$.cost.unpriced') || '|' || json_type(record, '$.cost')"
                     " FROM turns WHERE turn_number = 2"), "[\"tts:elevenlabs/flash-v2\"]|object");
    CHECK_SAME(q(db, "SELECT json_type(record, '$.cost') FROM turns WHERE turn_number = 3"), "null");
    CHECK_SAME(q(db, "SELECT cost_currency || '|' || cost_total_micros || '|' || cost_stt_micros || '|' ||"
                     " cost_llm_micros || '|' || cost_tts_micros || '|' || cost_realtime_micros || '|' ||"
                     " cost_transport_micros || '|' || cost_unpriced_charges FROM sessions"),
               "USD|17461|305|306|16250|0|600|1");
    sqlite3_close(db);
    unlink(path);
    char side[300];
    snprintf(side, sizeof side, "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", path);
    unlink(side);
}

int main(void) {
    if (access(SINK, F_OK) != 0) {
        fprintf(stderr, "%s is missing: make plugins\n", SINK);
        return 2;
    }
    RUN(a_call_through_the_library_lands_in_the_tables);
    RUN(the_library_trace_calls_land_in_the_tables);
    RUN(a_priced_call_has_its_costs_in_columns);
    return check_summary();
}
