/*
 * test_costs.c -- prices and costs through the C ABI: the scripted call of tests/scenarios/costs (costs
 * worked out by hand to the micro-unit), a price change mid-call, the currency rule, hostile price
 * tables refused with the path of the bad value, the normalised table and its buffer contract, a
 * million turns with exact totals, the session.end event, the per-session row limit, and both
 * exposition formats.
 */
#include <stdint.h>

#include "check.h"
#include "turn_scenario.h"
#include "voicetelemetry_plugin.h"

#define SEC 1000000000ull

static char *json_of(vt_status (*fn)(vt_session, char *, size_t, size_t *), vt_session s) {
    size_t len = 0;
    if (fn(s, NULL, 0, &len) != VT_E_BUFFER_TOO_SMALL) return NULL;
    char *buf = malloc(len + 1);
    if (buf && fn(s, buf, len + 1, &len) == VT_OK) return buf;
    free(buf);
    return NULL;
}

static char *snapshot_at(vt_session s, uint64_t now) {
    size_t len = 0;
    if (vt_snapshot_json_at(s, now, NULL, 0, &len) != VT_E_BUFFER_TOO_SMALL) return NULL;
    char *buf = malloc(len + 1);
    if (buf && vt_snapshot_json_at(s, now, buf, len + 1, &len) == VT_OK) return buf;
    free(buf);
    return NULL;
}

static char *prom_as(uint32_t format) {
    size_t len = 0;
    vt_prom_text_as(format, NULL, 0, &len);
    size_t cap = len + 65536;
    char *buf = malloc(cap);
    if (buf && vt_prom_text_as(format, buf, cap, &len) == VT_OK) return buf;
    free(buf);
    return NULL;
}

/* The active table, normalised (a static buffer). */
static const char *prices_now(void) {
    static char text[1 << 18];
    size_t len = 0;
    if (vt_prices_json(text, sizeof text, &len) != VT_OK) return "(error)";
    return text;
}

static char *read_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    static char text[1 << 16];
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = 0;
    return text;
}

static vt_session open_priced(const char *id, const char *transport, uint64_t start) {
    vt_label label = {"transport", transport};
    vt_session_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.struct_size = sizeof cfg;
    cfg.session_id = id;
    cfg.labels = &label;
    cfg.n_labels = 1;
    cfg.start_t_ns = start;
    vt_session s = 0;
    CHECK_STATUS(vt_create_session(&cfg, &s), VT_OK);
    return s;
}

static vt_token_usage tokens(int64_t input, int64_t output, int64_t cached) {
    vt_token_usage u;
    memset(&u, 0, sizeof u);
    u.struct_size = sizeof u;
    u.input = input;
    u.output = output;
    u.cached_input = cached;
    u.reasoning = u.input_text = u.input_audio = u.input_image = u.output_text = u.output_audio = -1;
    return u;
}

/* ---- the scenario format (tests/scenarios/costs/README.txt) ---- */


/* One `expect`/`reject` line: the text it names must (not) contain the rest of the line. */
static void expectation(vt_session s, const char *line, const char *where) {
    char verb[16] = "", target[16] = "", at[32] = "";
    sscanf(line, "%15s %15s %31s", verb, target, at);
    const char *needle = line + strlen(verb) + strlen(target) + 2;
    char *text = NULL;
    if (strcmp(target, "last") == 0) text = json_of(vt_turn_last_json, s);
    else if (strcmp(target, "prom") == 0) text = prom_as(VT_FORMAT_PROMETHEUS);
    else if (strcmp(target, "snapshot") == 0) {
        text = snapshot_at(s, strtoull(at, NULL, 10));
        needle += strlen(at) + 1;
    }
    int found = text && strstr(text, needle) != NULL;
    char msg[1400];
    snprintf(msg, sizeof msg, "%.400s\n    got: %.900s", where, text ? text : "(null)");
    check_report(text && found == (strcmp(verb, "expect") == 0), __FILE__, __LINE__, msg);
    free(text);
}

/* One call line (prices, config and end here; the rest as in the turn scenarios); its status. */
static vt_status call_line(vt_session *s, const char *line) {
    char cmd[32] = "", a[256] = "", b[256] = "", c[256] = "";
    sscanf(line, "%31s %255s %255s %255s", cmd, a, b, c);
    if (strcmp(cmd, "prices") == 0) {
        const char *text = read_file(a);
        return text ? vt_set_prices(text) : VT_E_NOT_FOUND;
    }
    if (strcmp(cmd, "config") == 0) {
        *s = open_priced(a, b, strtoull(c, NULL, 10));
        return *s ? VT_OK : VT_E_INTERNAL;
    }
    if (strcmp(cmd, "end") == 0) return vt_end_session_at(*s, strtoull(a, NULL, 10));
    vt_status st;
    if (scenario_call(*s, line, &st)) return st;
    return VT_E_NOT_FOUND;
}

static void replay(const char *path) {
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
        char where[600];
        snprintf(where, sizeof where, "%.60s:%d: %.500s", path, lineno, line);
        if (strncmp(line, "expect ", 7) == 0 || strncmp(line, "reject ", 7) == 0) {
            expectation(s, line, where);
            continue;
        }
        vt_status st = call_line(&s, line);
        char msg[900];
        snprintf(msg, sizeof msg, "%.500s -> %d %s", where, (int)st, vt_last_error());
        check_report(st == VT_OK, __FILE__, __LINE__, msg);
    }
    fclose(f);
    vt_end_session(s);   /* already ended by the scenario: VT_E_BAD_HANDLE is fine */
    CHECK_STATUS(vt_set_prices(NULL), VT_OK);
}

TEST(scripted_call_costs_to_the_micro_unit) { replay("tests/scenarios/costs/scripted_call.txt"); }

/* ---- a price change mid-call; clearing ---- */

static const char *const TABLE_A = "{\"currency\":\"USD\",\"prices\":["
                                   "{\"stage\":\"llm\",\"provider\":\"acme\",\"model\":\"m1\",\"input\":0.15,\"output\":0.6},"
                                   "{\"stage\":\"stt\",\"provider\":\"acme-stt\",\"per_second\":0.00005}]}";
static const char *const TABLE_B = "{\"currency\":\"USD\",\"prices\":["
                                   "{\"stage\":\"llm\",\"provider\":\"acme\",\"model\":\"m1\",\"input\":0.3,\"output\":1.2},"
                                   "{\"stage\":\"stt\",\"provider\":\"acme-stt\",\"per_second\":0.0001}]}";

/* LLM start/first marks (a turn with a latency), one usage report, agent speech from `t`. */
static void llm_turn(vt_session s, uint64_t t, int64_t input, int64_t output) {
    vt_token_usage u = tokens(input, output, -1);
    CHECK_STATUS(vt_turn_mark(s, VT_STAGE_LLM, VT_MARK_START, t), VT_OK);
    CHECK_STATUS(vt_turn_mark(s, VT_STAGE_LLM, VT_MARK_FIRST, t + SEC / 5), VT_OK);
    CHECK_STATUS(vt_turn_usage(s, VT_STAGE_LLM, &u, t + SEC / 4), VT_OK);
}

TEST(a_price_change_applies_from_the_next_report) {
    CHECK_STATUS(vt_set_prices(TABLE_A), VT_OK);
    vt_session s = open_priced("change-1", "webrtc", SEC);
    CHECK_STATUS(vt_turn_provider(s, VT_STAGE_LLM, "acme", "m1", SEC), VT_OK);
    CHECK_STATUS(vt_turn_provider(s, VT_STAGE_STT, "acme-stt", NULL, SEC), VT_OK);
    /* At A: 1000 x 0.15/M + 100 x 0.6/M = 150 + 60 = 210 µ. */
    llm_turn(s, 2 * SEC, 1000, 100);
    CHECK_STATUS(vt_turn_value(s, VT_TV_STT_AUDIO_SECONDS, 3, 2 * SEC), VT_OK);
    CHECK_STATUS(vt_set_prices(TABLE_B), VT_OK);
    /* At B: 1000 x 0.3/M + 100 x 1.2/M = 300 + 120 = 420 µ. The STT audio is charged at completion,
     * at B: 3 s x 0.0001/s = 300 µ. */
    vt_token_usage u = tokens(1000, 100, -1);
    CHECK_STATUS(vt_turn_usage(s, VT_STAGE_LLM, &u, 3 * SEC), VT_OK);
    CHECK_STATUS(vt_turn_mark(s, VT_STAGE_AGENT_SPEECH, VT_MARK_START, 3 * SEC), VT_OK);
    CHECK_STATUS(vt_turn_mark(s, VT_STAGE_AGENT_SPEECH, VT_MARK_END, 4 * SEC), VT_OK);
    char *last = json_of(vt_turn_last_json, s);
    CHECK_CONTAINS(last, "\"cost\":{\"currency\":\"USD\",\"stt_micros\":300,\"llm_micros\":630,\"tts_micros\":0,"
                         "\"realtime_micros\":0,\"total_micros\":930,\"unpriced_charges\":0,\"unpriced\":[]}");
    free(last);
    /* Cleared: no more charges, no cost on the next turn; the session keeps what it was charged. */
    CHECK_STATUS(vt_set_prices(NULL), VT_OK);
    CHECK_STR_EQ(prices_now(), "null");
    llm_turn(s, 5 * SEC, 1000, 100);
    CHECK_STATUS(vt_record_turn_complete(s, 6 * SEC), VT_OK);
    last = json_of(vt_turn_last_json, s);
    CHECK_CONTAINS(last, "\"turn_id\":2,");
    CHECK_CONTAINS(last, "\"cost\":null");
    free(last);
    char *snap = snapshot_at(s, 61 * SEC);
    CHECK_CONTAINS(snap, "\"cost\":{\"currency\":\"USD\",\"stt_micros\":300,\"llm_micros\":630,\"tts_micros\":0,"
                         "\"realtime_micros\":0,\"transport_micros\":0,\"total_micros\":930,\"unpriced_charges\":0}");
    CHECK_CONTAINS(snap, "{\"stage\":\"llm\",\"provider\":\"acme\",\"model\":\"m1\",\"reports\":3,\"turns\":0,"
                         "\"tokens\":{\"input\":3000,\"output\":300},\"audio_duration_ns\":0,\"characters\":0,"
                         "\"cost_micros\":630,\"unpriced_charges\":0}");
    free(snap);
    CHECK_STATUS(vt_end_session(s), VT_OK);
}

TEST(the_currency_changes_only_with_no_session_open) {
    CHECK_STATUS(vt_set_prices(TABLE_A), VT_OK);
    vt_session s = open_priced("currency-1", "sip", SEC);
    static char eur[512];
    snprintf(eur, sizeof eur, "%s", TABLE_A);
    memcpy(strstr(eur, "USD"), "EUR", 3);
    CHECK_STATUS(vt_set_prices(eur), VT_E_ORDER);
    CHECK_CONTAINS(vt_last_error(), "its currency EUR differs from USD, the currency of the costs of the 1 open session(s)");
    CHECK_CONTAINS(prices_now(), "{\"currency\":\"USD\",");
    CHECK_STATUS(vt_set_prices(TABLE_B), VT_OK);   /* the same currency: fine */
    CHECK_STATUS(vt_set_prices(NULL), VT_OK);
    CHECK_STATUS(vt_set_prices(eur), VT_E_ORDER); /* clearing kept the currency */
    CHECK_STATUS(vt_end_session(s), VT_OK);
    CHECK_STATUS(vt_set_prices(eur), VT_OK);
    CHECK_CONTAINS(prices_now(), "{\"currency\":\"EUR\",");
    CHECK_STATUS(vt_set_prices(TABLE_A), VT_OK);
    CHECK_STATUS(vt_set_prices(NULL), VT_OK);
}

/* ---- hostile tables ---- */

struct hostile {
    const char *json;
    vt_status status;
    const char *message;
};

#define ENTRY(rest) "{\"currency\":\"USD\",\"prices\":[{\"stage\":\"llm\",\"provider\":\"a\"," rest "}]}"

static const struct hostile HOSTILE[] = {
    {"", VT_E_INVALID_ARG, "the text ends where a value was expected at byte 0 (in $)"},
    {"[]", VT_E_INVALID_ARG, "price table: $ must be an object, not an array"},
    {"{\"currency\":\"USD\",\"prices\":[]} x", VT_E_INVALID_ARG, "unexpected text after the JSON value at byte 31"},
    {ENTRY("\"input\":NaN,\"output\":1"), VT_E_INVALID_ARG, "unexpected character 'N' (NaN, Infinity and comments are not JSON) at byte 66 (in $.prices[0].input)"},
    {ENTRY("\"input\":Infinity,\"output\":1"), VT_E_INVALID_ARG, "unexpected character 'I'"},
    {ENTRY("\"input\":-1,\"output\":1"), VT_E_INVALID_ARG, "price table: $.prices[0].input is -1: a price must not be negative"},
    {ENTRY("\"input\":1,\"output\":-0.5e-3"), VT_E_INVALID_ARG, "$.prices[0].output is -0.5e-3: a price must not be negative"},
    {ENTRY("\"input\":1e400,\"output\":1"), VT_E_INVALID_ARG, "$.prices[0].input is 1e400: above 10000000, taken for a mistake"},
    {ENTRY("\"input\":10000000.000000000001,\"output\":1"), VT_E_INVALID_ARG, "above 10000000"},
    {ENTRY("\"input\":0.0000000000001,\"output\":1"), VT_E_INVALID_ARG, "$.prices[0].input is 0.0000000000001: at most 12 decimal places"},
    {ENTRY("\"input\":\"0.1\",\"output\":1"), VT_E_INVALID_ARG, "$.prices[0].input must be a number, not a string"},
    {ENTRY("\"input\":1,\"input\":2,\"output\":1"), VT_E_INVALID_ARG, "duplicate key \"input\" at byte 68 (in $.prices[0])"},
    {"{\"currency\":\"USD\",\"currency\":\"EUR\",\"prices\":[]}", VT_E_INVALID_ARG, "duplicate key \"currency\" at byte 18 (in $)"},
    {ENTRY("\"inptu\":1,\"output\":1"), VT_E_INVALID_ARG, "price table: $.prices[0].inptu is not a known key here (known: stage, provider, model, input,"},
    {ENTRY("\"input\":1"), VT_E_INVALID_ARG, "$.prices[0] prices tokens: it needs both \"input\" and \"output\""},
    {ENTRY("\"per_minute\":1"), VT_E_INVALID_ARG, "$.prices[0].per_minute is not a known key here"},
    {"{\"currency\":\"USD\",\"prices\":[{\"stage\":\"llm\",\"provider\":\"a\",\"input\":1,\"output\":1},"
     "{\"stage\":\"llm\",\"provider\":\"a\",\"model\":\"*\",\"input\":2,\"output\":2}]}",
     VT_E_INVALID_ARG, "$.prices[1] prices stage \"llm\", provider \"a\", model \"*\" again (as $.prices[0] does)"},
    {"{\"currency\":\"USD\",\"prices\":[{\"stage\":\"stt\",\"provider\":\"a\",\"per_minute\":1,\"per_second\":1}]}",
     VT_E_INVALID_ARG, "$.prices[0] has both \"per_minute\" and \"per_second\": give one"},
    {"{\"currency\":\"USD\",\"prices\":[{\"stage\":\"tts\",\"provider\":\"a\"}]}", VT_E_INVALID_ARG,
     "$.prices[0] has no price: give per_million_characters or input and output"},
    {"{\"currency\":\"USD\",\"prices\":[{\"stage\":\"transport\",\"provider\":\"sip\",\"model\":\"x\",\"per_minute\":1}]}",
     VT_E_INVALID_ARG, "$.prices[0].model must be \"*\" (or left out): transport is priced by provider only"},
    {"{\"currency\":\"USD\",\"prices\":[{\"stage\":\"asr\",\"provider\":\"a\",\"per_minute\":1}]}", VT_E_INVALID_ARG,
     "$.prices[0].stage must be one of \"llm\", \"realtime\", \"stt\", \"tts\", \"transport\""},
    {"{\"currency\":\"USD\",\"prices\":[{\"stage\":\"llm\",\"provider\":\"\",\"input\":1,\"output\":1}]}", VT_E_INVALID_ARG,
     "$.prices[0].provider must be a non-empty string of at most 128 bytes"},
    {"{\"currency\":\"\",\"prices\":[]}", VT_E_INVALID_ARG, "$.currency must be 1 to 16 letters, digits or '_'"},
    {"{\"prices\":[]}", VT_E_INVALID_ARG, "price table: $ has no \"currency\""},
    {"{\"currency\":\"USD\",\"prices\":{}}", VT_E_INVALID_ARG, "$.prices must be an array, not an object"},
    {"{\"currency\":\"USD\",\"prices\":[],\"x\":1}", VT_E_INVALID_ARG, "$.x is not a known key here (known: currency, prices, description)"},
    {"{\"currency\":\"USD\",\"prices\":[[[[[[[[[1]]]]]]]]]}", VT_E_INVALID_ARG, "nested deeper than 8 levels at byte 34 (in $.prices[0][0][0][0][0][0][0])"},
    {"{\"currency\":\"U\xff\",\"prices\":[]}", VT_E_INVALID_ARG, "invalid UTF-8 at byte 14 (in $.currency)"},
    {"{\"currency\":\"\\ud800\",\"prices\":[]}", VT_E_INVALID_ARG, "lone surrogate in \\u escape"},
    {"{\"currency\":\"USD\",\"prices\":[],}", VT_E_INVALID_ARG, "expected a key (a string) at byte 30 (in $)"},
    {"{\"currency\":\"USD\",\"prices\":[01]}", VT_E_INVALID_ARG, "invalid number (a leading zero?) at byte 29 (in $.prices[0])"},
};

static void refused(const char *json, vt_status status, const char *message, const char *before) {
    CHECK_STATUS(vt_set_prices(json), status);
    char m[700];
    snprintf(m, sizeof m, "message \"%.300s\" should contain \"%.300s\"", vt_last_error(), message);
    check_report(strstr(vt_last_error(), message) != NULL, __FILE__, __LINE__, m);
    CHECK_STR_EQ(prices_now(), before);   /* the active table is unchanged */
}

TEST(hostile_tables_are_refused_with_the_path_of_the_bad_value) {
    CHECK_STATUS(vt_set_prices(TABLE_A), VT_OK);
    static char before[4096];
    snprintf(before, sizeof before, "%s", prices_now());
    for (size_t i = 0; i < sizeof HOSTILE / sizeof HOSTILE[0]; i++)
        refused(HOSTILE[i].json, HOSTILE[i].status, HOSTILE[i].message, before);
    /* Huge: one byte over VT_MAX_PRICES_JSON_BYTES (the rest is never read). */
    size_t n = VT_MAX_PRICES_JSON_BYTES + 1;
    char *huge = malloc(n + 1);
    memset(huge, ' ', n);
    huge[0] = '{';
    huge[n] = 0;
    refused(huge, VT_E_INVALID_ARG, "price table is longer than 131072 bytes (VT_MAX_PRICES_JSON_BYTES)", before);
    /* Deeply nested within the size limit: refused at depth 9, no recursion beyond. */
    memset(huge, '[', 100000);
    huge[100000] = 0;
    refused(huge, VT_E_INVALID_ARG, "nested deeper than 8 levels at byte 8 (in $[0][0][0][0][0][0][0][0])", before);
    free(huge);
    /* Too many entries. */
    static char many[1 << 17];
    size_t at = (size_t)snprintf(many, sizeof many, "{\"currency\":\"USD\",\"prices\":[");
    for (int i = 0; i <= VT_MAX_PRICE_ENTRIES; i++)
        at += (size_t)snprintf(many + at, sizeof many - at, "%s{\"stage\":\"tts\",\"provider\":\"p%d\",\"per_million_characters\":1}",
                               i ? "," : "", i);
    snprintf(many + at, sizeof many - at, "]}");
    refused(many, VT_E_INVALID_ARG, "$.prices has 257 entries: at most 256 (VT_MAX_PRICE_ENTRIES)", before);
    CHECK_STATUS(vt_set_prices(NULL), VT_OK);
}

TEST(the_table_reads_back_normalised) {
    const char *json = " {\"prices\": [\n"
                       "  {\"provider\": \"z\", \"stage\": \"transport\", \"per_minute\": 4e-3},\n"
                       "  {\"stage\": \"tts\", \"provider\": \"b\", \"model\": \"\\u00e9\", \"per_million_characters\": 15.50},\n"
                       "  {\"stage\": \"llm\", \"provider\": \"b\", \"output\": 0.60, \"input\": 1.5E-1, \"reasoning\": 0},\n"
                       "  {\"stage\": \"llm\", \"provider\": \"a\", \"model\": \"m\", \"input\": 2, \"output\": 8, \"cached_input\": 0.000000000001}\n"
                       " ], \"currency\": \"USD\", \"description\": \"EXAMPLE\"}";
    CHECK_STATUS(vt_set_prices(json), VT_OK);
    CHECK_STR_EQ(prices_now(),
                 "{\"currency\":\"USD\",\"description\":\"EXAMPLE\",\"prices\":["
                 "{\"stage\":\"llm\",\"provider\":\"a\",\"model\":\"m\",\"input\":2,\"cached_input\":0.000000000001,\"output\":8},"
                 "{\"stage\":\"llm\",\"provider\":\"b\",\"model\":\"*\",\"input\":0.15,\"output\":0.6,\"reasoning\":0},"
                 "{\"stage\":\"tts\",\"provider\":\"b\",\"model\":\"\xc3\xa9\",\"per_million_characters\":15.5},"
                 "{\"stage\":\"transport\",\"provider\":\"z\",\"model\":\"*\",\"per_minute\":0.004}]}");
    /* The buffer contract. */
    size_t len = 0, full = 0;
    char small[8];
    CHECK_STATUS(vt_prices_json(NULL, 0, &full), VT_E_BUFFER_TOO_SMALL);
    CHECK_EQ_U64(full, strlen(prices_now()));
    CHECK_STATUS(vt_prices_json(small, sizeof small, &len), VT_E_BUFFER_TOO_SMALL);
    CHECK_EQ_U64(len, full);
    CHECK_STATUS(vt_prices_json(NULL, 0, NULL), VT_E_INVALID_ARG);
    CHECK_STATUS(vt_prices_json(NULL, 5, &len), VT_E_INVALID_ARG);
    CHECK_STATUS(vt_set_prices(NULL), VT_OK);
    CHECK_STATUS(vt_prices_json(small, 5, &len), VT_OK);
    CHECK_STR_EQ(small, "null");
    CHECK_EQ_U64(len, 4);
}

/* ---- a million turns ---- */

TEST(a_million_turns_keep_exact_totals) {
    CHECK_STATUS(vt_set_prices("{\"currency\":\"USD\",\"prices\":["
                               "{\"stage\":\"llm\",\"provider\":\"bulk\",\"model\":\"b1\",\"input\":0.15,\"cached_input\":0.075,\"output\":0.6},"
                               "{\"stage\":\"stt\",\"provider\":\"bulk-stt\",\"per_minute\":0.0043}]}"),
                 VT_OK);
    vt_session s = open_priced("million-1", "bulk-net", SEC);
    CHECK_STATUS(vt_turn_provider(s, VT_STAGE_LLM, "bulk", "b1", SEC), VT_OK);
    CHECK_STATUS(vt_turn_provider(s, VT_STAGE_STT, "bulk-stt", NULL, SEC), VT_OK);
    /* Each turn: 900 uncached x 0.15/M + 100 cached x 0.075/M + 50 output x 0.6/M = 135 + 7.5 + 30 =
     * 172.5 µ (172500000 pico, exact); 0.7 s of STT = 0.7/60 x 0.0043 USD = 50166666.67 pico, charged as
     * 50166667 (half up, per charge). */
    vt_token_usage u = tokens(1000, 50, 100);
    const int turns = 1000000;
    vt_status worst = VT_OK;
    for (int i = 0; i < turns; i++) {
        uint64_t t = 2 * SEC + (uint64_t)i * SEC;
        worst |= vt_turn_mark(s, VT_STAGE_LLM, VT_MARK_START, t);
        worst |= vt_turn_mark(s, VT_STAGE_LLM, VT_MARK_FIRST, t + SEC / 10);
        worst |= vt_turn_usage(s, VT_STAGE_LLM, &u, t + SEC / 10);
        worst |= vt_turn_value(s, VT_TV_STT_AUDIO_SECONDS, 0.7, t);
        worst |= vt_record_turn_complete(s, t + SEC / 5);
    }
    CHECK_STATUS(worst, VT_OK);
    char *last = json_of(vt_turn_last_json, s);
    CHECK_CONTAINS(last, "\"turn_id\":1000000,");
    /* One turn: 172.5 -> 173 µ, 50.166667 -> 50 µ, total 222.666667 -> 223 µ. */
    CHECK_CONTAINS(last, "\"cost\":{\"currency\":\"USD\",\"stt_micros\":50,\"llm_micros\":173,\"tts_micros\":0,"
                         "\"realtime_micros\":0,\"total_micros\":223,");
    free(last);
    /* A million: 172500000 µ exactly; 50166667 pico x 1e6 = 50166667 µ exactly. */
    char *snap = snapshot_at(s, 2 * SEC);
    CHECK_CONTAINS(snap, "\"cost\":{\"currency\":\"USD\",\"stt_micros\":50166667,\"llm_micros\":172500000,\"tts_micros\":0,"
                         "\"realtime_micros\":0,\"transport_micros\":0,\"total_micros\":222666667,\"unpriced_charges\":0}");
    CHECK_CONTAINS(snap, "{\"stage\":\"llm\",\"provider\":\"bulk\",\"model\":\"b1\",\"reports\":1000000,\"turns\":0,"
                         "\"tokens\":{\"input\":1000000000,\"output\":50000000,\"cached_input\":100000000},"
                         "\"audio_duration_ns\":0,\"characters\":0,\"cost_micros\":172500000,\"unpriced_charges\":0}");
    CHECK_CONTAINS(snap, "{\"stage\":\"stt\",\"provider\":\"bulk-stt\",\"model\":null,\"reports\":0,\"turns\":1000000,"
                         "\"tokens\":{},\"audio_duration_ns\":700000000000000,\"characters\":0,\"cost_micros\":50166667,");
    free(snap);
    CHECK_STATUS(vt_end_session(s), VT_OK);
    char *p = prom_as(VT_FORMAT_PROMETHEUS);
    CHECK_CONTAINS(p, "voicetelemetry_cost_total{currency=\"USD\",model=\"b1\",provider=\"bulk\",stage=\"llm\"} 172.5\n");
    CHECK_CONTAINS(p, "voicetelemetry_cost_total{currency=\"USD\",provider=\"bulk-stt\",stage=\"stt\"} 50.166667\n");
    free(p);
    CHECK_STATUS(vt_set_prices(NULL), VT_OK);
}

/* ---- the session.end and turn.complete events ---- */

static char event_lines[1 << 17];
static size_t event_len;

static int32_t capture_init(const vt_host_api *host, void *host_ctx, const char *config_json, void **state_out,
                            char *err, size_t err_cap) {
    (void)host; (void)host_ctx; (void)config_json; (void)err; (void)err_cap;
    *state_out = event_lines;
    return 0;
}

static int32_t capture_write(void *state, const vt_sink_batch *batch) {
    (void)state;
    if (event_len + batch->len >= sizeof event_lines) return VT_SINK_DROP;
    memcpy(event_lines + event_len, batch->data, batch->len);
    event_len += batch->len;
    event_lines[event_len] = 0;
    return VT_SINK_OK;
}

TEST(session_end_and_turn_complete_events_carry_the_costs) {
    static const vt_plugin_table table = {sizeof(vt_plugin_table), VT_PLUGIN_ABI_MAJOR, VT_PLUGIN_ABI_MINOR,
                                          "cost_capture", "1", capture_init, capture_write, NULL, NULL};
    vt_plugin_id id = 0;
    CHECK_STATUS(vt_load_plugin_table(&table, NULL, &id), VT_OK);
    CHECK_STATUS(vt_set_prices(TABLE_A), VT_OK);
    vt_session s = open_priced("events-1", "webrtc", SEC);
    CHECK_STATUS(vt_turn_provider(s, VT_STAGE_LLM, "acme", "m1", SEC), VT_OK);
    llm_turn(s, 2 * SEC, 1000, 100);   /* 210 µ */
    CHECK_STATUS(vt_record_turn_complete(s, 3 * SEC), VT_OK);
    CHECK_STATUS(vt_end_session_at(s, 4 * SEC), VT_OK);
    CHECK_STATUS(vt_flush_events(5000), VT_OK);
    const char *end = strstr(event_lines, "\"event_type\":\"session.end\"");
    CHECK(end != NULL);
    CHECK_CONTAINS(end, "\"cost\":{\"currency\":\"USD\",\"stt_micros\":0,\"llm_micros\":210,\"tts_micros\":0,"
                        "\"realtime_micros\":0,\"transport_micros\":0,\"total_micros\":210,\"unpriced_charges\":0},"
                        "\"usage_by_model\":[{\"stage\":\"llm\",\"provider\":\"acme\",\"model\":\"m1\",\"reports\":1,");
    const char *turn = strstr(event_lines, "\"event_type\":\"turn.complete\"");
    CHECK(turn != NULL && turn < end);
    CHECK_CONTAINS(turn, "\"cost\":{\"currency\":\"USD\",\"stt_micros\":0,\"llm_micros\":210,");
    CHECK_STATUS(vt_unload_plugin(id), VT_OK);
    CHECK_STATUS(vt_set_prices(NULL), VT_OK);
}

TEST(a_final_snapshot_too_long_for_an_event_loses_rows_not_the_event) {
    static const vt_plugin_table table = {sizeof(vt_plugin_table), VT_PLUGIN_ABI_MAJOR, VT_PLUGIN_ABI_MINOR,
                                          "cost_capture_wide", "1", capture_init, capture_write, NULL, NULL};
    vt_plugin_id id = 0;
    event_len = 0;
    event_lines[0] = 0;
    CHECK_STATUS(vt_load_plugin_table(&table, NULL, &id), VT_OK);
    CHECK_STATUS(vt_set_prices("{\"currency\":\"USD\",\"prices\":[{\"stage\":\"llm\",\"provider\":\"wide\",\"input\":1,\"output\":1}]}"),
                 VT_OK);
    vt_session s = open_priced("wide-1", "webrtc", SEC);
    vt_token_usage u = tokens(1000, -1, -1);
    for (int i = 0; i < 8; i++) {   /* 8 rows of 120-byte model names: some 2.4 KB more of snapshot */
        char model[128];
        memset(model, 'a' + i, 120);
        model[120] = 0;
        CHECK_STATUS(vt_turn_provider(s, VT_STAGE_LLM, "wide", model, SEC), VT_OK);
        CHECK_STATUS(vt_turn_usage(s, VT_STAGE_LLM, &u, 2 * SEC), VT_OK);
    }
    CHECK_STATUS(vt_end_session_at(s, 3 * SEC), VT_OK);
    CHECK_STATUS(vt_flush_events(5000), VT_OK);
    const char *end = strstr(event_lines, "\"event_type\":\"session.end\"");
    CHECK(end != NULL);
    const char *line = end;
    while (line > event_lines && line[-1] != '\n') line--;
    size_t n = strcspn(line, "\n") + 1;
    CHECK(n <= VT_MAX_EVENT_BYTES);
    CHECK_CONTAINS(end, "\"llm_micros\":8000,");   /* the cost is whole */
    CHECK_CONTAINS(end, "\"usage_by_model_overflow\":0,\"usage_by_model_omitted\":");
    vt_plugin_statistics st;
    memset(&st, 0, sizeof st);
    st.struct_size = sizeof st;
    CHECK_STATUS(vt_plugin_stats(id, &st), VT_OK);
    CHECK_EQ_U64(st.dropped_too_large, 0);
    CHECK_STATUS(vt_unload_plugin(id), VT_OK);
    CHECK_STATUS(vt_set_prices(NULL), VT_OK);
}

/* ---- rows, no table, exposition ---- */

TEST(a_session_keeps_eight_models_and_counts_the_rest_as_other) {
    CHECK_STATUS(vt_set_prices("{\"currency\":\"USD\",\"prices\":[{\"stage\":\"llm\",\"provider\":\"many\",\"input\":1,\"output\":1}]}"),
                 VT_OK);
    vt_session s = open_priced("rows-1", "webrtc", SEC);
    vt_token_usage u = tokens(1000, -1, -1);   /* 1000 x 1/M = 1000 µ each */
    for (int i = 0; i < 10; i++) {
        char model[8];
        snprintf(model, sizeof model, "m%d", i);
        CHECK_STATUS(vt_turn_provider(s, VT_STAGE_LLM, "many", model, SEC), VT_OK);
        CHECK_STATUS(vt_turn_usage(s, VT_STAGE_LLM, &u, 2 * SEC), VT_OK);
    }
    char *snap = snapshot_at(s, SEC);
    CHECK_CONTAINS(snap, "\"llm_micros\":10000,");
    CHECK_CONTAINS(snap, "{\"stage\":\"llm\",\"provider\":\"many\",\"model\":\"m7\",\"reports\":1,");
    CHECK_CONTAINS(snap, "{\"stage\":\"llm\",\"provider\":\"other\",\"model\":\"other\",\"reports\":2,\"turns\":0,"
                         "\"tokens\":{\"input\":2000},\"audio_duration_ns\":0,\"characters\":0,\"cost_micros\":2000,"
                         "\"unpriced_charges\":0}],\"usage_by_model_overflow\":2");
    CHECK(strstr(snap, "\"model\":\"m8\"") == NULL);
    free(snap);
    CHECK_STATUS(vt_end_session(s), VT_OK);
    char *p = prom_as(VT_FORMAT_PROMETHEUS);
    CHECK_CONTAINS(p, "voicetelemetry_cost_total{currency=\"USD\",model=\"m7\",provider=\"many\",stage=\"llm\"} 0.001\n");
    CHECK_CONTAINS(p, "voicetelemetry_cost_total{currency=\"USD\",model=\"other\",provider=\"other\",stage=\"llm\"} 0.002\n");
    free(p);
    CHECK_STATUS(vt_set_prices(NULL), VT_OK);
}

TEST(without_a_table_usage_is_counted_and_nothing_is_priced) {
    CHECK_STATUS(vt_set_prices(NULL), VT_OK);
    vt_session s = open_priced("free-1", "sip", SEC);
    CHECK_STATUS(vt_turn_provider(s, VT_STAGE_LLM, "nobody", "n1", SEC), VT_OK);
    llm_turn(s, 2 * SEC, 500, 20);
    CHECK_STATUS(vt_record_turn_complete(s, 3 * SEC), VT_OK);
    char *last = json_of(vt_turn_last_json, s);
    CHECK_CONTAINS(last, "\"cost\":null,");
    free(last);
    char *snap = snapshot_at(s, 61 * SEC);
    CHECK_CONTAINS(snap, "\"cost\":null,\"usage_by_model\":[{\"stage\":\"llm\",\"provider\":\"nobody\",\"model\":\"n1\","
                         "\"reports\":1,\"turns\":0,\"tokens\":{\"input\":500,\"output\":20},\"audio_duration_ns\":0,"
                         "\"characters\":0,\"cost_micros\":0,\"unpriced_charges\":0}],\"usage_by_model_overflow\":0");
    free(snap);
    CHECK_STATUS(vt_end_session(s), VT_OK);
    char *p = prom_as(VT_FORMAT_PROMETHEUS);
    CHECK(p && strstr(p, "provider=\"nobody\"") == NULL);
    free(p);
}

TEST(both_exposition_formats_carry_the_cost_families) {
    char *om = prom_as(VT_FORMAT_OPENMETRICS);
    CHECK_CONTAINS(om, "# HELP voicetelemetry_cost Cost of usage priced by the price table (vt_set_prices), in units of its currency.\n"
                       "# TYPE voicetelemetry_cost counter\n");
    CHECK_CONTAINS(om, "voicetelemetry_cost_total{currency=\"USD\",model=\"sonic-2\",provider=\"cartesia\",stage=\"tts\"} 0.0195\n");
    CHECK_CONTAINS(om, "# TYPE voicetelemetry_usage_unpriced counter\n");
    CHECK(om && strcmp(om + strlen(om) - 6, "# EOF\n") == 0);
    free(om);
    char *p = prom_as(VT_FORMAT_PROMETHEUS);
    CHECK_CONTAINS(p, "# TYPE voicetelemetry_cost_total counter\n");
    CHECK_CONTAINS(p, "# TYPE voicetelemetry_usage_unpriced_total counter\n"
                      "voicetelemetry_usage_unpriced_total{model=\"flash-v2\",provider=\"elevenlabs\",stage=\"tts\"} 1\n");
    if (p && system("command -v promtool >/dev/null 2>&1") == 0) {
        FILE *f = fopen("build/tests/costs_prom.txt", "w");
        CHECK(f != NULL);
        if (f) {
            fputs(p, f);
            fclose(f);
            CHECK(system("promtool check metrics < build/tests/costs_prom.txt > build/tests/costs_promtool.out 2>&1") == 0);
            FILE *o = fopen("build/tests/costs_promtool.out", "r");
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
    RUN(scripted_call_costs_to_the_micro_unit);
    RUN(a_price_change_applies_from_the_next_report);
    RUN(the_currency_changes_only_with_no_session_open);
    RUN(hostile_tables_are_refused_with_the_path_of_the_bad_value);
    RUN(the_table_reads_back_normalised);
    RUN(a_million_turns_keep_exact_totals);
    RUN(session_end_and_turn_complete_events_carry_the_costs);
    RUN(a_final_snapshot_too_long_for_an_event_loses_rows_not_the_event);
    RUN(a_session_keeps_eight_models_and_counts_the_rest_as_other);
    RUN(without_a_table_usage_is_counted_and_nothing_is_priced);
    RUN(both_exposition_formats_carry_the_cost_families);
    return check_summary();
}
