/*
 * voice_engine.c -- a small C "voice engine" driving libvoicetelemetry (what `make demo` runs).
 *
 * It opens a few calls with labels, plays scripted conversations on a simulated media clock
 * (20 ms audio frames, VAD end -> first agent audio 300-900 ms through STT, end-of-utterance, LLM
 * and TTS, barge-ins, a tool call, token usage), records everything through the C ABI exactly as a
 * real engine's threads would, and sends the events to a sink plugin (the JSON Lines sink). Calls are
 * priced with the EXAMPLE price table examples-c/prices.json (docs/cost.md). Then it prints each
 * call's JSON snapshot, its cost split by stage, the last turn's record with its latency breakdown, a
 * sample of the events the sink wrote, and the process's Prometheus text.
 *
 *   usage: voice_engine [SINK_PLUGIN.so EVENTS.jsonl]
 *
 * Build against an installed copy:
 *   cc voice_engine.c $(pkg-config --cflags --libs voicetelemetry) -o voice_engine
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <voicetelemetry.h>

#define MS 1000000ull           /* nanoseconds per millisecond */
#define FRAME_MS 20ull           /* one audio frame */
#define FRAME_BYTES 640u         /* 20 ms of 16 kHz 16-bit mono */

/* A tiny deterministic PRNG so every run plays the same conversations. */
static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint64_t rnd(uint64_t lo, uint64_t hi) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return lo + rng_state % (hi - lo + 1);
}

/* The number after `"key":` in a JSON text (its first occurrence), or 0. */
static unsigned long long json_u64(const char *json, const char *key) {
    char pattern[64];
    snprintf(pattern, sizeof pattern, "\"%s\":", key);
    const char *at = strstr(json, pattern);
    return at ? strtoull(at + strlen(pattern), NULL, 10) : 0;
}

static void must(vt_status st, const char *what) {
    if (st != VT_OK) {
        fprintf(stderr, "%s failed: %s (%s)\n", what, vt_status_str(st), vt_last_error());
        exit(1);
    }
}

struct call {
    const char *id, *transport, *provider, *model;
    int turns;
    vt_session session;
    uint64_t clock; /* the call's media clock, ns */
};

/* The agent speaks `frames` frames starting at `t`; a barge-in may cut it short. Returns the end. */
static uint64_t agent_speaks(struct call *c, uint64_t t, unsigned frames, int barge_in_at) {
    for (unsigned i = 0; i < frames; i++) {
        if (barge_in_at >= 0 && (int)i == barge_in_at) {
            must(vt_record_interruption(c->session, t), "interruption");
            must(vt_record_vad_start(c->session, t), "vad_start");
            return t;
        }
        must(vt_record_audio_out(c->session, FRAME_BYTES, t), "audio_out");
        t += FRAME_MS * MS;
    }
    return t;
}

/* The cascade after the user stops speaking at `t`: STT final, end of utterance, LLM first token,
 * TTS first byte, each reported as the engine's stage events. Returns when the first audio plays. */
static uint64_t cascade(struct call *c, uint64_t t, int with_tool) {
    vt_session s = c->session;
    uint64_t stt_final = t + rnd(80, 220) * MS;
    must(vt_turn_mark(s, VT_STAGE_STT, VT_MARK_FINAL, stt_final), "stt final");
    must(vt_turn_text(s, VT_TT_USER_TRANSCRIPT, "what's the status of my order?", stt_final), "transcript");
    must(vt_turn_value(s, VT_TV_STT_CONFIDENCE, 0.93, stt_final), "stt confidence");
    must(vt_turn_mark(s, VT_STAGE_EOU, VT_MARK_START, t), "eou start");
    uint64_t eou_end = stt_final + rnd(20, 150) * MS;
    must(vt_turn_mark(s, VT_STAGE_EOU, VT_MARK_END, eou_end), "eou end");
    must(vt_turn_mark(s, VT_STAGE_LLM, VT_MARK_START, eou_end), "llm start");
    uint64_t first_token = eou_end + rnd(120, 350) * MS;
    if (with_tool) { /* the model calls a tool before it answers */
        uint64_t tool_start = eou_end + 40 * MS, tool_end = tool_start + rnd(60, 180) * MS;
        must(vt_turn_tool_call(s, VT_TOOL_FUNCTION, "lookup_order", tool_start, tool_end, 1), "tool call");
        first_token = tool_end + rnd(100, 200) * MS;
    }
    must(vt_turn_mark(s, VT_STAGE_LLM, VT_MARK_FIRST, first_token), "llm first token");
    must(vt_turn_mark(s, VT_STAGE_TTS, VT_MARK_START, first_token + 5 * MS), "tts start");
    uint64_t first_byte = first_token + 5 * MS + rnd(60, 160) * MS;
    must(vt_turn_mark(s, VT_STAGE_TTS, VT_MARK_FIRST, first_byte), "tts first byte");
    must(vt_turn_value(s, VT_TV_TTS_CHARACTERS, (double)rnd(60, 240), first_byte), "tts characters");
    vt_token_usage u;
    memset(&u, 0, sizeof u);
    u.struct_size = sizeof u;
    u.input = (int64_t)rnd(400, 1200);
    u.output = (int64_t)rnd(20, 120);
    u.cached_input = (int64_t)rnd(0, 300);
    u.reasoning = u.input_text = u.input_audio = u.input_image = u.output_text = u.output_audio = -1;
    must(vt_turn_usage(s, VT_STAGE_LLM, &u, first_token), "turn usage");
    return first_byte + rnd(10, 40) * MS; /* jitter buffer and transport to the caller */
}

static void play(struct call *c) {
    uint64_t t = c->clock;
    must(vt_turn_provider(c->session, VT_STAGE_STT, "deepgram", "nova-3", t), "provider");
    must(vt_turn_provider(c->session, VT_STAGE_LLM, c->provider, c->model, t), "provider");
    must(vt_turn_provider(c->session, VT_STAGE_TTS, "cartesia", "sonic-2", t), "provider");
    for (int turn = 0; turn < c->turns; turn++) {
        /* The user speaks for 1-3 s. */
        must(vt_record_vad_start(c->session, t), "vad_start");
        must(vt_turn_mark(c->session, VT_STAGE_STT, VT_MARK_START, t), "stt start");
        uint64_t speech_ms = rnd(1000, 3000);
        t += speech_ms * MS;
        must(vt_turn_value(c->session, VT_TV_STT_AUDIO_SECONDS, (double)speech_ms / 1000.0, t), "stt audio");
        must(vt_record_vad_end(c->session, t), "vad_end");
        must(vt_record_turn_start(c->session, t), "turn_start");
        /* STT, end of utterance, LLM, TTS: the first agent audio comes 300-900 ms later. */
        t = cascade(c, t, turn == 1);
        int barge = (turn % 3 == 2) ? (int)rnd(10, 40) : -1; /* every third answer is interrupted */
        t = agent_speaks(c, t, (unsigned)rnd(50, 150), barge);
        if (barge < 0) must(vt_turn_mark(c->session, VT_STAGE_AGENT_SPEECH, VT_MARK_END, t), "agent speech end");
        vt_usage u = {sizeof u, 0, (int64_t)rnd(400, 1200), (int64_t)rnd(20, 120), (int64_t)rnd(0, 300), -1};
        u.total = u.prompt + u.response;
        must(vt_record_usage_at(c->session, &u, t), "usage");
        must(vt_record_turn_complete(c->session, t), "turn_complete");
        if (barge >= 0) {
            /* The interrupting speech ends; the agent answers again. */
            t += rnd(500, 1500) * MS;
            must(vt_record_vad_end(c->session, t), "vad_end");
            must(vt_record_turn_start(c->session, t), "turn_start");
            t = cascade(c, t, 0);
            t = agent_speaks(c, t, (unsigned)rnd(30, 80), -1);
            must(vt_turn_mark(c->session, VT_STAGE_AGENT_SPEECH, VT_MARK_END, t), "agent speech end");
            must(vt_record_turn_complete(c->session, t), "turn_complete");
        }
        /* The engine's own metric: TTS time to first byte, as its TTS client reports it. */
        vt_label l[] = {{"provider", c->provider}};
        must(vt_observe("voice_engine_tts_first_byte_seconds", "TTS time to first byte seen by the engine.", l, 1,
                        (double)rnd(80, 400) / 1000.0),
             "observe");
        t += rnd(500, 2000) * MS; /* silence */
    }
    /* A text message in the chat side panel. */
    must(vt_record_text_send(c->session, t), "text_send");
    must(vt_record_text_out(c->session, t + rnd(150, 400) * MS), "text_out");
    c->clock = t + 1000 * MS;
}

/* Print the first line of `path` whose event_type is `type` (at most `width` characters). */
static void print_event(const char *path, const char *type, int width) {
    FILE *f = fopen(path, "r");
    if (!f) return;
    static char line[1 << 16];
    char needle[96];
    snprintf(needle, sizeof needle, "\"event_type\":\"%s\"", type);
    while (fgets(line, sizeof line, f)) {
        if (strstr(line, needle)) {
            size_t n = strlen(line);
            if (n > (size_t)width) printf("%.*s ... (%zu bytes)\n", width, line, n);
            else fputs(line, stdout);
            break;
        }
    }
    fclose(f);
}

/* The price table for the calls' costs (EXAMPLE prices: examples-c/prices.json, or $VOICE_ENGINE_PRICES). */
static void load_prices(void) {
    const char *path = getenv("VOICE_ENGINE_PRICES") ? getenv("VOICE_ENGINE_PRICES") : "examples-c/prices.json";
    static char text[65536];
    FILE *f = fopen(path, "rb");
    size_t n = f ? fread(text, 1, sizeof text - 1, f) : 0;
    if (f) fclose(f);
    text[n] = 0;
    if (n == 0) {
        printf("(no price table at %s: the calls are not priced)\n", path);
        return;
    }
    must(vt_set_prices(text), "set_prices");
}

/* A call's cost from its snapshot's "cost" object: the total and its split by stage (micro-units). */
static void print_cost(const char *id, const char *snapshot) {
    static const char *const parts[] = {"stt", "llm", "tts", "realtime", "transport"};
    const char *cost = strstr(snapshot, "\"cost\":{");
    if (!cost) return;
    char key[32];
    printf("%-16s total %.6f USD =", id, (double)json_u64(cost, "total_micros") / 1e6);
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        snprintf(key, sizeof key, "%s_micros", parts[i]);
        printf(" %s%s %.6f", i ? "+ " : "", parts[i], (double)json_u64(cost, key) / 1e6);
    }
    printf("\n");
}

static size_t count_lines(const char *path) {
    FILE *f = fopen(path, "r");
    size_t n = 0;
    int ch;
    if (!f) return 0;
    while ((ch = fgetc(f)) != EOF) n += ch == '\n';
    fclose(f);
    return n;
}

int main(int argc, char **argv) {
    if (vt_version_number() / 1000000 != VT_VERSION_MAJOR) {
        fprintf(stderr, "libvoicetelemetry %s does not match this program's header\n", vt_version_string());
        return 1;
    }
    /* Label the built-in latency histogram by provider as well as transport. */
    const char *keys[] = {"transport", "provider"};
    must(vt_register_labels("voicetelemetry_response_latency_seconds", keys, 2), "register_labels");
    load_prices();

    /* Events (session start/end, interruptions, usage, completed turns) go to a sink plugin. */
    vt_plugin_id sink = 0;
    const char *events_path = argc > 2 ? argv[2] : NULL;
    if (argc > 2) {
        char config[1024];
        remove(events_path);
        snprintf(config, sizeof config, "{\"path\":\"%s\"}", events_path);
        must(vt_load_plugin(argv[1], config, &sink), "load_plugin");
    }

    struct call calls[] = {
        {"call-sip-001", "sip", "deepgram+openai", "gpt-4o-mini", 6, 0, 0},
        {"call-webrtc-002", "webrtc", "deepgram+openai", "gpt-4o-mini", 4, 0, 0},
        {"call-webrtc-003", "webrtc", "gemini-live", "gemini-2.0-flash", 5, 0, 0},
    };
    size_t n = sizeof calls / sizeof calls[0];
    uint64_t start = 1000 * MS;
    for (size_t i = 0; i < n; i++) {
        vt_label labels[] = {{"transport", calls[i].transport}, {"provider", calls[i].provider},
                             {"model", calls[i].model}};
        vt_session_config cfg;
        memset(&cfg, 0, sizeof cfg);
        cfg.struct_size = sizeof cfg;
        cfg.session_id = calls[i].id;
        cfg.labels = labels;
        cfg.n_labels = 3;
        cfg.start_t_ns = start;
        cfg.clock = VT_CLOCK_MEDIA;   /* every t below is on this call's media clock */
        must(vt_create_session(&cfg, &calls[i].session), "create_session");
        calls[i].clock = start + 500 * MS;
        must(vt_counter_add("voice_engine_calls_total", "Calls answered by the engine.", labels, 1, 1), "counter_add");
        play(&calls[i]);
    }

    size_t len = 0, cap = 1 << 16;
    char *buf = malloc(cap);
    printf("libvoicetelemetry %s: %zu calls played on a simulated media clock\n\n", vt_version_string(), n);
    for (size_t i = 0; i < n; i++) {
        vt_status st = vt_snapshot_json_at(calls[i].session, calls[i].clock, buf, cap, &len);
        must(st, "snapshot");
        printf("== snapshot of %s (%zu bytes of JSON)\n%s\n\n", calls[i].id, len, buf);
    }
    printf("== cost of each call (EXAMPLE prices from examples-c/prices.json; rounded to the micro-dollar)\n");
    for (size_t i = 0; i < n; i++) {
        must(vt_snapshot_json_at(calls[i].session, calls[i].clock, buf, cap, &len), "snapshot");
        print_cost(calls[i].id, buf);
    }
    printf("\n");
    must(vt_turn_last_json(calls[0].session, buf, cap, &len), "turn_last_json");
    printf("== the last turn of %s: stage timings and an end-to-end latency that adds up\n%s\n\n", calls[0].id, buf);
    /* The first call hangs up; its counters stay in the process totals. */
    must(vt_end_session_at(calls[0].session, calls[0].clock), "end_session");

    vt_status st = vt_prom_text(buf, cap, &len);
    if (st == VT_E_BUFFER_TOO_SMALL) { /* the buffer contract: grow to len + 1 and ask again */
        cap = len + 1;
        buf = realloc(buf, cap);
        st = vt_prom_text(buf, cap, &len);
    }
    must(st, "prom_text");
    printf("== Prometheus text exposition (%zu bytes), what /metrics serves\n%s", len, buf);
    for (size_t i = 1; i < n; i++) must(vt_end_session_at(calls[i].session, calls[i].clock), "end_session");
    if (sink) {
        must(vt_flush_events(5000), "flush_events");
        vt_plugin_statistics st;
        memset(&st, 0, sizeof st);
        st.struct_size = sizeof st;
        must(vt_plugin_stats(sink, &st), "plugin_stats");
        printf("\n== events: the sink plugin '%s' got %llu of %llu events (%llu dropped); %zu lines in %s\n",
               argv[1], (unsigned long long)st.delivered, (unsigned long long)st.emitted,
               (unsigned long long)(st.emitted - st.delivered - st.queued), count_lines(events_path), events_path);
        print_event(events_path, "session.start", 400);
        print_event(events_path, "interruption", 400);
        print_event(events_path, "turn.complete", 400);
        must(vt_unload_plugin(sink), "unload_plugin");
    }
    free(buf);
    return 0;
}
