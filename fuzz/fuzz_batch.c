/*
 * fuzz_batch -- vt_record_batch and vt_record_usage with fuzzed arrays, element sizes and structs.
 *
 * The event array is a heap block of exactly n * event_size bytes (any event_size from 0 up: a caller
 * with an older, smaller or a newer, larger vt_event); vt_usage sits in a block of exactly its
 * struct_size. Invariants:
 *   - n_done: n on VT_OK, the failing index (< n) otherwise; a bad kind or audio size is refused;
 *   - the batch has exactly the semantics of the single calls: the same events applied one by one
 *     (vt_record_audio_out, ...) to a twin session give the same statuses up to the failing one and,
 *     when no event says "now" (t_ns 0), the same snapshot (at a fixed time) byte for byte;
 *   - accounting: audio_chunks_out and audio_bytes_out grow by the applied audio events.
 */
#include <stddef.h>

#include "fuzz_util.h"

/* Removes "key":value (a number or a plain string) from json: values that differ between two
 * sessions by design (the wall-clock anchor, the trace id) and are not the batch's doing. */
static void drop_key(char *json, const char *key) {
    char pat[64];
    snprintf(pat, sizeof pat, ",\"%s\":", key);
    char *p = strstr(json, pat);
    if (!p) return;
    char *v = p + strlen(pat), *e = v;
    if (*e == '"') { e++; while (*e && *e != '"') e++; if (*e) e++; }
    else while (*e && *e != ',' && *e != '}') e++;
    memmove(p, e, strlen(e) + 1);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    fuzz_util_selftest();
    return 0;
}

static vt_status single(vt_session s, const vt_event *e) {
    switch (e->kind) {
    case VT_EV_AUDIO_OUT: return vt_record_audio_out(s, (size_t)e->value, e->t_ns);
    case VT_EV_VAD_START: return vt_record_vad_start(s, e->t_ns);
    case VT_EV_VAD_END: return vt_record_vad_end(s, e->t_ns);
    case VT_EV_TEXT_SEND: return vt_record_text_send(s, e->t_ns);
    case VT_EV_TEXT_OUT: return vt_record_text_out(s, e->t_ns);
    case VT_EV_INTERRUPTION: return vt_record_interruption(s, e->t_ns);
    case VT_EV_TURN_START: return vt_record_turn_start(s, e->t_ns);
    case VT_EV_TURN_COMPLETE: return vt_record_turn_complete(s, e->t_ns);
    default: return VT_E_INVALID_ARG;
    }
}

static vt_session open_twin(const char *id, uint64_t start) {
    vt_session_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.struct_size = sizeof cfg;
    cfg.session_id = id;
    cfg.start_t_ns = start;
    vt_session s;
    FZ_ASSERT(vt_create_session(&cfg, &s) == VT_OK, "create: %s", vt_last_error());
    return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fz f;
    fz_init(&f, data, size);
    uint8_t sel = fz_u8(&f);
    uint64_t start = 1000000000ull + fz_u16(&f);
    vt_session a = open_twin("twin-A", start), b = open_twin("twin-B", start);
    int uses_now = 0;
    unsigned long long chunks = 0, bytes = 0;

    for (int round = 0; round < 4 && f.n > 0; round++) {
        uint8_t r = fz_u8(&f);
        if ((r & 7) == 7) {
            /* vt_record_usage in a block of exactly struct_size bytes, on both twins */
            vt_usage u;
            memset(&u, 0, sizeof u);
            int64_t *fields = &u.total;
            for (int i = 0; i < 5; i++) {
                uint8_t k = fz_u8(&f);
                fields[i] = k < 64 ? -1 : k < 128 ? (int64_t)k : k < 200 ? (int64_t)fz_u32(&f) << (k & 15) : (int64_t)fz_u64(&f);
            }
            size_t ss = (r & 0x80) ? sizeof u : 4 + fz_u8(&f) % (sizeof u - 3);
            u.struct_size = (uint32_t)ss;
            vt_usage *blk = fz_keep(&f, malloc(ss));
            memcpy(blk, &u, ss);
            vt_status sa = vt_record_usage(a, blk), sb = vt_record_usage(b, blk);
            check_status("vt_record_usage", sa);
            FZ_ASSERT(sa == sb, "usage: %d then %d for the same report", (int)sa, (int)sb);
            if (sa == VT_OK) {
                FZ_ASSERT(ss >= offsetof(vt_usage, total) + 8, "usage with struct_size %zu accepted", ss);
                for (int i = 0; i < 5; i++)
                    if (offsetof(vt_usage, total) + 8 * (size_t)(i + 1) <= ss)
                        FZ_ASSERT(fields[i] < (1ll << 40), "usage field %d = %lld accepted", i, (long long)fields[i]);
            }
            continue;
        }
        size_t n = fz_u8(&f) % 24;
        size_t es = (r & 0x40) ? sizeof(vt_event) : (size_t)fz_u8(&f) % 48;
        unsigned char *arr = fz_keep(&f, malloc(n * es ? n * es : 1));
        vt_event *evs = fz_keep(&f, calloc(n ? n : 1, sizeof *evs));
        for (size_t i = 0; i < n; i++) {
            uint8_t k = fz_u8(&f);
            evs[i].kind = k < 240 ? (uint32_t)(k % 9) : fz_u32(&f);
            evs[i].value = (k & 1) ? fz_u16(&f) : (k & 2) ? fz_u64(&f) : (1ull << 40) + (fz_u8(&f) & 1);
            evs[i].t_ns = start + (uint64_t)fz_u16(&f) * 1000000ull;
            if ((k & 0x0C) == 0x0C) evs[i].t_ns = fz_time(&f);
            unsigned char tmp[48];
            memset(tmp, 0xA5, sizeof tmp); /* bytes beyond vt_event: a newer caller's fields */
            memcpy(tmp, &evs[i], sizeof evs[i]);
            memcpy(arr + i * es, tmp, es < sizeof tmp ? es : sizeof tmp);
        }
        size_t done = (size_t)-1;
        int null_done = (r & 0x20) != 0;
        vt_status st = vt_record_batch(a, (r & 0x10) && n ? NULL : (const vt_event *)(void *)arr, n, es, null_done ? NULL : &done);
        check_status("vt_record_batch", st);
        FZ_ASSERT(st == VT_OK || st == VT_E_INVALID_ARG || st == VT_E_LIMIT, "batch returned %d", (int)st);
        if (!null_done && st == VT_OK) FZ_ASSERT(done == n, "VT_OK with n_done %zu of %zu", done, n);
        if ((r & 0x10) && n) { FZ_ASSERT(st == VT_E_INVALID_ARG, "NULL events accepted"); continue; }
        int too_small = n > 0 && es < offsetof(vt_event, t_ns) + sizeof(uint64_t);
        if (too_small) { FZ_ASSERT(st == VT_E_INVALID_ARG, "event_size %zu accepted", es); continue; }
        if (st != VT_OK && !null_done) FZ_ASSERT(done < n, "error with n_done %zu of %zu", done, n);
        size_t applied = st == VT_OK ? n : null_done ? 0 : done;
        if (st != VT_OK && null_done) {
            /* the failing index is unknown: replay until the first single call that fails */
            applied = n;
        }
        /* the twin gets the same events one by one */
        for (size_t i = 0; i < applied; i++) {
            vt_status s1 = single(b, &evs[i]);
            if (i < n && st != VT_OK && !null_done && i == done) break;
            if (s1 != VT_OK) {
                FZ_ASSERT(st != VT_OK, "event %zu (kind %u) fails alone (%d: %s) but the batch succeeded", i, evs[i].kind, (int)s1, vt_last_error());
                if (!null_done) FZ_ASSERT(i == done, "event %zu fails alone, the batch failed at %zu", i, done);
                FZ_ASSERT(s1 == st, "event %zu alone gives %d, the batch %d", i, (int)s1, (int)st);
                applied = i;
                break;
            }
            if (evs[i].t_ns == 0) uses_now = 1;
        }
        if (st != VT_OK && !null_done && done < n) {
            vt_status s1 = single(b, &evs[done]);
            FZ_ASSERT(s1 == st, "the batch failed at %zu with %d, the single call gives %d", done, (int)st, (int)s1);
        }
        for (size_t i = 0; i < applied; i++)
            if (evs[i].kind == VT_EV_AUDIO_OUT) { chunks++; bytes += evs[i].value; }
    }
    size_t la, lb;
    char *ja = text_of(tf_snapshot, &a, &la), *jb = text_of(tf_snapshot, &b, &lb);
    FZ_ASSERT(ja && jb && json_object_valid(ja, la), "snapshots");
    FZ_ASSERT((unsigned long long)json_num(ja, "audio_chunks_out") == chunks, "audio_chunks_out %.0Lf, expected %llu: %s",
              json_num(ja, "audio_chunks_out"), chunks, ja);
    FZ_ASSERT((unsigned long long)json_num(ja, "audio_bytes_out") == bytes, "audio_bytes_out %.0Lf, expected %llu",
              json_num(ja, "audio_bytes_out"), bytes);
    if (!uses_now) {
        char *p = strstr(jb, "twin-B");
        FZ_ASSERT(p, "twin id");
        p[5] = 'A';
        drop_key(ja, "start_unix_ns");
        drop_key(jb, "start_unix_ns");
        drop_key(ja, "trace_id");
        drop_key(jb, "trace_id");
        if (strcmp(ja, jb) != 0) {
            fprintf(stderr, "batch:  %s\nsingle: %s\n", ja, jb);
            FZ_FAIL("the batch and the single calls give different snapshots");
        }
    }
    free(ja);
    free(jb);
    (void)sel;
    FZ_ASSERT(vt_end_session(a) == VT_OK && vt_end_session(b) == VT_OK, "end");
    fz_release(&f);
    return 0;
}
