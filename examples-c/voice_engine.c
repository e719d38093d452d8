/*
 * voice_engine.c -- a small C "voice engine" driving libvoicetelemetry (what `make demo` runs).
 *
 * It opens a few calls with labels, plays scripted conversations on a simulated media clock
 * (20 ms audio frames, VAD end -> first agent audio 300-900 ms, barge-ins, token usage), records
 * everything through the C ABI exactly as a real engine's audio thread would, then prints each
 * call's JSON snapshot and the process's Prometheus text.
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

static void play(struct call *c) {
    uint64_t t = c->clock;
    for (int turn = 0; turn < c->turns; turn++) {
        /* The user speaks for 1-3 s. */
        must(vt_record_vad_start(c->session, t), "vad_start");
        t += rnd(1000, 3000) * MS;
        must(vt_record_vad_end(c->session, t), "vad_end");
        must(vt_record_turn_start(c->session, t), "turn_start");
        /* STT + LLM + TTS: the first agent audio comes 300-900 ms later. */
        t += rnd(300, 900) * MS;
        int barge = (turn % 3 == 2) ? (int)rnd(10, 40) : -1; /* every third answer is interrupted */
        t = agent_speaks(c, t, (unsigned)rnd(50, 150), barge);
        vt_usage u = {sizeof u, 0, (int64_t)rnd(400, 1200), (int64_t)rnd(20, 120), (int64_t)rnd(0, 300), -1};
        u.total = u.prompt + u.response;
        must(vt_record_usage(c->session, &u), "usage");
        must(vt_record_turn_complete(c->session, t), "turn_complete");
        if (barge >= 0) {
            /* The interrupting speech ends; the agent answers again. */
            t += rnd(500, 1500) * MS;
            must(vt_record_vad_end(c->session, t), "vad_end");
            must(vt_record_turn_start(c->session, t), "turn_start");
            t += rnd(300, 900) * MS;
            t = agent_speaks(c, t, (unsigned)rnd(30, 80), -1);
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

int main(void) {
    if (vt_version_number() / 1000000 != VT_VERSION_MAJOR) {
        fprintf(stderr, "libvoicetelemetry %s does not match this program's header\n", vt_version_string());
        return 1;
    }
    /* Label the built-in latency histogram by provider as well as transport. */
    const char *keys[] = {"transport", "provider"};
    must(vt_register_labels("voicetelemetry_response_latency_seconds", keys, 2), "register_labels");

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
    /* The first call hangs up; its counters stay in the process totals. */
    must(vt_end_session(calls[0].session), "end_session");

    vt_status st = vt_prom_text(buf, cap, &len);
    if (st == VT_E_BUFFER_TOO_SMALL) { /* the buffer contract: grow to len + 1 and ask again */
        cap = len + 1;
        buf = realloc(buf, cap);
        st = vt_prom_text(buf, cap, &len);
    }
    must(st, "prom_text");
    printf("== Prometheus text exposition (%zu bytes), what /metrics serves\n%s", len, buf);
    for (size_t i = 1; i < n; i++) must(vt_end_session(calls[i].session), "end_session");
    free(buf);
    return 0;
}
