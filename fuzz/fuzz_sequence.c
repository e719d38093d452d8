/*
 * fuzz_sequence -- the input is a sequence of API calls (sessions opened and ended, record calls, turn
 * marks, usage, metrics, events, reads); a model tracks what the library must report, and invariants
 * are checked after each step and at the end of each input:
 *   - every status is documented, failures leave a message, a call on an ended or made-up handle gives
 *     VT_E_BAD_HANDLE;
 *   - each open session's snapshot parses and its counts equal the calls made: audio_chunks_out,
 *     audio_bytes_out, interruptions (vt_record_interruption and VT_STAGE_INTERRUPTION START),
 *     vad_starts, vad_ends, text_sends, usage_reports and the token totals;
 *   - over the whole process (checked every 1024 inputs, and at exit of each check the Prometheus text
 *     must pass the structural check): voicetelemetry_sessions_total equals the sessions created,
 *     voicetelemetry_sessions_active the sessions open, voicetelemetry_audio_out_chunks_total,
 *     voicetelemetry_audio_out_bytes_total and voicetelemetry_interruptions_total the calls made
 *     (ended sessions included); the fuzz counter equals the sum of what was added and never
 *     decreases; the fuzz gauge equals the model;
 *   - with the check_sink plugin loaded, after vt_flush_events: emitted = delivered + every dropped
 *     reason, nothing queued, and at least the events this target emitted were offered.
 */
#include "fuzz_util.h"

#define SLOTS 3

typedef struct model {
    vt_session h;
    int open;
    unsigned long long chunks, bytes, interruptions, vad_starts, vad_ends, text_sends, usage_reports;
    long long tok_total;
} model;

static model m[SLOTS];
static vt_session dead; /* a handle of an ended session */
static unsigned long long created, ended, p_chunks, p_bytes, p_interruptions, emitted_ok;
static double base_sessions, base_chunks, base_bytes, base_interruptions, counter_sum, counter_seen, gauge_value;
static int gauge_set_once;
static vt_plugin_id plugin;
static uint64_t now_t = 1000000000ull;

static double prom_or_zero(const char *t, const char *name) {
    double v = prom_sum(t, name);
    return v < 0 ? 0 : v;
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    fuzz_util_selftest();
    vt_set_event_rate_limit(0);
    if (vt_load_plugin(FUZZ_PLUGIN_DIR "/check_sink.so", "{\"queue_capacity\":64,\"fail_every\":5}", &plugin) != VT_OK)
        FZ_FAIL("load check_sink: %s", vt_last_error());
    if (vt_create_session(NULL, &dead) != VT_OK || vt_end_session(dead) != VT_OK) FZ_FAIL("dead handle");
    size_t len;
    char *t = text_of(tf_prom, NULL, &len);
    base_sessions = prom_or_zero(t, "voicetelemetry_sessions_total");
    base_chunks = prom_or_zero(t, "voicetelemetry_audio_out_chunks_total");
    base_bytes = prom_or_zero(t, "voicetelemetry_audio_out_bytes_total");
    base_interruptions = prom_or_zero(t, "voicetelemetry_interruptions_total");
    free(t);
    return 0;
}

static void expect(const char *json, const char *key, unsigned long long want, int slot) {
    long double got = json_num(json, key);
    if (got != (long double)want) FZ_FAIL("session %d: %s is %.0Lf, the calls made %llu: %s", slot, key, got, want, json);
}

static void check_session(int i) {
    size_t len;
    char *t = text_of(tf_snapshot, &m[i].h, &len);
    FZ_ASSERT(t && json_object_valid(t, len), "snapshot of session %d: %s", i, t ? t : vt_last_error());
    expect(t, "audio_chunks_out", m[i].chunks, i);
    expect(t, "audio_bytes_out", m[i].bytes, i);
    expect(t, "interruptions", m[i].interruptions, i);
    expect(t, "vad_starts", m[i].vad_starts, i);
    expect(t, "vad_ends", m[i].vad_ends, i);
    expect(t, "text_sends", m[i].text_sends, i);
    expect(t, "usage_reports", m[i].usage_reports, i);
    const char *tt = strstr(t, "\"token_totals\":");
    FZ_ASSERT(tt, "no token_totals");
    expect(tt, "total", (unsigned long long)m[i].tok_total, i);
    free(t);
}

static void check_process(void) {
    size_t len;
    char *t = text_of(tf_prom, NULL, &len);
    FZ_ASSERT(t, "prom text");
    char why[512];
    const char *bad = prom_check(t, len, why, sizeof why);
    if (bad) { fputs(t, stderr); FZ_FAIL("Prometheus text: %s", bad); }
    unsigned open = 0;
    for (int i = 0; i < SLOTS; i++) open += m[i].open;
    double v;
    FZ_ASSERT((v = prom_or_zero(t, "voicetelemetry_sessions_total")) == base_sessions + (double)created,
              "sessions_total %g, expected %g", v, base_sessions + (double)created);
    FZ_ASSERT((v = prom_or_zero(t, "voicetelemetry_sessions_active")) == (double)open, "sessions_active %g, %u open", v, open);
    FZ_ASSERT((v = prom_or_zero(t, "voicetelemetry_audio_out_chunks_total")) == base_chunks + (double)p_chunks,
              "audio_out_chunks_total %g, expected %g", v, base_chunks + (double)p_chunks);
    FZ_ASSERT((v = prom_or_zero(t, "voicetelemetry_audio_out_bytes_total")) == base_bytes + (double)p_bytes,
              "audio_out_bytes_total %g, expected %g", v, base_bytes + (double)p_bytes);
    FZ_ASSERT((v = prom_or_zero(t, "voicetelemetry_interruptions_total")) == base_interruptions + (double)p_interruptions,
              "interruptions_total %g, expected %g", v, base_interruptions + (double)p_interruptions);
    v = prom_or_zero(t, "fz_seq_total");
    FZ_ASSERT(v == counter_sum, "fz_seq_total %.17g, the adds sum to %.17g", v, counter_sum);
    FZ_ASSERT(v >= counter_seen, "fz_seq_total went down from %.17g to %.17g", counter_seen, v);
    counter_seen = v;
    if (gauge_set_once) FZ_ASSERT((v = prom_sum(t, "fz_seq_gauge")) == gauge_value, "fz_seq_gauge %.17g, model %.17g", v, gauge_value);
    free(t);

    FZ_ASSERT(vt_flush_events(5000) == VT_OK, "flush: %s", vt_last_error());
    vt_plugin_statistics ps;
    memset(&ps, 0, sizeof ps);
    ps.struct_size = sizeof ps;
    FZ_ASSERT(vt_plugin_stats(plugin, &ps) == VT_OK, "stats: %s", vt_last_error());
    uint64_t dropped = ps.dropped_queue_full + ps.dropped_rate_limited + ps.dropped_too_large + ps.dropped_plugin + ps.dropped_disabled;
    FZ_ASSERT(ps.emitted == ps.delivered + dropped + ps.queued,
              "emitted %llu != delivered %llu + dropped %llu + queued %llu", (unsigned long long)ps.emitted,
              (unsigned long long)ps.delivered, (unsigned long long)dropped, (unsigned long long)ps.queued);
    FZ_ASSERT(ps.queued == 0, "%llu events queued after a flush", (unsigned long long)ps.queued);
    FZ_ASSERT(ps.emitted >= emitted_ok, "emitted %llu < the %llu this target emitted", (unsigned long long)ps.emitted, emitted_ok);
}

static vt_session handle_for(int i, uint8_t b) {
    if ((b & 0x70) == 0x70) return dead;
    return m[i].open ? m[i].h : (m[i].h ? m[i].h : dead);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static unsigned long inputs;
    fz f;
    fz_init(&f, data, size);
    for (int step = 0; step < 48 && f.n > 0; step++) {
        uint8_t op = fz_u8(&f), b = fz_u8(&f);
        int i = b % SLOTS;
        /* time moves forward, sometimes back a little (out-of-order), sometimes "now" (0) */
        uint8_t tb = fz_u8(&f);
        uint64_t t = tb < 200 ? (now_t += (uint64_t)tb * 1000000ull) : tb < 250 ? now_t - (uint64_t)(tb - 199) * 1000000ull : 0;
        vt_session h = handle_for(i, b);
        int live = h == m[i].h && m[i].open;
        vt_status st;
        const char *what;
        switch (op % 20) {
        case 0: case 1: {
            what = "create/end";
            if (!m[i].open) {
                vt_session_config cfg;
                memset(&cfg, 0, sizeof cfg);
                cfg.struct_size = sizeof cfg;
                cfg.start_t_ns = now_t;
                cfg.turn_history = 1 + (b >> 4);
                vt_session nh = 0;
                st = vt_create_session(&cfg, &nh);
                FZ_ASSERT(st == VT_OK, "create: %s", vt_last_error());
                memset(&m[i], 0, sizeof m[i]); /* a new session: its counts start at 0 */
                m[i].h = nh;
                m[i].open = 1;
                created++;
            } else {
                st = vt_end_session(m[i].h);
                FZ_ASSERT(st == VT_OK, "end: %s", vt_last_error());
                m[i].open = 0;
                ended++;
                FZ_ASSERT(vt_end_session(m[i].h) == VT_E_BAD_HANDLE, "ended twice");
            }
            continue;
        }
        case 2: case 3: case 4: {
            size_t bytes = fz_u16(&f);
            what = "vt_record_audio_out";
            st = vt_record_audio_out(h, bytes, t);
            if (st == VT_OK) { m[i].chunks++; m[i].bytes += bytes; p_chunks++; p_bytes += bytes; }
            break;
        }
        case 5: what = "vt_record_vad_start"; st = vt_record_vad_start(h, t); if (st == VT_OK) m[i].vad_starts++; break;
        case 6: what = "vt_record_vad_end"; st = vt_record_vad_end(h, t); if (st == VT_OK) m[i].vad_ends++; break;
        case 7: what = "vt_record_text_send"; st = vt_record_text_send(h, t); if (st == VT_OK) m[i].text_sends++; break;
        case 8: what = "vt_record_text_out"; st = vt_record_text_out(h, t); break;
        case 9:
            what = "vt_record_interruption";
            st = vt_record_interruption(h, t);
            if (st == VT_OK) { m[i].interruptions++; p_interruptions++; }
            break;
        case 10:
            what = "vt_turn_mark(INTERRUPTION, START)";
            st = vt_turn_mark(h, VT_STAGE_INTERRUPTION, VT_MARK_START, t);
            if (st == VT_OK) { m[i].interruptions++; p_interruptions++; }
            break;
        case 11: what = "vt_record_turn_start"; st = vt_record_turn_start(h, t); break;
        case 12: what = "vt_record_turn_complete"; st = vt_record_turn_complete(h, t); break;
        case 13: {
            uint32_t stage = 1 + fz_u8(&f) % 8, mark = 1 + fz_u8(&f) % 8;
            what = "vt_turn_mark";
            st = vt_turn_mark(h, stage, mark, t);
            /* a pair the stage does not have is refused before the handle is looked at: not this
             * target's concern (fuzz_turn checks the pairs) */
            if (st == VT_E_INVALID_ARG) st = live ? VT_OK : VT_E_BAD_HANDLE;
            break;
        }
        case 14: {
            vt_usage u = {sizeof u, -1, -1, -1, -1, -1};
            u.total = (fz_u8(&f) & 1) ? (int64_t)fz_u16(&f) : -1;
            u.prompt = (int64_t)fz_u8(&f) - 64;
            what = "vt_record_usage";
            st = vt_record_usage(h, &u);
            if (st == VT_OK) { m[i].usage_reports++; if (u.total >= 0) m[i].tok_total += u.total; }
            break;
        }
        case 15: {
            double v = (double)(int)(fz_u8(&f) % 64) - 8; /* small integers: sums are exact */
            st = vt_counter_add("fz_seq_total", "sequence counter", NULL, 0, v);
            what = "vt_counter_add";
            FZ_ASSERT(st == VT_OK, "counter_add(%g): %d %s", v, (int)st, vt_last_error());
            if (v > 0) counter_sum += v;
            continue;
        }
        case 16: {
            double v = (double)(int)(fz_u8(&f) % 64) - 32;
            int set = b & 1;
            st = set ? vt_gauge_set("fz_seq_gauge", "sequence gauge", NULL, 0, v) : vt_gauge_add("fz_seq_gauge", "sequence gauge", NULL, 0, v);
            FZ_ASSERT(st == VT_OK, "gauge: %s", vt_last_error());
            gauge_value = set ? v : gauge_value + v;
            gauge_set_once = 1;
            continue;
        }
        case 17: {
            static const char *const payloads[] = {"{}", "{\"text\":\"secret words\"}", "{\"n\":[1,2,{\"agent_transcript\":\"x\"}]}"};
            what = "vt_emit";
            vt_session es = (op & 0x80) ? 0 : h;
            st = vt_emit(es, "fz.seq", payloads[b % 3], (op & 0x40) ? "corr" : NULL, NULL, t);
            if (st == VT_OK) emitted_ok++;
            if (es == 0) { FZ_ASSERT(st == VT_OK, "emit of session 0: %s", vt_last_error()); continue; }
            break;
        }
        case 18: {
            size_t len;
            what = "vt_snapshot_json";
            st = vt_snapshot_json_at(h, t, NULL, 0, &len);
            if (st == VT_E_BUFFER_TOO_SMALL) st = VT_OK;
            break;
        }
        default: {
            what = "vt_turn_value";
            st = vt_turn_value(h, VT_TV_TTS_CHARACTERS, (double)fz_u8(&f), t);
            break;
        }
        }
        check_status(what, st);
        if (live) FZ_ASSERT(st == VT_OK, "%s on an open session: %d (%s)", what, (int)st, vt_last_error());
        else FZ_ASSERT(st == VT_E_BAD_HANDLE, "%s on an ended session: %d", what, (int)st);
    }
    for (int i = 0; i < SLOTS; i++)
        if (m[i].open) check_session(i);
    if (++inputs % 1024 == 0) check_process();
    fz_release(&f);
    return 0;
}
