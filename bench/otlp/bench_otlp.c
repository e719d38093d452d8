/*
 * bench_otlp.c -- spans per second otlp_sink.so parses, encodes and sends to a loopback receiver that
 * discards them. The plugin is driven through its table by this minimal host (batches of 256 event
 * lines rendered beforehand, as the library's plugin thread hands them; RETRY answered with a 1 ms
 * pause), from the first write until flush() returns with every request answered.
 *
 *   bench_otlp <otlp_sink.so> <port> <protocol: protobuf|protobuf-gzip|json> <turns> <stats-file>
 *
 * Each session: session.start, 10 turn.complete records (10 spans each: turn, user speech, STT, EOU,
 * LLM + first token, TTS + first byte, agent speech, one tool call), session.end: 101 spans.
 * Prints: protocol spans seconds spans/s requests-bytes.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "voicetelemetry_plugin.h"

#define TURNS_PER_SESSION 10
#define BATCH 256

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void h_log(void *c, int32_t level, const char *m) {
    (void)c;
    if (level <= VT_LOG_WARN) fprintf(stderr, "otlp_sink: %s\n", m);
}
static uint64_t h_now(void *c) { (void)c; return now_ns(); }
static void h_drop(void *c, uint64_t n) { (void)c; fprintf(stderr, "otlp_sink lost %llu events\n", (unsigned long long)n); }

static const char TURN[] =
    "{\"type_id\":\"core::telemetry/event@1\",\"session_id\":\"bench-%d\",\"event_type\":\"turn.complete\","
    "\"correlation_id\":null,\"turn_id\":\"%d\",\"timestamp_us\":%llu,\"data\":{\"schema_version\":1,"
    "\"session_id\":\"bench-%d\",\"turn_id\":%d,\"outcome\":\"completed\",\"completed_by\":\"agent_speech_end\","
    "\"start_ns\":%llu,\"end_ns\":%llu,\"anchor\":\"user_speech_end\",\"anchor_ns\":%llu,\"e2e_latency_ns\":536000000,"
    "\"e2e_breakdown_ns\":{\"stt_ns\":98000000,\"eou_ns\":144000000,\"llm_ttft_ns\":165000000,\"tts_ttfb_ns\":111000000,"
    "\"realtime_ns\":0,\"remainder_ns\":18000000},\"quality_flags\":0,\"quality\":[],\"user_speech\":{\"start_ns\":%llu,"
    "\"end_ns\":%llu,\"duration_ns\":2116000000,\"start_carried_over\":false,\"from_interrupting_speech\":false},"
    "\"stt\":{\"provider\":\"deepgram\",\"model\":\"nova-3\",\"start_ns\":%llu,\"first_interim_ns\":null,\"interim_count\":0,"
    "\"preflight_ns\":null,\"final_ns\":%llu,\"latency_ns\":98000000,\"duration_ns\":2214000000,\"confidence\":0.93,"
    "\"audio_duration_ns\":null},\"eou\":{\"provider\":null,\"model\":null,\"start_ns\":%llu,\"end_ns\":%llu,"
    "\"delay_ns\":242000000,\"probability\":null,\"wait_for_speech_ns\":null},\"llm\":{\"provider\":\"openai\","
    "\"model\":\"gpt-4o-mini\",\"start_ns\":%llu,\"first_token_ns\":%llu,\"end_ns\":%llu,\"ttft_ns\":165000000,"
    "\"duration_ns\":900000000},\"tts\":{\"provider\":\"cartesia\",\"model\":\"sonic-2\",\"start_ns\":%llu,"
    "\"first_byte_ns\":%llu,\"end_ns\":%llu,\"ttfb_ns\":106000000,\"duration_ns\":1000000000},\"realtime\":{\"provider\":null,"
    "\"model\":null,\"start_ns\":null,\"first_audio_ns\":null,\"end_ns\":null,\"ttfa_ns\":null,\"duration_ns\":null},"
    "\"agent_speech\":{\"start_ns\":%llu,\"end_ns\":%llu,\"duration_ns\":2500000000},\"knowledge_base\":{\"start_ns\":null,"
    "\"end_ns\":null,\"duration_ns\":null},\"interruption\":{\"interrupted\":false,\"barge_in_ns\":null,"
    "\"overlap_start_ns\":null,\"barge_in_latency_ns\":null,\"false_interruption\":null},\"playback\":{"
    "\"tts_characters_generated\":120,\"tts_characters_played\":null,\"audio_bytes_generated\":null,"
    "\"audio_bytes_sent\":80000},\"tokens\":{\"input\":952,\"output\":75,\"cached_input\":182,\"reasoning\":null,"
    "\"input_text\":null,\"input_audio\":null,\"input_image\":null,\"output_text\":null,\"output_audio\":null},"
    "\"tool_calls\":[{\"name\":\"get_weather\",\"kind\":\"function\",\"ok\":true,\"start_ns\":%llu,\"end_ns\":%llu,"
    "\"duration_ns\":100000000}],\"tool_calls_total\":1,\"fallbacks\":[],\"fallbacks_total\":0,\"errors\":{},"
    "\"texts\":{\"user_transcript\":{\"chars\":30,\"redacted\":true,\"truncated\":false},\"stt_preflight\":null,"
    "\"agent_response\":null}}}\n";

/* Appends event number i (session i / 12, position i % 12) to b. */
static size_t event_line(char *b, size_t cap, int i) {
    int sess = i / (TURNS_PER_SESSION + 2), k = i % (TURNS_PER_SESSION + 2);
    unsigned long long base = 1000000000ull, t = base + (unsigned long long)(k - 1) * 6000000000ull;
    if (k == 0)
        return (size_t)snprintf(b, cap, "{\"type_id\":\"core::telemetry/event@1\",\"session_id\":\"bench-%d\","
            "\"event_type\":\"session.start\",\"correlation_id\":null,\"turn_id\":null,\"timestamp_us\":1000000,"
            "\"data\":{\"labels\":{\"transport\":\"sip\"},\"text_policy\":\"redact\"}}\n", sess);
    if (k == TURNS_PER_SESSION + 1)
        return (size_t)snprintf(b, cap, "{\"type_id\":\"core::telemetry/event@1\",\"session_id\":\"bench-%d\","
            "\"event_type\":\"session.end\",\"correlation_id\":null,\"turn_id\":null,\"timestamp_us\":%llu,"
            "\"data\":{\"schema_version\":1,\"session_id\":\"bench-%d\",\"interruptions\":0,\"audio_bytes_out\":800000,"
            "\"turns\":{\"completed\":10,\"interrupted\":0,\"discarded\":0}}}\n", sess, (t + 1000000000ull) / 1000, sess);
    unsigned long long us = t + 2116000000ull;
    return (size_t)snprintf(b, cap, TURN, sess, k, (t + 5000000000ull) / 1000, sess, k, t, t + 5000000000ull, us, t, us, t,
                            us + 98000000ull, us, us + 242000000ull, us + 242000000ull, us + 407000000ull,
                            us + 1142000000ull, us + 412000000ull, us + 518000000ull, us + 1412000000ull,
                            us + 536000000ull, t + 5000000000ull, us + 450000000ull, us + 550000000ull);
}

int main(int argc, char **argv) {
    if (argc != 6) {
        fprintf(stderr, "usage: bench_otlp <otlp_sink.so> <port> <protobuf|protobuf-gzip|json> <turns> <stats-file>\n");
        return 2;
    }
    void *so = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    vt_plugin_entry_fn entry = so ? (vt_plugin_entry_fn)(uintptr_t)dlsym(so, VT_PLUGIN_ENTRY_SYMBOL) : NULL;
    if (!entry) {
        fprintf(stderr, "%s\n", dlerror());
        return 1;
    }
    const vt_plugin_table *t = entry();
    vt_host_api host = {sizeof host, 1, 0, 0, h_log, h_now, h_drop, NULL, NULL};
    char config[1024], err[256];
    const char *mode = argv[3];
    snprintf(config, sizeof config,
             "{\"endpoint\":\"http://127.0.0.1:%s\",\"protocol\":\"%s\",\"compression\":\"%s\",\"metrics\":false,"
             "\"stats_path\":\"%s\",\"stats_interval_ms\":0}",
             argv[2], strcmp(mode, "json") == 0 ? "http/json" : "http/protobuf",
             strcmp(mode, "protobuf-gzip") == 0 ? "gzip" : "none", argv[5]);
    void *state = NULL;
    if (t->init(&host, NULL, config, &state, err, sizeof err) != 0) {
        fprintf(stderr, "init: %s\n", err);
        return 1;
    }
    int turns = atoi(argv[4]), sessions = turns / TURNS_PER_SESSION, events = sessions * (TURNS_PER_SESSION + 2);
    size_t cap = (size_t)events * 3200 + 4096, len = 0;
    char *lines = malloc(cap); /* every line rendered before the clock starts */
    size_t *starts = malloc(((size_t)events + 1) * sizeof *starts);
    if (!lines || !starts) return 1;
    for (int i = 0; i < events; i++) starts[i] = len, len += event_line(lines + len, cap - len, i);
    starts[events] = len;
    uint64_t seq = 0, t0 = now_ns();
    for (int i = 0; i < events; i += BATCH) {
        int n = events - i < BATCH ? events - i : BATCH;
        vt_sink_batch b = {sizeof b, (uint32_t)n, lines + starts[i], starts[i + n] - starts[i], ++seq, 0, 1, 0};
        while (t->write(state, &b) == VT_SINK_RETRY) {
            b.attempt++;
            usleep(1000);
        }
    }
    uint64_t t_written = now_ns();
    int rc = t->flush(state, now_ns() + 120000000000ull);
    uint64_t t1 = now_ns();
    t->shutdown(state, now_ns() + 5000000000ull);
    FILE *f = fopen(argv[5], "r");
    char stats[4096] = "";
    size_t got = f ? fread(stats, 1, sizeof stats - 1, f) : 0;
    if (f) fclose(f);
    stats[got] = 0;
    const char *sp = strstr(stats, "\"spans\":{");
    unsigned long long created = 0, exported = 0;
    if (!sp || sscanf(sp, "\"spans\":{\"created\":%llu,\"exported\":%llu", &created, &exported) != 2 || rc != 0 ||
        exported != created) {
        fprintf(stderr, "bench_otlp: not every span was exported (flush %d): %s\n", rc, stats);
        return 1;
    }
    double secs = (double)(t1 - t0) / 1e9;
    printf("%s %llu %.3f %.0f %.3f\n", mode, exported, secs, (double)exported / secs, (double)(t_written - t0) / 1e9);
    free(lines);
    free(starts);
    return 0;
}
