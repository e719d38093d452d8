/*
 * test_plugins.c -- events and sink plugins through the C ABI: loading and every refusal, vt_emit
 * and its validation, the envelope and redaction, rate limits, queue overflow, RETRY / DROP / FATAL,
 * flush and unload deadlines, statistics, the plugin list and the Prometheus self-metrics.
 * Plugins come from build/plugins (jsonl_sink) and build/tests/plugins (built from tests/plugins).
 * No sleep is an assertion: waits are flushes with deadlines or bounded polls of the statistics.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "voicetelemetry_plugin.h"

#define TP "build/tests/plugins/"
#define JSONL "build/plugins/jsonl_sink.so"
#define SEC 1000000000ull

static char tmpdir[256];
static char big[1 << 20];

static const char *tmp(const char *name) {
    static char paths[8][512];
    static int next;
    char *p = paths[next++ % 8];
    snprintf(p, 512, "%s/%s", tmpdir, name);
    return p;
}

static const char *cfg(const char *fmt, ...) {
    static char buf[4][2048];
    static int next;
    char *b = buf[next++ % 4];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(b, 2048, fmt, ap);
    va_end(ap);
    return b;
}

static const char *slurp(const char *path) {
    FILE *f = fopen(path, "rb");
    big[0] = 0;
    if (!f) return big;
    size_t n = fread(big, 1, sizeof big - 1, f);
    big[n] = 0;
    fclose(f);
    return big;
}

static size_t count_of(const char *hay, const char *needle) {
    size_t n = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle)) n++;
    return n;
}

/* A plugin's statistics, read without a check (for polling loops: the number of checks a run
 * makes must not depend on timing). */
static vt_plugin_statistics peek_stats(vt_plugin_id id, vt_status *status) {
    vt_plugin_statistics s;
    memset(&s, 0, sizeof s);
    s.struct_size = sizeof s;
    *status = vt_plugin_stats(id, &s);
    return s;
}

static vt_plugin_statistics stats(vt_plugin_id id) {
    vt_status status;
    vt_plugin_statistics s = peek_stats(id, &status);
    CHECK_STATUS(status, VT_OK);
    return s;
}

static uint64_t dropped(const vt_plugin_statistics *s) {
    return s->dropped_queue_full + s->dropped_rate_limited + s->dropped_too_large + s->dropped_plugin +
           s->dropped_disabled;
}

/* emitted = delivered + dropped (every reason) + queued */
#define CHECK_IDENTITY(id)                                                     \
    do {                                                                       \
        vt_plugin_statistics s_i = stats(id);                                  \
        CHECK_EQ_U64(s_i.delivered + dropped(&s_i) + s_i.queued, s_i.emitted); \
    } while (0)

static void pause_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static int exists(const char *path) { return access(path, F_OK) == 0; }

/* Poll until the file exists or about 5 s passed. */
static int wait_file(const char *path) {
    for (int i = 0; i < 5000 && !exists(path); i++) pause_ms(1);
    return exists(path);
}

static void touch(const char *path) {
    int fd = open(path, O_CREAT | O_WRONLY, 0644);
    if (fd >= 0) close(fd);
}

static vt_plugin_id load_ok(const char *path, const char *config) {
    vt_plugin_id id = 0;
    CHECK_STATUS(vt_load_plugin(path, config, &id), VT_OK);
    CHECK(id != 0);
    return id;
}

static void expect_refusal(const char *path, const char *config, vt_status status, const char *needle) {
    vt_plugin_id id = 0;
    CHECK_STATUS(vt_load_plugin(path, config, &id), status);
    CHECK_EQ_U64(id, 0);
    CHECK_CONTAINS(vt_last_error(), needle);
}

static void copy_file(const char *from, const char *to, mode_t mode) {
    FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
    CHECK(in && out);
    if (in && out) {
        char b[65536];
        size_t n;
        while ((n = fread(b, 1, sizeof b, in)) > 0) fwrite(b, 1, n, out);
    }
    if (in) fclose(in);
    if (out) fclose(out);
    chmod(to, mode);
}

/* ---------------------------------------------------------------------------------------------- */

TEST(load_refusals) {
    vt_plugin_id id = 0;
    CHECK_STATUS(vt_load_plugin(NULL, NULL, &id), VT_E_INVALID_ARG);
    CHECK_STATUS(vt_load_plugin(JSONL, NULL, NULL), VT_E_INVALID_ARG);
    CHECK_STATUS(vt_load_plugin("", NULL, &id), VT_E_INVALID_ARG);
    CHECK_STATUS(vt_load_plugin("\xff\xfe.so", NULL, &id), VT_E_INVALID_ARG);
    expect_refusal(TP "does_not_exist.so", NULL, VT_E_NOT_FOUND, "does not exist");
    const char *text = tmp("not_elf.so");
    FILE *f = fopen(text, "w");
    if (f) { fputs("not an ELF file\n", f); fclose(f); }
    chmod(text, 0644);
    expect_refusal(text, NULL, VT_E_PLUGIN, "not a loadable shared object");
    expect_refusal(tmpdir, NULL, VT_E_PLUGIN, "not a regular file");
    expect_refusal(TP "no_entry.so", NULL, VT_E_NOT_FOUND, "voicetelemetry_sink_plugin_v1");
    expect_refusal(TP "null_entry.so", NULL, VT_E_PLUGIN, "returned NULL");
    expect_refusal(TP "wrong_abi.so", NULL, VT_E_PLUGIN, "ABI 2." VERSION_STR(VT_PLUGIN_ABI_MINOR) " does not match");
    expect_refusal(TP "small_table.so", NULL, VT_E_PLUGIN, "too small");
    expect_refusal(TP "null_write.so", NULL, VT_E_PLUGIN, "required callback write is NULL");
    expect_refusal(TP "null_init.so", NULL, VT_E_PLUGIN, "required callback init is NULL");
    expect_refusal(TP "bad_name.so", NULL, VT_E_PLUGIN, "name must be");
    expect_refusal(TP "init_fails.so", NULL, VT_E_PLUGIN, "database unreachable at db.invalid:5432");
    /* Config: must be a JSON object; host keys checked. */
    expect_refusal(JSONL, "{\"path\":", VT_E_INVALID_ARG, "not a valid JSON object");
    expect_refusal(JSONL, "[1]", VT_E_INVALID_ARG, "not a valid JSON object");
    expect_refusal(JSONL, cfg("{\"path\":\"%s\",\"queue_capacity\":0}", tmp("x.jsonl")), VT_E_INVALID_ARG,
                   "queue_capacity");
    expect_refusal(JSONL, cfg("{\"path\":\"%s\",\"queue_capacity\":\"big\"}", tmp("x.jsonl")), VT_E_INVALID_ARG,
                   "queue_capacity");
    /* jsonl_sink's own init failure: no path in its config. */
    expect_refusal(JSONL, "{}", VT_E_PLUGIN, "config needs \"path\"");
    size_t n = 99;
    CHECK_STATUS(vt_list_plugins(NULL, 0, &n), VT_OK);
    CHECK_EQ_U64(n, 0);
}

TEST(file_safety) {
    const char *ww = tmp("world_writable.so");
    copy_file(JSONL, ww, 0666);
    chmod(ww, 0666);
    expect_refusal(ww, NULL, VT_E_PERMISSION, "world-writable");
    const char *other = tmp("other_owner.so");
    copy_file(JSONL, other, 0644);
    if (geteuid() == 0) {
        CHECK(chown(other, 12345, 12345) == 0);
        expect_refusal(other, NULL, VT_E_PERMISSION, "owned by uid 12345");
    }
    /* Allowed directory: build/plugins is outside tmpdir. */
    CHECK_STATUS(vt_set_plugin_dir(tmpdir), VT_OK);
    expect_refusal(JSONL, cfg("{\"path\":\"%s\"}", tmp("dir.jsonl")), VT_E_PERMISSION, "outside the plugin directory");
    const char *inside = tmp("inside.so");
    copy_file(JSONL, inside, 0644);
    vt_plugin_id id = load_ok(inside, cfg("{\"path\":\"%s\"}", tmp("dir.jsonl")));
    CHECK_STATUS(vt_unload_plugin(id), VT_OK);
    CHECK_STATUS(vt_set_plugin_dir(NULL), VT_OK);
    CHECK_STATUS(vt_set_plugin_dir(tmp("no_such_dir")), VT_E_NOT_FOUND);
    CHECK_STATUS(vt_set_plugin_dir(""), VT_E_INVALID_ARG);
    id = load_ok(JSONL, cfg("{\"path\":\"%s\"}", tmp("dir.jsonl")));
    CHECK_STATUS(vt_unload_plugin(id), VT_OK);
}

TEST(duplicate_list_stats_errors) {
    vt_plugin_id a = load_ok(JSONL, cfg("{\"path\":\"%s\"}", tmp("dup.jsonl")));
    expect_refusal(JSONL, cfg("{\"path\":\"%s\"}", tmp("dup2.jsonl")), VT_E_PLUGIN, "already loaded");
    vt_plugin_id b = load_ok(TP "scripted.so", "{}");
    vt_plugin_id c = load_ok(TP "minimal.so", "{}");
    vt_plugin_id ids[4] = {0};
    size_t n = 0;
    CHECK_STATUS(vt_list_plugins(ids, 4, &n), VT_OK);
    CHECK_EQ_U64(n, 3);
    CHECK(ids[0] == a && ids[1] == b && ids[2] == c);
    CHECK_STATUS(vt_list_plugins(ids, 2, &n), VT_E_BUFFER_TOO_SMALL);
    CHECK_EQ_U64(n, 3);
    CHECK_STATUS(vt_list_plugins(NULL, 2, &n), VT_E_INVALID_ARG);
    CHECK_STATUS(vt_list_plugins(ids, 4, NULL), VT_E_INVALID_ARG);

    vt_plugin_statistics s = stats(a);
    CHECK_STR_EQ(s.name, "jsonl_sink");
    CHECK_STR_EQ(s.version, "1.0.0");
    CHECK_EQ_U64(s.id, a);
    CHECK_EQ_U64(s.queue_capacity, VT_DEFAULT_PLUGIN_QUEUE);
    CHECK_STATUS(vt_plugin_stats(a, NULL), VT_E_INVALID_ARG);
    memset(&s, 0, sizeof s);
    s.struct_size = 4;
    CHECK_STATUS(vt_plugin_stats(a, &s), VT_E_INVALID_ARG);
    /* An older, shorter struct: only the fields it covers are written. */
    memset(&s, 0x5a, sizeof s);
    s.struct_size = (uint32_t)offsetof(vt_plugin_statistics, name);
    CHECK_STATUS(vt_plugin_stats(a, &s), VT_OK);
    CHECK_EQ_U64(s.id, a);
    CHECK_EQ_U64((unsigned char)s.name[0], 0x5a);
    s.struct_size = sizeof s;
    CHECK_STATUS(vt_plugin_stats(a ^ 0x100, &s), VT_E_NOT_FOUND);
    CHECK_STATUS(vt_plugin_stats(0, &s), VT_E_NOT_FOUND);
    CHECK_STATUS(vt_unload_plugin(0), VT_OK);
    CHECK_STATUS(vt_unload_plugin(12345), VT_E_NOT_FOUND);

    CHECK_STATUS(vt_unload_plugin(b), VT_OK);
    CHECK_STATUS(vt_plugin_stats(b, &s), VT_E_NOT_FOUND);
    CHECK_STATUS(vt_unload_plugin(b), VT_E_NOT_FOUND);
    /* Ids are not reused: a reload gets a new one. */
    vt_plugin_id b2 = load_ok(TP "scripted.so", "{}");
    CHECK(b2 != b);
    CHECK_STATUS(vt_list_plugins(ids, 4, &n), VT_OK);
    CHECK(n == 3 && ids[2] == b2);
    CHECK_STATUS(vt_unload_plugin(a), VT_OK);
    CHECK_STATUS(vt_unload_plugin(b2), VT_OK);
    CHECK_STATUS(vt_unload_plugin(c), VT_OK);
    CHECK_STATUS(vt_list_plugins(NULL, 0, &n), VT_OK);
    CHECK_EQ_U64(n, 0);
}

TEST(emit_validation) {
    /* Validation happens with or without plugins. */
    CHECK_STATUS(vt_emit(0, "x.y", "{\"a\":1}", NULL, NULL, 0), VT_OK);
    CHECK_STATUS(vt_emit(0, "x.y", NULL, NULL, NULL, 0), VT_OK);
    CHECK_STATUS(vt_emit(0, NULL, "{}", NULL, NULL, 0), VT_E_INVALID_ARG);
    CHECK_STATUS(vt_emit(0, "", "{}", NULL, NULL, 0), VT_E_INVALID_ARG);
    CHECK_STATUS(vt_emit(0, "has space", "{}", NULL, NULL, 0), VT_E_INVALID_ARG);
    CHECK_STATUS(vt_emit(0, "quote\"", "{}", NULL, NULL, 0), VT_E_INVALID_ARG);
    char longtype[100];
    memset(longtype, 'a', sizeof longtype - 1);
    longtype[99] = 0;
    CHECK_STATUS(vt_emit(0, longtype, "{}", NULL, NULL, 0), VT_E_INVALID_ARG);
    const char *bad[] = {
        "", "[]", "1", "\"s\"", "{", "{\"a\":}", "{\"a\":1,}", "{\"a\" 1}", "{a:1}", "{\"a\":01}", "{\"a\":1.}",
        "{\"a\":.5}", "{\"a\":1e}", "{\"a\":-}", "{\"a\":NaN}", "{\"a\":tru}", "{\"a\":\"\x01\"}",
        "{\"a\":\"\\x\"}", "{\"a\":\"\\u12\"}", "{\"a\":\"\xc3\"}", "{\"a\":\"\xed\xa0\x80\"}", "{\"a\":\"\xc0\xaf\"}",
        "{\"a\":1} x", "{\"a\":[1,2}", "{\"a\":\"unterminated}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        vt_status st = vt_emit(0, "t", bad[i], NULL, NULL, 0);
        char m[128];
        snprintf(m, sizeof m, "payload #%zu rejected", i);
        check_report(st == VT_E_INVALID_ARG, __FILE__, __LINE__, m);
    }
    CHECK_STATUS(vt_emit(0, "t", "{\"a\":01}", NULL, NULL, 0), VT_E_INVALID_ARG);
    CHECK_CONTAINS(vt_last_error(), "leading zero");
    const char *good[] = {
        "{}", " { } ", "{\"a\":[],\"b\":{},\"c\":[1,-2.5e+3,0.0,1E9,true,false,null]}",
        "{\"s\":\"\\u00e9\\n\\\"\\\\\\/ \xc3\xa9 \xf0\x9f\x98\x80\"}", "{\"k\":{\"k\":{\"k\":[[[]]]}}}",
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        vt_status st = vt_emit(0, "t", good[i], NULL, NULL, 0);
        char m[128];
        snprintf(m, sizeof m, "payload #%zu accepted", i);
        check_report(st == VT_OK, __FILE__, __LINE__, m);
    }
    /* Nesting limit: 64 levels are fine (the object and 63 arrays), 65 are not. */
    char deep[400];
    for (int levels = 63; levels <= 64; levels++) {
        size_t k = 0;
        k += (size_t)sprintf(deep, "{\"a\":");
        for (int i = 0; i < levels; i++) deep[k++] = '[';
        for (int i = 0; i < levels; i++) deep[k++] = ']';
        deep[k++] = '}';
        deep[k] = 0;
        CHECK_STATUS(vt_emit(0, "t", deep, NULL, NULL, 0), levels == 63 ? VT_OK : VT_E_INVALID_ARG);
    }
    CHECK_CONTAINS(vt_last_error(), "deeper than 64");
    /* Ids. */
    char longid[200];
    memset(longid, 'i', sizeof longid - 1);
    longid[199] = 0;
    CHECK_STATUS(vt_emit(0, "t", "{}", longid, NULL, 0), VT_E_INVALID_ARG);
    CHECK_STATUS(vt_emit(0, "t", "{}", NULL, "\xff", 0), VT_E_INVALID_ARG);
    CHECK_STATUS(vt_emit(12345, "t", "{}", NULL, NULL, 0), VT_E_BAD_HANDLE);
    CHECK_STATUS(vt_set_event_rate_limit(1000001), VT_E_INVALID_ARG);
}

TEST(envelope_redaction_and_too_large) {
    CHECK_STATUS(vt_set_event_rate_limit(0), VT_OK);
    const char *out = tmp("envelope.jsonl");
    unlink(out);
    vt_plugin_id id = load_ok(JSONL, cfg("{\"path\":\"%s\"}", out));
    vt_session_config c;
    memset(&c, 0, sizeof c);
    c.struct_size = sizeof c;
    c.session_id = "call-\"7\"";
    vt_session redacted = 0, included = 0;
    CHECK_STATUS(vt_create_session(&c, &redacted), VT_OK);
    c.session_id = "call-8";
    c.text_policy = VT_TEXT_INCLUDE;
    c.max_text_chars = 5;
    CHECK_STATUS(vt_create_session(&c, &included), VT_OK);
    /* Start from a clean file: the session.start events are checked in core_events. */
    CHECK_STATUS(vt_flush_events(5000), VT_OK);
    unlink(out);
    CHECK_STATUS(vt_unload_plugin(id), VT_OK);
    id = load_ok(JSONL, cfg("{\"path\":\"%s\"}", out));

    const char *payload = "{\"text\":\"h\xc3\xa9llo world\",\"nested\":{\"user_transcript\":\"secret\",\"n\":1},"
                          "\"context\":\"kept\",\"texts\":[\"kept too\"]}";
    CHECK_STATUS(vt_emit(redacted, "stt.result", payload, "corr-1", "turn-1", 1234567890ull), VT_OK);
    CHECK_STATUS(vt_emit(included, "stt.result", payload, NULL, NULL, 2000000000ull), VT_OK);
    CHECK_STATUS(vt_emit(0, "app.ping", NULL, NULL, NULL, 5000ull), VT_OK);
    /* Too large: VT_E_LIMIT, counted for the plugin, nothing forwarded. */
    static char huge[8000];
    memset(huge, ' ', sizeof huge);
    memcpy(huge, "{\"a\":\"", 6);
    memset(huge + 6, 'x', 5000);
    memcpy(huge + 5006, "\"}", 3);
    CHECK_STATUS(vt_emit(0, "app.big", huge, NULL, NULL, 0), VT_E_LIMIT);
    CHECK_STATUS(vt_flush_events(5000), VT_OK);
    const char *text = slurp(out);
    char want[1024];
    snprintf(want, sizeof want, "{\"type_id\":\"core::telemetry/event@1\",\"session_id\":\"call-\\\"7\\\"\","
             "\"event_type\":\"stt.result\",\"correlation_id\":\"corr-1\",\"turn_id\":\"turn-1\","
             "%s,\"data\":{\"text\":\"[redacted 11 chars]\","
             "\"nested\":{\"user_transcript\":\"[redacted 6 chars]\",\"n\":1},\"context\":\"kept\","
             "\"texts\":[\"kept too\"]}}\n", envelope_times(redacted, 1234567890ull));
    CHECK_CONTAINS(text, want);
    snprintf(want, sizeof want, "\"session_id\":\"call-8\",\"event_type\":\"stt.result\",\"correlation_id\":null,"
             "\"turn_id\":null,%s,\"data\":{\"text\":\"h\xc3\xa9llo\","
             "\"nested\":{\"user_transcript\":\"secre\",\"n\":1}", envelope_times(included, 2000000000ull));
    CHECK_CONTAINS(text, want);
    CHECK_CONTAINS(text, "{\"type_id\":\"core::telemetry/event@1\",\"session_id\":null,\"event_type\":\"app.ping\","
                         "\"correlation_id\":null,\"turn_id\":null,\"timestamp_us\":5,\"timestamp_unix_us\":");
    /* An event of no session is on the process's anchor (wall minus monotonic, taken once): the
     * wall clock may have been slewed since, by far less than 50 ms. */
    const char *ping = strstr(text, "\"event_type\":\"app.ping\"");
    struct timespec wall, mono;
    clock_gettime(CLOCK_REALTIME, &wall);
    clock_gettime(CLOCK_MONOTONIC, &mono);
    int64_t anchor_us = ((int64_t)wall.tv_sec - mono.tv_sec) * 1000000 + (wall.tv_nsec - mono.tv_nsec) / 1000;
    int64_t shown = (int64_t)json_u64(ping, "timestamp_unix_us") - 5;
    CHECK(llabs(shown - anchor_us) < 50000);
    CHECK_CONTAINS(ping, "\"timestamp_unix_us\":");
    CHECK_CONTAINS(text, ",\"data\":{}}\n");
    CHECK(strstr(text, "app.big") == NULL);
    CHECK(strstr(text, "secret") == NULL);
    vt_plugin_statistics s = stats(id);
    CHECK_EQ_U64(s.emitted, 4);
    CHECK_EQ_U64(s.delivered, 3);
    CHECK_EQ_U64(s.dropped_too_large, 1);
    CHECK_EQ_U64(s.queued, 0);
    CHECK_IDENTITY(id);
    CHECK_STATUS(vt_unload_plugin(id), VT_OK);
    CHECK_STATUS(vt_end_session(redacted), VT_OK);
    CHECK_STATUS(vt_end_session(included), VT_OK);
}

TEST(core_events) {
    CHECK_STATUS(vt_set_event_rate_limit(0), VT_OK);
    const char *out = tmp("core.jsonl");
    unlink(out);
    vt_plugin_id id = load_ok(JSONL, cfg("{\"path\":\"%s\"}", out));
    vt_label labels[] = {{"transport", "sip"}};
    vt_session_config c;
    memset(&c, 0, sizeof c);
    c.struct_size = sizeof c;
    c.session_id = "core-1";
    c.labels = labels;
    c.n_labels = 1;
    c.start_t_ns = 10 * SEC;
    vt_session s = 0;
    CHECK_STATUS(vt_create_session(&c, &s), VT_OK);
    CHECK_STATUS(vt_record_interruption(s, 11 * SEC), VT_OK);
    vt_usage u = {sizeof(vt_usage), 30, 20, 10, -1, -1};
    CHECK_STATUS(vt_record_usage(s, &u), VT_OK);
    CHECK_STATUS(vt_record_audio_out(s, 320, 12 * SEC), VT_OK);
    CHECK_STATUS(vt_end_session(s), VT_OK);
    CHECK_STATUS(vt_flush_events(5000), VT_OK);
    const char *text = slurp(out);
    CHECK_CONTAINS(text, "\"session_id\":\"core-1\",\"event_type\":\"session.start\"");
    const char *end = strstr(text, "\"event_type\":\"session.end\"");
    uint64_t start_unix_ns = json_u64(end, "start_unix_ns");
    char want[512];
    snprintf(want, sizeof want, "\"timestamp_us\":10000000,\"timestamp_unix_us\":%" PRIu64 ",\"data\":{\"labels\":"
             "{\"transport\":\"sip\"},\"text_policy\":\"redact\",\"clock\":\"monotonic\",\"start_ns\":10000000000,"
             "\"start_unix_ns\":%" PRIu64 ",\"trace_id\":\"", start_unix_ns / 1000, start_unix_ns);
    CHECK_CONTAINS(text, want);
    CHECK_EQ_U64(json_u64(end, "start_ns"), 10 * SEC);
    snprintf(want, sizeof want, "\"event_type\":\"interruption\",\"correlation_id\":null,\"turn_id\":null,"
             "\"timestamp_us\":11000000,\"timestamp_unix_us\":%" PRIu64 ",\"data\":{\"interruptions\":1}}",
             (uint64_t)((start_unix_ns + SEC) / 1000));
    CHECK_CONTAINS(text, want);
    CHECK_CONTAINS(text, "\"event_type\":\"usage\"");
    CHECK_CONTAINS(text, "{\"total\":30,\"prompt\":20,\"response\":10,\"cached\":null,\"thoughts\":null}");
    CHECK_CONTAINS(text, "\"event_type\":\"session.end\"");
    CHECK_CONTAINS(text, "\"audio_bytes_out\":320");
    CHECK_CONTAINS(text, "\"schema_version\":1");
    vt_plugin_statistics st = stats(id);
    CHECK_EQ_U64(st.emitted, 4);
    CHECK_EQ_U64(st.delivered, 4);
    CHECK_IDENTITY(id);
    CHECK_STATUS(vt_unload_plugin(id), VT_OK);
}

/* Completed turns reach the sinks as turn.complete events, before the session's session.end. */
TEST(turn_complete_events) {
    CHECK_STATUS(vt_set_event_rate_limit(0), VT_OK);
    const char *out = tmp("turns.jsonl");
    unlink(out);
    vt_plugin_id id = load_ok(JSONL, cfg("{\"path\":\"%s\"}", out));
    vt_session_config c;
    memset(&c, 0, sizeof c);
    c.struct_size = sizeof c;
    c.session_id = "turns-1";
    c.start_t_ns = 1 * SEC;
    vt_session s = 0;
    CHECK_STATUS(vt_create_session(&c, &s), VT_OK);
    CHECK_STATUS(vt_record_vad_start(s, 1 * SEC), VT_OK);
    CHECK_STATUS(vt_record_vad_end(s, 2 * SEC), VT_OK);
    CHECK_STATUS(vt_record_audio_out(s, 640, 2 * SEC + 450000000ull), VT_OK); /* first audio: 450 ms */
    CHECK_STATUS(vt_turn_mark(s, VT_STAGE_AGENT_SPEECH, VT_MARK_END, 4 * SEC), VT_OK); /* turn 1 done */
    CHECK_STATUS(vt_flush_events(5000), VT_OK);
    const char *text = slurp(out);
    char want[256];
    snprintf(want, sizeof want, "\"session_id\":\"turns-1\",\"event_type\":\"turn.complete\",\"correlation_id\":null,"
             "\"turn_id\":\"1\",%s,\"data\":{\"schema_version\":1,", envelope_times(s, 4 * SEC));
    CHECK_CONTAINS(text, want);
    CHECK_CONTAINS(text, "\"e2e_latency_ns\":450000000,");
    CHECK_EQ_U64(count_of(text, "turn.complete"), 1);
    /* A second turn left open completes at session end: its event comes before session.end. */
    CHECK_STATUS(vt_record_vad_start(s, 5 * SEC), VT_OK);
    CHECK_STATUS(vt_record_vad_end(s, 6 * SEC), VT_OK);
    CHECK_STATUS(vt_record_audio_out(s, 640, 6 * SEC + 700000000ull), VT_OK);
    CHECK_STATUS(vt_end_session(s), VT_OK);
    CHECK_STATUS(vt_flush_events(5000), VT_OK);
    text = slurp(out);
    CHECK_EQ_U64(count_of(text, "\"event_type\":\"turn.complete\""), 2);
    const char *second = strstr(text, "\"turn_id\":\"2\"");
    const char *end = strstr(text, "\"event_type\":\"session.end\"");
    CHECK(second != NULL && end != NULL && second < end);
    CHECK_CONTAINS(text, "\"completed_by\":\"session_end\"");
    CHECK_CONTAINS(text, "\"e2e_latency_ns\":700000000,");
    vt_plugin_statistics st = stats(id);
    CHECK_EQ_U64(st.emitted, 4); /* session.start, 2 x turn.complete, session.end */
    CHECK_EQ_U64(st.delivered, 4);
    CHECK_IDENTITY(id);
    CHECK_STATUS(vt_unload_plugin(id), VT_OK);
}

TEST(rate_limit) {
    CHECK_STATUS(vt_set_event_rate_limit(5), VT_OK);
    const char *out = tmp("rate.jsonl");
    unlink(out);
    vt_plugin_id id = load_ok(JSONL, cfg("{\"path\":\"%s\"}", out));
    for (int i = 0; i < 12; i++) CHECK_STATUS(vt_emit(0, "rl.a", "{}", NULL, NULL, 100 * SEC + (uint64_t)i), VT_OK);
    for (int i = 0; i < 3; i++) CHECK_STATUS(vt_emit(0, "rl.b", "{}", NULL, NULL, 100 * SEC), VT_OK);
    for (int i = 0; i < 6; i++) CHECK_STATUS(vt_emit(0, "rl.a", "{}", NULL, NULL, 101 * SEC), VT_OK);
    CHECK_STATUS(vt_flush_events(5000), VT_OK);
    vt_plugin_statistics s = stats(id);
    CHECK_EQ_U64(s.emitted, 21);
    CHECK_EQ_U64(s.delivered, 5 + 3 + 5);
    CHECK_EQ_U64(s.dropped_rate_limited, 7 + 1);
    CHECK_IDENTITY(id);
    CHECK_EQ_U64(count_of(slurp(out), "\"rl.a\""), 10);
    CHECK_STATUS(vt_unload_plugin(id), VT_OK);
    CHECK_STATUS(vt_set_event_rate_limit(VT_DEFAULT_EVENT_RATE_LIMIT), VT_OK);
}

/* Events emitted with t_ns = 0 carry CLOCK_MONOTONIC: each timestamp lies between vt_now_ns() just
 * before and just after its vt_emit (within 1 us: timestamps are in microseconds), and they never go
 * back, over 400 ms (the library redraws its tick-to-clock line every 20 ms). */
TEST(now_timestamps_follow_the_monotonic_clock) {
    enum { N = 400 };
    static uint64_t before[N], after[N];
    CHECK_STATUS(vt_set_event_rate_limit(0), VT_OK);
    const char *out = tmp("clock.jsonl");
    unlink(out);
    vt_plugin_id id = load_ok(JSONL, cfg("{\"path\":\"%s\"}", out));
    int failures = 0;
    char payload[32];
    for (int i = 0; i < N; i++) {
        snprintf(payload, sizeof payload, "{\"i\":%d}", i);
        before[i] = vt_now_ns();
        if (vt_emit(0, "clock.tick", payload, NULL, NULL, 0) != VT_OK) failures++;
        after[i] = vt_now_ns();
        pause_ms(1);
    }
    CHECK_EQ_U64(failures, 0);
    CHECK_STATUS(vt_flush_events(5000), VT_OK);
    const char *text = slurp(out);
    int lines = 0, outside = 0, backwards = 0;
    uint64_t last = 0;
    for (const char *p = strstr(text, "\"timestamp_us\":"); p; p = strstr(p + 1, "\"timestamp_us\":")) {
        unsigned long long us = strtoull(p + 15, NULL, 10);
        const char *at = strstr(p, "\"i\":");
        int i = at ? atoi(at + 4) : -1;
        if (i < 0 || i >= N) { outside++; continue; }
        if (us + 1 < before[i] / 1000 || us > after[i] / 1000 + 1) outside++;
        if (us < last) backwards++;
        last = us;
        lines++;
    }
    CHECK_EQ_U64(lines, N);
    CHECK_EQ_U64(outside, 0);
    CHECK_EQ_U64(backwards, 0);
    CHECK_STATUS(vt_unload_plugin(id), VT_OK);
    CHECK_STATUS(vt_set_event_rate_limit(VT_DEFAULT_EVENT_RATE_LIMIT), VT_OK);
}

/* The scripted plugin held by a gate file: its write waits while `gate` exists and creates
 * `entered` when a batch is inside it. `extra` is appended to the config object. */
struct gated { const char *out, *gate, *entered; vt_plugin_id id; };

static struct gated load_gated(const char *stem, const char *extra) {
    char name[64];
    struct gated g;
    snprintf(name, sizeof name, "%s.out", stem);
    g.out = tmp(name);
    g.gate = tmp(stem);
    snprintf(name, sizeof name, "%s.entered", stem);
    g.entered = tmp(name);
    unlink(g.out);
    unlink(g.entered);
    touch(g.gate);
    g.id = load_ok(TP "scripted.so", cfg("{\"out\":\"%s\",\"gate\":\"%s\",\"entered\":\"%s\",%s}",
                                         g.out, g.gate, g.entered, extra));
    return g;
}

/* A plugin stuck inside write past its drain deadline and grace: unload gives up on it (VT_E_PLUGIN),
 * its id is gone, and everything else keeps working; when it comes back, its thread ends cleanly. */
TEST(hung_plugin_is_detached_at_unload) {
    CHECK_STATUS(vt_set_event_rate_limit(0), VT_OK);
    struct gated g = load_gated("hung", "\"drain_timeout_ms\":0,\"unload_grace_ms\":50");
    vt_plugin_id id = g.id;
    CHECK_STATUS(vt_emit(0, "hung.event", "{}", NULL, NULL, 0), VT_OK);
    CHECK(wait_file(g.entered)); /* inside write, held by the gate */
    CHECK_STATUS(vt_unload_plugin(id), VT_E_PLUGIN);
    CHECK_CONTAINS(vt_last_error(), "did not stop within its drain deadline plus 50 ms");
    vt_plugin_statistics st;
    memset(&st, 0, sizeof st);
    st.struct_size = sizeof st;
    CHECK_STATUS(vt_plugin_stats(id, &st), VT_E_NOT_FOUND);
    CHECK_STATUS(vt_unload_plugin(id), VT_E_NOT_FOUND);
    /* The host keeps working: another plugin loads, gets events and unloads normally. */
    const char *other = tmp("after-hung.jsonl");
    unlink(other);
    vt_plugin_id ok = load_ok(JSONL, cfg("{\"path\":\"%s\"}", other));
    CHECK_STATUS(vt_emit(0, "after.hung", "{\"n\":1}", NULL, NULL, 0), VT_OK);
    CHECK_STATUS(vt_flush_events(5000), VT_OK);
    CHECK_EQ_U64(count_of(slurp(other), "after.hung"), 1);
    CHECK_STATUS(vt_unload_plugin(ok), VT_OK);
    unlink(g.gate); /* the stuck write returns; the detached thread finishes on its own */
    CHECK_STATUS(vt_set_event_rate_limit(VT_DEFAULT_EVENT_RATE_LIMIT), VT_OK);
}

TEST(queue_full_drops_oldest) {
    CHECK_STATUS(vt_set_event_rate_limit(0), VT_OK);
    struct gated g = load_gated("gate", "\"queue_capacity\":16,\"max_batch_events\":1,\"health_interval_ms\":3600000");
    const char *out = g.out, *gate = g.gate, *entered = g.entered;
    vt_plugin_id id = g.id;
    CHECK_EQ_U64(stats(id).queue_capacity, 16);
    CHECK_STATUS(vt_emit(0, "q.first", "{\"i\":0}", NULL, NULL, 0), VT_OK);
    CHECK(wait_file(entered)); /* batch 1 (one event) is inside write, held by the gate */
    char payload[64];
    for (int i = 1; i <= 100; i++) {
        snprintf(payload, sizeof payload, "{\"i\":%d}", i);
        CHECK_STATUS(vt_emit(0, "q.next", payload, NULL, NULL, 0), VT_OK);
    }
    vt_plugin_statistics s = stats(id);
    CHECK_EQ_U64(s.emitted, 101);
    CHECK_EQ_U64(s.dropped_queue_full, 100 - 16);
    CHECK_EQ_U64(s.queued, 17);
    CHECK_EQ_U64(s.delivered, 0);
    CHECK_IDENTITY(id);
    unlink(gate);
    CHECK_STATUS(vt_flush_events(5000), VT_OK);
    s = stats(id);
    CHECK_EQ_U64(s.delivered, 17);
    CHECK_EQ_U64(s.queued, 0);
    CHECK_EQ_U64(s.batches, 17);
    CHECK_IDENTITY(id);
    const char *text = slurp(out);
    /* The oldest were dropped: the survivors are 85..100; batch 2 reports the 84 drops. */
    CHECK_CONTAINS(text, "seq=1 n=1 dropped_before=0 attempt=1");
    CHECK_CONTAINS(text, "seq=2 n=1 dropped_before=84 attempt=1");
    CHECK_CONTAINS(text, "seq=17 n=1 dropped_before=0 attempt=1");
    CHECK(strstr(text, "{\"i\":84}") == NULL);
    CHECK_CONTAINS(text, "{\"i\":85}");
    CHECK_CONTAINS(text, "{\"i\":100}");
    CHECK_STATUS(vt_unload_plugin(id), VT_OK);
}

TEST(retry_then_ok_and_drop_answers) {
    CHECK_STATUS(vt_set_event_rate_limit(0), VT_OK);
    const char *out = tmp("retry.out");
    unlink(out);
    vt_plugin_id id = load_ok(TP "scripted.so", cfg("{\"out\":\"%s\",\"retries\":2,\"report_drops\":3}", out));
    CHECK_STATUS(vt_emit(0, "r.one", "{}", NULL, NULL, 0), VT_OK);
    CHECK_STATUS(vt_flush_events(5000), VT_OK);
    vt_plugin_statistics s = stats(id);
    CHECK_EQ_U64(s.delivered, 1);
    CHECK_EQ_U64(s.retries, 2);
    CHECK_EQ_U64(s.batches, 1);
    CHECK_EQ_U64(s.plugin_reported_drops, 3);
    CHECK_IDENTITY(id);
    const char *text = slurp(out);
    CHECK_CONTAINS(text, "seq=1 n=1 dropped_before=0 attempt=1");
    CHECK_CONTAINS(text, "seq=1 n=1 dropped_before=0 attempt=2");
    CHECK_CONTAINS(text, "seq=1 n=1 dropped_before=0 attempt=3");
    CHECK_STATUS(vt_unload_plugin(id), VT_OK);

    id = load_ok(TP "scripted_b.so", "{\"answer\":\"drop\"}");
    for (int i = 0; i < 10; i++) CHECK_STATUS(vt_emit(0, "d.x", "{}", NULL, NULL, 0), VT_OK);
    CHECK_STATUS(vt_flush_events(5000), VT_OK);
    s = stats(id);
    CHECK_EQ_U64(s.emitted, 10);
    CHECK_EQ_U64(s.dropped_plugin, 10);
    CHECK_EQ_U64(s.delivered, 0);
    CHECK_IDENTITY(id);
    CHECK_STATUS(vt_unload_plugin(id), VT_OK);
}

TEST(fatal_disables_and_others_keep_going) {
    CHECK_STATUS(vt_set_event_rate_limit(0), VT_OK);
    const char *out = tmp("fatal.jsonl");
    unlink(out);
    vt_plugin_id good = load_ok(JSONL, cfg("{\"path\":\"%s\"}", out));
    vt_plugin_id fatal = load_ok(TP "fatal.so", "{}");
    vt_plugin_id weird = load_ok(TP "weird.so", "{}");
    for (int i = 0; i < 20; i++) CHECK_STATUS(vt_emit(0, "f.x", "{}", NULL, NULL, 0), VT_OK);
    CHECK_STATUS(vt_flush_events(5000), VT_OK);
    for (int i = 0; i < 5; i++) CHECK_STATUS(vt_emit(0, "f.y", "{}", NULL, NULL, 0), VT_OK);
    CHECK_STATUS(vt_flush_events(5000), VT_OK);
    vt_plugin_statistics s = stats(fatal);
    CHECK_EQ_U64(s.disabled, 1);
    CHECK_EQ_U64(s.emitted, 25);
    CHECK_EQ_U64(s.dropped_disabled, 25);
    CHECK_EQ_U64(s.delivered, 0);
    CHECK_CONTAINS(s.last_error, "FATAL");
    CHECK_IDENTITY(fatal);
    s = stats(weird);
    CHECK_EQ_U64(s.disabled, 1);
    CHECK_CONTAINS(s.last_error, "returned 42");
    CHECK_IDENTITY(weird);
    s = stats(good);
    CHECK_EQ_U64(s.delivered, 25);
    CHECK_EQ_U64(s.disabled, 0);
    CHECK_EQ_U64(count_of(slurp(out), "\n"), 25);
    /* The prom text shows it. */
    size_t len = 0;
    CHECK_STATUS(vt_prom_text(big, sizeof big, &len), VT_OK);
    CHECK_CONTAINS(big, "voicetelemetry_plugin_disabled{plugin=\"fatal\"} 1");
    CHECK_CONTAINS(big, "voicetelemetry_plugin_events_dropped_total{plugin=\"fatal\",reason=\"disabled\"} 25");
    CHECK_CONTAINS(big, "voicetelemetry_plugin_events_delivered_total{plugin=\"jsonl_sink\"} 25");
    CHECK_CONTAINS(big, "# TYPE voicetelemetry_plugin_queue_depth gauge");
    CHECK_STATUS(vt_unload_plugin(fatal), VT_OK);
    CHECK_STATUS(vt_unload_plugin(weird), VT_OK);
    CHECK_STATUS(vt_unload_plugin(good), VT_OK);
}

TEST(retry_forever_and_slow_plugin) {
    CHECK_STATUS(vt_set_event_rate_limit(0), VT_OK);
    const char *out = tmp("slow.jsonl");
    unlink(out);
    vt_plugin_id good = load_ok(JSONL, cfg("{\"path\":\"%s\"}", out));
    vt_plugin_id retry = load_ok(TP "retry.so", "{\"drain_timeout_ms\":100,\"queue_capacity\":64}");
    vt_plugin_id slow = load_ok(TP "slow.so", "{\"drain_timeout_ms\":100,\"queue_capacity\":64}");
    for (int i = 0; i < 200; i++) CHECK_STATUS(vt_emit(0, "s.x", "{}", NULL, NULL, 0), VT_OK);
    /* Neither hostile plugin can be flushed in 200 ms; the good one is, completely. */
    CHECK_STATUS(vt_flush_events(200), VT_E_LIMIT);
    CHECK_CONTAINS(vt_last_error(), "flush timed out");
    vt_plugin_statistics s = stats(good);
    CHECK_EQ_U64(s.delivered, 200);
    CHECK_IDENTITY(good);
    s = stats(retry);
    CHECK(s.retries >= 1);
    CHECK_EQ_U64(s.delivered, 0);
    CHECK_EQ_U64(s.emitted, 200);
    CHECK_IDENTITY(retry);
    s = stats(slow);
    CHECK_EQ_U64(s.emitted, 200);
    CHECK_IDENTITY(slow);
    /* Unload drains until the deadline, then counts what is left as disabled. */
    CHECK_STATUS(vt_unload_plugin(retry), VT_OK);
    CHECK_STATUS(vt_unload_plugin(slow), VT_OK);
    CHECK_STATUS(vt_emit(0, "s.after", "{}", NULL, NULL, 0), VT_OK);
    CHECK_STATUS(vt_flush_events(5000), VT_OK);
    CHECK_EQ_U64(stats(good).delivered, 201);
    CHECK_STATUS(vt_unload_plugin(good), VT_OK);
}

TEST(health_events_and_minimal_plugin) {
    CHECK_STATUS(vt_set_event_rate_limit(2), VT_OK);
    const char *out = tmp("health.out");
    unlink(out);
    vt_plugin_id id = load_ok(TP "scripted.so", cfg("{\"out\":\"%s\",\"health_interval_ms\":20}", out));
    for (int i = 0; i < 10; i++) CHECK_STATUS(vt_emit(0, "h.x", "{}", NULL, NULL, 500 * SEC), VT_OK);
    vt_plugin_statistics s = stats(id);
    vt_status status = VT_OK;
    for (int i = 0; i < 5000 && status == VT_OK && s.health_events == 0; i++) {
        pause_ms(1);
        s = peek_stats(id, &status);
    }
    CHECK_STATUS(status, VT_OK);
    CHECK(s.health_events >= 1);
    CHECK_STATUS(vt_flush_events(5000), VT_OK);
    s = stats(id);
    CHECK_EQ_U64(s.emitted, 10);
    CHECK_EQ_U64(s.delivered, 2);
    CHECK_EQ_U64(s.dropped_rate_limited, 8);
    CHECK_IDENTITY(id);
    const char *text = slurp(out);
    CHECK_CONTAINS(text, "\"event_type\":\"telemetry.health\"");
    const char *health = strstr(text, "\"event_type\":\"telemetry.health\"");
    CHECK(json_u64(health, "timestamp_unix_us") > json_u64(health, "timestamp_us"));   /* the process's anchor */
    CHECK_CONTAINS(text, "\"data\":{\"plugin\":\"scripted\",\"dropped_since_last\":8,\"dropped\":{\"queue_full\":0,"
                         "\"rate_limited\":8,\"too_large\":0,\"plugin\":0,\"disabled\":0}");
    CHECK_STATUS(vt_unload_plugin(id), VT_OK);
    CHECK_STATUS(vt_set_event_rate_limit(0), VT_OK);

    id = load_ok(TP "minimal.so", NULL);
    for (int i = 0; i < 3; i++) CHECK_STATUS(vt_emit(0, "m.x", "{}", NULL, NULL, 0), VT_OK);
    CHECK_STATUS(vt_flush_events(5000), VT_OK);
    CHECK_EQ_U64(stats(id).delivered, 3);
    CHECK_STATUS(vt_unload_plugin(id), VT_OK);
}

TEST(prom_text_is_lint_clean) {
    CHECK_STATUS(vt_set_event_rate_limit(0), VT_OK);
    vt_plugin_id a = load_ok(JSONL, cfg("{\"path\":\"%s\"}", tmp("prom.jsonl")));
    vt_plugin_id b = load_ok(TP "scripted.so", "{}");
    CHECK_STATUS(vt_emit(0, "p.x", "{}", NULL, NULL, 0), VT_OK);
    CHECK_STATUS(vt_flush_events(5000), VT_OK);
    size_t len = 0;
    CHECK_STATUS(vt_prom_text(big, sizeof big, &len), VT_OK);
    CHECK_CONTAINS(big, "voicetelemetry_plugin_events_emitted_total{plugin=\"scripted\"} 1");
    CHECK_CONTAINS(big, "voicetelemetry_plugin_events_dropped_total{plugin=\"jsonl_sink\",reason=\"queue_full\"} 0");
    CHECK_CONTAINS(big, "voicetelemetry_plugin_retries_total{plugin=\"jsonl_sink\"} 0");
    if (access("/usr/bin/promtool", X_OK) == 0) {
        FILE *p = popen("promtool check metrics > /dev/null 2>&1", "w");
        CHECK(p != NULL);
        if (p) {
            fwrite(big, 1, len, p);
            CHECK_EQ_U64(pclose(p), 0);
        }
    }
    CHECK_STATUS(vt_unload_plugin(a), VT_OK);
    CHECK_STATUS(vt_unload_plugin(b), VT_OK);
}

/* An in-process plugin (vt_load_plugin_table): write() appends each line to `hook_lines`, as an
 * application's callback would get each event. */
static char hook_lines[1 << 16];
static size_t hook_len;
static int hook_shutdowns;

static int32_t hook_init(const vt_host_api *host, void *host_ctx, const char *config_json, void **state_out,
                         char *err, size_t err_cap) {
    (void)host; (void)host_ctx; (void)err; (void)err_cap;
    *state_out = strstr(config_json, "\"tag\":\"mine\"") ? hook_lines : NULL;
    return 0;
}

static int32_t hook_write(void *state, const vt_sink_batch *batch) {
    if (state != hook_lines || hook_len + batch->len >= sizeof hook_lines) return VT_SINK_DROP;
    memcpy(hook_lines + hook_len, batch->data, batch->len);
    hook_len += batch->len;
    return VT_SINK_OK;
}

static void hook_shutdown(void *state, uint64_t deadline_ns) {
    (void)state; (void)deadline_ns;
    hook_shutdowns++;
}

TEST(in_process_table_is_a_plugin) {
    static const vt_plugin_table table = {sizeof(vt_plugin_table), VT_PLUGIN_ABI_MAJOR, VT_PLUGIN_ABI_MINOR,
                                          "app_hooks", "0.1", hook_init, hook_write, NULL, hook_shutdown};
    vt_plugin_id id = 0;
    CHECK_STATUS(vt_load_plugin_table(NULL, NULL, &id), VT_E_INVALID_ARG);
    CHECK_STATUS(vt_load_plugin_table(&table, NULL, NULL), VT_E_INVALID_ARG);
    CHECK_STATUS(vt_load_plugin_table(&table, "{\"tag\":\"mine\"}", &id), VT_OK);
    vt_plugin_id other = 0;
    CHECK_STATUS(vt_load_plugin_table(&table, NULL, &other), VT_E_PLUGIN);   /* names stay unique */
    CHECK_CONTAINS(vt_last_error(), "already loaded");
    vt_plugin_table bad = table;
    bad.abi_major = 2;
    bad.name = "bad_hooks";
    CHECK_STATUS(vt_load_plugin_table(&bad, NULL, &other), VT_E_PLUGIN);
    CHECK_CONTAINS(vt_last_error(), "'(in-process table)': plugin ABI 2." VERSION_STR(VT_PLUGIN_ABI_MINOR) " does not match");
    for (int i = 0; i < 3; i++) CHECK_STATUS(vt_emit(0, "hook.tick", "{\"i\":1}", NULL, NULL, 1000 + i), VT_OK);
    CHECK_STATUS(vt_flush_events(5000), VT_OK);
    vt_plugin_statistics st = stats(id);
    CHECK_STR_EQ(st.name, "app_hooks");
    CHECK_EQ_U64(st.delivered, 3);
    CHECK_IDENTITY(id);
    CHECK_EQ_U64(count_of(hook_lines, "\"event_type\":\"hook.tick\""), 3);
    CHECK_CONTAINS(hook_lines, "\"timestamp_us\":1,");
    CHECK_STATUS(vt_unload_plugin(id), VT_OK);
    CHECK_EQ_U64(hook_shutdowns, 1);
    CHECK_STATUS(vt_emit(0, "hook.tick", "{}", NULL, NULL, 0), VT_OK);   /* nobody listens any more */
    CHECK_EQ_U64(count_of(hook_lines, "\"event_type\":\"hook.tick\""), 3);
}

int main(void) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/vt_test_plugins_XXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 2;
    }
    RUN(load_refusals);
    RUN(file_safety);
    RUN(duplicate_list_stats_errors);
    RUN(emit_validation);
    RUN(envelope_redaction_and_too_large);
    RUN(core_events);
    RUN(turn_complete_events);
    RUN(rate_limit);
    RUN(now_timestamps_follow_the_monotonic_clock);
    RUN(queue_full_drops_oldest);
    RUN(hung_plugin_is_detached_at_unload);
    RUN(retry_then_ok_and_drop_answers);
    RUN(fatal_disables_and_others_keep_going);
    RUN(retry_forever_and_slow_plugin);
    RUN(health_events_and_minimal_plugin);
    RUN(prom_text_is_lint_clean);
    RUN(in_process_table_is_a_plugin);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
    return check_summary();
}
