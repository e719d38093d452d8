/*
 * c_call.c -- one call from C with otlp_sink.so loaded: the C side of tests/otlp/test_bindings.py.
 *
 *   c_call <otlp_sink.so> <endpoint>
 *
 * A session on a scripted clock (start 1 s): user speech 1.0-2.0 s, STT final 2.1 s, LLM 2.1-2.6 s
 * (first token 2.3 s) calling one tool 2.35-2.45 s, TTS first byte 2.5 s, agent speech 2.6-4.0 s.
 * With a header of library 1.1's session fields (VT_MAX_METADATA_BYTES defined) the session joins the
 * caller's trace (traceparent), carries metadata, runs on a media clock and ends at 4.5 s on it.
 * Prints one line: emitted delivered dropped plugin_reported_drops joined (1: those fields were set).
 */
#include <stdio.h>
#include <string.h>

#include "voicetelemetry.h"

#define MS 1000000ull

static int check(vt_status rc, const char *what) {
    if (rc != VT_OK) fprintf(stderr, "%s: %s (%s)\n", what, vt_status_str(rc), vt_last_error());
    return rc != VT_OK;
}

static int play(void) {
    vt_label labels[] = {{"transport", "c"}};
    vt_session_config cfg;
    vt_session s;
    memset(&cfg, 0, sizeof cfg);
    cfg.struct_size = sizeof cfg;
    cfg.session_id = "c-call-1";
    cfg.labels = labels;
    cfg.n_labels = 1;
    cfg.start_t_ns = 1000 * MS;
#ifdef VT_MAX_METADATA_BYTES
    cfg.clock = VT_CLOCK_MEDIA;
    cfg.metadata_json = "{\"agent_version\":\"2.4.1\",\"locale\":\"de-DE\"}";
    cfg.traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
#endif
    if (check(vt_create_session(&cfg, &s), "create")) return 1;
    int bad = 0;
    bad |= check(vt_turn_provider(s, VT_STAGE_LLM, "openai", "gpt-4o-mini", 1000 * MS), "provider");
    bad |= check(vt_record_vad_start(s, 1000 * MS), "vad_start");
    bad |= check(vt_record_vad_end(s, 2000 * MS), "vad_end");
    bad |= check(vt_turn_mark(s, VT_STAGE_STT, VT_MARK_FINAL, 2100 * MS), "stt");
    bad |= check(vt_turn_mark(s, VT_STAGE_LLM, VT_MARK_START, 2100 * MS), "llm start");
    bad |= check(vt_turn_mark(s, VT_STAGE_LLM, VT_MARK_FIRST, 2300 * MS), "llm first");
    bad |= check(vt_turn_tool_call(s, VT_TOOL_FUNCTION, "lookup", 2350 * MS, 2450 * MS, 1), "tool");
    bad |= check(vt_turn_mark(s, VT_STAGE_TTS, VT_MARK_START, 2300 * MS), "tts start");
    bad |= check(vt_turn_mark(s, VT_STAGE_TTS, VT_MARK_FIRST, 2500 * MS), "tts first");
    bad |= check(vt_turn_mark(s, VT_STAGE_LLM, VT_MARK_END, 2600 * MS), "llm end");
    bad |= check(vt_record_audio_out(s, 640, 2600 * MS), "audio");
    bad |= check(vt_turn_mark(s, VT_STAGE_AGENT_SPEECH, VT_MARK_END, 4000 * MS), "agent end");
#ifdef VT_MAX_METADATA_BYTES
    bad |= check(vt_end_session_at(s, 4500 * MS), "end");
#else
    bad |= check(vt_end_session(s), "end");
#endif
    return bad;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: c_call <otlp_sink.so> <endpoint>\n");
        return 2;
    }
    char config[512];
    vt_plugin_id id;
    snprintf(config, sizeof config, "{\"endpoint\":\"%s\",\"metrics_interval_ms\":0}", argv[2]);
    if (check(vt_load_plugin(argv[1], config, &id), "load")) return 1;
    int bad = play();
    bad |= check(vt_flush_events(10000), "flush");
    vt_plugin_statistics st;
    memset(&st, 0, sizeof st);
    st.struct_size = sizeof st;
    bad |= check(vt_plugin_stats(id, &st), "stats");
    bad |= check(vt_unload_plugin(id), "unload");
#ifdef VT_MAX_METADATA_BYTES
    const int joined = 1;
#else
    const int joined = 0;
#endif
    printf("%llu %llu %llu %llu %d\n", (unsigned long long)st.emitted, (unsigned long long)st.delivered,
           (unsigned long long)(st.dropped_queue_full + st.dropped_rate_limited + st.dropped_too_large +
                                st.dropped_plugin + st.dropped_disabled),
           (unsigned long long)st.plugin_reported_drops, joined);
    return bad;
}
