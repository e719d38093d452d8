/*
 * voice_engine.c -- a small C "voice engine" driving libvoicetelemetry (what `make demo` runs).
 *
 * It opens a few calls with labels, plays scripted conversations on a simulated media clock
 * (20 ms audio frames, VAD end -> first agent audio 300-900 ms through STT, end-of-utterance, LLM
 * and TTS, barge-ins, a tool call, token usage), records everything through the C ABI exactly as a
 * real engine's threads would, and sends the events to a sink plugin (the JSON Lines sink). Calls are
 * priced with the EXAMPLE price table examples-c/prices.json (docs/cost.md). It prints one screen:
 * per call its turns (outcome, end-to-end latency, its breakdown and a text waterfall), per-stage
 * p50/p95, tokens and cost, then what the sink got; the snapshots, turn records and Prometheus text
 * go in full to files under $VOICE_ENGINE_OUT (default build/demo).
 *
 *   usage: voice_engine [SINK_PLUGIN.so EVENTS.jsonl]
 *          voice_engine --serve HTTP_EXPORTER.so [LISTEN]   (what `make serve` runs)
 *
 * The serve mode loads the HTTP endpoint plugin (docs/http.md) on LISTEN (default 127.0.0.1:9464),
 * prints the dashboard's address and keeps three calls going in real time, each a few turns long
 * and then replaced by a new one, until Ctrl-C.
 *
 * Build against an installed copy:
 *   cc voice_engine.c $(pkg-config --cflags --libs voicetelemetry) -o voice_engine
 */
#define _POSIX_C_SOURCE 200809L   /* mkdir */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

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
    uint64_t barge_start;  /* when the user last started talking over the agent */
    int64_t tokens_in, tokens_out, tokens_cached; /* the LLM's usage since the last session-level report */
};

/* The agent speaks `frames` frames starting at `t`; a barge-in may cut it short. Returns the end. */
static uint64_t agent_speaks(struct call *c, uint64_t t, unsigned frames, int barge_in_at) {
    for (unsigned i = 0; i < frames; i++) {
        if (barge_in_at >= 0 && (int)i == barge_in_at) {
            /* the user starts talking over the agent; the engine hears it and cuts the agent off */
            must(vt_record_vad_start(c->session, t), "vad_start");
            must(vt_turn_mark(c->session, VT_STAGE_STT, VT_MARK_START, t), "stt start");
            c->barge_start = t;
            uint64_t cut = t + rnd(120, 320) * MS;
            must(vt_record_interruption(c->session, cut), "interruption");
            must(vt_turn_mark(c->session, VT_STAGE_AGENT_SPEECH, VT_MARK_END, cut), "agent speech end");
            return cut;
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
    /* The engine's own metric: its TTS client's time to first byte (the same interval). */
    vt_label l[] = {{"provider", "cartesia"}};
    must(vt_observe("voice_engine_tts_first_byte_seconds", "TTS time to first byte seen by the engine.", l, 1,
                    (double)(first_byte - first_token - 5 * MS) / 1e9),
         "observe");
    must(vt_turn_value(s, VT_TV_TTS_CHARACTERS, (double)rnd(60, 240), first_byte), "tts characters");
    vt_token_usage u;
    memset(&u, 0, sizeof u);
    u.struct_size = sizeof u;
    u.input = (int64_t)rnd(400, 1200);
    u.output = (int64_t)rnd(20, 120);
    u.cached_input = (int64_t)rnd(0, 300);
    u.reasoning = u.input_text = u.input_audio = u.input_image = u.output_text = u.output_audio = -1;
    must(vt_turn_usage(s, VT_STAGE_LLM, &u, first_token), "turn usage");
    c->tokens_in += u.input;
    c->tokens_out += u.output;
    c->tokens_cached += u.cached_input;
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
        must(vt_record_turn_complete(c->session, t), "turn_complete");
        if (barge >= 0) {
            /* The interrupting speech ends; the agent answers again. */
            uint64_t speech_ms = (t - c->barge_start) / MS + rnd(500, 1500);
            t = c->barge_start + speech_ms * MS;
            must(vt_turn_value(c->session, VT_TV_STT_AUDIO_SECONDS, (double)speech_ms / 1000.0, t), "stt audio");
            must(vt_record_vad_end(c->session, t), "vad_end");
            must(vt_record_turn_start(c->session, t), "turn_start");
            t = cascade(c, t, 0);
            t = agent_speaks(c, t, (unsigned)rnd(30, 80), -1);
            must(vt_turn_mark(c->session, VT_STAGE_AGENT_SPEECH, VT_MARK_END, t), "agent speech end");
            must(vt_record_turn_complete(c->session, t), "turn_complete");
        }
        /* The session-level usage report (the model's running totals), the same tokens as the turns'. */
        vt_usage u = {sizeof u, c->tokens_in + c->tokens_out, c->tokens_in, c->tokens_out, c->tokens_cached, -1};
        must(vt_record_usage_at(c->session, &u, t), "usage");
        c->tokens_in = c->tokens_out = c->tokens_cached = 0;
        t += rnd(500, 2000) * MS; /* silence */
    }
    /* A text message in the chat side panel. */
    must(vt_record_text_send(c->session, t), "text_send");
    must(vt_record_text_out(c->session, t + rnd(150, 400) * MS), "text_out");
    c->clock = t + 1000 * MS;
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

/* One text output into a buffer that grows as the BUFFERS contract says (len + 1, then ask again). */
typedef vt_status (*text_fn)(vt_session s, char *buf, size_t cap, size_t *len);
static char *text_of(text_fn fn, vt_session s, size_t *len) {
    size_t cap = 1 << 16;
    char *buf = malloc(cap);
    vt_status st;
    while ((st = fn(s, buf, cap, len)) == VT_E_BUFFER_TOO_SMALL) {
        cap = *len + 1;
        buf = realloc(buf, cap);
    }
    must(st, "text output");
    return buf;
}
static uint64_t snapshot_at_ns;
static vt_status snapshot_at(vt_session s, char *b, size_t cap, size_t *len) { return vt_snapshot_json_at(s, snapshot_at_ns, b, cap, len); }
static vt_status history_all(vt_session s, char *b, size_t cap, size_t *len) { return vt_turn_history_json(s, 0, b, cap, len); }
static vt_status prom(vt_session s, char *b, size_t cap, size_t *len) { (void)s; return vt_prom_text(b, cap, len); }

static void write_file(const char *dir, const char *name, const char *text) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f || fputs(text, f) < 0 || fclose(f) != 0) {
        fprintf(stderr, "cannot write %s\n", path);
        exit(1);
    }
}

/* `key`'s value in a JSON text as ms, or -1 when it is null or absent. */
static double json_ms(const char *json, const char *key) {
    char pattern[64];
    snprintf(pattern, sizeof pattern, "\"%s\":", key);
    const char *at = json ? strstr(json, pattern) : NULL;
    if (!at || strncmp(at + strlen(pattern), "null", 4) == 0) return -1;
    return (double)strtoull(at + strlen(pattern), NULL, 10) / 1e6;
}

/* One turn record as a row: outcome, e2e, its breakdown and a waterfall of it, 1 character per 25 ms. */
static void turn_row(const char *record) {
    static const char *const parts[] = {"stt_ns", "eou_ns", "llm_ttft_ns", "tts_ttfb_ns", "realtime_ns", "remainder_ns"};
    static const char marks[] = "SELTR.";
    const char *outcome = strstr(record, "\"outcome\":\"");
    double e2e = json_ms(record, "e2e_latency_ns");
    printf("  %4llu  %-11.*s", json_u64(record, "turn_id"), outcome ? (int)strcspn(outcome + 11, "\"") : 1,
           outcome ? outcome + 11 : "?");
    if (e2e < 0) {
        printf(" %5s   (no end-to-end latency: the agent never answered this turn)\n", "-");
        return;
    }
    const char *b = strstr(record, "\"e2e_breakdown_ns\":{");
    char bar[128] = "";
    size_t n = 0;
    printf(" %5.0f ", e2e);
    for (size_t i = 0; i < 6; i++) {
        double ms = json_ms(b, parts[i]);
        if (i != 4) printf(" %4.0f", ms);
        for (int k = 0; k < (int)(ms / 25 + 0.5) && n < sizeof bar - 1; k++) bar[n++] = marks[i];
    }
    bar[n] = 0;
    printf("  %s\n", bar);
}

/* A call on one screen: its turns, per-stage p50/p95, barge-ins, tokens and cost. */
static void report_call(const char *id, const char *snapshot, const char *history) {
    static const char *const stages[][2] = {{"STT", "stt_latency_ns"}, {"EOU", "eou_delay_ns"},
                                            {"LLM TTFT", "llm_ttft_ns"}, {"TTS TTFB", "tts_ttfb_ns"},
                                            {"e2e", "e2e_latency_ns"}, {"barge-in", "barge_in_latency_ns"}};
    const char *turns = strstr(snapshot, "\"turns\":{");
    static const char *const parts[] = {"stt", "llm", "tts", "realtime", "transport"};
    const char *cost = strstr(snapshot, "\"cost\":{");
    printf("%s: %llu turns (%llu completed, %llu interrupted), %llu tokens in / %llu out\n", id,
           json_u64(turns, "completed") + json_u64(turns, "interrupted"), json_u64(turns, "completed"),
           json_u64(turns, "interrupted"), json_u64(strstr(snapshot, "\"token_totals\":{"), "prompt"),
           json_u64(strstr(snapshot, "\"token_totals\":{"), "response"));
    printf("  cost %.6f USD =", (double)json_u64(cost, "total_micros") / 1e6);
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        char key[32];
        snprintf(key, sizeof key, "%s_micros", parts[i]);
        printf(" %s%s %.6f", i ? "+ " : "", parts[i], (double)json_u64(cost, key) / 1e6);
    }
    printf("  (EXAMPLE prices)\n");
    printf("  turn  outcome       e2e   STT  EOU  LLM  TTS rest  (ms; S=STT E=EOU L=LLM T=TTS .=rest, 25 ms each)\n");
    for (const char *r = strstr(history, "{\"schema_version\""); r; r = strstr(r + 1, "{\"schema_version\"")) turn_row(r);
    printf("  p50/p95 ms:");
    const char *st = strstr(turns, "\"stages\":{");
    for (size_t i = 0; i < 6; i++) {
        char key[64];
        snprintf(key, sizeof key, "\"%s\":{", stages[i][1]);
        const char *at = strstr(st, key);
        double p50 = json_ms(at, "p50"), p95 = json_ms(at, "p95");
        if (p50 < 0) printf("  %s -", stages[i][0]);
        else printf("  %s %.0f/%.0f", stages[i][0], p50, p95);
    }
    printf("\n\n");
}

static size_t count_lines(const char *path, const char *needle) {
    FILE *f = fopen(path, "r");
    static char line[1 << 16];
    size_t n = 0;
    if (!f) return 0;
    while (fgets(line, sizeof line, f)) n += !needle || strstr(line, needle) != NULL;
    fclose(f);
    return n;
}

/* What the sink plugin got: counts by event type, from its file. */
static void report_sink(vt_plugin_id sink, const char *plugin, const char *events_path) {
    static const char *const types[] = {"session.start", "turn.complete", "interruption", "usage", "session.end"};
    must(vt_flush_events(5000), "flush_events");
    vt_plugin_statistics st;
    memset(&st, 0, sizeof st);
    st.struct_size = sizeof st;
    must(vt_plugin_stats(sink, &st), "plugin_stats");
    printf("== events: the sink plugin '%s' got %llu of %llu events (%llu dropped); %zu lines in %s\n  by type:",
           plugin, (unsigned long long)st.delivered, (unsigned long long)st.emitted,
           (unsigned long long)(st.emitted - st.delivered - st.queued), count_lines(events_path, NULL), events_path);
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        char needle[64];
        snprintf(needle, sizeof needle, "\"event_type\":\"%s\"", types[i]);
        printf(" %s %zu", types[i], count_lines(events_path, needle));
    }
    printf("\n");
}

/* ---- serve mode: the calls go on in real time behind the HTTP endpoint ----------------------- */

static volatile sig_atomic_t serving = 1;
static void stop_serving(int sig) { (void)sig; serving = 0; }

/* A new call in slot i (ids and transports vary; each lasts 4-9 turns). */
static void open_call(struct call *c, unsigned n) {
    static const char *transports[] = {"sip", "webrtc", "webrtc"};
    static char ids[3][32];
    snprintf(ids[n % 3], sizeof ids[0], "call-%s-%03u", transports[n % 3], n + 1);
    memset(c, 0, sizeof *c);
    c->id = ids[n % 3];
    c->transport = transports[n % 3];
    c->provider = n % 3 == 2 ? "gemini-live" : "deepgram+openai";
    c->model = n % 3 == 2 ? "gemini-2.0-flash" : "gpt-4o-mini";
    c->turns = (int)rnd(4, 9);
    vt_label labels[] = {{"transport", c->transport}, {"provider", c->provider}, {"model", c->model}};
    vt_session_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.struct_size = sizeof cfg;
    cfg.session_id = c->id;
    cfg.labels = labels;
    cfg.n_labels = 3;
    cfg.text_policy = n % 2 ? VT_TEXT_INCLUDE : VT_TEXT_REDACT; /* transcripts shown for every other call */
    cfg.start_t_ns = 1000 * MS;
    cfg.clock = VT_CLOCK_MEDIA;
    must(vt_create_session(&cfg, &c->session), "create_session");
    must(vt_counter_add("voice_engine_calls_total", "Calls answered by the engine.", labels, 1, 1), "counter_add");
    c->clock = cfg.start_t_ns + rnd(200, 3000) * MS;
}

/* Play the call whose next turn is due (its media clock has caught up with it), one turn at a time. */
static void serve_step(struct call *calls, unsigned *opened) {
    for (int i = 0; i < 3; i++) {
        struct call *c = &calls[i];
        uint64_t now;
        must(vt_session_now_ns(c->session, &now), "session_now");
        if (now < c->clock) continue;
        if (c->turns == 0) {
            must(vt_end_session_at(c->session, c->clock), "end_session");
            open_call(c, (*opened)++);
            continue;
        }
        int left = c->turns;
        c->turns = 1;  /* play() plays c->turns turns and a text exchange, then moves c->clock on */
        play(c);
        c->turns = left - 1;
    }
}

static int serve(const char *plugin, const char *listen) {
    const char *out_dir = getenv("VOICE_ENGINE_OUT") ? getenv("VOICE_ENGINE_OUT") : "build/demo";
    char port_file[512], config[1024];
    snprintf(port_file, sizeof port_file, "%s/http.port", out_dir);
    if (mkdir(out_dir, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "cannot create %s\n", out_dir);
        return 1;
    }
    snprintf(config, sizeof config, "{\"listen\":\"%s\",\"port_file\":\"%s\"}", listen, port_file);
    vt_plugin_id http;
    must(vt_load_plugin(plugin, config, &http), "load_plugin");
    FILE *f = fopen(port_file, "r");
    int port = 0;
    if (!f || fscanf(f, "%d", &port) != 1) port = 0;
    if (f) fclose(f);
    printf("serving: open http://%.*s:%d/ (the dashboard; /metrics, /api/v1/sessions, /api/v1/events). Ctrl-C stops.\n",
           (int)(strrchr(listen, ':') - listen), listen, port);
    fflush(stdout);
    signal(SIGINT, stop_serving);
    signal(SIGTERM, stop_serving);
    struct call calls[3];
    unsigned opened = 0;
    for (int i = 0; i < 3; i++) open_call(&calls[i], opened++);
    while (serving) {
        serve_step(calls, &opened);
        struct timespec tick = {0, 50 * 1000 * 1000};
        nanosleep(&tick, NULL);
    }
    for (int i = 0; i < 3; i++) vt_end_session(calls[i].session);
    must(vt_unload_plugin(http), "unload_plugin");
    printf("\nstopped after %u calls\n", opened);
    return 0;
}

int main(int argc, char **argv) {
    if (vt_version_number() / 1000000 != VT_VERSION_MAJOR) {
        fprintf(stderr, "libvoicetelemetry %s does not match this program's header\n", vt_version_string());
        return 1;
    }
    if (argc > 2 && strcmp(argv[1], "--serve") == 0) {
        const char *keys[] = {"transport", "provider"};
        must(vt_register_labels("voicetelemetry_response_latency_seconds", keys, 2), "register_labels");
        return serve(argv[2], argc > 3 ? argv[3] : "127.0.0.1:9464");
    }
    /* The full outputs go to files here (the events file may be here too). */
    const char *out_dir = getenv("VOICE_ENGINE_OUT") ? getenv("VOICE_ENGINE_OUT") : "build/demo";
    if (mkdir(out_dir, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "cannot create %s\n", out_dir);
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
        {"call-sip-001", "sip", "deepgram+openai", "gpt-4o-mini", 6, 0, 0, 0, 0, 0, 0},
        {"call-webrtc-002", "webrtc", "deepgram+openai", "gpt-4o-mini", 4, 0, 0, 0, 0, 0, 0},
        {"call-webrtc-003", "webrtc", "gemini-live", "gemini-2.0-flash", 5, 0, 0, 0, 0, 0, 0},
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

    printf("libvoicetelemetry %s: %zu calls played on a simulated media clock; everything in full under %s/\n\n",
           vt_version_string(), n, out_dir);
    printf("== each call's turns: the end-to-end latency (user stops speaking -> first agent audio) and where it went\n");
    for (size_t i = 0; i < n; i++) {
        size_t len;
        char name[128];
        snapshot_at_ns = calls[i].clock;   /* as of the call's last moment on its media clock */
        char *snapshot = text_of(snapshot_at, calls[i].session, &len);
        char *history = text_of(history_all, calls[i].session, &len);
        report_call(calls[i].id, snapshot, history);
        snprintf(name, sizeof name, "%s.snapshot.json", calls[i].id);
        write_file(out_dir, name, snapshot);
        snprintf(name, sizeof name, "%s.turns.json", calls[i].id);
        write_file(out_dir, name, history);
        free(snapshot);
        free(history);
        must(vt_end_session_at(calls[i].session, calls[i].clock), "end_session");
    }
    printf("A stage's part of the critical path can be shorter than the stage itself: where stages overlap\n"
           "(EOU runs while STT finishes, TTS starts on the first tokens) each moment is counted once.\n\n");
    size_t len;
    char *text = text_of(prom, 0, &len);
    write_file(out_dir, "metrics.prom", text);
    free(text);
    if (sink) {
        report_sink(sink, argv[1], events_path);
        must(vt_unload_plugin(sink), "unload_plugin");
    }
    printf("\nin full: %s/<call>.snapshot.json, %s/<call>.turns.json, %s/metrics.prom (what /metrics serves)%s%s\n",
           out_dir, out_dir, out_dir, events_path ? ", " : "", events_path ? events_path : "");
    return 0;
}
