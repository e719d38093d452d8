/*
 * fuzz_session -- vt_create_session with hostile configurations, then the session's outputs and its end.
 *
 * The config is handed over in a heap block of exactly struct_size bytes (AddressSanitizer sees a read
 * of a field the size does not cover); the session id, label keys and values each sit in their own
 * exact block, the label array too. Also: a NULL config, a NULL out pointer.
 * Invariants: VT_OK only for a config the header allows (id 1..VT_MAX_SESSION_ID_BYTES of UTF-8, at
 * most VT_MAX_LABELS labels, text_policy 0 or 1, turn_history <= VT_MAX_TURN_HISTORY, struct_size
 * covering labels); the handle is not 0; the snapshot, last turn and history parse as JSON, the
 * snapshot names the session id given; ending works once, then VT_E_BAD_HANDLE; open sessions and
 * voicetelemetry_sessions_total (plus what the series limit dropped) agree with the calls (checked every 4096 inputs).
 */
#include <stddef.h>

#include "fuzz_util.h"

static const char *const ids[] = {"call-42", "", "\xc3\xa9t\xc3\xa9", "a\"b\\c\nd\x01", "\xff", "\xed\xa0\x80",
                                  "12345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678",
                                  "123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789"};
static const char *const keys[] = {"transport", "provider", "model", "k", "", "le", "__x", "9a", "a-b", "x\xc3\xa9",
                                   "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"};
static const char *const values[] = {"sip", "", "a\"b\\c\nd", "\xc3\xa9", "\xc0\xaf", "webrtc"};

static unsigned long created, ended_ok;
static double sessions_total_base;

/* voicetelemetry_sessions_total plus the increments the series limit dropped (documented: a label set
 * beyond VT_MAX_SERIES_PER_FAMILY is dropped and counted in series_dropped_total{metric=...}) */
static double sessions_total(void) {
    size_t len;
    char *t = text_of(tf_prom, NULL, &len);
    FZ_ASSERT(t, "prom text");
    double v = prom_sum(t, "voicetelemetry_sessions_total");
    const char *d = strstr(t, "\nvoicetelemetry_metrics_series_dropped_total{metric=\"voicetelemetry_sessions_total\"} ");
    if (d) v += strtod(strchr(d + 1, ' ') + 1, NULL);
    double active = prom_sum(t, "voicetelemetry_sessions_active");
    FZ_ASSERT(active == 0 || active == -1, "sessions_active is %g with no session open", active);
    free(t);
    return v < 0 ? 0 : v;
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    fuzz_util_selftest();
    sessions_total_base = sessions_total();
    return 0;
}

/* the struct_size covers the whole field */
#define COVERS(sz, field) ((sz) >= offsetof(vt_session_config, field) + sizeof(((vt_session_config *)0)->field))

static int utf8_ok(const char *s) { return utf8_valid(s, strlen(s)); }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static unsigned long inputs;
    fz f;
    fz_init(&f, data, size);
    uint8_t sel = fz_u8(&f);
    vt_session s = 0;
    vt_status st;
    int expect_ok = 1;
    const char *id = NULL;
    if ((sel & 0x0F) == 0) {
        st = vt_create_session(NULL, (sel & 0x10) ? NULL : &s);
        if (sel & 0x10) expect_ok = 0;
    } else {
        vt_session_config full;
        memset(&full, 0, sizeof full);
        /* struct_size: the block the caller really has (at least the field itself) */
        size_t ss = (sel & 0x08) ? sizeof full : 4 + (size_t)fz_u8(&f) % (sizeof full + 20);
        full.struct_size = (uint32_t)ss;
        full.session_id = id = fz_str(&f, ids, sizeof ids / sizeof ids[0], 300);
        size_t n = fz_u8(&f) % 20;
        vt_label *l = n ? fz_keep(&f, malloc(n * sizeof *l)) : NULL;
        for (size_t i = 0; i < n; i++) {
            l[i].key = fz_str(&f, keys, sizeof keys / sizeof keys[0], 300);
            l[i].value = fz_str(&f, values, sizeof values / sizeof values[0], 400);
            /* transport labels the built-in series: its values come from the dictionary, or every
             * input would add a series to some 30 families (2000 each: a 50 MB exposition) */
            if (l[i].key && strcmp(l[i].key, "transport") == 0) l[i].value = values[fz_u8(&f) % (sizeof values / sizeof values[0])];
        }
        full.labels = l;
        full.n_labels = (sel & 0x02) && n ? n + 1 + fz_u8(&f) % 3 : n; /* a count beyond the array: labels NULL then */
        if (full.n_labels != n) full.labels = NULL;
        full.start_t_ns = fz_time(&f);
        full.text_policy = fz_small(&f);
        full.max_text_chars = fz_small(&f) * (fz_u8(&f) & 1 ? 1 : 100);
        full.turn_history = fz_small(&f) * (fz_u8(&f) & 1 ? 1 : 97);
        /* the block the library reads: exactly ss bytes (the fields it covers) */
        size_t block = ss < sizeof full ? ss : sizeof full;
        unsigned char *cfg = fz_keep(&f, malloc(block ? block : 1));
        memcpy(cfg, &full, block);
        if (ss > sizeof full) { /* a caller from the future: a longer struct, zeros after ours */
            cfg = fz_keep(&f, calloc(1, ss));
            memcpy(cfg, &full, sizeof full);
        }
        st = vt_create_session((const vt_session_config *)cfg, &s);
        uint32_t sz = full.struct_size;
        if (sz < offsetof(vt_session_config, labels) || sz != ss) expect_ok = 0;
        else {
            if (id && (!id[0] || strlen(id) > VT_MAX_SESSION_ID_BYTES || !utf8_ok(id))) expect_ok = 0;
            size_t nl = COVERS(sz, n_labels) ? full.n_labels : 0;
            if (nl > VT_MAX_LABELS || (nl && !full.labels)) expect_ok = 0;
            if (COVERS(sz, text_policy) && full.text_policy > 1) expect_ok = 0;
            if (COVERS(sz, turn_history) && full.turn_history > VT_MAX_TURN_HISTORY) expect_ok = 0;
        }
        (void)expect_ok; /* label validity is the library's to judge: only refusals are checked below */
        if (st == VT_OK) {
            FZ_ASSERT(sz >= offsetof(vt_session_config, labels), "struct_size %u accepted", sz);
            if (id && COVERS(sz, session_id))
                FZ_ASSERT(id[0] && strlen(id) <= VT_MAX_SESSION_ID_BYTES && utf8_ok(id), "bad session id accepted");
            if (COVERS(sz, text_policy)) FZ_ASSERT(full.text_policy <= 1, "text_policy %u accepted", full.text_policy);
            if (COVERS(sz, turn_history))
                FZ_ASSERT(full.turn_history <= VT_MAX_TURN_HISTORY, "turn_history %u accepted", full.turn_history);
            if (COVERS(sz, n_labels)) FZ_ASSERT(full.n_labels <= VT_MAX_LABELS, "%zu labels accepted", full.n_labels);
        }
        if (!COVERS(sz, session_id)) id = NULL;
    }
    check_status("vt_create_session", st);
    FZ_ASSERT(st == VT_OK || st == VT_E_INVALID_ARG, "vt_create_session returned %d", (int)st);
    if (st == VT_OK) {
        FZ_ASSERT(s != 0, "handle 0");
        created++;
        check_session_json(s);
        if (id) {
            size_t len;
            char *snap = text_of(tf_snapshot, &s, &len);
            /* the id is in the snapshot as a JSON string; plain ids appear verbatim */
            if (strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") == strlen(id)) {
                char pat[300];
                snprintf(pat, sizeof pat, "\"session_id\":\"%s\"", id);
                FZ_ASSERT(strstr(snap, pat), "snapshot lacks %s: %s", pat, snap);
            }
            free(snap);
        }
        FZ_ASSERT(vt_end_session(s) == VT_OK, "end: %s", vt_last_error());
        ended_ok++;
        vt_status again = vt_end_session(s);
        FZ_ASSERT(again == VT_E_BAD_HANDLE, "second end returned %d", (int)again);
        size_t len;
        FZ_ASSERT(vt_snapshot_json(s, NULL, 0, &len) == VT_E_BAD_HANDLE, "snapshot of an ended session");
    } else if (!(sel & 0x10) || (sel & 0x0F)) {
        FZ_ASSERT(s == 0, "out written on error");
    }
    if (++inputs % 4096 == 0) { /* the process text is large (every transport label is a series): rarely */
        double total = sessions_total();
        FZ_ASSERT(total == sessions_total_base + (double)created, "voicetelemetry_sessions_total %g, expected %g + %lu",
                  total, sessions_total_base, created);
        check_prom();
    }
    fz_release(&f);
    return 0;
}
