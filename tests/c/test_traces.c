/*
 * test_traces.c -- one clock per session, wall-clock anchors, and the trace calls (steps, messages,
 * rewards), read back from the events a JSON Lines sink received (header sections TIME, Sessions,
 * Traces; docs/event-schema.md).
 */
#include <inttypes.h>
#include <stddef.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

#define JSONL "build/plugins/jsonl_sink.so"
#define MS 1000000ull
#define SEC 1000000000ull

static char dir[] = "/tmp/vt-traces-XXXXXX";
static char lines[1 << 20];

static vt_plugin_id load_sink(const char *name, char *path, size_t cap) {
    snprintf(path, cap, "%s/%s.jsonl", dir, name);
    char config[600];
    snprintf(config, sizeof config, "{\"path\":\"%s\"}", path);
    vt_plugin_id id = 0;
    CHECK_STATUS(vt_load_plugin(JSONL, config, &id), VT_OK);
    return id;
}

/* Everything the sink got, after a flush and unload. */
static const char *read_back(vt_plugin_id id, const char *path) {
    CHECK_STATUS(vt_flush_events(5000), VT_OK);
    CHECK_STATUS(vt_unload_plugin(id), VT_OK);
    FILE *f = fopen(path, "rb");
    size_t n = f ? fread(lines, 1, sizeof lines - 1, f) : 0;
    lines[n] = '\0';
    if (f) fclose(f);
    return lines;
}

/* The line of the n-th (0-based) event of `type`, copied into a static buffer; "" if there is none. */
static const char *event_line(const char *text, const char *type, int n) {
    static char line[8192];
    char needle[96];
    snprintf(needle, sizeof needle, "\"event_type\":\"%s\"", type);
    const char *at = strstr(text, needle);
    for (int i = 0; at && i < n; i++) at = strstr(at + 1, needle);
    line[0] = '\0';
    if (!at) return line;
    const char *start = at;
    while (start > text && start[-1] != '\n') start--;
    const char *end = strchr(at, '\n');
    size_t len = end ? (size_t)(end - start) : strlen(start);
    if (len >= sizeof line) len = sizeof line - 1;
    memcpy(line, start, len);
    line[len] = '\0';
    return line;
}

/* The data object of an event line (from "data": to the end of the line, without the last brace). */
static const char *data_of(const char *line) {
    static char data[8192];
    const char *at = strstr(line, ",\"data\":");
    data[0] = '\0';
    if (!at) return data;
    snprintf(data, sizeof data, "%s", at + 8);
    size_t len = strlen(data);
    if (len > 0) data[len - 1] = '\0';
    return data;
}

static vt_session open_with(vt_session_config *c) {
    c->struct_size = sizeof *c;
    vt_session s = 0;
    CHECK_STATUS(vt_create_session(c, &s), VT_OK);
    return s;
}

static uint64_t mono_ns(void) { return vt_now_ns(); }

/* A media clock that starts at 1 s: every event of the session is on it, and the wall clock of each
 * is the session's anchor plus the event's distance from the start. */
TEST(every_event_of_a_media_clock_session_is_on_its_clock) {
    char path[512];
    vt_plugin_id id = load_sink("media", path, sizeof path);
    vt_session_config c;
    memset(&c, 0, sizeof c);
    c.session_id = "media-1";
    c.start_t_ns = 1 * SEC;
    c.clock = VT_CLOCK_MEDIA;
    uint64_t created_after_ns, created_before_ns = mono_ns();
    vt_session s = open_with(&c);
    created_after_ns = mono_ns();
    CHECK_STATUS(vt_record_vad_start(s, 2 * SEC), VT_OK);
    CHECK_STATUS(vt_record_vad_end(s, 3 * SEC), VT_OK);
    CHECK_STATUS(vt_record_audio_out(s, 640, 3 * SEC + 400 * MS), VT_OK);
    CHECK_STATUS(vt_record_interruption(s, 4 * SEC), VT_OK);
    vt_usage u = {sizeof u, 30, 20, 10, -1, -1};
    CHECK_STATUS(vt_record_usage_at(s, &u, 5 * SEC), VT_OK);
    uint64_t before_ns = mono_ns(), session_now = 0;
    CHECK_STATUS(vt_session_now_ns(s, &session_now), VT_OK);
    CHECK_STATUS(vt_record_usage(s, &u), VT_OK);   /* now, on the session's clock */
    uint64_t after_ns = mono_ns();
    CHECK(session_now >= 1 * SEC + before_ns - created_after_ns && session_now <= 1 * SEC + after_ns - created_before_ns);
    char json[65536];
    size_t len;
    CHECK_STATUS(vt_snapshot_json(s, json, sizeof json, &len), VT_OK);
    uint64_t start_unix_ns = json_u64(json, "start_unix_ns");
    CHECK_EQ_U64(json_u64(json, "start_ns"), 1 * SEC);
    CHECK_STATUS(vt_end_session_at(s, 40 * SEC), VT_OK);
    CHECK_STATUS(vt_session_now_ns(s, &session_now), VT_E_BAD_HANDLE);
    CHECK_STATUS(vt_session_now_ns(0, NULL), VT_E_INVALID_ARG);
    const char *text = read_back(id, path);

    struct { const char *type; int n; uint64_t t_ns; } expected[] = {
        {"session.start", 0, 1 * SEC}, {"interruption", 0, 4 * SEC}, {"usage", 0, 5 * SEC},
        {"turn.complete", 0, 4 * SEC}, {"session.end", 0, 40 * SEC},
    };
    for (size_t i = 0; i < sizeof expected / sizeof expected[0]; i++) {
        char want[128];
        snprintf(want, sizeof want, "\"timestamp_us\":%" PRIu64 ",\"timestamp_unix_us\":%" PRIu64 ",",
                 expected[i].t_ns / 1000, (uint64_t)((start_unix_ns + expected[i].t_ns - 1 * SEC) / 1000));
        CHECK_CONTAINS(event_line(text, expected[i].type, expected[i].n), want);
    }
    /* The session ended at 40 s on its clock: its final snapshot says 39 s of uptime. */
    CHECK_CONTAINS(event_line(text, "session.end", 0), "\"uptime_secs\":39,");
    /* The plain usage call: now on the session's clock, between what the clock read before and
     * after it (the session's clock is 1 s at its creation, which lies between the two reads). */
    const char *plain = event_line(text, "usage", 1);
    uint64_t t_us = json_u64(plain, "timestamp_us");
    CHECK(t_us >= (1 * SEC + before_ns - created_after_ns) / 1000);
    CHECK(t_us <= (1 * SEC + after_ns - created_before_ns) / 1000 + 1);
    CHECK(json_u64(plain, "timestamp_unix_us") - t_us == (start_unix_ns - 1 * SEC) / 1000
          || json_u64(plain, "timestamp_unix_us") - t_us == (start_unix_ns - 1 * SEC) / 1000 + 1);
    CHECK_CONTAINS(event_line(text, "session.start", 0), "\"clock\":\"media\",\"start_ns\":1000000000,");
}

/* The wall-clock anchor of a monotonic session is the wall clock at its creation, mapped back to
 * its start. */
TEST(a_monotonic_session_is_anchored_at_its_creation) {
    struct timespec w0, w1;
    clock_gettime(CLOCK_REALTIME, &w0);
    uint64_t m0 = mono_ns();
    vt_session_config c;
    memset(&c, 0, sizeof c);
    vt_session s = open_with(&c);
    uint64_t m1 = mono_ns();
    clock_gettime(CLOCK_REALTIME, &w1);
    char json[65536];
    size_t len;
    CHECK_STATUS(vt_snapshot_json(s, json, sizeof json, &len), VT_OK);
    uint64_t start = json_u64(json, "start_ns"), start_unix = json_u64(json, "start_unix_ns");
    CHECK(start >= m0 && start <= m1);
    uint64_t wall0 = (uint64_t)w0.tv_sec * SEC + (uint64_t)w0.tv_nsec, wall1 = (uint64_t)w1.tv_sec * SEC + (uint64_t)w1.tv_nsec;
    CHECK(start_unix >= wall0 && start_unix <= wall1);
    CHECK_STATUS(vt_end_session(s), VT_OK);
}

/* The seed's flow: metadata, steps, messages, a tool call's JSON result, rewards (one after the
 * session ended), and the transcripts of a turn as messages of its step. */
TEST(steps_messages_and_rewards_reach_the_sinks) {
    char path[512];
    vt_plugin_id id = load_sink("tracer", path, sizeof path);
    vt_session_config c;
    memset(&c, 0, sizeof c);
    c.session_id = "trace-1";
    c.start_t_ns = 1 * SEC;
    c.clock = VT_CLOCK_MEDIA;
    c.text_policy = VT_TEXT_INCLUDE;
    c.metadata_json = "{ \"agent\": \"support-bot\", \"version\": 3 }";
    c.traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    vt_session s = open_with(&c);
    CHECK_STATUS(vt_step_start(s, "greeting", "{\"kind\":\"scripted\"}", 1100 * MS), VT_OK);
    CHECK_STATUS(vt_record_message(s, "system", "You are a support agent.", NULL, 1200 * MS), VT_OK);
    CHECK_STATUS(vt_step_start(s, "lookup", NULL, 1300 * MS), VT_OK);
    CHECK_STATUS(vt_record_message(s, "tool", "{\"order\": 42, \"status\": \"shipped\"}", "{\"tool\":\"orders\"}",
                                   1400 * MS), VT_OK);
    CHECK_STATUS(vt_step_end(s, "greeting", 1500 * MS), VT_OK);   /* ends "lookup" first */
    /* A turn: its step is "turn-1" while it is assembled. */
    CHECK_STATUS(vt_turn_mark(s, VT_STAGE_USER_SPEECH, VT_MARK_START, 2 * SEC), VT_OK);
    CHECK_STATUS(vt_turn_mark(s, VT_STAGE_USER_SPEECH, VT_MARK_END, 3 * SEC), VT_OK);
    CHECK_STATUS(vt_turn_text(s, VT_TT_USER_TRANSCRIPT, "where is my order", 3 * SEC), VT_OK);
    CHECK_STATUS(vt_record_event_reward(s, "helpfulness", 0.5, "sparse", "llm_judge", NULL, 3100 * MS), VT_OK);
    CHECK_STATUS(vt_turn_mark(s, VT_STAGE_AGENT_SPEECH, VT_MARK_START, 3400 * MS), VT_OK);
    CHECK_STATUS(vt_turn_text(s, VT_TT_AGENT_RESPONSE, "it has shipped", 3400 * MS), VT_OK);
    CHECK_STATUS(vt_turn_mark(s, VT_STAGE_AGENT_SPEECH, VT_MARK_END, 5 * SEC), VT_OK);
    CHECK_STATUS(vt_record_outcome_reward(s, "resolved", 1, 2, "{\"why\":\"order found\"}", 5500 * MS), VT_OK);
    char json[65536];
    size_t len;
    CHECK_STATUS(vt_snapshot_json(s, json, sizeof json, &len), VT_OK);
    CHECK_CONTAINS(json, "\"trace_id\":\"0af7651916cd43dd8448eb211c80319c\"");
    CHECK_STATUS(vt_end_session_at(s, 6 * SEC), VT_OK);
    CHECK_STATUS(vt_record_outcome_reward_for("trace-1", "csat", 4.5, 0, NULL, 0), VT_OK);
    CHECK_STATUS(vt_record_event_reward_for("trace-1", "turn-1", "accuracy", 1, "human", NULL, NULL, 0), VT_OK);
    const char *text = read_back(id, path);

    CHECK_CONTAINS(event_line(text, "session.start", 0),
                   "\"data\":{\"labels\":{},\"text_policy\":\"include\",\"clock\":\"media\",\"start_ns\":1000000000,"
                   "\"start_unix_ns\":");
    CHECK_CONTAINS(event_line(text, "session.start", 0),
                   "\"trace_id\":\"0af7651916cd43dd8448eb211c80319c\",\"parent_span_id\":\"b7ad6b7169203331\","
                   "\"metadata\":{\"agent\":\"support-bot\",\"version\":3}}}");
    CHECK_STR_EQ(data_of(event_line(text, "step.start", 0)),
                 "{\"step_id\":\"greeting\",\"turn_number\":null,\"metadata\":{\"kind\":\"scripted\"}}");
    CHECK_STR_EQ(data_of(event_line(text, "step.start", 1)), "{\"step_id\":\"lookup\",\"turn_number\":null,\"metadata\":null}");
    CHECK_STR_EQ(data_of(event_line(text, "message", 0)),
                 "{\"role\":\"system\",\"step_id\":\"greeting\",\"content_type\":\"text\",\"content\":\"You are a support "
                 "agent.\",\"chars\":24,\"redacted\":false,\"truncated\":false,\"metadata\":null}");
    CHECK_STR_EQ(data_of(event_line(text, "message", 1)),
                 "{\"role\":\"tool\",\"step_id\":\"lookup\",\"content_type\":\"json\",\"content\":{\"order\":42,\"status\":"
                 "\"shipped\"},\"chars\":34,\"redacted\":false,\"truncated\":false,\"metadata\":{\"tool\":\"orders\"}}");
    CHECK_STR_EQ(data_of(event_line(text, "step.end", 0)), "{\"step_id\":\"lookup\"}");
    CHECK_STR_EQ(data_of(event_line(text, "step.end", 1)), "{\"step_id\":\"greeting\"}");
    CHECK_CONTAINS(event_line(text, "step.end", 1), "\"timestamp_us\":1500000,");
    CHECK_STR_EQ(data_of(event_line(text, "reward.event", 0)),
                 "{\"objective_key\":\"helpfulness\",\"value\":0.5,\"reward_type\":\"sparse\",\"source\":\"llm_judge\","
                 "\"step_id\":\"turn-1\",\"annotation\":null}");
    CHECK_CONTAINS(event_line(text, "reward.outcome", 0), "\"timestamp_us\":5500000,");
    CHECK_STR_EQ(data_of(event_line(text, "reward.outcome", 0)),
                 "{\"objective_key\":\"resolved\",\"total_reward\":1,\"achievements_count\":2,\"total_steps\":3,"
                 "\"annotation\":{\"why\":\"order found\"}}");
    /* The turn's transcripts, after its turn.complete, as messages of "turn-1". */
    CHECK_STR_EQ(data_of(event_line(text, "message", 2)),
                 "{\"role\":\"user\",\"step_id\":\"turn-1\",\"content_type\":\"text\",\"content\":\"where is my order\","
                 "\"chars\":17,\"redacted\":false,\"truncated\":false,\"metadata\":null}");
    CHECK_CONTAINS(event_line(text, "message", 2), "\"timestamp_us\":3000000,");
    CHECK_STR_EQ(data_of(event_line(text, "message", 3)),
                 "{\"role\":\"assistant\",\"step_id\":\"turn-1\",\"content_type\":\"text\",\"content\":\"it has shipped\","
                 "\"chars\":14,\"redacted\":false,\"truncated\":false,\"metadata\":null}");
    CHECK_CONTAINS(event_line(text, "message", 3), "\"timestamp_us\":3400000,");
    CHECK(strstr(text, "\"event_type\":\"turn.complete\"") < strstr(text, "\"role\":\"user\""));
    /* After the end: by session id. */
    CHECK_STR_EQ(data_of(event_line(text, "reward.outcome", 1)),
                 "{\"objective_key\":\"csat\",\"total_reward\":4.5,\"achievements_count\":0,\"total_steps\":null,"
                 "\"annotation\":null}");
    CHECK_CONTAINS(event_line(text, "reward.outcome", 1), "\"session_id\":\"trace-1\"");
    CHECK_STR_EQ(data_of(event_line(text, "reward.event", 1)),
                 "{\"objective_key\":\"accuracy\",\"value\":1,\"reward_type\":\"human\",\"source\":null,"
                 "\"step_id\":\"turn-1\",\"annotation\":null}");
}

/* Under the default policy a message keeps only its length. */
TEST(messages_follow_the_text_policy) {
    char path[512];
    vt_plugin_id id = load_sink("policy", path, sizeof path);
    vt_session_config c;
    memset(&c, 0, sizeof c);
    vt_session redacted = open_with(&c);
    c.text_policy = VT_TEXT_INCLUDE;
    c.max_text_chars = 5;
    vt_session cut = open_with(&c);
    CHECK_STATUS(vt_record_message(redacted, "user", "my card is 4111", NULL, 0), VT_OK);
    CHECK_STATUS(vt_record_message(cut, "user", "h\xc3\xa9llo world", NULL, 0), VT_OK);
    CHECK_STATUS(vt_record_message(cut, "tool", "{\"long\":\"json\"}", NULL, 0), VT_OK);
    CHECK_STATUS(vt_end_session(redacted), VT_OK);
    CHECK_STATUS(vt_end_session(cut), VT_OK);
    const char *text = read_back(id, path);
    CHECK_STR_EQ(data_of(event_line(text, "message", 0)),
                 "{\"role\":\"user\",\"step_id\":null,\"content_type\":\"text\",\"content\":null,\"chars\":15,"
                 "\"redacted\":true,\"truncated\":false,\"metadata\":null}");
    CHECK_STR_EQ(data_of(event_line(text, "message", 1)),
                 "{\"role\":\"user\",\"step_id\":null,\"content_type\":\"text\",\"content\":\"h\xc3\xa9llo\",\"chars\":11,"
                 "\"redacted\":false,\"truncated\":true,\"metadata\":null}");
    /* JSON content that would be cut is kept as (cut) text. */
    CHECK_STR_EQ(data_of(event_line(text, "message", 2)),
                 "{\"role\":\"tool\",\"step_id\":null,\"content_type\":\"text\",\"content\":\"{\\\"lon\",\"chars\":15,"
                 "\"redacted\":false,\"truncated\":true,\"metadata\":null}");
}

TEST(bad_trace_arguments_are_refused_with_a_reason) {
    vt_session_config c;
    memset(&c, 0, sizeof c);
    c.struct_size = sizeof c;
    vt_session s = 0;
    c.metadata_json = "[1,2]";
    CHECK_STATUS(vt_create_session(&c, &s), VT_E_INVALID_ARG);
    CHECK_CONTAINS(vt_last_error(), "metadata_json is not a valid JSON object");
    static char big[4000];
    memset(big, 'x', sizeof big - 1);
    memcpy(big, "{\"a\":\"", 6);
    memcpy(big + sizeof big - 3, "\"}", 3);
    c.metadata_json = big;
    CHECK_STATUS(vt_create_session(&c, &s), VT_E_INVALID_ARG);
    CHECK_CONTAINS(vt_last_error(), "longer than 2048 bytes");
    c.metadata_json = NULL;
    const char *bad_parents[] = {"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331", "01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
                                 "00-00000000000000000000000000000000-b7ad6b7169203331-01", "00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01", ""};
    for (size_t i = 0; i < sizeof bad_parents / sizeof bad_parents[0]; i++) {
        c.traceparent = bad_parents[i];
        CHECK_STATUS(vt_create_session(&c, &s), VT_E_INVALID_ARG);
    }
    c.traceparent = NULL;
    c.clock = 2;
    CHECK_STATUS(vt_create_session(&c, &s), VT_E_INVALID_ARG);
    CHECK_CONTAINS(vt_last_error(), "clock 2");
    c.clock = VT_CLOCK_MONOTONIC;
    CHECK_STATUS(vt_create_session(&c, &s), VT_OK);

    CHECK_STATUS(vt_step_start(s, "turn-3", NULL, 0), VT_E_INVALID_ARG);
    CHECK_STATUS(vt_step_start(s, "", NULL, 0), VT_E_INVALID_ARG);
    CHECK_STATUS(vt_step_start(s, "a", "not json", 0), VT_E_INVALID_ARG);
    CHECK_STATUS(vt_step_end(s, "never-opened", 0), VT_E_NOT_FOUND);
    char name[16];
    for (int i = 0; i < VT_MAX_OPEN_STEPS; i++) {
        snprintf(name, sizeof name, "s%d", i);
        CHECK_STATUS(vt_step_start(s, name, NULL, 0), VT_OK);
    }
    CHECK_STATUS(vt_step_start(s, "s0", NULL, 0), VT_E_INVALID_ARG);   /* open already */
    CHECK_STATUS(vt_step_start(s, "one-more", NULL, 0), VT_E_LIMIT);
    CHECK_STATUS(vt_step_end(s, "s0", 0), VT_OK);
    CHECK_STATUS(vt_step_start(s, "one-more", NULL, 0), VT_OK);
    CHECK_STATUS(vt_record_message(s, "robot", "hi", NULL, 0), VT_E_INVALID_ARG);
    CHECK_CONTAINS(vt_last_error(), "role 'robot'");
    CHECK_STATUS(vt_record_message(s, "user", NULL, NULL, 0), VT_E_INVALID_ARG);
    CHECK_STATUS(vt_record_message(s, "user", "\xff", NULL, 0), VT_E_INVALID_ARG);
    CHECK_STATUS(vt_record_outcome_reward(s, "k", 0.0 / 0.0, 0, NULL, 0), VT_E_INVALID_ARG);
    CHECK_STATUS(vt_record_event_reward(s, "", 1, NULL, NULL, NULL, 0), VT_E_INVALID_ARG);
    CHECK_STATUS(vt_record_outcome_reward_for("", "k", 1, 0, NULL, 0), VT_E_INVALID_ARG);
    CHECK_STATUS(vt_record_outcome_reward_for(NULL, "k", 1, 0, NULL, 0), VT_E_INVALID_ARG);
    CHECK_STATUS(vt_end_session(s), VT_OK);
    CHECK_STATUS(vt_step_start(s, "late", NULL, 0), VT_E_BAD_HANDLE);
    CHECK_STATUS(vt_record_message(s, "user", "late", NULL, 0), VT_E_BAD_HANDLE);
}

/* A message whose event would not fit is refused even with no plugin loaded. */
TEST(a_message_too_long_for_an_event_is_refused) {
    vt_session s = open_session_with(VT_TEXT_INCLUDE, 4096, 0);
    static char text[5000];
    memset(text, 'a', sizeof text - 1);
    CHECK_STATUS(vt_record_message(s, "user", text, NULL, 0), VT_E_LIMIT);
    CHECK_STATUS(vt_end_session(s), VT_OK);
}

/* A 1.0 caller's struct ends where the 1.1 fields begin; the 4 bytes of tail padding after
 * turn_history, which its struct_size covers, may hold anything (here 0xAB, like every byte past
 * its struct). The 1.1 fields start past them, so the session gets their defaults. */
TEST(a_1_0_caller_with_garbage_in_its_padding_gets_the_defaults) {
    vt_session_config c;
    memset(&c, 0xAB, sizeof c);
    c.struct_size = (uint32_t)offsetof(vt_session_config, metadata_json);
    c.session_id = "old-caller";
    c.labels = NULL;
    c.n_labels = 0;
    c.start_t_ns = 0;
    c.text_policy = VT_TEXT_REDACT;
    c.max_text_chars = 0;
    c.turn_history = 0;
    CHECK_EQ_U64(offsetof(vt_session_config, metadata_json), 56);   /* sizeof the 1.0 struct on LP64 */
    vt_session s = 0;
    CHECK_STATUS(vt_create_session(&c, &s), VT_OK);
    char path[512];
    vt_plugin_id id = load_sink("old", path, sizeof path);
    CHECK_STATUS(vt_end_session(s), VT_OK);
    CHECK_CONTAINS(event_line(read_back(id, path), "session.end", 0), "\"session_id\":\"old-caller\"");
    CHECK_STATUS(vt_create_session(&c, &s), VT_OK);
    char json[65536];
    size_t len;
    CHECK_STATUS(vt_snapshot_json(s, json, sizeof json, &len), VT_OK);
    CHECK(json_u64(json, "start_ns") <= vt_now_ns());   /* on the monotonic clock */
    CHECK_STATUS(vt_end_session(s), VT_OK);
}

int main(void) {
    CHECK(mkdtemp(dir) != NULL);
    RUN(every_event_of_a_media_clock_session_is_on_its_clock);
    RUN(a_monotonic_session_is_anchored_at_its_creation);
    RUN(steps_messages_and_rewards_reach_the_sinks);
    RUN(messages_follow_the_text_policy);
    RUN(bad_trace_arguments_are_refused_with_a_reason);
    RUN(a_message_too_long_for_an_event_is_refused);
    RUN(a_1_0_caller_with_garbage_in_its_padding_gets_the_defaults);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0);
    return check_summary();
}
