/*
 * fuzz_output -- the BUFFERS contract of vt_snapshot_json, vt_snapshot_json_at, vt_prom_text,
 * vt_turn_last_json and vt_turn_history_json at every buffer size.
 *
 * Each input builds content with fuzzed text (a session id and label value, a transcript and an agent
 * response kept verbatim by VT_TEXT_INCLUDE, a tool name, a metric label value and help), then asks one
 * output (the input's first byte picks it; the Prometheus text every 1024 inputs) for its length and
 * calls it with blocks of exactly cap bytes, for caps the input picks around the length and from 0 up
 * (AddressSanitizer sees a write past cap); the whole text then parses. Invariants (check_text_output):
 * VT_OK exactly when the text and its NUL fit, then NUL-terminated at *len_out with no earlier NUL;
 * otherwise VT_E_BUFFER_TOO_SMALL and the same length; buf NULL with cap 0 asks for the length, buf NULL
 * with cap > 0 and len_out NULL are refused. Once per process every cap from 0 to length + 1 is tried
 * for each output (for the long Prometheus text: the first and the last 256 caps).
 */
#include "fuzz_util.h"

static const char *const words[] = {"x", "a\"b\\c\nd\te\x01", "\xc3\xa9t\xc3\xa9", "\xf0\x9f\x98\x80", "", "</script>",
                                    "\\u0000", "\xe2\x80\xa8\xe2\x80\xa9"};

static vt_session make(fz *f) {
    /* transport labels the built-in series: a dictionary value, or each input would add a series to
     * some 30 families (a 50 MB exposition at the series limit) */
    vt_label l = {"transport", words[fz_u8(f) % (sizeof words / sizeof words[0])]};
    vt_session_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.struct_size = sizeof cfg;
    cfg.session_id = fz_str(f, words, sizeof words / sizeof words[0], 128);
    cfg.labels = &l;
    cfg.n_labels = 1;
    cfg.text_policy = VT_TEXT_INCLUDE;
    cfg.max_text_chars = 4096;
    cfg.turn_history = 1 + fz_u8(f) % 4;
    cfg.start_t_ns = 1000000000ull;
    vt_session s = 0;
    if (vt_create_session(&cfg, &s) != VT_OK) {
        cfg.session_id = NULL;
        l.value = "x";
        FZ_ASSERT(vt_create_session(&cfg, &s) == VT_OK, "create: %s", vt_last_error());
    }
    uint64_t t = 2000000000ull;
    int turns = fz_u8(f) % 4;
    for (int i = 0; i < turns; i++) {
        vt_record_vad_start(s, t);
        vt_turn_text(s, VT_TT_USER_TRANSCRIPT, fz_str(f, words, sizeof words / sizeof words[0], 2000), t + 1);
        vt_record_vad_end(s, t + 100000000ull);
        vt_turn_mark(s, VT_STAGE_LLM, VT_MARK_START, t + 110000000ull);
        vt_turn_mark(s, VT_STAGE_LLM, VT_MARK_FIRST, t + 200000000ull);
        vt_turn_tool_call(s, VT_TOOL_FUNCTION, fz_str(f, words, sizeof words / sizeof words[0], 128), t + 120000000ull, t + 150000000ull, 1);
        vt_turn_text(s, VT_TT_AGENT_RESPONSE, fz_str(f, words, sizeof words / sizeof words[0], 2000), t + 210000000ull);
        vt_record_audio_out(s, 640, t + 300000000ull);
        vt_turn_mark(s, VT_STAGE_AGENT_SPEECH, VT_MARK_END, t + 900000000ull);
        t += 1000000000ull;
    }
    return s;
}

static void sweep(const char *what, text_fn fn, void *ctx, fz *f, int full) {
    size_t len = 0;
    vt_status st = fn(ctx, NULL, 0, &len);
    FZ_ASSERT(st == VT_E_BUFFER_TOO_SMALL || (st == VT_OK && len == 0), "%s(NULL, 0) returned %d", what, (int)st);
    size_t stable = fn == tf_snapshot_now ? SIZE_MAX : len; /* vt_snapshot_json's uptime moves */
    /* buf NULL with cap > 0, len_out NULL: refused */
    size_t dummy;
    FZ_ASSERT(fn(ctx, NULL, 1 + fz_u8(f), &dummy) == VT_E_INVALID_ARG, "%s: NULL buffer with cap > 0 accepted", what);
    char one[4];
    FZ_ASSERT(fn(ctx, one, sizeof one, NULL) == VT_E_INVALID_ARG, "%s: NULL len_out accepted", what);
    if (full) {
        /* every cap; for a long text (the Prometheus text: tens of KB, 2.4 ms a call under ASan) the
         * first and the last 256 */
        for (size_t cap = 0; cap <= len + 1; cap++) {
            if (cap == 256 && len > 4096) cap = len - 256;
            check_text_output(what, fn, ctx, cap, 0, stable, NULL);
        }
        return;
    }
    /* the edges (the text without its NUL; exactly the text and its NUL), then 0 or 1, then a cap the
     * input picks below or above the length */
    uint8_t k = fz_u8(f);
    size_t caps[4] = {len, len + 1, k & 2, 0};
    caps[3] = (k & 0x80) ? (size_t)fz_u16(f) % (len + 2) : len + 1 + (k & 0x7F);
    for (int i = 0; i < 4; i++) {
        vt_status r = check_text_output(what, fn, ctx, caps[i], i == 2 && (k & 1), stable, NULL);
        if (stable != SIZE_MAX)
            FZ_ASSERT((r == VT_OK) == (caps[i] > len), "%s: status %d for cap %zu, length %zu", what, (int)r, caps[i], len);
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    fuzz_util_selftest();
    /* every cap from 0 up, once, on a session with two turns */
    static const uint8_t seed[] = {1, 2, 1, 2, 2, 1, 3, 1, 4, 1, 5, 1, 6, 1, 3};
    fz f;
    fz_init(&f, seed, sizeof seed);
    vt_session s = make(&f);
    fuzz_hist h = {s, 0};
    sweep("vt_snapshot_json_at", tf_snapshot, &s, &f, 1);
    sweep("vt_turn_last_json", tf_turn_last, &s, &f, 1);
    sweep("vt_turn_history_json", tf_turn_history, &h, &f, 1);
    sweep("vt_prom_text", tf_prom, NULL, &f, 1);
    FZ_ASSERT(vt_end_session(s) == VT_OK, "end");
    fz_release(&f);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static unsigned long inputs;
    fz f;
    fz_init(&f, data, size);
    uint8_t sel = fz_u8(&f);
    vt_session s = make(&f);
    fuzz_hist h = {s, fz_u8(&f) % 6};
    /* one output per input (sweeping all four made each input some forty renders, 630 inputs/s under
     * ASan; one is about seven): the caps, then the whole text parses */
    size_t len;
    char *t;
    switch (sel % 4) {
    case 0:
        sweep("vt_snapshot_json_at", tf_snapshot, &s, &f, 0);
        t = text_of(tf_snapshot, &s, &len);
        FZ_ASSERT(t && json_object_valid(t, len), "snapshot: %s", t ? t : "");
        break;
    case 1:
        sweep("vt_snapshot_json", tf_snapshot_now, &s, &f, 0);
        t = text_of(tf_snapshot_now, &s, &len);
        FZ_ASSERT(t && json_object_valid(t, len), "snapshot (now): %s", t ? t : "");
        break;
    case 2:
        sweep("vt_turn_last_json", tf_turn_last, &s, &f, 0);
        t = text_of(tf_turn_last, &s, &len);
        FZ_ASSERT(t && (strcmp(t, "null") == 0 || json_object_valid(t, len)), "turn_last_json: %s", t ? t : "");
        break;
    default:
        sweep("vt_turn_history_json", tf_turn_history, &h, &f, 0);
        t = text_of(tf_turn_history, &h, &len);
        FZ_ASSERT(t && t[0] == '[' && json_valid(t, len), "turn_history_json: %s", t ? t : "");
        break;
    }
    free(t);
    if (++inputs % 1024 == 0 || (sel == 0x3F && inputs % 64 == 0)) {
        /* the process text: a metric whose label value and help come from the input (the series limit
         * keeps the family bounded) */
        vt_label l = {"k", fz_str(&f, words, sizeof words / sizeof words[0], 200)};
        vt_gauge_set("fz_output_gauge", "a gauge with fuzzed label values", &l, 1, 1.5);
        sweep("vt_prom_text", tf_prom, NULL, &f, 0);
    }
    FZ_ASSERT(vt_end_session(s) == VT_OK, "end");
    size_t l0;
    FZ_ASSERT(vt_turn_last_json(s, NULL, 0, &l0) == VT_E_BAD_HANDLE, "turn_last_json of an ended session");
    fz_release(&f);
    return 0;
}
