/*
 * fuzz_prices -- the price table and the charges made with it: vt_set_prices with fuzzed JSON (raw
 * text, mutated by libFuzzer with fuzz/dict/prices.dict), vt_prices_json at fuzzed caps, and
 * sessions whose token reports are priced.
 *
 * Invariants: statuses documented; a refused table changes nothing (vt_prices_json is the same text
 * before and after); an accepted table reads back as a JSON object (or null after NULL), and that
 * normalised text, set again, is accepted and reads back byte for byte (normalisation is a fixed
 * point); the BUFFERS contract of vt_prices_json at every cap. Charging: with a known table (llm
 * provider "fz", any model: input 1, output 2 per million tokens, so each token is a whole number of
 * micro-units), a session's llm_micros is exactly the sum over its accepted reports of
 * input + 2 x output (the model of docs/cost.md, rule 1); the snapshot is a JSON object; the
 * Prometheus text passes the structural check every 4096 inputs.
 */
#include "fuzz_util.h"

static const char known_table[] =
    "{\"currency\":\"USD\",\"prices\":[{\"stage\":\"llm\",\"provider\":\"fz\",\"input\":1,\"output\":2}]}";
static const char *const models[] = {"m1", "m2", "", "\xc3\xa9", "\xff", "*"};

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    fuzz_util_selftest();
    return 0;
}

static vt_status tf_prices(void *ctx, char *buf, size_t cap, size_t *len) {
    (void)ctx;
    return vt_prices_json(buf, cap, len);
}

/* vt_set_prices(json) and what must hold after it, whatever the text. */
static void set_table(const char *json) {
    size_t before_len, after_len;
    char *before = text_of(tf_prices, NULL, &before_len);
    FZ_ASSERT(before, "vt_prices_json failed: %s", vt_last_error());
    vt_status st = vt_set_prices(json);
    check_status("vt_set_prices", st);
    FZ_ASSERT(st == VT_OK || st == VT_E_INVALID_ARG || st == VT_E_LIMIT || st == VT_E_ORDER, "status %d", (int)st);
    char *after = text_of(tf_prices, NULL, &after_len);
    FZ_ASSERT(after, "vt_prices_json failed: %s", vt_last_error());
    if (st != VT_OK) {
        FZ_ASSERT(strcmp(before, after) == 0, "a refused table (%d: %s) changed the table:\n%s\n->\n%s", (int)st,
                  vt_last_error(), before, after);
    } else if (!json) {
        FZ_ASSERT(strcmp(after, "null") == 0, "a cleared table reads back as %s", after);
    } else {
        FZ_ASSERT(json_object_valid(after, after_len), "the table reads back as no JSON object: %s", after);
        vt_status again = vt_set_prices(after);
        FZ_ASSERT(again == VT_OK, "the normalised table was refused (%d: %s): %s", (int)again, vt_last_error(), after);
        size_t len2;
        char *twice = text_of(tf_prices, NULL, &len2);
        FZ_ASSERT(twice && strcmp(twice, after) == 0, "normalising twice differs:\n%s\n->\n%s", after, twice);
        free(twice);
    }
    free(before);
    free(after);
}

/* A usage report of small fields (or, a quarter of the time, any field), in a block of exactly its
 * struct_size. Returns what it adds to llm_micros with the known table when it is accepted. */
static uint64_t report(fz *f, vt_session s) {
    size_t size = offsetof(vt_token_usage, input) + 8 * (1 + fz_u8(f) % 9);
    vt_token_usage *u = fz_keep(f, malloc(size));
    uint8_t shape = fz_u8(f);
    int64_t field[9];
    for (int i = 0; i < 9; i++)
        field[i] = (shape & 3) == 0 ? (int64_t)fz_u64(f) : (fz_u8(f) & 1) ? -1 : (int64_t)fz_u16(f);
    vt_token_usage full = {.struct_size = (uint32_t)size};
    memcpy(&full.input, field, sizeof field);
    memcpy(u, &full, size);
    vt_status st = vt_turn_usage(s, VT_STAGE_LLM, u, 0);
    check_status("vt_turn_usage", st);
    size_t n = (size - offsetof(vt_token_usage, input)) / 8;
    int64_t in_ = -1, out = -1, parts_in = 0, parts_out = 0, bad = 0;
    for (size_t i = 0; i < n; i++) bad |= field[i] >= (1ll << 40);
    for (size_t i = 0; i < n && !bad; i++) {
        if (field[i] < 0) continue;
        if (i == 0) in_ = field[i];
        if (i == 1) out = field[i];
        if (i >= 4 && i <= 6) parts_in += field[i];
        if (i >= 7) parts_out += field[i];
    }
    FZ_ASSERT((st == VT_OK) == !bad, "usage with a field of 2^40 or more: status %d", (int)st);
    if (st != VT_OK) return 0;
    return (uint64_t)(in_ >= 0 ? in_ : parts_in) + 2 * (uint64_t)(out >= 0 ? out : parts_out);
}

/* A session priced by the known table: its llm cost is exactly the model's. */
static void charged_session(fz *f) {
    FZ_ASSERT(vt_set_prices(known_table) == VT_OK, "the known table was refused: %s", vt_last_error());
    vt_session_config cfg = {.struct_size = sizeof cfg};
    vt_session s;
    FZ_ASSERT(vt_create_session(&cfg, &s) == VT_OK, "create: %s", vt_last_error());
    const char *model = fz_str(f, models, sizeof models / sizeof models[0], 200);
    vt_status st = vt_turn_provider(s, VT_STAGE_LLM, "fz", model, 0);
    check_status("vt_turn_provider", st);
    uint64_t expect = 0;
    for (int i = 0, n = fz_u8(f) % 16; st == VT_OK && i < n; i++) expect += report(f, s);
    if (st == VT_OK) {
        size_t len;
        char *snap = text_of(tf_snapshot_now, &s, &len);
        FZ_ASSERT(snap && json_object_valid(snap, len), "snapshot: %s", snap ? snap : vt_last_error());
        long double got = json_num(snap, "llm_micros");
        FZ_ASSERT(got == (long double)expect, "llm_micros %.0Lf, expected %llu:\n%s", got, (unsigned long long)expect, snap);
        free(snap);
    }
    if (fz_u8(f) & 1) set_table(fz_raw_str(f, 8192));   /* while a session is open: a new currency is refused */
    FZ_ASSERT(vt_end_session(s) == VT_OK, "end: %s", vt_last_error());
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static unsigned long inputs;
    fz f;
    fz_init(&f, data, size);
    for (int step = 0; step < 8 && f.n > 0; step++) {
        uint8_t op = fz_u8(&f);
        if (op < 160) set_table(fz_raw_str(&f, 8192));
        else if (op < 176) set_table(NULL);
        else if (op < 224) check_text_output("vt_prices_json", tf_prices, NULL, fz_u16(&f) % 4096, op & 1, SIZE_MAX, NULL);
        else charged_session(&f);
        fz_release(&f);
    }
    if (++inputs % 4096 == 0) check_prom();
    return 0;
}
