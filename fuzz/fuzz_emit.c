/*
 * fuzz_emit -- vt_emit with fuzzed event type, payload, correlation and turn ids, session and time.
 *
 * Every string is in its own exactly-sized heap block (AddressSanitizer sees a read past its NUL). The
 * check_sink plugin is loaded, so accepted events go through the queue, the text-policy rewrite and the
 * envelope, and each delivered line is checked as strict JSON on the plugin's thread.
 * Input: a selector byte (session, which strings are NULL), a time, then four strings (dictionary word
 * or raw bytes; the payload is the rest of the input when its selector says so).
 * Invariants: the status is documented and consistent with the arguments (VT_OK needs a valid type;
 * a bad handle gives VT_E_BAD_HANDLE); a failure leaves a message.
 */
#include "fuzz_util.h"

static vt_session sessions[3]; /* redact, include (short), include (long) */
static vt_session ended;       /* a handle whose session has ended */

static const char *const types[] = {"llm.response", "a", "session.start", "x/y:z-1_2.3", "telemetry.health",
                                    "turn.complete", "A", "", "bad type", "\xc3\xa9",
                                    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
                                    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"};
static const char *const payloads[] = {
    "{}", "{\"text\":\"hello world\"}", "{\"a\":{\"user_transcript\":\"\\u00e9\\ud83d\\ude00 x\"}}",
    "{\"transcript\":[\"not a string\",{\"text\":\"deep\"}]}", "{\"n\":-0.0e-0,\"t\":true,\"f\":false,\"z\":null}",
    "[]", "{\"a\":1,}", "{\"text\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"}", "{\"x_text\":1e999}", " { } ",
    "{\"s\":\"\xf0\x9f\x98\x80\",\"agent_text\":\"\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\"}", "{\"a\":\"\xed\xa0\x80\"}",
};
static const char *const ids[] = {"c-1", "", "\xc3\xa9", "id with \"quote\" and \\", "\x01\x7f",
                                  "1234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678"};

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    fuzz_util_selftest();
    vt_set_event_rate_limit(0);
    vt_plugin_id id;
    vt_status st = vt_load_plugin(FUZZ_PLUGIN_DIR "/check_sink.so", "{\"queue_capacity\":256,\"fail_every\":7}", &id);
    if (st != VT_OK) FZ_FAIL("cannot load check_sink: %s", vt_last_error());
    vt_session_config cfg;
    for (int i = 0; i < 3; i++) {
        memset(&cfg, 0, sizeof cfg);
        cfg.struct_size = sizeof cfg;
        cfg.text_policy = i ? VT_TEXT_INCLUDE : VT_TEXT_REDACT;
        cfg.max_text_chars = i == 1 ? 3 : 4096;
        if (vt_create_session(&cfg, &sessions[i]) != VT_OK) FZ_FAIL("create: %s", vt_last_error());
    }
    if (vt_create_session(NULL, &ended) != VT_OK || vt_end_session(ended) != VT_OK) FZ_FAIL("create/end: %s", vt_last_error());
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fz f;
    fz_init(&f, data, size);
    uint8_t sel = fz_u8(&f);
    vt_session s = 0;
    int bad_handle = 0;
    switch (sel & 7) {
    case 0: case 1: s = 0; break;
    case 2: case 3: s = sessions[0]; break;
    case 4: s = sessions[1]; break;
    case 5: s = sessions[2]; break;
    case 6: s = 0xFFFFull << 48 | fz_u32(&f); bad_handle = 1; break;
    default: s = ended; bad_handle = 1; break;
    }
    uint64_t t = fz_time(&f);
    char *type = fz_str(&f, types, sizeof types / sizeof types[0], 200);
    char *corr = fz_str(&f, ids, sizeof ids / sizeof ids[0], 300);
    char *turn = fz_str(&f, ids, sizeof ids / sizeof ids[0], 300);
    char *payload;
    if (sel & 0x80) payload = fz_exact(&f, (const char *)f.p, f.n); /* the rest of the input */
    else if (sel & 0x40) payload = fz_str(&f, payloads, sizeof payloads / sizeof payloads[0], 70000);
    else if (sel & 0x20) {
        /* a long transcript: the event is rewritten (redacted or truncated) before the size check */
        size_t n = 3000 + fz_u16(&f) % 6000;
        char *p = fz_keep(&f, malloc(n + 32));
        int k = snprintf(p, n + 32, "{\"text\":\"");
        memset(p + k, (sel & 0x10) ? 'a' : 0xE2, n);
        if (!(sel & 0x10)) for (size_t i = 0; i + 2 < n; i += 3) { p[k + i + 1] = (char)0x82; p[k + i + 2] = (char)0xAC; }
        strcpy(p + k + n - n % 3, "\"}");
        payload = fz_exact(&f, p, strlen(p));
    } else payload = NULL;

    vt_status st = vt_emit(s, type, payload, corr, turn, t);
    check_status("vt_emit", st);
    if (bad_handle) FZ_ASSERT(st == VT_E_BAD_HANDLE || st == VT_E_INVALID_ARG, "made-up handle accepted: %d", (int)st);
    if (!type) FZ_ASSERT(st == VT_E_INVALID_ARG || st == VT_E_BAD_HANDLE, "NULL event type accepted: %d", (int)st);
    FZ_ASSERT(st == VT_OK || st == VT_E_INVALID_ARG || st == VT_E_LIMIT || st == VT_E_BAD_HANDLE,
              "vt_emit returned %d", (int)st);
    if (st == VT_OK && type) {
        size_t tl = strlen(type);
        FZ_ASSERT(tl >= 1 && tl <= VT_MAX_EVENT_TYPE_BYTES, "event type of %zu bytes accepted", tl);
        for (size_t i = 0; i < tl; i++)
            FZ_ASSERT(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.:/-", type[i]),
                      "event type with byte 0x%02x accepted", (unsigned char)type[i]);
        if (corr) FZ_ASSERT(strlen(corr) <= VT_MAX_EVENT_ID_BYTES && utf8_valid(corr, strlen(corr)), "bad correlation id accepted");
        if (turn) FZ_ASSERT(strlen(turn) <= VT_MAX_EVENT_ID_BYTES && utf8_valid(turn, strlen(turn)), "bad turn id accepted");
        if (payload) FZ_ASSERT(json_object_valid(payload, strlen(payload)), "payload that is not a JSON object accepted: %s", payload);
    }
    if (st == VT_E_INVALID_ARG && payload && type && !bad_handle) {
        /* refused although every part is valid? only when an id or the type is bad */
        size_t tl = strlen(type);
        int type_ok = tl >= 1 && tl <= VT_MAX_EVENT_TYPE_BYTES && strspn(type, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.:/-") == tl;
        int ids_ok = (!corr || (strlen(corr) <= VT_MAX_EVENT_ID_BYTES && utf8_valid(corr, strlen(corr)))) &&
                     (!turn || (strlen(turn) <= VT_MAX_EVENT_ID_BYTES && utf8_valid(turn, strlen(turn))));
        /* the library also limits nesting to 64 levels: only flat-enough payloads are judged */
        size_t depth = 0, maxd = 0;
        for (const char *c = payload; *c; c++) { if (*c == '{' || *c == '[') { if (++depth > maxd) maxd = depth; } else if (*c == '}' || *c == ']') depth--; }
        if (type_ok && ids_ok && maxd <= 32 && json_object_valid(payload, strlen(payload)))
            FZ_FAIL("valid event refused: %s (type '%s', payload %s)", vt_last_error(), type, payload);
    }
    fz_release(&f);
    return 0;
}
