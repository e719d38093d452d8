/*
 * bench_sqlite.c -- events per second that sqlite_sink.so stores, driven through the plugin ABI
 * (tests/trace_store/host.h) with realistic lines (calls of 8 turns: session start and end, per
 * turn a user and an assistant message, a usage report and the full turn record, a barge-in in
 * every fourth turn), in batches of 256 as the library's plugin thread hands them over.
 *
 * Baseline, measured in the same run: a bare C loop that inserts the very rows the plugin stored
 * (read back from its file) into a fresh file with the same schema and PRAGMAs (WAL,
 * synchronous=NORMAL), in as many transactions as there were batches: no JSON, no upserts, no
 * look-ups. Rounds alternate plugin and baseline; each figure is the best of its rounds.
 *
 *   bench_sqlite PLUGIN.so DIR [EVENTS]
 */
#define _GNU_SOURCE
#include <sqlite3.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "host.h"

#define BATCH_EVENTS 256
#define ROUNDS 5
#define TURNS_PER_CALL 8

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- the event stream ------------------------------------------------------------------------ */

typedef struct stream {
    char *buf;
    size_t len, cap;
    size_t *starts; /* offset of each line */
    size_t n, max;
} stream;

static void line(stream *s, const char *sid, const char *type, const char *turn, uint64_t t_ns, const char *fmt, ...) {
    char data[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(data, sizeof data, fmt, ap);
    va_end(ap);
    if (s->len + 8192 > s->cap) {
        s->cap = s->cap * 2 + (1 << 20);
        s->buf = realloc(s->buf, s->cap);
    }
    if (s->n == s->max) {
        s->max = s->max * 2 + 1024;
        s->starts = realloc(s->starts, s->max * sizeof *s->starts);
    }
    if (!s->buf || !s->starts) exit(2);
    s->starts[s->n++] = s->len;
    char tid[32];
    snprintf(tid, sizeof tid, turn ? "\"%s\"" : "null", turn);
    s->len += (size_t)snprintf(s->buf + s->len, s->cap - s->len,
                               "{\"type_id\":\"core::telemetry/event@1\",\"session_id\":\"%s\",\"event_type\":\"%s\","
                               "\"correlation_id\":null,\"turn_id\":%s,\"timestamp_us\":%llu,"
                               "\"timestamp_unix_us\":%llu,\"data\":%s}\n",
                               sid, type, tid, (unsigned long long)(t_ns / 1000),
                               (unsigned long long)(1764633600000000ull + t_ns / 1000), data);
}

/* A turn record with every key the core writes (about 2.4 KB, like build/demo-events.jsonl's). */
static void turn_line(stream *s, const char *sid, int n, uint64_t t0, int k) {
    uint64_t a = t0 + 2000000000ull, stt = 90000000ull + (uint64_t)(k % 7) * 20000000ull, eou = 120000000ull,
             llm = 200000000ull + (uint64_t)(k % 5) * 40000000ull, tts = 90000000ull, rem = 20000000ull;
    uint64_t audio = a + stt + eou + llm + tts + rem, end = audio + 2500000000ull;
    int barge = n % 4 == 0;
    char turn[16];
    snprintf(turn, sizeof turn, "%d", n);
    line(s, sid, "turn.complete", turn, end,
         "{\"schema_version\":1,\"session_id\":\"%s\",\"turn_id\":%d,\"outcome\":\"%s\",\"completed_by\":\"agent_speech_end\","
         "\"start_ns\":%llu,\"end_ns\":%llu,\"anchor\":\"user_speech_end\",\"anchor_ns\":%llu,\"e2e_latency_ns\":%llu,"
         "\"e2e_breakdown_ns\":{\"stt_ns\":%llu,\"eou_ns\":%llu,\"llm_ttft_ns\":%llu,\"tts_ttfb_ns\":%llu,\"realtime_ns\":0,"
         "\"remainder_ns\":%llu},\"quality_flags\":0,\"quality\":[],\"user_speech\":{\"start_ns\":%llu,\"end_ns\":%llu,"
         "\"duration_ns\":2000000000,\"start_carried_over\":false,\"from_interrupting_speech\":false},"
         "\"stt\":{\"provider\":\"deepgram\",\"model\":\"nova-3\",\"start_ns\":%llu,\"first_interim_ns\":null,"
         "\"interim_count\":0,\"preflight_ns\":null,\"final_ns\":%llu,\"latency_ns\":%llu,\"duration_ns\":%llu,"
         "\"confidence\":0.93,\"audio_duration_ns\":null},\"eou\":{\"provider\":null,\"model\":null,\"start_ns\":%llu,"
         "\"end_ns\":%llu,\"delay_ns\":%llu,\"probability\":null,\"wait_for_speech_ns\":null},"
         "\"llm\":{\"provider\":\"openai\",\"model\":\"gpt-4o-mini\",\"start_ns\":%llu,\"first_token_ns\":%llu,"
         "\"end_ns\":null,\"ttft_ns\":%llu,\"duration_ns\":null},\"tts\":{\"provider\":\"cartesia\",\"model\":\"sonic-2\","
         "\"start_ns\":%llu,\"first_byte_ns\":%llu,\"end_ns\":null,\"ttfb_ns\":%llu,\"duration_ns\":null},"
         "\"realtime\":{\"provider\":null,\"model\":null,\"start_ns\":null,\"first_audio_ns\":null,\"end_ns\":null,"
         "\"ttfa_ns\":null,\"duration_ns\":null},\"agent_speech\":{\"start_ns\":%llu,\"end_ns\":%llu,"
         "\"duration_ns\":2500000000},\"knowledge_base\":{\"start_ns\":null,\"end_ns\":null,\"duration_ns\":null},"
         "\"background_audio\":{\"start_ns\":null,\"end_ns\":null,\"duration_ns\":null},"
         "\"thinking_audio\":{\"start_ns\":null,\"end_ns\":null,\"duration_ns\":null},"
         "\"interruption\":{\"interrupted\":%s,\"barge_in_ns\":null,\"overlap_start_ns\":null,"
         "\"barge_in_latency_ns\":null,\"false_interruption\":null},\"playback\":{\"tts_characters_generated\":null,"
         "\"tts_characters_played\":null,\"audio_bytes_generated\":null,\"audio_bytes_sent\":80000},"
         "\"tokens\":{\"input\":%d,\"output\":75,\"cached_input\":182,\"reasoning\":null,\"input_text\":null,"
         "\"input_audio\":null,\"input_image\":null,\"output_text\":null,\"output_audio\":null},"
         "\"tool_calls\":%s,\"tool_calls_total\":%d,\"fallbacks\":[],\"fallbacks_total\":0,\"errors\":{},"
         "\"texts\":{\"user_transcript\":{\"chars\":30,\"redacted\":true,\"truncated\":false},\"stt_preflight\":null,"
         "\"agent_response\":null}}",
         sid, n, barge ? "interrupted" : "completed", (unsigned long long)t0, (unsigned long long)end,
         (unsigned long long)a, (unsigned long long)(audio - a), (unsigned long long)stt, (unsigned long long)eou,
         (unsigned long long)llm, (unsigned long long)tts, (unsigned long long)rem, (unsigned long long)t0,
         (unsigned long long)a, (unsigned long long)t0, (unsigned long long)(a + stt), (unsigned long long)stt,
         (unsigned long long)(a + stt - t0), (unsigned long long)a, (unsigned long long)(a + stt + eou),
         (unsigned long long)(stt + eou), (unsigned long long)(a + stt + eou),
         (unsigned long long)(a + stt + eou + llm), (unsigned long long)llm,
         (unsigned long long)(a + stt + eou + llm), (unsigned long long)(a + stt + eou + llm + tts),
         (unsigned long long)tts, (unsigned long long)audio, (unsigned long long)end, barge ? "true" : "false",
         900 + k % 100,
         n == 2 ? "[{\"name\":\"lookup_order\",\"kind\":\"function\",\"ok\":true,\"start_ns\":1,\"end_ns\":2,"
                  "\"duration_ns\":1}]" : "[]", n == 2);
}

static void call_lines(stream *s, int call) {
    char sid[32];
    snprintf(sid, sizeof sid, "call-%06d", call);
    const char *labels = "{\"model\":\"gpt-4o-mini\",\"provider\":\"deepgram+openai\",\"transport\":\"sip\"}";
    line(s, sid, "session.start", NULL, 1000000000ull,
         "{\"labels\":%s,\"text_policy\":\"redact\",\"metadata\":{\"customer\":\"c-%d\"},\"start_ns\":1000000000,"
         "\"start_unix_ns\":1764633600000000000}", labels, call);
    for (int n = 1; n <= TURNS_PER_CALL; n++) {
        uint64_t t0 = (uint64_t)n * 6000000000ull;
        char step[16];
        snprintf(step, sizeof step, "turn-%d", n);
        line(s, sid, "message", NULL, t0 + 2100000000ull,
             "{\"role\":\"user\",\"step_id\":\"%s\",\"content_type\":\"text\",\"content\":null,\"chars\":30,"
             "\"redacted\":true,\"truncated\":false,\"metadata\":{}}", step);
        line(s, sid, "usage", NULL, t0 + 2500000000ull,
             "{\"total\":%d,\"prompt\":%d,\"response\":75,\"cached\":182,\"thoughts\":null}", 1000 + n, 925 + n);
        if (n % 4 == 0) line(s, sid, "interruption", NULL, t0 + 3000000000ull, "{\"interruptions\":%d}", n / 4);
        turn_line(s, sid, n, t0, call * 31 + n);
        line(s, sid, "message", NULL, t0 + 2700000000ull,
             "{\"role\":\"assistant\",\"step_id\":\"%s\",\"content_type\":\"text\",\"content\":null,\"chars\":64,"
             "\"redacted\":true,\"truncated\":false,\"metadata\":{}}", step);
    }
    line(s, sid, "session.end", NULL, 60000000000ull,
         "{\"schema_version\":1,\"session_id\":\"%s\",\"labels\":%s,\"uptime_secs\":59.0,\"audio_chunks_out\":588,"
         "\"audio_bytes_out\":376320,\"interruptions\":2,\"response_count\":8,\"token_totals\":{\"total\":8036},"
         "\"turns\":{\"completed\":6,\"interrupted\":2,\"discarded\":0,\"open\":false},"
         "\"start_unix_ns\":1764633600000000000}", sid, labels);
}

/* ---- the plugin ----------------------------------------------------------------------------------- */

static void remove_db(const char *path) {
    char p[1100];
    unlink(path);
    snprintf(p, sizeof p, "%s-wal", path);
    unlink(p);
    snprintf(p, sizeof p, "%s-shm", path);
    unlink(p);
}

/* Seconds to store the stream through the plugin; *batches: how many batches it took. */
static double run_plugin(const char *so, const char *path, stream *s, size_t *batches) {
    test_host h;
    char config[1200];
    remove_db(path);
    snprintf(config, sizeof config, "{\"path\":\"%s\"}", path);
    if (host_open(&h, so, config) != 0) {
        fprintf(stderr, "init: %s\n", h.error);
        exit(2);
    }
    *batches = 0;
    double t0 = now_s();
    for (size_t i = 0; i < s->n; i += BATCH_EVENTS) {
        size_t j = i + BATCH_EVENTS < s->n ? i + BATCH_EVENTS : s->n;
        size_t end = j < s->n ? s->starts[j] : s->len;
        vt_sink_batch b;
        memset(&b, 0, sizeof b);
        b.struct_size = sizeof b;
        b.data = s->buf + s->starts[i];
        b.len = end - s->starts[i];
        b.n_events = (uint32_t)(j - i);
        b.sequence = ++*batches;
        b.attempt = 1;
        if (h.table->write(h.state, &b) != VT_SINK_OK) {
            fprintf(stderr, "write failed: %s\n", h.logs);
            exit(2);
        }
    }
    double t = now_s() - t0;
    host_close(&h);
    return t;
}

/* ---- the baseline: the same rows, inserted by a bare loop ---------------------------------------------- */

typedef struct table_rows {
    char name[64];
    int ncol;
    size_t nrows;
    sqlite3_value **v; /* nrows * ncol */
    sqlite3_stmt *insert;
} table_rows;

typedef struct rowset {
    table_rows t[16];
    int n;
    char *schema[64];
    int nschema;
} rowset;

static void must(int rc, sqlite3 *db, const char *what) {
    if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) {
        fprintf(stderr, "%s: %s\n", what, sqlite3_errmsg(db));
        exit(2);
    }
}

static void load_table(sqlite3 *db, table_rows *t) {
    char sql[128];
    sqlite3_stmt *st;
    snprintf(sql, sizeof sql, "SELECT * FROM %s ORDER BY rowid", t->name);
    must(sqlite3_prepare_v2(db, sql, -1, &st, NULL), db, sql);
    t->ncol = sqlite3_column_count(st);
    size_t cap = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (t->nrows == cap) {
            cap = cap * 2 + 1024;
            t->v = realloc(t->v, cap * (size_t)t->ncol * sizeof *t->v);
            if (!t->v) exit(2);
        }
        for (int c = 0; c < t->ncol; c++) t->v[t->nrows * (size_t)t->ncol + (size_t)c] = sqlite3_value_dup(sqlite3_column_value(st, c));
        t->nrows++;
    }
    sqlite3_finalize(st);
}

/* Every row the plugin stored (writers aside) and the schema that holds them. */
static void load_rows(const char *path, rowset *r) {
    sqlite3 *db;
    sqlite3_stmt *st;
    must(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), db, path);
    must(sqlite3_prepare_v2(db, "SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY rowid", -1,
                            &st, NULL), db, "schema");
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *type = (const char *)sqlite3_column_text(st, 0), *name = (const char *)sqlite3_column_text(st, 1);
        if (r->nschema < 64) r->schema[r->nschema++] = strdup((const char *)sqlite3_column_text(st, 2));
        if (strcmp(type, "table") == 0 && strcmp(name, "writers") != 0 && r->n < 16)
            snprintf(r->t[r->n++].name, sizeof r->t[0].name, "%s", name);
    }
    sqlite3_finalize(st);
    for (int i = 0; i < r->n; i++) load_table(db, &r->t[i]);
    sqlite3_close(db);
}

static sqlite3 *fresh_db(const char *path, rowset *r) {
    sqlite3 *db;
    remove_db(path);
    must(sqlite3_open(path, &db), db, path);
    must(sqlite3_exec(db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL", NULL, NULL, NULL), db, "pragmas");
    for (int i = 0; i < r->nschema; i++) must(sqlite3_exec(db, r->schema[i], NULL, NULL, NULL), db, r->schema[i]);
    for (int i = 0; i < r->n; i++) {
        char sql[1024];
        size_t n = (size_t)snprintf(sql, sizeof sql, "INSERT INTO %s VALUES (", r->t[i].name);
        for (int c = 0; c < r->t[i].ncol; c++) n += (size_t)snprintf(sql + n, sizeof sql - n, c ? ", ?" : "?");
        snprintf(sql + n, sizeof sql - n, ")");
        must(sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &r->t[i].insert, NULL), db, sql);
    }
    return db;
}

/* Seconds to insert every row, in `batches` transactions (each table's rows spread evenly). */
static double run_bare(const char *path, rowset *r, size_t batches) {
    sqlite3 *db = fresh_db(path, r);
    double t0 = now_s();
    for (size_t b = 0; b < batches; b++) {
        must(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL), db, "begin");
        for (int i = 0; i < r->n; i++) {
            table_rows *t = &r->t[i];
            for (size_t k = t->nrows * b / batches; k < t->nrows * (b + 1) / batches; k++) {
                for (int c = 0; c < t->ncol; c++) sqlite3_bind_value(t->insert, c + 1, t->v[k * (size_t)t->ncol + (size_t)c]);
                must(sqlite3_step(t->insert), db, t->name);
                sqlite3_reset(t->insert);
            }
        }
        must(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), db, "commit");
    }
    double t = now_s() - t0;
    for (int i = 0; i < r->n; i++) {
        sqlite3_finalize(r->t[i].insert);
        r->t[i].insert = NULL;
    }
    sqlite3_close(db);
    return t;
}

typedef struct figures {
    double plugin_s, bare_s; /* best of the rounds */
    size_t batches, rows;
    int tables;
} figures;

/* Rounds alternate the plugin and the bare loop on files in `dir`. */
static figures measure(const char *so, const char *dir, stream *s) {
    char plugin_db[1024], bare_db[1024];
    snprintf(plugin_db, sizeof plugin_db, "%s/bench-sink.db", dir);
    snprintf(bare_db, sizeof bare_db, "%s/bench-bare.db", dir);
    figures f = {1e9, 1e9, 0, 0, 0};
    static rowset rows;
    memset(&rows, 0, sizeof rows); /* (the rows of an earlier call are left allocated: a benchmark) */
    for (int round = 0; round < ROUNDS; round++) {
        double t = run_plugin(so, plugin_db, s, &f.batches);
        if (t < f.plugin_s) f.plugin_s = t;
        if (round == 0) load_rows(plugin_db, &rows);
        t = run_bare(bare_db, &rows, f.batches);
        if (t < f.bare_s) f.bare_s = t;
    }
    for (int i = 0; i < rows.n; i++) f.rows += rows.t[i].nrows;
    f.tables = rows.n;
    remove_db(plugin_db);
    remove_db(bare_db);
    return f;
}

static void report(const char *where, const figures *f, size_t n) {
    double ours = (double)n / f->plugin_s, base = (double)n / f->bare_s;
    printf("| events/s stored, file %s | %.0f | %.0f | >= 50000 |\n", where, ours, base);
    printf("| ratio to the bare loop, file %s | %.2fx | 1.00x | >= 0.80x |\n", where, ours / base);
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s sqlite_sink.so DIR [EVENTS]   (DIR on disk; /dev/shm is measured too)\n", argv[0]);
        return 2;
    }
    size_t want = argc > 3 ? (size_t)strtoul(argv[3], NULL, 10) : 40000;
    stream s = {0};
    int calls = 0;
    while (s.n < want) call_lines(&s, calls++);
    figures disk = measure(argv[1], argv[2], &s);
    int shm = access("/dev/shm", W_OK) == 0;
    figures mem = shm ? measure(argv[1], "/dev/shm", &s) : disk;
    char load[64] = "?";
    FILE *f = fopen("/proc/loadavg", "r");
    if (f) {
        if (!fgets(load, sizeof load, f)) snprintf(load, sizeof load, "?");
        char *third = strchr(load, ' ');
        third = third ? strchr(third + 1, ' ') : NULL;
        third = third ? strchr(third + 1, ' ') : NULL;
        load[third ? (size_t)(third - load) : strcspn(load, "\n")] = 0; /* the 1, 5 and 15 minute averages */
        fclose(f);
    }
    printf("%zu events (%d calls of %d turns, %.0f bytes/event), %zu batches of up to %d; %zu rows in %d tables;"
           " WAL, synchronous=normal; best of %d rounds each; load average %s\n", s.n, calls, TURNS_PER_CALL,
           (double)s.len / (double)s.n, disk.batches, BATCH_EVENTS, disk.rows, disk.tables, ROUNDS, load);
    printf("| measurement | sqlite_sink.so (through write()) | baseline (bare C loop: the same rows, same schema and"
           " PRAGMAs) | target |\n");
    printf("|---|---|---|---|\n");
    report("on disk (build/bench)", &disk, s.n);
    if (shm) report("in /dev/shm (no disk: the CPU cost)", &mem, s.n);
    return 0;
}
