/*
 * test_sqlite_sink.c -- the SQLite sink plugin driven by a scripted host (host.h): the seed's flow
 * with exact rows, malformed lines, retry idempotence and SQLITE_BUSY, bad files and configs, the
 * migrations (v1 -> v3, v2 -> v3 with the cost columns), durability when the writing process is SIGKILLed mid-stream, and a reader
 * process querying while the sink writes. Synchronisation is by pipes and waitpid, never by sleeps.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "host.h"

#ifndef SINK
#define SINK "build/plugins/sqlite_sink.so" /* (-DSINK=... for a sanitizer build) */
#endif
#define MS 1000000ull
#define SEC 1000000000ull
#define START_NS SEC                          /* the sessions' media clock starts at 1 s */
#define WALL0_NS 1764633600123456789ll        /* CLOCK_REALTIME at START_NS (2025-12-02 00:00:00.123456789 UTC) */

static char tmpdir[256];

static const char *tmp(const char *name) {
    static char paths[8][512];
    static int next;
    char *p = paths[next++ % 8];
    snprintf(p, 512, "%s/%s", tmpdir, name);
    return p;
}

static const char *config_for(const char *path) {
    static char buf[4][1024];
    static int next;
    char *b = buf[next++ % 4];
    snprintf(b, 1024, "{\"path\":\"%s\",\"queue_capacity\":64}", path);
    return b;
}

/* ---- reading the database back -------------------------------------------------------------- */

static sqlite3 *db_open(const char *path) {
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        fprintf(stderr, "cannot open %s: %s\n", path, db ? sqlite3_errmsg(db) : "?");
        exit(2);
    }
    sqlite3_busy_timeout(db, 5000);
    return db;
}

/* The first column of the first row as text ("NULL" for null, "(no row)", or "(error: ...)"). */
static const char *q(sqlite3 *db, const char *fmt, ...) {
    static char out[8][8192];
    static int next;
    char *o = out[next++ % 8];
    char sql[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sql, sizeof sql, fmt, ap);
    va_end(ap);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        snprintf(o, 8192, "(error: %s)", sqlite3_errmsg(db));
        return o;
    }
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        const unsigned char *t = sqlite3_column_text(st, 0);
        snprintf(o, 8192, "%s", t ? (const char *)t : "NULL");
    } else {
        snprintf(o, 8192, rc == SQLITE_DONE ? "(no row)" : "(error: %s)", sqlite3_errmsg(db));
    }
    sqlite3_finalize(st);
    return o;
}

/* Like CHECK_STR_EQ, showing both texts whole (rows are long). */
#define CHECK_SAME(actual, expected) check_same(__FILE__, __LINE__, #actual, (actual), (expected))
static void check_same(const char *file, int line, const char *what, const char *a, const char *e) {
    int ok = a && strcmp(a, e) == 0;
    if (!ok)
        fprintf(stderr, "%s:%d: %s\n    is       \"%s\"\n    expected \"%s\"\n", file, line, what, a ? a : "(null)", e);
    check_report(ok, file, line, "the texts above differ");
}

static int64_t qi(sqlite3 *db, const char *sql) { return strtoll(q(db, "%s", sql), NULL, 10); }

/* ---- building events ---------------------------------------------------------------------------- */

typedef struct batch {
    char buf[1 << 16];
    size_t n;
} batch;

static int64_t wall_us(uint64_t t_ns) { return (WALL0_NS + (int64_t)t_ns - (int64_t)START_NS) / 1000; }

/* Append one envelope: session/turn NULL mean null; data is a JSON object (printf format). */
static void add(batch *b, const char *session, const char *type, const char *turn, uint64_t t_ns, const char *fmt, ...) {
    char data[8192], sid[160], tid[64];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(data, sizeof data, fmt, ap);
    va_end(ap);
    snprintf(sid, sizeof sid, session ? "\"%s\"" : "null", session);
    snprintf(tid, sizeof tid, turn ? "\"%s\"" : "null", turn);
    b->n += (size_t)snprintf(b->buf + b->n, sizeof b->buf - b->n,
                             "{\"type_id\":\"core::telemetry/event@1\",\"session_id\":%s,\"event_type\":\"%s\","
                             "\"correlation_id\":null,\"turn_id\":%s,\"timestamp_us\":%llu,"
                             "\"timestamp_unix_us\":%lld,\"data\":%s}\n",
                             sid, type, tid, (unsigned long long)(t_ns / 1000), (long long)wall_us(t_ns), data);
}

static void add_raw(batch *b, const char *line) {
    b->n += (size_t)snprintf(b->buf + b->n, sizeof b->buf - b->n, "%s\n", line);
}

typedef struct turn_spec {
    int n;
    uint64_t start, anchor, end;
    uint64_t parts[6]; /* stt, eou, llm_ttft, tts_ttfb, realtime, remainder */
    const char *llm;
    int interrupted;
    const char *tools; /* the tool_calls array */
    int tools_total;
    const char *errors;
    const char *cost; /* the record's cost object (docs/cost.md); NULL: null (no price table) */
} turn_spec;

/* A turn record as the core writes it (docs/turn-schema.md), with the keys the sink reads. */
static const char *turn_record(const char *session, const turn_spec *t) {
    static char buf[4096];
    uint64_t e2e = 0;
    for (int i = 0; i < 6; i++) e2e += t->parts[i];
    uint64_t audio = t->anchor + e2e;
    snprintf(buf, sizeof buf,
             "{\"schema_version\":1,\"session_id\":\"%s\",\"turn_id\":%d,\"outcome\":\"%s\","
             "\"completed_by\":\"agent_speech_end\",\"start_ns\":%llu,\"end_ns\":%llu,"
             "\"anchor\":\"user_speech_end\",\"anchor_ns\":%llu,\"e2e_latency_ns\":%llu,"
             "\"e2e_breakdown_ns\":{\"stt_ns\":%llu,\"eou_ns\":%llu,\"llm_ttft_ns\":%llu,\"tts_ttfb_ns\":%llu,"
             "\"realtime_ns\":%llu,\"remainder_ns\":%llu},\"quality_flags\":0,\"quality\":[],"
             "\"user_speech\":{\"start_ns\":%llu,\"end_ns\":%llu,\"duration_ns\":%llu},"
             "\"stt\":{\"provider\":\"deepgram\",\"model\":\"nova-3\",\"latency_ns\":%llu},"
             "\"eou\":{\"provider\":null,\"model\":null,\"delay_ns\":%llu},"
             "\"llm\":{\"provider\":\"%s\",\"model\":\"gpt-4o-mini\",\"ttft_ns\":%llu,\"duration_ns\":null},"
             "\"tts\":{\"provider\":\"cartesia\",\"model\":\"sonic-2\",\"ttfb_ns\":%llu,\"duration_ns\":null},"
             "\"realtime\":{\"provider\":null,\"model\":null,\"ttfa_ns\":null},"
             "\"agent_speech\":{\"start_ns\":%llu,\"end_ns\":%llu,\"duration_ns\":%llu},"
             "\"interruption\":{\"interrupted\":%s,\"barge_in_ns\":%s,\"barge_in_latency_ns\":%s},"
             "\"playback\":{\"audio_bytes_sent\":32000},"
             "\"tokens\":{\"input\":900,\"output\":60,\"cached_input\":100,\"reasoning\":null},"
             "\"cost\":%s,\"tool_calls\":%s,\"tool_calls_total\":%d,\"fallbacks\":[],\"fallbacks_total\":0,"
             "\"errors\":%s,\"texts\":{\"user_transcript\":{\"chars\":18,\"redacted\":false,\"truncated\":false},"
             "\"stt_preflight\":null,\"agent_response\":null}}",
             session, t->n, t->interrupted ? "interrupted" : "completed", (unsigned long long)t->start,
             (unsigned long long)t->end, (unsigned long long)t->anchor, (unsigned long long)e2e,
             (unsigned long long)t->parts[0], (unsigned long long)t->parts[1], (unsigned long long)t->parts[2],
             (unsigned long long)t->parts[3], (unsigned long long)t->parts[4], (unsigned long long)t->parts[5],
             (unsigned long long)t->start, (unsigned long long)t->anchor,
             (unsigned long long)(t->anchor - t->start), (unsigned long long)t->parts[0],
             (unsigned long long)(t->parts[0] + t->parts[1]), t->llm, (unsigned long long)t->parts[2],
             (unsigned long long)t->parts[3], (unsigned long long)audio, (unsigned long long)t->end,
             (unsigned long long)(t->end - audio), t->interrupted ? "true" : "false",
             t->interrupted ? "6000000000" : "null", t->interrupted ? "40000000" : "null",
             t->cost ? t->cost : "null", t->tools ? t->tools : "[]", t->tools_total, t->errors ? t->errors : "{}");
    return buf;
}

/* ---- the seed's flow ----------------------------------------------------------------------------- */

#define SEED "seed-1"
#define LABELS "{\"provider\":\"acme\",\"transport\":\"sip\"}"
/* The costs of docs/cost.md's worked example (turns 1 and 2); turn 3 had no price table. */
#define COST_1 "{\"currency\":\"USD\",\"stt_micros\":179,\"llm_micros\":240,\"tts_micros\":19500," \
               "\"realtime_micros\":0,\"total_micros\":19919,\"unpriced_charges\":0,\"unpriced\":[]}"
#define COST_2 "{\"currency\":\"USD\",\"stt_micros\":86,\"llm_micros\":8000,\"tts_micros\":0," \
               "\"realtime_micros\":0,\"total_micros\":8086,\"unpriced_charges\":1," \
               "\"unpriced\":[\"tts:elevenlabs/flash-v2\"]}"
/* The session's: stt 179.166667 + 86, llm 240 + 8000, tts 19500, transport 600: total 28605.166667 µ. */
#define SESSION_COST "{\"currency\":\"USD\",\"stt_micros\":265,\"llm_micros\":8240,\"tts_micros\":19500," \
                     "\"realtime_micros\":0,\"transport_micros\":600,\"total_micros\":28605,\"unpriced_charges\":1}"

static const turn_spec SEED_TURNS[3] = {
    {1, 1200 * MS, 2000 * MS, 4000 * MS, {100 * MS, 150 * MS, 200 * MS, 80 * MS, 0, 20 * MS}, "openai", 0, NULL, 0, NULL, COST_1},
    {2, 4100 * MS, 4500 * MS, 6000 * MS, {120 * MS, 100 * MS, 300 * MS, 90 * MS, 0, 10 * MS}, "openai", 1,
     "[{\"name\":\"lookup_order\",\"kind\":\"function\",\"ok\":true,\"start_ns\":4650000000,"
     "\"end_ns\":4950000000,\"duration_ns\":300000000}]", 1, "{\"tts\":1}", COST_2},
    {3, 6100 * MS, 7000 * MS, 9000 * MS, {90 * MS, 110 * MS, 250 * MS, 70 * MS, 0, 30 * MS}, "anthropic", 0, NULL, 0, NULL, NULL},
};

/* Batch 1: the session starts with metadata; turn 1 with its two messages and an event reward. */
static void seed_batch1(batch *b) {
    add(b, SEED, "session.start", NULL, START_NS,
        "{\"labels\":%s,\"text_policy\":\"include\",\"clock\":\"media\",\"start_ns\":%llu,\"start_unix_ns\":%lld,"
        "\"trace_id\":\"4bf92f3577b34da6a3ce929d0e0e4736\",\"parent_span_id\":null,"
        "\"metadata\":{\"customer\":\"c-17\",\"experiment\":\"A\"}}", LABELS, (unsigned long long)START_NS, (long long)WALL0_NS);
    add(b, SEED, "message", NULL, 2100 * MS,
        "{\"role\":\"user\",\"step_id\":\"turn-1\",\"content_type\":\"text\",\"content\":\"Where is my \\\"order\\\"?\","
        "\"chars\":20,\"redacted\":false,\"truncated\":false,\"metadata\":{}}");
    add(b, SEED, "message", NULL, 2550 * MS,
        "{\"role\":\"assistant\",\"step_id\":\"turn-1\",\"content_type\":\"text\",\"content\":\"Let me check.\","
        "\"chars\":13,\"redacted\":false,\"truncated\":false,\"metadata\":{\"voice\":\"ava\"}}");
    add(b, SEED, "turn.complete", "1", 4000 * MS, "%s", turn_record(SEED, &SEED_TURNS[0]));
    add(b, SEED, "reward.event", NULL, 4000 * MS,
        "{\"objective_key\":\"helpfulness\",\"value\":0.5,\"reward_type\":\"sparse\",\"source\":\"grader-v1\","
        "\"step_id\":\"turn-1\",\"annotation\":{\"note\":\"polite\"}}");
}

/* Batch 2: an engine step around a tool call, turn 2 (tool call, barge-in), a malformed line, turn 3,
 * a redacted message, the end of the session. */
static void seed_batch2(batch *b) {
    add(b, SEED, "step.start", NULL, 4200 * MS, "{\"step_id\":\"lookup\",\"turn_number\":2,\"metadata\":{\"tool\":\"lookup_order\"}}");
    add(b, SEED, "step.end", NULL, 4600 * MS, "{\"step_id\":\"lookup\"}");
    add(b, SEED, "message", NULL, 4960 * MS,
        "{\"role\":\"tool\",\"step_id\":\"lookup\",\"content_type\":\"json\",\"content\":{\"order\":\"A-1\",\"eta_days\":2},"
        "\"chars\":31,\"redacted\":false,\"truncated\":false,\"metadata\":{}}");
    add(b, SEED, "interruption", NULL, 6000 * MS, "{\"interruptions\":1}");
    add(b, SEED, "turn.complete", "2", 6000 * MS, "%s", turn_record(SEED, &SEED_TURNS[1]));
    add_raw(b, "{\"type_id\":\"core::telemetry/event@1\",\"event_type\":\"usage\",\"data\":{\"total\":1"); /* cut short */
    add(b, SEED, "usage", NULL, 6050 * MS, "{\"total\":1500,\"prompt\":1400,\"response\":100,\"cached\":null,\"thoughts\":null}");
    add(b, SEED, "message", NULL, 7100 * MS,
        "{\"role\":\"user\",\"step_id\":\"turn-3\",\"content_type\":\"text\",\"content\":null,"
        "\"chars\":9,\"redacted\":true,\"truncated\":false,\"metadata\":{}}");
    add(b, SEED, "turn.complete", "3", 9000 * MS, "%s", turn_record(SEED, &SEED_TURNS[2]));
    add(b, SEED, "session.end", NULL, 10 * SEC,
        "{\"schema_version\":1,\"session_id\":\"" SEED "\",\"labels\":%s,\"uptime_secs\":9.0,\"interruptions\":1,"
        "\"response_count\":3,\"audio_bytes_out\":96000,\"token_totals\":{\"total\":1500},"
        "\"turns\":{\"completed\":2,\"interrupted\":1,\"discarded\":0,\"open\":false},\"start_unix_ns\":%lld,"
        "\"cost\":" SESSION_COST "}", LABELS, (long long)WALL0_NS);
}

/* Batch 3, after the session ended: the grader's outcome reward, and one for a session this store
 * has never seen. */
static void seed_batch3(batch *b) {
    add(b, SEED, "reward.outcome", NULL, 30 * SEC,
        "{\"objective_key\":\"resolution\",\"total_reward\":0.75,\"achievements_count\":2,\"total_steps\":4,"
        "\"annotation\":{\"grader\":\"human\"}}");
    add(b, "late-only", "reward.outcome", NULL, 31 * SEC,
        "{\"objective_key\":\"resolution\",\"total_reward\":1,\"achievements_count\":0,\"total_steps\":0,\"annotation\":null}");
}

static void write_seed(const char *path, test_host *h) {
    static batch b1, b2, b3;
    b1.n = b2.n = b3.n = 0;
    seed_batch1(&b1);
    seed_batch2(&b2);
    seed_batch3(&b3);
    CHECK(host_open(h, SINK, config_for(path)) == 0);
    CHECK_EQ_U64(host_write(h, b1.buf), VT_SINK_OK);
    CHECK_EQ_U64(host_write(h, b2.buf), VT_SINK_OK);
    CHECK_EQ_U64(host_write(h, b3.buf), VT_SINK_OK);
}

TEST(seed_flow_session_and_steps) {
    test_host h;
    const char *path = tmp("seed.db");
    write_seed(path, &h);
    host_close(&h);
    sqlite3 *db = db_open(path);
    CHECK_SAME(q(db, "SELECT session_id || '|' || labels || '|' || metadata || '|' || text_policy || '|' ||"
                       " start_us || '|' || start_unix_us || '|' || end_us || '|' || end_unix_us || '|' ||"
                       " turn_count || '|' || turns_interrupted || '|' || interruptions || '|' || tokens_total"
                       " FROM sessions WHERE session_id = 'seed-1'"),
                 "seed-1|" LABELS "|{\"customer\":\"c-17\",\"experiment\":\"A\"}|include|1000000|1764633600123456|"
                 "10000000|1764633609123456|3|1|1|1500");
    CHECK_SAME(q(db, "SELECT json_extract(final_snapshot, '$.response_count') || '|' || clock || '|' || trace_id"
                       " FROM sessions WHERE session_id = 'seed-1'"), "3|media|4bf92f3577b34da6a3ce929d0e0e4736");
    CHECK_SAME(q(db, "SELECT group_concat(session_id || ':' || ifnull(start_us, '-') || ':' || ifnull(labels, '-'), ',')"
                       " FROM (SELECT * FROM sessions ORDER BY session_id)"),
                 "late-only:-:-,seed-1:1000000:" LABELS);
    CHECK_SAME(q(db, "SELECT group_concat(r, ';') FROM (SELECT step_id || '|' || kind || '|' || turn_number || '|' ||"
                       " start_us || '|' || start_unix_us || '|' || end_us || '|' || end_unix_us || '|' ||"
                       " ifnull(metadata, '-') AS r FROM steps WHERE session_id = 'seed-1' ORDER BY start_us)"),
                 "turn-1|turn|1|1200000|1764633600323456|4000000|1764633603123456|-;"
                 "turn-2|turn|2|4100000|1764633603223456|6000000|1764633605123456|-;"
                 "lookup|engine|2|4200000|1764633603323456|4600000|1764633603723456|{\"tool\":\"lookup_order\"};"
                 "turn-3|turn|3|6100000|1764633605223456|9000000|1764633608123456|-");
    sqlite3_close(db);
}

TEST(seed_flow_turns_and_tool_calls) {
    test_host h;
    const char *path = tmp("seed.db");
    sqlite3 *db = db_open(path);
    (void)h;
    CHECK_SAME(q(db, "SELECT group_concat(r, ';') FROM (SELECT turn_number || '|' || step_id || '|' || outcome || '|' ||"
                       " interrupted || '|' || e2e_ns || '|' || e2e_stt_ns || '|' || e2e_eou_ns || '|' ||"
                       " e2e_llm_ttft_ns || '|' || e2e_tts_ttfb_ns || '|' || e2e_realtime_ns || '|' ||"
                       " e2e_remainder_ns || '|' || llm_provider || '|' || llm_ttft_ns || '|' || stt_latency_ns ||"
                       " '|' || ifnull(barge_in_latency_ns, '-') || '|' || tool_calls_total || '|' || errors_total ||"
                       " '|' || tokens_input || '|' || start_unix_us || '|' || end_unix_us AS r"
                       " FROM turns WHERE session_id = 'seed-1' ORDER BY turn_number)"),
                 "1|turn-1|completed|0|550000000|100000000|150000000|200000000|80000000|0|20000000|openai|200000000|"
                 "100000000|-|0|0|900|1764633600323456|1764633603123456;"
                 "2|turn-2|interrupted|1|620000000|120000000|100000000|300000000|90000000|0|10000000|openai|300000000|"
                 "120000000|40000000|1|1|900|1764633603223456|1764633605123456;"
                 "3|turn-3|completed|0|550000000|90000000|110000000|250000000|70000000|0|30000000|anthropic|250000000|"
                 "90000000|-|0|0|900|1764633605223456|1764633608123456");
    CHECK_SAME(q(db, "SELECT json_extract(record, '$.tts.provider') || '|' || tts_provider || '|' || stt_model || '|' ||"
                       " quality FROM turns WHERE session_id = 'seed-1' AND turn_number = 2"),
                 "cartesia|cartesia|nova-3|[]");
    CHECK_SAME(q(db, "SELECT group_concat(session_id || '|' || turn_number || '|' || step_id || '|' || idx || '|' ||"
                       " name || '|' || kind || '|' || ok || '|' || start_ns || '|' || end_ns || '|' || duration_ns, ';')"
                       " FROM tool_calls"),
                 "seed-1|2|turn-2|0|lookup_order|function|1|4650000000|4950000000|300000000");
    sqlite3_close(db);
}

/* The cost columns (schema 3) are generated from the turn record and the final snapshot. */
#define TURN_COSTS "turn_number || '|' || ifnull(cost_currency, '-') || '|' || ifnull(cost_total_micros, '-') ||" \
    " '|' || ifnull(cost_stt_micros, '-') || '|' || ifnull(cost_llm_micros, '-') || '|' ||"                     \
    " ifnull(cost_tts_micros, '-') || '|' || ifnull(cost_realtime_micros, '-') || '|' ||"                       \
    " ifnull(cost_unpriced_charges, '-')"
#define SESSION_COSTS "session_id || '|' || ifnull(cost_currency, '-') || '|' || ifnull(cost_total_micros, '-') ||" \
    " '|' || ifnull(cost_stt_micros, '-') || '|' || ifnull(cost_llm_micros, '-') || '|' ||"                          \
    " ifnull(cost_tts_micros, '-') || '|' || ifnull(cost_realtime_micros, '-') || '|' ||"                            \
    " ifnull(cost_transport_micros, '-') || '|' || ifnull(cost_unpriced_charges, '-')"

TEST(seed_flow_costs_are_columns) {
    sqlite3 *db = db_open(tmp("seed.db"));
    CHECK_SAME(q(db, "SELECT group_concat(r, ';') FROM (SELECT " TURN_COSTS " AS r FROM turns"
                     " WHERE session_id = 'seed-1' ORDER BY turn_number)"),
               "1|USD|19919|179|240|19500|0|0;2|USD|8086|86|8000|0|0|1;3|-|-|-|-|-|-|-");
    CHECK_SAME(q(db, "SELECT typeof(cost_total_micros) || ',' || typeof(cost_tts_micros) || ',' || typeof(cost_currency)"
                     " FROM turns WHERE turn_number = 2"), "integer,integer,text");
    CHECK_SAME(q(db, "SELECT group_concat(r, ';') FROM (SELECT " SESSION_COSTS " AS r FROM sessions ORDER BY session_id)"),
               "late-only|-|-|-|-|-|-|-|-;seed-1|USD|28605|265|8240|19500|0|600|1");
    /* one source: the record. Change it and the column follows; the column itself cannot be written. */
    CHECK_SAME(q(db, "BEGIN"), "(no row)");
    CHECK_SAME(q(db, "UPDATE turns SET record = json_set(record, '$.cost.total_micros', 20000) WHERE turn_number = 1"),
               "(no row)");
    CHECK_SAME(q(db, "SELECT cost_total_micros FROM turns WHERE turn_number = 1"), "20000");
    CHECK_SAME(q(db, "ROLLBACK"), "(no row)");
    CHECK_SAME(q(db, "UPDATE turns SET cost_total_micros = 1"),
               "(error: cannot UPDATE generated column \"cost_total_micros\")");
    CHECK_SAME(q(db, "SELECT cost_total_micros FROM turns WHERE turn_number = 1"), "19919");
    sqlite3_close(db);
}

TEST(cost_columns_hold_only_values_of_their_type) {
    test_host h;
    static batch b;
    const char *path = tmp("cost-types.db");
    static const char *const costs[] = {
        "{\"currency\":5,\"total_micros\":\"19919\",\"stt_micros\":1.5,\"llm_micros\":true,\"tts_micros\":null,"
        "\"realtime_micros\":-3,\"unpriced_charges\":2}",
        "[19919,\"USD\"]",
        "\"free\"",
        "{}",
    };
    CHECK(host_open(&h, SINK, config_for(path)) == 0);
    b.n = 0;
    for (int i = 0; i < 4; i++) {
        turn_spec t = SEED_TURNS[0];
        t.n = i + 1;
        t.cost = costs[i];
        add(&b, "odd-costs", "turn.complete", NULL, 4000 * MS, "%s", turn_record("odd-costs", &t));
    }
    CHECK_EQ_U64(host_write(&h, b.buf), VT_SINK_OK);
    CHECK_EQ_U64(h.drops, 0);
    host_close(&h);
    sqlite3 *db = db_open(path); /* the record keeps what it said; a column only a value of its type */
    CHECK_SAME(q(db, "SELECT group_concat(r, ';') FROM (SELECT " TURN_COSTS " AS r FROM turns ORDER BY turn_number)"),
               "1|-|-|-|-|-|-3|2;2|-|-|-|-|-|-|-;3|-|-|-|-|-|-|-;4|-|-|-|-|-|-|-");
    CHECK_SAME(q(db, "SELECT json_extract(record, '$.cost.total_micros') FROM turns WHERE turn_number = 1"), "19919");
    sqlite3_close(db);
}

TEST(seed_flow_messages_rewards_events) {
    sqlite3 *db = db_open(tmp("seed.db"));
    CHECK_SAME(q(db, "SELECT group_concat(r, ';') FROM (SELECT role || '|' || step_id || '|' || content_type || '|' ||"
                       " ifnull(content, 'NULL') || '|' || chars || '|' || redacted || '|' || metadata || '|' || t_us ||"
                       " '|' || unix_us AS r FROM messages WHERE session_id = 'seed-1' ORDER BY t_us)"),
                 "user|turn-1|text|Where is my \"order\"?|20|0|{}|2100000|1764633601223456;"
                 "assistant|turn-1|text|Let me check.|13|0|{\"voice\":\"ava\"}|2550000|1764633601673456;"
                 "tool|lookup|json|{\"order\":\"A-1\",\"eta_days\":2}|31|0|{}|4960000|1764633604083456;"
                 "user|turn-3|text|NULL|9|1|{}|7100000|1764633606223456");
    CHECK_SAME(q(db, "SELECT group_concat(session_id || '|' || step_id || '|' || objective_key || '|' || value || '|' ||"
                       " reward_type || '|' || source || '|' || annotation || '|' || t_us || '|' || unix_us, ';')"
                       " FROM event_rewards"),
                 "seed-1|turn-1|helpfulness|0.5|sparse|grader-v1|{\"note\":\"polite\"}|4000000|1764633603123456");
    CHECK_SAME(q(db, "SELECT group_concat(r, ';') FROM (SELECT session_id || '|' || objective_key || '|' ||"
                       " total_reward || '|' || achievements_count || '|' || total_steps || '|' ||"
                       " ifnull(annotation, '-') || '|' || t_us AS r FROM outcome_rewards ORDER BY t_us)"),
                 "seed-1|resolution|0.75|2|4|{\"grader\":\"human\"}|30000000;late-only|resolution|1.0|0|0|-|31000000");
    /* every valid line has its events row (the cut-short line has none), with its step */
    CHECK_SAME(q(db, "SELECT group_concat(event_type || ':' || ifnull(step_id, '-'), ',') FROM"
                       " (SELECT * FROM events WHERE session_id = 'seed-1' ORDER BY id)"),
                 "session.start:-,message:turn-1,message:turn-1,turn.complete:turn-1,reward.event:turn-1,"
                 "step.start:lookup,step.end:lookup,message:lookup,interruption:-,turn.complete:turn-2,usage:-,"
                 "message:turn-3,turn.complete:turn-3,session.end:-,reward.outcome:-");
    CHECK_SAME(q(db, "SELECT turn_id || '|' || t_us || '|' || unix_us || '|' || json_extract(data, '$.e2e_latency_ns')"
                       " FROM events WHERE event_type = 'turn.complete' AND turn_id = '2'"),
                 "2|6000000|1764633605123456|620000000");
    /* the messages and rewards point at their events rows */
    CHECK_EQ_U64(qi(db, "SELECT count(*) FROM messages m JOIN events e ON e.id = m.event_id AND e.event_type = 'message'"), 4);
    CHECK_EQ_U64(qi(db, "SELECT count(*) FROM outcome_rewards r JOIN events e ON e.id = r.event_id"), 2);
    CHECK_SAME(q(db, "SELECT last_sequence || '|' || batches || '|' || events || '|' || malformed FROM writers"), "3|3|16|1");
    sqlite3_close(db);
}

TEST(seed_flow_malformed_line_is_counted_and_logged) {
    test_host h;
    write_seed(tmp("seed2.db"), &h);
    CHECK_EQ_U64(h.drops, 1);
    CHECK_CONTAINS(h.logs, "1: sqlite_sink: line 6 of batch 2 is not a valid event (unterminated object or array), "
                           "skipped: {\"type_id\"");
    CHECK_EQ_U64(h.n_logs, 1);
    host_close(&h);
}

/* ---- wall clock without an anchor; escapes; every kind of bad line -------------------------------- */

TEST(turn_wall_clock_without_an_anchor_comes_from_its_event) {
    test_host h;
    static batch b;
    const char *path = tmp("noanchor.db");
    CHECK(host_open(&h, SINK, config_for(path)) == 0);
    b.n = 0; /* no session.start: the turn's own event dates it (its end is at 4 s on the session clock) */
    add(&b, "no-anchor", "turn.complete", "1", 4000 * MS, "%s", turn_record("no-anchor", &SEED_TURNS[0]));
    CHECK_EQ_U64(host_write(&h, b.buf), VT_SINK_OK);
    host_close(&h);
    sqlite3 *db = db_open(path);
    CHECK_SAME(q(db, "SELECT start_us || '|' || start_unix_us || '|' || end_us || '|' || end_unix_us FROM steps"),
               "1200000|1764633600323456|4000000|1764633603123456");
    CHECK_SAME(q(db, "SELECT session_id || '|' || ifnull(start_us, '-') FROM sessions"), "no-anchor|-");
    sqlite3_close(db);
}

TEST(turn_wall_clock_follows_the_library_formula) {
    test_host h;
    static batch b;
    const char *path = tmp("subus.db");
    turn_spec t = SEED_TURNS[0];
    t.start = 1200000800; /* 800 ns past a microsecond: the anchor's 789 ns must not carry into it */
    t.end = 4000000900;
    CHECK(host_open(&h, SINK, config_for(path)) == 0);
    b.n = 0;
    add(&b, "sub-us", "session.start", NULL, START_NS, "{\"labels\":{},\"start_ns\":%llu,\"start_unix_ns\":%lld}",
        (unsigned long long)START_NS, (long long)WALL0_NS);
    add(&b, "sub-us", "turn.complete", "1", t.end, "%s", turn_record("sub-us", &t));
    CHECK_EQ_U64(host_write(&h, b.buf), VT_SINK_OK);
    host_close(&h);
    sqlite3 *db = db_open(path); /* start_unix_ns/1000 + (t_ns - start_ns)/1000, as timestamp_unix_us */
    CHECK_SAME(q(db, "SELECT start_us || '|' || start_unix_us || '|' || end_us || '|' || end_unix_us FROM steps"),
               "1200000|1764633600323456|4000000|1764633603123456");
    sqlite3_close(db);
}

TEST(escaped_text_is_stored_decoded) {
    test_host h;
    static batch b;
    const char *path = tmp("escapes.db");
    CHECK(host_open(&h, SINK, config_for(path)) == 0);
    b.n = 0;
    add(&b, "esc-\\\\1", "message", NULL, 2 * SEC,
        "{\"role\":\"user\",\"step_id\":\"t\\u00e9\",\"content_type\":\"text\","
        "\"content\":\"caf\\u00e9 \\ud83d\\ude00 tab\\there\\nline \\\"q\\\" \\\\ \\/\",\"chars\":20}");
    CHECK_EQ_U64(host_write(&h, b.buf), VT_SINK_OK);
    host_close(&h);
    sqlite3 *db = db_open(path);
    CHECK_SAME(q(db, "SELECT session_id || '|' || step_id || '|' || content FROM messages"),
               "esc-\\1|t\xc3\xa9|caf\xc3\xa9 \xf0\x9f\x98\x80 tab\there\nline \"q\" \\ /");
    sqlite3_close(db);
}

TEST(every_kind_of_bad_line_is_skipped_and_counted) {
    test_host h;
    static batch b;
    const char *path = tmp("bad.db");
    static const char *const bad[] = {
        "not json at all",
        "[1,2,3]",
        "{\"event_type\":\"usage\",\"timestamp_us\":1,\"data\":{}} trailing",
        "{\"timestamp_us\":1,\"data\":{}}",
        "{\"event_type\":\"usage\",\"data\":{}}",
        "{\"event_type\":\"usage\",\"timestamp_us\":1.5,\"data\":{}}",
        "{\"event_type\":\"usage\",\"timestamp_us\":1,\"data\":[]}",
        "{\"event_type\":\"message\",\"session_id\":\"s\",\"timestamp_us\":1,\"data\":{\"content\":\"x\"}}",
        "{\"event_type\":\"turn.complete\",\"session_id\":\"s\",\"timestamp_us\":1,\"data\":{\"turn_id\":\"1\"}}",
        "{\"event_type\":\"step.start\",\"timestamp_us\":1,\"data\":{\"step_id\":\"x\"}}",
        "{\"event_type\":\"reward.event\",\"timestamp_us\":1,\"data\":{\"value\":1}}",
        "{\"event_type\":\"usage\",\"session_id\":7,\"timestamp_us\":1,\"data\":{}}",
        "{\"event_type\":\"usage\",\"timestamp_us\":1,\"data\":{\"s\":\"\xff\"}}",
        "{\"event_type\":\"usage\",\"timestamp_us\":1,\"data\":{\"s\":\"a\\qb\"}}",
        "{\"event_type\":\"usage\",\"timestamp_us\":01,\"data\":{}}",
    };
    size_t n_bad = sizeof bad / sizeof bad[0];
    CHECK(host_open(&h, SINK, config_for(path)) == 0);
    b.n = 0;
    for (size_t i = 0; i < n_bad; i++) {
        add_raw(&b, bad[i]);
        add(&b, "good", "usage", NULL, (i + 1) * SEC, "{\"total\":%d}", (int)i);
    }
    CHECK_EQ_U64(host_write(&h, b.buf), VT_SINK_OK);
    CHECK_EQ_U64(h.drops, n_bad);
    CHECK_CONTAINS(h.logs, "line 1 of batch 1 is not a valid event (unexpected character), skipped: not json at all");
    CHECK_CONTAINS(h.logs, "line 3 of batch 1 is not a valid event (not a JSON object), skipped: [1,2,3]");
    CHECK_CONTAINS(h.logs, "line 5 of batch 1 is not a valid event (text after the value)");
    CHECK_CONTAINS(h.logs, "batch 1: 15 lines were not valid events in all");
    host_close(&h);
    sqlite3 *db = db_open(path);
    CHECK_EQ_U64(qi(db, "SELECT count(*) FROM events"), n_bad);
    CHECK_EQ_U64(qi(db, "SELECT count(*) FROM events WHERE session_id = 'good'"), n_bad);
    CHECK_SAME(q(db, "SELECT events || '|' || malformed FROM writers"), "15|15");
    sqlite3_close(db);
}

TEST(mutated_lines_are_stored_or_counted) {
    test_host h;
    static batch seed, one;
    static char line[8192];
    const char *path = tmp("mutated.db");
    seed.n = 0;
    seed_batch1(&seed);
    seed_batch2(&seed);
    size_t starts[64], n_lines = 0;
    for (size_t i = 0; i < seed.n; i++)
        if (i == 0 || seed.buf[i - 1] == '\n') starts[n_lines++] = i;
    CHECK(host_open(&h, SINK, config_for(path)) == 0);
    uint32_t rng = 12345u;
    const int rounds = 3000;
    for (int r = 0; r < rounds; r++) {
        rng = rng * 1103515245u + 12345u;
        size_t k = (rng >> 8) % n_lines, end = k + 1 < n_lines ? starts[k + 1] - 1 : seed.n - 1;
        size_t len = end - starts[k];
        memcpy(line, seed.buf + starts[k], len);
        for (int m = 0; m < 1 + (int)(rng % 3); m++) { /* 1-3 bytes replaced by "interesting" ones */
            static const char pick[] = "{}[]\":,\\0-9eE.\x01\x80\xc3\xff u";
            rng = rng * 1103515245u + 12345u;
            line[(rng >> 4) % len] = pick[(rng >> 16) % (sizeof pick - 1)];
        }
        line[len] = '\n';
        memcpy(one.buf, line, len + 1);
        one.buf[len + 1] = 0;
        one.n = len + 1;
        if (host_write(&h, one.buf) != VT_SINK_OK) break;
    }
    uint64_t drops = h.drops, sequence = h.sequence;
    host_close(&h);
    sqlite3 *db = db_open(path);
    CHECK_EQ_U64(sequence, rounds);
    CHECK_EQ_U64(qi(db, "SELECT count(*) FROM events") + drops, rounds); /* each line stored or counted */
    CHECK(drops > 100 && drops < rounds);
    CHECK_SAME(q(db, "SELECT events || '|' || malformed FROM writers"),
               q(db, "SELECT (SELECT count(*) FROM events) || '|' || %llu", (unsigned long long)drops));
    CHECK_SAME(q(db, "PRAGMA integrity_check"), "ok");
    sqlite3_close(db);
}

TEST(a_row_the_schema_refuses_costs_only_its_line) {
    test_host h;
    static batch b;
    const char *path = tmp("poison.db");
    CHECK(host_open(&h, SINK, config_for(path)) == 0);
    sqlite3 *db = db_open(path); /* a rule of the site's own: a trigger that refuses some rows */
    CHECK_SAME(q(db, "CREATE TRIGGER no_poison BEFORE INSERT ON messages WHEN NEW.content = 'poison'"
                     " BEGIN SELECT RAISE(ABORT, 'poison message refused'); END"), "(no row)");
    b.n = 0;
    for (int i = 0; i < 5; i++)
        add(&b, "poison-1", "message", NULL, (uint64_t)(i + 1) * SEC,
            "{\"role\":\"user\",\"step_id\":null,\"content_type\":\"text\",\"content\":\"%s\",\"chars\":6}",
            i == 2 ? "poison" : "fine");
    CHECK_EQ_U64(host_write(&h, b.buf), VT_SINK_OK);
    CHECK_EQ_U64(h.drops, 1);
    CHECK_CONTAINS(h.logs, "line 3 of batch 1 is not a valid event (poison message refused)");
    CHECK_SAME(q(db, "SELECT group_concat(t_us, ',') FROM (SELECT t_us FROM events ORDER BY id)"),
               "1000000,2000000,4000000,5000000"); /* its events row went with it */
    CHECK_SAME(q(db, "SELECT count(*) || '|' || group_concat(DISTINCT content) FROM messages"), "4|fine");
    CHECK_SAME(q(db, "SELECT last_sequence || '|' || events || '|' || malformed FROM writers"), "1|4|1");
    sqlite3_close(db);
    host_close(&h);
}

/* ---- retries ------------------------------------------------------------------------------------- */

static void small_batch(batch *b, const char *session, int first, int n) {
    b->n = 0;
    for (int i = 0; i < n; i++)
        add(b, session, "usage", NULL, (uint64_t)(first + i) * MS, "{\"total\":%d}", first + i);
}

TEST(retried_batch_is_not_inserted_twice) {
    test_host h;
    static batch b;
    const char *path = tmp("retry.db");
    CHECK(host_open(&h, SINK, config_for(path)) == 0);
    small_batch(&b, "r-1", 1, 3);
    CHECK_EQ_U64(host_write_as(&h, b.buf, 1, 1), VT_SINK_OK);
    CHECK_EQ_U64(host_write_as(&h, b.buf, 1, 2), VT_SINK_OK); /* the host re-sends it (e.g. after a timeout) */
    small_batch(&b, "r-1", 4, 2);
    CHECK_EQ_U64(host_write_as(&h, b.buf, 2, 1), VT_SINK_OK);
    sqlite3 *db = db_open(path);
    CHECK_SAME(q(db, "SELECT group_concat(json_extract(data, '$.total'), ',') FROM (SELECT * FROM events ORDER BY id)"),
                 "1,2,3,4,5");
    CHECK_SAME(q(db, "SELECT last_sequence || '|' || batches || '|' || events FROM writers"), "2|2|5");
    sqlite3_close(db);
    host_close(&h);
    /* A new load is a new writer: its sequences start at 1 again and are stored. */
    CHECK(host_open(&h, SINK, config_for(path)) == 0);
    small_batch(&b, "r-1", 6, 1);
    CHECK_EQ_U64(host_write_as(&h, b.buf, 1, 1), VT_SINK_OK);
    host_close(&h);
    db = db_open(path);
    CHECK_EQ_U64(qi(db, "SELECT count(*) FROM events"), 6);
    CHECK_EQ_U64(qi(db, "SELECT count(*) FROM writers"), 2);
    sqlite3_close(db);
}

TEST(busy_database_answers_retry_then_stores_once) {
    test_host h;
    static batch b;
    const char *path = tmp("busy.db");
    char config[1024];
    snprintf(config, sizeof config, "{\"path\":\"%s\",\"busy_timeout_ms\":0}", path);
    CHECK(host_open(&h, SINK, config) == 0);
    sqlite3 *other = db_open(path);
    CHECK_SAME(q(other, "BEGIN IMMEDIATE"), "(no row)"); /* another writer holds the lock */
    small_batch(&b, "busy-1", 1, 4);
    CHECK_EQ_U64(host_write_as(&h, b.buf, 1, 1), VT_SINK_RETRY);
    CHECK_CONTAINS(h.logs, "0: sqlite_sink: batch 1 (attempt 1, 4 events) not stored in '");
    CHECK_CONTAINS(h.logs, "database is locked");
    CHECK_CONTAINS(h.logs, "rolled back, the host will retry it");
    CHECK_EQ_U64(qi(other, "SELECT count(*) FROM events"), 0);
    CHECK_SAME(q(other, "COMMIT"), "(no row)");
    CHECK_EQ_U64(host_write_as(&h, b.buf, 1, 2), VT_SINK_OK);
    CHECK_EQ_U64(qi(other, "SELECT count(*) FROM events"), 4);
    CHECK_EQ_U64(qi(other, "SELECT count(*) FROM sessions"), 1);
    sqlite3_close(other);
    host_close(&h);
}

TEST(full_database_answers_retry_and_keeps_what_was_committed) {
    test_host h;
    static batch b;
    const char *path = tmp("full.db");
    char config[1024];
    snprintf(config, sizeof config, "{\"path\":\"%s\",\"max_size_mb\":1}", path);
    CHECK(host_open(&h, SINK, config) == 0);
    uint64_t seq = 0;
    int32_t rc = VT_SINK_OK;
    while (rc == VT_SINK_OK && seq < 200) { /* 20 turn records (about 2 KB each) a batch: 1 MiB fills */
        b.n = 0;
        seq++;
        for (int i = 0; i < 20; i++) {
            char sid[32];
            snprintf(sid, sizeof sid, "full-%llu-%d", (unsigned long long)seq, i);
            add(&b, sid, "turn.complete", "1", 4000 * MS, "%s", turn_record(sid, &SEED_TURNS[0]));
        }
        rc = host_write_as(&h, b.buf, seq, 1);
    }
    CHECK_EQ_U64(rc, VT_SINK_RETRY);
    CHECK(seq > 2 && seq < 200);
    CHECK_CONTAINS(h.logs, "database or disk is full");
    CHECK_CONTAINS(h.logs, "rolled back, the host will retry it");
    sqlite3 *db = db_open(path);
    CHECK_SAME(q(db, "PRAGMA integrity_check"), "ok");
    CHECK_EQ_U64(qi(db, "SELECT count(*) FROM turns"), (seq - 1) * 20);
    CHECK_EQ_U64(qi(db, "SELECT last_sequence FROM writers"), seq - 1);
    /* room is made (old calls deleted): the same batch, retried, goes in */
    CHECK_SAME(q(db, "DELETE FROM turns WHERE session_id LIKE 'full-1-%' OR session_id LIKE 'full-2-%'"), "(no row)");
    CHECK_SAME(q(db, "DELETE FROM events WHERE session_id LIKE 'full-1-%' OR session_id LIKE 'full-2-%'"), "(no row)");
    CHECK_EQ_U64(host_write_as(&h, b.buf, seq, 2), VT_SINK_OK);
    CHECK_EQ_U64(qi(db, "SELECT count(*) FROM turns"), (seq - 2) * 20);
    CHECK_EQ_U64(qi(db, "SELECT count(*) FROM turns WHERE session_id LIKE 'full-' || (SELECT last_sequence FROM writers) || '-%'"), 20);
    sqlite3_close(db);
    host_close(&h);
}

/* ---- bad files and configs ------------------------------------------------------------------------ */

static size_t read_file(const char *path, char *buf, size_t cap) {
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    size_t n = fread(buf, 1, cap, f);
    fclose(f);
    return n;
}

static int exists(const char *path) { return access(path, F_OK) == 0; }

/* init must fail with `needle` in its message and leave the file byte for byte as it was. */
static void expect_refused(const char *path, const char *config, const char *needle) {
    static char before[1 << 16], after[1 << 16];
    size_t n0 = read_file(path, before, sizeof before);
    test_host h;
    CHECK(host_open(&h, SINK, config) != 0);
    CHECK_CONTAINS(h.error, needle);
    size_t n1 = read_file(path, after, sizeof after);
    CHECK_EQ_U64(n1, n0);
    CHECK(memcmp(before, after, n0) == 0);
    char wal[600];
    snprintf(wal, sizeof wal, "%s-wal", path);
    CHECK(!exists(wal));
}

static void make_db(const char *path, const char *sql) {
    sqlite3 *db = NULL;
    CHECK(sqlite3_open(path, &db) == SQLITE_OK);
    CHECK(sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_close(db);
}

TEST(bad_files_are_refused_and_left_untouched) {
    char msg[1200];
    const char *dir = tmp("a-directory");
    mkdir(dir, 0755);
    snprintf(msg, sizeof msg, "'%s' is a directory, not a database file", dir);
    expect_refused(dir, config_for(dir), msg);

    const char *text = tmp("notes.txt");
    FILE *f = fopen(text, "w");
    fputs("these are my notes, not a database\n", f);
    fclose(f);
    snprintf(msg, sizeof msg, "'%s' is not an SQLite database (it does not start with the SQLite header); "
             "the file was left untouched", text);
    expect_refused(text, config_for(text), msg);

    const char *newer = tmp("newer.db");
    make_db(newer, "CREATE TABLE sessions (session_id TEXT); PRAGMA application_id = 1987335282; PRAGMA user_version = 4");
    snprintf(msg, sizeof msg, "'%s' holds trace schema version 4, newer than this plugin's 3: use a newer "
             "sqlite_sink.so; the file was left untouched", newer);
    expect_refused(newer, config_for(newer), msg);

    const char *foreign = tmp("foreign.db");
    make_db(foreign, "CREATE TABLE invoices (id INTEGER)");
    snprintf(msg, sizeof msg, "'%s' is an SQLite database of another application (application_id 0, 1 tables), "
             "not a voicetelemetry trace store; the file was left untouched", foreign);
    expect_refused(foreign, config_for(foreign), msg);
}

TEST(unwritable_paths_are_refused) {
    char msg[1200];
    const char *missing = tmp("no-such-dir/trace.db");
    snprintf(msg, sizeof msg, "cannot create '%s': No such file or directory (the directory '%s' does not exist)",
             missing, tmp("no-such-dir"));
    expect_refused(missing, config_for(missing), msg);
    CHECK(!exists(missing));
    if (geteuid() != 0) {
        const char *ro = tmp("read-only");
        mkdir(ro, 0555);
        const char *inside = tmp("read-only/trace.db");
        snprintf(msg, sizeof msg, "cannot create '%s': Permission denied", inside);
        expect_refused(inside, config_for(inside), msg);
    } else { /* root may write anywhere a file system allows: /proc allows no new files */
        expect_refused("/proc/vt-trace.db", config_for("/proc/vt-trace.db"), "cannot create '/proc/vt-trace.db': ");
    }
}

TEST(bad_configs_are_refused) {
    test_host h;
    CHECK(host_open(&h, SINK, "{}") != 0);
    CHECK_SAME(h.error, "config needs \"path\": the SQLite database file to write (created if missing)");
    CHECK(host_open(&h, SINK, "{\"path\":") != 0);
    CHECK_SAME(h.error, "config is not a JSON object (expected a value)");
    char config[1024];
    snprintf(config, sizeof config, "{\"path\":\"%s\",\"synchronous\":\"sometimes\"}", tmp("cfg.db"));
    CHECK(host_open(&h, SINK, config) != 0);
    CHECK_SAME(h.error, "config \"synchronous\" must be \"normal\" or \"full\"");
    snprintf(config, sizeof config, "{\"path\":\"%s\",\"busy_timeout_ms\":-1}", tmp("cfg.db"));
    CHECK(host_open(&h, SINK, config) != 0);
    CHECK_SAME(h.error, "config \"busy_timeout_ms\" must be an integer from 0 to 600000");
    snprintf(config, sizeof config, "{\"path\":\"%s\",\"max_size_mb\":0}", tmp("cfg.db"));
    CHECK(host_open(&h, SINK, config) != 0);
    CHECK_SAME(h.error, "config \"max_size_mb\" must be an integer from 1 to 16777216");
    CHECK(!exists(tmp("cfg.db")));
    snprintf(config, sizeof config, "{\"path\":\"%s\",\"synchronous\":\"full\",\"busy_timeout_ms\":50,\"other\":[1]}",
             tmp("cfg.db"));
    CHECK(host_open(&h, SINK, config) == 0);
    host_close(&h);
    sqlite3 *db = db_open(tmp("cfg.db"));
    CHECK_SAME(q(db, "PRAGMA journal_mode"), "wal");
    CHECK_SAME(q(db, "PRAGMA user_version"), "3");
    CHECK_SAME(q(db, "PRAGMA application_id"), "1987335282");
    sqlite3_close(db);
}

/* ---- migration -------------------------------------------------------------------------------------- */

static char *slurp(const char *path) {
    static char buf[1 << 16];
    size_t n = read_file(path, buf, sizeof buf - 1);
    buf[n] = 0;
    return buf;
}

TEST(v1_file_is_migrated_to_v3) {
    const char *path = tmp("v1.db");
    make_db(path, slurp("tests/trace_store/schema_v1.sql"));
    make_db(path, "PRAGMA application_id = 1987335282; PRAGMA user_version = 1;"
                  "INSERT INTO sessions (session_id) VALUES ('old');"
                  "INSERT INTO turns (session_id, turn_number, step_id, llm_provider, e2e_ns, record) VALUES"
                  " ('old', 1, 'turn-1', 'openai', 700000000,"
                  " '{\"turn_id\":1,\"interruption\":{\"interrupted\":true,\"barge_in_latency_ns\":250000000}}')");
    test_host h;
    CHECK(host_open(&h, SINK, config_for(path)) == 0);
    char msg[1200];
    snprintf(msg, sizeof msg, "2: sqlite_sink: '%s' migrated from schema version 1 to 3", path);
    CHECK_CONTAINS(h.logs, msg);
    static batch b;
    b.n = 0;
    add(&b, "old", "turn.complete", "2", 9 * SEC, "%s", turn_record("old", &SEED_TURNS[1]));
    CHECK_EQ_U64(host_write(&h, b.buf), VT_SINK_OK);
    host_close(&h);
    sqlite3 *db = db_open(path);
    CHECK_SAME(q(db, "PRAGMA user_version"), "3");
    CHECK_SAME(q(db, "SELECT group_concat(turn_number || ':' || barge_in_latency_ns || ':' ||"
                     " ifnull(cost_total_micros, '-'), ',') FROM turns"), "1:250000000:-,2:40000000:8086");
    CHECK_SAME(q(db, "SELECT name FROM sqlite_master WHERE name = 'turns_llm_provider'"), "turns_llm_provider");
    sqlite3_close(db);
}

/* A file the v2 sink wrote after the core priced usage (1.2): its records and final snapshots carry
 * costs, which become the columns' values as the columns are added (nothing is rewritten). */
TEST(v2_file_is_migrated_to_v3_and_its_costs_become_columns) {
    const char *path = tmp("v2.db");
    make_db(path, slurp("tests/trace_store/schema_v2.sql"));
    make_db(path, "PRAGMA application_id = 1987335282; PRAGMA user_version = 2;"
                  "INSERT INTO sessions (session_id, clock, final_snapshot) VALUES"
                  " ('old-2', 'media', '{\"session_id\":\"old-2\",\"cost\":" SESSION_COST "}'), ('no-table', NULL,"
                  " '{\"session_id\":\"no-table\",\"cost\":null}');"
                  "INSERT INTO turns (session_id, turn_number, step_id, llm_provider, record) VALUES"
                  " ('old-2', 1, 'turn-1', 'openai', '{\"turn_id\":1,\"cost\":" COST_1 "}'),"
                  " ('old-2', 2, 'turn-2', 'openai', '{\"turn_id\":2,\"cost\":null}'),"
                  " ('no-table', 1, 'turn-1', 'openai', '{\"turn_id\":1}');");
    test_host h;
    CHECK(host_open(&h, SINK, config_for(path)) == 0);
    char msg[1200];
    snprintf(msg, sizeof msg, "2: sqlite_sink: '%s' migrated from schema version 2 to 3", path);
    CHECK_CONTAINS(h.logs, msg);
    static batch b;
    b.n = 0;
    turn_spec t = SEED_TURNS[1];
    t.n = 3;
    add(&b, "old-2", "turn.complete", "3", 9 * SEC, "%s", turn_record("old-2", &t));
    CHECK_EQ_U64(host_write(&h, b.buf), VT_SINK_OK);
    host_close(&h);
    sqlite3 *db = db_open(path);
    CHECK_SAME(q(db, "PRAGMA user_version"), "3");
    CHECK_SAME(q(db, "SELECT group_concat(r, ';') FROM (SELECT session_id || ':' || " TURN_COSTS " AS r FROM turns"
                     " ORDER BY session_id, turn_number)"),
               "no-table:1|-|-|-|-|-|-|-;old-2:1|USD|19919|179|240|19500|0|0;old-2:2|-|-|-|-|-|-|-;"
               "old-2:3|USD|8086|86|8000|0|0|1");
    CHECK_SAME(q(db, "SELECT group_concat(r, ';') FROM (SELECT " SESSION_COSTS " AS r FROM sessions ORDER BY session_id)"),
               "no-table|-|-|-|-|-|-|-|-;old-2|USD|28605|265|8240|19500|0|600|1");
    /* a v2 sink still running in another process names only the columns it knows: its rows get the
     * cost columns all the same */
    CHECK_SAME(q(db, "INSERT INTO turns (session_id, turn_number, step_id, record) VALUES"
                     " ('old-2', 4, 'turn-4', '{\"turn_id\":4,\"cost\":" COST_2 "}')"), "(no row)");
    CHECK_SAME(q(db, "SELECT " TURN_COSTS " FROM turns WHERE turn_number = 4"), "4|USD|8086|86|8000|0|0|1");
    CHECK_SAME(q(db, "PRAGMA integrity_check"), "ok");
    sqlite3_close(db);
}

/* ---- durability: SIGKILL in the middle of a stream ----------------------------------------------- */

#define KILL_EVENTS_PER_BATCH 40
#define KILL_AFTER_ACKS 25

/* A batch whose every event carries its batch number as correlation_id. */
static void numbered_batch(batch *b, uint64_t seq) {
    b->n = 0;
    for (int i = 0; i < KILL_EVENTS_PER_BATCH; i++)
        b->n += (size_t)snprintf(b->buf + b->n, sizeof b->buf - b->n,
                                 "{\"type_id\":\"core::telemetry/event@1\",\"session_id\":\"kill-%d\",\"event_type\":\"%s\","
                                 "\"correlation_id\":\"b%llu\",\"turn_id\":null,\"timestamp_us\":%llu,\"data\":{\"role\":\"user\","
                                 "\"content_type\":\"text\",\"content\":\"batch %llu line %d\",\"chars\":16}}\n",
                                 i % 3, i % 2 ? "message" : "usage", (unsigned long long)seq,
                                 (unsigned long long)(seq * 1000 + (uint64_t)i), (unsigned long long)seq, i);
}

/* The child: write batches 1, 2, 3, ... for ever, reporting each acknowledged sequence. */
static void stream_writer(const char *path, int ack_fd) {
    test_host h;
    static batch b;
    if (host_open(&h, SINK, config_for(path)) != 0) _exit(3);
    for (uint64_t seq = 1;; seq++) {
        numbered_batch(&b, seq);
        if (host_write_as(&h, b.buf, seq, 1) != VT_SINK_OK) _exit(4);
        if (write(ack_fd, &seq, sizeof seq) != (ssize_t)sizeof seq) _exit(5);
    }
}

TEST(sigkill_mid_stream_loses_no_acknowledged_batch) {
    const char *path = tmp("kill.db");
    int fds[2];
    CHECK(pipe(fds) == 0);
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        stream_writer(path, fds[1]);
    }
    close(fds[1]);
    uint64_t seq = 0, acked = 0;
    while (acked < KILL_AFTER_ACKS && read(fds[0], &seq, sizeof seq) == (ssize_t)sizeof seq) acked = seq;
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    while (read(fds[0], &seq, sizeof seq) == (ssize_t)sizeof seq) acked = seq; /* acks sent before it died */
    close(fds[0]);
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    CHECK(acked >= KILL_AFTER_ACKS);

    /* Reopened through the plugin (which recovers the WAL), then read. */
    test_host h;
    CHECK(host_open(&h, SINK, config_for(path)) == 0);
    host_close(&h);
    sqlite3 *db = db_open(path);
    CHECK_SAME(q(db, "PRAGMA integrity_check"), "ok");
    int64_t batches = qi(db, "SELECT count(DISTINCT correlation_id) FROM events");
    int64_t last = qi(db, "SELECT last_sequence FROM writers ORDER BY started_unix_us, rowid LIMIT 1");
    /* every acknowledged batch is there; at most the one in flight committed without its ack */
    CHECK((uint64_t)batches >= acked && (uint64_t)batches <= acked + 1);
    CHECK_EQ_U64(last, batches);
    /* nothing half-written: each batch present has all its events and messages, batches 1..n */
    CHECK_EQ_U64(qi(db, "SELECT count(*) FROM (SELECT correlation_id, count(*) AS n FROM events GROUP BY correlation_id"
                        " HAVING n != 40)"), 0);
    CHECK_EQ_U64(qi(db, "SELECT count(*) FROM messages"), (uint64_t)batches * KILL_EVENTS_PER_BATCH / 2);
    CHECK_EQ_U64(qi(db, "SELECT max(CAST(substr(correlation_id, 2) AS INTEGER)) FROM events"), batches);
    sqlite3_close(db);
}

/* ---- a reader in another process while the sink writes --------------------------------------------- */

#define READER_BATCHES 200

/* The reader: (1) holds a read transaction while the writer commits two more batches, and still
 * sees its snapshot; (2) polls while the writer streams: every count it sees is whole batches and
 * never goes back, until it sees the last. Exits 0 if all held; writes its observations to out_fd. */
static void reader_process(const char *path, int go_fd, int done_fd, int out_fd) {
    sqlite3 *db = NULL;
    char c;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) _exit(10);
    sqlite3_busy_timeout(db, 5000);
    sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
    int64_t before = qi(db, "SELECT count(*) FROM events");
    if (write(done_fd, "r", 1) != 1 || read(go_fd, &c, 1) != 1) _exit(11); /* writer: two batches now */
    int64_t inside = qi(db, "SELECT count(*) FROM events");
    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    int64_t after = qi(db, "SELECT count(*) FROM events");
    if (write(done_fd, "r", 1) != 1) _exit(12); /* writer: stream the rest */
    int64_t seen = after, polls = 0;
    while (seen < (int64_t)READER_BATCHES * 10) {
        int64_t n = qi(db, "SELECT count(*) FROM events");
        if (n % 10 != 0 || n < seen) _exit(13);
        if (++polls > 100000000) _exit(14); /* the writer stopped */
        seen = n;
    }
    dprintf(out_fd, "%lld %lld %lld %lld\n", (long long)before, (long long)inside, (long long)after, (long long)polls);
    sqlite3_close(db);
    _exit(0);
}

TEST(reader_process_queries_while_the_sink_writes) {
    const char *path = tmp("reader.db");
    test_host h;
    static batch b;
    CHECK(host_open(&h, SINK, config_for(path)) == 0);
    small_batch(&b, "read-1", 1, 10);
    CHECK_EQ_U64(host_write(&h, b.buf), VT_SINK_OK);
    int go[2], done[2], out[2];
    CHECK(pipe(go) == 0 && pipe(done) == 0 && pipe(out) == 0);
    pid_t pid = fork();
    if (pid == 0) reader_process(path, go[0], done[1], out[1]);
    char c;
    CHECK(read(done[0], &c, 1) == 1); /* the reader holds its read transaction */
    for (int i = 0; i < 2; i++) {
        small_batch(&b, "read-1", 100 + 10 * i, 10);
        CHECK_EQ_U64(host_write(&h, b.buf), VT_SINK_OK); /* not blocked by the reader */
    }
    CHECK(write(go[1], "g", 1) == 1);
    CHECK(read(done[0], &c, 1) == 1);
    for (int i = 3; i < READER_BATCHES; i++) {
        small_batch(&b, "read-1", 1000 + 10 * i, 10);
        CHECK_EQ_U64(host_write(&h, b.buf), VT_SINK_OK);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    char line[128] = {0};
    CHECK(read(out[0], line, sizeof line - 1) > 0);
    long long before = -1, inside = -1, after = -1, polls = -1;
    CHECK(sscanf(line, "%lld %lld %lld %lld", &before, &inside, &after, &polls) == 4);
    CHECK_EQ_U64(before, 10);
    CHECK_EQ_U64(inside, 10); /* its snapshot, while two batches committed */
    CHECK_EQ_U64(after, 30);
    CHECK(polls >= 1);
    host_close(&h);
    for (int i = 0; i < 2; i++) close(go[i]), close(done[i]), close(out[i]);
}

/* ---- two writing processes on one file (e.g. a pre-forked server, one sink per worker) ------------- */

#define WRITER_BATCHES 60

static void writer_process(const char *path, int id) {
    test_host h;
    static batch b;
    char config[1200], session[32];
    snprintf(config, sizeof config, "{\"path\":\"%s\",\"busy_timeout_ms\":10000}", path);
    if (host_open(&h, SINK, config) != 0) _exit(20);
    snprintf(session, sizeof session, "worker-%d", id);
    for (int i = 0; i < WRITER_BATCHES; i++) {
        small_batch(&b, session, 10 * i, 10);
        if (host_write(&h, b.buf) != VT_SINK_OK) _exit(21);
    }
    host_close(&h);
    _exit(0);
}

TEST(two_processes_write_one_file) {
    const char *path = tmp("workers.db");
    test_host h;
    CHECK(host_open(&h, SINK, config_for(path)) == 0); /* creates the file and its schema first */
    host_close(&h);
    pid_t pids[2];
    for (int i = 0; i < 2; i++)
        if ((pids[i] = fork()) == 0) writer_process(path, i);
    for (int i = 0; i < 2; i++) {
        int status = 0;
        waitpid(pids[i], &status, 0);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    sqlite3 *db = db_open(path);
    CHECK_SAME(q(db, "SELECT group_concat(session_id || '=' || n, ',') FROM (SELECT session_id, count(*) AS n"
                     " FROM events GROUP BY session_id ORDER BY session_id)"), "worker-0=600,worker-1=600");
    CHECK_SAME(q(db, "SELECT group_concat(last_sequence, ',') FROM writers WHERE batches > 0"), "60,60");
    CHECK_SAME(q(db, "PRAGMA integrity_check"), "ok");
    sqlite3_close(db);
}

int main(void) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/vt-trace-test-XXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 2;
    }
    if (access(SINK, F_OK) != 0) {
        fprintf(stderr, "%s is missing: make plugins\n", SINK);
        return 2;
    }
    RUN(seed_flow_session_and_steps);
    RUN(seed_flow_turns_and_tool_calls);
    RUN(seed_flow_costs_are_columns);
    RUN(cost_columns_hold_only_values_of_their_type);
    RUN(seed_flow_messages_rewards_events);
    RUN(seed_flow_malformed_line_is_counted_and_logged);
    RUN(turn_wall_clock_without_an_anchor_comes_from_its_event);
    RUN(turn_wall_clock_follows_the_library_formula);
    RUN(escaped_text_is_stored_decoded);
    RUN(every_kind_of_bad_line_is_skipped_and_counted);
    RUN(mutated_lines_are_stored_or_counted);
    RUN(a_row_the_schema_refuses_costs_only_its_line);
    RUN(retried_batch_is_not_inserted_twice);
    RUN(busy_database_answers_retry_then_stores_once);
    RUN(full_database_answers_retry_and_keeps_what_was_committed);
    RUN(bad_files_are_refused_and_left_untouched);
    RUN(unwritable_paths_are_refused);
    RUN(bad_configs_are_refused);
    RUN(v1_file_is_migrated_to_v3);
    RUN(v2_file_is_migrated_to_v3_and_its_costs_become_columns);
    RUN(sigkill_mid_stream_loses_no_acknowledged_batch);
    RUN(reader_process_queries_while_the_sink_writes);
    RUN(two_processes_write_one_file);
    char cmd[700];
    snprintf(cmd, sizeof cmd, "chmod -R u+w '%s' && rm -rf '%s'", tmpdir, tmpdir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
    return check_summary();
}
