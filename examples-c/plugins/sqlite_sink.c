/*
 * sqlite_sink.c -- a voicetelemetry sink plugin that keeps every event in an SQLite database: a
 * trace store of sessions, steps, turns, messages, tool calls and rewards (docs/trace-schema.md).
 *
 * Config (the JSON object given to vt_load_plugin; unknown keys are ignored):
 *   "path"             required: the database file, created with its schema if missing
 *   "busy_timeout_ms"  how long a write waits for another connection's lock (default 1000)
 *   "synchronous"      "normal" (default: a commit survives a crash of the process) or "full"
 *                      (a commit also survives a power loss: one fsync per batch)
 *   "max_size_mb"      the largest the database file may grow (default: no cap); at the cap,
 *                      batches answer RETRY (SQLITE_FULL) until rows are deleted
 *
 * Each batch is one transaction (WAL mode). write() answers OK only after its COMMIT succeeded;
 * SQLITE_BUSY / FULL / IOERR and the like roll the batch back and answer RETRY (the host backs off
 * and re-sends the same batch). The writer's last committed sequence is stored in the same
 * transaction, so a batch that comes back after a commit is not inserted twice. A line that is not
 * a valid event is counted (host count_drop, writers.malformed) and logged; the batch goes on.
 *
 * Build: cc -std=c99 -O2 -fPIC -shared -fvisibility=hidden -Iinclude -o sqlite_sink.so \
 *            sqlite_sink.c -lsqlite3
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "json_mini.h"
#include "voicetelemetry_plugin.h"

#define SCHEMA_VERSION 3
#define APPLICATION_ID 0x76745472 /* "vtTr": this file is a voicetelemetry trace store */
#define MAX_LINE_BYTES (1u << 20)
#define MAX_TOKENS 16384
#define LOGGED_BAD_LINES_PER_BATCH 3

/* ---- schema --------------------------------------------------------------------------------- */

/* The cost columns (schema 3): cost_<key> is generated from $.cost.<key> of a JSON column (the turn
 * record, the final snapshot; docs/cost.md): its value when it has the column's JSON type, else NULL.
 * VIRTUAL: computed when read, so the record stays the one source of the numbers (rows written by an
 * older sink get them too), and adding them to a file of any size is instant. */
#define COST_COLUMN(table, json, key, sql_type, json_type)                                            \
    "ALTER TABLE " table " ADD COLUMN cost_" key " " sql_type " GENERATED ALWAYS AS (CASE json_type("  \
    json ", '$.cost." key "') WHEN '" json_type "' THEN json_extract(" json ", '$.cost." key "') END) VIRTUAL;"
#define COST_INTEGER(table, json, key) COST_COLUMN(table, json, key, "INTEGER", "integer")
/* The keys a turn's cost and a session's cost share; a session's also has transport_micros. */
#define COST_COLUMNS(table, json)                                                                     \
    COST_COLUMN(table, json, "currency", "TEXT", "text") COST_INTEGER(table, json, "total_micros")     \
    COST_INTEGER(table, json, "stt_micros") COST_INTEGER(table, json, "llm_micros")                    \
    COST_INTEGER(table, json, "tts_micros") COST_INTEGER(table, json, "realtime_micros")               \
    COST_INTEGER(table, json, "unpriced_charges")

/* MIGRATIONS[v] takes a file from schema version v to v + 1 (0: an empty file). */
static const char *const MIGRATIONS[SCHEMA_VERSION] = {
    /* 0 -> 1: the first schema */
    "CREATE TABLE sessions ("
    " session_id TEXT PRIMARY KEY, labels TEXT, metadata TEXT, text_policy TEXT,"
    " start_us INTEGER, start_unix_us INTEGER, start_ns INTEGER, start_unix_ns INTEGER,"
    " end_us INTEGER, end_unix_us INTEGER, uptime_secs REAL, turn_count INTEGER,"
    " turns_completed INTEGER, turns_interrupted INTEGER, turns_discarded INTEGER,"
    " interruptions INTEGER, response_count INTEGER, audio_bytes_out INTEGER, tokens_total INTEGER,"
    " final_snapshot TEXT);"
    "CREATE INDEX sessions_start ON sessions(start_unix_us);"
    "CREATE TABLE steps ("
    " id INTEGER PRIMARY KEY, session_id TEXT NOT NULL, step_id TEXT NOT NULL, kind TEXT NOT NULL,"
    " turn_number INTEGER, metadata TEXT, start_us INTEGER, start_unix_us INTEGER,"
    " end_us INTEGER, end_unix_us INTEGER, UNIQUE (session_id, step_id));"
    "CREATE TABLE turns ("
    " session_id TEXT NOT NULL, turn_number INTEGER NOT NULL, step_id TEXT NOT NULL,"
    " outcome TEXT, completed_by TEXT, interrupted INTEGER, start_ns INTEGER, end_ns INTEGER,"
    " start_unix_us INTEGER, end_unix_us INTEGER, anchor TEXT, e2e_ns INTEGER,"
    " e2e_stt_ns INTEGER, e2e_eou_ns INTEGER, e2e_llm_ttft_ns INTEGER, e2e_tts_ttfb_ns INTEGER,"
    " e2e_realtime_ns INTEGER, e2e_remainder_ns INTEGER,"
    " user_speech_ns INTEGER, stt_latency_ns INTEGER, eou_delay_ns INTEGER, llm_ttft_ns INTEGER,"
    " llm_duration_ns INTEGER, tts_ttfb_ns INTEGER, tts_duration_ns INTEGER,"
    " realtime_ttfa_ns INTEGER, agent_speech_ns INTEGER,"
    " stt_provider TEXT, stt_model TEXT, eou_provider TEXT, llm_provider TEXT, llm_model TEXT,"
    " tts_provider TEXT, tts_model TEXT, realtime_provider TEXT, realtime_model TEXT,"
    " tokens_input INTEGER, tokens_output INTEGER, tokens_cached_input INTEGER,"
    " tokens_reasoning INTEGER, quality_flags INTEGER, quality TEXT, tool_calls_total INTEGER,"
    " fallbacks_total INTEGER, errors_total INTEGER, audio_bytes_sent INTEGER,"
    " record TEXT NOT NULL, PRIMARY KEY (session_id, turn_number));"
    "CREATE TABLE events ("
    " id INTEGER PRIMARY KEY, session_id TEXT, event_type TEXT NOT NULL, step_id TEXT,"
    " turn_id TEXT, correlation_id TEXT, t_us INTEGER, unix_us INTEGER, data TEXT);"
    "CREATE INDEX events_session ON events(session_id, t_us);"
    "CREATE INDEX events_type ON events(event_type, unix_us);"
    "CREATE TABLE messages ("
    " id INTEGER PRIMARY KEY, event_id INTEGER, session_id TEXT, step_id TEXT, role TEXT NOT NULL,"
    " content_type TEXT, content TEXT, chars INTEGER, redacted INTEGER, truncated INTEGER,"
    " metadata TEXT, t_us INTEGER, unix_us INTEGER);"
    "CREATE INDEX messages_session ON messages(session_id, step_id);"
    "CREATE TABLE tool_calls ("
    " id INTEGER PRIMARY KEY, session_id TEXT NOT NULL, turn_number INTEGER NOT NULL,"
    " step_id TEXT NOT NULL, idx INTEGER NOT NULL, name TEXT, kind TEXT, ok INTEGER,"
    " start_ns INTEGER, end_ns INTEGER, duration_ns INTEGER, UNIQUE (session_id, turn_number, idx));"
    "CREATE INDEX tool_calls_name ON tool_calls(name, ok);"
    "CREATE TABLE outcome_rewards ("
    " id INTEGER PRIMARY KEY, event_id INTEGER, session_id TEXT, objective_key TEXT NOT NULL,"
    " total_reward REAL, achievements_count INTEGER, total_steps INTEGER, annotation TEXT,"
    " t_us INTEGER, unix_us INTEGER);"
    "CREATE INDEX outcome_rewards_session ON outcome_rewards(session_id);"
    "CREATE TABLE event_rewards ("
    " id INTEGER PRIMARY KEY, event_id INTEGER, session_id TEXT, step_id TEXT,"
    " objective_key TEXT NOT NULL, value REAL, reward_type TEXT, source TEXT, annotation TEXT,"
    " t_us INTEGER, unix_us INTEGER);"
    "CREATE INDEX event_rewards_session ON event_rewards(session_id, step_id);"
    "CREATE TABLE writers ("
    " writer_id TEXT PRIMARY KEY, pid INTEGER, started_unix_us INTEGER,"
    " last_sequence INTEGER NOT NULL DEFAULT 0, batches INTEGER NOT NULL DEFAULT 0,"
    " events INTEGER NOT NULL DEFAULT 0, malformed INTEGER NOT NULL DEFAULT 0,"
    " updated_unix_us INTEGER);",
    /* 1 -> 2: the barge-in latency as a column (filled from the stored records), an index for
     * per-provider latency queries, the session's clock and trace id (session.start since 1.1) */
    "ALTER TABLE turns ADD COLUMN barge_in_latency_ns INTEGER;"
    "ALTER TABLE sessions ADD COLUMN clock TEXT;"
    "ALTER TABLE sessions ADD COLUMN trace_id TEXT;"
    "UPDATE turns SET barge_in_latency_ns = json_extract(record, '$.interruption.barge_in_latency_ns');"
    "CREATE INDEX turns_llm_provider ON turns(llm_provider, e2e_ns);",
    /* 2 -> 3: the costs (core 1.2) as columns generated from the turn record and the final snapshot */
    COST_COLUMNS("turns", "record") COST_COLUMNS("sessions", "final_snapshot")
    COST_INTEGER("sessions", "final_snapshot", "transport_micros"),
};

/* A column of the turns table filled from the turn record: record.a (or record.a.b). kind: 'i'
 * integer (booleans as 0/1), 's' text, 'j' JSON text. */
typedef struct colspec {
    const char *column, *a, *b;
    char kind;
} colspec;

static const colspec TURN_COLUMNS[] = { /* grouped by parent: each parent object is found once */
    {"outcome", "outcome", NULL, 's'},         {"completed_by", "completed_by", NULL, 's'},
    {"start_ns", "start_ns", NULL, 'i'},       {"end_ns", "end_ns", NULL, 'i'},
    {"anchor", "anchor", NULL, 's'},           {"e2e_ns", "e2e_latency_ns", NULL, 'i'},
    {"e2e_stt_ns", "e2e_breakdown_ns", "stt_ns", 'i'},
    {"e2e_eou_ns", "e2e_breakdown_ns", "eou_ns", 'i'},
    {"e2e_llm_ttft_ns", "e2e_breakdown_ns", "llm_ttft_ns", 'i'},
    {"e2e_tts_ttfb_ns", "e2e_breakdown_ns", "tts_ttfb_ns", 'i'},
    {"e2e_realtime_ns", "e2e_breakdown_ns", "realtime_ns", 'i'},
    {"e2e_remainder_ns", "e2e_breakdown_ns", "remainder_ns", 'i'},
    {"quality_flags", "quality_flags", NULL, 'i'}, {"quality", "quality", NULL, 'j'},
    {"user_speech_ns", "user_speech", "duration_ns", 'i'},
    {"stt_latency_ns", "stt", "latency_ns", 'i'},  {"stt_provider", "stt", "provider", 's'},
    {"stt_model", "stt", "model", 's'},
    {"eou_delay_ns", "eou", "delay_ns", 'i'},      {"eou_provider", "eou", "provider", 's'},
    {"llm_ttft_ns", "llm", "ttft_ns", 'i'},        {"llm_duration_ns", "llm", "duration_ns", 'i'},
    {"llm_provider", "llm", "provider", 's'},      {"llm_model", "llm", "model", 's'},
    {"tts_ttfb_ns", "tts", "ttfb_ns", 'i'},        {"tts_duration_ns", "tts", "duration_ns", 'i'},
    {"tts_provider", "tts", "provider", 's'},      {"tts_model", "tts", "model", 's'},
    {"realtime_ttfa_ns", "realtime", "ttfa_ns", 'i'},
    {"realtime_provider", "realtime", "provider", 's'}, {"realtime_model", "realtime", "model", 's'},
    {"agent_speech_ns", "agent_speech", "duration_ns", 'i'},
    {"interrupted", "interruption", "interrupted", 'i'},
    {"barge_in_latency_ns", "interruption", "barge_in_latency_ns", 'i'},
    {"audio_bytes_sent", "playback", "audio_bytes_sent", 'i'},
    {"tokens_input", "tokens", "input", 'i'},      {"tokens_output", "tokens", "output", 'i'},
    {"tokens_cached_input", "tokens", "cached_input", 'i'},
    {"tokens_reasoning", "tokens", "reasoning", 'i'},
    {"tool_calls_total", "tool_calls_total", NULL, 'i'},
    {"fallbacks_total", "fallbacks_total", NULL, 'i'},
};
#define N_TURN_COLUMNS (sizeof TURN_COLUMNS / sizeof TURN_COLUMNS[0])
/* The turns INSERT binds: session_id, turn_number, step_id, start_unix_us, end_unix_us,
 * errors_total, record, then TURN_COLUMNS in order. */
#define TURN_FIXED_PARAMS 7

/* ---- statements ----------------------------------------------------------------------------- */

enum stmt_id {
    S_BEGIN, S_COMMIT, S_ROLLBACK, S_SAVEPOINT, S_RELEASE, S_ROLLBACK_TO,
    S_EVENT, S_SESSION_STUB, S_SESSION_START, S_SESSION_END, S_ANCHOR,
    S_STEP_START, S_STEP_END, S_TURN_STEP, S_TURN, S_TOOL_CALL, S_MESSAGE,
    S_OUTCOME_REWARD, S_EVENT_REWARD, S_WRITER_INSERT, S_WRITER_UPDATE, S_WRITER_SEQUENCE,
    S_COUNT
};

static const char *const STATEMENTS[S_COUNT] = {
    [S_BEGIN] = "BEGIN IMMEDIATE",
    [S_COMMIT] = "COMMIT",
    [S_ROLLBACK] = "ROLLBACK",
    [S_SAVEPOINT] = "SAVEPOINT line",
    [S_RELEASE] = "RELEASE line",
    [S_ROLLBACK_TO] = "ROLLBACK TO line",
    [S_EVENT] = "INSERT INTO events (session_id, event_type, step_id, turn_id, correlation_id, t_us,"
                " unix_us, data) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    [S_SESSION_STUB] = "INSERT OR IGNORE INTO sessions (session_id) VALUES (?1)",
    [S_SESSION_START] =
        "INSERT INTO sessions (session_id, labels, metadata, text_policy, start_us, start_unix_us,"
        " start_ns, start_unix_ns, clock, trace_id)"
        " VALUES (?1, ?2, ?3, ?4, ?5, COALESCE(?6, ?8 / 1000), ?7, ?8, ?9, ?10)"
        " ON CONFLICT (session_id) DO UPDATE SET labels = excluded.labels,"
        " metadata = excluded.metadata, text_policy = excluded.text_policy,"
        " clock = excluded.clock, trace_id = excluded.trace_id,"
        " start_us = excluded.start_us, start_unix_us = excluded.start_unix_us,"
        " start_ns = excluded.start_ns, start_unix_ns = excluded.start_unix_ns",
    [S_SESSION_END] =
        "INSERT INTO sessions (session_id, labels, end_us, end_unix_us, final_snapshot, uptime_secs,"
        " turn_count, turns_completed, turns_interrupted, turns_discarded, interruptions,"
        " response_count, audio_bytes_out, tokens_total, start_unix_ns)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7 + ?8, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)"
        " ON CONFLICT (session_id) DO UPDATE SET labels = COALESCE(sessions.labels, excluded.labels),"
        " end_us = excluded.end_us, end_unix_us = excluded.end_unix_us,"
        " final_snapshot = excluded.final_snapshot, uptime_secs = excluded.uptime_secs,"
        " turn_count = excluded.turn_count, turns_completed = excluded.turns_completed,"
        " turns_interrupted = excluded.turns_interrupted, turns_discarded = excluded.turns_discarded,"
        " interruptions = excluded.interruptions, response_count = excluded.response_count,"
        " audio_bytes_out = excluded.audio_bytes_out, tokens_total = excluded.tokens_total,"
        " start_unix_ns = COALESCE(sessions.start_unix_ns, excluded.start_unix_ns)",
    [S_ANCHOR] = "SELECT start_ns, start_unix_ns FROM sessions WHERE session_id = ?1",
    [S_STEP_START] =
        "INSERT INTO steps (session_id, step_id, kind, turn_number, metadata, start_us, start_unix_us)"
        " VALUES (?1, ?2, 'engine', ?3, ?4, ?5, ?6) ON CONFLICT (session_id, step_id) DO UPDATE SET"
        " turn_number = COALESCE(excluded.turn_number, steps.turn_number),"
        " metadata = excluded.metadata, start_us = excluded.start_us,"
        " start_unix_us = excluded.start_unix_us",
    [S_STEP_END] =
        "INSERT INTO steps (session_id, step_id, kind, end_us, end_unix_us)"
        " VALUES (?1, ?2, 'engine', ?3, ?4) ON CONFLICT (session_id, step_id) DO UPDATE SET"
        " end_us = excluded.end_us, end_unix_us = excluded.end_unix_us",
    [S_TURN_STEP] =
        "INSERT INTO steps (session_id, step_id, kind, turn_number, start_us, start_unix_us, end_us,"
        " end_unix_us) VALUES (?1, ?2, 'turn', ?3, ?4, ?5, ?6, ?7)"
        " ON CONFLICT (session_id, step_id) DO UPDATE SET kind = 'turn',"
        " turn_number = excluded.turn_number, start_us = excluded.start_us,"
        " start_unix_us = excluded.start_unix_us, end_us = excluded.end_us,"
        " end_unix_us = excluded.end_unix_us",
    [S_TURN] = NULL, /* built from TURN_COLUMNS */
    [S_TOOL_CALL] =
        "INSERT OR REPLACE INTO tool_calls (session_id, turn_number, step_id, idx, name, kind, ok,"
        " start_ns, end_ns, duration_ns) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    [S_MESSAGE] =
        "INSERT INTO messages (event_id, session_id, step_id, role, content_type, content, chars,"
        " redacted, truncated, metadata, t_us, unix_us)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    [S_OUTCOME_REWARD] =
        "INSERT INTO outcome_rewards (event_id, session_id, objective_key, total_reward,"
        " achievements_count, total_steps, annotation, t_us, unix_us)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    [S_EVENT_REWARD] =
        "INSERT INTO event_rewards (event_id, session_id, step_id, objective_key, value, reward_type,"
        " source, annotation, t_us, unix_us) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    [S_WRITER_INSERT] = "INSERT INTO writers (writer_id, pid, started_unix_us, updated_unix_us)"
                        " VALUES (?1, ?2, ?3, ?3)",
    [S_WRITER_UPDATE] = "UPDATE writers SET last_sequence = ?2, batches = batches + 1,"
                        " events = events + ?3, malformed = malformed + ?4, updated_unix_us = ?5"
                        " WHERE writer_id = ?1",
    [S_WRITER_SEQUENCE] = "SELECT last_sequence FROM writers WHERE writer_id = ?1",
};

/* ---- state ---------------------------------------------------------------------------------- */

typedef struct sink {
    const vt_host_api *host;
    void *host_ctx;
    sqlite3 *db;
    sqlite3_stmt *st[S_COUNT];
    char path[4096];
    char writer_id[40];
    uint64_t last_sequence;    /* last batch committed by this writer */
    int sequence_unknown;      /* a COMMIT failed: re-read last_sequence before the next batch */
    uint64_t bad_in_batch;
    char anchor_of[512];       /* the session whose clock anchor is cached (anchor_len 0: none) */
    size_t anchor_len;
    int anchor_known;
    int64_t anchor_mono_ns, anchor_wall_ns;
    char ensured[512];         /* the session whose row this transaction already ensured */
    size_t ensured_len;        /* 0: none */
    jm_tok tok[MAX_TOKENS];
    char *scratch;             /* decoded strings of the current line */
    size_t scratch_cap, scratch_used;
} sink;

/* One event line while it is being stored: its parse and the envelope's fields (token indexes). */
typedef struct line {
    jm_doc d;
    int data, session, type, turn, correlation; /* tokens (-1: absent; session: also when null) */
    const char *session_id;    /* the session, decoded once (bound many times) */
    size_t session_len;
    int64_t t_us;
    int64_t unix_us;
    int has_unix;
    const char *step_id;       /* the step the event belongs to (NULL: none) */
    size_t step_len;
    char turn_step[32];        /* "turn-N" for a turn record */
} line;

static int64_t unix_now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void logf_(sink *s, int32_t level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void logf_(sink *s, int32_t level, const char *fmt, ...) {
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (s->host && s->host->log) s->host->log(s->host_ctx, level, msg);
}

/* ---- binding values out of a parsed line ------------------------------------------------------ */

/* String token i, decoded if it holds escapes (into the line's scratch space, as long as the line:
 * decoding never grows a string, and each token is decoded at most once per line; the session id,
 * bound many times, is decoded once into the line). */
static void str_of(sink *s, const jm_doc *d, int i, const char **p, size_t *n) {
    const jm_tok *t = &d->tok[i];
    if (!t->escaped || s->scratch_used + t->len > s->scratch_cap) { /* (the second: cannot happen) */
        *p = d->src + t->start;
        *n = t->len;
        return;
    }
    char *out = s->scratch + s->scratch_used;
    *n = jm_unescape(d->src + t->start, t->len, out);
    *p = out;
    s->scratch_used += *n;
}

/* The JSON text of token i, as it is in the line. */
static void raw_of(const jm_doc *d, int i, const char **p, size_t *n) {
    const jm_tok *t = &d->tok[i];
    int quoted = t->type == JM_STRING;
    *p = d->src + t->start - quoted;
    *n = t->len + 2u * (size_t)quoted;
}

/* Text columns: a string's value; another non-null value as its JSON text; null/absent -> NULL. */
static void bind_text(sink *s, sqlite3_stmt *st, int col, const jm_doc *d, int i) {
    const char *p;
    size_t n;
    if (i < 0 || d->tok[i].type == JM_NULL) {
        sqlite3_bind_null(st, col);
        return;
    }
    if (d->tok[i].type == JM_STRING) str_of(s, d, i, &p, &n);
    else raw_of(d, i, &p, &n);
    sqlite3_bind_text(st, col, p, (int)n, SQLITE_STATIC);
}

/* JSON columns: the value's JSON text; null/absent -> NULL. */
static void bind_json(sqlite3_stmt *st, int col, const jm_doc *d, int i) {
    const char *p;
    size_t n;
    if (i < 0 || d->tok[i].type == JM_NULL) {
        sqlite3_bind_null(st, col);
        return;
    }
    raw_of(d, i, &p, &n);
    sqlite3_bind_text(st, col, p, (int)n, SQLITE_STATIC);
}

/* Numeric columns: integers exactly, other numbers as REAL, booleans as 1/0, anything else NULL. */
static void bind_num(sqlite3_stmt *st, int col, const jm_doc *d, int i) {
    int64_t v;
    double x;
    if (jm_int(d, i, &v) == 0) sqlite3_bind_int64(st, col, v);
    else if (jm_double(d, i, &x) == 0) sqlite3_bind_double(st, col, x);
    else if (jm_is(d, i, JM_TRUE) || jm_is(d, i, JM_FALSE)) sqlite3_bind_int(st, col, jm_is(d, i, JM_TRUE));
    else sqlite3_bind_null(st, col);
}

static void bind_opt_i64(sqlite3_stmt *st, int col, int present, int64_t v) {
    if (present) sqlite3_bind_int64(st, col, v);
    else sqlite3_bind_null(st, col);
}

static void bind_session(sqlite3_stmt *st, int col, const line *L) {
    if (L->session_id) sqlite3_bind_text(st, col, L->session_id, (int)L->session_len, SQLITE_STATIC);
    else sqlite3_bind_null(st, col);
}

static void bind_step(sqlite3_stmt *st, int col, const line *L) {
    if (L->step_id) sqlite3_bind_text(st, col, L->step_id, (int)L->step_len, SQLITE_STATIC);
    else sqlite3_bind_null(st, col);
}

static void bind_when(sqlite3_stmt *st, int col, const line *L) {
    sqlite3_bind_int64(st, col, L->t_us);
    bind_opt_i64(st, col + 1, L->has_unix, L->unix_us);
}

/* Step and reset a statement: SQLITE_OK, or the error. */
static int run(sink *s, int id) {
    sqlite3_stmt *st = s->st[id];
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? SQLITE_OK : rc;
}

static int get_i64(const jm_doc *d, int i, int64_t *out) { return jm_int(d, i, out) == 0; }

/* ---- the tables of each event type --------------------------------------------------------- */

static int on_session_start(sink *s, line *L, sqlite3_int64 event_id) {
    sqlite3_stmt *st = s->st[S_SESSION_START];
    const jm_doc *d = &L->d;
    (void)event_id;
    s->anchor_len = 0; /* the session's anchor may change */
    bind_session(st, 1, L);
    bind_json(st, 2, d, jm_get(d, L->data, "labels"));
    bind_json(st, 3, d, jm_get(d, L->data, "metadata"));
    bind_text(s, st, 4, d, jm_get(d, L->data, "text_policy"));
    bind_when(st, 5, L);
    bind_num(st, 7, d, jm_get(d, L->data, "start_ns"));
    bind_num(st, 8, d, jm_get(d, L->data, "start_unix_ns"));
    bind_text(s, st, 9, d, jm_get(d, L->data, "clock"));
    bind_text(s, st, 10, d, jm_get(d, L->data, "trace_id"));
    return run(s, S_SESSION_START);
}

static int on_session_end(sink *s, line *L, sqlite3_int64 event_id) {
    sqlite3_stmt *st = s->st[S_SESSION_END];
    const jm_doc *d = &L->d;
    int turns = jm_get(d, L->data, "turns");
    (void)event_id;
    s->anchor_len = 0;
    bind_session(st, 1, L);
    bind_json(st, 2, d, jm_get(d, L->data, "labels"));
    bind_when(st, 3, L);
    bind_json(st, 5, d, L->data);
    bind_num(st, 6, d, jm_get(d, L->data, "uptime_secs"));
    bind_num(st, 7, d, jm_get(d, turns, "completed"));
    bind_num(st, 8, d, jm_get(d, turns, "interrupted"));
    bind_num(st, 9, d, jm_get(d, turns, "discarded"));
    bind_num(st, 10, d, jm_get(d, L->data, "interruptions"));
    bind_num(st, 11, d, jm_get(d, L->data, "response_count"));
    bind_num(st, 12, d, jm_get(d, L->data, "audio_bytes_out"));
    bind_num(st, 13, d, jm_get2(d, L->data, "token_totals", "total"));
    bind_num(st, 14, d, jm_get(d, L->data, "start_unix_ns"));
    return run(s, S_SESSION_END);
}

static int on_step_start(sink *s, line *L, sqlite3_int64 event_id) {
    sqlite3_stmt *st = s->st[S_STEP_START];
    (void)event_id;
    bind_session(st, 1, L);
    bind_step(st, 2, L);
    bind_num(st, 3, &L->d, jm_get(&L->d, L->data, "turn_number"));
    bind_json(st, 4, &L->d, jm_get(&L->d, L->data, "metadata"));
    bind_when(st, 5, L);
    return run(s, S_STEP_START);
}

static int on_step_end(sink *s, line *L, sqlite3_int64 event_id) {
    sqlite3_stmt *st = s->st[S_STEP_END];
    (void)event_id;
    bind_session(st, 1, L);
    bind_step(st, 2, L);
    bind_when(st, 3, L);
    return run(s, S_STEP_END);
}

static int on_message(sink *s, line *L, sqlite3_int64 event_id) {
    sqlite3_stmt *st = s->st[S_MESSAGE];
    const jm_doc *d = &L->d;
    sqlite3_bind_int64(st, 1, event_id);
    bind_session(st, 2, L);
    bind_step(st, 3, L);
    bind_text(s, st, 4, d, jm_get(d, L->data, "role"));
    bind_text(s, st, 5, d, jm_get(d, L->data, "content_type"));
    bind_text(s, st, 6, d, jm_get(d, L->data, "content")); /* text decoded; JSON content as JSON */
    bind_num(st, 7, d, jm_get(d, L->data, "chars"));
    bind_num(st, 8, d, jm_get(d, L->data, "redacted"));
    bind_num(st, 9, d, jm_get(d, L->data, "truncated"));
    bind_json(st, 10, d, jm_get(d, L->data, "metadata"));
    bind_when(st, 11, L);
    return run(s, S_MESSAGE);
}

static int on_outcome_reward(sink *s, line *L, sqlite3_int64 event_id) {
    sqlite3_stmt *st = s->st[S_OUTCOME_REWARD];
    const jm_doc *d = &L->d;
    sqlite3_bind_int64(st, 1, event_id);
    bind_session(st, 2, L);
    bind_text(s, st, 3, d, jm_get(d, L->data, "objective_key"));
    bind_num(st, 4, d, jm_get(d, L->data, "total_reward"));
    bind_num(st, 5, d, jm_get(d, L->data, "achievements_count"));
    bind_num(st, 6, d, jm_get(d, L->data, "total_steps"));
    bind_json(st, 7, d, jm_get(d, L->data, "annotation"));
    bind_when(st, 8, L);
    return run(s, S_OUTCOME_REWARD);
}

static int on_event_reward(sink *s, line *L, sqlite3_int64 event_id) {
    sqlite3_stmt *st = s->st[S_EVENT_REWARD];
    const jm_doc *d = &L->d;
    sqlite3_bind_int64(st, 1, event_id);
    bind_session(st, 2, L);
    bind_step(st, 3, L);
    bind_text(s, st, 4, d, jm_get(d, L->data, "objective_key"));
    bind_num(st, 5, d, jm_get(d, L->data, "value"));
    bind_text(s, st, 6, d, jm_get(d, L->data, "reward_type"));
    bind_text(s, st, 7, d, jm_get(d, L->data, "source"));
    bind_json(st, 8, d, jm_get(d, L->data, "annotation"));
    bind_when(st, 9, L);
    return run(s, S_EVENT_REWARD);
}

/* floor(a / b) for b > 0 */
static int64_t floor_div(int64_t a, int64_t b) { return a / b - (a % b != 0 && a < 0); }

/* The wall clock (unix us) of session-clock time t_ns: through the session's anchor (start_ns,
 * start_unix_ns) when it is known, else through this event's own pair of timestamps. */
static void load_anchor(sink *s, line *L) {
    sqlite3_stmt *st = s->st[S_ANCHOR];
    const char *id = L->session_id;
    size_t n = L->session_len;
    if (n == s->anchor_len && memcmp(id, s->anchor_of, n) == 0) return; /* cached */
    bind_session(st, 1, L);
    s->anchor_known = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) == SQLITE_INTEGER &&
                      sqlite3_column_type(st, 1) == SQLITE_INTEGER;
    s->anchor_mono_ns = s->anchor_known ? sqlite3_column_int64(st, 0) : 0;
    s->anchor_wall_ns = s->anchor_known ? sqlite3_column_int64(st, 1) : 0;
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    s->anchor_len = n < sizeof s->anchor_of ? n : 0;
    memcpy(s->anchor_of, id, s->anchor_len);
}

static int wall_us(sink *s, line *L, int64_t t_ns, int64_t *out) {
    load_anchor(s, L);
    if (s->anchor_known) /* as the library stamps timestamp_unix_us (docs/event-schema.md) */
        *out = floor_div(s->anchor_wall_ns, 1000) + (t_ns - s->anchor_mono_ns) / 1000;
    else if (L->has_unix) *out = floor_div(t_ns, 1000) + (L->unix_us - L->t_us);
    return s->anchor_known || L->has_unix;
}

static int turn_step_row(sink *s, line *L, int64_t turn, const int64_t t[4], const int has[4]) {
    sqlite3_stmt *st = s->st[S_TURN_STEP];
    bind_session(st, 1, L);
    bind_step(st, 2, L);
    sqlite3_bind_int64(st, 3, turn);
    for (int k = 0; k < 4; k++) bind_opt_i64(st, 4 + k, has[k], t[k]);
    return run(s, S_TURN_STEP);
}

static int64_t errors_total(const jm_doc *d, int errors) {
    int64_t total = 0, v;
    if (!jm_is(d, errors, JM_OBJECT)) return 0;
    for (uint32_t i = (uint32_t)errors + 1; i < d->tok[errors].next; i = d->tok[i + 1].next)
        if (get_i64(d, (int)i + 1, &v)) total += v;
    return total;
}

static int turn_row(sink *s, line *L, int64_t turn, const int64_t t[4], const int has[4]) {
    sqlite3_stmt *st = s->st[S_TURN];
    const jm_doc *d = &L->d;
    bind_session(st, 1, L);
    sqlite3_bind_int64(st, 2, turn);
    bind_step(st, 3, L);
    bind_opt_i64(st, 4, has[1], t[1]);
    bind_opt_i64(st, 5, has[3], t[3]);
    sqlite3_bind_int64(st, 6, errors_total(d, jm_get(d, L->data, "errors")));
    bind_json(st, 7, d, L->data);
    const char *parent_key = "";
    int parent = -1;
    for (size_t k = 0; k < N_TURN_COLUMNS; k++) {
        const colspec *c = &TURN_COLUMNS[k];
        if (c->b && strcmp(parent_key, c->a) != 0) {
            parent_key = c->a;
            parent = jm_get(d, L->data, c->a);
        }
        int v = c->b ? jm_get(d, parent, c->b) : jm_get(d, L->data, c->a);
        int col = TURN_FIXED_PARAMS + 1 + (int)k;
        if (c->kind == 'i') bind_num(st, col, d, v);
        else if (c->kind == 's') bind_text(s, st, col, d, v);
        else bind_json(st, col, d, v);
    }
    return run(s, S_TURN);
}

static int tool_call_rows(sink *s, line *L, int64_t turn) {
    const jm_doc *d = &L->d;
    int calls = jm_get(d, L->data, "tool_calls");
    if (!jm_is(d, calls, JM_ARRAY)) return SQLITE_OK;
    int idx = 0;
    for (uint32_t i = (uint32_t)calls + 1; i < d->tok[calls].next; i = d->tok[i].next, idx++) {
        sqlite3_stmt *st = s->st[S_TOOL_CALL];
        int c = (int)i;
        bind_session(st, 1, L);
        sqlite3_bind_int64(st, 2, turn);
        bind_step(st, 3, L);
        sqlite3_bind_int(st, 4, idx);
        bind_text(s, st, 5, d, jm_get(d, c, "name"));
        bind_text(s, st, 6, d, jm_get(d, c, "kind"));
        bind_num(st, 7, d, jm_get(d, c, "ok"));
        bind_num(st, 8, d, jm_get(d, c, "start_ns"));
        bind_num(st, 9, d, jm_get(d, c, "end_ns"));
        bind_num(st, 10, d, jm_get(d, c, "duration_ns"));
        int rc = run(s, S_TOOL_CALL);
        if (rc != SQLITE_OK) return rc;
    }
    return SQLITE_OK;
}

/* A turn record: its step ("turn-N", the record's start/end), its turns row, its tool calls. */
static int on_turn_complete(sink *s, line *L, sqlite3_int64 event_id) {
    const jm_doc *d = &L->d;
    int64_t turn = 0, t[4] = {0, 0, 0, 0}; /* start_us, start_unix_us, end_us, end_unix_us */
    int has[4] = {0, 0, 0, 0};
    (void)event_id;
    get_i64(d, jm_get(d, L->data, "turn_id"), &turn);
    int64_t ns;
    for (int k = 0; k < 2; k++) {
        if (!get_i64(d, jm_get(d, L->data, k ? "end_ns" : "start_ns"), &ns)) continue;
        t[2 * k] = floor_div(ns, 1000);
        has[2 * k] = 1;
        has[2 * k + 1] = wall_us(s, L, ns, &t[2 * k + 1]);
    }
    int rc = turn_step_row(s, L, turn, t, has);
    if (rc == SQLITE_OK) rc = turn_row(s, L, turn, t, has);
    if (rc == SQLITE_OK) rc = tool_call_rows(s, L, turn);
    return rc;
}

/* ---- one line --------------------------------------------------------------------------------- */

typedef int (*handler_fn)(sink *s, line *L, sqlite3_int64 event_id);

/* Event types with tables of their own. needs: what `data` must hold (besides being an object):
 * 's' a session, 'p' a string step_id, 'r' a string role, 'o' a string objective_key,
 * 't' an integer turn_id. */
static const struct {
    const char *type;
    const char *needs;
    handler_fn fn;
} HANDLERS[] = {
    {"session.start", "s", on_session_start},
    {"session.end", "s", on_session_end},
    {"turn.complete", "st", on_turn_complete},
    {"step.start", "sp", on_step_start},
    {"step.end", "sp", on_step_end},
    {"message", "r", on_message},
    {"reward.outcome", "so", on_outcome_reward},
    {"reward.event", "o", on_event_reward},
};
#define N_HANDLERS (sizeof HANDLERS / sizeof HANDLERS[0])

static int is_str_or_null(const jm_doc *d, int i) {
    return i < 0 || d->tok[i].type == JM_STRING || d->tok[i].type == JM_NULL;
}

/* The envelope. NULL, or what is wrong with it. */
static const char *read_envelope(sink *s, line *L) {
    const jm_doc *d = &L->d;
    if (d->tok[0].type != JM_OBJECT) return "not a JSON object";
    L->type = jm_get(d, 0, "event_type");
    if (!jm_is(d, L->type, JM_STRING) || d->tok[L->type].len == 0) return "no event_type";
    L->data = jm_get(d, 0, "data");
    if (!jm_is(d, L->data, JM_OBJECT)) return "data is not an object";
    if (!get_i64(d, jm_get(d, 0, "timestamp_us"), &L->t_us)) return "no integer timestamp_us";
    L->has_unix = get_i64(d, jm_get(d, 0, "timestamp_unix_us"), &L->unix_us);
    L->session = jm_get(d, 0, "session_id");
    L->turn = jm_get(d, 0, "turn_id");
    L->correlation = jm_get(d, 0, "correlation_id");
    if (!is_str_or_null(d, L->session) || !is_str_or_null(d, L->turn) || !is_str_or_null(d, L->correlation))
        return "session_id, turn_id or correlation_id is not a string or null";
    if (jm_is(d, L->session, JM_NULL)) L->session = -1;
    if (L->session >= 0) str_of(s, d, L->session, &L->session_id, &L->session_len);
    return NULL;
}

/* The handler of the line's event type (-1: events table only) and whether its data has what the
 * handler needs. Sets the line's step. NULL, or what is missing. */
static const char *read_kind(sink *s, line *L, int *handler) {
    const jm_doc *d = &L->d;
    const jm_tok *t = &d->tok[L->type];
    *handler = -1;
    for (size_t k = 0; k < N_HANDLERS; k++)
        if (strlen(HANDLERS[k].type) == t->len && memcmp(HANDLERS[k].type, d->src + t->start, t->len) == 0)
            *handler = (int)k;
    int step = jm_get(d, L->data, "step_id");
    if (jm_is(d, step, JM_STRING)) str_of(s, d, step, &L->step_id, &L->step_len);
    if (*handler < 0) return NULL;
    int64_t turn;
    for (const char *n = HANDLERS[*handler].needs; *n; n++) {
        if (*n == 's' && L->session < 0) return "no session_id";
        if (*n == 'p' && !L->step_id) return "no step_id";
        if (*n == 'r' && !jm_is(d, jm_get(d, L->data, "role"), JM_STRING)) return "no role";
        if (*n == 'o' && !jm_is(d, jm_get(d, L->data, "objective_key"), JM_STRING)) return "no objective_key";
        if (*n == 't') {
            if (!get_i64(d, jm_get(d, L->data, "turn_id"), &turn)) return "no integer turn_id in the record";
            L->step_len = (size_t)snprintf(L->turn_step, sizeof L->turn_step, "turn-%" PRId64, turn);
            L->step_id = L->turn_step;
        }
    }
    return NULL;
}

/* The session row exists (a stub until its session.start arrives), once per session per batch. */
static int ensure_session(sink *s, line *L) {
    if (!L->session_id) return SQLITE_OK;
    const char *id = L->session_id;
    size_t n = L->session_len;
    if (n == s->ensured_len && memcmp(id, s->ensured, n) == 0) return SQLITE_OK;
    sqlite3_bind_text(s->st[S_SESSION_STUB], 1, id, (int)n, SQLITE_STATIC);
    int rc = run(s, S_SESSION_STUB);
    if (rc == SQLITE_OK && n < sizeof s->ensured) {
        memcpy(s->ensured, id, n);
        s->ensured_len = n;
    }
    return rc;
}

static int insert_event(sink *s, line *L, sqlite3_int64 *event_id) {
    sqlite3_stmt *st = s->st[S_EVENT];
    bind_session(st, 1, L);
    bind_text(s, st, 2, &L->d, L->type);
    bind_step(st, 3, L);
    bind_text(s, st, 4, &L->d, L->turn);
    bind_text(s, st, 5, &L->d, L->correlation);
    bind_when(st, 6, L);
    bind_json(st, 8, &L->d, L->data);
    int rc = run(s, S_EVENT);
    *event_id = sqlite3_last_insert_rowid(s->db);
    return rc;
}

static void bad_line(sink *s, const char *p, size_t n, uint32_t lineno, uint64_t sequence, const char *why) {
    if (++s->bad_in_batch > LOGGED_BAD_LINES_PER_BATCH) return;
    logf_(s, VT_LOG_WARN, "sqlite_sink: line %u of batch %" PRIu64 " is not a valid event (%s), skipped: %.*s%s",
          lineno, sequence, why, (int)(n > 120 ? 120 : n), p, n > 120 ? "..." : ""); /* p: not NUL-terminated */
}

static int scratch_for(sink *s, size_t n) {
    s->scratch_used = 0;
    if (n <= s->scratch_cap) return 0;
    char *p = realloc(s->scratch, n);
    if (!p) return -1;
    s->scratch = p;
    s->scratch_cap = n;
    return 0;
}

/* Store one line: SQLITE_OK (also when the line was bad: it is counted and skipped), or the
 * database's error. */
static int store_line(sink *s, const char *p, size_t n, uint32_t lineno, uint64_t sequence) {
    line L;
    int handler = -1;
    const char *why = NULL;
    memset(&L, 0, sizeof L);
    if (n > MAX_LINE_BYTES) why = "longer than 1 MiB";
    else if (scratch_for(s, n + 1) != 0) return SQLITE_NOMEM;
    else if (jm_parse(&L.d, p, n, s->tok, MAX_TOKENS) != 0) why = L.d.error;
    if (!why) why = read_envelope(s, &L);
    if (!why) why = read_kind(s, &L, &handler);
    if (why) {
        bad_line(s, p, n, lineno, sequence, why);
        return SQLITE_OK;
    }
    sqlite3_int64 event_id = 0;
    int rc = ensure_session(s, &L);
    if (rc == SQLITE_OK) rc = insert_event(s, &L, &event_id);
    if (rc == SQLITE_OK && handler >= 0) rc = HANDLERS[handler].fn(s, &L, event_id);
    return rc;
}

/* ---- one batch = one transaction ---------------------------------------------------------------- */

/* Errors of one row (a value the schema refuses), as opposed to the database's state. */
static int row_error(int rc) {
    rc &= 0xff;
    return rc == SQLITE_CONSTRAINT || rc == SQLITE_TOOBIG || rc == SQLITE_MISMATCH || rc == SQLITE_RANGE;
}

/* A damaged file: retrying cannot help. */
static int fatal_error(int rc) {
    rc &= 0xff;
    return rc == SQLITE_CORRUPT || rc == SQLITE_NOTADB;
}

/* A line inside its own savepoint: a row error undoes only that line, which counts as bad. */
static int store_isolated(sink *s, const char *p, size_t n, uint32_t lineno, uint64_t sequence) {
    int rc = run(s, S_SAVEPOINT);
    if (rc != SQLITE_OK) return rc;
    rc = store_line(s, p, n, lineno, sequence);
    if (row_error(rc)) {
        bad_line(s, p, n, lineno, sequence, sqlite3_errmsg(s->db));
        s->ensured_len = 0;
        rc = run(s, S_ROLLBACK_TO);
    }
    return rc == SQLITE_OK ? run(s, S_RELEASE) : rc;
}

static int update_writer(sink *s, uint64_t sequence, uint64_t good) {
    sqlite3_stmt *st = s->st[S_WRITER_UPDATE];
    sqlite3_bind_text(st, 1, s->writer_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)sequence);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)good);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)s->bad_in_batch);
    sqlite3_bind_int64(st, 5, unix_now_us());
    return run(s, S_WRITER_UPDATE);
}

/* One attempt at storing the batch: SQLITE_OK once its transaction committed. */
static int write_attempt(sink *s, const vt_sink_batch *b, int careful) {
    s->bad_in_batch = 0;
    s->ensured_len = 0;
    s->anchor_len = 0; /* read again inside this transaction */
    int rc = run(s, S_BEGIN);
    if (rc != SQLITE_OK) return rc;
    const char *p = b->data, *end = b->data + b->len;
    uint32_t lineno = 0;
    uint64_t lines = 0;
    while (p < end && rc == SQLITE_OK) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        lineno++;
        if (n > 0) {
            lines++;
            rc = careful ? store_isolated(s, p, n, lineno, b->sequence) : store_line(s, p, n, lineno, b->sequence);
        }
        p += n + 1;
    }
    if (rc == SQLITE_OK) rc = update_writer(s, b->sequence, lines - s->bad_in_batch);
    if (rc == SQLITE_OK) {
        rc = run(s, S_COMMIT);
        if (rc != SQLITE_OK) s->sequence_unknown = 1; /* did it commit? ask the file next time */
    }
    if (rc != SQLITE_OK && !sqlite3_get_autocommit(s->db)) run(s, S_ROLLBACK);
    return rc;
}

static int reload_sequence(sink *s) {
    sqlite3_stmt *st = s->st[S_WRITER_SEQUENCE];
    sqlite3_bind_text(st, 1, s->writer_id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) s->last_sequence = (uint64_t)sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    if (rc != SQLITE_ROW) return rc == SQLITE_DONE ? SQLITE_CORRUPT : rc;
    s->sequence_unknown = 0;
    return SQLITE_OK;
}

static int32_t write_failed(sink *s, const vt_sink_batch *b, int rc) {
    int fatal = fatal_error(rc);
    logf_(s, VT_LOG_ERROR, "sqlite_sink: batch %" PRIu64 " (attempt %u, %u events) not stored in '%.600s': %s (%s)%s",
          b->sequence, b->attempt, b->n_events, s->path, sqlite3_errstr(rc), sqlite3_errmsg(s->db),
          fatal ? "; the database file is damaged: giving up" : "; rolled back, the host will retry it");
    return fatal ? VT_SINK_FATAL : VT_SINK_RETRY;
}

static int32_t sink_write(void *state, const vt_sink_batch *b) {
    sink *s = state;
    int rc = s->sequence_unknown ? reload_sequence(s) : SQLITE_OK;
    if (rc != SQLITE_OK) return write_failed(s, b, rc);
    if (b->sequence != 0 && b->sequence <= s->last_sequence) return VT_SINK_OK; /* committed before */
    rc = write_attempt(s, b, 0);
    if (row_error(rc)) rc = write_attempt(s, b, 1);
    if (rc != SQLITE_OK) return write_failed(s, b, rc);
    s->last_sequence = b->sequence;
    if (s->bad_in_batch > LOGGED_BAD_LINES_PER_BATCH)
        logf_(s, VT_LOG_WARN, "sqlite_sink: batch %" PRIu64 ": %" PRIu64 " lines were not valid events in all",
              b->sequence, s->bad_in_batch);
    if (s->bad_in_batch && s->host->count_drop) s->host->count_drop(s->host_ctx, s->bad_in_batch);
    return VT_SINK_OK;
}

/* Delivered batches are committed; in WAL mode with synchronous=normal the last ones may still be
 * only in the OS's cache: a checkpoint syncs the WAL (and copies it into the database). */
static int32_t sink_flush(void *state, uint64_t deadline_ns) {
    sink *s = state;
    (void)deadline_ns;
    int rc = sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    return rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED ? 0 : -1;
}

static void close_sink(sink *s) {
    if (!s) return;
    for (int i = 0; i < S_COUNT; i++) sqlite3_finalize(s->st[i]);
    if (s->db) sqlite3_close_v2(s->db);
    free(s->scratch);
    free(s);
}

static void sink_shutdown(void *state, uint64_t deadline_ns) {
    (void)deadline_ns;
    close_sink(state);
}

/* ---- init: config, the file, the schema ------------------------------------------------------- */

typedef struct config {
    int64_t busy_timeout_ms;
    int full_sync;
    int64_t max_size_mb; /* 0: no cap */
} config;

static int fail(char *err, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t cap, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, cap, fmt, ap);
    va_end(ap);
    return -1;
}

static int read_config(sink *s, const char *json, config *c, char *err, size_t cap) {
    jm_doc d;
    size_t n = strlen(json);
    if (jm_parse(&d, json, n, s->tok, MAX_TOKENS) != 0 || s->tok[0].type != JM_OBJECT)
        return fail(err, cap, "config is not a JSON object (%s)", d.error ? d.error : "another value");
    int path = jm_get(&d, 0, "path");
    if (!jm_is(&d, path, JM_STRING) || d.tok[path].len == 0 || d.tok[path].len >= sizeof s->path)
        return fail(err, cap, "config needs \"path\": the SQLite database file to write (created if missing)");
    size_t len = jm_unescape(d.src + d.tok[path].start, d.tok[path].len, s->path);
    s->path[len] = 0;
    if (strlen(s->path) != len) return fail(err, cap, "config \"path\" holds a NUL character");
    int busy = jm_get(&d, 0, "busy_timeout_ms");
    c->busy_timeout_ms = 1000;
    if (busy >= 0 && (jm_int(&d, busy, &c->busy_timeout_ms) != 0 || c->busy_timeout_ms < 0 ||
                      c->busy_timeout_ms > 600000))
        return fail(err, cap, "config \"busy_timeout_ms\" must be an integer from 0 to 600000");
    int sync = jm_get(&d, 0, "synchronous");
    c->full_sync = 0;
    if (sync >= 0) {
        const jm_tok *t = &d.tok[sync];
        int normal = t->type == JM_STRING && t->len == 6 && memcmp(json + t->start, "normal", 6) == 0;
        c->full_sync = t->type == JM_STRING && t->len == 4 && memcmp(json + t->start, "full", 4) == 0;
        if (!normal && !c->full_sync) return fail(err, cap, "config \"synchronous\" must be \"normal\" or \"full\"");
    }
    int max = jm_get(&d, 0, "max_size_mb");
    c->max_size_mb = 0;
    if (max >= 0 && (jm_int(&d, max, &c->max_size_mb) != 0 || c->max_size_mb < 1 || c->max_size_mb > 1 << 24))
        return fail(err, cap, "config \"max_size_mb\" must be an integer from 1 to 16777216");
    return 0;
}

/* An existing file must be a regular, writable SQLite file (or empty). */
static int check_existing(const char *path, const struct stat *st, char *err, size_t cap) {
    if (S_ISDIR(st->st_mode)) return fail(err, cap, "'%s' is a directory, not a database file", path);
    if (!S_ISREG(st->st_mode)) return fail(err, cap, "'%s' is not a regular file", path);
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0) return fail(err, cap, "cannot open '%s' for writing: %s", path, strerror(errno));
    char header[16];
    ssize_t n = read(fd, header, sizeof header);
    close(fd);
    if (st->st_size > 0 && (n != 16 || memcmp(header, "SQLite format 3", 16) != 0))
        return fail(err, cap, "'%s' is not an SQLite database (it does not start with the SQLite header); "
                    "the file was left untouched", path);
    return 0;
}

/* The file exists afterwards (created empty if it did not); *created says whether it was. */
static int prepare_file(const char *path, int *created, char *err, size_t cap) {
    struct stat st;
    *created = 0;
    if (stat(path, &st) == 0) return check_existing(path, &st, err, cap);
    if (errno != ENOENT) return fail(err, cap, "cannot use '%s': %s", path, strerror(errno));
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
        char dir[4096];
        snprintf(dir, sizeof dir, "%s", path);
        char *slash = strrchr(dir, '/');
        if (slash) *(slash == dir ? slash + 1 : slash) = 0;
        else snprintf(dir, sizeof dir, ".");
        int missing = stat(dir, &st) != 0;
        return fail(err, cap, "cannot create '%s': %s%s%s%s", path, strerror(errno),
                    missing ? " (the directory '" : "", missing ? dir : "", missing ? "' does not exist)" : "");
    }
    close(fd);
    *created = 1;
    return 0;
}

static int pragma_int(sqlite3 *db, const char *sql, int64_t *out) {
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK) return rc;
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) *out = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? SQLITE_OK : rc == SQLITE_DONE ? SQLITE_ERROR : rc;
}

/* Is the file ours (or empty), and of a schema this plugin knows? *version: its schema version. */
static int inspect(sink *s, int64_t *version, char *err, size_t cap) {
    int64_t app = 0, tables = 0;
    int rc = pragma_int(s->db, "PRAGMA application_id", &app);
    if (rc == SQLITE_OK) rc = pragma_int(s->db, "PRAGMA user_version", version);
    if (rc == SQLITE_OK) rc = pragma_int(s->db, "SELECT count(*) FROM sqlite_master", &tables);
    if ((rc & 0xff) == SQLITE_NOTADB)
        return fail(err, cap, "'%s' is not an SQLite database (%s); the file was left untouched", s->path,
                    sqlite3_errmsg(s->db));
    if (rc != SQLITE_OK) return fail(err, cap, "cannot read '%s': %s", s->path, sqlite3_errmsg(s->db));
    if (app != APPLICATION_ID && (app != 0 || tables > 0))
        return fail(err, cap, "'%s' is an SQLite database of another application (application_id %" PRId64
                    ", %" PRId64 " tables), not a voicetelemetry trace store; the file was left untouched",
                    s->path, app, tables);
    if (*version > SCHEMA_VERSION)
        return fail(err, cap, "'%s' holds trace schema version %" PRId64 ", newer than this plugin's %d: "
                    "use a newer sqlite_sink.so; the file was left untouched", s->path, *version, SCHEMA_VERSION);
    return 0;
}

static int exec(sink *s, const char *sql, const char *what, char *err, size_t cap) {
    char *msg = NULL;
    if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) == SQLITE_OK) return 0;
    fail(err, cap, "'%s': %s failed: %s", s->path, what, msg ? msg : sqlite3_errmsg(s->db));
    sqlite3_free(msg);
    return -1;
}

/* Bring the schema to SCHEMA_VERSION in one transaction (another writer may have done it first). */
static int migrate(sink *s, char *err, size_t cap) {
    int64_t v = 0;
    if (exec(s, "BEGIN IMMEDIATE", "locking the schema", err, cap) != 0) return -1;
    if (pragma_int(s->db, "PRAGMA user_version", &v) != SQLITE_OK || v > SCHEMA_VERSION) {
        exec(s, "ROLLBACK", "rollback", err, cap);
        return fail(err, cap, "'%s': its schema version changed to %" PRId64 " while opening it", s->path, v);
    }
    int64_t from = v;
    for (; v < SCHEMA_VERSION; v++) {
        char what[64];
        snprintf(what, sizeof what, "migrating the schema from version %" PRId64, v);
        if (exec(s, MIGRATIONS[v], what, err, cap) != 0) {
            sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
            return -1;
        }
    }
    char sql[128];
    snprintf(sql, sizeof sql, "PRAGMA application_id = %d; PRAGMA user_version = %d; COMMIT", APPLICATION_ID,
             SCHEMA_VERSION);
    if (exec(s, sql, "committing the schema", err, cap) != 0) {
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        return -1;
    }
    if (from > 0 && from < SCHEMA_VERSION)
        logf_(s, VT_LOG_INFO, "sqlite_sink: '%.600s' migrated from schema version %" PRId64 " to %d", s->path,
              from, SCHEMA_VERSION);
    return 0;
}

static char *turn_insert_sql(void) {
    size_t cap = 4096;
    char *sql = malloc(cap);
    if (!sql) return NULL;
    size_t n = (size_t)snprintf(sql, cap, "INSERT OR REPLACE INTO turns (session_id, turn_number, step_id,"
                                " start_unix_us, end_unix_us, errors_total, record");
    for (size_t k = 0; k < N_TURN_COLUMNS && n < cap; k++)
        n += (size_t)snprintf(sql + n, cap - n, ", %s", TURN_COLUMNS[k].column);
    for (size_t k = 0; k < TURN_FIXED_PARAMS + N_TURN_COLUMNS && n < cap; k++)
        n += (size_t)snprintf(sql + n, cap - n, "%s?", k ? ", " : ") VALUES (");
    if (n + 2 >= cap) {
        free(sql);
        return NULL;
    }
    memcpy(sql + n, ")", 2);
    return sql;
}

static int prepare_all(sink *s, char *err, size_t cap) {
    char *turn_sql = turn_insert_sql();
    int rc = turn_sql ? SQLITE_OK : SQLITE_NOMEM;
    for (int i = 0; i < S_COUNT && rc == SQLITE_OK; i++)
        rc = sqlite3_prepare_v3(s->db, i == S_TURN ? turn_sql : STATEMENTS[i], -1, SQLITE_PREPARE_PERSISTENT,
                                &s->st[i], NULL);
    free(turn_sql);
    if (rc != SQLITE_OK) return fail(err, cap, "'%s': preparing statements failed: %s", s->path, sqlite3_errmsg(s->db));
    return 0;
}

/* This writer's row: its id is random, so the sequences of every load are told apart. */
static int register_writer(sink *s, char *err, size_t cap) {
    unsigned char r[12] = {0};
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    ssize_t got = fd >= 0 ? read(fd, r, sizeof r) : -1;
    if (fd >= 0) close(fd);
    if (got != (ssize_t)sizeof r) {
        int64_t t = unix_now_us() ^ ((int64_t)getpid() << 40);
        memcpy(r, &t, sizeof t);
    }
    for (size_t i = 0; i < sizeof r; i++) snprintf(s->writer_id + 2 * i, 3, "%02x", r[i]);
    sqlite3_stmt *st = s->st[S_WRITER_INSERT];
    sqlite3_bind_text(st, 1, s->writer_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)getpid());
    sqlite3_bind_int64(st, 3, unix_now_us());
    if (run(s, S_WRITER_INSERT) != SQLITE_OK)
        return fail(err, cap, "'%s': registering the writer failed: %s", s->path, sqlite3_errmsg(s->db));
    return 0;
}

static int open_database(sink *s, const config *c, char *err, size_t cap) {
    if (sqlite3_open_v2(s->path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK)
        return fail(err, cap, "cannot open '%s': %s", s->path, s->db ? sqlite3_errmsg(s->db) : "out of memory");
    sqlite3_busy_timeout(s->db, (int)c->busy_timeout_ms);
    sqlite3_extended_result_codes(s->db, 1);
    int64_t version = 0;
    if (inspect(s, &version, err, cap) != 0) return -1;
    sqlite3_stmt *st;
    int wal = 0;
    if (sqlite3_prepare_v2(s->db, "PRAGMA journal_mode = WAL", -1, &st, NULL) == SQLITE_OK) {
        wal = sqlite3_step(st) == SQLITE_ROW && sqlite3_stricmp((const char *)sqlite3_column_text(st, 0), "wal") == 0;
        sqlite3_finalize(st);
    }
    if (!wal) return fail(err, cap, "cannot put '%s' in WAL mode: %s", s->path, sqlite3_errmsg(s->db));
    if (exec(s, c->full_sync ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL", "setting synchronous",
             err, cap) != 0)
        return -1;
    if (c->max_size_mb > 0) { /* the file stops growing there: writes answer SQLITE_FULL, hence RETRY */
        int64_t page = 4096;
        char sql[96];
        pragma_int(s->db, "PRAGMA page_size", &page);
        snprintf(sql, sizeof sql, "PRAGMA max_page_count = %" PRId64, c->max_size_mb * 1048576 / (page > 0 ? page : 4096));
        if (exec(s, sql, "capping the size", err, cap) != 0) return -1;
    }
    if (version < SCHEMA_VERSION && migrate(s, err, cap) != 0) return -1;
    if (prepare_all(s, err, cap) != 0) return -1;
    return register_writer(s, err, cap);
}

static int32_t sink_init(const vt_host_api *host, void *host_ctx, const char *config_json, void **state_out,
                         char *err, size_t err_cap) {
    sink *s = calloc(1, sizeof *s);
    config c = {1000, 0, 0};
    int created = 0;
    if (!s) return fail(err, err_cap, "out of memory"), 1;
    s->host = host;
    s->host_ctx = host_ctx;
    if (read_config(s, config_json ? config_json : "{}", &c, err, err_cap) != 0 ||
        prepare_file(s->path, &created, err, err_cap) != 0) {
        close_sink(s);
        return 1;
    }
    if (open_database(s, &c, err, err_cap) != 0) {
        char path[sizeof s->path];
        memcpy(path, s->path, sizeof path);
        close_sink(s);
        if (created) unlink(path); /* it was empty: leave nothing behind */
        return 1;
    }
    *state_out = s;
    return 0;
}

static const vt_plugin_table table = {
    sizeof(vt_plugin_table), VT_PLUGIN_ABI_MAJOR, VT_PLUGIN_ABI_MINOR,
    "sqlite_sink", "1.0.0",
    sink_init, sink_write, sink_flush, sink_shutdown,
};

VT_PLUGIN_EXPORT const vt_plugin_table *voicetelemetry_sink_plugin_v1(void) { return &table; }
