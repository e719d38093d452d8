/*
 * fuzz_turn -- the turn collector: a fuzzed sequence of vt_turn_mark, vt_turn_value, vt_turn_text,
 * vt_turn_usage, vt_turn_error, vt_turn_provider, vt_turn_fallback, vt_turn_tool_call and the record
 * calls that feed turns, on a session whose text policy, text limit and history size the input chooses.
 *
 * Texts, names, reasons are each in an exactly-sized heap block; vt_token_usage is handed over in a
 * block of exactly its struct_size. Invariants: statuses documented; values out of their documented
 * range (NaN, Inf, negative, probabilities above 1, counts of 2^40 and more) refused; unknown stage,
 * mark, key, kind refused; after the sequence the history is an array of at most turn_history
 * objects and (a quarter of the inputs) vt_turn_last_json is null or an object, the snapshot an object;
 * the session ends cleanly.
 */
#include <stddef.h>

#include "fuzz_util.h"
#include "turn_scenario.h"   /* TURN_STAGE_COUNT: the stages with 0, from tests/c */

static const char *const texts[] = {"hello there", "", "\xc3\xa9t\xc3\xa9 \xf0\x9f\x98\x80 \xe2\x82\xac", "a\"b\\c\nd\x01",
                                    "\xff\xfe", "\xed\xa0\x80", "abc\xe2\x82", "0123456789"};
static const char *const names[] = {"deepgram", "openai", "gpt-4o", "", "a\"b", "\xc3\xa9", "\xc0\xaf", "other",
                                    "tool_lookup",
                                    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"};

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    fuzz_util_selftest();
    return 0;
}

static int value_ok(uint32_t key, double v) {
    if (!(v >= 0) || !isfinite(v)) return 0;
    switch (key) {
    case VT_TV_STT_CONFIDENCE: case VT_TV_EOU_PROBABILITY: return v <= 1;
    case VT_TV_STT_AUDIO_SECONDS: case VT_TV_EOU_WAIT_SECONDS: case VT_TV_FALSE_INTERRUPTION_PAUSE_SECONDS: return v <= 1e6;
    case VT_TV_TTS_CHARACTERS: case VT_TV_TTS_CHARACTERS_PLAYED: case VT_TV_TTS_AUDIO_BYTES: case VT_TV_FALSE_INTERRUPTION_WORDS:
        return v < 1099511627776.0 && v == floor(v);
    default: return 0;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fz f;
    fz_init(&f, data, size);
    vt_session_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.struct_size = sizeof cfg;
    uint8_t c = fz_u8(&f);
    cfg.text_policy = c & 1;
    cfg.max_text_chars = (c & 2) ? fz_u8(&f) : 0;
    cfg.turn_history = (c & 4) ? 1 + fz_u8(&f) % 8 : 0;
    cfg.start_t_ns = fz_time(&f);
    vt_session s;
    FZ_ASSERT(vt_create_session(&cfg, &s) == VT_OK, "create: %s", vt_last_error());
    uint32_t history = cfg.turn_history ? cfg.turn_history : VT_DEFAULT_TURN_HISTORY;

    for (int step = 0; step < 64 && f.n > 0; step++) {
        uint8_t op = fz_u8(&f);
        uint64_t t = fz_time(&f);
        vt_status st = VT_OK;
        const char *what = "";
        switch (op % 16) {
        case 0: case 1: case 2: {
            uint32_t stage = fz_u8(&f) % (TURN_STAGE_COUNT + 1), mark = fz_u8(&f) % 10;
            what = "vt_turn_mark";
            st = vt_turn_mark(s, stage, mark, t);
            if (stage == 0 || stage >= TURN_STAGE_COUNT || mark == 0 || mark > 8) FZ_ASSERT(st == VT_E_INVALID_ARG, "mark %u/%u accepted", stage, mark);
            break;
        }
        case 3: {
            uint32_t key = fz_u8(&f) % 11;
            double v = fz_double(&f);
            what = "vt_turn_value";
            st = vt_turn_value(s, key, v, t);
            if (st == VT_OK) FZ_ASSERT(value_ok(key, v), "turn value key %u value %.17g accepted", key, v);
            else FZ_ASSERT(!value_ok(key, v), "turn value key %u value %.17g refused: %s", key, v, vt_last_error());
            break;
        }
        case 4: {
            uint32_t kind = fz_u8(&f) % 5;
            char *text = (op & 0x80) ? fz_long_str(&f, (op & 0x40) ? 1048577 : 5000 + fz_u16(&f), 'x')
                                     : fz_str(&f, texts, sizeof texts / sizeof texts[0], 3000);
            what = "vt_turn_text";
            st = vt_turn_text(s, kind, text, t);
            if (st == VT_OK) FZ_ASSERT(text && kind >= 1 && kind <= 3 && strlen(text) <= 1048576 && utf8_valid(text, strlen(text)),
                                       "bad text accepted (kind %u)", kind);
            break;
        }
        case 5: {
            vt_token_usage u;
            memset(&u, 0, sizeof u);
            int64_t *fields = &u.input;
            for (int i = 0; i < 9; i++) {
                uint8_t b = fz_u8(&f);
                fields[i] = b < 64 ? -1 : b < 128 ? (int64_t)b : b < 192 ? (int64_t)fz_u32(&f) : (int64_t)fz_u64(&f);
            }
            size_t ss = (op & 0x40) ? sizeof u : 4 + fz_u8(&f) % (sizeof u - 3);
            u.struct_size = (uint32_t)ss;
            vt_token_usage *block = fz_keep(&f, malloc(ss));
            memcpy(block, &u, ss);
            uint32_t stage = fz_u8(&f) % TURN_STAGE_COUNT;
            what = "vt_turn_usage";
            st = vt_turn_usage(s, stage, (op & 0x20) ? NULL : block, t);
            if (st == VT_OK) {
                FZ_ASSERT(!(op & 0x20) && ss >= offsetof(vt_token_usage, input) + 8, "usage without input accepted");
                for (int i = 0; i < 9; i++)
                    if (offsetof(vt_token_usage, input) + 8 * (size_t)(i + 1) <= ss)
                        FZ_ASSERT(fields[i] < (1ll << 40), "usage field %d = %lld accepted", i, (long long)fields[i]);
            }
            break;
        }
        case 6:
            what = "vt_turn_error";
            st = vt_turn_error(s, fz_u8(&f) % (TURN_STAGE_COUNT + 2), t);
            break;
        case 7: {
            uint32_t stage = fz_u8(&f) % TURN_STAGE_COUNT;
            char *p = fz_str(&f, names, sizeof names / sizeof names[0], 300), *m = fz_str(&f, names, sizeof names / sizeof names[0], 300);
            what = "vt_turn_provider";
            st = vt_turn_provider(s, stage, p, m, t);
            if (st == VT_OK) FZ_ASSERT(p && p[0] && strlen(p) <= VT_TURN_MAX_NAME_BYTES && utf8_valid(p, strlen(p)), "bad provider accepted");
            break;
        }
        case 8: {
            uint32_t stage = fz_u8(&f) % TURN_STAGE_COUNT, kind = fz_u8(&f) % 4;
            char *a = fz_str(&f, names, sizeof names / sizeof names[0], 300), *b = fz_str(&f, names, sizeof names / sizeof names[0], 300);
            char *r = fz_str(&f, texts, sizeof texts / sizeof texts[0], 300);
            what = "vt_turn_fallback";
            st = vt_turn_fallback(s, stage, kind, a, b, r, t);
            if (st == VT_OK) FZ_ASSERT(a && b && a[0] && b[0] && kind >= 1 && kind <= 2, "bad fallback accepted");
            break;
        }
        case 9: {
            uint32_t kind = fz_u8(&f) % 4;
            char *n = fz_str(&f, names, sizeof names / sizeof names[0], 300);
            uint64_t t2 = fz_time(&f);
            int32_t ok = (int32_t)(fz_u8(&f) % 4) - 1;
            what = "vt_turn_tool_call";
            st = vt_turn_tool_call(s, kind, n, t, t2, ok);
            if (st == VT_OK) FZ_ASSERT(n && n[0] && (ok == 0 || ok == 1) && kind >= 1 && kind <= 2, "bad tool call accepted");
            break;
        }
        case 10: what = "vt_record_vad_start"; st = vt_record_vad_start(s, t); break;
        case 11: what = "vt_record_vad_end"; st = vt_record_vad_end(s, t); break;
        case 12: what = "vt_record_audio_out"; st = vt_record_audio_out(s, fz_u16(&f), t); break;
        case 13: what = "vt_record_interruption"; st = vt_record_interruption(s, t); break;
        case 14: what = "vt_record_turn_complete"; st = (op & 0x80) ? vt_record_turn_start(s, t) : vt_record_turn_complete(s, t); break;
        default: {
            /* read back in the middle of a turn */
            size_t len;
            fuzz_hist h = {s, fz_u8(&f) % 4};
            char *txt = text_of(tf_turn_history, &h, &len);
            FZ_ASSERT(txt && txt[0] == '[' && json_valid(txt, len), "history mid-turn: %s", txt ? txt : vt_last_error());
            free(txt);
            break;
        }
        }
        check_status(what, st);
        FZ_ASSERT(st == VT_OK || st == VT_E_INVALID_ARG || st == VT_E_LIMIT, "%s returned %d (%s)", what, (int)st, vt_last_error());
        fz_release(&f);
    }
    if ((c & 0x30) == 0) check_session_json(s); /* a quarter of the inputs: rendering costs executions */
    /* the history holds at most turn_history records */
    size_t len;
    fuzz_hist h = {s, 0};
    char *txt = text_of(tf_turn_history, &h, &len);
    size_t records = 0;
    for (const char *p = txt; (p = strstr(p, "\"turn_id\":")); p++) records++;
    FZ_ASSERT(records <= history, "%zu turns in a history of %u", records, history);
    free(txt);
    FZ_ASSERT(vt_end_session(s) == VT_OK, "end: %s", vt_last_error());
    fz_release(&f);
    return 0;
}
